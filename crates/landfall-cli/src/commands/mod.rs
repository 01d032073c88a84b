//! One module per command family. Each returns the process exit code.

pub mod bench;
pub mod bench_model;
pub mod drift;
pub mod guard;
pub mod import;
pub mod inspect;
pub mod plan;
pub mod project;
pub mod show;
pub mod sim;
pub mod state;

use std::process::ExitCode;

pub const SUCCESS: u8 = 0;
/// Success with changes pending, or drift found.
pub const CHANGES: u8 = 2;

pub fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}
