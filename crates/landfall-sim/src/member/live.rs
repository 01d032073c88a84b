//! The live read of a member account and region: [`MemberWorld`] as the
//! [`LiveMember`] that `refresh_member` returns, each key listing the aliases that point at
//! it.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::live::{LiveKey, LiveMember};

use super::MemberWorld;

impl MemberWorld {
    /// What `refresh_member` returns.
    pub fn to_live(&self) -> LiveMember {
        let mut keys: BTreeMap<String, LiveKey> = self
            .keys
            .values()
            .map(|k| {
                (
                    k.id.clone(),
                    LiveKey {
                        id: k.id.clone(),
                        description: k.description.clone(),
                        policy: k.policy.clone(),
                        rotation: k.rotation,
                        state: k.state,
                        aliases: BTreeSet::new(),
                        tags: k.tags.clone(),
                    },
                )
            })
            .collect();
        for (alias, key_id) in &self.aliases {
            if let Some(key) = keys.get_mut(key_id) {
                key.aliases.insert(alias.clone());
            }
        }
        LiveMember {
            vpcs: self.vpcs.clone(),
            subnets: self.subnets.clone(),
            route_tables: self.route_tables.clone(),
            security_groups: self.security_groups.clone(),
            endpoints: self.endpoints.clone(),
            keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use landfall_core::live::KeyState;
    use landfall_core::model::Tags;

    use super::super::SimKey;
    use super::*;

    #[test]
    fn live_keys_list_their_aliases() {
        let mut data = MemberWorld::default();
        data.keys.insert(
            "k".into(),
            SimKey {
                id: "k".into(),
                description: String::new(),
                policy: "{}".into(),
                rotation: true,
                state: KeyState::PendingDeletion,
                tags: Tags::new(),
                deletion_window_days: Some(7),
            },
        );
        data.aliases.insert("alias/a".into(), "k".into());
        data.aliases.insert("alias/b".into(), "k".into());
        let live = data.to_live();
        assert_eq!(
            live.keys["k"].aliases,
            BTreeSet::from(["alias/a".to_string(), "alias/b".to_string()])
        );
        assert_eq!(live.keys["k"].state, KeyState::PendingDeletion);
        data.aliases.insert("alias/c".into(), "missing".into());
        assert!(data.check().unwrap_err().contains("missing"));
    }
}
