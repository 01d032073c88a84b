//! `[landing_zone]`: its name, home and governed regions, access role, state path
//! and account removal policy; and `Settings`, what other checks read from it.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use landfall_core::OuPath;
use landfall_core::model::{AccountRemoval, BackendKind, LandingZone, Quotas, SimSettings};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::raw::{RawBackend, RawLandingZone, RawRemovalMode};
use crate::rules;
use crate::sources::{Loc, SourceId};
use crate::suggest::did_you_mean;
use crate::validator::Validator;

use super::quotas::effective_quotas;
use super::references::OuRef;

/// The role Landfall assumes in member accounts unless `access_role` says otherwise.
pub const DEFAULT_ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

/// The landing zone's settings other checks depend on (defaults when it is missing
/// or unreadable, so the other checks still run).
pub(crate) struct Settings {
    pub(crate) quotas: Quotas,
    pub(super) full_aws_access: bool,
    /// The governed regions; `None` when the landing zone is missing or unreadable
    /// (then regions are not checked against it).
    pub(crate) governed: Option<Vec<String>>,
    /// The role Landfall assumes in member accounts.
    pub(crate) access_role: String,
}

impl Settings {
    /// The settings of the first `[landing_zone]` (the others are errors already),
    /// or the defaults when there is none.
    pub(super) fn new(lz_first: Option<&RawLandingZone>) -> Settings {
        Settings {
            quotas: lz_first
                .and_then(|raw| raw.quotas.as_ref())
                .map(effective_quotas)
                .unwrap_or_default(),
            full_aws_access: lz_first
                .and_then(|raw| raw.full_aws_access.as_ref())
                .is_none_or(|f| *f.get_ref()),
            governed: lz_first.map(|raw| match &raw.governed_regions {
                Some(list) => list.get_ref().iter().map(|r| r.get_ref().clone()).collect(),
                None => vec![raw.home_region.get_ref().clone()],
            }),
            access_role: lz_first
                .and_then(|raw| raw.access_role.as_ref())
                .map(|r| r.get_ref().clone())
                .unwrap_or_else(|| DEFAULT_ACCESS_ROLE.to_string()),
        }
    }
}

impl Validator<'_> {
    pub(super) fn landing_zone(&mut self, src: SourceId, raw: &RawLandingZone) -> LandingZone {
        let name = raw.name.get_ref();
        if let Some(problem) = rules::landing_zone_name_problem(name) {
            let loc = self.loc(src, &raw.name);
            self.push(
                Diagnostic::error("LF203", format!("invalid landing zone name `{name}`"))
                    .at(&loc, problem)
                    .help("the name becomes the state file name: use e.g. `ml-platform`"),
            );
        }
        for r in raw.known_regions.iter().flatten() {
            self.extra_regions.push(r.get_ref().clone());
            self.region(src, r);
        }
        let home = raw.home_region.get_ref();
        let home_ok = self.region(src, &raw.home_region);
        let mut governed = Vec::new();
        match &raw.governed_regions {
            None => governed.push(home.clone()),
            Some(list) => {
                let mut seen: HashMap<&str, Loc> = HashMap::new();
                for r in list.get_ref() {
                    self.region(src, r);
                    let loc = self.loc(src, r);
                    if let Some(first) = seen.get(r.get_ref().as_str()) {
                        self.push(
                            Diagnostic::error(
                                "LF206",
                                format!(
                                    "region `{}` is listed twice in `governed_regions`",
                                    r.get_ref()
                                ),
                            )
                            .at(&loc, "listed again here")
                            .at(first, "first listed here")
                            .help("remove one of them"),
                        );
                    } else {
                        seen.insert(r.get_ref(), loc);
                        governed.push(r.get_ref().clone());
                    }
                }
                if home_ok && !governed.contains(home) {
                    let list_loc = self.loc(src, list);
                    let home_loc = self.loc(src, &raw.home_region);
                    self.push(
                        Diagnostic::error(
                            "LF205",
                            format!("home region `{home}` is not in `governed_regions`"),
                        )
                        .at(&list_loc, format!("`{home}` is missing here"))
                        .at(&home_loc, "home region")
                        .help(format!("add \"{home}\" to `governed_regions`")),
                    );
                }
            }
        }
        let access_role = match &raw.access_role {
            Some(role) => {
                if let Some(problem) = rules::role_name_problem(role.get_ref()) {
                    let loc = self.loc(src, role);
                    self.push(
                        Diagnostic::error("LF209", format!("invalid `access_role` `{}`", role.get_ref()))
                            .at(&loc, problem)
                            .help(format!("the usual roles are `{DEFAULT_ACCESS_ROLE}` and `AWSControlTowerExecution`")),
                    );
                }
                role.get_ref().clone()
            }
            None => DEFAULT_ACCESS_ROLE.to_string(),
        };
        if let Some(path) = &raw.state_path
            && path.get_ref().trim().is_empty()
        {
            let loc = self.loc(src, path);
            self.push(
                Diagnostic::error("LF102", "`state_path` is empty")
                    .at(&loc, "empty path")
                    .help("remove `state_path` to use `state/<name>.state.json`"),
            );
        }
        let quotas = raw
            .quotas
            .as_ref()
            .map(|q| self.quotas(src, q))
            .unwrap_or_default();
        let account_removal = self.account_removal(src, raw);
        LandingZone {
            name: name.clone(),
            home_region: home.clone(),
            governed_regions: governed,
            backend: match raw.backend {
                Some(RawBackend::Aws) => BackendKind::Aws,
                Some(RawBackend::Sim) | None => BackendKind::Sim,
            },
            state_path: raw.state_path.as_ref().map(|p| PathBuf::from(p.get_ref())),
            sim_world: None,
            s3_state: None,
            quotas,
            prune_unmanaged: raw.prune_unmanaged.unwrap_or(false),
            account_removal,
            access_role,
            sim: SimSettings::default(),
            account_factory: Default::default(),
            control_tower: None,
            skip_preflight: raw.preflight == Some(false),
        }
    }

    /// Checks a region name; true when it is well-formed. A well-formed name that is
    /// not a region this binary (or `known_regions`) knows is a warning with the
    /// nearest known one: `eu-centrall-1` is a typo far more often than a new region.
    pub(crate) fn region(&mut self, src: SourceId, region: &Spanned<String>) -> bool {
        let Some(problem) = rules::region_problem(region.get_ref()) else {
            let name = region.get_ref();
            let known = rules::KNOWN_REGIONS.contains(&name.as_str())
                || self.extra_regions.iter().any(|r| r == name);
            if !known {
                let loc = self.loc(src, region);
                let suggestion = did_you_mean(name, rules::KNOWN_REGIONS.iter().copied());
                self.push(
                    Diagnostic::warning("LF909", format!("unknown region `{name}`"))
                        .at(&loc, "not a region this Landfall knows")
                        .maybe_help(suggestion)
                        .help(format!(
                            "if AWS opened `{name}` after this Landfall was built, list it in `known_regions` in [landing_zone]"
                        )),
                );
            }
            return true;
        };
        // `US_EAST_1` → `us-east-1`: offer the fixed form when that is well-formed.
        let normalized = region
            .get_ref()
            .trim()
            .to_lowercase()
            .replace(['_', ' '], "-");
        let suggestion = if rules::region_problem(&normalized).is_none() {
            Some(format!("did you mean `{normalized}`?"))
        } else {
            did_you_mean(&normalized, rules::KNOWN_REGIONS.iter().copied())
        };
        let loc = self.loc(src, region);
        self.push(
            Diagnostic::error("LF204", format!("malformed region `{}`", region.get_ref()))
                .at(&loc, problem)
                .maybe_help(suggestion),
        );
        false
    }

    fn account_removal(&mut self, src: SourceId, raw: &RawLandingZone) -> AccountRemoval {
        let Some(removal) = &raw.account_removal else {
            return AccountRemoval::Forget;
        };
        let mode = removal.mode.as_ref().map(|m| *m.get_ref());
        match (mode, &removal.ou) {
            (Some(RawRemovalMode::Quarantine), Some(ou)) => match OuPath::parse(ou.get_ref()) {
                Ok(path) => AccountRemoval::Quarantine { ou: path },
                // Reported by `quarantine_ou`.
                Err(_) => AccountRemoval::Forget,
            },
            (Some(RawRemovalMode::Quarantine), None) => {
                if let Some(m) = &removal.mode {
                    let loc = self.loc(src, m);
                    self.push(
                        Diagnostic::error("LF208", "`mode = \"quarantine\"` needs an `ou`")
                            .at(&loc, "quarantine where?")
                            .help("add `ou = \"Quarantine\"` (a declared OU) to [landing_zone.account_removal]"),
                    );
                }
                AccountRemoval::Forget
            }
            (_, Some(ou)) => {
                let loc = self.loc(src, ou);
                self.push(
                    Diagnostic::warning(
                        "LF903",
                        "`account_removal.ou` is ignored unless `mode = \"quarantine\"`",
                    )
                    .at(&loc, "ignored")
                    .help("add `mode = \"quarantine\"`, or remove `ou`"),
                );
                AccountRemoval::Forget
            }
            (_, None) => AccountRemoval::Forget,
        }
    }

    /// The quarantine OU must be a declared OU (checked once OUs are known).
    pub(super) fn quarantine_ou(
        &mut self,
        src: SourceId,
        raw: &RawLandingZone,
        declared: &BTreeSet<String>,
    ) {
        let Some(removal) = &raw.account_removal else {
            return;
        };
        if removal.mode.as_ref().map(|m| *m.get_ref()) != Some(RawRemovalMode::Quarantine) {
            return;
        }
        if let Some(ou) = &removal.ou {
            let loc = self.loc(src, ou);
            self.ou_reference(ou.get_ref(), &loc, declared, OuRef::Quarantine);
        }
    }
}
