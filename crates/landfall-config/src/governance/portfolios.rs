//! `[portfolio.NAME]`: Service Catalog portfolios Landfall creates (display name,
//! provider, description, tags) or only shares (`id`), each with its shares.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::model::PortfolioSpec;

use crate::diagnostics::Diagnostic;
use crate::parse::{Decl, ParsedFile};
use crate::raw::RawPortfolio;
use crate::rules;
use crate::sources::Loc;
use crate::validator::Validator;

/// Service Catalog limits on portfolios.
const MAX_DISPLAY_NAME: usize = 100;
const MAX_PROVIDER: usize = 50;
const MAX_PORTFOLIO_DESCRIPTION: usize = 2000;

impl Validator<'_> {
    /// `[portfolio.NAME]` and the blueprint's `portfolios` (a share with every project
    /// account).
    pub(crate) fn portfolios(
        &mut self,
        files: &[ParsedFile],
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
        project_accounts: &BTreeMap<String, String>,
    ) -> BTreeMap<String, PortfolioSpec> {
        let decls = self.merge(files, |f| &f.portfolios, "portfolio", "portfolio");
        let mut out = BTreeMap::new();
        for decl in &decls.first {
            let name = &decl.name;
            if let Some(problem) = rules::resource_name_problem(name) {
                self.push(
                    Diagnostic::error("LF844", format!("invalid portfolio name `{name}`"))
                        .at(&decl.key, problem)
                        .help("e.g. [portfolio.ml-products]; `display_name` is what users see"),
                );
            }
            let Some(raw) = &decl.body else { continue };
            if let Some(spec) = self.portfolio(decl, raw, ous, accounts) {
                out.insert(name.clone(), spec);
            }
        }
        self.blueprint_portfolios(files, &decls.names, project_accounts, &mut out);
        out
    }

    fn portfolio(
        &mut self,
        decl: &Decl<RawPortfolio>,
        raw: &RawPortfolio,
        ous: &BTreeSet<String>,
        accounts: &BTreeSet<String>,
    ) -> Option<PortfolioSpec> {
        let src = decl.key.source;
        let name = &decl.name;
        let mut ok = true;
        let existing_id = match &raw.id {
            Some(id) => {
                let loc = self.loc(src, id);
                let value = id.get_ref();
                let well_formed = value.strip_prefix("port-").is_some_and(|rest| {
                    !rest.is_empty()
                        && rest
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                });
                if !well_formed {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            "LF847",
                            format!("`{value}` is not a portfolio id"),
                        )
                        .at(&loc, "portfolio ids look like `port-abcd1234efgh5`")
                        .help("copy the id from the Service Catalog console, or remove `id` to let Landfall create the portfolio"),
                    );
                }
                let owned: [(&str, Option<Loc>); 4] = [
                    (
                        "display_name",
                        raw.display_name.as_ref().map(|v| self.loc(src, v)),
                    ),
                    ("provider", raw.provider.as_ref().map(|v| self.loc(src, v))),
                    (
                        "description",
                        raw.description.as_ref().map(|v| self.loc(src, v)),
                    ),
                    (
                        "tags",
                        raw.tags
                            .as_ref()
                            .and_then(|t| t.keys().next())
                            .map(|k| self.loc(src, k)),
                    ),
                ];
                for (key, at) in owned {
                    if let Some(at) = at {
                        ok = false;
                        self.push(
                            Diagnostic::error(
                                "LF846",
                                format!("portfolio `{name}` has both `id` and `{key}`"),
                            )
                            .at(&at, format!("`{key}` of a portfolio Landfall does not own"))
                            .at(&loc, "an existing portfolio")
                            .help(format!(
                                "Landfall only shares an existing portfolio, it never changes \
                                 it: remove `{key}`, or remove `id` to let Landfall create and \
                                 manage the portfolio"
                            )),
                        );
                    }
                }
                Some(value.clone())
            }
            None => {
                if raw.provider.is_none() && !decl.dropped("provider") {
                    ok = false;
                    self.push(
                        Diagnostic::error("LF845", format!("portfolio `{name}` has no `provider`"))
                            .at(&decl.table, "`provider` is required here")
                            .help(
                                "add `provider = \"ML platform team\"` (who publishes the \
                                 products), or `id = \"port-...\"` to share an existing portfolio",
                            ),
                    );
                }
                None
            }
        };
        for (key, value, min, max) in [
            ("display_name", &raw.display_name, 1, MAX_DISPLAY_NAME),
            ("provider", &raw.provider, 1, MAX_PROVIDER),
            (
                "description",
                &raw.description,
                0,
                MAX_PORTFOLIO_DESCRIPTION,
            ),
        ] {
            let Some(v) = value else { continue };
            let len = v.get_ref().chars().count();
            if len < min || len > max {
                ok = false;
                let loc = self.loc(src, v);
                self.push(
                    Diagnostic::error(
                        "LF848",
                        format!("the `{key}` of portfolio `{name}` is {len} characters long"),
                    )
                    .at(&loc, format!("must be {min} to {max} characters"))
                    .help(
                        "Service Catalog's limits: display name 100, provider 50, description 2000",
                    ),
                );
            }
        }
        let tags = self.tags(src, raw.tags.as_ref(), &format!("portfolio.{name}"));
        let shares = self.shares(
            src,
            name,
            raw.shares.as_deref().unwrap_or_default(),
            ous,
            accounts,
        );
        if !ok {
            return None;
        }
        Some(PortfolioSpec {
            name: name.clone(),
            existing_id,
            display_name: raw
                .display_name
                .as_ref()
                .map_or_else(|| name.clone(), |d| d.get_ref().clone()),
            provider: raw
                .provider
                .as_ref()
                .map(|p| p.get_ref().clone())
                .unwrap_or_default(),
            description: raw
                .description
                .as_ref()
                .map(|d| d.get_ref().clone())
                .unwrap_or_default(),
            tags,
            share_tag_options: raw.share_tag_options.unwrap_or(false),
            shares,
            origin: self.origin(&decl.key),
        })
    }
}
