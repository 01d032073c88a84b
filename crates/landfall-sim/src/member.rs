//! Member accounts: the networks (EC2) and customer-managed keys (KMS) of one account
//! and region, and the rules EC2 and KMS enforce on them.
//!
//! Like [`crate::world`], everything here is synchronous and free of I/O and faults,
//! and every mutating method validates first and changes nothing when it refuses.
//! [`crate::world::World::with_member`] checks that the account can be entered (it
//! exists and is active) and hands the rules a [`Member`]: the account/region's data
//! plus the world's id source and quotas.
//!
//! Simplifications, all invisible to Landfall: a VPC has no main route table and no
//! default security group (AWS creates both; Landfall never manages them), so every
//! route table and group listed is one somebody created; security groups only hold
//! TCP 443 ingress rules from IPv4 CIDRs; a key's deletion never completes (keys
//! pending deletion stay listed, as during AWS's waiting period).
//!
//! Error codes follow EC2 and KMS: `InvalidVpcID.NotFound`, `InvalidSubnet.Range`,
//! `DependencyViolation`, `KMSInvalidStateException`, ... The [`ErrorKind`] is what
//! the executor reacts to; the code starts the message.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use landfall_core::live::{
    KeyState, LiveEndpoint, LiveKey, LiveMember, LiveRouteTable, LiveSecurityGroup, LiveSubnet,
    LiveVpc,
};
use landfall_core::model::{EndpointKind, Quotas, Tags};
use landfall_engine::provider::{EndpointModification, EndpointRequest, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::ids::IdSource;
use crate::world::{Denied, Rule};

/// The policy AWS gives a VPC endpoint created without one (and returns when
/// describing it), minified.
pub const DEFAULT_ENDPOINT_POLICY: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
/// The role named in "cannot assume" errors unless the backend is told another.
pub const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
/// EC2 and KMS allow at most 50 tags per resource.
pub const MAX_MEMBER_TAGS: usize = 50;
/// Inbound rules per security group (AWS default quota).
pub const MAX_INGRESS_RULES: usize = 60;
/// `ScheduleKeyDeletion`'s waiting period bounds, in days.
pub const KEY_DELETION_WINDOW: std::ops::RangeInclusive<u32> = 7..=30;
/// Smallest and largest VPC and subnet blocks.
const BLOCK_PREFIXES: std::ops::RangeInclusive<u8> = 16..=28;

/// A customer-managed key as KMS keeps it. Aliases live in [`MemberWorld::aliases`];
/// [`LiveKey::aliases`] is derived from them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimKey {
    pub id: String,
    pub description: String,
    pub policy: String,
    pub rotation: bool,
    pub state: KeyState,
    #[serde(default)]
    pub tags: Tags,
    /// The waiting period of a scheduled deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_window_days: Option<u32>,
}

/// Everything in one member account and region, exactly as the world file holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberWorld {
    #[serde(default)]
    pub vpcs: BTreeMap<String, LiveVpc>,
    #[serde(default)]
    pub subnets: BTreeMap<String, LiveSubnet>,
    #[serde(default)]
    pub route_tables: BTreeMap<String, LiveRouteTable>,
    #[serde(default)]
    pub security_groups: BTreeMap<String, LiveSecurityGroup>,
    #[serde(default)]
    pub endpoints: BTreeMap<String, LiveEndpoint>,
    #[serde(default)]
    pub keys: BTreeMap<String, SimKey>,
    /// Alias name (`alias/...`) → key id.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
}

impl MemberWorld {
    pub fn is_empty(&self) -> bool {
        self.vpcs.is_empty()
            && self.subnets.is_empty()
            && self.route_tables.is_empty()
            && self.security_groups.is_empty()
            && self.endpoints.is_empty()
            && self.keys.is_empty()
            && self.aliases.is_empty()
    }

    /// What `refresh_member` returns.
    pub fn to_live(&self) -> LiveMember {
        let mut keys: BTreeMap<String, LiveKey> = self
            .keys
            .values()
            .map(|k| {
                (
                    k.id.clone(),
                    LiveKey {
                        id: k.id.clone(),
                        description: k.description.clone(),
                        policy: k.policy.clone(),
                        rotation: k.rotation,
                        state: k.state,
                        aliases: BTreeSet::new(),
                        tags: k.tags.clone(),
                    },
                )
            })
            .collect();
        for (alias, key_id) in &self.aliases {
            if let Some(key) = keys.get_mut(key_id) {
                key.aliases.insert(alias.clone());
            }
        }
        LiveMember {
            vpcs: self.vpcs.clone(),
            subnets: self.subnets.clone(),
            route_tables: self.route_tables.clone(),
            security_groups: self.security_groups.clone(),
            endpoints: self.endpoints.clone(),
            keys,
        }
    }

    /// Checks the references a loaded file must keep (for a "corrupt world" message).
    pub fn check(&self) -> Result<(), String> {
        let vpc = |what: &str, id: &str, vpc_id: &str| {
            if self.vpcs.contains_key(vpc_id) {
                Ok(())
            } else {
                Err(format!("{what} {id} is in unknown VPC {vpc_id}"))
            }
        };
        for s in self.subnets.values() {
            vpc("subnet", &s.id, &s.vpc_id)?;
        }
        for rt in self.route_tables.values() {
            vpc("route table", &rt.id, &rt.vpc_id)?;
            if let Some(s) = rt
                .subnet_ids
                .iter()
                .find(|s| !self.subnets.contains_key(*s))
            {
                return Err(format!(
                    "route table {} is associated with unknown subnet {s}",
                    rt.id
                ));
            }
        }
        for sg in self.security_groups.values() {
            vpc("security group", &sg.id, &sg.vpc_id)?;
        }
        for e in self.endpoints.values() {
            vpc("endpoint", &e.id, &e.vpc_id)?;
            let unknown = e
                .subnet_ids
                .iter()
                .find(|s| !self.subnets.contains_key(*s))
                .or_else(|| {
                    e.security_group_ids
                        .iter()
                        .find(|g| !self.security_groups.contains_key(*g))
                })
                .or_else(|| {
                    e.route_table_ids
                        .iter()
                        .find(|r| !self.route_tables.contains_key(*r))
                });
            if let Some(id) = unknown {
                return Err(format!("endpoint {} uses unknown resource {id}", e.id));
            }
        }
        if let Some((alias, key)) = self
            .aliases
            .iter()
            .find(|(_, k)| !self.keys.contains_key(*k))
        {
            return Err(format!("alias {alias} points at unknown key {key}"));
        }
        Ok(())
    }

    fn has_ec2_id(&self, id: &str) -> bool {
        self.vpcs.contains_key(id)
            || self.subnets.contains_key(id)
            || self.route_tables.contains_key(id)
            || self.security_groups.contains_key(id)
            || self.endpoints.contains_key(id)
    }
}

/// One member account and region, as a rule sees it.
pub struct Member<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub data: &'a mut MemberWorld,
    pub ids: &'a mut IdSource,
    pub quotas: &'a Quotas,
}

impl Member<'_> {
    fn fresh_ec2(&mut self, make: fn(&mut IdSource) -> String) -> String {
        loop {
            let id = make(self.ids);
            if !self.data.has_ec2_id(&id) {
                return id;
            }
        }
    }

    // ---- lookups (NotFound with EC2's codes) -----------------------------------------

    fn vpc(&self, vpc_id: &str) -> Rule<&LiveVpc> {
        self.data.vpcs.get(vpc_id).ok_or_else(|| {
            not_found(
                "InvalidVpcID.NotFound",
                format!("The vpc ID '{vpc_id}' does not exist"),
            )
        })
    }

    fn subnet(&self, subnet_id: &str) -> Rule<&LiveSubnet> {
        self.data.subnets.get(subnet_id).ok_or_else(|| {
            not_found(
                "InvalidSubnetID.NotFound",
                format!("The subnet ID '{subnet_id}' does not exist"),
            )
        })
    }

    fn route_table(&self, rt_id: &str) -> Rule<&LiveRouteTable> {
        self.data.route_tables.get(rt_id).ok_or_else(|| {
            not_found(
                "InvalidRouteTableID.NotFound",
                format!("The routeTable ID '{rt_id}' does not exist"),
            )
        })
    }

    fn group(&self, group_id: &str) -> Rule<&LiveSecurityGroup> {
        self.data.security_groups.get(group_id).ok_or_else(|| {
            not_found(
                "InvalidGroup.NotFound",
                format!("The security group '{group_id}' does not exist"),
            )
        })
    }

    fn endpoint(&self, endpoint_id: &str) -> Rule<&LiveEndpoint> {
        self.data.endpoints.get(endpoint_id).ok_or_else(|| {
            not_found(
                "InvalidVpcEndpointId.NotFound",
                format!("The Vpc Endpoint Id '{endpoint_id}' does not exist"),
            )
        })
    }

    // ---- VPCs --------------------------------------------------------------------------

    /// `CreateVpc`: an IPv4 block between /16 and /28.
    pub fn create_vpc(&mut self, cidr: &str, tags: &Tags) -> Rule<String> {
        check_ec2_tags(&Tags::new(), tags)?;
        let block = parse_block(cidr, "InvalidVpc.Range")?;
        let id = self.fresh_ec2(IdSource::vpc);
        self.data.vpcs.insert(
            id.clone(),
            LiveVpc {
                id: id.clone(),
                cidr: block.to_string(),
                tags: tags.clone(),
            },
        );
        Ok(id)
    }

    /// `DeleteVpc`: only once its subnets, endpoints, route tables and security
    /// groups are gone (`DependencyViolation` otherwise).
    pub fn delete_vpc(&mut self, vpc_id: &str) -> Rule<()> {
        self.vpc(vpc_id)?;
        let d = &*self.data;
        let subnets = d.subnets.values().filter(|s| s.vpc_id == vpc_id).count();
        let endpoints = d.endpoints.values().filter(|e| e.vpc_id == vpc_id).count();
        let tables = d
            .route_tables
            .values()
            .filter(|r| r.vpc_id == vpc_id)
            .count();
        let groups = d
            .security_groups
            .values()
            .filter(|g| g.vpc_id == vpc_id)
            .count();
        if subnets + endpoints + tables + groups > 0 {
            return Err(Denied::new(
                ErrorKind::DependencyViolation,
                format!(
                    "DependencyViolation: The vpc '{vpc_id}' has dependencies and cannot be deleted \
                     ({subnets} subnet(s), {endpoints} endpoint(s), {tables} route table(s), \
                     {groups} security group(s))"
                ),
            ));
        }
        self.data.vpcs.remove(vpc_id);
        Ok(())
    }

    // ---- subnets -----------------------------------------------------------------------

    /// `CreateSubnet`: in an availability zone of the scope's region, a block inside
    /// the VPC's that overlaps no other subnet of the VPC.
    pub fn create_subnet(
        &mut self,
        vpc_id: &str,
        az: &str,
        cidr: &str,
        tags: &Tags,
    ) -> Rule<String> {
        check_ec2_tags(&Tags::new(), tags)?;
        let vpc = self.vpc(vpc_id)?;
        check_az(self.region, az)?;
        let block = parse_block(cidr, "InvalidSubnet.Range")?;
        let vpc_block = stored_block(&vpc.cidr)?;
        if !vpc_block.contains(&block) {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "InvalidSubnet.Range: The CIDR '{cidr}' is invalid: it is not within the \
                     block {} of {vpc_id}",
                    vpc.cidr
                ),
            ));
        }
        for other in self.data.subnets.values().filter(|s| s.vpc_id == vpc_id) {
            if stored_block(&other.cidr).is_ok_and(|b| overlaps(&b, &block)) {
                return Err(Denied::new(
                    ErrorKind::Other("InvalidSubnet.Conflict".into()),
                    format!(
                        "InvalidSubnet.Conflict: The CIDR '{cidr}' conflicts with another subnet \
                         ({} {})",
                        other.id, other.cidr
                    ),
                ));
            }
        }
        let id = self.fresh_ec2(IdSource::subnet);
        self.data.subnets.insert(
            id.clone(),
            LiveSubnet {
                id: id.clone(),
                vpc_id: vpc_id.to_string(),
                az: az.to_string(),
                cidr: block.to_string(),
                tags: tags.clone(),
            },
        );
        Ok(id)
    }

    /// `DeleteSubnet`: refused while an interface endpoint has a network interface in
    /// it; its route table association goes with it.
    pub fn delete_subnet(&mut self, subnet_id: &str) -> Rule<()> {
        self.subnet(subnet_id)?;
        if let Some(e) = self
            .data
            .endpoints
            .values()
            .find(|e| e.subnet_ids.contains(subnet_id))
        {
            return Err(Denied::new(
                ErrorKind::DependencyViolation,
                format!(
                    "DependencyViolation: The subnet '{subnet_id}' has dependencies and cannot be \
                     deleted (endpoint {} has a network interface in it)",
                    e.id
                ),
            ));
        }
        for rt in self.data.route_tables.values_mut() {
            rt.subnet_ids.remove(subnet_id);
        }
        self.data.subnets.remove(subnet_id);
        Ok(())
    }

    // ---- route tables ------------------------------------------------------------------

    /// `CreateRouteTable`.
    pub fn create_route_table(&mut self, vpc_id: &str, tags: &Tags) -> Rule<String> {
        check_ec2_tags(&Tags::new(), tags)?;
        self.vpc(vpc_id)?;
        let id = self.fresh_ec2(IdSource::route_table);
        self.data.route_tables.insert(
            id.clone(),
            LiveRouteTable {
                id: id.clone(),
                vpc_id: vpc_id.to_string(),
                subnet_ids: BTreeSet::new(),
                tags: tags.clone(),
            },
        );
        Ok(id)
    }

    /// `AssociateRouteTable`: a subnet of the same VPC. A subnet has at most one
    /// explicit association, so associating it again moves it here (what
    /// `ReplaceRouteTableAssociation` does on AWS); associating it with the table it
    /// is already on is a no-op.
    pub fn associate_route_table(&mut self, rt_id: &str, subnet_id: &str) -> Rule<()> {
        let rt = self.route_table(rt_id)?;
        let subnet = self.subnet(subnet_id)?;
        if rt.vpc_id != subnet.vpc_id {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "InvalidParameterValue: route table {rt_id} and subnet {subnet_id} belong to \
                     different networks ({} and {})",
                    rt.vpc_id, subnet.vpc_id
                ),
            ));
        }
        for other in self.data.route_tables.values_mut() {
            other.subnet_ids.remove(subnet_id);
        }
        if let Some(rt) = self.data.route_tables.get_mut(rt_id) {
            rt.subnet_ids.insert(subnet_id.to_string());
        }
        Ok(())
    }

    /// `DisassociateRouteTable` (by subnet): the subnet falls back to the VPC's main
    /// route table. Not part of the provider interface; for out-of-band changes.
    pub fn disassociate_route_table(&mut self, subnet_id: &str) -> Rule<()> {
        self.subnet(subnet_id)?;
        let Some(rt) = self
            .data
            .route_tables
            .values_mut()
            .find(|rt| rt.subnet_ids.contains(subnet_id))
        else {
            return Err(not_found(
                "InvalidAssociationID.NotFound",
                format!("subnet '{subnet_id}' has no explicit route table association"),
            ));
        };
        rt.subnet_ids.remove(subnet_id);
        Ok(())
    }

    /// `DeleteRouteTable`: refused while subnets are explicitly associated with it or
    /// a gateway endpoint routes through it.
    pub fn delete_route_table(&mut self, rt_id: &str) -> Rule<()> {
        let rt = self.route_table(rt_id)?;
        if !rt.subnet_ids.is_empty() {
            return Err(Denied::new(
                ErrorKind::DependencyViolation,
                format!(
                    "DependencyViolation: The routeTable '{rt_id}' has dependencies and cannot be \
                     deleted ({} subnet association(s))",
                    rt.subnet_ids.len()
                ),
            ));
        }
        if let Some(e) = self
            .data
            .endpoints
            .values()
            .find(|e| e.route_table_ids.contains(rt_id))
        {
            return Err(Denied::new(
                ErrorKind::DependencyViolation,
                format!(
                    "DependencyViolation: The routeTable '{rt_id}' has dependencies and cannot be \
                     deleted (gateway endpoint {} routes through it)",
                    e.id
                ),
            ));
        }
        self.data.route_tables.remove(rt_id);
        Ok(())
    }

    // ---- security groups ---------------------------------------------------------------

    /// `CreateSecurityGroup` + `AuthorizeSecurityGroupIngress` (TCP 443 from
    /// `ingress_cidr`). Names are unique per VPC.
    pub fn create_security_group(
        &mut self,
        vpc_id: &str,
        name: &str,
        description: &str,
        ingress_cidr: &str,
        tags: &Tags,
    ) -> Rule<String> {
        check_ec2_tags(&Tags::new(), tags)?;
        self.vpc(vpc_id)?;
        check_group_text("group name", name)?;
        check_group_text("group description", description)?;
        if name.to_ascii_lowercase().starts_with("sg-") {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!("InvalidParameterValue: group name {name:?} cannot start with `sg-`"),
            ));
        }
        if name == "default" {
            return Err(Denied::new(
                ErrorKind::Other("InvalidGroup.Reserved".into()),
                "InvalidGroup.Reserved: the name `default` is reserved for the VPC's default group",
            ));
        }
        if self
            .data
            .security_groups
            .values()
            .any(|g| g.vpc_id == vpc_id && g.name == name)
        {
            return Err(Denied::new(
                ErrorKind::Other("InvalidGroup.Duplicate".into()),
                format!(
                    "InvalidGroup.Duplicate: The security group '{name}' already exists for VPC '{vpc_id}'"
                ),
            ));
        }
        let block = parse_rule_cidr(ingress_cidr)?;
        let id = self.fresh_ec2(IdSource::security_group);
        self.data.security_groups.insert(
            id.clone(),
            LiveSecurityGroup {
                id: id.clone(),
                vpc_id: vpc_id.to_string(),
                name: name.to_string(),
                ingress_443: BTreeSet::from([block.to_string()]),
                tags: tags.clone(),
            },
        );
        Ok(id)
    }

    /// `AuthorizeSecurityGroupIngress` / `RevokeSecurityGroupIngress` for TCP 443:
    /// adding a rule that exists is `InvalidPermission.Duplicate`, removing one that
    /// does not is `InvalidPermission.NotFound`, as on AWS.
    pub fn set_security_group_ingress(
        &mut self,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Rule<()> {
        let group = self.group(group_id)?;
        let mut adding = BTreeSet::new();
        for cidr in add {
            adding.insert(parse_rule_cidr(cidr)?.to_string());
        }
        let removing: BTreeSet<String> = remove.iter().cloned().collect();
        if let Some(both) = adding.intersection(&removing).next() {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "InvalidParameterValue: {both} is both added to and removed from {group_id}"
                ),
            ));
        }
        if let Some(dup) = adding.iter().find(|c| group.ingress_443.contains(*c)) {
            return Err(Denied::new(
                ErrorKind::Other("InvalidPermission.Duplicate".into()),
                format!(
                    "InvalidPermission.Duplicate: the specified rule \"peer: {dup}, TCP, from port: \
                     443, to port: 443, ALLOW\" already exists in {group_id}"
                ),
            ));
        }
        if let Some(missing) = removing.iter().find(|c| !group.ingress_443.contains(*c)) {
            return Err(Denied::new(
                ErrorKind::Other("InvalidPermission.NotFound".into()),
                format!(
                    "InvalidPermission.NotFound: {group_id} has no rule allowing TCP 443 from {missing}"
                ),
            ));
        }
        let total = (group.ingress_443.len() + adding.len()).saturating_sub(removing.len());
        if total > MAX_INGRESS_RULES {
            return Err(Denied::new(
                ErrorKind::Other("RulesPerSecurityGroupLimitExceeded".into()),
                format!(
                    "RulesPerSecurityGroupLimitExceeded: {group_id} would have {total} inbound rules; \
                     the limit is {MAX_INGRESS_RULES}"
                ),
            ));
        }
        if let Some(group) = self.data.security_groups.get_mut(group_id) {
            group.ingress_443.retain(|c| !removing.contains(c));
            group.ingress_443.extend(adding);
        }
        Ok(())
    }

    /// `DeleteSecurityGroup`: refused while an endpoint uses the group.
    pub fn delete_security_group(&mut self, group_id: &str) -> Rule<()> {
        self.group(group_id)?;
        if let Some(e) = self
            .data
            .endpoints
            .values()
            .find(|e| e.security_group_ids.contains(group_id))
        {
            return Err(Denied::new(
                ErrorKind::DependencyViolation,
                format!(
                    "DependencyViolation: resource {group_id} has a dependent object (endpoint {})",
                    e.id
                ),
            ));
        }
        self.data.security_groups.remove(group_id);
        Ok(())
    }

    // ---- VPC endpoints -----------------------------------------------------------------

    /// Subnets, groups, route tables and private DNS fit the endpoint's kind and VPC.
    fn check_endpoint_shape(
        &self,
        vpc_id: &str,
        kind: EndpointKind,
        subnet_ids: &BTreeSet<String>,
        group_ids: &BTreeSet<String>,
        route_table_ids: &BTreeSet<String>,
        private_dns: bool,
    ) -> Rule<()> {
        let invalid = |message: String| {
            Err(Denied::new(
                ErrorKind::InvalidInput,
                format!("InvalidParameter: {message}"),
            ))
        };
        let other_vpc = |what: &str, id: &str, in_vpc: &str| {
            invalid(format!(
                "{what} {id} is in {in_vpc}, not in the endpoint's VPC {vpc_id}"
            ))
        };
        match kind {
            EndpointKind::Interface => {
                if !route_table_ids.is_empty() {
                    return invalid("route tables can only be given for gateway endpoints".into());
                }
                if subnet_ids.is_empty() {
                    return invalid("an interface endpoint needs at least one subnet".into());
                }
                let mut zones: BTreeMap<&str, &str> = BTreeMap::new();
                for id in subnet_ids {
                    let subnet = self.subnet(id)?;
                    if subnet.vpc_id != vpc_id {
                        return other_vpc("subnet", id, &subnet.vpc_id);
                    }
                    if let Some(first) = zones.insert(&subnet.az, id) {
                        return Err(Denied::new(
                            ErrorKind::InvalidInput,
                            format!(
                                "DuplicateSubnetsInSameZone: subnets {first} and {id} are both in {}; \
                                 an endpoint takes at most one subnet per availability zone",
                                subnet.az
                            ),
                        ));
                    }
                }
                for id in group_ids {
                    let group = self.group(id)?;
                    if group.vpc_id != vpc_id {
                        return other_vpc("security group", id, &group.vpc_id);
                    }
                }
            }
            EndpointKind::Gateway => {
                if !subnet_ids.is_empty() || !group_ids.is_empty() {
                    return invalid(
                        "subnets and security groups can only be given for interface endpoints"
                            .into(),
                    );
                }
                if private_dns {
                    return invalid(
                        "private DNS can only be enabled on interface endpoints".into(),
                    );
                }
                for id in route_table_ids {
                    let rt = self.route_table(id)?;
                    if rt.vpc_id != vpc_id {
                        return other_vpc("route table", id, &rt.vpc_id);
                    }
                }
            }
        }
        Ok(())
    }

    /// `CreateVpcEndpoint`. A VPC takes one endpoint of a kind per service: a second
    /// gateway endpoint is `RouteAlreadyExists`, a second interface endpoint
    /// `InvalidParameter` (AWS's conflicting private DNS domain). Interface endpoints
    /// per VPC are capped by `quotas.interface_endpoints_per_vpc`. Without a policy
    /// the endpoint gets (and reports) AWS's default full-access policy.
    pub fn create_endpoint(&mut self, request: &EndpointRequest) -> Rule<String> {
        check_ec2_tags(&Tags::new(), &request.tags)?;
        let vpc_id = request.vpc_id.as_str();
        self.vpc(vpc_id)?;
        check_service(self.region, &request.service_name, request.kind)?;
        let subnets: BTreeSet<String> = request.subnet_ids.iter().cloned().collect();
        let groups: BTreeSet<String> = request.security_group_ids.iter().cloned().collect();
        let tables: BTreeSet<String> = request.route_table_ids.iter().cloned().collect();
        self.check_endpoint_shape(
            vpc_id,
            request.kind,
            &subnets,
            &groups,
            &tables,
            request.private_dns,
        )?;
        let policy = match &request.policy {
            Some(doc) => {
                check_endpoint_policy(doc, self.quotas.endpoint_policy_max_chars)?;
                doc.clone()
            }
            None => DEFAULT_ENDPOINT_POLICY.to_string(),
        };
        let in_vpc = || self.data.endpoints.values().filter(|e| e.vpc_id == vpc_id);
        if let Some(existing) =
            in_vpc().find(|e| e.service_name == request.service_name && e.kind == request.kind)
        {
            return Err(match request.kind {
                EndpointKind::Gateway => Denied::new(
                    ErrorKind::Other("RouteAlreadyExists".into()),
                    format!(
                        "RouteAlreadyExists: gateway endpoint {} already routes {} in {vpc_id}",
                        existing.id, request.service_name
                    ),
                ),
                EndpointKind::Interface => Denied::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "InvalidParameter: there is already a conflicting DNS domain for {} in the \
                         VPC {vpc_id} (endpoint {})",
                        request.service_name, existing.id
                    ),
                ),
            });
        }
        if request.kind == EndpointKind::Interface {
            let count = in_vpc()
                .filter(|e| e.kind == EndpointKind::Interface)
                .count();
            let limit = self.quotas.interface_endpoints_per_vpc;
            if count >= limit {
                return Err(Denied::new(
                    ErrorKind::ConstraintViolation("VpcEndpointLimitExceeded".into()),
                    format!(
                        "VpcEndpointLimitExceeded: {vpc_id} already has {count} interface endpoints; \
                         the limit is {limit}"
                    ),
                ));
            }
        }
        let id = self.fresh_ec2(IdSource::vpc_endpoint);
        self.data.endpoints.insert(
            id.clone(),
            LiveEndpoint {
                id: id.clone(),
                vpc_id: vpc_id.to_string(),
                service_name: request.service_name.clone(),
                kind: request.kind,
                private_dns: request.private_dns,
                subnet_ids: subnets,
                security_group_ids: groups,
                route_table_ids: tables,
                policy: Some(policy),
                tags: request.tags.clone(),
            },
        );
        Ok(id)
    }

    /// `ModifyVpcEndpoint`: the same checks as creation on the result. Adding what is
    /// already there is a no-op; removing what is not there is `InvalidParameter`.
    pub fn modify_endpoint(
        &mut self,
        endpoint_id: &str,
        change: &EndpointModification,
    ) -> Rule<()> {
        let endpoint = self.endpoint(endpoint_id)?;
        let apply = |current: &BTreeSet<String>, add: &[String], remove: &[String], what: &str| {
            let mut next = current.clone();
            for id in remove {
                if !next.remove(id) {
                    return Err(Denied::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "InvalidParameter: {what} {id} is not part of endpoint {endpoint_id}"
                        ),
                    ));
                }
            }
            next.extend(add.iter().cloned());
            Ok(next)
        };
        let subnets = apply(
            &endpoint.subnet_ids,
            &change.add_subnet_ids,
            &change.remove_subnet_ids,
            "subnet",
        )?;
        let groups = apply(
            &endpoint.security_group_ids,
            &change.add_security_group_ids,
            &change.remove_security_group_ids,
            "security group",
        )?;
        let tables = apply(
            &endpoint.route_table_ids,
            &change.add_route_table_ids,
            &change.remove_route_table_ids,
            "route table",
        )?;
        let private_dns = change.private_dns.unwrap_or(endpoint.private_dns);
        self.check_endpoint_shape(
            &endpoint.vpc_id,
            endpoint.kind,
            &subnets,
            &groups,
            &tables,
            private_dns,
        )?;
        let policy = match &change.policy {
            Some(Some(doc)) => {
                check_endpoint_policy(doc, self.quotas.endpoint_policy_max_chars)?;
                Some(doc.clone())
            }
            Some(None) => Some(DEFAULT_ENDPOINT_POLICY.to_string()),
            None => endpoint.policy.clone(),
        };
        if let Some(endpoint) = self.data.endpoints.get_mut(endpoint_id) {
            endpoint.subnet_ids = subnets;
            endpoint.security_group_ids = groups;
            endpoint.route_table_ids = tables;
            endpoint.private_dns = private_dns;
            endpoint.policy = policy;
        }
        Ok(())
    }

    /// `DeleteVpcEndpoints` (one endpoint).
    pub fn delete_endpoint(&mut self, endpoint_id: &str) -> Rule<()> {
        self.endpoint(endpoint_id)?;
        self.data.endpoints.remove(endpoint_id);
        Ok(())
    }

    // ---- EC2 tags ------------------------------------------------------------------------

    fn ec2_tags_mut(&mut self, resource_id: &str) -> Rule<&mut Tags> {
        let d = &mut *self.data;
        if let Some(r) = d.vpcs.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.subnets.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.route_tables.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.security_groups.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        if let Some(r) = d.endpoints.get_mut(resource_id) {
            return Ok(&mut r.tags);
        }
        let code = match resource_id.split_once('-').map(|(p, _)| p) {
            Some("vpc") => "InvalidVpcID.NotFound",
            Some("subnet") => "InvalidSubnetID.NotFound",
            Some("rtb") => "InvalidRouteTableID.NotFound",
            Some("sg") => "InvalidGroup.NotFound",
            Some("vpce") => "InvalidVpcEndpointId.NotFound",
            _ => "InvalidID",
        };
        Err(not_found(
            code,
            format!("The ID '{resource_id}' does not exist"),
        ))
    }

    /// `CreateTags` on a VPC, subnet, route table, security group or endpoint.
    pub fn tag_ec2(&mut self, resource_id: &str, tags: &Tags) -> Rule<()> {
        let current = self.ec2_tags_mut(resource_id)?;
        check_ec2_tags(current, tags)?;
        current.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    /// `DeleteTags`: keys that are not present are ignored.
    pub fn untag_ec2(&mut self, resource_id: &str, keys: &[String]) -> Rule<()> {
        let current = self.ec2_tags_mut(resource_id)?;
        for key in keys {
            current.remove(key);
        }
        Ok(())
    }

    // ---- KMS keys ------------------------------------------------------------------------

    fn key_arn(&self, key_id: &str) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{key_id}",
            self.region, self.account_id
        )
    }

    fn key(&self, key_id: &str) -> Rule<&SimKey> {
        self.data
            .keys
            .get(key_id)
            .ok_or_else(|| key_not_found(&self.key_arn(key_id)))
    }

    /// The key, refused with `KMSInvalidStateException` unless its state is one of `allowed`.
    fn key_in(&self, key_id: &str, allowed: &[KeyState], operation: &str) -> Rule<&SimKey> {
        let key = self.key(key_id)?;
        if !allowed.contains(&key.state) {
            return Err(Denied::new(
                ErrorKind::Other("KMSInvalidStateException".into()),
                format!(
                    "KMSInvalidStateException: {} is {}, so {operation} is not allowed",
                    self.key_arn(key_id),
                    state_name(key.state)
                ),
            ));
        }
        Ok(key)
    }

    fn key_mut(&mut self, key_id: &str) -> Rule<&mut SimKey> {
        let arn = self.key_arn(key_id);
        self.data
            .keys
            .get_mut(key_id)
            .ok_or_else(|| key_not_found(&arn))
    }

    /// `CreateKey` (symmetric, customer managed): enabled, rotation off.
    pub fn create_key(&mut self, description: &str, policy: &str, tags: &Tags) -> Rule<String> {
        check_key_description(description)?;
        check_key_policy(policy, self.quotas.key_policy_max_bytes)?;
        check_kms_tags(&Tags::new(), tags)?;
        let id = loop {
            let id = self.ids.kms_key();
            if !self.data.keys.contains_key(&id) {
                break id;
            }
        };
        self.data.keys.insert(
            id.clone(),
            SimKey {
                id: id.clone(),
                description: description.to_string(),
                policy: policy.to_string(),
                rotation: false,
                state: KeyState::Enabled,
                tags: tags.clone(),
                deletion_window_days: None,
            },
        );
        Ok(id)
    }

    /// `EnableKeyRotation` / `DisableKeyRotation`: only on an enabled key.
    pub fn set_key_rotation(&mut self, key_id: &str, enabled: bool) -> Rule<()> {
        let op = if enabled {
            "EnableKeyRotation"
        } else {
            "DisableKeyRotation"
        };
        self.key_in(key_id, &[KeyState::Enabled], op)?;
        self.key_mut(key_id)?.rotation = enabled;
        Ok(())
    }

    /// `PutKeyPolicy` (allowed in every state, as on AWS).
    pub fn put_key_policy(&mut self, key_id: &str, policy: &str) -> Rule<()> {
        self.key(key_id)?;
        check_key_policy(policy, self.quotas.key_policy_max_bytes)?;
        self.key_mut(key_id)?.policy = policy.to_string();
        Ok(())
    }

    /// `UpdateKeyDescription`.
    pub fn update_key_description(&mut self, key_id: &str, description: &str) -> Rule<()> {
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "UpdateKeyDescription",
        )?;
        check_key_description(description)?;
        self.key_mut(key_id)?.description = description.to_string();
        Ok(())
    }

    /// `ScheduleKeyDeletion`: a waiting period of 7 to 30 days; the key stays listed
    /// as `PendingDeletion`.
    pub fn schedule_key_deletion(&mut self, key_id: &str, window_days: u32) -> Rule<()> {
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "ScheduleKeyDeletion",
        )?;
        if !KEY_DELETION_WINDOW.contains(&window_days) {
            return Err(Denied::new(
                ErrorKind::InvalidInput,
                format!(
                    "ValidationException: PendingWindowInDays {window_days} is not between {} and {}",
                    KEY_DELETION_WINDOW.start(),
                    KEY_DELETION_WINDOW.end()
                ),
            ));
        }
        let key = self.key_mut(key_id)?;
        key.state = KeyState::PendingDeletion;
        key.deletion_window_days = Some(window_days);
        Ok(())
    }

    /// `CancelKeyDeletion` + `EnableKey`: a key pending deletion is enabled again.
    pub fn restore_key(&mut self, key_id: &str) -> Rule<()> {
        self.key_in(key_id, &[KeyState::PendingDeletion], "CancelKeyDeletion")?;
        let key = self.key_mut(key_id)?;
        key.state = KeyState::Enabled;
        key.deletion_window_days = None;
        Ok(())
    }

    /// `EnableKey` / `DisableKey`. Not part of the provider interface; for
    /// out-of-band changes.
    pub fn set_key_enabled(&mut self, key_id: &str, enabled: bool) -> Rule<()> {
        let op = if enabled { "EnableKey" } else { "DisableKey" };
        self.key_in(key_id, &[KeyState::Enabled, KeyState::Disabled], op)?;
        self.key_mut(key_id)?.state = if enabled {
            KeyState::Enabled
        } else {
            KeyState::Disabled
        };
        Ok(())
    }

    /// `CreateAlias` / `UpdateAlias`: points `alias` at the key, creating it or moving
    /// it from the key it pointed at (an alias is unique per account and region).
    pub fn put_alias(&mut self, alias: &str, key_id: &str) -> Rule<()> {
        check_alias(alias)?;
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "CreateAlias",
        )?;
        self.data
            .aliases
            .insert(alias.to_string(), key_id.to_string());
        Ok(())
    }

    /// `DeleteAlias`.
    pub fn delete_alias(&mut self, alias: &str) -> Rule<()> {
        check_alias(alias)?;
        if self.data.aliases.remove(alias).is_none() {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!(
                    "NotFoundException: Alias arn:aws:kms:{}:{}:{alias} is not found",
                    self.region, self.account_id
                ),
            ));
        }
        Ok(())
    }

    /// `TagResource` on a key.
    pub fn tag_key(&mut self, key_id: &str, tags: &Tags) -> Rule<()> {
        let key = self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "TagResource",
        )?;
        check_kms_tags(&key.tags, tags)?;
        self.key_mut(key_id)?
            .tags
            .extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    /// `UntagResource` on a key: keys that are not present are ignored.
    pub fn untag_key(&mut self, key_id: &str, keys: &[String]) -> Rule<()> {
        self.key_in(
            key_id,
            &[KeyState::Enabled, KeyState::Disabled],
            "UntagResource",
        )?;
        let key = self.key_mut(key_id)?;
        for k in keys {
            key.tags.remove(k);
        }
        Ok(())
    }
}

// ---- validation ------------------------------------------------------------------------

fn key_not_found(arn: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("NotFoundException: Key '{arn}' does not exist"),
    )
}

fn not_found(code: &str, message: String) -> Denied {
    Denied::new(ErrorKind::NotFound, format!("{code}: {message}"))
}

fn state_name(state: KeyState) -> &'static str {
    match state {
        KeyState::Enabled => "Enabled",
        KeyState::Disabled => "Disabled",
        KeyState::PendingDeletion => "PendingDeletion",
        KeyState::Other => "in another state",
    }
}

/// A canonical IPv4 CIDR (`10.0.0.0/16`; not `10.0.0.1/16`, not `10.0.0.0`).
fn parse_cidr(cidr: &str) -> Option<Ipv4Net> {
    let net: Ipv4Net = cidr.parse().ok()?;
    (net.addr() == net.network()).then_some(net)
}

/// A VPC or subnet block: canonical, /16 to /28.
fn parse_block(cidr: &str, range_code: &str) -> Rule<Ipv4Net> {
    let Some(net) = parse_cidr(cidr) else {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "InvalidParameterValue: Value ({cidr}) for parameter cidrBlock is invalid. This is \
                 not a valid CIDR block."
            ),
        ));
    };
    if !BLOCK_PREFIXES.contains(&net.prefix_len()) {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "{range_code}: The CIDR '{cidr}' is invalid: the block size must be between /{} \
                 and /{}",
                BLOCK_PREFIXES.start(),
                BLOCK_PREFIXES.end()
            ),
        ));
    }
    Ok(net)
}

/// A block the sim stored itself (always canonical); anything else is a corrupt world.
fn stored_block(cidr: &str) -> Rule<Ipv4Net> {
    parse_cidr(cidr).ok_or_else(|| {
        Denied::new(
            ErrorKind::Other("SimWorldCorrupt".into()),
            format!("the sim world holds an invalid CIDR {cidr:?}"),
        )
    })
}

/// A security group rule's source: any canonical IPv4 CIDR.
fn parse_rule_cidr(cidr: &str) -> Rule<Ipv4Net> {
    parse_cidr(cidr).ok_or_else(|| {
        Denied::new(
            ErrorKind::InvalidInput,
            format!("InvalidParameterValue: CIDR block {cidr} is malformed"),
        )
    })
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// An availability zone of the region: the region's name and a zone letter
/// (`us-east-1a`; local zones such as `us-east-1-bos-1a` too).
fn check_az(region: &str, az: &str) -> Rule<()> {
    let ok = az.strip_prefix(region).is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && rest.ends_with(|c: char| c.is_ascii_lowercase())
    });
    if ok {
        Ok(())
    } else {
        Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "InvalidParameterValue: Value ({az}) for parameter availabilityZone is invalid: it \
                 is not an availability zone of {region}"
            ),
        ))
    }
}

fn check_group_text(what: &str, text: &str) -> Rule<()> {
    let len = text.chars().count();
    if len == 0 || len > 255 || !text.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!("InvalidParameterValue: {what} {text:?} must be 1 to 255 ASCII characters"),
        ));
    }
    Ok(())
}

/// A service this region offers: a dotted name with the region in it
/// (`com.amazonaws.us-east-1.s3`). Gateway endpoints exist only for S3 and DynamoDB.
fn check_service(region: &str, service_name: &str, kind: EndpointKind) -> Rule<()> {
    let parts: Vec<&str> = service_name.split('.').collect();
    let well_formed = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        && parts[..parts.len() - 1].contains(&region);
    if !well_formed {
        return Err(Denied::new(
            ErrorKind::Other("InvalidServiceName".into()),
            format!(
                "InvalidServiceName: The Vpc Endpoint Service '{service_name}' does not exist in {region}"
            ),
        ));
    }
    if kind == EndpointKind::Gateway
        && service_name != format!("com.amazonaws.{region}.s3")
        && service_name != format!("com.amazonaws.{region}.dynamodb")
    {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "InvalidParameter: Endpoint type (Gateway) does not match available service types \
                 ([Interface]) for {service_name}"
            ),
        ));
    }
    Ok(())
}

fn json_object(doc: &str) -> bool {
    matches!(
        serde_json::from_str::<serde_json::Value>(doc),
        Ok(serde_json::Value::Object(_))
    )
}

fn check_endpoint_policy(doc: &str, max_chars: usize) -> Rule<()> {
    if !json_object(doc) {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            "InvalidPolicyDocument: the endpoint policy is not a JSON object",
        ));
    }
    let chars = doc.chars().count();
    if chars > max_chars {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "InvalidPolicyDocument: the endpoint policy has {chars} characters; the limit is \
                 {max_chars}"
            ),
        ));
    }
    Ok(())
}

fn check_key_policy(doc: &str, max_bytes: usize) -> Rule<()> {
    let malformed = |message: String| {
        Denied::new(
            ErrorKind::Other("MalformedPolicyDocumentException".into()),
            message,
        )
    };
    if !json_object(doc) {
        return Err(malformed(
            "MalformedPolicyDocumentException: the key policy is not a JSON object".into(),
        ));
    }
    if doc.len() > max_bytes {
        return Err(malformed(format!(
            "MalformedPolicyDocumentException: the key policy has {} bytes; the limit is {max_bytes}",
            doc.len()
        )));
    }
    Ok(())
}

fn check_key_description(description: &str) -> Rule<()> {
    if description.chars().count() > 8192 {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            "ValidationException: the key description is longer than 8192 characters",
        ));
    }
    Ok(())
}

/// `alias/` and a name of letters, digits, `/`, `_` and `-`; `alias/aws/` is AWS's.
fn check_alias(alias: &str) -> Rule<()> {
    let name = alias.strip_prefix("alias/").unwrap_or_default();
    let ok = !name.is_empty()
        && alias.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'));
    if !ok {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "ValidationException: alias {alias:?} must be `alias/` followed by letters, digits, \
                 `/`, `_` or `-` (at most 256 characters)"
            ),
        ));
    }
    if alias.starts_with("alias/aws/") {
        return Err(Denied::new(
            ErrorKind::InvalidInput,
            format!(
                "NotAuthorizedException: {alias:?}: the `alias/aws/` prefix is reserved for AWS managed keys"
            ),
        ));
    }
    Ok(())
}

/// Tag rules shared by EC2 and KMS, with each service's error for a bad tag and for
/// too many tags.
fn check_tags(current: &Tags, adding: &Tags, invalid: ErrorKind, limit: ErrorKind) -> Rule<()> {
    for (key, value) in adding {
        let key_len = key.chars().count();
        if key_len == 0 || key_len > 128 || key.to_ascii_lowercase().starts_with("aws:") {
            return Err(Denied::new(
                invalid,
                format!("tag key {key:?} must be 1 to 128 characters and not start with `aws:`"),
            ));
        }
        if value.chars().count() > 256 {
            return Err(Denied::new(
                invalid,
                format!("the value of tag {key:?} is longer than 256 characters"),
            ));
        }
    }
    let total = current.len() + adding.keys().filter(|k| !current.contains_key(*k)).count();
    if total > MAX_MEMBER_TAGS {
        return Err(Denied::new(
            limit,
            format!("the resource would have {total} tags; the limit is {MAX_MEMBER_TAGS}"),
        ));
    }
    Ok(())
}

fn check_ec2_tags(current: &Tags, adding: &Tags) -> Rule<()> {
    check_tags(
        current,
        adding,
        ErrorKind::InvalidInput,
        ErrorKind::Other("TagLimitExceeded".into()),
    )
}

fn check_kms_tags(current: &Tags, adding: &Tags) -> Rule<()> {
    check_tags(
        current,
        adding,
        ErrorKind::Other("TagException".into()),
        ErrorKind::Other("LimitExceededException".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> IdSource {
        IdSource::new(1)
    }

    #[test]
    fn blocks_must_be_canonical_ipv4_between_16_and_28() {
        assert_eq!(
            parse_block("10.0.0.0/16", "R").unwrap().to_string(),
            "10.0.0.0/16"
        );
        assert!(parse_block("10.0.0.16/28", "R").is_ok());
        for bad in [
            "10.0.0.0/15",
            "10.0.0.0/29",
            "10.0.0.1/16",
            "10.0.0.0",
            "::/16",
            "",
        ] {
            assert_eq!(
                parse_block(bad, "R").unwrap_err().kind,
                ErrorKind::InvalidInput
            );
        }
        assert!(
            parse_block("10.0.0.0/8", "R")
                .unwrap_err()
                .message
                .starts_with("R:")
        );
        assert!(parse_rule_cidr("0.0.0.0/0").is_ok());
        assert!(parse_rule_cidr("10.1.2.3/32").is_ok());
        assert!(parse_rule_cidr("10.1.2.3/24").is_err());
    }

    #[test]
    fn overlap_is_containment_either_way() {
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        assert!(overlaps(&net("10.0.0.0/16"), &net("10.0.5.0/24")));
        assert!(overlaps(&net("10.0.5.0/24"), &net("10.0.0.0/16")));
        assert!(overlaps(&net("10.0.5.0/24"), &net("10.0.5.0/24")));
        assert!(!overlaps(&net("10.0.5.0/24"), &net("10.0.6.0/24")));
    }

    #[test]
    fn zones_belong_to_the_region() {
        for ok in ["us-east-1a", "us-east-1f", "us-east-1-bos-1a"] {
            assert!(check_az("us-east-1", ok).is_ok(), "{ok}");
        }
        for bad in [
            "us-east-1",
            "us-east-11",
            "us-west-2a",
            "US-EAST-1A",
            "us-east-1A",
        ] {
            assert!(check_az("us-east-1", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn services_name_the_region_and_gateways_are_s3_or_dynamodb() {
        let r = "eu-west-1";
        assert!(check_service(r, "com.amazonaws.eu-west-1.ssm", EndpointKind::Interface).is_ok());
        assert!(
            check_service(
                r,
                "aws.sagemaker.eu-west-1.notebook",
                EndpointKind::Interface
            )
            .is_ok()
        );
        assert!(check_service(r, "com.amazonaws.eu-west-1.s3", EndpointKind::Gateway).is_ok());
        assert!(
            check_service(r, "com.amazonaws.eu-west-1.dynamodb", EndpointKind::Gateway).is_ok()
        );
        assert_eq!(
            check_service(r, "com.amazonaws.eu-west-1.ssm", EndpointKind::Gateway)
                .unwrap_err()
                .kind,
            ErrorKind::InvalidInput
        );
        for bad in [
            "com.amazonaws.us-east-1.ssm",
            "com.amazonaws.eu-west-1",
            "s3",
            "a..eu-west-1.b",
        ] {
            assert_eq!(
                check_service(r, bad, EndpointKind::Interface)
                    .unwrap_err()
                    .kind,
                ErrorKind::Other("InvalidServiceName".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn aliases_need_the_prefix_and_not_aws() {
        assert!(check_alias("alias/data").is_ok());
        assert!(check_alias("alias/a/b_c-d").is_ok());
        for bad in [
            "data",
            "alias/",
            "alias/aws/x",
            "alias/a b",
            &format!("alias/{}", "a".repeat(251)),
        ] {
            assert_eq!(
                check_alias(bad).unwrap_err().kind,
                ErrorKind::InvalidInput,
                "{bad}"
            );
        }
    }

    #[test]
    fn refused_rules_change_nothing() {
        let quotas = Quotas::default();
        let mut ids = ids();
        let mut data = MemberWorld::default();
        let mut m = Member {
            account_id: "111122223333",
            region: "us-east-1",
            data: &mut data,
            ids: &mut ids,
            quotas: &quotas,
        };
        let vpc = m.create_vpc("10.0.0.0/16", &Tags::new()).unwrap();
        let subnet = m
            .create_subnet(&vpc, "us-east-1a", "10.0.0.0/24", &Tags::new())
            .unwrap();
        let key = m.create_key("", "{}", &Tags::new()).unwrap();
        let before = m.data.clone();
        let _ = m.create_subnet(&vpc, "us-east-1a", "10.0.0.0/25", &Tags::new());
        let _ = m.delete_vpc(&vpc);
        let _ = m.set_security_group_ingress("sg-1", &["10.0.0.0/8".into()], &[]);
        let _ = m.create_endpoint(&EndpointRequest {
            vpc_id: vpc.clone(),
            service_name: "com.amazonaws.us-east-1.ssm".into(),
            kind: EndpointKind::Interface,
            subnet_ids: vec![subnet.clone(), "subnet-nope".into()],
            security_group_ids: vec![],
            route_table_ids: vec![],
            private_dns: false,
            policy: None,
            tags: Tags::new(),
        });
        let _ = m.schedule_key_deletion(&key, 3);
        let _ = m.put_alias("alias/aws/x", &key);
        assert_eq!(*m.data, before);
        assert!(m.data.check().is_ok());
    }

    #[test]
    fn live_keys_list_their_aliases() {
        let mut data = MemberWorld::default();
        data.keys.insert(
            "k".into(),
            SimKey {
                id: "k".into(),
                description: String::new(),
                policy: "{}".into(),
                rotation: true,
                state: KeyState::PendingDeletion,
                tags: Tags::new(),
                deletion_window_days: Some(7),
            },
        );
        data.aliases.insert("alias/a".into(), "k".into());
        data.aliases.insert("alias/b".into(), "k".into());
        let live = data.to_live();
        assert_eq!(
            live.keys["k"].aliases,
            BTreeSet::from(["alias/a".to_string(), "alias/b".to_string()])
        );
        assert_eq!(live.keys["k"].state, KeyState::PendingDeletion);
        data.aliases.insert("alias/c".into(), "missing".into());
        assert!(data.check().unwrap_err().contains("missing"));
    }
}
