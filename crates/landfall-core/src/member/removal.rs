//! Member resources no longer declared (deleted when Landfall created them, a key's
//! deletion scheduled; forgotten otherwise) and `prune_unmanaged`: endpoints made
//! outside Landfall in managed VPCs.

use std::collections::BTreeSet;

use crate::address::Address;
use crate::kind::MemberKind;
use crate::plan::{Action, Change, MemberOp, MemberRef, Op, Record, Ref};
use crate::planner::Planner;
use crate::state::ResourceRecord;

use super::attrs::exists_live;
use super::changes::{delete_ops, key_deletion_window};
use super::matching::Ctx;

impl Planner<'_> {
    /// Member resources in the state but no longer declared: deleted when Landfall
    /// created them (a key's deletion is scheduled), forgotten otherwise. What the plan
    /// already removes (the contents of a replaced VPC, e.g. its old subnets) is left
    /// to that change: one removal per address.
    pub(super) fn plan_member_removals(&mut self) {
        let declared = self.desired.addresses();
        let removed: BTreeSet<Address> = self
            .changes
            .iter()
            .filter(|c| matches!(c.record, Record::Remove))
            .map(|c| c.address.clone())
            .collect();
        let records: Vec<(Address, ResourceRecord)> = self
            .state
            .resources
            .iter()
            .filter(|(a, _)| {
                a.member_kind().is_some() && !declared.contains(a) && !removed.contains(a)
            })
            .map(|(a, r)| (a.clone(), r.clone()))
            .collect();
        for (address, rec) in records {
            let Some((account_id, region)) = rec.member.as_ref().and_then(|m| m.split_once('/'))
            else {
                continue;
            };
            let ctx = Ctx {
                member: MemberRef {
                    account: Ref::Id(account_id.to_string()),
                    region: region.to_string(),
                },
                account_id: Some(account_id.to_string()),
                key: rec.member.clone(),
            };
            let alive = exists_live(self.live, Some(&rec), &address);
            let log_bucket = crate::security::bucket_encrypted_with(self.state, &address);
            if !alive || !rec.created || log_bucket.is_some() {
                let reason = match log_bucket {
                    _ if !alive => "no longer declared, and already gone live".to_string(),
                    Some(bucket) => format!(
                        "no longer declared; it encrypts the logs in {bucket}, which Landfall keeps, so it is left in place (schedule its deletion once those logs are gone)"
                    ),
                    None => {
                        "no longer declared; Landfall did not create it, so it is left in place"
                            .to_string()
                    }
                };
                self.push_member(
                    Change {
                        address,
                        action: Action::Forget,
                        reason,
                        diffs: vec![],
                        id: Some(rec.id.clone()),
                        member: None,
                        project: None,
                        ops: vec![],
                        record: Record::Remove,
                        depends_on: vec![],
                    },
                    &ctx,
                );
                continue;
            }
            let Some(kind) = address.member_kind() else {
                continue;
            };
            let ops = delete_ops(kind, &rec.attributes);
            let reason = if let MemberKind::KmsKey(_) = kind {
                format!(
                    "no longer declared; Landfall created it: deletion scheduled in {} days (cancellable until then)",
                    key_deletion_window(&rec.attributes)
                )
            } else {
                "no longer declared; Landfall created it".into()
            };
            self.delete_change(&ctx, address, rec.id.clone(), ops, reason);
        }
    }

    /// With `prune_unmanaged`: delete endpoints created outside Landfall in managed VPCs.
    pub(super) fn plan_member_prune(&mut self) {
        for (n, endpoint_id, ctx, service) in self.unmanaged_endpoints() {
            let address = Address::Endpoint(n, service);
            if self.state.resources.contains_key(&address)
                || self.changes.iter().any(|c| c.address == address)
            {
                continue;
            }
            self.delete_change(
                &ctx,
                address,
                endpoint_id,
                vec![Op::Member(MemberOp::DeleteEndpoint)],
                "created outside Landfall in a managed VPC (prune_unmanaged)".into(),
            );
        }
    }

    fn unmanaged_endpoints(&self) -> Vec<(String, String, Ctx, String)> {
        let mut out = Vec::new();
        for net in self.desired.networks.values() {
            let ctx = self.member_ctx(&net.account, &net.region);
            let Some(member) = self.live_member(&ctx) else {
                continue;
            };
            let Some(vpc_id) = self.member_id(&ctx, &Address::Vpc(net.name.clone())) else {
                continue;
            };
            let known: BTreeSet<String> = net
                .endpoints
                .keys()
                .filter_map(|s| {
                    self.member_id(&ctx, &Address::Endpoint(net.name.clone(), s.clone()))
                })
                .collect();
            for e in member.endpoints.values() {
                if e.vpc_id == vpc_id && !known.contains(&e.id) {
                    let prefix = format!("com.amazonaws.{}.", net.region);
                    let service = e
                        .service_name
                        .strip_prefix(&prefix)
                        .unwrap_or(&e.service_name)
                        .to_string();
                    out.push((
                        net.name.clone(),
                        e.id.clone(),
                        self.member_ctx(&net.account, &net.region),
                        service,
                    ));
                }
            }
        }
        out
    }
}
