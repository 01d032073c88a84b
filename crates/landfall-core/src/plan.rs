//! Plans: the ordered list of changes that takes the live organization to the desired
//! state. A plan is self-contained (it can be saved and applied later) and is produced
//! by [`crate::diff::compute_plan`] without any I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::address::Address;
use crate::attrs::{AttrDiff, Attrs};
use crate::live::WorldIdentity;
use crate::model::{
    CustomerPolicyRef, Lifecycle, ObjectLock, PermissionsBoundary, PolicyType, SsoUser, Tags,
};

pub const PLAN_FORMAT_VERSION: u32 = 1;

/// What a change does, as the reader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    /// Start managing a resource that already exists live (found by its natural key).
    Adopt,
    Update,
    Replace,
    Move,
    Delete,
    /// Close an account (AWS keeps it SUSPENDED for 90 days).
    Close,
    /// Stop managing: the resource stays live, the state forgets it.
    Forget,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Adopt => "=",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Move => ">",
            Action::Delete => "-",
            Action::Close => "x",
            Action::Forget => ".",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Adopt => "adopt",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Move => "move",
            Action::Delete => "delete",
            Action::Close => "close",
            Action::Forget => "forget",
        }
    }
}

/// A resource reference resolved when the change runs: a known physical id, or the
/// address of a resource an earlier change creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ref {
    Id(String),
    Address(Address),
}

/// One backend operation, by the family of the resource it changes. Each maps to one
/// API call (account creation and the asynchronous governance operations also poll).
///
/// Untagged on the wire: each family's operations carry their own `op` tag, so a
/// saved plan reads the same as before the split (`{"op": "create_ou", ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Op {
    Organization(OrganizationOp),
    /// Runs in the change's `member` account and region.
    Member(MemberOp),
    Governance(GovernanceOp),
    Identity(IdentityOp),
    /// Trusted access and delegated administrators run in the management account;
    /// the rest in the change's `member` account and region.
    Security(SecurityOp),
}

fn scp_type() -> PolicyType {
    PolicyType::ServiceControlPolicy
}

fn is_scp_type(t: &PolicyType) -> bool {
    *t == PolicyType::ServiceControlPolicy
}

/// A KMS key named by ARN where another account's service uses it: the key, its
/// account and region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRef {
    pub key: Ref,
    pub account: Ref,
    pub region: String,
}

/// Logging and security services.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SecurityOp {
    /// `EnableAWSServiceAccess`.
    EnableServiceAccess {
        service_principal: String,
    },
    DisableServiceAccess {
        service_principal: String,
    },
    /// GuardDuty and Security Hub: their own `EnableOrganizationAdminAccount` in
    /// `region`; any other service: `RegisterDelegatedAdministrator`.
    RegisterDelegatedAdmin {
        service_principal: String,
        account: Ref,
        region: String,
    },
    DeregisterDelegatedAdmin {
        service_principal: String,
        account: Ref,
        region: String,
    },
    CreateBucket {
        bucket_name: String,
        object_lock: bool,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        tags: Tags,
    },
    PutBucketVersioning,
    /// Default encryption SSE-KMS with the key (bucket key on).
    PutBucketEncryption {
        key: KeyRef,
    },
    /// All four settings on.
    PutPublicAccessBlock,
    PutBucketPolicy {
        policy: String,
    },
    PutObjectLock {
        object_lock: ObjectLock,
    },
    /// `None`: delete the lifecycle configuration.
    PutBucketLifecycle {
        lifecycle: Option<Lifecycle>,
    },
    TagBucket {
        tags: Tags,
    },
    /// Empties nothing: a bucket with objects is refused (`BucketNotEmpty`).
    DeleteBucket,
    CreateTrail {
        trail: TrailSettings,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        tags: Tags,
    },
    UpdateTrail {
        trail: TrailSettings,
    },
    StartLogging,
    TagTrail {
        tags: Tags,
    },
    DeleteTrail,
    /// Creates the aggregator's role if missing (`CreateRole` trusting
    /// `config.amazonaws.com`, `AttachRolePolicy` of
    /// `service-role/AWSConfigRoleForOrganizations`), then
    /// `PutConfigurationAggregator` (organization source, all regions).
    PutConfigAggregator {
        name: String,
        role_name: String,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        tags: Tags,
    },
    /// `DeleteConfigurationAggregator`, then the role Landfall made for it.
    DeleteConfigAggregator {
        name: String,
        role_name: String,
    },
    /// `CreateAnalyzer` of type `ORGANIZATION`.
    CreateAnalyzer {
        name: String,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        tags: Tags,
    },
    DeleteAnalyzer {
        name: String,
    },
}

/// What `CreateTrail` and `UpdateTrail` send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailSettings {
    pub name: String,
    /// The bucket (its id is its name).
    pub bucket: Ref,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    pub key: KeyRef,
    pub multi_region: bool,
    pub organization: bool,
    pub log_file_validation: bool,
}

/// AWS Organizations: OUs, accounts, SCPs and their attachments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum OrganizationOp {
    CreateOu {
        parent: Ref,
        name: String,
        tags: Tags,
    },
    RenameOu {
        name: String,
    },
    DeleteOu,
    /// Create the account (it lands under the root), wait for it, then move it to `parent`.
    CreateAccount {
        name: String,
        email: String,
        tags: Tags,
        parent: Ref,
        role_name: String,
    },
    MoveAccount {
        from: Ref,
        to: Ref,
    },
    /// The account's name, through the Account Management API (`PutAccountName`).
    RenameAccount {
        name: String,
    },
    CloseAccount,
    Tag {
        tags: Tags,
    },
    Untag {
        keys: Vec<String>,
    },
    CreatePolicy {
        /// Absent in plans saved before other policy types: a service control policy.
        #[serde(default = "scp_type", skip_serializing_if = "is_scp_type")]
        policy_type: PolicyType,
        name: String,
        description: String,
        content: String,
        tags: Tags,
    },
    /// `EnablePolicyType` on the root (polled until the root lists it `ENABLED`).
    EnablePolicyType {
        policy_type: PolicyType,
    },
    /// `DisablePolicyType` on the root: AWS detaches every policy of the type.
    DisablePolicyType {
        policy_type: PolicyType,
    },
    UpdatePolicy {
        /// A new name (`None`: unchanged; left out of the JSON then, so plans saved
        /// before names were updated read the same).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        description: Option<String>,
        content: Option<String>,
    },
    DeletePolicy,
    Attach {
        policy: Ref,
        target: Ref,
    },
    Detach {
        policy: Ref,
        target: Ref,
    },
    /// An attachment AWS made itself: it attaches FullAWSAccess to every OU and
    /// account created while SCPs are enabled, so sending AttachPolicy would only
    /// fail with DuplicatePolicyAttachmentException. Makes no call; resolves the
    /// refs into the attachment's id once the target exists.
    AttachedByAws {
        policy: Ref,
        target: Ref,
    },
}

/// A member account's networks (EC2) and keys (KMS).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MemberOp {
    CreateVpc {
        cidr: String,
        tags: Tags,
    },
    DeleteVpc,
    CreateSubnet {
        vpc: Ref,
        az: String,
        cidr: String,
        tags: Tags,
    },
    DeleteSubnet,
    CreateRouteTable {
        vpc: Ref,
        tags: Tags,
    },
    /// Associates a subnet with the change's route table.
    AssociateRouteTable {
        subnet: Ref,
    },
    DeleteRouteTable,
    CreateSecurityGroup {
        vpc: Ref,
        name: String,
        description: String,
        ingress_cidr: String,
        tags: Tags,
    },
    SetIngress {
        add: Vec<String>,
        remove: Vec<String>,
    },
    DeleteSecurityGroup,
    CreateEndpoint {
        vpc: Ref,
        service_name: String,
        kind: crate::model::EndpointKind,
        subnets: Vec<Ref>,
        security_groups: Vec<Ref>,
        route_tables: Vec<Ref>,
        private_dns: bool,
        policy: Option<String>,
        tags: Tags,
    },
    ModifyEndpoint {
        add_subnets: Vec<Ref>,
        remove_subnets: Vec<String>,
        add_security_groups: Vec<Ref>,
        remove_security_groups: Vec<String>,
        add_route_tables: Vec<Ref>,
        remove_route_tables: Vec<String>,
        /// `None`: leave the policy alone; `Some(None)`: reset to AWS's default policy
        /// (written `null`; an unchanged policy is left out of the JSON).
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::attrs::present"
        )]
        policy: Option<Option<String>>,
        private_dns: Option<bool>,
    },
    DeleteEndpoint,
    TagEc2 {
        tags: Tags,
    },
    UntagEc2 {
        keys: Vec<String>,
    },
    CreateKey {
        description: String,
        policy: String,
        tags: Tags,
    },
    SetKeyRotation {
        enabled: bool,
    },
    PutKeyPolicy {
        policy: String,
    },
    UpdateKeyDescription {
        description: String,
    },
    ScheduleKeyDeletion {
        window_days: u32,
    },
    RestoreKey,
    PutAlias {
        alias: String,
    },
    DeleteAlias {
        alias: String,
    },
    TagKey {
        tags: Tags,
    },
    UntagKey {
        keys: Vec<String>,
    },
}

/// Control Tower controls, the Account Factory and Service Catalog portfolios.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GovernanceOp {
    // Control Tower: each polls its operation to the end.
    EnableControl {
        control_arn: String,
        ou: Ref,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        parameters: BTreeMap<String, serde_json::Value>,
    },
    /// Parameters in place; the change's id is the enabled control's ARN.
    UpdateEnabledControl {
        parameters: BTreeMap<String, serde_json::Value>,
    },
    /// Repairs a drifted control.
    ResetEnabledControl,
    DisableControl {
        control_arn: String,
        ou: Ref,
    },
    /// Registers `ou` with Control Tower: enables `AWSControlTowerBaseline` (`baseline`,
    /// its ARN) at `version` on it, with the landing zone's Identity Center enabled
    /// baseline as a parameter when it has one; polls the baseline operation.
    EnableBaseline {
        ou: Ref,
        baseline: String,
        version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity_center: Option<String>,
    },
    /// A registration to another baseline version or parameter; the change's id is the
    /// enabled baseline's ARN.
    UpdateEnabledBaseline {
        version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity_center: Option<String>,
    },
    /// Re-registers the OU: repairs a drifted or failed registration and enrolls the
    /// accounts that came into the OU through AWS Organizations.
    ResetEnabledBaseline,
    /// Deregisters the OU.
    DisableBaseline,
    /// Account Factory: provision the account into `ou`, poll the record.
    ProvisionAccount {
        product: String,
        name: String,
        email: String,
        ou_name: String,
        ou: Ref,
        sso_user: SsoUser,
        tags: Tags,
    },
    /// Account Factory: move the account by updating its provisioned product.
    UpdateProvisionedAccount {
        provisioned_product_id: String,
        product: String,
        name: String,
        email: String,
        ou_name: String,
        ou: Ref,
        sso_user: SsoUser,
    },
    // Service Catalog.
    CreatePortfolio {
        display_name: String,
        provider_name: String,
        description: String,
        tags: Tags,
    },
    UpdatePortfolio {
        display_name: Option<String>,
        provider_name: Option<String>,
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        add_tags: Tags,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove_tags: Vec<String>,
    },
    DeletePortfolio,
    /// Shares `portfolio` with `target` (`None`: the organization); an organization,
    /// OU share is polled until the service finished it.
    SharePortfolio {
        portfolio: Ref,
        target: ShareRef,
        share_tag_options: bool,
    },
    UnsharePortfolio {
        portfolio: Ref,
        target: ShareRef,
    },
}

/// IAM Identity Center (SSO Admin) and its Identity Store. A permission set's
/// operations run on the change's id, its ARN (or the ARN the change's create
/// returned).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum IdentityOp {
    CreatePermissionSet {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        session_duration: String,
        #[serde(default, skip_serializing_if = "Tags::is_empty")]
        tags: Tags,
    },
    UpdatePermissionSet {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        session_duration: String,
    },
    AttachManagedPolicy {
        policy_arn: String,
    },
    DetachManagedPolicy {
        policy_arn: String,
    },
    AttachCustomerManagedPolicy {
        policy: CustomerPolicyRef,
    },
    DetachCustomerManagedPolicy {
        policy: CustomerPolicyRef,
    },
    PutInlinePolicy {
        document: String,
    },
    DeleteInlinePolicy,
    PutPermissionsBoundary {
        boundary: PermissionsBoundary,
    },
    DeletePermissionsBoundary,
    TagPermissionSet {
        tags: Tags,
    },
    UntagPermissionSet {
        keys: Vec<String>,
    },
    /// Re-provisions the permission set to every account it is provisioned to, after
    /// its policies changed (AWS does not do it by itself); polls the request.
    ProvisionPermissionSet,
    DeletePermissionSet,
    /// Creates the group in the Identity Store (`CreateGroup`).
    CreateGroup {
        display_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    UpdateGroupDescription {
        description: Option<String>,
    },
    DeleteGroup,
    /// Assigns `permission_set` to the principal in `account`; polls the request to
    /// the end (the role is provisioned in the account with it).
    CreateAccountAssignment {
        permission_set: Ref,
        principal: PrincipalRef,
        account: Ref,
    },
    DeleteAccountAssignment {
        permission_set: Ref,
        principal: PrincipalRef,
        account: Ref,
    },
}

/// An assignment's principal, resolved when the change runs: a group (Landfall's, by
/// reference, or an existing one by id) or a user by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalRef {
    Group(Ref),
    User(String),
}

impl PrincipalRef {
    pub fn principal_type(&self) -> crate::live::PrincipalType {
        match self {
            PrincipalRef::Group(_) => crate::live::PrincipalType::Group,
            PrincipalRef::User(_) => crate::live::PrincipalType::User,
        }
    }
}

impl From<IdentityOp> for Op {
    fn from(op: IdentityOp) -> Self {
        Op::Identity(op)
    }
}

impl From<OrganizationOp> for Op {
    fn from(op: OrganizationOp) -> Self {
        Op::Organization(op)
    }
}

impl From<MemberOp> for Op {
    fn from(op: MemberOp) -> Self {
        Op::Member(op)
    }
}

impl From<GovernanceOp> for Op {
    fn from(op: GovernanceOp) -> Self {
        Op::Governance(op)
    }
}

/// Who a portfolio share goes to, resolved when the change runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareRef {
    Organization,
    OrganizationalUnit(Ref),
    Account(Ref),
}

impl Op {
    /// Whether the operation creates the change's resource (its id comes back from it).
    pub fn creates(&self) -> bool {
        match self {
            Op::Organization(op) => op.creates(),
            Op::Member(op) => op.creates(),
            Op::Governance(op) => op.creates(),
            Op::Identity(op) => op.creates(),
            Op::Security(op) => op.creates(),
        }
    }

    /// How long the operation typically takes on AWS, in seconds: the executor runs
    /// the changes on the longest remaining path first. Estimates (AWS documents no
    /// durations; `docs/sim-model.md` lists the same figures): an account creation a
    /// minute, a Control Tower control operation a minute and a half, an OU
    /// registration five minutes, an Account Factory provisioning twenty; any other
    /// operation is one call.
    pub fn typical_seconds(&self) -> f64 {
        match self {
            Op::Organization(op) => op.typical_seconds(),
            Op::Member(_) => ONE_CALL_SECONDS,
            Op::Governance(op) => op.typical_seconds(),
            Op::Identity(op) => op.typical_seconds(),
            Op::Security(_) => ONE_CALL_SECONDS,
        }
    }

    /// The references this operation needs resolved: each is a dependency edge when it
    /// names a resource the plan creates.
    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            Op::Organization(op) => op.refs(),
            Op::Member(op) => op.refs(),
            Op::Governance(op) => op.refs(),
            Op::Identity(op) => op.refs(),
            Op::Security(op) => op.refs(),
        }
    }
}

/// A synchronous call's typical round trip.
const ONE_CALL_SECONDS: f64 = 0.25;

impl OrganizationOp {
    fn typical_seconds(&self) -> f64 {
        match self {
            OrganizationOp::CreateAccount { .. } => 60.0,
            OrganizationOp::CreateOu { .. }
            | OrganizationOp::CreatePolicy { .. }
            | OrganizationOp::RenameOu { .. }
            | OrganizationOp::DeleteOu
            | OrganizationOp::MoveAccount { .. }
            | OrganizationOp::RenameAccount { .. }
            | OrganizationOp::CloseAccount
            | OrganizationOp::Tag { .. }
            | OrganizationOp::Untag { .. }
            | OrganizationOp::UpdatePolicy { .. }
            | OrganizationOp::DeletePolicy
            | OrganizationOp::Attach { .. }
            | OrganizationOp::Detach { .. }
            | OrganizationOp::EnablePolicyType { .. }
            | OrganizationOp::DisablePolicyType { .. } => ONE_CALL_SECONDS,
            OrganizationOp::AttachedByAws { .. } => 0.0,
        }
    }

    pub fn creates(&self) -> bool {
        match self {
            OrganizationOp::CreateOu { .. }
            | OrganizationOp::CreateAccount { .. }
            | OrganizationOp::CreatePolicy { .. } => true,
            OrganizationOp::RenameOu { .. }
            | OrganizationOp::DeleteOu
            | OrganizationOp::MoveAccount { .. }
            | OrganizationOp::RenameAccount { .. }
            | OrganizationOp::CloseAccount
            | OrganizationOp::Tag { .. }
            | OrganizationOp::Untag { .. }
            | OrganizationOp::UpdatePolicy { .. }
            | OrganizationOp::DeletePolicy
            | OrganizationOp::Attach { .. }
            | OrganizationOp::Detach { .. }
            | OrganizationOp::AttachedByAws { .. }
            | OrganizationOp::EnablePolicyType { .. }
            | OrganizationOp::DisablePolicyType { .. } => false,
        }
    }

    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            OrganizationOp::CreateOu { parent, .. }
            | OrganizationOp::CreateAccount { parent, .. } => vec![parent],
            OrganizationOp::MoveAccount { from, to } => vec![from, to],
            OrganizationOp::Attach { policy, target }
            | OrganizationOp::Detach { policy, target }
            | OrganizationOp::AttachedByAws { policy, target } => {
                vec![policy, target]
            }
            OrganizationOp::RenameOu { .. }
            | OrganizationOp::DeleteOu
            | OrganizationOp::RenameAccount { .. }
            | OrganizationOp::CloseAccount
            | OrganizationOp::Tag { .. }
            | OrganizationOp::Untag { .. }
            | OrganizationOp::CreatePolicy { .. }
            | OrganizationOp::UpdatePolicy { .. }
            | OrganizationOp::DeletePolicy
            | OrganizationOp::EnablePolicyType { .. }
            | OrganizationOp::DisablePolicyType { .. } => vec![],
        }
    }
}

impl SecurityOp {
    pub fn creates(&self) -> bool {
        match self {
            SecurityOp::CreateBucket { .. }
            | SecurityOp::CreateTrail { .. }
            | SecurityOp::PutConfigAggregator { .. }
            | SecurityOp::CreateAnalyzer { .. } => true,
            SecurityOp::EnableServiceAccess { .. }
            | SecurityOp::DisableServiceAccess { .. }
            | SecurityOp::RegisterDelegatedAdmin { .. }
            | SecurityOp::DeregisterDelegatedAdmin { .. }
            | SecurityOp::PutBucketVersioning
            | SecurityOp::PutBucketEncryption { .. }
            | SecurityOp::PutPublicAccessBlock
            | SecurityOp::PutBucketPolicy { .. }
            | SecurityOp::PutObjectLock { .. }
            | SecurityOp::PutBucketLifecycle { .. }
            | SecurityOp::TagBucket { .. }
            | SecurityOp::DeleteBucket
            | SecurityOp::UpdateTrail { .. }
            | SecurityOp::StartLogging
            | SecurityOp::TagTrail { .. }
            | SecurityOp::DeleteTrail
            | SecurityOp::DeleteConfigAggregator { .. }
            | SecurityOp::DeleteAnalyzer { .. } => false,
        }
    }

    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            SecurityOp::RegisterDelegatedAdmin { account, .. }
            | SecurityOp::DeregisterDelegatedAdmin { account, .. } => vec![account],
            SecurityOp::PutBucketEncryption { key } => vec![&key.key, &key.account],
            SecurityOp::CreateTrail { trail, .. } | SecurityOp::UpdateTrail { trail } => {
                vec![&trail.bucket, &trail.key.key, &trail.key.account]
            }
            SecurityOp::EnableServiceAccess { .. }
            | SecurityOp::DisableServiceAccess { .. }
            | SecurityOp::CreateBucket { .. }
            | SecurityOp::PutBucketVersioning
            | SecurityOp::PutPublicAccessBlock
            | SecurityOp::PutBucketPolicy { .. }
            | SecurityOp::PutObjectLock { .. }
            | SecurityOp::PutBucketLifecycle { .. }
            | SecurityOp::TagBucket { .. }
            | SecurityOp::DeleteBucket
            | SecurityOp::StartLogging
            | SecurityOp::TagTrail { .. }
            | SecurityOp::DeleteTrail
            | SecurityOp::PutConfigAggregator { .. }
            | SecurityOp::DeleteConfigAggregator { .. }
            | SecurityOp::CreateAnalyzer { .. }
            | SecurityOp::DeleteAnalyzer { .. } => vec![],
        }
    }
}

impl MemberOp {
    pub fn creates(&self) -> bool {
        match self {
            MemberOp::CreateVpc { .. }
            | MemberOp::CreateSubnet { .. }
            | MemberOp::CreateRouteTable { .. }
            | MemberOp::CreateSecurityGroup { .. }
            | MemberOp::CreateEndpoint { .. }
            | MemberOp::CreateKey { .. } => true,
            MemberOp::DeleteVpc
            | MemberOp::DeleteSubnet
            | MemberOp::AssociateRouteTable { .. }
            | MemberOp::DeleteRouteTable
            | MemberOp::SetIngress { .. }
            | MemberOp::DeleteSecurityGroup
            | MemberOp::ModifyEndpoint { .. }
            | MemberOp::DeleteEndpoint
            | MemberOp::TagEc2 { .. }
            | MemberOp::UntagEc2 { .. }
            | MemberOp::SetKeyRotation { .. }
            | MemberOp::PutKeyPolicy { .. }
            | MemberOp::UpdateKeyDescription { .. }
            | MemberOp::ScheduleKeyDeletion { .. }
            | MemberOp::RestoreKey
            | MemberOp::PutAlias { .. }
            | MemberOp::DeleteAlias { .. }
            | MemberOp::TagKey { .. }
            | MemberOp::UntagKey { .. } => false,
        }
    }

    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            MemberOp::CreateSubnet { vpc, .. }
            | MemberOp::CreateRouteTable { vpc, .. }
            | MemberOp::CreateSecurityGroup { vpc, .. } => vec![vpc],
            MemberOp::AssociateRouteTable { subnet } => vec![subnet],
            MemberOp::CreateEndpoint {
                vpc,
                subnets,
                security_groups,
                route_tables,
                ..
            } => std::iter::once(vpc)
                .chain(subnets)
                .chain(security_groups)
                .chain(route_tables)
                .collect(),
            MemberOp::ModifyEndpoint {
                add_subnets,
                add_security_groups,
                add_route_tables,
                ..
            } => add_subnets
                .iter()
                .chain(add_security_groups)
                .chain(add_route_tables)
                .collect(),
            MemberOp::CreateVpc { .. }
            | MemberOp::DeleteVpc
            | MemberOp::DeleteSubnet
            | MemberOp::DeleteRouteTable
            | MemberOp::SetIngress { .. }
            | MemberOp::DeleteSecurityGroup
            | MemberOp::DeleteEndpoint
            | MemberOp::TagEc2 { .. }
            | MemberOp::UntagEc2 { .. }
            | MemberOp::CreateKey { .. }
            | MemberOp::SetKeyRotation { .. }
            | MemberOp::PutKeyPolicy { .. }
            | MemberOp::UpdateKeyDescription { .. }
            | MemberOp::ScheduleKeyDeletion { .. }
            | MemberOp::RestoreKey
            | MemberOp::PutAlias { .. }
            | MemberOp::DeleteAlias { .. }
            | MemberOp::TagKey { .. }
            | MemberOp::UntagKey { .. } => vec![],
        }
    }
}

impl GovernanceOp {
    fn typical_seconds(&self) -> f64 {
        match self {
            GovernanceOp::EnableControl { .. }
            | GovernanceOp::UpdateEnabledControl { .. }
            | GovernanceOp::ResetEnabledControl
            | GovernanceOp::DisableControl { .. } => 90.0,
            GovernanceOp::EnableBaseline { .. }
            | GovernanceOp::UpdateEnabledBaseline { .. }
            | GovernanceOp::ResetEnabledBaseline
            | GovernanceOp::DisableBaseline => 300.0,
            GovernanceOp::ProvisionAccount { .. }
            | GovernanceOp::UpdateProvisionedAccount { .. } => 1200.0,
            GovernanceOp::CreatePortfolio { .. }
            | GovernanceOp::UpdatePortfolio { .. }
            | GovernanceOp::DeletePortfolio
            | GovernanceOp::SharePortfolio { .. }
            | GovernanceOp::UnsharePortfolio { .. } => ONE_CALL_SECONDS,
        }
    }
}

impl GovernanceOp {
    pub fn creates(&self) -> bool {
        match self {
            GovernanceOp::EnableControl { .. }
            | GovernanceOp::EnableBaseline { .. }
            | GovernanceOp::ProvisionAccount { .. }
            | GovernanceOp::CreatePortfolio { .. }
            | GovernanceOp::SharePortfolio { .. } => true,
            GovernanceOp::UpdateEnabledControl { .. }
            | GovernanceOp::ResetEnabledControl
            | GovernanceOp::UpdateEnabledBaseline { .. }
            | GovernanceOp::ResetEnabledBaseline
            | GovernanceOp::DisableBaseline
            | GovernanceOp::DisableControl { .. }
            | GovernanceOp::UpdateProvisionedAccount { .. }
            | GovernanceOp::UpdatePortfolio { .. }
            | GovernanceOp::DeletePortfolio
            | GovernanceOp::UnsharePortfolio { .. } => false,
        }
    }

    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            GovernanceOp::EnableControl { ou, .. }
            | GovernanceOp::EnableBaseline { ou, .. }
            | GovernanceOp::DisableControl { ou, .. }
            | GovernanceOp::ProvisionAccount { ou, .. }
            | GovernanceOp::UpdateProvisionedAccount { ou, .. } => vec![ou],
            GovernanceOp::SharePortfolio {
                portfolio, target, ..
            }
            | GovernanceOp::UnsharePortfolio { portfolio, target } => match target {
                ShareRef::Organization => vec![portfolio],
                ShareRef::OrganizationalUnit(t) | ShareRef::Account(t) => vec![portfolio, t],
            },
            GovernanceOp::UpdateEnabledControl { .. }
            | GovernanceOp::ResetEnabledControl
            | GovernanceOp::UpdateEnabledBaseline { .. }
            | GovernanceOp::ResetEnabledBaseline
            | GovernanceOp::DisableBaseline
            | GovernanceOp::CreatePortfolio { .. }
            | GovernanceOp::UpdatePortfolio { .. }
            | GovernanceOp::DeletePortfolio => vec![],
        }
    }
}

impl IdentityOp {
    /// Assignments and provisioning create an IAM role in the account: a few seconds
    /// (an estimate; `docs/sim-model.md`).
    fn typical_seconds(&self) -> f64 {
        match self {
            IdentityOp::CreateAccountAssignment { .. }
            | IdentityOp::DeleteAccountAssignment { .. }
            | IdentityOp::ProvisionPermissionSet => 5.0,
            IdentityOp::CreatePermissionSet { .. }
            | IdentityOp::UpdatePermissionSet { .. }
            | IdentityOp::AttachManagedPolicy { .. }
            | IdentityOp::DetachManagedPolicy { .. }
            | IdentityOp::AttachCustomerManagedPolicy { .. }
            | IdentityOp::DetachCustomerManagedPolicy { .. }
            | IdentityOp::PutInlinePolicy { .. }
            | IdentityOp::DeleteInlinePolicy
            | IdentityOp::PutPermissionsBoundary { .. }
            | IdentityOp::DeletePermissionsBoundary
            | IdentityOp::TagPermissionSet { .. }
            | IdentityOp::UntagPermissionSet { .. }
            | IdentityOp::DeletePermissionSet
            | IdentityOp::CreateGroup { .. }
            | IdentityOp::UpdateGroupDescription { .. }
            | IdentityOp::DeleteGroup => ONE_CALL_SECONDS,
        }
    }

    pub fn creates(&self) -> bool {
        match self {
            IdentityOp::CreatePermissionSet { .. }
            | IdentityOp::CreateGroup { .. }
            | IdentityOp::CreateAccountAssignment { .. } => true,
            IdentityOp::UpdatePermissionSet { .. }
            | IdentityOp::AttachManagedPolicy { .. }
            | IdentityOp::DetachManagedPolicy { .. }
            | IdentityOp::AttachCustomerManagedPolicy { .. }
            | IdentityOp::DetachCustomerManagedPolicy { .. }
            | IdentityOp::PutInlinePolicy { .. }
            | IdentityOp::DeleteInlinePolicy
            | IdentityOp::PutPermissionsBoundary { .. }
            | IdentityOp::DeletePermissionsBoundary
            | IdentityOp::TagPermissionSet { .. }
            | IdentityOp::UntagPermissionSet { .. }
            | IdentityOp::ProvisionPermissionSet
            | IdentityOp::DeletePermissionSet
            | IdentityOp::UpdateGroupDescription { .. }
            | IdentityOp::DeleteGroup
            | IdentityOp::DeleteAccountAssignment { .. } => false,
        }
    }

    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            IdentityOp::CreateAccountAssignment {
                permission_set,
                principal,
                account,
            }
            | IdentityOp::DeleteAccountAssignment {
                permission_set,
                principal,
                account,
            } => {
                let mut out = vec![permission_set, account];
                if let PrincipalRef::Group(group) = principal {
                    out.push(group);
                }
                out
            }
            IdentityOp::CreatePermissionSet { .. }
            | IdentityOp::UpdatePermissionSet { .. }
            | IdentityOp::AttachManagedPolicy { .. }
            | IdentityOp::DetachManagedPolicy { .. }
            | IdentityOp::AttachCustomerManagedPolicy { .. }
            | IdentityOp::DetachCustomerManagedPolicy { .. }
            | IdentityOp::PutInlinePolicy { .. }
            | IdentityOp::DeleteInlinePolicy
            | IdentityOp::PutPermissionsBoundary { .. }
            | IdentityOp::DeletePermissionsBoundary
            | IdentityOp::TagPermissionSet { .. }
            | IdentityOp::UntagPermissionSet { .. }
            | IdentityOp::ProvisionPermissionSet
            | IdentityOp::DeletePermissionSet
            | IdentityOp::CreateGroup { .. }
            | IdentityOp::UpdateGroupDescription { .. }
            | IdentityOp::DeleteGroup => vec![],
        }
    }
}

/// What the state records once the change completes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// Record (or overwrite) the resource with these attributes.
    Upsert { created: bool, attributes: Attrs },
    /// Remove the resource from the state.
    Remove,
}

/// Where a member-account change runs: the account (an id, or the address of an
/// account created earlier in the apply) and the region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRef {
    pub account: Ref,
    pub region: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// Why this change is needed, in words.
    pub reason: String,
    /// Attribute-level differences (live → desired).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<AttrDiff>,
    /// The resource's physical id when it exists already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For member-account resources: the account and region the ops run in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<MemberRef>,
    /// The ML project (`[project.NAME]`) the resource comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Operations run in sequence; empty for adopt/forget and for attachments removed
    /// together with their target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<Op>,
    pub record: Record,
    /// Indexes (into `Plan::changes`) of changes that must complete first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub adopt: usize,
    pub update: usize,
    pub replace: usize,
    #[serde(rename = "move")]
    pub moves: usize,
    pub delete: usize,
    pub close: usize,
    pub forget: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Self {
        let mut s = Summary::default();
        for c in changes {
            *match c.action {
                Action::Create => &mut s.create,
                Action::Adopt => &mut s.adopt,
                Action::Update => &mut s.update,
                Action::Replace => &mut s.replace,
                Action::Move => &mut s.moves,
                Action::Delete => &mut s.delete,
                Action::Close => &mut s.close,
                Action::Forget => &mut s.forget,
            } += 1;
        }
        s
    }
}

/// The state a plan was made against; a saved plan is refused when it moved on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    pub lineage: Option<Uuid>,
    pub serial: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub landing_zone: String,
    pub world: WorldIdentity,
    pub state: StateRef,
    /// Where the state it was made against lives (`state/x.state.json` as an absolute
    /// path, or `s3://bucket/key`): `apply FILE` refuses a plan made against another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_location: Option<String>,
    /// `[[moved]]` blocks this plan applies to the state before its changes (records
    /// re-addressed; nothing changes in AWS by it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<crate::model::Moved>,
    /// `[[import]]` blocks this plan applies: each one's resource is adopted by a
    /// change at its `to` (the id as written; a key ARN's change has the key id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<crate::model::Import>,
    /// Changes in a valid execution order.
    pub changes: Vec<Change>,
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// API calls the refresh made, by API (backends that count them).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub refresh_calls: std::collections::BTreeMap<String, u64>,
    /// Accounts whose effective SCP permissions change (the blast radius of the plan's
    /// SCP changes), each with a sample of the actions that flip.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permission_changes: Vec<PermissionChange>,
    /// Accounts whose effective tag policy the plan's tag policy changes alter, with
    /// the effective policy before and after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_policy_changes: Vec<crate::tag_policies::EffectiveTagPolicyChange>,
    /// The addresses `--target` named: the plan holds only their changes and the ones
    /// they depend on (see [`crate::target::select`]); empty for a whole plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Address>,
    /// In a saved plan (`plan --out`): `sha256:` of the plan without this field, so
    /// `apply FILE` refuses a plan edited after it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// An account whose effective permissions a plan changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionChange {
    pub account: String,
    /// Sampled requests whose decision flips.
    pub flips: Vec<PermissionFlip>,
}

/// One sampled request whose decision the plan's SCP changes flip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionFlip {
    pub action: String,
    pub region: String,
    pub resource: String,
    /// The condition key and value the request carried when it needed one to flip
    /// (a value the changed policy names).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub context: std::collections::BTreeMap<String, String>,
    /// `allow` or `deny`.
    pub before: String,
    pub after: String,
    /// The statement that decides the new answer (an explicit deny), or the level that
    /// lacks an Allow; absent when the request becomes allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deciding: Option<Deciding>,
}

/// What decides a denied request: the policy, its Sid and the level it is attached
/// to (an explicit deny), or only the level with no Allow (an implicit deny).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deciding {
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.moved.is_empty()
    }

    pub fn closes_accounts(&self) -> Vec<&Address> {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Close)
            .map(|c| &c.address)
            .collect()
    }
}
