//! `scalesim journey`: every embedded chapter's architecture under one workload, from 10 to
//! 100,000 users, measured at steady state, and the comparison charts and breaking points.
//!
//! A fair experiment (docs/journey.md):
//! - **one workload** ([`WORKLOAD`]): the same users, think time, mix, timeout and retries for
//!   every chapter, varied only by the number of users; each chapter contributes its
//!   architecture (components, network, where users connect), whose change from the previous
//!   chapter's is declared in its `[scenario.journey]` and checked ([`topology`]);
//! - **steady load**: a scheduled resize is applied from the start, spikes, bots, reloads and
//!   faults are left out, each kind strips what is an incident ([`crate::model::kit::Kind::steady_state`]),
//!   and an autoscaling group starts at the size its target asks for at that load;
//! - **measured after the transient**: MSER-5 ([`mser`]) finds where each run's transient ends on
//!   its per-window series; the figures are those of the windows after it, and a run whose
//!   transient lasts past half of it is reported *not settled* rather than as a verdict.

pub mod html;
pub mod mser;
pub mod topology;

use crate::engine::time::{Time, MIN, SEC};
use crate::model::kinds::ComponentSpec;
use crate::model::kit::EventKind;
use crate::model::request::Outcome;
use crate::report::results::round6;
use crate::report::{charts, ReportError, Staging};
use crate::run::RunOutput;
use crate::scenario::{self, Scenario};
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// User levels replayed by default.
pub const DEFAULT_LEVELS: [u32; 5] = [10, 100, 1_000, 10_000, 100_000];
/// User levels of `--quick`.
pub const QUICK_LEVELS: [u32; 4] = [10, 100, 1_000, 10_000];

/// The journey's workload, as `--set` overrides applied to every chapter before it is checked
/// (so a mistake here is reported like any scenario's). Chapters 1 to 6 use these figures in
/// their own stories: 8 s of thinking between clicks (an exponential), 80 % reading product
/// pages, 15 % searching at 1.5× the work, 5 % buying at 3×, a 10 s timeout and one retry. Of
/// the 80 %, 2 points are staff editing a product (`/products/edit`, 2× the work, chapter 13's
/// write): a page request under `/products` everywhere else, and what invalidates a cached item
/// where there is a cache. The chapters'
/// own objectives name classes of their own mixes, so they are cleared: the journey has its
/// own ([`SLO_P99_MS`], [`SLO_ERROR_RATE`]).
pub const WORKLOAD: &[&str] = &[
    r#"workload.think_time={ dist = "exponential", mean = "8s" }"#,
    r#"workload.timeout="10s""#,
    r#"workload.retries={ max = 1, backoff = "exponential", base = "500ms", jitter = true }"#,
    r#"workload.mix=[{ name = "browse", path = "/products", weight = 0.78 }, { name = "edit", path = "/products/edit", weight = 0.02, work = 2.0 }, { name = "search", path = "/search", weight = 0.15, work = 1.5 }, { name = "buy", path = "/orders", weight = 0.05, work = 3.0 }]"#,
    "workload.spikes=[]",
    "workload.bots=[]",
    "slo.objectives=[]",
];
/// Mean think time of [`WORKLOAD`], s: the offered load is users ÷ this.
pub const THINK_S: f64 = 8.0;
/// The journey's objective: p99 of successful requests below this, ms …
pub const SLO_P99_MS: f64 = 1_000.0;
/// … and at most this fraction of requests failing.
pub const SLO_ERROR_RATE: f64 = 0.01;

/// How long each replay runs and how finely it is watched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Simulated length of each replay.
    pub duration: Time,
    /// Window of its series (MSER-5 batches five of them).
    pub window: Time,
}

/// The default plan: 8 simulated minutes in 2 s windows (240 windows, 48 batches: MSER may cut
/// up to 4 minutes and still measure 4).
pub const DEFAULT_PLAN: Plan = Plan {
    duration: 8 * MIN,
    window: 2 * SEC,
};
/// `--quick`: 4 minutes in 1 s windows (240 windows, 48 batches).
pub const QUICK_PLAN: Plan = Plan {
    duration: 4 * MIN,
    window: SEC,
};

/// Most worker threads per core `--jobs` may ask for: the replays are CPU-bound, so more only
/// costs memory and switching (`--jobs 100000` would start 100,000 threads).
pub const MAX_JOBS_PER_CORE: usize = 4;

/// The worker threads for `--jobs`: omitted or 0 means one per core; more than
/// [`MAX_JOBS_PER_CORE`] per core is capped, and the second value says so.
pub fn worker_threads(jobs: Option<usize>) -> (usize, Option<String>) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = cores * MAX_JOBS_PER_CORE;
    match jobs {
        None | Some(0) => (cores, None),
        Some(n) if n > max => (
            max,
            Some(format!(
                "note: --jobs {n} capped at {max} ({MAX_JOBS_PER_CORE} per core, {cores} core{} here); \
                 the runs are CPU-bound, so more threads would not finish sooner",
                if cores == 1 { "" } else { "s" }
            )),
        ),
        Some(n) => (n, None),
    }
}

/// One point of the journey: an architecture at a load level, measured after its transient.
#[derive(Clone, Debug, PartialEq)]
pub struct JourneyPoint {
    /// Chapter number.
    pub chapter: u32,
    /// Scenario name.
    pub name: String,
    /// Users.
    pub users: u32,
    /// p99 of successful requests, ms (None if nothing succeeded).
    pub p99_ms: Option<f64>,
    /// p50, ms.
    pub p50_ms: Option<f64>,
    /// Failed fraction.
    pub error_rate: f64,
    /// Successful requests per second.
    pub goodput: f64,
    /// Requests per second the users would send if every answer were instant (users ÷ think).
    pub offered: f64,
    /// $ per month at the measured rate.
    pub cost_per_month: f64,
    /// Where the measurement starts (the MSER-5 truncation point), ns.
    pub truncated: Time,
    /// Whether the run settled (MSER-5's minimum inside the first half on every series).
    pub settled: bool,
    /// The series that did not settle ([`SERIES`]).
    pub unsettled: Vec<&'static str>,
    /// The busiest tier over the measured windows and its mean CPU utilization (None when no
    /// tier reached 95 % in any window nor averaged half its CPU).
    pub busiest: Option<(String, f64)>,
    /// The most common failure and its share of the requests, if any failed.
    pub failure: Option<(Outcome, f64)>,
    /// The component that crashed most often over the measured windows, how often, and whether
    /// for want of memory (a crash loop is what refuses users while its CPU gauge is empty).
    pub crashes: Option<(String, u32, bool)>,
    /// The run's forensics in one line: what failed first, when, and what followed
    /// ([`crate::report::forensics::Forensics::line`]; None when nothing failed).
    pub first_failed: Option<String>,
    /// Each server tier's simulated utilization and the theory's saturation point
    /// (`report::theory`), for the knee charts.
    pub knees: Vec<Knee>,
}

/// A tier at one level of the journey: how busy it was and where theory puts its saturation.
#[derive(Clone, Debug, PartialEq)]
pub struct Knee {
    /// The tier.
    pub tier: String,
    /// Its mean CPU utilization over the measured windows, 0–1.
    pub utilization: f64,
    /// Offered load per server the theory computes from the measured arrivals (ρ).
    pub rho: f64,
    /// Users at which the tier saturates at its largest size (a fleet at its max), per the
    /// theory at this level's measured arrivals.
    pub saturates_at: Option<f64>,
    /// Whether `saturates_at` is queueing theory's (a server tier, from the scenario's service
    /// demand) rather than the utilization law's (users ÷ the measured utilization).
    pub by_theory: bool,
}

impl JourneyPoint {
    /// Meets the journey's objective: settled, p99 below [`SLO_P99_MS`], errors at most
    /// [`SLO_ERROR_RATE`].
    pub fn meets_slo(&self) -> bool {
        self.settled
            && self.error_rate <= SLO_ERROR_RATE
            && self.p99_ms.is_some_and(|p| p < SLO_P99_MS)
    }

    /// What broke the objective here, in a few words.
    pub fn culprit(&self) -> String {
        let mut parts = vec![self.cause()];
        if let Some((what, share)) = self.failure {
            parts.push(format!("{:.1} % {}", share * 100.0, what.words()));
        }
        parts.retain(|p| !p.is_empty());
        if parts.is_empty() {
            "—".into()
        } else {
            parts.join("; ")
        }
    }

    /// The component behind it: a crash loop, the busiest tier (empty if neither).
    pub fn cause(&self) -> String {
        let mut parts = Vec::new();
        if let Some((who, n, oom)) = &self.crashes {
            let how = if *oom { "ran out of memory" } else { "crashed" };
            let times = if *n == 1 {
                "once".to_string()
            } else {
                format!("{n} times")
            };
            parts.push(format!("{who} {how} {times}"));
        }
        if let Some((tier, u)) = &self.busiest {
            parts.push(format!("{tier} ({:.0} % CPU)", u * 100.0));
        }
        parts.join("; ")
    }
}

/// The variant a chapter's file may carry for the journey: its architecture sized for the
/// journey's steady load rather than its own story's incident (docs/journey.md).
pub const JOURNEY_VARIANT: &str = "journey";

/// A chapter's scenario under the journey's workload ([`WORKLOAD`]) at `users`, as checked, with
/// the chapter's `[variants.journey]` applied when it has one.
pub fn load_chapter(number: u32, users: u32) -> Result<Scenario, String> {
    load_chapter_with(number, users, &[])
}

/// [`load_chapter`] with `extra` overrides applied last (a test's doctored chapter).
pub fn load_chapter_with(
    number: u32,
    users: u32,
    extra: &[scenario::overrides::Override],
) -> Result<Scenario, String> {
    let mut sets: Vec<String> = WORKLOAD.iter().map(|s| s.to_string()).collect();
    sets.push(format!("workload.users={users}"));
    let overrides = sets
        .iter()
        .map(|s| scenario::overrides::Override::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let overrides: Vec<_> = overrides.into_iter().chain(extra.iter().cloned()).collect();
    let source = format!("chapter:{number}");
    let text = scenario::read_source(&source).map_err(|e| e.to_string())?;
    let variant = has_journey_variant(&text).then_some(JOURNEY_VARIANT);
    scenario::parse_variant(&source, &text, variant, &overrides).map_err(|e| e.to_string())
}

/// Whether a scenario's text declares `[variants.journey]`.
fn has_journey_variant(text: &str) -> bool {
    text.parse::<toml_edit::DocumentMut>()
        .ok()
        .and_then(|d| d.get("variants")?.get(JOURNEY_VARIANT).map(|_| ()))
        .is_some()
}

/// Turns a chapter scenario into its steady-state replay at `users` under `plan`.
pub fn steady_state(mut scn: Scenario, users: u32, plan: Plan) -> Scenario {
    scn.client.users = users;
    scn.client.curve.spikes.clear();
    // Bots are a chapter's one-off event too (its attack): the journey measures the users.
    scn.client.streams.retain(|s| s.population == 0);
    // So are impatient users' reloads (a chapter's refresh storm): every chapter's users wait alike.
    scn.client.refresh = None;
    scn.faults.clear();
    scn.duration = plan.duration;
    // Measured from the truncation point MSER-5 finds, not from a fixed warm-up.
    scn.warmup = 0;
    scn.window = plan.window;
    scn.keep_window_histograms = true;
    for (_, c) in &mut scn.components {
        c.steady_state();
    }
    size_fleets(&mut scn, users);
    scn.overrides
        .push(format!("journey: users={users}, steady state"));
    scn
}

/// Starts each autoscaling group at the size its CPU target asks for at this load, within its
/// min and max: the group then holds that size instead of spending the run catching up from its
/// minimum. A group's load is the users' requests that reach it along the way in from the
/// users' entry — through rate limiters, a CDN to its origin, an API gateway's route for each request's path and a
/// balancer to its fleet ([`fleet_loads`]); a group no request reaches that way (one called by a
/// service) keeps its minimum and scales from there.
fn size_fleets(scn: &mut Scenario, users: u32) {
    let loads = fleet_loads(scn, f64::from(users) / THINK_S);
    for (i, (_, c)) in scn.components.iter_mut().enumerate() {
        let Some(&(rate, work)) = loads.get(&i) else {
            continue;
        };
        if let ComponentSpec::Fleet(f) = c {
            let target = match f.policy {
                crate::model::fleet::Policy::TargetTracking {
                    metric: crate::model::fleet::Metric::Cpu,
                    target,
                    ..
                } => target,
                crate::model::fleet::Policy::Step { .. } => 0.6,
                _ => continue,
            };
            let per_instance = f.instance.capacity(work) * target;
            if per_instance.is_finite() && per_instance > 0.0 {
                let want = (rate / per_instance).ceil().min(f64::from(f.max)) as u32;
                f.desired = want.clamp(f.min, f.max);
            }
        }
    }
}

/// The users' requests per second reaching each fleet (by component index) from the entry, and
/// their mean work: each class of the mix follows rate limiters, a CDN's origin, its gateway route and a
/// balancer to the fleet whose instances the balancer's members are. A class that leaves that
/// path (a server, a cache, a queue) reaches no fleet here.
fn fleet_loads(scn: &Scenario, rate: f64) -> std::collections::BTreeMap<usize, (f64, f64)> {
    let first = scenario::FIRST_COMPONENT;
    let index = |id: u32| id.checked_sub(first).map(|i| i as usize);
    // Which fleet each instance slot belongs to.
    let mut fleet_of_slot = std::collections::BTreeMap::new();
    for (i, (_, c)) in scn.components.iter().enumerate() {
        if let ComponentSpec::Fleet(f) = c {
            for &slot in &f.slots {
                fleet_of_slot.insert(slot, i);
            }
        }
    }
    let client = &scn.client;
    let mut sums: std::collections::BTreeMap<usize, (f64, f64)> = Default::default();
    let mut prev = 0.0;
    for (class, cum) in client.mix_cdf.iter().enumerate() {
        let weight = cum - prev;
        prev = *cum;
        let work = client.classes[class].work;
        let mut at = index(client.entry);
        // A path is a handful of hops; the bound keeps a loop of limiters from spinning.
        for _ in 0..16 {
            let Some(i) = at else { break };
            let Some((_, c)) = scn.components.get(i) else {
                break;
            };
            at = match c {
                ComponentSpec::RateLimiter(r) => index(r.target),
                // Every page's API call goes on to the origin (the images' misses too).
                ComponentSpec::Cdn(c) => index(c.origin),
                ComponentSpec::ApiGateway(g) => g
                    .route_of_class
                    .get(class)
                    .copied()
                    .flatten()
                    .and_then(|r| g.plans.get(usize::from(r)))
                    .and_then(|p| p.calls.first())
                    .and_then(|call| index(call.to)),
                ComponentSpec::LoadBalancer(lb) => lb
                    .members
                    .first()
                    .and_then(|m| fleet_of_slot.get(m).copied()),
                ComponentSpec::Fleet(_) => {
                    let e = sums.entry(i).or_default();
                    e.0 += weight;
                    e.1 += weight * work;
                    None
                }
                _ => None,
            };
        }
    }
    sums.into_iter()
        .map(|(i, (w, ww))| (i, (rate * w, if w > 0.0 { ww / w } else { 1.0 })))
        .collect()
}

/// The series MSER-5 watches, in [`truncation`]'s order.
pub const SERIES: [&str; 4] = ["mean latency", "error rate", "requests held", "instances"];

/// MSER-5 over the series that show a transient: mean latency, error rate, requests held inside
/// the system and instances running. The truncation is the latest of the four; the second value
/// names the series that did not settle.
pub fn truncation(run: &RunOutput) -> (mser::Truncation, Vec<&'static str>) {
    let rows = &run.metrics.series;
    // A window with nothing to say (no success, no request) takes the series' mean: a gap is
    // not a transient.
    let fill = |v: Vec<f64>| -> Vec<f64> {
        let ok: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        let mean = if ok.is_empty() {
            0.0
        } else {
            ok.iter().sum::<f64>() / ok.len() as f64
        };
        v.into_iter()
            .map(|x| if x.is_finite() { x } else { mean })
            .collect()
    };
    let series = [
        fill(rows.iter().map(|r| r.mean_ms).collect()),
        fill(
            rows.iter()
                .map(|r| {
                    let t = r.total();
                    if t == 0 {
                        f64::NAN
                    } else {
                        r.errors() as f64 / t as f64
                    }
                })
                .collect(),
        ),
        rows.iter()
            .map(|r| (r.gauges.in_system + r.gauges.backlog) as f64)
            .collect(),
        rows.iter().map(|r| f64::from(r.gauges.instances)).collect(),
    ];
    let mut out = mser::Truncation {
        windows: 0,
        settled: true,
    };
    let mut unsettled = Vec::new();
    for (s, name) in series.iter().zip(SERIES) {
        let t = mser::mser5(s);
        out.windows = out.windows.max(t.windows);
        out.settled &= t.settled;
        if !t.settled {
            unsettled.push(name);
        }
    }
    (out, unsettled)
}

/// The point's figures over the windows after the truncation point.
fn measure(chapter: u32, scn: &Scenario, run: &RunOutput) -> JourneyPoint {
    let (cut, unsettled) = truncation(run);
    let rows = &run.metrics.series;
    let from = cut.windows.min(rows.len().saturating_sub(1));
    let kept = &rows[from.min(rows.len())..];
    let mut outcomes = [0u64; Outcome::COUNT];
    for r in kept {
        for (o, n) in outcomes.iter_mut().zip(r.outcomes) {
            *o += n;
        }
    }
    let total: u64 = outcomes.iter().sum();
    let ok = outcomes[Outcome::Ok.index()];
    let (start, end) = match (kept.first(), kept.last()) {
        (Some(a), Some(b)) => (a.start, b.end),
        _ => (0, scn.duration),
    };
    let secs = (end - start) as f64 / 1e9;
    let mut hist = crate::metrics::new_window_histogram();
    if let Some(hs) = &run.metrics.window_histograms {
        for h in &hs[from.min(hs.len())..] {
            // Same bounds and precision: adding cannot fail.
            let _ = hist.add(h);
        }
    }
    let q = |p: f64| (!hist.is_empty()).then(|| hist.value_at_quantile(p) as f64 / 1e6);
    // The bill's rate over the measured windows (the gauge is dollars spent so far).
    let cost_before = if from == 0 {
        0.0
    } else {
        rows[from - 1].gauges.cost
    };
    let cost_after = kept.last().map_or(cost_before, |r| r.gauges.cost);
    let cost_per_month = (cost_after - cost_before) / (secs / 3600.0).max(1e-9)
        * crate::scenario::units::HOURS_PER_MONTH;
    // The bottleneck tier, ranked as a run's summary ranks it; one that was never near its
    // limit is not what broke anything.
    let busiest = crate::report::summary::tier_loads(kept, run)
        .first()
        .filter(|t| t.hot > 0 || t.mean >= 0.5)
        .map(|t| (t.name.to_string(), t.mean));
    let failure = Outcome::ALL
        .iter()
        .filter(|o| **o != Outcome::Ok)
        .map(|&o| (o, outcomes[o.index()]))
        .filter(|&(_, n)| n > 0)
        .max_by_key(|&(_, n)| n)
        .map(|(o, n)| (o, n as f64 / total.max(1) as f64));
    let mut crashed: std::collections::BTreeMap<&str, (u32, bool)> = Default::default();
    for e in run.timeline.iter().filter(|e| e.at >= start) {
        if matches!(e.kind, EventKind::Crash | EventKind::OutOfMemory) {
            let c = crashed.entry(e.component.as_str()).or_default();
            c.0 += 1;
            c.1 |= e.kind == EventKind::OutOfMemory;
        }
    }
    let crashes = crashed
        .into_iter()
        .max_by_key(|&(_, (n, _))| n)
        .map(|(who, (n, oom))| (who.to_string(), n, oom));
    JourneyPoint {
        chapter,
        name: scn.name.clone(),
        users: scn.client.users,
        p99_ms: q(0.99),
        p50_ms: q(0.5),
        error_rate: Outcome::failed_share(&outcomes),
        goodput: ok as f64 / secs.max(1e-9),
        offered: f64::from(scn.client.users) / THINK_S,
        cost_per_month,
        truncated: start,
        settled: cut.settled,
        unsettled,
        busiest,
        failure,
        crashes,
        first_failed: crate::report::forensics::analyze(scn, run).line(),
        knees: knees(scn, run, kept, start),
    }
}

/// Every CPU tier's utilization over the measured windows, with where it saturates: queueing
/// theory's point for a server tier (`report::theory`: λ·E[S] reaching its vCPUs, a fleet at
/// its max), else — a database's primary or replicas, a job's or a worker pool's CPU — the
/// utilization law's: U grows in proportion to the users, so it reaches 1 at users ÷ U.
fn knees(
    scn: &Scenario,
    run: &RunOutput,
    kept: &[crate::metrics::WindowRow],
    start: Time,
) -> Vec<Knee> {
    let theory = crate::report::theory::analyze(scn, run, start);
    let users = f64::from(scn.client.users);
    crate::report::summary::tier_loads(kept, run)
        .into_iter()
        .map(|t| match theory.iter().find(|x| x.tier == t.name) {
            Some(x) => Knee {
                tier: t.name.to_string(),
                utilization: t.mean,
                rho: x.rho_predicted,
                saturates_at: x.users_at_saturation_at_max.filter(|u| u.is_finite()),
                by_theory: true,
            },
            None => Knee {
                tier: t.name.to_string(),
                utilization: t.mean,
                rho: t.mean,
                saturates_at: (t.mean >= 0.01 && users > 0.0).then(|| users / t.mean),
                by_theory: false,
            },
        })
        .collect()
}

/// What `scalesim journey` does besides where it writes.
#[derive(Clone, Debug)]
pub struct Options {
    /// User levels.
    pub levels: Vec<u32>,
    /// Chapters replayed (numbers of [`scenario::embedded::CHAPTERS`]), in story order.
    pub chapters: Vec<u32>,
    /// Run length and window.
    pub plan: Plan,
    /// Worker threads (`None`: one per core).
    pub jobs: Option<usize>,
    /// Show a progress bar (on a terminal, without `--quiet`).
    pub progress: bool,
    /// The run's limits.
    pub limits: crate::budget::Limits,
}

/// Runs every chapter at every level; writes journey.json, journey.csv, summary.md and the
/// charts to `out`. Returns the files written and the points.
pub fn run_journey(
    out: &Path,
    opts: &Options,
) -> Result<(Vec<PathBuf>, Vec<JourneyPoint>), String> {
    let mut tasks = Vec::new();
    for ch in scenario::embedded::CHAPTERS
        .iter()
        .filter(|c| opts.chapters.contains(&c.number))
    {
        for &u in &opts.levels {
            let scn = load_chapter(ch.number, u)
                .map_err(|e| format!("chapter {} under the journey's workload: {e}", ch.number))?;
            tasks.push((ch.number, steady_state(scn, u, opts.plan)));
        }
    }
    // Every run is estimated before any starts: a level too big is refused before an hour of
    // smaller ones is spent.
    let mut guards = Vec::new();
    for (chapter, scn) in &tasks {
        let est = crate::budget::estimate(scn);
        if let Some(why) = opts.limits.refuse(&est) {
            return Err(format!(
                "chapter {chapter} at {} users: {why}",
                scn.client.users
            ));
        }
        guards.push(crate::budget::Guard::new(opts.limits, Some(&est)));
    }
    let mut tasks: Vec<_> = tasks
        .into_iter()
        .zip(guards)
        .map(|((c, s), g)| (c, s, g))
        .collect();
    // The biggest populations take longest: start them first, and hand out one run at a time, so
    // no thread is left alone with a long run at the end. The output order is restored below.
    tasks.sort_by_key(|(chapter, scn, _)| (std::cmp::Reverse(scn.client.users), *chapter));
    let (threads, _) = worker_threads(opts.jobs);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let bar = opts.progress.then(|| {
        let b = indicatif::ProgressBar::new(tasks.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "  {bar:32} {pos}/{len} runs  {msg}  ({elapsed} so far, {eta} left)",
            )
            .expect("static template"),
        );
        b
    });
    let points: Vec<Result<JourneyPoint, String>> = pool.install(|| {
        tasks
            .par_iter()
            .with_max_len(1)
            .map(|(chapter, scn, guard)| -> Result<JourneyPoint, String> {
                if let Some(b) = &bar {
                    b.set_message(format!(
                        "now: {} at {} users",
                        scn.name,
                        charts::fmt_users(scn.client.users)
                    ));
                }
                let stopped = |at: Time, why: &str| {
                    format!(
                        "chapter {chapter} at {} users: the run stopped at {}: {why}",
                        scn.client.users,
                        crate::engine::time::clock(at)
                    )
                };
                let run = crate::run::run_limited(scn, guard, &mut |_| {})
                    .map_err(|e| stopped(e.0.at, &e.0.reason))?;
                if let Some(s) = &run.stopped {
                    return Err(stopped(s.at, &s.reason));
                }
                let p = measure(*chapter, scn, &run);
                if let Some(b) = &bar {
                    b.inc(1);
                }
                Ok(p)
            })
            .collect()
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut points: Vec<JourneyPoint> = points.into_iter().collect::<Result<_, _>>()?;
    points.sort_by_key(|p| (p.chapter, p.users));
    let files = write_journey(out, &points, opts.plan).map_err(|e| e.to_string())?;
    Ok((files, points))
}

/// One architecture's breaking point.
#[derive(Clone, Debug, PartialEq)]
pub struct BreakingPoint {
    /// Chapter.
    pub chapter: u32,
    /// Scenario name.
    pub name: String,
    /// The highest level meeting the objective with every level below it meeting it too
    /// (None: not even the lowest).
    pub holds: Option<u32>,
    /// The first level that does not, if any.
    pub breaks: Option<u32>,
    /// Why it does not: what broke it, or that it never settled.
    pub why: String,
    /// The chapter's short title ("The load balancer").
    pub title: String,
    /// Against the previous chapter shown: "up from 100", "same", "down from 10,000" (empty for
    /// the first), and the chapter's `because` when it says why — or which chapter it is
    /// compared with when that is not the one just before.
    pub versus: String,
}

/// Each architecture's breaking point, in chapter order.
pub fn breaking_points(points: &[JourneyPoint]) -> Vec<BreakingPoint> {
    let mut out: Vec<BreakingPoint> = Vec::new();
    let mut chapters: Vec<u32> = points.iter().map(|p| p.chapter).collect();
    chapters.dedup();
    for ch in chapters {
        let mut pts: Vec<&JourneyPoint> = points.iter().filter(|p| p.chapter == ch).collect();
        pts.sort_by_key(|p| p.users);
        let mut holds = None;
        let mut breaks = None;
        let mut why = "meets the objective at every level".to_string();
        for p in &pts {
            if p.meets_slo() {
                holds = Some(p.users);
                continue;
            }
            breaks = Some(p.users);
            let mut missed = Vec::new();
            if let Some(p99) = p.p99_ms.filter(|&v| v >= SLO_P99_MS) {
                missed.push(format!("p99 {}", charts::fmt_ms(p99)));
            } else if p.p99_ms.is_none() {
                missed.push("nothing succeeded".into());
            }
            if p.error_rate > SLO_ERROR_RATE {
                // Say what kind of failure once, beside the error rate.
                let kind = match p.failure {
                    Some((what, share)) if share >= 0.99 * p.error_rate => {
                        format!(", all {}", what.words())
                    }
                    Some((what, share)) if share >= 0.5 * p.error_rate => {
                        format!(", mostly {}", what.words())
                    }
                    _ => String::new(),
                };
                missed.push(format!("{:.1} % errors{kind}", p.error_rate * 100.0));
            }
            why = if !p.settled {
                format!(
                    "not settled: {} still moving after half the run (no verdict){}",
                    p.unsettled.join(", "),
                    if missed.is_empty() {
                        String::new()
                    } else {
                        format!("; so far {}", missed.join(", "))
                    }
                )
            } else {
                let culprit = if p.error_rate > SLO_ERROR_RATE {
                    p.cause()
                } else {
                    p.culprit()
                };
                if culprit.is_empty() {
                    missed.join(", ")
                } else {
                    format!("{} — {}", missed.join(", "), culprit)
                }
            };
            break;
        }
        let embedded = scenario::embedded::Chapter::number(ch);
        let versus = match out.last() {
            None => String::new(),
            Some(prev) => {
                let word = match holds.cmp(&prev.holds) {
                    std::cmp::Ordering::Greater => format!("up from {}", opt_users(prev.holds)),
                    std::cmp::Ordering::Equal => "same".to_string(),
                    std::cmp::Ordering::Less => format!("down from {}", opt_users(prev.holds)),
                };
                // The chapter's `because` speaks of the chapter just before it; against another
                // (`--chapters` left some out) the table names which one instead.
                let because = embedded
                    .filter(|_| prev.chapter + 1 == ch)
                    .and_then(|c| declaration(c.text))
                    .and_then(|d| d.because);
                match because {
                    Some(b) => format!("{word}: {b}"),
                    None if prev.chapter + 1 == ch => word,
                    None => format!("{word} (against chapter {})", prev.chapter),
                }
            }
        };
        out.push(BreakingPoint {
            chapter: ch,
            name: pts[0].name.clone(),
            holds,
            breaks,
            why,
            title: embedded.map_or_else(|| pts[0].name.clone(), |c| c.title().to_string()),
            versus,
        });
    }
    out
}

/// A scenario text's `[scenario.journey]` declaration, if it parses.
pub fn declaration(text: &str) -> Option<scenario::JourneyChange> {
    let doc: toml::Table = text.parse().ok()?;
    let journey = doc.get("scenario")?.get("journey")?.clone();
    journey.try_into().ok()
}

fn opt_users(u: Option<u32>) -> String {
    u.map_or("—".into(), charts::fmt_users)
}

/// The breaking-point table in Markdown.
pub fn breaking_table(points: &[JourneyPoint]) -> String {
    let mut s = String::from(
        "| # | architecture | meets the objective up to | breaks at | what broke it | against the chapter before |\n|---|---|---|---|---|---|\n",
    );
    for b in breaking_points(points) {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            b.chapter,
            b.title,
            opt_users(b.holds),
            opt_users(b.breaks),
            b.why,
            if b.versus.is_empty() {
                "—"
            } else {
                &b.versus
            }
        ));
    }
    s
}

fn summary_md(points: &[JourneyPoint], plan: Plan) -> String {
    let unsettled: Vec<String> = points
        .iter()
        .filter(|p| !p.settled)
        .map(|p| format!("{} at {} users", p.name, charts::fmt_users(p.users)))
        .collect();
    let mut s = format!(
        "# The journey: every chapter's architecture under one workload\n\n\
         Steady load, the same for every architecture: users thinking {THINK_S} s between clicks \
         (78 % browse /products, 2 % edit a product at 2× the work, 15 % search at 1.5×, 5 % buy at 3×), a 10 s timeout and \
         one retry; no spikes, bots or faults. Each run lasts {} of simulated time in {} s \
         windows; its figures are those after the end of its transient (MSER-5).\n\n\
         The objective: p99 of successful requests under {} and at most {} % of requests \
         failing, measured after the run settled.\n\n## Breaking points\n\n",
        crate::engine::time::clock(plan.duration),
        plan.window / SEC,
        charts::fmt_ms(SLO_P99_MS),
        SLO_ERROR_RATE * 100.0,
    );
    s.push_str(&breaking_table(points));
    s.push_str("\n## Every point\n\n| # | users | p99 | errors | goodput | $/month | measured from | settled |\n|---|---|---|---|---|---|---|---|\n");
    for p in points {
        s.push_str(&format!(
            "| {} | {} | {} | {:.2} % | {:.1}/s | {:.0} | {} | {} |\n",
            p.chapter,
            charts::fmt_users(p.users),
            p.p99_ms.map_or("—".into(), charts::fmt_ms),
            p.error_rate * 100.0,
            p.goodput,
            p.cost_per_month,
            crate::engine::time::clock(p.truncated),
            if p.settled {
                "yes".to_string()
            } else {
                format!("**no** ({})", p.unsettled.join(", "))
            }
        ));
    }
    if unsettled.is_empty() {
        s.push_str("\nEvery point settled.\n");
    } else {
        s.push_str(&format!(
            "\nNot settled (the transient lasted past half the run; no verdict): {}.\n",
            unsettled.join(", ")
        ));
    }
    s
}

/// Writes the journey's files atomically.
pub fn write_journey(
    out: &Path,
    points: &[JourneyPoint],
    plan: Plan,
) -> Result<Vec<PathBuf>, ReportError> {
    let stage = Staging::new(out)?;
    let rows: Vec<_> = points
        .iter()
        .map(|p| {
            json!({
                "chapter": p.chapter, "name": p.name, "users": p.users,
                "p50_ms": p.p50_ms, "p99_ms": p.p99_ms,
                "error_rate": round6(p.error_rate),
                "goodput_rps": round6(p.goodput),
                "offered_rps": round6(p.offered),
                "cost_per_month_usd": round6(p.cost_per_month),
                "measured_from_s": p.truncated as f64 / 1e9,
                "settled": p.settled,
                "unsettled_series": p.unsettled,
                "meets_slo": p.meets_slo(),
                "busiest_tier": p.busiest.as_ref().map(|(n, _)| n),
                "busiest_utilization": p.busiest.as_ref().map(|(_, u)| round6(*u)),
                "main_failure": p.failure.map(|(o, _)| o.name()),
                "main_failure_share": p.failure.map(|(_, s)| round6(s)),
                "tiers": p.knees.iter().map(|k| json!({
                    "tier": k.tier,
                    "utilization": round6(k.utilization),
                    "rho_predicted": round6(k.rho),
                    "saturates_at_users": k.saturates_at.map(|u| u.round()),
                    "saturates_by": if k.by_theory { "queueing_theory" } else { "utilization_law" },
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let breaking: Vec<_> = breaking_points(points)
        .into_iter()
        .map(|b| {
            json!({"chapter": b.chapter, "name": b.name, "title": b.title,
                   "meets_slo_up_to": b.holds, "breaks_at": b.breaks, "why": b.why,
                   "against_previous": b.versus})
        })
        .collect();
    let doc = json!({
        "schema_version": 2,
        "duration_s": plan.duration / SEC,
        "window_s": plan.window as f64 / 1e9,
        "truncation": "MSER-5 on mean latency, error rate, requests held and instances; settled when every minimum lies inside the first half",
        "workload": WORKLOAD,
        "slo": {"p99_ms_below": SLO_P99_MS, "error_rate_at_most": SLO_ERROR_RATE},
        "breaking_points": breaking,
        "points": rows,
    });
    let mut names = vec![
        "journey.json".to_string(),
        "journey.csv".to_string(),
        "summary.md".to_string(),
    ];
    stage.write(
        "journey.json",
        (serde_json::to_string_pretty(&doc).expect("serializes") + "\n").as_bytes(),
    )?;
    let mut csv = String::from(
        "chapter,name,users,p50_ms,p99_ms,error_rate,goodput_rps,offered_rps,cost_per_month_usd,measured_from_s,settled,meets_slo\n",
    );
    for p in points {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            p.chapter,
            p.name,
            p.users,
            p.p50_ms.map_or(String::new(), |x| x.to_string()),
            p.p99_ms.map_or(String::new(), |x| x.to_string()),
            round6(p.error_rate),
            round6(p.goodput),
            round6(p.offered),
            round6(p.cost_per_month),
            p.truncated as f64 / 1e9,
            p.settled,
            p.meets_slo()
        ));
    }
    stage.write("journey.csv", csv.as_bytes())?;
    stage.write("summary.md", summary_md(points, plan).as_bytes())?;
    let mut drawn = charts::journey_charts(&stage.dir, points)?;
    drawn.extend(charts::knee::knee_charts(
        &stage.dir,
        points,
        &breaking_points(points),
    )?);
    drawn.push(charts::journey_gif(&stage.dir, points)?);
    let page = html::index_html(&html::chapter_texts(), points, plan, &drawn);
    names.extend(drawn);
    stage.write("index.html", page.as_bytes())?;
    names.push("index.html".to_string());
    let target = stage.commit()?;
    Ok(names.into_iter().map(|n| target.join(n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_100000_is_capped_at_four_per_core_and_0_means_one_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(worker_threads(None), (cores, None));
        assert_eq!(worker_threads(Some(0)), (cores, None));
        assert_eq!(worker_threads(Some(1)), (1, None));
        let max = MAX_JOBS_PER_CORE * cores;
        assert_eq!(worker_threads(Some(max)), (max, None));
        let (n, note) = worker_threads(Some(100_000));
        assert_eq!(n, max);
        let note = note.expect("a note says it was capped");
        assert!(note.contains("--jobs 100000 capped at"), "{note}");
    }
}
