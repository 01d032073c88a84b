//! CloudTrail trails and the checks `CreateTrail` and `UpdateTrail` make before they
//! accept a trail: the bucket exists and its policy lets CloudTrail `GetBucketAcl`
//! and `PutObject` (for this trail's `aws:SourceArn`), the KMS key exists, is enabled,
//! is in the bucket's region and its policy lets CloudTrail `GenerateDataKey*`; an
//! organization trail needs CloudTrail's trusted access and is made by the management
//! account or CloudTrail's delegated administrator (it belongs to the management
//! account either way: its ARN names it); five trails per region. A new trail does
//! not log until `StartLogging`; a logging trail delivers a log file into its bucket.

use std::collections::BTreeMap;

use landfall_core::live::{KeyState, member_key};
use landfall_core::model::Tags;
use landfall_engine::call::TrailRequest;
use landfall_engine::provider::{ErrorKind, MemberScope};
use serde::{Deserialize, Serialize};

use super::policy_doc::{grants_service, key_grants_service};
use super::{other, validate_bucket_name};
use crate::world::{Denied, Rule, World};

/// Trails per region per account (CloudTrail quotas: 5; a multi-region trail counts in
/// every region).
pub const MAX_TRAILS_PER_REGION: usize = 5;
/// Tags per trail (CloudTrail: 50).
pub const MAX_TRAIL_TAGS: usize = 50;
const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

/// A trail as CloudTrail keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimTrail {
    pub arn: String,
    pub name: String,
    /// The account its ARN names (the management account for an organization
    /// trail).
    pub owner: String,
    pub home_region: String,
    pub s3_bucket_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_key_prefix: Option<String>,
    pub kms_key_id: String,
    pub multi_region: bool,
    pub organization: bool,
    pub log_file_validation: bool,
    pub logging: bool,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

fn trail_not_found(what: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("TrailNotFoundException: no trail {what}"),
    )
}

/// CloudTrail's trail names: 3–128 characters of letters, digits, `.`, `_` and `-`,
/// starting and ending with a letter or digit, without `._`, `_.`, `.-`, `-.`, `..`,
/// `__`, `--`-style neighbours of two separators.
fn validate_trail_name(name: &str) -> Rule<()> {
    let separator = |c: char| matches!(c, '.' | '_' | '-');
    let chars: Vec<char> = name.chars().collect();
    let ok = (3..=128).contains(&chars.len())
        && chars
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || separator(*c))
        && chars.first().is_some_and(char::is_ascii_alphanumeric)
        && chars.last().is_some_and(char::is_ascii_alphanumeric)
        && !chars.windows(2).any(|w| separator(w[0]) && separator(w[1]));
    if ok {
        Ok(())
    } else {
        Err(other(
            "InvalidTrailNameException",
            format!(
                "{name:?}: 3 to 128 letters, digits, periods, underscores or dashes, starting and ending with a letter or digit, no two separators in a row"
            ),
        ))
    }
}

/// `arn:aws:kms:REGION:ACCOUNT:key/ID` → (region, account, id).
fn parse_key_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:kms:")?;
    let mut parts = rest.splitn(3, ':');
    let region = parts.next()?;
    let account = parts.next()?;
    let id = parts.next()?.strip_prefix("key/")?;
    Some((region, account, id))
}

impl World {
    /// The account whose ARN an organization trail or a trail made in `scope` gets.
    fn trail_owner(&self, scope: &MemberScope, organization: bool) -> String {
        if organization {
            self.management_account_id.clone()
        } else {
            scope.account_id.clone()
        }
    }

    /// Whether the scope's account manages a trail: its own, or an organization trail
    /// from the management account or CloudTrail's delegated administrator.
    pub(crate) fn manages_trail(&self, scope: &MemberScope, trail: &SimTrail) -> bool {
        trail.owner == scope.account_id
            || (trail.organization
                && (scope.account_id == self.management_account_id
                    || self.is_delegated_admin(CLOUDTRAIL, &scope.account_id)))
    }

    fn trail_by_arn(&self, scope: &MemberScope, arn: &str) -> Rule<&SimTrail> {
        self.security
            .trails
            .get(arn)
            .filter(|t| self.manages_trail(scope, t))
            .ok_or_else(|| trail_not_found(arn))
    }

    /// A trail the scope manages, called from its home region (`StartLogging` and
    /// `DeleteTrail` refuse shadow trails in other regions: `InvalidHomeRegionException`).
    fn trail_at_home(&self, scope: &MemberScope, arn: &str) -> Rule<&SimTrail> {
        let trail = self.trail_by_arn(scope, arn)?;
        if trail.home_region != scope.region {
            return Err(other(
                "InvalidHomeRegionException",
                format!(
                    "{arn} was created in {}; call from that region",
                    trail.home_region
                ),
            ));
        }
        Ok(trail)
    }

    fn organization_trail_checks(&self, scope: &MemberScope) -> Rule<()> {
        if !self.has_service_access(CLOUDTRAIL) {
            return Err(other(
                "CloudTrailAccessNotEnabledException",
                "trusted access between CloudTrail and AWS Organizations is not enabled",
            ));
        }
        if scope.account_id != self.management_account_id
            && !self.is_delegated_admin(CLOUDTRAIL, &scope.account_id)
        {
            return Err(other(
                "NotOrganizationManagementAccountException",
                format!(
                    "{} is neither the management account nor CloudTrail's delegated administrator; it cannot make an organization trail",
                    scope.account_id
                ),
            ));
        }
        Ok(())
    }

    /// The bucket, its policy and the key, as CloudTrail checks them for a trail with
    /// this ARN and owner.
    fn delivery_checks(&self, request: &TrailRequest<'_>, arn: &str, owner: &str) -> Rule<()> {
        let name = request.s3_bucket_name;
        if validate_bucket_name(name).is_err() {
            return Err(other(
                "InvalidS3BucketNameException",
                format!("{name:?} is not a valid bucket name"),
            ));
        }
        let Some(bucket) = self.security.buckets.get(name) else {
            return Err(other(
                "S3BucketDoesNotExistException",
                format!("the bucket {name} does not exist"),
            ));
        };
        let prefix = request
            .s3_key_prefix
            .map(|p| format!("{}/", p.trim_end_matches('/')))
            .unwrap_or_default();
        let context = BTreeMap::from([
            ("aws:SourceArn", arn),
            ("aws:SourceAccount", owner),
            ("aws:SecureTransport", "true"),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ]);
        let policy = bucket.policy.as_deref().unwrap_or("");
        let acl = grants_service(
            policy,
            CLOUDTRAIL,
            "s3:GetBucketAcl",
            &format!("arn:aws:s3:::{name}"),
            &context,
        );
        let put = grants_service(
            policy,
            CLOUDTRAIL,
            "s3:PutObject",
            &format!("arn:aws:s3:::{name}/{prefix}AWSLogs/{owner}/CloudTrail/log.json.gz"),
            &context,
        );
        if !(acl && put) {
            return Err(other(
                "InsufficientS3BucketPolicyException",
                format!(
                    "the policy of bucket {name} does not let {CLOUDTRAIL} {} for {arn}",
                    match (acl, put) {
                        (false, false) => "GetBucketAcl and PutObject",
                        (false, true) => "GetBucketAcl",
                        _ => "PutObject",
                    }
                ),
            ));
        }
        let key_arn = request.kms_key_arn;
        let Some((region, account, key_id)) = parse_key_arn(key_arn) else {
            return Err(other(
                "InvalidKmsKeyIdException",
                format!("{key_arn:?} is not a KMS key ARN"),
            ));
        };
        let key = self
            .members
            .get(&member_key(account, region))
            .and_then(|m| m.keys.get(key_id));
        let Some(key) = key else {
            return Err(other(
                "KmsKeyNotFoundException",
                format!("the KMS key {key_arn} does not exist"),
            ));
        };
        if region != bucket.region {
            return Err(other(
                "InvalidKmsKeyIdException",
                format!(
                    "the KMS key is in {region}, the bucket in {}; they must be in the same region",
                    bucket.region
                ),
            ));
        }
        match key.state {
            KeyState::Enabled => {}
            KeyState::Disabled => {
                return Err(other(
                    "KmsKeyDisabledException",
                    format!("the KMS key {key_arn} is disabled"),
                ));
            }
            KeyState::PendingDeletion | KeyState::Other => {
                return Err(other(
                    "KmsException",
                    format!("the KMS key {key_arn} cannot be used"),
                ));
            }
        }
        let key_context = BTreeMap::from([
            ("aws:SourceArn", arn),
            ("aws:SourceAccount", owner),
            ("kms:EncryptionContext:aws:cloudtrail:arn", arn),
        ]);
        if !key_grants_service(
            &key.policy,
            CLOUDTRAIL,
            "kms:GenerateDataKey",
            key_arn,
            &key_context,
        ) {
            return Err(other(
                "InsufficientEncryptionPolicyException",
                format!(
                    "the policy of KMS key {key_arn} does not let {CLOUDTRAIL} GenerateDataKey* for {arn}"
                ),
            ));
        }
        Ok(())
    }

    /// Trails of `owner` counted in `region` (its own there, and multi-region ones).
    fn trails_in(&self, owner: &str, region: &str) -> usize {
        self.security
            .trails
            .values()
            .filter(|t| t.owner == owner && (t.home_region == region || t.multi_region))
            .count()
    }

    /// `CreateTrail`; replies with the trail's ARN. The trail does not log yet.
    pub fn create_trail(
        &mut self,
        scope: &MemberScope,
        request: &TrailRequest<'_>,
    ) -> Rule<String> {
        validate_trail_name(request.name)?;
        let owner = self.trail_owner(scope, request.organization);
        let arn = format!(
            "arn:aws:cloudtrail:{}:{owner}:trail/{}",
            scope.region, request.name
        );
        if self.security.trails.contains_key(&arn) {
            return Err(other(
                "TrailAlreadyExistsException",
                format!("the trail {arn} already exists"),
            ));
        }
        if request.organization {
            self.organization_trail_checks(scope)?;
        }
        let counted = self.trails_in(&owner, &scope.region);
        if counted >= MAX_TRAILS_PER_REGION {
            return Err(other(
                "MaximumNumberOfTrailsExceededException",
                format!(
                    "{owner} already has {counted} trails in {}; the limit is {MAX_TRAILS_PER_REGION}",
                    scope.region
                ),
            ));
        }
        if request.tags.len() > MAX_TRAIL_TAGS {
            return Err(other(
                "InvalidTagParameterException",
                format!(
                    "{} tags; a trail has at most {MAX_TRAIL_TAGS}",
                    request.tags.len()
                ),
            ));
        }
        self.delivery_checks(request, &arn, &owner)?;
        self.security.trails.insert(
            arn.clone(),
            SimTrail {
                arn: arn.clone(),
                name: request.name.to_string(),
                owner,
                home_region: scope.region.clone(),
                s3_bucket_name: request.s3_bucket_name.to_string(),
                s3_key_prefix: request.s3_key_prefix.map(str::to_string),
                kms_key_id: request.kms_key_arn.to_string(),
                multi_region: request.multi_region,
                organization: request.organization,
                log_file_validation: request.log_file_validation,
                logging: false,
                tags: request.tags.clone(),
            },
        );
        Ok(arn)
    }

    /// `UpdateTrail` (by name, among the trails the scope manages in its region): the
    /// same checks as `CreateTrail`; tags stay (`AddTags` changes them).
    pub fn update_trail(
        &mut self,
        scope: &MemberScope,
        request: &TrailRequest<'_>,
    ) -> Rule<String> {
        let Some(current) = self
            .security
            .trails
            .values()
            .find(|t| {
                t.name == request.name
                    && t.home_region == scope.region
                    && self.manages_trail(scope, t)
            })
            .cloned()
        else {
            return Err(trail_not_found(request.name));
        };
        if request.organization && !current.organization {
            self.organization_trail_checks(scope)?;
        }
        self.delivery_checks(request, &current.arn, &current.owner)?;
        if let Some(trail) = self.security.trails.get_mut(&current.arn) {
            trail.s3_bucket_name = request.s3_bucket_name.to_string();
            trail.s3_key_prefix = request.s3_key_prefix.map(str::to_string);
            trail.kms_key_id = request.kms_key_arn.to_string();
            trail.multi_region = request.multi_region;
            trail.organization = request.organization;
            trail.log_file_validation = request.log_file_validation;
        }
        Ok(current.arn)
    }

    /// `StartLogging`: the trail logs, and delivers a log file into its bucket.
    pub fn start_logging(&mut self, scope: &MemberScope, arn: &str) -> Rule<()> {
        let bucket = self.trail_at_home(scope, arn)?.s3_bucket_name.clone();
        self.set_logging(arn, true);
        if let Some(b) = self.security.buckets.get_mut(&bucket) {
            b.objects += 1;
        }
        Ok(())
    }

    fn set_logging(&mut self, arn: &str, logging: bool) {
        if let Some(t) = self.security.trails.get_mut(arn) {
            t.logging = logging;
        }
    }

    /// `AddTags` on a trail (adds or overwrites; at most 50).
    pub fn add_trail_tags(&mut self, scope: &MemberScope, arn: &str, tags: &Tags) -> Rule<()> {
        let trail = self.trail_by_arn(scope, arn)?;
        let added = tags.keys().filter(|k| !trail.tags.contains_key(*k)).count();
        if trail.tags.len() + added > MAX_TRAIL_TAGS {
            return Err(other(
                "TagsLimitExceededException",
                format!("the trail would have more than {MAX_TRAIL_TAGS} tags"),
            ));
        }
        if let Some(t) = self.security.trails.get_mut(arn) {
            t.tags
                .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Ok(())
    }

    /// `DeleteTrail`.
    pub fn delete_trail(&mut self, scope: &MemberScope, arn: &str) -> Rule<()> {
        self.trail_at_home(scope, arn)?;
        self.security.trails.remove(arn);
        Ok(())
    }

    /// A trail by ARN or name, whoever manages it (out-of-band helpers, the CLI).
    pub fn find_trail(&self, arn_or_name: &str) -> Rule<String> {
        self.security
            .trails
            .values()
            .find(|t| t.arn == arn_or_name || t.name == arn_or_name)
            .map(|t| t.arn.clone())
            .ok_or_else(|| trail_not_found(arn_or_name))
    }

    /// Out of band: `StopLogging` (a console user turning the trail off).
    pub fn stop_logging(&mut self, arn_or_name: &str) -> Rule<String> {
        let arn = self.find_trail(arn_or_name)?;
        self.set_logging(&arn, false);
        Ok(arn)
    }

    /// Out of band: deletes a trail at once.
    pub fn remove_trail(&mut self, arn_or_name: &str) -> Rule<String> {
        let arn = self.find_trail(arn_or_name)?;
        self.security.trails.remove(&arn);
        Ok(arn)
    }
}
