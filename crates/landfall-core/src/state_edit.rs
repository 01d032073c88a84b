//! `landfall state rm` and `landfall state mv` as pure edits of a [`StateFile`]: every
//! address checked before anything changes, the edited state returned whole with what
//! was done, or every problem found. The CLI takes the lock, backs up and writes.
//!
//! Removal takes exactly the addresses given. A record whose address names a removed
//! one ([`Address::names`]: a child OU, an attachment to the OU or of the SCP, a
//! control or registration on the OU, a share of the portfolio or to the target, a
//! network's resources in its VPC) would be left describing half a resource: the next
//! plan would act on it alone (detach from an OU it no longer knows, delete the
//! subnets of a VPC it no longer manages). Such a removal is refused, naming those
//! records, unless `recursive` asks for them to go too, as Terraform removes a module
//! with everything in it.

use std::collections::BTreeSet;

use crate::address::Address;
use crate::model::Moved;
use crate::state::StateFile;

/// One record removed from the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed {
    pub address: Address,
    /// Its physical id; `None` for a creation an interrupted apply left pending.
    pub id: Option<String>,
}

/// What re-addressing a record did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relocated {
    /// Each record re-addressed, `(from, to)`: the record itself, and for an OU
    /// everything under or naming it.
    pub moved: Vec<(Address, Address)>,
    /// Records left at their address whose attributes named the moved OU (an
    /// account's `ou`), now naming its new address.
    pub rewritten: Vec<Address>,
}

/// Why an edit is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("{address} is not in the state")]
    NotInState { address: Address },
    #[error(
        "{address} cannot be removed alone: {} would be left naming it",
        list(dependents)
    )]
    Dependents {
        address: Address,
        /// The records naming it, directly or through another.
        dependents: Vec<Address>,
    },
    #[error("cannot move {from} to {to}: they are different kinds ({} and {})", from.kind(), to.kind())]
    KindMismatch { from: Address, to: Address },
    #[error("cannot move {0} to itself")]
    SameAddress(Address),
    #[error("cannot move to {address}: it is in the state already")]
    Occupied { address: Address },
    #[error("cannot move {address}: it is only a pending creation of an interrupted apply")]
    PendingOnly { address: Address },
    #[error(
        "cannot move {from} to {to}: AWS cannot move an OU under another parent, so the state cannot say it was"
    )]
    AcrossParents { from: Address, to: Address },
    #[error("moving {moved} would re-address {from} to {to}, which is in the state already")]
    Collision {
        moved: Address,
        from: Address,
        to: Address,
    },
}

fn list(addresses: &[Address]) -> String {
    let words: Vec<String> = addresses.iter().map(Address::to_string).collect();
    words.join(", ")
}

/// Every address the state knows: its records and its pending creations.
fn known(state: &StateFile) -> BTreeSet<&Address> {
    state
        .resources
        .keys()
        .chain(state.pending_creates.iter())
        .collect()
}

/// `start` and every known address naming one in it, directly or through another.
fn closure(known: &BTreeSet<&Address>, start: &BTreeSet<Address>) -> BTreeSet<Address> {
    let mut out = start.clone();
    loop {
        let more: Vec<Address> = known
            .iter()
            .filter(|a| !out.contains(**a) && a.names().iter().any(|n| out.contains(n)))
            .map(|a| (*a).clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

/// The state without `addresses` (records and pending creations), and what was
/// removed in address order; with `recursive`, the records naming them go too.
pub fn remove(
    state: &StateFile,
    addresses: &[Address],
    recursive: bool,
) -> Result<(StateFile, Vec<Removed>), Vec<EditError>> {
    let known = known(state);
    let mut errors = Vec::new();
    let mut given = BTreeSet::new();
    for address in addresses {
        if known.contains(address) {
            given.insert(address.clone());
        } else if !errors
            .iter()
            .any(|e| matches!(e, EditError::NotInState { address: a } if a == address))
        {
            errors.push(EditError::NotInState {
                address: address.clone(),
            });
        }
    }
    // The implicit `FullAWSAccess` attachment of a removed OU or account goes with it:
    // Landfall attaches it by itself (`full_aws_access`), nobody names it, and left
    // behind it would only be forgotten by the next plan.
    let implicit: Vec<Address> = known
        .iter()
        .filter(|a| {
            matches!(a, Address::Attachment(att)
                if att.policy == crate::FULL_AWS_ACCESS && given.contains(&att.target.address()))
        })
        .map(|a| (*a).clone())
        .collect();
    given.extend(implicit);
    let gone = closure(&known, &given);
    if !recursive {
        for address in &given {
            let own = closure(&known, &BTreeSet::from([address.clone()]));
            let dependents: Vec<Address> = own.difference(&given).cloned().collect();
            if !dependents.is_empty() {
                errors.push(EditError::Dependents {
                    address: address.clone(),
                    dependents,
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut next = state.clone();
    let mut removed = Vec::new();
    for address in gone {
        let record = next.resources.remove(&address);
        next.pending_creates.remove(&address);
        removed.push(Removed {
            address,
            id: record.map(|r| r.id),
        });
    }
    Ok((next, removed))
}

/// The state with the record at `from` re-addressed to `to`, as a `[[moved]]` block
/// would (an OU carries everything under or naming it: [`StateFile::with_moves`]).
/// Refused when the kinds differ, `from` is not recorded, or `to` — or any address
/// the move carries a record to — is taken.
pub fn relocate(
    state: &StateFile,
    from: &Address,
    to: &Address,
) -> Result<(StateFile, Relocated), Vec<EditError>> {
    let mut errors = Vec::new();
    if from == to {
        errors.push(EditError::SameAddress(from.clone()));
    } else if from.kind() != to.kind() {
        errors.push(EditError::KindMismatch {
            from: from.clone(),
            to: to.clone(),
        });
    }
    if !state.resources.contains_key(from) {
        errors.push(if state.pending_creates.contains(from) {
            EditError::PendingOnly {
                address: from.clone(),
            }
        } else {
            EditError::NotInState {
                address: from.clone(),
            }
        });
    }
    let known = known(state);
    if from != to && known.contains(to) {
        errors.push(EditError::Occupied {
            address: to.clone(),
        });
    }
    if errors.is_empty()
        && let (Address::Ou(f), Address::Ou(t)) = (from, to)
        && f.parent() != t.parent()
    {
        errors.push(EditError::AcrossParents {
            from: from.clone(),
            to: to.clone(),
        });
    }
    if errors.is_empty() {
        // What the move carries (an OU's subtree, an SCP's or account's attachments)
        // must land on free addresses, or two records would become one.
        for address in &known {
            if *address != from
                && let Some(new) = address.moved(from, to)
                && known.contains(&new)
                && new.moved(from, to).is_none()
            {
                errors.push(EditError::Collision {
                    moved: from.clone(),
                    from: (*address).clone(),
                    to: new,
                });
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (next, moves) = state.with_moves(&[Moved {
        from: from.clone(),
        to: to.clone(),
    }]);
    let arrived: BTreeSet<&Address> = moves.applied.iter().map(|(_, to)| to).collect();
    let rewritten = next
        .resources
        .iter()
        .filter(|(a, r)| {
            !arrived.contains(a)
                && state
                    .resources
                    .get(*a)
                    .is_some_and(|old| old.attributes != r.attributes)
        })
        .map(|(a, _)| a.clone())
        .collect();
    Ok((
        next,
        Relocated {
            moved: moves.applied,
            rewritten,
        },
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::live::WorldIdentity;
    use crate::state::ResourceRecord;

    fn a(text: &str) -> Address {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn state(records: &[(&str, &str)]) -> StateFile {
        let mut s = StateFile::new(
            "t",
            WorldIdentity {
                backend: "sim".into(),
                id: "w".into(),
            },
        );
        for (address, id) in records {
            let mut attributes = crate::attrs::Attrs::new();
            if address.starts_with("account.") {
                attributes.insert("ou".into(), json!("ou.Workloads/Dev"));
            }
            s.resources.insert(
                a(address),
                ResourceRecord {
                    id: id.to_string(),
                    created: true,
                    attributes,
                    member: None,
                },
            );
        }
        s
    }

    fn sample() -> StateFile {
        let mut s = state(&[
            ("root", "r-1"),
            ("ou.Workloads", "ou-w"),
            ("ou.Workloads/Dev", "ou-d"),
            ("ou.Sandbox", "ou-s"),
            ("account.ml-dev", "111111111111"),
            ("scp.guard", "p-g"),
            ("attachment.guard:ou.Workloads/Dev", "p-g|ou-d"),
            ("attachment.guard:ou.Sandbox", "p-g|ou-s"),
            ("control.CT.S3.PV.1:ou.Workloads", "arn:ctl"),
            ("vpc.net", "vpc-1"),
            ("subnet.net.10.0.0.0/24", "subnet-1"),
        ]);
        s.pending_creates.insert(a("account.ml-prod"));
        s
    }

    fn addresses(removed: &[Removed]) -> Vec<String> {
        removed.iter().map(|r| r.address.to_string()).collect()
    }

    #[test]
    fn rm_takes_exactly_the_addresses_given_with_their_ids() {
        let s = sample();
        let (next, removed) =
            remove(&s, &[a("account.ml-dev"), a("account.ml-prod")], false).unwrap();
        assert_eq!(
            removed,
            vec![
                Removed {
                    address: a("account.ml-dev"),
                    id: Some("111111111111".into())
                },
                Removed {
                    address: a("account.ml-prod"),
                    id: None
                },
            ]
        );
        assert!(!next.resources.contains_key(&a("account.ml-dev")));
        assert!(next.pending_creates.is_empty());
        assert_eq!(next.resources.len(), s.resources.len() - 1);
        assert_eq!(next.serial, s.serial, "the caller bumps the serial");
    }

    #[test]
    fn rm_refuses_to_leave_records_naming_what_it_removes() {
        let s = sample();
        let errors = remove(
            &s,
            &[a("ou.Workloads"), a("scp.guard"), a("vpc.net")],
            false,
        )
        .unwrap_err();
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "ou.Workloads cannot be removed alone: ou.Workloads/Dev, attachment.guard:ou.Workloads/Dev, control.CT.S3.PV.1:ou.Workloads would be left naming it",
                "scp.guard cannot be removed alone: attachment.guard:ou.Sandbox, attachment.guard:ou.Workloads/Dev would be left naming it",
                "vpc.net cannot be removed alone: subnet.net.10.0.0.0/24 would be left naming it",
            ]
        );
        // Naming them all is the same as --recursive.
        let all = [
            "ou.Workloads",
            "ou.Workloads/Dev",
            "attachment.guard:ou.Workloads/Dev",
            "control.CT.S3.PV.1:ou.Workloads",
        ]
        .map(a);
        let named = remove(&s, &all, false).unwrap();
        let recursive = remove(&s, &[a("ou.Workloads")], true).unwrap();
        assert_eq!(named, recursive);
        assert_eq!(
            addresses(&recursive.1),
            vec![
                "ou.Workloads",
                "ou.Workloads/Dev",
                "attachment.guard:ou.Workloads/Dev",
                "control.CT.S3.PV.1:ou.Workloads",
            ]
        );
        // The account in the OU is not under it: it stays managed.
        assert!(recursive.0.resources.contains_key(&a("account.ml-dev")));
    }

    #[test]
    fn rm_reports_every_unknown_address_once_and_changes_nothing() {
        let s = sample();
        let errors = remove(
            &s,
            &[
                a("account.ml-dev"),
                a("account.nope"),
                a("scp.nope"),
                a("account.nope"),
            ],
            false,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                EditError::NotInState {
                    address: a("account.nope")
                },
                EditError::NotInState {
                    address: a("scp.nope")
                },
            ]
        );
    }

    #[test]
    fn mv_of_an_ou_carries_what_is_under_and_naming_it() {
        let s = sample();
        let (next, done) = relocate(&s, &a("ou.Workloads"), &a("ou.Apps")).unwrap();
        let moved: Vec<String> = done
            .moved
            .iter()
            .map(|(f, t)| format!("{f} -> {t}"))
            .collect();
        assert_eq!(
            moved,
            vec![
                "ou.Workloads -> ou.Apps",
                "ou.Workloads/Dev -> ou.Apps/Dev",
                "attachment.guard:ou.Workloads/Dev -> attachment.guard:ou.Apps/Dev",
                "control.CT.S3.PV.1:ou.Workloads -> control.CT.S3.PV.1:ou.Apps",
            ]
        );
        assert_eq!(done.rewritten, vec![a("account.ml-dev")]);
        assert_eq!(
            next.resources[&a("account.ml-dev")].attributes["ou"],
            json!("ou.Apps/Dev")
        );
        assert_eq!(next.id_of(&a("ou.Apps/Dev")), Some("ou-d"));
        assert_eq!(next.resources.len(), s.resources.len());
    }

    #[test]
    fn mv_of_an_scp_carries_its_attachments() {
        let s = sample();
        let (next, done) = relocate(&s, &a("scp.guard"), &a("scp.guardrail")).unwrap();
        assert!(done.moved.contains(&(a("scp.guard"), a("scp.guardrail"))));
        assert!(done.moved.contains(&(
            a("attachment.guard:ou.Workloads/Dev"),
            a("attachment.guardrail:ou.Workloads/Dev")
        )));
        assert_eq!(next.resources.len(), s.resources.len());
        assert_eq!(next.id_of(&a("scp.guardrail")), Some("p-g"));
        assert_eq!(next.id_of(&a("scp.guard")), None);
    }

    #[test]
    fn mv_refuses_what_would_lose_or_confuse_a_record() {
        let s = sample();
        let refused = |from: &str, to: &str| -> Vec<String> {
            relocate(&s, &a(from), &a(to))
                .unwrap_err()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            refused("ou.Sandbox", "account.sandbox"),
            vec![
                "cannot move ou.Sandbox to account.sandbox: they are different kinds (ou and account)"
            ]
        );
        assert_eq!(
            refused("ou.Sandbox", "ou.Workloads"),
            vec!["cannot move to ou.Workloads: it is in the state already"]
        );
        assert_eq!(
            refused("ou.Nope", "ou.Other"),
            vec!["ou.Nope is not in the state"]
        );
        assert_eq!(
            refused("account.ml-prod", "account.ml-prod-2"),
            vec![
                "cannot move account.ml-prod: it is only a pending creation of an interrupted apply"
            ]
        );
        assert_eq!(
            refused("account.ml-dev", "account.ml-prod"),
            vec!["cannot move to account.ml-prod: it is in the state already"]
        );
        assert_eq!(
            refused("scp.guard", "scp.guard"),
            vec!["cannot move scp.guard to itself"]
        );
        // A record under the OU would land on one recorded without its parent.
        let mut orphan = sample();
        orphan
            .resources
            .insert(a("ou.Apps/Dev"), orphan.resources[&a("ou.Sandbox")].clone());
        let errors = relocate(&orphan, &a("ou.Workloads"), &a("ou.Apps")).unwrap_err();
        assert_eq!(
            errors,
            vec![EditError::Collision {
                moved: a("ou.Workloads"),
                from: a("ou.Workloads/Dev"),
                to: a("ou.Apps/Dev"),
            }]
        );
    }

    #[test]
    fn mv_under_another_parent_is_refused() {
        // AWS cannot move an OU; `[[moved]]` plans that as a replacement instead.
        let s = sample();
        for to in ["ou.Workloads/Old", "ou.Apps/Workloads"] {
            let errors = relocate(&s, &a("ou.Workloads"), &a(to)).unwrap_err();
            assert_eq!(
                errors,
                vec![EditError::AcrossParents {
                    from: a("ou.Workloads"),
                    to: a(to),
                }]
            );
        }
    }
}
