//! OU registration: `AWSControlTowerBaseline` enabled on OUs, its asynchronous
//! operations (enable, update, reset, disable) and the rules Control Tower enforces:
//! the baseline version must be the one that goes with the landing zone's version, the
//! landing zone's Identity Center enabled baseline is a required parameter, a child OU
//! is registered only under a registered parent and deregistered before it, the
//! Security OU belongs to the landing zone, and accounts that come into a registered
//! OU through AWS Organizations stay unenrolled until the OU's baseline is reset.

use std::collections::BTreeSet;

use landfall_core::live::{ControlStatus, LiveBaselines, LiveEnabledBaseline};
use landfall_core::model::DEFAULT_SECURITY_OU;
use landfall_engine::provider::{ErrorKind, OperationStatus};
use serde::{Deserialize, Serialize};

use super::{GovernanceSettings, Poll, poll_operation};
use crate::ids::IdSource;
use crate::world::{Denied, Rule, World};

/// The sim's landing zone version, and the `AWSControlTowerBaseline` version AWS
/// documents for it.
pub const LANDING_ZONE_VERSION: &str = "3.3";
pub const BASELINE_VERSION: &str = "4.0";
/// The id part of the baselines' ARNs (the ones AWS's documentation shows).
const CONTROL_TOWER_BASELINE_ID: &str = "17BSJV3IGJ2QSGA2";
const IDENTITY_CENTER_BASELINE_ID: &str = "LN25R72TTG6IGPTQ";

/// Which Control Tower API started a baseline operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BaselineOperationKind {
    EnableBaseline,
    UpdateEnabledBaseline,
    ResetEnabledBaseline,
    DisableBaseline,
}

/// An OU's registration as Control Tower holds it: the enabled baseline and the
/// accounts it enrolled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub baseline: LiveEnabledBaseline,
    /// Accounts enrolled by the last enable or reset (and by Account Factory). An
    /// account counts only while it is still in the OU.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub enrolled: BTreeSet<String>,
}

/// A baseline operation as Control Tower remembers it (`GetBaselineOperation`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineOperation {
    pub kind: BaselineOperationKind,
    pub enabled_baseline_arn: String,
    pub target_id: String,
    pub polls_remaining: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The registration before the operation (`None` for an enable), restored when
    /// it fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Registration>,
    pub finished: bool,
}

fn invalid(message: String) -> Denied {
    Denied::new(
        ErrorKind::InvalidInput,
        format!("ValidationException: {message}"),
    )
}

fn not_found(arn: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("ResourceNotFoundException: no enabled baseline {arn}"),
    )
}

impl World {
    /// The ARN of `AWSControlTowerBaseline` in the home region.
    pub fn control_tower_baseline_arn(settings: &GovernanceSettings) -> String {
        format!(
            "arn:aws:controltower:{}::baseline/{CONTROL_TOWER_BASELINE_ID}",
            settings.home_region
        )
    }

    /// The landing zone's enabled `IdentityCenterBaseline` (the sim's landing zone
    /// manages IAM Identity Center access).
    pub fn identity_center_enabled_baseline(&self, settings: &GovernanceSettings) -> String {
        format!(
            "arn:aws:controltower:{}:{}:enabledbaseline/{IDENTITY_CENTER_BASELINE_ID}",
            settings.home_region, self.management_account_id
        )
    }

    /// The registration of OU `ou_id`, if it has one.
    pub fn registration_of(&self, ou_id: &str) -> Option<&Registration> {
        self.governance
            .registrations
            .values()
            .find(|r| r.baseline.target_id == ou_id)
    }

    /// Whether OU `ou_id` is governed by Control Tower: registered (its baseline
    /// enabled, not failed), or the landing zone's Security OU.
    pub fn is_registered(&self, ou_id: &str) -> bool {
        self.is_security_ou(ou_id)
            || self
                .registration_of(ou_id)
                .is_some_and(|r| match r.baseline.status {
                    ControlStatus::Succeeded => true,
                    ControlStatus::Failed => false,
                    // An update or reset leaves the OU registered while it runs; an
                    // enable has not registered it yet.
                    ControlStatus::UnderChange => {
                        !self.governance.baseline_operations.values().any(|op| {
                            !op.finished
                                && op.target_id == ou_id
                                && op.kind == BaselineOperationKind::EnableBaseline
                        })
                    }
                })
    }

    /// The landing zone's Security OU: a top-level OU of the landing zone's name.
    fn is_security_ou(&self, ou_id: &str) -> bool {
        self.ous
            .get(ou_id)
            .is_some_and(|ou| ou.parent_id == self.root_id && ou.name == DEFAULT_SECURITY_OU)
    }

    fn baseline_running_on(&self, target_id: &str) -> Option<&str> {
        self.governance
            .baseline_operations
            .iter()
            .find(|(_, op)| !op.finished && op.target_id == target_id)
            .map(|(id, _)| id.as_str())
    }

    fn check_baseline_version(&self, version: &str) -> Rule<()> {
        if version == BASELINE_VERSION {
            return Ok(());
        }
        Err(invalid(format!(
            "baseline version {version} is not compatible with landing zone version \
             {LANDING_ZONE_VERSION}; use {BASELINE_VERSION}"
        )))
    }

    fn check_identity_center(
        &self,
        settings: &GovernanceSettings,
        identity_center: Option<&str>,
    ) -> Rule<()> {
        let expected = self.identity_center_enabled_baseline(settings);
        match identity_center {
            Some(arn) if arn == expected => Ok(()),
            Some(arn) => Err(invalid(format!(
                "IdentityCenterEnabledBaselineArn {arn} is not the landing zone's Identity Center enabled baseline"
            ))),
            None => Err(invalid(
                "the landing zone has the IdentityCenterBaseline enabled: pass its enabled \
                 baseline as the IdentityCenterEnabledBaselineArn parameter"
                    .into(),
            )),
        }
    }

    fn check_no_baseline_conflict(&self, target_id: &str) -> Rule<()> {
        match self.baseline_running_on(target_id) {
            Some(op) => Err(Denied::new(
                ErrorKind::Conflict,
                format!(
                    "ConflictException: baseline operation {op} on {target_id} is still in progress"
                ),
            )),
            None => Ok(()),
        }
    }

    fn start_baseline_operation(
        &mut self,
        settings: &GovernanceSettings,
        kind: BaselineOperationKind,
        registration: Registration,
        previous: Option<Registration>,
    ) -> String {
        let target_id = registration.baseline.target_id.clone();
        let ou_name = self.ous.get(&target_id).map(|ou| ou.name.clone());
        let failure = ou_name
            .filter(|name| settings.fail_registrations.contains(name))
            .map(|name| {
                format!(
                    "AWS Control Tower could not change the registration of {target_id}: injected failure ({} fail_registration={name})",
                    crate::FAULTS_ENV
                )
            });
        let id = self.fresh(IdSource::control_operation, |w, id| {
            w.governance.baseline_operations.contains_key(id)
        });
        let arn = registration.baseline.arn.clone();
        self.governance.baseline_operations.insert(
            id.clone(),
            BaselineOperation {
                kind,
                enabled_baseline_arn: arn.clone(),
                target_id,
                polls_remaining: settings.control_operation_polls,
                failure,
                previous,
                finished: false,
            },
        );
        self.governance.registrations.insert(arn, registration);
        id
    }

    /// `EnableBaseline`: registers OU `ou_id`; the enabled baseline shows up
    /// `UNDER_CHANGE` at once. Returns the operation id.
    pub fn enable_baseline(
        &mut self,
        settings: &GovernanceSettings,
        baseline_arn: &str,
        version: &str,
        ou_id: &str,
        identity_center: Option<&str>,
    ) -> Rule<String> {
        if baseline_arn != Self::control_tower_baseline_arn(settings) {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no baseline {baseline_arn}"),
            ));
        }
        let Some(ou) = self.ous.get(ou_id) else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no OU {ou_id}"),
            ));
        };
        if self.is_security_ou(ou_id) {
            return Err(invalid(format!(
                "{ou_id} is the landing zone's Security OU; the landing zone governs it"
            )));
        }
        if ou.parent_id != self.root_id && !self.is_registered(&ou.parent_id) {
            return Err(invalid(format!(
                "the parent of {ou_id} ({}) is not registered with AWS Control Tower; register it first",
                ou.parent_id
            )));
        }
        self.check_baseline_version(version)?;
        self.check_identity_center(settings, identity_center)?;
        self.check_no_baseline_conflict(ou_id)?;
        if let Some(existing) = self.registration_of(ou_id) {
            return Err(invalid(format!(
                "{ou_id} already has AWSControlTowerBaseline enabled ({})",
                existing.baseline.arn
            )));
        }
        self.check_quota(settings)?;
        let prefix = format!(
            "arn:aws:controltower:{}:{}:enabledbaseline/",
            settings.home_region, self.management_account_id
        );
        let arn = self.fresh(
            |ids| format!("{prefix}{}", ids.enabled_control()),
            |w, arn| w.governance.registrations.contains_key(arn),
        );
        let registration = Registration {
            baseline: LiveEnabledBaseline {
                arn,
                baseline_arn: baseline_arn.to_string(),
                version: Some(version.to_string()),
                target_id: ou_id.to_string(),
                parent_arn: None,
                identity_center: identity_center.map(str::to_string),
                status: ControlStatus::UnderChange,
                drifted: false,
            },
            enrolled: BTreeSet::new(),
        };
        Ok(self.start_baseline_operation(
            settings,
            BaselineOperationKind::EnableBaseline,
            registration,
            None,
        ))
    }

    fn registration_for_change(&self, arn: &str) -> Rule<Registration> {
        let existing = self
            .governance
            .registrations
            .get(arn)
            .cloned()
            .ok_or_else(|| not_found(arn))?;
        self.check_no_baseline_conflict(&existing.baseline.target_id)?;
        Ok(existing)
    }

    fn change_registration(
        &mut self,
        settings: &GovernanceSettings,
        kind: BaselineOperationKind,
        existing: Registration,
        version: Option<&str>,
        identity_center: Option<&str>,
    ) -> Rule<String> {
        self.check_quota(settings)?;
        let mut changed = existing.clone();
        changed.baseline.status = ControlStatus::UnderChange;
        if let Some(version) = version {
            changed.baseline.version = Some(version.to_string());
            changed.baseline.identity_center = identity_center.map(str::to_string);
        }
        Ok(self.start_baseline_operation(settings, kind, changed, Some(existing)))
    }

    /// `UpdateEnabledBaseline`: another version (or parameter).
    pub fn update_enabled_baseline(
        &mut self,
        settings: &GovernanceSettings,
        arn: &str,
        version: &str,
        identity_center: Option<&str>,
    ) -> Rule<String> {
        let existing = self.registration_for_change(arn)?;
        self.check_baseline_version(version)?;
        self.check_identity_center(settings, identity_center)?;
        self.change_registration(
            settings,
            BaselineOperationKind::UpdateEnabledBaseline,
            existing,
            Some(version),
            identity_center,
        )
    }

    /// `ResetEnabledBaseline`: re-registers the OU; when it finishes, drift is repaired
    /// and every account in the OU is enrolled.
    pub fn reset_enabled_baseline(
        &mut self,
        settings: &GovernanceSettings,
        arn: &str,
    ) -> Rule<String> {
        let existing = self.registration_for_change(arn)?;
        self.change_registration(
            settings,
            BaselineOperationKind::ResetEnabledBaseline,
            existing,
            None,
            None,
        )
    }

    /// `DisableBaseline`: deregisters the OU. Refused while a child OU is registered.
    pub fn disable_baseline(&mut self, settings: &GovernanceSettings, arn: &str) -> Rule<String> {
        let existing = self.registration_for_change(arn)?;
        let ou_id = &existing.baseline.target_id;
        if let Some(child) = self
            .ous
            .values()
            .find(|ou| ou.parent_id == *ou_id && self.registration_of(&ou.id).is_some())
        {
            return Err(invalid(format!(
                "{ou_id} has a registered child OU ({}); deregister it first",
                child.id
            )));
        }
        self.change_registration(
            settings,
            BaselineOperationKind::DisableBaseline,
            existing,
            None,
            None,
        )
    }

    /// `GetBaselineOperation`: `IN_PROGRESS` for the configured polls, then the
    /// outcome. The bool says whether the world changed.
    pub fn baseline_operation_status(
        &mut self,
        operation_id: &str,
    ) -> Rule<(OperationStatus, bool)> {
        let Some(op) = self.governance.baseline_operations.get_mut(operation_id) else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no baseline operation {operation_id}"),
            ));
        };
        let poll = poll_operation(&mut op.polls_remaining, op.finished, op.failure.as_ref());
        if matches!(poll, Poll::Finishes(_)) {
            self.finish_baseline_operation(operation_id);
        }
        Ok(poll.answer())
    }

    pub(super) fn finish_baseline_operation(&mut self, operation_id: &str) {
        let Some(op) = self.governance.baseline_operations.get_mut(operation_id) else {
            return;
        };
        if op.finished {
            return;
        }
        op.finished = true;
        let op = op.clone();
        if op.failure.is_some() {
            match op.previous {
                None => {
                    self.governance
                        .registrations
                        .remove(&op.enabled_baseline_arn);
                }
                Some(mut previous) => {
                    previous.baseline.status = ControlStatus::Failed;
                    self.governance
                        .registrations
                        .insert(previous.baseline.arn.clone(), previous);
                }
            }
            return;
        }
        if op.kind == BaselineOperationKind::DisableBaseline {
            self.governance
                .registrations
                .remove(&op.enabled_baseline_arn);
            return;
        }
        let accounts: BTreeSet<String> = self
            .accounts
            .values()
            .filter(|a| a.parent_id == op.target_id)
            .map(|a| a.id.clone())
            .collect();
        let Some(registration) = self
            .governance
            .registrations
            .get_mut(&op.enabled_baseline_arn)
        else {
            return;
        };
        registration.baseline.status = ControlStatus::Succeeded;
        match op.kind {
            // Registering and re-registering enroll every account in the OU.
            BaselineOperationKind::EnableBaseline | BaselineOperationKind::ResetEnabledBaseline => {
                registration.baseline.drifted = false;
                registration.enrolled = accounts;
            }
            BaselineOperationKind::UpdateEnabledBaseline
            | BaselineOperationKind::DisableBaseline => {}
        }
    }

    /// The registered OU's enabled baseline ARN (`ListEnabledBaselines` on the OU).
    pub fn enabled_baseline_arn(&self, ou_id: &str) -> Rule<Option<String>> {
        if !self.ous.contains_key(ou_id) {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no OU {ou_id}"),
            ));
        }
        Ok(self.registration_of(ou_id).map(|r| r.baseline.arn.clone()))
    }

    /// Account Factory enrolls the accounts it provisions.
    pub(super) fn enroll(&mut self, ou_id: &str, account_id: &str) {
        if let Some(r) = self
            .governance
            .registrations
            .values_mut()
            .find(|r| r.baseline.target_id == ou_id)
        {
            r.enrolled.insert(account_id.to_string());
        }
    }

    /// What `ListBaselines` and `ListEnabledBaselines` (with children) say: each OU's
    /// registration, and an enrolled account's inherited baseline while the account is
    /// still in the OU.
    pub fn live_baselines(&self, settings: &GovernanceSettings) -> LiveBaselines {
        let mut enabled = Vec::new();
        for r in self.governance.registrations.values() {
            enabled.push(r.baseline.clone());
            for account in &r.enrolled {
                let still_there = self
                    .accounts
                    .get(account)
                    .is_some_and(|a| a.parent_id == r.baseline.target_id);
                if still_there {
                    enabled.push(LiveEnabledBaseline {
                        arn: format!("{}-{account}", r.baseline.arn),
                        target_id: account.clone(),
                        parent_arn: Some(r.baseline.arn.clone()),
                        identity_center: None,
                        ..r.baseline.clone()
                    });
                }
            }
        }
        LiveBaselines {
            control_tower_baseline: Some(Self::control_tower_baseline_arn(settings)),
            identity_center_enabled_baseline: Some(self.identity_center_enabled_baseline(settings)),
            enabled,
        }
    }

    /// Out of band: the OU deregistered at once (a console user). Returns the enabled
    /// baseline's ARN.
    pub fn deregister_ou(&mut self, ou_id: &str) -> Rule<String> {
        let arn = self
            .registration_of(ou_id)
            .map(|r| r.baseline.arn.clone())
            .ok_or_else(|| {
                Denied::new(
                    ErrorKind::NotFound,
                    format!("{ou_id} is not registered with Control Tower"),
                )
            })?;
        self.governance.registrations.remove(&arn);
        Ok(arn)
    }

    /// Out of band: the registration's resources were changed outside Control Tower.
    pub fn mark_registration_drifted(&mut self, ou_id: &str) -> Rule<String> {
        let arn = self
            .registration_of(ou_id)
            .map(|r| r.baseline.arn.clone())
            .ok_or_else(|| {
                Denied::new(
                    ErrorKind::NotFound,
                    format!("{ou_id} is not registered with Control Tower"),
                )
            })?;
        if let Some(r) = self.governance.registrations.get_mut(&arn) {
            r.baseline.drifted = true;
        }
        Ok(arn)
    }
}
