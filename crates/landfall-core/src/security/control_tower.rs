//! When Control Tower governs the organization, it owns the organization trail (into
//! its Log Archive account) and AWS Config (its aggregator in the Audit account):
//! Landfall does not make a second of either. The trail, its bucket and key, the
//! trusted access and delegation for CloudTrail, and the Config aggregator are left
//! out of the desired state the plan and drift see, and the plan says so.

use std::borrow::Cow;

use crate::address::Address;
use crate::live::LiveState;
use crate::model::DesiredState;

use super::CLOUDTRAIL;

/// The desired state as plan and drift compare it with this organization:
/// `${management_account_id}` and `${organization_id}` filled in
/// ([`DesiredState::resolve_management_account`], [`DesiredState::resolve_organization`])
/// and what Control Tower owns left out ([`defer_to_control_tower`]), with the warning
/// saying so.
pub fn as_planned<'a>(
    desired: &'a DesiredState,
    live: &LiveState,
    organization_id: &str,
) -> (Cow<'a, DesiredState>, Option<String>) {
    let resolved: Cow<'a, DesiredState> = if desired.names_organization() {
        let mut d = desired.clone();
        if !live.management_account_id.is_empty() {
            d.resolve_management_account(&live.management_account_id);
        }
        d.resolve_organization(organization_id);
        Cow::Owned(d)
    } else {
        Cow::Borrowed(desired)
    };
    match resolved {
        Cow::Borrowed(d) => defer_to_control_tower(d, live),
        Cow::Owned(d) => {
            let (deferred, warning) = defer_to_control_tower(&d, live);
            (Cow::Owned(deferred.into_owned()), warning)
        }
    }
}

/// The desired state without what Control Tower owns, and the warning that says what
/// was left out; the desired state itself when Control Tower does not govern the
/// organization (not declared, and no landing zone read live) or nothing is left out.
pub fn defer_to_control_tower<'a>(
    desired: &'a DesiredState,
    live: &LiveState,
) -> (Cow<'a, DesiredState>, Option<String>) {
    let live_zone = live
        .governance
        .landing_zone
        .as_ref()
        .and_then(|z| z.as_ref());
    let governed = desired.landing_zone.control_tower.is_some() || live_zone.is_some();
    let owned = !desired.trails.is_empty() || !desired.config_aggregators.is_empty();
    if !governed || !owned {
        return (Cow::Borrowed(desired), None);
    }
    let mut d = desired.clone();
    let mut left_out: Vec<String> = Vec::new();
    for (name, trail) in std::mem::take(&mut d.trails) {
        left_out.push(Address::Trail(name).to_string());
        if d.buckets.remove(&trail.bucket).is_some() {
            left_out.push(Address::Bucket(trail.bucket.clone()).to_string());
        }
        let key_used_elsewhere = d.buckets.values().any(|b| b.kms_key == trail.kms_key);
        if !key_used_elsewhere && d.kms_keys.remove(&trail.kms_key).is_some() {
            left_out.push(Address::KmsKey(trail.kms_key.clone()).to_string());
        }
    }
    if !left_out.is_empty() {
        if d.service_access.remove(CLOUDTRAIL).is_some() {
            left_out.push(Address::ServiceAccess(CLOUDTRAIL.into()).to_string());
        }
        if d.delegated_admins.remove(CLOUDTRAIL).is_some() {
            left_out.push(Address::DelegatedAdmin(CLOUDTRAIL.into()).to_string());
        }
    }
    for name in std::mem::take(&mut d.config_aggregators).into_keys() {
        left_out.push(Address::ConfigAggregator(name).to_string());
    }
    let whose = match live_zone {
        Some(zone) => format!("the Control Tower landing zone (version {})", zone.version),
        None => "Control Tower ([control_tower])".to_string(),
    };
    let warning = format!(
        "{whose} owns this organization's trail (in its Log Archive account) and AWS Config: not planned, to avoid a second of each: {}",
        left_out.join(", ")
    );
    (Cow::Owned(d), Some(warning))
}
