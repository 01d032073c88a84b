//! Evaluating a request over an organization's hierarchy of SCPs.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::policy::{Effect, Policy};

/// One request: an action on a resource, with its context keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// e.g. `sagemaker:CreateEndpoint` (matched without regard to case).
    pub action: String,
    /// An ARN, or `*`.
    pub resource: String,
    /// Context keys, lower-cased (key names are case-insensitive; [`Request::with`]
    /// lower-cases, and evaluation lower-cases any that are not). A key may have
    /// several values; an empty list counts as absent.
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    /// A request on `resource` without context.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Request {
        Request {
            action: action.into(),
            resource: resource.into(),
            context: BTreeMap::new(),
        }
    }

    /// Adds a context key (lower-cased) with its values.
    pub fn with<I, S>(mut self, key: &str, values: I) -> Request
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.context
            .entry(key.to_lowercase())
            .or_default()
            .extend(values.into_iter().map(Into::into));
        self
    }

    /// The context with lower-cased keys (borrowed when it already is).
    pub fn normalized(&self) -> Cow<'_, BTreeMap<String, Vec<String>>> {
        if self
            .context
            .keys()
            .all(|k| !k.chars().any(char::is_uppercase))
        {
            return Cow::Borrowed(&self.context);
        }
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &self.context {
            out.entry(k.to_lowercase())
                .or_default()
                .extend(v.iter().cloned());
        }
        Cow::Owned(out)
    }
}

/// One level of the hierarchy: the root, each OU from the top down, then the
/// account.
#[derive(Debug, Clone)]
pub struct Level<'a> {
    /// e.g. `root`, `ou.Workloads`, `account.ml-dev`.
    pub name: String,
    /// The SCPs attached at this level.
    pub policies: Vec<&'a Policy>,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit Deny matched (the first one found walking root → account,
    /// policies and statements in order).
    ExplicitDeny {
        level: usize,
        level_name: String,
        policy: String,
        sid: Option<String>,
        /// The statement's index in its policy.
        statement: usize,
    },
    /// No Allow matched at this level (the first level, top-down, without one).
    ImplicitDeny {
        level: usize,
        level_name: String,
    },
}

impl Decision {
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// Evaluates `request` as AWS evaluates SCPs for a member account: an explicit
/// Deny matching at any level denies; otherwise every level must have at least
/// one matching Allow, else the request is implicitly denied at the first level
/// without one. An empty `levels` slice allows (nothing restricts).
///
/// The management account is not affected by SCPs: do not call this for it (see
/// [`evaluate_for_management_account`]).
pub fn evaluate(levels: &[Level<'_>], request: &Request) -> Decision {
    let ctx = request.normalized();
    let ctx = ctx.as_ref();
    let (action, resource) = (request.action.as_str(), request.resource.as_str());
    let mut without_allow: Option<usize> = None;
    for (i, level) in levels.iter().enumerate() {
        let mut allowed = false;
        for policy in &level.policies {
            for st in &policy.statements {
                match st.effect {
                    Effect::Deny => {
                        if st.matches(action, resource, ctx) {
                            return Decision::ExplicitDeny {
                                level: i,
                                level_name: level.name.clone(),
                                policy: policy.name.clone(),
                                sid: st.sid.clone(),
                                statement: st.index,
                            };
                        }
                    }
                    Effect::Allow => {
                        if !allowed && without_allow.is_none() && st.matches(action, resource, ctx)
                        {
                            allowed = true;
                        }
                    }
                }
            }
        }
        if !allowed && without_allow.is_none() {
            without_allow = Some(i);
        }
    }
    match without_allow.and_then(|i| levels.get(i).map(|l| (i, l))) {
        Some((level, l)) => Decision::ImplicitDeny {
            level,
            level_name: l.name.clone(),
        },
        None => Decision::Allow,
    }
}

/// The decision for any request in the management account: SCPs do not apply to
/// it, so it is always [`Decision::Allow`] (as far as SCPs go).
pub fn evaluate_for_management_account() -> Decision {
    Decision::Allow
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::{full_aws_access, parse};

    fn level<'a>(name: &str, policies: &[&'a Policy]) -> Level<'a> {
        Level {
            name: name.to_string(),
            policies: policies.to_vec(),
        }
    }

    #[test]
    fn deny_wins_and_allow_is_needed_everywhere() {
        let full = full_aws_access();
        let deny = parse(
            "deny-endpoints",
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Action":"sagemaker:CreateEndpoint","Resource":"*"}]}"#,
        )
        .unwrap();
        let only_s3 = parse(
            "only-s3",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        )
        .unwrap();
        let levels = [
            level("root", &[&full]),
            level("ou.Dev", &[&full, &deny]),
            level("account.a", &[&only_s3]),
        ];
        assert_eq!(
            evaluate(&levels, &Request::new("SageMaker:createendpoint", "*")),
            Decision::ExplicitDeny {
                level: 1,
                level_name: "ou.Dev".into(),
                policy: "deny-endpoints".into(),
                sid: Some("D".into()),
                statement: 0
            }
        );
        assert_eq!(
            evaluate(&levels, &Request::new("ec2:RunInstances", "*")),
            Decision::ImplicitDeny {
                level: 2,
                level_name: "account.a".into()
            }
        );
        assert!(evaluate(&levels, &Request::new("s3:GetObject", "*")).is_allow());
        // A deny below a level without an Allow still wins.
        let levels = [level("root", &[]), level("ou.Dev", &[&deny])];
        assert!(matches!(
            evaluate(&levels, &Request::new("sagemaker:CreateEndpoint", "*")),
            Decision::ExplicitDeny { level: 1, .. }
        ));
        assert!(evaluate(&[], &Request::new("x:y", "*")).is_allow());
        assert!(evaluate_for_management_account().is_allow());
    }

    #[test]
    fn context_keys_are_case_insensitive() {
        let deny = parse(
            "regions",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"AWS:RequestedRegion":"eu-west-1"}}}]}"#,
        )
        .unwrap();
        let full = full_aws_access();
        let levels = [level("root", &[&full, &deny])];
        let mut r = Request::new("ec2:RunInstances", "*");
        r.context
            .insert("aws:RequestedRegion".into(), vec!["eu-west-1".into()]);
        assert!(evaluate(&levels, &r).is_allow());
        let r = Request::new("ec2:RunInstances", "*").with("Aws:RequestedRegion", ["us-east-1"]);
        assert!(!evaluate(&levels, &r).is_allow());
    }
}
