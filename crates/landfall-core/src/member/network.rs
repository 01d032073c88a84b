//! Planning declared networks: the VPC (a new CIDR replaces it and everything in it
//! when Landfall created them all; a plan problem otherwise, as Landfall deletes only
//! what it created), subnets, the route table gateway endpoints use, the security
//! group interface endpoints use, and the endpoints (service and type replace, the
//! rest in place).

use std::collections::{BTreeMap, BTreeSet};

use crate::address::Address;
use crate::attrs::{AttrDiff, Attrs, diff_attrs, tag_changes};
use crate::live::LiveMember;
use crate::model::{EndpointKind, NetworkSpec};
use crate::plan::{Action, Change, MemberOp, Op, Record, Ref};
use crate::planner::Planner;

use super::attrs::{declared_attrs_with, endpoint_subnets, live_attrs};
use super::changes::{delete_ops, with_address_tag};
use super::matching::Ctx;

fn security_group_name(network: &str) -> String {
    format!("landfall-{network}-endpoints")
}

impl Planner<'_> {
    pub(super) fn plan_networks(&mut self) {
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
        // The children a replacement deletes: created again in the new VPC.
        let mut replaced: BTreeSet<Address> = BTreeSet::new();
        match (&vpc_id, self.live_member(&ctx)) {
            (Some(id), Some(member)) => {
                let live = live_attrs(member, &vpc_address, id).unwrap_or_default();
                let diffs = diff_attrs(&live, &vpc_attrs, &[]);
                if diffs.iter().any(|d| d.attribute == "cidr") {
                    // Everything inside goes first (ranked edges), then the VPC is
                    // recreated and its contents created again. Landfall deletes only
                    // what it created: a VPC it adopted, or one holding what it
                    // adopted, stops the plan instead.
                    let children = self.network_children(&ctx, net);
                    if !self.replaceable(net, id, member, &children) {
                        return;
                    }
                    replacing = true;
                    for (address, child_id) in children {
                        let ops = address
                            .member_kind()
                            .map(|kind| delete_ops(kind, &Attrs::new()))
                            .unwrap_or_default();
                        replaced.insert(address.clone());
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
        // Why a child of a replaced VPC is created: this plan deletes the old one (the
        // default reason would say it was deleted outside Landfall).
        let again = |a: &Address| {
            replaced
                .contains(a)
                .then(|| format!("its VPC vpc.{n} is replaced: created again in the new VPC"))
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
                    let reason = again(&address);
                    self.create_change(&ctx, address, ops, attrs, reason);
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
                let reason = again(&rt_address);
                self.create_change(&ctx, rt_address.clone(), ops, rt_attrs, reason);
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
                let reason = again(&sg_address);
                self.create_change(&ctx, sg_address.clone(), ops, sg_attrs, reason);
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
                let reason = again(&address);
                self.create_change(&ctx, address, vec![create_op], attrs, reason);
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

    /// Existing managed children of a VPC (for a replacement): the network's recorded
    /// resources in the same member account that are still live.
    fn network_children(&self, ctx: &Ctx, net: &NetworkSpec) -> Vec<(Address, String)> {
        let Some(member) = self.live_member(ctx) else {
            return Vec::new();
        };
        self.state
            .resources
            .iter()
            .filter(|(address, rec)| {
                address.network() == Some(net.name.as_str())
                    && !matches!(address, Address::Vpc(_))
                    && rec.member == ctx.key
                    && live_attrs(member, address, &rec.id).is_some()
            })
            .map(|(address, rec)| (address.clone(), rec.id.clone()))
            .collect()
    }

    /// Whether Landfall created this live resource: the state records it as created,
    /// or, not recorded with this id, an interrupted apply was creating it.
    fn created_by_landfall(&self, address: &Address, id: &str) -> bool {
        if self.in_state(address, id) {
            self.created_flag(address)
        } else {
            self.state.pending_creates.contains(address)
        }
    }

    /// A CIDR change replaces the VPC, which deletes it and everything in it. Landfall
    /// deletes only what it created, so when it adopted the VPC (or something in it)
    /// the change is a problem on the VPC instead, with the ways out.
    fn replaceable(
        &mut self,
        net: &NetworkSpec,
        vpc_id: &str,
        member: &LiveMember,
        children: &[(Address, String)],
    ) -> bool {
        let n = &net.name;
        let vpc_address = Address::Vpc(n.clone());
        let live_cidr = member
            .vpcs
            .get(vpc_id)
            .map_or_else(|| "?".to_string(), |v| v.cidr.clone());
        let cannot = format!(
            "the CIDR of a VPC cannot change ({live_cidr} -> {}), and replacing {vpc_id} would delete it",
            net.cidr
        );
        if !self.created_by_landfall(&vpc_address, vpc_id) {
            let hint = format!(
                "declare the live CIDR {live_cidr} to keep this VPC; or recreate the network under Landfall: remove [network.{n}] from the file (Landfall forgets the VPC and what it adopted in it, and deletes what it created in it) and declare the new network under another name (the old VPC keeps its landfall:address tag, so the same name finds it again)"
            );
            self.problem(
                vpc_address,
                format!(
                    "{cannot}, but Landfall adopted this VPC (it did not create it) and deletes only what it created"
                ),
                Some(&hint),
            );
            return false;
        }
        let adopted: Vec<String> = children
            .iter()
            .filter(|(a, id)| !self.created_by_landfall(a, id))
            .map(|(a, id)| format!("{a} ({id})"))
            .collect();
        if !adopted.is_empty() {
            let hint = format!(
                "declare the live CIDR {live_cidr} to keep this VPC; or delete those resources outside Landfall first (the VPC cannot be deleted while they are in it; the plan then creates the declared ones in the new VPC)"
            );
            self.problem(
                vpc_address,
                format!(
                    "{cannot} and what is in it, including what Landfall adopted: {}; Landfall deletes only what it created",
                    adopted.join(", ")
                ),
                Some(&hint),
            );
            return false;
        }
        true
    }
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
