//! Finding a declared member resource live: the member account and region it lives
//! in, then the state's id when it still exists there, else the resource carrying its
//! `landfall:address` tag.

use crate::address::{ADDRESS_TAG, Address};
use crate::kind::MemberKind;
use crate::live::{LiveMember, member_key};
use crate::model::Tags;
use crate::plan::{MemberRef, Ref};
use crate::planner::Planner;

use super::attrs::live_attrs;

pub(super) struct Ctx {
    pub(super) member: MemberRef,
    pub(super) account_id: Option<String>,
    pub(super) key: Option<String>,
}

impl<'a> Planner<'a> {
    pub(super) fn member_ctx(&self, account: &str, region: &str) -> Ctx {
        let account_address = Address::Account(account.to_string());
        let account_id = self.existing.get(&account_address).cloned();
        Ctx {
            member: MemberRef {
                account: self.reference(account_address),
                region: region.to_string(),
            },
            key: account_id.as_ref().map(|a| member_key(a, region)),
            account_id,
        }
    }

    pub(super) fn live_member(&self, ctx: &Ctx) -> Option<&'a LiveMember> {
        ctx.key.as_ref().and_then(|k| self.live.members.get(k))
    }

    /// The live id of a declared member resource: the state's (if still live), else
    /// the one tagged with its address.
    pub(super) fn member_id(&self, ctx: &Ctx, address: &Address) -> Option<String> {
        let member = self.live_member(ctx)?;
        if let Some(rec) = self.state.resources.get(address)
            && rec.member == ctx.key
            && live_attrs(member, address, &rec.id).is_some()
        {
            return Some(rec.id.clone());
        }
        tagged(member, address)
    }

    pub(super) fn member_ref(&self, ctx: &Ctx, address: Address) -> Ref {
        match self.member_id(ctx, &address) {
            Some(id) => Ref::Id(id),
            None => Ref::Address(address),
        }
    }
}

/// Finds a live resource carrying Landfall's address tag.
fn tagged(member: &LiveMember, address: &Address) -> Option<String> {
    let wanted = address.to_string();
    let has = |tags: &Tags| tags.get(ADDRESS_TAG) == Some(&wanted);
    match address.member_kind()? {
        MemberKind::Vpc(_) => member
            .vpcs
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::Subnet(..) => member
            .subnets
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::RouteTable(_) => member
            .route_tables
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::SecurityGroup(_) => member
            .security_groups
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::Endpoint(..) => member
            .endpoints
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
        MemberKind::KmsKey(_) => member
            .keys
            .values()
            .find(|v| has(&v.tags))
            .map(|v| v.id.clone()),
    }
}
