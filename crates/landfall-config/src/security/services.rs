//! `[security_services]`: GuardDuty, Security Hub, AWS Config and IAM Access Analyzer,
//! each with trusted access and the same delegated administrator (never the
//! management account), in the home region. Config also gets an organization
//! aggregator and Access Analyzer an organization analyzer in that account.
//!
//! Service principals (AWS Organizations User Guide, "AWS services that you can use
//! with AWS Organizations"): GuardDuty `guardduty.amazonaws.com`, Security Hub
//! `securityhub.amazonaws.com` (both delegated with the service's own
//! `EnableOrganizationAdminAccount`), AWS Config `config.amazonaws.com` (the
//! organization aggregator's delegated administrator, AWS Config Developer Guide
//! "Register a delegated administrator") and `config-multiaccountsetup.amazonaws.com`
//! (organization rules and conformance packs), IAM Access Analyzer
//! `access-analyzer.amazonaws.com`.

use std::collections::HashMap;

use landfall_core::model::{AccessAnalyzerSpec, ConfigAggregatorSpec};

use crate::diagnostics::Diagnostic;
use crate::parse::Decl;
use crate::raw::RawSecurityServices;
use crate::sources::Loc;
use crate::suggest::did_you_mean;
use crate::validator::Validator;

use super::{Context, Security};

/// The services `[security_services]` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Service {
    GuardDuty,
    SecurityHub,
    Config,
    AccessAnalyzer,
}

impl Service {
    pub(crate) const ALL: [Service; 4] = [
        Service::GuardDuty,
        Service::SecurityHub,
        Service::Config,
        Service::AccessAnalyzer,
    ];

    /// The name in `services`.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Service::GuardDuty => "guardduty",
            Service::SecurityHub => "securityhub",
            Service::Config => "config",
            Service::AccessAnalyzer => "access_analyzer",
        }
    }

    /// Its service principals: each gets trusted access and the delegated
    /// administrator.
    pub(crate) fn principals(self) -> &'static [&'static str] {
        match self {
            Service::GuardDuty => &["guardduty.amazonaws.com"],
            Service::SecurityHub => &["securityhub.amazonaws.com"],
            Service::Config => &[
                "config.amazonaws.com",
                "config-multiaccountsetup.amazonaws.com",
            ],
            Service::AccessAnalyzer => &["access-analyzer.amazonaws.com"],
        }
    }
}

/// "did you mean" for a service name: `access-analyzer` is `access_analyzer`.
fn service_hint(value: &str) -> Option<String> {
    let normalized = value.to_ascii_lowercase().replace(['-', ' '], "_");
    match Service::ALL.into_iter().find(|s| s.key() == normalized) {
        Some(s) => Some(format!("did you mean `{}`?", s.key())),
        None => did_you_mean(value, Service::ALL.iter().map(|s| s.key())),
    }
}

/// The Config aggregator's and the analyzer's name.
pub(crate) const ORGANIZATION: &str = "organization";
/// The IAM role Config reads the organization with.
pub(crate) const AGGREGATOR_ROLE: &str = "landfall-config-aggregator";

impl Validator<'_> {
    pub(super) fn security_services(
        &mut self,
        decl: &Decl<RawSecurityServices>,
        raw: &RawSecurityServices,
        home: &str,
        cx: &Context<'_>,
        out: &mut Security,
    ) {
        let src = decl.key.source;
        let origin = self.origin(&decl.table);
        let admin_ok = self.security_account(
            src,
            &raw.delegated_administrator,
            cx.accounts,
            "LF942",
            "the security services' delegated administrator",
            super::logging::ADMIN_WHY,
        );
        let names: Vec<&str> = Service::ALL.iter().map(|s| s.key()).collect();
        let mut chosen: Vec<(Service, Loc)> = Vec::new();
        let mut seen: HashMap<Service, Loc> = HashMap::new();
        let mut ok = admin_ok;
        if raw.services.get_ref().is_empty() {
            ok = false;
            self.push(
                Diagnostic::error("LF943", "[security_services] lists no service")
                    .at(&self.loc(src, &raw.services), "empty")
                    .help(format!("list some of {}", names.join(", "))),
            );
        }
        for item in raw.services.get_ref() {
            let loc = self.loc(src, item);
            let Some(service) = Service::ALL.into_iter().find(|s| s.key() == item.get_ref()) else {
                ok = false;
                let value = item.get_ref();
                self.push(
                    Diagnostic::error(
                        "LF943",
                        format!("`{value}` is not a security service Landfall delegates"),
                    )
                    .at(&loc, "unknown service")
                    .maybe_help(service_hint(value))
                    .help(format!("the services are {}", names.join(", "))),
                );
                continue;
            };
            if let Some(first) = seen.get(&service) {
                self.push(
                    Diagnostic::warning(
                        "LF968",
                        format!("service `{}` is listed twice", service.key()),
                    )
                    .at(&loc, "listed again here")
                    .at(first, "first listed here")
                    .help("remove one of them"),
                );
                continue;
            }
            seen.insert(service, loc.clone());
            chosen.push((service, loc));
        }
        let tags = self.tags(src, raw.tags.as_ref(), "[security_services]");
        if !ok {
            return;
        }
        let account = raw.delegated_administrator.get_ref().clone();
        let governed = cx.settings.governed.as_deref().unwrap_or_default();
        for (service, loc) in &chosen {
            for principal in service.principals() {
                out.access(principal, &origin);
                self.delegate(out, principal, &account, (home, governed), &origin, loc);
            }
            match service {
                Service::Config => {
                    out.config_aggregators.insert(
                        ORGANIZATION.to_string(),
                        ConfigAggregatorSpec {
                            name: ORGANIZATION.to_string(),
                            account: account.clone(),
                            region: home.to_string(),
                            role_name: AGGREGATOR_ROLE.to_string(),
                            tags: tags.clone(),
                            origin: origin.clone(),
                        },
                    );
                }
                Service::AccessAnalyzer => {
                    out.access_analyzers.insert(
                        ORGANIZATION.to_string(),
                        AccessAnalyzerSpec {
                            name: ORGANIZATION.to_string(),
                            account: account.clone(),
                            region: home.to_string(),
                            tags: tags.clone(),
                            origin: origin.clone(),
                        },
                    );
                }
                // GuardDuty and Security Hub are their delegated administrator alone.
                Service::GuardDuty | Service::SecurityHub => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::delegation::accepts_delegated_admin;

    #[test]
    fn every_principal_accepts_a_delegated_administrator() {
        for service in Service::ALL {
            for p in service.principals() {
                assert!(accepts_delegated_admin(p), "{p}");
            }
        }
        assert!(accepts_delegated_admin("cloudtrail.amazonaws.com"));
        assert!(!accepts_delegated_admin("sagemaker.amazonaws.com"));
    }
}
