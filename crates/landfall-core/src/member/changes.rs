//! Emitting the change of a member resource (create, adopt or update, delete) in its
//! member account, the address tag every creation carries, and the operations that
//! delete each kind.

use serde_json::Value;

use crate::address::{ADDRESS_TAG, Address};
use crate::attrs::{AttrDiff, Attrs, diff_attrs};
use crate::kind::MemberKind;
use crate::model::Tags;
use crate::plan::{Action, Change, MemberOp, Op, Record};
use crate::planner::Planner;

use super::matching::Ctx;

pub(super) fn with_address_tag(tags: &Tags, address: &Address) -> Tags {
    let mut t = tags.clone();
    t.insert(ADDRESS_TAG.into(), address.to_string());
    t
}

impl Planner<'_> {
    pub(super) fn push_member(&mut self, mut change: Change, ctx: &Ctx) {
        change.member = Some(ctx.member.clone());
        self.changes.push(change);
    }

    pub(super) fn create_change(
        &mut self,
        ctx: &Ctx,
        address: Address,
        ops: Vec<Op>,
        attributes: Attrs,
        reason: Option<String>,
    ) {
        let reason = reason.unwrap_or_else(|| self.created_reason(&address));
        let diffs = diff_attrs(&Attrs::new(), &attributes, &[]);
        self.push_member(
            Change {
                address,
                action: Action::Create,
                reason,
                diffs,
                id: None,
                member: None,
                project: None,
                ops,
                record: Record::Upsert {
                    created: true,
                    attributes,
                },
                depends_on: vec![],
            },
            ctx,
        );
    }

    /// Adopt/update an existing member resource (the org helper, plus the member).
    pub(super) fn existing_member_change(
        &mut self,
        ctx: &Ctx,
        address: Address,
        id: String,
        diffs: Vec<AttrDiff>,
        ops: Vec<Op>,
        attributes: Attrs,
    ) {
        let before = self.changes.len();
        self.existing_change(address, id, diffs, ops, false, attributes);
        if self.changes.len() > before
            && let Some(last) = self.changes.last_mut()
        {
            last.member = Some(ctx.member.clone());
        }
    }

    pub(super) fn delete_change(
        &mut self,
        ctx: &Ctx,
        address: Address,
        id: String,
        ops: Vec<Op>,
        reason: String,
    ) {
        self.push_member(
            Change {
                address,
                action: Action::Delete,
                reason,
                diffs: vec![],
                id: Some(id),
                member: None,
                project: None,
                ops,
                record: Record::Remove,
                depends_on: vec![],
            },
            ctx,
        );
    }
}

/// The operations that delete a member resource Landfall created. A KMS key is never
/// deleted at once: its alias goes and its deletion is scheduled (cancellable).
pub(super) fn delete_ops(kind: MemberKind<'_>, recorded: &Attrs) -> Vec<Op> {
    let op = match kind {
        MemberKind::Endpoint(..) => MemberOp::DeleteEndpoint,
        MemberKind::Subnet(..) => MemberOp::DeleteSubnet,
        MemberKind::SecurityGroup(_) => MemberOp::DeleteSecurityGroup,
        MemberKind::RouteTable(_) => MemberOp::DeleteRouteTable,
        MemberKind::Vpc(_) => MemberOp::DeleteVpc,
        MemberKind::KmsKey(_) => {
            let mut ops = Vec::new();
            if let Some(alias) = recorded.get("alias").and_then(Value::as_str) {
                ops.push(Op::Member(MemberOp::DeleteAlias {
                    alias: alias.to_string(),
                }));
            }
            ops.push(Op::Member(MemberOp::ScheduleKeyDeletion {
                window_days: key_deletion_window(recorded),
            }));
            return ops;
        }
    };
    vec![Op::Member(op)]
}

/// The deletion window recorded for a key (AWS's default: 30 days).
pub(super) fn key_deletion_window(recorded: &Attrs) -> u32 {
    recorded
        .get("deletion_window_days")
        .and_then(Value::as_u64)
        .and_then(|w| u32::try_from(w).ok())
        .unwrap_or(30)
}
