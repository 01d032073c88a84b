//! The read of IAM Identity Center for a refresh (`Provider::refresh_identity`), as far
//! as the identity scope asks:
//!
//! 1. the instance (`ListInstances`, once per run); none: Identity Center is not
//!    enabled, and nothing else is read;
//! 2. at once: every permission set (`ListPermissionSets`, then `DescribePermissionSet`
//!    each) — for those named in scope also their managed policies, customer-managed
//!    references, inline policy, permissions boundary, tags, the accounts they are
//!    provisioned to and those whose copy is outdated (seven reads each, at once); the
//!    groups asked for by display name (`GetGroupId`, `DescribeGroup`) and by id
//!    (`DescribeGroup`); the users asked for (`GetUserId`);
//! 3. the account assignments of each detailed set in each account it is provisioned
//!    to (`ListAccountAssignments`);
//! 4. the display names of the other groups those assignments name (`DescribeGroup`).
//!
//! Every call is paced on the `identity_center` limiter, which decides how fast they go.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use aws_sdk_ssoadmin::types::ProvisioningStatus;
use aws_smithy_types::Document;
use futures::stream::{self, StreamExt, TryStreamExt};
use landfall_core::live::{
    IdentityScope, LiveAssignment, LiveGroup, LiveIdentity, LiveIdentityInstance,
    LivePermissionSet, PrincipalType,
};
use landfall_engine::provider::{ErrorKind, ProviderError, ProviderResult};

use crate::AwsBackend;
use crate::identity::{
    IDENTITYSTORE, IdentityCenter, SSO, boundary_of, customer_ref_of, principal_of, tags_of,
};

/// The session duration AWS gives a permission set created without one.
const DEFAULT_SESSION_DURATION: &str = "PT1H";

pub(crate) async fn refresh(
    aws: &AwsBackend,
    scope: &IdentityScope,
) -> ProviderResult<LiveIdentity> {
    aws.remember_identity_region(&scope.region);
    let region = Some(scope.region.as_str()).filter(|r| !r.is_empty());
    let center = aws.identity_center(region, "ListInstances")?;
    let Some(instance) = aws.identity_instance(&center).await? else {
        return Ok(LiveIdentity {
            read: true,
            ..LiveIdentity::default()
        });
    };
    let reader = Reader {
        aws,
        center: &center,
        instance: &instance,
    };
    // Boxed: the reads' futures are large, and polled inline they would fill a
    // thread's stack (2 MiB for tokio's workers and test threads).
    // Groups by the ids the state records only when their names did not find them (a
    // group renamed outside Landfall): usually none, so no call is spent on them.
    let groups = async {
        let mut groups = reader.groups_by_name(&scope.groups).await?;
        let found: BTreeSet<&str> = groups.values().map(|g| g.id.as_str()).collect();
        let missing: BTreeSet<String> = scope
            .group_ids
            .iter()
            .filter(|id| !found.contains(id.as_str()))
            .cloned()
            .collect();
        for group in reader.groups_by_id(&missing).await? {
            groups.entry(group.display_name.clone()).or_insert(group);
        }
        Ok::<_, ProviderError>(groups)
    };
    let (permission_sets, groups, users) = futures::try_join!(
        Box::pin(reader.permission_sets(&scope.permission_sets)),
        Box::pin(groups),
        Box::pin(reader.users(&scope.users)),
    )?;
    // Two views of the assignments: every principal's in each account a detailed set is
    // provisioned to (assignments made outside Landfall to anyone), and the principals
    // Landfall names, wherever they have a detailed set — which also finds an
    // assignment whose set AWS does not list as provisioned there (moto never does).
    let principals: Vec<(PrincipalType, String)> = groups
        .values()
        .map(|g| (PrincipalType::Group, g.id.clone()))
        .chain(users.values().map(|id| (PrincipalType::User, id.clone())))
        .collect();
    let (mut assignments, of_principals) = futures::try_join!(
        Box::pin(reader.assignments(&permission_sets)),
        Box::pin(reader.assignments_of_principals(&principals, &permission_sets)),
    )?;
    assignments.extend(of_principals);
    let known: BTreeSet<&str> = groups.values().map(|g| g.id.as_str()).collect();
    let others: BTreeSet<&str> = assignments
        .iter()
        .filter(|a| a.principal_type == PrincipalType::Group)
        .map(|a| a.principal_id.as_str())
        .filter(|id| !known.contains(id))
        .collect();
    let group_names = reader
        .groups_by_id(&others.into_iter().map(str::to_string).collect())
        .await?
        .into_iter()
        .map(|g| (g.id, g.display_name))
        .collect();
    Ok(LiveIdentity {
        read: true,
        instance: Some(instance),
        permission_sets,
        groups,
        users,
        group_names,
        assignments,
    })
}

struct Reader<'a> {
    aws: &'a AwsBackend,
    center: &'a IdentityCenter,
    instance: &'a LiveIdentityInstance,
}

impl Reader<'_> {
    fn inst(&self) -> &str {
        &self.instance.arn
    }

    fn store_id(&self) -> &str {
        &self.instance.identity_store_id
    }

    /// Every permission set, detailed when its name is in `detailed`.
    async fn permission_sets(
        &self,
        detailed: &BTreeSet<String>,
    ) -> ProviderResult<BTreeMap<String, LivePermissionSet>> {
        let sso = &self.center.sso;
        let pages = self
            .aws
            .ic_pages(
                SSO,
                "ListPermissionSets",
                |token| {
                    sso.list_permission_sets()
                        .instance_arn(self.inst())
                        .set_next_token(token)
                        .send()
                },
                |page| page.next_token().map(str::to_string),
            )
            .await?;
        let arns: BTreeSet<String> = pages
            .iter()
            .flat_map(|p| p.permission_sets().iter().cloned())
            .collect();
        let sets: Vec<Option<LivePermissionSet>> = stream::iter(arns)
            .map(|arn| async move {
                let Some(set) = self.describe(&arn).await? else {
                    // Deleted since the list.
                    return Ok(None);
                };
                if detailed.contains(&set.name) {
                    Box::pin(self.detail(set)).await.map(Some)
                } else {
                    Ok(Some(set))
                }
            })
            .buffer_unordered(crate::ALL_AT_ONCE)
            .try_collect()
            .await?;
        Ok(sets
            .into_iter()
            .flatten()
            .map(|s| (s.arn.clone(), s))
            .collect())
    }

    async fn describe(&self, arn: &str) -> ProviderResult<Option<LivePermissionSet>> {
        let sso = &self.center.sso;
        let api = "DescribePermissionSet";
        let Some(out) = self
            .aws
            .ic_find(SSO, api, || {
                sso.describe_permission_set()
                    .instance_arn(self.inst())
                    .permission_set_arn(arn)
                    .send()
            })
            .await?
        else {
            return Ok(None);
        };
        let set = out
            .permission_set()
            .ok_or_else(|| crate::errors::empty_response(api, "permission set"))?;
        let name = set
            .name()
            .ok_or_else(|| crate::errors::empty_response(api, "permission set name"))?;
        Ok(Some(LivePermissionSet {
            arn: arn.to_string(),
            name: name.to_string(),
            description: set
                .description()
                .filter(|d| !d.is_empty())
                .map(str::to_string),
            session_duration: set
                .session_duration()
                .unwrap_or(DEFAULT_SESSION_DURATION)
                .to_string(),
            managed_policies: BTreeSet::new(),
            customer_managed_policies: BTreeSet::new(),
            inline_policy: None,
            permissions_boundary: None,
            tags: Default::default(),
            provisioned_to: BTreeSet::new(),
            outdated_in: BTreeSet::new(),
            detailed: false,
        }))
    }

    /// A permission set's policies, tags and provisioned accounts (seven reads at once).
    async fn detail(&self, mut set: LivePermissionSet) -> ProviderResult<LivePermissionSet> {
        let sso = &self.center.sso;
        let aws = self.aws;
        let arn = set.arn.as_str();
        let inst = self.inst();
        let managed = aws.ic_pages(
            SSO,
            "ListManagedPoliciesInPermissionSet",
            |token| {
                sso.list_managed_policies_in_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(arn)
                    .set_next_token(token)
                    .send()
            },
            |page| page.next_token().map(str::to_string),
        );
        let customer = aws.ic_pages(
            SSO,
            "ListCustomerManagedPolicyReferencesInPermissionSet",
            |token| {
                sso.list_customer_managed_policy_references_in_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(arn)
                    .set_next_token(token)
                    .send()
            },
            |page| page.next_token().map(str::to_string),
        );
        let inline = aws.ic_read(SSO, "GetInlinePolicyForPermissionSet", || {
            sso.get_inline_policy_for_permission_set()
                .instance_arn(inst)
                .permission_set_arn(arn)
                .send()
        });
        // No boundary attached: `ResourceNotFoundException`.
        let boundary = async {
            let read = aws
                .ic_read_if_served(SSO, "GetPermissionsBoundaryForPermissionSet", || {
                    sso.get_permissions_boundary_for_permission_set()
                        .instance_arn(inst)
                        .permission_set_arn(arn)
                        .send()
                })
                .await;
            match read {
                Ok(out) => Ok(out
                    .and_then(|o| o.permissions_boundary().cloned())
                    .and_then(|b| boundary_of(&b))),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        };
        let tags = async {
            let mut tags = landfall_core::model::Tags::new();
            let mut token: Option<String> = None;
            loop {
                let page = aws
                    .ic_read_if_served(SSO, "ListTagsForResource", || {
                        sso.list_tags_for_resource()
                            .instance_arn(inst)
                            .resource_arn(arn)
                            .set_next_token(token.clone())
                            .send()
                    })
                    .await?;
                let Some(page) = page else {
                    return Ok::<_, ProviderError>(tags);
                };
                tags.extend(tags_of(page.tags()));
                match page.next_token() {
                    Some(t) if !t.is_empty() && Some(t) != token.as_deref() => {
                        token = Some(t.to_string())
                    }
                    _ => return Ok(tags),
                }
            }
        };
        let accounts = |status: Option<ProvisioningStatus>| {
            aws.ic_pages(
                SSO,
                "ListAccountsForProvisionedPermissionSet",
                move |token| {
                    sso.list_accounts_for_provisioned_permission_set()
                        .instance_arn(inst)
                        .permission_set_arn(arn)
                        .set_provisioning_status(status.clone())
                        .set_next_token(token)
                        .send()
                },
                |page| page.next_token().map(str::to_string),
            )
        };
        let (managed, customer, inline, boundary, tags, provisioned, outdated) = futures::try_join!(
            Box::pin(managed),
            Box::pin(customer),
            Box::pin(inline),
            Box::pin(boundary),
            Box::pin(tags),
            Box::pin(accounts(None)),
            Box::pin(accounts(Some(
                ProvisioningStatus::LatestPermissionSetNotProvisioned
            ))),
        )?;
        set.managed_policies = managed
            .iter()
            .flat_map(|p| p.attached_managed_policies())
            .filter_map(|p| p.arn().map(str::to_string))
            .collect();
        set.customer_managed_policies = customer
            .iter()
            .flat_map(|p| p.customer_managed_policy_references())
            .map(customer_ref_of)
            .collect();
        set.inline_policy = inline
            .inline_policy()
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        set.permissions_boundary = boundary;
        set.tags = tags;
        set.provisioned_to = provisioned
            .iter()
            .flat_map(|p| p.account_ids().iter().cloned())
            .collect();
        set.outdated_in = outdated
            .iter()
            .flat_map(|p| p.account_ids().iter().cloned())
            .collect();
        set.detailed = true;
        Ok(set)
    }

    /// The identifier `GetGroupId` / `GetUserId` look a name up by: a unique
    /// attribute (`displayName` of a group, `userName` of a user) with its value.
    fn alternate(
        api: &'static str,
        path: &str,
        value: &str,
    ) -> ProviderResult<AlternateIdentifier> {
        UniqueAttribute::builder()
            .attribute_path(path)
            .attribute_value(Document::String(value.to_string()))
            .build()
            .map(AlternateIdentifier::UniqueAttribute)
            .map_err(|e| ProviderError::new(ErrorKind::InvalidInput, api, e.to_string()))
    }

    /// The groups with these display names (absent when none has it).
    async fn groups_by_name(
        &self,
        names: &BTreeSet<String>,
    ) -> ProviderResult<BTreeMap<String, LiveGroup>> {
        let store = &self.center.store;
        let groups: Vec<Option<LiveGroup>> = stream::iter(names.iter().cloned())
            .map(|name| async move {
                let id = Self::alternate("GetGroupId", "displayName", &name)?;
                let found = self
                    .aws
                    .ic_find(IDENTITYSTORE, "GetGroupId", || {
                        store
                            .get_group_id()
                            .identity_store_id(self.store_id())
                            .alternate_identifier(id.clone())
                            .send()
                    })
                    .await?;
                match found {
                    Some(out) => self.describe_group(out.group_id()).await,
                    None => Ok(None),
                }
            })
            .buffer_unordered(crate::ALL_AT_ONCE)
            .try_collect()
            .await?;
        Ok(groups
            .into_iter()
            .flatten()
            .map(|g| (g.display_name.clone(), g))
            .collect())
    }

    /// The groups with these ids (absent when gone).
    async fn groups_by_id(&self, ids: &BTreeSet<String>) -> ProviderResult<Vec<LiveGroup>> {
        let groups: Vec<Option<LiveGroup>> = stream::iter(ids.iter().cloned())
            .map(|id| async move { self.describe_group(&id).await })
            .buffer_unordered(crate::ALL_AT_ONCE)
            .try_collect()
            .await?;
        Ok(groups.into_iter().flatten().collect())
    }

    async fn describe_group(&self, id: &str) -> ProviderResult<Option<LiveGroup>> {
        let store = &self.center.store;
        let out = self
            .aws
            .ic_find(IDENTITYSTORE, "DescribeGroup", || {
                store
                    .describe_group()
                    .identity_store_id(self.store_id())
                    .group_id(id)
                    .send()
            })
            .await?;
        Ok(out.map(|g| LiveGroup {
            id: g.group_id().to_string(),
            display_name: g.display_name().unwrap_or_default().to_string(),
            description: g
                .description()
                .filter(|d| !d.is_empty())
                .map(str::to_string),
        }))
    }

    /// User name → user id, for the user names found.
    async fn users(&self, names: &BTreeSet<String>) -> ProviderResult<BTreeMap<String, String>> {
        let store = &self.center.store;
        let users: Vec<Option<(String, String)>> = stream::iter(names.iter().cloned())
            .map(|name| async move {
                let id = Self::alternate("GetUserId", "userName", &name)?;
                let found = self
                    .aws
                    .ic_find(IDENTITYSTORE, "GetUserId", || {
                        store
                            .get_user_id()
                            .identity_store_id(self.store_id())
                            .alternate_identifier(id.clone())
                            .send()
                    })
                    .await?;
                Ok::<_, ProviderError>(found.map(|out| (name, out.user_id().to_string())))
            })
            .buffer_unordered(crate::ALL_AT_ONCE)
            .try_collect()
            .await?;
        Ok(users.into_iter().flatten().collect())
    }

    /// The assignments of these principals (`ListAccountAssignmentsForPrincipal`), of
    /// the detailed sets.
    async fn assignments_of_principals(
        &self,
        principals: &[(PrincipalType, String)],
        sets: &BTreeMap<String, LivePermissionSet>,
    ) -> ProviderResult<BTreeSet<LiveAssignment>> {
        let sso = &self.center.sso;
        let lists: Vec<Vec<LiveAssignment>> = stream::iter(principals.iter().cloned())
            .map(|(principal_type, principal_id)| async move {
                let kind = match principal_type {
                    PrincipalType::Group => aws_sdk_ssoadmin::types::PrincipalType::Group,
                    PrincipalType::User => aws_sdk_ssoadmin::types::PrincipalType::User,
                };
                let pages = self
                    .aws
                    .ic_pages(
                        SSO,
                        "ListAccountAssignmentsForPrincipal",
                        |token| {
                            sso.list_account_assignments_for_principal()
                                .instance_arn(self.inst())
                                .principal_id(&principal_id)
                                .principal_type(kind.clone())
                                .set_next_token(token)
                                .send()
                        },
                        |page| page.next_token().map(str::to_string),
                    )
                    .await?;
                Ok::<_, ProviderError>(
                    pages
                        .iter()
                        .flat_map(|p| p.account_assignments())
                        .filter_map(|a| {
                            let arn = a.permission_set_arn()?;
                            sets.get(arn).filter(|s| s.detailed)?;
                            Some(LiveAssignment {
                                permission_set_arn: arn.to_string(),
                                principal_type,
                                principal_id: principal_id.clone(),
                                account_id: a.account_id()?.to_string(),
                            })
                        })
                        .collect(),
                )
            })
            .buffer_unordered(crate::ALL_AT_ONCE)
            .try_collect()
            .await?;
        Ok(lists.into_iter().flatten().collect())
    }

    /// The assignments of every detailed set, in each account it is provisioned to.
    async fn assignments(
        &self,
        sets: &BTreeMap<String, LivePermissionSet>,
    ) -> ProviderResult<BTreeSet<LiveAssignment>> {
        let sso = &self.center.sso;
        let pairs: Vec<(String, String)> = sets
            .values()
            .filter(|s| s.detailed)
            .flat_map(|s| {
                s.provisioned_to
                    .iter()
                    .map(move |account| (s.arn.clone(), account.clone()))
            })
            .collect();
        let lists: Vec<Vec<LiveAssignment>> = stream::iter(pairs)
            .map(|(arn, account)| async move {
                let pages = self
                    .aws
                    .ic_pages(
                        SSO,
                        "ListAccountAssignments",
                        |token| {
                            sso.list_account_assignments()
                                .instance_arn(self.inst())
                                .account_id(&account)
                                .permission_set_arn(&arn)
                                .set_next_token(token)
                                .send()
                        },
                        |page| page.next_token().map(str::to_string),
                    )
                    .await?;
                Ok::<_, ProviderError>(
                    pages
                        .iter()
                        .flat_map(|p| p.account_assignments())
                        .filter_map(|a| {
                            Some(LiveAssignment {
                                permission_set_arn: a
                                    .permission_set_arn()
                                    .unwrap_or(&arn)
                                    .to_string(),
                                principal_type: principal_of(a.principal_type()?)?,
                                principal_id: a.principal_id()?.to_string(),
                                account_id: a.account_id().unwrap_or(&account).to_string(),
                            })
                        })
                        .collect(),
                )
            })
            .buffer_unordered(crate::ALL_AT_ONCE)
            .try_collect()
            .await?;
        Ok(lists.into_iter().flatten().collect())
    }
}
