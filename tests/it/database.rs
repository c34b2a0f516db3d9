//! The database kind: replication lag and stale reads as the model says (deterministic settings,
//! the figures derived by hand), failover timing within one health-check interval, the
//! connection pool's waits, timeouts and refusals, reads shifting off a failed replica, bad input
//! for every key located, and conservation (one outcome per request) with database faults.

use scalesim::model::kit::Figure;
use scalesim::run::RunOutput;
use scalesim::scenario;
use scalesim::scenario::error::LoadError;

/// One user straight to the database (no web tier), deterministic think time and costs, a
/// network without jitter (users ↔ the database 10 ms each way).
fn db_file(users: u32, think: &str, mix: &str, db: &str, rest: &str) -> String {
    let read = if db.contains("point_read") {
        ""
    } else {
        "point_read = { dist = \"deterministic\", value = \"1ms\" }"
    };
    format!(
        r#"[scenario]
name = "db"
duration = "30m"
seed = 5

[workload]
users = {users}
think_time = {{ dist = "deterministic", value = "{think}" }}
timeout = "60s"
target = "db"
mix = [{mix}]

[network]
client_rtt = "20ms"
internal_rtt = "2ms"
jitter = 0

[components.db]
kind = "database"
{read}
write = {{ dist = "deterministic", value = "1ms" }}
queries = [{{ path = "/orders", type = "write" }}]
{db}

{rest}
"#
    )
}

const WRITES: &str = r#"{ name = "buy", path = "/orders", weight = 1 }"#;
const HALF: &str = r#"{ name = "buy", path = "/orders", weight = 0.5 }, { name = "browse", path = "/products", weight = 0.5 }"#;

fn run(text: &str) -> RunOutput {
    let scn = scenario::parse("db.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
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

fn num(out: &RunOutput, key: &str) -> f64 {
    match card(out, "db").iter().find(|(k, _)| *k == key) {
        Some((_, Figure::Count(n))) => *n as f64,
        Some((_, Figure::Value(v))) | Some((_, Figure::Maybe(Some(v)))) => *v,
        other => panic!("{key}: {other:?}"),
    }
}

/// Every request started has ended or is still open (in flight at the end), each once.
fn conserved(out: &RunOutput) {
    let m = &out.metrics;
    assert_eq!(
        m.started,
        m.ended + out.open_at_end,
        "every request has one outcome"
    );
}

fn errors(out: &RunOutput, class: &str) -> u64 {
    let c = out
        .metrics
        .classes
        .iter()
        .find(|c| c.name == class)
        .unwrap();
    c.outcomes.iter().sum::<u64>() - c.outcomes[0]
}

#[test]
fn an_idle_replica_lags_by_the_shipping_delay_plus_the_apply_cost() {
    // Writes about 1 s apart, each shipped 100 ms after its commit and applied in 1 ms on an idle
    // replica: every write's lag is exactly 101 ms (mean = max).
    let out = run(&db_file(
        1,
        "1s",
        WRITES,
        "replicas = 1\nreplica_lag = \"100ms\"\napply_cost = \"1ms\"",
        "",
    ));
    let (mean, max) = (
        num(&out, "replica_lag_mean_ms"),
        num(&out, "replica_lag_max_ms"),
    );
    assert!(
        (mean - 101.0).abs() < 1e-6 && (max - 101.0).abs() < 1e-6,
        "{mean} {max}"
    );
    assert!(num(&out, "writes") > 1000.0);
}

#[test]
fn writes_faster_than_a_replica_applies_them_make_its_lag_grow_without_bound() {
    // Period T = think 1 s + 20 ms round trip + 1 ms of write = 1.021 s; each write costs the
    // replica A = 2 s to apply. The apply thread never rests, so write k is applied at
    // c₀ + L + (k+1)·A and committed at c₀ + k·T: lag_k = L + A + k·(A − T), an arithmetic
    // progression. Over the n applied, mean = L + A + (n−1)(A−T)/2 and max = L + A + (n−1)(A−T):
    // (max − L − A) = 2 (mean − L − A), and max − mean = (n−1)(A−T)/2 with n ≈ 30 min ÷ A.
    let out = run(&db_file(
        1,
        "1s",
        WRITES,
        "replicas = 1\nreplica_lag = \"100ms\"\napply_cost = \"2s\"",
        "",
    ));
    let base = 100.0 + 2000.0;
    let (mean, max) = (
        num(&out, "replica_lag_mean_ms"),
        num(&out, "replica_lag_max_ms"),
    );
    assert!(
        ((max - base) - 2.0 * (mean - base)).abs() < 1e-3,
        "an arithmetic progression: mean {mean}, max {max}"
    );
    // n: the writes applied, about (1800 s − 0.1 s) ÷ 2 s ≈ 899 (the first commit lands a few
    // tens of ms in); so max ≈ 2100 + 898 × 979 ms ≈ 881 s.
    let n = (max - base) / (2000.0 - 1021.0) + 1.0;
    assert!((n - 899.0).abs() <= 1.0, "writes applied: {n}");
}

#[test]
fn a_busy_replica_applies_slower_so_its_lag_grows_with_its_read_load() {
    // 20 users, half writes (~10 a second), half reads from the replica (2 vCPUs): reads of
    // 1 ms leave the replica idle, reads of 500 ms keep ~3 in service, so the apply thread shares
    // the CPU (2 ÷ (1 + reads) of full speed, ~0.5) and each write takes ~2 ms instead of 1.
    let idle = run(&db_file(
        20,
        "1s",
        HALF,
        "replicas = 1\nreplica_lag = \"100ms\"\napply_cost = \"1ms\"",
        "",
    ));
    let busy = run(&db_file(
        20,
        "1s",
        HALF,
        "replicas = 1\nreplica_lag = \"100ms\"\napply_cost = \"1ms\"\n\
         point_read = { dist = \"deterministic\", value = \"500ms\" }",
        "",
    ));
    let (a, b) = (
        num(&idle, "replica_lag_mean_ms"),
        num(&busy, "replica_lag_mean_ms"),
    );
    // Idle: 101 ms plus the rare wait behind another user's write (writes ~100 ms apart, 1 ms
    // each). Busy: about 1 ms more per write applied, plus longer waits behind each other.
    assert!((101.0..102.0).contains(&a), "idle: {a}");
    assert!(b > a + 0.5 && b < 110.0, "busy: {b} against idle {a}");
}

#[test]
fn a_read_is_stale_while_the_replica_has_not_applied_that_users_latest_write() {
    // One user, half writes, half reads, requests 1.021 s apart. With a lag of 5 s + 1 ms a read
    // misses the user's write if any of the previous four requests (4.08 s back; the fifth is
    // 5.1 s back) was a write: 1 − 0.5⁴ = 93.75 % of reads. With 100 ms of lag, none.
    let stale = run(&db_file(
        1,
        "1s",
        HALF,
        "replicas = 1\nreplica_lag = \"5s\"\napply_cost = \"1ms\"",
        "",
    ));
    let ratio = num(&stale, "stale_read_ratio");
    // ~880 reads; the indicator of consecutive reads is correlated (they share writes), so the
    // tolerance is a few times the binomial √(p(1−p)/n) ≈ 0.008.
    assert!((ratio - 0.9375).abs() < 0.04, "stale share {ratio}");
    let fresh = run(&db_file(
        1,
        "1s",
        HALF,
        "replicas = 1\nreplica_lag = \"100ms\"\napply_cost = \"1ms\"",
        "",
    ));
    assert_eq!(num(&fresh, "stale_reads"), 0.0);
    // Reading from the primary is never stale.
    let primary = run(&db_file(
        1,
        "1s",
        HALF,
        "replicas = 1\nreplica_lag = \"5s\"\nread_from = \"primary\"",
        "",
    ));
    assert_eq!(num(&primary, "stale_reads"), 0.0);
    assert_eq!(num(&primary, "reads_on_replicas"), 0.0);
}

#[test]
fn with_a_standby_writes_are_down_for_the_failover_time_plus_at_most_one_check_interval() {
    // Checks every 10 s: a crash at 95 s is found at 100 s; promotion 60 s later, at 160 s:
    // 65 s without writes. Any crash time gives 60 s plus (0, 10 s].
    for (at, want) in [("95s", 65.0), ("100s", 70.0), ("101s", 69.0)] {
        let out = run(&db_file(
            5,
            "200ms",
            HALF,
            "replicas = 1\nstandby = true\nfailover_time = \"60s\"\ncheck_interval = \"10s\"",
            &format!("[[faults]]\nat = \"{at}\"\nkind = \"crash\"\ntarget = \"db\""),
        ));
        let down = num(&out, "write_downtime_s");
        assert!((down - want).abs() < 1e-9, "crash at {at}: {down} s");
        assert!((60.0..=70.0).contains(&down));
        assert_eq!(num(&out, "failovers"), 1.0);
        assert!(num(&out, "unavailable") > 0.0, "writes failed meanwhile");
        conserved(&out);
    }
}

#[test]
fn without_a_standby_writes_stay_down_until_the_restore_and_reads_carry_on() {
    let out = run(&db_file(
        5,
        "200ms",
        HALF,
        "replicas = 1",
        "[[faults]]\nat = \"5m\"\nkind = \"crash\"\ntarget = \"db.primary\"\n\n\
         [[faults]]\nat = \"20m\"\nkind = \"recover\"\ntarget = \"db.primary\"",
    ));
    assert_eq!(num(&out, "write_downtime_s"), 900.0);
    assert_eq!(num(&out, "failovers"), 0.0);
    // Reads all went to the replica and all succeeded; only writes failed.
    assert_eq!(errors(&out, "browse"), 0, "reads are unaffected");
    conserved(&out);
}

#[test]
fn a_failed_replicas_reads_shift_to_the_others_and_it_catches_up_when_back() {
    let out = run(&db_file(
        5,
        "200ms",
        HALF,
        "replicas = 2\npolicy = \"random\"",
        "[[faults]]\nat = \"5m\"\nkind = \"stop\"\ntarget = \"db.replica1\"\nduration = \"10m\"",
    ));
    assert_eq!(
        errors(&out, "browse"),
        0,
        "the other replica takes the reads"
    );
    assert_eq!(num(&out, "reads_on_primary"), 0.0);
    // Replica 1 was down 10 of 30 minutes; its catch-up lags stretch its maximum past 10 min.
    assert!(num(&out, "replica1_lag_max_ms") > 600_000.0);
    assert!(num(&out, "replica2_lag_max_ms") < 1_000.0);
    conserved(&out);
}

#[test]
fn the_pool_waits_up_to_its_timeout_and_refuses_when_it_is_zero() {
    // One connection, queries of 1 s, 5 users: at most one query runs, the others wait in the
    // pool; with a 100 ms pool timeout most waits fail (503); with "0s" they are refused at once.
    for (timeout, key) in [("100ms", "pool_timeouts"), ("0s", "refused")] {
        let out = run(&db_file(
            5,
            "10ms",
            HALF,
            &format!(
                "max_connections = 1\npool_timeout = \"{timeout}\"\n\
                 point_read = {{ dist = \"deterministic\", value = \"1s\" }}"
            ),
            "",
        ));
        assert_eq!(num(&out, "connections_peak"), 1.0);
        let failed = num(&out, key);
        assert!(failed > 1000.0, "{key}: {failed}");
        conserved(&out);
    }
}

#[test]
fn conservation_holds_through_every_database_fault() {
    // The chapter's shape, small: crashes of the primary and a replica, a restore, a stop with a
    // duration, a tight pool — every request still ends exactly once (the invariants run at
    // every window's end in tests).
    let out = run(&db_file(
        50,
        "100ms",
        HALF,
        "replicas = 2\nstandby = true\nmax_connections = 3\npool_timeout = \"50ms\"\n\
         failover_time = \"30s\"",
        "[[faults]]\nat = \"2m\"\nkind = \"crash\"\ntarget = \"db\"\n\n\
         [[faults]]\nat = \"3m\"\nkind = \"crash\"\ntarget = \"db.replica2\"\n\n\
         [[faults]]\nat = \"4m\"\nkind = \"recover\"\ntarget = \"db.replica2\"\n\n\
         [[faults]]\nat = \"6m\"\nkind = \"recover\"\ntarget = \"db\"\n\n\
         [[faults]]\nat = \"8m\"\nkind = \"stop\"\ntarget = \"db.primary\"\nduration = \"1m\"",
    ));
    conserved(&out);
    assert_eq!(
        num(&out, "failovers"),
        2.0,
        "the standby restored at 6 min takes over at 8"
    );
    assert!(num(&out, "crashed") > 0.0);
}

fn load_err(text: &str) -> LoadError {
    scenario::parse("bad.toml", text, &[]).expect_err("must be rejected")
}

#[test]
fn bad_input_for_every_database_key_is_located() {
    let base = |db: &str, rest: &str| db_file(1, "1s", HALF, db, rest);
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "instance = \"db.r9.huge\"",
            "",
            "components.db.instance",
            "db.r5",
        ),
        ("replicas = 16", "", "components.db.replicas", "at most 15"),
        (
            "read_from = \"standby\"",
            "",
            "components.db.read_from",
            "\"replicas\" or \"primary\"",
        ),
        (
            "policy = \"round_robin\"",
            "",
            "components.db.policy",
            "least_loaded",
        ),
        (
            "standby = \"yes\"",
            "",
            "components.db.standby",
            "true or false",
        ),
        (
            "failover_time = \"fast\"",
            "",
            "components.db.failover_time",
            "",
        ),
        (
            "check_interval = \"0s\"",
            "",
            "components.db.check_interval",
            "more than zero",
        ),
        ("standby_rtt = 2", "", "components.db.standby_rtt", ""),
        (
            "max_connections = 0",
            "",
            "components.db.max_connections",
            "between 1",
        ),
        (
            "pool_timeout = \"-1s\"",
            "",
            "components.db.pool_timeout",
            "",
        ),
        (
            "replica_lag = \"1 parsec\"",
            "",
            "components.db.replica_lag",
            "",
        ),
        ("apply_cost = true", "", "components.db.apply_cost", ""),
        (
            "scan = { dist = \"lognormal\", mean = \"5ms\", cv = -1 }",
            "",
            "components.db.scan",
            "cv",
        ),
        (
            "max_conections = 5",
            "",
            "components.db.max_conections",
            "max_connections",
        ),
        (
            "replicas = 1",
            "[[faults]]\nat = \"1m\"\nkind = \"crash\"\ntarget = \"db.replica2\"",
            "faults[0].target",
            "db.replica1",
        ),
        (
            "replicas = 1",
            "[[faults]]\nat = \"1m\"\nkind = \"hang\"\ntarget = \"db\"",
            "faults[0].kind",
            "crash",
        ),
        (
            "replicas = 1",
            "[[faults]]\nat = \"1m\"\nkind = \"slow\"\nfactor = 2\ntarget = \"db.replica1\"",
            "faults[0].kind",
            "crash",
        ),
    ];
    for (db, rest, path, says) in cases {
        let e = load_err(&base(db, rest));
        let d = e
            .diagnostics
            .iter()
            .find(|d| d.key_path.as_deref().is_some_and(|k| k.starts_with(path)))
            .unwrap_or_else(|| panic!("{db} / {rest}: no error at {path}: {e}"));
        assert!(d.location.is_some(), "{path}: located: {d}");
        let all = format!("{} {}", d.message, d.help.clone().unwrap_or_default());
        assert!(all.contains(says), "{path}: says {says:?}: {d}");
    }
    // `queries`: a path without "/" and an unknown type.
    let e = load_err(&db_file(1, "1s", HALF, "", "").replace(
        "{ path = \"/orders\", type = \"write\" }",
        "{ path = \"orders\", type = \"write\" }",
    ));
    assert!(
        e.diagnostics.iter().any(|d| d.key_path.as_deref()
            == Some("components.db.queries[0].path")
            && d.location.is_some()),
        "{e}"
    );
    let e =
        load_err(&db_file(1, "1s", HALF, "", "").replace("type = \"write\"", "type = \"update\""));
    assert!(
        e.diagnostics.iter().any(|d| d
            .key_path
            .as_deref()
            .is_some_and(|k| k.starts_with("components.db.queries"))
            && d.location.is_some()),
        "{e}"
    );
}

#[test]
fn chapter_12_names_the_bottleneck_before_and_after_its_replicas() {
    // One database: its primary serves every read and is saturated nearly the whole run; with
    // two replicas the reads move to them, and they saturate only during the 40 % sale.
    let load = |set: &[&str]| {
        let sets: Vec<_> = set
            .iter()
            .map(|s| scalesim::scenario::overrides::Override::parse(s).expect("override"))
            .collect();
        let scn = scalesim::scenario::load("chapter:12", &sets).expect("chapter 12 loads");
        let out = scalesim::run::run(&scn, &mut |_| {});
        scalesim::report::summary::summary_md(&scn, &out)
    };
    let one = load(&["components.db.replicas=0"]);
    assert!(
        one.contains("**Bottleneck:** db.primary's CPU — saturated"),
        "{one}"
    );
    let two = load(&[]);
    assert!(two.contains("**Bottleneck:** db.replica"), "{two}");
    assert!(two.contains("next: db.replica"), "{two}");
}
