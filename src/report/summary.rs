//! summary.md: what happened, in plain words — what saturated first, when, what it did to users,
//! and which chapter's idea addresses it.

use super::results::figures;
use crate::engine::time::{clock, human};
use crate::model::request::Outcome;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use std::fmt::Write;

/// A milestone found in the time series.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// When (window start), ns.
    pub at: u64,
    /// What, in words.
    pub what: String,
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
    /// What saturated first, as a short noun phrase.
    pub bottleneck: Option<String>,
}

fn troubled(r: &crate::metrics::WindowRow) -> bool {
    let t = r.total();
    (t > 0 && r.errors() as f64 / t as f64 >= 0.01) || r.p99_ms >= 1000.0
}

/// Reads the time series and server events for milestones.
pub fn analyze(run: &RunOutput) -> Analysis {
    let s = &run.metrics.series;
    let mut a = Analysis::default();
    let first = |at: u64, what: String, firsts: &mut Vec<Finding>| {
        if !firsts.iter().any(|f| f.what == what) {
            firsts.push(Finding { at, what });
        }
    };
    let mut firsts = Vec::new();
    let mut n_troubled = 0;
    for r in s {
        a.peak_utilization = a.peak_utilization.max(r.gauges.utilization);
        if r.gauges.utilization >= 0.95 {
            first(r.start, "CPU saturated (≥ 95 % busy)".into(), &mut firsts);
        }
        if r.gauges.backlog > 0 && r.gauges.utilization >= 0.9 {
            first(
                r.start,
                "requests queueing for a worker".into(),
                &mut firsts,
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
                first(r.start, what.into(), &mut firsts);
            }
        }
        if troubled(r) {
            n_troubled += 1;
            a.trouble_start.get_or_insert(r.start);
            a.trouble_end = Some(r.end);
        }
    }
    for srv in &run.servers {
        for e in &srv.events {
            if e.what.contains("out of memory") {
                first(
                    e.at,
                    format!("{} ran out of memory and crashed", srv.name),
                    &mut firsts,
                );
            }
        }
    }
    firsts.sort_by_key(|f| f.at);
    a.bottleneck = firsts.first().map(|f| f.what.clone());
    a.firsts = firsts;
    a.troubled_fraction = if s.is_empty() {
        0.0
    } else {
        n_troubled as f64 / s.len() as f64
    };
    a
}

/// The chapter whose idea addresses a bottleneck.
pub fn remedy(bottleneck: &str, chapter: Option<u32>) -> &'static str {
    let ch = chapter.unwrap_or(0);
    if bottleneck.contains("CPU")
        || bottleneck.contains("queueing")
        || bottleneck.contains("memory")
    {
        if ch < 3 {
            "a bigger machine (chapter 3, vertical scaling) raises the ceiling; more machines (chapter 4) remove it"
        } else {
            "one machine has a ceiling however big it is: add identical servers behind a balancer (chapters 4 and 5)"
        }
    } else if bottleneck.contains("DNS") {
        "longer TTLs and health-checked failover records (chapter 2) keep the name resolvable"
    } else if bottleneck.contains("503") {
        "more healthy capacity and faster health checks (chapters 4 and 5)"
    } else if bottleneck.contains("throttled") {
        "per-client limits tuned to real users (chapter 11)"
    } else {
        "look at which component's queue grew first; the journey's later chapters each remove one such limit"
    }
}

/// The summary.md text.
pub fn summary_md(scn: &Scenario, run: &RunOutput) -> String {
    let f = figures(run);
    let a = analyze(run);
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", scn.name);
    if let Some(d) = &scn.file.scenario.description {
        let _ = writeln!(s, "_{d}_\n");
    }
    let _ = writeln!(
        s,
        "Simulated {} (statistics after a {} warm-up), seed {}. {} requests ended; {:.2} % failed.",
        human(scn.duration),
        human(scn.warmup),
        scn.seed,
        f.total,
        f.error_rate * 100.0
    );
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
        (None, _) => {
            let _ = writeln!(
                s,
                "Nothing saturated. The busiest window used {:.0} % of the CPU; no window had 1 % errors or a p99 over 1 s.",
                a.peak_utilization * 100.0
            );
        }
        (Some(start), bottleneck) => {
            let _ = writeln!(
                s,
                "Trouble began at {} and lasted until {} ({:.0} % of the run's windows had ≥ 1 % errors or p99 ≥ 1 s).",
                clock(start),
                clock(a.trouble_end.unwrap_or(start)),
                a.troubled_fraction * 100.0
            );
            if let Some(b) = bottleneck {
                let _ = writeln!(
                    s,
                    "\n**What saturated first:** {b}, at {}.",
                    clock(a.firsts[0].at)
                );
                let _ = writeln!(s, "\n**What addresses it:** {}.", remedy(b, scn.chapter));
            }
        }
    }
    if !a.firsts.is_empty() {
        let _ = writeln!(s, "\nIn order of first appearance:\n");
        for fi in &a.firsts {
            let _ = writeln!(s, "- {} — {}", clock(fi.at), fi.what);
        }
    }
    if !run.timeline.is_empty() {
        let _ = writeln!(s, "\n## Timeline\n");
        let n = run.timeline.len();
        for (i, (at, comp, what)) in run.timeline.iter().enumerate() {
            if i == 30 && n > 32 {
                let _ = writeln!(
                    s,
                    "- … {} more (all of them are in results.json under `timeline`)",
                    n - 30
                );
                break;
            }
            let _ = writeln!(s, "- {} — {comp}: {what}", clock(*at));
        }
    }
    // Before/after each resize: the story of chapter 3.
    for srv in &run.servers {
        // A resize is a stop followed by the instance coming back as the new type.
        let resumed = srv
            .events
            .windows(2)
            .filter(|w| w[0].what.contains("for a resize") && w[1].what.starts_with("back up as"))
            .map(|w| &w[1]);
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
                    srv.name,
                    clock(e.at),
                    rate(&before),
                    rate(&after)
                );
            }
        }
    }
    let _ = writeln!(s, "\n## Cost\n");
    let hours = (scn.duration - scn.warmup) as f64 / 3.6e12;
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
