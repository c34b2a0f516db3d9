//! Streaming recorders: HDR histograms of end-to-end latency, outcome counters by cause, and
//! per-window time series. Nothing is stored per request after it ends: a request's latency goes
//! into a histogram and its outcome into a counter, and that is all that remains of it.

use crate::engine::time::Time;
use crate::model::request::Outcome;
use hdrhistogram::Histogram;

/// Lowest latency the histograms tell apart: 1 µs (values are nanoseconds).
pub const HIST_LOW: u64 = 1_000;
/// Highest latency recorded exactly: 24 h. Longer ones saturate to it.
pub const HIST_HIGH: u64 = 24 * 3_600 * 1_000_000_000;
/// Significant decimal digits kept: 3 (a recorded value is within 0.1 % of the truth).
pub const HIST_SIGFIG: u8 = 3;

/// A fresh latency histogram with the project's bounds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(HIST_LOW, HIST_HIGH, HIST_SIGFIG).expect("static bounds are valid")
}

/// Significant digits of the per-window histogram: 2 (within 1 %, plenty for a chart point). It
/// is cleared and read at every window's end, and at 2 digits it is an eighth of the size.
pub const WINDOW_SIGFIG: u8 = 2;

/// An empty histogram of the per-window precision ([`WINDOW_SIGFIG`]).
pub fn new_window_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(HIST_LOW, HIST_HIGH, WINDOW_SIGFIG).expect("static bounds are valid")
}

/// Gauges sampled from the model at the end of each window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gauges {
    /// Users active in the load curve (closed loop).
    pub users: u64,
    /// Requests inside servers (in service + queued).
    pub in_system: u64,
    /// Requests waiting in accept backlogs.
    pub backlog: u64,
    /// Mean CPU utilization over the window across running servers, 0..1.
    pub utilization: f64,
    /// Instances running (up or booting), all fleets.
    pub instances: u32,
    /// Instances able to serve.
    pub healthy: u32,
    /// Dollars spent so far.
    pub cost: f64,
    /// Gauges components declared beyond these ([`crate::model::kit::GaugeDecl`]), in component
    /// order (empty when no component declares any).
    pub extra: Vec<f64>,
    /// CPU utilization of each tier (a server, or a fleet's instances together) over the
    /// window, 0..1, NaN when it had no vCPUs running; in [`crate::run::RunOutput::tiers`]'s
    /// order. Charted, not written to timeseries.csv.
    pub tiers: Vec<f64>,
    /// Each tier's servers' request counts over the window (all tiers, by tier index like
    /// `tiers`; zero for tiers without servers). Not written to timeseries.csv.
    pub flows: Vec<crate::model::kit::TierFlow>,
}

/// One row of the time series: a window of simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowRow {
    /// Window start.
    pub start: Time,
    /// Window end.
    pub end: Time,
    /// Requests that ended in the window, by outcome.
    pub outcomes: [u64; Outcome::COUNT],
    /// Latency percentiles of successful requests ending in the window, ms (NaN if none), to
    /// two significant digits.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Mean latency of successful requests, ms.
    pub mean_ms: f64,
    /// Retries sent in the window.
    pub retries: u64,
    /// Attempts sent in the window, first tries and retries: the load the users offered (not in
    /// timeseries.csv, whose `retries` and outcome columns give it approximately: requests ended
    /// plus retries).
    pub attempts: u64,
    /// Retries the retry budget did not allow in the window.
    pub suppressed: u64,
    /// Gauges at the window's end.
    pub gauges: Gauges,
}

impl WindowRow {
    /// Requests that ended in the window.
    pub fn total(&self) -> u64 {
        self.outcomes.iter().sum()
    }
    /// Failed requests in the window.
    pub fn errors(&self) -> u64 {
        self.total() - self.outcomes[Outcome::Ok.index()]
    }
}

/// Totals for one request class after warm-up.
#[derive(Clone, Debug)]
pub struct ClassStats {
    /// Class name from the mix.
    pub name: String,
    /// Ended requests by outcome.
    pub outcomes: [u64; Outcome::COUNT],
    /// Latency of successful requests (ns).
    pub latency: Histogram<u64>,
    /// Exact sum of successful latencies (ns), for the mean.
    pub latency_sum: u128,
}

/// All streaming recorders of one run.
pub struct Metrics {
    /// Statistics count only what ends at or after this time.
    pub warmup: Time,
    /// Per-class totals after warm-up.
    pub classes: Vec<ClassStats>,
    /// Logical requests started over the whole run.
    pub started: u64,
    /// Logical requests ended over the whole run.
    pub ended: u64,
    /// Attempts sent after warm-up (first tries + retries).
    pub attempts: u64,
    /// Retries sent after warm-up.
    pub retries: u64,
    /// Retries the retry budget did not allow, after warm-up.
    pub retries_suppressed: u64,
    /// Pages reloaded by impatient users after warm-up (attempts, not retries).
    pub refreshes: u64,
    /// Window length of the time series.
    pub window: Time,
    /// Completed windows.
    pub series: Vec<WindowRow>,
    win_start: Time,
    win_outcomes: [u64; Outcome::COUNT],
    win_hist: Histogram<u64>,
    win_sum: u128,
    win_retries: u64,
    win_attempts: u64,
    win_suppressed: u64,
    /// One recorder per SLO objective, in the scenario's order.
    pub slo: Vec<SloRecorder>,
    /// Requests counted apart by whether a scheduled job was running when they ended (only in
    /// scenarios with a job).
    pub job_split: Option<Box<JobSplit>>,
    /// Every window's latency histogram, kept when the run asks for them (the journey, which
    /// measures from a truncation point it finds after the run); `None` otherwise.
    pub window_histograms: Option<Vec<Histogram<u64>>>,
    /// Sampled request spans, when the run records them ([`crate::model::span`]); `None`
    /// otherwise.
    pub tracer: Option<Box<crate::model::span::Tracer>>,
}

/// Requests after warm-up, split by whether a scheduled job's run was going when they ended
/// ([`crate::model::job`]): what lets the report compare live latency during the job with the
/// rest of the run.
#[derive(Clone, Debug)]
pub struct JobSplit {
    /// Runs going now.
    pub running: u32,
    /// Requests ending while a run was going.
    pub during: SplitStats,
    /// Requests ending while none was.
    pub outside: SplitStats,
    /// Simulated time (after warm-up) with a run going, ns, up to the last change.
    pub during_ns: Time,
    /// When `running` last changed.
    since: Time,
}

/// One side of a [`JobSplit`].
#[derive(Clone, Debug)]
pub struct SplitStats {
    /// Ended requests by outcome.
    pub outcomes: [u64; Outcome::COUNT],
    /// Latency of successful requests (ns).
    pub latency: Histogram<u64>,
}

impl SplitStats {
    fn new() -> Self {
        Self {
            outcomes: [0; Outcome::COUNT],
            latency: new_histogram(),
        }
    }

    /// Requests that ended.
    pub fn total(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Share that failed (0 when none ended).
    pub fn error_rate(&self) -> f64 {
        Outcome::failed_share(&self.outcomes)
    }

    /// Latency quantile of the successful ones, ms (`None` when none succeeded).
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        (!self.latency.is_empty()).then(|| self.latency.value_at_quantile(q) as f64 / 1e6)
    }
}

impl JobSplit {
    /// Nothing counted yet.
    pub fn new() -> Self {
        Self {
            running: 0,
            during: SplitStats::new(),
            outside: SplitStats::new(),
            during_ns: 0,
            since: 0,
        }
    }

    fn change(&mut self, now: Time, warmup: Time, up: bool) {
        if self.running > 0 {
            let from = self.since.max(warmup);
            self.during_ns += now.saturating_sub(from);
        }
        self.since = now;
        if up {
            self.running += 1;
        } else {
            self.running = self.running.saturating_sub(1);
        }
    }

    /// Time with a run going after warm-up, up to `now`.
    pub fn during_until(&self, now: Time, warmup: Time) -> Time {
        let open = if self.running > 0 {
            now.saturating_sub(self.since.max(warmup))
        } else {
            0
        };
        self.during_ns + open
    }
}

impl Default for JobSplit {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Recorders for the given classes.
    pub fn new(class_names: &[String], warmup: Time, window: Time) -> Self {
        Self {
            warmup,
            classes: class_names
                .iter()
                .map(|n| ClassStats {
                    name: n.clone(),
                    outcomes: [0; Outcome::COUNT],
                    latency: new_histogram(),
                    latency_sum: 0,
                })
                .collect(),
            started: 0,
            ended: 0,
            attempts: 0,
            retries: 0,
            retries_suppressed: 0,
            refreshes: 0,
            window,
            series: Vec::new(),
            win_start: 0,
            win_outcomes: [0; Outcome::COUNT],
            win_hist: new_window_histogram(),
            win_sum: 0,
            win_retries: 0,
            win_attempts: 0,
            win_suppressed: 0,
            slo: Vec::new(),
            job_split: None,
            window_histograms: None,
            tracer: None,
        }
    }

    /// A scheduled job's run started at `now` (no-op unless the scenario has a job).
    pub fn job_started_at(&mut self, now: Time) {
        let warmup = self.warmup;
        if let Some(j) = self.job_split.as_deref_mut() {
            j.change(now, warmup, true);
        }
    }

    /// A scheduled job's run ended at `now`.
    pub fn job_ended_at(&mut self, now: Time) {
        let warmup = self.warmup;
        if let Some(j) = self.job_split.as_deref_mut() {
            j.change(now, warmup, false);
        }
    }

    /// A logical request (a user's action) started.
    #[inline]
    pub fn request_started(&mut self) {
        self.started += 1;
    }

    /// An attempt was sent (`retry` when it is not the first).
    #[inline]
    pub fn attempt_sent(&mut self, now: Time, retry: bool) {
        self.win_attempts += 1;
        if retry {
            self.win_retries += 1;
        }
        if now >= self.warmup {
            self.attempts += 1;
            if retry {
                self.retries += 1;
            }
        }
    }

    /// An impatient user reloaded a page (the reload's attempt is counted by `attempt_sent`).
    #[inline]
    pub fn refreshed(&mut self, now: Time) {
        if now >= self.warmup {
            self.refreshes += 1;
        }
    }

    /// A retry was wanted but the retry budget had no token for it.
    #[inline]
    pub fn retry_suppressed(&mut self, now: Time) {
        self.win_suppressed += 1;
        if now >= self.warmup {
            self.retries_suppressed += 1;
        }
    }

    /// A logical request ended with `outcome` after `latency` (first try sent → final answer).
    #[inline]
    pub fn request_ended(&mut self, now: Time, class: u16, outcome: Outcome, latency: Time) {
        self.ended += 1;
        self.win_outcomes[outcome.index()] += 1;
        let ok = outcome == Outcome::Ok;
        if ok {
            self.win_hist.saturating_record(latency.max(HIST_LOW));
            self.win_sum += u128::from(latency);
        }
        if now >= self.warmup {
            for r in &mut self.slo {
                r.record(now, class, ok, latency);
            }
            let c = &mut self.classes[class as usize];
            c.outcomes[outcome.index()] += 1;
            if ok {
                c.latency.saturating_record(latency.max(HIST_LOW));
                c.latency_sum += u128::from(latency);
            }
            if let Some(j) = self.job_split.as_deref_mut() {
                let side = if j.running > 0 {
                    &mut j.during
                } else {
                    &mut j.outside
                };
                side.outcomes[outcome.index()] += 1;
                if ok {
                    side.latency.saturating_record(latency.max(HIST_LOW));
                }
            }
        }
    }

    /// Closes the current window at `end` with the model's gauges.
    pub fn close_window(&mut self, end: Time, gauges: Gauges) {
        let ok = self.win_outcomes[Outcome::Ok.index()];
        let q = |h: &Histogram<u64>, p: f64| {
            if ok == 0 {
                f64::NAN
            } else {
                h.value_at_quantile(p) as f64 / 1e6
            }
        };
        let row = WindowRow {
            start: self.win_start,
            end,
            outcomes: self.win_outcomes,
            p50_ms: q(&self.win_hist, 0.50),
            p90_ms: q(&self.win_hist, 0.90),
            p99_ms: q(&self.win_hist, 0.99),
            p999_ms: q(&self.win_hist, 0.999),
            mean_ms: if ok == 0 {
                f64::NAN
            } else {
                self.win_sum as f64 / ok as f64 / 1e6
            },
            retries: self.win_retries,
            attempts: self.win_attempts,
            suppressed: self.win_suppressed,
            gauges,
        };
        self.series.push(row);
        if let Some(kept) = &mut self.window_histograms {
            kept.push(self.win_hist.clone());
        }
        self.win_start = end;
        self.win_outcomes = [0; Outcome::COUNT];
        self.win_hist.reset();
        self.win_sum = 0;
        self.win_retries = 0;
        self.win_attempts = 0;
        self.win_suppressed = 0;
    }

    /// Outcome totals over all classes after warm-up.
    pub fn outcome_totals(&self) -> [u64; Outcome::COUNT] {
        let mut t = [0; Outcome::COUNT];
        for c in &self.classes {
            for (i, v) in c.outcomes.iter().enumerate() {
                t[i] += v;
            }
        }
        t
    }

    /// Latency of successful requests over all classes after warm-up, and the exact sum.
    pub fn overall_latency(&self) -> (Histogram<u64>, u128) {
        let mut h = new_histogram();
        let mut sum = 0;
        for c in &self.classes {
            h.add(&c.latency).expect("same bounds");
            sum += c.latency_sum;
        }
        (h, sum)
    }
}

/// Picks a window length giving about `target` points over `duration`, rounded to a round value.
pub fn auto_window(duration: Time, target: u64) -> Time {
    use crate::engine::time::{MIN, SEC};
    const NICE: [Time; 14] = [
        SEC,
        2 * SEC,
        5 * SEC,
        10 * SEC,
        15 * SEC,
        30 * SEC,
        MIN,
        2 * MIN,
        5 * MIN,
        10 * MIN,
        15 * MIN,
        30 * MIN,
        60 * MIN,
        120 * MIN,
    ];
    let raw = duration / target.max(1);
    NICE.iter()
        .copied()
        .find(|&w| w >= raw)
        .unwrap_or(NICE[NICE.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{HOUR, MIN, MS, SEC};

    #[test]
    fn counts_after_warmup_only_but_windows_always() {
        let mut m = Metrics::new(&["a".into(), "b".into()], 10 * SEC, SEC);
        m.request_ended(5 * SEC, 0, Outcome::Ok, 10 * MS);
        m.request_ended(11 * SEC, 1, Outcome::Timeout, 10 * SEC);
        m.request_ended(12 * SEC, 0, Outcome::Ok, 30 * MS);
        assert_eq!(m.ended, 3);
        assert_eq!(m.outcome_totals()[Outcome::Ok.index()], 1);
        assert_eq!(m.outcome_totals()[Outcome::Timeout.index()], 1);
        let (h, sum) = m.overall_latency();
        assert_eq!(h.len(), 1);
        assert_eq!(sum, 30 * MS as u128);
        m.close_window(SEC, Gauges::default());
        let row = &m.series[0];
        assert_eq!(row.total(), 3);
        assert_eq!(row.errors(), 1);
        assert!((row.mean_ms - 20.0).abs() < 1e-9);
    }

    #[test]
    fn auto_window_is_round() {
        assert_eq!(auto_window(2 * HOUR, 240), 30 * SEC);
        assert_eq!(auto_window(10 * MIN, 240), 5 * SEC);
        assert_eq!(auto_window(SEC, 240), SEC);
    }
}

/// A window's (or the whole run's) figures for one objective.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Window start (ns).
    pub start: Time,
    /// Successful requests.
    pub ok: u64,
    /// Ended requests.
    pub total: u64,
    /// The quantile this recorder tracks, and its value in ms (NaN if no successes).
    pub q: (f64, f64),
    /// Mean latency of successes, ms.
    pub mean: f64,
    /// Largest latency, ms.
    pub max: f64,
}

impl Summary {
    /// The tracked quantile's value (the recorder tracks one quantile; `1.0` asks for the max).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if q >= 1.0 {
            self.max
        } else {
            self.q.1
        }
    }
    /// Mean latency, ms.
    pub fn mean_ms(&self) -> f64 {
        self.mean
    }
}

/// Streams what one SLO objective needs: the whole measured period, and fixed-length windows
/// after warm-up (the objective's `every`, or ten batches for noise estimates).
pub struct SloRecorder {
    class: Option<u16>,
    quantile: f64,
    window: Time,
    next_end: Time,
    hist: Histogram<u64>,
    win: Histogram<u64>,
    counts: (u64, u64, u128),
    win_counts: (u64, u64, u128),
    /// The whole measured period (filled by `finish`).
    pub whole: Summary,
    /// Every full window `every` long (windowed objectives).
    pub windows: Vec<Summary>,
    /// Ten equal batches of the measured period (whole-run objectives).
    pub batches: Vec<Summary>,
    batch_mode: bool,
}

impl SloRecorder {
    /// A recorder for a class filter and quantile; `every` = Some(window) for windowed objectives,
    /// None for whole-run ones (which get ten batches over `warmup..duration`).
    pub fn new(
        class: Option<u16>,
        quantile: f64,
        every: Option<Time>,
        warmup: Time,
        duration: Time,
    ) -> Self {
        let batch_mode = every.is_none();
        let window = every.unwrap_or(((duration - warmup) / 10).max(1));
        Self {
            class,
            quantile,
            window,
            next_end: warmup + window,
            hist: new_histogram(),
            win: new_histogram(),
            counts: (0, 0, 0),
            win_counts: (0, 0, 0),
            whole: Summary {
                start: warmup,
                ok: 0,
                total: 0,
                q: (quantile, f64::NAN),
                mean: f64::NAN,
                max: f64::NAN,
            },
            windows: Vec::new(),
            batches: Vec::new(),
            batch_mode,
        }
    }

    fn summarize(&self, start: Time, h: &Histogram<u64>, c: (u64, u64, u128)) -> Summary {
        let (ok, total, sum) = c;
        let has = ok > 0;
        Summary {
            start,
            ok,
            total,
            q: (
                self.quantile,
                if has {
                    h.value_at_quantile(self.quantile) as f64 / 1e6
                } else {
                    f64::NAN
                },
            ),
            mean: if has {
                sum as f64 / ok as f64 / 1e6
            } else {
                f64::NAN
            },
            max: if has { h.max() as f64 / 1e6 } else { f64::NAN },
        }
    }

    fn roll(&mut self, now: Time) {
        while now >= self.next_end {
            let s = self.summarize(self.next_end - self.window, &self.win, self.win_counts);
            if self.batch_mode {
                self.batches.push(s);
            } else {
                self.windows.push(s);
            }
            self.win.reset();
            self.win_counts = (0, 0, 0);
            self.next_end += self.window;
        }
    }

    /// Records a request that ended after warm-up.
    #[inline]
    pub fn record(&mut self, now: Time, class: u16, ok: bool, latency: Time) {
        if self.class.is_some_and(|c| c != class) {
            return;
        }
        self.roll(now);
        self.counts.1 += 1;
        self.win_counts.1 += 1;
        if ok {
            let v = latency.max(HIST_LOW);
            self.hist.saturating_record(v);
            self.win.saturating_record(v);
            self.counts.0 += 1;
            self.win_counts.0 += 1;
            self.counts.2 += u128::from(latency);
            self.win_counts.2 += u128::from(latency);
        }
    }

    /// Closes the windows that ended by `end` and computes the whole-period summary.
    pub fn finish(&mut self, end: Time, warmup: Time) {
        self.roll(end);
        self.whole = self.summarize(warmup, &self.hist, self.counts);
    }
}
