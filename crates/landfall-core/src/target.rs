//! `--target`: a plan cut down to the changes of some addresses and every change they
//! depend on, for exceptional use (recovering from a failed apply, one urgent change).
//! Pure: the CLI parses the addresses, prints the warnings and decides what else a
//! partial plan needs (its blast radius).
//!
//! The selection is closed under dependencies (every `depends_on` of a kept change is
//! kept, transitively) and keeps the plan's order, so the kept changes are still in a
//! valid execution order; `depends_on` is re-indexed into the new list and the summary
//! recomputed. The plan records its targets (`Plan::targets`), so a saved partial plan
//! says what it is when it is shown or applied.
//!
//! One dependency is not an edge: the executor creates and moves accounts relative to
//! the organization root, whose id it takes from the state or from the plan's adoption
//! of the root. So a non-empty selection keeps the root's change too (an adoption: a
//! record, no API call).

use std::collections::BTreeSet;

use crate::address::Address;
use crate::plan::{Plan, Summary};

/// Keeps the changes of `targets` and every change they depend on (transitively), and
/// the root's adoption when anything is kept, in the plan's order. Returns the partial plan and one warning per target that has no
/// change in the plan (not an error: the resource may already be as declared).
///
/// The plan's `targets` become `targets` (sorted, without duplicates) and its `digest`
/// is cleared (it signed the whole plan). `warnings` and `permission_changes` are left
/// as they are: the caller computes the blast radius of the plan it keeps.
pub fn select(mut plan: Plan, targets: &[Address]) -> (Plan, Vec<String>) {
    let targets: Vec<Address> = targets
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut warnings = Vec::new();
    for t in &targets {
        if !plan.changes.iter().any(|c| c.address == *t) {
            warnings.push(format!(
                "target `{t}` has no change in this plan (it is already as declared, or it is not declared)"
            ));
        }
    }

    // The targeted changes, then what they depend on. Dependencies point at earlier
    // changes, but the walk does not rely on it: an index out of range is ignored.
    let n = plan.changes.len();
    let mut keep = vec![false; n];
    let mut stack: Vec<usize> = (0..n)
        .filter(|&i| targets.contains(&plan.changes[i].address))
        .collect();
    if !stack.is_empty() {
        stack.extend((0..n).filter(|&i| plan.changes[i].address == Address::Root));
    }
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut keep[i], true) {
            continue;
        }
        stack.extend(
            plan.changes[i]
                .depends_on
                .iter()
                .copied()
                .filter(|&d| d < n && !keep[d]),
        );
    }

    // Old index → new index, for the kept changes.
    let mut new_index = vec![None; n];
    let mut next = 0;
    for (i, slot) in new_index.iter_mut().enumerate() {
        if keep[i] {
            *slot = Some(next);
            next += 1;
        }
    }
    let changes = std::mem::take(&mut plan.changes);
    plan.changes = changes
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep[*i])
        .map(|(_, mut c)| {
            let mut deps: Vec<usize> = c
                .depends_on
                .iter()
                .filter_map(|&d| new_index.get(d).copied().flatten())
                .collect();
            deps.sort_unstable();
            deps.dedup();
            c.depends_on = deps;
            c
        })
        .collect();
    // An import block is applied by its adoption: kept only with it.
    let kept: BTreeSet<&Address> = plan.changes.iter().map(|c| &c.address).collect();
    let imports = std::mem::take(&mut plan.imports);
    plan.imports = imports
        .into_iter()
        .filter(|i| kept.contains(&i.to))
        .collect();
    plan.summary = Summary::of(&plan.changes);
    plan.targets = targets;
    plan.digest = None;
    (plan, warnings)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::live::WorldIdentity;
    use crate::plan::{Action, Change, PLAN_FORMAT_VERSION, Record, StateRef};

    fn change(address: &str, action: Action, depends_on: &[usize]) -> Change {
        Change {
            address: address.parse().unwrap(),
            action,
            reason: String::new(),
            diffs: vec![],
            id: None,
            member: None,
            project: None,
            ops: vec![],
            record: Record::Remove,
            depends_on: depends_on.to_vec(),
        }
    }

    fn plan(changes: Vec<Change>) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            landing_zone: "lz".into(),
            world: WorldIdentity {
                backend: "sim".into(),
                id: "sim-test".into(),
            },
            state: StateRef {
                lineage: None,
                serial: 0,
            },
            state_location: None,
            moved: vec![],
            imports: vec![],
            summary: Summary::of(&changes),
            changes,
            warnings: vec![],
            refresh_calls: BTreeMap::new(),
            permission_changes: vec![],
            tag_policy_changes: vec![],
            targets: vec![],
            digest: Some("sha256:whole".into()),
        }
    }

    fn addresses(plan: &Plan) -> Vec<String> {
        plan.changes.iter().map(|c| c.address.to_string()).collect()
    }

    fn targets(list: &[&str]) -> Vec<Address> {
        list.iter().map(|t| t.parse().unwrap()).collect()
    }

    /// ou.A, ou.A/B (after 0), account.x in ou.A/B (after 1), ou.C, account.y in ou.C
    /// (after 3), scp.s, attachment.s:account.x (after 2 and 5).
    fn example() -> Plan {
        plan(vec![
            change("ou.A", Action::Create, &[]),
            change("ou.A/B", Action::Create, &[0]),
            change("account.x", Action::Create, &[1]),
            change("ou.C", Action::Create, &[]),
            change("account.y", Action::Create, &[3]),
            change("scp.s", Action::Update, &[]),
            change("attachment.s:account.x", Action::Create, &[2, 5]),
        ])
    }

    #[test]
    fn keeps_the_target_and_what_it_depends_on_reindexed() {
        let (p, warnings) = select(example(), &targets(&["account.x"]));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(addresses(&p), ["ou.A", "ou.A/B", "account.x"]);
        let deps: Vec<&[usize]> = p.changes.iter().map(|c| &c.depends_on[..]).collect();
        assert_eq!(deps, [&[][..], &[0], &[1]]);
        assert_eq!(p.summary.create, 3);
        assert_eq!(p.summary.update, 0);
        assert_eq!(p.targets, targets(&["account.x"]));
        assert_eq!(
            p.digest, None,
            "the whole plan's digest does not sign a part"
        );
    }

    #[test]
    fn dependencies_are_followed_across_targets_and_kept_in_plan_order() {
        let (p, _) = select(
            example(),
            &targets(&["attachment.s:account.x", "account.y"]),
        );
        assert_eq!(
            addresses(&p),
            [
                "ou.A",
                "ou.A/B",
                "account.x",
                "ou.C",
                "account.y",
                "scp.s",
                "attachment.s:account.x"
            ]
        );
        assert_eq!(p.changes[6].depends_on, [2, 5]);
        assert_eq!(p.changes[4].depends_on, [3]);
        assert_eq!(p.summary.create, 6);
        assert_eq!(p.summary.update, 1);
    }

    #[test]
    fn every_change_of_a_targeted_address_is_kept() {
        // A replacement planned as a delete and a create of one address.
        let whole = plan(vec![
            change("vpc.net", Action::Delete, &[]),
            change("ou.Z", Action::Create, &[]),
            change("vpc.net", Action::Create, &[0]),
        ]);
        let (p, _) = select(whole, &targets(&["vpc.net"]));
        assert_eq!(addresses(&p), ["vpc.net", "vpc.net"]);
        assert_eq!(p.changes[1].depends_on, [0]);
    }

    #[test]
    fn the_root_s_adoption_goes_with_any_selection() {
        let mut changes = example().changes;
        for c in &mut changes {
            c.depends_on.iter_mut().for_each(|d| *d += 1);
        }
        changes.insert(0, change("root", Action::Adopt, &[]));
        let whole = plan(changes);
        let (p, _) = select(whole.clone(), &targets(&["account.y"]));
        assert_eq!(addresses(&p), ["root", "ou.C", "account.y"]);
        assert_eq!(p.changes[2].depends_on, [1]);
        assert_eq!(p.summary.adopt, 1);
        // Not when nothing else is kept.
        let (p, _) = select(whole, &targets(&["account.nope"]));
        assert!(p.is_empty());
    }

    #[test]
    fn a_target_without_a_change_is_a_warning() {
        let (p, warnings) = select(example(), &targets(&["account.nope", "ou.C"]));
        assert_eq!(addresses(&p), ["ou.C"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("`account.nope`"), "{warnings:?}");
        // Targets are recorded sorted (by kind, then name), once each.
        let (p, _) = select(example(), &targets(&["account.y", "ou.C", "account.y"]));
        assert_eq!(p.targets, targets(&["ou.C", "account.y"]));
    }

    #[test]
    fn no_target_with_a_change_leaves_an_empty_plan() {
        let (p, warnings) = select(example(), &targets(&["scp.other"]));
        assert!(p.is_empty());
        assert_eq!(p.summary, Summary::default());
        assert_eq!(warnings.len(), 1);
    }

    const ADDRESSES: &[&str] = &[
        "ou.A",
        "ou.A/B",
        "account.x",
        "account.y",
        "scp.s",
        "attachment.s:ou.A",
        "vpc.net",
        "kms_key.k",
    ];
    const ACTIONS: &[Action] = &[
        Action::Create,
        Action::Update,
        Action::Move,
        Action::Delete,
        Action::Forget,
    ];

    /// A random plan in execution order: each change depends on some earlier ones.
    /// Addresses repeat; each change's `reason` is its original index.
    fn arb_plan() -> impl Strategy<Value = Plan> {
        prop::collection::vec(
            (
                0..ADDRESSES.len(),
                0..ACTIONS.len(),
                prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            ),
            0..24,
        )
        .prop_map(|specs| {
            let changes = specs
                .into_iter()
                .enumerate()
                .map(|(i, (a, act, deps))| {
                    let mut deps: Vec<usize> = if i == 0 {
                        vec![]
                    } else {
                        deps.iter().map(|d| d.index(i)).collect()
                    };
                    deps.sort_unstable();
                    deps.dedup();
                    let mut c = change(ADDRESSES[a], ACTIONS[act], &deps);
                    c.reason = i.to_string();
                    c
                })
                .collect();
            plan(changes)
        })
    }

    proptest! {
        #[test]
        fn the_selection_is_closed_under_dependencies_and_keeps_the_order(
            whole in arb_plan(),
            picked in prop::collection::vec(0..ADDRESSES.len() + 2, 0..4),
        ) {
            // Two of the choices name addresses no change has.
            let extra = ["account.none", "scp.none"];
            let targets: Vec<Address> = picked
                .iter()
                .map(|&i| ADDRESSES.get(i).copied().unwrap_or_else(|| extra[i - ADDRESSES.len()]))
                .map(|t| t.parse().unwrap())
                .collect();
            let (part, warnings) = select(whole.clone(), &targets);
            let original = |c: &Change| c.reason.parse::<usize>().unwrap();
            let kept: Vec<usize> = part.changes.iter().map(original).collect();

            // The order is the plan's.
            prop_assert!(kept.windows(2).all(|w| w[0] < w[1]), "{kept:?}");
            // Every change of a target is kept.
            for (i, c) in whole.changes.iter().enumerate() {
                if targets.contains(&c.address) {
                    prop_assert!(kept.contains(&i), "change {i} of a target dropped");
                }
            }
            // Closed: each kept change keeps all its dependencies, re-indexed to the
            // same changes, each earlier in the new list.
            for (new, c) in part.changes.iter().enumerate() {
                let before: BTreeSet<usize> =
                    whole.changes[original(c)].depends_on.iter().copied().collect();
                let after: BTreeSet<usize> = c
                    .depends_on
                    .iter()
                    .map(|&d| {
                        assert!(d < new, "change {new} depends on a later one");
                        original(&part.changes[d])
                    })
                    .collect();
                prop_assert_eq!(before, after);
            }
            // Nothing else: each kept change is a target's, or one a kept change needs.
            for (new, c) in part.changes.iter().enumerate() {
                let needed = targets.contains(&c.address)
                    || part.changes[new + 1..].iter().any(|later| {
                        later.depends_on.contains(&new)
                    });
                prop_assert!(needed, "change {} kept for nothing", original(c));
            }
            prop_assert_eq!(&part.summary, &Summary::of(&part.changes));
            let missing: BTreeSet<&Address> = targets
                .iter()
                .filter(|t| !whole.changes.iter().any(|c| c.address == **t))
                .collect();
            prop_assert_eq!(warnings.len(), missing.len());
            prop_assert!(part.targets.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
