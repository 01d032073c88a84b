//! OU registration with Control Tower: `AWSControlTowerBaseline` on OUs, read and changed.

use aws_sdk_controltower::types::{
    BaselineOperationStatus, EnabledBaselineDriftStatus, EnabledBaselineDriftStatusSummary,
    EnabledBaselineFilter, EnabledBaselineParameter, EnabledBaselineSummary,
};
use aws_smithy_types::Document;
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::governance::CONTROL_TOWER_BASELINE;
use landfall_core::live::{LiveBaselines, LiveEnabledBaseline};
use landfall_engine::provider::{ErrorKind, OperationStatus, ProviderError, ProviderResult};

use crate::AwsBackend;
use crate::controls::{ou_id_of, status_of};
use crate::errors::empty_response;
use crate::governance::CONTROLTOWER;

const CT: &str = CONTROLTOWER;

/// The baseline a landing zone enables when Control Tower manages IAM Identity Center
/// access.
const IDENTITY_CENTER_BASELINE: &str = "IdentityCenterBaseline";

/// The `AWSControlTowerBaseline` parameter naming the landing zone's enabled
/// `IdentityCenterBaseline`.
const IDENTITY_CENTER_PARAMETER: &str = "IdentityCenterEnabledBaselineArn";

/// The ARNs of the baselines Landfall uses, by name from `ListBaselines` (read once per
/// run: the baselines Control Tower offers do not change under it).
#[derive(Clone, Debug, Default)]
pub(crate) struct BaselineArns {
    pub control_tower: Option<String>,
    pub identity_center: Option<String>,
}

/// A required string field of a response; empty (the SDK's default for a missing
/// required member) is a response without it.
fn required(value: &str, api: &'static str, what: &str) -> ProviderResult<String> {
    if value.is_empty() {
        Err(empty_response(api, what))
    } else {
        Ok(value.to_string())
    }
}

impl AwsBackend {
    /// `ListBaselines`, once per run.
    async fn baseline_arns(&self) -> ProviderResult<&BaselineArns> {
        self.baseline_arns
            .get_or_try_init(|| list_baselines(self))
            .await
    }
}

async fn list_baselines(aws: &AwsBackend) -> ProviderResult<BaselineArns> {
    let ct = &aws.gov("ListBaselines")?.ct;
    let pages = aws
        .gov_pages(
            CT,
            "ListBaselines",
            |token| ct.list_baselines().set_next_token(token).send(),
            |page| page.next_token().map(str::to_string),
        )
        .await?;
    let arn_of = |name: &str| {
        pages
            .iter()
            .flat_map(|p| p.baselines())
            .find(|b| b.name() == name)
            .map(|b| required(b.arn(), "ListBaselines", "baseline ARN"))
            .transpose()
    };
    Ok(BaselineArns {
        control_tower: arn_of(CONTROL_TOWER_BASELINE)?,
        identity_center: arn_of(IDENTITY_CENTER_BASELINE)?,
    })
}

/// Every page of `ListEnabledBaselines` with this filter (and the OUs' enrolled
/// accounts, with `include_children`).
async fn list_enabled(
    aws: &AwsBackend,
    filter: EnabledBaselineFilter,
    include_children: bool,
) -> ProviderResult<Vec<EnabledBaselineSummary>> {
    let ct = &aws.gov("ListEnabledBaselines")?.ct;
    let pages = aws
        .gov_pages(
            CT,
            "ListEnabledBaselines",
            |token| {
                ct.list_enabled_baselines()
                    .filter(filter.clone())
                    .set_include_children(include_children.then_some(true))
                    .set_next_token(token)
                    .send()
            },
            |page| page.next_token().map(str::to_string),
        )
        .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.enabled_baselines().iter().cloned())
        .collect())
}

/// Whether Control Tower reports drift in any of the drift types it gives (today only
/// `inheritance`: an enrolled account that no longer matches its OU's baseline).
fn drifted(summary: Option<&EnabledBaselineDriftStatusSummary>) -> bool {
    let Some(types) = summary.and_then(|s| s.types()) else {
        return false;
    };
    [types.inheritance().and_then(|i| i.status())]
        .into_iter()
        .any(|s| s == Some(&EnabledBaselineDriftStatus::Drifted))
}

/// Control Tower's baselines: the ARNs of `AWSControlTowerBaseline` and of the
/// landing zone's enabled `IdentityCenterBaseline`, and every enabled
/// `AWSControlTowerBaseline` (on OUs and, as their children, on enrolled accounts) —
/// sorted by target, then ARN.
pub(crate) async fn read(aws: &AwsBackend) -> ProviderResult<LiveBaselines> {
    let arns = aws.baseline_arns().await?;
    let (enabled, identity_center_enabled_baseline) = futures::try_join!(
        async {
            match &arns.control_tower {
                Some(arn) => enabled_baselines(aws, arn).await,
                None => Ok(Vec::new()),
            }
        },
        async {
            match &arns.identity_center {
                Some(arn) => identity_center_enabled(aws, arn).await,
                None => Ok(None),
            }
        },
    )?;
    Ok(LiveBaselines {
        control_tower_baseline: arns.control_tower.clone(),
        identity_center_enabled_baseline,
        enabled,
    })
}

/// The enabled baseline of the landing zone's `IdentityCenterBaseline`, if enabled.
async fn identity_center_enabled(
    aws: &AwsBackend,
    baseline_arn: &str,
) -> ProviderResult<Option<String>> {
    let filter = EnabledBaselineFilter::builder()
        .baseline_identifiers(baseline_arn)
        .build();
    let found = list_enabled(aws, filter, false).await?;
    found
        .first()
        .map(|s| required(s.arn(), "ListEnabledBaselines", "enabled baseline ARN"))
        .transpose()
}

/// Every enabled `baseline_arn`, with children; the OU-level ones with their
/// parameters (`GetEnabledBaseline`).
async fn enabled_baselines(
    aws: &AwsBackend,
    baseline_arn: &str,
) -> ProviderResult<Vec<LiveEnabledBaseline>> {
    let filter = EnabledBaselineFilter::builder()
        .baseline_identifiers(baseline_arn)
        .build();
    let summaries = list_enabled(aws, filter, true).await?;
    let mut out: Vec<LiveEnabledBaseline> = stream::iter(summaries)
        .map(|summary| async move { enabled_baseline(aws, &summary).await })
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect()
        .await?;
    out.sort_by(|a, b| (&a.target_id, &a.arn).cmp(&(&b.target_id, &b.arn)));
    Ok(out)
}

/// One enabled baseline. An account's (a child) is as listed; an OU's is read with
/// `GetEnabledBaseline` for its parameters, its details being the newer read.
async fn enabled_baseline(
    aws: &AwsBackend,
    summary: &EnabledBaselineSummary,
) -> ProviderResult<LiveEnabledBaseline> {
    const API: &str = "ListEnabledBaselines";
    let arn = required(summary.arn(), API, "enabled baseline ARN")?;
    let target = required(summary.target_identifier(), API, "enabled baseline target")?;
    let mut live = LiveEnabledBaseline {
        baseline_arn: required(summary.baseline_identifier(), API, "baseline ARN")?,
        version: summary.baseline_version().map(str::to_string),
        target_id: ou_id_of(&target).to_string(),
        parent_arn: summary
            .parent_identifier()
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        identity_center: None,
        status: status_of(summary.status_summary().and_then(|s| s.status())),
        drifted: drifted(summary.drift_status_summary()),
        arn,
    };
    if live.parent_arn.is_some() {
        return Ok(live);
    }
    let ct = &aws.gov("GetEnabledBaseline")?.ct;
    let out = aws
        .gov_read(CT, "GetEnabledBaseline", || {
            ct.get_enabled_baseline()
                .enabled_baseline_identifier(&live.arn)
                .send()
        })
        .await?;
    let details = out
        .enabled_baseline_details()
        .ok_or_else(|| empty_response("GetEnabledBaseline", "enabled baseline details"))?;
    live.identity_center = details
        .parameters()
        .iter()
        .find(|p| p.key() == IDENTITY_CENTER_PARAMETER)
        .and_then(|p| match p.value() {
            Document::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        });
    if let Some(version) = details.baseline_version() {
        live.version = Some(version.to_string());
    }
    if let Some(status) = details.status_summary() {
        live.status = status_of(status.status());
    }
    if let Some(drift) = details.drift_status_summary() {
        live.drifted = drifted(Some(drift));
    }
    Ok(live)
}

/// The ARN of the `AWSControlTowerBaseline` enabled on the OU itself, if any.
pub(crate) async fn enabled_baseline_arn(
    aws: &AwsBackend,
    ou_id: &str,
) -> ProviderResult<Option<String>> {
    let Some(baseline) = aws.baseline_arns().await?.control_tower.clone() else {
        return Ok(None);
    };
    let target = aws.ou_arn(ou_id).await?;
    let filter = EnabledBaselineFilter::builder()
        .target_identifiers(target)
        .baseline_identifiers(baseline)
        .build();
    let found = list_enabled(aws, filter, false).await?;
    found
        .iter()
        .find(|s| s.parent_identifier().is_none_or(str::is_empty))
        .map(|s| required(s.arn(), "ListEnabledBaselines", "enabled baseline ARN"))
        .transpose()
}

/// `IdentityCenterEnabledBaselineArn` as the only parameter, or none.
fn parameters(
    api: &'static str,
    identity_center: Option<&str>,
) -> ProviderResult<Option<Vec<EnabledBaselineParameter>>> {
    identity_center
        .map(|arn| {
            EnabledBaselineParameter::builder()
                .key(IDENTITY_CENTER_PARAMETER)
                .value(Document::String(arn.to_string()))
                .build()
                .map(|p| vec![p])
                .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string()))
        })
        .transpose()
}

/// Registers the OU: enables `baseline_arn` at `version` on it.
pub(crate) async fn enable(
    aws: &AwsBackend,
    baseline_arn: &str,
    version: &str,
    ou_id: &str,
    identity_center: Option<&str>,
) -> ProviderResult<String> {
    const API: &str = "EnableBaseline";
    let ct = &aws.gov(API)?.ct;
    let target = aws.ou_arn(ou_id).await?;
    let out = aws
        .gov_write(
            CT,
            API,
            ct.enable_baseline()
                .baseline_identifier(baseline_arn)
                .baseline_version(version)
                .target_identifier(target)
                .set_parameters(parameters(API, identity_center)?)
                .send(),
        )
        .await?;
    required(out.operation_identifier(), API, "operation identifier")
}

pub(crate) async fn update(
    aws: &AwsBackend,
    enabled_baseline_arn: &str,
    version: &str,
    identity_center: Option<&str>,
) -> ProviderResult<String> {
    const API: &str = "UpdateEnabledBaseline";
    let ct = &aws.gov(API)?.ct;
    let out = aws
        .gov_write(
            CT,
            API,
            ct.update_enabled_baseline()
                .enabled_baseline_identifier(enabled_baseline_arn)
                .baseline_version(version)
                .set_parameters(parameters(API, identity_center)?)
                .send(),
        )
        .await?;
    required(out.operation_identifier(), API, "operation identifier")
}

/// Re-registers the OU: repairs drift and enrolls the accounts that came in through
/// AWS Organizations.
pub(crate) async fn reset(aws: &AwsBackend, enabled_baseline_arn: &str) -> ProviderResult<String> {
    const API: &str = "ResetEnabledBaseline";
    let ct = &aws.gov(API)?.ct;
    let out = aws
        .gov_write(
            CT,
            API,
            ct.reset_enabled_baseline()
                .enabled_baseline_identifier(enabled_baseline_arn)
                .send(),
        )
        .await?;
    required(out.operation_identifier(), API, "operation identifier")
}

/// Deregisters the OU. An enabled baseline that is gone already is
/// `ResourceNotFoundException`, so `NotFound`.
pub(crate) async fn disable(
    aws: &AwsBackend,
    enabled_baseline_arn: &str,
) -> ProviderResult<String> {
    const API: &str = "DisableBaseline";
    let ct = &aws.gov(API)?.ct;
    let out = aws
        .gov_write(
            CT,
            API,
            ct.disable_baseline()
                .enabled_baseline_identifier(enabled_baseline_arn)
                .send(),
        )
        .await?;
    required(out.operation_identifier(), API, "operation identifier")
}

/// `GetBaselineOperation`: `IN_PROGRESS` (or no operation yet) is in progress,
/// `SUCCEEDED` done, `FAILED` failed with its `statusMessage`.
pub(crate) async fn operation(
    aws: &AwsBackend,
    operation_id: &str,
) -> ProviderResult<OperationStatus> {
    let ct = &aws.gov("GetBaselineOperation")?.ct;
    let out = aws
        .gov_read(CT, "GetBaselineOperation", || {
            ct.get_baseline_operation()
                .operation_identifier(operation_id)
                .send()
        })
        .await?;
    let Some(op) = out.baseline_operation() else {
        return Ok(OperationStatus::InProgress);
    };
    Ok(match op.status() {
        Some(BaselineOperationStatus::Succeeded) => OperationStatus::Succeeded { account_id: None },
        Some(BaselineOperationStatus::Failed) => OperationStatus::Failed {
            message: op
                .status_message()
                .filter(|m| !m.is_empty())
                .unwrap_or("the baseline operation failed (no message)")
                .to_string(),
        },
        _ => OperationStatus::InProgress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_controltower::types::{EnabledBaselineDriftTypes, EnabledBaselineInheritanceDrift};

    fn drift(status: EnabledBaselineDriftStatus) -> EnabledBaselineDriftStatusSummary {
        EnabledBaselineDriftStatusSummary::builder()
            .types(
                EnabledBaselineDriftTypes::builder()
                    .inheritance(
                        EnabledBaselineInheritanceDrift::builder()
                            .status(status)
                            .build(),
                    )
                    .build(),
            )
            .build()
    }

    #[test]
    fn inheritance_drift_is_drift() {
        assert!(drifted(Some(&drift(EnabledBaselineDriftStatus::Drifted))));
        assert!(!drifted(Some(&drift(EnabledBaselineDriftStatus::InSync))));
        assert!(!drifted(Some(
            &EnabledBaselineDriftStatusSummary::builder().build()
        )));
        assert!(!drifted(None));
    }

    #[test]
    fn the_identity_center_parameter_is_the_only_one() {
        assert_eq!(parameters("EnableBaseline", None).ok(), Some(None));
        let one = parameters("EnableBaseline", Some("arn:ic")).ok().flatten();
        let one = one.as_deref().unwrap_or_default();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].key(), "IdentityCenterEnabledBaselineArn");
        assert_eq!(*one[0].value(), Document::String("arn:ic".into()));
    }
}
