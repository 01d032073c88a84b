//! Route tables: creation in a VPC, explicit subnet associations (at most one per
//! subnet; associating again moves it), and deletion (refused while subnets or gateway
//! endpoints use the table).

use std::collections::BTreeSet;

use landfall_core::live::LiveRouteTable;
use landfall_core::model::Tags;
use landfall_engine::provider::ErrorKind;

use super::tags::check_ec2_tags;
use super::{Member, not_found};
use crate::ids::IdSource;
use crate::world::{Denied, Rule};

impl Member<'_> {
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
}
