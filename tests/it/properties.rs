//! Property tests of the loader and the run:
//! (a) arbitrary text, bytes and `--set` strings never panic the loader;
//! (b) randomly mutated chapter files never panic it either: `Ok`, or `Err` with sane diagnostics;
//! (c) mutated files that do load run without panicking, and every logical request is accounted
//!     for: it is either still open or ended in exactly one outcome
//!     (`metrics.started == metrics.ended + open_at_end`), checked by `scalesim::fuzzing` as the
//!     fuzzers check it.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use scalesim::engine::time::SEC;
use scalesim::fuzzing::{self, Limits};
use scalesim::scenario::error::LoadError;
use scalesim::scenario::{self, Override, Scenario};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

const CH1: &str = include_str!("../../scenarios/01-single-server.toml");
const CH3: &str = include_str!("../../scenarios/03-vertical-scaling.toml");
const CH2: &str = include_str!("../../scenarios/02-dns.toml");
const CH4: &str = include_str!("../../scenarios/04-horizontal-scaling.toml");
const CH5: &str = include_str!("../../scenarios/05-load-balancer.toml");

/// The longest simulated run a property case may do.
const MAX_SIM: u64 = 60 * SEC;
/// Events a property case may handle before it is cut short (a guard against livelocks).
const EVENT_BUDGET: u64 = 2_000_000;

fn config(cases: u32) -> Config {
    Config {
        // PROPTEST_CASES=5000 for a longer hunt.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        // Keep the working tree clean: no proptest-regressions/ files.
        failure_persistence: None,
        ..Config::default()
    }
}

/// The chapter files squeezed into well under a minute of simulated time, with their dynamics
/// (spike, crashes, restarts, resize; and faults on chapter 1) kept inside the run.
fn bases() -> Vec<(&'static str, String)> {
    let ch1 = CH1
        .replace("duration = \"1h\"", "duration = \"30s\"")
        .replace("warmup = \"2m\"", "warmup = \"0s\"");
    let ch1_faults = format!(
        "{ch1}\n[[faults]]\nat = \"5s\"\nkind = \"crash\"\ntarget = \"web\"\n\n\
         [[faults]]\nat = \"12s\"\nkind = \"slow\"\nfactor = 3\ntarget = \"web\"\nduration = \"5s\"\n\n\
         [[faults]]\nat = \"20s\"\nkind = \"hang\"\ntarget = \"web\"\nduration = \"3s\"\n"
    );
    let ch3 = shrink(
        CH3,
        &[
            ("duration = \"1h30m\"", "duration = \"40s\""),
            ("at = \"20m\"", "at = \"10s\""),
            ("ramp = \"1m\"", "ramp = \"2s\""),
            ("hold = \"60m\"", "hold = \"20s\""),
            ("at = \"50m\"", "at = \"25s\""),
            ("downtime = \"4m\"", "downtime = \"5s\""),
            ("restart = \"60s\"", "restart = \"3s\""),
        ],
    );
    let ch2 = shrink(
        CH2,
        &[
            ("duration = \"1h20m\"", "duration = \"60s\""),
            ("warmup = \"1m\"", "warmup = \"0s\""),
            ("ttl = \"60s\"", "ttl = \"5s\""),
            ("at = \"30m\"", "at = \"20s\""),
            ("duration = \"15m\"", "duration = \"15s\""),
            ("at = \"60m\"", "at = \"45s\""),
        ],
    );
    let ch4 = shrink(
        CH4,
        &[
            ("duration = \"2h\"", "duration = \"60s\""),
            ("warmup = \"5m\"", "warmup = \"0s\""),
            ("users = 1500", "users = 150"),
            ("at = \"30m\"", "at = \"10s\""),
            ("ramp = \"2m\"", "ramp = \"2s\""),
            ("hold = \"40m\"", "hold = \"30s\""),
            ("boot_time = \"90s\"", "boot_time = \"5s\""),
            ("period = \"1m\"", "period = \"5s\""),
            ("cooldown = \"5m\"", "cooldown = \"10s\""),
        ],
    );
    let ch5 = shrink(
        CH5,
        &[
            ("duration = \"1h\"", "duration = \"60s\""),
            ("warmup = \"5m\"", "warmup = \"0s\""),
            ("users = 5000", "users = 500"),
            (
                "interval = \"10s\", timeout = \"2s\"",
                "interval = \"3s\", timeout = \"1s\"",
            ),
            ("at = \"20m\"", "at = \"15s\""),
            ("at = \"40m\"", "at = \"30s\""),
            ("duration = \"10m\"", "duration = \"15s\""),
        ],
    );
    vec![
        ("ch01", ch1),
        ("ch01+faults", ch1_faults),
        ("ch03", ch3),
        ("ch02", ch2),
        ("ch04", ch4),
        ("ch05", ch5),
    ]
}

/// `text` with each `(from, to)` edit applied; every `from` must be there, so a chapter file that
/// changes can't silently leave a fixture at full length.
fn shrink(text: &str, edits: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (from, to) in edits {
        assert!(
            out.contains(from),
            "test bug: `{from}` is not in the chapter file"
        );
        out = out.replace(from, to);
    }
    out
}

/// A unique scratch file path for this process.
fn scratch(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "scalesim-properties-{tag}-{}-{}.toml",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Loads `bytes` from a real file through `scenario::load` (so `read_source` is exercised too).
fn load_bytes(tag: &str, bytes: &[u8]) -> Result<Scenario, LoadError> {
    let p = scratch(tag);
    std::fs::write(&p, bytes).expect("write scratch file");
    let r = std::panic::catch_unwind(|| scenario::load(&p.to_string_lossy(), &[]));
    let _ = std::fs::remove_file(&p);
    match r {
        Ok(r) => r,
        Err(_) => panic!(
            "the loader panicked on {} bytes: {:?}",
            bytes.len(),
            String::from_utf8_lossy(bytes)
        ),
    }
}

/// Checks an error is well-formed: at least one diagnostic, each with a message, a sane location,
/// and a Display that shows it.
fn check_err(text: Option<&str>, e: &LoadError) -> Result<(), TestCaseError> {
    prop_assert!(!e.diagnostics.is_empty(), "an Err without diagnostics");
    let shown = e.to_string();
    // Display prints at most MAX_ERRORS_SHOWN problems (and says how many more there were), each
    // message clipped to MAX_SHOWN characters.
    use scalesim::scenario::error::{clip, MAX_ERRORS_SHOWN, MAX_SHOWN};
    for d in &e.diagnostics {
        prop_assert!(!d.message.trim().is_empty(), "empty message: {d:?}");
    }
    if e.diagnostics.len() > MAX_ERRORS_SHOWN {
        prop_assert!(
            shown.contains("more"),
            "Display hides the count of the rest"
        );
    }
    for d in e.diagnostics.iter().take(MAX_ERRORS_SHOWN) {
        prop_assert!(
            shown.contains(&*clip(&d.message, MAX_SHOWN)),
            "Display lost the message"
        );
        if let Some((line, col)) = d.location {
            prop_assert!(line >= 1 && col >= 1, "location {line}:{col}");
            if let Some(t) = text {
                let lines = t.split('\n').count();
                prop_assert!(line <= lines, "line {line} of a {lines}-line text: {d}");
            }
            prop_assert!(
                shown.contains(&format!(":{line}:{col}")),
                "Display lacks {line}:{col}: {shown}"
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// (a) arbitrary input

/// Bits of scenario files, so random texts get past the TOML parser into the checks.
fn toml_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[scenario]\n".to_string()),
        Just("[workload]\n".to_string()),
        Just("[network]\n".to_string()),
        Just("[components.web]\n".to_string()),
        Just("[components.db]\n".to_string()),
        Just("[[faults]]\n".to_string()),
        Just("name = \"x\"\n".to_string()),
        Just("duration = \"1m\"\n".to_string()),
        Just("warmup = \"30s\"\n".to_string()),
        Just("users = 3\n".to_string()),
        Just("arrival_rate = \"5/s\"\n".to_string()),
        Just("kind = \"server\"\n".to_string()),
        Just("kind = \"crash\"\n".to_string()),
        Just("instance = \"t2.micro\"\n".to_string()),
        Just("service = { dist = \"exponential\", mean = \"1ms\" }\n".to_string()),
        Just("mix = [{ name = \"a\", weight = 1 }, { name = \"a\", weight = 0 }]\n".to_string()),
        Just("retries = { max = 3 }\n".to_string()),
        Just("spikes = [{ at = \"1s\", multiplier = 5, hold = \"1s\" }]\n".to_string()),
        Just("resize = [{ at = \"1s\", to = \"c5.large\" }]\n".to_string()),
        Just("target = \"web\"\n".to_string()),
        Just("at = \"1s\"\n".to_string()),
        Just("=".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just(",".to_string()),
        Just("\n".to_string()),
        "[a-z_]{1,8} = ".prop_map(|s| s.to_string()),
        "\\PC{0,8}".prop_map(|s| s.to_string()),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_strings_never_panic_the_loader(text in any::<String>()) {
        match std::panic::catch_unwind(|| scenario::parse("prop.toml", &text, &[])) {
            Err(_) => prop_assert!(false, "panicked on {text:?}"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => check_err(Some(&text), &e)?,
        }
    }

    #[test]
    fn toml_like_strings_never_panic_the_loader(
        parts in proptest::collection::vec(toml_fragment(), 0..40)
    ) {
        let text = parts.concat();
        match std::panic::catch_unwind(|| scenario::parse("prop.toml", &text, &[])) {
            Err(_) => prop_assert!(false, "panicked on {text:?}"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => check_err(Some(&text), &e)?,
        }
    }

    #[test]
    fn arbitrary_bytes_in_a_file_never_panic_the_loader(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048)
    ) {
        if let Err(e) = load_bytes("bytes", &bytes) {
            check_err(None, &e)?;
        }
    }

    #[test]
    fn arbitrary_sets_never_panic(
        raw in prop_oneof![
            any::<String>(),
            "[a-z_.]{0,24}(\\[[0-9x]{0,3}\\]?)?[a-z_.]{0,10}=\\PC{0,12}",
            "(scenario|workload|network|components\\.web|faults\\[0\\])\\.[a-z_]{1,12}=[-0-9a-z\"{}\\[\\]., =]{0,16}",
        ]
    ) {
        let parsed = std::panic::catch_unwind(|| Override::parse(&raw));
        let Ok(parsed) = parsed else {
            return Err(TestCaseError::fail(format!("Override::parse panicked on {raw:?}")));
        };
        if let Ok(o) = parsed {
            let r = std::panic::catch_unwind(|| scenario::parse("ch01.toml", CH1, std::slice::from_ref(&o)));
            match r {
                Err(_) => prop_assert!(false, "--set {raw:?} panicked the loader"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => check_err(None, &e)?,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (b) mutated chapter files

/// Values that have broken loaders before.
const NASTY: &[&str] = &[
    "-1",
    "0",
    "1",
    "-0",
    "0.0",
    "-0.0",
    "\"\"",
    "\"0s\"",
    "\"-0s\"",
    "\"1ns\"",
    "\"1e400s\"",
    "\"NaN\"",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e-308",
    "[]",
    "{}",
    "[{}]",
    "true",
    "18446744073709551616",
    "18446744073709551615",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967295",
    "4294967296",
    "\"999999999h\"",
    "\"213503d\"",
    "\"5124095h\"",
    "\"0/s\"",
    "\"1e9/ns\"",
    "\"$-1/h\"",
    "\"0B\"",
    "\"16EiB\"",
    "\"150%\"",
    "\"web\"",
    "\"server\"",
    "\"crash\"",
    "1979-05-27T07:32:00Z",
    "'''\n'''",
];

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Replace the value after the k-th `=` on a line.
    ReplaceValue(usize, usize, String),
    /// Insert text at a character position.
    Insert(usize, String),
}

fn ix() -> impl Strategy<Value = prop::sample::Index> {
    any::<prop::sample::Index>()
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(NASTY).prop_map(str::to_string),
        1 => "\\PC{0,6}".prop_map(|s| format!("\"{s}\"")),
        1 => "\\PC{0,6}",
        1 => any::<i64>().prop_map(|v| v.to_string()),
        1 => any::<f64>().prop_map(|v| format!("{v:?}")),
        1 => (0u32..100_000, "(ns|us|ms|s|m|h|d|x|)").prop_map(|(v, u)| format!("\"{v}{u}\"")),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => ix().prop_map(|i| Mutation::DeleteLine(i.index(1 << 16))),
        1 => ix().prop_map(|i| Mutation::DuplicateLine(i.index(1 << 16))),
        1 => (ix(), ix()).prop_map(|(a, b)| Mutation::SwapLines(a.index(1 << 16), b.index(1 << 16))),
        5 => (ix(), 0usize..8, token())
            .prop_map(|(i, k, t)| Mutation::ReplaceValue(i.index(1 << 16), k, t)),
        1 => (ix(), "\\PC{1,4}").prop_map(|(i, s)| Mutation::Insert(i.index(1 << 20), s)),
    ]
}

/// Applies one mutation. Lines that matter (not comments or blank) are the ones picked.
fn apply(text: &str, m: &Mutation) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let live: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            let t = lines[i].trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .collect();
    if live.is_empty() {
        return text.to_string();
    }
    let pick = |i: usize| live[i % live.len()];
    match m {
        Mutation::DeleteLine(i) => {
            lines.remove(pick(*i));
        }
        Mutation::DuplicateLine(i) => {
            let l = pick(*i);
            let dup = lines[l].clone();
            lines.insert(l, dup);
        }
        Mutation::SwapLines(a, b) => {
            let (a, b) = (pick(*a), pick(*b));
            lines.swap(a, b);
        }
        Mutation::ReplaceValue(i, k, tok) => {
            let l = pick(*i);
            let line = &lines[l];
            let eqs: Vec<usize> = line.match_indices('=').map(|(p, _)| p).collect();
            if let Some(&eq) = eqs.get(k % eqs.len().max(1)) {
                let start = eq + 1;
                let rest = &line[start..];
                let end = rest.find([',', '}', '#']).map_or(line.len(), |e| start + e);
                lines[l] = format!("{} {tok} {}", &line[..start], &line[end..]);
            }
        }
        Mutation::Insert(at, s) => {
            let joined = lines.join("\n");
            let n = joined.chars().count();
            let byte = joined
                .char_indices()
                .nth(at % (n + 1))
                .map_or(joined.len(), |(b, _)| b);
            return format!("{}{s}{}", &joined[..byte], &joined[byte..]);
        }
    }
    lines.join("\n")
}

/// Bases 0..3: chapters 1 and 3 (single servers). Bases 3..6: chapters 2, 4 and 5 (DNS, fleets,
/// balancers).
const SINGLE: std::ops::Range<usize> = 0..3;
const SCALE_OUT: std::ops::Range<usize> = 3..6;

/// A mutated chapter file: which base, the mutations, and an optional byte truncation.
fn mutated(
    bases: std::ops::Range<usize>,
) -> impl Strategy<Value = (usize, Vec<Plausible>, Option<prop::sample::Index>)> {
    (
        bases,
        proptest::collection::vec(
            prop_oneof![
                1 => mutation().prop_map(Plausible::Nasty),
                1 => plausible_mutation(),
            ],
            1..4,
        ),
        proptest::option::weighted(0.15, any::<prop::sample::Index>()),
    )
}

fn build_case(base: usize, muts: &[Plausible], cut: Option<prop::sample::Index>) -> Vec<u8> {
    let (_, text) = &bases()[base];
    let mut t = text.clone();
    for m in muts {
        t = apply_plausible(&t, m);
    }
    let mut bytes = t.into_bytes();
    if let Some(c) = cut {
        let n = c.index(bytes.len() + 1);
        bytes.truncate(n);
    }
    bytes
}

#[test]
fn squeezed_bases_are_valid() {
    for (name, text) in bases() {
        let s = scenario::parse(name, &text, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(s.duration <= MAX_SIM, "{name}");
    }
}

fn check_mutated_load(
    base: usize,
    muts: &[Plausible],
    cut: Option<prop::sample::Index>,
) -> Result<(), TestCaseError> {
    let bytes = build_case(base, muts, cut);
    match load_bytes("mutated", &bytes) {
        Ok(s) => prop_assert!(!s.name.is_empty()),
        Err(e) => {
            let text = std::str::from_utf8(&bytes).ok();
            check_err(text, &e)?;
            // Parsing the text directly agrees with loading the file.
            if let Some(t) = text {
                if !t.trim().is_empty() && !t.contains('\0') {
                    prop_assert!(scenario::parse("x", t, &[]).is_err());
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn mutated_chapter_files_never_panic_the_loader((base, muts, cut) in mutated(SINGLE)) {
        check_mutated_load(base, &muts, cut)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
        fn mutated_scale_out_chapter_files_never_panic_the_loader(
        (base, muts, cut) in mutated(SCALE_OUT)
    ) {
        check_mutated_load(base, &muts, cut)?;
    }
}

// ---------------------------------------------------------------------------------------------
// (c) mutated files that load: the run never panics and conserves requests

/// How short a property case's run is: at most a minute of simulated time and a bounded number
/// of events (a guard against livelocks), at the size the mutated file asks for.
const SHORT: Limits = Limits {
    duration: MAX_SIM,
    users: u32::MAX,
    rate: f64::INFINITY,
    components: usize::MAX,
    events: EVENT_BUDGET,
};

/// Runs `scn` (cut to [`SHORT`]) under `scalesim::fuzzing`'s checks: event by event, then
/// through the real run loop; every request ends in exactly one outcome. `Ok(false)` if the
/// event budget ran out.
fn run_case(scn: Scenario) -> Result<bool, TestCaseError> {
    let scn = fuzzing::shorten(&scn, &SHORT).expect("no component limit");
    let Some(out) = fuzzing::run_checked(&scn, SHORT.events).map_err(TestCaseError::fail)? else {
        return Ok(false);
    };

    // The same scenario with no client timeout: no attempt is ever abandoned, so every live slot
    // (probes aside) is an open request.
    let mut no_timeout = scn.clone();
    no_timeout.client.timeout = None;
    fuzzing::run_checked(&no_timeout, SHORT.events)
        .map_err(|e| TestCaseError::fail(format!("without timeout: {e}")))?;

    prop_assert!(out.open_at_end <= out.in_flight_end as u64);
    prop_assert!(out.in_flight_end <= out.peak_in_flight);
    fuzzing::render(&scn, &out);
    fuzzing::deterministic(&scn, &out).map_err(TestCaseError::fail)?;
    Ok(true)
}

/// A replacement of the same shape as `old` (a duration for a duration, a count for a count, ...),
/// so the file mostly stays loadable while its values move somewhere unusual.
fn same_shape(old: &str, pick: prop::sample::Index) -> String {
    let old = old.trim();
    let choose = |v: &[&str]| v[pick.index(v.len())].to_string();
    let unquoted = old.trim_matches('"');
    if old.starts_with('"') {
        if unquoted.ends_with("iB") || unquoted.ends_with('B') {
            choose(&["\"0B\"", "\"1KiB\"", "\"64MiB\"", "\"600MiB\"", "\"4GiB\""])
        } else if unquoted.ends_with(['s', 'm', 'h'])
            && unquoted.starts_with(|c: char| c.is_ascii_digit())
        {
            choose(&[
                "\"0s\"",
                "\"1ns\"",
                "\"1us\"",
                "\"1ms\"",
                "\"5ms\"",
                "\"100ms\"",
                "\"1s\"",
                "\"3s\"",
                "\"20s\"",
                "\"1m\"",
                "\"1h\"",
            ])
        } else {
            choose(&[
                "\"constant\"",
                "\"exponential\"",
                "\"deterministic\"",
                "\"t3.small\"",
                "\"c5.large\"",
                "\"c5.4xlarge\"",
                "\"constant\"",
                "\"web\"",
                "\"/\"",
                "\"\"",
            ])
        }
    } else if old == "true" || old == "false" {
        choose(&["true", "false"])
    } else if old.contains('.') {
        choose(&["0.0", "0.001", "0.5", "1.0", "2.5", "10.0", "100.0"])
    } else {
        choose(&["0", "1", "2", "3", "16", "100", "1000"])
    }
}

#[derive(Clone, Debug)]
enum Plausible {
    DeleteLine(usize),
    DuplicateLine(usize),
    /// Replace the value after the k-th `=` on a line by one of the same shape.
    Reshape(usize, usize, prop::sample::Index),
    Nasty(Mutation),
}

fn plausible_mutation() -> impl Strategy<Value = Plausible> {
    prop_oneof![
        1 => ix().prop_map(|i| Plausible::DeleteLine(i.index(1 << 16))),
        1 => ix().prop_map(|i| Plausible::DuplicateLine(i.index(1 << 16))),
        10 => (ix(), 0usize..8, ix()).prop_map(|(i, k, p)| Plausible::Reshape(i.index(1 << 16), k, p)),
        1 => (ix(), 0usize..8, proptest::sample::select(NASTY))
            .prop_map(|(i, k, t)| Plausible::Nasty(Mutation::ReplaceValue(i.index(1 << 16), k, t.to_string()))),
    ]
}

fn apply_plausible(text: &str, m: &Plausible) -> String {
    match m {
        Plausible::DeleteLine(i) => apply(text, &Mutation::DeleteLine(*i)),
        Plausible::DuplicateLine(i) => apply(text, &Mutation::DuplicateLine(*i)),
        Plausible::Nasty(m) => apply(text, m),
        Plausible::Reshape(i, k, p) => {
            // Find the old value the same way `apply` does, then replace it by one of its shape.
            let lines: Vec<&str> = text.split('\n').collect();
            let live: Vec<usize> = (0..lines.len())
                .filter(|&l| {
                    let t = lines[l].trim();
                    !t.is_empty() && !t.starts_with('#')
                })
                .collect();
            let line = lines[live[i % live.len()]];
            let eqs: Vec<usize> = line.match_indices('=').map(|(p, _)| p).collect();
            let Some(&eq) = eqs.get(k % eqs.len().max(1)) else {
                return text.to_string();
            };
            let rest = &line[eq + 1..];
            let old = &rest[..rest.find([',', '}', '#']).unwrap_or(rest.len())];
            apply(text, &Mutation::ReplaceValue(*i, *k, same_shape(old, *p)))
        }
    }
}

/// Runs `cases` mutated files from the bases `which` and checks every one that loads. Loader panics are the
/// business of the (b) properties; here they only skip the case.
fn run_mutated(which: std::ops::Range<usize>, cases: u32) {
    let cfg = config(cases);
    let cases = cfg.cases as usize;
    let mut runner = TestRunner::new(cfg);
    let loaded = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let strategy = (which, proptest::collection::vec(plausible_mutation(), 1..4));
    let result = runner.run(&strategy, |(base, muts)| {
        let mut text = bases()[base].1.clone();
        for m in &muts {
            text = apply_plausible(&text, m);
        }
        let Ok(Ok(scn)) = std::panic::catch_unwind(|| scenario::parse("mutated.toml", &text, &[]))
        else {
            return Ok(());
        };
        loaded.fetch_add(1, Ordering::Relaxed);
        match std::panic::catch_unwind(|| run_case(scn.clone())) {
            Err(_) => Err(TestCaseError::fail(format!("the run panicked on:\n{text}"))),
            Ok(Err(e)) => Err(TestCaseError::fail(format!("{e}\nscenario:\n{text}"))),
            Ok(Ok(true)) => {
                finished.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Ok(Ok(false)) => Ok(()),
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (loaded, finished) = (loaded.into_inner(), finished.into_inner());
    eprintln!("{loaded} of {cases} mutated files loaded; {finished} ran to the end");
    // Guard against a vacuous property: enough mutated files must load and run to the end.
    assert!(
        loaded * 4 >= cases,
        "only {loaded} of {cases} mutated files loaded"
    );
    assert!(
        finished * 10 >= loaded * 9,
        "only {finished} of {loaded} runs finished within the event budget"
    );
}

#[test]
fn mutated_files_that_load_run_and_conserve_requests() {
    run_mutated(SINGLE, 192);
}

#[test]
fn mutated_scale_out_files_that_load_run_and_conserve_requests() {
    run_mutated(SCALE_OUT, 128);
}

#[test]
fn unmutated_bases_conserve_requests() {
    for (name, text) in bases() {
        let scn = scenario::parse(name, &text, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        match run_case(scn) {
            Ok(true) => {}
            Ok(false) => panic!("{name}: event budget exhausted"),
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Known bug found by the mutations

#[test]
fn zero_think_time_and_zero_rtt_do_not_livelock() {
    let text = CH1
        .replace("retries = {", "# retries = {")
        .replace("mean = \"8s\"", "mean = \"0s\"")
        .replace("client_rtt = \"40ms\"", "client_rtt = \"0s\"")
        + "\n[[faults]]\nat = \"10s\"\nkind = \"stop\"\ntarget = \"web\"\n";
    let sets = ["scenario.duration=30s", "scenario.warmup=0s"].map(|s| Override::parse(s).unwrap());
    let scn = match scenario::parse("livelock.toml", &text, &sets) {
        Ok(s) => s,
        Err(_) => return, // rejected up front: fine
    };
    let mut sim = scalesim::run::build(&scn);
    while sim.now() < scn.duration && sim.step() {
        assert!(
            sim.stats.events < 20_000_000,
            "stuck at t = {} ns after {} events",
            sim.now(),
            sim.stats.events
        );
    }
}
