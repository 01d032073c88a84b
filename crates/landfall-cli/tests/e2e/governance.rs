//! Control Tower controls, Account Factory and Service Catalog shares (issue 6).

use landfall_aws::testkit::Console;
use serde_json::Value;

use crate::support::{Lz, On, Oob, moto_session, moto_url, runtime, stderr};

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
    Lz::from_config(ACCOUNT_FACTORY_LZ, On::Sim)
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
# moto implements neither GetAWSOrganizationsAccessStatus nor Control Tower.
preflight = false

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
    let lz = Lz::from_config(PORTFOLIO_LZ, On::Moto);
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

/// Preflight (issue 12): without an active landing zone in the home region, or with
/// Service Catalog's organizations access off, `plan` and `apply` fail before any
/// change, naming the prerequisite and its fix — never a partial apply.
#[test]
fn missing_control_tower_prerequisites_fail_the_plan_with_nothing_changed() {
    let lz = Lz::example();
    let sim = |args: &[&str]| {
        let mut all = vec!["sim"];
        all.extend_from_slice(args);
        let out = lz.run(&all);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    let world = lz.path("state/ml-platform.sim-world.json");
    for (setting, expected) in [
        ("none", "has no landing zone in us-east-1"),
        ("drifted", "has drifted"),
        ("failed", "is FAILED"),
    ] {
        sim(&["landing-zone", setting]);
        let before = std::fs::read(&world).unwrap();
        for args in [&["plan"][..], &["apply", "--auto-approve"]] {
            let out = lz.run(args);
            assert_eq!(out.status.code(), Some(1), "{args:?} with {setting}");
            let err = stderr(&out);
            assert!(err.contains(expected), "{args:?} with {setting}: {err}");
            assert!(err.contains("hint:"), "{err}");
        }
        assert_eq!(
            std::fs::read(&world).unwrap(),
            before,
            "nothing changed live"
        );
        assert!(!lz.path("state/ml-platform.state.json").exists());
    }
    sim(&["landing-zone", "active"]);
    sim(&["organizations-access", "disabled"]);
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("AWS Organizations access is DISABLED"),
        "{}",
        stderr(&out)
    );
    sim(&["organizations-access", "enabled"]);
    lz.apply_ok();

    // `preflight = false` skips the checks (for endpoints without those reads).
    sim(&["landing-zone", "none"]);
    assert_eq!(lz.run(&["plan"]).status.code(), Some(1));
    lz.edit(
        "landfall.toml",
        "[landing_zone]\n",
        "[landing_zone]\npreflight = false\n",
    );
    let out = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Issue 12 A1: every declared OU but the Security OU is registered with Control Tower
/// (the sim refuses controls on an unregistered OU, as Control Tower does), before its
/// controls; a deregistration or a drifted registration out of band is drift the next
/// apply repairs; an account that comes into a registered OU through Organizations is
/// enrolled by a reset of the OU's registration.
#[test]
fn ous_are_registered_before_their_controls_and_registration_is_live_state_on_sim() {
    let lz = Lz::example();
    let plan = lz.plan_json();
    let registrations: Vec<&Value> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["address"].as_str().unwrap().starts_with("registration."))
        .collect();
    assert_eq!(registrations.len(), 8, "{registrations:#?}");
    for r in &registrations {
        assert_eq!(r["action"], "create", "{r}");
        assert_eq!(r["ops"][0]["op"], "enable_baseline", "{r}");
        assert_eq!(r["ops"][0]["version"], "4.0", "{r}");
        assert!(r["ops"][0]["identity_center"].is_string(), "{r}");
    }
    // The landing zone governs its Security OU itself.
    assert!(
        !registrations
            .iter()
            .any(|r| r["address"] == "registration.ou.Security")
    );
    lz.apply_ok();
    lz.assert_converged();
    let state = lz.state();
    assert_eq!(addresses_of(&state, "registration").len(), 8);
    let (code, report) = drift_report(&lz);
    assert_eq!(code, 0, "{report:#}");

    let sim = |args: &[&str]| {
        let out = lz.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    };
    sim(&["sim", "deregister-ou", "Workloads/Workloads_Prod"]);
    sim(&["sim", "drift-registration", "Sandbox"]);
    let (code, report) = drift_report(&lz);
    assert_eq!(code, 2, "{report:#}");
    let deregistered = finding(&report, "registration.ou.Workloads/Workloads_Prod");
    assert_eq!(deregistered["class"], "missing");
    assert_eq!(deregistered["control_tower_drift_type"], "OU_DEREGISTERED");
    let drifted = finding(&report, "registration.ou.Sandbox");
    assert_eq!(drifted["control_tower_drift_type"], "BASELINE_DRIFTED");

    let plan = lz.plan_json();
    let change = |address: &str| {
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no change for {address} in {plan:#}"))
            .clone()
    };
    assert_eq!(
        change("registration.ou.Workloads/Workloads_Prod")["ops"][0]["op"],
        "enable_baseline"
    );
    assert_eq!(
        change("registration.ou.Sandbox")["ops"][0]["op"],
        "reset_enabled_baseline"
    );
    lz.apply_ok();
    lz.assert_converged();

    // An account moved by hand into another registered OU is not enrolled there: drift
    // says so besides the move; the plan moves it back and resets the OU it returns to
    // (not the one it leaves).
    lz.oob(Oob::Move("ml-fraud-dev", "ou:Sandbox"));
    let (code, report) = drift_report(&lz);
    assert_eq!(code, 2, "{report:#}");
    let unenrolled = finding(&report, "registration.ou.Sandbox");
    assert_eq!(
        unenrolled["control_tower_drift_type"],
        "ACCOUNT_NOT_ENROLLED"
    );
    assert!(
        unenrolled["message"]
            .as_str()
            .unwrap()
            .contains("ml-fraud-dev"),
        "{unenrolled}"
    );
    let plan = lz.plan_json();
    let back = change_of(&plan, "registration.ou.Workloads/Workloads_Dev");
    assert_eq!(back["ops"][0]["op"], "reset_enabled_baseline", "{back}");
    assert!(
        !plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["address"] == "registration.ou.Sandbox"),
        "{plan:#}"
    );
    lz.apply_ok();
    lz.assert_converged();

    // A new account in a registered OU, created through Organizations: the OU's
    // registration is reset after it is in, which enrolls it.
    lz.append(
        "landfall.toml",
        "\n[account.ml-churn-sandbox]\nemail = \"aws+ml-churn-sandbox@example.com\"\nou = \"Sandbox\"\n",
    );
    let plan = lz.plan_json();
    let list = crate::support::changes(&plan);
    let reset = change_of(&plan, "registration.ou.Sandbox");
    assert_eq!(reset["ops"][0]["op"], "reset_enabled_baseline", "{reset}");
    assert!(
        reset["reason"]
            .as_str()
            .unwrap()
            .contains("account.ml-churn-sandbox"),
        "{reset}"
    );
    assert!(
        crate::support::position(&list, "account.ml-churn-sandbox")
            < crate::support::position(&list, "registration.ou.Sandbox")
    );
    lz.apply_ok();
    lz.assert_converged();
    let (code, report) = drift_report(&lz);
    assert_eq!(code, 0, "{report:#}");
}

fn change_of(plan: &Value, address: &str) -> Value {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address} in {plan:#}"))
        .clone()
}

/// A registration Control Tower fails stops the apply before the OU's controls (which
/// Control Tower would refuse), with the operation's message; a rerun converges.
#[test]
fn a_failed_registration_stops_the_ou_s_controls_and_a_rerun_converges() {
    let lz = Lz::example();
    let out = lz.run_with_faults("fail_registration=Sandbox", &["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("registration.ou.Sandbox"), "{err}");
    assert!(err.contains("fail_registration=Sandbox"), "{err}");
    let state = lz.state();
    assert!(state["resources"]["registration.ou.Sandbox"].is_null());
    assert!(state["resources"]["control.AWS-GR_RESTRICT_ROOT_USER:ou.Sandbox"].is_null());
    lz.apply_ok();
    lz.assert_converged();
}
