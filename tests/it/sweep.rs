//! Sweeps, shards and statistical gates.
//!
//! - `--jobs 1`, `--jobs 2` and three shards merged write the same bytes in every file;
//! - `merge` refuses a shard of another scenario, a missing slice and a repeated one;
//! - standard errors shrink as 1/√R: pooled over 40 points, SE(R = 4) / SE(R = 16) is 2 within a
//!   tolerance derived from the variances' degrees of freedom;
//! - on an M/M/2 grid, the 95 % interval of the mean response time holds Erlang C's value in
//!   about 95 % of points (a binomial bound on the misses);
//! - `check --replications` passes, fails and is inconclusive (exit 3, JUnit `<skipped>`) on
//!   three constructed objectives; `diff` renders a Markdown table and flags a real change.
//!
//! All on scenarios/validation/mmc.toml cut to a minute or two, so the module takes seconds.

use crate::common::{code, expect_code, files, scalesim, stderr, stdout, Tmp};
use scalesim::budget::Limits;
use scalesim::sweep::{self, Param};
use std::path::Path;

const MMC: &str = "scenarios/validation/mmc.toml";

fn plan(params: &[&str], sets: &[&str], r: u32) -> sweep::Plan {
    let params = params
        .iter()
        .map(|p| Param::parse(p).unwrap_or_else(|e| panic!("{p}: {e}")))
        .collect();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    sweep::plan(MMC, None, None, &sets, params, r).unwrap_or_else(|e| panic!("{e}"))
}

fn run(plan: &sweep::Plan, jobs: usize, shard: Option<(u32, u32)>) -> Vec<sweep::RunRecord> {
    let opts = sweep::Options {
        shard,
        jobs: Some(jobs),
        progress: false,
        limits: Limits::NONE,
    };
    sweep::execute(plan, &opts).unwrap_or_else(|e| panic!("{e}"))
}

const SHORT: [&str; 2] = ["scenario.duration=1m", "scenario.warmup=10s"];

#[test]
fn jobs_and_shards_change_no_byte_of_any_file() {
    let tmp = Tmp::new("sweep-bytes");
    let p = plan(
        &[
            "workload.arrival_rate=150/s..300/s:lin3",
            "components.queue.service.mean=5ms,8ms",
        ],
        &SHORT,
        3,
    );
    assert_eq!((p.def.points(), p.def.runs()), (6, 18));
    let one = run(&p, 1, None);
    let two = run(&p, 2, None);
    assert_eq!(one, two, "records are the same for any --jobs");
    sweep::report::write_sweep(&tmp.join("one"), &p.def, &one).expect("write");
    sweep::report::write_sweep(&tmp.join("two"), &p.def, &two).expect("write");
    // An earlier sweep's folder is replaced as a whole, as an earlier run's is.
    sweep::report::write_sweep(&tmp.join("two"), &p.def, &two).expect("a sweep folder is replaced");
    // Three shards, through their files, merged.
    let mut shards = Vec::new();
    for k in 0..3 {
        let recs = run(&p, 2, Some((k, 3)));
        assert_eq!(recs.len(), 6, "18 runs in 3 slices");
        let path = tmp.join(&format!("shard{k}.json"));
        std::fs::write(&path, sweep::shard::shard_json(&p.def, (k, 3), &recs)).expect("write");
        shards.push((path.clone(), sweep::shard::read(&path).expect("read")));
    }
    shards.reverse(); // any order
    let (def, runs) = sweep::shard::merge(&shards).expect("merge");
    sweep::report::write_sweep(&tmp.join("merged"), &def, &runs).expect("write");
    let a = files(&tmp.join("one"));
    assert!(
        a.contains_key("sweep.json") && a.contains_key("sweep_p99.png"),
        "{:?}",
        a.keys()
    );
    assert_eq!(a.len(), 13, "{:?}", a.keys());
    for other in ["two", "merged"] {
        let b = files(&tmp.join(other));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (name, bytes) in &a {
            assert!(bytes == &b[name], "{name} differs between one and {other}");
        }
    }
}

#[test]
fn merge_refuses_a_shard_of_another_scenario_a_missing_slice_and_a_repeated_one() {
    let tmp = Tmp::new("sweep-refuse");
    let args = |k: u32, extra: &str, out: &str| -> Vec<String> {
        let mut v: Vec<String> = [
            "sweep",
            MMC,
            "--param",
            "workload.arrival_rate=100/s,200/s",
            "--replications",
            "2",
            "--quiet",
            "--set",
            "scenario.duration=30s",
            "--set",
            "scenario.warmup=5s",
            "--shard",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(format!("{k}/2"));
        if !extra.is_empty() {
            v.extend(["--set".to_string(), extra.to_string()]);
        }
        v.extend(["--out".to_string(), tmp.s(out)]);
        v
    };
    let go = |v: Vec<String>| {
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        let o = scalesim(&refs);
        expect_code(&o, 0);
    };
    go(args(0, "", "a0.json"));
    go(args(1, "", "a1.json"));
    go(args(1, "components.queue.vcpus=8", "b1.json"));
    let merge = |files: &[&str]| {
        let mut v = vec!["merge".to_string()];
        v.extend(files.iter().map(|f| tmp.s(f)));
        v.extend(["--out".to_string(), tmp.s("out"), "--quiet".to_string()]);
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        scalesim(&refs)
    };
    let o = merge(&["a0.json", "b1.json"]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(
        e.contains("b1.json is a shard of another scenario") && e.contains("hash"),
        "{e}"
    );
    let o = merge(&["a0.json"]);
    expect_code(&o, 2);
    assert!(
        stderr(&o).contains("slice 1/2 of the sweep is missing"),
        "{}",
        stderr(&o)
    );
    let o = merge(&["a0.json", "a1.json", "a0.json"]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("are both slice 0/2"), "{}", stderr(&o));
    std::fs::write(tmp.join("junk.json"), "{\"kind\": 3}").expect("write");
    let o = merge(&["a0.json", "junk.json"]);
    expect_code(&o, 2);
    assert!(
        stderr(&o).contains("junk.json: not a shard file"),
        "{}",
        stderr(&o)
    );
    let o = merge(&["a1.json", "a0.json"]);
    expect_code(&o, 0);
    assert!(tmp.join("out").join("sweep.json").exists());
    // Bad --param values and keys are refused before anything runs, located as --set's are.
    let o = scalesim(&["sweep", MMC, "--param", "workload.arival_rate=1/s,2/s"]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(
        e.contains("--param workload.arival_rate=1/s") && e.contains("did you mean `arrival_rate`"),
        "{e}"
    );
    let o = scalesim(&["sweep", MMC, "--param", "workload.users=10..1:log3"]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("must go up"), "{}", stderr(&o));
    let o = scalesim(&["sweep", MMC, "--shard", "2/2"]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("0 ≤ K < N"), "{}", stderr(&o));
}

/// The sample variance of the `key` figure at each point: sd², from sweep.json's figures.
fn variances(def: &sweep::SweepDef, runs: &[sweep::RunRecord], figure: usize) -> Vec<f64> {
    sweep::report::summarise(def, runs)
        .expect("summary")
        .iter()
        .map(|p| p.figures[figure].expect("a value").sd.powi(2))
        .collect()
}

#[test]
fn standard_errors_shrink_as_one_over_root_r() {
    // 40 points of M/M/4 at ρ = 0.50 .. 0.60 (λ = 200..239/s, μ = 100/s): similar variances, so
    // they pool. The mean response time's standard error at R = 4 against R = 16:
    // SE₄ / SE₁₆ = (s₄/√4) / (s₁₆/√16) = 2 · s₄ / s₁₆, and with pooled variances
    // 2 · √(Σ s₄² / Σ s₁₆²). Each pooled variance is a χ² estimate with 40 · 3 = 120 and
    // 40 · 15 = 600 degrees of freedom: relative SDs √(2/120) = 0.129 and √(2/600) = 0.058, so
    // the ratio's relative SD is at most ½ · √(0.129² + 0.058²) = 0.071 (less: the R = 4 runs
    // are the first four of the R = 16, which correlates the two). Four SDs: 2 ± 0.57.
    let params = ["workload.arrival_rate=200/s..239/s:lin40"];
    let p16 = plan(&params, &SHORT, 16);
    let p4 = plan(&params, &SHORT, 4);
    let r16 = run(&p16, 2, None);
    let r4 = run(&p4, 2, None);
    // A replication's seed depends on its point and index, not on R: the R = 4 runs are the
    // first four of each point's sixteen.
    for rec in &r4 {
        let same = &r16[rec.point * 16 + rec.rep as usize];
        assert_eq!((rec.seed, &rec.event_hash), (same.seed, &same.event_hash));
    }
    let mean_ms = 5; // FIGURES[5]
    let v4: f64 = variances(&p4.def, &r4, mean_ms).iter().sum();
    let v16: f64 = variances(&p16.def, &r16, mean_ms).iter().sum();
    let ratio = 2.0 * (v4 / v16).sqrt();
    eprintln!("SE(R = 4) / SE(R = 16) pooled over 40 points: {ratio:.3}");
    assert!((ratio - 2.0).abs() < 0.57, "SE(4)/SE(16) = {ratio}");
    // And the half-width is t(0.975, R − 1) · SE: at R = 4, t(0.975, 3) = 3.1824.
    let pts = sweep::report::summarise(&p4.def, &r4).expect("summary");
    let iv = pts[0].figures[mean_ms].expect("interval");
    assert!((iv.half - 3.182_446_305 * iv.sd / 2.0).abs() < 1e-9 * iv.half);
}

#[test]
fn intervals_hold_erlang_c_in_about_95_percent_of_points() {
    // M/M/2 (2 vCPUs, 2 workers), λ = 40..160/s × E[S] = 2..10 ms: ρ = λ·E[S]/2 from 0.04 to
    // 0.8. Mean response time W = W_q + E[S], W_q = C(2, λE[S]) / (2μ − λ). Each of the 25
    // points has its own seeds, so whether its interval holds W is an independent Bernoulli
    // trial with p ≈ 0.95 (the five replications' means are close to normal: thousands of
    // requests each). Misses ~ Binomial(25, 0.05): P(misses ≥ 5) = 0.007, so at most 4.
    // Power: intervals that were too wide would always hold W, so each half-width must also be
    // under 20 % of W (the largest seen is about 8 %, at ρ = 0.8).
    let lambdas = [40.0, 70.0, 100.0, 130.0, 160.0];
    let means_ms = [2.0, 4.0, 6.0, 8.0, 10.0];
    let p = plan(
        &[
            "workload.arrival_rate=40/s..160/s:lin5",
            "components.queue.service.mean=2ms..10ms:lin5",
        ],
        &[
            "scenario.duration=2m",
            "scenario.warmup=10s",
            "components.queue.vcpus=2",
            "components.queue.workers=2",
        ],
        5,
    );
    let runs = run(&p, 2, None);
    let pts = sweep::report::summarise(&p.def, &runs).expect("summary");
    let mut misses = Vec::new();
    for pt in &pts {
        let c = p.def.coords(pt.index);
        let (lambda, es) = (lambdas[c[0]], means_ms[c[1]] / 1000.0);
        let w_ms = (crate::queueing::mmc_wq(2, lambda, 1.0 / es) + es) * 1000.0;
        let iv = pt.figures[5].expect("mean latency");
        assert!(
            iv.half < 0.2 * w_ms,
            "{:?}: half-width {} of W {w_ms}",
            pt.values,
            iv.half
        );
        if (iv.mean - w_ms).abs() > iv.half {
            misses.push(format!(
                "{:?}: {} ± {} vs {w_ms}",
                pt.values, iv.mean, iv.half
            ));
        }
    }
    eprintln!("{} of 25 intervals miss Erlang C's W", misses.len());
    assert!(
        misses.len() <= 4,
        "{} of 25 intervals miss W: {misses:#?}",
        misses.len()
    );
}

fn check(objective: &str, junit: &Path) -> std::process::Output {
    scalesim(&[
        "check",
        MMC,
        "--set",
        "scenario.duration=1m",
        "--set",
        "scenario.warmup=10s",
        "--set",
        &format!("slo.objectives=[\"{objective}\"]"),
        "--replications",
        "5",
        "--format",
        "json",
        "--junit",
        &junit.to_string_lossy(),
    ])
}

#[test]
fn check_with_replications_passes_fails_and_is_inconclusive() {
    // M/M/4 at ρ = 0.8: W = 17.455 ms. "mean < 1s" holds on any interval, "mean < 5ms" on none
    // (the service time alone averages 10 ms), and a threshold at the replications' own mean is
    // inside their interval by construction.
    let tmp = Tmp::new("sweep-check");
    let j = tmp.join("junit.xml");
    let o = check("mean < 1s", &j);
    expect_code(&o, 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let obj = &doc["scenarios"][0]["objectives"][0];
    assert_eq!(obj["verdict"], "pass");
    assert_eq!(obj["replications"], 5);
    let mean = obj["measured"].as_f64().expect("mean");
    let (lo, hi) = (
        obj["interval_lo"].as_f64().unwrap(),
        obj["interval_hi"].as_f64().unwrap(),
    );
    assert!(
        lo < mean && mean < hi && (mean - 17.455).abs() < 2.0,
        "{lo} {mean} {hi}"
    );
    let o = check("mean < 5ms", &j);
    expect_code(&o, 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(doc["scenarios"][0]["objectives"][0]["verdict"], "fail");
    assert!(std::fs::read_to_string(&j).unwrap().contains("<failure"));
    let at = format!("mean < {}us", (mean * 1000.0).round());
    let o = check(&at, &j);
    expect_code(&o, 3);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    let obj = &doc["scenarios"][0]["objectives"][0];
    assert_eq!(obj["verdict"], "inconclusive", "{obj}");
    let need = obj["replications_to_decide"].as_u64().expect("an estimate");
    assert!(need > 5, "{need}");
    let xml = std::fs::read_to_string(&j).unwrap();
    assert!(
        xml.contains("<skipped message=\"inconclusive: mean &lt;") && xml.contains("skipped=\"1\""),
        "{xml}"
    );
    // Without --replications the check is the single run it always was: no verdict key.
    let o = scalesim(&[
        "check",
        MMC,
        "--set",
        "scenario.duration=1m",
        "--set",
        "scenario.warmup=10s",
        "--set",
        "slo.objectives=[\"mean < 1s\"]",
        "--format",
        "json",
    ]);
    expect_code(&o, 0);
    assert!(!stdout(&o).contains("\"verdict\""), "{}", stdout(&o));
    let o = scalesim(&["check", MMC, "--replications", "1"]);
    expect_code(&o, 2);
}

#[test]
fn diff_renders_a_markdown_table_and_flags_a_real_change() {
    let tmp = Tmp::new("sweep-diff");
    let sweep_to = |out: &str, mean: &str| {
        let o = scalesim(&[
            "sweep",
            MMC,
            "--param",
            "workload.arrival_rate=200/s,250/s",
            "--replications",
            "4",
            "--set",
            "scenario.duration=1m",
            "--set",
            "scenario.warmup=10s",
            "--set",
            &format!("components.queue.service.mean={mean}"),
            "--quiet",
            "--out",
            &tmp.s(out),
        ]);
        expect_code(&o, 0);
    };
    sweep_to("base", "10ms");
    sweep_to("new", "12ms");
    let o = scalesim(&["diff", &tmp.s("base/sweep.json"), &tmp.s("new/sweep.json")]);
    expect_code(&o, 0);
    let md = stdout(&o);
    assert!(
        md.contains("| point | figure | base | new | change | noise |"),
        "{md}"
    );
    assert!(md.contains("|---|---|---:|---:|---:|---|"), "{md}");
    // 20 % longer service: the mean response time rises far past both intervals.
    let row = md
        .lines()
        .find(|l| l.contains("arrival_rate=200/s") && l.contains("mean latency"))
        .expect("a row");
    assert!(
        row.contains("**beyond noise**") && row.contains("+"),
        "{row}"
    );
    // A sweep against itself: every change within the noise.
    let o = scalesim(&[
        "diff",
        &tmp.s("base/sweep.json"),
        &tmp.s("base/sweep.json"),
        "--format",
        "text",
    ]);
    expect_code(&o, 0);
    assert!(!stdout(&o).contains("BEYOND"), "{}", stdout(&o));
    // Mixing kinds is refused.
    std::fs::write(tmp.join("x.json"), "{}").unwrap();
    let o = scalesim(&["diff", &tmp.s("base/sweep.json"), &tmp.s("x.json")]);
    expect_code(&o, 2);
    assert!(code(&o) == 2 && stderr(&o).contains("compare two results.json"));
}
