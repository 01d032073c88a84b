//! Matching the organization's desired resources to live ones: by the state's id when
//! it still exists, else by the id an `[[import]]` block gives (checked live here),
//! else by natural key (an OU by parent and name, an account by email, an SCP by name);
//! and the ids and references of policies.

use std::collections::{BTreeMap, HashMap};

use crate::address::{Address, OuPath};
use crate::import::what_is;
use crate::kind::OrganizationKind;
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
            let id = match self.imported_id(&addr) {
                Some(imported) => imported,
                None => self.state_id_live(&addr).or_else(|| {
                    let parent = self.parent_id_of_path(path)?;
                    ou_by_parent_and_name
                        .get(&(parent.as_str(), path.name()))
                        .map(|s| s.to_string())
                }),
            };
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
        for (name, spec) in &self.desired.accounts {
            let addr = Address::Account(name.clone());
            let id = match self.imported_id(&addr) {
                Some(imported) => imported,
                None => self.state_id_live(&addr).or_else(|| {
                    self.index
                        .account_by_email(&spec.email)
                        .map(|a| a.id.clone())
                }),
            };
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
        for (name, spec) in &self.desired.policies {
            let addr = Address::Scp(name.clone());
            let id = match self.imported_id(&addr) {
                Some(imported) => imported,
                None => self.state_id_live(&addr).or_else(|| {
                    self.index
                        .policy_by_name(spec.name_in_aws())
                        .filter(|p| !p.aws_managed)
                        .map(|p| p.id.clone())
                }),
            };
            if let Some(id) = id {
                self.existing.insert(addr, id);
            }
        }
        self.check_imported_ids_unclaimed();
    }

    /// For an address an `[[import]]` block names (the state does not record it yet):
    /// `Some(Some(id))` when the id is a live resource of that kind that can be adopted
    /// there, `Some(None)` when it cannot (a plan problem says why); `None` without a
    /// block.
    fn imported_id(&mut self, address: &Address) -> Option<Option<String>> {
        let import = self.imports.get(address)?.clone();
        let kind = address.organization_kind()?;
        let id = import.record_id;
        let problem = |p: &mut Self, message: String, hint: String| {
            p.problem(
                address.clone(),
                format!("[[import]] id = \"{}\": {message}", import.id),
                Some(&hint),
            );
            Some(None)
        };
        if !exists_live(self.live, address, &id) {
            let found = match what_is(self.live, &id) {
                Some(what) => format!("it is {what}, not {}", import.kind.noun()),
                None => format!("no {} has this id live", import.kind.name()),
            };
            return problem(
                self,
                format!("{address} cannot be imported: {found}"),
                "check the id (`aws organizations list-accounts`, `list-organizational-units-for-parent`, `list-policies --filter SERVICE_CONTROL_POLICY`), or remove the block to let Landfall create the resource".into(),
            );
        }
        match kind {
            OrganizationKind::Account(_) if id == self.live.management_account_id => problem(
                self,
                format!("{id} is the management account; Landfall manages member accounts only"),
                "remove the block and the account's declaration: the management account is the organization's, not a declared account".into(),
            ),
            OrganizationKind::Scp(_)
                if self.live.policies.get(&id).is_some_and(|p| p.aws_managed) =>
            {
                problem(
                    self,
                    format!("{id} is an AWS-managed policy, which AWS keeps and Landfall cannot change"),
                    "attach an AWS-managed policy by its name in `targets`/`scps` instead of declaring it".into(),
                )
            }
            OrganizationKind::Ou(path) => {
                // AWS cannot move an OU: an imported OU must already be where it is
                // declared, under the declared parent (matched or imported before it).
                let live_parent = self.live.ous.get(&id).map(|ou| ou.parent_id.clone());
                let declared_parent = self.parent_id_of_path(path);
                if live_parent.is_some() && live_parent == declared_parent {
                    return Some(Some(id));
                }
                let live_path = self
                    .index
                    .ou_path(&id)
                    .map_or_else(|| id.clone(), |p| format!("ou.{p}"));
                let parent = path
                    .parent()
                    .map_or_else(|| "root".to_string(), |p| format!("ou.{p}"));
                problem(
                    self,
                    format!("{id} is {live_path} live, not under {parent}; AWS cannot move an OU"),
                    format!("import it at its live path ({live_path}); to have it under {parent}, declare it there afterwards: Landfall then creates a new OU and moves the accounts (the old one, adopted, is left in place)"),
                )
            }
            OrganizationKind::Root
            | OrganizationKind::Account(_)
            | OrganizationKind::Scp(_)
            | OrganizationKind::Attachment(_)
            | OrganizationKind::OrgPolicy(..)
            | OrganizationKind::OrgPolicyAttachment(..)
            | OrganizationKind::PolicyType(_) => Some(Some(id)),
        }
    }

    /// An imported id is its block's alone: another declared resource matching it by
    /// its state record or natural key (an OU of that parent and name, an account of
    /// that email, an SCP of that name) would manage the same resource twice.
    fn check_imported_ids_unclaimed(&mut self) {
        let imported: BTreeMap<&str, &Address> = self
            .imports
            .iter()
            .filter(|(address, _)| address.organization_kind().is_some())
            .filter(|(address, import)| self.existing.get(*address) == Some(&import.record_id))
            .map(|(address, import)| (import.record_id.as_str(), address))
            .collect();
        let mut clashes: Vec<(Address, Address, String)> = self
            .existing
            .iter()
            .filter_map(|(address, id)| {
                let to = imported.get(id.as_str())?;
                (*to != address).then(|| ((*to).clone(), address.clone(), id.clone()))
            })
            .collect();
        clashes.sort();
        for (to, other, id) in clashes {
            self.problem(
                to.clone(),
                format!("[[import]] id = \"{id}\": {other} is matched to the same resource (by its name, email or state record)"),
                Some(&format!("a resource is managed at one address: remove the block to keep it as {other}, or change {other}'s declaration")),
            );
            self.existing.remove(&other);
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
