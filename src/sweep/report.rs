//! A sweep's report: sweep.json (every point, every replication, the means and intervals),
//! sweep.csv (a row per point), the charts, summary.md. A function of the definition and the
//! records alone, so the same records always give the same bytes.

use super::{point_label, RunRecord, SweepDef};
use crate::report::charts::{sweep_charts, SweepPlot, SweepSeries, YUnit};
use crate::report::results::{latency_ms, round6};
use crate::report::{ReportError, Staging};
use crate::scenario::units::HOURS_PER_MONTH;
use crate::slo::{Measure, Objective};
use crate::stats::{decide, replications_to_decide, Decision, Interval};
use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One replication's headline figures.
#[derive(Clone, Debug)]
pub struct RepFigures {
    /// Requests ended per second.
    pub throughput: f64,
    /// Successful requests per second.
    pub goodput: f64,
    /// Failed fraction.
    pub error_rate: f64,
    /// Median latency of the successful, ms (NaN: none).
    pub p50: f64,
    /// 99th percentile, ms (NaN: none).
    pub p99: f64,
    /// Mean latency, ms (NaN: none).
    pub mean: f64,
    /// Dollars per month at the run's rate.
    pub cost_per_month: f64,
}

/// A headline figure: its key in sweep.json and sweep.csv, its words, its unit.
pub struct Figure {
    /// Key.
    pub key: &'static str,
    /// Words for tables and charts.
    pub words: &'static str,
    /// Unit.
    pub unit: YUnit,
    /// Its value in a replication.
    pub value: fn(&RepFigures) -> f64,
}

/// The headline figures, in report order.
pub const FIGURES: [Figure; 7] = [
    Figure {
        key: "throughput_rps",
        words: "throughput (requests ended per second)",
        unit: YUnit::Rate,
        value: |f| f.throughput,
    },
    Figure {
        key: "goodput_rps",
        words: "goodput (successful requests per second)",
        unit: YUnit::Rate,
        value: |f| f.goodput,
    },
    Figure {
        key: "error_rate",
        words: "error rate",
        unit: YUnit::Fraction,
        value: |f| f.error_rate,
    },
    Figure {
        key: "p50_ms",
        words: "p50 latency",
        unit: YUnit::Ms,
        value: |f| f.p50,
    },
    Figure {
        key: "p99_ms",
        words: "p99 latency",
        unit: YUnit::Ms,
        value: |f| f.p99,
    },
    Figure {
        key: "mean_ms",
        words: "mean latency",
        unit: YUnit::Ms,
        value: |f| f.mean,
    },
    Figure {
        key: "cost_per_month_usd",
        words: "cost per month",
        unit: YUnit::Usd,
        value: |f| f.cost_per_month,
    },
];

/// One objective at one point.
#[derive(Clone, Debug)]
pub struct ObjectivePoint {
    /// Interval of the replications' values (None: nothing measured in any).
    pub interval: Option<Interval>,
    /// Pass, fail or inconclusive on the interval.
    pub decision: Decision,
    /// About how many replications would decide it, when inconclusive.
    pub needed: Option<u64>,
}

/// Everything said about one point.
pub struct PointSummary {
    /// Index in the grid.
    pub index: usize,
    /// (key, value) of each parameter.
    pub values: Vec<(String, String)>,
    /// Its runs, by replication.
    pub runs: Vec<RunRecord>,
    /// Each run's figures.
    pub reps: Vec<RepFigures>,
    /// Each headline figure's interval ([`FIGURES`] order).
    pub figures: Vec<Option<Interval>>,
    /// Requests of every replication together.
    pub requests: u64,
    /// Successful ones.
    pub ok: u64,
    /// The replications' latency histograms merged.
    pub merged: Histogram<u64>,
    /// Exact latency sum of every replication, ns.
    pub latency_sum: u128,
    /// The objectives.
    pub objectives: Vec<ObjectivePoint>,
}

fn rep_figures(r: &RunRecord, h: &Histogram<u64>) -> RepFigures {
    let secs = (r.measured_ns as f64 / 1e9).max(1e-9);
    let q = |p: f64| {
        if h.is_empty() {
            f64::NAN
        } else {
            h.value_at_quantile(p) as f64 / 1e6
        }
    };
    RepFigures {
        throughput: r.requests as f64 / secs,
        goodput: r.ok as f64 / secs,
        error_rate: if r.requests == 0 {
            0.0
        } else {
            (r.requests - r.ok) as f64 / r.requests as f64
        },
        p50: q(0.5),
        p99: q(0.99),
        mean: if h.is_empty() {
            f64::NAN
        } else {
            r.latency_sum_ns as f64 / h.len() as f64 / 1e6
        },
        cost_per_month: r.cost_usd / (secs / 3600.0) * HOURS_PER_MONTH,
    }
}

/// Summarises every point. `runs` must hold every run in run order (point · R + rep).
pub fn summarise(def: &SweepDef, runs: &[RunRecord]) -> Result<Vec<PointSummary>, String> {
    let r = def.replications as usize;
    let objectives = def.objectives();
    runs.chunks(r)
        .enumerate()
        .map(|(i, chunk)| summarise_point(def, &objectives, i, chunk))
        .collect()
}

/// Summarises point `i` from its runs (every replication, in order); `objectives` are
/// `def.objectives()`.
pub fn summarise_point(
    def: &SweepDef,
    objectives: &[Objective],
    i: usize,
    chunk: &[RunRecord],
) -> Result<PointSummary, String> {
    let mut merged = crate::metrics::new_histogram();
    let mut reps = Vec::with_capacity(chunk.len());
    let (mut requests, mut ok, mut sum) = (0u64, 0u64, 0u128);
    for run in chunk {
        let h = run.histogram()?;
        merged
            .add(&h)
            .map_err(|e| format!("run {} of point {i}: {e:?}", run.rep))?;
        reps.push(rep_figures(run, &h));
        requests += run.requests;
        ok += run.ok;
        sum += u128::from(run.latency_sum_ns);
    }
    let figures = FIGURES
        .iter()
        .map(|f| Interval::of(reps.iter().map(|x| (f.value)(x))))
        .collect();
    let objectives = objectives
        .iter()
        .enumerate()
        .map(|(j, o)| objective_point(o, chunk.iter().map(|run| run.slo.get(j).copied().flatten())))
        .collect();
    Ok(PointSummary {
        index: i,
        values: def
            .coords(i)
            .iter()
            .zip(&def.params)
            .map(|(&v, p)| (p.key.clone(), p.values[v].clone()))
            .collect(),
        runs: chunk.to_vec(),
        reps,
        figures,
        requests,
        ok,
        merged,
        latency_sum: sum,
        objectives,
    })
}

/// An objective judged on the interval of its replications' values (None: nothing to measure).
pub fn objective_point(o: &Objective, values: impl Iterator<Item = Option<f64>>) -> ObjectivePoint {
    let interval = Interval::of(values.map(|v| v.unwrap_or(f64::NAN)));
    let decision = decide(o, interval.as_ref());
    let needed = (decision == Decision::Inconclusive)
        .then(|| {
            interval
                .as_ref()
                .and_then(|iv| replications_to_decide(o, iv))
        })
        .flatten();
    ObjectivePoint {
        interval,
        decision,
        needed,
    }
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(round6(x))
    } else {
        Value::Null
    }
}

fn interval_json(iv: Option<&Interval>) -> Value {
    match iv {
        None => {
            json!({"n": 0, "mean": null, "lo": null, "hi": null, "half_width": null, "sd": null})
        }
        Some(iv) => json!({
            "n": iv.n,
            "mean": num(iv.mean),
            "lo": num(iv.lo()),
            "hi": num(iv.hi()),
            "half_width": num(iv.half),
            "sd": num(iv.sd),
        }),
    }
}

/// The `sweep` object: what was swept.
fn sweep_json(def: &SweepDef) -> Value {
    json!({
        "params": def.params.iter().map(|p| json!({"key": p.key, "values": p.values})).collect::<Vec<_>>(),
        "replications": def.replications,
        "points": def.points(),
        "runs": def.runs(),
        "sets": def.sets,
        "variant": def.variant,
        "confidence": crate::stats::CONFIDENCE,
        "seeds": "each run's seed is splitmix64-derived from (base seed, point index, replication index)",
    })
}

/// The whole sweep.json document.
pub fn sweep_doc(def: &SweepDef, points: &[PointSummary]) -> Value {
    let objectives = def.objectives();
    let pts: Vec<Value> = points
        .iter()
        .map(|p| {
            let mut params = Map::new();
            for (k, v) in &p.values {
                params.insert(k.clone(), json!(v));
            }
            let mut figures = Map::new();
            for (f, iv) in FIGURES.iter().zip(&p.figures) {
                figures.insert(f.key.into(), interval_json(iv.as_ref()));
            }
            let reps: Vec<Value> = p
                .runs
                .iter()
                .zip(&p.reps)
                .map(|(r, f)| {
                    let mut m = Map::new();
                    m.insert("rep".into(), json!(r.rep));
                    m.insert("seed".into(), json!(r.seed));
                    m.insert("event_hash".into(), json!(r.event_hash));
                    m.insert("events".into(), json!(r.events));
                    m.insert("requests".into(), json!(r.requests));
                    m.insert("ok".into(), json!(r.ok));
                    for fig in &FIGURES {
                        m.insert(fig.key.into(), num((fig.value)(f)));
                    }
                    m.insert(
                        "slo".into(),
                        json!(r.slo.iter().map(|v| v.map_or(Value::Null, num)).collect::<Vec<_>>()),
                    );
                    Value::Object(m)
                })
                .collect();
            let errors = p.requests - p.ok;
            json!({
                "index": p.index,
                "params": params,
                "figures": figures,
                "pooled": {
                    "requests": p.requests,
                    "ok": p.ok,
                    "error_rate": if p.requests == 0 { json!(0.0) } else { num(errors as f64 / p.requests as f64) },
                    "latency_ms": latency_ms(&p.merged, p.latency_sum),
                },
                "objectives": objectives.iter().zip(&p.objectives).map(|(o, op)| json!({
                    "objective": o.label,
                    "target": o.target(),
                    "interval": interval_json(op.interval.as_ref()),
                    "verdict": op.decision.name(),
                    "replications_to_decide": op.needed,
                })).collect::<Vec<_>>(),
                "replications": reps,
            })
        })
        .collect();
    json!({
        "schema_version": 1,
        "kind": "sweep",
        "tool": { "name": "scalesim", "version": env!("CARGO_PKG_VERSION") },
        "scenario": {
            "name": def.name,
            "source": def.source,
            "hash": def.scenario_hash,
            "seed": def.seed,
            "duration_s": def.duration_s,
            "warmup_s": def.warmup_s,
        },
        "sweep": sweep_json(def),
        "objectives": objectives.iter().map(|o| json!({"objective": o.label, "target": o.target(), "threshold": num(o.threshold)})).collect::<Vec<_>>(),
        "points": pts,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_num(x: f64) -> String {
    if x.is_finite() {
        round6(x).to_string()
    } else {
        String::new()
    }
}

/// sweep.csv: one row per point.
pub fn sweep_csv(def: &SweepDef, points: &[PointSummary]) -> String {
    let mut cols: Vec<String> = def.params.iter().map(|p| csv_field(&p.key)).collect();
    cols.push("replications".into());
    for f in &FIGURES {
        for end in ["mean", "lo", "hi"] {
            cols.push(format!("{}_{end}", f.key));
        }
    }
    cols.extend(
        ["pooled_error_rate", "pooled_p50_ms", "pooled_p99_ms"]
            .iter()
            .map(|s| s.to_string()),
    );
    for j in 1..=def.objectives.len() {
        for end in ["mean", "lo", "hi", "verdict"] {
            cols.push(format!("slo{j}_{end}"));
        }
    }
    let mut s = cols.join(",") + "\n";
    for p in points {
        let mut row: Vec<String> = p.values.iter().map(|(_, v)| csv_field(v)).collect();
        row.push(def.replications.to_string());
        for iv in &p.figures {
            match iv {
                Some(iv) => row.extend([csv_num(iv.mean), csv_num(iv.lo()), csv_num(iv.hi())]),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        let q = |x: f64| {
            if p.merged.is_empty() {
                String::new()
            } else {
                csv_num(p.merged.value_at_quantile(x) as f64 / 1e6)
            }
        };
        row.push(csv_num(if p.requests == 0 {
            0.0
        } else {
            (p.requests - p.ok) as f64 / p.requests as f64
        }));
        row.push(q(0.5));
        row.push(q(0.99));
        for op in &p.objectives {
            match &op.interval {
                Some(iv) => row.extend([csv_num(iv.mean), csv_num(iv.lo()), csv_num(iv.hi())]),
                None => row.extend([String::new(), String::new(), String::new()]),
            }
            row.push(op.decision.name().into());
        }
        s.push_str(&row.join(","));
        s.push('\n');
    }
    s
}

/// "12.3 ms ± 0.4 ms" in the measure's unit (the mean alone without an interval).
fn pm(iv: Option<&Interval>, fmt: &dyn Fn(f64) -> String) -> String {
    match iv {
        None => "—".into(),
        Some(iv) if iv.half.is_nan() => fmt(iv.mean),
        Some(iv) => format!("{} ± {}", fmt(iv.mean), fmt(iv.half)),
    }
}

fn unit_fmt(u: YUnit) -> impl Fn(f64) -> String {
    move |v: f64| match u {
        YUnit::Ms => Measure::Mean.format(v),
        YUnit::Fraction => format!("{:.3} %", v * 100.0),
        YUnit::Rate => format!("{v:.2}/s"),
        YUnit::Usd => format!("${v:.2}"),
    }
}

/// The shell command that reproduces the sweep.
pub fn command(def: &SweepDef) -> String {
    let mut c = format!("scalesim sweep {}", def.source);
    for p in &def.params {
        let _ = write!(c, " --param '{}={}'", p.key, p.values.join(","));
    }
    let _ = write!(
        c,
        " --replications {} --seed {}",
        def.replications, def.seed
    );
    if let Some(v) = &def.variant {
        let _ = write!(c, " --variant {v}");
    }
    for s in &def.sets {
        let _ = write!(c, " --set '{s}'");
    }
    c
}

/// summary.md.
pub fn summary_md(def: &SweepDef, points: &[PointSummary], charts: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Sweep of {}\n", def.name);
    let _ = writeln!(s, "```\n{}\n```\n", command(def));
    let _ = writeln!(
        s,
        "{} point{} × {} replication{} = {} runs of {} s simulated each (the first {} s warm-up \
         not measured). Every replication has its own seed, derived from the base seed {} and \
         its place in the grid, so the runs are independent and the files are the same for any \
         `--jobs` or `--shard`.\n",
        def.points(),
        if def.points() == 1 { "" } else { "s" },
        def.replications,
        if def.replications == 1 { "" } else { "s" },
        def.runs(),
        def.duration_s,
        def.warmup_s,
        def.seed
    );
    if def.replications >= 2 {
        let _ = writeln!(
            s,
            "Each figure is the mean over the {r} replications ± the half-width of its 95 % \
             Student-t interval, t(0.975, {df}) · s / √{r}: a range that holds the figure's \
             long-run value 19 times in 20. Run more replications to narrow it: the half-width \
             shrinks as 1/√R (four times the replications, half the width).\n",
            r = def.replications,
            df = def.replications - 1
        );
    } else {
        let _ = writeln!(
            s,
            "One replication per point: the figures are single runs, with no interval. Use \
             `--replications 5` or more to see how much another seed would move them.\n"
        );
    }
    let mut head: Vec<String> = def.params.iter().map(|p| format!("`{}`", p.key)).collect();
    let shown = [0usize, 2, 3, 4, 6];
    head.extend(shown.iter().map(|&i| FIGURES[i].words.to_string()));
    head.push("p99 pooled".into());
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(head.len()));
    for p in points {
        let mut row: Vec<String> = p.values.iter().map(|(_, v)| v.clone()).collect();
        for &i in &shown {
            let f = unit_fmt(FIGURES[i].unit);
            row.push(pm(p.figures[i].as_ref(), &f));
        }
        row.push(if p.merged.is_empty() {
            "—".into()
        } else {
            Measure::Mean.format(p.merged.value_at_quantile(0.99) as f64 / 1e6)
        });
        if row.is_empty() {
            row.push(String::new());
        }
        let _ = writeln!(s, "| {} |", row.join(" | "));
    }
    let _ = writeln!(
        s,
        "\n*p99 pooled* is the 99th percentile of every replication's requests together: the \
         replications' HDR histograms are merged (never their percentiles averaged), so it is \
         the same whether the runs were made on one machine or on many.\n"
    );
    let objectives = def.objectives();
    if !objectives.is_empty() {
        let _ = writeln!(s, "## Objectives\n");
        let _ = writeln!(
            s,
            "Judged on the interval: **pass** when the whole interval meets the objective, \
             **fail** when the whole interval misses it, **inconclusive** when it straddles the \
             target (more replications would decide; the estimate assumes the spread stays as \
             measured).\n"
        );
        let _ = writeln!(s, "| point | objective | target | mean ± 95 % | verdict |");
        let _ = writeln!(s, "|---|---|---|---|---|");
        for p in points {
            for (o, op) in objectives.iter().zip(&p.objectives) {
                let f = |v: f64| o.measure.format(v);
                let verdict = match (op.decision, op.needed) {
                    (Decision::Inconclusive, Some(n)) => {
                        format!("inconclusive (about {n} replications would decide)")
                    }
                    (d, _) => d.name().to_string(),
                };
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {verdict} |",
                    point_label(def, p.index),
                    o.label,
                    o.target(),
                    pm(op.interval.as_ref(), &f)
                );
            }
        }
        s.push('\n');
    }
    let _ = writeln!(s, "## Files\n");
    let _ = writeln!(
        s,
        "- `sweep.json`: every point with each figure's mean, interval and standard deviation, \
         the pooled counts and latency percentiles, the objectives' verdicts, and every \
         replication's seed, event hash and figures.\n- `sweep.csv`: one row per point (means \
         and interval ends)."
    );
    let pngs: Vec<&String> = charts.iter().filter(|c| c.ends_with(".png")).collect();
    if !pngs.is_empty() {
        let _ = writeln!(
            s,
            "- Charts (each also as SVG): {}.",
            pngs.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}

/// The charts: each headline figure (and each objective) against the first parameter, one line
/// per combination of the other parameters' values.
pub fn plots(def: &SweepDef, points: &[PointSummary]) -> Vec<SweepPlot> {
    let first = def.params.first();
    let numeric = first.and_then(super::Param::numeric);
    let x_desc = first.map_or("(no parameter swept)".to_string(), |p| p.key.clone());
    let x_names = match (&numeric, first) {
        (None, Some(p)) => Some(p.values.clone()),
        (None, None) => Some(vec![def.name.clone()]),
        _ => None,
    };
    // Points grouped by the other parameters' values: one series each, in grid order.
    let per_line = first.map_or(1, |p| p.values.len());
    let lines = points.len() / per_line.max(1);
    let group = |series: usize| -> Vec<&PointSummary> {
        // Point index = x · lines + series (the first parameter varies slowest).
        (0..per_line)
            .filter_map(|x| points.get(x * lines + series))
            .collect()
    };
    let x_of = |p: &PointSummary| -> f64 {
        let c = def.coords(p.index);
        match (&numeric, c.first()) {
            (Some(xs), Some(&i)) => xs[i],
            (None, Some(&i)) => i as f64,
            _ => 0.0,
        }
    };
    let label = |series: usize| -> String {
        let Some(p) = group(series).first().copied() else {
            return String::new();
        };
        p.values[1.min(p.values.len())..]
            .iter()
            .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let note = if def.replications >= 2 {
        format!("bars: 95 % interval, {} runs", def.replications)
    } else {
        "one replication: no interval".to_string()
    };
    let of_what = if def.replications >= 2 {
        format!("mean of {} replications", def.replications)
    } else {
        "one run each".to_string()
    };
    let mut out = Vec::new();
    let mk_series = |get: &dyn Fn(&PointSummary) -> Option<Interval>| -> Vec<SweepSeries> {
        (0..lines)
            .map(|l| SweepSeries {
                label: label(l),
                points: group(l)
                    .iter()
                    .map(|p| {
                        let iv = get(p);
                        let (m, lo, hi) = iv.map_or((f64::NAN, f64::NAN, f64::NAN), |iv| {
                            (iv.mean, iv.lo(), iv.hi())
                        });
                        (x_of(p), m, lo, hi)
                    })
                    .collect(),
            })
            .collect()
    };
    let stems = [
        ("sweep_throughput", 0usize),
        ("sweep_errors", 2),
        ("sweep_p50", 3),
        ("sweep_p99", 4),
        ("sweep_cost", 6),
    ];
    for (stem, i) in stems {
        let f = &FIGURES[i];
        out.push(SweepPlot {
            stem: stem.into(),
            title: format!("{} — {} against {x_desc} ({of_what})", def.name, f.words),
            x_desc: x_desc.clone(),
            x_names: x_names.clone(),
            y_desc: f.words.into(),
            unit: f.unit,
            series: mk_series(&|p: &PointSummary| p.figures[i]),
            threshold: None,
            note: note.clone(),
        });
    }
    for (j, o) in def.objectives().iter().enumerate() {
        let unit = match o.measure {
            Measure::Quantile(_) | Measure::Mean | Measure::Max => YUnit::Ms,
            Measure::ErrorRate | Measure::Availability => YUnit::Fraction,
            Measure::Throughput => YUnit::Rate,
            Measure::CostPerMonth => YUnit::Usd,
        };
        out.push(SweepPlot {
            stem: format!("sweep_slo{}", j + 1),
            title: format!("{} — objective {} against {x_desc}", def.name, o.label),
            x_desc: x_desc.clone(),
            x_names: x_names.clone(),
            y_desc: o.label.clone(),
            unit,
            series: mk_series(&|p: &PointSummary| p.objectives[j].interval),
            threshold: Some((o.threshold, format!("target {}", o.target()))),
            note: note.clone(),
        });
    }
    out
}

/// Writes a sweep's report into `out` (replacing an earlier report there, atomically).
pub fn write_sweep(out: &Path, def: &SweepDef, runs: &[RunRecord]) -> Result<Vec<PathBuf>, String> {
    if runs.len() != def.runs() {
        return Err(format!(
            "the sweep has {} runs but {} records were given",
            def.runs(),
            runs.len()
        ));
    }
    let points = summarise(def, runs)?;
    let write = || -> Result<Vec<PathBuf>, ReportError> {
        let stage = Staging::new(out)?;
        let mut names = vec!["sweep.json".to_string(), "sweep.csv".to_string()];
        let doc = sweep_doc(def, &points);
        stage.write(
            "sweep.json",
            (serde_json::to_string_pretty(&doc).expect("serializes") + "\n").as_bytes(),
        )?;
        stage.write("sweep.csv", sweep_csv(def, &points).as_bytes())?;
        let charts = sweep_charts(&stage.dir, &plots(def, &points))?;
        stage.write("summary.md", summary_md(def, &points, &charts).as_bytes())?;
        names.push("summary.md".into());
        names.extend(charts);
        let target = stage.commit()?;
        Ok(names.into_iter().map(|n| target.join(n)).collect())
    };
    write().map_err(|e| e.to_string())
}
