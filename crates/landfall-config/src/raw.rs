//! Stage 1 types: the TOML file format exactly as written, before any meaning is
//! given to it. Fields carry [`Spanned`] wherever a later check needs to point back
//! at the text. `deny_unknown_fields` everywhere so a typo is an error, not a silently
//! ignored key. The same types, through schemars, are the JSON Schema editors use.
//!
//! `schemars(with = ...)` strips the `Spanned` wrappers from the schema (a span is
//! not part of the format).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_spanned::Spanned;

/// `[blueprint.access.PERSONA]`: stage → persona, as written.
pub(crate) type RawStageAccess = BTreeMap<Spanned<String>, Spanned<String>>;

/// Tags as written: keys and values keep their places for tag-rule diagnostics.
pub(crate) type RawTags = BTreeMap<Spanned<String>, Spanned<String>>;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [landing_zone] table")]
#[schemars(rename = "LandingZone")]
pub(crate) struct RawLandingZone {
    /// Names the state file `state/<name>.state.json`: `[a-z0-9][a-z0-9-]{0,62}`.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// Region Landfall's global calls go to, e.g. `us-east-1`.
    #[schemars(with = "String")]
    pub home_region: Spanned<String>,
    /// Regions the landing zone governs; must include `home_region`.
    /// Default: `[home_region]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub governed_regions: Option<Spanned<Vec<Spanned<String>>>>,
    /// Where live state comes from; `--backend` overrides it. Default `sim`.
    pub backend: Option<RawBackend>,
    /// State file path, relative to the configuration's directory (the one given to
    /// `-c`, or the file's). Default `state/<name>.state.json`.
    #[schemars(with = "Option<String>")]
    pub state_path: Option<Spanned<String>>,
    /// Detach undeclared SCPs from managed targets and delete undeclared empty OUs
    /// below managed OUs. Default `false`.
    pub prune_unmanaged: Option<bool>,
    /// Role Landfall assumes in member accounts. Default
    /// `OrganizationAccountAccessRole`.
    #[schemars(with = "Option<String>")]
    pub access_role: Option<Spanned<String>>,
    /// Attach the AWS-managed `FullAWSAccess` SCP to the root, every OU and every
    /// account unless they opt out. Default `true`.
    #[schemars(with = "Option<bool>")]
    pub full_aws_access: Option<Spanned<bool>>,
    /// What happens to an account removed from the files.
    pub account_removal: Option<RawAccountRemoval>,
    /// Overrides of the AWS quotas checked offline.
    pub quotas: Option<RawQuotas>,
    /// How accounts are created: `organizations` (default, `CreateAccount`) or
    /// `control_tower` (the Control Tower Account Factory; needs `[control_tower]`).
    #[schemars(with = "Option<RawAccountFactory>")]
    pub account_factory: Option<Spanned<RawAccountFactory>>,
    /// Regions to accept besides those this Landfall knows (AWS opens new ones); an
    /// unknown region is otherwise a warning.
    #[schemars(with = "Option<Vec<String>>")]
    pub known_regions: Option<Vec<Spanned<String>>>,
    /// Check Control Tower's and Service Catalog's prerequisites at plan time (an
    /// active landing zone, organizations access). `false` only for endpoints that do
    /// not implement those reads (moto, LocalStack). Default `true`.
    pub preflight: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "AccountFactory")]
pub(crate) enum RawAccountFactory {
    Organizations,
    ControlTower,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Backend")]
pub(crate) enum RawBackend {
    Sim,
    Aws,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a [landing_zone.account_removal] table"
)]
#[schemars(rename = "AccountRemoval")]
pub(crate) struct RawAccountRemoval {
    /// `forget` (default) or `quarantine`.
    #[schemars(with = "Option<RawRemovalMode>")]
    pub mode: Option<Spanned<RawRemovalMode>>,
    /// With `quarantine`: the OU path removed accounts are moved to.
    #[schemars(with = "Option<String>")]
    pub ou: Option<Spanned<String>>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "RemovalMode")]
pub(crate) enum RawRemovalMode {
    Forget,
    Quarantine,
}

/// Every quota is a positive integer.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [landing_zone.quotas] table")]
#[schemars(rename = "Quotas")]
pub(crate) struct RawQuotas {
    /// SCP document size in characters after minification. Default 10240.
    #[schemars(with = "Option<u64>")]
    pub scp_max_chars: Option<Spanned<u64>>,
    /// SCPs attached directly to one root/OU/account, `FullAWSAccess` counted.
    /// Default 10.
    #[schemars(with = "Option<u64>")]
    pub scps_per_target: Option<Spanned<u64>>,
    /// OU levels below the root. Default 5.
    #[schemars(with = "Option<u64>")]
    pub ou_max_depth: Option<Spanned<u64>>,
    /// Accounts in the organization. Default 10000.
    #[schemars(with = "Option<u64>")]
    pub max_accounts: Option<Spanned<u64>>,
    /// Interface VPC endpoints in one VPC. Default 50.
    #[schemars(with = "Option<u64>")]
    pub interface_endpoints_per_vpc: Option<Spanned<u64>>,
    /// VPC endpoint policy size in characters after minification. Default 20480.
    #[schemars(with = "Option<u64>")]
    pub endpoint_policy_max_chars: Option<Spanned<u64>>,
    /// KMS key policy size in bytes after minification. Default 32768.
    #[schemars(with = "Option<u64>")]
    pub key_policy_max_bytes: Option<Spanned<u64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [sim] table")]
#[schemars(rename = "Sim")]
pub(crate) struct RawSim {
    /// Delay added to every call, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Fraction (0–1) of calls answered `TooManyRequestsException`.
    #[schemars(with = "Option<f64>")]
    pub throttle_rate: Option<Spanned<f64>>,
    /// The Nth (1-based) mutating call fails with a non-retryable error.
    #[schemars(with = "Option<u64>")]
    pub fail_at: Option<Spanned<u64>>,
    /// With `fail_at`: the change happens but the response is lost.
    #[schemars(with = "Option<bool>")]
    pub fail_after_effect: Option<Spanned<bool>>,
    /// Status polls an account creation stays `IN_PROGRESS`. Default 1.
    pub account_creation_polls: Option<u32>,
    /// Seed of the fault injector.
    pub seed: Option<u64>,
    /// How the sim times calls: `instant` (default) or `aws` (AWS's latencies,
    /// throttling and operation durations).
    #[schemars(with = "Option<String>")]
    pub model: Option<Spanned<String>>,
    /// The sim world file, relative to the configuration's directory; default beside
    /// the state (`state/<name>.sim-world.json`). `landfall import` sets it so an
    /// imported landing zone manages the world it was read from.
    #[schemars(with = "Option<String>")]
    pub world: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [drift] table")]
#[schemars(rename = "Drift")]
pub(crate) struct RawDrift {
    /// Glob patterns on addresses (`account.sandbox-*`, `endpoint.*.kms`): findings
    /// they match are known exceptions and not reported.
    #[schemars(with = "Option<Vec<String>>")]
    pub ignore: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an [ou.\"PATH\"] table (nested OUs are written [ou.\"Parent/Child\"])"
)]
#[schemars(rename = "Ou")]
pub(crate) struct RawOu {
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// Overrides the landing zone's `full_aws_access` for this OU.
    #[schemars(with = "Option<bool>")]
    pub full_aws_access: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an [account.NAME] table")]
#[schemars(rename = "Account")]
pub(crate) struct RawAccount {
    /// The account's name in AWS when it is not the table key (AWS allows spaces and
    /// punctuation an address cannot hold): 1–50 printable ASCII characters.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// Root email: 6–64 characters, unique (case-insensitive).
    #[schemars(with = "String")]
    pub email: Spanned<String>,
    /// OU path the account lives in; omitted: directly under the root.
    #[schemars(with = "Option<String>")]
    pub ou: Option<Spanned<String>>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// Whether Landfall may ever close this account. Default `false`.
    pub allow_close: Option<bool>,
    /// Overrides the landing zone's `full_aws_access` for this account.
    #[schemars(with = "Option<bool>")]
    pub full_aws_access: Option<Spanned<bool>>,
    /// With the Control Tower Account Factory: the IAM Identity Center user it creates
    /// for the account. Default: `[control_tower] sso_user`.
    pub sso_user: Option<RawSsoUser>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an sso_user: { email = \"...\", first_name = \"...\", last_name = \"...\" }"
)]
#[schemars(rename = "SsoUser")]
pub(crate) struct RawSsoUser {
    /// The user's email: 6–64 characters.
    #[schemars(with = "String")]
    pub email: Spanned<String>,
    #[schemars(with = "String")]
    pub first_name: Spanned<String>,
    #[schemars(with = "String")]
    pub last_name: Spanned<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [control_tower] table")]
#[schemars(rename = "ControlTower")]
pub(crate) struct RawControlTower {
    /// Control operations in flight at once (Control Tower's quota). Default 10.
    #[schemars(with = "Option<u64>")]
    pub control_operations_in_flight: Option<Spanned<u64>>,
    /// Account Factory provisioning operations in flight at once. Default 5.
    #[schemars(with = "Option<u64>")]
    pub account_operations_in_flight: Option<Spanned<u64>>,
    /// The Account Factory product: its name or its `prod-...` id. Default
    /// `AWS Control Tower Account Factory`.
    #[schemars(with = "Option<String>")]
    pub account_factory_product: Option<Spanned<String>>,
    /// Declared OUs that are not registered with Control Tower.
    #[schemars(with = "Option<Vec<String>>")]
    pub unregistered_ous: Option<Vec<Spanned<String>>>,
    /// The `AWSControlTowerBaseline` version OUs are registered with (`"4.0"`).
    /// Default: the one AWS documents for the landing zone's version.
    #[schemars(with = "Option<String>")]
    pub baseline_version: Option<Spanned<String>>,
    /// The landing zone's Security OU, which the landing zone governs itself: Landfall
    /// never registers it. Default `Security`.
    #[schemars(with = "Option<String>")]
    pub security_ou: Option<Spanned<String>>,
    /// The default Identity Center user of accounts created by Account Factory.
    pub sso_user: Option<RawSsoUser>,
}

/// `[[moved]]`: a resource re-addressed in the file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a [[moved]] table with `from` and `to`"
)]
#[schemars(rename = "Moved")]
pub(crate) struct RawMoved {
    /// The address the state records it at (`ou.Core`).
    #[schemars(with = "String")]
    pub from: Spanned<String>,
    /// The address it is declared at now (`ou.Foundation`).
    #[schemars(with = "String")]
    pub to: Spanned<String>,
}

/// `[[import]]`: an existing resource adopted by its id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an [[import]] table with `to` and `id`"
)]
#[schemars(rename = "Import")]
pub(crate) struct RawImport {
    /// The declared resource's address (`account.log-archive`, `ou.Workloads`,
    /// `scp.deny-leave-org`, `vpc.NET`, `kms_key.NAME`).
    #[schemars(with = "String")]
    pub to: Spanned<String>,
    /// The live resource's id: a 12-digit account id, `ou-…`, `p-…`, `vpc-…`, or a KMS
    /// key id or key ARN.
    #[schemars(with = "String")]
    pub id: Spanned<String>,
}

/// `[state]`: where the state lives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "State")]
pub(crate) struct RawState {
    /// `local` (default: a file beside the configuration) or `s3`.
    #[schemars(with = "Option<String>")]
    pub backend: Option<Spanned<String>>,
    /// With `local`: the state file, relative to the configuration's directory.
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
    /// With `s3`: the bucket.
    #[schemars(with = "Option<String>")]
    pub bucket: Option<Spanned<String>>,
    /// With `s3`: the state object's key (its lock is `<key>.lock`).
    #[schemars(with = "Option<String>")]
    pub key: Option<Spanned<String>>,
    /// With `s3`: the bucket's region.
    #[schemars(with = "Option<String>")]
    pub region: Option<Spanned<String>>,
    /// With `s3`: encrypt the state with this KMS key (SSE-KMS).
    #[schemars(with = "Option<String>")]
    pub kms_key_id: Option<Spanned<String>>,
    /// With `s3`: a shared-config profile for the bucket's account.
    #[schemars(with = "Option<String>")]
    pub profile: Option<Spanned<String>>,
    /// With `s3`: a role to assume for the bucket.
    #[schemars(with = "Option<String>")]
    pub role_arn: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [control.\"ID\"] table")]
#[schemars(rename = "Control")]
pub(crate) struct RawControl {
    /// The OUs the control is enabled on: `"ou:PATH"`.
    #[schemars(with = "Vec<String>")]
    pub targets: Vec<Spanned<String>>,
    /// Control parameters, e.g. `{ AllowedRegions = ["us-east-1"] }`.
    #[schemars(with = "Option<BTreeMap<String, serde_json::Value>>")]
    pub parameters: Option<BTreeMap<Spanned<String>, Spanned<toml::Value>>>,
    /// The control identifier sent to the API, when the catalogue does not know it
    /// (a `controltower` ARN in the home region or a `controlcatalog` ARN).
    #[schemars(with = "Option<String>")]
    pub arn: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [guardrails.PRESET] table")]
#[schemars(rename = "Guardrails")]
pub(crate) struct RawGuardrails {
    /// The OUs the preset's controls are enabled on: `"ou:PATH"`.
    #[schemars(with = "Vec<String>")]
    pub targets: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [portfolio.NAME] table")]
#[schemars(rename = "Portfolio")]
pub(crate) struct RawPortfolio {
    /// 1–100 characters. Default: the table's name.
    #[schemars(with = "Option<String>")]
    pub display_name: Option<Spanned<String>>,
    /// 1–50 characters; required unless `id`.
    #[schemars(with = "Option<String>")]
    pub provider: Option<Spanned<String>>,
    /// At most 2000 characters.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// An existing portfolio (`port-...`) Landfall shares but never changes.
    #[schemars(with = "Option<String>")]
    pub id: Option<Spanned<String>>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// Share the portfolio's TagOptions with its shares. Default `false`.
    pub share_tag_options: Option<bool>,
    /// `"organization"`, `"ou:PATH"`, `"account:NAME"`.
    #[schemars(with = "Option<Vec<String>>")]
    pub shares: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an [scp.NAME] table")]
#[schemars(rename = "Scp")]
pub(crate) struct RawScp {
    /// The policy's name in AWS when it is not the table key: 1–128 printable ASCII
    /// characters, unique among the SCPs.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// At most 512 characters.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// Inline JSON policy document; exactly one of `content` and `file`.
    #[schemars(with = "Option<String>")]
    pub content: Option<Spanned<String>>,
    /// JSON policy file, relative to this TOML file; exactly one of `content` and
    /// `file`.
    #[schemars(with = "Option<String>")]
    pub file: Option<Spanned<String>>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// Where the policy is attached: `"root"`, `"ou:PATH"`, `"account:NAME"`.
    #[schemars(with = "Option<Vec<String>>")]
    pub targets: Option<Vec<Spanned<String>>>,
}

/// `[rcp.NAME]`, `[tag_policy.NAME]`, `[ai_opt_out_policy.NAME]`: an organization
/// policy of another type than SCP; NAME is its name in AWS.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an organization policy table")]
#[schemars(rename = "OrgPolicy")]
pub(crate) struct RawOrgPolicy {
    /// At most 512 characters.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// Inline JSON policy document; exactly one of `content`, `file` and `preset`.
    #[schemars(with = "Option<String>")]
    pub content: Option<Spanned<String>>,
    /// JSON policy file, relative to this TOML file.
    #[schemars(with = "Option<String>")]
    pub file: Option<Spanned<String>>,
    /// A document Landfall ships: `data_perimeter` (RCP; needs `organization_id`),
    /// `cost_tags` (tag policy), `opt_out_all` (AI services opt-out policy).
    #[schemars(with = "Option<String>")]
    pub preset: Option<Spanned<String>>,
    /// The organization's id (`o-` and 10 to 32 lowercase letters or digits), which
    /// the `data_perimeter` preset names in its conditions.
    #[schemars(with = "Option<String>")]
    pub organization_id: Option<Spanned<String>>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// Where the policy is attached: `"root"`, `"ou:PATH"`, `"account:NAME"`.
    #[schemars(with = "Option<Vec<String>>")]
    pub targets: Option<Vec<Spanned<String>>>,
}

/// `[logging]`: the organization trail into the log archive account.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [logging] table")]
#[schemars(rename = "Logging")]
pub(crate) struct RawLogging {
    /// The declared account (`[account.NAME]`, not the management account) that
    /// holds the trail's bucket and KMS key.
    #[schemars(with = "String")]
    pub log_archive: Spanned<String>,
    /// The trail's name. Default `landfall-org-trail`.
    #[schemars(with = "Option<String>")]
    pub trail: Option<Spanned<String>>,
    /// The S3 bucket's name; `${account_id}` and `${region}` are the log archive
    /// account's. Default `landfall-org-trail-${account_id}`.
    #[schemars(with = "Option<String>")]
    pub bucket_name: Option<Spanned<String>>,
    /// A declared account (not the management account) registered as CloudTrail's
    /// delegated administrator, which creates and manages the trail.
    #[schemars(with = "Option<String>")]
    pub administrator: Option<Spanned<String>>,
    /// S3 Object Lock default retention on the bucket (set at creation only).
    pub object_lock: Option<RawObjectLock>,
    /// One lifecycle rule over the whole bucket.
    pub lifecycle: Option<RawLifecycle>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
}

/// `object_lock = { mode = "governance", days = 365 }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an object_lock table")]
#[schemars(rename = "ObjectLock")]
pub(crate) struct RawObjectLock {
    /// `governance` or `compliance`.
    #[schemars(with = "String")]
    pub mode: Spanned<String>,
    /// Default retention, 1 to 36500 days.
    #[schemars(with = "i64")]
    pub days: Spanned<i64>,
}

/// `lifecycle = { glacier_after_days = 90, expire_after_days = 2555 }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a lifecycle table")]
#[schemars(rename = "Lifecycle")]
pub(crate) struct RawLifecycle {
    /// Move objects to S3 Glacier Flexible Retrieval after this many days (1 or more).
    #[schemars(with = "Option<i64>")]
    pub glacier_after_days: Option<Spanned<i64>>,
    /// Delete objects (and noncurrent versions) after this many days; more than
    /// `glacier_after_days`.
    #[schemars(with = "Option<i64>")]
    pub expire_after_days: Option<Spanned<i64>>,
}

/// `[security_services]`: the organization's security services, delegated to one
/// account.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [security_services] table")]
#[schemars(rename = "SecurityServices")]
pub(crate) struct RawSecurityServices {
    /// The declared account (never the management account) that administers them.
    #[schemars(with = "String")]
    pub delegated_administrator: Spanned<String>,
    /// Any of `guardduty`, `securityhub`, `config`, `access_analyzer`.
    #[schemars(with = "Vec<String>")]
    pub services: Spanned<Vec<Spanned<String>>>,
    /// Tags of the Config aggregator and the Access Analyzer analyzer.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [network.NAME] table")]
#[schemars(rename = "Network")]
pub(crate) struct RawNetwork {
    /// The declared account (`[account.NAME]`) the VPC lives in.
    #[schemars(with = "String")]
    pub account: Spanned<String>,
    /// One of the landing zone's `governed_regions`.
    #[schemars(with = "String")]
    pub region: Spanned<String>,
    /// The VPC's IPv4 CIDR block, `/16` to `/28`, e.g. `10.20.0.0/16`.
    #[schemars(with = "String")]
    pub cidr: Spanned<String>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// Private subnets: at least one, inside `cidr`, not overlapping.
    #[schemars(with = "Vec<RawSubnet>")]
    pub subnets: Spanned<Vec<RawSubnet>>,
    /// Endpoint presets (`sagemaker`, `core`, ...) and short service names
    /// (`sts`, `sagemaker.api`, ...).
    #[schemars(with = "Option<Vec<String>>")]
    pub endpoints: Option<Spanned<Vec<Spanned<String>>>>,
    /// Private DNS for interface endpoints. Default `true`.
    #[schemars(with = "Option<bool>")]
    pub private_dns: Option<Spanned<bool>>,
    /// Default policy (JSON) of every endpoint; at most one of `endpoint_policy` and
    /// `endpoint_policy_file`.
    #[schemars(with = "Option<String>")]
    pub endpoint_policy: Option<Spanned<String>>,
    /// Default policy of every endpoint, from a JSON file relative to this TOML file.
    #[schemars(with = "Option<String>")]
    pub endpoint_policy_file: Option<Spanned<String>>,
    /// Per-endpoint settings, keyed by short service name: adds the endpoint when it
    /// is not listed in `endpoints`.
    #[schemars(with = "Option<BTreeMap<String, RawEndpoint>>")]
    pub endpoint: Option<BTreeMap<Spanned<String>, RawEndpoint>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a subnet: { az = \"...\", cidr = \"...\" }"
)]
#[schemars(rename = "Subnet")]
pub(crate) struct RawSubnet {
    /// Availability zone in the network's region, e.g. `us-east-1a`.
    #[schemars(with = "String")]
    pub az: Spanned<String>,
    /// IPv4 CIDR block inside the VPC's.
    #[schemars(with = "String")]
    pub cidr: Spanned<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a [network.NAME.endpoint.\"SERVICE\"] table"
)]
#[schemars(rename = "Endpoint")]
pub(crate) struct RawEndpoint {
    /// Private DNS (interface endpoints only). Default: the network's `private_dns`.
    #[schemars(with = "Option<bool>")]
    pub private_dns: Option<Spanned<bool>>,
    /// This endpoint's policy (JSON), instead of the network's `endpoint_policy`.
    #[schemars(with = "Option<String>")]
    pub policy: Option<Spanned<String>>,
    /// This endpoint's policy from a JSON file relative to this TOML file.
    #[schemars(with = "Option<String>")]
    pub policy_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [kms_key.NAME] table")]
#[schemars(rename = "KmsKey")]
pub(crate) struct RawKmsKey {
    /// The declared account (`[account.NAME]`) the key lives in.
    #[schemars(with = "String")]
    pub account: Spanned<String>,
    /// One of the landing zone's `governed_regions`.
    #[schemars(with = "String")]
    pub region: Spanned<String>,
    /// At most 8192 characters. Default empty.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// Key policy (JSON); at most one of `policy` and `policy_file`. Default: the
    /// account administers the key (`arn:aws:iam::${account_id}:root`, `kms:*`).
    #[schemars(with = "Option<String>")]
    pub policy: Option<Spanned<String>>,
    /// Key policy from a JSON file relative to this TOML file.
    #[schemars(with = "Option<String>")]
    pub policy_file: Option<Spanned<String>>,
    /// Automatic yearly key rotation. Default `true`.
    pub rotation: Option<bool>,
    /// `alias/NAME`; not `alias/aws/...`.
    #[schemars(with = "Option<String>")]
    pub alias: Option<Spanned<String>>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// Waiting period (7 to 30 days) when Landfall deletes the key. Default 30.
    #[schemars(with = "Option<i64>")]
    pub deletion_window_days: Option<Spanned<i64>>,
    /// Skip the check that the policy lets the account manage the key. Default
    /// `false`.
    pub bypass_lockout_check: Option<bool>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [blueprint] table")]
#[schemars(rename = "Blueprint")]
pub(crate) struct RawBlueprint {
    /// Root email of a project's stage account; `{project}` and `{stage}` are
    /// replaced. Default `aws+{project}-{stage}@example.com`.
    #[schemars(with = "Option<String>")]
    pub email_pattern: Option<Spanned<String>>,
    /// IPv4 block project VPCs are allocated from. Default `10.64.0.0/10`.
    #[schemars(with = "Option<String>")]
    pub cidr_pool: Option<Spanned<String>>,
    /// Prefix length of each stage VPC (16–28). Default 20.
    #[schemars(with = "Option<u64>")]
    pub vpc_prefix: Option<Spanned<u64>>,
    /// Prefix length of the two subnets of each VPC. Default 24.
    #[schemars(with = "Option<u64>")]
    pub subnet_prefix: Option<Spanned<u64>>,
    /// Endpoint presets and services of every stage VPC. Default `["sagemaker"]`.
    #[schemars(with = "Option<Vec<String>>")]
    pub endpoints: Option<Vec<Spanned<String>>>,
    /// Portfolios (declared `[portfolio.NAME]`) shared with every project account.
    #[schemars(with = "Option<Vec<String>>")]
    pub portfolios: Option<Vec<Spanned<String>>>,
    /// Stages, keyed by name: override the defaults (`sandbox`, `dev`, `preprod`,
    /// `prod`, `automation`) or add stages.
    #[schemars(with = "Option<BTreeMap<String, RawStage>>")]
    pub stage: Option<BTreeMap<Spanned<String>, RawStage>>,
    /// Persona presets (`data_scientist`, `mlops_engineer`, ...) whose group every
    /// project gets, assigned per stage as the preset says.
    #[schemars(with = "Option<Vec<String>>")]
    pub personas: Option<Vec<Spanned<String>>>,
    /// Per persona of `personas`: the stages its group works in and, for each, the
    /// persona whose permission set it gets there, instead of the preset's.
    #[schemars(with = "Option<BTreeMap<String, BTreeMap<String, String>>>")]
    pub access: Option<BTreeMap<Spanned<String>, RawStageAccess>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [blueprint.stage.NAME] table")]
#[schemars(rename = "Stage")]
pub(crate) struct RawStage {
    /// OU path of the stage's account.
    #[schemars(with = "Option<String>")]
    pub ou: Option<Spanned<String>>,
    /// SCPs attached to the stage's account (declared `[scp.NAME]`).
    #[schemars(with = "Option<Vec<String>>")]
    pub scps: Option<Vec<Spanned<String>>>,
    /// Whether the stage gets a VPC. Default `true`.
    pub network: Option<bool>,
    /// Whether the stage gets a KMS key. Default `true`.
    pub kms_key: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [project.NAME] table")]
#[schemars(rename = "Project")]
pub(crate) struct RawProject {
    /// The `owner` tag of the project's resources.
    #[schemars(with = "Option<String>")]
    pub owner: Option<Spanned<String>>,
    /// The `cost-center` tag of the project's resources.
    #[schemars(with = "Option<String>")]
    pub cost_center: Option<Spanned<String>>,
    /// Region of the project's VPCs and keys. Default: the home region.
    #[schemars(with = "Option<String>")]
    pub region: Option<Spanned<String>>,
    /// The blueprint stages the project has. Default: all of them.
    #[schemars(with = "Option<Vec<String>>")]
    pub stages: Option<Spanned<Vec<Spanned<String>>>>,
    /// The VPC block of each stage with a network (written by `landfall project new`).
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub cidrs: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// `[identity_center]`: the organization's IAM Identity Center instance.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an [identity_center] table")]
#[schemars(rename = "IdentityCenter")]
pub(crate) struct RawIdentityCenter {
    /// The region of the organization instance. Default: the home region.
    #[schemars(with = "Option<String>")]
    pub region: Option<Spanned<String>>,
    /// Where users and groups come from: `identity_center` (Identity Center's own
    /// directory; default) or `external` (an IdP provisioning them through SCIM).
    #[schemars(with = "Option<RawIdentitySource>")]
    pub identity_source: Option<Spanned<RawIdentitySource>>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "IdentitySource")]
pub(crate) enum RawIdentitySource {
    IdentityCenter,
    External,
}

/// `[permission_set.NAME]`: an IAM Identity Center permission set; NAME is its name in
/// AWS.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [permission_set.NAME] table")]
#[schemars(rename = "PermissionSet")]
pub(crate) struct RawPermissionSet {
    /// A persona preset (`data_scientist`, `data_engineer`, `mlops_engineer`,
    /// `ml_read_only`, `platform_admin`, `security_auditor`): fills the description,
    /// session duration, managed policies and inline policy not given here.
    #[schemars(with = "Option<String>")]
    pub persona: Option<Spanned<String>>,
    /// At most 700 characters.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// ISO-8601 duration, `PT1H` to `PT12H` (`PT8H`, `PT1H30M`). Default `PT1H`.
    #[schemars(with = "Option<String>")]
    pub session_duration: Option<Spanned<String>>,
    /// AWS-managed policies: a name (`ViewOnlyAccess`) or an ARN
    /// (`arn:aws:iam::aws:policy/job-function/ViewOnlyAccess`).
    #[schemars(with = "Option<Vec<String>>")]
    pub managed_policies: Option<Vec<Spanned<String>>>,
    /// Customer-managed policies, by name and path, that must exist in each account.
    #[schemars(with = "Option<Vec<RawCustomerPolicy>>")]
    pub customer_managed_policies: Option<Vec<Spanned<RawCustomerPolicy>>>,
    /// The inline policy: a JSON document (text starting with `{`) or a JSON file
    /// relative to this TOML file.
    #[schemars(with = "Option<String>")]
    pub inline_policy: Option<Spanned<String>>,
    /// `{ managed = "NAME-or-ARN" }` or `{ customer = { name = "...", path = "/" } }`.
    #[schemars(with = "Option<RawBoundary>")]
    pub permissions_boundary: Option<Spanned<RawBoundary>>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
}

/// A customer-managed policy reference.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a customer-managed policy: { name = \"...\", path = \"/\" }"
)]
#[schemars(rename = "CustomerPolicy")]
pub(crate) struct RawCustomerPolicy {
    /// The IAM policy name: 1–128 letters, digits and `+=,.@_-`.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// The IAM path: `/` (default) or `/a/b/`.
    #[schemars(with = "Option<String>")]
    pub path: Option<Spanned<String>>,
}

/// A permissions boundary: exactly one of `managed` and `customer`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a permissions boundary: { managed = \"NAME-or-ARN\" } or { customer = { name = \"...\", path = \"/\" } }"
)]
#[schemars(rename = "PermissionsBoundary")]
pub(crate) struct RawBoundary {
    /// An AWS-managed policy, by name or ARN.
    #[schemars(with = "Option<String>")]
    pub managed: Option<Spanned<String>>,
    /// A customer-managed policy, by name and path.
    pub customer: Option<RawCustomerPolicy>,
}

/// `[group.NAME]`: an Identity Store group Landfall creates; NAME is its display name.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a [group.NAME] table")]
#[schemars(rename = "Group")]
pub(crate) struct RawGroup {
    /// At most 1024 characters.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
}

/// `[[assignment]]`: a permission set given to a group or a user in accounts.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "an [[assignment]] table with `permission_set`, `group` or `user`, and `targets`"
)]
#[schemars(rename = "Assignment")]
pub(crate) struct RawAssignment {
    /// A declared `[permission_set.NAME]`.
    #[schemars(with = "String")]
    pub permission_set: Spanned<String>,
    /// A group's display name: a declared `[group.NAME]`, or an existing group (from
    /// an IdP through SCIM). Exactly one of `group` and `user`.
    #[schemars(with = "Option<String>")]
    pub group: Option<Spanned<String>>,
    /// An existing Identity Store user name. Exactly one of `group` and `user`.
    #[schemars(with = "Option<String>")]
    pub user: Option<Spanned<String>>,
    /// `"account:NAME"` or `"ou:PATH"` (every declared account in the OU and below).
    #[schemars(with = "Vec<String>")]
    pub targets: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an [[expect]] table")]
#[schemars(rename = "Expect")]
pub(crate) struct RawExpect {
    /// Why the expectation matters, shown when it fails.
    #[schemars(with = "Option<String>")]
    pub description: Option<Spanned<String>>,
    /// A declared OU path: the request is checked in every account in the OU and the
    /// OUs below it. Exactly one of `ou` and `account`.
    #[schemars(with = "Option<String>")]
    pub ou: Option<Spanned<String>>,
    /// A declared account name. Exactly one of `ou` and `account`.
    #[schemars(with = "Option<String>")]
    pub account: Option<Spanned<String>>,
    /// The one action the request makes, `service:Action` (no wildcards), e.g.
    /// `sagemaker:CreateEndpoint`. Exactly one of `action` and `tags`.
    #[schemars(with = "Option<String>")]
    pub action: Option<Spanned<String>>,
    /// The resource ARN the request names (`arn:...`), or `*`. Default `*`.
    #[schemars(with = "Option<String>")]
    pub resource: Option<Spanned<String>>,
    /// Request context keys and their values: a string, or a list of strings for a
    /// multivalued key, e.g. `{ "aws:RequestedRegion" = "us-east-1" }`. A key left
    /// out is absent from the request.
    #[schemars(with = "Option<BTreeMap<String, ContextValueSchema>>")]
    pub context: Option<BTreeMap<Spanned<String>, Spanned<RawContextValue>>>,
    /// The decision the SCPs must reach: `allow` or `deny` (with `action`).
    #[schemars(with = "Option<DecisionSchema>")]
    pub decision: Option<Spanned<String>>,
    /// Evaluate the request for a session of this declared permission set (its
    /// policies and permissions boundary, then the SCPs), not for the SCPs alone.
    #[schemars(with = "Option<String>")]
    pub permission_set: Option<Spanned<String>>,
    /// A resource's tags, checked against the effective tag policy of the accounts in
    /// scope (instead of a request): `{ project = "churn", environment = "prod" }`.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub tags: Option<RawTags>,
    /// With `tags`: the tag policy resource type, `service:type`
    /// (`sagemaker:endpoint`).
    #[schemars(with = "Option<String>")]
    pub resource_type: Option<Spanned<String>>,
    /// With `tags`: whether the tags must comply (`true`) or the tag policy must
    /// report them (`false`).
    #[schemars(with = "Option<bool>")]
    pub compliant: Option<Spanned<bool>>,
}

/// A request context value as written: one string or a list of strings, each with
/// its place.
#[derive(Debug)]
pub(crate) enum RawContextValue {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawContextValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = RawContextValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawContextValue::One(v.to_string()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(RawContextValue::One(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Spanned<String>>()? {
                    out.push(v);
                }
                Ok(RawContextValue::Many(out))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

// The schema of a context value; the type read is `RawContextValue`.
/// A request context value: a string, or a list of strings for a multivalued key.
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "ContextValue")]
#[expect(dead_code, reason = "Only its schema is used")]
pub(crate) enum ContextValueSchema {
    One(String),
    Many(Vec<String>),
}

// The schema of `decision`, read as a string so a wrong value gets its own
// diagnostic.
/// `allow`: the SCPs let the request through; `deny`: an SCP denies it.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Decision")]
#[expect(dead_code, reason = "Only its schema is used")]
pub(crate) enum DecisionSchema {
    Allow,
    Deny,
}

/// The JSON Schema of a file. TOML has no null, so the `null` alternatives schemars
/// gives `Option` fields are removed: an optional key is simply not `required`.
pub(crate) fn schema() -> serde_json::Value {
    let mut value = schemars::schema_for!(crate::sections::RawFile).to_value();
    strip_null(&mut value);
    value
}

fn strip_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            // `"type": ["string", "null"]` -> `"type": "string"`
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            // `"anyOf": [{"$ref": ...}, {"type": "null"}]` -> `"$ref": ...`
            if let Some(Value::Array(any)) = map.get_mut("anyOf") {
                any.retain(|v| v.get("type").is_none_or(|t| t != "null"));
                if any.len() == 1
                    && let Some(Value::Object(only)) = any.pop()
                {
                    map.remove("anyOf");
                    for (k, v) in only {
                        map.entry(k).or_insert(v);
                    }
                }
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}
