//! Member-account resources — VPCs, subnets, the route table for gateway endpoints,
//! the security group for interface endpoints, VPC endpoints and KMS keys: their
//! attributes, how they are planned, and how they are checked for drift.
//!
//! Matching follows the organization layer: the state's physical id when it still
//! exists, else the `landfall:address` tag Landfall puts on everything it creates
//! (so a resource whose creation response was lost is found again). Update semantics
//! follow the AWS provider users know: endpoint policy, private DNS, subnets and
//! security groups change in place; a VPC CIDR, an endpoint's service or type change
//! means replace; key rotation, policy, description and alias change in place;
//! deleting a key schedules its deletion, and only for keys Landfall created.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::address::{ADDRESS_TAG, Address};
use crate::attrs::{AttrDiff, Attrs, diff_attrs, tag_changes};
use crate::drift_report::Finding;
use crate::kind::MemberKind;
use crate::live::LiveIndex;
use crate::live::{KeyState, LiveMember, LiveState, member_key};
use crate::model::{DesiredState, EndpointKind, NetworkSpec, Tags, substitute};
use crate::plan::{Action, Change, MemberOp, MemberRef, Op, Record, Ref};
use crate::planner::{PlanFamily, Planner};
use crate::state::ResourceRecord;

/// The document AWS reports for an endpoint without a policy of its own.
pub const DEFAULT_ENDPOINT_POLICY: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

/// JSON with object keys sorted, minified: two documents that mean the same compare equal.
pub fn canonical_json(text: &str) -> String {
    fn sort(v: Value) -> Value {
        match v {
            Value::Object(map) => {
                let sorted: BTreeMap<String, Value> =
                    map.into_iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().collect())
            }
            Value::Array(items) => Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v) => serde_json::to_string(&sort(v)).unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

/// Live tags without Landfall's own bookkeeping tag.
fn user_tags(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| k.as_str() != ADDRESS_TAG)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn with_address_tag(tags: &Tags, address: &Address) -> Tags {
    let mut t = tags.clone();
    t.insert(ADDRESS_TAG.into(), address.to_string());
    t
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

fn security_group_name(network: &str) -> String {
    format!("landfall-{network}-endpoints")
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

/// Finds a live resource carrying Landfall's address tag.
fn tagged(member: &LiveMember, address: &Address) -> Option<String> {
    let wanted = address.to_string();
    let has = |tags: &Tags| tags.get(ADDRESS_TAG) == Some(&wanted);
    match address.member_kind()? {
        MemberKind::Vpc(_) => member
            .vpcs
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::Subnet(..) => member
            .subnets
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::RouteTable(_) => member
            .route_tables
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::SecurityGroup(_) => member
            .security_groups
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::Endpoint(..) => member
            .endpoints
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::KmsKey(_) => member
            .keys
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
    }
}

/// The (account id, region) pairs a plan or drift must read: every declared network
/// or key whose account exists, and every member recorded in the state.
pub fn members_to_read(
    desired: &DesiredState,
    live: &LiveState,
    state: Option<&crate::state::StateFile>,
) -> BTreeSet<(String, String)> {
    let index = crate::live::LiveIndex::new(live);
    let account_id = |name: &str| -> Option<String> {
        let addr = Address::Account(name.to_string());
        if let Some(id) = state.and_then(|s| s.id_of(&addr))
            && live.accounts.contains_key(id)
        {
            return Some(id.to_string());
        }
        let spec = desired.accounts.get(name)?;
        index.account_by_email(&spec.email).map(|a| a.id.clone())
    };
    let mut out = BTreeSet::new();
    for net in desired.networks.values() {
        if let Some(id) = account_id(&net.account) {
            out.insert((id, net.region.clone()));
        }
    }
    for key in desired.kms_keys.values() {
        if let Some(id) = account_id(&key.account) {
            out.insert((id, key.region.clone()));
        }
    }
    if let Some(state) = state {
        for rec in state.resources.values() {
            if let Some((a, r)) = rec.member.as_ref().and_then(|m| m.split_once('/'))
                && live.accounts.contains_key(a)
            {
                out.insert((a.to_string(), r.to_string()));
            }
        }
    }
    out
}

/// Rank of a network resource in deletion order: endpoints go first, the VPC last.
fn delete_rank(address: &Address) -> Option<u8> {
    match address.member_kind()? {
        MemberKind::Endpoint(..) => Some(0),
        MemberKind::Subnet(..) | MemberKind::SecurityGroup(_) | MemberKind::RouteTable(_) => {
            Some(1)
        }
        MemberKind::Vpc(_) => Some(2),
        // Keys belong to no network.
        MemberKind::KmsKey(_) => None,
    }
}

/// Ordering edges among member changes that references do not express: within one
/// network, a delete (or replace) runs after every non-create change of a lower rank
/// (endpoints let go of subnets and groups before those are deleted, and everything
/// is gone before its VPC).
pub fn member_edges(changes: &[Change]) -> Vec<(usize, usize)> {
    let mut by_network: BTreeMap<&str, Vec<(usize, u8)>> = BTreeMap::new();
    for (i, c) in changes.iter().enumerate() {
        if let (Some(n), Some(r)) = (c.address.network(), delete_rank(&c.address)) {
            by_network.entry(n).or_default().push((i, r));
        }
    }
    let mut edges = Vec::new();
    for list in by_network.values() {
        for &(i, ri) in list {
            let c = &changes[i];
            if !matches!(c.action, Action::Delete | Action::Replace) {
                continue;
            }
            for &(j, rj) in list {
                let other = &changes[j];
                if rj < ri && !matches!(other.action, Action::Create | Action::Adopt) {
                    edges.push((j, i));
                }
            }
        }
    }
    edges
}

struct Ctx {
    member: MemberRef,
    account_id: Option<String>,
    key: Option<String>,
}

impl<'a> Planner<'a> {
    fn member_ctx(&self, account: &str, region: &str) -> Ctx {
        let account_address = Address::Account(account.to_string());
        let account_id = self.existing.get(&account_address).cloned();
        Ctx {
            member: MemberRef {
                account: self.reference(account_address),
                region: region.to_string(),
            },
            key: account_id.as_ref().map(|a| member_key(a, region)),
            account_id,
        }
    }

    fn live_member(&self, ctx: &Ctx) -> Option<&'a LiveMember> {
        ctx.key.as_ref().and_then(|k| self.live.members.get(k))
    }

    /// The live id of a declared member resource: the state's (if still live), else
    /// the one tagged with its address.
    fn member_id(&self, ctx: &Ctx, address: &Address) -> Option<String> {
        let member = self.live_member(ctx)?;
        if let Some(rec) = self.state.resources.get(address)
            && rec.member == ctx.key
            && live_attrs(member, address, &rec.id).is_some()
        {
            return Some(rec.id.clone());
        }
        tagged(member, address)
    }

    fn member_ref(&self, ctx: &Ctx, address: Address) -> Ref {
        match self.member_id(ctx, &address) {
            Some(id) => Ref::Id(id),
            None => Ref::Address(address),
        }
    }

    fn push_member(&mut self, mut change: Change, ctx: &Ctx) {
        change.member = Some(ctx.member.clone());
        self.changes.push(change);
    }

    fn create_change(
        &mut self,
        ctx: &Ctx,
        address: Address,
        ops: Vec<Op>,
        attributes: Attrs,
        reason: Option<String>,
    ) {
        let reason = reason.unwrap_or_else(|| self.created_reason(&address));
        let diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
        self.push_member(
            Change {
                address,
                action: Action::Create,
                reason,
                diffs,
                id: None,
                member: None,
                project: None,
                ops,
                record: Record::Upsert {
                    created: true,
                    attributes,
                },
                depends_on: vec![],
            },
            ctx,
        );
    }

    /// Adopt/update an existing member resource (the org helper, plus the member).
    fn existing_member_change(
        &mut self,
        ctx: &Ctx,
        address: Address,
        id: String,
        diffs: Vec<AttrDiff>,
        ops: Vec<Op>,
        attributes: Attrs,
    ) {
        let before = self.changes.len();
        self.existing_change(address, id, diffs, ops, false, attributes);
        if self.changes.len() > before
            && let Some(last) = self.changes.last_mut()
        {
            last.member = Some(ctx.member.clone());
        }
    }

    fn delete_change(
        &mut self,
        ctx: &Ctx,
        address: Address,
        id: String,
        ops: Vec<Op>,
        reason: String,
    ) {
        self.push_member(
            Change {
                address,
                action: Action::Delete,
                reason,
                diffs: vec![],
                id: Some(id),
                member: None,
                project: None,
                ops,
                record: Record::Remove,
                depends_on: vec![],
            },
            ctx,
        );
    }

    pub(crate) fn plan_networks(&mut self) {
        let networks: Vec<NetworkSpec> = self.desired.networks.values().cloned().collect();
        for net in networks {
            self.plan_network(&net);
        }
    }

    fn plan_network(&mut self, net: &NetworkSpec) {
        let ctx = self.member_ctx(&net.account, &net.region);
        let acct = ctx.account_id.clone();
        let n = net.name.clone();
        let declared = |p: &Self, a: &Address| {
            declared_attrs_with(p.desired, a, acct.as_deref()).unwrap_or_default()
        };

        // The VPC: a CIDR change replaces it and everything in it.
        let vpc_address = Address::Vpc(n.clone());
        let vpc_attrs = declared(self, &vpc_address);
        let vpc_id = self.member_id(&ctx, &vpc_address);
        let mut replacing = false;
        match (&vpc_id, self.live_member(&ctx)) {
            (Some(id), Some(member)) => {
                let live = live_attrs(member, &vpc_address, id).unwrap_or_default();
                let diffs = diff_attrs(&live, &vpc_attrs, &[]);
                if diffs.iter().any(|d| d.attribute == "cidr") {
                    replacing = true;
                    // Everything inside goes first (ranked edges), then the VPC is
                    // recreated and its contents created again.
                    for (address, child_id) in self.network_children(&ctx, net, id) {
                        let ops = address
                            .member_kind()
                            .map(|kind| delete_ops(kind, &Attrs::new()))
                            .unwrap_or_default();
                        self.delete_change(
                            &ctx,
                            address,
                            child_id,
                            ops,
                            format!("its VPC vpc.{n} is replaced"),
                        );
                    }
                    self.push_member(
                        Change {
                            address: vpc_address.clone(),
                            action: Action::Replace,
                            reason: "the CIDR of a VPC cannot change: replaced".into(),
                            diffs,
                            id: Some(id.clone()),
                            member: None,
                            project: None,
                            ops: vec![
                                Op::Member(MemberOp::DeleteVpc),
                                Op::Member(MemberOp::CreateVpc {
                                    cidr: net.cidr.clone(),
                                    tags: with_address_tag(&net.tags, &vpc_address),
                                }),
                            ],
                            record: Record::Upsert {
                                created: true,
                                attributes: vpc_attrs.clone(),
                            },
                            depends_on: vec![],
                        },
                        &ctx,
                    );
                } else {
                    let mut ops = Vec::new();
                    push_ec2_tag_ops(&mut ops, &diffs);
                    self.existing_member_change(
                        &ctx,
                        vpc_address.clone(),
                        id.clone(),
                        diffs,
                        ops,
                        vpc_attrs,
                    );
                }
            }
            _ => {
                let ops = vec![Op::Member(MemberOp::CreateVpc {
                    cidr: net.cidr.clone(),
                    tags: with_address_tag(&net.tags, &vpc_address),
                })];
                self.create_change(&ctx, vpc_address.clone(), ops, vpc_attrs, None);
            }
        }
        let fresh = |p: &Self, a: &Address| {
            if replacing {
                None
            } else {
                p.member_id(&ctx, a)
            }
        };
        let vpc_ref = if replacing {
            Ref::Address(vpc_address.clone())
        } else {
            self.member_ref(&ctx, vpc_address.clone())
        };

        // Subnets.
        let mut subnet_refs: BTreeMap<String, Ref> = BTreeMap::new();
        for s in &net.subnets {
            let address = Address::Subnet(n.clone(), s.cidr.clone());
            let attrs = declared(self, &address);
            match (fresh(self, &address), self.live_member(&ctx)) {
                (Some(id), Some(member)) => {
                    let live = live_attrs(member, &address, &id).unwrap_or_default();
                    let diffs = diff_attrs(&live, &attrs, &[]);
                    if diffs.iter().any(|d| d.attribute == "az") {
                        self.problem(
                            address.clone(),
                            format!("the availability zone of an existing subnet cannot change ({id})"),
                            Some("declare the subnet with a new CIDR in the new AZ; the old one is deleted"),
                        );
                        continue;
                    }
                    let mut ops = Vec::new();
                    push_ec2_tag_ops(&mut ops, &diffs);
                    subnet_refs.insert(s.cidr.clone(), Ref::Id(id.clone()));
                    self.existing_member_change(&ctx, address, id, diffs, ops, attrs);
                }
                _ => {
                    subnet_refs.insert(s.cidr.clone(), Ref::Address(address.clone()));
                    let ops = vec![Op::Member(MemberOp::CreateSubnet {
                        vpc: vpc_ref.clone(),
                        az: s.az.clone(),
                        cidr: s.cidr.clone(),
                        tags: with_address_tag(&net.tags, &address),
                    })];
                    self.create_change(&ctx, address, ops, attrs, None);
                }
            }
        }

        // The route table gateway endpoints use, associated with every subnet.
        let rt_address = Address::RouteTable(n.clone());
        let rt_attrs = declared(self, &rt_address);
        let rt_ref = match (fresh(self, &rt_address), self.live_member(&ctx)) {
            (Some(id), Some(member)) => {
                let live = live_attrs(member, &rt_address, &id).unwrap_or_default();
                let diffs = diff_attrs(&live, &rt_attrs, &[]);
                let live_subnets: BTreeSet<String> = member
                    .route_tables
                    .get(&id)
                    .map(|rt| rt.subnet_ids.clone())
                    .unwrap_or_default();
                let mut ops: Vec<Op> = subnet_refs
                    .values()
                    .filter(|r| !matches!(r, Ref::Id(sid) if live_subnets.contains(sid)))
                    .map(|r| Op::Member(MemberOp::AssociateRouteTable { subnet: r.clone() }))
                    .collect();
                push_ec2_tag_ops(&mut ops, &diffs);
                self.existing_member_change(
                    &ctx,
                    rt_address.clone(),
                    id.clone(),
                    diffs,
                    ops,
                    rt_attrs,
                );
                Ref::Id(id)
            }
            _ => {
                let mut ops = vec![Op::Member(MemberOp::CreateRouteTable {
                    vpc: vpc_ref.clone(),
                    tags: with_address_tag(&net.tags, &rt_address),
                })];
                ops.extend(
                    subnet_refs
                        .values()
                        .map(|r| Op::Member(MemberOp::AssociateRouteTable { subnet: r.clone() })),
                );
                self.create_change(&ctx, rt_address.clone(), ops, rt_attrs, None);
                Ref::Address(rt_address.clone())
            }
        };

        // The security group interface endpoints use: 443 from the VPC.
        let sg_address = Address::SecurityGroup(n.clone());
        let sg_attrs = declared(self, &sg_address);
        let sg_ref = match (fresh(self, &sg_address), self.live_member(&ctx)) {
            (Some(id), Some(member)) => {
                let live = live_attrs(member, &sg_address, &id).unwrap_or_default();
                let diffs = diff_attrs(&live, &sg_attrs, &[]);
                let mut ops = Vec::new();
                let live_ingress = member
                    .security_groups
                    .get(&id)
                    .map(|g| g.ingress_443.clone())
                    .unwrap_or_default();
                let add: Vec<String> = [net.cidr.clone()]
                    .into_iter()
                    .filter(|c| !live_ingress.contains(c))
                    .collect();
                let remove: Vec<String> = live_ingress
                    .iter()
                    .filter(|c| **c != net.cidr)
                    .cloned()
                    .collect();
                if !add.is_empty() || !remove.is_empty() {
                    ops.push(Op::Member(MemberOp::SetIngress { add, remove }));
                }
                push_ec2_tag_ops(&mut ops, &diffs);
                self.existing_member_change(
                    &ctx,
                    sg_address.clone(),
                    id.clone(),
                    diffs,
                    ops,
                    sg_attrs,
                );
                Ref::Id(id)
            }
            _ => {
                let ops = vec![Op::Member(MemberOp::CreateSecurityGroup {
                    vpc: vpc_ref.clone(),
                    name: security_group_name(&n),
                    description: format!(
                        "Landfall: HTTPS from {} to the VPC endpoints of {n}",
                        net.cidr
                    ),
                    ingress_cidr: net.cidr.clone(),
                    tags: with_address_tag(&net.tags, &sg_address),
                })];
                self.create_change(&ctx, sg_address.clone(), ops, sg_attrs, None);
                Ref::Address(sg_address.clone())
            }
        };

        // Endpoints.
        let wanted_subnets = endpoint_subnets(net);
        for (service, e) in &net.endpoints {
            let address = Address::Endpoint(n.clone(), service.clone());
            let attrs = declared(self, &address);
            let (subnets, sgs, rts): (Vec<Ref>, Vec<Ref>, Vec<Ref>) = match e.kind {
                EndpointKind::Interface => (
                    wanted_subnets
                        .iter()
                        .filter_map(|c| subnet_refs.get(c).cloned())
                        .collect(),
                    vec![sg_ref.clone()],
                    vec![],
                ),
                EndpointKind::Gateway => (vec![], vec![], vec![rt_ref.clone()]),
            };
            let create_op = Op::Member(MemberOp::CreateEndpoint {
                vpc: vpc_ref.clone(),
                service_name: e.service_name.clone(),
                kind: e.kind,
                subnets: subnets.clone(),
                security_groups: sgs.clone(),
                route_tables: rts.clone(),
                private_dns: e.private_dns,
                policy: e.policy.clone(),
                tags: with_address_tag(&net.tags, &address),
            });
            let Some((id, member)) = fresh(self, &address).zip(self.live_member(&ctx)) else {
                self.create_change(&ctx, address, vec![create_op], attrs, None);
                continue;
            };
            let live = live_attrs(member, &address, &id).unwrap_or_default();
            let diffs = diff_attrs(&live, &attrs, &[]);
            if diffs
                .iter()
                .any(|d| d.attribute == "service_name" || d.attribute == "type")
            {
                self.push_member(
                    Change {
                        address,
                        action: Action::Replace,
                        reason: "an endpoint's service and type cannot change: replaced".into(),
                        diffs,
                        id: Some(id),
                        member: None,
                        project: None,
                        ops: vec![Op::Member(MemberOp::DeleteEndpoint), create_op],
                        record: Record::Upsert {
                            created: true,
                            attributes: attrs,
                        },
                        depends_on: vec![],
                    },
                    &ctx,
                );
                continue;
            }
            let Some(live_e) = member.endpoints.get(&id) else {
                continue;
            };
            let ids = |refs: &[Ref]| -> BTreeSet<String> {
                refs.iter()
                    .filter_map(|r| match r {
                        Ref::Id(i) => Some(i.clone()),
                        Ref::Address(_) => None,
                    })
                    .collect()
            };
            let diff_sets = |want: &[Ref], have: &BTreeSet<String>| -> (Vec<Ref>, Vec<String>) {
                let want_ids = ids(want);
                let add = want
                    .iter()
                    .filter(|r| !matches!(r, Ref::Id(i) if have.contains(i)))
                    .cloned()
                    .collect();
                let remove = have
                    .iter()
                    .filter(|h| !want_ids.contains(*h))
                    .cloned()
                    .collect();
                (add, remove)
            };
            let (add_subnets, remove_subnets) = diff_sets(&subnets, &live_e.subnet_ids);
            let (add_security_groups, remove_security_groups) =
                diff_sets(&sgs, &live_e.security_group_ids);
            let (add_route_tables, remove_route_tables) = diff_sets(&rts, &live_e.route_table_ids);
            let policy = diffs
                .iter()
                .any(|d| d.attribute == "policy")
                .then(|| e.policy.clone());
            let private_dns = diffs
                .iter()
                .any(|d| d.attribute == "private_dns")
                .then_some(e.private_dns);
            let mut ops = Vec::new();
            let modification = Op::Member(MemberOp::ModifyEndpoint {
                add_subnets,
                remove_subnets,
                add_security_groups,
                remove_security_groups,
                add_route_tables,
                remove_route_tables,
                policy,
                private_dns,
            });
            if modification
                != (Op::Member(MemberOp::ModifyEndpoint {
                    add_subnets: vec![],
                    remove_subnets: vec![],
                    add_security_groups: vec![],
                    remove_security_groups: vec![],
                    add_route_tables: vec![],
                    remove_route_tables: vec![],
                    policy: None,
                    private_dns: None,
                }))
            {
                ops.push(modification);
            }
            push_ec2_tag_ops(&mut ops, &diffs);
            self.existing_member_change(&ctx, address, id, diffs, ops, attrs);
        }
    }

    /// Existing managed children of a VPC (for a replacement).
    fn network_children(
        &self,
        ctx: &Ctx,
        net: &NetworkSpec,
        vpc_id: &str,
    ) -> Vec<(Address, String)> {
        let mut out = Vec::new();
        let Some(member) = self.live_member(ctx) else {
            return out;
        };
        for (address, rec) in &self.state.resources {
            if address.network() == Some(net.name.as_str())
                && !matches!(address, Address::Vpc(_))
                && rec.member == ctx.key
                && live_attrs(member, address, &rec.id).is_some()
            {
                out.push((address.clone(), rec.id.clone()));
            }
        }
        let _ = vpc_id;
        out
    }

    pub(crate) fn plan_keys(&mut self) {
        let keys: Vec<_> = self.desired.kms_keys.values().cloned().collect();
        for key in keys {
            let ctx = self.member_ctx(&key.account, &key.region);
            let address = Address::KmsKey(key.name.clone());
            let attrs = declared_attrs_with(self.desired, &address, ctx.account_id.as_deref())
                .unwrap_or_default();
            let tags = with_address_tag(&key.tags, &address);
            let Some((id, member)) = self.member_id(&ctx, &address).zip(self.live_member(&ctx))
            else {
                let mut ops = vec![Op::Member(MemberOp::CreateKey {
                    description: key.description.clone(),
                    policy: key.policy.clone(),
                    tags,
                })];
                if key.rotation {
                    ops.push(Op::Member(MemberOp::SetKeyRotation { enabled: true }));
                }
                if let Some(alias) = &key.alias {
                    ops.push(Op::Member(MemberOp::PutAlias {
                        alias: alias.clone(),
                    }));
                }
                self.create_change(&ctx, address, ops, attrs, None);
                continue;
            };
            let Some(live_key) = member.keys.get(&id) else {
                continue;
            };
            let mut live = live_attrs(member, &address, &id).unwrap_or_default();
            // The alias compared is the declared one if the key has it.
            if let Some(a) = &key.alias
                && live_key.aliases.contains(a)
            {
                live.insert("alias".into(), json!(a));
            }
            let diffs = diff_attrs(
                &live,
                &attrs,
                &["description", "policy", "rotation", "alias", "tags"],
            );
            let mut ops = Vec::new();
            if live_key.state == KeyState::PendingDeletion {
                ops.push(Op::Member(MemberOp::RestoreKey));
            }
            for d in &diffs {
                match d.attribute.as_str() {
                    "description" => ops.push(Op::Member(MemberOp::UpdateKeyDescription {
                        description: key.description.clone(),
                    })),
                    "policy" => ops.push(Op::Member(MemberOp::PutKeyPolicy {
                        policy: key.policy.clone(),
                    })),
                    "rotation" => ops.push(Op::Member(MemberOp::SetKeyRotation {
                        enabled: key.rotation,
                    })),
                    "alias" => {
                        if let Some(a) = &key.alias {
                            ops.push(Op::Member(MemberOp::PutAlias { alias: a.clone() }));
                        }
                        let recorded = self
                            .state
                            .resources
                            .get(&address)
                            .and_then(|r| r.attributes.get("alias"))
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        if let Some(old) = recorded.filter(|o| Some(o) != key.alias.as_ref())
                            && live_key.aliases.contains(&old)
                        {
                            ops.push(Op::Member(MemberOp::DeleteAlias { alias: old }));
                        }
                    }
                    _ => {}
                }
            }
            let (set, remove) = tag_changes(&diffs);
            if !set.is_empty() {
                ops.push(Op::Member(MemberOp::TagKey { tags: set }));
            }
            if !remove.is_empty() {
                ops.push(Op::Member(MemberOp::UntagKey { keys: remove }));
            }
            let mut diffs = diffs;
            if live_key.state == KeyState::PendingDeletion {
                diffs.push(AttrDiff {
                    attribute: "state".into(),
                    before: Some(json!("pending_deletion")),
                    after: Some(json!("enabled")),
                });
            }
            self.existing_member_change(&ctx, address, id, diffs, ops, attrs);
        }
    }

    /// Member resources in the state but no longer declared: deleted when Landfall
    /// created them (a key's deletion is scheduled), forgotten otherwise.
    pub(crate) fn plan_member_removals(&mut self) {
        let declared = self.desired.addresses();
        let records: Vec<(Address, ResourceRecord)> = self
            .state
            .resources
            .iter()
            .filter(|(a, r)| r.member.is_some() && !declared.contains(a))
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect();
        for (address, rec) in records {
            let Some((account_id, region)) = rec.member.as_ref().and_then(|m| m.split_once('/'))
            else {
                continue;
            };
            let ctx = Ctx {
                member: MemberRef {
                    account: Ref::Id(account_id.to_string()),
                    region: region.to_string(),
                },
                account_id: Some(account_id.to_string()),
                key: rec.member.clone(),
            };
            let alive = exists_live(self.live, Some(&rec), &address);
            if !alive || !rec.created {
                let reason = if alive {
                    "no longer declared; Landfall did not create it, so it is left in place"
                } else {
                    "no longer declared, and already gone live"
                };
                self.push_member(
                    Change {
                        address,
                        action: Action::Forget,
                        reason: reason.into(),
                        diffs: vec![],
                        id: Some(rec.id.clone()),
                        member: None,
                        project: None,
                        ops: vec![],
                        record: Record::Remove,
                        depends_on: vec![],
                    },
                    &ctx,
                );
                continue;
            }
            let Some(kind) = address.member_kind() else {
                continue;
            };
            let ops = delete_ops(kind, &rec.attributes);
            let reason = if let MemberKind::KmsKey(_) = kind {
                format!(
                    "no longer declared; Landfall created it: deletion scheduled in {} days (cancellable until then)",
                    key_deletion_window(&rec.attributes)
                )
            } else {
                "no longer declared; Landfall created it".into()
            };
            self.delete_change(&ctx, address, rec.id.clone(), ops, reason);
        }
    }

    /// An endpoint whose service changed is a new address; when one endpoint of a
    /// network goes and one comes, show it as the replacement it is.
    pub(crate) fn mark_endpoint_replacements(&mut self) {
        let mut per_network: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (i, c) in self.changes.iter().enumerate() {
            if let Address::Endpoint(n, _) = &c.address {
                let entry = per_network.entry(n.clone()).or_default();
                match c.action {
                    Action::Delete if self.state.resources.contains_key(&c.address) => {
                        entry.0.push(i)
                    }
                    Action::Create => entry.1.push(i),
                    _ => {}
                }
            }
        }
        for (deleted, created) in per_network.values() {
            if let ([d], [c]) = (deleted.as_slice(), created.as_slice()) {
                let old = self.changes[*d].address.clone();
                let new = self.changes[*c].address.clone();
                self.changes[*c].action = Action::Replace;
                self.changes[*c].reason = format!(
                    "replaces {old}: an endpoint's service cannot change, so a new endpoint is created and the old one deleted"
                );
                self.changes[*d].reason = format!("replaced by {new}");
            }
        }
    }

    /// With `prune_unmanaged`: delete endpoints created outside Landfall in managed VPCs.
    pub(crate) fn plan_member_prune(&mut self) {
        for (n, endpoint_id, ctx, service) in self.unmanaged_endpoints() {
            let address = Address::Endpoint(n, service);
            if self.state.resources.contains_key(&address)
                || self.changes.iter().any(|c| c.address == address)
            {
                continue;
            }
            self.delete_change(
                &ctx,
                address,
                endpoint_id,
                vec![Op::Member(MemberOp::DeleteEndpoint)],
                "created outside Landfall in a managed VPC (prune_unmanaged)".into(),
            );
        }
    }

    fn unmanaged_endpoints(&self) -> Vec<(String, String, Ctx, String)> {
        let mut out = Vec::new();
        for net in self.desired.networks.values() {
            let ctx = self.member_ctx(&net.account, &net.region);
            let Some(member) = self.live_member(&ctx) else {
                continue;
            };
            let Some(vpc_id) = self.member_id(&ctx, &Address::Vpc(net.name.clone())) else {
                continue;
            };
            let known: BTreeSet<String> = net
                .endpoints
                .keys()
                .filter_map(|s| {
                    self.member_id(&ctx, &Address::Endpoint(net.name.clone(), s.clone()))
                })
                .collect();
            for e in member.endpoints.values() {
                if e.vpc_id == vpc_id && !known.contains(&e.id) {
                    let prefix = format!("com.amazonaws.{}.", net.region);
                    let service = e
                        .service_name
                        .strip_prefix(&prefix)
                        .unwrap_or(&e.service_name)
                        .to_string();
                    out.push((
                        net.name.clone(),
                        e.id.clone(),
                        self.member_ctx(&net.account, &net.region),
                        service,
                    ));
                }
            }
        }
        out
    }
}

/// The operations that delete a member resource Landfall created. A KMS key is never
/// deleted at once: its alias goes and its deletion is scheduled (cancellable).
fn delete_ops(kind: MemberKind<'_>, recorded: &Attrs) -> Vec<Op> {
    let op = match kind {
        MemberKind::Endpoint(..) => MemberOp::DeleteEndpoint,
        MemberKind::Subnet(..) => MemberOp::DeleteSubnet,
        MemberKind::SecurityGroup(_) => MemberOp::DeleteSecurityGroup,
        MemberKind::RouteTable(_) => MemberOp::DeleteRouteTable,
        MemberKind::Vpc(_) => MemberOp::DeleteVpc,
        MemberKind::KmsKey(_) => {
            let mut ops = Vec::new();
            if let Some(alias) = recorded.get("alias").and_then(Value::as_str) {
                ops.push(Op::Member(MemberOp::DeleteAlias {
                    alias: alias.to_string(),
                }));
            }
            ops.push(Op::Member(MemberOp::ScheduleKeyDeletion {
                window_days: key_deletion_window(recorded),
            }));
            return ops;
        }
    };
    vec![Op::Member(op)]
}

/// The deletion window recorded for a key (AWS's default: 30 days).
fn key_deletion_window(recorded: &Attrs) -> u32 {
    recorded
        .get("deletion_window_days")
        .and_then(Value::as_u64)
        .and_then(|w| u32::try_from(w).ok())
        .unwrap_or(30)
}

fn push_ec2_tag_ops(ops: &mut Vec<Op>, diffs: &[AttrDiff]) {
    let (set, remove) = tag_changes(diffs);
    if !set.is_empty() {
        ops.push(Op::Member(MemberOp::TagEc2 { tags: set }));
    }
    if !remove.is_empty() {
        ops.push(Op::Member(MemberOp::UntagEc2 { keys: remove }));
    }
}

/// The member-account family's planner: networks and keys in each member account and
/// region.
pub(crate) struct MemberFamily;

impl PlanFamily for MemberFamily {
    fn declared_attrs(
        &self,
        desired: &DesiredState,
        address: &Address,
        account_id: Option<&str>,
    ) -> Option<Attrs> {
        declared_attrs_with(desired, address, account_id)
    }

    fn accepted_live(
        &self,
        live: &LiveState,
        _index: &LiveIndex<'_>,
        address: &Address,
        rec: &ResourceRecord,
    ) -> Option<Option<Attrs>> {
        // The member was not read: leave the record alone.
        let member = rec.member.as_ref().and_then(|m| live.members.get(m))?;
        Some(live_attrs(member, address, &rec.id).map(|mut a| {
            // Keep what live cannot tell (e.g. a key's deletion window).
            for (k, v) in &rec.attributes {
                a.entry(k.clone()).or_insert_with(|| v.clone());
            }
            a
        }))
    }

    fn plan(&self, p: &mut Planner<'_>) {
        p.plan_networks();
        p.plan_keys();
        p.plan_member_removals();
    }

    fn prune(&self, p: &mut Planner<'_>) {
        p.plan_member_prune();
    }

    fn review(&self, p: &mut Planner<'_>) {
        p.mark_endpoint_replacements();
    }

    fn edges(&self, p: &Planner<'_>) -> Vec<(usize, usize)> {
        member_edges(&p.changes)
    }

    fn drift(&self, live: &LiveState, state: &crate::state::StateFile) -> Vec<Finding> {
        drift_findings(live, state)
    }
}

/// Drift of member resources: recorded ones changed or missing, and endpoints created
/// outside Landfall in managed VPCs.
pub fn drift_findings(live: &LiveState, state: &crate::state::StateFile) -> Vec<Finding> {
    use crate::drift_report::DriftClass;
    let mut out = Vec::new();
    let mut managed_vpcs: BTreeMap<(String, String), String> = BTreeMap::new();
    let known_ids: BTreeSet<&str> = state
        .resources
        .values()
        .filter(|r| r.member.is_some())
        .map(|r| r.id.as_str())
        .collect();
    for (address, rec) in &state.resources {
        let Some(key) = &rec.member else { continue };
        let Some(member) = live.members.get(key) else {
            continue;
        };
        let Some(live_attrs) = live_attrs(member, address, &rec.id) else {
            out.push(Finding {
                class: DriftClass::Missing,
                address: address.clone(),
                id: Some(rec.id.clone()),
                control_tower_drift_type: None,
                message: format!("deleted outside Landfall (in {key})"),
                diffs: vec![],
            });
            continue;
        };
        if let Address::Vpc(_) = address {
            managed_vpcs.insert((key.clone(), rec.id.clone()), address.to_string());
        }
        // A key records its deletion window, which live cannot tell.
        let compare: &[&str] = match address.member_kind() {
            Some(MemberKind::KmsKey(_)) => &["description", "policy", "rotation", "alias", "tags"],
            Some(
                MemberKind::Vpc(_)
                | MemberKind::Subnet(..)
                | MemberKind::RouteTable(_)
                | MemberKind::SecurityGroup(_)
                | MemberKind::Endpoint(..),
            )
            | None => &[],
        };
        let mut live_attrs = live_attrs;
        if let (Address::KmsKey(_), Some(k)) = (address, member.keys.get(&rec.id)) {
            if let Some(a) = rec.attributes.get("alias").and_then(Value::as_str)
                && k.aliases.contains(a)
            {
                live_attrs.insert("alias".into(), json!(a));
            }
            if k.state == KeyState::PendingDeletion {
                out.push(Finding {
                    class: DriftClass::Changed,
                    address: address.clone(),
                    id: Some(rec.id.clone()),
                    control_tower_drift_type: None,
                    message: "its deletion was scheduled outside Landfall".into(),
                    diffs: vec![],
                });
            }
        }
        let diffs = diff_attrs(&rec.attributes, &live_attrs, compare);
        if !diffs.is_empty() {
            out.push(Finding {
                class: DriftClass::Changed,
                address: address.clone(),
                id: Some(rec.id.clone()),
                control_tower_drift_type: None,
                message: "changed outside Landfall".into(),
                diffs,
            });
        }
    }
    for ((key, vpc_id), vpc_address) in &managed_vpcs {
        let Some(member) = live.members.get(key) else {
            continue;
        };
        let network = vpc_address.trim_start_matches("vpc.");
        for e in member.endpoints.values() {
            if e.vpc_id == *vpc_id && !known_ids.contains(e.id.as_str()) {
                let region = key.split_once('/').map(|(_, r)| r).unwrap_or("");
                let prefix = format!("com.amazonaws.{region}.");
                let service = e
                    .service_name
                    .strip_prefix(&prefix)
                    .unwrap_or(&e.service_name);
                out.push(Finding {
                    class: DriftClass::Unmanaged,
                    address: Address::Endpoint(network.to_string(), service.to_string()),
                    id: Some(e.id.clone()),
                    control_tower_drift_type: None,
                    message: format!("an endpoint created outside Landfall in {vpc_address}"),
                    diffs: vec![],
                });
            }
        }
    }
    out
}
