//! The executor's logging and security-service operations: trusted access and
//! delegated administrators (Organizations, or GuardDuty's and Security Hub's own
//! call), and — in the change's account and region — the organization trail's bucket,
//! the trail, the Config aggregator with its role, and the Access Analyzer analyzer.

use landfall_core::model::substitute;
use landfall_core::plan::{Change, KeyRef, SecurityOp, TrailSettings};

use crate::call::{AdminService, Call, OrganizationsCall as O, SecurityCall as S, TrailRequest};
use crate::provider::MemberScope;

use super::{ApplyError, Executor};

/// The change's scope (the management account) in the region an operation names:
/// GuardDuty's and Security Hub's delegation holds per region. An empty region (a
/// removal of a record that kept none) is the change's own.
fn in_region(scope: &MemberScope, region: &str) -> MemberScope {
    MemberScope {
        account_id: scope.account_id.clone(),
        region: if region.is_empty() {
            scope.region.clone()
        } else {
            region.to_string()
        },
    }
}

/// The AWS-managed policy an organization aggregator's role needs.
pub const CONFIG_ORGANIZATIONS_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations";

impl Executor {
    pub(super) async fn run_security_op(
        &self,
        change: &Change,
        scope: Option<&MemberScope>,
        op: &SecurityOp,
        id: Option<&str>,
    ) -> Result<Option<String>, ApplyError> {
        let target = || Self::target(change, id);
        let scoped = || {
            scope.ok_or_else(|| ApplyError::NoMemberAccount {
                address: change.address.clone(),
            })
        };
        match op {
            SecurityOp::EnableServiceAccess { service_principal } => {
                self.done(change, O::EnableAwsServiceAccess { service_principal })
                    .await?;
                Ok(Some(service_principal.clone()))
            }
            SecurityOp::DisableServiceAccess { service_principal } => {
                self.done(change, O::DisableAwsServiceAccess { service_principal })
                    .await
            }
            // GuardDuty and Security Hub run in the change's scope: the management
            // account in the declared region.
            SecurityOp::RegisterDelegatedAdmin {
                service_principal,
                account,
                region,
            } => {
                let account_id = self.resolve(change, account)?;
                match AdminService::of(service_principal) {
                    Some(service) => {
                        let call = S::EnableOrganizationAdminAccount {
                            service,
                            account_id: &account_id,
                        };
                        let there = in_region(scoped()?, region);
                        self.done(change, Call::Security(&there, call)).await?;
                    }
                    None => {
                        let call = O::RegisterDelegatedAdministrator {
                            account_id: &account_id,
                            service_principal,
                        };
                        self.done(change, call).await?;
                    }
                }
                Ok(Some(format!("{service_principal}|{account_id}")))
            }
            SecurityOp::DeregisterDelegatedAdmin {
                service_principal,
                account,
                region,
            } => {
                let account_id = self.resolve(change, account)?;
                match AdminService::of(service_principal) {
                    Some(service) => {
                        let call = S::DisableOrganizationAdminAccount {
                            service,
                            account_id: &account_id,
                        };
                        let there = in_region(scoped()?, region);
                        self.done(change, Call::Security(&there, call)).await
                    }
                    None => {
                        let call = O::DeregisterDelegatedAdministrator {
                            account_id: &account_id,
                            service_principal,
                        };
                        self.done(change, call).await
                    }
                }
            }
            SecurityOp::CreateBucket {
                bucket_name,
                object_lock,
                tags,
            } => {
                let scope = scoped()?;
                let bucket = substitute(bucket_name, &scope.account_id, &scope.region);
                let call = S::CreateBucket {
                    bucket: &bucket,
                    object_lock: *object_lock,
                };
                self.done(change, Call::Security(scope, call)).await?;
                if !tags.is_empty() {
                    let call = S::PutBucketTagging {
                        bucket: &bucket,
                        tags,
                    };
                    self.done(change, Call::Security(scope, call)).await?;
                }
                Ok(Some(bucket))
            }
            SecurityOp::PutBucketVersioning => {
                let call = S::PutBucketVersioning { bucket: target()? };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::PutBucketEncryption { key } => {
                let kms_key_arn = self.key_arn(change, key)?;
                let call = S::PutBucketEncryption {
                    bucket: target()?,
                    kms_key_arn: &kms_key_arn,
                };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::PutPublicAccessBlock => {
                let call = S::PutPublicAccessBlock { bucket: target()? };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::PutBucketPolicy { policy } => {
                let scope = scoped()?;
                let policy = substitute(policy, &scope.account_id, &scope.region);
                let call = S::PutBucketPolicy {
                    bucket: target()?,
                    policy: &policy,
                };
                self.done(change, Call::Security(scope, call)).await
            }
            SecurityOp::PutObjectLock { object_lock } => {
                let call = S::PutObjectLockConfiguration {
                    bucket: target()?,
                    object_lock,
                };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::PutBucketLifecycle { lifecycle } => {
                let bucket = target()?;
                let call = match lifecycle {
                    Some(lifecycle) => S::PutBucketLifecycleConfiguration { bucket, lifecycle },
                    None => S::DeleteBucketLifecycle { bucket },
                };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::TagBucket { tags } => {
                let call = S::PutBucketTagging {
                    bucket: target()?,
                    tags,
                };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::DeleteBucket => {
                let call = S::DeleteBucket { bucket: target()? };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::CreateTrail { trail, tags } => {
                let (bucket, key) = self.trail_refs(change, trail)?;
                let request = trail_request(trail, &bucket, &key, tags);
                let call = S::CreateTrail(&request);
                let arn = self.execute_for_id(change, Call::Security(scoped()?, call));
                Ok(Some(arn.await?))
            }
            SecurityOp::UpdateTrail { trail } => {
                let (bucket, key) = self.trail_refs(change, trail)?;
                let no_tags = Default::default();
                let request = trail_request(trail, &bucket, &key, &no_tags);
                let call = S::UpdateTrail(&request);
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::StartLogging => {
                let call = S::StartLogging {
                    trail_arn: target()?,
                };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::TagTrail { tags } => {
                let call = S::AddTags {
                    trail_arn: target()?,
                    tags,
                };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::DeleteTrail => {
                let call = S::DeleteTrail {
                    trail_arn: target()?,
                };
                self.done(change, Call::Security(scoped()?, call)).await
            }
            SecurityOp::PutConfigAggregator {
                name,
                role_name,
                tags,
            } => {
                let scope = scoped()?;
                let create = S::CreateRole {
                    role_name,
                    trusted_service: "config.amazonaws.com",
                };
                // An existing role (a previous run's) answers EntityAlreadyExists,
                // which the call counts as done; its ARN is known by its name.
                self.done(change, Call::Security(scope, create)).await?;
                let attach = S::AttachRolePolicy {
                    role_name,
                    policy_arn: CONFIG_ORGANIZATIONS_POLICY,
                };
                self.done(change, Call::Security(scope, attach)).await?;
                let role_arn = format!("arn:aws:iam::{}:role/{role_name}", scope.account_id);
                let call = S::PutConfigurationAggregator {
                    name,
                    role_arn: &role_arn,
                    tags,
                };
                let arn = self.execute_for_id(change, Call::Security(scope, call));
                Ok(Some(arn.await?))
            }
            SecurityOp::DeleteConfigAggregator { name, role_name } => {
                let scope = scoped()?;
                let delete = S::DeleteConfigurationAggregator { name };
                self.done(change, Call::Security(scope, delete)).await?;
                let detach = S::DetachRolePolicy {
                    role_name,
                    policy_arn: CONFIG_ORGANIZATIONS_POLICY,
                };
                self.done(change, Call::Security(scope, detach)).await?;
                self.done(change, Call::Security(scope, S::DeleteRole { role_name }))
                    .await
            }
            SecurityOp::CreateAnalyzer { name, tags } => {
                let call = S::CreateAnalyzer { name, tags };
                let arn = self.execute_for_id(change, Call::Security(scoped()?, call));
                Ok(Some(arn.await?))
            }
            SecurityOp::DeleteAnalyzer { name } => {
                let call = S::DeleteAnalyzer { name };
                self.done(change, Call::Security(scoped()?, call)).await
            }
        }
    }

    /// A key's ARN: services in another account name a key by ARN.
    fn key_arn(&self, change: &Change, key: &KeyRef) -> Result<String, ApplyError> {
        let id = self.resolve(change, &key.key)?;
        if id.starts_with("arn:") {
            return Ok(id);
        }
        let account = self.resolve(change, &key.account)?;
        Ok(format!("arn:aws:kms:{}:{account}:key/{id}", key.region))
    }

    fn trail_refs(
        &self,
        change: &Change,
        trail: &TrailSettings,
    ) -> Result<(String, String), ApplyError> {
        Ok((
            self.resolve(change, &trail.bucket)?,
            self.key_arn(change, &trail.key)?,
        ))
    }
}

fn trail_request<'a>(
    trail: &'a TrailSettings,
    bucket: &'a str,
    key: &'a str,
    tags: &'a landfall_core::Tags,
) -> TrailRequest<'a> {
    TrailRequest {
        name: &trail.name,
        s3_bucket_name: bucket,
        s3_key_prefix: trail.s3_key_prefix.as_deref(),
        kms_key_arn: key,
        multi_region: trail.multi_region,
        organization: trail.organization,
        log_file_validation: trail.log_file_validation,
        tags,
    }
}
