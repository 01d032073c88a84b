//! `[sim]`: the simulated backend's fault injection and pacing, checked.

use landfall_core::model::{SimModel, SimSettings};

use crate::diagnostics::Diagnostic;
use crate::raw::RawSim;
use crate::sources::SourceId;
use crate::validator::Validator;

impl Validator<'_> {
    /// The settings, and `world` (the sim world's path) when given.
    pub(super) fn sim(
        &mut self,
        src: SourceId,
        raw: &RawSim,
    ) -> (SimSettings, Option<std::path::PathBuf>) {
        let throttle_rate = raw
            .throttle_rate
            .as_ref()
            .map(|t| *t.get_ref())
            .unwrap_or(0.0);
        if let Some(t) = &raw.throttle_rate
            && !(0.0..=1.0).contains(t.get_ref())
        {
            let loc = self.loc(src, t);
            self.push(
                Diagnostic::error(
                    "LF210",
                    format!("`throttle_rate` {} is not between 0 and 1", t.get_ref()),
                )
                .at(&loc, "a fraction of calls: 0.0 to 1.0")
                .help("e.g. `throttle_rate = 0.2` throttles one call in five"),
            );
        }
        if let Some(f) = &raw.fail_at
            && *f.get_ref() == 0
        {
            let loc = self.loc(src, f);
            self.push(
                Diagnostic::error("LF211", "`fail_at` counts from 1")
                    .at(&loc, "0 would never fail")
                    .help("`fail_at = 1` fails the first mutating call; remove `fail_at` to inject no failure"),
            );
        }
        if let Some(f) = &raw.fail_after_effect
            && *f.get_ref()
            && raw.fail_at.is_none()
        {
            let loc = self.loc(src, f);
            self.push(
                Diagnostic::warning(
                    "LF902",
                    "`fail_after_effect` has no effect without `fail_at`",
                )
                .at(&loc, "ignored")
                .help("set `fail_at = N` to choose the call that fails"),
            );
        }
        if let Some(w) = &raw.world
            && w.get_ref().trim().is_empty()
        {
            let loc = self.loc(src, w);
            self.push(
                Diagnostic::error("LF102", "`world` is empty")
                    .at(&loc, "no path")
                    .help("remove `world` to keep the sim world beside the state"),
            );
        }
        let model = match &raw.model {
            None => SimModel::default(),
            Some(m) => SimModel::parse(m.get_ref().trim()).unwrap_or_else(|| {
                let loc = self.loc(src, m);
                self.push(
                    Diagnostic::error("LF217", format!("unknown sim model `{}`", m.get_ref()))
                        .at(&loc, "not a model")
                        .help("`model = \"aws\"` times calls like AWS; `\"instant\"` (the default) answers at once"),
                );
                SimModel::default()
            }),
        };
        let world = raw
            .world
            .as_ref()
            .map(|w| w.get_ref().trim())
            .filter(|w| !w.is_empty())
            .map(std::path::PathBuf::from);
        let settings = SimSettings {
            latency_ms: raw.latency_ms.unwrap_or(0),
            throttle_rate,
            fail_at: raw.fail_at.as_ref().map(|f| *f.get_ref()),
            fail_after_effect: raw.fail_after_effect.as_ref().is_some_and(|f| *f.get_ref()),
            account_creation_polls: raw.account_creation_polls.unwrap_or(1),
            seed: raw.seed.unwrap_or(0),
            model,
        };
        (settings, world)
    }
}
