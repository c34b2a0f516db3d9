//! results.json: schema-versioned totals of one run. Every key below is stable and documented in
//! the README; nothing in it depends on wall-clock time, so equal seeds give equal bytes.

use crate::engine::time::as_secs_f64;
use crate::model::kit::{Card, Figure, QueueFigures, Section};
use crate::model::request::Outcome;
use crate::run::RunOutput;
use crate::scenario::units::HOURS_PER_MONTH;
use crate::scenario::Scenario;
use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

/// Version of the results.json layout. Bumped when a key changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// Latency summary of a histogram in milliseconds (nulls when empty).
pub fn latency_ms(h: &Histogram<u64>, sum_ns: u128) -> Value {
    if h.is_empty() {
        return json!({"count": 0, "mean": null, "p50": null, "p90": null, "p95": null, "p99": null, "p999": null, "max": null});
    }
    let q = |p: f64| h.value_at_quantile(p) as f64 / 1e6;
    json!({
        "count": h.len(),
        "mean": round6(sum_ns as f64 / h.len() as f64 / 1e6),
        "p50": q(0.50),
        "p90": q(0.90),
        "p95": q(0.95),
        "p99": q(0.99),
        "p999": q(0.999),
        "max": h.max() as f64 / 1e6,
    })
}

/// Rounds to 6 significant decimals after the point, so tiny float noise never reaches a report.
pub fn round6(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    (x * 1e6).round() / 1e6
}

fn outcomes_map(o: &[u64; Outcome::COUNT]) -> Value {
    let mut m = Map::new();
    for oc in Outcome::ALL {
        m.insert(oc.name().to_string(), json!(o[oc.index()]));
    }
    Value::Object(m)
}

/// Key figures of a run, shared by results.json, the summary and SLO checks.
#[derive(Clone, Debug)]
pub struct Figures {
    /// Requests ended after warm-up.
    pub total: u64,
    /// Successful ones.
    pub ok: u64,
    /// Failed fraction.
    pub error_rate: f64,
    /// Successful requests per second over the measured period.
    pub goodput: f64,
    /// Latency histogram of successes (ns).
    pub latency: Histogram<u64>,
    /// Exact latency sum (ns).
    pub latency_sum: u128,
    /// Dollars spent in the measured period.
    pub cost: f64,
}

/// Computes the key figures.
pub fn figures(run: &RunOutput) -> Figures {
    let totals = run.metrics.outcome_totals();
    let total: u64 = totals.iter().sum();
    let ok = totals[Outcome::Ok.index()];
    let (latency, latency_sum) = run.metrics.overall_latency();
    let secs = as_secs_f64(run.measured).max(1e-9);
    Figures {
        total,
        ok,
        error_rate: if total == 0 {
            0.0
        } else {
            (total - ok) as f64 / total as f64
        },
        goodput: ok as f64 / secs,
        latency,
        latency_sum,
        cost: run.cost,
    }
}

/// Who was asking: the users (every class of the mix together) and each bot, with what happened
/// to their requests. Only for workloads with bots (`None` otherwise: one population).
#[derive(Clone, Debug)]
pub struct Population {
    /// "users" or the bot's name.
    pub name: String,
    /// A bot (else the users).
    pub bot: bool,
    /// Requests that ended.
    pub requests: u64,
    /// Served.
    pub ok: u64,
    /// Answered 429.
    pub throttled: u64,
    /// Latency of the served.
    pub latency: hdrhistogram::Histogram<u64>,
    /// Exact sum of the served latencies, ns.
    pub latency_sum: u128,
    /// Pages its impatient users reloaded, when the workload has any (`workload.refresh`).
    pub refreshes: Option<u64>,
}

impl Population {
    /// Share of its requests throttled.
    pub fn throttled_share(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.throttled as f64 / self.requests as f64
        }
    }

    /// Share of its requests that failed otherwise (not served, not throttled).
    pub fn failed_share(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            (self.requests - self.ok - self.throttled) as f64 / self.requests as f64
        }
    }
}

/// The populations of a run with bots or impatient users: the users first, then each bot.
pub fn populations(scn: &Scenario, run: &RunOutput) -> Option<Vec<Population>> {
    let bots = scn.file.workload.bots.len();
    let classes = &run.metrics.classes;
    if (bots == 0 && scn.client.refresh.is_none()) || classes.len() < bots {
        return None;
    }
    let users = classes.len() - bots;
    let of = |name: String, bot: bool, cs: &[crate::metrics::ClassStats]| {
        let mut latency = crate::metrics::new_histogram();
        let mut p = Population {
            name,
            bot,
            requests: 0,
            ok: 0,
            throttled: 0,
            latency: crate::metrics::new_histogram(),
            latency_sum: 0,
            refreshes: None,
        };
        for c in cs {
            p.requests += c.outcomes.iter().sum::<u64>();
            p.ok += c.outcomes[Outcome::Ok.index()];
            p.throttled += c.outcomes[Outcome::Throttled.index()];
            let _ = latency.add(&c.latency);
            p.latency_sum += c.latency_sum;
        }
        p.latency = latency;
        p
    };
    let mut v = vec![of("users".into(), false, &classes[..users])];
    if scn.client.refresh.is_some() {
        v[0].refreshes = Some(run.metrics.refreshes);
    }
    for (i, b) in scn.file.workload.bots.iter().enumerate() {
        v.push(of(b.name.clone(), true, &classes[users + i..users + i + 1]));
    }
    Some(v)
}

/// The whole results.json document.
pub fn results_json(scn: &Scenario, run: &RunOutput) -> Value {
    let f = figures(run);
    let secs = as_secs_f64(run.measured).max(1e-9);
    let totals = run.metrics.outcome_totals();
    let classes: Vec<Value> = run
        .metrics
        .classes
        .iter()
        .map(|c| {
            let total: u64 = c.outcomes.iter().sum();
            json!({
                "name": c.name,
                "requests": total,
                "outcomes": outcomes_map(&c.outcomes),
                "error_rate": if total == 0 { 0.0 } else { round6((total - c.outcomes[0]) as f64 / total as f64) },
                "latency_ms": latency_ms(&c.latency, c.latency_sum),
            })
        })
        .collect();
    let section = |which: Section| -> Vec<Value> {
        run.cards
            .iter()
            .filter(|(_, c)| c.section == which)
            .map(|(kind, c)| card_json(kind, c))
            .collect()
    };
    let servers = section(Section::Servers);
    let components = section(Section::Components);
    let hours = secs / 3600.0;
    let per_hour = if hours > 0.0 { f.cost / hours } else { 0.0 };
    let mut doc = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": { "name": "scalesim", "version": env!("CARGO_PKG_VERSION") },
        "scenario": scenario_json(scn),
        "run": {
            "events": run.events,
            "event_hash": format!("{:016x}", run.hash),
            "requests_started": run.metrics.started,
            "requests_ended": run.metrics.ended,
            "in_flight_at_end": run.in_flight_end,
            "open_requests_at_end": run.open_at_end,
            "peak_in_flight": run.peak_in_flight,
        },
        "requests": {
            "total": f.total,
            "ok": f.ok,
            "error_rate": round6(f.error_rate),
            "outcomes": outcomes_map(&totals),
            "attempts": run.metrics.attempts,
            "retries": run.metrics.retries,
            "throughput_rps": round6(f.total as f64 / secs),
            "goodput_rps": round6(f.goodput),
        },
        "latency_ms": latency_ms(&f.latency, f.latency_sum),
        "classes": classes,
        "servers": servers,
        "components": components,
        "timeline": run.timeline.iter().map(|e| json!({"at_s": as_secs_f64(e.at), "component": e.component, "kind": e.kind.name(), "what": e.text})).collect::<Vec<_>>(),
        "cost": {
            "total_usd": round6(f.cost),
            "per_hour_usd": round6(per_hour),
            "per_month_usd": round6(per_hour * HOURS_PER_MONTH),
            "per_1000_ok_usd": if f.ok == 0 { Value::Null } else { json!(round6(f.cost / f.ok as f64 * 1000.0)) },
        },
    });
    if let Some(t) = &scn.client.trace {
        doc["scenario"].as_object_mut().expect("object").insert(
            "trace".into(),
            json!({
                "file": t.file,
                "rows": t.total,
                "rows_replayed": run.trace_replayed,
                "rows_ignored": t.ignored,
                "clients": t.clients,
            }),
        );
    }
    // Keys of the resilience settings only where they are used, so every other run's
    // results.json keeps its bytes.
    if scn.client.retry_budget.is_some() {
        doc["requests"].as_object_mut().expect("object").insert(
            "retries_suppressed".into(),
            json!(run.metrics.retries_suppressed),
        );
    }
    if scn.client.refresh.is_some() {
        doc["requests"]
            .as_object_mut()
            .expect("object")
            .insert("refreshes".into(), json!(run.metrics.refreshes));
    }
    if let Some(q) = &run.queue {
        doc.as_object_mut()
            .expect("object")
            .insert("queue".into(), queue_json(q, secs));
    }
    if let Some(pops) = populations(scn, run) {
        let v: Vec<Value> = pops
            .iter()
            .map(|p| {
                let mut o = json!({
                    "name": p.name,
                    "bot": p.bot,
                    "requests": p.requests,
                    "ok": p.ok,
                    "throttled": p.throttled,
                    "throttled_share": round6(p.throttled_share()),
                    "failed_share": round6(p.failed_share()),
                    "latency_ms": latency_ms(&p.latency, p.latency_sum),
                });
                if let Some(n) = p.refreshes {
                    o["refreshes"] = json!(n);
                }
                o
            })
            .collect();
        doc.as_object_mut()
            .expect("object")
            .insert("populations".into(), json!(v));
    }
    if let Some(j) = run.metrics.job_split.as_deref() {
        let during = j.during_until(scn.warmup + run.measured, scn.warmup);
        let side = |x: &crate::metrics::SplitStats, ns: u64| {
            let q = |p: f64| x.quantile_ms(p).map_or(Value::Null, |v| json!(round6(v)));
            json!({
                "seconds": as_secs_f64(ns),
                "requests": x.total(),
                "ok": x.outcomes[0],
                "error_rate": round6(x.error_rate()),
                "p50_ms": q(0.50),
                "p90_ms": q(0.90),
                "p99_ms": q(0.99),
            })
        };
        doc.as_object_mut().expect("object").insert(
            "live_during_jobs".into(),
            json!({
                "during": side(&j.during, during),
                "outside": side(&j.outside, run.measured.saturating_sub(during)),
            }),
        );
    }
    doc.as_object_mut().expect("object").insert(
        "theory".into(),
        super::theory::theory_json(&super::theory::analyze(scn, run, scn.warmup)),
    );
    doc.as_object_mut().expect("object").insert(
        "forensics".into(),
        super::forensics::analyze(scn, run).json(),
    );
    if let Some(st) = &run.stopped {
        doc["run"].as_object_mut().expect("object").insert(
            "stopped_early".into(),
            json!({"at_s": as_secs_f64(st.at), "why": st.reason}),
        );
        doc["run"]
            .as_object_mut()
            .expect("object")
            .insert("partial".into(), json!(true));
    }
    doc
}

/// `scenario`: what ran. `variant` only when one was applied.
fn scenario_json(scn: &Scenario) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(scn.name));
    m.insert("chapter".into(), json!(scn.chapter));
    m.insert("source".into(), json!(scn.source));
    if let Some(v) = &scn.variant {
        m.insert("variant".into(), json!(v));
    }
    m.insert("seed".into(), json!(scn.seed));
    m.insert("duration_s".into(), json!(as_secs_f64(scn.duration)));
    m.insert("warmup_s".into(), json!(as_secs_f64(scn.warmup)));
    m.insert("window_s".into(), json!(as_secs_f64(scn.window)));
    m.insert("overrides".into(), json!(scn.overrides));
    m.insert(
        "config".into(),
        serde_json::to_value(&scn.file).expect("config serializes"),
    );
    Value::Object(m)
}

/// A component's card as JSON: `{"name", ["kind",] fields...}` (servers' cards have no kind: the
/// list they are in says it).
pub fn card_json(kind: &str, c: &Card) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name));
    if c.section == Section::Components {
        m.insert("kind".into(), json!(kind));
    }
    for (key, f) in &c.fields {
        m.insert((*key).to_string(), figure_json(f));
    }
    Value::Object(m)
}

fn figure_json(f: &Figure) -> Value {
    match f {
        Figure::Count(n) => json!(n),
        Figure::Value(x) => json!(round6(*x)),
        Figure::Maybe(x) => x.map_or(Value::Null, |x| json!(round6(x))),
        Figure::Text(t) => json!(t),
        Figure::Flag(b) => json!(b),
        Figure::Events(v) => v
            .iter()
            .map(|(at, what)| json!({"at_s": as_secs_f64(*at), "what": what}))
            .collect(),
        Figure::Table(rows) => {
            let mut m = Map::new();
            for (name, fields) in rows {
                let mut row = Map::new();
                for (key, f) in fields {
                    row.insert((*key).to_string(), figure_json(f));
                }
                m.insert(name.clone(), Value::Object(row));
            }
            Value::Object(m)
        }
    }
}

/// Queueing figures of the server users connect to, under stable keys (the validation scenarios read these):
/// `mean_wait_s` (W_q), `mean_sojourn_s` (W), `refusal_probability`, `utilization` (ρ),
/// `wait_probability` (P(wait > 0)), `arrival_rate`, `throughput`, `mean_in_system` (L, time average),
/// and `littles_law_lambda_w` (λW, which Little's law says equals L).
pub fn queue_json(q: &QueueFigures, secs: f64) -> Value {
    let st = &q.stats;
    let n = st.completed.max(1) as f64;
    let offered = st.arrivals as f64;
    // Everything that left the server — served, reset by a crash or shed — counts for Little's
    // law.
    let left = (st.completed + st.reset + st.shed) as f64;
    let lambda_all = left / secs;
    let w_all = if left > 0.0 {
        (st.sojourn_sum + st.reset_sojourn_sum + st.shed_sojourn_sum) / left / 1e9
    } else {
        0.0
    };
    json!({
        "server": q.server,
        "arrivals": st.arrivals,
        "completed": st.completed,
        "arrival_rate": round6(offered / secs),
        "throughput": round6(st.completed as f64 / secs),
        "mean_wait_s": st.wait_sum / n / 1e9,
        "mean_sojourn_s": st.sojourn_sum / n / 1e9,
        "wait_probability": st.waited as f64 / n,
        "refusal_probability": if st.arrivals == 0 { 0.0 } else { st.refused as f64 / offered },
        "utilization": if st.capacity_area > 0.0 { st.busy_area / st.capacity_area } else { 0.0 },
        "mean_in_system": st.in_system_area / (secs * 1e9),
        "littles_law_lambda_w": lambda_all * w_all,
    })
}
