//! IAM policy documents as AWS uses them for service control policies (SCPs),
//! resource control policies (RCPs) and identity-based policies: parsing with each
//! kind's grammar, linting with located findings, and evaluation of a request —
//! over an organization's hierarchy of SCPs (root → OUs → account), or for a
//! principal across the layers of policies AWS applies to it (the RCPs of the
//! resource's account, SCPs, identity-based policies, permissions boundary).
//!
//! The crate is pure: no AWS SDK, no I/O.
//!
//! - [`parse`](fn@parse) / [`parse_as`] turn a document into a [`Policy`] whose
//!   patterns are compiled once (no per-request compilation); [`PolicyKind`] picks
//!   the grammar (SCP, RCP or identity-based policy; `parse` is the SCP grammar).
//!   [`full_aws_access`] and [`rcp_full_aws_access`] are the AWS-managed
//!   `FullAWSAccess` SCP and `RCPFullAWSAccess` RCP; [`RCP_SERVICES`] the services
//!   RCPs apply to, [`RCP_MAX_CHARS`] their size quota.
//! - [`lint`](fn@lint) / [`lint_as`] report every [`Finding`], each with a JSON
//!   pointer and byte range.
//! - [`evaluate`] decides a [`Request`] over a list of [`Level`]s, returning the
//!   [`Decision`] and its proof (the deciding statement, or the level without an
//!   Allow). SCPs do not apply to the management account: callers answer
//!   [`evaluate_for_management_account`] (always Allow) for it.
//! - [`evaluate_principal`] decides a [`Request`] for a principal (an IAM Identity
//!   Center permission set's session, a role, a user) over its [`Layers`], returning
//!   a [`PrincipalDecision`] that names the deciding [`Layer`] and statement.
//!   Layer order (explicit denials first, then missing allows, each in this
//!   order): `rcp` (the resource's account, only for [`RCP_SERVICES`] actions,
//!   `None` for the management account), `scp`, `identity`, `boundary`.
//! - [`tag_policy`]: Organizations tag policies — [`parse_tag_policy`] /
//!   [`lint_tag_policy`] (located findings), [`effective_tag_policy`] over
//!   [`TagLevel`]s (the `DescribeEffectivePolicy` result, each value with its source)
//!   and [`EffectiveTagPolicy::check`] (a resource's tags: compliant, enforced).
//! - [`ai_opt_out`]: Organizations AI services opt-out policies —
//!   [`lint_ai_opt_out_policy`] (the grammar, located findings, the 2,500-character
//!   quota) over the service names of [`AI_SERVICES`].

//! # Semantics
//!
//! Actions match case-insensitively, resources case-sensitively; `*` matches any
//! sequence and `?` one character. Condition semantics are described in the
//! `condition` module: AND across operators and keys, OR across a key's values
//! (NOR for negated operators), absent keys false for positive operators and true
//! for negated ones, `...IfExists` true when absent, `Null`, `ForAnyValue:` /
//! `ForAllValues:`. Policy variables (`${aws:PrincipalTag/team}`, `${key, 'default'}`,
//! `${*}`, `${?}`, `${$}`) are substituted in resources and string/ARN condition
//! values of `Version: 2012-10-17` documents; a variable whose key is absent (or
//! holds several values) makes that value not match: a resource or a positive
//! operator's value with it matches nothing, and a negated operator
//! (`StringNotEquals`) holds, as IAM documents for policy variables with no value.
//!
//! # Finding codes
//!
//! Errors: `json-syntax`, `not-an-object`, `unknown-element`, `duplicate-key`,
//! `invalid-version`, `missing-statement`, `invalid-statement`, `empty-list`,
//! `invalid-element`, `invalid-sid` (not a string; for identity-based policies also
//! a character other than an ASCII letter or digit), `duplicate-sid`,
//! `missing-effect`, `invalid-effect`, `missing-action`, `action-and-not-action`,
//! `invalid-action`, `missing-resource` (identity-based policies only: neither
//! `Resource` nor `NotResource`), `resource-and-not-resource`, `invalid-resource`,
//! `principal-not-allowed`, `invalid-condition`, `unknown-operator`,
//! `invalid-condition-value`, `too-large`; RCPs only: `rcp-allow` (an `Allow`
//! statement: only the AWS-managed RCPFullAWSAccess allows), `invalid-principal`
//! (a `Principal` other than `"*"`), `unsupported-service` (an `Action` of a
//! service RCPs do not apply to; the message lists those they do).
//! Warnings: `missing-version`, `condition-key-format`, `never-matches`,
//! `invalid-condition-value` (an ARN pattern that is not six parts),
//! `literal-variable` (identity-based policies only: a `${...}` in a document that
//! is not `Version: 2012-10-17`, which IAM reads as literal text).
//!
//! The SCP, RCP and identity grammars differ only where the `parse` module says;
//! every other code means the same in all.

// Library code reports through return values and `tracing`; only the binary prints.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod ai_opt_out;
mod condition;
mod eval;
pub mod json;
mod lint;
mod parse;
mod policy;
mod principal;
pub mod tag_policy;
mod wildcard;

pub use ai_opt_out::{AI_OPT_OUT_MAX_CHARS, AI_SERVICES, lint_ai_opt_out_policy};
pub use condition::{BaseOperator, Condition, Operator, SetQualifier};
pub use eval::{Decision, Level, Request, evaluate, evaluate_for_management_account};
pub use lint::{Finding, Severity};
pub use parse::{lint, lint_as, parse, parse_as};
pub use policy::{
    ActionSet, Effect, Policy, PolicyKind, RCP_MAX_CHARS, RCP_SERVICES, ResourceSet, Statement,
    full_aws_access, rcp_applies, rcp_full_aws_access,
};
pub use principal::{Layer, Layers, PrincipalDecision, StatementRef, evaluate_principal};
pub use tag_policy::{
    AllowedOperators, Compliance, EffectiveTag, EffectiveTagPolicy, Ignored, KeySetting,
    ListSetting, SettingName, Sourced, TAG_POLICY_MAX_CHARS, TagLevel, TagOperator, TagPolicy,
    TagRule, Violation, ViolationReason, effective_tag_policy, lint_tag_policy, parse_tag_policy,
};
pub use wildcard::{Pattern, wildcard_match};
