//! The live state: one consistent read of the organization, as a backend reports it.
//! Keyed by physical ids; [`LiveIndex`] resolves them to OU paths and addresses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::address::{OuPath, Target};
use crate::model::{CustomerPolicyRef, PermissionsBoundary, Tags};
use crate::policy_type::{OrgPolicyType, PolicyType};

/// Which world a state file describes: an AWS organization or a sim world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldIdentity {
    /// `sim` or `aws`.
    pub backend: String,
    /// The organization id (`o-...`) or the sim world's id.
    pub id: String,
}

impl std::fmt::Display for WorldIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} organization {}", self.backend, self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOu {
    pub id: String,
    pub name: String,
    /// The root id or the parent OU's id.
    pub parent_id: String,
    pub tags: Tags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    Active,
    Suspended,
    PendingClosure,
}

impl std::fmt::Display for AccountStatus {
    /// As AWS Organizations writes it (`SUSPENDED`), in messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Suspended => "SUSPENDED",
            AccountStatus::PendingClosure => "PENDING_CLOSURE",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    pub parent_id: String,
    pub tags: Tags,
    pub status: AccountStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub content: String,
    pub tags: Tags,
    pub aws_managed: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveVpc {
    pub id: String,
    pub cidr: String,
    pub tags: Tags,
    /// The region's default VPC (AWS makes one per region): not Landfall's to import.
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSubnet {
    pub id: String,
    pub vpc_id: String,
    pub az: String,
    pub cidr: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRouteTable {
    pub id: String,
    pub vpc_id: String,
    /// Subnets explicitly associated with it.
    pub subnet_ids: BTreeSet<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    /// CIDRs allowed in on TCP 443.
    pub ingress_443: BTreeSet<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEndpoint {
    pub id: String,
    pub vpc_id: String,
    /// Full service name (`com.amazonaws.us-east-1.sagemaker.api`).
    pub service_name: String,
    pub kind: crate::model::EndpointKind,
    pub private_dns: bool,
    pub subnet_ids: BTreeSet<String>,
    pub security_group_ids: BTreeSet<String>,
    pub route_table_ids: BTreeSet<String>,
    /// The endpoint policy document as AWS returns it.
    pub policy: Option<String>,
    pub tags: Tags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveKey {
    pub id: String,
    pub description: String,
    pub policy: String,
    pub rotation: bool,
    pub state: KeyState,
    pub aliases: BTreeSet<String>,
    pub tags: Tags,
}

/// What Landfall manages inside one member account and region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMember {
    pub vpcs: BTreeMap<String, LiveVpc>,
    pub subnets: BTreeMap<String, LiveSubnet>,
    pub route_tables: BTreeMap<String, LiveRouteTable>,
    pub security_groups: BTreeMap<String, LiveSecurityGroup>,
    pub endpoints: BTreeMap<String, LiveEndpoint>,
    /// Customer-managed keys, by key id.
    pub keys: BTreeMap<String, LiveKey>,
}

/// Where a control operation stands, as Control Tower reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlStatus {
    Succeeded,
    Failed,
    UnderChange,
}

/// A control enabled on an OU.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEnabledControl {
    /// The enabled control's own ARN (what update, reset and disable take).
    pub arn: String,
    /// The control identifier it was enabled with (`arn:aws:controltower:...::control/X`
    /// or a Control Catalog ARN).
    pub control_arn: String,
    /// The OU's id (`ou-...`).
    pub target_id: String,
    /// Parameters as JSON values.
    pub parameters: BTreeMap<String, serde_json::Value>,
    pub status: ControlStatus,
    /// Control Tower's drift status says `DRIFTED`.
    pub drifted: bool,
}

impl LiveEnabledControl {
    /// The control's short identifier: the part after `control/` in its ARN.
    pub fn short_id(&self) -> &str {
        control_short_id(&self.control_arn)
    }
}

/// `arn:aws:controltower:us-east-1::control/AWS-GR_X` → `AWS-GR_X`; anything without
/// `control/` is returned as it is.
pub fn control_short_id(arn: &str) -> &str {
    arn.rsplit_once("control/").map(|(_, id)| id).unwrap_or(arn)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePortfolio {
    pub id: String,
    pub display_name: String,
    pub provider: String,
    pub description: String,
    pub tags: Tags,
}

/// Who a portfolio is shared with.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum ShareTarget {
    /// The whole organization (the backend knows its id).
    Organization,
    /// An OU, by id.
    OrganizationalUnit(String),
    /// An account, by id.
    Account(String),
}

impl ShareTarget {
    /// The id part of a share's state id: `org`, the OU id or the account id.
    pub fn key(&self) -> &str {
        match self {
            ShareTarget::Organization => "org",
            ShareTarget::OrganizationalUnit(id) | ShareTarget::Account(id) => id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePortfolioShare {
    pub portfolio_id: String,
    pub target: ShareTarget,
    /// The recipient accepted (imported) the share. Organization shares are accepted
    /// on creation; an account share waits for the account to accept it.
    pub accepted: bool,
    pub share_tag_options: bool,
}

/// An account provisioned by the Control Tower Account Factory (a Service Catalog
/// provisioned product).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveProvisionedAccount {
    pub provisioned_product_id: String,
    /// The provisioned product's name (Landfall uses the account name).
    pub name: String,
    /// `AVAILABLE`, `UNDER_CHANGE`, `TAINTED`, `ERROR`, `PLAN_IN_PROGRESS`.
    pub status: String,
    /// The account id, once provisioning produced one.
    pub account_id: Option<String>,
    /// The record of the last provisioning operation (to wait for after a crash).
    pub last_record_id: Option<String>,
}

/// Control Tower and Service Catalog, as read by a backend's governance refresh.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveGovernance {
    /// Whether the governance layer was read at all (nothing declared or recorded
    /// needs it otherwise).
    pub read: bool,
    pub enabled_controls: Vec<LiveEnabledControl>,
    pub portfolios: BTreeMap<String, LivePortfolio>,
    pub portfolio_shares: Vec<LivePortfolioShare>,
    pub provisioned_accounts: Vec<LiveProvisionedAccount>,
    /// The Control Tower landing zone of the home region, when the scope asked for it
    /// (`Some(None)`: there is none).
    #[serde(default)]
    pub landing_zone: Option<Option<LiveLandingZone>>,
    /// Control Tower's baselines, when the scope asked for them (`[control_tower]` is
    /// declared or registrations are recorded).
    #[serde(default)]
    pub baselines: Option<LiveBaselines>,
    /// Service Catalog's AWS Organizations access (`ENABLED`, `UNDER_CHANGE`,
    /// `DISABLED`), when the scope asked for it: sharing a portfolio with the
    /// organization or an OU needs it enabled.
    #[serde(default)]
    pub organizations_access: Option<String>,
}

/// A Control Tower landing zone (`GetLandingZone`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveLandingZone {
    pub arn: String,
    /// `ACTIVE`, `PROCESSING` or `FAILED`.
    pub status: String,
    /// `IN_SYNC` or `DRIFTED`, when Control Tower reports it.
    pub drift_status: Option<String>,
    pub version: String,
    /// The name of the landing zone's Security OU (its manifest's
    /// `organizationStructure.security.name`): the landing zone governs it itself, so
    /// it takes no `AWSControlTowerBaseline`.
    #[serde(default)]
    pub security_ou: Option<String>,
}

/// What Control Tower says of OU registration: the baselines it offers
/// (`ListBaselines`) and the `AWSControlTowerBaseline` enabled on OUs and, as their
/// children, on the OUs' enrolled accounts (`ListEnabledBaselines`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveBaselines {
    /// The ARN of `AWSControlTowerBaseline` (`None`: Control Tower does not offer it).
    pub control_tower_baseline: Option<String>,
    /// The enabled-baseline ARN of the landing zone's `IdentityCenterBaseline`, when
    /// the landing zone manages IAM Identity Center access: registering an OU passes it
    /// as the `IdentityCenterEnabledBaselineArn` parameter.
    pub identity_center_enabled_baseline: Option<String>,
    /// Every enabled `AWSControlTowerBaseline`, on OUs and on accounts.
    pub enabled: Vec<LiveEnabledBaseline>,
}

/// An enabled baseline (`EnabledBaselineSummary`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEnabledBaseline {
    /// The enabled baseline's own ARN (what update, reset and disable take).
    pub arn: String,
    pub baseline_arn: String,
    pub version: Option<String>,
    /// The target's id: an OU's `ou-...` or an account's id.
    pub target_id: String,
    /// The enabled baseline this one inherits from: an enrolled account's points at
    /// its OU's.
    pub parent_arn: Option<String>,
    /// The `IdentityCenterEnabledBaselineArn` parameter it was enabled with.
    pub identity_center: Option<String>,
    pub status: ControlStatus,
    /// Its drift status (or its inheritance drift: an account that no longer follows
    /// its OU) says `DRIFTED`.
    pub drifted: bool,
}

impl LiveBaselines {
    /// The `AWSControlTowerBaseline` enabled on OU `ou_id` (not inherited).
    pub fn on_ou(&self, ou_id: &str) -> Option<&LiveEnabledBaseline> {
        self.enabled
            .iter()
            .find(|b| b.target_id == ou_id && b.parent_arn.is_none())
    }

    /// Whether account `account_id` is enrolled: it has an enabled baseline.
    pub fn enrolled(&self, account_id: &str) -> bool {
        self.enabled.iter().any(|b| b.target_id == account_id)
    }
}

/// The organization's IAM Identity Center instance (`ListInstances`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveIdentityInstance {
    pub arn: String,
    pub identity_store_id: String,
}

/// A permission set (`DescribePermissionSet` and its policy reads).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePermissionSet {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub session_duration: String,
    /// AWS-managed policy ARNs.
    pub managed_policies: BTreeSet<String>,
    pub customer_managed_policies: BTreeSet<CustomerPolicyRef>,
    /// The inline policy as AWS returns it (compared canonical).
    pub inline_policy: Option<String>,
    pub permissions_boundary: Option<PermissionsBoundary>,
    pub tags: Tags,
    /// Accounts it is provisioned to (`ListAccountsForProvisionedPermissionSet`).
    pub provisioned_to: BTreeSet<String>,
    /// Of those, the accounts whose copy is not the latest version
    /// (`LATEST_PERMISSION_SET_NOT_PROVISIONED`): a change not provisioned yet.
    pub outdated_in: BTreeSet<String>,
    /// Whether its policies were read (only those Landfall declares or records are).
    pub detailed: bool,
}

/// An Identity Store group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveGroup {
    pub id: String,
    pub display_name: String,
    pub description: Option<String>,
}

/// The principal type of an account assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PrincipalType {
    Group,
    User,
}

/// An account assignment (`ListAccountAssignments`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LiveAssignment {
    pub permission_set_arn: String,
    pub principal_type: PrincipalType,
    pub principal_id: String,
    pub account_id: String,
}

/// IAM Identity Center and its Identity Store, as far as the identity scope asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveIdentity {
    /// Whether it was read at all (nothing declared or recorded needs it otherwise).
    pub read: bool,
    /// `None`: Identity Center is not enabled for the organization.
    pub instance: Option<LiveIdentityInstance>,
    /// Every permission set of the instance, by ARN (policies read only for those in
    /// scope: `detailed`).
    pub permission_sets: BTreeMap<String, LivePermissionSet>,
    /// The groups asked for, by display name (`GetGroupId`, `DescribeGroup`); a name
    /// not found is absent.
    pub groups: BTreeMap<String, LiveGroup>,
    /// The users asked for: user name → user id.
    pub users: BTreeMap<String, String>,
    /// Display names of the other groups the assignments name, by id.
    pub group_names: BTreeMap<String, String>,
    /// The assignments of the permission sets in scope, in the accounts they are
    /// provisioned to.
    pub assignments: BTreeSet<LiveAssignment>,
}

impl LiveIdentity {
    /// The permission set with this name.
    pub fn permission_set(&self, name: &str) -> Option<&LivePermissionSet> {
        self.permission_sets.values().find(|p| p.name == name)
    }

    /// The display name of the group with this id, as far as the refresh read it.
    pub fn group_name(&self, id: &str) -> Option<&str> {
        self.group_names.get(id).map(String::as_str).or_else(|| {
            self.groups
                .values()
                .find(|g| g.id == id)
                .map(|g| g.display_name.as_str())
        })
    }

    /// The id of the group with this display name, as far as the refresh read it.
    pub fn group_id(&self, name: &str) -> Option<&str> {
        self.groups.get(name).map(|g| g.id.as_str()).or_else(|| {
            self.group_names
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(id, _)| id.as_str())
        })
    }
}

/// What a refresh reads of IAM Identity Center: the policies of these permission sets
/// (by name), these groups and users, and the assignments of these permission sets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityScope {
    /// The instance's region.
    pub region: String,
    pub permission_sets: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    /// Groups recorded by id (a group renamed outside Landfall is found by its id).
    pub group_ids: BTreeSet<String>,
    pub users: BTreeSet<String>,
}

/// The key of [`LiveState::members`]: `ACCOUNT_ID/REGION`.
pub fn member_key(account_id: &str, region: &str) -> String {
    format!("{account_id}/{region}")
}

/// One read of the organization layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    pub root_id: String,
    pub management_account_id: String,
    pub ous: BTreeMap<String, LiveOu>,
    pub accounts: BTreeMap<String, LiveAccount>,
    pub policies: BTreeMap<String, LivePolicy>,
    /// (policy id, target id) pairs.
    pub attachments: BTreeSet<(String, String)>,
    /// Member accounts' networks and keys, by [`member_key`]; only the account/region
    /// pairs the desired state or the state file mention are read.
    #[serde(default)]
    pub members: BTreeMap<String, LiveMember>,
    /// Control Tower controls, Account Factory products and Service Catalog portfolios.
    #[serde(default)]
    pub governance: LiveGovernance,
    /// IAM Identity Center permission sets, groups and assignments.
    #[serde(default)]
    pub identity: LiveIdentity,
    /// The policy types enabled on the root (`ListRoots`' `PolicyTypes` with status
    /// `ENABLED`).
    #[serde(default)]
    pub enabled_policy_types: BTreeSet<PolicyType>,
    /// Resource control, tag and AI services opt-out policies of the enabled types
    /// (AWS-managed ones included, flagged), by id.
    #[serde(default)]
    pub org_policies: BTreeMap<String, LiveOrgPolicy>,
    /// (policy id, target id) pairs of those policies.
    #[serde(default)]
    pub org_policy_attachments: BTreeSet<(String, String)>,
    /// Trusted access, delegated administrators, trails, buckets, aggregators and
    /// analyzers, as far as the desired state or the state file mention them.
    #[serde(default)]
    pub security: LiveSecurity,
}

/// A resource control, tag or AI services opt-out policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOrgPolicy {
    pub id: String,
    pub policy_type: OrgPolicyType,
    pub name: String,
    pub description: String,
    pub content: String,
    pub tags: Tags,
    pub aws_managed: bool,
}

/// What a security refresh read ([`SecurityScope`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSecurity {
    /// Whether it was read at all (nothing of the family declared or recorded: not).
    pub read: bool,
    /// Service principals with trusted access (`ListAWSServiceAccessForOrganization`).
    pub service_access: BTreeSet<String>,
    /// Delegated administrator account ids by service principal
    /// (`ListDelegatedAdministrators`, then `ListDelegatedServicesForAccount`).
    pub delegated_admins: BTreeMap<String, BTreeSet<String>>,
    /// GuardDuty's and Security Hub's own admin accounts
    /// (`ListOrganizationAdminAccounts` in each region of the scope), by service
    /// principal then region.
    pub organization_admins: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// Trails by ARN (`DescribeTrails` + `GetTrailStatus` + `ListTags` in each scope).
    pub trails: BTreeMap<String, LiveTrail>,
    /// Buckets by name (those the scope names; absent when they do not exist).
    pub buckets: BTreeMap<String, LiveBucket>,
    /// Config aggregators by name, in each scope.
    pub aggregators: BTreeMap<String, LiveAggregator>,
    /// Access Analyzer analyzers by name, in each scope.
    pub analyzers: BTreeMap<String, LiveAnalyzer>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveTrail {
    pub arn: String,
    pub name: String,
    pub home_region: String,
    pub s3_bucket_name: String,
    pub s3_key_prefix: Option<String>,
    /// The KMS key ARN, when its logs are SSE-KMS encrypted.
    pub kms_key_id: Option<String>,
    pub multi_region: bool,
    pub organization: bool,
    pub log_file_validation: bool,
    /// `GetTrailStatus`' `IsLogging`.
    pub logging: bool,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveBucket {
    pub name: String,
    pub account_id: String,
    pub region: String,
    /// `GetBucketVersioning` says `Enabled`.
    pub versioning: bool,
    /// The default encryption's KMS key (ARN or id as S3 returns it); `None` when not
    /// SSE-KMS.
    pub kms_key: Option<String>,
    /// All four public access block settings on.
    pub public_access_blocked: bool,
    /// The bucket policy as S3 returns it; `None` when it has none.
    pub policy: Option<String>,
    /// Object Lock enabled, with its default retention (`None` when not enabled).
    pub object_lock: Option<crate::model::ObjectLock>,
    /// Whether Object Lock is enabled on the bucket (it can have no default rule).
    pub object_lock_enabled: bool,
    pub lifecycle: Option<crate::model::Lifecycle>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAggregator {
    pub name: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    /// `OrganizationAggregationSource.RoleArn`; `None` for an account aggregator.
    pub organization_role_arn: Option<String>,
    pub all_regions: bool,
    /// Whether the role Landfall gives it exists (IAM `GetRole`).
    pub role_exists: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAnalyzer {
    pub name: String,
    pub arn: String,
    pub account_id: String,
    pub region: String,
    /// `ORGANIZATION`, `ACCOUNT`, ...
    pub analyzer_type: String,
    /// `ACTIVE`, `CREATING`, `DISABLED`, `FAILED`.
    pub status: String,
    pub tags: Tags,
}

/// What a security refresh reads: everything of the organization (trusted access,
/// delegated administrators) and, in each account and region named, what the
/// desired state or the state file has there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityScope {
    /// (service principal, region) pairs whose `ListOrganizationAdminAccounts` is read
    /// (GuardDuty, Security Hub), from the management account.
    pub organization_admins: BTreeSet<(String, String)>,
    /// (account id, region) pairs whose trails are read.
    pub trails: BTreeSet<(String, String)>,
    /// (account id, region, bucket name) of each bucket to read.
    pub buckets: BTreeSet<(String, String, String)>,
    /// (account id, region, role name) of each aggregator scope; the role's existence
    /// is read too.
    pub aggregators: BTreeSet<(String, String, String)>,
    /// (account id, region) pairs whose analyzers are read.
    pub analyzers: BTreeSet<(String, String)>,
}

/// Lookups derived from a [`LiveState`]: paths of OUs, ids by path/name/email.
pub struct LiveIndex<'a> {
    pub live: &'a LiveState,
    ou_path_by_id: HashMap<&'a str, OuPath>,
    ou_id_by_path: HashMap<OuPath, &'a str>,
    account_by_email: HashMap<String, &'a LiveAccount>,
    account_by_name: HashMap<&'a str, Vec<&'a LiveAccount>>,
    policy_by_name: HashMap<&'a str, &'a LivePolicy>,
}

impl<'a> LiveIndex<'a> {
    pub fn new(live: &'a LiveState) -> Self {
        let mut ou_path_by_id = HashMap::with_capacity(live.ous.len());
        for id in live.ous.keys() {
            Self::resolve_path(live, id, &mut ou_path_by_id, 0);
        }
        let ou_id_by_path = ou_path_by_id
            .iter()
            .map(|(id, path)| (path.clone(), *id))
            .collect();
        let mut account_by_name: HashMap<&str, Vec<&LiveAccount>> = HashMap::new();
        for a in live.accounts.values() {
            account_by_name.entry(a.name.as_str()).or_default().push(a);
        }
        LiveIndex {
            live,
            ou_path_by_id,
            ou_id_by_path,
            account_by_email: live
                .accounts
                .values()
                .map(|a| (a.email.to_ascii_lowercase(), a))
                .collect(),
            account_by_name,
            policy_by_name: live
                .policies
                .values()
                .map(|p| (p.name.as_str(), p))
                .collect(),
        }
    }

    // Walks parents up to the root; a broken chain (should not happen) yields no path.
    fn resolve_path(
        live: &'a LiveState,
        id: &'a str,
        memo: &mut HashMap<&'a str, OuPath>,
        depth: usize,
    ) -> Option<OuPath> {
        if let Some(p) = memo.get(id) {
            return Some(p.clone());
        }
        let ou = live.ous.get(id)?;
        if depth > 64 {
            return None;
        }
        let path = if ou.parent_id == live.root_id {
            OuPath::new(ou.name.clone())
        } else {
            let (pid, _) = live.ous.get_key_value(ou.parent_id.as_str())?;
            Self::resolve_path(live, pid, memo, depth + 1)?.child(&ou.name)
        };
        memo.insert(ou.id.as_str(), path.clone());
        Some(path)
    }

    pub fn ou_path(&self, id: &str) -> Option<&OuPath> {
        self.ou_path_by_id.get(id)
    }

    pub fn ou_id(&self, path: &OuPath) -> Option<&'a str> {
        self.ou_id_by_path.get(path).copied()
    }

    /// The target a parent id denotes (root or an OU path).
    pub fn parent_target(&self, parent_id: &str) -> Option<Target> {
        if parent_id == self.live.root_id {
            Some(Target::Root)
        } else {
            self.ou_path(parent_id).cloned().map(Target::Ou)
        }
    }

    /// The id of a target, when it exists live.
    pub fn target_id(&self, target: &Target) -> Option<String> {
        match target {
            Target::Root => Some(self.live.root_id.clone()),
            Target::Ou(p) => self.ou_id(p).map(str::to_string),
            Target::Account(name) => self.account_by_name(name).map(|a| a.id.clone()),
        }
    }

    pub fn account_by_email(&self, email: &str) -> Option<&'a LiveAccount> {
        self.account_by_email
            .get(&email.to_ascii_lowercase())
            .copied()
    }

    /// The account with this name, when exactly one has it.
    pub fn account_by_name(&self, name: &str) -> Option<&'a LiveAccount> {
        match self.account_by_name.get(name).map(Vec::as_slice) {
            Some([one]) => Some(*one),
            _ => None,
        }
    }

    pub fn policy_by_name(&self, name: &str) -> Option<&'a LivePolicy> {
        self.policy_by_name.get(name).copied()
    }

    /// Policies attached to a target id.
    pub fn policies_on(&self, target_id: &str) -> impl Iterator<Item = &'a str> {
        self.live
            .attachments
            .iter()
            .filter(move |(_, t)| t == target_id)
            .map(|(p, _)| p.as_str())
    }
}

/// What a backend's governance refresh reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GovernanceScope {
    /// OU ids whose enabled controls to list.
    pub control_targets: Vec<String>,
    /// Read Service Catalog portfolios and their shares.
    pub portfolios: bool,
    /// Read the provisioned products of this Account Factory product (name or id).
    pub account_factory: Option<String>,
    /// Read the home region's landing zone (controls or the Account Factory are
    /// declared: both need an active one).
    pub landing_zone: bool,
    /// Read Service Catalog's AWS Organizations access (a portfolio is shared with the
    /// organization or an OU).
    pub organizations_access: bool,
    /// Read Control Tower's baselines: `[control_tower]` is declared (its OUs are
    /// registered) or the state records registrations.
    pub baselines: bool,
}
