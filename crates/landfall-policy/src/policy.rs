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
