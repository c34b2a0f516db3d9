//! Raw speed of the event kernel: simulated events per second of the real engine
//! (`scalesim::engine::sim::Simulation`) against a bare `std::collections::BinaryHeap` loop doing
//! exactly the same schedule — the practical limit for a heap-based pending-event set.
//!
//! The workload is the classic "hold" model: a steady population of `N` pending events; handling
//! one reschedules it after a pseudo-random delay (uniform in 1 ns ..= 2 ms). Both loops draw the
//! delays from the same generator (PCG-64 MCG) in the same order and break ties by insertion order,
//! so they process the identical event sequence; the counts are checked to be equal.
//!
//! Run with `cargo bench --bench engine`. Environment: `BENCH_REPS` (default 7) repetitions per
//! case, `BENCH_EVENTS` (default 4,000,000) events per repetition. Medians are printed.

use rand::RngCore;
use rand_pcg::Pcg64Mcg;
use scalesim::engine::sim::{Fingerprint, Model, Scheduler, Simulation};
use scalesim::engine::Time;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

mod common;
use common::{env_or, median, timed, Timing};

/// Delays are uniform in `1 ..= SPAN` ns (mean ≈ 1 ms).
const SPAN: u64 = 2_000_000;
const SEED: u128 = 0x5ca1_e51a_d00d_f00d_1234_5678_9abc_def1;

#[inline(always)]
fn delay(rng: &mut Pcg64Mcg) -> Time {
    // Lemire's multiply-shift, as `RngStream::below` does.
    1 + ((u128::from(rng.next_u64()) * u128::from(SPAN)) >> 64) as u64
}

#[derive(Clone, Copy)]
struct Tick(u64);

impl Fingerprint for Tick {
    #[inline]
    fn fingerprint(&self) -> u64 {
        self.0
    }
}

/// The trivial model: every event reschedules itself.
struct Hold {
    rng: Pcg64Mcg,
}

impl Model for Hold {
    type Event = Tick;
    #[inline]
    fn handle(&mut self, ev: Tick, sched: &mut Scheduler<Tick>) {
        let d = delay(&mut self.rng);
        sched.after(d, ev);
    }
}

/// A simulation holding `pop` pending events, built outside the timed region.
fn build_engine(pop: usize) -> Simulation<Hold> {
    let mut rng = Pcg64Mcg::new(SEED);
    let mut sim = Simulation::new(Hold {
        rng: Pcg64Mcg::new(SEED ^ 1),
    });
    for i in 0..pop {
        let t = delay(&mut rng);
        sim.sched.at(t, Tick(i as u64));
    }
    sim
}

/// Runs the engine to `until` through `run_until` (the path `scalesim::run` uses).
fn time_engine(mut sim: Simulation<Hold>, until: Time) -> (u64, Timing) {
    let ((), t) = timed(|| sim.run_until(until));
    black_box(&sim.stats);
    (sim.stats.events, t)
}

type Bare = (BinaryHeap<Reverse<(Time, u64, u64)>>, Pcg64Mcg, u64);

/// The same initial state as [`build_engine`], for the bare loop. The engine numbers its
/// insertions from 1; so does this.
fn build_bare(pop: usize) -> Bare {
    let mut rng = Pcg64Mcg::new(SEED);
    let mut heap = BinaryHeap::with_capacity(pop.max(1024));
    let mut seq = 0u64;
    for i in 0..pop {
        let t = delay(&mut rng);
        seq += 1;
        heap.push(Reverse((t, seq, i as u64)));
    }
    (heap, Pcg64Mcg::new(SEED ^ 1), seq)
}

/// The practical limit: pop the earliest `(time, seq)`, draw a delay, push — nothing else.
fn time_bare((mut heap, mut rng, mut seq): Bare, until: Time) -> (u64, Timing) {
    let (n, t) = timed(|| {
        let mut n = 0u64;
        while let Some(&Reverse((t, _, _))) = heap.peek() {
            if t > until {
                break;
            }
            let Reverse((t, _, p)) = heap.pop().expect("peeked");
            n += 1;
            let d = delay(&mut rng);
            seq += 1;
            heap.push(Reverse((t + d, seq, p)));
        }
        n
    });
    black_box(&heap);
    (n, t)
}

fn main() {
    let reps = env_or("BENCH_REPS", 7).max(1) as usize;
    let events = env_or("BENCH_EVENTS", 4_000_000).max(1000);
    println!("scalesim engine benchmark: hold model, delays uniform in 1ns..=2ms");
    println!(
        "{events} events per repetition, median of {reps} repetitions (engine and bare loop interleaved)"
    );
    println!("rates from thread CPU time; the last column is the ratio from wall-clock time\n");
    println!(
        "{:>8} | {:>10} | {:>12} | {:>12} | {:>9} | {:>9} | {:>9} | {:>9}",
        "pending",
        "events",
        "engine ev/s",
        "bare ev/s",
        "engine ns",
        "bare ns",
        "bare/eng",
        "(wall)"
    );
    println!("{}", "-".repeat(96));
    for pop in [10usize, 1_000, 100_000] {
        // Mean delay ≈ SPAN/2, so `pop` pending events fire at pop / (SPAN/2) per ns.
        let until = events * (SPAN / 2) / pop as u64;
        let (mut e_cpu, mut b_cpu, mut e_wall, mut b_wall) = (vec![], vec![], vec![], vec![]);
        let mut count = 0;
        for _ in 0..reps {
            let sim = build_engine(pop);
            let (en, et) = time_engine(sim, until);
            let bare = build_bare(pop);
            let (bn, bt) = time_bare(bare, until);
            assert_eq!(en, bn, "engine and bare loop must process the same events");
            count = en;
            e_cpu.push(en as f64 / et.cpu);
            b_cpu.push(bn as f64 / bt.cpu);
            e_wall.push(en as f64 / et.wall);
            b_wall.push(bn as f64 / bt.wall);
        }
        let (e, b) = (median(&e_cpu), median(&b_cpu));
        let (ew, bw) = (median(&e_wall), median(&b_wall));
        println!(
            "{:>8} | {:>10} | {:>12.3e} | {:>12.3e} | {:>9.1} | {:>9.1} | {:>8.2}x | {:>8.2}x",
            pop,
            count,
            e,
            b,
            1e9 / e,
            1e9 / b,
            b / e,
            bw / ew
        );
    }
    println!("\ngoal: engine within 3x of the bare heap loop (bare/eng <= 3)");
}
