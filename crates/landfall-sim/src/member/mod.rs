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
//!
//! Where to look:
//! - this file: the data of one account and region ([`MemberWorld`]) and its
//!   consistency check, the view a rule works on ([`Member`]), fresh EC2 ids and the
//!   lookups that answer with EC2's `NotFound` codes.
//! - `vpcs`: VPCs and subnets (blocks inside the VPC's, zones of the region).
//! - `route_tables`: route tables and their subnet associations.
//! - `security_groups`: security groups and their TCP 443 ingress rules.
//! - `endpoints`: VPC endpoints, their shape per kind, and the default policy
//!   ([`DEFAULT_ENDPOINT_POLICY`]).
//! - `keys`: KMS keys ([`SimKey`]), their states, and aliases.
//! - `tags`: the tag rules EC2 and KMS share, and tagging EC2 resources.
//! - `cidr`: IPv4 blocks as EC2 accepts them.
//! - `live`: the snapshot `refresh_member` returns
//!   ([`LiveMember`](landfall_core::live::LiveMember)).

mod cidr;
mod endpoints;
mod keys;
mod live;
mod route_tables;
mod security_groups;
mod tags;
mod vpcs;

use std::collections::BTreeMap;

use landfall_core::live::{LiveEndpoint, LiveRouteTable, LiveSecurityGroup, LiveSubnet, LiveVpc};
use landfall_core::model::Quotas;
use landfall_engine::provider::ErrorKind;
use serde::{Deserialize, Serialize};

use crate::ids::IdSource;
use crate::world::{Denied, Rule};

pub use endpoints::DEFAULT_ENDPOINT_POLICY;
pub use keys::{KEY_DELETION_WINDOW, SimKey};
pub use security_groups::MAX_INGRESS_RULES;
pub use tags::MAX_MEMBER_TAGS;

/// The role named in "cannot assume" errors unless the backend is told another.
pub const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

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
}

fn not_found(code: &str, message: String) -> Denied {
    Denied::new(ErrorKind::NotFound, format!("{code}: {message}"))
}

/// Whether a policy document is a JSON object (endpoint and key policies).
fn json_object(doc: &str) -> bool {
    matches!(
        serde_json::from_str::<serde_json::Value>(doc),
        Ok(serde_json::Value::Object(_))
    )
}

#[cfg(test)]
mod tests {
    use landfall_core::model::{EndpointKind, Tags};
    use landfall_engine::provider::EndpointRequest;

    use super::*;

    fn ids() -> IdSource {
        IdSource::new(1)
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
}
