//! `[control_tower]`: at most one; its in-flight limits, Account Factory product,
//! `unregistered_ous` and default `sso_user`, and what the other governance checks
//! read from it (`ControlTower`).

use std::collections::{BTreeSet, HashMap};

use landfall_core::OuPath;
use landfall_core::model::{ControlTowerSettings, SsoUser};
use serde_spanned::Spanned;

use crate::diagnostics::Diagnostic;
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::raw::RawControlTower;
use crate::sources::{Loc, SourceId};
use crate::suggest::did_you_mean;
use crate::validator::Validator;

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

impl Validator<'_> {
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
        let baseline_version = raw.baseline_version.as_ref().and_then(|v| {
            let text = v.get_ref();
            let well_formed = text
                .split_once('.')
                .is_some_and(|(major, minor)| {
                    [major, minor]
                        .iter()
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                });
            if well_formed {
                return Some(text.clone());
            }
            let loc = self.loc(src, v);
            self.push(
                Diagnostic::error("LF821", format!("`baseline_version = \"{text}\"` is not a baseline version"))
                    .at(&loc, "expected MAJOR.MINOR")
                    .help("AWSControlTowerBaseline versions look like \"4.0\"; remove the key to use the one AWS documents for your landing zone's version"),
            );
            None
        });
        let security_ou = match &raw.security_ou {
            Some(v) if v.get_ref().is_empty() || v.get_ref().contains('/') => {
                let loc = self.loc(src, v);
                self.push(
                    Diagnostic::error("LF821", format!("`security_ou = \"{}\"` is not a top-level OU name", v.get_ref()))
                        .at(&loc, "the Security OU sits directly under the root")
                        .help("give the name of the landing zone's Security OU (Control Tower's default is \"Security\")"),
                );
                defaults.security_ou.clone()
            }
            Some(v) => v.get_ref().clone(),
            None => defaults.security_ou.clone(),
        };
        self.registered_under_unregistered(src, raw, ous, &unregistered, &security_ou);
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
                baseline_version,
                security_ou,
            },
            sso_default,
        )
    }
}

impl Validator<'_> {
    /// Control Tower registers a nested OU only under a registered parent: a declared
    /// OU Landfall would register whose parent is listed in `unregistered_ous` is an
    /// error at the parent's entry.
    fn registered_under_unregistered(
        &mut self,
        src: SourceId,
        raw: &RawControlTower,
        ous: &BTreeSet<String>,
        unregistered: &BTreeSet<OuPath>,
        security_ou: &str,
    ) {
        for ou in ous {
            let path = OuPath::new(ou.clone());
            let Some(parent) = path.parent() else {
                continue;
            };
            if unregistered.contains(&path)
                || path.as_str() == security_ou
                || !unregistered.contains(&parent)
            {
                continue;
            }
            let Some(entry) = raw
                .unregistered_ous
                .iter()
                .flatten()
                .find(|e| e.get_ref() == parent.as_str())
            else {
                continue;
            };
            let loc = self.loc(src, entry);
            self.push(
                Diagnostic::error(
                    "LF828",
                    format!("OU `{ou}` would be registered with Control Tower, but its parent `{parent}` is listed in `unregistered_ous`"),
                )
                .at(&loc, "the parent stays unregistered")
                .help(format!("Control Tower registers a nested OU only under a registered parent: list `{ou}` in `unregistered_ous` too, or register `{parent}`")),
            );
        }
    }
}
