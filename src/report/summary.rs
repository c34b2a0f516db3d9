//! summary.md: what happened, in plain words — what saturated first, when, what it did to users,
//! and which chapter's idea addresses it.

use super::results::figures;
use crate::engine::time::{clock, human};
use crate::model::faults::FaultKind;
use crate::model::kit::EventKind;
use crate::model::request::Outcome;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use std::fmt::Write;

/// A milestone found in the time series or the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// When (window start, or the event's time), ns.
    pub at: u64,
    /// What, in words.
    pub what: String,
    /// What kind of trouble it is.
    pub why: Why,
}

impl Finding {
    /// A cause (a saturated resource, an injected fault) rather than a symptom users saw.
    pub fn is_cause(&self) -> bool {
        !matches!(self.why, Why::Symptom(_))
    }
}

/// What kind of trouble a finding is: the remedy depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The CPU was saturated.
    Cpu,
    /// Requests queued for a worker.
    Queueing,
    /// A process ran out of memory.
    OutOfMemory,
    /// An injected fault.
    Fault(FaultKind),
    /// Users saw failures of this kind (a symptom, not a cause).
    Symptom(Outcome),
}

/// The analysis behind the summary.
#[derive(Clone, Debug, Default)]
pub struct Analysis {
    /// Time-ordered first occurrences of trouble.
    pub firsts: Vec<Finding>,
    /// When trouble (error rate ≥ 1 % or p99 ≥ 1 s) first showed, if it did.
    pub trouble_start: Option<u64>,
    /// End of the last troubled window.
    pub trouble_end: Option<u64>,
    /// Share of windows in trouble.
    pub troubled_fraction: f64,
    /// Peak utilization of any window.
    pub peak_utilization: f64,
    /// The first cause (or, failing one, the first symptom).
    pub bottleneck: Option<Finding>,
}

fn troubled(r: &crate::metrics::WindowRow) -> bool {
    let t = r.total();
    (t > 0 && r.errors() as f64 / t as f64 >= 0.01) || r.p99_ms >= 1000.0
}

/// Reads the time series and the component timeline for milestones.
pub fn analyze(run: &RunOutput) -> Analysis {
    let s = &run.metrics.series;
    let mut a = Analysis::default();
    let mut firsts: Vec<Finding> = Vec::new();
    let mut first = |at: u64, what: String, why: Why| {
        if !firsts.iter().any(|f| f.what == what) {
            firsts.push(Finding { at, what, why });
        }
    };
    let mut n_troubled = 0;
    for r in s {
        a.peak_utilization = a.peak_utilization.max(r.gauges.utilization);
        if r.gauges.utilization >= 0.9 {
            first(r.start, "CPU saturated (≥ 90 % busy)".into(), Why::Cpu);
        }
        if r.gauges.backlog > 0 && r.gauges.utilization >= 0.8 {
            first(
                r.start,
                "requests queueing for a worker".into(),
                Why::Queueing,
            );
        }
        for (o, what) in [
            (Outcome::Timeout, "users timing out"),
            (Outcome::Refused, "connections refused"),
            (Outcome::Crashed, "connections reset by a crash"),
            (Outcome::Unavailable, "503s: no healthy target"),
            (Outcome::DnsFailure, "DNS lookups failing"),
            (Outcome::Throttled, "requests throttled"),
        ] {
            if r.outcomes[o.index()] > 0 {
                first(r.start, what.into(), Why::Symptom(o));
            }
        }
        if troubled(r) {
            n_troubled += 1;
            a.trouble_start.get_or_insert(r.start);
            a.trouble_end = Some(r.end);
        }
    }
    for e in &run.timeline {
        match e.kind {
            EventKind::OutOfMemory => first(
                e.at,
                format!("{} ran out of memory and crashed", e.component),
                Why::OutOfMemory,
            ),
            EventKind::Fault(kind) => first(
                e.at,
                format!("injected fault: {}", e.text),
                Why::Fault(kind),
            ),
            _ => {}
        }
    }
    firsts.sort_by_key(|f| f.at);
    a.bottleneck = firsts
        .iter()
        .find(|f| f.is_cause())
        .or(firsts.first())
        .cloned();
    a.firsts = firsts;
    a.troubled_fraction = if s.is_empty() {
        0.0
    } else {
        n_troubled as f64 / s.len() as f64
    };
    a
}

/// A window's CPU counts as saturated from this utilization on.
pub const SATURATED: f64 = 0.95;

/// The bottleneck as the CPU tiers show it: the tier (a server, a fleet's instances, or any
/// component with vCPUs) busiest over the measured windows, how long it was saturated, and the
/// next two. `None` without tiers or measured windows.
/// The CPU tier with the busiest window after the warm-up, and that window's utilization.
fn peak_tier<'a>(scn: &Scenario, run: &'a RunOutput) -> Option<(&'a str, f64)> {
    run.tiers
        .iter()
        .filter_map(|(i, name)| {
            let peak = run
                .metrics
                .series
                .iter()
                .filter(|r| r.start >= scn.warmup)
                .filter_map(|r| r.gauges.tiers.get(*i).copied())
                .filter(|u| u.is_finite())
                .reduce(f64::max)?;
            Some((name.as_str(), peak))
        })
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
}

/// A CPU tier's load over some windows.
#[derive(Clone, Debug, PartialEq)]
pub struct TierLoad<'a> {
    /// The tier (a server, a fleet's instances, a database's primary…).
    pub name: &'a str,
    /// Its mean utilization over the windows in which it had vCPUs running.
    pub mean: f64,
    /// Windows in which it was saturated (at or above [`SATURATED`]).
    pub hot: usize,
    /// Windows in which it had vCPUs running.
    pub windows: usize,
}

/// Every CPU tier of `run` that had vCPUs running in some of `rows`, busiest first: the largest
/// share of its windows saturated, then the highest mean. The share, not the count: a tier down
/// in a crash loop has few windows with vCPUs, and at 100 % in each of them it is still the one
/// that broke. The summary's bottleneck line, the journey's culprit and `compare`'s reason all
/// rank tiers by this.
pub fn tier_loads<'a, 'r>(
    rows: impl IntoIterator<Item = &'r crate::metrics::WindowRow> + Clone,
    run: &'a RunOutput,
) -> Vec<TierLoad<'a>> {
    let mut tiers: Vec<TierLoad<'a>> = run
        .tiers
        .iter()
        .filter_map(|(i, name)| {
            let v: Vec<f64> = rows
                .clone()
                .into_iter()
                .filter_map(|r| r.gauges.tiers.get(*i).copied())
                .filter(|u| u.is_finite())
                .collect();
            (!v.is_empty()).then(|| TierLoad {
                name: name.as_str(),
                mean: v.iter().sum::<f64>() / v.len() as f64,
                hot: v.iter().filter(|&&u| u >= SATURATED).count(),
                windows: v.len(),
            })
        })
        .collect();
    let share = |t: &TierLoad| t.hot as f64 / t.windows as f64;
    tiers.sort_by(|a, b| {
        share(b)
            .total_cmp(&share(a))
            .then(b.mean.total_cmp(&a.mean))
    });
    tiers
}

/// The windows after the warm-up: what a run's figures measure.
pub fn measured_rows<'r>(scn: &Scenario, run: &'r RunOutput) -> Vec<&'r crate::metrics::WindowRow> {
    run.metrics
        .series
        .iter()
        .filter(|r| r.start >= scn.warmup)
        .collect()
}

fn busiest_tiers(scn: &Scenario, run: &RunOutput) -> Option<String> {
    let rows = measured_rows(scn, run);
    if run.tiers.is_empty() || rows.is_empty() {
        return None;
    }
    let tiers = tier_loads(rows.iter().copied(), run);
    let TierLoad {
        name, mean, hot, ..
    } = *tiers.first()?;
    let others: Vec<String> = tiers
        .iter()
        .skip(1)
        .take(2)
        .map(|t| format!("{} {:.0} %", t.name, t.mean * 100.0))
        .collect();
    let next = if others.is_empty() {
        String::new()
    } else {
        format!("; next: {}", others.join(", "))
    };
    let span = |k: usize| human(rows.iter().take(k).map(|r| r.end - r.start).sum::<u64>());
    let measured: u64 = rows.iter().map(|r| r.end - r.start).sum();
    Some(if hot > 0 {
        format!(
            "**Bottleneck:** {name}'s CPU — saturated (≥ {:.0} % busy) for {} of the measured {}, {:.0} % busy on average{next}.",
            SATURATED * 100.0,
            span(hot),
            human(measured),
            mean * 100.0
        )
    } else {
        format!(
            "**Bottleneck:** none yet — the busiest tier, {name}, averaged {:.0} % of its CPU and never reached {:.0} % in a {} window{next}.",
            mean * 100.0,
            SATURATED * 100.0,
            human(scn.window)
        )
    })
}

/// A retry storm that outlived its trigger: after every injected fault was over, most requests
/// still failed while retries outnumbered new requests.
#[derive(Clone, Debug, PartialEq)]
pub struct Storm {
    /// When the last fault ended, ns.
    pub cleared_at: u64,
    /// Attempts per second from a minute after that to the end, retries included.
    pub offered: f64,
    /// Of which retries, per second.
    pub retries: f64,
    /// Ok answers per second then.
    pub ok: f64,
    /// Failed share of the requests ended then.
    pub error_rate: f64,
}

/// Finds a retry storm that outlived its trigger: every fault ended (each has its recovery on
/// the timeline), and from a minute after the last ended to the end of the run (at least three
/// windows) half the requests or more failed while retries outnumbered first tries.
pub fn storm(scn: &Scenario, run: &RunOutput) -> Option<Storm> {
    let began = scn
        .faults
        .iter()
        .filter(|f| matches!(f.event, EventKind::Fault(k) if k != FaultKind::Recover))
        .count();
    let ended = scn.faults.len() - began;
    if began == 0 || ended < began {
        return None;
    }
    let cleared_at = scn.faults.iter().map(|f| f.at).max()?;
    let rows: Vec<_> = run
        .metrics
        .series
        .iter()
        .filter(|r| r.start >= cleared_at + 60_000_000_000)
        .collect();
    if rows.len() < 3 {
        return None;
    }
    let secs: f64 = rows.iter().map(|r| (r.end - r.start) as f64 / 1e9).sum();
    let attempts: u64 = rows.iter().map(|r| r.attempts).sum();
    let retries: u64 = rows.iter().map(|r| r.retries).sum();
    let total: u64 = rows.iter().map(|r| r.total()).sum();
    let errors: u64 = rows.iter().map(|r| r.errors()).sum();
    let error_rate = errors as f64 / total.max(1) as f64;
    (secs > 0.0 && error_rate >= 0.5 && retries > attempts - retries).then(|| Storm {
        cleared_at,
        offered: attempts as f64 / secs,
        retries: retries as f64 / secs,
        ok: (total - errors) as f64 / secs,
        error_rate,
    })
}

/// The chapter whose idea addresses a bottleneck.
pub fn remedy(why: Why, chapter: Option<u32>) -> &'static str {
    let ch = chapter.unwrap_or(0);
    match why {
        Why::Fault(FaultKind::DnsOutage) | Why::Symptom(Outcome::DnsFailure) => {
            "resolvers ride out an outage only as long as their cached answers last: longer TTLs and a DNS provider with redundant name servers (chapter 2)"
        }
        Why::Fault(
            FaultKind::Crash
            | FaultKind::Hang
            | FaultKind::Stop
            | FaultKind::Slow
            | FaultKind::RandomCrash
            | FaultKind::AzOutage,
        ) => {
            if (8..=10).contains(&ch) {
                "the queue between them: users are answered once a message is stored, so a slow or failed consumer grows its own backlog (and, past the retries, its dead-letter queue) instead of the users' wait; scale the workers on backlog per worker to drain it sooner, and give each consumer its own queue so one slow consumer holds back no other (chapter 10)"
            } else if ch == 14 {
                "a CDN's anycast sends an edge's users to the next nearest edge that is up: nothing fails, but their images take the extra round trip until it is back; edges in every region with many users keep that detour short"
            } else if ch == 12 {
                "for a database primary, a Multi-AZ standby promoted automatically (failover_time after the next health check) keeps writes down for about a minute; without one they wait for a manual restore, while read replicas keep serving reads"
            } else if ch >= 5 {
                "health checks take a failed server out of rotation; faster checks (shorter interval, lower threshold) shorten the window of errors, and spare capacity absorbs the loss"
            } else {
                "redundancy: several servers behind a balancer whose health checks route around a failed one (chapters 4 and 5)"
            }
        }
        Why::Fault(FaultKind::CpuBug) => {
            if ch >= 6 {
                "services: the bug burns the CPU of the service whose code it is in, and the others keep their own capacity; roll the deploy back, and cap what one route may take (chapter 11's limits)"
            } else {
                "split the code into services with their own fleets (chapter 6), so one feature's bug burns only its own capacity"
            }
        }
        Why::Fault(FaultKind::Flush | FaultKind::Expire) => {
            "an empty cache sends every read to the database until it refills: coalesce concurrent misses for one item (single flight), warm the cache before taking traffic, and give the database headroom for the miss rate of a cold start (chapter 13)"
        }
        Why::Fault(FaultKind::Latency | FaultKind::Recover) => {
            "the fault's own remedy: see the timeline for what it hit and how long it lasted"
        }
        Why::Cpu | Why::Queueing | Why::OutOfMemory => {
            if ch < 3 {
                "a bigger machine (chapter 3, vertical scaling) raises the ceiling; more machines (chapter 4) remove it"
            } else if ch == 3 {
                "a bigger machine (this chapter's resize) serves the spike; but one machine has a ceiling however big it is — past it, add identical servers behind a balancer (chapters 4 and 5)"
            } else {
                "more capacity sooner: a lower scaling target, shorter boot and warm-up, or scheduled capacity ahead of known peaks (chapter 4); then take load off the servers with caches (chapters 13 and 14)"
            }
        }
        Why::Symptom(Outcome::Unavailable) => {
            "more healthy capacity and faster health checks (chapters 4 and 5)"
        }
        Why::Symptom(Outcome::Throttled) => "per-client limits tuned to real users (chapter 11)",
        Why::Symptom(
            Outcome::Ok | Outcome::Timeout | Outcome::Refused | Outcome::Crashed | Outcome::Error,
        ) => {
            "look at which component's queue grew first; the journey's later chapters each remove one such limit"
        }
    }
}

/// A route is "hit" when this share of its requests failed (throttling aside)...
const HIT_FAILED: f64 = 0.01;
/// ... or its p99 is past this.
const HIT_P99: crate::engine::Time = crate::engine::time::SEC;

/// "By route": each request class of the users' mix with its path, failures and p99, and which
/// were hit — so a reader sees whether a fault stayed in the service it was in.
fn by_route(s: &mut String, scn: &Scenario, run: &RunOutput) {
    let users =
        run.metrics.classes.len() - scn.file.workload.bots.len().min(run.metrics.classes.len());
    if users < 2 {
        return;
    }
    let _ = writeln!(s, "\n## By route\n");
    let _ = writeln!(s, "| route | path | requests | failed | p99 |");
    let _ = writeln!(s, "|---|---|---:|---:|---:|");
    let (mut hit, mut fine) = (Vec::new(), Vec::new());
    // A route with objectives of its own is hit when one of them failed; one without, by the
    // thresholds above.
    let verdicts = crate::slo::evaluate(&scn.slos, run);
    for (i, c) in run.metrics.classes.iter().take(users).enumerate() {
        let total: u64 = c.outcomes.iter().sum();
        let failed =
            total - c.outcomes[Outcome::Ok.index()] - c.outcomes[Outcome::Throttled.index()];
        let share = if total == 0 {
            0.0
        } else {
            failed as f64 / total as f64
        };
        let p99 = (!c.latency.is_empty()).then(|| c.latency.value_at_quantile(0.99));
        let path = scn
            .client
            .classes
            .get(i)
            .and_then(|k| k.path.clone())
            .unwrap_or_else(|| format!("/{}", c.name));
        let _ = writeln!(
            s,
            "| {} | `{path}` | {} | {:.2} % | {} |",
            c.name,
            crate::scenario::error::thousands(total),
            share * 100.0,
            p99.map_or("—".into(), human)
        );
        let own: Vec<&crate::slo::Verdict> = verdicts
            .iter()
            .filter(|v| v.objective.class == Some(i as u16))
            .collect();
        let was_hit = if own.is_empty() {
            share >= HIT_FAILED || p99.is_some_and(|p| p >= HIT_P99)
        } else {
            own.iter().any(|v| !v.passed)
        };
        if was_hit {
            hit.push(format!(
                "{} ({:.1} % failed, p99 {})",
                c.name,
                share * 100.0,
                p99.map_or("—".into(), human)
            ));
        } else {
            fine.push(c.name.clone());
        }
    }
    let _ = writeln!(s);
    if hit.is_empty() {
        let _ = writeln!(
            s,
            "No route was hit: every one kept under 1 % failed and a p99 under 1 s."
        );
    } else if fine.is_empty() {
        let _ = writeln!(s, "**Every route was hit:** {}.", hit.join(", "));
    } else {
        let _ = writeln!(
            s,
            "**Hit:** {}. **Unaffected** (within their objectives, or under 1 % failed and a p99 under 1 s): {}.",
            hit.join(", "),
            fine.join(", ")
        );
    }
}

/// The timeline as lines for summary.md: an event that repeats (the same component and text —
/// a crash loop's 30 crashes) is one line at its first time, with how many
/// times and the last; events once are a line each.
fn timeline_lines(timeline: &[crate::model::kit::TimelineEvent]) -> Vec<String> {
    // (component, text) → how often, and when last.
    let mut count: std::collections::BTreeMap<(&str, &str), (u32, crate::engine::Time)> =
        Default::default();
    for e in timeline {
        let c = count.entry((&e.component, &e.text)).or_default();
        *c = (c.0 + 1, e.at);
    }
    let mut out = Vec::new();
    for e in timeline {
        let key = (e.component.as_str(), e.text.as_str());
        match count.get(&key) {
            Some(&(n, last)) if n >= REPEATS_COLLAPSED => {
                out.push(format!(
                    "{} — {}: {} — {n} times in all, the last at {}",
                    clock(e.at),
                    e.component,
                    e.text,
                    clock(last)
                ));
                // Said once: its later repeats find nothing.
                count.remove(&key);
            }
            Some(_) => out.push(format!("{} — {}: {}", clock(e.at), e.component, e.text)),
            None => {}
        }
    }
    out
}

/// An event repeated this often is one timeline line with a count.
const REPEATS_COLLAPSED: u32 = 4;

/// The summary.md text.
pub fn summary_md(scn: &Scenario, run: &RunOutput) -> String {
    let f = figures(run);
    let a = analyze(run);
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", scn.title());
    let changed: Vec<String> = scn
        .variant
        .iter()
        .map(|v| format!("variant `{v}`"))
        .chain(scn.overrides.iter().map(|o| format!("`--set {o}`")))
        .collect();
    if let Some(d) = &scn.file.scenario.description {
        if changed.is_empty() {
            let _ = writeln!(s, "_{d}_\n");
        } else {
            // The file's sentence tells the story as written; this run changed it, so the
            // sentence is quoted as the file's, not offered as what happened here.
            let _ = writeln!(s, "The file's story, as written: _{d}_\n");
        }
    }
    if !changed.is_empty() {
        let _ = writeln!(
            s,
            "**This run changes the file:** {}. The figures below are this run's, not the \
             story's.\n",
            changed.join(", ")
        );
    }
    if let Some(st) = &run.stopped {
        let why = if st.reason == crate::budget::INTERRUPTED_WHY {
            "this report is partial: run it again to the end for the whole story"
        } else {
            "the scenario asks for more than the limits allow (`--max-events`, `--max-memory`)"
        };
        let _ = writeln!(
            s,
            "**This run was stopped at {} of {}: {}.** Everything below covers only the time \
             before it; {why}.\n",
            crate::engine::time::clock(st.at),
            crate::engine::time::clock(scn.duration),
            st.reason
        );
    }
    let _ = writeln!(
        s,
        "Simulated {} (statistics after a {} warm-up), seed {}. {} requests ended; {:.2} % failed.",
        human(scn.warmup + run.measured),
        human(scn.warmup),
        scn.seed,
        crate::scenario::error::thousands(f.total),
        f.error_rate * 100.0
    );
    if let Some(t) = &scn.client.trace {
        let _ = writeln!(
            s,
            "Replayed {} of the {} rows of the trace `{}` ({} clients){}.",
            run.trace_replayed,
            t.total,
            t.file,
            t.clients,
            if t.ignored > 0 {
                format!("; {} fell at or after the run's end", t.ignored)
            } else {
                String::new()
            }
        );
    }
    let q = |p: f64| {
        if f.latency.is_empty() {
            "—".to_string()
        } else {
            human(f.latency.value_at_quantile(p))
        }
    };
    let _ = writeln!(
        s,
        "Successful requests: p50 {}, p99 {}, p99.9 {}.\n",
        q(0.5),
        q(0.99),
        q(0.999)
    );

    let _ = writeln!(s, "## What happened\n");
    match (a.trouble_start, &a.bottleneck) {
        (None, None) => match peak_tier(scn, run) {
            Some((name, peak)) if peak >= SATURATED => {
                let _ = writeln!(
                    s,
                    "No window had 1 % errors or a p99 over 1 s, but one CPU tier did saturate: {name} reached {:.0} % (the bottleneck line below says for how long).",
                    peak * 100.0
                );
            }
            _ => {
                let _ = writeln!(
                    s,
                    "Nothing saturated. The busiest window used {:.0} % of the CPU; no window had 1 % errors or a p99 over 1 s.",
                    a.peak_utilization * 100.0
                );
            }
        },
        (None, Some(b)) => {
            let _ = writeln!(
                s,
                "No window had 1 % errors or a p99 over 1 s, but something did happen: {} at {}. The busiest window used {:.0} % of the CPU.",
                b.what,
                clock(b.at),
                a.peak_utilization * 100.0
            );
            let _ = writeln!(
                s,
                "\n**What addresses it:** {}.",
                remedy(b.why, scn.chapter)
            );
        }
        // What failed first, what followed and what addresses it: the forensics' section below
        // says it, in order, once.
        (Some(start), _) => {
            let _ = writeln!(
                s,
                "Trouble began at {} and lasted until {} ({:.0} % of the run's windows had ≥ 1 % errors or p99 ≥ 1 s).",
                clock(start),
                clock(a.trouble_end.unwrap_or(start)),
                a.troubled_fraction * 100.0
            );
            if let Some(st) = storm(scn, run) {
                let _ = writeln!(
                    s,
                    "\n**It outlived its trigger:** every injected fault was over at {}, yet a \
                     minute later and to the end of the run {:.0} % of requests still failed: \
                     {:.0} attempts a second were offered, {:.0} of them retries, for {:.0} ok \
                     answers a second. Retries are keeping the overload going (a metastable \
                     failure). What ends one: a retry budget, exponential backoff with jitter, a \
                     circuit breaker with a fallback, or shedding requests that waited too long \
                     (`scenarios/retry-storm.toml` has each as a variant).",
                    clock(st.cleared_at),
                    st.error_rate * 100.0,
                    st.offered,
                    st.retries,
                    st.ok
                );
            }
        }
    }
    if let Some(line) = busiest_tiers(scn, run) {
        let _ = writeln!(s, "\n{line}");
    }
    s.push_str(&super::forensics::analyze(scn, run).markdown());
    by_route(&mut s, scn, run);
    s.push_str(&crate::model::cache::summary_section(
        &run.cards,
        run.measured,
    ));
    for n in &run.narratives {
        let _ = writeln!(s, "\n## {}\n", n.title);
        for (i, p) in n.paragraphs.iter().enumerate() {
            if i > 0 {
                let _ = writeln!(s);
            }
            let _ = writeln!(s, "{p}");
        }
    }
    s.push_str(&crate::model::job::summary_section(
        &run.cards,
        run.metrics.job_split.as_deref(),
        scn.warmup,
        run.measured,
    ));
    s.push_str(&crate::model::queue::summary_section(&run.cards));
    s.push_str(&crate::model::topic::summary_section(&run.cards));
    s.push_str(&super::theory::summary_section(&super::theory::analyze(
        scn, run, scn.warmup,
    )));
    if !run.timeline.is_empty() {
        let _ = writeln!(s, "\n## Timeline\n");
        let lines = timeline_lines(&run.timeline);
        let n = lines.len();
        for (i, line) in lines.iter().enumerate() {
            if i == 30 && n > 32 {
                let _ = writeln!(
                    s,
                    "- … {} more (every event is in results.json under `timeline`)",
                    n - 30
                );
                break;
            }
            let _ = writeln!(s, "- {line}");
        }
    }
    // Before/after each resize: the story of chapter 3. A resize is a stop followed by the
    // instance coming back as the new type.
    let tl = &run.timeline;
    let resumed = tl.iter().enumerate().filter_map(|(i, stop)| {
        let next = tl[i + 1..].iter().find(|e| e.component == stop.component)?;
        (stop.kind == EventKind::Resize && next.kind == EventKind::BackUp).then_some(next)
    });
    for e in resumed {
        let after: Vec<_> = run
            .metrics
            .series
            .iter()
            .filter(|r| r.start >= e.at)
            .collect();
        let before: Vec<_> = run
            .metrics
            .series
            .iter()
            .filter(|r| r.end <= e.at)
            .collect();
        let rate = |rows: &[&crate::metrics::WindowRow]| {
            let t: u64 = rows.iter().map(|r| r.total()).sum();
            let er: u64 = rows.iter().map(|r| r.errors()).sum();
            if t == 0 {
                0.0
            } else {
                er as f64 / t as f64 * 100.0
            }
        };
        if !after.is_empty() && !before.is_empty() {
            let _ = writeln!(
                s,
                "\nBefore {} came back at {}, {:.1} % of requests failed; after, {:.2} %.",
                e.component,
                clock(e.at),
                rate(&before),
                rate(&after)
            );
        }
    }
    databases(&mut s, run);
    if let Some(pops) = crate::report::results::populations(scn, run) {
        let _ = writeln!(s, "\n## Who was asking\n");
        for p in &pops {
            let p99 = if p.latency.is_empty() {
                "—".to_string()
            } else {
                human(p.latency.value_at_quantile(0.99))
            };
            let what = if p.bot {
                format!(
                    "**{}** (a bot): {} requests, {:.1} % stopped by a limit (429), {:.1} % failed otherwise, {} served (p99 {p99}).",
                    p.name,
                    p.requests,
                    p.throttled_share() * 100.0,
                    p.failed_share() * 100.0,
                    p.ok
                )
            } else {
                let reloads = match (p.refreshes, scn.client.refresh) {
                    (Some(n), Some(rf)) => format!(
                        " {} of them ({:.0} %) are impatient and reload a page after {}: {n} reloads, {:.1} per 100 clicks, each a new request the servers must serve while the old one still runs.",
                        crate::scenario::error::thousands((u64::from(scn.client.users) * u64::from(rf.per_million)) / 1_000_000),
                        f64::from(rf.per_million) / 1e4,
                        crate::engine::time::human(rf.patience),
                        if p.requests > 0 { n as f64 * 100.0 / p.requests as f64 } else { 0.0 },
                    ),
                    _ => String::new(),
                };
                format!(
                    "**{}** (the real users): {} requests, p99 {p99}; {:.2} % throttled by mistake, {:.2} % failed otherwise.{reloads}",
                    p.name,
                    p.requests,
                    p.throttled_share() * 100.0,
                    p.failed_share() * 100.0
                )
            };
            let _ = writeln!(s, "- {what}");
        }
    }
    let _ = writeln!(s, "\n## Cost\n");
    let hours = run.measured as f64 / 3.6e12;
    let _ = writeln!(
        s,
        "${:.4} for the measured {:.2} h — ${:.2} a month at this rate{}.",
        f.cost,
        hours,
        if hours > 0.0 {
            f.cost / hours * crate::scenario::units::HOURS_PER_MONTH
        } else {
            0.0
        },
        if f.ok > 0 {
            format!(
                ", ${:.5} per 1,000 successful requests",
                f.cost / f.ok as f64 * 1000.0
            )
        } else {
            String::new()
        }
    );
    s
}

/// "The database": for each database, where its reads went, its busiest instance (the
/// bottleneck when it is near 100 %), its pool, replica lag and stale reads, and failovers — read
/// from its card's documented keys (docs/database.md).
fn databases(s: &mut String, run: &RunOutput) {
    use crate::model::kit::Figure;
    for (kind, card) in &run.cards {
        if *kind != "database" {
            continue;
        }
        let get = |key: &str| {
            card.fields
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, f)| match f {
                    Figure::Count(n) => Some(*n as f64),
                    Figure::Value(v) => Some(*v),
                    Figure::Maybe(v) => *v,
                    _ => None,
                })
        };
        let n = |key: &str| get(key).unwrap_or(0.0);
        let _ = writeln!(s, "\n## The database ({})\n", card.name);
        let _ = writeln!(
            s,
            "- Queries: {:.0} point reads, {:.0} scans, {:.0} writes; reads served by the replicas {:.0}, by the primary {:.0}.",
            n("point_reads"),
            n("scans"),
            n("writes"),
            n("reads_on_replicas"),
            n("reads_on_primary")
        );
        let mut util: Vec<(&str, f64)> = card
            .fields
            .iter()
            .filter_map(|(k, f)| match f {
                Figure::Maybe(Some(v)) => k.strip_suffix("_utilization").map(|i| (i, *v)),
                _ => None,
            })
            .collect();
        let each = util
            .iter()
            .map(|(i, v)| format!("{i} {:.0} %", v * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        util.sort_by(|a, b| b.1.total_cmp(&a.1));
        if let Some(&(busiest, u)) = util.first() {
            let verdict = if u >= 0.9 {
                "the bottleneck: its CPU is saturated and queries queue for it"
            } else {
                "not saturated"
            };
            let _ = writeln!(
                s,
                "- CPU: {each}. Busiest: {busiest} at {:.0} % — {verdict}.",
                u * 100.0
            );
        }
        let waits = n("pool_waits");
        if waits > 0.0 || n("refused") > 0.0 {
            let _ = writeln!(
                s,
                "- Connections: peak {:.0} of {:.0} on one instance; {:.0} queries waited for one, {:.0} gave up after the pool timeout, {:.0} were refused.",
                n("connections_peak"),
                n("max_connections"),
                waits,
                n("pool_timeouts"),
                n("refused")
            );
        } else {
            let _ = writeln!(
                s,
                "- Connections: peak {:.0} of {:.0} on one instance; no query waited for one.",
                n("connections_peak"),
                n("max_connections")
            );
        }
        if n("replicas") > 0.0 {
            let ms = |k: &str| get(k).map_or("—".to_string(), |v| human((v * 1e6) as u64));
            let _ = writeln!(
                s,
                "- Replica lag: mean {}, max {}. Stale reads (a user reading a replica that had not applied their own write): {:.0}, {:.2} % of replica reads.",
                ms("replica_lag_mean_ms"),
                ms("replica_lag_max_ms"),
                n("stale_reads"),
                n("stale_read_ratio") * 100.0
            );
        }
        let down = n("write_downtime_s");
        if down > 0.0 || n("failovers") > 0.0 {
            let _ = writeln!(
                s,
                "- Writes were failing for {} in all ({:.0} failover{}); {:.0} queries were answered 503 while there was nowhere to send them.",
                human((down * 1e9) as u64),
                n("failovers"),
                if n("failovers") == 1.0 { "" } else { "s" },
                n("unavailable")
            );
        }
    }
}
