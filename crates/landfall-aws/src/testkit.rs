//! Test helpers (feature `testkit`): a "console user" that changes the organization
//! and member accounts out-of-band and reads them back through plain SDK calls —
//! deliberately not through Landfall's refresh, so tests check Landfall against AWS's
//! own answers. Member-account helpers act as the access role of that account
//! (assumed with the SDK's `AssumeRoleProvider`), or as the caller in its own account.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_ec2::types::VpcEndpointType;
use aws_sdk_organizations::Client;
use aws_sdk_organizations::config::{Region, SharedCredentialsProvider};
use aws_sdk_organizations::types::PolicyType;

/// What a test needs to know about the organization, by names and paths.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OrgView {
    /// OU path → id.
    pub ous: BTreeMap<String, String>,
    /// account email (lowercase) → (name, parent path or "root", id).
    pub accounts: BTreeMap<String, (String, String, String)>,
    /// every email, duplicates kept (to prove there are none).
    pub all_emails: Vec<String>,
    /// policy name → (id, content).
    pub policies: BTreeMap<String, (String, String)>,
    /// (policy name, target: "root" | OU path | account name).
    pub attachments: BTreeSet<(String, String)>,
    pub root_id: String,
}

pub struct Console {
    org: Client,
    config: SdkConfig,
    role: String,
}

/// What a test needs to know about one member account and region (non-default VPCs
/// and what is in them, customer-managed keys), by CIDRs, service names and aliases.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// CIDRs of the non-default VPCs, sorted, duplicates kept.
    pub vpc_cidrs: Vec<String>,
    /// Subnets of non-default VPCs by CIDR.
    pub subnets: BTreeMap<String, SubnetView>,
    /// Non-default security groups by name: CIDRs allowed in on TCP 443.
    pub security_groups: BTreeMap<String, BTreeSet<String>>,
    /// Endpoints (not deleted) by service name.
    pub endpoints: BTreeMap<String, EndpointView>,
    /// Every endpoint's service name, sorted, duplicates kept (to prove there are none).
    pub all_endpoint_services: Vec<String>,
    /// Customer-managed keys by alias (`alias/...`).
    pub keys: BTreeMap<String, KeyView>,
    /// Customer-managed keys not pending deletion, with or without an alias.
    pub live_customer_keys: usize,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SubnetView {
    pub id: String,
    pub az: String,
    pub vpc_cidr: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EndpointView {
    pub id: String,
    pub vpc_cidr: String,
    /// `Gateway` or `Interface`.
    pub kind: String,
    pub policy: Option<String>,
    pub private_dns: bool,
    /// CIDRs of its subnets.
    pub subnets: BTreeSet<String>,
    pub route_table_ids: BTreeSet<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyView {
    pub id: String,
    pub description: String,
    pub rotation: bool,
    pub policy: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, ...
    pub state: String,
    pub tags: BTreeMap<String, String>,
}

/// EC2 and KMS clients acting in one member account and region.
struct MemberClients {
    ec2: aws_sdk_ec2::Client,
    kms: aws_sdk_kms::Client,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Console {
    /// Connects to an endpoint (moto's server) with static test credentials.
    pub async fn connect(endpoint: &str) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_organizations::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "landfall-testkit",
            ))
            .load()
            .await;
        Console {
            org: Client::new(&config),
            config,
            role: "OrganizationAccountAccessRole".into(),
        }
    }

    /// An S3 client on the same endpoint (path-style, as test servers need).
    fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.config)
                .force_path_style(true)
                .build(),
        )
    }

    /// Landfall's S3 state backend on this endpoint, as one run would open it.
    pub fn state_backend(
        &self,
        s3: &landfall_core::model::S3State,
    ) -> crate::state_s3::S3StateBackend {
        crate::state_s3::S3StateBackend::from_client(self.s3(), s3)
    }

    /// Creates a bucket as a console user would (no versioning, no encryption).
    pub async fn create_bucket(&self, bucket: &str) -> Result<(), BoxError> {
        self.s3().create_bucket().bucket(bucket).send().await?;
        Ok(())
    }

    /// Writes an object unconditionally (e.g. a lock left by a run that died).
    pub async fn put_object(&self, bucket: &str, key: &str, body: &str) -> Result<(), BoxError> {
        self.s3()
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from(
                body.as_bytes().to_vec(),
            ))
            .send()
            .await?;
        Ok(())
    }

    /// Whether the object exists.
    pub async fn object_exists(&self, bucket: &str, key: &str) -> bool {
        self.s3()
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .is_ok()
    }

    /// Creates a bucket with versioning enabled (and nothing else).
    pub async fn create_versioned_bucket(&self, bucket: &str) -> Result<(), BoxError> {
        let s3 = self.s3();
        s3.create_bucket().bucket(bucket).send().await?;
        s3.put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                aws_sdk_s3::types::VersioningConfiguration::builder()
                    .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await?;
        Ok(())
    }

    /// The bucket's versioning status, default encryption algorithm, whether all four
    /// public-access blocks are on, and its policy.
    pub async fn bucket_settings(
        &self,
        bucket: &str,
    ) -> Result<(Option<String>, Option<String>, bool, Option<String>), BoxError> {
        let s3 = self.s3();
        // moto's GetBucketVersioning reply has a root element the SDK refuses: its
        // `Status` is read from the raw reply then (as `S3StateBackend` does).
        let versioning = match s3.get_bucket_versioning().bucket(bucket).send().await {
            Ok(v) => v.status().map(|s| s.as_str().to_string()),
            Err(e) => {
                let xml = e
                    .raw_response()
                    .and_then(|r| r.body().bytes())
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                if !xml.contains("<Status>Enabled</Status>") {
                    return Err(Box::new(e));
                }
                Some("Enabled".to_string())
            }
        };
        let encryption = s3.get_bucket_encryption().bucket(bucket).send().await?;
        let algorithm = encryption
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| d.sse_algorithm().as_str().to_string());
        let block = s3.get_public_access_block().bucket(bucket).send().await?;
        let all = block.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        });
        let policy = s3
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await?
            .policy()
            .map(str::to_string);
        Ok((versioning, algorithm, all, policy))
    }

    /// Acts in member accounts through this role instead of `OrganizationAccountAccessRole`.
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        self.role = role.into();
        self
    }

    async fn member(&self, account_id: &str, region: &str) -> Result<MemberClients, BoxError> {
        let credentials = self.credentials(account_id).await?;
        let region = Region::new(region.to_string());
        Ok(MemberClients {
            ec2: aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&self.config)
                    .region(region.clone())
                    .credentials_provider(credentials.clone())
                    .build(),
            ),
            kms: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::config::Builder::from(&self.config)
                    .region(region)
                    .credentials_provider(credentials)
                    .build(),
            ),
        })
    }

    /// The caller's credentials in its own account, the access role's elsewhere.
    async fn credentials(&self, account_id: &str) -> Result<SharedCredentialsProvider, BoxError> {
        let sts = aws_sdk_sts::Client::new(&self.config);
        let me = sts.get_caller_identity().send().await?;
        let credentials = if me.account() == Some(account_id) {
            self.config
                .credentials_provider()
                .ok_or("no credentials provider")?
        } else {
            SharedCredentialsProvider::new(
                AssumeRoleProvider::builder(format!(
                    "arn:aws:iam::{account_id}:role/{}",
                    self.role
                ))
                .session_name("landfall-testkit")
                .configure(&self.config)
                .build()
                .await,
            )
        };
        Ok(credentials)
    }

    /// Reads one member account and region with the SDK's paginators.
    pub async fn member_view(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<MemberView, BoxError> {
        let c = self.member(account_id, region).await?;
        let mut v = MemberView::default();
        let vpcs: Vec<_> = c
            .ec2
            .describe_vpcs()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        let vpc_cidr: BTreeMap<String, String> = vpcs
            .iter()
            .filter(|vpc| vpc.is_default() != Some(true))
            .map(|vpc| {
                (
                    vpc.vpc_id().unwrap_or_default().to_string(),
                    vpc.cidr_block().unwrap_or_default().to_string(),
                )
            })
            .collect();
        v.vpc_cidrs = vpc_cidr.values().cloned().collect();
        v.vpc_cidrs.sort();
        let subnets: Vec<_> = c
            .ec2
            .describe_subnets()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        let mut subnet_cidr = BTreeMap::new();
        for s in subnets {
            let Some(vpc) = vpc_cidr.get(s.vpc_id().unwrap_or_default()) else {
                continue;
            };
            let cidr = s.cidr_block().unwrap_or_default().to_string();
            subnet_cidr.insert(s.subnet_id().unwrap_or_default().to_string(), cidr.clone());
            v.subnets.insert(
                cidr,
                SubnetView {
                    id: s.subnet_id().unwrap_or_default().to_string(),
                    az: s.availability_zone().unwrap_or_default().to_string(),
                    vpc_cidr: vpc.clone(),
                },
            );
        }
        let groups: Vec<_> = c
            .ec2
            .describe_security_groups()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        for g in groups {
            let name = g.group_name().unwrap_or_default();
            if name == "default" || !vpc_cidr.contains_key(g.vpc_id().unwrap_or_default()) {
                continue;
            }
            let cidrs = g
                .ip_permissions()
                .iter()
                .filter(|p| match p.ip_protocol() {
                    Some("-1") => true,
                    Some("tcp") => {
                        p.from_port().unwrap_or(0) <= 443 && 443 <= p.to_port().unwrap_or(0)
                    }
                    _ => false,
                })
                .flat_map(|p| p.ip_ranges())
                .filter_map(|r| r.cidr_ip().map(str::to_string))
                .collect();
            v.security_groups.insert(name.to_string(), cidrs);
        }
        let endpoints: Vec<_> = c
            .ec2
            .describe_vpc_endpoints()
            .into_paginator()
            .send()
            .try_collect()
            .await?
            .into_iter()
            .flat_map(|page| page.vpc_endpoints().to_vec())
            .collect();
        for e in endpoints {
            let state = e
                .state()
                .map(|s| s.as_str().to_ascii_lowercase())
                .unwrap_or_default();
            if state == "deleted" || state == "deleting" {
                continue;
            }
            let service = e.service_name().unwrap_or_default().to_string();
            v.all_endpoint_services.push(service.clone());
            v.endpoints.insert(
                service,
                EndpointView {
                    id: e.vpc_endpoint_id().unwrap_or_default().to_string(),
                    vpc_cidr: vpc_cidr
                        .get(e.vpc_id().unwrap_or_default())
                        .cloned()
                        .unwrap_or_default(),
                    kind: e
                        .vpc_endpoint_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    policy: e.policy_document().map(str::to_string),
                    private_dns: e.private_dns_enabled().unwrap_or(false),
                    subnets: e
                        .subnet_ids()
                        .iter()
                        .map(|id| subnet_cidr.get(id).cloned().unwrap_or_else(|| id.clone()))
                        .collect(),
                    route_table_ids: e.route_table_ids().iter().cloned().collect(),
                    tags: e
                        .tags()
                        .iter()
                        .map(|t| {
                            (
                                t.key().unwrap_or_default().to_string(),
                                t.value().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                },
            );
        }
        v.all_endpoint_services.sort();

        let keys: Vec<_> = c
            .kms
            .list_keys()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        let aliases: Vec<_> = c
            .kms
            .list_aliases()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        for k in keys {
            let id = k.key_id().unwrap_or_default();
            let d = c.kms.describe_key().key_id(id).send().await?;
            let Some(meta) = d.key_metadata() else {
                continue;
            };
            if meta.key_manager().map(|m| m.as_str()) != Some("CUSTOMER") {
                continue;
            }
            let state = meta
                .key_state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            if state != "PendingDeletion" {
                v.live_customer_keys += 1;
            }
            let rotation = c
                .kms
                .get_key_rotation_status()
                .key_id(id)
                .send()
                .await?
                .key_rotation_enabled();
            let policy = c
                .kms
                .get_key_policy()
                .key_id(id)
                .policy_name("default")
                .send()
                .await?
                .policy()
                .unwrap_or_default()
                .to_string();
            let tags = c
                .kms
                .list_resource_tags()
                .key_id(id)
                .send()
                .await?
                .tags()
                .iter()
                .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
                .collect();
            let view = KeyView {
                id: id.to_string(),
                description: meta.description().unwrap_or_default().to_string(),
                rotation,
                policy,
                state,
                tags,
            };
            for a in aliases.iter().filter(|a| a.target_key_id() == Some(id)) {
                if let Some(name) = a.alias_name() {
                    v.keys.insert(name.to_string(), view.clone());
                }
            }
        }
        Ok(v)
    }

    /// Endpoints (not deleted) of a service in a member account and region.
    async fn endpoint_ids(c: &MemberClients, service_name: &str) -> Result<Vec<String>, BoxError> {
        let endpoints: Vec<_> = c
            .ec2
            .describe_vpc_endpoints()
            .into_paginator()
            .send()
            .try_collect()
            .await?
            .into_iter()
            .flat_map(|page| page.vpc_endpoints().to_vec())
            .collect();
        let ids: Vec<String> = endpoints
            .iter()
            .filter(|e| e.service_name() == Some(service_name))
            .filter(|e| {
                !matches!(
                    e.state()
                        .map(|s| s.as_str().to_ascii_lowercase())
                        .as_deref(),
                    Some("deleted" | "deleting")
                )
            })
            .filter_map(|e| e.vpc_endpoint_id().map(str::to_string))
            .collect();
        if ids.is_empty() {
            return Err(format!("no endpoint for {service_name}").into());
        }
        Ok(ids)
    }

    /// Deletes every endpoint of a service, as someone in the console would.
    pub async fn delete_endpoint_by_service(
        &self,
        account_id: &str,
        region: &str,
        service_name: &str,
    ) -> Result<(), BoxError> {
        let c = self.member(account_id, region).await?;
        let ids = Self::endpoint_ids(&c, service_name).await?;
        let out = c
            .ec2
            .delete_vpc_endpoints()
            .set_vpc_endpoint_ids(Some(ids))
            .send()
            .await?;
        if !out.unsuccessful().is_empty() {
            return Err(format!("could not delete: {:?}", out.unsuccessful()).into());
        }
        Ok(())
    }

    /// Replaces the policy of every endpoint of a service.
    pub async fn set_endpoint_policy(
        &self,
        account_id: &str,
        region: &str,
        service_name: &str,
        policy: &str,
    ) -> Result<(), BoxError> {
        let c = self.member(account_id, region).await?;
        for id in Self::endpoint_ids(&c, service_name).await? {
            c.ec2
                .modify_vpc_endpoint()
                .vpc_endpoint_id(id)
                .policy_document(policy)
                .send()
                .await?;
        }
        Ok(())
    }

    /// Turns off the rotation of the key behind an alias (`alias/...`).
    pub async fn disable_key_rotation(
        &self,
        account_id: &str,
        region: &str,
        alias: &str,
    ) -> Result<(), BoxError> {
        let c = self.member(account_id, region).await?;
        let aliases: Vec<_> = c
            .kms
            .list_aliases()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        let key = aliases
            .iter()
            .find(|a| a.alias_name() == Some(alias))
            .and_then(|a| a.target_key_id())
            .ok_or_else(|| format!("no key behind {alias}"))?;
        c.kms.disable_key_rotation().key_id(key).send().await?;
        Ok(())
    }

    /// Creates an interface endpoint Landfall does not manage (no tags, no subnets) in
    /// the non-default VPC with this CIDR; returns its id.
    pub async fn create_endpoint(
        &self,
        account_id: &str,
        region: &str,
        vpc_cidr: &str,
        service_name: &str,
    ) -> Result<String, BoxError> {
        let c = self.member(account_id, region).await?;
        let vpcs: Vec<_> = c
            .ec2
            .describe_vpcs()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        let vpc = vpcs
            .iter()
            .find(|v| v.is_default() != Some(true) && v.cidr_block() == Some(vpc_cidr))
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| format!("no VPC with CIDR {vpc_cidr}"))?;
        let out = c
            .ec2
            .create_vpc_endpoint()
            .vpc_id(vpc)
            .service_name(service_name)
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .send()
            .await?;
        Ok(out
            .vpc_endpoint()
            .and_then(|e| e.vpc_endpoint_id())
            .ok_or("no endpoint id in the response")?
            .to_string())
    }

    /// Reads the organization with the SDK's paginators.
    pub async fn view(&self) -> Result<OrgView, BoxError> {
        let mut v = OrgView::default();
        let roots = self.org.list_roots().send().await?;
        v.root_id = roots
            .roots()
            .first()
            .and_then(|r| r.id())
            .ok_or("no root")?
            .to_string();
        let mut parents = vec![(v.root_id.clone(), "root".to_string())];
        while let Some((id, path)) = parents.pop() {
            let ous = self
                .org
                .list_organizational_units_for_parent()
                .parent_id(&id)
                .into_paginator()
                .send()
                .try_collect()
                .await?
                .into_iter()
                .flat_map(|page| page.organizational_units().to_vec());
            for ou in ous {
                let name = ou.name().unwrap_or_default();
                let child = if path == "root" {
                    name.to_string()
                } else {
                    format!("{path}/{name}")
                };
                let ou_id = ou.id().unwrap_or_default().to_string();
                v.ous.insert(child.clone(), ou_id.clone());
                parents.push((ou_id, child));
            }
            let accounts = self
                .org
                .list_accounts_for_parent()
                .parent_id(&id)
                .into_paginator()
                .send()
                .try_collect()
                .await?
                .into_iter()
                .flat_map(|page| page.accounts().to_vec());
            for a in accounts {
                let email = a.email().unwrap_or_default().to_lowercase();
                v.all_emails.push(email.clone());
                v.accounts.insert(
                    email,
                    (
                        a.name().unwrap_or_default().to_string(),
                        path.clone(),
                        a.id().unwrap_or_default().to_string(),
                    ),
                );
            }
        }
        v.all_emails.sort();
        let (policies, attachments) = self
            .policies_of_type(&v, PolicyType::ServiceControlPolicy)
            .await?;
        v.policies = policies;
        v.attachments = attachments;
        Ok(v)
    }

    /// The policies of one type by name (id, content; empty for AWS-managed ones) and
    /// their attachments (policy name, target: "root" | OU path | account name).
    #[allow(clippy::type_complexity)]
    async fn policies_of_type(
        &self,
        v: &OrgView,
        policy_type: PolicyType,
    ) -> Result<
        (
            BTreeMap<String, (String, String)>,
            BTreeSet<(String, String)>,
        ),
        BoxError,
    > {
        let mut policies = BTreeMap::new();
        let mut attachments = BTreeSet::new();
        let listed = self
            .org
            .list_policies()
            .filter(policy_type)
            .into_paginator()
            .send()
            .try_collect()
            .await?
            .into_iter()
            .flat_map(|page| page.policies().to_vec());
        let name_of_target = |id: &str, v: &OrgView| -> String {
            if id == v.root_id {
                return "root".into();
            }
            if let Some((path, _)) = v.ous.iter().find(|(_, i)| *i == id) {
                return path.clone();
            }
            v.accounts
                .values()
                .find(|(_, _, i)| i == id)
                .map(|(n, _, _)| n.clone())
                .unwrap_or_else(|| id.to_string())
        };
        for p in listed {
            let id = p.id().unwrap_or_default().to_string();
            let name = p.name().unwrap_or_default().to_string();
            let content = if p.aws_managed() {
                String::new()
            } else {
                let d = self.org.describe_policy().policy_id(&id).send().await?;
                d.policy()
                    .and_then(|p| p.content())
                    .unwrap_or_default()
                    .to_string()
            };
            let targets = self
                .org
                .list_targets_for_policy()
                .policy_id(&id)
                .into_paginator()
                .send()
                .try_collect()
                .await?
                .into_iter()
                .flat_map(|page| page.targets().to_vec());
            for t in targets {
                let target = name_of_target(t.target_id().unwrap_or_default(), v);
                attachments.insert((name.clone(), target));
            }
            policies.insert(name, (id, content));
        }
        Ok((policies, attachments))
    }

    fn target_id(v: &OrgView, target: &str) -> Result<String, BoxError> {
        if target == "root" {
            return Ok(v.root_id.clone());
        }
        if let Some(id) = v.ous.get(target) {
            return Ok(id.clone());
        }
        v.accounts
            .values()
            .find(|(n, _, _)| n == target)
            .map(|(_, _, id)| id.clone())
            .ok_or_else(|| format!("no target {target}").into())
    }

    fn policy_id(v: &OrgView, name: &str) -> Result<String, BoxError> {
        v.policies
            .get(name)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| format!("no policy {name}").into())
    }

    pub async fn detach_policy(&self, policy: &str, target: &str) -> Result<(), BoxError> {
        let v = self.view().await?;
        self.org
            .detach_policy()
            .policy_id(Self::policy_id(&v, policy)?)
            .target_id(Self::target_id(&v, target)?)
            .send()
            .await?;
        Ok(())
    }

    pub async fn attach_policy(&self, policy: &str, target: &str) -> Result<(), BoxError> {
        let v = self.view().await?;
        self.org
            .attach_policy()
            .policy_id(Self::policy_id(&v, policy)?)
            .target_id(Self::target_id(&v, target)?)
            .send()
            .await?;
        Ok(())
    }

    /// Moves an account (by name) to `to` ("root" or an OU path).
    pub async fn move_account(&self, account: &str, to: &str) -> Result<(), BoxError> {
        let v = self.view().await?;
        let (_, parent, id) = v
            .accounts
            .values()
            .find(|(n, _, _)| n == account)
            .ok_or("no such account")?
            .clone();
        self.org
            .move_account()
            .account_id(id)
            .source_parent_id(Self::target_id(&v, &parent)?)
            .destination_parent_id(Self::target_id(&v, to)?)
            .send()
            .await?;
        Ok(())
    }

    pub async fn rename_ou(&self, path: &str, new_name: &str) -> Result<(), BoxError> {
        let v = self.view().await?;
        self.org
            .update_organizational_unit()
            .organizational_unit_id(v.ous.get(path).ok_or("no such OU")?)
            .name(new_name)
            .send()
            .await?;
        Ok(())
    }

    pub async fn create_ou(&self, path: &str) -> Result<(), BoxError> {
        let v = self.view().await?;
        let (parent, name) = match path.rsplit_once('/') {
            Some((p, n)) => (Self::target_id(&v, p)?, n),
            None => (v.root_id.clone(), path),
        };
        self.org
            .create_organizational_unit()
            .parent_id(parent)
            .name(name)
            .send()
            .await?;
        Ok(())
    }

    /// Creates an SCP (attached nowhere) as a console user would; returns its id.
    pub async fn create_policy(&self, name: &str, content: &str) -> Result<String, BoxError> {
        let out = self
            .org
            .create_policy()
            .name(name)
            .description("")
            .content(content)
            .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await?;
        out.policy
            .and_then(|p| p.policy_summary)
            .and_then(|s| s.id)
            .ok_or_else(|| "CreatePolicy returned no id".into())
    }

    pub async fn update_policy_content(&self, policy: &str, content: &str) -> Result<(), BoxError> {
        let v = self.view().await?;
        self.org
            .update_policy()
            .policy_id(Self::policy_id(&v, policy)?)
            .content(content)
            .send()
            .await?;
        Ok(())
    }

    fn servicecatalog(&self) -> aws_sdk_servicecatalog::Client {
        aws_sdk_servicecatalog::Client::new(&self.config)
    }

    /// The Service Catalog portfolios (home region us-east-1) through plain SDK calls.
    pub async fn portfolio_view(&self) -> Result<BTreeMap<String, PortfolioView>, BoxError> {
        use aws_sdk_servicecatalog::types::DescribePortfolioShareType as T;
        let sc = self.servicecatalog();
        let mut out = BTreeMap::new();
        let mut pages = sc.list_portfolios().into_paginator().send();
        while let Some(page) = pages.next().await {
            for p in page?.portfolio_details() {
                let id = p.id().ok_or("a portfolio without id")?.to_string();
                let described = sc.describe_portfolio().id(&id).send().await?;
                let mut view = PortfolioView {
                    id: id.clone(),
                    display_name: p.display_name().unwrap_or_default().to_string(),
                    provider: p.provider_name().unwrap_or_default().to_string(),
                    tags: described
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect(),
                    shares: BTreeSet::new(),
                };
                for kind in [T::Account, T::Organization, T::OrganizationalUnit] {
                    let mut shares = sc
                        .describe_portfolio_shares()
                        .portfolio_id(&id)
                        .r#type(kind.clone())
                        .into_paginator()
                        .send();
                    while let Some(page) = shares.next().await {
                        for d in page?.portfolio_share_details() {
                            view.shares.insert((
                                kind.as_str().to_string(),
                                d.principal_id().unwrap_or_default().to_string(),
                                d.accepted(),
                            ));
                        }
                    }
                }
                out.insert(view.display_name.clone(), view);
            }
        }
        Ok(out)
    }
}

// ---- IAM Identity Center ----

/// A permission set as a test sees it through plain SSO Admin calls.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PermissionSetView {
    pub arn: String,
    pub managed_policies: BTreeSet<String>,
    /// The inline policy as AWS returns it (`None` when empty).
    pub inline_policy: Option<String>,
    /// (principal type `GROUP` | `USER`, principal id) assigned in each account it is
    /// provisioned to, by account id.
    pub assignments: BTreeMap<String, BTreeSet<(String, String)>>,
}

/// The SSO Admin and Identity Store clients of one region, and its instance.
struct IdentityClients {
    sso: aws_sdk_ssoadmin::Client,
    store: aws_sdk_identitystore::Client,
    instance_arn: String,
    identity_store_id: String,
}

impl Console {
    /// The Identity Center instance of `region` (the first `ListInstances` lists).
    async fn identity(&self, region: &str) -> Result<IdentityClients, BoxError> {
        let region = Region::new(region.to_string());
        let sso = aws_sdk_ssoadmin::Client::from_conf(
            aws_sdk_ssoadmin::config::Builder::from(&self.config)
                .region(region.clone())
                .build(),
        );
        let store = aws_sdk_identitystore::Client::from_conf(
            aws_sdk_identitystore::config::Builder::from(&self.config)
                .region(region)
                .build(),
        );
        let instances = sso.list_instances().send().await?;
        let instance = instances
            .instances()
            .first()
            .ok_or("IAM Identity Center has no instance in this region")?;
        Ok(IdentityClients {
            instance_arn: instance
                .instance_arn()
                .ok_or("no instance ARN")?
                .to_string(),
            identity_store_id: instance
                .identity_store_id()
                .ok_or("no identity store id")?
                .to_string(),
            sso,
            store,
        })
    }

    /// The ARN of the permission set named `name` (`ListPermissionSets`, then
    /// `DescribePermissionSet` of each).
    async fn permission_set_arn(
        &self,
        ic: &IdentityClients,
        name: &str,
    ) -> Result<Option<String>, BoxError> {
        let mut pages = ic
            .sso
            .list_permission_sets()
            .instance_arn(&ic.instance_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for arn in page?.permission_sets() {
                let described = ic
                    .sso
                    .describe_permission_set()
                    .instance_arn(&ic.instance_arn)
                    .permission_set_arn(arn)
                    .send()
                    .await?;
                if described.permission_set().and_then(|p| p.name()) == Some(name) {
                    return Ok(Some(arn.clone()));
                }
            }
        }
        Ok(None)
    }

    /// The permission set named `name` in `region`'s instance, with its managed
    /// policies, inline policy and assignments; `None` when there is none.
    pub async fn permission_set_view(
        &self,
        region: &str,
        name: &str,
    ) -> Result<Option<PermissionSetView>, BoxError> {
        let ic = self.identity(region).await?;
        let Some(arn) = self.permission_set_arn(&ic, name).await? else {
            return Ok(None);
        };
        let mut view = PermissionSetView {
            arn: arn.clone(),
            ..PermissionSetView::default()
        };
        let mut managed = ic
            .sso
            .list_managed_policies_in_permission_set()
            .instance_arn(&ic.instance_arn)
            .permission_set_arn(&arn)
            .into_paginator()
            .send();
        while let Some(page) = managed.next().await {
            for p in page?.attached_managed_policies() {
                view.managed_policies
                    .insert(p.arn().unwrap_or_default().to_string());
            }
        }
        let inline = ic
            .sso
            .get_inline_policy_for_permission_set()
            .instance_arn(&ic.instance_arn)
            .permission_set_arn(&arn)
            .send()
            .await?;
        view.inline_policy = inline
            .inline_policy()
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        let mut accounts = ic
            .sso
            .list_accounts_for_provisioned_permission_set()
            .instance_arn(&ic.instance_arn)
            .permission_set_arn(&arn)
            .into_paginator()
            .send();
        while let Some(page) = accounts.next().await {
            for account in page?.account_ids() {
                let mut assigned = BTreeSet::new();
                let mut pages = ic
                    .sso
                    .list_account_assignments()
                    .instance_arn(&ic.instance_arn)
                    .account_id(account)
                    .permission_set_arn(&arn)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    for a in page?.account_assignments() {
                        assigned.insert((
                            a.principal_type()
                                .map(|t| t.as_str().to_string())
                                .unwrap_or_default(),
                            a.principal_id().unwrap_or_default().to_string(),
                        ));
                    }
                }
                view.assignments.insert(account.clone(), assigned);
            }
        }
        Ok(Some(view))
    }

    /// Puts `document` as the inline policy of the permission set named `name` (as a
    /// console user would: not provisioned to its accounts).
    pub async fn put_inline_policy(
        &self,
        region: &str,
        name: &str,
        document: &str,
    ) -> Result<(), BoxError> {
        let ic = self.identity(region).await?;
        let arn = self
            .permission_set_arn(&ic, name)
            .await?
            .ok_or_else(|| format!("no permission set named {name}"))?;
        ic.sso
            .put_inline_policy_to_permission_set()
            .instance_arn(&ic.instance_arn)
            .permission_set_arn(&arn)
            .inline_policy(document)
            .send()
            .await?;
        Ok(())
    }

    /// Deletes the assignment of the permission set named `permission_set` to the
    /// group with display name `group` in `account_id`, and waits until Identity
    /// Center reports the deletion done.
    pub async fn delete_account_assignment(
        &self,
        region: &str,
        permission_set: &str,
        group: &str,
        account_id: &str,
    ) -> Result<(), BoxError> {
        use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
        use aws_sdk_ssoadmin::types::{PrincipalType, StatusValues, TargetType};
        let ic = self.identity(region).await?;
        let arn = self
            .permission_set_arn(&ic, permission_set)
            .await?
            .ok_or_else(|| format!("no permission set named {permission_set}"))?;
        let group_id = ic
            .store
            .get_group_id()
            .identity_store_id(&ic.identity_store_id)
            .alternate_identifier(AlternateIdentifier::UniqueAttribute(
                UniqueAttribute::builder()
                    .attribute_path("displayName")
                    .attribute_value(aws_smithy_types::Document::String(group.to_string()))
                    .build()?,
            ))
            .send()
            .await?
            .group_id()
            .to_string();
        let out = ic
            .sso
            .delete_account_assignment()
            .instance_arn(&ic.instance_arn)
            .target_id(account_id)
            .target_type(TargetType::AwsAccount)
            .permission_set_arn(&arn)
            .principal_type(PrincipalType::Group)
            .principal_id(&group_id)
            .send()
            .await?;
        let mut status = out.account_assignment_deletion_status().cloned();
        for _ in 0..120 {
            let Some(s) = &status else {
                return Err("DeleteAccountAssignment returned no status".into());
            };
            match s.status() {
                Some(StatusValues::Succeeded) => return Ok(()),
                Some(StatusValues::Failed) => {
                    return Err(format!(
                        "the assignment deletion failed: {}",
                        s.failure_reason().unwrap_or("no reason given")
                    )
                    .into());
                }
                _ => {}
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            status = ic
                .sso
                .describe_account_assignment_deletion_status()
                .instance_arn(&ic.instance_arn)
                .account_assignment_deletion_request_id(s.request_id().unwrap_or_default())
                .send()
                .await?
                .account_assignment_deletion_status()
                .cloned();
        }
        Err("the assignment deletion did not finish within a minute".into())
    }
}

/// A Service Catalog portfolio as a test sees it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PortfolioView {
    pub id: String,
    pub display_name: String,
    pub provider: String,
    pub tags: BTreeMap<String, String>,
    /// (share type `ACCOUNT` | `ORGANIZATION` | `ORGANIZATIONAL_UNIT`, principal id,
    /// accepted).
    pub shares: BTreeSet<(String, String, bool)>,
}

/// A trail as the console shows it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TrailView {
    pub arn: String,
    pub s3_bucket_name: String,
    pub kms_key_id: Option<String>,
    pub multi_region: bool,
    pub organization: bool,
    pub log_file_validation: bool,
    pub logging: bool,
}

/// Logging and security services, out of band: "as with boto3".
impl Console {
    /// An S3 client acting in an account and region (path-style, as test servers need).
    pub async fn s3_in(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<aws_sdk_s3::Client, BoxError> {
        let credentials = self.credentials(account_id).await?;
        Ok(aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.config)
                .region(Region::new(region.to_string()))
                .credentials_provider(credentials)
                .force_path_style(true)
                .build(),
        ))
    }

    /// A CloudTrail client acting in an account and region.
    pub async fn cloudtrail_in(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<aws_sdk_cloudtrail::Client, BoxError> {
        let credentials = self.credentials(account_id).await?;
        Ok(aws_sdk_cloudtrail::Client::from_conf(
            aws_sdk_cloudtrail::config::Builder::from(&self.config)
                .region(Region::new(region.to_string()))
                .credentials_provider(credentials)
                .build(),
        ))
    }

    /// Creates a customer-managed IAM policy in an account; returns its ARN.
    pub async fn create_iam_policy(
        &self,
        account_id: &str,
        name: &str,
        document: &str,
    ) -> Result<String, BoxError> {
        let credentials = self.credentials(account_id).await?;
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&self.config)
                .credentials_provider(credentials)
                .build(),
        );
        let out = iam
            .create_policy()
            .policy_name(name)
            .policy_document(document)
            .send()
            .await?;
        Ok(out
            .policy()
            .and_then(|p| p.arn())
            .ok_or("CreatePolicy returned no ARN")?
            .to_string())
    }

    /// `StopLogging` on a trail (by name or ARN), as a user turning it off.
    pub async fn stop_logging(
        &self,
        account_id: &str,
        region: &str,
        trail: &str,
    ) -> Result<(), BoxError> {
        let ct = self.cloudtrail_in(account_id, region).await?;
        ct.stop_logging().name(trail).send().await?;
        Ok(())
    }

    /// `DeleteTrail` by name (moto deletes by name only).
    pub async fn delete_trail(
        &self,
        account_id: &str,
        region: &str,
        trail: &str,
    ) -> Result<(), BoxError> {
        let ct = self.cloudtrail_in(account_id, region).await?;
        ct.delete_trail().name(trail).send().await?;
        Ok(())
    }

    /// The trails whose home is this account and region, by name, with their status.
    pub async fn trails(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<BTreeMap<String, TrailView>, BoxError> {
        let ct = self.cloudtrail_in(account_id, region).await?;
        let described = ct
            .describe_trails()
            .include_shadow_trails(false)
            .send()
            .await?;
        let mut out = BTreeMap::new();
        for t in described.trail_list() {
            let arn = t.trail_arn().unwrap_or_default().to_string();
            let status = ct.get_trail_status().name(&arn).send().await?;
            out.insert(
                t.name().unwrap_or_default().to_string(),
                TrailView {
                    arn,
                    s3_bucket_name: t.s3_bucket_name().unwrap_or_default().to_string(),
                    kms_key_id: t.kms_key_id().map(str::to_string),
                    multi_region: t.is_multi_region_trail().unwrap_or(false),
                    organization: t.is_organization_trail().unwrap_or(false),
                    log_file_validation: t.log_file_validation_enabled().unwrap_or(false),
                    logging: status.is_logging().unwrap_or(false),
                },
            );
        }
        Ok(out)
    }

    /// Replaces a bucket's policy (e.g. one loosened by hand).
    pub async fn put_bucket_policy(
        &self,
        account_id: &str,
        region: &str,
        bucket: &str,
        policy: &str,
    ) -> Result<(), BoxError> {
        let s3 = self.s3_in(account_id, region).await?;
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(policy)
            .send()
            .await?;
        Ok(())
    }

    /// A bucket's policy, `None` when it has none.
    pub async fn bucket_policy(
        &self,
        account_id: &str,
        region: &str,
        bucket: &str,
    ) -> Result<Option<String>, BoxError> {
        let s3 = self.s3_in(account_id, region).await?;
        match s3.get_bucket_policy().bucket(bucket).send().await {
            Ok(out) => Ok(out.policy().map(str::to_string)),
            Err(e)
                if aws_sdk_s3::error::ProvideErrorMetadata::code(&e)
                    == Some("NoSuchBucketPolicy") =>
            {
                Ok(None)
            }
            Err(e) => Err(Box::new(e)),
        }
    }

    /// The policy types the root lists as `ENABLED` (their API names).
    pub async fn enabled_policy_types(&self) -> Result<BTreeSet<String>, BoxError> {
        let roots = self.org.list_roots().send().await?;
        Ok(roots
            .roots()
            .iter()
            .flat_map(|r| r.policy_types())
            .filter(|t| t.status().map(|s| s.as_str()) == Some("ENABLED"))
            .filter_map(|t| t.r#type().map(|t| t.as_str().to_string()))
            .collect())
    }

    /// `DisablePolicyType` on the root (`policy_type`: the API name, `TAG_POLICY`).
    pub async fn disable_policy_type(&self, policy_type: &str) -> Result<(), BoxError> {
        let v = self.view().await?;
        self.org
            .disable_policy_type()
            .root_id(&v.root_id)
            .policy_type(PolicyType::from(policy_type))
            .send()
            .await?;
        Ok(())
    }

    /// The policies of a type (its API name) by name — (id, content) — and their
    /// attachments (policy name, target: "root" | OU path | account name).
    #[allow(clippy::type_complexity)]
    pub async fn org_policies(
        &self,
        policy_type: &str,
    ) -> Result<
        (
            BTreeMap<String, (String, String)>,
            BTreeSet<(String, String)>,
        ),
        BoxError,
    > {
        let v = self.view().await?;
        self.policies_of_type(&v, PolicyType::from(policy_type))
            .await
    }

    /// Detaches a policy of a type (its API name) from a target ("root", OU path,
    /// account name).
    pub async fn detach_org_policy(
        &self,
        policy_type: &str,
        policy: &str,
        target: &str,
    ) -> Result<(), BoxError> {
        let v = self.view().await?;
        let (policies, _) = self
            .policies_of_type(&v, PolicyType::from(policy_type))
            .await?;
        let (id, _) = policies
            .get(policy)
            .ok_or_else(|| format!("no policy {policy}"))?;
        self.org
            .detach_policy()
            .policy_id(id)
            .target_id(Self::target_id(&v, target)?)
            .send()
            .await?;
        Ok(())
    }

    /// Replaces the content of a policy of a type (its API name).
    pub async fn update_org_policy_content(
        &self,
        policy_type: &str,
        policy: &str,
        content: &str,
    ) -> Result<(), BoxError> {
        let v = self.view().await?;
        let (policies, _) = self
            .policies_of_type(&v, PolicyType::from(policy_type))
            .await?;
        let (id, _) = policies
            .get(policy)
            .ok_or_else(|| format!("no policy {policy}"))?;
        self.org
            .update_policy()
            .policy_id(id)
            .content(content)
            .send()
            .await?;
        Ok(())
    }
}
