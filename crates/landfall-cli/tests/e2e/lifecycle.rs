//! Removals and replacements: accounts forgotten, closed or quarantined, an OU that
//! still holds an account, an OU given a new parent.

use crate::support::{Lz, On, assert_valid_order, changes, moto_session, position, stderr, stdout};

#[test]
fn removed_accounts_are_forgotten_or_closed_only_when_allowed() {
    let lz = Lz::example().without_identity();
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
    let lz = Lz::example().without_identity();
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

/// The state's records, by address, and whether any address mentions `text`.
fn mentions(state: &serde_json::Value, text: &str) -> bool {
    state["resources"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.contains(text))
}

/// `[[moved]]` for an SCP (issue 14): the policy renamed in the file is renamed in
/// place — one `UpdatePolicy` carrying the new name on the same policy id, nothing
/// detached or attached — and the state shows it and its attachments at their new
/// addresses.
fn moved_scp_rename_is_one_update(on: On) {
    let lz = Lz::example_on(on);
    lz.apply_ok();
    let before = lz.state();
    let policy_id = before["resources"]["scp.restrict-instance-types"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let attachment_id = before["resources"]["attachment.restrict-instance-types:ou.Sandbox"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    lz.edit(
        "landfall.toml",
        "[scp.restrict-instance-types]",
        "[scp.restrict-sagemaker-instances]",
    );
    lz.append(
        "landfall.toml",
        "\n[[moved]]\nfrom = \"scp.restrict-instance-types\"\nto = \"scp.restrict-sagemaker-instances\"\n",
    );
    let plan = lz.plan_json();
    assert_eq!(
        changes(&plan),
        vec![(
            "scp.restrict-sagemaker-instances".to_string(),
            "update".to_string()
        )],
        "{plan:#}"
    );
    let change = &plan["changes"][0];
    assert_eq!(change["id"], policy_id.as_str());
    assert_eq!(
        change["ops"],
        serde_json::json!([{"op": "update_policy", "name": "restrict-sagemaker-instances",
                            "description": null, "content": null}])
    );
    assert!(
        change["reason"]
            .as_str()
            .unwrap()
            .contains("[[moved]] from scp.restrict-instance-types"),
        "{change:#}"
    );
    lz.apply_ok();
    lz.assert_converged();

    let after = lz.state();
    assert!(!mentions(&after, "restrict-instance-types"), "{after:#}");
    let resources = &after["resources"];
    assert_eq!(
        resources["scp.restrict-sagemaker-instances"]["id"],
        policy_id.as_str()
    );
    assert_eq!(
        resources["attachment.restrict-sagemaker-instances:ou.Sandbox"]["id"],
        attachment_id.as_str()
    );
    let view = lz.view();
    assert_eq!(
        view.policies
            .get("restrict-sagemaker-instances")
            .map(|(id, _)| id.as_str()),
        Some(policy_id.as_str())
    );
    assert!(!view.policies.contains_key("restrict-instance-types"));
    assert!(view.attachments.contains(&(
        "restrict-sagemaker-instances".to_string(),
        "Sandbox".to_string()
    )));
    let out = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("applied already"), "{}", stdout(&out));
    let list = stdout(&lz.run(&["state", "list"]));
    assert!(
        list.contains("scp.restrict-sagemaker-instances")
            && list.contains("attachment.restrict-sagemaker-instances:ou.Sandbox")
            && !list.contains("restrict-instance-types"),
        "{list}"
    );
}

#[test]
fn moved_scp_rename_is_one_update_on_sim() {
    moved_scp_rename_is_one_update(On::Sim);
}

#[test]
fn moved_scp_rename_is_one_update_on_moto() {
    let _moto = moto_session();
    moved_scp_rename_is_one_update(On::Moto);
}

/// Renames `account.ml-fraud-sandbox` to `account.ml-fraud-playground` in the file,
/// with a `[[moved]]` block, and checks the plan: one update, the account's
/// `PutAccountName` on the same account id. Returns the account id.
fn rename_account_in_file(lz: &Lz) -> String {
    let account_id = lz.account_id("ml-fraud-sandbox");
    lz.edit(
        "landfall.toml",
        "[account.ml-fraud-sandbox]",
        "[account.ml-fraud-playground]",
    );
    lz.append(
        "landfall.toml",
        "\n[[moved]]\nfrom = \"account.ml-fraud-sandbox\"\nto = \"account.ml-fraud-playground\"\n",
    );
    let plan = lz.plan_json();
    assert_eq!(
        changes(&plan),
        vec![(
            "account.ml-fraud-playground".to_string(),
            "update".to_string()
        )],
        "{plan:#}"
    );
    let change = &plan["changes"][0];
    assert_eq!(change["id"], account_id.as_str());
    assert_eq!(
        change["ops"],
        serde_json::json!([{"op": "rename_account", "name": "ml-fraud-playground"}])
    );
    assert_eq!(plan["moved"][0]["from"], "account.ml-fraud-sandbox");
    account_id
}

/// `[[moved]]` for an account (issue 14): the account renamed in the file is renamed
/// in place through the Account Management API — one `PutAccountName`, the same
/// account, its attachments carried — and the state shows the new addresses.
#[test]
fn moved_account_rename_is_one_put_account_name_on_sim() {
    let lz = Lz::example().without_identity();
    lz.apply_ok();
    let account_id = rename_account_in_file(&lz);
    lz.apply_ok();
    lz.assert_converged();
    let after = lz.state();
    assert!(!mentions(&after, "ml-fraud-sandbox"), "{after:#}");
    assert_eq!(
        after["resources"]["account.ml-fraud-playground"]["id"],
        account_id.as_str()
    );
    assert_eq!(
        after["resources"]["attachment.FullAWSAccess:account.ml-fraud-playground"]["attributes"]["target"],
        "account.ml-fraud-playground"
    );
    let view = lz.view();
    let (name, ou, id) = &view.accounts["aws+ml-fraud-sandbox@example.com"];
    assert_eq!(
        (name.as_str(), ou.as_str(), id.as_str()),
        ("ml-fraud-playground", "Sandbox", account_id.as_str())
    );
    let out = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("applied already"), "{}", stdout(&out));
    let list = stdout(&lz.run(&["state", "list"]));
    assert!(
        list.contains("account.ml-fraud-playground") && !list.contains("ml-fraud-sandbox"),
        "{list}"
    );
}

/// On the AWS backend the plan is the same: one update, the same account id. moto
/// (5.2.5) has no `PutAccountName`, so the call itself is tested with
/// aws-smithy-mocks (`landfall-aws/tests/mocked.rs`), not applied here.
#[test]
fn moved_account_rename_is_one_put_account_name_on_moto() {
    let _moto = moto_session();
    let lz = Lz::example_on(On::Moto).without_identity();
    lz.apply_ok();
    rename_account_in_file(&lz);
}

/// `[[moved]]` of an OU under another parent (issue 14): AWS cannot move an OU, so
/// the plan is a replacement that says so — naming the block and each account that
/// moves — and the apply leaves the accounts in the new OU, the old one gone.
#[test]
fn moved_ou_under_another_parent_is_an_explained_replacement_on_sim() {
    let lz = Lz::example();
    lz.apply_ok();
    let old_id = lz.state()["resources"]["ou.Sandbox"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let account_id = lz.account_id("ml-fraud-sandbox");
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let text = text
        .replace("[ou.Sandbox]", "[ou.\"Workloads/Sandbox\"]")
        .replace("ou = \"Sandbox\"", "ou = \"Workloads/Sandbox\"")
        .replace("\"ou:Sandbox\"", "\"ou:Workloads/Sandbox\"");
    std::fs::write(
        lz.path("landfall.toml"),
        format!("{text}\n[[moved]]\nfrom = \"ou.Sandbox\"\nto = \"ou.Workloads/Sandbox\"\n"),
    )
    .unwrap();
    let plan = lz.plan_json();
    assert_valid_order(&plan);
    assert!(
        plan.get("moved").is_none(),
        "nothing is re-addressed: {plan:#}"
    );
    let by_address = |address: &str| {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("{address} not in {plan:#}"))
            .clone()
    };
    let replace = by_address("ou.Workloads/Sandbox");
    assert_eq!(replace["action"], "replace");
    let why = replace["reason"].as_str().unwrap();
    for part in [
        "[[moved]] from ou.Sandbox",
        "AWS cannot move an OU",
        "accounts moving to it: account.ml-fraud-sandbox",
        "attachment.restrict-instance-types:ou.Workloads/Sandbox",
        "control.AWS-GR_RESTRICT_ROOT_USER:ou.Workloads/Sandbox",
    ] {
        assert!(why.contains(part), "{part:?} not in {why}");
    }
    let account = by_address("account.ml-fraud-sandbox");
    assert_eq!(account["action"], "move");
    assert!(
        account["reason"]
            .as_str()
            .unwrap()
            .contains("moves with its OU"),
        "{account:#}"
    );
    let old = by_address("ou.Sandbox");
    assert_eq!(
        (&old["action"], &old["id"]),
        (&"delete".into(), &old_id.as_str().into())
    );
    let list = changes(&plan);
    assert!(position(&list, "account.ml-fraud-sandbox") < position(&list, "ou.Sandbox"));
    let human = stdout(&lz.run(&["plan"]));
    assert!(
        human.contains("replaces ou.Sandbox ([[moved]] from ou.Sandbox)"),
        "{human}"
    );

    lz.apply_ok();
    lz.assert_converged();
    let view = lz.view();
    assert!(!view.ous.contains_key("Sandbox"));
    let new_id = view.ous["Workloads/Sandbox"].clone();
    assert_ne!(new_id, old_id);
    let (_, ou, id) = &view.accounts["aws+ml-fraud-sandbox@example.com"];
    assert_eq!(
        (ou.as_str(), id.as_str()),
        ("Workloads/Sandbox", account_id.as_str())
    );
    assert!(view.attachments.contains(&(
        "restrict-instance-types".to_string(),
        "Workloads/Sandbox".to_string()
    )));
    let state = lz.state();
    assert_eq!(
        state["resources"]["ou.Workloads/Sandbox"]["id"],
        new_id.as_str()
    );
    assert!(state["resources"].get("ou.Sandbox").is_none());
    let out = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("applied already"), "{}", stdout(&out));
}
