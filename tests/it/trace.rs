//! Replaying traffic from a trace file (`workload.trace`): scripted arrivals through each rate
//! limiter algorithm, counted exactly as the algorithm defines them (figures derived by hand in
//! the comments); the loader's side (paths relative to the scenario, chapters refused, notes for
//! unsorted rows and rows past the end, bad rows located in the CSV, size limits); what a run
//! reports (`scenario.trace` in results.json) and what it is estimated to cost.

use super::common::{expect_code, root, scalesim, stderr, Tmp};
use scalesim::model::request::Outcome;
use scalesim::run::RunOutput;
use scalesim::scenario::{self, Scenario};
use std::fs;

/// A scenario of one rate limiter (`limiter`: its algorithm's keys) in front of a server that
/// answers in 1 ms, driven by `trace.csv` alone (`users = 0`), through a network without delay
/// or jitter: a row's time is the moment the limiter decides. One class, `api` (path `/api`).
fn limited(limiter: &str) -> String {
    format!(
        r#"[scenario]
name = "scripted"
duration = "6s"
window = "100ms"
seed = 1

[workload]
users = 0
trace = "trace.csv"
target = "limit"
mix = [{{ name = "api", path = "/api", weight = 1 }}]

[network]
client_rtt = "0s"
internal_rtt = "0s"
jitter = 0

[components.limit]
kind = "rate_limiter"
target = "app"
{limiter}

[components.app]
kind = "server"
instance = "c5.large"
workers = 64
service = {{ dist = "deterministic", value = "1ms" }}
"#
    )
}

/// Writes `scenario.toml` and `trace.csv` into a fresh folder and loads the scenario.
fn load(tmp: &Tmp, toml: &str, csv: &str) -> Result<Scenario, scenario::error::LoadError> {
    fs::write(tmp.join("scenario.toml"), toml).unwrap();
    fs::write(tmp.join("trace.csv"), csv).unwrap();
    scenario::load(&tmp.s("scenario.toml"), &[])
}

fn run(scn: &Scenario) -> RunOutput {
    let out = scalesim::run::run(scn, &mut |_| {});
    assert_eq!(
        out.metrics.started,
        out.metrics.ended + out.open_at_end,
        "every request ends in one outcome"
    );
    out
}

/// (served, throttled) over the run.
fn served_throttled(out: &RunOutput) -> (u64, u64) {
    let t = out.metrics.outcome_totals();
    let other: u64 = t.iter().sum::<u64>() - t[Outcome::Ok.index()] - t[Outcome::Throttled.index()];
    assert_eq!(other, 0, "nothing fails but by the limiter: {t:?}");
    (t[Outcome::Ok.index()], t[Outcome::Throttled.index()])
}

/// Requests served in the time-series window starting at `ms` (a window holds what ended in
/// (start, end]: an admitted request ends 1 ms after its row, inside the window the row opens; a
/// throttled one at the row's instant, which for a row on a window boundary is the window before).
fn window_at(out: &RunOutput, ms: u64) -> u64 {
    let w = out
        .metrics
        .series
        .iter()
        .find(|w| w.start == ms * 1_000_000)
        .unwrap_or_else(|| panic!("no window at {ms} ms"));
    w.outcomes[Outcome::Ok.index()]
}

/// One client, `alice`, in bunches around the one-second window boundaries; then `bob`, alone.
const BOUNDARY: &str = "time,class,key
0.9,api,alice
0.9,api,alice
0.9,api,alice
0.9,api,alice
1.0,api,alice
1.0,api,alice
1.0,api,alice
1.0,api,alice
1.5,api,alice
1.5,api,alice
2.999999999,api,alice
3,api,alice
3,api,alice
3,api,alice
4,api,bob
4,api,bob
4,api,bob
";

#[test]
fn a_fixed_window_admits_its_limit_per_window_so_twice_the_limit_across_a_boundary() {
    // limit 3 per window [k s, k+1 s), counted for each client apart:
    //   0.9 s × 4          window 0: 3 admitted, 1 throttled
    //   1.0 s × 4          window 1 opens exactly at 1 s: 3 admitted, 1 throttled
    //                      → 6 of alice's requests admitted within 0.1 s: twice the limit
    //   1.5 s × 2          window 1 is spent: 2 throttled
    //   2.999999999 s × 1  window 2: 1 admitted
    //   3.0 s × 3          window 3, a nanosecond later: 3 admitted (4 within 1 ns)
    //   bob 4.0 s × 3      his own count: 3 admitted
    // alice 10 admitted, 4 throttled; bob 3 admitted: 13 served, 4 throttled (429), 17 rows.
    let tmp = Tmp::new("trace-fixed-window");
    let scn = load(
        &tmp,
        &limited("algorithm = \"fixed_window\"\nlimit = 3\nwindow = \"1s\""),
        BOUNDARY,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scn.client.users, 0, "a workload that is only a trace");
    let out = run(&scn);
    assert_eq!(served_throttled(&out), (13, 4));
    assert_eq!(out.trace_replayed, 17);
    // The boundary burst in the time series (windows of 100 ms): 3 served from the window that
    // starts at 0.9 s, 3 more from the next one.
    assert_eq!(window_at(&out, 900), 3);
    assert_eq!(window_at(&out, 1000), 3);
    assert_eq!(window_at(&out, 1500), 0);
    // The limiter's own counts agree (all from the users' population: no bots here).
    let card = &out
        .cards
        .iter()
        .find(|(k, _)| *k == "rate_limiter")
        .unwrap()
        .1;
    let field = |name: &str| {
        card.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, f)| format!("{f:?}"))
            .unwrap()
    };
    assert_eq!(field("requests"), "Count(17)");
    assert_eq!(field("throttled_429"), "Count(4)");
    assert_eq!(field("users_throttled"), "Count(4)");
}

#[test]
fn a_sliding_log_on_the_same_trace_never_admits_more_than_its_limit_in_any_second() {
    // limit 3 in any (now − 1 s, now], each client apart:
    //   0.9 s × 4          3 admitted (logged at 0.9), 1 throttled
    //   1.0 s × 4          (0.0, 1.0] holds the three at 0.9: 4 throttled — no boundary burst
    //   1.5 s × 2          (0.5, 1.5] still holds them: 2 throttled
    //   2.999999999 s × 1  the three left at 1.9 s: 1 admitted
    //   3.0 s × 3          (2.0, 3.0] holds 2.999999999: 2 admitted, 1 throttled
    //   bob 4.0 s × 3      3 admitted
    // alice 6 admitted, 8 throttled; bob 3: 9 served, 8 throttled.
    let tmp = Tmp::new("trace-sliding-log");
    let scn = load(
        &tmp,
        &limited("algorithm = \"sliding_log\"\nlimit = 3\nwindow = \"1s\""),
        BOUNDARY,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = run(&scn);
    assert_eq!(served_throttled(&out), (9, 8));
    assert_eq!(window_at(&out, 900), 3);
    assert_eq!(window_at(&out, 1000), 0);
}

#[test]
fn a_token_bucket_admits_its_burst_then_its_rate_exactly_at_each_refill() {
    // rate 2/s (a token every 500 ms), burst 3, the bucket full at 0; paths matched to `api`:
    //   0.0 s × 5   the burst: 3 admitted, 2 throttled (bucket empty)
    //   0.5 s × 2   one token back at exactly 500 ms: 1 admitted, 1 throttled
    //   1.0, 1.5, 2.0 s   one token each time, exactly when it is back: 3 admitted
    //   2.25 s      half a token: throttled
    //   2.5 s       the other half: 1 admitted (2.25 s's refusal took nothing)
    //   5.0 s × 4   2.5 s idle refills 5 tokens, capped at the burst of 3: 3 admitted, 1 throttled
    // 11 served, 5 throttled, 16 rows.
    let csv = "time,path,key\n".to_string()
        + &"0,/api,alice\n".repeat(5)
        + &"0.5,/api/v2,alice\n".repeat(2)
        + "1,/api,alice\n1.5,/api,alice\n2,/api?x=1,alice\n2.25,/api,alice\n2.5,/api,alice\n"
        + &"5,/api,alice\n".repeat(4);
    let tmp = Tmp::new("trace-token-bucket");
    let scn = load(
        &tmp,
        &limited("algorithm = \"token_bucket\"\nrate = \"2/s\"\nburst = 3"),
        &csv,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = run(&scn);
    assert_eq!(served_throttled(&out), (11, 5));
    let served: Vec<u64> = [0, 500, 1000, 1500, 2000, 2200, 2500, 5000]
        .map(|ms| window_at(&out, ms))
        .to_vec();
    assert_eq!(served, [3, 1, 1, 1, 1, 0, 1, 3]);
}

#[test]
fn start_and_speed_place_the_rows_and_rows_past_the_end_are_left_out_with_a_note() {
    // start 1 s, speed 2: trace time t is replayed at 1 + t / 2 s. Rows at 0, 1, 9, 10 and 12 s
    // → 1, 1.5, 5.5, 6 and 7 s; the run is 6 s long, so the last two are left out.
    let tmp = Tmp::new("trace-start-speed");
    let toml = limited("algorithm = \"fixed_window\"\nlimit = 100\nwindow = \"1s\"").replace(
        "trace = \"trace.csv\"",
        "trace = { file = \"trace.csv\", start = \"1s\", speed = 2.0 }",
    );
    let scn = load(
        &tmp,
        &toml,
        "time,class,key\n0,api,a\n1,api,a\n9,api,b\n10,api,b\n12,api,c\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let t = scn.client.trace.as_ref().expect("a trace");
    let at: Vec<u64> = t.rows.iter().map(|r| r.at / 1_000_000).collect();
    assert_eq!(at, [1000, 1500, 5500]);
    assert_eq!((t.total, t.ignored, t.clients), (5, 2, 3));
    assert_eq!(scn.notes.len(), 1, "{:?}", scn.notes);
    assert!(
        scn.notes[0].ends_with(
            "trace.csv: 2 of its 5 rows fall at or after the end of the run (6s) and are not replayed"
        ),
        "{}",
        scn.notes[0]
    );
    let out = run(&scn);
    assert_eq!((out.trace_replayed, out.metrics.started), (3, 3));
    // results.json says so under `scenario.trace`.
    let doc = scalesim::report::results::results_json(&scn, &out);
    assert_eq!(
        doc["scenario"]["trace"],
        serde_json::json!({"file": "trace.csv", "rows": 5, "rows_replayed": 3, "rows_ignored": 2, "clients": 3})
    );
    assert_eq!(
        doc["scenario"]["config"]["workload"]["trace"],
        serde_json::json!({"file": "trace.csv", "start": "1s", "speed": 2.0})
    );
}

#[test]
fn unsorted_rows_are_replayed_in_time_order_with_a_note() {
    // 2.0 before 1.0 and 0.5: two rows earlier than one above them, sorted stably.
    let tmp = Tmp::new("trace-unsorted");
    let scn = load(
        &tmp,
        &limited("algorithm = \"fixed_window\"\nlimit = 100\nwindow = \"1s\""),
        "time,class,key\n2.0,api,a\n1.0,api,b\n0.5,api,c\n1.0,api,d\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let t = scn.client.trace.as_ref().unwrap();
    let at: Vec<u64> = t.rows.iter().map(|r| r.at / 1_000_000).collect();
    assert_eq!(at, [500, 1000, 1000, 2000]);
    assert_eq!(scn.notes.len(), 1);
    assert!(
        scn.notes[0].contains("3 of its 4 rows came earlier than a row above them"),
        "{}",
        scn.notes[0]
    );
    // On the command line the note goes to stderr, and the run goes ahead.
    let o = scalesim(&[
        "run",
        &tmp.s("scenario.toml"),
        "--quiet",
        "--out",
        &tmp.s("out"),
    ]);
    expect_code(&o, 0);
    let err = stderr(&o);
    assert!(
        err.contains("note: ") && err.contains("rows came earlier than a row above them"),
        "{err}"
    );
}

#[test]
fn bad_rows_are_located_in_the_trace_by_line_column_and_column_name() {
    let tmp = Tmp::new("trace-bad-rows");
    let e = load(
        &tmp,
        &limited("algorithm = \"fixed_window\"\nlimit = 3\nwindow = \"1s\""),
        "time,path,key\n0.5,/api,a\nlater,/api,a\n1,/static/x.css,a\n1,/api,a,extra\n",
    )
    .unwrap_err();
    let csv = tmp.s("trace.csv");
    let got: Vec<String> = e.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(got.len(), 3, "{e}");
    assert!(
        got[0].starts_with(&format!(
            "error: {csv}:3:1: `time`: expected the time in seconds"
        )),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with(&format!(
            "error: {csv}:4:3: `path`: no class's path is a prefix of \"/static/x.css\""
        )),
        "{}",
        got[1]
    );
    assert!(
        got[2].starts_with(&format!(
            "error: {csv}:5:10: too many fields: the header names 3 columns (time, path, key), \
             this row has 4"
        )),
        "{}",
        got[2]
    );
    // With the line and a caret under the column.
    assert!(got[1].contains(" 4 | 1,/static/x.css,a\n"), "{}", got[1]);
    // Hundreds of bad rows: 50 problems reported, the last counting the rest.
    let many = "time,class,key\n".to_string() + &"x,api,a\n".repeat(300);
    let e = load(
        &tmp,
        &limited("algorithm = \"fixed_window\"\nlimit = 3\nwindow = \"1s\""),
        &many,
    )
    .unwrap_err();
    assert_eq!(e.diagnostics.len(), 50);
    assert_eq!(
        e.diagnostics[49].message,
        "… and 251 more problems in this trace (the first 49 are shown; fix them and run again)"
    );
}

#[test]
fn the_trace_is_found_beside_the_scenario_and_refused_for_an_embedded_chapter() {
    // Relative to the scenario file's folder, not to where scalesim runs.
    let tmp = Tmp::new("trace-relative");
    fs::create_dir_all(tmp.join("sub/traces")).unwrap();
    let toml = limited("algorithm = \"fixed_window\"\nlimit = 3\nwindow = \"1s\"")
        .replace("\"trace.csv\"", "\"traces/t.csv\"");
    fs::write(tmp.join("sub/s.toml"), &toml).unwrap();
    fs::write(tmp.join("sub/traces/t.csv"), "time,class,key\n0,api,a\n").unwrap();
    let scn = scenario::load(&tmp.s("sub/s.toml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scn.client.trace.as_ref().unwrap().rows.len(), 1);
    // A missing file is reported at `workload.trace`, naming the path it looked for.
    fs::remove_file(tmp.join("sub/traces/t.csv")).unwrap();
    let e = scenario::load(&tmp.s("sub/s.toml"), &[]).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("workload.trace"), "{e}");
    assert!(d.location.is_some());
    assert!(
        d.message.starts_with(&format!(
            "cannot read the trace {}",
            tmp.join("sub").join("traces/t.csv").display()
        )),
        "{e}"
    );
    // An embedded chapter has no folder: a trace there is an error, located at the key.
    let chapter = scenario::embedded::chapter(1).unwrap().text;
    let text = chapter.replace("[workload]\n", "[workload]\ntrace = \"traces/x.csv\"\n");
    assert_ne!(text, chapter, "test bug: no [workload] in chapter 1");
    let e = scenario::parse("chapter:1", &text, &[]).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("workload.trace"), "{e}");
    assert!(
        d.message
            .contains("an embedded chapter (chapter:1) has no folder"),
        "{e}"
    );
    let o = scalesim(&["validate", "chapter:1", "--set", "workload.trace=\"x.csv\""]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("has no folder"), "{}", stderr(&o));
}

#[test]
fn traffic_is_users_an_arrival_rate_bots_or_a_trace() {
    let tmp = Tmp::new("trace-traffic");
    let base = limited("algorithm = \"fixed_window\"\nlimit = 3\nwindow = \"1s\"");
    let csv = "time,class,key\n0,api,a\n";
    // A trace alone, with `users = 0` or without `users`.
    load(&tmp, &base, csv).unwrap_or_else(|e| panic!("{e}"));
    load(&tmp, &base.replace("users = 0\n", ""), csv).unwrap_or_else(|e| panic!("{e}"));
    // On top of users.
    let scn = load(
        &tmp,
        &base.replace(
            "users = 0\n",
            "users = 5\nthink_time = { dist = \"exponential\", mean = \"1s\" }\n",
        ),
        csv,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scn.client.users, 5);
    // Neither: a located error naming every way to give traffic.
    let none = base.replace("users = 0\ntrace = \"trace.csv\"\n", "");
    let e = load(&tmp, &none, csv).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("workload"));
    assert!(d.location.is_some());
    assert_eq!(
        d.message,
        "no traffic: give `users` (closed loop), `arrival_rate` (open loop), `bots` or a `trace`"
    );
    // users = 0 without a trace is still refused.
    let e = load(&tmp, &base.replace("trace = \"trace.csv\"\n", ""), csv).unwrap_err();
    assert_eq!(e.diagnostics[0].message, "users must be at least 1");
    assert_eq!(e.diagnostics[0].key_path.as_deref(), Some("workload.users"));
}

#[test]
fn the_speed_must_be_positive_and_the_table_takes_only_its_keys() {
    let tmp = Tmp::new("trace-speed");
    let base = limited("algorithm = \"fixed_window\"\nlimit = 3\nwindow = \"1s\"");
    let csv = "time,class,key\n0,api,a\n";
    for bad in ["0.0", "-1.0", "nan", "inf"] {
        let toml = base.replace(
            "trace = \"trace.csv\"",
            &format!("trace = {{ file = \"trace.csv\", speed = {bad} }}"),
        );
        let e = load(&tmp, &toml, csv).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(
            d.key_path.as_deref(),
            Some("workload.trace.speed"),
            "{bad}: {e}"
        );
        assert!(
            d.message.starts_with("the speed must be a positive number"),
            "{e}"
        );
    }
    let toml = base.replace(
        "trace = \"trace.csv\"",
        "trace = { file = \"trace.csv\", sped = 2.0 }",
    );
    let e = load(&tmp, &toml, csv).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("workload.trace.sped"), "{e}");
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean `speed`?"),
        "{e}"
    );
    let e = load(
        &tmp,
        &base.replace("trace = \"trace.csv\"", "trace = 5"),
        csv,
    )
    .unwrap_err();
    assert!(
        e.diagnostics[0]
            .message
            .starts_with("expected a trace file such as"),
        "{e}"
    );
}

#[test]
fn a_trace_past_the_size_limit_is_refused_before_it_is_read() {
    // A sparse file of 300 MiB: refused from its size alone, at once, naming the limit.
    let tmp = Tmp::new("trace-size");
    fs::write(
        tmp.join("scenario.toml"),
        limited("algorithm = \"fixed_window\"\nlimit = 3\nwindow = \"1s\""),
    )
    .unwrap();
    let f = fs::File::create(tmp.join("trace.csv")).unwrap();
    f.set_len(300 << 20).unwrap();
    let started = std::time::Instant::now();
    let e = scenario::load(&tmp.s("scenario.toml"), &[]).unwrap_err();
    assert!(started.elapsed().as_secs() < 5, "it read the file");
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("workload.trace"));
    assert!(
        d.message
            .ends_with("is 300 MiB; a trace file may be at most 256 MiB"),
        "{e}"
    );
    assert_eq!(scenario::trace::MAX_TRACE_BYTES, 256 << 20);
    assert_eq!(scenario::trace::MAX_TRACE_ROWS, 10_000_000);
}

#[test]
fn the_example_replays_a_login_attack_and_the_per_client_limit_stops_it() {
    // scenarios/traces/trace-replay.toml: 592 rows, 450 of them the attack (three addresses × 150
    // logins in 30 s). The login limit (10 per client per sliding minute) lets each address
    // through about 10 times; the thirty customers log in once each, and 100 synthetic shoppers
    // log in now and then (5 % of clicks every 5 s: once in 100 s on average) — neither comes near
    // the limit. So nearly all of the 429s are the attack's: between 400 and 450.
    let scn =
        scenario::load("scenarios/traces/trace-replay.toml", &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(scn.notes.is_empty(), "{:?}", scn.notes);
    let t = scn.client.trace.as_ref().unwrap();
    assert_eq!((t.total, t.ignored, t.clients), (592, 0, 33));
    let est = scalesim::budget::estimate(&scn);
    assert!(
        est.events.iter().any(|p| p.keys == ["workload.trace"]),
        "the estimate counts the trace's rows: {:?}",
        est.events
    );
    assert!(est
        .memory
        .iter()
        .any(|p| p.what == "592 trace rows held × 16 B"));
    let out = run(&scn);
    assert_eq!(out.trace_replayed, 592);
    let ratio = est.total_events() / out.events as f64;
    assert!(
        (0.7..=3.0).contains(&ratio),
        "estimated {:.0} events, ran {} ({ratio:.2}×)",
        est.total_events(),
        out.events
    );
    let doc = scalesim::report::results::results_json(&scn, &out);
    let limit = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "login_limit")
        .unwrap();
    let throttled = limit["throttled_429"].as_u64().unwrap();
    assert!((400..=450).contains(&throttled), "{limit}");
    assert_eq!(doc["scenario"]["trace"]["rows_replayed"], 592);
    // Without a trace, results.json has no `scenario.trace` (existing results keep their bytes).
    let ch1 = scenario::load("chapter:1", &[]).unwrap();
    let short = scalesim::fuzzing::shorten(&ch1, &scalesim::fuzzing::Limits::SHORT).unwrap();
    let doc = scalesim::report::results::results_json(&short, &run(&short));
    assert!(doc["scenario"].get("trace").is_none());
    assert!(doc["scenario"]["config"]["workload"].get("trace").is_none());
    // The example's files exist where the scenario says.
    assert!(root().join("scenarios/traces/login-burst.csv").is_file());
}
