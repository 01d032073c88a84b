//! Account Factory: `account_factory = "control_tower"` (which needs
//! `[control_tower]`), and what it needs of each account: an OU registered with
//! Control Tower and an Identity Center user (`sso_user`, the account's own or
//! `[control_tower]`'s default).

use std::collections::BTreeMap;

use landfall_core::model::{AccountFactory, SsoUser};

use crate::diagnostics::Diagnostic;
use crate::parse::Decl;
use crate::raw::{RawAccount, RawAccountFactory, RawLandingZone, RawSsoUser};
use crate::rules;
use crate::sources::SourceId;
use crate::validator::{Merged, Validator};

use super::control_tower::ControlTower;

impl Validator<'_> {
    /// `account_factory` of the (first) landing zone; requires `[control_tower]`.
    pub(crate) fn account_factory(
        &mut self,
        lz: &[&Decl<RawLandingZone>],
        ct: &ControlTower,
    ) -> AccountFactory {
        let mut out = None;
        for decl in lz {
            let Some(raw) = &decl.body else { continue };
            let factory = match &raw.account_factory {
                Some(f) if *f.get_ref() == RawAccountFactory::ControlTower => {
                    if !ct.present {
                        let loc = self.loc(decl.key.source, f);
                        self.push(
                            Diagnostic::error(
                                "LF824",
                                "`account_factory = \"control_tower\"` needs a [control_tower] section",
                            )
                            .at(&loc, "Account Factory is part of Control Tower")
                            .help(
                                "declare [control_tower] (the organization must have a Control \
                                 Tower landing zone), or remove `account_factory` to create \
                                 accounts with AWS Organizations",
                            ),
                        );
                    }
                    AccountFactory::ControlTower
                }
                _ => AccountFactory::Organizations,
            };
            out.get_or_insert(factory);
        }
        out.unwrap_or(AccountFactory::Organizations)
    }

    /// Checks an `sso_user`; the user when it is valid.
    pub(super) fn sso_user(
        &mut self,
        src: SourceId,
        raw: &RawSsoUser,
        owner: &str,
    ) -> Option<SsoUser> {
        let mut ok = true;
        let email = raw.email.get_ref();
        let email_loc = self.loc(src, &raw.email);
        let length = email.chars().count();
        if !(6..=64).contains(&length) {
            ok = false;
            self.push(
                Diagnostic::error(
                    "LF826",
                    format!("the `sso_user` email of {owner} is {length} characters long"),
                )
                .at(&email_loc, "must be 6 to 64 characters"),
            );
        } else if let Some(problem) = rules::email_format_problem(email) {
            ok = false;
            self.push(
                Diagnostic::error(
                    "LF826",
                    format!("invalid `sso_user` email `{email}` in {owner}"),
                )
                .at(&email_loc, problem)
                .help("e.g. `platform-team@example.com`"),
            );
        }
        for (key, value) in [
            ("first_name", &raw.first_name),
            ("last_name", &raw.last_name),
        ] {
            if value.get_ref().trim().is_empty() {
                ok = false;
                let loc = self.loc(src, value);
                self.push(
                    Diagnostic::error("LF826", format!("the `sso_user` {key} of {owner} is empty"))
                        .at(&loc, "empty")
                        .help(
                            "Account Factory needs the Identity Center user's first and last name",
                        ),
                );
            }
        }
        ok.then(|| SsoUser {
            email: email.clone(),
            first_name: raw.first_name.get_ref().clone(),
            last_name: raw.last_name.get_ref().clone(),
        })
    }

    /// Each account's Identity Center user (its own, else `[control_tower]`'s), set
    /// only when accounts are created by Account Factory; checks what Account
    /// Factory needs of an account.
    pub(crate) fn sso_users(
        &mut self,
        decls: &Merged<'_, RawAccount>,
        factory: AccountFactory,
        ct: &ControlTower,
    ) -> BTreeMap<String, SsoUser> {
        let mut out = BTreeMap::new();
        for decl in &decls.first {
            let Some(raw) = &decl.body else { continue };
            let src = decl.key.source;
            let name = &decl.name;
            let own = raw
                .sso_user
                .as_ref()
                .map(|u| (u, self.sso_user(src, u, &format!("account `{name}`"))));
            if factory == AccountFactory::Organizations {
                if let Some((u, _)) = &own {
                    let loc = self.loc(src, &u.email);
                    self.push(
                        Diagnostic::warning(
                            "LF907",
                            format!("the `sso_user` of account `{name}` is ignored"),
                        )
                        .at(&loc, "only used by Account Factory")
                        .help(
                            "accounts are created with AWS Organizations; set \
                             `account_factory = \"control_tower\"` in [landing_zone], or remove \
                             `sso_user`",
                        ),
                    );
                }
                continue;
            }
            if ct.settings.is_none() {
                // No [control_tower] (LF824 is reported on `account_factory`), or an
                // unreadable one (reported).
                continue;
            }
            match &raw.ou {
                None => self.push(
                    Diagnostic::error(
                        "LF827",
                        format!("account `{name}` is directly under the root"),
                    )
                    .at(&decl.key, "Account Factory places accounts in an OU")
                    .help(
                        "give the account an `ou` registered with Control Tower (Account \
                         Factory cannot create accounts under the root)",
                    ),
                ),
                Some(ou) => {
                    let unregistered = ct.settings.as_ref().is_some_and(|s| {
                        s.unregistered_ous
                            .iter()
                            .any(|u| u.as_str() == ou.get_ref())
                    });
                    if unregistered {
                        let loc = self.loc(src, ou);
                        self.push(
                            Diagnostic::error(
                                "LF827",
                                format!(
                                    "account `{name}` is in OU `{}`, which is not registered \
                                     with Control Tower",
                                    ou.get_ref()
                                ),
                            )
                            .at(&loc, "listed in `unregistered_ous`")
                            .help(
                                "Account Factory only provisions accounts into registered \
                                 OUs: register the OU, or place the account elsewhere",
                            ),
                        );
                    }
                }
            }
            match own {
                Some((_, Some(user))) => {
                    out.insert(name.clone(), user);
                }
                // Invalid: already reported.
                Some((_, None)) => {}
                None => match &ct.sso_default {
                    Some(user) => {
                        out.insert(name.clone(), user.clone());
                    }
                    None => {
                        // A default written but invalid is reported already.
                        if !ct.sso_default_written {
                            self.push(
                                Diagnostic::error(
                                    "LF825",
                                    format!("account `{name}` has no `sso_user`"),
                                )
                                .at(&decl.key, "Account Factory needs an Identity Center user")
                                .help(
                                    "add `sso_user = { email = \"...\", first_name = \"...\", \
                                     last_name = \"...\" }` to the account, or a default one to \
                                     [control_tower]",
                                ),
                            );
                        }
                    }
                },
            }
        }
        out
    }
}
