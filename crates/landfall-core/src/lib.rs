//! Landfall's pure core: resources and addresses, the desired and live models, the
//! planner (diff + petgraph ordering), the state file, the executor and the
//! [`Provider`](provider::Provider) trait that backends implement. The planner never
//! does I/O; only the executor and the state store touch the outside world.

pub mod address;
pub mod apply;
pub mod attrs;
pub mod diff;
pub mod drift;
pub mod governance;
pub mod graph;
pub mod live;
pub mod member;
pub mod model;
pub mod permissions;
pub mod plan;
pub mod provider;
pub mod state;

pub use address::{Address, Attachment, FULL_AWS_ACCESS, OuPath, Target};
pub use live::{LiveIndex, LiveState, WorldIdentity};
pub use model::{DesiredState, Tags};
pub use provider::{ErrorKind, Provider, ProviderError, ProviderResult};
