//! Drift: live vs the last apply vs the desired state, classified into findings.
//! Read-only and pure; each family reports its own resources
//! ([`PlanFamily::drift`](crate::family::PlanFamily::drift)), this module adds what is
//! pending and sorts.

use std::collections::BTreeMap;

use crate::address::Address;
use crate::attrs::diff_attrs;
use crate::family;
use crate::kind::Family;
use crate::live::{LiveIndex, LiveState, WorldIdentity};
use crate::model::DesiredState;
use crate::state::StateFile;

pub use crate::drift_report::{
    DRIFT_FORMAT_VERSION, DriftClass, DriftReport, Finding, NextCommand,
};

pub fn detect(
    desired: &DesiredState,
    live: &LiveState,
    state: Option<&StateFile>,
    world: &WorldIdentity,
) -> DriftReport {
    let empty = StateFile::new(&desired.landing_zone.name, world.clone());
    // `[[moved]]` re-addresses, as a plan would: a pending move is not drift.
    let moved = state.unwrap_or(&empty).with_moves(&desired.moved).0;
    let state = &moved;
    let (desired, _) = crate::security::as_planned(desired, live, &world.id);
    let desired = desired.as_ref();
    // What the last apply recorded, checked against live; and what was made outside
    // Landfall inside the managed scope.
    let mut findings: Vec<Finding> = Family::ALL
        .into_iter()
        .flat_map(|f| family::of(f).drift(live, state))
        .collect();
    let mut push =
        |class, address: &Address, id: Option<&str>, ct: Option<String>, message: String, diffs| {
            findings.push(Finding::new(class, address, id, ct, message, diffs));
        };

    // Pending: the desired state moved on since the last apply.
    let declared = desired.addresses();
    for address in &declared {
        // Member policies are recorded with ${account_id} substituted.
        let account_id = state
            .resources
            .get(address)
            .and_then(|r| r.member.as_deref())
            .and_then(|m| m.split_once('/'))
            .map(|(a, _)| a);
        let want = family::declared_attrs(desired, address, account_id);
        let Some(want) = want else {
            continue;
        };
        match state.resources.get(address) {
            None => push(
                DriftClass::Pending,
                address,
                None,
                None,
                "declared; not applied yet".into(),
                vec![],
            ),
            Some(rec) => {
                let diffs = diff_attrs(&rec.attributes, &want, &[]);
                if !diffs.is_empty() {
                    push(
                        DriftClass::Pending,
                        address,
                        Some(&rec.id),
                        None,
                        "declaration changed; not applied yet".into(),
                        diffs,
                    );
                }
            }
        }
    }
    for (address, rec) in &state.resources {
        if !declared.contains(address) {
            push(
                DriftClass::Pending,
                address,
                Some(&rec.id),
                None,
                "removed from the desired state; not applied yet".into(),
                vec![],
            );
        }
    }

    findings.sort_by(|a, b| (a.class, &a.address).cmp(&(b.class, &b.address)));
    let mut summary = BTreeMap::new();
    for f in &findings {
        *summary.entry(f.class).or_insert(0) += 1;
    }
    DriftReport {
        format_version: DRIFT_FORMAT_VERSION,
        landing_zone: desired.landing_zone.name.clone(),
        world: world.clone(),
        findings,
        summary,
        next_commands: Vec::new(),
    }
}

/// `apply --refresh-only`: accepts the live values of drifted resources into the state
/// (changed attributes, moved accounts; missing resources are dropped from the state),
/// so they no longer show as drift — a later plan shows what it takes to restore the
/// desired state instead. Unmanaged resources stay unmanaged. Returns the new state and
/// the addresses whose records changed.
pub fn accept_live(live: &LiveState, state: &StateFile) -> (StateFile, Vec<Address>) {
    let index = LiveIndex::new(live);
    let mut next = state.clone();
    let mut accepted = Vec::new();
    for (address, rec) in &state.resources {
        let Some(live_attrs) =
            family::of(address.family()).accepted_live(live, &index, address, rec, state)
        else {
            continue;
        };
        match live_attrs {
            None => {
                next.resources.remove(address);
                accepted.push(address.clone());
            }
            Some(attrs) if attrs != rec.attributes => {
                if let Some(r) = next.resources.get_mut(address) {
                    r.attributes = attrs;
                }
                accepted.push(address.clone());
            }
            Some(_) => {}
        }
    }
    (next, accepted)
}
