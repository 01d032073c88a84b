//! Ordering the operation references do not give: a service's trusted access before
//! its delegated administrator, both before the resources the delegated service
//! makes (an organization trail, aggregator or analyzer), and a trail after every
//! change to its bucket and key (CloudTrail checks their policies when the trail is
//! created or updated).

use std::collections::HashMap;

use crate::address::Address;
use crate::kind::SecurityKind;
use crate::model::DesiredState;
use crate::plan::{Action, Change};

use super::{ACCESS_ANALYZER, CLOUDTRAIL, CONFIG};

/// What a declared security resource needs done before it.
fn needs(desired: &DesiredState, kind: SecurityKind<'_>) -> Vec<Address> {
    let service = |p: &str| {
        vec![
            Address::ServiceAccess(p.to_string()),
            Address::DelegatedAdmin(p.to_string()),
        ]
    };
    match kind {
        SecurityKind::ServiceAccess(_) => vec![],
        SecurityKind::DelegatedAdmin(p) => vec![Address::ServiceAccess(p.to_string())],
        SecurityKind::Bucket(name) => desired
            .buckets
            .get(name)
            .map(|b| vec![Address::KmsKey(b.kms_key.clone())])
            .unwrap_or_default(),
        SecurityKind::Trail(name) => {
            let mut out = service(CLOUDTRAIL);
            if let Some(t) = desired.trails.get(name) {
                out.push(Address::Bucket(t.bucket.clone()));
                out.push(Address::KmsKey(t.kms_key.clone()));
            }
            out
        }
        SecurityKind::ConfigAggregator(_) => service(CONFIG),
        SecurityKind::AccessAnalyzer(_) => service(ACCESS_ANALYZER),
    }
}

pub(super) fn security_edges(desired: &DesiredState, changes: &[Change]) -> Vec<(usize, usize)> {
    let live_changes: HashMap<&Address, usize> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(c.action, Action::Delete | Action::Forget))
        .map(|(i, c)| (&c.address, i))
        .collect();
    let mut edges = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if matches!(c.action, Action::Delete | Action::Forget) {
            continue;
        }
        let Some(kind) = c.address.security_kind() else {
            continue;
        };
        for before in needs(desired, kind) {
            if let Some(&b) = live_changes.get(&before)
                && b != i
            {
                edges.push((b, i));
            }
        }
    }
    edges
}
