//! State surgery (issue 14): `landfall state rm` and `landfall state mv` — checked whole
//! before anything is written, under the lock, after a backup — and what the next plan
//! makes of them: a removed resource still declared is adopted, one no longer declared
//! is left alone (never deleted), and an OU moved in the state and renamed in the file
//! is renamed in place, as `[[moved]]` does. On the sim, and on moto with the state in
//! S3 (the previous object version as the backup).

use std::collections::BTreeSet;

use serde_json::Value;

use landfall_aws::testkit::Console;

use crate::resilience::slow_apply_holding_the_lock;
use crate::support::{Lz, On, changes, moto_session, moto_url, ok, runtime, stderr, stdout};

fn state_bytes(lz: &Lz) -> Vec<u8> {
    std::fs::read(lz.path("state/ml-platform.state.json")).unwrap()
}

/// The backups beside the sim state, by name.
fn backups(lz: &Lz) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(lz.path("state"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".backup"))
        .collect();
    found.sort();
    found
}

fn id_of(state: &Value, address: &str) -> String {
    state["resources"][address]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{address} not in the state"))
        .to_string()
}

/// Removes the `[HEADER]` table (up to the next blank line) from the file.
fn drop_block(lz: &Lz, header: &str) {
    let path = lz.path("landfall.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("no {header} in the file"));
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |e| start + e + 2);
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

/// `state rm` refuses, all at once and writing nothing, addresses that do not parse or
/// are not in the state (with a "did you mean") and removals that would leave records
/// naming what they remove; `--dry-run` says what it would do; the removal itself
/// prints a line per record, keeps the previous state beside it and bumps the serial;
/// and the next plan only adopts what was removed — nothing created, deleted or moved.
#[test]
fn state_rm_is_checked_whole_then_the_plan_adopts_what_it_removed() {
    let lz = Lz::example().without_identity();
    lz.apply_ok();
    let before = lz.state();
    let before_bytes = state_bytes(&lz);
    let live_before = lz.view();

    let out = lz.run(&[
        "state",
        "rm",
        "account.ml-fraud-sandbx",
        "scp.restrict-instance-types",
        "not-an-address",
        "ou.Nope",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    for expected in [
        "`not-an-address` is not an address",
        "account.ml-fraud-sandbx is not in the state",
        "did you mean `account.ml-fraud-sandbox`?",
        "ou.Nope is not in the state",
        "scp.restrict-instance-types cannot be removed alone: attachment.restrict-instance-types:ou.Sandbox would be left naming it",
        "pass --recursive",
        "landfall state list",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert_eq!(state_bytes(&lz), before_bytes, "nothing written");
    assert!(backups(&lz).is_empty());

    // An account's implicit FullAWSAccess attachment goes with it: no --recursive.
    let out = lz.run(&["state", "rm", "account.ml-fraud-sandbox", "--dry-run"]);
    ok(&out, "state rm of one account");
    assert!(
        stdout(&out).contains("would remove attachment.FullAWSAccess:account.ml-fraud-sandbox"),
        "{}",
        stdout(&out)
    );
    assert_eq!(state_bytes(&lz), before_bytes, "a dry run writes nothing");

    let removed = [
        "account.ml-fraud-sandbox",
        "scp.restrict-instance-types",
        "ou.Deployments/Deployments_PreProd",
    ];
    let mut args = vec!["state", "rm", "--recursive"];
    args.extend(removed);
    let out = lz.run(&[args.as_slice(), &["--dry-run"]].concat());
    ok(&out, "state rm --dry-run");
    let dry = stdout(&out);
    assert!(
        dry.contains(&format!(
            "would remove account.ml-fraud-sandbox ({})\n",
            id_of(&before, "account.ml-fraud-sandbox")
        )),
        "{dry}"
    );
    assert!(dry.contains("Dry run: nothing written"), "{dry}");
    assert_eq!(state_bytes(&lz), before_bytes, "a dry run writes nothing");
    assert!(backups(&lz).is_empty());

    let out = lz.run(&args);
    ok(&out, "state rm --recursive");
    // The addresses given and the records naming them, each with its id.
    let gone: BTreeSet<String> = [
        "ou.Deployments/Deployments_PreProd",
        "account.ml-fraud-sandbox",
        "scp.restrict-instance-types",
        "attachment.FullAWSAccess:ou.Deployments/Deployments_PreProd",
        "attachment.FullAWSAccess:account.ml-fraud-sandbox",
        "attachment.restrict-instance-types:ou.Sandbox",
        "registration.ou.Deployments/Deployments_PreProd",
    ]
    .map(str::to_string)
    .into();
    let printed = stdout(&out);
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), gone.len() + 1, "{printed}");
    for address in &gone {
        let line = format!("removed {address} ({})", id_of(&before, address));
        assert!(lines.contains(&line.as_str()), "no {line:?} in:\n{printed}");
    }
    let after = lz.state();
    assert_eq!(
        after["serial"].as_u64().unwrap(),
        before["serial"].as_u64().unwrap() + 1
    );
    let kept: BTreeSet<String> = after["resources"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let all: BTreeSet<String> = before["resources"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        all.difference(&kept).cloned().collect::<BTreeSet<_>>(),
        gone
    );
    let saved = backups(&lz);
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(std::fs::read(&saved[0]).unwrap(), before_bytes);
    assert!(
        printed.contains(&format!(
            "saved as {}",
            saved[0].strip_prefix(lz.dir.path()).unwrap().display()
        )),
        "{printed}"
    );
    assert_eq!(lz.view(), live_before, "nothing live was touched");

    // Still declared: adopted again (found by natural key), nothing else.
    let plan = lz.plan_json();
    let list = changes(&plan);
    assert!(list.iter().all(|(_, action)| action == "adopt"), "{list:?}");
    let adopted: BTreeSet<String> = list.into_iter().map(|(a, _)| a).collect();
    assert_eq!(adopted, gone);
    lz.apply_ok();
    lz.assert_converged();
    let listed = stdout(&lz.run(&["state", "list"]));
    assert!(
        listed.contains(&format!(
            "account.ml-fraud-sandbox\t{}\tadopted",
            id_of(&before, "account.ml-fraud-sandbox")
        )),
        "{listed}"
    );
    assert_eq!(lz.view(), live_before);
}

/// Removed from the state and from the file, a resource is no longer Landfall's: the
/// plan neither deletes nor closes it (where without `state rm` it would delete the
/// SCP, the OU and the registration Landfall created). With `prune_unmanaged` on,
/// `state rm` warns that what prune covers would be pruned.
#[test]
fn state_rm_of_an_undeclared_resource_leaves_it_alone() {
    let lz = Lz::example();
    lz.apply_ok();
    let live_before = lz.view();
    for header in [
        "[account.security-break-glass]",
        "[scp.restrict-instance-types]",
        "[ou.\"Deployments/Deployments_PreProd\"]",
    ] {
        drop_block(&lz, header);
    }
    let plan = lz.plan_json();
    let deletes: Vec<String> = changes(&plan)
        .into_iter()
        .filter(|(_, action)| action == "delete")
        .map(|(a, _)| a)
        .collect();
    assert!(
        deletes.contains(&"scp.restrict-instance-types".to_string())
            && deletes.contains(&"ou.Deployments/Deployments_PreProd".to_string()),
        "without state rm the plan deletes what Landfall created: {deletes:?}"
    );

    let out = lz.run(&[
        "state",
        "rm",
        "--recursive",
        "account.security-break-glass",
        "scp.restrict-instance-types",
        "ou.Deployments/Deployments_PreProd",
    ]);
    ok(&out, "state rm");
    let err = stderr(&out);
    assert!(
        err.contains("prune_unmanaged is on and account.security-break-glass, scp.restrict-instance-types, ou.Deployments/Deployments_PreProd are not declared"),
        "{err}"
    );
    // The example prunes: the undeclared OU (now unmanaged, empty, below the root) and
    // the undeclared SCP's attachment to a managed OU are pruned, as anything made by
    // hand would be; the account and the SCP itself are not.
    let plan = lz.plan_json();
    assert_eq!(
        changes(&plan),
        vec![
            (
                "ou.Deployments/Deployments_PreProd".to_string(),
                "delete".to_string()
            ),
            (
                "attachment.restrict-instance-types:ou.Sandbox".to_string(),
                "delete".to_string()
            ),
        ],
        "{plan:#}"
    );
    for change in plan["changes"].as_array().unwrap() {
        assert!(
            change["reason"]
                .as_str()
                .unwrap()
                .contains("prune_unmanaged"),
            "{change:#}"
        );
    }

    lz.edit(
        "landfall.toml",
        "prune_unmanaged = true",
        "prune_unmanaged = false",
    );
    let out = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("No changes."), "{}", stdout(&out));
    lz.apply_ok();
    assert_eq!(lz.view(), live_before, "nothing live was touched");
}

/// `state mv` re-addresses with the same code as `[[moved]]`: an OU renamed in the
/// file and moved in the state is one rename of the same OU, and the apply leaves the
/// state `[[moved]]` would. Moves that would lose or confuse a record are refused.
#[test]
fn state_mv_renames_an_ou_in_place_like_moved() {
    let lz = Lz::example();
    lz.apply_ok();
    let before = lz.state();
    let before_bytes = state_bytes(&lz);
    let sandbox_id = id_of(&before, "ou.Sandbox");

    for (from, to, expected) in [
        (
            "ou.Sandbox",
            "account.Sandbox",
            "cannot move ou.Sandbox to account.Sandbox: they are different kinds (ou and account)",
        ),
        (
            "ou.Sandbox",
            "ou.Security",
            "cannot move to ou.Security: it is in the state already",
        ),
        (
            "ou.Sandbx",
            "ou.Playground",
            "ou.Sandbx is not in the state",
        ),
        ("ou.Sandbox", "ou.", "an OU path cannot be empty"),
    ] {
        let out = lz.run(&["state", "mv", from, to]);
        assert_eq!(out.status.code(), Some(1), "{from} -> {to}");
        assert!(stderr(&out).contains(expected), "{}", stderr(&out));
    }
    assert_eq!(state_bytes(&lz), before_bytes, "nothing written");

    // Before the file is edited: what it would do, and what the plan would make of it.
    let out = lz.run(&["state", "mv", "ou.Sandbox", "ou.Playground", "--dry-run"]);
    ok(&out, "state mv --dry-run");
    assert!(
        stdout(&out).starts_with("would move ou.Sandbox -> ou.Playground\n"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains("ou.Playground is not declared")
            && err.contains("ou.Sandbox is still declared"),
        "{err}"
    );
    assert_eq!(state_bytes(&lz), before_bytes, "a dry run writes nothing");

    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let renamed = text
        .replace("[ou.Sandbox]", "[ou.Playground]")
        .replace("\"ou:Sandbox\"", "\"ou:Playground\"")
        .replace("ou = \"Sandbox\"", "ou = \"Playground\"");
    std::fs::write(lz.path("landfall.toml"), renamed).unwrap();
    let out = lz.run(&["state", "mv", "ou.Sandbox", "ou.Playground"]);
    ok(&out, "state mv");
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let printed = stdout(&out);
    for line in [
        "moved ou.Sandbox -> ou.Playground",
        "moved attachment.restrict-instance-types:ou.Sandbox -> attachment.restrict-instance-types:ou.Playground",
        "moved registration.ou.Sandbox -> registration.ou.Playground",
        "updated account.ml-fraud-sandbox (ou.Sandbox -> ou.Playground in its attributes)",
    ] {
        assert!(
            printed.lines().any(|l| l == line),
            "no {line:?} in:\n{printed}"
        );
    }
    assert_eq!(backups(&lz).len(), 1);

    let plan = lz.plan_json();
    assert_eq!(
        changes(&plan),
        vec![("ou.Playground".to_string(), "update".to_string())],
        "{plan:#}"
    );
    assert_eq!(plan["changes"][0]["ops"][0]["op"], "rename_ou");
    assert_eq!(plan["changes"][0]["id"], sandbox_id.as_str());
    lz.apply_ok();
    lz.assert_converged();
    assert_eq!(
        lz.view().ous.get("Playground").map(String::as_str),
        Some(sandbox_id.as_str())
    );

    // The same edit through `[[moved]]` leaves the same records.
    let twin = Lz::example();
    twin.apply_ok();
    let text = std::fs::read_to_string(twin.path("landfall.toml")).unwrap();
    let renamed = text
        .replace("[ou.Sandbox]", "[ou.Playground]")
        .replace("\"ou:Sandbox\"", "\"ou:Playground\"")
        .replace("ou = \"Sandbox\"", "ou = \"Playground\"");
    std::fs::write(
        twin.path("landfall.toml"),
        format!("{renamed}\n[[moved]]\nfrom = \"ou.Sandbox\"\nto = \"ou.Playground\"\n"),
    )
    .unwrap();
    twin.apply_ok();
    let addresses = |state: &Value| -> BTreeSet<String> {
        state["resources"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(addresses(&lz.state()), addresses(&twin.state()));
}

/// Both commands take the exclusive lock (failing at once naming the holder, or after
/// `--lock-timeout`); a creation an interrupted apply left pending can be removed but
/// not moved.
#[test]
fn state_rm_and_mv_take_the_lock_and_handle_pending_creations() {
    let lz = Lz::example();
    lz.apply_ok();
    // An apply with work to do, slowed down: it holds the lock for seconds.
    lz.edit(
        "landfall.toml",
        "owner = \"security-team\", managed-by",
        "owner = \"sec-ops\", managed-by",
    );
    let mut slow = slow_apply_holding_the_lock(&lz, 300);
    let started = std::time::Instant::now();
    let rm = lz.run(&[
        "state",
        "rm",
        "--recursive",
        "account.log-archive",
        "--lock-timeout",
        "1s",
    ]);
    let mv = lz.run(&["state", "mv", "scp.deny-leave-org", "scp.no-leaving"]);
    let _ = slow.kill();
    let _ = slow.wait();
    for out in [&rm, &mv] {
        assert_eq!(out.status.code(), Some(1), "{}", stdout(out));
        let err = stderr(out);
        assert!(
            err.contains("locked by another Landfall run") && err.contains("`landfall apply`"),
            "{err}"
        );
    }
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert!(backups(&lz).is_empty(), "nothing was backed up or written");

    // A creation left pending (its response lost in a crash).
    let path = lz.path("state/ml-platform.state.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    state["pending_creates"] = serde_json::json!(["account.ghost"]);
    std::fs::write(&path, serde_json::to_vec_pretty(&state).unwrap()).unwrap();
    let out = lz.run(&["state", "mv", "account.ghost", "account.spirit"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("only a pending creation"),
        "{}",
        stderr(&out)
    );
    let out = lz.run(&["state", "rm", "account.ghost"]);
    ok(&out, "state rm of a pending creation");
    assert!(
        stdout(&out).starts_with("removed account.ghost (a pending creation)\n"),
        "{}",
        stdout(&out)
    );
    assert!(lz.state().get("pending_creates").is_none());
}

const S3_LZ: &str = r#"
[landing_zone]
name = "ml-platform"
home_region = "us-east-1"
backend = "aws"

[ou.Workloads]

[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads"

[scp.need-vpc]
targets = ["ou:Workloads"]
content = '''{"Version":"2012-10-17","Statement":[{"Sid":"NeedVpc","Effect":"Deny","Action":"sagemaker:CreateTrainingJob","Resource":"*","Condition":{"Null":{"sagemaker:VpcSubnets":"true"}}}]}'''

[state]
backend = "s3"
bucket = "surgery-state"
key = "ml-platform.state.json"
region = "us-east-1"
"#;

/// With the state in S3 (moto): `state rm` takes the S3 lock, writes with `If-Match` at
/// the next serial, and names the previous object version as the backup (no local
/// file); the next plan adopts what was removed.
#[test]
fn state_rm_on_s3_state_keeps_the_previous_version_on_moto() {
    let _moto = moto_session();
    let console = runtime().block_on(Console::connect(&moto_url()));
    runtime()
        .block_on(console.create_versioned_bucket("surgery-state"))
        .unwrap();
    let lz = Lz::from_config(S3_LZ, On::Moto);
    lz.apply_ok();
    let pulled = |args: &[&str]| -> Value {
        let mut all = vec!["state", "pull"];
        all.extend(args);
        let out = lz.run(&all);
        ok(&out, "state pull");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = pulled(&[]);

    // A lock held elsewhere: refused, naming it.
    let held = serde_json::json!({
        "id": "5b0c2d3e-0000-4000-8000-00000000beef",
        "operation": "landfall apply",
        "who": "ci",
        "host": "runner-3",
        "pid": 77,
        "created": "2026-12-04T10:00:00Z",
        "version": "0.1.0"
    });
    runtime()
        .block_on(console.put_object(
            "surgery-state",
            "ml-platform.state.json.lock",
            &held.to_string(),
        ))
        .unwrap();
    let out = lz.run(&["state", "rm", "--recursive", "account.ml-dev"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("runner-3"), "{}", stderr(&out));
    ok(
        &lz.run(&["force-unlock", "5b0c2d3e-0000-4000-8000-00000000beef"]),
        "force-unlock",
    );

    let out = lz.run(&[
        "state",
        "rm",
        "--recursive",
        "account.ml-dev",
        "scp.need-vpc",
    ]);
    ok(&out, "state rm on S3");
    let printed = stdout(&out);
    assert!(
        printed.contains(&format!(
            "removed account.ml-dev ({})\n",
            id_of(&before, "account.ml-dev")
        )),
        "{printed}"
    );
    let version = printed
        .split("The previous state is version ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap_or_else(|| panic!("no version id in {printed}"))
        .to_string();
    let previous = pulled(&["--version-id", &version]);
    assert_eq!(previous, before, "the named version is the state replaced");
    let after = pulled(&[]);
    assert_eq!(
        after["serial"].as_u64().unwrap(),
        before["serial"].as_u64().unwrap() + 1
    );
    assert!(after["resources"].get("account.ml-dev").is_none());
    let local: Vec<_> = std::fs::read_dir(lz.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("backup"))
        .collect();
    assert!(local.is_empty(), "no local backup of S3 state: {local:?}");
    assert!(
        !runtime().block_on(console.object_exists("surgery-state", "ml-platform.state.json.lock"))
    );

    let adopted: BTreeSet<String> = changes(&lz.plan_json())
        .into_iter()
        .map(|(address, action)| {
            assert_eq!(action, "adopt", "{address}");
            address
        })
        .collect();
    let expected: BTreeSet<String> = [
        "account.ml-dev",
        "scp.need-vpc",
        "attachment.FullAWSAccess:account.ml-dev",
        "attachment.need-vpc:ou.Workloads",
    ]
    .map(str::to_string)
    .into();
    assert_eq!(adopted, expected);
}
