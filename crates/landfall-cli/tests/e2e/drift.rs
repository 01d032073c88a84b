//! The drift job: ignore rules, next commands, and accepting live values
//! (`apply --refresh-only`).

use serde_json::Value;

use crate::support::{Lz, Oob, stderr, stdout};

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
    // Into the landing zone's Security OU, which Landfall does not register, so the
    // move is the account's only finding (a registered OU would also report the
    // account as not enrolled: see the registration tests).
    lz.oob(Oob::Move("ml-fraud-dev", "ou:Security"));
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

/// Accepting an OU renamed by hand records the new name, and nothing else: its accounts
/// did not move (their parent id is the same), so neither drift nor plan may report
/// them afterwards.
#[test]
fn refresh_only_after_an_ou_rename_leaves_only_the_rename_pending() {
    let lz = Lz::example();
    lz.apply_ok();
    let out = lz.run(&[
        "sim",
        "rename-ou",
        "ou:Workloads/Workloads_Dev",
        "DevRenamed",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Without a terminal the confirmation is refused, with the command that answers it.
    let out = lz.run(&["apply", "--refresh-only"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("landfall apply --refresh-only --auto-approve"),
        "{}",
        stderr(&out)
    );

    let out = lz.run(&["apply", "--refresh-only", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("account."),
        "only the OU is accepted: {}",
        stdout(&out)
    );
    let (code, found) = drift_classes(&lz, &[]);
    assert_eq!(code, Some(2));
    assert_eq!(
        found,
        vec![(
            "pending".to_string(),
            "ou.Workloads/Workloads_Dev".to_string()
        )]
    );
    let plan: Value = serde_json::from_slice(&lz.run(&["plan", "--json"]).stdout).unwrap();
    let addresses: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, vec!["ou.Workloads/Workloads_Dev"], "{plan}");
}
