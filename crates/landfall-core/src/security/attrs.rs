//! The security family's attributes: declared (policies substituted once the account
//! is known) and read live, in one shape so plan, drift and `--refresh-only` compare
//! them. References to other resources (a bucket's key, a trail's bucket and key) are
//! their addresses; a live ARN or name is mapped back through the state's ids.

use serde_json::{Value, json};

use crate::address::Address;
use crate::attrs::{Attrs, tags_value};
use crate::kind::SecurityKind;
use crate::live::{LiveAggregator, LiveAnalyzer, LiveBucket, LiveSecurity, LiveTrail};
use crate::model::{DesiredState, canonical_json, substitute};
use crate::state::{ResourceRecord, StateFile};

/// The type of analyzer Landfall creates.
pub const ORGANIZATION_ANALYZER: &str = "ORGANIZATION";

/// The declared attributes of a security resource; `None` when it is not declared.
/// With the resource's account id, a bucket's name and policy are substituted.
pub fn declared_attrs(
    desired: &DesiredState,
    address: &Address,
    account_id: Option<&str>,
) -> Option<Attrs> {
    Some(match address.security_kind()? {
        SecurityKind::ServiceAccess(p) => {
            desired.service_access.get(p)?;
            Attrs::from([("service_principal".into(), json!(p))])
        }
        SecurityKind::DelegatedAdmin(p) => {
            let spec = desired.delegated_admins.get(p)?;
            let mut attrs = Attrs::from([
                ("account".into(), json!(format!("account.{}", spec.account))),
                ("region".into(), json!(spec.region)),
            ]);
            if super::delegated_by_own_call(p) {
                attrs.insert("regions".into(), json!(spec.regions));
            }
            attrs
        }
        SecurityKind::Bucket(name) => {
            let spec = desired.buckets.get(name)?;
            let sub = |text: &str| match account_id {
                Some(a) => substitute(text, a, &spec.region),
                None => text.to_string(),
            };
            Attrs::from([
                ("bucket_name".into(), json!(sub(&spec.bucket_name))),
                ("versioning".into(), json!(true)),
                ("public_access_blocked".into(), json!(true)),
                ("kms_key".into(), json!(format!("kms_key.{}", spec.kms_key))),
                ("policy".into(), json!(canonical_json(&sub(&spec.policy)))),
                ("object_lock".into(), json!(spec.object_lock)),
                ("lifecycle".into(), json!(spec.lifecycle)),
                ("tags".into(), tags_value(&spec.tags)),
            ])
        }
        SecurityKind::Trail(name) => {
            let spec = desired.trails.get(name)?;
            Attrs::from([
                ("name".into(), json!(spec.name)),
                ("bucket".into(), json!(format!("bucket.{}", spec.bucket))),
                ("s3_key_prefix".into(), json!(spec.s3_key_prefix)),
                ("kms_key".into(), json!(format!("kms_key.{}", spec.kms_key))),
                ("multi_region".into(), json!(spec.multi_region)),
                ("organization".into(), json!(spec.organization)),
                (
                    "log_file_validation".into(),
                    json!(spec.log_file_validation),
                ),
                ("logging".into(), json!(true)),
                ("tags".into(), tags_value(&spec.tags)),
            ])
        }
        SecurityKind::ConfigAggregator(name) => {
            let spec = desired.config_aggregators.get(name)?;
            aggregator_attrs(&spec.name, Some(&spec.role_name), true, true)
        }
        SecurityKind::AccessAnalyzer(name) => {
            let spec = desired.access_analyzers.get(name)?;
            Attrs::from([
                ("name".into(), json!(spec.name)),
                ("type".into(), json!(ORGANIZATION_ANALYZER)),
                ("tags".into(), tags_value(&spec.tags)),
            ])
        }
    })
}

fn aggregator_attrs(name: &str, role_name: Option<&str>, all_regions: bool, role: bool) -> Attrs {
    Attrs::from([
        ("name".into(), json!(name)),
        ("role_name".into(), json!(role_name)),
        ("all_regions".into(), json!(all_regions)),
        ("role_exists".into(), json!(role)),
    ])
}

/// The address the state records under `id` for a kind (`kms_key.X` for a key id),
/// else the live value as it is: a live reference compares with a declared address.
fn recorded_as(state: &StateFile, kind: &str, live_value: &str) -> Value {
    let found = state.resources.iter().find(|(a, r)| {
        a.kind() == kind
            && !r.id.is_empty()
            && (live_value == r.id || live_value.ends_with(&format!("/{}", r.id)))
    });
    match found {
        Some((a, _)) => json!(a.to_string()),
        None => json!(live_value),
    }
}

pub fn bucket_attrs(bucket: &LiveBucket, state: &StateFile) -> Attrs {
    Attrs::from([
        ("bucket_name".into(), json!(bucket.name)),
        ("versioning".into(), json!(bucket.versioning)),
        (
            "public_access_blocked".into(),
            json!(bucket.public_access_blocked),
        ),
        (
            "kms_key".into(),
            bucket
                .kms_key
                .as_deref()
                .map_or(Value::Null, |k| recorded_as(state, "kms_key", k)),
        ),
        (
            "policy".into(),
            json!(bucket.policy.as_deref().map(canonical_json)),
        ),
        ("object_lock".into(), json!(bucket.object_lock)),
        ("lifecycle".into(), json!(bucket.lifecycle)),
        ("tags".into(), tags_value(&bucket.tags)),
    ])
}

pub fn trail_attrs(trail: &LiveTrail, state: &StateFile) -> Attrs {
    Attrs::from([
        ("name".into(), json!(trail.name)),
        (
            "bucket".into(),
            recorded_as(state, "bucket", &trail.s3_bucket_name),
        ),
        ("s3_key_prefix".into(), json!(trail.s3_key_prefix)),
        (
            "kms_key".into(),
            trail
                .kms_key_id
                .as_deref()
                .map_or(Value::Null, |k| recorded_as(state, "kms_key", k)),
        ),
        ("multi_region".into(), json!(trail.multi_region)),
        ("organization".into(), json!(trail.organization)),
        (
            "log_file_validation".into(),
            json!(trail.log_file_validation),
        ),
        ("logging".into(), json!(trail.logging)),
        ("tags".into(), tags_value(&trail.tags)),
    ])
}

pub fn live_aggregator_attrs(aggregator: &LiveAggregator) -> Attrs {
    let role_name = aggregator
        .organization_role_arn
        .as_deref()
        .and_then(|arn| arn.rsplit('/').next());
    aggregator_attrs(
        &aggregator.name,
        role_name,
        aggregator.all_regions,
        aggregator.role_exists,
    )
}

pub fn analyzer_attrs(analyzer: &LiveAnalyzer) -> Attrs {
    Attrs::from([
        ("name".into(), json!(analyzer.name)),
        ("type".into(), json!(analyzer.analyzer_type)),
        ("tags".into(), tags_value(&analyzer.tags)),
    ])
}

/// The live attributes of a recorded security resource (`None` when it is gone).
/// Trusted access and delegated administrators have their recorded attributes when
/// in place.
pub fn live_attrs(
    live: &LiveSecurity,
    address: &Address,
    rec: &ResourceRecord,
    state: &StateFile,
) -> Option<Attrs> {
    match address.security_kind()? {
        SecurityKind::ServiceAccess(p) => live
            .service_access
            .contains(p)
            .then(|| rec.attributes.clone()),
        SecurityKind::DelegatedAdmin(p) => {
            let (_, account_id) = rec.id.split_once('|')?;
            let admin_in = |region: &str| {
                live.organization_admins
                    .get(p)
                    .and_then(|by_region| by_region.get(region))
                    .is_some_and(|a| a.contains(account_id))
            };
            let regions = recorded_regions(&rec.attributes);
            let delegated = live
                .delegated_admins
                .get(p)
                .is_some_and(|a| a.contains(account_id))
                || regions.iter().any(|r| admin_in(r));
            if !delegated {
                return None;
            }
            let mut attrs = rec.attributes.clone();
            // A service with its own call: the recorded regions it is still delegated
            // in (one missing is drift, and the plan delegates there again).
            if super::delegated_by_own_call(p) && rec.attributes.contains_key("regions") {
                let live_regions: Vec<&String> = regions.iter().filter(|r| admin_in(r)).collect();
                attrs.insert("regions".into(), json!(live_regions));
            }
            Some(attrs)
        }
        SecurityKind::Bucket(_) => live.buckets.get(&rec.id).map(|b| bucket_attrs(b, state)),
        SecurityKind::Trail(_) => live.trails.get(&rec.id).map(|t| trail_attrs(t, state)),
        SecurityKind::ConfigAggregator(name) => live
            .aggregators
            .get(name)
            .filter(|a| a.arn == rec.id)
            .map(live_aggregator_attrs),
        SecurityKind::AccessAnalyzer(name) => live
            .analyzers
            .get(name)
            .filter(|a| a.arn == rec.id)
            .map(analyzer_attrs),
    }
}

/// The regions a delegated administrator's attributes say it is delegated in: its
/// `regions`, or (a record written before they were) its `region`.
pub(crate) fn recorded_regions(attributes: &Attrs) -> Vec<String> {
    match attributes.get("regions").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        None => attributes
            .get("region")
            .and_then(Value::as_str)
            .map(|r| vec![r.to_string()])
            .unwrap_or_default(),
    }
}
