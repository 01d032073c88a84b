//! What the backend itself reports (never through Landfall's refresh): the organization
//! and member accounts' networks and keys.

use landfall_aws::testkit::{Console, OrgView};
use serde_json::Value;

use super::{Lz, On, moto_url, runtime};

impl Lz {
    /// The organization as the backend itself reports it (for moto: the SDK's own list
    /// calls; for the sim: its world file), never through Landfall's refresh.
    pub fn view(&self) -> OrgView {
        match self.on {
            On::Moto => runtime()
                .block_on(async { Console::connect(&moto_url()).await.view().await })
                .unwrap(),
            On::Sim => {
                let sim = landfall_sim::SimBackend::open(
                    &self.path("state/ml-platform.sim-world.json"),
                    Default::default(),
                    Default::default(),
                )
                .unwrap();
                let live = sim.snapshot();
                let index = landfall_core::LiveIndex::new(&live);
                let mut v = OrgView {
                    root_id: live.root_id.clone(),
                    ..OrgView::default()
                };
                for ou in live.ous.values() {
                    v.ous
                        .insert(index.ou_path(&ou.id).unwrap().to_string(), ou.id.clone());
                }
                let parent = |id: &str| match index.parent_target(id).unwrap() {
                    landfall_core::Target::Ou(p) => p.to_string(),
                    _ => "root".to_string(),
                };
                for a in live.accounts.values() {
                    let email = a.email.to_lowercase();
                    v.all_emails.push(email.clone());
                    v.accounts
                        .insert(email, (a.name.clone(), parent(&a.parent_id), a.id.clone()));
                }
                v.all_emails.sort();
                for p in live.policies.values() {
                    v.policies
                        .insert(p.name.clone(), (p.id.clone(), p.content.clone()));
                }
                for (p, t) in &live.attachments {
                    let name = live.policies[p].name.clone();
                    let target = if *t == live.root_id {
                        "root".to_string()
                    } else if let Some(path) = index.ou_path(t) {
                        path.to_string()
                    } else {
                        live.accounts[t].name.clone()
                    };
                    v.attachments.insert((name, target));
                }
                v
            }
        }
    }
}

/// The example, as the backend reports it after an apply.
pub fn assert_example_is_live(v: &OrgView) {
    let mut unique = v.all_emails.clone();
    unique.dedup();
    assert_eq!(unique, v.all_emails, "an email is used twice");
    assert_eq!(
        v.accounts.len(),
        13,
        "12 declared accounts and the management account"
    );
    assert_eq!(v.ous.len(), 9, "{:?}", v.ous.keys());
    for (email, ou) in [
        ("aws+log-archive@example.com", "Security"),
        ("aws+ml-fraud-dev@example.com", "Workloads/Workloads_Dev"),
        ("aws+ml-fraud-sandbox@example.com", "Sandbox"),
        ("aws+automation@example.com", "Deployments/Deployments_Prod"),
        ("aws+data-lake@example.com", "Workloads"),
    ] {
        assert_eq!(v.accounts[email].1, ou, "{email}");
    }
    for (policy, target) in [
        ("deny-sagemaker-endpoints", "Workloads/Workloads_Dev"),
        ("deny-sagemaker-endpoints", "Sandbox"),
        ("deny-leave-org", "root"),
        ("sagemaker-vpc-only", "Workloads"),
        ("FullAWSAccess", "ml-fraud-dev"),
    ] {
        assert!(
            v.attachments
                .contains(&(policy.to_string(), target.to_string())),
            "{policy} on {target}"
        );
    }
    assert_eq!(v.policies.len(), 10, "9 SCPs and FullAWSAccess");
}

/// What a member account and region hold, as the backend reports it.
#[derive(Debug, Default)]
pub struct MemberView {
    pub vpc_cidrs: Vec<String>,
    /// Short service name → (policy JSON, private_dns).
    pub endpoints: std::collections::BTreeMap<String, (Value, bool)>,
    /// alias → rotation.
    pub keys: std::collections::BTreeMap<String, bool>,
}

impl Lz {
    pub fn account_id(&self, name: &str) -> String {
        self.state()["resources"][format!("account.{name}")]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn member_view(&self, account: &str, region: &str) -> MemberView {
        let account_id = self.account_id(account);
        match self.on {
            On::Sim => {
                let sim = landfall_sim::SimBackend::open(
                    &self.path("state/ml-platform.sim-world.json"),
                    Default::default(),
                    Default::default(),
                )
                .unwrap();
                let m = sim.member_snapshot(&landfall_engine::provider::MemberScope {
                    account_id,
                    region: region.into(),
                });
                let prefix = format!("com.amazonaws.{region}.");
                MemberView {
                    vpc_cidrs: m.vpcs.values().map(|v| v.cidr.clone()).collect(),
                    endpoints: m
                        .endpoints
                        .values()
                        .map(|e| {
                            let policy = e
                                .policy
                                .as_deref()
                                .map(|p| serde_json::from_str(p).unwrap())
                                .unwrap_or(Value::Null);
                            (
                                e.service_name.trim_start_matches(&prefix).to_string(),
                                (policy, e.private_dns),
                            )
                        })
                        .collect(),
                    keys: m
                        .keys
                        .values()
                        .flat_map(|k| k.aliases.iter().map(move |a| (a.clone(), k.rotation)))
                        .collect(),
                }
            }
            On::Moto => {
                let v = runtime()
                    .block_on(async {
                        Console::connect(&moto_url())
                            .await
                            .member_view(&account_id, region)
                            .await
                    })
                    .unwrap();
                MemberView {
                    vpc_cidrs: v.vpc_cidrs.clone(),
                    endpoints: v
                        .endpoints
                        .iter()
                        .map(|(s, e)| {
                            (
                                s.trim_start_matches(&format!("com.amazonaws.{region}."))
                                    .to_string(),
                                (
                                    e.policy
                                        .as_deref()
                                        .map(|p| serde_json::from_str(p).unwrap())
                                        .unwrap_or(Value::Null),
                                    e.private_dns,
                                ),
                            )
                        })
                        .collect(),
                    keys: v
                        .keys
                        .iter()
                        .map(|(a, k)| (a.clone(), k.rotation))
                        .collect(),
                }
            }
        }
    }
}
