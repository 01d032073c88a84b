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

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::live::GovernanceScope;
use landfall_core::live::{
    AccountStatus, ControlStatus, LiveEnabledControl, LiveGovernance, LivePortfolio,
    LivePortfolioShare, LiveProvisionedAccount, ShareTarget, control_short_id,
};
use landfall_core::model::{ACCOUNT_FACTORY_PRODUCT, Tags};
use landfall_engine::provider::{
    AccountFactoryRequest, ErrorKind, OperationStatus, PortfolioUpdate,
};
use serde::{Deserialize, Serialize};

use crate::ids::IdSource;
use crate::world::{
    Denied, Rule, World, is_region_name, ou_not_found, validate_email, validate_name, validate_tags,
};

/// The id of the sim's Account Factory product (named [`ACCOUNT_FACTORY_PRODUCT`]).
pub const ACCOUNT_FACTORY_PRODUCT_ID: &str = "prod-landfallsim01";
/// The home region when none is configured.
pub const DEFAULT_HOME_REGION: &str = "us-east-1";
/// Control Tower's default quota of control operations in flight.
pub const DEFAULT_CONTROL_OPERATIONS_IN_FLIGHT: usize = 10;
/// Service Catalog allows at most 20 tags on a portfolio.
pub const MAX_PORTFOLIO_TAGS: usize = 20;

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
}

impl Default for GovernanceSettings {
    fn default() -> Self {
        GovernanceSettings {
            home_region: DEFAULT_HOME_REGION.to_string(),
            control_operation_polls: 0,
            provisioning_polls: 0,
            control_operations_in_flight: DEFAULT_CONTROL_OPERATIONS_IN_FLIGHT,
            fail_controls: BTreeSet::new(),
        }
    }
}

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

/// A portfolio share as Service Catalog keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub target: ShareTarget,
    pub accepted: bool,
    pub share_tag_options: bool,
    /// The share token of an organization-node share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    pub portfolio: LivePortfolio,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<Share>,
}

/// An Account Factory provisioned product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionedProduct {
    pub id: String,
    pub name: String,
    /// `UNDER_CHANGE`, `AVAILABLE`, `ERROR` (provisioning failed) or `TAINTED` (an
    /// update failed).
    pub status: String,
    /// Set when the provisioning record succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The account email it was provisioned with (Account Factory cannot change it).
    pub account_email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_record_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordKind {
    ProvisionProduct,
    UpdateProvisionedProduct,
}

/// How a provisioning record ends (decided when it starts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordOutcome {
    Succeeded { account_id: String },
    Failed { message: String },
}

/// A Service Catalog record (`DescribeRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningRecord {
    pub provisioned_product_id: String,
    pub kind: RecordKind,
    pub polls_remaining: u32,
    pub outcome: RecordOutcome,
    pub finished: bool,
}

/// Everything Control Tower and Service Catalog hold, as the world file stores it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    /// By enabled-control ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub enabled_controls: BTreeMap<String, LiveEnabledControl>,
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
}

impl Governance {
    pub fn is_empty(&self) -> bool {
        self.enabled_controls.is_empty()
            && self.control_operations.is_empty()
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
        Ok(())
    }

    fn enabled_on(&self, short_id: &str, target_id: &str) -> Option<&LiveEnabledControl> {
        self.enabled_controls
            .values()
            .find(|c| c.target_id == target_id && c.short_id() == short_id)
    }

    fn in_flight(&self) -> usize {
        self.control_operations
            .values()
            .filter(|op| !op.finished)
            .count()
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

    fn product_named(&self, name: &str) -> Option<&ProvisionedProduct> {
        self.provisioned_products.values().find(|p| p.name == name)
    }

    /// Everything, as a refresh of every OU, portfolio and provisioned product would
    /// read it.
    pub fn to_live(&self) -> LiveGovernance {
        let mut live = LiveGovernance {
            read: true,
            enabled_controls: self.enabled_controls.values().cloned().collect(),
            portfolios: self.live_portfolios(),
            portfolio_shares: self.live_shares(),
            provisioned_accounts: self.live_products(),
        };
        sort_controls(&mut live.enabled_controls);
        live
    }

    fn live_portfolios(&self) -> BTreeMap<String, LivePortfolio> {
        self.portfolios
            .iter()
            .map(|(id, p)| (id.clone(), p.portfolio.clone()))
            .collect()
    }

    fn live_shares(&self) -> Vec<LivePortfolioShare> {
        let mut shares: Vec<LivePortfolioShare> = self
            .portfolios
            .iter()
            .flat_map(|(id, p)| {
                p.shares.iter().map(move |s| LivePortfolioShare {
                    portfolio_id: id.clone(),
                    target: s.target.clone(),
                    accepted: s.accepted,
                    share_tag_options: s.share_tag_options,
                })
            })
            .collect();
        shares.sort_by(|a, b| (&a.portfolio_id, &a.target).cmp(&(&b.portfolio_id, &b.target)));
        shares
    }

    fn live_products(&self) -> Vec<LiveProvisionedAccount> {
        let mut out: Vec<LiveProvisionedAccount> = self
            .provisioned_products
            .values()
            .map(ProvisionedProduct::to_live)
            .collect();
        out.sort_by(|a, b| {
            (&a.name, &a.provisioned_product_id).cmp(&(&b.name, &b.provisioned_product_id))
        });
        out
    }
}

impl ProvisionedProduct {
    pub fn to_live(&self) -> LiveProvisionedAccount {
        LiveProvisionedAccount {
            provisioned_product_id: self.id.clone(),
            name: self.name.clone(),
            status: self.status.clone(),
            account_id: self.account_id.clone(),
            last_record_id: self.last_record_id.clone(),
        }
    }
}

fn sort_controls(controls: &mut [LiveEnabledControl]) {
    controls.sort_by(|a, b| {
        (&a.target_id, a.short_id(), &a.arn).cmp(&(&b.target_id, b.short_id(), &b.arn))
    });
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

fn portfolio_not_found(id: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("ResourceNotFoundException: no portfolio {id}"),
    )
}

fn invalid_parameters(message: impl Into<String>) -> Denied {
    Denied::new(
        ErrorKind::InvalidInput,
        format!("InvalidParametersException: {}", message.into()),
    )
}

fn check_length(what: &str, value: &str, min: usize, max: usize) -> Rule<()> {
    let len = value.chars().count();
    if len < min || len > max || value.chars().any(char::is_control) {
        return Err(invalid_parameters(format!(
            "the {what} must be {min} to {max} printable characters"
        )));
    }
    Ok(())
}

fn check_portfolio_tags(tags: &Tags) -> Rule<()> {
    if tags.len() > MAX_PORTFOLIO_TAGS {
        return Err(Denied::new(
            ErrorKind::Other("LimitExceededException".into()),
            format!(
                "a portfolio has at most {MAX_PORTFOLIO_TAGS} tags; {} given",
                tags.len()
            ),
        ));
    }
    validate_tags(tags)
}

impl World {
    // ---- Control Tower -----------------------------------------------------------

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

    fn check_quota(&self, settings: &GovernanceSettings) -> Rule<()> {
        let running = self.governance.in_flight();
        if running >= settings.control_operations_in_flight {
            return Err(Denied::new(
                ErrorKind::ServiceQuotaExceeded,
                format!(
                    "ServiceQuotaExceededException: {running} control operations are in progress; \
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
        if !op.finished && op.polls_remaining > 0 {
            op.polls_remaining -= 1;
            return Ok((OperationStatus::InProgress, true));
        }
        let changed = !op.finished;
        let status = match &op.failure {
            Some(message) => OperationStatus::Failed {
                message: message.clone(),
            },
            None => OperationStatus::Succeeded { account_id: None },
        };
        if changed {
            self.finish_control_operation(operation_id);
        }
        Ok((status, changed))
    }

    fn finish_control_operation(&mut self, operation_id: &str) {
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

    // ---- Account Factory ---------------------------------------------------------

    fn check_product(&self, product: &str) -> Rule<()> {
        if product == ACCOUNT_FACTORY_PRODUCT || product == ACCOUNT_FACTORY_PRODUCT_ID {
            return Ok(());
        }
        Err(Denied::new(
            ErrorKind::NotFound,
            format!(
                "ResourceNotFoundException: no product {product:?}; the sim's Account Factory \
                 product is {ACCOUNT_FACTORY_PRODUCT:?} ({ACCOUNT_FACTORY_PRODUCT_ID})"
            ),
        ))
    }

    /// What Account Factory checks about the managed OU; the message of a failed record.
    fn check_managed_ou(&self, request: &AccountFactoryRequest) -> Result<(), String> {
        let managed = request.managed_ou();
        match self.ous.get(&request.ou_id) {
            None => Err(format!(
                "ManagedOrganizationalUnit {managed:?}: there is no OU {} in the organization",
                request.ou_id
            )),
            Some(ou) if ou.name != request.ou_name => Err(format!(
                "ManagedOrganizationalUnit {managed:?}: OU {} is named {:?}, not {:?}",
                request.ou_id, ou.name, request.ou_name
            )),
            Some(_) => Ok(()),
        }
    }

    /// Everything that makes a new Account Factory account fail; the message of the
    /// failed record.
    fn check_new_account(&self, request: &AccountFactoryRequest) -> Result<(), String> {
        validate_name("account name", &request.account_name, 50).map_err(|d| d.message)?;
        validate_email(&request.account_email).map_err(|d| d.message)?;
        validate_email(&request.sso_user.email)
            .map_err(|d| format!("SSOUserEmail: {}", d.message))?;
        validate_tags(&request.tags).map_err(|d| d.message)?;
        if self.email_in_use(&request.account_email) {
            return Err(format!(
                "the email {} is already used by an AWS account (EMAIL_ALREADY_EXISTS)",
                request.account_email
            ));
        }
        if self.accounts.len() >= self.quotas.max_accounts {
            return Err(format!(
                "the organization already has {} accounts, its limit (ACCOUNT_LIMIT_EXCEEDED)",
                self.accounts.len()
            ));
        }
        self.check_managed_ou(request)
    }

    /// Creates the account in its OU (after [`Self::check_new_account`]).
    fn provision_new_account(&mut self, request: &AccountFactoryRequest) -> RecordOutcome {
        match self.check_new_account(request) {
            Err(reason) => RecordOutcome::Failed {
                message: failed_message(&request.account_name, &reason),
            },
            Ok(()) => RecordOutcome::Succeeded {
                account_id: self.add_account(
                    &request.account_name,
                    &request.account_email,
                    &request.tags,
                    &request.ou_id,
                ),
            },
        }
    }

    fn start_record(
        &mut self,
        settings: &GovernanceSettings,
        product_id: &str,
        kind: RecordKind,
        outcome: RecordOutcome,
    ) -> String {
        let record_id = self.fresh(IdSource::record, |w, id| {
            w.governance.records.contains_key(id)
        });
        self.governance.records.insert(
            record_id.clone(),
            ProvisioningRecord {
                provisioned_product_id: product_id.to_string(),
                kind,
                polls_remaining: settings.provisioning_polls,
                outcome,
                finished: false,
            },
        );
        if let Some(product) = self.governance.provisioned_products.get_mut(product_id) {
            product.status = "UNDER_CHANGE".into();
            product.last_record_id = Some(record_id.clone());
        }
        record_id
    }

    /// `ProvisionProduct` of the Account Factory: returns the record id. The account
    /// is created in its OU at once when nothing is wrong; otherwise the record fails
    /// (with the reason) and no account is created, as Account Factory does.
    pub fn provision_account(
        &mut self,
        settings: &GovernanceSettings,
        request: &AccountFactoryRequest,
    ) -> Rule<String> {
        self.check_product(&request.product)?;
        validate_name(
            "provisioned product name",
            &request.provisioned_product_name,
            128,
        )?;
        if let Some(existing) = self
            .governance
            .product_named(&request.provisioned_product_name)
        {
            return Err(Denied::new(
                ErrorKind::Other("DuplicateResourceException".into()),
                format!(
                    "a provisioned product named {:?} already exists ({}, {})",
                    existing.name, existing.id, existing.status
                ),
            ));
        }
        let outcome = self.provision_new_account(request);
        let product_id = self.fresh(IdSource::provisioned_product, |w, id| {
            w.governance.provisioned_products.contains_key(id)
        });
        self.governance.provisioned_products.insert(
            product_id.clone(),
            ProvisionedProduct {
                id: product_id.clone(),
                name: request.provisioned_product_name.clone(),
                status: "UNDER_CHANGE".into(),
                account_id: None,
                account_email: request.account_email.clone(),
                last_record_id: None,
            },
        );
        Ok(self.start_record(settings, &product_id, RecordKind::ProvisionProduct, outcome))
    }

    /// `UpdateProvisionedProduct` of the Account Factory: moves the account to the
    /// request's OU. A product whose provisioning failed (no account) is provisioned
    /// again. The account email cannot change.
    pub fn update_provisioned_account(
        &mut self,
        settings: &GovernanceSettings,
        product_id: &str,
        request: &AccountFactoryRequest,
    ) -> Rule<String> {
        self.check_product(&request.product)?;
        let Some(product) = self
            .governance
            .provisioned_products
            .get(product_id)
            .cloned()
        else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no provisioned product {product_id}"),
            ));
        };
        if product.status == "UNDER_CHANGE" {
            return Err(Denied::new(
                ErrorKind::Other("InvalidStateException".into()),
                format!(
                    "provisioned product {product_id} is UNDER_CHANGE (record {}); wait for it",
                    product.last_record_id.as_deref().unwrap_or("?")
                ),
            ));
        }
        let outcome = match &product.account_id {
            None => {
                let outcome = self.provision_new_account(request);
                if let (RecordOutcome::Succeeded { .. }, Some(p)) = (
                    &outcome,
                    self.governance.provisioned_products.get_mut(product_id),
                ) {
                    p.account_email = request.account_email.clone();
                }
                outcome
            }
            Some(account_id) => match self.check_account_update(account_id, &product, request) {
                Err(reason) => RecordOutcome::Failed {
                    message: failed_message(&request.account_name, &reason),
                },
                Ok(()) => {
                    if let Some(account) = self.accounts.get_mut(account_id) {
                        account.parent_id = request.ou_id.clone();
                    }
                    RecordOutcome::Succeeded {
                        account_id: account_id.clone(),
                    }
                }
            },
        };
        Ok(self.start_record(
            settings,
            product_id,
            RecordKind::UpdateProvisionedProduct,
            outcome,
        ))
    }

    fn check_account_update(
        &self,
        account_id: &str,
        product: &ProvisionedProduct,
        request: &AccountFactoryRequest,
    ) -> Result<(), String> {
        match self.accounts.get(account_id) {
            Some(a) if a.status == AccountStatus::Active => {}
            _ => {
                return Err(format!(
                    "account {account_id} is no longer an active account of the organization"
                ));
            }
        }
        if !product
            .account_email
            .eq_ignore_ascii_case(&request.account_email)
        {
            return Err(format!(
                "the account email cannot be changed (it is {}, the update says {})",
                product.account_email, request.account_email
            ));
        }
        self.check_managed_ou(request)
    }

    /// `DescribeRecord`: `IN_PROGRESS` for the configured polls, then the outcome
    /// (which finishes the provisioned product). The bool says whether the world
    /// changed.
    pub fn provisioning_record_status(&mut self, record_id: &str) -> Rule<(OperationStatus, bool)> {
        let Some(record) = self.governance.records.get_mut(record_id) else {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no record {record_id}"),
            ));
        };
        if !record.finished && record.polls_remaining > 0 {
            record.polls_remaining -= 1;
            return Ok((OperationStatus::InProgress, true));
        }
        let changed = !record.finished;
        let status = match &record.outcome {
            RecordOutcome::Succeeded { account_id } => OperationStatus::Succeeded {
                account_id: Some(account_id.clone()),
            },
            RecordOutcome::Failed { message } => OperationStatus::Failed {
                message: message.clone(),
            },
        };
        if changed {
            self.finish_record(record_id);
        }
        Ok((status, changed))
    }

    fn finish_record(&mut self, record_id: &str) {
        let Some(record) = self.governance.records.get_mut(record_id) else {
            return;
        };
        if record.finished {
            return;
        }
        record.finished = true;
        let record = record.clone();
        let Some(product) = self
            .governance
            .provisioned_products
            .get_mut(&record.provisioned_product_id)
        else {
            return;
        };
        match (&record.outcome, record.kind) {
            (RecordOutcome::Succeeded { account_id }, _) => {
                product.status = "AVAILABLE".into();
                product.account_id = Some(account_id.clone());
            }
            (RecordOutcome::Failed { .. }, _) if product.account_id.is_none() => {
                product.status = "ERROR".into();
            }
            (RecordOutcome::Failed { .. }, _) => product.status = "TAINTED".into(),
        }
    }

    /// `SearchProvisionedProducts` by name, for the Account Factory product.
    pub fn provisioned_account(
        &self,
        product: &str,
        name: &str,
    ) -> Rule<Option<LiveProvisionedAccount>> {
        self.check_product(product)?;
        Ok(self
            .governance
            .product_named(name)
            .map(ProvisionedProduct::to_live))
    }

    // ---- Service Catalog portfolios ------------------------------------------------

    /// `CreatePortfolio`: returns the `port-...` id. Display names need not be unique.
    pub fn create_portfolio(
        &mut self,
        display_name: &str,
        provider: &str,
        description: &str,
        tags: &Tags,
    ) -> Rule<String> {
        check_length("portfolio display name", display_name, 1, 100)?;
        check_length("portfolio provider name", provider, 1, 50)?;
        check_length("portfolio description", description, 0, 2000)?;
        check_portfolio_tags(tags)?;
        let id = self.fresh(IdSource::portfolio, |w, id| {
            w.governance.portfolios.contains_key(id)
        });
        self.governance.portfolios.insert(
            id.clone(),
            Portfolio {
                portfolio: LivePortfolio {
                    id: id.clone(),
                    display_name: display_name.to_string(),
                    provider: provider.to_string(),
                    description: description.to_string(),
                    tags: tags.clone(),
                },
                shares: Vec::new(),
            },
        );
        Ok(id)
    }

    /// `UpdatePortfolio`: the given fields, tags added/overwritten and removed.
    pub fn update_portfolio(&mut self, portfolio_id: &str, update: &PortfolioUpdate) -> Rule<()> {
        let Some(current) = self.governance.portfolios.get(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        if let Some(name) = &update.display_name {
            check_length("portfolio display name", name, 1, 100)?;
        }
        if let Some(provider) = &update.provider {
            check_length("portfolio provider name", provider, 1, 50)?;
        }
        if let Some(description) = &update.description {
            check_length("portfolio description", description, 0, 2000)?;
        }
        let mut tags = current.portfolio.tags.clone();
        for key in &update.remove_tags {
            tags.remove(key);
        }
        validate_tags(&update.add_tags)?;
        tags.extend(update.add_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        check_portfolio_tags(&tags)?;
        if let Some(p) = self.governance.portfolios.get_mut(portfolio_id) {
            let p = &mut p.portfolio;
            if let Some(name) = &update.display_name {
                p.display_name = name.clone();
            }
            if let Some(provider) = &update.provider {
                p.provider = provider.clone();
            }
            if let Some(description) = &update.description {
                p.description = description.clone();
            }
            p.tags = tags;
        }
        Ok(())
    }

    /// `DeletePortfolio`: only a portfolio shared with nobody.
    pub fn delete_portfolio(&mut self, portfolio_id: &str) -> Rule<()> {
        let Some(portfolio) = self.governance.portfolios.get(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        if !portfolio.shares.is_empty() {
            return Err(Denied::new(
                ErrorKind::Other("ResourceInUseException".into()),
                format!(
                    "portfolio {portfolio_id} is still shared with {} target(s); delete its shares first",
                    portfolio.shares.len()
                ),
            ));
        }
        self.governance.portfolios.remove(portfolio_id);
        Ok(())
    }

    /// Out of band: a portfolio deleted with all its shares (a console user
    /// unsharing it everywhere, then deleting it).
    pub fn delete_portfolio_and_shares(&mut self, portfolio_id: &str) -> Rule<()> {
        if self.governance.portfolios.remove(portfolio_id).is_none() {
            return Err(portfolio_not_found(portfolio_id));
        }
        Ok(())
    }

    fn check_share_target(&self, target: &ShareTarget) -> Rule<()> {
        match target {
            ShareTarget::Organization => Ok(()),
            ShareTarget::OrganizationalUnit(id) if self.ous.contains_key(id) => Ok(()),
            ShareTarget::OrganizationalUnit(id) => Err(ou_not_found(id)),
            ShareTarget::Account(id) if *id == self.management_account_id => {
                Err(invalid_parameters(format!(
                    "{id} is the management account, which owns the portfolio"
                )))
            }
            ShareTarget::Account(id) if self.accounts.contains_key(id) => Ok(()),
            ShareTarget::Account(id) => Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no account {id} in the organization"),
            )),
        }
    }

    /// `CreatePortfolioShare`: idempotent (an existing share keeps its token and
    /// takes the new `share_tag_options`). Returns the share token of an
    /// organization-node share (organization or OU), `None` for an account share.
    /// Organization-node shares are accepted at once; account shares wait for the
    /// account (the sim never accepts them).
    pub fn create_portfolio_share(
        &mut self,
        portfolio_id: &str,
        target: &ShareTarget,
        share_tag_options: bool,
    ) -> Rule<Option<String>> {
        if !self.governance.portfolios.contains_key(portfolio_id) {
            return Err(portfolio_not_found(portfolio_id));
        }
        self.check_share_target(target)?;
        let org_node = !matches!(target, ShareTarget::Account(_));
        let token = org_node.then(|| {
            self.fresh(IdSource::share_token, |w, token| {
                w.governance
                    .portfolios
                    .values()
                    .any(|p| p.shares.iter().any(|s| s.token.as_deref() == Some(token)))
            })
        });
        let Some(portfolio) = self.governance.portfolios.get_mut(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        if let Some(existing) = portfolio.shares.iter_mut().find(|s| s.target == *target) {
            existing.share_tag_options = share_tag_options;
            return Ok(existing.token.clone());
        }
        portfolio.shares.push(Share {
            target: target.clone(),
            accepted: org_node,
            share_tag_options,
            token: token.clone(),
        });
        portfolio.shares.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(token)
    }

    /// `DeletePortfolioShare`: the share must exist.
    pub fn delete_portfolio_share(&mut self, portfolio_id: &str, target: &ShareTarget) -> Rule<()> {
        let Some(portfolio) = self.governance.portfolios.get_mut(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        let before = portfolio.shares.len();
        portfolio.shares.retain(|s| s.target != *target);
        if portfolio.shares.len() == before {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!(
                    "ResourceNotFoundException: portfolio {portfolio_id} is not shared with {}",
                    share_target_text(target)
                ),
            ));
        }
        Ok(())
    }

    // ---- reads ---------------------------------------------------------------------

    /// What `refresh_governance` returns for `scope`: enabled controls on the OUs it
    /// names (unknown ids read as having none), portfolios and shares, provisioned
    /// products of the Account Factory product.
    pub fn governance_live(&self, scope: &GovernanceScope) -> Rule<LiveGovernance> {
        let mut live = LiveGovernance {
            read: true,
            ..LiveGovernance::default()
        };
        let targets: BTreeSet<&str> = scope.control_targets.iter().map(String::as_str).collect();
        live.enabled_controls = self
            .governance
            .enabled_controls
            .values()
            .filter(|c| targets.contains(c.target_id.as_str()))
            .cloned()
            .collect();
        sort_controls(&mut live.enabled_controls);
        if scope.portfolios {
            live.portfolios = self.governance.live_portfolios();
            live.portfolio_shares = self.governance.live_shares();
        }
        if let Some(product) = &scope.account_factory {
            self.check_product(product)?;
            live.provisioned_accounts = self.governance.live_products();
        }
        Ok(live)
    }

    /// Finishes every control operation and provisioning record still running (an
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
        !(operations.is_empty() && records.is_empty())
    }
}

fn failed_message(account_name: &str, reason: &str) -> String {
    format!("Account Factory could not provision account {account_name}: {reason}")
}

/// `organization`, `OU ou-...`, `account 123456789012`.
pub fn share_target_text(target: &ShareTarget) -> String {
    match target {
        ShareTarget::Organization => "the organization".to_string(),
        ShareTarget::OrganizationalUnit(id) => format!("OU {id}"),
        ShareTarget::Account(id) => format!("account {id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use landfall_core::model::Quotas;

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
