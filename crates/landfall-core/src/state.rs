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
