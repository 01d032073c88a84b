//! Loading valid configurations, and the validation rules that span several
//! declarations or files (the single-problem cases are in the corpus).

// Helpers are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use landfall_config::{Diagnostics, Loaded, Severity, json_schema, load, load_sources};
use landfall_core::model::{
    AccountRemoval, BackendKind, ExpectScope, ExpectedDecision, Lifecycle, ObjectLock,
    ObjectLockMode, OrgPolicyType, canonical_json,
};
use landfall_core::{Attachment, FULL_AWS_ACCESS, OuPath, Target};

const LZ: &str = "[landing_zone]\nname = \"t\"\nhome_region = \"us-east-1\"\n";

const DENY: &str = r#"'''{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}'''"#;

fn sources(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

fn ok(files: &[(&str, &str)]) -> Loaded {
    match load_sources(sources(files), Path::new("")) {
        Ok(l) => l,
        Err(d) => panic!("unexpected errors:\n{}", d.render(false)),
    }
}

fn errors(files: &[(&str, &str)]) -> Diagnostics {
    match load_sources(sources(files), Path::new("")) {
        Ok(_) => panic!("loaded without errors"),
        Err(d) => d,
    }
}

/// The codes of the errors, in order.
fn codes(d: &Diagnostics) -> Vec<&'static str> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.code)
        .collect()
}

fn attached(l: &Loaded, policy: &str, target: Target) -> bool {
    l.desired.attachments.contains(&Attachment {
        policy: policy.into(),
        target,
    })
}

#[test]
fn a_minimal_config_loads_with_defaults() {
    let l = ok(&[("landfall.toml", LZ)]);
    let lz = &l.desired.landing_zone;
    assert_eq!(lz.name, "t");
    assert_eq!(lz.governed_regions, vec!["us-east-1".to_string()]);
    assert_eq!(lz.backend, BackendKind::Sim);
    assert_eq!(lz.access_role, "OrganizationAccountAccessRole");
    assert_eq!(lz.account_removal, AccountRemoval::Forget);
    assert_eq!(lz.quotas, Default::default());
    assert_eq!(lz.sim.account_creation_polls, 1);
    assert!(l.warnings.is_empty());
    // The root gets FullAWSAccess, as AWS does.
    assert!(attached(&l, FULL_AWS_ACCESS, Target::Root));
    assert_eq!(l.desired.attachments.len(), 1);
}

#[test]
fn a_full_config_is_resolved() {
    let text = format!(
        r#"{LZ}governed_regions = ["us-east-1", "eu-west-1"]
backend = "aws"
state_path = "custom/state.json"
access_role = "AWSControlTowerExecution"

[landing_zone.account_removal]
mode = "quarantine"
ou = "Suspended"

[landing_zone.quotas]
scps_per_target = 3

[sim]
throttle_rate = 0.25
fail_at = 3

[ou.Suspended]
[ou.Workloads]
tags = {{ owner = "ml" }}
[ou."Workloads/Dev"]
full_aws_access = false

[account.ml-dev]
email = "aws+ml-dev@example.com"
ou = "Workloads/Dev"
allow_close = true

[scp.deny-leave-org]
description = "no leaving"
targets = ["root", "ou:Workloads/Dev", "account:ml-dev"]
content = """
{{ "Version": "2012-10-17",
   "Statement": [{{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}}] }}
"""
"#
    );
    let l = ok(&[("main.toml", &text)]);
    let d = &l.desired;
    let lz = &d.landing_zone;
    assert_eq!(lz.backend, BackendKind::Aws);
    assert_eq!(
        lz.state_path.as_deref(),
        Some(Path::new("custom/state.json"))
    );
    assert_eq!(lz.quotas.scps_per_target, 3);
    assert_eq!(lz.sim.fail_at, Some(3));
    assert_eq!(
        lz.account_removal,
        AccountRemoval::Quarantine {
            ou: OuPath::new("Suspended")
        }
    );
    let account = &d.accounts["ml-dev"];
    assert_eq!(account.ou, Some(OuPath::new("Workloads/Dev")));
    assert!(account.allow_close);
    assert_eq!(account.origin.file, "main.toml");
    assert_eq!((account.origin.line, account.origin.column), (26, 10));
    assert_eq!(d.ous[&OuPath::new("Workloads")].tags["owner"], "ml");
    // Stored minified.
    assert_eq!(
        d.policies["deny-leave-org"].content,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#
    );
    // Explicit attachments plus FullAWSAccess everywhere except the opted-out OU.
    let dev = Target::Ou(OuPath::new("Workloads/Dev"));
    assert!(attached(&l, "deny-leave-org", Target::Root));
    assert!(attached(&l, "deny-leave-org", dev.clone()));
    assert!(attached(
        &l,
        "deny-leave-org",
        Target::Account("ml-dev".into())
    ));
    assert!(!attached(&l, FULL_AWS_ACCESS, dev));
    assert!(attached(
        &l,
        FULL_AWS_ACCESS,
        Target::Ou(OuPath::new("Workloads"))
    ));
    assert!(attached(
        &l,
        FULL_AWS_ACCESS,
        Target::Account("ml-dev".into())
    ));
    assert_eq!(d.attachments.len(), 3 + 4);
}

#[test]
fn files_of_a_directory_are_merged() {
    let l = ok(&[
        ("a.toml", LZ),
        (
            "teams/ml.toml",
            "[ou.ML]\n[account.ml]\nemail = \"ml@example.com\"\nou = \"ML\"\n",
        ),
    ]);
    assert_eq!(l.desired.accounts["ml"].origin.file, "teams/ml.toml");
    assert_eq!(l.desired.ous.len(), 1);
}

#[test]
fn policy_files_are_relative_to_base_dir_and_the_toml_file() {
    let toml = format!(
        "{LZ}[scp.deny]\nfile = \"policies/34-deny-leave-org.json\"\ntargets = [\"root\"]\n"
    );
    let l = load_sources(
        sources(&[("main.toml", &toml)]),
        Path::new("../../tests/corpus/invalid"),
    )
    .unwrap();
    assert!(
        l.desired.policies["deny"]
            .content
            .starts_with("{\"Version\"")
    );
    assert_eq!(
        l.files,
        vec![Path::new(
            "../../tests/corpus/invalid/policies/34-deny-leave-org.json"
        )]
    );
}

#[test]
fn json_schema_describes_the_file() {
    let schema = json_schema();
    assert!(schema.is_object());
    assert!(schema["properties"]["landing_zone"].is_object());
    assert_eq!(
        schema["$defs"]["LandingZone"]["required"],
        serde_json::json!(["name", "home_region"])
    );
    assert!(!schema.to_string().contains("\"null\""), "TOML has no null");
}

#[test]
fn the_example_landing_zone_loads_cleanly() {
    let l = load(Path::new("../../examples/ml-platform.toml"))
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(l.warnings.is_empty(), "{}", l.warnings.render(false));
    assert!(!l.desired.accounts.is_empty());
    assert!(!l.desired.policies.is_empty());
    // The seeds' expectations: endpoints denied in dev and sandbox, allowed in prod;
    // training jobs without a VPC, CloudTrail StopLogging and other regions denied.
    // And the data perimeter: an outsider's read of the ML data denied (issue 17).
    let e = &l.desired.expectations;
    assert_eq!(e.len(), 19);
    // Two on tags: the cost tags' values comply, a misspelled environment does not.
    let tags = &l.desired.tag_expectations;
    assert_eq!(
        tags.iter().map(|t| t.compliant).collect::<Vec<_>>(),
        vec![true, false]
    );
    // Three are about people: the data scientist's endpoint in dev, the auditor's
    // writes.
    let people: Vec<_> = e
        .iter()
        .filter_map(|x| x.permission_set.as_deref())
        .collect();
    assert_eq!(
        people,
        vec!["DataScientist", "SecurityAuditor", "SecurityAuditor"]
    );
    // The personas, each a preset (in permission set name order); the assignments
    // expanded per account.
    let d = &l.desired;
    let personas: Vec<_> = d
        .permission_sets
        .values()
        .filter_map(|s| s.persona.as_deref())
        .collect();
    assert_eq!(
        personas,
        vec![
            "data_engineer",
            "data_scientist",
            "mlops_engineer",
            "ml_read_only",
            "platform_admin",
            "security_auditor"
        ]
    );
    assert_eq!(d.groups.len(), 4);
    assert!(
        d.assignments
            .iter()
            .all(|a| d.accounts.contains_key(&a.assignment.account))
    );
    let allowed: Vec<_> = e
        .iter()
        .filter(|x| x.decision == ExpectedDecision::Allow)
        .map(|x| (&x.scope, x.action.as_str()))
        .collect();
    let prod = ExpectScope::Ou(OuPath::new("Workloads/Workloads_Prod"));
    assert_eq!(allowed, vec![(&prod, "sagemaker:CreateEndpoint")]);
    let top_ous = [
        "Security",
        "Infrastructure",
        "Sandbox",
        "Workloads",
        "Deployments",
    ];
    for action in ["cloudtrail:StopLogging", "ec2:RunInstances"] {
        let scopes: Vec<_> = e
            .iter()
            .filter(|x| x.action == action && x.decision == ExpectedDecision::Deny)
            .map(|x| x.scope.clone())
            .collect();
        let every_top_ou: Vec<_> = top_ous
            .iter()
            .map(|o| ExpectScope::Ou(OuPath::new(*o)))
            .collect();
        assert_eq!(scopes, every_top_ou, "{action}");
    }
    // Every top-level OU is covered: no account sits directly under the root.
    assert!(l.desired.accounts.values().all(|a| a.ou.is_some()));
    assert!(
        l.desired
            .ous
            .keys()
            .filter(|p| p.parent().is_none())
            .all(|p| top_ous.contains(&p.as_str()))
    );
}

#[test]
fn a_missing_landing_zone_is_reported() {
    let d = errors(&[("a.toml", "[ou.X]\n")]);
    assert_eq!(codes(&d), vec!["LF200"]);
    let first = d.iter().next().unwrap();
    assert_eq!((first.line, first.column), (1, 1));
}

#[test]
fn unreadable_paths_are_reported() {
    let d = load(Path::new("no/such/landfall.toml")).unwrap_err();
    assert_eq!(codes(&d), vec!["LF001"]);
    assert!(d.render(false).contains("no/such/landfall.toml"));
    // `policies/` holds only JSON files.
    let d = load(Path::new("../../tests/corpus/invalid/policies")).unwrap_err();
    assert_eq!(codes(&d), vec!["LF002"]);
}

#[test]
fn a_syntax_error_does_not_cascade_into_other_files() {
    // b.toml refers to an OU declared in the broken a.toml: only the syntax error.
    let d = errors(&[
        (
            "a.toml",
            "[landing_zone]\nname = \"t\"\n[ou.Security]\nbroken = \n",
        ),
        (
            "b.toml",
            "[account.x]\nemail = \"x@example.com\"\nou = \"Security\"\n",
        ),
    ]);
    assert_eq!(codes(&d), vec!["LF100"]);
}

#[test]
fn a_table_with_a_bad_key_is_still_checked() {
    let d = errors(&[(
        "a.toml",
        "[landing_zone]\nname = \"Bad Name\"\nhome_region = \"us-east-1\"\nbakend = \"aws\"\n",
    )]);
    assert_eq!(codes(&d), vec!["LF203", "LF101"]);
}

#[test]
fn inline_json_errors_point_into_the_toml_string() {
    // A basic string with escapes: the JSON error (the `}` where a value belongs)
    // must still land on the right character of the TOML line.
    let toml = format!(
        "{LZ}[scp.s]\ntargets = [\"root\"]\ncontent = \"{{\\\"Version\\\": \\\"2012-10-17\\\", \\\"Statement\\\": }}\"\n"
    );
    let d = errors(&[("a.toml", &toml)]);
    assert_eq!(codes(&d), vec!["LF403"]);
    let label = &d.iter().next().unwrap().labels[0];
    let line = toml.lines().nth(label.line as usize - 1).unwrap();
    assert_eq!(&toml[label.span.clone()], "}", "{line}");
    assert_eq!(label.line, 6);
}

#[test]
fn an_ou_path_written_as_a_target_gets_a_hint() {
    let d = errors(&[(
        "a.toml",
        &format!(
            "{LZ}[ou.Security]\n[account.a]\nemail = \"a@example.com\"\nou = \"ou:Security\"\n"
        ),
    )]);
    assert_eq!(codes(&d), vec!["LF307"]);
    let help = d.iter().next().unwrap().help.clone().unwrap_or_default();
    assert!(help.contains("`ou = \"Security\"`"), "{help}");
}

#[test]
fn quota_overrides_are_applied() {
    let d = errors(&[(
        "a.toml",
        &format!(
            "{LZ}[landing_zone.quotas]\nou_max_depth = 1\nscp_max_chars = 50\nmax_accounts = 1\n\
             [ou.A]\n[ou.\"A/B\"]\n\
             [account.one]\nemail = \"one@example.com\"\n[account.two]\nemail = \"two@example.com\"\n\
             [scp.s]\ntargets = [\"root\"]\ncontent = {DENY}\n"
        ),
    )]);
    assert_eq!(codes(&d), vec!["LF302", "LF308", "LF408"]);
}

#[test]
fn scp_counts_include_the_implicit_full_aws_access() {
    let scps: String = (1..=2)
        .map(|i| format!("[scp.s{i}]\ntargets = [\"account:a\"]\ncontent = {DENY}\n"))
        .collect();
    let base = format!(
        "{LZ}[landing_zone.quotas]\nscps_per_target = 2\n[account.a]\nemail = \"a@example.com\"\n"
    );
    let d = errors(&[("a.toml", &format!("{base}{scps}"))]);
    assert_eq!(codes(&d), vec!["LF412"]);
    // Opting out of FullAWSAccess makes room.
    let l = ok(&[("a.toml", &format!("{base}full_aws_access = false\n{scps}"))]);
    assert!(!attached(&l, FULL_AWS_ACCESS, Target::Account("a".into())));
}

#[test]
fn the_root_follows_the_landing_zone_default() {
    let lz_off =
        "[landing_zone]\nname = \"t\"\nhome_region = \"us-east-1\"\nfull_aws_access = false\n";
    let d = errors(&[("a.toml", lz_off)]);
    assert_eq!(codes(&d), vec!["LF413"]);
    assert_eq!(d.iter().next().unwrap().line, 4);
    let l = ok(&[(
        "a.toml",
        &format!("{lz_off}[scp.s]\ntargets = [\"root\"]\ncontent = {DENY}\n"),
    )]);
    assert!(!attached(&l, FULL_AWS_ACCESS, Target::Root));
    assert!(attached(&l, "s", Target::Root));
}

#[test]
fn warnings_do_not_fail_a_load() {
    let l = ok(&[(
        "a.toml",
        &format!(
            "{LZ}[landing_zone.account_removal]\nou = \"X\"\n[sim]\nfail_after_effect = true\n\
             [ou.X]\n[scp.unused]\ncontent = {DENY}\n[scp.twice]\ntargets = [\"ou:X\", \"ou:X\"]\ncontent = {DENY}\n"
        ),
    )]);
    let warnings: Vec<_> = l.warnings.iter().map(|d| d.code).collect();
    assert_eq!(warnings, vec!["LF903", "LF902", "LF900", "LF901"]);
    assert_eq!(l.warnings.error_count(), 0);
}

#[test]
fn errors_come_back_with_the_warnings() {
    let d = errors(&[(
        "a.toml",
        &format!("{LZ}[scp.unused]\ncontent = {DENY}\n[ou.\"A/B\"]\n"),
    )]);
    assert_eq!(d.error_count(), 1);
    assert_eq!(d.len(), 2);
    // Errors are listed first.
    assert_eq!(d.iter().next().unwrap().severity, Severity::Error);
}

#[test]
fn rendering_is_plain_without_color_and_styled_with_it() {
    let d = errors(&[(
        "a.toml",
        "[landing_zone]\nname = \"t\"\nhome_regoin = \"us-east-1\"\n",
    )]);
    let plain = d.render(false);
    assert!(plain.contains("a.toml:3:1"), "{plain}");
    assert!(plain.contains("did you mean `home_region`?"), "{plain}");
    assert!(!plain.contains('\u{1b}'));
    assert!(d.render(true).contains('\u{1b}'));
    // The one-line form, for logs.
    assert_eq!(
        d.to_string(),
        "a.toml:3:1: error[LF101]: unknown key `home_regoin` in [landing_zone]\n"
    );
}

/// Cut the example at many places: every prefix must load or fail with
/// diagnostics, never panic, and every diagnostic must render.
#[test]
fn truncated_input_never_panics() {
    let text = std::fs::read_to_string("../../examples/ml-platform.toml").unwrap();
    let mut cut = 0;
    while cut < text.len() {
        if text.is_char_boundary(cut) {
            let result = load_sources(
                vec![("ml.toml".into(), text[..cut].to_string())],
                Path::new("../../examples"),
            );
            if let Err(d) = result {
                assert!(d.error_count() > 0);
                let _ = d.render(false);
            }
        }
        cut += 37;
    }
}

#[test]
fn every_code_is_documented() {
    let docs = std::fs::read_to_string("../../docs/configuration.md").unwrap();
    let mut missing = Vec::new();
    // Every source file, modules in directories included.
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    for path in files {
        let text = std::fs::read_to_string(path).unwrap();
        for (i, _) in text.match_indices("\"LF") {
            let code = &text[i + 1..i + 6];
            if !docs.contains(&format!("`{code}`")) && !missing.contains(&code.to_string()) {
                missing.push(code.to_string());
            }
        }
    }
    missing.sort();
    assert!(missing.is_empty(), "undocumented codes: {missing:?}");
}

// ---- projects ----

const PROJECT_OUS: &str = "[ou.Sandbox]\n[ou.Workloads]\n[ou.\"Workloads/Workloads_Dev\"]\n\
[ou.\"Workloads/Workloads_Prod\"]\n[ou.Deployments]\n[ou.\"Deployments/Deployments_Prod\"]\n";

#[test]
fn a_project_expands_into_stage_accounts_networks_and_keys() {
    let project = "[project.fraud]\nowner = \"ds\"\ncost_center = \"cc-1\"\n\
        cidrs = { sandbox = \"10.64.0.0/20\", dev = \"10.64.16.0/20\", preprod = \"10.64.32.0/20\", \
        prod = \"10.64.48.0/20\", automation = \"10.64.64.0/20\" }\n";
    let l = ok(&[
        ("a.toml", &format!("{LZ}{PROJECT_OUS}")),
        ("p.toml", project),
    ]);
    let d = &l.desired;
    assert_eq!(
        l.projects,
        vec![landfall_config::DeclaredProject {
            name: "fraud".into(),
            declared_at: "p.toml:1:10".into(),
        }]
    );
    assert_eq!(d.accounts.len(), 5);
    let dev = &d.accounts["fraud-dev"];
    assert_eq!(dev.email, "aws+fraud-dev@example.com");
    assert_eq!(dev.ou.as_ref().unwrap().as_str(), "Workloads/Workloads_Dev");
    assert_eq!(dev.project.as_deref(), Some("fraud"));
    assert_eq!(dev.tags["environment"], "dev");
    assert_eq!(dev.tags["owner"], "ds");
    assert_eq!(dev.tags["cost-center"], "cc-1");
    assert_eq!(dev.origin.file, "p.toml");
    assert_eq!(dev.origin.line, 1);
    assert_eq!(
        d.accounts["fraud-automation"].ou.as_ref().unwrap().as_str(),
        "Deployments/Deployments_Prod"
    );
    let net = &d.networks["fraud-dev"];
    assert_eq!(net.account, "fraud-dev");
    assert_eq!(net.region, "us-east-1");
    assert_eq!(net.cidr, "10.64.16.0/20");
    let subnets: Vec<(&str, &str)> = net
        .subnets
        .iter()
        .map(|s| (s.az.as_str(), s.cidr.as_str()))
        .collect();
    assert_eq!(
        subnets,
        vec![
            ("us-east-1a", "10.64.16.0/24"),
            ("us-east-1b", "10.64.17.0/24")
        ]
    );
    assert_eq!(net.endpoints.len(), 14);
    assert_eq!(net.project.as_deref(), Some("fraud"));
    let key = &d.kms_keys["fraud-prod"];
    assert_eq!(key.alias.as_deref(), Some("alias/fraud-prod"));
    assert!(key.rotation);
    assert_eq!(key.project.as_deref(), Some("fraud"));
    assert!(attached(
        &l,
        FULL_AWS_ACCESS,
        Target::Account("fraud-dev".into())
    ));
}

#[test]
fn a_blueprint_changes_stages_and_attaches_their_scps() {
    let text = format!(
        "{LZ}{PROJECT_OUS}[ou.Lab]\n[scp.lab-guard]\ncontent = {DENY}\n\
         [blueprint]\nemail_pattern = \"ml+{{stage}}.{{project}}@corp.example\"\nendpoints = [\"core\"]\n\
         [blueprint.stage.lab]\nou = \"Lab\"\nscps = [\"lab-guard\"]\nkms_key = false\n\
         [blueprint.stage.dev]\nnetwork = false\n\
         [project.churn]\nstages = [\"dev\", \"lab\"]\ncidrs = {{ lab = \"10.70.0.0/22\" }}\n"
    );
    let l = ok(&[("a.toml", &text)]);
    let d = &l.desired;
    assert_eq!(d.accounts["churn-lab"].email, "ml+lab.churn@corp.example");
    assert_eq!(d.accounts["churn-lab"].ou.as_ref().unwrap().as_str(), "Lab");
    assert!(attached(
        &l,
        "lab-guard",
        Target::Account("churn-lab".into())
    ));
    assert!(!d.networks.contains_key("churn-dev"));
    assert!(d.kms_keys.contains_key("churn-dev"));
    assert!(!d.kms_keys.contains_key("churn-lab"));
    assert_eq!(d.networks["churn-lab"].endpoints.len(), 5);
    assert_eq!(d.networks["churn-lab"].subnets[1].cidr, "10.70.1.0/24");
    assert_eq!(l.blueprint.stage_names().len(), 6);
}

#[test]
fn project_problems_are_reported_with_the_existing_rules() {
    // The region is not governed: the expanded network and key say so, at `region`.
    let d = errors(&[(
        "a.toml",
        &format!(
            "{LZ}{PROJECT_OUS}[project.p1]\nregion = \"eu-west-1\"\nstages = [\"dev\"]\n\
             cidrs = {{ dev = \"10.64.0.0/20\" }}\n"
        ),
    )]);
    assert_eq!(codes(&d), vec!["LF609", "LF702"], "{}", d.render(false));
    // Two projects expanding into the same name; a bad CIDR; an unused CIDR.
    let d = errors(&[(
        "a.toml",
        &format!(
            "{LZ}{PROJECT_OUS}[blueprint.stage.x-dev]\nou = \"Sandbox\"\nnetwork = false\nkms_key = false\n\
             [project.ml-x]\nstages = [\"dev\"]\ncidrs = {{ dev = \"10.64.0.1/20\" }}\n\
             [project.ml]\nstages = [\"x-dev\", \"qa\"]\n[project.ab]\nstages = [\"dev\"]\n\
             cidrs = {{ dev = \"10.64.0.0/20\", prod = \"10.64.16.0/20\" }}\n"
        ),
    )]);
    assert_eq!(
        codes(&d),
        vec!["LF804", "LF805", "LF802", "LF804"],
        "{}",
        d.render(false)
    );
    // A blueprint declared twice, with invalid settings.
    let d = errors(&[
        (
            "a.toml",
            &format!("{LZ}[blueprint]\nvpc_prefix = 30\ncidr_pool = \"10.0.0.1/8\"\n"),
        ),
        ("b.toml", "[blueprint]\nemail_pattern = \"x@example.com\"\n"),
    ]);
    assert_eq!(
        codes(&d),
        vec!["LF807", "LF807", "LF801"],
        "{}",
        d.render(false)
    );
    // max_accounts counts expanded accounts.
    let d = errors(&[(
        "a.toml",
        &format!(
            "{LZ}[landing_zone.quotas]\nmax_accounts = 1\n{PROJECT_OUS}[blueprint.stage.dev]\nnetwork = false\n\
             [project.p2]\nstages = [\"dev\", \"sandbox\"]\ncidrs = {{ sandbox = \"10.64.0.0/20\" }}\n"
        ),
    )]);
    assert_eq!(codes(&d), vec!["LF308"], "{}", d.render(false));
}

#[test]
fn cidrs_are_allocated_from_the_pool_avoiding_existing_networks() {
    let text = format!(
        "{LZ}[account.x]\nemail = \"aws+x@example.com\"\n[network.x]\naccount = \"x\"\n\
         region = \"us-east-1\"\ncidr = \"10.64.16.0/20\"\nsubnets = [{{ az = \"us-east-1a\", cidr = \"10.64.16.0/24\" }}]\n\
         [blueprint.stage.dev]\nnetwork = false\n"
    );
    let l = ok(&[("a.toml", &text)]);
    let stages: Vec<String> = ["sandbox", "dev", "prod"].map(String::from).to_vec();
    let got = landfall_config::allocate_cidrs(&l.desired, &l.blueprint, &stages).unwrap();
    assert_eq!(
        got,
        vec![
            ("sandbox".to_string(), "10.64.0.0/20".to_string()),
            ("prod".to_string(), "10.64.32.0/20".to_string())
        ]
    );
    let mut small = l.blueprint.clone();
    small.cidr_pool = "10.64.0.0/19".into();
    assert!(landfall_config::allocate_cidrs(&l.desired, &small, &stages).is_err());
}

const EXPECT_BASE: &str = r#"
[ou.Workloads]
[ou."Workloads/Dev"]
[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads/Dev"
"#;

#[test]
fn expectations_are_read_in_file_order() {
    let a = format!(
        r#"{LZ}{EXPECT_BASE}
[[expect]]
description = "no hosted endpoints in dev"
ou = "Workloads/Dev"
action = "sagemaker:CreateEndpoint"
resource = "arn:aws:sagemaker:us-east-1:*:endpoint/*"
context = {{ "aws:RequestedRegion" = "us-east-1", "sagemaker:VpcSubnets" = ["subnet-1", "subnet-2"] }}
decision = "deny"

[[expect]]
account = "ml-dev"
action = "cloudtrail:StopLogging"
decision = "deny"
"#
    );
    let b = r#"
[[expect]]
ou = "Workloads"
action = "sagemaker:CreateTrainingJob"
decision = "allow"
[expect.context]
"aws:RequestTag/project" = "fraud"
"#;
    let l = ok(&[("a.toml", &a), ("b.toml", b)]);
    let e = &l.desired.expectations;
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].scope, ExpectScope::Ou(OuPath::new("Workloads/Dev")));
    assert_eq!(e[0].action, "sagemaker:CreateEndpoint");
    assert_eq!(e[0].resource, "arn:aws:sagemaker:us-east-1:*:endpoint/*");
    assert_eq!(e[0].context["aws:RequestedRegion"], vec!["us-east-1"]);
    assert_eq!(
        e[0].context["sagemaker:VpcSubnets"],
        vec!["subnet-1", "subnet-2"]
    );
    assert_eq!(e[0].decision, ExpectedDecision::Deny);
    assert_eq!(
        e[0].description.as_deref(),
        Some("no hosted endpoints in dev")
    );
    assert_eq!(e[0].origin.file, "a.toml");
    assert_eq!((e[0].origin.line, e[0].origin.column), (11, 1));
    // Defaults: any resource, no context, no description.
    assert_eq!(e[1].scope, ExpectScope::Account("ml-dev".into()));
    assert_eq!(e[1].resource, "*");
    assert!(e[1].context.is_empty());
    assert_eq!(e[1].description, None);
    // The second file's entry comes after the first file's, context from a subtable.
    assert_eq!(e[2].origin.file, "b.toml");
    assert_eq!(e[2].scope, ExpectScope::Ou(OuPath::new("Workloads")));
    assert_eq!(e[2].decision, ExpectedDecision::Allow);
    assert_eq!(e[2].context["aws:RequestTag/project"], vec!["fraud"]);
}

#[test]
fn expectations_may_name_project_accounts() {
    let text = format!(
        r#"{LZ}governed_regions = ["us-east-1"]
[ou.Sandbox]
[ou.Workloads]
[ou."Workloads/Workloads_Dev"]
[ou."Workloads/Workloads_PreProd"]
[ou."Workloads/Workloads_Prod"]
[ou.Deployments]
[ou."Deployments/Deployments_Prod"]
[project.fraud]
cidrs = {{ sandbox = "10.64.0.0/20", dev = "10.64.16.0/20", preprod = "10.64.32.0/20", prod = "10.64.48.0/20", automation = "10.64.64.0/20" }}

[[expect]]
account = "fraud-dev"
action = "sagemaker:CreateEndpoint"
decision = "deny"
"#
    );
    let l = ok(&[("main.toml", &text)]);
    assert_eq!(
        l.desired.expectations[0].scope,
        ExpectScope::Account("fraud-dev".into())
    );
}

#[test]
fn expectation_problems_are_located() {
    let text = format!(
        r#"{LZ}{EXPECT_BASE}
[[expect]]
ou = "Workloads"
account = "ml-dev"
action = "s3:GetObject"
decision = "deny"

[[expect]]
action = "s3:GetObject"
decision = "deny"

[[expect]]
ou = "Workload"
action = "s3:Get*"
decision = "Deny"

[[expect]]
account = "ml-dve"
action = "GetObject"
resource = "bucket/key"
decision = "permit"
context = {{ "" = "x", "RequestedRegion" = "us-east-1", "aws:SourceVpc" = "", "aws:TagKeys" = [], "aws:PrincipalTag/team" = ["ml", ""] }}
"#
    );
    let d = errors(&[("main.toml", &text)]);
    assert_eq!(
        codes(&d),
        vec![
            "LF860", "LF860", "LF861", "LF863", "LF864", "LF862", "LF863", "LF866", "LF864",
            "LF865", "LF867", "LF865", "LF865", "LF865"
        ],
        "{}",
        d.render(false)
    );
    let rendered = d.render(false);
    assert!(rendered.contains("did you mean `Workloads`?"), "{rendered}");
    assert!(rendered.contains("did you mean `ml-dev`?"), "{rendered}");
    assert!(rendered.contains("write it in lowercase"), "{rendered}");
    let first = d.iter().next().unwrap();
    assert_eq!((first.line, first.column), (12, 6));
}

#[test]
fn expect_must_be_an_array_of_tables() {
    let text = format!("{LZ}[expect]\naction = \"s3:GetObject\"\ndecision = \"deny\"\n");
    let d = errors(&[("main.toml", &text)]);
    assert_eq!(codes(&d), vec!["LF102"]);
    assert!(d.render(false).contains("[[expect]]"));
    // Wrong types and unknown keys are stage-1 errors, like everywhere else.
    let text = format!(
        "{LZ}[[expect]]\nacount = \"x\"\naction = \"s3:GetObject\"\ndecision = \"deny\"\n\
         context = {{ \"aws:RequestedRegion\" = 1 }}\n"
    );
    let d = errors(&[("main.toml", &text)]);
    assert_eq!(codes(&d), vec!["LF101", "LF102"], "{}", d.render(false));
    assert!(d.render(false).contains("did you mean `account`?"));
    // `action` is optional in the format (an entry about `tags` has none), so its
    // absence is a stage-2 error, reported with the rest of the entry's problems.
    let text = format!("{LZ}[[expect]]\nou = \"X\"\ndecision = \"deny\"\n");
    let d = errors(&[("main.toml", &text)]);
    assert_eq!(codes(&d), vec!["LF947", "LF861"], "{}", d.render(false));
    assert!(d.render(false).contains("lacks `action`"));
}

#[test]
fn the_schema_describes_expect() {
    let schema = json_schema();
    assert_eq!(schema["properties"]["expect"]["type"], "array");
    let expect = &schema["$defs"]["Expect"];
    // A request (`action`, `decision`) or a resource's tags (`tags`, `resource_type`,
    // `compliant`): neither pair is required by the format.
    assert!(expect["required"].is_null(), "{}", expect["required"]);
    for key in [
        "description",
        "ou",
        "account",
        "resource",
        "context",
        "action",
        "decision",
        "tags",
        "resource_type",
        "compliant",
    ] {
        assert!(expect["properties"][key].is_object(), "{key}");
    }
    assert!(schema["$defs"]["Decision"].to_string().contains("deny"));
    let context_value = schema["$defs"]["ContextValue"].to_string();
    assert!(
        context_value.contains("\"string\"") && context_value.contains("\"array\""),
        "{context_value}"
    );
    assert!(!schema.to_string().contains("\"null\""), "TOML has no null");
}

#[test]
fn an_unknown_region_is_a_warning_with_the_nearest_known_one() {
    let l = ok(&[(
        "a.toml",
        "[landing_zone]\nname = \"t\"\nhome_region = \"us-east-1\"\n\
         governed_regions = [\"us-east-1\", \"eu-centrall-1\"]\n",
    )]);
    let warnings: Vec<_> = l.warnings.iter().collect();
    assert_eq!(warnings.len(), 1, "{}", l.warnings.render(false));
    let text = l.warnings.render(false);
    assert_eq!(warnings[0].code, "LF909");
    assert!(text.contains("unknown region `eu-centrall-1`"), "{text}");
    assert!(text.contains("did you mean `eu-central-1`?"), "{text}");
    assert!(text.contains("a.toml:4:"), "located: {text}");

    // A region AWS opened after this binary was built is declared known in the file.
    let l = ok(&[(
        "a.toml",
        "[landing_zone]\nname = \"t\"\nhome_region = \"us-east-1\"\n\
         known_regions = [\"xy-newland-1\"]\ngoverned_regions = [\"us-east-1\", \"xy-newland-1\"]\n",
    )]);
    assert!(l.warnings.is_empty(), "{}", l.warnings.render(false));
}

// ---- organization policies, logging, security services (issue 17) ----

const SECURITY_BASE: &str = r#"
[landing_zone]
name = "t"
home_region = "eu-west-1"

[ou.Security]
[ou.Workloads]

[account.log-archive]
email = "log-archive@example.com"
ou = "Security"

[account.security-tooling]
email = "security-tooling@example.com"
ou = "Security"

[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads"
"#;

#[test]
fn organization_policies_of_each_type_load_sorted_with_their_attachments() {
    let text = format!(
        r#"{SECURITY_BASE}
[tag_policy.cost-tags]
description = "The seeds' cost tags"
preset = "cost_tags"
targets = ["root"]

[rcp.ml-data-perimeter]
preset = "data_perimeter"
organization_id = "o-a1b2c3d4e5"
targets = ["ou:Workloads", "account:log-archive"]
tags = {{ owner = "platform" }}

[ai_opt_out_policy.no-ai-training]
preset = "opt_out_all"
targets = ["root"]

[rcp.a-tls-only]
targets = ["root"]
content = '''{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {{"BoolIfExists": {{"aws:SecureTransport": "false"}}}}}}]}}'''
"#
    );
    let l = ok(&[("main.toml", &text)]);
    let d = &l.desired;
    let order: Vec<(OrgPolicyType, &str)> = d
        .org_policies
        .iter()
        .map(|p| (p.policy_type, p.name.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            (OrgPolicyType::Rcp, "a-tls-only"),
            (OrgPolicyType::Rcp, "ml-data-perimeter"),
            (OrgPolicyType::Tag, "cost-tags"),
            (OrgPolicyType::AiOptOut, "no-ai-training"),
        ]
    );
    let perimeter = d
        .org_policy(OrgPolicyType::Rcp, "ml-data-perimeter")
        .unwrap();
    // The organization id is written into the document, minified.
    assert!(
        perimeter
            .content
            .contains(r#""aws:PrincipalOrgID":"o-a1b2c3d4e5""#)
    );
    assert!(!perimeter.content.contains("${"));
    assert!(!perimeter.content.contains('\n'));
    assert_eq!(
        perimeter.tags.get("owner").map(String::as_str),
        Some("platform")
    );
    let tag = d.org_policy(OrgPolicyType::Tag, "cost-tags").unwrap();
    assert_eq!(tag.description, "The seeds' cost tags");
    let parsed = landfall_policy::parse_tag_policy("cost-tags", &tag.content).unwrap();
    assert_eq!(parsed.rules.len(), 3);
    let attachments: Vec<String> = d
        .org_policy_attachments
        .iter()
        .map(|a| a.address().to_string())
        .collect();
    assert_eq!(
        attachments,
        vec![
            "rcp_attachment.a-tls-only:root",
            "rcp_attachment.ml-data-perimeter:ou.Workloads",
            "rcp_attachment.ml-data-perimeter:account.log-archive",
            "tag_policy_attachment.cost-tags:root",
            "ai_opt_out_policy_attachment.no-ai-training:root",
        ]
    );
    assert_eq!(
        d.policy_types_used().into_iter().collect::<Vec<_>>(),
        vec![
            OrgPolicyType::Rcp,
            OrgPolicyType::Tag,
            OrgPolicyType::AiOptOut
        ]
    );
}

#[test]
fn four_declared_rcps_fit_a_target_and_a_fifth_does_not() {
    let rcp = |i: usize| {
        format!(
            "[rcp.r{i}]\ntargets = [\"account:ml-dev\"]\ncontent = '{{\"Version\": \"2012-10-17\", \"Statement\": [{{\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"s3:DeleteBucket\", \"Resource\": \"arn:aws:s3:::b{i}\"}}]}}'\n"
        )
    };
    let four: String = (1..=4).map(rcp).collect();
    ok(&[("main.toml", &format!("{SECURITY_BASE}{four}"))]);
    let five: String = (1..=5).map(rcp).collect();
    let d = errors(&[("main.toml", &format!("{SECURITY_BASE}{five}"))]);
    assert_eq!(codes(&d), vec!["LF930"]);
    assert!(d.render(false).contains("RCPFullAWSAccess"));
    // Ten tag policies fit one target.
    let tags: String = (1..=10)
        .map(|i| format!("[tag_policy.t{i}]\ntargets = [\"root\"]\ncontent = '{{\"tags\": {{\"k{i}\": {{\"tag_key\": {{\"@@assign\": \"k{i}\"}}}}}}}}'\n"))
        .collect();
    ok(&[("main.toml", &format!("{SECURITY_BASE}{tags}"))]);
}

#[test]
fn an_organization_holds_a_thousand_policies_of_a_type() {
    let tag = |i: usize| {
        format!(
            "[tag_policy.t{i}]\ntargets = [\"root\"]\ncontent = '{{\"tags\": {{\"k{i}\": {{\"tag_key\": {{\"@@assign\": \"k{i}\"}}}}}}}}'\n"
        )
    };
    // Attached to nothing, so the per-target quota does not decide.
    let unattached = |n: usize| -> String {
        (1..=n)
            .map(|i| tag(i).replace("targets = [\"root\"]\n", ""))
            .collect()
    };
    ok(&[(
        "main.toml",
        &format!("{SECURITY_BASE}{}", unattached(1_000)),
    )]);
    let d = errors(&[(
        "main.toml",
        &format!("{SECURITY_BASE}{}", unattached(1_001)),
    )]);
    assert_eq!(codes(&d), vec!["LF969"]);
    let text = d.render(false);
    assert!(text.contains("1001 tag policies are declared"), "{text}");
    assert!(text.contains("policy number 1001"), "{text}");
}

#[test]
fn logging_expands_into_trusted_access_key_bucket_and_trail() {
    let text = format!(
        r#"{SECURITY_BASE}
[logging]
log_archive = "log-archive"
trail = "org-trail"
administrator = "security-tooling"
object_lock = {{ mode = "compliance", days = 365 }}
lifecycle = {{ glacier_after_days = 90, expire_after_days = 2555 }}
tags = {{ purpose = "audit" }}
"#
    );
    let l = ok(&[("main.toml", &text)]);
    let d = &l.desired;
    assert!(d.service_access.contains_key("cloudtrail.amazonaws.com"));
    let admin = &d.delegated_admins["cloudtrail.amazonaws.com"];
    assert_eq!(
        (admin.account.as_str(), admin.region.as_str()),
        ("security-tooling", "eu-west-1")
    );
    let key = &d.kms_keys["org-trail"];
    assert_eq!(
        (key.account.as_str(), key.region.as_str()),
        ("log-archive", "eu-west-1")
    );
    assert!(key.policy.contains(
        r#""aws:SourceArn":"arn:aws:cloudtrail:eu-west-1:${management_account_id}:trail/org-trail""#
    ));
    assert!(
        key.policy
            .contains("kms:EncryptionContext:aws:cloudtrail:arn")
    );
    let bucket = &d.buckets["org-trail"];
    assert_eq!(bucket.bucket_name, "landfall-org-trail-${account_id}");
    assert_eq!(bucket.account, "log-archive");
    assert_eq!(bucket.kms_key, "org-trail");
    assert_eq!(
        bucket.object_lock,
        Some(ObjectLock {
            mode: ObjectLockMode::Compliance,
            days: 365
        })
    );
    assert_eq!(
        bucket.lifecycle,
        Some(Lifecycle {
            glacier_after_days: Some(90),
            expire_after_days: Some(2555)
        })
    );
    assert!(
        bucket
            .policy
            .contains(r#""Resource":"arn:aws:s3:::landfall-org-trail-${account_id}/AWSLogs/*""#)
    );
    assert_eq!(bucket.policy, canonical_json(&bucket.policy));
    let trail = &d.trails["org-trail"];
    assert!(trail.multi_region && trail.organization && trail.log_file_validation);
    assert_eq!(trail.administrator.as_deref(), Some("security-tooling"));
    assert_eq!(
        (trail.bucket.as_str(), trail.kms_key.as_str()),
        ("org-trail", "org-trail")
    );
    assert_eq!(trail.tags.get("purpose").map(String::as_str), Some("audit"));
    // The management account's id is filled in once the organization is read.
    let mut resolved = d.clone();
    resolved.resolve_management_account("111122223333");
    assert!(
        resolved.buckets["org-trail"]
            .policy
            .contains("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail")
    );
    assert!(
        !resolved.kms_keys["org-trail"]
            .policy
            .contains("management_account_id")
    );
}

#[test]
fn logging_defaults_and_the_key_name_it_takes() {
    let text = format!("{SECURITY_BASE}\n[logging]\nlog_archive = \"log-archive\"\n");
    let d = ok(&[("main.toml", &text)]).desired;
    assert!(d.trails.contains_key("landfall-org-trail"));
    assert_eq!(d.trails["landfall-org-trail"].administrator, None);
    assert!(d.delegated_admins.is_empty());
    assert_eq!(d.buckets["org-trail"].object_lock, None);
    let clash =
        format!("{text}[kms_key.org-trail]\naccount = \"ml-dev\"\nregion = \"eu-west-1\"\n");
    assert_eq!(codes(&errors(&[("main.toml", &clash)])), vec!["LF940"]);
    let twice = [
        ("a.toml", text.as_str()),
        ("b.toml", "[logging]\nlog_archive = \"log-archive\"\n"),
    ];
    assert_eq!(codes(&errors(&twice)), vec!["LF933"]);
}

#[test]
fn security_services_expand_per_service() {
    let text = format!(
        r#"{SECURITY_BASE}
[security_services]
delegated_administrator = "security-tooling"
services = ["guardduty", "securityhub", "config", "access_analyzer"]
"#
    );
    let d = ok(&[("main.toml", &text)]).desired;
    let principals = [
        "access-analyzer.amazonaws.com",
        "config-multiaccountsetup.amazonaws.com",
        "config.amazonaws.com",
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
    ];
    assert_eq!(
        d.service_access
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        principals
    );
    assert_eq!(
        d.delegated_admins
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        principals
    );
    assert!(
        d.delegated_admins
            .values()
            .all(|a| a.account == "security-tooling" && a.region == "eu-west-1")
    );
    let agg = &d.config_aggregators["organization"];
    assert_eq!(
        (agg.account.as_str(), agg.role_name.as_str()),
        ("security-tooling", "landfall-config-aggregator")
    );
    assert_eq!(
        d.access_analyzers["organization"].account,
        "security-tooling"
    );
    // GuardDuty alone: no aggregator, no analyzer.
    let text = format!(
        "{SECURITY_BASE}\n[security_services]\ndelegated_administrator = \"security-tooling\"\nservices = [\"guardduty\", \"guardduty\"]\n"
    );
    let l = ok(&[("main.toml", &text)]);
    assert!(l.desired.config_aggregators.is_empty() && l.desired.access_analyzers.is_empty());
    assert_eq!(l.desired.delegated_admins.len(), 1);
    assert_eq!(
        l.warnings.iter().map(|w| w.code).collect::<Vec<_>>(),
        vec!["LF968"]
    );
}

#[test]
fn tag_expectations_are_read_in_file_order() {
    let text = format!(
        r#"{SECURITY_BASE}
[[expect]]
description = "a tagged endpoint complies"
account = "ml-dev"
tags = {{ project = "churn", environment = "prod", cost-center = "cc-1" }}
resource_type = "sagemaker:endpoint"
compliant = true

[[expect]]
ou = "Workloads"
tags = {{ environment = "production" }}
resource_type = "sagemaker:endpoint"
compliant = false

[[expect]]
account = "ml-dev"
action = "s3:GetObject"
decision = "allow"
"#
    );
    let d = ok(&[("main.toml", &text)]).desired;
    assert_eq!(d.expectations.len(), 1);
    assert_eq!(d.tag_expectations.len(), 2);
    let first = &d.tag_expectations[0];
    assert_eq!(first.scope, ExpectScope::Account("ml-dev".into()));
    assert_eq!(first.resource_type, "sagemaker:endpoint");
    assert_eq!(first.tags.len(), 3);
    assert!(first.compliant);
    assert_eq!(
        first.description.as_deref(),
        Some("a tagged endpoint complies")
    );
    let second = &d.tag_expectations[1];
    assert_eq!(
        second.scope,
        ExpectScope::Ou(OuPath::parse("Workloads").unwrap())
    );
    assert!(!second.compliant);
}

#[test]
fn the_schema_describes_the_new_sections() {
    let schema = json_schema();
    for section in [
        "rcp",
        "tag_policy",
        "ai_opt_out_policy",
        "logging",
        "security_services",
    ] {
        assert!(schema["properties"][section].is_object(), "{section}");
    }
    let org = &schema["$defs"]["OrgPolicy"]["properties"];
    for key in [
        "description",
        "content",
        "file",
        "preset",
        "organization_id",
        "tags",
        "targets",
    ] {
        assert!(org[key].is_object(), "{key}");
    }
    assert_eq!(
        schema["$defs"]["Logging"]["required"],
        serde_json::json!(["log_archive"])
    );
    assert_eq!(
        schema["$defs"]["SecurityServices"]["required"],
        serde_json::json!(["delegated_administrator", "services"])
    );
    for key in [
        "object_lock",
        "lifecycle",
        "administrator",
        "bucket_name",
        "trail",
    ] {
        assert!(
            schema["$defs"]["Logging"]["properties"][key].is_object(),
            "{key}"
        );
    }
}
