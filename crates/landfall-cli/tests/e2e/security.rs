//! Logging, delegated security services and the other organization policies (issue
//! 17): the example's organization trail, security services, tag policy, data-perimeter
//! RCP and AI opt-out applied on the sim and on moto and converged; logging stopped
//! outside Landfall (`landfall sim stop-logging`, boto3 on moto) is drift the next
//! apply restarts; a loosened bucket policy and a disabled policy type are drift; a
//! tag policy edit shows each account's effective tag policy change in the plan; with
//! Control Tower the trail and Config are left to it; `explain` names an RCP that
//! denies an outsider.

use serde_json::Value;

use crate::support::{Lz, On, changes, moto_env, moto_session, repo_root, stderr, stdout};

fn findings(lz: &Lz) -> (Option<i32>, Vec<(String, String, String)>) {
    let out = lz.run(&["drift", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("drift --json: {e}\n{}", stderr(&out)));
    let list = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["class"].as_str().unwrap_or_default().to_string(),
                f["address"].as_str().unwrap_or_default().to_string(),
                f["control_tower_drift_type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    (out.status.code(), list)
}

fn resources(lz: &Lz) -> Vec<String> {
    lz.state()["resources"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Control Tower not set up in the sim world.
fn no_landing_zone(lz: &Lz) {
    let out = lz
        .cmd()
        .args(["sim", "landing-zone", "none"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The example without Control Tower: every resource of the family applied, then a
/// second plan empty.
fn apply_logging(on: On) -> Lz {
    let lz = Lz::example_on(on).without_governance();
    if on == On::Sim {
        // A sim world has a Control Tower landing zone, which would own the trail.
        no_landing_zone(&lz);
    }
    lz.apply_ok();
    let recorded = resources(&lz);
    // On moto the security tooling account administers GuardDuty only (see
    // `Lz::example_on`).
    let delegated: &[&str] = match on {
        On::Sim => &[
            "delegated_admin.securityhub.amazonaws.com",
            "delegated_admin.config.amazonaws.com",
            "delegated_admin.access-analyzer.amazonaws.com",
            "config_aggregator.organization",
            "access_analyzer.organization",
        ],
        On::Moto => &[],
    };
    for address in delegated.iter().copied().chain([
        "trail.ml-platform-org-trail",
        "bucket.org-trail",
        "kms_key.org-trail",
        "service_access.cloudtrail.amazonaws.com",
        "service_access.guardduty.amazonaws.com",
        "delegated_admin.guardduty.amazonaws.com",
        "policy_type.rcp",
        "policy_type.tag_policy",
        "policy_type.ai_opt_out_policy",
        "rcp.data-perimeter",
        "rcp_attachment.data-perimeter:ou.Workloads",
        "tag_policy.cost-tags",
        "tag_policy_attachment.cost-tags:root",
        "ai_opt_out_policy.opt-out-all",
        "ai_opt_out_policy_attachment.opt-out-all:root",
    ]) {
        assert!(
            recorded.iter().any(|r| r == address),
            "{address} not recorded: {recorded:?}"
        );
    }
    lz.assert_converged();
    lz
}

#[test]
fn logging_security_services_and_policies_apply_and_converge_on_sim() {
    let lz = apply_logging(On::Sim);
    let world = lz.world();
    let text = world.to_string();
    // The trail logs, into the bucket, with the key.
    assert!(
        text.contains("ml-platform-org-trail"),
        "no trail in the world"
    );

    // Logging stopped in the console: drift names it; the plan starts it again.
    let out = lz
        .cmd()
        .args(["sim", "stop-logging", "ml-platform-org-trail"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (code, found) = findings(&lz);
    assert_eq!(code, Some(2), "{found:?}");
    assert_eq!(
        found,
        vec![(
            "changed".to_string(),
            "trail.ml-platform-org-trail".to_string(),
            "TRAIL_LOGGING_STOPPED".to_string()
        )]
    );
    let plan = lz.plan_json();
    assert_eq!(
        changes(&plan),
        vec![(
            "trail.ml-platform-org-trail".to_string(),
            "update".to_string()
        )]
    );
    let ops: Vec<&str> = plan["changes"][0]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, vec!["start_logging"], "{plan:#}");
    lz.apply_ok();
    lz.assert_converged();
}

#[test]
fn a_loosened_bucket_policy_and_a_disabled_policy_type_are_drift_on_sim() {
    let lz = apply_logging(On::Sim);
    let bucket = lz.state()["resources"]["bucket.org-trail"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(
        lz.path("open.json"),
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
        ),
    )
    .unwrap();
    let out = lz
        .cmd()
        .args(["sim", "put-bucket-policy", &bucket, "--file", "open.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = lz
        .cmd()
        .args(["sim", "disable-policy-type", "ai_opt_out_policy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (code, found) = findings(&lz);
    assert_eq!(code, Some(2));
    let has = |class: &str, address: &str, code: &str| {
        found
            .iter()
            .any(|(c, a, t)| c == class && a == address && t == code)
    };
    assert!(
        has("changed", "bucket.org-trail", "LOG_BUCKET_POLICY_CHANGED"),
        "{found:?}"
    );
    assert!(
        has(
            "missing",
            "policy_type.ai_opt_out_policy",
            "POLICY_TYPE_DISABLED"
        ),
        "{found:?}"
    );
    // AWS detached the type's policies with it.
    assert!(
        has(
            "missing",
            "ai_opt_out_policy_attachment.opt-out-all:root",
            "AISERVICES_OPT_OUT_POLICY_DETACHED_FROM_ROOT"
        ),
        "{found:?}"
    );
    let plan = lz.plan_json();
    let planned = changes(&plan);
    for (address, action) in [
        ("bucket.org-trail", "update"),
        ("policy_type.ai_opt_out_policy", "create"),
        ("ai_opt_out_policy_attachment.opt-out-all:root", "create"),
    ] {
        assert!(
            planned.contains(&(address.to_string(), action.to_string())),
            "{planned:?}"
        );
    }
    lz.apply_ok();
    lz.assert_converged();
}

#[test]
fn a_tag_policy_edit_shows_the_effective_policy_change_per_account() {
    let lz = Lz::example();
    lz.apply_ok();
    lz.append(
        "landfall.toml",
        r#"
[tag_policy.workloads-environments]
description = "Workloads also run a test environment"
content = '{"tags": {"environment": {"tag_value": {"@@append": ["test"]}}}}'
targets = ["ou:Workloads"]
"#,
    );
    let plan = lz.plan_json();
    let tag_changes = plan["tag_policy_changes"].as_array().unwrap();
    let accounts: Vec<&str> = tag_changes
        .iter()
        .map(|c| c["account"].as_str().unwrap())
        .collect();
    // Every declared account under Workloads, and only those.
    assert_eq!(
        accounts,
        vec![
            "data-lake",
            "ml-fraud-dev",
            "ml-fraud-prod",
            "team-shared-services"
        ],
        "{plan:#}"
    );
    let after = &tag_changes[0]["after"]["tags"]["environment"]["tag_value"];
    assert_eq!(
        after,
        &serde_json::json!(["sandbox", "dev", "preprod", "prod", "test"])
    );
    let before = &tag_changes[0]["before"]["tags"]["environment"]["tag_value"];
    assert_eq!(
        before,
        &serde_json::json!(["sandbox", "dev", "preprod", "prod"])
    );
    let human = lz.run(&["plan"]);
    assert!(
        stdout(&human).contains(
            "environment: tag_value [sandbox, dev, preprod, prod] -> [sandbox, dev, preprod, prod, test]"
        ),
        "{}",
        stdout(&human)
    );
}

#[test]
fn with_control_tower_the_trail_and_config_are_left_to_it() {
    let lz = Lz::example();
    let plan = lz.plan_json();
    let warnings: Vec<&str> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("owns this organization's trail")
                && w.contains("trail.ml-platform-org-trail")
                && w.contains("config_aggregator.organization")),
        "{warnings:?}"
    );
    let planned = changes(&plan);
    assert!(
        !planned.iter().any(|(a, _)| a.starts_with("trail.")
            || a.starts_with("bucket.")
            || a == "kms_key.org-trail"
            || a.starts_with("config_aggregator.")),
        "{planned:?}"
    );
    // The security services are still delegated.
    assert!(planned.contains(&(
        "delegated_admin.guardduty.amazonaws.com".to_string(),
        "create".to_string()
    )));
}

/// Without `[control_tower]` in the file, a landing zone read live still owns the
/// trail: detected, not duplicated.
#[test]
fn a_landing_zone_read_live_owns_the_trail_without_control_tower_declared() {
    let lz = Lz::example().without_governance();
    let plan = lz.plan_json();
    let warnings = plan["warnings"].to_string();
    assert!(
        warnings.contains("the Control Tower landing zone (version")
            && warnings.contains("trail.ml-platform-org-trail"),
        "{warnings}"
    );
    assert!(
        !changes(&plan).iter().any(|(a, _)| a.starts_with("trail.")),
        "{plan:#}"
    );
    no_landing_zone(&lz);
    let plan = lz.plan_json();
    assert!(
        changes(&plan).contains(&(
            "trail.ml-platform-org-trail".to_string(),
            "create".to_string()
        )),
        "{plan:#}"
    );
}

#[test]
fn explain_names_the_rcp_that_denies_a_principal_outside_the_organization() {
    let lz = Lz::example();
    let out = lz.run(&[
        "explain",
        "--external-principal",
        "--resource-account",
        "ml-fraud-prod",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::ml-fraud-data/train.csv",
        "--context",
        "aws:SecureTransport=true",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["decision"], "deny", "{answer:#}");
    assert_eq!(answer["deciding"]["layer"], "rcp");
    assert_eq!(answer["deciding"]["kind"], "explicit");
    assert_eq!(answer["deciding"]["policy"], "data-perimeter");
    assert_eq!(answer["deciding"]["sid"], "EnforceOrgIdentities");
    assert_eq!(answer["deciding"]["level"], "ou.Workloads");
    // A principal of the organization reading the same object over TLS: the RCP lets
    // it through, the SCPs decide.
    let inside = lz.run(&[
        "explain",
        "--account",
        "ml-fraud-prod",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::ml-fraud-data/train.csv",
        "--context",
        "aws:SecureTransport=true",
        "--context",
        "aws:RequestedRegion=us-east-1",
        "--json",
    ]);
    let answer: Value = serde_json::from_slice(&inside.stdout).unwrap();
    assert_eq!(answer["decision"], "allow", "{answer:#}");
    // Without TLS the RCP denies even a principal of the organization.
    let plain = lz.run(&[
        "explain",
        "--account",
        "ml-fraud-prod",
        "--action",
        "s3:GetObject",
        "--context",
        "aws:SecureTransport=false",
        "--context",
        "aws:RequestedRegion=us-east-1",
    ]);
    let text = stdout(&plain);
    assert!(text.starts_with("DENIED"), "{text}");
    assert!(
        text.contains("EnforceSecureTransport") && text.contains("resource control policy"),
        "{text}"
    );
}

#[test]
fn explain_tags_answers_with_the_effective_tag_policy() {
    let lz = Lz::example();
    let out = lz.run(&[
        "explain",
        "--account",
        "ml-fraud-dev",
        "--tags",
        "project=ml-fraud",
        "--tags",
        "environment=production",
        "--resource-type",
        "sagemaker:endpoint",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["decision"], "noncompliant", "{answer:#}");
    assert_eq!(answer["violations"][0]["tag"], "environment");
    assert_eq!(
        answer["effective_policy"]["tags"]["environment"]["tag_value"],
        serde_json::json!(["sandbox", "dev", "preprod", "prod"])
    );
    // An expectation that the tag policy contradicts fails validation.
    lz.edit(
        "landfall.toml",
        "tags = { project = \"ml-fraud\", environment = \"production\", cost-center = \"cc-3100-fraud\" }\ncompliant = false",
        "tags = { project = \"ml-fraud\", environment = \"production\", cost-center = \"cc-3100-fraud\" }\ncompliant = true",
    );
    let out = lz.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("value `production` is not one of the allowed values"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn logging_applies_and_stop_logging_with_boto3_is_drift_on_moto() {
    let _moto = moto_session();
    let lz = apply_logging(On::Moto);
    // StopLogging as an operator would, with boto3 (moto's own dependency, in the
    // venv scripts/test made).
    let python = repo_root().join(".venv/bin/python");
    let script = r#"
import boto3, os
ct = boto3.client("cloudtrail", region_name="us-east-1", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
ct.stop_logging(Name="ml-platform-org-trail")
assert not ct.get_trail_status(Name="ml-platform-org-trail")["IsLogging"]
"#;
    let out = std::process::Command::new(&python)
        .args(["-c", script])
        .envs(moto_env())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert_eq!(
        out.status.code(),
        Some(0),
        "boto3 StopLogging: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (code, found) = findings(&lz);
    assert_eq!(code, Some(2), "{found:?}");
    assert!(
        found.contains(&(
            "changed".to_string(),
            "trail.ml-platform-org-trail".to_string(),
            "TRAIL_LOGGING_STOPPED".to_string()
        )),
        "{found:?}"
    );
    lz.apply_ok();
    lz.assert_converged();
}

/// CloudTrail's delegated administrator makes the trail from a member account, where
/// the example's deny-cloudtrail-tamper SCP (Control Tower's role exempt, not
/// Landfall's) would deny it UpdateTrail: a lockout, refused before anything runs.
#[test]
fn a_trail_administrator_the_scps_deny_is_a_lockout() {
    let lz = Lz::example().without_governance();
    no_landing_zone(&lz);
    lz.edit(
        "landfall.toml",
        "log_archive = \"log-archive\"\n",
        "log_archive = \"log-archive\"\nadministrator = \"security-tooling\"\n",
    );
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cloudtrail:UpdateTrail in account.security-tooling")
            && err.contains("deny-cloudtrail-tamper"),
        "{err}"
    );
    // With the access role exempt, the delegated administrator makes the trail (its
    // ARN still the management account's) and the plan converges.
    lz.edit(
        "policies/deny-cloudtrail-tamper.json",
        "\"arn:aws:iam::*:role/AWSControlTowerExecution\"",
        "[\"arn:aws:iam::*:role/AWSControlTowerExecution\", \"arn:aws:iam::*:role/OrganizationAccountAccessRole\"]",
    );
    lz.apply_ok();
    lz.assert_converged();
    let state = lz.state();
    let trail = &state["resources"]["trail.ml-platform-org-trail"];
    let management = lz.world()["management_account_id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        trail["id"]
            .as_str()
            .unwrap()
            .contains(&format!(":{management}:trail/")),
        "{trail}"
    );
    let tooling = state["resources"]["account.security-tooling"]["id"]
        .as_str()
        .unwrap();
    assert_eq!(trail["member"], format!("{tooling}/us-east-1"));
}

/// `[logging]` removed: the trail Landfall made is deleted; the bucket (the logs), its
/// key (which the logs need to be read) and trusted access are forgotten, each with
/// its reason, and stay in the world.
#[test]
fn logging_removed_deletes_the_trail_and_keeps_the_logs_readable_on_sim() {
    let lz = apply_logging(On::Sim);
    let state = lz.state();
    let id = |address: &str| {
        state["resources"][address]["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (bucket, key) = (id("bucket.org-trail"), id("kms_key.org-trail"));
    lz.edit(
        "landfall.toml",
        "[logging]\nlog_archive = \"log-archive\"",
        "[removed_logging]\nlog_archive = \"log-archive\"",
    );
    // Everything of the block is gone from the file, not only its header.
    let text = std::fs::read_to_string(lz.path("landfall.toml")).unwrap();
    let start = text.find("[removed_logging]").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    std::fs::write(
        lz.path("landfall.toml"),
        format!("{}{}", &text[..start], &text[end..]),
    )
    .unwrap();
    let plan = lz.plan_json();
    let by_address = |address: &str| -> (String, String) {
        let change = plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == address)
            .unwrap_or_else(|| panic!("no change for {address}: {plan:#}"));
        (
            change["action"].as_str().unwrap().to_string(),
            change["reason"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(by_address("trail.ml-platform-org-trail").0, "delete");
    let (action, reason) = by_address("bucket.org-trail");
    assert_eq!(action, "forget");
    assert!(reason.contains("holds the organization's logs"), "{reason}");
    let (action, reason) = by_address("kms_key.org-trail");
    assert_eq!(action, "forget", "{reason}");
    assert!(
        reason.contains("encrypts the logs in bucket.org-trail"),
        "{reason}"
    );
    let (action, reason) = by_address("service_access.cloudtrail.amazonaws.com");
    assert_eq!(action, "forget");
    assert!(reason.contains("stays enabled"), "{reason}");
    lz.apply_ok();
    lz.assert_converged();
    let world = lz.world();
    let trails = world["security"]["trails"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(trails.is_empty(), "the trail is gone: {trails:?}");
    assert!(
        world["security"]["buckets"].get(&bucket).is_some(),
        "the bucket {bucket} is kept"
    );
    let world = world.to_string();
    assert!(world.contains(&key), "the key {key} is kept");
    // Not scheduled for deletion either: the logs stay readable.
    assert!(
        !world.contains("pending_deletion"),
        "a key is pending deletion"
    );
    let recorded = resources(&lz);
    for gone in [
        "bucket.org-trail",
        "kms_key.org-trail",
        "trail.ml-platform-org-trail",
    ] {
        assert!(!recorded.iter().any(|r| r == gone), "{gone} still recorded");
    }
}

/// GuardDuty's own delegation holds per region: the example delegates it in both
/// governed regions; removed in one outside Landfall, it is drift, and the plan
/// delegates it there again and nowhere else.
#[test]
fn guardduty_delegated_in_every_governed_region_and_one_lost_is_drift_on_sim() {
    let lz = apply_logging(On::Sim);
    let path = lz.path("state/ml-platform.sim-world.json");
    let mut world = lz.world();
    let admins = &mut world["security"]["organization_admins"]["guardduty.amazonaws.com"];
    assert_eq!(
        admins
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["us-east-1".to_string(), "us-west-2".to_string()]),
        "{admins:#}"
    );
    // As `aws guardduty disable-organization-admin-account --region us-west-2` would.
    admins.as_object_mut().unwrap().remove("us-west-2");
    std::fs::write(&path, serde_json::to_string_pretty(&world).unwrap()).unwrap();

    let (code, found) = findings(&lz);
    assert_eq!(code, Some(2), "{found:?}");
    assert_eq!(
        found,
        vec![(
            "changed".to_string(),
            "delegated_admin.guardduty.amazonaws.com".to_string(),
            "DELEGATED_ADMINISTRATOR_REMOVED_IN_REGION".to_string()
        )]
    );
    let text = lz.run(&["drift"]);
    assert!(
        stdout(&text).contains("disabled outside Landfall in us-west-2"),
        "{}",
        stdout(&text)
    );
    let plan = lz.plan_json();
    assert_eq!(
        changes(&plan),
        vec![(
            "delegated_admin.guardduty.amazonaws.com".to_string(),
            "update".to_string()
        )]
    );
    let op = &plan["changes"][0]["ops"];
    assert_eq!(op.as_array().map(Vec::len), Some(1), "{plan:#}");
    assert_eq!(op[0]["op"], "register_delegated_admin");
    assert_eq!(op[0]["region"], "us-west-2");
    lz.apply_ok();
    lz.assert_converged();
}
