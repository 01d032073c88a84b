//! Customer-managed KMS keys in a member account and region, with their aliases,
//! policies, rotation and tags.
//!
//! A read costs `ListKeys` + `ListAliases` (pages of 1,000 and 100) and, per key, `DescribeKey`
//! (AWS-managed keys stop there) then `GetKeyPolicy`, `GetKeyRotationStatus` and
//! `ListResourceTags` — KMS has no batch read of any of them.

use std::collections::BTreeMap;

use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState as SdkKeyState, KeyUsageType, Tag};
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::live::{KeyState, LiveKey};
use landfall_core::model::Tags;
use landfall_engine::provider::{ErrorKind, MemberScope, ProviderError, ProviderResult};

use crate::AwsBackend;
use crate::errors::empty_response;
use crate::member::{Member, Service};
use crate::network::pages;

const KMS: Service = Service::Kms;

fn kms_tags(tags: &Tags) -> ProviderResult<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder().tag_key(k).tag_value(v).build().map_err(|e| {
                ProviderError::new(ErrorKind::InvalidInput, "TagResource", e.to_string())
            })
        })
        .collect()
}

/// The marker of the next page, when the listing is truncated.
macro_rules! next_marker {
    () => {
        |p| {
            if p.truncated() {
                p.next_marker().map(str::to_string)
            } else {
                None
            }
        }
    };
}

pub(crate) async fn keys(
    aws: &AwsBackend,
    m: &Member,
) -> ProviderResult<BTreeMap<String, LiveKey>> {
    let (key_pages, alias_pages) = futures::try_join!(
        pages(
            aws,
            m,
            KMS,
            "ListKeys",
            |t| m.kms.list_keys().limit(1000).set_marker(t).send(),
            next_marker!(),
        ),
        pages(
            aws,
            m,
            KMS,
            "ListAliases",
            |t| m.kms.list_aliases().limit(100).set_marker(t).send(),
            next_marker!(),
        ),
    )?;
    let ids: Vec<String> = key_pages
        .iter()
        .flat_map(|p| p.keys())
        .filter_map(|k| k.key_id().map(str::to_string))
        .collect();
    let mut keys: BTreeMap<String, LiveKey> = stream::iter(ids)
        .map(|id| key(aws, m, id))
        .buffer_unordered(crate::ALL_AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .map(|k| (k.id.clone(), k))
        .collect();
    for alias in alias_pages.iter().flat_map(|p| p.aliases()) {
        if let (Some(name), Some(target)) = (alias.alias_name(), alias.target_key_id())
            && let Some(k) = keys.get_mut(target)
        {
            k.aliases.insert(name.to_string());
        }
    }
    Ok(keys)
}

/// One key, or `None` for an AWS-managed key.
async fn key(aws: &AwsBackend, m: &Member, id: String) -> ProviderResult<Option<LiveKey>> {
    let described = aws
        .member_read(m, KMS, "DescribeKey", || {
            m.kms.describe_key().key_id(&id).send()
        })
        .await?;
    let Some(meta) = described.key_metadata() else {
        return Ok(None);
    };
    if meta.key_manager() != Some(&KeyManagerType::Customer) {
        return Ok(None);
    }
    let state = match meta.key_state() {
        Some(SdkKeyState::Enabled) => KeyState::Enabled,
        Some(SdkKeyState::Disabled) => KeyState::Disabled,
        Some(SdkKeyState::PendingDeletion) => KeyState::PendingDeletion,
        _ => KeyState::Other,
    };
    let policy = async {
        aws.member_read(m, KMS, "GetKeyPolicy", || {
            m.kms
                .get_key_policy()
                .key_id(&id)
                .policy_name("default")
                .send()
        })
        .await
        .map(|o| o.policy().unwrap_or_default().to_string())
    };
    let rotation = async {
        match aws
            .member_read(m, KMS, "GetKeyRotationStatus", || {
                m.kms.get_key_rotation_status().key_id(&id).send()
            })
            .await
        {
            Ok(o) => Ok(o.key_rotation_enabled()),
            // Keys that cannot rotate (asymmetric, imported, custom key stores, some
            // states) have no rotation.
            Err(e)
                if matches!(&e.kind, ErrorKind::Other(code)
                    if code == "UnsupportedOperationException" || code == "KMSInvalidStateException") =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    };
    let tags = async {
        pages(
            aws,
            m,
            KMS,
            "ListResourceTags",
            |t| m.kms.list_resource_tags().key_id(&id).set_marker(t).send(),
            next_marker!(),
        )
        .await
        .map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.tags())
                .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
                .collect::<Tags>()
        })
    };
    let (policy, rotation, tags) = futures::try_join!(policy, rotation, tags)?;
    Ok(Some(LiveKey {
        id: meta.key_id().to_string(),
        description: meta.description().unwrap_or_default().to_string(),
        policy,
        rotation,
        state,
        aliases: Default::default(),
        tags,
    }))
}

impl AwsBackend {
    pub(crate) async fn kms_create_key(
        &self,
        scope: &MemberScope,
        description: &str,
        policy: &str,
        tags: &Tags,
    ) -> ProviderResult<String> {
        let m = self.member(scope).await?;
        let tags = kms_tags(tags)?;
        let out = self
            .member_write(
                &m,
                KMS,
                "CreateKey",
                m.kms
                    .create_key()
                    .description(description)
                    .set_policy((!policy.is_empty()).then(|| policy.to_string()))
                    .key_spec(KeySpec::SymmetricDefault)
                    .key_usage(KeyUsageType::EncryptDecrypt)
                    .set_tags((!tags.is_empty()).then_some(tags))
                    .send(),
            )
            .await?;
        out.key_metadata()
            .map(|k| k.key_id().to_string())
            .ok_or_else(|| empty_response("CreateKey", "key id"))
    }

    pub(crate) async fn kms_set_key_rotation(
        &self,
        scope: &MemberScope,
        key_id: &str,
        enabled: bool,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        if enabled {
            self.member_write(
                &m,
                KMS,
                "EnableKeyRotation",
                m.kms.enable_key_rotation().key_id(key_id).send(),
            )
            .await?;
        } else {
            self.member_write(
                &m,
                KMS,
                "DisableKeyRotation",
                m.kms.disable_key_rotation().key_id(key_id).send(),
            )
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn kms_put_key_policy(
        &self,
        scope: &MemberScope,
        key_id: &str,
        policy: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            KMS,
            "PutKeyPolicy",
            m.kms
                .put_key_policy()
                .key_id(key_id)
                .policy_name("default")
                .policy(policy)
                .send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn kms_update_key_description(
        &self,
        scope: &MemberScope,
        key_id: &str,
        description: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            KMS,
            "UpdateKeyDescription",
            m.kms
                .update_key_description()
                .key_id(key_id)
                .description(description)
                .send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn kms_schedule_key_deletion(
        &self,
        scope: &MemberScope,
        key_id: &str,
        window_days: u32,
    ) -> ProviderResult<()> {
        let window = i32::try_from(window_days).map_err(|_| {
            ProviderError::new(
                ErrorKind::InvalidInput,
                "ScheduleKeyDeletion",
                format!("a deletion window of {window_days} days is out of range (7–30)"),
            )
        })?;
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            KMS,
            "ScheduleKeyDeletion",
            m.kms
                .schedule_key_deletion()
                .key_id(key_id)
                .pending_window_in_days(window)
                .send(),
        )
        .await?;
        Ok(())
    }

    /// `CancelKeyDeletion` (a key not pending deletion is fine) then `EnableKey`:
    /// a cancelled deletion leaves the key disabled.
    pub(crate) async fn kms_restore_key(
        &self,
        scope: &MemberScope,
        key_id: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        match self
            .member_write(
                &m,
                KMS,
                "CancelKeyDeletion",
                m.kms.cancel_key_deletion().key_id(key_id).send(),
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Other("KMSInvalidStateException".into()) => {}
            Err(e) => return Err(e),
        }
        self.member_write(
            &m,
            KMS,
            "EnableKey",
            m.kms.enable_key().key_id(key_id).send(),
        )
        .await?;
        Ok(())
    }

    /// `CreateAlias`, or `UpdateAlias` when the alias exists (pointing elsewhere).
    pub(crate) async fn kms_put_alias(
        &self,
        scope: &MemberScope,
        alias: &str,
        key_id: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        match self
            .member_write(
                &m,
                KMS,
                "CreateAlias",
                m.kms
                    .create_alias()
                    .alias_name(alias)
                    .target_key_id(key_id)
                    .send(),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.kind == ErrorKind::Other("AlreadyExistsException".into()) => {
                self.member_write(
                    &m,
                    KMS,
                    "UpdateAlias",
                    m.kms
                        .update_alias()
                        .alias_name(alias)
                        .target_key_id(key_id)
                        .send(),
                )
                .await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn kms_delete_alias(
        &self,
        scope: &MemberScope,
        alias: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            KMS,
            "DeleteAlias",
            m.kms.delete_alias().alias_name(alias).send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn kms_tag_key(
        &self,
        scope: &MemberScope,
        key_id: &str,
        tags: &Tags,
    ) -> ProviderResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let tags = kms_tags(tags)?;
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            KMS,
            "TagResource",
            m.kms
                .tag_resource()
                .key_id(key_id)
                .set_tags(Some(tags))
                .send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn kms_untag_key(
        &self,
        scope: &MemberScope,
        key_id: &str,
        keys: &[String],
    ) -> ProviderResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            KMS,
            "UntagResource",
            m.kms
                .untag_resource()
                .key_id(key_id)
                .set_tag_keys(Some(keys.to_vec()))
                .send(),
        )
        .await?;
        Ok(())
    }
}
