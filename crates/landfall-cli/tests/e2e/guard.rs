//! SCP guardrails before apply (issue 7): `landfall explain`, lockout protection and
//! `[[expect]]` expectations.

use serde_json::Value;

use crate::support::{Lz, Oob, stderr, stdout};

#[test]
fn explain_answers_the_seeds_question_with_the_deciding_statement() {
    let lz = Lz::example();
    let out = lz.run(&[
        "explain",
        "--account",
        "ml-fraud-dev",
        "--action",
        "sagemaker:CreateEndpoint",
        "--context",
        "aws:RequestedRegion=us-east-1",
        "--context",
        "aws:RequestTag/project=ml-fraud",
        "--context",
        "aws:RequestTag/cost-center=cc-3100-fraud",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["decision"], "deny", "{answer:#}");
    assert_eq!(answer["deciding"]["kind"], "explicit");
    assert_eq!(answer["deciding"]["policy"], "deny-sagemaker-endpoints");
    assert_eq!(answer["deciding"]["level"], "ou.Workloads/Workloads_Dev");
    // The same request in prod is allowed.
    let out = lz.run(&[
        "explain",
        "--account",
        "ml-fraud-prod",
        "--action",
        "sagemaker:CreateEndpoint",
        "--context",
        "aws:RequestedRegion=us-west-2",
        "--context",
        "aws:RequestTag/project=ml-fraud",
        "--context",
        "aws:RequestTag/cost-center=cc-3100-fraud",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("ALLOWED"), "{}", stdout(&out));
    // A bad account or action is a clear error.
    let out = lz.run(&["explain", "--account", "nope", "--action", "s3:GetObject"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no account `nope`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_scp_denying_the_access_role_is_refused_with_the_accounts_named() {
    let lz = Lz::example();
    lz.apply_ok();
    std::fs::write(
        lz.path("policies/deny-assume.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoAssume","Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}]}"#,
    )
    .unwrap();
    lz.append(
        "landfall.toml",
        "\n[scp.deny-assume]\ndescription = \"oops\"\nfile = \"policies/deny-assume.json\"\ntargets = [\"ou:Workloads/Workloads_Dev\"]\n",
    );
    // Offline, `validate` already sees it: the desired SCPs alone deny the role.
    let out = lz.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("sts:AssumeRole in account.ml-fraud-dev"),
        "{}",
        stderr(&out)
    );
    let out = lz.run(&["validate", "--allow-lockout"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: lockout"),
        "{}",
        stderr(&out)
    );
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("lock Landfall out of 1 account(s) (ml-fraud-dev)"),
        "{err}"
    );
    assert!(
        err.contains("sts:AssumeRole in account.ml-fraud-dev"),
        "{err}"
    );
    assert!(err.contains("deny-assume (Sid NoAssume)"), "{err}");
    let out = lz.run(&["apply", "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    // Explicitly allowed: the plan goes ahead and shows what flips.
    let out = lz.run(&["plan", "--allow-lockout"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Effective permissions change in 1 account(s)"),
        "{text}"
    );
    assert!(
        text.contains("sts:AssumeRole in us-east-1: allowed -> denied"),
        "{text}"
    );
}

#[test]
fn an_ou_left_with_no_allow_path_is_refused() {
    let lz = Lz::example();
    lz.apply_ok();
    // Sandbox keeps only Deny SCPs once FullAWSAccess is gone: nothing can be allowed.
    lz.edit(
        "landfall.toml",
        "[ou.Sandbox]\n",
        "[ou.Sandbox]\nfull_aws_access = false\n",
    );
    let out = lz.run(&["plan"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no Allow path: no SCP attached to ou.Sandbox"),
        "{err}"
    );
    assert!(err.contains("ml-fraud-sandbox"), "{err}");
}

#[test]
fn a_failing_expectation_is_a_located_error_and_blocks_apply() {
    let lz = Lz::example();
    let out = lz.run(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("expectation(s) hold"),
        "{}",
        stderr(&out)
    );
    // Detach the endpoint SCP from dev: the seeds' first expectation now fails.
    lz.edit(
        "landfall.toml",
        "targets = [\"ou:Sandbox\", \"ou:Workloads/Workloads_Dev\"]",
        "targets = [\"ou:Sandbox\"]",
    );
    for args in [&["validate"][..], &["plan"], &["apply", "--auto-approve"]] {
        let out = lz.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(err.contains("error[expect]: landfall.toml:"), "{err}");
        assert!(
            err.contains("expected sagemaker:CreateEndpoint to be denied in ou.Workloads/Workloads_Dev, but in account.ml-fraud-dev it is allowed"),
            "{err}"
        );
    }
    // Nothing was applied.
    assert!(!lz.path("state/ml-platform.state.json").exists());
}

#[test]
fn explain_live_reads_the_applied_organization() {
    let lz = Lz::example();
    lz.apply_ok();
    // Out of band: the endpoint SCP detached from dev. The desired state still denies,
    // the live organization no longer does.
    lz.oob(Oob::Detach(
        "deny-sagemaker-endpoints",
        "ou:Workloads/Workloads_Dev",
    ));
    let ask = |live: bool| {
        let mut args = vec![
            "explain",
            "--account",
            "ml-fraud-dev",
            "--action",
            "sagemaker:CreateEndpoint",
            "--context",
            "aws:RequestedRegion=us-east-1",
            "--context",
            "aws:RequestTag/project=ml-fraud",
            "--context",
            "aws:RequestTag/cost-center=cc",
        ];
        if live {
            args.push("--live");
        }
        let out = lz.run(&args);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    assert!(ask(false).starts_with("DENIED"), "{}", ask(false));
    let live = ask(true);
    assert!(live.starts_with("ALLOWED"), "{live}");
    assert!(live.contains("(live (sim organization"), "{live}");
}

const VPC_LZ: &str = r#"
[landing_zone]
name = "vpc-only"
home_region = "us-east-1"

[ou.Workloads]

[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads"

[scp.need-vpc]
targets = ["ou:Workloads"]
content = '''{"Version":"2012-10-17","Statement":[{"Sid":"NeedVpc","Effect":"Deny","Action":"sagemaker:CreateTrainingJob","Resource":"*","Condition":{"Null":{"sagemaker:VpcSubnets":"true"}}}]}'''
"#;

/// `explain --context-json` says what `--context` cannot (a set, an empty set), and
/// `--requests FILE.jsonl` answers many requests in one run, one JSON line each; a bad
/// line is an error naming FILE:LINE with nothing printed.
#[test]
fn explain_takes_json_context_and_many_requests() {
    let lz = Lz::from_config(VPC_LZ, crate::support::On::Sim);
    let ask = |context: &str| {
        let out = lz.run(&[
            "explain",
            "--account",
            "ml-dev",
            "--action",
            "sagemaker:CreateTrainingJob",
            "--context-json",
            context,
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["decision"].as_str().unwrap().to_string()
    };
    assert_eq!(ask("{}"), "deny");
    assert_eq!(
        ask(r#"{"sagemaker:VpcSubnets": ["subnet-1", "subnet-2"]}"#),
        "allow"
    );
    assert_eq!(ask(r#"{"sagemaker:VpcSubnets": "subnet-1"}"#), "allow");
    let out = lz.run(&[
        "explain",
        "--account",
        "ml-dev",
        "--action",
        "s3:GetObject",
        "--context-json",
        "[1]",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a JSON object"),
        "{}",
        stderr(&out)
    );

    std::fs::write(
        lz.path("requests.jsonl"),
        concat!(
            r#"{"account": "ml-dev", "action": "sagemaker:CreateTrainingJob"}"#,
            "\n\n",
            r#"{"account": "ml-dev", "action": "sagemaker:CreateTrainingJob", "context": {"sagemaker:VpcSubnets": ["subnet-1"]}}"#,
            "\n",
            r#"{"account": "ml-dev", "action": "s3:GetObject", "resource": "arn:aws:s3:::data/x"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = lz.run(&["explain", "--requests", "requests.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let decisions: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["decision"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(decisions, vec!["deny", "allow", "allow"]);

    std::fs::write(
        lz.path("bad.jsonl"),
        "{\"account\": \"ml-dev\", \"action\": \"s3:GetObject\"}\n{\"account\": \"ml-dev\", \"action\": \"s3GetObject\"}\n",
    )
    .unwrap();
    let out = lz.run(&["explain", "--requests", "bad.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("bad.jsonl:2: `s3GetObject` is not an action"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty(), "all results or none");
    let out = lz.run(&["explain", "--requests", "requests.jsonl", "--account", "x"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "--requests excludes a single request's flags"
    );
}

const REGION_LZ: &str = r#"
[landing_zone]
name = "regions"
home_region = "us-east-1"

[ou.Workloads]

[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads"

[scp.deny-regions]
targets = ["ou:Workloads"]
file = "deny-regions.json"
"#;

/// The blast radius samples what a changed policy names — an action outside the fixed
/// sample, a region outside the governed ones — and reports each flip as structured
/// JSON with the statement that decides it.
#[test]
fn blast_radius_covers_what_the_change_names() {
    let lz = Lz::from_config(REGION_LZ, crate::support::On::Sim);
    let policy = |regions: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"NoRegions","Effect":"Deny","Action":["bedrock:InvokeModel","ec2:RunInstances"],"Resource":"*","Condition":{{"StringEquals":{{"aws:RequestedRegion":[{regions}]}}}}}}]}}"#
        )
    };
    std::fs::write(lz.path("deny-regions.json"), policy(r#""eu-central-1""#)).unwrap();
    lz.apply_ok();
    std::fs::write(
        lz.path("deny-regions.json"),
        policy(r#""eu-central-1","ap-northeast-3""#),
    )
    .unwrap();
    let plan = lz.plan_json();
    let changes = plan["permission_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan:#}");
    assert_eq!(changes[0]["account"], "ml-dev");
    let flips = changes[0]["flips"].as_array().unwrap();
    let bedrock = flips
        .iter()
        .find(|f| f["action"] == "bedrock:InvokeModel" && f["region"] == "ap-northeast-3")
        .unwrap_or_else(|| panic!("no bedrock flip in {flips:#?}"));
    assert_eq!(bedrock["before"], "allow");
    assert_eq!(bedrock["after"], "deny");
    assert_eq!(bedrock["resource"], "*");
    assert_eq!(bedrock["deciding"]["policy"], "deny-regions");
    assert_eq!(bedrock["deciding"]["sid"], "NoRegions");
    assert_eq!(bedrock["deciding"]["level"], "ou.Workloads");
    assert!(
        flips.iter().all(|f| f["region"] == "ap-northeast-3"),
        "only the added region flips: {flips:#?}"
    );
    let text = stdout(&lz.run(&["plan"]));
    assert!(
        text.contains("bedrock:InvokeModel in ap-northeast-3: allowed -> denied (by deny-regions Sid NoRegions at ou.Workloads)"),
        "{text}"
    );

    // A statement that only denies with a tag: the sample carries the tag value the
    // changed statement names, and says so.
    std::fs::write(
        lz.path("deny-regions.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoRegions","Effect":"Deny","Action":["bedrock:InvokeModel","ec2:RunInstances"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-central-1"]}}},{"Sid":"Restricted","Effect":"Deny","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/classification":"restricted"}}}]}"#,
    )
    .unwrap();
    let plan = lz.plan_json();
    let flips = plan["permission_changes"][0]["flips"].as_array().unwrap();
    let tagged = flips
        .iter()
        .find(|f| f["action"] == "s3:GetObject")
        .unwrap_or_else(|| panic!("no s3:GetObject flip in {flips:#?}"));
    assert_eq!(
        tagged["context"]["aws:ResourceTag/classification"],
        "restricted"
    );
    assert_eq!(tagged["deciding"]["sid"], "Restricted");
}
