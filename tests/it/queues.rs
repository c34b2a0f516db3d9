//! Queues, worker pools and topics (chapters 8–10): per-queue conservation at the end of every
//! chapter and of random runs (a property over failure rates, visibility timeouts and batch
//! sizes), "Buy now" staying fast behind the queue, the dead-letter queue receiving exactly what
//! its source dead-lettered, the fan-out must-show (a consumer slowed 10× grows only its own
//! queue; the others' end-to-end times stay within noise of the unslowed run), a failing topic
//! subscriber retried and parked without touching the others, and a located error for every new
//! key.

use proptest::prelude::*;
use scalesim::model::kit::Figure;
use scalesim::run::RunOutput;
use scalesim::scenario::{self, Override};

fn chapter(n: u32, variant: Option<&str>) -> RunOutput {
    let c = scenario::embedded::chapter(n).expect("chapter");
    let scn = scenario::parse_variant(&format!("chapter:{n}"), c.text, variant, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    scalesim::run::run(&scn, &mut |_| {})
}

fn figure(out: &RunOutput, name: &str, key: &str) -> Option<f64> {
    let (_, card) = out.cards.iter().find(|(_, c)| c.name == name)?;
    card.fields.iter().find_map(|(k, f)| match f {
        Figure::Count(n) if *k == key => Some(*n as f64),
        Figure::Value(v) if *k == key => Some(*v),
        Figure::Maybe(v) if *k == key => *v,
        _ => None,
    })
}

fn count(out: &RunOutput, name: &str, key: &str) -> u64 {
    figure(out, name, key).unwrap_or_else(|| panic!("{name} has no {key}")) as u64
}

/// Every queue of the run: sent = processed + dead_lettered + expired + in_system, and in_system
/// = delayed + visible + in_flight. Returns the queues' names.
fn conserved(out: &RunOutput) -> Vec<String> {
    let mut names = Vec::new();
    for (kind, card) in &out.cards {
        if *kind != "queue" {
            continue;
        }
        let n = &card.name;
        let c = |k| count(out, n, k);
        assert_eq!(
            c("sent"),
            c("processed") + c("dead_lettered") + c("expired") + c("in_system"),
            "{n}: conservation"
        );
        assert_eq!(c("in_system"), c("delayed") + c("visible") + c("in_flight"));
        names.push(n.clone());
    }
    names
}

/// The per-window values of gauge `gauge` of component `comp`.
fn gauge(out: &RunOutput, comp: &str, gauge: &str) -> Vec<f64> {
    let i = out
        .extra_gauges
        .iter()
        .position(|(c, g)| c == comp && g.name == gauge)
        .unwrap_or_else(|| panic!("{comp}.{gauge} is declared"));
    out.metrics
        .series
        .iter()
        .map(|r| r.gauges.extra[i])
        .collect()
}

fn class_p99_ms(out: &RunOutput, class: &str) -> f64 {
    let c = out
        .metrics
        .classes
        .iter()
        .find(|c| c.name == class)
        .expect("class");
    c.latency.value_at_quantile(0.99) as f64 / 1e6
}

#[test]
fn chapter_8_answers_buy_now_fast_and_parks_repeated_declines() {
    let out = chapter(8, None);
    conserved(&out);
    // 8 % of charges declined, 3 receives: about 0.08³ = 0.05 % of ~54,000 orders reach the DLQ
    // in normal times, more during the slow spell (timeouts); never none, never most.
    let dl = count(&out, "orders", "dead_lettered");
    assert!((5..2_000).contains(&dl), "{dl} dead-lettered");
    assert_eq!(
        count(&out, "orders_dlq", "sent"),
        dl,
        "the DLQ got each one"
    );
    assert!(count(&out, "orders", "redeliveries") > 3_000);
    // The backlog during the slow spell: thousands waiting; none before it.
    let depth = gauge(&out, "orders", "depth");
    let peak = depth.iter().cloned().fold(0.0, f64::max);
    assert!(peak > 3_000.0, "peak depth {peak}");
    assert!(
        depth[..100].iter().all(|&d| d < 50.0),
        "no backlog before 0:20"
    );
    // "Buy now" is answered once the order is stored: fast throughout.
    let buy = class_p99_ms(&out, "buy");
    assert!(buy < 150.0, "buy p99 {buy} ms");
    // Without the queue the buyer waits for the provider, slowed 4× for 10 minutes.
    let sync = chapter(8, Some("sync"));
    let buy_sync = class_p99_ms(&sync, "buy");
    assert!(buy_sync > 1_000.0, "sync buy p99 {buy_sync} ms");
    assert_eq!(count(&sync, "orders", "sent"), 0);
}

#[test]
fn chapter_8_autoscaled_pool_grows_on_backlog_and_shrinks_again() {
    let out = chapter(8, Some("autoscale"));
    conserved(&out);
    let workers = gauge(&out, "payments", "workers");
    let most = workers.iter().cloned().fold(0.0, f64::max);
    assert!(most > 20.0, "scaled out to {most}");
    assert!(*workers.last().unwrap() < most, "and back in");
    let base = chapter(8, None);
    let p99 = |o: &RunOutput| figure(o, "orders", "end_to_end_p99_ms").unwrap();
    assert!(p99(&out) < p99(&base) / 2.0, "scaling cuts the payment lag");
}

#[test]
fn fan_out_a_slowed_consumer_grows_only_its_own_queue() {
    let slowed = chapter(10, None);
    let base = chapter(10, Some("unslowed"));
    for out in [&slowed, &base] {
        assert_eq!(conserved(out).len(), 3);
    }
    let peak = |o: &RunOutput, q: &str| gauge(o, q, "depth").into_iter().fold(0.0, f64::max);
    // recs: ~20 orders/s arrive, 4 workers at 10 × 50 ms handle ~8/s for 15 minutes.
    assert!(
        peak(&slowed, "recs_q") > 8_000.0,
        "{}",
        peak(&slowed, "recs_q")
    );
    assert!(peak(&base, "recs_q") < 100.0);
    for q in ["whatsapp_q", "sms_q"] {
        assert!(peak(&slowed, q) < 100.0, "{q} grew: {}", peak(&slowed, q));
        // Within noise of the unslowed run: the batch-means error of a p50 over ~50,000
        // messages is well under 5 %; with their own streams they are in fact identical.
        for k in ["end_to_end_p50_ms", "end_to_end_p99_ms"] {
            let (a, b) = (figure(&slowed, q, k).unwrap(), figure(&base, q, k).unwrap());
            assert!((a - b).abs() <= 0.05 * b, "{q} {k}: {a} vs {b}");
        }
    }
    let recs = |o: &RunOutput| figure(o, "recs_q", "end_to_end_p99_ms").unwrap();
    assert!(recs(&slowed) > 50.0 * recs(&base));
    // Every published order reached each queue (a queue subscription never fails).
    let published = count(&slowed, "order_placed", "published");
    for q in ["whatsapp_q", "sms_q", "recs_q"] {
        assert_eq!(count(&slowed, q, "sent"), published);
    }
}

#[test]
fn pub_sub_a_failing_subscriber_is_retried_and_parked_alone() {
    let out = chapter(9, None);
    conserved(&out);
    let t = "order_placed";
    let published = count(&out, t, "published");
    assert_eq!(
        count(&out, t, "deliveries_matched"),
        3 * published,
        "every order to all three"
    );
    assert_eq!(
        count(&out, t, "deliveries_matched"),
        count(&out, t, "delivered")
            + count(&out, t, "dead_lettered")
            + count(&out, t, "dropped")
            + count(&out, t, "pending")
    );
    // 10 minutes of ~20 orders/s: ~12,000 WhatsApp messages exhaust 3 retries and are parked.
    let dl = count(&out, t, "dead_lettered");
    assert!((8_000..14_000).contains(&dl), "{dl}");
    assert_eq!(count(&out, "notify_dlq", "sent"), dl);
    // The publisher is answered at once: "Buy now" keeps its latency.
    assert!(class_p99_ms(&out, "buy") < 150.0);
}

// ---- the property ----

fn random_scenario(
    decline: f64,
    visibility_s: u32,
    batch: u32,
    work_ms: u32,
    max: u32,
    fifo: &str,
) -> String {
    format!(
        r#"[scenario]
name = "prop-queue"
duration = "3m"
warmup = "10s"
window = "10s"
seed = 5

[workload]
users = 300
target = "web"
think_time = {{ dist = "exponential", mean = "2s" }}
mix = [{{ name = "buy", path = "/orders", weight = 1.0 }}]

[components.web]
kind = "server"
instance = "c5.large"
workers = 64
service = {{ dist = "exponential", mean = "2ms" }}

[[components.web.calls]]
to = [{{ target = "events", timeout = "2s" }}]

[components.events]
kind = "topic"
subscriptions = [{{ target = "work" }}, {{ target = "flaky", retries = 2, retry_delay = "1s", dead_letter = "dlq" }}]

[components.work]
kind = "queue"
{fifo}
visibility_timeout = "{visibility_s}s"
retention = "90s"
dead_letter = "dlq"
max_receive_count = {max}

[components.dlq]
kind = "queue"

[components.pool]
kind = "worker_pool"
queue = "work"
workers = 6
batch = {batch}
wait = "1s"
service = {{ dist = "exponential", mean = "{work_ms}ms" }}

[[components.pool.calls]]
to = [{{ target = "flaky", timeout = "1s" }}]

[components.flaky]
kind = "external"
latency = {{ dist = "exponential", mean = "100ms" }}
error_rate = {decline}
"#
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_message_is_accounted_for(
        decline in 0.0f64..0.9,
        visibility_s in 0u32..20,
        batch in 1u32..=10,
        work_ms in 1u32..400,
        max in 1u32..6,
        fifo in 0usize..4,
    ) {
        let fifo = ["", "fifo = true", "fifo = true\ngroup_by = \"path\"", "fifo = true\ngroup_by = \"one\""][fifo];
        let text = random_scenario(decline, visibility_s, batch, work_ms, max, fifo);
        let scn = scenario::parse("prop.toml", &text, &[]).unwrap_or_else(|e| panic!("{e}"));
        // Runs under the per-window invariants (debug assertions on in tests).
        let out = scalesim::run::run(&scn, &mut |_| {});
        prop_assert_eq!(conserved(&out).len(), 2);
        let c = |n: &str, k: &str| count(&out, n, k);
        // The DLQ holds what the source queue and the topic's flaky subscription parked, but
        // for moves on the wire at the end (a hop of ~0.25 ms: a few at most) and the topic's
        // deliveries to it still pending (counted dead-lettered once the DLQ answered).
        let parked = c("work", "dead_lettered") + c("events", "dead_lettered");
        let dlq = c("dlq", "sent");
        prop_assert!(dlq <= parked + c("events", "pending"), "{} > {}", dlq, parked);
        prop_assert!(dlq + 5 >= parked, "{} << {}", dlq, parked);
        prop_assert!(c("work", "received") >= c("work", "processed"));
        // Each publish reached the queue, but for deliveries still on their way at the end.
        let published = c("events", "published");
        prop_assert!(c("work", "sent") <= published);
        prop_assert!(c("work", "sent") + c("events", "pending") >= published);
        prop_assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);
    }
}

// ---- FIFO ----

/// Users whose "Buy now" is retried: the web answers only after the queue's 3 s send, past the
/// users' 2 s timeout, so every click is sent twice (the retry's send repeats the first's).
fn retried_sends(fifo: &str) -> String {
    format!(
        r#"[scenario]
name = "fifo"
duration = "5m"
warmup = "30s"
seed = 9

[workload]
users = 50
target = "web"
think_time = {{ dist = "exponential", mean = "5s" }}
timeout = "2s"
retries = {{ max = 1, backoff = "constant", base = "100ms", jitter = false }}
mix = [{{ name = "buy", path = "/orders", weight = 1.0 }}]

[components.web]
kind = "server"
instance = "c5.large"
service = {{ dist = "deterministic", value = "1ms" }}

[[components.web.calls]]
to = [{{ target = "orders", timeout = "10s" }}]

[components.orders]
kind = "queue"
latency = {{ dist = "deterministic", value = "3s" }}
{fifo}

[components.pool]
kind = "worker_pool"
queue = "orders"
workers = 4
service = {{ dist = "deterministic", value = "5ms" }}
"#
    )
}

fn run(text: &str) -> RunOutput {
    let scn = scenario::parse("fifo.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    scalesim::run::run(&scn, &mut |_| {})
}

#[test]
fn a_producers_retry_is_stored_twice_by_a_standard_queue_and_once_by_fifo() {
    let std_run = run(&retried_sends(""));
    let fifo_run = run(&retried_sends("fifo = true"));
    let c = |out: &RunOutput, k: &str| count(out, "orders", k);
    // Standard: every retry's send is a second copy of the order (processed twice).
    let dups = c(&std_run, "duplicate_sends");
    assert!(dups > 100, "{dups}");
    assert_eq!(c(&std_run, "deduplicated"), 0);
    // FIFO: the same sends are answered and dropped; the orders are stored once.
    let dedup = c(&fifo_run, "deduplicated");
    assert!(dedup > 100, "{dedup}");
    assert_eq!(c(&fifo_run, "duplicate_sends"), 0);
    // Both see the same clicks; standard stores about one extra message per deduplicated one.
    let (s_sent, f_sent) = (c(&std_run, "sent"), c(&fifo_run, "sent"));
    assert!(s_sent > f_sent, "{s_sent} vs {f_sent}");
    let extra = (s_sent - f_sent) as f64 / dups as f64;
    assert!((0.8..1.2).contains(&extra), "{extra}");
    conserved(&std_run);
    conserved(&fifo_run);
}

// ---- bad input ----

const BASE: &str = r#"[scenario]
name = "bad-queue"
duration = "10m"

[workload]
users = 10
target = "web"
mix = [{ name = "buy", path = "/orders", weight = 1.0 }]

[components.web]
kind = "server"
instance = "c5.large"
service = { dist = "exponential", mean = "5ms" }

[[components.web.calls]]
to = [{ target = "t", timeout = "1s" }]

[components.t]
kind = "topic"
subscriptions = [{ target = "q" }]

[components.q]
kind = "queue"

[components.dlq]
kind = "queue"

[components.pool]
kind = "worker_pool"
queue = "q"
service = { dist = "deterministic", value = "10ms" }
"#;

/// `BASE` with `line` added after `after` (a line of BASE); returns the diagnostic at `key`,
/// checking it is located on the line of `needle`.
fn bad(after: &str, line: &str, key: &str, needle: &str) -> scalesim::scenario::error::Diagnostic {
    assert_eq!(BASE.matches(after).count(), 1, "test bug: {after}");
    let text = BASE.replacen(after, &format!("{after}\n{line}"), 1);
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
    let off = text.find(needle).expect("needle");
    let line_no = text[..off + 1].matches('\n').count() + 1;
    assert_eq!(d.location.map(|l| l.0), Some(line_no), "`{key}`:\n{d}");
    assert!(d.to_string().contains("bad.toml:"), "{d}");
    d
}

#[test]
fn the_base_loads() {
    scenario::parse("bad.toml", BASE, &[]).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_queue_pool_and_topic_key_has_a_located_error() {
    let q = "[components.q]\nkind = \"queue\"";
    let p = "service = { dist = \"deterministic\", value = \"10ms\" }";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            q,
            "visibility_timeout = \"13h\"",
            "components.q.visibility_timeout",
            "at most 12h",
        ),
        (
            q,
            "retention = \"30s\"",
            "components.q.retention",
            "60s to 14d",
        ),
        (q, "delay = \"16m\"", "components.q.delay", "at most 15m"),
        (
            q,
            "group_by = \"user\"",
            "components.q.group_by",
            "this queue is standard",
        ),
        (
            q,
            "fifo = true\ngroup_by = \"order\"",
            "components.q.group_by",
            "\"user\", \"path\" or \"one\"",
        ),
        (
            q,
            "dead_letter = \"nope\"",
            "components.q.dead_letter",
            "no component called",
        ),
        (
            q,
            "dead_letter = \"web\"",
            "components.q.dead_letter",
            "a dead-letter queue is a queue",
        ),
        (
            q,
            "dead_letter = \"q\"",
            "components.q.dead_letter",
            "its own dead-letter queue",
        ),
        (
            q,
            "max_receive_count = 3",
            "components.q.max_receive_count",
            "there is no `dead_letter`",
        ),
        (
            q,
            "dead_letter = \"dlq\"\nmax_receive_count = 0",
            "components.q.max_receive_count",
            "1 to 1000",
        ),
        (
            q,
            "latency = { dist = \"uniform\", min = \"2ms\", max = \"1ms\" }",
            "components.q.latency.max",
            "",
        ),
        (q, "colour = 1", "components.q.colour", ""),
        (p, "queue2 = \"q\"", "components.pool.queue2", ""),
        (p, "batch = 11", "components.pool.batch", "1 to 10 messages"),
        (p, "wait = \"0s\"", "components.pool.wait", "1s to 20s"),
        (
            p,
            "workers = 0",
            "components.pool.workers",
            "1 to 10000 workers",
        ),
        (
            p,
            "workers = 2\nmax = 4",
            "components.pool.workers",
            "and `max` makes it scale",
        ),
        (p, "min = 2", "components.pool.min", "a scaling setting"),
        (
            p,
            "target_backlog = 2.0",
            "components.pool.target_backlog",
            "a scaling setting",
        ),
        (
            p,
            "interval = \"10s\"",
            "components.pool.interval",
            "a scaling setting",
        ),
        (
            p,
            "cooldown = \"10s\"",
            "components.pool.cooldown",
            "a scaling setting",
        ),
        (p, "max = 0", "components.pool.max", "1 to 10000 workers"),
        (
            p,
            "max = 4\nmin = 5",
            "components.pool.min",
            "min must be 1 to max",
        ),
        (
            p,
            "max = 4\ntarget_backlog = 0.0",
            "components.pool.target_backlog",
            "0.1 to 1000000",
        ),
        (
            p,
            "max = 4\ninterval = \"100ms\"",
            "components.pool.interval",
            "at most once a second",
        ),
        (
            p,
            "[[components.pool.calls]]\nto = [{ target = \"nope\" }]",
            "components.pool.calls[0].to[0].target",
            "",
        ),
        (
            "kind = \"topic\"",
            "latency = { dist = \"exponential\", mean = \"-1ms\" }",
            "components.t.latency.mean",
            "",
        ),
    ];
    for (after, line, key, words) in cases {
        let last = key.rsplit('.').next().unwrap();
        let needle = line
            .lines()
            .find(|l| l.starts_with(&format!("{last} ")))
            .unwrap_or_else(|| line.lines().last().unwrap());
        let needle = if needle.starts_with("to = ") {
            "target = \"nope\""
        } else {
            needle
        };
        let d = bad(after, line, key, needle);
        assert!(d.to_string().contains(words), "{key}: {d}");
    }
}

#[test]
fn every_subscription_key_has_a_located_error() {
    let subs = "subscriptions = [{ target = \"q\" }]";
    let cases: &[(&str, &str, &str)] = &[
        (
            "{ target = \"pool\" }",
            "components.t.subscriptions[0].target",
            "can't deliver to a worker pool",
        ),
        (
            "{ target = \"q\", protocol = \"smtp\" }",
            "components.t.subscriptions[0].protocol",
            "",
        ),
        (
            "{ target = \"q\", filter = [\"/nowhere\"] }",
            "components.t.subscriptions[0].filter",
            "no request class",
        ),
        (
            "{ target = \"q\", filter = [\"orders\"] }",
            "components.t.subscriptions[0].filter[0]",
            "starts with",
        ),
        (
            "{ target = \"q\", dead_letter = \"web\" }",
            "components.t.subscriptions[0].dead_letter",
            "a dead-letter queue is a queue",
        ),
        (
            "{ target = \"q\", timeout = \"0s\" }",
            "components.t.subscriptions[0].timeout",
            "more than zero",
        ),
        (
            "{ target = \"q\", retries = 2 }",
            "components.t.subscriptions[0].retries",
            "only an HTTP",
        ),
        (
            "{ target = \"web\", retries = 101 }",
            "components.t.subscriptions[0].retries",
            "0 to 100",
        ),
        (
            "{ target = \"web\", retry_delay = \"2h\" }",
            "components.t.subscriptions[0].retry_delay",
            "1s to 1h",
        ),
    ];
    for (sub, key, words) in cases {
        let text = BASE.replacen(subs, &format!("subscriptions = [{sub}]"), 1);
        let e = scenario::parse("bad.toml", &text, &[]).expect_err(sub);
        let d = e
            .diagnostics
            .iter()
            .find(|d| d.key_path.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("no diagnostic at `{key}` in:\n{e}"));
        let line_no = text[..text.find("subscriptions = [").unwrap()]
            .matches('\n')
            .count()
            + 1;
        assert_eq!(d.location.map(|l| l.0), Some(line_no), "{key}: {d}");
        assert!(d.to_string().contains(words), "{key}: {d}");
    }
    let text = BASE.replacen(subs, "subscriptions = []", 1);
    let e = scenario::parse("bad.toml", &text, &[]).expect_err("empty");
    assert!(e.to_string().contains("1 to 64 subscriptions"), "{e}");
}

#[test]
fn a_worker_pool_must_receive_from_a_queue() {
    let text = BASE.replacen("queue = \"q\"", "queue = \"web\"", 1);
    let e = scenario::parse("bad.toml", &text, &[]).expect_err("not a queue");
    assert!(e.to_string().contains("receives from a queue"), "{e}");
    let text = BASE.replacen("queue = \"q\"", "queue = \"qq\"", 1);
    let e = scenario::parse("bad.toml", &text, &[]).expect_err("no such");
    assert!(e.to_string().contains("did you mean"), "{e}");
}

#[test]
fn explain_draws_the_queue_the_pool_and_the_topic() {
    let c = scenario::embedded::chapter(10).unwrap();
    let scn = scenario::parse("chapter:10", c.text, &[]).unwrap();
    let text = scalesim::explain::explain(&scn);
    for w in ["topic", "queue", "worker pool", "recs_workers", "recs_q"] {
        assert!(text.contains(w), "{w} missing from:\n{text}");
    }
    let _ = Override::parse("a=1");
}
