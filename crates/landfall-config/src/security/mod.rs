//! The organization's logging and security services: `[logging]` (the organization
//! trail into the log archive account) and `[security_services]` (GuardDuty, Security
//! Hub, AWS Config and IAM Access Analyzer delegated to one account). Both expand into
//! the desired state's security family (trusted access, delegated administrators, the
//! trail's bucket, KMS key and trail, the Config aggregator, the analyzer). One idea
//! per submodule: `logging`, `services`, `delegation` (which services accept a
//! delegated administrator; the management account's names).

pub(crate) mod delegation;
pub(crate) mod logging;
pub(crate) mod services;

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::model::{
    AccessAnalyzerSpec, BucketSpec, ConfigAggregatorSpec, DelegatedAdminSpec, KmsKeySpec, Origin,
    ServiceAccessSpec, TrailSpec,
};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::parse::{Decl, ParsedFile};
use crate::raw::{RawLogging, RawSecurityServices};
use crate::sources::{Loc, SourceId};
use crate::suggest::did_you_mean;
use crate::validate::Settings;
use crate::validator::Validator;

/// The security family of the desired state.
#[derive(Default)]
pub(crate) struct Security {
    pub service_access: BTreeMap<String, ServiceAccessSpec>,
    pub delegated_admins: BTreeMap<String, DelegatedAdminSpec>,
    pub buckets: BTreeMap<String, BucketSpec>,
    pub trails: BTreeMap<String, TrailSpec>,
    pub config_aggregators: BTreeMap<String, ConfigAggregatorSpec>,
    pub access_analyzers: BTreeMap<String, AccessAnalyzerSpec>,
    /// The organization trail's key, added to the declared `[kms_key.NAME]`s.
    pub kms_keys: BTreeMap<String, KmsKeySpec>,
}

/// What the security sections read from the rest of the configuration.
pub(crate) struct Context<'a> {
    pub home_region: Option<&'a str>,
    pub accounts: &'a BTreeSet<String>,
    /// Declared `[kms_key.NAME]`s (the trail's key must not take one's name).
    pub kms_keys: &'a BTreeSet<String>,
    pub settings: &'a Settings,
}

impl Security {
    fn access(&mut self, principal: &str, origin: &Origin) {
        self.service_access
            .entry(principal.to_string())
            .or_insert_with(|| ServiceAccessSpec {
                service_principal: principal.to_string(),
                origin: origin.clone(),
            });
    }
}

impl Validator<'_> {
    pub(crate) fn security(&mut self, files: &[ParsedFile], cx: &Context<'_>) -> Security {
        let mut out = Security::default();
        let logging: Vec<&Decl<RawLogging>> =
            files.iter().filter_map(|f| f.logging.as_ref()).collect();
        self.singleton(&logging, "LF933", "[logging]");
        let services: Vec<&Decl<RawSecurityServices>> = files
            .iter()
            .filter_map(|f| f.security_services.as_ref())
            .collect();
        self.singleton(&services, "LF933", "[security_services]");
        // Without a home region nothing can be placed; [landing_zone]'s own errors say
        // why.
        let Some(home) = cx.home_region else {
            return out;
        };
        if let Some(decl) = logging.first()
            && let Some(raw) = &decl.body
        {
            self.logging(decl, raw, home, cx, &mut out);
        }
        if let Some(decl) = services.first()
            && let Some(raw) = &decl.body
        {
            self.security_services(decl, raw, home, cx, &mut out);
        }
        out
    }

    /// A declared member account named by a security setting; `false` (reported)
    /// when it names the management account or no declared account. `role` says what
    /// the account would be ("the log archive").
    pub(crate) fn security_account(
        &mut self,
        src: SourceId,
        value: &Spanned<String>,
        accounts: &BTreeSet<String>,
        code: &'static str,
        role: &str,
        why: &str,
    ) -> bool {
        let name = value.get_ref();
        if accounts.contains(name) {
            return true;
        }
        let loc = self.loc(src, value);
        if delegation::means_management(name) {
            self.push(
                Diagnostic::error(code, format!("the management account cannot be {role}"))
                    .at(&loc, "the management account")
                    .help(format!(
                        "name a declared member account (`[account.NAME]`; the management account is never declared): {why}"
                    )),
            );
            return false;
        }
        self.push(
            Diagnostic::error(
                code,
                format!("{role} is account `{name}`, which is not declared"),
            )
            .at(&loc, "no such account")
            .maybe_help(did_you_mean(name, accounts.iter().map(String::as_str)))
            .help(format!(
                "declare it with [account.{}]",
                crate::parse::toml_key(name)
            )),
        );
        false
    }

    /// Every delegated administrator Landfall registers must be one AWS accepts.
    fn delegate(
        &mut self,
        out: &mut Security,
        principal: &str,
        account: &str,
        (region, governed): (&str, &[String]),
        origin: &Origin,
        at: &Loc,
    ) {
        if !delegation::accepts_delegated_admin(principal) {
            self.push(
                Diagnostic::error(
                    "LF944",
                    format!("`{principal}` does not accept a delegated administrator"),
                )
                .at(at, "delegated here")
                .help("AWS Organizations User Guide, \"AWS services that you can use with AWS Organizations\", column \"Supports delegated administrator\""),
            );
            return;
        }
        // GuardDuty's and Security Hub's own delegation holds in the region it is
        // made in ("manage GuardDuty for other accounts ... in the current Region"):
        // every governed region needs it.
        let mut regions = vec![region.to_string()];
        if landfall_core::security::delegated_by_own_call(principal) {
            for other in governed {
                if !regions.contains(other) {
                    regions.push(other.clone());
                }
            }
        }
        out.delegated_admins.insert(
            principal.to_string(),
            DelegatedAdminSpec {
                service_principal: principal.to_string(),
                account: account.to_string(),
                region: region.to_string(),
                regions,
                origin: origin.clone(),
            },
        );
    }
}
