//! What the fuzzers and property tests share (not a stable API): cut a checked scenario down to a
//! short run, and run it under the checks every scenario `validate` accepts must pass — the run
//! does not panic, and every request ends in exactly one outcome.
//!
//! Used by the in-process mutation fuzzer (`tests/it/fuzz.rs`), the range-edges property
//! (`tests/it/edges.rs`), the property tests (`tests/it/properties.rs`) and the cargo-fuzz
//! targets (`fuzz/fuzz_targets/`), so they all check the same things the same way.

use crate::engine::time::{Time, SEC};
use crate::run::RunOutput;
use crate::scenario::Scenario;

/// How small a short run is.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest simulated time, ns.
    pub duration: Time,
    /// Most closed-loop users.
    pub users: u32,
    /// Highest rate of each open-loop stream (arrivals, bots), per second.
    pub rate: f64,
    /// Most components (fleet slots included); a bigger scenario is not run.
    pub components: usize,
    /// Events a run may handle before it is cut short (a guard against livelocks and crowds).
    pub events: u64,
}

impl Limits {
    /// A few simulated seconds of a few thousand users: milliseconds of real time.
    pub const SHORT: Limits = Limits {
        duration: 3 * SEC,
        users: 2_000,
        rate: 2_000.0,
        components: 2_000,
        events: 1_000_000,
    };
}

/// `scn` cut down to `lim`: its duration at most `lim.duration`, no warm-up, a window no longer
/// than the run, users and open-loop rates capped. Every value stays in the range `validate`
/// accepts (only lowered, never below 1). `None` if it has more components than `lim` allows.
pub fn shorten(scn: &Scenario, lim: &Limits) -> Option<Scenario> {
    if scn.components.len() > lim.components {
        return None;
    }
    let mut s = scn.clone();
    s.duration = s.duration.min(lim.duration);
    s.warmup = 0;
    s.window = s.window.min(s.duration);
    s.client.users = s.client.users.min(lim.users);
    for st in &mut s.client.streams {
        st.rate = st.rate.min(lim.rate);
    }
    Some(s)
}

/// Runs `scn` twice: first event by event within `events` (checking that requests are conserved
/// now and then and at the end), then — if that finished — through the real run loop, whose
/// output must conserve requests too and give every ended request exactly one outcome.
///
/// `Ok(None)` if the event budget ran out first; `Ok(Some(output))` if every check held; `Err`
/// naming the broken check otherwise. A panic in the run is not caught here.
pub fn run_checked(scn: &Scenario, events: u64) -> Result<Option<RunOutput>, String> {
    let mut sim = crate::run::build(scn);
    // The events the run loop handles: those due at or before the end (`run_until`). One due later
    // never happens (an arrival a rate of 1e-300/s puts at the end of time).
    while sim.step_until(scn.duration) {
        if sim.stats.events > events {
            return Ok(None);
        }
        // Conservation holds between any two events, not just at the end.
        if sim.stats.events % 4096 == 0 {
            conserved(
                &format!("stepped, at t = {} ns", sim.now()),
                sim.model.metrics.started,
                sim.model.metrics.ended,
                sim.model.open_user_requests(),
            )?;
        }
    }
    let m = &sim.model.metrics;
    conserved(
        "stepped",
        m.started,
        m.ended,
        sim.model.open_user_requests(),
    )?;

    let out = crate::run::run(scn, &mut |_| {});
    let m = &out.metrics;
    conserved("run", m.started, m.ended, out.open_at_end)?;
    let by_window: u64 = m
        .series
        .iter()
        .map(|w| w.outcomes.iter().sum::<u64>())
        .sum();
    if by_window != m.ended {
        return Err(format!(
            "the time series' outcomes add up to {by_window}, but {} requests ended",
            m.ended
        ));
    }
    if scn.warmup == 0 {
        let by_class: u64 = m.outcome_totals().iter().sum();
        if by_class != m.ended {
            return Err(format!(
                "the outcomes by class add up to {by_class}, but {} requests ended",
                m.ended
            ));
        }
    }
    if m.series.last().map(|w| w.end) != Some(scn.duration) {
        return Err(format!(
            "the time series ends at {:?} ns, the run at {} ns",
            m.series.last().map(|w| w.end),
            scn.duration
        ));
    }
    Ok(Some(out))
}

/// The same scenario run again gives the same event stream as `out`.
pub fn deterministic(scn: &Scenario, out: &RunOutput) -> Result<(), String> {
    let again = crate::run::run(scn, &mut |_| {});
    if (again.events, again.hash) != (out.events, out.hash) {
        return Err(format!(
            "the same seed twice gave different runs: {} events (hash {:x}), then {} (hash {:x})",
            out.events, out.hash, again.events, again.hash
        ));
    }
    Ok(())
}

/// Every logical request started has ended (in one outcome) or is still open.
fn conserved(what: &str, started: u64, ended: u64, open: u64) -> Result<(), String> {
    if started != ended + open {
        return Err(format!(
            "{what}: requests not conserved: started {started} ≠ ended {ended} + open {open}"
        ));
    }
    Ok(())
}

/// Renders what a run's reports and `explain` show from `scn` and `out` (results.json, the time
/// series CSV, summary.md), discarding the text: they must not panic on anything a run produced.
pub fn render(scn: &Scenario, out: &RunOutput) {
    let _ = crate::report::results::results_json(scn, out).to_string();
    let _ = crate::report::csv::timeseries_csv(scn, out);
    let _ = crate::report::summary::summary_md(scn, out);
    let _ = crate::explain::explain(scn);
}

/// splitmix64: a tiny, version-stable generator, so a fuzzer's inputs do not change with a crate
/// update (the same index replays the same input).
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 if `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
