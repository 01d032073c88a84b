//! Member rules that need the whole plan: an endpoint deleted and one created in the
//! same network is shown as the replacement it is.

use std::collections::BTreeMap;

use crate::address::Address;
use crate::plan::Action;
use crate::planner::Planner;

impl Planner<'_> {
    /// An endpoint whose service changed is a new address; when one endpoint of a
    /// network goes and one comes, show it as the replacement it is.
    pub(super) fn mark_endpoint_replacements(&mut self) {
        let mut per_network: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (i, c) in self.changes.iter().enumerate() {
            if let Address::Endpoint(n, _) = &c.address {
                let entry = per_network.entry(n.clone()).or_default();
                match c.action {
                    Action::Delete if self.state.resources.contains_key(&c.address) => {
                        entry.0.push(i)
                    }
                    Action::Create => entry.1.push(i),
                    _ => {}
                }
            }
        }
        for (deleted, created) in per_network.values() {
            if let ([d], [c]) = (deleted.as_slice(), created.as_slice()) {
                let old = self.changes[*d].address.clone();
                let new = self.changes[*c].address.clone();
                // The same address deleted and created again is the content of a
                // replaced VPC, not a service change.
                if old == new {
                    continue;
                }
                self.changes[*c].action = Action::Replace;
                self.changes[*c].reason = format!(
                    "replaces {old}: an endpoint's service cannot change, so a new endpoint is created and the old one deleted"
                );
                self.changes[*d].reason = format!("replaced by {new}");
            }
        }
    }
}
