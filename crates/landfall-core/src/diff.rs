//! The diff: desired state + live state + Landfall's state file → an ordered [`Plan`].
//! Pure: no I/O, deterministic (same inputs, same plan).
//!
//! Each family plans its own resources ([`PlanFamily`]); this module runs them in
//! [`Family::ALL`] order, adds the edges every family shares (a change after the ones
//! producing what its operations refer to), and orders the result.
//!
//! How a desired resource is matched to a live one: by the physical id the state file
//! records, when that id still exists; otherwise by its natural key, which makes the
//! resource *adopted*; an `[[import]]` block names the live id itself
//! ([`crate::import`]). Removals consult the state: only what Landfall created is ever
//! deleted; the rest is forgotten.

use std::collections::HashMap;

use crate::address::Address;
use crate::family;
use crate::graph::{self, CycleError};
use crate::kind::Family;
use crate::live::{LiveState, WorldIdentity};
use crate::model::DesiredState;
use crate::model::OrgPolicyType;
use crate::plan::{Action, MemberRef, PLAN_FORMAT_VERSION, Plan, Ref, StateRef, Summary};
use crate::planner::Planner;
use crate::state::StateFile;

pub use crate::planner::PlanProblem;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("the plan has {} problem(s)", .0.len())]
    Problems(Vec<PlanProblem>),
    #[error(transparent)]
    Cycle(#[from] CycleError),
}

/// Computes the plan. `state` is the current state file (a fresh one when none exists).
pub fn compute_plan(
    desired: &DesiredState,
    live: &LiveState,
    state: &StateFile,
    state_ref: StateRef,
    world: &WorldIdentity,
) -> Result<Plan, PlanError> {
    // `[[moved]]`: plan against the state as it will be once re-addressed.
    let (moved_state, moves) = state.with_moves(&desired.moved);
    let state = &moved_state;
    // What Control Tower owns when it governs the organization is not planned.
    let (desired, deferred) = crate::security::as_planned(desired, live, &world.id);
    let desired = desired.as_ref();
    let mut planner = Planner::new(desired, live, state);
    planner.warnings.extend(deferred);
    for (from, to) in &moves.dangling {
        let both = state.resources.contains_key(from) && state.resources.contains_key(to);
        planner.problem(
            to.clone(),
            if both {
                format!("[[moved]] from {from} to {to}: the state records both, so neither can take the other's place")
            } else {
                format!("[[moved]] from {from} to {to}: the state records neither")
            },
            Some(if both {
                "remove the record that is wrong with `landfall state rm`, or the [[moved]] block"
            } else {
                "check the `from` address against `landfall state list`; remove the block if the resource was never applied"
            }),
        );
    }
    for ((from, to), (carried, onto)) in &moves.collided {
        planner.problem(
            to.clone(),
            format!("[[moved]] from {from} to {to} would re-address {carried} to {onto}, which the state records already"),
            Some("one of the two records is wrong: remove it with `landfall state rm`, or drop the [[moved]] block"),
        );
    }
    for (from, to) in &moves.done {
        planner.warnings.push(format!(
            "[[moved]] from {from} to {to} is applied already; remove it once every copy of the state has it"
        ));
    }
    let applied_moves: Vec<crate::model::Moved> = desired
        .moved
        .iter()
        .filter(|m| moves.applied.iter().any(|(from, _)| *from == m.from))
        .cloned()
        .collect();
    // `[[import]]`: checked against the state here, against live by each family.
    crate::import::check_against_state(&mut planner);
    let imports: Vec<crate::model::Import> = desired
        .imports
        .iter()
        .filter(|i| planner.imports.contains_key(&i.to))
        .cloned()
        .collect();
    for f in Family::ALL {
        family::of(f).plan(&mut planner);
    }
    if desired.landing_zone.prune_unmanaged {
        for f in Family::ALL {
            family::of(f).prune(&mut planner);
        }
    }
    for f in Family::ALL {
        family::of(f).review(&mut planner);
    }
    // What a move changes in AWS (a name) says which block it comes from.
    for m in &applied_moves {
        for change in planner
            .changes
            .iter_mut()
            .filter(|c| c.address == m.to && c.action == Action::Update)
        {
            change.reason = format!("{} ([[moved]] from {})", change.reason, m.from);
        }
    }
    if !planner.problems.is_empty() {
        return Err(PlanError::Problems(planner.problems));
    }
    let edges = edges(&planner);
    for change in &mut planner.changes {
        change.project = desired.project_of(&change.address).map(str::to_string);
    }
    let changes = graph::order(planner.changes, &edges)?;
    // A tag policy or one of its attachments changes: what each account's effective
    // tag policy becomes, as `DescribeEffectivePolicy` would show it.
    let tag_policy_changed = changes.iter().any(|c| {
        matches!(
            c.address,
            Address::OrgPolicy(OrgPolicyType::Tag, _)
                | Address::OrgPolicyAttachment(OrgPolicyType::Tag, _)
        ) && !matches!(c.action, Action::Adopt | Action::Forget)
    });
    let tag_policy_changes = if tag_policy_changed {
        crate::tag_policies::effective_changes(
            desired,
            &crate::tag_policies::TagPolicies::from_live(live, desired),
            &crate::tag_policies::TagPolicies::from_desired(desired),
        )
    } else {
        Vec::new()
    };
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        landing_zone: desired.landing_zone.name.clone(),
        world: world.clone(),
        state: state_ref,
        state_location: None,
        moved: applied_moves,
        imports,
        summary: Summary::of(&changes),
        changes,
        warnings: planner.warnings,
        refresh_calls: Default::default(),
        permission_changes: Vec::new(),
        tag_policy_changes,
        targets: Vec::new(),
        digest: None,
    })
}

/// Dependency edges `(before, after)` between the planned changes: a change runs after
/// the changes that create what its operations (or its member account) refer to, and
/// after whatever its family orders before it.
fn edges(planner: &Planner<'_>) -> Vec<(usize, usize)> {
    let changes = &planner.changes;
    let mut producers: HashMap<&Address, usize> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if matches!(c.action, Action::Create | Action::Adopt | Action::Replace) {
            producers.insert(&c.address, i);
        }
    }
    let mut edges = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        if let Some(MemberRef {
            account: Ref::Address(a),
            ..
        }) = &c.member
            && let Some(&p) = producers.get(a)
        {
            edges.push((p, i));
        }
        for op in &c.ops {
            for r in op.refs() {
                if let Ref::Address(a) = r
                    && let Some(&p) = producers.get(a)
                    && p != i
                {
                    edges.push((p, i));
                }
            }
        }
    }
    for f in Family::ALL {
        edges.extend(family::of(f).edges(planner));
    }
    edges.sort_unstable();
    edges.dedup();
    edges
}

/// The plan of `desired` against an empty organization — only the root and the
/// AWS-managed FullAWSAccess policy live, with an active Control Tower landing zone of
/// the newest version Landfall knows and no OU registered, nothing recorded: every
/// declared resource is
/// created, in the order and with the dependency edges an apply uses. `landfall graph`
/// draws it, so the picture is what runs.
/// Identity Center as a greenfield organization has it: enabled, with the groups and
/// users the assignments name but Landfall does not create (they come from a
/// directory).
fn greenfield_identity(desired: &DesiredState) -> crate::live::LiveIdentity {
    use crate::address::Principal;
    let mut identity = crate::live::LiveIdentity {
        read: true,
        instance: Some(crate::live::LiveIdentityInstance {
            arn: "greenfield".into(),
            identity_store_id: "greenfield".into(),
        }),
        ..Default::default()
    };
    for spec in &desired.assignments {
        match &spec.assignment.principal {
            Principal::Group(name) if !desired.groups.contains_key(name) => {
                identity.groups.insert(
                    name.clone(),
                    crate::live::LiveGroup {
                        id: format!("greenfield-{name}"),
                        display_name: name.clone(),
                        description: None,
                    },
                );
            }
            Principal::Group(_) => {}
            Principal::User(name) => {
                identity
                    .users
                    .insert(name.clone(), format!("greenfield-{name}"));
            }
        }
    }
    identity
}

pub fn greenfield_plan(desired: &DesiredState) -> Result<Plan, PlanError> {
    let full_access = crate::live::LivePolicy {
        id: "p-FullAWSAccess".into(),
        name: crate::address::FULL_AWS_ACCESS.into(),
        description: String::new(),
        content: String::new(),
        tags: Default::default(),
        aws_managed: true,
    };
    let live = LiveState {
        root_id: "r-root".into(),
        policies: [(full_access.id.clone(), full_access)].into(),
        governance: crate::live::LiveGovernance {
            read: true,
            landing_zone: Some(Some(crate::live::LiveLandingZone {
                arn: "greenfield".into(),
                status: "ACTIVE".into(),
                drift_status: None,
                version: crate::governance::NEWEST_KNOWN_LANDING_ZONE.into(),
                security_ou: None,
            })),
            baselines: Some(crate::live::LiveBaselines {
                control_tower_baseline: Some(crate::governance::CONTROL_TOWER_BASELINE.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        identity: greenfield_identity(desired),
        ..Default::default()
    };
    let world = WorldIdentity {
        backend: "greenfield".into(),
        id: "greenfield".into(),
    };
    let state = StateFile::new(&desired.landing_zone.name, world.clone());
    let state_ref = StateRef {
        lineage: None,
        serial: 0,
    };
    compute_plan(desired, &live, &state, state_ref, &world)
}
