//! The executor's Control Tower (controls, OU registrations), Account Factory and
//! Service Catalog operations. They
//! are asynchronous on AWS's side: each starts an operation and polls it to the end, so
//! a change is complete only when Control Tower (or Service Catalog) says it is.

use crate::call::{GovernanceCall as G, Outcome};
use crate::provider::{AccountFactoryRequest, OperationStatus, PortfolioUpdate};
use landfall_core::live::ShareTarget;
use landfall_core::plan::{Change, GovernanceOp, ShareRef};

use super::{ApplyError, Executor};

impl Executor {
    pub(super) async fn run_governance_op(
        &self,
        change: &Change,
        op: &GovernanceOp,
        id: Option<&str>,
        resumed: bool,
    ) -> Result<Option<String>, ApplyError> {
        let p = &self.provider;
        let target = || Self::target(change, id);
        match op {
            GovernanceOp::EnableControl {
                control_arn,
                ou,
                parameters,
            } => {
                let ou = self.resolve(change, ou)?;
                let _permit = self.limited(&self.control_operations).await;
                // After an interrupted run the control may be enabled already.
                let earlier = if resumed {
                    self.call(change, None, || p.enabled_control_arn(control_arn, &ou))
                        .await?
                } else {
                    None
                };
                if let Some(arn) = earlier {
                    return Ok(Some(arn));
                }
                let call = G::EnableControl {
                    control_arn,
                    ou_id: &ou,
                    parameters,
                };
                let operation = self.execute_for_id(change, call).await?;
                self.await_operation(change, &call, &operation).await?;
                let arn = self
                    .call(change, None, || p.enabled_control_arn(control_arn, &ou))
                    .await?;
                arn.map(Some).ok_or_else(|| ApplyError::OperationFailed {
                    address: change.address.clone(),
                    api: "EnableControl",
                    message:
                        "the operation succeeded but the control is not listed as enabled on the OU"
                            .into(),
                })
            }
            GovernanceOp::UpdateEnabledControl { parameters } => {
                let call = G::UpdateEnabledControl {
                    enabled_control_arn: target()?,
                    parameters,
                };
                self.control_tower_operation(change, call).await
            }
            GovernanceOp::ResetEnabledControl => {
                let call = G::ResetEnabledControl {
                    enabled_control_arn: target()?,
                };
                self.control_tower_operation(change, call).await
            }
            GovernanceOp::DisableControl { control_arn, ou } => {
                let ou = self.resolve(change, ou)?;
                let _permit = self.limited(&self.control_operations).await;
                let call = G::DisableControl {
                    control_arn,
                    ou_id: &ou,
                };
                // No operation when the control was disabled already.
                if let Some(operation) = self.execute(change, call).await?.id {
                    self.await_operation(change, &call, &operation).await?;
                }
                Ok(None)
            }
            GovernanceOp::EnableBaseline {
                ou,
                baseline,
                version,
                identity_center,
            } => {
                let ou = self.resolve(change, ou)?;
                let _permit = self.limited(&self.control_operations).await;
                // After an interrupted run the OU may be registered already.
                let earlier = if resumed {
                    self.call(change, None, || p.enabled_baseline_arn(&ou))
                        .await?
                } else {
                    None
                };
                if let Some(arn) = earlier {
                    return Ok(Some(arn));
                }
                let call = G::EnableBaseline {
                    baseline_arn: baseline,
                    version,
                    ou_id: &ou,
                    identity_center: identity_center.as_deref(),
                };
                let operation = self.execute_for_id(change, call).await?;
                self.await_operation(change, &call, &operation).await?;
                let arn = self
                    .call(change, None, || p.enabled_baseline_arn(&ou))
                    .await?;
                arn.map(Some).ok_or_else(|| ApplyError::OperationFailed {
                    address: change.address.clone(),
                    api: "EnableBaseline",
                    message:
                        "the operation succeeded but the OU has no enabled AWSControlTowerBaseline"
                            .into(),
                })
            }
            GovernanceOp::UpdateEnabledBaseline {
                version,
                identity_center,
            } => {
                let call = G::UpdateEnabledBaseline {
                    enabled_baseline_arn: target()?,
                    version,
                    identity_center: identity_center.as_deref(),
                };
                self.control_tower_operation(change, call).await
            }
            GovernanceOp::ResetEnabledBaseline => {
                let call = G::ResetEnabledBaseline {
                    enabled_baseline_arn: target()?,
                };
                self.control_tower_operation(change, call).await
            }
            GovernanceOp::DisableBaseline => {
                let call = G::DisableBaseline {
                    enabled_baseline_arn: target()?,
                };
                let _permit = self.limited(&self.control_operations).await;
                // No operation when the OU was deregistered already.
                if let Some(operation) = self.execute(change, call).await?.id {
                    self.await_operation(change, &call, &operation).await?;
                }
                Ok(None)
            }
            GovernanceOp::ProvisionAccount {
                product,
                name,
                email,
                ou_name,
                ou,
                sso_user,
                tags,
            } => {
                let ou_id = self.resolve(change, ou)?;
                let request = AccountFactoryRequest {
                    product: product.clone(),
                    provisioned_product_name: name.clone(),
                    account_name: name.clone(),
                    account_email: email.clone(),
                    ou_name: ou_name.clone(),
                    ou_id,
                    sso_user: sso_user.clone(),
                    tags: tags.clone(),
                };
                let _permit = self.limited(&self.account_factory).await;
                // A provisioned product of this name may exist already: provisioning
                // under way when an earlier run was interrupted (wait for it), done
                // (adopt its account), or failed (provision it again by updating it —
                // Service Catalog refuses a second product of the same name).
                let existing = self
                    .call(change, None, || p.provisioned_account(product, name))
                    .await?;
                let record = match existing {
                    Some(pp) => match (pp.status.as_str(), &pp.account_id, &pp.last_record_id) {
                        ("AVAILABLE", Some(account_id), _) => return Ok(Some(account_id.clone())),
                        ("UNDER_CHANGE" | "PLAN_IN_PROGRESS", _, Some(record)) => record.clone(),
                        _ => {
                            let call = G::UpdateProvisionedProduct {
                                provisioned_product_id: &pp.provisioned_product_id,
                                request: &request,
                            };
                            self.execute_for_id(change, call).await?
                        }
                    },
                    None => {
                        self.execute_for_id(change, G::ProvisionProduct(&request))
                            .await?
                    }
                };
                let account = self
                    .await_operation(change, &G::ProvisionProduct(&request), &record)
                    .await?;
                self.provisioned_account_id(change, product, name, account)
                    .await
            }
            GovernanceOp::UpdateProvisionedAccount {
                provisioned_product_id,
                product,
                name,
                email,
                ou_name,
                ou,
                sso_user,
            } => {
                let ou_id = self.resolve(change, ou)?;
                let request = AccountFactoryRequest {
                    product: product.clone(),
                    provisioned_product_name: name.clone(),
                    account_name: name.clone(),
                    account_email: email.clone(),
                    ou_name: ou_name.clone(),
                    ou_id,
                    sso_user: sso_user.clone(),
                    tags: Default::default(),
                };
                let _permit = self.limited(&self.account_factory).await;
                let call = G::UpdateProvisionedProduct {
                    provisioned_product_id,
                    request: &request,
                };
                let record = self.execute_for_id(change, call).await?;
                self.await_operation(change, &call, &record).await?;
                Ok(None)
            }
            GovernanceOp::CreatePortfolio {
                display_name,
                provider_name,
                description,
                tags,
            } => {
                let call = G::CreatePortfolio {
                    display_name,
                    provider_name,
                    description,
                    tags,
                };
                Ok(Some(self.execute_for_id(change, call).await?))
            }
            GovernanceOp::UpdatePortfolio {
                display_name,
                provider_name,
                description,
                add_tags,
                remove_tags,
            } => {
                let update = PortfolioUpdate {
                    display_name: display_name.clone(),
                    provider: provider_name.clone(),
                    description: description.clone(),
                    add_tags: add_tags.clone(),
                    remove_tags: remove_tags.clone(),
                };
                let call = G::UpdatePortfolio {
                    portfolio_id: target()?,
                    update: &update,
                };
                self.done(change, call).await
            }
            GovernanceOp::DeletePortfolio => {
                let call = G::DeletePortfolio {
                    portfolio_id: target()?,
                };
                self.done(change, call).await
            }
            GovernanceOp::SharePortfolio {
                portfolio,
                target,
                share_tag_options,
            } => {
                let portfolio = self.resolve(change, portfolio)?;
                let target = self.share_target(change, target)?;
                let call = G::CreatePortfolioShare {
                    portfolio_id: &portfolio,
                    target: &target,
                    share_tag_options: *share_tag_options,
                };
                self.execute(change, call).await?;
                Ok(Some(landfall_core::governance::share_id(
                    &portfolio, &target,
                )))
            }
            GovernanceOp::UnsharePortfolio { portfolio, target } => {
                let portfolio = self.resolve(change, portfolio)?;
                let target = self.share_target(change, target)?;
                let call = G::DeletePortfolioShare {
                    portfolio_id: &portfolio,
                    target: &target,
                };
                self.done(change, call).await
            }
        }
    }

    fn share_target(&self, change: &Change, target: &ShareRef) -> Result<ShareTarget, ApplyError> {
        Ok(match target {
            ShareRef::Organization => ShareTarget::Organization,
            ShareRef::OrganizationalUnit(r) => {
                ShareTarget::OrganizationalUnit(self.resolve(change, r)?)
            }
            ShareRef::Account(r) => ShareTarget::Account(self.resolve(change, r)?),
        })
    }

    /// Starts a Control Tower operation (an update or reset, which always starts one)
    /// under the operation quota and waits for it to end.
    async fn control_tower_operation(
        &self,
        change: &Change,
        call: G<'_>,
    ) -> Result<Option<String>, ApplyError> {
        let _permit = self.limited(&self.control_operations).await;
        let operation = self.execute_for_id(change, call).await?;
        self.await_operation(change, &call, &operation).await?;
        Ok(None)
    }

    /// Polls what `call` started (`id`: its operation or record) to the end; returns
    /// the account id a provisioning record reports, if any.
    async fn await_operation(
        &self,
        change: &Change,
        call: &G<'_>,
        id: &str,
    ) -> Result<Option<String>, ApplyError> {
        let p = &self.provider;
        let api = call.api();
        let every = self.limits.operation_poll_interval;
        match call.outcome() {
            Outcome::ControlOperation => {
                self.poll(change, api, every, || p.control_operation(id))
                    .await
            }
            Outcome::BaselineOperation => {
                self.poll(change, api, every, || p.baseline_operation(id))
                    .await
            }
            Outcome::ProvisioningRecord => {
                self.poll(change, api, every, || p.provisioning_record(id))
                    .await
            }
            Outcome::Immediate => Ok(None),
        }
    }

    /// The new account's id: from the record, else from the provisioned product.
    async fn provisioned_account_id(
        &self,
        change: &Change,
        product: &str,
        name: &str,
        from_record: Option<String>,
    ) -> Result<Option<String>, ApplyError> {
        if let Some(id) = from_record {
            return Ok(Some(id));
        }
        let p = &self.provider;
        let pp = self
            .call(change, None, || p.provisioned_account(product, name))
            .await?;
        match pp.and_then(|pp| pp.account_id) {
            Some(id) => Ok(Some(id)),
            None => Err(ApplyError::OperationFailed {
                address: change.address.clone(),
                api: "ProvisionProduct",
                message: "provisioning succeeded but reported no account id".into(),
            }),
        }
    }

    /// Polls an asynchronous operation every `interval` until it ends, lending the
    /// change's working slot out between polls.
    pub(super) async fn poll<F, Fut>(
        &self,
        change: &Change,
        api: &'static str,
        interval: std::time::Duration,
        status: F,
    ) -> Result<Option<String>, ApplyError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = crate::provider::ProviderResult<OperationStatus>>,
    {
        for poll in 0..self.limits.max_polls {
            if poll > 0 {
                self.idle(tokio::time::sleep(interval)).await;
            }
            match self.call(change, None, &status).await? {
                OperationStatus::InProgress => continue,
                OperationStatus::Succeeded { account_id } => return Ok(account_id),
                OperationStatus::Failed { message } => {
                    return Err(ApplyError::OperationFailed {
                        address: change.address.clone(),
                        api,
                        message,
                    });
                }
            }
        }
        Err(ApplyError::OperationTimedOut {
            address: change.address.clone(),
            api,
            polls: self.limits.max_polls,
        })
    }
}
