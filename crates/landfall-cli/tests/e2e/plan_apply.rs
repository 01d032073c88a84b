//! Plan and apply of the example: ordering, determinism, saved plans, the state and the
//! dependency graph.

use serde_json::Value;

use crate::support::{Lz, assert_valid_order, changes, position, stderr, stdout};

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

/// A saved plan edited after it was written — an operation changed while its record
/// was not — is refused before anything runs; reformatting it is harmless.
/// A saved plan records the state it was made against (issue 13): applied with
/// another state (a second copy, another `--state`) it is refused before anything
/// runs; from another working directory with the same state it applies.
#[test]
fn a_saved_plan_is_applied_only_against_its_state() {
    let lz = Lz::example();
    let out = lz.run(&["plan", "--out", "tfplan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(lz.path("tfplan.json")).unwrap()).unwrap();
    let recorded = plan["state_location"].as_str().unwrap().to_string();
    assert!(
        recorded.ends_with("state/ml-platform.state.json") && recorded.starts_with('/'),
        "{recorded}"
    );
    // Beside the same sim world (it lives in the state's directory), another state.
    let out = lz.run(&["--state", "state/other.state.json", "apply", "tfplan.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("made against the state at"), "{err}");
    assert!(!lz.path("state/other.state.json").exists());
    // The same state named from elsewhere: `-c` from the parent directory.
    let dir = lz.dir.path();
    let parent = dir.parent().unwrap();
    let config = dir.join("landfall.toml");
    let out = lz
        .cmd()
        .current_dir(parent)
        .args(["-c", config.to_str().unwrap(), "apply"])
        .arg(dir.join("tfplan.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    lz.assert_converged();
}

#[test]
fn an_edited_saved_plan_is_refused() {
    let lz = Lz::example();
    let out = lz.run(&["plan", "--out", "tfplan.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(lz.path("tfplan.json")).unwrap();
    assert!(text.contains("\"digest\": \"sha256:"), "{text}");

    // Reformatted (same content, other whitespace): still applies.
    let plan: Value = serde_json::from_str(&text).unwrap();
    std::fs::write(
        lz.path("compact.json"),
        serde_json::to_string(&plan).unwrap(),
    )
    .unwrap();

    // One operation's tag value edited; the record says otherwise.
    assert!(text.contains("\"ml-platform-team\""));
    std::fs::write(
        lz.path("tfplan.json"),
        text.replacen("\"ml-platform-team\"", "\"someone-else\"", 1),
    )
    .unwrap();
    let out = lz.run(&["apply", "tfplan.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("was changed after"),
        "{}",
        stderr(&out)
    );
    assert!(
        !lz.path("state/ml-platform.state.json").exists(),
        "nothing applied"
    );

    // Without a digest (not written by `plan --out`): refused too.
    let mut unsigned = plan.clone();
    unsigned.as_object_mut().unwrap().remove("digest");
    std::fs::write(lz.path("unsigned.json"), unsigned.to_string()).unwrap();
    let out = lz.run(&["apply", "unsigned.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("has no digest"), "{}", stderr(&out));

    let out = lz.run(&["apply", "compact.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    lz.assert_converged();
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
