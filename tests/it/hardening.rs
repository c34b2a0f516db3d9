//! Hardening: each test is named for a class of bug found by fuzzing and abuse — a panic, a
//! quadratic blow-up, a late or misattributed refusal, jargon in a message — and fails if it comes
//! back. Library-level tests call `scalesim::scenario`; the rest run the real binary.

use super::common::{code, expect_code, listing, root, scalesim, stderr, stdout, Tmp};
use scalesim::scenario::{self, Override};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small, complete, valid scenario.
const BASE: &str = r#"[scenario]
name = "base"
duration = "5m"
seed = 42

[workload]
users = 10
think_time = { dist = "exponential", mean = "8s" }

[components.web]
kind = "server"
instance = "t3.small"
service = { dist = "exponential", mean = "20ms" }
"#;

// ---------------------------------------------------------------------------------------------
// 2. Many errors: placed from one parse, and capped when printed.

#[test]
fn many_errors_are_located_from_one_parse_and_capped_when_printed() {
    let mut text = String::from(BASE);
    for i in 0..4000 {
        text.push_str(&format!(
            "\n[components.web{i:04}]\nkind = \"server\"\nworkerz = 32\n"
        ));
    }
    let start = Instant::now();
    let err = scenario::parse("many.toml", &text, &[]).unwrap_err();
    let took = start.elapsed();
    assert_eq!(err.diagnostics.len(), 4000);
    // Before: every error re-parsed the whole file (27 s for this one); now well under a second.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(err.diagnostics.iter().all(|d| d.location.is_some()));
    let shown = err.to_string();
    assert_eq!(shown.matches("error: many.toml:").count(), 50, "{shown}");
    assert!(
        shown.contains("… and 3,950 more errors"),
        "{}",
        &shown[shown.len() - 300..]
    );
}

// ---------------------------------------------------------------------------------------------
// 3. `--set` with deep key paths.

#[test]
fn recursion_limit_from_a_set_value_is_blamed_on_the_set_not_the_file() {
    use scalesim::scenario::error::Seg;
    // Built by hand past the parser's depth cap, to reach the read-back step.
    let deep = Override {
        raw: "a.a.a…=1".into(),
        path: vec![Seg::Key("a".into()); 2000],
        value: toml_edit::Value::from(1),
    };
    let good = Override::parse("workload.users=20").unwrap();
    let err = scenario::parse("t.toml", BASE, &[good, deep]).unwrap_err();
    let d = &err.diagnostics[0];
    assert_eq!(d.file, "--set a.a.a…=1", "{err}");
    let text = err.to_string();
    assert!(text.contains("nests too deeply"), "{text}");
    assert!(!text.contains("t.toml"), "the file is not blamed: {text}");
}

#[test]
fn deep_set_key_path_exits_2_quickly_naming_the_limit() {
    let raw = format!("{}=1", vec!["a"; 20_000].join("."));
    let start = Instant::now();
    let o = scalesim(&["validate", "chapter:1", "--set", &raw]);
    assert!(start.elapsed() < Duration::from_secs(5));
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("at most 32"), "{}", &e[..e.len().min(500)]);
    assert!(e.len() < 1000, "the 40 KB argument is not echoed whole");
}

// ---------------------------------------------------------------------------------------------
// 4. A closed stdout or stderr is a normal end, not a panic (exit 101).

/// Runs the binary with stdout (or stderr) a pipe whose reading end is closed at once; the
/// output is bigger than a pipe buffer, so some write must fail. Returns the exit code and stderr
/// (when stdout was the closed one).
fn with_closed(stream: &str, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scalesim"));
    cmd.args(args).current_dir(root());
    if stream == "stdout" {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("spawns");
    let err = if stream == "stdout" {
        drop(child.stdout.take());
        let mut e = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut e).unwrap();
        e
    } else {
        drop(child.stderr.take());
        String::new()
    };
    let status = child.wait().unwrap();
    (status.code().expect("exited, not killed by a signal"), err)
}

#[test]
fn closed_stdout_or_stderr_pipe_ends_quietly_with_the_usual_exit_code() {
    // ~100 KB on stdout: `ok: chapter:1 (…)` 3,000 times.
    let many_ok: Vec<&str> = std::iter::once("validate")
        .chain(std::iter::repeat_n("chapter:1", 3000))
        .collect();
    let (code, err) = with_closed("stdout", &many_ok);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // ~150 KB on stderr: ten copies of a file with 4,000 errors (50 shown each).
    let tmp = Tmp::new("closed_pipe");
    let mut text = String::from(BASE);
    for i in 0..4000 {
        text.push_str(&format!(
            "\n[components.w{i}]\nkind = \"server\"\nworkerz = 1\n"
        ));
    }
    fs::write(tmp.join("bad.toml"), &text).unwrap();
    let bad = tmp.s("bad.toml");
    let mut args = vec!["validate"];
    args.extend(std::iter::repeat_n(bad.as_str(), 10));
    let (code, _) = with_closed("stderr", &args);
    assert_eq!(code, 2, "bad input still exits 2, not 101");
    // Every command that prints: schema, new, explain.
    for args in [
        &["schema"][..],
        &["new", "--chapter", "1"],
        &["explain", "chapter:5"],
    ] {
        let (code, err) = with_closed("stdout", args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. `--jobs`: 0 means one per core; huge values are capped with a note.

#[test]
fn jobs_100000_is_capped_with_a_note_and_jobs_0_means_one_per_core() {
    let tmp = Tmp::new("jobs");
    let start = Instant::now();
    let o = scalesim(&[
        "journey",
        "--users",
        "10",
        "--jobs",
        "100000",
        "--quiet",
        "--out",
        &tmp.s("a"),
    ]);
    expect_code(&o, 0);
    assert!(
        stderr(&o).contains("--jobs 100000 capped at"),
        "{}",
        stderr(&o)
    );
    // Before: 100,000 threads, still not done after 15 minutes.
    assert!(start.elapsed() < Duration::from_secs(60));
    let o = scalesim(&[
        "journey",
        "--users",
        "10",
        "--jobs",
        "0",
        "--quiet",
        "--out",
        &tmp.s("b"),
    ]);
    expect_code(&o, 0);
    assert_eq!(stderr(&o), "");
    assert_eq!(
        fs::read(tmp.join("a/journey.json")).unwrap(),
        fs::read(tmp.join("b/journey.json")).unwrap()
    );
    let help = stdout(&scalesim(&["journey", "--help"]));
    assert!(
        help.contains("0 (the default) means one per core"),
        "{help}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Single-file outputs: through symlinks, in place on devices, never replacing a link or node.

const SHORT: &str = "scenario.duration=5m";

#[cfg(unix)]
#[test]
fn junit_through_a_symlink_or_to_a_device_keeps_the_link_and_the_node() {
    use std::os::unix::fs::symlink;
    let tmp = Tmp::new("junit_links");
    let is_link = |p: &Path| fs::symlink_metadata(p).unwrap().file_type().is_symlink();
    // A link to a regular file: the target gets the XML, the link stays a link.
    symlink("real.xml", tmp.join("link.xml")).unwrap();
    fs::write(tmp.join("real.xml"), "old").unwrap();
    let o = scalesim(&[
        "check",
        "chapter:1",
        "--set",
        SHORT,
        "--junit",
        &tmp.s("link.xml"),
    ]);
    expect_code(&o, 0);
    assert!(is_link(&tmp.join("link.xml")));
    assert!(fs::read_to_string(tmp.join("real.xml"))
        .unwrap()
        .contains("<testsuites"));
    // A link to a device: written in place (before: the link was replaced by a regular file).
    symlink("/dev/null", tmp.join("null.xml")).unwrap();
    let o = scalesim(&[
        "check",
        "chapter:1",
        "--set",
        SHORT,
        "--junit",
        &tmp.s("null.xml"),
    ]);
    expect_code(&o, 0);
    assert!(is_link(&tmp.join("null.xml")));
    // /dev/stdout: the XML goes to the open stream, after the table.
    let o = scalesim(&[
        "check",
        "chapter:1",
        "--set",
        SHORT,
        "--junit",
        "/dev/stdout",
    ]);
    expect_code(&o, 0);
    let out = stdout(&o);
    assert!(
        out.contains("objective") && out.contains("<testsuites"),
        "{out}"
    );
    assert!(out.find("objective") < out.find("<testsuites"));
    assert!(!listing(&tmp.0).iter().any(|n| n.contains(".tmp-")));
}

#[cfg(unix)]
#[test]
fn out_through_a_symlink_replaces_the_target_folder_and_keeps_the_link() {
    use std::os::unix::fs::symlink;
    let tmp = Tmp::new("out_link");
    fs::create_dir(tmp.join("real")).unwrap();
    symlink("real", tmp.join("r")).unwrap();
    for _ in 0..2 {
        let o = scalesim(&[
            "run",
            "chapter:1",
            "--set",
            SHORT,
            "--out",
            &tmp.s("r"),
            "-q",
        ]);
        expect_code(&o, 0);
        assert!(fs::symlink_metadata(tmp.join("r"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(tmp.join("real/results.json").exists());
    }
    assert_eq!(listing(&tmp.0), vec!["r".to_string(), "real".to_string()]);
}

#[test]
fn junit_to_a_folder_is_refused_before_running() {
    let tmp = Tmp::new("junit_folder");
    let start = Instant::now();
    let o = scalesim(&["check", "chapter:5", "--junit", &tmp.s("")]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("is a folder"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "nothing ran");
    assert!(start.elapsed() < Duration::from_secs(1));
}

// ---------------------------------------------------------------------------------------------
// 7. Staging folders left by a killed run are removed by the next run next to them.

#[test]
fn stale_staging_and_backup_folders_of_dead_runs_are_removed_by_the_next_run() {
    let tmp = Tmp::new("stale_staging");
    let dead = 4_194_999; // above Linux's largest pid: never running
    let alive = std::process::id(); // this test: running
    for name in [
        format!(".r.partial-{dead}"),
        format!(".r.old-{dead}"),
        format!(".r.partial-{alive}"),
    ] {
        fs::create_dir_all(tmp.join(&name).join("charts")).unwrap();
        fs::write(tmp.join(&name).join("results.json"), "{}").unwrap();
    }
    let o = scalesim(&[
        "run",
        "chapter:1",
        "--set",
        SHORT,
        "--out",
        &tmp.s("r"),
        "-q",
    ]);
    expect_code(&o, 0);
    let names = listing(&tmp.0);
    if Path::new("/proc/self").exists() {
        assert_eq!(names, vec![format!(".r.partial-{alive}"), "r".into()]);
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Refusals come before the work: the output place, then the file's size.

#[test]
fn unwritable_or_foreign_out_is_refused_before_the_run() {
    let tmp = Tmp::new("late_refusal");
    fs::write(tmp.join("afile"), "not a folder\n").unwrap();
    fs::create_dir(tmp.join("docs")).unwrap();
    fs::write(tmp.join("docs/thesis.tex"), "precious\n").unwrap();
    let cases: Vec<Vec<String>> = vec![
        ["run", "chapter:5", "--out", &tmp.s("afile/report")]
            .map(String::from)
            .to_vec(),
        ["run", "chapter:5", "--out", &tmp.s("docs")]
            .map(String::from)
            .to_vec(),
        ["check", "chapter:5", "--junit", &tmp.s("afile/slo.xml")]
            .map(String::from)
            .to_vec(),
        ["journey", "--out", &tmp.s("docs")]
            .map(String::from)
            .to_vec(),
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let start = Instant::now();
        let o = scalesim(&args);
        let took = start.elapsed();
        expect_code(&o, 2);
        // Before: chapter 5 ran 1.6-2 s (the journey far longer) before the refusal.
        assert!(took < Duration::from_secs(1), "{args:?} took {took:?}");
        assert_eq!(stdout(&o), "", "{args:?}: no header, nothing ran");
        let e = stderr(&o);
        assert!(e.contains("afile") || e.contains("docs"), "{e}");
    }
    assert_eq!(listing(&tmp.0), vec!["afile".to_string(), "docs".into()]);
    assert_eq!(listing(&tmp.join("docs")), vec!["thesis.tex".to_string()]);
}

#[test]
fn scenario_file_over_8_mib_is_refused_before_parsing() {
    let tmp = Tmp::new("huge_file");
    // 9 MiB of keys (the 92 MB, 5 M-key original took 44-82 s and 4.9 GB to be rejected).
    let mut text = String::from(BASE);
    text.push_str("[junk]\n");
    let mut i = 0;
    while text.len() < 9 << 20 {
        text.push_str(&format!("k{i} = {i}\n"));
        i += 1;
    }
    fs::write(tmp.join("huge.toml"), &text).unwrap();
    let start = Instant::now();
    let err = scenario::load(&tmp.s("huge.toml"), &[])
        .unwrap_err()
        .to_string();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(err.contains("at most 8 MiB"), "{err}");
    assert!(err.contains("9.0 MiB"), "{err}");
    // A stream with no size up front is cut at the limit too.
    #[cfg(unix)]
    {
        let err = scenario::load("/dev/zero", &[]).unwrap_err().to_string();
        assert!(err.contains("over 8 MiB"), "{err}");
    }
    let help = stdout(&scalesim(&["validate", "--help"]));
    assert!(help.contains("at most 8 MiB"), "{help}");
}

// ---------------------------------------------------------------------------------------------
// 9. `--seed` takes the whole u64 range.

#[test]
fn seed_at_or_above_2_pow_63_is_accepted_and_drives_the_run() {
    let short = [SHORT.to_string()];
    let load = |seed: u64| scalesim::cli::load_with("chapter:1", Some(seed), &short).unwrap();
    let (a, b) = (load(1 << 63), load(u64::MAX));
    assert_eq!((a.seed, b.seed), (1 << 63, u64::MAX));
    assert_eq!(b.file.scenario.seed, Some(u64::MAX));
    assert!(b
        .overrides
        .iter()
        .any(|o| o == "scenario.seed=18446744073709551615"));
    let ha = scalesim::run::run(&a, &mut |_| {}).hash;
    let hb = scalesim::run::run(&b, &mut |_| {}).hash;
    assert_ne!(ha, hb, "the seed reaches the simulation");
    // The binary: accepted, and echoed whole.
    let tmp = Tmp::new("big_seed");
    let o = scalesim(&[
        "run",
        "chapter:1",
        "--set",
        SHORT,
        "--seed",
        "18446744073709551615",
        "--out",
        &tmp.s("r"),
        "-q",
    ]);
    expect_code(&o, 0);
    let r: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.join("r/results.json")).unwrap()).unwrap();
    assert_eq!(r["scenario"]["seed"], u64::MAX);
    // Past TOML's integers through --set: the range, and where to go instead.
    let o = scalesim(&[
        "validate",
        "chapter:1",
        "--set",
        "scenario.seed=9223372036854775808",
    ]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("use --seed"), "{}", stderr(&o));
}

// ---------------------------------------------------------------------------------------------
// 10. Messages in the scenario's words, never Rust's.

/// Words and phrases of serde/Rust that mean nothing to someone writing a scenario.
fn jargon(text: &str) -> Option<String> {
    const WORDS: &[&str] = &[
        "enum",
        "struct",
        "variant",
        "i8",
        "i16",
        "i32",
        "i64",
        "u8",
        "u16",
        "u32",
        "u64",
        "usize",
        "isize",
        "f32",
        "f64",
        "sequence",
        "map",
        "untagged",
        "identifier",
        "tuple",
        "newtype",
        "bool",
        "Option",
        "Vec",
    ];
    const PHRASES: &[&str] = &[
        "invalid type",
        "invalid value",
        "invalid length",
        "floating point",
        "string only",
        "internally tagged",
        "did not match any",
        "with 7 elements",
        "Config",
    ];
    let lower = text.to_lowercase();
    if let Some(p) = PHRASES
        .iter()
        .find(|p| text.contains(*p) || lower.contains(*p))
    {
        return Some((*p).to_string());
    }
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| WORDS.contains(w))
        .map(str::to_string)
}

/// Every diagnostic of loading chapter 5 with `sets`, as (message, help) pairs.
fn messages(sets: &[String]) -> Vec<(String, String)> {
    let text = fs::read_to_string(root().join("scenarios/05-load-balancer.toml")).unwrap();
    let ov: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    match scenario::parse("ch5.toml", &text, &ov) {
        Ok(_) => vec![],
        Err(e) => e
            .diagnostics
            .into_iter()
            .map(|d| (d.message, d.help.unwrap_or_default()))
            .collect(),
    }
}

#[test]
fn type_errors_say_what_was_expected_in_scenario_words_without_rust_jargon() {
    const WRONG: &[&str] = &[
        "1.5",
        "-1",
        "\"x\"",
        "true",
        "[]",
        "{}",
        "[1]",
        "{ a = 1 }",
        "0",
        "99999999999",
    ];
    // Containers and their keys, written as a whole value with one key replaced by `{}`.
    let plain: &[(&str, &[&str])] = &[
        (
            "scenario",
            &[
                "name",
                "chapter",
                "description",
                "duration",
                "warmup",
                "seed",
                "window",
            ],
        ),
        (
            "workload",
            &[
                "users",
                "think_time",
                "arrival_rate",
                "timeout",
                "retries",
                "target",
                "spikes",
                "daily_curve",
                "start_hour",
                "mix",
                "bots",
            ],
        ),
        ("network", &["client_rtt", "internal_rtt", "jitter"]),
        (
            "components.web",
            &[
                "azs",
                "backlog",
                "boot_time",
                "desired",
                "instance",
                "max",
                "memory",
                "min",
                "price",
                "resize",
                "restart",
                "scaling",
                "schedule",
                "service",
                "tls_cpu",
                "vcpus",
                "workers",
            ],
        ),
        (
            "components.lb",
            &[
                "algorithm",
                "fail_open",
                "health_check",
                "max_outstanding",
                "price",
                "targets",
                "tls_termination",
            ],
        ),
        ("slo", &["availability", "error_rate", "objectives", "p99"]),
    ];
    let nested: &[(&str, &str, &[&str])] = &[
        (
            "workload.retries",
            "{ K }",
            &["backoff", "base", "cap", "jitter", "max"],
        ),
        (
            "workload.spikes",
            "[{ at = \"1m\", multiplier = 2.0, K }]",
            &["hold", "ramp"],
        ),
        (
            "workload.mix",
            "[{ name = \"a\", K }]",
            &["path", "weight", "work"],
        ),
        (
            "workload.think_time",
            "{ dist = \"exponential\", K }",
            &["mean"],
        ),
        (
            "components.web.service",
            "{ dist = \"lognormal\", mean = \"20ms\", K }",
            &["cv"],
        ),
        (
            "components.web.service",
            "{ mean = \"20ms\", K }",
            &["dist"],
        ),
        (
            "components.web.scaling",
            "{ policy = \"step\", metric = \"cpu\", steps = [{ K }] }",
            &["above", "change"],
        ),
        (
            "components.web.scaling",
            "{ policy = \"target_tracking\", metric = \"cpu\", target = 0.5, K }",
            &["period", "scale_out_periods", "cooldown"],
        ),
        (
            "components.web.scaling",
            "{ policy = \"step\", steps = [{ above = 0.7, change = 1 }], K }",
            &["metric"],
        ),
        (
            "components.web.schedule",
            "[{ at = \"1m\", K }]",
            &["desired", "max"],
        ),
        (
            "components.lb.health_check",
            "{ K }",
            &["healthy", "interval", "unhealthy"],
        ),
        (
            "faults",
            "[{ at = \"1m\", target = \"web[0]\", K }]",
            &["kind"],
        ),
        (
            "faults",
            "[{ at = \"1m\", kind = \"slow\", target = \"web[0]\", K }]",
            &["factor", "duration", "az"],
        ),
        (
            "slo.objectives",
            "[{ metric = \"p99\", K }]",
            &["below", "every", "class"],
        ),
        (
            "components.db",
            "{ kind = \"server\", K }",
            &["workers", "service", "memory", "resize"],
        ),
        (
            "components.dns",
            "{ kind = \"dns\", record = \"lb\", K }",
            &["failover", "resolvers", "ttl", "lookup_time"],
        ),
        (
            "components.dns",
            "{ kind = \"dns\", record = \"lb\", failover = { secondary = \"lb\", K } }",
            &["interval", "threshold"],
        ),
    ];
    let mut cases: Vec<String> = Vec::new();
    for (table, keys) in plain {
        for k in *keys {
            for w in WRONG {
                cases.push(format!("{table}.{k}={w}"));
            }
        }
    }
    for (key, template, keys) in nested {
        for k in *keys {
            for w in WRONG {
                cases.push(format!(
                    "{key}={}",
                    template.replace('K', &format!("{k} = {w}"))
                ));
            }
        }
    }
    for w in WRONG {
        for key in [
            "slo",
            "workload",
            "workload.retries",
            "components.lb.health_check",
            "workload.daily_curve",
            "slo.objectives",
            "components.lb.targets",
        ] {
            cases.push(format!("{key}={w}"));
            cases.push(format!("{key}=[{w}]"));
        }
    }
    let mut seen = 0;
    let mut bad = Vec::new();
    for case in &cases {
        for (msg, help) in messages(std::slice::from_ref(case)) {
            seen += 1;
            let whole = format!("{msg}\n  help: {help}");
            if let Some(j) = jargon(&whole) {
                bad.push(format!("--set {case}: `{j}` in\n{whole}"));
            } else if msg.starts_with("expected")
                && !["such as", "like", "e.g.", "between", "[components."]
                    .iter()
                    .any(|x| whole.contains(x))
            {
                bad.push(format!("--set {case}: no example in\n{whole}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} bad messages:\n{}",
        bad.len(),
        bad.join("\n")
    );
    assert!(
        seen > cases.len() / 2,
        "{seen} messages from {} cases",
        cases.len()
    );
}

#[test]
fn the_reported_jargon_cases_read_in_scenario_terms() {
    let one = |set: &str| {
        let m = messages(&[set.to_string()]);
        assert!(!m.is_empty(), "{set} was accepted");
        m[0].0.clone()
    };
    let m = one("workload.think_time=1.5");
    assert!(
        m.contains("a distribution table such as { dist = \"exponential\", mean = \"20ms\" }"),
        "{m}"
    );
    let m = one("components.web.scaling={ policy = \"step\", metric = \"cpu\", steps = [{ above = 0.7, change = 1.5 }] }");
    assert!(m.contains("a whole number of instances"), "{m}");
    assert!(m.contains("1.5"), "{m}");
    let m = one("slo=[]");
    assert!(
        m.contains("a table such as [slo] with p99 = \"300ms\""),
        "{m}"
    );
    let m = one("components.lb.targets=1.5");
    assert!(
        m.contains("targets = \"web\"") && m.contains("[\"web1\", \"web2\"]"),
        "{m}"
    );
    let m = one("components.lb.algorithm=1.5");
    assert!(
        m.contains("\"round_robin\"") && m.contains("\"power_of_two\""),
        "{m}"
    );
    let m = one("workload.users=1.5");
    assert!(
        m.contains("a whole number of users, such as users = 1000"),
        "{m}"
    );
}

// ---------------------------------------------------------------------------------------------
// 11. "missing required …" points at the table that lacks it (line 1 for a top-level one).

#[test]
fn missing_required_key_or_table_has_a_location_and_key_path() {
    let drop_table = |name: &str| {
        let mut out = String::new();
        let mut skip = false;
        for line in BASE.lines() {
            if line.starts_with('[') {
                skip = line == name;
            }
            if !skip {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    };
    for (table, word) in [("[scenario]", "scenario"), ("[workload]", "workload")] {
        let err = scenario::parse("t.toml", &drop_table(table), &[]).unwrap_err();
        let d = &err.diagnostics[0];
        assert_eq!(d.location, Some((1, 1)), "{err}");
        assert!(
            d.message
                .contains(&format!("missing required table `{word}`")),
            "{err}"
        );
        assert!(d.help.as_deref().unwrap_or("").contains(table), "{err}");
    }
    // A key missing from a nested table: at that table, with its key path.
    let text = BASE.replace(
        "users = 10\n",
        "users = 10\nretries = { backoff = \"constant\" }\n",
    );
    let err = scenario::parse("t.toml", &text, &[]).unwrap_err();
    let d = &err.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("workload.retries"), "{err}");
    assert_eq!(d.location.map(|l| l.0), Some(8), "{err}");
    assert!(d.message.contains("missing required key `max`"), "{err}");
    // Every diagnostic of every one-line deletion of the base has a place.
    let lines: Vec<&str> = BASE.lines().collect();
    for i in 0..lines.len() {
        let mut v = lines.clone();
        v.remove(i);
        if let Err(e) = scenario::parse("t.toml", &v.join("\n"), &[]) {
            for d in &e.diagnostics {
                assert!(d.location.is_some(), "without line {}: {d}", i + 1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1 (in `check`'s table). A 70,000-character class name in an objective: no `{:<w$}` panic.

#[test]
fn check_table_with_an_objective_label_past_65535_columns_prints_without_panicking() {
    let tmp = Tmp::new("long_label");
    let class = "b".repeat(70_000);
    let text = fs::read_to_string(root().join("scenarios/01-single-server.toml"))
        .unwrap()
        .replace("{ name = \"buy\",", &format!("{{ name = \"{class}\","))
        .replace(
            "\"buy: p(95) < 800ms\"",
            &format!("\"{class}: p(95) < 800ms\""),
        );
    fs::write(tmp.join("long.toml"), text).unwrap();
    let o = scalesim(&["check", &tmp.s("long.toml"), "--set", SHORT]);
    assert!(matches!(code(&o), 0 | 1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.lines().all(|l| l.chars().count() < 200),
        "the table is not flooded"
    );
    assert!(out.contains("bbbb…"), "{}", &out[..out.len().min(600)]);
}

// ---------------------------------------------------------------------------------------------
// 12. Absurd sizes: estimated before the run and refused with the estimate and the key to change;
//     watched during the run and stopped cleanly, with the partial report.

#[test]
fn absurd_users_and_duration_are_refused_with_an_estimate_before_running() {
    let start = Instant::now();
    let o = scalesim(&[
        "run",
        "chapter:5",
        "--set",
        "workload.users=10000000",
        "--set",
        "scenario.duration=30d",
        "--out",
        &std::env::temp_dir()
            .join(format!("scalesim-it-absurd-{}", std::process::id()))
            .to_string_lossy(),
    ]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(start.elapsed() < Duration::from_secs(10), "refused late");
    assert!(e.contains("events") && e.contains("--max-events"), "{e}");
    assert!(e.contains("days of CPU"), "{e}");
    assert!(e.contains("`workload.users`"), "{e}");
}

#[test]
fn open_loop_into_a_huge_backlog_is_refused_with_the_memory_estimate() {
    let tmp = Tmp::new("huge-backlog");
    let f = tmp.join("open.toml");
    fs::write(
        &f,
        r#"[scenario]
name = "open"
duration = "1m"
[workload]
arrival_rate = "10000000/s"
[components.web]
kind = "server"
instance = "c5.large"
backlog = 100000000
service = { dist = "exponential", mean = "20ms" }
"#,
    )
    .unwrap();
    let o = scalesim(&["run", &f.to_string_lossy(), "--out", &tmp.s("out")]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("--max-memory") && e.contains("GiB"), "{e}");
    assert!(e.contains("`components.web.backlog`"), "{e}");
    assert!(
        !tmp.join("out").exists(),
        "nothing is written for a refused run"
    );
}

#[test]
fn a_run_past_max_memory_stops_cleanly_with_its_partial_report() {
    // The estimate counts every instance slot's capacity (50 × 100 req/s) though one runs: it
    // admits the run, and the guard stops it as the backlog grows by ~1,900 requests a second.
    let tmp = Tmp::new("stopped-run");
    let f = tmp.join("under.toml");
    fs::write(
        &f,
        r#"[scenario]
name = "under"
duration = "10m"
[workload]
arrival_rate = "2000/s"
[components.lb]
kind = "load_balancer"
targets = "web"
[components.web]
kind = "fleet"
instance = "c5.large"
min = 1
max = 50
desired = 1
backlog = 100000000
service = { dist = "exponential", mean = "20ms" }
"#,
    )
    .unwrap();
    let out = tmp.join("out");
    let o = scalesim(&[
        "run",
        &f.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
        "--max-memory",
        "64MiB",
    ]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(
        e.contains("the run stopped at") && e.contains("--max-memory 64.0 MiB"),
        "{e}"
    );
    assert!(e.contains("partial report"), "{e}");
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let at = doc["run"]["stopped_early"]["at_s"].as_f64().unwrap();
    assert!(at > 10.0 && at < 600.0, "stopped at {at}");
    let started = doc["run"]["requests_started"].as_u64().unwrap();
    let ended = doc["run"]["requests_ended"].as_u64().unwrap();
    let open = doc["run"]["open_requests_at_end"].as_u64().unwrap();
    assert_eq!(started, ended + open, "every request is accounted for");
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("This run was stopped at"), "{summary}");
    // Deterministic: the guard counts requests and events, not the process's memory.
    let out2 = tmp.join("out2");
    let o2 = scalesim(&[
        "run",
        &f.to_string_lossy(),
        "--out",
        &out2.to_string_lossy(),
        "--max-memory",
        "64MiB",
        "-q",
    ]);
    expect_code(&o2, 2);
    assert_eq!(
        fs::read(out.join("results.json")).unwrap(),
        fs::read(out2.join("results.json")).unwrap()
    );
}

#[test]
fn journey_refuses_a_level_past_the_limits_before_running_any() {
    let tmp = Tmp::new("journey-limits");
    let start = Instant::now();
    let o = scalesim(&[
        "journey",
        "--users",
        "10,10000000",
        "--max-events",
        "50M",
        "--out",
        &tmp.s("j"),
    ]);
    expect_code(&o, 2);
    let e = stderr(&o);
    assert!(
        e.contains("at 10000000 users") && e.contains("--max-events"),
        "{e}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!tmp.join("j").exists());
}

#[test]
fn limits_flags_take_units_and_refuse_nonsense() {
    let o = scalesim(&["run", "chapter:1", "--max-events", "lots"]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("5M"), "{}", stderr(&o));
    let o = scalesim(&["run", "chapter:1", "--max-memory", "12"]);
    expect_code(&o, 2);
    assert!(stderr(&o).contains("4GiB"), "{}", stderr(&o));
}

#[test]
fn the_estimate_is_within_a_small_factor_of_the_events_a_run_handles() {
    let mut sources: Vec<String> = scenario::embedded::CHAPTERS
        .iter()
        .map(|c| format!("chapter:{}", c.number))
        .collect();
    let mut val: Vec<_> = fs::read_dir(root().join("scenarios/validation"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    val.sort();
    sources.extend(val);
    for src in &sources {
        let scn = scenario::load(src, &[]).unwrap();
        let est = scalesim::budget::estimate(&scn);
        let out = scalesim::run::run(&scn, &mut |_| {});
        let ratio = est.total_events() / out.events as f64;
        // An estimate, not a prediction: it has to tell a minute from a week, and errs high.
        assert!(
            (0.7..=3.0).contains(&ratio),
            "{src}: estimated {:.0} events, ran {} ({ratio:.2}×)",
            est.total_events(),
            out.events
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 13. Found by the range-edges property (tests/it/edges.rs).

#[test]
fn window_too_small_for_a_duration_set_on_the_command_line_names_both() {
    // `--set scenario.duration=30d` on a file with `window = "250ms"`: refused at the window with
    // "the window is too small: more than a million points", naming neither the duration that
    // was just set nor a window that would do.
    let text = BASE.replace("duration = \"5m\"", "duration = \"5m\"\nwindow = \"250ms\"");
    let set = Override::parse("scenario.duration=30d").unwrap();
    let e = scenario::parse("t.toml", &text, &[set]).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(d.key_path.as_deref(), Some("scenario.window"), "{e}");
    assert_eq!(
        d.message,
        "the window (250ms) is too small for the duration (30d): more than a million points"
    );
    assert_eq!(
        d.help.as_deref(),
        Some("a window of at least 2592ms gives at most a million points")
    );
    let enough = Override::parse("scenario.window=2592ms").unwrap();
    let set = Override::parse("scenario.duration=30d").unwrap();
    scenario::parse("t.toml", &text, &[set, enough]).expect("the suggested window is enough");
}

#[test]
fn huge_and_tiny_numbers_in_refusals_are_shown_as_written_not_digit_by_digit() {
    // `{}` prints an f64 in full: `--set components.web.service.cv=1e300` was refused with
    // "found 1000…000" (301 digits), and so were type errors, bare numbers for durations, SLO
    // thresholds and the users × multiplier limit.
    let refused = |sets: &[&str]| {
        let sets: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        let e = scenario::parse("t.toml", BASE, &sets).unwrap_err();
        let shown = e.to_string();
        assert!(
            !shown.contains("0000000000"),
            "a number printed in full: {shown}"
        );
        shown
    };
    let cv = "components.web.service={ dist = \"lognormal\", mean = \"20ms\", cv = 1e300 }";
    assert!(refused(&[cv]).contains("cv must be a positive number up to 100, found 1e300"));
    assert!(refused(&["workload.users=1e300"]).contains("found the number 1e300"));
    assert!(refused(&["workload.users=5e-324"]).contains("found the number 5e-324"));
    assert!(refused(&["components.web.service.mean=1e300"])
        .contains("a bare number (1e300) has no unit"));
    assert!(refused(&["slo.objectives=[{ metric = \"p99\", below = 1e300 }]"])
        .contains("a bare number (1e300) has no unit; write the threshold with one, like below = \"300ms\""));
    let spike = "workload.spikes=[{ at = \"1m\", multiplier = 1e300, hold = \"1m\" }]";
    assert!(refused(&[spike]).contains("users × the largest load multiplier is 1e301"));
    // Everyday sizes are unchanged.
    assert!(refused(&["workload.users=1.5"]).contains("found the number 1.5"));
}
