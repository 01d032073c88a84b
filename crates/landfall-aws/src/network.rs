//! Networks in a member account and region (EC2): VPCs, subnets, route tables,
//! security groups and VPC endpoints — read back as [`LiveMember`] parts, changed one
//! API call (or a short, idempotent sequence) at a time.
//!
//! Default VPCs, default security groups and main route tables are reported like any
//! other resource: the planner manages only what it created or what carries the
//! `landfall:address` tag. A route table's `subnet_ids` are its explicit associations.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error as StdError;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, IpPermission, IpRange, Ipv6Range, ResourceType, Tag,
    TagSpecification, VpcEndpointType,
};
use aws_sdk_organizations::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::http::HttpResponse;
use landfall_core::live::{LiveEndpoint, LiveRouteTable, LiveSecurityGroup, LiveSubnet, LiveVpc};
use landfall_core::model::{EndpointKind, Tags};
use landfall_engine::provider::{
    EndpointModification, EndpointRequest, ErrorKind, MemberScope, ProviderError, ProviderResult,
};

use crate::AwsBackend;
use crate::errors::empty_response;
use crate::member::{Member, Service, after_create};

const EC2: Service = Service::Ec2;

/// Every page of a paginated member-account read.
pub(crate) async fn pages<O, E, F, Fut>(
    aws: &AwsBackend,
    m: &Member,
    service: Service,
    api: &'static str,
    call: F,
    next: fn(&O) -> Option<String>,
) -> ProviderResult<Vec<O>>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + StdError + 'static,
{
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .member_read(m, service, api, || call(token.clone()))
            .await?;
        let following = next(&page);
        out.push(page);
        match following {
            Some(t) if Some(&t) != token.as_ref() && !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tag_specs(kind: ResourceType, tags: &Tags) -> Option<Vec<TagSpecification>> {
    (!tags.is_empty()).then(|| {
        vec![
            TagSpecification::builder()
                .resource_type(kind)
                .set_tags(Some(sdk_tags(tags)))
                .build(),
        ]
    })
}

fn non_empty(ids: &[String]) -> Option<Vec<String>> {
    (!ids.is_empty()).then(|| ids.to_vec())
}

/// Whether a rule lets TCP 443 in.
fn covers_443(p: &IpPermission) -> bool {
    match p.ip_protocol() {
        Some("-1") => true,
        Some("tcp") | Some("6") => {
            matches!((p.from_port(), p.to_port()), (Some(from), Some(to)) if from <= 443 && 443 <= to)
        }
        _ => false,
    }
}

fn cidrs_of(p: &IpPermission) -> impl Iterator<Item = &str> {
    p.ip_ranges()
        .iter()
        .filter_map(|r| r.cidr_ip())
        .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()))
}

/// One permission with the same protocol and ports as `p`, from `cidr` only.
fn permission(protocol: &str, from: Option<i32>, to: Option<i32>, cidr: &str) -> IpPermission {
    let b = IpPermission::builder()
        .ip_protocol(protocol)
        .set_from_port(from)
        .set_to_port(to);
    if cidr.contains(':') {
        b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).build())
            .build()
    } else {
        b.ip_ranges(IpRange::builder().cidr_ip(cidr).build())
            .build()
    }
}

fn ingress_443(cidr: &str) -> IpPermission {
    permission("tcp", Some(443), Some(443), cidr)
}

// ---- reads ----

pub(crate) async fn vpcs(
    aws: &AwsBackend,
    m: &Member,
) -> ProviderResult<BTreeMap<String, LiveVpc>> {
    let pages = pages(
        aws,
        m,
        EC2,
        "DescribeVpcs",
        |t| m.ec2.describe_vpcs().set_next_token(t).send(),
        |p| p.next_token().map(str::to_string),
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.vpcs())
        .filter_map(|v| {
            let id = v.vpc_id()?.to_string();
            Some((
                id.clone(),
                LiveVpc {
                    id,
                    cidr: v.cidr_block().unwrap_or_default().to_string(),
                    tags: tags_of(v.tags()),
                    is_default: v.is_default().unwrap_or(false),
                },
            ))
        })
        .collect())
}

pub(crate) async fn subnets(
    aws: &AwsBackend,
    m: &Member,
) -> ProviderResult<BTreeMap<String, LiveSubnet>> {
    let pages = pages(
        aws,
        m,
        EC2,
        "DescribeSubnets",
        |t| m.ec2.describe_subnets().set_next_token(t).send(),
        |p| p.next_token().map(str::to_string),
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.subnets())
        .filter_map(|s| {
            let id = s.subnet_id()?.to_string();
            Some((
                id.clone(),
                LiveSubnet {
                    id,
                    vpc_id: s.vpc_id().unwrap_or_default().to_string(),
                    az: s.availability_zone().unwrap_or_default().to_string(),
                    cidr: s.cidr_block().unwrap_or_default().to_string(),
                    tags: tags_of(s.tags()),
                },
            ))
        })
        .collect())
}

pub(crate) async fn route_tables(
    aws: &AwsBackend,
    m: &Member,
) -> ProviderResult<BTreeMap<String, LiveRouteTable>> {
    let pages = pages(
        aws,
        m,
        EC2,
        "DescribeRouteTables",
        |t| m.ec2.describe_route_tables().set_next_token(t).send(),
        |p| p.next_token().map(str::to_string),
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.route_tables())
        .filter_map(|rt| {
            let id = rt.route_table_id()?.to_string();
            let subnet_ids = rt
                .associations()
                .iter()
                .filter(|a| a.main() != Some(true))
                .filter(|a| {
                    !matches!(
                        a.association_state()
                            .and_then(|s| s.state())
                            .map(|s| s.as_str()),
                        Some("disassociating" | "disassociated" | "failed")
                    )
                })
                .filter_map(|a| a.subnet_id().map(str::to_string))
                .collect();
            Some((
                id.clone(),
                LiveRouteTable {
                    id,
                    vpc_id: rt.vpc_id().unwrap_or_default().to_string(),
                    subnet_ids,
                    tags: tags_of(rt.tags()),
                },
            ))
        })
        .collect())
}

pub(crate) async fn security_groups(
    aws: &AwsBackend,
    m: &Member,
) -> ProviderResult<BTreeMap<String, LiveSecurityGroup>> {
    let pages = pages(
        aws,
        m,
        EC2,
        "DescribeSecurityGroups",
        |t| m.ec2.describe_security_groups().set_next_token(t).send(),
        |p| p.next_token().map(str::to_string),
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.security_groups())
        .filter_map(|g| {
            let id = g.group_id()?.to_string();
            let ingress_443 = g
                .ip_permissions()
                .iter()
                .filter(|p| covers_443(p))
                .flat_map(cidrs_of)
                .map(str::to_string)
                .collect();
            Some((
                id.clone(),
                LiveSecurityGroup {
                    id,
                    vpc_id: g.vpc_id().unwrap_or_default().to_string(),
                    name: g.group_name().unwrap_or_default().to_string(),
                    ingress_443,
                    tags: tags_of(g.tags()),
                },
            ))
        })
        .collect())
}

pub(crate) async fn endpoints(
    aws: &AwsBackend,
    m: &Member,
) -> ProviderResult<BTreeMap<String, LiveEndpoint>> {
    let pages = pages(
        aws,
        m,
        EC2,
        "DescribeVpcEndpoints",
        |t| m.ec2.describe_vpc_endpoints().set_next_token(t).send(),
        |p| p.next_token().map(str::to_string),
    )
    .await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.vpc_endpoints())
        .filter(|e| {
            // Gone or going: not there for the planner.
            !matches!(
                e.state()
                    .map(|s| s.as_str().to_ascii_lowercase())
                    .as_deref(),
                Some("deleted" | "deleting" | "failed" | "rejected" | "expired")
            )
        })
        .filter_map(|e| {
            // Only gateway and interface endpoints are Landfall's kinds.
            let kind = match e.vpc_endpoint_type()? {
                VpcEndpointType::Gateway => EndpointKind::Gateway,
                VpcEndpointType::Interface => EndpointKind::Interface,
                _ => return None,
            };
            let id = e.vpc_endpoint_id()?.to_string();
            Some((
                id.clone(),
                LiveEndpoint {
                    id,
                    vpc_id: e.vpc_id().unwrap_or_default().to_string(),
                    service_name: e.service_name().unwrap_or_default().to_string(),
                    kind,
                    // Gateway endpoints have no private DNS (moto says they do).
                    private_dns: kind == EndpointKind::Interface
                        && e.private_dns_enabled().unwrap_or(false),
                    subnet_ids: e.subnet_ids().iter().cloned().collect(),
                    security_group_ids: e
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                    route_table_ids: e.route_table_ids().iter().cloned().collect(),
                    policy: e.policy_document().map(str::to_string),
                    tags: tags_of(e.tags()),
                },
            ))
        })
        .collect())
}

// ---- changes ----

impl AwsBackend {
    pub(crate) async fn ec2_create_vpc(
        &self,
        scope: &MemberScope,
        cidr: &str,
        tags: &Tags,
    ) -> ProviderResult<String> {
        let m = self.member(scope).await?;
        let out = self
            .member_write(
                &m,
                EC2,
                "CreateVpc",
                m.ec2
                    .create_vpc()
                    .cidr_block(cidr)
                    .set_tag_specifications(tag_specs(ResourceType::Vpc, tags))
                    .send(),
            )
            .await?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .map(str::to_string)
            .ok_or_else(|| empty_response("CreateVpc", "VPC id"))?;
        // Interface endpoints' private DNS needs DNS hostnames (DNS support is on by
        // default).
        let dns = self
            .member_write_retried(&m, EC2, "ModifyVpcAttribute", || {
                m.ec2
                    .modify_vpc_attribute()
                    .vpc_id(&id)
                    .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
                    .send()
            })
            .await
            .map(|_| ());
        after_create(&id, dns)?;
        Ok(id)
    }

    pub(crate) async fn ec2_delete_vpc(&self, scope: &MemberScope, id: &str) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        self.member_write(&m, EC2, "DeleteVpc", m.ec2.delete_vpc().vpc_id(id).send())
            .await?;
        Ok(())
    }

    pub(crate) async fn ec2_create_subnet(
        &self,
        scope: &MemberScope,
        vpc_id: &str,
        az: &str,
        cidr: &str,
        tags: &Tags,
    ) -> ProviderResult<String> {
        let m = self.member(scope).await?;
        let out = self
            .member_write(
                &m,
                EC2,
                "CreateSubnet",
                m.ec2
                    .create_subnet()
                    .vpc_id(vpc_id)
                    .availability_zone(az)
                    .cidr_block(cidr)
                    .set_tag_specifications(tag_specs(ResourceType::Subnet, tags))
                    .send(),
            )
            .await?;
        out.subnet()
            .and_then(|s| s.subnet_id())
            .map(str::to_string)
            .ok_or_else(|| empty_response("CreateSubnet", "subnet id"))
    }

    pub(crate) async fn ec2_delete_subnet(
        &self,
        scope: &MemberScope,
        id: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            EC2,
            "DeleteSubnet",
            m.ec2.delete_subnet().subnet_id(id).send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn ec2_create_route_table(
        &self,
        scope: &MemberScope,
        vpc_id: &str,
        tags: &Tags,
    ) -> ProviderResult<String> {
        let m = self.member(scope).await?;
        let out = self
            .member_write(
                &m,
                EC2,
                "CreateRouteTable",
                m.ec2
                    .create_route_table()
                    .vpc_id(vpc_id)
                    .set_tag_specifications(tag_specs(ResourceType::RouteTable, tags))
                    .send(),
            )
            .await?;
        out.route_table()
            .and_then(|r| r.route_table_id())
            .map(str::to_string)
            .ok_or_else(|| empty_response("CreateRouteTable", "route table id"))
    }

    /// Associates a subnet with a route table; a subnet explicitly associated with
    /// another table is moved (`ReplaceRouteTableAssociation`), one already associated
    /// with this table is left as it is.
    pub(crate) async fn ec2_associate_route_table(
        &self,
        scope: &MemberScope,
        route_table_id: &str,
        subnet_id: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        let err = match self
            .member_write(
                &m,
                EC2,
                "AssociateRouteTable",
                m.ec2
                    .associate_route_table()
                    .route_table_id(route_table_id)
                    .subnet_id(subnet_id)
                    .send(),
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if e.kind == ErrorKind::Other("Resource.AlreadyAssociated".into()) => e,
            Err(e) => return Err(e),
        };
        let tables = self
            .member_read(&m, EC2, "DescribeRouteTables", || {
                m.ec2
                    .describe_route_tables()
                    .filters(
                        Filter::builder()
                            .name("association.subnet-id")
                            .values(subnet_id)
                            .build(),
                    )
                    .send()
            })
            .await?;
        let current = tables.route_tables().iter().find_map(|rt| {
            rt.associations()
                .iter()
                .find(|a| a.subnet_id() == Some(subnet_id) && a.main() != Some(true))
                .map(|a| {
                    (
                        rt.route_table_id().unwrap_or_default().to_string(),
                        a.route_table_association_id()
                            .unwrap_or_default()
                            .to_string(),
                    )
                })
        });
        match current {
            Some((table, _)) if table == route_table_id => Ok(()),
            Some((_, association)) => {
                self.member_write(
                    &m,
                    EC2,
                    "ReplaceRouteTableAssociation",
                    m.ec2
                        .replace_route_table_association()
                        .association_id(association)
                        .route_table_id(route_table_id)
                        .send(),
                )
                .await?;
                Ok(())
            }
            None => Err(err),
        }
    }

    /// Deletes a route table after removing its explicit subnet associations.
    pub(crate) async fn ec2_delete_route_table(
        &self,
        scope: &MemberScope,
        id: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        let tables = self
            .member_read(&m, EC2, "DescribeRouteTables", || {
                m.ec2.describe_route_tables().route_table_ids(id).send()
            })
            .await?;
        let associations: Vec<String> = tables
            .route_tables()
            .iter()
            .flat_map(|rt| rt.associations())
            .filter(|a| a.main() != Some(true) && a.subnet_id().is_some())
            .filter_map(|a| a.route_table_association_id().map(str::to_string))
            .collect();
        for association in associations {
            match self
                .member_write(
                    &m,
                    EC2,
                    "DisassociateRouteTable",
                    m.ec2
                        .disassociate_route_table()
                        .association_id(association)
                        .send(),
                )
                .await
            {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        self.member_write(
            &m,
            EC2,
            "DeleteRouteTable",
            m.ec2.delete_route_table().route_table_id(id).send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn ec2_create_security_group(
        &self,
        scope: &MemberScope,
        vpc_id: &str,
        name: &str,
        description: &str,
        ingress_cidr: &str,
        tags: &Tags,
    ) -> ProviderResult<String> {
        let m = self.member(scope).await?;
        let out = self
            .member_write(
                &m,
                EC2,
                "CreateSecurityGroup",
                m.ec2
                    .create_security_group()
                    .vpc_id(vpc_id)
                    .group_name(name)
                    .description(description)
                    .set_tag_specifications(tag_specs(ResourceType::SecurityGroup, tags))
                    .send(),
            )
            .await?;
        let id = out
            .group_id()
            .map(str::to_string)
            .ok_or_else(|| empty_response("CreateSecurityGroup", "group id"))?;
        let rule = self.authorize_443(&m, &id, ingress_cidr, true).await;
        after_create(&id, rule)?;
        Ok(id)
    }

    /// Lets TCP 443 in from `cidr`; an existing identical rule is success.
    async fn authorize_443(
        &self,
        m: &Member,
        group_id: &str,
        cidr: &str,
        retried: bool,
    ) -> ProviderResult<()> {
        let call = || {
            m.ec2
                .authorize_security_group_ingress()
                .group_id(group_id)
                .ip_permissions(ingress_443(cidr))
                .send()
        };
        let r = if retried {
            self.member_write_retried(m, EC2, "AuthorizeSecurityGroupIngress", call)
                .await
        } else {
            self.member_write(m, EC2, "AuthorizeSecurityGroupIngress", call())
                .await
        };
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.kind == ErrorKind::Other("InvalidPermission.Duplicate".into()) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Adds TCP 443 ingress from `add`; removes every rule letting 443 in from a CIDR of
    /// `remove` (as it is: a wider port range or all traffic from it goes too).
    pub(crate) async fn ec2_set_security_group_ingress(
        &self,
        scope: &MemberScope,
        group_id: &str,
        add: &[String],
        remove: &[String],
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        for cidr in add {
            self.authorize_443(&m, group_id, cidr, false).await?;
        }
        if remove.is_empty() {
            return Ok(());
        }
        let groups = self
            .member_read(&m, EC2, "DescribeSecurityGroups", || {
                m.ec2.describe_security_groups().group_ids(group_id).send()
            })
            .await?;
        let remove: BTreeSet<&str> = remove.iter().map(String::as_str).collect();
        let mut revoke = Vec::new();
        for p in groups
            .security_groups()
            .iter()
            .flat_map(|g| g.ip_permissions())
            .filter(|p| covers_443(p))
        {
            for cidr in cidrs_of(p).filter(|c| remove.contains(c)) {
                revoke.push(permission(
                    p.ip_protocol().unwrap_or("tcp"),
                    p.from_port(),
                    p.to_port(),
                    cidr,
                ));
            }
        }
        for permission in revoke {
            match self
                .member_write(
                    &m,
                    EC2,
                    "RevokeSecurityGroupIngress",
                    m.ec2
                        .revoke_security_group_ingress()
                        .group_id(group_id)
                        .ip_permissions(permission)
                        .send(),
                )
                .await
            {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub(crate) async fn ec2_delete_security_group(
        &self,
        scope: &MemberScope,
        group_id: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            EC2,
            "DeleteSecurityGroup",
            m.ec2.delete_security_group().group_id(group_id).send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn ec2_create_endpoint(
        &self,
        scope: &MemberScope,
        request: &EndpointRequest,
    ) -> ProviderResult<String> {
        let m = self.member(scope).await?;
        let mut call = m
            .ec2
            .create_vpc_endpoint()
            .vpc_id(&request.vpc_id)
            .service_name(&request.service_name)
            .set_subnet_ids(non_empty(&request.subnet_ids))
            .set_security_group_ids(non_empty(&request.security_group_ids))
            .set_route_table_ids(non_empty(&request.route_table_ids))
            .set_policy_document(request.policy.clone())
            .set_tag_specifications(tag_specs(ResourceType::VpcEndpoint, &request.tags));
        call = match request.kind {
            EndpointKind::Gateway => call.vpc_endpoint_type(VpcEndpointType::Gateway),
            EndpointKind::Interface => call
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .private_dns_enabled(request.private_dns),
        };
        let out = self
            .member_write(&m, EC2, "CreateVpcEndpoint", call.send())
            .await?;
        out.vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .map(str::to_string)
            .ok_or_else(|| empty_response("CreateVpcEndpoint", "endpoint id"))
    }

    pub(crate) async fn ec2_modify_endpoint(
        &self,
        scope: &MemberScope,
        endpoint_id: &str,
        change: &EndpointModification,
    ) -> ProviderResult<()> {
        if *change == EndpointModification::default() {
            return Ok(());
        }
        let m = self.member(scope).await?;
        let mut call = m
            .ec2
            .modify_vpc_endpoint()
            .vpc_endpoint_id(endpoint_id)
            .set_add_subnet_ids(non_empty(&change.add_subnet_ids))
            .set_remove_subnet_ids(non_empty(&change.remove_subnet_ids))
            .set_add_security_group_ids(non_empty(&change.add_security_group_ids))
            .set_remove_security_group_ids(non_empty(&change.remove_security_group_ids))
            .set_add_route_table_ids(non_empty(&change.add_route_table_ids))
            .set_remove_route_table_ids(non_empty(&change.remove_route_table_ids))
            .set_private_dns_enabled(change.private_dns);
        call = match &change.policy {
            Some(Some(policy)) => call.policy_document(policy),
            Some(None) => call.reset_policy(true),
            None => call,
        };
        let out = self
            .member_write(&m, EC2, "ModifyVpcEndpoint", call.send())
            .await?;
        if out.r#return() == Some(false) {
            return Err(ProviderError::new(
                ErrorKind::Other("ModifyVpcEndpointFailed".into()),
                "ModifyVpcEndpoint",
                format!("AWS did not apply the change to {endpoint_id}"),
            ));
        }
        Ok(())
    }

    pub(crate) async fn ec2_delete_endpoint(
        &self,
        scope: &MemberScope,
        endpoint_id: &str,
    ) -> ProviderResult<()> {
        let m = self.member(scope).await?;
        let out = self
            .member_write(
                &m,
                EC2,
                "DeleteVpcEndpoints",
                m.ec2
                    .delete_vpc_endpoints()
                    .vpc_endpoint_ids(endpoint_id)
                    .send(),
            )
            .await?;
        match out.unsuccessful().iter().find_map(|u| u.error()) {
            None => Ok(()),
            Some(e) => {
                let code = e.code().unwrap_or("Unknown");
                Err(ProviderError::new(
                    crate::errors::kind_of(code, None),
                    "DeleteVpcEndpoints",
                    format!("{endpoint_id}: {code}: {}", e.message().unwrap_or_default()),
                ))
            }
        }
    }

    pub(crate) async fn ec2_tag(
        &self,
        scope: &MemberScope,
        resource_id: &str,
        tags: &Tags,
    ) -> ProviderResult<()> {
        if tags.is_empty() {
            return Ok(());
        }
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            EC2,
            "CreateTags",
            m.ec2
                .create_tags()
                .resources(resource_id)
                .set_tags(Some(sdk_tags(tags)))
                .send(),
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn ec2_untag(
        &self,
        scope: &MemberScope,
        resource_id: &str,
        keys: &[String],
    ) -> ProviderResult<()> {
        // `DeleteTags` without tags would delete every tag.
        if keys.is_empty() {
            return Ok(());
        }
        let m = self.member(scope).await?;
        self.member_write(
            &m,
            EC2,
            "DeleteTags",
            m.ec2
                .delete_tags()
                .resources(resource_id)
                .set_tags(Some(
                    keys.iter().map(|k| Tag::builder().key(k).build()).collect(),
                ))
                .send(),
        )
        .await?;
        Ok(())
    }
}
