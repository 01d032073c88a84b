//! Drift detection: compares the live organization with what Landfall last applied
//! (the state file) and with the desired state. Read-only by construction: it takes
//! shared references and returns a report.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::address::{Address, Target};
use crate::attrs::{AttrDiff, Attrs, declared_attrs, diff_attrs, ou_attrs, scp_attrs};
use crate::live::{AccountStatus, LiveIndex, LiveState, WorldIdentity};
use crate::model::DesiredState;
use crate::state::StateFile;

pub const DRIFT_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// Attributes differ from the last apply.
    Changed,
    /// Deleted (or detached) outside Landfall.
    Missing,
    /// An account now lives in another OU.
    Moved,
    /// Exists inside the managed scope but is not managed.
    Unmanaged,
    /// The desired state changed and was not applied yet (not tampering).
    Pending,
}

impl DriftClass {
    pub fn name(self) -> &'static str {
        match self {
            DriftClass::Changed => "changed",
            DriftClass::Missing => "missing",
            DriftClass::Moved => "moved",
            DriftClass::Unmanaged => "unmanaged",
            DriftClass::Pending => "pending",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub class: DriftClass,
    pub address: Address,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The AWS Control Tower drift type this corresponds to, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_tower_drift_type: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<AttrDiff>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub format_version: u32,
    pub landing_zone: String,
    pub world: WorldIdentity,
    /// Sorted by class, then address.
    pub findings: Vec<Finding>,
    pub summary: BTreeMap<DriftClass, usize>,
    /// What the reader can run next when there is drift: restore the desired state,
    /// or accept the live values. Filled by the caller, which knows the command line
    /// (`-c`, `--backend`, ...) the report was made with; empty without drift.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_commands: Vec<NextCommand>,
}

/// A command line to copy, and what it does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextCommand {
    pub command: String,
    pub does: String,
}

impl DriftReport {
    pub fn has_drift(&self) -> bool {
        !self.findings.is_empty()
    }

    /// Removes the findings whose address matches one of the glob patterns (known
    /// exceptions, e.g. `account.sandbox-*` or `endpoint.*.kms`); returns how many.
    pub fn ignore(&mut self, patterns: &[String]) -> Result<usize, String> {
        if patterns.is_empty() {
            return Ok(0);
        }
        let mut builder = globset::GlobSetBuilder::new();
        for p in patterns {
            let glob = globset::GlobBuilder::new(p)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("ignore pattern `{p}`: {e}"))?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| e.to_string())?;
        let before = self.findings.len();
        self.findings
            .retain(|f| !set.is_match(f.address.to_string()));
        self.summary.clear();
        for f in &self.findings {
            *self.summary.entry(f.class).or_insert(0) += 1;
        }
        Ok(before - self.findings.len())
    }
}

fn target_kind(target: &Target) -> &'static str {
    match target {
        Target::Root => "ROOT",
        Target::Ou(_) => "OU",
        Target::Account(_) => "ACCOUNT",
    }
}

pub fn detect(
    desired: &DesiredState,
    live: &LiveState,
    state: Option<&StateFile>,
    world: &WorldIdentity,
) -> DriftReport {
    let index = LiveIndex::new(live);
    let mut findings = Vec::new();
    let empty = StateFile::new(&desired.landing_zone.name, world.clone());
    let state = state.unwrap_or(&empty);
    let mut push =
        |class, address: &Address, id: Option<&str>, ct: Option<String>, message: String, diffs| {
            findings.push(Finding {
                class,
                address: address.clone(),
                id: id.map(str::to_string),
                control_tower_drift_type: ct,
                message,
                diffs,
            });
        };

    // What the last apply recorded, checked against live.
    for (address, rec) in &state.resources {
        let id = rec.id.as_str();
        let compare = |live_attrs: Attrs| {
            diff_attrs(&rec.attributes, &live_attrs, &[])
                .into_iter()
                .filter(|d| d.attribute != "allow_close")
                .collect::<Vec<_>>()
        };
        match address {
            Address::Root => {}
            Address::Ou(_) => match live.ous.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("OU_DELETED".into()),
                    "deleted outside Landfall".into(),
                    vec![],
                ),
                Some(ou) => {
                    let diffs = compare(ou_attrs(&ou.name, &ou.tags));
                    if !diffs.is_empty() {
                        let ct = diffs
                            .iter()
                            .any(|d| d.attribute == "name")
                            .then(|| "OU_RENAMED".to_string());
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            ct,
                            "changed outside Landfall".into(),
                            diffs,
                        );
                    }
                }
            },
            Address::Account(_) => match live.accounts.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("ACCOUNT_REMOVED_FROM_ORGANIZATION".into()),
                    "no longer in the organization".into(),
                    vec![],
                ),
                Some(acct) => {
                    let parent = index
                        .parent_target(&acct.parent_id)
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| acct.parent_id.clone());
                    let recorded_parent = rec
                        .attributes
                        .get("ou")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    // Compare by id: a renamed OU changes the path, not the parent.
                    let recorded_parent_id = match recorded_parent.parse::<Address>() {
                        Ok(Address::Root) => Some(live.root_id.as_str()),
                        Ok(a) => state.id_of(&a),
                        Err(_) => None,
                    };
                    if recorded_parent_id != Some(acct.parent_id.as_str()) {
                        push(
                            DriftClass::Moved,
                            address,
                            Some(id),
                            Some("ACCOUNT_MOVED_BETWEEN_OUS".into()),
                            format!("moved from {recorded_parent} to {parent} outside Landfall"),
                            vec![AttrDiff {
                                attribute: "ou".into(),
                                before: Some(Value::from(recorded_parent)),
                                after: Some(Value::from(parent)),
                            }],
                        );
                    }
                    let mut live_attrs = rec.attributes.clone();
                    live_attrs.insert("tags".into(), serde_json::json!(acct.tags));
                    let diffs: Vec<_> = compare(live_attrs)
                        .into_iter()
                        .filter(|d| d.attribute != "ou")
                        .collect();
                    if !diffs.is_empty() {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            None,
                            "tags changed outside Landfall".into(),
                            diffs,
                        );
                    }
                    if acct.status != AccountStatus::Active {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            None,
                            format!("the account is {:?} (closed outside Landfall)", acct.status),
                            vec![],
                        );
                    }
                }
            },
            Address::Scp(_) => match live.policies.get(id) {
                None => push(
                    DriftClass::Missing,
                    address,
                    Some(id),
                    Some("SCP_DELETED".into()),
                    "deleted outside Landfall".into(),
                    vec![],
                ),
                Some(p) => {
                    let diffs = compare(scp_attrs(&p.description, &p.content, &p.tags));
                    if !diffs.is_empty() {
                        push(
                            DriftClass::Changed,
                            address,
                            Some(id),
                            Some("SCP_UPDATED".into()),
                            "changed outside Landfall".into(),
                            diffs,
                        );
                    }
                }
            },
            Address::Attachment(att) => {
                let attached = id
                    .split_once('|')
                    .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into())));
                if !attached {
                    push(
                        DriftClass::Missing,
                        address,
                        Some(id),
                        Some(format!("SCP_DETACHED_FROM_{}", target_kind(&att.target))),
                        format!(
                            "{} was detached from {} outside Landfall",
                            att.policy, att.target
                        ),
                        vec![],
                    );
                }
            }
            // Member-account resources are checked by `member`.
            _ => {}
        }
    }

    // Unmanaged: live resources inside the managed scope that the state does not know.
    let known_ids: BTreeSet<&str> = state.resources.values().map(|r| r.id.as_str()).collect();
    if state.resources.contains_key(&Address::Root) {
        let mut scope: BTreeMap<&str, Target> = BTreeMap::new();
        scope.insert(live.root_id.as_str(), Target::Root);
        for (address, rec) in &state.resources {
            match address {
                Address::Ou(p) if live.ous.contains_key(&rec.id) => {
                    scope.insert(rec.id.as_str(), Target::Ou(p.clone()));
                }
                Address::Account(a) if live.accounts.contains_key(&rec.id) => {
                    scope.insert(rec.id.as_str(), Target::Account(a.clone()));
                }
                _ => {}
            }
        }
        for (policy_id, target_id) in &live.attachments {
            let Some(target) = scope.get(target_id.as_str()) else {
                continue;
            };
            if known_ids.contains(format!("{policy_id}|{target_id}").as_str()) {
                continue;
            }
            let name = live
                .policies
                .get(policy_id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| policy_id.clone());
            let address = Address::attachment(&name, target.clone());
            push(
                DriftClass::Unmanaged,
                &address,
                Some(&format!("{policy_id}|{target_id}")),
                Some(format!("SCP_ATTACHED_TO_{}", target_kind(target))),
                format!("{name} was attached to {target} outside Landfall"),
                vec![],
            );
        }
        for ou in live.ous.values() {
            if known_ids.contains(ou.id.as_str())
                || matches!(
                    scope.get(ou.parent_id.as_str()),
                    None | Some(Target::Account(_))
                )
            {
                continue;
            }
            let path = index
                .ou_path(&ou.id)
                .map(|p| p.to_string())
                .unwrap_or_else(|| ou.name.clone());
            let address: Address = Address::Ou(crate::address::OuPath::new(path));
            push(
                DriftClass::Unmanaged,
                &address,
                Some(&ou.id),
                None,
                "created outside Landfall in a managed OU".into(),
                vec![],
            );
        }
        for acct in live.accounts.values() {
            if acct.id == live.management_account_id || known_ids.contains(acct.id.as_str()) {
                continue;
            }
            if matches!(
                scope.get(acct.parent_id.as_str()),
                None | Some(Target::Account(_))
            ) {
                continue;
            }
            push(
                DriftClass::Unmanaged,
                &Address::Account(acct.name.clone()),
                Some(&acct.id),
                None,
                format!(
                    "account {} ({}) is in a managed OU but not declared",
                    acct.name, acct.email
                ),
                vec![],
            );
        }
    }

    // Pending: the desired state moved on since the last apply.
    let declared = desired.addresses();
    for address in &declared {
        // Member policies are recorded with ${account_id} substituted.
        let account_id = state
            .resources
            .get(address)
            .and_then(|r| r.member.as_deref())
            .and_then(|m| m.split_once('/'))
            .map(|(a, _)| a);
        let want = match account_id {
            Some(a) => crate::member::declared_attrs_with(desired, address, Some(a)),
            None => declared_attrs(desired, address),
        };
        let Some(want) = want else {
            continue;
        };
        match state.resources.get(address) {
            None => push(
                DriftClass::Pending,
                address,
                None,
                None,
                "declared; not applied yet".into(),
                vec![],
            ),
            Some(rec) => {
                let diffs = diff_attrs(&rec.attributes, &want, &[]);
                if !diffs.is_empty() {
                    push(
                        DriftClass::Pending,
                        address,
                        Some(&rec.id),
                        None,
                        "declaration changed; not applied yet".into(),
                        diffs,
                    );
                }
            }
        }
    }
    for (address, rec) in &state.resources {
        if !declared.contains(address) {
            push(
                DriftClass::Pending,
                address,
                Some(&rec.id),
                None,
                "removed from the desired state; not applied yet".into(),
                vec![],
            );
        }
    }

    findings.extend(crate::member::drift_findings(live, state));
    findings.extend(crate::governance::drift_findings(live, state));
    findings.sort_by(|a, b| (a.class, &a.address).cmp(&(b.class, &b.address)));
    let mut summary = BTreeMap::new();
    for f in &findings {
        *summary.entry(f.class).or_insert(0) += 1;
    }
    DriftReport {
        format_version: DRIFT_FORMAT_VERSION,
        landing_zone: desired.landing_zone.name.clone(),
        world: world.clone(),
        findings,
        summary,
        next_commands: Vec::new(),
    }
}

/// `apply --refresh-only`: accepts the live values of drifted resources into the state
/// (changed attributes, moved accounts; missing resources are dropped from the state),
/// so they no longer show as drift — a later plan shows what it takes to restore the
/// desired state instead. Unmanaged resources stay unmanaged. Returns the new state and
/// the addresses whose records changed.
pub fn accept_live(live: &LiveState, state: &StateFile) -> (StateFile, Vec<Address>) {
    let index = LiveIndex::new(live);
    let mut next = state.clone();
    let mut accepted = Vec::new();
    for (address, rec) in &state.resources {
        let live_attrs: Option<crate::attrs::Attrs> = match address {
            Address::Root => continue,
            Address::Ou(_) => live.ous.get(&rec.id).map(|ou| ou_attrs(&ou.name, &ou.tags)),
            Address::Account(_) => live.accounts.get(&rec.id).map(|a| {
                let mut attrs = rec.attributes.clone();
                let parent = index
                    .parent_target(&a.parent_id)
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| a.parent_id.clone());
                attrs.insert("ou".into(), Value::from(parent));
                attrs.insert("tags".into(), serde_json::json!(a.tags));
                attrs
            }),
            Address::Scp(_) => live
                .policies
                .get(&rec.id)
                .map(|p| scp_attrs(&p.description, &p.content, &p.tags)),
            Address::Attachment(_) => {
                let attached = rec
                    .id
                    .split_once('|')
                    .is_some_and(|(p, t)| live.attachments.contains(&(p.into(), t.into())));
                attached.then(|| rec.attributes.clone())
            }
            Address::Control(..) | Address::Portfolio(_) | Address::PortfolioShare(..) => {
                if !live.governance.read {
                    continue;
                }
                crate::governance::live_attrs(live, address, rec)
            }
            _ => match rec.member.as_ref().and_then(|m| live.members.get(m)) {
                Some(member) => crate::member::live_attrs(member, address, &rec.id).map(|mut a| {
                    // Keep what live cannot tell (e.g. a key's deletion window).
                    for (k, v) in &rec.attributes {
                        a.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    a
                }),
                // The member was not read: leave the record alone.
                None => continue,
            },
        };
        match live_attrs {
            None => {
                next.resources.remove(address);
                accepted.push(address.clone());
            }
            Some(attrs) if attrs != rec.attributes => {
                if let Some(r) = next.resources.get_mut(address) {
                    r.attributes = attrs;
                }
                accepted.push(address.clone());
            }
            Some(_) => {}
        }
    }
    (next, accepted)
}
