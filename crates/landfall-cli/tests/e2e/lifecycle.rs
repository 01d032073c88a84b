//! Removals and replacements: accounts forgotten, closed or quarantined, an OU that
//! still holds an account, an OU given a new parent.

use crate::support::{Lz, On, assert_valid_order, changes, moto_session, position, stderr, stdout};

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

/// `[[moved]]` (issue 14, closing issue 12's C11): an OU renamed in the file with a
/// moved block is renamed in place — one update, the same OU id, its accounts, SCPs,
/// controls, registration and shares staying put — and the state shows the new
/// address. Without the block the same edit would create a new OU, move every account
/// and delete the old one (`org-ou-renamed-in-file-is-create-move-delete`).
fn moved_ou_rename_is_one_update(on: On) {
    let lz = Lz::example_on(on);
    lz.apply_ok();
    let before = lz.state();
    let sandbox_id = before["resources"]["ou.Sandbox"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let account_id = before["resources"]["account.ml-fraud-sandbox"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let renamed = text
        .replace("[ou.Sandbox]", "[ou.Playground]")
        .replace("\"ou:Sandbox\"", "\"ou:Playground\"")
        .replace("ou = \"Sandbox\"", "ou = \"Playground\"");
    std::fs::write(
        lz.path("landfall.toml"),
        format!("{renamed}\n[[moved]]\nfrom = \"ou.Sandbox\"\nto = \"ou.Playground\"\n"),
    )
    .unwrap();
    let plan = lz.plan_json();
    let list = changes(&plan);
    assert_eq!(
        list,
        vec![("ou.Playground".to_string(), "update".to_string())],
        "{plan:#}"
    );
    assert_eq!(plan["changes"][0]["ops"][0]["op"], "rename_ou");
    assert_eq!(plan["changes"][0]["id"], sandbox_id.as_str());
    assert_eq!(plan["moved"][0]["from"], "ou.Sandbox");
    let human = stdout(&lz.run(&["plan"]));
    assert!(human.contains("ou.Sandbox -> ou.Playground"), "{human}");
    lz.apply_ok();
    lz.assert_converged();

    let after = lz.state();
    let resources = after["resources"].as_object().unwrap();
    assert!(
        !resources.keys().any(|k| k.contains("ou.Sandbox")),
        "{after:#}"
    );
    assert_eq!(resources["ou.Playground"]["id"], sandbox_id.as_str());
    assert_eq!(
        resources["account.ml-fraud-sandbox"]["id"],
        account_id.as_str()
    );
    assert_eq!(
        resources["account.ml-fraud-sandbox"]["attributes"]["ou"],
        "ou.Playground"
    );
    let view = lz.view();
    assert_eq!(
        view.ous.get("Playground").map(String::as_str),
        Some(sandbox_id.as_str())
    );
    assert!(!view.ous.contains_key("Sandbox"));
    // The block can stay: applied already, it is a warning and no change.
    let out = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("applied already"), "{}", stdout(&out));
}

#[test]
fn moved_ou_rename_is_one_update_on_sim() {
    moved_ou_rename_is_one_update(On::Sim);
}

#[test]
fn moved_ou_rename_is_one_update_on_moto() {
    let _moto = moto_session();
    moved_ou_rename_is_one_update(On::Moto);
}
