//! A resolved operation: one mutating API call with every reference resolved to an
//! AWS id. The executor turns each planned operation into calls and hands them to a
//! backend's [`Provider::execute`](crate::provider::Provider::execute); a backend
//! matches them exhaustively, so a new call is a compile error in every backend until
//! it is implemented.
//!
//! What a call means to the executor is decided here, once per call: which AWS API it
//! is ([`Call::api`]), which errors say its effect is already in place
//! ([`Call::already_done`]), and whether it is a delete that waits out
//! `DependencyViolation` ([`Call::waits_for_dependents`]).

use std::collections::BTreeMap;

use landfall_core::live::{PrincipalType, ShareTarget};
use landfall_core::model::{
    CustomerPolicyRef, Lifecycle, ObjectLock, PermissionsBoundary, PolicyType, Tags,
};

use crate::pacing::{ApiClass, PaceKey};
use crate::provider::{
    AccountFactoryRequest, CreateAccountRequest, EndpointModification, EndpointRequest, ErrorKind,
    MemberScope, PortfolioUpdate,
};

/// One mutating API call, by service.
#[derive(Clone, Copy, Debug)]
pub enum Call<'a> {
    /// AWS Organizations, in the management account.
    Organizations(OrganizationsCall<'a>),
    /// EC2 or KMS in one member account and region.
    Member(&'a MemberScope, MemberCall<'a>),
    /// Control Tower and Service Catalog, in the management account's home region.
    Governance(GovernanceCall<'a>),
    /// IAM Identity Center (SSO Admin) and its Identity Store, in the instance's
    /// region; the backend knows the instance (`ListInstances`).
    Identity(IdentityCall<'a>),
    /// Logging and security services in one account and region: S3, CloudTrail, IAM,
    /// AWS Config and IAM Access Analyzer in the account the scope names (the
    /// management account's own credentials when it is the management account, the
    /// member role otherwise); GuardDuty's and Security Hub's admin calls in the
    /// management account.
    Security(&'a MemberScope, SecurityCall<'a>),
}

/// AWS Organizations calls, named after their APIs.
#[derive(Clone, Copy, Debug)]
pub enum OrganizationsCall<'a> {
    CreateOrganizationalUnit {
        parent_id: &'a str,
        name: &'a str,
        tags: &'a Tags,
    },
    UpdateOrganizationalUnit {
        ou_id: &'a str,
        name: &'a str,
    },
    DeleteOrganizationalUnit {
        ou_id: &'a str,
    },
    /// Starts an account creation; replies with the request id to poll.
    CreateAccount(&'a CreateAccountRequest),
    MoveAccount {
        account_id: &'a str,
        source_parent_id: &'a str,
        destination_parent_id: &'a str,
    },
    /// The Account Management API's `PutAccountName` (IAM prefix `account`), called
    /// from the management account like the rest: it renames a member account (the
    /// management account renames itself). Paced with the Organizations writes.
    PutAccountName {
        account_id: &'a str,
        name: &'a str,
    },
    CloseAccount {
        account_id: &'a str,
    },
    /// Adds or overwrites tags on an OU, account or policy.
    TagResource {
        resource_id: &'a str,
        tags: &'a Tags,
    },
    UntagResource {
        resource_id: &'a str,
        keys: &'a [String],
    },
    CreatePolicy {
        policy_type: PolicyType,
        name: &'a str,
        description: &'a str,
        content: &'a str,
        tags: &'a Tags,
    },
    /// Enables a policy type on the root. AWS finishes it asynchronously: the root
    /// lists the type `PENDING_ENABLE`, then `ENABLED`; for RCPs, AWS then attaches
    /// `RCPFullAWSAccess` to the root, every OU and every account.
    EnablePolicyType {
        root_id: &'a str,
        policy_type: PolicyType,
    },
    DisablePolicyType {
        root_id: &'a str,
        policy_type: PolicyType,
    },
    /// Trusted access for a service principal.
    EnableAwsServiceAccess {
        service_principal: &'a str,
    },
    DisableAwsServiceAccess {
        service_principal: &'a str,
    },
    RegisterDelegatedAdministrator {
        account_id: &'a str,
        service_principal: &'a str,
    },
    DeregisterDelegatedAdministrator {
        account_id: &'a str,
        service_principal: &'a str,
    },
    UpdatePolicy {
        policy_id: &'a str,
        name: Option<&'a str>,
        description: Option<&'a str>,
        content: Option<&'a str>,
    },
    DeletePolicy {
        policy_id: &'a str,
    },
    AttachPolicy {
        policy_id: &'a str,
        target_id: &'a str,
    },
    DetachPolicy {
        policy_id: &'a str,
        target_id: &'a str,
    },
}

/// The member-account service a call goes to; each throttles per account and region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberService {
    Ec2,
    Kms,
}

/// EC2 (networks) and KMS (keys) calls in one member account and region.
#[derive(Clone, Copy, Debug)]
pub enum MemberCall<'a> {
    CreateVpc {
        cidr: &'a str,
        tags: &'a Tags,
    },
    DeleteVpc {
        vpc_id: &'a str,
    },
    CreateSubnet {
        vpc_id: &'a str,
        az: &'a str,
        cidr: &'a str,
        tags: &'a Tags,
    },
    DeleteSubnet {
        subnet_id: &'a str,
    },
    CreateRouteTable {
        vpc_id: &'a str,
        tags: &'a Tags,
    },
    AssociateRouteTable {
        route_table_id: &'a str,
        subnet_id: &'a str,
    },
    DeleteRouteTable {
        route_table_id: &'a str,
    },
    /// A security group allowing TCP 443 in from `ingress_cidr`.
    CreateSecurityGroup {
        vpc_id: &'a str,
        name: &'a str,
        description: &'a str,
        ingress_cidr: &'a str,
        tags: &'a Tags,
    },
    /// Adds and removes TCP 443 ingress CIDRs (`AuthorizeSecurityGroupIngress` and
    /// `RevokeSecurityGroupIngress`).
    SetSecurityGroupIngress {
        group_id: &'a str,
        add: &'a [String],
        remove: &'a [String],
    },
    DeleteSecurityGroup {
        group_id: &'a str,
    },
    CreateVpcEndpoint(&'a EndpointRequest),
    ModifyVpcEndpoint {
        endpoint_id: &'a str,
        change: &'a EndpointModification,
    },
    DeleteVpcEndpoint {
        endpoint_id: &'a str,
    },
    /// Adds or overwrites tags on a VPC, subnet, route table, group or endpoint.
    CreateTags {
        resource_id: &'a str,
        tags: &'a Tags,
    },
    DeleteTags {
        resource_id: &'a str,
        keys: &'a [String],
    },
    /// A symmetric customer-managed key; replies with its key id.
    CreateKey {
        description: &'a str,
        policy: &'a str,
        tags: &'a Tags,
    },
    /// `EnableKeyRotation` or `DisableKeyRotation`.
    SetKeyRotation {
        key_id: &'a str,
        enabled: bool,
    },
    PutKeyPolicy {
        key_id: &'a str,
        policy: &'a str,
    },
    UpdateKeyDescription {
        key_id: &'a str,
        description: &'a str,
    },
    /// Schedules the key's deletion after `window_days` (7–30).
    ScheduleKeyDeletion {
        key_id: &'a str,
        window_days: u32,
    },
    /// Cancels a scheduled deletion and enables the key again.
    CancelKeyDeletion {
        key_id: &'a str,
    },
    /// Points `alias` (`alias/...`) at the key, creating or retargeting it.
    PutAlias {
        alias: &'a str,
        key_id: &'a str,
    },
    DeleteAlias {
        alias: &'a str,
    },
    TagKey {
        key_id: &'a str,
        tags: &'a Tags,
    },
    UntagKey {
        key_id: &'a str,
        keys: &'a [String],
    },
}

/// Control Tower and Service Catalog calls. The control and provisioning calls start
/// an asynchronous operation and reply with its id (an operation id, a record id).
#[derive(Clone, Copy, Debug)]
pub enum GovernanceCall<'a> {
    EnableControl {
        control_arn: &'a str,
        ou_id: &'a str,
        parameters: &'a BTreeMap<String, serde_json::Value>,
    },
    DisableControl {
        control_arn: &'a str,
        ou_id: &'a str,
    },
    UpdateEnabledControl {
        enabled_control_arn: &'a str,
        parameters: &'a BTreeMap<String, serde_json::Value>,
    },
    /// Repairs a drifted control.
    ResetEnabledControl {
        enabled_control_arn: &'a str,
    },
    /// Registers an OU: enables `AWSControlTowerBaseline` (`baseline_arn`) on it.
    /// Replies with the baseline operation's id.
    EnableBaseline {
        baseline_arn: &'a str,
        version: &'a str,
        ou_id: &'a str,
        /// The `IdentityCenterEnabledBaselineArn` parameter.
        identity_center: Option<&'a str>,
    },
    /// A registration to another version or parameter.
    UpdateEnabledBaseline {
        enabled_baseline_arn: &'a str,
        version: &'a str,
        identity_center: Option<&'a str>,
    },
    /// Re-registers an OU (repairs it and enrolls its accounts).
    ResetEnabledBaseline {
        enabled_baseline_arn: &'a str,
    },
    /// Deregisters an OU. Replies with the operation's id, nothing when the baseline
    /// was already disabled.
    DisableBaseline {
        enabled_baseline_arn: &'a str,
    },
    /// An Account Factory provisioning.
    ProvisionProduct(&'a AccountFactoryRequest),
    /// An Account Factory account moved (a new OU) or provisioned again.
    UpdateProvisionedProduct {
        provisioned_product_id: &'a str,
        request: &'a AccountFactoryRequest,
    },
    CreatePortfolio {
        display_name: &'a str,
        provider_name: &'a str,
        description: &'a str,
        tags: &'a Tags,
    },
    UpdatePortfolio {
        portfolio_id: &'a str,
        update: &'a PortfolioUpdate,
    },
    DeletePortfolio {
        portfolio_id: &'a str,
    },
    /// Replies with the share token of an organization-node share, nothing for an
    /// account share. Landfall does not wait for an organization share to propagate;
    /// refreshes report whether each share is accepted.
    CreatePortfolioShare {
        portfolio_id: &'a str,
        target: &'a ShareTarget,
        share_tag_options: bool,
    },
    DeletePortfolioShare {
        portfolio_id: &'a str,
        target: &'a ShareTarget,
    },
}

/// The services whose own call delegates their administration
/// (`EnableOrganizationAdminAccount`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdminService {
    GuardDuty,
    SecurityHub,
}

impl AdminService {
    pub const ALL: [AdminService; 2] = [AdminService::GuardDuty, AdminService::SecurityHub];

    pub fn service_principal(self) -> &'static str {
        match self {
            AdminService::GuardDuty => "guardduty.amazonaws.com",
            AdminService::SecurityHub => "securityhub.amazonaws.com",
        }
    }

    /// The service with its own admin call for this principal, if any.
    pub fn of(service_principal: &str) -> Option<AdminService> {
        AdminService::ALL
            .into_iter()
            .find(|s| s.service_principal() == service_principal)
    }
}

/// What `CreateTrail` and `UpdateTrail` send.
#[derive(Clone, Copy, Debug)]
pub struct TrailRequest<'a> {
    pub name: &'a str,
    pub s3_bucket_name: &'a str,
    pub s3_key_prefix: Option<&'a str>,
    /// The key's ARN (CloudTrail needs the ARN of a key in another account).
    pub kms_key_arn: &'a str,
    pub multi_region: bool,
    pub organization: bool,
    pub log_file_validation: bool,
    /// Sent by `CreateTrail` only (`TagsList`).
    pub tags: &'a Tags,
}

/// Logging and security service calls, named after their APIs. Each runs in its
/// scope's account and region; creations reply with the new resource's id: the
/// bucket's name, the trail's ARN, the role's ARN, the aggregator's ARN, the
/// analyzer's ARN.
#[derive(Clone, Copy, Debug)]
pub enum SecurityCall<'a> {
    /// From the management account, in the scope's region.
    EnableOrganizationAdminAccount {
        service: AdminService,
        account_id: &'a str,
    },
    DisableOrganizationAdminAccount {
        service: AdminService,
        account_id: &'a str,
    },
    /// In the scope's region (`LocationConstraint` unless `us-east-1`); Object Lock
    /// can only be enabled here.
    CreateBucket {
        bucket: &'a str,
        object_lock: bool,
    },
    PutBucketVersioning {
        bucket: &'a str,
    },
    /// SSE-KMS with the key, bucket key enabled.
    PutBucketEncryption {
        bucket: &'a str,
        kms_key_arn: &'a str,
    },
    /// All four settings on.
    PutPublicAccessBlock {
        bucket: &'a str,
    },
    PutBucketPolicy {
        bucket: &'a str,
        policy: &'a str,
    },
    PutObjectLockConfiguration {
        bucket: &'a str,
        object_lock: &'a ObjectLock,
    },
    PutBucketLifecycleConfiguration {
        bucket: &'a str,
        lifecycle: &'a Lifecycle,
    },
    DeleteBucketLifecycle {
        bucket: &'a str,
    },
    PutBucketTagging {
        bucket: &'a str,
        tags: &'a Tags,
    },
    DeleteBucket {
        bucket: &'a str,
    },
    CreateTrail(&'a TrailRequest<'a>),
    UpdateTrail(&'a TrailRequest<'a>),
    StartLogging {
        trail_arn: &'a str,
    },
    AddTags {
        trail_arn: &'a str,
        tags: &'a Tags,
    },
    DeleteTrail {
        trail_arn: &'a str,
    },
    /// A role `service` (`config.amazonaws.com`) may assume.
    CreateRole {
        role_name: &'a str,
        trusted_service: &'a str,
    },
    AttachRolePolicy {
        role_name: &'a str,
        policy_arn: &'a str,
    },
    DetachRolePolicy {
        role_name: &'a str,
        policy_arn: &'a str,
    },
    DeleteRole {
        role_name: &'a str,
    },
    /// An organization aggregator over all regions.
    PutConfigurationAggregator {
        name: &'a str,
        role_arn: &'a str,
        tags: &'a Tags,
    },
    DeleteConfigurationAggregator {
        name: &'a str,
    },
    /// An analyzer of type `ORGANIZATION`.
    CreateAnalyzer {
        name: &'a str,
        tags: &'a Tags,
    },
    DeleteAnalyzer {
        name: &'a str,
    },
}

/// IAM Identity Center calls, named after their APIs. Permission sets are named by
/// ARN. `ProvisionPermissionSet` and the account assignment calls start an
/// asynchronous request and reply with its request id.
#[derive(Clone, Copy, Debug)]
pub enum IdentityCall<'a> {
    /// Replies with the permission set's ARN.
    CreatePermissionSet {
        name: &'a str,
        description: Option<&'a str>,
        session_duration: &'a str,
        tags: &'a Tags,
    },
    UpdatePermissionSet {
        permission_set_arn: &'a str,
        description: Option<&'a str>,
        session_duration: &'a str,
    },
    DeletePermissionSet {
        permission_set_arn: &'a str,
    },
    AttachManagedPolicyToPermissionSet {
        permission_set_arn: &'a str,
        policy_arn: &'a str,
    },
    DetachManagedPolicyFromPermissionSet {
        permission_set_arn: &'a str,
        policy_arn: &'a str,
    },
    AttachCustomerManagedPolicyReferenceToPermissionSet {
        permission_set_arn: &'a str,
        policy: &'a CustomerPolicyRef,
    },
    DetachCustomerManagedPolicyReferenceFromPermissionSet {
        permission_set_arn: &'a str,
        policy: &'a CustomerPolicyRef,
    },
    PutInlinePolicyToPermissionSet {
        permission_set_arn: &'a str,
        document: &'a str,
    },
    DeleteInlinePolicyFromPermissionSet {
        permission_set_arn: &'a str,
    },
    PutPermissionsBoundaryToPermissionSet {
        permission_set_arn: &'a str,
        boundary: &'a PermissionsBoundary,
    },
    DeletePermissionsBoundaryFromPermissionSet {
        permission_set_arn: &'a str,
    },
    /// SSO Admin `TagResource` on a permission set.
    TagPermissionSet {
        permission_set_arn: &'a str,
        tags: &'a Tags,
    },
    UntagPermissionSet {
        permission_set_arn: &'a str,
        keys: &'a [String],
    },
    /// To every account the set is provisioned to (`ALL_PROVISIONED_ACCOUNTS`).
    /// Replies with the request id (`DescribePermissionSetProvisioningStatus`).
    ProvisionPermissionSet {
        permission_set_arn: &'a str,
    },
    /// Replies with the request id (`DescribeAccountAssignmentCreationStatus`).
    CreateAccountAssignment {
        permission_set_arn: &'a str,
        principal_type: PrincipalType,
        principal_id: &'a str,
        account_id: &'a str,
    },
    /// Replies with the request id (`DescribeAccountAssignmentDeletionStatus`).
    DeleteAccountAssignment {
        permission_set_arn: &'a str,
        principal_type: PrincipalType,
        principal_id: &'a str,
        account_id: &'a str,
    },
    /// Identity Store `CreateGroup`; replies with the group id.
    CreateGroup {
        display_name: &'a str,
        description: Option<&'a str>,
    },
    /// Identity Store `UpdateGroup` of the description (`None` removes it).
    UpdateGroup {
        group_id: &'a str,
        description: Option<&'a str>,
    },
    DeleteGroup {
        group_id: &'a str,
    },
}

/// Which asynchronous Identity Center request a request id belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityRequest {
    /// `DescribeAccountAssignmentCreationStatus`.
    AssignmentCreation,
    /// `DescribeAccountAssignmentDeletionStatus`.
    AssignmentDeletion,
    /// `DescribePermissionSetProvisioningStatus`.
    Provisioning,
}

impl IdentityRequest {
    /// The API that reports the request's status.
    pub fn api(self) -> &'static str {
        match self {
            IdentityRequest::AssignmentCreation => "DescribeAccountAssignmentCreationStatus",
            IdentityRequest::AssignmentDeletion => "DescribeAccountAssignmentDeletionStatus",
            IdentityRequest::Provisioning => "DescribePermissionSetProvisioningStatus",
        }
    }
}

impl IdentityCall<'_> {
    pub fn api(&self) -> &'static str {
        match self {
            IdentityCall::CreatePermissionSet { .. } => "CreatePermissionSet",
            IdentityCall::UpdatePermissionSet { .. } => "UpdatePermissionSet",
            IdentityCall::DeletePermissionSet { .. } => "DeletePermissionSet",
            IdentityCall::AttachManagedPolicyToPermissionSet { .. } => {
                "AttachManagedPolicyToPermissionSet"
            }
            IdentityCall::DetachManagedPolicyFromPermissionSet { .. } => {
                "DetachManagedPolicyFromPermissionSet"
            }
            IdentityCall::AttachCustomerManagedPolicyReferenceToPermissionSet { .. } => {
                "AttachCustomerManagedPolicyReferenceToPermissionSet"
            }
            IdentityCall::DetachCustomerManagedPolicyReferenceFromPermissionSet { .. } => {
                "DetachCustomerManagedPolicyReferenceFromPermissionSet"
            }
            IdentityCall::PutInlinePolicyToPermissionSet { .. } => "PutInlinePolicyToPermissionSet",
            IdentityCall::DeleteInlinePolicyFromPermissionSet { .. } => {
                "DeleteInlinePolicyFromPermissionSet"
            }
            IdentityCall::PutPermissionsBoundaryToPermissionSet { .. } => {
                "PutPermissionsBoundaryToPermissionSet"
            }
            IdentityCall::DeletePermissionsBoundaryFromPermissionSet { .. } => {
                "DeletePermissionsBoundaryFromPermissionSet"
            }
            IdentityCall::TagPermissionSet { .. } => "TagResource",
            IdentityCall::UntagPermissionSet { .. } => "UntagResource",
            IdentityCall::ProvisionPermissionSet { .. } => "ProvisionPermissionSet",
            IdentityCall::CreateAccountAssignment { .. } => "CreateAccountAssignment",
            IdentityCall::DeleteAccountAssignment { .. } => "DeleteAccountAssignment",
            IdentityCall::CreateGroup { .. } => "CreateGroup",
            IdentityCall::UpdateGroup { .. } => "UpdateGroup",
            IdentityCall::DeleteGroup { .. } => "DeleteGroup",
        }
    }

    /// The asynchronous request this call starts, whose status the executor polls.
    pub fn request(&self) -> Option<IdentityRequest> {
        match self {
            IdentityCall::ProvisionPermissionSet { .. } => Some(IdentityRequest::Provisioning),
            IdentityCall::CreateAccountAssignment { .. } => {
                Some(IdentityRequest::AssignmentCreation)
            }
            IdentityCall::DeleteAccountAssignment { .. } => {
                Some(IdentityRequest::AssignmentDeletion)
            }
            IdentityCall::CreatePermissionSet { .. }
            | IdentityCall::UpdatePermissionSet { .. }
            | IdentityCall::DeletePermissionSet { .. }
            | IdentityCall::AttachManagedPolicyToPermissionSet { .. }
            | IdentityCall::DetachManagedPolicyFromPermissionSet { .. }
            | IdentityCall::AttachCustomerManagedPolicyReferenceToPermissionSet { .. }
            | IdentityCall::DetachCustomerManagedPolicyReferenceFromPermissionSet { .. }
            | IdentityCall::PutInlinePolicyToPermissionSet { .. }
            | IdentityCall::DeleteInlinePolicyFromPermissionSet { .. }
            | IdentityCall::PutPermissionsBoundaryToPermissionSet { .. }
            | IdentityCall::DeletePermissionsBoundaryFromPermissionSet { .. }
            | IdentityCall::TagPermissionSet { .. }
            | IdentityCall::UntagPermissionSet { .. }
            | IdentityCall::CreateGroup { .. }
            | IdentityCall::UpdateGroup { .. }
            | IdentityCall::DeleteGroup { .. } => None,
        }
    }

    fn already_done(&self, error: &ErrorKind) -> bool {
        match self {
            // Removing what is gone already (a lost response, or done by hand).
            IdentityCall::DeletePermissionSet { .. }
            | IdentityCall::DetachManagedPolicyFromPermissionSet { .. }
            | IdentityCall::DetachCustomerManagedPolicyReferenceFromPermissionSet { .. }
            | IdentityCall::DeleteInlinePolicyFromPermissionSet { .. }
            | IdentityCall::DeletePermissionsBoundaryFromPermissionSet { .. }
            | IdentityCall::DeleteAccountAssignment { .. }
            | IdentityCall::DeleteGroup { .. } => *error == ErrorKind::NotFound,
            IdentityCall::CreatePermissionSet { .. }
            | IdentityCall::UpdatePermissionSet { .. }
            | IdentityCall::AttachManagedPolicyToPermissionSet { .. }
            | IdentityCall::AttachCustomerManagedPolicyReferenceToPermissionSet { .. }
            | IdentityCall::PutInlinePolicyToPermissionSet { .. }
            | IdentityCall::PutPermissionsBoundaryToPermissionSet { .. }
            | IdentityCall::TagPermissionSet { .. }
            | IdentityCall::UntagPermissionSet { .. }
            | IdentityCall::ProvisionPermissionSet { .. }
            | IdentityCall::CreateAccountAssignment { .. }
            | IdentityCall::CreateGroup { .. }
            | IdentityCall::UpdateGroup { .. } => false,
        }
    }
}

impl<'a> From<IdentityCall<'a>> for Call<'a> {
    fn from(call: IdentityCall<'a>) -> Self {
        Call::Identity(call)
    }
}

impl<'a> From<OrganizationsCall<'a>> for Call<'a> {
    fn from(call: OrganizationsCall<'a>) -> Self {
        Call::Organizations(call)
    }
}

impl<'a> From<GovernanceCall<'a>> for Call<'a> {
    fn from(call: GovernanceCall<'a>) -> Self {
        Call::Governance(call)
    }
}

impl Call<'_> {
    /// The AWS API this call is, as errors and call counts name it.
    pub fn api(&self) -> &'static str {
        match self {
            Call::Organizations(call) => call.api(),
            Call::Member(_, call) => call.api(),
            Call::Governance(call) => call.api(),
            Call::Identity(call) => call.api(),
            Call::Security(_, call) => call.api(),
        }
    }

    /// The limiter that paces this call: Organizations writes for the organization,
    /// EC2 or KMS writes in the member account and Region, Control Tower or Service
    /// Catalog writes in the home Region, portfolio shares.
    pub fn pace_key(&self) -> PaceKey {
        match self {
            Call::Organizations(_) => PaceKey::global(ApiClass::OrganizationsWrites),
            Call::Member(scope, call) => {
                let class = match call.service() {
                    MemberService::Ec2 => ApiClass::Ec2Writes,
                    MemberService::Kms => ApiClass::KmsWrites,
                };
                PaceKey::member(class, &scope.account_id, &scope.region)
            }
            Call::Governance(call) => PaceKey::global(call.pace_class()),
            Call::Identity(_) => PaceKey::global(ApiClass::IdentityCenter),
            Call::Security(scope, call) => {
                PaceKey::member(call.pace_class(), &scope.account_id, &scope.region)
            }
        }
    }

    /// Whether `error` means the call's effect is already in place (a delete of
    /// something gone, an attachment AWS made itself), so the executor counts it done.
    pub fn already_done(&self, error: &ErrorKind) -> bool {
        match self {
            Call::Organizations(call) => call.already_done(error),
            Call::Member(_, call) => call.already_done(error),
            Call::Governance(call) => call.already_done(error),
            Call::Identity(call) => call.already_done(error),
            Call::Security(_, call) => call.already_done(error),
        }
    }

    /// Whether this delete retries `DependencyViolation` for a while: AWS releases an
    /// interface endpoint's network interfaces some time after the endpoint is deleted.
    pub fn waits_for_dependents(&self) -> bool {
        match self {
            Call::Member(_, call) => call.waits_for_dependents(),
            Call::Organizations(_)
            | Call::Governance(_)
            | Call::Identity(_)
            | Call::Security(..) => false,
        }
    }
}

impl OrganizationsCall<'_> {
    pub fn api(&self) -> &'static str {
        match self {
            OrganizationsCall::CreateOrganizationalUnit { .. } => "CreateOrganizationalUnit",
            OrganizationsCall::UpdateOrganizationalUnit { .. } => "UpdateOrganizationalUnit",
            OrganizationsCall::DeleteOrganizationalUnit { .. } => "DeleteOrganizationalUnit",
            OrganizationsCall::CreateAccount(_) => "CreateAccount",
            OrganizationsCall::MoveAccount { .. } => "MoveAccount",
            OrganizationsCall::PutAccountName { .. } => "PutAccountName",
            OrganizationsCall::CloseAccount { .. } => "CloseAccount",
            OrganizationsCall::TagResource { .. } => "TagResource",
            OrganizationsCall::UntagResource { .. } => "UntagResource",
            OrganizationsCall::CreatePolicy { .. } => "CreatePolicy",
            OrganizationsCall::UpdatePolicy { .. } => "UpdatePolicy",
            OrganizationsCall::DeletePolicy { .. } => "DeletePolicy",
            OrganizationsCall::AttachPolicy { .. } => "AttachPolicy",
            OrganizationsCall::DetachPolicy { .. } => "DetachPolicy",
            OrganizationsCall::EnablePolicyType { .. } => "EnablePolicyType",
            OrganizationsCall::DisablePolicyType { .. } => "DisablePolicyType",
            OrganizationsCall::EnableAwsServiceAccess { .. } => "EnableAWSServiceAccess",
            OrganizationsCall::DisableAwsServiceAccess { .. } => "DisableAWSServiceAccess",
            OrganizationsCall::RegisterDelegatedAdministrator { .. } => {
                "RegisterDelegatedAdministrator"
            }
            OrganizationsCall::DeregisterDelegatedAdministrator { .. } => {
                "DeregisterDelegatedAdministrator"
            }
        }
    }

    fn already_done(&self, error: &ErrorKind) -> bool {
        match self {
            OrganizationsCall::DeleteOrganizationalUnit { .. }
            | OrganizationsCall::DeletePolicy { .. } => *error == ErrorKind::NotFound,
            OrganizationsCall::CloseAccount { .. } => *error == ErrorKind::AccountAlreadyClosed,
            // AWS attaches FullAWSAccess to new OUs and accounts by itself.
            OrganizationsCall::AttachPolicy { .. } => {
                *error == ErrorKind::DuplicatePolicyAttachment
            }
            OrganizationsCall::DetachPolicy { .. } => {
                matches!(error, ErrorKind::PolicyNotAttached | ErrorKind::NotFound)
            }
            OrganizationsCall::EnablePolicyType { .. } => {
                error.code() == "PolicyTypeAlreadyEnabledException"
            }
            OrganizationsCall::DisablePolicyType { .. } => {
                error.code() == "PolicyTypeNotEnabledException"
            }
            OrganizationsCall::RegisterDelegatedAdministrator { .. } => {
                error.code() == "AccountAlreadyRegisteredException"
            }
            OrganizationsCall::DeregisterDelegatedAdministrator { .. } => {
                error.code() == "AccountNotRegisteredException"
            }
            // Both are idempotent in AWS: enabling what is enabled succeeds.
            OrganizationsCall::EnableAwsServiceAccess { .. }
            | OrganizationsCall::DisableAwsServiceAccess { .. } => false,
            OrganizationsCall::CreateOrganizationalUnit { .. }
            | OrganizationsCall::UpdateOrganizationalUnit { .. }
            | OrganizationsCall::CreateAccount(_)
            | OrganizationsCall::MoveAccount { .. }
            // Naming an account what it is already called succeeds.
            | OrganizationsCall::PutAccountName { .. }
            | OrganizationsCall::TagResource { .. }
            | OrganizationsCall::UntagResource { .. }
            | OrganizationsCall::CreatePolicy { .. }
            | OrganizationsCall::UpdatePolicy { .. } => false,
        }
    }
}

impl SecurityCall<'_> {
    pub fn api(&self) -> &'static str {
        match self {
            SecurityCall::EnableOrganizationAdminAccount { .. } => "EnableOrganizationAdminAccount",
            SecurityCall::DisableOrganizationAdminAccount { .. } => {
                "DisableOrganizationAdminAccount"
            }
            SecurityCall::CreateBucket { .. } => "CreateBucket",
            SecurityCall::PutBucketVersioning { .. } => "PutBucketVersioning",
            SecurityCall::PutBucketEncryption { .. } => "PutBucketEncryption",
            SecurityCall::PutPublicAccessBlock { .. } => "PutPublicAccessBlock",
            SecurityCall::PutBucketPolicy { .. } => "PutBucketPolicy",
            SecurityCall::PutObjectLockConfiguration { .. } => "PutObjectLockConfiguration",
            SecurityCall::PutBucketLifecycleConfiguration { .. } => {
                "PutBucketLifecycleConfiguration"
            }
            SecurityCall::DeleteBucketLifecycle { .. } => "DeleteBucketLifecycle",
            SecurityCall::PutBucketTagging { .. } => "PutBucketTagging",
            SecurityCall::DeleteBucket { .. } => "DeleteBucket",
            SecurityCall::CreateTrail(_) => "CreateTrail",
            SecurityCall::UpdateTrail(_) => "UpdateTrail",
            SecurityCall::StartLogging { .. } => "StartLogging",
            SecurityCall::AddTags { .. } => "AddTags",
            SecurityCall::DeleteTrail { .. } => "DeleteTrail",
            SecurityCall::CreateRole { .. } => "CreateRole",
            SecurityCall::AttachRolePolicy { .. } => "AttachRolePolicy",
            SecurityCall::DetachRolePolicy { .. } => "DetachRolePolicy",
            SecurityCall::DeleteRole { .. } => "DeleteRole",
            SecurityCall::PutConfigurationAggregator { .. } => "PutConfigurationAggregator",
            SecurityCall::DeleteConfigurationAggregator { .. } => "DeleteConfigurationAggregator",
            SecurityCall::CreateAnalyzer { .. } => "CreateAnalyzer",
            SecurityCall::DeleteAnalyzer { .. } => "DeleteAnalyzer",
        }
    }

    /// The service's limiter, in the scope's account and region.
    pub fn pace_class(&self) -> ApiClass {
        match self {
            SecurityCall::EnableOrganizationAdminAccount { service, .. }
            | SecurityCall::DisableOrganizationAdminAccount { service, .. } => match service {
                AdminService::GuardDuty => ApiClass::GuardDuty,
                AdminService::SecurityHub => ApiClass::SecurityHub,
            },
            SecurityCall::CreateBucket { .. }
            | SecurityCall::PutBucketVersioning { .. }
            | SecurityCall::PutBucketEncryption { .. }
            | SecurityCall::PutPublicAccessBlock { .. }
            | SecurityCall::PutBucketPolicy { .. }
            | SecurityCall::PutObjectLockConfiguration { .. }
            | SecurityCall::PutBucketLifecycleConfiguration { .. }
            | SecurityCall::DeleteBucketLifecycle { .. }
            | SecurityCall::PutBucketTagging { .. }
            | SecurityCall::DeleteBucket { .. } => ApiClass::S3,
            SecurityCall::CreateTrail(_)
            | SecurityCall::UpdateTrail(_)
            | SecurityCall::StartLogging { .. }
            | SecurityCall::AddTags { .. }
            | SecurityCall::DeleteTrail { .. } => ApiClass::CloudTrail,
            SecurityCall::CreateRole { .. }
            | SecurityCall::AttachRolePolicy { .. }
            | SecurityCall::DetachRolePolicy { .. }
            | SecurityCall::DeleteRole { .. } => ApiClass::Iam,
            SecurityCall::PutConfigurationAggregator { .. }
            | SecurityCall::DeleteConfigurationAggregator { .. } => ApiClass::Config,
            SecurityCall::CreateAnalyzer { .. } | SecurityCall::DeleteAnalyzer { .. } => {
                ApiClass::AccessAnalyzer
            }
        }
    }

    /// Backends answer `NotFound` for a bucket, trail, role, aggregator or analyzer
    /// that does not exist (`NoSuchBucket`, `TrailNotFoundException`,
    /// `NoSuchEntity`, `NoSuchConfigurationAggregatorException`,
    /// `ResourceNotFoundException`).
    fn already_done(&self, error: &ErrorKind) -> bool {
        match self {
            SecurityCall::DeleteBucket { .. }
            | SecurityCall::DeleteBucketLifecycle { .. }
            | SecurityCall::DeleteTrail { .. }
            | SecurityCall::DetachRolePolicy { .. }
            | SecurityCall::DeleteRole { .. }
            | SecurityCall::DeleteConfigurationAggregator { .. }
            | SecurityCall::DeleteAnalyzer { .. } => *error == ErrorKind::NotFound,
            // A creation whose response was lost: the bucket is ours already.
            SecurityCall::CreateBucket { .. } => error.code() == "BucketAlreadyOwnedByYou",
            // The role a previous run made for the aggregator.
            SecurityCall::CreateRole { .. } => error.code() == "EntityAlreadyExists",
            SecurityCall::EnableOrganizationAdminAccount { .. }
            | SecurityCall::DisableOrganizationAdminAccount { .. }
            | SecurityCall::PutBucketVersioning { .. }
            | SecurityCall::PutBucketEncryption { .. }
            | SecurityCall::PutPublicAccessBlock { .. }
            | SecurityCall::PutBucketPolicy { .. }
            | SecurityCall::PutObjectLockConfiguration { .. }
            | SecurityCall::PutBucketLifecycleConfiguration { .. }
            | SecurityCall::PutBucketTagging { .. }
            | SecurityCall::CreateTrail(_)
            | SecurityCall::UpdateTrail(_)
            | SecurityCall::StartLogging { .. }
            | SecurityCall::AddTags { .. }
            | SecurityCall::AttachRolePolicy { .. }
            | SecurityCall::PutConfigurationAggregator { .. }
            | SecurityCall::CreateAnalyzer { .. } => false,
        }
    }
}

impl MemberCall<'_> {
    pub fn api(&self) -> &'static str {
        match self {
            MemberCall::CreateVpc { .. } => "CreateVpc",
            MemberCall::DeleteVpc { .. } => "DeleteVpc",
            MemberCall::CreateSubnet { .. } => "CreateSubnet",
            MemberCall::DeleteSubnet { .. } => "DeleteSubnet",
            MemberCall::CreateRouteTable { .. } => "CreateRouteTable",
            MemberCall::AssociateRouteTable { .. } => "AssociateRouteTable",
            MemberCall::DeleteRouteTable { .. } => "DeleteRouteTable",
            MemberCall::CreateSecurityGroup { .. } => "CreateSecurityGroup",
            MemberCall::SetSecurityGroupIngress { add, remove, .. } => {
                if add.is_empty() && !remove.is_empty() {
                    "RevokeSecurityGroupIngress"
                } else {
                    "AuthorizeSecurityGroupIngress"
                }
            }
            MemberCall::DeleteSecurityGroup { .. } => "DeleteSecurityGroup",
            MemberCall::CreateVpcEndpoint(_) => "CreateVpcEndpoint",
            MemberCall::ModifyVpcEndpoint { .. } => "ModifyVpcEndpoint",
            MemberCall::DeleteVpcEndpoint { .. } => "DeleteVpcEndpoints",
            MemberCall::CreateTags { .. } => "CreateTags",
            MemberCall::DeleteTags { .. } => "DeleteTags",
            MemberCall::CreateKey { .. } => "CreateKey",
            MemberCall::SetKeyRotation { enabled: true, .. } => "EnableKeyRotation",
            MemberCall::SetKeyRotation { enabled: false, .. } => "DisableKeyRotation",
            MemberCall::PutKeyPolicy { .. } => "PutKeyPolicy",
            MemberCall::UpdateKeyDescription { .. } => "UpdateKeyDescription",
            MemberCall::ScheduleKeyDeletion { .. } => "ScheduleKeyDeletion",
            MemberCall::CancelKeyDeletion { .. } => "CancelKeyDeletion",
            MemberCall::PutAlias { .. } => "CreateAlias",
            MemberCall::DeleteAlias { .. } => "DeleteAlias",
            MemberCall::TagKey { .. } => "TagResource",
            MemberCall::UntagKey { .. } => "UntagResource",
        }
    }

    /// The service the call goes to, whose limiter (for its account and region)
    /// paces it.
    pub fn service(&self) -> MemberService {
        match self {
            MemberCall::CreateKey { .. }
            | MemberCall::SetKeyRotation { .. }
            | MemberCall::PutKeyPolicy { .. }
            | MemberCall::UpdateKeyDescription { .. }
            | MemberCall::ScheduleKeyDeletion { .. }
            | MemberCall::CancelKeyDeletion { .. }
            | MemberCall::PutAlias { .. }
            | MemberCall::DeleteAlias { .. }
            | MemberCall::TagKey { .. }
            | MemberCall::UntagKey { .. } => MemberService::Kms,
            MemberCall::CreateVpc { .. }
            | MemberCall::DeleteVpc { .. }
            | MemberCall::CreateSubnet { .. }
            | MemberCall::DeleteSubnet { .. }
            | MemberCall::CreateRouteTable { .. }
            | MemberCall::AssociateRouteTable { .. }
            | MemberCall::DeleteRouteTable { .. }
            | MemberCall::CreateSecurityGroup { .. }
            | MemberCall::SetSecurityGroupIngress { .. }
            | MemberCall::DeleteSecurityGroup { .. }
            | MemberCall::CreateVpcEndpoint(_)
            | MemberCall::ModifyVpcEndpoint { .. }
            | MemberCall::DeleteVpcEndpoint { .. }
            | MemberCall::CreateTags { .. }
            | MemberCall::DeleteTags { .. } => MemberService::Ec2,
        }
    }

    fn already_done(&self, error: &ErrorKind) -> bool {
        self.is_delete() && *error == ErrorKind::NotFound
    }

    fn waits_for_dependents(&self) -> bool {
        self.is_delete() && self.service() == MemberService::Ec2
    }

    fn is_delete(&self) -> bool {
        match self {
            MemberCall::DeleteVpc { .. }
            | MemberCall::DeleteSubnet { .. }
            | MemberCall::DeleteRouteTable { .. }
            | MemberCall::DeleteSecurityGroup { .. }
            | MemberCall::DeleteVpcEndpoint { .. }
            | MemberCall::DeleteAlias { .. } => true,
            MemberCall::CreateVpc { .. }
            | MemberCall::CreateSubnet { .. }
            | MemberCall::CreateRouteTable { .. }
            | MemberCall::AssociateRouteTable { .. }
            | MemberCall::CreateSecurityGroup { .. }
            | MemberCall::SetSecurityGroupIngress { .. }
            | MemberCall::CreateVpcEndpoint(_)
            | MemberCall::ModifyVpcEndpoint { .. }
            | MemberCall::CreateTags { .. }
            | MemberCall::DeleteTags { .. }
            | MemberCall::CreateKey { .. }
            | MemberCall::SetKeyRotation { .. }
            | MemberCall::PutKeyPolicy { .. }
            | MemberCall::UpdateKeyDescription { .. }
            // A scheduled deletion is a change of state, and refused on a key already
            // pending deletion: not a delete that can find the key gone.
            | MemberCall::ScheduleKeyDeletion { .. }
            | MemberCall::CancelKeyDeletion { .. }
            | MemberCall::PutAlias { .. }
            | MemberCall::TagKey { .. }
            | MemberCall::UntagKey { .. } => false,
        }
    }
}

/// How the executor learns the outcome of what a governance call started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A Control Tower control operation (`GetControlOperation`).
    ControlOperation,
    /// A Control Tower baseline operation (`GetBaselineOperation`).
    BaselineOperation,
    /// A Service Catalog provisioning record (`DescribeRecord`).
    ProvisioningRecord,
    /// Done when the call returns.
    Immediate,
}

impl GovernanceCall<'_> {
    pub fn outcome(&self) -> Outcome {
        match self {
            GovernanceCall::EnableControl { .. }
            | GovernanceCall::DisableControl { .. }
            | GovernanceCall::UpdateEnabledControl { .. }
            | GovernanceCall::ResetEnabledControl { .. } => Outcome::ControlOperation,
            GovernanceCall::EnableBaseline { .. }
            | GovernanceCall::UpdateEnabledBaseline { .. }
            | GovernanceCall::ResetEnabledBaseline { .. }
            | GovernanceCall::DisableBaseline { .. } => Outcome::BaselineOperation,
            GovernanceCall::ProvisionProduct(_)
            | GovernanceCall::UpdateProvisionedProduct { .. } => Outcome::ProvisioningRecord,
            // Landfall does not wait for a share to propagate (see `CreatePortfolioShare`).
            GovernanceCall::CreatePortfolio { .. }
            | GovernanceCall::UpdatePortfolio { .. }
            | GovernanceCall::DeletePortfolio { .. }
            | GovernanceCall::CreatePortfolioShare { .. }
            | GovernanceCall::DeletePortfolioShare { .. } => Outcome::Immediate,
        }
    }

    /// The class of limiter that paces this call.
    fn pace_class(&self) -> ApiClass {
        match self {
            GovernanceCall::EnableControl { .. }
            | GovernanceCall::DisableControl { .. }
            | GovernanceCall::UpdateEnabledControl { .. }
            | GovernanceCall::ResetEnabledControl { .. }
            | GovernanceCall::EnableBaseline { .. }
            | GovernanceCall::UpdateEnabledBaseline { .. }
            | GovernanceCall::ResetEnabledBaseline { .. }
            | GovernanceCall::DisableBaseline { .. } => ApiClass::ControlTowerWrites,
            GovernanceCall::ProvisionProduct(_)
            | GovernanceCall::UpdateProvisionedProduct { .. }
            | GovernanceCall::CreatePortfolio { .. }
            | GovernanceCall::UpdatePortfolio { .. }
            | GovernanceCall::DeletePortfolio { .. } => ApiClass::ServiceCatalogWrites,
            GovernanceCall::CreatePortfolioShare { .. }
            | GovernanceCall::DeletePortfolioShare { .. } => ApiClass::PortfolioShares,
        }
    }

    pub fn api(&self) -> &'static str {
        match self {
            GovernanceCall::EnableControl { .. } => "EnableControl",
            GovernanceCall::DisableControl { .. } => "DisableControl",
            GovernanceCall::UpdateEnabledControl { .. } => "UpdateEnabledControl",
            GovernanceCall::ResetEnabledControl { .. } => "ResetEnabledControl",
            GovernanceCall::EnableBaseline { .. } => "EnableBaseline",
            GovernanceCall::UpdateEnabledBaseline { .. } => "UpdateEnabledBaseline",
            GovernanceCall::ResetEnabledBaseline { .. } => "ResetEnabledBaseline",
            GovernanceCall::DisableBaseline { .. } => "DisableBaseline",
            GovernanceCall::ProvisionProduct(_) => "ProvisionProduct",
            GovernanceCall::UpdateProvisionedProduct { .. } => "UpdateProvisionedProduct",
            GovernanceCall::CreatePortfolio { .. } => "CreatePortfolio",
            GovernanceCall::UpdatePortfolio { .. } => "UpdatePortfolio",
            GovernanceCall::DeletePortfolio { .. } => "DeletePortfolio",
            GovernanceCall::CreatePortfolioShare { .. } => "CreatePortfolioShare",
            GovernanceCall::DeletePortfolioShare { .. } => "DeletePortfolioShare",
        }
    }

    fn already_done(&self, error: &ErrorKind) -> bool {
        match self {
            // A control already disabled (a lost response, or done by hand).
            GovernanceCall::DisableControl { .. }
            | GovernanceCall::DisableBaseline { .. }
            | GovernanceCall::DeletePortfolio { .. }
            | GovernanceCall::DeletePortfolioShare { .. } => *error == ErrorKind::NotFound,
            GovernanceCall::EnableControl { .. }
            | GovernanceCall::UpdateEnabledControl { .. }
            | GovernanceCall::ResetEnabledControl { .. }
            | GovernanceCall::EnableBaseline { .. }
            | GovernanceCall::UpdateEnabledBaseline { .. }
            | GovernanceCall::ResetEnabledBaseline { .. }
            | GovernanceCall::ProvisionProduct(_)
            | GovernanceCall::UpdateProvisionedProduct { .. }
            | GovernanceCall::CreatePortfolio { .. }
            | GovernanceCall::UpdatePortfolio { .. }
            | GovernanceCall::CreatePortfolioShare { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KMS calls are paced by the KMS bucket of their account and region, everything
    /// else a member account is called for by the EC2 one.
    #[test]
    fn member_calls_are_paced_by_their_service() {
        let tags = Tags::new();
        let kms = [
            MemberCall::CreateKey {
                description: "",
                policy: "",
                tags: &tags,
            },
            MemberCall::SetKeyRotation {
                key_id: "k",
                enabled: true,
            },
            MemberCall::CancelKeyDeletion { key_id: "k" },
            MemberCall::PutAlias {
                alias: "alias/x",
                key_id: "k",
            },
        ];
        for call in &kms {
            assert_eq!(call.service(), MemberService::Kms, "{call:?}");
        }
        let ec2 = [
            MemberCall::CreateVpc {
                cidr: "10.0.0.0/16",
                tags: &tags,
            },
            MemberCall::DeleteVpcEndpoint { endpoint_id: "e" },
            MemberCall::CreateTags {
                resource_id: "vpc-1",
                tags: &tags,
            },
        ];
        for call in &ec2 {
            assert_eq!(call.service(), MemberService::Ec2, "{call:?}");
        }
    }

    /// Only EC2 deletes wait out `DependencyViolation`; a KMS alias delete counts a
    /// missing alias as done but has nothing to wait for.
    #[test]
    fn only_ec2_deletes_wait_for_dependents() {
        let scope = MemberScope {
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
        };
        let vpc = Call::Member(&scope, MemberCall::DeleteVpc { vpc_id: "vpc-1" });
        let alias = Call::Member(&scope, MemberCall::DeleteAlias { alias: "alias/x" });
        assert!(vpc.waits_for_dependents());
        assert!(!alias.waits_for_dependents());
        assert!(alias.already_done(&ErrorKind::NotFound));
        let detach = Call::Organizations(OrganizationsCall::DetachPolicy {
            policy_id: "p-1",
            target_id: "ou-1",
        });
        assert!(detach.already_done(&ErrorKind::PolicyNotAttached));
        assert!(!detach.waits_for_dependents());
    }
}
