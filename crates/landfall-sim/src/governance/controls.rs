//! Control Tower controls on OUs and their asynchronous operations: enable, disable,
//! update parameters and reset (each an operation, refused while another runs on the
//! same control and target, or beyond the quota of operations in flight), polling an
//! operation to its outcome (an injected failure undoes the change), drift, and the
//! out-of-band changes tests make.

use std::collections::BTreeMap;

use landfall_core::live::{ControlStatus, LiveEnabledControl, control_short_id};
use landfall_engine::provider::{ErrorKind, OperationStatus};
use serde::{Deserialize, Serialize};

use super::{Governance, GovernanceSettings, Poll, poll_operation};
use crate::ids::IdSource;
use crate::world::{Denied, Rule, World, is_region_name};

/// Which Control Tower API started an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ControlOperationKind {
    EnableControl,
    DisableControl,
    UpdateEnabledControl,
    ResetEnabledControl,
}

impl ControlOperationKind {
    fn verb(self) -> &'static str {
        match self {
            ControlOperationKind::EnableControl => "enable",
            ControlOperationKind::DisableControl => "disable",
            ControlOperationKind::UpdateEnabledControl => "update",
            ControlOperationKind::ResetEnabledControl => "reset",
        }
    }
}

/// A control operation as Control Tower remembers it (`GetControlOperation`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlOperation {
    pub kind: ControlOperationKind,
    pub control_arn: String,
    pub target_id: String,
    pub enabled_control_arn: String,
    /// Polls still answered `IN_PROGRESS`.
    pub polls_remaining: u32,
    /// Decided when the operation starts: the message it fails with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The enabled control before the operation (`None` for an enable), restored
    /// when it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<LiveEnabledControl>,
    /// Finished: its outcome is final and it no longer counts as in flight.
    pub finished: bool,
}

impl Governance {
    fn enabled_on(&self, short_id: &str, target_id: &str) -> Option<&LiveEnabledControl> {
        self.enabled_controls
            .values()
            .find(|c| c.target_id == target_id && c.short_id() == short_id)
    }

    /// Control and baseline operations count against the same quota.
    fn in_flight(&self) -> usize {
        let controls = self
            .control_operations
            .values()
            .filter(|op| !op.finished)
            .count();
        let baselines = self
            .baseline_operations
            .values()
            .filter(|op| !op.finished)
            .count();
        controls + baselines
    }

    fn running_on(&self, short_id: &str, target_id: &str) -> Option<&str> {
        self.control_operations
            .iter()
            .find(|(_, op)| {
                !op.finished
                    && op.target_id == target_id
                    && control_short_id(&op.control_arn) == short_id
            })
            .map(|(id, _)| id.as_str())
    }
}

/// Checks a control identifier's shape; returns its short id and the region it names
/// (Control Catalog ARNs name none).
pub fn parse_control_arn(arn: &str) -> Rule<(&str, Option<&str>)> {
    let valid_id = |id: &str| {
        !id.is_empty()
            && id.len() <= 128
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if let Some(rest) = arn.strip_prefix("arn:aws:controltower:")
        && let Some((region, id)) = rest.split_once("::control/")
        && is_region_name(region)
        && valid_id(id)
    {
        return Ok((id, Some(region)));
    }
    if let Some(id) = arn.strip_prefix("arn:aws:controlcatalog:::control/")
        && valid_id(id)
    {
        return Ok((id, None));
    }
    Err(Denied::new(
        ErrorKind::InvalidInput,
        format!(
            "ValidationException: {arn:?} is not a control identifier \
             (`arn:aws:controltower:REGION::control/ID` or `arn:aws:controlcatalog:::control/ID`)"
        ),
    ))
}

fn control_conflict(short_id: &str, target_id: &str, operation_id: &str) -> Denied {
    Denied::new(
        ErrorKind::Conflict,
        format!(
            "ConflictException: operation {operation_id} on control {short_id} for {target_id} \
             is still in progress"
        ),
    )
}

fn enabled_control_not_found(arn: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("ResourceNotFoundException: no enabled control {arn}"),
    )
}

impl World {
    fn check_control_target(&self, target_id: &str) -> Rule<()> {
        if self.ous.contains_key(target_id) {
            Ok(())
        } else {
            Err(Denied::new(
                ErrorKind::NotFound,
                format!(
                    "ResourceNotFoundException: no OU {target_id} (controls are enabled on OUs)"
                ),
            ))
        }
    }

    fn check_no_conflict(&self, short_id: &str, target_id: &str) -> Rule<()> {
        match self.governance.running_on(short_id, target_id) {
            Some(op) => Err(control_conflict(short_id, target_id, op)),
            None => Ok(()),
        }
    }

    pub(super) fn check_quota(&self, settings: &GovernanceSettings) -> Rule<()> {
        let running = self.governance.in_flight();
        if running >= settings.control_operations_in_flight {
            return Err(Denied::new(
                ErrorKind::ServiceQuotaExceeded,
                format!(
                    "ServiceQuotaExceededException: {running} control and baseline operations are in progress; \
                     the quota is {}",
                    settings.control_operations_in_flight
                ),
            ));
        }
        Ok(())
    }

    fn start_control_operation(
        &mut self,
        settings: &GovernanceSettings,
        kind: ControlOperationKind,
        control: &LiveEnabledControl,
        previous: Option<LiveEnabledControl>,
    ) -> String {
        let short_id = control.short_id().to_string();
        let failure = settings.fail_controls.contains(&short_id).then(|| {
            format!(
                "AWS Control Tower could not {} control {short_id} on {}: injected failure \
                 ({} fail_control={short_id})",
                kind.verb(),
                control.target_id,
                crate::FAULTS_ENV
            )
        });
        let id = self.fresh(IdSource::control_operation, |w, id| {
            w.governance.control_operations.contains_key(id)
        });
        self.governance.control_operations.insert(
            id.clone(),
            ControlOperation {
                kind,
                control_arn: control.control_arn.clone(),
                target_id: control.target_id.clone(),
                enabled_control_arn: control.arn.clone(),
                polls_remaining: settings.control_operation_polls,
                failure,
                previous,
                finished: false,
            },
        );
        id
    }

    /// `EnableControl`: the control shows up `UNDER_CHANGE` at once; returns the
    /// operation id.
    pub fn enable_control(
        &mut self,
        settings: &GovernanceSettings,
        control_arn: &str,
        target_id: &str,
        parameters: &BTreeMap<String, serde_json::Value>,
    ) -> Rule<String> {
        let (short_id, region) = parse_control_arn(control_arn)?;
        self.check_control_target(target_id)?;
        if !self.is_registered(target_id) {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: {target_id} is not registered with AWS Control Tower: \
                     register it (EnableBaseline with AWSControlTowerBaseline) before enabling controls on it"
                ),
            ));
        }
        self.check_no_conflict(short_id, target_id)?;
        if let Some(existing) = self.governance.enabled_on(short_id, target_id) {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: control {short_id} is already enabled on {target_id} ({})",
                    existing.arn
                ),
            ));
        }
        self.check_quota(settings)?;
        let region = region.unwrap_or(&settings.home_region).to_string();
        let prefix = format!(
            "arn:aws:controltower:{region}:{}:enabledcontrol/",
            self.management_account_id
        );
        let arn = self.fresh(
            |ids| format!("{prefix}{}", ids.enabled_control()),
            |w, arn| w.governance.enabled_controls.contains_key(arn),
        );
        let control = LiveEnabledControl {
            arn: arn.clone(),
            control_arn: control_arn.to_string(),
            target_id: target_id.to_string(),
            parameters: parameters.clone(),
            status: ControlStatus::UnderChange,
            drifted: false,
        };
        let op = self.start_control_operation(
            settings,
            ControlOperationKind::EnableControl,
            &control,
            None,
        );
        self.governance.enabled_controls.insert(arn, control);
        Ok(op)
    }

    /// `DisableControl`: the control stays listed `UNDER_CHANGE` until the operation
    /// finishes.
    pub fn disable_control(
        &mut self,
        settings: &GovernanceSettings,
        control_arn: &str,
        target_id: &str,
    ) -> Rule<String> {
        let (short_id, _) = parse_control_arn(control_arn)?;
        self.check_control_target(target_id)?;
        self.check_no_conflict(short_id, target_id)?;
        let Some(existing) = self.governance.enabled_on(short_id, target_id).cloned() else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!(
                    "ResourceNotFoundException: control {short_id} is not enabled on {target_id}"
                ),
            ));
        };
        self.check_quota(settings)?;
        self.change_enabled_control(
            settings,
            ControlOperationKind::DisableControl,
            existing,
            None,
        )
    }

    fn existing_for_change(&self, enabled_control_arn: &str) -> Rule<LiveEnabledControl> {
        let Some(existing) = self
            .governance
            .enabled_controls
            .get(enabled_control_arn)
            .cloned()
        else {
            return Err(enabled_control_not_found(enabled_control_arn));
        };
        self.check_no_conflict(existing.short_id(), &existing.target_id)?;
        Ok(existing)
    }

    fn change_enabled_control(
        &mut self,
        settings: &GovernanceSettings,
        kind: ControlOperationKind,
        existing: LiveEnabledControl,
        parameters: Option<&BTreeMap<String, serde_json::Value>>,
    ) -> Rule<String> {
        let mut changed = existing.clone();
        changed.status = ControlStatus::UnderChange;
        if let Some(parameters) = parameters {
            changed.parameters = parameters.clone();
        }
        let op = self.start_control_operation(settings, kind, &changed, Some(existing));
        self.governance
            .enabled_controls
            .insert(changed.arn.clone(), changed);
        Ok(op)
    }

    /// `UpdateEnabledControl`: new parameters. Control Tower refuses it on a drifted
    /// control (reset it first).
    pub fn update_enabled_control(
        &mut self,
        settings: &GovernanceSettings,
        enabled_control_arn: &str,
        parameters: &BTreeMap<String, serde_json::Value>,
    ) -> Rule<String> {
        let existing = self.existing_for_change(enabled_control_arn)?;
        if existing.drifted {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: {enabled_control_arn} has drifted; reset it \
                     (ResetEnabledControl) before updating its parameters"
                ),
            ));
        }
        self.check_quota(settings)?;
        self.change_enabled_control(
            settings,
            ControlOperationKind::UpdateEnabledControl,
            existing,
            Some(parameters),
        )
    }

    /// `ResetEnabledControl`: repairs drift (clears `drifted` when it succeeds).
    pub fn reset_enabled_control(
        &mut self,
        settings: &GovernanceSettings,
        enabled_control_arn: &str,
    ) -> Rule<String> {
        let existing = self.existing_for_change(enabled_control_arn)?;
        self.check_quota(settings)?;
        self.change_enabled_control(
            settings,
            ControlOperationKind::ResetEnabledControl,
            existing,
            None,
        )
    }

    /// `GetControlOperation`: `IN_PROGRESS` for the configured polls, then the
    /// outcome. The bool says whether the world changed (a poll consumed or the
    /// operation finished) and needs saving.
    pub fn control_operation_status(
        &mut self,
        operation_id: &str,
    ) -> Rule<(OperationStatus, bool)> {
        let Some(op) = self.governance.control_operations.get_mut(operation_id) else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no control operation {operation_id}"),
            ));
        };
        let poll = poll_operation(&mut op.polls_remaining, op.finished, op.failure.as_ref());
        if matches!(poll, Poll::Finishes(_)) {
            self.finish_control_operation(operation_id);
        }
        Ok(poll.answer())
    }

    pub(super) fn finish_control_operation(&mut self, operation_id: &str) {
        let Some(op) = self.governance.control_operations.get_mut(operation_id) else {
            return;
        };
        if op.finished {
            return;
        }
        op.finished = true;
        let op = op.clone();
        let controls = &mut self.governance.enabled_controls;
        if op.failure.is_some() {
            match op.previous {
                None => {
                    controls.remove(&op.enabled_control_arn);
                }
                Some(mut previous) => {
                    previous.status = ControlStatus::Failed;
                    controls.insert(previous.arn.clone(), previous);
                }
            }
            return;
        }
        if op.kind == ControlOperationKind::DisableControl {
            controls.remove(&op.enabled_control_arn);
        } else if let Some(control) = controls.get_mut(&op.enabled_control_arn) {
            control.status = ControlStatus::Succeeded;
            if op.kind == ControlOperationKind::ResetEnabledControl {
                control.drifted = false;
            }
        }
    }

    /// The enabled control's ARN for a control on an OU (`ListEnabledControls`).
    pub fn enabled_control_arn(&self, control_arn: &str, target_id: &str) -> Rule<Option<String>> {
        self.check_control_target(target_id)?;
        Ok(self
            .governance
            .enabled_on(control_short_id(control_arn), target_id)
            .map(|c| c.arn.clone()))
    }

    /// Out of band: a control disabled at once (a console user, or Control Tower
    /// itself after a landing-zone change). Returns the enabled control's ARN.
    pub fn remove_control(&mut self, short_id: &str, target_id: &str) -> Rule<String> {
        let arn = self.enabled_arn_on(short_id, target_id)?;
        self.governance.enabled_controls.remove(&arn);
        Ok(arn)
    }

    /// Out of band: the control's resources were changed outside Control Tower, so
    /// its drift status is `DRIFTED`.
    pub fn mark_control_drifted(&mut self, short_id: &str, target_id: &str) -> Rule<String> {
        let arn = self.enabled_arn_on(short_id, target_id)?;
        if let Some(control) = self.governance.enabled_controls.get_mut(&arn) {
            control.drifted = true;
        }
        Ok(arn)
    }

    fn enabled_arn_on(&self, short_id: &str, target_id: &str) -> Rule<String> {
        self.check_control_target(target_id)?;
        self.governance
            .enabled_on(short_id, target_id)
            .map(|c| c.arn.clone())
            .ok_or_else(|| {
                Denied::new(
                    ErrorKind::NotFound,
                    format!("control {short_id} is not enabled on {target_id}"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_arn_shapes() {
        assert_eq!(
            parse_control_arn("arn:aws:controltower:eu-west-1::control/AWS-GR_X").unwrap(),
            ("AWS-GR_X", Some("eu-west-1"))
        );
        assert_eq!(
            parse_control_arn("arn:aws:controlcatalog:::control/abc123").unwrap(),
            ("abc123", None)
        );
        for bad in [
            "",
            "AWS-GR_X",
            "arn:aws:controltower:::control/AWS-GR_X",
            "arn:aws:controltower:eu-west-1:123456789012:control/AWS-GR_X",
            "arn:aws:controltower:eu-west-1::control/",
            "arn:aws:controlcatalog:::control/a b",
            "arn:aws:organizations::control/X",
        ] {
            assert_eq!(
                parse_control_arn(bad).unwrap_err().kind,
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }
}
