//! What Control Tower and Service Catalog need before Landfall may plan against them: an
//! active landing zone in the home region for controls and the Account Factory, and
//! Service Catalog's AWS Organizations access for sharing a portfolio with the
//! organization or an OU. An unmet prerequisite is a plan problem naming it and the
//! fix, so nothing is applied, rather than an apply that fails halfway.

use crate::address::{Address, Target};
use crate::planner::Planner;

impl Planner<'_> {
    pub(super) fn check_prerequisites(&mut self) {
        let home = self.desired.landing_zone.home_region.clone();
        // The landing zone is also read to tell whether Control Tower owns the
        // organization trail; `preflight = false` still skips checking it here.
        if let Some(landing_zone) = self.live.governance.landing_zone.clone()
            && !self.desired.landing_zone.skip_preflight
            && let Some(needs) = self.needs_landing_zone()
        {
            match landing_zone {
                None => self.problem(
                    needs,
                    format!(
                        "AWS Control Tower has no landing zone in {home}, the home region: controls and the Account Factory need one"
                    ),
                    Some(
                        "set up Control Tower in the home region first (console, or CreateLandingZone), or check `home_region`; to plan without it, remove `[control_tower]`, the `[control.*]` and `[guardrails.*]` tables and `account_factory = \"control_tower\"`",
                    ),
                ),
                Some(lz) if lz.status != "ACTIVE" => self.problem(
                    needs,
                    format!(
                        "the Control Tower landing zone in {home} is {} ({}): Control Tower refuses control and Account Factory operations until it is ACTIVE",
                        lz.status, lz.arn
                    ),
                    Some(if lz.status == "PROCESSING" {
                        "wait for the landing zone operation under way to finish, then plan again"
                    } else {
                        "repair the landing zone (ResetLandingZone, or Repair in the Control Tower console), then plan again"
                    }),
                ),
                Some(lz) if lz.drift_status.as_deref() == Some("DRIFTED") => self.problem(
                    needs,
                    format!(
                        "the Control Tower landing zone in {home} has drifted ({}): Control Tower refuses some operations (registering OUs, enrolling accounts) until it is repaired, so Landfall changes nothing against it",
                        lz.arn
                    ),
                    Some(
                        "repair the landing zone (ResetLandingZone, or Repair in the Control Tower console), then plan again",
                    ),
                ),
                Some(_) => {}
            }
        }
        if let Some(access) = self.live.governance.organizations_access.clone()
            && access != "ENABLED"
            && let Some(needs) = self.needs_organizations_access()
        {
            self.problem(
                needs,
                format!(
                    "Service Catalog's AWS Organizations access is {access}: sharing a portfolio with the organization or an OU needs it enabled"
                ),
                Some(
                    "enable it from the management account (`aws servicecatalog enable-aws-organizations-access`, or Service Catalog > Settings in the console), then plan again",
                ),
            );
        }
    }

    /// The first declared resource that needs a landing zone: a control, else an OU's
    /// registration, else an Account Factory account.
    fn needs_landing_zone(&self) -> Option<Address> {
        if let Some(control) = self.desired.controls.first() {
            return Some(control.address());
        }
        if let Some(ou) = self.desired.registered_ous().next() {
            return Some(Address::Registration(ou.clone()));
        }
        if self.desired.uses_account_factory() {
            return self
                .desired
                .accounts
                .keys()
                .next()
                .map(|name| Address::Account(name.clone()));
        }
        None
    }

    /// The first declared share with the organization or an OU.
    fn needs_organizations_access(&self) -> Option<Address> {
        self.desired.portfolios.iter().find_map(|(name, p)| {
            p.shares
                .iter()
                .find(|t| matches!(t, Target::Root | Target::Ou(_)))
                .map(|t| Address::PortfolioShare(name.clone(), t.clone()))
        })
    }
}
