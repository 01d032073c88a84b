//! The policy corpus (`tests/corpus/*.toml`), property tests of the evaluations'
//! monotonicity, and a timing run over a generated 1,000-account organization.
//!
//! A corpus file holds `[[case]]`s and, optionally, a file-level `[policies]` table
//! its cases share (a case's own `[case.policies]` may not reuse a name). A case is
//! one of two kinds:
//!
//! - an SCP case: `levels` (root → account, each naming its SCPs; `FullAWSAccess`
//!   is built in), a request, and `expect` (`decision`, and for a deny the `policy`,
//!   `sid` and `level`, or `implicit = true`), run with `evaluate`;
//! - a principal case, marked by `identity = [names]`: optional `boundary = [names]`,
//!   optional `levels` (absent: the management account, no SCPs), and an `expect`
//!   that always names the deciding `layer` (`scp`, `identity`, `boundary`; an
//!   allow is decided by `identity`, and `policy`/`sid` then name the allowing
//!   statement), run with `evaluate_principal`. Identity and boundary policies are
//!   parsed with the identity-policy grammar, SCPs with the SCP grammar.
//!
//! A principal case may also give `rcp_levels` (same shape as `levels`: the RCP
//! hierarchy of the resource's account, `RCPFullAWSAccess` built in; absent: RCPs
//! do not apply, as for a resource in the management account), parsed with the RCP
//! grammar; `expect.layer` may then be `rcp`. The `rcp-*.toml` files hold at least
//! [`MIN_RCP_CASES`] such cases.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use landfall_policy::{
    Decision, Layer, Layers, Level, Policy, PolicyKind, PrincipalDecision, RCP_MAX_CHARS, Request,
    StatementRef, evaluate, evaluate_principal, full_aws_access, lint, lint_as, parse, parse_as,
    rcp_full_aws_access,
};
use proptest::prelude::*;
use serde::Deserialize;

const MIN_CASES: usize = 150;
/// Issue 16: the principal evaluation is held to at least as many cases.
const MIN_PRINCIPAL_CASES: usize = 150;
/// Issue 17: the RCP layer's corpus (`rcp-*.toml`).
const MIN_RCP_CASES: usize = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    /// Policies every case of the file may name.
    #[serde(default)]
    policies: BTreeMap<String, String>,
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    #[serde(default)]
    policies: BTreeMap<String, String>,
    /// Absent in a principal case: the management account.
    levels: Option<Vec<CaseLevel>>,
    /// Present: a principal case.
    identity: Option<Vec<String>>,
    boundary: Option<Vec<String>>,
    /// The RCP hierarchy of the resource's account (principal cases only).
    rcp_levels: Option<Vec<CaseLevel>>,
    request: CaseRequest,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseLevel {
    name: String,
    #[serde(default)]
    policies: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRequest {
    action: String,
    #[serde(default = "star")]
    resource: String,
    #[serde(default)]
    context: BTreeMap<String, toml::Value>,
}

fn star() -> String {
    "*".to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    decision: String,
    policy: Option<String>,
    sid: Option<String>,
    level: Option<String>,
    #[serde(default)]
    implicit: bool,
    /// The deciding layer of a principal case (`rcp`, `scp`, `identity`,
    /// `boundary`).
    layer: Option<String>,
}

fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        _ => None,
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn describe(d: &Decision) -> String {
    match d {
        Decision::Allow => "allow".to_string(),
        Decision::ExplicitDeny {
            level_name,
            policy,
            sid,
            statement,
            ..
        } => format!(
            "explicit deny by `{policy}` (Sid {}, statement {statement}) at `{level_name}`",
            sid.as_deref().unwrap_or("none")
        ),
        Decision::ImplicitDeny { level_name, .. } => {
            format!("implicit deny at `{level_name}` (no Allow)")
        }
    }
}

fn describe_statement(s: &StatementRef) -> String {
    format!(
        "`{}` (Sid {}, statement {})",
        s.policy,
        s.sid.as_deref().unwrap_or("none"),
        s.statement
    )
}

fn describe_principal(d: &PrincipalDecision) -> String {
    match d {
        PrincipalDecision::Allow(by) => format!("allow by {}", describe_statement(by)),
        PrincipalDecision::ExplicitDeny { layer, level, by } => format!(
            "explicit deny in layer {} by {}{}",
            layer.id(),
            describe_statement(by),
            level
                .as_ref()
                .map(|l| format!(" at `{l}`"))
                .unwrap_or_default()
        ),
        PrincipalDecision::ImplicitDeny { layer, level } => format!(
            "implicit deny in layer {}{}",
            layer.id(),
            level
                .as_ref()
                .map(|l| format!(" at `{l}`"))
                .unwrap_or_default()
        ),
    }
}

fn describe_expect(e: &Expect) -> String {
    let mut s = e.decision.clone();
    if e.implicit {
        s.push_str(" (implicit)");
    }
    if let Some(layer) = &e.layer {
        s.push_str(&format!(" in layer {layer}"));
    }
    if let Some(p) = &e.policy {
        s.push_str(&format!(" by `{p}`"));
    }
    if let Some(sid) = &e.sid {
        s.push_str(&format!(" (Sid {sid})"));
    }
    if let Some(l) = &e.level {
        s.push_str(&format!(" at `{l}`"));
    }
    s
}

/// Why `actual` does not satisfy `expect`, if it does not.
fn mismatch(expect: &Expect, actual: &Decision) -> Option<String> {
    if expect.layer.is_some() {
        return Some("`expect.layer` belongs to principal cases (with `identity`)".into());
    }
    let ok = match (expect.decision.as_str(), actual) {
        ("allow", Decision::Allow) => true,
        ("allow", _) => false,
        ("deny", Decision::Allow) => false,
        (
            "deny",
            Decision::ExplicitDeny {
                level_name,
                policy,
                sid,
                ..
            },
        ) => {
            !expect.implicit
                && expect.policy.as_ref().is_none_or(|p| p == policy)
                && expect.sid.as_ref().is_none_or(|s| sid.as_ref() == Some(s))
                && expect.level.as_ref().is_none_or(|l| l == level_name)
        }
        ("deny", Decision::ImplicitDeny { level_name, .. }) => {
            expect.policy.is_none()
                && expect.sid.is_none()
                && expect.level.as_ref().is_none_or(|l| l == level_name)
        }
        (other, _) => return Some(format!("unknown expected decision `{other}`")),
    };
    (!ok).then(|| {
        format!(
            "expected {}, got {}",
            describe_expect(expect),
            describe(actual)
        )
    })
}

/// Why `actual` does not satisfy a principal case's `expect`, if it does not. The
/// layer is always checked; `policy`, `sid` and `level` when given.
fn principal_mismatch(expect: &Expect, actual: &PrincipalDecision) -> Option<String> {
    let Some(layer) = &expect.layer else {
        return Some("a principal case must name the deciding `expect.layer`".into());
    };
    if !Layer::ALL.iter().any(|l| l.id() == layer) {
        return Some(format!("unknown layer `{layer}`"));
    }
    let statement_ok = |by: &StatementRef| {
        expect.policy.as_ref().is_none_or(|p| p == &by.policy)
            && expect
                .sid
                .as_ref()
                .is_none_or(|s| by.sid.as_ref() == Some(s))
    };
    let level_ok = |level: &Option<String>| {
        expect
            .level
            .as_ref()
            .is_none_or(|l| level.as_ref() == Some(l))
    };
    let ok = actual.layer().id() == layer
        && match (expect.decision.as_str(), actual) {
            ("allow", PrincipalDecision::Allow(by)) => {
                !expect.implicit && expect.level.is_none() && statement_ok(by)
            }
            ("allow", _) | ("deny", PrincipalDecision::Allow(_)) => false,
            ("deny", PrincipalDecision::ExplicitDeny { level, by, .. }) => {
                !expect.implicit && statement_ok(by) && level_ok(level)
            }
            ("deny", PrincipalDecision::ImplicitDeny { level, .. }) => {
                expect.implicit
                    && expect.policy.is_none()
                    && expect.sid.is_none()
                    && level_ok(level)
            }
            (other, _) => return Some(format!("unknown expected decision `{other}`")),
        };
    (!ok).then(|| {
        format!(
            "expected {}, got {}",
            describe_expect(expect),
            describe_principal(actual)
        )
    })
}

/// The policies a case may name: the file's, then its own (a name in both is an
/// error: which one the case meant would be a guess).
fn case_policies<'a>(
    file: &'a BTreeMap<String, String>,
    case: &'a Case,
) -> Result<BTreeMap<&'a str, &'a str>, String> {
    let mut all: BTreeMap<&str, &str> =
        file.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for (name, text) in &case.policies {
        if all.insert(name, text).is_some() {
            return Err(format!(
                "policy `{name}` is defined both in the file's [policies] and in the case"
            ));
        }
    }
    Ok(all)
}

/// The names a case gives each grammar: SCPs (levels), identity and boundary
/// policies, RCPs (rcp_levels).
fn referenced(case: &Case) -> (Vec<&str>, Vec<&str>, Vec<&str>) {
    let scps = case
        .levels
        .iter()
        .flatten()
        .flat_map(|l| l.policies.iter().map(String::as_str))
        .filter(|p| *p != "FullAWSAccess")
        .collect();
    let identity = case
        .identity
        .iter()
        .chain(case.boundary.iter())
        .flatten()
        .map(String::as_str)
        .collect();
    let rcps = case
        .rcp_levels
        .iter()
        .flatten()
        .flat_map(|l| l.policies.iter().map(String::as_str))
        .filter(|p| *p != "RCPFullAWSAccess")
        .collect();
    (scps, identity, rcps)
}

fn parse_named(
    kind: PolicyKind,
    name: &str,
    texts: &BTreeMap<&str, &str>,
) -> Result<Policy, String> {
    let Some(text) = texts.get(name) else {
        return Err(format!("the case names unknown policy `{name}`"));
    };
    parse_as(kind, name, text).map_err(|findings| {
        let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
        format!("policy `{name}` does not parse: {}", list.join("; "))
    })
}

fn build_request(r: &CaseRequest) -> Request {
    let mut request = Request::new(&r.action, &r.resource);
    for (k, v) in &r.context {
        let values: Vec<String> = match v {
            toml::Value::Array(items) => items.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect(),
        };
        request = request.with(k, values);
    }
    request
}

/// Runs one case; `Err` says why it failed.
fn run_case(file: &BTreeMap<String, String>, case: &Case, full: &Policy) -> Result<(), String> {
    let texts = case_policies(file, case)?;
    let mut scps: BTreeMap<&str, Policy> = BTreeMap::new();
    let (scp_names, identity_names, rcp_names) = referenced(case);
    let mut rcps: BTreeMap<&str, Policy> = BTreeMap::new();
    for name in rcp_names {
        rcps.insert(name, parse_named(PolicyKind::Rcp, name, &texts)?);
    }
    let rcp_full = rcp_full_aws_access();
    let mut rcp_levels = Vec::new();
    for l in case.rcp_levels.iter().flatten() {
        let policies = l
            .policies
            .iter()
            .map(|p| rcps.get(p.as_str()).unwrap_or(&rcp_full))
            .collect();
        rcp_levels.push(Level {
            name: l.name.clone(),
            policies,
        });
    }
    for name in scp_names {
        scps.insert(name, parse_named(PolicyKind::Scp, name, &texts)?);
    }
    let mut identities: BTreeMap<&str, Policy> = BTreeMap::new();
    for name in identity_names {
        identities.insert(name, parse_named(PolicyKind::Identity, name, &texts)?);
    }
    let mut levels = Vec::new();
    for l in case.levels.iter().flatten() {
        let mut policies = Vec::with_capacity(l.policies.len());
        for p in &l.policies {
            match scps.get(p.as_str()) {
                Some(policy) => policies.push(policy),
                None => policies.push(full),
            }
        }
        levels.push(Level {
            name: l.name.clone(),
            policies,
        });
    }
    let request = build_request(&case.request);
    let why = match &case.identity {
        None => {
            if case.levels.is_none() || case.boundary.is_some() || case.rcp_levels.is_some() {
                return Err(
                    "an SCP case needs `levels`; a `boundary` or `rcp_levels` needs `identity` (a principal case)"
                        .into(),
                );
            }
            mismatch(&case.expect, &evaluate(&levels, &request))
        }
        Some(names) => {
            let pick = |names: &[String]| -> Vec<&Policy> {
                names
                    .iter()
                    .filter_map(|n| identities.get(n.as_str()))
                    .collect()
            };
            let identity = pick(names);
            let boundary = case.boundary.as_deref().map(pick);
            let layers = Layers {
                scps: case.levels.as_ref().map(|_| levels.as_slice()),
                identity: &identity,
                boundary: boundary.as_deref(),
                rcps: case.rcp_levels.as_ref().map(|_| rcp_levels.as_slice()),
            };
            principal_mismatch(&case.expect, &evaluate_principal(&layers, &request))
        }
    };
    match why {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// File-level policies no case of the file names: a corpus mistake.
fn unused_file_policies(corpus: &CorpusFile) -> Vec<String> {
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for case in &corpus.case {
        let (scps, identity, rcps) = referenced(case);
        used.extend(scps);
        used.extend(identity);
        used.extend(rcps);
    }
    corpus
        .policies
        .keys()
        .filter(|k| !used.contains(k.as_str()))
        .cloned()
        .collect()
}

fn corpus_files() -> Vec<(String, CorpusFile)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        // `tags-*.toml` are tag policy cases, run by `tests/tag_corpus.rs`.
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("tags-"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let label = file
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let text = std::fs::read_to_string(file).expect("readable corpus file");
            let corpus: CorpusFile =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{label}: not a corpus file: {e}"));
            (label, corpus)
        })
        .collect()
}

#[test]
fn corpus() {
    let full = full_aws_access();
    let mut total = 0;
    let mut principal = 0;
    let mut rcp = 0;
    let mut failures = Vec::new();
    let mut per_file = Vec::new();
    for (label, corpus) in corpus_files() {
        let here = corpus.case.iter().filter(|c| c.identity.is_some()).count();
        per_file.push(format!("{label}: {} ({here} principal)", corpus.case.len()));
        total += corpus.case.len();
        principal += here;
        if label.starts_with("rcp-") {
            rcp += corpus
                .case
                .iter()
                .filter(|c| c.rcp_levels.is_some() || c.identity.is_some())
                .count();
        }
        for unused in unused_file_policies(&corpus) {
            failures.push(format!("{label}: policy `{unused}` is named by no case"));
        }
        let mut names = BTreeSet::new();
        for case in &corpus.case {
            if !names.insert(case.name.as_str()) {
                failures.push(format!("{label}: case name `{}` is used twice", case.name));
            }
            if case.identity.is_some() && case.source.is_none() {
                failures.push(format!("{label}: `{}` cites no `source`", case.name));
            }
            if let Err(why) = run_case(&corpus.policies, case, &full) {
                failures.push(format!("{label}: `{}`: {why}", case.name));
            }
        }
    }
    println!(
        "corpus: {total} cases, {principal} principal ({})",
        per_file.join(", ")
    );
    if total < MIN_CASES {
        failures.push(format!(
            "only {total} cases in the corpus; at least {MIN_CASES} are required"
        ));
    }
    if rcp < MIN_RCP_CASES {
        failures.push(format!(
            "only {rcp} cases in rcp-*.toml; at least {MIN_RCP_CASES} are required"
        ));
    }
    if principal < MIN_PRINCIPAL_CASES {
        failures.push(format!(
            "only {principal} principal cases in the corpus; at least {MIN_PRINCIPAL_CASES} are required"
        ));
    }
    assert!(
        failures.is_empty(),
        "{} corpus failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn runner_reports_mismatches() {
    let expect =
        |decision: &str, policy: Option<&str>, sid: Option<&str>, level: Option<&str>, implicit| {
            Expect {
                decision: decision.to_string(),
                policy: policy.map(str::to_string),
                sid: sid.map(str::to_string),
                level: level.map(str::to_string),
                implicit,
                layer: None,
            }
        };
    let deny = Decision::ExplicitDeny {
        level: 1,
        level_name: "ou.Dev".into(),
        policy: "p".into(),
        sid: Some("S".into()),
        statement: 0,
    };
    let implicit = Decision::ImplicitDeny {
        level: 2,
        level_name: "account.a".into(),
    };
    assert!(
        mismatch(
            &expect("deny", Some("p"), Some("S"), Some("ou.Dev"), false),
            &deny
        )
        .is_none()
    );
    assert!(mismatch(&expect("deny", Some("q"), None, None, false), &deny).is_some());
    assert!(mismatch(&expect("deny", Some("p"), Some("T"), None, false), &deny).is_some());
    assert!(mismatch(&expect("deny", Some("p"), None, Some("root"), false), &deny).is_some());
    assert!(mismatch(&expect("deny", None, None, None, true), &deny).is_some());
    assert!(mismatch(&expect("allow", None, None, None, false), &deny).is_some());
    assert!(
        mismatch(
            &expect("deny", None, None, Some("account.a"), true),
            &implicit
        )
        .is_none()
    );
    assert!(mismatch(&expect("deny", None, None, Some("root"), true), &implicit).is_some());
    assert!(mismatch(&expect("deny", Some("p"), None, None, false), &implicit).is_some());
    assert!(mismatch(&expect("deny", None, None, None, false), &Decision::Allow).is_some());
    assert!(mismatch(&expect("maybe", None, None, None, false), &Decision::Allow).is_some());

    // Principal cases: the layer is always compared.
    let with_layer = |mut e: Expect, layer: Option<&str>| {
        e.layer = layer.map(str::to_string);
        e
    };
    let by = StatementRef {
        policy: "p".into(),
        sid: Some("S".into()),
        statement: 1,
    };
    let allow = PrincipalDecision::Allow(by.clone());
    let boundary_deny = PrincipalDecision::ExplicitDeny {
        layer: Layer::Boundary,
        level: None,
        by: by.clone(),
    };
    let scp_implicit = PrincipalDecision::ImplicitDeny {
        layer: Layer::Scp,
        level: Some("root".into()),
    };
    let e = |d, p, s, l, i, layer| with_layer(expect(d, p, s, l, i), layer);
    assert!(
        principal_mismatch(
            &e("allow", Some("p"), Some("S"), None, false, Some("identity")),
            &allow
        )
        .is_none()
    );
    assert!(principal_mismatch(&e("allow", None, None, None, false, None), &allow).is_some());
    assert!(
        principal_mismatch(&e("allow", None, None, None, false, Some("scp")), &allow).is_some()
    );
    assert!(
        principal_mismatch(
            &e("allow", Some("q"), None, None, false, Some("identity")),
            &allow
        )
        .is_some()
    );
    assert!(
        principal_mismatch(
            &e("deny", Some("p"), None, None, false, Some("boundary")),
            &boundary_deny
        )
        .is_none()
    );
    assert!(
        principal_mismatch(
            &e("deny", Some("p"), None, None, false, Some("identity")),
            &boundary_deny
        )
        .is_some()
    );
    assert!(
        principal_mismatch(
            &e("deny", None, None, None, true, Some("boundary")),
            &boundary_deny
        )
        .is_some()
    );
    assert!(
        principal_mismatch(
            &e("deny", None, None, Some("root"), true, Some("scp")),
            &scp_implicit
        )
        .is_none()
    );
    assert!(
        principal_mismatch(
            &e("deny", None, None, Some("ou.X"), true, Some("scp")),
            &scp_implicit
        )
        .is_some()
    );
    assert!(
        principal_mismatch(
            &e("deny", None, None, None, false, Some("scp")),
            &scp_implicit
        )
        .is_some()
    );
    assert!(
        principal_mismatch(
            &e("deny", None, None, None, true, Some("rcp")),
            &scp_implicit
        )
        .is_some()
    );
}

/// Every policy of the corpus lints without errors with the grammar of the role
/// its cases give it, and so does every example SCP.
#[test]
fn corpus_policies_lint_clean() {
    let mut errors = Vec::new();
    let mut texts: Vec<(String, PolicyKind, String)> = Vec::new();
    for (label, corpus) in corpus_files() {
        for case in &corpus.case {
            let Ok(all) = case_policies(&corpus.policies, case) else {
                continue;
            };
            let (scps, identity, rcps) = referenced(case);
            for (kind, names) in [
                (PolicyKind::Scp, scps),
                (PolicyKind::Identity, identity),
                (PolicyKind::Rcp, rcps),
            ] {
                for name in names {
                    if let Some(text) = all.get(name) {
                        texts.push((
                            format!("{label}: `{}`: {name}", case.name),
                            kind,
                            text.to_string(),
                        ));
                    }
                }
            }
        }
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
    if let Ok(dir) = std::fs::read_dir(&examples) {
        for entry in dir.flatten() {
            let path = entry.path();
            // The endpoint policy has a Principal: it is no SCP.
            if path.extension().is_some_and(|e| e == "json")
                && !path.ends_with("endpoint-account-only.json")
            {
                texts.push((
                    path.display().to_string(),
                    PolicyKind::Scp,
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    assert!(texts.iter().any(|(_, k, _)| *k == PolicyKind::Identity));
    assert!(texts.iter().any(|(_, k, _)| *k == PolicyKind::Rcp));
    for (label, kind, text) in &texts {
        let findings = match kind {
            PolicyKind::Scp => lint("p", text, 5120),
            PolicyKind::Identity => lint_as(*kind, "p", text, 10_240),
            PolicyKind::Rcp => lint_as(*kind, "p", text, RCP_MAX_CHARS),
        };
        for f in findings {
            if f.severity == landfall_policy::Severity::Error {
                errors.push(format!("{label}: {f}"));
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// ---------------------------------------------------------------------------
// Property: adding a Deny never turns a deny into an allow; removing an Allow
// never turns a deny into an allow.

const ACTIONS: &[&str] = &[
    "*",
    "s3:*",
    "s3:GetObject",
    "s3:Put*",
    "ec2:*",
    "ec2:RunInstances",
    "ec2:Describe?nstances",
    "sagemaker:Create*",
    "iam:*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::data/*",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:s3:::${aws:PrincipalTag/team}/*",
];
const CONDITIONS: &[&str] = &[
    r#"{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}"#,
    r#"{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}"#,
    r#"{"Null":{"aws:PrincipalTag/team":"true"}}"#,
    r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
    r#"{"ForAnyValue:StringLike":{"aws:TagKeys":["cost-*"]}}"#,
    r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["project","owner"]}}"#,
    r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}"#,
    r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#,
];
const REQ_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "sagemaker:CreateEndpoint",
    "iam:CreateUser",
];
const REQ_RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::data/x",
    "arn:aws:s3:::ml/x",
    "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
];

#[derive(Debug, Clone)]
struct GenStatement {
    deny: bool,
    not_action: bool,
    actions: Vec<usize>,
    resource: Option<usize>,
    conditions: Vec<usize>,
}

fn gen_statement() -> impl Strategy<Value = GenStatement> {
    (
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        prop::option::of(0..RESOURCES.len()),
        prop::collection::vec(0..CONDITIONS.len(), 0..3),
    )
        .prop_map(
            |(deny, not_action, actions, resource, conditions)| GenStatement {
                deny,
                not_action,
                actions,
                resource,
                conditions,
            },
        )
}

fn statement_json(s: &GenStatement) -> String {
    let actions: Vec<String> = s
        .actions
        .iter()
        .map(|&a| format!("\"{}\"", ACTIONS[a]))
        .collect();
    let mut out = format!(
        "{{\"Effect\":\"{}\",\"{}\":[{}]",
        if s.deny { "Deny" } else { "Allow" },
        if s.not_action { "NotAction" } else { "Action" },
        actions.join(",")
    );
    if let Some(r) = s.resource {
        out.push_str(&format!(",\"Resource\":\"{}\"", RESOURCES[r]));
    }
    let mut conds: Vec<usize> = s.conditions.clone();
    conds.sort_unstable();
    conds.dedup();
    if !conds.is_empty() {
        // Merge operator blocks (each CONDITIONS entry has one distinct operator).
        let blocks: Vec<&str> = conds
            .iter()
            .map(|&c| {
                let t = CONDITIONS[c];
                &t[1..t.len() - 1]
            })
            .collect();
        out.push_str(&format!(",\"Condition\":{{{}}}", blocks.join(",")));
    }
    out.push('}');
    out
}

type GenHierarchy = Vec<Vec<Vec<GenStatement>>>;

fn gen_hierarchy() -> impl Strategy<Value = GenHierarchy> {
    prop::collection::vec(
        prop::collection::vec(prop::collection::vec(gen_statement(), 1..4), 0..3),
        1..5,
    )
}

fn gen_request() -> impl Strategy<Value = Request> {
    (
        0..REQ_ACTIONS.len(),
        0..REQ_RESOURCES.len(),
        prop::option::of(prop::sample::select(vec![
            "eu-west-1",
            "us-east-1",
            "ap-south-1",
        ])),
        prop::option::of(prop::sample::select(vec!["ml", "data"])),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(
            prop::sample::select(vec!["project", "owner", "cost-center"]),
            0..3,
        )),
        prop::option::of(prop::sample::select(vec![
            "arn:aws:iam::111122223333:role/Admin",
            "arn:aws:iam::111122223333:role/Dev",
        ])),
        prop::option::of(0u32..20),
    )
        .prop_map(|(a, r, region, team, mfa, tags, principal, max_keys)| {
            let mut req = Request::new(REQ_ACTIONS[a], REQ_RESOURCES[r]);
            if let Some(v) = region {
                req = req.with("aws:RequestedRegion", [v]);
            }
            if let Some(v) = team {
                req = req.with("aws:PrincipalTag/team", [v]);
            }
            if let Some(v) = mfa {
                req = req.with("aws:MultiFactorAuthPresent", [v.to_string()]);
            }
            if let Some(v) = tags {
                req = req.with("aws:TagKeys", v);
            }
            if let Some(v) = principal {
                req = req.with("aws:PrincipalArn", [v]);
            }
            if let Some(v) = max_keys {
                req = req.with("s3:max-keys", [v.to_string()]);
            }
            req
        })
}

fn build(h: &GenHierarchy) -> Vec<Vec<Policy>> {
    h.iter()
        .enumerate()
        .map(|(li, level)| {
            level
                .iter()
                .enumerate()
                .map(|(pi, statements)| {
                    let body: Vec<String> = statements.iter().map(statement_json).collect();
                    let text = format!(
                        "{{\"Version\":\"2012-10-17\",\"Statement\":[{}]}}",
                        body.join(",")
                    );
                    parse(&format!("p{li}.{pi}"), &text).unwrap_or_else(|e| {
                        panic!("generated policy does not parse: {e:?}\n{text}")
                    })
                })
                .collect()
        })
        .collect()
}

fn decide(policies: &[Vec<Policy>], request: &Request) -> Decision {
    let levels: Vec<Level<'_>> = policies
        .iter()
        .enumerate()
        .map(|(i, ps)| Level {
            name: format!("level{i}"),
            policies: ps.iter().collect(),
        })
        .collect();
    evaluate(&levels, request)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn adding_a_deny_never_allows(
        h in gen_hierarchy(),
        request in gen_request(),
        extra in gen_statement(),
        at_level in any::<prop::sample::Index>(),
        at_policy in any::<prop::sample::Index>(),
        at_pos in any::<prop::sample::Index>(),
    ) {
        let before = decide(&build(&h), &request);
        let mut h2 = h.clone();
        let li = at_level.index(h2.len());
        let deny = GenStatement { deny: true, ..extra };
        if h2[li].is_empty() {
            h2[li].push(vec![deny]);
        } else {
            let pi = at_policy.index(h2[li].len());
            let pos = at_pos.index(h2[li][pi].len() + 1);
            h2[li][pi].insert(pos, deny);
        }
        let after = decide(&build(&h2), &request);
        prop_assert!(before.is_allow() || !after.is_allow(), "before {before:?}, after {after:?}");
    }

    #[test]
    fn removing_an_allow_never_allows(
        h in gen_hierarchy(),
        request in gen_request(),
        pick in any::<prop::sample::Index>(),
    ) {
        let before = decide(&build(&h), &request);
        let allows: Vec<(usize, usize, usize)> = h
            .iter()
            .enumerate()
            .flat_map(|(li, l)| l.iter().enumerate().flat_map(move |(pi, p)| {
                p.iter().enumerate().filter(|(_, s)| !s.deny).map(move |(si, _)| (li, pi, si))
            }))
            .collect();
        prop_assume!(!allows.is_empty());
        let (li, pi, si) = allows[pick.index(allows.len())];
        let mut h2 = h.clone();
        h2[li][pi].remove(si);
        if h2[li][pi].is_empty() {
            h2[li].remove(pi);
        }
        let after = decide(&build(&h2), &request);
        prop_assert!(before.is_allow() || !after.is_allow(), "before {before:?}, after {after:?}");
    }
}

// ---------------------------------------------------------------------------
// Properties of the principal evaluation: it allows exactly when stacking the
// identity policies and the boundary as two more levels under the SCPs would (an
// oracle written differently: every level must allow, any Deny denies); adding a
// Deny to an identity policy or the boundary never turns a deny into an allow; and
// adding a boundary never widens what is allowed.

#[derive(Debug, Clone)]
struct GenPrincipal {
    scps: Option<GenHierarchy>,
    identity: Vec<Vec<GenStatement>>,
    boundary: Option<Vec<GenStatement>>,
}

fn gen_principal() -> impl Strategy<Value = GenPrincipal> {
    (
        prop::option::of(gen_hierarchy()),
        prop::collection::vec(prop::collection::vec(gen_statement(), 1..4), 0..3),
        prop::option::of(prop::collection::vec(gen_statement(), 1..4)),
    )
        .prop_map(|(scps, identity, boundary)| GenPrincipal {
            scps,
            identity,
            boundary,
        })
}

/// An identity policy from generated statements: IAM requires a resource, so a
/// statement without one gets `*`.
fn identity_policy(name: &str, statements: &[GenStatement]) -> Policy {
    let body: Vec<String> = statements
        .iter()
        .map(|s| {
            statement_json(&GenStatement {
                resource: Some(s.resource.unwrap_or(0)),
                ..s.clone()
            })
        })
        .collect();
    let text = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{}]}}",
        body.join(",")
    );
    parse_as(PolicyKind::Identity, name, &text)
        .unwrap_or_else(|e| panic!("generated identity policy does not parse: {e:?}\n{text}"))
}

struct BuiltPrincipal {
    scps: Option<Vec<Vec<Policy>>>,
    identity: Vec<Policy>,
    boundary: Option<Policy>,
}

fn build_principal(g: &GenPrincipal) -> BuiltPrincipal {
    BuiltPrincipal {
        scps: g.scps.as_ref().map(build),
        identity: g
            .identity
            .iter()
            .enumerate()
            .map(|(i, st)| identity_policy(&format!("id{i}"), st))
            .collect(),
        boundary: g
            .boundary
            .as_ref()
            .map(|st| identity_policy("boundary", st)),
    }
}

fn decide_principal(b: &BuiltPrincipal, request: &Request) -> PrincipalDecision {
    let levels: Option<Vec<Level<'_>>> = b.scps.as_ref().map(|scps| {
        scps.iter()
            .enumerate()
            .map(|(i, ps)| Level {
                name: format!("level{i}"),
                policies: ps.iter().collect(),
            })
            .collect()
    });
    let identity: Vec<&Policy> = b.identity.iter().collect();
    let boundary: Option<Vec<&Policy>> = b.boundary.as_ref().map(|p| vec![p]);
    evaluate_principal(
        &Layers {
            scps: levels.as_deref(),
            identity: &identity,
            boundary: boundary.as_deref(),
            rcps: None,
        },
        request,
    )
}

/// The oracle: the SCP levels, then the identity policies as one level and the
/// boundary as another, evaluated as an SCP hierarchy.
fn decide_stacked(b: &BuiltPrincipal, request: &Request) -> Decision {
    let mut levels: Vec<Level<'_>> = b
        .scps
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, ps)| Level {
            name: format!("level{i}"),
            policies: ps.iter().collect(),
        })
        .collect();
    levels.push(Level {
        name: "identity".into(),
        policies: b.identity.iter().collect(),
    });
    if let Some(boundary) = &b.boundary {
        levels.push(Level {
            name: "boundary".into(),
            policies: vec![boundary],
        });
    }
    evaluate(&levels, request)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn principal_allows_exactly_when_every_layer_allows(g in gen_principal(), request in gen_request()) {
        let built = build_principal(&g);
        let decision = decide_principal(&built, &request);
        let stacked = decide_stacked(&built, &request);
        prop_assert_eq!(decision.is_allow(), stacked.is_allow(), "{:?} vs {:?}", decision, stacked);
        // An explicit deny is explicit in both; the allowing statement is an identity one.
        prop_assert_eq!(
            matches!(decision, PrincipalDecision::ExplicitDeny { .. }),
            matches!(stacked, Decision::ExplicitDeny { .. })
        );
        if let PrincipalDecision::Allow(by) = &decision {
            prop_assert!(by.policy.starts_with("id"));
        }
    }

    #[test]
    fn adding_a_deny_to_identity_or_boundary_never_allows(
        g in gen_principal(),
        request in gen_request(),
        extra in gen_statement(),
        to_boundary in any::<bool>(),
        at_policy in any::<prop::sample::Index>(),
        at_pos in any::<prop::sample::Index>(),
    ) {
        let before = decide_principal(&build_principal(&g), &request);
        let mut g2 = g.clone();
        let deny = GenStatement { deny: true, ..extra };
        match (&mut g2.boundary, to_boundary) {
            (Some(b), true) => {
                let pos = at_pos.index(b.len() + 1);
                b.insert(pos, deny);
            }
            _ if g2.identity.is_empty() => g2.identity.push(vec![deny]),
            _ => {
                let pi = at_policy.index(g2.identity.len());
                let pos = at_pos.index(g2.identity[pi].len() + 1);
                g2.identity[pi].insert(pos, deny);
            }
        }
        let after = decide_principal(&build_principal(&g2), &request);
        prop_assert!(before.is_allow() || !after.is_allow(), "before {before:?}, after {after:?}");
    }

    #[test]
    fn adding_a_boundary_never_widens(
        g in gen_principal(),
        request in gen_request(),
        boundary in prop::collection::vec(gen_statement(), 1..4),
    ) {
        let without = GenPrincipal { boundary: None, ..g };
        let with = GenPrincipal { boundary: Some(boundary), ..without.clone() };
        let before = decide_principal(&build_principal(&without), &request);
        let after = decide_principal(&build_principal(&with), &request);
        prop_assert!(before.is_allow() || !after.is_allow(), "before {before:?}, after {after:?}");
        // A boundary never moves the grant to another statement.
        if let (PrincipalDecision::Allow(a), PrincipalDecision::Allow(b)) = (&before, &after) {
            prop_assert_eq!(a, b);
        }
    }
}

// ---------------------------------------------------------------------------
// Timing: 10,000 requests against a generated 1,000-account organization
// (root, three OU levels, accounts; the example SCPs). Printed, not asserted:
// `cargo test --release -p landfall-policy --test corpus timing -- --nocapture`.

#[test]
fn timing_10k_requests_over_1000_accounts() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
    let mut policies: Vec<Policy> = Vec::new();
    for name in [
        "approved-regions",
        "deny-cloudtrail-tamper",
        "deny-leave-org",
        "deny-s3-public-access-changes",
        "deny-sagemaker-endpoints",
        "require-cost-tags",
        "require-kms-on-sagemaker",
        "restrict-instance-types",
        "sagemaker-vpc-only",
    ] {
        let text = std::fs::read_to_string(examples.join(format!("{name}.json"))).unwrap();
        policies.push(parse(name, &text).unwrap());
    }
    let allow_list = parse(
        "allow-ml-services",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowMl","Effect":"Allow","Action":["sagemaker:*","s3:*","ec2:*","kms:*","iam:*","sts:*","cloudtrail:*","logs:*","organizations:*"],"Resource":"*"}]}"#,
    )
    .unwrap();
    let tag_policy = parse(
        "deny-untagged-principals",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"NeedTeam","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::${aws:PrincipalTag/team, 'none'}-*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalTag/team":["ml","data"]},"ForAnyValue:StringLike":{"aws:TagKeys":["secret*"]}}}]}"#,
    )
    .unwrap();
    let full = full_aws_access();
    let p = |i: usize| &policies[i];
    // 10 × 10 × 10 OUs, one account per leaf OU: 1,000 accounts over 5 levels.
    let mut hierarchies: Vec<Vec<Level<'_>>> = Vec::with_capacity(1000);
    for a in 0..10 {
        for b in 0..10 {
            for c in 0..10 {
                let mut l1 = vec![&full];
                if a % 2 == 0 {
                    l1.push(p(4));
                }
                let l2 = if b % 3 == 0 {
                    vec![&allow_list, p(5)]
                } else {
                    vec![&full, p(7)]
                };
                let l3 = if c % 2 == 0 {
                    vec![&full, p(8), &tag_policy]
                } else {
                    vec![&full, p(6)]
                };
                hierarchies.push(vec![
                    Level {
                        name: "root".into(),
                        policies: vec![&full, p(0), p(1), p(2), p(3)],
                    },
                    Level {
                        name: format!("ou.L1-{a}"),
                        policies: l1,
                    },
                    Level {
                        name: format!("ou.L1-{a}/L2-{b}"),
                        policies: l2,
                    },
                    Level {
                        name: format!("ou.L1-{a}/L2-{b}/L3-{c}"),
                        policies: l3,
                    },
                    Level {
                        name: format!("account.acct-{a}{b}{c}"),
                        policies: vec![&full],
                    },
                ]);
            }
        }
    }
    let actions = [
        "sagemaker:CreateEndpoint",
        "sagemaker:CreateTrainingJob",
        "s3:PutObject",
        "ec2:RunInstances",
        "cloudtrail:StopLogging",
        "organizations:LeaveOrganization",
        "kms:Decrypt",
        "dynamodb:PutItem",
    ];
    let regions = ["us-east-1", "eu-west-1", "us-west-2"];
    let requests: Vec<Request> = (0..10_000)
        .map(|i| {
            Request::new(
                actions[i % actions.len()],
                format!("arn:aws:s3:::ml-bucket-{i}"),
            )
            .with("aws:RequestedRegion", [regions[i % regions.len()]])
            .with(
                "aws:PrincipalArn",
                [format!("arn:aws:iam::{:012}:role/Dev", i % 1000)],
            )
            .with(
                "aws:PrincipalTag/team",
                [if i % 5 == 0 { "web" } else { "ml" }],
            )
            .with("sagemaker:InstanceTypes", ["ml.t3.medium", "ml.p3.2xlarge"])
            .with("aws:TagKeys", ["project", "cost-center"])
        })
        .collect();
    let start = Instant::now();
    let mut allowed = 0;
    for (i, r) in requests.iter().enumerate() {
        if evaluate(&hierarchies[(i * 7) % hierarchies.len()], r).is_allow() {
            allowed += 1;
        }
    }
    let elapsed = start.elapsed();
    println!(
        "timing: 10,000 requests over 1,000 accounts (5 levels, {} policies): {:.1} ms ({} allowed)",
        policies.len() + 3,
        elapsed.as_secs_f64() * 1000.0,
        allowed
    );
    assert!(allowed > 0 && allowed < 10_000);
}
