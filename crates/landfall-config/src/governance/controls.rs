//! `[control."ID"]` and `[guardrails.PRESET]`: controls and presets (expanded from
//! the catalogue) on declared, registered OUs, one control per (control, OU), with
//! the control ARNs for the home region.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use landfall_core::model::ControlSpec;
use landfall_core::{OuPath, Target};
use serde_spanned::Spanned;

use crate::controls::{self, Guidance};
use crate::diagnostics::Diagnostic;
use crate::parse::{Decl, ParsedFile, toml_key};
use crate::sources::{Loc, SourceId};
use crate::suggest::{closest, did_you_mean, one_of};
use crate::validator::Validator;

use super::control_tower::ControlTower;

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
