//! `[rcp.NAME]`, `[tag_policy.NAME]`, `[ai_opt_out_policy.NAME]`: the organization
//! policy types Landfall manages besides SCPs, each a resource kind with its own
//! grammar and quotas. One idea per submodule: `document` (content, file or preset;
//! the type's grammar and size), `presets` (the shipped documents), `quotas` (the
//! Organizations quotas per type). This module checks names, descriptions and
//! targets, and the policies of a type attached to one target.

pub(crate) mod document;
pub(crate) mod presets;
pub(crate) mod quotas;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use landfall_core::Target;
use landfall_core::address::Attachment;
use landfall_core::model::{OrgPolicyAttachment, OrgPolicySpec, OrgPolicyType};

use crate::diagnostics::Diagnostic;
use crate::parse::{Decl, ParsedFile};
use crate::raw::RawOrgPolicy;
use crate::rules;
use crate::sources::Loc;
use crate::validator::Validator;

/// Organizations' limit on a policy description (`CreatePolicy` `Description`).
const MAX_DESCRIPTION: usize = 512;

/// The declarations of one type, across files: the one place a type picks its
/// section.
fn decls_of(file: &ParsedFile, policy_type: OrgPolicyType) -> &Vec<Decl<RawOrgPolicy>> {
    match policy_type {
        OrgPolicyType::Rcp => &file.rcps,
        OrgPolicyType::Tag => &file.tag_policies,
        OrgPolicyType::AiOptOut => &file.ai_opt_out_policies,
    }
}

/// The organization policies of the desired state.
#[derive(Default)]
pub(crate) struct OrgPolicies {
    /// Sorted by (type, name).
    pub policies: Vec<OrgPolicySpec>,
    pub attachments: BTreeSet<OrgPolicyAttachment>,
}

impl Validator<'_> {
    pub(crate) fn org_policies(
        &mut self,
        files: &[ParsedFile],
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> OrgPolicies {
        let mut out = OrgPolicies::default();
        for policy_type in OrgPolicyType::ALL {
            let key = policy_type.key();
            let decls = self.merge(files, |f| decls_of(f, policy_type), policy_type.noun(), key);
            let mut on_target: BTreeMap<Target, Vec<(String, Loc)>> = BTreeMap::new();
            for decl in &decls.first {
                if let Some(spec) =
                    self.org_policy(policy_type, decl, ous, accounts, &mut on_target)
                {
                    out.policies.push(spec);
                }
            }
            self.attachment_quota(policy_type, &on_target);
            self.organization_quota(policy_type, &decls.first);
            for (target, names) in on_target {
                for (policy, _) in names {
                    out.attachments.insert(OrgPolicyAttachment {
                        policy_type,
                        attachment: Attachment {
                            policy,
                            target: target.clone(),
                        },
                    });
                }
            }
        }
        out.policies
            .sort_by(|a, b| (a.policy_type, &a.name).cmp(&(b.policy_type, &b.name)));
        // Attachments of a policy whose document failed stay out with it.
        let declared: BTreeSet<(OrgPolicyType, &str)> = out
            .policies
            .iter()
            .map(|p| (p.policy_type, p.name.as_str()))
            .collect();
        out.attachments
            .retain(|a| declared.contains(&(a.policy_type, a.attachment.policy.as_str())));
        out
    }

    /// More policies of a type than an organization can hold: AWS would refuse the
    /// `CreatePolicy` past the quota, halfway through an apply.
    fn organization_quota(&mut self, policy_type: OrgPolicyType, decls: &[&Decl<RawOrgPolicy>]) {
        let max = quotas::max_in_organization(policy_type);
        if let Some(first_over) = decls.get(max) {
            self.push(
                Diagnostic::error(
                    "LF969",
                    format!(
                        "{} {}policies are declared; an organization holds at most {max}",
                        decls.len(),
                        policy_type.noun().trim_end_matches("policy")
                    ),
                )
                .at(&first_over.key, format!("policy number {}", max + 1))
                .help("AWS Organizations User Guide, \"Quotas\": number of policies of each type in an organization; merge policies (each may be up to its size quota)"),
            );
        }
    }

    fn org_policy(
        &mut self,
        policy_type: OrgPolicyType,
        decl: &Decl<RawOrgPolicy>,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
        on_target: &mut BTreeMap<Target, Vec<(String, Loc)>>,
    ) -> Option<OrgPolicySpec> {
        let name = &decl.name;
        let noun = policy_type.noun();
        let mut ok = true;
        if let Some(problem) = rules::scp_name_problem(name) {
            ok = false;
            self.push(
                Diagnostic::error("LF920", format!("invalid {noun} name `{name}`"))
                    .at(&decl.key, problem.replace("an SCP name", "a policy name"))
                    .help(format!("e.g. [{}.ml-data-perimeter]", policy_type.key())),
            );
        } else if Some(name.as_str()) == policy_type.aws_managed_everywhere() {
            ok = false;
            self.push(
                Diagnostic::error("LF920", format!("`{name}` is the AWS-managed {noun}"))
                    .at(&decl.key, "reserved")
                    .help("AWS attaches it everywhere once the type is enabled; Landfall never declares it"),
            );
        }
        let raw = decl.body.as_ref()?;
        let src = decl.key.source;
        let description = raw
            .description
            .as_ref()
            .map(|d| d.get_ref().clone())
            .unwrap_or_default();
        if let Some(d) = &raw.description
            && d.get_ref().chars().count() > MAX_DESCRIPTION
        {
            ok = false;
            let loc = self.loc(src, d);
            self.push(
                Diagnostic::error(
                    "LF921",
                    format!(
                        "the description of {noun} `{name}` is {} characters long",
                        d.get_ref().chars().count()
                    ),
                )
                .at(&loc, format!("at most {MAX_DESCRIPTION} characters"))
                .help("shorten it; details belong in comments"),
            );
        }
        let content = self.org_policy_document(policy_type, decl, raw);
        let address = format!("{}.{name}", policy_type.key());
        let tags = self.tags(src, raw.tags.as_ref(), &address);
        self.org_policy_targets(policy_type, decl, raw, ous, accounts, on_target);
        let content = content?;
        ok.then(|| OrgPolicySpec {
            policy_type,
            name: name.clone(),
            description,
            content,
            tags,
            origin: self.origin(&decl.key),
        })
    }

    /// Parses and resolves `targets`, adding each valid one to `on_target`.
    fn org_policy_targets(
        &mut self,
        policy_type: OrgPolicyType,
        decl: &Decl<RawOrgPolicy>,
        raw: &RawOrgPolicy,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
        on_target: &mut BTreeMap<Target, Vec<(String, Loc)>>,
    ) {
        let src = decl.key.source;
        let name = &decl.name;
        let noun = policy_type.noun();
        let list = raw.targets.as_deref().unwrap_or_default();
        if list.is_empty() && !decl.dropped("targets") {
            self.push(
                Diagnostic::warning("LF965", format!("{noun} `{name}` is declared but attached nowhere"))
                    .at(&decl.key, "no `targets`")
                    .help("add `targets = [\"root\"]` (or `\"ou:PATH\"`, `\"account:NAME\"`), or remove the policy"),
            );
        }
        let mut seen: HashMap<Target, Loc> = HashMap::new();
        for item in list {
            let loc = self.loc(src, item);
            let target = match Target::parse(item.get_ref()) {
                Ok(t) => t,
                Err(e) => {
                    let label = if e.contains("is not a target") {
                        "not a target".to_string()
                    } else {
                        e
                    };
                    self.push(
                        Diagnostic::error("LF928", format!("`{}` is not a target", item.get_ref()))
                            .at(&loc, label)
                            .help("a target is `root`, `ou:PATH` (e.g. `ou:Workloads/Workloads_Dev`) or `account:NAME`"),
                    );
                    continue;
                }
            };
            let resolved = self.target_declared(
                "LF929",
                &format!("{noun} `{name}` targets"),
                &target,
                &loc,
                ous,
                accounts,
            );
            if let Some(first) = seen.get(&target) {
                self.push(
                    Diagnostic::warning(
                        "LF966",
                        format!("{noun} `{name}` lists target `{}` twice", item.get_ref()),
                    )
                    .at(&loc, "listed again here")
                    .at(first, "first listed here")
                    .help("remove one of them"),
                );
                continue;
            }
            seen.insert(target.clone(), loc.clone());
            if resolved {
                on_target
                    .entry(target)
                    .or_default()
                    .push((name.clone(), loc));
            }
        }
    }

    /// More policies of the type on one target than Organizations allows: an error
    /// at the first one past the quota.
    fn attachment_quota(
        &mut self,
        policy_type: OrgPolicyType,
        on_target: &BTreeMap<Target, Vec<(String, Loc)>>,
    ) {
        let max = quotas::max_declared(policy_type);
        let noun = policy_type.noun();
        for (target, names) in on_target {
            if names.len() <= max {
                continue;
            }
            let listed: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
            let managed = policy_type.aws_managed_everywhere();
            let total = names.len() + usize::from(managed.is_some());
            let counted = match managed {
                Some(m) => format!(" ({} declared and {m})", names.len()),
                None => String::new(),
            };
            let mut d = Diagnostic::error(
                "LF930",
                format!(
                    "{total} {} are attached to {target}{counted}; Organizations allows {}",
                    plural(noun),
                    quotas::max_attached(policy_type)
                ),
            )
            .at(&names[max].1, format!("policy {} on this target", max + 1));
            for (_, loc) in names.iter().take(max) {
                d = d.at(loc, "attached here");
            }
            let managed = match managed {
                Some(m) => format!(
                    " ({m}, which AWS attaches to every target and which cannot be detached, takes one place)"
                ),
                None => String::new(),
            };
            self.push(d.help(format!(
                "at most {max} declared {} per root, OU or account{managed}: merge some of {} into one document, or attach them higher up",
                plural(noun),
                listed.join(", ")
            )));
        }
    }
}

/// "resource control policy" → "resource control policies".
fn plural(noun: &str) -> String {
    match noun.strip_suffix("policy") {
        Some(stem) => format!("{stem}policies"),
        None => format!("{noun}s"),
    }
}
