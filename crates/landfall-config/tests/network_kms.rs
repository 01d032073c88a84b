//! Loading `[network.NAME]` and `[kms_key.NAME]`: preset expansion, defaults and
//! overrides, and the rules that need more than one declaration (the single-problem
//! cases are in the corpus).

// Helpers are test code too; clippy only exempts `#[test]` functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use landfall_config::{Diagnostics, Loaded, Severity, load_sources};
use landfall_core::model::EndpointKind;

const BASE: &str = r#"
[landing_zone]
name = "t"
home_region = "us-east-1"
governed_regions = ["us-east-1", "sa-east-1"]

[account.ml-fraud-dev]
email = "aws+ml-fraud-dev@example.com"

[account.ml-fraud-prod]
email = "aws+ml-fraud-prod@example.com"
"#;

const DEFAULT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnableRootAccountAccess","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::${account_id}:root"},"Action":"kms:*","Resource":"*"}]}"#;

fn load(text: &str) -> Result<Loaded, Diagnostics> {
    load_sources(
        vec![("main.toml".into(), format!("{BASE}{text}"))],
        Path::new(""),
    )
}

fn ok(text: &str) -> Loaded {
    load(text).unwrap_or_else(|d| panic!("unexpected errors:\n{}", d.render(false)))
}

fn errors(text: &str) -> Diagnostics {
    match load(text) {
        Ok(_) => panic!("loaded without errors"),
        Err(d) => d,
    }
}

/// (code, line) of every error, in order.
fn codes(d: &Diagnostics) -> Vec<(&'static str, u32)> {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.code, d.line))
        .collect()
}

/// Line numbers count from the start of BASE.
fn line_of(text: &str, needle: &str) -> u32 {
    let full = format!("{BASE}{text}");
    let at = full.find(needle).unwrap();
    u32::try_from(full[..at].matches('\n').count() + 1).unwrap()
}

const NETWORK: &str = r#"
[network.ml-fraud-dev-use1]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.20.0.0/16"
tags = { project = "fraud" }
subnets = [
  { az = "us-east-1a", cidr = "10.20.1.0/24" },
  { az = "us-east-1b", cidr = "10.20.2.0/24" },
  { az = "us-east-1b", cidr = "10.20.3.0/24" },
]
endpoints = ["sagemaker", "kms"]
endpoint_policy = '''{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
  "Condition": {"StringEquals": {"aws:PrincipalAccount": "${account_id}"}}}]}'''

[network.ml-fraud-dev-use1.endpoint."sagemaker.api"]
private_dns = false
policy = '''{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sagemaker:*", "Resource": "*"}}'''

[network.ml-fraud-dev-use1.endpoint.ssm]

[network.ml-fraud-dev-use1.endpoint.s3]
private_dns = false

[kms_key.ml-fraud-dev]
account = "ml-fraud-dev"
region = "us-east-1"
alias = "alias/ml-fraud-dev"
tags = { project = "fraud" }
"#;

#[test]
fn a_network_expands_its_presets_with_defaults_and_overrides() {
    let l = ok(NETWORK);
    assert!(l.warnings.is_empty(), "{}", l.warnings.render(false));
    let net = &l.desired.networks["ml-fraud-dev-use1"];
    assert_eq!(net.account, "ml-fraud-dev");
    assert_eq!(net.region, "us-east-1");
    assert_eq!(net.cidr, "10.20.0.0/16");
    assert_eq!(net.tags["project"], "fraud");
    assert_eq!(net.subnets.len(), 3);
    assert_eq!(net.subnets[1].az, "us-east-1b");
    assert_eq!(net.subnets[1].cidr, "10.20.2.0/24");
    assert_eq!(net.origin.file, "main.toml");
    assert_eq!(net.origin.line, line_of(NETWORK, "ml-fraud-dev-use1]"));

    // sagemaker (14) + kms + ssm (from its table).
    assert_eq!(net.endpoints.len(), 16);
    let s3 = &net.endpoints["s3"];
    assert_eq!(s3.kind, EndpointKind::Gateway);
    assert_eq!(s3.service_name, "com.amazonaws.us-east-1.s3");
    assert!(!s3.private_dns, "gateways have no private DNS");
    let interface: Vec<_> = net
        .endpoints
        .values()
        .filter(|e| e.kind == EndpointKind::Interface)
        .collect();
    assert_eq!(interface.len(), 15);
    let runtime = &net.endpoints["sagemaker.runtime"];
    assert_eq!(runtime.service, "sagemaker.runtime");
    assert_eq!(
        runtime.service_name,
        "com.amazonaws.us-east-1.sagemaker.runtime"
    );
    assert!(runtime.private_dns, "private DNS is on by default");
    // The network's default policy, minified, placeholders kept.
    let default_policy = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"${account_id}"}}}]}"#;
    assert_eq!(runtime.policy.as_deref(), Some(default_policy));
    assert_eq!(s3.policy.as_deref(), Some(default_policy));
    // The per-endpoint table overrides both.
    let api = &net.endpoints["sagemaker.api"];
    assert!(!api.private_dns);
    assert_eq!(
        api.policy.as_deref(),
        Some(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sagemaker:*","Resource":"*"}}"#
        )
    );
    // A table alone adds the endpoint.
    assert_eq!(
        net.endpoints["ssm"].service_name,
        "com.amazonaws.us-east-1.ssm"
    );
    assert!(net.endpoints["ssm"].private_dns);

    let key = &l.desired.kms_keys["ml-fraud-dev"];
    assert_eq!(key.account, "ml-fraud-dev");
    assert_eq!(key.region, "us-east-1");
    assert_eq!(key.description, "");
    assert_eq!(key.policy, DEFAULT_KEY_POLICY);
    assert!(key.rotation);
    assert_eq!(key.alias.as_deref(), Some("alias/ml-fraud-dev"));
    assert_eq!(key.deletion_window_days, 30);
    assert_eq!(key.tags["project"], "fraud");
}

#[test]
fn network_defaults() {
    let l = ok(r#"
[network.n]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/28"
subnets = [{ az = "us-east-1a", cidr = "10.0.0.0/28" }]
private_dns = false
endpoints = ["core", "sagemaker.notebook"]
"#);
    let net = &l.desired.networks["n"];
    assert_eq!(net.endpoints.len(), 6);
    assert!(net.endpoints.values().all(|e| !e.private_dns));
    assert!(net.endpoints.values().all(|e| e.policy.is_none()));
    assert_eq!(
        net.endpoints["sagemaker.notebook"].service_name,
        "aws.sagemaker.us-east-1.notebook"
    );
    let l = ok(r#"
[network.bare]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/16"
subnets = [{ az = "us-east-1a", cidr = "10.0.0.0/24" }]
"#);
    assert!(l.desired.networks["bare"].endpoints.is_empty());
}

#[test]
fn a_key_with_its_own_policy() {
    let l = ok(r#"
[kms_key.k]
account = "ml-fraud-prod"
region = "sa-east-1"
description = "SageMaker data"
rotation = false
deletion_window_days = 7
policy = '''
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "Admin", "Effect": "Allow",
      "Principal": { "AWS": "arn:aws:iam::${account_id}:role/OrganizationAccountAccessRole" },
      "Action": ["kms:Describe*", "kms:Put*", "kms:Get*"], "Resource": "*" }
  ]
}
'''
"#);
    let key = &l.desired.kms_keys["k"];
    assert_eq!(key.region, "sa-east-1");
    assert!(!key.rotation);
    assert_eq!(key.deletion_window_days, 7);
    assert_eq!(key.description, "SageMaker data");
    assert!(
        key.policy
            .starts_with(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Admin""#)
    );
    assert!(key.alias.is_none());
}

#[test]
fn the_lockout_check_follows_the_access_role_and_can_be_bypassed() {
    let policy = r#"
[kms_key.k]
account = "ml-fraud-dev"
region = "us-east-1"
policy = '''{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${account_id}:role/AWSControlTowerExecution"}, "Action": "kms:*", "Resource": "*"}]}'''
"#;
    let d = errors(policy);
    assert_eq!(codes(&d), vec![("LF710", line_of(policy, "policy ="))]);
    let message = &d.iter().next().unwrap().message;
    assert!(
        message.contains("(OrganizationAccountAccessRole)"),
        "{message}"
    );
    // Fine once the role is Landfall's access role...
    let with_role = format!("{BASE}{policy}",).replace(
        "governed_regions",
        "access_role = \"AWSControlTowerExecution\"\ngoverned_regions",
    );
    assert!(load_sources(vec![("main.toml".into(), with_role)], Path::new("")).is_ok());
    // ... or with the check bypassed.
    ok(&format!("{policy}bypass_lockout_check = true\n"));
}

#[test]
fn subnet_and_availability_zone_problems() {
    let text = r#"
[network.n]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/16"
subnets = [
  { az = "us-east-1a", cidr = "10.0.0.0/24" },
  { az = "us-west-2a", cidr = "10.0.0.128/25" },
  { az = "us-east-1c", cidr = "10.0.1.7/24" },
  { az = "us-east-1c", cidr = "10.0.2.0/29" },
  { az = "us-east-1d", cidr = "10.1.0.0/24" },
]
"#;
    let d = errors(text);
    assert_eq!(
        codes(&d),
        vec![
            ("LF606", line_of(text, "us-west-2a")),
            ("LF605", line_of(text, "us-west-2a")),
            ("LF602", line_of(text, "10.0.1.7")),
            ("LF603", line_of(text, "10.0.2.0/29")),
            ("LF604", line_of(text, "10.1.0.0")),
        ]
    );
    let overlap = d.iter().find(|d| d.code == "LF605").unwrap();
    assert_eq!(overlap.labels.len(), 2, "points at both subnets");
    let host_bits = d.iter().find(|d| d.code == "LF602").unwrap();
    assert!(
        host_bits.help.as_deref().unwrap().contains("`10.0.1.0/24`"),
        "{host_bits:?}"
    );
}

#[test]
fn network_references_and_regions() {
    let text = r#"
[network.n]
account = "ml-fraud-dve"
region = "eu-west-1"
cidr = "10.0.0.0/8"
subnets = []
"#;
    let d = errors(text);
    assert_eq!(
        codes(&d),
        vec![
            ("LF608", line_of(text, "ml-fraud-dve")),
            ("LF609", line_of(text, "eu-west-1")),
            ("LF603", line_of(text, "10.0.0.0/8")),
            ("LF607", line_of(text, "subnets")),
        ]
    );
    let account = d.iter().next().unwrap();
    assert!(
        account
            .help
            .as_deref()
            .unwrap()
            .contains("did you mean `ml-fraud-dev`?")
    );
}

#[test]
fn endpoint_problems() {
    let text = r#"
[network.n]
account = "ml-fraud-dev"
region = "sa-east-1"
cidr = "10.0.0.0/16"
subnets = [{ az = "sa-east-1a", cidr = "10.0.0.0/24" }]
endpoints = ["sagemaker", "sagemkaer.api", "com.amazonaws.sa-east-1.sts"]
endpoint_policy = "{}"
endpoint_policy_file = "p.json"

[network.n.endpoint.s3]
private_dns = true

[network.n.endpoint.core]
"#;
    let d = errors(text);
    let mut got = codes(&d);
    got.sort();
    let sagemaker = line_of(text, "endpoints =");
    let mut expected = vec![
        // codeartifact.api and codeartifact.repositories are not in sa-east-1.
        ("LF611", sagemaker),
        ("LF611", sagemaker),
        ("LF610", sagemaker),
        ("LF610", sagemaker),
        ("LF615", line_of(text, "endpoint_policy_file")),
        ("LF616", line_of(text, "private_dns = true")),
        ("LF610", line_of(text, "endpoint.core")),
    ];
    expected.sort();
    assert_eq!(got, expected);
    let helps: Vec<&str> = d.iter().filter_map(|d| d.help.as_deref()).collect();
    assert!(
        helps
            .iter()
            .any(|h| h.contains("did you mean `sagemaker.api`?"))
    );
    assert!(
        helps
            .iter()
            .any(|h| h.contains("write the short service name: `sts`"))
    );
}

#[test]
fn too_many_interface_endpoints() {
    let text = r#"
[landing_zone.quotas]
interface_endpoints_per_vpc = 3

[network.n]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/16"
subnets = [{ az = "us-east-1a", cidr = "10.0.0.0/24" }]
endpoints = ["s3", "dynamodb", "sts", "logs", "kms", "ssm"]
"#;
    let d = errors(text);
    assert_eq!(codes(&d), vec![("LF612", line_of(text, "endpoints ="))]);
    let e = d.iter().next().unwrap();
    assert!(
        e.message.contains("4 interface endpoints; the limit is 3"),
        "{}",
        e.message
    );
    // The fourth interface endpoint is pointed at (gateways do not count).
    let at = &e.labels[0];
    assert_eq!(at.text.as_deref(), Some("interface endpoint number 4"));
    assert_eq!(at.column, 54);
}

#[test]
fn endpoint_policy_problems() {
    let text = r#"
[landing_zone.quotas]
endpoint_policy_max_chars = 40

[network.n]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/16"
subnets = [{ az = "us-east-1a", cidr = "10.0.0.0/24" }]
endpoints = ["sts"]
endpoint_policy = '''{"Statement": [{"Effect": "Allow", "Resource": ${account_id}}]}'''

[network.n.endpoint.logs]
policy = '''{"Statement": {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}}'''

[network.n.endpoint.kms]
policy = '''["not", "a", "policy"]'''

[network.n.endpoint.ssm]
policy_file = "missing.json"
"#;
    let d = errors(text);
    let got = codes(&d);
    assert_eq!(
        got,
        vec![
            ("LF613", line_of(text, "endpoint_policy =")),
            ("LF614", line_of(text, "policy = '''{\"Statement\": {")),
            ("LF613", line_of(text, "[\"not\"")),
            ("LF617", line_of(text, "missing.json")),
        ]
    );
    // The JSON error points inside the TOML string, at the placeholder.
    let json = d.iter().next().unwrap();
    assert_eq!(json.column, 69);
}

#[test]
fn key_problems() {
    let text = r#"
[kms_key.A]
account = "nobody"
region = "eu-west-1"
alias = "alias/aws/ebs"
deletion_window_days = 3
description = "x"

[kms_key.b]
account = "ml-fraud-dev"
region = "us-east-1"
alias = "alias/shared"
policy = "{"
policy_file = "p.json"

[kms_key.c]
account = "ml-fraud-dev"
region = "us-east-1"
alias = "alias/shared"
policy = '''{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "${account_id}"}, "Action": "kms:*"}, '''

[kms_key.d]
account = "ml-fraud-prod"
region = "us-east-1"
alias = "alias/shared"
policy_file = "nope.json"
"#;
    let d = errors(text);
    assert_eq!(
        codes(&d),
        vec![
            ("LF700", line_of(text, "kms_key.A")),
            ("LF701", line_of(text, "nobody")),
            ("LF702", line_of(text, "eu-west-1")),
            ("LF708", line_of(text, "alias/aws/ebs")),
            ("LF707", line_of(text, "deletion_window_days")),
            ("LF705", line_of(text, "p.json")),
            (
                "LF709",
                line_of(text, "alias = \"alias/shared\"\npolicy = '''")
            ),
            ("LF703", line_of(text, "policy = '''")),
            ("LF706", line_of(text, "nope.json")),
        ]
    );
}

#[test]
fn key_policy_size_is_in_bytes() {
    let text = r#"
[landing_zone.quotas]
key_policy_max_bytes = 100

[kms_key.k]
account = "ml-fraud-dev"
region = "us-east-1"
"#;
    // The default policy is larger than 100 bytes, but only declared policies are
    // measured.
    ok(text);
    let text = format!(
        "{text}policy = '''{{\"Statement\": [{{\"Sid\": \"{}\", \"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"${{account_id}}\"}}, \"Action\": \"kms:*\"}}]}}'''\n",
        "\u{e9}".repeat(20)
    );
    let d = errors(&text);
    assert_eq!(codes(&d).first().map(|c| c.0), Some("LF704"));
}

#[test]
fn overlapping_vpcs_are_a_warning_naming_both() {
    let l = ok(r#"
[network.a]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/16"
subnets = [{ az = "us-east-1a", cidr = "10.0.0.0/24" }]

[network.b]
account = "ml-fraud-prod"
region = "us-east-1"
cidr = "10.0.128.0/17"
subnets = [{ az = "us-east-1a", cidr = "10.0.128.0/24" }]

[network.c]
account = "ml-fraud-prod"
region = "us-east-1"
cidr = "10.1.0.0/16"
subnets = [{ az = "us-east-1a", cidr = "10.1.0.0/24" }]
"#);
    let w: Vec<_> = l.warnings.iter().collect();
    assert_eq!(w.len(), 1, "{}", l.warnings.render(false));
    assert_eq!(w[0].code, "LF904");
    assert!(w[0].message.contains("`a`") && w[0].message.contains("`b`"));
    assert_eq!(w[0].labels.len(), 2);
    assert!(w[0].help.as_deref().unwrap().contains("Transit Gateway"));
}

#[test]
fn a_service_listed_twice_is_a_warning() {
    let l = ok(r#"
[network.n]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/16"
subnets = [{ az = "us-east-1a", cidr = "10.0.0.0/24" }]
endpoints = ["sts", "core", "sts"]
"#);
    let w: Vec<_> = l.warnings.iter().map(|w| w.code).collect();
    assert_eq!(w, vec!["LF905"]);
    assert_eq!(l.desired.networks["n"].endpoints.len(), 5);
}

#[test]
fn unknown_keys_in_endpoint_tables_name_their_table() {
    let d = errors(
        r#"
[network.n]
account = "ml-fraud-dev"
region = "us-east-1"
cidr = "10.0.0.0/16"
subnets = [{ az = "us-east-1a", cidr = "10.0.0.0/24" }]

[network.n.endpoint."sagemaker.api"]
privat_dns = false
"#,
    );
    let e = d.iter().next().unwrap();
    assert_eq!(e.code, "LF101");
    assert!(
        e.message.contains("[network.n.endpoint.\"sagemaker.api\"]"),
        "{}",
        e.message
    );
    assert!(
        e.help
            .as_deref()
            .unwrap()
            .contains("did you mean `private_dns`?")
    );
}

#[test]
fn networks_and_keys_are_declared_once_across_files() {
    let net = "[network.n]\naccount = \"a\"\nregion = \"us-east-1\"\ncidr = \"10.0.0.0/16\"\nsubnets = [{ az = \"us-east-1a\", cidr = \"10.0.0.0/24\" }]\n[kms_key.k]\naccount = \"a\"\nregion = \"us-east-1\"\n";
    let lz = "[landing_zone]\nname = \"t\"\nhome_region = \"us-east-1\"\n[account.a]\nemail = \"a@example.com\"\n";
    let d = load_sources(
        vec![
            ("a.toml".into(), format!("{lz}{net}")),
            ("b.toml".into(), net.to_string()),
        ],
        Path::new(""),
    )
    .unwrap_err();
    let codes: Vec<_> = d.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["LF104", "LF104"]);
}

#[test]
fn every_endpoint_service_and_preset_is_documented() {
    let docs = std::fs::read_to_string("../../docs/configuration.md").unwrap();
    let services: toml::Table =
        toml::from_str(&std::fs::read_to_string("data/endpoint-services.toml").unwrap()).unwrap();
    let presets: toml::Table =
        toml::from_str(&std::fs::read_to_string("data/endpoint-presets.toml").unwrap()).unwrap();
    let services = services["service"].as_table().unwrap();
    let missing: Vec<&String> = services
        .keys()
        .chain(presets.keys())
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/configuration.md: {missing:?}"
    );
}
