//! The organization's attributes: those declared for each kind, those read live
//! (`apply --refresh-only`), and whether a recorded id still exists live.

use serde_json::{Value, json};

use crate::address::{Address, Target};
use crate::attrs::{Attrs, tags_value};
use crate::kind::OrganizationKind;
use crate::live::{LiveIndex, LiveState};
use crate::model::{DesiredState, OrgPolicyAttachment, Tags, canonical_json};
use crate::state::{ResourceRecord, StateFile};

pub fn ou_attrs(name: &str, tags: &Tags) -> Attrs {
    Attrs::from([
        ("name".into(), json!(name)),
        ("tags".into(), tags_value(tags)),
    ])
}

pub fn account_attrs(name: &str, email: &str, parent: &Target, tags: &Tags) -> Attrs {
    Attrs::from([
        ("name".into(), json!(name)),
        ("email".into(), json!(email)),
        ("ou".into(), json!(parent.to_string())),
        ("tags".into(), tags_value(tags)),
    ])
}

/// An SCP's attributes. Its name is recorded so a rename (in AWS, or by a `[[moved]]`
/// block in the file) shows as a change of it. Its content is kept canonical (keys sorted, minified), so a
/// document reformatted or with its keys reordered compares equal; only a change of
/// meaning plans an update.
pub fn scp_attrs(name: &str, description: &str, content: &str, tags: &Tags) -> Attrs {
    let content = canonical_json(content);
    Attrs::from([
        ("name".into(), json!(name)),
        ("description".into(), json!(description)),
        ("content".into(), json!(content)),
        ("tags".into(), tags_value(tags)),
    ])
}

/// The declared attributes of an organization resource, `None` when it is not declared.
pub fn declared_attrs(desired: &DesiredState, address: &Address) -> Option<Attrs> {
    match address.organization_kind()? {
        OrganizationKind::Root => Some(Attrs::new()),
        OrganizationKind::Ou(path) => desired
            .ous
            .get(path)
            .map(|spec| ou_attrs(path.name(), &spec.tags)),
        OrganizationKind::Account(name) => desired.accounts.get(name).map(|spec| {
            let mut a = account_attrs(
                spec.name_in_aws(),
                &spec.email,
                &desired.account_parent(spec),
                &spec.tags,
            );
            a.insert("allow_close".into(), json!(spec.allow_close));
            a
        }),
        OrganizationKind::Scp(name) => desired.policies.get(name).map(|spec| {
            scp_attrs(
                spec.name_in_aws(),
                &spec.description,
                &spec.content,
                &spec.tags,
            )
        }),
        OrganizationKind::Attachment(att) => desired.attachments.contains(att).then(|| {
            Attrs::from([
                ("policy".into(), json!(att.policy)),
                ("target".into(), json!(att.target.to_string())),
            ])
        }),
        OrganizationKind::OrgPolicy(t, name) => desired
            .org_policy(t, name)
            .map(|spec| scp_attrs(&spec.name, &spec.description, &spec.content, &spec.tags)),
        OrganizationKind::OrgPolicyAttachment(t, att) => {
            let declared = OrgPolicyAttachment {
                policy_type: t,
                attachment: att.clone(),
            };
            desired.org_policy_attachments.contains(&declared).then(|| {
                Attrs::from([
                    ("policy".into(), json!(att.policy)),
                    ("target".into(), json!(att.target.to_string())),
                ])
            })
        }
        OrganizationKind::PolicyType(t) => desired
            .policy_types_used()
            .contains(&t)
            .then(|| Attrs::from([("policy_type".into(), json!(t.policy_type().aws_name()))])),
    }
}

/// Whether the organization resource recorded under `id` still exists live.
pub fn exists_live(live: &LiveState, address: &Address, id: &str) -> bool {
    let Some(kind) = address.organization_kind() else {
        return false;
    };
    match kind {
        OrganizationKind::Root => id == live.root_id,
        OrganizationKind::Ou(_) => live.ous.contains_key(id),
        OrganizationKind::Account(_) => live.accounts.contains_key(id),
        OrganizationKind::Scp(_) => live.policies.contains_key(id),
        OrganizationKind::Attachment(_) => id
            .split_once('|')
            .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into()))),
        OrganizationKind::OrgPolicy(..) => live.org_policies.contains_key(id),
        OrganizationKind::OrgPolicyAttachment(..) => id
            .split_once('|')
            .is_some_and(|(p, t)| live.org_policy_attachments.contains(&(p.into(), t.into()))),
        OrganizationKind::PolicyType(t) => live.enabled_policy_types.contains(&t.policy_type()),
    }
}

/// The live attributes of a recorded organization resource for `apply --refresh-only`:
/// `None` when there is nothing to accept (the root), `Some(None)` when it is gone.
pub fn accepted_live(
    live: &LiveState,
    index: &LiveIndex<'_>,
    address: &Address,
    rec: &ResourceRecord,
    state: &StateFile,
) -> Option<Option<Attrs>> {
    Some(match address.organization_kind()? {
        OrganizationKind::Root => return None,
        OrganizationKind::Ou(_) => live.ous.get(&rec.id).map(|ou| ou_attrs(&ou.name, &ou.tags)),
        OrganizationKind::Account(_) => live.accounts.get(&rec.id).map(|a| {
            let mut attrs = rec.attributes.clone();
            attrs.insert(
                "ou".into(),
                Value::from(recorded_parent(state, index, &a.parent_id)),
            );
            attrs.insert("name".into(), serde_json::json!(a.name));
            attrs.insert("tags".into(), serde_json::json!(a.tags));
            attrs
        }),
        OrganizationKind::Scp(_) => live
            .policies
            .get(&rec.id)
            .map(|p| scp_attrs(&p.name, &p.description, &p.content, &p.tags)),
        OrganizationKind::Attachment(_) => {
            let attached = rec
                .id
                .split_once('|')
                .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into())));
            attached.then(|| rec.attributes.clone())
        }
        OrganizationKind::OrgPolicy(..) => live
            .org_policies
            .get(&rec.id)
            .map(|p| scp_attrs(&p.name, &p.description, &p.content, &p.tags)),
        OrganizationKind::OrgPolicyAttachment(..) | OrganizationKind::PolicyType(_) => {
            exists_live(live, address, &rec.id).then(|| rec.attributes.clone())
        }
    })
}

/// An account's live parent as the state names it: an OU the state records keeps the
/// address it is recorded under even when it was renamed live, so accepting a rename
/// does not also turn the OU's accounts into moved ones. An OU the state does not know
/// is named by its live path (or its id).
fn recorded_parent(state: &StateFile, index: &LiveIndex<'_>, parent_id: &str) -> String {
    let recorded = state.resources.iter().find(|(address, rec)| {
        rec.id == parent_id && matches!(address.organization_kind(), Some(OrganizationKind::Ou(_)))
    });
    if let Some((address, _)) = recorded {
        return address.to_string();
    }
    index
        .parent_target(parent_id)
        .map(|t| t.to_string())
        .unwrap_or_else(|| parent_id.to_string())
}
