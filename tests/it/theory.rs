//! Theory beside the simulation (`report::theory`): the prediction agrees with the simulation
//! where the formula's assumptions hold — within the run's own 95 % interval (batch means over
//! the measured windows), not a picked tolerance — and the report flags the divergence, with
//! the reason, where they do not (chapter 3's collapse, a retry storm, an autoscaling fleet).

use scalesim::report::results::results_json;
use scalesim::report::theory::{analyze, TierTheory, Verdict};
use scalesim::run::run;
use scalesim::scenario::{load, Override};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn tiers(path: &str, sets: &[&str]) -> Vec<TierTheory> {
    let ov: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).expect("override"))
        .collect();
    let scn = load(path, &ov).unwrap_or_else(|e| panic!("{path}: {e}"));
    let out = run(&scn, &mut |_| {});
    // results.json carries the same analysis under `theory`.
    let doc = results_json(&scn, &out);
    let t = analyze(&scn, &out, scn.warmup);
    assert_eq!(doc["theory"].as_array().map(Vec::len), Some(t.len()));
    t
}

fn one<'a>(t: &'a [TierTheory], name: &str) -> &'a TierTheory {
    t.iter()
        .find(|x| x.tier == name)
        .unwrap_or_else(|| panic!("no tier {name}: {t:?}"))
}

fn has(t: &TierTheory, key: &str) -> bool {
    t.conditions.iter().any(|c| c.key == key)
}

/// Must-show 1: M/M/4 at ρ = 0.8 (E[S] = 10 ms): Erlang C's W_q = 7.4 ms lies in the
/// simulated wait's interval; the interval is tight enough (under 10 % of the figure) for the
/// agreement to mean something.
#[test]
fn mmc_wait_agrees_with_erlang_c_within_the_runs_interval() {
    let t = tiers(&format!("{ROOT}/scenarios/validation/mmc.toml"), &[]);
    let q = one(&t, "queue");
    assert_eq!(q.model.key(), "M/M/c");
    let w = q.wait_simulated_ms.expect("a simulated wait");
    let p = q.wait_predicted_ms.expect("a predicted wait");
    assert!(
        (p - 7.4).abs() < 0.1,
        "Erlang C W_q at M/M/4 ρ = 0.8 is 7.45 ms, got {p}"
    );
    assert!(
        w.half < 0.1 * w.mean,
        "interval too wide to test anything: {w:?}"
    );
    assert!(w.lo() <= p && p <= w.hi(), "prediction {p} outside {w:?}");
    assert_eq!(q.verdict, Verdict::Agrees, "{}", q.sentence);
    assert!(
        (q.lambda_max - 400.0).abs() < 1e-6,
        "λ_max = c/E[S] = 4/10 ms"
    );
}

/// M/M/1 under processor sharing (workers > vCPUs): the mean time in the server is
/// E[S]/(1 − ρ) = 10 ms / 0.3 at ρ = 0.7, and the simulation's interval holds it.
#[test]
fn mm1_ps_response_agrees() {
    let t = tiers(
        &format!("{ROOT}/scenarios/validation/mm1.toml"),
        &[
            "components.queue.workers=1000",
            "workload.arrival_rate=70/s",
            "scenario.duration=10m",
        ],
    );
    let q = one(&t, "queue");
    assert_eq!(q.model.key(), "M/G/c-PS");
    let p = q.response_predicted_ms.expect("predicted");
    // At the measured λ (≈ 70/s): E[S]/(1 − λE[S]).
    let want = 10.0 / (1.0 - q.lambda * 0.01);
    assert!((p - want).abs() < 1e-6, "E[S]/(1−ρ) = {want} ms, got {p}");
    assert!((q.lambda - 70.0).abs() < 2.0, "λ ≈ 70/s, got {}", q.lambda);
    assert_eq!(q.verdict, Verdict::Agrees, "{}", q.sentence);
}

/// Erlang B: 10 servers, no backlog, a = 8: B = 12.2 % refused, inside the simulated share's
/// interval.
#[test]
fn erlang_b_refusal_agrees() {
    let t = tiers(&format!("{ROOT}/scenarios/validation/mmcc.toml"), &[]);
    let q = one(&t, "queue");
    let b = q.erlang_b.expect("Erlang B");
    assert!(
        (b - 0.121_661).abs() < 1e-3 || q.lambda != 800.0,
        "B(10, 8) = 0.1217, got {b}"
    );
    let s = q.refused_simulated.expect("refused share");
    assert!(s.lo() <= b && b <= s.hi(), "B = {b} outside {s:?}");
    assert_eq!(q.verdict, Verdict::Agrees, "{}", q.sentence);
}

/// Must-show 1, second half: chapter 3's t2.micro collapses; there is no steady state to
/// predict and the report says why (ρ ≥ 1 in its busiest stretch).
#[test]
fn chapter_3_collapse_is_flagged_as_overload() {
    let t = tiers("chapter:3", &[]);
    let web = one(&t, "web");
    assert_eq!(web.verdict, Verdict::NoSteadyState, "{}", web.sentence);
    assert_eq!(web.conditions[0].key, "overload", "{:?}", web.conditions);
    assert!(web.sentence.contains("no steady state"), "{}", web.sentence);
}

/// The retry storm: retries feed the load back; the report does not claim agreement and names
/// the retries among the conditions.
#[test]
fn retry_storm_is_flagged_for_feedback() {
    let t = tiers(&format!("{ROOT}/scenarios/retry-storm.toml"), &[]);
    assert!(!t.is_empty());
    for x in &t {
        assert!(has(x, "retries"), "{}: {:?}", x.tier, x.conditions);
    }
    assert!(t.iter().any(|x| x.verdict != Verdict::Agrees), "{t:?}");
}

/// Chapter 4's autoscaling fleet: the number of servers changes during the run; the report
/// either agrees or, when it does not, says c changed.
#[test]
fn chapter_4_autoscaling_is_flagged_or_agrees() {
    let t = tiers("chapter:4", &[]);
    let web = one(&t, "web");
    assert!(web.fleet);
    match web.verdict {
        Verdict::Agrees => {}
        _ => assert!(
            has(web, "autoscaling") || has(web, "faults") || has(web, "overload"),
            "{}: {:?}",
            web.sentence,
            web.conditions
        ),
    }
    assert!(
        web.users_at_saturation.is_some(),
        "a closed loop has a saturation in users"
    );
}
