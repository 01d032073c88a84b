//! VPC endpoints: interface and gateway endpoints of a region's services, their shape
//! per kind (subnets one per zone and security groups, or route tables), one per
//! service and kind in a VPC, the interface-endpoint quota, and their policy — AWS's
//! default full-access policy ([`DEFAULT_ENDPOINT_POLICY`]) when none is given.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::live::LiveEndpoint;
use landfall_core::model::{EndpointKind, Tags};
use landfall_engine::provider::{EndpointModification, EndpointRequest, ErrorKind};

use super::tags::check_ec2_tags;
use super::{Member, json_object};
use crate::ids::IdSource;
use crate::world::{Denied, Rule};

/// The policy AWS gives a VPC endpoint created without one (and returns when
/// describing it), minified.
pub const DEFAULT_ENDPOINT_POLICY: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;

impl Member<'_> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
