//! `scalesim journey`: every embedded chapter's architecture replayed at steady load from 10 to
//! 100,000 users, and the comparison charts (p99 and error rate against users, log axes).
//!
//! Each replay keeps the chapter's architecture in its final form — a scheduled resize is applied
//! from the start, spikes and faults are left out — so the lines compare *designs*, not incidents.

use crate::engine::time::{Time, MIN};
use crate::report::results::figures;
use crate::report::{charts, ReportError, Staging};
use crate::scenario::{self, Scenario};
use rayon::prelude::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// User levels replayed by default.
pub const DEFAULT_LEVELS: [u32; 5] = [10, 100, 1_000, 10_000, 100_000];
/// Simulated length of each replay.
pub const REPLAY_DURATION: u64 = 10 * MIN;
/// Warm-up of each replay.
pub const REPLAY_WARMUP: u64 = 4 * MIN;

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

/// One point of the journey: an architecture at a load level.
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
    /// $ per month at the run's rate.
    pub cost_per_month: f64,
}

/// Turns a chapter scenario into its steady-state architecture at `users`.
pub fn steady_state(mut scn: Scenario, users: u32) -> Scenario {
    scn.client.users = users;
    scn.client.curve.spikes.clear();
    // Bots are a chapter's one-off event too (its attack): the journey measures the users.
    scn.client.streams.retain(|s| s.population == 0);
    // So are impatient users' reloads (a chapter's refresh storm): every chapter's users wait alike.
    scn.client.refresh = None;
    scn.faults.clear();
    scn.duration = REPLAY_DURATION;
    scn.warmup = REPLAY_WARMUP;
    scn.window = crate::metrics::auto_window(REPLAY_DURATION, 60);
    for (_, c) in &mut scn.components {
        c.steady_state();
    }
    scn.overrides
        .push(format!("journey: users={users}, steady state"));
    scn
}

/// Runs every chapter at every level; writes journey.json, journey.csv and the charts to `out`.
pub fn run_journey(
    out: &Path,
    levels: &[u32],
    jobs: Option<usize>,
    verbose: bool,
    limits: crate::budget::Limits,
) -> Result<Vec<PathBuf>, String> {
    let mut tasks = Vec::new();
    for ch in scenario::embedded::CHAPTERS {
        let scn =
            scenario::load(&format!("chapter:{}", ch.number), &[]).map_err(|e| e.to_string())?;
        for &u in levels {
            tasks.push((ch.number, steady_state(scn.clone(), u)));
        }
    }
    // Every run is estimated before any starts: a level too big is refused before an hour of
    // smaller ones is spent.
    let mut guards = Vec::new();
    for (chapter, scn) in &tasks {
        let est = crate::budget::estimate(scn);
        if let Some(why) = limits.refuse(&est) {
            return Err(format!(
                "chapter {chapter} at {} users: {why}",
                scn.client.users
            ));
        }
        guards.push(crate::budget::Guard::new(limits, Some(&est)));
    }
    let mut tasks: Vec<_> = tasks
        .into_iter()
        .zip(guards)
        .map(|((c, s), g)| (c, s, g))
        .collect();
    // The biggest populations take longest: start them first, and hand out one run at a time, so
    // no thread is left alone with a long run at the end. The output order is restored below.
    tasks.sort_by_key(|(chapter, scn, _)| (std::cmp::Reverse(scn.client.users), *chapter));
    let (threads, _) = worker_threads(jobs);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let points: Vec<Result<JourneyPoint, String>> = pool.install(|| {
        tasks
            .par_iter()
            .with_max_len(1)
            .map(|(chapter, scn, guard)| -> Result<JourneyPoint, String> {
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
                let f = figures(&run);
                let hours = (scn.duration - scn.warmup) as f64 / 3.6e12;
                let p = JourneyPoint {
                    chapter: *chapter,
                    name: scn.name.clone(),
                    users: scn.client.users,
                    p99_ms: (!f.latency.is_empty())
                        .then(|| f.latency.value_at_quantile(0.99) as f64 / 1e6),
                    p50_ms: (!f.latency.is_empty())
                        .then(|| f.latency.value_at_quantile(0.5) as f64 / 1e6),
                    error_rate: f.error_rate,
                    goodput: f.goodput,
                    cost_per_month: f.cost / hours * crate::scenario::units::HOURS_PER_MONTH,
                };
                if verbose {
                    crate::cli::write_stderr(format_args!(
                        "  chapter {:>2} at {:>6} users: p99 {:>9}, errors {:>6.2} %\n",
                        p.chapter,
                        p.users,
                        p.p99_ms.map_or("—".into(), |x| format!("{x:.1} ms")),
                        p.error_rate * 100.0
                    ));
                }
                Ok(p)
            })
            .collect()
    });
    let mut points: Vec<JourneyPoint> = points.into_iter().collect::<Result<_, _>>()?;
    points.sort_by_key(|p| (p.chapter, p.users));
    write_journey(out, &points).map_err(|e| e.to_string())
}

/// Writes the journey's files atomically.
pub fn write_journey(out: &Path, points: &[JourneyPoint]) -> Result<Vec<PathBuf>, ReportError> {
    let stage = Staging::new(out)?;
    let rows: Vec<_> = points
        .iter()
        .map(|p| {
            json!({
                "chapter": p.chapter, "name": p.name, "users": p.users,
                "p50_ms": p.p50_ms, "p99_ms": p.p99_ms,
                "error_rate": crate::report::results::round6(p.error_rate),
                "goodput_rps": crate::report::results::round6(p.goodput),
                "cost_per_month_usd": crate::report::results::round6(p.cost_per_month),
            })
        })
        .collect();
    let doc = json!({"schema_version": 1, "duration_s": REPLAY_DURATION / 1_000_000_000, "warmup_s": REPLAY_WARMUP / 1_000_000_000, "points": rows});
    let mut names = vec!["journey.json".to_string(), "journey.csv".to_string()];
    stage.write(
        "journey.json",
        (serde_json::to_string_pretty(&doc).expect("serializes") + "\n").as_bytes(),
    )?;
    let mut csv = String::from(
        "chapter,name,users,p50_ms,p99_ms,error_rate,goodput_rps,cost_per_month_usd\n",
    );
    for p in points {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            p.chapter,
            p.name,
            p.users,
            p.p50_ms.map_or(String::new(), |x| x.to_string()),
            p.p99_ms.map_or(String::new(), |x| x.to_string()),
            crate::report::results::round6(p.error_rate),
            crate::report::results::round6(p.goodput),
            crate::report::results::round6(p.cost_per_month)
        ));
    }
    stage.write("journey.csv", csv.as_bytes())?;
    names.extend(charts::journey_charts(&stage.dir, points)?);
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
