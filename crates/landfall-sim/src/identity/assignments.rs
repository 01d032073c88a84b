//! Account assignments and provisioning, and the asynchronous requests that make them:
//!
//! - `CreateAccountAssignment` provisions the set to the account ("As part of a
//!   successful CreateAccountAssignment call, the specified permission set will
//!   automatically be provisioned to the account"), within the quota of sets
//!   provisioned per account. Its request fails — `FAILED` with a `FailureReason`,
//!   nothing changed — when the account is not an active account of the organization,
//!   or when a customer-managed policy (or boundary) the set names does not exist in
//!   the account. An assignment that exists already succeeds again.
//! - `DeleteAccountAssignment` removes it; the last assignment of a set in an account
//!   takes the set's role out of the account (deprovisioned), so the set can then be
//!   deleted.
//! - `ProvisionPermissionSet` brings every account the set is provisioned to up to its
//!   version; an account missing a customer-managed policy stays outdated and the
//!   request fails naming it.
//!
//! At most [`ASSIGNMENT_CREATIONS_OUTSTANDING`] creations are outstanding; the caller
//! counts them ([`crate::SimBackend`]: the world's unfinished requests, or the AWS
//! model's running ones) and the 11th is refused with `ThrottlingException: There are
//! too many requests processing`, AWS's answer (seen in aws-samples'
//! aws-iam-identity-center-extensions, issue 87).

use landfall_core::live::{AccountStatus, LiveAssignment, PrincipalType};
use landfall_core::model::{CustomerPolicyRef, PermissionsBoundary};
use landfall_engine::provider::{ErrorKind, IdentityRequest, OperationStatus};

use super::{
    ASSIGNMENT_CREATIONS_OUTSTANDING, MAX_PROVISIONED_PER_ACCOUNT, RequestKind, RequestRecord,
    customer_policy_arn, not_found, quota, validation,
};
use crate::governance::poll_operation;
use crate::ids::IdSource;
use crate::world::{Denied, Rule, World};

fn check_account_id(account_id: &str) -> Rule<()> {
    if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
        return Err(validation(format!(
            "target {account_id:?} is not an AWS account id (12 digits)"
        )));
    }
    Ok(())
}

fn check_principal_id(principal_id: &str) -> Rule<()> {
    if principal_id.is_empty() || principal_id.len() > 47 {
        return Err(validation(format!(
            "principal id {principal_id:?} is not an identity store id"
        )));
    }
    Ok(())
}

/// The assignment a request names.
fn assignment(
    permission_set_arn: &str,
    principal_type: PrincipalType,
    principal_id: &str,
    account_id: &str,
) -> LiveAssignment {
    LiveAssignment {
        permission_set_arn: permission_set_arn.to_string(),
        principal_type,
        principal_id: principal_id.to_string(),
        account_id: account_id.to_string(),
    }
}

impl World {
    /// The customer-managed policies (and boundary) of a set that do not exist in an
    /// account: the first, as the `FailureReason` of provisioning there.
    fn missing_customer_policy(
        &self,
        permission_set_arn: &str,
        account_id: &str,
    ) -> Option<String> {
        let set = self.identity.permission_sets.get(permission_set_arn)?;
        let in_account = self.identity.customer_policies.get(account_id);
        let exists = |policy: &CustomerPolicyRef| in_account.is_some_and(|p| p.contains(policy));
        let boundary = match &set.permissions_boundary {
            Some(PermissionsBoundary::Customer(policy)) => Some(policy),
            Some(PermissionsBoundary::Managed(_)) | None => None,
        };
        set.customer_managed_policies
            .iter()
            .chain(boundary)
            .find(|policy| !exists(policy))
            .map(|policy| {
                format!(
                    "Received a 404 status error: the customer managed policy {} does not exist \
                     in account {account_id} (IAM Identity Center attaches it by name and path: \
                     create it in the account, then provision the permission set)",
                    customer_policy_arn(account_id, policy)
                )
            })
    }

    /// Provisions the set's current version to an account, or says why it cannot.
    fn provision_into(&mut self, permission_set_arn: &str, account_id: &str) -> Result<(), String> {
        if let Some(reason) = self.missing_customer_policy(permission_set_arn, account_id) {
            return Err(reason);
        }
        let version = self
            .identity
            .permission_sets
            .get(permission_set_arn)
            .map_or(0, |s| s.version);
        self.identity
            .provisioned
            .entry(permission_set_arn.to_string())
            .or_default()
            .insert(account_id.to_string(), version);
        Ok(())
    }

    fn provisioned_in(&self, account_id: &str) -> usize {
        self.identity
            .provisioned
            .values()
            .filter(|accounts| accounts.contains_key(account_id))
            .count()
    }

    fn is_provisioned(&self, permission_set_arn: &str, account_id: &str) -> bool {
        self.identity
            .provisioned
            .get(permission_set_arn)
            .is_some_and(|accounts| accounts.contains_key(account_id))
    }

    fn record_request(
        &mut self,
        kind: RequestKind,
        permission_set_arn: &str,
        account_id: Option<&str>,
        polls: u32,
        failure: Option<String>,
    ) -> String {
        let id = self.fresh(IdSource::identity_request, |w, id| {
            w.identity.requests.contains_key(id)
        });
        self.identity.requests.insert(
            id.clone(),
            RequestRecord {
                kind,
                permission_set_arn: permission_set_arn.to_string(),
                account_id: account_id.map(str::to_string),
                polls_remaining: polls,
                failure,
                finished: false,
            },
        );
        id
    }

    /// `CreateAccountAssignment`; returns the request id. `outstanding`: creations
    /// still running (the caller's count, see the module).
    pub fn create_account_assignment(
        &mut self,
        permission_set_arn: &str,
        principal_type: PrincipalType,
        principal_id: &str,
        account_id: &str,
        polls: u32,
        outstanding: usize,
    ) -> Rule<String> {
        self.instance()?;
        check_account_id(account_id)?;
        check_principal_id(principal_id)?;
        self.identity.set(permission_set_arn)?;
        if !self.identity.principal_exists(principal_type, principal_id) {
            return Err(not_found(format!(
                "no {} {principal_id} in the identity store",
                principal_word(principal_type)
            )));
        }
        if outstanding >= ASSIGNMENT_CREATIONS_OUTSTANDING {
            return Err(Denied::new(
                ErrorKind::Throttling,
                format!(
                    "ThrottlingException: There are too many requests processing. Please try again later. \
                     ({outstanding} CreateAccountAssignment requests are outstanding; IAM Identity Center \
                     allows {ASSIGNMENT_CREATIONS_OUTSTANDING})"
                ),
            ));
        }
        let provisioned = self.is_provisioned(permission_set_arn, account_id);
        if !provisioned && self.provisioned_in(account_id) >= MAX_PROVISIONED_PER_ACCOUNT {
            return Err(quota(format!(
                "account {account_id} already has {MAX_PROVISIONED_PER_ACCOUNT} permission sets provisioned"
            )));
        }
        let active = self
            .accounts
            .get(account_id)
            .is_some_and(|a| a.status == AccountStatus::Active);
        let failure = if !active {
            Some(format!(
                "Account {account_id} is not an active member of the organization: IAM Identity Center \
                 assigns access only in the organization's active accounts"
            ))
        } else if provisioned {
            // The role is there already; a new assignment does not update it.
            None
        } else {
            self.provision_into(permission_set_arn, account_id).err()
        };
        if failure.is_none() {
            self.identity.assignments.insert(assignment(
                permission_set_arn,
                principal_type,
                principal_id,
                account_id,
            ));
        }
        Ok(self.record_request(
            RequestKind::AssignmentCreation,
            permission_set_arn,
            Some(account_id),
            polls,
            failure,
        ))
    }

    /// `DeleteAccountAssignment`; returns the request id.
    pub fn delete_account_assignment(
        &mut self,
        permission_set_arn: &str,
        principal_type: PrincipalType,
        principal_id: &str,
        account_id: &str,
        polls: u32,
    ) -> Rule<String> {
        self.instance()?;
        check_account_id(account_id)?;
        check_principal_id(principal_id)?;
        self.identity.set(permission_set_arn)?;
        self.remove_assignment(permission_set_arn, principal_type, principal_id, account_id)?;
        Ok(self.record_request(
            RequestKind::AssignmentDeletion,
            permission_set_arn,
            Some(account_id),
            polls,
            None,
        ))
    }

    /// Removes an assignment at once; the last of its set in the account deprovisions
    /// the set there. Out of band (a console user), and `DeleteAccountAssignment`'s
    /// effect.
    pub fn remove_assignment(
        &mut self,
        permission_set_arn: &str,
        principal_type: PrincipalType,
        principal_id: &str,
        account_id: &str,
    ) -> Rule<()> {
        let gone = assignment(permission_set_arn, principal_type, principal_id, account_id);
        if !self.identity.assignments.remove(&gone) {
            return Err(not_found(format!(
                "no assignment of {permission_set_arn} to {} {principal_id} in account {account_id}",
                principal_word(principal_type)
            )));
        }
        let still_assigned = self
            .identity
            .assignments
            .iter()
            .any(|a| a.permission_set_arn == permission_set_arn && a.account_id == account_id);
        if !still_assigned
            && let Some(accounts) = self.identity.provisioned.get_mut(permission_set_arn)
        {
            accounts.remove(account_id);
            if accounts.is_empty() {
                self.identity.provisioned.remove(permission_set_arn);
            }
        }
        Ok(())
    }

    /// `ProvisionPermissionSet` to every account the set is provisioned to
    /// (`ALL_PROVISIONED_ACCOUNTS`); returns the request id.
    pub fn provision_permission_set(
        &mut self,
        permission_set_arn: &str,
        polls: u32,
    ) -> Rule<String> {
        self.instance()?;
        self.identity.set(permission_set_arn)?;
        let accounts: Vec<String> = self
            .identity
            .provisioned
            .get(permission_set_arn)
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default();
        let mut failure = None;
        for account in &accounts {
            if let Err(reason) = self.provision_into(permission_set_arn, account) {
                failure.get_or_insert(reason);
            }
        }
        Ok(self.record_request(
            RequestKind::Provisioning,
            permission_set_arn,
            None,
            polls,
            failure,
        ))
    }

    /// One poll of a request: `IN_PROGRESS` while polls remain, then its outcome. A
    /// request id of another kind is not found by this status API.
    pub fn identity_request_status(
        &mut self,
        request: IdentityRequest,
        request_id: &str,
    ) -> Rule<(OperationStatus, bool)> {
        let kind = RequestKind::of(request);
        let record = self
            .identity
            .requests
            .get_mut(request_id)
            .filter(|r| r.kind == kind)
            .ok_or_else(|| not_found(format!("no {} request {request_id}", request.api())))?;
        let poll = poll_operation(
            &mut record.polls_remaining,
            record.finished,
            record.failure.as_ref(),
        );
        let (status, changed) = poll.answer();
        if !matches!(status, OperationStatus::InProgress) {
            record.finished = true;
        }
        Ok((status, changed))
    }

    /// Out of band: a customer-managed IAM policy now exists in an account (the sim has
    /// no IAM; provisioning a set that names it there succeeds from now on).
    pub fn add_customer_managed_policy(&mut self, account_id: &str, policy: CustomerPolicyRef) {
        self.identity
            .customer_policies
            .entry(account_id.to_string())
            .or_default()
            .insert(policy);
    }
}

fn principal_word(principal_type: PrincipalType) -> &'static str {
    match principal_type {
        PrincipalType::Group => "group",
        PrincipalType::User => "user",
    }
}
