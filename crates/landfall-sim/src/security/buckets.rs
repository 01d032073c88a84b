//! S3 general purpose buckets: names (the naming rules, unique across every account
//! of the partition — the world), versioning, default encryption, public access
//! block, bucket policy, Object Lock, lifecycle, tags, and the objects a logging
//! trail delivers, which keep `DeleteBucket` from deleting it.

use landfall_core::model::{Lifecycle, ObjectLock, Tags};
use landfall_engine::provider::{ErrorKind, MemberScope};
use serde::{Deserialize, Serialize};

use super::other;
use crate::world::{Denied, Rule, World};

/// Tags per bucket (`PutBucketTagging`: at most 50).
pub const MAX_BUCKET_TAGS: usize = 50;
/// Bucket policy size (S3: 20 KB).
pub const MAX_BUCKET_POLICY_BYTES: usize = 20 * 1024;

/// A bucket as S3 keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimBucket {
    pub name: String,
    /// The owner.
    pub account_id: String,
    pub region: String,
    #[serde(default)]
    pub versioning: bool,
    /// SSE-KMS default encryption's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    #[serde(default)]
    pub public_access_blocked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default)]
    pub object_lock_enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<ObjectLock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Lifecycle>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// Objects in it (log files a trail delivered).
    #[serde(default)]
    pub objects: u64,
}

/// S3's naming rules for general purpose buckets (*General purpose bucket naming
/// rules*): 3–63 characters of lowercase letters, digits, `.` and `-`; a letter or
/// digit first and last; no `..`; not an IP address; none of the reserved prefixes
/// (`xn--`, `sthree-`, `amzn-s3-demo-`) and suffixes (`-s3alias`, `--ol-s3`, `.mrap`,
/// `--x-s3`, `--table-s3`). `InvalidBucketName` otherwise.
pub fn validate_bucket_name(name: &str) -> Rule<()> {
    let bad = |why: &str| other("InvalidBucketName", format!("{name:?} {why}"));
    if !(3..=63).contains(&name.len()) {
        return Err(bad("must be 3 to 63 characters long"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    {
        return Err(bad(
            "may only contain lowercase letters, digits, periods and hyphens",
        ));
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge(name.chars().next()) || !edge(name.chars().last()) {
        return Err(bad("must begin and end with a letter or digit"));
    }
    if name.contains("..") {
        return Err(bad("must not contain two adjacent periods"));
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err(bad("must not be formatted as an IP address"));
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Err(bad(&format!("must not start with {prefix}")));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return Err(bad(&format!("must not end with {suffix}")));
        }
    }
    Ok(())
}

fn no_such_bucket(name: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("NoSuchBucket: the bucket {name} does not exist"),
    )
}

impl World {
    /// The bucket, when it is the scope account's (another account's bucket is
    /// `AccessDenied`: Landfall's role there has no grant on it).
    pub(crate) fn own_bucket(&self, scope: &MemberScope, name: &str) -> Rule<&SimBucket> {
        let bucket = self
            .security
            .buckets
            .get(name)
            .ok_or_else(|| no_such_bucket(name))?;
        if bucket.account_id != scope.account_id {
            return Err(Denied::new(
                ErrorKind::AccessDenied,
                format!(
                    "AccessDenied: bucket {name} belongs to another account than {}",
                    scope.account_id
                ),
            ));
        }
        Ok(bucket)
    }

    fn own_bucket_mut(&mut self, scope: &MemberScope, name: &str) -> Rule<&mut SimBucket> {
        self.own_bucket(scope, name)?;
        self.security
            .buckets
            .get_mut(name)
            .ok_or_else(|| no_such_bucket(name))
    }

    /// `CreateBucket` in the scope's region. A name anybody has is taken:
    /// `BucketAlreadyExists`, or `BucketAlreadyOwnedByYou` for the same account —
    /// except in us-east-1, where S3 answers 200 for legacy compatibility and changes
    /// nothing. Object Lock at creation turns versioning on, as S3 does.
    pub fn create_bucket(
        &mut self,
        scope: &MemberScope,
        name: &str,
        object_lock: bool,
    ) -> Rule<String> {
        validate_bucket_name(name)?;
        if let Some(existing) = self.security.buckets.get(name) {
            if existing.account_id != scope.account_id {
                return Err(other(
                    "BucketAlreadyExists",
                    format!("the bucket name {name} is taken by another account"),
                ));
            }
            if scope.region == "us-east-1" && existing.region == "us-east-1" {
                return Ok(name.to_string());
            }
            return Err(other(
                "BucketAlreadyOwnedByYou",
                format!("you already own the bucket {name}"),
            ));
        }
        self.security.buckets.insert(
            name.to_string(),
            SimBucket {
                name: name.to_string(),
                account_id: scope.account_id.clone(),
                region: scope.region.clone(),
                versioning: object_lock,
                kms_key: None,
                public_access_blocked: false,
                policy: None,
                object_lock_enabled: object_lock,
                object_lock: None,
                lifecycle: None,
                tags: Tags::new(),
                objects: 0,
            },
        );
        Ok(name.to_string())
    }

    /// `PutBucketVersioning` (`Enabled`).
    pub fn put_bucket_versioning(&mut self, scope: &MemberScope, name: &str) -> Rule<()> {
        self.own_bucket_mut(scope, name)?.versioning = true;
        Ok(())
    }

    /// `PutBucketEncryption`: SSE-KMS with the key (bucket key on).
    pub fn put_bucket_encryption(
        &mut self,
        scope: &MemberScope,
        name: &str,
        kms_key_arn: &str,
    ) -> Rule<()> {
        if kms_key_arn.is_empty() {
            return Err(other(
                "InvalidArgument",
                "SSE-KMS needs a KMS key id or ARN",
            ));
        }
        self.own_bucket_mut(scope, name)?.kms_key = Some(kms_key_arn.to_string());
        Ok(())
    }

    /// `PutPublicAccessBlock` with all four settings on.
    pub fn put_public_access_block(&mut self, scope: &MemberScope, name: &str) -> Rule<()> {
        self.own_bucket_mut(scope, name)?.public_access_blocked = true;
        Ok(())
    }

    /// `PutBucketPolicy`: a JSON document (`MalformedPolicy`) of at most 20 KB.
    pub fn put_bucket_policy(&mut self, scope: &MemberScope, name: &str, policy: &str) -> Rule<()> {
        self.own_bucket(scope, name)?;
        check_bucket_policy(policy)?;
        self.own_bucket_mut(scope, name)?.policy = Some(policy.to_string());
        Ok(())
    }

    /// Out of band: replaces (`None`: deletes) a bucket's policy, whoever owns it.
    pub fn replace_bucket_policy(&mut self, name: &str, policy: Option<&str>) -> Rule<()> {
        if let Some(p) = policy {
            check_bucket_policy(p)?;
        }
        let bucket = self
            .security
            .buckets
            .get_mut(name)
            .ok_or_else(|| no_such_bucket(name))?;
        bucket.policy = policy.map(str::to_string);
        Ok(())
    }

    /// `PutObjectLockConfiguration` with a default retention. S3 enables Object Lock
    /// on an existing bucket only when versioning is enabled (`InvalidBucketState`
    /// otherwise); a bucket created with Object Lock has it already.
    pub fn put_object_lock_configuration(
        &mut self,
        scope: &MemberScope,
        name: &str,
        lock: &ObjectLock,
    ) -> Rule<()> {
        let bucket = self.own_bucket(scope, name)?;
        if !bucket.versioning {
            return Err(other(
                "InvalidBucketState",
                format!(
                    "versioning must be Enabled on {name} to apply an Object Lock configuration"
                ),
            ));
        }
        if lock.days == 0 || lock.days > 36_500 {
            return Err(other(
                "InvalidArgument",
                "the default retention must be 1 to 36,500 days",
            ));
        }
        let bucket = self.own_bucket_mut(scope, name)?;
        bucket.object_lock_enabled = true;
        bucket.object_lock = Some(lock.clone());
        Ok(())
    }

    /// `PutBucketLifecycleConfiguration` (one rule over the whole bucket): at least
    /// one action, days from 1, expiration after the transition.
    pub fn put_bucket_lifecycle(
        &mut self,
        scope: &MemberScope,
        name: &str,
        lifecycle: &Lifecycle,
    ) -> Rule<()> {
        self.own_bucket(scope, name)?;
        match (lifecycle.glacier_after_days, lifecycle.expire_after_days) {
            (None, None) => {
                return Err(other("MalformedXML", "the lifecycle rule has no action"));
            }
            (Some(0), _) | (_, Some(0)) => {
                return Err(other(
                    "InvalidArgument",
                    "'Days' must be a positive integer",
                ));
            }
            (Some(glacier), Some(expire)) if expire <= glacier => {
                return Err(other(
                    "InvalidArgument",
                    "'Days' in the Expiration action must be greater than 'Days' in the Transition action",
                ));
            }
            _ => {}
        }
        self.own_bucket_mut(scope, name)?.lifecycle = Some(lifecycle.clone());
        Ok(())
    }

    /// `DeleteBucketLifecycle` (S3 answers 204 when there is none).
    pub fn delete_bucket_lifecycle(&mut self, scope: &MemberScope, name: &str) -> Rule<()> {
        self.own_bucket_mut(scope, name)?.lifecycle = None;
        Ok(())
    }

    /// `PutBucketTagging`: replaces the tag set (at most 50; no `aws:` keys).
    pub fn put_bucket_tagging(&mut self, scope: &MemberScope, name: &str, tags: &Tags) -> Rule<()> {
        self.own_bucket(scope, name)?;
        if tags.len() > MAX_BUCKET_TAGS {
            return Err(other(
                "InvalidTag",
                format!(
                    "{} tags; a bucket has at most {MAX_BUCKET_TAGS}",
                    tags.len()
                ),
            ));
        }
        if let Some(key) = tags.keys().find(|k| {
            k.is_empty() || k.chars().count() > 128 || k.to_ascii_lowercase().starts_with("aws:")
        }) {
            return Err(other(
                "InvalidTag",
                format!("tag key {key:?} must be 1 to 128 characters and not start with aws:"),
            ));
        }
        if let Some((key, _)) = tags.iter().find(|(_, v)| v.chars().count() > 256) {
            return Err(other(
                "InvalidTag",
                format!("the value of tag {key:?} is longer than 256 characters"),
            ));
        }
        self.own_bucket_mut(scope, name)?.tags = tags.clone();
        Ok(())
    }

    /// `DeleteBucket`: only an empty bucket (`BucketNotEmpty`).
    pub fn delete_bucket(&mut self, scope: &MemberScope, name: &str) -> Rule<()> {
        let bucket = self.own_bucket(scope, name)?;
        if bucket.objects > 0 {
            return Err(other(
                "BucketNotEmpty",
                format!(
                    "the bucket {name} holds {} object(s); empty it first",
                    bucket.objects
                ),
            ));
        }
        self.security.buckets.remove(name);
        Ok(())
    }
}

fn check_bucket_policy(policy: &str) -> Rule<()> {
    if policy.len() > MAX_BUCKET_POLICY_BYTES {
        return Err(other(
            "PolicyTooLarge",
            format!(
                "the bucket policy has {} bytes; the limit is {MAX_BUCKET_POLICY_BYTES}",
                policy.len()
            ),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(policy) {
        Ok(doc) if doc.get("Statement").is_some() => Ok(()),
        _ => Err(other(
            "MalformedPolicy",
            "the bucket policy is not a JSON policy document with a Statement",
        )),
    }
}
