//! Loading a planner fixture and rendering what the pure core makes of it: the plan
//! (or the plan's problems), drift findings and the SCP permission checks.
//!
//! A fixture is a directory under `tests/fixtures/`:
//!
//! - `landfall.toml` (+ `policies/*.json`): the desired state. Its first comment line
//!   says what the fixture demonstrates; it heads the snapshot.
//! - `live.json`: a serialized [`LiveState`].
//! - `state.json` (optional): a serialized [`StateFile`]; without it the plan is made
//!   against `StateFile::new(..)`, as the CLI does before the first apply.
//! - `fixture.toml` (optional): `drift = true` also snapshots `drift::detect`;
//!   `permissions = true` snapshots the SCP checks even without `[[expect]]`.
//!
//! Only `landfall.toml` is loaded (a directory load would read `fixture.toml` too).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use landfall_core::diff::{PlanError, compute_plan};
use landfall_core::drift;
use landfall_core::live::{LiveIndex, LiveState, WorldIdentity};
use landfall_core::model::{DesiredState, ExpectScope, ExpectedDecision};
use landfall_core::permissions::{self, Hierarchy};
use landfall_core::plan::{Change, Op, Plan, Record, Ref, StateRef};
use landfall_core::state::StateFile;

/// The world every fixture's live state and state file belong to.
pub fn world() -> WorldIdentity {
    WorldIdentity {
        backend: "sim".into(),
        id: "sim-fixtures".into(),
    }
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn snapshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// Every fixture directory, sorted by name.
pub fn fixture_names() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    out.sort();
    out
}

#[derive(Debug, Default)]
pub struct Options {
    pub drift: bool,
    pub permissions: bool,
}

pub struct Fixture {
    pub name: String,
    /// The first comment line of `landfall.toml`.
    pub description: String,
    pub options: Options,
    pub desired: DesiredState,
    /// Warnings the loader reported (one line each).
    pub load_warnings: Vec<String>,
    pub live: LiveState,
    /// `state.json`, when the fixture has one.
    pub state: Option<StateFile>,
}

impl Fixture {
    /// The state the plan is made against (a fresh one when there is no `state.json`).
    pub fn current_state(&self) -> StateFile {
        self.state
            .clone()
            .unwrap_or_else(|| StateFile::new(&self.desired.landing_zone.name, world()))
    }

    /// What the CLI passes as the plan's state reference.
    pub fn state_ref(&self) -> StateRef {
        StateRef {
            lineage: self.state.as_ref().map(|s| s.lineage),
            serial: self.state.as_ref().map_or(0, |s| s.serial),
        }
    }

    pub fn plan(&self) -> Result<Plan, PlanError> {
        compute_plan(
            &self.desired,
            &self.live,
            &self.current_state(),
            self.state_ref(),
            &world(),
        )
    }

    /// The plan, which the fixture expects to succeed.
    pub fn ok_plan(&self) -> Plan {
        match self.plan() {
            Ok(p) => p,
            Err(e) => panic!("{}: the plan failed: {}", self.name, render_error(&e)),
        }
    }
}

fn parse_options(path: &Path) -> Options {
    let mut options = Options::default();
    let Ok(text) = std::fs::read_to_string(path) else {
        return options;
    };
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{}: `{line}` is not `key = value`", path.display()));
        let value = match value.trim() {
            "true" => true,
            "false" => false,
            other => panic!("{}: `{other}` is not a bool", path.display()),
        };
        match key.trim() {
            "drift" => options.drift = value,
            "permissions" => options.permissions = value,
            other => panic!("{}: unknown option `{other}`", path.display()),
        }
    }
    options
}

pub fn load_fixture(name: &str) -> Fixture {
    let dir = fixtures_dir().join(name);
    let toml = dir.join("landfall.toml");
    let text = std::fs::read_to_string(&toml).unwrap_or_else(|e| panic!("{}: {e}", toml.display()));
    let description = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix('#'))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| {
            panic!("{name}: landfall.toml must start with a `# what it shows` line")
        });
    let loaded = match landfall_config::load(&toml) {
        Ok(l) => l,
        Err(d) => panic!("{name}: landfall.toml does not load:\n{}", d.render(false)),
    };
    let load_warnings = loaded
        .warnings
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    let live_path = dir.join("live.json");
    let live_text = std::fs::read_to_string(&live_path)
        .unwrap_or_else(|e| panic!("{}: {e}", live_path.display()));
    let live: LiveState = serde_json::from_str(&live_text)
        .unwrap_or_else(|e| panic!("{}: not a LiveState: {e}", live_path.display()));
    let state_path = dir.join("state.json");
    let state = state_path.exists().then(|| {
        let text = std::fs::read_to_string(&state_path).unwrap();
        let state: StateFile = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a StateFile: {e}", state_path.display()));
        assert_eq!(
            state.world,
            world(),
            "{name}: state.json is for another world"
        );
        assert_eq!(
            state.landing_zone, loaded.desired.landing_zone.name,
            "{name}: state.json is for another landing zone"
        );
        state
    });
    Fixture {
        name: name.to_string(),
        description,
        options: parse_options(&dir.join("fixture.toml")),
        desired: loaded.desired,
        load_warnings,
        live,
        state,
    }
}

/// The `op` tag of an operation (`create_ou`, `move_account`, ...).
pub fn op_name(op: &Op) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.get("op").and_then(|o| o.as_str()).map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn ref_text(r: &Ref) -> String {
    match r {
        Ref::Id(id) => id.clone(),
        Ref::Address(a) => format!("<{a}>"),
    }
}

/// One line per change: index, symbol, address, where, reason, ops, dependencies.
pub fn change_line(i: usize, c: &Change) -> String {
    let mut line = format!("{i:>2} {:<3} {}", c.action.symbol(), c.address);
    if let Some(id) = &c.id {
        let _ = write!(line, " ({id})");
    }
    if let Some(m) = &c.member {
        let _ = write!(line, " in {}/{}", ref_text(&m.account), m.region);
    }
    if let Some(p) = &c.project {
        let _ = write!(line, " [project.{p}]");
    }
    let _ = write!(line, "\n      why: {}", c.reason);
    if !c.ops.is_empty() {
        let ops: Vec<String> = c.ops.iter().map(op_name).collect();
        let _ = write!(line, "\n      ops: {}", ops.join(", "));
    }
    match &c.record {
        Record::Upsert { created, .. } => {
            let _ = write!(line, "\n      record: upsert (created: {created})");
        }
        Record::Remove => line.push_str("\n      record: remove"),
    }
    if !c.depends_on.is_empty() {
        let deps: Vec<String> = c.depends_on.iter().map(ToString::to_string).collect();
        let _ = write!(line, "\n      after: {}", deps.join(", "));
    }
    line
}

pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    let s = &plan.summary;
    let _ = writeln!(
        out,
        "summary: create {}, adopt {}, update {}, replace {}, move {}, delete {}, close {}, forget {}",
        s.create, s.adopt, s.update, s.replace, s.moves, s.delete, s.close, s.forget
    );
    if plan.changes.is_empty() {
        out.push_str("(no changes)\n");
    }
    for (i, c) in plan.changes.iter().enumerate() {
        out.push_str(&change_line(i, c));
        out.push('\n');
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    for t in &plan.tag_policy_changes {
        let _ = writeln!(
            out,
            "effective tag policy of account.{}:\n  before: {}\n  after:  {}",
            t.account, t.before, t.after
        );
    }
    out
}

pub fn render_error(e: &PlanError) -> String {
    let mut out = String::new();
    match e {
        PlanError::Problems(problems) => {
            let _ = writeln!(out, "{e}");
            for p in problems {
                let _ = writeln!(out, "- {}: {}", p.address, p.message);
                if let Some(h) = &p.hint {
                    let _ = writeln!(out, "  hint: {h}");
                }
            }
        }
        PlanError::Cycle(c) => {
            let _ = writeln!(out, "cycle: {c}");
        }
    }
    out
}

/// The live account ids of declared accounts, by email (as the CLI finds them).
fn account_ids(desired: &DesiredState, live: &LiveState) -> BTreeMap<String, String> {
    let index = LiveIndex::new(live);
    desired
        .accounts
        .iter()
        .filter_map(|(name, spec)| {
            index
                .account_by_email(&spec.email)
                .map(|a| (name.clone(), a.id.clone()))
        })
        .collect()
}

/// Expectations, lockouts and dead ends, as `validate`/`plan` check them: against the
/// desired SCP hierarchy; lockouts and dead ends only when the live SCPs do not
/// already have them.
pub fn render_permissions(fx: &Fixture) -> String {
    let desired = &fx.desired;
    let after = Hierarchy::from_desired(desired);
    let before = Hierarchy::from_live(&fx.live, desired);
    let mut out = String::new();
    for (name, problem) in &after.problems {
        let _ = writeln!(out, "unparsed SCP {name}: {problem}");
    }
    let results = permissions::check_expectations(
        desired,
        &after,
        permissions::Hierarchy::rcps_from_desired(desired).as_ref(),
        &Default::default(),
    );
    for r in &results {
        let e = &desired.expectations[r.expectation];
        let scope = match &e.scope {
            ExpectScope::Account(a) => format!("account.{a}"),
            ExpectScope::Ou(ou) => format!("ou.{ou}"),
        };
        let want = match e.decision {
            ExpectedDecision::Allow => "allow",
            ExpectedDecision::Deny => "deny",
        };
        let verdict = match (&r.account, r.passed) {
            (None, _) => "NOTHING CHECKED",
            (Some(_), true) => "PASS",
            (Some(_), false) => "FAIL",
        };
        let what = match (&r.account, &r.decision) {
            (None, _) => "the scope holds no declared account; passed = false".to_string(),
            (Some(a), Some(d)) => format!("account.{a}: {}", permissions::describe(d)),
            (Some(a), None) => format!("account.{a}: not in the hierarchy"),
        };
        let _ = writeln!(
            out,
            "expect #{} {want} {} on {} in {scope}: {verdict} ({what})",
            r.expectation, e.action, e.resource
        );
    }
    let ids = account_ids(desired, &fx.live);
    let was = permissions::lockouts(desired, &before, &ids);
    let now = permissions::lockouts(desired, &after, &ids);
    for l in &now {
        let new = if was.contains(l) {
            "already live"
        } else {
            "NEW"
        };
        let _ = writeln!(
            out,
            "lockout ({new}): {} in account.{} ({}): {}",
            l.action, l.account, l.region, l.reason
        );
    }
    let live_dead_ends = before.targets_without_allow();
    for t in after.targets_without_allow() {
        let new = if live_dead_ends.contains(&t) {
            "already live"
        } else {
            "NEW"
        };
        let _ = writeln!(out, "no Allow path ({new}): {}", t.address());
    }
    if out.is_empty() {
        out.push_str("(nothing to report)\n");
    }
    out
}

pub fn render_drift(fx: &Fixture) -> String {
    let report = drift::detect(&fx.desired, &fx.live, fx.state.as_ref(), &world());
    let mut out = String::new();
    if report.findings.is_empty() {
        out.push_str("(no drift)\n");
    }
    for f in &report.findings {
        let _ = write!(out, "{:<9} {}", f.class.name(), f.address);
        if let Some(id) = &f.id {
            let _ = write!(out, " ({id})");
        }
        if let Some(ct) = &f.control_tower_drift_type {
            let _ = write!(out, " [{ct}]");
        }
        let _ = writeln!(out, ": {}", f.message);
        for d in &f.diffs {
            let _ = writeln!(
                out,
                "          {}: {} -> {}",
                d.attribute,
                d.before.as_ref().map_or("-".into(), ToString::to_string),
                d.after.as_ref().map_or("-".into(), ToString::to_string)
            );
        }
    }
    out
}

/// The whole snapshot of a fixture.
pub fn render(fx: &Fixture) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "fixture: {}\n", fx.description);
    if !fx.load_warnings.is_empty() {
        out.push_str("== load warnings ==\n");
        for w in &fx.load_warnings {
            let _ = writeln!(out, "{w}");
        }
        out.push('\n');
    }
    match fx.plan() {
        Ok(plan) => {
            out.push_str("== plan ==\n");
            out.push_str(&render_plan(&plan));
            if !fx.desired.expectations.is_empty() || fx.options.permissions {
                out.push_str("\n== permissions ==\n");
                out.push_str(&render_permissions(fx));
            }
            if fx.options.drift {
                out.push_str("\n== drift ==\n");
                out.push_str(&render_drift(fx));
            }
            out.push_str("\n== plan.json ==\n");
            out.push_str(&serde_json::to_string_pretty(&plan).unwrap());
            out.push('\n');
        }
        Err(e) => {
            out.push_str("== problems ==\n");
            out.push_str(&render_error(&e));
            if !fx.desired.expectations.is_empty() || fx.options.permissions {
                out.push_str("\n== permissions ==\n");
                out.push_str(&render_permissions(fx));
            }
            if fx.options.drift {
                out.push_str("\n== drift ==\n");
                out.push_str(&render_drift(fx));
            }
        }
    }
    out
}

/// The state a completed apply of `plan` would record for its adopt changes (and
/// updates), with live ids: a starting point for a fixture's `state.json`, written by
/// the ignored `dump_adopted_state` test. Creates have no id yet and are left out.
pub fn state_from_plan(plan: &Plan, base: &StateFile) -> StateFile {
    let mut state = base.clone();
    for c in &plan.changes {
        let (
            Some(id),
            Record::Upsert {
                created,
                attributes,
            },
        ) = (&c.id, &c.record)
        else {
            continue;
        };
        let member = c.member.as_ref().and_then(|m| match &m.account {
            Ref::Id(a) => Some(format!("{a}/{}", m.region)),
            Ref::Address(_) => None,
        });
        state.resources.insert(
            c.address.clone(),
            landfall_core::state::ResourceRecord {
                id: id.clone(),
                created: *created,
                attributes: attributes.clone(),
                member,
            },
        );
        state.pending_creates.remove(&c.address);
    }
    state
}
