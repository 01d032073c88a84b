//! KMS keys and aliases: customer-managed keys (description, policy, rotation, tags),
//! the states KMS allows each operation in, scheduled deletion and its cancellation,
//! and aliases (unique per account and region, `alias/aws/` reserved).

use landfall_core::live::KeyState;
use landfall_core::model::Tags;
use landfall_engine::provider::ErrorKind;
use serde::{Deserialize, Serialize};

use super::tags::check_kms_tags;
use super::{Member, json_object};
use crate::world::{Denied, Rule};

/// `ScheduleKeyDeletion`'s waiting period bounds, in days.
pub const KEY_DELETION_WINDOW: std::ops::RangeInclusive<u32> = 7..=30;

/// A customer-managed key as KMS keeps it. Aliases live in
/// [`MemberWorld::aliases`](super::MemberWorld::aliases);
/// [`LiveKey::aliases`](landfall_core::live::LiveKey::aliases) is derived from them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimKey {
    pub id: String,
    pub description: String,
    pub policy: String,
    pub rotation: bool,
    pub state: KeyState,
    #[serde(default)]
    pub tags: Tags,
    /// The waiting period of a scheduled deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_window_days: Option<u32>,
}

impl Member<'_> {
    fn key_arn(&self, key_id: &str) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{key_id}",
            self.region, self.account_id
        )
    }

    fn key(&self, key_id: &str) -> Rule<&SimKey> {
        self.data
            .keys
            .get(key_id)
            .ok_or_else(|| key_not_found(&self.key_arn(key_id)))
    }

    /// The key, refused with `KMSInvalidStateException` unless its state is one of `allowed`.
    fn key_in(&self, key_id: &str, allowed: &[KeyState], operation: &str) -> Rule<&SimKey> {
        let key = self.key(key_id)?;
        if !allowed.contains(&key.state) {
            return Err(Denied::new(
                ErrorKind::Other("KMSInvalidStateException".into()),
                format!(
                    "KMSInvalidStateException: {} is {}, so {operation} is not allowed",
                    self.key_arn(key_id),
                    state_name(key.state)
                ),
            ));
        }
        Ok(key)
    }

    fn key_mut(&mut self, key_id: &str) -> Rule<&mut SimKey> {
        let arn = self.key_arn(key_id);
        self.data
            .keys
            .get_mut(key_id)
            .ok_or_else(|| key_not_found(&arn))
    }

    /// `CreateKey` (symmetric, customer managed): enabled, rotation off.
    pub fn create_key(&mut self, description: &str, policy: &str, tags: &Tags) -> Rule<String> {
        check_key_description(description)?;
        check_key_policy(policy, self.quotas.key_policy_max_bytes)?;
        check_kms_tags(&Tags::new(), tags)?;
        let id = loop {
            let id = self.ids.kms_key();
            if !self.data.keys.contains_key(&id) {
                break id;
            }
        };
        self.data.keys.insert(
            id.clone(),
            SimKey {
                id: id.clone(),
                description: description.to_string(),
                policy: policy.to_string(),
                rotation: false,
                state: KeyState::Enabled,
                tags: tags.clone(),
                deletion_window_days: None,
            },
        );
        Ok(id)
    }

    /// `EnableKeyRotation` / `DisableKeyRotation`: only on an enabled key.
    pub fn set_key_rotation(&mut self, key_id: &str, enabled: bool) -> Rule<()> {
        let op = if enabled {
            "EnableKeyRotation"
        } else {
            "DisableKeyRotation"
        };
        self.key_in(key_id, &[KeyState::Enabled], op)?;
        self.key_mut(key_id)?.rotation = enabled;
        Ok(())
    }

    /// `PutKeyPolicy` (allowed in every state, as on AWS).
    pub fn put_key_policy(&mut self, key_id: &str, policy: &str) -> Rule<()> {
        self.key(key_id)?;
        check_key_policy(policy, self.quotas.key_policy_max_bytes)?;
        self.key_mut(key_id)?.policy = policy.to_string();
        Ok(())
    }

    /// `UpdateKeyDescription`.
    pub fn update_key_description(&mut self, key_id: &str, description: &str) -> Rule<()> {
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "UpdateKeyDescription",
        )?;
        check_key_description(description)?;
        self.key_mut(key_id)?.description = description.to_string();
        Ok(())
    }

    /// `ScheduleKeyDeletion`: a waiting period of 7 to 30 days; the key stays listed
    /// as `PendingDeletion`.
    pub fn schedule_key_deletion(&mut self, key_id: &str, window_days: u32) -> Rule<()> {
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "ScheduleKeyDeletion",
        )?;
        if !KEY_DELETION_WINDOW.contains(&window_days) {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: PendingWindowInDays {window_days} is not between {} and {}",
                    KEY_DELETION_WINDOW.start(),
                    KEY_DELETION_WINDOW.end()
                ),
            ));
        }
        let key = self.key_mut(key_id)?;
        key.state = KeyState::PendingDeletion;
        key.deletion_window_days = Some(window_days);
        Ok(())
    }

    /// `CancelKeyDeletion` + `EnableKey`: a key pending deletion is enabled again.
    pub fn restore_key(&mut self, key_id: &str) -> Rule<()> {
        self.key_in(key_id, &[KeyState::PendingDeletion], "CancelKeyDeletion")?;
        let key = self.key_mut(key_id)?;
        key.state = KeyState::Enabled;
        key.deletion_window_days = None;
        Ok(())
    }

    /// `EnableKey` / `DisableKey`. Not part of the provider interface; for
    /// out-of-band changes.
    pub fn set_key_enabled(&mut self, key_id: &str, enabled: bool) -> Rule<()> {
        let op = if enabled { "EnableKey" } else { "DisableKey" };
        self.key_in(key_id, &[KeyState::Enabled, KeyState::Disabled], op)?;
        self.key_mut(key_id)?.state = if enabled {
            KeyState::Enabled
        } else {
            KeyState::Disabled
        };
        Ok(())
    }

    /// `CreateAlias` / `UpdateAlias`: points `alias` at the key, creating it or moving
    /// it from the key it pointed at (an alias is unique per account and region).
    pub fn put_alias(&mut self, alias: &str, key_id: &str) -> Rule<()> {
        check_alias(alias)?;
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "CreateAlias",
        )?;
        self.data
            .aliases
            .insert(alias.to_string(), key_id.to_string());
        Ok(())
    }

    /// `DeleteAlias`.
    pub fn delete_alias(&mut self, alias: &str) -> Rule<()> {
        check_alias(alias)?;
        if self.data.aliases.remove(alias).is_none() {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!(
                    "NotFoundException: Alias arn:aws:kms:{}:{}:{alias} is not found",
                    self.region, self.account_id
                ),
            ));
        }
        Ok(())
    }

    /// `TagResource` on a key.
    pub fn tag_key(&mut self, key_id: &str, tags: &Tags) -> Rule<()> {
        let key = self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "TagResource",
        )?;
        check_kms_tags(&key.tags, tags)?;
        self.key_mut(key_id)?
            .tags
            .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    /// `UntagResource` on a key: keys that are not present are ignored.
    pub fn untag_key(&mut self, key_id: &str, keys: &[String]) -> Rule<()> {
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "UntagResource",
        )?;
        let key = self.key_mut(key_id)?;
        for k in keys {
            key.tags.remove(k);
        }
        Ok(())
    }
}

fn key_not_found(arn: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("NotFoundException: Key '{arn}' does not exist"),
    )
}

fn state_name(state: KeyState) -> &'static str {
    match state {
        KeyState::Enabled => "Enabled",
        KeyState::Disabled => "Disabled",
        KeyState::PendingDeletion => "PendingDeletion",
        KeyState::Other => "in another state",
    }
}

fn check_key_policy(doc: &str, max_bytes: usize) -> Rule<()> {
    let malformed = |message: String| {
        Denied::new(
            ErrorKind::Other("MalformedPolicyDocumentException".into()),
            message,
        )
    };
    if !json_object(doc) {
        return Err(malformed(
            "MalformedPolicyDocumentException: the key policy is not a JSON object".into(),
        ));
    }
    if doc.len() > max_bytes {
        return Err(malformed(format!(
            "MalformedPolicyDocumentException: the key policy has {} bytes; the limit is {max_bytes}",
            doc.len()
        )));
    }
    Ok(())
}

fn check_key_description(description: &str) -> Rule<()> {
    if description.chars().count() > 8192 {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            "ValidationException: the key description is longer than 8192 characters",
        ));
    }
    Ok(())
}

/// `alias/` and a name of letters, digits, `/`, `_` and `-`; `alias/aws/` is AWS's.
fn check_alias(alias: &str) -> Rule<()> {
    let name = alias.strip_prefix("alias/").unwrap_or_default();
    let ok = !name.is_empty()
        && alias.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'));
    if !ok {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "ValidationException: alias {alias:?} must be `alias/` followed by letters, digits, \
                 `/`, `_` or `-` (at most 256 characters)"
            ),
        ));
    }
    if alias.starts_with("alias/aws/") {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "NotAuthorizedException: {alias:?}: the `alias/aws/` prefix is reserved for AWS managed keys"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_need_the_prefix_and_not_aws() {
        assert!(check_alias("alias/data").is_ok());
        assert!(check_alias("alias/a/b_c-d").is_ok());
        for bad in [
            "data",
            "alias/",
            "alias/aws/x",
            "alias/a b",
            &format!("alias/{}", "a".repeat(251)),
        ] {
            assert_eq!(
                check_alias(bad).unwrap_err().kind,
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }
}
