//! Failure forensics (src/report/forensics.rs): chapter 3's t2.micro runs out of memory first;
//! the retry storm is kept going by its retries; a healthy run says nothing failed and names its
//! busiest tier's headroom; chapter 5's health-check death spiral is told in order.

use scalesim::report::forensics::{analyze, Forensics};
use scalesim::report::summary::SATURATED;
use scalesim::run::RunOutput;
use scalesim::scenario::{self, overrides::Override, Scenario};

fn load(source: &str, variant: Option<&str>, sets: &[&str]) -> Scenario {
    let text = scenario::read_source(source).expect("readable");
    let sets: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).expect("override"))
        .collect();
    scenario::parse_variant(source, &text, variant, &sets).unwrap_or_else(|e| panic!("{e}"))
}

fn forensics(scn: &Scenario) -> (Forensics, RunOutput) {
    let out = scalesim::run::run(scn, &mut |_| {});
    (analyze(scn, &out), out)
}

const MIN: u64 = 60_000_000_000;

#[test]
fn chapter_3_names_the_t2_micros_memory_first() {
    // 1,000 users from 0:20 (a one-minute ramp) ask ~125 req/s of a server that does ~50: the
    // backlog grows by ~75 a second, and at ~965 requests held the 724 MiB left is gone — about
    // 13 s after the ramp passes the server's rate, so between 0:20 and 0:23. The CPU saturates
    // first (the load), memory is what fails.
    let scn = load("chapter:3", None, &[]);
    let (f, _) = forensics(&scn);
    let c = f.first.as_ref().expect("something failed");
    assert_eq!(
        (c.component.as_str(), c.resource),
        ("web", "memory"),
        "{f:?}"
    );
    assert!((20 * MIN..23 * MIN).contains(&c.at), "at {}", c.at);
    let before = f
        .saturated_before
        .as_ref()
        .expect("the CPU saturated before");
    assert_eq!(before.resource, "CPU");
    assert!(before.at <= c.at);
    assert!(
        f.paragraph().contains("First to fail: web's memory"),
        "{}",
        f.paragraph()
    );
    assert!(f.markdown().contains("first to fail: web's memory"));
    assert!(f.remedy_chapter.is_some());
    let j = f.json();
    assert_eq!(j["first"]["resource"], "memory");
    assert_eq!(j["first"]["component"], "web");
}

#[test]
fn the_retry_storm_is_kept_going_by_its_retries() {
    let scn = load("scenarios/retry-storm.toml", None, &[]);
    let (f, _) = forensics(&scn);
    let k = f
        .kept_going
        .as_deref()
        .expect("the storm outlives its trigger");
    assert!(k.starts_with("retries"), "{k}");
    assert!(f.paragraph().contains("What kept it going: retries"));
    assert!(f.first.is_some());
    assert!(f.json()["kept_going"]
        .as_str()
        .is_some_and(|s| s.contains("retries")));
}

#[test]
fn a_healthy_run_says_nothing_failed_and_names_the_headroom() {
    // Chapter 5's ten servers at its own 5,000 users: 625 clicks/s × 23.5 ms ≈ 14.7 of 20
    // vCPUs (~73 % busy), without its faults: nothing fails.
    let scn = load(
        "chapter:5",
        None,
        &["faults=[]", "scenario.duration=\"20m\""],
    );
    let (f, _) = forensics(&scn);
    assert_eq!(f.first, None, "{f:?}");
    assert!(f.cascade.is_empty());
    let h = f.headroom.as_ref().expect("a busiest tier");
    assert_eq!(h.tier, "web");
    assert!(h.mean > 0.65 && h.mean < 0.8, "{h:?}");
    assert!(h.peak >= h.mean && h.peak < SATURATED, "{h:?}");
    let p = f.paragraph();
    assert!(p.starts_with("Nothing failed"), "{p}");
    assert!(p.contains("web") && p.contains("headroom"), "{p}");
    assert!(f.json()["first"].is_null());
}

#[test]
fn chapter_5s_death_spiral_is_told_in_order() {
    // The journey's fleet (3 to 200 c5.large, target tracking on CPU at 60 %, failing open),
    // 10,000 users (1,250 clicks/s × 23.5 ms ≈ 29 vCPU-s/s; 3 servers have 6): the backlogs fill
    // in seconds, so the first failure is a full backlog refusing connections, before 0:00:15;
    // every answered request waited longer than the 5 s timeout (goodput 0 with the CPU busy);
    // the checks at 0:00:10 and 0:00:20 fail and every target is out of rotation at 0:00:20;
    // then the group scales out (the balancer fails open, so every target is busy).
    let scn = load(
        "chapter:5",
        Some("journey"),
        &[
            "workload.users=10000",
            "components.web.max=200",
            "faults=[]",
            "components.lb.fail_open=true",
            "scenario.duration=\"8m\"",
            "scenario.warmup=\"0s\"",
        ],
    );
    let (f, out) = forensics(&scn);
    let c = f.first.as_ref().expect("something failed");
    assert_eq!(c.resource, "backlog", "{f:?}");
    assert!(c.at < 15_000_000_000);
    let said: Vec<&str> = f.cascade.iter().map(|s| s.what.as_str()).collect();
    let find = |needle: &str| {
        f.cascade
            .iter()
            .position(|s| s.what.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in {said:#?}"))
    };
    let goodput0 = find("goodput 0");
    let out_of_rotation = find("out of rotation");
    let none_healthy = find("no target of");
    assert!(goodput0 <= none_healthy && out_of_rotation <= none_healthy);
    assert!(f.cascade[none_healthy].at <= 20_000_000_000 + 1_000_000_000);
    // In order.
    assert!(f.cascade.windows(2).all(|w| w[0].at <= w[1].at));
    // The fail-open fix: every target busy, so the average CPU passes the target and it scales.
    let scaled = out
        .timeline
        .iter()
        .any(|e| e.component == "web" && e.text.contains("desired capacity 3 →"));
    assert!(scaled, "the group scaled out");
    assert!(f
        .markdown()
        .contains("What failed first, and what followed"));
}
