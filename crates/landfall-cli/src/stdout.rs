//! Writing to stdout without panicking when its reader went away.
//!
//! `println!` panics ("failed printing to stdout: Broken pipe") when stdout is a pipe
//! whose reader has exited (`landfall sim show | head`): Rust ignores SIGPIPE, so the
//! write fails with `BrokenPipe` instead of ending the process. Every write to stdout
//! goes through this module instead.
//!
//! The choice for a closed stdout: the reader has all it wanted, so the rest of the
//! output is dropped quietly (nothing on stderr) and the command ends as it would have,
//! with its own exit code — 0, or 2 for `plan --detailed-exitcode` with changes and
//! `drift` with drift — rather than 141 (128 + SIGPIPE, what a shell reports for a C
//! tool killed by the signal): the exit codes stay the documented 0/1/2, and a pipeline
//! like `landfall drift | head` still says whether there was drift. Commands that are
//! about to change something (`apply`, `apply --refresh-only`) use [`show_before_change`]
//! instead: when what they would change cannot be shown, they change nothing and fail;
//! commands that print as they go (`bench`) use [`still_read`] and stop early.
//! Any other write error (a full disk behind `> plan.json`) is an error, exit 1.

use std::io::{ErrorKind, Write};

use crate::error::{CliError, CliResult};

/// Writes `text` to stdout (and flushes it). A closed stdout is not an error: see the
/// module documentation.
pub fn print(text: &str) -> CliResult<()> {
    still_read(text).map(|_| ())
}

/// [`print`] followed by a newline.
pub fn println(text: &str) -> CliResult<()> {
    print(&format!("{text}\n"))
}

/// [`print`] for a command that prints as it goes (`bench`): `false` once the reader
/// has gone, so the command stops working for nobody.
pub fn still_read(text: &str) -> CliResult<bool> {
    match write(text) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(failed(e)),
    }
}

/// Writes what a command is about to change: when stdout is closed, nobody saw it, so
/// the command stops before changing anything.
pub fn show_before_change(text: &str) -> CliResult<()> {
    match write(text) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(CliError::with_hint(
            "stdout was closed before the changes could be shown; nothing was changed",
            "read the whole output (e.g. `| less`), or save a plan with `landfall plan --out FILE` and apply it",
        )),
        other => other.map_err(failed),
    }
}

fn write(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn failed(e: std::io::Error) -> CliError {
    CliError::new(format!("cannot write to stdout: {e}"))
}
