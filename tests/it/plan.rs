//! The capacity planner (`scalesim plan`).
//!
//! - on chapter 5 at 5,000 users (faults removed, four simulated minutes a run), with two
//!   instance types and a fleet of 1 to 12, the pruned search chooses exactly the configuration
//!   the exhaustive grid chooses — through the same evaluation (every configuration on the same
//!   seeds, so a configuration both tried gives the same numbers) — with fewer runs; the answer
//!   is not trivial (neither type's smallest or largest fleet), and `--jobs 1` and `--jobs 2`
//!   write the same bytes;
//! - an objective nothing can meet exits 1 and names it, with the closest configuration;
//! - a bad `--vary`, `--slo` or `--users` is refused (exit 2) with the flag and value named.

use crate::common::{expect_code, files, scalesim, stderr, stdout, Tmp};
use scalesim::budget::Limits;
use scalesim::plan::{self, Outcome, SearchOptions};

const SETS: [&str; 4] = [
    "scenario.duration=4m",
    "scenario.warmup=1m",
    "faults=[]",
    "components.web.max=12",
];

#[test]
fn the_pruned_search_finds_the_grids_cheapest_with_fewer_runs() {
    let sets: Vec<String> = SETS.iter().map(|s| s.to_string()).collect();
    let slos = ["p(99) < 300ms".to_string(), "error_rate < 0.1%".to_string()];
    let vary = [
        "components.web.instance=c5.large,c5.xlarge".to_string(),
        "components.web.min=1..12".to_string(),
    ];
    let req = plan::Request {
        source: "chapter:5",
        variant: None,
        seed: None,
        sets: &sets,
        users: Some(5000),
        slos: &slos,
        vary: &vary,
        replications: 3,
    };
    let (p, ask) = plan::load(&req).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((p.def.points(), p.def.runs()), (24, 72));
    let opts = |exhaustive, jobs| SearchOptions {
        exhaustive,
        limits: Limits::NONE,
        jobs: Some(jobs),
        bar: None,
    };
    let grid = plan::search(&p, &opts(true, 2)).unwrap_or_else(|e| panic!("{e}"));
    let pruned = plan::search(&p, &opts(false, 2)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        grid.evaluations.len(),
        24,
        "the grid runs every configuration"
    );
    let g = &grid.evaluations[grid.best.expect("the grid has a passing configuration")];
    let q = &pruned.evaluations[pruned.best.expect("the search finds one")];
    assert_eq!(
        q.point, g.point,
        "the same cheapest configuration as the grid"
    );
    assert!(
        pruned.runs(3) < grid.runs(3),
        "{} runs pruned against {} for the grid",
        pruned.runs(3),
        grid.runs(3)
    );
    // The same evaluation: a configuration both tried gives the same numbers.
    for e in &pruned.evaluations {
        let f = grid
            .evaluations
            .iter()
            .find(|f| f.point == e.point)
            .expect("in the grid");
        assert_eq!((e.cost, e.p99, e.feasible), (f.cost, f.p99, f.feasible));
    }
    // Not trivial: neither end of its combination, and both verdicts occur in the grid.
    for c in &grid.combinations {
        if let Outcome::Cheapest(at) = c.outcome {
            if at == g.point {
                assert!(
                    at != c.points[0] && at != *c.points.last().expect("points"),
                    "the answer is inside its combination's range"
                );
            }
        }
    }
    assert!(grid.evaluations.iter().any(|e| !e.feasible));
    // Bisection over capacity is monotone here: no warnings.
    assert!(pruned.notes.is_empty(), "{:?}", pruned.notes);
    // --jobs changes no byte.
    let tmp = Tmp::new("plan-jobs");
    let one = plan::search(&p, &opts(false, 1)).unwrap_or_else(|e| panic!("{e}"));
    plan::report::write_plan(&tmp.join("one"), &p.def, &ask, &one).expect("write");
    plan::report::write_plan(&tmp.join("two"), &p.def, &ask, &pruned).expect("write");
    let (a, b) = (files(&tmp.join("one")), files(&tmp.join("two")));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        [
            "plan.json",
            "plan.md",
            "plan_frontier.png",
            "plan_frontier.svg"
        ]
    );
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between --jobs 1 and 2");
    }
    let md = String::from_utf8(a["plan.md"].clone()).expect("utf-8");
    assert!(md.contains("runs against a grid of 72"), "{md}");
    let json: serde_json::Value = serde_json::from_slice(&a["plan.json"]).expect("json");
    assert_eq!(
        json["chosen"]["configuration"],
        scalesim::sweep::point_label(&p.def, g.point)
    );
}

#[test]
fn nothing_passing_exits_1_naming_the_objective_and_the_closest() {
    let tmp = Tmp::new("plan-infeasible");
    let mut args = vec![
        "plan",
        "chapter:5",
        "--users",
        "500",
        "--slo",
        "p(99) < 1ms",
        "--slo",
        "error_rate < 1%",
        "--vary",
        "components.web.min=1..3",
        "--replications",
        "2",
        "--out",
    ];
    let out = tmp.s("out");
    args.push(&out);
    for s in ["scenario.duration=1m", "scenario.warmup=10s", "faults=[]"] {
        args.extend(["--set", s]);
    }
    let o = scalesim(&args);
    expect_code(&o, 1);
    let text = stdout(&o);
    assert!(
        text.contains("no configuration meets every objective: `p(99) < 1ms` fails at every configuration tried"),
        "{text}"
    );
    assert!(
        text.contains("The closest is components.web.min="),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(tmp.join("out").join("plan.json")).expect("plan.json"),
    )
    .expect("json");
    assert_eq!(json["chosen"], serde_json::Value::Null);
    assert_eq!(
        json["failing_everywhere"],
        serde_json::json!(["p(99) < 1ms"])
    );
}

#[test]
fn bad_vary_slo_and_users_are_located() {
    let tmp = Tmp::new("plan-bad");
    let out = tmp.s("out");
    let run = |extra: &[&str]| {
        let mut args = vec!["plan", "chapter:5", "--out", &out];
        args.extend_from_slice(extra);
        let o = scalesim(&args);
        expect_code(&o, 2);
        stderr(&o)
    };
    let e = run(&["--vary", "components.web.mni=1,2"]);
    assert!(e.contains("--vary components.web.mni=1"), "{e}");
    assert!(e.contains("did you mean `min`?"), "{e}");
    let e = run(&["--vary", "components.web.min=5..1"]);
    assert!(
        e.contains("--vary components.web.min=5..1") && e.contains("must go up"),
        "{e}"
    );
    let e = run(&["--vary", "components.web.min"]);
    assert!(e.contains("is not key=values"), "{e}");
    let e = run(&[
        "--vary",
        "components.web.min=1,2",
        "--slo",
        "p(99) <> 300ms",
    ]);
    assert!(e.contains("error: --slo p(99) <> 300ms:"), "{e}");
    let e = run(&[
        "--vary",
        "components.web.min=1,2",
        "--slo",
        "bu: p(95) < 1s",
    ]);
    assert!(
        e.contains("--slo bu: p(95) < 1s: `slo.objectives[0]`"),
        "{e}"
    );
    assert!(e.contains("did you mean \"buy\"?"), "{e}");
    let e = run(&["--vary", "components.web.min=1,2", "--users", "0"]);
    assert!(e.contains("--users 0"), "{e}");
    assert!(!tmp.join("out").exists(), "nothing is written on bad input");
}
