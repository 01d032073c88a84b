//! Apply progress: an indicatif bar on a terminal, plain lines otherwise (CI logs).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use landfall_core::plan::Change;
use landfall_engine::apply::{ApplyError, Progress};
use landfall_engine::provider::ProviderError;

pub struct ApplyProgress {
    bar: Option<ProgressBar>,
    total: usize,
    done: AtomicUsize,
}

impl ApplyProgress {
    pub fn new(total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{pos}/{len}] {wide_msg} {elapsed}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ApplyProgress {
            bar,
            total,
            done: AtomicUsize::new(0),
        }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for ApplyProgress {
    fn started(&self, change: &Change) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} {}", change.action.verb(), change.address));
        }
    }

    fn retrying(&self, change: &Change, error: &ProviderError, delay: Duration) {
        tracing::info!(
            "{}: {} — retrying in {}ms",
            change.address,
            error.kind.code(),
            delay.as_millis()
        );
    }

    fn finished(&self, change: &Change) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        self.line(format!(
            "[{n}/{}] {} {} {}: done",
            self.total,
            change.action.symbol(),
            change.action.verb(),
            change.address
        ));
    }

    fn failed(&self, change: &Change, error: &ApplyError) {
        self.line(format!(
            "[--/{}] {} {} {}: FAILED: {error}",
            self.total,
            change.action.symbol(),
            change.action.verb(),
            change.address
        ));
    }
}
