//! `[logging]`: the organization trail into the log archive account. It expands into
//! CloudTrail's trusted access (and delegated administrator), a KMS key and an S3
//! bucket in the log archive account (home region), and a multi-region organization
//! trail with log file validation.
//!
//! The key and bucket policies follow the AWS CloudTrail User Guide: "Configure AWS
//! KMS key policies for CloudTrail" (`kms:GenerateDataKey*` with
//! `kms:EncryptionContext:aws:cloudtrail:arn` and `aws:SourceArn`, `kms:DescribeKey`)
//! and "Amazon S3 bucket policy for CloudTrail" / "Create a bucket policy for an
//! organization trail" (`s3:GetBucketAcl` and `s3:PutObject` under `AWSLogs/` for
//! `cloudtrail.amazonaws.com`, `s3:x-amz-acl` = `bucket-owner-full-control`,
//! `aws:SourceArn` = the trail's ARN), plus a TLS-only deny. The trail's ARN is the
//! management account's (`${management_account_id}`, filled in once the organization
//! is read).

use landfall_core::model::{
    BucketSpec, KmsKeySpec, Lifecycle, ObjectLock, ObjectLockMode, TrailSpec, canonical_json,
    minify_json,
};
use serde_json::json;

use crate::diagnostics::Diagnostic;
use crate::key_policy;
use crate::parse::Decl;
use crate::raw::{RawLifecycle, RawLogging, RawObjectLock};
use crate::rules;
use crate::sources::{Loc, SourceId};
use crate::suggest::did_you_mean;
use crate::validator::Validator;

use super::{Context, Security};

pub(crate) const DEFAULT_TRAIL: &str = "landfall-org-trail";
pub(crate) const DEFAULT_BUCKET: &str = "landfall-org-trail-${account_id}";
/// The logical names of the trail's key and bucket (`kms_key.org-trail`,
/// `bucket.org-trail`).
pub(crate) const KEY_AND_BUCKET: &str = "org-trail";
const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";
/// Why the management account cannot be a delegated administrator.
pub(crate) const ADMIN_WHY: &str = "AWS refuses the management account as a delegated \
     administrator (RegisterDelegatedAdministrator: \
     CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR)";
/// S3 Object Lock's default retention: 1 day to 100 years in days
/// (`PutObjectLockConfiguration`).
const OBJECT_LOCK_DAYS: std::ops::RangeInclusive<i64> = 1..=36_500;
const MODES: [&str; 2] = ["governance", "compliance"];
/// A sample account id the bucket name is checked with (`${account_id}` is 12 digits).
const SAMPLE_ACCOUNT: &str = "123456789012";

/// Why `name` is not a CloudTrail trail name ("CreateTrail" `Name`: 3–128 characters
/// of ASCII letters, digits, `.`, `_` and `-`, starting and ending with a letter or
/// digit, no two of `.`, `_`, `-` adjacent, not shaped like an IP address), if it is
/// not.
pub(crate) fn trail_name_problem(name: &str) -> Option<&'static str> {
    let punct = |c: char| matches!(c, '.' | '_' | '-');
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !(3..=128).contains(&name.len()) {
        Some("3 to 128 characters")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || punct(c)) {
        Some("letters, digits, `.`, `_` and `-` only")
    } else if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        Some("must start and end with a letter or digit")
    } else if name
        .as_bytes()
        .windows(2)
        .any(|w| punct(char::from(w[0])) && punct(char::from(w[1])))
    {
        Some("no two of `.`, `_` and `-` next to each other")
    } else if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        Some("must not look like an IP address")
    } else {
        None
    }
}

/// The trail's ARN, as the key and bucket policies name it.
fn trail_arn(home: &str, trail: &str) -> String {
    format!("arn:aws:cloudtrail:{home}:${{management_account_id}}:trail/{trail}")
}

/// The log archive key's policy: the account administers the key (as Landfall's other
/// keys), CloudTrail encrypts with it for this organization's trails and describes it.
pub(crate) fn key_policy_for(home: &str, trail: &str) -> String {
    let arn = trail_arn(home, trail);
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableRootAccountAccess",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::${account_id}:root"},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "AllowCloudTrailToEncryptLogs",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn":
                            "arn:aws:cloudtrail:*:${management_account_id}:trail/*"
                    },
                    "StringEquals": {"aws:SourceArn": arn}
                }
            },
            {
                "Sid": "AllowCloudTrailToDescribeKey",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": arn}}
            }
        ]
    });
    canonical_json(&doc.to_string())
}

/// The trail bucket's policy: TLS only; CloudTrail reads the ACL and writes under
/// `AWSLogs/` for this trail only.
pub(crate) fn bucket_policy_for(home: &str, trail: &str, bucket: &str) -> String {
    let arn = trail_arn(home, trail);
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let doc = json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, format!("{bucket_arn}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            },
            {
                "Sid": "AWSCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": {"aws:SourceArn": arn}}
            },
            {
                "Sid": "AWSCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDTRAIL},
                "Action": "s3:PutObject",
                "Resource": format!("{bucket_arn}/AWSLogs/*"),
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": arn
                }}
            }
        ]
    });
    canonical_json(&doc.to_string())
}

impl Validator<'_> {
    pub(super) fn logging(
        &mut self,
        decl: &Decl<RawLogging>,
        raw: &RawLogging,
        home: &str,
        cx: &Context<'_>,
        out: &mut Security,
    ) {
        let src = decl.key.source;
        let origin = self.origin(&decl.table);
        let mut ok = self.security_account(
            src,
            &raw.log_archive,
            cx.accounts,
            "LF934",
            "the log archive",
            "logs kept in another account than the one that governs the organization cannot be \
             altered from it",
        );
        let admin_ok = match &raw.administrator {
            Some(a) => self.security_account(
                src,
                a,
                cx.accounts,
                "LF937",
                "CloudTrail's delegated administrator",
                ADMIN_WHY,
            ),
            None => true,
        };
        ok &= admin_ok;
        let trail = match &raw.trail {
            Some(t) => {
                if let Some(problem) = trail_name_problem(t.get_ref()) {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            "LF935",
                            format!("`{}` cannot name a trail", t.get_ref()),
                        )
                        .at(&self.loc(src, t), problem)
                        .help(format!("e.g. `trail = \"{DEFAULT_TRAIL}\"`")),
                    );
                }
                t.get_ref().clone()
            }
            None => DEFAULT_TRAIL.to_string(),
        };
        let bucket_name = match &raw.bucket_name {
            Some(b) => {
                ok &= self.trail_bucket_name(src, b, home);
                b.get_ref().clone()
            }
            None => DEFAULT_BUCKET.to_string(),
        };
        let object_lock = raw.object_lock.as_ref().map(|o| self.object_lock(src, o));
        let object_lock = match object_lock {
            Some(Some(o)) => Some(o),
            Some(None) => {
                ok = false;
                None
            }
            None => None,
        };
        let lifecycle = match &raw.lifecycle {
            Some(l) => match self.lifecycle(src, l, &decl.table) {
                Some(l) => Some(l),
                None => {
                    ok = false;
                    None
                }
            },
            None => None,
        };
        let tags = self.tags(src, raw.tags.as_ref(), "[logging]");
        if cx.kms_keys.contains(KEY_AND_BUCKET) {
            ok = false;
            self.push(
                Diagnostic::error(
                    "LF940",
                    format!("[logging] creates KMS key `{KEY_AND_BUCKET}`, and a [kms_key.{KEY_AND_BUCKET}] is declared"),
                )
                .at(&decl.table, "the organization trail's key")
                .help(format!("rename the declared [kms_key.{KEY_AND_BUCKET}]: its name is the trail key's address")),
            );
        }
        let key_policy = key_policy_for(home, &trail);
        if !key_policy::manageable(&key_policy, &cx.settings.access_role) {
            ok = false;
            self.push(
                Diagnostic::error("LF941", "the organization trail's key policy would lock the account out of the key")
                    .at(&decl.table, "[logging]")
                    .help("this is a Landfall bug: the key policy it writes must let the log archive account manage the key"),
            );
        }
        if !ok {
            return;
        }
        let account = raw.log_archive.get_ref().clone();
        let administrator = raw.administrator.as_ref().map(|a| a.get_ref().clone());
        out.access(CLOUDTRAIL, &origin);
        if let Some(admin) = &administrator {
            let at = raw
                .administrator
                .as_ref()
                .map(|a| self.loc(src, a))
                .unwrap_or_else(|| decl.table.clone());
            let governed = cx.settings.governed.as_deref().unwrap_or_default();
            self.delegate(out, CLOUDTRAIL, admin, (home, governed), &origin, &at);
        }
        out.kms_keys.insert(
            KEY_AND_BUCKET.to_string(),
            KmsKeySpec {
                name: KEY_AND_BUCKET.to_string(),
                account: account.clone(),
                region: home.to_string(),
                description: format!(
                    "Encrypts the log files of the organization trail {trail} (Landfall [logging])"
                ),
                policy: key_policy,
                rotation: true,
                alias: None,
                tags: tags.clone(),
                deletion_window_days: 30,
                origin: origin.clone(),
                project: None,
            },
        );
        out.buckets.insert(
            KEY_AND_BUCKET.to_string(),
            BucketSpec {
                name: KEY_AND_BUCKET.to_string(),
                policy: bucket_policy_for(home, &trail, &bucket_name),
                bucket_name,
                account,
                region: home.to_string(),
                kms_key: KEY_AND_BUCKET.to_string(),
                object_lock,
                lifecycle,
                tags: tags.clone(),
                origin: origin.clone(),
            },
        );
        out.trails.insert(
            trail.clone(),
            TrailSpec {
                name: trail,
                administrator,
                region: home.to_string(),
                bucket: KEY_AND_BUCKET.to_string(),
                s3_key_prefix: None,
                kms_key: KEY_AND_BUCKET.to_string(),
                multi_region: true,
                organization: true,
                log_file_validation: true,
                tags,
                origin,
            },
        );
        debug_assert!(out.buckets.values().all(|b| minify_json(&b.policy).is_ok()));
    }

    /// S3's naming rules on the bucket name with `${account_id}` and `${region}`
    /// filled in with a sample account id and the home region.
    fn trail_bucket_name(
        &mut self,
        src: SourceId,
        name: &serde_spanned::Spanned<String>,
        home: &str,
    ) -> bool {
        let loc = self.loc(src, name);
        let filled = name
            .get_ref()
            .replace("${account_id}", SAMPLE_ACCOUNT)
            .replace("${region}", home);
        if filled.contains("${") {
            self.push(
                Diagnostic::error(
                    "LF936",
                    format!("`{}` holds an unknown variable", name.get_ref()),
                )
                .at(&loc, "only `${account_id}` and `${region}` are filled in")
                .help(format!("e.g. `bucket_name = \"{DEFAULT_BUCKET}\"`")),
            );
            return false;
        }
        let Some(problem) = rules::bucket_problem(&filled) else {
            return true;
        };
        self.push(
            Diagnostic::error("LF936", format!("`{}` cannot name an S3 bucket", name.get_ref()))
                .at(&loc, format!("`{filled}`: {problem}"))
                .help(format!(
                    "bucket names are global: keep `${{account_id}}` in it, e.g. `bucket_name = \"{DEFAULT_BUCKET}\"`"
                )),
        );
        false
    }

    fn object_lock(&mut self, src: SourceId, raw: &RawObjectLock) -> Option<ObjectLock> {
        let mode = match raw.mode.get_ref().as_str() {
            "governance" => Some(ObjectLockMode::Governance),
            "compliance" => Some(ObjectLockMode::Compliance),
            other => {
                let lower = other.to_ascii_lowercase();
                let help = if MODES.contains(&lower.as_str()) {
                    Some(format!("write it in lowercase: `mode = \"{lower}\"`"))
                } else {
                    did_you_mean(other, MODES)
                };
                self.push(
                    Diagnostic::error("LF938", format!("`{other}` is not an Object Lock mode"))
                        .at(&self.loc(src, &raw.mode), "expected `governance` or `compliance`")
                        .maybe_help(help)
                        .help("`governance`: users with s3:BypassGovernanceRetention may delete early; `compliance`: nobody can, not even the root user"),
                );
                None
            }
        };
        let days = *raw.days.get_ref();
        let days = if OBJECT_LOCK_DAYS.contains(&days) {
            u32::try_from(days).ok()
        } else {
            self.push(
                Diagnostic::error("LF938", format!("an Object Lock retention of {days} days"))
                    .at(&self.loc(src, &raw.days), "must be 1 to 36500 days")
                    .help("S3's default retention is 1 day to 100 years"),
            );
            None
        };
        Some(ObjectLock {
            mode: mode?,
            days: days?,
        })
    }

    fn lifecycle(&mut self, src: SourceId, raw: &RawLifecycle, table: &Loc) -> Option<Lifecycle> {
        let mut ok = true;
        let mut days = |v: &Option<serde_spanned::Spanned<i64>>, key: &str, this: &mut Self| {
            let v = v.as_ref()?;
            match u32::try_from(*v.get_ref()) {
                Ok(d) if d >= 1 => Some(d),
                _ => {
                    ok = false;
                    this.push(
                        Diagnostic::error("LF939", format!("`{key}` is {}", v.get_ref()))
                            .at(&this.loc(src, v), "at least 1 day")
                            .help("S3 lifecycle rules count whole days from an object's creation"),
                    );
                    None
                }
            }
        };
        let glacier = days(&raw.glacier_after_days, "glacier_after_days", self);
        let expire = days(&raw.expire_after_days, "expire_after_days", self);
        if raw.glacier_after_days.is_none() && raw.expire_after_days.is_none() {
            self.push(
                Diagnostic::error("LF939", "`lifecycle` sets nothing")
                    .at(
                        table,
                        "neither `glacier_after_days` nor `expire_after_days`",
                    )
                    .help("give one of them, or remove `lifecycle`"),
            );
            return None;
        }
        if let (Some(g), Some(e), Some(raw_e)) = (glacier, expire, &raw.expire_after_days)
            && e <= g
        {
            self.push(
                Diagnostic::error(
                    "LF939",
                    format!("objects expire after {e} days but move to Glacier after {g}"),
                )
                .at(&self.loc(src, raw_e), format!("must be more than {g}"))
                .help("`expire_after_days` comes after `glacier_after_days`; S3 refuses a transition at or after the expiration"),
            );
            return None;
        }
        ok.then_some(Lifecycle {
            glacier_after_days: glacier,
            expire_after_days: expire,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_names() {
        assert_eq!(trail_name_problem("landfall-org-trail"), None);
        assert_eq!(trail_name_problem("a.b_c-1"), None);
        assert!(trail_name_problem("ab").is_some());
        assert!(trail_name_problem("-trail").is_some());
        assert!(trail_name_problem("my--trail").is_some());
        assert!(trail_name_problem("my-_trail").is_some());
        assert!(trail_name_problem("my trail").is_some());
        assert!(trail_name_problem("10.0.0.1").is_some());
    }

    #[test]
    fn policies_name_the_trail_and_the_bucket() {
        let key = key_policy_for("us-east-1", "t1");
        assert!(key.contains(r#""aws:SourceArn":"arn:aws:cloudtrail:us-east-1:${management_account_id}:trail/t1""#), "{key}");
        assert!(key.contains(r#""kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:${management_account_id}:trail/*""#));
        assert!(key_policy::manageable(&key, "LandfallAccess"));
        let bucket = bucket_policy_for("us-east-1", "t1", "b-${account_id}");
        assert!(
            bucket.contains(r#""Resource":"arn:aws:s3:::b-${account_id}/AWSLogs/*""#),
            "{bucket}"
        );
        assert!(bucket.contains(r#""s3:x-amz-acl":"bucket-owner-full-control""#));
        assert!(bucket.contains(r#""aws:SecureTransport":"false""#));
        // Canonical: sorting again changes nothing.
        assert_eq!(canonical_json(&bucket), bucket);
    }
}
