//! Landfall's pure planning core: resource addresses, the desired and live models, the
//! state file as data, the planner (diff + petgraph ordering), drift detection and SCP
//! permission checks. No I/O: the manifest has no async runtime, no rate limiter, no
//! file-system helpers; the engine (`landfall-engine`) reads and writes the world.

// Library code reports through return values and `tracing`; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod address;
pub mod attrs;
pub mod diff;
pub mod drift;
pub mod drift_report;
pub mod family;
pub mod governance;
pub mod graph;
pub mod identity;
pub mod import;
pub mod kind;
pub mod live;
pub mod member;
pub mod model;
pub mod organization;
pub mod permissions;
pub mod plan;
mod planner;
pub mod policy_type;
pub mod security;
pub mod state;
pub mod state_edit;
pub mod tag_policies;
pub mod target;

pub use address::{Address, Attachment, FULL_AWS_ACCESS, OuPath, Target};
pub use live::{LiveIndex, LiveState, WorldIdentity};
pub use model::{DesiredState, Tags};
pub use policy_type::{OrgPolicyType, PolicyType};
