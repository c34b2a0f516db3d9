//! The planner's report: the lines it prints, plan.json, plan.md and the chart of cost against
//! p99 (plan_frontier.png/svg), staged and renamed into place like every report. A function of
//! the definition and the search alone, so the same search always gives the same bytes.

use super::{Evaluation, Outcome, Search};
use crate::report::charts::{plan_chart, PlanDot, PlanPlot};
use crate::report::results::round6;
use crate::report::{ReportError, Staging};
use crate::slo::Measure;
use crate::stats::Interval;
use crate::sweep::{point_label, SweepDef};
use serde_json::{json, Map, Value};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What the planner was asked, besides the grid.
#[derive(Clone, Debug)]
pub struct Ask {
    /// `--users`, if given.
    pub users: Option<u32>,
    /// `--slo`s as given (empty: the scenario's own `[slo]`).
    pub slos: Vec<String>,
    /// `--set`s as given (without the planner's own).
    pub sets: Vec<String>,
}

/// "components.web.instance=c5.large, components.web.min=8" → "instance=c5.large, min=8".
pub fn short_label(e: &Evaluation) -> String {
    if e.values.is_empty() {
        return "the scenario".into();
    }
    e.values
        .iter()
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(", ")
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
        None => json!({"n": 0, "mean": null, "lo": null, "hi": null}),
        Some(iv) => json!({
            "n": iv.n,
            "mean": num(iv.mean),
            "lo": num(iv.lo()),
            "hi": num(iv.hi()),
        }),
    }
}

fn usd(v: f64) -> String {
    Measure::CostPerMonth.format(v)
}

fn ms(iv: Option<&Interval>) -> String {
    match iv {
        None => "—".into(),
        Some(iv) if iv.half.is_nan() => Measure::Mean.format(iv.mean),
        Some(iv) => format!(
            "{} ± {}",
            Measure::Mean.format(iv.mean),
            Measure::Mean.format(iv.half)
        ),
    }
}

/// A relative margin as words: "+4.2 %", "−98.5 %", "nothing measured".
fn margin(m: f64) -> String {
    if m == f64::NEG_INFINITY {
        "nothing measured".into()
    } else if m < 0.0 {
        format!("−{:.1} %", -m * 100.0)
    } else {
        format!("+{:.1} %", m * 100.0)
    }
}

/// "p(99) < 300ms (295.5 ms, 1.5 % to spare)", "error_rate < 0.1% (98.575 %)", or "none".
fn binds(def: &SweepDef, e: &Evaluation) -> String {
    let Some(j) = e.binding else {
        return "none".into();
    };
    let o = &def.objectives()[j];
    let v = o.measure.format(e.bad[j]);
    let m = e.margins[j];
    if m == f64::NEG_INFINITY {
        format!("{} (nothing measured)", o.label)
    } else if e.objectives[j].decision == crate::stats::Decision::Pass {
        format!(
            "{} ({v}, {} to spare)",
            o.label,
            margin(m).trim_start_matches('+')
        )
    } else {
        format!("{} ({v})", o.label)
    }
}

/// The evaluations in the order the report lists them: by cost, then point.
fn by_cost(search: &Search) -> Vec<usize> {
    let mut order: Vec<usize> = (0..search.evaluations.len()).collect();
    order.sort_by(|&a, &b| search.evaluations[a].preference(&search.evaluations[b]));
    order
}

/// "N runs against a grid of M (C configurations of G × R replications)".
pub fn runs_line(def: &SweepDef, search: &Search) -> String {
    let r = def.replications;
    format!(
        "{} runs against a grid of {} ({} of {} configurations × {} replication{})",
        search.runs(r),
        def.runs(),
        search.evaluations.len(),
        def.points(),
        r,
        if r == 1 { "" } else { "s" }
    )
}

/// What the planner found, in a sentence or two (no trailing newline).
pub fn verdict(def: &SweepDef, search: &Search) -> String {
    if let Some(b) = search.best {
        let e = &search.evaluations[b];
        return format!(
            "cheapest configuration meeting every objective: {} — {}/month, p99 {}; binds: {}",
            point_label(def, e.point),
            usd(e.cost_mean()),
            ms(e.p99.as_ref()),
            binds(def, e)
        );
    }
    let mut s = String::from("no configuration meets every objective");
    let everywhere = search.failing_everywhere();
    if everywhere.is_empty() {
        s.push_str(" (no single objective fails at every configuration tried)");
    } else {
        let names: Vec<String> = everywhere
            .iter()
            .map(|&j| format!("`{}`", def.objectives[j].label))
            .collect();
        let _ = write!(
            s,
            ": {} {} at every configuration tried, the largest capacity of each combination \
             included",
            names.join(" and "),
            if names.len() == 1 { "fails" } else { "fail" }
        );
    }
    if let Some(c) = search.closest() {
        let e = &search.evaluations[c];
        let _ = write!(
            s,
            ". The closest is {} — {}/month, p99 {}; binds: {}",
            point_label(def, e.point),
            usd(e.cost_mean()),
            ms(e.p99.as_ref()),
            binds(def, e)
        );
    }
    s
}

/// The lines `scalesim plan` prints: the frontier table, the answer, the count of runs.
pub fn text(def: &SweepDef, search: &Search) -> String {
    let mut s = String::new();
    let front = search.frontier();
    let rows: Vec<[String; 6]> = by_cost(search)
        .into_iter()
        .map(|i| {
            let e = &search.evaluations[i];
            [
                usd(e.cost_mean()),
                ms(e.p99.as_ref()),
                if e.feasible { "pass" } else { "fail" }.into(),
                binds(def, e),
                if front[i] { "*" } else { "" }.into(),
                short_label(e),
            ]
        })
        .collect();
    let head = [
        "cost/month",
        "p99 (mean ± 95 %)",
        "verdict",
        "binds (bad end of its interval)",
        "",
        "configuration",
    ];
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| -> String {
        let mut l = String::from("  ");
        for (k, c) in cells.iter().enumerate() {
            if k + 1 == cells.len() {
                l.push_str(c);
            } else {
                let pad = w[k] - c.chars().count();
                l.push_str(c);
                l.push_str(&" ".repeat(pad + 2));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    s.push_str(&line(&head));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        s.push_str(&line(&cells));
    }
    s.push_str("  * on the frontier: no other configuration tried is both cheaper and faster\n");
    for n in &search.notes {
        let _ = writeln!(s, "  warning: {n}");
    }
    let _ = writeln!(s, "  {}", verdict(def, search));
    let _ = writeln!(s, "  {}", runs_line(def, search));
    s
}

fn outcome_json(def: &SweepDef, o: &Outcome) -> Value {
    match o {
        Outcome::Cheapest(p) => {
            json!({"outcome": "cheapest", "configuration": point_label(def, *p)})
        }
        Outcome::Infeasible => json!({"outcome": "infeasible"}),
        Outcome::Pruned { lower_bound, best } => json!({
            "outcome": "pruned",
            "lower_bound_usd_per_month": num(*lower_bound),
            "best_usd_per_month": num(*best),
        }),
        Outcome::Stopped { at, best } => json!({
            "outcome": "stopped",
            "failing_probe_usd_per_month": num(*at),
            "best_usd_per_month": num(*best),
        }),
    }
}

fn evaluation_json(def: &SweepDef, e: &Evaluation, order: usize, frontier: bool) -> Value {
    let mut params = Map::new();
    for (k, v) in &e.values {
        params.insert(k.clone(), json!(v));
    }
    let objectives = def.objectives();
    json!({
        "order": order,
        "point": e.point,
        "params": params,
        "why": e.why.name(),
        "cost_per_month_usd": interval_json(e.cost.as_ref()),
        "p99_ms": interval_json(e.p99.as_ref()),
        "verdict": if e.feasible { "pass" } else { "fail" },
        "binding": e.binding.map(|j| objectives[j].label.clone()),
        "frontier": frontier,
        "objectives": objectives.iter().zip(&e.objectives).zip(e.margins.iter().zip(e.bad.iter().copied())).map(|((o, op), (m, b))| json!({
            "objective": o.label,
            "target": o.target(),
            "interval": interval_json(op.interval.as_ref()),
            "verdict": op.decision.name(),
            "bad_side": num(b),
            "relative_margin": num(*m),
        })).collect::<Vec<_>>(),
    })
}

/// The whole plan.json document.
pub fn plan_doc(def: &SweepDef, ask: &Ask, search: &Search) -> Value {
    let front = search.frontier();
    let evaluations: Vec<Value> = by_cost(search)
        .into_iter()
        .map(|i| evaluation_json(def, &search.evaluations[i], i, front[i]))
        .collect();
    let chosen = search.best.map(|b| {
        let e = &search.evaluations[b];
        json!({
            "configuration": point_label(def, e.point),
            "params": e.values.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>(),
            "cost_per_month_usd": num(e.cost_mean()),
            "p99_ms": interval_json(e.p99.as_ref()),
            "binding": e.binding.map(|j| def.objectives[j].label.clone()),
        })
    });
    let closest = search
        .best
        .is_none()
        .then(|| search.closest())
        .flatten()
        .map(|c| {
            let e = &search.evaluations[c];
            json!({
                "configuration": point_label(def, e.point),
                "cost_per_month_usd": num(e.cost_mean()),
                "binding": e.binding.map(|j| def.objectives[j].label.clone()),
            })
        });
    json!({
        "schema_version": 1,
        "kind": "plan",
        "tool": { "name": "scalesim", "version": env!("CARGO_PKG_VERSION") },
        "scenario": {
            "name": def.name,
            "source": def.source,
            "hash": def.scenario_hash,
            "seed": def.seed,
            "duration_s": def.duration_s,
            "warmup_s": def.warmup_s,
        },
        "plan": {
            "users": ask.users,
            "slo": if ask.slos.is_empty() { json!("the scenario's [slo]") } else { json!(ask.slos) },
            "sets": ask.sets,
            "variant": def.variant,
            "vary": def.params.iter().enumerate().map(|(k, p)| json!({
                "key": p.key,
                "values": p.values,
                "role": if Some(k) == search.bisected { "bisected" } else { "enumerated" },
            })).collect::<Vec<_>>(),
            "replications": def.replications,
            "confidence": crate::stats::CONFIDENCE,
            "judged_on": "each objective's 95 % interval over the replications: it passes only when the whole interval meets it (the upper end for < objectives, the lower end for >)",
            "seeds": "common random numbers: replication r of every configuration uses the same seed, splitmix64-derived from (base seed, r)",
            "assumption": "more of the bisected capacity never fails an objective that less passes, and never costs less",
            "exhaustive": search.exhaustive,
            "configurations": def.points(),
            "grid_runs": def.runs(),
            "configurations_tried": search.evaluations.len(),
            "runs": search.runs(def.replications),
        },
        "objectives": def.objectives().iter().map(|o| json!({"objective": o.label, "target": o.target(), "threshold": num(o.threshold)})).collect::<Vec<_>>(),
        "chosen": chosen,
        "closest": closest,
        "failing_everywhere": if search.best.is_none() {
            json!(search.failing_everywhere().iter().map(|&j| def.objectives[j].label.clone()).collect::<Vec<_>>())
        } else {
            json!([])
        },
        "combinations": search.combinations.iter().map(|c| {
            let mut o = outcome_json(def, &c.outcome);
            o["combination"] = json!(c.label);
            o
        }).collect::<Vec<_>>(),
        "notes": search.notes,
        "evaluations": evaluations,
    })
}

/// The shell command that reproduces the plan.
pub fn command(def: &SweepDef, ask: &Ask, exhaustive: bool) -> String {
    let mut c = format!("scalesim plan {}", def.source);
    if let Some(u) = ask.users {
        let _ = write!(c, " --users {u}");
    }
    for s in &ask.slos {
        let _ = write!(c, " --slo '{s}'");
    }
    for p in &def.params {
        let _ = write!(c, " --vary '{}={}'", p.key, p.values.join(","));
    }
    let _ = write!(
        c,
        " --replications {} --seed {}",
        def.replications, def.seed
    );
    if let Some(v) = &def.variant {
        let _ = write!(c, " --variant {v}");
    }
    for s in &ask.sets {
        let _ = write!(c, " --set '{s}'");
    }
    if exhaustive {
        c.push_str(" --exhaustive");
    }
    c
}

/// plan.md.
pub fn plan_md(def: &SweepDef, ask: &Ask, search: &Search, charts: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Capacity plan for {}\n", def.name);
    let _ = writeln!(s, "```\n{}\n```\n", command(def, ask, search.exhaustive));
    let load = ask
        .users
        .map_or("the scenario's own load".to_string(), |u| {
            format!("{u} users")
        });
    let _ = writeln!(
        s,
        "The cheapest configuration that meets every objective at {load}, out of {} \
         configurations. Each configuration tried ran {} replications of {} s simulated (the \
         first {} s warm-up not measured), every configuration on the same seeds (common random \
         numbers, so two configurations are compared on the same draws). An objective passes \
         only when the whole 95 % interval of its replications' values meets it: the upper end \
         for a \"<\" objective.\n",
        def.points(),
        def.replications,
        def.duration_s,
        def.warmup_s
    );
    let _ = writeln!(s, "**{}.**\n", verdict(def, search));
    let _ = writeln!(s, "{}.\n", runs_line(def, search));
    if let Some(b) = search.bisected {
        let others: Vec<String> = def
            .params
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != b)
            .map(|(_, p)| format!("`{}`", p.key))
            .collect();
        let _ = writeln!(
            s,
            "`{}` is a capacity: the planner assumes more of it never fails an objective that \
             less passes, and never costs less. So for each combination of {} it ran the \
             smallest value first (the combination's lower bound on cost), skipped a combination \
             whose lower bound already cost more than the best found, and bisected for the \
             smallest value that passes; the chosen configuration's next value up was run as a \
             check of the assumption.{}\n",
            def.params[b].key,
            if others.is_empty() {
                "the other parameters (none here)".to_string()
            } else {
                others.join(", ")
            },
            if search.exhaustive {
                " With `--exhaustive`, every configuration was run instead."
            } else {
                ""
            }
        );
    }
    for n in &search.notes {
        let _ = writeln!(s, "> **Warning:** {n}\n");
    }
    let _ = writeln!(s, "## Configurations tried, by cost\n");
    let _ = writeln!(
        s,
        "| configuration | cost/month | p99 (mean ± 95 %) | verdict | binds (bad end of its interval) | frontier | why run |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|");
    let front = search.frontier();
    for i in by_cost(search) {
        let e = &search.evaluations[i];
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            short_label(e),
            usd(e.cost_mean()),
            ms(e.p99.as_ref()),
            if e.feasible { "pass" } else { "fail" },
            binds(def, e),
            if front[i] { "yes" } else { "" },
            e.why.name()
        );
    }
    let _ = writeln!(
        s,
        "\n*binds* is the objective with the smallest margin on its interval's bad side (the upper \
         end for a \"<\" objective), the margin taken as a fraction of the target so that \
         objectives in different units compare; the value shown is that end. *frontier*: no other \
         configuration tried is both cheaper and faster.\n"
    );
    let _ = writeln!(s, "## Combinations\n");
    let _ = writeln!(s, "| combination | outcome |");
    let _ = writeln!(s, "|---|---|");
    for c in &search.combinations {
        let o = match &c.outcome {
            Outcome::Cheapest(p) => format!("cheapest passing: {}", point_label(def, *p)),
            Outcome::Infeasible => "nothing passes, up to its largest value".into(),
            Outcome::Pruned { lower_bound, best } => format!(
                "skipped: its smallest configuration costs {}/month, more than the best found ({})",
                usd(*lower_bound),
                usd(*best)
            ),
            Outcome::Stopped { at, best } => format!(
                "stopped: a failing configuration already cost {}/month, more than the best found ({})",
                usd(*at),
                usd(*best)
            ),
        };
        let _ = writeln!(s, "| {} | {o} |", c.label);
    }
    let _ = writeln!(s, "\n## Files\n");
    let _ = writeln!(
        s,
        "- `plan.json`: every configuration tried with its cost and p99 intervals, each \
         objective's interval, verdict and margin, and each combination's outcome."
    );
    if let Some(png) = charts.iter().find(|c| c.ends_with(".png")) {
        let _ = writeln!(
            s,
            "- `{png}` (and SVG): cost per month against p99, every configuration tried, the \
             frontier joined, the chosen one ringed."
        );
    }
    s
}

/// The chart's description.
pub fn plot(def: &SweepDef, search: &Search) -> PlanPlot {
    let front = search.frontier();
    let dots = search
        .evaluations
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (m, lo, hi) = e.p99.map_or((f64::NAN, f64::NAN, f64::NAN), |iv| {
                (iv.mean, iv.lo(), iv.hi())
            });
            PlanDot {
                cost: e.cost_mean(),
                p99: m,
                lo,
                hi,
                pass: e.feasible,
                frontier: front[i],
                chosen: search.best == Some(i),
                label: short_label(e),
            }
        })
        .collect();
    // A whole-run p99 objective (or else any whole-run latency quantile) is the target line.
    let objectives = def.objectives();
    let target = objectives
        .iter()
        .filter(|o| o.class.is_none() && o.every.is_none())
        .find(|o| matches!(o.measure, Measure::Quantile(q) if (q - 0.99).abs() < 1e-12))
        .map(|o| (o.threshold, format!("objective {}", o.label)));
    PlanPlot {
        title: format!(
            "{} — cost against p99 of every configuration tried",
            def.name
        ),
        dots,
        target,
        note: if def.replications >= 2 {
            format!("bars: 95 % interval, {} runs", def.replications)
        } else {
            "one replication: no interval".into()
        },
    }
}

/// Writes plan.json, plan.md and the chart into `out` (replacing an earlier report there,
/// atomically).
pub fn write_plan(
    out: &Path,
    def: &SweepDef,
    ask: &Ask,
    search: &Search,
) -> Result<Vec<PathBuf>, String> {
    let write = || -> Result<Vec<PathBuf>, ReportError> {
        let stage = Staging::new(out)?;
        let mut names = vec!["plan.json".to_string()];
        let doc = plan_doc(def, ask, search);
        stage.write(
            "plan.json",
            (serde_json::to_string_pretty(&doc).expect("serializes") + "\n").as_bytes(),
        )?;
        let charts = plan_chart(&stage.dir, &plot(def, search))?;
        stage.write("plan.md", plan_md(def, ask, search, &charts).as_bytes())?;
        names.push("plan.md".into());
        names.extend(charts);
        let target = stage.commit()?;
        Ok(names.into_iter().map(|n| target.join(n)).collect())
    };
    write().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins_read_as_signed_percentages() {
        assert_eq!(margin(0.042), "+4.2 %");
        assert_eq!(margin(-0.985), "−98.5 %");
        assert_eq!(margin(f64::NEG_INFINITY), "nothing measured");
    }
}
