//! The desired state: what the TOML files say the landing zone should be, already
//! validated and resolved (landfall-config builds it). Pure data; no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::address::{Address, Assignment, Attachment, FULL_AWS_ACCESS, OuPath, Target};
use crate::kind::{GovernanceKind, IdentityKind, Kind, MemberKind, OrganizationKind, SecurityKind};
pub use crate::policy_type::{OrgPolicyType, PolicyType};

pub type Tags = BTreeMap<String, String>;

/// Where a declaration came from, for messages that point back at the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    #[default]
    Sim,
    Aws,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackendKind::Sim => "sim",
            BackendKind::Aws => "aws",
        })
    }
}

/// AWS Organizations quotas Landfall validates offline and the sim enforces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quotas {
    /// Maximum SCP document size in characters, whitespace counted.
    pub scp_max_chars: usize,
    /// Maximum SCPs attached directly to one root, OU or account (FullAWSAccess counts).
    pub scps_per_target: usize,
    /// Maximum OU nesting below the root.
    pub ou_max_depth: usize,
    /// Maximum number of accounts in the organization.
    pub max_accounts: usize,
    /// Interface VPC endpoints per VPC.
    #[serde(default = "default_interface_endpoints")]
    pub interface_endpoints_per_vpc: usize,
    /// VPC endpoint policy size in characters.
    #[serde(default = "default_endpoint_policy")]
    pub endpoint_policy_max_chars: usize,
    /// KMS key policy size in bytes.
    #[serde(default = "default_key_policy")]
    pub key_policy_max_bytes: usize,
}

fn default_interface_endpoints() -> usize {
    50
}
fn default_endpoint_policy() -> usize {
    20_480
}
fn default_key_policy() -> usize {
    32_768
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            scp_max_chars: 10_240,
            scps_per_target: 10,
            ou_max_depth: 5,
            max_accounts: 10_000,
            interface_endpoints_per_vpc: default_interface_endpoints(),
            endpoint_policy_max_chars: default_endpoint_policy(),
            key_policy_max_bytes: default_key_policy(),
        }
    }
}

/// What happens to an account that disappears from the desired state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum AccountRemoval {
    /// Stop managing it; it stays where it is.
    #[default]
    Forget,
    /// Move it to this OU, then stop managing it.
    Quarantine { ou: OuPath },
}

/// Simulator settings (ignored by the aws backend).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct SimSettings {
    /// Latency added to every call, in milliseconds.
    pub latency_ms: u64,
    /// Fraction of calls (0.0–1.0) answered with a throttling error.
    pub throttle_rate: f64,
    /// Fail the Nth mutating call (1-based) with a non-retryable error.
    pub fail_at: Option<u64>,
    /// With `fail_at`: apply the change, then lose the response.
    pub fail_after_effect: bool,
    /// How many status polls an account creation stays IN_PROGRESS.
    pub account_creation_polls: u32,
    /// Seed for the random fault injector (deterministic runs).
    pub seed: u64,
    /// How the sim times calls: at once, or like AWS (`model = "aws"`).
    #[serde(default)]
    pub model: SimModel,
}

/// How the sim times its calls (`[sim] model`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SimModel {
    /// Every call answers at once (plus `latency_ms`); asynchronous operations end
    /// after a number of polls.
    #[default]
    Instant,
    /// AWS's model: per-API latencies, token-bucket throttling, asynchronous
    /// operations that take their time (`docs/sim-model.md`).
    Aws,
}

impl SimModel {
    /// Its name in `[sim] model` and `LANDFALL_SIM_FAULTS`.
    pub fn name(self) -> &'static str {
        match self {
            SimModel::Instant => "instant",
            SimModel::Aws => "aws",
        }
    }

    /// The model named `name`, if any.
    pub fn parse(name: &str) -> Option<SimModel> {
        [SimModel::Instant, SimModel::Aws]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// How Landfall creates accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccountFactory {
    /// AWS Organizations `CreateAccount` (then `MoveAccount` into the OU).
    #[default]
    Organizations,
    /// The Control Tower Account Factory: Service Catalog `ProvisionProduct`; the
    /// account is enrolled in Control Tower governance.
    ControlTower,
}

/// Where the state lives in S3 (`[state] backend = "s3"`), and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3State {
    pub bucket: String,
    /// The state object's key; its lock is `<key>.lock`.
    pub key: String,
    /// The bucket's region; default: the SDK's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Encrypt the state with this KMS key (SSE-KMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    /// A shared-config profile for the bucket's account, when it differs from the
    /// organization's credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// A role to assume for the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

/// The IAM Identity Center user Account Factory makes for a new account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoUser {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// `[control_tower]`: the organization has a Control Tower landing zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlTowerSettings {
    /// Control operations (enable, disable, update, reset) in flight at once; Control
    /// Tower's quota, overridable when AWS raised it for the organization.
    pub control_operations_in_flight: usize,
    /// Account Factory provisioning operations in flight at once.
    pub account_operations_in_flight: usize,
    /// The Account Factory product: its name or its `prod-...` id.
    pub account_factory_product: String,
    /// OUs not registered with Control Tower (controls cannot be enabled on them).
    pub unregistered_ous: BTreeSet<OuPath>,
    /// The `AWSControlTowerBaseline` version OUs are registered with, when set;
    /// otherwise the one AWS documents for the landing zone's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_version: Option<String>,
    /// The landing zone's Security OU, which the landing zone governs itself: Landfall
    /// never registers or deregisters it.
    #[serde(default = "default_security_ou")]
    pub security_ou: String,
}

fn default_security_ou() -> String {
    DEFAULT_SECURITY_OU.to_string()
}

/// The name Control Tower gives the Security OU unless told otherwise.
pub const DEFAULT_SECURITY_OU: &str = "Security";

impl Default for ControlTowerSettings {
    fn default() -> Self {
        ControlTowerSettings {
            control_operations_in_flight: 10,
            account_operations_in_flight: 5,
            account_factory_product: ACCOUNT_FACTORY_PRODUCT.to_string(),
            unregistered_ous: BTreeSet::new(),
            baseline_version: None,
            security_ou: default_security_ou(),
        }
    }
}

/// The name of the Service Catalog product Control Tower's Account Factory is.
pub const ACCOUNT_FACTORY_PRODUCT: &str = "AWS Control Tower Account Factory";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LandingZone {
    pub name: String,
    pub home_region: String,
    pub governed_regions: Vec<String>,
    pub backend: BackendKind,
    /// State file path, relative to the configuration's directory; default
    /// `state/<name>.state.json`.
    pub state_path: Option<PathBuf>,
    /// `[state] backend = "s3"`: the state lives in an S3 object instead of a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_state: Option<S3State>,
    /// `[sim] world`: the sim world file, relative to the configuration's directory;
    /// default beside the state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_world: Option<PathBuf>,
    pub quotas: Quotas,
    /// Detach undeclared SCPs from managed targets and delete undeclared empty OUs
    /// below managed OUs. Off by default: Landfall only deletes what it created.
    pub prune_unmanaged: bool,
    pub account_removal: AccountRemoval,
    /// Role Landfall assumes in member accounts (and that new accounts get).
    pub access_role: String,
    pub sim: SimSettings,
    /// `account_factory` in `[landing_zone]`.
    #[serde(default)]
    pub account_factory: AccountFactory,
    /// `[control_tower]`, when the organization has a Control Tower landing zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_tower: Option<ControlTowerSettings>,
    /// `preflight = false`: skip the reads that check Control Tower's and Service
    /// Catalog's prerequisites (for endpoints that do not implement them, such as
    /// moto); on by default.
    #[serde(default)]
    pub skip_preflight: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OuSpec {
    pub path: OuPath,
    pub tags: Tags,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSpec {
    /// The table key: the account's address (`account.NAME`) and, unless `aws_name`
    /// says otherwise, its name in AWS.
    pub name: String,
    /// `name =`: the account's name in AWS when it is not the key (`Log Archive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_name: Option<String>,
    pub email: String,
    /// `None` places the account directly under the root.
    pub ou: Option<OuPath>,
    pub tags: Tags,
    /// Whether the account may ever be closed by Landfall.
    pub allow_close: bool,
    pub origin: Origin,
    /// The `[project.NAME]` this account was expanded from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// With the Control Tower Account Factory: the Identity Center user it creates
    /// (the account's own, or `[control_tower.sso_user]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_user: Option<SsoUser>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    /// The table key: the SCP's address (`scp.NAME`) and, unless `aws_name` says
    /// otherwise, its name in AWS.
    pub name: String,
    /// `name =`: the policy's name in AWS when it is not the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_name: Option<String>,
    pub description: String,
    /// Minified JSON document (what is sent to AWS).
    pub content: String,
    pub tags: Tags,
    pub origin: Origin,
}

/// Gateway or interface VPC endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    Gateway,
    Interface,
}

impl std::fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EndpointKind::Gateway => "gateway",
            EndpointKind::Interface => "interface",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSpec {
    /// Availability zone, e.g. `us-east-1a`.
    pub az: String,
    /// CIDR inside the VPC's, e.g. `10.10.1.0/24`.
    pub cidr: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSpec {
    /// Short service name, e.g. `sagemaker.api` (the endpoint's address part).
    pub service: String,
    /// Full service name, e.g. `com.amazonaws.us-east-1.sagemaker.api`.
    pub service_name: String,
    pub kind: EndpointKind,
    /// Private DNS (interface endpoints only).
    pub private_dns: bool,
    /// Endpoint policy, minified JSON (`None`: AWS's default full-access policy). May
    /// contain `${account_id}` and `${region}`, substituted when applied.
    pub policy: Option<String>,
}

/// A VPC in a member account and region, with its private subnets, one route table
/// (for gateway endpoints), one security group for interface endpoints (443 from the
/// VPC CIDR) and its VPC endpoints. Declared as `[network.NAME]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    pub name: String,
    /// The declared account (`[account.NAME]`) the VPC lives in.
    pub account: String,
    pub region: String,
    pub cidr: String,
    pub tags: Tags,
    pub subnets: Vec<SubnetSpec>,
    /// Endpoints by short service name (presets already expanded).
    pub endpoints: BTreeMap<String, EndpointSpec>,
    pub origin: Origin,
    /// The `[project.NAME]` this network was expanded from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A customer-managed KMS key in a member account and region (`[kms_key.NAME]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KmsKeySpec {
    pub name: String,
    pub account: String,
    pub region: String,
    pub description: String,
    /// Key policy, minified JSON; may contain `${account_id}` and `${region}`.
    pub policy: String,
    pub rotation: bool,
    /// `alias/...`, when the key has one.
    pub alias: Option<String>,
    pub tags: Tags,
    /// Waiting period when Landfall deletes the key (7–30 days).
    pub deletion_window_days: u32,
    pub origin: Origin,
    /// The `[project.NAME]` this key was expanded from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A Control Tower control enabled on an OU (`[control.ID]` or a guardrail preset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlSpec {
    /// The short identifier, the address part: `AWS-GR_RESTRICT_ROOT_USER`.
    pub control: String,
    /// The control identifier sent to Control Tower, e.g.
    /// `arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICT_ROOT_USER`.
    pub arn: String,
    pub ou: OuPath,
    /// Control parameters (`AllowedRegions = [...]`), as JSON values.
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// The guardrail preset it comes from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub origin: Origin,
}

impl ControlSpec {
    pub fn address(&self) -> Address {
        Address::Control(self.control.clone(), self.ou.clone())
    }
}

/// A Service Catalog portfolio in the management account's home region
/// (`[portfolio.NAME]`): declared by Landfall, or an existing one named by id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PortfolioSpec {
    pub name: String,
    /// `id = "port-..."`: an existing portfolio Landfall shares but never changes or
    /// deletes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<String>,
    pub display_name: String,
    pub provider: String,
    pub description: String,
    pub tags: Tags,
    /// Share the portfolio's TagOptions with its shares.
    pub share_tag_options: bool,
    /// Where it is shared: `Target::Root` is the whole organization.
    pub shares: BTreeSet<Target>,
    pub origin: Origin,
}

/// `[identity_center]`: where the organization's IAM Identity Center instance is and
/// who owns its directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCenterSettings {
    /// The region of the organization instance (its home region).
    pub region: String,
    /// Where users and groups come from: Identity Center's own directory (Landfall may
    /// create `[group.NAME]`s) or an external IdP provisioning them through SCIM (groups
    /// are only referenced).
    pub identity_source: IdentitySource,
    pub origin: Origin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    IdentityCenter,
    External,
}

/// A customer-managed policy a permission set refers to by name and path: IAM Identity
/// Center creates the role in each account, and the policy must exist there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CustomerPolicyRef {
    pub name: String,
    /// `/` unless given; starts and ends with `/`.
    pub path: String,
}

impl std::fmt::Display for CustomerPolicyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.path, self.name)
    }
}

/// A permission set's permissions boundary: an AWS-managed policy (by ARN) or a
/// customer-managed one (by name and path, in each account).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PermissionsBoundary {
    Managed(String),
    Customer(CustomerPolicyRef),
}

impl std::fmt::Display for PermissionsBoundary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PermissionsBoundary::Managed(arn) => f.write_str(arn),
            PermissionsBoundary::Customer(r) => write!(f, "customer-managed {r}"),
        }
    }
}

/// `[permission_set.NAME]`: an IAM Identity Center permission set in the organization
/// instance. Its name in AWS is its key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermissionSetSpec {
    pub name: String,
    pub description: Option<String>,
    /// ISO-8601 duration, `PT1H` to `PT12H` (AWS's default `PT1H`).
    pub session_duration: String,
    /// AWS-managed policies, by ARN (a bare name in the file is resolved to its ARN).
    pub managed_policies: BTreeSet<String>,
    pub customer_managed_policies: BTreeSet<CustomerPolicyRef>,
    /// The inline policy, canonical JSON (keys sorted, minified).
    pub inline_policy: Option<String>,
    pub permissions_boundary: Option<PermissionsBoundary>,
    pub tags: Tags,
    /// The persona preset it was made from (`data_scientist`, `platform_admin`, ...).
    pub persona: Option<String>,
    pub origin: Origin,
}

/// `[group.NAME]`: an Identity Store group Landfall creates in Identity Center's own
/// directory. Groups an assignment names without declaring them exist already (from
/// an external IdP through SCIM) and are only looked up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSpec {
    /// The display name (the key).
    pub name: String,
    pub description: Option<String>,
    pub origin: Origin,
    /// The ML project it was declared for (`[blueprint] groups`).
    pub project: Option<String>,
}

/// One account assignment, as declared (an OU target in the file has been expanded
/// to its accounts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentSpec {
    pub assignment: Assignment,
    /// What the file named: the account itself, or the OU it was expanded from.
    pub declared_target: Target,
    pub origin: Origin,
    pub project: Option<String>,
}

impl AssignmentSpec {
    pub fn address(&self) -> Address {
        Address::Assignment(Box::new(self.assignment.clone()))
    }
}

/// What an expectation is about: one account, or every account in an OU (nested OUs
/// included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectScope {
    Account(String),
    Ou(OuPath),
}

/// The decision an expectation requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedDecision {
    Allow,
    Deny,
}

/// `[[expect]]`: a request the SCPs must allow or deny, checked by validate, plan and
/// apply (e.g. "sagemaker:CreateEndpoint is denied in every Workloads_Dev account").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub scope: ExpectScope,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN; `*` when not given.
    pub resource: String,
    /// Request context keys (`aws:RequestedRegion`, `sagemaker:VpcSubnets`, ...); a key
    /// may have several values.
    pub context: BTreeMap<String, Vec<String>>,
    pub decision: ExpectedDecision,
    /// Why it matters, shown when it fails.
    pub description: Option<String>,
    /// Evaluate for a session of this permission set (its identity policies and
    /// boundary too), not only the SCPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_set: Option<String>,
    pub origin: Origin,
}

/// Replaces `${account_id}` and `${region}` in a policy document.
pub fn substitute(text: &str, account_id: &str, region: &str) -> String {
    text.replace("${account_id}", account_id)
        .replace("${region}", region)
}

/// The organization's id in a policy, filled in by Landfall.
pub const ORGANIZATION_ID_VAR: &str = "${organization_id}";
/// The management account's id in a policy, filled in by Landfall.
pub const MANAGEMENT_ACCOUNT_VAR: &str = "${management_account_id}";

/// Replaces `${management_account_id}` (the organization trail's bucket and key
/// policies name the trail, whose ARN is the management account's).
pub fn substitute_management(text: &str, management_account_id: &str) -> String {
    text.replace(MANAGEMENT_ACCOUNT_VAR, management_account_id)
}

/// `[[expect]]` with `tags`: whether a resource of a type, tagged so, complies with
/// the effective tag policy of the accounts in scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TagExpectation {
    pub scope: ExpectScope,
    /// The tag policy's resource type, `service:type` (`sagemaker:endpoint`).
    pub resource_type: String,
    pub tags: BTreeMap<String, String>,
    /// `true`: the tags must comply; `false`: the tag policy must report them.
    pub compliant: bool,
    pub description: Option<String>,
    pub origin: Origin,
}

/// A resource control, tag or AI services opt-out policy (`[rcp.NAME]`,
/// `[tag_policy.NAME]`, `[ai_opt_out_policy.NAME]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrgPolicySpec {
    pub policy_type: OrgPolicyType,
    /// The table key and the policy's name in AWS.
    pub name: String,
    pub description: String,
    /// Minified JSON document (what is sent to AWS; compared canonical).
    pub content: String,
    pub tags: Tags,
    pub origin: Origin,
}

/// An organization policy of another type than SCP attached to a target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrgPolicyAttachment {
    pub policy_type: OrgPolicyType,
    pub attachment: Attachment,
}

impl OrgPolicyAttachment {
    pub fn address(&self) -> Address {
        Address::OrgPolicyAttachment(self.policy_type, self.attachment.clone())
    }
}

/// A service's trusted access in the organization (`EnableAWSServiceAccess`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccessSpec {
    /// `cloudtrail.amazonaws.com`.
    pub service_principal: String,
    pub origin: Origin,
}

/// A service's delegated administrator. GuardDuty and Security Hub are delegated
/// with their own `EnableOrganizationAdminAccount` (in `region`, from the management
/// account), the others with Organizations' `RegisterDelegatedAdministrator`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegatedAdminSpec {
    pub service_principal: String,
    /// The declared account (`account.NAME`); never the management account.
    pub account: String,
    /// The home region: where Organizations' registration is recorded.
    pub region: String,
    /// Where a service with its own call (GuardDuty, Security Hub) is delegated: each
    /// governed region, home first — their `EnableOrganizationAdminAccount` holds in
    /// the region it is called in only. `[region]` for the other services.
    pub regions: Vec<String>,
    pub origin: Origin,
}

/// S3 Object Lock's default retention.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLock {
    pub mode: ObjectLockMode,
    pub days: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ObjectLockMode {
    Governance,
    Compliance,
}

impl ObjectLockMode {
    pub fn aws_name(self) -> &'static str {
        match self {
            ObjectLockMode::Governance => "GOVERNANCE",
            ObjectLockMode::Compliance => "COMPLIANCE",
        }
    }
}

/// One lifecycle rule over the whole bucket: objects move to Glacier Flexible
/// Retrieval after `glacier_after_days`, expire after `expire_after_days`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub glacier_after_days: Option<u32>,
    pub expire_after_days: Option<u32>,
}

/// An S3 bucket Landfall creates: versioning on, all public access blocked, SSE-KMS
/// with a declared key (bucket key on), the declared bucket policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BucketSpec {
    /// The logical name, the address part (`bucket.org-trail`).
    pub name: String,
    /// The bucket's name in S3; may contain `${account_id}` and `${region}`.
    pub bucket_name: String,
    pub account: String,
    pub region: String,
    /// The `[kms_key.NAME]` encrypting it.
    pub kms_key: String,
    /// Bucket policy, minified JSON; may contain `${account_id}`, `${region}` and
    /// `${management_account_id}`.
    pub policy: String,
    /// Object Lock (only at creation: a bucket created without it is replaced).
    pub object_lock: Option<ObjectLock>,
    pub lifecycle: Option<Lifecycle>,
    pub tags: Tags,
    pub origin: Origin,
}

/// A CloudTrail trail: the organization trail (multi-region, log file validation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrailSpec {
    pub name: String,
    /// The account that creates and manages it: `None` for the management account, or
    /// CloudTrail's delegated administrator. The trail is the management account's
    /// either way (its ARN names it).
    pub administrator: Option<String>,
    /// The trail's home region.
    pub region: String,
    /// The `[bucket]` it delivers to.
    pub bucket: String,
    pub s3_key_prefix: Option<String>,
    /// The `[kms_key.NAME]` its log files are encrypted with.
    pub kms_key: String,
    pub multi_region: bool,
    pub organization: bool,
    pub log_file_validation: bool,
    pub tags: Tags,
    pub origin: Origin,
}

/// An AWS Config organization aggregator (all regions) in the delegated
/// administrator account, with the IAM role Config reads the organization with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigAggregatorSpec {
    pub name: String,
    pub account: String,
    pub region: String,
    /// The role Landfall creates for it (trusting `config.amazonaws.com`, with
    /// `service-role/AWSConfigRoleForOrganizations`).
    pub role_name: String,
    pub tags: Tags,
    pub origin: Origin,
}

/// An IAM Access Analyzer analyzer of type `ORGANIZATION` in the delegated
/// administrator account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessAnalyzerSpec {
    pub name: String,
    pub account: String,
    pub region: String,
    pub tags: Tags,
    pub origin: Origin,
}

/// The whole desired landing zone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DesiredState {
    pub landing_zone: LandingZone,
    pub ous: BTreeMap<OuPath, OuSpec>,
    pub accounts: BTreeMap<String, AccountSpec>,
    /// Customer-managed SCPs. `FullAWSAccess` is AWS-managed and never listed here.
    pub policies: BTreeMap<String, PolicySpec>,
    /// Every attachment, including the implicit `FullAWSAccess` ones.
    pub attachments: BTreeSet<Attachment>,
    #[serde(default)]
    pub networks: BTreeMap<String, NetworkSpec>,
    #[serde(default)]
    pub kms_keys: BTreeMap<String, KmsKeySpec>,
    /// `[drift] ignore`: glob patterns on addresses whose drift is a known exception.
    #[serde(default)]
    pub drift_ignore: Vec<String>,
    /// Control Tower controls, one per (control, OU), sorted by address.
    #[serde(default)]
    pub controls: Vec<ControlSpec>,
    #[serde(default)]
    pub portfolios: BTreeMap<String, PortfolioSpec>,
    /// `[[expect]]` entries, in file order.
    #[serde(default)]
    pub expectations: Vec<Expectation>,
    /// `[[moved]]` entries: resources re-addressed in the file, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Moved>,
    /// `[[import]]` entries: existing resources adopted by id, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<Import>,
    /// `[identity_center]`; `None` when no identity resource is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_center: Option<IdentityCenterSettings>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub permission_sets: BTreeMap<String, PermissionSetSpec>,
    /// Groups Landfall creates, by display name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, GroupSpec>,
    /// Account assignments, one per (permission set, principal, account), sorted by
    /// assignment (see [`DesiredState::assignment`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignments: Vec<AssignmentSpec>,
    /// `[[expect]]` entries with `tags`, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_expectations: Vec<TagExpectation>,
    /// Resource control, tag and AI services opt-out policies, sorted by (type, name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub org_policies: Vec<OrgPolicySpec>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub org_policy_attachments: BTreeSet<OrgPolicyAttachment>,
    /// Trusted access, by service principal.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub service_access: BTreeMap<String, ServiceAccessSpec>,
    /// Delegated administrators, by service principal.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub delegated_admins: BTreeMap<String, DelegatedAdminSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub buckets: BTreeMap<String, BucketSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub trails: BTreeMap<String, TrailSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config_aggregators: BTreeMap<String, ConfigAggregatorSpec>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub access_analyzers: BTreeMap<String, AccessAnalyzerSpec>,
}

/// `[[moved]] from = "ou.Core" to = "ou.Foundation"`: the resource recorded at `from`
/// is the one now declared at `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub from: Address,
    pub to: Address,
}

/// `[[import]] to = "account.x" id = "123456789012"`: the declared resource at `to` is
/// the live one with this id (adopted, never created; see [`crate::import`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    pub to: Address,
    /// The id as written: for a KMS key, its key id or key ARN.
    pub id: String,
}

impl AccountSpec {
    /// The name the account has (or is given) in AWS.
    pub fn name_in_aws(&self) -> &str {
        self.aws_name.as_deref().unwrap_or(&self.name)
    }
}

impl PolicySpec {
    /// The name the policy has (or is given) in AWS.
    pub fn name_in_aws(&self) -> &str {
        self.aws_name.as_deref().unwrap_or(&self.name)
    }
}

impl Moved {
    /// An OU moved under another parent: AWS has no API to move an OU, so the move is
    /// a replacement, not a re-addressing.
    pub fn replaces(&self) -> bool {
        matches!((&self.from, &self.to), (Address::Ou(f), Address::Ou(t)) if f.parent() != t.parent())
    }
}

impl DesiredState {
    /// The target an account lives in.
    pub fn account_parent(&self, account: &AccountSpec) -> Target {
        account.ou.clone().map(Target::Ou).unwrap_or(Target::Root)
    }

    /// True when the policy name refers to an AWS-managed policy.
    pub fn is_aws_managed_policy(name: &str) -> bool {
        name == FULL_AWS_ACCESS
    }

    /// The addresses of every declared resource (root included).
    pub fn addresses(&self) -> BTreeSet<Address> {
        let mut out = BTreeSet::from([Address::Root]);
        out.extend(self.ous.keys().cloned().map(Address::Ou));
        out.extend(self.accounts.keys().cloned().map(Address::Account));
        out.extend(self.policies.keys().cloned().map(Address::Scp));
        out.extend(self.attachments.iter().cloned().map(Address::Attachment));
        for (name, net) in &self.networks {
            out.insert(Address::Vpc(name.clone()));
            out.insert(Address::RouteTable(name.clone()));
            out.insert(Address::SecurityGroup(name.clone()));
            for s in &net.subnets {
                out.insert(Address::Subnet(name.clone(), s.cidr.clone()));
            }
            for service in net.endpoints.keys() {
                out.insert(Address::Endpoint(name.clone(), service.clone()));
            }
        }
        out.extend(self.kms_keys.keys().cloned().map(Address::KmsKey));
        out.extend(self.controls.iter().map(ControlSpec::address));
        out.extend(self.registered_ous().cloned().map(Address::Registration));
        for (name, portfolio) in &self.portfolios {
            out.insert(Address::Portfolio(name.clone()));
            for target in &portfolio.shares {
                out.insert(Address::PortfolioShare(name.clone(), target.clone()));
            }
        }
        out.extend(
            self.permission_sets
                .keys()
                .cloned()
                .map(Address::PermissionSet),
        );
        out.extend(self.groups.keys().cloned().map(Address::Group));
        out.extend(self.assignments.iter().map(AssignmentSpec::address));
        out.extend(
            self.org_policies
                .iter()
                .map(|p| Address::OrgPolicy(p.policy_type, p.name.clone())),
        );
        out.extend(
            self.org_policy_attachments
                .iter()
                .map(OrgPolicyAttachment::address),
        );
        out.extend(
            self.policy_types_used()
                .into_iter()
                .map(Address::PolicyType),
        );
        out.extend(
            self.service_access
                .keys()
                .cloned()
                .map(Address::ServiceAccess),
        );
        out.extend(
            self.delegated_admins
                .keys()
                .cloned()
                .map(Address::DelegatedAdmin),
        );
        out.extend(self.buckets.keys().cloned().map(Address::Bucket));
        out.extend(self.trails.keys().cloned().map(Address::Trail));
        out.extend(
            self.config_aggregators
                .keys()
                .cloned()
                .map(Address::ConfigAggregator),
        );
        out.extend(
            self.access_analyzers
                .keys()
                .cloned()
                .map(Address::AccessAnalyzer),
        );
        out
    }

    /// Fills in `${management_account_id}` once the organization is read: the
    /// organization trail's key and bucket policies name the trail, whose ARN is the
    /// management account's. Plan, drift and the state then see concrete policies.
    pub fn resolve_management_account(&mut self, management_account_id: &str) {
        for key in self.kms_keys.values_mut() {
            key.policy = substitute_management(&key.policy, management_account_id);
        }
        for bucket in self.buckets.values_mut() {
            bucket.policy = substitute_management(&bucket.policy, management_account_id);
        }
    }

    /// Fills in `${organization_id}` (a data perimeter's `aws:PrincipalOrgID`, a log
    /// bucket's `aws:SourceOrgID`) in SCPs, the other organization policies, key and
    /// bucket policies: AWS has no such variable, so Landfall sends the id.
    pub fn resolve_organization(&mut self, organization_id: &str) {
        let sub = |text: &mut String| {
            if text.contains(ORGANIZATION_ID_VAR) {
                *text = text.replace(ORGANIZATION_ID_VAR, organization_id);
            }
        };
        self.policies.values_mut().for_each(|p| sub(&mut p.content));
        self.org_policies
            .iter_mut()
            .for_each(|p| sub(&mut p.content));
        self.kms_keys.values_mut().for_each(|k| sub(&mut k.policy));
        self.buckets.values_mut().for_each(|b| sub(&mut b.policy));
    }

    /// Whether any policy says `${organization_id}` or `${management_account_id}`.
    pub fn names_organization(&self) -> bool {
        let vars = |t: &str| t.contains(ORGANIZATION_ID_VAR) || t.contains(MANAGEMENT_ACCOUNT_VAR);
        self.policies.values().any(|p| vars(&p.content))
            || self.org_policies.iter().any(|p| vars(&p.content))
            || self.kms_keys.values().any(|k| vars(&k.policy))
            || self.buckets.values().any(|b| vars(&b.policy))
    }

    /// The policy types (other than SCPs) some declared policy has: each is enabled
    /// on the root before its first policy is created.
    pub fn policy_types_used(&self) -> BTreeSet<OrgPolicyType> {
        self.org_policies.iter().map(|p| p.policy_type).collect()
    }

    /// A declared resource control, tag or AI services opt-out policy.
    pub fn org_policy(&self, policy_type: OrgPolicyType, name: &str) -> Option<&OrgPolicySpec> {
        self.org_policies
            .iter()
            .find(|p| p.policy_type == policy_type && p.name == name)
    }

    /// The policies of a type attached to a target, by name.
    pub fn org_policies_on(
        &self,
        policy_type: OrgPolicyType,
        target: &Target,
    ) -> impl Iterator<Item = &OrgPolicySpec> {
        self.org_policy_attachments
            .iter()
            .filter(move |a| a.policy_type == policy_type && a.attachment.target == *target)
            .filter_map(move |a| self.org_policy(policy_type, &a.attachment.policy))
    }

    /// The declared assignment, if any (`assignments` is sorted).
    pub fn assignment(&self, assignment: &Assignment) -> Option<&AssignmentSpec> {
        self.assignments
            .binary_search_by(|spec| spec.assignment.cmp(assignment))
            .ok()
            .and_then(|i| self.assignments.get(i))
    }

    /// True when anything of IAM Identity Center is declared.
    pub fn declares_identity(&self) -> bool {
        self.identity_center.is_some()
            || !self.permission_sets.is_empty()
            || !self.groups.is_empty()
            || !self.assignments.is_empty()
    }

    /// The declared OUs Landfall registers with Control Tower: with `[control_tower]`,
    /// every one not listed in `unregistered_ous` and not the landing zone's Security
    /// OU, parents before children.
    pub fn registered_ous(&self) -> impl Iterator<Item = &OuPath> {
        let settings = self.landing_zone.control_tower.as_ref();
        self.ous.keys().filter(move |path| {
            settings.is_some_and(|ct| {
                !ct.unregistered_ous.contains(*path) && path.as_str() != ct.security_ou
            })
        })
    }

    /// True when accounts are created through the Control Tower Account Factory.
    pub fn uses_account_factory(&self) -> bool {
        self.landing_zone.account_factory == AccountFactory::ControlTower
    }

    /// The ML project (`[project.NAME]`) a declared resource comes from, if any.
    pub fn project_of(&self, address: &Address) -> Option<&str> {
        let of_account = |a: &str| self.accounts.get(a).and_then(|s| s.project.as_deref());
        let of_target = |t: &Target| match t {
            Target::Account(a) => of_account(a),
            Target::Root | Target::Ou(_) => None,
        };
        match address.by_family() {
            Kind::Organization(kind) => match kind {
                OrganizationKind::Account(a) => of_account(a),
                OrganizationKind::Attachment(att)
                | OrganizationKind::OrgPolicyAttachment(_, att) => of_target(&att.target),
                OrganizationKind::Root
                | OrganizationKind::Ou(_)
                | OrganizationKind::Scp(_)
                | OrganizationKind::OrgPolicy(..)
                | OrganizationKind::PolicyType(_) => None,
            },
            Kind::Member(kind) => match kind {
                MemberKind::KmsKey(k) => self.kms_keys.get(k)?.project.as_deref(),
                MemberKind::Vpc(n)
                | MemberKind::Subnet(n, _)
                | MemberKind::RouteTable(n)
                | MemberKind::SecurityGroup(n)
                | MemberKind::Endpoint(n, _) => self.networks.get(n)?.project.as_deref(),
            },
            Kind::Governance(kind) => match kind {
                GovernanceKind::PortfolioShare(_, target) => of_target(target),
                GovernanceKind::Control(..)
                | GovernanceKind::Registration(_)
                | GovernanceKind::Portfolio(_) => None,
            },
            Kind::Identity(kind) => match kind {
                IdentityKind::Group(g) => self.groups.get(g)?.project.as_deref(),
                IdentityKind::Assignment(a) => self.assignment(a)?.project.as_deref(),
                IdentityKind::PermissionSet(_) => None,
            },
            // The organization's logging and security services belong to no project.
            Kind::Security(
                SecurityKind::ServiceAccess(_)
                | SecurityKind::DelegatedAdmin(_)
                | SecurityKind::Bucket(_)
                | SecurityKind::Trail(_)
                | SecurityKind::ConfigAggregator(_)
                | SecurityKind::AccessAnalyzer(_),
            ) => None,
        }
    }

    /// The declared account and region a member-account resource lives in.
    pub fn member_of(&self, address: &Address) -> Option<(&str, &str)> {
        match address.member_kind()? {
            MemberKind::KmsKey(k) => self
                .kms_keys
                .get(k)
                .map(|k| (k.account.as_str(), k.region.as_str())),
            MemberKind::Vpc(n)
            | MemberKind::Subnet(n, _)
            | MemberKind::RouteTable(n)
            | MemberKind::SecurityGroup(n)
            | MemberKind::Endpoint(n, _) => self
                .networks
                .get(n)
                .map(|net| (net.account.as_str(), net.region.as_str())),
        }
    }
}

/// Minifies a JSON policy document (key order kept) — what Landfall sends to AWS and
/// what it compares, so formatting differences are never reported as changes.
/// JSON with object keys sorted, minified: two documents that mean the same compare equal.
pub fn canonical_json(text: &str) -> String {
    use serde_json::Value;
    fn sort(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                let sorted: BTreeMap<String, Value> =
                    map.into_iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => serde_json::to_string(&sort(v)).unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

pub fn minify_json(text: &str) -> Result<String, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    serde_json::to_string(&value)
}
