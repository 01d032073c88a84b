//! Service Catalog portfolios and their shares: create, update and delete a portfolio
//! (refused while it is shared), share it with the organization, an OU or an account
//! (idempotent; organization-node shares carry a token and are accepted at once), and
//! delete a share.

use landfall_core::live::{LivePortfolio, ShareTarget};
use landfall_core::model::Tags;
use landfall_engine::provider::{ErrorKind, PortfolioUpdate};
use serde::{Deserialize, Serialize};

use crate::ids::IdSource;
use crate::world::{Denied, Rule, World, ou_not_found, validate_tags};

/// Service Catalog allows at most 20 tags on a portfolio.
pub const MAX_PORTFOLIO_TAGS: usize = 20;

/// A portfolio share as Service Catalog keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub target: ShareTarget,
    pub accepted: bool,
    pub share_tag_options: bool,
    /// The share token of an organization-node share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    pub portfolio: LivePortfolio,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<Share>,
}

fn portfolio_not_found(id: &str) -> Denied {
    Denied::new(
        ErrorKind::NotFound,
        format!("ResourceNotFoundException: no portfolio {id}"),
    )
}

fn invalid_parameters(message: impl Into<String>) -> Denied {
    Denied::new(
        ErrorKind::InvalidInput,
        format!("InvalidParametersException: {}", message.into()),
    )
}

fn check_length(what: &str, value: &str, min: usize, max: usize) -> Rule<()> {
    let len = value.chars().count();
    if len < min || len > max || value.chars().any(char::is_control) {
        return Err(invalid_parameters(format!(
            "the {what} must be {min} to {max} printable characters"
        )));
    }
    Ok(())
}

fn check_portfolio_tags(tags: &Tags) -> Rule<()> {
    if tags.len() > MAX_PORTFOLIO_TAGS {
        return Err(Denied::new(
            ErrorKind::Other("LimitExceededException".into()),
            format!(
                "a portfolio has at most {MAX_PORTFOLIO_TAGS} tags; {} given",
                tags.len()
            ),
        ));
    }
    validate_tags(tags)
}

impl World {
    /// `CreatePortfolio`: returns the `port-...` id. Display names need not be unique.
    pub fn create_portfolio(
        &mut self,
        display_name: &str,
        provider: &str,
        description: &str,
        tags: &Tags,
    ) -> Rule<String> {
        check_length("portfolio display name", display_name, 1, 100)?;
        check_length("portfolio provider name", provider, 1, 50)?;
        check_length("portfolio description", description, 0, 2000)?;
        check_portfolio_tags(tags)?;
        let id = self.fresh(IdSource::portfolio, |w, id| {
            w.governance.portfolios.contains_key(id)
        });
        self.governance.portfolios.insert(
            id.clone(),
            Portfolio {
                portfolio: LivePortfolio {
                    id: id.clone(),
                    display_name: display_name.to_string(),
                    provider: provider.to_string(),
                    description: description.to_string(),
                    tags: tags.clone(),
                },
                shares: Vec::new(),
            },
        );
        Ok(id)
    }

    /// `UpdatePortfolio`: the given fields, tags added/overwritten and removed.
    pub fn update_portfolio(&mut self, portfolio_id: &str, update: &PortfolioUpdate) -> Rule<()> {
        let Some(current) = self.governance.portfolios.get(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        if let Some(name) = &update.display_name {
            check_length("portfolio display name", name, 1, 100)?;
        }
        if let Some(provider) = &update.provider {
            check_length("portfolio provider name", provider, 1, 50)?;
        }
        if let Some(description) = &update.description {
            check_length("portfolio description", description, 0, 2000)?;
        }
        let mut tags = current.portfolio.tags.clone();
        for key in &update.remove_tags {
            tags.remove(key);
        }
        validate_tags(&update.add_tags)?;
        tags.extend(update.add_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        check_portfolio_tags(&tags)?;
        if let Some(p) = self.governance.portfolios.get_mut(portfolio_id) {
            let p = &mut p.portfolio;
            if let Some(name) = &update.display_name {
                p.display_name = name.clone();
            }
            if let Some(provider) = &update.provider {
                p.provider = provider.clone();
            }
            if let Some(description) = &update.description {
                p.description = description.clone();
            }
            p.tags = tags;
        }
        Ok(())
    }

    /// `DeletePortfolio`: only a portfolio shared with nobody.
    pub fn delete_portfolio(&mut self, portfolio_id: &str) -> Rule<()> {
        let Some(portfolio) = self.governance.portfolios.get(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        if !portfolio.shares.is_empty() {
            return Err(Denied::new(
                ErrorKind::Other("ResourceInUseException".into()),
                format!(
                    "portfolio {portfolio_id} is still shared with {} target(s); delete its shares first",
                    portfolio.shares.len()
                ),
            ));
        }
        self.governance.portfolios.remove(portfolio_id);
        Ok(())
    }

    /// Out of band: a portfolio deleted with all its shares (a console user
    /// unsharing it everywhere, then deleting it).
    pub fn delete_portfolio_and_shares(&mut self, portfolio_id: &str) -> Rule<()> {
        if self.governance.portfolios.remove(portfolio_id).is_none() {
            return Err(portfolio_not_found(portfolio_id));
        }
        Ok(())
    }

    fn check_share_target(&self, target: &ShareTarget) -> Rule<()> {
        match target {
            ShareTarget::Organization => Ok(()),
            ShareTarget::OrganizationalUnit(id) if self.ous.contains_key(id) => Ok(()),
            ShareTarget::OrganizationalUnit(id) => Err(ou_not_found(id)),
            ShareTarget::Account(id) if *id == self.management_account_id => {
                Err(invalid_parameters(format!(
                    "{id} is the management account, which owns the portfolio"
                )))
            }
            ShareTarget::Account(id) if self.accounts.contains_key(id) => Ok(()),
            ShareTarget::Account(id) => Err(Denied::new(
                ErrorKind::NotFound,
                format!("ResourceNotFoundException: no account {id} in the organization"),
            )),
        }
    }

    /// `CreatePortfolioShare`: idempotent (an existing share keeps its token and
    /// takes the new `share_tag_options`). Returns the share token of an
    /// organization-node share (organization or OU), `None` for an account share.
    /// Organization-node shares are accepted at once; account shares wait for the
    /// account (the sim never accepts them).
    pub fn create_portfolio_share(
        &mut self,
        portfolio_id: &str,
        target: &ShareTarget,
        share_tag_options: bool,
    ) -> Rule<Option<String>> {
        if !self.governance.portfolios.contains_key(portfolio_id) {
            return Err(portfolio_not_found(portfolio_id));
        }
        self.check_share_target(target)?;
        let org_node = !matches!(target, ShareTarget::Account(_));
        let token = org_node.then(|| {
            self.fresh(IdSource::share_token, |w, token| {
                w.governance
                    .portfolios
                    .values()
                    .any(|p| p.shares.iter().any(|s| s.token.as_deref() == Some(token)))
            })
        });
        let Some(portfolio) = self.governance.portfolios.get_mut(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        if let Some(existing) = portfolio.shares.iter_mut().find(|s| s.target == *target) {
            existing.share_tag_options = share_tag_options;
            return Ok(existing.token.clone());
        }
        portfolio.shares.push(Share {
            target: target.clone(),
            accepted: org_node,
            share_tag_options,
            token: token.clone(),
        });
        portfolio.shares.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(token)
    }

    /// `DeletePortfolioShare`: the share must exist.
    pub fn delete_portfolio_share(&mut self, portfolio_id: &str, target: &ShareTarget) -> Rule<()> {
        let Some(portfolio) = self.governance.portfolios.get_mut(portfolio_id) else {
            return Err(portfolio_not_found(portfolio_id));
        };
        let before = portfolio.shares.len();
        portfolio.shares.retain(|s| s.target != *target);
        if portfolio.shares.len() == before {
            return Err(Denied::new(
                ErrorKind::NotFound,
                format!(
                    "ResourceNotFoundException: portfolio {portfolio_id} is not shared with {}",
                    share_target_text(target)
                ),
            ));
        }
        Ok(())
    }
}

/// `organization`, `OU ou-...`, `account 123456789012`.
pub fn share_target_text(target: &ShareTarget) -> String {
    match target {
        ShareTarget::Organization => "the organization".to_string(),
        ShareTarget::OrganizationalUnit(id) => format!("OU {id}"),
        ShareTarget::Account(id) => format!("account {id}"),
    }
}
