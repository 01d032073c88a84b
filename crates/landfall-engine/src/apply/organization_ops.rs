//! The executor's AWS Organizations operations: OUs, policies and their attachments,
//! and account creation, which is asynchronous (`CreateAccount`, then its status polled
//! until the account exists, then the move into its OU).

use crate::provider::{CreateAccountRequest, CreateAccountStatus, ErrorKind};
use landfall_core::plan::{Change, OrganizationOp};

use super::{ApplyError, Executor, Pace};

impl Executor {
    pub(super) async fn run_organization_op(
        &self,
        change: &Change,
        op: &OrganizationOp,
        id: Option<&str>,
        resumed: bool,
    ) -> Result<Option<String>, ApplyError> {
        let p = &self.provider;
        let need_id = || {
            id.map(str::to_string).ok_or_else(|| ApplyError::MissingId {
                address: change.address.clone(),
            })
        };
        match op {
            OrganizationOp::CreateOu { parent, name, tags } => {
                let parent = self.resolve(change, parent)?;
                let id = self
                    .call(change, Pace::Organizations, || {
                        p.create_ou(&parent, name, tags)
                    })
                    .await?;
                Ok(Some(id))
            }
            OrganizationOp::RenameOu { name } => {
                let id = need_id()?;
                self.call(change, Pace::Organizations, || p.rename_ou(&id, name))
                    .await?;
                Ok(None)
            }
            OrganizationOp::DeleteOu => {
                let id = need_id()?;
                let r = self
                    .call(change, Pace::Organizations, || p.delete_ou(&id))
                    .await;
                Self::tolerate(r, &[ErrorKind::NotFound])?;
                Ok(None)
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
                    self.call(change, Pace::Organizations, || {
                        p.move_account(&account_id, &root, &parent)
                    })
                    .await?;
                }
                Ok(Some(account_id))
            }
            OrganizationOp::MoveAccount { from, to } => {
                let id = need_id()?;
                let (from, to) = (self.resolve(change, from)?, self.resolve(change, to)?);
                self.call(change, Pace::Organizations, || {
                    p.move_account(&id, &from, &to)
                })
                .await?;
                Ok(None)
            }
            OrganizationOp::CloseAccount => {
                let id = need_id()?;
                let r = self
                    .call(change, Pace::Organizations, || p.close_account(&id))
                    .await;
                Self::tolerate(r, &[ErrorKind::AccountAlreadyClosed])?;
                Ok(None)
            }
            OrganizationOp::Tag { tags } => {
                let id = need_id()?;
                self.call(change, Pace::Organizations, || p.tag_resource(&id, tags))
                    .await?;
                Ok(None)
            }
            OrganizationOp::Untag { keys } => {
                let id = need_id()?;
                self.call(change, Pace::Organizations, || p.untag_resource(&id, keys))
                    .await?;
                Ok(None)
            }
            OrganizationOp::CreatePolicy {
                name,
                description,
                content,
                tags,
            } => {
                let id = self
                    .call(change, Pace::Organizations, || {
                        p.create_policy(name, description, content, tags)
                    })
                    .await?;
                Ok(Some(id))
            }
            OrganizationOp::UpdatePolicy {
                description,
                content,
            } => {
                let id = need_id()?;
                self.call(change, Pace::Organizations, || {
                    p.update_policy(&id, description.as_deref(), content.as_deref())
                })
                .await?;
                Ok(None)
            }
            OrganizationOp::DeletePolicy => {
                let id = need_id()?;
                let r = self
                    .call(change, Pace::Organizations, || p.delete_policy(&id))
                    .await;
                Self::tolerate(r, &[ErrorKind::NotFound])?;
                Ok(None)
            }
            OrganizationOp::Attach { policy, target } => {
                let (policy, target) =
                    (self.resolve(change, policy)?, self.resolve(change, target)?);
                let r = self
                    .call(change, Pace::Organizations, || {
                        p.attach_policy(&policy, &target)
                    })
                    .await;
                // AWS attaches FullAWSAccess to new OUs and accounts by itself.
                Self::tolerate(r, &[ErrorKind::DuplicatePolicyAttachment])?;
                Ok(Some(format!("{policy}|{target}")))
            }
            OrganizationOp::Detach { policy, target } => {
                let (policy, target) =
                    (self.resolve(change, policy)?, self.resolve(change, target)?);
                let r = self
                    .call(change, Pace::Organizations, || {
                        p.detach_policy(&policy, &target)
                    })
                    .await;
                Self::tolerate(r, &[ErrorKind::PolicyNotAttached, ErrorKind::NotFound])?;
                Ok(None)
            }
        }
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
        let _permit = self.create_accounts.acquire().await.ok();
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
                .call(change, Pace::Unpaced, || p.in_progress_account_creations())
                .await?;
            earlier = pending
                .into_iter()
                .find(|(_, account_name)| account_name == name)
                .map(|(request_id, _)| request_id);
        }
        let request_id = match earlier {
            Some(id) => id,
            None => {
                self.call(change, Pace::Organizations, || p.create_account(&request))
                    .await?
            }
        };
        for poll in 0..self.limits.max_polls {
            if poll > 0 {
                tokio::time::sleep(self.limits.poll_interval).await;
            }
            let status = self
                .call(change, Pace::Unpaced, || {
                    p.create_account_status(&request_id)
                })
                .await?;
            match status {
                CreateAccountStatus::InProgress => continue,
                CreateAccountStatus::Succeeded { account_id } => return Ok(account_id),
                CreateAccountStatus::Failed { reason } => {
                    return Err(ApplyError::AccountCreationFailed {
                        address: change.address.clone(),
                        email: email.to_string(),
                        reason,
                    });
                }
            }
        }
        Err(ApplyError::AccountCreationTimedOut {
            address: change.address.clone(),
            email: email.to_string(),
            polls: self.limits.max_polls,
        })
    }
}
