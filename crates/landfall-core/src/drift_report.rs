//! The drift report format: findings classified as changed, missing, moved, unmanaged
//! or pending, as `landfall drift` prints them (JSON format in `docs/drift-job.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::attrs::AttrDiff;
use crate::live::WorldIdentity;

pub const DRIFT_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// Attributes differ from the last apply.
    Changed,
    /// Deleted (or detached) outside Landfall.
    Missing,
    /// An account now lives in another OU.
    Moved,
    /// Exists inside the managed scope but is not managed.
    Unmanaged,
    /// The desired state changed and was not applied yet (not tampering).
    Pending,
}

impl DriftClass {
    pub fn name(self) -> &'static str {
        match self {
            DriftClass::Changed => "changed",
            DriftClass::Missing => "missing",
            DriftClass::Moved => "moved",
            DriftClass::Unmanaged => "unmanaged",
            DriftClass::Pending => "pending",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub class: DriftClass,
    pub address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The AWS Control Tower drift type this corresponds to, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_tower_drift_type: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<AttrDiff>,
}

impl Finding {
    pub fn new(
        class: DriftClass,
        address: &Address,
        id: Option<&str>,
        control_tower_drift_type: Option<String>,
        message: String,
        diffs: Vec<AttrDiff>,
    ) -> Finding {
        Finding {
            class,
            address: address.clone(),
            id: id.map(str::to_string),
            control_tower_drift_type,
            message,
            diffs,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub format_version: u32,
    pub landing_zone: String,
    pub world: WorldIdentity,
    /// Sorted by class, then address.
    pub findings: Vec<Finding>,
    pub summary: BTreeMap<DriftClass, usize>,
    /// What the reader can run next when there is drift: restore the desired state,
    /// or accept the live values. Filled by the caller, which knows the command line
    /// (`-c`, `--backend`, ...) the report was made with; empty without drift.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_commands: Vec<NextCommand>,
}

/// A command line to copy, and what it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextCommand {
    pub command: String,
    pub does: String,
}

impl DriftReport {
    pub fn has_drift(&self) -> bool {
        !self.findings.is_empty()
    }

    /// Removes the findings whose address matches one of the glob patterns (known
    /// exceptions, e.g. `account.sandbox-*` or `endpoint.*.kms`); returns how many.
    pub fn ignore(&mut self, patterns: &[String]) -> Result<usize, String> {
        if patterns.is_empty() {
            return Ok(0);
        }
        let mut builder = globset::GlobSetBuilder::new();
        for p in patterns {
            let glob = globset::GlobBuilder::new(p)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("ignore pattern `{p}`: {e}"))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        let before = self.findings.len();
        self.findings
            .retain(|f| !set.is_match(f.address.to_string()));
        self.summary.clear();
        for f in &self.findings {
            *self.summary.entry(f.class).or_insert(0) += 1;
        }
        Ok(before - self.findings.len())
    }
}
