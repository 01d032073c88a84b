//! Control Tower controls on OUs: `EnableControl`, `DisableControl`,
//! `UpdateEnabledControl`, `ResetEnabledControl` (each starts an operation polled with
//! `GetControlOperation`), and the read of the controls enabled on the OUs in scope
//! (`ListEnabledControls` per OU, then `GetEnabledControl` per enabled control for its
//! parameters).
//!
//! Control Tower names an OU by its ARN,
//! `arn:<partition>:organizations::<management account>:ou/<org id>/<ou id>`; Landfall
//! by its id. The ARN is built from the caller's identity (read once per run).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_controltower::types::{
    ControlOperationStatus, DriftStatus, EnabledControlParameter, EnabledControlSummary,
    EnablementStatus,
};
use aws_smithy_types::{Document, Number};
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::live::{ControlStatus, LiveEnabledControl, LiveLandingZone, control_short_id};
use landfall_engine::provider::{ErrorKind, OperationStatus, ProviderError, ProviderResult};
use serde_json::Value;

use crate::AwsBackend;
use crate::errors::empty_response;
use crate::governance::CONTROLTOWER;

const CT: &str = CONTROLTOWER;

/// A JSON value as a Smithy document (control parameters).
pub(crate) fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (None, Some(i)) => Number::NegInt(i),
            _ => Number::Float(n.as_f64().unwrap_or_default()),
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(items) => Document::Array(items.iter().map(to_document).collect()),
        Value::Object(map) => Document::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), to_document(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// A Smithy document as a JSON value (object keys sorted).
pub(crate) fn to_json(doc: &Document) -> Value {
    match doc {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => Value::from(*u),
        Document::Number(Number::NegInt(i)) => Value::from(*i),
        Document::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Document::String(s) => Value::String(s.clone()),
        Document::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Document::Object(map) => {
            let sorted: BTreeMap<&String, &Document> = map.iter().collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k.clone(), to_json(v)))
                    .collect(),
            )
        }
    }
}

fn parameters_of(
    api: &'static str,
    parameters: &BTreeMap<String, Value>,
) -> ProviderResult<Option<Vec<EnabledControlParameter>>> {
    if parameters.is_empty() {
        return Ok(None);
    }
    parameters
        .iter()
        .map(|(k, v)| {
            EnabledControlParameter::builder()
                .key(k)
                .value(to_document(v))
                .build()
                .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `arn:aws:organizations::111111111111:ou/o-abc/ou-ab12-34567890` → `ou-ab12-34567890`
/// (and an account's `...:account/o-abc/222222222222` → `222222222222`).
pub(crate) fn ou_id_of(target_arn: &str) -> &str {
    target_arn.rsplit('/').next().unwrap_or(target_arn)
}

impl AwsBackend {
    /// The ARN Control Tower names an OU by.
    pub(crate) async fn ou_arn(&self, ou_id: &str) -> ProviderResult<String> {
        let me = self.caller().await?;
        let partition = me.arn.split(':').nth(1).filter(|p| !p.is_empty());
        Ok(format!(
            "arn:{}:organizations::{}:ou/{}/{}",
            partition.unwrap_or("aws"),
            me.management_account_id,
            me.organization_id,
            ou_id
        ))
    }

    /// Every control enabled on one target (an OU ARN).
    async fn list_enabled(&self, target_arn: &str) -> ProviderResult<Vec<EnabledControlSummary>> {
        let ct = &self.gov("ListEnabledControls")?.ct;
        let pages = self
            .gov_pages(
                CT,
                "ListEnabledControls",
                |token| {
                    ct.list_enabled_controls()
                        .target_identifier(target_arn)
                        .set_next_token(token)
                        .send()
                },
                |page| page.next_token().map(str::to_string),
            )
            .await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.enabled_controls().iter().cloned())
            .collect())
    }
}

/// An enablement status (of an enabled control or baseline); none or an unknown one is
/// under change.
pub(crate) fn status_of(s: Option<&EnablementStatus>) -> ControlStatus {
    match s {
        Some(EnablementStatus::Succeeded) => ControlStatus::Succeeded,
        Some(EnablementStatus::Failed) => ControlStatus::Failed,
        _ => ControlStatus::UnderChange,
    }
}

/// The landing zone of the home region (`ListLandingZones`, which lists at most one,
/// then `GetLandingZone`: status, drift, version and the Security OU named in its
/// manifest), `None` when Control Tower is not set up there.
/// An endpoint with no Control Tower behind it (moto has none; AWS always answers
/// with a coded error) is none either: the organization trail's plan asks whether
/// Control Tower owns it, also where Control Tower cannot be.
pub(crate) async fn landing_zone(aws: &AwsBackend) -> ProviderResult<Option<LiveLandingZone>> {
    let ct = &aws.gov("ListLandingZones")?.ct;
    let listed = aws
        .gov_read(CT, "ListLandingZones", || async {
            match ct.list_landing_zones().send().await {
                Ok(listed) => Ok(Some(listed)),
                Err(e) if crate::errors::unrouted(&e) || crate::errors::unserved(&e) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await?;
    let Some(arn) = listed
        .as_ref()
        .and_then(|l| l.landing_zones().iter().find_map(|z| z.arn()))
    else {
        return Ok(None);
    };
    let out = aws
        .gov_read(CT, "GetLandingZone", || {
            ct.get_landing_zone().landing_zone_identifier(arn).send()
        })
        .await?;
    Ok(out.landing_zone().map(|lz| LiveLandingZone {
        arn: lz.arn().unwrap_or(arn).to_string(),
        status: lz
            .status()
            .map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string()),
        drift_status: lz
            .drift_status()
            .and_then(|d| d.status())
            .map(|s| s.as_str().to_string()),
        version: lz.version().to_string(),
        security_ou: security_ou(lz.manifest()),
    }))
}

/// The Security OU's name in a landing zone manifest,
/// `organizationStructure.security.name`.
fn security_ou(manifest: &Document) -> Option<String> {
    let mut node = manifest;
    for key in ["organizationStructure", "security", "name"] {
        let Document::Object(map) = node else {
            return None;
        };
        node = map.get(key)?;
    }
    match node {
        Document::String(name) if !name.is_empty() => Some(name.clone()),
        _ => None,
    }
}

/// The enabled controls of the OUs `ou_ids`, with parameters, status and drift; sorted
/// by OU, then control.
pub(crate) async fn enabled_controls(
    aws: &AwsBackend,
    ou_ids: &[String],
) -> ProviderResult<Vec<LiveEnabledControl>> {
    if ou_ids.is_empty() {
        return Ok(Vec::new());
    }
    let summaries: Vec<(String, EnabledControlSummary)> = stream::iter(ou_ids.to_vec())
        .map(|ou_id| async move {
            let arn = aws.ou_arn(&ou_id).await?;
            let found = aws.list_enabled(&arn).await?;
            Ok::<_, ProviderError>(
                found
                    .into_iter()
                    .map(|s| (ou_id.clone(), s))
                    .collect::<Vec<_>>(),
            )
        })
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    let mut out: Vec<LiveEnabledControl> = stream::iter(summaries)
        .map(|(ou_id, summary)| async move { enabled_control(aws, &ou_id, &summary).await })
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect()
        .await?;
    out.sort_by(|a, b| {
        (&a.target_id, &a.control_arn, &a.arn).cmp(&(&b.target_id, &b.control_arn, &b.arn))
    });
    Ok(out)
}

/// One enabled control, its parameters read with `GetEnabledControl`.
async fn enabled_control(
    aws: &AwsBackend,
    ou_id: &str,
    summary: &EnabledControlSummary,
) -> ProviderResult<LiveEnabledControl> {
    let arn = summary
        .arn()
        .ok_or_else(|| empty_response("ListEnabledControls", "enabled control ARN"))?;
    let ct = &aws.gov("GetEnabledControl")?.ct;
    let out = aws
        .gov_read(CT, "GetEnabledControl", || {
            ct.get_enabled_control()
                .enabled_control_identifier(arn)
                .send()
        })
        .await?;
    let details = out.enabled_control_details();
    let parameters = details
        .map(|d| {
            d.parameters()
                .iter()
                .map(|p| (p.key().to_string(), to_json(p.value())))
                .collect()
        })
        .unwrap_or_default();
    // The details are the newer read; the summary is the fallback.
    let status = details
        .and_then(|d| d.status_summary())
        .or(summary.status_summary())
        .and_then(|s| s.status());
    let drift = details
        .and_then(|d| d.drift_status_summary())
        .or(summary.drift_status_summary())
        .and_then(|d| d.drift_status());
    let target_id = summary
        .target_identifier()
        .map(ou_id_of)
        .unwrap_or(ou_id)
        .to_string();
    Ok(LiveEnabledControl {
        arn: arn.to_string(),
        control_arn: summary
            .control_identifier()
            .or(details.and_then(|d| d.control_identifier()))
            .unwrap_or_default()
            .to_string(),
        target_id,
        parameters,
        status: status_of(status),
        drifted: matches!(drift, Some(DriftStatus::Drifted)),
    })
}

pub(crate) async fn enable(
    aws: &AwsBackend,
    control_arn: &str,
    ou_id: &str,
    parameters: &BTreeMap<String, Value>,
) -> ProviderResult<String> {
    let ct = &aws.gov("EnableControl")?.ct;
    let target = aws.ou_arn(ou_id).await?;
    let out = aws
        .gov_write(
            CT,
            "EnableControl",
            ct.enable_control()
                .control_identifier(control_arn)
                .target_identifier(target)
                .set_parameters(parameters_of("EnableControl", parameters)?)
                .send(),
        )
        .await?;
    Ok(out.operation_identifier().to_string())
}

pub(crate) async fn disable(
    aws: &AwsBackend,
    control_arn: &str,
    ou_id: &str,
) -> ProviderResult<String> {
    let ct = &aws.gov("DisableControl")?.ct;
    let target = aws.ou_arn(ou_id).await?;
    let out = aws
        .gov_write(
            CT,
            "DisableControl",
            ct.disable_control()
                .control_identifier(control_arn)
                .target_identifier(target)
                .send(),
        )
        .await?;
    Ok(out.operation_identifier().to_string())
}

pub(crate) async fn update(
    aws: &AwsBackend,
    enabled_control_arn: &str,
    parameters: &BTreeMap<String, Value>,
) -> ProviderResult<String> {
    let ct = &aws.gov("UpdateEnabledControl")?.ct;
    // `parameters` is required: an empty list removes every parameter.
    let parameters = parameters_of("UpdateEnabledControl", parameters)?.unwrap_or_default();
    let out = aws
        .gov_write(
            CT,
            "UpdateEnabledControl",
            ct.update_enabled_control()
                .enabled_control_identifier(enabled_control_arn)
                .set_parameters(Some(parameters))
                .send(),
        )
        .await?;
    Ok(out.operation_identifier().to_string())
}

pub(crate) async fn reset(aws: &AwsBackend, enabled_control_arn: &str) -> ProviderResult<String> {
    let ct = &aws.gov("ResetEnabledControl")?.ct;
    let out = aws
        .gov_write(
            CT,
            "ResetEnabledControl",
            ct.reset_enabled_control()
                .enabled_control_identifier(enabled_control_arn)
                .send(),
        )
        .await?;
    Ok(out.operation_identifier().to_string())
}

pub(crate) async fn operation(
    aws: &AwsBackend,
    operation_id: &str,
) -> ProviderResult<OperationStatus> {
    let ct = &aws.gov("GetControlOperation")?.ct;
    let out = aws
        .gov_read(CT, "GetControlOperation", || {
            ct.get_control_operation()
                .operation_identifier(operation_id)
                .send()
        })
        .await?;
    let Some(op) = out.control_operation() else {
        return Ok(OperationStatus::InProgress);
    };
    Ok(match op.status() {
        Some(ControlOperationStatus::Succeeded) => OperationStatus::Succeeded { account_id: None },
        Some(ControlOperationStatus::Failed) => OperationStatus::Failed {
            message: op
                .status_message()
                .filter(|m| !m.is_empty())
                .unwrap_or("the control operation failed (no message)")
                .to_string(),
        },
        _ => OperationStatus::InProgress,
    })
}

/// The enabled control's ARN of `control_arn` on the OU, if it is enabled there.
pub(crate) async fn enabled_control_arn(
    aws: &AwsBackend,
    control_arn: &str,
    ou_id: &str,
) -> ProviderResult<Option<String>> {
    let target = aws.ou_arn(ou_id).await?;
    let found = aws.list_enabled(&target).await?;
    let exact = found
        .iter()
        .find(|s| s.control_identifier() == Some(control_arn));
    // Control Tower may report a legacy control by its Control Catalog ARN, or the
    // other way round: the short identifier still matches.
    let same_id = || {
        found.iter().find(|s| {
            s.control_identifier()
                .is_some_and(|c| control_short_id(c) == control_short_id(control_arn))
        })
    };
    Ok(exact
        .or_else(same_id)
        .and_then(|s| s.arn())
        .map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_through_documents() {
        let v = serde_json::json!({
            "AllowedRegions": ["us-east-1", "eu-west-1"],
            "Limit": 3,
            "Offset": -2,
            "Ratio": 0.5,
            "On": true,
            "Nothing": null,
        });
        assert_eq!(to_json(&to_document(&v)), v);
    }

    #[test]
    fn the_security_ou_comes_out_of_the_manifest() {
        let manifest = to_document(&serde_json::json!({
            "governedRegions": ["us-east-1"],
            "organizationStructure": {
                "security": {"name": "Core"},
                "sandbox": {"name": "Sandbox"}
            }
        }));
        assert_eq!(security_ou(&manifest).as_deref(), Some("Core"));
        let without = to_document(&serde_json::json!({"organizationStructure": {}}));
        assert_eq!(security_ou(&without), None);
        assert_eq!(security_ou(&Document::Null), None);
    }

    #[test]
    fn ou_ids_come_out_of_target_arns() {
        assert_eq!(
            ou_id_of("arn:aws:organizations::111111111111:ou/o-abc/ou-ab12-34567890"),
            "ou-ab12-34567890"
        );
        assert_eq!(
            ou_id_of("arn:aws:organizations::111111111111:account/o-abc/222222222222"),
            "222222222222"
        );
        assert_eq!(ou_id_of("ou-x"), "ou-x");
    }
}
