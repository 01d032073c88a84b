//! Landfall's own state file, as data: which live resources it manages, their physical
//! ids, the attributes last applied, and whether Landfall created them. Reading,
//! writing and locking it is `landfall-engine`'s `state_store`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::address::Address;
use crate::attrs::Attrs;
use crate::live::WorldIdentity;
use crate::model::canonical_json;

pub const STATE_FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// Physical id (`ou-...`, the account id, `p-...`, `p-...|ou-...` for attachments).
    pub id: String,
    /// Landfall created this resource; only such resources are ever deleted.
    pub created: bool,
    /// Attributes as last applied.
    pub attributes: Attrs,
    /// For member-account resources: where it lives (`ACCOUNT_ID/REGION`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "StateFileOnDisk")]
pub struct StateFile {
    pub format_version: u32,
    pub lineage: Uuid,
    pub serial: u64,
    pub landing_zone: String,
    pub world: WorldIdentity,
    pub resources: BTreeMap<Address, ResourceRecord>,
    /// Creations started but not yet recorded. If a crash loses a create's response, the
    /// next plan adopts the resource and, finding it here, knows Landfall created it.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub pending_creates: BTreeSet<Address>,
}

/// A state file as written, before [`StateFile`] makes it canonical.
#[derive(Deserialize)]
struct StateFileOnDisk {
    format_version: u32,
    lineage: Uuid,
    serial: u64,
    landing_zone: String,
    world: WorldIdentity,
    resources: BTreeMap<Address, ResourceRecord>,
    #[serde(default)]
    pending_creates: BTreeSet<Address>,
}

impl From<StateFileOnDisk> for StateFile {
    /// States written before SCP content was recorded canonically hold it minified in
    /// the file's key order; read, it is canonical like everything compared with it,
    /// so an upgrade reports no drift and plans no update.
    fn from(disk: StateFileOnDisk) -> Self {
        let mut resources = disk.resources;
        for (address, record) in &mut resources {
            if matches!(address, Address::Scp(_))
                && let Some(serde_json::Value::String(content)) = record.attributes.get("content")
            {
                let canonical = canonical_json(content);
                record
                    .attributes
                    .insert("content".into(), serde_json::Value::String(canonical));
            }
        }
        StateFile {
            format_version: disk.format_version,
            lineage: disk.lineage,
            serial: disk.serial,
            landing_zone: disk.landing_zone,
            world: disk.world,
            resources,
            pending_creates: disk.pending_creates,
        }
    }
}

impl StateFile {
    pub fn new(landing_zone: &str, world: WorldIdentity) -> Self {
        StateFile {
            format_version: STATE_FORMAT_VERSION,
            lineage: Uuid::new_v4(),
            serial: 0,
            landing_zone: landing_zone.to_string(),
            world,
            resources: BTreeMap::new(),
            pending_creates: BTreeSet::new(),
        }
    }

    pub fn id_of(&self, address: &Address) -> Option<&str> {
        self.resources.get(address).map(|r| r.id.as_str())
    }
}

/// What re-addressing the state for `[[moved]]` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Moves {
    /// Each record re-addressed, `(from, to)`, in the order applied.
    pub applied: Vec<(Address, Address)>,
    /// Moves with nothing to do: applied by an earlier run (the state has `to`).
    pub done: Vec<(Address, Address)>,
    /// Moves whose ends are both missing from the state: a typo, or a resource never
    /// applied.
    pub dangling: Vec<(Address, Address)>,
}

/// `from` → `to` in a string attribute that names an OU (`ou.PATH`, or a path below
/// it).
fn rebase_text(
    text: &str,
    from: &crate::address::OuPath,
    to: &crate::address::OuPath,
) -> Option<String> {
    let path = text.strip_prefix("ou.")?;
    crate::address::OuPath::new(path)
        .rebased(from, to)
        .map(|p| format!("ou.{p}"))
}

fn rebase_value(
    value: &mut serde_json::Value,
    from: &crate::address::OuPath,
    to: &crate::address::OuPath,
) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(new) = rebase_text(s, from, to) {
                *s = new;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                rebase_value(item, from, to);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                rebase_value(item, from, to);
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}

impl StateFile {
    /// The state with `[[moved]]` applied: each record at `from` re-addressed to `to`.
    /// An OU carries everything under it and everything naming it (child OUs,
    /// attachments, controls, registrations, shares, and the `ou.PATH` attribute values
    /// of records such as accounts'), so the plan sees the same resources at their new
    /// addresses and changes only what AWS must change (the OU's name).
    pub fn with_moves(&self, moved: &[crate::model::Moved]) -> (StateFile, Moves) {
        let mut state = self.clone();
        let mut moves = Moves::default();
        for m in moved {
            let pair = (m.from.clone(), m.to.clone());
            if !state.resources.contains_key(&m.from) {
                if state.resources.contains_key(&m.to) {
                    moves.done.push(pair);
                } else {
                    moves.dangling.push(pair);
                }
                continue;
            }
            if state.resources.contains_key(&m.to) {
                // Both ends recorded: the move cannot be applied without losing one.
                moves.dangling.push(pair);
                continue;
            }
            match (&m.from, &m.to) {
                (Address::Ou(from), Address::Ou(to)) => {
                    let records = std::mem::take(&mut state.resources);
                    for (address, mut record) in records {
                        let new = address.rebased(from, to);
                        for value in record.attributes.values_mut() {
                            rebase_value(value, from, to);
                        }
                        if let Some(new) = new {
                            moves.applied.push((address.clone(), new.clone()));
                            state.resources.insert(new, record);
                        } else {
                            state.resources.insert(address, record);
                        }
                    }
                    state.pending_creates = state
                        .pending_creates
                        .iter()
                        .map(|a| a.rebased(from, to).unwrap_or_else(|| a.clone()))
                        .collect();
                }
                _ => {
                    if let Some(record) = state.resources.remove(&m.from) {
                        state.resources.insert(m.to.clone(), record);
                        moves.applied.push(pair);
                    }
                }
            }
        }
        (state, moves)
    }
}
