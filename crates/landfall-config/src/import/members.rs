//! The member-account part of an import (`--members REGIONS`): each imported account's
//! VPCs (as `[network.NAME]` with their subnets and endpoints) and customer-managed KMS
//! keys in those regions. A resource Landfall made carries its `landfall:address` tag
//! and keeps that name; anything else is named from its `Name` tag or alias.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::Address;
use landfall_core::address::ADDRESS_TAG;
use landfall_core::live::{KeyState, LiveMember, member_key};
use landfall_core::member::user_tags;
use landfall_core::model::canonical_json;

use super::names::Names;
use super::organization::Org;
use super::text::{banner, inline_strings, key, pretty_policy, string, string_array};
use super::{Doc, ImportRequest};
use crate::endpoints::catalog;
use crate::key_policy::{DEFAULT_KEY_POLICY, manageable};
use landfall_core::member::DEFAULT_ENDPOINT_POLICY;

pub(super) struct EndpointOut {
    service: String,
    private_dns: Option<bool>,
    policy_file: Option<String>,
}

pub(super) struct NetworkOut {
    name: String,
    vpc_id: String,
    account: String,
    region: String,
    cidr: String,
    tags: BTreeMap<String, String>,
    subnets: Vec<(String, String)>,
    endpoints: Vec<EndpointOut>,
    endpoint_policy_file: Option<String>,
    comments: Vec<String>,
}

pub(super) struct KeyOut {
    name: String,
    key_id: String,
    account: String,
    region: String,
    description: String,
    alias: Option<String>,
    other_aliases: Vec<String>,
    rotation: bool,
    policy_file: Option<String>,
    bypass_lockout_check: bool,
    tags: BTreeMap<String, String>,
}

pub(super) struct Members {
    pub networks: Vec<NetworkOut>,
    pub keys: Vec<KeyOut>,
    /// Policy documents to write: path → pretty JSON.
    pub documents: BTreeMap<String, String>,
    /// Member resources by address → (id, `ACCOUNT/REGION`): recorded by id, since
    /// only what Landfall made carries its address tag.
    pub ids: BTreeMap<Address, (String, String)>,
    pub comments: Vec<String>,
}

/// Lower-case letters, digits and `-`, starting with a letter or digit, at most 63:
/// the rule of network and key names.
fn resource_name(text: &str) -> String {
    let mut out = String::new();
    for c in text.to_ascii_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        out.push(c);
    }
    out.trim_end_matches('-')
        .chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// The name a `landfall:address` tag gives (`vpc.NAME` → `NAME`).
fn tagged_name(tags: &BTreeMap<String, String>, kind: &str) -> Option<String> {
    tags.get(ADDRESS_TAG)?
        .strip_prefix(&format!("{kind}."))
        .map(str::to_string)
}

/// A policy as the file `import` writes for it (as AWS returned it when not JSON).
fn pretty(policy: &str) -> String {
    pretty_policy(policy).unwrap_or_else(|| policy.to_string())
}

pub(super) fn read(req: &ImportRequest<'_>, org: &Org, warnings: &mut Vec<String>) -> Members {
    let mut out = Members {
        networks: Vec::new(),
        keys: Vec::new(),
        documents: BTreeMap::new(),
        ids: BTreeMap::new(),
        comments: Vec::new(),
    };
    let mut network_names = Names::default();
    let mut key_names = Names::default();
    let services = catalog().ok();
    for (account_id, region, why) in &req.member_failures {
        let name = org.account_name(account_id).unwrap_or(account_id.as_str());
        out.comments.push(format!(
            "account {name} ({account_id}) in {region} could not be read: {why}"
        ));
        warnings.push(format!(
            "account {name} ({account_id}) in {region} could not be read, its VPCs and keys are not imported: {why}"
        ));
    }
    for account in &org.accounts_in_order() {
        for region in &req.member_regions {
            let Some(m) = req.live.members.get(&member_key(&account.1, region)) else {
                continue;
            };
            read_networks(
                req,
                m,
                account,
                region,
                services,
                &mut network_names,
                &mut out,
                warnings,
            );
            read_keys(req, m, account, region, &mut key_names, &mut out, warnings);
        }
    }
    out
}

#[allow(clippy::too_many_arguments)] // one account and region's read, and where it goes
fn read_networks(
    _req: &ImportRequest<'_>,
    m: &LiveMember,
    account: &(String, String),
    region: &str,
    services: Option<&crate::endpoints::Catalog>,
    names: &mut Names,
    out: &mut Members,
    warnings: &mut Vec<String>,
) {
    let (account_name, account_id) = account;
    let where_ = member_key(account_id, region);
    for vpc in m.vpcs.values() {
        if vpc.is_default {
            out.comments.push(format!(
                "{account_name} {region}: the default VPC {} ({}) is not imported",
                vpc.id, vpc.cidr
            ));
            continue;
        }
        let hint = tagged_name(&vpc.tags, "vpc")
            .or_else(|| vpc.tags.get("Name").cloned())
            .unwrap_or_else(|| format!("{account_name}-{region}"));
        let name = names.resource(&resource_name(&hint), &vpc.id).name;
        let mut comments = Vec::new();
        let subnets: Vec<(String, String)> = {
            let mut s: Vec<_> = m
                .subnets
                .values()
                .filter(|s| s.vpc_id == vpc.id)
                .map(|s| (s.az.clone(), s.cidr.clone(), s.id.clone()))
                .collect();
            s.sort();
            for (_, cidr, id) in &s {
                out.ids.insert(
                    Address::Subnet(name.clone(), cidr.clone()),
                    (id.clone(), where_.clone()),
                );
            }
            s.into_iter().map(|(az, cidr, _)| (az, cidr)).collect()
        };
        if subnets.is_empty() {
            comments.push("it has no subnets: Landfall declares networks with at least one".into());
        }
        out.ids
            .insert(Address::Vpc(name.clone()), (vpc.id.clone(), where_.clone()));
        // Landfall's route table and security group: the tagged ones, else the
        // route table associated with the subnets and the group admitting HTTPS from
        // the VPC's block.
        let subnet_ids: BTreeSet<&str> = m
            .subnets
            .values()
            .filter(|s| s.vpc_id == vpc.id)
            .map(|s| s.id.as_str())
            .collect();
        let route_table = m
            .route_tables
            .values()
            .filter(|rt| rt.vpc_id == vpc.id)
            .find(|rt| tagged_name(&rt.tags, "route_table").is_some())
            .or_else(|| {
                m.route_tables.values().find(|rt| {
                    rt.vpc_id == vpc.id
                        && !rt.subnet_ids.is_empty()
                        && rt
                            .subnet_ids
                            .iter()
                            .map(String::as_str)
                            .collect::<BTreeSet<_>>()
                            == subnet_ids
                })
            });
        if let Some(rt) = route_table {
            out.ids.insert(
                Address::RouteTable(name.clone()),
                (rt.id.clone(), where_.clone()),
            );
        }
        let group = m
            .security_groups
            .values()
            .filter(|g| g.vpc_id == vpc.id)
            .find(|g| tagged_name(&g.tags, "security_group").is_some())
            .or_else(|| {
                m.security_groups.values().find(|g| {
                    g.vpc_id == vpc.id
                        && g.name != "default"
                        && g.ingress_443.iter().eq([&vpc.cidr])
                })
            });
        if let Some(g) = group {
            out.ids.insert(
                Address::SecurityGroup(name.clone()),
                (g.id.clone(), where_.clone()),
            );
        }
        // Endpoints, by the catalogue's short service names.
        let mut endpoints = Vec::new();
        let mut policies: BTreeMap<String, Option<String>> = BTreeMap::new();
        let mut live_endpoints: Vec<_> = m
            .endpoints
            .values()
            .filter(|e| e.vpc_id == vpc.id)
            .collect();
        live_endpoints.sort_by(|a, b| a.service_name.cmp(&b.service_name));
        for e in live_endpoints {
            let short = services.and_then(|c| {
                c.services
                    .iter()
                    .find(|(_, s)| s.service_name_in(region) == e.service_name)
                    .map(|(short, _)| short.clone())
            });
            let Some(short) = short else {
                comments.push(format!(
                    "endpoint {} ({}) is not in Landfall's endpoint catalogue: not imported",
                    e.id, e.service_name
                ));
                warnings.push(format!(
                    "endpoint {} ({}) in {account_name} {region} is not in Landfall's endpoint catalogue: not imported",
                    e.id, e.service_name
                ));
                continue;
            };
            out.ids.insert(
                Address::Endpoint(name.clone(), short.clone()),
                (e.id.clone(), where_.clone()),
            );
            let policy = e
                .policy
                .as_deref()
                .map(canonical_json)
                .filter(|p| *p != canonical_json(DEFAULT_ENDPOINT_POLICY));
            policies.insert(short.clone(), policy);
            let interface = e.kind == landfall_core::model::EndpointKind::Interface;
            endpoints.push(EndpointOut {
                private_dns: (interface && !e.private_dns).then_some(false),
                service: short,
                policy_file: None,
            });
        }
        // One endpoint policy for the network when every endpoint has the same.
        let distinct: BTreeSet<&Option<String>> = policies.values().collect();
        let mut endpoint_policy_file = None;
        if let ([Some(shared)], false) = (
            distinct.iter().copied().collect::<Vec<_>>().as_slice(),
            policies.is_empty(),
        ) {
            let path = format!("policies/endpoints/{name}.json");
            out.documents.insert(path.clone(), pretty(shared));
            endpoint_policy_file = Some(path);
        } else {
            for ep in &mut endpoints {
                if let Some(Some(policy)) = policies.get(&ep.service) {
                    let path = format!("policies/endpoints/{name}.{}.json", ep.service);
                    out.documents.insert(path.clone(), pretty(policy));
                    ep.policy_file = Some(path);
                }
            }
            if distinct.contains(&None) && distinct.len() > 1 {
                comments.push(
                    "endpoints without a policy of their own keep AWS's default (full access)"
                        .into(),
                );
            }
        }
        out.networks.push(NetworkOut {
            name,
            vpc_id: vpc.id.clone(),
            account: account_name.clone(),
            region: region.to_string(),
            cidr: vpc.cidr.clone(),
            tags: user_tags(&vpc.tags),
            subnets,
            endpoints,
            endpoint_policy_file,
            comments,
        });
    }
}

fn read_keys(
    req: &ImportRequest<'_>,
    m: &LiveMember,
    account: &(String, String),
    region: &str,
    names: &mut Names,
    out: &mut Members,
    warnings: &mut Vec<String>,
) {
    let (account_name, account_id) = account;
    for k in m.keys.values() {
        if k.state != KeyState::Enabled {
            out.comments.push(format!(
                "{account_name} {region}: KMS key {} is {:?}: not imported",
                k.id, k.state
            ));
            warnings.push(format!(
                "KMS key {} in {account_name} {region} is not enabled: not imported",
                k.id
            ));
            continue;
        }
        let mut aliases: Vec<String> = k.aliases.iter().cloned().collect();
        aliases.sort();
        let hint = tagged_name(&k.tags, "kms_key")
            .or_else(|| {
                aliases
                    .first()
                    .map(|a| a.trim_start_matches("alias/").to_string())
            })
            .unwrap_or_else(|| format!("{account_name}-{region}-key"));
        let name = names.resource(&resource_name(&hint), &k.id).name;
        out.ids.insert(
            Address::KmsKey(name.clone()),
            (k.id.clone(), member_key(account_id, region)),
        );
        let default_policy = DEFAULT_KEY_POLICY
            .replace("${account_id}", account_id)
            .replace("${region}", region);
        let policy_file =
            (canonical_json(&k.policy) != canonical_json(&default_policy)).then(|| {
                let path = format!("policies/keys/{name}.json");
                out.documents.insert(path.clone(), pretty(&k.policy));
                path
            });
        let bypass_lockout_check =
            policy_file.is_some() && !manageable(&k.policy, &req.access_role);
        if bypass_lockout_check {
            warnings.push(format!(
                "the key policy of KMS key {} ({account_name} {region}) does not let the account or the access role change it: declared with bypass_lockout_check",
                k.id
            ));
        }
        let mut aliases = aliases.into_iter();
        out.keys.push(KeyOut {
            name,
            key_id: k.id.clone(),
            account: account_name.clone(),
            region: region.to_string(),
            description: k.description.clone(),
            alias: aliases.next(),
            other_aliases: aliases.collect(),
            rotation: k.rotation,
            policy_file,
            bypass_lockout_check,
            tags: user_tags(&k.tags),
        });
    }
}

pub(super) fn write(doc: &mut Doc, members: &Members, regions: &[String]) {
    if members.networks.is_empty() && members.keys.is_empty() && members.comments.is_empty() {
        return;
    }
    doc.text.push_str(&banner(&format!(
        "Member accounts: VPCs and KMS keys in {}",
        regions.join(", ")
    )));
    doc.blank();
    for n in &members.networks {
        doc.line(format!("[network.{}]  # {}", key(&n.name), n.vpc_id));
        for c in &n.comments {
            doc.comment(c);
        }
        doc.line(format!("account = {}", string(&n.account)));
        doc.line(format!("region = {}", string(&n.region)));
        doc.line(format!("cidr = {}", string(&n.cidr)));
        if !n.tags.is_empty() {
            doc.line(format!("tags = {}", inline_strings(&n.tags)));
        }
        doc.line("subnets = [");
        for (az, cidr) in &n.subnets {
            doc.line(format!(
                "  {{ az = {}, cidr = {} }},",
                string(az),
                string(cidr)
            ));
        }
        doc.line("]");
        let services: Vec<&str> = n.endpoints.iter().map(|e| e.service.as_str()).collect();
        if !services.is_empty() {
            doc.line(format!("endpoints = {}", string_array(services)));
        }
        if let Some(p) = &n.endpoint_policy_file {
            doc.line(format!("endpoint_policy_file = {}", string(p)));
        }
        doc.blank();
        for e in n
            .endpoints
            .iter()
            .filter(|e| e.private_dns.is_some() || e.policy_file.is_some())
        {
            doc.line(format!(
                "[network.{}.endpoint.{}]",
                key(&n.name),
                key(&e.service)
            ));
            if let Some(dns) = e.private_dns {
                doc.line(format!("private_dns = {dns}"));
            }
            if let Some(p) = &e.policy_file {
                doc.line(format!("policy_file = {}", string(p)));
            }
            doc.blank();
        }
    }
    for k in &members.keys {
        doc.line(format!("[kms_key.{}]  # {}", key(&k.name), k.key_id));
        doc.line(format!("account = {}", string(&k.account)));
        doc.line(format!("region = {}", string(&k.region)));
        if !k.description.is_empty() {
            doc.line(format!("description = {}", string(&k.description)));
        }
        if let Some(a) = &k.alias {
            doc.line(format!("alias = {}", string(a)));
        }
        if !k.other_aliases.is_empty() {
            doc.comment(&format!(
                "also aliased {} (Landfall manages one alias)",
                k.other_aliases.join(", ")
            ));
        }
        if !k.rotation {
            doc.line("rotation = false");
        }
        if let Some(p) = &k.policy_file {
            doc.line(format!("policy_file = {}", string(p)));
        }
        if k.bypass_lockout_check {
            doc.comment("The live policy does not let the account or the access role change it.");
            doc.line("bypass_lockout_check = true");
        }
        if !k.tags.is_empty() {
            doc.line(format!("tags = {}", inline_strings(&k.tags)));
        }
        doc.blank();
    }
    for c in &members.comments {
        doc.comment(c);
    }
    if !members.comments.is_empty() {
        doc.blank();
    }
}
