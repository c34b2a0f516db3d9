//! Services: the API gateway (routing by path, 404/429/502/504), call graphs (parallel and
//! sequential calls with their own timeouts), external dependencies (latency, errors, rate limit,
//! outages) and the `cpu_bug` fault — each figure derived by hand from deterministic settings.

use scalesim::model::request::Outcome;
use scalesim::run::RunOutput;
use scalesim::scenario;

/// One closed-loop user sending one request at a time, with a deterministic think time, through
/// a network without jitter: users ↔ data centre 10 ms each way, inside it 1 ms each way.
fn shop(think: &str, mix: &str, components: &str, extra: &str) -> String {
    format!(
        r#"[scenario]
name = "svc"
duration = "10m"
seed = 3

[workload]
users = 1
think_time = {{ dist = "deterministic", value = "{think}" }}
timeout = "30s"
mix = [{mix}]

[network]
client_rtt = "20ms"
internal_rtt = "2ms"
jitter = 0

{components}
{extra}
"#
    )
}

fn run(text: &str) -> RunOutput {
    let scn = scenario::parse("svc.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    scalesim::run::run(&scn, &mut |_| {})
}

fn class<'a>(out: &'a RunOutput, name: &str) -> &'a scalesim::metrics::ClassStats {
    out.metrics
        .classes
        .iter()
        .find(|c| c.name == name)
        .expect("class")
}

fn server(name: &str, ms: u64) -> String {
    format!(
        "[components.{name}]\nkind = \"server\"\ninstance = \"c5.large\"\nworkers = 8\n\
         service = {{ dist = \"deterministic\", value = \"{ms}ms\" }}\n"
    )
}

#[test]
fn a_call_graph_takes_the_max_of_parallel_parts_and_the_sum_of_sequential_ones_plus_hops() {
    // users → gateway (0 ms of its own) → front (1 ms of work) → calls to s10, s20, s30.
    // Each hop inside the data centre is 1 ms one way; users ↔ gateway 10 ms one way.
    //   parallel:   10 (in) + 1 (→front) + 1 (front's work) + [1 + 30 + 1] (slowest call)
    //               + 1 (front→gateway) + 10 (out) = 55 ms
    //   sequential: 10 + 1 + 1 + [(1 + 10 + 1) + (1 + 20 + 1) + (1 + 30 + 1)] + 1 + 10 = 89 ms
    for (mode, want_ms) in [("parallel", 55), ("sequential", 89)] {
        let comps = format!(
            "[components.gateway]\nkind = \"api_gateway\"\nlatency = {{ dist = \"deterministic\", value = \"0ms\" }}\n\
             routes = [{{ path = \"/\", target = \"front\" }}]\n\n{}\
             [[components.front.calls]]\nmode = \"{mode}\"\n\
             to = [{{ target = \"s10\" }}, {{ target = \"s20\" }}, {{ target = \"s30\" }}]\n\n{}\n{}\n{}",
            server("front", 1),
            server("s10", 10),
            server("s20", 20),
            server("s30", 30)
        );
        let out = run(&shop("1s", "{ name = \"page\", weight = 1 }", &comps, ""));
        let c = class(&out, "page");
        assert!(c.latency.len() > 100, "{mode}: {} answers", c.latency.len());
        let want = want_ms * 1_000_000;
        // The histogram keeps three significant digits: min and max within 0.1 % of the sum.
        for v in [c.latency.min(), c.latency.max()] {
            assert!(
                (v as i64 - want as i64).abs() <= want as i64 / 1000,
                "{mode}: {v} ns, want {want}"
            );
        }
        assert_eq!(c.outcomes[Outcome::Ok.index()], c.latency.len());
        // At the end, at most the one user's request is in flight: its attempt, the gateway's
        // call and front's calls (nothing leaks, whatever the run's length).
        assert!(
            out.open_at_end <= 1 && out.in_flight_end <= 5,
            "{mode}: {} in flight",
            out.in_flight_end
        );
        assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);
    }
}

#[test]
fn a_call_timeout_gives_a_timeout_or_the_fallback_and_its_late_answer_is_dropped() {
    // front calls slow (500 ms) with a 100 ms timeout. Without a fallback the page fails with a
    // timeout at 10 + 1 + 1 + 100 + 1 + 10 = 123 ms; with fallback = "ok" it succeeds then.
    for (fallback, outcome) in [("", Outcome::Timeout), (", fallback = \"ok\"", Outcome::Ok)] {
        let comps = format!(
            "[components.gateway]\nkind = \"api_gateway\"\nlatency = {{ dist = \"deterministic\", value = \"0ms\" }}\n\
             routes = [{{ path = \"/\", target = \"front\" }}]\n\n{}\
             [[components.front.calls]]\nto = [{{ target = \"slow\", timeout = \"100ms\"{fallback} }}]\n\n{}",
            server("front", 1),
            server("slow", 500)
        );
        let out = run(&shop("1s", "{ name = \"page\", weight = 1 }", &comps, ""));
        let c = class(&out, "page");
        let total: u64 = c.outcomes.iter().sum();
        assert!(total > 100);
        assert_eq!(c.outcomes[outcome.index()], total, "{fallback}");
        if outcome == Outcome::Ok {
            let want = 123_000_000i64;
            assert!((c.latency.max() as i64 - want).abs() <= want / 1000);
        }
        // Late answers freed their calls: at most the last request's attempt, call and the
        // slow call still out are in flight at the end.
        assert!(out.in_flight_end <= 4, "{} in flight", out.in_flight_end);
        assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);
    }
}

#[test]
fn a_call_timeout_behind_a_balancer_settles_its_own_request_and_no_other() {
    // Regression: a call's deadline read the top hop of its route — the balancer's while the call
    // was out behind one — and settled another request's fan-out (a fast route then saw 502s and
    // timeouts it never earned).
    let text = r#"[scenario]
name = "gw"
duration = "5m"
seed = 1
[workload]
users = 300
think_time = { dist = "exponential", mean = "1s" }
timeout = "5s"
mix = [ { name = "a", path = "/a", weight = 0.8 }, { name = "b", path = "/b", weight = 0.2 } ]
[components.gateway]
kind = "api_gateway"
timeout = "2s"
routes = [ { path = "/a", target = "sa" }, { path = "/b", target = "lb_b" } ]
[components.sa]
kind = "server"
instance = "c5.4xlarge"
workers = 64
service = { dist = "exponential", mean = "10ms" }
[components.lb_b]
kind = "load_balancer"
targets = "fb"
[components.fb]
kind = "fleet"
instance = "c5.large"
min = 2
max = 2
workers = 64
service = { dist = "exponential", mean = "100ms" }
"#;
    let out = run(text);
    let a = class(&out, "a");
    let b = class(&out, "b");
    let total_a: u64 = a.outcomes.iter().sum();
    assert!(total_a > 10_000);
    assert_eq!(a.outcomes[Outcome::Ok.index()], total_a, "{:?}", a.outcomes);
    assert!(
        b.outcomes[Outcome::Timeout.index()] > 1000,
        "b is overloaded"
    );
}

#[test]
fn the_gateway_answers_404_for_a_path_without_a_route_and_routes_the_longest_prefix() {
    let comps = format!(
        "[components.gateway]\nkind = \"api_gateway\"\n\
         routes = [{{ path = \"/\", target = \"web\" }}, {{ path = \"/api\", target = \"api\" }}, \
         {{ path = \"/api/admin\", target = \"nowhere\" }}]\n\n{}\n{}\n{}",
        server("web", 1),
        server("api", 1),
        server("nowhere", 1)
    );
    // "/apiary" is not under "/api" (prefixes match whole segments): it goes to "/".
    let mix = "{ name = \"home\", path = \"/\", weight = 1 }, { name = \"orders\", path = \"/api/orders\", weight = 1 }, \
               { name = \"apiary\", path = \"/apiary\", weight = 1 }, { name = \"admin\", path = \"/api/admin/users\", weight = 1 }";
    let out = run(&shop("200ms", mix, &comps, ""));
    for c in ["home", "orders", "apiary", "admin"] {
        let s = class(&out, c);
        assert_eq!(
            s.outcomes[Outcome::Ok.index()],
            s.outcomes.iter().sum::<u64>(),
            "{c}"
        );
    }
    // Each route's server saw exactly its classes' requests.
    let arrivals = |name: &str| {
        let (_, card) = out.cards.iter().find(|(_, c)| c.name == name).unwrap();
        format!("{:?}", card.fields)
    };
    let admin = class(&out, "admin").outcomes.iter().sum::<u64>();
    assert!(
        arrivals("nowhere").contains(&format!("Count({admin})")),
        "{}",
        arrivals("nowhere")
    );
    // Without a catch-all route an unknown path is a 404 (an error the summary counts).
    let comps = format!(
        "[components.gateway]\nkind = \"api_gateway\"\nroutes = [{{ path = \"/api\", target = \"api\" }}]\n\n{}",
        server("api", 1)
    );
    let out = run(&shop(
        "200ms",
        "{ name = \"home\", path = \"/\", weight = 1 }",
        &comps,
        "",
    ));
    let home = class(&out, "home");
    assert_eq!(
        home.outcomes[Outcome::Error.index()],
        home.outcomes.iter().sum::<u64>()
    );
    let gw = &out
        .cards
        .iter()
        .find(|(k, _)| *k == "api_gateway")
        .unwrap()
        .1;
    let f = format!("{:?}", gw.fields);
    assert!(f.contains("not_found_404"), "{f}");
}

#[test]
fn the_gateway_throttle_admits_the_burst_then_the_rate_and_answers_429_beyond() {
    // 50 users each sending every 10 ms (≈ 4,500 requests/s offered) into a bucket of 100/s with
    // a burst of 20: over 10 minutes at most 20 + 100 × 600 = 60,020 are admitted.
    let comps = format!(
        "[components.gateway]\nkind = \"api_gateway\"\nrate = \"100/s\"\nburst = 20\n\
         routes = [{{ path = \"/\", target = \"web\" }}]\n\n{}",
        server("web", 1)
    );
    let text = shop("10ms", "{ name = \"page\", weight = 1 }", &comps, "")
        .replace("users = 1", "users = 50");
    let scn = scenario::parse("svc.toml", &text, &[]).unwrap();
    let out = scalesim::run::run(&scn, &mut |_| {});
    let totals = out.metrics.outcome_totals();
    let ok = totals[Outcome::Ok.index()];
    let throttled = totals[Outcome::Throttled.index()];
    assert!(ok <= 60_020, "admitted {ok}");
    // The warm-up is 0 here, so the bucket admits exactly burst + rate × time up to the last
    // admitted request: within one refill of the bound.
    assert!(ok >= 60_020 - 101, "admitted {ok}");
    assert!(throttled > 500_000, "throttled {throttled}");
}

#[test]
fn an_external_service_fails_its_error_rate_throttles_past_its_limit_and_has_outages() {
    let comps = format!(
        "{}[[components.front.calls]]\nto = [{{ target = \"pay\", timeout = \"2s\" }}]\n\n\
         [components.pay]\nkind = \"external\"\nlatency = {{ dist = \"deterministic\", value = \"50ms\" }}\n\
         error_rate = \"10%\"\n",
        server("front", 1)
    );
    let faults = "[[faults]]\nat = \"4m\"\nkind = \"stop\"\ntarget = \"pay\"\nduration = \"1m\"\n\
                  [[faults]]\nat = \"7m\"\nkind = \"hang\"\ntarget = \"pay\"\nduration = \"1m\"\n";
    let at_front = |t: String| t.replace("mix = [", "target = \"front\"\nmix = [");
    let out = run(&at_front(shop(
        "100ms",
        "{ name = \"buy\", weight = 1 }",
        &comps,
        faults,
    )));
    let c = class(&out, "buy");
    let n: u64 = c.outcomes.iter().sum();
    let err = c.outcomes[Outcome::Error.index()];
    let unavailable = c.outcomes[Outcome::Unavailable.index()];
    let timeouts = c.outcomes[Outcome::Timeout.index()];
    // During the stop every call is refused at once (503); during the hang each waits for the
    // 2 s timeout (≈ 60 s / 2.1 s ≈ 28 of them); otherwise 10 % fail.
    assert!(unavailable > 300, "503s {unavailable}");
    assert!((25..=32).contains(&timeouts), "timeouts {timeouts}");
    let served = n - unavailable - timeouts;
    let p = err as f64 / served as f64;
    let se = (0.1 * 0.9 / served as f64).sqrt();
    assert!((p - 0.1).abs() < 4.0 * se, "error share {p} (±{se})");
    // With a rate limit of 5/s (burst 5) on ~8 calls/s offered, the excess is answered 429.
    let limited = comps.replace("error_rate = \"10%\"", "rate_limit = \"5/s\"");
    let out = run(&at_front(shop(
        "10ms",
        "{ name = \"buy\", weight = 1 }",
        &limited,
        "",
    )));
    let c = class(&out, "buy");
    let ok = c.outcomes[Outcome::Ok.index()];
    assert!(ok <= 5 + 5 * 600, "admitted {ok}");
    assert!(c.outcomes[Outcome::Throttled.index()] > 1000);
}

#[test]
fn a_cpu_bug_slows_only_its_path_and_only_where_it_runs() {
    // One server serves both paths; search's bug (10× CPU) makes search slower, not home.
    let comps = server("web", 10);
    let bug = "[[faults]]\nat = \"0s\"\nkind = \"cpu_bug\"\ntarget = \"web\"\npath = \"/search\"\nfactor = 10\n";
    let mix = "{ name = \"home\", path = \"/\", weight = 1 }, { name = \"search\", path = \"/search\", weight = 1 }";
    let text = shop("1s", mix, &comps, bug);
    let out = run(&text.replace("mix = [", "target = \"web\"\nmix = ["));
    let home = class(&out, "home");
    let search = class(&out, "search");
    // One user, one request at a time: home takes 10 ms of CPU, search 100 ms (+ 20 ms of hops).
    assert!((home.latency.max() as i64 - 30_000_000).abs() < 100_000);
    assert!((search.latency.min() as i64 - 120_000_000).abs() < 200_000);
}

fn load(src: &str, sets: &[&str]) -> (scalesim::scenario::Scenario, RunOutput) {
    let overrides: Vec<scenario::Override> = sets
        .iter()
        .map(|s| scenario::Override::parse(s).unwrap())
        .collect();
    let scn = scenario::load(src, &overrides).unwrap_or_else(|e| panic!("{e}"));
    let out = scalesim::run::run(&scn, &mut |_| {});
    (scn, out)
}

#[test]
fn a_rate_limiter_holds_each_client_to_its_bucket_and_counts_who_was_throttled() {
    // A bot from 3 keys at 60/s for 10 minutes through a token bucket of 2/s, burst 5, per
    // client: each key admits at most 5 + 2 × 600 = 1,205; all three at most 3,615. The one
    // user (one request a second) is never throttled.
    let comps = format!(
        "[components.limit]\nkind = \"rate_limiter\"\ntarget = \"web\"\nrate = \"2/s\"\nburst = 5\n\n{}",
        server("web", 1)
    );
    let text = shop("1s", "{ name = \"page\", weight = 1 }", &comps, "").replace(
        "mix = [",
        "target = \"limit\"\nbots = [{ name = \"bot\", rate = \"60/s\", keys = 3 }]\nmix = [",
    );
    let out = run(&text);
    let bot = class(&out, "bot");
    let ok = bot.outcomes[Outcome::Ok.index()];
    assert!(ok <= 3 * 1205, "admitted {ok}");
    assert!(
        ok >= 3 * 1205 - 3 * 3,
        "admitted {ok}: the bucket refills all the time"
    );
    let page = class(&out, "page");
    assert_eq!(page.outcomes[Outcome::Throttled.index()], 0);
    let (_, card) = out
        .cards
        .iter()
        .find(|(k, _)| *k == "rate_limiter")
        .unwrap();
    let f = format!("{:?}", card.fields);
    assert!(f.contains("(\"users_throttled\", Count(0))"), "{f}");
    // Globally, the bucket is shared: 5 + 2 × 600 admitted in all, the user's requests included.
    let global = text.replace("burst = 5\n", "burst = 5\nper = \"global\"\n");
    let out = run(&global);
    let admitted = class(&out, "bot").outcomes[Outcome::Ok.index()]
        + class(&out, "page").outcomes[Outcome::Ok.index()];
    assert!((1205 - 3..=1205).contains(&admitted), "admitted {admitted}");
    assert!(class(&out, "page").outcomes[Outcome::Throttled.index()] > 0);
}

#[test]
fn microservices_confine_the_search_bug_and_the_monolith_spreads_it() {
    // Chapter 6's must-show: the same workload and bug; in services only search misses its
    // objective, in the monolith browse and buy miss theirs too; summary.md names the routes.
    let (scn, out) = load("scenarios/06-microservices.toml", &[]);
    let v = scalesim::slo::evaluate(&scn.slos, &out);
    for verdict in &v {
        let label = verdict.objective.label.clone();
        assert_eq!(verdict.passed, !label.starts_with("search"), "{label}");
    }
    let md = scalesim::report::summary::summary_md(&scn, &out);
    assert!(md.contains("**Hit:** search ("), "{md}");
    assert!(md.contains("browse, buy."), "{md}");
    // The bottleneck is named: the search service's CPU, saturated while the bug ran (15 of the
    // 55 measured minutes, give or take a window on each side).
    assert!(
        md.contains("**Bottleneck:** search's CPU — saturated"),
        "{md}"
    );
    let (scn, out) = load("scenarios/06-monolith.toml", &[]);
    let v = scalesim::slo::evaluate(&scn.slos, &out);
    assert!(
        v.iter().all(|x| !x.passed),
        "every objective missed in the monolith"
    );
    let md = scalesim::report::summary::summary_md(&scn, &out);
    assert!(md.contains("**Every route was hit:**"), "{md}");
    assert!(
        md.contains("**Bottleneck:** shop's CPU — saturated"),
        "{md}"
    );
}

#[test]
fn chapter_11_holds_the_bots_to_the_limit_and_keeps_the_users_within_their_objectives() {
    // With the limits: 50 bot addresses × at most 10 logins a minute for 30 minutes (the
    // sliding window estimates, so allow one window's worth more per key).
    let (scn, out) = load("chapter:11", &[]);
    let pops = scalesim::report::results::populations(&scn, &out).expect("bots");
    let (users, bot) = (&pops[0], &pops[1]);
    let admitted = bot.requests - bot.throttled;
    assert!(admitted <= 50 * 10 * 31, "bots admitted {admitted}");
    assert!(bot.throttled_share() > 0.99);
    assert!(
        users.throttled_share() < 0.001,
        "{}",
        users.throttled_share()
    );
    let v = scalesim::slo::evaluate(&scn.slos, &out);
    assert!(v.iter().all(|x| x.passed), "{v:?}");
    let doc = scalesim::report::results::results_json(&scn, &out);
    assert!(doc["populations"][0]["throttled_share"].is_number());
    // Without them the gateway's shared throttle turns real users away.
    let (scn, out) = load("chapter:11", &["workload.target=\"gateway\""]);
    let pops = scalesim::report::results::populations(&scn, &out).unwrap();
    assert!(
        pops[0].throttled_share() > 0.1,
        "{}",
        pops[0].throttled_share()
    );
    let v = scalesim::slo::evaluate(&scn.slos, &out);
    assert!(v.iter().filter(|x| !x.passed).count() >= 3);
}
