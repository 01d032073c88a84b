//! Finding a declared member resource live: the member account and region it lives
//! in, then the state's id when it still exists there, else the id an `[[import]]`
//! block gives (checked here, in the declared account and region), else the resource
//! carrying its `landfall:address` tag.

use crate::address::{ADDRESS_TAG, Address};
use crate::import::{KeyArn, what_is};
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
        if let Some(import) = self.imports.get(address) {
            // Checked by `check_member_imports`; a wrong id is a plan problem already.
            return live_attrs(member, address, &import.record_id)
                .map(|_| import.record_id.clone());
        }
        tagged(member, address)
    }

    /// Checks each pending `[[import]]` block of a member resource live: its account
    /// exists, the id is a resource of that kind in the account and region the resource
    /// is declared in (a key ARN must name them too). Each failure is a plan problem.
    pub(super) fn check_member_imports(&mut self) {
        let imports: Vec<(Address, crate::import::PendingImport)> = self
            .imports
            .iter()
            .filter(|(address, _)| address.member_kind().is_some())
            .map(|(a, i)| (a.clone(), i.clone()))
            .collect();
        for (address, import) in imports {
            let Some((account, region)) = self.desired.member_of(&address) else {
                continue;
            };
            let (account, region) = (account.to_string(), region.to_string());
            let ctx = self.member_ctx(&account, &region);
            let fail = |p: &mut Self, message: String, hint: &str| {
                p.problem(
                    address.clone(),
                    format!("[[import]] id = \"{}\": {message}", import.id),
                    Some(hint),
                );
            };
            let Some(account_id) = ctx.account_id.clone() else {
                fail(
                    self,
                    format!("{address} is declared in account.{account}, which does not exist yet"),
                    "import the account too, or remove the block to let Landfall create the resource in the new account",
                );
                continue;
            };
            let place = format!("account.{account} ({account_id}) in {region}");
            if let Some(arn) = KeyArn::parse(&import.id)
                && (arn.account != account_id || arn.region != region)
            {
                fail(
                    self,
                    format!(
                        "the key ARN names account {} in {}, but {address} is declared in {place}",
                        arn.account, arn.region
                    ),
                    "import the key where it is declared: fix the ARN, or the key's `account` and `region`",
                );
                continue;
            }
            let Some(member) = self.live_member(&ctx) else {
                fail(
                    self,
                    format!("{place} was not read"),
                    "the refresh reads every account and region a declared resource names; run the plan again",
                );
                continue;
            };
            if live_attrs(member, &address, &import.record_id).is_some() {
                continue;
            }
            let found = match what_is(self.live, &import.record_id) {
                Some(what) => format!("it is {what}, not {} in {place}", import.kind.noun()),
                None => format!("no {} in {place} has this id", import.kind.name()),
            };
            fail(
                self,
                format!("{address} cannot be imported: {found}"),
                "check the id in that account and region (`aws ec2 describe-vpcs`, `aws kms list-keys`), or the resource's declared `account` and `region`; remove the block to let Landfall create it",
            );
        }
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
