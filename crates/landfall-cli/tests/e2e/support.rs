//! The shared harness: a copy of the example landing zone in a temp dir (`Lz`), the
//! backend it runs on (`On`), and helpers over command output and plan JSON.
//! Submodules: moto's server (`moto`), out-of-band changes (`oob`), and the backend's own
//! view of the organization and member accounts (`view`).

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

mod moto;
mod oob;
mod view;

pub use moto::{moto_env, moto_session, moto_url, runtime};
pub use oob::{MemberOob, Oob};
pub use view::assert_example_is_live;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Which backend a scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    Sim,
    /// moto's server, started by `scripts/test` (LANDFALL_TEST_MOTO_URL).
    Moto,
}

/// A copy of the example landing zone in a temp dir, used as the working directory.
pub struct Lz {
    pub dir: tempfile::TempDir,
    pub on: On,
}

impl Lz {
    pub fn example() -> Self {
        Self::example_on(On::Sim)
    }

    pub fn example_on(on: On) -> Self {
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
            // moto's AWS-managed policy data (5.2.5) has no job-function/ViewOnlyAccess,
            // so its AttachManagedPolicyToPermissionSet refuses it; AWS has it.
            // moto 5.2.5 refuses Organizations delegated administrators for
            // config.amazonaws.com and securityhub.amazonaws.com, has no Security Hub
            // admin list and no IAM Access Analyzer: on moto the security tooling
            // account administers GuardDuty only (the others are tested on the sim
            // and with mocks, landfall-aws/tests/mocked/security.rs).
            text = text.replace(
                "services = [\"guardduty\", \"securityhub\", \"config\", \"access_analyzer\"]",
                "services = [\"guardduty\"]",
            );
            text = text.replace(
                "[permission_set.SecurityAuditor]\npersona = \"security_auditor\"",
                "[permission_set.SecurityAuditor]\npersona = \"security_auditor\"\nmanaged_policies = [\"SecurityAudit\"]",
            );
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

    /// The example without its Identity Center block, for tests of the organization's
    /// structure that remove or rename the accounts and OUs its assignments name
    /// (`identity.rs` tests the block itself).
    pub fn without_identity(self) -> Self {
        let path = self.path("landfall.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        let start = text.find("# >>> identity").expect("identity block start");
        let end = text.find("# <<< identity").expect("identity block end");
        text.replace_range(start..end, "");
        std::fs::write(&path, text).unwrap();
        self
    }

    /// The example without its governance block (Control Tower and Service Catalog):
    /// without a landing zone, Landfall makes the organization trail and the Config
    /// aggregator itself (Control Tower owns them otherwise).
    pub fn without_governance(self) -> Self {
        let path = self.path("landfall.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        if let (Some(start), Some(end)) =
            (text.find("# >>> governance"), text.find("# <<< governance"))
        {
            text.replace_range(start..end, "");
        }
        std::fs::write(&path, text).unwrap();
        self
    }

    /// A copy of a fixture landing zone (`tests/e2e/fixtures/NAME/`: `landfall.toml`
    /// and the files it references), in a temp dir.
    pub fn fixture_on(name: &str, on: On) -> Self {
        fn copy_dir(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let entry = entry.unwrap();
                let target = to.join(entry.file_name());
                if entry.file_type().unwrap().is_dir() {
                    copy_dir(&entry.path(), &target);
                } else {
                    std::fs::copy(entry.path(), target).unwrap();
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/e2e/fixtures")
            .join(name);
        copy_dir(&fixture, dir.path());
        Lz { dir, on }
    }

    /// A landing zone of one `landfall.toml` with this text, in a temp dir.
    pub fn from_config(text: &str, on: On) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("landfall.toml"), text).unwrap();
        Lz { dir, on }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("landfall").unwrap();
        c.current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("LANDFALL_SIM_FAULTS")
            .env_remove("LANDFALL_STATE")
            .env_remove("LANDFALL_LOG");
        if self.on == On::Moto {
            for (k, v) in moto_env() {
                c.env(k, v);
            }
            c.args(["--backend", "aws"]);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn run_with_faults(&self, faults: &str, args: &[&str]) -> Output {
        self.cmd()
            .env("LANDFALL_SIM_FAULTS", faults)
            .args(args)
            .output()
            .unwrap()
    }

    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let p = self.path(rel);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }

    pub fn append(&self, rel: &str, extra: &str) {
        let p = self.path(rel);
        let mut text = std::fs::read_to_string(&p).unwrap();
        text.push_str(extra);
        std::fs::write(&p, text).unwrap();
    }

    pub fn plan_json(&self) -> Value {
        let out = self.run(&["plan", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    pub fn world(&self) -> Value {
        let text = std::fs::read_to_string(self.path("state/ml-platform.sim-world.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.path("state/ml-platform.state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    pub fn apply_ok(&self) {
        let out = self.run(&["apply", "--auto-approve"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "apply failed:\n{}\n{}",
            stdout(&out),
            stderr(&out)
        );
    }

    pub fn assert_converged(&self) {
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

/// stdout of a run that must have succeeded; its output in the failure message.
pub fn ok(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}:\n{}\n{}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// The `-v` line `"<what> made N API calls: Api=n …"` (`what`: `refresh`, `apply`):
/// its total and its counts by API (the total checked against the counts).
pub fn calls_made(log: &str, what: &str) -> (u64, std::collections::BTreeMap<String, u64>) {
    let prefix = format!("{what} made ");
    let line = log
        .lines()
        .find(|l| l.contains(&prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in\n{log}"));
    let rest = &line[line.find(&prefix).unwrap() + prefix.len()..];
    let (total, list) = rest.split_once(" API calls: ").unwrap();
    let by_api: std::collections::BTreeMap<String, u64> = list
        .split_whitespace()
        .map(|w| {
            let (api, n) = w.split_once('=').unwrap();
            (api.to_string(), n.parse().unwrap())
        })
        .collect();
    let total: u64 = total.trim().parse().unwrap();
    assert_eq!(total, by_api.values().sum::<u64>(), "{line}");
    (total, by_api)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// (address, action) pairs of a plan JSON, in plan order.
pub fn changes(plan: &Value) -> Vec<(String, String)> {
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

pub fn position(list: &[(String, String)], address: &str) -> usize {
    list.iter()
        .position(|(a, _)| a == address)
        .unwrap_or_else(|| panic!("{address} not in plan: {list:?}"))
}

/// Every `depends_on` points at an earlier change.
pub fn assert_valid_order(plan: &Value) {
    for (i, c) in plan["changes"].as_array().unwrap().iter().enumerate() {
        for d in c["depends_on"].as_array().into_iter().flatten() {
            assert!(
                (d.as_u64().unwrap() as usize) < i,
                "change {i} depends on a later change"
            );
        }
    }
}
