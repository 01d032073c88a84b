//! Persona presets: the user roles of the seeds' ML landing zone as permission-set
//! defaults (`data/identity/personas.toml`, its shape documented at the top of that
//! file, and the inline policies in `data/identity/personas/*.json`), embedded at build
//! time. `persona = "KEY"` on a permission set fills what the declaration leaves out;
//! `[blueprint] personas` gives each project a group per persona, assigned per stage.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

const PERSONAS_TOML: &str = include_str!("../../data/identity/personas.toml");

/// The inline policy documents `personas.toml` names, by their path relative to it.
/// A test checks this table and the file agree both ways.
const DOCUMENTS: &[(&str, &str)] = &[
    (
        "personas/data_scientist.json",
        include_str!("../../data/identity/personas/data_scientist.json"),
    ),
    (
        "personas/ml_read_only.json",
        include_str!("../../data/identity/personas/ml_read_only.json"),
    ),
    (
        "personas/data_engineer.json",
        include_str!("../../data/identity/personas/data_engineer.json"),
    ),
    (
        "personas/mlops_engineer.json",
        include_str!("../../data/identity/personas/mlops_engineer.json"),
    ),
    (
        "personas/security_auditor.json",
        include_str!("../../data/identity/personas/security_auditor.json"),
    ),
];

/// Whose group a persona's preset describes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Scope {
    /// One group per project: `<project>-<group>`.
    Project,
    /// One group for the whole organization: `<group>`.
    Organization,
}

/// One `[persona.KEY]` of the file (`sources` and `landfall_choices` are for readers).
#[derive(Debug, Deserialize)]
pub(crate) struct Persona {
    /// The suggested permission set name.
    pub permission_set: String,
    pub description: String,
    pub session_duration: String,
    /// AWS-managed policy ARNs.
    #[serde(default)]
    pub managed_policies: Vec<String>,
    /// Relative to `personas.toml`.
    pub inline_policy: Option<String>,
    /// Absent for a companion (a set with no group of its own).
    pub scope: Option<Scope>,
    /// The group's display name (suffix, see `scope`).
    pub group: Option<String>,
    /// Stage → the persona whose permission set the group gets in that stage.
    #[serde(default)]
    pub stages: BTreeMap<String, String>,
}

impl Persona {
    /// The inline policy document's text, if the preset has one.
    pub(crate) fn inline_policy_text(&self) -> Option<&'static str> {
        let path = self.inline_policy.as_deref()?;
        DOCUMENTS.iter().find(|(p, _)| *p == path).map(|(_, t)| *t)
    }

    /// The display name of this persona's group in `project` (`None`: organization).
    pub(crate) fn group_name(&self, project: &str) -> Option<String> {
        let group = self.group.as_deref()?;
        match self.scope? {
            Scope::Project => Some(format!("{project}-{group}")),
            Scope::Organization => Some(group.to_string()),
        }
    }
}

#[derive(Deserialize)]
struct File {
    persona: BTreeMap<String, Persona>,
}

/// The presets, by key; empty (and a test failure) if the embedded file is unreadable.
static PERSONAS: LazyLock<BTreeMap<String, Persona>> = LazyLock::new(|| {
    toml::from_str::<File>(PERSONAS_TOML)
        .map(|f| f.persona)
        .unwrap_or_default()
});

pub(crate) fn get(key: &str) -> Option<&'static Persona> {
    PERSONAS.get(key)
}

/// Every preset's key, sorted.
pub(crate) fn keys() -> Vec<&'static str> {
    PERSONAS.keys().map(String::as_str).collect()
}

/// "`a`, `b` and `c`": the known personas, for hints.
pub(crate) fn known_list() -> String {
    keys()
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::identity::managed_policies;

    #[test]
    fn the_embedded_presets_are_complete() {
        toml::from_str::<File>(PERSONAS_TOML).expect("personas.toml reads");
        assert!(keys().len() >= 5, "{:?}", keys());
        for (key, p) in PERSONAS.iter() {
            if let Some(path) = &p.inline_policy {
                assert!(
                    p.inline_policy_text().is_some(),
                    "{key}: {path} is not in DOCUMENTS"
                );
            }
            for arn in &p.managed_policies {
                assert_eq!(managed_policies::resolve(arn).as_deref(), Ok(arn.as_str()));
            }
            for target in p.stages.values() {
                assert!(get(target).is_some(), "{key}: stage persona {target}");
            }
            assert_eq!(
                p.scope.is_some(),
                p.group.is_some(),
                "{key}: scope and group"
            );
            assert!(super::super::permission_sets::session_minutes(&p.session_duration).is_ok());
            assert!(super::super::permission_sets::name_problem(&p.permission_set).is_none());
        }
        // Every embedded document is one the file names, and is JSON.
        for (path, text) in DOCUMENTS {
            assert!(
                PERSONAS
                    .values()
                    .any(|p| p.inline_policy.as_deref() == Some(*path)),
                "{path} is named by no persona"
            );
            serde_json::from_str::<serde_json::Value>(text).expect(path);
            let canonical = landfall_core::model::canonical_json(text);
            assert_eq!(
                super::super::inline_policy::size_problem(&canonical),
                None,
                "{path}"
            );
        }
        // And every document shipped is embedded.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/identity/personas");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            let path = format!("personas/{name}");
            assert!(
                DOCUMENTS.iter().any(|(p, _)| *p == path),
                "{path} is not embedded"
            );
        }
    }

    #[test]
    fn the_preset_documents_lint_clean_as_identity_policies() {
        for (path, text) in DOCUMENTS {
            let errors: Vec<_> = super::super::inline_policy::lint(path, text)
                .into_iter()
                .filter(|f| f.severity == landfall_policy::Severity::Error)
                .map(|f| format!("{}: {}", f.code, f.message))
                .collect();
            assert!(errors.is_empty(), "{path}: {errors:?}");
        }
    }
}
