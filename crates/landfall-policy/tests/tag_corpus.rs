//! The tag policy corpus (`tests/corpus/tags-*.toml`): effective tag policies over
//! root → OUs → account, as AWS documents the inheritance operators, and compliance
//! checks against them; plus property tests of the merge.
//!
//! A file holds an optional `[policies]` table (name → JSON) its cases share, and
//! `[[case]]`s: `name`, `source` (the AWS page a documented example comes from, or
//! what the case varies), optional `[case.policies]`, `levels` (root first, each
//! `{ name, policies = [names] }`), `expect` (the effective policy's JSON, as
//! `DescribeEffectivePolicy` shows it), optional `ignored` (how many operators the
//! parents' `@@operators_allowed_for_child_policies` kept out), optional
//! `[case.sources]` (`"key/setting/value" = "level/policy"`, `value` omitted for
//! `tag_key`), and optional `[[case.check]]`s (`resource`, `tags`, `compliant`,
//! `enforced`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use landfall_policy::{
    EffectiveTagPolicy, SettingName, TagLevel, TagPolicy, effective_tag_policy, parse_tag_policy,
};
use proptest::prelude::*;
use serde::Deserialize;

const MIN_CASES: usize = 60;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[serde(default)]
    policies: BTreeMap<String, String>,
    #[serde(default)]
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[allow(dead_code)]
    source: String,
    #[serde(default)]
    policies: BTreeMap<String, String>,
    levels: Vec<CaseLevel>,
    expect: String,
    #[serde(default)]
    ignored: Option<usize>,
    #[serde(default)]
    sources: BTreeMap<String, String>,
    #[serde(default)]
    check: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseLevel {
    name: String,
    policies: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    resource: String,
    tags: BTreeMap<String, String>,
    compliant: bool,
    enforced: bool,
}

fn corpus_files() -> Vec<(String, CorpusFile)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/corpus exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("tags-") && n.ends_with(".toml")
            })
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            let label = file.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(file).unwrap();
            let corpus: CorpusFile =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{label}: not a corpus file: {e}"));
            (label, corpus)
        })
        .collect()
}

fn source_of(eff: &EffectiveTagPolicy, path: &str) -> Result<String, String> {
    let parts: Vec<&str> = path.splitn(3, '/').collect();
    let tag = eff
        .tags
        .get(parts[0])
        .ok_or_else(|| format!("no key `{}`", parts[0]))?;
    let found = match (parts.get(1).copied(), parts.get(2)) {
        (Some("tag_key"), None) => tag.tag_key.as_ref(),
        (Some(setting), Some(value)) => {
            let name = SettingName::LISTS
                .into_iter()
                .find(|n| n.as_str() == setting)
                .ok_or_else(|| format!("no setting `{setting}`"))?;
            tag.lists
                .get(&name)
                .and_then(|l| l.iter().find(|s| &s.value == value))
        }
        _ => return Err(format!("bad source path `{path}`")),
    };
    found
        .map(|s| format!("{}/{}", s.level, s.policy))
        .ok_or_else(|| format!("`{path}` is not in the effective policy"))
}

fn run_case(shared: &BTreeMap<String, String>, case: &Case) -> Result<(), String> {
    let mut parsed: BTreeMap<&str, TagPolicy> = BTreeMap::new();
    for (name, text) in shared.iter().chain(&case.policies) {
        if shared.contains_key(name) && case.policies.contains_key(name) {
            return Err(format!("policy `{name}` defined twice"));
        }
        let p = parse_tag_policy(name, text).map_err(|f| format!("policy `{name}`: {}", f[0]))?;
        parsed.insert(name, p);
    }
    let mut levels = Vec::new();
    for l in &case.levels {
        let mut policies = Vec::new();
        for p in &l.policies {
            policies.push(
                parsed
                    .get(p.as_str())
                    .ok_or_else(|| format!("unknown policy `{p}`"))?,
            );
        }
        levels.push(TagLevel {
            name: l.name.clone(),
            policies,
        });
    }
    let eff = effective_tag_policy(&levels);
    let want: serde_json::Value =
        serde_json::from_str(&case.expect).map_err(|e| format!("expect: {e}"))?;
    let got = eff.to_json();
    if got != want {
        return Err(format!("effective policy\n  got  {got}\n  want {want}"));
    }
    if let Some(n) = case.ignored
        && eff.ignored.len() != n
    {
        return Err(format!("ignored {:?}, want {n}", eff.ignored));
    }
    for (path, want) in &case.sources {
        let got = source_of(&eff, path)?;
        if &got != want {
            return Err(format!("source of `{path}`: got {got}, want {want}"));
        }
    }
    for c in &case.check {
        let r = eff.check(&c.resource, &c.tags);
        if r.compliant() != c.compliant || r.enforced() != c.enforced {
            return Err(format!(
                "check {} {:?}: compliant={} enforced={} ({:?}), want compliant={} enforced={}",
                c.resource,
                c.tags,
                r.compliant(),
                r.enforced(),
                r.violations,
                c.compliant,
                c.enforced
            ));
        }
    }
    Ok(())
}

#[test]
fn tag_corpus() {
    let mut total = 0;
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for (label, file) in corpus_files() {
        for case in &file.case {
            total += 1;
            if !names.insert(case.name.clone()) {
                failures.push(format!("{label}: duplicate case name `{}`", case.name));
            }
            if let Err(e) = run_case(&file.policies, case) {
                failures.push(format!("{label}: {}: {e}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        total >= MIN_CASES,
        "{total} tag policy cases, want ≥ {MIN_CASES}"
    );
}

fn list_policy(name: &str, op: &str, values: &[String]) -> TagPolicy {
    let v = serde_json::json!({"tags": {"cc": {"tag_value": {op: values}}}});
    parse_tag_policy(name, &v.to_string()).unwrap()
}

proptest! {
    /// One level of `@@assign`-only policies: the effective policy is the last
    /// assignment of each key with the operators stripped.
    #[test]
    fn single_level_strips_operators(
        keys in proptest::collection::btree_map("[a-z]{1,6}", proptest::collection::vec("[A-Za-z0-9]{1,5}", 1..4), 1..4)
    ) {
        let mut tags = serde_json::Map::new();
        let mut want = serde_json::Map::new();
        for (k, vs) in &keys {
            let mut dedup: Vec<String> = Vec::new();
            for v in vs { if !dedup.contains(v) { dedup.push(v.clone()); } }
            tags.insert(k.clone(), serde_json::json!({"tag_key": {"@@assign": k}, "tag_value": {"@@assign": vs}}));
            want.insert(k.clone(), serde_json::json!({"tag_key": k, "tag_value": dedup}));
        }
        let p = parse_tag_policy("p", &serde_json::json!({"tags": tags}).to_string()).unwrap();
        let eff = effective_tag_policy(&[TagLevel { name: "root".into(), policies: vec![&p] }]);
        prop_assert_eq!(eff.to_json(), serde_json::json!({"tags": want}));
    }

    /// A child appending new values and a grandchild removing them leaves the
    /// parent's list.
    #[test]
    fn append_then_remove_restores_the_parent(
        parent in proptest::collection::btree_set("[a-z]{1,4}", 1..5),
        extra in proptest::collection::btree_set("[A-Z]{1,4}", 1..5),
    ) {
        let parent: Vec<String> = parent.into_iter().collect();
        let extra: Vec<String> = extra.into_iter().collect();
        let a = list_policy("A", "@@assign", &parent);
        let b = list_policy("B", "@@append", &extra);
        let c = list_policy("C", "@@remove", &extra);
        let eff = effective_tag_policy(&[
            TagLevel { name: "root".into(), policies: vec![&a] },
            TagLevel { name: "ou".into(), policies: vec![&b] },
            TagLevel { name: "account".into(), policies: vec![&c] },
        ]);
        prop_assert_eq!(eff.to_json(), serde_json::json!({"tags": {"cc": {"tag_value": parent}}}));
    }
}
