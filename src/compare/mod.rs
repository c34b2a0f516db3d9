//! `scalesim compare A B ...`: the same workload against several architectures, side by side —
//! overlaid latency over time, outcome shares, a table of the headline figures with the best of
//! each, and a verdict in words of which is better on what, and why (docs/compare.md).
//!
//! A fair comparison: by default every architecture runs the FIRST one's `[workload]` (users,
//! think time, mix, timeout, retries, spikes, bots…; only `workload.target`, where the users
//! connect, stays each architecture's own), its run length, warm-up, window and seed, and is
//! judged against the first one's objectives. `--own-workloads` keeps each file's own.
//!
//! "About the same" is decided from the runs' own noise, by batch means (docs/compare.md): the
//! measured windows are cut into [`BATCHES`] equal batches and each figure is computed per batch.
//! Under one workload the two architectures saw the same load at the same times (the same seed
//! draws the same users' clicks), so their batch values are paired: the difference is real when
//! the 95 % Student-t interval of the mean per-batch difference excludes zero. With their own
//! workloads the batches are independent: real when the difference of the batch means exceeds
//! the two 95 % half-widths combined, √(h₁² + h₂²) (the rule of `scalesim diff`).

use crate::engine::time::{as_secs_f64, clock, Time};
use crate::model::kinds::ComponentSpec;
use crate::model::request::Outcome;
use crate::report::results::round6;
use crate::run::RunOutput;
use crate::scenario::error::Seg;
use crate::scenario::overrides::Override;
use crate::scenario::units::HOURS_PER_MONTH;
use crate::scenario::Scenario;
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// Batches the measured windows are cut into for the noise estimate (as the SLO checks' batch
/// means).
pub const BATCHES: usize = 10;
/// Fewest batches with a value for a noise estimate.
pub const MIN_BATCHES: usize = 5;

/// One architecture to compare: its label and its scenario as it will run.
#[derive(Clone, Debug)]
pub struct Arch {
    /// How the reports name it: "chapter 3 (vertical scaling)", "shop.toml (variant big)".
    pub label: String,
    /// What the user gave: `chapter:3`, a path.
    pub input: String,
    /// The scenario, with the shared workload applied.
    pub scn: Scenario,
    /// Whether its own workload was replaced by the first's (and differed from it).
    pub replaced: bool,
}

/// A label for a scenario: "chapter 3 (vertical scaling)" for a chapter, its name otherwise; the
/// variant after it.
pub fn label_of(scn: &Scenario) -> String {
    let base = match scn.chapter {
        Some(n) => {
            let words = scn
                .name
                .split_once('-')
                .filter(|(head, _)| head.starts_with("ch"))
                .map_or(scn.name.as_str(), |(_, rest)| rest)
                .replace('-', " ");
            format!("chapter {n} ({words})")
        }
        None => scn.name.clone(),
    };
    match &scn.variant {
        Some(v) => format!("{base} · variant {v}"),
        None => base,
    }
}

/// Makes labels unique by numbering repeats: "x", "x #2".
pub fn unique_labels(labels: &mut [String]) {
    let original = labels.to_vec();
    for i in 1..labels.len() {
        let n = original[..i].iter().filter(|l| **l == original[i]).count();
        if n > 0 {
            labels[i] = format!("{} #{}", original[i], n + 1);
        }
    }
}

/// A TOML value of `toml` as a `toml_edit` value (an inline table for a table).
fn edit_value(v: &toml::Value) -> Result<toml_edit::Value, String> {
    let mut t = toml::Table::new();
    t.insert("x".into(), v.clone());
    let text = toml::to_string(&t).map_err(|e| e.to_string())?;
    let doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    let item = doc.get("x").cloned().ok_or("no value")?;
    item.into_value().map_err(|_| "not a value".to_string())
}

/// An override of `path` with `value`, named `raw` in the header and results.json.
fn override_of(raw: String, path: &[&str], value: toml_edit::Value) -> Override {
    Override {
        raw,
        path: path.iter().map(|k| Seg::Key((*k).to_string())).collect(),
        value,
    }
}

/// The overrides that give another architecture the first one's workload (its own `target`
/// kept), run length, warm-up and window. `target` is the other's own `workload.target`.
pub fn shared_overrides(first: &Scenario, target: Option<&str>) -> Result<Vec<Override>, String> {
    let mut w = toml::Value::try_from(&first.file.workload).map_err(|e| e.to_string())?;
    if let Some(t) = w.as_table_mut() {
        t.remove("target");
        if let Some(own) = target {
            t.insert("target".into(), toml::Value::String(own.to_string()));
        }
        // A trace file is relative to the first scenario's folder: make it absolute.
        if let Some(dir) = std::path::Path::new(&first.source).parent() {
            if !first.source.starts_with("chapter:") {
                let fix = |f: &mut toml::Value| {
                    if let Some(s) = f.as_str() {
                        let p = std::path::Path::new(s);
                        if p.is_relative() {
                            *f = toml::Value::String(dir.join(p).to_string_lossy().into_owned());
                        }
                    }
                };
                match t.get_mut("trace") {
                    Some(f @ toml::Value::String(_)) => fix(f),
                    Some(toml::Value::Table(tt)) => {
                        if let Some(f) = tt.get_mut("file") {
                            fix(f);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let value = edit_value(&w)?;
    let mut out = vec![override_of(
        format!("workload={value}"),
        &["workload"],
        value,
    )];
    // The other's own objectives may name classes of its own workload: it is judged by the
    // first's (set after loading), so its own go.
    out.push(override_of(
        "slo.objectives=[]".into(),
        &["slo", "objectives"],
        toml_edit::Value::Array(toml_edit::Array::new()),
    ));
    let meta = toml::Value::try_from(&first.file.scenario).map_err(|e| e.to_string())?;
    for key in ["duration", "warmup", "window"] {
        let v = match meta.get(key) {
            Some(v) => edit_value(v)?,
            // The first has the default: say it explicitly so the other's own value goes too.
            None => {
                let t = match key {
                    "warmup" => first.warmup,
                    _ => first.window,
                };
                toml_edit::Value::from(crate::scenario::units::Duration(t).to_string())
            }
        };
        out.push(override_of(
            format!("scenario.{key}={v}"),
            &["scenario", key],
            v,
        ));
    }
    Ok(out)
}

/// Checks that every request class of `scn`'s (borrowed) workload has a route at each of its
/// API gateways: a 404 for a whole class would be the borrowed workload's doing, not the
/// architecture's. The message names the path, the gateway and its routes.
pub fn check_routes(scn: &Scenario, label: &str, from: &str) -> Result<(), String> {
    for (name, spec) in &scn.components {
        if let ComponentSpec::ApiGateway(g) = spec {
            for (i, route) in g.route_of_class.iter().enumerate() {
                if route.is_some() {
                    continue;
                }
                let Some(class) = scn.client.classes.get(i) else {
                    continue;
                };
                let path = class.path.as_deref().unwrap_or("/");
                return Err(format!(
                    "{} ({label}): the workload of {from} sends class `{}` to the path \"{path}\", \
                     which the API gateway `{name}` of this architecture does not route (its \
                     routes: {}); every such request would be answered 404\n  help: compare \
                     architectures that serve the same paths, give this one a route for \"{path}\" \
                     (e.g. a `/` route to its web tier), or keep each file's own workload with \
                     --own-workloads",
                    scn.source,
                    class.name,
                    g.paths
                        .iter()
                        .map(|p| format!("\"{p}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// Per-batch figures (NaN where the batch has nothing to measure).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Batch {
    /// p50 of successes, ms.
    pub p50: f64,
    /// p99, ms.
    pub p99: f64,
    /// p99.9, ms.
    pub p999: f64,
    /// Mean, ms.
    pub mean: f64,
    /// Failed fraction.
    pub error_rate: f64,
    /// Successes per second.
    pub goodput: f64,
    /// $ per month at the batch's rate.
    pub cost_per_month: f64,
}

/// One window of the latency chart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Window end, s.
    pub t_s: f64,
    /// p50, ms (NaN: no success).
    pub p50: f64,
    /// p99, ms.
    pub p99: f64,
    /// Failed share of the window's requests, % (NaN: no request ended).
    pub errors_pct: f64,
}

/// One architecture's measured figures.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Its label.
    pub label: String,
    /// What the user gave.
    pub input: String,
    /// Scenario name.
    pub name: String,
    /// Chapter, if a chapter.
    pub chapter: Option<u32>,
    /// Variant, if one.
    pub variant: Option<String>,
    /// Seed.
    pub seed: u64,
    /// Run length, warm-up, window (ns).
    pub duration: Time,
    /// Warm-up.
    pub warmup: Time,
    /// Window.
    pub window: Time,
    /// Its `--set` overrides and the shared workload's.
    pub overrides: Vec<String>,
    /// Users (closed loop) at the base level.
    pub users: u32,
    /// Requests ended after the warm-up, by outcome.
    pub outcomes: [u64; Outcome::COUNT],
    /// p50, p99, p99.9 and mean of successes, ms.
    pub p50: Option<f64>,
    /// p99.
    pub p99: Option<f64>,
    /// p99.9.
    pub p999: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
    /// Requests ended per second.
    pub throughput: f64,
    /// Successes per second.
    pub goodput: f64,
    /// Most instances running in any measured window.
    pub peak_instances: u32,
    /// $ per month at the measured rate.
    pub cost_per_month: f64,
    /// $ per million successful requests.
    pub cost_per_million_ok: Option<f64>,
    /// Objectives: (label, met, measured in the measure's unit as text).
    pub slo: Vec<(String, bool, String)>,
    /// The figures per batch.
    pub batches: Vec<Batch>,
    /// The latency and errors per window (all windows, warm-up included).
    pub series: Vec<Point>,
    /// The first thing to go wrong, as the run's summary names it: (what, when).
    pub bottleneck: Option<(String, Time)>,
    /// Whether the run is not stationary (spikes, faults, a daily curve): why.
    pub unsteady: Option<String>,
}

impl Measured {
    /// Requests ended after the warm-up.
    pub fn total(&self) -> u64 {
        self.outcomes.iter().sum()
    }

    /// Failed fraction.
    pub fn error_rate(&self) -> f64 {
        Outcome::failed_share(&self.outcomes)
    }

    /// Share of the requests that ended with `o`.
    pub fn share(&self, o: Outcome) -> f64 {
        self.outcomes[o.index()] as f64 / self.total().max(1) as f64
    }

    /// The most common failure and its share of all requests.
    pub fn main_failure(&self) -> Option<(Outcome, f64)> {
        Outcome::ALL
            .iter()
            .filter(|o| **o != Outcome::Ok && self.outcomes[o.index()] > 0)
            .max_by_key(|o| (self.outcomes[o.index()], std::cmp::Reverse(o.index())))
            .map(|&o| (o, self.share(o)))
    }

    /// Objectives met.
    pub fn slo_met(&self) -> usize {
        self.slo.iter().filter(|s| s.1).count()
    }
}

/// Measures one run of `scn` (which ran with window histograms kept).
pub fn measure(label: &str, input: &str, scn: &Scenario, run: &RunOutput) -> Measured {
    let f = crate::report::results::figures(run);
    let secs = as_secs_f64(run.measured).max(1e-9);
    let q = |p: f64| (!f.latency.is_empty()).then(|| f.latency.value_at_quantile(p) as f64 / 1e6);
    let rows = &run.metrics.series;
    let first = rows
        .iter()
        .position(|r| r.start >= scn.warmup)
        .unwrap_or(rows.len());
    let kept = &rows[first..];
    let hists = run.metrics.window_histograms.as_deref().unwrap_or(&[]);
    let n = kept.len();
    let b = BATCHES.min(n);
    let mut batches = Vec::with_capacity(b);
    for k in 0..b {
        let (lo, hi) = (first + k * n / b, first + (k + 1) * n / b);
        let mut h = crate::metrics::new_window_histogram();
        let mut outcomes = [0u64; Outcome::COUNT];
        let mut sum = 0.0;
        for (i, r) in rows.iter().enumerate().take(hi).skip(lo) {
            if let Some(x) = hists.get(i) {
                let _ = h.add(x);
            }
            for (o, c) in outcomes.iter_mut().zip(r.outcomes) {
                *o += c;
            }
            let ok = r.outcomes[Outcome::Ok.index()];
            if ok > 0 && r.mean_ms.is_finite() {
                sum += r.mean_ms * ok as f64;
            }
        }
        let total: u64 = outcomes.iter().sum();
        let ok = outcomes[Outcome::Ok.index()];
        let start = rows[lo].start;
        let end = rows[hi - 1].end;
        let bsecs = as_secs_f64(end - start).max(1e-9);
        let cost_before = if lo == 0 {
            0.0
        } else {
            rows[lo - 1].gauges.cost
        };
        let cost = rows[hi - 1].gauges.cost - cost_before;
        let hq = |p: f64| {
            if h.is_empty() {
                f64::NAN
            } else {
                h.value_at_quantile(p) as f64 / 1e6
            }
        };
        batches.push(Batch {
            p50: hq(0.5),
            p99: hq(0.99),
            p999: hq(0.999),
            mean: if ok == 0 { f64::NAN } else { sum / ok as f64 },
            error_rate: if total == 0 {
                f64::NAN
            } else {
                (total - ok) as f64 / total as f64
            },
            goodput: ok as f64 / bsecs,
            cost_per_month: cost / (bsecs / 3600.0) * HOURS_PER_MONTH,
        });
    }
    let series = rows
        .iter()
        .map(|r| Point {
            t_s: as_secs_f64(r.end),
            p50: r.p50_ms,
            p99: r.p99_ms,
            errors_pct: if r.total() == 0 {
                f64::NAN
            } else {
                r.errors() as f64 / r.total() as f64 * 100.0
            },
        })
        .collect();
    let hours = secs / 3600.0;
    let analysis = crate::report::summary::analyze(run);
    let verdicts = crate::slo::evaluate(&scn.slos, run);
    Measured {
        label: label.to_string(),
        input: input.to_string(),
        name: scn.name.clone(),
        chapter: scn.chapter,
        variant: scn.variant.clone(),
        seed: scn.seed,
        duration: scn.duration,
        warmup: scn.warmup,
        window: scn.window,
        overrides: scn.overrides.clone(),
        users: scn.client.users,
        outcomes: run.metrics.outcome_totals(),
        p50: q(0.5),
        p99: q(0.99),
        p999: q(0.999),
        mean: (!f.latency.is_empty()).then(|| f.latency_sum as f64 / f.latency.len() as f64 / 1e6),
        throughput: f.total as f64 / secs,
        goodput: f.goodput,
        peak_instances: kept.iter().map(|r| r.gauges.instances).max().unwrap_or(0),
        cost_per_month: if hours > 0.0 {
            f.cost / hours * HOURS_PER_MONTH
        } else {
            0.0
        },
        cost_per_million_ok: (f.ok > 0).then(|| f.cost / f.ok as f64 * 1e6),
        slo: verdicts
            .iter()
            .map(|v| {
                (
                    v.objective.label.clone(),
                    v.passed,
                    v.objective.measure.format(v.measured),
                )
            })
            .collect(),
        batches,
        series,
        bottleneck: analysis.bottleneck.map(|b| {
            // The summary says "CPU saturated"; name whose, as its bottleneck line does: the tier
            // with the most saturated windows, then the highest mean.
            let what = match (&b.why, busiest(kept, run)) {
                (crate::report::summary::Why::Cpu, Some(name)) => {
                    format!("`{name}`'s CPU saturated (≥ 90 % busy)")
                }
                _ => b.what,
            };
            (what, b.at)
        }),
        unsteady: run.unsteady.clone(),
    }
}

/// The busiest CPU tier over `rows` ([`crate::report::summary::tier_loads`]).
fn busiest(rows: &[crate::metrics::WindowRow], run: &RunOutput) -> Option<String> {
    crate::report::summary::tier_loads(rows, run)
        .first()
        .map(|t| t.name.to_string())
}

/// Which way a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Smaller is better (latency, errors, cost).
    Lower,
    /// Larger is better (success, goodput, objectives met).
    Higher,
    /// Neither (requests, instances: context, not merit).
    Neither,
}

/// How a figure is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// A percentage of a fraction.
    Percent,
    /// Milliseconds.
    Ms,
    /// Per second.
    Rate,
    /// Dollars.
    Usd,
}

/// Formats `v` in `u`: 1,234 · 12.3 % · 212 ms · 2.40 s · 45.1/s · $1,568.
pub fn fmt(u: Unit, v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    match u {
        Unit::Count => group(v.round()),
        Unit::Percent => {
            let p = v * 100.0;
            if p == 0.0 || p >= 10.0 {
                format!("{p:.1} %")
            } else if p >= 0.1 {
                format!("{p:.2} %")
            } else {
                format!("{p:.3} %")
            }
        }
        Unit::Ms if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
        Unit::Ms if v >= 100.0 => format!("{v:.0} ms"),
        Unit::Ms => format!("{v:.1} ms"),
        Unit::Rate => format!("{v:.1}/s"),
        Unit::Usd if v >= 100.0 => format!("${}", group(v.round())),
        Unit::Usd => format!("${v:.2}"),
    }
}

/// 1234567 → "1,234,567".
fn group(v: f64) -> String {
    let digits = crate::scenario::error::thousands(v.abs() as u64);
    if v < 0.0 {
        format!("-{digits}")
    } else {
        digits
    }
}

/// One row of the diff table.
#[derive(Clone, Debug)]
pub struct Row {
    /// Stable key in compare.json.
    pub key: String,
    /// Its name in the table.
    pub figure: String,
    /// How it is printed.
    pub unit: Unit,
    /// Which way is better.
    pub better: Better,
    /// Each architecture's value (NaN: nothing to measure).
    pub values: Vec<f64>,
    /// Per-batch values for the noise test, if the figure has them.
    pub batch: Option<fn(&Batch) -> f64>,
    /// The cell texts (when not a plain number: objectives met).
    pub texts: Option<Vec<String>>,
}

/// The rows of the table, in order.
pub fn rows(ms: &[Measured]) -> Vec<Row> {
    let row = |key: &str,
               figure: &str,
               unit: Unit,
               better: Better,
               v: &dyn Fn(&Measured) -> f64,
               batch: Option<fn(&Batch) -> f64>| Row {
        key: key.into(),
        figure: figure.into(),
        unit,
        better,
        values: ms.iter().map(v).collect(),
        batch,
        texts: None,
    };
    let opt = |x: Option<f64>| x.unwrap_or(f64::NAN);
    let mut out = vec![
        row(
            "requests",
            "requests",
            Unit::Count,
            Better::Neither,
            &|m| m.total() as f64,
            None,
        ),
        row(
            "success_rate",
            "success",
            Unit::Percent,
            Better::Higher,
            &|m| 1.0 - m.error_rate(),
            None,
        ),
        row(
            "error_rate",
            "errors",
            Unit::Percent,
            Better::Lower,
            &|m| m.error_rate(),
            Some(|b| b.error_rate),
        ),
    ];
    for o in Outcome::ALL.iter().copied().filter(|o| *o != Outcome::Ok) {
        if ms.iter().any(|m| m.outcomes[o.index()] > 0) {
            out.push(Row {
                key: format!("errors.{}", o.name()),
                figure: format!("  {}", o.words()),
                unit: Unit::Percent,
                better: Better::Lower,
                values: ms.iter().map(|m| m.share(o)).collect(),
                batch: None,
                texts: None,
            });
        }
    }
    out.extend([
        row(
            "p50_ms",
            "p50 latency",
            Unit::Ms,
            Better::Lower,
            &|m| opt(m.p50),
            Some(|b| b.p50),
        ),
        row(
            "p99_ms",
            "p99 latency",
            Unit::Ms,
            Better::Lower,
            &|m| opt(m.p99),
            Some(|b| b.p99),
        ),
        row(
            "p999_ms",
            "p99.9 latency",
            Unit::Ms,
            Better::Lower,
            &|m| opt(m.p999),
            Some(|b| b.p999),
        ),
        row(
            "mean_ms",
            "mean latency",
            Unit::Ms,
            Better::Lower,
            &|m| opt(m.mean),
            Some(|b| b.mean),
        ),
        row(
            "goodput_rps",
            "goodput",
            Unit::Rate,
            Better::Higher,
            &|m| m.goodput,
            Some(|b| b.goodput),
        ),
        row(
            "peak_instances",
            "peak instances",
            Unit::Count,
            Better::Neither,
            &|m| f64::from(m.peak_instances),
            None,
        ),
        row(
            "cost_per_month_usd",
            "cost per month",
            Unit::Usd,
            Better::Lower,
            &|m| m.cost_per_month,
            // The bill follows the design (instances, their hours), not chance: no batch noise;
            // equal as printed is the same.
            None,
        ),
        row(
            "cost_per_million_ok_usd",
            "cost per million served",
            Unit::Usd,
            Better::Lower,
            &|m| opt(m.cost_per_million_ok),
            None,
        ),
    ]);
    if ms.iter().any(|m| !m.slo.is_empty()) {
        out.push(Row {
            key: "slo_met".into(),
            figure: "objectives met".into(),
            unit: Unit::Count,
            better: Better::Higher,
            values: ms.iter().map(|m| m.slo_met() as f64).collect(),
            batch: None,
            texts: Some(
                ms.iter()
                    .map(|m| format!("{} of {}", m.slo_met(), m.slo.len()))
                    .collect(),
            ),
        });
    }
    out
}

/// The t-based 95 % half-width of the mean of `xs` (finite values only), if there are enough.
fn half_width(xs: &[f64]) -> Option<(f64, f64)> {
    let iv = crate::stats::Interval::of(xs.iter().copied().filter(|x| x.is_finite()))?;
    (iv.n >= MIN_BATCHES && iv.half.is_finite()).then_some((iv.mean, iv.half))
}

/// Whether two architectures differ on a figure beyond the noise: `Some(true)` a real
/// difference, `Some(false)` about the same, `None` no noise estimate (too few batches).
pub fn differs(a: &Measured, b: &Measured, batch: fn(&Batch) -> f64, paired: bool) -> Option<bool> {
    if paired && a.batches.len() == b.batches.len() {
        let d: Vec<f64> = a
            .batches
            .iter()
            .zip(&b.batches)
            .map(|(x, y)| batch(x) - batch(y))
            .collect();
        let (mean, h) = half_width(&d)?;
        // A scheduled incident (a fault, a resize) puts its whole difference into one or two
        // batches: that is the design's doing, not noise. The spread is estimated robustly —
        // the median absolute deviation × 1.4826, the normal sd's consistent estimate — when
        // that is smaller than the sample sd, so such outliers do not count as noise.
        let xs: Vec<f64> = d.iter().copied().filter(|x| x.is_finite()).collect();
        let med = median(&xs);
        let mad = median(&xs.iter().map(|x| (x - med).abs()).collect::<Vec<_>>()) * 1.4826;
        let sd_h = crate::stats::Interval::of(xs.iter().copied())?;
        let robust = if sd_h.sd > 0.0 {
            h * (mad / sd_h.sd).min(1.0)
        } else {
            h
        };
        Some(mean.abs() > robust)
    } else {
        let (ma, ha) = half_width(&a.batches.iter().map(batch).collect::<Vec<_>>())?;
        let (mb, hb) = half_width(&b.batches.iter().map(batch).collect::<Vec<_>>())?;
        Some((ma - mb).abs() > (ha * ha + hb * hb).sqrt())
    }
}

/// The median of `xs` (0 for none).
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The best of a row: the indices of the best value and of those about the same as it.
/// Empty when the row has no direction or no value.
pub fn best(row: &Row, ms: &[Measured], paired: bool) -> Vec<usize> {
    let key = |v: f64| match row.better {
        Better::Lower => v,
        Better::Higher => -v,
        Better::Neither => f64::NAN,
    };
    let Some(top) = (0..row.values.len())
        .filter(|&i| key(row.values[i]).is_finite())
        .min_by(|&i, &j| key(row.values[i]).total_cmp(&key(row.values[j])))
    else {
        return Vec::new();
    };
    (0..row.values.len())
        .filter(|&i| {
            i == top
                || fmt(row.unit, row.values[i]) == fmt(row.unit, row.values[top])
                || row.batch.is_some_and(|bf| {
                    row.values[i].is_finite()
                        && differs(&ms[i], &ms[top], bf, paired) == Some(false)
                })
        })
        .collect()
}

/// How much better `good` is than `bad` in words: "11× lower", "38 points fewer".
fn by_how_much(unit: Unit, better: Better, good: f64, bad: f64) -> String {
    if unit == Unit::Percent {
        return format!(
            "{:.1} points {}",
            (good - bad).abs() * 100.0,
            if better == Better::Lower {
                "fewer"
            } else {
                "more"
            }
        );
    }
    let (hi, lo) = if good > bad { (good, bad) } else { (bad, good) };
    let word = if better == Better::Lower {
        "lower"
    } else {
        "higher"
    };
    if lo > 0.0 && hi / lo >= 9.5 {
        format!("{:.0}× {word}", hi / lo)
    } else if lo > 0.0 && hi / lo >= 1.95 {
        format!("{:.1}× {word}", hi / lo)
    } else if lo > 0.0 {
        format!("{:.0} % {word}", (hi / lo - 1.0) * 100.0)
    } else {
        word.to_string()
    }
}

/// The families the verdict speaks of: (row key, words for "better on …", words for the cheaper side).
const FAMILIES: [(&str, &str); 4] = [
    ("p99_ms", "p99 latency"),
    ("error_rate", "errors"),
    ("goodput_rps", "goodput"),
    ("cost_per_month_usd", "cost"),
];

/// One family's judgement.
#[derive(Clone, Debug)]
pub struct Judgement {
    /// The row key.
    pub key: &'static str,
    /// The family's words.
    pub words: &'static str,
    /// Best and those about the same as it.
    pub best: Vec<usize>,
    /// Whether a noise estimate was possible for every pair judged.
    pub noise_known: bool,
    /// The sentence.
    pub text: String,
}

/// Why an architecture did badly, from its run's own facts: what saturated first and the most
/// common failure.
pub fn because(m: &Measured) -> Option<String> {
    let mut parts = Vec::new();
    if let Some((what, at)) = &m.bottleneck {
        parts.push(format!(
            "the first thing to go wrong was {what} at {}",
            clock(*at)
        ));
    }
    if let Some((o, share)) = m.main_failure().filter(|(_, s)| *s >= 0.001) {
        parts.push(format!(
            "{} of its requests {}",
            fmt(Unit::Percent, share),
            match o {
                Outcome::Timeout => "timed out".to_string(),
                Outcome::Refused => "were refused".to_string(),
                Outcome::Crashed => "were reset by a crash".to_string(),
                other => format!("ended {}", other.words()),
            }
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", and "))
}

/// The verdict: one judgement per family.
pub fn judge(ms: &[Measured], rows: &[Row], paired: bool) -> Vec<Judgement> {
    let mut out = Vec::new();
    for (key, words) in FAMILIES {
        let Some(row) = rows.iter().find(|r| r.key == key) else {
            continue;
        };
        let best = best(row, ms, paired);
        if best.is_empty() {
            continue;
        }
        let top = best[0];
        let noise_known = row.batch.is_none_or(|bf| {
            (0..ms.len())
                .filter(|&i| i != top && row.values[i].is_finite())
                .all(|i| differs(&ms[i], &ms[top], bf, paired).is_some())
        });
        let v = |i: usize| fmt(row.unit, row.values[i]);
        let mut text = String::new();
        let rest: Vec<usize> = (0..ms.len()).filter(|i| !best.contains(i)).collect();
        if rest.is_empty() {
            let _ = write!(
                text,
                "**{words}**: about the same ({}){}",
                (0..ms.len())
                    .map(|i| format!("{} {}", ms[i].label, v(i)))
                    .collect::<Vec<_>>()
                    .join(", "),
                if row.batch.is_some() {
                    " — the differences are inside the runs' own batch-to-batch noise"
                } else {
                    ""
                }
            );
        } else {
            let names: Vec<String> = best.iter().map(|&i| ms[i].label.clone()).collect();
            let better = match key {
                "cost_per_month_usd" => "cheaper".to_string(),
                _ => "better".to_string(),
            };
            let own: Vec<String> = best.iter().map(|&i| v(i)).collect();
            let _ = write!(
                text,
                "**{words}**: {} {} {better} — {}",
                join_and(&names.iter().map(String::as_str).collect::<Vec<_>>()),
                if best.len() > 1 {
                    "are about the same and"
                } else {
                    "is"
                },
                own.join(" and ")
            );
            let worse: Vec<String> = rest
                .iter()
                .map(|&i| {
                    if row.values[i].is_finite() {
                        format!(
                            "{} for {} ({})",
                            v(i),
                            ms[i].label,
                            by_how_much(row.unit, row.better, row.values[top], row.values[i])
                        )
                    } else {
                        format!("nothing served to measure for {}", ms[i].label)
                    }
                })
                .collect();
            let _ = write!(text, " against {}", worse.join(", "));
            if !noise_known {
                text.push_str(" (too few measured windows to tell real differences from noise)");
            }
        }
        out.push(Judgement {
            key,
            words,
            best,
            noise_known,
            text,
        });
    }
    out
}

/// The verdict in one paragraph for two architectures: "A is better on p99 latency (…) and
/// errors (…) because B's …; B is cheaper (…)."
pub fn headline(ms: &[Measured], rows: &[Row], js: &[Judgement]) -> String {
    if ms.len() != 2 {
        return String::new();
    }
    let row = |k: &str| rows.iter().find(|r| r.key == k).expect("a family's row");
    let mut wins: [Vec<String>; 2] = [Vec::new(), Vec::new()];
    let mut same = Vec::new();
    for j in js {
        let r = row(j.key);
        if j.best.len() == 2 {
            same.push(j.words.to_string());
            continue;
        }
        let w = j.best[0];
        let l = 1 - w;
        let phrase = match j.key {
            "cost_per_month_usd" => format!(
                "cheaper ({} vs {} a month, {})",
                fmt(r.unit, r.values[w]),
                fmt(r.unit, r.values[l]),
                by_how_much(r.unit, r.better, r.values[w], r.values[l]).replace("lower", "less")
            ),
            _ => format!(
                "{} ({} vs {}{})",
                if j.key == "goodput_rps" {
                    "goodput"
                } else {
                    j.words
                },
                fmt(r.unit, r.values[w]),
                fmt(r.unit, r.values[l]),
                if r.values[l].is_finite() {
                    format!(
                        ", {}",
                        by_how_much(r.unit, r.better, r.values[w], r.values[l])
                    )
                } else {
                    String::new()
                }
            ),
        };
        wins[w].push(phrase);
    }
    let mut parts = Vec::new();
    for w in 0..2 {
        if wins[w].is_empty() {
            continue;
        }
        let (cheaper, better): (Vec<_>, Vec<_>) =
            wins[w].iter().partition(|p| p.starts_with("cheaper"));
        let mut s = ms[w].label.clone();
        if !better.is_empty() {
            let list = join_and(&better.iter().map(|s| s.as_str()).collect::<Vec<_>>());
            let _ = write!(s, " is better on {list}");
            if let Some(why) = because(&ms[1 - w]) {
                let _ = write!(s, " because in {}, {why}", ms[1 - w].label);
            }
        }
        if let Some(c) = cheaper.first() {
            let _ = write!(
                s,
                "{} {c}",
                if better.is_empty() { " is" } else { "; it is" }
            );
        }
        parts.push(s);
    }
    let mut out = parts.join("; ");
    if !same.is_empty() {
        let _ = write!(
            out,
            "{}about the same on {}",
            if out.is_empty() {
                "The two are "
            } else {
                ". They are "
            },
            join_and(&same.iter().map(String::as_str).collect::<Vec<_>>())
        );
    }
    if !out.is_empty() {
        out.push('.');
    }
    out
}

fn join_and(xs: &[&str]) -> String {
    match xs {
        [] => String::new(),
        [a] => (*a).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The cells of a row: the values (or texts) and the "best" column.
pub fn cells(row: &Row, ms: &[Measured], paired: bool) -> (Vec<String>, String) {
    let vals: Vec<String> = match &row.texts {
        Some(t) => t.clone(),
        None => row.values.iter().map(|&v| fmt(row.unit, v)).collect(),
    };
    let b = best(row, ms, paired);
    let best = if b.is_empty() || b.len() == ms.len() {
        if b.len() == ms.len() && ms.len() > 1 {
            "about the same".into()
        } else {
            String::new()
        }
    } else {
        b.iter()
            .map(|&i| short(&ms[i].label))
            .collect::<Vec<_>>()
            .join(" ≈ ")
    };
    (vals, best)
}

/// A label short enough for a table's "best" column: "chapter 4".
pub fn short(label: &str) -> String {
    let head = label.split_once(" (").map_or(label, |(head, _)| head);
    // A variant's label keeps its name: two columns of "chapter 5" would say nothing.
    match label.split_once("· variant ") {
        Some((_, v)) => format!("{head} · {}", v.trim()),
        None => head.to_string(),
    }
}

/// What was compared and how fairly, for compare.md and stdout.
pub fn fairness(ms: &[Measured], shared: bool) -> String {
    let first = &ms[0];
    if shared {
        format!(
            "Every architecture ran the same workload — the `[workload]` of {} ({} users at the \
             base level), its run length {}, warm-up {}, window {} and seed {} — and is judged \
             against its objectives; only where the users connect (`workload.target`) is each \
             architecture's own.",
            first.label,
            fmt(Unit::Count, f64::from(first.users)),
            crate::engine::time::human(first.duration),
            if first.warmup == 0 {
                "none".to_string()
            } else {
                crate::engine::time::human(first.warmup)
            },
            crate::engine::time::human(first.window),
            first.seed
        )
    } else {
        "Each architecture ran its OWN workload (`--own-workloads`): the workloads differ, so a \
         difference below may be the workload's as much as the architecture's."
            .to_string()
    }
}

/// Plain-text table for stdout.
pub fn text_table(ms: &[Measured], rows: &[Row], paired: bool) -> String {
    let mut cells_all: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["figure".to_string()];
    head.extend(ms.iter().map(|m| short(&m.label)));
    head.push("best".into());
    cells_all.push(head);
    for r in rows {
        let (vals, best) = cells(r, ms, paired);
        let mut line = vec![r.figure.clone()];
        line.extend(vals);
        line.push(best);
        cells_all.push(line);
    }
    let cols = cells_all[0].len();
    let mut w = vec![0usize; cols];
    for c in &cells_all {
        for (i, x) in c.iter().enumerate() {
            w[i] = w[i].max(x.chars().count());
        }
    }
    let mut s = String::new();
    for c in &cells_all {
        let mut line = String::from(" ");
        for (i, x) in c.iter().enumerate() {
            let pad = " ".repeat(w[i].saturating_sub(x.chars().count()));
            if i == 0 || i == cols - 1 {
                let _ = write!(line, " {x}{pad} ");
            } else {
                let _ = write!(line, " {pad}{x} ");
            }
        }
        let _ = writeln!(s, "{}", line.trim_end());
    }
    s
}

/// compare.md: what was compared, the table, the verdict, why, and how to reproduce.
pub fn markdown(ms: &[Measured], rows: &[Row], js: &[Judgement], shared: bool) -> String {
    let paired = shared;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Comparison: {}\n",
        ms.iter()
            .map(|m| m.label.as_str())
            .collect::<Vec<_>>()
            .join(" vs ")
    );
    let _ = writeln!(s, "{}\n", fairness(ms, shared));
    let _ = writeln!(s, "## Verdict\n");
    let h = headline(ms, rows, js);
    if !h.is_empty() {
        let _ = writeln!(s, "{h}\n");
    }
    for j in js {
        let _ = writeln!(s, "- {}", j.text);
    }
    let _ = writeln!(
        s,
        "\n\"About the same\" means the difference is inside the runs' own noise: each run's \
         measured windows are cut into {BATCHES} batches and {} (docs/compare.md).\n",
        if paired {
            "the difference is real only when the 95 % interval of the mean batch-by-batch \
             difference (the same load, batch for batch) excludes zero"
        } else {
            "the difference is real only when it exceeds the two runs' 95 % batch-means \
             half-widths combined"
        }
    );
    let _ = writeln!(s, "## Why\n");
    for m in ms {
        let mut facts = Vec::new();
        if let Some(b) = because(m) {
            facts.push(b);
        } else {
            facts.push("nothing saturated and no request failed".into());
        }
        if m.peak_instances > 1 {
            facts.push(format!("it ran up to {} instances", m.peak_instances));
        }
        let _ = writeln!(s, "- **{}**: {}.", m.label, facts.join("; "));
    }
    let _ = writeln!(s, "\n## Headline figures\n");
    let _ = write!(s, "| figure |");
    for m in ms {
        let _ = write!(s, " {} |", m.label.replace('|', "\\|"));
    }
    let _ = writeln!(s, " best |");
    let _ = write!(s, "|---|");
    for _ in ms {
        let _ = write!(s, "---:|");
    }
    let _ = writeln!(s, "---|");
    for r in rows {
        let (vals, best) = cells(r, ms, paired);
        let fig = if r.figure.starts_with("  ") {
            format!("↳ {}", r.figure.trim_start())
        } else {
            r.figure.clone()
        };
        let _ = writeln!(s, "| {fig} | {} | {best} |", vals.join(" | "));
    }
    let _ = writeln!(
        s,
        "\nMeasured after the warm-up. Latency is of successful requests, counted from a user's \
         first try (so it includes time spent retrying). \"best\" names the best value and any \
         about the same as it; requests and instances have no best (they are context). Cost per \
         month is at the measured rate; cost per million served is the run's bill over its \
         successful requests.\n"
    );
    if ms.iter().any(|m| !m.slo.is_empty()) {
        let _ = writeln!(s, "### Objectives\n");
        let _ = write!(s, "| objective |");
        for m in ms {
            let _ = write!(s, " {} |", m.label.replace('|', "\\|"));
        }
        let _ = writeln!(s);
        let _ = write!(s, "|---|");
        for _ in ms {
            let _ = write!(s, "---|");
        }
        let _ = writeln!(s);
        let mut labels: Vec<&str> = Vec::new();
        for m in ms {
            for o in &m.slo {
                if !labels.contains(&o.0.as_str()) {
                    labels.push(&o.0);
                }
            }
        }
        for l in labels {
            let _ = write!(s, "| `{l}` |");
            for m in ms {
                match m.slo.iter().find(|o| o.0 == l) {
                    Some((_, true, v)) => {
                        let _ = write!(s, " met ({v}) |");
                    }
                    Some((_, false, v)) => {
                        let _ = write!(s, " **violated** ({v}) |");
                    }
                    None => {
                        let _ = write!(s, " — |");
                    }
                }
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Charts\n");
    let _ = writeln!(
        s,
        "- `compare_latency.png`: p99 (solid) and p50 (dashed) latency of each architecture over \
         simulated time, overlaid on the same axes, with the objective's line; below it, the \
         share of requests failing in each window."
    );
    let _ = writeln!(
        s,
        "- `compare_outcomes.png`: how each architecture's requests ended, as shares."
    );
    let _ = writeln!(s, "\n## Reproduce\n");
    for m in ms {
        let mut cmd = format!("scalesim run {}", m.input);
        if let Some(v) = &m.variant {
            let _ = write!(cmd, " --variant {v}");
        }
        let _ = write!(cmd, " --seed {}", m.seed);
        for o in &m.overrides {
            // The shared workload's overrides are long; shown whole so the run is reproducible.
            let _ = write!(cmd, " --set '{}'", o.replace('\'', "'\\''"));
        }
        let _ = writeln!(s, "- {}: `{cmd}`", m.label);
    }
    s
}

/// compare.json: every architecture's headline figures under stable keys (docs/compare.md).
pub fn json_doc(ms: &[Measured], rows: &[Row], js: &[Judgement], shared: bool) -> Value {
    let archs: Vec<Value> = ms
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut figs = Map::new();
            for r in rows {
                let v = r.values[i];
                if let Some(rest) = r.key.strip_prefix("errors.") {
                    let e = figs
                        .entry("errors")
                        .or_insert_with(|| Value::Object(Map::new()));
                    e[rest] = json!(round6(v));
                    continue;
                }
                figs.insert(
                    r.key.clone(),
                    if v.is_finite() {
                        json!(round6(v))
                    } else {
                        Value::Null
                    },
                );
            }
            let mut outcomes = Map::new();
            for o in Outcome::ALL {
                outcomes.insert(o.name().into(), json!(m.outcomes[o.index()]));
            }
            figs.insert("outcomes".into(), Value::Object(outcomes));
            json!({
                "label": m.label,
                "input": m.input,
                "name": m.name,
                "chapter": m.chapter,
                "variant": m.variant,
                "seed": m.seed,
                "duration_s": as_secs_f64(m.duration),
                "warmup_s": as_secs_f64(m.warmup),
                "window_s": as_secs_f64(m.window),
                "users": m.users,
                "overrides": m.overrides,
                "figures": Value::Object(figs),
                "objectives": m.slo.iter().map(|(l, p, v)| json!({"objective": l, "met": p, "measured": v})).collect::<Vec<_>>(),
                "first_to_go_wrong": m.bottleneck.as_ref().map(|(w, at)| json!({"what": w, "at_s": as_secs_f64(*at)})),
                "not_stationary": m.unsteady,
            })
        })
        .collect();
    json!({
        "schema_version": 1,
        "kind": "compare",
        "tool": { "name": "scalesim", "version": env!("CARGO_PKG_VERSION") },
        "workload": {
            "shared": shared,
            "from": if shared { json!(ms[0].label) } else { Value::Null },
            "noise_test": if shared { "paired batch means" } else { "independent batch means" },
            "batches": BATCHES,
        },
        "architectures": archs,
        "verdict": {
            "headline": headline(ms, rows, js),
            "families": js.iter().map(|j| json!({
                "figure": j.key,
                "best": j.best.iter().map(|&i| ms[i].label.clone()).collect::<Vec<_>>(),
                "noise_known": j.noise_known,
                "text": j.text,
            })).collect::<Vec<_>>(),
        },
    })
}

/// How the runs are made.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Worker threads (`None`: one per core).
    pub jobs: Option<usize>,
    /// Show a progress bar.
    pub progress: bool,
    /// Each run's limits.
    pub limits: crate::budget::Limits,
}

/// Runs every architecture (in parallel, output in input order whatever the threads) and
/// measures it. Every run is estimated before any starts.
pub fn run_all(archs: &[Arch], opts: &Options) -> Result<Vec<Measured>, String> {
    use rayon::prelude::*;
    let mut guards = Vec::new();
    for a in archs {
        let est = crate::budget::estimate(&a.scn);
        if let Some(why) = opts.limits.refuse(&est) {
            return Err(format!("{} ({}): {why}", a.scn.source, a.label));
        }
        guards.push(crate::budget::Guard::new(opts.limits, Some(&est)));
    }
    let (threads, _) = crate::journey::worker_threads(opts.jobs);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let bar = opts.progress.then(|| {
        let b = indicatif::ProgressBar::new(archs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "  {bar:32} {pos}/{len} architectures run  ({elapsed} so far)",
            )
            .expect("static template"),
        );
        b
    });
    let out: Vec<Result<Measured, String>> = pool.install(|| {
        archs
            .par_iter()
            .zip(&guards)
            .with_max_len(1)
            .map(|(a, g)| {
                let stopped = |at: Time, why: &str| {
                    format!(
                        "{} ({}): the run stopped at {}: {why}",
                        a.scn.source,
                        a.label,
                        clock(at)
                    )
                };
                let run = crate::run::run_limited(&a.scn, g, &mut |_| {})
                    .map_err(|e| stopped(e.0.at, &e.0.reason))?;
                if let Some(s) = &run.stopped {
                    return Err(stopped(s.at, &s.reason));
                }
                let m = measure(&a.label, &a.input, &a.scn, &run);
                if let Some(b) = &bar {
                    b.inc(1);
                }
                Ok(m)
            })
            .collect()
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out.into_iter().collect()
}

/// The p99 objective of `scn` over all requests and the whole run, for the chart's line.
pub fn slo_line(scn: &Scenario) -> Option<(f64, String)> {
    scn.slos
        .iter()
        .find(|o| {
            o.measure == crate::slo::Measure::Quantile(0.99)
                && o.class.is_none()
                && o.every.is_none()
        })
        .map(|o| (o.threshold, format!("objective: {}", o.label)))
}

/// Writes compare.json, compare.md and the charts into `out` (staged, then moved into place in
/// one rename). Returns the files written.
pub fn write_compare(
    out: &std::path::Path,
    ms: &[Measured],
    shared: bool,
    slo: Option<(f64, String)>,
) -> Result<Vec<std::path::PathBuf>, crate::report::ReportError> {
    let rs = rows(ms);
    let js = judge(ms, &rs, shared);
    let stage = crate::report::Staging::new(out)?;
    let mut names = Vec::new();
    let doc = json_doc(ms, &rs, &js, shared);
    let text = serde_json::to_string_pretty(&doc).expect("JSON values always serialize") + "\n";
    stage.write("compare.json", text.as_bytes())?;
    names.push("compare.json".to_string());
    stage.write("compare.md", markdown(ms, &rs, &js, shared).as_bytes())?;
    names.push("compare.md".to_string());
    let plot = crate::report::charts::ComparePlot {
        labels: ms.iter().map(|m| m.label.clone()).collect(),
        series: ms.iter().map(|m| m.series.clone()).collect(),
        outcomes: ms.iter().map(|m| m.outcomes).collect(),
        slo_p99: slo,
        warmup_s: as_secs_f64(ms[0].warmup),
    };
    names.extend(crate::report::charts::compare_charts(&stage.dir, &plot)?);
    let target = stage.commit()?;
    Ok(names.into_iter().map(|n| target.join(n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(label: &str, p99s: &[f64]) -> Measured {
        Measured {
            label: label.into(),
            input: String::new(),
            name: label.into(),
            chapter: None,
            variant: None,
            seed: 1,
            duration: 0,
            warmup: 0,
            window: 0,
            overrides: Vec::new(),
            users: 1,
            outcomes: [100, 0, 0, 0, 0, 0, 0, 0],
            p50: Some(1.0),
            p99: Some(p99s.iter().sum::<f64>() / p99s.len() as f64),
            p999: None,
            mean: None,
            throughput: 1.0,
            goodput: 1.0,
            peak_instances: 1,
            cost_per_month: 10.0,
            cost_per_million_ok: None,
            slo: Vec::new(),
            batches: p99s
                .iter()
                .map(|&p| Batch {
                    p99: p,
                    ..Batch::default()
                })
                .collect(),
            series: Vec::new(),
            bottleneck: None,
            unsteady: None,
        }
    }

    #[test]
    fn paired_batches_cancel_the_shared_loads_variation() {
        // Both follow the same load (batch values swing 100 → 1000) and b is 10 ms slower in
        // every batch: paired, a real difference; unpaired, the swing hides it.
        let load = [
            100.0, 300.0, 1000.0, 500.0, 200.0, 150.0, 800.0, 120.0, 400.0, 250.0,
        ];
        let a = m("a", &load);
        let b = m("b", &load.map(|x| x + 10.0));
        assert_eq!(differs(&a, &b, |x| x.p99, true), Some(true));
        assert_eq!(differs(&a, &b, |x| x.p99, false), Some(false));
        // A difference that flips sign from batch to batch is noise either way.
        let c = m(
            "c",
            &load
                .iter()
                .enumerate()
                .map(|(i, x)| if i % 2 == 0 { x + 5.0 } else { x - 5.0 })
                .collect::<Vec<_>>(),
        );
        assert_eq!(differs(&a, &c, |x| x.p99, true), Some(false));
        // Too few batches: no estimate.
        assert_eq!(
            differs(&m("d", &[1.0, 2.0]), &m("e", &[3.0, 4.0]), |x| x.p99, true),
            None
        );
    }

    #[test]
    fn the_best_column_names_the_best_and_its_equals() {
        let load = [
            100.0, 300.0, 1000.0, 500.0, 200.0, 150.0, 800.0, 120.0, 400.0, 250.0,
        ];
        let ms = vec![
            m("a", &load.map(|x| x * 3.0)),
            m("b", &load),
            m(
                "c",
                &load
                    .iter()
                    .enumerate()
                    .map(|(i, x)| if i % 2 == 0 { x + 5.0 } else { x - 5.0 })
                    .collect::<Vec<_>>(),
            ),
        ];
        let rs = rows(&ms);
        let p99 = rs.iter().find(|r| r.key == "p99_ms").expect("p99 row");
        let mut b = best(p99, &ms, true);
        b.sort_unstable();
        assert_eq!(b, vec![1, 2]);
        let js = judge(&ms, &rs, true);
        let j = js.iter().find(|j| j.key == "p99_ms").expect("p99 judged");
        assert!(j.text.contains("about the same"), "{}", j.text);
        assert!(j.text.contains("3.0× lower"), "{}", j.text);
        assert!(j.text.contains("b and c are about the same"), "{}", j.text);
    }

    #[test]
    fn labels_name_chapters_and_number_repeats() {
        let mut l = vec!["x".to_string(), "y".into(), "x".into(), "x".into()];
        unique_labels(&mut l);
        assert_eq!(l, ["x", "y", "x #2", "x #3"]);
        assert_eq!(fmt(Unit::Ms, 2400.0), "2.40 s");
        assert_eq!(fmt(Unit::Ms, 212.3), "212 ms");
        assert_eq!(fmt(Unit::Usd, 1568.2), "$1,568");
        assert_eq!(fmt(Unit::Percent, 0.38), "38.0 %");
        assert_eq!(short("chapter 4 (horizontal scaling)"), "chapter 4");
    }
}
