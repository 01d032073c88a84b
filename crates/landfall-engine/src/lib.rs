//! Landfall's engine: the [`Provider`](provider::Provider) trait backends implement
//! (reads, and one [`Call`](call::Call) at a time), the executor that runs a plan against one (concurrency, pacing, retries, polling), and
//! the state file on disk (atomic writes, the lock). Planning itself is
//! `landfall-core`, which does no I/O.

// Library code reports through return values and `tracing`; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod apply;
pub mod call;
pub mod pacing;
pub mod provider;
pub mod refresh;
pub mod state_backend;
pub mod state_store;
pub mod typed_calls;

pub use call::Call;
pub use provider::{ErrorKind, Provider, ProviderError, ProviderResult};
pub use typed_calls::TypedCalls;
