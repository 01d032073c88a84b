//! Drift of the governance layer against the state file: controls disabled, drifted,
//! failed or with other parameters; OUs deregistered, or registrations drifted or failed; portfolios deleted or edited; shares removed.

use serde_json::Value;

use crate::attrs::{AttrDiff, diff_attrs};
use crate::drift_report::{DriftClass, Finding};
use crate::kind::GovernanceKind;
use crate::live::{ControlStatus, LiveState};
use crate::state::StateFile;

use super::attrs::{find_registration, find_share, live_control_attrs, live_portfolio_attrs};
use super::registration::unenrolled_accounts;

/// Drift of the governance layer against the state file: controls disabled, drifted,
/// failed or with other parameters; portfolios deleted or edited; shares removed.
pub fn drift_findings(live: &LiveState, state: &StateFile) -> Vec<Finding> {
    let mut out = Vec::new();
    if !live.governance.read {
        return out;
    }
    for (address, rec) in &state.resources {
        let id = rec.id.as_str();
        let finding = |class, ct: Option<&str>, message: String, diffs: Vec<AttrDiff>| Finding {
            class,
            address: address.clone(),
            id: Some(id.to_string()),
            control_tower_drift_type: ct.map(str::to_string),
            message,
            diffs,
        };
        let Some(kind) = address.governance_kind() else {
            continue;
        };
        match kind {
            GovernanceKind::Control(short, ou) => {
                match live
                    .governance
                    .enabled_controls
                    .iter()
                    .find(|c| c.arn == id)
                {
                    None => out.push(finding(
                        DriftClass::Missing,
                        Some("CONTROL_DISABLED"),
                        format!("control {short} was disabled on ou.{ou} outside Landfall"),
                        vec![],
                    )),
                    Some(c) => {
                        let ou_text = rec
                            .attributes
                            .get("ou")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let diffs = diff_attrs(
                            &rec.attributes,
                            &live_control_attrs(c, &ou_text),
                            &["parameters"],
                        );
                        if c.drifted {
                            out.push(finding(
                                DriftClass::Changed,
                                Some("CONTROL_DRIFTED"),
                                format!("Control Tower reports control {short} on ou.{ou} as drifted (its resources were changed outside Control Tower); `landfall apply` resets it"),
                                diffs,
                            ));
                        } else if c.status == ControlStatus::Failed {
                            out.push(finding(
                                DriftClass::Changed,
                                None,
                                format!("control {short} on ou.{ou} is in a FAILED state"),
                                diffs,
                            ));
                        } else if !diffs.is_empty() {
                            out.push(finding(
                                DriftClass::Changed,
                                None,
                                format!("the parameters of control {short} on ou.{ou} were changed outside Landfall"),
                                diffs,
                            ));
                        }
                    }
                }
            }
            // Baselines not read (no `[control_tower]` any more): nothing to say.
            GovernanceKind::Registration(_) if live.governance.baselines.is_none() => {}
            GovernanceKind::Registration(ou) => match find_registration(live, id) {
                None => out.push(finding(
                    DriftClass::Missing,
                    Some("OU_DEREGISTERED"),
                    format!("ou.{ou} was deregistered from Control Tower outside Landfall; its controls and account enrollment lapse"),
                    vec![],
                )),
                Some(b) if b.drifted => out.push(finding(
                    DriftClass::Changed,
                    Some("BASELINE_DRIFTED"),
                    format!("Control Tower reports the registration of ou.{ou} as drifted; `landfall apply` re-registers it"),
                    vec![],
                )),
                Some(b) if b.status == ControlStatus::Failed => out.push(finding(
                    DriftClass::Changed,
                    None,
                    format!("the registration of ou.{ou} is in a FAILED state; `landfall apply` re-registers it"),
                    vec![],
                )),
                Some(b) => {
                    let unenrolled: Vec<String> = unenrolled_accounts(live, b)
                        .into_iter()
                        .map(|(_, name)| name)
                        .collect();
                    if !unenrolled.is_empty() {
                        out.push(finding(
                            DriftClass::Changed,
                            Some("ACCOUNT_NOT_ENROLLED"),
                            format!(
                                "ou.{ou} holds accounts Control Tower has not enrolled ({}): they came in through AWS Organizations; `landfall apply` resets the registration to enroll them",
                                unenrolled.join(", ")
                            ),
                            vec![],
                        ));
                    }
                }
            },
            GovernanceKind::Portfolio(_) => match live.governance.portfolios.get(id) {
                None => out.push(finding(
                    DriftClass::Missing,
                    None,
                    format!("portfolio {id} was deleted outside Landfall"),
                    vec![],
                )),
                Some(p) if !rec.attributes.contains_key("id") => {
                    let diffs = diff_attrs(&rec.attributes, &live_portfolio_attrs(p), &[]);
                    if !diffs.is_empty() {
                        out.push(finding(
                            DriftClass::Changed,
                            None,
                            format!("portfolio {id} was edited outside Landfall"),
                            diffs,
                        ));
                    }
                }
                Some(_) => {}
            },
            GovernanceKind::PortfolioShare(..) if find_share(live, id).is_none() => {
                out.push(finding(
                    DriftClass::Missing,
                    None,
                    "the portfolio share was removed outside Landfall".into(),
                    vec![],
                ));
            }
            GovernanceKind::PortfolioShare(..) => {}
        }
    }
    out
}
