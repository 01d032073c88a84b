//! Test helpers (feature `testkit`): a "console user" that changes the organization
//! out-of-band and reads it back through plain SDK list calls — deliberately not
//! through Landfall's refresh, so tests check Landfall against AWS's own answers.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::BehaviorVersion;
use aws_sdk_organizations::Client;
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
        }
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
        let policies = self
            .org
            .list_policies()
            .filter(PolicyType::ServiceControlPolicy)
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
        for p in policies {
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
                let target = name_of_target(t.target_id().unwrap_or_default(), &v);
                v.attachments.insert((name.clone(), target));
            }
            v.policies.insert(name, (id, content));
        }
        Ok(v)
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
}
