//! Drift of the security family: recorded resources gone or changed outside
//! Landfall — trusted access disabled, a delegated administrator deregistered, a
//! trail deleted or no longer logging, a bucket's policy, encryption or public access
//! block loosened, an aggregator or analyzer deleted or changed.

use crate::attrs::diff_attrs;
use crate::drift_report::{DriftClass, Finding};
use crate::kind::SecurityKind;
use crate::live::LiveState;
use crate::state::StateFile;

use super::attrs::live_attrs;

pub fn drift_findings(live: &LiveState, state: &StateFile) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !live.security.read {
        return findings;
    }
    for (address, rec) in &state.resources {
        let Some(kind) = address.security_kind() else {
            continue;
        };
        let id = Some(rec.id.as_str());
        let Some(now) = live_attrs(&live.security, address, rec, state) else {
            let (code, message) = match kind {
                SecurityKind::ServiceAccess(p) => (
                    "TRUSTED_ACCESS_DISABLED",
                    format!("trusted access for {p} was disabled outside Landfall"),
                ),
                SecurityKind::DelegatedAdmin(p) => (
                    "DELEGATED_ADMINISTRATOR_REMOVED",
                    format!("{p}'s delegated administrator was deregistered outside Landfall"),
                ),
                SecurityKind::Bucket(_) => (
                    "LOG_BUCKET_DELETED",
                    "the bucket was deleted outside Landfall".to_string(),
                ),
                SecurityKind::Trail(_) => (
                    "TRAIL_DELETED",
                    "the trail was deleted outside Landfall".to_string(),
                ),
                SecurityKind::ConfigAggregator(_) => (
                    "CONFIG_AGGREGATOR_DELETED",
                    "the aggregator was deleted outside Landfall".to_string(),
                ),
                SecurityKind::AccessAnalyzer(_) => (
                    "ANALYZER_DELETED",
                    "the analyzer was deleted outside Landfall".to_string(),
                ),
            };
            findings.push(Finding::new(
                DriftClass::Missing,
                address,
                id,
                Some(code.into()),
                message,
                vec![],
            ));
            continue;
        };
        let diffs = diff_attrs(&rec.attributes, &now, &[]);
        if diffs.is_empty() {
            continue;
        }
        let changed = |a: &str| diffs.iter().any(|d| d.attribute == a);
        let (code, message) = match kind {
            SecurityKind::Trail(_) if changed("logging") => (
                Some("TRAIL_LOGGING_STOPPED"),
                "logging was stopped outside Landfall: API activity is not recorded".to_string(),
            ),
            SecurityKind::Bucket(_) if changed("policy") => (
                Some("LOG_BUCKET_POLICY_CHANGED"),
                "the bucket policy was changed outside Landfall".to_string(),
            ),
            SecurityKind::Bucket(_)
                if changed("public_access_blocked") || changed("kms_key") || changed("versioning") =>
            {
                (
                    Some("LOG_BUCKET_PROTECTION_CHANGED"),
                    "the bucket's protection (encryption, versioning or public access block) was changed outside Landfall".to_string(),
                )
            }
            SecurityKind::DelegatedAdmin(p) if changed("regions") => {
                let now_in = super::attrs::recorded_regions(&now);
                let lost: Vec<String> = super::attrs::recorded_regions(&rec.attributes)
                    .into_iter()
                    .filter(|r| !now_in.contains(r))
                    .collect();
                (
                    Some("DELEGATED_ADMINISTRATOR_REMOVED_IN_REGION"),
                    format!(
                        "{p}'s delegated administrator was disabled outside Landfall in {}: the organization's accounts there are not administered",
                        lost.join(", ")
                    ),
                )
            }
            SecurityKind::ServiceAccess(_)
            | SecurityKind::DelegatedAdmin(_)
            | SecurityKind::Bucket(_)
            | SecurityKind::Trail(_)
            | SecurityKind::ConfigAggregator(_)
            | SecurityKind::AccessAnalyzer(_) => (None, "changed outside Landfall".to_string()),
        };
        findings.push(Finding::new(
            DriftClass::Changed,
            address,
            id,
            code.map(str::to_string),
            message,
            diffs,
        ));
    }
    findings
}
