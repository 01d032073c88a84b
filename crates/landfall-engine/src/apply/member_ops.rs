//! The executor's member-account operations: EC2 (networks) and KMS (keys) calls in
//! one account and region, each paced by its service's limiter for that account and
//! region (see [`Call::Member`]).

use crate::call::{Call, MemberCall as M};
use crate::provider::{EndpointModification, EndpointRequest, MemberScope};
use landfall_core::model::substitute;
use landfall_core::plan::{Change, MemberOp, Ref};

use super::{ApplyError, Executor};

impl Executor {
    fn resolve_all(&self, change: &Change, refs: &[Ref]) -> Result<Vec<String>, ApplyError> {
        refs.iter().map(|r| self.resolve(change, r)).collect()
    }

    pub(super) async fn run_member_op(
        &self,
        change: &Change,
        scope: &MemberScope,
        op: &MemberOp,
        id: Option<&str>,
    ) -> Result<Option<String>, ApplyError> {
        let target = || Self::target(change, id);
        let sub = |text: &str| substitute(text, &scope.account_id, &scope.region);
        let created = |call| self.execute_for_id(change, Call::Member(scope, call));
        let done = |call| self.done(change, Call::Member(scope, call));
        match op {
            MemberOp::CreateVpc { cidr, tags } => {
                Ok(Some(created(M::CreateVpc { cidr, tags }).await?))
            }
            MemberOp::DeleteVpc => done(M::DeleteVpc { vpc_id: target()? }).await,
            MemberOp::CreateSubnet {
                vpc,
                az,
                cidr,
                tags,
            } => {
                let vpc_id = &self.resolve(change, vpc)?;
                let call = M::CreateSubnet {
                    vpc_id,
                    az,
                    cidr,
                    tags,
                };
                Ok(Some(created(call).await?))
            }
            MemberOp::DeleteSubnet => {
                done(M::DeleteSubnet {
                    subnet_id: target()?,
                })
                .await
            }
            MemberOp::CreateRouteTable { vpc, tags } => {
                let vpc_id = &self.resolve(change, vpc)?;
                Ok(Some(created(M::CreateRouteTable { vpc_id, tags }).await?))
            }
            MemberOp::AssociateRouteTable { subnet } => {
                let subnet_id = &self.resolve(change, subnet)?;
                done(M::AssociateRouteTable {
                    route_table_id: target()?,
                    subnet_id,
                })
                .await
            }
            MemberOp::DeleteRouteTable => {
                done(M::DeleteRouteTable {
                    route_table_id: target()?,
                })
                .await
            }
            MemberOp::CreateSecurityGroup {
                vpc,
                name,
                description,
                ingress_cidr,
                tags,
            } => {
                let vpc_id = &self.resolve(change, vpc)?;
                let call = M::CreateSecurityGroup {
                    vpc_id,
                    name,
                    description,
                    ingress_cidr,
                    tags,
                };
                Ok(Some(created(call).await?))
            }
            MemberOp::SetIngress { add, remove } => {
                done(M::SetSecurityGroupIngress {
                    group_id: target()?,
                    add,
                    remove,
                })
                .await
            }
            MemberOp::DeleteSecurityGroup => {
                done(M::DeleteSecurityGroup {
                    group_id: target()?,
                })
                .await
            }
            MemberOp::CreateEndpoint {
                vpc,
                service_name,
                kind,
                subnets,
                security_groups,
                route_tables,
                private_dns,
                policy,
                tags,
            } => {
                let request = EndpointRequest {
                    vpc_id: self.resolve(change, vpc)?,
                    service_name: service_name.clone(),
                    kind: *kind,
                    subnet_ids: self.resolve_all(change, subnets)?,
                    security_group_ids: self.resolve_all(change, security_groups)?,
                    route_table_ids: self.resolve_all(change, route_tables)?,
                    private_dns: *private_dns,
                    policy: policy.as_deref().map(sub),
                    tags: tags.clone(),
                };
                Ok(Some(created(M::CreateVpcEndpoint(&request)).await?))
            }
            MemberOp::ModifyEndpoint {
                add_subnets,
                remove_subnets,
                add_security_groups,
                remove_security_groups,
                add_route_tables,
                remove_route_tables,
                policy,
                private_dns,
            } => {
                let change_request = EndpointModification {
                    add_subnet_ids: self.resolve_all(change, add_subnets)?,
                    remove_subnet_ids: remove_subnets.clone(),
                    add_security_group_ids: self.resolve_all(change, add_security_groups)?,
                    remove_security_group_ids: remove_security_groups.clone(),
                    add_route_table_ids: self.resolve_all(change, add_route_tables)?,
                    remove_route_table_ids: remove_route_tables.clone(),
                    policy: policy.as_ref().map(|p| p.as_deref().map(sub)),
                    private_dns: *private_dns,
                };
                done(M::ModifyVpcEndpoint {
                    endpoint_id: target()?,
                    change: &change_request,
                })
                .await
            }
            MemberOp::DeleteEndpoint => {
                done(M::DeleteVpcEndpoint {
                    endpoint_id: target()?,
                })
                .await
            }
            MemberOp::TagEc2 { tags } => {
                done(M::CreateTags {
                    resource_id: target()?,
                    tags,
                })
                .await
            }
            MemberOp::UntagEc2 { keys } => {
                done(M::DeleteTags {
                    resource_id: target()?,
                    keys,
                })
                .await
            }
            MemberOp::CreateKey {
                description,
                policy,
                tags,
            } => {
                let policy = &sub(policy);
                let call = M::CreateKey {
                    description,
                    policy,
                    tags,
                };
                Ok(Some(created(call).await?))
            }
            MemberOp::SetKeyRotation { enabled } => {
                done(M::SetKeyRotation {
                    key_id: target()?,
                    enabled: *enabled,
                })
                .await
            }
            MemberOp::PutKeyPolicy { policy } => {
                let policy = &sub(policy);
                done(M::PutKeyPolicy {
                    key_id: target()?,
                    policy,
                })
                .await
            }
            MemberOp::UpdateKeyDescription { description } => {
                done(M::UpdateKeyDescription {
                    key_id: target()?,
                    description,
                })
                .await
            }
            MemberOp::ScheduleKeyDeletion { window_days } => {
                done(M::ScheduleKeyDeletion {
                    key_id: target()?,
                    window_days: *window_days,
                })
                .await
            }
            MemberOp::RestoreKey => done(M::CancelKeyDeletion { key_id: target()? }).await,
            MemberOp::PutAlias { alias } => {
                done(M::PutAlias {
                    alias,
                    key_id: target()?,
                })
                .await
            }
            MemberOp::DeleteAlias { alias } => done(M::DeleteAlias { alias }).await,
            MemberOp::TagKey { tags } => {
                done(M::TagKey {
                    key_id: target()?,
                    tags,
                })
                .await
            }
            MemberOp::UntagKey { keys } => {
                done(M::UntagKey {
                    key_id: target()?,
                    keys,
                })
                .await
            }
        }
    }
}
