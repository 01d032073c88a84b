//! The Account Factory: its product, provisioned products (one per account) and
//! their provisioning records — `ProvisionProduct` creates the account in its OU,
//! `UpdateProvisionedProduct` moves it (or provisions a failed product again), and a
//! record is polled to its outcome, which finishes the provisioned product.

use landfall_core::live::{AccountStatus, LiveProvisionedAccount};
use landfall_core::model::ACCOUNT_FACTORY_PRODUCT;
use landfall_engine::provider::{AccountFactoryRequest, ErrorKind, OperationStatus};
use serde::{Deserialize, Serialize};

use super::{Governance, GovernanceSettings};
use crate::ids::IdSource;
use crate::world::{Denied, Rule, World, validate_email, validate_name, validate_tags};

/// The id of the sim's Account Factory product (named [`ACCOUNT_FACTORY_PRODUCT`]).
pub const ACCOUNT_FACTORY_PRODUCT_ID: &str = "prod-landfallsim01";

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

impl Governance {
    fn product_named(&self, name: &str) -> Option<&ProvisionedProduct> {
        self.provisioned_products.values().find(|p| p.name == name)
    }
}

impl World {
    pub(super) fn check_product(&self, product: &str) -> Rule<()> {
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
            Some(_) if !self.is_registered(&request.ou_id) => Err(format!(
                "ManagedOrganizationalUnit {managed:?}: OU {} is not registered with AWS Control Tower",
                request.ou_id
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
            Ok(()) => {
                let account_id = self.add_account(
                    &request.account_name,
                    &request.account_email,
                    &request.tags,
                    &request.ou_id,
                );
                // Account Factory enrolls what it provisions.
                self.enroll(&request.ou_id, &account_id);
                RecordOutcome::Succeeded { account_id }
            }
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
                    self.enroll(&request.ou_id, account_id);
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

    pub(super) fn finish_record(&mut self, record_id: &str) {
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
}

fn failed_message(account_name: &str, reason: &str) -> String {
    format!("Account Factory could not provision account {account_name}: {reason}")
}
