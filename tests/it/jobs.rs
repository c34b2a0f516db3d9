//! The scheduled job kind: run lengths as the throttle, the concurrency and the vCPUs imply
//! (deterministic costs, derived by hand), the schedule on the scenario's clock, overlapping
//! runs skipped or allowed, timeouts and retries, crashes, batches on the primary or a replica,
//! live latency split by whether a job ran, and bad input located for every key.

use scalesim::model::kit::{EventKind, Figure};
use scalesim::run::RunOutput;
use scalesim::scenario;

/// One user who asks the database once an hour (so the database is idle but for the job), and a
/// job `job` (its settings after `kind = "job"`). Network without jitter: 1 ms each way inside.
fn file(job: &str, extra: &str) -> String {
    format!(
        r#"[scenario]
name = "jobs"
duration = "10m"
seed = 3

[workload]
users = 1
think_time = {{ dist = "deterministic", value = "1h" }}
timeout = "60s"
target = "db"
{extra}

[network]
client_rtt = "20ms"
internal_rtt = "2ms"
jitter = 0

[components.db]
kind = "database"
replicas = 1
point_read = {{ dist = "deterministic", value = "1ms" }}

[components.report]
kind = "job"
{job}
"#
    )
}

fn run(text: &str) -> RunOutput {
    let scn = scenario::parse("jobs.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    scalesim::run::run(&scn, &mut |_| {})
}

fn card<'a>(out: &'a RunOutput, name: &str) -> &'a [(&'static str, Figure)] {
    &out.cards
        .iter()
        .find(|(_, c)| c.name == name)
        .expect("a card")
        .1
        .fields
}

fn num(out: &RunOutput, name: &str, key: &str) -> f64 {
    match card(out, name).iter().find(|(k, _)| *k == key) {
        Some((_, Figure::Count(n))) => *n as f64,
        Some((_, Figure::Value(v))) | Some((_, Figure::Maybe(Some(v)))) => *v,
        other => panic!("{key}: {other:?}"),
    }
}

fn runs(out: &RunOutput) -> Vec<(f64, String)> {
    match card(out, "report").iter().find(|(k, _)| *k == "run_list") {
        Some((_, Figure::Events(v))) => v
            .iter()
            .map(|(t, w)| (*t as f64 / 1e9, w.clone()))
            .collect(),
        other => panic!("run_list: {other:?}"),
    }
}

/// 1,000,000 rows of 1 µs in batches of 10,000: 100 batches of 10 ms of CPU each.
const ROWS: &str = "rows = 1_000_000\nbatch_rows = 10_000\nrow_cost = \"1us\"";

#[test]
fn a_throttled_run_lasts_rows_over_the_rate() {
    // 10,000 rows a second: batch k goes at k seconds (k = 0..99); the last ends 10 ms after
    // 99 s on its own instance. 99.01 s, exactly.
    let out = run(&file(
        &format!(
            "schedule = \"after 1m\"\nread_from = \"snapshot\"\ninstance = \"c5.large\"\n{ROWS}\nthrottle = \"10000/s\""
        ),
        "",
    ));
    assert_eq!(num(&out, "report", "duration_max_s"), 99.01);
    assert_eq!(num(&out, "report", "rows_read"), 1e6);
    assert_eq!(num(&out, "report", "batches"), 100.0);
    assert_eq!(num(&out, "report", "succeeded"), 1.0);
    assert_eq!(runs(&out)[0].0, 60.0, "it fired at 1m");
    // Billed only while it ran: 99.01 s of a c5.large ($0.085/h).
    let hours = num(&out, "report", "instance_hours");
    assert!((hours - 99.01 / 3600.0).abs() < 1e-6, "{hours}");
}

#[test]
fn concurrency_up_to_the_vcpus_divides_the_time_and_past_them_shares_it() {
    // 1 s of CPU in 100 equal batches on 2 vCPUs: one at a time 1 s; two at once 0.5 s; four
    // at once share the two vCPUs and still take 0.5 s.
    for (c, want) in [(1, 1.0), (2, 0.5), (4, 0.5)] {
        let out = run(&file(
            &format!(
                "schedule = \"after 1m\"\nread_from = \"snapshot\"\ninstance = \"c5.large\"\n{ROWS}\nconcurrency = {c}"
            ),
            "",
        ));
        let took = num(&out, "report", "duration_max_s");
        assert!((took - want).abs() < 1e-6, "concurrency {c}: {took}");
    }
}

#[test]
fn on_the_database_each_batch_pays_the_round_trip_and_its_scan() {
    // One at a time: 1 ms there, 10 ms of the primary's CPU, 1 ms back: 12 ms × 100 = 1.2 s.
    let out = run(&file(
        &format!("schedule = \"after 1m\"\ndatabase = \"db\"\n{ROWS}"),
        "",
    ));
    let took = num(&out, "report", "duration_max_s");
    assert!((took - 1.2).abs() < 1e-6, "{took}");
    assert_eq!(num(&out, "db", "scans"), 100.0);
    assert_eq!(num(&out, "db", "reads_on_replicas"), 0.0);
    // On a replica: the same time, and the primary sees none of it.
    let out = run(&file(
        &format!("schedule = \"after 1m\"\ndatabase = \"db\"\nread_from = \"replica\"\n{ROWS}"),
        "",
    ));
    assert!((num(&out, "report", "duration_max_s") - 1.2).abs() < 1e-6);
    assert_eq!(num(&out, "db", "reads_on_replicas"), 100.0);
    assert_eq!(
        num(&out, "db", "stale_reads"),
        0.0,
        "a job's batch is no user's read"
    );
    assert!(num(&out, "db", "primary_utilization") < 1e-3);
}

#[test]
fn the_schedule_reads_the_scenarios_clock() {
    // The run starts at 01:30: "daily at 02:00" fires 30 minutes in; a cron line the same.
    for sched in ["daily at 02:00", "0 2 * * *"] {
        let text = file(
            &format!("schedule = \"{sched}\"\nread_from = \"snapshot\"\n{ROWS}"),
            "start_hour = 1.5",
        )
        .replace("duration = \"10m\"", "duration = \"40m\"");
        let out = run(&text);
        let r = runs(&out);
        assert_eq!(r.len(), 1, "{sched}");
        assert_eq!(r[0].0, 1800.0, "{sched}");
        assert!(r[0].1.starts_with("02:00 for"), "{}", r[0].1);
    }
}

#[test]
fn a_firing_while_a_run_goes_is_skipped_or_allowed() {
    // Every minute, runs of 99.01 s: with skip, runs at 0, 2, 4, 6, 8 min and the five odd
    // minutes skipped; with allow, ten runs, two at once at times.
    let job = format!(
        "schedule = \"every 1m\"\nread_from = \"snapshot\"\n{ROWS}\nthrottle = \"10000/s\""
    );
    let out = run(&file(&job, ""));
    let starts: Vec<f64> = runs(&out).iter().map(|r| r.0).collect();
    assert_eq!(starts, vec![0.0, 120.0, 240.0, 360.0, 480.0]);
    assert_eq!(num(&out, "report", "skipped"), 5.0);
    let skipped = out
        .timeline
        .iter()
        .filter(|e| e.kind == EventKind::JobSkipped)
        .count();
    assert_eq!(skipped, 5);
    let out = run(&file(&format!("{job}\noverlap = \"allow\""), ""));
    assert_eq!(runs(&out).len(), 10);
    assert_eq!(num(&out, "report", "skipped"), 0.0);
    // Nine ended by 10m (the last fired at 9m and is still going).
    assert_eq!(num(&out, "report", "succeeded"), 9.0);
    assert_eq!(num(&out, "report", "running_at_end"), 1.0);
}

#[test]
fn an_attempt_past_its_timeout_fails_and_is_tried_again_up_to_attempts() {
    // It needs 99 s; the timeout is 30 s: attempt 1 fails at 1m30s, attempt 2 at 2m00s.
    let out = run(&file(
        &format!(
            "schedule = \"after 1m\"\nread_from = \"snapshot\"\n{ROWS}\nthrottle = \"10000/s\"\ntimeout = \"30s\"\nattempts = 2"
        ),
        "",
    ));
    assert_eq!(num(&out, "report", "failed"), 1.0);
    assert_eq!(num(&out, "report", "attempts"), 2.0);
    assert_eq!(num(&out, "report", "duration_max_s"), 60.0);
    let retried: Vec<f64> = out
        .timeline
        .iter()
        .filter(|e| e.kind == EventKind::JobRetried)
        .map(|e| e.at as f64 / 1e9)
        .collect();
    assert_eq!(retried, vec![90.0]);
    let r = runs(&out);
    assert!(
        r[0].1.contains("failed: past its 30s timeout"),
        "{}",
        r[0].1
    );
}

#[test]
fn a_crash_fails_the_running_attempt() {
    let out = run(&file(
        &format!(
            "schedule = \"after 1m\"\nread_from = \"snapshot\"\n{ROWS}\nthrottle = \"10000/s\"\n\n[[faults]]\nat = \"1m30s\"\nkind = \"crash\"\ntarget = \"report\""
        ),
        "",
    ));
    assert_eq!(num(&out, "report", "failed"), 1.0);
    assert_eq!(num(&out, "report", "duration_max_s"), 30.0);
    assert!(runs(&out)[0].1.contains("the job crashed"));
    // Rows read before the crash: batches at 60 … 90 s done (31 of them, the one at 90 s was
    // issued just before the crash and finished? no: it was in flight), so 30 or 31 × 10,000.
    let rows = num(&out, "report", "rows_read");
    assert!(rows == 300_000.0 || rows == 310_000.0, "{rows}");
}

#[test]
fn a_batch_the_database_fails_fails_the_attempt() {
    // The primary crashes at 1m00.5s, in the middle of the run (no standby): the batch in
    // flight is reset, the attempt fails; the second attempt finds no primary either.
    let out = run(&file(
        &format!(
            "schedule = \"after 1m\"\ndatabase = \"db\"\n{ROWS}\nattempts = 2\n\n[[faults]]\nat = \"60500ms\"\nkind = \"crash\"\ntarget = \"db.primary\""
        ),
        "",
    ));
    assert_eq!(num(&out, "report", "failed"), 1.0);
    assert_eq!(num(&out, "report", "attempts"), 2.0);
    assert!(num(&out, "report", "batch_failures") >= 2.0);
    let r = runs(&out);
    assert!(r[0].1.contains("a batch failed"), "{}", r[0].1);
}

#[test]
fn live_requests_are_split_by_whether_a_job_ran() {
    let text = file(
        &format!("schedule = \"after 1m\"\ndatabase = \"db\"\n{ROWS}\nthrottle = \"2000/s\""),
        "",
    )
    .replace("value = \"1h\"", "value = \"1s\"")
    .replace("users = 1", "users = 20");
    let out = run(&text);
    let j = out.metrics.job_split.as_deref().expect("a split");
    let total: u64 = out.metrics.outcome_totals().iter().sum();
    assert_eq!(j.during.total() + j.outside.total(), total);
    // The run lasts 500 s (100 batches at 5 s apart, the last done 12 ms after 495 s).
    let during = j.during_until(out.measured, 0);
    assert_eq!(during, 495_012_000_000);
    let share = j.during.total() as f64 / total as f64;
    assert!((share - 495.012 / 600.0).abs() < 0.02, "{share}");
}

#[test]
fn the_journey_replays_a_chapter_without_its_nightly_job() {
    let mut scn = scenario::parse(
        "jobs.toml",
        &file(
            &format!("schedule = \"after 1m\"\nread_from = \"snapshot\"\n{ROWS}"),
            "",
        ),
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    for (_, s) in &mut scn.components {
        s.steady_state();
    }
    let out = scalesim::run::run(&scn, &mut |_| {});
    assert_eq!(num(&out, "report", "runs"), 0.0);
}

const BASE: &str = r#"[scenario]
name = "bad"
duration = "1h"

[workload]
users = 10
think_time = { dist = "exponential", mean = "5s" }
target = "web"

[components.web]
kind = "server"
instance = "c5.large"
service = { dist = "exponential", mean = "10ms" }

[components.db]
kind = "database"

[components.report]
kind = "job"
schedule = "daily at 00:30"
database = "db"
rows = 1000"#;

/// `BASE` with `line` added at the end; the diagnostic at `key`, located on `needle`'s line.
fn bad(line: &str, key: &str, needle: &str, want: &str) {
    let text = format!("{BASE}\n{line}\n");
    let e = match scenario::parse("bad.toml", &text, &[]) {
        Ok(_) => panic!("expected an error for `{line}`"),
        Err(e) => e,
    };
    let d = e
        .diagnostics
        .iter()
        .find(|d| d.key_path.as_deref() == Some(key))
        .unwrap_or_else(|| panic!("no diagnostic at `{key}` in:\n{e}"))
        .clone();
    let off = text.rfind(needle).expect("needle");
    let line_no = text[..off + 1].matches('\n').count() + 1;
    assert_eq!(d.location.map(|l| l.0), Some(line_no), "`{key}`:\n{d}");
    let shown = d.to_string();
    assert!(shown.contains("bad.toml:"), "{shown}");
    assert!(shown.contains(want), "`{line}`: {shown}");
}

#[test]
fn the_base_loads() {
    scenario::parse("bad.toml", BASE, &[]).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_job_key_has_a_located_error() {
    let r = "components.report";
    let text = BASE.replace("schedule = \"daily at 00:30\"", "schedule = \"nightly\"");
    let e = scenario::parse("bad.toml", &text, &[]).expect_err("bad schedule");
    let shown = e.to_string();
    assert!(shown.contains("components.report.schedule"), "{shown}");
    assert!(shown.contains("\"nightly\" is not a schedule"), "{shown}");
    assert!(
        shown.contains("daily at 02:00"),
        "the forms are suggested: {shown}"
    );
    for (line, key, want) in [
        (
            "read_from = \"replicas!\"",
            "read_from",
            "\"primary\", \"replica\" or \"snapshot\"",
        ),
        ("batch_rows = 0", "batch_rows", "1 to 4,294,967,295 rows"),
        ("row_cost = \"0s\"", "row_cost", "1ns to 10s"),
        ("concurrency = 0", "concurrency", "1 to 1024"),
        ("throttle = \"0/s\"", "throttle", "a positive rate"),
        ("timeout = \"0s\"", "timeout", "fails every attempt at once"),
        ("attempts = 11", "attempts", "1 to 10"),
        ("overlap = \"queue\"", "overlap", "\"skip\" or \"allow\""),
        (
            "instance = \"c5.large\"",
            "instance",
            "for read_from = \"snapshot\"",
        ),
    ] {
        bad(line, &format!("{r}.{key}"), line, want);
    }
    let t = BASE.replace("database = \"db\"", "database = \"web\"");
    let e = scenario::parse("bad.toml", &t, &[]).expect_err("not a database");
    assert!(
        e.to_string()
            .contains("a job reads a database; \"web\" is a server"),
        "{e}"
    );
    let t = BASE.replace("database = \"db\"", "database = \"dbb\"");
    let e = scenario::parse("bad.toml", &t, &[]).expect_err("unknown");
    assert!(e.to_string().contains("did you mean"), "{e}");
    let t = BASE.replace("database = \"db\"\n", "");
    let e = scenario::parse("bad.toml", &t, &[]).expect_err("no database");
    assert!(e.to_string().contains("needs `database`"), "{e}");
    let t = BASE.replace("rows = 1000", "rows = 0");
    let e = scenario::parse("bad.toml", &t, &[]).expect_err("no rows");
    assert!(e.to_string().contains("a run reads 1 to"), "{e}");
    let t = format!("{BASE}\nread_from = \"snapshot\"\ninstance = \"c9.huge\"\n");
    let e = scenario::parse("bad.toml", &t, &[]).expect_err("unknown type");
    assert!(
        e.to_string().contains("unknown instance type \"c9.huge\""),
        "{e}"
    );
    let t = format!("{BASE}\nrowz = 5\n");
    let e = scenario::parse("bad.toml", &t, &[]).expect_err("unknown key");
    assert!(e.to_string().contains("rowz"), "{e}");
}

#[test]
fn a_schedule_that_never_fires_in_the_run_is_noted() {
    let t = BASE.replace("daily at 00:30", "daily at 03:00");
    let scn = scenario::parse("bad.toml", &t, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        scn.notes
            .iter()
            .any(|n| n.contains("does not fire within the run")),
        "{:?}",
        scn.notes
    );
}

/// Chapter 7 cut to 45 minutes (the report fires at 30 minutes and ends before the run does;
/// throttled, it takes 33 minutes: 65).
fn chapter_7(variant: Option<&str>) -> RunOutput {
    let c = scenario::embedded::chapter(7).expect("chapter 7");
    let until = if variant == Some("throttled") {
        "65m"
    } else {
        "45m"
    };
    let cut = scalesim::scenario::overrides::Override::parse(&format!("scenario.duration={until}"))
        .unwrap();
    let scn = scenario::parse_variant("chapter:7", c.text, variant, &[cut])
        .unwrap_or_else(|e| panic!("{e}"));
    scalesim::run::run(&scn, &mut |_| {})
}

/// Live p99 while the job ran ÷ the rest of the run's.
fn bump(out: &RunOutput) -> f64 {
    let j = out.metrics.job_split.as_deref().expect("a split");
    assert!(j.during.total() > 10_000 && j.outside.total() > 10_000);
    j.during.quantile_ms(0.99).unwrap() / j.outside.quantile_ms(0.99).unwrap()
}

#[test]
fn chapter_7_the_report_on_the_primary_bumps_live_p99_and_each_fix_removes_it() {
    let runs: Vec<(Option<&str>, RunOutput)> = [
        None,
        Some("on_replica"),
        Some("throttled"),
        Some("own_compute"),
    ]
    .into_iter()
    .map(|v| (v, chapter_7(v)))
    .collect();
    let on_primary = bump(&runs[0].1);
    assert!(on_primary > 2.0, "the bump: {on_primary:.2}×");
    for (v, out) in &runs[1..] {
        let b = bump(out);
        assert!(b < 1.15, "{v:?}: {b:.2}× — the fix should remove the bump");
        assert_eq!(num(out, "report", "succeeded"), 1.0, "{v:?}");
    }
    // The report itself: on the primary ~10.7 min; throttled 200 M rows at 100,000/s = 2,000 s.
    let throttled = num(&runs[2].1, "report", "duration_max_s");
    assert!((throttled - 2000.0).abs() < 1.0, "{throttled}");
    // And summary.md says so with numbers.
    let scn = {
        let c = scenario::embedded::chapter(7).unwrap();
        let cut = scalesim::scenario::overrides::Override::parse("scenario.duration=45m").unwrap();
        scenario::parse_variant("chapter:7", c.text, None, &[cut]).unwrap()
    };
    let md = scalesim::report::summary::summary_md(&scn, &runs[0].1);
    assert!(md.contains("## Scheduled jobs"), "{md}");
    assert!(md.contains("worse while the job ran"), "{md}");
    assert!(md.contains("Live requests while a job ran"), "{md}");
}
