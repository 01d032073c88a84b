//! The registry of resource kinds: the one place that says which family each address
//! kind belongs to.
//!
//! A family is a set of kinds planned, executed and read together: the organization
//! (AWS Organizations), member-account resources (EC2 and KMS in each account and
//! region) and governance (Control Tower and Service Catalog). [`Address::by_family`]
//! is an exhaustive match, and each family's modules match their own kind enum
//! exhaustively, so a new kind or family makes the compiler name every site that needs
//! it: no `_ =>` arm routes on a kind anywhere.

use crate::address::{Address, Assignment, Attachment, OuPath, Target};
use crate::policy_type::OrgPolicyType;

/// A family of resource kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Root, OUs, accounts, SCPs and their attachments (AWS Organizations).
    Organization,
    /// VPCs, subnets, route tables, security groups, VPC endpoints and KMS keys in
    /// member accounts.
    Member,
    /// Control Tower controls and OU registrations, Service Catalog portfolios and
    /// their shares.
    Governance,
    /// IAM Identity Center permission sets, Identity Store groups and account
    /// assignments.
    Identity,
    /// Logging and security services: trusted service access, delegated
    /// administrators, the organization trail and its bucket, the AWS Config
    /// aggregator and the IAM Access Analyzer analyzer.
    Security,
}

/// An address seen through its family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    Organization(OrganizationKind<'a>),
    Member(MemberKind<'a>),
    Governance(GovernanceKind<'a>),
    Identity(IdentityKind<'a>),
    Security(SecurityKind<'a>),
}

/// The kinds of the organization family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganizationKind<'a> {
    Root,
    Ou(&'a OuPath),
    Account(&'a str),
    Scp(&'a str),
    Attachment(&'a Attachment),
    /// A resource control, tag or AI services opt-out policy.
    OrgPolicy(OrgPolicyType, &'a str),
    OrgPolicyAttachment(OrgPolicyType, &'a Attachment),
    /// A policy type enabled on the root.
    PolicyType(OrgPolicyType),
}

/// The kinds of the member-account family, with the network or key that declares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind<'a> {
    Vpc(&'a str),
    /// Network name and subnet CIDR.
    Subnet(&'a str, &'a str),
    RouteTable(&'a str),
    SecurityGroup(&'a str),
    /// Network name and short service name.
    Endpoint(&'a str, &'a str),
    KmsKey(&'a str),
}

/// The kinds of the governance family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GovernanceKind<'a> {
    /// Control short id and the OU it is enabled on.
    Control(&'a str, &'a OuPath),
    /// An OU's registration with Control Tower.
    Registration(&'a OuPath),
    Portfolio(&'a str),
    /// Portfolio name and the share's target.
    PortfolioShare(&'a str, &'a Target),
}

/// The kinds of the identity family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityKind<'a> {
    PermissionSet(&'a str),
    Group(&'a str),
    Assignment(&'a Assignment),
}

/// The kinds of the security family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityKind<'a> {
    /// A service principal with trusted access.
    ServiceAccess(&'a str),
    /// A service principal's delegated administrator.
    DelegatedAdmin(&'a str),
    Bucket(&'a str),
    Trail(&'a str),
    ConfigAggregator(&'a str),
    AccessAnalyzer(&'a str),
}

impl Family {
    /// Every family, in planning order: the organization first, since member-account,
    /// governance and identity changes refer to its OUs and accounts; identity last,
    /// since an assignment refers to accounts whichever family creates them.
    pub const ALL: [Family; 5] = [
        Family::Organization,
        Family::Member,
        Family::Governance,
        Family::Identity,
        Family::Security,
    ];

    /// The family's place in [`Family::ALL`].
    pub fn index(self) -> usize {
        match self {
            Family::Organization => 0,
            Family::Member => 1,
            Family::Governance => 2,
            Family::Identity => 3,
            Family::Security => 4,
        }
    }
}

impl Kind<'_> {
    pub fn family(self) -> Family {
        match self {
            Kind::Organization(_) => Family::Organization,
            Kind::Member(_) => Family::Member,
            Kind::Governance(_) => Family::Governance,
            Kind::Identity(_) => Family::Identity,
            Kind::Security(_) => Family::Security,
        }
    }
}

impl<'a> MemberKind<'a> {
    /// The network a network resource belongs to; `None` for a key.
    pub fn network(self) -> Option<&'a str> {
        match self {
            MemberKind::Vpc(n)
            | MemberKind::Subnet(n, _)
            | MemberKind::RouteTable(n)
            | MemberKind::SecurityGroup(n)
            | MemberKind::Endpoint(n, _) => Some(n),
            MemberKind::KmsKey(_) => None,
        }
    }
}

impl Address {
    /// The registry: this address's family and its kind within it.
    pub fn by_family(&self) -> Kind<'_> {
        match self {
            Address::Root => Kind::Organization(OrganizationKind::Root),
            Address::Ou(p) => Kind::Organization(OrganizationKind::Ou(p)),
            Address::Account(a) => Kind::Organization(OrganizationKind::Account(a)),
            Address::Scp(s) => Kind::Organization(OrganizationKind::Scp(s)),
            Address::Attachment(a) => Kind::Organization(OrganizationKind::Attachment(a)),
            Address::Vpc(n) => Kind::Member(MemberKind::Vpc(n)),
            Address::Subnet(n, c) => Kind::Member(MemberKind::Subnet(n, c)),
            Address::RouteTable(n) => Kind::Member(MemberKind::RouteTable(n)),
            Address::SecurityGroup(n) => Kind::Member(MemberKind::SecurityGroup(n)),
            Address::Endpoint(n, s) => Kind::Member(MemberKind::Endpoint(n, s)),
            Address::KmsKey(k) => Kind::Member(MemberKind::KmsKey(k)),
            Address::Control(c, ou) => Kind::Governance(GovernanceKind::Control(c, ou)),
            Address::Registration(ou) => Kind::Governance(GovernanceKind::Registration(ou)),
            Address::Portfolio(p) => Kind::Governance(GovernanceKind::Portfolio(p)),
            Address::PortfolioShare(p, t) => Kind::Governance(GovernanceKind::PortfolioShare(p, t)),
            Address::PermissionSet(p) => Kind::Identity(IdentityKind::PermissionSet(p)),
            Address::Group(g) => Kind::Identity(IdentityKind::Group(g)),
            Address::Assignment(a) => Kind::Identity(IdentityKind::Assignment(a)),
            Address::OrgPolicy(t, n) => Kind::Organization(OrganizationKind::OrgPolicy(*t, n)),
            Address::OrgPolicyAttachment(t, a) => {
                Kind::Organization(OrganizationKind::OrgPolicyAttachment(*t, a))
            }
            Address::PolicyType(t) => Kind::Organization(OrganizationKind::PolicyType(*t)),
            Address::ServiceAccess(p) => Kind::Security(SecurityKind::ServiceAccess(p)),
            Address::DelegatedAdmin(p) => Kind::Security(SecurityKind::DelegatedAdmin(p)),
            Address::Bucket(b) => Kind::Security(SecurityKind::Bucket(b)),
            Address::Trail(t) => Kind::Security(SecurityKind::Trail(t)),
            Address::ConfigAggregator(a) => Kind::Security(SecurityKind::ConfigAggregator(a)),
            Address::AccessAnalyzer(a) => Kind::Security(SecurityKind::AccessAnalyzer(a)),
        }
    }

    pub fn family(&self) -> Family {
        self.by_family().family()
    }

    /// The address's organization kind, `None` for another family.
    pub fn organization_kind(&self) -> Option<OrganizationKind<'_>> {
        match self.by_family() {
            Kind::Organization(k) => Some(k),
            Kind::Member(_) | Kind::Governance(_) | Kind::Identity(_) | Kind::Security(_) => None,
        }
    }

    /// The address's member-account kind, `None` for another family.
    pub fn member_kind(&self) -> Option<MemberKind<'_>> {
        match self.by_family() {
            Kind::Member(k) => Some(k),
            Kind::Organization(_) | Kind::Governance(_) | Kind::Identity(_) | Kind::Security(_) => {
                None
            }
        }
    }

    /// The address's governance kind, `None` for another family.
    pub fn governance_kind(&self) -> Option<GovernanceKind<'_>> {
        match self.by_family() {
            Kind::Governance(k) => Some(k),
            Kind::Organization(_) | Kind::Member(_) | Kind::Identity(_) | Kind::Security(_) => None,
        }
    }

    /// The address's identity kind, `None` for another family.
    pub fn identity_kind(&self) -> Option<IdentityKind<'_>> {
        match self.by_family() {
            Kind::Identity(k) => Some(k),
            Kind::Organization(_) | Kind::Member(_) | Kind::Governance(_) | Kind::Security(_) => {
                None
            }
        }
    }

    /// The address's security kind, `None` for another family.
    pub fn security_kind(&self) -> Option<SecurityKind<'_>> {
        match self.by_family() {
            Kind::Security(k) => Some(k),
            Kind::Organization(_) | Kind::Member(_) | Kind::Governance(_) | Kind::Identity(_) => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_listed_once_in_planning_order() {
        for (i, family) in Family::ALL.into_iter().enumerate() {
            assert_eq!(family.index(), i, "{family:?}");
        }
    }

    #[test]
    fn every_kind_has_its_family() {
        for (text, family) in [
            ("root", Family::Organization),
            ("ou.Security", Family::Organization),
            ("account.log-archive", Family::Organization),
            ("scp.deny-leave-org", Family::Organization),
            ("attachment.x:root", Family::Organization),
            ("vpc.n", Family::Member),
            ("subnet.n.10.0.0.0/24", Family::Member),
            ("route_table.n", Family::Member),
            ("security_group.n", Family::Member),
            ("endpoint.n.sagemaker.api", Family::Member),
            ("kms_key.k", Family::Member),
            ("control.AWS-GR_X:ou.Sandbox", Family::Governance),
            ("registration.ou.Sandbox", Family::Governance),
            ("portfolio.p", Family::Governance),
            ("portfolio_share.p:root", Family::Governance),
            ("permission_set.DataScientist", Family::Identity),
            ("group.ml-ds", Family::Identity),
            (
                "assignment.DataScientist:group.ml-ds:account.a",
                Family::Identity,
            ),
        ] {
            let address: Address = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(address.family(), family, "{text}");
            assert_eq!(
                address.organization_kind().is_some(),
                family == Family::Organization
            );
            assert_eq!(address.member_kind().is_some(), family == Family::Member);
            assert_eq!(
                address.governance_kind().is_some(),
                family == Family::Governance
            );
            assert_eq!(
                address.identity_kind().is_some(),
                family == Family::Identity
            );
        }
    }
}
