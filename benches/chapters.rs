//! Events per second of CPU for the real components: chapters 4, 5, 6, 8 and 13 at 100,000 users,
//! each in the steady state the journey replays (`scalesim::journey::steady_state`: the chapter's
//! final architecture, no spikes, bots, refresh storms or faults).
//!
//! Chapter 5 runs with a healthy fixed fleet (`components.web.min = max = 200`, the `--set`
//! overrides a user would give): its own ten servers are overloaded at 100k users, and an
//! overloaded fleet measures refusals, not the balancer's per-request path.
//!
//! Each run is shortened to `BENCH_SECS` simulated seconds (default 180, warm-up a third of it)
//! from the journey's 10 minutes, so one run takes a few seconds; the rate per event hardly depends
//! on the length once the users' first think times have spread them out.
//!
//! Run with `cargo bench --bench chapters`. Environment: `BENCH_REPS` (default 3) repetitions, the
//! median printed; `BENCH_USERS` (default 100000); `BENCH_SECS` (default 180); `BENCH_FLEET`
//! (default 200) chapter 5's fleet; `BENCH_CHAPTERS` (default `4,5,6,8,13`) which chapters.
//! Rates come from the benchmark thread's CPU time (a run is single-threaded), wall-clock beside.

use scalesim::engine::time::SEC;
use scalesim::scenario::{self, Override};
use std::hint::black_box;

mod common;
use common::{env_or, median, timed, Timing};

/// The steady-state scenario of `chapter` at `users`, `secs` simulated seconds long.
fn scenario(chapter: u32, users: u32, secs: u64, fleet: u64) -> scenario::Scenario {
    let sets: Vec<String> = if chapter == 5 {
        vec![
            format!("components.web.min={fleet}"),
            format!("components.web.max={fleet}"),
        ]
    } else {
        Vec::new()
    };
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).unwrap_or_else(|e| panic!("override {s}: {e}")))
        .collect();
    let scn = scenario::load(&format!("chapter:{chapter}"), &overrides)
        .unwrap_or_else(|e| panic!("chapter {chapter} loads: {e}"));
    let mut scn = scalesim::journey::steady_state(scn, users, scalesim::journey::DEFAULT_PLAN);
    scn.keep_window_histograms = false;
    scn.duration = secs * SEC;
    scn.warmup = secs * SEC / 3;
    scn.window = scalesim::metrics::auto_window(scn.duration, 60);
    scn
}

/// One run's figures.
struct Outcome {
    time: Timing,
    events: u64,
    requests: u64,
    errors: f64,
}

fn run(scn: &scenario::Scenario) -> Outcome {
    let (out, time) = timed(|| scalesim::run::run(scn, &mut |_| {}));
    let f = scalesim::report::results::figures(&out);
    black_box(&out.metrics);
    Outcome {
        time,
        events: out.events,
        requests: f.total,
        errors: f.error_rate,
    }
}

fn main() {
    let reps = env_or("BENCH_REPS", 3).max(1) as usize;
    let users = env_or("BENCH_USERS", 100_000).clamp(1, u64::from(u32::MAX)) as u32;
    let secs = env_or("BENCH_SECS", 180).max(3);
    let fleet = env_or("BENCH_FLEET", 200).max(1);
    let chapters: Vec<u32> = std::env::var("BENCH_CHAPTERS")
        .unwrap_or_else(|_| "4,5,6,8,13".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();

    println!(
        "chapters at {users} users, steady state (as `scalesim journey`), {secs} simulated s \
         (warm-up {} s), median of {reps} runs; chapter 5 with a fixed fleet of {fleet}",
        secs / 3
    );
    println!("rates from thread CPU time (wall-clock rates in brackets)\n");
    println!(
        "{:>7} | {:<24} | {:>11} | {:>10} | {:>7} | {:>7} | {:>11} | {:>13} | {:>10}",
        "chapter",
        "scenario",
        "events",
        "requests",
        "errors",
        "CPU s",
        "events/s",
        "(wall)",
        "ns/event"
    );
    println!("{}", "-".repeat(124));
    let mut lowest = f64::INFINITY;
    for &ch in &chapters {
        let scn = scenario(ch, users, secs, fleet);
        let runs: Vec<Outcome> = (0..reps).map(|_| run(&scn)).collect();
        let o = &runs[0];
        let cpu = median(&runs.iter().map(|r| r.time.cpu).collect::<Vec<_>>());
        let wall = median(&runs.iter().map(|r| r.time.wall).collect::<Vec<_>>());
        let rate = o.events as f64 / cpu;
        lowest = lowest.min(rate);
        println!(
            "{:>7} | {:<24} | {:>11} | {:>10} | {:>6.2}% | {:>7.2} | {:>11.3e} | ({:>11.3e}) | {:>10.1}",
            ch,
            scn.name,
            o.events,
            o.requests,
            o.errors * 100.0,
            cpu,
            rate,
            o.events as f64 / wall,
            1e9 / rate
        );
    }
    println!("\nlowest: {lowest:.3e} events/s of CPU (issue 16's goals: chapter 5 >= 1e7, none below 6e6)");
}
