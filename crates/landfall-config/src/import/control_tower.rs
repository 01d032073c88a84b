//! The Control Tower part of an import: the landing zone's OU registrations (as
//! `unregistered_ous`, the exception) and the controls enabled on imported OUs.
//! Mandatory and console-only controls are Control Tower's own and are named in
//! comments, never declared.

use std::collections::{BTreeMap, BTreeSet};

use landfall_core::address::OuPath;
use landfall_core::governance::baseline_version;
use landfall_core::live::control_short_id;

use super::organization::Org;
use super::text::{banner, json_value, key, string, string_array};
use super::{Doc, ImportRequest};
use crate::controls::{Guidance, catalog};

/// The default of `[control_tower] security_ou`.
const DEFAULT_SECURITY_OU: &str = "Security";

pub(super) struct ControlOut {
    /// `arn =`, when the catalogue would send another identifier.
    arn: Option<String>,
    targets: BTreeSet<OuPath>,
    parameters: BTreeMap<String, serde_json::Value>,
}

pub(super) struct ControlTowerOut {
    security_ou: Option<String>,
    baseline_version: Option<(String, String)>,
    unregistered: Vec<OuPath>,
    pub registered: usize,
    controls: BTreeMap<String, ControlOut>,
    comments: Vec<String>,
}

impl ControlTowerOut {
    pub fn control_count(&self) -> usize {
        self.controls.values().map(|c| c.targets.len()).sum()
    }
}

pub(super) fn read(
    req: &ImportRequest<'_>,
    org: &Org,
    warnings: &mut Vec<String>,
) -> Option<ControlTowerOut> {
    let gov = &req.live.governance;
    let lz = match &gov.landing_zone {
        Some(Some(lz)) => lz,
        Some(None) | None => {
            if !gov.enabled_controls.is_empty() {
                warnings.push("controls are enabled but no Control Tower landing zone was found in the home region: controls not imported".into());
            }
            return None;
        }
    };
    let security = lz
        .security_ou
        .clone()
        .unwrap_or_else(|| DEFAULT_SECURITY_OU.to_string());
    let mut comments = Vec::new();
    let default_baselines = landfall_core::live::LiveBaselines::default();
    let baselines = gov.baselines.as_ref().unwrap_or(&default_baselines);

    // Registration: every declared OU is registered unless listed as unregistered.
    let mut unregistered = Vec::new();
    let mut registered = 0;
    let mut versions = BTreeSet::new();
    for ou in &org.ous {
        if ou.path.depth() == 1 && ou.path.as_str() == security {
            continue;
        }
        match baselines.on_ou(&ou.id) {
            Some(b) => {
                registered += 1;
                if let Some(v) = &b.version {
                    versions.insert(v.clone());
                }
            }
            None => unregistered.push(ou.path.clone()),
        }
    }
    // A registered OU under an unregistered parent cannot be declared (LF828);
    // Control Tower does not allow it either, so this is a broken landing zone.
    let listed: BTreeSet<OuPath> = unregistered.iter().cloned().collect();
    for ou in &org.ous {
        let under_unregistered = listed.iter().any(|p| ou.path != *p && ou.path.is_within(p));
        if under_unregistered && !listed.contains(&ou.path) {
            warnings.push(format!(
                "OU {} is registered with Control Tower under an unregistered parent: listed as unregistered",
                ou.path
            ));
            unregistered.push(ou.path.clone());
        }
    }
    unregistered.sort();
    unregistered.dedup();

    // The version OUs are registered with: pinned when it is not the one Landfall
    // would choose for this landing zone, so the import plans no update.
    let chosen = baseline_version(None, Some(lz), baselines).ok();
    let pinned = match (versions.len(), versions.iter().next(), &chosen) {
        (1, Some(v), Some(c)) if v != c => Some((
            v.clone(),
            format!(
                "the registered OUs run {v}; landing zone {} would register with {c}",
                lz.version
            ),
        )),
        (1, Some(v), None) => Some((v.clone(), "the version the registered OUs run".to_string())),
        _ => None,
    };
    if versions.len() > 1 {
        warnings.push(format!(
            "registered OUs run different AWSControlTowerBaseline versions ({}): the first plan updates them",
            versions.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }

    // Controls on imported OUs.
    let mut controls: BTreeMap<String, ControlOut> = BTreeMap::new();
    let mut kept_out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut enabled = gov.enabled_controls.clone();
    enabled.sort_by(|a, b| (&a.control_arn, &a.target_id).cmp(&(&b.control_arn, &b.target_id)));
    for c in &enabled {
        let Some(path) = org.ou_paths.get(&c.target_id) else {
            continue;
        };
        let short = control_short_id(&c.control_arn);
        let entry = catalog().ok().and_then(|cat| cat.control.get(short));
        let (table_key, arn) = match entry {
            Some(e) if e.guidance == Guidance::Mandatory || e.console_only => {
                kept_out
                    .entry(short.to_string())
                    .or_default()
                    .insert(path.to_string());
                continue;
            }
            Some(e) => {
                let computed = e.arn(short, &req.home_region);
                let arn = (computed.as_deref() != Some(c.control_arn.as_str()))
                    .then(|| c.control_arn.clone());
                (short.to_string(), arn)
            }
            None => (c.control_arn.clone(), None),
        };
        let out = controls
            .entry(table_key.clone())
            .or_insert_with(|| ControlOut {
                arn,
                targets: BTreeSet::new(),
                parameters: c.parameters.clone(),
            });
        if out.parameters != c.parameters {
            warnings.push(format!(
                "control {table_key} has other parameters on {path} than on {}: declared with the first; the first plan updates {path}",
                out.targets.iter().next().map(ToString::to_string).unwrap_or_default()
            ));
        }
        out.targets.insert(path.clone());
    }
    for (id, ous) in kept_out {
        comments.push(format!(
            "{id} on {}: mandatory or console-only, Control Tower's own (not declared)",
            ous.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Some(ControlTowerOut {
        security_ou: (security != DEFAULT_SECURITY_OU).then_some(security),
        baseline_version: pinned,
        unregistered,
        registered,
        controls,
        comments,
    })
}

pub(super) fn write(doc: &mut Doc, ct: &ControlTowerOut) {
    doc.text.push_str(&banner("Control Tower"));
    doc.blank();
    doc.comment("The organization has a Control Tower landing zone in the home region.");
    doc.line("[control_tower]");
    if let Some(s) = &ct.security_ou {
        doc.line(format!("security_ou = {}", string(s)));
    }
    if let Some((v, why)) = &ct.baseline_version {
        doc.comment(why);
        doc.line(format!("baseline_version = {}", string(v)));
    }
    if !ct.unregistered.is_empty() {
        doc.comment(
            "Not registered with Control Tower (remove an OU from the list to register it):",
        );
        doc.line(format!(
            "unregistered_ous = {}",
            string_array(ct.unregistered.iter().map(OuPath::as_str))
        ));
    }
    doc.blank();
    for (id, c) in &ct.controls {
        doc.line(format!("[control.{}]", key(id)));
        if let Some(arn) = &c.arn {
            doc.line(format!("arn = {}", string(arn)));
        }
        let targets: Vec<String> = c.targets.iter().map(|p| format!("ou:{p}")).collect();
        doc.line(format!(
            "targets = {}",
            string_array(targets.iter().map(String::as_str))
        ));
        let params = serde_json::Value::Object(
            c.parameters
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        if !c.parameters.is_empty()
            && let Some(text) = json_value(&params)
        {
            doc.line(format!("parameters = {text}"));
        }
        doc.blank();
    }
    for c in &ct.comments {
        doc.comment(c);
    }
    if !ct.comments.is_empty() {
        doc.blank();
    }
}
