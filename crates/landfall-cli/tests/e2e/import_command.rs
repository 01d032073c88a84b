//! `landfall import` (issue 14): an organization Landfall did not build, written as a
//! landing zone it then manages with no changes — the example applied on the sim, a
//! sim world made only with `landfall sim` commands, and on moto an organization built
//! with boto3 by "another tool" (`fixtures/org_by_another_tool.py`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::formats::assert_format;
use landfall_aws::testkit::Console;

use crate::support::{
    Lz, On, moto_env, moto_session, moto_url, ok, repo_root, runtime, stderr, stdout,
};

/// Every file under `dir` but the state and its lock, by relative path.
fn files(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                if !rel.starts_with("state/") {
                    out.insert(rel, std::fs::read_to_string(&path).unwrap());
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `plan -c DIR --detailed-exitcode` exits 0 with "No changes.", and `drift -c DIR` 0.
fn assert_managed_with_no_changes(lz: &Lz, dir: &str) {
    let plan = lz.run(&["plan", "-c", dir, "--detailed-exitcode"]);
    let text = ok(&plan, "plan of the imported landing zone");
    assert!(text.contains("No changes."), "{text}");
    let drift = lz.run(&["drift", "-c", dir]);
    ok(&drift, "drift of the imported landing zone");
}

#[test]
fn the_applied_example_imports_as_a_landing_zone_with_no_changes_on_sim() {
    let lz = Lz::example();
    lz.apply_ok();
    let world = "state/ml-platform.sim-world.json";
    let members = "--members=us-east-1,us-west-2";
    let out = lz.run(&["import", "--out", "a/lz", "--sim-world", world, members]);
    let text = ok(&out, "import");
    assert!(
        text.contains("Checked: the first plan against this organization has no changes."),
        "{text}"
    );
    assert!(
        text.contains("9 OU(s), 12 account(s), 9 SCP(s), 3 other organization policies, 18 control(s), 8 OU registration(s), 2 network(s), 2 KMS key(s)"),
        "{text}"
    );
    assert_managed_with_no_changes(&lz, "a/lz");

    // Every resource adopted, none created: Landfall will never delete them.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(lz.path("a/lz/state/lz.state.json")).unwrap(),
    )
    .unwrap();
    let resources = state["resources"].as_object().unwrap();
    assert!(resources.len() > 80, "{}", resources.len());
    assert!(resources.values().all(|r| r["created"] == false));
    for address in [
        "ou.Workloads/Workloads_Dev",
        "account.ml-fraud-dev",
        "scp.approved-regions",
        "attachment.approved-regions:root",
        "control.AWS-GR_RESTRICT_ROOT_USER:ou.Sandbox",
        "registration.ou.Workloads",
        "vpc.ml-fraud-dev-use1",
        "endpoint.ml-fraud-prod-usw2.sagemaker.api",
        "kms_key.ml-fraud-prod",
        "rcp.data-perimeter",
        "rcp_attachment.data-perimeter:ou.Workloads",
        "policy_type.rcp",
        "tag_policy.cost-tags",
        "ai_opt_out_policy_attachment.opt-out-all:root",
    ] {
        assert!(
            resources.contains_key(address),
            "{address} not in the state"
        );
    }

    // Deterministic: the same organization gives the same bytes.
    ok(
        &lz.run(&["import", "--out", "b/lz", "--sim-world", world, members]),
        "second import",
    );
    assert_eq!(files(&lz.path("a/lz")), files(&lz.path("b/lz")));
    let toml = std::fs::read_to_string(lz.path("a/lz/landfall.toml")).unwrap();
    assert!(
        toml.contains("governed_regions = [\"us-east-1\", \"us-west-2\"]"),
        "governed regions from approved-regions:\n{toml}"
    );
    assert_format(
        Some(&lz),
        "import_example_toml",
        "landfall import of the example applied on the sim",
        &toml,
    );
    // The other policy types, each with its document; the data perimeter names the
    // organization Landfall filled in when it planned.
    for expected in [
        "[rcp.data-perimeter]",
        "file = \"policies/rcp/data-perimeter.json\"\ntargets = [\"ou:Workloads\"]",
        "[tag_policy.cost-tags]",
        "[ai_opt_out_policy.opt-out-all]",
        "#   guardduty.amazonaws.com: account.security-tooling (",
        // What is delegated is what [security_services] would declare: the block that
        // manages it, commented.
        "# [security_services]\n# delegated_administrator = \"security-tooling\"\n# services = [\"guardduty\", \"securityhub\", \"config\", \"access_analyzer\"]",
    ] {
        assert!(toml.contains(expected), "{expected:?} missing:\n{toml}");
    }
    let perimeter =
        std::fs::read_to_string(lz.path("a/lz/policies/rcp/data-perimeter.json")).unwrap();
    assert!(
        perimeter.contains("\"aws:PrincipalOrgID\": \"") && !perimeter.contains("${"),
        "{perimeter}"
    );
    let policy = std::fs::read_to_string(lz.path("a/lz/policies/deny-leave-org.json")).unwrap();
    assert_eq!(
        policy,
        "{\n  \"Statement\": [\n    {\n      \"Action\": \"organizations:LeaveOrganization\",\n      \"Effect\": \"Deny\",\n      \"Resource\": \"*\",\n      \"Sid\": \"DenyLeaveOrganization\"\n    }\n  ],\n  \"Version\": \"2012-10-17\"\n}\n"
    );

    // Editing the imported file is planned as usual: one tag, one update.
    assert!(toml.contains("purpose = \"experimentation\""));
    let edited = toml.replace("purpose = \"experimentation\"", "purpose = \"exploration\"");
    std::fs::write(lz.path("a/lz/landfall.toml"), edited).unwrap();
    let plan = lz.run(&["plan", "-c", "a/lz", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains("update  ou.Sandbox"),
        "{}",
        stdout(&plan)
    );
    assert!(
        stdout(&plan).contains("Plan: 0 to create, 1 to update, 0 to move, 0 to delete."),
        "{}",
        stdout(&plan)
    );
}

const OTHER: &str = "[landing_zone]\nname = \"other\"\nhome_region = \"eu-west-1\"\n";

/// A sim world built only with `landfall sim` commands, as another tool would leave it.
fn world_by_sim_commands() -> Lz {
    let lz = Lz::from_config(OTHER, On::Sim);
    std::fs::write(
        lz.path("region.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Region","Effect":"Deny","NotAction":["iam:*","organizations:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}"#,
    )
    .unwrap();
    std::fs::write(
        lz.path("leave.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#,
    )
    .unwrap();
    std::fs::write(
        lz.path("allow-ml.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sagemaker:*"],"Resource":"*"}]}"#,
    )
    .unwrap();
    let steps: &[&[&str]] = &[
        &["landing-zone", "none"],
        &["create-ou", "ou:Platform"],
        &["create-ou", "ou:ML"],
        &["create-ou", "ou:ML/Team A"],
        &["create-ou", "ou:ML/Team A/Dev"],
        &[
            "create-account",
            "log-archive",
            "--email",
            "log@example.com",
            "--parent",
            "ou:Platform",
        ],
        &[
            "create-account",
            "Data Science Dev",
            "--email",
            "ds@example.com",
            "--parent",
            "ou:ML/Team A/Dev",
        ],
        &["create-account", "sandbox", "--email", "sb@example.com"],
        &[
            "create-account",
            "old",
            "--email",
            "old@example.com",
            "--parent",
            "ou:ML",
        ],
        &["close-account", "account:old"],
        &["tag", "account:log-archive", "owner", "security"],
        &["tag", "ou:ML/Team A", "team", "a"],
        &[
            "create-policy",
            "region-deny",
            "--file",
            "region.json",
            "--description",
            "Only EU",
        ],
        &["create-policy", "deny-leave", "--file", "leave.json"],
        &["create-policy", "allow ml", "--file", "allow-ml.json"],
        &["tag", "scp:deny-leave", "owner", "platform"],
        &["attach-policy", "region-deny", "root"],
        &["attach-policy", "deny-leave", "ou:ML"],
        &["attach-policy", "deny-leave", "account:sandbox"],
        &["attach-policy", "allow ml", "ou:ML/Team A"],
        &["detach-policy", "FullAWSAccess", "ou:ML/Team A"],
    ];
    for step in steps {
        let out = lz.cmd().arg("sim").args(*step).output().unwrap();
        ok(&out, &format!("sim {step:?}"));
    }
    lz
}

#[test]
fn a_world_made_by_sim_commands_imports_with_no_changes_and_says_what_it_left_out() {
    let lz = world_by_sim_commands();
    let world = "state/other.sim-world.json";
    let out = lz.run(&[
        "import",
        "--out",
        "lz",
        "--sim-world",
        world,
        "--home-region",
        "eu-west-1",
    ]);
    let text = ok(&out, "import");
    assert!(text.contains("4 OU(s), 3 account(s), 3 SCP(s)"), "{text}");
    assert!(text.contains("with no counted API calls"), "{text}");
    assert!(text.contains("has no changes"), "{text}");
    let warnings = stderr(&out);
    assert!(
        warnings.contains("`old` is SUSPENDED: not imported"),
        "{warnings}"
    );
    // Names AWS has but an address cannot hold are kept with `name =`: no renames.
    assert!(!warnings.contains("renames"), "{warnings}");
    assert_managed_with_no_changes(&lz, "lz");

    let toml = std::fs::read_to_string(lz.path("lz/landfall.toml")).unwrap();
    for expected in [
        "governed_regions = [\"eu-central-1\", \"eu-west-1\"]",
        "[ou.\"ML/Team A\"]",
        "full_aws_access = false",
        "[account.Data-Science-Dev]",
        "[account.Data-Science-Dev]  #",
        "name = \"Data Science Dev\"",
        "name = \"allow ml\"",
        "[scp.allow-ml]",
        "targets = [\"ou:ML\", \"account:sandbox\"]",
        "is SUSPENDED: not declared",
        "ignore = [\"account.old\"]",
        "world = \"../state/other.sim-world.json\"",
    ] {
        assert!(toml.contains(expected), "{expected:?} missing:\n{toml}");
    }
    // The management account is named, never declared.
    assert!(toml.contains("The management account"), "{toml}");
    assert!(!toml.contains("[account.management]"), "{toml}");

    // --split: one file per top-level OU, the same landing zone.
    let out = lz.run(&[
        "import",
        "--out",
        "split",
        "--name",
        "lz",
        "--split",
        "--sim-world",
        world,
        "--home-region",
        "eu-west-1",
    ]);
    ok(&out, "import --split");
    let split = files(&lz.path("split"));
    assert!(
        split.contains_key("ous/ML.toml") && split.contains_key("ous/Platform.toml"),
        "{:?}",
        split.keys()
    );
    assert!(split["ous/ML.toml"].contains("[account.Data-Science-Dev]"));
    assert!(!split["landfall.toml"].contains("[ou.ML]"));
    assert_managed_with_no_changes(&lz, "split");
}

#[test]
fn import_writes_nothing_into_a_non_empty_directory_nor_on_a_dry_run() {
    let lz = world_by_sim_commands();
    let world = "state/other.sim-world.json";
    std::fs::create_dir(lz.path("taken")).unwrap();
    std::fs::write(lz.path("taken/notes.txt"), "mine").unwrap();
    let out = lz.run(&["import", "--out", "taken", "--sim-world", world]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("taken exists and is not empty"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(lz.path("taken")).unwrap().count(), 1);

    let out = lz.run(&["import", "--out", "lz", "--dry-run", "--sim-world", world]);
    let text = ok(&out, "import --dry-run");
    assert!(text.contains("# ==> lz/landfall.toml <=="), "{text}");
    assert!(
        text.contains("# ==> lz/policies/region-deny.json <=="),
        "{text}"
    );
    assert!(!lz.path("lz").exists());

    // The sim backend needs the world; a bad name is refused with a hint.
    let out = lz.run(&["import", "--out", "lz"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--sim-world"), "{}", stderr(&out));
    let out = lz.run(&["import", "--out", "Bad Name", "--sim-world", world]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--name"), "{}", stderr(&out));
    assert!(!lz.path("Bad Name").exists());
}

#[test]
fn an_organization_built_with_boto3_imports_with_no_changes_on_moto() {
    let _moto = moto_session();
    let lz = Lz::from_config("", On::Moto);
    let python = repo_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/test, which installs moto and boto3 there",
        python.display()
    );
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures/org_by_another_tool.py");
    let mut build = std::process::Command::new(python);
    build.arg(script);
    for (k, v) in moto_env() {
        build.env(k, v);
    }
    let built = build.output().unwrap();
    assert!(
        built.status.success(),
        "boto3 script: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let ids: serde_json::Value = serde_json::from_slice(&built.stdout).unwrap();

    let out = lz.run(&[
        "import",
        "--out",
        "lz",
        "--skip-control-tower",
        "--home-region",
        "eu-west-1",
    ]);
    let text = ok(&out, "import");
    assert!(
        text.contains("4 OU(s), 4 account(s), 3 SCP(s), 2 other organization policies"),
        "{text}"
    );
    assert!(text.contains("has no changes"), "{text}");
    assert!(text.contains("API call(s)"), "{text}");
    assert_managed_with_no_changes(&lz, "lz");

    let toml = std::fs::read_to_string(lz.path("lz/landfall.toml")).unwrap();
    let retired = ids["retired"].as_str().unwrap();
    let gpu_ou = ids["gpu_ou"].as_str().unwrap();
    for expected in [
        "backend = \"aws\"".to_string(),
        "governed_regions = [\"eu-central-1\", \"eu-west-1\"]".to_string(),
        format!("[ou.\"ML/Research/GPU Jobs\"]  # {gpu_ou}"),
        "full_aws_access = false".to_string(),
        "tags = { cost-center = \"cc-42\", owner = \"ml-team\" }".to_string(),
        "[scp.gpu-jobs-only]".to_string(),
        "targets = [\"ou:ML\", \"account:sandbox\"]".to_string(),
        format!("account {retired} `retired`"),
        "Control Tower was not read".to_string(),
        format!(
            "[tag_policy.cost-tags]  # {}\ndescription = \"The cost tags\"\nfile = \"policies/tag_policy/cost-tags.json\"\ntargets = [\"root\"]",
            ids["tag_policy"].as_str().unwrap()
        ),
        format!(
            "[rcp.tls-only]  # {}\nfile = \"policies/rcp/tls-only.json\"\ntargets = [\"ou:ML\"]",
            ids["tls_only"].as_str().unwrap()
        ),
        "# Trusted access:\n#   guardduty.amazonaws.com\n".to_string(),
        format!(
            "# Delegated administrators:\n#   guardduty.amazonaws.com: account.log-archive ({})",
            ids["logs"].as_str().unwrap()
        ),
        "# [security_services]\n# delegated_administrator = \"log-archive\"\n# services = [\"guardduty\"]".to_string(),
    ] {
        assert!(toml.contains(&expected), "{expected:?} missing:\n{toml}");
    }

    // The state can go straight to S3 (a versioned bucket; moto enforces a TLS-only
    // policy on plain HTTP, so not one made by `state bootstrap`); the configuration
    // then says so, and a second import there is refused.
    let console = runtime().block_on(Console::connect(&moto_url()));
    runtime()
        .block_on(console.create_versioned_bucket("imported-state"))
        .unwrap();
    let s3 = "s3://imported-state/org/lz.state.json";
    let out = lz.run(&[
        "import",
        "--out",
        "lzs3",
        "--skip-control-tower",
        "--home-region",
        "eu-west-1",
        "--state",
        s3,
    ]);
    let text = ok(&out, "import to S3 state");
    assert!(text.contains(&format!("adopted at {s3}")), "{text}");
    assert!(!lz.path("lzs3/state").exists());
    let toml = std::fs::read_to_string(lz.path("lzs3/landfall.toml")).unwrap();
    assert!(
        toml.contains(
            "[state]\nbackend = \"s3\"\nbucket = \"imported-state\"\nkey = \"org/lz.state.json\""
        ),
        "{toml}"
    );
    assert_managed_with_no_changes(&lz, "lzs3");
    let again = lz.run(&[
        "import",
        "--out",
        "lzs3-again",
        "--skip-control-tower",
        "--home-region",
        "eu-west-1",
        "--state",
        s3,
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("there is a state at"),
        "{}",
        stderr(&again)
    );
    assert!(!lz.path("lzs3-again").exists());

    // With the member accounts: the team's key is adopted as it is; its VPC lacks what
    // a Landfall network has (a route table and a security group for endpoints), and
    // the import says so instead of pretending.
    let out = lz.run(&[
        "import",
        "--out",
        "lzm",
        "--skip-control-tower",
        "--home-region",
        "eu-west-1",
        "--members",
        "eu-west-1",
    ]);
    let text = ok(&out, "import --members");
    assert!(text.contains("1 network(s), 1 KMS key(s)"), "{text}");
    assert!(text.contains("the first plan will not be empty"), "{text}");
    assert!(text.contains("create route_table.churn-vpc"), "{text}");
    assert!(text.contains("create security_group.churn-vpc"), "{text}");
    assert!(
        !text.contains("kms_key.churn-data"),
        "the key needs no change:\n{text}"
    );
    assert!(!text.contains("delete "), "{text}");
    let toml = std::fs::read_to_string(lz.path("lzm/landfall.toml")).unwrap();
    for expected in [
        format!("[network.churn-vpc]  # {}", ids["vpc"].as_str().unwrap()),
        "account = \"data-science-dev\"".to_string(),
        "{ az = \"eu-west-1a\", cidr = \"10.40.1.0/24\" },".to_string(),
        format!("[kms_key.churn-data]  # {}", ids["key"].as_str().unwrap()),
        "alias = \"alias/churn-data\"".to_string(),
        "the default VPC".to_string(),
    ] {
        assert!(toml.contains(&expected), "{expected:?} missing:\n{toml}");
    }
    let plan = lz.run(&["plan", "-c", "lzm", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains("2 to create, 1 to update, 0 to move, 0 to delete."),
        "{}",
        stdout(&plan)
    );
}
