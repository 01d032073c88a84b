//! Snapshots of the documented output formats (docs/commands.md), so that a format
//! change shows up as a diff in `snapshots/`: `plan` (human and `--json`), `drift`
//! (human, `--json`, `--markdown`) and the `--help` texts. Everything that varies from
//! one run to the next (the sim world id, resource ids, the state's lineage, temp paths,
//! timestamps, durations) is replaced by a placeholder.
//!
//! Review and accept changes with `cargo insta review`, or rerun with
//! `INSTA_UPDATE=always` and read the `.snap` files.

use std::process::Output;

use serde_json::Value;

use crate::support::{Lz, stderr, stdout};

/// Patterns replaced in every snapshot, in this order (more specific ones first: a KMS
/// key id or an EC2 id may contain 12 digits in a row, an OU id contains the root's).
const FILTERS: &[(&str, &str)] = &[
    // The state's lineage, then every other UUID (KMS key ids, control operations).
    (
        r#""lineage": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}""#,
        r#""lineage": "[LINEAGE]""#,
    ),
    (
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        "[UUID]",
    ),
    // RFC 3339 timestamps and durations (`in 1.4s`, `250ms`).
    (
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[TIMESTAMP]",
    ),
    (r"\b\d+(\.\d+)?(ms|s)\b", "[DURATION]"),
    // EC2 (`vpc-`, `subnet-`, `rtb-`, `sg-`, `vpce-` and 17 hex digits).
    (r"\b(vpc|subnet|rtb|sg|vpce)-[0-9a-f]{17}\b", "$1-[ID]"),
    // Service Catalog portfolios, provisioned products, records, share tokens.
    (r"\b(port|pp|rec|share)-[0-9a-z]{13}\b", "$1-[ID]"),
    // Control Tower enabled controls and baselines (the ARN's last part).
    (
        r"enabled(control|baseline)/[0-9A-Z]{16}\b",
        "enabled$1/[ID]",
    ),
    // Organizations: create-account requests, OUs, the root, SCPs, accounts.
    (r"\bcar-[0-9a-f]{32}\b", "car-[ID]"),
    (r"\bou-[0-9a-z]{4}-[0-9a-z]{8}\b", "[OU_ID]"),
    (r"\br-[0-9a-z]{4}\b", "[ROOT_ID]"),
    (r"\bp-[0-9a-z]{8}\b", "[SCP_ID]"),
    // IAM Identity Center: the instance and the permission sets (made concurrently:
    // their ids follow the order the apply happened to create them in).
    (r"\bssoins-[0-9a-f]{16}\b", "ssoins-[ID]"),
    (r"\bps-[0-9a-f]{16}\b", "ps-[ID]"),
    // The sim world (random on purpose: a state file is bound to it). Before account
    // ids: a world id whose 12 hex digits are all decimal would otherwise become
    // `sim-[ACCOUNT_ID]`.
    (r"\bsim-[0-9a-f]{12}\b", "[WORLD_ID]"),
    (r"\b[0-9]{12}\b", "[ACCOUNT_ID]"),
];

/// `text` with every regex metacharacter escaped.
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Snapshots `text` as `snapshots/<name>.snap`, with the run-dependent parts filtered
/// (also used by `show_target`).
pub(crate) fn assert_format(lz: Option<&Lz>, name: &str, description: &str, text: &str) {
    let mut filters: Vec<(String, String)> = Vec::new();
    if let Some(lz) = lz {
        filters.push((
            regex_escape(&lz.dir.path().display().to_string()),
            "[TMP]".into(),
        ));
    }
    filters.extend(
        FILTERS
            .iter()
            .map(|(pattern, with)| (pattern.to_string(), with.to_string())),
    );
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => description,
        filters => filters.iter().map(|(p, w)| (p.as_str(), w.as_str())),
    }, {
        insta::assert_snapshot!(name, text);
    });
}

/// stdout of a run that exited with `code`.
fn output_with(out: &Output, code: i32, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}:\n{}\n{}",
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

/// stdout, after checking it is one JSON document.
fn json_text(out: &Output, code: i32, what: &str) -> String {
    let text = output_with(out, code, what);
    serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    text
}

/// Removes the block that starts with `header`, up to the next blank line.
fn remove_block(lz: &Lz, header: &str) {
    let path = lz.path("landfall.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("no {header} in landfall.toml"));
    let end = start + text[start..].find("\n\n").unwrap();
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

#[test]
fn plan_of_the_example_human_and_json() {
    let lz = Lz::example();
    let human = output_with(&lz.run(&["plan"]), 0, "plan");
    assert_format(
        Some(&lz),
        "plan_example_human",
        "landfall plan: the example on a fresh sim organization (stdout)",
        &human,
    );
    let json = json_text(&lz.run(&["plan", "--json"]), 0, "plan --json");
    assert_format(
        Some(&lz),
        "plan_example_json",
        "landfall plan --json: the example on a fresh sim organization",
        &json,
    );
}

#[test]
fn plan_of_every_kind_of_change_human_and_json() {
    let lz = Lz::example();
    // Applied first: an account that may be closed, and a network with one endpoint.
    lz.edit(
        "landfall.toml",
        "email = \"aws+shared-services@example.com\"",
        "email = \"aws+shared-services@example.com\"\nallow_close = true",
    );
    lz.append(
        "landfall.toml",
        "\n[network.scratch]\naccount = \"ml-fraud-sandbox\"\nregion = \"us-east-1\"\ncidr = \"10.40.0.0/16\"\nsubnets = [{ az = \"us-east-1a\", cidr = \"10.40.1.0/24\" }]\nendpoints = [\"sts\"]\n",
    );
    lz.apply_ok();
    // Then one change of each kind: update (tags, SCP content), create, move, replace
    // (an endpoint's service), close, forget and delete.
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
        "email = \"aws+data-lake@example.com\"\nou = \"Workloads\"",
        "email = \"aws+data-lake@example.com\"\nou = \"Infrastructure\"",
    );
    lz.edit(
        "landfall.toml",
        "endpoints = [\"sts\"]",
        "endpoints = [\"kms\"]",
    );
    remove_block(&lz, "[account.shared-services]");
    remove_block(&lz, "[account.team-shared-services]");
    lz.edit(
        "landfall.toml",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Workloads\", \"ou:Sandbox\"]",
        "file = \"policies/require-cost-tags.json\"\ntargets = [\"ou:Sandbox\"]",
    );

    let human = output_with(&lz.run(&["plan"]), 0, "plan");
    assert_format(
        Some(&lz),
        "plan_changes_human",
        "landfall plan after edits to the applied example: every kind of change but adopt, with the permission changes (stdout)",
        &human,
    );
    let json = json_text(&lz.run(&["plan", "--json"]), 0, "plan --json");
    assert_format(
        Some(&lz),
        "plan_changes_json",
        "landfall plan --json after edits to the applied example: every kind of change but adopt, with permission_changes",
        &json,
    );
}

#[test]
fn drift_reports_human_json_and_markdown() {
    let lz = Lz::example();
    lz.apply_ok();
    // Out-of-band changes, one or more of each drift class.
    let sim = |args: &[&str]| {
        let mut all = vec!["sim"];
        all.extend_from_slice(args);
        output_with(&lz.run(&all), 0, &format!("{all:?}"));
    };
    std::fs::write(
        lz.path("oob-policy.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap();
    sim(&[
        "detach-policy",
        "deny-sagemaker-endpoints",
        "ou:Workloads/Workloads_Dev",
    ]);
    sim(&["move-account", "ml-fraud-dev", "ou:Sandbox"]);
    sim(&["rename-ou", "Deployments", "Deploys"]);
    sim(&[
        "update-policy",
        "deny-leave-org",
        "--file",
        "oob-policy.json",
    ]);
    sim(&["create-ou", "Workloads/Shadow_IT"]);
    sim(&[
        "attach-policy",
        "restrict-instance-types",
        "ou:Workloads/Workloads_Prod",
    ]);
    sim(&["tag", "account:data-lake", "owner", "someone-else"]);
    sim(&[
        "delete-endpoint",
        "endpoint.ml-fraud-dev-use1.sagemaker.runtime",
    ]);
    sim(&["set-key-rotation", "kms_key.ml-fraud-dev", "off"]);
    sim(&["create-endpoint", "vpc.ml-fraud-dev-use1", "kms"]);
    sim(&["disable-control", "AWS-GR_RESTRICT_ROOT_USER", "Sandbox"]);
    sim(&[
        "drift-control",
        "AWS-GR_S3_VERSIONING_ENABLED",
        "Workloads/Workloads_Dev",
    ]);
    sim(&[
        "delete-portfolio-share",
        "ml-products",
        "ou:Workloads/Workloads_Prod",
    ]);
    // And one change to the desired state that is not applied yet.
    lz.edit(
        "landfall.toml",
        "owner = \"security-team\", managed-by",
        "owner = \"sec-ops\", managed-by",
    );

    let human = output_with(&lz.run(&["drift"]), 2, "drift");
    assert_format(
        Some(&lz),
        "drift_human",
        "landfall drift after out-of-band changes (landfall sim ...) and one unapplied edit (stdout)",
        &human,
    );
    let json = json_text(&lz.run(&["drift", "--json"]), 2, "drift --json");
    assert_format(
        Some(&lz),
        "drift_json",
        "landfall drift --json after out-of-band changes (landfall sim ...) and one unapplied edit",
        &json,
    );
    let markdown = output_with(&lz.run(&["drift", "--markdown"]), 2, "drift --markdown");
    assert_format(
        Some(&lz),
        "drift_markdown",
        "landfall drift --markdown after out-of-band changes (landfall sim ...) and one unapplied edit",
        &markdown,
    );
}

#[test]
fn help_texts() {
    for (name, args) in [
        ("help", &["--help"][..]),
        ("help_plan", &["plan", "--help"]),
        ("help_apply", &["apply", "--help"]),
        ("help_drift", &["drift", "--help"]),
    ] {
        // A fixed width and no colors; AWS_PROFILE would show as the --profile default.
        let out = assert_cmd::Command::cargo_bin("landfall")
            .unwrap()
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env_remove("AWS_PROFILE")
            .env_remove("CLICOLOR_FORCE")
            .args(args)
            .output()
            .unwrap();
        let text = output_with(&out, 0, &format!("landfall {}", args.join(" ")));
        assert_format(
            None,
            name,
            &format!("landfall {} (NO_COLOR=1, COLUMNS=100)", args.join(" ")),
            &text,
        );
    }
}
