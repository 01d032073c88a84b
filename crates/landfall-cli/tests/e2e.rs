//! End-to-end tests of the `landfall` binary on the sim backend: the example landing
//! zone planned, applied, edited, drifted, throttled and interrupted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Which backend a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum On {
    Sim,
    /// moto's server, started by `scripts/test` (LANDFALL_TEST_MOTO_URL).
    Moto,
}

/// A copy of the example landing zone in a temp dir, used as the working directory.
struct Lz {
    dir: tempfile::TempDir,
    on: On,
}

impl Lz {
    fn example() -> Self {
        Self::example_on(On::Sim)
    }

    fn example_on(on: On) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = repo_root();
        let mut text = std::fs::read_to_string(root.join("examples/ml-platform.toml")).unwrap();
        if on == On::Moto {
            // moto has no Control Tower API: cut the example's governance block.
            let start = text
                .find("# >>> governance")
                .expect("governance block start");
            let end = text.find("# <<< governance").expect("governance block end");
            text.replace_range(start..end, "");
        }
        std::fs::write(dir.path().join("landfall.toml"), text).unwrap();
        std::fs::create_dir(dir.path().join("policies")).unwrap();
        for entry in std::fs::read_dir(root.join("examples/policies")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(
                entry.path(),
                dir.path().join("policies").join(entry.file_name()),
            )
            .unwrap();
        }
        Lz { dir, on }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("landfall").unwrap();
        c.current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("LANDFALL_SIM_FAULTS")
            .env_remove("LANDFALL_LOG");
        if self.on == On::Moto {
            for (k, v) in moto_env() {
                c.env(k, v);
            }
            c.args(["--backend", "aws"]);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn run_with_faults(&self, faults: &str, args: &[&str]) -> Output {
        self.cmd()
            .env("LANDFALL_SIM_FAULTS", faults)
            .args(args)
            .output()
            .unwrap()
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let p = self.path(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }

    fn append(&self, rel: &str, extra: &str) {
        let p = self.path(rel);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(extra);
        std::fs::write(&p, text).unwrap();
    }

    fn plan_json(&self) -> Value {
        let out = self.run(&["plan", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn world(&self) -> Value {
        let text = std::fs::read_to_string(self.path("state/ml-platform.sim-world.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.path("state/ml-platform.state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn apply_ok(&self) {
        let out = self.run(&["apply", "--auto-approve"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "apply failed:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
    }

    fn assert_converged(&self) {
        let out = self.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "not converged:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(stdout(&out).contains("No changes."));
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// (address, action) pairs of a plan JSON, in plan order.
fn changes(plan: &Value) -> Vec<(String, String)> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap().to_string(),
                c["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn position(list: &[(String, String)], address: &str) -> usize {
    list.iter()
        .position(|(a, _)| a == address)
        .unwrap_or_else(|| panic!("{address} not in plan: {list:?}"))
}

/// Every `depends_on` points at an earlier change.
fn assert_valid_order(plan: &Value) {
    for (i, c) in plan["changes"].as_array().unwrap().iter().enumerate() {
        for d in c["depends_on"].as_array().into_iter().flatten() {
            assert!(
                (d.as_u64().unwrap() as usize) < i,
                "change {i} depends on a later change"
            );
        }
    }
}

#[test]
fn example_applies_and_converges() {
    let lz = Lz::example();
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    let list = changes(&plan);
    assert_eq!(
        plan["summary"]["create"].as_u64().unwrap() as usize,
        list.iter().filter(|(_, a)| a == "create").count()
    );
    // Parents before children, OUs before their accounts, policies before attachments.
    assert!(position(&list, "ou.Workloads") < position(&list, "ou.Workloads/Workloads_Dev"));
    assert!(
        position(&list, "ou.Workloads/Workloads_Dev") < position(&list, "account.ml-fraud-dev")
    );
    assert!(
        position(&list, "scp.deny-sagemaker-endpoints")
            < position(&list, "attachment.deny-sagemaker-endpoints:ou.Sandbox")
    );

    lz.apply_ok();
    lz.assert_converged();

    // Each account sits in its OU in the sim world, once.
    let out = lz.run(&["sim", "show"]);
    let tree = stdout(&out);
    assert!(tree.contains("account ml-fraud-dev ("), "{tree}");
    assert!(tree.contains("in Workloads/Workloads_Dev"), "{tree}");
    let state = lz.state();
    assert!(
        state["resources"]["account.ml-fraud-dev"]["created"]
            .as_bool()
            .unwrap()
    );
    assert!(!state["resources"]["root"]["created"].as_bool().unwrap());

    // Applying again is a no-op.
    let out = lz.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("No changes."));
}

#[test]
fn plan_output_is_deterministic() {
    let lz = Lz::example();
    let a = lz.run(&["plan"]);
    let b = lz.run(&["plan"]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout);
    let j1 = lz.run(&["plan", "--json"]);
    let j2 = lz.run(&["plan", "--json"]);
    assert_eq!(j1.stdout, j2.stdout);
    // Exit 2 with --detailed-exitcode while changes are pending.
    assert_eq!(
        lz.run(&["plan", "--detailed-exitcode"]).status.code(),
        Some(2)
    );
}

#[test]
fn saved_plan_applies_once_and_then_is_stale() {
    let lz = Lz::example();
    let out = lz.run(&["plan", "--out", "tfplan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = lz.run(&["apply", "tfplan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    lz.assert_converged();
    let out = lz.run(&["apply", "tfplan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("stale"), "{}", stderr(&out));
}

#[test]
fn throttling_is_retried_until_converged() {
    let lz = Lz::example();
    let out = lz.run_with_faults("throttle_rate=0.3,seed=11", &["apply", "--auto-approve"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let text = stdout(&out);
    let retried: usize = text
        .split(" change(s) in ")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(retried > 0, "no call was retried: {text}");
    lz.assert_converged();
}

fn account_emails(world: &Value) -> Vec<String> {
    let accounts = world["accounts"].as_object().unwrap();
    let mut emails: Vec<String> = accounts
        .values()
        .map(|a| a["email"].as_str().unwrap().to_lowercase())
        .collect();
    emails.sort();
    emails
}

#[test]
fn hard_failure_halfway_resumes_without_duplicates() {
    for after_effect in [false, true] {
        let lz = Lz::example();
        let faults = format!("fail_at=20,fail_after_effect={after_effect}");
        let out = lz.run_with_faults(&faults, &["apply", "--auto-approve"]);
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("injected failure"), "{err}");
        assert!(err.contains("rerun `landfall apply` to resume"), "{err}");
        // The state file is valid JSON with a recorded serial.
        assert!(lz.state()["serial"].as_u64().unwrap() > 0);

        let out = lz.run(&["apply", "--auto-approve"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{}",
            stdout(&out),
            stderr(&out)
        );
        lz.assert_converged();
        let emails = account_emails(&lz.world());
        let mut unique = emails.clone();
        unique.dedup();
        assert_eq!(emails, unique, "duplicate accounts after resume");
        assert_eq!(
            emails.len(),
            12 + 1,
            "the 12 declared accounts plus the management account"
        );
    }
}

#[test]
fn state_list_show_and_graph() {
    let lz = Lz::example();
    lz.apply_ok();
    let out = lz.run(&["state", "list"]);
    assert!(
        stdout(&out).contains("account.log-archive\t"),
        "{}",
        stdout(&out)
    );
    let out = lz.run(&["state", "show", "account.log-archive"]);
    let rec: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rec["attributes"]["ou"], "ou.Security");
    let out = lz.run(&["state", "show", "account.nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not in the state"));

    let dot = stdout(&lz.run(&["graph", "--format", "dot"]));
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("account.log-archive"));
    let mermaid = stdout(&lz.run(&["graph", "--format", "mermaid"]));
    assert!(mermaid.starts_with("graph LR"));
    assert!(mermaid.contains("-->"));
}

#[test]
fn a_second_apply_fails_fast_while_the_state_is_locked() {
    let lz = Lz::example();
    // Hold the lock from a slow apply (latency on every call).
    let mut slow = std::process::Command::new(assert_cmd::cargo::cargo_bin("landfall"))
        .current_dir(lz.dir.path())
        .env("LANDFALL_SIM_FAULTS", "latency_ms=200")
        .env("NO_COLOR", "1")
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = lz.path("state/ml-platform.state.json.lock");
    for _ in 0..100 {
        if std::fs::read_to_string(&lock)
            .map(|s| s.contains("pid"))
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = lz.run(&["apply", "--auto-approve"]);
    let _ = slow.kill();
    let _ = slow.wait();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("locked by another Landfall run (pid"),
        "{}",
        stderr(&out)
    );
}

/// True when the text has a `path.toml:LINE:COL` or `path.json:LINE:COL` location.
fn has_location(text: &str) -> bool {
    [".toml:", ".json:"].iter().any(|ext| {
        text.match_indices(ext).any(|(i, m)| {
            let rest = &text[i + m.len()..];
            let mut parts = rest.splitn(3, ':');
            let line = parts.next().unwrap_or("");
            let col: String = parts
                .next()
                .unwrap_or("")
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            !line.is_empty() && line.chars().all(|c| c.is_ascii_digit()) && !col.is_empty()
        })
    })
}

#[test]
fn invalid_corpus_each_file_fails_located_and_the_directory_reports_all() {
    let corpus = repo_root().join("tests/corpus/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "corpus has only {} files", files.len());
    let dir_out = Command::cargo_bin("landfall")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["validate", "-c"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert_eq!(dir_out.status.code(), Some(1));
    let dir_err = stderr(&dir_out);
    for file in files {
        let out = Command::cargo_bin("landfall")
            .unwrap()
            .env("NO_COLOR", "1")
            .args(["validate", "-c"])
            .arg(&file)
            .output()
            .unwrap();
        let err = stderr(&out);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(
            has_location(&err),
            "{name}: no file:line:col location in\n{err}"
        );
        assert!(
            dir_err.contains(&name),
            "the directory run does not report {name}"
        );
    }
}

#[test]
fn removed_accounts_are_forgotten_or_closed_only_when_allowed() {
    let lz = Lz::example();
    lz.edit(
        "landfall.toml",
        "email = \"aws+ml-fraud-sandbox@example.com\"",
        "email = \"aws+ml-fraud-sandbox@example.com\"\nallow_close = true",
    );
    lz.apply_ok();
    // Remove two accounts: one may be closed, the other may not.
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let without = |text: &str, header: &str| {
        let start = text.find(header).unwrap();
        let end = text[start + header.len()..]
            .find("\n[")
            .map_or(text.len(), |i| start + header.len() + i + 1);
        format!("{}{}", &text[..start], &text[end..])
    };
    let text = without(&text, "[account.ml-fraud-sandbox]");
    let text = without(&text, "[account.data-lake]");
    std::fs::write(lz.path("landfall.toml"), text).unwrap();

    let plan = lz.plan_json();
    let list = changes(&plan);
    assert!(
        list.contains(&("account.ml-fraud-sandbox".into(), "close".into())),
        "{list:?}"
    );
    assert!(
        list.contains(&("account.data-lake".into(), "forget".into())),
        "{list:?}"
    );
    // Closing needs --allow-close; nothing is changed without it.
    let out = lz.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--allow-close"), "{}", stderr(&out));
    let out = lz.run(&["apply", "--auto-approve", "--allow-close"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let tree = stdout(&lz.run(&["sim", "show"]));
    assert!(
        tree.contains("account ml-fraud-sandbox (") && tree.contains("Suspended"),
        "{tree}"
    );
    assert!(tree.contains("account data-lake ("), "{tree}");
    let state = lz.state();
    assert!(state["resources"].get("account.data-lake").is_none());
}

#[test]
fn deleting_an_ou_that_still_holds_an_account_is_refused_in_the_plan() {
    let lz = Lz::example();
    lz.apply_ok();
    // Drop the Sandbox OU but keep its account pointing nowhere else: the account is
    // forgotten, so the OU would not be empty.
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let text = text
        .replace("[ou.Sandbox]\n", "[ou.Removed_Sandbox_Header]\n")
        .replace(
            "targets = [\"ou:Sandbox\", \"ou:Workloads/Workloads_Dev\"]",
            "targets = [\"ou:Workloads/Workloads_Dev\"]",
        )
        .replace(
            "targets = [\"ou:Workloads\", \"ou:Sandbox\"]",
            "targets = [\"ou:Workloads\"]",
        )
        .replace("targets = [\"ou:Sandbox\"]", "targets = []")
        .replace(
            "[\"ou:Sandbox\", \"ou:Workloads/Workloads_Dev\", \"ou:Workloads/Workloads_Prod\"]",
            "[\"ou:Workloads/Workloads_Dev\", \"ou:Workloads/Workloads_Prod\"]",
        );
    let start = text.find("[account.ml-fraud-sandbox]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]);
    // Expectations on the Sandbox OU go with it.
    let text: String = text
        .split("\n\n")
        .filter(|block| !(block.contains("[[expect]]") && block.contains("ou = \"Sandbox\"")))
        .collect::<Vec<_>>()
        .join("\n\n");
    std::fs::write(lz.path("landfall.toml"), text).unwrap();
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot delete ou.Sandbox: account `ml-fraud-sandbox`"),
        "{err}"
    );
}

#[test]
fn quarantine_moves_a_removed_account_then_forgets_it() {
    let lz = Lz::example();
    lz.edit(
        "landfall.toml",
        "mode = \"forget\"",
        "mode = \"quarantine\"\nou = \"Quarantine\"",
    );
    lz.append("landfall.toml", "\n[ou.Quarantine]\n");
    lz.apply_ok();
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let start = text.find("[account.team-shared-services]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    std::fs::write(
        lz.path("landfall.toml"),
        format!("{}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let list = changes(&lz.plan_json());
    assert!(
        list.contains(&("account.team-shared-services".into(), "move".into())),
        "{list:?}"
    );
    lz.apply_ok();
    let tree = stdout(&lz.run(&["sim", "show"]));
    assert!(
        tree.lines()
            .any(|l| l.contains("account team-shared-services (") && l.ends_with("in Quarantine")),
        "{tree}"
    );
    assert!(
        lz.state()["resources"]
            .get("account.team-shared-services")
            .is_none()
    );
    lz.assert_converged();
}

#[test]
fn a_new_parent_for_an_ou_is_a_replacement() {
    let lz = Lz::example();
    lz.apply_ok();
    // Sandbox moves under Workloads: AWS cannot move OUs.
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let text = text
        .replace("[ou.Sandbox]", "[ou.\"Workloads/Sandbox\"]")
        .replace("ou = \"Sandbox\"", "ou = \"Workloads/Sandbox\"")
        .replace("\"ou:Sandbox\"", "\"ou:Workloads/Sandbox\"");
    std::fs::write(lz.path("landfall.toml"), text).unwrap();
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    let list = changes(&plan);
    assert!(
        list.contains(&("ou.Workloads/Sandbox".into(), "replace".into())),
        "{list:?}"
    );
    assert!(
        list.contains(&("ou.Sandbox".into(), "delete".into())),
        "{list:?}"
    );
    assert!(position(&list, "account.ml-fraud-sandbox") < position(&list, "ou.Sandbox"));
    lz.apply_ok();
    lz.assert_converged();
}

// ---------------------------------------------------------------------------------
// The conformance suite: the same scenarios on the sim and on moto's server.
// ---------------------------------------------------------------------------------

use landfall_aws::testkit::{Console, OrgView};
use std::sync::{Mutex, MutexGuard};

fn moto_url() -> String {
    std::env::var("LANDFALL_TEST_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "the AWS-backend tests need moto's server and LANDFALL_TEST_MOTO_URL is not set: run scripts/test, which starts it"
        )
    })
}

fn moto_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto_url()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_CONFIG_FILE", "/nonexistent".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ("LANDFALL_AWS_RATE", "reads=1000,writes=1000".into()),
    ]
}

/// moto's server holds one organization: AWS scenarios run one at a time, each on a
/// freshly reset server.
static MOTO: Mutex<()> = Mutex::new(());

fn moto_session() -> MutexGuard<'static, ()> {
    let guard = MOTO.lock().unwrap_or_else(|e| e.into_inner());
    use std::io::{Read, Write};
    let url = moto_url();
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "POST /moto-api/reset HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") || reply.starts_with("HTTP/1.0 200"),
        "moto reset failed: {reply}"
    );
    guard
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Out-of-band changes, as a console user would make them.
enum Oob<'a> {
    Detach(&'a str, &'a str),
    Attach(&'a str, &'a str),
    Move(&'a str, &'a str),
    CreateOu(&'a str),
    RenameOu(&'a str, &'a str),
    UpdatePolicy(&'a str, &'a str),
}

/// "ou:X" / "account:a" / "root" → the testkit's "X" / "a" / "root".
fn bare(target: &str) -> &str {
    target
        .strip_prefix("ou:")
        .or_else(|| target.strip_prefix("account:"))
        .unwrap_or(target)
}

impl Lz {
    fn oob(&self, change: Oob) {
        match self.on {
            On::Sim => {
                let args: Vec<String> = match change {
                    Oob::Detach(p, t) => vec!["detach-policy".into(), p.into(), t.into()],
                    Oob::Attach(p, t) => vec!["attach-policy".into(), p.into(), t.into()],
                    Oob::Move(a, t) => vec!["move-account".into(), a.into(), t.into()],
                    Oob::CreateOu(p) => vec!["create-ou".into(), p.into()],
                    Oob::RenameOu(p, n) => vec!["rename-ou".into(), p.into(), n.into()],
                    Oob::UpdatePolicy(p, content) => {
                        std::fs::write(self.path("oob-policy.json"), content).unwrap();
                        vec![
                            "update-policy".into(),
                            p.into(),
                            "--file".into(),
                            "oob-policy.json".into(),
                        ]
                    }
                };
                let out = self.cmd().arg("sim").args(&args).output().unwrap();
                assert_eq!(out.status.code(), Some(0), "sim {args:?}: {}", stderr(&out));
            }
            On::Moto => {
                let rt = runtime();
                rt.block_on(async {
                    let console = Console::connect(&moto_url()).await;
                    match change {
                        Oob::Detach(p, t) => console.detach_policy(p, bare(t)).await,
                        Oob::Attach(p, t) => console.attach_policy(p, bare(t)).await,
                        Oob::Move(a, t) => console.move_account(a, bare(t)).await,
                        Oob::CreateOu(p) => console.create_ou(p).await,
                        Oob::RenameOu(p, n) => console.rename_ou(p, n).await,
                        Oob::UpdatePolicy(p, c) => console.update_policy_content(p, c).await,
                    }
                })
                .unwrap();
            }
        }
    }

    /// The organization as the backend itself reports it (for moto: the SDK's own list
    /// calls; for the sim: its world file), never through Landfall's refresh.
    fn view(&self) -> OrgView {
        match self.on {
            On::Moto => runtime()
                .block_on(async { Console::connect(&moto_url()).await.view().await })
                .unwrap(),
            On::Sim => {
                let sim = landfall_sim::SimBackend::open(
                    &self.path("state/ml-platform.sim-world.json"),
                    Default::default(),
                    Default::default(),
                )
                .unwrap();
                let live = sim.snapshot();
                let index = landfall_core::LiveIndex::new(&live);
                let mut v = OrgView {
                    root_id: live.root_id.clone(),
                    ..OrgView::default()
                };
                for ou in live.ous.values() {
                    v.ous
                        .insert(index.ou_path(&ou.id).unwrap().to_string(), ou.id.clone());
                }
                let parent = |id: &str| match index.parent_target(id).unwrap() {
                    landfall_core::Target::Ou(p) => p.to_string(),
                    _ => "root".to_string(),
                };
                for a in live.accounts.values() {
                    let email = a.email.to_lowercase();
                    v.all_emails.push(email.clone());
                    v.accounts
                        .insert(email, (a.name.clone(), parent(&a.parent_id), a.id.clone()));
                }
                v.all_emails.sort();
                for p in live.policies.values() {
                    v.policies
                        .insert(p.name.clone(), (p.id.clone(), p.content.clone()));
                }
                for (p, t) in &live.attachments {
                    let name = live.policies[p].name.clone();
                    let target = if *t == live.root_id {
                        "root".to_string()
                    } else if let Some(path) = index.ou_path(t) {
                        path.to_string()
                    } else {
                        live.accounts[t].name.clone()
                    };
                    v.attachments.insert((name, target));
                }
                v
            }
        }
    }
}

/// The example, as the backend reports it after an apply.
fn assert_example_is_live(v: &OrgView) {
    let mut unique = v.all_emails.clone();
    unique.dedup();
    assert_eq!(unique, v.all_emails, "an email is used twice");
    assert_eq!(
        v.accounts.len(),
        13,
        "12 declared accounts and the management account"
    );
    assert_eq!(v.ous.len(), 9, "{:?}", v.ous.keys());
    for (email, ou) in [
        ("aws+log-archive@example.com", "Security"),
        ("aws+ml-fraud-dev@example.com", "Workloads/Workloads_Dev"),
        ("aws+ml-fraud-sandbox@example.com", "Sandbox"),
        ("aws+automation@example.com", "Deployments/Deployments_Prod"),
        ("aws+data-lake@example.com", "Workloads"),
    ] {
        assert_eq!(v.accounts[email].1, ou, "{email}");
    }
    for (policy, target) in [
        ("deny-sagemaker-endpoints", "Workloads/Workloads_Dev"),
        ("deny-sagemaker-endpoints", "Sandbox"),
        ("deny-leave-org", "root"),
        ("sagemaker-vpc-only", "Workloads"),
        ("FullAWSAccess", "ml-fraud-dev"),
    ] {
        assert!(
            v.attachments
                .contains(&(policy.to_string(), target.to_string())),
            "{policy} on {target}"
        );
    }
    assert_eq!(v.policies.len(), 10, "9 SCPs and FullAWSAccess");
}

fn conformance(on: On) {
    let lz = Lz::example_on(on);
    // Create the example.
    lz.apply_ok();
    lz.assert_converged();
    let v = lz.view();
    assert_example_is_live(&v);
    let leave_org = v.policies["deny-leave-org"].1.clone();
    if on == On::Moto {
        // The documented call count of a refresh of the example (docs/aws-backend.md).
        let calls = &lz.plan_json()["refresh_calls"];
        let total: u64 = calls
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        // 74 for the organization, 11 for each of the two member accounts' regions.
        assert_eq!(total, 96, "{calls}");
        assert_eq!(calls["ListTagsForResource"], 31);
        assert_eq!(calls["DescribeVpcEndpoints"], 2);
    }

    // Out-of-band changes: each is drift, apply reverts it.
    assert_eq!(lz.run(&["drift"]).status.code(), Some(0));
    lz.oob(Oob::Detach(
        "deny-sagemaker-endpoints",
        "ou:Workloads/Workloads_Dev",
    ));
    lz.oob(Oob::Move("ml-fraud-dev", "ou:Sandbox"));
    lz.oob(Oob::RenameOu("Deployments", "Deploys"));
    lz.oob(Oob::UpdatePolicy("deny-leave-org", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#));
    lz.oob(Oob::CreateOu("Workloads/Shadow_IT"));
    lz.oob(Oob::Attach(
        "restrict-instance-types",
        "ou:Workloads/Workloads_Prod",
    ));
    // And one unapplied change to the desired state (pending, not tampering).
    lz.edit(
        "landfall.toml",
        "owner = \"security-team\", managed-by",
        "owner = \"sec-ops\", managed-by",
    );
    let before = std::fs::read(lz.path("state/ml-platform.state.json")).unwrap();
    let world_before = (on == On::Sim)
        .then(|| std::fs::read(lz.path("state/ml-platform.sim-world.json")).unwrap());
    let out = lz.run(&["drift"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "pending (the desired state changed; not applied yet)",
        "attachment.deny-sagemaker-endpoints:ou.Workloads/Workloads_Dev",
        "SCP_DETACHED_FROM_OU",
        "ACCOUNT_MOVED_BETWEEN_OUS",
        "ou.Deployments",
        "OU_RENAMED",
        "scp.deny-leave-org",
        "SCP_UPDATED",
        "ou.Workloads/Shadow_IT",
        "attachment.restrict-instance-types:ou.Workloads/Workloads_Prod",
    ] {
        assert!(
            text.contains(needle),
            "drift does not name {needle}:\n{text}"
        );
    }
    let report: Value = serde_json::from_slice(&lz.run(&["drift", "--json"]).stdout).unwrap();
    let classes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["class"].as_str().unwrap())
        .collect();
    for class in ["changed", "missing", "moved", "unmanaged", "pending"] {
        assert!(classes.contains(&class), "{classes:?}");
    }
    let markdown = stdout(&lz.run(&["drift", "--markdown"]));
    for row in [
        "| moved | `account.ml-fraud-dev` |",
        "| missing | `attachment.deny-sagemaker-endpoints:ou.Workloads/Workloads_Dev` |",
        "| changed | `scp.deny-leave-org` |",
        "| unmanaged | `ou.Workloads/Shadow_IT` |",
        "| pending | `ou.Security` |",
    ] {
        assert!(markdown.contains(row), "{row} missing in\n{markdown}");
    }
    assert_eq!(
        std::fs::read(lz.path("state/ml-platform.state.json")).unwrap(),
        before,
        "drift wrote the state"
    );
    if let Some(world) = world_before {
        assert_eq!(
            std::fs::read(lz.path("state/ml-platform.sim-world.json")).unwrap(),
            world,
            "drift changed the world"
        );
    }

    lz.apply_ok();
    assert_eq!(
        lz.run(&["drift"]).status.code(),
        Some(0),
        "{}",
        stdout(&lz.run(&["drift"]))
    );
    lz.assert_converged();
    let v = lz.view();
    assert_example_is_live(&v);
    assert!(!v.ous.contains_key("Workloads/Shadow_IT"));
    assert!(!v.attachments.contains(&(
        "restrict-instance-types".into(),
        "Workloads/Workloads_Prod".into()
    )));
    assert_eq!(
        serde_json::from_str::<Value>(&v.policies["deny-leave-org"].1).unwrap(),
        serde_json::from_str::<Value>(&leave_org).unwrap()
    );

    // Edit the desired state: add an OU and an account in it, change an SCP, move an
    // account, remove an attachment — the plan has exactly those changes.
    lz.append(
        "landfall.toml",
        "\n[ou.\"Workloads/Workloads_Test\"]\n\n[account.ml-fraud-test]\nemail = \"aws+ml-fraud-test@example.com\"\nou = \"Workloads/Workloads_Test\"\n",
    );
    lz.edit(
        "policies/deny-leave-org.json",
        "\"Action\": \"organizations:LeaveOrganization\"",
        "\"Action\": [\"organizations:LeaveOrganization\", \"organizations:DeleteOrganization\"]",
    );
    lz.edit(
        "landfall.toml",
        "email = \"aws+data-lake@example.com\"\nou = \"Workloads\"",
        "email = \"aws+data-lake@example.com\"\nou = \"Infrastructure\"",
    );
    lz.edit(
        "landfall.toml",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Workloads\", \"ou:Sandbox\"]",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Sandbox\"]",
    );
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    let ordered = changes(&plan);
    let mut list = ordered.clone();
    list.sort();
    let expected: Vec<(String, String)> = [
        ("account.data-lake", "move"),
        ("account.ml-fraud-test", "create"),
        ("attachment.FullAWSAccess:account.ml-fraud-test", "create"),
        (
            "attachment.FullAWSAccess:ou.Workloads/Workloads_Test",
            "create",
        ),
        ("attachment.require-cost-tags:ou.Workloads", "delete"),
        ("ou.Workloads/Workloads_Test", "create"),
        ("scp.deny-leave-org", "update"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(list, expected);
    assert!(
        position(&ordered, "ou.Workloads/Workloads_Test")
            < position(&ordered, "account.ml-fraud-test")
    );
    let human = stdout(&lz.run(&["plan"]));
    assert!(
        human.contains("+         \"organizations:DeleteOrganization\""),
        "{human}"
    );
    assert!(
        human.contains("~ ou: \"ou.Workloads\" -> \"ou.Infrastructure\""),
        "{human}"
    );
    lz.apply_ok();
    lz.assert_converged();
    let v = lz.view();
    assert_eq!(v.accounts["aws+data-lake@example.com"].1, "Infrastructure");
    assert_eq!(
        v.accounts["aws+ml-fraud-test@example.com"].1,
        "Workloads/Workloads_Test"
    );
    assert!(
        !v.attachments
            .contains(&("require-cost-tags".into(), "Workloads".into()))
    );
}

#[test]
fn conformance_on_sim() {
    conformance(On::Sim);
}

#[test]
fn conformance_on_moto() {
    let _moto = moto_session();
    conformance(On::Moto);
}

/// Kills an apply once an account creation has started, reruns, and checks that every
/// declared email has exactly one account.
fn killed_during_account_creation(on: On, slow: (&str, &str)) {
    let lz = Lz::example_on(on);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("landfall"));
    cmd.current_dir(lz.dir.path())
        .env("NO_COLOR", "1")
        .env(slow.0, slow.1);
    if on == On::Moto {
        for (k, v) in moto_env() {
            if k != slow.0 {
                cmd.env(k, v);
            }
        }
        cmd.args(["--backend", "aws"]);
    }
    let mut child = cmd
        .args(["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = lz.path("state/ml-platform.state.json");
    let mut seen = false;
    for _ in 0..600 {
        if let Ok(text) = std::fs::read_to_string(&state)
            && let Ok(v) = serde_json::from_str::<Value>(&text)
            && v["pending_creates"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|a| a.as_str().unwrap().starts_with("account."))
            })
        {
            seen = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen, "the apply never started an account creation");
    lz.apply_ok();
    lz.assert_converged();
    assert_example_is_live(&lz.view());
}

#[test]
fn killed_during_account_creation_on_sim() {
    killed_during_account_creation(On::Sim, ("LANDFALL_SIM_FAULTS", "latency_ms=30"));
}

#[test]
fn killed_during_account_creation_on_moto() {
    let _moto = moto_session();
    killed_during_account_creation(On::Moto, ("LANDFALL_AWS_RATE", "reads=1000,writes=4"));
}

#[test]
fn aws_backend_without_credentials_says_how_to_provide_them() {
    let lz = Lz::example();
    let out = lz
        .cmd()
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["--backend", "aws", "plan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no usable AWS credentials"), "{err}");
    assert!(err.contains("AWS_PROFILE"), "{err}");
    assert!(!err.contains("panicked"));
}

// ---------------------------------------------------------------------------------
// Member accounts: networks and keys.
// ---------------------------------------------------------------------------------

enum MemberOob<'a> {
    DeleteEndpoint {
        net: &'a str,
        account: &'a str,
        region: &'a str,
        service: &'a str,
    },
    SetEndpointPolicy {
        net: &'a str,
        account: &'a str,
        region: &'a str,
        service: &'a str,
        policy: &'a str,
    },
    DisableRotation {
        account: &'a str,
        region: &'a str,
        key: &'a str,
    },
    CreateEndpoint {
        net: &'a str,
        account: &'a str,
        region: &'a str,
        vpc_cidr: &'a str,
        service: &'a str,
    },
}

/// What a member account and region hold, as the backend reports it.
#[derive(Debug, Default)]
struct MemberView {
    vpc_cidrs: Vec<String>,
    /// Short service name → (policy JSON, private_dns).
    endpoints: std::collections::BTreeMap<String, (Value, bool)>,
    /// alias → rotation.
    keys: std::collections::BTreeMap<String, bool>,
}

impl Lz {
    fn account_id(&self, name: &str) -> String {
        self.state()["resources"][format!("account.{name}")]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn member_view(&self, account: &str, region: &str) -> MemberView {
        let account_id = self.account_id(account);
        match self.on {
            On::Sim => {
                let sim = landfall_sim::SimBackend::open(
                    &self.path("state/ml-platform.sim-world.json"),
                    Default::default(),
                    Default::default(),
                )
                .unwrap();
                let m = sim.member_snapshot(&landfall_core::provider::MemberScope {
                    account_id,
                    region: region.into(),
                });
                let prefix = format!("com.amazonaws.{region}.");
                MemberView {
                    vpc_cidrs: m.vpcs.values().map(|v| v.cidr.clone()).collect(),
                    endpoints: m
                        .endpoints
                        .values()
                        .map(|e| {
                            let policy = e
                                .policy
                                .as_deref()
                                .map(|p| serde_json::from_str(p).unwrap())
                                .unwrap_or(Value::Null);
                            (
                                e.service_name.trim_start_matches(&prefix).to_string(),
                                (policy, e.private_dns),
                            )
                        })
                        .collect(),
                    keys: m
                        .keys
                        .values()
                        .flat_map(|k| k.aliases.iter().map(move |a| (a.clone(), k.rotation)))
                        .collect(),
                }
            }
            On::Moto => {
                let v = runtime()
                    .block_on(async {
                        Console::connect(&moto_url())
                            .await
                            .member_view(&account_id, region)
                            .await
                    })
                    .unwrap();
                MemberView {
                    vpc_cidrs: v.vpc_cidrs.clone(),
                    endpoints: v
                        .endpoints
                        .iter()
                        .map(|(s, e)| {
                            (
                                s.trim_start_matches(&format!("com.amazonaws.{region}."))
                                    .to_string(),
                                (
                                    e.policy
                                        .as_deref()
                                        .map(|p| serde_json::from_str(p).unwrap())
                                        .unwrap_or(Value::Null),
                                    e.private_dns,
                                ),
                            )
                        })
                        .collect(),
                    keys: v
                        .keys
                        .iter()
                        .map(|(a, k)| (a.clone(), k.rotation))
                        .collect(),
                }
            }
        }
    }

    /// An out-of-band change in a member account: `(network, account, region)` names
    /// where; on the sim it goes through `landfall sim`, on moto through the SDK with
    /// the account's assumed-role credentials.
    fn member_oob(&self, change: MemberOob) {
        match self.on {
            On::Sim => {
                let args: Vec<String> = match &change {
                    MemberOob::DeleteEndpoint { net, service, .. } => vec![
                        "delete-endpoint".into(),
                        format!("endpoint.{net}.{service}"),
                    ],
                    MemberOob::SetEndpointPolicy {
                        net,
                        service,
                        policy,
                        ..
                    } => {
                        std::fs::write(self.path("oob-endpoint-policy.json"), policy).unwrap();
                        vec![
                            "set-endpoint-policy".into(),
                            format!("endpoint.{net}.{service}"),
                            "--file".into(),
                            "oob-endpoint-policy.json".into(),
                        ]
                    }
                    MemberOob::DisableRotation { key, .. } => vec![
                        "set-key-rotation".into(),
                        format!("kms_key.{key}"),
                        "off".into(),
                    ],
                    MemberOob::CreateEndpoint { net, service, .. } => vec![
                        "create-endpoint".into(),
                        format!("vpc.{net}"),
                        service.to_string(),
                    ],
                };
                let out = self.cmd().arg("sim").args(&args).output().unwrap();
                assert_eq!(out.status.code(), Some(0), "sim {args:?}: {}", stderr(&out));
            }
            On::Moto => {
                let full =
                    |region: &str, service: &str| format!("com.amazonaws.{region}.{service}");
                runtime()
                    .block_on(async {
                        let c = Console::connect(&moto_url()).await;
                        match change {
                            MemberOob::DeleteEndpoint {
                                account,
                                region,
                                service,
                                ..
                            } => {
                                c.delete_endpoint_by_service(
                                    &self.account_id(account),
                                    region,
                                    &full(region, service),
                                )
                                .await
                            }
                            MemberOob::SetEndpointPolicy {
                                account,
                                region,
                                service,
                                policy,
                                ..
                            } => {
                                c.set_endpoint_policy(
                                    &self.account_id(account),
                                    region,
                                    &full(region, service),
                                    policy,
                                )
                                .await
                            }
                            MemberOob::DisableRotation {
                                account,
                                region,
                                key,
                            } => {
                                c.disable_key_rotation(
                                    &self.account_id(account),
                                    region,
                                    &format!("alias/{key}"),
                                )
                                .await
                            }
                            MemberOob::CreateEndpoint {
                                account,
                                region,
                                vpc_cidr,
                                service,
                                ..
                            } => c
                                .create_endpoint(
                                    &self.account_id(account),
                                    region,
                                    vpc_cidr,
                                    &full(region, service),
                                )
                                .await
                                .map(|_| ()),
                        }
                    })
                    .unwrap();
            }
        }
    }
}

fn assert_networks_are_live(lz: &Lz) {
    for (account, region, cidr) in [
        ("ml-fraud-dev", "us-east-1", "10.20.0.0/16"),
        ("ml-fraud-prod", "us-west-2", "10.30.0.0/16"),
    ] {
        let v = lz.member_view(account, region);
        assert_eq!(v.vpc_cidrs, vec![cidr.to_string()], "{account}");
        assert_eq!(v.endpoints.len(), 14, "{account}: {:?}", v.endpoints.keys());
        let (policy, private_dns) = v
            .endpoints
            .get("sagemaker.api")
            .unwrap_or_else(|| panic!("{account}: {:?}", v.endpoints.keys()));
        assert!(*private_dns);
        let id = lz.account_id(account);
        assert_eq!(
            policy["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalAccount"],
            Value::String(id),
            "{account}: the policy names its own account"
        );
        // (moto reports private DNS on gateway endpoints, which AWS does not.)
        if lz.on == On::Sim {
            assert!(
                !v.endpoints["s3"].1,
                "gateway endpoints have no private DNS"
            );
        }
        assert_eq!(
            v.keys.get(&format!("alias/{account}")),
            Some(&true),
            "{account}: key with rotation"
        );
    }
    // Nothing leaked into the other account's region.
    assert!(
        lz.member_view("ml-fraud-dev", "us-west-2")
            .vpc_cidrs
            .is_empty()
    );
}

#[test]
fn networks_and_keys_on_sim() {
    networks_and_keys(On::Sim);
}

#[test]
fn networks_and_keys_on_moto() {
    let _moto = moto_session();
    networks_and_keys(On::Moto);
}

fn networks_and_keys(on: On) {
    let lz = Lz::example_on(on);
    lz.apply_ok();
    lz.assert_converged();
    assert_networks_are_live(&lz);

    // Out-of-band: delete an endpoint, change a policy, disable rotation, add an endpoint.
    lz.member_oob(MemberOob::DeleteEndpoint {
        net: "ml-fraud-dev-use1",
        account: "ml-fraud-dev",
        region: "us-east-1",
        service: "sagemaker.runtime",
    });
    lz.member_oob(MemberOob::SetEndpointPolicy {
        net: "ml-fraud-prod-usw2",
        account: "ml-fraud-prod",
        region: "us-west-2",
        service: "sts",
        policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
    });
    lz.member_oob(MemberOob::DisableRotation {
        account: "ml-fraud-dev",
        region: "us-east-1",
        key: "ml-fraud-dev",
    });
    lz.member_oob(MemberOob::CreateEndpoint {
        net: "ml-fraud-dev-use1",
        account: "ml-fraud-dev",
        region: "us-east-1",
        vpc_cidr: "10.20.0.0/16",
        service: "kms",
    });
    let out = lz.run(&["drift", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (class, address) in [
        ("missing", "endpoint.ml-fraud-dev-use1.sagemaker.runtime"),
        ("changed", "endpoint.ml-fraud-prod-usw2.sts"),
        ("changed", "kms_key.ml-fraud-dev"),
        ("unmanaged", "endpoint.ml-fraud-dev-use1.kms"),
    ] {
        assert!(
            found.contains(&(class.to_string(), address.to_string())),
            "{class} {address} not in {found:?}"
        );
    }
    lz.apply_ok();
    assert_eq!(
        lz.run(&["drift"]).status.code(),
        Some(0),
        "{}",
        stdout(&lz.run(&["drift"]))
    );
    lz.assert_converged();
    assert_networks_are_live(&lz);

    // A policy change is an in-place update showing the JSON difference; a service
    // change is a replacement.
    lz.edit(
        "policies/endpoint-account-only.json",
        "\"aws:PrincipalAccount\": \"${account_id}\"",
        "\"aws:PrincipalAccount\": \"${account_id}\", \"aws:PrincipalOrgID\": \"o-example\"",
    );
    lz.append("landfall.toml", "\n[network.scratch]\naccount = \"ml-fraud-sandbox\"\nregion = \"us-east-1\"\ncidr = \"10.40.0.0/16\"\nsubnets = [{ az = \"us-east-1a\", cidr = \"10.40.1.0/24\" }]\nendpoints = [\"sts\"]\n");
    lz.apply_ok();
    let human = stdout(&lz.run(&["plan"]));
    assert!(human.contains("No changes."), "{human}");
    lz.edit(
        "landfall.toml",
        "endpoints = [\"sts\"]",
        "endpoints = [\"kms\"]",
    );
    lz.edit(
        "policies/endpoint-account-only.json",
        "\"aws:PrincipalOrgID\": \"o-example\"",
        "\"aws:PrincipalOrgID\": \"o-other\"",
    );
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    let list = changes(&plan);
    assert!(
        list.contains(&("endpoint.scratch.kms".into(), "replace".into())),
        "{list:?}"
    );
    assert!(
        list.contains(&("endpoint.scratch.sts".into(), "delete".into())),
        "{list:?}"
    );
    assert!(
        list.contains(&("endpoint.ml-fraud-dev-use1.sts".into(), "update".into())),
        "{list:?}"
    );
    let human = stdout(&lz.run(&["plan"]));
    let line_with = |sign: char, text: &str| {
        human
            .lines()
            .any(|l| l.trim_start().starts_with(sign) && l.contains(text))
    };
    assert!(
        line_with('-', "\"aws:PrincipalOrgID\": \"o-example\"")
            && line_with('+', "\"aws:PrincipalOrgID\": \"o-other\""),
        "{human}"
    );
    lz.apply_ok();
    lz.assert_converged();

    // Removing a key Landfall created schedules its deletion.
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let start = text.find("[kms_key.ml-fraud-prod]").unwrap();
    std::fs::write(lz.path("landfall.toml"), &text[..start]).unwrap();
    let plan = lz.plan_json();
    let change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "kms_key.ml-fraud-prod")
        .unwrap();
    assert_eq!(change["action"], "delete");
    assert!(
        change["reason"]
            .as_str()
            .unwrap()
            .contains("deletion scheduled in 30 days"),
        "{change}"
    );
    lz.apply_ok();
    lz.assert_converged();
}

// ---- drift job: ignore rules and accepting live values ----

fn drift_classes(lz: &Lz, extra: &[&str]) -> (Option<i32>, Vec<(String, String)>) {
    let mut args = vec!["drift", "--json"];
    args.extend_from_slice(extra);
    let out = lz.run(&args);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap().to_string(),
                f["address"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (out.status.code(), found)
}

#[test]
fn drift_ignore_rules_and_refresh_only_apply() {
    let lz = Lz::example();
    lz.apply_ok();
    lz.oob(Oob::Move("ml-fraud-dev", "ou:Sandbox"));
    lz.oob(Oob::Detach(
        "deny-sagemaker-endpoints",
        "ou:Workloads/Workloads_Dev",
    ));

    let (code, all) = drift_classes(&lz, &[]);
    assert_eq!(code, Some(2));
    assert_eq!(all.len(), 2, "{all:?}");
    // An ignore rule removes exactly the matching findings.
    let (code, some) = drift_classes(&lz, &["--ignore", "attachment.*"]);
    assert_eq!(code, Some(2));
    assert_eq!(
        some,
        vec![("moved".to_string(), "account.ml-fraud-dev".to_string())]
    );
    let (code, none) = drift_classes(
        &lz,
        &["--ignore", "attachment.*", "--ignore", "account.ml-fraud-*"],
    );
    assert_eq!((code, none.len()), (Some(0), 0));
    let out = lz.run(&["drift", "--ignore", "[oops"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("ignore pattern"), "{}", stderr(&out));

    // Both next steps are offered, with the flags the report was made with, so they
    // run against the same files.
    let text = stdout(&lz.run(&["drift"]));
    assert!(text.contains("landfall apply --refresh-only "), "{text}");
    let out = lz.run(&["drift", "-c", "./landfall.toml", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let commands: Vec<&str> = report["next_commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        [
            "landfall apply -c ./landfall.toml",
            "landfall apply --refresh-only -c ./landfall.toml"
        ]
    );
    let text = stdout(&lz.run(&["drift", "-c", "./landfall.toml", "--markdown"]));
    assert!(
        text.contains("- Or accept the live values into the state: `landfall apply --refresh-only -c ./landfall.toml`"),
        "{text}"
    );

    // Accept the live values: drift turns into pending changes, nothing changes live.
    let world = std::fs::read(lz.path("state/ml-platform.sim-world.json")).unwrap();
    let out = lz.run(&["apply", "--refresh-only", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(lz.path("state/ml-platform.sim-world.json")).unwrap(),
        world
    );
    let (code, after) = drift_classes(&lz, &[]);
    assert_eq!(code, Some(2));
    assert!(
        after.iter().all(|(class, _)| class == "pending"),
        "{after:?}"
    );
    assert!(
        after.contains(&("pending".into(), "account.ml-fraud-dev".into())),
        "{after:?}"
    );
    // Restoring the desired state is then an ordinary apply.
    lz.apply_ok();
    assert_eq!(drift_classes(&lz, &[]).0, Some(0));

    // Ignore rules can live in the desired state.
    lz.oob(Oob::Detach(
        "deny-sagemaker-endpoints",
        "ou:Workloads/Workloads_Dev",
    ));
    assert_eq!(drift_classes(&lz, &[]).0, Some(2));
    lz.append(
        "landfall.toml",
        "\n[drift]\nignore = [\"attachment.deny-sagemaker-endpoints:*\"]\n",
    );
    assert_eq!(drift_classes(&lz, &[]), (Some(0), vec![]));
    lz.edit(
        "landfall.toml",
        "ignore = [\"attachment.deny-sagemaker-endpoints:*\"]",
        "ignore = [\"[oops\"]",
    );
    let out = lz.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("LF212"), "{}", stderr(&out));
}

// ---- projects ----

const PROJECT_STAGES: [(&str, &str); 5] = [
    ("sandbox", "Sandbox"),
    ("dev", "Workloads/Workloads_Dev"),
    ("preprod", "Workloads/Workloads_Prod"),
    ("prod", "Workloads/Workloads_Prod"),
    ("automation", "Deployments/Deployments_Prod"),
];

fn overlaps(a: &str, b: &str) -> bool {
    let parse = |c: &str| {
        let (ip, len) = c.split_once('/').unwrap();
        let ip: std::net::Ipv4Addr = ip.parse().unwrap();
        (u32::from(ip), len.parse::<u32>().unwrap())
    };
    let ((a, al), (b, bl)) = (parse(a), parse(b));
    let mask = |l: u32| if l == 0 { 0 } else { u32::MAX << (32 - l) };
    let l = al.min(bl);
    a & mask(l) == b & mask(l)
}

#[test]
fn project_new_then_apply_vends_the_stage_accounts() {
    project_new_then_apply(On::Sim);
}

#[test]
fn project_new_then_apply_vends_the_stage_accounts_on_moto() {
    let _moto = moto_session();
    project_new_then_apply(On::Moto);
}

fn project_new_then_apply(on: On) {
    let lz = Lz::example_on(on);
    let before = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&[
        "project",
        "new",
        "fraud-detection",
        "--owner",
        "fraud-ds-team",
        "--cost-center",
        "cc-3100",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The next command repeats the flags of this run (none but the backend here).
    let next = match on {
        On::Sim => "`landfall plan`, then `landfall apply`",
        On::Moto => "`landfall plan --backend aws`, then `landfall apply --backend aws`",
    };
    assert!(stderr(&out).contains(next), "{}", stderr(&out));
    let after = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    // Appended: the user's text (comments included) is kept byte for byte.
    assert!(after.starts_with(&before), "{after}");
    assert!(after.contains("[project.fraud-detection]"), "{after}");
    assert!(after.contains("owner = \"fraud-ds-team\""), "{after}");

    // The plan says which project each resource comes from... and the apply vends it.
    // (On a fresh moto server there is no organization until the apply creates it.)
    if on == On::Sim {
        let plan = lz.plan_json();
        assert!(
            plan["changes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["address"] == "account.fraud-detection-dev"
                    && c["project"] == "fraud-detection"),
            "the plan names the project of each resource"
        );
        assert!(stdout(&lz.run(&["plan"])).contains("# from project fraud-detection"));
    }
    lz.apply_ok();
    lz.assert_converged();
    let view = lz.view();
    let state = lz.state();
    let example_cidrs = ["10.20.0.0/16", "10.30.0.0/16"];
    let mut project_cidrs: Vec<String> = Vec::new();
    for (stage, ou) in PROJECT_STAGES {
        let name = format!("fraud-detection-{stage}");
        let email = format!("aws+{name}@example.com");
        assert_eq!(view.accounts[&email].1, ou, "{name}");
        let account = &state["resources"][format!("account.{name}")]["attributes"];
        assert_eq!(account["tags"]["project"], "fraud-detection");
        assert_eq!(account["tags"]["environment"], stage);
        assert_eq!(account["tags"]["owner"], "fraud-ds-team");
        assert_eq!(account["tags"]["cost-center"], "cc-3100");
        let member = lz.member_view(&name, "us-east-1");
        assert_eq!(member.vpc_cidrs.len(), 1, "{name}: {:?}", member.vpc_cidrs);
        assert_eq!(
            member.endpoints.len(),
            14,
            "{name}: {:?}",
            member.endpoints.keys()
        );
        assert_eq!(
            member.keys.get(&format!("alias/{name}")),
            Some(&true),
            "{name}"
        );
        let cidr = member.vpc_cidrs[0].clone();
        for other in example_cidrs
            .iter()
            .map(|s| s.to_string())
            .chain(project_cidrs.clone())
        {
            assert!(!overlaps(&cidr, &other), "{name}: {cidr} overlaps {other}");
        }
        project_cidrs.push(cidr);
    }

    // A second `project new` with the same name is refused; the file is unchanged.
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&["project", "new", "fraud-detection"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    // It says where the existing one is declared.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let line = 1 + text[..text.find("[project.fraud-detection]").unwrap()]
        .matches('\n')
        .count();
    assert!(
        stderr(&out).contains(&format!("(landfall.toml:{line}:10)")),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);

    // Removing the project forgets its accounts (never closes them), as the plan says.
    let text = String::from_utf8(bytes).unwrap();
    let start = text.find("\n# ML project `fraud-detection`").unwrap();
    std::fs::write(lz.path("landfall.toml"), &text[..start + 1]).unwrap();
    let plan = lz.plan_json();
    let list = changes(&plan);
    for (stage, _) in PROJECT_STAGES {
        let address = format!("account.fraud-detection-{stage}");
        assert!(
            list.contains(&(address.clone(), "forget".into())),
            "{address}: {list:?}"
        );
        assert!(!list.contains(&(address, "close".into())), "{list:?}");
    }
    let human = stdout(&lz.run(&["plan"]));
    assert!(human.contains("fraud-detection-dev"), "{human}");
}

#[test]
fn project_new_refuses_bad_names_quotas_and_collisions_writing_nothing() {
    let lz = Lz::example();
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let unchanged = || assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);
    // Invalid name.
    let out = lz.run(&["project", "new", "Fraud_Detection"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid project name"),
        "{}",
        stderr(&out)
    );
    unchanged();
    // An expanded name that exists (`ml-fraud` + `dev` = the example's account).
    let out = lz.run(&["project", "new", "ml-fraud"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("LF805"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    unchanged();
    // Unknown stage.
    let out = lz.run(&["project", "new", "churn", "--stages", "dev,qa"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("unknown stage `qa`"),
        "{}",
        stderr(&out)
    );
    unchanged();
    // A quota: 12 accounts declared, 5 more would exceed 15.
    lz.edit(
        "landfall.toml",
        "[landing_zone.account_removal]",
        "[landing_zone.quotas]\nmax_accounts = 15\n\n[landing_zone.account_removal]",
    );
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&["project", "new", "churn"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("LF308"), "{}", stderr(&out));
    assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);
    // A pool with room for one VPC only.
    lz.append(
        "landfall.toml",
        "\n[blueprint]\ncidr_pool = \"10.64.0.0/20\"\n",
    );
    let bytes = std::fs::read(lz.path("landfall.toml")).unwrap();
    let out = lz.run(&["project", "new", "churn", "--stages", "dev,prod"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no free /20 block"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(lz.path("landfall.toml")).unwrap(), bytes);
}

#[test]
fn project_new_in_a_directory_writes_its_own_file() {
    let lz = Lz::example();
    std::fs::create_dir(lz.path("lz")).unwrap();
    std::fs::rename(lz.path("landfall.toml"), lz.path("lz/landfall.toml")).unwrap();
    std::fs::rename(lz.path("policies"), lz.path("lz/policies")).unwrap();
    let out = lz.run(&[
        "project",
        "new",
        "churn",
        "-c",
        "lz",
        "--stages",
        "dev,prod",
        "--region",
        "us-west-2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(lz.path("lz/projects/churn.toml")).unwrap();
    assert!(text.contains("[project.churn]"), "{text}");
    assert!(text.contains("region = \"us-west-2\""), "{text}");
    assert!(text.contains("stages = [\"dev\", \"prod\"]"), "{text}");
    let out = lz.run(&["validate", "-c", "lz"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Refused the second time; nothing changes.
    let out = lz.run(&["project", "new", "churn", "-c", "lz"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(lz.path("lz/projects/churn.toml")).unwrap(),
        text
    );
    let out = lz.run(&["apply", "-c", "lz", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let member = lz.member_view("churn-prod", "us-west-2");
    assert_eq!(member.endpoints.len(), 14);
}

// ---- Control Tower controls, Account Factory and Service Catalog shares (issue 6) ----

fn addresses_of(state: &Value, kind: &str) -> Vec<String> {
    state["resources"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with(&format!("{kind}.")))
        .cloned()
        .collect()
}

fn drift_report(lz: &Lz) -> (i32, Value) {
    let out = lz.run(&["drift", "--json"]);
    let code = out.status.code().unwrap();
    assert_ne!(code, 1, "drift failed: {}", stderr(&out));
    (code, serde_json::from_slice(&out.stdout).unwrap())
}

fn finding<'a>(report: &'a Value, address: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["address"] == address)
        .unwrap_or_else(|| panic!("no finding for {address} in {report:#}"))
}

#[test]
fn guardrails_and_the_ml_portfolio_apply_drift_and_converge_on_sim() {
    let lz = Lz::example();
    lz.apply_ok();
    lz.assert_converged();
    let state = lz.state();
    // The preset's five API-managed controls on three Workloads OUs, plus the explicit
    // root-user restriction on three OUs; the preset's mandatory members are Control
    // Tower's own and never appear.
    let controls = addresses_of(&state, "control");
    assert_eq!(controls.len(), 18, "{controls:?}");
    for ou in [
        "Workloads",
        "Workloads/Workloads_Dev",
        "Workloads/Workloads_Prod",
    ] {
        for control in [
            "AWS-GR_ROOT_ACCOUNT_MFA_ENABLED",
            "AWS-GR_S3_BUCKET_PUBLIC_READ_PROHIBITED",
            "AWS-GR_AUDIT_BUCKET_ENCRYPTION_ENABLED",
            "AWS-GR_S3_VERSIONING_ENABLED",
        ] {
            let address = format!("control.{control}:ou.{ou}");
            assert!(
                controls.contains(&address),
                "{address} missing: {controls:?}"
            );
        }
    }
    assert!(
        !controls
            .iter()
            .any(|c| c.contains("AWS-GR_CLOUDTRAIL_ENABLED"))
    );
    let enabled = &state["resources"]["control.AWS-GR_RESTRICT_ROOT_USER:ou.Sandbox"];
    assert!(
        enabled["id"].as_str().unwrap().contains(":enabledcontrol/"),
        "{enabled}"
    );
    assert_eq!(addresses_of(&state, "portfolio").len(), 1);
    assert_eq!(addresses_of(&state, "portfolio_share").len(), 3);

    // Out of band: a control disabled, another drifted, a share removed.
    let sim = |args: &[&str]| {
        let out = lz.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    };
    sim(&[
        "sim",
        "disable-control",
        "AWS-GR_RESTRICT_ROOT_USER",
        "Sandbox",
    ]);
    sim(&[
        "sim",
        "drift-control",
        "AWS-GR_S3_VERSIONING_ENABLED",
        "Workloads/Workloads_Dev",
    ]);
    sim(&[
        "sim",
        "delete-portfolio-share",
        "ml-products",
        "ou:Workloads/Workloads_Prod",
    ]);
    let (code, report) = drift_report(&lz);
    assert_eq!(code, 2, "{report:#}");
    let disabled = finding(&report, "control.AWS-GR_RESTRICT_ROOT_USER:ou.Sandbox");
    assert_eq!(disabled["class"], "missing");
    assert_eq!(disabled["control_tower_drift_type"], "CONTROL_DISABLED");
    let drifted = finding(
        &report,
        "control.AWS-GR_S3_VERSIONING_ENABLED:ou.Workloads/Workloads_Dev",
    );
    assert_eq!(drifted["class"], "changed");
    assert_eq!(drifted["control_tower_drift_type"], "CONTROL_DRIFTED");
    let share = finding(
        &report,
        "portfolio_share.ml-products:ou.Workloads/Workloads_Prod",
    );
    assert_eq!(share["class"], "missing");
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        3,
        "{report:#}"
    );

    // The plan restores all three: enable again, reset the drifted one, share again.
    let plan = lz.plan_json();
    let action = |address: &str| {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no change for {address}"))
            .clone()
    };
    let enable = action("control.AWS-GR_RESTRICT_ROOT_USER:ou.Sandbox");
    assert_eq!(enable["action"], "create");
    assert_eq!(enable["ops"][0]["op"], "enable_control");
    let reset = action("control.AWS-GR_S3_VERSIONING_ENABLED:ou.Workloads/Workloads_Dev");
    assert_eq!(reset["action"], "update");
    assert_eq!(reset["ops"][0]["op"], "reset_enabled_control");
    assert!(
        reset["reason"].as_str().unwrap().contains("drifted"),
        "{reset}"
    );
    let reshare = action("portfolio_share.ml-products:ou.Workloads/Workloads_Prod");
    assert_eq!(reshare["ops"][0]["op"], "share_portfolio");
    assert_eq!(plan["changes"].as_array().unwrap().len(), 3);
    lz.apply_ok();
    lz.assert_converged();
    let (code, report) = drift_report(&lz);
    assert_eq!(code, 0, "{report:#}");

    // A parameter changed in the file is updated in place on every OU it is enabled on.
    lz.edit(
        "landfall.toml",
        "[control.\"AWS-GR_RESTRICT_ROOT_USER\"]\n",
        "[control.\"AWS-GR_RESTRICT_ROOT_USER\"]\nparameters = { ExemptAssumeRoot = true }\n",
    );
    let plan = lz.plan_json();
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{plan:#}");
    for c in changes {
        assert_eq!(c["action"], "update", "{c}");
        assert_eq!(c["ops"][0]["op"], "update_enabled_control", "{c}");
        assert_eq!(c["ops"][0]["parameters"]["ExemptAssumeRoot"], true, "{c}");
    }
    lz.apply_ok();
    lz.assert_converged();

    // Declaration changes: a share and a control removed from the file are removed live.
    lz.edit(
        "landfall.toml",
        r#"shares = ["ou:Sandbox", "ou:Workloads/Workloads_Dev", "ou:Workloads/Workloads_Prod"]"#,
        r#"shares = ["ou:Workloads/Workloads_Dev", "ou:Workloads/Workloads_Prod"]"#,
    );
    lz.edit(
        "landfall.toml",
        r#"targets = ["ou:Sandbox", "ou:Workloads/Workloads_Dev", "ou:Workloads/Workloads_Prod"]"#,
        r#"targets = ["ou:Workloads/Workloads_Dev", "ou:Workloads/Workloads_Prod"]"#,
    );
    let plan = lz.plan_json();
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{plan:#}");
    for c in changes {
        assert_eq!(c["action"], "delete", "{c}");
    }
    lz.apply_ok();
    lz.assert_converged();
    let state = lz.state();
    assert!(state["resources"]["control.AWS-GR_RESTRICT_ROOT_USER:ou.Sandbox"].is_null());
    assert!(state["resources"]["portfolio_share.ml-products:ou.Sandbox"].is_null());
}

#[test]
fn a_failed_control_operation_is_surfaced_and_a_rerun_converges() {
    let lz = Lz::example();
    let out = lz.run_with_faults(
        "fail_control=AWS-GR_S3_VERSIONING_ENABLED",
        &["apply", "--auto-approve"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("EnableControl failed"), "{err}");
    assert!(err.contains("AWS-GR_S3_VERSIONING_ENABLED"), "{err}");
    // The failed control is not recorded; everything completed is.
    let state = lz.state();
    assert!(
        addresses_of(&state, "control")
            .iter()
            .all(|a| !a.contains("AWS-GR_S3_VERSIONING_ENABLED")),
    );
    lz.apply_ok();
    lz.assert_converged();
}

const ACCOUNT_FACTORY_LZ: &str = r#"
[landing_zone]
name = "ml-platform"
home_region = "us-east-1"
governed_regions = ["us-east-1"]
backend = "sim"
account_factory = "control_tower"

[control_tower]
sso_user = { email = "platform@example.com", first_name = "ML", last_name = "Platform" }

[ou.Workloads]
[ou."Workloads/Workloads_Dev"]
[ou."Workloads/Workloads_Prod"]

[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads/Workloads_Dev"
tags = { project = "ml" }

[account.ml-prod]
email = "ml-prod@example.com"
ou = "Workloads/Workloads_Prod"
sso_user = { email = "ml-owner@example.com", first_name = "Ada", last_name = "Lovelace" }
"#;

fn account_factory_lz() -> Lz {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("landfall.toml"), ACCOUNT_FACTORY_LZ).unwrap();
    Lz { dir, on: On::Sim }
}

#[test]
fn the_account_factory_provisions_and_moves_accounts_on_sim() {
    let lz = account_factory_lz();
    let plan = lz.plan_json();
    let provision: Vec<&Value> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ops"][0]["op"] == "provision_account")
        .collect();
    assert_eq!(provision.len(), 2, "{plan:#}");
    let prod = provision
        .iter()
        .find(|c| c["address"] == "account.ml-prod")
        .unwrap();
    assert_eq!(prod["ops"][0]["ou_name"], "Workloads_Prod");
    assert_eq!(prod["ops"][0]["sso_user"]["email"], "ml-owner@example.com");
    lz.apply_ok();
    lz.assert_converged();
    let world = lz.world()["accounts"].to_string();
    assert!(world.contains("ml-dev@example.com"));
    let dev_id = lz.state()["resources"]["account.ml-dev"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(dev_id.len(), 12);

    // Moving an Account Factory account updates its provisioned product.
    lz.edit(
        "landfall.toml",
        "ou = \"Workloads/Workloads_Dev\"",
        "ou = \"Workloads/Workloads_Prod\"",
    );
    let plan = lz.plan_json();
    let moved = &plan["changes"][0];
    assert_eq!(moved["address"], "account.ml-dev");
    assert_eq!(moved["action"], "move");
    assert_eq!(moved["ops"][0]["op"], "update_provisioned_account");
    lz.apply_ok();
    lz.assert_converged();
    assert_eq!(
        lz.state()["resources"]["account.ml-dev"]["id"],
        dev_id.as_str()
    );
}

#[test]
fn a_failed_account_factory_provisioning_is_surfaced_and_leaves_the_state_consistent() {
    let lz = account_factory_lz();
    lz.apply_ok();
    // A third account while the organization (management account included) is at its
    // account quota: validation cannot know the management account counts, Account
    // Factory's provisioning record fails.
    lz.append(
        "landfall.toml",
        "\n[landing_zone.quotas]\nmax_accounts = 3\n\n[account.ml-third]\nemail = \"ml-third@example.com\"\nou = \"Workloads/Workloads_Dev\"\n",
    );
    let before = lz.state();
    let out = lz.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("account.ml-third"), "{err}");
    assert!(err.contains("ProvisionProduct failed"), "{err}");
    assert!(err.contains("ACCOUNT_LIMIT_EXCEEDED"), "{err}");
    let after = lz.state();
    assert!(after["resources"]["account.ml-third"].is_null());
    assert_eq!(before["resources"], after["resources"]);
    assert!(
        !lz.world()["accounts"]
            .to_string()
            .contains("ml-third@example.com")
    );
    // Once the quota is raised, the rerun provisions it again (through the failed
    // provisioned product) and converges.
    lz.edit("landfall.toml", "max_accounts = 3", "max_accounts = 10");
    lz.apply_ok();
    lz.assert_converged();
    assert!(
        lz.world()["accounts"]
            .to_string()
            .contains("ml-third@example.com")
    );
}

const PORTFOLIO_LZ: &str = r#"
[landing_zone]
name = "ml-platform"
home_region = "us-east-1"
governed_regions = ["us-east-1"]
backend = "aws"

[ou.Workloads]

[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads"

[portfolio.ml-products]
display_name = "ML self-service products"
provider = "ML platform team"
description = "Approved SageMaker environments"
tags = { owner = "ml-platform-team" }
shares = ["organization", "account:ml-dev"]
"#;

/// Portfolio shares through the CLI against moto, read back with plain SDK calls. (moto
/// does not list OU shares in DescribePortfolioShares, so OU shares are exercised by the
/// backend's own moto test and their reading by the mocked tests.)
#[test]
fn portfolio_shares_apply_read_back_and_are_removed_on_moto() {
    let _moto = moto_session();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("landfall.toml"), PORTFOLIO_LZ).unwrap();
    let lz = Lz { dir, on: On::Moto };
    lz.apply_ok();
    lz.assert_converged();
    let state = lz.state();
    let account_id = state["resources"]["account.ml-dev"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let portfolio_id = state["resources"]["portfolio.ml-products"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let view = || {
        runtime()
            .block_on(async { Console::connect(&moto_url()).await.portfolio_view().await })
            .unwrap()
    };
    let portfolios = view();
    let p = &portfolios["ML self-service products"];
    assert_eq!(p.id, portfolio_id);
    assert_eq!(p.provider, "ML platform team");
    assert_eq!(
        p.tags.get("owner").map(String::as_str),
        Some("ml-platform-team")
    );
    let kinds: Vec<(&str, &str)> = p
        .shares
        .iter()
        .map(|(kind, principal, _)| (kind.as_str(), principal.as_str()))
        .collect();
    assert!(
        kinds.contains(&("ACCOUNT", account_id.as_str())),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|(k, _)| *k == "ORGANIZATION"), "{kinds:?}");

    // Removing the account share from the file removes it live.
    lz.edit(
        "landfall.toml",
        r#"shares = ["organization", "account:ml-dev"]"#,
        r#"shares = ["organization"]"#,
    );
    let plan = lz.plan_json();
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(
        changes[0]["address"],
        "portfolio_share.ml-products:account.ml-dev"
    );
    assert_eq!(changes[0]["action"], "delete");
    lz.apply_ok();
    lz.assert_converged();
    let portfolios = view();
    let shares = &portfolios["ML self-service products"].shares;
    assert!(
        !shares.iter().any(|(kind, _, _)| kind == "ACCOUNT"),
        "{shares:?}"
    );
    assert!(shares.iter().any(|(kind, _, _)| kind == "ORGANIZATION"));
}

// ---- SCP guardrails before apply (issue 7) ----

#[test]
fn explain_answers_the_seeds_question_with_the_deciding_statement() {
    let lz = Lz::example();
    let out = lz.run(&[
        "explain",
        "--account",
        "ml-fraud-dev",
        "--action",
        "sagemaker:CreateEndpoint",
        "--context",
        "aws:RequestedRegion=us-east-1",
        "--context",
        "aws:RequestTag/project=ml-fraud",
        "--context",
        "aws:RequestTag/cost-center=cc-3100-fraud",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["decision"], "deny", "{answer:#}");
    assert_eq!(answer["deciding"]["kind"], "explicit");
    assert_eq!(answer["deciding"]["policy"], "deny-sagemaker-endpoints");
    assert_eq!(answer["deciding"]["level"], "ou.Workloads/Workloads_Dev");
    // The same request in prod is allowed.
    let out = lz.run(&[
        "explain",
        "--account",
        "ml-fraud-prod",
        "--action",
        "sagemaker:CreateEndpoint",
        "--context",
        "aws:RequestedRegion=us-west-2",
        "--context",
        "aws:RequestTag/project=ml-fraud",
        "--context",
        "aws:RequestTag/cost-center=cc-3100-fraud",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ALLOWED"), "{}", stdout(&out));
    // A bad account or action is a clear error.
    let out = lz.run(&["explain", "--account", "nope", "--action", "s3:GetObject"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no account `nope`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_scp_denying_the_access_role_is_refused_with_the_accounts_named() {
    let lz = Lz::example();
    lz.apply_ok();
    std::fs::write(
        lz.path("policies/deny-assume.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoAssume","Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}]}"#,
    )
    .unwrap();
    lz.append(
        "landfall.toml",
        "\n[scp.deny-assume]\ndescription = \"oops\"\nfile = \"policies/deny-assume.json\"\ntargets = [\"ou:Workloads/Workloads_Dev\"]\n",
    );
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("lock Landfall out of 1 account(s) (ml-fraud-dev)"),
        "{err}"
    );
    assert!(
        err.contains("sts:AssumeRole in account.ml-fraud-dev"),
        "{err}"
    );
    assert!(err.contains("deny-assume (Sid NoAssume)"), "{err}");
    let out = lz.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // Explicitly allowed: the plan goes ahead and shows what flips.
    let out = lz.run(&["plan", "--allow-lockout"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Effective permissions change in 1 account(s)"),
        "{text}"
    );
    assert!(
        text.contains("sts:AssumeRole in us-east-1: allowed -> denied"),
        "{text}"
    );
}

#[test]
fn an_ou_left_with_no_allow_path_is_refused() {
    let lz = Lz::example();
    lz.apply_ok();
    // Sandbox keeps only Deny SCPs once FullAWSAccess is gone: nothing can be allowed.
    lz.edit(
        "landfall.toml",
        "[ou.Sandbox]\n",
        "[ou.Sandbox]\nfull_aws_access = false\n",
    );
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no Allow path: no SCP attached to ou.Sandbox"),
        "{err}"
    );
    assert!(err.contains("ml-fraud-sandbox"), "{err}");
}

#[test]
fn a_failing_expectation_is_a_located_error_and_blocks_apply() {
    let lz = Lz::example();
    let out = lz.run(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("expectation(s) hold"),
        "{}",
        stderr(&out)
    );
    // Detach the endpoint SCP from dev: the seeds' first expectation now fails.
    lz.edit(
        "landfall.toml",
        "targets = [\"ou:Sandbox\", \"ou:Workloads/Workloads_Dev\"]",
        "targets = [\"ou:Sandbox\"]",
    );
    for args in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        let out = lz.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("error[expect]: landfall.toml:"), "{err}");
        assert!(
            err.contains("expected sagemaker:CreateEndpoint to be denied in ou.Workloads/Workloads_Dev, but in account.ml-fraud-dev it is allowed"),
            "{err}"
        );
    }
    // Nothing was applied.
    assert!(!lz.path("state/ml-platform.state.json").exists());
}

#[test]
fn explain_live_reads_the_applied_organization() {
    let lz = Lz::example();
    lz.apply_ok();
    // Out of band: the endpoint SCP detached from dev. The desired state still denies,
    // the live organization no longer does.
    lz.oob(Oob::Detach(
        "deny-sagemaker-endpoints",
        "ou:Workloads/Workloads_Dev",
    ));
    let ask = |live: bool| {
        let mut args = vec![
            "explain",
            "--account",
            "ml-fraud-dev",
            "--action",
            "sagemaker:CreateEndpoint",
            "--context",
            "aws:RequestedRegion=us-east-1",
            "--context",
            "aws:RequestTag/project=ml-fraud",
            "--context",
            "aws:RequestTag/cost-center=cc",
        ];
        if live {
            args.push("--live");
        }
        let out = lz.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    assert!(ask(false).starts_with("DENIED"), "{}", ask(false));
    let live = ask(true);
    assert!(live.starts_with("ALLOWED"), "{live}");
    assert!(live.contains("(live (sim organization"), "{live}");
}
