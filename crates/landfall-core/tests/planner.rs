//! The planner corpus: one fixture directory per behaviour of the pure planner
//! (`tests/fixtures/NAME/`), each planned with `diff::compute_plan` and snapshotted
//! (`tests/snapshots/NAME.snap`): the plan (a line per change, then its JSON) or the
//! plan's problems, plus drift findings and SCP permission checks where the fixture
//! asks for them. Property tests over random organizations live in `planner/props.rs`.
//!
//! Update snapshots with `INSTA_UPDATE=always cargo test -p landfall-core --test
//! planner`, then review the `.snap` files: each must show what its fixture's name
//! claims.
//!
//! A fixture's `state.json` is easiest to start from a plan's records: plan the fixture
//! without one, and copy the adopted resources' `record` entries from the snapshot's
//! JSON.

// Helpers are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "planner/harness.rs"]
mod harness;
#[path = "planner/props.rs"]
mod props;

use std::collections::BTreeSet;

use landfall_core::Address;
use landfall_core::diff::PlanError;
use landfall_core::plan::{Action, Op, Plan, Record};

use harness::{Fixture, fixture_names, load_fixture, render, snapshots_dir};

#[test]
fn fixtures_match_their_snapshots() {
    let names = fixture_names();
    let mut failed = Vec::new();
    for name in &names {
        let result = std::panic::catch_unwind(|| {
            let fx = load_fixture(name);
            let text = render(&fx);
            insta::with_settings!({
                snapshot_path => snapshots_dir(),
                prepend_module_to_snapshot => false,
                omit_expression => true,
                filters => vec![
                    // A state file's lineage is its identity, not behaviour (and random
                    // when a state is made fresh with `StateFile::new`).
                    (r#""lineage": "[0-9a-f-]{36}""#, r#""lineage": "[uuid]""#),
                ],
            }, {
                insta::assert_snapshot!(name.as_str(), text);
            });
        });
        if result.is_err() {
            failed.push(name.clone());
        }
    }
    assert!(failed.is_empty(), "fixtures failing: {failed:?}");
}

// ---- the corpus as a whole ---------------------------------------------------------

fn all_fixtures() -> Vec<Fixture> {
    fixture_names().iter().map(|n| load_fixture(n)).collect()
}

#[test]
fn corpus_is_large_and_covers_every_action_and_address_kind() {
    let fixtures = all_fixtures();
    assert!(fixtures.len() >= 45, "only {} fixtures", fixtures.len());
    let mut actions = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let mut problems = 0;
    for fx in &fixtures {
        match fx.plan() {
            Ok(plan) => {
                for c in &plan.changes {
                    actions.insert(c.action);
                    kinds.insert(c.address.kind());
                }
            }
            Err(_) => problems += 1,
        }
    }
    let all = [
        Action::Create,
        Action::Adopt,
        Action::Update,
        Action::Replace,
        Action::Move,
        Action::Delete,
        Action::Close,
        Action::Forget,
    ];
    for a in all {
        assert!(actions.contains(&a), "no fixture plans a {a:?}");
    }
    for k in [
        "root",
        "ou",
        "account",
        "scp",
        "attachment",
        "vpc",
        "subnet",
        "route_table",
        "security_group",
        "endpoint",
        "kms_key",
        "control",
        "portfolio",
        "portfolio_share",
    ] {
        assert!(kinds.contains(k), "no fixture plans a change to a {k}");
    }
    assert!(problems >= 3, "only {problems} fixtures end in problems");
}

#[test]
fn every_snapshot_belongs_to_a_fixture() {
    let fixtures: BTreeSet<String> = fixture_names().into_iter().collect();
    for entry in std::fs::read_dir(snapshots_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".snap") else {
            continue;
        };
        assert!(
            fixtures.contains(stem),
            "snapshots/{name} has no fixture (renamed or removed?)"
        );
    }
}

#[test]
fn every_fixture_plan_lists_dependencies_first_and_is_deterministic() {
    for fx in all_fixtures() {
        let first = fx.plan();
        let second = fx.plan();
        match (first, second) {
            (Ok(a), Ok(b)) => {
                let (ja, jb) = (
                    serde_json::to_string(&a).unwrap(),
                    serde_json::to_string(&b).unwrap(),
                );
                assert_eq!(ja, jb, "{}: two plans differ", fx.name);
                for (i, c) in a.changes.iter().enumerate() {
                    for &d in &c.depends_on {
                        assert!(
                            d < i,
                            "{}: change {i} ({}) depends on {d}",
                            fx.name,
                            c.address
                        );
                    }
                }
            }
            (Err(a), Err(b)) => assert_eq!(
                harness::render_error(&a),
                harness::render_error(&b),
                "{}",
                fx.name
            ),
            _ => panic!("{}: one plan failed and the other did not", fx.name),
        }
    }
}

/// Known departures from the corpus-wide rules below, each reported to the library's
/// owners. A listed fixture must still break its rule (so a fix shows up here as a
/// failure that says to remove it from the list).
// Fixed: a VPC CIDR change on an adopted VPC (or one holding adopted resources) is a
// plan problem, not a replacement.
const DELETES_WHAT_LANDFALL_DID_NOT_CREATE: &[&str] = &[];
// Fixed: the removal pass leaves the old subnets of a replaced VPC to the replacement.
const REMOVES_AN_ADDRESS_TWICE: &[&str] = &[];
// Both fixed: a policy reset (`Some(None)`) and a diff to `null` read back as written.
const CHANGES_IN_A_SAVED_PLAN: &[&str] = &[];

fn check_rule(rule: &str, known: &[&str], broken: &BTreeSet<String>) {
    let known: BTreeSet<String> = known.iter().map(ToString::to_string).collect();
    let unexpected: Vec<_> = broken.difference(&known).collect();
    let fixed: Vec<_> = known.difference(broken).collect();
    assert!(unexpected.is_empty(), "{rule}: broken by {unexpected:?}");
    assert!(
        fixed.is_empty(),
        "{rule}: {fixed:?} no longer break it; remove them from the known list"
    );
}

/// Landfall deletes only what it created: a delete or close that calls AWS concerns a
/// resource the state says Landfall created, unless `prune_unmanaged` asked for it.
#[test]
fn fixtures_delete_only_what_landfall_created() {
    let mut broken = BTreeSet::new();
    for fx in all_fixtures() {
        let Ok(plan) = fx.plan() else { continue };
        let state = fx.current_state();
        for c in &plan.changes {
            let removes = matches!(c.action, Action::Delete | Action::Close)
                || (c.action == Action::Replace && c.id.is_some());
            if !removes || c.ops.is_empty() || c.reason.contains("prune_unmanaged") {
                continue;
            }
            if !state.resources.get(&c.address).is_some_and(|r| r.created) {
                broken.insert(fx.name.clone());
            }
        }
    }
    check_rule(
        "deletes only what Landfall created",
        DELETES_WHAT_LANDFALL_DID_NOT_CREATE,
        &broken,
    );
}

/// One plan never removes the same resource twice (two deletes, or a forget and a
/// delete of one address).
#[test]
fn fixtures_remove_each_address_at_most_once() {
    let mut broken = BTreeSet::new();
    for fx in all_fixtures() {
        let Ok(plan) = fx.plan() else { continue };
        let mut removed = BTreeSet::new();
        for c in &plan.changes {
            if matches!(c.record, Record::Remove) && !removed.insert(c.address.clone()) {
                broken.insert(fx.name.clone());
            }
        }
    }
    check_rule("removes an address once", REMOVES_AN_ADDRESS_TWICE, &broken);
}

/// A plan is self-contained (`plan --out`, then `apply` of the file): it reads back
/// from its JSON exactly as it was.
#[test]
fn fixture_plans_read_back_from_json_unchanged() {
    let mut broken = BTreeSet::new();
    for fx in all_fixtures() {
        let Ok(plan) = fx.plan() else { continue };
        let text = serde_json::to_string(&plan).unwrap();
        let back: Plan = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: the plan does not read back: {e}", fx.name));
        if back != plan {
            broken.insert(fx.name.clone());
        }
    }
    check_rule("a saved plan reads back", CHANGES_IN_A_SAVED_PLAN, &broken);
}

// ---- one fact per fixture, stated explicitly ----------------------------------------

fn plan_of(name: &str) -> Plan {
    load_fixture(name).ok_plan()
}

fn problems_of(name: &str) -> Vec<landfall_core::diff::PlanProblem> {
    match load_fixture(name).plan() {
        Err(PlanError::Problems(p)) => p,
        Err(e) => panic!("{name}: {e}"),
        Ok(_) => panic!("{name}: planned without problems"),
    }
}

fn change<'a>(plan: &'a Plan, address: &str) -> (usize, &'a landfall_core::plan::Change) {
    let address: Address = address.parse().unwrap();
    plan.changes
        .iter()
        .enumerate()
        .find(|(_, c)| c.address == address)
        .unwrap_or_else(|| panic!("no change to {address}"))
}

fn position(plan: &Plan, address: &str, action: Action) -> usize {
    let address: Address = address.parse().unwrap();
    plan.changes
        .iter()
        .position(|c| c.address == address && c.action == action)
        .unwrap_or_else(|| panic!("no {action:?} of {address}"))
}

fn ops_of(c: &landfall_core::plan::Change) -> Vec<String> {
    c.ops.iter().map(harness::op_name).collect()
}

fn upsert_created(c: &landfall_core::plan::Change) -> Option<bool> {
    match &c.record {
        Record::Upsert { created, .. } => Some(*created),
        Record::Remove => None,
    }
}

#[test]
fn steady_states_plan_nothing() {
    for name in [
        "org-steady-state-no-changes",
        "member-steady-state-no-changes",
    ] {
        let plan = plan_of(name);
        assert!(plan.is_empty(), "{name}: {:?}", plan.changes);
        assert!(plan.warnings.is_empty(), "{name}: {:?}", plan.warnings);
    }
}

#[test]
fn scp_formatting_is_not_a_change() {
    // The live document is pretty-printed; the declared one is a file with other
    // whitespace: nothing to update.
    let plan = plan_of("org-adopt-by-natural-key");
    let (_, c) = change(&plan, "scp.deny-leave-org");
    assert_eq!(c.action, Action::Adopt);
    assert!(c.ops.is_empty() && c.diffs.is_empty());
}

#[test]
fn ou_rename_outside_is_fixed_in_place() {
    let plan = plan_of("org-ou-renamed-outside-is-renamed-back-in-place");
    assert_eq!(plan.changes.len(), 1);
    let c = &plan.changes[0];
    assert_eq!(
        (c.action, c.id.as_deref()),
        (Action::Update, Some("ou-aaaa-22222222"))
    );
    assert_eq!(ops_of(c), ["rename_ou"]);
}

#[test]
fn an_ou_moved_to_another_parent_is_replaced_after_its_accounts_move() {
    let plan = plan_of("org-ou-moved-to-new-parent-is-replaced");
    let created = position(&plan, "ou.Workloads/Sandbox", Action::Replace);
    let moved = position(&plan, "account.sandbox-1", Action::Move);
    let deleted = position(&plan, "ou.Sandbox", Action::Delete);
    assert!(plan.changes[moved].depends_on.contains(&created));
    assert!(plan.changes[deleted].depends_on.contains(&moved));
    let detached = position(&plan, "attachment.FullAWSAccess:ou.Sandbox", Action::Delete);
    assert!(plan.changes[detached].ops.is_empty(), "removed with its OU");
    assert!(plan.changes[detached].depends_on.contains(&deleted));
}

#[test]
fn attach_runs_before_detach_on_the_same_target() {
    for (name, attach, detach) in [
        (
            "org-scp-swapped-on-target-attach-before-detach",
            "attachment.deny-leave-org:ou.Workloads",
            "attachment.deny-regions:ou.Workloads",
        ),
        (
            "org-full-aws-access-replaced-by-allow-list",
            "attachment.allow-ml-services:ou.Workloads",
            "attachment.FullAWSAccess:ou.Workloads",
        ),
    ] {
        let plan = plan_of(name);
        let a = position(&plan, attach, Action::Create);
        let d = position(&plan, detach, Action::Delete);
        assert!(plan.changes[d].depends_on.contains(&a), "{name}");
    }
}

#[test]
fn a_removed_scp_is_deleted_after_its_detaches() {
    let plan = plan_of("org-scp-removed-is-detached-then-deleted");
    let detach = position(&plan, "attachment.deny-regions:root", Action::Delete);
    let delete = position(&plan, "scp.deny-regions", Action::Delete);
    assert!(plan.changes[delete].depends_on.contains(&detach));
    // The attachment made outside Landfall is detached by the delete itself.
    assert_eq!(ops_of(&plan.changes[delete]), ["detach", "delete_policy"]);
}

#[test]
fn adopted_resources_are_forgotten_never_deleted() {
    for name in [
        "org-adopted-ou-removed-is-forgotten",
        "org-scp-adopted-removed-is-forgotten",
        "removal-account-adopted-with-allow-close-is-forgotten",
        "member-adopted-network-removed-is-forgotten",
    ] {
        let plan = plan_of(name);
        assert!(!plan.changes.is_empty(), "{name}");
        for c in &plan.changes {
            assert_eq!(c.action, Action::Forget, "{name}: {}", c.address);
            assert!(c.ops.is_empty(), "{name}: {}", c.address);
        }
    }
}

#[test]
fn accounts_are_closed_only_when_created_and_allowed() {
    let closed = |name: &str| -> Vec<String> {
        plan_of(name)
            .closes_accounts()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        closed("removal-account-created-with-allow-close-is-closed"),
        ["account.old-project"]
    );
    assert!(closed("removal-account-created-without-allow-close-is-forgotten").is_empty());
    assert!(closed("removal-account-adopted-with-allow-close-is-forgotten").is_empty());
    assert!(closed("project-removed-account-forgotten-key-deleted").is_empty());
    assert_eq!(
        closed("removal-accounts-quarantined-closed-or-forgotten"),
        ["account.old-b"]
    );
}

#[test]
fn quarantine_moves_the_account_into_the_quarantine_ou() {
    let plan = plan_of("removal-accounts-quarantined-closed-or-forgotten");
    let (_, c) = change(&plan, "account.old-a");
    assert_eq!(c.action, Action::Move);
    assert!(matches!(c.record, Record::Remove));
    let expected = Op::from(landfall_core::plan::OrganizationOp::MoveAccount {
        from: landfall_core::plan::Ref::Id("ou-aaaa-11111111".into()),
        to: landfall_core::plan::Ref::Id("ou-aaaa-55555555".into()),
    });
    assert_eq!(c.ops, [expected]);
}

#[test]
fn interrupted_creates_are_adopted_as_landfall_s_own() {
    let plan = plan_of("org-interrupted-apply-pending-creates-adopted-as-created");
    assert!(!plan.changes.is_empty());
    for c in &plan.changes {
        assert_eq!(c.action, Action::Adopt, "{}", c.address);
        assert_eq!(upsert_created(c), Some(true), "{}", c.address);
    }
    // FullAWSAccess that AWS attached to an OU Landfall created counts as Landfall's.
    let plan = plan_of("org-full-aws-access-of-created-ou-adopted-as-created");
    assert_eq!(upsert_created(&plan.changes[0]), Some(true));
    // Found by tag without a pending create: adopted, not Landfall's.
    let plan = plan_of("member-network-adopted-by-address-tag");
    assert!(
        plan.changes
            .iter()
            .all(|c| upsert_created(c) == Some(false))
    );
}

#[test]
fn plans_stop_on_problems_with_their_reason() {
    for (name, address, words) in [
        (
            "org-account-email-mismatch-is-a-problem",
            "account.ml-dev",
            "cannot change an account's root email",
        ),
        (
            "org-ou-deletion-blocked-by-accounts-is-a-problem",
            "ou.Sandbox",
            "is still in it",
        ),
        (
            "org-ou-deletion-blocked-by-child-ou-is-a-problem",
            "ou.Sandbox",
            "child OU `Experiments`",
        ),
        (
            "org-full-aws-access-missing-is-a-problem",
            "root",
            "FullAWSAccess policy was not found",
        ),
        (
            "member-subnet-az-change-is-a-problem",
            "subnet.ml-dev-use1.10.20.1.0/24",
            "availability zone",
        ),
        (
            "member-adopted-vpc-cidr-change-is-a-problem",
            "vpc.ml-dev-use1",
            "Landfall adopted this VPC",
        ),
        (
            "member-adopted-vpc-with-contents-landfall-created-cidr-change-is-a-problem",
            "vpc.ml-dev-use1",
            "Landfall adopted this VPC",
        ),
        (
            "member-vpc-cidr-change-with-adopted-endpoint-is-a-problem",
            "vpc.ml-dev-use1",
            "endpoint.ml-dev-use1.sts (vpce-0sts)",
        ),
        (
            "gov-portfolio-existing-id-missing-is-a-problem",
            "portfolio.shared-analytics",
            "does not exist",
        ),
        (
            "gov-governance-not-read-is-a-problem",
            "root",
            "was not read",
        ),
    ] {
        let problems = problems_of(name);
        assert!(
            problems
                .iter()
                .any(|p| p.address.to_string() == address && p.message.contains(words)),
            "{name}: {problems:?}"
        );
    }
    assert_eq!(
        problems_of("org-ou-deletion-blocked-by-accounts-is-a-problem").len(),
        2
    );
}

#[test]
fn prune_deletes_children_first_and_spares_ous_with_accounts() {
    let plan = plan_of("org-prune-unmanaged-detaches-and-deletes-empty-ous");
    let child = position(&plan, "ou.Workloads/Old/Older", Action::Delete);
    let parent = position(&plan, "ou.Workloads/Old", Action::Delete);
    assert!(plan.changes[parent].depends_on.contains(&child));
    let touched: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
    assert!(!touched.iter().any(|a| a.contains("Team")), "{touched:?}");
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("ou.Workloads/Team"))
    );
    // Without prune_unmanaged the same organization plans nothing.
    assert!(plan_of("org-unmanaged-left-alone-without-prune-and-reported-by-drift").is_empty());
}

#[test]
fn a_removed_network_goes_endpoints_first_vpc_last() {
    let plan = plan_of("member-network-removed-deleted-endpoints-first-vpc-last");
    let kinds: Vec<&str> = plan.changes.iter().map(|c| c.address.kind()).collect();
    assert_eq!(kinds.first(), Some(&"endpoint"));
    assert_eq!(kinds.last(), Some(&"vpc"));
    let vpc = plan.changes.len() - 1;
    assert_eq!(plan.changes[vpc].depends_on, (0..vpc).collect::<Vec<_>>());
}

#[test]
fn an_endpoint_service_change_is_a_replacement() {
    let plan = plan_of("member-endpoint-replaced-on-service-change");
    let actions: Vec<(String, Action)> = plan
        .changes
        .iter()
        .map(|c| (c.address.to_string(), c.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("endpoint.ml-dev-use1.ssm".to_string(), Action::Replace),
            ("endpoint.ml-dev-use1.sts".to_string(), Action::Delete),
        ]
    );
}

#[test]
fn member_changes_in_a_new_account_wait_for_it() {
    let plan = plan_of("member-network-and-key-in-account-created-by-the-same-plan");
    let account = position(&plan, "account.ml-dev", Action::Create);
    let account_ref = landfall_core::plan::Ref::Address("account.ml-dev".parse().unwrap());
    for c in plan.changes.iter().filter(|c| c.member.is_some()) {
        assert_eq!(c.member.as_ref().map(|m| &m.account), Some(&account_ref));
        assert!(c.depends_on.contains(&account), "{}", c.address);
    }
}

#[test]
fn a_failed_control_is_reset_before_it_is_updated() {
    let plan = plan_of("gov-control-failed-is-reset-then-updated");
    assert_eq!(
        ops_of(&plan.changes[0]),
        ["reset_enabled_control", "update_enabled_control"]
    );
    let plan = plan_of("gov-control-disabled-before-its-ou-is-deleted");
    let disable = position(
        &plan,
        "control.AWS-GR_RESTRICT_ROOT_USER:ou.Sandbox",
        Action::Delete,
    );
    let delete = position(&plan, "ou.Sandbox", Action::Delete);
    assert!(plan.changes[delete].depends_on.contains(&disable));
}

#[test]
fn account_factory_accounts_move_through_their_provisioned_product() {
    let plan = plan_of("gov-account-factory-move-updates-provisioned-product");
    assert_eq!(ops_of(&plan.changes[0]), ["update_provisioned_account"]);
    assert!(plan.warnings.is_empty());
    let plan = plan_of("gov-account-factory-move-of-unenrolled-account-warns");
    assert_eq!(ops_of(&plan.changes[0]), ["move_account"]);
    assert_eq!(plan.warnings.len(), 1);
    let plan = plan_of("gov-account-factory-provisions-new-account");
    assert_eq!(ops_of(&plan.changes[0]), ["provision_account"]);
}

#[test]
fn project_resources_carry_their_project() {
    let plan = plan_of("project-expands-into-changes-named-by-project");
    assert!(plan.changes.len() > 5);
    for c in &plan.changes {
        assert_eq!(c.project.as_deref(), Some("fraud"), "{}", c.address);
    }
}

#[test]
fn expectations_hold_or_fail_as_the_fixture_says() {
    use landfall_core::permissions::{Hierarchy, check_expectations};
    let passed = |name: &str| -> Vec<bool> {
        let fx = load_fixture(name);
        check_expectations(
            &fx.desired,
            &Hierarchy::from_desired(&fx.desired),
            Hierarchy::rcps_from_desired(&fx.desired).as_ref(),
            &Default::default(),
        )
        .iter()
        .map(|r| r.passed)
        .collect()
    };
    assert_eq!(
        passed("expect-deny-in-ou-and-allow-in-account-hold"),
        [true, true]
    );
    assert_eq!(
        passed("expect-fail-when-scp-is-attached-to-the-wrong-ou"),
        [false, false]
    );
    assert_eq!(
        passed("expect-no-allow-path-after-dropping-full-aws-access"),
        [false]
    );
}

#[test]
fn an_adopted_vpc_is_never_replaced_and_its_problem_hints_the_ways_out() {
    for name in [
        "member-adopted-vpc-cidr-change-is-a-problem",
        "member-adopted-vpc-with-contents-landfall-created-cidr-change-is-a-problem",
    ] {
        let problems = problems_of(name);
        assert_eq!(problems.len(), 1, "{name}: {problems:?}");
        let p = &problems[0];
        assert!(p.message.contains("deletes only what it created"), "{name}");
        let hint = p.hint.as_deref().unwrap_or_default();
        assert!(
            hint.contains("declare the live CIDR 10.20.0.0/16"),
            "{name}"
        );
        assert!(hint.contains("remove [network.ml-dev-use1]"), "{name}");
    }
    // The way out: with the network removed, what Landfall adopted is forgotten and what
    // it created inside is deleted (endpoints first).
    let plan = plan_of("member-adopted-vpc-removed-forgotten-what-landfall-created-in-it-deleted");
    for c in &plan.changes {
        let expected = match c.address.kind() {
            "vpc" | "subnet" => Action::Forget,
            _ => Action::Delete,
        };
        assert_eq!(c.action, expected, "{}", c.address);
    }
    let endpoint = position(&plan, "endpoint.ml-dev-use1.sts", Action::Delete);
    let group = position(&plan, "security_group.ml-dev-use1", Action::Delete);
    assert!(plan.changes[group].depends_on.contains(&endpoint));
}

#[test]
fn a_vpc_replacement_deletes_each_child_once_and_says_why_it_is_recreated() {
    for name in [
        "member-vpc-cidr-change-replaces-the-network",
        "member-vpc-cidr-narrowed-recreates-same-subnets-and-endpoint",
    ] {
        let plan = plan_of(name);
        let vpc = position(&plan, "vpc.ml-dev-use1", Action::Replace);
        for c in &plan.changes {
            match c.action {
                Action::Delete => {
                    assert_eq!(c.reason, "its VPC vpc.ml-dev-use1 is replaced", "{name}");
                    assert_eq!(c.ops.len(), 1, "{name}: {}", c.address);
                }
                Action::Create => {
                    assert!(
                        !c.reason.contains("outside Landfall"),
                        "{name}: {}",
                        c.address
                    );
                }
                Action::Replace => {}
                other => panic!("{name}: {other:?} of {}", c.address),
            }
        }
        assert_eq!(
            plan.changes[vpc].depends_on,
            (0..vpc).collect::<Vec<_>>(),
            "{name}: the VPC goes after everything in it"
        );
    }
    // The same addresses deleted and created again: the single endpoint is recreated
    // because its VPC is, not replaced for a service change.
    let plan = plan_of("member-vpc-cidr-narrowed-recreates-same-subnets-and-endpoint");
    let (_, endpoint) = change(&plan, "endpoint.ml-dev-use1.sts");
    assert_eq!(endpoint.action, Action::Delete);
    let created = position(&plan, "endpoint.ml-dev-use1.sts", Action::Create);
    assert_eq!(
        plan.changes[created].reason,
        "its VPC vpc.ml-dev-use1 is replaced: created again in the new VPC"
    );
    let created = position(&plan, "subnet.ml-dev-use1.10.20.1.0/24", Action::Create);
    assert!(
        plan.changes[created]
            .reason
            .contains("created again in the new VPC")
    );
}

// ---- `--target`: the selection over the corpus's plans -------------------------------

#[test]
fn targeting_an_account_keeps_its_ou_and_the_ou_s_parents() {
    let plan = plan_of("org-greenfield-creates-everything");
    let target: Address = "account.ml-dev".parse().unwrap();
    let (part, warnings) = landfall_core::target::select(plan, std::slice::from_ref(&target));
    assert!(warnings.is_empty(), "{warnings:?}");
    let kept: Vec<String> = part.changes.iter().map(|c| c.address.to_string()).collect();
    // The root's adoption too: the executor creates accounts relative to the root.
    assert_eq!(
        kept,
        ["root", "ou.Workloads", "ou.Workloads/Dev", "account.ml-dev"]
    );
    let deps: Vec<&[usize]> = part.changes.iter().map(|c| &c.depends_on[..]).collect();
    assert_eq!(deps, [&[][..], &[], &[1], &[2]]);
    assert_eq!(part.summary.create, 3);
    assert_eq!(part.summary.adopt, 1);
    assert_eq!(part.targets, [target]);
}

/// For every address of every fixture's plan: the targeted plan holds exactly that
/// address's changes and their dependencies (transitively) — and the root's adoption,
/// which the executor needs with any of them —, in the plan's order, each
/// `depends_on` re-indexed to the same changes; it reads back from its JSON with its
/// targets.
#[test]
fn targeting_any_address_of_any_fixture_plan_is_closed_ordered_and_reads_back() {
    let mut checked = 0;
    for fx in all_fixtures() {
        let Ok(plan) = fx.plan() else { continue };
        let addresses: BTreeSet<Address> = plan.changes.iter().map(|c| c.address.clone()).collect();
        for target in &addresses {
            let (part, warnings) =
                landfall_core::target::select(plan.clone(), std::slice::from_ref(target));
            assert!(warnings.is_empty(), "{}: {target}: {warnings:?}", fx.name);
            // The closure, computed here on its own.
            let mut needed = BTreeSet::new();
            let mut stack: Vec<usize> = (0..plan.changes.len())
                .filter(|&i| {
                    plan.changes[i].address == *target || plan.changes[i].address == Address::Root
                })
                .collect();
            while let Some(i) = stack.pop() {
                if needed.insert(i) {
                    stack.extend(&plan.changes[i].depends_on);
                }
            }
            let needed: Vec<usize> = needed.into_iter().collect();
            assert_eq!(part.changes.len(), needed.len(), "{}: {target}", fx.name);
            for (new, (c, &old)) in part.changes.iter().zip(&needed).enumerate() {
                let whole = &plan.changes[old];
                assert_eq!(
                    (&c.address, c.action, &c.reason, &c.ops),
                    (&whole.address, whole.action, &whole.reason, &whole.ops),
                    "{}: {target}: change {new} is not change {old} of the plan",
                    fx.name
                );
                let deps: Vec<usize> = c
                    .depends_on
                    .iter()
                    .map(|&d| {
                        assert!(d < new, "{}: {target}: {new} after {d}", fx.name);
                        needed[d]
                    })
                    .collect();
                assert_eq!(
                    deps, whole.depends_on,
                    "{}: {target}: change {new}",
                    fx.name
                );
            }
            assert_eq!(
                part.summary,
                landfall_core::plan::Summary::of(&part.changes),
                "{}",
                fx.name
            );
            let json = serde_json::to_string(&part).unwrap();
            assert!(json.contains("\"targets\":["), "{}", fx.name);
            let back: Plan = serde_json::from_str(&json).unwrap();
            assert_eq!(back, part, "{}: {target}", fx.name);
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} targeted plans checked");
}

// ---- [[import]] ---------------------------------------------------------------------

/// An import block's resource is adopted by the block's id, never recorded as created
/// (so never deleted), and the plan lists the blocks it applies.
#[test]
fn imports_are_adopted_by_their_id_and_recorded_as_not_created() {
    let key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
    for (fixture, imported) in [
        (
            "import-ou-account-scp-adopted-by-id",
            &[
                ("ou.Workloads", "ou-aaaa-11111111"),
                ("account.ml-dev", "222222222222"),
                ("scp.deny-leave-org", "p-aaaa1111"),
            ][..],
        ),
        (
            "import-vpc-and-key-adopted-by-id",
            &[
                ("vpc.ml-dev-use1", "vpc-0a1b2c3d4e5f60718"),
                ("kms_key.ml-dev", key_id),
            ],
        ),
    ] {
        let plan = plan_of(fixture);
        assert_eq!(plan.imports.len(), imported.len(), "{fixture}");
        for (address, id) in imported {
            let (_, c) = change(&plan, address);
            assert_eq!(c.action, Action::Adopt, "{fixture}: {address}");
            assert_eq!(c.id.as_deref(), Some(*id), "{fixture}: {address}");
            assert_eq!(upsert_created(c), Some(false), "{fixture}: {address}");
            assert!(c.reason.contains("[[import]]"), "{fixture}: {}", c.reason);
        }
    }
    // The OU live under another name is renamed in place; the account is moved.
    let plan = plan_of("import-ou-account-scp-adopted-by-id");
    assert_eq!(ops_of(change(&plan, "ou.Workloads").1), ["rename_ou"]);
    assert!(ops_of(change(&plan, "account.ml-dev").1).contains(&"move_account".to_string()));
    // Landfall's address tag is not added to an imported VPC or key.
    let plan = plan_of("import-vpc-and-key-adopted-by-id");
    for address in ["vpc.ml-dev-use1", "kms_key.ml-dev"] {
        let ops = serde_json::to_string(&change(&plan, address).1.ops).unwrap();
        assert!(!ops.contains("landfall:address"), "{address}: {ops}");
    }
}

/// Each block that cannot be applied is a problem at its `to`, naming its id.
#[test]
fn imports_that_cannot_be_applied_are_problems_naming_the_block() {
    for (fixture, expected) in [
        (
            "import-missing-ids-are-problems",
            &["ou.Workloads", "vpc.ml-dev-use1"][..],
        ),
        (
            "import-ids-of-another-kind-or-place-are-problems",
            &[
                "account.ml-prod",
                "scp.allow-all",
                "vpc.ml-dev-use1",
                "kms_key.ml-dev",
            ],
        ),
        (
            "import-conflicting-with-the-state-is-a-problem",
            &["scp.deny-leave-org", "account.ml-dev"],
        ),
        (
            "import-ou-under-another-parent-is-a-problem",
            &["ou.Workloads/Dev"],
        ),
        (
            "import-id-matched-by-another-declaration-is-a-problem",
            &["ou.Platform"],
        ),
    ] {
        let problems = problems_of(fixture);
        let addresses: Vec<String> = problems.iter().map(|p| p.address.to_string()).collect();
        assert_eq!(addresses, expected, "{fixture}");
        for p in &problems {
            assert!(
                p.message.starts_with("[[import]] id = \""),
                "{fixture}: {}",
                p.message
            );
            assert!(p.hint.is_some(), "{fixture}: {}", p.message);
        }
    }
    let plan = plan_of("import-already-imported-is-a-warning");
    assert!(plan.is_empty());
    assert!(plan.warnings[0].contains("already imported; the block can be removed"));
}
