//! Client-side pacing: one rate limiter per API class and scope (Organizations reads
//! for the organization, EC2 writes in one account and Region, …), shared by every
//! call a backend makes — the executor's writes and the backend's own reads.
//!
//! Most AWS APIs publish no rate, and the ones that do throttle per account and Region
//! with a token bucket whose size nobody can see from outside. So, like the AWS SDKs'
//! *adaptive* retry mode, each limiter starts fast and learns the rate from throttling
//! errors, instead of pacing every call to a fixed guess:
//!
//! - **slow start**: until the first throttling error it admits `initial` calls per
//!   second, with a first second's worth in hand, doubling the rate every half second of
//!   successes (a server that never throttles — moto, a quiet account — is never
//!   waited on for long);
//! - **on throttling**: out of slow start the rate halves; after that it drops to what
//!   the service actually let through since the previous cut (which, once its bucket is
//!   empty, *is* its refill rate) — at most 90 % of the current rate — and further
//!   throttling errors within a second (calls sent before the drop) are not counted
//!   again;
//! - **recovery**: after a one-second hold the rate grows as `r·e^(a·t²)`: within a few
//!   percent of the learned rate for the first seconds (so a service at its limit sees
//!   few throttled calls), then fast (so a limiter that backed off for a burst of
//!   throttling is back to full speed within half a minute once it stops);
//! - **noise**: three cuts in a row at a throttled share of 15 % or more mean the
//!   throttling is not the rate's doing (a service refusing a share of calls whatever
//!   the rate, another client on the same quota): the cuts are undone and that share is
//!   learnt, so throttling up to it (plus ten points) no longer cuts — instead of the
//!   rate sinking to the floor. The noise is forgotten once the share halves;
//! - a **cap** (`LANDFALL_AWS_RATE`) bounds every rate; a **fixed** limiter (for the
//!   rates AWS documents as hard, e.g. KMS `CreateKey`, 5 per second per account and
//!   Region) never adapts.
//!
//! The SDK's own `ClientRateLimiter` (aws-smithy-runtime) implements the CUBIC variant
//! of this, but it cannot be used here: its acquire and update functions are private to
//! the SDK's retry strategy (which Landfall replaces with its own, so it can tell
//! "already done" errors and count calls), it reads the system clock (the benchmarks
//! run on a virtual one), and it would not pace the sim backend. CUBIC's fixed 30 %
//! cut also costs about 15 % of a throttled service's throughput; setting the rate to
//! the measured admitted rate does not.
//!
//! Everything here uses `tokio::time`, so under a paused runtime (`landfall bench
//! apply`) the limiters run on the virtual clock. Pure bookkeeping; no I/O.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::provider::{ApiLimits, ErrorKind, ProviderResult};

/// What a limiter paces: a service and whether the calls read or change something.
/// AWS throttles each separately (EC2 documents separate buckets for mutating and
/// non-mutating actions; Organizations and KMS quota each API family).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiClass {
    /// Organizations reads (`List*`, `Describe*`), for the whole organization.
    OrganizationsReads,
    /// Organizations changes (and Account Management's `PutAccountName`).
    OrganizationsWrites,
    /// EC2 reads in one member account and Region.
    Ec2Reads,
    /// EC2 changes in one member account and Region.
    Ec2Writes,
    /// KMS reads in one member account and Region.
    KmsReads,
    /// KMS changes in one member account and Region.
    KmsWrites,
    /// Control Tower reads and operation polls (home Region).
    ControlTowerReads,
    /// Control Tower operations started (home Region).
    ControlTowerWrites,
    /// Service Catalog reads and record polls (home Region).
    ServiceCatalogReads,
    /// Service Catalog changes other than portfolio shares (home Region).
    ServiceCatalogWrites,
    /// `CreatePortfolioShare` / `DeletePortfolioShare`.
    PortfolioShares,
    /// STS `GetCallerIdentity` (the SDK's credential providers make `AssumeRole`).
    Sts,
    /// IAM Identity Center's SSO Admin and Identity Store APIs, reads and writes
    /// together (the instance's region).
    IdentityCenter,
    /// IAM reads of AWS-managed policy documents (`GetPolicy`, `GetPolicyVersion`).
    IamReads,
    /// S3 bucket configuration calls, reads and writes, in one account (and the
    /// bucket's Region).
    S3,
    /// CloudTrail, reads and writes, in one account and Region.
    CloudTrail,
    /// IAM role changes and reads (the Config aggregator's role) in one account.
    Iam,
    /// AWS Config, reads and writes, in one account and Region.
    Config,
    /// IAM Access Analyzer, reads and writes, in one account and Region.
    AccessAnalyzer,
    /// GuardDuty's organization admin calls, in the management account and a Region.
    GuardDuty,
    /// Security Hub's organization admin calls, in the management account and a
    /// Region.
    SecurityHub,
}

impl ApiClass {
    pub const ALL: [ApiClass; 21] = [
        ApiClass::OrganizationsReads,
        ApiClass::OrganizationsWrites,
        ApiClass::Ec2Reads,
        ApiClass::Ec2Writes,
        ApiClass::KmsReads,
        ApiClass::KmsWrites,
        ApiClass::ControlTowerReads,
        ApiClass::ControlTowerWrites,
        ApiClass::ServiceCatalogReads,
        ApiClass::ServiceCatalogWrites,
        ApiClass::PortfolioShares,
        ApiClass::Sts,
        ApiClass::IdentityCenter,
        ApiClass::IamReads,
        ApiClass::S3,
        ApiClass::CloudTrail,
        ApiClass::Iam,
        ApiClass::Config,
        ApiClass::AccessAnalyzer,
        ApiClass::GuardDuty,
        ApiClass::SecurityHub,
    ];

    /// The name `LANDFALL_AWS_RATE` and `-v` use.
    pub fn name(self) -> &'static str {
        match self {
            ApiClass::OrganizationsReads => "organizations_reads",
            ApiClass::OrganizationsWrites => "organizations_writes",
            ApiClass::Ec2Reads => "ec2_reads",
            ApiClass::Ec2Writes => "ec2_writes",
            ApiClass::KmsReads => "kms_reads",
            ApiClass::KmsWrites => "kms_writes",
            ApiClass::ControlTowerReads => "controltower_reads",
            ApiClass::ControlTowerWrites => "controltower_writes",
            ApiClass::ServiceCatalogReads => "servicecatalog_reads",
            ApiClass::ServiceCatalogWrites => "servicecatalog_writes",
            ApiClass::PortfolioShares => "portfolio_shares",
            ApiClass::Sts => "sts",
            ApiClass::IdentityCenter => "identity_center",
            ApiClass::IamReads => "iam_reads",
            ApiClass::S3 => "s3",
            ApiClass::CloudTrail => "cloudtrail",
            ApiClass::Iam => "iam",
            ApiClass::Config => "config",
            ApiClass::AccessAnalyzer => "access_analyzer",
            ApiClass::GuardDuty => "guardduty",
            ApiClass::SecurityHub => "securityhub",
        }
    }
}

impl fmt::Display for ApiClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One limiter's identity: its class and, for per-account classes, the member account
/// and Region.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PaceKey {
    pub class: ApiClass,
    /// `(account id, Region)` for EC2 and KMS; `None` otherwise.
    pub scope: Option<(String, String)>,
}

impl PaceKey {
    /// A limiter for the whole organization (or home Region).
    pub fn global(class: ApiClass) -> Self {
        PaceKey { class, scope: None }
    }

    /// A limiter for one member account and Region.
    pub fn member(class: ApiClass, account_id: &str, region: &str) -> Self {
        PaceKey {
            class,
            scope: Some((account_id.to_string(), region.to_string())),
        }
    }
}

impl fmt::Display for PaceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scope {
            Some((account, region)) => write!(f, "{} {account}/{region}", self.class),
            None => write!(f, "{}", self.class),
        }
    }
}

/// How one class is paced.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rate {
    /// Not paced at all (the sim without its AWS model: nothing to wait for).
    Unlimited,
    /// Adaptive, starting at `initial` calls per second, never above `cap`.
    Adaptive { initial: f64, cap: Option<f64> },
    /// A documented hard rate: never faster, never adapted.
    Fixed(f64),
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Unlimited => f.write_str("unlimited"),
            Rate::Adaptive { initial, cap: None } => write!(f, "adaptive from {initial}/s"),
            Rate::Adaptive {
                initial,
                cap: Some(cap),
            } => write!(f, "adaptive from {initial}/s, cap {cap}/s"),
            Rate::Fixed(rate) => write!(f, "fixed {rate}/s"),
        }
    }
}

/// The rate of every class (a backend's defaults, with `LANDFALL_AWS_RATE` applied).
#[derive(Clone, Debug, PartialEq)]
pub struct PacingSettings {
    rates: BTreeMap<ApiClass, Rate>,
}

impl PacingSettings {
    /// Every class unlimited: the sim without its AWS model, mocked clients.
    pub fn unlimited() -> Self {
        PacingSettings {
            rates: ApiClass::ALL
                .iter()
                .map(|&c| (c, Rate::Unlimited))
                .collect(),
        }
    }

    /// What Landfall assumes of AWS: adaptive everywhere, starting at rates a quiet
    /// account admits, except where AWS documents a hard rate.
    pub fn aws() -> Self {
        let adaptive = |initial: f64| Rate::Adaptive { initial, cap: None };
        let rates = ApiClass::ALL
            .iter()
            .map(|&class| {
                let rate = match class {
                    ApiClass::OrganizationsReads => adaptive(50.0),
                    ApiClass::OrganizationsWrites => adaptive(20.0),
                    ApiClass::Ec2Reads => adaptive(50.0),
                    // EC2 refills its mutating-action buckets at 5 per second per
                    // account and Region, after a burst of up to 200.
                    ApiClass::Ec2Writes => adaptive(20.0),
                    ApiClass::KmsReads => adaptive(50.0),
                    // KMS: CreateKey, CreateAlias, PutKeyPolicy, ScheduleKeyDeletion…
                    // each allow 5 requests per second per account and Region.
                    ApiClass::KmsWrites => Rate::Fixed(5.0),
                    ApiClass::ControlTowerReads => adaptive(20.0),
                    ApiClass::ControlTowerWrites => adaptive(5.0),
                    ApiClass::ServiceCatalogReads => adaptive(20.0),
                    ApiClass::ServiceCatalogWrites => adaptive(5.0),
                    // Service Catalog processes shares of a portfolio one at a time.
                    ApiClass::PortfolioShares => Rate::Fixed(1.0),
                    ApiClass::Sts => adaptive(20.0),
                    // "IAM Identity Center APIs have a collective throttle limit of
                    // 20 transactions per second" (Identity Center quotas page).
                    ApiClass::IdentityCenter => Rate::Fixed(20.0),
                    ApiClass::IamReads => adaptive(20.0),
                    // None of these documents a rate for the calls Landfall makes (a
                    // handful per run); start where a quiet account is admitted and
                    // adapt to what AWS answers.
                    ApiClass::S3 => adaptive(20.0),
                    ApiClass::CloudTrail => adaptive(5.0),
                    ApiClass::Iam => adaptive(10.0),
                    ApiClass::Config => adaptive(5.0),
                    ApiClass::AccessAnalyzer => adaptive(5.0),
                    ApiClass::GuardDuty => adaptive(5.0),
                    ApiClass::SecurityHub => adaptive(5.0),
                };
                (class, rate)
            })
            .collect();
        PacingSettings { rates }
    }

    pub fn rate(&self, class: ApiClass) -> Rate {
        self.rates.get(&class).copied().unwrap_or(Rate::Unlimited)
    }

    /// Caps a class at `per_second` (an adaptive class stays adaptive below it; an
    /// unlimited one becomes fixed at it; a fixed one takes the lower of the two).
    pub fn cap(&mut self, class: ApiClass, per_second: f64) {
        let per_second = per_second.max(MIN_RATE);
        let capped = match self.rate(class) {
            Rate::Unlimited => Rate::Fixed(per_second),
            Rate::Adaptive { initial, cap } => Rate::Adaptive {
                initial: initial.min(per_second),
                cap: Some(cap.map_or(per_second, |c| c.min(per_second))),
            },
            Rate::Fixed(rate) => Rate::Fixed(rate.min(per_second)),
        };
        self.rates.insert(class, capped);
    }

    /// Applies `LANDFALL_AWS_RATE`-style caps: `class=N` pairs, where class is an
    /// [`ApiClass::name`] or one of the short forms `reads` (Organizations reads),
    /// `writes` (Organizations writes) and `member_writes` (EC2 and KMS writes).
    pub fn with_caps(mut self, spec: &str) -> Result<Self, String> {
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not `class=N`"))?;
            let n: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite() && *n > 0.0)
                .ok_or_else(|| format!("`{part}`: the rate must be a positive number"))?;
            let classes: Vec<ApiClass> = match key.trim() {
                "reads" => vec![ApiClass::OrganizationsReads],
                "writes" => vec![ApiClass::OrganizationsWrites],
                "member_writes" => vec![ApiClass::Ec2Writes, ApiClass::KmsWrites],
                other => vec![
                    ApiClass::ALL
                        .into_iter()
                        .find(|c| c.name() == other)
                        .ok_or_else(|| format!("`{other}` is not an API class"))?,
                ],
            };
            for class in classes {
                self.cap(class, n);
            }
        }
        Ok(self)
    }

    /// The known class names, for error hints.
    pub fn class_names() -> String {
        let mut names = vec!["reads", "writes", "member_writes"];
        names.extend(ApiClass::ALL.iter().map(|c| c.name()));
        names.join(", ")
    }
}

/// Slow start doubles the rate this often while nothing is throttled.
const DOUBLING: Duration = Duration::from_millis(500);
/// The lowest rate an adaptive limiter goes down to.
const MIN_RATE: f64 = 0.5;
/// The window over which the admitted rate is measured when throttled.
const WINDOW: Duration = Duration::from_secs(2);
/// After a cut, throttling errors within this time belong to the same event.
const SAME_EVENT: Duration = Duration::from_secs(1);
/// After a cut, the rate holds this long before probing upwards.
const HOLD: Duration = Duration::from_secs(1);
/// Recovery: the rate after a cut grows as `e^(GROWTH·t²)`, `t` in seconds after the
/// hold — +4.6 % after 3 s, ×1.65 after 10 s, ×90 after 30 s.
const GROWTH: f64 = 0.005;
/// The largest cut on one throttling event.
const CUT: f64 = 0.9;
/// At its limit, a service throttles a few percent of the calls of a client that has
/// adapted to it; `NOISY_CUTS` cuts in a row at a throttled share of `NOISY_SHARE` or
/// more mean the throttling does not come from the rate (see `noise`).
const NOISY_SHARE: f64 = 0.15;
const NOISY_CUTS: u32 = 3;
/// Outcomes needed to measure a share.
const JUDGED_CALLS: usize = 20;
/// Throttling within this much above the noise is not the rate's doing.
const NOISE_MARGIN: f64 = 0.1;

/// One adaptive (or fixed) token bucket.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    /// Calls per second admitted now.
    current: f64,
    tokens: f64,
    last_refill: Instant,
    /// `None` while in slow start.
    last_cut: Option<Cut>,
    /// Start of the current slow-start doubling period.
    doubled_at: Instant,
    /// Recent outcomes (time, throttled) within [`WINDOW`]: the admitted rate and the
    /// throttled share.
    outcomes: VecDeque<(Instant, bool)>,
    /// Throttled outcomes among `outcomes`.
    throttled_in_window: usize,
    /// The throttled share that does not go away when the rate is cut (a service that
    /// refuses some calls whatever the rate, another client sharing the quota):
    /// throttling up to it (plus a margin) does not cut the rate again.
    noise: f64,
    /// Cuts in a row made at a throttled share of [`NOISY_SHARE`] or more, and the
    /// rate before the first of them.
    noisy_cuts: u32,
    rate_before_noisy: f64,
    first_call: Option<Instant>,
    stats: LimiterStats,
}

#[derive(Clone, Copy, Debug)]
struct Cut {
    at: Instant,
    rate: f64,
}

/// What one limiter did, for `-v` and benchmarks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LimiterStats {
    pub calls: u64,
    pub throttled: u64,
    /// Throttling events that cut the rate.
    pub cuts: u64,
    /// Total time calls waited for a token.
    pub waited: Duration,
    /// The rate admitted at the end (calls per second; infinite when unlimited).
    pub rate: f64,
}

impl Bucket {
    fn new(rate: Rate, now: Instant) -> Self {
        let current = match rate {
            Rate::Unlimited => f64::INFINITY,
            Rate::Adaptive { initial, cap } => cap.map_or(initial, |c| initial.min(c)),
            Rate::Fixed(r) => r,
        };
        // An adaptive limiter starts with a second's worth of calls in hand (a refresh
        // or a small plan goes out at once); a fixed one with its usual burst.
        let tokens = match rate {
            Rate::Adaptive { .. } => current,
            Rate::Unlimited | Rate::Fixed(_) => burst(current),
        };
        Bucket {
            rate,
            current,
            tokens,
            last_refill: now,
            last_cut: None,
            doubled_at: now,
            outcomes: VecDeque::new(),
            throttled_in_window: 0,
            noise: 0.0,
            noisy_cuts: 0,
            rate_before_noisy: current,
            first_call: None,
            stats: LimiterStats::default(),
        }
    }

    fn cap(&self) -> f64 {
        match self.rate {
            Rate::Adaptive { cap, .. } => cap.unwrap_or(f64::INFINITY),
            Rate::Unlimited => f64::INFINITY,
            Rate::Fixed(r) => r,
        }
    }

    /// Brings the adaptive rate up to `now` (slow start or recovery).
    fn adapt(&mut self, now: Instant) {
        if !matches!(self.rate, Rate::Adaptive { .. }) {
            return;
        }
        let rate = match self.last_cut {
            None => {
                // Slow start: double every half second of admitted calls, but no
                // further than the rate plus twice what is actually admitted (an
                // idle limiter does not grow without bound).
                let elapsed = now.saturating_duration_since(self.doubled_at);
                if elapsed >= DOUBLING && !self.outcomes.is_empty() {
                    self.doubled_at = now;
                    (self.current * 2.0).min(self.admitted_rate(now).max(1.0) * 2.0 + self.current)
                } else {
                    self.current
                }
            }
            Some(cut) => {
                let t = now.saturating_duration_since(cut.at + HOLD).as_secs_f64();
                cut.rate * (GROWTH * t * t).min(20.0).exp()
            }
        };
        self.current = rate.clamp(MIN_RATE, self.cap());
    }

    /// Calls admitted per second over the last [`WINDOW`].
    fn admitted_rate(&self, now: Instant) -> f64 {
        let span = self
            .first_call
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
            .min(WINDOW)
            .as_secs_f64();
        if span < 0.25 {
            return 0.0;
        }
        (self.outcomes.len() - self.throttled_in_window) as f64 / span
    }

    /// The throttled share of the outcomes in the window.
    fn share(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        self.throttled_in_window as f64 / self.outcomes.len() as f64
    }

    /// The throttled share among outcomes after `since`, when there are enough.
    fn share_since(&self, since: Instant) -> Option<f64> {
        let (n, throttled) = self.counts_since(since);
        (n >= JUDGED_CALLS).then(|| throttled as f64 / n as f64)
    }

    /// Outcomes, and throttled ones, after `since` (within the window).
    fn counts_since(&self, since: Instant) -> (usize, usize) {
        self.outcomes
            .iter()
            .rev()
            .take_while(|(t, _)| *t >= since)
            .fold((0, 0), |(n, k), (_, th)| (n + 1, k + usize::from(*th)))
    }

    fn forget_old(&mut self, now: Instant) {
        while let Some(&(t, throttled)) = self.outcomes.front() {
            if now.saturating_duration_since(t) > WINDOW {
                self.outcomes.pop_front();
                self.throttled_in_window -= usize::from(throttled);
            } else {
                break;
            }
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now
            .saturating_duration_since(self.last_refill)
            .as_secs_f64();
        // Refill up to the burst; what is in hand above it (the first second's) stays.
        let cap = burst(self.current);
        if self.tokens < cap {
            self.tokens = (self.tokens + elapsed * self.current).min(cap);
        }
        self.last_refill = now;
    }

    /// Takes a token, or says how long to wait for one.
    fn take(&mut self, now: Instant) -> Option<Duration> {
        if self.current.is_infinite() {
            return None;
        }
        self.adapt(now);
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64(
                ((1.0 - self.tokens) / self.current).max(0.001),
            ))
        }
    }

    fn record(&mut self, now: Instant, throttled: bool) {
        self.stats.calls += 1;
        self.first_call.get_or_insert(now);
        self.forget_old(now);
        self.outcomes.push_back((now, throttled));
        self.throttled_in_window += usize::from(throttled);
        if self.noise > 0.0
            && self.outcomes.len() >= JUDGED_CALLS
            && self.share() < self.noise / 2.0
        {
            // What looked like noise has stopped.
            self.noise = 0.0;
        }
        if !throttled {
            return;
        }
        self.stats.throttled += 1;
        if !matches!(self.rate, Rate::Adaptive { .. }) {
            return;
        }
        if self
            .last_cut
            .is_some_and(|cut| now.saturating_duration_since(cut.at) < SAME_EVENT)
        {
            return;
        }
        self.adapt(now);
        // The throttled share since the last cut took effect (the whole window before
        // any): what this rate gets.
        let share = self
            .last_cut
            .and_then(|cut| self.share_since(cut.at + SAME_EVENT))
            .unwrap_or_else(|| self.share());
        if share <= self.noise + NOISE_MARGIN && self.noise > 0.0 {
            return;
        }
        if share >= NOISY_SHARE {
            self.noisy_cuts += 1;
            if self.noisy_cuts == 1 {
                self.rate_before_noisy = self.current;
            }
            if self.noisy_cuts >= NOISY_CUTS {
                // Cut after cut, the service still refuses this share: it is not the
                // rate (a service that throttles some calls whatever the rate, or
                // another client sharing the quota). Undo those cuts, learn the share.
                self.noise = share;
                self.noisy_cuts = 0;
                let rate = self.rate_before_noisy.clamp(MIN_RATE, self.cap());
                self.current = rate;
                self.last_cut = Some(Cut { at: now, rate });
                return;
            }
        } else {
            self.noisy_cuts = 0;
        }
        // What the service admitted since the last cut took effect: its rate, once its
        // own bucket is empty. Out of slow start there is no such measure yet (what was
        // admitted includes the service's burst): halve.
        let before = self.current;
        let measured = match self.last_cut {
            Some(cut) => {
                // At least `SAME_EVENT` since the cut (earlier throttling was ignored).
                let span = now.saturating_duration_since(cut.at).min(WINDOW);
                let (n, throttled) = self.counts_since(now - span);
                (n - throttled) as f64 / span.as_secs_f64().max(0.5)
            }
            None => before * 0.5,
        };
        let admitted = measured;
        let rate = measured.min(before * CUT).clamp(MIN_RATE, self.cap());
        tracing::debug!(
            before,
            rate,
            admitted,
            share,
            "pacing: rate cut on throttling"
        );
        self.stats.cuts += 1;
        self.current = rate;
        self.tokens = self.tokens.min(burst(rate));
        self.last_cut = Some(Cut { at: now, rate });
    }
}

/// A bucket holds a quarter of a second's calls (at least one): enough for the calls
/// a change makes back to back, too few to drain a service's own bucket at once.
fn burst(rate: f64) -> f64 {
    (rate / 4.0).max(1.0)
}

/// One limiter: a bucket behind a lock, and a queue so that waiting calls go in order
/// (only the first in line sleeps for a token; the others wait their turn).
#[derive(Debug)]
struct Limiter {
    bucket: Mutex<Bucket>,
    queue: tokio::sync::Mutex<()>,
}

impl Limiter {
    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn acquire(&self) {
        if self.bucket().current.is_infinite() {
            return;
        }
        let started = Instant::now();
        let _turn = self.queue.lock().await;
        loop {
            let wait = self.bucket().take(Instant::now());
            match wait {
                None => break,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
        let waited = started.elapsed();
        self.bucket().stats.waited += waited;
    }
}

/// Every limiter of one backend, made on first use of their key.
#[derive(Debug)]
pub struct Pacer {
    settings: PacingSettings,
    limiters: Mutex<BTreeMap<PaceKey, Arc<Limiter>>>,
}

/// One limiter's report line.
#[derive(Clone, Debug, PartialEq)]
pub struct LimiterReport {
    pub key: PaceKey,
    pub rate: Rate,
    pub stats: LimiterStats,
}

impl fmt::Display for LimiterReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({}); {} calls, {} throttled",
            self.key,
            self.rate,
            self.now(),
            self.stats.calls,
            self.stats.throttled
        )?;
        if self.stats.cuts > 0 {
            write!(f, ", rate cut {} times", self.stats.cuts)?;
        }
        if !self.stats.waited.is_zero() {
            write!(f, ", {:.1} s waited", self.stats.waited.as_secs_f64())?;
        }
        Ok(())
    }
}

impl LimiterReport {
    fn now(&self) -> String {
        if self.stats.rate.is_infinite() {
            "not limited".into()
        } else {
            format!("now {:.1}/s", self.stats.rate)
        }
    }
}

impl Pacer {
    pub fn new(settings: PacingSettings) -> Self {
        Pacer {
            settings,
            limiters: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn settings(&self) -> &PacingSettings {
        &self.settings
    }

    fn limiter(&self, key: &PaceKey) -> Arc<Limiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = limiters.get(key) {
            return l.clone();
        }
        let limiter = Arc::new(Limiter {
            bucket: Mutex::new(Bucket::new(self.settings.rate(key.class), Instant::now())),
            queue: tokio::sync::Mutex::new(()),
        });
        limiters.insert(key.clone(), limiter.clone());
        limiter
    }

    /// One attempt of a call: waits for the key's turn, runs it, records how it ended
    /// (throttled or not; any other error counts as admitted — the service answered).
    pub async fn attempt<T, Fut>(&self, key: &PaceKey, call: Fut) -> ProviderResult<T>
    where
        Fut: Future<Output = ProviderResult<T>>,
    {
        let limiter = self.limiter(key);
        limiter.acquire().await;
        let result = call.await;
        let throttled = matches!(&result, Err(e) if is_throttling(&e.kind));
        limiter.bucket().record(Instant::now(), throttled);
        result
    }

    /// A read: paced by `key`, retried on throttling-class errors with the backend's
    /// backoff (each retry waits for its turn again).
    pub async fn read<T, F, Fut>(
        &self,
        key: &PaceKey,
        limits: &ApiLimits,
        f: F,
    ) -> ProviderResult<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ProviderResult<T>>,
    {
        crate::apply::retry_throttled(limits, || self.attempt(key, f())).await
    }

    /// Every limiter used so far, in key order.
    pub fn report(&self) -> Vec<LimiterReport> {
        let limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        limiters
            .iter()
            .map(|(key, l)| {
                let b = l.bucket();
                let mut stats = b.stats.clone();
                stats.rate = b.current;
                LimiterReport {
                    key: key.clone(),
                    rate: b.rate,
                    stats,
                }
            })
            .collect()
    }
}

/// The errors that mean "slow down" (not the other retryable ones: a concurrent
/// modification says nothing about the rate).
pub fn is_throttling(kind: &ErrorKind) -> bool {
    matches!(kind, ErrorKind::TooManyRequests | ErrorKind::Throttling)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adaptive(initial: f64) -> Bucket {
        Bucket::new(Rate::Adaptive { initial, cap: None }, Instant::now())
    }

    /// Runs `seconds` of calls against a server admitting `server` per second (its
    /// own token bucket of `server_burst`), sending as fast as the bucket allows;
    /// returns (admitted, throttled).
    fn against_server(b: &mut Bucket, server: f64, server_burst: f64, seconds: f64) -> (u64, u64) {
        let start = Instant::now();
        let mut now = start;
        let mut server_tokens = server_burst;
        let mut last = now;
        let (mut ok, mut throttled) = (0, 0);
        while now.saturating_duration_since(start).as_secs_f64() < seconds {
            match b.take(now) {
                Some(wait) => now += wait,
                None => {
                    let dt = now.saturating_duration_since(last).as_secs_f64();
                    server_tokens = (server_tokens + dt * server).min(server_burst);
                    last = now;
                    let admitted = server_tokens >= 1.0;
                    if admitted {
                        server_tokens -= 1.0;
                        ok += 1;
                    } else {
                        throttled += 1;
                    }
                    // The answer comes back 50 ms later.
                    b.record(now + Duration::from_millis(50), !admitted);
                }
            }
        }
        (ok, throttled)
    }

    #[test]
    fn a_server_that_never_throttles_is_reached_at_a_doubling_rate() {
        let mut b = adaptive(20.0);
        let (ok, throttled) = against_server(&mut b, 1e9, 1e9, 5.0);
        assert_eq!(throttled, 0);
        // 20 + 40 + 80 + 160 + 320 per second, roughly.
        assert!(ok > 400, "{ok}");
    }

    #[test]
    fn a_throttling_server_is_used_at_its_rate_with_few_throttled_calls() {
        let mut b = adaptive(20.0);
        let (ok, throttled) = against_server(&mut b, 10.0, 20.0, 120.0);
        let share = throttled as f64 / (ok + throttled) as f64;
        // The server admits at most 20 + 10·120 calls.
        assert!(ok as f64 >= 0.9 * 1220.0, "admitted {ok}");
        assert!(share < 0.05, "throttled share {share:.3}");
    }

    /// A server that refuses 30 % of calls whatever the rate (and never more than
    /// `server` per second): the limiter learns that cutting does not help.
    #[test]
    fn random_throttling_does_not_drive_the_rate_to_the_floor() {
        let mut b = adaptive(20.0);
        let start = Instant::now();
        let mut now = start;
        let mut refused = 0u64;
        let mut sent = 0u64;
        while now.saturating_duration_since(start) < Duration::from_secs(60) && sent < 20_000 {
            match b.take(now) {
                Some(wait) => now += wait,
                None => {
                    sent += 1;
                    // Every third-ish call refused, deterministically.
                    let throttled = sent % 10 < 3;
                    refused += u64::from(throttled);
                    b.record(now + Duration::from_millis(50), throttled);
                }
            }
        }
        assert!(b.current >= 10.0, "rate fell to {}", b.current);
        assert!(sent > 1000, "{sent} calls");
        assert!(refused * 10 >= sent * 2);
    }

    #[test]
    fn after_throttling_stops_the_rate_recovers() {
        let mut b = adaptive(20.0);
        against_server(&mut b, 2.0, 2.0, 10.0);
        assert!(b.current < 4.0, "{}", b.current);
        against_server(&mut b, 1e9, 1e9, 40.0);
        assert!(b.current > 100.0, "{}", b.current);
    }

    #[test]
    fn a_cap_bounds_the_rate_and_a_fixed_rate_never_adapts() {
        let mut capped = Bucket::new(
            Rate::Adaptive {
                initial: 20.0,
                cap: Some(30.0),
            },
            Instant::now(),
        );
        let (ok, _) = against_server(&mut capped, 1e9, 1e9, 10.0);
        // The first second's 20 in hand, then at most 30 per second.
        assert!(ok <= 20 + 30 * 10 + 10, "{ok}");
        let mut fixed = Bucket::new(Rate::Fixed(5.0), Instant::now());
        let (ok, throttled) = against_server(&mut fixed, 1.0, 1.0, 10.0);
        assert!(throttled > 0);
        assert!((fixed.current - 5.0).abs() < f64::EPSILON);
        assert!(ok <= 12, "{ok}");
    }

    #[test]
    fn caps_parse_by_class_and_short_name() {
        let s = PacingSettings::aws()
            .with_caps("reads=30, member_writes=3,controltower_writes=1")
            .unwrap();
        assert_eq!(
            s.rate(ApiClass::OrganizationsReads),
            Rate::Adaptive {
                initial: 30.0,
                cap: Some(30.0)
            }
        );
        assert_eq!(s.rate(ApiClass::KmsWrites), Rate::Fixed(3.0));
        assert!(PacingSettings::aws().with_caps("bogus=1").is_err());
        assert!(PacingSettings::aws().with_caps("reads=0").is_err());
        assert!(PacingSettings::aws().with_caps("reads").is_err());
        assert_eq!(
            PacingSettings::unlimited()
                .with_caps("writes=4")
                .unwrap()
                .rate(ApiClass::OrganizationsWrites),
            Rate::Fixed(4.0)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_calls_go_in_order_at_the_fixed_rate() {
        let mut settings = PacingSettings::unlimited();
        settings.cap(ApiClass::KmsWrites, 5.0);
        let pacer = Arc::new(Pacer::new(settings));
        let key = PaceKey::member(ApiClass::KmsWrites, "111111111111", "us-east-1");
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..21 {
            let (pacer, key) = (pacer.clone(), key.clone());
            tasks.spawn(async move { pacer.attempt(&key, async { Ok(()) }).await });
        }
        while let Some(r) = tasks.join_next().await {
            assert!(r.unwrap().is_ok());
        }
        // A burst of 1.25 tokens, then 5 per second: 20 more calls take 4 s.
        let took = start.elapsed().as_secs_f64();
        assert!((3.8..4.3).contains(&took), "{took}");
        let report = pacer.report();
        assert_eq!(report.len(), 1);
        assert_eq!(report[0].stats.calls, 21);
        assert!(
            report[0]
                .to_string()
                .starts_with("kms_writes 111111111111/us-east-1: fixed 5/s")
        );
    }
}
