//! Drift of member resources: recorded ones changed or missing, and endpoints created
//! outside Landfall in managed VPCs.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::address::Address;
use crate::attrs::diff_attrs;
use crate::drift_report::{DriftClass, Finding};
use crate::kind::MemberKind;
use crate::live::{KeyState, LiveState};
use crate::state::StateFile;

use super::attrs::live_attrs;

/// Drift of member resources: recorded ones changed or missing, and endpoints created
/// outside Landfall in managed VPCs.
pub fn drift_findings(live: &LiveState, state: &StateFile) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut managed_vpcs: BTreeMap<(String, String), String> = BTreeMap::new();
    let known_ids: BTreeSet<&str> = state
        .resources
        .iter()
        .filter(|(a, r)| a.member_kind().is_some() && r.member.is_some())
        .map(|(_, r)| r.id.as_str())
        .collect();
    // Other families record where their resources live too (the security family's
    // trails and buckets): only this family's records are read here.
    for (address, rec) in state
        .resources
        .iter()
        .filter(|(a, _)| a.member_kind().is_some())
    {
        let Some(key) = &rec.member else { continue };
        let Some(member) = live.members.get(key) else {
            continue;
        };
        let Some(live_attrs) = live_attrs(member, address, &rec.id) else {
            out.push(Finding {
                class: DriftClass::Missing,
                address: address.clone(),
                id: Some(rec.id.clone()),
                control_tower_drift_type: None,
                message: format!("deleted outside Landfall (in {key})"),
                diffs: vec![],
            });
            continue;
        };
        if let Address::Vpc(_) = address {
            managed_vpcs.insert((key.clone(), rec.id.clone()), address.to_string());
        }
        // A key records its deletion window, which live cannot tell.
        let compare: &[&str] = match address.member_kind() {
            Some(MemberKind::KmsKey(_)) => &["description", "policy", "rotation", "alias", "tags"],
            Some(
                MemberKind::Vpc(_)
                | MemberKind::Subnet(..)
                | MemberKind::RouteTable(_)
                | MemberKind::SecurityGroup(_)
                | MemberKind::Endpoint(..),
            )
            | None => &[],
        };
        let mut live_attrs = live_attrs;
        if let (Address::KmsKey(_), Some(k)) = (address, member.keys.get(&rec.id)) {
            if let Some(a) = rec.attributes.get("alias").and_then(Value::as_str)
                && k.aliases.contains(a)
            {
                live_attrs.insert("alias".into(), json!(a));
            }
            if k.state == KeyState::PendingDeletion {
                out.push(Finding {
                    class: DriftClass::Changed,
                    address: address.clone(),
                    id: Some(rec.id.clone()),
                    control_tower_drift_type: None,
                    message: "its deletion was scheduled outside Landfall".into(),
                    diffs: vec![],
                });
            }
        }
        let diffs = diff_attrs(&rec.attributes, &live_attrs, compare);
        if !diffs.is_empty() {
            out.push(Finding {
                class: DriftClass::Changed,
                address: address.clone(),
                id: Some(rec.id.clone()),
                control_tower_drift_type: None,
                message: "changed outside Landfall".into(),
                diffs,
            });
        }
    }
    for ((key, vpc_id), vpc_address) in &managed_vpcs {
        let Some(member) = live.members.get(key) else {
            continue;
        };
        let network = vpc_address.trim_start_matches("vpc.");
        for e in member.endpoints.values() {
            if e.vpc_id == *vpc_id && !known_ids.contains(e.id.as_str()) {
                let region = key.split_once('/').map(|(_, r)| r).unwrap_or("");
                let prefix = format!("com.amazonaws.{region}.");
                let service = e
                    .service_name
                    .strip_prefix(&prefix)
                    .unwrap_or(&e.service_name);
                out.push(Finding {
                    class: DriftClass::Unmanaged,
                    address: Address::Endpoint(network.to_string(), service.to_string()),
                    id: Some(e.id.clone()),
                    control_tower_drift_type: None,
                    message: format!("an endpoint created outside Landfall in {vpc_address}"),
                    diffs: vec![],
                });
            }
        }
    }
    out
}
