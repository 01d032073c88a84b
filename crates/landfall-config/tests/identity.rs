//! IAM Identity Center declarations that load: defaults, persona fill-in, OU
//! expansion of assignments, the blueprint's persona groups; and the rules that span
//! several declarations (the single-problem cases are in the corpus, 100 and up).

// Helpers are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use landfall_config::{Diagnostics, Loaded, Severity, json_schema, load_sources};
use landfall_core::address::{Assignment, Principal};
use landfall_core::model::{
    CustomerPolicyRef, ExpectScope, IdentitySource, PermissionsBoundary, canonical_json,
};
use landfall_core::{OuPath, Target};

const LZ: &str = "[landing_zone]\nname = \"t\"\nhome_region = \"eu-west-1\"\n";

const ORG: &str = r#"
[ou.Workloads]
[ou."Workloads/Dev"]
[ou."Workloads/Prod"]
[ou.Sandbox]

[account.ml-dev]
email = "ml-dev@example.com"
ou = "Workloads/Dev"

[account.ml-prod]
email = "ml-prod@example.com"
ou = "Workloads/Prod"

[account.ml-sandbox]
email = "ml-sandbox@example.com"
ou = "Sandbox"

[account.shared]
email = "shared@example.com"
"#;

fn ok(text: &str) -> Loaded {
    let files = vec![("landfall.toml".to_string(), format!("{LZ}{text}"))];
    match load_sources(files, Path::new("")) {
        Ok(l) => l,
        Err(d) => panic!("unexpected errors:\n{}", d.render(false)),
    }
}

fn errors(text: &str) -> Diagnostics {
    let files = vec![("landfall.toml".to_string(), format!("{LZ}{text}"))];
    match load_sources(files, Path::new("")) {
        Ok(_) => panic!("loaded without errors"),
        Err(d) => d,
    }
}

fn codes(d: &Diagnostics, severity: Severity) -> Vec<&'static str> {
    d.iter()
        .filter(|d| d.severity == severity)
        .map(|d| d.code)
        .collect()
}

fn group_assignment(set: &str, group: &str, account: &str) -> Assignment {
    Assignment {
        permission_set: set.into(),
        principal: Principal::Group(group.into()),
        account: account.into(),
    }
}

#[test]
fn nothing_of_identity_declared_leaves_it_out() {
    let l = ok(ORG);
    assert!(l.desired.identity_center.is_none());
    assert!(!l.desired.declares_identity());
}

#[test]
fn a_permission_set_alone_gets_the_default_identity_center() {
    let l = ok(r#"
[permission_set.Auditor]
managed_policies = ["ViewOnlyAccess", "arn:aws:iam::aws:policy/SecurityAudit"]
customer_managed_policies = [{ name = "ml-data-access" }, { name = "b", path = "/ml/" }]
session_duration = "PT90M"
permissions_boundary = { managed = "ReadOnlyAccess" }
inline_policy = '''
{ "Version": "2012-10-17",
  "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}] }
'''
tags = { team = "security" }
"#);
    let ic = l.desired.identity_center.as_ref().unwrap();
    assert_eq!(ic.region, "eu-west-1");
    assert_eq!(ic.identity_source, IdentitySource::IdentityCenter);
    let set = &l.desired.permission_sets["Auditor"];
    assert_eq!(set.session_duration, "PT1H30M");
    assert_eq!(
        set.managed_policies.iter().cloned().collect::<Vec<_>>(),
        vec![
            "arn:aws:iam::aws:policy/SecurityAudit".to_string(),
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".to_string(),
        ]
    );
    assert!(set.customer_managed_policies.contains(&CustomerPolicyRef {
        name: "ml-data-access".into(),
        path: "/".into()
    }));
    assert_eq!(
        set.permissions_boundary,
        Some(PermissionsBoundary::Managed(
            "arn:aws:iam::aws:policy/ReadOnlyAccess".into()
        ))
    );
    // Canonical: keys sorted, minified.
    assert_eq!(
        set.inline_policy.as_deref(),
        Some(
            r#"{"Statement":[{"Action":"s3:GetObject","Effect":"Deny","Resource":"*"}],"Version":"2012-10-17"}"#
        )
    );
    assert_eq!(set.tags["team"], "security");
    assert_eq!(set.persona, None);
    assert_eq!(set.description, None);
}

#[test]
fn identity_center_settings_are_read() {
    let l = ok(r#"
[identity_center]
region = "us-east-2"
identity_source = "external"

[permission_set.Admin]
managed_policies = ["AdministratorAccess"]
session_duration = "PT12H"
"#);
    let ic = l.desired.identity_center.as_ref().unwrap();
    assert_eq!(ic.region, "us-east-2");
    assert_eq!(ic.identity_source, IdentitySource::External);
    assert_eq!(l.desired.permission_sets["Admin"].session_duration, "PT12H");
}

#[test]
fn a_persona_fills_what_the_declaration_leaves_out() {
    let l = ok(r#"
[permission_set.DataScientist]
persona = "data_scientist"

[permission_set.Custom]
persona = "data_scientist"
description = "Ours"
session_duration = "PT2H"
managed_policies = []
"#);
    let preset = &l.desired.permission_sets["DataScientist"];
    assert_eq!(preset.persona.as_deref(), Some("data_scientist"));
    assert_eq!(preset.session_duration, "PT8H");
    assert!(
        preset
            .description
            .as_deref()
            .unwrap()
            .starts_with("Data scientist")
    );
    assert!(
        preset
            .managed_policies
            .contains("arn:aws:iam::aws:policy/AWSServiceCatalogEndUserFullAccess")
    );
    let shipped = include_str!("../data/identity/personas/data_scientist.json");
    assert_eq!(
        preset.inline_policy.as_deref(),
        Some(canonical_json(shipped).as_str())
    );

    let custom = &l.desired.permission_sets["Custom"];
    assert_eq!(custom.description.as_deref(), Some("Ours"));
    assert_eq!(custom.session_duration, "PT2H");
    assert!(custom.managed_policies.is_empty());
    // Not given: still the preset's.
    assert_eq!(custom.inline_policy, preset.inline_policy);
}

#[test]
fn an_ou_target_expands_to_the_accounts_in_and_below_it() {
    let l = ok(&format!(
        r#"{ORG}
[permission_set.Dev]
managed_policies = ["PowerUserAccess"]

[group.ml-team]

[[assignment]]
permission_set = "Dev"
group = "ml-team"
targets = ["ou:Workloads", "account:ml-dev", "account:shared"]

[[assignment]]
permission_set = "Dev"
user = "jane@example.com"
targets = ["ou:Workloads/Prod"]
"#
    ));
    let got: Vec<(String, String, Target)> = l
        .desired
        .assignments
        .iter()
        .map(|a| {
            (
                a.assignment.principal.to_string(),
                a.assignment.account.clone(),
                a.declared_target.clone(),
            )
        })
        .collect();
    let ou = |p: &str| Target::Ou(OuPath::parse(p).unwrap());
    assert_eq!(
        got,
        vec![
            // Sorted by assignment; ml-dev reached by the OU first keeps that origin.
            ("group.ml-team".into(), "ml-dev".into(), ou("Workloads")),
            ("group.ml-team".into(), "ml-prod".into(), ou("Workloads")),
            (
                "group.ml-team".into(),
                "shared".into(),
                Target::Account("shared".into())
            ),
            (
                "user.jane@example.com".into(),
                "ml-prod".into(),
                ou("Workloads/Prod")
            ),
        ]
    );
    assert!(
        l.desired
            .assignment(&group_assignment("Dev", "ml-team", "ml-prod"))
            .is_some()
    );
    assert_eq!(l.desired.groups["ml-team"].project, None);
    // Identity Center comes with the assignments, in the home region.
    assert_eq!(
        l.desired.identity_center.as_ref().unwrap().region,
        "eu-west-1"
    );
}

#[test]
fn an_existing_group_is_named_without_declaring_it() {
    let l = ok(&format!(
        r#"{ORG}
[identity_center]
identity_source = "external"

[permission_set.Dev]
managed_policies = ["PowerUserAccess"]

[[assignment]]
permission_set = "Dev"
group = "Data Scientists (Okta)"
targets = ["account:ml-dev"]
"#
    ));
    assert!(l.desired.groups.is_empty());
    assert_eq!(
        l.desired.assignments[0].assignment,
        group_assignment("Dev", "Data Scientists (Okta)", "ml-dev")
    );
}

#[test]
fn an_unused_group_and_policies_above_iams_default_are_warnings() {
    let many: Vec<String> = [
        "ReadOnlyAccess",
        "ViewOnlyAccess",
        "SecurityAudit",
        "AmazonS3ReadOnlyAccess",
        "AmazonSageMakerReadOnly",
        "AWSCloudTrail_ReadOnlyAccess",
        "IAMReadOnlyAccess",
        "AmazonEC2ReadOnlyAccess",
        "AmazonVPCReadOnlyAccess",
        "AWSLambda_ReadOnlyAccess",
        "AmazonAthenaFullAccess",
    ]
    .iter()
    .map(|n| format!("\"{n}\""))
    .collect();
    let l = ok(&format!(
        "[permission_set.Wide]\nmanaged_policies = [{}]\n\n[group.lonely]\n",
        many.join(", ")
    ));
    let warnings = codes(&l.warnings, Severity::Warning);
    assert!(warnings.contains(&"LF910"), "{warnings:?}");
    assert!(warnings.contains(&"LF912"), "{warnings:?}");
    assert_eq!(l.desired.permission_sets["Wide"].managed_policies.len(), 11);
}

#[test]
fn an_expectation_names_a_declared_permission_set() {
    let l = ok(&format!(
        r#"{ORG}
[permission_set.DataScientist]
persona = "data_scientist"

[[expect]]
account = "ml-dev"
permission_set = "DataScientist"
action = "sagemaker:CreateEndpoint"
decision = "deny"
"#
    ));
    let e = &l.desired.expectations[0];
    assert_eq!(e.permission_set.as_deref(), Some("DataScientist"));
    assert_eq!(e.scope, ExpectScope::Account("ml-dev".into()));
}

#[test]
fn every_identity_problem_of_a_file_is_reported_at_once() {
    let d = errors(&format!(
        r#"{ORG}
[permission_set."Data Scientist"]
session_duration = "PT13H"
managed_policies = ["AmazonSageMakerReadOnlyy"]

[[assignment]]
permission_set = "DataScientist"
group = "g"
targets = ["root", "account:nope"]
"#
    ));
    let mut got = codes(&d, Severity::Error);
    got.sort();
    assert_eq!(
        got,
        vec!["LF872", "LF874", "LF875", "LF886", "LF887", "LF887"]
    );
}

const PROJECT_ORG: &str = r#"
[ou.Sandbox]
[ou.Workloads]
[ou."Workloads/Workloads_Dev"]
[ou."Workloads/Workloads_Prod"]
[ou.Deployments]
[ou."Deployments/Deployments_Prod"]

[permission_set.DataScientist]
persona = "data_scientist"
[permission_set.MLReadOnly]
persona = "ml_read_only"
[permission_set.PlatformAdmin]
persona = "platform_admin"
"#;

#[test]
fn the_blueprint_gives_each_project_its_persona_groups_per_stage() {
    let l = ok(&format!(
        r#"{PROJECT_ORG}
[blueprint]
personas = ["data_scientist", "platform_admin"]
[blueprint.stage.sandbox]
network = false
kms_key = false
[blueprint.stage.dev]
network = false
kms_key = false
[blueprint.stage.prod]
network = false
kms_key = false

[project.ml-fraud]
stages = ["sandbox", "dev", "prod"]

[project.ml-churn]
stages = ["dev"]
"#
    ));
    let d = &l.desired;
    let g = &d.groups["ml-fraud-data-scientists"];
    assert_eq!(g.project.as_deref(), Some("ml-fraud"));
    assert!(d.groups.contains_key("ml-churn-data-scientists"));
    // The organization-wide persona: one group, no project.
    assert_eq!(d.groups["platform-admins"].project, None);
    for (set, group, account) in [
        (
            "DataScientist",
            "ml-fraud-data-scientists",
            "ml-fraud-sandbox",
        ),
        ("DataScientist", "ml-fraud-data-scientists", "ml-fraud-dev"),
        ("MLReadOnly", "ml-fraud-data-scientists", "ml-fraud-prod"),
        ("DataScientist", "ml-churn-data-scientists", "ml-churn-dev"),
        ("PlatformAdmin", "platform-admins", "ml-fraud-prod"),
        ("PlatformAdmin", "platform-admins", "ml-churn-dev"),
    ] {
        let spec = d
            .assignment(&group_assignment(set, group, account))
            .unwrap_or_else(|| panic!("{set} {group} {account}"));
        assert_eq!(spec.declared_target, Target::Account(account.into()));
    }
    let fraud_prod = d
        .assignment(&group_assignment(
            "MLReadOnly",
            "ml-fraud-data-scientists",
            "ml-fraud-prod",
        ))
        .unwrap();
    assert_eq!(fraud_prod.project.as_deref(), Some("ml-fraud"));
    // data_scientist has no access in prod as DataScientist.
    assert!(
        d.assignment(&group_assignment(
            "DataScientist",
            "ml-fraud-data-scientists",
            "ml-fraud-prod"
        ))
        .is_none()
    );
    assert_eq!(d.assignments.len(), 3 + 1 + 3 + 1);
    let mut sorted = d.assignments.clone();
    sorted.sort_by(|a, b| a.assignment.cmp(&b.assignment));
    assert_eq!(sorted, d.assignments);
}

#[test]
fn blueprint_access_overrides_a_personas_stages() {
    let l = ok(&format!(
        r#"{PROJECT_ORG}
[blueprint]
personas = ["data_scientist"]
[blueprint.access.data_scientist]
dev = "data_scientist"
[blueprint.stage.dev]
network = false
kms_key = false
[blueprint.stage.sandbox]
network = false
kms_key = false

[project.ml-fraud]
stages = ["sandbox", "dev"]
"#
    ));
    let sets: Vec<(&str, &str)> = l
        .desired
        .assignments
        .iter()
        .map(|a| {
            (
                a.assignment.permission_set.as_str(),
                a.assignment.account.as_str(),
            )
        })
        .collect();
    assert_eq!(sets, vec![("DataScientist", "ml-fraud-dev")]);
}

#[test]
fn a_blueprint_persona_needs_its_permission_sets_declared() {
    let d = errors(
        r#"
[ou.Sandbox]
[ou.Workloads]
[ou."Workloads/Workloads_Dev"]
[ou."Workloads/Workloads_Prod"]
[ou.Deployments]
[ou."Deployments/Deployments_Prod"]
[permission_set.DataScientist]
persona = "data_scientist"

[blueprint]
personas = ["data_scientist", "ml_read_only", "data_scientst"]
"#,
    );
    let rendered = d.render(false);
    assert_eq!(
        codes(&d, Severity::Error),
        vec!["LF890", "LF890", "LF890"],
        "{rendered}"
    );
    assert!(rendered.contains("needs a [permission_set] with `persona = \"ml_read_only\"`"));
    assert!(rendered.contains("did you mean `data_scientist`?"));
}

#[test]
fn with_an_external_source_projects_create_no_groups() {
    let l = ok(&format!(
        r#"{PROJECT_ORG}
[identity_center]
identity_source = "external"
[blueprint]
personas = ["data_scientist"]
[blueprint.stage.dev]
network = false
kms_key = false
[project.ml-fraud]
stages = ["dev"]
"#
    ));
    assert!(l.desired.groups.is_empty());
    assert_eq!(
        l.desired.assignments[0].assignment,
        group_assignment("DataScientist", "ml-fraud-data-scientists", "ml-fraud-dev")
    );
}

#[test]
fn the_schema_describes_the_identity_sections() {
    let schema = json_schema();
    for section in ["identity_center", "permission_set", "group", "assignment"] {
        assert!(schema["properties"][section].is_object(), "{section}");
    }
    assert!(schema["$defs"]["Expect"]["properties"]["permission_set"].is_object());
    assert!(schema["$defs"]["Blueprint"]["properties"]["personas"].is_object());
}
