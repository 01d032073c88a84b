//! Whether and what a refresh reads of the security family: trusted access and
//! delegated administrators (the whole organization's), and in each account and
//! region the trails, buckets, aggregators and analyzers declared or recorded there.

use crate::address::Address;
use crate::kind::SecurityKind;
use crate::live::{LiveIndex, LiveState, SecurityScope};
use crate::model::{DesiredState, substitute};
use crate::state::StateFile;

use super::delegated_by_own_call as admin_service_principal;

/// True when the desired state or the state file has anything of the family.
pub fn needs_security(desired: &DesiredState, state: Option<&StateFile>) -> bool {
    !desired.service_access.is_empty()
        || !desired.delegated_admins.is_empty()
        || !desired.trails.is_empty()
        || !desired.buckets.is_empty()
        || !desired.config_aggregators.is_empty()
        || !desired.access_analyzers.is_empty()
        || state.is_some_and(|s| s.resources.keys().any(|a| a.security_kind().is_some()))
}

/// A declared account's id: the state's record, else the live account of its email.
pub(crate) fn account_id(
    desired: &DesiredState,
    state: Option<&StateFile>,
    index: &LiveIndex<'_>,
    name: &str,
) -> Option<String> {
    state
        .and_then(|s| s.id_of(&Address::Account(name.to_string())))
        .map(str::to_string)
        .or_else(|| {
            let spec = desired.accounts.get(name)?;
            index.account_by_email(&spec.email).map(|a| a.id.clone())
        })
}

/// What the refresh reads; accounts not created yet are left out (nothing of theirs
/// exists to read).
pub fn security_scope(
    desired: &DesiredState,
    state: Option<&StateFile>,
    live: &LiveState,
) -> SecurityScope {
    let index = LiveIndex::new(live);
    let id_of = |name: &str| account_id(desired, state, &index, name);
    let management = live.management_account_id.clone();
    let mut scope = SecurityScope::default();
    for spec in desired.delegated_admins.values() {
        if admin_service_principal(&spec.service_principal) {
            for region in &spec.regions {
                scope
                    .organization_admins
                    .insert((spec.service_principal.clone(), region.clone()));
            }
        }
    }
    for spec in desired.trails.values() {
        let account = match &spec.administrator {
            Some(name) => id_of(name),
            None => Some(management.clone()),
        };
        if let Some(account) = account {
            scope.trails.insert((account, spec.region.clone()));
        }
    }
    for spec in desired.buckets.values() {
        if let Some(account) = id_of(&spec.account) {
            let name = substitute(&spec.bucket_name, &account, &spec.region);
            scope.buckets.insert((account, spec.region.clone(), name));
        }
    }
    for spec in desired.config_aggregators.values() {
        if let Some(account) = id_of(&spec.account) {
            scope
                .aggregators
                .insert((account, spec.region.clone(), spec.role_name.clone()));
        }
    }
    for spec in desired.access_analyzers.values() {
        if let Some(account) = id_of(&spec.account) {
            scope.analyzers.insert((account, spec.region.clone()));
        }
    }
    // What the state records where it was applied, declared or not any more.
    for (address, rec) in state.map(|s| &s.resources).into_iter().flatten() {
        let Some(kind) = address.security_kind() else {
            continue;
        };
        let Some((account, region)) = rec.member.as_deref().and_then(|m| m.split_once('/')) else {
            continue;
        };
        let (account, region) = (account.to_string(), region.to_string());
        match kind {
            SecurityKind::ServiceAccess(_) => {}
            SecurityKind::DelegatedAdmin(p) => {
                scope.organization_admins.insert((p.to_string(), region));
                for recorded in super::attrs::recorded_regions(&rec.attributes) {
                    scope.organization_admins.insert((p.to_string(), recorded));
                }
            }
            SecurityKind::Bucket(_) => {
                scope.buckets.insert((account, region, rec.id.clone()));
            }
            SecurityKind::Trail(_) => {
                scope.trails.insert((account, region));
            }
            SecurityKind::ConfigAggregator(_) => {
                let role = rec
                    .attributes
                    .get("role_name")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                scope.aggregators.insert((account, region, role));
            }
            SecurityKind::AccessAnalyzer(_) => {
                scope.analyzers.insert((account, region));
            }
        }
    }
    scope
}
