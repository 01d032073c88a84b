//! What a refresh reads for the member family: the member accounts and regions a plan
//! or drift needs.

use std::collections::BTreeSet;

use crate::address::Address;
use crate::live::{LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::state::StateFile;

/// The (account id, region) pairs a plan or drift must read: every declared network
/// or key whose account exists (found as the plan finds it: the state's id, an
/// `[[import]]` block's, or the declared email), and every member recorded in the
/// state. An imported VPC or key is read where it is declared: its block's id is
/// checked there.
pub fn members_to_read(
    desired: &DesiredState,
    live: &LiveState,
    state: Option<&StateFile>,
) -> BTreeSet<(String, String)> {
    let index = LiveIndex::new(live);
    let account_id = |name: &str| -> Option<String> {
        let addr = Address::Account(name.to_string());
        if let Some(id) = state.and_then(|s| s.id_of(&addr))
            && live.accounts.contains_key(id)
        {
            return Some(id.to_string());
        }
        if let Some(import) = desired.imports.iter().find(|i| i.to == addr)
            && live.accounts.contains_key(&import.id)
        {
            return Some(import.id.clone());
        }
        let spec = desired.accounts.get(name)?;
        index.account_by_email(&spec.email).map(|a| a.id.clone())
    };
    let mut out = BTreeSet::new();
    for net in desired.networks.values() {
        if let Some(id) = account_id(&net.account) {
            out.insert((id, net.region.clone()));
        }
    }
    for key in desired.kms_keys.values() {
        if let Some(id) = account_id(&key.account) {
            out.insert((id, key.region.clone()));
        }
    }
    if let Some(state) = state {
        for (address, rec) in state.resources.iter() {
            if address.member_kind().is_none() {
                continue;
            }
            if let Some((a, r)) = rec.member.as_ref().and_then(|m| m.split_once('/'))
                && live.accounts.contains_key(a)
            {
                out.insert((a.to_string(), r.to_string()));
            }
        }
    }
    out
}
