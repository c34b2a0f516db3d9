//! The real `scalesim` binary: exit codes (0 ok, 1 failed check, 2 bad input or usage), what it
//! prints, and what it writes.

use super::common::{code, expect_code, listing, root, scalesim, stderr, stdout, Tmp};
use std::fs;
use std::path::Path;
use std::process::Output;

const CH1: &str = "scenarios/01-single-server.toml";
const CH3: &str = "scenarios/03-vertical-scaling.toml";
/// Shortens a run where its content doesn't matter.
const SHORT: &str = "scenario.duration=5m";

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/bad")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Chapter 1, shortened, quietly, into `out`.
fn run_ch1_short(out: &str) -> Output {
    scalesim(&["run", CH1, "--set", SHORT, "--out", out, "-q"])
}

/// Fails if any staging (`.partial-`) or backup (`.old-`) folder is left anywhere under `dir`.
#[track_caller]
fn assert_no_leftovers(dir: &Path) {
    for name in listing(dir) {
        assert!(
            !name.contains(".partial-") && !name.contains(".old-"),
            "leftover `{name}` in {}: {:?}",
            dir.display(),
            listing(dir)
        );
        let p = dir.join(&name);
        if p.is_dir() {
            assert_no_leftovers(&p);
        }
    }
}

fn results(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json is JSON")
}

// ---------------------------------------------------------------------------------------------
// run

#[test]
fn no_charts_writes_the_same_figures_without_a_chart() {
    let tmp = Tmp::new("no_charts_writes_the_same_figures");
    expect_code(&run_ch1_short(&tmp.s("full")), 0);
    let o = scalesim(&[
        "run",
        CH1,
        "--set",
        SHORT,
        "--out",
        &tmp.s("bare"),
        "-q",
        "--no-charts",
    ]);
    expect_code(&o, 0);
    let bare = listing(&tmp.join("bare"));
    assert_eq!(
        bare,
        [
            "index.html",
            "results.json",
            "summary.md",
            "timeseries.csv",
            "trace.json"
        ],
        "no PNG or SVG with --no-charts"
    );
    assert!(listing(&tmp.join("full"))
        .iter()
        .any(|f| f.ends_with(".png")));
    for f in ["results.json", "timeseries.csv", "summary.md"] {
        assert_eq!(
            fs::read(tmp.join("full").join(f)).unwrap(),
            fs::read(tmp.join("bare").join(f)).unwrap(),
            "{f} does not depend on --no-charts"
        );
    }
    let html = fs::read_to_string(tmp.join("bare/index.html")).unwrap();
    assert!(!html.contains("<img"), "the page shows no missing image");
}

#[test]
fn run_writes_the_report() {
    let tmp = Tmp::new("run_writes_the_report");
    let out = tmp.join("report");
    let o = scalesim(&["run", CH1, "--out", &tmp.s("report"), "--set", SHORT]);
    expect_code(&o, 0);
    let so = stdout(&o);
    assert!(
        so.contains("ch01-single-server"),
        "the header names the scenario:\n{so}"
    );
    assert!(so.contains("seed 42"), "the header shows the seed:\n{so}");
    assert!(
        so.contains("--set scenario.duration=5m"),
        "the header echoes --set:\n{so}"
    );
    assert!(so.contains("wrote"), "{so}");

    for f in ["results.json", "timeseries.csv", "summary.md"] {
        let p = out.join(f);
        assert!(p.is_file(), "{f} missing: {:?}", listing(&out));
        assert!(fs::metadata(&p).unwrap().len() > 0, "{f} is empty");
    }
    let r = results(&out);
    assert_eq!(r["scenario"]["name"], "ch01-single-server");
    assert_eq!(r["scenario"]["seed"], 42);
    assert_eq!(r["scenario"]["duration_s"], 300.0);
    assert!(r["requests"]["total"].as_u64().unwrap() > 0, "{r}");
    let csv = fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines.len() > 2, "a header and rows:\n{csv}");
    let cols = lines[0].split(',').count();
    assert!(
        lines.iter().all(|l| l.split(',').count() == cols),
        "every row has the header's {cols} columns"
    );
    assert!(!fs::read_to_string(out.join("summary.md"))
        .unwrap()
        .trim()
        .is_empty());
    assert_no_leftovers(&tmp.0);
}

#[test]
fn run_writes_png_and_svg_charts() {
    // The charts room (src/report/charts.rs) draws every chart twice, as PNG and as SVG.
    let tmp = Tmp::new("run_writes_png_and_svg_charts");
    let out = tmp.join("report");
    let o = scalesim(&["run", CH1, "--out", &tmp.s("report"), "--set", SHORT, "-q"]);
    expect_code(&o, 0);
    let files = listing(&out);
    assert!(
        files.iter().any(|f| f.ends_with(".png")),
        "no PNG chart in {files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with(".svg")),
        "no SVG chart in {files:?}"
    );
    for f in files
        .iter()
        .filter(|f| f.ends_with(".png") || f.ends_with(".svg"))
    {
        assert!(
            fs::metadata(out.join(f)).unwrap().len() > 100,
            "{f} is tiny"
        );
    }
}

#[test]
fn quiet_run_prints_nothing_on_stdout() {
    let tmp = Tmp::new("quiet_run_prints_nothing_on_stdout");
    let o = scalesim(&["run", CH1, "--out", &tmp.s("r"), "--set", SHORT, "--quiet"]);
    expect_code(&o, 0);
    assert_eq!(stdout(&o), "");
    assert!(tmp.join("r/results.json").is_file());
}

#[test]
fn run_embedded_chapter() {
    let tmp = Tmp::new("run_embedded_chapter");
    let o = scalesim(&[
        "run",
        "chapter:1",
        "--out",
        &tmp.s("r"),
        "--set",
        SHORT,
        "-q",
    ]);
    expect_code(&o, 0);
    let r = results(&tmp.join("r"));
    assert_eq!(r["scenario"]["source"], "chapter:1");
    assert_eq!(r["scenario"]["chapter"], 1);
}

#[test]
fn run_unknown_chapter_exits_2() {
    let tmp = Tmp::new("run_unknown_chapter_exits_2");
    let o = scalesim(&["run", "chapter:99", "--out", &tmp.s("r")]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("no embedded chapter 99"), "{e}");
    assert!(e.contains("embedded chapters: 1"), "{e}");
    assert!(!tmp.join("r").exists(), "nothing is written for bad input");
}

#[test]
fn run_missing_file_exits_2_with_help() {
    let o = scalesim(&["run", "scenarios/nope.toml"]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("scenarios/nope.toml"), "{e}");
    assert!(e.contains("cannot read"), "{e}");
    assert!(e.contains("help:"), "{e}");
}

#[test]
fn same_seed_gives_byte_identical_results_and_another_seed_differs() {
    let tmp = Tmp::new("same_seed_gives_byte_identical_results");
    let go = |name: &str, seed: &str| {
        let o = scalesim(&[
            "run",
            CH1,
            "--seed",
            seed,
            "--set",
            SHORT,
            "--out",
            &tmp.s(name),
            "-q",
        ]);
        expect_code(&o, 0);
        fs::read(tmp.join(name).join("results.json")).expect("results.json")
    };
    let a = go("a", "7");
    let b = go("b", "7");
    assert!(
        a == b,
        "two runs with --seed 7 wrote different results.json"
    );
    let csv_a = fs::read(tmp.join("a/timeseries.csv")).unwrap();
    let csv_b = fs::read(tmp.join("b/timeseries.csv")).unwrap();
    assert!(
        csv_a == csv_b,
        "two runs with --seed 7 wrote different timeseries.csv"
    );

    let c = go("c", "8");
    assert!(a != c, "--seed 8 wrote the same results.json as --seed 7");
    let (ra, rc) = (results(&tmp.join("a")), results(&tmp.join("c")));
    assert_eq!(ra["scenario"]["seed"], 7);
    assert_eq!(rc["scenario"]["seed"], 8);
    // Not just the echoed seed: the simulation itself differs.
    assert_ne!(ra["run"]["event_hash"], rc["run"]["event_hash"]);
}

#[test]
fn check_determinism_passes() {
    // Chapter 3 squeezed into 25 minutes: the spike, crashes, restarts and a resize all happen.
    let tmp = Tmp::new("check_determinism_passes");
    let o = scalesim(&[
        "run",
        CH3,
        "--check-determinism",
        "--set",
        "scenario.duration=25m",
        "--set",
        "components.web.resize[0].at=22m",
        "--out",
        &tmp.s("r"),
    ]);
    expect_code(&o, 0);
    assert!(
        stdout(&o).contains("determinism check passed"),
        "{}",
        stdout(&o)
    );
    assert!(tmp.join("r/results.json").is_file());
}

#[test]
fn set_changes_the_results() {
    let tmp = Tmp::new("set_changes_the_results");
    let o = run_ch1_short(&tmp.s("base"));
    expect_code(&o, 0);
    let o = scalesim(&[
        "run",
        CH1,
        "--set",
        SHORT,
        "--set",
        "workload.users=20",
        "--out",
        &tmp.s("more"),
        "-q",
    ]);
    expect_code(&o, 0);
    let (a, b) = (results(&tmp.join("base")), results(&tmp.join("more")));
    assert_eq!(b["scenario"]["config"]["workload"]["users"], 20);
    assert_eq!(
        b["scenario"]["overrides"],
        serde_json::json!([SHORT, "workload.users=20"])
    );
    let (na, nb) = (
        a["run"]["requests_started"].as_u64().unwrap(),
        b["run"]["requests_started"].as_u64().unwrap(),
    );
    // Twice the users, roughly twice the requests.
    assert!(
        nb as f64 > 1.5 * na as f64,
        "10 users: {na} requests, 20 users: {nb}"
    );
}

#[test]
fn bad_set_exits_2_and_writes_nothing() {
    let tmp = Tmp::new("bad_set_exits_2_and_writes_nothing");
    let cases: &[(&str, &[&str])] = &[
        ("workload.users", &["--set workload.users", "key=value"]),
        (
            "workload.usres=5",
            &["--set workload.usres=5", "did you mean `users`"],
        ),
        (
            "workload.mix[9].weight=1",
            &["--set workload.mix[9].weight=1", "out of range"],
        ),
        (
            "workload.users=0",
            &["--set workload.users=0", "at least 1"],
        ),
    ];
    for (set, wants) in cases {
        let o = scalesim(&["run", CH1, "--set", set, "--out", &tmp.s("r")]);
        expect_code(&o, 2);
        let e = stderr(&o);
        for w in *wants {
            assert!(e.contains(w), "--set {set}: `{w}` missing from:\n{e}");
        }
        assert!(!tmp.join("r").exists(), "--set {set}: a report was written");
        // validate says the same.
        let o = scalesim(&["validate", CH1, "--set", set]);
        expect_code(&o, 2);
    }
    assert_no_leftovers(&tmp.0);
}

#[test]
fn failed_write_exits_nonzero_and_leaves_no_partial_report() {
    let tmp = Tmp::new("failed_write_leaves_no_partial_report");
    fs::write(tmp.join("afile"), "not a folder\n").unwrap();
    for out in ["afile/report", "afile/deeper/report"] {
        let o = run_ch1_short(&tmp.s(out));
        assert_ne!(code(&o), 0, "--out {out}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("error:"), "{e}");
        assert!(e.contains("afile"), "the error names the path:\n{e}");
    }
    assert_eq!(listing(&tmp.0), vec!["afile".to_string()]);
    assert_eq!(
        fs::read_to_string(tmp.join("afile")).unwrap(),
        "not a folder\n"
    );
    assert_no_leftovers(&tmp.0);
}

#[test]
fn rerun_replaces_the_report_folder_cleanly() {
    let tmp = Tmp::new("rerun_replaces_the_report_folder_cleanly");
    let out = tmp.join("r");
    let o = run_ch1_short(&tmp.s("r"));
    expect_code(&o, 0);
    fs::write(out.join("stale.txt"), "from an old run").unwrap();
    let o = scalesim(&[
        "run",
        CH1,
        "--set",
        SHORT,
        "--seed",
        "3",
        "--out",
        &tmp.s("r"),
        "-q",
    ]);
    expect_code(&o, 0);
    assert!(
        !out.join("stale.txt").exists(),
        "the report folder is replaced as a whole"
    );
    assert_eq!(results(&out)["scenario"]["seed"], 3);
    assert_eq!(listing(&tmp.0), vec!["r".to_string()]);
    assert_no_leftovers(&tmp.0);
}

#[test]
fn out_pointing_at_a_regular_file_is_refused() {
    let tmp = Tmp::new("out_pointing_at_a_regular_file_is_refused");
    fs::write(tmp.join("notes.txt"), "precious\n").unwrap();
    let o = run_ch1_short(&tmp.s("notes.txt"));
    let after = fs::read_to_string(tmp.join("notes.txt"));
    let files = listing(&tmp.0);
    expect_code(&o, 2);
    assert_eq!(after.ok().as_deref(), Some("precious\n"));
    assert_eq!(files, vec!["notes.txt".to_string()]);
}

#[test]
fn out_pointing_at_a_non_report_folder_is_refused() {
    let tmp = Tmp::new("out_pointing_at_a_non_report_folder_is_refused");
    let dir = tmp.join("my-documents");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("thesis.tex"), "precious\n").unwrap();
    let o = run_ch1_short(&tmp.s("my-documents"));
    let kept = fs::read_to_string(dir.join("thesis.tex"));
    assert_ne!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(kept.ok().as_deref(), Some("precious\n"));
}

// ---------------------------------------------------------------------------------------------
// validate

#[test]
fn validate_good_files_exits_0() {
    let o = scalesim(&["validate", CH1, CH3, "chapter:1", "chapter:3"]);
    expect_code(&o, 0);
    let so = stdout(&o);
    for f in [CH1, CH3, "chapter:1", "chapter:3"] {
        assert!(so.contains(&format!("ok: {f}")), "{so}");
    }
    assert_eq!(stderr(&o), "");
}

#[test]
fn validate_bad_file_exits_2_with_the_location_on_stderr() {
    let cases = [
        ("syntax-error.toml", ":9:11", "TOML syntax error"),
        ("unknown-key.toml", ":8:1", "did you mean `workers`"),
        ("bad-target.toml", ":8:1", "did you mean \"web\""),
        ("empty.toml", "", "empty"),
        ("whitespace.toml", "", "empty"),
        ("binary.bin", "", "binary"),
        ("latin1.toml", "", "UTF-8"),
    ];
    for (name, place, what) in cases {
        let path = fixture(name);
        let o = scalesim(&["validate", &path]);
        expect_code(&o, 2);
        let e = stderr(&o);
        assert!(
            e.contains(&format!("{path}{place}")),
            "{name}: `{path}{place}` missing from:\n{e}"
        );
        assert!(e.contains(what), "{name}: `{what}` missing from:\n{e}");
        assert!(!stdout(&o).contains("ok:"), "{name}");
    }
}

#[test]
fn validate_reports_every_file_and_fails_if_any_is_bad() {
    let bad = fixture("unknown-key.toml");
    let o = scalesim(&["validate", CH1, &bad, CH3]);
    expect_code(&o, 2);
    let so = stdout(&o);
    assert!(so.contains(&format!("ok: {CH1}")), "{so}");
    assert!(
        so.contains(&format!("ok: {CH3}")),
        "the files after the bad one are checked:\n{so}"
    );
    assert!(stderr(&o).contains(&format!("{bad}:8:1")), "{}", stderr(&o));
}

#[test]
fn empty_file_help_names_a_real_command() {
    let o = scalesim(&["validate", &fixture("empty.toml")]);
    expect_code(&o, 2);
    let e = stderr(&o);
    if e.contains("scalesim new --chapter 1") {
        // The command the help suggests exists, and what it prints is a valid scenario.
        let o = scalesim(&["new", "--chapter", "1"]);
        expect_code(&o, 0);
        let tmp = Tmp::new("empty_file_help_names_a_real_command");
        fs::write(tmp.join("new.toml"), &o.stdout).unwrap();
        let o = scalesim(&["validate", &tmp.s("new.toml")]);
        expect_code(&o, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// usage

#[test]
fn usage_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["run"],
        &["validate"],
        &["run", CH1, "--seed"],
        &["run", CH1, "--seed", "minus-one"],
        &["run", CH1, "--no-such-flag"],
        &["journey", "--users", "0"],
        &["journey", "--users", "ten"],
    ];
    for args in cases {
        let o = scalesim(args);
        expect_code(&o, 2);
        assert!(!stderr(&o).is_empty(), "{args:?}: nothing on stderr");
    }
    let o = scalesim(&["frobnicate"]);
    assert!(stderr(&o).contains("frobnicate"), "{}", stderr(&o));
}

#[test]
fn help_and_version_exit_0() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["run", "--help"],
        &["help"],
    ] {
        let o = scalesim(args);
        expect_code(&o, 0);
        assert!(!stdout(&o).is_empty(), "{args:?}");
    }
    let o = scalesim(&["--version"]);
    assert!(stdout(&o).contains(env!("CARGO_PKG_VERSION")));
}

// ---------------------------------------------------------------------------------------------
// journey

#[test]
fn journey_output_does_not_depend_on_the_thread_count() {
    let tmp = Tmp::new("journey-jobs");
    let mut outputs = Vec::new();
    for jobs in ["1", "2", "3"] {
        let out = tmp.s(&format!("j{jobs}"));
        let o = scalesim(&[
            "journey", "--users", "10,100", "--jobs", jobs, "--quiet", "--out", &out,
        ]);
        expect_code(&o, 0);
        let read = |name: &str| fs::read(tmp.join(&format!("j{jobs}/{name}"))).expect(name);
        outputs.push((
            read("journey.json"),
            read("journey.csv"),
            read("journey_p99.svg"),
        ));
    }
    // Rows in chapter order, then users: every chapter × 2 levels + the header.
    let csv = String::from_utf8(outputs[0].1.clone()).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows.len(),
        2 * scalesim::scenario::embedded::CHAPTERS.len() + 1,
        "{csv}"
    );
    assert!(
        rows[1].starts_with("1,") && rows[1].contains(",10,"),
        "{csv}"
    );
    assert!(
        rows[10].starts_with("5,") && rows[10].contains(",100,"),
        "{csv}"
    );
    assert!(
        outputs.iter().all(|o| *o == outputs[0]),
        "journey output differs by --jobs"
    );
}

#[test]
fn ctrl_c_stops_a_run_and_leaves_a_complete_partial_report() {
    // A long run with no warm-up; SIGINT once the report folder's staging exists (the run is
    // under way). The run stops at its next look, writes everything it measured, marks it
    // partial and exits 2.
    let dir = Tmp::new("ctrl-c");
    let out = dir.join("report");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args([
            "run",
            "chapter:5",
            "--set",
            "scenario.warmup=0s",
            "--set",
            "scenario.duration=24h",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .current_dir(root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let pid = child.id().to_string();
    let k = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(k.success());
    let o = child.wait_with_output().expect("wait");
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("interrupted (Ctrl-C)"), "{err}");
    assert!(err.contains("the partial report is in"), "{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["run"]["partial"], serde_json::json!(true));
    assert_eq!(r["run"]["stopped_early"]["why"], "interrupted (Ctrl-C)");
    let at = r["run"]["stopped_early"]["at_s"].as_f64().unwrap();
    assert!(at > 0.0 && at < 86_400.0, "{at}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("this report is partial"), "{md}");
    for f in ["timeseries.csv", "latency.png"] {
        assert!(out.join(f).exists(), "{f}");
    }
}
