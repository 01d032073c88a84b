//! The executor's IAM Identity Center operations: permission sets and their policies,
//! Identity Store groups, and account assignments. Assignments and provisioning are
//! asynchronous on AWS's side: each starts a request and polls it to the end under
//! Identity Center's limit on outstanding requests, so a change is complete only when
//! Identity Center says the role is in the account.

use landfall_core::identity::assignment_id;
use landfall_core::plan::{Change, IdentityOp, PrincipalRef};

use crate::call::{IdentityCall as I, IdentityRequest};

use super::{ApplyError, Executor};

impl Executor {
    pub(super) async fn run_identity_op(
        &self,
        change: &Change,
        op: &IdentityOp,
        id: Option<&str>,
    ) -> Result<Option<String>, ApplyError> {
        let arn = || Self::target(change, id);
        match op {
            IdentityOp::CreatePermissionSet {
                name,
                description,
                session_duration,
                tags,
            } => {
                let call = I::CreatePermissionSet {
                    name,
                    description: description.as_deref(),
                    session_duration,
                    tags,
                };
                self.execute_for_id(change, call).await.map(Some)
            }
            IdentityOp::UpdatePermissionSet {
                description,
                session_duration,
            } => {
                let call = I::UpdatePermissionSet {
                    permission_set_arn: arn()?,
                    description: description.as_deref(),
                    session_duration,
                };
                self.done(change, call).await
            }
            IdentityOp::AttachManagedPolicy { policy_arn } => {
                let call = I::AttachManagedPolicyToPermissionSet {
                    permission_set_arn: arn()?,
                    policy_arn,
                };
                self.done(change, call).await
            }
            IdentityOp::DetachManagedPolicy { policy_arn } => {
                let call = I::DetachManagedPolicyFromPermissionSet {
                    permission_set_arn: arn()?,
                    policy_arn,
                };
                self.done(change, call).await
            }
            IdentityOp::AttachCustomerManagedPolicy { policy } => {
                let call = I::AttachCustomerManagedPolicyReferenceToPermissionSet {
                    permission_set_arn: arn()?,
                    policy,
                };
                self.done(change, call).await
            }
            IdentityOp::DetachCustomerManagedPolicy { policy } => {
                let call = I::DetachCustomerManagedPolicyReferenceFromPermissionSet {
                    permission_set_arn: arn()?,
                    policy,
                };
                self.done(change, call).await
            }
            IdentityOp::PutInlinePolicy { document } => {
                let call = I::PutInlinePolicyToPermissionSet {
                    permission_set_arn: arn()?,
                    document,
                };
                self.done(change, call).await
            }
            IdentityOp::DeleteInlinePolicy => {
                let call = I::DeleteInlinePolicyFromPermissionSet {
                    permission_set_arn: arn()?,
                };
                self.done(change, call).await
            }
            IdentityOp::PutPermissionsBoundary { boundary } => {
                let call = I::PutPermissionsBoundaryToPermissionSet {
                    permission_set_arn: arn()?,
                    boundary,
                };
                self.done(change, call).await
            }
            IdentityOp::DeletePermissionsBoundary => {
                let call = I::DeletePermissionsBoundaryFromPermissionSet {
                    permission_set_arn: arn()?,
                };
                self.done(change, call).await
            }
            IdentityOp::TagPermissionSet { tags } => {
                let call = I::TagPermissionSet {
                    permission_set_arn: arn()?,
                    tags,
                };
                self.done(change, call).await
            }
            IdentityOp::UntagPermissionSet { keys } => {
                let call = I::UntagPermissionSet {
                    permission_set_arn: arn()?,
                    keys,
                };
                self.done(change, call).await
            }
            IdentityOp::ProvisionPermissionSet => {
                let call = I::ProvisionPermissionSet {
                    permission_set_arn: arn()?,
                };
                self.identity_request(change, call, IdentityRequest::Provisioning)
                    .await?;
                Ok(None)
            }
            IdentityOp::DeletePermissionSet => {
                let call = I::DeletePermissionSet {
                    permission_set_arn: arn()?,
                };
                self.done(change, call).await
            }
            IdentityOp::CreateGroup {
                display_name,
                description,
            } => {
                let call = I::CreateGroup {
                    display_name,
                    description: description.as_deref(),
                };
                self.execute_for_id(change, call).await.map(Some)
            }
            IdentityOp::UpdateGroupDescription { description } => {
                let call = I::UpdateGroup {
                    group_id: Self::target(change, id)?,
                    description: description.as_deref(),
                };
                self.done(change, call).await
            }
            IdentityOp::DeleteGroup => {
                let call = I::DeleteGroup {
                    group_id: Self::target(change, id)?,
                };
                self.done(change, call).await
            }
            IdentityOp::CreateAccountAssignment {
                permission_set,
                principal,
                account,
            } => {
                let permission_set_arn = self.resolve(change, permission_set)?;
                let principal_id = self.principal_id(change, principal)?;
                let account_id = self.resolve(change, account)?;
                let principal_type = principal.principal_type();
                let call = I::CreateAccountAssignment {
                    permission_set_arn: &permission_set_arn,
                    principal_type,
                    principal_id: &principal_id,
                    account_id: &account_id,
                };
                self.identity_request(change, call, IdentityRequest::AssignmentCreation)
                    .await?;
                Ok(Some(assignment_id(
                    &account_id,
                    &permission_set_arn,
                    principal_type,
                    &principal_id,
                )))
            }
            IdentityOp::DeleteAccountAssignment {
                permission_set,
                principal,
                account,
            } => {
                let permission_set_arn = self.resolve(change, permission_set)?;
                let principal_id = self.principal_id(change, principal)?;
                let account_id = self.resolve(change, account)?;
                let call = I::DeleteAccountAssignment {
                    permission_set_arn: &permission_set_arn,
                    principal_type: principal.principal_type(),
                    principal_id: &principal_id,
                    account_id: &account_id,
                };
                self.identity_request(change, call, IdentityRequest::AssignmentDeletion)
                    .await?;
                Ok(None)
            }
        }
    }

    fn principal_id(
        &self,
        change: &Change,
        principal: &PrincipalRef,
    ) -> Result<String, ApplyError> {
        match principal {
            PrincipalRef::Group(group) => self.resolve(change, group),
            PrincipalRef::User(id) => Ok(id.clone()),
        }
    }

    /// Starts an asynchronous request under the limit on outstanding requests and
    /// polls it to the end; a delete of something already gone starts none.
    async fn identity_request(
        &self,
        change: &Change,
        call: I<'_>,
        request: IdentityRequest,
    ) -> Result<(), ApplyError> {
        let _permit = self.limited(&self.identity_requests).await;
        let Some(request_id) = self.execute(change, call).await?.id else {
            return Ok(());
        };
        let p = &self.provider;
        self.poll(
            change,
            request.api(),
            self.limits.identity_poll_interval,
            || p.identity_request(request, &request_id),
        )
        .await
        .map(|_| ())
    }
}
