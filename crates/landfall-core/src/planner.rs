//! The planner's working state, shared by every family: the inputs, the physical id of
//! each desired resource found live, and the changes, problems and warnings so far;
//! with the helpers every family uses to emit a change. What each family plans lives
//! in its own module (`organization`, `member`, `governance`).

use std::collections::{BTreeMap, HashMap};

use crate::address::Address;
use crate::attrs::{AttrDiff, Attrs};
use crate::drift_report::Finding;
use crate::import::PendingImport;
use crate::live::{LiveIndex, LiveState};
use crate::model::DesiredState;
use crate::plan::{Action, Change, Op, Record, Ref};
use crate::state::{ResourceRecord, StateFile};

/// A reason the plan cannot be made, tied to the resource it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanProblem {
    pub address: Address,
    pub message: String,
    pub hint: Option<String>,
}

pub(crate) struct Planner<'a> {
    pub(crate) desired: &'a DesiredState,
    pub(crate) live: &'a LiveState,
    pub(crate) index: LiveIndex<'a>,
    pub(crate) state: &'a StateFile,
    /// Physical id of every desired resource that exists live.
    pub(crate) existing: HashMap<Address, String>,
    /// `[[import]]` blocks the state does not record yet (see [`crate::import`]): the
    /// families match these addresses to the blocks' ids instead of by natural key.
    pub(crate) imports: BTreeMap<Address, PendingImport>,
    pub(crate) changes: Vec<Change>,
    pub(crate) problems: Vec<PlanProblem>,
    pub(crate) warnings: Vec<String>,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(
        desired: &'a DesiredState,
        live: &'a LiveState,
        state: &'a StateFile,
    ) -> Self {
        Planner {
            desired,
            live,
            index: LiveIndex::new(live),
            state,
            existing: HashMap::new(),
            imports: BTreeMap::new(),
            changes: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn reference(&self, address: Address) -> Ref {
        match self.existing.get(&address) {
            Some(id) => Ref::Id(id.clone()),
            None => Ref::Address(address),
        }
    }

    pub(crate) fn in_state(&self, address: &Address, id: &str) -> bool {
        self.state.id_of(address) == Some(id)
    }

    pub(crate) fn created_flag(&self, address: &Address) -> bool {
        match self.state.resources.get(address) {
            Some(r) => r.created,
            None => self.state.pending_creates.contains(address),
        }
    }

    pub(crate) fn problem(&mut self, address: Address, message: String, hint: Option<&str>) {
        self.problems.push(PlanProblem {
            address,
            message,
            hint: hint.map(str::to_string),
        });
    }

    /// Emits the change for an existing desired resource: adopt when the state does not
    /// know it yet, update when `ops` is not empty, nothing otherwise.
    pub(crate) fn existing_change(
        &mut self,
        address: Address,
        id: String,
        diffs: Vec<AttrDiff>,
        ops: Vec<Op>,
        moving: bool,
        attributes: Attrs,
    ) {
        let known = self.in_state(&address, &id);
        let state_attrs = self.state.resources.get(&address).map(|r| &r.attributes);
        let import = self.imports.get(&address).filter(|_| !known);
        let (action, reason) = if !known {
            let reason = if let Some(import) = import {
                format!("[[import]] id = \"{}\"; Landfall will manage it", import.id)
            } else if self.state.pending_creates.contains(&address) {
                "created by an interrupted apply; recording it".to_string()
            } else {
                format!("exists live as {id}; Landfall will manage it")
            };
            (Action::Adopt, reason)
        } else if ops.is_empty() {
            if state_attrs == Some(&attributes) {
                return;
            }
            (Action::Update, "record the current attributes".to_string())
        } else {
            let changed_here = state_attrs.is_some_and(|s| *s != attributes);
            let action = if moving { Action::Move } else { Action::Update };
            let reason = if changed_here {
                "the declaration changed".to_string()
            } else {
                "changed outside Landfall; restoring the declared value".to_string()
            };
            (action, reason)
        };
        // An imported resource is adopted: Landfall never deletes it.
        let created = import.is_none() && self.created_flag(&address);
        self.changes.push(Change {
            address,
            action,
            reason,
            diffs,
            id: Some(id),
            ops,
            record: Record::Upsert {
                created,
                attributes,
            },
            member: None,
            project: None,
            depends_on: vec![],
        });
    }

    pub(crate) fn created_reason(&self, address: &Address) -> String {
        match self.state.resources.get(address) {
            Some(r) => format!("was deleted outside Landfall (it was {})", r.id),
            None => "declared; does not exist yet".to_string(),
        }
    }
}

/// What the planner, drift detection and `--refresh-only` ask of a family of resource
/// kinds. Each family implements it once, in its own module (`organization`, `member`,
/// `governance`); [`crate::family::of`] is the one exhaustive dispatch from a
/// [`Family`](crate::kind::Family) to its implementation.
pub(crate) trait PlanFamily: Sync {
    /// The attributes the desired state declares for one of the family's addresses
    /// (policies substituted when the member account is known); `None` when it is not
    /// declared.
    fn declared_attrs(
        &self,
        desired: &DesiredState,
        address: &Address,
        account_id: Option<&str>,
    ) -> Option<Attrs>;

    /// For `apply --refresh-only`: the live attributes to accept (`Some(None)` when the
    /// resource is gone), or `None` to leave the record as it is (not read, or nothing
    /// to accept). References to other resources keep the addresses `state` records
    /// them under, so accepting live values leaves nothing to report.
    fn accepted_live(
        &self,
        live: &LiveState,
        index: &LiveIndex<'_>,
        address: &Address,
        rec: &ResourceRecord,
        state: &StateFile,
    ) -> Option<Option<Attrs>>;

    /// Plans the family's declared resources (create, adopt, update, move, replace)
    /// and the removal of recorded ones no longer declared.
    fn plan(&self, planner: &mut Planner<'_>);

    /// With `prune_unmanaged`: removes what was made outside Landfall inside the
    /// managed scope.
    fn prune(&self, planner: &mut Planner<'_>);

    /// Once every family has planned: rewrites and checks that need the whole plan
    /// (replacements, deletions AWS would refuse).
    fn review(&self, planner: &mut Planner<'_>);

    /// Ordering edges `(before, after)` that the operations' references do not give.
    fn edges(&self, planner: &Planner<'_>) -> Vec<(usize, usize)>;

    /// Drift of the family's recorded resources (changed, missing, moved) and of
    /// unmanaged ones inside the managed scope.
    fn drift(&self, live: &LiveState, state: &StateFile) -> Vec<Finding>;
}
