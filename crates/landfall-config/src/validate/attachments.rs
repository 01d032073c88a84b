//! SCP attachments per target: the implicit `FullAWSAccess` on the root, OUs and
//! accounts (unless `full_aws_access = false`), then between 1 and
//! `scps_per_target` SCPs on every target.

use std::collections::{BTreeSet, HashMap};

use landfall_core::FULL_AWS_ACCESS;
use landfall_core::{Attachment, Target};

use crate::diagnostics::Diagnostic;
use crate::sources::Loc;
use crate::validator::Validator;

use super::Settings;
use super::accounts::CheckedAccount;
use super::ous::CheckedOu;

/// Where the landing zone turns `full_aws_access` off, if it does.
pub(super) struct LzAccess {
    pub(super) key: Loc,
    pub(super) setting: Option<Loc>,
}

/// One root, OU or account whose SCP count is checked.
struct TargetCheck {
    target: Target,
    /// Whether `FullAWSAccess` is attached implicitly.
    on: bool,
    /// Its own `full_aws_access` setting, when written.
    setting: Option<Loc>,
    declared_at: Loc,
}

impl Validator<'_> {
    /// Adds the implicit `FullAWSAccess` attachments, then checks every target has
    /// between 1 and `scps_per_target` SCPs.
    pub(super) fn implicit_attachments(
        &mut self,
        ous: &[CheckedOu],
        accounts: &[CheckedAccount],
        landing_zone: Option<LzAccess>,
        settings: &Settings,
        attachments: &mut BTreeSet<Attachment>,
    ) {
        let mut targets: Vec<TargetCheck> = Vec::new();
        if let Some(lz) = &landing_zone {
            targets.push(TargetCheck {
                target: Target::Root,
                on: settings.full_aws_access,
                setting: lz.setting.clone(),
                declared_at: lz.setting.clone().unwrap_or_else(|| lz.key.clone()),
            });
        }
        let members = ous
            .iter()
            .map(|o| (Target::Ou(o.spec.path.clone()), &o.full_aws_access, &o.key))
            .chain(accounts.iter().map(|a| {
                (
                    Target::Account(a.spec.name.clone()),
                    &a.full_aws_access,
                    &a.key,
                )
            }));
        for (target, own, key) in members {
            targets.push(TargetCheck {
                target,
                on: own.as_ref().map_or(settings.full_aws_access, |(on, _)| *on),
                setting: own.as_ref().map(|(_, loc)| loc.clone()),
                declared_at: key.clone(),
            });
        }
        let max = settings.quotas.scps_per_target;
        let mut explicit: HashMap<Target, Vec<String>> = HashMap::new();
        for a in attachments.iter() {
            explicit
                .entry(a.target.clone())
                .or_default()
                .push(a.policy.clone());
        }
        for t in targets {
            let mut attached: Vec<&str> = Vec::new();
            if t.on {
                attachments.insert(Attachment {
                    policy: FULL_AWS_ACCESS.to_string(),
                    target: t.target.clone(),
                });
                attached.push(FULL_AWS_ACCESS);
            }
            if let Some(list) = explicit.get(&t.target) {
                attached.extend(list.iter().map(String::as_str));
            }
            let what = match &t.target {
                Target::Root => "the root".to_string(),
                other => format!("`{other}`"),
            };
            if attached.is_empty() {
                let mut d =
                    Diagnostic::error("LF413", format!("{what} would have no SCP attached"));
                // Point at the `full_aws_access = false` that applies: the target's own,
                // or (for the root, or a target that inherits it) the landing zone's
                // when the target has no declaration line of its own to blame.
                d = match (&t.target, &t.setting) {
                    (Target::Root, _) | (_, Some(_)) => d.at(
                        t.setting.as_ref().unwrap_or(&t.declared_at),
                        format!("`full_aws_access` is off and no SCP targets {what}"),
                    ),
                    (_, None) => d.at(
                        &t.declared_at,
                        "no SCP targets this, and the landing zone's `full_aws_access` is off",
                    ),
                };
                self.push(d.help(format!(
                    "AWS requires at least one SCP on every root, OU and account: attach one \
                     (`targets = [\"{}\"]`) or keep `full_aws_access = true`",
                    target_syntax(&t.target)
                )));
            } else if attached.len() > max {
                let list: Vec<String> = attached
                    .iter()
                    .map(|p| {
                        if *p == FULL_AWS_ACCESS {
                            format!("{p} (implicit)")
                        } else {
                            (*p).to_string()
                        }
                    })
                    .collect();
                self.push(
                    Diagnostic::error(
                        "LF412",
                        format!(
                            "{what} would have {} SCPs attached; the limit is {max}",
                            attached.len()
                        ),
                    )
                    .at(
                        &t.declared_at,
                        format!("{} SCPs attached here", attached.len()),
                    )
                    .help(format!(
                        "attached: {}.\nMerge policies, or attach some to a parent OU instead \
                         (SCPs are inherited); `scps_per_target` counts FullAWSAccess",
                        list.join(", ")
                    )),
                );
            }
        }
    }
}

/// A target as written in `targets`.
fn target_syntax(target: &Target) -> String {
    match target {
        Target::Root => "root".to_string(),
        Target::Ou(p) => format!("ou:{p}"),
        Target::Account(a) => format!("account:{a}"),
    }
}
