//! Policy documents: the parsed model and its matching of one request.

use std::collections::BTreeMap;

use crate::condition::Condition;
use crate::wildcard::Pattern;

/// Which grammar a document is read with: AWS checks SCPs and identity-based
/// policies differently (see [`crate::parse_as`]). Evaluation does not depend on
/// the kind; where a policy sits in [`crate::Layers`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A service control policy (AWS Organizations).
    Scp,
    /// An identity-based policy: attached to a user, group or role — the AWS-managed,
    /// customer-managed and inline policies of an IAM Identity Center permission
    /// set —, or used as a permissions boundary.
    Identity,
    /// A resource control policy (AWS Organizations): `Principal` must be `"*"`,
    /// no `NotPrincipal`, only `Deny` (the AWS-managed [`rcp_full_aws_access`] is
    /// the one Allow), actions of the services RCPs support ([`RCP_SERVICES`]).
    Rcp,
}

/// The service prefixes whose resources RCPs apply to (AWS Organizations User
/// Guide, "Resource control policies (RCPs)": "List of AWS services that support
/// RCPs" — Amazon S3, AWS STS, AWS KMS, Amazon SQS, AWS Secrets Manager, Amazon
/// Cognito (identity pools), Amazon ECR, Amazon OpenSearch Serverless, Amazon
/// CloudWatch Logs, Amazon DynamoDB). A request on any other service's action
/// passes through RCPs untouched; an RCP `Action` naming another service is a
/// finding (`unsupported-service`).
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "cognito-identity",
    "ecr",
    "aoss",
    "logs",
    "dynamodb",
];

/// The maximum size of an RCP, in characters (AWS Organizations quotas: "Maximum
/// size of a resource control policy document: 5,120 characters"), counted as for
/// SCPs on the minified document.
pub const RCP_MAX_CHARS: usize = 5120;

/// Whether RCPs apply to `action` (`service:Action`): its service prefix is one of
/// [`RCP_SERVICES`], compared without regard to case as actions are.
pub fn rcp_applies(action: &str) -> bool {
    action
        .split_once(':')
        .is_some_and(|(service, _)| RCP_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service)))
}

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    /// The `Version` element, when present.
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction`: a list of action patterns (`service:Action`, `*`),
/// matched without regard to case.
#[derive(Debug, Clone)]
pub enum ActionSet {
    Action(Vec<Pattern>),
    NotAction(Vec<Pattern>),
}

impl ActionSet {
    pub fn matches(&self, action: &str) -> bool {
        match self {
            ActionSet::Action(p) => p.iter().any(|p| p.matches(action)),
            ActionSet::NotAction(p) => !p.iter().any(|p| p.matches(action)),
        }
    }

    pub fn patterns(&self) -> &[Pattern] {
        match self {
            ActionSet::Action(p) | ActionSet::NotAction(p) => p,
        }
    }
}

/// `Resource` or `NotResource`: a list of resource patterns, matched with case;
/// an absent `Resource` element is `["*"]`.
#[derive(Debug, Clone)]
pub enum ResourceSet {
    Resource(Vec<Pattern>),
    NotResource(Vec<Pattern>),
}

impl ResourceSet {
    /// Matches `resource`, substituting policy variables from `ctx` (keys
    /// lower-cased).
    pub fn matches(&self, resource: &str, ctx: &BTreeMap<String, Vec<String>>) -> bool {
        match self {
            ResourceSet::Resource(p) => p.iter().any(|p| p.matches_in(resource, ctx)),
            ResourceSet::NotResource(p) => !p.iter().any(|p| p.matches_in(resource, ctx)),
        }
    }

    pub fn patterns(&self) -> &[Pattern] {
        match self {
            ResourceSet::Resource(p) | ResourceSet::NotResource(p) => p,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionSet,
    pub resources: ResourceSet,
    /// All must match (AND).
    pub conditions: Vec<Condition>,
    /// Position in the `Statement` array (0 when `Statement` is a single object).
    pub index: usize,
}

impl Statement {
    /// Whether the statement applies to the request: action, resource and every
    /// condition match. `ctx` keys must be lower-cased (see
    /// [`crate::Request::normalized`]).
    pub fn matches(
        &self,
        action: &str,
        resource: &str,
        ctx: &BTreeMap<String, Vec<String>>,
    ) -> bool {
        self.actions.matches(action)
            && self.resources.matches(resource, ctx)
            && self.conditions.iter().all(|c| c.matches(ctx))
    }
}

/// The AWS-managed `FullAWSAccess` SCP (Allow `*` on `*`).
pub fn full_aws_access() -> Policy {
    Policy {
        name: "FullAWSAccess".to_string(),
        version: Some("2012-10-17".to_string()),
        statements: vec![Statement {
            sid: None,
            effect: Effect::Allow,
            actions: ActionSet::Action(vec![Pattern::action("*")]),
            resources: ResourceSet::Resource(vec![Pattern::resource("*")]),
            conditions: Vec::new(),
            index: 0,
        }],
    }
}

/// The AWS-managed `RCPFullAWSAccess` RCP, attached by AWS to the root, every OU
/// and every account once RCPs are enabled, and not detachable (AWS Organizations
/// User Guide, "RCP evaluation"): `{"Effect": "Allow", "Principal": "*", "Action":
/// "*", "Resource": "*"}`. It lets every request pass RCP evaluation; it grants
/// nothing. The only RCP with an `Allow` (see [`PolicyKind::Rcp`]).
pub fn rcp_full_aws_access() -> Policy {
    Policy {
        name: "RCPFullAWSAccess".to_string(),
        ..full_aws_access()
    }
}
