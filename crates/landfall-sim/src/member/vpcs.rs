//! VPCs and subnets: `CreateVpc`/`DeleteVpc` (refused while anything is left in the
//! VPC), `CreateSubnet`/`DeleteSubnet` (a block inside the VPC's, overlapping no other
//! subnet, in a zone of the region; refused while an endpoint uses it).

use landfall_core::live::{LiveSubnet, LiveVpc};
use landfall_core::model::Tags;
use landfall_engine::provider::ErrorKind;

use super::Member;
use super::cidr::{overlaps, parse_block, stored_block};
use super::tags::check_ec2_tags;
use crate::ids::IdSource;
use crate::world::{Denied, Rule};

impl Member<'_> {
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
                // The sim's regions start without a default VPC.
                is_default: false,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
