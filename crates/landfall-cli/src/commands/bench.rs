//! `landfall bench plan`: generates landing zones of several sizes, converges each on a
//! zero-latency in-memory sim, then times `landfall plan` as a child process (so peak
//! memory is the plan's own) and prints the figures.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use landfall_core::state::StateFile;
use landfall_engine::apply::{self, ApplyOptions, Silent};
use landfall_engine::provider::Provider;
use landfall_engine::state_store::{StateStore, write_atomically};
use landfall_sim::SimBackend;

use crate::error::{CliError, CliResult};
use crate::stdout;

use super::SUCCESS;

/// Shape of a generated landing zone.
pub struct Shape {
    pub accounts: usize,
    pub ous: usize,
    pub scps: usize,
    /// Explicit SCP attachments (FullAWSAccess ones come on top).
    pub attachments: usize,
}

impl Shape {
    /// 1,000 accounts → 100 OUs, 50 SCPs, 2,000 attachments; others scale linearly.
    pub fn for_accounts(accounts: usize) -> Self {
        Shape {
            accounts,
            ous: (accounts / 10).max(10),
            scps: (accounts / 20).clamp(5, 200),
            attachments: accounts * 2,
        }
    }
}

/// The desired-state TOML of a generated landing zone.
pub fn generate_toml(name: &str, shape: &Shape) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "[landing_zone]\nname = \"{name}\"\nhome_region = \"us-east-1\"\ngoverned_regions = [\"us-east-1\", \"us-west-2\"]\nbackend = \"sim\"\n\n[landing_zone.quotas]\nmax_accounts = {}\n",
        shape.accounts + 100
    );
    let top = 10.min(shape.ous);
    let mut ou_paths = Vec::with_capacity(shape.ous);
    for i in 0..top {
        ou_paths.push(format!("Unit{i:02}"));
    }
    for j in 0..shape.ous.saturating_sub(top) {
        ou_paths.push(format!("Unit{:02}/Team{:03}", j % top, j));
    }
    for p in &ou_paths {
        let _ = writeln!(out, "[ou.\"{p}\"]\ntags = {{ owner = \"platform\" }}\n");
    }
    for a in 0..shape.accounts {
        let ou = &ou_paths[a % ou_paths.len()];
        let _ = writeln!(
            out,
            "[account.acct-{a:05}]\nemail = \"aws+acct-{a:05}@bench.example.com\"\nou = \"{ou}\"\ntags = {{ project = \"p{:03}\", environment = \"dev\", cost-center = \"CC-{:04}\" }}\n",
            a % 97,
            a % 13
        );
    }
    // Each account gets SCPs round-robin, at most 8 explicit ones per target.
    let per_account = shape.attachments.div_ceil(shape.accounts.max(1)).min(8);
    let mut targets: Vec<Vec<String>> = vec![Vec::new(); shape.scps];
    let mut placed = 0;
    'outer: for k in 0..per_account {
        for a in 0..shape.accounts {
            if placed == shape.attachments {
                break 'outer;
            }
            let s = (a + k * 7) % shape.scps;
            targets[s].push(format!("account:acct-{a:05}"));
            placed += 1;
        }
    }
    for (s, t) in targets.iter().enumerate() {
        let list: Vec<String> = t.iter().map(|x| format!("\"{x}\"")).collect();
        let _ = writeln!(
            out,
            "[scp.scp-{s:03}]\ndescription = \"generated policy {s}\"\ncontent = '''{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Sid\":\"Deny{s}\",\"Effect\":\"Deny\",\"Action\":[\"ec2:TerminateInstances\",\"s3:DeleteBucket\",\"sagemaker:CreateEndpoint\"],\"Resource\":\"*\",\"Condition\":{{\"StringNotEquals\":{{\"aws:PrincipalTag/team\":\"team-{s}\"}}}}}}]}}'''\ntargets = [{}]\n",
            list.join(", ")
        );
    }
    out
}

/// Writes the landing zone into `dir` and converges a sim world and a state file for it.
async fn converge(dir: &Path, shape: &Shape) -> CliResult<f64> {
    let config = dir.join("landfall.toml");
    std::fs::write(&config, generate_toml("bench", shape))
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", config.display())))?;
    let loaded = landfall_config::load(&config).map_err(|d| {
        CliError::new(format!(
            "generated landing zone is invalid:\n{}",
            d.render(false)
        ))
    })?;
    let desired = loaded.desired;
    let sim = Arc::new(SimBackend::in_memory(
        Default::default(),
        desired.landing_zone.quotas.clone(),
    ));
    let world = sim.identity().await.map_err(CliError::new)?;
    let live = sim.refresh().await.map_err(CliError::new)?;
    let state = StateFile::new("bench", world.clone());
    let t = Instant::now();
    let plan = landfall_core::diff::compute_plan(
        &desired,
        &live,
        &state,
        landfall_core::plan::StateRef {
            lineage: None,
            serial: 0,
        },
        &world,
    )
    .map_err(|e| CliError::new(format!("cannot plan the generated landing zone: {e}")))?;
    let initial_plan_ms = t.elapsed().as_secs_f64() * 1000.0;
    let store = Arc::new(StateStore::in_memory(state));
    let options = ApplyOptions {
        parallelism: 64,
        ..ApplyOptions::default()
    };
    let outcome = apply::apply(plan, sim.clone(), store.clone(), &options, Arc::new(Silent)).await;
    if !outcome.succeeded() {
        let first = outcome
            .failures
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(CliError::new(format!(
            "converging the generated landing zone failed: {first}"
        )));
    }
    let state_dir = dir.join("state");
    sim.save_to(&state_dir.join("bench.sim-world.json"))
        .map_err(|e| CliError::new(e.to_string()))?;
    let bytes = serde_json::to_vec_pretty(&store.snapshot()).map_err(CliError::new)?;
    write_atomically(&state_dir.join("bench.state.json"), &bytes).map_err(CliError::new)?;
    Ok(initial_plan_ms)
}

struct Timing {
    total_ms: f64,
    fields: Vec<(String, String)>,
}

fn time_plan(dir: &Path) -> CliResult<Timing> {
    let exe = std::env::current_exe().map_err(CliError::new)?;
    let start = Instant::now();
    let out = Command::new(exe)
        .args([
            "plan",
            "-c",
            "landfall.toml",
            "--timings",
            "--detailed-exitcode",
        ])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove(landfall_sim::FAULTS_ENV)
        .output()
        .map_err(CliError::new)?;
    let total_ms = start.elapsed().as_secs_f64() * 1000.0;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(0) {
        return Err(CliError::new(format!(
            "the plan of a converged landing zone should be empty (exit 0), got {:?}:\n{stderr}",
            out.status.code()
        )));
    }
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("timings: "))
        .ok_or_else(|| CliError::new("plan printed no timings"))?;
    let fields = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(Timing { total_ms, fields })
}

pub async fn plan(sizes: &[usize], runs: usize, keep: Option<&PathBuf>) -> CliResult<u8> {
    let temp = tempfile::tempdir().map_err(CliError::new)?;
    let base = keep.cloned().unwrap_or_else(|| temp.path().to_path_buf());
    if !stdout::still_read(&format!(
        "landfall bench plan: converged landing zones on a zero-latency sim; `landfall plan` timed as a child process ({runs} runs, median)\n\
         {:>8} {:>5} {:>5} {:>12} {:>14} {:>11} {:>9} {:>9} {:>9} {:>10}\n",
        "accounts",
        "ous",
        "scps",
        "attachments",
        "initial plan",
        "plan wall",
        "load",
        "refresh",
        "diff",
        "peak RSS"
    ))? {
        return Ok(SUCCESS);
    }
    for &n in sizes {
        let shape = Shape::for_accounts(n);
        let dir = base.join(format!("lz-{n}"));
        std::fs::create_dir_all(&dir).map_err(CliError::new)?;
        let initial = converge(&dir, &shape).await?;
        let mut timings = Vec::new();
        for _ in 0..runs.max(1) {
            timings.push(time_plan(&dir)?);
        }
        timings.sort_by(|a, b| a.total_ms.total_cmp(&b.total_ms));
        let median = &timings[timings.len() / 2];
        let field = |k: &str| {
            median
                .fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if !stdout::still_read(&format!(
            "{:>8} {:>5} {:>5} {:>12} {:>12.1}ms {:>9.1}ms {:>9} {:>9} {:>9} {:>10}\n",
            n,
            shape.ous,
            shape.scps,
            shape.attachments,
            initial,
            median.total_ms,
            field("load"),
            field("refresh"),
            field("plan"),
            field("peak_rss"),
        ))? {
            return Ok(SUCCESS);
        }
    }
    if let Some(k) = keep {
        eprintln!("generated landing zones kept in {}", k.display());
    }
    Ok(SUCCESS)
}

/// `landfall bench drift`: time `landfall drift` (a child process, wall time) on
/// converged generated landing zones; the report must be clean (exit 0).
pub async fn drift(sizes: &[usize], runs: usize) -> CliResult<u8> {
    let temp = tempfile::tempdir().map_err(CliError::new)?;
    if !stdout::still_read(&format!(
        "landfall bench drift: converged landing zones on a zero-latency sim; `landfall drift` timed as a child process ({runs} runs, median)\n\
         {:>8} {:>5} {:>5} {:>12} {:>12}\n",
        "accounts", "ous", "scps", "attachments", "drift wall"
    ))? {
        return Ok(SUCCESS);
    }
    for &n in sizes {
        let shape = Shape::for_accounts(n);
        let dir = temp.path().join(format!("lz-{n}"));
        std::fs::create_dir_all(&dir).map_err(CliError::new)?;
        converge(&dir, &shape).await?;
        let exe = std::env::current_exe().map_err(CliError::new)?;
        let mut walls = Vec::new();
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let out = Command::new(&exe)
                .args(["drift", "-c", "landfall.toml"])
                .current_dir(&dir)
                .env("NO_COLOR", "1")
                .env_remove(landfall_sim::FAULTS_ENV)
                .output()
                .map_err(CliError::new)?;
            walls.push(start.elapsed().as_secs_f64() * 1000.0);
            if out.status.code() != Some(0) {
                return Err(CliError::new(format!(
                    "drift of a converged landing zone should be clean (exit 0), got {:?}:\n{}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout)
                )));
            }
        }
        walls.sort_by(f64::total_cmp);
        if !stdout::still_read(&format!(
            "{:>8} {:>5} {:>5} {:>12} {:>10.1}ms\n",
            n,
            shape.ous,
            shape.scps,
            shape.attachments,
            walls[walls.len() / 2]
        ))? {
            return Ok(SUCCESS);
        }
    }
    Ok(SUCCESS)
}

/// `landfall bench explain`: evaluates `requests` requests (accounts, actions and regions
/// round-robin) against the SCP hierarchy of a generated landing zone and prints the
/// time per run. Everything is in memory: no backend, no files.
pub fn explain(accounts: usize, requests: usize, runs: usize) -> CliResult<u8> {
    use landfall_core::permissions::{Hierarchy, SAMPLE_ACTIONS};
    use landfall_policy::Request;

    let shape = Shape::for_accounts(accounts);
    let toml = generate_toml("bench-explain", &shape);
    let dir = tempfile::tempdir().map_err(CliError::new)?;
    let file = dir.path().join("landfall.toml");
    std::fs::write(&file, toml).map_err(CliError::new)?;
    let desired = landfall_config::load(&file)
        .map_err(|_| CliError::new("cannot load the generated landing zone"))?
        .desired;
    let t = Instant::now();
    let h = Hierarchy::from_desired(&desired);
    let build_ms = t.elapsed().as_secs_f64() * 1000.0;
    let names: Vec<&str> = h.accounts().collect();
    let regions = ["us-east-1", "us-west-2", "eu-west-1"];
    let batch: Vec<(&str, Request)> = (0..requests)
        .map(|i| {
            let account = names[i % names.len().max(1)];
            let request = Request::new(SAMPLE_ACTIONS[i % SAMPLE_ACTIONS.len()], "*")
                .with(
                    "aws:RequestedRegion",
                    vec![regions[i % regions.len()].to_string()],
                )
                .with("aws:PrincipalTag/team", vec![format!("team-{}", i % 7)]);
            (account, request)
        })
        .collect();
    let mut times = Vec::new();
    let mut denied = 0;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        denied = 0;
        for (account, request) in &batch {
            if h.decide(account, request).is_some_and(|d| !d.is_allow()) {
                denied += 1;
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    if !stdout::still_read(&format!(
        "explain: {} accounts, {} SCPs, {} requests: {median:.1} ms (median of {}; hierarchy built in {build_ms:.1} ms; {denied} denied)\n",
        names.len(),
        shape.scps,
        batch.len(),
        times.len()
    ))? {
        return Ok(SUCCESS);
    }
    Ok(SUCCESS)
}
