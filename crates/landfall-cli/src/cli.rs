//! The command line as clap sees it: raw arguments only. Commands turn these into
//! typed settings (a second stage), so validation lives in one place per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "landfall",
    version,
    about = "Provision multi-account AWS landing zones for secure ML work from TOML",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Desired-state TOML file, or a directory of *.toml files.
    #[arg(
        short = 'c',
        long = "config",
        global = true,
        default_value = DEFAULT_CONFIG
    )]
    pub config: PathBuf,
    /// Backend to use, overriding the file's `backend`.
    #[arg(long, global = true, value_enum)]
    pub backend: Option<BackendArg>,
    /// Where the state lives, overriding `[state]`: a file path, or `s3://BUCKET/KEY`
    /// (the other `[state]` S3 settings still apply).
    #[arg(
        long,
        global = true,
        env = "LANDFALL_STATE",
        value_name = "PATH|s3://BUCKET/KEY"
    )]
    pub state: Option<String>,
    /// AWS shared-config profile (aws backend).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region for the SDK (aws backend; Organizations itself is global).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// More log output on stderr (-v: info and API call counts, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl GlobalArgs {
    /// The global flags of this run as they would be typed again, shell-quoted, with
    /// a leading space (or empty): hints that say "run `landfall apply`" append them,
    /// so the command they suggest works on the same files, backend and state.
    pub fn rerun_flags(&self) -> String {
        self.flags(true)
    }

    /// [`Self::rerun_flags`] without `--region`: for `project new`, where `--region`
    /// names the project's region, while for plan and apply it would be the SDK's.
    pub fn rerun_flags_without_region(&self) -> String {
        self.flags(false)
    }

    fn flags(&self, with_region: bool) -> String {
        let mut words: Vec<String> = Vec::new();
        if self.config.as_path() != std::path::Path::new(DEFAULT_CONFIG) {
            words.push("-c".into());
            words.push(self.config.display().to_string());
        }
        if let Some(backend) = self.backend {
            words.push("--backend".into());
            words.push(
                match backend {
                    BackendArg::Sim => "sim",
                    BackendArg::Aws => "aws",
                }
                .into(),
            );
        }
        if let Some(state) = &self.state {
            words.push("--state".into());
            words.push(state.clone());
        }
        if let Some(region) = self.region.as_ref().filter(|_| with_region) {
            words.push("--region".into());
            words.push(region.clone());
        }
        words
            .iter()
            .map(|w| {
                // A word shlex cannot quote (it holds a NUL byte) cannot come from a
                // command line either; show it as it is.
                let quoted = shlex::try_quote(w).map(|q| q.into_owned());
                format!(" {}", quoted.unwrap_or_else(|_| w.clone()))
            })
            .collect()
    }
}

/// `-c`'s default.
pub const DEFAULT_CONFIG: &str = "landfall.toml";

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendArg {
    Sim,
    Aws,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Offline checks: schema, references, AWS quotas, expectations and lockout of the
    /// access role by the desired SCPs. Reports every problem at once.
    Validate(ValidateArgs),
    /// Refresh the live state and show the ordered changes.
    Plan(PlanArgs),
    /// Apply a fresh plan (after confirmation) or a saved one.
    Apply(ApplyArgs),
    /// Render a plan saved with `plan --out` for review (human, JSON, or Markdown for a
    /// pull request); reads no backend and no state.
    Show(ShowArgs),
    /// Read-only: compare live with the last apply and the desired state (exit 2 on drift).
    Drift(DriftArgs),
    /// Print the dependency graph of the desired state.
    Graph(GraphArgs),
    /// Would the SCPs allow this request in this account? The decision and its proof:
    /// the deciding statement (policy, Sid, level) or the level that lacks an Allow.
    Explain(ExplainArgs),
    /// Write the live organization as a landing zone Landfall manages with no changes:
    /// TOML, policy files, and a state recording every resource as adopted.
    Import(ImportArgs),
    /// Inspect and edit the state: what Landfall manages.
    #[command(subcommand)]
    State(StateCommand),
    /// Remove the state lock left by a run that died, by the id the lock error shows.
    ForceUnlock { lock_id: String },
    /// Print the JSON Schema of the desired-state TOML (for editors).
    Schema,
    /// Make out-of-band changes in the sim world, as a console user would.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// ML projects: account sets expanded from the `[blueprint]`.
    #[command(subcommand)]
    Project(ProjectCommand),
}

#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// Add an ML project to the desired state: an account per stage, each with a VPC
    /// (CIDR allocated from the blueprint's pool) and a KMS key. `--region` sets the
    /// project's region (default: the home region). Nothing is written on error.
    New(ProjectNewArgs),
}

#[derive(Args, Debug)]
pub struct ProjectNewArgs {
    /// Project name: `[a-z0-9][a-z0-9-]{1,30}`.
    pub name: String,
    /// The `owner` tag of the project's resources.
    #[arg(long)]
    pub owner: Option<String>,
    /// The `cost-center` tag of the project's resources.
    #[arg(long)]
    pub cost_center: Option<String>,
    /// Stages (default: all the blueprint's), e.g. `--stages dev,prod`.
    #[arg(long, value_delimiter = ',')]
    pub stages: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The directory to write (`landfall.toml`, `policies/`, `state/`); it must not
    /// exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The landing zone's name (default: the directory's name).
    #[arg(long)]
    pub name: Option<String>,
    /// The home region (default: `--region`, else `AWS_REGION`; `us-east-1` on sim).
    #[arg(long)]
    pub home_region: Option<String>,
    /// With the sim backend: the world file to import (e.g.
    /// `state/ml-platform.sim-world.json`).
    #[arg(long, value_name = "PATH")]
    pub sim_world: Option<PathBuf>,
    /// One file per top-level OU (`ous/NAME.toml`) beside `landfall.toml`.
    #[arg(long)]
    pub split: bool,
    /// Do not read Control Tower (for endpoints without its API, or credentials
    /// without access to it): no controls and no OU registrations are imported.
    #[arg(long)]
    pub skip_control_tower: bool,
    /// Also import each member account's VPCs (with subnets and endpoints) and
    /// customer-managed KMS keys in these regions, e.g. `--members us-east-1,us-west-2`.
    #[arg(long, value_delimiter = ',', value_name = "REGIONS")]
    pub members: Vec<String>,
    /// Print the files that would be written, and the check of the first plan; write
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Save the plan to this file, for `landfall apply FILE`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Print phase timings and peak memory on stderr.
    #[arg(long)]
    pub timings: bool,
    /// Plan even when an SCP change would deny Landfall's access role what it needs in
    /// member accounts, or leave a target with no Allow path.
    #[arg(long)]
    pub allow_lockout: bool,
    /// Plan only the changes of this address and those they depend on (repeatable; for
    /// exceptional use).
    #[arg(long = "target", value_name = "ADDRESS")]
    pub targets: Vec<String>,
    /// Wait this long for an apply holding the state lock to finish (a plan reads the
    /// state only between applies), then fail naming it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "5s")]
    pub lock_timeout: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A plan saved with `landfall plan --out`.
    pub plan_file: PathBuf,
    /// Print the plan as JSON on stdout (as `plan --json` does).
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the plan as Markdown on stdout (for a pull-request comment).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// A plan saved with `landfall plan --out`.
    pub plan_file: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Changes run concurrently.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Allow closing accounts whose declaration allowed it.
    #[arg(long)]
    pub allow_close: bool,
    /// Change nothing live: accept the live values of drifted resources into the state.
    #[arg(long, conflicts_with = "plan_file")]
    pub refresh_only: bool,
    /// Apply even when an SCP change would lock Landfall's access role out (see `plan`).
    #[arg(long)]
    pub allow_lockout: bool,
    /// Wait this long for another run holding the state lock (e.g. `30s`, `2m`);
    /// default: fail at once, naming the holder.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "0s")]
    pub lock_timeout: std::time::Duration,
    /// Apply only the changes of this address and those they depend on (repeatable; for
    /// exceptional use; not with FILE).
    #[arg(long = "target", value_name = "ADDRESS", conflicts_with_all = ["plan_file", "refresh_only"])]
    pub targets: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The account (its `[account.NAME]`) the request is made in (with `--tags`: the
    /// account whose effective tag policy decides).
    #[arg(long, required_unless_present_any = ["requests", "external_principal"])]
    pub account: Option<String>,
    /// The action, `service:Action` (e.g. `sagemaker:CreateEndpoint`).
    #[arg(long, required_unless_present_any = ["requests", "tags"])]
    pub action: Option<String>,
    /// The account that owns the resource (default: `--account`): its resource
    /// control policies apply, for the services RCPs support.
    #[arg(long, value_name = "ACCOUNT")]
    pub resource_account: Option<String>,
    /// The principal is outside the organization: no SCP governs it, only the RCPs of
    /// `--resource-account` (and the resource's own policy, which Landfall does not
    /// see) decide.
    #[arg(long, requires = "resource_account", conflicts_with_all = ["permission_set", "account"])]
    pub external_principal: bool,
    /// Ask whether a resource tagged so complies with the account's effective tag
    /// policy instead: `KEY=VALUE` (repeatable), with `--resource-type`.
    #[arg(long = "tags", value_name = "KEY=VALUE", requires = "resource_type", conflicts_with_all = ["action", "permission_set", "requests", "external_principal"])]
    pub tags: Vec<String>,
    /// The tag policy resource type of `--tags`, `service:type` (e.g.
    /// `sagemaker:endpoint`).
    #[arg(long, value_name = "SERVICE:TYPE", requires = "tags")]
    pub resource_type: Option<String>,
    /// The resource ARN (default `*`).
    #[arg(long, default_value = "*")]
    pub resource: String,
    /// A request context key and value, `KEY=VALUE` (repeatable; repeat a key for
    /// several values), e.g. `--context aws:RequestedRegion=us-east-1`.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// The request context as a JSON object: a string is one value, an array a set
    /// (`[]` is a key present with no values, not an absent one), e.g.
    /// `--context-json '{"aws:TagKeys": ["project"], "sagemaker:VpcSubnets": []}'`.
    #[arg(long, value_name = "JSON")]
    pub context_json: Option<String>,
    /// Evaluate many requests: a JSON Lines file, one `{"account", "action",
    /// "resource"?, "context"?, "permission_set"?}` per line; prints one JSON result per
    /// line.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["account", "action", "context", "context_json", "permission_set", "resource_account", "external_principal"])]
    pub requests: Option<PathBuf>,
    /// Evaluate the SCPs live in the organization instead of the desired state (and
    /// read the AWS-managed policies of `--permission-set` live, caching them).
    #[arg(long)]
    pub live: bool,
    /// Decide for a session of this permission set (its `[permission_set.NAME]`): its
    /// identity policies must allow, its permissions boundary too, and the SCPs; any
    /// explicit deny wins. The answer names the deciding layer.
    #[arg(long, value_name = "NAME")]
    pub permission_set: Option<String>,
    /// Print the answer as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Report SCPs that would lock Landfall's access role out as warnings, not errors.
    #[arg(long)]
    pub allow_lockout: bool,
    /// `human` (stderr), or a document on stdout: `json` (file, line, column, end,
    /// code, severity, message, help per diagnostic) or `sarif` (SARIF 2.1.0, for code
    /// scanning annotations).
    #[arg(long, value_enum, default_value = "human")]
    pub format: DiagnosticsFormat,
}

/// How a command reports the diagnostics of a configuration.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticsFormat {
    /// Rendered for a person, on stderr.
    Human,
    /// One JSON document on stdout (`validate --format json`, `plan --json`).
    Json,
    /// A SARIF 2.1.0 log on stdout.
    Sarif,
}

#[derive(Args, Debug)]
pub struct DriftArgs {
    /// JSON report on stdout.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Markdown report on stdout (for a ticket or chat).
    #[arg(long)]
    pub markdown: bool,
    /// Ignore findings whose address matches this glob (repeatable; adds to `[drift] ignore`).
    #[arg(long = "ignore", value_name = "GLOB")]
    pub ignore: Vec<String>,
    /// Wait this long for an apply holding the state lock to finish (its in-flight
    /// changes are not drift), then fail naming it.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "5s")]
    pub lock_timeout: std::time::Duration,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    /// `{ "nodes": [{ "id", "address", "action" }], "edges": [{ "from", "to" }] }`
    Json,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List managed resources: address, physical id, created by Landfall or adopted.
    List,
    /// Show one resource's record.
    Show { address: String },
    /// Print the state (JSON) on stdout; with S3 state, `--version-id` prints an
    /// earlier version and `--versions` lists them.
    Pull {
        #[arg(long, conflicts_with = "versions")]
        version_id: Option<String>,
        #[arg(long)]
        versions: bool,
    },
    /// Replace the state with FILE (a state printed by `state pull`): refused unless it
    /// has the same lineage and a serial at least the current one's.
    Push {
        file: PathBuf,
        /// Wait this long for another run holding the lock.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "0s")]
        lock_timeout: std::time::Duration,
    },
    /// Stop managing resources: remove their records (and pending creations) from the
    /// state, under the lock, after a backup. Nothing live is touched; the next plan
    /// adopts those still declared and leaves the others alone.
    Rm {
        /// The addresses to remove, as `landfall state list` shows them.
        #[arg(required = true, value_name = "ADDRESS")]
        addresses: Vec<String>,
        /// Also remove the records naming them (under an OU, attachments of an SCP or
        /// to a target, a portfolio's shares, a VPC's network resources); without it,
        /// such a removal is refused, naming them.
        #[arg(long)]
        recursive: bool,
        /// Print what would be removed; write nothing (and take no lock).
        #[arg(long)]
        dry_run: bool,
        /// Wait this long for another run holding the lock.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "0s")]
        lock_timeout: std::time::Duration,
    },
    /// Re-address a record, as a `[[moved]]` block would (an OU carries everything
    /// under or naming it), under the lock, after a backup. Nothing live is touched.
    Mv {
        /// The address recorded now.
        from: String,
        /// Its new address: same kind, not in the state.
        to: String,
        /// Print what would be moved; write nothing (and take no lock).
        #[arg(long)]
        dry_run: bool,
        /// Wait this long for another run holding the lock.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "0s")]
        lock_timeout: std::time::Duration,
    },
    /// Copy the state to another location (a file path or `s3://BUCKET/KEY`), which
    /// must hold no state yet; then set `[state]` (or `--state`) to it.
    Migrate {
        #[arg(long, value_name = "PATH|s3://BUCKET/KEY")]
        to: String,
        /// Wait this long for another run holding the lock.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "0s")]
        lock_timeout: std::time::Duration,
    },
    /// Create an S3 bucket for state as it should be: versioning, default encryption,
    /// public access blocked, TLS-only policy (an existing bucket of yours is brought
    /// to that configuration). `--region` is the bucket's region.
    Bootstrap {
        #[arg(long)]
        bucket: String,
        /// Default encryption with this KMS key (SSE-KMS) instead of SSE-S3.
        #[arg(long)]
        kms_key_id: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Print the sim world as a tree.
    Show,
    /// Detach a policy from a target (`root`, `ou:Path`, `account:name`).
    DetachPolicy { policy: String, target: String },
    /// Attach a policy to a target.
    AttachPolicy { policy: String, target: String },
    /// Move an account (`account:name`) to a target (`root` or `ou:Path`).
    MoveAccount { account: String, to: String },
    /// Create an OU at a path (`ou:Path`; its parent must exist).
    CreateOu { path: String },
    /// Create an account through Organizations `CreateAccount` and move it to `--parent`
    /// (`root` or `ou:Path`), as another tool would; prints its id.
    CreateAccount {
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "root")]
        parent: String,
    },
    /// Close an account (`account:name`): AWS keeps it SUSPENDED for 90 days.
    CloseAccount { account: String },
    /// Create a customer-managed SCP from a JSON file (attached nowhere); prints its id.
    CreatePolicy {
        name: String,
        #[arg(long)]
        file: std::path::PathBuf,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Rename an OU (`ou:Path`).
    RenameOu { path: String, new_name: String },
    /// Delete an empty OU (`ou:Path`).
    DeleteOu { path: String },
    /// Replace a policy's content with a JSON file's.
    UpdatePolicy {
        policy: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Set a tag on an OU (`ou:Path`), account (`account:name`) or policy (`scp:name`).
    Tag {
        resource: String,
        key: String,
        value: String,
    },
    /// Delete a managed VPC endpoint (by address, e.g. `endpoint.NET.sagemaker.api`).
    DeleteEndpoint { address: String },
    /// Replace a managed VPC endpoint's policy with a JSON file's.
    SetEndpointPolicy {
        address: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Turn a managed KMS key's rotation on or off (`kms_key.NAME`).
    SetKeyRotation {
        address: String,
        #[arg(value_parser = ["on", "off"])]
        rotation: String,
    },
    /// Create an unmanaged interface endpoint in a managed VPC (`vpc.NET`), e.g. `kms`.
    CreateEndpoint { vpc: String, service: String },
    /// Create an untagged VPC in a member account (`account:name` or name) and region;
    /// prints its id.
    CreateVpc {
        account: String,
        region: String,
        cidr: String,
    },
    /// Create an untagged KMS key (AWS's default key policy, no alias) in a member
    /// account and region; prints its key id.
    CreateKey {
        account: String,
        region: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Disable a Control Tower control on an OU at once (short id, e.g.
    /// `AWS-GR_RESTRICT_ROOT_USER`, and OU path).
    DisableControl { control: String, ou: String },
    /// Mark a control on an OU as drifted (as if its resources were changed outside
    /// Control Tower).
    DriftControl { control: String, ou: String },
    /// Deregister an OU from Control Tower at once (OU path), as a console user would.
    DeregisterOu { ou: String },
    /// Mark an OU's registration as drifted (as if its resources were changed outside
    /// Control Tower).
    DriftRegistration { ou: String },
    /// Delete a portfolio share. PORTFOLIO: `port-...` id, the `[portfolio.NAME]` key
    /// (from the state file) or the display name; TARGET: `organization`, `ou:Path` or
    /// `account:name`.
    DeletePortfolioShare { portfolio: String, target: String },
    /// Delete a portfolio together with its shares (PORTFOLIO as for
    /// `delete-portfolio-share`).
    DeletePortfolio { portfolio: String },
    /// Set where the Control Tower landing zone stands: `active` (a new world's),
    /// `drifted`, `failed`, or `none` (Control Tower not set up).
    LandingZone { status: LandingZoneArg },
    /// Turn Service Catalog's AWS Organizations access on or off.
    OrganizationsAccess {
        #[arg(value_parser = ["enabled", "disabled"])]
        access: String,
    },
    /// Add a user to the Identity Store (users come from your directory, never from
    /// Landfall); prints its id.
    AddUser { user_name: String },
    /// Remove an account assignment at once: permission set name, principal
    /// (`group:NAME` or `user:NAME`) and account (`account:name` or name).
    DeleteAssignment {
        permission_set: String,
        principal: String,
        account: String,
    },
    /// Replace a permission set's inline policy with a JSON file's (without provisioning
    /// it, as the API does), or remove it with `--remove`.
    SetInlinePolicy {
        permission_set: String,
        #[arg(long, required_unless_present = "remove")]
        file: Option<PathBuf>,
        #[arg(long)]
        remove: bool,
    },
    /// Make a customer-managed IAM policy (`NAME` or `/path/NAME`) exist in an account,
    /// so permission sets naming it provision there.
    AddCustomerPolicy { account: String, policy: String },
    /// `StopLogging` on a trail (its name or ARN), as a console user turning the
    /// organization trail off.
    StopLogging { trail: String },
    /// Delete a trail (its name or ARN) at once.
    DeleteTrail { trail: String },
    /// Replace a bucket's policy with a JSON file's, or delete it with `--delete`.
    PutBucketPolicy {
        bucket: String,
        #[arg(long, required_unless_present = "delete")]
        file: Option<PathBuf>,
        #[arg(long)]
        delete: bool,
    },
    /// Disable a policy type on the root (`rcp`, `tag_policy`, `ai_opt_out_policy`):
    /// AWS detaches every policy of the type.
    DisablePolicyType {
        #[arg(value_parser = ["rcp", "tag_policy", "ai_opt_out_policy"])]
        policy_type: String,
    },
    /// Detach a resource control, tag or AI opt-out policy (by name or id) from a
    /// target (`root`, `ou.PATH`, `account.NAME`).
    DetachOrgPolicy {
        #[arg(value_parser = ["rcp", "tag_policy", "ai_opt_out_policy"])]
        policy_type: String,
        policy: String,
        target: String,
    },
    /// Replace the document of a resource control, tag or AI opt-out policy (by name
    /// or id) with a JSON file's, as a console user editing it.
    EditOrgPolicy {
        #[arg(value_parser = ["rcp", "tag_policy", "ai_opt_out_policy"])]
        policy_type: String,
        policy: String,
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandingZoneArg {
    Active,
    Drifted,
    Failed,
    None,
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Generate landing zones of several sizes, converge them on a zero-latency sim and
    /// time `landfall plan` on each (wall time and peak memory of the plan process).
    Plan {
        /// Account counts to measure (OUs, SCPs and attachments scale with them:
        /// 1,000 accounts → 100 OUs, 50 SCPs, 2,000 attachments).
        #[arg(long, value_delimiter = ',', default_value = "100,1000,5000")]
        accounts: Vec<usize>,
        /// Plan runs per size (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Keep the generated landing zones in this directory.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Time SCP evaluation: requests against a generated landing zone's hierarchy.
    Explain {
        #[arg(long, default_value_t = 1000)]
        accounts: usize,
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Time `landfall drift` on converged generated landing zones (zero-latency sim).
    Drift {
        #[arg(long, value_delimiter = ',', default_value = "1000")]
        accounts: Vec<usize>,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Apply landing zones from a fresh world on the sim's AWS model (virtual time) and
    /// print the makespan next to its lower bound, calls, retries and throttling.
    Apply(ModelBenchArgs),
    /// Converge landing zones on the sim's AWS model, then time one full organization
    /// refresh (virtual time) against its lower bound.
    Refresh(ModelBenchArgs),
}

/// `landfall bench apply` and `bench refresh`.
#[derive(Args, Debug)]
pub struct ModelBenchArgs {
    /// Zones to run: `example` (the `--example` landing zone) or an account count
    /// (a generated zone). Default: `example,100,1000` for apply, `1000` for refresh.
    #[arg(long, value_delimiter = ',')]
    pub zones: Vec<String>,
    /// Fraction of calls (0–1) the sim also throttles on top of its model.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Seed of the model's latencies and durations and of the injected throttling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Changes run concurrently (as `landfall apply --parallelism`).
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// The landing zone `example` names.
    #[arg(long, default_value = "examples/ml-platform.toml")]
    pub example: PathBuf,
}
