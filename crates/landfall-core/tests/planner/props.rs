//! Property tests over random organizations: an OU tree, accounts in OUs and SCPs
//! attached to targets, written as TOML and loaded through `landfall_config`, so every
//! desired state is one validation accepts (implicit `FullAWSAccess` attachments
//! included). The live organization and the state file are built from another random
//! organization, then changed the ways the world changes out of band.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use landfall_core::address::{Address, FULL_AWS_ACCESS};
use landfall_core::diff::compute_plan;
use landfall_core::drift;
use landfall_core::live::{AccountStatus, LiveAccount, LiveOu, LivePolicy, LiveState};
use landfall_core::model::DesiredState;
use landfall_core::plan::{Action, Plan, StateRef};
use landfall_core::state::StateFile;
use proptest::prelude::*;

use super::harness::{state_from_plan, world};

const OU_NAMES: &[&str] = &["Security", "Workloads", "Dev", "Prod", "Sandbox", "Shared"];
const ACCOUNT_NAMES: &[&str] = &[
    "log-archive",
    "audit",
    "ml-dev",
    "ml-prod",
    "sandbox-1",
    "shared",
    "data-lake",
];
const SCP_NAMES: &[&str] = &["deny-leave-org", "deny-regions", "deny-root-user", "guard"];
const SCP_CONTENTS: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"Regions","Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","us-west-2"]}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:root"}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
];
const TAG_VALUES: &[&str] = &["platform", "ml", "security"];

/// A random organization, as choices the TOML writer resolves (so every choice is
/// valid whatever the others are).
#[derive(Clone, Debug)]
struct OrgSpec {
    /// (parent choice, name, tag choice): parent 0 is the root, k the k-th OU before.
    ous: Vec<(usize, usize, usize)>,
    /// (name, OU choice (0: root), allow_close, tag choice, email variant).
    accounts: Vec<(usize, usize, bool, usize, bool)>,
    /// (name, content, target choices (0: root, then OUs, then accounts)).
    scps: Vec<(usize, usize, Vec<usize>)>,
    /// OUs (by choice) that do without FullAWSAccess when another SCP covers them.
    no_full_access: Vec<usize>,
    prune: bool,
    quarantine: bool,
}

fn org_spec() -> impl Strategy<Value = OrgSpec> {
    (
        prop::collection::vec((0usize..6, 0..OU_NAMES.len(), 0usize..4), 0..6),
        prop::collection::vec(
            (
                0..ACCOUNT_NAMES.len(),
                0usize..7,
                any::<bool>(),
                0usize..4,
                prop::bool::weighted(0.04),
            ),
            0..6,
        ),
        prop::collection::vec(
            (
                0..SCP_NAMES.len(),
                0..SCP_CONTENTS.len(),
                prop::collection::vec(0usize..13, 0..3),
            ),
            0..4,
        ),
        prop::collection::vec(0usize..6, 0..2),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(ous, accounts, scps, no_full_access, prune, quarantine)| OrgSpec {
                ous,
                accounts,
                scps,
                no_full_access,
                prune,
                quarantine,
            },
        )
}

fn pick<T: Clone>(items: &[T], choice: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[choice % items.len()].clone())
}

/// The TOML of an organization.
fn to_toml(spec: &OrgSpec) -> String {
    let mut paths: Vec<String> = Vec::new();
    let mut tags: Vec<usize> = Vec::new();
    for &(parent, name, tag) in &spec.ous {
        let parent = parent % (paths.len() + 1);
        let path = if parent == 0 {
            OU_NAMES[name].to_string()
        } else {
            let p = &paths[parent - 1];
            if p.split('/').count() >= 5 {
                continue;
            }
            format!("{p}/{}", OU_NAMES[name])
        };
        if !paths.contains(&path) {
            paths.push(path);
            tags.push(tag);
        }
    }
    let mut accounts: Vec<(String, Option<String>, bool, usize, bool)> = Vec::new();
    for &(name, ou, allow_close, tag, variant) in &spec.accounts {
        let name = ACCOUNT_NAMES[name].to_string();
        if accounts.iter().any(|a| a.0 == name) {
            continue;
        }
        let ou = if ou == 0 { None } else { pick(&paths, ou - 1) };
        accounts.push((name, ou, allow_close, tag, variant));
    }
    let mut targets_text: Vec<String> = vec!["root".into()];
    targets_text.extend(paths.iter().map(|p| format!("ou:{p}")));
    targets_text.extend(accounts.iter().map(|a| format!("account:{}", a.0)));
    let mut scps: Vec<(String, usize, BTreeSet<String>)> = Vec::new();
    for (name, content, targets) in &spec.scps {
        let name = SCP_NAMES[*name].to_string();
        if scps.iter().any(|s| s.0 == name) {
            continue;
        }
        let targets: BTreeSet<String> = targets
            .iter()
            .filter_map(|&t| pick(&targets_text, t))
            .collect();
        scps.push((name, *content, targets));
    }
    let covered: BTreeSet<&String> = scps.iter().flat_map(|s| s.2.iter()).collect();
    let no_full: BTreeSet<String> = spec
        .no_full_access
        .iter()
        .filter_map(|&c| pick(&paths, c))
        .filter(|p| covered.contains(&format!("ou:{p}")))
        .collect();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "[landing_zone]\nname = \"prop\"\nhome_region = \"us-east-1\"\nprune_unmanaged = {}",
        spec.prune
    );
    if spec.quarantine
        && let Some(first) = paths.first()
    {
        let _ = writeln!(
            out,
            "[landing_zone.account_removal]\nmode = \"quarantine\"\nou = \"{first}\""
        );
    }
    for (path, tag) in paths.iter().zip(&tags) {
        let _ = writeln!(out, "[ou.\"{path}\"]");
        if let Some(v) = TAG_VALUES.get(*tag) {
            let _ = writeln!(out, "tags = {{ owner = \"{v}\" }}");
        }
        if no_full.contains(path) {
            let _ = writeln!(out, "full_aws_access = false");
        }
    }
    for (name, ou, allow_close, tag, variant) in &accounts {
        let _ = writeln!(out, "[account.{name}]");
        let suffix = if *variant { "-2" } else { "" };
        let _ = writeln!(out, "email = \"aws+{name}{suffix}@example.com\"");
        if let Some(ou) = ou {
            let _ = writeln!(out, "ou = \"{ou}\"");
        }
        if *allow_close {
            let _ = writeln!(out, "allow_close = true");
        }
        if let Some(v) = TAG_VALUES.get(*tag) {
            let _ = writeln!(out, "tags = {{ project = \"{v}\" }}");
        }
    }
    for (name, content, targets) in &scps {
        let _ = writeln!(out, "[scp.{name}]");
        let _ = writeln!(out, "content = '''{}'''", SCP_CONTENTS[*content]);
        let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let _ = writeln!(out, "targets = [{}]", list.join(", "));
    }
    out
}

fn load(spec: &OrgSpec) -> DesiredState {
    let text = to_toml(spec);
    match landfall_config::load_sources(
        vec![("prop.toml".into(), text.clone())],
        std::path::Path::new("."),
    ) {
        Ok(l) => l.desired,
        Err(d) => panic!(
            "the generator wrote an invalid file:\n{text}\n{}",
            d.render(false)
        ),
    }
}

const MANAGEMENT: &str = "999999999999";

/// A live organization that is exactly `desired`.
fn live_from(desired: &DesiredState) -> LiveState {
    let mut ids: BTreeMap<Address, String> = BTreeMap::new();
    let mut live = LiveState {
        root_id: "r-root".into(),
        management_account_id: MANAGEMENT.into(),
        ..LiveState::default()
    };
    ids.insert(Address::Root, live.root_id.clone());
    live.accounts.insert(
        MANAGEMENT.into(),
        LiveAccount {
            id: MANAGEMENT.into(),
            name: "management".into(),
            email: "aws+management@example.com".into(),
            parent_id: live.root_id.clone(),
            tags: Default::default(),
            status: AccountStatus::Active,
        },
    );
    live.policies.insert(
        "p-FullAWSAccess".into(),
        LivePolicy {
            id: "p-FullAWSAccess".into(),
            name: FULL_AWS_ACCESS.into(),
            description: "Allows access to every operation".into(),
            content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into(),
            tags: Default::default(),
            aws_managed: true,
        },
    );
    // BTreeMap order: parents before children.
    for (i, (path, spec)) in desired.ous.iter().enumerate() {
        let id = format!("ou-prop-{i:08}");
        let parent_id = match path.parent() {
            None => live.root_id.clone(),
            Some(p) => ids[&Address::Ou(p)].clone(),
        };
        live.ous.insert(
            id.clone(),
            LiveOu {
                id: id.clone(),
                name: path.name().into(),
                parent_id,
                tags: spec.tags.clone(),
            },
        );
        ids.insert(Address::Ou(path.clone()), id);
    }
    for (i, (name, spec)) in desired.accounts.iter().enumerate() {
        let id = format!("{:012}", 100_000_000_000u64 + i as u64);
        let parent_id = match &spec.ou {
            None => live.root_id.clone(),
            Some(p) => ids[&Address::Ou(p.clone())].clone(),
        };
        live.accounts.insert(
            id.clone(),
            LiveAccount {
                id: id.clone(),
                name: name.clone(),
                email: spec.email.clone(),
                parent_id,
                tags: spec.tags.clone(),
                status: AccountStatus::Active,
            },
        );
        ids.insert(Address::Account(name.clone()), id);
    }
    for (i, (name, spec)) in desired.policies.iter().enumerate() {
        let id = format!("p-prop{i:04}");
        live.policies.insert(
            id.clone(),
            LivePolicy {
                id: id.clone(),
                name: name.clone(),
                description: spec.description.clone(),
                content: spec.content.clone(),
                tags: spec.tags.clone(),
                aws_managed: false,
            },
        );
        ids.insert(Address::Scp(name.clone()), id);
    }
    for att in &desired.attachments {
        let policy_id = if att.policy == FULL_AWS_ACCESS {
            "p-FullAWSAccess".to_string()
        } else {
            ids[&Address::Scp(att.policy.clone())].clone()
        };
        let target_id = ids[&att.target.address()].clone();
        live.attachments.insert((policy_id, target_id));
    }
    live
}

/// What happens to an organization out of band.
#[derive(Clone, Debug)]
enum Perturb {
    DropAttachment(usize),
    AddAttachment(usize, usize),
    RenameOu(usize),
    AddOu(usize, usize),
    DeleteEmptyOu(usize),
    MoveAccount(usize, usize),
    RemoveAccount(usize),
    SuspendAccount(usize),
    RetagAccount(usize),
    EditPolicy(usize),
}

fn perturb() -> impl Strategy<Value = Perturb> {
    prop_oneof![
        any::<usize>().prop_map(Perturb::DropAttachment),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Perturb::AddAttachment(a, b)),
        any::<usize>().prop_map(Perturb::RenameOu),
        (any::<usize>(), 0..OU_NAMES.len()).prop_map(|(a, b)| Perturb::AddOu(a, b)),
        any::<usize>().prop_map(Perturb::DeleteEmptyOu),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Perturb::MoveAccount(a, b)),
        any::<usize>().prop_map(Perturb::RemoveAccount),
        any::<usize>().prop_map(Perturb::SuspendAccount),
        any::<usize>().prop_map(Perturb::RetagAccount),
        any::<usize>().prop_map(Perturb::EditPolicy),
    ]
}

fn apply_perturbation(live: &mut LiveState, p: &Perturb, n: usize) {
    let ou_ids: Vec<String> = live.ous.keys().cloned().collect();
    let account_ids: Vec<String> = live
        .accounts
        .keys()
        .filter(|a| *a != MANAGEMENT)
        .cloned()
        .collect();
    let policy_ids: Vec<String> = live.policies.keys().cloned().collect();
    let mut targets = vec![live.root_id.clone()];
    targets.extend(ou_ids.iter().cloned());
    targets.extend(account_ids.iter().cloned());
    match *p {
        Perturb::DropAttachment(i) => {
            let list: Vec<_> = live.attachments.iter().cloned().collect();
            if let Some(a) = pick(&list, i) {
                live.attachments.remove(&a);
            }
        }
        Perturb::AddAttachment(p, t) => {
            if let (Some(p), Some(t)) = (pick(&policy_ids, p), pick(&targets, t)) {
                live.attachments.insert((p, t));
            }
        }
        Perturb::RenameOu(i) => {
            if let Some(id) = pick(&ou_ids, i)
                && let Some(ou) = live.ous.get_mut(&id)
            {
                ou.name = format!("{}-renamed", ou.name);
            }
        }
        Perturb::AddOu(parent, name) => {
            let mut parents = vec![live.root_id.clone()];
            parents.extend(ou_ids.iter().cloned());
            let id = format!("ou-oob-{n:08}");
            if let Some(parent_id) = pick(&parents, parent) {
                live.ous.insert(
                    id.clone(),
                    LiveOu {
                        id,
                        name: OU_NAMES[name].into(),
                        parent_id,
                        tags: Default::default(),
                    },
                );
            }
        }
        Perturb::DeleteEmptyOu(i) => {
            if let Some(id) = pick(&ou_ids, i) {
                let empty = !live.ous.values().any(|o| o.parent_id == id)
                    && !live.accounts.values().any(|a| a.parent_id == id);
                if empty {
                    live.ous.remove(&id);
                    live.attachments.retain(|(_, t)| *t != id);
                }
            }
        }
        Perturb::MoveAccount(a, to) => {
            let mut parents = vec![live.root_id.clone()];
            parents.extend(ou_ids.iter().cloned());
            if let (Some(a), Some(to)) = (pick(&account_ids, a), pick(&parents, to))
                && let Some(acct) = live.accounts.get_mut(&a)
            {
                acct.parent_id = to;
            }
        }
        Perturb::RemoveAccount(a) => {
            if let Some(a) = pick(&account_ids, a) {
                live.accounts.remove(&a);
                live.attachments.retain(|(_, t)| *t != a);
            }
        }
        Perturb::SuspendAccount(a) => {
            if let Some(a) = pick(&account_ids, a)
                && let Some(acct) = live.accounts.get_mut(&a)
            {
                acct.status = AccountStatus::Suspended;
            }
        }
        Perturb::RetagAccount(a) => {
            if let Some(a) = pick(&account_ids, a)
                && let Some(acct) = live.accounts.get_mut(&a)
            {
                acct.tags.insert("changed".into(), "by-hand".into());
            }
        }
        Perturb::EditPolicy(i) => {
            if let Some(id) = pick(&policy_ids, i)
                && let Some(p) = live.policies.get_mut(&id)
                && !p.aws_managed
            {
                p.content = SCP_CONTENTS[0].into();
                p.description = "edited by hand".into();
            }
        }
    }
}

/// The state an apply of `previous` left against `live` (before anything changed out
/// of band): every resource recorded with its id and attributes, as recording the
/// adoptions of a first plan would; `created` flags and pending creates chosen by the
/// caller.
fn state_after(
    previous: &DesiredState,
    live: &LiveState,
    created: &[bool],
    pending: &[Address],
) -> StateFile {
    let fresh = StateFile::new("prop", world());
    let adoptions = match plan(previous, live, &fresh) {
        Ok(p) => p,
        Err(e) => panic!("planning an organization against itself failed: {e}"),
    };
    let mut state = state_from_plan(&adoptions, &fresh);
    state.serial = 7;
    for (i, (address, rec)) in state.resources.iter_mut().enumerate() {
        rec.created = *address != Address::Root && created[i % created.len()];
    }
    for a in pending {
        if !state.resources.contains_key(a) {
            state.pending_creates.insert(a.clone());
        }
    }
    state
}

fn plan(desired: &DesiredState, live: &LiveState, state: &StateFile) -> Result<Plan, String> {
    let state_ref = StateRef {
        lineage: Some(state.lineage),
        serial: state.serial,
    };
    compute_plan(desired, live, state, state_ref, &world())
        .map_err(|e| super::harness::render_error(&e))
}

/// Modest by default (the whole binary runs in seconds); `PROPTEST_CASES=5000` for a
/// longer search.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

fn check_order(plan: &Plan) -> Result<(), TestCaseError> {
    for (i, c) in plan.changes.iter().enumerate() {
        for &d in &c.depends_on {
            prop_assert!(
                d < i,
                "change {i} ({} {}) depends on {d}",
                c.action.verb(),
                c.address
            );
        }
        let mut sorted = c.depends_on.clone();
        sorted.dedup();
        prop_assert_eq!(&sorted, &c.depends_on);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Any desired organization against any live one and any state: the planner does
    /// not panic, lists every change after the changes it depends on, gives the same
    /// bytes twice, and (without `prune_unmanaged`) deletes or closes only what the
    /// state says Landfall created.
    #[test]
    fn random_plans_are_ordered_deterministic_and_delete_only_what_landfall_created(
        desired in org_spec(),
        previous in org_spec(),
        perturbations in prop::collection::vec(perturb(), 0..5),
        created in prop::collection::vec(any::<bool>(), 1..8),
        pending in prop::collection::vec(any::<usize>(), 0..3),
    ) {
        let desired = load(&desired);
        let previous = load(&previous);
        let mut live = live_from(&previous);
        let declared: Vec<Address> = desired.addresses().into_iter().collect();
        let pending: Vec<Address> = pending.iter().filter_map(|&i| pick(&declared, i)).collect();
        let state = state_after(&previous, &live, &created, &pending);
        for (n, p) in perturbations.iter().enumerate() {
            apply_perturbation(&mut live, p, n);
        }

        let first = plan(&desired, &live, &state);
        let second = plan(&desired, &live, &state);
        match (&first, &second) {
            (Ok(a), Ok(b)) => prop_assert_eq!(
                serde_json::to_string_pretty(a).unwrap(),
                serde_json::to_string_pretty(b).unwrap()
            ),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            _ => prop_assert!(false, "one plan failed, the other did not"),
        }
        if let Ok(plan) = first {
            check_order(&plan)?;
            if !desired.landing_zone.prune_unmanaged {
                for c in &plan.changes {
                    if matches!(c.action, Action::Delete | Action::Close) && !c.ops.is_empty() {
                        let rec = state.resources.get(&c.address);
                        prop_assert!(
                            rec.is_some_and(|r| r.created),
                            "{} {} ({}) but Landfall did not create it",
                            c.action.verb(), c.address, c.reason
                        );
                    }
                }
            }
            let counted = landfall_core::plan::Summary::of(&plan.changes);
            prop_assert_eq!(counted, plan.summary);
        }
    }

    /// A live organization that already is the desired one: with no state the plan
    /// only adopts (every declared resource, nothing else); once the state records
    /// those adoptions the plan is empty and drift finds nothing.
    #[test]
    fn a_live_organization_equal_to_the_desired_one_is_adopted_then_left_alone(
        spec in org_spec(),
    ) {
        let desired = load(&spec);
        let live = live_from(&desired);
        let fresh = StateFile::new("prop", world());
        let first = plan(&desired, &live, &fresh).map_err(TestCaseError::fail)?;
        check_order(&first)?;
        for c in &first.changes {
            prop_assert_eq!(c.action, Action::Adopt, "{} ({})", c.address, c.reason);
            prop_assert!(c.ops.is_empty(), "{} adopts with operations", c.address);
        }
        let adopted: BTreeSet<Address> = first.changes.iter().map(|c| c.address.clone()).collect();
        prop_assert_eq!(adopted, desired.addresses());

        let state = state_from_plan(&first, &fresh);
        let second = plan(&desired, &live, &state).map_err(TestCaseError::fail)?;
        prop_assert!(
            second.changes.is_empty(),
            "after recording the adoptions: {:?}",
            second.changes.iter().map(|c| format!("{} {}", c.action.verb(), c.address)).collect::<Vec<_>>()
        );
        let report = drift::detect(&desired, &live, Some(&state), &world());
        prop_assert!(
            report.findings.is_empty(),
            "drift: {:?}",
            report.findings.iter().map(|f| format!("{} {}", f.class.name(), f.address)).collect::<Vec<_>>()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// `landfall state rm` (`state_edit::remove`, recursive) of any records of an
    /// applied organization touches nothing live through the next plan: with the
    /// declarations kept, the plan adopts exactly what was removed and does nothing
    /// else; against any other desired organization (declarations removed or changed
    /// too), it never deletes, closes or replaces a removed address (`prune_unmanaged`
    /// aside: it prunes what is unmanaged in its scope by design).
    #[test]
    fn state_rm_then_plan_adopts_or_leaves_alone_and_never_deletes(
        spec in org_spec(),
        other in org_spec(),
        created in prop::collection::vec(any::<bool>(), 1..8),
        picks in prop::collection::vec(any::<usize>(), 1..4),
    ) {
        let desired = load(&spec);
        let live = live_from(&desired);
        let state = state_after(&desired, &live, &created, &[]);
        let recorded: Vec<Address> = state.resources.keys().cloned().collect();
        let chosen: Vec<Address> = picks.iter().filter_map(|&i| pick(&recorded, i)).collect();
        let (edited, removed) = landfall_core::state_edit::remove(&state, &chosen, true)
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let removed: BTreeSet<Address> = removed.into_iter().map(|r| r.address).collect();
        for a in &chosen {
            prop_assert!(removed.contains(a), "{} was not removed", a);
        }

        let next = plan(&desired, &live, &edited).map_err(TestCaseError::fail)?;
        check_order(&next)?;
        for c in &next.changes {
            prop_assert_eq!(c.action, Action::Adopt, "{} ({})", c.address, c.reason);
            prop_assert!(c.ops.is_empty(), "{} adopts with operations", c.address);
        }
        let adopted: BTreeSet<Address> = next.changes.iter().map(|c| c.address.clone()).collect();
        prop_assert_eq!(&adopted, &removed);

        let other = load(&other);
        if !other.landing_zone.prune_unmanaged
            && let Ok(next) = plan(&other, &live, &edited)
        {
            let destructive = |c: &&landfall_core::plan::Change| {
                matches!(c.action, Action::Delete | Action::Close | Action::Replace)
            };
            // Nor does removing records make the plan destroy anything it would not
            // have destroyed with them (when it could plan with them: a removed OU
            // is no longer one the plan must, and cannot, delete).
            let before: Option<BTreeSet<Address>> = plan(&other, &live, &state).ok().map(|p| {
                p.changes
                    .iter()
                    .filter(destructive)
                    .map(|c| c.address.clone())
                    .collect()
            });
            for c in next.changes.iter().filter(destructive) {
                // Nor anything written in terms of one (an attachment of a removed
                // SCP, a child OU of a removed OU): those went with it. A replacement
                // is addressed where the new resource goes, whose parent may well be a
                // removed (and so adopted) OU; what it destroys is the old one, a
                // change of its own.
                prop_assert!(
                    c.action == Action::Replace
                        || !c.address.names().iter().any(|n| removed.contains(n)),
                    "{} {} ({}) names a removed address",
                    c.action.verb(), c.address, c.reason
                );
                prop_assert!(
                    !removed.contains(&c.address),
                    "{} {} ({}) after it was removed from the state",
                    c.action.verb(), c.address, c.reason
                );
                prop_assert!(
                    before.as_ref().is_none_or(|b| b.contains(&c.address)),
                    "{} {} ({}) only after the removal of {:?}",
                    c.action.verb(), c.address, c.reason, removed
                );
            }
        }
    }
}
