//! Resource addresses: the stable, human-readable names every resource has in plans,
//! state files and diagnostics (`ou.Workloads/Workloads_Dev`, `account.log-archive`,
//! `scp.deny-leave-org`, `attachment.deny-leave-org:ou.Workloads`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::policy_type::OrgPolicyType;

/// The name of the AWS-managed policy AWS attaches to every new root, OU and account.
pub const FULL_AWS_ACCESS: &str = "FullAWSAccess";

/// The tag Landfall puts on every member-account resource it creates (value: the
/// resource's address), so a resource whose creation response was lost is found again.
pub const ADDRESS_TAG: &str = "landfall:address";

/// A slash-separated OU path below the root, e.g. `Workloads/Workloads_Dev`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OuPath(String);

impl OuPath {
    /// Builds a path from a string already known to be well-formed (non-empty
    /// segments). Use [`OuPath::parse`] for user input.
    pub fn new(path: impl Into<String>) -> Self {
        OuPath(path.into())
    }

    /// Parses user input: non-empty segments separated by `/`, no leading or trailing `/`.
    pub fn parse(path: &str) -> Result<Self, String> {
        if path.is_empty() {
            return Err("an OU path cannot be empty".into());
        }
        if path.split('/').any(|s| s.trim().is_empty()) {
            return Err(format!(
                "`{path}` has an empty segment; write OU paths like `Workloads/Workloads_Dev`"
            ));
        }
        Ok(OuPath(path.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The OU's own name: the last segment.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The parent OU, or `None` when the parent is the root.
    pub fn parent(&self) -> Option<OuPath> {
        self.0.rsplit_once('/').map(|(p, _)| OuPath(p.to_string()))
    }

    /// Depth below the root: `Security` is 1, `Workloads/Workloads_Dev` is 2.
    pub fn depth(&self) -> usize {
        self.0.split('/').count()
    }

    pub fn child(&self, name: &str) -> OuPath {
        OuPath(format!("{}/{}", self.0, name))
    }

    /// True when `self` is `other` or lies below it.
    pub fn is_within(&self, other: &OuPath) -> bool {
        self == other || self.0.starts_with(&format!("{}/", other.0))
    }

    /// This path with `from` (itself or an ancestor) replaced by `to`; `None` when it
    /// is not within `from`.
    pub fn rebased(&self, from: &OuPath, to: &OuPath) -> Option<OuPath> {
        if self == from {
            return Some(to.clone());
        }
        self.0
            .strip_prefix(&format!("{}/", from.0))
            .map(|rest| OuPath(format!("{}/{rest}", to.0)))
    }
}

impl fmt::Display for OuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a policy is attached or an account lives: the root, an OU or an account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Root,
    Ou(OuPath),
    Account(String),
}

impl Target {
    /// The address of the resource this target names.
    pub fn address(&self) -> Address {
        match self {
            Target::Root => Address::Root,
            Target::Ou(p) => Address::Ou(p.clone()),
            Target::Account(a) => Address::Account(a.clone()),
        }
    }

    /// Parses the user-facing target syntax: `root`, `ou:Path/To/Ou`, `account:name`
    /// (the address forms `ou.Path` and `account.name` are accepted too).
    pub fn parse(s: &str) -> Result<Self, String> {
        if s == "root" {
            return Ok(Target::Root);
        }
        let rest = |p1: &str, p2: &str| s.strip_prefix(p1).or_else(|| s.strip_prefix(p2));
        if let Some(p) = rest("ou:", "ou.") {
            return OuPath::parse(p).map(Target::Ou);
        }
        if let Some(a) = rest("account:", "account.") {
            if a.is_empty() {
                return Err("an account target needs a name: `account:log-archive`".into());
            }
            return Ok(Target::Account(a.to_string()));
        }
        Err(format!(
            "`{s}` is not a target; write `root`, `ou:Workloads/Workloads_Dev` or `account:log-archive`"
        ))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.address(), f)
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Target::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A policy attached to a target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attachment {
    pub policy: String,
    pub target: Target,
}

/// Who an Identity Center account assignment gives access to: a group by display name
/// or a user by user name, as the Identity Store knows them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    Group(String),
    User(String),
}

impl Principal {
    /// `GROUP` or `USER`, as the SSO Admin API names the principal type.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Principal::Group(_) => "GROUP",
            Principal::User(_) => "USER",
        }
    }

    /// The display name (group) or user name (user).
    pub fn name(&self) -> &str {
        match self {
            Principal::Group(n) | Principal::User(n) => n,
        }
    }

    /// Parses `group.NAME` or `user.NAME` (also `group:NAME`, `user:NAME`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let rest = |p1: &str, p2: &str| s.strip_prefix(p1).or_else(|| s.strip_prefix(p2));
        match (rest("group.", "group:"), rest("user.", "user:")) {
            (Some(n), _) if !n.is_empty() => Ok(Principal::Group(n.to_string())),
            (_, Some(n)) if !n.is_empty() => Ok(Principal::User(n.to_string())),
            _ => Err(format!(
                "`{s}` is not a principal; write `group.NAME` or `user.NAME`"
            )),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Group(n) => write!(f, "group.{n}"),
            Principal::User(n) => write!(f, "user.{n}"),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Principal::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An IAM Identity Center account assignment: a permission set given to a principal
/// in one account (the API assigns per account; an OU in the configuration expands to
/// its accounts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Assignment {
    pub permission_set: String,
    pub principal: Principal,
    pub account: String,
}

/// The address of a managed resource.
///
/// Member-account resources are addressed by the `[network.NAME]` or `[kms_key.NAME]`
/// that declares them: `vpc.NET`, `subnet.NET.CIDR`, `route_table.NET`,
/// `security_group.NET`, `endpoint.NET.SERVICE`, `kms_key.NAME`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Address {
    Root,
    Ou(OuPath),
    Account(String),
    Scp(String),
    Attachment(Attachment),
    Vpc(String),
    /// Network name and subnet CIDR.
    Subnet(String, String),
    RouteTable(String),
    SecurityGroup(String),
    /// Network name and short service name (`sagemaker.api`).
    Endpoint(String, String),
    KmsKey(String),
    /// A Control Tower control enabled on an OU: the control's short identifier
    /// (`AWS-GR_RESTRICT_ROOT_USER`, `CT.MULTISERVICE.PV.1`) and the OU.
    Control(String, OuPath),
    /// An OU's registration with Control Tower: the `AWSControlTowerBaseline` enabled
    /// on it.
    Registration(OuPath),
    /// A Service Catalog portfolio, by its `[portfolio.NAME]`.
    Portfolio(String),
    /// A portfolio shared with the organization (`root`), an OU or an account.
    PortfolioShare(String, Target),
    /// An IAM Identity Center permission set, by its `[permission_set.NAME]` (its name
    /// in AWS).
    PermissionSet(String),
    /// An Identity Store group Landfall creates (`[group.NAME]`, its display name).
    Group(String),
    /// A permission set assigned to a group or user in an account (boxed: the largest
    /// address, and addresses travel in every error).
    Assignment(Box<Assignment>),
    /// An Organizations policy of a type other than SCP: `rcp.NAME`,
    /// `tag_policy.NAME`, `ai_opt_out_policy.NAME`.
    OrgPolicy(OrgPolicyType, String),
    /// Such a policy attached to a target: `rcp_attachment.NAME:TARGET`,
    /// `tag_policy_attachment.NAME:TARGET`, `ai_opt_out_policy_attachment.NAME:TARGET`.
    OrgPolicyAttachment(OrgPolicyType, Attachment),
    /// A policy type enabled on the root (`EnablePolicyType`): `policy_type.rcp`,
    /// `policy_type.tag_policy`, `policy_type.ai_opt_out_policy`.
    PolicyType(OrgPolicyType),
    /// A service's trusted access in the organization (`EnableAWSServiceAccess`), by
    /// service principal: `service_access.cloudtrail.amazonaws.com`.
    ServiceAccess(String),
    /// A service's delegated administrator account, by service principal:
    /// `delegated_admin.guardduty.amazonaws.com`.
    DelegatedAdmin(String),
    /// An S3 bucket Landfall creates (the organization trail's, in the log archive
    /// account), by its logical name: `bucket.org-trail`.
    Bucket(String),
    /// A CloudTrail trail (the organization trail): `trail.NAME`.
    Trail(String),
    /// An AWS Config organization aggregator in the delegated administrator account:
    /// `config_aggregator.NAME`.
    ConfigAggregator(String),
    /// An IAM Access Analyzer organization analyzer in the delegated administrator
    /// account: `access_analyzer.NAME`.
    AccessAnalyzer(String),
}

impl Address {
    pub fn kind(&self) -> &'static str {
        match self {
            Address::Root => "root",
            Address::Ou(_) => "ou",
            Address::Account(_) => "account",
            Address::Scp(_) => "scp",
            Address::Attachment(_) => "attachment",
            Address::Vpc(_) => "vpc",
            Address::Subnet(..) => "subnet",
            Address::RouteTable(_) => "route_table",
            Address::SecurityGroup(_) => "security_group",
            Address::Endpoint(..) => "endpoint",
            Address::KmsKey(_) => "kms_key",
            Address::Control(..) => "control",
            Address::Registration(_) => "registration",
            Address::Portfolio(_) => "portfolio",
            Address::PortfolioShare(..) => "portfolio_share",
            Address::PermissionSet(_) => "permission_set",
            Address::Group(_) => "group",
            Address::Assignment(_) => "assignment",
            Address::OrgPolicy(t, _) => t.key(),
            Address::OrgPolicyAttachment(t, _) => t.attachment_key(),
            Address::PolicyType(_) => "policy_type",
            Address::ServiceAccess(_) => "service_access",
            Address::DelegatedAdmin(_) => "delegated_admin",
            Address::Bucket(_) => "bucket",
            Address::Trail(_) => "trail",
            Address::ConfigAggregator(_) => "config_aggregator",
            Address::AccessAnalyzer(_) => "access_analyzer",
        }
    }

    /// The network a member-account network resource belongs to.
    pub fn network(&self) -> Option<&str> {
        self.member_kind()
            .and_then(crate::kind::MemberKind::network)
    }

    /// This address once the resource recorded at `from` is re-addressed `to` (a
    /// `[[moved]]` block): `to` for `from` itself, and for every address naming it the
    /// same address naming `to` — for an OU what lies under it and its attachments,
    /// controls, registration and shares; for an account its attachments and shares;
    /// for an SCP its attachments. `None` when the address does not name `from`.
    pub fn moved(&self, from: &Address, to: &Address) -> Option<Address> {
        if self == from {
            return Some(to.clone());
        }
        let names = Renamed::of(from, to);
        let target = |t: &Target| names.target(t);
        match self {
            Address::Ou(p) => names.ou(p).map(Address::Ou),
            Address::Attachment(a) => {
                let policy = names.policy(&a.policy);
                let target = target(&a.target);
                if policy.is_none() && target.is_none() {
                    return None;
                }
                Some(Address::attachment(
                    policy.unwrap_or(&a.policy),
                    target.unwrap_or_else(|| a.target.clone()),
                ))
            }
            Address::OrgPolicyAttachment(t, a) => target(&a.target).map(|target| {
                Address::OrgPolicyAttachment(
                    *t,
                    Attachment {
                        policy: a.policy.clone(),
                        target,
                    },
                )
            }),
            Address::Control(c, p) => names.ou(p).map(|p| Address::Control(c.clone(), p)),
            Address::Registration(p) => names.ou(p).map(Address::Registration),
            Address::PortfolioShare(name, t) => {
                target(t).map(|t| Address::PortfolioShare(name.clone(), t))
            }
            Address::Assignment(a) => names.account(&a.account).map(|account| {
                Address::Assignment(Box::new(Assignment {
                    account: account.to_string(),
                    ..(**a).clone()
                }))
            }),
            // Named by nothing but themselves: member resources are addressed by their
            // network or key and live in an account by id, never by its name.
            Address::Root
            | Address::Account(_)
            | Address::Scp(_)
            | Address::Vpc(_)
            | Address::Subnet(..)
            | Address::RouteTable(_)
            | Address::SecurityGroup(_)
            | Address::Endpoint(..)
            | Address::KmsKey(_)
            | Address::Portfolio(_)
            | Address::PermissionSet(_)
            | Address::Group(_)
            | Address::OrgPolicy(..)
            | Address::PolicyType(_)
            | Address::ServiceAccess(_)
            | Address::DelegatedAdmin(_)
            | Address::Bucket(_)
            | Address::Trail(_)
            | Address::ConfigAggregator(_)
            | Address::AccessAnalyzer(_) => None,
        }
    }

    /// The OU an address is, or is on: an OU, an attachment or share targeting one, a
    /// control or registration; `None` for the rest.
    pub fn ou(&self) -> Option<&OuPath> {
        fn target(t: &Target) -> Option<&OuPath> {
            if let Target::Ou(p) = t { Some(p) } else { None }
        }
        match self {
            Address::Ou(p) | Address::Control(_, p) | Address::Registration(p) => Some(p),
            Address::Attachment(a) | Address::OrgPolicyAttachment(_, a) => target(&a.target),
            Address::PortfolioShare(_, t) => target(t),
            Address::Root
            | Address::Account(_)
            | Address::Scp(_)
            | Address::Vpc(_)
            | Address::Subnet(..)
            | Address::RouteTable(_)
            | Address::SecurityGroup(_)
            | Address::Endpoint(..)
            | Address::KmsKey(_)
            | Address::Portfolio(_)
            | Address::PermissionSet(_)
            | Address::Group(_)
            | Address::Assignment(_)
            | Address::OrgPolicy(..)
            | Address::PolicyType(_)
            | Address::ServiceAccess(_)
            | Address::DelegatedAdmin(_)
            | Address::Bucket(_)
            | Address::Trail(_)
            | Address::ConfigAggregator(_)
            | Address::AccessAnalyzer(_) => None,
        }
    }

    /// The resources this address is written in terms of: an OU's parent OU, an
    /// attachment's SCP and target, a control's or registration's OU, a share's
    /// portfolio and target, and the VPC of a network's subnets, route table, security
    /// group and endpoints. A record naming another cannot outlive it in the state
    /// without the plan acting on half a resource (`landfall state rm`).
    pub fn names(&self) -> Vec<Address> {
        match self {
            Address::Ou(p) => p.parent().map(Address::Ou).into_iter().collect(),
            Address::Attachment(a) => vec![Address::Scp(a.policy.clone()), a.target.address()],
            Address::OrgPolicyAttachment(t, a) => {
                vec![Address::OrgPolicy(*t, a.policy.clone()), a.target.address()]
            }
            Address::Control(_, p) | Address::Registration(p) => vec![Address::Ou(p.clone())],
            Address::PortfolioShare(name, t) => {
                vec![Address::Portfolio(name.clone()), t.address()]
            }
            Address::Subnet(n, _)
            | Address::RouteTable(n)
            | Address::SecurityGroup(n)
            | Address::Endpoint(n, _) => vec![Address::Vpc(n.clone())],
            Address::Assignment(a) => {
                let mut out = vec![
                    Address::PermissionSet(a.permission_set.clone()),
                    Address::Account(a.account.clone()),
                ];
                // A group Landfall creates is a record an assignment names; an
                // existing group (or a user) is not Landfall's resource.
                if let Principal::Group(g) = &a.principal {
                    out.push(Address::Group(g.clone()));
                }
                out
            }
            Address::Root
            | Address::Account(_)
            | Address::Scp(_)
            | Address::Vpc(_)
            | Address::KmsKey(_)
            | Address::Portfolio(_)
            | Address::PermissionSet(_)
            | Address::Group(_)
            | Address::OrgPolicy(..)
            | Address::PolicyType(_)
            | Address::ServiceAccess(_)
            | Address::DelegatedAdmin(_)
            | Address::Bucket(_)
            | Address::Trail(_)
            | Address::ConfigAggregator(_)
            | Address::AccessAnalyzer(_) => vec![],
        }
    }

    pub fn attachment(policy: &str, target: Target) -> Address {
        Address::Attachment(Attachment {
            policy: policy.to_string(),
            target,
        })
    }
}

/// What a `[[moved]]` block renames, as the other addresses refer to it: an OU (and
/// every path below it), an account (as a target) or an SCP (by name); anything else
/// is referred to by nothing but its own address.
enum Renamed<'a> {
    Ou(&'a OuPath, &'a OuPath),
    Account(&'a str, &'a str),
    Scp(&'a str, &'a str),
    Nothing,
}

impl<'a> Renamed<'a> {
    /// `from` and `to` are of one kind (checked when the block is read); a pair of two
    /// kinds renames nothing another address refers to.
    fn of(from: &'a Address, to: &'a Address) -> Self {
        match from {
            Address::Ou(f) => {
                if let Address::Ou(t) = to {
                    Renamed::Ou(f, t)
                } else {
                    Renamed::Nothing
                }
            }
            Address::Account(f) => {
                if let Address::Account(t) = to {
                    Renamed::Account(f, t)
                } else {
                    Renamed::Nothing
                }
            }
            Address::Scp(f) => {
                if let Address::Scp(t) = to {
                    Renamed::Scp(f, t)
                } else {
                    Renamed::Nothing
                }
            }
            Address::Root
            | Address::Attachment(_)
            | Address::Vpc(_)
            | Address::Subnet(..)
            | Address::RouteTable(_)
            | Address::SecurityGroup(_)
            | Address::Endpoint(..)
            | Address::KmsKey(_)
            | Address::Control(..)
            | Address::Registration(_)
            | Address::Portfolio(_)
            | Address::PortfolioShare(..)
            | Address::PermissionSet(_)
            | Address::Group(_)
            | Address::Assignment(_)
            | Address::OrgPolicy(..)
            | Address::OrgPolicyAttachment(..)
            | Address::PolicyType(_)
            | Address::ServiceAccess(_)
            | Address::DelegatedAdmin(_)
            | Address::Bucket(_)
            | Address::Trail(_)
            | Address::ConfigAggregator(_)
            | Address::AccessAnalyzer(_) => Renamed::Nothing,
        }
    }

    fn ou(&self, p: &OuPath) -> Option<OuPath> {
        match self {
            Renamed::Ou(from, to) => p.rebased(from, to),
            Renamed::Account(..) | Renamed::Scp(..) | Renamed::Nothing => None,
        }
    }

    fn target(&self, t: &Target) -> Option<Target> {
        match (self, t) {
            (Renamed::Account(from, to), Target::Account(a)) if a == from => {
                Some(Target::Account(to.to_string()))
            }
            (_, Target::Ou(p)) => self.ou(p).map(Target::Ou),
            (_, Target::Root | Target::Account(_)) => None,
        }
    }

    fn account(&self, name: &str) -> Option<&'a str> {
        match self {
            Renamed::Account(from, to) if *from == name => Some(to),
            Renamed::Account(..) | Renamed::Ou(..) | Renamed::Scp(..) | Renamed::Nothing => None,
        }
    }

    fn policy(&self, name: &str) -> Option<&'a str> {
        match self {
            Renamed::Scp(from, to) if *from == name => Some(to),
            Renamed::Scp(..) | Renamed::Ou(..) | Renamed::Account(..) | Renamed::Nothing => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Root => f.write_str("root"),
            Address::Ou(p) => write!(f, "ou.{p}"),
            Address::Account(a) => write!(f, "account.{a}"),
            Address::Scp(s) => write!(f, "scp.{s}"),
            Address::Attachment(a) => write!(f, "attachment.{}:{}", a.policy, a.target),
            Address::Vpc(n) => write!(f, "vpc.{n}"),
            Address::Subnet(n, cidr) => write!(f, "subnet.{n}.{cidr}"),
            Address::RouteTable(n) => write!(f, "route_table.{n}"),
            Address::SecurityGroup(n) => write!(f, "security_group.{n}"),
            Address::Endpoint(n, service) => write!(f, "endpoint.{n}.{service}"),
            Address::KmsKey(k) => write!(f, "kms_key.{k}"),
            Address::Control(c, ou) => write!(f, "control.{c}:ou.{ou}"),
            Address::Registration(ou) => write!(f, "registration.ou.{ou}"),
            Address::Portfolio(p) => write!(f, "portfolio.{p}"),
            Address::PortfolioShare(p, target) => write!(f, "portfolio_share.{p}:{target}"),
            Address::PermissionSet(p) => write!(f, "permission_set.{p}"),
            Address::Group(g) => write!(f, "group.{g}"),
            Address::Assignment(a) => write!(
                f,
                "assignment.{}:{}:account.{}",
                a.permission_set, a.principal, a.account
            ),
            Address::OrgPolicy(t, n) => write!(f, "{}.{n}", t.key()),
            Address::OrgPolicyAttachment(t, a) => {
                write!(f, "{}.{}:{}", t.attachment_key(), a.policy, a.target)
            }
            Address::PolicyType(t) => write!(f, "policy_type.{}", t.key()),
            Address::ServiceAccess(p) => write!(f, "service_access.{p}"),
            Address::DelegatedAdmin(p) => write!(f, "delegated_admin.{p}"),
            Address::Bucket(b) => write!(f, "bucket.{b}"),
            Address::Trail(t) => write!(f, "trail.{t}"),
            Address::ConfigAggregator(a) => write!(f, "config_aggregator.{a}"),
            Address::AccessAnalyzer(a) => write!(f, "access_analyzer.{a}"),
        }
    }
}

impl FromStr for Address {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "root" {
            return Ok(Address::Root);
        }
        let (kind, rest) = s.split_once('.').ok_or_else(|| {
            format!("`{s}` is not an address; addresses look like `account.log-archive` or `ou.Workloads/Workloads_Dev`")
        })?;
        match kind {
            "ou" => OuPath::parse(rest).map(Address::Ou),
            "account" if !rest.is_empty() => Ok(Address::Account(rest.to_string())),
            "scp" if !rest.is_empty() => Ok(Address::Scp(rest.to_string())),
            "attachment" => {
                let (policy, target) = rest.split_once(':').ok_or_else(|| {
                    format!("`{s}`: an attachment address is `attachment.POLICY:TARGET`")
                })?;
                Ok(Address::attachment(policy, Target::parse(target)?))
            }
            "vpc" if !rest.is_empty() => Ok(Address::Vpc(rest.to_string())),
            "route_table" if !rest.is_empty() => Ok(Address::RouteTable(rest.to_string())),
            "security_group" if !rest.is_empty() => Ok(Address::SecurityGroup(rest.to_string())),
            "kms_key" if !rest.is_empty() => Ok(Address::KmsKey(rest.to_string())),
            "portfolio" if !rest.is_empty() => Ok(Address::Portfolio(rest.to_string())),
            "permission_set" if !rest.is_empty() => Ok(Address::PermissionSet(rest.to_string())),
            "group" if !rest.is_empty() => Ok(Address::Group(rest.to_string())),
            "policy_type" => OrgPolicyType::from_key(rest)
                .map(Address::PolicyType)
                .ok_or_else(|| {
                    format!("`{s}`: a policy type address is `policy_type.rcp`, `policy_type.tag_policy` or `policy_type.ai_opt_out_policy`")
                }),
            "service_access" if !rest.is_empty() => Ok(Address::ServiceAccess(rest.to_string())),
            "delegated_admin" if !rest.is_empty() => Ok(Address::DelegatedAdmin(rest.to_string())),
            "bucket" if !rest.is_empty() => Ok(Address::Bucket(rest.to_string())),
            "trail" if !rest.is_empty() => Ok(Address::Trail(rest.to_string())),
            "config_aggregator" if !rest.is_empty() => {
                Ok(Address::ConfigAggregator(rest.to_string()))
            }
            "access_analyzer" if !rest.is_empty() => Ok(Address::AccessAnalyzer(rest.to_string())),
            k if !rest.is_empty() && OrgPolicyType::from_key(k).is_some() => {
                let t = OrgPolicyType::from_key(k).ok_or_else(|| s.to_string())?;
                Ok(Address::OrgPolicy(t, rest.to_string()))
            }
            k if OrgPolicyType::from_attachment_key(k).is_some() => {
                let t = OrgPolicyType::from_attachment_key(k).ok_or_else(|| s.to_string())?;
                let (policy, target) = rest
                    .split_once(':')
                    .filter(|(p, _)| !p.is_empty())
                    .ok_or_else(|| format!("`{s}`: write `{k}.POLICY:TARGET`"))?;
                Ok(Address::OrgPolicyAttachment(
                    t,
                    Attachment {
                        policy: policy.to_string(),
                        target: Target::parse(target)?,
                    },
                ))
            }
            "assignment" => {
                // Permission set names have no colon and account names no
                // `:account.`, so the first colon ends the set and the last
                // `:account.` starts the account; a group's display name may hold
                // colons.
                let parsed = rest.split_once(':').and_then(|(set, tail)| {
                    let (principal, account) = tail.rsplit_once(":account.")?;
                    (!set.is_empty() && !account.is_empty()).then_some((set, principal, account))
                });
                let (set, principal, account) = parsed.ok_or_else(|| {
                    format!(
                        "`{s}`: an assignment address is `assignment.PERMISSION_SET:group.NAME:account.ACCOUNT` (or `user.NAME`)"
                    )
                })?;
                Ok(Address::Assignment(Box::new(Assignment {
                    permission_set: set.to_string(),
                    principal: Principal::parse(principal)?,
                    account: account.to_string(),
                })))
            }
            "control" => {
                // Control identifiers have no colon, so the first one ends it.
                let (control, ou) = rest
                    .split_once(':')
                    .and_then(|(c, t)| Some((c, t.strip_prefix("ou.")?)))
                    .filter(|(c, _)| !c.is_empty())
                    .ok_or_else(|| {
                        format!("`{s}`: a control address is `control.CONTROL:ou.PATH`")
                    })?;
                Ok(Address::Control(control.to_string(), OuPath::parse(ou)?))
            }
            "registration" => rest
                .strip_prefix("ou.")
                .ok_or_else(|| format!("`{s}`: a registration address is `registration.ou.PATH`"))
                .and_then(OuPath::parse)
                .map(Address::Registration),
            "portfolio_share" => {
                let (portfolio, target) = rest
                    .split_once(':')
                    .filter(|(p, _)| !p.is_empty())
                    .ok_or_else(|| {
                        format!("`{s}`: a share address is `portfolio_share.PORTFOLIO:TARGET`")
                    })?;
                Ok(Address::PortfolioShare(
                    portfolio.to_string(),
                    Target::parse(target)?,
                ))
            }
            "subnet" | "endpoint" => {
                // Network names have no dots, so the first dot ends the name.
                let (net, tail) = rest
                    .split_once('.')
                    .filter(|(n, t)| !n.is_empty() && !t.is_empty())
                    .ok_or_else(|| {
                        format!(
                            "`{s}`: write `{kind}.NETWORK.{}`",
                            if kind == "subnet" { "CIDR" } else { "SERVICE" }
                        )
                    })?;
                Ok(if kind == "subnet" {
                    Address::Subnet(net.to_string(), tail.to_string())
                } else {
                    Address::Endpoint(net.to_string(), tail.to_string())
                })
            }
            _ => Err(format!(
                "`{s}` is not an address; the kinds are root, ou, account, scp, attachment, vpc, subnet, route_table, security_group, endpoint, kms_key, control, registration, portfolio, portfolio_share, permission_set, group, assignment, rcp, tag_policy, ai_opt_out_policy (and their _attachment), policy_type, service_access, delegated_admin, bucket, trail, config_aggregator and access_analyzer"
            )),
        }
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_text() {
        for text in [
            "root",
            "ou.Security",
            "ou.Workloads/Workloads_Dev",
            "account.log-archive",
            "scp.deny-leave-org",
            "attachment.deny-leave-org:root",
            "attachment.FullAWSAccess:ou.Workloads/Workloads_Dev",
            "attachment.x:account.ml-dev",
            "vpc.ml-dev-use1",
            "subnet.ml-dev-use1.10.1.0.0/24",
            "route_table.ml-dev-use1",
            "security_group.ml-dev-use1",
            "endpoint.ml-dev-use1.sagemaker.api",
            "kms_key.ml-dev",
            "control.AWS-GR_RESTRICT_ROOT_USER:ou.Workloads/Workloads_Dev",
            "control.CT.MULTISERVICE.PV.1:ou.Sandbox",
            "portfolio.ml-products",
            "portfolio_share.ml-products:root",
            "portfolio_share.ml-products:ou.Workloads/Workloads_Dev",
            "portfolio_share.ml-products:account.ml-dev",
            "permission_set.DataScientist",
            "group.ml-fraud-data-scientists",
            "assignment.DataScientist:group.ml-fraud-data-scientists:account.ml-fraud-dev",
            "assignment.PlatformAdmin:group.Platform: Admins:account.management",
            "assignment.SecurityAuditor:user.jane@example.com:account.log-archive",
            "rcp.data-perimeter",
            "tag_policy.cost-tags",
            "ai_opt_out_policy.opt-out-all",
            "rcp_attachment.data-perimeter:ou.Workloads",
            "tag_policy_attachment.cost-tags:root",
            "ai_opt_out_policy_attachment.opt-out-all:account.ml-dev",
            "policy_type.rcp",
            "policy_type.ai_opt_out_policy",
            "service_access.cloudtrail.amazonaws.com",
            "delegated_admin.guardduty.amazonaws.com",
            "bucket.org-trail",
            "trail.org-trail",
            "config_aggregator.organization",
            "access_analyzer.organization",
        ] {
            let a: Address = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(a.to_string(), text);
        }
    }

    #[test]
    fn bad_addresses_are_rejected() {
        for text in [
            "",
            "ou.",
            "ou.a//b",
            "nope.x",
            "attachment.x",
            "account.",
            "subnet.x",
            "endpoint.net",
            "control.X",
            "control.X:account.y",
            "portfolio_share.p",
            "assignment.X",
            "assignment.X:group.g",
            "assignment.X:team.g:account.a",
            "assignment.:group.g:account.a",
            "permission_set.",
            "policy_type.scp",
            "rcp_attachment.x",
            "tag_policy.",
        ] {
            assert!(text.parse::<Address>().is_err(), "{text} should not parse");
        }
    }

    #[test]
    fn ou_path_parts() {
        let p = OuPath::new("Workloads/Workloads_Dev");
        assert_eq!(p.name(), "Workloads_Dev");
        assert_eq!(p.parent(), Some(OuPath::new("Workloads")));
        assert_eq!(p.depth(), 2);
        assert!(p.is_within(&OuPath::new("Workloads")));
        assert!(!OuPath::new("WorkloadsX").is_within(&OuPath::new("Workloads")));
    }
}
