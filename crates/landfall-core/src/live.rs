//! The live state: one consistent read of the organization, as a backend reports it.
//! Keyed by physical ids; [`LiveIndex`] resolves them to OU paths and addresses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::address::{OuPath, Target};
use crate::model::Tags;

/// Which world a state file describes: an AWS organization or a sim world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldIdentity {
    /// `sim` or `aws`.
    pub backend: String,
    /// The organization id (`o-...`) or the sim world's id.
    pub id: String,
}

impl std::fmt::Display for WorldIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} organization {}", self.backend, self.id)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveOu {
    pub id: String,
    pub name: String,
    /// The root id or the parent OU's id.
    pub parent_id: String,
    pub tags: Tags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    Active,
    Suspended,
    PendingClosure,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAccount {
    pub id: String,
    pub name: String,
    pub email: String,
    pub parent_id: String,
    pub tags: Tags,
    pub status: AccountStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePolicy {
    pub id: String,
    pub name: String,
    pub description: String,
    pub content: String,
    pub tags: Tags,
    pub aws_managed: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveVpc {
    pub id: String,
    pub cidr: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSubnet {
    pub id: String,
    pub vpc_id: String,
    pub az: String,
    pub cidr: String,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRouteTable {
    pub id: String,
    pub vpc_id: String,
    /// Subnets explicitly associated with it.
    pub subnet_ids: BTreeSet<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    /// CIDRs allowed in on TCP 443.
    pub ingress_443: BTreeSet<String>,
    pub tags: Tags,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEndpoint {
    pub id: String,
    pub vpc_id: String,
    /// Full service name (`com.amazonaws.us-east-1.sagemaker.api`).
    pub service_name: String,
    pub kind: crate::model::EndpointKind,
    pub private_dns: bool,
    pub subnet_ids: BTreeSet<String>,
    pub security_group_ids: BTreeSet<String>,
    pub route_table_ids: BTreeSet<String>,
    /// The endpoint policy document as AWS returns it.
    pub policy: Option<String>,
    pub tags: Tags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveKey {
    pub id: String,
    pub description: String,
    pub policy: String,
    pub rotation: bool,
    pub state: KeyState,
    pub aliases: BTreeSet<String>,
    pub tags: Tags,
}

/// What Landfall manages inside one member account and region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMember {
    pub vpcs: BTreeMap<String, LiveVpc>,
    pub subnets: BTreeMap<String, LiveSubnet>,
    pub route_tables: BTreeMap<String, LiveRouteTable>,
    pub security_groups: BTreeMap<String, LiveSecurityGroup>,
    pub endpoints: BTreeMap<String, LiveEndpoint>,
    /// Customer-managed keys, by key id.
    pub keys: BTreeMap<String, LiveKey>,
}

/// The key of [`LiveState::members`]: `ACCOUNT_ID/REGION`.
pub fn member_key(account_id: &str, region: &str) -> String {
    format!("{account_id}/{region}")
}

/// One read of the organization layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveState {
    pub root_id: String,
    pub management_account_id: String,
    pub ous: BTreeMap<String, LiveOu>,
    pub accounts: BTreeMap<String, LiveAccount>,
    pub policies: BTreeMap<String, LivePolicy>,
    /// (policy id, target id) pairs.
    pub attachments: BTreeSet<(String, String)>,
    /// Member accounts' networks and keys, by [`member_key`]; only the account/region
    /// pairs the desired state or the state file mention are read.
    #[serde(default)]
    pub members: BTreeMap<String, LiveMember>,
}

/// Lookups derived from a [`LiveState`]: paths of OUs, ids by path/name/email.
pub struct LiveIndex<'a> {
    pub live: &'a LiveState,
    ou_path_by_id: HashMap<&'a str, OuPath>,
    ou_id_by_path: HashMap<OuPath, &'a str>,
    account_by_email: HashMap<String, &'a LiveAccount>,
    account_by_name: HashMap<&'a str, Vec<&'a LiveAccount>>,
    policy_by_name: HashMap<&'a str, &'a LivePolicy>,
}

impl<'a> LiveIndex<'a> {
    pub fn new(live: &'a LiveState) -> Self {
        let mut ou_path_by_id = HashMap::with_capacity(live.ous.len());
        for id in live.ous.keys() {
            Self::resolve_path(live, id, &mut ou_path_by_id, 0);
        }
        let ou_id_by_path = ou_path_by_id
            .iter()
            .map(|(id, path)| (path.clone(), *id))
            .collect();
        let mut account_by_name: HashMap<&str, Vec<&LiveAccount>> = HashMap::new();
        for a in live.accounts.values() {
            account_by_name.entry(a.name.as_str()).or_default().push(a);
        }
        LiveIndex {
            live,
            ou_path_by_id,
            ou_id_by_path,
            account_by_email: live
                .accounts
                .values()
                .map(|a| (a.email.to_ascii_lowercase(), a))
                .collect(),
            account_by_name,
            policy_by_name: live
                .policies
                .values()
                .map(|p| (p.name.as_str(), p))
                .collect(),
        }
    }

    // Walks parents up to the root; a broken chain (should not happen) yields no path.
    fn resolve_path(
        live: &'a LiveState,
        id: &'a str,
        memo: &mut HashMap<&'a str, OuPath>,
        depth: usize,
    ) -> Option<OuPath> {
        if let Some(p) = memo.get(id) {
            return Some(p.clone());
        }
        let ou = live.ous.get(id)?;
        if depth > 64 {
            return None;
        }
        let path = if ou.parent_id == live.root_id {
            OuPath::new(ou.name.clone())
        } else {
            let (pid, _) = live.ous.get_key_value(ou.parent_id.as_str())?;
            Self::resolve_path(live, pid, memo, depth + 1)?.child(&ou.name)
        };
        memo.insert(ou.id.as_str(), path.clone());
        Some(path)
    }

    pub fn ou_path(&self, id: &str) -> Option<&OuPath> {
        self.ou_path_by_id.get(id)
    }

    pub fn ou_id(&self, path: &OuPath) -> Option<&'a str> {
        self.ou_id_by_path.get(path).copied()
    }

    /// The target a parent id denotes (root or an OU path).
    pub fn parent_target(&self, parent_id: &str) -> Option<Target> {
        if parent_id == self.live.root_id {
            Some(Target::Root)
        } else {
            self.ou_path(parent_id).cloned().map(Target::Ou)
        }
    }

    /// The id of a target, when it exists live.
    pub fn target_id(&self, target: &Target) -> Option<String> {
        match target {
            Target::Root => Some(self.live.root_id.clone()),
            Target::Ou(p) => self.ou_id(p).map(str::to_string),
            Target::Account(name) => self.account_by_name(name).map(|a| a.id.clone()),
        }
    }

    pub fn account_by_email(&self, email: &str) -> Option<&'a LiveAccount> {
        self.account_by_email
            .get(&email.to_ascii_lowercase())
            .copied()
    }

    /// The account with this name, when exactly one has it.
    pub fn account_by_name(&self, name: &str) -> Option<&'a LiveAccount> {
        match self.account_by_name.get(name).map(Vec::as_slice) {
            Some([one]) => Some(*one),
            _ => None,
        }
    }

    pub fn policy_by_name(&self, name: &str) -> Option<&'a LivePolicy> {
        self.policy_by_name.get(name).copied()
    }

    /// Policies attached to a target id.
    pub fn policies_on(&self, target_id: &str) -> impl Iterator<Item = &'a str> {
        self.live
            .attachments
            .iter()
            .filter(move |(_, t)| t == target_id)
            .map(|(p, _)| p.as_str())
    }
}
