//! `[kms_key.NAME]`: a customer-managed KMS key in a member account and region, with
//! its policy (checked so that it cannot lock the account out of the key), alias,
//! rotation and deletion window.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use landfall_core::model::KmsKeySpec;

use crate::diagnostics::Diagnostic;
use crate::key_policy::{self, DEFAULT_KEY_POLICY};
use crate::network::MemberCodes;
use crate::policy_doc;
use crate::raw::RawKmsKey;
use crate::rules;
use crate::sources::Loc;
use crate::validate::{PolicySource, Settings};
use crate::validator::{Merged, Validator};

const MAX_KEY_DESCRIPTION: usize = 8192;
const DEFAULT_DELETION_WINDOW: u32 = 30;
const DELETION_WINDOW: std::ops::RangeInclusive<i64> = 7..=30;

impl Validator<'_> {
    pub(crate) fn kms_keys(
        &mut self,
        decls: &Merged<'_, RawKmsKey>,
        accounts: &BTreeSet<String>,
        settings: &Settings,
    ) -> BTreeMap<String, KmsKeySpec> {
        let mut out = BTreeMap::new();
        let codes = MemberCodes {
            unknown_account: "LF701",
            region_not_governed: "LF702",
        };
        // (account, region, alias) -> where it was first given.
        let mut aliases: HashMap<(String, String, String), Loc> = HashMap::new();
        for decl in &decls.first {
            let name = &decl.name;
            if let Some(problem) = rules::resource_name_problem(name) {
                self.push(
                    Diagnostic::error("LF700", format!("invalid KMS key name `{name}`"))
                        .at(&decl.key, problem)
                        .help("KMS key names are lowercase letters, digits and `-`, e.g. [kms_key.ml-fraud-dev]"),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let what = format!("KMS key `{name}`");
            let account = raw.account.get_ref();
            let region = raw.region.get_ref();
            self.member_account(src, &raw.account, accounts, &what, &codes);
            self.member_region(src, &raw.region, settings, &what, &codes);

            let description = raw
                .description
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_default();
            let length = description.chars().count();
            if let Some(d) = &raw.description
                && length > MAX_KEY_DESCRIPTION
            {
                let loc = self.loc(src, d);
                self.push(
                    Diagnostic::error(
                        "LF711",
                        format!("the description of {what} is {length} characters long"),
                    )
                    .at(&loc, format!("at most {MAX_KEY_DESCRIPTION} characters"))
                    .help("shorten it"),
                );
            }

            let policy = self.key_policy(decl.key.source, raw, &what, settings);

            let deletion_window_days = match &raw.deletion_window_days {
                Some(days) if !DELETION_WINDOW.contains(days.get_ref()) => {
                    let loc = self.loc(src, days);
                    self.push(
                        Diagnostic::error(
                            "LF707",
                            format!(
                                "the deletion window of {what} is {} days; AWS allows 7 to 30",
                                days.get_ref()
                            ),
                        )
                        .at(&loc, "must be 7 to 30 days")
                        .help(
                            "a deleted key waits this many days before it is gone for good; \
                             30 (the default) leaves the most time to cancel a mistake",
                        ),
                    );
                    DEFAULT_DELETION_WINDOW
                }
                Some(days) => u32::try_from(*days.get_ref()).unwrap_or(DEFAULT_DELETION_WINDOW),
                None => DEFAULT_DELETION_WINDOW,
            };

            let alias = raw.alias.as_ref().map(|a| a.get_ref().clone());
            if let Some(a) = &raw.alias {
                let loc = self.loc(src, a);
                let text = a.get_ref();
                if let Some(problem) = rules::kms_alias_problem(text) {
                    self.push(
                        Diagnostic::error("LF708", format!("invalid alias `{text}` for {what}"))
                            .at(&loc, problem)
                            .help(format!(
                                "e.g. `alias = \"alias/{name}\"`: `alias/` and letters, digits, \
                                 `/`, `_` or `-`, at most 256 characters in all"
                            )),
                    );
                } else {
                    let key = (account.clone(), region.clone(), text.clone());
                    match aliases.get(&key) {
                        Some(first) => self.push(
                            Diagnostic::error(
                                "LF709",
                                format!(
                                    "alias `{text}` is given to two keys in account `{account}`, \
                                     region `{region}`"
                                ),
                            )
                            .at(&loc, "given again here")
                            .at(first, "first given here")
                            .help("an alias names one key per account and region: rename one"),
                        ),
                        None => {
                            aliases.insert(key, loc);
                        }
                    }
                }
            }

            let tags = self.tags(src, raw.tags.as_ref(), &format!("kms_key.{name}"));
            out.insert(
                name.clone(),
                KmsKeySpec {
                    name: name.clone(),
                    account: account.clone(),
                    region: region.clone(),
                    description,
                    policy: policy.unwrap_or_default(),
                    rotation: raw.rotation.unwrap_or(true),
                    alias,
                    tags,
                    deletion_window_days,
                    origin: self.origin(&decl.key),
                    project: None,
                },
            );
        }
        out
    }

    /// The key policy, minified: the declared one when it is valid and cannot lock the
    /// account out (unless the check is bypassed), or the default.
    fn key_policy(
        &mut self,
        src: crate::sources::SourceId,
        raw: &RawKmsKey,
        what: &str,
        settings: &Settings,
    ) -> Option<String> {
        let source = self.policy_choice(
            src,
            &raw.policy,
            &raw.policy_file,
            ("policy", "policy_file"),
            what,
            "LF705",
        );
        let source = match source {
            Some(s) => s,
            None if raw.policy.is_some() || raw.policy_file.is_some() => return None,
            None => return Some(DEFAULT_KEY_POLICY.to_string()),
        };
        let rules = policy_doc::Rules {
            invalid: "LF703",
            too_large: "LF704",
            max: settings.quotas.key_policy_max_bytes,
            bytes: true,
            quota: "key_policy_max_bytes",
            file_missing: "LF706",
        };
        let region = raw.region.get_ref();
        let checked = self.resource_policy(src, source, what, "key policy", &rules, region)?;
        let role = &settings.access_role;
        if !raw.bypass_lockout_check.unwrap_or(false)
            && !key_policy::manageable(&checked.minified, role)
        {
            let mut d = Diagnostic::error(
                "LF710",
                format!(
                    "this key policy would lock the account out of the key: no statement \
                     lets the account root or Landfall's access role ({role}) manage it"
                ),
            )
            .at(
                &checked.statement_at,
                format!("none of these statements lets the account manage {what}"),
            );
            if let PolicySource::File(file) = source {
                let loc = self.loc(src, file);
                d = d.at(&loc, format!("the policy of {what}"));
            }
            self.push(d.help(format!(
                "add the default statement {{\"Sid\": \"EnableRootAccountAccess\", \"Effect\": \
                 \"Allow\", \"Principal\": {{\"AWS\": \"arn:aws:iam::${{account_id}}:root\"}}, \
                 \"Action\": \"kms:*\", \"Resource\": \"*\"}} (or one allowing \
                 kms:PutKeyPolicy to role/{role}), or set bypass_lockout_check = true if \
                 another principal administers the key"
            )));
            return None;
        }
        Some(checked.minified)
    }
}
