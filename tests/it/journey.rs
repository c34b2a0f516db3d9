//! The journey as a fair experiment: consecutive chapters differ by exactly the change each one
//! declares in `[scenario.journey]` (and a doctored pair shows the check catches one that does
//! not); every chapter loads under the one workload; `--quick` and `--users` run the binary.

use crate::common::{code, scalesim, stderr, stdout, Tmp};
use scalesim::journey::topology::{diff, topology, undeclared};
use scalesim::journey::{load_chapter, load_chapter_with, WORKLOAD};
use scalesim::scenario::Moves;
use scalesim::scenario::{self, embedded::CHAPTERS, overrides::Override};

/// Chapter `n` as the journey replays it (its `[variants.journey]` applied), with `sets` on top.
fn chapter(n: u32, sets: &[&str]) -> scenario::Scenario {
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    load_chapter_with(n, 1000, &o).unwrap_or_else(|e| panic!("chapter {n}: {e}"))
}

#[test]
fn consecutive_chapters_differ_by_exactly_their_declared_change() {
    let mut problems = Vec::new();
    for pair in CHAPTERS.windows(2) {
        let (a, b) = (chapter(pair[0].number, &[]), chapter(pair[1].number, &[]));
        let d = diff(&topology(&a), &topology(&b));
        let decl = b.file.scenario.journey.as_ref();
        assert!(
            decl.is_some(),
            "{} declares no [scenario.journey]",
            pair[1].file
        );
        for p in undeclared(&d, decl) {
            problems.push(format!("{}: {p}", pair[1].file));
        }
    }
    assert!(
        problems.is_empty(),
        "undeclared or missing changes:\n{}",
        problems.join("\n")
    );
    assert!(
        chapter(1, &[]).file.scenario.journey.is_some(),
        "chapter 1 says its idea too"
    );
}

#[test]
fn a_doctored_chapter_with_an_undeclared_change_is_caught() {
    // Chapter 5 as written against chapter 4, then chapter 5 with its fleet quietly on bigger
    // machines and a different balancer algorithm, and chapter 2 back on two c5.large.
    let ch4 = topology(&chapter(4, &[]));
    let honest = chapter(5, &[]);
    assert!(undeclared(
        &diff(&ch4, &topology(&honest)),
        honest.file.scenario.journey.as_ref()
    )
    .is_empty());
    let doctored = chapter(5, &[r#"components.web.instance="c5.4xlarge""#]);
    let problems = undeclared(
        &diff(&ch4, &topology(&doctored)),
        doctored.file.scenario.journey.as_ref(),
    );
    assert_eq!(
        problems,
        vec!["changes `web.instance` without declaring it in `changes`"]
    );
    let ch1 = topology(&chapter(1, &[]));
    let ch2 = chapter(2, &[r#"components.web.instance="c5.large""#]);
    let problems = undeclared(
        &diff(&ch1, &topology(&ch2)),
        ch2.file.scenario.journey.as_ref(),
    );
    assert!(
        problems.iter().any(|p| p.contains("`web.instance`")),
        "{problems:?}"
    );
    // A declared change that is not there is a problem too (a stale declaration).
    let mut decl = honest.file.scenario.journey.clone().unwrap();
    decl.changes.push("lb.targets".into());
    let problems = undeclared(&diff(&ch4, &topology(&honest)), Some(&decl));
    assert_eq!(
        problems,
        vec!["declares `lb.targets` in `changes`, but it does not change"]
    );
    // A component added or removed without a word.
    let mut decl = honest.file.scenario.journey.clone().unwrap();
    decl.changes.clear();
    decl.adds.push("dns".into());
    let problems = undeclared(&diff(&ch4, &topology(&honest)), Some(&decl));
    assert!(
        problems
            .iter()
            .any(|p| p == "declares `dns` in `adds`, but it does not"),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("changes `")),
        "{problems:?}"
    );
}

#[test]
fn every_chapter_takes_the_one_workload() {
    for ch in CHAPTERS {
        let scn =
            load_chapter(ch.number, 1000).unwrap_or_else(|e| panic!("chapter {}: {e}", ch.number));
        assert_eq!(scn.client.users, 1000);
        let names: Vec<&str> = scn.client.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["browse", "edit", "search", "buy"],
            "chapter {}",
            ch.number
        );
        assert_eq!(
            scn.client.timeout,
            Some(10_000_000_000),
            "chapter {}",
            ch.number
        );
        assert_eq!(
            scn.client.retry.map(|r| r.0),
            Some(1),
            "chapter {}",
            ch.number
        );
        assert_eq!(scn.client.think, load_chapter(1, 10).unwrap().client.think);
    }
    assert!(WORKLOAD
        .iter()
        .all(|s| s.starts_with("workload.") || s.starts_with("slo.")));
}

/// Must-show of the journey: the breaking points follow the story. Every chapter after the first
/// declares whether its architecture serves more users within the objective than the previous
/// chapter's (`moves = "up" | "same" | "down"`, with `because` when not up); the quick journey at
/// the levels where they differ (100 to 10,000 users) must agree with every declaration.
#[test]
fn quick_journey_breaking_points_move_as_each_chapter_declares() {
    let tmp = Tmp::new("journey-quick");
    let out = tmp.s("q");
    let o = scalesim(&[
        "journey",
        "--quick",
        "--users",
        "100,1000,10000",
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("| # | architecture | meets the objective up to"),
        "{text}"
    );
    assert!(text.contains("42 runs"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("q/journey.json")).unwrap())
            .unwrap();
    assert_eq!(json["points"].as_array().unwrap().len(), 42);
    let bps = json["breaking_points"].as_array().unwrap();
    assert_eq!(bps.len(), 14);
    for p in json["points"].as_array().unwrap() {
        assert!(
            p["settled"].is_boolean() && p["measured_from_s"].is_number(),
            "{p}"
        );
    }
    let up_to = |i: usize| bps[i]["meets_slo_up_to"].as_u64().unwrap_or(0);
    let mut wrong = Vec::new();
    for (i, ch) in CHAPTERS.iter().enumerate().skip(1) {
        let decl = chapter(ch.number, &[]).file.scenario.journey.unwrap();
        let moves = decl
            .moves
            .unwrap_or_else(|| panic!("{} declares no `moves`", ch.file));
        assert!(
            moves == Moves::Up || decl.because.is_some(),
            "{}: says why it does not move the breaking point up",
            ch.file
        );
        let (before, after) = (up_to(i - 1), up_to(i));
        let got = match after.cmp(&before) {
            std::cmp::Ordering::Greater => Moves::Up,
            std::cmp::Ordering::Equal => Moves::Same,
            std::cmp::Ordering::Less => Moves::Down,
        };
        if got != moves {
            wrong.push(format!(
                "{}: declares {:?}, but it meets the objective up to {after} users after {before}",
                ch.file, moves
            ));
        }
    }
    assert!(wrong.is_empty(), "{}\n\n{text}", wrong.join("\n"));
    // The story's order: a single small server, a big one, then a fleet.
    assert_eq!((up_to(0), up_to(2), up_to(3)), (100, 1000, 10000), "{text}");
    let summary = std::fs::read_to_string(tmp.join("q/summary.md")).unwrap();
    assert!(summary.contains("## Breaking points"), "{summary}");
    for f in [
        "journey_p99.png",
        "journey_errors.svg",
        "journey_cost.png",
        "journey_goodput.png",
    ] {
        assert!(tmp.join("q").join(f).exists(), "{f}");
    }
    // A knee chart per chapter, and the theory's figures behind it in journey.json.
    for ch in scenario::embedded::CHAPTERS {
        let stem = format!("knee_ch{:02}", ch.number);
        assert!(tmp.join("q").join(format!("{stem}.png")).exists(), "{stem}");
    }
    let web3 = &json["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["chapter"] == 3 && p["users"] == 1000)
        .unwrap()["tiers"][0];
    assert_eq!(web3["tier"], "web", "{web3}");
    assert_eq!(web3["saturates_by"], "queueing_theory", "{web3}");
    // Chapter 3's c5.4xlarge (16 vCPU) saturates between 1,000 and 10,000 users: where it broke.
    let knee = web3["saturates_at_users"].as_f64().unwrap();
    assert!((1_000.0..10_000.0).contains(&knee), "{web3}");
    // journey.gif: the p99 chart gaining a chapter's line per frame, at the slide size.
    let file = std::fs::File::open(tmp.join("q/journey.gif")).expect("journey.gif written");
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::Indexed);
    let mut dec = opts.read_info(file).expect("a GIF");
    assert_eq!(
        (u32::from(dec.width()), u32::from(dec.height())),
        scalesim::report::charts::GIF_SIZE
    );
    let mut frames = 0;
    while dec.read_next_frame().expect("frames decode").is_some() {
        frames += 1;
    }
    assert!(
        frames > scenario::embedded::CHAPTERS.len(),
        "{frames} frames"
    );
    // Off a terminal there is no progress bar: stderr stays empty.
    assert_eq!(stderr(&o), "");
}

#[test]
fn chapters_selects_and_an_unknown_chapter_is_refused() {
    let tmp = Tmp::new("journey-chapters");
    let out = tmp.s("c");
    let o = scalesim(&[
        "journey",
        "--quick",
        "--users",
        "10",
        "--chapters",
        "4,5",
        "--out",
        &out,
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("c/journey.json")).unwrap())
            .unwrap();
    let chapters: Vec<u64> = json["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["chapter"].as_u64().unwrap())
        .collect();
    assert_eq!(chapters, [4, 5]);
    let o = scalesim(&["journey", "--chapters", "15", "--out", &out]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("there is no chapter 15"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn users_must_be_positive_counts() {
    for bad in ["0", "ten", "10,,100", "-5"] {
        let o = scalesim(&[
            "journey",
            "--quick",
            "--users",
            bad,
            "--out",
            "/nonexistent/x",
        ]);
        assert_eq!(code(&o), 2, "--users {bad}: {}", stderr(&o));
    }
}
