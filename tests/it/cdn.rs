//! Regions, the network between them and the CDN: the hop's round trips, answer sizes over the
//! last mile and a region's latency fault derived by hand with jitter off; anycast and the
//! reroute on an edge outage; chapter 14's must-show — Mumbai's image latency falls by about the
//! round-trip difference between origin and edge, and the origin's image load by the hit ratio —
//! with tolerances from the run; and a located error for every new key.

use scalesim::model::kit::{Card, Figure};
use scalesim::run::RunOutput;
use scalesim::scenario::{self, Override};

fn run(text: &str) -> RunOutput {
    let scn = scenario::parse("cdn.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    let out = scalesim::run::run(&scn, &mut |_| {});
    // Every request exactly one outcome.
    assert_eq!(
        out.metrics.started,
        out.metrics.ended + out.open_at_end,
        "conservation"
    );
    out
}

fn card<'a>(out: &'a RunOutput, kind: &str) -> &'a Card {
    &out.cards.iter().find(|(k, _)| *k == kind).expect("card").1
}

fn field<'a>(c: &'a Card, key: &str) -> &'a Figure {
    &c.fields
        .iter()
        .find(|(k, _)| *k == key)
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

fn num(f: &Figure) -> f64 {
    match f {
        Figure::Count(n) => *n as f64,
        Figure::Value(x) => *x,
        Figure::Maybe(Some(x)) => *x,
        other => panic!("not a number: {other:?}"),
    }
}

fn row<'a>(c: &'a Card, table: &str, name: &str) -> &'a [(&'static str, Figure)] {
    match field(c, table) {
        Figure::Table(rows) => rows
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.as_slice())
            .unwrap_or_else(|| panic!("no row {name} in {table}")),
        other => panic!("{table} is not a table: {other:?}"),
    }
}

fn cell(r: &[(&'static str, Figure)], key: &str) -> f64 {
    num(&r.iter().find(|(k, _)| *k == key).expect("cell").1)
}

/// Users only in `users` regions, one request at a time each, jitter off: the last mile is 40 ms
/// round trip, inside a region 0.5 ms. Think times are spread (0.9–1.1 s) so that users do not
/// arrive together: the origin's 16 vCPUs then never have more than 16 jobs, and every job takes
/// exactly its work.
fn world(users: &str, mix: &str, components: &str, extra: &str) -> String {
    format!(
        r#"[scenario]
name = "cdn"
duration = "6m"
warmup = "1m"
seed = 5

[workload]
users = 20
think_time = {{ dist = "uniform", min = "900ms", max = "1100ms" }}
timeout = "30s"
mix = [{mix}]

[network]
client_rtt = "40ms"
internal_rtt = "500us"
jitter = 0

[network.regions]
home = "ohio"
users = {{ {users} }}
bandwidth_mbps = 50

{components}
{extra}
"#
    )
}

/// The origin: 10 ms a request, no TLS handshake work of its own (so the hops are the sums).
const WEB: &str = "[components.web]\nkind = \"server\"\ninstance = \"c5.4xlarge\"\nworkers = 64\n\
                   tls_cpu = \"0s\"\nservice = { dist = \"deterministic\", value = \"10ms\" }\n";

/// The latency every request of a run took (jitter off: all the same, within the histogram's
/// 0.1 %), ms.
fn the_latency(out: &RunOutput) -> f64 {
    let h = &out.metrics.classes[0].latency;
    assert!(h.len() > 1000);
    let (lo, hi) = (h.min() as f64 / 1e6, h.max() as f64 / 1e6);
    assert!(hi - lo <= hi * 0.002, "not one latency: {lo}..{hi}");
    h.value_at_quantile(0.5) as f64 / 1e6
}

/// Two latencies differ by `want` ms, within the histogram's 0.1 % of each.
fn differ_by(a: f64, b: f64, want: f64) {
    let tol = (a + b) * 0.001 + 0.01;
    assert!(
        (a - b - want).abs() <= tol,
        "{a} − {b} = {} ≠ {want}",
        a - b
    );
}

#[test]
fn a_user_pays_the_last_mile_the_region_round_trip_and_the_answer_size() {
    // Users in Ohio reach the server in Ohio over the last mile only: the same latency as
    // without regions. From Mumbai it is 196 ms more (the round trip Mumbai–Ohio); a 2 MB
    // answer at 50 Mbit/s takes 16e6 / 50e6 s = 320 ms more.
    let get = "{ name = \"get\", weight = 1 }";
    let sized = "{ name = \"get\", weight = 1, size = \"2MB\" }";
    let ohio = the_latency(&run(&world("ohio = 1", get, WEB, "")));
    let plain = the_latency(&run(&world("ohio = 1", get, WEB, "").replace(
        "[network.regions]\nhome = \"ohio\"\nusers = { ohio = 1 }\nbandwidth_mbps = 50\n",
        "",
    )));
    differ_by(ohio, plain, 0.0);
    let mumbai = the_latency(&run(&world("mumbai = 1", get, WEB, "")));
    differ_by(mumbai, ohio, 196.0);
    let big = the_latency(&run(&world("mumbai = 1", sized, WEB, "")));
    differ_by(big, mumbai, 320.0);
}

#[test]
fn a_component_placed_in_another_region_costs_the_round_trip_between_them() {
    // Users in Ohio; the gateway at home (Ohio) routes to `web`. Placed in Frankfurt, `web` is
    // 102 ms further (the round trip Ohio–Frankfurt) than at home, where the hop is internal
    // (0.5 ms): 101.5 ms more.
    let comps = format!(
        "{WEB}\n[components.gw]\nkind = \"api_gateway\"\nroutes = [{{ path = \"/\", target = \"web\" }}]\n"
    );
    let text = world("ohio = 1", "{ name = \"get\", weight = 1 }", &comps, "")
        .replace("timeout = \"30s\"", "timeout = \"30s\"\ntarget = \"gw\"");
    let home = the_latency(&run(&text));
    let away = the_latency(&run(&text.replace(
        "bandwidth_mbps = 50",
        "bandwidth_mbps = 50\nplacement = { web = \"frankfurt\" }",
    )));
    differ_by(away, home, 101.5);
}

#[test]
fn a_latency_fault_on_a_region_delays_only_its_users_both_ways() {
    // Half the users in Mumbai, half in Frankfurt; +100 ms each way on Mumbai's link for the
    // whole measured run: Mumbai's requests take 196 − 102 + 200 = 294 ms more than Frankfurt's.
    let text = world(
        "mumbai = 1, frankfurt = 1",
        "{ name = \"get\", weight = 1 }",
        WEB,
        "[[faults]]\nat = \"30s\"\nkind = \"latency\"\nregion = \"mumbai\"\nadded = \"100ms\"\n",
    );
    let spread = |out: &RunOutput| {
        let h = &out.metrics.classes[0].latency;
        (h.max() as f64 / 1e6, h.min() as f64 / 1e6)
    };
    let (hi, lo) = spread(&run(&text));
    differ_by(hi, lo, 294.0);
    // Without the fault: 94 ms.
    let (hi, lo) = spread(&run(&text.replace("added = \"100ms\"", "added = \"1ns\"")));
    differ_by(hi, lo, 94.0);
}

fn cdn(edges: &str, extra: &str) -> String {
    format!(
        "[components.cdn]\nkind = \"cdn\"\norigin = \"web\"\nedges = [{edges}]\nimages = 4\n\
         catalog = 50\ncapacity = 50\nskew = 0.5\n{extra}\n{WEB}"
    )
}

#[test]
fn images_from_a_warm_edge_cost_the_round_trip_to_the_edge_and_from_the_origin_to_the_origin() {
    // Mumbai's users, jitter off. The edge holds the whole catalog (50 objects), so after the
    // warm-up every image is a hit: 40 ms (last mile) + 0 (the Mumbai edge) + 5 ms at the edge
    // = 45 ms. From the origin in Ohio: 40 + 196 + 0.5 (the hop inside Ohio) + 2 ms (an image's
    // work, 0.2 × 10 ms) = 238.5 ms. The difference, 193.5 ms, is the round-trip difference
    // (196 − 0) less the edge's 5 ms plus what the origin spends (2.5 ms).
    let users = "mumbai = 1";
    let mix = "{ name = \"page\", weight = 1 }";
    let target = "timeout = \"30s\"\ntarget = \"cdn\"";
    let edge =
        run(&world(users, mix, &cdn("\"mumbai\"", ""), "").replace("timeout = \"30s\"", target));
    let origin = run(&world(users, mix, &cdn("", ""), "").replace("timeout = \"30s\"", target));
    let (e, o) = (card(&edge, "cdn"), card(&origin, "cdn"));
    let me = row(e, "by_region", "mumbai");
    let mo = row(o, "by_region", "mumbai");
    let (pe, po) = (cell(me, "image_p50_ms"), cell(mo, "image_p50_ms"));
    // HDR histograms keep 3 significant digits: ±0.1 %.
    assert!((pe - 45.0).abs() < 0.1, "{pe}");
    assert!((po - 238.5).abs() < 0.3, "{po}");
    assert_eq!(num(field(e, "hit_ratio")), 1.0);
    assert_eq!(num(field(o, "origin_images")), num(field(o, "images")));
    // The page: its API call goes on from the edge to the origin, 40 + 196 + 10 = 246 ms (the
    // hits, done at the edge in 5 ms, add nothing).
    let page = cell(me, "page_p50_ms");
    assert!((page - 246.0).abs() < 0.3, "{page}");
}

#[test]
fn anycast_picks_the_nearest_edge_and_an_outage_moves_its_users_to_the_next() {
    // Mumbai's users; edges in Frankfurt (110 ms), Singapore (56) and Mumbai (0). The Mumbai
    // edge is out from 2m to 4m of a 6m run (1m warm-up): its users go to Singapore, never to
    // Frankfurt. Each user sends one page a second (and waits for it), so the edges' shares of
    // the measured pages are the shares of time, within a page per user at each switch.
    let fault = "[[faults]]\nat = \"2m\"\nkind = \"stop\"\ntarget = \"cdn\"\nregion = \"mumbai\"\nduration = \"2m\"\n";
    let text = world(
        "mumbai = 1",
        "{ name = \"page\", weight = 1 }",
        &cdn("\"frankfurt\", \"singapore\", \"mumbai\"", ""),
        fault,
    )
    .replace("timeout = \"30s\"", "timeout = \"30s\"\ntarget = \"cdn\"");
    let out = run(&text);
    let c = card(&out, "cdn");
    let pages = num(field(c, "pages"));
    let sg = cell(row(c, "by_edge", "singapore"), "pages");
    let mb = cell(row(c, "by_edge", "mumbai"), "pages");
    assert_eq!(cell(row(c, "by_edge", "frankfurt"), "pages"), 0.0);
    assert_eq!(sg + mb, pages);
    // 2 of the 5 measured minutes at Singapore, where a page takes longer: its API call goes
    // Singapore → Ohio, 20 + 28 + 100 + 10 + 100 + 28 + 20 = 306 ms against 246 ms from Mumbai,
    // so a user's cycle (1 s of thought on average + the page) is 1.306 s there and 1.246 s at
    // Mumbai:
    // Singapore's share is (2/1.306) / (2/1.306 + 3/1.246) = 0.3888. ±40 pages (one per user at
    // each switch, and the cycles cut at the run's edges).
    let share = (2.0 / 1.306) / (2.0 / 1.306 + 3.0 / 1.246);
    assert!((sg - pages * share).abs() <= 40.0, "{sg} of {pages}");
    let tl: Vec<&str> = out.timeline.iter().map(|e| e.text.as_str()).collect();
    assert!(tl.iter().any(|t| t.contains("edge mumbai out")), "{tl:?}");
    assert!(tl.iter().any(|t| t.contains("edge mumbai back")), "{tl:?}");
}

#[test]
fn a_shield_answers_misses_the_edges_share() {
    // Two edges, each holding the whole catalog, behind a shield: each object is fetched from
    // the origin at most once (by whichever edge asks first) and the other edge's first miss of
    // it is a shield hit — so origin images ≤ catalog, and shield hits ≥ 1.
    let text = world(
        "mumbai = 1, frankfurt = 1",
        "{ name = \"page\", weight = 1 }",
        &cdn("\"mumbai\", \"frankfurt\"", "shield = \"ohio\""),
        "",
    )
    .replace("timeout = \"30s\"", "timeout = \"30s\"\ntarget = \"cdn\"")
    .replace("warmup = \"1m\"", "warmup = \"0s\"");
    let out = run(&text);
    let c = card(&out, "cdn");
    // Fetches of one object can overlap while the first is in flight: at most one per page in
    // flight, 20 users: origin fetches ≤ catalog × (1 + 20).
    let origin = num(field(c, "origin_images"));
    assert!(origin <= 50.0 * 21.0, "{origin}");
    assert!(num(field(c, "shield_hits")) >= 1.0);
}

/// Chapter 14 cut to 8 minutes (2 of warm-up), with variant `v`.
fn chapter(v: Option<&str>) -> RunOutput {
    let sets: Vec<Override> = [
        "scenario.duration=\"8m\"",
        "scenario.warmup=\"2m\"",
        "faults=[]",
    ]
    .iter()
    .map(|s| Override::parse(s).expect("set"))
    .collect();
    let scn = scenario::load_variant("chapter:14", v, &sets).unwrap_or_else(|e| panic!("{e}"));
    let out = scalesim::run::run(&scn, &mut |_| {});
    assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);
    out
}

#[test]
fn chapter_14_mumbai_images_fall_by_the_round_trip_and_the_origin_load_by_the_hit_ratio() {
    let (cdn_run, origin_run) = (chapter(None), chapter(Some("origin")));
    let (c, o) = (card(&cdn_run, "cdn"), card(&origin_run, "cdn"));
    // 1. Mumbai's median image: from the Mumbai edge vs from Ohio. The difference should be the
    // round-trip difference (196 ms) less the edge's 5 ms plus the origin's time for an image
    // (a 4 ms mean of work on a 10-server fleet at ~60 %: a few ms); jitter (±10 % of each
    // one-way leg) moves a median by well under 1 %. Tolerance: 196 ± 15 ms.
    let pe = cell(row(c, "by_region", "mumbai"), "image_p50_ms");
    let po = cell(row(o, "by_region", "mumbai"), "image_p50_ms");
    let drop = po - pe;
    assert!((drop - 196.0).abs() < 15.0, "edge {pe} ms, origin {po} ms");
    // 2. The origin's image rate with the CDN is (1 − hit ratio) × the image rate it carries
    // without one. Both rates are counts over 6 minutes of ~1,900/s: the runs' own Poisson noise
    // (closed-loop users, so the page rate varies with latency too) is under 1 %; allow 3 %.
    let h = num(field(c, "hit_ratio"));
    let with = num(field(c, "origin_image_rate_per_s"));
    let without = num(field(o, "origin_image_rate_per_s"));
    let expect = (1.0 - h) * without;
    assert!(
        (with / expect - 1.0).abs() < 0.03,
        "{with} vs {expect} (h {h})"
    );
    assert!(h > 0.8 && h < 0.95, "{h}");
    // And the origin's servers really received them (since the warm-up; a few in flight at it).
    let arrivals: f64 = cdn_run
        .cards
        .iter()
        .filter(|(_, c)| c.section == scalesim::model::kit::Section::Servers)
        .map(|(_, c)| num(field(c, "arrivals")))
        .sum();
    let sent = num(field(c, "origin_images")) + num(field(c, "origin_api_calls"));
    assert!((arrivals - sent).abs() <= 1000.0, "{arrivals} vs {sent}");
    // 3. summary.md says both, with the numbers.
    let md = scalesim::report::summary::summary_md(
        &scenario::load("chapter:14", &[]).expect("loads"),
        &cdn_run,
    );
    assert!(md.contains("## Latency by region (cdn)"), "{md}");
    assert!(md.contains("**mumbai users**: images in"), "{md}");
    assert!(
        md.contains("196 ms more — the round-trip difference"),
        "{md}"
    );
    assert!(md.contains("its image load fell by the hit ratio"), "{md}");
}

// ---- bad input: every new key, located ----

fn err_at(text: &str, path: &str) -> scalesim::scenario::error::Diagnostic {
    let e = match scenario::parse("bad.toml", text, &[]) {
        Ok(_) => panic!("expected an error at {path}:\n{text}"),
        Err(e) => e,
    };
    let d = e
        .diagnostics
        .iter()
        .find(|d| d.key_path.as_deref() == Some(path))
        .unwrap_or_else(|| panic!("no diagnostic at `{path}` in:\n{e}"))
        .clone();
    assert!(d.location.is_some(), "not located: {d}");
    d
}

fn base(regions: &str, cdn_keys: &str, faults: &str) -> String {
    let regions = if regions == "-" {
        String::new()
    } else {
        format!("[network.regions]\n{regions}\n")
    };
    format!(
        "[scenario]\nname = \"b\"\nduration = \"10m\"\n\n[workload]\nusers = 1\ntarget = \"cdn\"\n\
         mix = [{{ name = \"page\", weight = 1 }}]\n\n{regions}\n[components.cdn]\nkind = \"cdn\"\n\
         origin = \"web\"\n{cdn_keys}\n\n{WEB}\n{faults}"
    )
}

#[test]
fn every_new_key_is_checked_where_it_is_written() {
    let ok = base("home = \"ohio\"", "edges = [\"mumbai\"]", "");
    scenario::parse("ok.toml", &ok, &[]).unwrap_or_else(|e| panic!("{e}"));
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("home = \"ohi\"", "", "", "network.regions.home", "did you mean \"ohio\""),
        ("users = { mars = 1 }", "", "", "network.regions.users.mars", "regions:"),
        ("users = { mumbai = -1 }", "", "", "network.regions.users.mumbai", ""),
        ("users = { mumbai = 0 }", "", "", "network.regions.users", ""),
        ("rtt = { mumbai = { mumbai = \"5ms\" } }", "", "", "network.regions.rtt.mumbai.mumbai", ""),
        ("rtt = { mumbai = { ohio = \"20s\" } }", "", "", "network.regions.rtt.mumbai.ohio", ""),
        ("rtt = { mumbia = { ohio = \"20ms\" } }", "", "", "network.regions.rtt.mumbia", "mumbai"),
        ("placement = { nothere = \"ohio\" }", "", "", "network.regions.placement.nothere", ""),
        ("placement = { web = \"moon\" }", "", "", "network.regions.placement.web", ""),
        ("bandwidth_mbps = 0", "", "", "network.regions.bandwidth_mbps", ""),
        ("", "origin2 = 1", "", "components.cdn.origin2", ""),
        ("", "edges = [\"mumbay\"]", "", "components.cdn.edges[0]", "mumbai"),
        ("", "edges = [\"mumbai\", \"mumbai\"]", "", "components.cdn.edges[1]", ""),
        ("", "shield = \"ohio\"", "", "components.cdn.shield", "edges"),
        ("", "edges = [\"mumbai\"]\nshield = \"x\"", "", "components.cdn.shield", ""),
        ("", "images = 65", "", "components.cdn.images", ""),
        ("", "catalog = 0", "", "components.cdn.catalog", ""),
        ("", "skew = -1", "", "components.cdn.skew", ""),
        ("", "capacity = 20000000", "", "components.cdn.capacity", ""),
        ("", "ttl = \"0s\"", "", "components.cdn.ttl", ""),
        ("", "edge_latency = \"11s\"", "", "components.cdn.edge_latency", ""),
        ("", "image_size = \"lots\"", "", "components.cdn.image_size", ""),
        ("", "image_work = 0", "", "components.cdn.image_work", ""),
        ("", "origin_timeout = \"0s\"", "", "components.cdn.origin_timeout", ""),
        (
            "",
            "",
            "[[faults]]\nat = \"1m\"\nkind = \"crash\"\ntarget = \"web\"\nregion = \"mumbai\"",
            "faults[0].region",
            "",
        ),
        (
            "",
            "",
            "[[faults]]\nat = \"1m\"\nkind = \"stop\"\ntarget = \"web\"\nregion = \"mumbai\"",
            "faults[0].region",
            "only a CDN",
        ),
        (
            "",
            "",
            "[[faults]]\nat = \"1m\"\nkind = \"latency\"\nregion = \"atlantis\"\nadded = \"1s\"",
            "faults[0].region",
            "regions:",
        ),
        (
            "",
            "",
            "[[faults]]\nat = \"1m\"\nkind = \"latency\"\ntarget = \"web\"\nregion = \"mumbai\"\nadded = \"1s\"",
            "faults[0].region",
            "",
        ),
    ];
    for (regions, keys, faults, path, help) in cases {
        let text = base(regions, keys, faults);
        let d = err_at(&text, path);
        let shown = d.to_string();
        assert!(shown.contains(help), "{path}: `{help}` not in\n{shown}");
    }
    // A CDN, an answer size and a region fault need [network.regions].
    let d = err_at(&base("-", "", ""), "components.cdn");
    assert!(d.message.contains("[network.regions]"), "{d}");
    let sized = base("-", "", "").replace(
        "{ name = \"page\", weight = 1 }",
        "{ name = \"page\", weight = 1, size = \"2MB\" }",
    );
    let d = err_at(&sized, "workload.mix[0].size");
    assert!(d.message.contains("[network.regions]"), "{d}");
    let d = err_at(
        &base(
            "-",
            "",
            "[[faults]]\nat = \"1m\"\nkind = \"latency\"\nregion = \"mumbai\"\nadded = \"1s\"",
        ),
        "faults[0].region",
    );
    assert!(d.message.contains("[network.regions]"), "{d}");
}
