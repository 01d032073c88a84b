//! IAM Identity Center (issue 16): the example's personas applied on the sim and on
//! moto, converged, an assignment removed outside Landfall is drift that apply
//! restores, a permission set edited in the console is provisioned again; `explain
//! --permission-set` decides with the deciding layer; lockout for people; a failed
//! provisioning surfaced with AWS's reason.

use serde_json::Value;

use crate::support::{Lz, On, changes, moto_session, moto_url, runtime, stderr, stdout};

/// `plan --detailed-exitcode` exits 0 and `drift` finds nothing.
fn assert_converged(lz: &Lz, context: &str) {
    let plan = lz.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{context}: not converged:\n{}\n{}",
        stdout(&plan),
        stderr(&plan)
    );
    let drift = lz.run(&["drift"]);
    assert_eq!(
        drift.status.code(),
        Some(0),
        "{context}: {}",
        stdout(&drift)
    );
}

fn account_id(lz: &Lz, name: &str) -> String {
    lz.state()["resources"][format!("account.{name}")]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The example's personas: 6 permission sets, 4 groups, 30 assignments, applied and
/// converged; then an assignment deleted outside Landfall.
fn personas_apply_and_drift(on: On) {
    let lz = Lz::example_on(on);
    lz.apply_ok();
    let state = lz.state();
    let resources = state["resources"].as_object().unwrap();
    let count = |prefix: &str| resources.keys().filter(|k| k.starts_with(prefix)).count();
    assert_eq!(count("permission_set."), 6, "{resources:?}");
    assert_eq!(count("group."), 4);
    assert_eq!(count("assignment."), 30);
    assert_converged(&lz, "after the apply");

    // An assignment deleted out of band (the console, or boto3 on moto).
    let dev = account_id(&lz, "ml-fraud-dev");
    match on {
        On::Sim => {
            let out = lz
                .cmd()
                .args([
                    "sim",
                    "delete-assignment",
                    "DataScientist",
                    "group:ml-fraud-data-scientists",
                    "ml-fraud-dev",
                ])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        }
        On::Moto => runtime().block_on(async {
            let console = landfall_aws::testkit::Console::connect(&moto_url()).await;
            console
                .delete_account_assignment(
                    "us-east-1",
                    "DataScientist",
                    "ml-fraud-data-scientists",
                    &dev,
                )
                .await
                .unwrap();
        }),
    }
    let drift = lz.run(&["drift", "--json"]);
    assert_eq!(drift.status.code(), Some(2), "{}", stderr(&drift));
    let report: Value = serde_json::from_slice(&drift.stdout).unwrap();
    let missing: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["class"] == "missing")
        .map(|f| f["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        missing,
        vec!["assignment.DataScientist:group.ml-fraud-data-scientists:account.ml-fraud-dev"],
        "{report:#}"
    );
    let plan = lz.plan_json();
    assert_eq!(
        changes(&plan),
        vec![(
            "assignment.DataScientist:group.ml-fraud-data-scientists:account.ml-fraud-dev"
                .to_string(),
            "create".to_string()
        )]
    );
    lz.apply_ok();
    assert_converged(&lz, "after restoring the assignment");
}

#[test]
fn personas_apply_converge_and_an_assignment_deleted_is_drift_on_sim() {
    personas_apply_and_drift(On::Sim);
}

#[test]
fn personas_apply_converge_and_an_assignment_deleted_is_drift_on_moto() {
    let _moto = moto_session();
    personas_apply_and_drift(On::Moto);
}

/// A permission set's inline policy edited without provisioning (as the API allows):
/// drift, and the apply puts the policy back and provisions the set again to the
/// accounts it is in.
#[test]
fn a_policy_edited_outside_landfall_is_restored_and_provisioned_on_sim() {
    let lz = Lz::example();
    lz.apply_ok();
    std::fs::write(
        lz.path("wide.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    let out = lz
        .cmd()
        .args([
            "sim",
            "set-inline-policy",
            "MLReadOnly",
            "--file",
            "wide.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let drift = lz.run(&["drift"]);
    assert_eq!(drift.status.code(), Some(2));
    assert!(
        stdout(&drift).contains("permission set MLReadOnly was edited outside Landfall"),
        "{}",
        stdout(&drift)
    );
    let plan = lz.plan_json();
    let change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "permission_set.MLReadOnly")
        .unwrap();
    let ops: Vec<&str> = change["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, vec!["put_inline_policy", "provision_permission_set"]);
    lz.apply_ok();
    assert_converged(&lz, "after restoring the policy");
}

fn explain_json(lz: &Lz, extra: &[&str]) -> Value {
    let mut args = vec![
        "explain",
        "--json",
        "--permission-set",
        "DataScientist",
        "--account",
        "ml-fraud-dev",
    ];
    args.extend_from_slice(extra);
    let out = lz.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The issue's three answers, offline: the owner-tag policy allows Studio with a
/// matching tag and not without it; the dev SCP denies an endpoint the set allows.
#[test]
fn explain_decides_for_a_permission_set_with_the_deciding_layer() {
    let lz = Lz::example();
    let profile = "arn:aws:sagemaker:us-east-1:111122223333:user-profile/d-abc/jane";
    let me = "aws:userid=AROAEXAMPLE:jane@example.com";
    let studio = [
        "--action",
        "sagemaker:CreatePresignedDomainUrl",
        "--resource",
        profile,
        "--context",
        me,
        "--context",
        "aws:RequestedRegion=us-east-1",
    ];
    let mut owned = studio.to_vec();
    owned.extend([
        "--context",
        "sagemaker:ResourceTag/owner=AROAEXAMPLE:jane@example.com",
    ]);
    let allowed = explain_json(&lz, &owned);
    assert_eq!(allowed["decision"], "allow", "{allowed:#}");
    assert_eq!(allowed["deciding"]["layer"], "identity");
    assert_eq!(
        allowed["deciding"]["by"]["policy"],
        "DataScientist (inline)"
    );

    let mut other = studio.to_vec();
    other.extend([
        "--context",
        "sagemaker:ResourceTag/owner=AROAEXAMPLE:sam@example.com",
    ]);
    let denied = explain_json(&lz, &other);
    assert_eq!(denied["decision"], "deny", "{denied:#}");
    assert_eq!(denied["deciding"]["kind"], "implicit");
    assert_eq!(denied["deciding"]["layer"], "identity");
    let untagged = explain_json(&lz, &studio);
    assert_eq!(untagged["decision"], "deny", "{untagged:#}");

    let endpoint = explain_json(
        &lz,
        &[
            "--action",
            "sagemaker:CreateEndpoint",
            "--resource",
            "arn:aws:sagemaker:us-east-1:111122223333:endpoint/fraud-scoring",
            "--context",
            "aws:RequestedRegion=us-east-1",
            "--context",
            "aws:RequestTag/project=ml-fraud",
            "--context",
            "aws:RequestTag/cost-center=cc-3100-fraud",
        ],
    );
    assert_eq!(endpoint["decision"], "deny", "{endpoint:#}");
    assert_eq!(endpoint["deciding"]["kind"], "explicit");
    assert_eq!(endpoint["deciding"]["layer"], "scp");
    assert_eq!(
        endpoint["deciding"]["by"]["policy"],
        "deny-sagemaker-endpoints"
    );
    assert_eq!(endpoint["deciding"]["level"], "ou.Workloads/Workloads_Dev");
    // The set itself allows it: the same request in prod is allowed.
    let mut args = vec![
        "explain",
        "--json",
        "--permission-set",
        "DataScientist",
        "--account",
        "ml-fraud-prod",
    ];
    args.extend([
        "--action",
        "sagemaker:CreateEndpoint",
        "--resource",
        "arn:aws:sagemaker:us-west-2:111122223333:endpoint/fraud-scoring",
        "--context",
        "aws:RequestedRegion=us-west-2",
        "--context",
        "aws:RequestTag/project=ml-fraud",
        "--context",
        "aws:RequestTag/cost-center=cc-3100-fraud",
    ]);
    let out = lz.run(&args);
    let prod: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(prod["decision"], "allow", "{prod:#}");

    // Human output names the layer; an unknown set is an error with the known ones.
    let out = lz.run(&[
        "explain",
        "--permission-set",
        "DataScientist",
        "--account",
        "ml-fraud-dev",
        "--action",
        "sagemaker:CreateEndpoint",
    ]);
    assert!(stdout(&out).starts_with("DENIED"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("at the scp layer"),
        "{}",
        stdout(&out)
    );
    let out = lz.run(&[
        "explain",
        "--permission-set",
        "Nope",
        "--account",
        "ml-fraud-dev",
        "--action",
        "s3:GetObject",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no permission set `Nope`"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("DataScientist"), "{}", stderr(&out));
}

/// A customer-managed policy lives in each account: offline its answer is
/// UNDETERMINED, not guessed; an explicit deny still stands.
#[test]
fn explain_says_what_it_cannot_evaluate() {
    let lz = Lz::example();
    lz.edit(
        "landfall.toml",
        "[permission_set.DataEngineer]\npersona = \"data_engineer\"",
        "[permission_set.DataEngineer]\npersona = \"data_engineer\"\ncustomer_managed_policies = [{ name = \"ml-data-access\" }]",
    );
    let args = |action: &'static str| {
        vec![
            "explain",
            "--json",
            "--permission-set",
            "DataEngineer",
            "--account",
            "ml-fraud-dev",
            "--action",
            action,
            "--context",
            "aws:RequestedRegion=us-east-1",
        ]
    };
    let out = lz.run(&args("dynamodb:PutItem"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "undetermined", "{v:#}");
    assert!(
        v["unavailable"][0]
            .as_str()
            .unwrap()
            .contains("customer-managed policy /ml-data-access"),
        "{v:#}"
    );
    let out = lz.run(&args("cloudtrail:StopLogging"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "deny", "{v:#}");
    assert_eq!(v["deciding"]["layer"], "scp");
}

/// Lockout for people: a plan that leaves the platform admin group with no account to
/// act in is refused unless `--allow-lockout`.
#[test]
fn removing_every_platform_admin_assignment_is_refused() {
    let lz = Lz::example();
    lz.apply_ok();
    lz.edit(
        "landfall.toml",
        "[[assignment]]\npermission_set = \"PlatformAdmin\"\ngroup = \"ml-platform-admins\"\ntargets = [\"ou:Security\", \"ou:Infrastructure\", \"ou:Sandbox\", \"ou:Workloads\", \"ou:Deployments\"]",
        "",
    );
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains(
            "the platform admin group `ml-platform-admins` would be left with no account to act in"
        ),
        "{err}"
    );
    assert!(err.contains("--allow-lockout"), "{err}");
    let out = lz.run(&["plan", "--allow-lockout", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Identity Center fails a provisioning whose customer-managed policy is missing in
/// the account; the apply stops with AWS's reason, and once the policy exists a rerun
/// converges.
#[test]
fn a_failed_assignment_is_surfaced_with_its_reason_then_resumed_on_sim() {
    let lz = Lz::example();
    lz.edit(
        "landfall.toml",
        "[permission_set.DataEngineer]\npersona = \"data_engineer\"",
        "[permission_set.DataEngineer]\npersona = \"data_engineer\"\ncustomer_managed_policies = [{ name = \"ml-data-access\" }]",
    );
    lz.append(
        "landfall.toml",
        "\n[[assignment]]\npermission_set = \"DataEngineer\"\ngroup = \"ml-fraud-data-scientists\"\ntargets = [\"account:data-lake\"]\n",
    );
    let out = lz.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("DescribeAccountAssignmentCreationStatus"),
        "{err}"
    );
    assert!(err.contains("ml-data-access"), "{err}");
    let out = lz
        .cmd()
        .args(["sim", "add-customer-policy", "data-lake", "ml-data-access"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    lz.apply_ok();
    assert_converged(&lz, "after the policy exists");
}

/// `--requests` lines may name a permission set.
#[test]
fn explain_requests_take_a_permission_set() {
    let lz = Lz::example();
    std::fs::write(
        lz.path("requests.jsonl"),
        concat!(
            r#"{"account": "ml-fraud-dev", "action": "s3:PutObject", "resource": "arn:aws:s3:::ml-fraud-data/x", "permission_set": "SecurityAuditor", "context": {"aws:RequestedRegion": "us-east-1"}}"#,
            "\n",
            r#"{"account": "ml-fraud-dev", "action": "s3:PutObject", "resource": "arn:aws:s3:::ml-fraud-data/x", "context": {"aws:RequestedRegion": "us-east-1", "aws:SecureTransport": "true", "aws:RequestTag/project": "p", "aws:RequestTag/cost-center": "c"}}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = lz.run(&["explain", "--requests", "requests.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["permission_set"], "SecurityAuditor");
    assert_eq!(lines[0]["decision"], "deny");
    // The SCPs (and, over TLS, the data-perimeter RCP) allow the write; the auditor's
    // session does not.
    assert_eq!(lines[1]["decision"], "allow");
}
