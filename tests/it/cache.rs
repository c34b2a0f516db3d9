//! The cache kind: LRU's hit ratio under Zipf popularity against Che's approximation (and LFU
//! against the static top-C bound), the cold ramp after a flush, coalescing in a herd, exactly
//! one outcome per request through every variant of chapter 13, and a located error for every
//! new key.

use scalesim::run::RunOutput;
use scalesim::scenario::{self, Override};
use std::path::PathBuf;

fn root(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn load(rel: &str, sets: &[String]) -> scenario::Scenario {
    let path = root(rel);
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let ov: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).unwrap_or_else(|e| panic!("--set {s}: {e}")))
        .collect();
    scenario::parse(&path.to_string_lossy(), &text, &ov).unwrap_or_else(|e| panic!("{e}"))
}

fn run_text(text: &str) -> RunOutput {
    let scn = scenario::parse("cache.toml", text, &[]).unwrap_or_else(|e| panic!("{e}"));
    scalesim::run::run(&scn, &mut |_| {})
}

/// A figure of the cache's card (`components[]` entry named `name`).
fn figure(out: &RunOutput, name: &str, key: &str) -> Option<f64> {
    use scalesim::model::kit::Figure;
    let (_, card) = out.cards.iter().find(|(_, c)| c.name == name)?;
    card.fields.iter().find_map(|(k, f)| match f {
        Figure::Count(n) if *k == key => Some(*n as f64),
        Figure::Value(v) if *k == key => Some(*v),
        Figure::Maybe(v) if *k == key => *v,
        _ => None,
    })
}

fn count(out: &RunOutput, key: &str) -> u64 {
    figure(out, "cache", key).unwrap_or_else(|| panic!("no {key}")) as u64
}

/// The per-window values of the cache's gauge `gauge`, with each window's start (ns).
fn gauge(out: &RunOutput, gauge: &str) -> Vec<(u64, f64)> {
    let i = out
        .extra_gauges
        .iter()
        .position(|(c, g)| c == "cache" && g.name == gauge)
        .expect("the gauge is declared");
    out.metrics
        .series
        .iter()
        .map(|r| (r.start, r.gauges.extra[i]))
        .collect()
}

/// Batch means: the standard error of the measured hit ratio from the spread of the windows'
/// hit ratios after the warm-up (each window holds thousands of reads, long against the cache's
/// memory of about capacity / miss-rate ≈ a second or two, so windows are nearly independent
/// batches): sd(window ratios) / √windows.
fn batch_se(out: &RunOutput, warmup: u64) -> f64 {
    let v: Vec<f64> = gauge(out, "hit_ratio")
        .into_iter()
        .filter(|(t, x)| *t >= warmup && x.is_finite())
        .map(|(_, x)| x)
        .collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (var / n).sqrt()
}

fn zipf_run(policy: &str, skew: f64, catalog: u64, capacity: u64) -> (RunOutput, u64) {
    let scn = load(
        "scenarios/validation/cache-zipf.toml",
        &[
            format!("components.cache.skew={skew}"),
            format!("components.cache.catalog={catalog}"),
            format!("components.cache.capacity={capacity}"),
            format!("components.cache.policy=\"{policy}\""),
        ],
    );
    let warmup = scn.warmup;
    (scalesim::run::run(&scn, &mut |_| {}), warmup)
}

#[test]
fn lru_hit_ratio_matches_ches_approximation_and_lfu_approaches_the_top_c_bound() {
    // Several (skew, catalog, capacity) settings: mild and strong skew, small and large caches.
    // Tolerance: 3 standard errors of the run's own hit ratio (batch means, above), or one
    // percentage point, whichever is larger (Che's approximation itself is accurate to well under
    // that for catalogs of thousands of items).
    for &(skew, catalog, capacity) in &[
        (0.9, 100_000, 5_000),
        (0.7, 20_000, 2_000),
        (1.2, 200_000, 1_000),
        (0.5, 10_000, 4_000),
    ] {
        let (out, warmup) = zipf_run("lru", skew, catalog, capacity);
        let h = figure(&out, "cache", "hit_ratio").expect("reads");
        let che = figure(&out, "cache", "che_lru_hit_ratio").expect("che");
        let top = figure(&out, "cache", "top_c_hit_ratio").expect("top-C");
        let tol = (3.0 * batch_se(&out, warmup)).max(0.01);
        assert!(
            (h - che).abs() <= tol,
            "LRU skew {skew} catalog {catalog} capacity {capacity}: measured {h:.4}, Che {che:.4}, tolerance {tol:.4}"
        );
        // Independently of Che: a hand-checked ordering — LRU below the static optimum.
        assert!(h < top, "LRU {h} must stay below the top-C bound {top}");

        // LFU over a fixed popularity drifts towards the most popular items (slowly: newcomers
        // with one read churn at the bottom): at least LRU's ratio, at most the static bound
        // (both within the tolerance), and closer to the bound than LRU.
        let (lfu, _) = zipf_run("lfu", skew, catalog, capacity);
        let hl = figure(&lfu, "cache", "hit_ratio").expect("reads");
        assert!(
            hl <= top + tol,
            "LFU {hl:.4} above the top-C bound {top:.4}"
        );
        assert!(hl >= h - tol, "LFU {hl:.4} below LRU {h:.4}");
        assert!(
            top - hl < top - h,
            "LFU {hl:.4} no closer to the top-C bound {top:.4} than LRU {h:.4}"
        );
    }
}

/// A shop whose every request reads through the cache: open-loop reads at `rate`, a backend
/// server answering in `db_ms`, and `faults`.
fn shop(rate: u32, db_ms: u32, cache: &str, faults: &str) -> String {
    format!(
        r#"[scenario]
name = "cache-test"
duration = "2m"
warmup = "20s"
window = "2s"
seed = 5

[workload]
arrival_rate = "{rate}/s"
target = "cache"
timeout = "30s"

[network]
client_rtt = "0s"
internal_rtt = "0s"

[components.cache]
kind = "cache"
backend = "db"
catalog = 20_000
skew = 1.0
capacity = 4_000
{cache}

[components.db]
kind = "server"
vcpus = 16
workers = 10_000
backlog = 100_000
memory = "64GiB"
memory_per_request = "0B"
service = {{ dist = "deterministic", value = "{db_ms}ms" }}

{faults}
"#
    )
}

#[test]
fn a_flush_empties_the_cache_and_the_hit_ratio_ramps_back() {
    let out = run_text(&shop(
        2000,
        2,
        "",
        "[[faults]]\nat = \"60s\"\nkind = \"flush\"\ntarget = \"cache\"\n",
    ));
    let hr = gauge(&out, "hit_ratio");
    let reads = gauge(&out, "backend_reads_per_s");
    let items = gauge(&out, "items");
    let at = |v: &[(u64, f64)], s: u64| v.iter().find(|(t, _)| *t == s * 1_000_000_000).unwrap().1;
    // Before: full, steady. The window after the flush: far fewer hits, many more backend reads,
    // and the cache holds fewer items than its capacity; 40 s later it is back.
    let before = at(&hr, 56);
    let after = at(&hr, 60);
    assert_eq!(at(&items, 56), 4000.0, "full before the flush");
    assert!(
        after < before - 0.15,
        "the cold window {after:.3} vs before {before:.3}"
    );
    assert!(at(&reads, 60) > 1.5 * at(&reads, 56));
    assert!(at(&items, 60) < 4000.0);
    let late = at(&hr, 100);
    assert!(
        (late - before).abs() < 0.03,
        "recovered {late:.3} vs {before:.3}"
    );
    // Ramp: the hit ratio climbs window by window after the flush (first three windows).
    assert!(at(&hr, 60) < at(&hr, 62) && at(&hr, 62) < at(&hr, 64).max(at(&hr, 62) + 1e-9));
}

#[test]
fn coalescing_turns_a_herd_of_misses_into_one_backend_read_per_item() {
    // The 200 hottest items (of Zipf(1) over 20,000: H(200)/H(20000) ≈ 5.88/10.48 ≈ 56 % of reads)
    // expire at once while 2,000 reads a second arrive and a backend read takes 100 ms: without
    // coalescing every read of them in those 100 ms misses and reads the backend (≈ 2000 × 0.56 ×
    // 0.1 ≈ 110 extra reads); with it, each item is read once and the others wait.
    let herd = "[[faults]]\nat = \"60s\"\nkind = \"expire\"\ntarget = \"cache\"\nitems = 200\n";
    let off = run_text(&shop(2000, 100, "coalesce = false", herd));
    let on = run_text(&shop(2000, 100, "coalesce = true", herd));
    for out in [&off, &on] {
        // Every miss either read the backend or waited for one that did.
        assert_eq!(
            count(out, "misses"),
            count(out, "backend_reads") + count(out, "coalesced")
        );
        assert_eq!(
            count(out, "hits") + count(out, "misses"),
            count(out, "reads")
        );
        assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);
    }
    assert_eq!(count(&off, "coalesced"), 0);
    let saved = count(&on, "coalesced");
    assert!(saved > 100, "coalesced {saved}");
    // In the herd's window the backend took far fewer reads with coalescing.
    let window = |out: &RunOutput| {
        gauge(out, "backend_reads_per_s")
            .into_iter()
            .find(|(t, _)| *t == 60_000_000_000)
            .unwrap()
            .1
    };
    assert!(
        window(&on) < window(&off) - 40.0,
        "herd window: {} reads/s coalesced vs {} without",
        window(&on),
        window(&off)
    );
}

#[test]
fn writes_invalidate_or_write_through_and_ttl_expires_items() {
    let mix = |cache: &str| {
        shop(1000, 2, cache, "")
            .replace(
                "timeout = \"30s\"",
                "timeout = \"30s\"\nmix = [{ name = \"read\", path = \"/p\", weight = 0.8 }, { name = \"write\", path = \"/p/edit\", weight = 0.2 }]",
            )
    };
    let inv = run_text(&mix("writes = [\"/p/edit\"]\non_write = \"invalidate\""));
    let wt = run_text(&mix("writes = [\"/p/edit\"]\non_write = \"write_through\""));
    // Writes go to the backend and are not reads.
    for out in [&inv, &wt] {
        assert_eq!(
            count(out, "reads") + count(out, "backend_writes"),
            count(out, "requests")
        );
        assert!(count(out, "backend_writes") > 0);
    }
    // Invalidating drops hot items that the next read must fill; writing through keeps them.
    let (hi, hw) = (
        figure(&inv, "cache", "hit_ratio").unwrap(),
        figure(&wt, "cache", "hit_ratio").unwrap(),
    );
    assert!(
        hw > hi + 0.02,
        "write-through {hw:.3} vs invalidate {hi:.3}"
    );
    // A 1 s TTL: items are found expired, and the hit ratio is lower than without one.
    let ttl = run_text(&shop(2000, 2, "ttl = \"1s\"", ""));
    let plain = run_text(&shop(2000, 2, "", ""));
    assert!(count(&ttl, "expired") > 1000);
    assert!(
        figure(&ttl, "cache", "hit_ratio").unwrap()
            < figure(&plain, "cache", "hit_ratio").unwrap() - 0.05
    );
    // TTL-only eviction runs with a TTL.
    let t = run_text(&shop(2000, 2, "ttl = \"30s\"\npolicy = \"ttl\"", ""));
    assert!(count(&t, "evictions") > 0);
}

#[test]
fn every_variant_of_chapter_13_ends_every_request_in_exactly_one_outcome() {
    for variant in [None, Some("coalesce"), Some("no_cache")] {
        let mut sets = vec![
            "scenario.duration=\"4m\"".to_string(),
            "scenario.warmup=\"30s\"".to_string(),
            "workload.users=400".to_string(),
        ];
        // Keep the faults inside the shorter run.
        sets.push("faults[0].at=\"1m\"".into());
        sets.push("faults[1].at=\"2m\"".into());
        let path = root("scenarios/13-cache.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let ov: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        let scn = scenario::parse_variant(&path.to_string_lossy(), &text, variant, &ov)
            .unwrap_or_else(|e| panic!("{e}"));
        let out = scalesim::run::run(&scn, &mut |_| {});
        assert_eq!(out.metrics.started, out.metrics.ended + out.open_at_end);
        assert!(out.metrics.ended > 10_000);
        if variant != Some("no_cache") {
            let reads = count(&out, "reads");
            let writes = count(&out, "backend_writes");
            assert_eq!(reads + writes, count(&out, "requests"));
        }
    }
}

const BASE: &str = r#"[scenario]
name = "bad-cache"
duration = "10m"

[workload]
users = 10
target = "cache"
mix = [{ name = "read", path = "/p", weight = 1.0 }]

[components.cache]
kind = "cache"
backend = "db"

[components.db]
kind = "server"
instance = "c5.large"
service = { dist = "exponential", mean = "5ms" }
"#;

/// Loads `BASE` with `line` added to the cache's table (and `extra` at the end); returns the
/// diagnostic at `key`, checking it is located at `needle` in the text.
fn bad(line: &str, extra: &str, key: &str, needle: &str) -> scalesim::scenario::error::Diagnostic {
    let text = BASE.replace("backend = \"db\"\n", &format!("backend = \"db\"\n{line}\n")) + extra;
    let e = match scenario::parse("bad.toml", &text, &[]) {
        Ok(_) => panic!("expected an error for `{line}{extra}`"),
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
    assert_eq!(
        d.location.map(|l| l.0),
        Some(line_no),
        "`{key}` located at the wrong line:\n{d}"
    );
    assert!(d.to_string().contains("bad.toml:"), "{d}");
    d
}

#[test]
fn every_cache_key_has_a_located_error() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "capacity = 0",
            "components.cache.capacity",
            "a cache holds at least 1 item",
        ),
        ("policy = \"fifo\"", "components.cache.policy", "fifo"),
        (
            "policy = \"ttl\"",
            "components.cache.policy",
            "items have no `ttl`",
        ),
        (
            "ttl = \"0s\"",
            "components.cache.ttl",
            "a ttl must be more than zero",
        ),
        (
            "catalog = 0",
            "components.cache.catalog",
            "a catalog has 1 to",
        ),
        (
            "skew = -1.0",
            "components.cache.skew",
            "the skew must be between 0 and 10",
        ),
        (
            "ops_per_s = \"0/s\"",
            "components.cache.ops_per_s",
            "a node serves",
        ),
        (
            "nodes = 0",
            "components.cache.nodes",
            "a cache has 1 to 500 nodes",
        ),
        (
            "node_type = \"cache.r6g.larg\"",
            "components.cache.node_type",
            "unknown cache node type",
        ),
        (
            "timeout = \"0s\"",
            "components.cache.timeout",
            "the backend timeout must be more than zero",
        ),
        (
            "item_size = \"1KiB\"",
            "components.cache.item_size",
            "sizes items against `memory`",
        ),
        (
            "memory = \"10B\"\nitem_size = \"1KiB\"",
            "components.cache.memory",
            "holds no item",
        ),
        (
            "writes = [\"/nowhere\"]",
            "components.cache.writes",
            "no request class",
        ),
        ("writes = [\"p\"]", "components.cache.writes[0]", ""),
        (
            "on_write = \"invalidate\"",
            "components.cache.on_write",
            "no `writes` paths",
        ),
        ("on_write = \"later\"", "components.cache.on_write", "later"),
        ("coalesce = \"yes\"", "components.cache.coalesce", ""),
        ("latency = \"fast\"", "components.cache.latency", ""),
        ("colesce = true", "components.cache.colesce", "colesce"),
    ];
    for (line, key, words) in cases {
        let needle = line.split(" =").next().unwrap();
        let d = bad(line, "", key, &format!("\n{needle} ="));
        assert!(
            d.to_string().contains(words),
            "`{line}`: expected «{words}» in:\n{d}"
        );
    }
    // The backend must exist and take requests.
    for (backend, words) in [("dbb", "db"), ("cache", "itself")] {
        let text = BASE.replace("backend = \"db\"", &format!("backend = \"{backend}\""));
        let Err(e) = scenario::parse("bad.toml", &text, &[]) else {
            panic!("expected an error for backend {backend}")
        };
        let d = &e.diagnostics[0];
        assert_eq!(d.key_path.as_deref(), Some("components.cache.backend"));
        assert!(d.location.is_some());
        assert!(d.to_string().contains(words), "{d}");
    }
}

#[test]
fn the_cache_faults_check_their_target_and_keys() {
    let base = BASE;
    let err = |fault: &str| {
        let text = format!("{base}\n[[faults]]\n{fault}\n");
        match scenario::parse("bad.toml", &text, &[]) {
            Ok(_) => panic!("expected an error for {fault}"),
            Err(e) => e.diagnostics[0].clone(),
        }
    };
    let d = err("at = \"1m\"\nkind = \"flush\"\ntarget = \"db\"");
    assert_eq!(d.key_path.as_deref(), Some("faults[0].target"));
    assert!(d.message.contains("targets a cache"), "{}", d.message);
    let d = err("at = \"1m\"\nkind = \"expire\"\ntarget = \"cache\"\nitems = 0");
    assert_eq!(d.key_path.as_deref(), Some("faults[0].items"));
    let d = err("at = \"1m\"\nkind = \"crash\"\ntarget = \"db\"\nitems = 3");
    assert_eq!(d.key_path.as_deref(), Some("faults[0].items"));
    assert_eq!(d.message, "`items` applies only to \"expire\" faults");
    let d = err("at = \"1m\"\nkind = \"flush\"\ntarget = \"cache\"\nduration = \"1m\"");
    assert_eq!(d.key_path.as_deref(), Some("faults[0].duration"));
    assert!(d.location.is_some());
}
