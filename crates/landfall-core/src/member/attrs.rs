//! The attributes of member resources, declared (policies substituted when the account
//! is known) and live, in the same shape; endpoint policies compared as canonical JSON.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::address::{ADDRESS_TAG, Address};
use crate::attrs::Attrs;
use crate::kind::MemberKind;
use crate::live::{LiveMember, LiveState};
use crate::model::{DesiredState, EndpointKind, NetworkSpec, Tags, canonical_json, substitute};
use crate::state::ResourceRecord;

/// The document AWS reports for an endpoint without a policy of its own.
pub const DEFAULT_ENDPOINT_POLICY: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// Live tags without Landfall's own bookkeeping tag.
pub fn user_tags(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| k.as_str() != ADDRESS_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The subnets an interface endpoint uses: the first declared subnet of each AZ
/// (AWS allows one subnet per AZ per endpoint).
pub fn endpoint_subnets(net: &NetworkSpec) -> Vec<String> {
    let mut seen = BTreeSet::new();
    net.subnets
        .iter()
        .filter(|s| seen.insert(s.az.clone()))
        .map(|s| s.cidr.clone())
        .collect()
}

fn policy_value(policy: Option<&str>, account_id: Option<&str>, region: &str) -> Value {
    let text = policy.unwrap_or(DEFAULT_ENDPOINT_POLICY);
    let text = match account_id {
        Some(a) => substitute(text, a, region),
        None => text.to_string(),
    };
    json!(canonical_json(&text))
}

/// Declared attributes of a member resource (policies substituted when the account
/// id is known).
pub fn declared_attrs_with(
    desired: &DesiredState,
    address: &Address,
    account_id: Option<&str>,
) -> Option<Attrs> {
    match address.member_kind()? {
        MemberKind::Vpc(n) => {
            let net = desired.networks.get(n)?;
            Some(Attrs::from([
                ("cidr".into(), json!(net.cidr)),
                ("tags".into(), json!(net.tags)),
            ]))
        }
        MemberKind::Subnet(n, cidr) => {
            let net = desired.networks.get(n)?;
            let s = net.subnets.iter().find(|s| s.cidr == *cidr)?;
            Some(Attrs::from([
                ("az".into(), json!(s.az)),
                ("cidr".into(), json!(s.cidr)),
                ("tags".into(), json!(net.tags)),
            ]))
        }
        MemberKind::RouteTable(n) => {
            let net = desired.networks.get(n)?;
            let subnets: BTreeSet<&str> = net.subnets.iter().map(|s| s.cidr.as_str()).collect();
            Some(Attrs::from([
                ("subnets".into(), json!(subnets)),
                ("tags".into(), json!(net.tags)),
            ]))
        }
        MemberKind::SecurityGroup(n) => {
            let net = desired.networks.get(n)?;
            Some(Attrs::from([
                ("ingress_443".into(), json!([net.cidr])),
                ("tags".into(), json!(net.tags)),
            ]))
        }
        MemberKind::Endpoint(n, service) => {
            let net = desired.networks.get(n)?;
            let e = net.endpoints.get(service)?;
            let subnets: BTreeSet<String> = match e.kind {
                EndpointKind::Interface => endpoint_subnets(net).into_iter().collect(),
                EndpointKind::Gateway => BTreeSet::new(),
            };
            Some(Attrs::from([
                ("service_name".into(), json!(e.service_name)),
                ("type".into(), json!(e.kind)),
                ("private_dns".into(), json!(e.private_dns)),
                ("subnets".into(), json!(subnets)),
                (
                    "policy".into(),
                    policy_value(e.policy.as_deref(), account_id, &net.region),
                ),
                ("tags".into(), json!(net.tags)),
            ]))
        }
        MemberKind::KmsKey(k) => {
            let key = desired.kms_keys.get(k)?;
            let policy = match account_id {
                Some(a) => substitute(&key.policy, a, &key.region),
                None => key.policy.clone(),
            };
            Some(Attrs::from([
                ("description".into(), json!(key.description)),
                ("policy".into(), json!(canonical_json(&policy))),
                ("rotation".into(), json!(key.rotation)),
                ("alias".into(), json!(key.alias)),
                ("tags".into(), json!(key.tags)),
                (
                    "deletion_window_days".into(),
                    json!(key.deletion_window_days),
                ),
            ]))
        }
    }
}

/// Declared attributes of a member resource, as recorded (placeholders kept).
pub fn declared_attrs(desired: &DesiredState, address: &Address) -> Option<Attrs> {
    declared_attrs_with(desired, address, None)
}

/// The live attributes of a member resource (same shape as the declared ones).
pub fn live_attrs(member: &LiveMember, address: &Address, id: &str) -> Option<Attrs> {
    let cidr_of = |subnet_id: &str| {
        member
            .subnets
            .get(subnet_id)
            .map(|s| s.cidr.clone())
            .unwrap_or_else(|| subnet_id.to_string())
    };
    match address.member_kind()? {
        MemberKind::Vpc(_) => member.vpcs.get(id).map(|v| {
            Attrs::from([
                ("cidr".into(), json!(v.cidr)),
                ("tags".into(), json!(user_tags(&v.tags))),
            ])
        }),
        MemberKind::Subnet(..) => member.subnets.get(id).map(|s| {
            Attrs::from([
                ("az".into(), json!(s.az)),
                ("cidr".into(), json!(s.cidr)),
                ("tags".into(), json!(user_tags(&s.tags))),
            ])
        }),
        MemberKind::RouteTable(_) => member.route_tables.get(id).map(|rt| {
            let subnets: BTreeSet<String> = rt.subnet_ids.iter().map(|s| cidr_of(s)).collect();
            Attrs::from([
                ("subnets".into(), json!(subnets)),
                ("tags".into(), json!(user_tags(&rt.tags))),
            ])
        }),
        MemberKind::SecurityGroup(_) => member.security_groups.get(id).map(|sg| {
            Attrs::from([
                ("ingress_443".into(), json!(sg.ingress_443)),
                ("tags".into(), json!(user_tags(&sg.tags))),
            ])
        }),
        MemberKind::Endpoint(..) => member.endpoints.get(id).map(|e| {
            let subnets: BTreeSet<String> = e.subnet_ids.iter().map(|s| cidr_of(s)).collect();
            Attrs::from([
                ("service_name".into(), json!(e.service_name)),
                ("type".into(), json!(e.kind)),
                ("private_dns".into(), json!(e.private_dns)),
                ("subnets".into(), json!(subnets)),
                (
                    "policy".into(),
                    json!(canonical_json(
                        e.policy.as_deref().unwrap_or(DEFAULT_ENDPOINT_POLICY)
                    )),
                ),
                ("tags".into(), json!(user_tags(&e.tags))),
            ])
        }),
        MemberKind::KmsKey(_) => member.keys.get(id).map(|k| {
            Attrs::from([
                ("description".into(), json!(k.description)),
                ("policy".into(), json!(canonical_json(&k.policy))),
                ("rotation".into(), json!(k.rotation)),
                ("alias".into(), json!(k.aliases.iter().next())),
                ("tags".into(), json!(user_tags(&k.tags))),
            ])
        }),
    }
}

/// Whether the recorded physical id of a member resource still exists live.
pub fn exists_live(live: &LiveState, rec: Option<&ResourceRecord>, address: &Address) -> bool {
    let Some(rec) = rec else { return false };
    let Some(member) = rec.member.as_ref().and_then(|m| live.members.get(m)) else {
        return false;
    };
    live_attrs(member, address, &rec.id).is_some()
}
