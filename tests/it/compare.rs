//! `scalesim compare`: chapter 3 against chapter 4 under one workload (files, table, verdict),
//! variants of one file, --own-workloads, determinism across --jobs, atomic output, and bad
//! input (one architecture, an unknown chapter, an unroutable path, --variant with several files).

use crate::common::{code, expect_code, scalesim, stderr, stdout, Tmp};
use std::fs;

/// The chapters' own length is short enough in wall time (under a second each); a shorter run
/// would cut chapter 3's resize at 50 minutes, which the loader refuses.
const SHORT: &str = "scenario.seed=42";

fn compare(args: &[&str]) -> std::process::Output {
    let mut a = vec!["compare"];
    a.extend_from_slice(args);
    scalesim(&a)
}

#[test]
fn chapter_3_against_4_writes_charts_table_and_verdict() {
    let tmp = Tmp::new("compare-34");
    let out = tmp.s("c");
    let o = compare(&["chapter:3", "chapter:4", "--set", SHORT, "--out", &out]);
    expect_code(&o, 0);
    let text = stdout(&o);
    // The table on stdout, with a best column, and the verdict in words.
    assert!(text.contains("figure") && text.contains("best"), "{text}");
    assert!(
        text.contains("p99 latency") && text.contains("cost per month"),
        "{text}"
    );
    assert!(
        text.contains("chapter 4 (horizontal scaling) is better on p99 latency"),
        "{text}"
    );
    // The "because" comes from chapter 3's own run: its saturated tier.
    assert!(
        text.contains("because in chapter 3 (vertical scaling)"),
        "{text}"
    );
    assert!(text.contains("`web`'s CPU saturated"), "{text}");
    // Chapter 4 ran chapter 3's workload, and the output says so.
    assert!(stderr(&o).contains("chapter 4 (horizontal scaling) runs the workload of chapter 3"));
    assert!(text.contains("the same workload"), "{text}");
    for f in [
        "compare.json",
        "compare.md",
        "compare_latency.png",
        "compare_latency.svg",
        "compare_outcomes.png",
        "compare_outcomes.svg",
    ] {
        let p = tmp.join("c").join(f);
        assert!(
            fs::metadata(&p).map(|m| m.len() > 0).unwrap_or(false),
            "{f}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.join("c/compare.json")).unwrap()).unwrap();
    assert_eq!(json["kind"], "compare");
    assert_eq!(json["workload"]["shared"], true);
    let archs = json["architectures"].as_array().unwrap();
    assert_eq!(archs.len(), 2);
    for a in archs {
        let f = &a["figures"];
        for k in [
            "requests",
            "success_rate",
            "error_rate",
            "p50_ms",
            "p99_ms",
            "p999_ms",
            "mean_ms",
            "goodput_rps",
            "peak_instances",
            "cost_per_month_usd",
            "cost_per_million_ok_usd",
            "slo_met",
            "outcomes",
        ] {
            assert!(!f[k].is_null(), "{k} in {f}");
        }
        // The same workload: the same run length and seed.
        assert_eq!(a["duration_s"], 5400.0);
        assert_eq!(a["seed"], 42);
    }
    // Chapter 3 collapses in the spike, chapter 4 does not.
    let err = |i: usize| archs[i]["figures"]["error_rate"].as_f64().unwrap();
    assert!(err(0) > 0.05 && err(1) < 0.01, "{} {}", err(0), err(1));
    let md = fs::read_to_string(tmp.join("c/compare.md")).unwrap();
    for want in [
        "## Verdict",
        "## Headline figures",
        "| figure |",
        "## Reproduce",
        "About the same",
    ] {
        assert!(md.contains(want), "{want}\n{md}");
    }
    // The charts name both architectures (SVG text).
    let svg = fs::read_to_string(tmp.join("c/compare_latency.svg")).unwrap();
    assert!(svg.contains("chapter 3 (vertical scaling)") && svg.contains("chapter 4"));
    assert!(svg.contains("objective: p(99)"), "the SLO line is drawn");
}

#[test]
fn the_output_does_not_depend_on_jobs() {
    let tmp = Tmp::new("compare-jobs");
    let (a, b) = (tmp.s("j1"), tmp.s("j2"));
    for (dir, jobs) in [(&a, "1"), (&b, "2")] {
        let o = compare(&[
            "chapter:3",
            "chapter:4",
            "chapter:5",
            "--set",
            SHORT,
            "--jobs",
            jobs,
            "--out",
            dir,
            "-q",
        ]);
        expect_code(&o, 0);
        assert_eq!(stdout(&o), "", "--quiet prints nothing");
    }
    for f in [
        "compare.json",
        "compare.md",
        "compare_latency.svg",
        "compare_outcomes.svg",
        "compare_latency.png",
    ] {
        assert_eq!(
            fs::read(tmp.join("j1").join(f)).unwrap(),
            fs::read(tmp.join("j2").join(f)).unwrap(),
            "{f} differs between --jobs 1 and 2"
        );
    }
}

#[test]
fn variants_of_one_file_are_architectures() {
    let tmp = Tmp::new("compare-variants");
    let out = tmp.s("v");
    let o = compare(&[
        "scenarios/retry-storm.toml",
        "--variant",
        "budget",
        "--variant",
        "breaker",
        "--out",
        &out,
    ]);
    expect_code(&o, 0);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.join("v/compare.json")).unwrap()).unwrap();
    let labels: Vec<&str> = json["architectures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 2);
    assert!(
        labels[0].ends_with("variant budget") && labels[1].ends_with("variant breaker"),
        "{labels:?}"
    );
    // One variant alone is compared with the file as written.
    let out1 = tmp.s("v1");
    let o = compare(&[
        "scenarios/retry-storm.toml",
        "--variant",
        "shed",
        "--out",
        &out1,
        "-q",
    ]);
    expect_code(&o, 0);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.join("v1/compare.json")).unwrap()).unwrap();
    assert!(json["architectures"][0]["variant"].is_null());
    assert_eq!(json["architectures"][1]["variant"], "shed");
}

#[test]
fn own_workloads_say_the_workloads_differ() {
    let tmp = Tmp::new("compare-own");
    let out = tmp.s("o");
    let o = compare(&[
        "chapter:3",
        "chapter:4",
        "--own-workloads",
        "--set",
        SHORT,
        "--users",
        "200",
        "--out",
        &out,
    ]);
    expect_code(&o, 0);
    assert!(stdout(&o).contains("OWN workload"), "{}", stdout(&o));
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.join("o/compare.json")).unwrap()).unwrap();
    assert_eq!(json["workload"]["shared"], false);
    // --users applies to every architecture.
    for a in json["architectures"].as_array().unwrap() {
        assert_eq!(a["users"], 200);
    }
}

#[test]
fn bad_input_is_refused_with_exit_2_and_no_panic() {
    let tmp = Tmp::new("compare-bad");
    let out = tmp.s("x");
    let cases: [(&[&str], &str); 5] = [
        (&["chapter:3"], "compare needs at least two architectures, and got one (chapter:3)"),
        (&["chapter:3", "chapter:99"], "there is no embedded chapter 99"),
        (
            &["chapter:3", "tests/fixtures/compare/gateway-no-search.toml"],
            "sends class `search` to the path \"/search\", which the API gateway `gateway` of this architecture does not route",
        ),
        (
            &["chapter:3", "chapter:4", "--variant", "x"],
            "--variant compares one scenario's variants, but 2 scenarios were given",
        ),
        (&["chapter:3", "chapter:4", "--users", "0"], "--users needs a positive number"),
    ];
    for (args, want) in cases {
        let mut a = args.to_vec();
        a.extend(["--out", &out]);
        let o = compare(&a);
        assert_eq!(code(&o), 2, "{args:?}\n{}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
        assert!(!tmp.join("x").exists(), "nothing written for bad input");
    }
}

#[test]
fn the_report_folder_is_atomic_and_never_replaces_a_users_files() {
    let tmp = Tmp::new("compare-atomic");
    let mine = tmp.join("mine");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("notes.txt"), "mine").unwrap();
    let o = compare(&["chapter:1", "chapter:2", "--out", mine.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(fs::read_to_string(mine.join("notes.txt")).unwrap(), "mine");
    // An earlier comparison is replaced as a whole, leaving no staging folder behind.
    let out = tmp.s("r");
    for _ in 0..2 {
        let o = compare(&["chapter:1", "chapter:2", "--out", &out, "-q"]);
        expect_code(&o, 0);
    }
    let leftovers: Vec<_> = fs::read_dir(&tmp.0)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-") || n.contains(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(tmp.join("r/compare.json").exists());
}
