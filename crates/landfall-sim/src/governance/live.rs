//! The live read of the governance layer: what `refresh_governance` returns for a
//! scope (enabled controls on the OUs it names, portfolios and shares, Account Factory
//! provisioned products) and the whole of it as a snapshot, in a stable order.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::live::{
    GovernanceScope, LiveEnabledControl, LiveGovernance, LiveLandingZone, LivePortfolio,
    LivePortfolioShare, LiveProvisionedAccount,
};

use landfall_core::model::DEFAULT_SECURITY_OU;

use super::{
    Governance, GovernanceSettings, LANDING_ZONE_VERSION, LandingZone, ProvisionedProduct,
};
use crate::world::{Rule, World};

impl Governance {
    /// Everything, as a refresh of every OU, portfolio and provisioned product would
    /// read it.
    pub fn to_live(&self) -> LiveGovernance {
        let mut live = LiveGovernance {
            read: true,
            enabled_controls: self.enabled_controls.values().cloned().collect(),
            portfolios: self.live_portfolios(),
            portfolio_shares: self.live_shares(),
            provisioned_accounts: self.live_products(),
            // The prerequisites and baselines are read only when a refresh asks.
            landing_zone: None,
            baselines: None,
            organizations_access: None,
        };
        sort_controls(&mut live.enabled_controls);
        live
    }

    fn live_portfolios(&self) -> BTreeMap<String, LivePortfolio> {
        self.portfolios
            .iter()
            .map(|(id, p)| (id.clone(), p.portfolio.clone()))
            .collect()
    }

    fn live_shares(&self) -> Vec<LivePortfolioShare> {
        let mut shares: Vec<LivePortfolioShare> = self
            .portfolios
            .iter()
            .flat_map(|(id, p)| {
                p.shares.iter().map(move |s| LivePortfolioShare {
                    portfolio_id: id.clone(),
                    target: s.target.clone(),
                    accepted: s.accepted,
                    share_tag_options: s.share_tag_options,
                })
            })
            .collect();
        shares.sort_by(|a, b| (&a.portfolio_id, &a.target).cmp(&(&b.portfolio_id, &b.target)));
        shares
    }

    fn live_products(&self) -> Vec<LiveProvisionedAccount> {
        let mut out: Vec<LiveProvisionedAccount> = self
            .provisioned_products
            .values()
            .map(ProvisionedProduct::to_live)
            .collect();
        out.sort_by(|a, b| {
            (&a.name, &a.provisioned_product_id).cmp(&(&b.name, &b.provisioned_product_id))
        });
        out
    }
}

impl ProvisionedProduct {
    pub fn to_live(&self) -> LiveProvisionedAccount {
        LiveProvisionedAccount {
            provisioned_product_id: self.id.clone(),
            name: self.name.clone(),
            status: self.status.clone(),
            account_id: self.account_id.clone(),
            last_record_id: self.last_record_id.clone(),
        }
    }
}

fn sort_controls(controls: &mut [LiveEnabledControl]) {
    controls.sort_by(|a, b| {
        (&a.target_id, a.short_id(), &a.arn).cmp(&(&b.target_id, b.short_id(), &b.arn))
    });
}

impl World {
    /// `ListLandingZones` + `GetLandingZone` in the home region.
    fn live_landing_zone(&self, settings: &GovernanceSettings) -> Option<LiveLandingZone> {
        let (status, drift) = match self.governance.landing_zone {
            LandingZone::None => return None,
            LandingZone::Active => ("ACTIVE", "IN_SYNC"),
            LandingZone::Drifted => ("ACTIVE", "DRIFTED"),
            LandingZone::Failed => ("FAILED", "IN_SYNC"),
        };
        let id = self.id.trim_start_matches("sim-").to_ascii_uppercase();
        Some(LiveLandingZone {
            arn: format!(
                "arn:aws:controltower:{}:{}:landingzone/{id}",
                settings.home_region, self.management_account_id
            ),
            status: status.into(),
            drift_status: Some(drift.into()),
            version: LANDING_ZONE_VERSION.into(),
            security_ou: Some(DEFAULT_SECURITY_OU.into()),
        })
    }

    /// What `refresh_governance` returns for `scope`: enabled controls on the OUs it
    /// names (unknown ids read as having none), OU registrations, portfolios and
    /// shares, provisioned products of the Account Factory product, and the
    /// prerequisites it asks for.
    pub fn governance_live(
        &self,
        settings: &GovernanceSettings,
        scope: &GovernanceScope,
    ) -> Rule<LiveGovernance> {
        let mut live = LiveGovernance {
            read: true,
            ..LiveGovernance::default()
        };
        let targets: BTreeSet<&str> = scope.control_targets.iter().map(String::as_str).collect();
        live.enabled_controls = self
            .governance
            .enabled_controls
            .values()
            .filter(|c| targets.contains(c.target_id.as_str()))
            .cloned()
            .collect();
        sort_controls(&mut live.enabled_controls);
        if scope.portfolios {
            live.portfolios = self.governance.live_portfolios();
            live.portfolio_shares = self.governance.live_shares();
        }
        if let Some(product) = &scope.account_factory {
            self.check_product(product)?;
            live.provisioned_accounts = self.governance.live_products();
        }
        if scope.landing_zone {
            live.landing_zone = Some(self.live_landing_zone(settings));
        }
        if scope.baselines {
            live.baselines = Some(self.live_baselines(settings));
        }
        if scope.organizations_access {
            let access = if self.governance.organizations_access_disabled {
                "DISABLED"
            } else {
                "ENABLED"
            };
            live.organizations_access = Some(access.to_string());
        }
        Ok(live)
    }
}
