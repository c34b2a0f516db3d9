//! Assignments (docs/exercises.md): `scalesim new --exercise NAME` hands out a scenario whose
//! workload, objectives and monthly budget are fixed and whose topology is deliberately weak;
//! `scalesim check` grades the student's file.
//!
//! A scenario is an exercise when it has an `[exercise]` table (its name and budget). `check`
//! then (1) compares the parts the student may not change with the exercise as handed out — the
//! embedded exercise of that name, or `check --handout FILE` — field by field: `[workload]` but
//! its `target`, `[scenario]` duration, warm-up, seed and window, `[network]`, `[[faults]]`,
//! `[slo]`, `[exercise]`, and the `service` of every server and fleet; a file that changed any of
//! them is not run and fails (exit 1) with each change named, `workload.users: 10000 → 100`;
//! (2) runs it, with the budget as one more objective (`cost_per_month ≤ budget`); (3) passes it
//! (exit 0) when every objective holds, or fails it (exit 1) with the reasons and a feedback
//! paragraph naming the bottleneck ([`feedback`]).

use crate::report::check::ScenarioVerdicts;
use crate::run::RunOutput;
use crate::scenario::error::Seg;
use crate::scenario::units::{Price, HOURS_PER_MONTH};
use crate::scenario::validate::{at_key, Checker};
use crate::scenario::{Scenario, ScenarioFile};
use crate::slo::{Bound, Measure, Objective};
use crate::stats::Decision;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt::Write;

/// `[exercise]`: this scenario is an assignment; `scalesim check` grades it (docs/exercises.md).
/// Default: none (an ordinary scenario, checked against its `[slo]` only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExerciseConfig {
    /// The exercise's name: an embedded one (`scalesim new --exercise list`), whose handed-out
    /// copy `check` compares the file with, or an instructor's own (graded with `check
    /// --handout FILE`). Required.
    pub name: String,
    /// The monthly budget, e.g. `"$800/month"` (or per hour, `"$1.10/h"`; 730 hours a month):
    /// `check` fails a design whose cost per month — the run's bill at its rate, as the
    /// `cost_per_month` objective measures it — is above it. Required; more than $0.
    pub budget: Price,
}

/// Checks `[exercise]` (the loader calls it): a name, and a budget above zero.
pub fn check(c: &mut Checker, e: &ExerciseConfig) {
    let base = [Seg::Key("exercise".into())];
    if e.name.trim().is_empty() {
        c.err(
            &at_key(&base, "name"),
            "the exercise's name can't be empty",
            Some(format!("the embedded exercises: {}", names().join(", "))),
        );
    }
    if e.budget.0 <= 0.0 {
        c.err(
            &at_key(&base, "budget"),
            "the budget must be more than $0: no design could pass",
            Some("e.g. budget = \"$800/month\"".into()),
        );
    }
}

/// The embedded exercises' names, in order.
pub fn names() -> Vec<&'static str> {
    crate::scenario::embedded::EXERCISES
        .iter()
        .map(|e| e.name)
        .collect()
}

/// The budget in dollars per month.
pub fn monthly(e: &ExerciseConfig) -> f64 {
    e.budget.0 * HOURS_PER_MONTH
}

/// One thing the student changed that the exercise fixes.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Its key path, `workload.users`.
    pub key: String,
    /// As handed out (JSON text, `(not set)` when absent).
    pub was: String,
    /// In the student's file.
    pub now: String,
}

impl Change {
    /// `workload.users: 10000 → 100`.
    pub fn words(&self) -> String {
        format!("{}: {} → {}", self.key, self.was, self.now)
    }
}

/// An exercise's grade beside its verdicts.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    /// The exercise's name.
    pub name: String,
    /// Its budget, $/month.
    pub budget: f64,
    /// What the file changed of what the exercise fixes (empty: nothing; then it was run).
    pub changes: Vec<Change>,
    /// Index of the budget's objective among the verdicts (the last one added).
    pub budget_index: usize,
    /// The paragraph on the bottleneck ([`feedback`]); `None` when not run, or with
    /// `--replications` (no single run to read).
    pub feedback: Option<String>,
}

impl Grade {
    /// The file kept every fixed part.
    pub fn kept_rules(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The parts of a file an exercise fixes, as one JSON tree (see the module's doc).
fn fixed(f: &ScenarioFile) -> Value {
    let v = serde_json::to_value(f).expect("a scenario file serializes");
    let mut workload = v.get("workload").cloned().unwrap_or(Value::Null);
    if let Some(m) = workload.as_object_mut() {
        m.remove("target");
    }
    let meta = &v["scenario"];
    json!({
        "scenario": {
            "duration": meta.get("duration"),
            "warmup": meta.get("warmup"),
            "seed": meta.get("seed"),
            "window": meta.get("window"),
        },
        "workload": workload,
        "network": v.get("network"),
        "faults": v.get("faults"),
        "slo": v.get("slo"),
        "exercise": v.get("exercise"),
    })
}

/// A value as the scenario file writes it: `10000`, `p(99) < 300ms`, `{ dist = "lognormal", mean = "10ms" }`.
fn shown(v: Option<&Value>) -> String {
    fn inner(v: &Value) -> String {
        match v {
            Value::String(s) => format!("\"{s}\""),
            Value::Array(a) => format!("[{}]", a.iter().map(inner).collect::<Vec<_>>().join(", ")),
            Value::Object(m) => format!(
                "{{ {} }}",
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| format!("{k} = {}", inner(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            v => v.to_string(),
        }
    }
    match v {
        None | Some(Value::Null) => "(not set)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => inner(v),
    }
}

/// Appends every leaf where `a` and `b` differ, under the key path `key`.
fn diff(key: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Change>) {
    let absent = |v: Option<&Value>| v.is_none_or(Value::is_null);
    if absent(a) && absent(b) {
        return;
    }
    let join = |k: &str| {
        if key.is_empty() {
            k.to_string()
        } else {
            format!("{key}.{k}")
        }
    };
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff(&join(k), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{key}[{i}]"), Some(p), Some(q), out);
            }
        }
        _ if a == b => {}
        _ => out.push(Change {
            key: key.to_string(),
            was: shown(a),
            now: shown(b),
        }),
    }
}

/// What `student` changed of what the exercise `handout` fixes, in key order; empty when it kept
/// everything. Besides the fixed tables, every server and fleet must take a `service` one of the
/// handout's servers and fleets takes.
pub fn changes(handout: &ScenarioFile, student: &ScenarioFile) -> Vec<Change> {
    let mut out = Vec::new();
    diff("", Some(&fixed(handout)), Some(&fixed(student)), &mut out);
    // The budget as the exercise writes it, per month (it is kept per hour).
    let per_month = |f: &ScenarioFile| {
        f.exercise.as_ref().map_or("(not set)".to_string(), |e| {
            format!("${:.2}/month", monthly(e))
        })
    };
    for c in out.iter_mut().filter(|c| c.key == "exercise.budget") {
        c.was = per_month(handout);
        c.now = per_month(student);
    }
    let services = |f: &ScenarioFile| -> Vec<(String, Value)> {
        let v = serde_json::to_value(&f.components).expect("components serialize");
        v.as_object()
            .into_iter()
            .flatten()
            .filter(|(_, c)| matches!(c["kind"].as_str(), Some("server" | "fleet")))
            .filter_map(|(n, c)| Some((n.clone(), c.get("service")?.clone())))
            .collect()
    };
    let allowed = services(handout);
    if let Some((_, first)) = allowed.first() {
        for (name, s) in services(student) {
            if !allowed.iter().any(|(_, a)| *a == s) {
                out.push(Change {
                    key: format!("components.{name}.service"),
                    was: shown(Some(first)),
                    now: shown(Some(&s)),
                });
            }
        }
    }
    out
}

/// Where a grade's handed-out copy comes from.
pub enum Handout<'a> {
    /// The embedded exercise the file's `[exercise] name` names.
    Embedded,
    /// `check --handout FILE`: this file as handed out.
    File(&'a Scenario),
}

/// Prepares the grading of `scn` when it is an exercise: compares it with the handout and adds
/// the budget's objective to its objectives. `Ok(None)` for an ordinary scenario; `Err` (bad
/// input, exit 2) for an exercise whose handout cannot be found.
pub fn prepare(scn: &mut Scenario, handout: &Handout) -> Result<Option<Grade>, String> {
    let Some(e) = scn.file.exercise.clone() else {
        return match handout {
            Handout::File(h) => Err(format!(
                "{}: --handout {} is given, but this file has no [exercise] table to grade it as one",
                scn.source, h.source
            )),
            Handout::Embedded => Ok(None),
        };
    };
    let embedded;
    let original: &ScenarioFile = match handout {
        Handout::File(h) => &h.file,
        Handout::Embedded => {
            let Some(x) = crate::scenario::embedded::exercise(&e.name) else {
                return Err(format!(
                    "{}: exercise.name: there is no embedded exercise \"{}\" to grade it against\n  help: the embedded exercises are {}; for an exercise of your own, pass the file as handed out: scalesim check {} --handout HANDOUT.toml",
                    scn.source,
                    e.name,
                    names().join(", "),
                    scn.source
                ));
            };
            embedded = crate::scenario::parse(&format!("exercise:{}", x.name), x.text, &[])
                .map_err(|err| format!("the embedded exercise {} does not load: {err}", x.name))?;
            &embedded.file
        }
    };
    let changes = changes(original, &scn.file);
    let budget = monthly(&e);
    scn.slos.push(budget_objective(budget));
    Ok(Some(Grade {
        name: e.name,
        budget,
        changes,
        budget_index: scn.slos.len() - 1,
        feedback: None,
    }))
}

/// The budget as an objective: cost per month at most the budget.
pub fn budget_objective(budget: f64) -> Objective {
    Objective {
        label: format!("budget: cost_per_month ≤ ${budget:.2}"),
        measure: Measure::CostPerMonth,
        bound: Bound::Below { inclusive: true },
        threshold: budget,
        class: None,
        every: None,
    }
}

/// The feedback paragraph of a grade: the saturated CPU, if one was, and the forensics' story of
/// what failed first and what followed; for a run where nothing failed, the headroom.
pub fn feedback(scn: &Scenario, run: &RunOutput) -> String {
    use crate::report::summary::{measured_rows, remedy, tier_loads, Why, SATURATED};
    let rows = measured_rows(scn, run);
    let measured: u64 = rows.iter().map(|r| r.end - r.start).sum();
    let tiers = tier_loads(rows.iter().copied(), run);
    let idea = |why: Why| remedy(why, scn.chapter);
    // What failed first and what followed, in order (report::forensics), when anything failed.
    let story = crate::report::forensics::analyze(scn, run);
    let told = if story.first.is_some() {
        format!(" {}", story.paragraph())
    } else {
        String::new()
    };
    if let Some(t) = tiers.first().filter(|t| t.hot > 0) {
        let hot = crate::engine::time::human(measured * t.hot as u64 / t.windows.max(1) as u64);
        // The forensics' story ends with its remedy; without one, say the CPU's.
        let then = if told.is_empty() {
            format!(" What addresses it: {}.", idea(Why::Cpu))
        } else {
            told
        };
        return format!(
            "{}'s CPU was saturated (≥ {:.0} % busy) for {} of the {} measured, {:.0} % busy on average: it is the bottleneck.{then}",
            t.name,
            SATURATED * 100.0,
            hot,
            crate::engine::time::human(measured),
            t.mean * 100.0,
        );
    }
    if story.first.is_some() {
        return story.paragraph();
    }
    let busiest = story.headroom.as_ref().map_or(String::new(), |h| {
        format!(
            " The busiest CPU, {}'s, averaged {:.0} % busy.",
            h.tier,
            h.mean * 100.0
        )
    });
    format!(
        "Nothing saturated and nothing failed.{busiest} Capacity the load does not use is money: fewer or smaller instances, or a fleet that scales with the load (chapter 4), cut the bill."
    )
}

/// The reasons a graded file did not pass, one line each: each fixed part changed, each
/// objective missed and by how much, the budget overrun.
pub fn reasons(r: &ScenarioVerdicts, g: &Grade) -> Vec<String> {
    if !g.kept_rules() {
        return g
            .changes
            .iter()
            .map(|c| format!("changed what the exercise fixes: {}", c.words()))
            .collect();
    }
    let mut out = Vec::new();
    for (i, v) in r.verdicts.iter().enumerate() {
        let m = v.objective.measure;
        match r.decision(i) {
            Decision::Pass => {}
            Decision::Inconclusive => out.push(format!(
                "{}: inconclusive — measured {}, target {}",
                v.objective.label,
                m.format(v.measured),
                v.objective.target()
            )),
            Decision::Fail if i == g.budget_index => out.push(format!(
                "over budget by ${:.2}: ${:.2}/month against the budget of ${:.2}/month",
                -v.margin, v.measured, g.budget
            )),
            Decision::Fail if v.measured.is_nan() => out.push(format!(
                "{} missed: nothing to measure{}",
                v.objective.label,
                v.note.as_ref().map_or(String::new(), |n| format!(" ({n})"))
            )),
            Decision::Fail => out.push(format!(
                "{} missed: measured {}, target {}, off by {}",
                v.objective.label,
                m.format(v.measured),
                v.objective.target(),
                m.format(v.margin.abs())
            )),
        }
    }
    out
}

/// The cost per month the run measured, if it did.
fn cost(r: &ScenarioVerdicts, g: &Grade) -> Option<f64> {
    r.verdicts
        .get(g.budget_index)
        .map(|v| v.measured)
        .filter(|c| c.is_finite())
}

/// The grade in words, for the text table: PASSED with the bill, or NOT PASSED with the reasons
/// and the feedback.
pub fn text(r: &ScenarioVerdicts, g: &Grade) -> String {
    let mut s = String::new();
    if r.passed() {
        let _ = writeln!(
            s,
            "  exercise {}: PASSED — every objective met, ${:.2}/month of the ${:.2}/month budget",
            g.name,
            cost(r, g).unwrap_or(f64::NAN),
            g.budget
        );
        return s;
    }
    if g.kept_rules() {
        let _ = writeln!(s, "  exercise {}: NOT PASSED", g.name);
    } else {
        let _ = writeln!(
            s,
            "  exercise {}: NOT GRADED — the file changed what the exercise fixes (workload, run length, seed, network, faults, objectives, budget, servers' service), so it was not run:",
            g.name
        );
    }
    for why in reasons(r, g) {
        let _ = writeln!(s, "    - {why}");
    }
    if let Some(f) = &g.feedback {
        let _ = writeln!(s, "  feedback: {f}");
    }
    if !g.kept_rules() {
        let _ = writeln!(
            s,
            "  help: change only the components and workload.target; `scalesim new --exercise {}` writes the exercise as handed out",
            g.name
        );
    }
    s
}

/// The grade in the JSON document (`scenarios[i].exercise`).
pub fn json(r: &ScenarioVerdicts, g: &Grade) -> Value {
    json!({
        "name": g.name,
        "passed": r.passed(),
        "graded": g.kept_rules(),
        "budget_per_month": crate::report::results::round6(g.budget),
        "cost_per_month": cost(r, g).map(crate::report::results::round6),
        "changed": g.changes.iter().map(|c| json!({"key": c.key, "handed_out": c.was, "now": c.now})).collect::<Vec<_>>(),
        "reasons": reasons(r, g),
        "feedback": g.feedback,
    })
}

/// The JUnit test case of the fixed parts ("workload unchanged"): a failure naming each change.
pub fn junit_rules_case(classname: &str, g: &Grade, xml: impl Fn(&str) -> String) -> String {
    let name = format!(
        "exercise {}: workload, objectives and budget as handed out",
        g.name
    );
    if g.kept_rules() {
        format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"><system-out>nothing the exercise fixes was changed</system-out></testcase>\n",
            xml(classname),
            xml(&name)
        )
    } else {
        let list: Vec<String> = g.changes.iter().map(Change::words).collect();
        format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">\n      <failure message=\"{}\" type=\"ExerciseChanged\">{}</failure>\n    </testcase>\n",
            xml(classname),
            xml(&name),
            xml(&format!(
                "the file changed what the exercise fixes: {}",
                list.join("; ")
            )),
            xml(&list.join("\n"))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Scenario {
        crate::scenario::parse("t.toml", text, &[]).expect("loads")
    }

    #[test]
    fn every_embedded_exercise_loads_and_keeps_its_own_rules() {
        for x in crate::scenario::embedded::EXERCISES {
            let s = crate::scenario::parse(x.name, x.text, &[]).expect(x.name);
            let e = s.file.exercise.as_ref().expect("an [exercise] table");
            assert_eq!(e.name, x.name);
            assert!(changes(&s.file, &s.file).is_empty());
            assert!(!s.slos.is_empty(), "{}: objectives", x.name);
            assert!(!x.summary().is_empty());
        }
    }

    #[test]
    fn a_changed_leaf_is_named_by_its_key_path_and_target_is_free() {
        let x = crate::scenario::embedded::exercise("shop-10k").unwrap();
        let a = load(x.text);
        let edited = x
            .text
            .replace("users = 10000", "users = 100")
            .replace("target = \"web\"", "target = \"web\"  # same")
            .replace("\"p(99) < 300ms\"", "\"p(99) < 3s\"");
        let b = load(&edited);
        let c = changes(&a.file, &b.file);
        let words: Vec<String> = c.iter().map(Change::words).collect();
        assert_eq!(
            words,
            [
                "slo.objectives[0]: p(99) < 300ms → p(99) < 3s",
                "workload.users: 10000 → 100"
            ]
        );
        let mut moved = a.file.clone();
        moved.workload.target = Some("lb".into());
        assert!(changes(&a.file, &moved).is_empty());
    }

    #[test]
    fn a_faster_service_is_a_change() {
        let x = crate::scenario::embedded::exercise("shop-10k").unwrap();
        let a = load(x.text);
        let b = load(
            &x.text
                .replace("mean = \"10ms\", cv = 1.0", "mean = \"1ms\", cv = 1.0"),
        );
        let c = changes(&a.file, &b.file);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].key, "components.web.service");
    }
}
