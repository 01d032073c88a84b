//! The policy corpus (`tests/corpus/*.toml`: policies, a hierarchy, a request and
//! the expected decision), a property test of the evaluation's monotonicity, and a
//! timing run over a generated 1,000-account organization.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use landfall_policy::{Decision, Level, Policy, Request, evaluate, full_aws_access, lint, parse};
use proptest::prelude::*;
use serde::Deserialize;

const MIN_CASES: usize = 150;

#[derive(Deserialize)]
struct CorpusFile {
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    #[serde(default)]
    policies: BTreeMap<String, String>,
    levels: Vec<CaseLevel>,
    request: CaseRequest,
    expect: Expect,
}

#[derive(Deserialize)]
struct CaseLevel {
    name: String,
    #[serde(default)]
    policies: Vec<String>,
}

#[derive(Deserialize)]
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
struct Expect {
    decision: String,
    policy: Option<String>,
    sid: Option<String>,
    level: Option<String>,
    #[serde(default)]
    implicit: bool,
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

fn describe_expect(e: &Expect) -> String {
    let mut s = e.decision.clone();
    if e.implicit {
        s.push_str(" (implicit)");
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

/// Runs one case; `Err` says why it failed.
fn run_case(case: &Case, full: &Policy) -> Result<(), String> {
    let mut parsed: BTreeMap<&str, Policy> = BTreeMap::new();
    for (name, text) in &case.policies {
        match parse(name, text) {
            Ok(p) => {
                parsed.insert(name, p);
            }
            Err(findings) => {
                let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
                return Err(format!(
                    "policy `{name}` does not parse: {}",
                    list.join("; ")
                ));
            }
        }
    }
    let mut levels = Vec::with_capacity(case.levels.len());
    for l in &case.levels {
        let mut policies = Vec::with_capacity(l.policies.len());
        for p in &l.policies {
            match parsed.get(p.as_str()) {
                Some(policy) => policies.push(policy),
                None if p == "FullAWSAccess" => policies.push(full),
                None => return Err(format!("level `{}` names unknown policy `{p}`", l.name)),
            }
        }
        levels.push(Level {
            name: l.name.clone(),
            policies,
        });
    }
    let mut request = Request::new(&case.request.action, &case.request.resource);
    for (k, v) in &case.request.context {
        let values: Vec<String> = match v {
            toml::Value::Array(items) => items.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect(),
        };
        request = request.with(k, values);
    }
    let actual = evaluate(&levels, &request);
    match mismatch(&case.expect, &actual) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

#[test]
fn corpus() {
    let full = full_aws_access();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    let mut per_file = Vec::new();
    for file in &files {
        let label = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let text = std::fs::read_to_string(file).expect("readable corpus file");
        let corpus: CorpusFile = match toml::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{label}: not a corpus file: {e}"));
                continue;
            }
        };
        per_file.push(format!("{label}: {}", corpus.case.len()));
        total += corpus.case.len();
        for case in &corpus.case {
            if let Err(why) = run_case(case, &full) {
                failures.push(format!("{label}: `{}`: {why}", case.name));
            }
        }
    }
    println!("corpus: {total} cases ({})", per_file.join(", "));
    if total < MIN_CASES {
        failures.push(format!(
            "only {total} cases in the corpus; at least {MIN_CASES} are required"
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
}

/// Every policy of the corpus and of the examples lints without errors.
#[test]
fn corpus_policies_lint_clean() {
    let mut errors = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(corpus_dir())
        .expect("tests/corpus exists")
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let Ok(corpus) = toml::from_str::<CorpusFile>(&std::fs::read_to_string(&path).unwrap())
        else {
            continue;
        };
        for case in corpus.case {
            for (name, text) in case.policies {
                texts.push((format!("{}: `{}`: {name}", path.display(), case.name), text));
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
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    for (label, text) in &texts {
        for f in lint("p", text, 5120) {
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
