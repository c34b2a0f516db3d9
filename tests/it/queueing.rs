//! Closed-form checks of the queueing core: the validation scenarios under `scenarios/validation/`
//! are run with `--set`-style overrides and compared with M/M/1, M/M/c (Erlang C), M/M/c/c
//! (Erlang B) and M/G/1 (Pollaczek–Khinchine) formulas, and Little's law is checked on open and
//! closed-loop runs (the chapter scenarios).
//!
//! # How the tolerances are derived (not picked to pass)
//!
//! Every estimate comes from R = 20 independent replications: the same scenario run with
//! `scenario.seed = 1001 … 1020` (each seed drives independent random streams). Each replication
//! yields one number (e.g. the mean wait over its measured period, after a warm-up of many
//! relaxation times so that the initial empty state does not bias it). The R numbers are i.i.d.;
//! their mean is the estimate and their sample standard deviation / √R its standard error SE.
//! Each replication averages 10⁴–10⁵ correlated customers, so by the central limit theorem for
//! regenerative processes each is close to normal, and (estimate − exact) / SE follows Student's
//! t with R − 1 = 19 degrees of freedom.
//!
//! A check passes when |estimate − exact| < Z · SE, with Z the two-sided 0.1 % point of Student's
//! t with R − 1 degrees of freedom: Z = 3.883 for R = 20 (the expensive chapter-3 runs use R = 8
//! and Z = 5.408). So a correct simulator fails a given check with probability 10⁻³, and all ~60
//! checks together with probability ≈ 5 % (less in fact: the checks share seeds and are positively
//! correlated). Because every run uses fixed seeds, the outcome is deterministic — it never
//! flaps; that probability is the chance that the fixed seeds happen to be unlucky, which running
//! them once has already ruled out.
//!
//! A tolerance in units of SE is only meaningful if SE is small, so every check also asserts that
//! SE < 5 % of the exact value (2 % for the headline M/M/1 and M/M/c waits): run lengths are sized
//! for that, which gives the checks power — an error of ~20 % (4 SE at 5 %) or less is always
//! caught. `mmc_rejects_wrong_models` demonstrates it: the same M/M/c measurement is many SEs
//! away from the two nearest wrong models.
//!
//! Cross-check of the SE: for the M/M/1 mean waiting time Daley (1968) / Whitt (1989, "Planning
//! queueing simulations") give the asymptotic variance per customer
//! σ² = ρ(2 + 5ρ − 4ρ² + ρ³) / (μ²(1 − ρ)⁴); so over n customers SE ≈ σ/√n. The M/M/1 tests print
//! this prediction next to the replication SE (they agree within the expected ±30 % scatter of
//! an SE estimated from 20 replications).
//!
//! Run with `cargo test --test it queueing:: -- --nocapture` to see the table of checks.

use scalesim::report::results::results_json;
use scalesim::run::run;
use scalesim::scenario::{load, Override, Scenario};
use serde_json::Value;

/// Replications per estimate.
const R: u64 = 20;
/// Replications of the (10× longer) chapter-3 run.
const R_CHAPTER3: u64 = 8;
/// First replication seed.
const SEED0: u64 = 1001;

/// Rejection threshold in standard errors for `r` replications: the two-sided 0.1 % point of
/// Student's t with r − 1 degrees of freedom (P(|t| > Z) = 10⁻³ for a correct simulator).
fn z_limit(r: usize) -> f64 {
    match r {
        20 => 3.883,
        8 => 5.408,
        _ => panic!("no t quantile tabulated for {r} replications"),
    }
}
/// Largest acceptable SE relative to the exact value (the power condition).
const MAX_REL_SE: f64 = 0.05;

const MM1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/validation/mm1.toml");
const MMC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/validation/mmc.toml");
const MMCC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/validation/mmcc.toml"
);
const MG1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/validation/mg1.toml");

// ---------------------------------------------------------------------------------------------
// Closed forms.
// ---------------------------------------------------------------------------------------------

// Erlang B, Erlang C and the M/M/c wait are the report's own (`report::theory`), so the
// checks below test the formulas the theory section prints.
pub(crate) use scalesim::report::theory::{erlang_b, erlang_c, mmc_wq};

/// M/M/1 mean wait in queue W_q = ρ / (μ − λ), seconds.
fn mm1_wq(lambda: f64, mu: f64) -> f64 {
    let rho = lambda / mu;
    assert!(rho < 1.0);
    rho / (mu - lambda)
}

/// M/G/1 mean wait in queue (Pollaczek–Khinchine) W_q = λE[S²] / (2(1 − ρ)), seconds.
fn pk_wq(lambda: f64, es: f64, es2: f64) -> f64 {
    let rho = lambda * es;
    assert!(rho < 1.0);
    lambda * es2 / (2.0 * (1.0 - rho))
}

/// Daley/Whitt asymptotic variance per customer of the M/M/1 mean waiting time, s².
fn mm1_wq_asymptotic_variance(lambda: f64, mu: f64) -> f64 {
    let r = lambda / mu;
    r * (2.0 + 5.0 * r - 4.0 * r * r + r * r * r) / (mu * mu * (1.0 - r).powi(4))
}

#[test]
fn closed_forms_match_textbook_values() {
    // Independent of the simulator: the formulas above against published numbers.
    assert!((erlang_b(10, 8.0) - 0.121_661).abs() < 1e-6);
    assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
    // Erlang C with c = 1 is ρ, and M/M/c with c = 1 is M/M/1.
    assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
    assert!((mmc_wq(1, 90.0, 100.0) - mm1_wq(90.0, 100.0)).abs() < 1e-12);
    // c = 2, a = 1 (ρ = 0.5): C = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    // P-K with exponential service (E[S²] = 2E[S]²) is M/M/1.
    assert!((pk_wq(90.0, 0.01, 2e-4) - mm1_wq(90.0, 100.0)).abs() < 1e-12);
    // The recursion stays finite where the factorial form overflows.
    let b = erlang_b(1000, 950.0);
    assert!(b.is_finite() && b > 0.0 && b < 1.0);
}

// ---------------------------------------------------------------------------------------------
// Running and estimating.
// ---------------------------------------------------------------------------------------------

fn overrides(sets: &[String]) -> Vec<Override> {
    sets.iter()
        .map(|s| Override::parse(s).unwrap_or_else(|e| panic!("bad override {s}: {e}")))
        .collect()
}

fn load_with(path: &str, sets: &[String]) -> Scenario {
    load(path, &overrides(sets)).unwrap_or_else(|e| panic!("cannot load {path}: {e}"))
}

/// Runs once; returns the whole results.json document.
fn run_doc(path: &str, sets: &[String]) -> Value {
    let scn = load_with(path, sets);
    let out = run(&scn, &mut |_| {});
    results_json(&scn, &out)
}

fn sets(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The `queue` objects of R independent replications (seeds SEED0 …).
fn replicate(path: &str, base: &[String]) -> Vec<Value> {
    replicate_n(path, base, R)
}

/// The `queue` objects of `r` independent replications (seeds SEED0 …).
fn replicate_n(path: &str, base: &[String], r: u64) -> Vec<Value> {
    (0..r)
        .map(|k| {
            let mut s = base.to_vec();
            s.push(format!("scenario.seed={}", SEED0 + k));
            let doc = run_doc(path, &s);
            let q = doc["queue"].clone();
            assert!(q.is_object(), "no queue section in results.json");
            q
        })
        .collect()
}

fn num(q: &Value, key: &str) -> f64 {
    q[key]
        .as_f64()
        .unwrap_or_else(|| panic!("queue.{key} missing or not a number: {q}"))
}

/// Mean, standard error of the mean, the average number of completions per replication, and the
/// rejection threshold for this many replications.
#[derive(Clone, Copy, Debug)]
struct Est {
    mean: f64,
    se: f64,
    n: f64,
    z: f64,
}

impl Est {
    /// (estimate − x) / SE; a difference that is exactly zero in every replication is 0 SE off.
    fn z_from(&self, x: f64) -> f64 {
        let d = self.mean - x;
        if d == 0.0 {
            0.0
        } else {
            d / self.se
        }
    }
}

fn estimate(reps: &[Value], f: impl Fn(&Value) -> f64) -> Est {
    let xs: Vec<f64> = reps.iter().map(&f).collect();
    let r = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / r;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r - 1.0);
    let n = reps.iter().map(|q| num(q, "completed")).sum::<f64>() / r;
    Est {
        mean,
        se: (var / r).sqrt(),
        n,
        z: z_limit(xs.len()),
    }
}

fn key(reps: &[Value], k: &str) -> Est {
    estimate(reps, |q| num(q, k))
}

/// Asserts |est − exact| < Z·SE and SE < `max_rel_se`·|exact|; prints a table row.
fn check(what: &str, exact: f64, e: Est, max_rel_se: f64) {
    let z = e.z_from(exact);
    eprintln!(
        "| {what:<52} | {exact:>12.6} | {:>12.6} | {:>10.3e} | {:>6.2} | {:>5.2}% |",
        e.mean,
        e.se,
        z,
        100.0 * e.se / exact.abs()
    );
    assert!(
        e.se < max_rel_se * exact.abs(),
        "{what}: SE {:.3e} is not below {:.0}% of the exact {exact:.6}: the runs are too short for the check to have power",
        e.se,
        100.0 * max_rel_se
    );
    assert!(
        z.abs() < e.z,
        "{what}: measured {:.6} ± {:.3e} (SE), exact {exact:.6}: off by {z:.2} SE (limit {})",
        e.mean,
        e.se,
        e.z
    );
}

/// Little's law on each replication: the time-average number in the server equals λW. The
/// paired difference L − λW is zero in expectation for a stationary run (the edge terms — time
/// spent before the warm-up by requests still present at it, and time spent by requests still
/// present at the end — have equal expectations λE[W²]/2), so it is checked like any estimate;
/// the relative SE is tiny, so this also bounds the edge effects to a fraction of a per cent.
fn check_little(what: &str, reps: &[Value]) {
    let l = key(reps, "mean_in_system");
    let d = estimate(reps, |q| {
        num(q, "mean_in_system") - num(q, "littles_law_lambda_w")
    });
    let z = d.z_from(0.0);
    eprintln!(
        "| {:<52} | {:>12.6} | {:>12.6} | {:>10.3e} | {:>6.2} | {:>5.2}% |",
        format!("{what}: L − λW (L = {:.4})", l.mean),
        0.0,
        d.mean,
        d.se,
        z,
        100.0 * d.se / l.mean
    );
    assert!(
        d.se < 0.01 * l.mean,
        "{what}: SE of L − λW {:.3e} not below 1% of L = {:.4}",
        d.se,
        l.mean
    );
    assert!(
        z.abs() < d.z,
        "{what}: Little's law off: L = {:.6}, λW = {:.6}, L − λW = {:.3e} ± {:.3e} ({z:.2} SE, limit {})",
        l.mean,
        key(reps, "littles_law_lambda_w").mean,
        d.mean,
        d.se,
        d.z
    );
}

// ---------------------------------------------------------------------------------------------
// M/M/1.
// ---------------------------------------------------------------------------------------------

/// One M/M/1 point: E[S] = 10 ms (μ = 100/s), λ = 100ρ per second.
fn mm1_case(lambda: f64, duration: &str) {
    let mu = 100.0;
    let rho = lambda / mu;
    let reps = replicate(
        MM1,
        &sets(&[
            &format!("workload.arrival_rate={lambda}/s"),
            &format!("scenario.duration={duration}"),
        ]),
    );
    let wq = key(&reps, "mean_wait_s");
    let predicted_se = (mm1_wq_asymptotic_variance(lambda, mu) / (wq.n * R as f64)).sqrt();
    eprintln!(
        "M/M/1 ρ = {rho:.2}: {R} × {:.0} requests; replication SE of W_q {:.3e}, Daley/Whitt asymptotic SE {:.3e}",
        wq.n, wq.se, predicted_se
    );
    // The replication SE agrees with the asymptotic formula (sanity check of the error bars:
    // with 19 degrees of freedom the ratio is within [0.5, 1.6] with probability > 99.9 %).
    let ratio = wq.se / predicted_se;
    assert!(
        (0.5..1.6).contains(&ratio),
        "M/M/1 ρ = {rho:.2}: SE {:.3e} vs asymptotic {:.3e}",
        wq.se,
        predicted_se
    );
    check(
        &format!("M/M/1 ρ={rho:.2} W_q [s]"),
        mm1_wq(lambda, mu),
        wq,
        0.02,
    );
    check(
        &format!("M/M/1 ρ={rho:.2} W [s]"),
        mm1_wq(lambda, mu) + 1.0 / mu,
        key(&reps, "mean_sojourn_s"),
        0.02,
    );
    check(
        &format!("M/M/1 ρ={rho:.2} utilization"),
        rho,
        key(&reps, "utilization"),
        MAX_REL_SE,
    );
    check(
        &format!("M/M/1 ρ={rho:.2} P(wait) = ρ"),
        rho,
        key(&reps, "wait_probability"),
        MAX_REL_SE,
    );
    check_little(&format!("M/M/1 ρ={rho:.2}"), &reps);
}

#[test]
fn mm1_rho_0_5() {
    mm1_case(50.0, "6m");
}

#[test]
fn mm1_rho_0_8() {
    mm1_case(80.0, "12m");
}

#[test]
fn mm1_rho_0_9() {
    mm1_case(90.0, "20m");
}

// ---------------------------------------------------------------------------------------------
// M/M/c.
// ---------------------------------------------------------------------------------------------

fn mmc_sets(c: u32, lambda: f64, duration: &str) -> Vec<String> {
    sets(&[
        &format!("workload.arrival_rate={lambda}/s"),
        &format!("components.queue.vcpus={c}"),
        &format!("components.queue.workers={c}"),
        &format!("scenario.duration={duration}"),
    ])
}

/// One M/M/c point: E[S] = 10 ms (μ = 100/s), c servers, λ = 100·c·ρ per second.
fn mmc_case(c: u32, rho: f64, duration: &str) -> Vec<Value> {
    let mu = 100.0;
    let lambda = rho * f64::from(c) * mu;
    let reps = replicate(MMC, &mmc_sets(c, lambda, duration));
    eprintln!(
        "M/M/{c} ρ = {rho:.2}: {R} × {:.0} requests",
        key(&reps, "completed").mean
    );
    check(
        &format!("M/M/{c} ρ={rho:.2} W_q [s] (Erlang C)"),
        mmc_wq(c, lambda, mu),
        key(&reps, "mean_wait_s"),
        0.02,
    );
    check(
        &format!("M/M/{c} ρ={rho:.2} P(wait) = C(c,a)"),
        erlang_c(c, lambda / mu),
        key(&reps, "wait_probability"),
        MAX_REL_SE,
    );
    check(
        &format!("M/M/{c} ρ={rho:.2} utilization"),
        rho,
        key(&reps, "utilization"),
        MAX_REL_SE,
    );
    check_little(&format!("M/M/{c} ρ={rho:.2}"), &reps);
    reps
}

#[test]
fn mm4_rho_0_5() {
    mmc_case(4, 0.5, "4m");
}

#[test]
fn mm4_rho_0_8() {
    mmc_case(4, 0.8, "5m");
}

#[test]
fn mm2_rho_0_5() {
    mmc_case(2, 0.5, "5m");
}

#[test]
fn mm2_rho_0_8() {
    mmc_case(2, 0.8, "6m");
}

#[test]
fn mm2_rho_0_9() {
    mmc_case(2, 0.9, "12m");
}

/// The M/M/4 measurement at ρ = 0.9 must be consistent with Erlang C and clearly *inconsistent*
/// with the two nearest wrong models — one server 4× as fast (M/M/1 with μ' = 4μ; a simulator that
/// ignored `workers` and pooled the vCPUs would produce this), and the wrong number of servers
/// (c = 5; c = 3 is unstable at this load). This shows the checks above can tell models apart.
#[test]
fn mmc_rejects_wrong_models() {
    let (c, mu, lambda) = (4, 100.0, 360.0);
    // The full M/M/4 ρ = 0.9 check (W_q, P(wait), utilization, Little) …
    let reps = mmc_case(c, lambda / (f64::from(c) * mu), "15m");
    // … and the same measurement against the wrong models: it must be more than 2·Z SE away.
    let wq = key(&reps, "mean_wait_s");
    for (name, wrong) in [
        ("M/M/1 at 4× speed", mm1_wq(lambda, 4.0 * mu)),
        ("M/M/5", mmc_wq(5, lambda, mu)),
    ] {
        let z = wq.z_from(wrong);
        eprintln!(
            "| {:<52} | {wrong:>12.6} | {:>12.6} | {:>10.3e} | {z:>6.2} | must be > {:.1} SE off |",
            format!("wrong model for M/M/4 ρ=0.9 W_q: {name}"),
            wq.mean,
            wq.se,
            2.0 * wq.z
        );
        assert!(
            z.abs() > 2.0 * wq.z,
            "the M/M/4 measurement {:.6} ± {:.3e} does not reject {name} (W_q {wrong:.6}): only {z:.2} SE",
            wq.mean,
            wq.se
        );
    }
}

// ---------------------------------------------------------------------------------------------
// M/M/c/c.
// ---------------------------------------------------------------------------------------------

fn mmcc_case(c: u32, lambda: f64, service: Option<&str>, label: &str) {
    let mu = 100.0;
    let a = lambda / mu;
    let mut s = sets(&[
        &format!("workload.arrival_rate={lambda}/s"),
        &format!("components.queue.vcpus={c}"),
        &format!("components.queue.workers={c}"),
        "scenario.duration=3m",
    ]);
    if let Some(svc) = service {
        s.push(format!("components.queue.service={svc}"));
    }
    let reps = replicate(MMCC, &s);
    let b = erlang_b(c, a);
    check(
        &format!("{label} c={c} a={a} refusal = B(c,a)"),
        b,
        key(&reps, "refusal_probability"),
        MAX_REL_SE,
    );
    check(
        &format!("{label} c={c} a={a} throughput λ(1−B)"),
        lambda * (1.0 - b),
        key(&reps, "throughput"),
        MAX_REL_SE,
    );
    check(
        &format!("{label} c={c} a={a} utilization a(1−B)/c"),
        a * (1.0 - b) / f64::from(c),
        key(&reps, "utilization"),
        MAX_REL_SE,
    );
    // Nobody waits in a loss system.
    for q in &reps {
        assert_eq!(num(q, "mean_wait_s"), 0.0, "a request waited in M/M/c/c");
    }
    check_little(&format!("{label} c={c} a={a}"), &reps);
}

#[test]
fn mmcc_erlang_b() {
    mmcc_case(10, 800.0, None, "M/M/c/c");
    mmcc_case(5, 400.0, None, "M/M/c/c");
}

/// Erlang B is insensitive to the service distribution beyond its mean (M/G/c/c).
#[test]
fn mgcc_erlang_b_is_insensitive() {
    mmcc_case(
        10,
        800.0,
        Some(r#"{ dist = "lognormal", mean = "10ms", cv = 2 }"#),
        "M/G/c/c lognormal cv=2",
    );
}

// ---------------------------------------------------------------------------------------------
// M/G/1.
// ---------------------------------------------------------------------------------------------

/// One M/G/1 point with E[S] = 10 ms and the given E[S²] (s²).
fn mg1_case(service: Option<&str>, lambda: f64, es2: f64, duration: &str, label: &str) -> Est {
    let es = 0.01;
    let rho = lambda * es;
    let mut s = sets(&[
        &format!("workload.arrival_rate={lambda}/s"),
        &format!("scenario.duration={duration}"),
    ]);
    if let Some(svc) = service {
        s.push(format!("components.queue.service={svc}"));
    }
    let reps = replicate(MG1, &s);
    let wq = key(&reps, "mean_wait_s");
    check(
        &format!("{label} ρ={rho:.2} W_q [s] (P-K)"),
        pk_wq(lambda, es, es2),
        wq,
        MAX_REL_SE,
    );
    check(
        &format!("{label} ρ={rho:.2} utilization"),
        rho,
        key(&reps, "utilization"),
        MAX_REL_SE,
    );
    check(
        &format!("{label} ρ={rho:.2} P(wait) = ρ"),
        rho,
        key(&reps, "wait_probability"),
        MAX_REL_SE,
    );
    check_little(&format!("{label} ρ={rho:.2}"), &reps);
    wq
}

#[test]
fn mg1_lognormal_pollaczek_khinchine() {
    // The file's own service: lognormal, mean 10 ms, cv 1.5 ⇒ E[S²] = E[S]²(1 + cv²).
    let es2 = 0.01f64.powi(2) * (1.0 + 1.5 * 1.5);
    let lambda = 70.0;
    let wq = mg1_case(None, lambda, es2, "30m", "M/G/1 lognormal cv=1.5");
    // Not M/M/1: the same load with exponential service waits much less.
    let mm1 = mm1_wq(lambda, 100.0);
    let z = (wq.mean - mm1) / wq.se;
    eprintln!("M/G/1 lognormal vs M/M/1 W_q {mm1:.6}: {z:.1} SE apart");
    assert!(
        z.abs() > 2.0 * wq.z,
        "M/G/1 lognormal indistinguishable from M/M/1 ({z:.2} SE)"
    );
}

#[test]
fn md1_pollaczek_khinchine() {
    // Deterministic 10 ms: E[S²] = E[S]², half the M/M/1 wait.
    let lambda = 90.0;
    let wq = mg1_case(
        Some(r#"{ dist = "deterministic", value = "10ms" }"#),
        lambda,
        1e-4,
        "10m",
        "M/D/1",
    );
    let mm1 = mm1_wq(lambda, 100.0);
    let z = (wq.mean - mm1) / wq.se;
    eprintln!("M/D/1 vs M/M/1 W_q {mm1:.6}: {z:.1} SE apart");
    assert!(
        z.abs() > 2.0 * wq.z,
        "M/D/1 indistinguishable from M/M/1 ({z:.2} SE)"
    );
}

#[test]
fn me4_1_pollaczek_khinchine() {
    // Erlang-4, mean 10 ms: E[S²] = E[S]²(1 + 1/4).
    mg1_case(
        Some(r#"{ dist = "erlang", mean = "10ms", k = 4 }"#),
        80.0,
        1e-4 * 1.25,
        "8m",
        "M/E4/1",
    );
}

#[test]
fn mu1_pollaczek_khinchine() {
    // Uniform 5–15 ms: E[S²] = (a² + ab + b²)/3.
    let (a, b) = (0.005f64, 0.015f64);
    mg1_case(
        Some(r#"{ dist = "uniform", min = "5ms", max = "15ms" }"#),
        50.0,
        (a * a + a * b + b * b) / 3.0,
        "10m",
        "M/U/1",
    );
}

// ---------------------------------------------------------------------------------------------
// Little's law on closed-loop chapter runs.
// ---------------------------------------------------------------------------------------------

#[test]
fn littles_law_chapter_1() {
    // Closed loop: ten users thinking 8 s between clicks, timeouts and retries, 40 ms network.
    let reps = replicate("chapter:1", &[]);
    check_little("chapter 1 (closed loop)", &reps);
}

/// Chapter 3 with the out-of-memory crashes and the resize stop taken out: a closed loop of 1,000
/// users against a saturated t2.micro, with timeouts, retries and refusals (no crash resets).
#[test]
fn littles_law_chapter_3_without_resets() {
    let reps = replicate_n(
        "chapter:3",
        &sets(&[
            "components.web.memory_per_request=0B",
            "components.web.resize=[]",
        ]),
        R_CHAPTER3,
    );
    for q in &reps {
        assert!(num(q, "refusal_probability") > 0.0, "expected an overload");
    }
    check_little("chapter 3, no crashes/resize (overloaded)", &reps);
}

/// Chapter 3 as written: OOM crashes and a resize stop reset the requests the server holds.
///
/// Regression test for a fixed bug: `littles_law_lambda_w` used to count completed requests only,
/// while `mean_in_system` integrates every request held, including those later reset by a crash
/// or a stop (L = 7.08 vs λW = 3.24 with ~28 crashes). Reset requests now count in λ and W.
#[test]
fn littles_law_chapter_3() {
    let reps = replicate_n("chapter:3", &[], R_CHAPTER3);
    check_little("chapter 3 (closed loop, crashes, resize)", &reps);
}

// ---------------------------------------------------------------------------------------------
// Determinism.
// ---------------------------------------------------------------------------------------------

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let doc = |seed: u64| {
        let scn = load_with(
            MM1,
            &sets(&["scenario.duration=10m", &format!("scenario.seed={seed}")]),
        );
        let out = run(&scn, &mut |_| {});
        results_json(&scn, &out).to_string()
    };
    let a = doc(7);
    let b = doc(7);
    assert_eq!(
        a, b,
        "two runs with the same seed gave different results.json"
    );
    let c = doc(8);
    assert_ne!(a, c, "a different seed gave the same results.json");
}
