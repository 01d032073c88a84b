//! Evaluating a principal's request within one account across the layers of
//! policies AWS applies to it: the SCPs of the account's organization (every level,
//! root to account), the principal's identity-based policies (for an IAM Identity
//! Center permission set: its AWS-managed, customer-managed and inline policies)
//! and its permissions boundary.
//!
//! AWS's documented logic ("Policy evaluation logic: How AWS enforcement code logic
//! evaluates requests to allow or deny access", and "Permissions boundaries for IAM
//! entities: Evaluating effective permissions with boundaries"):
//!
//! 1. an explicit Deny in any applicable policy denies;
//! 2. the SCPs must allow: at every level an Allow must match (not for the
//!    management account, which SCPs do not affect);
//! 3. an identity-based policy must allow;
//! 4. when the principal has a permissions boundary, the boundary must allow — it
//!    grants nothing by itself.
//!
//! Resource control policies (RCPs) of the **resource's** account are one more
//! layer, [`Layer::Rcp`], checked like the SCPs (every level, root → OUs →
//! account, must allow — AWS attaches `RCPFullAWSAccess` at each —, any Deny
//! denies). It comes before the SCPs, where IAM's evaluation flow ("Policy
//! evaluation logic: How AWS enforcement code logic evaluates requests", its
//! diagram and list: deny evaluation, then Organizations RCPs, then Organizations
//! SCPs, then resource-based, identity-based, boundary, session policies) puts it.
//! RCPs apply only:
//!
//! - to resources in member accounts: `Layers::rcps` is `None` for a resource in
//!   the management account ("RCPs don't affect resources in the management
//!   account") or when no RCP layer is known;
//! - to the actions of the services RCPs support ([`crate::RCP_SERVICES`]): for any
//!   other service's action the RCP layer is skipped, whatever its policies say
//!   (the "List of AWS services that support RCPs" is the whole of their reach).
//!
//! Requests AWS exempts from RCPs by who makes them — service-linked roles, AWS
//! managed KMS keys ("Resources and entities not restricted by RCPs") — are the
//! caller's to recognise (pass `rcps: None`). Requests by AWS service principals
//! are not exempted here: AWS's data-perimeter RCP examples exempt them themselves,
//! with a condition on `aws:PrincipalIsAWSService`, and the model follows the
//! policies.
//!
//! Resource-based and session policies are not modelled.
//!
//! Which explicit Deny is reported when several match is not AWS's to say (any one
//! denies); it is the first one in the order the allow checks run: the RCPs, then
//! the SCPs (each root → account, then policies and statements in order, as
//! [`crate::evaluate`] reports), then the identity-based policies (in the order
//! given, statements in document order), then the boundary. So the same request
//! always names the same statement. Implicit denials follow the same order.

use crate::eval::{Decision, Level, Request, evaluate};
use crate::policy::{Effect, Policy, rcp_applies};

/// A layer of policies a principal's request passes through, in the order AWS
/// checks them for an Allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// The resource control policies of the resource's account.
    Rcp,
    /// The service control policies of the principal's account.
    Scp,
    /// The principal's identity-based policies.
    Identity,
    /// The principal's permissions boundary.
    Boundary,
}

impl Layer {
    /// Every layer, in evaluation order.
    pub const ALL: [Layer; 4] = [Layer::Rcp, Layer::Scp, Layer::Identity, Layer::Boundary];

    /// A stable identifier: `rcp`, `scp`, `identity`, `boundary`.
    pub fn id(self) -> &'static str {
        match self {
            Layer::Rcp => "rcp",
            Layer::Scp => "scp",
            Layer::Identity => "identity",
            Layer::Boundary => "boundary",
        }
    }

    /// The layer as AWS's documentation names it.
    pub fn description(self) -> &'static str {
        match self {
            Layer::Rcp => "resource control policies",
            Layer::Scp => "service control policies",
            Layer::Identity => "identity-based policies",
            Layer::Boundary => "permissions boundary",
        }
    }
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.description())
    }
}

/// The policies that apply to one principal's requests in one account.
#[derive(Debug, Clone, Copy)]
pub struct Layers<'a> {
    /// The SCP hierarchy of the account (root, OUs top-down, account); `None` for
    /// the management account, which SCPs do not affect.
    pub scps: Option<&'a [Level<'a>]>,
    /// The identity-based policies; an Allow in any one of them allows.
    pub identity: &'a [&'a Policy],
    /// The permissions boundary, when the principal has one (`None`: no boundary,
    /// nothing to intersect with). AWS takes one managed policy; a slice lets a
    /// caller pass it as it has it.
    pub boundary: Option<&'a [&'a Policy]>,
    /// The RCP hierarchy of the account that owns the resource (root, OUs
    /// top-down, account); `None` when RCPs do not apply: a resource in the
    /// management account, or no RCP layer known. Consulted only for the actions
    /// of [`crate::RCP_SERVICES`].
    pub rcps: Option<&'a [Level<'a>]>,
}

/// A statement that decided: its policy, `Sid` and index in the policy's
/// `Statement` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementRef {
    pub policy: String,
    pub sid: Option<String>,
    pub statement: usize,
}

/// The outcome of [`evaluate_principal`], naming the layer that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalDecision {
    /// Every layer allows; the identity statement that grants the request (the
    /// first matching Allow, policies and statements in order).
    Allow(StatementRef),
    /// An explicit Deny matched (the first one, in the order of the module
    /// documentation). `level` names the SCP or RCP level (`root`,
    /// `ou.Workloads`, ...); `None` in the other layers.
    ExplicitDeny {
        layer: Layer,
        level: Option<String>,
        by: StatementRef,
    },
    /// No explicit Deny, but this layer has no matching Allow (for SCPs and RCPs,
    /// at `level`, the first level top-down without one).
    ImplicitDeny { layer: Layer, level: Option<String> },
}

impl PrincipalDecision {
    pub fn is_allow(&self) -> bool {
        matches!(self, PrincipalDecision::Allow(_))
    }

    /// The layer that decided: [`Layer::Identity`] for an Allow (the grant comes
    /// from there; the other layers only let it through).
    pub fn layer(&self) -> Layer {
        match self {
            PrincipalDecision::Allow(_) => Layer::Identity,
            PrincipalDecision::ExplicitDeny { layer, .. }
            | PrincipalDecision::ImplicitDeny { layer, .. } => *layer,
        }
    }
}

/// Decides `request` for a principal whose policies are `layers`, as AWS decides
/// a request within a single account (see the module documentation for the order
/// and for which Deny is reported). SCP levels are evaluated exactly as
/// [`evaluate`] does.
pub fn evaluate_principal(layers: &Layers<'_>, request: &Request) -> PrincipalDecision {
    let rcps = layers
        .rcps
        .filter(|_| rcp_applies(&request.action))
        .map(|levels| evaluate(levels, request));
    let scps = layers.scps.map(|levels| evaluate(levels, request));
    for (layer, decision) in [(Layer::Rcp, &rcps), (Layer::Scp, &scps)] {
        if let Some(Decision::ExplicitDeny {
            level_name,
            policy,
            sid,
            statement,
            ..
        }) = decision
        {
            return PrincipalDecision::ExplicitDeny {
                layer,
                level: Some(level_name.clone()),
                by: StatementRef {
                    policy: policy.clone(),
                    sid: sid.clone(),
                    statement: *statement,
                },
            };
        }
    }
    let identity_deny = first_match(layers.identity, Effect::Deny, request);
    let boundary_deny = layers
        .boundary
        .and_then(|b| first_match(b, Effect::Deny, request));
    for (layer, deny) in [
        (Layer::Identity, identity_deny),
        (Layer::Boundary, boundary_deny),
    ] {
        if let Some(by) = deny {
            return PrincipalDecision::ExplicitDeny {
                layer,
                level: None,
                by,
            };
        }
    }
    for (layer, decision) in [(Layer::Rcp, rcps), (Layer::Scp, scps)] {
        if let Some(Decision::ImplicitDeny { level_name, .. }) = decision {
            return PrincipalDecision::ImplicitDeny {
                layer,
                level: Some(level_name),
            };
        }
    }
    let Some(allow) = first_match(layers.identity, Effect::Allow, request) else {
        return PrincipalDecision::ImplicitDeny {
            layer: Layer::Identity,
            level: None,
        };
    };
    if let Some(boundary) = layers.boundary
        && first_match(boundary, Effect::Allow, request).is_none()
    {
        return PrincipalDecision::ImplicitDeny {
            layer: Layer::Boundary,
            level: None,
        };
    }
    PrincipalDecision::Allow(allow)
}

/// The first statement of `effect` in `policies` (in order) that matches `request`.
fn first_match(policies: &[&Policy], effect: Effect, request: &Request) -> Option<StatementRef> {
    let ctx = request.normalized();
    let (action, resource) = (request.action.as_str(), request.resource.as_str());
    policies.iter().find_map(|policy| {
        policy
            .statements
            .iter()
            .find(|st| st.effect == effect && st.matches(action, resource, &ctx))
            .map(|st| StatementRef {
                policy: policy.name.clone(),
                sid: st.sid.clone(),
                statement: st.index,
            })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::{PolicyKind, full_aws_access, parse, parse_as};

    fn identity(name: &str, statements: &str) -> Policy {
        parse_as(
            PolicyKind::Identity,
            name,
            &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
        )
        .unwrap()
    }

    #[test]
    fn layers_in_order() {
        let full = full_aws_access();
        let deny_scp = parse(
            "deny-iam",
            r#"{"Version":"2012-10-17","Statement":{"Sid":"NoIam","Effect":"Deny","Action":"iam:*","Resource":"*"}}"#,
        )
        .unwrap();
        let levels = [
            Level {
                name: "root".into(),
                policies: vec![&full],
            },
            Level {
                name: "account.a".into(),
                policies: vec![&full, &deny_scp],
            },
        ];
        let admin = identity(
            "admin",
            r#"{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"},
               {"Sid":"NoBilling","Effect":"Deny","Action":"aws-portal:*","Resource":"*"}"#,
        );
        let boundary = identity(
            "boundary",
            r#"{"Sid":"Ceiling","Effect":"Allow","Action":["s3:*","iam:*","aws-portal:*"],"Resource":"*"},
               {"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}"#,
        );
        let layers = Layers {
            scps: Some(&levels),
            identity: &[&admin],
            boundary: Some(&[&boundary]),
            rcps: None,
        };
        let decide = |action: &str| evaluate_principal(&layers, &Request::new(action, "*"));
        assert_eq!(
            decide("s3:GetObject"),
            PrincipalDecision::Allow(StatementRef {
                policy: "admin".into(),
                sid: Some("All".into()),
                statement: 0
            })
        );
        assert_eq!(
            decide("iam:CreateUser"),
            PrincipalDecision::ExplicitDeny {
                layer: Layer::Scp,
                level: Some("account.a".into()),
                by: StatementRef {
                    policy: "deny-iam".into(),
                    sid: Some("NoIam".into()),
                    statement: 0
                }
            }
        );
        assert!(matches!(
            decide("aws-portal:ViewBilling"),
            PrincipalDecision::ExplicitDeny {
                layer: Layer::Identity,
                ..
            }
        ));
        assert!(matches!(
            decide("s3:DeleteBucket"),
            PrincipalDecision::ExplicitDeny {
                layer: Layer::Boundary,
                ..
            }
        ));
        assert_eq!(
            decide("ec2:RunInstances"),
            PrincipalDecision::ImplicitDeny {
                layer: Layer::Boundary,
                level: None
            }
        );
        // No identity policy: nothing grants.
        let bare = Layers {
            scps: None,
            identity: &[],
            boundary: None,
            rcps: None,
        };
        assert_eq!(
            evaluate_principal(&bare, &Request::new("s3:GetObject", "*")).layer(),
            Layer::Identity
        );
        // The management account: SCPs do not apply.
        let management = Layers {
            scps: None,
            ..layers
        };
        assert!(evaluate_principal(&management, &Request::new("iam:CreateUser", "*")).is_allow());
    }

    #[test]
    fn rcps_apply_to_their_services_only_and_must_allow_at_every_level() {
        let rcp_full = crate::rcp_full_aws_access();
        assert_eq!(rcp_full.name, "RCPFullAWSAccess");
        assert!(crate::rcp_applies("S3:GetObject") && crate::rcp_applies("aoss:APIAccessAll"));
        assert!(!crate::rcp_applies("ec2:RunInstances") && !crate::rcp_applies("*"));
        let admin = identity("admin", r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        // An RCP level without RCPFullAWSAccess: supported services are implicitly
        // denied there, others pass.
        let levels = [
            Level {
                name: "root".into(),
                policies: vec![&rcp_full],
            },
            Level {
                name: "account.b".into(),
                policies: vec![],
            },
        ];
        let layers = Layers {
            scps: None,
            identity: &[&admin],
            boundary: None,
            rcps: Some(&levels),
        };
        assert_eq!(
            evaluate_principal(&layers, &Request::new("kms:Decrypt", "*")),
            PrincipalDecision::ImplicitDeny {
                layer: Layer::Rcp,
                level: Some("account.b".into())
            }
        );
        assert!(evaluate_principal(&layers, &Request::new("ec2:RunInstances", "*")).is_allow());
        let management = Layers {
            rcps: None,
            ..layers
        };
        assert!(evaluate_principal(&management, &Request::new("kms:Decrypt", "*")).is_allow());
        // Size: RCPs share the SCP quota.
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Sid":"{}","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}}}"#,
            "A".repeat(crate::RCP_MAX_CHARS)
        );
        let findings = crate::lint_as(PolicyKind::Rcp, "big", &big, crate::RCP_MAX_CHARS);
        assert_eq!(
            findings.iter().map(|f| f.code).collect::<Vec<_>>(),
            ["too-large"]
        );
    }

    #[test]
    fn an_scp_deny_wins_over_an_scp_implicit_deny_found_earlier() {
        let allow_s3 = parse(
            "only-s3",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
        )
        .unwrap();
        let full = full_aws_access();
        let admin = identity("admin", r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
        let deny_all = identity(
            "deny",
            r#"{"Sid":"D","Effect":"Deny","Action":"*","Resource":"*"}"#,
        );
        let levels = [
            Level {
                name: "root".into(),
                policies: vec![&allow_s3],
            },
            Level {
                name: "account.a".into(),
                policies: vec![&full],
            },
        ];
        // The SCPs deny implicitly at the root, but an identity Deny is explicit:
        // an explicit deny is reported before any implicit one.
        let layers = Layers {
            scps: Some(&levels),
            identity: &[&admin, &deny_all],
            boundary: None,
            rcps: None,
        };
        assert!(matches!(
            evaluate_principal(&layers, &Request::new("ec2:RunInstances", "*")),
            PrincipalDecision::ExplicitDeny {
                layer: Layer::Identity,
                ..
            }
        ));
        let layers = Layers {
            identity: &[&admin],
            ..layers
        };
        assert_eq!(
            evaluate_principal(&layers, &Request::new("ec2:RunInstances", "*")),
            PrincipalDecision::ImplicitDeny {
                layer: Layer::Scp,
                level: Some("root".into())
            }
        );
    }
}
