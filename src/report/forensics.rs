//! Failure forensics: what failed first, when, what users saw, what followed in order, and the
//! chapter whose idea addresses it — read from the window series, the component timeline and
//! the scenario, after the run (nothing here runs per event). docs/forensics.md explains the
//! choices; summary.md, results.json (`forensics`), the journey's page and `check`'s feedback
//! all render the one [`Forensics`] that [`analyze`] returns.

use super::summary::{self, Why, SATURATED};
use crate::engine::time::{as_secs_f64, clock, human, Time};
use crate::model::faults::FaultKind;
use crate::model::fleet::{Metric, Policy};
use crate::model::kinds::ComponentSpec;
use crate::model::kit::EventKind;
use crate::model::request::Outcome;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use serde_json::{json, Value};
use std::fmt::Write;

/// The first component to fail (or, when nothing failed outright, to saturate).
#[derive(Clone, Debug, PartialEq)]
pub struct Cause {
    /// When, ns.
    pub at: Time,
    /// The component (a server, a fleet's tier, a balancer, a limiter…).
    pub component: String,
    /// Its resource that crossed its limit: "memory", "CPU", "backlog", "health checks",
    /// "rate limit", "healthy targets", "capacity" (a fleet at its max), "injected fault".
    pub resource: &'static str,
    /// In words.
    pub what: String,
    /// What kind of trouble it is (the remedy depends on it).
    pub why: Why,
}

/// What users saw, and from when.
#[derive(Clone, Debug, PartialEq)]
pub struct Symptom {
    /// Start of the first window in trouble (≥ 1 % failed or p99 ≥ 1 s), ns.
    pub at: Time,
    /// The most common failure in that window, if requests failed.
    pub outcome: Option<Outcome>,
    /// In words.
    pub what: String,
}

/// One thing that followed, in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// When, ns.
    pub at: Time,
    /// The component it happened to.
    pub component: String,
    /// In words.
    pub what: String,
}

impl Step {
    /// The step in words: "web ran out of memory…", or for the users as a whole the thing they
    /// saw ("No request succeeded (goodput 0)").
    pub fn words(&self) -> String {
        if self.component == "users" {
            let mut c = self.what.chars();
            c.next()
                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
        } else {
            format!("{} {}", self.component, self.what)
        }
    }
}

/// How much room the busiest CPU tier had, for a run in which nothing failed.
#[derive(Clone, Debug, PartialEq)]
pub struct Headroom {
    /// The tier.
    pub tier: String,
    /// Its mean utilization over the measured windows.
    pub mean: f64,
    /// Its busiest measured window.
    pub peak: f64,
}

/// The forensics of one run.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Forensics {
    /// What failed first (None: nothing failed or saturated).
    pub first: Option<Cause>,
    /// A CPU that saturated before `first` failed (the load that led to it), if one did.
    pub saturated_before: Option<Cause>,
    /// What users saw, if any window was in trouble.
    pub symptom: Option<Symptom>,
    /// What followed, in time order (repeats folded into one step).
    pub cascade: Vec<Step>,
    /// What kept the trouble going after its trigger had passed (retries), if something did.
    pub kept_going: Option<String>,
    /// The idea that addresses the first cause.
    pub remedy: String,
    /// The chapter of that idea.
    pub remedy_chapter: Option<u32>,
    /// With nothing failed: the busiest tier's room.
    pub headroom: Option<Headroom>,
}

/// Most steps the cascade lists before it says how many more there were.
pub const MAX_STEPS: usize = 14;

fn troubled(r: &crate::metrics::WindowRow) -> bool {
    let t = r.total();
    (t > 0 && r.errors() as f64 / t as f64 >= 0.01) || r.p99_ms >= 1000.0
}

/// The target named in a balancer's health event ("target web[3] failed …").
fn health_target(text: &str) -> Option<&str> {
    text.strip_prefix("target ")?.split(' ').next()
}

/// The new desired capacity of a group's scaling event ("desired capacity 3 → 4: …").
fn desired_after(text: &str) -> Option<u32> {
    let rest = text.strip_prefix("desired capacity ")?;
    let (_, after) = rest.split_once(" → ")?;
    after.split(':').next()?.trim().parse().ok()
}

/// The CPU tier busiest in a window (highest utilization), if any ran.
fn busiest_in(run: &RunOutput, r: &crate::metrics::WindowRow) -> Option<String> {
    run.tiers
        .iter()
        .filter_map(|(i, n)| Some((n, *r.gauges.tiers.get(*i)?)))
        .filter(|(_, u)| u.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(n, _)| n.clone())
}

/// A group scaling on CPU with target tracking: (name, target, min, max).
fn cpu_groups(scn: &Scenario) -> Vec<(&str, f64, u32, u32)> {
    scn.components
        .iter()
        .filter_map(|(name, c)| match c {
            ComponentSpec::Fleet(f) => match f.policy {
                Policy::TargetTracking {
                    metric: Metric::Cpu,
                    target,
                    ..
                } => Some((name.as_str(), target, f.min, f.max)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The maximum of each fleet, by name.
fn fleet_max(scn: &Scenario, name: &str) -> Option<u32> {
    scn.components.iter().find_map(|(n, c)| match c {
        ComponentSpec::Fleet(f) if n == name => Some(f.max),
        _ => None,
    })
}

/// The first component of one of these kinds (for failures the series counts but does not
/// place: a 429 comes from a limiter or a gateway).
fn first_of_kind(run: &RunOutput, kinds: &[&str]) -> Option<String> {
    run.cards
        .iter()
        .find(|(k, _)| kinds.contains(k))
        .map(|(_, c)| c.name.clone())
}

/// Reads a finished run for its forensics.
pub fn analyze(scn: &Scenario, run: &RunOutput) -> Forensics {
    let rows = &run.metrics.series;
    let mut f = Forensics::default();

    // The first window each CPU tier saturated.
    let saturated: Option<Cause> = run
        .tiers
        .iter()
        .filter_map(|(i, name)| {
            let r = rows.iter().find(|r| {
                r.gauges
                    .tiers
                    .get(*i)
                    .is_some_and(|u| u.is_finite() && *u >= SATURATED)
            })?;
            Some(Cause {
                at: r.start,
                component: name.clone(),
                resource: "CPU",
                what: format!("{name}'s CPU saturated (≥ {:.0} % busy)", SATURATED * 100.0),
                why: Why::Cpu,
            })
        })
        .min_by_key(|c| c.at);

    // Limits crossed outright, in the order they are looked for (ties keep it).
    let mut fails: Vec<(Time, Cause)> = Vec::new();
    for e in &run.timeline {
        let c = match e.kind {
            EventKind::OutOfMemory => Cause {
                at: e.at,
                component: e.component.clone(),
                resource: "memory",
                what: format!(
                    "{} ran out of memory and was killed: the requests it held needed more than the machine has",
                    e.component
                ),
                why: Why::OutOfMemory,
            },
            EventKind::Fault(k) if k != FaultKind::Recover => Cause {
                at: e.at,
                component: e.component.clone(),
                resource: "injected fault",
                what: format!("injected fault: {}", e.text),
                why: Why::Fault(k),
            },
            EventKind::Crash => Cause {
                at: e.at,
                component: e.component.clone(),
                resource: "process",
                what: format!("{}: {}", e.component, e.text),
                why: Why::Fault(FaultKind::Crash),
            },
            EventKind::Health if e.text.contains("taken out of rotation") => {
                let target = health_target(&e.text).unwrap_or(&e.component);
                Cause {
                    at: e.at,
                    component: target.to_string(),
                    resource: "health checks",
                    what: format!(
                        "{target} {}, so the balancer {} took it out of rotation",
                        e.text
                            .split(": ")
                            .next()
                            .and_then(|s| s.split_once(' ').map(|x| x.1))
                            .and_then(|s| s.split_once(' ').map(|x| x.1))
                            .unwrap_or("failed its health checks")
                            .replace(" checks", " health checks"),
                        e.component
                    ),
                    why: Why::Queueing,
                }
            }
            EventKind::Scaling => {
                let Some(d) = desired_after(&e.text) else {
                    continue;
                };
                if fleet_max(scn, &e.component) != Some(d) {
                    continue;
                }
                Cause {
                    at: e.at,
                    component: e.component.clone(),
                    resource: "capacity",
                    what: format!(
                        "{} reached its maximum of {d} instances: it cannot add more",
                        e.component
                    ),
                    why: Why::Cpu,
                }
            }
            _ => continue,
        };
        fails.push((c.at, c));
    }
    // A window's failures are placed at its start but may have come at any time in it: they
    // are ranked by its end, so an exact event inside the same window (an out-of-memory crash
    // that then refuses connections) comes first.
    let window_cause = |o: Outcome| rows.iter().find(|r| r.outcomes[o.index()] > 0);
    if let Some(r) = window_cause(Outcome::Refused) {
        let who = busiest_in(run, r).unwrap_or_else(|| "the server".into());
        fails.push((r.end - 1, Cause {
            at: r.start,
            component: who.clone(),
            resource: "backlog",
            what: format!(
                "{who}'s backlog was full: new connections were refused ({} requests waiting in backlogs)",
                r.gauges.backlog.max(
                    rows.iter()
                        .take_while(|x| x.start < r.start)
                        .last()
                        .map_or(0, |x| x.gauges.backlog)
                )
            ),
            why: Why::Queueing,
        }));
    }
    if let Some(r) = window_cause(Outcome::Throttled) {
        let who = first_of_kind(run, &["rate_limiter", "api_gateway", "external"])
            .unwrap_or_else(|| "a limiter".into());
        fails.push((
            r.end - 1,
            Cause {
                at: r.start,
                component: who.clone(),
                resource: "rate limit",
                what: format!("{who}'s rate limit answered 429"),
                why: Why::Symptom(Outcome::Throttled),
            },
        ));
    }
    if let Some(r) = window_cause(Outcome::Unavailable) {
        let who = first_of_kind(run, &["load_balancer", "api_gateway", "database"])
            .unwrap_or_else(|| "a balancer".into());
        fails.push((
            r.end - 1,
            Cause {
                at: r.start,
                component: who.clone(),
                resource: "healthy targets",
                what: format!("{who} had nowhere to send requests: 503s"),
                why: Why::Symptom(Outcome::Unavailable),
            },
        ));
    }
    if let Some(r) = window_cause(Outcome::DnsFailure) {
        fails.push((
            r.end - 1,
            Cause {
                at: r.start,
                component: first_of_kind(run, &["dns"]).unwrap_or_else(|| "dns".into()),
                resource: "DNS answers",
                what: "DNS lookups failed".into(),
                why: Why::Symptom(Outcome::DnsFailure),
            },
        ));
    }
    // Earliest first; a tie keeps the order above (memory before the refusals it causes).
    let first_fail = fails.iter().min_by_key(|x| x.0).map(|x| x.1.clone());
    f.first = match (first_fail, saturated) {
        (Some(c), Some(s)) => {
            if s.at <= c.at && s.component != c.component || s.at < c.at {
                f.saturated_before = Some(s);
            }
            Some(c)
        }
        (Some(c), None) => Some(c),
        (None, s) => s,
    };

    // What users saw.
    if let Some(r) = rows.iter().find(|r| troubled(r)) {
        let mut worst: Option<(Outcome, u64)> = None;
        for o in Outcome::ALL {
            let n = r.outcomes[o.index()];
            if o != Outcome::Ok && n > 0 && worst.is_none_or(|w| n > w.1) {
                worst = Some((o, n));
            }
        }
        let share = Outcome::failed_share(&r.outcomes);
        let what = match worst {
            Some((o, _)) if share >= 0.01 => format!(
                "{:.0} % of requests failed (mostly {}), p99 of the rest {}",
                share * 100.0,
                o.words(),
                p99_words(r.p99_ms)
            ),
            _ => format!(
                "slow answers: p99 {} (requests waited in queues)",
                p99_words(r.p99_ms)
            ),
        };
        f.symptom = Some(Symptom {
            at: r.start,
            outcome: worst.filter(|_| share >= 0.01).map(|w| w.0),
            what,
        });
    }

    f.cascade = cascade(scn, run, f.first.as_ref());
    f.kept_going = summary::storm(scn, run).map(|st| {
        format!(
            "retries: every injected fault was over at {}, yet to the end {:.0} % of requests failed, \
             {:.0} attempts a second of which {:.0} retries, for {:.0} ok answers a second — the \
             retries alone keep the servers overloaded (a metastable failure)",
            clock(st.cleared_at),
            st.error_rate * 100.0,
            st.offered,
            st.retries,
            st.ok
        )
    });

    let spiral = is_spiral(&f);
    match &f.first {
        Some(c) => {
            if spiral {
                f.remedy = "capacity ahead of the load, so no target is ever overloaded enough to fail its \
                            checks: a fleet whose max is high enough, scaling on requests per target \
                            (which idle unhealthy targets do not dilute) or on a schedule (chapter 4); \
                            a balancer that fails open when every target is unhealthy, as ALB does (chapter 5); \
                            and shedding what cannot be served in time (`queue_timeout`, chapter 11's limits), \
                            so health checks are answered"
                    .into();
                f.remedy_chapter = Some(4);
            } else if let Some(text) = database_remedy(scn, c) {
                f.remedy = text.into();
                f.remedy_chapter = first_chapter(&f.remedy);
            } else {
                f.remedy = summary::remedy(c.why, scn.chapter).to_string();
                f.remedy_chapter = first_chapter(&f.remedy).or(scn.chapter);
            }
        }
        None => {
            let measured: Vec<_> = rows.iter().filter(|r| r.start >= scn.warmup).collect();
            f.headroom = summary::tier_loads(measured.iter().copied(), run)
                .first()
                .map(|t| {
                    let i = run.tiers.iter().find(|(_, n)| n == t.name).map(|(i, _)| *i);
                    let peak = measured
                        .iter()
                        .filter_map(|r| r.gauges.tiers.get(i?).copied())
                        .filter(|u| u.is_finite())
                        .fold(0.0, f64::max);
                    Headroom {
                        tier: t.name.to_string(),
                        mean: t.mean,
                        peak,
                    }
                });
        }
    }
    f
}

/// A health-check death spiral: targets taken out of rotation while the CPU was saturated or
/// backlogs full, not because of an injected fault.
fn is_spiral(f: &Forensics) -> bool {
    let by_load = |c: &Cause| matches!(c.resource, "health checks" | "backlog" | "CPU");
    f.first.as_ref().is_some_and(by_load)
        && f.cascade
            .iter()
            .any(|s| s.what.contains("out of rotation") || s.what.contains("no target"))
        && f.first
            .as_ref()
            .is_some_and(|c| !matches!(c.why, Why::Fault(_)))
}

fn p99_words(ms: f64) -> String {
    if ms.is_finite() {
        human((ms * 1e6) as u64)
    } else {
        "— (none answered)".into()
    }
}

/// The first "chapter N" or "chapters N" a remedy names.
/// The remedy when the first cause is a database's CPU: more servers do not help there.
fn database_remedy(scn: &Scenario, c: &Cause) -> Option<&'static str> {
    if c.why != Why::Cpu {
        return None;
    }
    let (db, part) = c.component.split_once('.').unwrap_or((&c.component, ""));
    let is_db = scn
        .components
        .iter()
        .any(|(n, k)| n == db && matches!(k, crate::model::kinds::ComponentSpec::Database(_)));
    if !is_db {
        return None;
    }
    Some(if part.starts_with("replica") {
        "more read replicas share the reads, and a cache in front of the database answers most of them before they reach it (chapter 13)"
    } else {
        "read replicas take the reads off the primary (chapter 12) and a cache in front answers most of them before they reach the database (chapter 13); a bigger instance class only raises the ceiling"
    })
}

fn first_chapter(text: &str) -> Option<u32> {
    let i = text.find("chapter")?;
    text[i..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| !s.is_empty())?
        .parse()
        .ok()
}

/// What followed the first cause, in order: the timeline's health changes, scaling, crashes and
/// restarts, breakers and failovers, with the series' turning points (goodput at zero, retries
/// multiplying) and a CPU-scaled group that did not scale out. Runs of the same change are
/// folded into one step with a count.
fn cascade(scn: &Scenario, run: &RunOutput, first: Option<&Cause>) -> Vec<Step> {
    let Some(first) = first else {
        return Vec::new();
    };
    let rows = &run.metrics.series;
    let mut steps: Vec<Step> = Vec::new();
    let mut out: Vec<String> = Vec::new(); // targets out of rotation now
    let mut all_out_said = false;
    let mut one_left_said = false;
    let mut last_said: Option<String> = None;
    let mut folded: Vec<(String, u32, Time)> = Vec::new(); // (component+kind, times, last)
                                                           // Gauges are read at a window's end: the backlog around `t` is the larger of the readings
                                                           // at the start and the end of its window.
    let backlog_at = |t: Time| {
        let k = rows.iter().position(|r| r.start <= t && t < r.end);
        k.map_or(0, |k| {
            let before = k.checked_sub(1).map_or(0, |j| rows[j].gauges.backlog);
            before.max(rows[k].gauges.backlog)
        })
    };
    let fails_open = scn
        .components
        .iter()
        .any(|(_, c)| matches!(c, ComponentSpec::LoadBalancer(l) if l.fail_open));
    let mut episodes: Vec<(Time, Option<Time>)> = Vec::new(); // every target out: (from, until)
    let instances_at = |t: Time| {
        rows.iter()
            .find(|r| r.start <= t && t < r.end)
            .map_or(0, |r| r.gauges.instances)
    };
    for e in &run.timeline {
        if e.at < first.at {
            if e.kind == EventKind::Health {
                track(&mut out, &e.text);
            }
            continue;
        }
        let mut special = false;
        let what = match e.kind {
            EventKind::Health => {
                let target = health_target(&e.text).unwrap_or("a target").to_string();
                let was_out = out.len();
                track(&mut out, &e.text);
                let n = instances_at(e.at).max(out.len() as u32);
                let healthy = n.saturating_sub(out.len() as u32);
                if out.len() > was_out {
                    if healthy == 0 && episodes.last().is_none_or(|x| x.1.is_some()) {
                        episodes.push((e.at, None));
                    }
                    if healthy == 0 && !all_out_said {
                        all_out_said = true;
                        special = true;
                        let then = if fails_open {
                            "failing open, the balancer sends requests to every target anyway"
                        } else {
                            "the balancer answers 503 to every request until a target passes its checks again"
                        };
                        Some(format!(
                            "took {target} out of rotation too: no target of {n} is healthy ({} requests \
                             waited in backlogs; health checks queue behind them and time out, or are refused \
                             when a backlog is full); {then}",
                            backlog_at(e.at)
                        ))
                    } else if healthy == 1 && n > 1 && !one_left_said {
                        one_left_said = true;
                        special = true;
                        Some(format!(
                            "took {target} out of rotation: only 1 of {n} targets is left healthy, and it gets all the traffic"
                        ))
                    } else {
                        Some(format!(
                            "took {target} out of rotation ({healthy} of {n} healthy): its health checks \
                             failed while {} requests waited in backlogs",
                            backlog_at(e.at)
                        ))
                    }
                } else {
                    if healthy > 0 {
                        if let Some(x) = episodes.last_mut().filter(|x| x.1.is_none()) {
                            x.1 = Some(e.at);
                        }
                    }
                    Some(format!(
                        "put {target} back in rotation ({healthy} of {n} healthy)"
                    ))
                }
            }
            EventKind::Scaling
            | EventKind::OutOfMemory
            | EventKind::Crash
            | EventKind::BackUp
            | EventKind::Replaced
            | EventKind::Breaker
            | EventKind::Failover
            | EventKind::Resize
            | EventKind::Fault(_)
            | EventKind::FaultCleared
            | EventKind::Dns => Some(e.text.clone()),
            _ => None,
        };
        let Some(what) = what else { continue };
        // Fold repeats: after a component's second step of a kind, only count.
        let key = format!("{}|{}", e.component, e.kind.name());
        let n = match folded.iter_mut().find(|(k, _, _)| *k == key) {
            Some(x) => {
                x.1 += 1;
                x.2 = e.at;
                x.1
            }
            None => {
                folded.push((key.clone(), 1, e.at));
                1
            }
        };
        let cap = if e.kind == EventKind::Health { 4 } else { 2 };
        if (n <= cap || special) && last_said.as_deref() != Some(&what) {
            last_said = Some(what.clone());
            steps.push(Step {
                at: e.at,
                component: e.component.clone(),
                what,
            });
        }
    }
    // Summaries (folded repeats, the spiral's cycle, a group that did not scale out) survive
    // the cap on steps.
    let mut summaries: Vec<Step> = Vec::new();
    for (key, n, last) in &folded {
        let cap = if key.ends_with("|health") { 4 } else { 2 };
        if *n > cap {
            let (comp, kind) = key.split_once('|').unwrap_or((key, ""));
            let words = match kind {
                "health" => "health changes (targets out of rotation and back)",
                "scaling" => "scaling changes",
                "out_of_memory" => "out-of-memory crashes",
                "crash" => "crashes",
                "back_up" => "restarts",
                "breaker" => "breaker changes",
                _ => "more of these",
            };
            summaries.push(Step {
                at: *last,
                component: comp.to_string(),
                what: format!("… {n} {words} in all, the last at {}", clock(*last)),
            });
        }
    }
    if episodes.len() >= 2 {
        let n = episodes.len();
        let span = episodes[n - 1].0 - episodes[0].0;
        let lasted: Vec<Time> = episodes
            .iter()
            .filter_map(|&(a, b)| b.map(|b| b - a))
            .collect();
        let mean_out = lasted.iter().sum::<Time>() / (lasted.len().max(1) as Time);
        summaries.push(Step {
            at: episodes[n - 1].0,
            component: first_of_kind(run, &["load_balancer"]).unwrap_or_default(),
            what: format!(
                "had every target out of rotation {n} times, about every {}, for {} each time on \
                 average: a death spiral — an overloaded target fails its checks, its traffic moves to \
                 the others, which overload and fail theirs; an idle target passes again, comes back, \
                 and is overloaded at once",
                human(span / (n as Time - 1)),
                human(mean_out)
            ),
        });
    }
    // The series' turning points.
    if let Some(r) = rows
        .iter()
        .filter(|r| r.start >= first.at)
        .find(|r| r.attempts > 0 && r.outcomes[Outcome::Ok.index()] == 0 && r.total() > 0)
    {
        let busy = r.gauges.utilization;
        let why = if busy >= 0.3 {
            format!(
                ", though the CPU was {:.0} % busy: the servers were working on requests whose users had already given up{}",
                busy * 100.0,
                scn.client
                    .timeout
                    .map_or(String::new(), |t| format!(" after {}", human(t)))
            )
        } else {
            String::new()
        };
        steps.push(Step {
            at: r.start,
            component: "users".into(),
            what: format!("no request succeeded (goodput 0){why}"),
        });
    }
    if let Some(r) = rows.iter().filter(|r| r.start >= first.at).find(|r| {
        let firsts = r.attempts.saturating_sub(r.retries);
        r.retries >= 20 && r.retries * 2 >= firsts
    }) {
        steps.push(Step {
            at: r.start,
            component: "users".into(),
            what: format!(
                "retries multiplied the load: {} retries for {} first tries in one window",
                r.retries,
                r.attempts.saturating_sub(r.retries)
            ),
        });
    }
    // A group on CPU that did not scale out through the trouble.
    let troubled_rows: Vec<_> = rows.iter().filter(|r| troubled(r)).collect();
    for (name, target, _min, max) in cpu_groups(scn) {
        let Some(&(i, _)) = run.tiers.iter().find(|(_, n)| n == name) else {
            continue;
        };
        let v: Vec<f64> = troubled_rows
            .iter()
            .filter_map(|r| r.gauges.tiers.get(i).copied())
            .filter(|u| u.is_finite())
            .collect();
        if v.len() < 3 {
            continue;
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let peak_desired = run
            .timeline
            .iter()
            .filter(|e| e.component == name && e.kind == EventKind::Scaling)
            .filter_map(|e| desired_after(&e.text))
            .max();
        if mean < target && peak_desired.is_none_or(|d| d < max) {
            let at = troubled_rows.first().map_or(first.at, |r| r.start);
            let held = peak_desired.map_or("its starting size (max".to_string(), |d| {
                format!("at most {d} instances (max")
            });
            // Why the average stayed low: idle targets out of rotation, or instances waiting on
            // something other than their CPU.
            let member = format!("{name}[");
            let dropped = run
                .timeline
                .iter()
                .any(|e| e.kind == EventKind::Health && e.text.contains(&member));
            let because = if dropped {
                "targets out of rotation get no requests and sit idle, and they count in the average"
            } else {
                "its instances were waiting on something other than their CPU (their calls, a database), so their CPU stayed low however slow the answers were"
            };
            summaries.push(Step {
                at,
                component: name.to_string(),
                what: format!(
                    "did not scale out: over the windows in trouble its average CPU was {:.0} %, below its \
                     {:.0} % target — {because} — so it stayed at {held} {max})",
                    mean * 100.0,
                    target * 100.0
                ),
            });
        }
    }
    steps.sort_by_key(|s| s.at);
    let room = MAX_STEPS.saturating_sub(summaries.len()).max(4);
    if steps.len() > room {
        let more = steps.len() - room;
        steps.truncate(room);
        steps.push(Step {
            at: steps.last().map_or(0, |s| s.at),
            component: String::new(),
            what: format!("… and {more} more (the whole timeline is in results.json)"),
        });
    }
    steps.extend(summaries);
    steps.sort_by_key(|s| s.at);
    steps
}

/// Keeps the set of targets out of rotation from a balancer's health event.
fn track(out: &mut Vec<String>, text: &str) {
    let Some(t) = health_target(text) else {
        return;
    };
    if text.contains("taken out of rotation") {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    } else {
        out.retain(|o| o != t);
    }
}

impl Forensics {
    /// A short paragraph in plain words: what failed first and when, what users saw, what
    /// followed, and what addresses it (`scalesim check`'s feedback).
    pub fn paragraph(&self) -> String {
        let mut s = String::new();
        match &self.first {
            None => {
                s.push_str("Nothing failed or saturated.");
                if let Some(h) = &self.headroom {
                    let _ = write!(
                        s,
                        " The busiest tier, {}, averaged {:.0} % of its CPU (its busiest window {:.0} %): \
                         {:.0} % headroom.",
                        h.tier,
                        h.mean * 100.0,
                        h.peak * 100.0,
                        (1.0 - h.mean).max(0.0) * 100.0
                    );
                }
            }
            Some(c) => {
                let _ = write!(
                    s,
                    "First to fail: {}'s {}, at {} — {}.",
                    c.component,
                    c.resource,
                    clock(c.at),
                    c.what
                );
                if let Some(b) = &self.saturated_before {
                    let _ = write!(s, " Before it, from {}, {}.", clock(b.at), b.what);
                }
                if let Some(y) = &self.symptom {
                    let _ = write!(s, " Users saw it from {}: {}.", clock(y.at), y.what);
                }
                let key: Vec<String> = self
                    .cascade
                    .iter()
                    .filter(|st| !st.what.starts_with('…'))
                    .take(3)
                    .map(|st| format!("{} {}", clock(st.at), st.words()))
                    .collect();
                if !key.is_empty() {
                    let _ = write!(s, " Then: {}.", key.join("; "));
                }
                if let Some(k) = &self.kept_going {
                    let _ = write!(s, " What kept it going: {k}.");
                }
                let _ = write!(s, " What addresses it: {}.", self.remedy);
            }
        }
        s
    }

    /// One line for the journey's page: what failed first, when, and the first thing that
    /// followed (None when nothing failed).
    pub fn line(&self) -> Option<String> {
        let c = self.first.as_ref()?;
        let mut s = format!(
            "{}'s {} at {} — {}",
            c.component,
            c.resource,
            clock(c.at),
            c.what
        );
        if let Some(st) = self.cascade.iter().find(|st| !st.component.is_empty()) {
            let _ = write!(s, "; then {} {}", clock(st.at), st.words());
        }
        if let Some(n) = self.remedy_chapter {
            let _ = write!(s, " (addressed in chapter {n})");
        }
        Some(s + ".")
    }

    /// summary.md's section "What failed first, and what followed".
    pub fn markdown(&self) -> String {
        let mut s = String::from("\n## What failed first, and what followed\n\n");
        match &self.first {
            None => {
                let _ = writeln!(s, "{}", self.paragraph());
            }
            Some(c) => {
                // Every line in time order (a tie keeps the order: the load, the cause, what
                // users saw, what followed).
                let mut lines: Vec<(Time, String)> = Vec::new();
                if let Some(b) = &self.saturated_before {
                    lines.push((
                        b.at,
                        format!("- {} — {} (the load that led to it)", clock(b.at), b.what),
                    ));
                }
                lines.push((
                    c.at,
                    format!(
                        "- **{} — first to fail: {}'s {}.** {}.",
                        clock(c.at),
                        c.component,
                        c.resource,
                        c.what
                    ),
                ));
                if let Some(y) = &self.symptom {
                    lines.push((y.at, format!("- {} — users saw: {}.", clock(y.at), y.what)));
                }
                for st in &self.cascade {
                    lines.push((
                        st.at,
                        if st.component.is_empty() {
                            format!("- {}", st.what)
                        } else {
                            format!("- {} — {}", clock(st.at), st.words())
                        },
                    ));
                }
                lines.sort_by_key(|l| l.0);
                for (_, l) in &lines {
                    let _ = writeln!(s, "{l}");
                }
                if let Some(k) = &self.kept_going {
                    let _ = writeln!(s, "\n**What kept it going:** {k}.");
                }
                let _ = writeln!(
                    s,
                    "\n**What addresses it{}:** {}.",
                    self.remedy_chapter
                        .map_or(String::new(), |c| format!(" (chapter {c})")),
                    self.remedy
                );
            }
        }
        s
    }

    /// results.json's `forensics` (docs/forensics.md).
    pub fn json(&self) -> Value {
        let cause = |c: &Cause| json!({"component": c.component, "resource": c.resource, "at_s": as_secs_f64(c.at), "what": c.what});
        json!({
            "first": self.first.as_ref().map_or(Value::Null, cause),
            "saturated_before": self.saturated_before.as_ref().map_or(Value::Null, cause),
            "symptom": self.symptom.as_ref().map_or(Value::Null, |y| json!({
                "at_s": as_secs_f64(y.at),
                "outcome": y.outcome.map(|o| o.name()),
                "what": y.what,
            })),
            "cascade": self.cascade.iter().map(|st| json!({"at_s": as_secs_f64(st.at), "component": st.component, "what": st.what})).collect::<Vec<_>>(),
            "kept_going": self.kept_going,
            "remedy_chapter": self.remedy_chapter,
            "remedy": if self.first.is_some() { json!(self.remedy) } else { Value::Null },
            "headroom": self.headroom.as_ref().map_or(Value::Null, |h| json!({
                "tier": h.tier,
                "mean_utilization": super::results::round6(h.mean),
                "peak_utilization": super::results::round6(h.peak),
            })),
            "paragraph": self.paragraph(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_balancer_and_group_event_texts() {
        assert_eq!(
            health_target("target web[3] failed 2 checks in a row: taken out of rotation"),
            Some("web[3]")
        );
        assert_eq!(
            desired_after("desired capacity 3 → 14: CPU 0.95 above target 0.60 for 3 periods"),
            Some(14)
        );
        assert_eq!(first_chapter("more machines (chapters 4 and 5)"), Some(4));
        let mut out = Vec::new();
        track(
            &mut out,
            "target a failed 2 checks in a row: taken out of rotation",
        );
        track(
            &mut out,
            "target b failed 2 checks in a row: taken out of rotation",
        );
        track(
            &mut out,
            "target a healthy again after 3 passed checks: back in rotation",
        );
        assert_eq!(out, vec!["b".to_string()]);
    }
}
