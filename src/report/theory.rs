//! Theory beside the simulation: for each CPU tier made of servers (a server, a fleet's
//! instances), the queueing prediction next to the simulated figure, and a verdict that says
//! whether they agree and, if not, why (docs/theory.md has the formulas and their sources).
//!
//! Pure functions of the checked [`Scenario`] and the [`RunOutput`]: the prediction takes the
//! arrival rate measured at the tier (λ), the service demand's mean and variability from the
//! scenario's distribution (E[S], SCV), and the servers (c); the simulated side comes from the
//! per-window [`TierFlow`] the servers report, with a 95 % interval from batch means over the
//! windows after the warm-up (as the SLO noise is estimated).

use crate::engine::time::Time;
use crate::metrics::WindowRow;
use crate::model::kinds::ComponentSpec;
use crate::model::kit::{EventKind, TierFlow};
use crate::model::request::Outcome;
use crate::model::server::ServerSpec;
use crate::run::RunOutput;
use crate::scenario::error::thousands;
use crate::scenario::Scenario;
use crate::stats::Interval;
use serde_json::{json, Value};
use std::fmt::Write;

/// Batches the measured windows are cut into for the interval (as the SLO's noise).
pub const BATCHES: usize = 10;

// ---------------------------------------------------------------------------------------------
// Closed forms.
// ---------------------------------------------------------------------------------------------

/// Erlang B: the share of arrivals refused by c servers with no waiting room (M/G/c/c) at
/// offered load a = λE[S], by the stable recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)).
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival waits in M/M/c, C = B / (1 − ρ(1 − B)), ρ = a/c;
/// 1 when ρ ≥ 1 (every arrival waits: there is no steady state).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return 1.0;
    }
    let b = erlang_b(c, a);
    b / (1.0 - rho * (1.0 - b))
}

/// M/M/c mean wait in queue W_q = C(c, a) / (cμ − λ), seconds (infinite for ρ ≥ 1).
pub fn mmc_wq(c: u32, lambda: f64, mu: f64) -> f64 {
    let slack = f64::from(c) * mu - lambda;
    if slack <= 0.0 {
        return f64::INFINITY;
    }
    erlang_c(c, lambda / mu) / slack
}

/// M/G/c mean wait by Allen–Cunneen: the M/M/c wait scaled by (c_a² + c_s²)/2, with Poisson
/// arrivals (c_a² = 1). Exact for exponential service (c_s² = 1) and, at c = 1, the
/// Pollaczek–Khinchine formula. `es` in seconds.
pub fn allen_cunneen_wq(c: u32, lambda: f64, es: f64, scv: f64) -> f64 {
    mmc_wq(c, lambda, 1.0 / es) * (1.0 + scv) / 2.0
}

/// Mean response time of c processors shared equally by the jobs present (each of n jobs at
/// rate min(1, c/n)): E[S] + C(c, a)/(cμ − λ). A symmetric queue, so insensitive to the service
/// distribution beyond its mean (Kelly 1979, §3.3); at c = 1 it is M/G/1-PS, E[S]/(1 − ρ).
pub fn ps_response(c: u32, lambda: f64, es: f64) -> f64 {
    es + mmc_wq(c, lambda, 1.0 / es)
}

// ---------------------------------------------------------------------------------------------
// The analysis.
// ---------------------------------------------------------------------------------------------

/// Which queueing model describes a tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// workers ≤ vCPUs with a backlog: M/M/c (exponential service) — Erlang C.
    Mmc,
    /// workers ≤ vCPUs with a backlog, other service: M/G/c by Allen–Cunneen.
    Mgc,
    /// workers ≤ vCPUs, no backlog: a loss system — Erlang B.
    Loss,
    /// workers > vCPUs: processor sharing of c = vCPUs.
    Ps,
}

impl Model {
    /// Stable name in results.json.
    pub fn key(self) -> &'static str {
        match self {
            Model::Mmc => "M/M/c",
            Model::Mgc => "M/G/c (Allen–Cunneen)",
            Model::Loss => "M/G/c/c (Erlang B)",
            Model::Ps => "M/G/c-PS",
        }
    }
}

/// The figure a tier's verdict compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compared {
    /// Mean wait for a worker, ms.
    Wait,
    /// Mean time in the server, ms.
    Response,
    /// Share of arrivals refused.
    Refusal,
    /// CPU utilization (a tier whose requests hold their worker through calls: its waits
    /// include the callee's time, which no single-tier formula knows).
    Utilization,
}

impl Compared {
    /// Stable name in results.json.
    pub fn key(self) -> &'static str {
        match self {
            Compared::Wait => "wait",
            Compared::Response => "response",
            Compared::Refusal => "refusal",
            Compared::Utilization => "utilization",
        }
    }
}

/// What the comparison says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The prediction lies in the simulated figure's interval.
    Agrees,
    /// It does not; `reason` says why.
    Diverges,
    /// ρ ≥ 1: theory has no steady state to predict.
    NoSteadyState,
    /// Too few windows to form an interval.
    TooShort,
    /// The simulated figure's interval is wider than half the figure: nothing to test against.
    Inconclusive,
}

impl Verdict {
    /// Stable name in results.json.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Agrees => "agrees",
            Verdict::Diverges => "diverges",
            Verdict::NoSteadyState => "no_steady_state",
            Verdict::TooShort => "too_short",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// A condition that takes a run away from the formulas' assumptions.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// Stable key ("overload", "faults", "autoscaling", "retries", …; docs/theory.md).
    pub key: &'static str,
    /// The sentence a student reads.
    pub words: String,
}

/// One tier's prediction beside its simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct TierTheory {
    /// The tier (a server, or a fleet's instances).
    pub tier: String,
    /// Its model.
    pub model: Model,
    /// Requests arriving per second at the tier (refused ones included).
    pub lambda: f64,
    /// Mean service demand, seconds of one vCPU.
    pub mean_service_s: f64,
    /// Squared coefficient of variation of the service demand.
    pub scv: f64,
    /// Servers per instance in the queueing model (workers, or vCPUs under processor sharing).
    pub servers: u32,
    /// vCPUs per instance.
    pub vcpus: u32,
    /// Instances serving, on average over the measured windows.
    pub instances: f64,
    /// Whether the tier is a fleet's instances.
    pub fleet: bool,
    /// Fewest and most instances serving in a measured window.
    pub instances_range: (f64, f64),
    /// Offered load per server, λE[S]/(instances · servers).
    pub rho_predicted: f64,
    /// CPU utilization the accepted requests should cause, λ_accepted·E[S]/(instances · vCPUs).
    pub utilization_predicted: f64,
    /// Simulated CPU utilization.
    pub utilization_simulated: Option<Interval>,
    /// The figure compared.
    pub compared: Compared,
    /// Predicted mean wait for a worker, ms (None when ρ ≥ 1).
    pub wait_predicted_ms: Option<f64>,
    /// Simulated mean wait, ms.
    pub wait_simulated_ms: Option<Interval>,
    /// Predicted mean time in the server, ms.
    pub response_predicted_ms: Option<f64>,
    /// Simulated mean time in the server, ms.
    pub response_simulated_ms: Option<Interval>,
    /// Erlang B's refused share, for a tier without a backlog.
    pub erlang_b: Option<f64>,
    /// Simulated refused share.
    pub refused_simulated: Option<Interval>,
    /// The saturation point: requests per second at ρ = 1.
    pub lambda_max: f64,
    /// Users on average over the measured windows (closed loop; None for open arrivals).
    pub users: Option<f64>,
    /// Users at which ρ reaches 1, scaling λ with the users (None for open arrivals).
    pub users_at_saturation: Option<f64>,
    /// The most instances the tier may run (a fleet's max; 1 for a server).
    pub max_instances: u32,
    /// Users at which ρ reaches 1 with the tier at its most instances: the knee a fleet that
    /// scales out reaches last.
    pub users_at_saturation_at_max: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Conditions that hold in this run (all of them, whatever the verdict).
    pub conditions: Vec<Condition>,
    /// The sentence: prediction, measurement, verdict and (when not agreeing) why.
    pub sentence: String,
}

/// The server settings of a tier: its own, or its fleet's instances'.
/// The server settings of a tier, whether it is a fleet's, and the most instances it may run.
fn tier_spec<'a>(scn: &'a Scenario, tier: &str) -> Option<(&'a ServerSpec, bool, u32)> {
    scn.components
        .iter()
        .find(|(n, _)| n == tier)
        .and_then(|(_, c)| match c {
            ComponentSpec::Server(s) => Some((s, false, 1)),
            ComponentSpec::Fleet(f) => Some((&f.instance, true, f.max.max(1))),
            _ => None,
        })
}

/// Sums the flow of tier `i` over `rows`.
fn flow_of<'r>(rows: impl IntoIterator<Item = &'r WindowRow>, i: usize) -> TierFlow {
    let mut f = TierFlow::default();
    for r in rows {
        if let Some(x) = r.gauges.flows.get(i) {
            f.add(x);
        }
    }
    f
}

/// Busy vCPU·ns of tier `i` in a window.
fn busy_of(r: &WindowRow, i: usize) -> f64 {
    let u = r.gauges.tiers.get(i).copied().unwrap_or(f64::NAN);
    let cap = r.gauges.flows.get(i).map_or(0.0, |f| f.capacity);
    if u.is_finite() {
        u * cap
    } else {
        0.0
    }
}

/// The 95 % interval of a ratio over `batches` (each batch's Σnum/Σden; batches with nothing
/// to measure are left out).
fn batch_interval(
    batches: &[&[WindowRow]],
    f: impl Fn(&[WindowRow]) -> (f64, f64),
) -> Option<Interval> {
    Interval::of(batches.iter().map(|b| {
        let (num, den) = f(b);
        if den > 0.0 {
            num / den
        } else {
            f64::NAN
        }
    }))
}

/// Whether `x` lies in the interval (or both are negligible: under a microsecond, or a
/// millionth of a share).
fn inside(x: f64, iv: &Interval, negligible: f64) -> bool {
    if x.abs() < negligible && iv.mean.abs() < negligible {
        return true;
    }
    iv.half.is_finite() && x >= iv.lo() && x <= iv.hi()
}

/// Every server tier's theory, over the windows that start at or after `from` (a run: its
/// warm-up; the journey: its truncation point).
pub fn analyze(scn: &Scenario, run: &RunOutput, from: Time) -> Vec<TierTheory> {
    let rows: Vec<&WindowRow> = run
        .metrics
        .series
        .iter()
        .filter(|r| r.start >= from && r.end > r.start)
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    let owned: Vec<WindowRow> = rows.iter().map(|r| (*r).clone()).collect();
    let k = owned.len();
    let nb = BATCHES.min(k);
    let batches: Vec<&[WindowRow]> = (0..nb)
        .map(|j| &owned[j * k / nb..(j + 1) * k / nb])
        .collect();
    let span_ns: f64 = owned.iter().map(|r| (r.end - r.start) as f64).sum();
    let secs = span_ns / 1e9;
    let lb_in_front = scn
        .components
        .iter()
        .any(|(_, c)| matches!(c, ComponentSpec::LoadBalancer(_)));
    let work = scn.client.mean_work();
    let attempts: u64 = owned.iter().map(|r| r.attempts).sum();
    let retries: u64 = owned.iter().map(|r| r.retries).sum();
    let mut outcomes = [0u64; Outcome::COUNT];
    for r in &owned {
        for (o, n) in outcomes.iter_mut().zip(r.outcomes) {
            *o += n;
        }
    }
    let ended: u64 = outcomes.iter().sum();
    let users = (scn.client.users > 0)
        .then(|| owned.iter().map(|r| r.gauges.users as f64).sum::<f64>() / k as f64)
        .filter(|u| *u > 0.0);
    let mut out = Vec::new();
    for (i, name) in &run.tiers {
        let Some((spec, in_fleet, max_instances)) = tier_spec(scn, name) else {
            continue;
        };
        let i = *i;
        let total = flow_of(owned.iter(), i);
        if total.arrivals == 0 || total.capacity <= 0.0 {
            continue;
        }
        // Service demand: the distribution scaled by the mix's mean work, plus TLS unless a
        // balancer terminates it.
        let tls = if lb_in_front {
            0.0
        } else {
            spec.tls_cpu as f64
        };
        let m = spec.service.mean();
        let es_ns = m * work + tls;
        let var = work * work * (spec.service.second_moment() - m * m).max(0.0);
        let scv = if es_ns > 0.0 {
            var / (es_ns * es_ns)
        } else {
            0.0
        };
        let es = es_ns / 1e9;
        let vcpus = spec.vcpus.max(1);
        let ps = spec.workers > spec.vcpus;
        let c = if ps { spec.vcpus } else { spec.workers }.max(1);
        let model = if ps {
            Model::Ps
        } else if spec.backlog == 0 {
            Model::Loss
        } else if matches!(
            spec.service,
            crate::model::dist::DistConfig::Exponential { .. }
        ) {
            Model::Mmc
        } else {
            Model::Mgc
        };
        let per_window_instances: Vec<f64> = owned
            .iter()
            .filter_map(|r| {
                let cap = r.gauges.flows.get(i)?.capacity;
                Some(cap / ((r.end - r.start) as f64 * f64::from(vcpus)))
            })
            .collect();
        let instances = total.capacity / (span_ns * f64::from(vcpus));
        let lo = per_window_instances
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let hi = per_window_instances.iter().copied().fold(0.0, f64::max);
        let lambda = total.arrivals as f64 / secs;
        let accepted = (total.arrivals - total.refused) as f64 / secs;
        let n = instances.max(1e-9);
        let lambda_i = lambda / n;
        let a = lambda_i * es;
        let rho = a / f64::from(c);
        let utilization_predicted = accepted * es / (n * f64::from(vcpus));
        let lambda_max = if es > 0.0 {
            n * f64::from(c) / es
        } else {
            f64::INFINITY
        };
        let users_at_saturation = users.map(|u| u * lambda_max / lambda);
        // At its largest: a fleet at its max, whatever it ran here.
        let users_at_saturation_at_max =
            users_at_saturation.map(|u| u * f64::from(max_instances) / n);
        let utilization_simulated = batch_interval(&batches, |b| {
            let busy: f64 = b.iter().map(|r| busy_of(r, i)).sum();
            (busy, flow_of(b.iter(), i).capacity)
        });
        let wait_simulated_ms = batch_interval(&batches, |b| {
            let f = flow_of(b.iter(), i);
            (f.wait_ns / 1e6, f.completed as f64)
        });
        let response_simulated_ms = batch_interval(&batches, |b| {
            let f = flow_of(b.iter(), i);
            (f.sojourn_ns / 1e6, f.completed as f64)
        });
        let refused_simulated = batch_interval(&batches, |b| {
            let f = flow_of(b.iter(), i);
            (f.refused as f64, f.arrivals as f64)
        });
        // The busiest stretch: the offered load over each batch's servers (a crash or a
        // resize changes them between batches).
        let rho_peak = batches
            .iter()
            .map(|b| {
                let f = flow_of(b.iter(), i);
                let span: f64 = b.iter().map(|r| (r.end - r.start) as f64).sum();
                let servers = f.capacity / (span * f64::from(vcpus)) * f64::from(c);
                if f.arrivals == 0 {
                    0.0
                } else if servers <= 0.0 {
                    f64::INFINITY
                } else {
                    f.arrivals as f64 / (span / 1e9) * es / servers
                }
            })
            .fold(rho, f64::max);
        let steady = rho_peak < 1.0;
        let (wait_predicted_ms, response_predicted_ms, erlang) = match model {
            Model::Loss => (Some(0.0), Some(es * 1e3), Some(erlang_b(c, a))),
            Model::Mmc | Model::Mgc if steady => {
                let wq = allen_cunneen_wq(c, lambda_i, es, scv);
                (Some(wq * 1e3), Some((wq + es) * 1e3), None)
            }
            Model::Ps if steady => {
                let t = ps_response(c, lambda_i, es);
                (Some(0.0), Some(t * 1e3), None)
            }
            _ => (None, None, None),
        };
        let has_calls = !spec.calls.is_empty();
        let compared = if has_calls {
            Compared::Utilization
        } else {
            match model {
                Model::Loss => Compared::Refusal,
                Model::Ps => Compared::Response,
                Model::Mmc | Model::Mgc => Compared::Wait,
            }
        };

        // The conditions that hold.
        let mut conditions = Vec::new();
        let mut cond = |key: &'static str, words: String| conditions.push(Condition { key, words });
        if !steady {
            let words = if rho >= 1.0 {
                format!(
                    "{rho:.1} times more work arrives than {name} can do (ρ = {rho:.2}: {} req/s \
                     against at most {} req/s)",
                    thousands(lambda.round() as u64),
                    thousands(lambda_max.round() as u64)
                )
            } else if rho_peak.is_finite() {
                format!(
                    "in its busiest stretch {rho_peak:.1} times more work arrived than {name} \
                     could do (ρ = {rho_peak:.2}; {rho:.2} on average over the run)"
                )
            } else {
                format!("for a stretch of the run {name} had no CPU serving while requests kept arriving")
            };
            cond(
                "overload",
                format!(
                    "{words}, so there is no steady state: the queue grows until the backlog is \
                     full and requests are refused, or memory runs out"
                ),
            );
        }
        if let Some(why) = &run.unsteady {
            cond(
                "faults",
                format!("the run is not stationary ({why}): a formula for steady state describes only the calm stretches"),
            );
        }
        let mine = |c: &str| {
            c == name || (c.starts_with(name.as_str()) && c[name.len()..].starts_with('['))
        };
        let crashes = run
            .timeline
            .iter()
            .filter(|e| e.at >= from && mine(&e.component))
            .filter(|e| matches!(e.kind, EventKind::Crash | EventKind::OutOfMemory))
            .count();
        let oom = run
            .timeline
            .iter()
            .any(|e| e.at >= from && mine(&e.component) && e.kind == EventKind::OutOfMemory);
        if crashes > 0 {
            cond(
                "crashes",
                format!(
                    "{name} crashed {crashes} time{} during the measurement{}: while down it refuses everything",
                    if crashes == 1 { "" } else { "s" },
                    if oom { " (out of memory)" } else { "" }
                ),
            );
        }
        if !spec.resizes.is_empty() {
            cond(
                "resized",
                format!(
                    "{name} was resized during the run: its vCPUs changed, and with them c \
                     (this uses the average, {:.1} vCPUs)",
                    total.capacity / span_ns
                ),
            );
        }
        if in_fleet && hi - lo > 0.5 {
            cond(
                "autoscaling",
                format!(
                    "autoscaling changed the instances serving from {lo:.0} to {hi:.0} during the \
                     measurement: the formulas hold for a fixed number of servers (this uses the \
                     average, {instances:.1})"
                ),
            );
        }
        if attempts > 0 && retries * 100 > attempts {
            cond(
                "retries",
                format!(
                    "{:.1} % of the attempts were retries: failed requests come back as more load, \
                     so the load depends on the failures it causes (feedback)",
                    100.0 * retries as f64 / attempts as f64
                ),
            );
        }
        let timed_out = outcomes[Outcome::Timeout.index()];
        if ended > 0 && timed_out * 100 > ended {
            cond(
                "timeouts",
                format!(
                    "{:.1} % of the requests timed out: the users stop waiting for the slowest \
                     answers, which cuts the tail of what they see",
                    100.0 * timed_out as f64 / ended as f64
                ),
            );
        }
        if spec.queue_timeout.is_some() {
            cond(
                "shedding",
                "requests that waited longer than `queue_timeout` are answered 503 unserved: \
                 their long waits are not in the simulated mean"
                    .to_string(),
            );
        }
        let refused_share = total.refused as f64 / total.arrivals as f64;
        if model != Model::Loss && refused_share > 0.001 {
            cond(
                "backlog_full",
                format!(
                    "{:.2} % of the arrivals were refused (backlog full or down): a finite \
                     waiting room cuts the queue the formula assumes endless",
                    100.0 * refused_share
                ),
            );
        }
        let util_series: Vec<f64> = owned
            .iter()
            .map(|r| r.gauges.tiers.get(i).copied().unwrap_or(0.0))
            .map(|u| if u.is_finite() { u } else { 0.0 })
            .collect();
        let backlog_series: Vec<f64> = owned.iter().map(|r| r.gauges.backlog as f64).collect();
        let settled = crate::journey::mser::mser5(&util_series).settled
            && crate::journey::mser::mser5(&backlog_series).settled;
        if k >= 4 * crate::journey::mser::BATCH && !settled {
            cond(
                "not_settled",
                "the run had not settled: MSER-5 finds the utilization or the backlog still \
                 trending over the first half of the measurement (a longer warm-up or run helps)"
                    .to_string(),
            );
        }
        if has_calls {
            cond(
                "calls",
                "its requests keep their worker while they wait for their calls, so their time \
                 in the server includes the callees': only the utilization is compared"
                    .to_string(),
            );
        }
        if let Some(u) = &utilization_simulated {
            let off = (u.mean - utilization_predicted).abs();
            if off > 0.02
                && off > 0.05 * utilization_predicted
                && !inside(utilization_predicted, u, 1e-6)
            {
                cond(
                    "work_mix",
                    format!(
                        "its CPU was {:.0} % busy where the workload's average request predicts {:.0} %: \
                         the requests reaching it are not the average request (a class mix, TLS, \
                         slower CPUs)",
                        u.mean * 100.0,
                        utilization_predicted * 100.0
                    ),
                );
            }
        }
        if model == Model::Mgc && c > 1 {
            cond(
                "approximation",
                format!(
                    "the service time is not exponential (SCV {scv:.2}): Allen–Cunneen's M/G/c \
                     wait is an approximation, typically within 10–20 %"
                ),
            );
        }
        if let Some(u) = users {
            if u < 10.0 * n * f64::from(c) {
                cond(
                    "few_users",
                    format!(
                        "only {u:.0} users: a closed loop of few users sends less while many of \
                         them wait (a finite source), where the formula assumes Poisson arrivals"
                    ),
                );
            }
        }

        // The verdict.
        let (pred, sim, negligible) = match compared {
            Compared::Wait => (wait_predicted_ms, wait_simulated_ms, 1e-3),
            Compared::Response => (response_predicted_ms, response_simulated_ms, 1e-3),
            Compared::Refusal => (erlang, refused_simulated, 1e-6),
            Compared::Utilization => (Some(utilization_predicted), utilization_simulated, 1e-6),
        };
        let verdict = if !steady {
            Verdict::NoSteadyState
        } else {
            match (pred, &sim) {
                (Some(_), Some(s))
                    if s.half.is_finite()
                        && s.mean.abs() >= negligible
                        && s.half > 0.5 * s.mean.abs() =>
                {
                    Verdict::Inconclusive
                }
                (Some(p), Some(s)) if inside(p, s, negligible) => Verdict::Agrees,
                (Some(_), Some(s)) if s.half.is_finite() => Verdict::Diverges,
                _ => Verdict::TooShort,
            }
        };
        let figure = |x: f64| match compared {
            Compared::Wait | Compared::Response => ms(x),
            Compared::Refusal | Compared::Utilization => format!("{:.1} %", x * 100.0),
        };
        let what = match compared {
            Compared::Wait => "of waiting",
            Compared::Response => "in the server",
            Compared::Refusal => "refused",
            Compared::Utilization => "busy",
        };
        let sim_words = sim.as_ref().map_or("nothing".to_string(), |s| {
            if s.half.is_finite() {
                format!("{} ± {}", figure(s.mean), figure(s.half))
            } else {
                figure(s.mean)
            }
        });
        let sentence = match verdict {
            Verdict::NoSteadyState => {
                format!("theory has no answer for {name}: {}", conditions[0].words)
            }
            Verdict::TooShort => {
                format!("{name}: too few windows to put an interval on the simulated figure")
            }
            _ => {
                let mut s = format!(
                    "{name}: theory says {} {what} at {:.0} % busy; the simulation measured {sim_words}",
                    figure(pred.unwrap_or(f64::NAN)),
                    rho * 100.0,
                );
                if verdict == Verdict::Agrees {
                    s.push_str(": agrees");
                } else if verdict == Verdict::Inconclusive {
                    let why = conditions.first().map_or_else(
                        || {
                            "the figure swings widely from one stretch of the run to the next"
                                .to_string()
                        },
                        |c| c.words.clone(),
                    );
                    let _ = write!(s, ": too noisy to test the formula (the interval is wider than half the figure), because {why}");
                } else {
                    let why = conditions
                        .iter()
                        .find(|c| c.key != "few_users" || conditions.len() == 1)
                        .map_or_else(
                            || "not explained by anything this report checks (look at the time series)".to_string(),
                            |c| c.words.clone(),
                        );
                    let _ = write!(s, ": diverges, because {why}");
                }
                s
            }
        };
        out.push(TierTheory {
            tier: name.clone(),
            model,
            lambda,
            mean_service_s: es,
            scv,
            servers: c,
            vcpus,
            instances,
            fleet: in_fleet,
            instances_range: (lo, hi),
            rho_predicted: rho,
            utilization_predicted,
            utilization_simulated,
            compared,
            wait_predicted_ms,
            wait_simulated_ms,
            response_predicted_ms,
            response_simulated_ms,
            erlang_b: erlang,
            refused_simulated,
            lambda_max,
            users,
            users_at_saturation,
            max_instances,
            users_at_saturation_at_max,
            verdict,
            conditions,
            sentence,
        });
    }
    out
}

/// A duration in ms as a student reads it: "42 ms", "0.31 ms", "1.2 s".
pub fn ms(x: f64) -> String {
    if !x.is_finite() {
        "—".to_string()
    } else if x >= 1000.0 {
        format!("{:.2} s", x / 1000.0)
    } else if x >= 10.0 {
        format!("{x:.0} ms")
    } else if x >= 1.0 {
        format!("{x:.1} ms")
    } else {
        format!("{x:.2} ms")
    }
}

fn r6(x: f64) -> Value {
    if x.is_finite() {
        json!(crate::report::results::round6(x))
    } else {
        Value::Null
    }
}

fn iv_json(iv: &Option<Interval>) -> Value {
    match iv {
        Some(i) => json!({
            "mean": r6(i.mean),
            "half_width": r6(i.half),
            "batches": i.n,
        }),
        None => Value::Null,
    }
}

/// `theory` in results.json: one object per tier (keys in docs/theory.md).
pub fn theory_json(tiers: &[TierTheory]) -> Value {
    Value::Array(
        tiers
            .iter()
            .map(|t| {
                json!({
                    "tier": t.tier,
                    "model": t.model.key(),
                    "lambda": r6(t.lambda),
                    "mean_service_s": r6(t.mean_service_s),
                    "service_scv": r6(t.scv),
                    "servers": t.servers,
                    "vcpus": t.vcpus,
                    "instances": r6(t.instances),
                    "fleet": t.fleet,
                    "instances_min": r6(t.instances_range.0),
                    "instances_max": r6(t.instances_range.1),
                    "rho_predicted": r6(t.rho_predicted),
                    "utilization_predicted": r6(t.utilization_predicted),
                    "utilization_simulated": iv_json(&t.utilization_simulated),
                    "compared": t.compared.key(),
                    "wait_predicted_ms": t.wait_predicted_ms.map_or(Value::Null, r6),
                    "wait_simulated_ms": iv_json(&t.wait_simulated_ms),
                    "response_predicted_ms": t.response_predicted_ms.map_or(Value::Null, r6),
                    "response_simulated_ms": iv_json(&t.response_simulated_ms),
                    "erlang_b": t.erlang_b.map_or(Value::Null, r6),
                    "refused_simulated": iv_json(&t.refused_simulated),
                    "lambda_max": r6(t.lambda_max),
                    "users": t.users.map_or(Value::Null, r6),
                    "users_at_saturation": t.users_at_saturation.map_or(Value::Null, r6),
                    "max_instances": t.max_instances,
                    "users_at_saturation_at_max": t.users_at_saturation_at_max.map_or(Value::Null, r6),
                    "verdict": t.verdict.key(),
                    "conditions": t.conditions.iter().map(|c| c.key).collect::<Vec<_>>(),
                    "reason": t.sentence,
                })
            })
            .collect(),
    )
}

/// summary.md's "Theory beside the simulation" section (empty without server tiers).
pub fn summary_section(tiers: &[TierTheory]) -> String {
    if tiers.is_empty() {
        return String::new();
    }
    let mut s = String::new();
    s.push_str("\n## Theory beside the simulation\n\n");
    s.push_str(
        "Each CPU tier's queueing prediction next to what the simulation measured (± the 95 % \
         interval from batch means over the measured windows). λ is measured at the tier; E[S] \
         and c come from the scenario; ρ = λE[S]/c. The formulas and when the report says \
         \"agrees\": docs/theory.md.\n\n",
    );
    s.push_str("| tier | model | λ (req/s) | E[S] | c | busy: theory / simulated | compared: theory / simulated | saturates at | verdict |\n");
    s.push_str("|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for t in tiers {
        let total = t.instances * f64::from(t.servers);
        let c = if t.fleet {
            format!("{:.1} × {}", t.instances, t.servers)
        } else if (total - total.round()).abs() < 0.05 {
            format!("{total:.0}")
        } else {
            format!("{total:.1}")
        };
        let busy = format!(
            "{:.0} % / {}",
            t.utilization_predicted * 100.0,
            t.utilization_simulated
                .map_or("—".into(), |u| format!("{:.0} %", u.mean * 100.0))
        );
        let pct = |x: f64| format!("{:.2} %", x * 100.0);
        let cmp = match t.compared {
            Compared::Wait => format!(
                "wait {} / {}",
                t.wait_predicted_ms.map_or("—".into(), ms),
                t.wait_simulated_ms.map_or("—".into(), |i| ms(i.mean))
            ),
            Compared::Response => format!(
                "in server {} / {}",
                t.response_predicted_ms.map_or("—".into(), ms),
                t.response_simulated_ms.map_or("—".into(), |i| ms(i.mean))
            ),
            Compared::Refusal => format!(
                "refused {} / {}",
                t.erlang_b.map_or("—".into(), pct),
                t.refused_simulated.map_or("—".into(), |i| pct(i.mean))
            ),
            Compared::Utilization => "busy (above)".to_string(),
        };
        let sat = match t.users_at_saturation {
            Some(u) => format!(
                "{} req/s ≈ {} users",
                thousands(t.lambda_max.round() as u64),
                thousands(u.round() as u64)
            ),
            None => format!("{} req/s", thousands(t.lambda_max.round() as u64)),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {c} | {busy} | {cmp} | {sat} | {} |",
            t.tier,
            t.model.key(),
            thousands(t.lambda.round() as u64),
            ms(t.mean_service_s * 1e3),
            t.verdict.key().replace('_', " ")
        );
    }
    s.push('\n');
    for t in tiers {
        let _ = writeln!(s, "- {}.", t.sentence);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms_match_textbook_values() {
        // Erlang B(10, 8) from the published tables.
        assert!((erlang_b(10, 8.0) - 0.121_661).abs() < 1e-6);
        assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
        // C(1, ρ) = ρ; C(2, 1) = 1/3.
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // M/M/1: W_q = ρ/(μ − λ) = 0.9/10.
        assert!((mmc_wq(1, 90.0, 100.0) - 0.09).abs() < 1e-12);
        // Allen–Cunneen at c = 1 is Pollaczek–Khinchine: deterministic service halves the wait.
        assert!((allen_cunneen_wq(1, 90.0, 0.01, 0.0) - 0.045).abs() < 1e-12);
        // M/G/1-PS: E[S]/(1 − ρ) = 10 ms / 0.2.
        assert!((ps_response(1, 80.0, 0.01) - 0.05).abs() < 1e-12);
        // Saturated: no finite wait.
        assert!(mmc_wq(2, 200.0, 100.0).is_infinite());
        assert_eq!(erlang_c(2, 2.5), 1.0);
        // The recursion stays finite where the factorial form overflows.
        let b = erlang_b(1000, 950.0);
        assert!(b.is_finite() && b > 0.0 && b < 1.0);
    }

    #[test]
    fn ms_reads_at_every_scale() {
        assert_eq!(ms(0.314), "0.31 ms");
        assert_eq!(ms(4.25), "4.2 ms");
        assert_eq!(ms(42.4), "42 ms");
        assert_eq!(ms(1234.0), "1.23 s");
        assert_eq!(ms(f64::NAN), "—");
    }
}
