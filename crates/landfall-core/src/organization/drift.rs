//! Drift of the organization: recorded resources changed, moved or gone, and what was
//! created or attached outside Landfall inside the managed scope.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::address::{Address, Attachment, OuPath, Target};
use crate::attrs::{AttrDiff, Attrs, diff_attrs};
use crate::drift_report::{DriftClass, Finding};
use crate::kind::OrganizationKind;
use crate::live::{AccountStatus, LiveIndex, LiveState};
use crate::policy_type::OrgPolicyType;
use crate::state::StateFile;

use super::attrs::{ou_attrs, scp_attrs};

/// Drift of the organization: recorded resources changed, moved or gone, and what was
/// created or attached outside Landfall inside the managed scope.
pub fn drift_findings(live: &LiveState, state: &StateFile) -> Vec<Finding> {
    let index = LiveIndex::new(live);
    let mut findings = Vec::new();
    let mut push =
        |class, address: &Address, id: Option<&str>, ct: Option<String>, message: String, diffs| {
            findings.push(Finding::new(class, address, id, ct, message, diffs));
        };

    // What the last apply recorded, checked against live.
    for (address, rec) in &state.resources {
        let id = rec.id.as_str();
        let compare = |live_attrs: Attrs| {
            diff_attrs(&rec.attributes, &live_attrs, &[])
                .into_iter()
                .filter(|d| d.attribute != "allow_close")
                .collect::<Vec<_>>()
        };
        let Some(kind) = address.organization_kind() else {
            continue;
        };
        match kind {
            OrganizationKind::Root => {}
            OrganizationKind::Ou(_) => match live.ous.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("OU_DELETED".into()),
                    "deleted outside Landfall".into(),
                    vec![],
                ),
                Some(ou) => {
                    let diffs = compare(ou_attrs(&ou.name, &ou.tags));
                    if !diffs.is_empty() {
                        let ct = diffs
                            .iter()
                            .any(|d| d.attribute == "name")
                            .then(|| "OU_RENAMED".to_string());
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            ct,
                            "changed outside Landfall".into(),
                            diffs,
                        );
                    }
                }
            },
            OrganizationKind::Account(_) => match live.accounts.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("ACCOUNT_REMOVED_FROM_ORGANIZATION".into()),
                    "no longer in the organization".into(),
                    vec![],
                ),
                Some(acct) => {
                    let parent = index
                        .parent_target(&acct.parent_id)
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| acct.parent_id.clone());
                    let recorded_parent = rec
                        .attributes
                        .get("ou")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    // Compare by id: a renamed OU changes the path, not the parent.
                    let recorded_parent_id = match recorded_parent.parse::<Address>() {
                        Ok(Address::Root) => Some(live.root_id.as_str()),
                        Ok(a) => state.id_of(&a),
                        Err(_) => None,
                    };
                    if recorded_parent_id != Some(acct.parent_id.as_str()) {
                        push(
                            DriftClass::Moved,
                            address,
                            Some(id),
                            Some("ACCOUNT_MOVED_BETWEEN_OUS".into()),
                            format!("moved from {recorded_parent} to {parent} outside Landfall"),
                            vec![AttrDiff {
                                attribute: "ou".into(),
                                before: Some(Value::from(recorded_parent)),
                                after: Some(Value::from(parent)),
                            }],
                        );
                    }
                    let mut live_attrs = rec.attributes.clone();
                    live_attrs.insert("name".into(), serde_json::json!(acct.name));
                    live_attrs.insert("tags".into(), serde_json::json!(acct.tags));
                    let diffs: Vec<_> = compare(live_attrs)
                        .into_iter()
                        .filter(|d| d.attribute != "ou")
                        .collect();
                    if !diffs.is_empty() {
                        let renamed = diffs.iter().any(|d| d.attribute == "name");
                        let retagged = diffs.iter().any(|d| d.attribute != "name");
                        let what = match (renamed, retagged) {
                            (true, true) => "renamed and its tags changed",
                            (true, false) => "renamed",
                            (false, _) => "tags changed",
                        };
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            None,
                            format!("{what} outside Landfall"),
                            diffs,
                        );
                    }
                    if acct.status != AccountStatus::Active {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            None,
                            format!("the account is {} (closed outside Landfall)", acct.status),
                            vec![],
                        );
                    }
                }
            },
            OrganizationKind::Scp(_) => match live.policies.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("SCP_DELETED".into()),
                    "deleted outside Landfall".into(),
                    vec![],
                ),
                Some(p) => {
                    let diffs = compare(scp_attrs(&p.name, &p.description, &p.content, &p.tags));
                    if !diffs.is_empty() {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            Some("SCP_UPDATED".into()),
                            "changed outside Landfall".into(),
                            diffs,
                        );
                    }
                }
            },
            OrganizationKind::OrgPolicy(t, _) => match live.org_policies.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some(format!("{}_DELETED", t.policy_type().aws_name())),
                    "deleted outside Landfall".into(),
                    vec![],
                ),
                Some(p) => {
                    let diffs = compare(scp_attrs(&p.name, &p.description, &p.content, &p.tags));
                    if !diffs.is_empty() {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            Some(format!("{}_UPDATED", t.policy_type().aws_name())),
                            "changed outside Landfall".into(),
                            diffs,
                        );
                    }
                }
            },
            OrganizationKind::OrgPolicyAttachment(t, att) => {
                let attached = id.split_once('|').is_some_and(|(p, tg)| {
                    live.org_policy_attachments.contains(&(p.into(), tg.into()))
                });
                if !attached {
                    push(
                        DriftClass::Missing,
                        address,
                        Some(id),
                        Some(format!(
                            "{}_DETACHED_FROM_{}",
                            t.policy_type().aws_name(),
                            target_kind(&att.target)
                        )),
                        format!(
                            "{} {} was detached from {} outside Landfall",
                            t.noun(),
                            att.policy,
                            att.target
                        ),
                        vec![],
                    );
                }
            }
            OrganizationKind::PolicyType(t) => {
                if !live.enabled_policy_types.contains(&t.policy_type()) {
                    push(
                        DriftClass::Missing,
                        address,
                        Some(id),
                        Some("POLICY_TYPE_DISABLED".into()),
                        format!(
                            "the {} type was disabled on the root outside Landfall (AWS detached every {} with it)",
                            t.policy_type().aws_name(),
                            t.noun()
                        ),
                        vec![],
                    );
                }
            }
            OrganizationKind::Attachment(att) => {
                let attached = id
                    .split_once('|')
                    .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into())));
                if !attached {
                    push(
                        DriftClass::Missing,
                        address,
                        Some(id),
                        Some(format!("SCP_DETACHED_FROM_{}", target_kind(&att.target))),
                        format!(
                            "{} was detached from {} outside Landfall",
                            att.policy, att.target
                        ),
                        vec![],
                    );
                }
            }
        }
    }

    // Unmanaged: live resources inside the managed scope that the state does not know.
    let known_ids: BTreeSet<&str> = state.resources.values().map(|r| r.id.as_str()).collect();
    if state.resources.contains_key(&Address::Root) {
        let mut scope: BTreeMap<&str, Target> = BTreeMap::new();
        scope.insert(live.root_id.as_str(), Target::Root);
        for (address, rec) in &state.resources {
            match address.organization_kind() {
                Some(OrganizationKind::Ou(p)) => {
                    if live.ous.contains_key(&rec.id) {
                        scope.insert(rec.id.as_str(), Target::Ou(p.clone()));
                    }
                }
                Some(OrganizationKind::Account(a)) => {
                    if live.accounts.contains_key(&rec.id) {
                        scope.insert(rec.id.as_str(), Target::Account(a.to_string()));
                    }
                }
                Some(
                    OrganizationKind::Root
                    | OrganizationKind::Scp(_)
                    | OrganizationKind::Attachment(_)
                    | OrganizationKind::OrgPolicy(..)
                    | OrganizationKind::OrgPolicyAttachment(..)
                    | OrganizationKind::PolicyType(_),
                )
                | None => {}
            }
        }
        for (policy_id, target_id) in &live.attachments {
            let Some(target) = scope.get(target_id.as_str()) else {
                continue;
            };
            if known_ids.contains(format!("{policy_id}|{target_id}").as_str()) {
                continue;
            }
            let name = live
                .policies
                .get(policy_id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| policy_id.clone());
            let address = Address::attachment(&name, target.clone());
            push(
                DriftClass::Unmanaged,
                &address,
                Some(&format!("{policy_id}|{target_id}")),
                Some(format!("SCP_ATTACHED_TO_{}", target_kind(target))),
                format!("{name} was attached to {target} outside Landfall"),
                vec![],
            );
        }
        // Policies of the other types Landfall manages (their type recorded), attached
        // outside Landfall; the AWS-managed RCPFullAWSAccess on every target is AWS's.
        let managed_types: BTreeSet<OrgPolicyType> = state
            .resources
            .keys()
            .filter_map(|a| {
                if let Some(OrganizationKind::PolicyType(t)) = a.organization_kind() {
                    Some(t)
                } else {
                    None
                }
            })
            .collect();
        for (policy_id, target_id) in &live.org_policy_attachments {
            let (Some(target), Some(policy)) = (
                scope.get(target_id.as_str()),
                live.org_policies.get(policy_id),
            ) else {
                continue;
            };
            if policy.aws_managed
                || !managed_types.contains(&policy.policy_type)
                || known_ids.contains(format!("{policy_id}|{target_id}").as_str())
            {
                continue;
            }
            let address = Address::OrgPolicyAttachment(
                policy.policy_type,
                Attachment {
                    policy: policy.name.clone(),
                    target: target.clone(),
                },
            );
            push(
                DriftClass::Unmanaged,
                &address,
                Some(&format!("{policy_id}|{target_id}")),
                Some(format!(
                    "{}_ATTACHED_TO_{}",
                    policy.policy_type.policy_type().aws_name(),
                    target_kind(target)
                )),
                format!(
                    "{} {} was attached to {target} outside Landfall",
                    policy.policy_type.noun(),
                    policy.name
                ),
                vec![],
            );
        }
        for ou in live.ous.values() {
            if known_ids.contains(ou.id.as_str())
                || matches!(
                    scope.get(ou.parent_id.as_str()),
                    None | Some(Target::Account(_))
                )
            {
                continue;
            }
            let path = index
                .ou_path(&ou.id)
                .map(|p| p.to_string())
                .unwrap_or_else(|| ou.name.clone());
            let address: Address = Address::Ou(OuPath::new(path));
            push(
                DriftClass::Unmanaged,
                &address,
                Some(&ou.id),
                None,
                "created outside Landfall in a managed OU".into(),
                vec![],
            );
        }
        for acct in live.accounts.values() {
            if acct.id == live.management_account_id || known_ids.contains(acct.id.as_str()) {
                continue;
            }
            if matches!(
                scope.get(acct.parent_id.as_str()),
                None | Some(Target::Account(_))
            ) {
                continue;
            }
            push(
                DriftClass::Unmanaged,
                &Address::Account(acct.name.clone()),
                Some(&acct.id),
                None,
                format!(
                    "account {} ({}) is in a managed OU but not declared",
                    acct.name, acct.email
                ),
                vec![],
            );
        }
    }
    findings
}

fn target_kind(target: &Target) -> &'static str {
    match target {
        Target::Root => "ROOT",
        Target::Ou(_) => "OU",
        Target::Account(_) => "ACCOUNT",
    }
}
