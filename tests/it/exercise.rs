//! Assignments through the real binary: `scalesim new --exercise` hands out a file that validates,
//! runs and fails its objectives; `scalesim check` grades a student's design — passed (exit 0),
//! over budget or too small (exit 1, the reason and the bottleneck named), a changed workload
//! refused unrun (exit 1, each change named) — in text, JSON, JUnit and GitHub formats.
//!
//! Fixtures: `tests/fixtures/exercise/shop-10k-{solved,huge,small}.toml` are shop-10k with its
//! components replaced (and `workload.target = "lb"`), nothing else changed.

use super::common::{code, expect_code, scalesim, stderr, stdout, Tmp};
use std::fs;

const SOLVED: &str = "tests/fixtures/exercise/shop-10k-solved.toml";
const HUGE: &str = "tests/fixtures/exercise/shop-10k-huge.toml";
const SMALL: &str = "tests/fixtures/exercise/shop-10k-small.toml";

/// The handed-out file, written by `new --exercise` into `tmp`.
fn handed_out(tmp: &Tmp) -> String {
    let f = tmp.s("shop.toml");
    let o = scalesim(&["new", "--exercise", "shop-10k", "--out", &f]);
    expect_code(&o, 0);
    f
}

#[test]
fn list_names_every_exercise_and_a_bare_flag_hands_out_the_first() {
    let o = scalesim(&["new", "--exercise", "list"]);
    expect_code(&o, 0);
    for e in scalesim::scenario::embedded::EXERCISES {
        assert!(stdout(&o).contains(e.name), "{}", stdout(&o));
    }
    let o = scalesim(&["new", "--exercise"]);
    expect_code(&o, 0);
    assert_eq!(stdout(&o), scalesim::scenario::embedded::EXERCISES[0].text);
    let o = scalesim(&["new", "--exercise", "shop10k"]);
    expect_code(&o, 2);
    assert!(
        stderr(&o).contains("did you mean shop-10k?"),
        "{}",
        stderr(&o)
    );
    let o = scalesim(&["new"]);
    expect_code(&o, 2);
}

#[test]
fn new_never_replaces_a_file() {
    let tmp = Tmp::new("exercise-new-keeps");
    let f = handed_out(&tmp);
    fs::write(&f, "my work").unwrap();
    let o = scalesim(&["new", "--exercise", "shop-10k", "--out", &f]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("the file exists"), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(&f).unwrap(), "my work");
}

#[test]
fn the_handed_out_file_validates_runs_and_fails_naming_the_bottleneck() {
    let tmp = Tmp::new("exercise-start");
    let f = handed_out(&tmp);
    expect_code(&scalesim(&["validate", &f]), 0);
    let o = scalesim(&["run", &f, "--quiet", "--out", &tmp.s("report")]);
    expect_code(&o, 0);
    assert!(tmp.join("report/summary.md").exists());
    let o = scalesim(&["check", &f]);
    expect_code(&o, 1);
    let out = stdout(&o);
    assert!(out.contains("exercise shop-10k: NOT PASSED"), "{out}");
    assert!(out.contains("p(99) < 300ms missed"), "{out}");
    // One t3.small against ~15 vCPUs of demand: its CPU is full the whole measured time.
    assert!(
        out.contains(
            "feedback: web's CPU was saturated (≥ 95 % busy) for 12m00s of the 12m00s measured"
        ),
        "{out}"
    );
    assert!(out.contains("chapter 4"), "{out}");
    // The budget is not what failed: one small server is cheap.
    assert!(!out.contains("over budget"), "{out}");
}

#[test]
fn a_balanced_fleet_under_budget_passes_with_its_bill() {
    let o = scalesim(&["check", SOLVED]);
    expect_code(&o, 0);
    let out = stdout(&o);
    // Eleven c5.large around the clock plus the balancer's hour: (11 × 0.085 + 0.0225) × 730.
    let bill = (11.0 * 0.085 + 0.0225) * 730.0;
    assert!(
        out.contains(&format!(
            "exercise shop-10k: PASSED — every objective met, ${bill:.2}/month of the $800.00/month budget"
        )),
        "{out}"
    );
}

#[test]
fn a_huge_fleet_fails_over_budget_by_the_difference() {
    let o = scalesim(&["check", HUGE, "--format", "json"]);
    expect_code(&o, 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let g = &doc["scenarios"][0]["exercise"];
    assert_eq!(g["passed"], false);
    assert_eq!(g["graded"], true);
    let bill = (40.0 * 0.17 + 0.0225) * 730.0;
    let cost = g["cost_per_month"].as_f64().unwrap();
    assert!((cost - bill).abs() < 0.01, "{cost} vs {bill}");
    let reasons: Vec<&str> = g["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [format!(
            "over budget by ${:.2}: ${bill:.2}/month against the budget of $800.00/month",
            bill - 800.0
        )]
    );
    // It served everyone: only the bill is wrong, and the feedback says capacity sits idle.
    assert!(g["feedback"]
        .as_str()
        .unwrap()
        .contains("Nothing saturated"));
}

#[test]
fn a_fleet_too_small_fails_on_the_objectives_with_the_bottleneck() {
    let tmp = Tmp::new("exercise-small");
    let junit = tmp.s("grade.xml");
    let o = scalesim(&["check", SMALL, "--junit", &junit]);
    expect_code(&o, 1);
    let out = stdout(&o);
    assert!(out.contains("error_rate < 0.1% missed"), "{out}");
    assert!(out.contains("feedback: web's CPU was saturated"), "{out}");
    let x = fs::read_to_string(&junit).unwrap();
    // A case per objective, the budget and the fixed parts: three objectives fail.
    assert!(
        x.contains("<testsuites name=\"scalesim check\" tests=\"5\" failures=\"3\""),
        "{x}"
    );
    assert!(
        x.contains("name=\"budget: cost_per_month ≤ $800.00\""),
        "{x}"
    );
    assert!(
        x.contains(
            "name=\"exercise shop-10k: workload, objectives and budget as handed out\" time=\"0\"><system-out>"
        ),
        "{x}"
    );
    let o = scalesim(&["check", SMALL, "--format", "github"]);
    expect_code(&o, 1);
    assert!(
        stdout(&o).starts_with("::error title=exercise shop-10k not passed"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_changed_workload_is_refused_unrun_with_each_change_named() {
    let tmp = Tmp::new("exercise-tamper");
    let text = fs::read_to_string(super::common::root().join(SOLVED)).unwrap();
    let f = tmp.s("tampered.toml");
    fs::write(
        &f,
        text.replace("users = 10000 ", "users = 100 ")
            .replace("budget = \"$800/month\"", "budget = \"$8000/month\""),
    )
    .unwrap();
    let junit = tmp.s("grade.xml");
    let o = scalesim(&["check", &f, "--junit", &junit]);
    expect_code(&o, 1);
    let out = stdout(&o);
    assert!(out.contains("NOT GRADED"), "{out}");
    assert!(out.contains("workload.users: 10000 → 100"), "{out}");
    assert!(
        out.contains("exercise.budget: $800.00/month → $8000.00/month"),
        "{out}"
    );
    assert!(!out.contains("objectives met"), "it was run: {out}");
    let x = fs::read_to_string(&junit).unwrap();
    assert!(x.contains("tests=\"1\" failures=\"1\""), "{x}");
    assert!(x.contains("type=\"ExerciseChanged\""), "{x}");
    // --set and --seed change the file too.
    let o = scalesim(&["check", SOLVED, "--set", "workload.think_time.mean=\"80s\""]);
    expect_code(&o, 1);
    assert!(
        stdout(&o).contains("workload.think_time.mean: 8s → 80s"),
        "{}",
        stdout(&o)
    );
    let o = scalesim(&["check", SOLVED, "--seed", "7"]);
    expect_code(&o, 1);
    assert!(
        stdout(&o).contains("scenario.seed: 42 → 7"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn an_exercise_of_ones_own_is_graded_against_its_handout() {
    let tmp = Tmp::new("exercise-own");
    let text = fs::read_to_string(super::common::root().join(SMALL)).unwrap();
    let own = text.replace("name = \"shop-10k\"", "name = \"my-course-1\"");
    let handout = tmp.s("handout.toml");
    fs::write(&handout, &own).unwrap();
    // Without the handout there is nothing to compare with: bad input, and the help says so.
    let o = scalesim(&["check", &handout]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("--handout"), "{}", stderr(&o));
    let student = tmp.s("student.toml");
    fs::write(
        &student,
        own.replace("min = 3\nmax = 3", "min = 11\nmax = 11"),
    )
    .unwrap();
    let o = scalesim(&["check", &student, "--handout", &handout]);
    expect_code(&o, 0);
    assert!(
        stdout(&o).contains("exercise my-course-1: PASSED"),
        "{}",
        stdout(&o)
    );
    fs::write(&student, own.replace("mean = \"10ms\"", "mean = \"5ms\"")).unwrap();
    let o = scalesim(&["check", &student, "--handout", &handout]);
    expect_code(&o, 1);
    assert!(
        stdout(&o).contains("components.web.service"),
        "{}",
        stdout(&o)
    );
    // A --handout for a file that is no exercise is a mistake of the command.
    let o = scalesim(&[
        "check",
        "scenarios/validation/mm1.toml",
        "--handout",
        &handout,
    ]);
    expect_code(&o, 2);
}

#[test]
fn a_bad_exercise_table_is_a_located_error() {
    let tmp = Tmp::new("exercise-bad");
    let text = fs::read_to_string(super::common::root().join(SOLVED)).unwrap();
    for (from, to, want) in [
        (
            "budget = \"$800/month\"",
            "budget = \"800\"",
            "exercise.budget",
        ),
        (
            "budget = \"$800/month\"",
            "budget = \"$0/month\"",
            "more than $0",
        ),
        ("name = \"shop-10k\"", "name = \" \"", "can't be empty"),
        (
            "name = \"shop-10k\"",
            "name = \"shop-10k\"\nlevel = 2",
            "unknown key `level`",
        ),
    ] {
        let f = tmp.s("bad.toml");
        fs::write(&f, text.replace(from, to)).unwrap();
        let o = scalesim(&["validate", &f]);
        assert_eq!(code(&o), 2, "{to}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("bad.toml:"), "{to}: not located: {err}");
        assert!(err.contains(want), "{to}: {err}");
    }
}
