//! M/M/c throughput of the whole simulator against a minimal hand-written M/M/c loop.
//!
//! The model: c = 4 servers, Poisson arrivals at λ = 360/s, exponential service with mean 10 ms
//! (μ = 100/s), so ρ = λ/(cμ) = 0.9. About 1,000,000 customers per run.
//!
//! * "scalesim" builds the scenario from TOML text (`scalesim::scenario::parse`) and runs it with
//!   `scalesim::run::run`: the real engine, client, server, request table and metrics.
//! * "hand-written" is the smallest honest M/M/c loop: a `BinaryHeap` of (time, seq, event), the
//!   same RNG family (PCG-64 MCG with `rand_distr::Exp1`), integer-nanosecond time, and one
//!   `hdrhistogram` record per customer. No framework.
//!
//! Both report the mean wait in queue, checked against the Erlang C formula, so the comparison is
//! apples to apples. Then the peak resident memory (VmHWM) of a fresh process running the real
//! engine for 1M and for 10M customers.
//!
//! Run with `cargo bench --bench mmc`. Environment: `BENCH_REPS` (default 5) repetitions;
//! `BENCH_CUSTOMERS` (default 1,000,000) customers per repetition; `BENCH_ONLY=scalesim` or
//! `BENCH_ONLY=hand` runs one side alone (for a profiler) and skips the rest; `BENCH_MEM=0` skips
//! the memory runs. Medians are printed.

use hdrhistogram::Histogram;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64Mcg;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;

mod common;
use common::{env_or, median, timed, Timing};

const C: u32 = 4;
const LAMBDA: f64 = 360.0; // per second
const MEAN_SERVICE_S: f64 = 0.010;

/// The scenario text for a run of `secs` simulated seconds.
fn scenario_text(secs: u64) -> String {
    format!(
        r#"
[scenario]
name = "bench-mmc"
duration = "{secs}s"
seed = 1

[workload]
arrival_rate = "360/s"

[network]
client_rtt = "0s"
internal_rtt = "0s"

[components.queue]
kind = "server"
vcpus = 4
workers = 4
memory = "64GiB"
memory_per_request = "0B"
backlog = 100000000
service = {{ dist = "exponential", mean = "10ms" }}
"#
    )
}

fn scenario(secs: u64) -> scalesim::scenario::Scenario {
    scalesim::scenario::parse("bench", &scenario_text(secs), &[]).expect("bench scenario parses")
}

/// Erlang C: mean wait in queue of M/M/c, seconds.
fn erlang_c_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let rho = a / f64::from(c);
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    // term = a^c / c!
    let top = term / (1.0 - rho);
    let p_wait = top / (sum + top);
    p_wait / (f64::from(c) * mu - lambda)
}

struct Outcome {
    time: Timing,
    customers: u64,
    mean_wait_s: f64,
    events: u64,
    /// The engine's event-stream hash (0 for the hand-written loop).
    hash: u64,
}

/// The real simulator. Parsing is outside the timed region; building the world is inside (it is
/// part of `run::run`, and negligible).
fn run_scalesim(scn: &scalesim::scenario::Scenario) -> Outcome {
    let (out, time) = timed(|| scalesim::run::run(scn, &mut |_| {}));
    let s = &out.queue.as_ref().expect("the entry is a server").stats;
    black_box(&out.metrics);
    Outcome {
        time,
        customers: out.metrics.ended,
        mean_wait_s: s.wait_sum / s.completed as f64 / 1e9,
        events: out.events,
        hash: out.hash,
    }
}

/// The minimal hand-written M/M/c: arrivals and departures on a binary heap, a FIFO of waiting
/// customers' arrival times, a sojourn-time histogram.
fn run_hand(duration_ns: u64, seed: u128) -> Outcome {
    const ARRIVAL: u64 = u64::MAX;
    let mean_gap_ns = 1e9 / LAMBDA;
    let mean_service_ns = MEAN_SERVICE_S * 1e9;
    let ((customers, wait_sum, events), time) = timed(|| {
        let mut arr_rng = Pcg64Mcg::new(seed);
        let mut svc_rng = Pcg64Mcg::new(seed ^ (0x9e37_79b9_7f4a_7c15 << 1));
        let mut hist = Histogram::<u64>::new_with_bounds(1_000, 24 * 3_600 * 1_000_000_000, 3)
            .expect("valid bounds");
        // (time, seq, payload): payload is ARRIVAL, or the customer's arrival time for a departure.
        let mut heap: BinaryHeap<Reverse<(u64, u64, u64)>> = BinaryHeap::with_capacity(64);
        let mut waiting: VecDeque<u64> = VecDeque::with_capacity(1024);
        let mut seq = 0u64;
        let mut busy = 0u32;
        let (mut customers, mut wait_sum, mut events) = (0u64, 0u64, 0u64);
        let sample = |rng: &mut Pcg64Mcg, mean: f64| -> u64 {
            let e: f64 = Exp1.sample(rng);
            (e * mean).round() as u64
        };
        seq += 1;
        heap.push(Reverse((sample(&mut arr_rng, mean_gap_ns), seq, ARRIVAL)));
        while let Some(Reverse((now, _, what))) = heap.pop() {
            if now > duration_ns {
                break;
            }
            events += 1;
            if what == ARRIVAL {
                seq += 1;
                heap.push(Reverse((
                    now + sample(&mut arr_rng, mean_gap_ns),
                    seq,
                    ARRIVAL,
                )));
                if busy < C {
                    busy += 1;
                    seq += 1;
                    heap.push(Reverse((
                        now + sample(&mut svc_rng, mean_service_ns),
                        seq,
                        now,
                    )));
                } else {
                    waiting.push_back(now);
                }
            } else {
                customers += 1;
                hist.saturating_record((now - what).max(1_000));
                if let Some(arrived) = waiting.pop_front() {
                    wait_sum += now - arrived;
                    seq += 1;
                    heap.push(Reverse((
                        now + sample(&mut svc_rng, mean_service_ns),
                        seq,
                        arrived,
                    )));
                } else {
                    busy -= 1;
                }
            }
        }
        black_box(&hist);
        (customers, wait_sum, events)
    });
    Outcome {
        time,
        customers,
        mean_wait_s: wait_sum as f64 / customers as f64 / 1e9,
        events,
        hash: 0,
    }
}

/// A /proc/self/status field, in KiB.
fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

const CHILD_FLAG: &str = "--scalesim-mem-child";

/// In a child process: run the real engine for `customers` and print `VmHWM` before and after.
fn mem_child(customers: u64) {
    let scn = scenario((customers as f64 / LAMBDA).ceil() as u64);
    let before = proc_status_kib("VmHWM:").unwrap_or(0);
    let (out, t) = timed(|| scalesim::run::run(&scn, &mut |_| {}));
    let after = proc_status_kib("VmHWM:").unwrap_or(0);
    let rate = (out.metrics.ended as f64 / t.cpu) as u64;
    println!(
        "{before} {after} {} {} {rate}",
        out.metrics.ended, out.peak_in_flight
    );
}

/// Spawns this binary to measure a run's peak memory in a fresh process: VmHWM before and after
/// the run (KiB), customers served, most requests in flight, customers per CPU second.
fn measure_memory(customers: u64) -> Option<(u64, u64, u64, u64, u64)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .arg(CHILD_FLAG)
        .arg(customers.to_string())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    let v: Vec<u64> = s
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    (v.len() == 5).then(|| (v[0], v[1], v[2], v[3], v[4]))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == CHILD_FLAG) {
        let n = args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        mem_child(n);
        return;
    }
    let reps = env_or("BENCH_REPS", 5).max(1) as usize;
    let target = env_or("BENCH_CUSTOMERS", 1_000_000).max(1000);
    let secs = (target as f64 / LAMBDA).ceil() as u64; // 1M customers → 2778 s
    let scn = scenario(secs);
    let wq = erlang_c_wait(C, LAMBDA, 1.0 / MEAN_SERVICE_S);
    // `Pcg64Mcg::new` sets the state's lowest bit (an MCG's state must be odd), so seeds 2k and
    // 2k + 1 would give the same stream: step the seeds past that bit.
    let hand_seed = |r: usize| (0x1234_5678 + r as u128) << 1;

    // For profiling one side alone: BENCH_ONLY=scalesim or BENCH_ONLY=hand.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only == "scalesim" || only == "hand" {
        for r in 0..reps {
            let o = if only == "scalesim" {
                run_scalesim(&scn)
            } else {
                run_hand(secs * 1_000_000_000, hand_seed(r))
            };
            println!(
                "{only}: {:.3e} customers/s (CPU time), {:.3e} (wall), mean wait {:.5} s, \
                 {} events, hash {:016x}",
                o.customers as f64 / o.time.cpu,
                o.customers as f64 / o.time.wall,
                o.mean_wait_s,
                o.events,
                o.hash
            );
        }
        return;
    }

    println!("scalesim M/M/c benchmark: c = {C}, lambda = {LAMBDA}/s, E[S] = 10 ms, rho = 0.9");
    println!(
        "{secs} simulated seconds (~{target} customers) per run, median of {reps} runs (interleaved)"
    );
    println!("rates from thread CPU time (wall-clock rates in brackets)\n");

    let mut runs: Vec<(Outcome, Outcome)> = Vec::new();
    for r in 0..reps {
        let s = run_scalesim(&scn);
        let h = run_hand(secs * 1_000_000_000, hand_seed(r));
        runs.push((s, h));
    }
    let rate =
        |o: &Outcome, wall: bool| o.customers as f64 / if wall { o.time.wall } else { o.time.cpu };
    let med = |pick: &dyn Fn(&(Outcome, Outcome)) -> f64| {
        median(&runs.iter().map(pick).collect::<Vec<_>>())
    };
    let (sm, hm) = (med(&|p| rate(&p.0, false)), med(&|p| rate(&p.1, false)));
    let (smw, hmw) = (med(&|p| rate(&p.0, true)), med(&|p| rate(&p.1, true)));
    // scalesim is deterministic (same seed every run); the hand loop uses a seed per run, so its
    // mean wait is averaged over the runs.
    let s_wait = runs[0].0.mean_wait_s;
    let h_wait = runs.iter().map(|p| p.1.mean_wait_s).sum::<f64>() / reps as f64;
    let (s0, h0) = (&runs[0].0, &runs[0].1);
    let err = |w: f64| (w / wq - 1.0) * 100.0;
    println!(
        "{:<13} | {:>9} | {:>9} | {:>11} | {:>13} | {:>8} | {:>11} | {:>8}",
        "", "customers", "events", "customers/s", "(wall)", "ns/cust", "mean wait s", "vs Erlang"
    );
    println!("{}", "-".repeat(101));
    for (name, o, m, mw, w) in [
        ("scalesim", s0, sm, smw, s_wait),
        ("hand-written", h0, hm, hmw, h_wait),
    ] {
        println!(
            "{:<13} | {:>9} | {:>9} | {:>11.3e} | ({:>11.3e}) | {:>8.1} | {:>11.5} | {:>+7.2}%",
            name,
            o.customers,
            o.events,
            m,
            mw,
            1e9 / m,
            w,
            err(w)
        );
    }
    println!(
        "{:<13} | {:>9} | {:>9} | {:>11} | {:>13} | {:>8} | {:>11.5} |",
        "Erlang C", "", "", "", "", "", wq
    );
    println!(
        "\nhand-written / scalesim: {:.2}x (wall-clock: {:.2}x)",
        hm / sm,
        hmw / smw
    );
    for (name, w) in [("scalesim", s_wait), ("hand-written", h_wait)] {
        if err(w).abs() > 5.0 {
            println!("WARNING: {name} mean wait is more than 5% from Erlang C");
        }
    }
    println!(
        "goals: >= 5e6 customers/s through scalesim: {}; within 2x of hand-written: {}",
        if sm >= 5e6 { "met" } else { "NOT met" },
        if hm / sm <= 2.0 { "met" } else { "NOT met" }
    );

    if env_or("BENCH_MEM", 1) == 0 {
        return;
    }
    println!("\npeak memory of a fresh process running scalesim (VmHWM):");
    println!(
        "{:>10} | {:>10} | {:>16} | {:>15} | {:>14} | {:>11}",
        "customers",
        "served",
        "VmHWM before run",
        "VmHWM after run",
        "peak in flight",
        "customers/s"
    );
    for n in [1_000_000u64, 10_000_000] {
        match measure_memory(n) {
            Some((before, after, ended, peak, rate)) => println!(
                "{:>10} | {:>10} | {:>12.1} MiB | {:>11.1} MiB | {:>14} | {:>11.3e}",
                n,
                ended,
                before as f64 / 1024.0,
                after as f64 / 1024.0,
                peak,
                rate as f64
            ),
            None => println!("{n:>10} | (measurement failed)"),
        }
    }
}
