//! End-to-end tests of the `landfall` binary on the sim backend: the example landing
//! zone planned, applied, edited, drifted, throttled and interrupted. The `*_on_moto`
//! tests run the same scenarios on moto's server (LANDFALL_TEST_MOTO_URL, set by
//! `scripts/test`, which starts it).
//!
//! One test binary. `support` is the shared harness (the `Lz` working copy, moto's
//! server, out-of-band changes, the backends' own views); each other module is an area:
//! `plan_apply`, `lifecycle` (removals, replacements), `resilience` (faults, interrupts,
//! locks), `validate`, `conformance` (sim and moto), `members` (networks, keys), `drift`,
//! `projects`, `full_aws_access` (`full_aws_access = false` on what the apply creates,
//! interrupted anywhere and resumed), `governance` (Control Tower, Account Factory,
//! Service Catalog), `guard`
//! (explain, expectations, lockout), `import_command` (`landfall import`), `imports`
//! (`[[import]]` blocks), `formats` (snapshots of the output formats, in `snapshots/`),
//! `show_target` (`show` of a saved plan, `--target`), `state_s3` (shared state in S3),
//! `state_edit` (`state rm`, `state mv`), `usage` (exit codes of usage errors, paths
//! relative to the configuration), `bench` (`bench apply` on the sim's AWS model),
//! `pacing` (issue #15's moto landing zone, `fixtures/seeds-10-accounts`, with the
//! default pacing: call counts), `closed_stdout` (output into a pipe whose reader
//! has gone) and `security` (the organization trail, delegated security services, tag
//! policies, RCPs and AI opt-out).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

mod bench;
mod ci_examples;
mod closed_stdout;
mod conformance;
mod drift;
mod formats;
mod full_aws_access;
mod governance;
mod guard;
mod identity;
mod import_command;
mod imports;
mod lifecycle;
mod members;
mod pacing;
mod plan_apply;
mod projects;
mod resilience;
mod security;
mod show_target;
mod state_edit;
mod state_s3;
mod usage;
mod validate;
