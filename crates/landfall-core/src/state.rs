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

impl ResourceRecord {
    /// The record a `Record::Upsert` leaves once the resource has its id: for a
    /// member-account resource (its account id and region), policies declared with
    /// `${account_id}`/`${region}` are recorded as applied, substituted.
    pub fn upserted(
        id: String,
        created: bool,
        attributes: &Attrs,
        member: Option<(&str, &str)>,
    ) -> Self {
        let attributes = match member {
            Some((account_id, region)) => attributes
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(text) => serde_json::Value::String(
                            crate::model::substitute(text, account_id, region),
                        ),
                        other => other.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
            None => attributes.clone(),
        };
        ResourceRecord {
            id,
            created,
            attributes,
            member: member.map(|(a, r)| crate::live::member_key(a, r)),
        }
    }
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
    /// so an upgrade reports no drift and plans no update. States written before an
    /// SCP's name was recorded get the name it was created or adopted under: its
    /// address's.
    fn from(disk: StateFileOnDisk) -> Self {
        let mut resources = disk.resources;
        for (address, record) in &mut resources {
            let Address::Scp(name) = address else {
                continue;
            };
            if let Some(serde_json::Value::String(content)) = record.attributes.get("content") {
                let canonical = canonical_json(content);
                record
                    .attributes
                    .insert("content".into(), serde_json::Value::String(canonical));
            }
            if !record.attributes.contains_key("name") {
                record
                    .attributes
                    .insert("name".into(), serde_json::Value::String(name.clone()));
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
    /// Moves whose ends are both missing from the state (a typo, or a resource never
    /// applied), or both recorded.
    pub dangling: Vec<(Address, Address)>,
    /// OUs moved under another parent: AWS cannot move an OU, so nothing is
    /// re-addressed and the plan replaces it (the new OU created, what it holds moved
    /// or made again there, the old one deleted). Listed while that is still to do,
    /// both ends recorded included (a replacement an apply left half done).
    pub replaced: Vec<(Address, Address)>,
    /// Moves not applied because a record they carry would land on an address the
    /// state records already (two records would become one): the move, and the
    /// record's `(from, to)`.
    pub collided: Vec<((Address, Address), (Address, Address))>,
}

/// A string attribute that is the address of a moved resource, or of one naming it
/// (`ou.Core/Dev`, `account.ml-dev`, `scp.deny-x`), re-addressed; anything else is
/// left as it is. Tags are values chosen by people, never references.
fn move_value(value: &mut serde_json::Value, from: &Address, to: &Address) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(new) = s.parse::<Address>().ok().and_then(|a| a.moved(from, to)) {
                *s = new.to_string();
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                move_value(item, from, to);
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                move_value(item, from, to);
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}

impl StateFile {
    /// The state with `[[moved]]` applied: each record at `from` re-addressed to `to`,
    /// with everything naming it (see [`Address::moved`]): an OU carries its child OUs,
    /// attachments, controls, registration, shares and the `ou.PATH` values of its
    /// accounts; an account its attachments and shares; an SCP its attachments. The
    /// plan then sees the same resources at their new addresses and changes only what
    /// AWS must: an OU's name, an SCP's name, an account's name.
    ///
    /// An OU moved under another parent is not re-addressed (see
    /// [`Moves::replaced`]). Moves in place are applied first, so a block moving an OU
    /// under a parent that another block renames finds it carried already.
    pub fn with_moves(&self, moved: &[crate::model::Moved]) -> (StateFile, Moves) {
        let mut state = self.clone();
        let mut moves = Moves::default();
        let (replacing, in_place): (Vec<_>, Vec<_>) = moved.iter().partition(|m| m.replaces());
        for m in in_place.into_iter().chain(replacing) {
            let pair = (m.from.clone(), m.to.clone());
            let has_from = state.resources.contains_key(&m.from);
            let has_to = state.resources.contains_key(&m.to);
            match (has_from, has_to) {
                (false, true) => moves.done.push(pair),
                (false, false) => moves.dangling.push(pair),
                (true, _) if m.replaces() => moves.replaced.push(pair),
                // Both ends recorded: the move cannot be applied without losing one.
                (true, true) => moves.dangling.push(pair),
                (true, false) => match state.collision(&m.from, &m.to) {
                    Some(record) => moves.collided.push((pair, record)),
                    None => state.re_address(&m.from, &m.to, &mut moves.applied),
                },
            }
        }
        (state, moves)
    }

    /// A record a move from `from` to `to` would carry onto an address the state
    /// records already (one that stays where it is).
    fn collision(&self, from: &Address, to: &Address) -> Option<(Address, Address)> {
        self.resources.keys().find_map(|address| {
            let new = address.moved(from, to)?;
            (address != from && self.resources.contains_key(&new) && new.moved(from, to).is_none())
                .then(|| (address.clone(), new))
        })
    }

    fn re_address(&mut self, from: &Address, to: &Address, applied: &mut Vec<(Address, Address)>) {
        let records = std::mem::take(&mut self.resources);
        for (address, mut record) in records {
            for (key, value) in record.attributes.iter_mut() {
                if key != "tags" {
                    move_value(value, from, to);
                }
            }
            match address.moved(from, to) {
                Some(new) => {
                    // An attachment records its policy by name, not by address.
                    if let Address::Attachment(a) = &new
                        && record.attributes.contains_key("policy")
                    {
                        record
                            .attributes
                            .insert("policy".into(), serde_json::json!(a.policy));
                    }
                    applied.push((address, new.clone()));
                    self.resources.insert(new, record);
                }
                None => {
                    self.resources.insert(address, record);
                }
            }
        }
        self.pending_creates = self
            .pending_creates
            .iter()
            .map(|a| a.moved(from, to).unwrap_or_else(|| a.clone()))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Moved;

    fn address(text: &str) -> Address {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn record(id: &str, attributes: serde_json::Value) -> ResourceRecord {
        let serde_json::Value::Object(map) = attributes else {
            panic!("attributes are an object");
        };
        ResourceRecord {
            id: id.into(),
            created: true,
            attributes: map.into_iter().collect(),
            member: None,
        }
    }

    fn moved(from: &str, to: &str) -> Moved {
        Moved {
            from: address(from),
            to: address(to),
        }
    }

    /// An organization with an SCP attached to the root, an OU and an account, a
    /// portfolio shared with the account, and a network in the account.
    fn state() -> StateFile {
        let mut s = StateFile::new(
            "lz",
            WorldIdentity {
                backend: "sim".into(),
                id: "w".into(),
            },
        );
        let records = [
            (
                "ou.Workloads",
                record("ou-1", json!({"name": "Workloads", "tags": {}})),
            ),
            (
                "account.ml-dev",
                record(
                    "222222222222",
                    json!({"name": "ml-dev", "email": "a@example.com", "ou": "ou.Workloads",
                           "tags": {"note": "account.ml-dev"}}),
                ),
            ),
            (
                "scp.deny-x",
                record(
                    "p-1",
                    json!({"name": "deny-x", "description": "", "content": "{}", "tags": {}}),
                ),
            ),
            (
                "attachment.deny-x:root",
                record("p-1|r-1", json!({"policy": "deny-x", "target": "root"})),
            ),
            (
                "attachment.deny-x:ou.Workloads",
                record(
                    "p-1|ou-1",
                    json!({"policy": "deny-x", "target": "ou.Workloads"}),
                ),
            ),
            (
                "attachment.deny-x:account.ml-dev",
                record(
                    "p-1|222222222222",
                    json!({"policy": "deny-x", "target": "account.ml-dev"}),
                ),
            ),
            (
                "attachment.FullAWSAccess:account.ml-dev",
                record(
                    "p-F|222222222222",
                    json!({"policy": "FullAWSAccess", "target": "account.ml-dev"}),
                ),
            ),
            (
                "portfolio_share.ml:account.ml-dev",
                record(
                    "port-1|222222222222",
                    json!({"portfolio": "ml", "target": "account.ml-dev", "share_tag_options": true}),
                ),
            ),
            (
                "vpc.ml-dev-use1",
                record("vpc-1", json!({"cidr": "10.0.0.0/16", "tags": {}})),
            ),
        ];
        for (a, r) in records {
            s.resources.insert(address(a), r);
        }
        s.pending_creates
            .insert(address("attachment.deny-x:account.ml-dev"));
        s
    }

    fn keys(s: &StateFile) -> Vec<String> {
        s.resources.keys().map(Address::to_string).collect()
    }

    #[test]
    fn an_scp_carries_its_attachments_and_their_policy() {
        let before = state();
        let (after, moves) = before.with_moves(&[moved("scp.deny-x", "scp.deny-y")]);
        assert_eq!(
            keys(&after),
            [
                "ou.Workloads",
                "account.ml-dev",
                "scp.deny-y",
                "attachment.FullAWSAccess:account.ml-dev",
                "attachment.deny-y:root",
                "attachment.deny-y:ou.Workloads",
                "attachment.deny-y:account.ml-dev",
                "vpc.ml-dev-use1",
                "portfolio_share.ml:account.ml-dev",
            ]
        );
        let att = &after.resources[&address("attachment.deny-y:ou.Workloads")];
        assert_eq!(att.id, "p-1|ou-1");
        assert_eq!(att.attributes["policy"], "deny-y");
        assert_eq!(att.attributes["target"], "ou.Workloads");
        // The policy keeps its id and its recorded name: the plan sees the rename.
        let scp = &after.resources[&address("scp.deny-y")];
        assert_eq!(
            (scp.id.as_str(), &scp.attributes["name"]),
            ("p-1", &json!("deny-x"))
        );
        assert_eq!(moves.applied.len(), 4, "{:?}", moves.applied);
        assert!(
            after
                .pending_creates
                .contains(&address("attachment.deny-y:account.ml-dev"))
        );
        // Nothing else changed.
        assert_eq!(
            after.resources[&address("account.ml-dev")],
            before.resources[&address("account.ml-dev")]
        );
    }

    #[test]
    fn an_account_carries_its_attachments_shares_and_references_but_not_its_tags() {
        let before = state();
        let (after, moves) =
            before.with_moves(&[moved("account.ml-dev", "account.ml-development")]);
        for gone in [
            "account.ml-dev",
            "attachment.deny-x:account.ml-dev",
            "attachment.FullAWSAccess:account.ml-dev",
            "portfolio_share.ml:account.ml-dev",
        ] {
            assert!(!after.resources.contains_key(&address(gone)), "{gone}");
        }
        let account = &after.resources[&address("account.ml-development")];
        assert_eq!(account.id, "222222222222");
        // Its name is what AWS calls it until the plan renames it; a tag value that
        // happens to read like an address is a person's text, left alone.
        assert_eq!(account.attributes["name"], "ml-dev");
        assert_eq!(account.attributes["tags"]["note"], "account.ml-dev");
        let att = &after.resources[&address("attachment.deny-x:account.ml-development")];
        assert_eq!(att.attributes["target"], "account.ml-development");
        assert_eq!(att.attributes["policy"], "deny-x");
        let share = &after.resources[&address("portfolio_share.ml:account.ml-development")];
        assert_eq!(share.id, "port-1|222222222222");
        assert_eq!(share.attributes["target"], "account.ml-development");
        // Member resources live in the account by id: untouched.
        assert_eq!(
            after.resources[&address("vpc.ml-dev-use1")],
            before.resources[&address("vpc.ml-dev-use1")]
        );
        assert_eq!(moves.applied.len(), 4);
        assert!(moves.done.is_empty() && moves.dangling.is_empty());
    }

    #[test]
    fn an_applied_move_is_done_and_one_with_neither_or_both_ends_dangles() {
        let (once, _) = state().with_moves(&[moved("account.ml-dev", "account.ml-development")]);
        let again = [moved("account.ml-dev", "account.ml-development")];
        let (twice, moves) = once.with_moves(&again);
        assert_eq!(twice, once);
        assert_eq!(
            moves.done,
            [(address("account.ml-dev"), address("account.ml-development"))]
        );
        let (_, moves) = state().with_moves(&[moved("scp.deny-typo", "scp.deny-y")]);
        assert_eq!(
            moves.dangling,
            [(address("scp.deny-typo"), address("scp.deny-y"))]
        );
        let mut both = state();
        both.resources.insert(
            address("scp.deny-y"),
            record("p-2", json!({"name": "deny-y"})),
        );
        let (unchanged, moves) = both.with_moves(&[moved("scp.deny-x", "scp.deny-y")]);
        assert_eq!(unchanged, both);
        assert_eq!(moves.dangling.len(), 1);
    }

    /// A record the move would carry onto an address the state records already: the
    /// move is not applied (two records would become one) and the plan stops on it.
    #[test]
    fn a_move_that_would_carry_a_record_onto_another_is_not_applied() {
        let mut s = state();
        s.resources.insert(
            address("attachment.deny-y:root"),
            record("p-9|r-1", json!({"policy": "deny-y", "target": "root"})),
        );
        let (unchanged, moves) = s.with_moves(&[moved("scp.deny-x", "scp.deny-y")]);
        assert_eq!(unchanged, s);
        assert!(moves.applied.is_empty());
        assert_eq!(
            moves.collided,
            [(
                (address("scp.deny-x"), address("scp.deny-y")),
                (
                    address("attachment.deny-x:root"),
                    address("attachment.deny-y:root")
                )
            )]
        );
    }

    /// AWS cannot move an OU: a move under another parent re-addresses nothing and is
    /// left to the plan as a replacement, also while one is half done (both ends
    /// recorded) — and is done once only the new OU is recorded.
    #[test]
    fn an_ou_moved_under_another_parent_is_a_replacement_not_a_re_addressing() {
        let block = [moved("ou.Workloads", "ou.Platform/Workloads")];
        let before = state();
        let (after, moves) = before.with_moves(&block);
        assert_eq!(after, before);
        assert_eq!(moves.replaced.len(), 1);
        assert!(moves.applied.is_empty() && moves.dangling.is_empty());
        let mut half = before.clone();
        half.resources.insert(
            address("ou.Platform/Workloads"),
            record("ou-2", json!({"name": "Workloads", "tags": {}})),
        );
        let (_, moves) = half.with_moves(&block);
        assert_eq!(moves.replaced.len(), 1);
        assert!(moves.dangling.is_empty());
        half.resources.remove(&address("ou.Workloads"));
        let (_, moves) = half.with_moves(&block);
        assert_eq!(moves.done.len(), 1);
    }

    /// A block moving an OU under a parent another block renames finds it carried by
    /// that rename, whichever comes first in the file.
    #[test]
    fn moves_in_place_go_first() {
        let mut s = state();
        s.resources.insert(
            address("ou.Workloads/Dev"),
            record("ou-3", json!({"name": "Dev", "tags": {}})),
        );
        let blocks = [
            moved("ou.Workloads/Dev", "ou.Apps/Dev"),
            moved("ou.Workloads", "ou.Apps"),
        ];
        let (after, moves) = s.with_moves(&blocks);
        assert_eq!(after.id_of(&address("ou.Apps/Dev")), Some("ou-3"));
        assert_eq!(after.id_of(&address("ou.Apps")), Some("ou-1"));
        assert!(moves.replaced.is_empty());
        assert_eq!(moves.done.len(), 1);
        assert_eq!(
            after.resources[&address("account.ml-dev")].attributes["ou"],
            "ou.Apps"
        );
    }

    /// States written before SCP names were recorded read as if they had them.
    #[test]
    fn an_scp_recorded_without_a_name_reads_with_its_address_name() {
        let mut s = state();
        if let Some(r) = s.resources.get_mut(&address("scp.deny-x")) {
            r.attributes.remove("name");
        }
        let text = serde_json::to_string(&s).unwrap_or_default();
        let read: StateFile = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            read.resources[&address("scp.deny-x")].attributes["name"],
            "deny-x"
        );
    }
}
