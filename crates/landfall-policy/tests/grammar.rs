//! Grammar fixtures (`tests/grammar.toml`): each document's findings under the
//! grammar of its kind, with their JSON pointers and the exact text they point at.
//! Pairs of cases show where the SCP and identity-policy grammars differ and that
//! the SCP grammar is unchanged.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use landfall_policy::{Finding, PolicyKind, Severity, lint_as, parse_as};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixtures {
    case: Vec<Fixture>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    name: String,
    kind: String,
    policy: String,
    findings: Vec<Expected>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Expected {
    code: String,
    pointer: String,
    at: Option<String>,
}

fn located(text: &str, f: &Finding) -> Expected {
    Expected {
        code: f.code.to_string(),
        pointer: f.pointer.clone(),
        at: f.offset.clone().map(|r| text[r].to_string()),
    }
}

#[test]
fn grammar_fixtures() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/grammar.toml");
    let fixtures: Fixtures = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    for fx in &fixtures.case {
        let kind = match fx.kind.as_str() {
            "scp" => PolicyKind::Scp,
            "identity" => PolicyKind::Identity,
            "rcp" => PolicyKind::Rcp,
            other => panic!("{}: unknown kind `{other}`", fx.name),
        };
        let findings = lint_as(kind, "p", &fx.policy, 10_240);
        let got: Vec<Expected> = findings.iter().map(|f| located(&fx.policy, f)).collect();
        if got != fx.findings {
            failures.push(format!(
                "{}:\n    expected {:?}\n    got      {:?}",
                fx.name, fx.findings, got
            ));
        }
        // `parse_as` fails exactly when the lint has an error.
        let has_error = findings.iter().any(|f| f.severity == Severity::Error);
        if parse_as(kind, "p", &fx.policy).is_ok() == has_error {
            failures.push(format!(
                "{}: parse_as and lint_as disagree on errors",
                fx.name
            ));
        }
    }
    assert!(fixtures.case.len() >= 15);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The identity grammar's messages say why IAM refuses the element, not the SCP
/// reason.
#[test]
fn messages_name_the_policy_kind() {
    let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#;
    let scp = landfall_policy::lint("p", doc, 5120);
    let identity = lint_as(PolicyKind::Identity, "p", doc, 5120);
    assert!(scp[0].message.contains("SCP"), "{}", scp[0].message);
    assert!(
        identity[0].message.contains("identity-based policy")
            && identity[0]
                .message
                .contains("Has prohibited field Principal"),
        "{}",
        identity[0].message
    );
}
