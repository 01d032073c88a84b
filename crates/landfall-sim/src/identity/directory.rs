//! The Identity Store: groups (created, described, found by display name, their
//! description updated, deleted) and users (seeded by tests and the CLI: the sim has
//! no API that creates them, as Landfall makes none).
//!
//! Display names are unique (`ConflictException`, "would violate an existing
//! uniqueness claim in the identity store"); AWS documents no case folding, so the sim
//! compares them exactly. `Administrator` and `AWSAdministrators` are reserved
//! (`CreateGroup`: "reserved names and can't be used for users or groups"). Deleting a
//! group does not delete its account assignments: AWS documents no refusal, and its
//! guide asks to remove a group's assignments *before* deleting it ("Otherwise, you'll
//! have unassigned and unused permission sets"), so they stay, naming a group that is
//! gone.

use super::{Group, User, conflict, not_found, validation};
use crate::world::{Rule, World};

const RESERVED_NAMES: [&str; 2] = ["Administrator", "AWSAdministrators"];

/// `[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r  ]+`, 1 to 1024 characters: what the Identity
/// Store takes for display names and descriptions (control characters other than tab,
/// newline and carriage return are not).
fn check_text(what: &str, text: &str) -> Rule<()> {
    let ok = |c: char| !c.is_control() || matches!(c, '\t' | '\n' | '\r');
    if text.is_empty() || text.chars().count() > 1024 || !text.chars().all(ok) {
        return Err(validation(format!(
            "{what} {text:?} must be 1 to 1024 letters, marks, symbols, numbers, punctuation or spaces"
        )));
    }
    Ok(())
}

impl World {
    /// Identity Store `CreateGroup`; returns the group id.
    pub fn create_group(&mut self, display_name: &str, description: Option<&str>) -> Rule<String> {
        let instance = self.instance()?;
        check_text("group display name", display_name)?;
        if let Some(d) = description {
            check_text("group description", d)?;
        }
        if RESERVED_NAMES.contains(&display_name) {
            return Err(validation(format!(
                "{display_name} is a reserved name and can't be used for users or groups"
            )));
        }
        if self.group_named(display_name).is_some() {
            return Err(conflict(format!(
                "UNIQUENESS_CONSTRAINT_VIOLATION: a group with display name {display_name} already exists"
            )));
        }
        let id = self.fresh(
            |ids| ids.identity_store_resource(&instance.identity_store_id),
            |w, id| w.identity.groups.contains_key(id) || w.identity.users.contains_key(id),
        );
        self.identity.groups.insert(
            id.clone(),
            Group {
                id: id.clone(),
                display_name: display_name.to_string(),
                description: description.map(str::to_string),
            },
        );
        Ok(id)
    }

    /// Identity Store `UpdateGroup` of the description (`None` removes it).
    pub fn update_group(&mut self, group_id: &str, description: Option<&str>) -> Rule<()> {
        self.instance()?;
        if let Some(d) = description {
            check_text("group description", d)?;
        }
        let group = self
            .identity
            .groups
            .get_mut(group_id)
            .ok_or_else(|| group_not_found(group_id))?;
        group.description = description.map(str::to_string);
        Ok(())
    }

    /// Identity Store `DeleteGroup`; its account assignments stay (see the module).
    pub fn delete_group(&mut self, group_id: &str) -> Rule<()> {
        self.instance()?;
        self.identity
            .groups
            .remove(group_id)
            .map(|_| ())
            .ok_or_else(|| group_not_found(group_id))
    }

    /// The group with this display name (`GetGroupId` with the `displayName` unique
    /// attribute).
    pub fn group_named(&self, display_name: &str) -> Option<&Group> {
        self.identity
            .groups
            .values()
            .find(|g| g.display_name == display_name)
    }

    /// The user with this user name (`GetUserId` with the `userName` unique attribute).
    pub fn user_named(&self, user_name: &str) -> Option<&User> {
        self.identity
            .users
            .values()
            .find(|u| u.user_name == user_name)
    }

    /// Seeds a user of the identity store (`jane@example.com`), as an identity source
    /// would; returns its id (the existing one when the name is taken).
    pub fn add_identity_user(&mut self, user_name: &str) -> String {
        if let Some(user) = self.user_named(user_name) {
            return user.id.clone();
        }
        let (_, store) = crate::ids::identity_instance(self.ids.seed);
        let id = self.fresh(
            |ids| ids.identity_store_resource(&store),
            |w, id| w.identity.groups.contains_key(id) || w.identity.users.contains_key(id),
        );
        self.identity.users.insert(
            id.clone(),
            User {
                id: id.clone(),
                user_name: user_name.to_string(),
            },
        );
        id
    }
}

fn group_not_found(group_id: &str) -> crate::world::Denied {
    not_found(format!("no group {group_id} in the identity store"))
}
