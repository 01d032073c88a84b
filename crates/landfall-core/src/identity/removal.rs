//! Identity resources no longer declared: assignments deleted, then the permission sets
//! and groups Landfall created; what Landfall adopted is forgotten, never deleted.

use crate::address::Address;
use crate::kind::IdentityKind;
use crate::live::PrincipalType;
use crate::plan::{Action, IdentityOp, PrincipalRef, Ref};
use crate::planner::Planner;
use crate::state::ResourceRecord;

use super::attrs::{exists_live, parse_assignment_id};
use super::change;

impl Planner<'_> {
    pub(super) fn plan_identity_removals(&mut self) {
        let declared = self.desired.addresses();
        let records: Vec<(Address, ResourceRecord)> = self
            .state
            .resources
            .iter()
            .filter(|(a, _)| !declared.contains(*a) && a.identity_kind().is_some())
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect();
        for (address, rec) in records {
            let mut c = change(address.clone(), Action::Forget, String::new());
            c.id = Some(rec.id.clone());
            if !exists_live(&self.live.identity, &address, &rec.id) {
                c.reason = "no longer declared, and already gone live".into();
                self.changes.push(c);
                continue;
            }
            if !rec.created {
                c.reason =
                    "no longer declared; Landfall did not create it, so it is left in place".into();
                self.changes.push(c);
                continue;
            }
            c.action = Action::Delete;
            c.reason = "no longer declared; Landfall created it".into();
            let Some(kind) = address.identity_kind() else {
                continue;
            };
            match kind {
                IdentityKind::PermissionSet(_) => {
                    c.ops = vec![IdentityOp::DeletePermissionSet.into()];
                }
                IdentityKind::Group(_) => {
                    c.ops = vec![IdentityOp::DeleteGroup.into()];
                }
                IdentityKind::Assignment(_) => {
                    let Some(live) = parse_assignment_id(&rec.id) else {
                        continue;
                    };
                    let principal = match live.principal_type {
                        PrincipalType::Group => PrincipalRef::Group(Ref::Id(live.principal_id)),
                        PrincipalType::User => PrincipalRef::User(live.principal_id),
                    };
                    c.ops = vec![
                        IdentityOp::DeleteAccountAssignment {
                            permission_set: Ref::Id(live.permission_set_arn),
                            principal,
                            account: Ref::Id(live.account_id),
                        }
                        .into(),
                    ];
                }
            }
            self.changes.push(c);
        }
    }
}
