//! What a run will cost, before it starts and while it runs.
//!
//! A scenario that validates can still ask for weeks of CPU or more memory than the machine has
//! (`--set workload.users=10000000 --set scenario.duration=30d`, or an open loop of 10 M/s into a
//! backlog of 10⁸). Before a run, [`estimate`] adds up its events and its peak memory from the
//! scenario alone — arrivals × the events a request makes along its path, the components' own
//! ticks, the time series' windows; the requests that can be in flight at once, from the users,
//! the backlogs, the timeouts and how far the offered load exceeds capacity — and [`Limits::refuse`]
//! turns an estimate past `--max-events` or `--max-memory` into a message naming the estimate and
//! the key to change. During the run, [`Guard`] looks at the events handled and the requests and
//! events in flight every [`SLICE`] events and stops the run cleanly (with its partial results)
//! when either passes its limit: the estimate is a model, and a wrong one must not end in the
//! kernel's OOM killer.
//!
//! Everything here is deterministic: the in-run check counts requests and events, never the
//! process's resident memory, so a stopped run stops at the same event on every machine.

use crate::engine::time::{Time, SEC};
use crate::model::kit::{DescribeCtx, Footprint};
use crate::model::request::Request;
use crate::model::CompId;
use crate::scenario::Scenario;

/// Events between two looks at the run (about a tenth of a second of CPU).
pub const SLICE: u64 = 1 << 20;

/// Bytes one request in flight costs: its slot in the request table (which grows by doubling, so
/// up to twice the slots in use), plus a pending event or two, a backlog entry and a timeout entry.
pub const BYTES_PER_REQUEST: u64 = 2 * std::mem::size_of::<Request>() as u64 + 64;

/// Bytes one pending event costs in the event queue (its entry, with the heap's slack).
pub const BYTES_PER_EVENT: u64 = 48;

/// Bytes one closed-loop user costs (its state and its think timer).
const BYTES_PER_USER: f64 = 40.0;

/// Bytes one trace row costs: its 16 bytes, held for the whole run.
const BYTES_PER_TRACE_ROW: f64 = std::mem::size_of::<crate::model::trace::TraceRow>() as f64;

/// Bytes one time-series window costs (its row, its gauges, the objectives' window summaries).
const BYTES_PER_WINDOW: f64 = 400.0;

/// What a run of the process costs whatever the scenario: histograms, the binary, buffers.
const BYTES_BASE: f64 = 8.0 * 1024.0 * 1024.0;

/// A rough speed for "how long would that take": events per second of one core.
const EVENTS_PER_SECOND: f64 = 5e6;

/// How much a run may use. The defaults allow about ten minutes of CPU and 4 GiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most events a run may handle (`--max-events`).
    pub max_events: u64,
    /// Most bytes a run may hold (`--max-memory`).
    pub max_memory: u64,
}

impl Limits {
    /// The defaults of `--max-events` and `--max-memory`.
    pub const DEFAULT: Limits = Limits {
        max_events: 3_000_000_000,
        max_memory: 4 << 30,
    };

    /// No limits (the library's [`crate::run::run`], tests and examples).
    pub const NONE: Limits = Limits {
        max_events: u64::MAX,
        max_memory: u64::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One thing an estimate is made of, with the scenario key that sizes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// How much (events or bytes).
    pub amount: f64,
    /// What it is, in words: "requests: 1,000,000/s × 30d × 7 events each".
    pub what: String,
    /// The keys to change to shrink it, in the scenario's words.
    pub keys: Vec<String>,
}

/// What a run is expected to cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Events it will handle, with what they come from (largest first).
    pub events: Vec<Part>,
    /// Bytes it will hold at its peak, with what they come from (largest first).
    pub memory: Vec<Part>,
    /// Requests it may have in flight at once.
    pub in_flight: f64,
    /// Bytes of [`Estimate::memory`] that do not follow the requests in flight (components,
    /// users, windows): the in-run guard adds the live requests and events to these.
    pub fixed_bytes: f64,
}

impl Estimate {
    /// Events in all.
    pub fn total_events(&self) -> f64 {
        self.events.iter().map(|p| p.amount).sum()
    }

    /// Bytes in all.
    pub fn total_memory(&self) -> f64 {
        self.memory.iter().map(|p| p.amount).sum()
    }

    /// One line for the run header: "about 17.1 M events, 95.2 MiB at the peak".
    pub fn brief(&self) -> String {
        format!(
            "about {} events, {} at the peak",
            count(self.total_events()),
            bytes(self.total_memory())
        )
    }
}

/// The path a request takes from a component on: events it makes, what the path can serve per
/// second and hold at once.
#[derive(Clone, Copy, Debug)]
struct Path {
    events: f64,
    capacity: f64,
    holds: f64,
}

/// Estimates what a run of `scn` costs, from the scenario alone (nothing is simulated).
pub fn estimate(scn: &Scenario) -> Estimate {
    let mean_work = scn.client.mean_work();
    let n = scn.components.len();
    let foot: Vec<Footprint> = scn
        .components
        .iter()
        .map(|(_, s)| s.footprint(mean_work))
        .collect();
    // Components are numbered after the two built-ins (users, faults).
    const FIRST: usize = 2;
    let name_of = |id: CompId| {
        (id as usize)
            .checked_sub(FIRST)
            .and_then(|i| scn.components.get(i))
            .map_or_else(String::new, |(n, _)| n.clone())
    };
    let cx = DescribeCtx {
        name_of: &name_of,
        mean_work,
    };
    let routes: Vec<Vec<usize>> = scn
        .components
        .iter()
        .map(|(_, s)| {
            s.describe(&cx)
                .routes
                .iter()
                .filter_map(|r| (r.to as usize).checked_sub(FIRST))
                .filter(|&i| i < n)
                .collect()
        })
        .collect();
    let mut memo: Vec<Option<Path>> = vec![None; n];
    let mut visiting = vec![false; n];
    let entry = (scn.client.entry as usize).checked_sub(FIRST);
    let path = entry.filter(|&i| i < n).map_or(
        Path {
            events: 0.0,
            capacity: f64::INFINITY,
            holds: 0.0,
        },
        |i| walk(i, &foot, &routes, &mut memo, &mut visiting),
    );

    let c = &scn.client;
    let secs = scn.duration as f64 / SEC as f64;
    let peak = c.curve.max_multiplier().max(1.0);
    let users = f64::from(c.users) * peak;
    let think = (c.think.mean() / SEC as f64).max(1e-3);
    let retries = c.retry.map_or(0.0, |r| f64::from(r.0));
    let closed_rate = users / think;
    let open_rate: f64 = c
        .streams
        .iter()
        .map(|s| {
            let active = (s.until.min(scn.duration).saturating_sub(s.from)) as f64 / SEC as f64;
            let share = if secs > 0.0 { active / secs } else { 0.0 };
            s.rate * if s.follows_curve { peak } else { 1.0 } * share
        })
        .sum();
    // A request's own events: sent, and answered (or timed out) at the client, plus its path.
    let per_request = 2.0 + path.events;
    // A trace's rows, each a request; the busiest second of the trace for what is in flight.
    let (trace_rows, trace_peak) = c.trace.as_ref().map_or((0.0, 0.0), |t| {
        (t.rows.len() as f64, busiest_second(&t.rows) as f64)
    });
    let trace_rate = if secs > 0.0 { trace_rows / secs } else { 0.0 };

    let mut events = Vec::new();
    if closed_rate > 0.0 {
        events.push(Part {
            amount: closed_rate * secs * per_request,
            what: format!(
                "{} users thinking {} between requests: about {}/s × {} × {:.0} events each",
                count(users),
                human_time(c.think.mean()),
                count(closed_rate),
                human_time(scn.duration as f64),
                per_request
            ),
            keys: vec!["workload.users".into(), "scenario.duration".into()],
        });
    }
    if open_rate > 0.0 {
        events.push(Part {
            amount: open_rate * (1.0 + retries) * secs * per_request,
            what: format!(
                "arrivals at {}/s{} × {} × {:.0} events each",
                count(open_rate),
                if retries > 0.0 {
                    format!(" (up to {}× with retries)", 1.0 + retries)
                } else {
                    String::new()
                },
                human_time(scn.duration as f64),
                per_request
            ),
            keys: vec![
                "workload.arrival_rate".into(),
                "workload.bots".into(),
                "scenario.duration".into(),
            ],
        });
    }
    if trace_rows > 0.0 {
        events.push(Part {
            amount: trace_rows * (1.0 + retries) * per_request,
            what: format!(
                "{} trace rows{} × {:.0} events each",
                count(trace_rows),
                if retries > 0.0 {
                    format!(" (up to {}× with retries)", 1.0 + retries)
                } else {
                    String::new()
                },
                per_request
            ),
            keys: vec!["workload.trace".into()],
        });
    }
    let background: f64 = foot.iter().map(|f| f.background_per_s).sum();
    if background > 0.0 {
        events.push(Part {
            amount: background * secs,
            what: format!(
                "the components' own events (health checks, scaling): {}/s × {}",
                count(background),
                human_time(scn.duration as f64)
            ),
            keys: vec!["scenario.duration".into()],
        });
    }
    let windows = (scn.duration as f64 / scn.window.max(1) as f64).ceil();
    events.push(Part {
        amount: windows * (n as f64 + 8.0),
        what: format!(
            "{} time-series windows of {} × {} components",
            count(windows),
            human_time(scn.window as f64),
            n
        ),
        keys: vec!["scenario.window".into()],
    });

    // In flight at once. Closed loop: each user has one request, plus attempts it gave up on that
    // a server is still working on. Open loop: what the path serves in about a second, plus what
    // piles up while arrivals exceed capacity — bounded by the backlogs and the timeouts.
    let closed_in_flight = users * (1.0 + retries);
    let mut open_in_flight = 0.0;
    if open_rate + trace_rate > 0.0 {
        // A trace counts at its average rate for what piles up, at its busiest second's for what
        // is in the path at once.
        let attempts = (open_rate + trace_rate) * (1.0 + retries);
        let burst = (open_rate + trace_peak) * (1.0 + retries);
        let excess = (attempts - path.capacity).max(0.0);
        let mut piled = excess * secs;
        if path.holds.is_finite() {
            piled = piled.min(path.holds);
        }
        if let Some(t) = c.timeout {
            piled = piled.min(attempts * t as f64 / SEC as f64 * (1.0 + retries));
        }
        // A quarter of a second in the path for each (most are answered in milliseconds).
        open_in_flight = (burst * 0.25 + piled).min(attempts * secs.max(1.0));
    }
    let in_flight = closed_in_flight + open_in_flight;
    let mut memory = vec![Part {
        amount: in_flight * BYTES_PER_REQUEST as f64,
        what: format!(
            "up to {} requests in flight at once × {} B",
            count(in_flight),
            BYTES_PER_REQUEST
        ),
        keys: if open_in_flight > closed_in_flight {
            let mut k = vec!["workload.arrival_rate".to_string()];
            k.extend(
                scn.components
                    .iter()
                    .zip(&foot)
                    .filter(|(_, f)| f.holds > 1e6)
                    .map(|((name, _), _)| format!("components.{name}.backlog")),
            );
            if trace_rows > 0.0 {
                k.push("workload.trace".into());
            }
            k.push("workload.timeout".into());
            k
        } else {
            vec!["workload.users".into()]
        },
    }];
    memory.push(Part {
        amount: users * BYTES_PER_USER,
        what: format!("{} users × {BYTES_PER_USER} B", count(users)),
        keys: vec!["workload.users".into()],
    });
    if trace_rows > 0.0 {
        memory.push(Part {
            amount: trace_rows * BYTES_PER_TRACE_ROW,
            what: format!(
                "{} trace rows held × {BYTES_PER_TRACE_ROW} B",
                count(trace_rows)
            ),
            keys: vec!["workload.trace".into()],
        });
    }
    memory.push(Part {
        amount: windows * BYTES_PER_WINDOW,
        what: format!(
            "{} time-series windows × {BYTES_PER_WINDOW} B",
            count(windows)
        ),
        keys: vec!["scenario.window".into(), "scenario.duration".into()],
    });
    let comp_bytes: f64 = foot.iter().map(|f| f.bytes).sum();
    memory.push(Part {
        amount: comp_bytes,
        what: format!("{n} components"),
        keys: scn
            .components
            .iter()
            .zip(&foot)
            .filter(|(_, f)| f.bytes > 1e6)
            .map(|((name, _), _)| format!("components.{name}"))
            .collect(),
    });
    memory.push(Part {
        amount: BYTES_BASE,
        what: "the run's histograms and buffers".into(),
        keys: Vec::new(),
    });
    let fixed_bytes = memory[1..].iter().map(|p| p.amount).sum();
    let by_size = |a: &Part, b: &Part| b.amount.total_cmp(&a.amount);
    events.sort_by(by_size);
    memory.sort_by(by_size);
    Estimate {
        events,
        memory,
        in_flight,
        fixed_bytes,
    }
}

/// The most rows of a (sorted) trace within any one second.
fn busiest_second(rows: &[crate::model::trace::TraceRow]) -> usize {
    let mut most = 0;
    let mut from = 0;
    for (i, r) in rows.iter().enumerate() {
        while rows[from].at + SEC <= r.at {
            from += 1;
        }
        most = most.max(i + 1 - from);
    }
    most
}

/// The path from component `i` on: its own footprint, the costliest route after it (a request
/// takes one), the capacity of its routes together (they share the load) and what they all hold.
fn walk(
    i: usize,
    foot: &[Footprint],
    routes: &[Vec<usize>],
    memo: &mut [Option<Path>],
    visiting: &mut [bool],
) -> Path {
    if let Some(p) = memo[i] {
        return p;
    }
    let f = foot[i];
    if visiting[i] {
        // A loop (the checks refuse them, but the estimate must not recurse forever).
        return Path {
            events: f.events_per_request,
            capacity: f.capacity_per_s,
            holds: f.holds,
        };
    }
    visiting[i] = true;
    let mut events: f64 = 0.0;
    let mut capacity = 0.0;
    let mut holds = 0.0;
    for &r in &routes[i] {
        let p = walk(r, foot, routes, memo, visiting);
        events = events.max(p.events);
        capacity += p.capacity;
        holds += p.holds;
    }
    visiting[i] = false;
    let p = Path {
        events: f.events_per_request + events,
        capacity: if routes[i].is_empty() {
            f.capacity_per_s
        } else {
            f.capacity_per_s.min(capacity)
        },
        holds: f.holds + holds,
    };
    memo[i] = Some(p);
    p
}

impl Limits {
    /// Why `est` is too much for these limits, in words with the estimate and the keys to change;
    /// `None` when it fits.
    pub fn refuse(&self, est: &Estimate) -> Option<String> {
        let events = est.total_events();
        let memory = est.total_memory();
        let mut msg = String::new();
        if events > self.max_events as f64 {
            msg += &format!(
                "this run would handle about {} events (about {} of CPU), past --max-events {}\n",
                count(events),
                human_time(events / EVENTS_PER_SECOND * SEC as f64),
                count(self.max_events as f64)
            );
            msg += &parts(&est.events, events);
        }
        if memory > self.max_memory as f64 {
            msg += &format!(
                "this run would hold about {} at its peak, past --max-memory {}\n",
                bytes(memory),
                bytes(self.max_memory as f64)
            );
            msg += &parts(&est.memory, memory);
        }
        if msg.is_empty() {
            return None;
        }
        let mut keys: Vec<&str> = Vec::new();
        let over_events = events > self.max_events as f64;
        let over_memory = memory > self.max_memory as f64;
        for (list, over) in [(&est.events, over_events), (&est.memory, over_memory)] {
            if over {
                for k in list.iter().take(1).flat_map(|p| &p.keys) {
                    if !keys.contains(&k.as_str()) {
                        keys.push(k);
                    }
                }
            }
        }
        let flags: Vec<&str> = [
            over_events.then_some("--max-events"),
            over_memory.then_some("--max-memory"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let lower = if keys.is_empty() {
            String::new()
        } else {
            format!(
                "lower {}, or ",
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        };
        msg += &format!(
            "  help: {lower}raise {} if you mean it",
            flags.join(" and ")
        );
        Some(msg)
    }
}

fn parts(list: &[Part], total: f64) -> String {
    let mut s = String::new();
    for p in list.iter().filter(|p| p.amount >= total * 0.01).take(4) {
        s += &format!("  {:>5.1} %  {}\n", 100.0 * p.amount / total, p.what);
    }
    s
}

/// Watches a run between slices of [`SLICE`] events.
#[derive(Clone, Copy, Debug)]
pub struct Guard {
    limits: Limits,
    fixed_bytes: u64,
}

/// Set by the CLI's Ctrl-C handler: every guarded run stops at its next look (within one slice of
/// events) and keeps what it measured, marked partial.
static INTERRUPT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Why a run the user interrupted stopped (the reason in results.json's `run.stopped_early`).
pub const INTERRUPTED_WHY: &str = "interrupted (Ctrl-C)";

/// Asks every guarded run to stop (a Ctrl-C).
pub fn interrupt() {
    INTERRUPT.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// True once [`interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq)]
pub struct Stopped {
    /// When, in simulated time.
    pub at: Time,
    /// Why, in words.
    pub reason: String,
}

impl Guard {
    /// A guard for a run with this estimate.
    pub fn new(limits: Limits, est: Option<&Estimate>) -> Self {
        Self {
            limits,
            fixed_bytes: est.map_or(0, |e| e.fixed_bytes as u64),
        }
    }

    /// `Some` when the run has gone past a limit: `events` handled, `live` requests and `pending`
    /// events in flight.
    pub fn check(&self, events: u64, live: usize, pending: usize) -> Option<String> {
        if interrupted() {
            return Some(INTERRUPTED_WHY.to_string());
        }
        if events > self.limits.max_events {
            return Some(format!(
                "it handled {} events, past --max-events {}",
                count(events as f64),
                count(self.limits.max_events as f64)
            ));
        }
        let held = self
            .fixed_bytes
            .saturating_add((live as u64).saturating_mul(BYTES_PER_REQUEST))
            .saturating_add((pending as u64).saturating_mul(BYTES_PER_EVENT));
        if held > self.limits.max_memory {
            return Some(format!(
                "{} requests and {} events were in flight (about {}), past --max-memory {}",
                count(live as f64),
                count(pending as f64),
                bytes(held as f64),
                bytes(self.limits.max_memory as f64)
            ));
        }
        None
    }
}

/// "1,234", "12.3 M", "4.5 × 10¹²".
fn count(x: f64) -> String {
    if !x.is_finite() {
        return "unboundedly many".into();
    }
    if x < 1e4 {
        return format!("{x:.0}");
    }
    if x < 1e6 {
        return format!("{:.0} k", x / 1e3);
    }
    if x < 1e9 {
        return format!("{:.1} M", x / 1e6);
    }
    if x < 1e12 {
        return format!("{:.1} G", x / 1e9);
    }
    let e = x.log10().floor() as i32;
    format!("{:.1} × 10^{e}", x / 10f64.powi(e))
}

/// "3.2 GiB".
fn bytes(b: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if !v.is_finite() {
        return "unboundedly much".into();
    }
    format!("{v:.1} {}", UNITS[u])
}

/// A span of nanoseconds for people: "250 ms", "3.0 min", "7.1 days".
fn human_time(ns: f64) -> String {
    let s = ns / SEC as f64;
    if !s.is_finite() {
        "forever".into()
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 3.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s < 3.0 * 365.0 * 86400.0 {
        format!("{:.1} days", s / 86400.0)
    } else {
        format!("{:.0} years", s / (365.0 * 86400.0))
    }
}

/// Parses `--max-events`: a whole number, optionally with k, M, G or T (×1000 each), or in
/// scientific notation (`2e9`).
pub fn parse_events(text: &str) -> Result<u64, String> {
    let t = text.trim().replace('_', "");
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        _ => (t.as_str(), 1.0),
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 1.0 && v * mult <= u64::MAX as f64 => Ok((v * mult) as u64),
        _ => Err(format!(
            "expected a number of events such as 5000000, 5M or 2e9 (at least 1), found {text:?}"
        )),
    }
}

/// Parses `--max-memory`: a size with a unit (`512MiB`, `4GiB`, `16GB`).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    match crate::scenario::units::parse_bytes(text) {
        Ok(b) if b >= 1 << 20 => Ok(b),
        Ok(_) => Err(format!("at least 1 MiB, found {text:?}")),
        Err(_) => Err(format!(
            "expected a size with a unit such as 512MiB, 4GiB or 16GB, found {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_sizes_read_well() {
        assert_eq!(count(950.0), "950");
        assert_eq!(count(12_300_000.0), "12.3 M");
        assert_eq!(count(4.5e12), "4.5 × 10^12");
        assert_eq!(bytes(3.0 * (1u64 << 30) as f64), "3.0 GiB");
        assert_eq!(human_time(7.0 * 86400e9), "7.0 days");
    }

    #[test]
    fn event_and_memory_flags_parse_with_units() {
        assert_eq!(parse_events("5M"), Ok(5_000_000));
        assert_eq!(parse_events("2e9"), Ok(2_000_000_000));
        assert_eq!(parse_events("1_000"), Ok(1000));
        assert!(parse_events("0").is_err());
        assert!(parse_events("lots").is_err());
        assert_eq!(parse_memory("4GiB"), Ok(4 << 30));
        assert!(parse_memory("12").is_err());
    }

    #[test]
    fn the_busiest_second_of_a_trace_counts_rows_less_than_a_second_apart() {
        use crate::model::trace::TraceRow;
        let rows: Vec<TraceRow> = [0, 900, 900, 1000, 1899, 1900, 5000]
            .iter()
            .map(|&ms| TraceRow {
                at: ms * 1_000_000,
                key: 0,
                class: 0,
            })
            .collect();
        // [0.9 s, 1.9 s) holds 0.9, 0.9, 1.0, 1.899: four (1.9 is a whole second after 0.9).
        assert_eq!(busiest_second(&rows), 4);
        assert_eq!(busiest_second(&[]), 0);
    }

    #[test]
    fn the_guard_stops_past_either_limit() {
        let g = Guard::new(
            Limits {
                max_events: 1000,
                max_memory: 1 << 20,
            },
            None,
        );
        assert_eq!(g.check(1000, 0, 0), None);
        assert!(g.check(1001, 0, 0).unwrap().contains("--max-events"));
        let live = (1 << 20) / BYTES_PER_REQUEST as usize + 1;
        assert!(g.check(0, live, 0).unwrap().contains("--max-memory"));
        assert_eq!(g.check(0, live - 2, 0), None);
    }
}
