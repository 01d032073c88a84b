//! The executor's member-account operations: EC2 (networks) and KMS (keys) calls in
//! one account and region, each paced by its service's limiter for that account and
//! region; deletes wait out `DependencyViolation` while AWS releases what a deleted
//! resource held.

use std::future::Future;
use std::sync::atomic::Ordering;

use crate::provider::{
    EndpointModification, EndpointRequest, ErrorKind, MemberScope, ProviderResult,
};
use landfall_core::model::substitute;
use landfall_core::plan::{Change, MemberOp, Ref};

use super::{ApplyError, Executor, Pace};

/// The member-account service an operation calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum MemberService {
    Ec2,
    Kms,
}

impl MemberService {
    pub(super) fn of(op: &MemberOp) -> Self {
        match op {
            MemberOp::CreateKey { .. }
            | MemberOp::SetKeyRotation { .. }
            | MemberOp::PutKeyPolicy { .. }
            | MemberOp::UpdateKeyDescription { .. }
            | MemberOp::ScheduleKeyDeletion { .. }
            | MemberOp::RestoreKey
            | MemberOp::PutAlias { .. }
            | MemberOp::DeleteAlias { .. }
            | MemberOp::TagKey { .. }
            | MemberOp::UntagKey { .. } => MemberService::Kms,
            MemberOp::CreateVpc { .. }
            | MemberOp::DeleteVpc
            | MemberOp::CreateSubnet { .. }
            | MemberOp::DeleteSubnet
            | MemberOp::CreateRouteTable { .. }
            | MemberOp::AssociateRouteTable { .. }
            | MemberOp::DeleteRouteTable
            | MemberOp::CreateSecurityGroup { .. }
            | MemberOp::SetIngress { .. }
            | MemberOp::DeleteSecurityGroup
            | MemberOp::CreateEndpoint { .. }
            | MemberOp::ModifyEndpoint { .. }
            | MemberOp::DeleteEndpoint
            | MemberOp::TagEc2 { .. }
            | MemberOp::UntagEc2 { .. } => MemberService::Ec2,
        }
    }
}

impl Executor {
    pub(super) fn resolve_all(
        &self,
        change: &Change,
        refs: &[Ref],
    ) -> Result<Vec<String>, ApplyError> {
        refs.iter().map(|r| self.resolve(change, r)).collect()
    }

    /// Deletes retry `DependencyViolation` for a while: AWS releases an interface
    /// endpoint's network interfaces some time after the endpoint is deleted.
    pub(super) async fn delete_call<F, Fut>(
        &self,
        change: &Change,
        pace: Pace<'_>,
        f: F,
    ) -> Result<(), ApplyError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ProviderResult<()>>,
    {
        let mut delay = self.limits.base_backoff;
        for attempt in 0..=self.limits.max_retries {
            let r = self.call(change, pace, &f).await;
            match r {
                Err(ApplyError::Provider { source, .. })
                    if source.kind == ErrorKind::DependencyViolation
                        && attempt < self.limits.max_retries =>
                {
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    self.progress.retrying(change, &source, delay);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.limits.max_backoff);
                }
                other => return Self::tolerate(other, &[ErrorKind::NotFound]),
            }
        }
        Ok(())
    }

    pub(super) async fn run_member_op(
        &self,
        change: &Change,
        scope: &MemberScope,
        op: &MemberOp,
        id: Option<&str>,
    ) -> Result<Option<String>, ApplyError> {
        let p = &self.provider;
        let need_id = || {
            id.map(str::to_string).ok_or_else(|| ApplyError::MissingId {
                address: change.address.clone(),
            })
        };
        let sub = |text: &str| substitute(text, &scope.account_id, &scope.region);
        let pace = Pace::Member(MemberService::of(op), scope);
        match op {
            MemberOp::CreateVpc { cidr, tags } => {
                let id = self
                    .call(change, pace, || p.create_vpc(scope, cidr, tags))
                    .await?;
                Ok(Some(id))
            }
            MemberOp::DeleteVpc => {
                let id = need_id()?;
                self.delete_call(change, pace, || p.delete_vpc(scope, &id))
                    .await?;
                Ok(None)
            }
            MemberOp::CreateSubnet {
                vpc,
                az,
                cidr,
                tags,
            } => {
                let vpc = self.resolve(change, vpc)?;
                let id = self
                    .call(change, pace, || {
                        p.create_subnet(scope, &vpc, az, cidr, tags)
                    })
                    .await?;
                Ok(Some(id))
            }
            MemberOp::DeleteSubnet => {
                let id = need_id()?;
                self.delete_call(change, pace, || p.delete_subnet(scope, &id))
                    .await?;
                Ok(None)
            }
            MemberOp::CreateRouteTable { vpc, tags } => {
                let vpc = self.resolve(change, vpc)?;
                let id = self
                    .call(change, pace, || p.create_route_table(scope, &vpc, tags))
                    .await?;
                Ok(Some(id))
            }
            MemberOp::AssociateRouteTable { subnet } => {
                let id = need_id()?;
                let subnet = self.resolve(change, subnet)?;
                self.call(change, pace, || {
                    p.associate_route_table(scope, &id, &subnet)
                })
                .await?;
                Ok(None)
            }
            MemberOp::DeleteRouteTable => {
                let id = need_id()?;
                self.delete_call(change, pace, || p.delete_route_table(scope, &id))
                    .await?;
                Ok(None)
            }
            MemberOp::CreateSecurityGroup {
                vpc,
                name,
                description,
                ingress_cidr,
                tags,
            } => {
                let vpc = self.resolve(change, vpc)?;
                let id = self
                    .call(change, pace, || {
                        p.create_security_group(scope, &vpc, name, description, ingress_cidr, tags)
                    })
                    .await?;
                Ok(Some(id))
            }
            MemberOp::SetIngress { add, remove } => {
                let id = need_id()?;
                self.call(change, pace, || {
                    p.set_security_group_ingress(scope, &id, add, remove)
                })
                .await?;
                Ok(None)
            }
            MemberOp::DeleteSecurityGroup => {
                let id = need_id()?;
                self.delete_call(change, pace, || p.delete_security_group(scope, &id))
                    .await?;
                Ok(None)
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
                let id = self
                    .call(change, pace, || p.create_endpoint(scope, &request))
                    .await?;
                Ok(Some(id))
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
                let id = need_id()?;
                let modification = EndpointModification {
                    add_subnet_ids: self.resolve_all(change, add_subnets)?,
                    remove_subnet_ids: remove_subnets.clone(),
                    add_security_group_ids: self.resolve_all(change, add_security_groups)?,
                    remove_security_group_ids: remove_security_groups.clone(),
                    add_route_table_ids: self.resolve_all(change, add_route_tables)?,
                    remove_route_table_ids: remove_route_tables.clone(),
                    policy: policy.as_ref().map(|p| p.as_deref().map(sub)),
                    private_dns: *private_dns,
                };
                self.call(change, pace, || {
                    p.modify_endpoint(scope, &id, &modification)
                })
                .await?;
                Ok(None)
            }
            MemberOp::DeleteEndpoint => {
                let id = need_id()?;
                self.delete_call(change, pace, || p.delete_endpoint(scope, &id))
                    .await?;
                Ok(None)
            }
            MemberOp::TagEc2 { tags } => {
                let id = need_id()?;
                self.call(change, pace, || p.tag_ec2(scope, &id, tags))
                    .await?;
                Ok(None)
            }
            MemberOp::UntagEc2 { keys } => {
                let id = need_id()?;
                self.call(change, pace, || p.untag_ec2(scope, &id, keys))
                    .await?;
                Ok(None)
            }
            MemberOp::CreateKey {
                description,
                policy,
                tags,
            } => {
                let policy = sub(policy);
                let id = self
                    .call(change, pace, || {
                        p.create_key(scope, description, &policy, tags)
                    })
                    .await?;
                Ok(Some(id))
            }
            MemberOp::SetKeyRotation { enabled } => {
                let id = need_id()?;
                self.call(change, pace, || p.set_key_rotation(scope, &id, *enabled))
                    .await?;
                Ok(None)
            }
            MemberOp::PutKeyPolicy { policy } => {
                let id = need_id()?;
                let policy = sub(policy);
                self.call(change, pace, || p.put_key_policy(scope, &id, &policy))
                    .await?;
                Ok(None)
            }
            MemberOp::UpdateKeyDescription { description } => {
                let id = need_id()?;
                self.call(change, pace, || {
                    p.update_key_description(scope, &id, description)
                })
                .await?;
                Ok(None)
            }
            MemberOp::ScheduleKeyDeletion { window_days } => {
                let id = need_id()?;
                self.call(change, pace, || {
                    p.schedule_key_deletion(scope, &id, *window_days)
                })
                .await?;
                Ok(None)
            }
            MemberOp::RestoreKey => {
                let id = need_id()?;
                self.call(change, pace, || p.restore_key(scope, &id))
                    .await?;
                Ok(None)
            }
            MemberOp::PutAlias { alias } => {
                let id = need_id()?;
                self.call(change, pace, || p.put_alias(scope, alias, &id))
                    .await?;
                Ok(None)
            }
            MemberOp::DeleteAlias { alias } => {
                let r = self
                    .call(change, pace, || p.delete_alias(scope, alias))
                    .await;
                Self::tolerate(r, &[ErrorKind::NotFound])?;
                Ok(None)
            }
            MemberOp::TagKey { tags } => {
                let id = need_id()?;
                self.call(change, pace, || p.tag_key(scope, &id, tags))
                    .await?;
                Ok(None)
            }
            MemberOp::UntagKey { keys } => {
                let id = need_id()?;
                self.call(change, pace, || p.untag_key(scope, &id, keys))
                    .await?;
                Ok(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// KMS calls are paced by the KMS bucket of their account and region, everything
    /// else a member operation does by the EC2 one.
    #[test]
    fn member_operations_are_paced_by_their_service() {
        let kms = [
            MemberOp::CreateKey {
                description: String::new(),
                policy: String::new(),
                tags: Default::default(),
            },
            MemberOp::SetKeyRotation { enabled: true },
            MemberOp::RestoreKey,
            MemberOp::PutAlias {
                alias: "alias/x".into(),
            },
        ];
        for op in &kms {
            assert_eq!(MemberService::of(op), MemberService::Kms, "{op:?}");
        }
        let ec2 = [
            MemberOp::CreateVpc {
                cidr: "10.0.0.0/16".into(),
                tags: Default::default(),
            },
            MemberOp::DeleteEndpoint,
            MemberOp::TagEc2 {
                tags: Default::default(),
            },
        ];
        for op in &ec2 {
            assert_eq!(MemberService::of(op), MemberService::Ec2, "{op:?}");
        }
    }
}
