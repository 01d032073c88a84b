//! The Account Factory as the organization's planner needs it: the provisioned product
//! of an account, through which Control Tower keeps governing it when it moves.

use crate::live::{LiveProvisionedAccount, LiveState};

/// The Account Factory provisioned product of an account id, if any.
pub fn provisioned_account<'a>(
    live: &'a LiveState,
    account_id: &str,
) -> Option<&'a LiveProvisionedAccount> {
    live.governance
        .provisioned_accounts
        .iter()
        .find(|p| p.account_id.as_deref() == Some(account_id))
}
