//! The hand-written M/M/c loop of `benches/mmc.rs` as a process of its own, for the peer harness
//! (`benches/peers/run.sh`), which times whole processes (CPU, wall, peak memory) side by side
//! with scalesim, SimPy and Ciw.
//!
//! The loop is the smallest honest M/M/c: arrivals and departures on a `BinaryHeap` of
//! (time, seq, payload), integer-nanosecond time, PCG-64 MCG with `rand_distr::Exp1`, a FIFO of
//! waiting customers and one `hdrhistogram` record per customer. No framework. One difference
//! from the bench's loop: warm-up is handled as scalesim handles it — the mean wait in queue is
//! taken over the customers whose service ends in [warm-up, duration] — so a departure carries its
//! customer's arrival *and* service-start times (a 4-word heap entry instead of 3).
//!
//! ```text
//! cargo run --release --example mmc_hand -- [--duration 2778] [--warmup 60] [--seed 1]
//! ```
//!
//! Prints one JSON line: customers (λ × duration), served after the warm-up, mean wait (s), the
//! Erlang C mean wait, events handled.

use hdrhistogram::Histogram;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64Mcg;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::process::ExitCode;

/// The model's parameters.
struct Params {
    servers: u32,
    lambda: f64,
    mu: f64,
    duration_s: f64,
    warmup_s: f64,
    seed: u64,
}

/// What one run measured.
struct Outcome {
    served_after_warmup: u64,
    wait_sum_ns: u64,
    events: u64,
}

/// Erlang C: mean wait in queue of M/M/c, seconds.
fn erlang_c_wait(c: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let rho = a / f64::from(c);
    let mut b = 1.0; // Erlang B recursion
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let p_wait = b / (1.0 - rho * (1.0 - b));
    p_wait / (f64::from(c) * mu - lambda)
}

fn run(p: &Params) -> Outcome {
    const ARRIVAL: u64 = u64::MAX;
    let duration_ns = (p.duration_s * 1e9) as u64;
    let warmup_ns = (p.warmup_s * 1e9) as u64;
    let mean_gap_ns = 1e9 / p.lambda;
    let mean_service_ns = 1e9 / p.mu;
    // `Pcg64Mcg::new` sets the state's lowest bit (an MCG's state must be odd), so seeds 2k and
    // 2k + 1 would give the same stream: shift the seed past that bit.
    let seed = u128::from(p.seed) << 1;
    let mut arr_rng = Pcg64Mcg::new(seed);
    let mut svc_rng = Pcg64Mcg::new(seed ^ (0x9e37_79b9_7f4a_7c15 << 1));
    let mut hist = Histogram::<u64>::new_with_bounds(1_000, 24 * 3_600 * 1_000_000_000, 3)
        .expect("valid bounds");
    // (time, seq, arrived, started): `arrived` is ARRIVAL for an arrival; for a departure, the
    // customer's arrival and service-start times.
    let mut heap: BinaryHeap<Reverse<(u64, u64, u64, u64)>> = BinaryHeap::with_capacity(64);
    let mut waiting: VecDeque<u64> = VecDeque::with_capacity(1024);
    let mut seq = 0u64;
    let mut busy = 0u32;
    let mut o = Outcome {
        served_after_warmup: 0,
        wait_sum_ns: 0,
        events: 0,
    };
    let sample = |rng: &mut Pcg64Mcg, mean: f64| -> u64 {
        let e: f64 = Exp1.sample(rng);
        (e * mean).round() as u64
    };
    seq += 1;
    heap.push(Reverse((
        sample(&mut arr_rng, mean_gap_ns),
        seq,
        ARRIVAL,
        0,
    )));
    while let Some(Reverse((now, _, arrived, started))) = heap.pop() {
        if now > duration_ns {
            break;
        }
        o.events += 1;
        if arrived == ARRIVAL {
            seq += 1;
            heap.push(Reverse((
                now + sample(&mut arr_rng, mean_gap_ns),
                seq,
                ARRIVAL,
                0,
            )));
            if busy < p.servers {
                busy += 1;
                seq += 1;
                heap.push(Reverse((
                    now + sample(&mut svc_rng, mean_service_ns),
                    seq,
                    now,
                    now,
                )));
            } else {
                waiting.push_back(now);
            }
        } else {
            hist.saturating_record((now - arrived).max(1_000));
            if now >= warmup_ns {
                o.served_after_warmup += 1;
                o.wait_sum_ns += started - arrived;
            }
            if let Some(queued) = waiting.pop_front() {
                seq += 1;
                heap.push(Reverse((
                    now + sample(&mut svc_rng, mean_service_ns),
                    seq,
                    queued,
                    now,
                )));
            } else {
                busy -= 1;
            }
        }
    }
    black_box(&hist);
    o
}

/// Parses `--name value` pairs; unknown names and bad numbers are errors.
fn params(args: &[String]) -> Result<Params, String> {
    let mut p = Params {
        servers: 4,
        lambda: 360.0,
        mu: 100.0,
        duration_s: 2778.0,
        warmup_s: 60.0,
        seed: 1,
    };
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let value = it.next().ok_or_else(|| format!("{name} needs a value"))?;
        let num = || -> Result<f64, String> {
            value
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| format!("{name} {value}: expected a number ≥ 0"))
        };
        match name.as_str() {
            "--servers" => p.servers = num()?.max(1.0) as u32,
            "--lam" => p.lambda = num()?,
            "--mu" => p.mu = num()?,
            "--duration" => p.duration_s = num()?,
            "--warmup" => p.warmup_s = num()?,
            "--seed" => p.seed = num()? as u64,
            _ => {
                return Err(format!(
                    "unknown option {name} (expected --servers, --lam, --mu, --duration, \
                     --warmup or --seed)"
                ))
            }
        }
    }
    if p.lambda <= 0.0 || p.mu <= 0.0 || p.lambda >= f64::from(p.servers) * p.mu {
        return Err("the queue must be stable: 0 < lam < servers × mu".into());
    }
    Ok(p)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let p = match params(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let o = run(&p);
    let mean_wait = (o.served_after_warmup > 0)
        .then(|| o.wait_sum_ns as f64 / o.served_after_warmup as f64 / 1e9);
    println!(
        "{{\"tool\": \"hand\", \"customers\": {}, \"served_after_warmup\": {}, \"mean_wait_s\": {}, \
         \"erlang_c_wait_s\": {}, \"events\": {}}}",
        (p.lambda * p.duration_s).round() as u64,
        o.served_after_warmup,
        mean_wait.map_or("null".to_string(), |w| format!("{w:.9}")),
        erlang_c_wait(p.servers, p.lambda, p.mu),
        o.events
    );
    ExitCode::SUCCESS
}
