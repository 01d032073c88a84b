//! What `refresh_identity` reads, one AWS API call at a time (each paced on the
//! Identity Center limiter, throttled and timed like any other call, so the AWS
//! model's log counts them by API): `ListInstances`; `ListPermissionSets` (pages) and
//! `DescribePermissionSet` for every set; for the sets in scope their policies,
//! boundary, tags, the accounts they are provisioned to (all, then the outdated ones)
//! and `ListAccountAssignments` in each; the groups and users by name
//! (`GetGroupId`/`GetUserId`, `DescribeGroup`), the groups recorded by id, and the
//! display names of the other groups the assignments name.

use std::collections::BTreeSet;

use landfall_core::live::{
    IdentityScope, LiveAssignment, LiveGroup, LiveIdentity, LiveIdentityInstance,
    LivePermissionSet, PrincipalType,
};
use landfall_core::model::{CustomerPolicyRef, PermissionsBoundary};
use landfall_engine::provider::{ErrorKind, ProviderResult};

use super::{Group, PermissionSet, not_found};
use crate::SimBackend;
use crate::world::{Rule, World};

/// Items per page of Identity Center's `List*` calls (their `MaxResults` is at most
/// 100).
pub(crate) const IDENTITY_PAGE_SIZE: usize = 100;

impl World {
    fn permission_set_arns(&self) -> Rule<Vec<String>> {
        self.instance()?;
        Ok(self.identity.permission_sets.keys().cloned().collect())
    }

    fn describe_permission_set(&self, arn: &str) -> Rule<PermissionSet> {
        self.instance()?;
        self.identity.set(arn).cloned()
    }

    /// `ListAccountsForProvisionedPermissionSet`, all or only those whose copy is not
    /// the latest (`LATEST_PERMISSION_SET_NOT_PROVISIONED`).
    fn provisioned_accounts(&self, arn: &str, outdated_only: bool) -> Rule<Vec<String>> {
        self.instance()?;
        let version = self.identity.set(arn)?.version;
        Ok(self
            .identity
            .provisioned
            .get(arn)
            .into_iter()
            .flatten()
            .filter(|(_, v)| !outdated_only || **v < version)
            .map(|(account, _)| account.clone())
            .collect())
    }

    /// `ListAccountAssignments` of a set in an account.
    fn account_assignments(&self, arn: &str, account_id: &str) -> Rule<Vec<LiveAssignment>> {
        self.instance()?;
        self.identity.set(arn)?;
        Ok(self
            .identity
            .assignments
            .iter()
            .filter(|a| a.permission_set_arn == arn && a.account_id == account_id)
            .cloned()
            .collect())
    }

    fn describe_group(&self, group_id: &str) -> Rule<Group> {
        self.instance()?;
        self.identity
            .groups
            .get(group_id)
            .cloned()
            .ok_or_else(|| not_found(format!("no group {group_id} in the identity store")))
    }

    fn group_id(&self, display_name: &str) -> Rule<String> {
        self.instance()?;
        self.group_named(display_name)
            .map(|g| g.id.clone())
            .ok_or_else(|| not_found(format!("no group with display name {display_name}")))
    }

    fn user_id(&self, user_name: &str) -> Rule<String> {
        self.instance()?;
        self.user_named(user_name)
            .map(|u| u.id.clone())
            .ok_or_else(|| not_found(format!("no user named {user_name}")))
    }

    /// Everything Identity Center holds, every set detailed and every group and user
    /// listed (tests and snapshots; no calls).
    pub fn identity_snapshot(&self) -> LiveIdentity {
        let Some(instance) = self.identity_instance() else {
            return LiveIdentity {
                read: true,
                ..LiveIdentity::default()
            };
        };
        let permission_sets = self
            .identity
            .permission_sets
            .values()
            .map(|set| {
                let provisioned_to = self.provisioned_accounts(&set.arn, false);
                let outdated_in = self.provisioned_accounts(&set.arn, true);
                let live = live_set(
                    set,
                    true,
                    provisioned_to.unwrap_or_default().into_iter().collect(),
                    outdated_in.unwrap_or_default().into_iter().collect(),
                );
                (set.arn.clone(), live)
            })
            .collect();
        LiveIdentity {
            read: true,
            instance: Some(LiveIdentityInstance {
                arn: instance.arn,
                identity_store_id: instance.identity_store_id,
            }),
            permission_sets,
            groups: self
                .identity
                .groups
                .values()
                .map(|g| (g.display_name.clone(), live_group(g)))
                .collect(),
            users: self
                .identity
                .users
                .values()
                .map(|u| (u.user_name.clone(), u.id.clone()))
                .collect(),
            group_names: Default::default(),
            assignments: self.identity.assignments.clone(),
        }
    }
}

fn live_group(g: &Group) -> LiveGroup {
    LiveGroup {
        id: g.id.clone(),
        display_name: g.display_name.clone(),
        description: g.description.clone(),
    }
}

/// A set as `DescribePermissionSet` shows it; its policies too when `detailed`.
fn live_set(
    set: &PermissionSet,
    detailed: bool,
    provisioned_to: BTreeSet<String>,
    outdated_in: BTreeSet<String>,
) -> LivePermissionSet {
    let mut live = LivePermissionSet {
        arn: set.arn.clone(),
        name: set.name.clone(),
        description: set.description.clone(),
        session_duration: set.session_duration.clone(),
        managed_policies: Default::default(),
        customer_managed_policies: Default::default(),
        inline_policy: None,
        permissions_boundary: None,
        tags: Default::default(),
        provisioned_to,
        outdated_in,
        detailed,
    };
    if detailed {
        live.managed_policies = set.managed_policies.clone();
        live.customer_managed_policies = set.customer_managed_policies.clone();
        live.inline_policy = set.inline_policy.clone();
        live.permissions_boundary = set.permissions_boundary.clone();
        live.tags = set.tags.clone();
    }
    live
}

/// `Ok(None)` for a `ResourceNotFoundException`: something read a moment ago that is
/// gone, or a name that is not there.
fn found<T>(read: ProviderResult<T>) -> ProviderResult<Option<T>> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl SimBackend {
    /// `refresh_identity`: see the module.
    pub(crate) async fn read_identity(
        &self,
        scope: &IdentityScope,
    ) -> ProviderResult<LiveIdentity> {
        let instance = self
            .identity_read("ListInstances", |w| Ok(w.identity_instance()))
            .await?;
        let mut live = LiveIdentity {
            read: true,
            ..LiveIdentity::default()
        };
        let Some(instance) = instance else {
            return Ok(live);
        };
        live.instance = Some(LiveIdentityInstance {
            arn: instance.arn,
            identity_store_id: instance.identity_store_id,
        });
        let arns = self
            .identity_list("ListPermissionSets", |w| w.permission_set_arns())
            .await?;
        for arn in &arns {
            let described = self
                .identity_read("DescribePermissionSet", |w| w.describe_permission_set(arn))
                .await;
            let Some(set) = found(described)? else {
                continue;
            };
            let detailed = scope.permission_sets.contains(&set.name);
            let read = if detailed {
                self.read_set_details(&set).await?
            } else {
                Some(live_set(&set, false, BTreeSet::new(), BTreeSet::new()))
            };
            let Some(read) = read else {
                continue;
            };
            if detailed {
                for account in &read.provisioned_to {
                    let listed = self
                        .identity_list("ListAccountAssignments", |w| {
                            w.account_assignments(arn, account)
                        })
                        .await;
                    live.assignments
                        .extend(found(listed)?.into_iter().flatten());
                }
            }
            live.permission_sets.insert(arn.clone(), read);
        }
        for name in &scope.groups {
            if let Some(group) = self.group_by_name(name).await? {
                live.groups.insert(group.display_name.clone(), group);
            }
        }
        for id in &scope.group_ids {
            let described = self
                .identity_read("DescribeGroup", |w| w.describe_group(id))
                .await;
            if let Some(group) = found(described)? {
                live.groups
                    .insert(group.display_name.clone(), live_group(&group));
            }
        }
        for name in &scope.users {
            let id = self.identity_read("GetUserId", |w| w.user_id(name)).await;
            if let Some(id) = found(id)? {
                live.users.insert(name.clone(), id);
            }
        }
        let known: BTreeSet<String> = live.groups.values().map(|g| g.id.clone()).collect();
        let others: BTreeSet<String> = live
            .assignments
            .iter()
            .filter(|a| {
                a.principal_type == PrincipalType::Group && !known.contains(&a.principal_id)
            })
            .map(|a| a.principal_id.clone())
            .collect();
        for id in &others {
            let described = self
                .identity_read("DescribeGroup", |w| w.describe_group(id))
                .await;
            if let Some(group) = found(described)? {
                live.group_names.insert(id.clone(), group.display_name);
            }
        }
        Ok(live)
    }

    /// The policies, boundary, tags and accounts of a set in scope (`None`: it went
    /// away meanwhile).
    async fn read_set_details(
        &self,
        set: &PermissionSet,
    ) -> ProviderResult<Option<LivePermissionSet>> {
        let arn = set.arn.as_str();
        let managed = self
            .identity_list("ListManagedPoliciesInPermissionSet", |w| {
                Ok(w.describe_permission_set(arn)?
                    .managed_policies
                    .into_iter()
                    .collect::<Vec<String>>())
            })
            .await;
        let Some(managed) = found(managed)? else {
            return Ok(None);
        };
        let customer = self
            .identity_list("ListCustomerManagedPolicyReferencesInPermissionSet", |w| {
                Ok(w.describe_permission_set(arn)?
                    .customer_managed_policies
                    .into_iter()
                    .collect::<Vec<CustomerPolicyRef>>())
            })
            .await;
        let Some(customer) = found(customer)? else {
            return Ok(None);
        };
        // AWS answers an empty string when the set has no inline policy.
        let inline = self
            .identity_read("GetInlinePolicyForPermissionSet", |w| {
                Ok(w.describe_permission_set(arn)?.inline_policy)
            })
            .await;
        let Some(inline) = found(inline)? else {
            return Ok(None);
        };
        let boundary = self
            .identity_read("GetPermissionsBoundaryForPermissionSet", |w| {
                w.describe_permission_set(arn)?
                    .permissions_boundary
                    .ok_or_else(|| not_found(format!("{arn} has no permissions boundary")))
            })
            .await;
        let boundary: Option<PermissionsBoundary> = found(boundary)?;
        let tags = self
            .identity_list_tags(|w| {
                Ok(w.describe_permission_set(arn)?
                    .tags
                    .into_iter()
                    .collect::<Vec<(String, String)>>())
            })
            .await;
        let Some(tags) = found(tags)? else {
            return Ok(None);
        };
        let provisioned = self
            .identity_list("ListAccountsForProvisionedPermissionSet", |w| {
                w.provisioned_accounts(arn, false)
            })
            .await;
        let Some(provisioned) = found(provisioned)? else {
            return Ok(None);
        };
        let outdated = self
            .identity_list("ListAccountsForProvisionedPermissionSet", |w| {
                w.provisioned_accounts(arn, true)
            })
            .await;
        let Some(outdated) = found(outdated)? else {
            return Ok(None);
        };
        let mut live = live_set(
            set,
            true,
            provisioned.into_iter().collect(),
            outdated.into_iter().collect(),
        );
        live.managed_policies = managed.into_iter().collect();
        live.customer_managed_policies = customer.into_iter().collect();
        live.inline_policy = inline.filter(|d| !d.is_empty());
        live.permissions_boundary = boundary;
        live.tags = tags.into_iter().collect();
        Ok(Some(live))
    }

    async fn group_by_name(&self, name: &str) -> ProviderResult<Option<LiveGroup>> {
        let id = self.identity_read("GetGroupId", |w| w.group_id(name)).await;
        let Some(id) = found(id)? else {
            return Ok(None);
        };
        let described = self
            .identity_read("DescribeGroup", |w| w.describe_group(&id))
            .await;
        Ok(found(described)?.map(|g| live_group(&g)))
    }
}
