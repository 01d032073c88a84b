//! Planning declared KMS keys: create with rotation and alias; description, policy,
//! rotation, alias and tags in place; a key pending deletion is restored.

use serde_json::{Value, json};

use crate::address::Address;
use crate::attrs::{AttrDiff, diff_attrs, tag_changes};
use crate::live::KeyState;
use crate::plan::{MemberOp, Op};
use crate::planner::Planner;

use super::attrs::{declared_attrs_with, live_attrs};
use super::changes::with_address_tag;

impl Planner<'_> {
    pub(super) fn plan_keys(&mut self) {
        let keys: Vec<_> = self.desired.kms_keys.values().cloned().collect();
        for key in keys {
            let ctx = self.member_ctx(&key.account, &key.region);
            let address = Address::KmsKey(key.name.clone());
            let attrs = declared_attrs_with(self.desired, &address, ctx.account_id.as_deref())
                .unwrap_or_default();
            let tags = with_address_tag(&key.tags, &address);
            let Some((id, member)) = self.member_id(&ctx, &address).zip(self.live_member(&ctx))
            else {
                let mut ops = vec![Op::Member(MemberOp::CreateKey {
                    description: key.description.clone(),
                    policy: key.policy.clone(),
                    tags,
                })];
                if key.rotation {
                    ops.push(Op::Member(MemberOp::SetKeyRotation { enabled: true }));
                }
                if let Some(alias) = &key.alias {
                    ops.push(Op::Member(MemberOp::PutAlias {
                        alias: alias.clone(),
                    }));
                }
                self.create_change(&ctx, address, ops, attrs, None);
                continue;
            };
            let Some(live_key) = member.keys.get(&id) else {
                continue;
            };
            let mut live = live_attrs(member, &address, &id).unwrap_or_default();
            // The alias compared is the declared one if the key has it.
            if let Some(a) = &key.alias
                && live_key.aliases.contains(a)
            {
                live.insert("alias".into(), json!(a));
            }
            let diffs = diff_attrs(
                &live,
                &attrs,
                &["description", "policy", "rotation", "alias", "tags"],
            );
            let mut ops = Vec::new();
            if live_key.state == KeyState::PendingDeletion {
                ops.push(Op::Member(MemberOp::RestoreKey));
            }
            for d in &diffs {
                match d.attribute.as_str() {
                    "description" => ops.push(Op::Member(MemberOp::UpdateKeyDescription {
                        description: key.description.clone(),
                    })),
                    "policy" => ops.push(Op::Member(MemberOp::PutKeyPolicy {
                        policy: key.policy.clone(),
                    })),
                    "rotation" => ops.push(Op::Member(MemberOp::SetKeyRotation {
                        enabled: key.rotation,
                    })),
                    "alias" => {
                        if let Some(a) = &key.alias {
                            ops.push(Op::Member(MemberOp::PutAlias { alias: a.clone() }));
                        }
                        let recorded = self
                            .state
                            .resources
                            .get(&address)
                            .and_then(|r| r.attributes.get("alias"))
                            .and_then(Value::as_str)
                            .map(str::to_string);
                        if let Some(old) = recorded.filter(|o| Some(o) != key.alias.as_ref())
                            && live_key.aliases.contains(&old)
                        {
                            ops.push(Op::Member(MemberOp::DeleteAlias { alias: old }));
                        }
                    }
                    _ => {}
                }
            }
            let (set, remove) = tag_changes(&diffs);
            if !set.is_empty() {
                ops.push(Op::Member(MemberOp::TagKey { tags: set }));
            }
            if !remove.is_empty() {
                ops.push(Op::Member(MemberOp::UntagKey { keys: remove }));
            }
            let mut diffs = diffs;
            if live_key.state == KeyState::PendingDeletion {
                diffs.push(AttrDiff {
                    attribute: "state".into(),
                    before: Some(json!("pending_deletion")),
                    after: Some(json!("enabled")),
                });
            }
            self.existing_member_change(&ctx, address, id, diffs, ops, attrs);
        }
    }
}
