//! What `refresh_security` reads, as the world answers each piece: trusted access,
//! delegated administrators, GuardDuty's and Security Hub's admin accounts, and the
//! trails, buckets, aggregators and analyzers of one account and region. The
//! backend makes one throttled, timed call per AWS API the AWS backend makes
//! ([`crate::SimBackend`]'s `refresh_security`), then reads the world once.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::live::{LiveAggregator, LiveAnalyzer, LiveBucket, LiveSecurity, LiveTrail};

use super::iam::role_arn;
use crate::world::World;

impl World {
    /// `DescribeTrails` (no shadow trails) in an account and region: the trails whose
    /// home region it is and that the account manages.
    pub fn live_trails(&self, account_id: &str, region: &str) -> Vec<LiveTrail> {
        let scope = landfall_engine::provider::MemberScope {
            account_id: account_id.to_string(),
            region: region.to_string(),
        };
        self.security
            .trails
            .values()
            .filter(|t| t.home_region == region && self.manages_trail(&scope, t))
            .map(|t| LiveTrail {
                arn: t.arn.clone(),
                name: t.name.clone(),
                home_region: t.home_region.clone(),
                s3_bucket_name: t.s3_bucket_name.clone(),
                s3_key_prefix: t.s3_key_prefix.clone(),
                kms_key_id: Some(t.kms_key_id.clone()),
                multi_region: t.multi_region,
                organization: t.organization,
                log_file_validation: t.log_file_validation,
                logging: t.logging,
                tags: t.tags.clone(),
            })
            .collect()
    }

    /// A bucket of the account, as its `Get*` calls read it; `None` when it does not
    /// exist (`NoSuchBucket`) or is another account's.
    pub fn live_bucket(&self, account_id: &str, name: &str) -> Option<LiveBucket> {
        let b = self
            .security
            .buckets
            .get(name)
            .filter(|b| b.account_id == account_id)?;
        Some(LiveBucket {
            name: b.name.clone(),
            account_id: b.account_id.clone(),
            region: b.region.clone(),
            versioning: b.versioning,
            kms_key: b.kms_key.clone(),
            public_access_blocked: b.public_access_blocked,
            policy: b.policy.clone(),
            object_lock: b.object_lock.clone().filter(|_| b.object_lock_enabled),
            object_lock_enabled: b.object_lock_enabled,
            lifecycle: b.lifecycle.clone(),
            tags: b.tags.clone(),
        })
    }

    /// `DescribeConfigurationAggregators` in an account and region; `role_exists`
    /// from IAM `GetRole(role_name)` in the account.
    pub fn live_aggregators(
        &self,
        account_id: &str,
        region: &str,
        role_name: &str,
    ) -> Vec<LiveAggregator> {
        let role_exists = self.role_exists(&role_arn(account_id, role_name));
        self.security
            .aggregators
            .values()
            .filter(|a| a.account_id == account_id && a.region == region)
            .map(|a| LiveAggregator {
                name: a.name.clone(),
                arn: a.arn.clone(),
                account_id: a.account_id.clone(),
                region: a.region.clone(),
                organization_role_arn: Some(a.role_arn.clone()),
                all_regions: true,
                role_exists,
            })
            .collect()
    }

    /// `ListAnalyzers` in an account and region.
    pub fn live_analyzers(&self, account_id: &str, region: &str) -> Vec<LiveAnalyzer> {
        self.security
            .analyzers
            .values()
            .filter(|a| a.account_id == account_id && a.region == region)
            .map(|a| LiveAnalyzer {
                name: a.name.clone(),
                arn: a.arn.clone(),
                account_id: a.account_id.clone(),
                region: a.region.clone(),
                analyzer_type: a.analyzer_type.clone(),
                status: "ACTIVE".to_string(),
                tags: a.tags.clone(),
            })
            .collect()
    }

    /// GuardDuty's / Security Hub's `ListOrganizationAdminAccounts` in a region.
    pub fn organization_admin_accounts(&self, principal: &str, region: &str) -> BTreeSet<String> {
        self.security
            .organization_admins
            .get(principal)
            .and_then(|regions| regions.get(region))
            .into_iter()
            .cloned()
            .collect()
    }

    /// Everything the services hold, every account and region (tests, snapshots; no
    /// calls). Role existence is that of the role each aggregator names.
    pub fn security_snapshot(&self) -> LiveSecurity {
        let mut organization_admins: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> =
            BTreeMap::new();
        for (principal, regions) in &self.security.organization_admins {
            for (region, account) in regions {
                organization_admins
                    .entry(principal.clone())
                    .or_default()
                    .entry(region.clone())
                    .or_default()
                    .insert(account.clone());
            }
        }
        let mut trails = BTreeMap::new();
        let homes: BTreeSet<(String, String)> = self
            .security
            .trails
            .values()
            .map(|t| (t.owner.clone(), t.home_region.clone()))
            .collect();
        for (owner, region) in homes {
            for t in self.live_trails(&owner, &region) {
                trails.insert(t.arn.clone(), t);
            }
        }
        LiveSecurity {
            read: true,
            service_access: self.service_access(),
            delegated_admins: self.security.delegated_admins.clone(),
            organization_admins,
            trails,
            buckets: self
                .security
                .buckets
                .values()
                .filter_map(|b| self.live_bucket(&b.account_id, &b.name))
                .map(|b| (b.name.clone(), b))
                .collect(),
            aggregators: self
                .security
                .aggregators
                .values()
                .map(|a| {
                    let role_exists = self.role_exists(&a.role_arn);
                    let live = LiveAggregator {
                        name: a.name.clone(),
                        arn: a.arn.clone(),
                        account_id: a.account_id.clone(),
                        region: a.region.clone(),
                        organization_role_arn: Some(a.role_arn.clone()),
                        all_regions: true,
                        role_exists,
                    };
                    (a.name.clone(), live)
                })
                .collect(),
            analyzers: self
                .security
                .analyzers
                .values()
                .flat_map(|a| self.live_analyzers(&a.account_id, &a.region))
                .map(|a| (a.name.clone(), a))
                .collect(),
        }
    }
}

/// The backend's side of `refresh_security`: one call per AWS API the AWS backend
/// makes, each paced on its service's limiter in its account and region, throttled
/// and timed like any other call.
mod backend {
    use std::collections::BTreeSet;

    use landfall_core::live::{LiveSecurity, SecurityScope};
    use landfall_engine::call::AdminService;
    use landfall_engine::pacing::{ApiClass, PaceKey};
    use landfall_engine::provider::{MemberScope, Provider, ProviderResult};

    use crate::SimBackend;
    use crate::model::Service;
    use crate::world::{Rule, World};

    /// The client-side limiter of a service's calls.
    fn class_of(service: Service) -> ApiClass {
        match service {
            Service::S3 => ApiClass::S3,
            Service::CloudTrail => ApiClass::CloudTrail,
            Service::Iam => ApiClass::Iam,
            Service::Config => ApiClass::Config,
            Service::AccessAnalyzer => ApiClass::AccessAnalyzer,
            Service::GuardDuty => ApiClass::GuardDuty,
            Service::SecurityHub => ApiClass::SecurityHub,
            Service::Organizations => ApiClass::OrganizationsReads,
            Service::Ec2 => ApiClass::Ec2Reads,
            Service::Kms => ApiClass::KmsReads,
            Service::ControlTower => ApiClass::ControlTowerReads,
            Service::ServiceCatalog => ApiClass::ServiceCatalogReads,
            Service::IdentityCenter => ApiClass::IdentityCenter,
        }
    }

    fn scope_of(account_id: &str, region: &str) -> MemberScope {
        MemberScope {
            account_id: account_id.to_string(),
            region: region.to_string(),
        }
    }

    impl SimBackend {
        /// One read of `service` in an account and region: paced, latency and
        /// throttling, the access check (the account must be active), then the
        /// world read; retried on throttling.
        async fn security_read<T, F>(
            &self,
            api: &'static str,
            scope: &MemberScope,
            service: Service,
            read: F,
        ) -> ProviderResult<T>
        where
            F: Fn(&World) -> Rule<T> + Send + Sync,
            T: Send,
        {
            let key = PaceKey::member(class_of(service), &scope.account_id, &scope.region);
            self.pacer
                .read(&key, &self.limits(), || async {
                    self.enter_as(api, Some(scope), Some(service)).await?;
                    let world = self.lock();
                    world
                        .check_member_access(scope, &self.access_role)
                        .and_then(|()| read(&world))
                        .map_err(|d| d.at(api))
                })
                .await
        }

        pub(crate) async fn read_security(
            &self,
            scope: &SecurityScope,
        ) -> ProviderResult<LiveSecurity> {
            let mut live = LiveSecurity {
                read: true,
                ..LiveSecurity::default()
            };
            live.service_access = self
                .read_organization("ListAWSServiceAccessForOrganization", |w| {
                    Ok(w.service_access())
                })
                .await?;
            let admins: BTreeSet<String> = self
                .read_organization("ListDelegatedAdministrators", |w| {
                    Ok(w.security
                        .delegated_admins
                        .values()
                        .flatten()
                        .cloned()
                        .collect())
                })
                .await?;
            for account in admins {
                let services: Vec<String> = self
                    .read_organization("ListDelegatedServicesForAccount", |w| {
                        Ok(w.security
                            .delegated_admins
                            .iter()
                            .filter(|(_, accounts)| accounts.contains(&account))
                            .map(|(principal, _)| principal.clone())
                            .collect())
                    })
                    .await?;
                for principal in services {
                    live.delegated_admins
                        .entry(principal)
                        .or_default()
                        .insert(account.clone());
                }
            }
            let management = self.lock().management_account_id.clone();
            for (principal, region) in &scope.organization_admins {
                let service = match AdminService::of(principal) {
                    Some(AdminService::GuardDuty) => Service::GuardDuty,
                    Some(AdminService::SecurityHub) => Service::SecurityHub,
                    None => continue,
                };
                let accounts = self
                    .security_read(
                        "ListOrganizationAdminAccounts",
                        &scope_of(&management, region),
                        service,
                        |w| Ok(w.organization_admin_accounts(principal, region)),
                    )
                    .await?;
                live.organization_admins
                    .entry(principal.clone())
                    .or_default()
                    .insert(region.clone(), accounts);
            }
            for (account, region) in &scope.trails {
                let at = scope_of(account, region);
                let trails = self
                    .security_read("DescribeTrails", &at, Service::CloudTrail, |w| {
                        Ok(w.live_trails(account, region))
                    })
                    .await?;
                for _ in &trails {
                    self.security_read("GetTrailStatus", &at, Service::CloudTrail, |_| Ok(()))
                        .await?;
                }
                if !trails.is_empty() {
                    self.security_read("ListTags", &at, Service::CloudTrail, |_| Ok(()))
                        .await?;
                }
                for trail in trails {
                    live.trails.insert(trail.arn.clone(), trail);
                }
            }
            for (account, region, name) in &scope.buckets {
                let at = scope_of(account, region);
                let exists = self
                    .security_read("GetBucketVersioning", &at, Service::S3, |w| {
                        Ok(w.live_bucket(account, name).is_some())
                    })
                    .await?;
                if !exists {
                    continue;
                }
                for api in [
                    "GetBucketEncryption",
                    "GetPublicAccessBlock",
                    "GetBucketPolicy",
                    "GetObjectLockConfiguration",
                    "GetBucketLifecycleConfiguration",
                ] {
                    self.security_read(api, &at, Service::S3, |_| Ok(()))
                        .await?;
                }
                // The last call answers for the bucket as it is now.
                if let Some(bucket) = self
                    .security_read("GetBucketTagging", &at, Service::S3, |w| {
                        Ok(w.live_bucket(account, name))
                    })
                    .await?
                {
                    live.buckets.insert(name.clone(), bucket);
                }
            }
            for (account, region, role_name) in &scope.aggregators {
                let at = scope_of(account, region);
                self.security_read("GetRole", &at, Service::Iam, |_| Ok(()))
                    .await?;
                let aggregators = self
                    .security_read(
                        "DescribeConfigurationAggregators",
                        &at,
                        Service::Config,
                        |w| Ok(w.live_aggregators(account, region, role_name)),
                    )
                    .await?;
                for a in aggregators {
                    live.aggregators.insert(a.name.clone(), a);
                }
            }
            for (account, region) in &scope.analyzers {
                let at = scope_of(account, region);
                let analyzers = self
                    .security_read("ListAnalyzers", &at, Service::AccessAnalyzer, |w| {
                        Ok(w.live_analyzers(account, region))
                    })
                    .await?;
                for a in analyzers {
                    live.analyzers.insert(a.name.clone(), a);
                }
            }
            Ok(live)
        }
    }
}
