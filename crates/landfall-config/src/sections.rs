//! The top-level sections of a Landfall file, in one table. From it come the schema
//! type [`RawFile`], the list of section names for "did you mean", the per-file
//! declarations [`ParsedFile`] and the dispatch that reads each section: a new section
//! is one entry here plus its raw type and its checks.
//!
//! A section is read in one of three shapes:
//! - `single`: `[landing_zone]`, once per file (`Option<Decl<T>>`);
//! - `keyed`: `[account.NAME]`, one declaration per key (`Vec<Decl<T>>`);
//! - `array`: `[[expect]]`, in file order (`Vec<Decl<T>>`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_spanned::Spanned;
use toml::de::DeValue;

use crate::diagnostics::Sink;
use crate::parse::{Decl, TableReader};
use crate::raw::{
    RawAccount, RawAssignment, RawBlueprint, RawControl, RawControlTower, RawDrift, RawExpect,
    RawGroup, RawGuardrails, RawIdentityCenter, RawImport, RawKmsKey, RawLandingZone, RawLogging,
    RawMoved, RawNetwork, RawOrgPolicy, RawOu, RawPermissionSet, RawPortfolio, RawProject, RawScp,
    RawSecurityServices, RawSim, RawState,
};
use crate::sources::{Loc, SourceId};

macro_rules! sections {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $shape:ident $raw:ident => $field:ident, $form:literal;
    )*) => {
        // Loading does not deserialize `RawFile` in one go: each table is deserialized
        // on its own (see `parse.rs`) so one bad table does not hide problems in the
        // others. The type exists to define the schema.

        sections!(@raw_file [] $($(#[doc = $doc])* $name: $shape $raw;)*);

        /// The top-level sections a file may contain (for "did you mean" on unknown ones).
        pub(crate) const SECTIONS: &[&str] = &[$(stringify!($name)),*];

        /// Everything one file declares.
        #[derive(Debug)]
        pub(crate) struct ParsedFile {
            pub source: SourceId,
            /// The file has TOML syntax errors: its declarations are known by name only.
            pub broken: bool,
            $(
                $(#[doc = $doc])*
                pub $field: sections!(@decl $shape $raw),
            )*
        }

        impl ParsedFile {
            /// A file that declares nothing.
            pub(crate) fn empty(source: SourceId) -> Self {
                ParsedFile {
                    source,
                    broken: false,
                    $($field: Default::default(),)*
                }
            }

            /// Reads the section `name` into this file; `false` when no section has
            /// that name.
            pub(crate) fn read_section(
                &mut self,
                reader: &TableReader,
                name: String,
                key: Loc,
                value: Spanned<DeValue<'_>>,
                sink: &mut Sink,
            ) -> bool {
                match name.as_str() {
                    $(stringify!($name) => {
                        self.$field = sections!(@read $shape reader, name, key, value, $form, sink);
                    })*
                    _ => return false,
                }
                true
            }
        }
    };
    // `RawFile`, one field at a time: a keyed or array section may be absent (serde's
    // default), which is also what the schema says.
    (@raw_file [$($fields:tt)*]) => {
        /// One Landfall TOML file. A directory of files is merged: every section may
        /// appear in any file, but `[landing_zone]` and `[sim]` only once across all of
        /// them.
        #[derive(Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        #[schemars(title = "Landfall desired-state file")]
        #[expect(dead_code, reason = "Read through the schema, not through its fields")]
        pub(crate) struct RawFile {
            $($fields)*
        }
    };
    (@raw_file [$($fields:tt)*] $(#[doc = $doc:literal])* $name:ident: single $raw:ident; $($rest:tt)*) => {
        sections!(@raw_file [$($fields)* $(#[doc = $doc])* $name: Option<$raw>,] $($rest)*);
    };
    (@raw_file [$($fields:tt)*] $(#[doc = $doc:literal])* $name:ident: keyed $raw:ident; $($rest:tt)*) => {
        sections!(@raw_file [$($fields)* $(#[doc = $doc])* #[serde(default)] $name: BTreeMap<String, $raw>,] $($rest)*);
    };
    (@raw_file [$($fields:tt)*] $(#[doc = $doc:literal])* $name:ident: array $raw:ident; $($rest:tt)*) => {
        sections!(@raw_file [$($fields)* $(#[doc = $doc])* #[serde(default)] $name: Vec<$raw>,] $($rest)*);
    };
    (@decl single $raw:ident) => { Option<Decl<$raw>> };
    (@decl keyed $raw:ident) => { Vec<Decl<$raw>> };
    (@decl array $raw:ident) => { Vec<Decl<$raw>> };
    (@read single $reader:ident, $name:ident, $key:ident, $value:ident, $form:literal, $sink:ident) => {
        Some($reader.decl($name, $key, $value, $form, $sink))
    };
    (@read keyed $reader:ident, $name:ident, $key:ident, $value:ident, $form:literal, $sink:ident) => {
        $reader.keyed(&$name, $value, $form, $sink)
    };
    (@read array $reader:ident, $name:ident, $key:ident, $value:ident, $form:literal, $sink:ident) => {
        $reader.array(&$name, $value, $form, $sink)
    };
}

sections! {
    /// The landing zone itself: exactly once across all files.
    landing_zone: single RawLandingZone => landing_zone, "[landing_zone]";
    /// Settings of the simulated backend: at most once.
    sim: single RawSim => sim, "[sim]";
    /// Where the state lives (a local file, or S3): at most once.
    state: single RawState => state, "[state]";
    /// Settings of `landfall drift` (may appear in several files; lists are merged).
    drift: single RawDrift => drift, "[drift]";
    /// Organizational units, keyed by their path below the root
    /// (`[ou."Workloads/Workloads_Dev"]`).
    ou: keyed RawOu => ous, "[ou.\"PATH\"]";
    /// Member accounts, keyed by account name.
    account: keyed RawAccount => accounts, "[account.NAME]";
    /// Service control policies, keyed by policy name.
    scp: keyed RawScp => scps, "[scp.NAME]";
    /// Resource control policies, keyed by policy name.
    rcp: keyed RawOrgPolicy => rcps, "[rcp.NAME]";
    /// Tag policies, keyed by policy name.
    tag_policy: keyed RawOrgPolicy => tag_policies, "[tag_policy.NAME]";
    /// AI services opt-out policies, keyed by policy name.
    ai_opt_out_policy: keyed RawOrgPolicy => ai_opt_out_policies, "[ai_opt_out_policy.NAME]";
    /// The organization trail into the log archive account: at most once.
    logging: single RawLogging => logging, "[logging]";
    /// GuardDuty, Security Hub, AWS Config and IAM Access Analyzer delegated to one
    /// account: at most once.
    security_services: single RawSecurityServices => security_services, "[security_services]";
    /// VPCs in member accounts, with subnets and VPC endpoints, keyed by network name.
    network: keyed RawNetwork => networks, "[network.NAME]";
    /// Customer-managed KMS keys in member accounts, keyed by key name.
    kms_key: keyed RawKmsKey => kms_keys, "[kms_key.NAME]";
    /// How ML projects expand (stages, OUs, CIDR pool): at most once.
    blueprint: single RawBlueprint => blueprint, "[blueprint]";
    /// ML projects, keyed by project name: each expands into an account (and a
    /// network and a KMS key) per stage.
    project: keyed RawProject => projects, "[project.NAME]";
    /// The organization has an AWS Control Tower landing zone: at most once.
    control_tower: single RawControlTower => control_tower, "[control_tower]";
    /// Control Tower controls, keyed by short identifier (`AWS-GR_RESTRICT_ROOT_USER`)
    /// or full control ARN.
    control: keyed RawControl => controls, "[control.\"ID\"]";
    /// Guardrail presets, keyed by the name of a preset Landfall ships
    /// (`ml-baseline`).
    guardrails: keyed RawGuardrails => guardrails, "[guardrails.PRESET]";
    /// Service Catalog portfolios in the management account, keyed by name.
    portfolio: keyed RawPortfolio => portfolios, "[portfolio.NAME]";
    /// The organization's IAM Identity Center instance: at most once.
    identity_center: single RawIdentityCenter => identity_center, "[identity_center]";
    /// IAM Identity Center permission sets, keyed by their name in AWS.
    permission_set: keyed RawPermissionSet => permission_sets, "[permission_set.NAME]";
    /// Identity Store groups Landfall creates, keyed by display name.
    group: keyed RawGroup => groups, "[group.NAME]";
    /// Account assignments: a permission set given to a group or a user in accounts
    /// and OUs (`[[assignment]]`, any number, in any file).
    assignment: array RawAssignment => assignments, "[[assignment]]";
    /// Expectations: requests the SCPs must allow or deny, or tags the tag policies
    /// must accept or report (`[[expect]]`, any number, in any file; kept in file
    /// order).
    expect: array RawExpect => expectations, "[[expect]]";
    /// Resources re-addressed in the file (`[[moved]]`, any number, in file order).
    moved: array RawMoved => moved, "[[moved]]";
    /// Existing resources adopted by id (`[[import]]`, any number, in file order).
    import: array RawImport => imports, "[[import]]";
}
