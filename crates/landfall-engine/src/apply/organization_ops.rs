//! The executor's AWS Organizations operations: OUs, policies and their attachments,
//! and account creation, which is asynchronous (`CreateAccount`, then its status polled
//! until the account exists, then the move into its OU).

use crate::call::OrganizationsCall as C;
use crate::provider::{CreateAccountRequest, CreateAccountStatus};
use crate::typed_calls::FromReply;
use landfall_core::plan::{Change, OrganizationOp};

use super::{ApplyError, Executor};

impl Executor {
    pub(super) async fn run_organization_op(
        &self,
        change: &Change,
        op: &OrganizationOp,
        id: Option<&str>,
        resumed: bool,
    ) -> Result<Option<String>, ApplyError> {
        let target = || Self::target(change, id);
        match op {
            OrganizationOp::CreateOu { parent, name, tags } => {
                let parent_id = &self.resolve(change, parent)?;
                let call = C::CreateOrganizationalUnit {
                    parent_id,
                    name,
                    tags,
                };
                let id = self.execute_for_id(change, call);
                Ok(Some(id.await?))
            }
            OrganizationOp::RenameOu { name } => {
                self.done(
                    change,
                    C::UpdateOrganizationalUnit {
                        ou_id: target()?,
                        name,
                    },
                )
                .await
            }
            OrganizationOp::DeleteOu => {
                self.done(change, C::DeleteOrganizationalUnit { ou_id: target()? })
                    .await
            }
            OrganizationOp::CreateAccount {
                name,
                email,
                tags,
                parent,
                role_name,
            } => {
                let parent = self.resolve(change, parent)?;
                let account_id = self
                    .create_account(change, name, email, tags, role_name, resumed)
                    .await?;
                let root = self.root_id.clone().unwrap_or_default();
                if parent != root {
                    self.done(
                        change,
                        C::MoveAccount {
                            account_id: &account_id,
                            source_parent_id: &root,
                            destination_parent_id: &parent,
                        },
                    )
                    .await?;
                }
                Ok(Some(account_id))
            }
            OrganizationOp::MoveAccount { from, to } => {
                let (from, to) = (self.resolve(change, from)?, self.resolve(change, to)?);
                self.done(
                    change,
                    C::MoveAccount {
                        account_id: target()?,
                        source_parent_id: &from,
                        destination_parent_id: &to,
                    },
                )
                .await
            }
            OrganizationOp::RenameAccount { name } => {
                self.done(
                    change,
                    C::PutAccountName {
                        account_id: target()?,
                        name,
                    },
                )
                .await
            }
            OrganizationOp::CloseAccount => {
                self.done(
                    change,
                    C::CloseAccount {
                        account_id: target()?,
                    },
                )
                .await
            }
            OrganizationOp::Tag { tags } => {
                self.done(
                    change,
                    C::TagResource {
                        resource_id: target()?,
                        tags,
                    },
                )
                .await
            }
            OrganizationOp::Untag { keys } => {
                self.done(
                    change,
                    C::UntagResource {
                        resource_id: target()?,
                        keys,
                    },
                )
                .await
            }
            OrganizationOp::CreatePolicy {
                policy_type,
                name,
                description,
                content,
                tags,
            } => {
                let call = C::CreatePolicy {
                    policy_type: *policy_type,
                    name,
                    description,
                    content,
                    tags,
                };
                let id = self.execute_for_id(change, call);
                Ok(Some(id.await?))
            }
            OrganizationOp::UpdatePolicy {
                name,
                description,
                content,
            } => {
                self.done(
                    change,
                    C::UpdatePolicy {
                        policy_id: target()?,
                        name: name.as_deref(),
                        description: description.as_deref(),
                        content: content.as_deref(),
                    },
                )
                .await
            }
            OrganizationOp::DeletePolicy => {
                self.done(
                    change,
                    C::DeletePolicy {
                        policy_id: target()?,
                    },
                )
                .await
            }
            OrganizationOp::Attach { policy, target } => {
                let (policy, target) =
                    (self.resolve(change, policy)?, self.resolve(change, target)?);
                self.done(
                    change,
                    C::AttachPolicy {
                        policy_id: &policy,
                        target_id: &target,
                    },
                )
                .await?;
                Ok(Some(format!("{policy}|{target}")))
            }
            OrganizationOp::AttachedByAws { policy, target } => {
                // AWS attached it when it created the target (in this run or an
                // interrupted earlier one): no call, so resuming repeats nothing.
                let (policy, target) =
                    (self.resolve(change, policy)?, self.resolve(change, target)?);
                Ok(Some(format!("{policy}|{target}")))
            }
            OrganizationOp::EnablePolicyType { policy_type } => {
                let root_id = self.root_id.clone().ok_or_else(|| ApplyError::MissingId {
                    address: change.address.clone(),
                })?;
                let call = C::EnablePolicyType {
                    root_id: &root_id,
                    policy_type: *policy_type,
                };
                self.done(change, call).await?;
                // AWS lists the type PENDING_ENABLE first; policies of the type are
                // refused until it is ENABLED.
                self.wait_for_policy_type(change, *policy_type, true)
                    .await?;
                Ok(Some(format!("{root_id}|{}", policy_type.aws_name())))
            }
            OrganizationOp::DisablePolicyType { policy_type } => {
                let root_id = self.root_id.clone().ok_or_else(|| ApplyError::MissingId {
                    address: change.address.clone(),
                })?;
                let call = C::DisablePolicyType {
                    root_id: &root_id,
                    policy_type: *policy_type,
                };
                self.done(change, call).await?;
                self.wait_for_policy_type(change, *policy_type, false)
                    .await?;
                Ok(None)
            }
            OrganizationOp::Detach { policy, target } => {
                let (policy, target) =
                    (self.resolve(change, policy)?, self.resolve(change, target)?);
                self.done(
                    change,
                    C::DetachPolicy {
                        policy_id: &policy,
                        target_id: &target,
                    },
                )
                .await
            }
        }
    }

    /// Polls the root until the policy type is (or is no longer) `ENABLED`.
    async fn wait_for_policy_type(
        &self,
        change: &Change,
        policy_type: landfall_core::PolicyType,
        enabled: bool,
    ) -> Result<(), ApplyError> {
        for poll in 0..self.limits.max_polls {
            if poll > 0 {
                self.idle(tokio::time::sleep(self.limits.poll_interval))
                    .await;
            }
            let root = self
                .call(change, None, || self.provider.organization_root())
                .await?;
            if root.enabled_policy_types.contains(&policy_type) == enabled {
                return Ok(());
            }
        }
        Err(ApplyError::OperationTimedOut {
            address: change.address.clone(),
            api: if enabled {
                "EnablePolicyType"
            } else {
                "DisablePolicyType"
            },
            polls: self.limits.max_polls,
        })
    }

    pub(super) async fn create_account(
        &self,
        change: &Change,
        name: &str,
        email: &str,
        tags: &landfall_core::model::Tags,
        role_name: &str,
        resumed: bool,
    ) -> Result<String, ApplyError> {
        let p = &self.provider;
        // AWS allows a handful of CreateAccount requests in flight.
        let _permit = self.limited(&self.create_accounts).await;
        let request = CreateAccountRequest {
            name: name.to_string(),
            email: email.to_string(),
            tags: tags.clone(),
            role_name: role_name.to_string(),
        };
        // An interrupted run may have left this creation IN_PROGRESS (not yet listed
        // as an account): wait for that request rather than create a second account.
        let mut earlier = None;
        if resumed {
            let pending = self
                .call(change, None, || p.in_progress_account_creations())
                .await?;
            earlier = pending
                .into_iter()
                .find(|(_, account_name)| account_name == name)
                .map(|(request_id, _)| request_id);
        }
        let request_id = match earlier {
            Some(id) => id,
            None => {
                let call = C::CreateAccount(&request);
                let reply = self.execute(change, call).await?;
                // A response that says the creation already finished needs no poll.
                if let Some(status) = &reply.account_status
                    && let Some(done) = Self::account_created(change, email, status.clone())
                {
                    return done;
                }
                String::from_reply(call.api(), reply).map_err(|source| ApplyError::Provider {
                    address: change.address.clone(),
                    source: Box::new(source),
                })?
            }
        };
        for poll in 0..self.limits.max_polls {
            if poll > 0 {
                self.idle(tokio::time::sleep(self.limits.poll_interval))
                    .await;
            }
            let status = self
                .call(change, None, || p.create_account_status(&request_id))
                .await?;
            if let Some(done) = Self::account_created(change, email, status) {
                return done;
            }
        }
        Err(ApplyError::AccountCreationTimedOut {
            address: change.address.clone(),
            email: email.to_string(),
            polls: self.limits.max_polls,
        })
    }

    /// What a creation's status means: the new account's id, its failure, or `None`
    /// while it is in progress.
    fn account_created(
        change: &Change,
        email: &str,
        status: CreateAccountStatus,
    ) -> Option<Result<String, ApplyError>> {
        match status {
            CreateAccountStatus::InProgress => None,
            CreateAccountStatus::Succeeded { account_id } => Some(Ok(account_id)),
            CreateAccountStatus::Failed { reason } => {
                Some(Err(ApplyError::AccountCreationFailed {
                    address: change.address.clone(),
                    email: email.to_string(),
                    reason,
                }))
            }
        }
    }
}
