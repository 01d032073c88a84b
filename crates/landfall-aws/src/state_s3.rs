//! The state in S3: the state object written with `If-Match` on the ETag this run last
//! saw (`If-None-Match: *` for a new state), and a lock object `<key>.lock` created with
//! `If-None-Match: *` and deleted with `If-Match` on its own ETag — so two runs never
//! both hold the lock and a run that lost it never overwrites a newer state. Also the
//! bucket checks (versioning) and `state bootstrap`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use landfall_core::model::S3State;
use landfall_engine::state_backend::{
    Expect, HeldLock, LOCK_RETRY, LockInfo, LockMode, StateBackend, StateObject, held_for,
};
use landfall_engine::state_store::StateError;

/// One version of the state object (`ListObjectVersions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateVersion {
    pub version_id: String,
    pub last_modified: String,
    pub size: i64,
    pub latest: bool,
}

/// The state of a landing zone in an S3 bucket.
pub struct S3StateBackend {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    kms_key_id: Option<String>,
    puts: AtomicU64,
}

/// What a failed S3 call says: its HTTP status (412 for a failed condition) and a
/// message naming the operation, the code and the request id.
struct S3Failure {
    status: Option<u16>,
    not_found: bool,
    message: String,
}

fn failure<E: ProvideErrorMetadata + std::error::Error + 'static>(
    api: &str,
    e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> S3Failure {
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().map(str::to_string);
    let detail = e
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| crate::errors::root_cause(&e));
    let request_id = e
        .raw_response()
        .and_then(|r| r.headers().get("x-amz-request-id"))
        .map(|id| format!(", request id {id}"))
        .unwrap_or_default();
    S3Failure {
        status,
        not_found: status == Some(404) || matches!(code.as_deref(), Some("NoSuchKey" | "NotFound")),
        message: format!(
            "{api} failed: {}{}{detail}{request_id}",
            status.map(|s| format!("HTTP {s} ")).unwrap_or_default(),
            code.map(|c| format!("{c}: ")).unwrap_or_default(),
        ),
    }
}

impl S3StateBackend {
    /// A client for the bucket: the SDK's credential chain, or `profile`, or `role_arn`
    /// assumed from it; the bucket's `region`; endpoint overrides from the environment
    /// (path-style addressing when one is set, as S3-compatible test servers need).
    pub async fn connect(s3: &S3State, fallback_region: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(4));
        if let Some(profile) = &s3.profile {
            loader = loader.profile_name(profile);
        }
        let region = s3
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .or_else(|| fallback_region.map(str::to_string))
            .unwrap_or_else(|| "us-east-1".into());
        loader = loader.region(aws_config::Region::new(region.clone()));
        let mut config = loader.load().await;
        if let Some(role) = &s3.role_arn {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role)
                .session_name("landfall-state")
                .region(aws_config::Region::new(region))
                .configure(&config)
                .build()
                .await;
            config = config
                .into_builder()
                .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(provider))
                .build();
        }
        let path_style = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|u| !u.is_empty()));
        let conf = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(path_style)
            .build();
        Self::from_client(aws_sdk_s3::Client::from_conf(conf), s3)
    }

    /// Over a ready client (tests give a mocked one).
    pub fn from_client(client: aws_sdk_s3::Client, s3: &S3State) -> Self {
        S3StateBackend {
            client,
            bucket: s3.bucket.clone(),
            key: s3.key.clone(),
            kms_key_id: s3.kms_key_id.clone(),
            puts: AtomicU64::new(0),
        }
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// `PutObject` calls made on the state object (not the lock).
    pub fn state_puts(&self) -> u64 {
        self.puts.load(Ordering::Relaxed)
    }

    fn read_error(&self, f: S3Failure) -> StateError {
        StateError::Read {
            location: self.location(),
            message: f.message,
        }
    }

    fn write_error(&self, f: S3Failure) -> StateError {
        StateError::Write {
            location: self.location(),
            message: f.message,
        }
    }

    /// Refuses a bucket without versioning: with it, every recorded change is an
    /// object version to go back to.
    pub async fn check_versioning(&self) -> Result<(), StateError> {
        let sent = self
            .client
            .get_bucket_versioning()
            .bucket(&self.bucket)
            .send()
            .await;
        let enabled = match sent {
            Ok(out) => out.status() == Some(&BucketVersioningStatus::Enabled),
            Err(e) => {
                // A 200 whose XML the SDK refuses: moto 5.2.5 names the root element
                // `GetBucketVersioningResponse` (S3 says `VersioningConfiguration`).
                // Its `Status` is still read; anything else stays an error.
                let body = e
                    .raw_response()
                    .filter(|r| r.status().as_u16() == 200)
                    .and_then(|r| r.body().bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned());
                match body {
                    Some(xml) => xml.contains("<Status>Enabled</Status>"),
                    None => return Err(self.read_error(failure("GetBucketVersioning", e))),
                }
            }
        };
        if enabled {
            Ok(())
        } else {
            Err(StateError::Unversioned {
                location: self.location(),
            })
        }
    }

    /// The state object's versions, newest first.
    pub async fn versions(&self) -> Result<Vec<StateVersion>, StateError> {
        // ListObjectVersions has no paginator in the SDK: it pages with two markers.
        let mut out = Vec::new();
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(&self.key)
                .set_key_marker(markers.0.clone())
                .set_version_id_marker(markers.1.clone())
                .send()
                .await
                .map_err(|e| self.read_error(failure("ListObjectVersions", e)))?;
            for v in page.versions() {
                if v.key() != Some(self.key.as_str()) {
                    continue;
                }
                out.push(StateVersion {
                    version_id: v.version_id().unwrap_or("null").to_string(),
                    last_modified: v.last_modified().map(|t| t.to_string()).unwrap_or_default(),
                    size: v.size().unwrap_or(0),
                    latest: v.is_latest().unwrap_or(false),
                });
            }
            let next = (
                page.next_key_marker().map(str::to_string),
                page.next_version_id_marker().map(str::to_string),
            );
            if page.is_truncated() != Some(true) || next == markers || next.0.is_none() {
                break;
            }
            markers = next;
        }
        out.sort_by(|a, b| b.last_modified.cmp(&a.last_modified));
        Ok(out)
    }

    /// The version id of the state object as it is at `revision` (the ETag a read
    /// returned): the version a replacement keeps as the previous state. A state that
    /// moved on since is [`StateError::Conflict`]; `None` when S3 names no version.
    pub async fn version_at(&self, revision: &str) -> Result<Option<String>, StateError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .if_match(revision)
            .send()
            .await
        {
            Ok(out) => Ok(out.version_id().map(str::to_string)),
            Err(e) => {
                let f = failure("HeadObject", e);
                if f.status == Some(412) {
                    Err(StateError::Conflict {
                        location: self.location(),
                    })
                } else {
                    Err(self.read_error(f))
                }
            }
        }
    }

    /// One version of the state object's bytes.
    pub async fn read_version(&self, version_id: &str) -> Result<Vec<u8>, StateError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| self.read_error(failure("GetObject", e)))?;
        let bytes = out.body.collect().await.map_err(|e| StateError::Read {
            location: self.location(),
            message: e.to_string(),
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// The lock object and its ETag, if there is one.
    async fn read_lock(&self) -> Result<Option<(LockInfo, Option<String>)>, StateError> {
        let Some(object) = self.get(&self.lock_key()).await? else {
            return Ok(None);
        };
        let info =
            serde_json::from_slice::<LockInfo>(&object.bytes).map_err(|e| StateError::Corrupt {
                location: format!("s3://{}/{}", self.bucket, self.lock_key()),
                message: format!("the lock object is not a Landfall lock: {e}"),
            })?;
        Ok(Some((info, object.revision)))
    }

    /// One object's bytes and ETag; `None` when there is no such object.
    async fn get(&self, key: &str) -> Result<Option<StateObject>, StateError> {
        let got = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let out = match got {
            Ok(out) => out,
            Err(e) => {
                let f = failure("GetObject", e);
                return if f.not_found {
                    Ok(None)
                } else {
                    Err(self.read_error(f))
                };
            }
        };
        let revision = out.e_tag().map(str::to_string);
        let bytes = out.body.collect().await.map_err(|e| StateError::Read {
            location: self.location(),
            message: e.to_string(),
        })?;
        Ok(Some(StateObject {
            bytes: bytes.into_bytes().to_vec(),
            revision,
        }))
    }

    /// One attempt at creating the lock: `Ok(Some)` held, `Ok(None)` someone else
    /// holds it.
    async fn try_lock(&self, info: &LockInfo) -> Result<Option<HeldLock>, StateError> {
        let body = serde_json::to_vec_pretty(info).map_err(|e| StateError::Write {
            location: self.location(),
            message: e.to_string(),
        })?;
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.lock_key())
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await;
        match put {
            Ok(out) => Ok(Some(HeldLock::remote(
                info.clone(),
                out.e_tag().map(str::to_string),
            ))),
            Err(e) => {
                let f = failure("PutObject", e);
                // 412: the lock exists; 409: a concurrent conditional write to it.
                if !matches!(f.status, Some(412 | 409)) {
                    return Err(self.write_error(f));
                }
                // The known trap: an SDK retry of a PutObject that in fact succeeded is
                // refused against its own lock. The lock's id says whose it is.
                match self.read_lock().await? {
                    Some((found, etag)) if found.id == info.id => {
                        Ok(Some(HeldLock::remote(found, etag)))
                    }
                    _ => Ok(None),
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl StateBackend for S3StateBackend {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    async fn read(&self) -> Result<Option<StateObject>, StateError> {
        self.get(&self.key).await
    }

    async fn write(&self, bytes: &[u8], expect: &Expect) -> Result<Option<String>, StateError> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(bytes.to_vec()));
        put = match expect {
            Expect::Absent => put.if_none_match("*"),
            Expect::Revision(etag) => put.if_match(etag),
            Expect::Any => put,
        };
        if let Some(key) = &self.kms_key_id {
            put = put
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(key);
        }
        self.puts.fetch_add(1, Ordering::Relaxed);
        match put.send().await {
            Ok(out) => Ok(out.e_tag().map(str::to_string)),
            Err(e) => {
                let f = failure("PutObject", e);
                if matches!(f.status, Some(412 | 409)) {
                    Err(StateError::Conflict {
                        location: self.location(),
                    })
                } else {
                    Err(self.write_error(f))
                }
            }
        }
    }

    async fn lock(
        &self,
        info: LockInfo,
        mode: LockMode,
        timeout: Duration,
    ) -> Result<HeldLock, StateError> {
        let started = std::time::Instant::now();
        loop {
            let held = match mode {
                LockMode::Exclusive => self.try_lock(&info).await?,
                // A reader takes nothing; it waits until no writer holds the lock.
                LockMode::Shared => match self.read_lock().await? {
                    None => Some(HeldLock::remote(info.clone(), None)),
                    Some(_) => None,
                },
            };
            if let Some(held) = held {
                return Ok(held);
            }
            if started.elapsed() >= timeout {
                let holder = match self.read_lock().await? {
                    Some((holder, _)) => holder.to_string(),
                    None => "a run that has just released it".into(),
                };
                return Err(StateError::Locked {
                    location: self.location(),
                    holder: held_for(holder, timeout),
                });
            }
            tokio::time::sleep(LOCK_RETRY * 5).await;
        }
    }

    async fn unlock(&self, held: HeldLock) -> Result<(), StateError> {
        // A reader's wait left nothing behind.
        let Some(etag) = held.revision else {
            return Ok(());
        };
        let deleted = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.lock_key())
            .if_match(etag)
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) => {
                let f = failure("DeleteObject", e);
                // Gone, or replaced by another run's (this one was force-unlocked):
                // never delete a lock that is not ours.
                if f.not_found || f.status == Some(412) {
                    Ok(())
                } else {
                    Err(self.write_error(f))
                }
            }
        }
    }

    async fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let Some((holder, etag)) = self.read_lock().await? else {
            return Err(StateError::NoSuchLock {
                location: self.location(),
                id: id.to_string(),
                holder: None,
            });
        };
        if holder.id != id {
            return Err(StateError::NoSuchLock {
                location: self.location(),
                id: id.to_string(),
                holder: Some(holder.to_string()),
            });
        }
        let mut delete = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.lock_key());
        if let Some(etag) = etag {
            delete = delete.if_match(etag);
        }
        delete
            .send()
            .await
            .map_err(|e| self.write_error(failure("DeleteObject", e)))?;
        Ok(holder)
    }

    async fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.read_lock().await?.map(|(info, _)| info))
    }
}

/// What `state bootstrap` made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bootstrapped {
    pub bucket: String,
    pub region: String,
    pub steps: Vec<String>,
}

/// Creates a state bucket as it should be: versioning on, default encryption (SSE-KMS
/// with `kms_key_id`, else SSE-S3), every public access blocked, and a policy that
/// refuses requests not made over TLS. An existing bucket of this account is brought to
/// that configuration.
pub async fn bootstrap_bucket(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    region: &str,
    kms_key_id: Option<&str>,
) -> Result<Bootstrapped, StateError> {
    let location = format!("s3://{bucket}");
    let write = |f: S3Failure| StateError::Write {
        location: location.clone(),
        message: f.message,
    };
    let mut steps = Vec::new();
    let mut create = client.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => steps.push(format!("created bucket {bucket} in {region}")),
        Err(e) => {
            let f = failure("CreateBucket", e);
            if f.message.contains("BucketAlreadyOwnedByYou") {
                steps.push(format!("bucket {bucket} exists (yours); configuring it"));
            } else {
                return Err(write(f));
            }
        }
    }
    client
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| write(failure("PutBucketVersioning", e)))?;
    steps.push("versioning enabled".into());
    let mut by_default = ServerSideEncryptionByDefault::builder();
    by_default = match kms_key_id {
        Some(key) => by_default
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key),
        None => by_default.sse_algorithm(ServerSideEncryption::Aes256),
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default.build().map_err(|e| {
            StateError::Write {
                location: location.clone(),
                message: e.to_string(),
            }
        })?)
        .bucket_key_enabled(kms_key_id.is_some())
        .build();
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| StateError::Write {
                    location: location.clone(),
                    message: e.to_string(),
                })?,
        )
        .send()
        .await
        .map_err(|e| write(failure("PutBucketEncryption", e)))?;
    steps.push(match kms_key_id {
        Some(key) => format!("default encryption SSE-KMS with {key}"),
        None => "default encryption SSE-S3".into(),
    });
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| write(failure("PutPublicAccessBlock", e)))?;
    steps.push("all public access blocked".into());
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]
    });
    client
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| write(failure("PutBucketPolicy", e)))?;
    steps.push("bucket policy refuses requests without TLS".into());
    Ok(Bootstrapped {
        bucket: bucket.to_string(),
        region: region.to_string(),
        steps,
    })
}

impl S3StateBackend {
    /// The client, for `state bootstrap` on the same credentials.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }
}
