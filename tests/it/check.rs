//! `scalesim check`, baselines and `scalesim explain`, through the real binary.
//!
//! Modules (by test-name prefix):
//! - `exit_*`     exit codes 0 (all met), 1 (violated), 2 (bad input)
//! - `junit_*`    JUnit XML structure (testsuites/testsuite/testcase/failure) and counts
//! - `json_*`     the JSON document: each objective's measured value and margin
//! - `baseline_*` regressions against a stored results.json
//! - `explain_*`  every component and route listed; the Mermaid block passes a syntax check

use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scalesim"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("scalesim-check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A small scenario whose SLOs are met (light load) or violated (heavy load), by `users`.
fn scenario(dir: &std::path::Path, users: u32) -> PathBuf {
    let p = dir.join(format!("s{users}.toml"));
    std::fs::write(
        &p,
        format!(
            r#"
[scenario]
name = "slo-{users}"
duration = "20m"
warmup = "2m"
seed = 3

[workload]
users = {users}
think_time = {{ dist = "exponential", mean = "2s" }}
timeout = "5s"

[components.web]
kind = "server"
vcpus = 2
memory = "4GiB"
workers = 16
service = {{ dist = "exponential", mean = "20ms" }}

[slo]
objectives = ["p(99) < 300ms", "error_rate < 1%", {{ metric = "mean", below = "200ms", every = "5m" }}]
"#
        ),
    )
    .unwrap();
    p
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_follow_the_verdicts() {
    let d = tmp("exit");
    // 10 users × 0.5 req/s × 20 ms = 0.1 vCPU: comfortably met.
    let (code, out, _) = run(&["check", scenario(&d, 10).to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASS"), "{out}");
    // 400 users offer 200 req/s × 20 ms = 4 vCPU to a 2-vCPU server: violated.
    let (code, out, _) = run(&["check", scenario(&d, 400).to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");
    // Several files: any violation fails the whole check.
    let (code, _, _) = run(&[
        "check",
        scenario(&d, 10).to_str().unwrap(),
        scenario(&d, 400).to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    // Bad input: exit 2 with a located message.
    let bad = d.join("bad.toml");
    std::fs::write(&bad, "[scenario]\nname = \"x\"\nduration = \"1m\"\n[workload]\nusers = 1\n[slo]\nobjectives = [\"p(99) ~ 3ms\"]\n[components.web]\nkind = \"server\"\nvcpus = 1\nservice = { dist = \"exponential\", mean = \"1ms\" }\n").unwrap();
    let (code, _, err) = run(&["check", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml:7:"), "{err}");
    assert!(err.contains("slo.objectives[0]"), "{err}");
    let (code, _, _) = run(&["check", "chapter:99"]);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn chapters_meet_and_violate_their_slos() {
    // Chapter 1 meets its SLOs; chapter 3's collapse violates them.
    let (code, out, _) = run(&["check", "chapter:1"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&["check", "chapter:3"]);
    assert_eq!(code, 1, "{out}");
}

#[test]
fn junit_is_well_formed_with_one_testcase_per_objective() {
    let d = tmp("junit");
    let xml_path = d.join("out/junit.xml");
    let (code, _, _) = run(&[
        "check",
        scenario(&d, 10).to_str().unwrap(),
        scenario(&d, 400).to_str().unwrap(),
        "--junit",
        xml_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let text = std::fs::read_to_string(&xml_path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 2);
    let mut failures_seen = 0;
    for s in &suites {
        assert_eq!(s.tag_name().name(), "testsuite");
        for a in ["name", "tests", "failures", "errors"] {
            assert!(s.attribute(a).is_some(), "testsuite lacks {a}");
        }
        let cases: Vec<_> = s
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "testcase")
            .collect();
        assert_eq!(cases.len(), 3, "one testcase per objective");
        assert_eq!(s.attribute("tests").unwrap(), "3");
        let failed = cases
            .iter()
            .filter(|c| {
                c.children()
                    .any(|n| n.is_element() && n.tag_name().name() == "failure")
            })
            .count();
        assert_eq!(s.attribute("failures").unwrap(), failed.to_string());
        for c in &cases {
            assert!(c.attribute("name").is_some() && c.attribute("classname").is_some());
            for f in c
                .children()
                .filter(|n| n.is_element() && n.tag_name().name() == "failure")
            {
                assert!(f.attribute("message").unwrap().starts_with("SLO violated"));
            }
        }
        failures_seen += failed;
    }
    assert_eq!(
        root.attribute("failures").unwrap(),
        failures_seen.to_string()
    );
    assert!(failures_seen >= 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn json_reports_measured_values_and_margins() {
    let d = tmp("json");
    let (code, out, _) = run(&[
        "check",
        scenario(&d, 400).to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    assert_eq!(v["passed"], false);
    let objs = v["scenarios"][0]["objectives"].as_array().unwrap();
    assert_eq!(objs.len(), 3);
    for o in objs {
        let measured = o["measured"].as_f64().unwrap();
        let threshold = o["threshold"].as_f64().unwrap();
        let margin = o["margin"].as_f64().unwrap();
        // margin = threshold − measured for "below" objectives; its sign is the verdict.
        assert!(
            (margin - (threshold - measured)).abs() < 1e-3 * threshold.max(1.0),
            "{o}"
        );
        assert_eq!(o["passed"].as_bool().unwrap(), margin > 0.0, "{o}");
    }
    let (_, gh, _) = run(&[
        "check",
        scenario(&d, 400).to_str().unwrap(),
        "--format",
        "github",
    ]);
    assert!(gh.lines().any(|l| l.starts_with("::error title=")), "{gh}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn baseline_fails_on_a_regression_and_passes_without_one() {
    let d = tmp("baseline");
    let s = scenario(&d, 150);
    let out_dir = d.join("base");
    let (code, _, err) = run(&[
        "run",
        s.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let base = out_dir.join("results.json");
    // The same scenario and seed: identical figures, within any tolerance.
    let (code, out, _) = run(&[
        "check",
        s.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let baseline_rows: Vec<_> = v["scenarios"][0]["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["objective"].as_str().unwrap().contains("vs baseline"))
        .collect();
    assert!(baseline_rows.len() >= 3);
    assert!(baseline_rows.iter().all(|o| o["passed"] == true), "{out}");
    let _ = code;
    // Fewer vCPUs (2 → 1 at 75 req/s × 20 ms = 1.5 vCPU of demand): p99 far beyond +10 %.
    let (code, out, _) = run(&[
        "check",
        s.to_str().unwrap(),
        "--set",
        "components.web.vcpus=1",
        "--baseline",
        base.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("p99 vs baseline") && l.trim_end().ends_with("FAIL")),
        "{out}"
    );
    // A tolerance loose enough to absorb a small change passes: seed change only.
    let (code, out, _) = run(&[
        "check",
        s.to_str().unwrap(),
        "--seed",
        "4",
        "--baseline",
        base.to_str().unwrap(),
        "--tolerance",
        "p50=50%,p99=50%,error_rate=1%,goodput=20%",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["scenarios"][0]["objectives"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["objective"].as_str().unwrap().contains("vs baseline"))
            .all(|o| o["passed"] == true),
        "{out}"
    );
    let _ = code;
    // A bad baseline file is bad input.
    std::fs::write(d.join("junk.json"), "{not json").unwrap();
    let (code, _, err) = run(&[
        "check",
        s.to_str().unwrap(),
        "--baseline",
        d.join("junk.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&[
        "check",
        s.to_str().unwrap(),
        "--baseline",
        base.to_str().unwrap(),
        "--tolerance",
        "p77=3%",
    ]);
    assert_eq!(code, 2);
    let _ = std::fs::remove_dir_all(&d);
}

/// A syntax check of the Mermaid flowchart subset `explain` emits: a `flowchart LR` header,
/// node declarations `id["label"]` / `id(["label"])` / `id[["label"]]` / `id{"label"}` with
/// identifiers of letters, digits and `_`, and edges `a -->|"label"| b` or `a -.->|"label"| b`
/// between declared nodes; labels contain no double quote.
fn mermaid_ok(src: &str) -> Result<(), String> {
    let mut lines = src.lines().filter(|l| !l.trim().is_empty());
    if lines.next().map(str::trim) != Some("flowchart LR") {
        return Err("missing `flowchart LR` header".into());
    }
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !s.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut nodes = std::collections::BTreeSet::new();
    let mut edges = Vec::new();
    for l in lines {
        let l = l.trim();
        if let Some((a, rest)) = l.split_once(" -->").or_else(|| l.split_once(" -.->")) {
            let rest = rest.trim_start();
            let (label, b) = match rest.strip_prefix("|\"") {
                Some(r) => r
                    .split_once("\"|")
                    .map(|(lab, b)| (lab, b.trim()))
                    .ok_or(format!("bad edge label: {l}"))?,
                None => ("", rest.trim()),
            };
            if label.contains('"') || !ident(a.trim()) || !ident(b) {
                return Err(format!("bad edge: {l}"));
            }
            edges.push((a.trim().to_string(), b.to_string()));
            continue;
        }
        let open = l
            .find(['[', '(', '{'])
            .ok_or(format!("not a node or edge: {l}"))?;
        let (id, shape) = l.split_at(open);
        let ok_shape = [
            ("[\"", "\"]"),
            ("([\"", "\"])"),
            ("[[\"", "\"]]"),
            ("{\"", "\"}"),
        ]
        .iter()
        .any(|(o, c)| {
            shape.starts_with(o)
                && shape.ends_with(c)
                && !shape[o.len()..shape.len() - c.len()].contains('"')
        });
        if !ident(id) || !ok_shape {
            return Err(format!("bad node: {l}"));
        }
        nodes.insert(id.to_string());
    }
    for (a, b) in edges {
        if !nodes.contains(&a) || !nodes.contains(&b) {
            return Err(format!("edge {a} → {b} uses an undeclared node"));
        }
    }
    Ok(())
}

#[test]
fn explain_lists_every_component_and_route_and_its_mermaid_parses() {
    for ch in [1, 2, 3, 4, 5] {
        let src = format!("chapter:{ch}");
        let (code, text, err) = run(&["explain", &src, "--only", "text"]);
        assert_eq!(code, 0, "{err}");
        let scn = scalesim::scenario::load(&src, &[]).unwrap();
        for (name, _) in scn.components.iter().filter(|(n, _)| !n.contains('[')) {
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with(name.as_str())),
                "chapter {ch}: {name} missing\n{text}"
            );
        }
        let topo = scalesim::explain::topology(&scn);
        for e in &topo.edges {
            let from = topo.nodes.iter().find(|n| n.id == e.from).unwrap();
            let to = topo.nodes.iter().find(|n| n.id == e.to).unwrap();
            assert!(
                text.contains(&format!("{} → {}", from.name, to.name)),
                "chapter {ch}: route {} → {} missing",
                from.name,
                to.name
            );
        }
        let (code, mm, _) = run(&["explain", &src, "--only", "mermaid"]);
        assert_eq!(code, 0);
        mermaid_ok(&mm).unwrap_or_else(|e| panic!("chapter {ch}: {e}\n{mm}"));
        let (_, dot, _) = run(&["explain", &src, "--only", "dot"]);
        assert!(dot.starts_with("digraph ") && dot.trim_end().ends_with('}'));
    }
    // Chapter 5 by name: users → lb → web.
    let (_, text, _) = run(&["explain", "chapter:5"]);
    assert!(
        text.contains("users → lb") && text.contains("lb → web"),
        "{text}"
    );
    assert!(text.contains("```mermaid") && text.contains("```dot"));
}

#[test]
fn explain_syntax_check_rejects_broken_mermaid() {
    assert!(mermaid_ok("flowchart LR\n    a[\"x\"]\n    a --> b\n").is_err());
    assert!(mermaid_ok("graph\n").is_err());
    assert!(mermaid_ok("flowchart LR\n    a[\"x\"y\"]\n").is_err());
    assert!(
        mermaid_ok("flowchart LR\n    a[\"x\"]\n    b[\"y\"]\n    a -->|\"1 ms\"| b\n").is_ok()
    );
}

#[test]
fn new_prints_a_loadable_chapter() {
    let (code, out, _) = run(&["new", "--chapter", "5"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("# Chapter 5"));
    scalesim::scenario::parse("new.toml", &out, &[]).expect("the starting point loads");
    let (code, _, err) = run(&["new", "--chapter", "42"]);
    assert_eq!(code, 2);
    assert!(err.contains("chapters: 1, 2, 3, 4, 5"), "{err}");
}

/// An M/M/1 queue at ρ = 0.5 (λ = 50/s, E[S] = 10 ms) for 20 minutes after a minute's warm-up
/// (about 60,000 customers), with a mean-latency objective; `extra` goes into `[workload]`.
fn mm1_with_objective(
    seed: u64,
    extra: &str,
) -> (scalesim::scenario::Scenario, scalesim::run::RunOutput) {
    let text = format!(
        r#"[scenario]
name = "noise"
duration = "21m"
warmup = "1m"
seed = {seed}

[workload]
arrival_rate = "50/s"
{extra}

[network]
client_rtt = "0s"
internal_rtt = "0s"

[components.queue]
kind = "server"
vcpus = 1
workers = 1
backlog = 1000000
memory = "64GiB"
memory_per_request = "0B"
service = {{ dist = "exponential", mean = "10ms" }}

[slo]
objectives = ["mean < 25ms"]
"#
    );
    let scn = scalesim::scenario::parse("noise.toml", &text, &[]).expect("parses");
    let out = scalesim::run::run(&scn, &mut |_| {});
    (scn, out)
}

#[test]
fn the_single_run_noise_estimate_matches_the_spread_over_seeds() {
    // Batch means (ten sub-periods of one run) estimate the standard error of the run's mean
    // latency; the standard deviation of that mean over independent seeds is what it estimates.
    // With 10 batches the estimate's relative error is about 1/√(2·9) ≈ 24 %, and the sample
    // standard deviation over 10 seeds has about 1/√(2·9) ≈ 24 % too; their ratio lies within
    // [0.4, 2.5] unless one is off by about three of its standard errors.
    let runs: Vec<_> = (1..=10).map(|seed| mm1_with_objective(seed, "")).collect();
    let verdicts: Vec<_> = runs
        .iter()
        .map(|(scn, out)| scalesim::slo::evaluate(&scn.slos, out).remove(0))
        .collect();
    let means: Vec<f64> = verdicts.iter().map(|v| v.measured).collect();
    let n = means.len() as f64;
    let m = means.iter().sum::<f64>() / n;
    let spread = (means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let mut se: Vec<f64> = verdicts
        .iter()
        .map(|v| v.noise.expect("a stationary run has a noise estimate"))
        .collect();
    se.sort_by(f64::total_cmp);
    let median = (se[4] + se[5]) / 2.0;
    let ratio = median / spread;
    assert!(
        (0.4..=2.5).contains(&ratio),
        "batch-means SE (median {median:.4} ms) vs the spread over seeds ({spread:.4} ms): {ratio:.2}"
    );
    // M/M/1 sanity: the mean sojourn is E[S]/(1 − ρ) = 20 ms.
    assert!((m - 20.0).abs() < 1.0, "mean {m}");
}

#[test]
fn a_run_that_is_not_stationary_gets_no_batch_means_noise() {
    // A 5× spike in the middle: the sub-periods differ by design, so their spread is no
    // estimate of another seed's; the verdict says so when it is close to the line.
    let (scn, out) = mm1_with_objective(
        1,
        r#"spikes = [{ at = "10m", multiplier = 1.5, ramp = "1m", hold = "2m" }]"#,
    );
    assert_eq!(out.unsteady.as_deref(), Some("load spikes"));
    let v = scalesim::slo::evaluate(&scn.slos, &out).remove(0);
    assert!(v.noise.is_none(), "{v:?}");
    let note = v.note.clone().unwrap_or_default();
    assert!(
        note.contains("the run is not stationary (load spikes)"),
        "measured {} ms: {note}",
        v.measured
    );
}
