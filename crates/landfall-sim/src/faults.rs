//! Fault injection: latency, throttling and one chosen failure, driven by
//! [`SimSettings`]. They exist so reliability tests and benchmarks can exercise the
//! executor's retries, resume-after-crash and lost-response handling without AWS.
//!
//! Everything random comes from one RNG seeded with `settings.seed`, so a given seed
//! and call sequence throttles the same calls every run.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use landfall_core::live::control_short_id;
use landfall_core::model::{SimModel, SimSettings};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Environment variable holding per-run overrides of the `[sim]` settings, in the
/// syntax [`parse_fault_overrides`] reads.
pub const FAULTS_ENV: &str = "LANDFALL_SIM_FAULTS";

const KEYS: &str = "throttle_rate, fail_at, fail_after_effect, latency_ms, seed, model, \
                    account_creation_polls, control_operation_polls, fail_control, \
                    fail_registration";

/// The Control Tower part of [`FAULTS_ENV`], which has no place in [`SimSettings`]:
/// give it to [`crate::SimBackend::with_governance_faults`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GovernanceFaults {
    /// `control_operation_polls=N`: polls a control operation stays `IN_PROGRESS`
    /// (default: `account_creation_polls`).
    pub control_operation_polls: Option<u32>,
    /// `fail_control=ID` (repeatable; a short id like `AWS-GR_RESTRICT_ROOT_USER` or a
    /// full control ARN): every operation on that control fails with a message.
    pub fail_controls: BTreeSet<String>,
    /// `fail_registration=NAME` (repeatable; an OU's name): every baseline operation
    /// registering, updating, resetting or deregistering that OU fails.
    pub fail_registrations: BTreeSet<String>,
}

/// Applies `key=value,key=value` overrides (the [`FAULTS_ENV`] syntax) on top of
/// `base`, e.g. `throttle_rate=0.3,fail_at=12,seed=7,latency_ms=5`. `fail_at=none`
/// clears a configured failure. Errors name the offending key and value. The Control
/// Tower keys (`control_operation_polls`, `fail_control`) are checked here and read
/// by [`parse_governance_faults`].
pub fn parse_fault_overrides(base: &SimSettings, spec: &str) -> Result<SimSettings, String> {
    parse_all(base, spec).map(|(settings, _)| settings)
}

/// The Control Tower keys of a [`FAULTS_ENV`] value (the others are checked and
/// ignored), e.g. `fail_control=AWS-GR_RESTRICT_ROOT_USER,control_operation_polls=3`.
pub fn parse_governance_faults(spec: &str) -> Result<GovernanceFaults, String> {
    parse_all(&SimSettings::default(), spec).map(|(_, governance)| governance)
}

/// Reads the Control Tower keys of [`FAULTS_ENV`]; unset or empty gives none.
pub fn governance_faults_from_env() -> Result<GovernanceFaults, String> {
    match std::env::var(FAULTS_ENV) {
        Ok(spec) => parse_governance_faults(&spec),
        Err(_) => Ok(GovernanceFaults::default()),
    }
}

fn parse_all(base: &SimSettings, spec: &str) -> Result<(SimSettings, GovernanceFaults), String> {
    let mut out = base.clone();
    let mut governance = GovernanceFaults::default();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!(
                "`{item}` in {FAULTS_ENV} is not `key=value` (keys: {KEYS})"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        let bad =
            |expected: &str| format!("{FAULTS_ENV}: `{key}` must be {expected}, got `{value}`");
        match key {
            "throttle_rate" => {
                let rate: f64 = value.parse().map_err(|_| bad("a number between 0 and 1"))?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(bad("a number between 0 and 1"));
                }
                out.throttle_rate = rate;
            }
            "fail_at" => {
                out.fail_at = match value {
                    "none" | "" => None,
                    _ => match value.parse::<u64>() {
                        Ok(n) if n >= 1 => Some(n),
                        _ => return Err(bad("a call number >= 1 (or `none`)")),
                    },
                };
            }
            "fail_after_effect" => {
                out.fail_after_effect = value.parse().map_err(|_| bad("`true` or `false`"))?;
            }
            "latency_ms" => {
                out.latency_ms = value
                    .parse()
                    .map_err(|_| bad("a whole number of milliseconds"))?;
            }
            "seed" => out.seed = value.parse().map_err(|_| bad("a non-negative integer"))?,
            "model" => {
                out.model = SimModel::parse(value).ok_or_else(|| bad("`aws` or `instant`"))?;
            }
            "account_creation_polls" => {
                out.account_creation_polls =
                    value.parse().map_err(|_| bad("a non-negative integer"))?;
            }
            "control_operation_polls" => {
                governance.control_operation_polls =
                    Some(value.parse().map_err(|_| bad("a non-negative integer"))?);
            }
            "fail_control" => {
                let id = control_short_id(value);
                if id.is_empty()
                    || !id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(bad(
                        "a control id (e.g. `AWS-GR_RESTRICT_ROOT_USER`) or a control ARN",
                    ));
                }
                governance.fail_controls.insert(id.to_string());
            }
            "fail_registration" => {
                if value.is_empty() {
                    return Err(bad("an OU's name"));
                }
                governance.fail_registrations.insert(value.to_string());
            }
            _ => {
                return Err(format!(
                    "{FAULTS_ENV}: unknown key `{key}` (known keys: {KEYS})"
                ));
            }
        }
    }
    Ok((out, governance))
}

/// Reads [`FAULTS_ENV`] and applies it to `base`; unset or empty leaves `base` as is.
pub fn settings_with_env_overrides(base: &SimSettings) -> Result<SimSettings, String> {
    match std::env::var(FAULTS_ENV) {
        Ok(spec) => parse_fault_overrides(base, &spec),
        Err(_) => Ok(base.clone()),
    }
}

/// What the injector decided for one mutating call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Injection {
    /// Proceed normally.
    None,
    /// Fail without applying the change; carries the call number.
    FailBefore(u64),
    /// Apply and persist the change, then fail (a lost response).
    FailAfter(u64),
}

struct FaultState {
    rng: StdRng,
    /// Mutating calls that got past throttling, in this process.
    mutating_calls: u64,
}

/// The per-backend fault injector. Its counters are per process (per
/// [`SimBackend`](crate::SimBackend)), not persisted: `fail_at` means "the Nth
/// mutating call of this run".
pub struct Faults {
    settings: SimSettings,
    state: Mutex<FaultState>,
}

impl Faults {
    pub fn new(settings: SimSettings) -> Self {
        // Offset the seed so the throttle stream is independent from the id stream,
        // which is seeded from the same user-facing number.
        let rng = StdRng::seed_from_u64(settings.seed ^ 0x5EED_FA17);
        Faults {
            settings,
            state: Mutex::new(FaultState {
                rng,
                mutating_calls: 0,
            }),
        }
    }

    pub fn settings(&self) -> &SimSettings {
        &self.settings
    }

    /// The configured per-call latency.
    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.settings.latency_ms)
    }

    /// Sleeps for the configured latency (no-op at 0).
    pub async fn delay(&self) {
        if self.settings.latency_ms > 0 {
            tokio::time::sleep(self.latency()).await;
        }
    }

    /// Whether this call is answered with a throttling error.
    pub fn throttled(&self) -> bool {
        let rate = self.settings.throttle_rate;
        if rate.is_nan() || rate <= 0.0 {
            return false;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.rng.random::<f64>() < rate
    }

    /// Counts a mutating call (one that was not throttled) and says whether it is the
    /// one chosen to fail. Fires at most once: the counter only grows.
    pub fn on_mutating_call(&self) -> Injection {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.mutating_calls += 1;
        let n = state.mutating_calls;
        match self.settings.fail_at {
            Some(at) if at == n && self.settings.fail_after_effect => Injection::FailAfter(n),
            Some(at) if at == n => Injection::FailBefore(n),
            _ => Injection::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let s = parse_fault_overrides(
            &SimSettings::default(),
            "throttle_rate=0.3, fail_at=12,seed=7,latency_ms=5,fail_after_effect=true,account_creation_polls=2",
        )
        .unwrap();
        assert_eq!(s.throttle_rate, 0.3);
        assert_eq!(s.fail_at, Some(12));
        assert_eq!(s.seed, 7);
        assert_eq!(s.latency_ms, 5);
        assert!(s.fail_after_effect);
        assert_eq!(s.account_creation_polls, 2);
        let s = parse_fault_overrides(&SimSettings::default(), "model=aws").unwrap();
        assert_eq!(s.model, SimModel::Aws);
        let err = parse_fault_overrides(&SimSettings::default(), "model=fast").unwrap_err();
        assert!(
            err.contains("`aws` or `instant`") && err.contains("fast"),
            "{err}"
        );
    }

    #[test]
    fn keeps_base_values_not_overridden_and_clears_fail_at() {
        let base = SimSettings {
            fail_at: Some(3),
            latency_ms: 9,
            ..SimSettings::default()
        };
        let s = parse_fault_overrides(&base, "fail_at=none").unwrap();
        assert_eq!(s.fail_at, None);
        assert_eq!(s.latency_ms, 9);
        assert_eq!(parse_fault_overrides(&base, "").unwrap(), base);
    }

    #[test]
    fn rejects_bad_input_with_clear_messages() {
        let base = SimSettings::default();
        let err = parse_fault_overrides(&base, "throttle=0.3").unwrap_err();
        assert!(err.contains("unknown key `throttle`"), "{err}");
        assert!(err.contains("throttle_rate"), "{err}");
        let err = parse_fault_overrides(&base, "throttle_rate=1.5").unwrap_err();
        assert!(
            err.contains("between 0 and 1") && err.contains("1.5"),
            "{err}"
        );
        let err = parse_fault_overrides(&base, "throttle_rate=lots").unwrap_err();
        assert!(err.contains("lots"), "{err}");
        let err = parse_fault_overrides(&base, "fail_at=0").unwrap_err();
        assert!(err.contains(">= 1"), "{err}");
        let err = parse_fault_overrides(&base, "fail_after_effect=yes").unwrap_err();
        assert!(err.contains("`true` or `false`"), "{err}");
        let err = parse_fault_overrides(&base, "latency_ms=-1").unwrap_err();
        assert!(err.contains("latency_ms"), "{err}");
        let err = parse_fault_overrides(&base, "seed").unwrap_err();
        assert!(err.contains("key=value"), "{err}");
    }

    #[test]
    fn parses_control_tower_keys() {
        let spec = "fail_control=AWS-GR_A, fail_control=arn:aws:controltower:us-east-1::control/AWS-GR_B,\
                    control_operation_polls=3,fail_at=2";
        let g = parse_governance_faults(spec).unwrap();
        assert_eq!(g.control_operation_polls, Some(3));
        assert_eq!(
            g.fail_controls
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["AWS-GR_A", "AWS-GR_B"]
        );
        let s = parse_fault_overrides(&SimSettings::default(), spec).unwrap();
        assert_eq!(s.fail_at, Some(2));
        assert_eq!(
            parse_governance_faults("").unwrap(),
            GovernanceFaults::default()
        );
        let err = parse_fault_overrides(&SimSettings::default(), "fail_control=").unwrap_err();
        assert!(err.contains("fail_control"), "{err}");
        let err = parse_governance_faults("control_operation_polls=-1").unwrap_err();
        assert!(err.contains("control_operation_polls"), "{err}");
        let err = parse_governance_faults("fail_contrl=X").unwrap_err();
        assert!(err.contains("fail_control"), "{err}");
    }

    #[test]
    fn fail_at_fires_once_on_the_nth_call() {
        let faults = Faults::new(SimSettings {
            fail_at: Some(3),
            ..SimSettings::default()
        });
        let got: Vec<_> = (0..6).map(|_| faults.on_mutating_call()).collect();
        assert_eq!(
            got,
            vec![
                Injection::None,
                Injection::None,
                Injection::FailBefore(3),
                Injection::None,
                Injection::None,
                Injection::None
            ]
        );
    }

    #[test]
    fn throttle_is_deterministic_for_a_seed() {
        let settings = SimSettings {
            throttle_rate: 0.5,
            seed: 11,
            ..SimSettings::default()
        };
        let a = Faults::new(settings.clone());
        let b = Faults::new(settings);
        let xs: Vec<bool> = (0..100).map(|_| a.throttled()).collect();
        let ys: Vec<bool> = (0..100).map(|_| b.throttled()).collect();
        assert_eq!(xs, ys);
    }
}
