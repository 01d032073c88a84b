//! Registering declared OUs with Control Tower. An OU made through AWS Organizations
//! is not governed by Control Tower until `AWSControlTowerBaseline` is enabled on it,
//! and Control Tower refuses controls (and Account Factory places no account) on an OU
//! that is not registered. So, with `[control_tower]`, every declared OU not listed in
//! `unregistered_ous` (and not the landing zone's Security OU, which the landing zone
//! governs itself) has a registration: enabled at the baseline version that goes with
//! the landing zone's version, updated when it falls behind, reset when Control Tower
//! reports it drifted or failed, and reset once more after accounts came into the OU
//! through AWS Organizations (`CreateAccount`/`MoveAccount`), since those are not
//! enrolled until the OU's baseline is reset.

use serde_json::json;

use crate::address::{Address, OuPath};
use crate::attrs::{Attrs, diff_attrs};
use crate::live::{
    AccountStatus, ControlStatus, LiveBaselines, LiveEnabledBaseline, LiveLandingZone, LiveState,
};
use crate::plan::{Action, Change, GovernanceOp, Op, OrganizationOp, Record, Ref};
use crate::planner::Planner;

use super::change;

/// The name under which Control Tower lists the baseline that registers an OU.
pub const CONTROL_TOWER_BASELINE: &str = "AWSControlTowerBaseline";

/// The `AWSControlTowerBaseline` version AWS documents for each landing zone version
/// ("Compatibility of OU baselines and landing zone versions" in the Control Tower user
/// guide): landing zone versions (major, minor from..=to) and the baseline version.
const BASELINE_FOR_LANDING_ZONE: [((u32, u32, u32), &str); 5] = [
    ((2, 0, 7), "1.0"),
    ((2, 8, 9), "2.0"),
    ((3, 0, 0), "3.0"),
    ((3, 1, 3), "4.0"),
    ((4, 0, 0), "5.0"),
];

/// The newest landing zone version [`BASELINE_FOR_LANDING_ZONE`] knows.
pub const NEWEST_KNOWN_LANDING_ZONE: &str = "4.0";

/// The attributes recorded for a registration. The baseline version and parameter
/// follow the landing zone, not the configuration, so they are compared live (the plan
/// shows them) rather than recorded.
pub fn registration_attrs(ou: &OuPath) -> Attrs {
    Attrs::from([
        ("ou".into(), json!(format!("ou.{ou}"))),
        ("baseline".into(), json!(CONTROL_TOWER_BASELINE)),
    ])
}

/// What a registration looks like beyond its recorded attributes: the version and
/// whether it carries the Identity Center parameter.
fn shown_attrs(ou: &OuPath, version: Option<&str>, identity_center: bool) -> Attrs {
    let mut attrs = registration_attrs(ou);
    attrs.insert("version".into(), json!(version));
    attrs.insert("identity_center".into(), json!(identity_center));
    attrs
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().unwrap_or("0").parse().ok()?;
    Some((major, minor))
}

/// The baseline version to register OUs with: the configured one, else the one AWS
/// documents for the landing zone's version, else (a landing zone newer than the table)
/// the newest version already enabled on a registered OU. `Err` says why none is known.
pub fn baseline_version(
    configured: Option<&str>,
    landing_zone: Option<&LiveLandingZone>,
    baselines: &LiveBaselines,
) -> Result<String, String> {
    if let Some(v) = configured {
        return Ok(v.to_string());
    }
    let lz_version = landing_zone.map(|lz| lz.version.as_str());
    if let Some((major, minor)) = lz_version.and_then(parse_version)
        && let Some((_, v)) = BASELINE_FOR_LANDING_ZONE
            .iter()
            .find(|((ma, from, to), _)| *ma == major && (*from..=*to).contains(&minor))
    {
        return Ok(v.to_string());
    }
    let newest_live = baselines
        .enabled
        .iter()
        .filter(|b| b.parent_arn.is_none())
        .filter_map(|b| b.version.as_deref())
        .max_by_key(|v| parse_version(v));
    match (newest_live, lz_version) {
        (Some(v), _) => Ok(v.to_string()),
        (None, Some(lz)) => Err(format!(
            "no {CONTROL_TOWER_BASELINE} version is known for landing zone version {lz}, and no registered OU shows one"
        )),
        (None, None) => Err(format!(
            "the landing zone's version was not read, so no {CONTROL_TOWER_BASELINE} version is known"
        )),
    }
}

/// The account changes of this plan that bring an account into `ou` (live id `ou_id`
/// when it exists) through AWS Organizations: created there, or moved there (declared
/// there, or quarantined). Control Tower does not enroll those until the OU's
/// registration is reset; Account Factory enrolls its own accounts.
pub(super) fn arrivals<'c>(
    changes: &'c [Change],
    ou: &OuPath,
    ou_id: Option<&str>,
) -> Vec<&'c Address> {
    let ou_address = Address::Ou(ou.clone());
    let here = |r: &Ref| match r {
        Ref::Address(address) => *address == ou_address,
        Ref::Id(id) => Some(id.as_str()) == ou_id,
    };
    changes
        .iter()
        .filter(|c| matches!(c.address, Address::Account(_)))
        .filter(|c| {
            c.ops.iter().any(|op| match op {
                Op::Organization(
                    OrganizationOp::CreateAccount { parent: to, .. }
                    | OrganizationOp::MoveAccount { to, .. },
                ) => here(to),
                Op::Organization(_)
                | Op::Member(_)
                | Op::Governance(_)
                | Op::Identity(_)
                | Op::Security(_) => false,
            })
        })
        .map(|c| &c.address)
        .collect()
}

/// The accounts (id, name) live in the OU of `registration` that have no enabled
/// baseline: they came in through AWS Organizations since the OU was registered or
/// last reset.
pub(super) fn unenrolled_accounts(
    live: &LiveState,
    registration: &LiveEnabledBaseline,
) -> Vec<(String, String)> {
    let Some(baselines) = live.governance.baselines.as_ref() else {
        return vec![];
    };
    live.accounts
        .values()
        .filter(|a| a.parent_id == registration.target_id && a.status == AccountStatus::Active)
        .filter(|a| !baselines.enrolled(&a.id))
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect()
}

impl Planner<'_> {
    pub(super) fn plan_registrations(&mut self) {
        let Some(settings) = self.desired.landing_zone.control_tower.as_ref() else {
            return;
        };
        let registered: Vec<OuPath> = self.desired.registered_ous().cloned().collect();
        let Some(first) = registered.first().cloned() else {
            return;
        };
        let first = Address::Registration(first);
        // No landing zone: the prerequisite check said so already.
        if matches!(self.live.governance.landing_zone, Some(None)) {
            return;
        }
        let Some(baselines) = self.live.governance.baselines.clone() else {
            self.problem(
                first,
                "Control Tower's baselines were not read".into(),
                Some("this is a bug in the backend wiring; please report it"),
            );
            return;
        };
        let home = self.desired.landing_zone.home_region.clone();
        let landing_zone = self.live.governance.landing_zone.clone().flatten();
        if let Some(lz) = &landing_zone
            && let Some(security) = &lz.security_ou
            && security != &settings.security_ou
            && let Some(path) = registered.iter().find(|p| p.as_str() == security)
        {
            self.problem(
                Address::Registration(path.clone()),
                format!(
                    "ou.{path} is the landing zone's Security OU (its manifest says so); the landing zone governs it, so it cannot be registered with {CONTROL_TOWER_BASELINE}"
                ),
                Some("set `security_ou = \"NAME\"` in `[control_tower]` to the landing zone's Security OU"),
            );
            return;
        }
        let Some(baseline) = baselines.control_tower_baseline.clone() else {
            self.problem(
                first,
                format!("Control Tower in {home} does not offer {CONTROL_TOWER_BASELINE} (ListBaselines), so OUs cannot be registered"),
                Some("OU registration needs landing zone version 3.0 or later: update the landing zone, or list the OUs in `unregistered_ous`"),
            );
            return;
        };
        let version = match baseline_version(
            settings.baseline_version.as_deref(),
            landing_zone.as_ref(),
            &baselines,
        ) {
            Ok(v) => v,
            Err(message) => {
                self.problem(
                    first,
                    message,
                    Some("set `baseline_version` in `[control_tower]` to the version AWS documents for your landing zone"),
                );
                return;
            }
        };
        let identity_center = baselines.identity_center_enabled_baseline.clone();
        for path in registered {
            let ou_id = self.existing.get(&Address::Ou(path.clone())).cloned();
            match ou_id.as_deref().and_then(|id| baselines.on_ou(id)) {
                Some(live) => {
                    // An account this plan moves out needs no enrollment here.
                    let leaving: Vec<&str> = self
                        .changes
                        .iter()
                        .filter(|c| {
                            c.ops.iter().any(|op| {
                                matches!(op, Op::Organization(OrganizationOp::MoveAccount { .. }))
                            })
                        })
                        .filter_map(|c| c.id.as_deref())
                        .collect();
                    let unenrolled: Vec<String> = unenrolled_accounts(self.live, live)
                        .into_iter()
                        .filter(|(id, _)| !leaving.contains(&id.as_str()))
                        .map(|(_, name)| name)
                        .collect();
                    self.plan_registered(
                        &path,
                        live,
                        &version,
                        identity_center.as_deref(),
                        unenrolled,
                    );
                }
                None => self.plan_registration(&path, &baseline, &version, identity_center.clone()),
            }
        }
    }

    fn plan_registration(
        &mut self,
        path: &OuPath,
        baseline: &str,
        version: &str,
        identity_center: Option<String>,
    ) {
        let address = Address::Registration(path.clone());
        let reason = match self.state.resources.get(&address) {
            Some(r) => format!(
                "deregistered outside Landfall (it was {}); registering it again",
                r.id
            ),
            None => "declared; not registered with Control Tower yet".to_string(),
        };
        let mut c = change(address, Action::Create, reason);
        c.diffs = diff_attrs(
            &Attrs::new(),
            &shown_attrs(path, Some(version), identity_center.is_some()),
            &[],
        );
        c.ops = vec![Op::Governance(GovernanceOp::EnableBaseline {
            ou: self.reference(Address::Ou(path.clone())),
            baseline: baseline.to_string(),
            version: version.to_string(),
            identity_center,
        })];
        c.record = Record::Upsert {
            created: true,
            attributes: registration_attrs(path),
        };
        self.changes.push(c);
    }

    fn plan_registered(
        &mut self,
        path: &OuPath,
        live: &LiveEnabledBaseline,
        version: &str,
        identity_center: Option<&str>,
        unenrolled: Vec<String>,
    ) {
        let address = Address::Registration(path.clone());
        let diffs = diff_attrs(
            &shown_attrs(
                path,
                live.version.as_deref(),
                live.identity_center.is_some(),
            ),
            &shown_attrs(path, Some(version), identity_center.is_some()),
            &[],
        );
        let ou_id = self
            .existing
            .get(&Address::Ou(path.clone()))
            .map(String::as_str);
        let arriving: Vec<String> = arrivals(&self.changes, path, ou_id)
            .into_iter()
            .map(Address::to_string)
            .collect();
        let repair = match (live.status, live.drifted) {
            (ControlStatus::Failed, _) => Some("its last Control Tower operation failed"),
            (_, true) => Some("Control Tower reports it drifted"),
            (ControlStatus::Succeeded | ControlStatus::UnderChange, false) => None,
        };
        let mut reasons: Vec<String> = Vec::new();
        if let Some(r) = repair {
            reasons.push(r.to_string());
        }
        if !arriving.is_empty() {
            reasons.push(format!(
                "{} come{} in through AWS Organizations and {} enrolled only when the registration is reset",
                arriving.join(", "),
                if arriving.len() == 1 { "s" } else { "" },
                if arriving.len() == 1 { "is" } else { "are" },
            ));
        }
        if !unenrolled.is_empty() {
            reasons.push(format!(
                "account{} {} in the OU {} not enrolled",
                if unenrolled.len() == 1 { "" } else { "s" },
                unenrolled.join(", "),
                if unenrolled.len() == 1 { "is" } else { "are" },
            ));
        }
        let mut ops = Vec::new();
        if !reasons.is_empty() {
            ops.push(Op::Governance(GovernanceOp::ResetEnabledBaseline));
        }
        let changed = |attr: &str| diffs.iter().any(|d| d.attribute == attr);
        if changed("version") || changed("identity_center") {
            reasons.push(format!(
                "registered with {CONTROL_TOWER_BASELINE} {}; the landing zone takes {version}",
                live.version.as_deref().unwrap_or("(no version)")
            ));
            ops.push(Op::Governance(GovernanceOp::UpdateEnabledBaseline {
                version: version.to_string(),
                identity_center: identity_center.map(str::to_string),
            }));
        }
        let known = self.in_state(&address, &live.arn);
        let n = self.changes.len();
        self.existing_change(
            address,
            live.arn.clone(),
            diffs,
            ops,
            false,
            registration_attrs(path),
        );
        if !reasons.is_empty()
            && let Some(c) = self.changes.get_mut(n)
        {
            c.reason = if known {
                format!("{}; re-registering", reasons.join("; "))
            } else {
                format!("{}; {}", c.reason, reasons.join("; "))
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lz(version: &str) -> LiveLandingZone {
        LiveLandingZone {
            arn: "arn".into(),
            status: "ACTIVE".into(),
            drift_status: None,
            version: version.into(),
            security_ou: None,
        }
    }

    fn registered_at(version: &str) -> LiveBaselines {
        LiveBaselines {
            control_tower_baseline: Some("b".into()),
            identity_center_enabled_baseline: None,
            enabled: vec![LiveEnabledBaseline {
                arn: "eb".into(),
                baseline_arn: "b".into(),
                version: Some(version.into()),
                target_id: "ou-1".into(),
                parent_arn: None,
                identity_center: None,
                status: ControlStatus::Succeeded,
                drifted: false,
            }],
        }
    }

    #[test]
    fn the_baseline_version_follows_the_landing_zone_then_the_live_registrations() {
        let none = LiveBaselines::default();
        for (landing_zone, baseline) in [
            ("2.0", "1.0"),
            ("2.7", "1.0"),
            ("2.9", "2.0"),
            ("3.0", "3.0"),
            ("3.1", "4.0"),
            ("3.3", "4.0"),
            ("4.0", "5.0"),
            (NEWEST_KNOWN_LANDING_ZONE, "5.0"),
        ] {
            assert_eq!(
                baseline_version(None, Some(&lz(landing_zone)), &none),
                Ok(baseline.to_string()),
                "{landing_zone}"
            );
        }
        // Configured wins; a newer landing zone learns from its registered OUs.
        assert_eq!(
            baseline_version(Some("9.0"), Some(&lz("3.3")), &none),
            Ok("9.0".into())
        );
        assert_eq!(
            baseline_version(None, Some(&lz("4.2")), &registered_at("6.0")),
            Ok("6.0".into())
        );
        assert_eq!(
            baseline_version(None, None, &registered_at("4.0")),
            Ok("4.0".into())
        );
        assert!(baseline_version(None, Some(&lz("4.2")), &none).is_err());
        assert!(baseline_version(None, None, &none).is_err());
    }
}
