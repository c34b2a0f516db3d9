//! Retry storms and what ends them: the retry budget (exact counts of retries held back on a
//! scripted failure), circuit breakers on calls (a scripted open → half-open → open → closed
//! sequence), load shedding with `queue_timeout` (exactly who is shed in a deterministic
//! overload), `[variants]` (applied, unknown, badly set), and the must-show: the retry-storm
//! scenario stays degraded after its trigger ends without a fix and recovers with each fix.
//! Figures derived by hand in comments.

use crate::common::{expect_code, root, scalesim, stderr, stdout, Tmp};
use scalesim::metrics::WindowRow;
use scalesim::model::request::Outcome;
use scalesim::run::RunOutput;
use scalesim::scenario;

fn parse(text: &str) -> scenario::Scenario {
    scenario::parse("t.toml", text, &[]).unwrap_or_else(|e| panic!("{e}\n--- in ---\n{text}"))
}

fn run(text: &str) -> RunOutput {
    scalesim::run::run(&parse(text), &mut |_| {})
}

/// The only class's outcome counts.
fn outcomes(out: &RunOutput) -> [u64; Outcome::COUNT] {
    out.metrics.outcome_totals()
}

/// A network without delays or jitter: every hop takes 0 s, so times are sums of think times,
/// service times and backoffs.
const NO_DELAYS: &str = "[network]\nclient_rtt = \"0ms\"\ninternal_rtt = \"0ms\"\njitter = 0\n";

// ---------------------------------------------------------------------------------------------
// The retry budget

#[test]
fn a_retry_budget_holds_back_exactly_the_retries_it_has_no_token_for() {
    // One user who clicks 1 s after each answer, on a server stopped for the whole run: every
    // attempt is refused at once (no network delay). Up to 3 retries, 1 ms apart, with a budget
    // of 25 %: each click deposits a quarter token, each retry takes a whole one, and tokens
    // expire with their one-second slice after ten slices.
    //
    // Click k (k = 1, 2, ...) starts at k s plus a millisecond per earlier retry (≤ 12 ms in a
    // minute), so it falls in slice k. The balance when click k fails is its slices' deposits
    // minus their withdrawals:
    //   k < 10:  0.25·k − (retries so far): one token first at k = 4 (retry; 0 left), then at
    //            k = 8 (2 − 1 = 1: retry). k = 9: 2.25 − 2 < 1.
    //   k ≥ 10:  the last ten slices hold 10 × 0.25 = 2.5 tokens, so a retry is granted iff at
    //            most one was granted in the nine slices before: k = 10..13 see 4 and 8 (0.5 left);
    //            14 sees only 8 → retry; 15..17 see 8 and 14; 18 sees only 14 → retry; and so on:
    //            retries at 4, 8, 14, 18, 24, 28, 34, 38, 44, 48, 54, 58 — twelve in 59 clicks
    //            (the cap at work: 2.5 tokens per 10 s allow 2 retries, not the 2.5 a balance
    //            without expiry would, and never more, however long the calm before).
    // A granted retry is refused too, and the next one is held back (its token is spent). So
    // every click ends after exactly one held-back retry: 59 held back, 12 sent, 71 attempts.
    let text = format!(
        r#"[scenario]
name = "budget"
duration = "60s"
window = "1s"
seed = 1

[workload]
users = 1
think_time = {{ dist = "deterministic", value = "1s" }}
retries = {{ max = 3, backoff = "constant", base = "1ms", jitter = false, budget = "25%" }}

{NO_DELAYS}
[components.web]
kind = "server"
instance = "c5.large"
service = {{ dist = "deterministic", value = "10ms" }}

[[faults]]
at = "0s"
kind = "stop"
target = "web"
"#
    );
    let out = run(&text);
    let m = &out.metrics;
    assert_eq!(m.started, 59, "clicks at 1, 2, ..., 59 s");
    assert_eq!(m.retries, 12);
    assert_eq!(m.retries_suppressed, 59);
    assert_eq!(m.attempts, 71);
    assert_eq!(outcomes(&out)[Outcome::Refused.index()], 59);
    // Which clicks retried: the windows (1 s each) in which a retry was sent.
    let retried: Vec<u64> = m
        .series
        .iter()
        .filter(|r| r.retries > 0)
        .map(|r| r.start / 1_000_000_000)
        .collect();
    assert_eq!(retried, vec![4, 8, 14, 18, 24, 28, 34, 38, 44, 48, 54, 58]);
    // results.json reports them; without a budget the key is absent.
    let scn = parse(&text);
    let doc = scalesim::report::results::results_json(&scn, &out);
    assert_eq!(doc["requests"]["retries_suppressed"], 59);
    let plain = text.replace(", budget = \"25%\"", "");
    let scn = parse(&plain);
    let out = scalesim::run::run(&scn, &mut |_| {});
    let doc = scalesim::report::results::results_json(&scn, &out);
    assert!(doc["requests"].get("retries_suppressed").is_none());
    // Without the budget every click makes its 3 retries: 1 + 3 ms per click, still 59 clicks.
    assert_eq!((out.metrics.started, out.metrics.retries), (59, 177));
}

#[test]
fn a_retry_budget_is_checked_where_it_is_written() {
    let base = "[scenario]\nname = \"b\"\nduration = \"1m\"\n[workload]\nusers = 1\n\
                retries = { max = 2, budget = BUDGET }\n[components.web]\nkind = \"server\"\n\
                instance = \"c5.large\"\nservice = { dist = \"exponential\", mean = \"5ms\" }\n";
    for (budget, want) in [
        (
            "0",
            "the retry budget must be at least 0.0001% of first attempts, found 0",
        ),
        ("\"200%\"", ""),
        ("true", ""),
    ] {
        let text = base.replace("BUDGET", budget);
        let e = scenario::parse("b.toml", &text, &[]).expect_err(budget);
        let d = &e.diagnostics[0];
        assert_eq!(
            d.key_path.as_deref(),
            Some("workload.retries.budget"),
            "{e}"
        );
        assert_eq!(d.location.map(|l| l.0), Some(6), "{e}");
        if !want.is_empty() {
            assert_eq!(d.message, want);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Circuit breakers

/// One user clicking 1 s after each answer; `front` (1 ms of work) calls `back` (1 ms) with
/// `call`; `back` is stopped from 0 to 10.5 s.
fn breaker_shop(call: &str) -> String {
    format!(
        r#"[scenario]
name = "breaker"
duration = "20s"
window = "1s"
seed = 1

[workload]
users = 1
think_time = {{ dist = "deterministic", value = "1s" }}
target = "front"

{NO_DELAYS}
[components.front]
kind = "server"
instance = "c5.large"
service = {{ dist = "deterministic", value = "1ms" }}

[[components.front.calls]]
to = [{call}]

[components.back]
kind = "server"
instance = "c5.large"
service = {{ dist = "deterministic", value = "1ms" }}

[[faults]]
at = "0s"
kind = "stop"
target = "back"
duration = "10500ms"
"#
    )
}

#[test]
fn a_breaker_opens_fails_fast_probes_reopens_and_closes() {
    // Click k starts at s_k = 1 + 1.001·(k − 1) s (1 s of thinking after each 1 ms answer) and
    // front calls back 1 ms later, at 1.001·k s. Breaker: 3 failures within 10 s, open 5 s, 1 probe.
    //   calls 1–3 (1.001, 2.002, 3.003 s): refused by the stopped back; the third opens the
    //       breaker (3.003 − 1.001 < 10 s) until 8.003 s. Clicks 1–3 fail "refused".
    //   calls 4–7 (4.004 … 7.007 s): not sent; clicks 4–7 fail at once with 503.
    //   call 8 (8.008 s ≥ 8.003): half-open; the probe is refused (back is down until 10.5 s):
    //       open again until 13.008 s. Click 8 fails "refused".
    //   calls 9–12 (9.009 … 12.012 s): not sent, 503.
    //   call 13 (13.013 s): the probe; back is up and answers at 13.014 s: closed. Click 13 and
    //       every later one succeed (now 2 ms each: clicks at 14.014 + 1.002·j s, j = 0..5, the
    //       last at 19.024 s).
    let out = run(&breaker_shop(
        "{ target = \"back\", timeout = \"1s\", breaker = { failures = 3, within = \"10s\", open_for = \"5s\", probes = 1 } }",
    ));
    let o = outcomes(&out);
    assert_eq!(
        o[Outcome::Refused.index()],
        4,
        "calls 1–3 and the first probe"
    );
    assert_eq!(o[Outcome::Unavailable.index()], 8, "clicks 4–7 and 9–12");
    assert_eq!(o[Outcome::Ok.index()], 7, "clicks 13–19");
    // The clicks' outcomes in order, one per one-second window from 1 s.
    let per_window: Vec<&str> = out.metrics.series[1..20]
        .iter()
        .map(|r: &WindowRow| {
            let i = (0..Outcome::COUNT)
                .find(|&i| r.outcomes[i] > 0)
                .expect("a click a second");
            Outcome::ALL[i].name()
        })
        .collect();
    let mut want = vec!["refused"; 3];
    want.extend(["unavailable"; 4]);
    want.push("refused");
    want.extend(["unavailable"; 4]);
    want.extend(["ok"; 7]);
    assert_eq!(per_window, want);
    // The timeline, in the breaker's words, at the times derived above.
    let events: Vec<(u64, String)> = out
        .timeline
        .iter()
        .filter(|e| e.kind.name() == "breaker")
        .map(|e| {
            (
                e.at / 1_000_000,
                e.text.split(':').next().unwrap().to_string(),
            )
        })
        .collect();
    let at = |ms: u64, what: &str| (ms, format!("breaker to back {what}"));
    assert_eq!(
        events,
        vec![
            at(3_003, "opened"),
            at(8_008, "half-open"),
            at(8_008, "re-opened"),
            at(13_013, "half-open"),
            at(13_014, "closed"),
        ]
    );
    // front's card counts the calls it failed at once and the openings.
    let card = out
        .cards
        .iter()
        .map(|(_, c)| c)
        .find(|c| c.name == "front")
        .expect("front's card");
    let figure = |key: &str| {
        card.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, f)| f.clone())
    };
    use scalesim::model::kit::Figure;
    assert_eq!(figure("calls_short_circuited"), Some(Figure::Count(8)));
    assert_eq!(figure("breaker_opened"), Some(Figure::Count(2)));

    // With a fallback of "ok", the clicks whose call was not sent succeed (degraded); the
    // sequence of the breaker is the same.
    let out = run(&breaker_shop(
        "{ target = \"back\", timeout = \"1s\", fallback = \"ok\", breaker = { failures = 3, within = \"10s\", open_for = \"5s\" } }",
    ));
    let o = outcomes(&out);
    // Every click now succeeds: the failed calls count as ok too.
    assert_eq!(o[Outcome::Ok.index()], o.iter().sum::<u64>());
    assert_eq!(
        out.timeline
            .iter()
            .filter(|e| e.kind.name() == "breaker")
            .count(),
        5
    );
}

#[test]
fn a_breaker_needs_a_call_timeout_and_sane_settings() {
    let bad = |call: &str| {
        let e = scenario::parse("b.toml", &breaker_shop(call), &[]).expect_err(call);
        e.diagnostics
            .iter()
            .map(|d| (d.key_path.clone().unwrap_or_default(), d.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        bad("{ target = \"back\", breaker = {} }"),
        vec![(
            "components.front.calls[0].to[0].breaker".to_string(),
            "a breaker needs the call to \"back\" to have a timeout".to_string()
        )]
    );
    assert_eq!(
        bad("{ target = \"back\", timeout = \"1s\", breaker = { failures = 0, probes = 10001 } }"),
        vec![
            (
                "components.front.calls[0].to[0].breaker.failures".to_string(),
                "failures must be between 1 and 10000, found 0".to_string()
            ),
            (
                "components.front.calls[0].to[0].breaker.probes".to_string(),
                "probes must be between 1 and 10000, found 10001".to_string()
            ),
        ]
    );
    assert_eq!(
        bad("{ target = \"back\", timeout = \"1s\", breaker = { open_for = \"0s\" } }")[0].1,
        "`open_for` must be more than zero"
    );
    let unknown = bad("{ target = \"back\", timeout = \"1s\", breaker = { failure = 3 } }");
    assert_eq!(
        unknown[0].0,
        "components.front.calls[0].to[0].breaker.failure"
    );
    // Two calls to one target share one breaker: their settings must agree.
    let two = bad(
        "{ target = \"back\", timeout = \"1s\", breaker = {} }, { target = \"back\", timeout = \"1s\", breaker = { failures = 2 } }",
    );
    assert_eq!(two[0].0, "components.front.calls[0].to[1].breaker");
    assert_eq!(
        two[0].1,
        "another call of \"front\" to \"back\" has a breaker with other settings"
    );
    // Defaults: 5 within 10 s, open 30 s, 1 probe (Envoy, Hystrix).
    parse(&breaker_shop(
        "{ target = \"back\", timeout = \"1s\", breaker = {} }, { target = \"back\", timeout = \"1s\", breaker = { failures = 5, within = \"10s\", open_for = \"30s\", probes = 1 } }",
    ));
}

// ---------------------------------------------------------------------------------------------
// Load shedding

#[test]
fn a_queue_timeout_sheds_exactly_those_who_waited_too_long() {
    // Five users click together at 10 s (deterministic think time), in user order, at a server
    // with one worker and 1 s of work per request that sheds what waited over 2.5 s.
    //   u0 runs 10–11 s; u1 waited 1 s, runs 11–12; u2 waited 2 s, runs 12–13; at 13 s u3 and
    //   u4 have waited 3 s > 2.5 s: both are answered 503 at once.
    // Then they think 10 s again: u0 clicks at 21 s, after the run's 20 s. So in all: 3 ok,
    // 2 unavailable, 2 shed, and without the queue timeout u3 and u4 are served at 13–14 and
    // 14–15 s instead.
    let text = format!(
        r#"[scenario]
name = "shed"
duration = "20s"
seed = 1

[workload]
users = 5
think_time = {{ dist = "deterministic", value = "10s" }}

{NO_DELAYS}
[components.web]
kind = "server"
vcpus = 1
memory = "4GiB"
workers = 1
queue_timeout = "2500ms"
service = {{ dist = "deterministic", value = "1s" }}
"#
    );
    let out = run(&text);
    let o = outcomes(&out);
    assert_eq!(
        (o[Outcome::Ok.index()], o[Outcome::Unavailable.index()]),
        (3, 2)
    );
    let q = out.queue.as_ref().expect("users connect to the server");
    assert_eq!((q.stats.shed, q.stats.completed), (2, 3));
    // Latencies: 1, 2 and 3 s for the served, 3 s for the shed (not in the histogram).
    let c = &out.metrics.classes[0];
    assert_eq!(c.latency.len(), 3);
    for (v, want) in [(c.latency.min(), 1e9), (c.latency.max(), 3e9)] {
        assert!(
            (v as f64 - want).abs() <= want / 1000.0,
            "{v} ns, want {want}"
        );
    }
    // The card says so; results.json's queue block keeps Little's law exact with them.
    let card = out
        .cards
        .iter()
        .find(|(_, c)| c.name == "web")
        .expect("card");
    assert!(card
        .1
        .fields
        .iter()
        .any(|(k, f)| *k == "shed" && *f == scalesim::model::kit::Figure::Count(2)));
    // Without it, all five are served, the last at 14–15 s.
    let out = run(&text.replace("queue_timeout = \"2500ms\"\n", ""));
    let o = outcomes(&out);
    assert_eq!(o[Outcome::Ok.index()], 5);
    let card = out
        .cards
        .iter()
        .find(|(_, c)| c.name == "web")
        .expect("card");
    assert!(
        !card.1.fields.iter().any(|(k, _)| *k == "shed"),
        "no `shed` figure without a queue timeout"
    );
}

// ---------------------------------------------------------------------------------------------
// Variants

const VARIANTS: &str = r#"[scenario]
name = "v"
duration = "1m"

[workload]
users = 10
retries = { max = 2 }

[components.web]
kind = "server"
instance = "c5.large"
service = { dist = "exponential", mean = "5ms" }

[variants.budget]
description = "A budget."
set = ['workload.retries.budget="10%"']

[variants.bigger]
set = ["components.web.instance=c5.xlarge", "workload.users=20"]
"#;

#[test]
fn a_variant_applies_its_sets_on_top_of_the_file_and_under_the_command_line() {
    let v = |name: Option<&str>, sets: &[&str]| {
        let o: Vec<scenario::Override> = sets
            .iter()
            .map(|s| scenario::Override::parse(s).unwrap())
            .collect();
        scenario::parse_variant("v.toml", VARIANTS, name, &o).unwrap_or_else(|e| panic!("{e}"))
    };
    let plain = v(None, &[]);
    assert_eq!(
        (plain.variant.as_deref(), plain.client.retry_budget),
        (None, None)
    );
    let b = v(Some("budget"), &[]);
    assert_eq!(b.variant.as_deref(), Some("budget"));
    assert_eq!(b.client.retry_budget, Some(100_000));
    let big = v(Some("bigger"), &[]);
    assert_eq!(big.client.users, 20);
    // --set wins over the variant.
    assert_eq!(v(Some("bigger"), &["workload.users=30"]).client.users, 30);
    // The echoed config has the variant applied; results.json names it only when used.
    let out = scalesim::run::run(&b, &mut |_| {});
    let doc = scalesim::report::results::results_json(&b, &out);
    assert_eq!(doc["scenario"]["variant"], "budget");
    assert_eq!(
        doc["scenario"]["config"]["workload"]["retries"]["budget"],
        0.1
    );
    let doc = scalesim::report::results::results_json(&plain, &out);
    assert!(doc["scenario"].get("variant").is_none());
}

#[test]
fn an_unknown_variant_is_refused_with_the_list_and_the_nearest_name() {
    let e = scenario::parse_variant("v.toml", VARIANTS, Some("budgte"), &[]).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.message, "there is no variant \"budgte\"");
    assert_eq!(
        d.help.as_deref(),
        Some("did you mean \"budget\"? variants: bigger, budget")
    );
    let e = scenario::parse_variant("v.toml", "[scenario]\nname = \"x\"\nduration = \"1m\"\n[workload]\nusers = 1\n[components.web]\nkind = \"server\"\ninstance = \"c5.large\"\nservice = { dist = \"exponential\", mean = \"5ms\" }\n", Some("fix"), &[]).unwrap_err();
    assert_eq!(
        e.diagnostics[0].message,
        "there is no variant \"fix\": the scenario declares no variants"
    );
    // Through the binary: exit 2, the list on stderr, nothing run.
    let tmp = Tmp::new("unknown_variant");
    let o = scalesim(&[
        "run",
        "scenarios/retry-storm.toml",
        "--variant",
        "bugdet",
        "--out",
        &tmp.s("r"),
    ]);
    expect_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("there is no variant \"bugdet\"")
            && err.contains("did you mean \"budget\"? variants: backoff, breaker, budget, shed"),
        "{err}"
    );
    assert!(!tmp.join("r").exists());
    let o = scalesim(&["check", "scenarios/retry-storm.toml", "--variant", "nope"]);
    expect_code(&o, 2);
}

#[test]
fn a_bad_variant_is_an_error_of_the_file_located_at_its_set() {
    // Every variant is checked when the file loads, run with it or not: the error is placed at
    // the `set[i]` that caused it (file:line:column), in the words of the key it sets.
    let bad = VARIANTS.replace(
        "set = [\"components.web.instance=c5.xlarge\", \"workload.users=20\"]",
        "set = [\"workload.users=20\", \"components.web.instance=c5.hyper\"]",
    );
    let e = scenario::parse("v.toml", &bad, &[]).unwrap_err();
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("variants.bigger.set[1]"));
    let line = bad
        .lines()
        .position(|l| l.contains("c5.hyper"))
        .expect("the line")
        + 1;
    assert_eq!(d.location.map(|l| l.0), Some(line));
    assert!(
        d.message
            .starts_with("`components.web.instance`: unknown instance type \"c5.hyper\"")
            && d.message.ends_with("(set by variant \"bigger\")"),
        "{}",
        d.message
    );
    assert!(
        d.help.as_deref().unwrap_or("").contains("known types"),
        "{d:?}"
    );
    // A set that is not KEY=VALUE, or that cannot apply, is placed there too.
    for (set, why) in [
        ("'no equals sign'", "is not key=value"),
        ("'workload.users.deep=1'", "is not a table"),
        (
            "'variants.budget.set=[]'",
            "a variant can't change the variants",
        ),
    ] {
        let text = VARIANTS.replace(
            "set = ['workload.retries.budget=\"10%\"']",
            &format!("set = [{set}]"),
        );
        let e = scenario::parse("v.toml", &text, &[]).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(d.key_path.as_deref(), Some("variants.budget.set[0]"), "{e}");
        assert!(d.message.contains(why), "{set}: {}", d.message);
    }
    // A problem elsewhere that only the variant causes is placed at the variant.
    let text = VARIANTS.replace(
        "set = ['workload.retries.budget=\"10%\"']",
        "set = ['scenario.duration=\"10s\"']",
    ) + "[[faults]]\nat = \"30s\"\nkind = \"crash\"\ntarget = \"web\"\n";
    let e = scenario::parse("v.toml", &text, &[]).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("variants.budget.set[0]"), "{e}");
    // Unknown keys in a variant's table, and an empty one.
    let e = scenario::parse(
        "v.toml",
        &VARIANTS.replace("description = \"A budget.\"", "descripton = \"A budget.\""),
        &[],
    )
    .unwrap_err();
    assert_eq!(
        e.diagnostics[0].key_path.as_deref(),
        Some("variants.budget.descripton")
    );
    assert!(e.diagnostics[0]
        .help
        .as_deref()
        .unwrap_or("")
        .contains("description"));
    // The binary's `validate` says the same, exit 2.
    let tmp = Tmp::new("bad_variant");
    let f = tmp.join("v.toml");
    std::fs::write(&f, &bad).unwrap();
    let o = scalesim(&["validate", &f.to_string_lossy()]);
    expect_code(&o, 2);
    assert!(
        stderr(&o).contains("`variants.bigger.set[1]`"),
        "{}",
        stderr(&o)
    );
    let o = scalesim(&["validate", "scenarios/retry-storm.toml"]);
    expect_code(&o, 0);
    assert!(
        stdout(&o).contains("variants: backoff, breaker, budget, shed"),
        "{}",
        stdout(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// The must-show: a retry storm outlives its trigger; each fix ends it

/// Ok answers per second over the windows starting in [from, to) seconds.
fn goodput(rows: &[WindowRow], from: u64, to: u64) -> f64 {
    rate(rows, from, to, |r| r.outcomes[Outcome::Ok.index()])
}

/// Failed share of the requests ended in the windows starting in [from, to) seconds.
fn error_rate(rows: &[WindowRow], from: u64, to: u64) -> f64 {
    let (mut all, mut bad) = (0, 0);
    for r in rows
        .iter()
        .filter(|r| (from..to).contains(&(r.start / 1_000_000_000)))
    {
        all += r.total();
        bad += r.errors();
    }
    bad as f64 / all.max(1) as f64
}

fn rate(rows: &[WindowRow], from: u64, to: u64, f: impl Fn(&WindowRow) -> u64) -> f64 {
    let rs: Vec<&WindowRow> = rows
        .iter()
        .filter(|r| (from..to).contains(&(r.start / 1_000_000_000)))
        .collect();
    let secs: f64 = rs.iter().map(|r| (r.end - r.start) as f64 / 1e9).sum();
    rs.iter().map(|r| f(r) as f64).sum::<f64>() / secs.max(1e-9)
}

#[test]
fn the_retry_storm_stays_degraded_without_a_fix_and_recovers_with_each() {
    // scenarios/retry-storm.toml: 1,250 users thinking 5 s ask for 1250 / 5.05 ≈ 247 requests/s
    // (5.05 s: the think time plus ≈ 50 ms of answer), against ≈ 400/s of API CPU. The database
    // is 10× slower from 180 s to 270 s.
    //
    // Before (60–180 s): goodput ≈ 247/s, no errors. Measure after the trigger from 330 s (a
    // minute after it ended, time enough for any fix to drain the 2 × 511 backlog: ≤ 1022 /
    // (400 − 250) ≈ 7 s) to the end (900 s).
    //   No fix: the offered load stays ≈ 650 attempts/s > 400, the backlogs full (2.5 s of
    //   waiting > the 1 s timeout): no attempt succeeds. Goodput below 5 % of before (it is 0),
    //   errors above 95 % (100 %).
    //   Each fix: back to the closed loop's ≈ 247/s. Windows of 10 s hold ≈ 2,470 requests, so
    //   Poisson noise is ≈ 2 % per window and ≈ 0.3 % over the 57 windows; allow 10 %: goodput
    //   above 90 % of before, errors below 1 %.
    let path = root().join("scenarios/retry-storm.toml");
    let text = std::fs::read_to_string(&path).expect("the scenario");
    for variant in [
        None,
        Some("budget"),
        Some("backoff"),
        Some("breaker"),
        Some("shed"),
    ] {
        let scn = scenario::parse_variant("scenarios/retry-storm.toml", &text, variant, &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(scn.faults.first().map(|f| f.at), Some(180_000_000_000));
        let out = scalesim::run::run(&scn, &mut |_| {});
        let rows = &out.metrics.series;
        let before = goodput(rows, 60, 180);
        let after = goodput(rows, 330, 900);
        let (err_before, err_after) = (error_rate(rows, 60, 180), error_rate(rows, 330, 900));
        let name = variant.unwrap_or("no fix");
        // summary.md says so in words: the storm outlived its trigger (only without a fix).
        let storm = scalesim::report::summary::storm(&scn, &out);
        assert_eq!(storm.is_some(), variant.is_none(), "{name}: {storm:?}");
        let md = scalesim::report::summary::summary_md(&scn, &out);
        assert_eq!(
            md.contains("**It outlived its trigger:** every injected fault was over at 0:04:30"),
            variant.is_none(),
            "{name}:\n{md}"
        );
        assert!(
            (235.0..260.0).contains(&before) && err_before == 0.0,
            "{name}: before {before:.1}/s, {:.2} % errors",
            err_before * 100.0
        );
        match variant {
            None => {
                assert!(
                    after < 0.05 * before && err_after > 0.95,
                    "{name}: goodput {after:.1}/s after vs {before:.1}/s before, {:.1} % errors",
                    err_after * 100.0
                );
                // The storm: the offered load after the trigger is well above the 400/s the
                // API can serve, though the users' own clicks are fewer than before.
                let offered = rate(rows, 330, 900, |r| r.attempts);
                assert!(offered > 500.0, "offered {offered:.0}/s");
            }
            Some(_) => assert!(
                after > 0.9 * before && err_after < 0.01,
                "{name}: goodput {after:.1}/s after vs {before:.1}/s before, {:.2} % errors",
                err_after * 100.0
            ),
        }
    }
}

#[test]
fn each_retry_storm_variant_runs_from_the_command_line() {
    // `scalesim run FILE --variant NAME`: the header names it, the report goes to its own
    // folder by default (here given), and results.json records it.
    let tmp = Tmp::new("storm_variants");
    for v in ["budget", "shed"] {
        let out = tmp.s(v);
        let o = scalesim(&[
            "run",
            "scenarios/retry-storm.toml",
            "--variant",
            v,
            "--set",
            "scenario.duration=4m",
            "--out",
            &out,
        ]);
        expect_code(&o, 0);
        assert!(
            stdout(&o).contains(&format!("variant {v}: ")),
            "{}",
            stdout(&o)
        );
        let r: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(tmp.join(v).join("results.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(r["scenario"]["variant"], v);
        assert!(tmp.join(v).join("load.png").is_file());
    }
    let o = scalesim(&[
        "check",
        "scenarios/retry-storm.toml",
        "--variant",
        "breaker",
        "--set",
        "scenario.duration=4m",
    ]);
    expect_code(&o, 0);
    assert!(
        stdout(&o).contains("retry-storm (variant breaker)"),
        "{}",
        stdout(&o)
    );
    // A problem of the file with a variant applied, in a key the variant does not set, is
    // placed in the file (here: the --set shortens the run past the fault).
    let o = scalesim(&[
        "check",
        "scenarios/retry-storm.toml",
        "--variant",
        "breaker",
        "--set",
        "scenario.duration=2m",
    ]);
    expect_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("`faults[0].at`: the fault is scheduled at 3m but the run ends at 2m (with variant \"breaker\")"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Impatient users who refresh

#[test]
fn an_impatient_user_reloads_after_their_patience_and_the_click_ends_once() {
    // One impatient user (share 100 %), patience 3 s, at most 2 reloads of a click; think 1 s; a
    // server with 96 vCPUs, so each attempt runs alone at full speed for exactly 10 s (no
    // network delay). A click at t: reloads at t + 3 and t + 6 (the abandoned attempts keep
    // running), the third attempt answers at t + 16: the click's latency is 16 s, timed from the
    // first try. Clicks at 1, 18, 35, 52 s; the first three end (at 17, 34, 51 s), the fourth
    // is still waiting at 60 s after its two reloads (55, 58 s): 8 reloads, 12 attempts, no
    // retries.
    let text = format!(
        r#"[scenario]
name = "refresh"
duration = "60s"
window = "1s"
seed = 1

[workload]
users = 1
think_time = {{ dist = "deterministic", value = "1s" }}
timeout = "30s"
refresh = {{ share = "100%", patience = "3s", max = 2 }}

{NO_DELAYS}
[components.web]
kind = "server"
instance = "c5.4xlarge"
workers = 16
service = {{ dist = "deterministic", value = "10s" }}
"#
    );
    let out = run(&text);
    let m = &out.metrics;
    assert_eq!((m.started, m.ended), (4, 3));
    assert_eq!(m.refreshes, 8);
    assert_eq!((m.attempts, m.retries), (12, 0));
    assert_eq!(outcomes(&out)[Outcome::Ok.index()], 3);
    let lat = &m.classes[0].latency;
    assert_eq!(lat.len(), 3);
    assert!(
        lat.equivalent(lat.min(), 16_000_000_000) && lat.equivalent(lat.max(), 16_000_000_000),
        "every click takes 16 s: {}..{}",
        lat.min(),
        lat.max()
    );
    // results.json counts the reloads apart from the retries, and the users as a population.
    let scn = parse(&text);
    let doc = scalesim::report::results::results_json(&scn, &out);
    assert_eq!(doc["requests"]["refreshes"], 8);
    assert_eq!(doc["requests"]["retries"], 0);
    assert_eq!(doc["populations"][0]["refreshes"], 8);
    // A patient user (share 0 %) waits: clicks at 1, 12, 23, 34, 45, 56 s, each 10 s.
    let patient = text.replace("share = \"100%\"", "share = \"0%\"");
    let out = run(&patient);
    assert_eq!((out.metrics.ended, out.metrics.refreshes), (5, 0));
    assert_eq!(out.metrics.attempts, 6);
}

#[test]
fn a_reload_does_not_use_up_the_retries() {
    // Patience 3 s, one reload; the server refuses everything after 5 s (stopped): the click at
    // 1 s is reloaded at 4 s, and both attempts are then reset by the stop... Simpler: the
    // retries still number `max` after a reload. One user, service 10 s, the server stops at
    // 5 s: attempts 1 (sent 1 s) and 2 (the reload, 4 s) are both held and crash at 5 s; the
    // reload's crash is the one the user sees (the first was abandoned) and it gets its 2
    // retries (1 ms backoff, refused at once while stopped): 4 attempts, 1 reload, 2 retries,
    // then the click ends refused at 5.002 s.
    let text = format!(
        r#"[scenario]
name = "refresh-retry"
duration = "5500ms"
seed = 1

[workload]
users = 1
think_time = {{ dist = "deterministic", value = "1s" }}
timeout = "30s"
retries = {{ max = 2, backoff = "constant", base = "1ms", jitter = false }}
refresh = {{ share = "100%", patience = "3s", max = 1 }}

{NO_DELAYS}
[components.web]
kind = "server"
instance = "c5.4xlarge"
workers = 16
service = {{ dist = "deterministic", value = "10s" }}

[[faults]]
at = "5s"
kind = "stop"
target = "web"
"#
    );
    let out = run(&text);
    let m = &out.metrics;
    assert_eq!((m.started, m.ended), (1, 1));
    assert_eq!((m.attempts, m.refreshes, m.retries), (4, 1, 2));
    assert_eq!(outcomes(&out)[Outcome::Ok.index()], 0);
}

#[test]
fn refresh_settings_are_checked_where_they_are_written() {
    let base = "[scenario]\nname = \"r\"\nduration = \"1m\"\n[workload]\nusers = 10\n\
                timeout = \"5s\"\nrefresh = REFRESH\n[components.web]\nkind = \"server\"\n\
                instance = \"c5.large\"\nservice = { dist = \"exponential\", mean = \"5ms\" }\n";
    for (refresh, path, want) in [
        (
            r#"{ share = "130%", patience = "2s" }"#,
            "workload.refresh.share",
            "expected a fraction between 0 and 1 (or 0% and 100%), found 1.3",
        ),
        (
            r#"{ share = "30%", patience = "0s" }"#,
            "workload.refresh.patience",
            "the patience must be more than zero",
        ),
        (
            r#"{ share = "30%", patience = "5s" }"#,
            "workload.refresh.patience",
            "the patience (5s) must be shorter than the workload's timeout (5s): a user who waits that long has already given up",
        ),
        (
            r#"{ share = "30%", patience = "2s", max = 0 }"#,
            "workload.refresh.max",
            "between 1 and 20 refreshes of one click, found 0",
        ),
        (r#"{ share = "30%" }"#, "workload.refresh", ""),
        (
            r#"{ share = "30%", patience = "2s", wait = "1s" }"#,
            "workload.refresh.wait",
            "",
        ),
    ] {
        let text = base.replace("REFRESH", refresh);
        let e = scenario::parse("r.toml", &text, &[]).expect_err(refresh);
        let d = &e.diagnostics[0];
        assert_eq!(d.key_path.as_deref(), Some(path), "{e}");
        assert_eq!(d.location.map(|l| l.0), Some(7), "{e}");
        if !want.is_empty() {
            assert_eq!(d.message, want, "{e}");
        }
    }
}
