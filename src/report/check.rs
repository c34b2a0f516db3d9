//! `scalesim check` output: a table for humans, JSON for tools, JUnit XML for CI dashboards, and
//! GitHub workflow annotations. Also the baseline comparison ("not worse than main").

use crate::slo::{Bound, Measure, Objective, Verdict};
use crate::stats::Decision;
use serde_json::{json, Value};
use std::fmt::Write;

/// The verdicts of one scenario.
pub struct ScenarioVerdicts {
    /// Scenario name.
    pub name: String,
    /// Where it came from.
    pub source: String,
    /// Seed used.
    pub seed: u64,
    /// One per objective (SLOs first, then baseline comparisons).
    pub verdicts: Vec<Verdict>,
    /// Simulated seconds measured, for JUnit `time`.
    pub measured_s: f64,
    /// With `check --replications R`: each objective judged on its replications' 95 % interval
    /// (same order as `verdicts`, whose `measured` is then the mean). `None`: one run.
    pub replicated: Option<Replicated>,
    /// For an exercise file (`[exercise]`): its grade. The budget is then among the verdicts.
    pub exercise: Option<crate::exercise::Grade>,
}

/// The replications behind a `check --replications` verdict.
#[derive(Clone, Debug)]
pub struct Replicated {
    /// How many runs.
    pub runs: u32,
    /// Per objective: the interval, the decision and the replications that would decide it.
    pub objectives: Vec<crate::sweep::report::ObjectivePoint>,
}

impl ScenarioVerdicts {
    /// True when every objective holds (on its whole interval, with replications).
    pub fn passed(&self) -> bool {
        self.exercise.as_ref().is_none_or(|g| g.kept_rules())
            && (0..self.verdicts.len()).all(|i| self.decision(i) == Decision::Pass)
    }

    /// True when no objective failed but some interval straddles its target.
    pub fn inconclusive(&self) -> bool {
        let d: Vec<Decision> = (0..self.verdicts.len()).map(|i| self.decision(i)).collect();
        self.exercise.as_ref().is_none_or(|g| g.kept_rules())
            && !d.contains(&Decision::Fail)
            && d.contains(&Decision::Inconclusive)
    }

    /// Objective i's decision: pass or fail for one run; with replications, on the interval.
    pub fn decision(&self, i: usize) -> Decision {
        match &self.replicated {
            Some(r) => r.objectives[i].decision,
            None if self.verdicts[i].passed => Decision::Pass,
            None => Decision::Fail,
        }
    }

    fn result_word(&self, i: usize) -> &'static str {
        match self.decision(i) {
            Decision::Pass => "pass",
            Decision::Fail => "FAIL",
            Decision::Inconclusive => "INCONCLUSIVE",
        }
    }
}

/// Builds an objective's verdict from its replications: `measured` is the mean, and the note says
/// the interval (and the replications needed to decide, when it straddles the target).
pub fn replicated_verdict(
    o: &Objective,
    p: &crate::sweep::report::ObjectivePoint,
    runs: u32,
) -> Verdict {
    let mean = p.interval.map_or(f64::NAN, |iv| iv.mean);
    let f = |v: f64| o.measure.format(v);
    let note = match (&p.interval, p.decision) {
        (None, _) => format!("nothing to measure in any of the {runs} runs"),
        (Some(iv), d) => {
            let range = if iv.half.is_nan() {
                format!("one value of {runs} runs had something to measure")
            } else {
                format!(
                    "95 % interval {} .. {} over {} runs",
                    f(iv.lo()),
                    f(iv.hi()),
                    iv.n
                )
            };
            match (d, p.needed) {
                (Decision::Inconclusive, Some(n)) => format!(
                    "{range}: it straddles the target; about {n} replications would decide (--replications {n})"
                ),
                (Decision::Inconclusive, None) => format!(
                    "{range}: it straddles the target, and the mean is on it: more replications may not decide"
                ),
                (Decision::Pass, _) => format!("{range}: all of it meets the target"),
                (Decision::Fail, _) => format!("{range}: all of it misses the target"),
            }
        }
    };
    Verdict {
        objective: o.clone(),
        measured: mean,
        margin: if mean.is_nan() {
            f64::NAN
        } else {
            o.margin(mean)
        },
        passed: p.decision == Decision::Pass,
        noise: p.interval.map(|iv| iv.half),
        windows: None,
        note: Some(note),
    }
}

pub(crate) fn margin_text(v: &Verdict) -> String {
    if v.margin.is_nan() {
        return "—".into();
    }
    let m = v.objective.measure;
    let sign = if v.margin >= 0.0 { "+" } else { "−" };
    let abs = m.format(v.margin.abs());
    let fraction = matches!(m, Measure::ErrorRate | Measure::Availability);
    let rel = if v.objective.threshold != 0.0 && !fraction {
        format!(
            " ({}{:.0} %)",
            sign,
            (v.margin / v.objective.threshold).abs() * 100.0
        )
    } else {
        String::new()
    };
    format!("{sign}{abs}{rel}")
}

/// Widest objective label shown whole in the text table.
pub const MAX_LABEL: usize = 60;

/// `label`, cut to [`MAX_LABEL`] characters with a `…` when longer.
fn fit_label(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        return label.to_string();
    }
    let mut s: String = label.chars().take(MAX_LABEL - 1).collect();
    s.push('…');
    s
}

/// `s` padded with spaces to `w` characters.
fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

/// The human table.
pub fn text(results: &[ScenarioVerdicts]) -> String {
    let mut s = String::new();
    for r in results {
        let _ = writeln!(s, "{} ({}), seed {}", r.name, r.source, r.seed);
        if let Some(g) = r.exercise.as_ref().filter(|g| !g.kept_rules()) {
            let _ = writeln!(s, "{}", crate::exercise::text(r, g));
            continue;
        }
        if r.verdicts.is_empty() {
            let _ = writeln!(
                s,
                "  no objectives: add an [slo] table (e.g. p99 = \"300ms\", error_rate = 0.001)"
            );
            continue;
        }
        if let Some(rep) = &r.replicated {
            let _ = writeln!(
                s,
                "  {} replications (seeds derived from {}); each objective on its 95 % interval",
                rep.runs, r.seed
            );
        }
        // Labels are the user's (a class name can be any length): the column is at most
        // MAX_LABEL wide, longer labels are cut with `…`, and padding never uses a `{:<w$}`
        // width (limited to 65,535).
        let label = |v: &crate::slo::Verdict| fit_label(&v.objective.label);
        let w = r
            .verdicts
            .iter()
            .map(|v| label(v).chars().count())
            .max()
            .unwrap_or(9)
            .max(9);
        let _ = writeln!(
            s,
            "  {}  {:>14}  {:>14}  {:>22}  result",
            pad("objective", w),
            "target",
            "measured",
            "margin"
        );
        for (i, v) in r.verdicts.iter().enumerate() {
            let result = r.result_word(i);
            let _ = writeln!(
                s,
                "  {}  {:>14}  {:>14}  {:>22}  {result}",
                pad(&label(v), w),
                v.objective.target(),
                v.objective.measure.format(v.measured),
                margin_text(v)
            );
            if let Some((bad, n)) = v.windows {
                if bad > 0 {
                    let _ = writeln!(s, "  {}  {bad} of {n} windows failed", pad("", w));
                }
            }
            if let Some(n) = &v.note {
                let _ = writeln!(s, "  {}  note: {n}", pad("", w));
            }
        }
        let met = (0..r.verdicts.len())
            .filter(|&i| r.decision(i) == Decision::Pass)
            .count();
        let open = (0..r.verdicts.len())
            .filter(|&i| r.decision(i) == Decision::Inconclusive)
            .count();
        let _ = writeln!(
            s,
            "  {}: {met} of {} objectives met{}",
            if r.passed() {
                "PASS"
            } else if r.inconclusive() {
                "INCONCLUSIVE"
            } else {
                "FAIL"
            },
            r.verdicts.len(),
            if open > 0 {
                format!(", {open} inconclusive")
            } else {
                String::new()
            }
        );
        if let Some(g) = &r.exercise {
            s.push_str(&crate::exercise::text(r, g));
        }
        s.push('\n');
    }
    s
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(crate::report::results::round6(x))
    } else {
        Value::Null
    }
}

/// The JSON document.
pub fn json_doc(results: &[ScenarioVerdicts]) -> Value {
    json!({
        "schema_version": 1,
        "passed": results.iter().all(|r| r.passed()),
        "scenarios": results.iter().map(|r| (json!({
            "name": r.name,
            "source": r.source,
            "seed": r.seed,
            "passed": r.passed(),
            "objectives": r.verdicts.iter().enumerate().map(|(i, v)| (i, json!({
                "objective": v.objective.label,
                "target": v.objective.target(),
                "threshold": num(v.objective.threshold),
                "unit": unit(v.objective.measure),
                "measured": num(v.measured),
                "margin": num(v.margin),
                "passed": v.passed,
                "noise_se": v.noise.map_or(Value::Null, num),
                "windows_failed": v.windows.map(|w| w.0),
                "windows": v.windows.map(|w| w.1),
                "note": v.note,
            }))).map(|(i, mut o)| {
                // Keys of a replicated check only there, so a single run's document keeps its bytes.
                if let Some(rep) = &r.replicated {
                    let p = &rep.objectives[i];
                    let m = o.as_object_mut().expect("object");
                    m.insert("verdict".into(), json!(p.decision.name()));
                    m.insert("replications".into(), json!(rep.runs));
                    m.insert("interval_lo".into(), p.interval.map_or(Value::Null, |iv| num(iv.lo())));
                    m.insert("interval_hi".into(), p.interval.map_or(Value::Null, |iv| num(iv.hi())));
                    m.insert("replications_to_decide".into(), json!(p.needed));
                }
                o
            }).collect::<Vec<_>>(),
        }), r)).map(|(mut doc, r)| {
            // The grade only for an exercise, so other documents keep their bytes.
            if let Some(g) = &r.exercise {
                doc.as_object_mut().expect("object").insert("exercise".into(), crate::exercise::json(r, g));
            }
            doc
        }).collect::<Vec<_>>(),
    })
}

fn unit(m: Measure) -> &'static str {
    match m {
        Measure::Quantile(_) | Measure::Mean | Measure::Max => "ms",
        Measure::ErrorRate | Measure::Availability => "fraction",
        Measure::Throughput => "requests/s",
        Measure::CostPerMonth => "usd/month",
    }
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: one testsuite per scenario, one testcase per objective, `<failure>` when violated;
/// with replications, `<skipped message="inconclusive: …">` when the interval straddles the
/// target (counted in `skipped`), so a dashboard shows it as neither passed nor failed.
pub fn junit(results: &[ScenarioVerdicts]) -> String {
    let count = |r: &ScenarioVerdicts, d: Decision| {
        (0..r.verdicts.len())
            .filter(|&i| r.decision(i) == d)
            .count()
    };
    // An exercise adds one case: the fixed parts as handed out.
    let rules = |r: &ScenarioVerdicts| usize::from(r.exercise.is_some());
    let broke =
        |r: &ScenarioVerdicts| usize::from(r.exercise.as_ref().is_some_and(|g| !g.kept_rules()));
    let tests: usize = results.iter().map(|r| r.verdicts.len() + rules(r)).sum();
    let failures: usize = results
        .iter()
        .map(|r| count(r, Decision::Fail) + broke(r))
        .sum();
    let skipped: usize = results
        .iter()
        .map(|r| count(r, Decision::Inconclusive))
        .sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if skipped == 0 {
        let _ = writeln!(s, "<testsuites name=\"scalesim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">");
    } else {
        let _ = writeln!(s, "<testsuites name=\"scalesim check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">");
    }
    for r in results {
        let f = count(r, Decision::Fail) + broke(r);
        let k = count(r, Decision::Inconclusive);
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"{k}\" time=\"0\">",
            xml(&r.name),
            r.verdicts.len() + rules(r)
        );
        let reps = r.replicated.as_ref().map_or(String::new(), |rep| {
            format!("<property name=\"replications\" value=\"{}\"/>", rep.runs)
        });
        let _ = writeln!(s, "    <properties><property name=\"seed\" value=\"{}\"/><property name=\"source\" value=\"{}\"/>{reps}</properties>", r.seed, xml(&r.source));
        for (i, v) in r.verdicts.iter().enumerate() {
            let _ = write!(
                s,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                xml(&r.name),
                xml(&v.objective.label)
            );
            let detail = format!(
                "target {}, measured {}, margin {}{}",
                v.objective.target(),
                v.objective.measure.format(v.measured),
                margin_text(v),
                v.note.as_ref().map_or(String::new(), |n| format!("; {n}"))
            );
            match r.decision(i) {
                Decision::Pass => {
                    let _ = writeln!(s, "><system-out>{}</system-out></testcase>", xml(&detail));
                }
                Decision::Fail => {
                    let _ = writeln!(s, ">\n      <failure message=\"{}\" type=\"SloViolated\">{}</failure>\n    </testcase>", xml(&format!("SLO violated: {}", v.objective.label)), xml(&detail));
                }
                Decision::Inconclusive => {
                    let _ = writeln!(s, ">\n      <skipped message=\"{}\"/>\n      <system-out>{}</system-out>\n    </testcase>", xml(&format!("inconclusive: {}", v.objective.label)), xml(&detail));
                }
            }
        }
        if let Some(g) = &r.exercise {
            s.push_str(&crate::exercise::junit_rules_case(&r.name, g, xml));
            let _ = writeln!(
                s,
                "    <system-out>{}</system-out>",
                xml(crate::exercise::text(r, g).trim_end())
            );
        }
        let _ = writeln!(s, "  </testsuite>");
    }
    s.push_str("</testsuites>\n");
    s
}

/// GitHub Actions workflow commands: an error per violated objective, a notice per met one, a
/// warning per inconclusive one.
pub fn github(results: &[ScenarioVerdicts]) -> String {
    let esc = |t: &str| {
        t.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut s = String::new();
    for r in results {
        if let Some(g) = &r.exercise {
            let (level, said) = if r.passed() {
                ("notice", "passed")
            } else {
                ("error", "not passed")
            };
            let mut body = crate::exercise::reasons(r, g).join("; ");
            if let Some(f) = &g.feedback {
                body = if body.is_empty() {
                    f.clone()
                } else {
                    format!("{body} — {f}")
                };
            }
            let _ = writeln!(
                s,
                "::{level} title={}::{}",
                esc(&format!("exercise {} {said} — {}", g.name, r.name))
                    .replace(',', "%2C")
                    .replace(':', "%3A"),
                esc(&body)
            );
        }
        for (i, v) in r.verdicts.iter().enumerate() {
            let (level, said) = match r.decision(i) {
                Decision::Pass => ("notice", "met"),
                Decision::Fail => ("error", "violated"),
                Decision::Inconclusive => ("warning", "inconclusive"),
            };
            let _ = writeln!(
                s,
                "::{level} title={}::{}",
                esc(&format!("SLO {said} — {}", r.name))
                    .replace(',', "%2C")
                    .replace(':', "%3A"),
                esc(&format!(
                    "{}: measured {} (target {}, margin {}){}",
                    v.objective.label,
                    v.objective.measure.format(v.measured),
                    v.objective.target(),
                    margin_text(v),
                    v.note.as_ref().map_or(String::new(), |n| format!(" — {n}"))
                ))
            );
        }
    }
    s
}

/// How much worse than the baseline a metric may get.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerances {
    /// (metric name, allowed relative increase for latency / absolute for error rate, relative decrease for goodput).
    pub items: Vec<(String, f64)>,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            items: vec![
                ("p50".into(), 0.10),
                ("p99".into(), 0.10),
                ("error_rate".into(), 0.001),
                ("goodput".into(), 0.10),
            ],
        }
    }
}

impl Tolerances {
    /// Parses `p99=10%,error_rate=0.1%` (replacing the defaults for the named metrics).
    pub fn parse(text: &str) -> Result<Tolerances, String> {
        let mut t = Tolerances::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not metric=tolerance (e.g. p99=10%)"))?;
            let k = k.trim().to_string();
            if !["p50", "p90", "p99", "p999", "mean", "error_rate", "goodput"].contains(&k.as_str())
            {
                return Err(format!("unknown metric `{k}` in --tolerance; use p50, p90, p99, p999, mean, error_rate or goodput"));
            }
            let x = crate::scenario::units::parse_fraction_str(v.trim())?;
            t.items.retain(|(n, _)| *n != k);
            t.items.push((k, x));
        }
        Ok(t)
    }
}

/// Objectives built from a stored results.json: "not worse than the baseline, within tolerance".
pub fn baseline_objectives(
    baseline: &Value,
    tol: &Tolerances,
) -> Result<Vec<(Objective, String)>, String> {
    let lat = |k: &str| {
        baseline
            .pointer(&format!("/latency_ms/{k}"))
            .and_then(Value::as_f64)
    };
    let mut out = Vec::new();
    for (k, t) in &tol.items {
        let (measure, base, bound, threshold) = match k.as_str() {
            "p50" | "p90" | "p99" | "p999" | "mean" => {
                let Some(b) = lat(k) else { continue };
                let m = match k.as_str() {
                    "p50" => Measure::Quantile(0.5),
                    "p90" => Measure::Quantile(0.9),
                    "p99" => Measure::Quantile(0.99),
                    "p999" => Measure::Quantile(0.999),
                    _ => Measure::Mean,
                };
                (m, b, Bound::Below { inclusive: true }, b * (1.0 + t))
            }
            "error_rate" => {
                let b = baseline
                    .pointer("/requests/error_rate")
                    .and_then(Value::as_f64)
                    .ok_or("the baseline has no requests.error_rate")?;
                (
                    Measure::ErrorRate,
                    b,
                    Bound::Below { inclusive: true },
                    b + t,
                )
            }
            "goodput" => {
                let b = baseline
                    .pointer("/requests/goodput_rps")
                    .and_then(Value::as_f64)
                    .ok_or("the baseline has no requests.goodput_rps")?;
                (
                    Measure::Throughput,
                    b,
                    Bound::Above { inclusive: true },
                    b * (1.0 - t),
                )
            }
            _ => continue,
        };
        let tol_text = match k.as_str() {
            "error_rate" => format!("+{:.3} pp", t * 100.0),
            "goodput" => format!("−{:.0} %", t * 100.0),
            _ => format!("+{:.0} %", t * 100.0),
        };
        let label = format!("{k} vs baseline ({} {tol_text})", measure.format(base));
        out.push((
            Objective {
                label: label.clone(),
                measure,
                bound,
                threshold,
                class: None,
                every: None,
            },
            label,
        ));
    }
    if out.is_empty() {
        return Err("the baseline file has none of latency_ms.p50/p99, requests.error_rate, requests.goodput_rps — is it a scalesim results.json?".into());
    }
    Ok(out)
}
