//! The other organization policy types of an import: each customer-managed resource
//! control, tag and AI services opt-out policy as `[TYPE.NAME]` with its document
//! under `policies/TYPE/NAME.json`, description, tags and targets. The policy types
//! they need are enabled on the root already, so the first plan adopts them too.
//!
//! Left out and named in comments: `RCPFullAWSAccess` (AWS keeps it on every target;
//! Landfall never declares it), any other AWS-managed policy, and a document
//! Landfall's grammar for its type refuses (AWS accepted it, so Landfall's check is
//! the one behind; declaring it would make the whole import fail to validate).

use std::collections::HashMap;

use landfall_core::model::{OrgPolicyType, Tags};
use landfall_policy::Severity;

use super::names::{Mapped, Names};
use super::organization::{Org, write_policy_body};
use super::text::{banner, key, pretty_policy, string};
use super::{Doc, ImportRequest};
use crate::org_policies::document::lint;

pub(super) struct OrgPolicyOut {
    pub id: String,
    pub policy_type: OrgPolicyType,
    pub name: String,
    pub original: Option<String>,
    pub description: String,
    pub tags: Tags,
    /// `policies/TYPE/NAME.json`.
    pub file: String,
    /// The document: pretty JSON, keys in canonical order.
    pub document: String,
    pub targets: Vec<String>,
    /// Targets it is attached to that are not declared.
    pub not_declared: Vec<String>,
}

/// The policies to write, by type then name; what is left out goes to `skipped`
/// (comments) and `warnings`.
pub(super) fn read(
    req: &ImportRequest<'_>,
    org: &Org,
    skipped: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Vec<OrgPolicyOut> {
    let live = req.live;
    let account_names: HashMap<String, String> = org
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let mut policies: Vec<_> = live.org_policies.values().collect();
    policies.sort_by(|a, b| (a.policy_type, &a.name, &a.id).cmp(&(b.policy_type, &b.name, &b.id)));
    let mut names: HashMap<OrgPolicyType, Names> = HashMap::new();
    let mut out = Vec::new();
    for p in policies {
        let t = p.policy_type;
        let attached_to = || -> Vec<String> {
            live.org_policy_attachments
                .iter()
                .filter(|(pid, _)| *pid == p.id)
                .map(|(_, target)| target.clone())
                .collect()
        };
        if p.aws_managed {
            if t.aws_managed_everywhere() != Some(p.name.as_str()) {
                let on = attached_to();
                skipped.push(format!(
                    "AWS-managed {} `{}` ({}), attached to {}: Landfall declares customer-managed policies only",
                    t.noun(),
                    p.name,
                    p.id,
                    if on.is_empty() { "nothing".to_string() } else { on.join(", ") }
                ));
                warnings.push(format!(
                    "AWS-managed {} `{}` is not imported",
                    t.noun(),
                    p.name
                ));
            }
            continue;
        }
        let errors: Vec<String> = lint(t, &p.name, &p.content)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message)
            .collect();
        if let Some(first) = errors.first() {
            skipped.push(format!(
                "{} `{}` ({}): Landfall's check of its document says {first}; not declared, so it stays as it is",
                t.noun(),
                p.name,
                p.id
            ));
            warnings.push(format!(
                "{} `{}` is not imported: its document does not pass Landfall's {} check ({first})",
                t.noun(),
                p.name,
                t.key()
            ));
            continue;
        }
        let namespace = names.entry(t).or_insert_with(|| {
            Names::reserving(&t.aws_managed_everywhere().into_iter().collect::<Vec<_>>())
        });
        let Mapped { name, original } = namespace.scp(&p.name, &p.id);
        if let Some(o) = &original {
            warnings.push(format!(
                "{} {} is named `{o}` in AWS, which Landfall cannot declare: written as {}.{name}; the first plan renames it",
                t.noun(),
                p.id,
                t.key()
            ));
        }
        let document = pretty_policy(&p.content).unwrap_or_else(|| p.content.clone());
        let attached = attached_to();
        let (targets, not_declared) = org.targets_of(
            attached.iter().map(String::as_str),
            live,
            &account_names,
            "not declared by an import",
        );
        if !not_declared.is_empty() {
            warnings.push(format!(
                "{} `{}` is also attached to {}, which this import does not declare",
                t.noun(),
                p.name,
                not_declared.join(", ")
            ));
        }
        out.push(OrgPolicyOut {
            id: p.id.clone(),
            policy_type: t,
            file: format!("policies/{}/{name}.json", t.key()),
            name,
            original,
            description: p.description.clone(),
            tags: p.tags.clone(),
            document,
            targets,
            not_declared,
        });
    }
    out
}

pub(super) fn write(doc: &mut Doc, policies: &[OrgPolicyOut]) {
    if policies.is_empty() {
        return;
    }
    doc.text.push_str(&banner(
        "Resource control, tag and AI services opt-out policies (documents in policies/TYPE/)",
    ));
    doc.blank();
    for p in policies {
        doc.line(format!(
            "[{}.{}]  # {}",
            p.policy_type.key(),
            key(&p.name),
            p.id
        ));
        if let Some(o) = &p.original {
            doc.comment(&format!("named {} in AWS", string(o)));
        }
        write_policy_body(
            doc,
            &p.description,
            &p.file,
            &p.tags,
            &p.targets,
            &p.not_declared,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use landfall_core::Address;
    use landfall_core::live::{
        AccountStatus, LiveAccount, LiveOrgPolicy, LiveOu, LiveState, WorldIdentity,
    };
    use landfall_core::model::{BackendKind, OrgPolicyType, Tags};
    use landfall_core::policy_type::RCP_FULL_AWS_ACCESS;

    use crate::import::{ImportRequest, ImportedZone, import};

    const TLS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#;

    fn policy(
        id: &str,
        t: OrgPolicyType,
        name: &str,
        content: &str,
        managed: bool,
    ) -> LiveOrgPolicy {
        LiveOrgPolicy {
            id: id.into(),
            policy_type: t,
            name: name.into(),
            description: String::new(),
            content: content.into(),
            tags: Tags::new(),
            aws_managed: managed,
        }
    }

    /// A root with OU `ML` (`ou-ml`) holding account `dev`, and the management account.
    fn organization() -> LiveState {
        let mut live = LiveState {
            root_id: "r-root".into(),
            management_account_id: "111111111111".into(),
            ..LiveState::default()
        };
        live.ous.insert(
            "ou-ml".into(),
            LiveOu {
                id: "ou-ml".into(),
                name: "ML".into(),
                parent_id: "r-root".into(),
                tags: Tags::new(),
            },
        );
        for (id, name, parent) in [
            ("111111111111", "management", "r-root"),
            ("222222222222", "dev", "ou-ml"),
        ] {
            live.accounts.insert(
                id.into(),
                LiveAccount {
                    id: id.into(),
                    name: name.into(),
                    email: format!("{name}@example.com"),
                    parent_id: parent.into(),
                    tags: Tags::new(),
                    status: AccountStatus::Active,
                },
            );
        }
        live
    }

    fn imported(live: &LiveState) -> ImportedZone {
        let world = WorldIdentity {
            backend: "sim".into(),
            id: "o-test".into(),
        };
        import(&ImportRequest {
            live,
            world: &world,
            name: "lz".into(),
            home_region: "us-east-1".into(),
            backend: BackendKind::Sim,
            split: false,
            sim_world: None,
            s3_state: None,
            control_tower: false,
            member_regions: Vec::new(),
            member_failures: Vec::new(),
            access_role: crate::DEFAULT_ACCESS_ROLE.into(),
        })
    }

    #[test]
    fn each_type_is_written_with_its_document_targets_and_id() {
        let mut live = organization();
        live.org_policies.insert(
            "p-rcp1".into(),
            policy("p-rcp1", OrgPolicyType::Rcp, "tls-only", TLS_ONLY, false),
        );
        live.org_policies.insert(
            "p-rcpfull".into(),
            policy(
                "p-rcpfull",
                OrgPolicyType::Rcp,
                RCP_FULL_AWS_ACCESS,
                "{}",
                true,
            ),
        );
        live.org_policies.insert(
            "p-tag1".into(),
            policy(
                "p-tag1",
                OrgPolicyType::Tag,
                "cost-tags",
                r#"{"tags":{"project":{"tag_key":{"@@assign":"project"}}}}"#,
                false,
            ),
        );
        for target in ["r-root", "ou-ml", "222222222222"] {
            live.org_policy_attachments
                .insert(("p-rcpfull".into(), target.into()));
        }
        live.org_policy_attachments
            .insert(("p-rcp1".into(), "222222222222".into()));
        live.org_policy_attachments
            .insert(("p-rcp1".into(), "ou-ml".into()));
        live.org_policy_attachments
            .insert(("p-tag1".into(), "r-root".into()));
        live.org_policy_attachments
            .insert(("p-tag1".into(), "111111111111".into()));
        let zone = imported(&live);
        let toml = &zone.files[Path::new("landfall.toml")];
        assert!(
            toml.contains(
                "[rcp.tls-only]  # p-rcp1\nfile = \"policies/rcp/tls-only.json\"\ntargets = [\"ou:ML\", \"account:dev\"]"
            ),
            "{toml}"
        );
        assert!(
            toml.contains("[tag_policy.cost-tags]  # p-tag1\nfile = \"policies/tag_policy/cost-tags.json\"\ntargets = [\"root\"]\n# also attached to the management account 111111111111"),
            "{toml}"
        );
        // AWS's own RCP is on every target and never declared.
        assert!(!toml.contains(RCP_FULL_AWS_ACCESS), "{toml}");
        assert!(
            zone.files
                .contains_key(Path::new("policies/rcp/tls-only.json"))
        );
        assert_eq!(zone.counts.org_policies, 2);
        assert_eq!(
            zone.ids[&Address::OrgPolicy(OrgPolicyType::Tag, "cost-tags".into())].0,
            "p-tag1"
        );
        // The files load: each document passes its type's grammar.
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in &zone.files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let loaded = crate::load(dir.path()).unwrap_or_else(|d| panic!("{}", d.render(false)));
        assert_eq!(loaded.desired.org_policies.len(), 2);
    }

    #[test]
    fn names_an_address_cannot_hold_are_mapped_per_type_and_refused_documents_left_out() {
        let mut live = organization();
        live.org_policies.insert(
            "p-a".into(),
            policy("p-a", OrgPolicyType::Rcp, "tls only", TLS_ONLY, false),
        );
        // One name in two types: each type is its own namespace.
        live.org_policies.insert(
            "p-b".into(),
            policy(
                "p-b",
                OrgPolicyType::AiOptOut,
                "tls-only",
                r#"{"services":{"default":{"opt_out_policy":{"@@assign":"optOut"}}}}"#,
                false,
            ),
        );
        // An RCP that allows: AWS would refuse it, so Landfall's grammar does too.
        live.org_policies.insert(
            "p-c".into(),
            policy(
                "p-c",
                OrgPolicyType::Rcp,
                "allows",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
                false,
            ),
        );
        let zone = imported(&live);
        let toml = &zone.files[Path::new("landfall.toml")];
        assert!(
            toml.contains("[rcp.tls-only]  # p-a\n# named \"tls only\" in AWS"),
            "{toml}"
        );
        assert!(
            toml.contains("[ai_opt_out_policy.tls-only]  # p-b"),
            "{toml}"
        );
        assert!(!toml.contains("[rcp.allows]"), "{toml}");
        assert!(
            toml.contains("resource control policy `allows` (p-c)"),
            "{toml}"
        );
        assert!(
            zone.warnings
                .iter()
                .any(|w| w.contains("`allows` is not imported")),
            "{:?}",
            zone.warnings
        );
        assert!(
            zone.warnings.iter().any(|w| w.contains("renames")),
            "{:?}",
            zone.warnings
        );
    }
}
