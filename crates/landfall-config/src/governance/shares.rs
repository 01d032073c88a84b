//! Who a portfolio is shared with: its `shares` (the organization, OUs, accounts;
//! each declared, none twice) and `[blueprint] portfolios`, shared with every
//! project account.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use landfall_core::Target;
use landfall_core::model::PortfolioSpec;
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::parse::{ParsedFile, toml_key};
use crate::sources::{Loc, SourceId};
use crate::suggest::did_you_mean;
use crate::validator::Validator;

impl Validator<'_> {
    pub(super) fn shares(
        &mut self,
        src: SourceId,
        name: &str,
        list: &[Spanned<String>],
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> BTreeSet<Target> {
        let mut out = BTreeSet::new();
        let mut seen: HashMap<Target, Loc> = HashMap::new();
        for item in list {
            let loc = self.loc(src, item);
            let value = item.get_ref();
            let target = if value == "organization" {
                Ok(Target::Root)
            } else {
                Target::parse(value)
            };
            let target = match target {
                Ok(t) => t,
                Err(e) => {
                    let label = if e.contains("is not a target") {
                        "not a share target".to_string()
                    } else {
                        e
                    };
                    self.push(
                        Diagnostic::error("LF849", format!("`{value}` is not a share target"))
                            .at(&loc, label)
                            .maybe_help(did_you_mean(value, ["organization"]))
                            .help(
                                "a portfolio is shared with `organization` (the whole \
                                 organization), `ou:PATH` or `account:NAME`",
                            ),
                    );
                    continue;
                }
            };
            let resolved = self.target_declared(
                "LF850",
                &format!("portfolio `{name}` is shared with"),
                &target,
                &loc,
                ous,
                accounts,
            );
            if let Some(first) = seen.get(&target) {
                self.push(
                    Diagnostic::warning(
                        "LF906",
                        format!("portfolio `{name}` lists share `{value}` twice"),
                    )
                    .at(&loc, "listed again here")
                    .at(first, "first listed here")
                    .help("remove one of them (`organization` and `root` are the same share)"),
                );
                continue;
            }
            seen.insert(target.clone(), loc);
            if resolved {
                out.insert(target);
            }
        }
        out
    }

    /// `[blueprint] portfolios`: each project account gets a share of each.
    pub(super) fn blueprint_portfolios(
        &mut self,
        files: &[ParsedFile],
        declared: &BTreeSet<String>,
        project_accounts: &BTreeMap<String, String>,
        out: &mut BTreeMap<String, PortfolioSpec>,
    ) {
        let Some((src, raw)) = files
            .iter()
            .filter(|f| !f.broken)
            .filter_map(|f| f.blueprint.as_ref())
            .find_map(|d| d.body.as_ref().map(|b| (d.key.source, b)))
        else {
            return;
        };
        let mut seen: HashMap<&str, Loc> = HashMap::new();
        for item in raw.portfolios.iter().flatten() {
            let loc = self.loc(src, item);
            let name = item.get_ref();
            if let Some(first) = seen.get(name.as_str()) {
                self.push(
                    Diagnostic::warning(
                        "LF906",
                        format!("portfolio `{name}` is listed twice in [blueprint] `portfolios`"),
                    )
                    .at(&loc, "listed again here")
                    .at(first, "first listed here")
                    .help("remove one of them"),
                );
                continue;
            }
            seen.insert(name, loc.clone());
            if !declared.contains(name) {
                self.push(
                    Diagnostic::error(
                        "LF851",
                        format!("[blueprint] `portfolios` names `{name}`, which is not declared"),
                    )
                    .at(&loc, "no such portfolio")
                    .maybe_help(did_you_mean(name, declared.iter().map(String::as_str)))
                    .help(format!("declare it with [portfolio.{}]", toml_key(name))),
                );
                continue;
            }
            if let Some(spec) = out.get_mut(name) {
                spec.shares.extend(
                    project_accounts
                        .keys()
                        .map(|account| Target::Account(account.clone())),
                );
            }
        }
    }
}
