//! `[[import]]`: adopting one existing resource by its id, as Terraform's import blocks
//! do — the explicit form of the natural-key adoption every plan already does.
//!
//! Here: the kinds that can be imported and the shape AWS gives their ids (which
//! `landfall-config` checks offline), what an id looks like (for messages), and the
//! checks of a plan's blocks against the state (imported already, recorded under
//! another address, or the address recorded with another id). Whether the id exists
//! live, and as what, each family checks where it matches resources:
//! `organization::matching` (OUs, accounts, SCPs) and `member::matching` (VPCs, KMS
//! keys, in their declared account and region).

use std::collections::BTreeMap;

use crate::address::Address;
use crate::kind::{GovernanceKind, IdentityKind, Kind, MemberKind, OrganizationKind, SecurityKind};
use crate::live::LiveState;
use crate::planner::Planner;

/// A kind of resource an `[[import]]` block can adopt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImportKind {
    Ou,
    Account,
    Scp,
    Vpc,
    KmsKey,
}

/// The kinds that can be imported, as their address prefixes (for messages).
pub const IMPORTABLE: &str = "ou, account, scp, vpc and kms_key";

impl ImportKind {
    /// The importable kind of an address, or why it is not imported by id and what to
    /// do instead: the root is always adopted, attachments are adopted by policy and
    /// target, a network's subnets, route table, security group and endpoints are found
    /// by their `landfall:address` tag, and the governance kinds by their control,
    /// baseline or portfolio name.
    pub fn of(address: &Address) -> Result<ImportKind, &'static str> {
        match address.by_family() {
            Kind::Organization(kind) => match kind {
                OrganizationKind::Ou(_) => Ok(ImportKind::Ou),
                OrganizationKind::Account(_) => Ok(ImportKind::Account),
                OrganizationKind::Scp(_) => Ok(ImportKind::Scp),
                OrganizationKind::Root => {
                    Err("the organization root is always adopted; remove the block")
                }
                OrganizationKind::Attachment(_) => Err(
                    "an attachment is adopted when the policy is attached to the target live; import the policy (scp.NAME) instead",
                ),
                OrganizationKind::OrgPolicy(..) => Err(
                    "a resource control, tag or AI services opt-out policy is adopted by its type and name; remove the block",
                ),
                OrganizationKind::OrgPolicyAttachment(..) => Err(
                    "an attachment is adopted when the policy is attached to the target live; remove the block",
                ),
                OrganizationKind::PolicyType(_) => {
                    Err("a policy type enabled on the root is adopted; remove the block")
                }
            },
            Kind::Member(kind) => match kind {
                MemberKind::Vpc(_) => Ok(ImportKind::Vpc),
                MemberKind::KmsKey(_) => Ok(ImportKind::KmsKey),
                MemberKind::Subnet(..)
                | MemberKind::RouteTable(_)
                | MemberKind::SecurityGroup(_)
                | MemberKind::Endpoint(..) => Err(
                    "a network's subnets, route table, security group and endpoints are found by their `landfall:address` tag: tag the live one with `landfall:address` = its address and Landfall adopts it, or import the VPC (vpc.NET) and let Landfall create them in it",
                ),
            },
            Kind::Governance(kind) => match kind {
                GovernanceKind::Control(..) => {
                    Err("a control already enabled on the OU is adopted; remove the block")
                }
                GovernanceKind::Registration(_) => {
                    Err("an OU already registered with Control Tower is adopted; remove the block")
                }
                GovernanceKind::Portfolio(_) | GovernanceKind::PortfolioShare(..) => Err(
                    "a portfolio is adopted by its display name, a share by its portfolio and target; remove the block",
                ),
            },
            Kind::Identity(kind) => match kind {
                IdentityKind::PermissionSet(_) => Err(
                    "a permission set is adopted by its name (permission set names are unique in the instance); remove the block",
                ),
                IdentityKind::Group(_) => Err(
                    "a group is adopted by its display name (unique in the Identity Store); remove the block",
                ),
                IdentityKind::Assignment(_) => Err(
                    "an assignment is adopted when the principal has the permission set in the account live; remove the block",
                ),
            },
            Kind::Security(kind) => match kind {
                SecurityKind::ServiceAccess(_) | SecurityKind::DelegatedAdmin(_) => Err(
                    "trusted access and delegated administrators are adopted when they are in place live; remove the block",
                ),
                SecurityKind::Bucket(_)
                | SecurityKind::Trail(_)
                | SecurityKind::ConfigAggregator(_)
                | SecurityKind::AccessAnalyzer(_) => Err(
                    "a bucket, trail, aggregator or analyzer is adopted by its name; remove the block",
                ),
            },
        }
    }

    /// What an id of this kind is, for messages ("needs a 12-digit account id").
    pub fn expected(self) -> &'static str {
        match self {
            ImportKind::Ou => {
                "an OU id (`ou-`, 4 to 32 lowercase letters or digits, `-`, 8 to 32 more, e.g. `ou-ab12-34cd5678`)"
            }
            ImportKind::Account => "a 12-digit account id",
            ImportKind::Scp => {
                "a policy id (`p-` and 8 to 128 letters, digits or `_`, e.g. `p-abcd1234`)"
            }
            ImportKind::Vpc => {
                "a VPC id (`vpc-` and 8 or 17 lowercase hex digits, e.g. `vpc-0a1b2c3d4e5f60718`)"
            }
            ImportKind::KmsKey => {
                "a KMS key id (a lowercase UUID, or `mrk-` and 32 hex digits for a multi-Region key) or key ARN (`arn:aws:kms:REGION:ACCOUNT:key/KEY_ID`)"
            }
        }
    }

    /// The resource's name in messages ("OU", "KMS key").
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Ou => "OU",
            ImportKind::Account => "account",
            ImportKind::Scp => "SCP",
            ImportKind::Vpc => "VPC",
            ImportKind::KmsKey => "KMS key",
        }
    }

    /// The resource's name with its article ("an OU", "a KMS key").
    pub fn noun(self) -> &'static str {
        match self {
            ImportKind::Ou => "an OU",
            ImportKind::Account => "an account",
            ImportKind::Scp => "an SCP",
            ImportKind::Vpc => "a VPC",
            ImportKind::KmsKey => "a KMS key",
        }
    }

    /// Whether `id` has the shape AWS gives this kind's ids (AWS Organizations' id
    /// patterns; EC2's 8- or 17-digit resource ids; KMS key ids and key ARNs).
    pub fn accepts(self, id: &str) -> bool {
        match self {
            ImportKind::Ou => is_ou_id(id),
            ImportKind::Account => is_account_id(id),
            ImportKind::Scp => is_policy_id(id),
            ImportKind::Vpc => is_ec2_id(id, "vpc-"),
            ImportKind::KmsKey => is_key_id(id) || KeyArn::parse(id).is_some(),
        }
    }

    /// The id the state records for an id a block gives: a key ARN's key id (live keys
    /// are read by key id); any other id as it is.
    pub fn record_id(self, id: &str) -> &str {
        match self {
            ImportKind::KmsKey => KeyArn::parse(id).map_or(id, |arn| arn.key_id),
            ImportKind::Ou | ImportKind::Account | ImportKind::Scp | ImportKind::Vpc => id,
        }
    }
}

/// The kind of resource an id's shape says it is, for messages ("`ou-ab12-34cd5678` is
/// an OU id"); `None` when it looks like nothing Landfall knows.
pub fn id_looks_like(id: &str) -> Option<&'static str> {
    let ec2 = [
        ("vpc-", "a VPC id"),
        ("subnet-", "a subnet id"),
        ("rtb-", "a route table id"),
        ("sg-", "a security group id"),
        ("vpce-", "a VPC endpoint id"),
    ];
    if is_account_id(id) {
        return Some("a 12-digit account id");
    }
    if is_ou_id(id) {
        return Some("an OU id");
    }
    if is_policy_id(id) {
        return Some("a policy id");
    }
    if is_key_id(id) || KeyArn::parse(id).is_some() {
        return Some("a KMS key id");
    }
    if let Some((_, what)) = ec2.iter().find(|(prefix, _)| is_ec2_id(id, prefix)) {
        return Some(what);
    }
    if id.starts_with("r-") {
        return Some("a root id");
    }
    if id.starts_with("alias/") || id.contains(":alias/") {
        return Some("a KMS alias, not a key id");
    }
    None
}

fn lower_alnum(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`
fn is_ou_id(id: &str) -> bool {
    let Some((root, rest)) = id.strip_prefix("ou-").and_then(|r| r.split_once('-')) else {
        return false;
    };
    (4..=32).contains(&root.len())
        && (8..=32).contains(&rest.len())
        && lower_alnum(root)
        && lower_alnum(rest)
}

/// `^p-[0-9a-zA-Z_]{8,128}$`
fn is_policy_id(id: &str) -> bool {
    id.strip_prefix("p-").is_some_and(|rest| {
        (8..=128).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// An EC2 resource id: the prefix and 8 (before 2016) or 17 lowercase hex digits.
fn is_ec2_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| matches!(rest.len(), 8 | 17) && lower_hex(rest))
}

/// A KMS key id: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region
/// key's `mrk-` and 32 hex digits.
fn is_key_id(id: &str) -> bool {
    if let Some(rest) = id.strip_prefix("mrk-") {
        return rest.len() == 32 && lower_hex(rest);
    }
    let groups: Vec<&str> = id.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && lower_hex(g))
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY_ID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub key_id: &'a str,
}

impl<'a> KeyArn<'a> {
    pub fn parse(text: &'a str) -> Option<KeyArn<'a>> {
        let mut parts = text.splitn(6, ':');
        let (arn, partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let key_id = resource.strip_prefix("key/")?;
        let region_ok = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        (arn == "arn"
            && partition.starts_with("aws")
            && service == "kms"
            && region_ok
            && is_account_id(account)
            && is_key_id(key_id))
        .then_some(KeyArn {
            region,
            account,
            key_id,
        })
    }
}

/// What an id is in the live organization or the member accounts read, for a block
/// whose id is not what it names ("it is the OU `Workloads`"); `None` when nothing
/// read has it.
pub fn what_is(live: &LiveState, id: &str) -> Option<String> {
    if id == live.root_id {
        return Some("the organization root".into());
    }
    if let Some(ou) = live.ous.get(id) {
        return Some(format!("the OU `{}`", ou.name));
    }
    if let Some(a) = live.accounts.get(id) {
        return Some(if a.id == live.management_account_id {
            format!("the management account `{}`", a.name)
        } else {
            format!("the account `{}`", a.name)
        });
    }
    if let Some(p) = live.policies.get(id) {
        return Some(if p.aws_managed {
            format!("the AWS-managed policy {}", p.name)
        } else {
            format!("the SCP `{}`", p.name)
        });
    }
    for (key, m) in &live.members {
        let what = if m.vpcs.contains_key(id) {
            "a VPC"
        } else if m.subnets.contains_key(id) {
            "a subnet"
        } else if m.route_tables.contains_key(id) {
            "a route table"
        } else if m.security_groups.contains_key(id) {
            "a security group"
        } else if m.endpoints.contains_key(id) {
            "a VPC endpoint"
        } else if m.keys.contains_key(id) {
            "a KMS key"
        } else {
            continue;
        };
        return Some(format!("{what} in {key}"));
    }
    None
}

/// A `[[import]]` block the state does not record yet: the plan adopts its resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PendingImport {
    pub(crate) kind: ImportKind,
    /// The id as written (a key ARN stays an ARN), shown in the plan.
    pub(crate) id: String,
    /// The id the state will record (a key ARN's key id).
    pub(crate) record_id: String,
}

/// Checks the desired state's import blocks against the (re-addressed) state and keeps
/// the pending ones in `planner.imports`: a block whose address the state records with
/// its id is done (a warning: the block can go); with another id, or whose id the state
/// records under another address, it is a problem.
pub(crate) fn check_against_state(planner: &mut Planner<'_>) {
    let mut pending = BTreeMap::new();
    for import in &planner.desired.imports {
        // Validation refuses other kinds; a desired state built another way is skipped.
        let Ok(kind) = ImportKind::of(&import.to) else {
            continue;
        };
        let to = &import.to;
        let id = import.id.as_str();
        let record_id = kind.record_id(id);
        if let Some(rec) = planner.state.resources.get(to) {
            if rec.id == record_id {
                planner.warnings.push(format!(
                    "[[import]] to {to} id {id}: already imported; the block can be removed"
                ));
            } else {
                planner.problem(
                    to.clone(),
                    format!(
                        "[[import]] id = \"{id}\": the state records {to} as {} already",
                        rec.id
                    ),
                    Some(&format!(
                        "to manage {id} as {to} instead, run `landfall state rm {to}` first (Landfall then forgets {}, leaving it live); otherwise remove the block",
                        rec.id
                    )),
                );
            }
            continue;
        }
        let elsewhere = planner
            .state
            .resources
            .iter()
            .find(|(address, rec)| rec.id == record_id && ImportKind::of(address) == Ok(kind));
        if let Some((other, _)) = elsewhere {
            planner.problem(
                to.clone(),
                format!("[[import]] id = \"{id}\": the state records it as {other} already"),
                Some(&format!(
                    "to give {other} a new address, replace the [[import]] block with `[[moved]] from = \"{other}\" to = \"{to}\"`"
                )),
            );
            continue;
        }
        pending.insert(
            to.clone(),
            PendingImport {
                kind,
                id: id.to_string(),
                record_id: record_id.to_string(),
            },
        );
    }
    planner.imports = pending;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_each_kind_have_aws_shapes() {
        for (kind, good, bad) in [
            (
                ImportKind::Account,
                &["123456789012"][..],
                &[
                    "12345678901",
                    "1234567890123",
                    "12345678901a",
                    "ou-ab12-34cd5678",
                ][..],
            ),
            (
                ImportKind::Ou,
                &["ou-ab12-34cd5678", "ou-r00t-0123456789abcdef"],
                &[
                    "ou-ab1-34cd5678",
                    "ou-ab12-34cd567",
                    "ou-AB12-34cd5678",
                    "r-ab12",
                ],
            ),
            (
                ImportKind::Scp,
                &["p-abcd1234", "p-FullAWSAccess", "p-a_b_C_d_1"],
                &["p-abc", "p-abcd-1234", "abcd1234"],
            ),
            (
                ImportKind::Vpc,
                &["vpc-0a1b2c3d", "vpc-0a1b2c3d4e5f60718"],
                &[
                    "vpc-0a1",
                    "vpc-0A1B2C3D",
                    "vpc-0a1b2c3d4e5f6071",
                    "subnet-0a1b2c3d",
                ],
            ),
            (
                ImportKind::KmsKey,
                &[
                    "1234abcd-12ab-34cd-56ef-1234567890ab",
                    "mrk-1234abcd12ab34cd56ef1234567890ab",
                    "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    "arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
                ],
                &[
                    "alias/ml",
                    "1234abcd-12ab-34cd-56ef-1234567890a",
                    "arn:aws:kms:us-east-2:111122223333:alias/ml",
                    "arn:aws:kms:us-east-2:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                ],
            ),
        ] {
            for id in good {
                assert!(kind.accepts(id), "{kind:?} should accept {id}");
            }
            for id in bad {
                assert!(!kind.accepts(id), "{kind:?} should refuse {id}");
            }
        }
    }

    #[test]
    fn a_key_arn_is_recorded_by_its_key_id() {
        let arn = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(
            ImportKind::KmsKey.record_id(arn),
            "1234abcd-12ab-34cd-56ef-1234567890ab"
        );
        let parsed = KeyArn::parse(arn).unwrap();
        assert_eq!(
            (parsed.region, parsed.account),
            ("us-east-1", "222222222222")
        );
        assert_eq!(ImportKind::Vpc.record_id("vpc-0a1b2c3d"), "vpc-0a1b2c3d");
    }

    #[test]
    fn ids_say_what_they_look_like() {
        assert_eq!(id_looks_like("ou-ab12-34cd5678"), Some("an OU id"));
        assert_eq!(id_looks_like("subnet-0a1b2c3d"), Some("a subnet id"));
        assert_eq!(id_looks_like("alias/x"), Some("a KMS alias, not a key id"));
        assert_eq!(id_looks_like("hello"), None);
    }

    #[test]
    fn only_the_importable_kinds_are_imported() {
        for (text, kind) in [
            ("ou.Workloads", Some(ImportKind::Ou)),
            ("account.x", Some(ImportKind::Account)),
            ("scp.x", Some(ImportKind::Scp)),
            ("vpc.n", Some(ImportKind::Vpc)),
            ("kms_key.k", Some(ImportKind::KmsKey)),
            ("root", None),
            ("attachment.x:root", None),
            ("subnet.n.10.0.0.0/24", None),
            ("endpoint.n.s3", None),
            ("portfolio.p", None),
        ] {
            let address: Address = text.parse().unwrap();
            assert_eq!(ImportKind::of(&address).ok(), kind, "{text}");
        }
    }
}
