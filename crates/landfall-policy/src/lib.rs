//! IAM policy documents as AWS Organizations uses them for service control
//! policies (SCPs): parsing, linting with located findings, and evaluation of a
//! request over an organization's hierarchy (root → OUs → account).
//!
//! The crate is pure: no AWS SDK, no I/O.
//!
//! - [`parse`](fn@parse) turns a document into a [`Policy`] whose patterns are compiled once
//!   (no per-request compilation).
//! - [`lint`](fn@lint) reports every [`Finding`], each with a JSON pointer and byte range.
//! - [`evaluate`] decides a [`Request`] over a list of [`Level`]s, returning the
//!   [`Decision`] and its proof (the deciding statement, or the level without an
//!   Allow). SCPs do not apply to the management account: callers answer
//!   [`evaluate_for_management_account`] (always Allow) for it.
//!
//! # Semantics
//!
//! Actions match case-insensitively, resources case-sensitively; `*` matches any
//! sequence and `?` one character. Condition semantics are described in the
//! `condition` module: AND across operators and keys, OR across a key's values
//! (NOR for negated operators), absent keys false for positive operators and true
//! for negated ones, `...IfExists` true when absent, `Null`, `ForAnyValue:` /
//! `ForAllValues:`. Policy variables (`${aws:PrincipalTag/team}`, `${key, 'default'}`,
//! `${*}`, `${?}`, `${$}`) are substituted in resources and string/ARN condition
//! values of `Version: 2012-10-17` documents; a variable whose key is absent makes
//! that value not match.
//!
//! # Finding codes
//!
//! Errors: `json-syntax`, `not-an-object`, `unknown-element`, `duplicate-key`,
//! `invalid-version`, `missing-statement`, `invalid-statement`, `empty-list`,
//! `invalid-element`, `invalid-sid`, `duplicate-sid`, `missing-effect`,
//! `invalid-effect`, `missing-action`, `action-and-not-action`, `invalid-action`,
//! `resource-and-not-resource`, `invalid-resource`, `principal-not-allowed`,
//! `invalid-condition`, `unknown-operator`, `invalid-condition-value`, `too-large`.
//! Warnings: `missing-version`, `condition-key-format`, `never-matches`,
//! `invalid-condition-value` (an ARN pattern that is not six parts).

// Library code reports through return values and `tracing`; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod condition;
mod eval;
pub mod json;
mod lint;
mod parse;
mod policy;
mod wildcard;

pub use condition::{BaseOperator, Condition, Operator, SetQualifier};
pub use eval::{Decision, Level, Request, evaluate, evaluate_for_management_account};
pub use lint::{Finding, Severity};
pub use parse::{lint, parse};
pub use policy::{ActionSet, Effect, Policy, ResourceSet, Statement, full_aws_access};
pub use wildcard::{Pattern, wildcard_match};
