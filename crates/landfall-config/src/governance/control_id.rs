//! Which control a `[control."ID"]` declaration names: a short identifier from the
//! catalogue or an ARN, its API identifier in the home region, and whether the API
//! may enable it at all (not mandatory, not console-only).

use crate::controls::{self, Catalog, Guidance, parse_control_arn};
use crate::diagnostics::Diagnostic;
use crate::parse::Decl;
use crate::raw::RawControl;
use crate::sources::Loc;
use crate::suggest::closest;
use crate::validator::Validator;

/// A declared control, resolved.
pub(super) struct Resolved<'c> {
    pub(super) short_id: String,
    /// `None` only when the identifier is missing (reported).
    pub(super) arn: Option<String>,
    /// The catalogue entry, when the control is in the catalogue.
    pub(super) entry: Option<&'c controls::Control>,
}

impl Validator<'_> {
    /// The short identifier and API identifier of a declared control; `None` when
    /// the control is unusable (reported).
    pub(super) fn resolve_control<'c>(
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
}
