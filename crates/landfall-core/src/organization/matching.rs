//! Matching the organization's desired resources to live ones: by the state's id when
//! it still exists, else by natural key (an OU by parent and name, an account by email,
//! an SCP by name); and the ids and references of policies.

use std::collections::HashMap;

use crate::address::{Address, OuPath};
use crate::model::DesiredState;
use crate::plan::Ref;
use crate::planner::Planner;

use super::attrs::exists_live;

impl Planner<'_> {
    /// The state's id for an organization resource if that id still exists live.
    pub(super) fn state_id_live(&self, address: &Address) -> Option<String> {
        let id = self.state.id_of(address)?;
        exists_live(self.live, address, id).then(|| id.to_string())
    }

    pub(super) fn match_existing(&mut self) {
        let root = self.live.root_id.clone();
        self.existing.insert(Address::Root, root);
        let mut ou_by_parent_and_name: HashMap<(&str, &str), &str> = HashMap::new();
        for ou in self.live.ous.values() {
            ou_by_parent_and_name.insert((ou.parent_id.as_str(), ou.name.as_str()), &ou.id);
        }
        // BTreeMap order visits parents before children.
        for path in self.desired.ous.keys() {
            let addr = Address::Ou(path.clone());
            let id = self.state_id_live(&addr).or_else(|| {
                let parent = self.parent_id_of_path(path)?;
                ou_by_parent_and_name
                    .get(&(parent.as_str(), path.name()))
                    .map(|s| s.to_string())
            });
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
        for (name, spec) in &self.desired.accounts {
            let addr = Address::Account(name.clone());
            let id = self.state_id_live(&addr).or_else(|| {
                self.index
                    .account_by_email(&spec.email)
                    .map(|a| a.id.clone())
            });
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
        for name in self.desired.policies.keys() {
            let addr = Address::Scp(name.clone());
            let id = self.state_id_live(&addr).or_else(|| {
                self.index
                    .policy_by_name(name)
                    .filter(|p| !p.aws_managed)
                    .map(|p| p.id.clone())
            });
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
    }

    fn parent_id_of_path(&self, path: &OuPath) -> Option<String> {
        match path.parent() {
            None => Some(self.live.root_id.clone()),
            Some(p) => self.existing.get(&Address::Ou(p)).cloned(),
        }
    }

    pub(super) fn policy_id(&self, name: &str) -> Option<String> {
        if DesiredState::is_aws_managed_policy(name) {
            self.index
                .policy_by_name(name)
                .filter(|p| p.aws_managed)
                .map(|p| p.id.clone())
        } else {
            self.existing.get(&Address::Scp(name.to_string())).cloned()
        }
    }

    pub(super) fn policy_ref(&self, name: &str) -> Ref {
        match self.policy_id(name) {
            Some(id) => Ref::Id(id),
            None => Ref::Address(Address::Scp(name.to_string())),
        }
    }
}
