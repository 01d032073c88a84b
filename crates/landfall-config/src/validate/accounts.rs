//! `[account.NAME]`: account names, root emails (format, length, one per account),
//! the account's OU, and the `max_accounts` quota.

use std::collections::{BTreeSet, HashMap};

use landfall_core::model::AccountSpec;

use crate::diagnostics::Diagnostic;
use crate::raw::RawAccount;
use crate::rules;
use crate::sources::Loc;
use crate::validator::{Merged, Validator};

use super::Settings;
use super::references::OuRef;

/// A checked account, with what the SCP count per target needs.
pub(super) struct CheckedAccount {
    pub(super) spec: AccountSpec,
    /// Its own `full_aws_access` setting, when written.
    pub(super) full_aws_access: Option<(bool, Loc)>,
    pub(super) key: Loc,
}

impl Validator<'_> {
    pub(super) fn accounts(
        &mut self,
        decls: &Merged<'_, RawAccount>,
        ous: &BTreeSet<String>,
        settings: &Settings,
    ) -> Vec<CheckedAccount> {
        let mut out = Vec::new();
        let mut emails: HashMap<String, Loc> = HashMap::new();
        let max = settings.quotas.max_accounts;
        for (i, decl) in decls.first.iter().enumerate() {
            let name = &decl.name;
            if i == max {
                self.push(
                    Diagnostic::error(
                        "LF308",
                        format!("{} accounts are declared; the limit is {max}", decls.first.len()),
                    )
                    .at(&decl.key, format!("account number {}", max + 1))
                    .help("raise `max_accounts` in [landing_zone.quotas] once AWS has raised your quota"),
                );
            }
            if let Some(problem) = rules::account_name_problem(name) {
                self.push(
                    Diagnostic::error("LF303", format!("invalid account name `{name}`"))
                        .at(&decl.key, problem)
                        .help("e.g. [account.ml-fraud-dev]"),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let email = raw.email.get_ref();
            let email_loc = self.loc(src, &raw.email);
            let length = email.chars().count();
            if !(6..=64).contains(&length) {
                self.push(
                    Diagnostic::error(
                        "LF305",
                        format!("the email of account `{name}` is {length} characters long"),
                    )
                    .at(&email_loc, "must be 6 to 64 characters")
                    .help("AWS accepts root emails of 6 to 64 characters"),
                );
            } else if let Some(problem) = rules::email_format_problem(email) {
                self.push(
                    Diagnostic::error(
                        "LF304",
                        format!("invalid email `{email}` for account `{name}`"),
                    )
                    .at(&email_loc, problem)
                    .help("e.g. `aws+log-archive@example.com`"),
                );
            }
            match emails.get(&email.to_lowercase()) {
                Some(first) => self.push(
                    Diagnostic::error("LF306", format!("email `{email}` is used by two accounts"))
                        .at(&email_loc, "used again here")
                        .at(first, "first used here")
                        .help("every account needs its own root email (compared case-insensitively); plus-addressing helps: `aws+name@example.com`"),
                ),
                None => {
                    emails.insert(email.to_lowercase(), email_loc);
                }
            }
            let ou = match &raw.ou {
                Some(ou) => {
                    let loc = self.loc(src, ou);
                    self.ou_reference(ou.get_ref(), &loc, ous, OuRef::Account(name))
                }
                None => None,
            };
            let tags = self.tags(src, raw.tags.as_ref(), &format!("account.{name}"));
            let aws_name = match &raw.name {
                Some(n) => match crate::rules::aws_name_problem(n.get_ref(), 50, false) {
                    Some(problem) => {
                        let loc = self.loc(src, n);
                        self.push(
                            Diagnostic::error(
                                "LF309",
                                format!("`{}` cannot name an account in AWS", n.get_ref()),
                            )
                            .at(&loc, problem)
                            .help("AWS account names are 1 to 50 printable ASCII characters without `<` or `>`"),
                        );
                        None
                    }
                    None => (n.get_ref() != name).then(|| n.get_ref().clone()),
                },
                None => None,
            };
            out.push(CheckedAccount {
                spec: AccountSpec {
                    name: name.clone(),
                    aws_name,
                    email: email.clone(),
                    ou,
                    tags,
                    allow_close: raw.allow_close.unwrap_or(false),
                    origin: self.origin(&decl.key),
                    project: None,
                    sso_user: None,
                },
                full_aws_access: raw
                    .full_aws_access
                    .as_ref()
                    .map(|f| (*f.get_ref(), self.loc(src, f))),
                key: decl.key.clone(),
            });
        }
        out
    }
}
