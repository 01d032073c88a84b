//! SCP guardrails before anything is applied: `landfall explain`, the `[[expect]]`
//! expectations (checked by validate, plan and apply), lockout protection and the blast
//! radius of a plan's SCP changes.

use std::collections::BTreeMap;
use std::fmt::Write;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use landfall_core::live::LiveState;
use landfall_core::model::{ExpectScope, ExpectedDecision, PermissionsBoundary};
use landfall_core::permissions::{self, Hierarchy, SessionPolicies};
use landfall_core::plan::{Action, PermissionChange, PermissionFlip, Plan};
use landfall_core::{Address, LiveIndex, Target};
use landfall_engine::provider::Provider;
use landfall_policy::PrincipalDecision;
use landfall_policy::{Decision, Request};

use crate::cli::{ExplainArgs, GlobalArgs};
use crate::context::{self, Workspace};
use crate::error::{CliError, CliResult};
use crate::session::{Reads, Session};
use crate::stdout;

use super::SUCCESS;

/// The SCP hierarchies a plan compares, each built once: what is live and what the
/// desired state declares.
pub struct Scps {
    pub live: Hierarchy,
    pub desired: Hierarchy,
}

impl Scps {
    pub fn new(ws: &Workspace, live: &LiveState) -> Self {
        Scps {
            live: Hierarchy::from_live(live, &ws.desired),
            desired: Hierarchy::from_desired(&ws.desired),
        }
    }
}

/// Where AWS-managed policy documents read live are cached: beside the state file, so a
/// later offline run (validate, `explain`) can evaluate permission sets that use them.
fn documents_cache(ws: &Workspace) -> PathBuf {
    ws.state_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
        .join(".landfall-cache")
        .join("aws-managed-policies")
}

/// The cache file of a policy ARN (`arn:aws:iam::aws:policy/job-function/X` →
/// `job-function__X.json`).
fn cache_file(dir: &Path, arn: &str) -> PathBuf {
    let name = arn.rsplit_once(":policy/").map_or(arn, |(_, n)| n);
    dir.join(format!("{}.json", name.replace('/', "__")))
}

/// The AWS-managed policy documents `arns` names that are available offline: shipped
/// with Landfall, else cached by an earlier live read. A document found nowhere is
/// absent: the evaluation then says it is not available.
pub fn offline_documents(ws: &Workspace, arns: &BTreeSet<String>) -> BTreeMap<String, String> {
    let dir = documents_cache(ws);
    let mut out = BTreeMap::new();
    for arn in arns {
        if let Some(doc) = landfall_config::managed_documents::shipped_document(arn) {
            out.insert(arn.clone(), doc.to_string());
        } else if let Ok(doc) = std::fs::read_to_string(cache_file(&dir, arn)) {
            out.insert(arn.clone(), doc);
        }
    }
    out
}

/// The AWS-managed policy documents `arns` names, read live (IAM `GetPolicy` and
/// `GetPolicyVersion`) and cached; where the backend has no IAM (the sim) or cannot
/// read one, the offline copy.
pub async fn live_documents(
    ws: &Workspace,
    arns: &BTreeSet<String>,
    provider: &dyn Provider,
) -> BTreeMap<String, String> {
    let dir = documents_cache(ws);
    let mut out = offline_documents(ws, arns);
    // At once: each read is paced by the backend (`iam_reads`).
    let reads = futures::future::join_all(arns.iter().map(|arn| async move {
        let read = landfall_engine::apply::with_retries(provider, || {
            provider.aws_managed_policy_document(arn)
        })
        .await;
        (arn, read)
    }))
    .await;
    for (arn, read) in reads {
        match read {
            Ok(Some(doc)) => {
                // A cache that cannot be written costs a later offline run, not this one.
                if std::fs::create_dir_all(&dir).is_ok() {
                    let _ = landfall_engine::state_store::write_atomically(
                        &cache_file(&dir, arn),
                        doc.as_bytes(),
                    );
                }
                out.insert(arn.clone(), doc);
            }
            Ok(None) => {}
            Err(e) => eprintln!(
                "{} cannot read AWS-managed policy {arn} live ({e}); using {}",
                console::style("warning:").yellow(),
                if out.contains_key(arn) {
                    "the copy Landfall has"
                } else {
                    "nothing: it is not available"
                }
            ),
        }
    }
    out
}

/// The AWS-managed policies the expectations' permission sets use.
pub fn expectation_arns(ws: &Workspace) -> BTreeSet<String> {
    let names: BTreeSet<String> = ws
        .desired
        .expectations
        .iter()
        .filter_map(|e| e.permission_set.clone())
        .collect();
    managed_arns(ws, names.iter())
}

/// The AWS-managed policies the permission sets `names` use (policies and boundaries).
pub fn managed_arns<'a>(
    ws: &Workspace,
    names: impl Iterator<Item = &'a String>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for name in names {
        let Some(spec) = ws.desired.permission_sets.get(name) else {
            continue;
        };
        out.extend(spec.managed_policies.iter().cloned());
        if let Some(PermissionsBoundary::Managed(arn)) = &spec.permissions_boundary {
            out.insert(arn.clone());
        }
    }
    out
}

/// The session policies of the declared permission sets `names`, parsed once; each
/// document that does not parse is said and left out.
fn session_policies(
    ws: &Workspace,
    names: &BTreeSet<String>,
    documents: &BTreeMap<String, String>,
) -> BTreeMap<String, SessionPolicies> {
    let sessions: BTreeMap<String, SessionPolicies> = names
        .iter()
        .filter_map(|name| {
            let spec = ws.desired.permission_sets.get(name)?;
            Some((name.clone(), SessionPolicies::of(spec, documents)))
        })
        .collect();
    for (name, session) in &sessions {
        for (policy, problem) in &session.problems {
            eprintln!(
                "{} permission_set.{name}: {policy} is left out: {problem}",
                console::style("warning:").yellow()
            );
        }
    }
    sessions
}

/// How a session's decision reads: the deciding layer and statement.
pub fn describe_session(d: &PrincipalDecision) -> String {
    let statement = |by: &landfall_policy::StatementRef| {
        by.sid
            .as_ref()
            .map(|s| format!("statement {s}"))
            .unwrap_or_else(|| format!("statement #{}", by.statement))
    };
    match d {
        PrincipalDecision::Allow(by) => format!(
            "allowed by {} ({}) at the identity layer; no SCP or boundary denies it",
            by.policy,
            statement(by)
        ),
        PrincipalDecision::ExplicitDeny { layer, level, by } => format!(
            "explicitly denied by {} ({}) at the {} layer{}",
            by.policy,
            statement(by),
            layer.id(),
            level
                .as_ref()
                .map(|l| format!(", attached to {l}"))
                .unwrap_or_default(),
        ),
        PrincipalDecision::ImplicitDeny { layer, level } => format!(
            "implicitly denied at the {} layer{}: none of its {} allows it",
            layer.id(),
            level
                .as_ref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default(),
            layer.description()
        ),
    }
}

/// Checks the expectations against the desired state's SCPs (`desired`: their
/// hierarchy) and, for those on a permission set, its session's policies; every
/// failure is printed like a compiler error, and any failure is an error (exit 1).
/// `documents`: the AWS-managed policy documents by ARN ([`live_documents`] or
/// [`offline_documents`] of [`expectation_arns`]).
pub fn check_expectations(
    ws: &Workspace,
    desired_scps: &Hierarchy,
    documents: &BTreeMap<String, String>,
) -> CliResult<()> {
    let desired = &ws.desired;
    if desired.expectations.is_empty() && desired.tag_expectations.is_empty() {
        return Ok(());
    }
    let tag_failures = check_tag_expectations(desired);
    let set_names: BTreeSet<String> = desired
        .expectations
        .iter()
        .filter_map(|e| e.permission_set.clone())
        .collect();
    let sessions = session_policies(ws, &set_names, documents);
    let rcps = Hierarchy::rcps_from_desired(desired);
    let results = permissions::check_expectations(desired, desired_scps, rcps.as_ref(), &sessions);
    // A scope with no account checks nothing: said, but not a failure (an OU may be
    // emptied on purpose).
    for r in results.iter().filter(|r| r.account.is_none()) {
        if let Some(e) = desired.expectations.get(r.expectation) {
            eprintln!(
                "{} {}: expectation on {} checks nothing: the OU holds no declared account",
                console::style("warning[expect]:").yellow().bold(),
                e.origin,
                e.action
            );
        }
    }
    let failed: Vec<_> = results
        .iter()
        .filter(|r| !r.passed && r.account.is_some())
        .collect();
    for r in &failed {
        let Some(e) = desired.expectations.get(r.expectation) else {
            continue;
        };
        let want = match e.decision {
            ExpectedDecision::Allow => "allowed",
            ExpectedDecision::Deny => "denied",
        };
        let scope = match &e.scope {
            ExpectScope::Account(a) => format!("account.{a}"),
            ExpectScope::Ou(ou) => format!("ou.{ou}"),
        };
        let what = match (&r.account, &r.session, &r.decision) {
            (None, _, _) => continue,
            (Some(a), Some(s), _) if !r.unavailable.is_empty() => format!(
                "in account.{a} it cannot be decided offline: {} ({}) not available; `landfall explain --live --permission-set …` reads and caches AWS-managed documents",
                r.unavailable.join(", "),
                describe_session(s)
            ),
            (Some(a), Some(s), _) => format!("in account.{a} it is {}", describe_session(s)),
            (Some(a), None, Some(d)) => {
                format!("in account.{a} it is {}", permissions::describe(d))
            }
            (Some(a), None, None) => format!("account.{a} is not in the hierarchy"),
        };
        let who = e
            .permission_set
            .as_ref()
            .map(|p| format!(" for a session of permission_set.{p}"))
            .unwrap_or_default();
        eprintln!(
            "{} {}: expected {} to be {want}{who} in {scope}, but {what}",
            console::style("error[expect]:").red().bold(),
            e.origin,
            e.action,
        );
        if let Some(d) = &e.description {
            eprintln!("  {} {d}", console::style("note:").cyan());
        }
    }
    if failed.is_empty() && tag_failures == 0 {
        eprintln!(
            "{} expectation(s) hold ({} account checks).",
            desired.expectations.len() + desired.tag_expectations.len(),
            results.len()
        );
        return Ok(());
    }
    Err(CliError::with_hint(
        format!(
            "{} of {} expectation check(s) failed",
            failed.len() + tag_failures,
            results.len()
        ),
        "fix the SCPs or their attachments (or the expectation); `landfall explain --account A --action X` shows the deciding statement",
    ))
}

/// Checks `[[expect]]` on tags against the declared tag policies; prints each failure
/// like a compiler error and returns how many failed.
fn check_tag_expectations(desired: &landfall_core::DesiredState) -> usize {
    use landfall_core::tag_policies::{TagPolicies, check_tag_expectations};
    if desired.tag_expectations.is_empty() {
        return 0;
    }
    let policies = TagPolicies::from_desired(desired);
    for (policy, problem) in &policies.problems {
        eprintln!(
            "{} tag_policy.{policy} is left out: {problem}",
            console::style("warning:").yellow()
        );
    }
    let mut failed = 0;
    for r in check_tag_expectations(desired, &policies) {
        let Some(e) = desired.tag_expectations.get(r.expectation) else {
            continue;
        };
        let Some(account) = &r.account else {
            eprintln!(
                "{} {}: tag expectation checks nothing: the OU holds no declared account",
                console::style("warning[expect]:").yellow().bold(),
                e.origin
            );
            continue;
        };
        if r.passed {
            continue;
        }
        failed += 1;
        let tags: Vec<String> = e.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let (want, got) = if e.compliant {
            (
                "compliant",
                format!("it is not: {}", r.violations.join("; ")),
            )
        } else {
            (
                "reported non-compliant",
                "the effective tag policy accepts them".to_string(),
            )
        };
        eprintln!(
            "{} {}: expected tags {{{}}} on a {} to be {want} in account.{account}, but {got}",
            console::style("error[expect]:").red().bold(),
            e.origin,
            tags.join(", "),
            e.resource_type,
        );
        if let Some(d) = &e.description {
            eprintln!("  {} {d}", console::style("note:").cyan());
        }
    }
    failed
}

/// The live account ids of declared accounts (by email), for principal ARNs.
fn account_ids(ws: &Workspace, live: &LiveState) -> BTreeMap<String, String> {
    let index = LiveIndex::new(live);
    ws.desired
        .accounts
        .iter()
        .filter_map(|(name, spec)| {
            index
                .account_by_email(&spec.email)
                .map(|a| (name.clone(), a.id.clone()))
        })
        .collect()
}

/// Refuses (unless allowed) a desired state whose SCPs would deny Landfall's access role
/// what it needs in member accounts, or leave a target with no Allow path — when the
/// live SCPs do not already do so (those are reported, not blamed on this change).
pub fn check_lockout(ws: &Workspace, live: &LiveState, scps: &Scps, allow: bool) -> CliResult<()> {
    let desired = &ws.desired;
    let ids = account_ids(ws, live);
    let was = permissions::lockouts(desired, &scps.live, &ids);
    let new: Vec<_> = permissions::lockouts(desired, &scps.desired, &ids)
        .into_iter()
        .filter(|l| {
            // Accounts not live yet had nothing to lose, except what the new SCPs deny.
            !was.contains(l)
        })
        .collect();
    let live_dead_ends = scps.live.targets_without_allow();
    let dead_ends: Vec<_> = scps
        .desired
        .targets_without_allow()
        .into_iter()
        .filter(|t| !live_dead_ends.contains(t))
        .collect();
    report_lockouts(ws, &new, &dead_ends, allow)
}

/// Refuses (unless allowed) a plan that would lock people out: remove the last
/// admin-capable assignment in the management account, or leave a platform admin
/// group with no account to act in.
pub fn check_people_lockout(ws: &Workspace, live: &LiveState, allow: bool) -> CliResult<()> {
    let risks = landfall_core::identity::lockout_risks(&ws.desired, live);
    if risks.is_empty() {
        return Ok(());
    }
    let (label, style) = if allow {
        ("warning:", console::Style::new().yellow().bold())
    } else {
        ("error:", console::Style::new().red().bold())
    };
    for r in &risks {
        eprintln!(
            "{} lockout: {}: {}",
            style.apply_to(label),
            r.address,
            r.message
        );
        eprintln!("  {} {}", console::style("hint:").cyan(), r.hint);
    }
    if allow {
        return Ok(());
    }
    Err(CliError::with_hint(
        format!(
            "the plan would lock people out ({} problem(s) above)",
            risks.len()
        ),
        "pass --allow-lockout if this is intended",
    ))
}

/// `validate`: the lockouts the desired SCPs alone cause (every account by name, the
/// access role in any account id).
pub fn check_lockout_offline(
    ws: &Workspace,
    desired_scps: &Hierarchy,
    allow: bool,
) -> CliResult<()> {
    let lockouts = permissions::lockouts(&ws.desired, desired_scps, &BTreeMap::new());
    let dead_ends = desired_scps.targets_without_allow();
    report_lockouts(ws, &lockouts, &dead_ends, allow)
}

fn report_lockouts(
    ws: &Workspace,
    new: &[permissions::Lockout],
    dead_ends: &[Target],
    allow: bool,
) -> CliResult<()> {
    let desired = &ws.desired;
    if new.is_empty() && dead_ends.is_empty() {
        return Ok(());
    }
    let label = if allow { "warning:" } else { "error:" };
    let style = |s: &str| {
        if allow {
            console::style(s.to_string()).yellow().bold()
        } else {
            console::style(s.to_string()).red().bold()
        }
    };
    let mut accounts: Vec<&str> = new.iter().map(|l| l.account.as_str()).collect();
    accounts.dedup();
    for l in new {
        eprintln!(
            "{} lockout: {} in account.{} ({}) would be {} — Landfall's access role `{}` needs it",
            style(label),
            l.action,
            l.account,
            l.region,
            l.reason,
            desired.landing_zone.access_role
        );
    }
    for t in dead_ends {
        eprintln!(
            "{} no Allow path: no SCP attached to {} allows anything, so every request below it is denied",
            style(label),
            t.address()
        );
    }
    if allow {
        return Ok(());
    }
    Err(CliError::with_hint(
        format!(
            "the SCP changes would lock Landfall out of {} account(s) ({}){}",
            accounts.len(),
            accounts.join(", "),
            if dead_ends.is_empty() {
                String::new()
            } else {
                format!(
                    " and leave {} target(s) with no Allow path",
                    dead_ends.len()
                )
            }
        ),
        "exempt the access role (e.g. an ArnNotLike aws:PrincipalArn condition), keep FullAWSAccess attached, or pass --allow-lockout if this is intended",
    ))
}

/// The blast radius of the plan's SCP changes, attached to the plan.
pub fn add_blast_radius(ws: &Workspace, scps: &Scps, plan: &mut Plan) {
    let touches_scps = plan.changes.iter().any(|c| {
        matches!(c.address, Address::Scp(_) | Address::Attachment(_))
            || (matches!(c.address, Address::Account(_)) && c.action == Action::Move)
    });
    if !touches_scps {
        return;
    }
    let allowed = |b: bool| if b { "allow" } else { "deny" };
    plan.permission_changes = permissions::blast_radius(&ws.desired, &scps.live, &scps.desired)
        .into_iter()
        .map(|i| PermissionChange {
            account: i.account,
            flips: i
                .flips
                .into_iter()
                .map(|f| PermissionFlip {
                    action: f.action,
                    region: f.region,
                    resource: "*".into(),
                    context: f.context.into_iter().collect(),
                    before: allowed(f.before).into(),
                    after: allowed(f.after).into(),
                    deciding: f.deciding,
                })
                .collect(),
        })
        .collect();
}

fn parse_context(items: &[String]) -> CliResult<Vec<(String, String)>> {
    items
        .iter()
        .map(|item| {
            item.split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| {
                    CliError::with_hint(
                        format!("--context `{item}` is not KEY=VALUE"),
                        "example: --context aws:RequestedRegion=us-east-1",
                    )
                })
        })
        .collect()
}

/// One request to evaluate: from the flags, or one line of `--requests`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainRequest {
    /// Empty for a principal outside the organization.
    #[serde(default)]
    account: String,
    action: String,
    /// The account that owns the resource (default: `account`).
    #[serde(default)]
    resource_account: Option<String>,
    /// The principal is outside the organization.
    #[serde(default)]
    external_principal: bool,
    /// Decide for a session of this permission set.
    #[serde(default)]
    permission_set: Option<String>,
    #[serde(default = "any_resource")]
    resource: String,
    #[serde(default)]
    context: serde_json::Map<String, serde_json::Value>,
}

fn any_resource() -> String {
    "*".into()
}

impl ExplainRequest {
    /// The policy engine's request; `Err` says what is wrong with it.
    fn to_request(&self) -> Result<Request, String> {
        if self.external_principal && self.resource_account.is_none() {
            return Err("a principal outside the organization needs `resource_account`: the account whose RCPs apply".into());
        }
        if !self.external_principal && self.account.is_empty() {
            return Err("`account` is missing: the account the request is made in".into());
        }
        if self.external_principal && self.permission_set.is_some() {
            return Err("a principal outside the organization has no permission set".into());
        }
        if !self
            .action
            .split_once(':')
            .is_some_and(|(s, a)| !s.is_empty() && !a.is_empty())
        {
            return Err(format!(
                "`{}` is not an action: write it as service:Action, e.g. sagemaker:CreateEndpoint",
                self.action
            ));
        }
        let mut request = Request::new(self.action.clone(), self.resource.clone());
        for (key, value) in &self.context {
            let values: Vec<String> = match value {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Number(n) => vec![n.to_string()],
                serde_json::Value::Bool(b) => vec![b.to_string()],
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| match i {
                        serde_json::Value::String(s) => Ok(s.clone()),
                        serde_json::Value::Number(n) => Ok(n.to_string()),
                        serde_json::Value::Bool(b) => Ok(b.to_string()),
                        _ => Err(format!(
                            "context key `{key}`: a set holds strings, numbers or booleans"
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(format!(
                        "context key `{key}`: expected a string or an array of strings"
                    ));
                }
            };
            request = request.with(key, values);
        }
        Ok(request)
    }
}

/// The request the flags describe.
fn request_from_flags(args: &ExplainArgs) -> CliResult<ExplainRequest> {
    let mut context = match &args.context_json {
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                return Err(CliError::with_hint(
                    "--context-json is not a JSON object",
                    r#"example: --context-json '{"aws:RequestedRegion": "us-east-1"}'"#,
                ));
            }
            Err(e) => {
                return Err(CliError::with_hint(
                    format!("--context-json is not JSON: {e}"),
                    r#"example: --context-json '{"aws:RequestedRegion": "us-east-1"}'"#,
                ));
            }
        },
        None => serde_json::Map::new(),
    };
    for (k, v) in parse_context(&args.context)? {
        match context.get_mut(&k) {
            Some(serde_json::Value::Array(items)) => items.push(v.into()),
            Some(existing) => {
                let first = existing.take();
                *existing = serde_json::Value::Array(vec![first, v.into()]);
            }
            None => {
                context.insert(k, v.into());
            }
        }
    }
    Ok(ExplainRequest {
        account: args.account.clone().unwrap_or_default(),
        resource_account: args.resource_account.clone(),
        external_principal: args.external_principal,
        action: args.action.clone().unwrap_or_default(),
        permission_set: args.permission_set.clone(),
        resource: args.resource.clone(),
        context,
    })
}

/// Every line of a `--requests` file, each checked; the first bad line is an error
/// naming FILE:LINE, and nothing is evaluated.
fn read_requests(path: &std::path::Path) -> CliResult<Vec<(usize, ExplainRequest, Request)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let located = |message: String| {
            CliError::with_hint(
                format!("{}:{number}: {message}", path.display()),
                r#"one request per line: {"account": "NAME", "action": "svc:Action", "resource": "ARN", "context": {"KEY": "VALUE" or ["V1", "V2"]}, "permission_set": "NAME"}"#,
            )
        };
        let parsed: ExplainRequest =
            serde_json::from_str(line).map_err(|e| located(e.to_string()))?;
        let request = parsed.to_request().map_err(located)?;
        out.push((number, parsed, request));
    }
    Ok(out)
}

/// The JSON answer to one request (`--json`, and each line of `--requests`).
fn decision_json(
    ask: &ExplainRequest,
    source: &str,
    (layer, decision): (landfall_policy::Layer, &Decision),
    levels: &[landfall_policy::Level],
    rcp_levels: &[landfall_policy::Level],
) -> serde_json::Value {
    let (verdict, detail) = match decision {
        Decision::Allow => ("allow", serde_json::Value::Null),
        Decision::ExplicitDeny {
            level_name,
            policy,
            sid,
            statement,
            ..
        } => (
            "deny",
            serde_json::json!({"kind": "explicit", "layer": layer.id(), "level": level_name, "policy": policy, "sid": sid, "statement": statement}),
        ),
        Decision::ImplicitDeny { level_name, .. } => (
            "deny",
            serde_json::json!({"kind": "implicit", "layer": layer.id(), "level": level_name}),
        ),
    };
    let mut answer = serde_json::json!({
        "account": ask.account,
        "action": ask.action,
        "resource": ask.resource,
        "source": source,
        "decision": verdict,
        "deciding": detail,
        "levels": levels_json(levels, "scps"),
    });
    if !rcp_levels.is_empty() {
        answer["resource_account"] = serde_json::json!(resource_account(ask));
        answer["rcp_levels"] = levels_json(rcp_levels, "rcps");
    }
    if ask.external_principal {
        answer["external_principal"] = serde_json::json!(true);
    }
    answer
}

/// The account that owns the request's resource.
fn resource_account(ask: &ExplainRequest) -> &str {
    ask.resource_account.as_deref().unwrap_or(&ask.account)
}

fn levels_json(levels: &[landfall_policy::Level], what: &str) -> serde_json::Value {
    levels
        .iter()
        .map(|l| {
            serde_json::json!({"level": l.name, what: l.policies.iter().map(|p| p.name.clone()).collect::<Vec<_>>()})
        })
        .collect()
}

/// Whether a session's decision is certain: an allow or an implicit deny may depend on
/// a policy that could not be evaluated; an explicit deny cannot be overridden.
fn undetermined(decision: &PrincipalDecision, session: &SessionPolicies) -> bool {
    !session.unavailable.is_empty() && !matches!(decision, PrincipalDecision::ExplicitDeny { .. })
}

/// The JSON answer for a session of a permission set.
fn session_json(
    ask: &ExplainRequest,
    source: &str,
    decision: &PrincipalDecision,
    session: &SessionPolicies,
    levels: &[landfall_policy::Level],
    rcp_levels: &[landfall_policy::Level],
) -> serde_json::Value {
    let verdict = if undetermined(decision, session) {
        "undetermined"
    } else if decision.is_allow() {
        "allow"
    } else {
        "deny"
    };
    let statement = |by: &landfall_policy::StatementRef| serde_json::json!({"policy": by.policy, "sid": by.sid, "statement": by.statement});
    let deciding = match decision {
        PrincipalDecision::Allow(by) => {
            serde_json::json!({"kind": "allow", "layer": "identity", "by": statement(by)})
        }
        PrincipalDecision::ExplicitDeny { layer, level, by } => serde_json::json!({
            "kind": "explicit", "layer": layer.id(), "level": level, "by": statement(by)
        }),
        PrincipalDecision::ImplicitDeny { layer, level } => {
            serde_json::json!({"kind": "implicit", "layer": layer.id(), "level": level})
        }
    };
    serde_json::json!({
        "account": ask.account,
        "action": ask.action,
        "resource": ask.resource,
        "permission_set": ask.permission_set,
        "source": source,
        "decision": verdict,
        "deciding": deciding,
        "levels": levels_json(levels, "scps"),
        "rcp_levels": levels_json(rcp_levels, "rcps"),
        "identity_policies": session.identity.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        "boundary": session.boundary.as_ref().map(|b| b.iter().map(|p| p.name.clone()).collect::<Vec<_>>()),
        "unavailable": session.unavailable,
    })
}

/// The human answer for a session of a permission set.
fn session_text(
    ask: &ExplainRequest,
    source: &str,
    decision: &PrincipalDecision,
    session: &SessionPolicies,
    levels: &[landfall_policy::Level],
    rcp_levels: &[landfall_policy::Level],
) -> String {
    let mut out = String::new();
    let verdict = if undetermined(decision, session) {
        "UNDETERMINED"
    } else if decision.is_allow() {
        "ALLOWED"
    } else {
        "DENIED"
    };
    let set = ask.permission_set.as_deref().unwrap_or_default();
    let _ = writeln!(
        out,
        "{verdict} {} on {} in account.{} for a session of permission_set.{set} ({source})",
        ask.action, ask.resource, ask.account
    );
    let _ = writeln!(out, "  {}", describe_session(decision));
    if undetermined(decision, session) {
        let _ = writeln!(
            out,
            "  not evaluated (not available offline): {}; `--live` reads AWS-managed documents",
            session.unavailable.join(", ")
        );
    }
    let _ = writeln!(out, "Layers:");
    for l in rcp_levels {
        let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(out, "  rcp       {:<34} {}", l.name, names.join(", "));
    }
    for l in levels {
        let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(out, "  scp       {:<34} {}", l.name, names.join(", "));
    }
    let identity: Vec<&str> = session.identity.iter().map(|p| p.name.as_str()).collect();
    let _ = writeln!(
        out,
        "  identity  {:<34} {}",
        format!("permission_set.{set}"),
        identity.join(", ")
    );
    if let Some(b) = &session.boundary {
        let names: Vec<&str> = b.iter().map(|p| p.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  boundary  {:<34} {}",
            format!("permission_set.{set}"),
            names.join(", ")
        );
    }
    out
}

/// `landfall explain`.
pub async fn explain(global: &GlobalArgs, args: &ExplainArgs) -> CliResult<u8> {
    let ws = context::load(global)?;
    if !args.tags.is_empty() {
        return explain_tags(global, args, &ws).await;
    }
    let desired = &ws.desired;
    let batch = match &args.requests {
        Some(path) => Some(read_requests(path)?),
        None => None,
    };
    let single = match &batch {
        Some(_) => None,
        None => {
            let ask = request_from_flags(args)?;
            let request = ask
                .to_request()
                .map_err(|m| CliError::with_hint(m, "e.g. --action sagemaker:CreateEndpoint"))?;
            Some((ask, request))
        }
    };
    // The permission sets asked about, each known.
    let set_names: BTreeSet<String> = match &batch {
        Some(batch) => batch
            .iter()
            .filter_map(|(_, ask, _)| ask.permission_set.clone())
            .collect(),
        None => single
            .iter()
            .filter_map(|(ask, _)| ask.permission_set.clone())
            .collect(),
    };
    if let Some(name) = set_names
        .iter()
        .find(|n| !desired.permission_sets.contains_key(*n))
    {
        let known: Vec<&str> = desired.permission_sets.keys().map(String::as_str).collect();
        return Err(CliError::with_hint(
            format!("no permission set `{name}` is declared"),
            if known.is_empty() {
                "declare it as [permission_set.NAME]".to_string()
            } else {
                format!("permission sets: {}", known.join(", "))
            },
        ));
    }
    let arns = managed_arns(&ws, set_names.iter());
    let (h, rcps, source, documents) = if args.live {
        let backend = context::open_backend(&ws, global).await?;
        let documents = live_documents(&ws, &arns, backend.provider.as_ref()).await;
        let Session { world, live, .. } = Session::open(&ws, backend, Reads::Organization).await?;
        (
            Hierarchy::from_live(&live, desired),
            Hierarchy::rcps_from_live(&live, desired, &world.id),
            format!("live ({world})"),
            documents,
        )
    } else {
        (
            Hierarchy::from_desired(desired),
            Hierarchy::rcps_from_desired(desired),
            "the desired state".to_string(),
            offline_documents(&ws, &arns),
        )
    };
    let sessions = session_policies(&ws, &set_names, &documents);
    for (policy, problem) in h
        .problems
        .iter()
        .map(|(p, m)| (format!("scp.{p}"), m))
        .chain(
            rcps.iter()
                .flat_map(|r| &r.problems)
                .map(|(p, m)| (format!("rcp.{p}"), m)),
        )
    {
        eprintln!(
            "{} {policy} is left out: {problem}",
            console::style("warning:").yellow()
        );
    }
    let unknown = |place: &str, account: &str| {
        let known: Vec<&str> = h.accounts().collect();
        CliError::with_hint(
            format!("{place}no account `{account}` in {source}"),
            format!("accounts: {}", known.join(", ")),
        )
    };
    // One request: its SCP levels (none for a principal outside the organization),
    // the RCP levels of the resource's account, and the answer.
    let answer = |ask: &ExplainRequest, request: &Request| -> Result<Answer, String> {
        let levels = match ask.external_principal {
            true => Vec::new(),
            false => h.levels(&ask.account).ok_or_else(|| ask.account.clone())?,
        };
        let owner = resource_account(ask);
        if h.levels(owner).is_none() {
            return Err(owner.to_string());
        }
        let rcp_levels = rcps
            .as_ref()
            .and_then(|r| r.rcp_levels(owner, request))
            .unwrap_or_default();
        let session = ask.permission_set.as_ref().and_then(|n| sessions.get(n));
        let json = match session {
            Some(session) => {
                let decision = session
                    .decide(&h, rcps.as_ref(), (&ask.account, owner), false, request)
                    .ok_or_else(|| ask.account.clone())?;
                let text = session_text(ask, &source, &decision, session, &levels, &rcp_levels);
                (
                    session_json(ask, &source, &decision, session, &levels, &rcp_levels),
                    text,
                )
            }
            None => {
                let principal = (!ask.external_principal).then_some(ask.account.as_str());
                let (layer, decision) = h
                    .decide_with_rcps(rcps.as_ref(), principal, owner, request)
                    .ok_or_else(|| ask.account.clone())?;
                let json = decision_json(ask, &source, (layer, &decision), &levels, &rcp_levels);
                let text = decision_text(ask, &source, (layer, &decision), &levels, &rcp_levels);
                (json, text)
            }
        };
        Ok(json)
    };
    if let (Some(batch), Some(path)) = (&batch, &args.requests) {
        // Every account is checked before anything is printed: all results or none.
        let mut lines = String::new();
        for (number, ask, request) in batch {
            let (json, _) = answer(ask, request)
                .map_err(|a| unknown(&format!("{}:{number}: ", path.display()), &a))?;
            let _ = writeln!(lines, "{json}");
        }
        stdout::print(&lines)?;
        return Ok(SUCCESS);
    }
    let Some((ask, request)) = single else {
        return Ok(SUCCESS);
    };
    let (json, text) = answer(&ask, &request).map_err(|a| unknown("", &a))?;
    if args.json {
        stdout::print(&format!("{json:#}\n"))?;
    } else {
        stdout::print(&text)?;
    }
    Ok(SUCCESS)
}

/// An answer as JSON and as text.
type Answer = (serde_json::Value, String);

/// The human answer to a request decided by the RCPs and SCPs.
fn decision_text(
    ask: &ExplainRequest,
    source: &str,
    (layer, decision): (landfall_policy::Layer, &Decision),
    levels: &[landfall_policy::Level],
    rcp_levels: &[landfall_policy::Level],
) -> String {
    let mut out = String::new();
    let verdict = if decision.is_allow() {
        "ALLOWED"
    } else {
        "DENIED"
    };
    let who = if ask.external_principal {
        format!(
            "for a principal outside the organization, on a resource of account.{}",
            resource_account(ask)
        )
    } else if ask.resource_account.is_some() {
        format!(
            "in account.{}, on a resource of account.{}",
            ask.account,
            resource_account(ask)
        )
    } else {
        format!("in account.{}", ask.account)
    };
    let _ = writeln!(
        out,
        "{verdict} {} on {} {who} ({source})",
        ask.action, ask.resource
    );
    let said = match (layer, decision) {
        (landfall_policy::Layer::Rcp, Decision::Allow) if ask.external_principal => {
            "no resource control policy denies it; no SCP governs a principal outside the organization (the resource's own policy decides the rest)".to_string()
        }
        (landfall_policy::Layer::Rcp, d) => {
            format!("{} — resource control policy", permissions::describe(d))
        }
        (_, d) => permissions::describe(d),
    };
    let _ = writeln!(out, "  {said}");
    if !rcp_levels.is_empty() {
        let _ = writeln!(
            out,
            "RCP levels of account.{}, root first:",
            resource_account(ask)
        );
        for l in rcp_levels {
            let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
            let _ = writeln!(out, "  {:<40} {}", l.name, names.join(", "));
        }
    }
    if !levels.is_empty() {
        let _ = writeln!(out, "Levels, root first:");
        for l in levels {
            let names: Vec<&str> = l.policies.iter().map(|p| p.name.as_str()).collect();
            let _ = writeln!(out, "  {:<40} {}", l.name, names.join(", "));
        }
    }
    out
}

/// `landfall explain --tags K=V --resource-type T --account A`: the account's
/// effective tag policy (as `DescribeEffectivePolicy` shows it) and whether a resource
/// of that type tagged so complies.
async fn explain_tags(global: &GlobalArgs, args: &ExplainArgs, ws: &Workspace) -> CliResult<u8> {
    use landfall_core::tag_policies::TagPolicies;
    let desired = &ws.desired;
    let account = args.account.clone().unwrap_or_default();
    let resource_type = args.resource_type.clone().unwrap_or_default();
    if !resource_type
        .split_once(':')
        .is_some_and(|(s, t)| !s.is_empty() && !t.is_empty())
    {
        return Err(CliError::with_hint(
            format!("`{resource_type}` is not a resource type"),
            "write it as service:type, as tag policies name them, e.g. --resource-type sagemaker:endpoint",
        ));
    }
    let tags: BTreeMap<String, String> = parse_context(&args.tags)?.into_iter().collect();
    let (policies, source) = if args.live {
        let backend = context::open_backend(ws, global).await?;
        let Session { world, live, .. } = Session::open(ws, backend, Reads::Organization).await?;
        (
            TagPolicies::from_live(&live, desired),
            format!("live ({world})"),
        )
    } else {
        (
            TagPolicies::from_desired(desired),
            "the desired state".to_string(),
        )
    };
    for (policy, problem) in &policies.problems {
        eprintln!(
            "{} tag_policy.{policy} is left out: {problem}",
            console::style("warning:").yellow()
        );
    }
    let Some(effective) = policies.effective(&account) else {
        let known: Vec<&str> = policies.accounts().collect();
        return Err(CliError::with_hint(
            format!("no account `{account}` in {source}"),
            format!("accounts: {}", known.join(", ")),
        ));
    };
    let compliance = effective.check(&resource_type, &tags);
    let violations: Vec<serde_json::Value> = compliance
        .violations
        .iter()
        .map(|v| {
            serde_json::json!({
                "tag": v.tag,
                "policy_key": v.policy_key,
                "reason": v.reason.to_string(),
                "enforced": v.enforced,
            })
        })
        .collect();
    let verdict = match (compliance.compliant(), compliance.enforced()) {
        (true, _) => "compliant",
        (false, true) => "refused",
        (false, false) => "noncompliant",
    };
    if args.json {
        let answer = serde_json::json!({
            "account": account,
            "resource_type": resource_type,
            "tags": tags,
            "source": source,
            "decision": verdict,
            "violations": violations,
            "effective_policy": effective.to_json(),
        });
        stdout::print(&format!("{answer:#}\n"))?;
        return Ok(SUCCESS);
    }
    let mut out = String::new();
    let shown: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let headline = match verdict {
        "compliant" => "COMPLIANT",
        "refused" => "REFUSED (enforced)",
        _ => "NON-COMPLIANT (reported, not enforced)",
    };
    let _ = writeln!(
        out,
        "{headline}: a {resource_type} tagged {{{}}} in account.{account} ({source})",
        shown.join(", ")
    );
    for v in &compliance.violations {
        let tag = v.tag.as_deref().unwrap_or(&v.policy_key);
        let how = if v.enforced { "enforced" } else { "reported" };
        let _ = writeln!(out, "  {tag}: {} ({how})", v.reason);
    }
    let _ = writeln!(out, "Effective tag policy:");
    let pretty = serde_json::to_string_pretty(&effective.to_json()).unwrap_or_default();
    for line in pretty.lines() {
        let _ = writeln!(out, "  {line}");
    }
    stdout::print(&out)?;
    Ok(SUCCESS)
}
