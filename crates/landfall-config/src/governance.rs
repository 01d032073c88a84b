//! `[control_tower]`, `[control."ID"]`, `[guardrails.PRESET]`, `[portfolio.NAME]`,
//! `sso_user` and `account_factory`: Control Tower governance and Service Catalog
//! sharing, checked against the control catalogue (`controls.rs`, `data/controls.toml`)
//! and the declared OUs and accounts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use landfall_core::model::{
    AccountFactory, ControlSpec, ControlTowerSettings, PortfolioSpec, SsoUser,
};
use landfall_core::{OuPath, Target};
use serde_spanned::Spanned;

use crate::controls::{self, Catalog, Guidance, ParamType, parse_control_arn};
use crate::diagnostics::Diagnostic;
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::raw::{
    RawAccount, RawAccountFactory, RawControl, RawControlTower, RawLandingZone, RawPortfolio,
    RawSsoUser,
};
use crate::rules;
use crate::sources::{Loc, SourceId};
use crate::suggest::{closest, did_you_mean, one_of};
use crate::validate::{Merged, Validator};

/// Service Catalog limits on portfolios.
const MAX_DISPLAY_NAME: usize = 100;
const MAX_PROVIDER: usize = 50;
const MAX_PORTFOLIO_DESCRIPTION: usize = 2000;

/// What the `[control_tower]` section says, for the other checks.
pub(crate) struct ControlTower {
    /// A `[control_tower]` is declared somewhere (readable or not): checks that need
    /// it do not report its absence.
    pub present: bool,
    /// The settings, when the section could be read.
    pub settings: Option<ControlTowerSettings>,
    /// `[control_tower] sso_user`, when valid.
    pub sso_default: Option<SsoUser>,
    /// `[control_tower] sso_user` is written (valid or not).
    pub sso_default_written: bool,
    /// The `unregistered_ous` of every `[control_tower]` declaration (there is one,
    /// unless that is an error already): a control on one is reported whichever
    /// declaration lists it.
    pub unregistered_anywhere: BTreeSet<OuPath>,
}

/// Where an OU is referred to by a control, for messages.
#[derive(Clone, Copy)]
enum OuUse<'a> {
    Control(&'a str),
    Preset(&'a str),
}

impl OuUse<'_> {
    fn what(&self) -> String {
        match self {
            OuUse::Control(c) => format!("control `{c}`"),
            OuUse::Preset(p) => format!("guardrail preset `{p}`"),
        }
    }
}

impl Validator<'_> {
    // ----- [control_tower] and account_factory ------------------------------------

    pub(crate) fn control_tower(
        &mut self,
        files: &[ParsedFile],
        ous: &BTreeSet<String>,
    ) -> ControlTower {
        let decls: Vec<&Decl<RawControlTower>> = files
            .iter()
            .filter_map(|f| f.control_tower.as_ref())
            .collect();
        self.singleton(&decls, "LF820", "[control_tower]");
        let mut out = ControlTower {
            present: !decls.is_empty(),
            settings: None,
            sso_default: None,
            sso_default_written: false,
            unregistered_anywhere: BTreeSet::new(),
        };
        // Every declaration is checked (more than one is an error already); the first
        // one counts.
        for (i, decl) in decls.iter().enumerate() {
            let Some(raw) = &decl.body else { continue };
            let (settings, sso_default) = self.control_tower_settings(decl, raw, ous);
            out.unregistered_anywhere
                .extend(settings.unregistered_ous.iter().cloned());
            if i == 0 {
                out.settings = Some(settings);
                out.sso_default = sso_default;
                out.sso_default_written = raw.sso_user.is_some();
            }
        }
        out
    }

    fn control_tower_settings(
        &mut self,
        decl: &Decl<RawControlTower>,
        raw: &RawControlTower,
        ous: &BTreeSet<String>,
    ) -> (ControlTowerSettings, Option<SsoUser>) {
        let src = decl.key.source;
        let defaults = ControlTowerSettings::default();
        let count = |v: &Option<Spanned<u64>>, default: usize| {
            v.as_ref()
                .map(|v| *v.get_ref())
                .filter(|v| *v > 0)
                .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
                .unwrap_or(default)
        };
        for (key, value) in [
            (
                "control_operations_in_flight",
                &raw.control_operations_in_flight,
            ),
            (
                "account_operations_in_flight",
                &raw.account_operations_in_flight,
            ),
        ] {
            if let Some(v) = value
                && *v.get_ref() == 0
            {
                let loc = self.loc(src, v);
                self.push(
                    Diagnostic::error("LF821", format!("`{key}` in [control_tower] cannot be 0"))
                        .at(&loc, "must be at least 1")
                        .help("remove the key to use Control Tower's default quota"),
                );
            }
        }
        let product = match &raw.account_factory_product {
            Some(p) if p.get_ref().trim().is_empty() => {
                let loc = self.loc(src, p);
                self.push(
                    Diagnostic::error("LF821", "`account_factory_product` is empty")
                        .at(&loc, "empty")
                        .help(format!(
                            "give the product's name or its `prod-...` id, or remove the key \
                             to use `{}`",
                            defaults.account_factory_product
                        )),
                );
                defaults.account_factory_product.clone()
            }
            Some(p) => p.get_ref().clone(),
            None => defaults.account_factory_product.clone(),
        };
        let mut unregistered = BTreeSet::new();
        let mut seen: HashMap<String, Loc> = HashMap::new();
        for item in raw.unregistered_ous.iter().flatten() {
            let loc = self.loc(src, item);
            let value = item.get_ref();
            if let Some(first) = seen.get(value) {
                self.push(
                    Diagnostic::warning(
                        "LF906",
                        format!("OU `{value}` is listed twice in `unregistered_ous`"),
                    )
                    .at(&loc, "listed again here")
                    .at(first, "first listed here")
                    .help("remove one of them"),
                );
                continue;
            }
            seen.insert(value.clone(), loc.clone());
            match OuPath::parse(value) {
                Ok(path) if ous.contains(value) => {
                    unregistered.insert(path);
                }
                Ok(_) => {
                    let mut d = Diagnostic::error(
                        "LF822",
                        format!("`unregistered_ous` names OU `{value}`, which is not declared"),
                    )
                    .at(&loc, "no such OU");
                    d = match value.strip_prefix("ou:").filter(|p| ous.contains(*p)) {
                        Some(p) => d.help(format!("write the OU path alone: `\"{p}\"`")),
                        None => d
                            .maybe_help(did_you_mean(value, ous.iter().map(String::as_str)))
                            .help(format!("declare it with [ou.{}]", toml_key(value))),
                    };
                    self.push(d);
                }
                Err(e) => self.push(
                    Diagnostic::error(
                        "LF822",
                        format!("`unregistered_ous` has an invalid OU path `{value}`"),
                    )
                    .at(&loc, e)
                    .help("OU paths look like `Sandbox` or `Workloads/Workloads_Dev`"),
                ),
            }
        }
        let sso_default = raw
            .sso_user
            .as_ref()
            .and_then(|u| self.sso_user(src, u, "[control_tower]"));
        (
            ControlTowerSettings {
                control_operations_in_flight: count(
                    &raw.control_operations_in_flight,
                    defaults.control_operations_in_flight,
                ),
                account_operations_in_flight: count(
                    &raw.account_operations_in_flight,
                    defaults.account_operations_in_flight,
                ),
                account_factory_product: product,
                unregistered_ous: unregistered,
            },
            sso_default,
        )
    }

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
    fn sso_user(&mut self, src: SourceId, raw: &RawSsoUser, owner: &str) -> Option<SsoUser> {
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

    // ----- controls and presets ------------------------------------------------

    /// `[control."ID"]` and `[guardrails.PRESET]` → one control per (control, OU),
    /// sorted by address.
    pub(crate) fn controls(
        &mut self,
        files: &[ParsedFile],
        ct: &ControlTower,
        ous: &BTreeSet<String>,
        home: Option<&str>,
    ) -> Vec<ControlSpec> {
        // A control or preset may be declared in several files (e.g. one per team),
        // each for its own OUs; the same (control, OU) twice is the error.
        let control_decls = all_decls(files, |f| &f.controls);
        let preset_decls = all_decls(files, |f| &f.guardrails);
        if control_decls.is_empty() && preset_decls.is_empty() {
            return Vec::new();
        }
        if !ct.present {
            for (key, what) in control_decls
                .iter()
                .map(|d| (&d.key, format!("control `{}`", d.name)))
                .chain(
                    preset_decls
                        .iter()
                        .map(|d| (&d.key, format!("guardrail preset `{}`", d.name))),
                )
            {
                self.push(
                    Diagnostic::error(
                        "LF823",
                        format!("{what} is declared, but there is no [control_tower] section"),
                    )
                    .at(key, "controls are enabled by Control Tower")
                    .help(
                        "declare [control_tower] (the organization must have a Control Tower \
                         landing zone), or use SCPs ([scp.NAME]) instead",
                    ),
                );
            }
        }
        let catalog = match controls::catalog() {
            Ok(c) => c,
            Err(e) => {
                if let Some(d) = control_decls.first() {
                    let key = d.key.clone();
                    self.push(
                        Diagnostic::error(
                            "LF830",
                            format!("the embedded control catalogue is invalid: {e}"),
                        )
                        .at(&key, "controls cannot be checked")
                        .help("this is a bug in Landfall: please report it"),
                    );
                } else if let Some(d) = preset_decls.first() {
                    let key = d.key.clone();
                    self.push(
                        Diagnostic::error(
                            "LF830",
                            format!("the embedded control catalogue is invalid: {e}"),
                        )
                        .at(&key, "presets cannot be expanded")
                        .help("this is a bug in Landfall: please report it"),
                    );
                }
                return Vec::new();
            }
        };
        let unregistered = ct.unregistered_anywhere.clone();
        let region = home.unwrap_or("us-east-1");
        let mut out: Vec<ControlSpec> = Vec::new();
        // (control, OU) → where it was declared, for explicit declarations.
        let mut explicit: HashMap<(String, OuPath), Loc> = HashMap::new();
        for decl in &control_decls {
            let Some(raw) = &decl.body else { continue };
            let Some(resolved) = self.resolve_control(decl, raw, catalog, home, region) else {
                // Still check the targets, for their own errors.
                let _ = self.ou_targets(
                    decl.key.source,
                    &raw.targets,
                    OuUse::Control(&decl.name),
                    ous,
                    &unregistered,
                );
                continue;
            };
            let parameters = self.parameters(decl, raw, &resolved);
            let targets = self.ou_targets(
                decl.key.source,
                &raw.targets,
                OuUse::Control(&resolved.short_id),
                ous,
                &unregistered,
            );
            for (ou, loc) in targets {
                let key = (resolved.short_id.clone(), ou.clone());
                if let Some(first) = explicit.get(&key) {
                    self.push(
                        Diagnostic::error(
                            "LF839",
                            format!(
                                "control `{}` is declared twice on OU `{ou}`",
                                resolved.short_id
                            ),
                        )
                        .at(&loc, "declared again here")
                        .at(first, "first declared here")
                        .help(
                            "a control is enabled once per OU: keep one declaration (a short \
                             identifier and a full ARN name the same control)",
                        ),
                    );
                    continue;
                }
                explicit.insert(key, loc);
                out.push(ControlSpec {
                    control: resolved.short_id.clone(),
                    arn: resolved.arn.clone().unwrap_or_default(),
                    ou,
                    parameters: parameters.clone(),
                    preset: None,
                    origin: self.origin(&decl.key),
                });
            }
        }
        let mut from_presets: BTreeSet<(String, OuPath)> = BTreeSet::new();
        for decl in &preset_decls {
            let name = &decl.name;
            let preset = catalog.preset.get(name);
            if preset.is_none() {
                let names = catalog.preset_names();
                self.push(
                    Diagnostic::error("LF840", format!("unknown guardrail preset `{name}`"))
                        .at(&decl.key, "not a preset Landfall ships")
                        .maybe_help(did_you_mean(name, names.iter().copied()))
                        .help(format!(
                            "the presets are {}; single controls are declared with \
                             [control.\"ID\"]",
                            one_of(&names)
                        )),
                );
            }
            let Some(raw) = &decl.body else { continue };
            let targets = self.ou_targets(
                decl.key.source,
                &raw.targets,
                OuUse::Preset(name),
                ous,
                &unregistered,
            );
            let Some(preset) = preset else { continue };
            let origin = self.origin(&decl.key);
            for member in &preset.controls {
                let Some(entry) = catalog.control.get(member) else {
                    continue;
                };
                // Mandatory controls are Control Tower's own, on every registered OU.
                if entry.guidance == Guidance::Mandatory {
                    continue;
                }
                let Some(arn) = entry.arn(member, region) else {
                    continue;
                };
                for (ou, _) in &targets {
                    let key = (member.clone(), ou.clone());
                    if explicit.contains_key(&key) || !from_presets.insert(key) {
                        continue;
                    }
                    out.push(ControlSpec {
                        control: member.clone(),
                        arn: arn.clone(),
                        ou: ou.clone(),
                        parameters: BTreeMap::new(),
                        preset: Some(name.clone()),
                        origin: origin.clone(),
                    });
                }
            }
        }
        out.sort_by_key(ControlSpec::address);
        out
    }

    /// The short identifier and API identifier of a declared control; `None` when
    /// the control is unusable (reported).
    fn resolve_control<'c>(
        &mut self,
        decl: &Decl<RawControl>,
        raw: &RawControl,
        catalog: &'c Catalog,
        home: Option<&str>,
        region: &str,
    ) -> Option<Resolved<'c>> {
        let name = &decl.name;
        let src = decl.key.source;
        if name.starts_with("arn:") {
            let arn = match parse_control_arn(name) {
                Ok(a) => a,
                Err(e) => {
                    self.push(
                        Diagnostic::error("LF831", format!("`{name}` is not a control ARN"))
                            .at(&decl.key, e)
                            .help(
                                "control ARNs look like \
                                 `arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICTED_SSH` \
                                 or `arn:aws:controlcatalog:::control/ID`; or name a control by \
                                 its short identifier: [control.\"AWS-GR_RESTRICTED_SSH\"]",
                            ),
                    );
                    return None;
                }
            };
            if let Some(a) = &raw.arn {
                let loc = self.loc(src, a);
                self.push(
                    Diagnostic::error("LF841", format!("control `{name}` has two ARNs"))
                        .at(&loc, "`arn` given here")
                        .at(&decl.key, "and the table is named by an ARN")
                        .help("keep one: name the table by short identifier with `arn`, or by the ARN alone"),
                );
            }
            if !self.arn_region_ok(arn.region, home, &decl.key, name) {
                return None;
            }
            let entry = catalog.control.get(arn.id);
            if let Some(entry) = entry
                && !self.assignable(arn.id, entry, &decl.key)
            {
                return None;
            }
            return Some(Resolved {
                short_id: arn.id.to_string(),
                arn: Some(name.clone()),
                entry,
            });
        }
        let Some(entry) = catalog.control.get(name) else {
            let near = closest(name, catalog.control_ids())
                .or_else(|| closest(&name.to_uppercase(), catalog.control_ids()));
            self.push(
                Diagnostic::error("LF830", format!("unknown control `{name}`"))
                    .at(&decl.key, "not in Landfall's control catalogue")
                    .maybe_help(near.map(|c| format!("did you mean `{c}`?")))
                    .help(
                        "a control the catalogue does not list can be declared by its full \
                         ARN: [control.\"arn:aws:controlcatalog:::control/ID\"] (see \
                         docs/configuration.md for the catalogue)",
                    ),
            );
            return None;
        };
        if !self.assignable(name, entry, &decl.key) {
            return None;
        }
        let arn = match &raw.arn {
            Some(a) => {
                let loc = self.loc(src, a);
                match parse_control_arn(a.get_ref()) {
                    Ok(parsed) => {
                        if !self.arn_region_ok(parsed.region, home, &loc, a.get_ref()) {
                            return None;
                        }
                        Some(a.get_ref().clone())
                    }
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                "LF831",
                                format!("the `arn` of control `{name}` is not a control ARN"),
                            )
                            .at(&loc, e)
                            .help(
                                "copy the API controlIdentifier from the control's details \
                                 page in the Control Tower console",
                            ),
                        );
                        return None;
                    }
                }
            }
            None => {
                let arn = entry.arn(name, region);
                if arn.is_none() && !decl.dropped("arn") {
                    self.push(
                        Diagnostic::error(
                            "LF841",
                            format!("control `{name}` needs its API identifier in `arn`"),
                        )
                        .at(&decl.key, "its identifier is not known offline")
                        .help(
                            "add `arn = \"arn:aws:controlcatalog:::control/...\"`: the API \
                             controlIdentifier shown on the control's details page in the \
                             Control Tower console",
                        ),
                    );
                }
                Some(arn?)
            }
        };
        Some(Resolved {
            short_id: name.clone(),
            arn,
            entry: Some(entry),
        })
    }

    /// A controltower ARN must be in the home region.
    fn arn_region_ok(
        &mut self,
        region: Option<&str>,
        home: Option<&str>,
        loc: &Loc,
        arn: &str,
    ) -> bool {
        match (region, home) {
            (Some(r), Some(h)) if r != h => {
                self.push(
                    Diagnostic::error(
                        "LF831",
                        format!("control ARN `{arn}` is in region `{r}`, not the home region"),
                    )
                    .at(loc, format!("`{r}` is not the home region `{h}`"))
                    .help(format!(
                        "Landfall calls Control Tower in the home region: use \
                         `arn:aws:controltower:{h}::control/...`, or the global \
                         `arn:aws:controlcatalog:::control/...` form"
                    )),
                );
                false
            }
            _ => true,
        }
    }

    /// Mandatory and console-only controls cannot be declared.
    fn assignable(&mut self, id: &str, entry: &controls::Control, key: &Loc) -> bool {
        if entry.guidance == Guidance::Mandatory {
            self.push(
                Diagnostic::error("LF832", format!("control `{id}` is mandatory"))
                    .at(key, format!("\"{}\"", entry.name))
                    .help(
                        "Control Tower enables mandatory controls on every registered OU, and \
                         its API cannot enable or disable them: remove this declaration",
                    ),
            );
            return false;
        }
        if entry.console_only {
            self.push(
                Diagnostic::error(
                    "LF832",
                    format!("control `{id}` cannot be changed through the Control Tower API"),
                )
                .at(key, "a landing zone setting")
                .help(
                    "set the landing zone Region deny in the Control Tower console; to deny \
                     regions per OU, declare [control.\"CT.MULTISERVICE.PV.1\"] with \
                     `parameters = { AllowedRegions = [...] }`",
                ),
            );
            return false;
        }
        true
    }

    /// Converts and checks `parameters` against the catalogue entry, when there is one.
    fn parameters(
        &mut self,
        decl: &Decl<RawControl>,
        raw: &RawControl,
        resolved: &Resolved<'_>,
    ) -> BTreeMap<String, serde_json::Value> {
        let src = decl.key.source;
        let id = &resolved.short_id;
        let mut out = BTreeMap::new();
        for (key, value) in raw.parameters.iter().flatten() {
            let name = key.get_ref();
            let key_loc = self.loc(src, key);
            let value_loc = self.loc(src, value);
            if let Some(entry) = resolved.entry {
                let Some(param) = entry.param(name) else {
                    let names: Vec<&str> =
                        entry.parameters.iter().map(|p| p.name.as_str()).collect();
                    let list = if names.is_empty() {
                        format!("control `{id}` takes no parameters")
                    } else {
                        format!("the parameters of `{id}` are {}", one_of(&names))
                    };
                    self.push(
                        Diagnostic::error(
                            "LF837",
                            format!("unknown parameter `{name}` for control `{id}`"),
                        )
                        .at(&key_loc, "unknown parameter")
                        .maybe_help(did_you_mean(name, names.iter().copied()))
                        .help(list),
                    );
                    continue;
                };
                if let Some(problem) = value_problem(param.kind, name, value.get_ref()) {
                    self.push(
                        Diagnostic::error(
                            "LF838",
                            format!("invalid value for parameter `{name}` of control `{id}`"),
                        )
                        .at(&value_loc, problem)
                        .help(format!("`{name}` is {}", param.kind.describe())),
                    );
                    continue;
                }
            }
            out.insert(name.clone(), toml_to_json(value.get_ref()));
        }
        if let Some(entry) = resolved.entry {
            for param in entry.parameters.iter().filter(|p| p.required) {
                let given = raw
                    .parameters
                    .iter()
                    .flatten()
                    .any(|(k, _)| k.get_ref() == &param.name);
                if !given && !decl.dropped("parameters") {
                    let example = match param.kind {
                        ParamType::StringList => "[\"...\"]",
                        ParamType::String => "\"...\"",
                        ParamType::Boolean => "true",
                    };
                    self.push(
                        Diagnostic::error(
                            "LF836",
                            format!("control `{id}` needs the parameter `{}`", param.name),
                        )
                        .at(&decl.key, format!("`{}` is required", param.name))
                        .help(format!(
                            "add `parameters = {{ {} = {example} }}` ({})",
                            param.name,
                            param.kind.describe()
                        )),
                    );
                }
            }
        }
        out
    }

    /// Resolves `targets` of a control or preset to declared, registered OUs (with the
    /// place each is written).
    fn ou_targets(
        &mut self,
        src: SourceId,
        list: &[Spanned<String>],
        by: OuUse<'_>,
        ous: &BTreeSet<String>,
        unregistered: &BTreeSet<OuPath>,
    ) -> Vec<(OuPath, Loc)> {
        let what = by.what();
        let mut out = Vec::new();
        let mut seen: HashMap<OuPath, Loc> = HashMap::new();
        for item in list {
            let loc = self.loc(src, item);
            let value = item.get_ref();
            let path = match Target::parse(value) {
                Ok(Target::Ou(p)) => p,
                Ok(Target::Root) => {
                    self.push(
                        Diagnostic::error("LF833", format!("{what} targets the root"))
                            .at(&loc, "controls are enabled on OUs")
                            .help(
                                "Control Tower enables controls on registered OUs: list each \
                                 top-level OU (`ou:Workloads`)",
                            ),
                    );
                    continue;
                }
                Ok(Target::Account(a)) => {
                    self.push(
                        Diagnostic::error("LF833", format!("{what} targets account `{a}`"))
                            .at(&loc, "controls are enabled on OUs")
                            .help(
                                "a control applies to every account of an OU: target the \
                                 account's OU (`ou:PATH`)",
                            ),
                    );
                    continue;
                }
                Err(e) => {
                    let label = if e.contains("is not a target") {
                        "not an OU target".to_string()
                    } else {
                        e
                    };
                    let mut d =
                        Diagnostic::error("LF833", format!("`{value}` is not an OU target"))
                            .at(&loc, label);
                    if ous.contains(value) {
                        d = d.help(format!("write `ou:{value}`"));
                    }
                    self.push(
                        d.help("targets are OUs: `ou:PATH`, e.g. `ou:Workloads/Workloads_Dev`"),
                    );
                    continue;
                }
            };
            if !ous.contains(path.as_str()) {
                self.push(
                    Diagnostic::error(
                        "LF834",
                        format!("{what} targets OU `{path}`, which is not declared"),
                    )
                    .at(&loc, "no such OU")
                    .maybe_help(
                        closest(path.as_str(), ous.iter().map(String::as_str))
                            .map(|c| format!("did you mean `ou:{c}`?")),
                    )
                    .help(format!("declare it with [ou.{}]", toml_key(path.as_str()))),
                );
                continue;
            }
            if unregistered.contains(&path) {
                self.push(
                    Diagnostic::error(
                        "LF835",
                        format!("{what} targets OU `{path}`, which is not registered with Control Tower"),
                    )
                    .at(&loc, "listed in `unregistered_ous`")
                    .help("Control Tower enables controls only on registered OUs: register the OU, or remove the target"),
                );
                continue;
            }
            if let Some(first) = seen.get(&path) {
                self.push(
                    Diagnostic::warning("LF906", format!("{what} lists OU `{path}` twice"))
                        .at(&loc, "listed again here")
                        .at(first, "first listed here")
                        .help("remove one of them"),
                );
                continue;
            }
            seen.insert(path.clone(), loc.clone());
            out.push((path, loc));
        }
        out
    }

    // ----- portfolios ------------------------------------------------------------

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

    fn shares(
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
    fn blueprint_portfolios(
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

/// Every readable-file declaration of a section, in file order.
fn all_decls<'f, T>(
    files: &'f [ParsedFile],
    get: impl Fn(&'f ParsedFile) -> &'f Vec<Decl<T>>,
) -> Vec<&'f Decl<T>> {
    files
        .iter()
        .filter(|f| !f.broken)
        .flat_map(|f| get(f).iter())
        .collect()
}

/// A declared control, resolved.
struct Resolved<'c> {
    short_id: String,
    /// `None` only when the identifier is missing (reported).
    arn: Option<String>,
    /// The catalogue entry, when the control is in the catalogue.
    entry: Option<&'c controls::Control>,
}

/// Why `value` is not a valid value of a parameter of type `kind`, if it is not.
fn value_problem(kind: ParamType, name: &str, value: &toml::Value) -> Option<String> {
    match (kind, value) {
        (ParamType::String, toml::Value::String(_)) => None,
        (ParamType::Boolean, toml::Value::Boolean(_)) => None,
        (ParamType::StringList, toml::Value::Array(items)) => {
            if items.is_empty() && name == "AllowedRegions" {
                return Some("at least one region".into());
            }
            for item in items {
                let toml::Value::String(s) = item else {
                    return Some(format!("expected strings, found {}", type_name(item)));
                };
                if name == "AllowedRegions"
                    && let Some(problem) = rules::region_problem(s)
                {
                    return Some(problem);
                }
            }
            None
        }
        (_, other) => Some(format!(
            "expected {}, found {}",
            kind.describe(),
            type_name(other)
        )),
    }
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

/// TOML → JSON, as the parameter is sent to the API.
pub(crate) fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}
