//! Effective SCP permissions: the policy hierarchy each account sits under (root → OUs →
//! account), built from the desired state or from the live organization, and what it
//! decides — for `landfall explain`, `[[expect]]` expectations, lockout protection and
//! the blast radius of an SCP change. Pure; the evaluation itself is `landfall-policy`.

use std::collections::{BTreeMap, BTreeSet};

use landfall_policy::{
    Decision, Layer, Layers, Level, Policy, PolicyKind, PrincipalDecision, Request, evaluate,
    evaluate_principal, full_aws_access, parse, parse_as, rcp_applies, rcp_full_aws_access,
};

use crate::address::{FULL_AWS_ACCESS, OuPath, Target};
use crate::live::{LiveIndex, LiveState};
use crate::model::{
    DesiredState, ExpectScope, Expectation, ExpectedDecision, OrgPolicyType, PermissionSetSpec,
    PermissionsBoundary, PolicyType,
};
use crate::policy_type::RCP_FULL_AWS_ACCESS;

/// The organization id offline evaluation assumes: `${organization_id}` in a policy is
/// this, and so is a principal's `aws:PrincipalOrgID` unless the request says
/// otherwise. Live evaluation uses the organization's own.
pub const SAMPLE_ORGANIZATION_ID: &str = "o-exampleorgid";

/// The SCPs and where they are attached, per account.
#[derive(Debug, Default)]
pub struct Hierarchy {
    policies: BTreeMap<String, Policy>,
    /// Each parsed policy's document as written (the blast radius compares them).
    texts: BTreeMap<String, String>,
    /// Policy names attached to each target, in name order.
    attached: BTreeMap<Target, Vec<String>>,
    /// Each account's OU chain, top-down (empty: directly under the root).
    accounts: BTreeMap<String, Vec<OuPath>>,
    /// Policies that did not parse (name, first problem): they are left out.
    pub problems: Vec<(String, String)>,
    /// Resource control policies rather than SCPs: parsed with the RCP grammar, and
    /// `RCPFullAWSAccess` on every level (AWS attaches it to every root, OU and
    /// account once RCPs are enabled, and it cannot be detached).
    rcp: bool,
    /// For RCPs: the principal's `aws:PrincipalOrgID` when a request does not give
    /// one (the principal is in the organization).
    pub organization_id: Option<String>,
}

impl Hierarchy {
    /// The hierarchy the desired state declares.
    pub fn from_desired(desired: &DesiredState) -> Self {
        let mut h = Hierarchy::default();
        h.policies
            .insert(FULL_AWS_ACCESS.to_string(), full_aws_access());
        for (name, spec) in &desired.policies {
            let content = spec
                .content
                .replace(crate::model::ORGANIZATION_ID_VAR, SAMPLE_ORGANIZATION_ID);
            h.add_policy(name, &content);
        }
        for att in &desired.attachments {
            h.attached
                .entry(att.target.clone())
                .or_default()
                .push(att.policy.clone());
        }
        for (name, spec) in &desired.accounts {
            h.accounts.insert(name.clone(), chain(spec.ou.as_ref()));
        }
        h
    }

    /// The hierarchy live in the organization. Accounts are named as the desired state
    /// names them when their email matches a declared account, else by their live name;
    /// the management account is left out (SCPs do not affect it).
    pub fn from_live(live: &LiveState, desired: &DesiredState) -> Self {
        let mut h = Hierarchy::default();
        let mut names_by_id: BTreeMap<&str, String> = BTreeMap::new();
        for p in live.policies.values() {
            if p.aws_managed && p.name == FULL_AWS_ACCESS {
                h.policies
                    .insert(FULL_AWS_ACCESS.to_string(), full_aws_access());
            } else {
                h.add_policy(&p.name, &p.content);
            }
            names_by_id.insert(p.id.as_str(), p.name.clone());
        }
        h.place_live(live, desired, &names_by_id, &live.attachments);
        h
    }

    /// The resource control policies live in the organization `organization_id`;
    /// `None` when RCPs are not enabled on its root.
    pub fn rcps_from_live(
        live: &LiveState,
        desired: &DesiredState,
        organization_id: &str,
    ) -> Option<Self> {
        if !live
            .enabled_policy_types
            .contains(&PolicyType::ResourceControlPolicy)
        {
            return None;
        }
        let mut h = Hierarchy {
            rcp: true,
            organization_id: Some(organization_id.to_string()),
            ..Hierarchy::default()
        };
        h.policies
            .insert(RCP_FULL_AWS_ACCESS.to_string(), rcp_full_aws_access());
        let mut names_by_id: BTreeMap<&str, String> = BTreeMap::new();
        for p in live
            .org_policies
            .values()
            .filter(|p| p.policy_type == OrgPolicyType::Rcp && !p.aws_managed)
        {
            h.add_policy(&p.name, &p.content);
            names_by_id.insert(p.id.as_str(), p.name.clone());
        }
        h.place_live(live, desired, &names_by_id, &live.org_policy_attachments);
        Some(h)
    }

    /// The live accounts (named as declared when their email matches, else by their
    /// live name; the management account left out: neither SCPs nor RCPs affect it)
    /// and the attachments of the named policies.
    fn place_live(
        &mut self,
        live: &LiveState,
        desired: &DesiredState,
        names_by_id: &BTreeMap<&str, String>,
        attachments: &BTreeSet<(String, String)>,
    ) {
        let index = LiveIndex::new(live);
        let declared_by_email: BTreeMap<String, &str> = desired
            .accounts
            .iter()
            .map(|(name, spec)| (spec.email.to_ascii_lowercase(), name.as_str()))
            .collect();
        let mut account_names: BTreeMap<&str, String> = BTreeMap::new();
        for a in live.accounts.values() {
            if a.id == live.management_account_id {
                continue;
            }
            let name = declared_by_email
                .get(&a.email.to_ascii_lowercase())
                .map(|n| n.to_string())
                .unwrap_or_else(|| a.name.clone());
            let ou = match index.parent_target(&a.parent_id) {
                Some(Target::Ou(p)) => Some(p),
                _ => None,
            };
            self.accounts.insert(name.clone(), chain(ou.as_ref()));
            account_names.insert(a.id.as_str(), name);
        }
        for (policy_id, target_id) in attachments {
            let Some(policy) = names_by_id.get(policy_id.as_str()) else {
                continue;
            };
            let target = if *target_id == live.root_id {
                Some(Target::Root)
            } else if let Some(p) = index.ou_path(target_id) {
                Some(Target::Ou(p.clone()))
            } else {
                account_names
                    .get(target_id.as_str())
                    .map(|n| Target::Account(n.clone()))
            };
            if let Some(target) = target {
                self.attached
                    .entry(target)
                    .or_default()
                    .push(policy.clone());
            }
        }
        for list in self.attached.values_mut() {
            list.sort();
        }
    }

    /// The resource control policies the desired state declares (`${organization_id}`
    /// read as [`SAMPLE_ORGANIZATION_ID`]); `None` when it declares none.
    pub fn rcps_from_desired(desired: &DesiredState) -> Option<Self> {
        let rcps: Vec<_> = desired
            .org_policies
            .iter()
            .filter(|p| p.policy_type == OrgPolicyType::Rcp)
            .collect();
        if rcps.is_empty() {
            return None;
        }
        let mut h = Hierarchy {
            rcp: true,
            organization_id: Some(SAMPLE_ORGANIZATION_ID.into()),
            ..Hierarchy::default()
        };
        h.policies
            .insert(RCP_FULL_AWS_ACCESS.to_string(), rcp_full_aws_access());
        for spec in rcps {
            let content = spec
                .content
                .replace(crate::model::ORGANIZATION_ID_VAR, SAMPLE_ORGANIZATION_ID);
            h.add_policy(&spec.name, &content);
        }
        for att in desired
            .org_policy_attachments
            .iter()
            .filter(|a| a.policy_type == OrgPolicyType::Rcp)
        {
            h.attached
                .entry(att.attachment.target.clone())
                .or_default()
                .push(att.attachment.policy.clone());
        }
        for (name, spec) in &desired.accounts {
            h.accounts.insert(name.clone(), chain(spec.ou.as_ref()));
        }
        Some(h)
    }

    /// The request as this hierarchy evaluates it: for RCPs, a principal of the
    /// organization unless the request names another (`aws:PrincipalOrgID`).
    pub fn request_for(&self, request: &Request) -> Request {
        match &self.organization_id {
            Some(org) if !request.context.contains_key("aws:principalorgid") => {
                request.clone().with("aws:PrincipalOrgID", [org.clone()])
            }
            Some(_) | None => request.clone(),
        }
    }

    /// The RCP levels of the account that owns a resource, when RCPs apply to the
    /// request's action.
    pub fn rcp_levels(&self, resource_account: &str, request: &Request) -> Option<Vec<Level<'_>>> {
        (self.rcp && rcp_applies(&request.action))
            .then(|| self.levels(resource_account))
            .flatten()
    }

    fn add_policy(&mut self, name: &str, content: &str) {
        let parsed = if self.rcp {
            parse_as(PolicyKind::Rcp, name, content)
        } else {
            parse(name, content)
        };
        match parsed {
            Ok(p) => {
                self.policies.insert(name.to_string(), p);
                self.texts.insert(name.to_string(), content.to_string());
            }
            Err(findings) => {
                let first = findings
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| "does not parse".into());
                self.problems.push((name.to_string(), first));
            }
        }
    }

    /// The accounts the hierarchy knows, by name.
    pub fn accounts(&self) -> impl Iterator<Item = &str> {
        self.accounts.keys().map(String::as_str)
    }

    /// The accounts in an OU or below it.
    pub fn accounts_in(&self, ou: &OuPath) -> Vec<&str> {
        self.accounts
            .iter()
            .filter(|(_, c)| c.iter().any(|p| p == ou))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The levels above (and including) an account: root, each OU, the account.
    pub fn levels(&self, account: &str) -> Option<Vec<Level<'_>>> {
        let ous = self.accounts.get(account)?;
        let mut targets = vec![(Target::Root, "root".to_string())];
        targets.extend(
            ous.iter()
                .map(|p| (Target::Ou(p.clone()), format!("ou.{p}"))),
        );
        targets.push((
            Target::Account(account.to_string()),
            format!("account.{account}"),
        ));
        Some(
            targets
                .into_iter()
                .map(|(t, name)| Level {
                    name,
                    policies: self
                        .rcp
                        .then_some(RCP_FULL_AWS_ACCESS)
                        .into_iter()
                        .chain(
                            self.attached
                                .get(&t)
                                .into_iter()
                                .flatten()
                                .map(String::as_str),
                        )
                        .filter_map(|n| self.policies.get(n))
                        .collect(),
                })
                .collect(),
        )
    }

    /// The decision for a request made in an account, `None` for an unknown account.
    pub fn decide(&self, account: &str, request: &Request) -> Option<Decision> {
        Some(evaluate(&self.levels(account)?, request))
    }

    /// A request decided by the RCPs of the resource's account (when RCPs apply to
    /// its action) and then by the SCPs of the principal's account — `None` for a
    /// principal outside the organization, which no SCP governs. The layer that
    /// decided: an RCP denies first; otherwise the SCPs decide (or, outside the
    /// organization, the RCPs let it through). `None` for an unknown account.
    pub fn decide_with_rcps(
        &self,
        rcps: Option<&Hierarchy>,
        account: Option<&str>,
        resource_account: &str,
        request: &Request,
    ) -> Option<(Layer, Decision)> {
        // A principal of the organization has its id; one outside it has whatever the
        // request says (usually none).
        let request = match (rcps, account) {
            (Some(r), Some(_)) => r.request_for(request),
            (Some(_) | None, _) => request.clone(),
        };
        if let Some(levels) = rcps.and_then(|r| r.rcp_levels(resource_account, &request)) {
            let decision = evaluate(&levels, &request);
            if !decision.is_allow() || account.is_none() {
                return Some((Layer::Rcp, decision));
            }
        }
        match account {
            Some(account) => Some((Layer::Scp, self.decide(account, &request)?)),
            // Outside the organization and no RCP applies: nothing here denies.
            None => Some((Layer::Rcp, Decision::Allow)),
        }
    }

    /// Targets (root, OUs, accounts in the hierarchy) whose attached policies have no
    /// Allow statement at all: every request below them is implicitly denied.
    pub fn targets_without_allow(&self) -> Vec<Target> {
        let mut used: BTreeSet<Target> = BTreeSet::from([Target::Root]);
        for (account, chain) in &self.accounts {
            used.extend(chain.iter().cloned().map(Target::Ou));
            used.insert(Target::Account(account.clone()));
        }
        used.into_iter()
            .filter(|t| {
                !self.attached.get(t).into_iter().flatten().any(|n| {
                    self.policies.get(n).is_some_and(|p| {
                        p.statements
                            .iter()
                            .any(|s| s.effect == landfall_policy::Effect::Allow)
                    })
                })
            })
            .collect()
    }
}

fn chain(ou: Option<&OuPath>) -> Vec<OuPath> {
    let mut out = Vec::new();
    let mut cur = ou.cloned();
    while let Some(p) = cur {
        cur = p.parent();
        out.push(p);
    }
    out.reverse();
    out
}

/// A request as an expectation states it.
pub fn expectation_request(e: &Expectation) -> Request {
    let mut r = Request::new(e.action.clone(), e.resource.clone());
    for (k, v) in &e.context {
        r = r.with(k, v.clone());
    }
    r
}

/// One expectation checked in one account.
#[derive(Clone, Debug)]
pub struct ExpectationResult {
    /// Index into `DesiredState::expectations`.
    pub expectation: usize,
    /// `None` when the scope holds no account at all (a failure: nothing was checked).
    pub account: Option<String>,
    pub decision: Option<Decision>,
    /// For an expectation on a permission set: the decision for its session, every
    /// layer included.
    pub session: Option<PrincipalDecision>,
    /// Policies the session's decision could not include (not available offline): an
    /// expectation that depends on them is not passed.
    pub unavailable: Vec<String>,
    pub passed: bool,
}

/// The policies of a session of a permission set, parsed: its identity policies
/// (inline and AWS-managed) and its permissions boundary; what cannot be evaluated
/// here (a document not shipped, read or cached; customer-managed policies, which live
/// in each account) is named instead of guessed.
#[derive(Debug, Default)]
pub struct SessionPolicies {
    pub identity: Vec<Policy>,
    pub boundary: Option<Vec<Policy>>,
    pub unavailable: Vec<String>,
    /// Documents that did not parse (name, first problem).
    pub problems: Vec<(String, String)>,
}

/// The short name of an AWS-managed policy ARN (`.../job-function/ViewOnlyAccess` →
/// `ViewOnlyAccess`).
fn policy_short_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl SessionPolicies {
    /// `documents`: AWS-managed policy documents by ARN (shipped, cached or read live).
    pub fn of(spec: &PermissionSetSpec, documents: &BTreeMap<String, String>) -> Self {
        let mut out = SessionPolicies::default();
        let parse_into = |name: String,
                          doc: &str,
                          into: &mut Vec<Policy>,
                          problems: &mut Vec<(String, String)>| {
            match parse_as(PolicyKind::Identity, &name, doc) {
                Ok(p) => into.push(p),
                Err(findings) => problems.push((
                    name,
                    findings
                        .first()
                        .map(|f| f.message.clone())
                        .unwrap_or_else(|| "does not parse".into()),
                )),
            }
        };
        if let Some(doc) = &spec.inline_policy {
            parse_into(
                format!("{} (inline)", spec.name),
                doc,
                &mut out.identity,
                &mut out.problems,
            );
        }
        for arn in &spec.managed_policies {
            match documents.get(arn) {
                Some(doc) => parse_into(
                    policy_short_name(arn).to_string(),
                    doc,
                    &mut out.identity,
                    &mut out.problems,
                ),
                None => out.unavailable.push(format!("AWS-managed policy {arn}")),
            }
        }
        for r in &spec.customer_managed_policies {
            out.unavailable.push(format!(
                "customer-managed policy {r} (it lives in each account; Landfall does not read it)"
            ));
        }
        match &spec.permissions_boundary {
            None => {}
            Some(PermissionsBoundary::Managed(arn)) => match documents.get(arn) {
                Some(doc) => {
                    let mut b = Vec::new();
                    parse_into(
                        format!("{} (boundary)", policy_short_name(arn)),
                        doc,
                        &mut b,
                        &mut out.problems,
                    );
                    out.boundary = Some(b);
                }
                None => {
                    out.boundary = Some(Vec::new());
                    out.unavailable.push(format!("permissions boundary {arn}"));
                }
            },
            Some(PermissionsBoundary::Customer(r)) => {
                out.boundary = Some(Vec::new());
                out.unavailable.push(format!(
                    "permissions boundary, customer-managed policy {r} (it lives in each account)"
                ));
            }
        }
        out
    }

    /// The decision for this session's request in `account` (`None`: not in the
    /// hierarchy). SCPs apply unless `management` (the management account).
    /// `rcps`: the RCPs of the organization; those of `resource_account` (the
    /// account that owns the resource) apply unless it is the management account.
    pub fn decide(
        &self,
        h: &Hierarchy,
        rcps: Option<&Hierarchy>,
        (account, resource_account): (&str, &str),
        management: bool,
        request: &Request,
    ) -> Option<PrincipalDecision> {
        let levels = h.levels(account)?;
        let request = rcps.map_or_else(|| request.clone(), |r| r.request_for(request));
        let rcp_levels = rcps.and_then(|r| r.rcp_levels(resource_account, &request));
        let identity: Vec<&Policy> = self.identity.iter().collect();
        let boundary: Option<Vec<&Policy>> = self.boundary.as_ref().map(|b| b.iter().collect());
        let layers = Layers {
            scps: (!management).then_some(levels.as_slice()),
            identity: &identity,
            boundary: boundary.as_deref(),
            rcps: rcp_levels.as_deref(),
        };
        Some(evaluate_principal(&layers, &request))
    }
}

/// Checks every expectation in every account of its scope.
/// `sessions`: the session policies of the permission sets expectations name.
/// `rcps`: the resource control policies, applied to resources in the account the
/// request is made in.
pub fn check_expectations(
    desired: &DesiredState,
    h: &Hierarchy,
    rcps: Option<&Hierarchy>,
    sessions: &BTreeMap<String, SessionPolicies>,
) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    for (i, e) in desired.expectations.iter().enumerate() {
        let accounts: Vec<&str> = match &e.scope {
            ExpectScope::Account(a) => vec![a.as_str()],
            ExpectScope::Ou(ou) => h.accounts_in(ou),
        };
        if accounts.is_empty() {
            out.push(ExpectationResult {
                expectation: i,
                account: None,
                decision: None,
                session: None,
                unavailable: Vec::new(),
                passed: false,
            });
            continue;
        }
        let request = expectation_request(e);
        let session = e
            .permission_set
            .as_ref()
            .and_then(|name| sessions.get(name));
        for a in accounts {
            let decision = h
                .decide_with_rcps(rcps, Some(a), a, &request)
                .map(|(_, d)| d);
            let principal = session.and_then(|s| s.decide(h, rcps, (a, a), false, &request));
            let unavailable = session.map(|s| s.unavailable.clone()).unwrap_or_default();
            let allowed = match (&e.permission_set, &principal, &decision) {
                (Some(_), Some(p), _) => Some(p.is_allow()),
                // A permission set with no session policies known.
                (Some(_), None, _) => None,
                (None, _, Some(d)) => Some(d.is_allow()),
                (None, _, None) => None,
            };
            // An allow or an implicit deny may depend on a policy not evaluated; an
            // explicit deny does not (nothing can override it).
            let certain = unavailable.is_empty()
                || matches!(principal, Some(PrincipalDecision::ExplicitDeny { .. }));
            let passed = certain
                && match (allowed, e.decision) {
                    (Some(allowed), ExpectedDecision::Allow) => allowed,
                    (Some(allowed), ExpectedDecision::Deny) => !allowed,
                    (None, _) => false,
                };
            out.push(ExpectationResult {
                expectation: i,
                account: Some(a.to_string()),
                decision,
                session: principal,
                unavailable,
                passed,
            });
        }
    }
    out
}

/// What Landfall itself does in member accounts through its access role, as requests:
/// assume the role, then the EC2 and KMS calls of its networks and keys.
pub const ACCESS_ACTIONS_EC2: &[&str] = &[
    "ec2:DescribeVpcs",
    "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcEndpoints",
    "ec2:CreateVpc",
    "ec2:CreateSubnet",
    "ec2:CreateRouteTable",
    "ec2:AssociateRouteTable",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateVpcEndpoint",
    "ec2:ModifyVpcEndpoint",
    "ec2:DeleteVpcEndpoints",
    "ec2:CreateTags",
    "ec2:DeleteTags",
];
pub const ACCESS_ACTIONS_KMS: &[&str] = &[
    "kms:ListKeys",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "kms:CreateKey",
    "kms:PutKeyPolicy",
    "kms:EnableKeyRotation",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:TagResource",
    "kms:ScheduleKeyDeletion",
];

/// The organization trail's bucket: created and configured, then read by each refresh.
pub const ACCESS_ACTIONS_S3: &[&str] = &[
    "s3:CreateBucket",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketPolicy",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketPolicy",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketTagging",
];
/// The organization trail, made by CloudTrail's delegated administrator.
pub const ACCESS_ACTIONS_CLOUDTRAIL: &[&str] = &[
    "cloudtrail:CreateTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:StartLogging",
    "cloudtrail:AddTags",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:ListTags",
];
/// The Config aggregator and its role.
pub const ACCESS_ACTIONS_CONFIG: &[&str] = &[
    "iam:CreateRole",
    "iam:AttachRolePolicy",
    "iam:GetRole",
    "iam:PassRole",
    "config:PutConfigurationAggregator",
    "config:DescribeConfigurationAggregators",
];
/// The Access Analyzer analyzer.
pub const ACCESS_ACTIONS_ANALYZER: &[&str] = &[
    "access-analyzer:CreateAnalyzer",
    "access-analyzer:ListAnalyzers",
];

/// A request Landfall's access role needs that the SCPs deny.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lockout {
    pub account: String,
    pub region: String,
    pub action: String,
    /// Why: the deciding policy and level, or the level without an Allow.
    pub reason: String,
}

fn access_request(role_arn: &str, action: &str, region: &str) -> Request {
    Request::new(action, "*")
        .with("aws:RequestedRegion", vec![region.to_string()])
        .with("aws:PrincipalArn", vec![role_arn.to_string()])
}

/// Describes a deny decision in words: the policy, Sid and level, or the level that
/// lacked an Allow.
pub fn describe(decision: &Decision) -> String {
    match decision {
        Decision::Allow => "allowed".into(),
        Decision::ExplicitDeny {
            level_name,
            policy,
            sid,
            statement,
            ..
        } => match sid {
            Some(sid) => format!("denied by {policy} (Sid {sid}) attached to {level_name}"),
            None => format!("denied by {policy} (statement {statement}) attached to {level_name}"),
        },
        Decision::ImplicitDeny { level_name, .. } => {
            format!("implicitly denied: no attached SCP allows it at {level_name}")
        }
    }
}

/// The access-role requests the hierarchy denies, for every declared account: assuming
/// the role (home region) and the EC2/KMS calls in each region where it manages
/// networks or keys. `account_ids` gives live ids for the principal ARN when known.
pub fn lockouts(
    desired: &DesiredState,
    h: &Hierarchy,
    account_ids: &BTreeMap<String, String>,
) -> Vec<Lockout> {
    let lz = &desired.landing_zone;
    let mut needs: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for a in desired.accounts.keys() {
        needs
            .entry((a.as_str(), lz.home_region.as_str()))
            .or_default()
            .insert("sts:AssumeRole");
    }
    for net in desired.networks.values() {
        needs
            .entry((net.account.as_str(), net.region.as_str()))
            .or_default()
            .extend(ACCESS_ACTIONS_EC2);
    }
    for key in desired.kms_keys.values() {
        needs
            .entry((key.account.as_str(), key.region.as_str()))
            .or_default()
            .extend(ACCESS_ACTIONS_KMS);
    }
    // The security family in member accounts (a trail made by the management account
    // is out of the SCPs' reach).
    for bucket in desired.buckets.values() {
        needs
            .entry((bucket.account.as_str(), bucket.region.as_str()))
            .or_default()
            .extend(ACCESS_ACTIONS_S3);
    }
    for trail in desired.trails.values() {
        if let Some(admin) = &trail.administrator {
            needs
                .entry((admin.as_str(), trail.region.as_str()))
                .or_default()
                .extend(ACCESS_ACTIONS_CLOUDTRAIL);
        }
    }
    for aggregator in desired.config_aggregators.values() {
        needs
            .entry((aggregator.account.as_str(), aggregator.region.as_str()))
            .or_default()
            .extend(ACCESS_ACTIONS_CONFIG);
    }
    for analyzer in desired.access_analyzers.values() {
        needs
            .entry((analyzer.account.as_str(), analyzer.region.as_str()))
            .or_default()
            .extend(ACCESS_ACTIONS_ANALYZER);
    }
    let mut out = Vec::new();
    for ((account, region), actions) in needs {
        let id = account_ids.get(account).map(String::as_str).unwrap_or("*");
        let role = format!("arn:aws:iam::{id}:role/{}", lz.access_role);
        for action in actions {
            let Some(decision) = h.decide(account, &access_request(&role, action, region)) else {
                continue;
            };
            if !decision.is_allow() {
                out.push(Lockout {
                    account: account.to_string(),
                    region: region.to_string(),
                    action: action.to_string(),
                    reason: describe(&decision),
                });
            }
        }
    }
    out
}

/// Actions sampled to show how an SCP change moves each account's permissions.
pub const SAMPLE_ACTIONS: &[&str] = &[
    "sagemaker:CreateEndpoint",
    "sagemaker:InvokeEndpoint",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateNotebookInstance",
    "sagemaker:CreateDomain",
    "sagemaker:CreateModel",
    "sagemaker:CreateProcessingJob",
    "s3:GetObject",
    "s3:PutObject",
    "s3:CreateBucket",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutAccountPublicAccessBlock",
    "ec2:RunInstances",
    "ec2:CreateVpc",
    "ec2:CreateVpcEndpoint",
    "kms:CreateKey",
    "kms:Decrypt",
    "iam:CreateUser",
    "iam:CreateRole",
    "iam:PassRole",
    "sts:AssumeRole",
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "config:StopConfigurationRecorder",
    "organizations:LeaveOrganization",
    "logs:CreateLogGroup",
    "ecr:GetAuthorizationToken",
    "codebuild:StartBuild",
    "glue:CreateJob",
    "athena:StartQueryExecution",
];

/// At most this many condition values are tried per request: the sample grows with
/// accounts × regions × actions × values.
const MAX_CONTEXT_VARIANTS: usize = 16;

/// An action whose decision flips for an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flip {
    pub action: String,
    pub region: String,
    /// The one condition key and value the request carried, when it needed one to flip.
    pub context: Option<(String, String)>,
    pub before: bool,
    pub after: bool,
    /// What decides the new answer when it is a deny.
    pub deciding: Option<crate::plan::Deciding>,
}

/// What a policy document names that a change to it can flip, sampled on top of the
/// fixed set: its literal actions (no wildcard), its `aws:RequestedRegion` values, and
/// the literal values of its other condition keys.
#[derive(Default)]
struct Named {
    actions: BTreeSet<String>,
    regions: BTreeSet<String>,
    /// Condition key → values (other than the region and principal ARN, which every
    /// sampled request carries).
    context: BTreeMap<String, BTreeSet<String>>,
}

fn named_in(document: &str, named: &mut Named) {
    let Named {
        actions,
        regions,
        context,
    } = named;
    use serde_json::Value;
    fn literal(s: &str) -> bool {
        !s.contains(['*', '?', '$'])
    }
    fn strings(v: &Value) -> Vec<&str> {
        match v {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return;
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for s in statements {
        for key in ["Action", "NotAction"] {
            if let Some(v) = s.get(key) {
                actions.extend(
                    strings(v)
                        .into_iter()
                        .filter(|a| literal(a))
                        .map(str::to_string),
                );
            }
        }
        if let Some(Value::Object(operators)) = s.get("Condition") {
            for block in operators.values() {
                if let Value::Object(keys) = block {
                    for (k, v) in keys {
                        let values = strings(v).into_iter().filter(|r| literal(r));
                        if k.eq_ignore_ascii_case("aws:RequestedRegion") {
                            regions.extend(values.map(str::to_string));
                        } else if !k.eq_ignore_ascii_case("aws:PrincipalArn") {
                            context
                                .entry(k.clone())
                                .or_default()
                                .extend(values.map(str::to_string));
                        }
                    }
                }
            }
        }
    }
}

fn deciding(decision: &landfall_policy::Decision) -> Option<crate::plan::Deciding> {
    match decision {
        landfall_policy::Decision::Allow => None,
        landfall_policy::Decision::ExplicitDeny {
            level_name,
            policy,
            sid,
            ..
        } => Some(crate::plan::Deciding {
            level: level_name.clone(),
            policy: Some(policy.clone()),
            sid: sid.clone(),
        }),
        landfall_policy::Decision::ImplicitDeny { level_name, .. } => Some(crate::plan::Deciding {
            level: level_name.clone(),
            policy: None,
            sid: None,
        }),
    }
}

/// An account whose effective permissions change, with the sampled actions that flip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Impact {
    pub account: String,
    pub flips: Vec<Flip>,
}

/// Compares two hierarchies for every account known to `after`, on a sample of
/// requests: a fixed set of actions, plus every literal action the changed policies
/// name (before and after), in each governed region, one region outside them, and
/// every region the changed policies' `aws:RequestedRegion` conditions name. Accounts
/// new in `after` are skipped: they have no permissions to lose yet.
pub fn blast_radius(desired: &DesiredState, before: &Hierarchy, after: &Hierarchy) -> Vec<Impact> {
    let lz = &desired.landing_zone;
    let mut named = Named::default();
    let policy_names: BTreeSet<&String> = before.texts.keys().chain(after.texts.keys()).collect();
    for name in policy_names {
        let (b, a) = (before.texts.get(name), after.texts.get(name));
        // Compared by meaning, and only here: building a hierarchy (every plan) does
        // not pay for it.
        let canonical = |t: Option<&String>| t.map(|t| crate::model::canonical_json(t));
        if canonical(b) == canonical(a) {
            continue;
        }
        for text in [b, a].into_iter().flatten() {
            named_in(text, &mut named);
        }
    }
    let mut regions: Vec<String> = lz.governed_regions.clone();
    let outside = ["eu-west-1", "ap-southeast-2", "sa-east-1"]
        .into_iter()
        .find(|r| !regions.iter().any(|g| g == r));
    if let Some(r) = outside {
        regions.push(r.to_string());
    }
    for r in named.regions {
        if !regions.contains(&r) {
            regions.push(r);
        }
    }
    let mut actions: Vec<String> = SAMPLE_ACTIONS.iter().map(|a| a.to_string()).collect();
    for a in named.actions {
        if !actions.iter().any(|s| s.eq_ignore_ascii_case(&a)) {
            actions.push(a);
        }
    }
    let mut out = Vec::new();
    for account in after.accounts() {
        if before.levels(account).is_none() {
            continue;
        }
        let role = format!("arn:aws:iam::*:role/{}", lz.access_role);
        let mut flips = Vec::new();
        // Each request bare, then with each condition value the changed policies name
        // (one key at a time): a flip that only shows with a tag or an instance type
        // is still a flip.
        let variants: Vec<Option<(&String, &String)>> = std::iter::once(None)
            .chain(
                named
                    .context
                    .iter()
                    .flat_map(|(k, vs)| vs.iter().map(move |v| Some((k, v))))
                    .take(MAX_CONTEXT_VARIANTS),
            )
            .collect();
        for region in &regions {
            for action in &actions {
                for variant in &variants {
                    let mut request = Request::new(action.as_str(), "*")
                        .with("aws:RequestedRegion", vec![region.clone()])
                        .with("aws:PrincipalArn", vec![role.clone()]);
                    if let Some((k, v)) = variant {
                        request = request.with(k, vec![(*v).clone()]);
                    }
                    let (Some(b), Some(a)) = (
                        before.decide(account, &request),
                        after.decide(account, &request),
                    ) else {
                        continue;
                    };
                    if b.is_allow() != a.is_allow() {
                        flips.push(Flip {
                            action: action.to_string(),
                            region: region.clone(),
                            context: variant.map(|(k, v)| (k.clone(), v.clone())),
                            before: b.is_allow(),
                            after: a.is_allow(),
                            deciding: deciding(&a),
                        });
                        // One flip per action and region is enough to show it.
                        break;
                    }
                }
            }
        }
        if !flips.is_empty() {
            out.push(Impact {
                account: account.to_string(),
                flips,
            });
        }
    }
    out
}
