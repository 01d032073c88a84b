//! Control Tower, the Account Factory and Service Catalog in the management account's
//! home region: enabled controls and their asynchronous operations, Account Factory
//! provisioned products and their records, portfolios and their shares, with the
//! rules those services enforce. Pure and synchronous like [`crate::world`]; every
//! rule validates before it changes anything.
//!
//! Asynchronous work (control operations, provisioning records) takes effect when it
//! starts (an enabled control shows up `UNDER_CHANGE`, an Account Factory account
//! exists in its OU at once) and is answered `IN_PROGRESS` for a configured number of
//! polls; the poll after that *finishes* it: the control becomes `SUCCEEDED` (or, on
//! an injected failure, the change is undone and the control is `FAILED`), the
//! provisioned product becomes `AVAILABLE` (or `ERROR`/`TAINTED`). An operation counts
//! against Control Tower's in-flight quota until it is finished. Opening a world file
//! finishes whatever an earlier process left running (time passed in between), so a
//! lost operation id never blocks a target forever.
//!
//! Where to look:
//! - this file: what the world file holds ([`Governance`]) and its consistency check,
//!   the per-process settings ([`GovernanceSettings`]), and finishing what an earlier
//!   process left running ([`World::settle_governance`]).
//! - `baselines`: OU registration (`AWSControlTowerBaseline`), its operations and
//!   the rules of registering, enrolling and deregistering.
//! - `controls`: Control Tower controls on OUs and their operations (the in-flight
//!   quota, conflicts on a control and target, polling, injected failures, drift).
//! - `account_factory`: the Account Factory product, provisioned products and their
//!   provisioning records.
//! - `portfolios`: Service Catalog portfolios and their shares.
//! - `live`: the live read (`refresh_governance`, snapshots).

mod account_factory;
mod baselines;
mod controls;
mod live;
mod portfolios;

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::live::LiveEnabledControl;
use landfall_engine::provider::OperationStatus;
use serde::{Deserialize, Serialize};

use crate::world::World;

pub use account_factory::{
    ACCOUNT_FACTORY_PRODUCT_ID, ProvisionedProduct, ProvisioningRecord, RecordKind, RecordOutcome,
};
pub use baselines::{
    BASELINE_VERSION, BaselineOperation, BaselineOperationKind, LANDING_ZONE_VERSION, Registration,
};
pub use controls::{ControlOperation, ControlOperationKind, parse_control_arn};
pub use portfolios::{MAX_PORTFOLIO_TAGS, Portfolio, Share, share_target_text};

/// The home region when none is configured.
pub const DEFAULT_HOME_REGION: &str = "us-east-1";
/// Control Tower's default quota of control operations in flight.
pub const DEFAULT_CONTROL_OPERATIONS_IN_FLIGHT: usize = 10;

/// How control operations behave in this process (not persisted): set by
/// [`crate::SimBackend`] from its settings, builder methods and injected faults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GovernanceSettings {
    /// The region enabled-control ARNs name when the control ARN has none.
    pub home_region: String,
    /// Polls a control operation is answered `IN_PROGRESS`.
    pub control_operation_polls: u32,
    /// Polls an Account Factory record is answered `IN_PROGRESS`.
    pub provisioning_polls: u32,
    /// Control operations in flight before `ServiceQuotaExceededException`.
    pub control_operations_in_flight: usize,
    /// Short control ids whose operations fail (`fail_control=` in
    /// [`crate::FAULTS_ENV`]).
    pub fail_controls: BTreeSet<String>,
    /// OU names whose baseline operations fail (`fail_registration=` in
    /// [`crate::FAULTS_ENV`]).
    pub fail_registrations: BTreeSet<String>,
}

impl Default for GovernanceSettings {
    fn default() -> Self {
        GovernanceSettings {
            home_region: DEFAULT_HOME_REGION.to_string(),
            control_operation_polls: 0,
            provisioning_polls: 0,
            control_operations_in_flight: DEFAULT_CONTROL_OPERATIONS_IN_FLIGHT,
            fail_controls: BTreeSet::new(),
            fail_registrations: BTreeSet::new(),
        }
    }
}

/// Everything Control Tower and Service Catalog hold, as the world file stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    /// By enabled-control ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub enabled_controls: BTreeMap<String, LiveEnabledControl>,
    /// OU registrations, by enabled-baseline ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub registrations: BTreeMap<String, Registration>,
    /// By operation id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub baseline_operations: BTreeMap<String, BaselineOperation>,
    /// By operation id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub control_operations: BTreeMap<String, ControlOperation>,
    /// By portfolio id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub portfolios: BTreeMap<String, Portfolio>,
    /// By provisioned product id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provisioned_products: BTreeMap<String, ProvisionedProduct>,
    /// By record id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub records: BTreeMap<String, ProvisioningRecord>,
    /// The Control Tower landing zone of the home region. A world plays an organization
    /// with Control Tower set up, so it has an active one until `landfall sim
    /// landing-zone` says otherwise.
    #[serde(default, skip_serializing_if = "LandingZone::is_active")]
    pub landing_zone: LandingZone,
    /// Service Catalog's AWS Organizations access (`landfall sim organizations-access`);
    /// enabled unless turned off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub organizations_access_disabled: bool,
}

/// Where the sim's Control Tower landing zone stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandingZone {
    #[default]
    Active,
    /// Active, but Control Tower reports drift (`DRIFTED`).
    Drifted,
    /// Its last operation failed (`FAILED`).
    Failed,
    /// Control Tower is not set up in the home region.
    None,
}

impl LandingZone {
    pub fn is_active(&self) -> bool {
        *self == LandingZone::Active
    }
}

impl Governance {
    pub fn is_empty(&self) -> bool {
        self.landing_zone.is_active()
            && !self.organizations_access_disabled
            && self.enabled_controls.is_empty()
            && self.control_operations.is_empty()
            && self.registrations.is_empty()
            && self.baseline_operations.is_empty()
            && self.portfolios.is_empty()
            && self.provisioned_products.is_empty()
            && self.records.is_empty()
    }

    /// Consistency checks for a loaded world file.
    pub fn check(&self) -> Result<(), String> {
        for (id, record) in &self.records {
            if !self
                .provisioned_products
                .contains_key(&record.provisioned_product_id)
            {
                return Err(format!(
                    "record {id} belongs to unknown provisioned product {}",
                    record.provisioned_product_id
                ));
            }
        }
        for (arn, control) in &self.enabled_controls {
            if *arn != control.arn {
                return Err(format!("enabled control {arn} is stored under another ARN"));
            }
        }
        for (arn, registration) in &self.registrations {
            if *arn != registration.baseline.arn {
                return Err(format!(
                    "enabled baseline {arn} is stored under another ARN"
                ));
            }
        }
        Ok(())
    }
}

/// What one poll of an asynchronous Control Tower operation does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Poll {
    /// Still `IN_PROGRESS` (one poll consumed).
    InProgress,
    /// This poll finishes it, with this outcome.
    Finishes(OperationStatus),
    /// Finished earlier, with this outcome.
    Finished(OperationStatus),
}

impl Poll {
    /// The answer and whether the world changed (a poll consumed, or finished now).
    pub(crate) fn answer(self) -> (OperationStatus, bool) {
        match self {
            Poll::InProgress => (OperationStatus::InProgress, true),
            Poll::Finishes(status) => (status, true),
            Poll::Finished(status) => (status, false),
        }
    }
}

/// One poll: `IN_PROGRESS` while polls remain, then the outcome decided when the
/// operation started (`failure`).
pub(crate) fn poll_operation(
    polls_remaining: &mut u32,
    finished: bool,
    failure: Option<&String>,
) -> Poll {
    if !finished && *polls_remaining > 0 {
        *polls_remaining -= 1;
        return Poll::InProgress;
    }
    let status = match failure {
        Some(message) => OperationStatus::Failed {
            message: message.clone(),
        },
        None => OperationStatus::Succeeded { account_id: None },
    };
    if finished {
        Poll::Finished(status)
    } else {
        Poll::Finishes(status)
    }
}

impl World {
    /// Finishes every control and baseline operation and provisioning record still running (an
    /// earlier process's work: time passed since). Returns whether anything changed.
    pub fn settle_governance(&mut self) -> bool {
        let operations: Vec<String> = self
            .governance
            .control_operations
            .iter()
            .filter(|(_, op)| !op.finished)
            .map(|(id, _)| id.clone())
            .collect();
        let records: Vec<String> = self
            .governance
            .records
            .iter()
            .filter(|(_, r)| !r.finished)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &operations {
            self.finish_control_operation(id);
        }
        for id in &records {
            self.finish_record(id);
        }
        let baseline_operations: Vec<String> = self
            .governance
            .baseline_operations
            .iter()
            .filter(|(_, op)| !op.finished)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &baseline_operations {
            self.finish_baseline_operation(id);
        }
        !(operations.is_empty() && records.is_empty() && baseline_operations.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use landfall_core::live::ShareTarget;
    use landfall_core::model::{Quotas, Tags};

    use super::*;

    #[test]
    fn refused_governance_calls_change_nothing() {
        let mut w = World::new(3, Quotas::default());
        let settings = GovernanceSettings::default();
        let root = w.root_id.clone();
        let ou = w.create_ou(&root, "A", &Tags::new()).unwrap();
        let before = w.governance.clone();
        let arn = "arn:aws:controltower:us-east-1::control/AWS-GR_X";
        let _ = w.enable_control(&settings, "bad", &ou, &BTreeMap::new());
        let _ = w.enable_control(&settings, arn, "ou-none-00000000", &BTreeMap::new());
        let _ = w.disable_control(&settings, arn, &ou);
        let _ = w.create_portfolio("", "p", "", &Tags::new());
        let _ = w.delete_portfolio_share("port-x", &ShareTarget::Organization);
        assert_eq!(w.governance, before);
        assert!(w.governance.is_empty());
    }
}
