//! Parsing policy documents: one pass over the JSON that builds the [`Policy`] and
//! reports what is wrong as located findings (JSON pointer and byte range). The
//! grammar is checked here; the lint's checks (`lint.rs`) run from this pass at the
//! element they are about, so [`lint`] (every finding) and [`parse`] (errors only)
//! share it.
//!
//! The grammar depends on the [`PolicyKind`]. What the two kinds share is IAM's
//! JSON policy language (elements, `Version`, `Effect`, `Action`/`NotAction`,
//! conditions, policy variables with `Version: 2012-10-17`). Where they differ:
//!
//! | rule | SCP | identity-based policy |
//! |---|---|---|
//! | `Principal`/`NotPrincipal` | refused (`principal-not-allowed`) | refused (`principal-not-allowed`: IAM's "Has prohibited field Principal") |
//! | `Resource`/`NotResource` | optional, absent means `"*"` | one of them required (`missing-resource`) |
//! | `Sid` | any string (unchanged) | ASCII letters and digits only (`invalid-sid`) |
//! | `${...}` without `Version: 2012-10-17` | no finding (kept as the SCP lint was) | `literal-variable` warning: IAM reads it as literal text |
//!
//! An RCP ([`PolicyKind::Rcp`]) is read with the SCP grammar except: `Principal`
//! is allowed and must be `"*"` (`invalid-principal`), `NotPrincipal` is refused
//! (`principal-not-allowed`), `Effect: Allow` is refused (`rcp-allow`: only the
//! AWS-managed RCPFullAWSAccess allows), and each `Action` entry other than `*`
//! must name a service of [`crate::RCP_SERVICES`] (`unsupported-service`, the list
//! in the message). `NotAction` entries are not checked: they list exclusions, and
//! evaluation applies RCPs only to the supported services anyway. AWS Organizations
//! User Guide, "RCP syntax".

use std::ops::Range;

use crate::condition::{BaseOperator, Condition, Operator};
use crate::json::{self, Kind, Member, Node, pointer};
use crate::lint::{
    Finding, Severity, Sids, arn_values, contradictions, excludes_everything, too_large,
};
use crate::policy::{ActionSet, Effect, Policy, PolicyKind, ResourceSet, Statement};
use crate::wildcard::Pattern;

const TOP_LEVEL: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
    "Principal",
    "NotPrincipal",
];
const VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];

/// Parses an SCP document. Any error-severity finding (except size, which only
/// [`lint`] checks) makes it fail; warnings are dropped (see [`lint`]).
pub fn parse(name: &str, json: &str) -> Result<Policy, Vec<Finding>> {
    parse_as(PolicyKind::Scp, name, json)
}

/// Parses a policy document with the grammar of `kind` (see the module
/// documentation for where the kinds differ). Any error-severity finding (except
/// size, which only [`lint_as`] checks) makes it fail; warnings are dropped.
pub fn parse_as(kind: PolicyKind, name: &str, json: &str) -> Result<Policy, Vec<Finding>> {
    let (policy, findings) = analyze(kind, name, json);
    let errors: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    match policy {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(errors),
    }
}

/// Every finding in an SCP document, in document order: malformed elements,
/// unknown condition operators, bad action strings, duplicate Sids,
/// `Principal`/`NotPrincipal`, statements that can never match, and a size over
/// `max_chars` characters (counted on the minified document, as Landfall sends it).
pub fn lint(name: &str, json: &str, max_chars: usize) -> Vec<Finding> {
    lint_as(PolicyKind::Scp, name, json, max_chars)
}

/// Every finding in a policy document read with the grammar of `kind`, in document
/// order (see [`lint`]); the size limit depends on where the document goes (an
/// SCP, a managed policy, a permission set's inline policy), so the caller gives it.
pub fn lint_as(kind: PolicyKind, name: &str, json: &str, max_chars: usize) -> Vec<Finding> {
    let (_, mut findings) = analyze(kind, name, json);
    findings.extend(too_large(name, json, max_chars));
    findings
}

fn analyze(kind: PolicyKind, name: &str, text: &str) -> (Option<Policy>, Vec<Finding>) {
    let mut a = Analyzer {
        kind,
        name,
        findings: Vec::new(),
    };
    if let Some((reason, at)) = json::syntax_error(text) {
        a.error(
            "json-syntax",
            format!("policy `{name}` is not valid JSON: {reason}"),
            "",
            at,
        );
        return (None, a.findings);
    }
    let Some(root) = json::parse(text) else {
        a.error(
            "json-syntax",
            format!("policy `{name}` could not be read"),
            "",
            0..text.len(),
        );
        return (None, a.findings);
    };
    let policy = a.document(&root);
    (policy, a.findings)
}

struct Analyzer<'a> {
    kind: PolicyKind,
    name: &'a str,
    findings: Vec<Finding>,
}

impl Analyzer<'_> {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        message: String,
        pointer: &str,
        span: Range<usize>,
    ) {
        self.findings.push(Finding {
            severity,
            code,
            message,
            pointer: pointer.to_string(),
            offset: Some(span),
        });
    }

    fn error(&mut self, code: &'static str, message: String, pointer: &str, span: Range<usize>) {
        self.push(Severity::Error, code, message, pointer, span);
    }

    fn warning(&mut self, code: &'static str, message: String, pointer: &str, span: Range<usize>) {
        self.push(Severity::Warning, code, message, pointer, span);
    }

    /// A `${...}` in a document without `Version: 2012-10-17`: IAM reads it as
    /// literal text, never as a policy variable ("IAM policy elements: Variables and
    /// tags"), so the statement almost certainly does not do what it says. Reported
    /// for identity-based policies; the SCP lint is kept as it was.
    fn literal_variable(&mut self, value: &str, pointer: &str, span: Range<usize>) {
        if self.kind != PolicyKind::Identity {
            return;
        }
        let Some(start) = value.find("${") else {
            return;
        };
        if !value[start..].contains('}') {
            return;
        }
        self.warning(
            "literal-variable",
            format!(
                "`{value}` holds a policy variable, but the document is not `Version: 2012-10-17`: IAM compares the `${{...}}` as literal text"
            ),
            pointer,
            span,
        );
    }

    /// Adds the findings of a lint check.
    fn report(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
    }

    /// Reports duplicate and unknown keys of an object.
    fn keys(&mut self, members: &[Member], allowed: &[&str], base: &str, what: &str) {
        for (i, m) in members.iter().enumerate() {
            let ptr = pointer(base, &m.key);
            if members[..i].iter().any(|o| o.key == m.key) {
                self.error(
                    "duplicate-key",
                    format!("`{}` appears twice in {what}", m.key),
                    &ptr,
                    m.key_span.clone(),
                );
            }
            if !allowed.contains(&m.key.as_str()) {
                let hint = allowed
                    .iter()
                    .find(|a| a.eq_ignore_ascii_case(&m.key))
                    .map(|a| format!(" (did you mean `{a}`?)"))
                    .unwrap_or_default();
                self.error(
                    "unknown-element",
                    format!("`{}` is not an element of {what}{hint}", m.key),
                    &ptr,
                    m.key_span.clone(),
                );
            }
        }
    }

    fn document(&mut self, root: &Node) -> Option<Policy> {
        let name = self.name;
        let Kind::Object(members) = &root.kind else {
            self.error(
                "not-an-object",
                format!("policy `{name}` is not a JSON object"),
                "",
                root.span.clone(),
            );
            return None;
        };
        self.keys(members, TOP_LEVEL, "", "a policy document");
        let version = find(members, "Version");
        match version {
            None => self.warning(
                "missing-version",
                format!(
                    "policy `{name}` has no `Version`; AWS then reads it as 2008-10-17, without policy variables"
                ),
                "",
                root.span.start..root.span.start + 1,
            ),
            Some(m) if !m.value.as_str().is_some_and(|v| VERSIONS.contains(&v)) => self.error(
                "invalid-version",
                format!("policy `{name}` has an invalid `Version` (expected \"2012-10-17\")"),
                "/Version",
                m.value.span.clone(),
            ),
            Some(_) => {}
        }
        let version = version.and_then(|m| m.value.as_str()).map(str::to_string);
        let variables = version.as_deref() == Some("2012-10-17");
        let Some(statement) = find(members, "Statement") else {
            self.error(
                "missing-statement",
                format!("policy `{name}` has no `Statement`"),
                "",
                root.span.start..root.span.start + 1,
            );
            return None;
        };
        let items: Vec<(&Node, String)> = match &statement.value.kind {
            Kind::Object(_) => vec![(&statement.value, "/Statement".to_string())],
            Kind::Array(items) if items.is_empty() => {
                self.error(
                    "empty-list",
                    format!("policy `{name}` has no statements"),
                    "/Statement",
                    statement.value.span.clone(),
                );
                Vec::new()
            }
            Kind::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| (n, format!("/Statement/{i}")))
                .collect(),
            _ => {
                self.error(
                    "invalid-statement",
                    format!("the `Statement` of policy `{name}` is not a statement or a list of statements"),
                    "/Statement",
                    statement.value.span.clone(),
                );
                Vec::new()
            }
        };
        let mut statements = Vec::with_capacity(items.len());
        let mut sids = Sids::default();
        let mut complete = true;
        for (index, (node, ptr)) in items.into_iter().enumerate() {
            if let Kind::Object(ms) = &node.kind
                && let Some(m) = find(ms, "Sid")
                && let Some(sid) = m.value.as_str()
            {
                self.report(sids.check(name, sid, &ptr, m.value.span.clone()));
            }
            match self.statement(node, &ptr, index, variables) {
                Some(s) => statements.push(s),
                None => complete = false,
            }
        }
        complete.then(|| Policy {
            name: name.to_string(),
            version,
            statements,
        })
    }

    fn statement(
        &mut self,
        node: &Node,
        ptr: &str,
        index: usize,
        variables: bool,
    ) -> Option<Statement> {
        let Kind::Object(members) = &node.kind else {
            self.error(
                "invalid-statement",
                "a statement must be a JSON object".to_string(),
                ptr,
                node.span.clone(),
            );
            return None;
        };
        let opening = node.span.start..node.span.start + 1;
        self.keys(members, STATEMENT, ptr, "a statement");
        let mut ok = true;
        for key in ["Principal", "NotPrincipal"] {
            if let Some(m) = find(members, key) {
                // An RCP's Principal can only be "*" ("RCP syntax"), and RCPs do not
                // support NotPrincipal (IAM User Guide, "NotPrincipal": neither SCPs
                // nor RCPs do): who is restricted is said with conditions.
                if self.kind == PolicyKind::Rcp && key == "Principal" {
                    if m.value.as_str() != Some("*") {
                        self.error(
                            "invalid-principal",
                            "an RCP's `Principal` can only be \"*\": restrict principals with a condition (aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn)".to_string(),
                            &pointer(ptr, key),
                            m.value.span.clone(),
                        );
                    }
                    continue;
                }
                let message = match self.kind {
                    PolicyKind::Scp => format!(
                        "an SCP statement cannot have `{key}`: it applies to every principal of the accounts it is attached to (exempt principals with a condition on aws:PrincipalArn)"
                    ),
                    PolicyKind::Identity => format!(
                        "an identity-based policy cannot have `{key}`: its principal is the identity it is attached to (IAM refuses the document: \"Has prohibited field {key}\")"
                    ),
                    PolicyKind::Rcp => format!(
                        "an RCP statement cannot have `{key}`: write \"Principal\": \"*\" and exempt principals with a condition on aws:PrincipalArn"
                    ),
                };
                self.error(
                    "principal-not-allowed",
                    message,
                    &pointer(ptr, key),
                    m.key_span.clone(),
                );
            }
        }
        let sid = match find(members, "Sid") {
            None => None,
            Some(m) => match m.value.as_str() {
                Some(s) => {
                    // IAM accepts only ASCII letters and digits in an identity policy's
                    // Sid (IAM JSON policy elements: Sid). The SCP grammar keeps
                    // accepting any string, as it did: Organizations' rule was not
                    // checked for this change.
                    if self.kind == PolicyKind::Identity
                        && !s.chars().all(|c| c.is_ascii_alphanumeric())
                    {
                        self.error(
                            "invalid-sid",
                            format!(
                                "Sid `{s}` has characters IAM refuses: only ASCII letters (A-Z, a-z) and digits (0-9) are allowed"
                            ),
                            &pointer(ptr, "Sid"),
                            m.value.span.clone(),
                        );
                    }
                    Some(s.to_string())
                }
                None => {
                    self.error(
                        "invalid-sid",
                        "`Sid` must be a string".to_string(),
                        &pointer(ptr, "Sid"),
                        m.value.span.clone(),
                    );
                    ok = false;
                    None
                }
            },
        };
        let effect = match find(members, "Effect") {
            None => {
                self.error(
                    "missing-effect",
                    "the statement has no `Effect`".to_string(),
                    ptr,
                    opening.clone(),
                );
                None
            }
            Some(m) => match m.value.as_str() {
                Some("Allow") => {
                    // "RCP syntax": the effect of Allow is only supported for the
                    // AWS-managed RCPFullAWSAccess; a customer RCP only denies.
                    if self.kind == PolicyKind::Rcp {
                        self.error(
                            "rcp-allow",
                            "an RCP statement can only `Deny`: `Allow` is reserved to the AWS-managed RCPFullAWSAccess, attached at every level".to_string(),
                            &pointer(ptr, "Effect"),
                            m.value.span.clone(),
                        );
                    }
                    Some(Effect::Allow)
                }
                Some("Deny") => Some(Effect::Deny),
                _ => {
                    self.error(
                        "invalid-effect",
                        "`Effect` must be \"Allow\" or \"Deny\"".to_string(),
                        &pointer(ptr, "Effect"),
                        m.value.span.clone(),
                    );
                    None
                }
            },
        };
        let actions = match (find(members, "Action"), find(members, "NotAction")) {
            (None, None) => {
                self.error(
                    "missing-action",
                    "the statement has neither `Action` nor `NotAction`".to_string(),
                    ptr,
                    opening.clone(),
                );
                None
            }
            (Some(_), Some(n)) => {
                self.error(
                    "action-and-not-action",
                    "the statement has both `Action` and `NotAction`".to_string(),
                    &pointer(ptr, "NotAction"),
                    n.key_span.clone(),
                );
                None
            }
            (Some(m), None) => self.actions(m, ptr).map(ActionSet::Action),
            (None, Some(m)) => self.actions(m, ptr).map(ActionSet::NotAction),
        };
        let resources = match (find(members, "Resource"), find(members, "NotResource")) {
            // An SCP may leave the resource out (it means every resource); IAM requires
            // one of the two elements in an identity-based policy ("Statements must
            // include either a Resource or a NotResource element").
            (None, None) if self.kind == PolicyKind::Identity => {
                self.error(
                    "missing-resource",
                    "the statement has neither `Resource` nor `NotResource`: IAM requires one in an identity-based policy (write \"Resource\": \"*\" for every resource)".to_string(),
                    ptr,
                    opening.clone(),
                );
                None
            }
            (None, None) => Some(ResourceSet::Resource(vec![Pattern::resource("*")])),
            (Some(_), Some(n)) => {
                self.error(
                    "resource-and-not-resource",
                    "the statement has both `Resource` and `NotResource`".to_string(),
                    &pointer(ptr, "NotResource"),
                    n.key_span.clone(),
                );
                None
            }
            (Some(m), None) => self.resources(m, ptr, variables).map(ResourceSet::Resource),
            (None, Some(m)) => self
                .resources(m, ptr, variables)
                .map(ResourceSet::NotResource),
        };
        let conditions = match find(members, "Condition") {
            None => Some(Vec::new()),
            Some(m) => self.conditions(m, &pointer(ptr, "Condition"), variables),
        };
        let (Some(effect), Some(actions), Some(resources), Some(conditions), true) =
            (effect, actions, resources, conditions, ok)
        else {
            return None;
        };
        Some(Statement {
            sid,
            effect,
            actions,
            resources,
            conditions,
            index,
        })
    }

    /// A string or a non-empty array of strings; each with its pointer and span.
    fn strings<'n>(
        &mut self,
        m: &'n Member,
        ptr: &str,
        what: &str,
    ) -> Option<Vec<(&'n str, String, Range<usize>)>> {
        match &m.value.kind {
            Kind::String(s) => Some(vec![(s.as_str(), ptr.to_string(), m.value.span.clone())]),
            Kind::Array(items) if items.is_empty() => {
                self.error(
                    "empty-list",
                    format!(
                        "`{}` is an empty list: AWS rejects it, and it would never match",
                        m.key
                    ),
                    ptr,
                    m.value.span.clone(),
                );
                None
            }
            Kind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{ptr}/{i}");
                    match item.as_str() {
                        Some(s) => out.push((s, p, item.span.clone())),
                        None => {
                            self.error(
                                "invalid-element",
                                format!("each entry of `{}` must be a string ({what})", m.key),
                                &p,
                                item.span.clone(),
                            );
                            ok = false;
                        }
                    }
                }
                ok.then_some(out)
            }
            _ => {
                self.error(
                    "invalid-element",
                    format!("`{}` must be a string or a list of strings ({what})", m.key),
                    ptr,
                    m.value.span.clone(),
                );
                None
            }
        }
    }

    fn actions(&mut self, m: &Member, statement: &str) -> Option<Vec<Pattern>> {
        let ptr = pointer(statement, &m.key);
        let items = self.strings(m, &ptr, "actions such as \"s3:GetObject\"")?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (s, p, span) in items {
            if let Some((service, _)) = s.split_once(':')
                && service.contains(['*', '?'])
            {
                self.error(
                    "invalid-action",
                    format!(
                        "`{s}`: a service prefix cannot hold a wildcard; AWS refuses the policy"
                    ),
                    &p,
                    span,
                );
                ok = false;
                continue;
            }
            if !valid_action(s) {
                self.error(
                    "invalid-action",
                    format!(
                        "`{s}` is not an action: write `service:Action` (wildcards allowed in the action) or `*`"
                    ),
                    &p,
                    span,
                );
                ok = false;
                continue;
            }
            if self.kind == PolicyKind::Rcp
                && m.key == "Action"
                && s != "*"
                && !crate::policy::rcp_applies(s)
            {
                self.error(
                    "unsupported-service",
                    format!(
                        "`{s}`: RCPs apply only to the actions of {}",
                        crate::policy::RCP_SERVICES.join(", ")
                    ),
                    &p,
                    span,
                );
                ok = false;
                continue;
            }
            let pattern = Pattern::action(s);
            if m.key == "NotAction" {
                self.report(excludes_everything(
                    "NotAction",
                    "action",
                    s,
                    &pattern,
                    &p,
                    span,
                ));
            }
            out.push(pattern);
        }
        ok.then_some(out)
    }

    fn resources(&mut self, m: &Member, statement: &str, variables: bool) -> Option<Vec<Pattern>> {
        let ptr = pointer(statement, &m.key);
        let items = self.strings(m, &ptr, "ARNs or \"*\"")?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (s, p, span) in items {
            if s != "*" && !s.starts_with("arn:") {
                self.error(
                    "invalid-resource",
                    format!("`{s}` is not a resource: write an ARN (`arn:...`, wildcards allowed) or `*`"),
                    &p,
                    span,
                );
                ok = false;
                continue;
            }
            if !variables {
                self.literal_variable(s, &p, span.clone());
            }
            let pattern = if variables {
                Pattern::resource(s)
            } else {
                Pattern::compile(
                    s,
                    crate::wildcard::Syntax {
                        wildcards: true,
                        variables: false,
                        case: crate::wildcard::Case::Sensitive,
                    },
                )
            };
            if m.key == "NotResource" {
                self.report(excludes_everything(
                    "NotResource",
                    "resource",
                    s,
                    &pattern,
                    &p,
                    span,
                ));
            }
            out.push(pattern);
        }
        ok.then_some(out)
    }

    fn conditions(&mut self, m: &Member, ptr: &str, variables: bool) -> Option<Vec<Condition>> {
        let Kind::Object(operators) = &m.value.kind else {
            self.error(
                "invalid-condition",
                "`Condition` must be an object of operators, e.g. {\"StringEquals\": {\"aws:RequestedRegion\": \"eu-west-1\"}}".to_string(),
                ptr,
                m.value.span.clone(),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, op_member) in operators.iter().enumerate() {
            let op_ptr = pointer(ptr, &op_member.key);
            if operators[..i].iter().any(|o| o.key == op_member.key) {
                self.error(
                    "duplicate-key",
                    format!(
                        "operator `{}` appears twice in the condition",
                        op_member.key
                    ),
                    &op_ptr,
                    op_member.key_span.clone(),
                );
                ok = false;
            }
            let Some(operator) = Operator::parse(&op_member.key) else {
                let hint = suggest_operator(&op_member.key)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.error(
                    "unknown-operator",
                    format!("`{}` is not a condition operator{hint}", op_member.key),
                    &op_ptr,
                    op_member.key_span.clone(),
                );
                ok = false;
                continue;
            };
            let Kind::Object(keys) = &op_member.value.kind else {
                self.error(
                    "invalid-condition",
                    format!(
                        "the value of `{}` must be an object of condition keys",
                        op_member.key
                    ),
                    &op_ptr,
                    op_member.value.span.clone(),
                );
                ok = false;
                continue;
            };
            if keys.is_empty() {
                self.error(
                    "invalid-condition",
                    format!("`{}` has no condition keys", op_member.key),
                    &op_ptr,
                    op_member.value.span.clone(),
                );
                ok = false;
            }
            for (j, key) in keys.iter().enumerate() {
                let key_ptr = pointer(&op_ptr, &key.key);
                if keys[..j]
                    .iter()
                    .any(|o| o.key.eq_ignore_ascii_case(&key.key))
                {
                    self.error(
                        "duplicate-key",
                        format!(
                            "condition key `{}` appears twice under `{}`",
                            key.key, op_member.key
                        ),
                        &key_ptr,
                        key.key_span.clone(),
                    );
                    ok = false;
                }
                if !key.key.contains(':') {
                    self.warning(
                        "condition-key-format",
                        format!(
                            "`{}` does not look like a condition key (`aws:...` or `service:...`)",
                            key.key
                        ),
                        &key_ptr,
                        key.key_span.clone(),
                    );
                }
                let Some((values, spans)) = self.condition_values(key, &key_ptr) else {
                    ok = false;
                    continue;
                };
                if !variables {
                    for (v, (p, span)) in values.iter().zip(&spans) {
                        self.literal_variable(v, p, span.clone());
                    }
                }
                match Condition::new(operator, &key.key, values, variables) {
                    Ok(c) => {
                        self.report(arn_values(&c, &spans));
                        out.push(c);
                    }
                    Err((i, why)) => {
                        let (p, span) = spans
                            .get(i)
                            .cloned()
                            .unwrap_or((key_ptr.clone(), key.value.span.clone()));
                        self.error(
                            "invalid-condition-value",
                            format!("invalid value for `{}`: {why}", operator.name()),
                            &p,
                            span,
                        );
                        ok = false;
                    }
                }
            }
        }
        if ok {
            self.report(contradictions(&out, ptr, m.key_span.clone()));
        }
        ok.then_some(out)
    }

    #[expect(
        clippy::type_complexity,
        reason = "the values with their JSON pointers and spans, used once"
    )]
    fn condition_values(
        &mut self,
        key: &Member,
        ptr: &str,
    ) -> Option<(Vec<String>, Vec<(String, Range<usize>)>)> {
        let bad = |a: &mut Self, p: &str, span: Range<usize>| {
            a.error(
                "invalid-condition",
                "a condition value must be a string, number or boolean, or a list of them"
                    .to_string(),
                p,
                span,
            );
        };
        match &key.value.kind {
            Kind::Array(items) if items.is_empty() => {
                self.error(
                    "empty-list",
                    format!("condition key `{}` has no values", key.key),
                    ptr,
                    key.value.span.clone(),
                );
                None
            }
            Kind::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                let mut spans = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{ptr}/{i}");
                    match item.as_scalar_text() {
                        Some(v) => {
                            values.push(v.to_string());
                            spans.push((p, item.span.clone()));
                        }
                        None => {
                            bad(self, &p, item.span.clone());
                            return None;
                        }
                    }
                }
                Some((values, spans))
            }
            _ => match key.value.as_scalar_text() {
                Some(v) => Some((
                    vec![v.to_string()],
                    vec![(ptr.to_string(), key.value.span.clone())],
                )),
                None => {
                    bad(self, ptr, key.value.span.clone());
                    None
                }
            },
        }
    }
}

fn find<'a>(members: &'a [Member], key: &str) -> Option<&'a Member> {
    members.iter().find(|m| m.key == key)
}

/// `*`, or `service:Action` where both parts use letters, digits, `-` (service
/// only) and the wildcards `*` and `?`.
fn valid_action(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    let Some((service, action)) = s.split_once(':') else {
        return false;
    };
    !service.is_empty()
        && !action.is_empty()
        // A service prefix is a literal (`s3`, `ec2`, `sagemaker`): AWS refuses wildcards
        // in it ("*:Delete*", "s3*:Get*"); only the action part may hold them.
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && action
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '?'))
}

fn suggest_operator(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let (prefix, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
        ("ForAnyValue:", r)
    } else if let Some(r) = lower.strip_prefix("forallvalues:") {
        ("ForAllValues:", r)
    } else {
        ("", lower.as_str())
    };
    let (rest, suffix) = match rest.strip_suffix("ifexists") {
        Some(r) => (r, "IfExists"),
        None => (rest, ""),
    };
    let rest = rest.trim_end_matches('s');
    BaseOperator::ALL
        .into_iter()
        .find(|b| b.name().to_ascii_lowercase().trim_end_matches('s') == rest)
        .map(|b| format!("{prefix}{}{suffix}", b.name()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn codes(text: &str) -> Vec<(&'static str, String)> {
        lint("p", text, 5120)
            .into_iter()
            .map(|f| (f.code, f.pointer))
            .collect()
    }

    #[test]
    fn a_good_policy_parses() {
        let p = parse(
            "p",
            r#"{"Version":"2012-10-17","Statement":[
              {"Sid":"A","Effect":"Deny","Action":["s3:*","ec2:Run*"],"Resource":"*",
               "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]},
                            "ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin"}}},
              {"Effect":"Allow","NotAction":"iam:*"}]}"#,
        )
        .unwrap();
        assert_eq!(p.statements.len(), 2);
        assert_eq!(p.statements[0].sid.as_deref(), Some("A"));
        assert_eq!(p.statements[0].conditions.len(), 2);
        assert_eq!(p.statements[1].index, 1);
        assert!(matches!(p.statements[1].actions, ActionSet::NotAction(_)));
        assert!(lint("p", r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#, 100).is_empty());
    }

    #[test]
    fn syntax_errors_are_located() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}";
        let f = lint("p", text, 1000);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "json-syntax");
        assert_eq!(f[0].offset, Some(45..46));
        assert_eq!(&text[45..46], ",");
    }

    #[test]
    fn grammar_findings_point_at_elements() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"X","Effect":"deny","Action":"s3GetObject","Principal":"*"},
            {"Sid":"X","Effect":"Allow","Action":[],"Resource":"bucket"},
            {"Effect":"Allow","Action":"s3:*","NotAction":"ec2:*","Condition":{"StringEqual":{"aws:x":"y"}}}
        ]}"#;
        let got = codes(text);
        let want = [
            ("duplicate-sid", "/Statement/1/Sid"),
            ("principal-not-allowed", "/Statement/0/Principal"),
            ("invalid-effect", "/Statement/0/Effect"),
            ("invalid-action", "/Statement/0/Action"),
            ("empty-list", "/Statement/1/Action"),
            ("invalid-resource", "/Statement/1/Resource"),
            ("action-and-not-action", "/Statement/2/NotAction"),
            ("unknown-operator", "/Statement/2/Condition/StringEqual"),
        ];
        for (code, ptr) in want {
            assert!(
                got.contains(&(code, ptr.to_string())),
                "{code} {ptr} not in {got:?}"
            );
        }
        let findings = lint("p", text, 10_000);
        let f = findings
            .iter()
            .find(|f| f.code == "invalid-action")
            .unwrap();
        assert_eq!(&text[f.offset.clone().unwrap()], "\"s3GetObject\"");
        let f = findings
            .iter()
            .find(|f| f.code == "unknown-operator")
            .unwrap();
        assert!(f.message.contains("StringEquals"), "{}", f.message);
        assert!(parse("p", text).is_err());
    }

    #[test]
    fn condition_values_are_checked() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*",
            "Condition":{"NumericLessThan":{"s3:max-keys":["1","x"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/33"},
                         "DateGreaterThan":{"aws:CurrentTime":"tomorrow"},"Bool":{"aws:SecureTransport":"yes"},
                         "StringEquals":{"aws:x":{"a":1}}}}}"#;
        let got = codes(text);
        for ptr in [
            "/Statement/Condition/NumericLessThan/s3:max-keys/1",
            "/Statement/Condition/IpAddress/aws:SourceIp",
            "/Statement/Condition/DateGreaterThan/aws:CurrentTime",
            "/Statement/Condition/Bool/aws:SecureTransport",
        ] {
            assert!(
                got.contains(&("invalid-condition-value", ptr.to_string())),
                "{ptr}: {got:?}"
            );
        }
        assert!(got.contains(&(
            "invalid-condition",
            "/Statement/Condition/StringEquals/aws:x".into()
        )));
    }

    #[test]
    fn structure_and_size() {
        assert_eq!(codes("[1]"), [("not-an-object", String::new())]);
        let got = codes(r#"{"Statement":[],"Extra":1}"#);
        assert!(got.contains(&("unknown-element", "/Extra".into())));
        assert!(got.contains(&("missing-version", String::new())));
        assert!(got.contains(&("empty-list", "/Statement".into())));
        let doc =
            r#"{ "Version" : "2012-10-17", "Statement" : { "Effect" : "Allow", "Action" : "*" } }"#;
        let minified = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}"#;
        assert!(lint("p", doc, minified.len()).is_empty());
        let f = lint("p", doc, minified.len() - 1);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "too-large");
        let dup = codes(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"*"}}"#,
        );
        assert_eq!(dup, [("duplicate-key", "/Statement/Effect".to_string())]);
        let pointer_escape = codes(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"aws:RequestTag/a~b":["x"]},"Bogus":{}}}}"#,
        );
        assert_eq!(
            pointer_escape,
            [("unknown-operator", "/Statement/Condition/Bogus".to_string())]
        );
    }

    #[test]
    fn variables_depend_on_version() {
        let new = parse("p", r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:username}"}}"#).unwrap();
        assert!(new.statements[0].resources.patterns()[0].has_variables());
        let old = parse("p", r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:username}"}}"#).unwrap();
        assert!(!old.statements[0].resources.patterns()[0].has_variables());
    }
}
