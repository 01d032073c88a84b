//! `landfall show PLANFILE` — a saved plan rendered as `plan` prints it, as JSON, or as
//! Markdown for a pull request (snapshot `snapshots/show_plan_markdown.snap`), and
//! refused when it is missing or was edited — and `--target` on `plan` and `apply`: a
//! partial plan of the targeted changes and what they depend on, which says it is one.

use std::collections::BTreeSet;
use std::process::Output;

use serde_json::Value;

use crate::support::{Lz, assert_valid_order, changes, ok, stderr, stdout};

/// stderr of a run that failed with exit 1 and printed nothing on stdout.
fn failed(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}:\n{}\n{}",
        stdout(out),
        stderr(out)
    );
    assert!(out.stdout.is_empty(), "{what}: {}", stdout(out));
    stderr(out)
}

/// The addresses the state file records.
fn state_addresses(lz: &Lz) -> BTreeSet<String> {
    lz.state()["resources"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn show_renders_a_saved_plan_as_plan_prints_it() {
    let lz = Lz::example();
    let json = ok(
        &lz.run(&["plan", "--json", "--out", "plan.json"]),
        "plan --json --out",
    );
    // --json: what `plan --json` printed, byte for byte (the file's digest left out).
    let shown = ok(&lz.run(&["show", "plan.json", "--json"]), "show --json");
    assert_eq!(shown, json);
    let plan: Value = serde_json::from_str(&shown).unwrap();
    assert!(plan.get("digest").is_none());
    assert!(changes(&plan).len() > 100);
    // Human: what `plan` prints.
    let human = ok(&lz.run(&["plan"]), "plan");
    assert_eq!(ok(&lz.run(&["show", "plan.json"]), "show"), human);
    // No backend, state or configuration: from an empty directory, nothing written.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = lz
        .cmd()
        .current_dir(elsewhere.path())
        .arg("show")
        .arg(lz.path("plan.json"))
        .output()
        .unwrap();
    assert_eq!(ok(&out, "show from elsewhere"), human);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert!(
        std::fs::read_dir(elsewhere.path())
            .unwrap()
            .next()
            .is_none()
    );
    assert!(!lz.path("state/ml-platform.state.json").exists());
    // --json and --markdown are one or the other.
    failed(
        &lz.run(&["show", "plan.json", "--json", "--markdown"]),
        "show --json --markdown",
    );
}

#[test]
fn show_refuses_an_edited_or_missing_plan_with_a_hint() {
    let lz = Lz::example();
    ok(&lz.run(&["plan", "--out", "plan.json"]), "plan --out");
    lz.edit(
        "plan.json",
        "\"reason\": \"declared; does not exist yet\"",
        "\"reason\": \"nothing to see here\"",
    );
    let err = failed(&lz.run(&["show", "plan.json"]), "show of an edited plan");
    assert!(err.contains("digest does not match"), "{err}");
    assert!(err.contains("hint:"), "{err}");

    let err = failed(
        &lz.run(&["show", "no-such-plan.json", "--markdown"]),
        "show of a missing file",
    );
    assert!(err.contains("cannot read plan no-such-plan.json"), "{err}");
    assert!(err.contains("hint:") && err.contains("plan --out"), "{err}");

    std::fs::write(lz.path("not-a-plan.json"), "{}").unwrap();
    let err = failed(
        &lz.run(&["show", "not-a-plan.json", "--json"]),
        "show of {}",
    );
    assert!(err.contains("is not a Landfall plan"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn show_markdown_of_a_saved_plan() {
    let lz = Lz::example();
    lz.apply_ok();
    // A tag update, an SCP's content changed (a policy diff, permissions that flip with
    // the deciding statement), a new OU and account (creates with their operations) and
    // an SCP detached (permissions that flip to allowed).
    lz.edit(
        "landfall.toml",
        "owner = \"security-team\", managed-by",
        "owner = \"sec-ops\", managed-by",
    );
    lz.edit(
        "policies/deny-leave-org.json",
        "\"Action\": \"organizations:LeaveOrganization\"",
        "\"Action\": [\"organizations:LeaveOrganization\", \"organizations:DeleteOrganization\"]",
    );
    lz.append(
        "landfall.toml",
        "\n[ou.\"Workloads/Workloads_Test\"]\n\n[account.ml-fraud-test]\nemail = \"aws+ml-fraud-test@example.com\"\nou = \"Workloads/Workloads_Test\"\n",
    );
    lz.edit(
        "landfall.toml",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Workloads\", \"ou:Sandbox\"]",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Sandbox\"]",
    );
    ok(&lz.run(&["plan", "--out", "plan.json"]), "plan --out");
    let markdown = ok(
        &lz.run(&["show", "plan.json", "--markdown"]),
        "show --markdown",
    );
    assert_eq!(
        ok(
            &lz.run(&["show", "plan.json", "--markdown"]),
            "show --markdown"
        ),
        markdown,
        "the same plan gives the same bytes"
    );
    let plan: Value = serde_json::from_str(&ok(
        &lz.run(&["show", "plan.json", "--json"]),
        "show --json",
    ))
    .unwrap();
    assert_eq!(
        markdown.matches("<details>").count(),
        changes(&plan).len(),
        "one <details> block per change"
    );
    assert!(markdown.contains("## Permission changes"), "{markdown}");
    crate::formats::assert_format(
        Some(&lz),
        "show_plan_markdown",
        "landfall show PLANFILE --markdown: a saved plan after edits to the applied example (tags, an SCP's content, a new OU and account, a detach)",
        &markdown,
    );
}

#[test]
fn target_plans_an_account_with_what_it_needs_and_apply_converges_only_those() {
    let lz = Lz::example();
    let whole = lz.plan_json();
    let out = lz.run(&["plan", "--json", "--target", "account.ml-fraud-dev"]);
    let plan: Value = serde_json::from_str(&ok(&out, "plan --target")).unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("--target is in effect") && err.contains("exceptional use"),
        "{err}"
    );
    assert!(err.contains("run a full `landfall plan` next"), "{err}");
    // The account, its OU and the OU's parent — nothing else is needed to create it —
    // and the root's adoption (a record: accounts are created relative to the root).
    let targeted = changes(&plan);
    let addresses: Vec<&str> = targeted.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "root",
            "ou.Workloads",
            "ou.Workloads/Workloads_Dev",
            "account.ml-fraud-dev"
        ],
        "{targeted:?}"
    );
    assert_eq!(targeted[0].1, "adopt");
    assert!(targeted[1..].iter().all(|(_, action)| action == "create"));
    assert_eq!(plan["targets"], serde_json::json!(["account.ml-fraud-dev"]));
    assert_eq!(plan["summary"]["create"], 3);
    assert_eq!(plan["summary"]["adopt"], 1);
    assert_eq!(plan["changes"][2]["depends_on"], serde_json::json!([1]));
    assert_eq!(plan["changes"][3]["depends_on"], serde_json::json!([2]));
    assert_valid_order(&plan);
    assert!(changes(&whole).len() > 100);

    let human = ok(
        &lz.run(&["plan", "--target", "account.ml-fraud-dev"]),
        "plan --target (human)",
    );
    assert!(
        human.contains("warning: this plan is partial (--target account.ml-fraud-dev)"),
        "{human}"
    );
    assert!(human.contains("Plan: 3 to create, 0 to update"), "{human}");

    let out = lz.run(&[
        "apply",
        "--auto-approve",
        "--target",
        "account.ml-fraud-dev",
    ]);
    ok(&out, "apply --target");
    assert!(
        stderr(&out).contains("--target is in effect"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("Apply complete: 4 change(s)"),
        "{}",
        stdout(&out)
    );
    let applied: BTreeSet<String> = addresses.iter().map(|a| a.to_string()).collect();
    assert_eq!(state_addresses(&lz), applied);
    // The next whole plan has nothing left for them, and everything else still to do.
    let after = changes(&lz.plan_json());
    for (address, action) in &after {
        assert!(
            !applied.contains(address),
            "{address} planned again ({action})"
        );
    }
    assert!(after.len() > 100, "{} changes", after.len());
    assert!(
        after
            .iter()
            .any(|(a, action)| a == "account.ml-fraud-prod" && action == "create")
    );
    // Targeted again: nothing to do, said as a warning.
    let out = lz.run(&[
        "plan",
        "--detailed-exitcode",
        "--target",
        "account.ml-fraud-dev",
    ]);
    assert!(ok(&out, "plan --target again").contains("No changes for the targeted addresses."));
    assert!(
        stderr(&out).contains("target `account.ml-fraud-dev` has no change"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_saved_targeted_plan_records_its_targets_and_says_it_is_partial() {
    let lz = Lz::example();
    ok(
        &lz.run(&[
            "plan",
            "--out",
            "partial.json",
            "--target",
            "scp.deny-leave-org",
            "--target",
            "ou.Sandbox",
        ]),
        "plan --target --out",
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(lz.path("partial.json")).unwrap()).unwrap();
    assert_eq!(
        saved["targets"],
        serde_json::json!(["ou.Sandbox", "scp.deny-leave-org"])
    );
    let mut addresses: Vec<String> = changes(&saved).into_iter().map(|(a, _)| a).collect();
    addresses.sort();
    assert_eq!(addresses, ["ou.Sandbox", "root", "scp.deny-leave-org"]);

    let human = ok(&lz.run(&["show", "partial.json"]), "show");
    assert!(
        human.contains("this plan is partial (--target ou.Sandbox --target scp.deny-leave-org)"),
        "{human}"
    );
    let markdown = ok(
        &lz.run(&["show", "partial.json", "--markdown"]),
        "show --markdown",
    );
    assert!(
        markdown.contains("> [!WARNING]\n> This plan is partial (--target ou.Sandbox"),
        "{markdown}"
    );

    // A saved plan was targeted when it was made.
    let err = failed(
        &lz.run(&["apply", "partial.json", "--target", "ou.Sandbox"]),
        "apply FILE --target",
    );
    assert!(err.contains("--target"), "{err}");
    assert!(!lz.path("state/ml-platform.state.json").exists());

    let out = lz.run(&["apply", "partial.json"]);
    ok(&out, "apply of the partial plan");
    assert!(
        stderr(&out).contains("this plan is partial"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        state_addresses(&lz),
        BTreeSet::from(["root", "ou.Sandbox", "scp.deny-leave-org"].map(String::from))
    );
}

#[test]
fn an_unknown_target_is_a_warning_and_an_unparsable_one_an_error() {
    let lz = Lz::example();
    for args in [
        &["plan", "--target", "not-an-address"][..],
        &["apply", "--auto-approve", "--target", "nope.x"],
    ] {
        let err = failed(&lz.run(args), &format!("{args:?}"));
        assert!(
            err.contains(&format!("--target {}", args[args.len() - 1])),
            "{err}"
        );
        assert!(err.contains("is not an address"), "{err}");
    }
    assert!(
        !lz.path("state").exists(),
        "nothing read or written before the targets parse"
    );

    let out = lz.run(&[
        "plan",
        "--json",
        "--target",
        "account.no-such-account",
        "--target",
        "ou.Sandbox",
    ]);
    let plan: Value = serde_json::from_str(&ok(&out, "plan --target unknown")).unwrap();
    assert!(
        stderr(&out).contains("target `account.no-such-account` has no change in this plan"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        changes(&plan),
        [
            ("root".into(), "adopt".into()),
            ("ou.Sandbox".into(), "create".into())
        ]
    );
}
