//! The JSON Schema of scenario files (`scalesim schema`): it accepts every shipped scenario,
//! rejects what the loader rejects for unknown keys, kinds, units and distributions, and its unit
//! patterns agree with the parsers in `units.rs` (checked on generated strings).

use jsonschema::Validator;
use proptest::prelude::*;
use scalesim::model::dist::DistConfig;
use scalesim::model::fleet::FleetConfig;
use scalesim::model::fleet::FLEET_KEYS;
use scalesim::scenario::schema::{scenario_schema, TITLE};
use scalesim::scenario::units::{self, Bytes, Duration, Fraction, Price, Rate};
use scalesim::scenario::{self, ScenarioFile, COMPONENT_KINDS};
use scalesim::slo::ObjectiveTable;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The schema `scalesim schema` prints.
fn schema() -> &'static Value {
    static S: OnceLock<Value> = OnceLock::new();
    S.get_or_init(scenario_schema)
}

/// A validator for the printed schema and one for `schema_for!(ScenarioFile)`.
fn validators() -> &'static [Validator; 2] {
    static V: OnceLock<[Validator; 2]> = OnceLock::new();
    V.get_or_init(|| {
        let derived = serde_json::to_value(schemars::schema_for!(ScenarioFile)).unwrap();
        [
            jsonschema::draft7::new(schema()).expect("the printed schema compiles"),
            jsonschema::draft7::new(&derived).expect("schema_for!(ScenarioFile) compiles"),
        ]
    })
}

/// TOML text as the JSON an editor validates.
fn to_json(text: &str) -> Value {
    let v: toml::Value = toml::from_str(text).expect("valid TOML");
    serde_json::to_value(v).unwrap()
}

/// The schema's errors for `text` (empty when it validates); both schemas must agree.
fn errors(text: &str) -> Vec<String> {
    let doc = to_json(text);
    let [printed, derived] = validators();
    let errs: Vec<String> = printed
        .iter_errors(&doc)
        .map(|e| format!("{} at `{}`", e, e.instance_path()))
        .collect();
    assert_eq!(
        errs.is_empty(),
        derived.is_valid(&doc),
        "the printed schema and schema_for!(ScenarioFile) disagree on:\n{text}"
    );
    errs
}

fn assert_valid(what: &str, text: &str) {
    let errs = errors(text);
    assert!(
        errs.is_empty(),
        "{what}: the schema rejects it:\n  {}",
        errs.join("\n  ")
    );
}

/// The loader and the schema both reject `text`; returns the schema's errors.
fn assert_rejected(what: &str, text: &str) -> Vec<String> {
    assert!(
        scenario::parse("t.toml", text, &[]).is_err(),
        "test bug: the loader accepts {what}"
    );
    let errs = errors(text);
    assert!(!errs.is_empty(), "{what}: the schema accepts it");
    errs
}

/// A validator for one type's schema.
fn validator_for<T: schemars::JsonSchema>() -> Validator {
    let s = serde_json::to_value(schemars::schema_for!(T)).unwrap();
    jsonschema::draft7::new(&s).unwrap()
}

fn scenario_files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["scenarios", "scenarios/validation", "scenarios/traces"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// A valid single-server scenario.
const SERVER: &str = r#"[scenario]
name = "t"
duration = "10m"

[workload]
users = 10
think_time = { dist = "exponential", mean = "8s" }

[components.web]
kind = "server"
instance = "t2.micro"
workers = 32
service = { dist = "lognormal", mean = "20ms", cv = 1.0 }
"#;

/// A valid balancer + fleet scenario.
const FLEET: &str = r#"[scenario]
name = "t"
duration = "10m"

[workload]
users = 100
think_time = { dist = "exponential", mean = "8s" }

[components.lb]
kind = "load_balancer"
targets = "web"

[components.web]
kind = "fleet"
instance = "c5.large"
min = 2
max = 6
scaling = { policy = "target_tracking", metric = "cpu", target = 0.6 }
service = { dist = "exponential", mean = "20ms" }
"#;

/// `base` with exactly one occurrence of `from` replaced by `to`.
fn edit(base: &str, from: &str, to: &str) -> String {
    assert_eq!(base.matches(from).count(), 1, "test bug: `{from}`");
    base.replacen(from, to, 1)
}

// ---------------------------------------------------------------------------------------------
// The whole file
// ---------------------------------------------------------------------------------------------

#[test]
fn the_schema_is_draft_07_with_a_title() {
    let s = schema();
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(s["title"], TITLE);
    assert!(s.get("$id").is_none());
    assert!(jsonschema::meta::is_valid(s), "not a valid draft-07 schema");
    // The CLI prints it pretty; it must serialize.
    assert!(serde_json::to_string_pretty(s).unwrap().lines().count() > 100);
}

#[test]
fn every_shipped_scenario_validates() {
    let files = scenario_files();
    assert!(files.len() >= 9, "found only {files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        scenario::parse(&f.display().to_string(), &text, &[])
            .unwrap_or_else(|e| panic!("test bug: the loader rejects {}: {e}", f.display()));
        assert_valid(&f.display().to_string(), &text);
    }
    for c in scenario::embedded::CHAPTERS {
        assert_valid(c.file, c.text);
    }
}

#[test]
fn the_test_bases_are_valid() {
    for base in [SERVER, FLEET] {
        scenario::parse("t.toml", base, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_valid("base", base);
    }
}

#[test]
fn what_the_loader_accepts_beyond_the_shipped_files_validates() {
    let cases = [
        // every fleet key, group and instance, in one table
        edit(
            FLEET,
            "min = 2\n",
            "min = 2\ndesired = 3\nboot_time = \"90s\"\nazs = 2\nderegistration_delay = \"30s\"\n\
             replace_after = \"2m\"\nschedule = [{ at = \"5m\", min = 3, max = 6, desired = 4 }]\n\
             workers = 64\nbacklog = 511\nmemory_base = \"400MiB\"\nmemory_per_request = \"2MiB\"\n\
             restart = \"60s\"\ntls_cpu = \"1ms\"\n",
        ),
        // step scaling
        edit(
            FLEET,
            "{ policy = \"target_tracking\", metric = \"cpu\", target = 0.6 }",
            "{ policy = \"step\", metric = \"cpu\", steps = [{ above = 0.7, change = 2 }, \
             { below = 0.3, change = -1 }], cooldown = \"2m\" }",
        ),
        // the `constant` alias, a zero written as 0, units with spaces and underscores
        edit(
            SERVER,
            "service = { dist = \"lognormal\", mean = \"20ms\", cv = 1.0 }",
            "service = { dist = \"constant\", value = \"20 ms\" }\nrestart = 0\n\
             resize = [{ at = \"1_00s\", to = \"c5.large\", downtime = \"3m\" }]",
        ),
        // hand-sized server, open loop, SLO tables and shorthands
        format!(
            "{}\n[slo]\np99 = \"300ms\"\nerror_rate = 0.001\navailability = \"99.9%\"\n\
             objectives = [\"p(99) < 300ms\", {{ metric = \"error_rate\", below = 0.001 }}, \
             {{ metric = \"p99\", below = \"300ms\", every = \"5m\", name = \"fast\" }}]\n",
            edit(
                SERVER,
                "instance = \"t2.micro\"",
                "vcpus = 2\nmemory = \"1.5GiB\"\nprice = \"$70/month\"",
            )
            .replace(
                "users = 10\nthink_time = { dist = \"exponential\", mean = \"8s\" }",
                "arrival_rate = \"6000/min\"\ntimeout = \"10s\"\n\
                 bots = [{ name = \"crawler\", rate = \"5/s\", from = \"1m\" }]",
            )
        ),
        // a balancer over a list, DNS with failover, faults
        format!(
            "{}\n[components.lb]\nkind = \"load_balancer\"\ntargets = [\"web\"]\n\
             algorithm = \"least_outstanding\"\nhealth_check = {{ interval = \"10s\", timeout = \"2s\" }}\n\
             price = \"$0.0225/h\"\n\n[components.dns]\nkind = \"dns\"\nrecord = \"lb\"\nttl = \"60s\"\n\
             failover = {{ secondary = \"web\", threshold = 3 }}\n\n[[faults]]\nat = \"2m\"\n\
             kind = \"stop\"\ntarget = \"web\"\nduration = \"1m\"\n",
            SERVER
        ),
    ];
    for (i, text) in cases.iter().enumerate() {
        scenario::parse("t.toml", text, &[])
            .unwrap_or_else(|e| panic!("test bug: case {i} does not load: {e}\n{text}"));
        assert_valid(&format!("case {i}"), text);
    }
}

// ---------------------------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------------------------

/// Asserts that one of the schema's errors names `word` itself (not only inside a generic
/// "matches none of the alternatives", which quotes the whole table): what an editor shows.
fn names(errs: &[String], word: &str) {
    assert!(
        errs.iter()
            .any(|e| e.contains(word) && !e.contains("is not valid under any of the schemas")),
        "no error names `{word}`:\n  {}",
        errs.join("\n  ")
    );
}

#[test]
fn a_misspelled_top_level_key_is_rejected() {
    let errs = assert_rejected(
        "[scenaro]",
        &edit(
            SERVER,
            "[scenario]\n",
            "[scenaro]\nname = \"t\"\n\n[scenario]\n",
        ),
    );
    names(&errs, "scenaro");
    let errs = assert_rejected("netwrok", &format!("{SERVER}\n[netwrok]\njitter = 0.1\n"));
    names(&errs, "netwrok");
}

#[test]
fn a_misspelled_workload_key_is_rejected() {
    let errs = assert_rejected("user", &edit(SERVER, "users = 10", "user = 10"));
    names(&errs, "user");
    let errs = assert_rejected("thinktime", &edit(SERVER, "think_time", "thinktime"));
    names(&errs, "thinktime");
}

#[test]
fn a_misspelled_server_key_is_rejected() {
    let errs = assert_rejected("wrokers", &edit(SERVER, "workers = 32", "wrokers = 32"));
    names(&errs, "wrokers");
    // A fleet-only key is not a server key.
    let errs = assert_rejected("min on a server", &edit(SERVER, "workers = 32", "min = 2"));
    names(&errs, "min");
}

#[test]
fn a_misspelled_fleet_key_is_rejected() {
    let errs = assert_rejected("mni", &edit(FLEET, "min = 2", "min = 2\nmni = 2"));
    names(&errs, "mni");
    let errs = assert_rejected("wrokers", &edit(FLEET, "max = 6", "max = 6\nwrokers = 8"));
    names(&errs, "wrokers");
    // A key inside the scaling policy.
    let errs = assert_rejected("tagret", &edit(FLEET, "target = 0.6", "tagret = 0.6"));
    names(&errs, "tagret");
}

#[test]
fn a_misspelled_balancer_key_is_rejected() {
    let errs = assert_rejected(
        "algoritm",
        &edit(
            FLEET,
            "targets = \"web\"",
            "targets = \"web\"\nalgoritm = \"random\"",
        ),
    );
    names(&errs, "algoritm");
}

#[test]
fn a_missing_or_unknown_kind_is_rejected() {
    let errs = assert_rejected(
        "kind = \"mainframe\"",
        &edit(SERVER, "kind = \"server\"", "kind = \"mainframe\""),
    );
    names(&errs, "mainframe");
    assert_rejected("no kind", &edit(SERVER, "kind = \"server\"\n", ""));
    // A kind with another kind's keys.
    assert_rejected(
        "a dns with server keys",
        &edit(SERVER, "kind = \"server\"", "kind = \"dns\""),
    );
}

#[test]
fn bad_units_are_rejected() {
    for (from, to) in [
        ("duration = \"10m\"", "duration = \"10 parsecs\""),
        ("duration = \"10m\"", "duration = \"10\""),
        ("duration = \"10m\"", "duration = 600"),
        ("duration = \"10m\"", "duration = \"-5s\""),
        ("mean = \"8s\"", "mean = \"8 seconds\""),
        ("workers = 32", "workers = 32\nmemory = \"12\""),
        ("workers = 32", "workers = 32\nprice = \"0.096/h\""),
    ] {
        let text = edit(SERVER, from, to);
        assert_rejected(to, &text);
    }
    assert_rejected(
        "arrival_rate = \"100\"",
        &edit(
            SERVER,
            "users = 10\nthink_time = { dist = \"exponential\", mean = \"8s\" }",
            "arrival_rate = \"100\"",
        ),
    );
    assert_rejected(
        "error_rate = \"150%\"",
        &format!("{SERVER}\n[slo]\nerror_rate = \"150%\"\n"),
    );
    assert_rejected(
        "error_rate = 2",
        &format!("{SERVER}\n[slo]\nerror_rate = 2\n"),
    );
}

#[test]
fn an_unknown_dist_is_rejected() {
    let errs = assert_rejected(
        "dist = \"gaussian\"",
        &edit(SERVER, "dist = \"lognormal\"", "dist = \"gaussian\""),
    );
    names(&errs, "gaussian");
    // A key of another distribution.
    let errs = assert_rejected(
        "cv on an exponential",
        &edit(SERVER, "dist = \"lognormal\"", "dist = \"exponential\""),
    );
    names(&errs, "cv");
}

#[test]
fn a_trace_is_a_file_name_or_a_table_of_file_start_and_speed() {
    // The loader reads the file (relative to the scenario's folder: "t.toml" is in the package
    // root), so the trace must exist and its paths match a class ("/" takes them all).
    let base = edit(
        SERVER,
        "users = 10\n",
        "users = 10\nmix = [{ name = \"any\", path = \"/\", weight = 1 }]\n\
         trace = \"scenarios/traces/login-burst.csv\"\n",
    );
    scenario::parse("t.toml", &base, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_valid("trace as a string", &base);
    let table = edit(
        &base,
        "trace = \"scenarios/traces/login-burst.csv\"",
        "trace = { file = \"scenarios/traces/login-burst.csv\", start = \"30s\", speed = 2.5 }",
    );
    scenario::parse("t.toml", &table, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_valid("trace as a table", &table);
    let errs = assert_rejected("trace with `fiel`", &edit(&table, "file =", "fiel ="));
    names(&errs, "fiel");
    assert_rejected(
        "trace = 5",
        &edit(
            &base,
            "trace = \"scenarios/traces/login-burst.csv\"",
            "trace = 5",
        ),
    );
    assert_rejected(
        "trace start = \"soon\"",
        &edit(&table, "start = \"30s\"", "start = \"soon\""),
    );
    assert_rejected(
        "trace speed = \"fast\"",
        &edit(&table, "speed = 2.5", "speed = \"fast\""),
    );
}

#[test]
fn a_bad_objective_table_is_rejected() {
    let errs = assert_rejected(
        "objective with `bellow`",
        &format!("{SERVER}\n[slo]\nobjectives = [{{ metric = \"p99\", bellow = \"300ms\" }}]\n"),
    );
    names(&errs, "bellow");
    assert_rejected(
        "objective below = true",
        &format!("{SERVER}\n[slo]\nobjectives = [{{ metric = \"p99\", below = true }}]\n"),
    );
}

// ---------------------------------------------------------------------------------------------
// The hand-written parts stay in step with the types
// ---------------------------------------------------------------------------------------------

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn definition<'a>(name: &str) -> &'a Value {
    let d = &schema()["definitions"][name];
    assert!(d.is_object(), "no definition {name}");
    d
}

#[test]
fn variants_and_the_resilience_keys_match_the_loader() {
    // What the loader accepts: variants, a retry budget, a breaker on a call, a queue timeout.
    let ok = format!(
        "{}\n[components.db]\nkind = \"server\"\ninstance = \"c5.large\"\n\
         service = {{ dist = \"exponential\", mean = \"5ms\" }}\n\n\
         [[components.web.calls]]\nto = [{{ target = \"db\", timeout = \"1s\", fallback = \"ok\", \
         breaker = {{ failures = 5, within = \"10s\", open_for = \"30s\", probes = 1 }} }}]\n\n\
         [variants.budget]\ndescription = \"A budget.\"\nset = ['workload.retries.budget=\"10%\"']\n\n\
         [variants.shed]\nset = ['components.web.queue_timeout=\"500ms\"', 'components.web.backlog=100']\n",
        edit(
            SERVER,
            "workers = 32\n",
            "workers = 32\nqueue_timeout = \"500ms\"\n",
        )
        .replace(
            "users = 10\n",
            "users = 10\ntarget = \"web\"\nretries = { max = 3, budget = \"10%\" }\n",
        )
    );
    scenario::parse("t.toml", &ok, &[]).unwrap_or_else(|e| panic!("test bug: {e}\n{ok}"));
    assert_valid("resilience keys", &ok);
    // And rejects what the loader rejects, naming the key.
    for (what, from, to, word) in [
        (
            "variant key",
            "description = \"A budget.\"",
            "descripton = \"A budget.\"",
            "descripton",
        ),
        (
            "variant set",
            "set = ['workload.retries.budget=\"10%\"']",
            "set = 'workload.retries.budget=1'",
            "set",
        ),
        ("breaker key", "probes = 1", "probe = 1", "probe"),
        (
            "budget type",
            "budget = \"10%\" }",
            "budget = \"lots\" }",
            "lots",
        ),
    ] {
        let bad = edit(&ok, from, to);
        assert!(
            scenario::parse("t.toml", &bad, &[]).is_err(),
            "{what}: the loader accepts it"
        );
        let errs = assert_rejected(what, &bad);
        assert!(
            errs.iter().any(|e| e.contains(word)),
            "{what}: no error names `{word}`:\n  {}",
            errs.join("\n  ")
        );
    }
    // The variant table is closed, its `set` a list of strings.
    let v = definition("VariantConfig");
    assert_eq!(v["additionalProperties"], json!(false));
    assert_eq!(
        keys(&v["properties"]),
        ["description", "set"].map(String::from).into()
    );
    assert_eq!(v["properties"]["set"]["items"]["type"], "string");
    assert!(
        keys(&definition("BreakerConfig")["properties"]).is_superset(
            &["failures", "within", "open_for", "probes"]
                .map(String::from)
                .into()
        )
    );
}

#[test]
fn component_kinds_and_fleet_keys_match_the_loader() {
    let kinds: Vec<&str> = definition("ComponentConfig")["properties"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(kinds, COMPONENT_KINDS);
    // The loader splits a fleet's table by FLEET_KEYS: they must be FleetConfig's keys.
    let fleet = serde_json::to_value(schemars::schema_for!(FleetConfig)).unwrap();
    let fleet_keys = keys(&fleet["properties"]);
    let expected: BTreeSet<String> = FLEET_KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(fleet_keys, expected);
    // A fleet component = kind + group keys + server keys, nothing else.
    let server = keys(&definition("ServerComponent")["properties"]);
    let mut union = server.clone();
    union.extend(fleet_keys);
    assert_eq!(keys(&definition("FleetComponent")["properties"]), union);
    for name in [
        "ServerComponent",
        "FleetComponent",
        "LoadBalancerComponent",
        "DnsComponent",
    ] {
        assert_eq!(
            definition(name)["additionalProperties"],
            json!(false),
            "{name}"
        );
    }
}

#[test]
fn the_dist_schema_matches_dist_config() {
    let v = validator_for::<DistConfig>();
    let d = Duration(20_000_000);
    let all = [
        DistConfig::Exponential { mean: d },
        DistConfig::Deterministic { value: d },
        DistConfig::Lognormal { mean: d, cv: 1.5 },
        DistConfig::Uniform { min: d, max: d },
        DistConfig::Erlang { mean: d, k: 4 },
    ];
    let mut tags: BTreeSet<String> = ["constant".to_string()].into();
    for c in &all {
        let j = serde_json::to_value(c).unwrap();
        assert!(v.is_valid(&j), "{j} does not validate");
        tags.insert(j["dist"].as_str().unwrap().to_string());
    }
    let schema_tags: BTreeSet<String> = definition("DistConfig")["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|alt| {
            alt["properties"]["dist"]["enum"][0]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(schema_tags, tags);
}

#[test]
fn the_objective_table_schema_matches_objective_table() {
    let full = ObjectiveTable {
        metric: "p99".into(),
        below: Some(toml::Value::String("300ms".into())),
        above: Some(toml::Value::Float(0.5)),
        class: Some("buy".into()),
        every: Some(Duration(60_000_000_000)),
        name: Some("n".into()),
    };
    let j = serde_json::to_value(&full).unwrap();
    assert_eq!(keys(&definition("ObjectiveTable")["properties"]), keys(&j));
    assert!(validator_for::<ObjectiveTable>().is_valid(&j));
}

// ---------------------------------------------------------------------------------------------
// Unit patterns against the parsers
// ---------------------------------------------------------------------------------------------

#[test]
fn the_duration_pattern_accepts_what_parse_duration_accepts() {
    let v = validator_for::<Duration>();
    // Everything units.rs's own tests accept, and the formatter's output.
    let mut good: Vec<String> = [
        "150ms", "2h", "1h30m", "1.5s", "250us", "0s", " 2 m ", "1h 30m", "90 s", "1_000ms",
        "2.5 h", "1.h", ".5s", "1µs", "1μs", "3d", "5min", "10sec", "-0s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    good.extend(
        [
            0,
            1,
            999,
            1_000_000,
            150_000_000,
            5_400_000_000_000,
            259_200_000_000_000,
        ]
        .map(units::format_duration),
    );
    for s in &good {
        assert!(units::parse_duration(s).is_ok(), "test bug: {s:?}");
        assert!(v.is_valid(&json!(s)), "the pattern rejects {s:?}");
    }
    assert!(v.is_valid(&json!(0)), "a bare 0");
    // Everything they reject.
    for s in [
        "10",
        "10 parsecs",
        "-5s",
        "",
        "ms",
        "1e30h",
        "1 m s",
        "1mins",
        "1h+30m",
        "1h_30m",
        " ",
        "1.2.3s",
        "s1",
    ] {
        assert!(units::parse_duration(s).is_err(), "test bug: {s:?}");
        assert!(!v.is_valid(&json!(s)), "the pattern accepts {s:?}");
    }
    assert!(!v.is_valid(&json!(5)), "a bare 5");
    assert!(!v.is_valid(&json!(1.5)), "a bare 1.5");
}

#[test]
fn the_other_unit_patterns_accept_their_parsers_examples() {
    let check = |v: &Validator, good: &[&str], bad: &[&str]| {
        for s in good {
            assert!(v.is_valid(&json!(s)), "the pattern rejects {s:?}");
        }
        for s in bad {
            assert!(!v.is_valid(&json!(s)), "the pattern accepts {s:?}");
        }
    };
    check(
        &validator_for::<Bytes>(),
        &["512MiB", "1.5GiB", "2GB", "0B", " 64 KiB ", "1_024B", "3kB"],
        &["12", "12 parsecs", "-1B", "1GiB2", "GiB"],
    );
    check(
        &validator_for::<Rate>(),
        &[
            "100/s",
            "6000/min",
            "1_000/s",
            "2/ms",
            "50/h",
            "1e3 / day",
            "0.5/sec",
        ],
        &["100", "-1/s", "100/s/x", "100/y", "/s", "1 000/s"],
    );
    check(
        &validator_for::<Price>(),
        &["$0.096/h", "$73/month", " $ 5 / hr ", "$1e2/mo", "$0.01/s"],
        &["0.096/h", "$-1/h", "$5", "$5/day", "$1_000/h"],
    );
    check(
        &validator_for::<Fraction>(),
        &[
            "0.1%", "0.25", "100%", "0%", "1", "1.0", ".5", "99.99 %", "1e-3", "-0",
        ],
        &["150%", "1.5", "-0.1", "abc", "%", "100.1%"],
    );
    let f = validator_for::<Fraction>();
    assert!(f.is_valid(&json!(0.001)) && f.is_valid(&json!(1)) && f.is_valid(&json!(0)));
    assert!(!f.is_valid(&json!(1.5)) && !f.is_valid(&json!(-0.1)));
}

/// Pieces that assemble into near-miss unit strings.
const TOKENS: &[&str] = &[
    "0", "1", "5", "12", ".", "_", "+", "-", " ", "e", "E", "ms", "m", "s", "h", "d", "us", "µs",
    "μs", "ns", "min", "sec", "x", "/", "/s", "/h", "/min", "/month", "$", "$1", "%", "B", "KiB",
    "GiB", "kB", "hour", "mo", "day", "hr", "b", "TB",
];

/// An exponent with 3 or more digits: the number may overflow to infinity, which the parsers
/// reject and the patterns (which don't bound magnitudes) accept.
fn huge_exponent(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        (b[i] == b'e' || b[i] == b'E')
            && b[i + 1..]
                .iter()
                .skip_while(|c| matches!(c, b'+' | b'-' | b'_'))
                .take_while(|c| c.is_ascii_digit() || **c == b'_')
                .filter(|c| c.is_ascii_digit())
                .count()
                >= 3
    })
}

struct Unit {
    name: &'static str,
    validator: Validator,
    parse: fn(&str) -> Result<(), String>,
    /// A parser error the pattern may not catch (a magnitude or range the regex doesn't bound).
    beyond_pattern: fn(&str, &str) -> bool,
}

fn units_under_test() -> &'static [Unit] {
    static U: OnceLock<Vec<Unit>> = OnceLock::new();
    U.get_or_init(|| {
        let too_big = |_: &str, e: &str| e.contains("too long") || e.contains("too large");
        vec![
            Unit {
                name: "duration",
                validator: validator_for::<Duration>(),
                parse: |s| units::parse_duration(s).map(drop),
                beyond_pattern: too_big,
            },
            Unit {
                name: "bytes",
                validator: validator_for::<Bytes>(),
                parse: |s| units::parse_bytes(s).map(drop),
                beyond_pattern: too_big,
            },
            Unit {
                name: "rate",
                validator: validator_for::<Rate>(),
                parse: |s| units::parse_rate(s).map(drop),
                beyond_pattern: |s, _| huge_exponent(s),
            },
            Unit {
                name: "price",
                validator: validator_for::<Price>(),
                parse: |s| units::parse_price(s).map(drop),
                beyond_pattern: |s, _| huge_exponent(s),
            },
            Unit {
                name: "fraction",
                validator: validator_for::<Fraction>(),
                parse: |s| units::parse_fraction_str(s).map(drop),
                // The range of a number with an exponent is not checked by the pattern.
                beyond_pattern: |s, _| s.contains(['e', 'E']),
            },
        ]
    })
}

/// Whether `u` agrees with its parser on `s`, or a message saying how not.
fn disagreement(u: &Unit, s: &str) -> Option<String> {
    let matched = u.validator.is_valid(&json!(s));
    match (u.parse)(s) {
        Ok(()) if !matched => Some(format!(
            "{}: the parser accepts {s:?}, the pattern doesn't",
            u.name
        )),
        Err(e) if matched && !(u.beyond_pattern)(s, &e) => Some(format!(
            "{}: the pattern accepts {s:?}, the parser says: {e}",
            u.name
        )),
        _ => None,
    }
}

/// Every string of up to three pieces, for every unit.
#[test]
fn unit_patterns_agree_with_the_parsers_on_all_short_strings() {
    let mut strings = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..3 {
        last = last
            .iter()
            .flat_map(|p| TOKENS.iter().map(move |t| format!("{p}{t}")))
            .collect();
        strings.extend(last.iter().cloned());
    }
    for u in units_under_test() {
        let mut accepted = 0;
        for s in &strings {
            if let Some(msg) = disagreement(u, s) {
                panic!("{msg}");
            }
            accepted += usize::from((u.parse)(s).is_ok());
        }
        // The pieces do build valid strings of every unit, so the comparison has teeth.
        assert!(accepted >= 20, "{}: only {accepted} valid strings", u.name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    /// On strings assembled from unit-ish pieces, each pattern accepts exactly what its parser
    /// accepts (the pattern may also accept magnitudes the parser refuses).
    #[test]
    fn unit_patterns_agree_with_the_parsers(
        parts in prop::collection::vec(prop::sample::select(TOKENS), 0..8)
    ) {
        let s: String = parts.concat();
        for u in units_under_test() {
            if let Some(msg) = disagreement(u, &s) {
                prop_assert!(false, "{}", msg);
            }
        }
    }
}

#[test]
fn every_service_distribution_the_loader_accepts_validates() {
    // The schema mirrors the distribution list by hand (to show the `constant` alias): keep them
    // in step.
    for dist in [
        "{ dist = \"exponential\", mean = \"20ms\" }",
        "{ dist = \"deterministic\", value = \"20ms\" }",
        "{ dist = \"constant\", value = \"20ms\" }",
        "{ dist = \"lognormal\", mean = \"20ms\", cv = 1.5 }",
        "{ dist = \"uniform\", min = \"10ms\", max = \"30ms\" }",
        "{ dist = \"erlang\", mean = \"20ms\", k = 4 }",
    ] {
        let text = edit(
            SERVER,
            "service = { dist = \"lognormal\", mean = \"20ms\", cv = 1.0 }",
            &format!("service = {dist}"),
        );
        scenario::parse("t.toml", &text, &[])
            .unwrap_or_else(|e| panic!("test bug: {dist} does not load: {e}"));
        assert_valid(dist, &text);
    }
}
