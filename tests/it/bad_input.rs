//! Bad input: every kind of broken scenario is rejected with an `Err` (never a panic), and the
//! error says where (file:line:col and key path), what is wrong, and — where a near key, value or
//! component name exists — what was probably meant.

use scalesim::scenario::error::{Diagnostic, LoadError};
use scalesim::scenario::{self, Override};
use std::path::PathBuf;

/// A small, complete, valid scenario (a trimmed chapter 1). Tests break one thing at a time.
const BASE: &str = r#"[scenario]
name = "base"
chapter = 1
duration = "10m"
warmup = "1m"
seed = 42

[workload]
users = 10
think_time = { dist = "exponential", mean = "8s" }
timeout = "10s"
retries = { max = 1, backoff = "exponential", base = "500ms", jitter = true }
mix = [
  { name = "browse", path = "/products", weight = 0.80 },
  { name = "search", path = "/search", weight = 0.15, work = 1.5 },
  { name = "buy", path = "/orders", weight = 0.05, work = 3.0 },
]

[network]
client_rtt = "40ms"

[components.web]
kind = "server"
instance = "t2.micro"
workers = 32
backlog = 511
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }
memory_base = "300MiB"
memory_per_request = "2MiB"
restart = "60s"
"#;

const FILE: &str = "bad.toml";

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bad")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// `BASE` with exactly one occurrence of `from` replaced by `to`.
fn edit(from: &str, to: &str) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "test bug: `{from}` must occur exactly once in BASE"
    );
    BASE.replacen(from, to, 1)
}

/// 1-based (line, column in characters) of the first occurrence of `needle` in `text`.
fn pos(text: &str, needle: &str) -> (usize, usize) {
    let off = text
        .find(needle)
        .unwrap_or_else(|| panic!("test bug: `{needle}` not in the text"));
    let before = &text[..off];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

fn parse_err_with(text: &str, sets: &[&str]) -> LoadError {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).unwrap_or_else(|e| panic!("--set {s}: {e}")))
        .collect();
    match scenario::parse(FILE, text, &overrides) {
        Ok(s) => panic!(
            "expected an error, but the scenario loaded (name {:?}):\n{text}",
            s.name
        ),
        Err(e) => {
            assert!(
                !e.diagnostics.is_empty(),
                "an error must carry at least one diagnostic"
            );
            // Display never panics and always names the problem.
            let shown = e.to_string();
            assert!(shown.starts_with("error: "), "{shown}");
            e
        }
    }
}

fn parse_err(text: &str) -> LoadError {
    parse_err_with(text, &[])
}

/// The only diagnostic (most bad inputs here have exactly one problem).
fn only(e: &LoadError) -> &Diagnostic {
    assert_eq!(
        e.diagnostics.len(),
        1,
        "expected exactly one diagnostic, got:\n{e}"
    );
    &e.diagnostics[0]
}

/// The diagnostic whose key path starts with `path`.
fn at_path<'a>(e: &'a LoadError, path: &str) -> &'a Diagnostic {
    e.diagnostics
        .iter()
        .find(|d| d.key_path.as_deref().is_some_and(|k| k.starts_with(path)))
        .unwrap_or_else(|| panic!("no diagnostic at `{path}` in:\n{e}"))
}

/// Asserts the diagnostic is in `FILE` at `loc`, and that its Display says `FILE:line:col`.
fn assert_located(d: &Diagnostic, loc: (usize, usize)) {
    assert_eq!(d.file, FILE, "{d}");
    assert_eq!(d.location, Some(loc), "wrong location in:\n{d}");
    let shown = d.to_string();
    let place = format!("{FILE}:{}:{}", loc.0, loc.1);
    assert!(shown.contains(&place), "`{place}` missing from:\n{shown}");
    // The source line is quoted with a caret under the column.
    assert!(d.snippet.is_some(), "no snippet in:\n{shown}");
    assert!(shown.contains('^'), "no caret in:\n{shown}");
}

fn help(d: &Diagnostic) -> &str {
    d.help
        .as_deref()
        .unwrap_or_else(|| panic!("no help in:\n{d}"))
}

#[test]
fn the_base_scenario_is_valid() {
    let s = scenario::parse(FILE, BASE, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name, "base");
}

// ---------------------------------------------------------------------------------------------
// TOML syntax and unknown tables / keys

#[test]
fn toml_syntax_error_points_at_the_error() {
    let text = edit("timeout = \"10s\"", "timeout = = \"10s\"");
    let e = parse_err(&text);
    let d = only(&e);
    let (line, _) = pos(&text, "timeout = =");
    assert_located(d, (line, "timeout = ".len() + 1));
    assert!(d.message.contains("TOML syntax error"), "{d}");
    assert_eq!(d.key_path, None);

    // An unclosed table header.
    let text = edit("[network]", "[network");
    let d = only(&parse_err(&text)).clone();
    assert!(d.message.contains("TOML syntax error"), "{d}");
    assert_eq!(
        d.location.map(|l| l.0),
        Some(pos(&text, "[network").0),
        "{d}"
    );

    // An unterminated string.
    let text = edit("name = \"base\"", "name = \"base");
    let d = only(&parse_err(&text)).clone();
    assert_eq!(
        d.location.map(|l| l.0),
        Some(pos(&text, "name = ").0),
        "{d}"
    );

    // A duplicate key points at the second one.
    let text = edit("seed = 42", "seed = 42\nseed = 43");
    let d = only(&parse_err(&text)).clone();
    assert!(d.message.contains("duplicate key"), "{d}");
    assert_located(&d, pos(&text, "seed = 43"));
}

#[test]
fn syntax_error_fixture_is_located_through_load() {
    let path = fixture("syntax-error.toml");
    let e = scenario::load(&path, &[]).expect_err("syntax error");
    let d = only(&e);
    assert_eq!(d.file, path);
    assert_eq!(d.location, Some((9, 11)), "{d}");
    assert!(d.to_string().contains(&format!("{path}:9:11")), "{d}");
}

#[test]
fn unknown_top_level_table_is_located_with_suggestion() {
    let text = edit("[network]", "[netwrok]");
    let e = parse_err(&text);
    let d = only(&e);
    assert_located(d, pos(&text, "netwrok"));
    assert!(d.message.contains("netwrok"), "{d}");
    assert!(
        d.key_path
            .as_deref()
            .is_some_and(|k| k.starts_with("netwrok")),
        "{d}"
    );
    let h = help(d);
    assert!(h.contains("did you mean `network`"), "{d}");
    assert!(h.contains("scenario") && h.contains("components"), "{d}");

    // A table with no near name still lists what is allowed.
    let text = format!("{BASE}\n[frobnicator]\nx = 1\n");
    let e = parse_err(&text);
    let d = only(&e);
    assert_located(d, pos(&text, "frobnicator"));
    assert!(!help(d).contains("did you mean"), "{d}");
    assert!(help(d).contains("expected one of"), "{d}");
}

/// (description, from, to, key path of the unknown key, the key as written, suggestion).
const UNKNOWN_KEYS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "[scenario]",
        "seed = 42",
        "sead = 42",
        "scenario.sead",
        "sead",
        "seed",
    ),
    (
        "[workload]",
        "timeout = \"10s\"",
        "timout = \"10s\"",
        "workload.timout",
        "timout",
        "timeout",
    ),
    (
        "a component",
        "workers = 32",
        "wrokers = 32",
        "components.web.wrokers",
        "wrokers",
        "workers",
    ),
    (
        "a nested inline table",
        "mean = \"20ms\", cv",
        "meen = \"20ms\", cv",
        "components.web.service.meen",
        "meen",
        "mean",
    ),
    (
        "another inline table",
        "base = \"500ms\"",
        "bsae = \"500ms\"",
        "workload.retries.bsae",
        "bsae",
        "base",
    ),
    (
        "an array entry",
        "path = \"/search\"",
        "pth = \"/search\"",
        "workload.mix[1].pth",
        "pth",
        "path",
    ),
    (
        "[network]",
        "client_rtt = \"40ms\"",
        "client_rt = \"40ms\"",
        "network.client_rt",
        "client_rt",
        "client_rtt",
    ),
];

#[test]
fn unknown_keys_are_located_with_key_path_and_suggestion() {
    for &(what, from, to, path, key, suggestion) in UNKNOWN_KEYS {
        let text = edit(from, to);
        let e = parse_err(&text);
        let d = only(&e);
        assert_located(d, pos(&text, to));
        assert!(
            d.key_path.as_deref().is_some_and(|k| k.starts_with(path)),
            "{what}: key path should start with `{path}`:\n{d}"
        );
        assert!(
            d.message.contains(&format!("unknown key `{key}`")),
            "{what}:\n{d}"
        );
        assert!(
            help(d).contains(&format!("did you mean `{suggestion}`")),
            "{what}:\n{d}"
        );
        assert!(d.to_string().contains(path), "{what}:\n{d}");
    }
    // In [[faults]] too.
    let text =
        format!("{BASE}\n[[faults]]\nat = \"1m\"\nkind = \"crash\"\ntarget = \"web\"\nfactr = 2\n");
    let d = only(&parse_err(&text)).clone();
    assert_located(&d, pos(&text, "factr"));
    assert!(
        d.key_path
            .as_deref()
            .unwrap()
            .starts_with("faults[0].factr"),
        "{d}"
    );
    assert!(help(&d).contains("did you mean `factor`"), "{d}");
}

#[test]
fn unknown_key_path_names_the_key_once() {
    for &(what, from, to, path, _, _) in UNKNOWN_KEYS {
        let e = parse_err(&edit(from, to));
        assert_eq!(only(&e).key_path.as_deref(), Some(path), "{what}");
    }
    let e = parse_err(&edit("[network]", "[netwrok]"));
    assert_eq!(only(&e).key_path.as_deref(), Some("netwrok"));
}

#[test]
fn unknown_key_fixture_is_located_through_load() {
    let path = fixture("unknown-key.toml");
    let e = scenario::load(&path, &[]).expect_err("unknown key");
    let d = only(&e);
    assert_eq!(d.file, path);
    assert_eq!(d.location, Some((8, 1)), "{d}");
    assert!(help(d).contains("did you mean `workers`"), "{d}");
}

#[test]
fn missing_required_keys_and_tables_are_named() {
    let e = parse_err(&edit("duration = \"10m\"\n", ""));
    let d = only(&e);
    assert!(d.message.contains("missing required key `duration`"), "{d}");
    assert_eq!(d.location, Some(pos(BASE, "scenario")), "{d}");

    let text = BASE.split("[components.web]").next().unwrap();
    let d = only(&parse_err(text)).clone();
    assert!(d.message.contains("components"), "{d}");
    assert!(help(&d).contains("[components."), "{d}");

    let d = only(&parse_err(&edit("kind = \"server\"\n", ""))).clone();
    assert!(d.message.contains("missing required key `kind`"), "{d}");
    assert_eq!(d.key_path.as_deref(), Some("components.web"), "{d}");
}

// ---------------------------------------------------------------------------------------------
// Unknown enum values

#[test]
fn unknown_enum_values_suggest_the_nearest() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        // (from, to, key path, where the location points, suggestion)
        (
            "dist = \"lognormal\"",
            "dist = \"expo\"",
            "components.web.service.dist",
            "dist = \"expo\"",
            "exponential",
        ),
        (
            "kind = \"server\"",
            "kind = \"servr\"",
            "components.web.kind",
            "kind = \"servr\"",
            "server",
        ),
        (
            "instance = \"t2.micro\"",
            "instance = \"t2.mikro\"",
            "components.web.instance",
            "instance = \"t2.mikro\"",
            "t2.micro",
        ),
        (
            "backoff = \"exponential\"",
            "backoff = \"exponental\"",
            "workload.retries.backoff",
            "backoff = \"exponental\"",
            "exponential",
        ),
    ];
    for &(from, to, path, at, suggestion) in cases {
        let text = edit(from, to);
        let e = parse_err(&text);
        let d = only(&e);
        assert_located(d, pos(&text, at));
        assert_eq!(d.key_path.as_deref(), Some(path), "{d}");
        let bad = to.split('"').nth(1).unwrap();
        assert!(
            d.message.contains(bad),
            "the message names the bad value:\n{d}"
        );
        let h = help(d);
        assert!(h.contains("did you mean"), "{d}");
        assert!(h.contains(suggestion), "{d}");
    }
    // A fault verb.
    let text = format!("{BASE}\n[[faults]]\nat = \"1m\"\nkind = \"crsh\"\ntarget = \"web\"\n");
    let d = only(&parse_err(&text)).clone();
    assert_located(&d, pos(&text, "kind = \"crsh\""));
    assert_eq!(d.key_path.as_deref(), Some("faults[0].kind"));
    assert!(help(&d).contains("did you mean `crash`"), "{d}");
}

// ---------------------------------------------------------------------------------------------
// Files that are not TOML text

#[test]
fn empty_file_is_rejected_with_help() {
    let path = fixture("empty.toml");
    let e = scenario::load(&path, &[]).expect_err("empty");
    let d = only(&e);
    assert_eq!(d.file, path);
    assert!(d.message.contains("empty"), "{d}");
    assert!(help(d).contains("[scenario]"), "{d}");
    // The same text given directly is reported as missing what a scenario needs.
    let e = parse_err("");
    assert!(e.to_string().contains("missing required"), "{e}");
}

#[test]
fn whitespace_only_file_is_rejected_as_empty() {
    let path = fixture("whitespace.toml");
    let e = scenario::load(&path, &[]).expect_err("whitespace only");
    assert!(only(&e).message.contains("empty"), "{e}");
    let e = parse_err(" \n\t\r\n  ");
    assert!(e.to_string().contains("missing required"), "{e}");
}

#[test]
fn binary_file_is_rejected() {
    let path = fixture("binary.bin");
    let e = scenario::load(&path, &[]).expect_err("binary");
    let d = only(&e);
    assert_eq!(d.file, path);
    assert!(d.message.contains("binary"), "{d}");
}

#[test]
fn non_utf8_file_is_rejected_with_line_column_and_offset() {
    let path = fixture("latin1.toml");
    let e = scenario::load(&path, &[]).expect_err("latin-1");
    let d = only(&e);
    assert_eq!(d.file, path);
    assert!(d.message.contains("UTF-8"), "{d}");
    assert!(d.message.contains("0xe9"), "{d}");
    assert!(d.message.contains("offset 5"), "{d}");
    // "# caf\xe9": line 1, the sixth character.
    assert_eq!(d.location, Some((1, 6)), "{d}");
    let shown = d.to_string();
    assert!(shown.contains(&format!("{path}:1:6")), "{shown}");
    assert!(
        d.snippet.as_deref().is_some_and(|s| s.starts_with("# caf")),
        "{d}"
    );
    assert!(help(d).contains("UTF-8"), "{d}");
}

#[test]
fn missing_file_has_a_helpful_message() {
    let path = fixture("does-not-exist.toml");
    let e = scenario::load(&path, &[]).expect_err("missing");
    let d = only(&e);
    assert_eq!(d.file, path);
    assert!(d.message.contains("cannot read"), "{d}");
    let h = help(d);
    assert!(h.contains("check the path"), "{d}");
    assert!(h.contains("chapter:"), "{d}");
    // A folder is not a scenario either.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let e = scenario::load(&dir.to_string_lossy(), &[]).expect_err("a folder");
    assert!(only(&e).message.contains("is a folder"), "{e}");
}

#[test]
fn unknown_chapter_lists_the_embedded_ones() {
    for src in ["chapter:99", "chapter:x", "chapter:"] {
        let e = scenario::load(src, &[]).expect_err(src);
        let d = only(&e);
        assert_eq!(d.file, src);
        assert!(help(d).contains("embedded chapters: 1"), "{d}");
    }
}

// ---------------------------------------------------------------------------------------------
// Values out of range

#[test]
fn zero_and_negative_values_are_rejected_where_positive_is_needed() {
    // (from, to, key path, message fragment)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "duration = \"10m\"",
            "duration = \"0s\"",
            "scenario.duration",
            "more than zero",
        ),
        (
            "duration = \"10m\"",
            "duration = \"-5s\"",
            "scenario.duration",
            "negative",
        ),
        (
            "duration = \"10m\"",
            "duration = 600",
            "scenario.duration",
            "no unit",
        ),
        (
            "duration = \"10m\"",
            "duration = \"600\"",
            "scenario.duration",
            "no unit",
        ),
        (
            "duration = \"10m\"",
            "duration = \"10 parsecs\"",
            "scenario.duration",
            "unknown time unit",
        ),
        ("users = 10", "users = 0", "workload.users", "at least 1"),
        ("users = 10", "users = -5", "workload.users", "-5"),
        (
            "users = 10",
            "arrival_rate = \"0/s\"",
            "workload.arrival_rate",
            "positive",
        ),
        (
            "users = 10",
            "arrival_rate = \"-3/s\"",
            "workload.arrival_rate",
            "negative",
        ),
        (
            "workers = 32",
            "workers = 0",
            "components.web.workers",
            "between 1 and",
        ),
        (
            "weight = 0.15",
            "weight = 0",
            "workload.mix[1].weight",
            "positive",
        ),
        (
            "weight = 0.15",
            "weight = -1.0",
            "workload.mix[1].weight",
            "positive",
        ),
        (
            "cv = 1.0",
            "cv = 0",
            "components.web.service.cv",
            "positive",
        ),
        ("cv = 1.0", "cv = nan", "components.web.service.cv", "NaN"),
        (
            "mean = \"20ms\", cv",
            "mean = \"0s\", cv",
            "components.web.service",
            "more than zero",
        ),
        (
            "timeout = \"10s\"",
            "timeout = \"0s\"",
            "workload.timeout",
            "more than zero",
        ),
        (
            "timeout = \"10s\"",
            "timeout = \"-1s\"",
            "workload.timeout",
            "negative",
        ),
        (
            "max = 1,",
            "max = 11,",
            "workload.retries.max",
            "at most 10",
        ),
    ];
    for &(from, to, path, fragment) in cases {
        let text = edit(from, to);
        let e = parse_err(&text);
        let d = at_path(&e, path);
        assert_eq!(d.key_path.as_deref(), Some(path), "{to}:\n{e}");
        // Located on the offending line (the one edited).
        let line = pos(BASE, from).0;
        assert_eq!(d.location.map(|l| l.0), Some(line), "{to}:\n{d}");
        assert!(
            d.to_string().contains(&format!("{FILE}:{line}:")),
            "{to}:\n{d}"
        );
        assert!(
            d.message.contains(fragment),
            "{to}: expected `{fragment}` in:\n{d}"
        );
    }
}

#[test]
fn negative_count_message_is_plain_words() {
    for to in ["users = -5", "users = \"10\"", "users = 1.5"] {
        let e = parse_err(&edit("users = 10", to));
        let d = at_path(&e, "workload.users");
        assert!(!d.message.contains("u32"), "{to}:\n{d}");
        assert!(d.message.contains("whole number"), "{to}:\n{d}");
    }
}

#[test]
fn huge_numbers_are_rejected_not_wrapped() {
    let cases = [
        ("users = 10", "users = 18446744073709551616"),
        ("users = 10", "users = 4294967296"),
        ("duration = \"10m\"", "duration = \"999999999h\""),
        ("duration = \"10m\"", "duration = \"1e400s\""),
        ("duration = \"10m\"", "duration = \"31d\""),
        ("users = 10", "users = 10000001"),
        (
            "memory_base = \"300MiB\"",
            "memory_base = \"99999999999TiB\"",
        ),
        ("seed = 42", "seed = -1"),
    ];
    for (from, to) in cases {
        let e = parse_err(&edit(from, to));
        let line = pos(BASE, from).0;
        assert!(
            e.diagnostics
                .iter()
                .any(|d| d.location.map(|l| l.0) == Some(line)),
            "{to}: not located on line {line}:\n{e}"
        );
    }
}

#[test]
fn warmup_must_be_shorter_than_the_duration() {
    for warm in ["warmup = \"10m\"", "warmup = \"11m\"", "warmup = \"2h\""] {
        let text = edit("warmup = \"1m\"", warm);
        let e = parse_err(&text);
        let d = only(&e);
        assert_located(d, pos(&text, warm));
        assert_eq!(d.key_path.as_deref(), Some("scenario.warmup"));
        assert!(d.message.contains("shorter than the duration"), "{d}");
        assert!(
            d.message.contains("10m"),
            "the message shows the duration:\n{d}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// References between parts of the file

#[test]
fn unknown_workload_target_suggests_the_nearest_component() {
    // A short name one swap away (`wbe` → `web`).
    let text = edit("users = 10", "users = 10\ntarget = \"wbe\"");
    let e = parse_err(&text);
    let d = only(&e);
    assert_located(d, pos(&text, "target = \"wbe\""));
    assert_eq!(d.key_path.as_deref(), Some("workload.target"));
    assert!(d.message.contains("\"wbe\""), "{d}");
    let h = help(d);
    assert!(h.contains("did you mean \"web\""), "{d}");

    // A longer name with a dropped letter, among several components.
    let text = format!(
        "{}\n[components.frontend]\nkind = \"server\"\ninstance = \"t3.small\"\nservice = {{ dist = \"exponential\", mean = \"5ms\" }}\n",
        edit("users = 10", "users = 10\ntarget = \"frontnd\"")
    );
    let e = parse_err(&text);
    let d = only(&e);
    assert!(help(d).contains("did you mean \"frontend\""), "{d}");
    assert!(
        help(d).contains("web"),
        "the help lists the components:\n{d}"
    );

    // Nothing close: list the components without guessing.
    let text = edit("users = 10", "users = 10\ntarget = \"zzzzzz\"");
    let d = only(&parse_err(&text)).clone();
    assert!(!help(&d).contains("did you mean"), "{d}");
    assert!(help(&d).contains("web"), "{d}");
}

#[test]
fn unknown_fault_target_suggests_the_nearest_component() {
    let text = format!(
        "{BASE}\n[[faults]]\nat = \"1m\"\nkind = \"crash\"\ntarget = \"web\"\n\n[[faults]]\nat = \"2m\"\nkind = \"crash\"\ntarget = \"wb\"\n"
    );
    let e = parse_err(&text);
    let d = only(&e);
    assert_located(d, pos(&text, "target = \"wb\""));
    assert_eq!(d.key_path.as_deref(), Some("faults[1].target"));
    assert!(help(d).contains("did you mean \"web\""), "{d}");
}

#[test]
fn unknown_resize_instance_suggests_the_nearest() {
    let text = edit(
        "restart = \"60s\"",
        "restart = \"60s\"\nresize = [{ at = \"5m\", to = \"c5.4xlrage\" }]",
    );
    let e = parse_err(&text);
    let d = only(&e);
    assert_eq!(d.key_path.as_deref(), Some("components.web.resize[0].to"));
    assert_eq!(
        d.location.map(|l| l.0),
        Some(pos(&text, "resize = ").0),
        "{d}"
    );
    assert!(help(d).contains("c5.4xlarge"), "{d}");
}

// ---------------------------------------------------------------------------------------------
// --set

#[test]
fn malformed_set_is_rejected_with_an_example() {
    let cases = [
        ("workload.users", "key=value"),
        ("=3", "empty key"),
        ("workload.mix[x].weight=1", "not an array index"),
        ("workload.mix[0.weight=1", "unclosed"),
        ("workload..users=1", "empty path segment"),
        ("workload.mix[0]x=1", "unexpected"),
    ];
    for (raw, fragment) in cases {
        let e = Override::parse(raw).expect_err(raw);
        assert!(e.contains(fragment), "--set {raw}: {e}");
    }
}

/// The only diagnostic, checked to be attributed to `--set raw`.
fn set_diag(raw: &str) -> Diagnostic {
    let e = parse_err_with(BASE, &[raw]);
    let d = only(&e).clone();
    assert_eq!(
        d.file,
        format!("--set {raw}"),
        "not attributed to the --set:\n{d}"
    );
    assert_eq!(d.location, None, "{d}");
    assert!(
        d.to_string().starts_with(&format!("error: --set {raw}")),
        "{d}"
    );
    d
}

#[test]
fn set_with_out_of_range_index_is_attributed_to_the_set() {
    let d = set_diag("workload.mix[7].weight=1");
    assert!(d.message.contains("3 entries"), "{d}");
    assert!(d.message.contains("out of range"), "{d}");
    let d = set_diag("scenario[0]=1");
    assert!(d.message.contains("not an array"), "{d}");
    let d = set_diag("workload.users.x=1");
    assert!(d.message.contains("not a table"), "{d}");
}

#[test]
fn set_of_an_unknown_key_is_attributed_to_the_set_with_suggestion() {
    let d = set_diag("workload.usres=5");
    assert!(d.message.contains("unknown key `usres`"), "{d}");
    assert!(help(&d).contains("did you mean `users`"), "{d}");
    let d = set_diag("scenario.sead=1");
    assert!(help(&d).contains("did you mean `seed`"), "{d}");
    let d = set_diag("workload.retries.bsae=1s");
    assert!(help(&d).contains("did you mean `base`"), "{d}");
}

#[test]
fn set_creating_an_unknown_table_is_attributed_to_the_set() {
    let d = set_diag("components.web.servce.mean=1ms");
    assert!(help(&d).contains("did you mean `service`"), "{d}");
    let d = set_diag("nosuch.table=3");
    assert!(d.message.contains("nosuch"), "{d}");
}

#[test]
fn set_of_a_bad_value_is_attributed_to_the_set() {
    let d = set_diag("workload.users=0");
    assert_eq!(d.key_path.as_deref(), Some("workload.users"));
    let d = set_diag("workload.users=abc");
    assert_eq!(d.key_path.as_deref(), Some("workload.users"));
    let d = set_diag("scenario.duration=5");
    assert!(d.message.contains("no unit"), "{d}");
    let d = set_diag("components.web.service.dist=expo");
    assert!(help(&d).contains("did you mean `exponential`"), "{d}");
    let d = set_diag("components.web.instance=t2.mikro");
    assert!(help(&d).contains("t2.micro"), "{d}");
}

#[test]
fn good_sets_apply() {
    let sets = [
        "workload.users=20",
        "workload.mix[2].weight=0.5",
        "workload.mix.0.work=2",
        "components.web.service.mean=9ms",
        "workload.timeout=5s",
        "scenario.duration=5m",
    ];
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let s = scenario::parse(FILE, BASE, &o).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.client.users, 20);
    assert_eq!(s.duration, 5 * 60 * 1_000_000_000);
    assert_eq!(s.overrides.len(), sets.len());
}

// ---------------------------------------------------------------------------------------------
// Scenarios that load but must not

#[test]
fn population_times_spike_is_bounded() {
    let text = edit(
        "users = 10",
        "users = 10000000\nspikes = [{ at = \"1m\", multiplier = 10000, hold = \"1m\" }]",
    );
    let e = parse_err(&text);
    assert!(e.diagnostics.iter().any(|d| d
        .key_path
        .as_deref()
        .is_some_and(|k| k.starts_with("workload"))));
}

#[test]
fn daily_curve_values_are_bounded() {
    let curve = format!("daily_curve = [1e300{}]", ", 1.0".repeat(23));
    let text = edit("users = 10", &format!("users = 10\n{curve}"));
    let e = parse_err(&text);
    let d = at_path(&e, "workload.daily_curve");
    assert_eq!(d.location.map(|l| l.0), Some(pos(&text, "daily_curve").0));
}

// ---------------------------------------------------------------------------------------------
// Scale-out components: fleets, balancers, DNS

/// A small valid scale-out scenario (a balancer in front of an autoscaling fleet).
const FLEET: &str = r#"[scenario]
name = "fleet"
duration = "10m"

[workload]
users = 100

[components.lb]
kind = "load_balancer"
targets = "web"
algorithm = "round_robin"
health_check = { interval = "10s", timeout = "2s", unhealthy = 2, healthy = 3 }

[components.web]
kind = "fleet"
instance = "c5.large"
min = 3
max = 6
boot_time = "90s"
scaling = { policy = "target_tracking", metric = "cpu", target = 0.6, period = "1m", cooldown = "5m" }
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }

[[faults]]
at = "2m"
kind = "crash"
target = "web[1]"
"#;

fn fleet_edit(from: &str, to: &str) -> String {
    assert_eq!(FLEET.matches(from).count(), 1, "test bug: `{from}`");
    FLEET.replacen(from, to, 1)
}

#[test]
fn the_fleet_base_is_valid() {
    scenario::parse(FILE, FLEET, &[]).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn scale_out_mistakes_are_located_with_suggestions() {
    // (from, to, key path, suggestion)
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "kind = \"fleet\"",
            "kind = \"fleeet\"",
            "components.web.kind",
            "did you mean \"fleet\"",
        ),
        (
            "kind = \"load_balancer\"",
            "kind = \"load_balncer\"",
            "components.lb.kind",
            "did you mean \"load_balancer\"",
        ),
        (
            "targets = \"web\"",
            "targets = \"wbe\"",
            "components.lb.targets",
            "did you mean \"web\"",
        ),
        (
            "\"round_robin\"",
            "\"round_robbin\"",
            "components.lb.algorithm",
            "did you mean `round_robin`",
        ),
        (
            "algorithm =",
            "algoritm =",
            "components.lb.algoritm",
            "did you mean `algorithm`",
        ),
        (
            "cooldown =",
            "cooldwn =",
            "components.web.scaling.cooldwn",
            "did you mean `cooldown`",
        ),
        (
            "target = \"web[1]\"",
            "target = \"wbe[1]\"",
            "faults[0].target",
            "did you mean \"web\"",
        ),
    ];
    for &(from, to, path, suggestion) in cases {
        let text = fleet_edit(from, to);
        let e = parse_err(&text);
        let d = only(&e);
        assert!(
            d.key_path.as_deref().is_some_and(|k| k.starts_with(path)),
            "{to}: key path should start with `{path}`:\n{d}"
        );
        assert_eq!(
            d.location.map(|l| l.0),
            Some(pos(&text, to).0),
            "{to}:\n{d}"
        );
        assert!(help(d).contains(suggestion), "{to}:\n{d}");
    }
    // An instance slot past the fleet's max.
    let text = fleet_edit("target = \"web[1]\"", "target = \"web[12]\"");
    let d = only(&parse_err(&text)).clone();
    assert_eq!(d.key_path.as_deref(), Some("faults[0].target"));
    assert!(d.message.contains("out of range"), "{d}");
    // A health threshold out of range.
    let text = fleet_edit("unhealthy = 2", "unhealthy = 0");
    let d = only(&parse_err(&text)).clone();
    assert_eq!(
        d.key_path.as_deref(),
        Some("components.lb.health_check.unhealthy")
    );
    assert_located(&d, pos(&text, "unhealthy = 0"));
}

#[test]
fn fleet_min_above_max_is_an_error_not_a_panic() {
    for (from, to) in [
        ("max = 6", "max = 1"),
        ("min = 3", "min = 40"),
        ("max = 6", "max = 0"),
    ] {
        let text = fleet_edit(from, to);
        let r = std::panic::catch_unwind(|| scenario::parse(FILE, &text, &[]));
        let e = match r {
            Err(_) => panic!("`{to}` panicked the loader"),
            Ok(Ok(_)) => panic!("`{to}` loaded"),
            Ok(Err(e)) => e,
        };
        let d = at_path(&e, "components.web");
        assert!(d.location.is_some(), "{d}");
    }
}

#[test]
fn misspelt_fleet_group_key_gets_a_suggestion() {
    let text = fleet_edit("boot_time =", "boot_tme =");
    let e = parse_err(&text);
    let d = only(&e);
    assert_located(d, pos(&text, "boot_tme"));
    assert!(help(d).contains("did you mean `boot_time`"), "{d}");
}

// ---------------------------------------------------------------------------------------------
// Tables tagged by a key (a distribution's `dist`, a scaling policy's `policy`): a problem inside
// one is placed at its key, not at the table, whichever order the keys are written in.

/// One bad tagged table: (what, the text, key path, where the location points, words the message
/// has, words the help has).
type Inner<'a> = (
    &'a str,
    String,
    &'a str,
    &'a str,
    &'a [&'a str],
    &'a [&'a str],
);

fn assert_inner_errors(cases: &[Inner]) {
    for (what, text, path, at, message, helps) in cases {
        let e = parse_err(text);
        let d = only(&e);
        assert_eq!(d.key_path.as_deref(), Some(*path), "{what}:\n{d}");
        assert_located(d, pos(text, at));
        assert!(
            d.to_string().contains(&format!("`{path}`")),
            "{what}: the key path is shown:\n{d}"
        );
        for m in *message {
            assert!(
                d.message.contains(m),
                "{what}: `{m}` not in the message:\n{d}"
            );
        }
        for h in *helps {
            assert!(help(d).contains(h), "{what}: `{h}` not in the help:\n{d}");
        }
    }
}

#[test]
fn dist_error_is_located_at_the_inner_key() {
    let think = "think_time = { dist = \"exponential\", mean = \"8s\" }";
    let think_as = |to: &str| edit(think, &format!("think_time = {to}"));
    let service = "service = { dist = \"lognormal\", mean = \"20ms\", cv = 1.0 }";
    let service_as = |to: &str| edit(service, &format!("service = {to}"));
    let names = "where dist is one of \"exponential\", \"deterministic\", \"constant\", \
                 \"lognormal\", \"uniform\", \"erlang\"";
    assert_inner_errors(&[
        // In [workload].
        (
            "a bad mean",
            think_as("{ dist = \"exponential\", mean = \"abc\" }"),
            "workload.think_time.mean",
            "mean = \"abc\"",
            &["expected a duration with a unit", "found \"abc\""],
            &[],
        ),
        (
            "a bad mean before the tag",
            think_as("{ mean = \"abc\", dist = \"exponential\" }"),
            "workload.think_time.mean",
            "mean = \"abc\"",
            &["found \"abc\""],
            &[],
        ),
        (
            "a bare number for the mean",
            think_as("{ dist = \"exponential\", mean = 5 }"),
            "workload.think_time.mean",
            "mean = 5",
            &["has no unit"],
            &[],
        ),
        (
            "an unknown key",
            think_as("{ dist = \"exponential\", meen = \"8s\" }"),
            "workload.think_time.meen",
            "meen",
            &["unknown key `meen`"],
            &["did you mean `mean`"],
        ),
        (
            "a key of another distribution",
            think_as("{ dist = \"exponential\", value = \"8s\" }"),
            "workload.think_time.value",
            "value",
            &[
                "unknown key `value` for dist = \"exponential\"",
                "`value` goes with dist = \"deterministic\"",
            ],
            &["expected one of: mean"],
        ),
        (
            // (`cv` is read before `dist` in any order: the loader reads keys in name order.)
            "a key of another distribution before the tag",
            think_as("{ cv = 1.5, dist = \"exponential\", mean = \"8s\" }"),
            "workload.think_time.cv",
            "cv",
            &[
                "unknown key `cv` for dist = \"exponential\"",
                "`cv` goes with dist = \"lognormal\"",
            ],
            &["expected one of: mean"],
        ),
        (
            "an unknown key before the tag: the tag's keys are listed",
            think_as("{ abc = 1, dist = \"exponential\", mean = \"8s\" }"),
            "workload.think_time.abc",
            "abc",
            &["unknown key `abc`"],
            &["expected one of: mean"],
        ),
        (
            "a missing key",
            think_as("{ dist = \"exponential\" }"),
            "workload.think_time",
            "think_time",
            &["missing required key `mean`"],
            &["think_time = { dist = \"exponential\", mean = \"20ms\" }"],
        ),
        (
            "a missing dist",
            think_as("{ mean = \"8s\" }"),
            "workload.think_time",
            "think_time",
            &["missing required key `dist`"],
            &[
                "think_time = { dist = \"exponential\", mean = \"20ms\" }",
                names,
            ],
        ),
        (
            "an unknown dist",
            think_as("{ dist = \"exponentail\", mean = \"8s\" }"),
            "workload.think_time.dist",
            "dist = \"exponentail\"",
            &["unknown value \"exponentail\""],
            &["did you mean `exponential`"],
        ),
        (
            "a dist that is not a name",
            think_as("{ dist = 3, mean = \"8s\" }"),
            "workload.think_time.dist",
            "dist = 3",
            &[
                "a distribution name",
                "(e.g. dist = \"exponential\")",
                "found the number 3",
            ],
            &[],
        ),
        // In a component.
        (
            "a bad cv",
            service_as("{ dist = \"lognormal\", mean = \"20ms\", cv = \"wide\" }"),
            "components.web.service.cv",
            "cv = \"wide\"",
            &["such as cv = 1.5", "found the text \"wide\""],
            &[],
        ),
        (
            "a bad mean in a component",
            service_as("{ dist = \"lognormal\", mean = \"20 parsecs\", cv = 1.0 }"),
            "components.web.service.mean",
            "mean = \"20 parsecs\"",
            &["unknown time unit \"parsecs\""],
            &[],
        ),
        (
            "an unknown key in a component",
            service_as("{ dist = \"lognormal\", mean = \"20ms\", cv = 1.0, sigma = 2 }"),
            "components.web.service.sigma",
            "sigma",
            &["unknown key `sigma`"],
            &["expected one of: mean, cv"],
        ),
        (
            "a key of another distribution in a component",
            service_as("{ dist = \"lognormal\", mean = \"20ms\", cv = 1.0, k = 3 }"),
            "components.web.service.k",
            "k = 3 }",
            &[
                "unknown key `k` for dist = \"lognormal\"",
                "`k` goes with dist = \"erlang\"",
            ],
            &["expected one of: mean, cv"],
        ),
        (
            "a missing key in a component",
            service_as("{ dist = \"lognormal\", mean = \"20ms\" }"),
            "components.web.service",
            "service",
            &["missing required key `cv`"],
            &["service = { dist = \"lognormal\", mean = \"20ms\", cv = 1.5 }"],
        ),
        (
            "a missing dist in a component: the example fits the keys written",
            service_as("{ mean = \"20ms\", cv = 1.0 }"),
            "components.web.service",
            "service",
            &["missing required key `dist`"],
            &[
                "service = { dist = \"lognormal\", mean = \"20ms\", cv = 1.5 }",
                names,
            ],
        ),
        (
            "an unknown dist in a component",
            service_as("{ dist = \"lognormel\", mean = \"20ms\", cv = 1.0 }"),
            "components.web.service.dist",
            "dist = \"lognormel\"",
            &["unknown value \"lognormel\""],
            &["did you mean `lognormal`"],
        ),
        (
            "an alias keeps its name in the example",
            service_as("{ dist = \"constant\" }"),
            "components.web.service",
            "service",
            &["missing required key `value`"],
            &["service = { dist = \"constant\", value = \"20ms\" }"],
        ),
        (
            "a bad whole number",
            service_as("{ dist = \"erlang\", mean = \"20ms\", k = -1 }"),
            "components.web.service.k",
            "k = -1",
            &["such as k = 4"],
            &[],
        ),
    ]);
    // The alias still loads.
    scenario::parse(
        FILE,
        &service_as("{ dist = \"constant\", value = \"20ms\" }"),
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // In a fleet, whose own unknown keys get the group's keys as candidates: not a key inside
    // its `service`.
    let text = fleet_edit("cv = 1.0 }", "cv = 1.0, k = 3 }");
    let d = only(&parse_err(&text)).clone();
    assert_eq!(d.key_path.as_deref(), Some("components.web.service.k"));
    assert_located(&d, pos(&text, "k = 3 }"));
    assert!(!help(&d).contains("fleet keys"), "{d}");
    assert!(help(&d).contains("expected one of: mean, cv"), "{d}");
}

#[test]
fn scaling_error_is_located_at_the_inner_key() {
    let scaling = "scaling = { policy = \"target_tracking\", metric = \"cpu\", target = 0.6, \
                   period = \"1m\", cooldown = \"5m\" }";
    let as_ = |to: &str| fleet_edit(scaling, &format!("scaling = {to}"));
    assert_inner_errors(&[
        (
            "a bad target",
            fleet_edit("target = 0.6", "target = \"high\""),
            "components.web.scaling.target",
            "target = \"high\"",
            &["such as target = 0.6", "found the text \"high\""],
            &[],
        ),
        (
            "a bad period",
            fleet_edit("period = \"1m\"", "period = \"often\""),
            "components.web.scaling.period",
            "period = \"often\"",
            &["expected a duration with a unit"],
            &[],
        ),
        (
            "a bad metric",
            fleet_edit("metric = \"cpu\"", "metric = \"cpux\""),
            "components.web.scaling.metric",
            "metric = \"cpux\"",
            &["unknown value \"cpux\""],
            &["did you mean `cpu`"],
        ),
        (
            "an unknown key",
            fleet_edit("cooldown =", "cooldwn ="),
            "components.web.scaling.cooldwn",
            "cooldwn",
            &["unknown key `cooldwn`"],
            &["did you mean `cooldown`", "expected one of: metric, target, period"],
        ),
        (
            "a key of another policy",
            fleet_edit("cooldown = \"5m\" }", "cooldown = \"5m\", steps = [] }"),
            "components.web.scaling.steps",
            "steps",
            &[
                "unknown key `steps` for policy = \"target_tracking\"",
                "`steps` goes with policy = \"step\"",
            ],
            &["expected one of: metric, target"],
        ),
        (
            "a key of another policy before the tag",
            as_("{ steps = [], policy = \"target_tracking\", metric = \"cpu\", target = 0.6 }"),
            "components.web.scaling.steps",
            "steps",
            &["unknown key `steps` for policy = \"target_tracking\""],
            &[],
        ),
        (
            "a missing key",
            fleet_edit(", target = 0.6", ""),
            "components.web.scaling",
            "scaling",
            &["missing required key `target`"],
            &["scaling = { policy = \"target_tracking\", metric = \"cpu\", target = 0.6 }"],
        ),
        (
            "a missing policy",
            as_("{ metric = \"cpu\", steps = [{ above = 0.7, change = 2 }] }"),
            "components.web.scaling",
            "scaling",
            &["missing required key `policy`"],
            &[
                "scaling = { policy = \"step\", metric = \"cpu\", steps = [{ above = 0.7, change = 2 }] }",
                "where policy is one of \"target_tracking\", \"step\"",
            ],
        ),
        (
            "an unknown policy",
            fleet_edit("\"target_tracking\"", "\"target_trackin\""),
            "components.web.scaling.policy",
            "policy = \"target_trackin\"",
            &["unknown value \"target_trackin\""],
            &["did you mean `target_tracking`"],
        ),
        (
            "a bad step",
            as_("{ policy = \"step\", metric = \"cpu\", steps = [{ above = 0.7, change = 1.5 }] }"),
            "components.web.scaling.steps[0].change",
            "change = 1.5",
            &["a whole number of instances to add or remove", "found the number 1.5"],
            &[],
        ),
        (
            "an unknown key in a step",
            as_("{ policy = \"step\", metric = \"cpu\", steps = [{ above = 0.7, chnge = 1 }] }"),
            "components.web.scaling.steps[0].chnge",
            "chnge",
            &["unknown key `chnge`"],
            &["did you mean `change`"],
        ),
        (
            "steps that are not a list",
            as_("{ policy = \"step\", metric = \"cpu\", steps = 3 }"),
            "components.web.scaling.steps",
            "steps = 3",
            &["a list of steps such as"],
            &[],
        ),
    ]);
}

// ---------------------------------------------------------------------------------------------
// A grab-bag of pathological texts: Err, never a panic.

#[test]
fn pathological_texts_are_errors_not_panics() {
    let texts = [
        "\u{feff}".to_string(),
        "[".to_string(),
        "]]]]".to_string(),
        "a = ".to_string(),
        "scenario = 1".to_string(),
        "components = 1\nscenario = 1\nworkload = 1".to_string(),
        "components = []".to_string(),
        "[components]\nweb = 1".to_string(),
        "[components.web]\nkind = 1".to_string(),
        "[components.\"\"]\nkind = \"server\"".to_string(),
        format!("{BASE}\n[components.\"w b\"]\nkind = \"server\"\ninstance = \"t2.micro\"\nservice = {{ dist = \"exponential\", mean = \"1ms\" }}\n"),
        "[[workload]]\n[[workload]]".to_string(),
        "x = \"\u{0}\"".to_string(),
        "é = 1".to_string(),
        "\"\u{1F600}\" = 1".to_string(),
        "[scenario]\n".repeat(2),
        "a = [".repeat(200),
        "a = {".repeat(200),
        format!("a = {}1{}", "[".repeat(100), "]".repeat(100)),
        BASE.replace('\n', "\r"),
        BASE.replace('\n', "\r\n").replace("seed = 42", "sead = 42"),
        BASE.replace("[workload]", "[workload]\n[workload.mix]"),
        BASE.replace("mix = [", "mix = [[]], old = ["),
        BASE.replace("service = {", "service = 3, x = {"),
        BASE.replace("think_time = {", "think_time = { dist = 3, a = {"),
        BASE.replace("\"lognormal\"", "\"\""),
    ];
    for t in &texts {
        let r = std::panic::catch_unwind(|| scenario::parse(FILE, t, &[]));
        match r {
            Err(_) => panic!("the loader panicked on:\n{t:?}"),
            Ok(Ok(_)) => panic!("loaded:\n{t:?}"),
            Ok(Err(e)) => {
                assert!(!e.diagnostics.is_empty());
                let _ = e.to_string();
                for d in &e.diagnostics {
                    if let Some((l, c)) = d.location {
                        assert!(l >= 1 && c >= 1, "{d}");
                        assert!(l <= t.split(['\n', '\r']).count().max(1), "{t:?}: {d}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = BASE
        .replace("workers = 32", "workers = 0")
        .replace("users = 10", "users = 0")
        .replace("warmup = \"1m\"", "warmup = \"20m\"");
    let e = parse_err(&text);
    for p in [
        "components.web.workers",
        "workload.users",
        "scenario.warmup",
    ] {
        let d = at_path(&e, p);
        assert!(d.location.is_some(), "{d}");
    }
}

#[test]
fn a_duration_on_a_crash_or_recover_is_rejected_not_ignored() {
    for kind in ["crash", "recover"] {
        let text = format!(
            "{BASE}\n[[faults]]\nat = \"1m\"\nkind = \"{kind}\"\ntarget = \"web\"\nduration = \"30s\"\n"
        );
        let e = parse_err(&text);
        let d = only(&e);
        assert_eq!(d.key_path.as_deref(), Some("faults[0].duration"), "{d}");
        assert!(
            d.message.contains(&format!("does not apply to \"{kind}\"")),
            "{d}"
        );
        assert!(help(d).contains("stop"), "{d}");
        let line = text
            .lines()
            .position(|l| l.starts_with("duration = \"30s\""))
            .unwrap()
            + 1;
        assert_located(d, (line, 1));
    }
}

#[test]
fn a_fault_after_the_end_of_the_run_says_when_the_run_ends_and_what_to_do() {
    let text = format!("{BASE}\n[[faults]]\nat = \"15m\"\nkind = \"crash\"\ntarget = \"web\"\n");
    let e = parse_err(&text);
    let d = only(&e);
    assert_eq!(d.key_path.as_deref(), Some("faults[0].at"), "{d}");
    assert!(
        d.message.contains("15m") && d.message.contains("10m"),
        "{d}"
    );
    assert!(help(d).contains("scenario.duration"), "{d}");
    assert_located(d, pos(&text, "at = \"15m\""));
}

#[test]
fn mistakes_in_gateways_limiters_calls_and_external_services_are_located_at_their_keys() {
    let e = scenario::load(&fixture("services.toml"), &[]).expect_err("all wrong");
    let at = |key: &str| -> &Diagnostic {
        e.diagnostics
            .iter()
            .find(|d| d.key_path.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("nothing at {key}: {e}"))
    };
    assert!(at("components.gw.routes[0].path")
        .message
        .contains("starts with \"/\""));
    let d = at("components.gw.routes[0].target");
    assert!(d.message.contains("can't route to a fleet"), "{e}");
    assert!(
        d.help.as_deref().unwrap_or("").contains("load_balancer"),
        "{e}"
    );
    let d = at("components.gw.routes[1].target");
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("did you mean \"web\""),
        "{e}"
    );
    assert!(at("components.gw.burst").message.contains("at least 1"));
    assert!(at("components.limit.algorithm")
        .message
        .contains("did you mean \"token_bucket\""));
    assert!(at("components.limit.per")
        .message
        .contains("\"client\" or \"global\""));
    assert!(at("components.web.calls[0].to[0].target")
        .message
        .contains("can't call itself"));
    assert!(at("components.web.calls[0].to[1].timeout")
        .message
        .contains("more than zero"));
    for d in &e.diagnostics {
        assert!(d.location.is_some(), "{d:?}");
    }
}

#[test]
fn a_journey_declaration_names_what_exists_and_is_located_at_its_entries() {
    let text = edit(
        "seed = 42\n",
        "seed = 42\n\n[scenario.journey]\nidea = \"one server\"\nadds = [\"wbe\"]\nremoves = [\"web\"]\nchanges = [\"web.\", \"networks\", \"workload.users\"]\n",
    );
    let e = parse_err(&text);
    assert_eq!(e.diagnostics.len(), 5, "{e}");
    let d = at_path(&e, "scenario.journey.adds[0]");
    assert!(d.message.contains("no component named `wbe`"), "{d}");
    assert!(help(d).contains("did you mean `web`"), "{d}");
    assert_located(d, pos(&text, "\"wbe\""));
    let d = at_path(&e, "scenario.journey.removes[0]");
    assert!(
        d.message.contains("`web` is a component of this scenario"),
        "{d}"
    );
    assert!(help(d).contains("`changes`"), "{d}");
    let d = at_path(&e, "scenario.journey.changes[0]");
    assert!(d.message.contains("ends with a dot"), "{d}");
    let d = at_path(&e, "scenario.journey.changes[1]");
    assert!(d.message.contains("no component named `networks`"), "{d}");
    let d = at_path(&e, "scenario.journey.changes[2]");
    assert!(
        d.message.contains("names no setting the journey compares"),
        "{d}"
    );
    assert!(help(d).contains("workload.target"), "{d}");
}

#[test]
fn a_journey_declaration_without_an_idea_or_with_an_unknown_key_is_refused() {
    let text = edit(
        "seed = 42\n",
        "seed = 42\n\n[scenario.journey]\nadds = []\n",
    );
    let d = only(&parse_err(&text)).clone();
    assert!(d.message.contains("missing required key `idea`"), "{d}");
    let text = edit(
        "seed = 42\n",
        "seed = 42\n\n[scenario.journey]\nidea = \"x\"\nadded = [\"web\"]\n",
    );
    let e = parse_err(&text);
    let d = only(&e);
    assert_eq!(d.key_path.as_deref(), Some("scenario.journey.added"), "{d}");
    assert!(help(d).contains("adds"), "{d}");
    assert_located(d, pos(&text, "added"));
    let text = edit(
        "seed = 42\n",
        "seed = 42\n\n[scenario.journey]\nidea = \" \"\n",
    );
    let d = only(&parse_err(&text)).clone();
    assert_eq!(d.key_path.as_deref(), Some("scenario.journey.idea"), "{d}");
}

#[test]
fn a_journey_problem_that_is_blank_or_not_text_is_refused_at_its_key() {
    let text = edit(
        "seed = 42\n",
        "seed = 42\n\n[scenario.journey]\nidea = \"x\"\nproblem = \"  \"\n",
    );
    let d = only(&parse_err(&text)).clone();
    assert_eq!(
        d.key_path.as_deref(),
        Some("scenario.journey.problem"),
        "{d}"
    );
    assert!(d.message.contains("the problem can't be empty"), "{d}");
    assert!(help(&d).contains("leave `problem` out"), "{d}");
    assert_located(&d, pos(&text, "problem"));
    let text = edit(
        "seed = 42\n",
        "seed = 42\n\n[scenario.journey]\nidea = \"x\"\nproblem = 3\n",
    );
    let d = only(&parse_err(&text)).clone();
    assert_eq!(
        d.key_path.as_deref(),
        Some("scenario.journey.problem"),
        "{d}"
    );
    assert_located(&d, pos(&text, "problem = 3"));
}
