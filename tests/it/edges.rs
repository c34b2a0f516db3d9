//! `validate` accepts nothing that `run` then panics on: every numeric key of the scenario format,
//! found by walking the JSON schema (`scalesim schema`) — numbers, integers and the unit strings
//! (durations, sizes, rates, prices, fractions) — is set to each of its range edges (0, the
//! smallest step, the type's minimum and maximum, huge, negative, NaN and infinities where TOML
//! can write them, the wrong type) with `--set`, on top of the shipped scenarios and
//! `tests/fixtures/edges/every-key.toml`. A refusal must be located and name the key (and show
//! the value as written, not as 300 digits); an accepted scenario is run a few simulated seconds
//! (capped by `scalesim::fuzzing`, as the fuzzers do) and must not panic, and every request must
//! end in exactly one outcome. A third test sets every key at once, each to an edge value the
//! others still allow.
//!
//! The keys come from the schema, so a new key is covered as soon as a base has its table; a
//! numeric key that no base can reach fails `every_numeric_key_of_the_schema_is_in_a_base` until
//! `every-key.toml` gets it. Only `--set` paths that exist (or a missing optional key in a table
//! that exists, or in an optional table without required keys) are set, so each refusal is about
//! the edge value itself.
//!
//! `SCALESIM_EDGES_ONLY=<substring>` runs only the cases whose `--set` contains it, e.g.
//! `SCALESIM_EDGES_ONLY=workers= cargo test --test it edges:: -- --nocapture`.

use scalesim::fuzzing::{self, Limits, SplitMix64};
use scalesim::scenario::schema::scenario_schema;
use scalesim::scenario::{self, Override};
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// The bases: the shipped scenarios as they are (validated at their full length, run short), and
/// the fixture that has every key the shipped ones leave out.
fn bases() -> Vec<(String, String)> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<(String, String)> = scenario::embedded::CHAPTERS
        .iter()
        .map(|c| (format!("chapter:{}", c.number), c.text.to_string()))
        .collect();
    for f in [
        "scenarios/validation/mmcc.toml",
        "tests/fixtures/edges/every-key.toml",
    ] {
        v.push((
            f.to_string(),
            std::fs::read_to_string(root.join(f)).expect("base scenario"),
        ));
    }
    v
}

/// What kind of value a numeric key takes, so each gets the edges of its own syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    /// An unsigned integer (`uint32`, `uint64`).
    Unsigned,
    /// A signed 32-bit integer.
    Int32,
    /// A float (`double`), or a threshold that is a number or a string.
    Float,
    Duration,
    Bytes,
    Rate,
    Price,
    Fraction,
}

impl Shape {
    /// The edge values, as TOML (a `--set` value).
    fn edges(self) -> &'static [&'static str] {
        match self {
            Shape::Unsigned => &[
                "0",
                "1",
                "2",
                "-1",
                "4294967295",
                "4294967296",
                "9223372036854775807",
                "-9223372036854775808",
                "0.5",
                "1e300",
                "nan",
                "\"1\"",
            ],
            Shape::Int32 => &[
                "0",
                "1",
                "-1",
                "2147483647",
                "-2147483648",
                "2147483648",
                "-2147483649",
                "9223372036854775807",
                "-9223372036854775808",
                "0.5",
                "nan",
            ],
            Shape::Float => &[
                "0",
                "0.0",
                "-0.0",
                "5e-324",
                "1e-300",
                "0.5",
                "1",
                "2.5",
                "-1.0",
                "4294967296",
                "1e300",
                "1.7976931348623157e308",
                "inf",
                "-inf",
                "nan",
                "\"x\"",
            ],
            Shape::Duration => &[
                "0",
                "\"0s\"",
                "\"-0s\"",
                "\"1ns\"",
                "\"999us\"",
                "\"1ms\"",
                "\"1s\"",
                "\"2s\"",
                "\"1h\"",
                "\"30d\"",
                "\"31d\"",
                "\"10000d\"",
                "\"213504d\"",
                "\"-1s\"",
                "\"\"",
                "1",
                "1e300",
            ],
            Shape::Bytes => &[
                "0",
                "\"0B\"",
                "\"1B\"",
                "\"1KiB\"",
                "\"1GiB\"",
                "\"1TiB\"",
                "\"1000TB\"",
                "\"18446744073709551615B\"",
                "\"-1B\"",
                "\"0.4B\"",
                "1",
            ],
            Shape::Rate => &[
                "0",
                "\"0/s\"",
                "\"1e-300/s\"",
                "\"1/d\"",
                "\"1/s\"",
                "\"1e6/s\"",
                "\"1/ns\"",
                "\"1e300/s\"",
                "\"inf/s\"",
                "\"nan/s\"",
                "\"-1/s\"",
                "5",
            ],
            Shape::Price => &[
                "0",
                "\"$0/h\"",
                "\"$0.0001/h\"",
                "\"$5/month\"",
                "\"$1e300/h\"",
                "\"$inf/h\"",
                "\"$nan/h\"",
                "\"$-1/h\"",
                "1",
            ],
            Shape::Fraction => &[
                "0",
                "1",
                "0.5",
                "5e-324",
                "-0.1",
                "1.1",
                "1e300",
                "nan",
                "inf",
                "\"0%\"",
                "\"100%\"",
                "\"100.1%\"",
                "\"-1%\"",
            ],
        }
    }
}

/// A numeric key found in the schema (`path` empty) or in a base (`path` its `--set` path).
#[derive(Clone, Debug)]
struct Leaf {
    /// The `--set` path, e.g. `components.web.service.mean` or `faults[2].factor`.
    path: String,
    /// The key in the schema's terms: components and list entries generalized, the variant of a
    /// tagged table named, e.g. `components.*<fleet>.service<lognormal>.cv`, `faults[].factor`.
    template: String,
    /// `template` with the kind of each flat `[[faults]]` entry too (`faults[]<slow>.factor`): a
    /// base tests each group once.
    group: String,
    shape: Shape,
    /// For a key of another variant of a tagged table than the base's (an `erlang` think time in
    /// a base whose think time is `exponential`): the whole table to set at `path`, with `{EDGE}`
    /// where the edge value goes.
    frame: Option<String>,
}

impl Leaf {
    /// The `--set` that puts `edge` here.
    fn set(&self, edge: &str) -> String {
        match &self.frame {
            Some(f) => format!("{}={}", self.path, f.replace("{EDGE}", edge)),
            None => format!("{}={edge}", self.path),
        }
    }
}

/// Walks the schema, alone (every key it has) or beside a base's TOML (the keys that base can set).
struct Walker<'a> {
    root: &'a Value,
}

impl<'a> Walker<'a> {
    /// `v` with `$ref`s, and an `allOf` of one `$ref` (a documented reference), followed; and the
    /// name of the last definition followed.
    fn resolve(&self, mut v: &'a Value) -> (Option<&'a str>, &'a Value) {
        let mut name = None;
        for _ in 0..16 {
            if let Some(r) = v.get("$ref").and_then(Value::as_str) {
                name = r.rsplit('/').next();
                v = r
                    .strip_prefix('#')
                    .and_then(|p| self.root.pointer(p))
                    .expect("a local $ref");
                continue;
            }
            let plain = |k| v.get(k).is_none();
            if let Some([only]) = v.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
                if only.get("$ref").is_some() && plain("properties") && plain("oneOf") {
                    v = only;
                    continue;
                }
            }
            break;
        }
        (name, v)
    }

    fn shape(&self, schema: &'a Value) -> Option<Shape> {
        let (name, v) = self.resolve(schema);
        match name {
            Some("Duration") => return Some(Shape::Duration),
            Some("Bytes") => return Some(Shape::Bytes),
            Some("Rate") => return Some(Shape::Rate),
            Some("Price") => return Some(Shape::Price),
            Some("Fraction") => return Some(Shape::Fraction),
            _ => {}
        }
        let types: Vec<&str> = match v.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if types.contains(&"integer") {
            let signed = v.get("format").and_then(Value::as_str) == Some("int32");
            Some(if signed {
                Shape::Int32
            } else {
                Shape::Unsigned
            })
        } else if types.contains(&"number") {
            Some(Shape::Float)
        } else {
            None
        }
    }

    /// The single value of a variant's required tag key (`kind`, `dist`, `policy`), if it has one.
    fn tag(&self, alt: &'a Value) -> Option<(&'a str, &'a str)> {
        let (_, alt) = self.resolve(alt);
        let required = alt.get("required")?.as_array()?;
        let props = alt.get("properties")?.as_object()?;
        props.iter().find_map(|(k, p)| {
            let (_, p) = self.resolve(p);
            let one = match (p.get("const"), p.get("enum").and_then(Value::as_array)) {
                (Some(c), _) => c.as_str(),
                (None, Some(e)) if e.len() == 1 => e[0].as_str(),
                _ => None,
            }?;
            required
                .iter()
                .any(|r| r == k.as_str())
                .then_some((k.as_str(), one))
        })
    }

    /// The numeric keys of variant `alt` of a tagged table (tag `tag`) that the base has with
    /// another tag: each set as a whole table of that variant, its required keys at plain values.
    /// Only for variants whose keys are all numbers (the distributions); other variants need a
    /// base of their own.
    fn other_variant(
        &self,
        alt: &'a Value,
        tag: (&str, &str),
        at: (&str, &str, &str),
        out: &mut Vec<Leaf>,
    ) {
        let (path, template, group) = at;
        let (_, alt) = self.resolve(alt);
        let Some(props) = alt.get("properties").and_then(Value::as_object) else {
            return;
        };
        let required: Vec<&str> = alt
            .get("required")
            .and_then(Value::as_array)
            .map_or(vec![], |r| r.iter().filter_map(Value::as_str).collect());
        let shapes: Vec<(&str, Shape)> = props
            .keys()
            .filter(|k| k.as_str() != tag.0)
            .filter_map(|k| self.shape(&props[k]).map(|s| (k.as_str(), s)))
            .collect();
        if shapes.len() + 1 != props.len() {
            return;
        }
        let plain = |s: Shape| match s {
            Shape::Unsigned | Shape::Int32 => "2",
            Shape::Float => "1.0",
            Shape::Duration => "\"10ms\"",
            Shape::Bytes => "\"1MiB\"",
            Shape::Rate => "\"10/s\"",
            Shape::Price => "\"$0.01/h\"",
            Shape::Fraction => "0.5",
        };
        for &(key, shape) in &shapes {
            let mut parts = vec![format!("{} = \"{}\"", tag.0, tag.1)];
            for &(k, s) in &shapes {
                if k == key {
                    parts.push(format!("{k} = {{EDGE}}"));
                } else if required.contains(&k) {
                    parts.push(format!("{k} = {}", plain(s)));
                }
            }
            out.push(Leaf {
                path: path.to_string(),
                template: format!("{template}.{key}"),
                group: format!("{group}.{key}"),
                shape,
                frame: Some(format!("{{ {} }}", parts.join(", "))),
            });
        }
    }

    /// Adds to `out` the numeric keys under `schema`: all of them when `doc` is `None`, else those
    /// a `--set` can reach in `doc` (the base's value here).
    fn walk(
        &self,
        schema: &'a Value,
        doc: Option<&toml::Value>,
        at: (&str, &str, &str),
        out: &mut Vec<Leaf>,
    ) {
        let (path, template, group) = at;
        assert!(template.len() < 400, "the schema nests without end");
        if let Some(shape) = self.shape(schema) {
            out.push(Leaf {
                path: path.to_string(),
                template: template.to_string(),
                group: group.to_string(),
                shape,
                frame: None,
            });
            return;
        }
        let (_, node) = self.resolve(schema);
        for key in ["oneOf", "anyOf"] {
            let Some(alts) = node.get(key).and_then(Value::as_array) else {
                continue;
            };
            for alt in alts {
                let tag = self.tag(alt);
                let fits = match (doc, tag) {
                    (None, _) => true,
                    (Some(d), Some((k, v))) => d.get(k).and_then(toml::Value::as_str) == Some(v),
                    (Some(d), None) => {
                        let (_, a) = self.resolve(alt);
                        match a.get("type").and_then(Value::as_str) {
                            Some("object") => d.is_table(),
                            Some("array") => d.is_array(),
                            _ => false,
                        }
                    }
                };
                let suffix = tag.map_or(String::new(), |(_, v)| format!("<{v}>"));
                let (t, g) = (format!("{template}{suffix}"), format!("{group}{suffix}"));
                if fits {
                    self.walk(alt, doc, (path, &t, &g), out);
                } else if let (Some(d), Some(tag)) = (doc, tag) {
                    if d.is_table() {
                        self.other_variant(alt, tag, (path, &t, &g), out);
                    }
                }
            }
            return;
        }
        let join = |a: &str, b: &str| {
            if a.is_empty() {
                b.to_string()
            } else {
                format!("{a}.{b}")
            }
        };
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            let Some(table) = doc.map(|d| d.as_table()) else {
                for (k, p) in props {
                    let (pa, t) = (join(path, k), join(template, k));
                    self.walk(p, None, (&pa, &t, &t), out);
                }
                return;
            };
            let Some(table) = table else { return };
            // A flat table with a `kind` (a fault): its keys grouped by that kind.
            let group = match table.get("kind").and_then(toml::Value::as_str) {
                Some(kind) if node.get("oneOf").is_none() => format!("{group}<{kind}>"),
                _ => group.to_string(),
            };
            for (k, p) in props {
                let at = (join(path, k), join(template, k), join(&group, k));
                let at = (at.0.as_str(), at.1.as_str(), at.2.as_str());
                match table.get(k) {
                    Some(v) => self.walk(p, Some(v), at, out),
                    // A key left out: set it if it is a number, or descend into an optional table
                    // that needs no key (so `--set` makes a valid one from the edge value alone).
                    None if self.shape(p).is_some() => self.walk(p, None, at, out),
                    None => {
                        let (_, sub) = self.resolve(p);
                        let needs_none = sub
                            .get("required")
                            .and_then(Value::as_array)
                            .is_none_or(Vec::is_empty);
                        if sub.get("properties").is_some()
                            && sub.get("oneOf").is_none()
                            && needs_none
                        {
                            let empty = toml::Value::Table(toml::Table::new());
                            self.walk(p, Some(&empty), at, out);
                        }
                    }
                }
            }
            return;
        }
        if let Some(each) = node.get("additionalProperties").filter(|a| a.is_object()) {
            match doc.and_then(toml::Value::as_table) {
                Some(table) => {
                    for (name, v) in table {
                        let (pa, t, g) = (join(path, name), join(template, "*"), join(group, "*"));
                        self.walk(each, Some(v), (&pa, &t, &g), out);
                    }
                }
                None if doc.is_none() => {
                    let t = join(template, "*");
                    self.walk(each, None, ("", &t, &t), out);
                }
                None => {}
            }
            return;
        }
        if let Some(items) = node.get("items") {
            let (t, g) = (format!("{template}[]"), format!("{group}[]"));
            match doc {
                None => self.walk(items, None, ("", &t, &t), out),
                Some(toml::Value::Array(a)) => {
                    // A list of numbers (the daily curve): its first entry.
                    let entries = if self.shape(items).is_some() {
                        &a[..a.len().min(1)]
                    } else {
                        &a[..]
                    };
                    for (i, v) in entries.iter().enumerate() {
                        let p = format!("{path}[{i}]");
                        self.walk(items, Some(v), (&p, &t, &g), out);
                    }
                }
                Some(_) => {}
            }
        }
    }
}

/// Every numeric key of the schema, by template.
fn schema_keys(schema: &Value) -> BTreeSet<String> {
    let mut out = Vec::new();
    Walker { root: schema }.walk(schema, None, ("", "", ""), &mut out);
    out.into_iter().map(|l| l.template).collect()
}

/// The numeric keys a base can set, one per group.
fn base_keys(schema: &Value, text: &str) -> Vec<Leaf> {
    let doc = toml::Value::Table(toml::from_str(text).expect("a base is TOML"));
    let mut out = Vec::new();
    Walker { root: schema }.walk(schema, Some(&doc), ("", "", ""), &mut out);
    let mut seen = BTreeSet::new();
    out.retain(|l| seen.insert(l.group.clone()));
    out
}

/// Keys of the schema no valid scenario can have, and why.
const NOT_IN_A_BASE: &[(&str, &str)] = &[
    (
        "components.*<fleet>.resize[].at",
        "a fleet takes every server key in the schema, but the loader refuses `resize` on one \
         (a fleet scales out, not up)",
    ),
    ("components.*<fleet>.resize[].downtime", "as `resize[].at`"),
];

#[test]
fn every_numeric_key_of_the_schema_is_in_a_base() {
    let schema = scenario_schema();
    let all = schema_keys(&schema);
    assert!(all.len() > 100, "the walk found only {} keys", all.len());
    for needed in [
        "scenario.duration",
        "workload.users",
        "workload.think_time<erlang>.k",
        "components.*<server>.workers",
        "components.*<fleet>.scaling<step>.steps[].change",
        "faults[].factor",
        "workload.daily_curve[]",
        "slo.objectives[].below",
    ] {
        assert!(all.contains(needed), "the walk missed {needed}: {all:#?}");
    }
    let mut covered: BTreeSet<String> = NOT_IN_A_BASE.iter().map(|(k, _)| k.to_string()).collect();
    for (_, text) in bases() {
        covered.extend(base_keys(&schema, &text).into_iter().map(|l| l.template));
    }
    let missing: Vec<&String> = all.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "numeric keys of the schema that no base has, so the edges property can't set them: \
         add them to tests/fixtures/edges/every-key.toml:\n  {}",
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// Whether a refusal of `--set raw` (at `path`) names the key: a diagnostic is blamed on the
/// `--set` (its key path is at, under or above the key), or — a limit between two keys, reported
/// at the other one ("the warm-up (5m) must be shorter than the duration (1s)") — says the key's
/// name in its message or help.
fn names_the_key(diags: &[scenario::error::Diagnostic], raw: &str, path: &str) -> bool {
    let blamed = format!("--set {raw}");
    let name = path
        .rsplit('.')
        .next()
        .unwrap_or(path)
        .split('[')
        .next()
        .unwrap_or(path);
    let says = |text: &str| {
        text.match_indices(name).any(|(i, _)| {
            let word = |c: char| c.is_alphanumeric() || c == '_';
            !text[..i].ends_with(word) && !text[i + name.len()..].starts_with(word)
        })
    };
    diags
        .iter()
        .any(|d| d.file == blamed || says(&d.message) || d.help.as_deref().is_some_and(says))
}

/// Whether `text` has a number of 25 digits or more: a float printed with `{}` (`1e300` as 301
/// digits) rather than as written.
fn long_number(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .any(|run| run.len() >= 25)
}

/// Runs `scn` cut short under `scalesim::fuzzing`'s checks and renders its reports: `Ok(true)` if
/// it ran to the end, `Ok(false)` if the event budget ran out, `Err` for a panic or a broken check.
fn run_short(scn: &scenario::Scenario) -> Result<bool, String> {
    let Some(short) = fuzzing::shorten(scn, &Limits::SHORT) else {
        return Ok(false);
    };
    let run = catch_unwind(AssertUnwindSafe(|| {
        let out = fuzzing::run_checked(&short, Limits::SHORT.events)?;
        if let Some(out) = &out {
            fuzzing::render(&short, out);
        }
        Ok::<bool, String>(out.is_some())
    }));
    run.unwrap_or_else(|p| Err(format!("the run panicked: {}", panic_text(&*p))))
}

/// A panic's message.
fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[test]
fn every_numeric_key_at_its_range_edges_is_refused_clearly_or_runs_clean() {
    use rayon::prelude::*;
    let started = Instant::now();
    let schema = scenario_schema();
    let only = std::env::var("SCALESIM_EDGES_ONLY").ok();
    let mut keys = 0;
    // Every (base, --set) case first, then all of them across the cores: each case is a parse and
    // a short run of its own, and the outcome is collected in case order.
    // A key (in the schema's terms, with its fault kind) is tested in the first base that has
    // it: the chapters share most of theirs, and each case is a run. SCALESIM_EDGES_ALL=1 tests
    // every base's keys in every base.
    let every_base = std::env::var_os("SCALESIM_EDGES_ALL").is_some();
    let mut seen = BTreeSet::new();
    let mut all = Vec::new();
    let bases = bases();
    for (b, (name, text)) in bases.iter().enumerate() {
        let base = scenario::parse(name, text, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
        drop(base);
        for leaf in base_keys(&schema, text) {
            if !seen.insert(leaf.group.clone()) && !every_base {
                continue;
            }
            keys += 1;
            for edge in leaf.shape.edges() {
                let raw = leaf.set(edge);
                if only.as_deref().is_some_and(|o| !raw.contains(o)) {
                    continue;
                }
                all.push((b, raw, leaf.path.clone()));
            }
        }
    }
    /// What one case came to.
    enum Case {
        Refused,
        Ran,
        Cut,
        Failed(String),
    }
    let results: Vec<Case> = all
        .par_iter()
        .map(|(b, raw, path)| {
            let (name, text) = &bases[*b];
            let case = format!("{name} --set {raw}");
            let set = Override::parse(raw).unwrap_or_else(|e| panic!("test bug: {raw}: {e}"));
            let loaded = catch_unwind(|| scenario::parse(name, text, &[set]));
            let scn = match loaded {
                Err(p) => {
                    return Case::Failed(format!("{case}: validate panicked: {}", panic_text(&*p)))
                }
                Ok(Err(e)) => {
                    let unplaced = e
                        .diagnostics
                        .iter()
                        .any(|d| d.location.is_none() && d.key_path.is_none());
                    return if unplaced {
                        Case::Failed(format!("{case}: refused without a place: {e}"))
                    } else if !names_the_key(&e.diagnostics, raw, path) {
                        Case::Failed(format!("{case}: refused, but not naming the key: {e}"))
                    } else if let Some(d) = e.diagnostics.iter().find(|d| long_number(&d.message)) {
                        Case::Failed(format!("{case}: a number printed in full: {}", d.message))
                    } else {
                        Case::Refused
                    };
                }
                Ok(Ok(scn)) => scn,
            };
            match run_short(&scn) {
                Err(e) => Case::Failed(format!("{case}: {e}")),
                Ok(true) => Case::Ran,
                Ok(false) => Case::Cut,
            }
        })
        .collect();
    let cases = results.len();
    let (mut refused, mut ran, mut cut) = (0, 0, 0);
    let mut failures = Vec::new();
    for r in results {
        match r {
            Case::Refused => refused += 1,
            Case::Ran => ran += 1,
            Case::Cut => cut += 1,
            Case::Failed(f) => failures.push(f),
        }
    }
    let took = started.elapsed();
    eprintln!(
        "edges: {keys} keys × their edges = {cases} cases in {took:.1?}: {refused} refused, \
         {ran} ran to the end, {cut} cut at the event budget; {} failures",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if only.is_none() {
        assert!(cases > 1000, "only {cases} cases");
        assert!(ran * 4 > cases, "only {ran} of {cases} cases ran");
    }
}

/// Every key at an edge at once: for each base, the keys in turn, each set to an edge value that
/// the scenario with the keys before it set still accepts (the first such in the list of edges —
/// the small ones —, the last — the huge ones —, or one at random). Each pass ends in one
/// scenario that `validate` accepts with dozens of keys at their edges together; it must run
/// clean like any other.
#[test]
fn every_numeric_key_at_an_accepted_edge_at_once_runs_clean() {
    let started = Instant::now();
    let schema = scenario_schema();
    let mut failures = Vec::new();
    let (mut passes, mut kept_total) = (0, 0);
    for (name, text) in bases() {
        let leaves = base_keys(&schema, &text);
        for pass in 0..4u64 {
            let mut rng = SplitMix64(pass);
            let mut sets: Vec<Override> = Vec::new();
            for leaf in &leaves {
                let mut edges = leaf.shape.edges().to_vec();
                match pass {
                    0 => {}
                    1 => edges.reverse(),
                    _ => {
                        for i in (1..edges.len()).rev() {
                            edges.swap(i, rng.below(i + 1));
                        }
                    }
                }
                for edge in edges {
                    let set = Override::parse(&leaf.set(edge)).expect("a valid --set");
                    sets.push(set);
                    let ok = catch_unwind(|| scenario::parse(&name, &text, &sets));
                    match ok {
                        Ok(Ok(_)) => break,
                        Ok(Err(_)) => {
                            sets.pop();
                        }
                        Err(p) => {
                            failures.push(format!(
                                "{name} --set {}: validate panicked: {}",
                                sets.iter()
                                    .map(|o| o.raw.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" --set "),
                                panic_text(&*p)
                            ));
                            sets.pop();
                        }
                    }
                }
            }
            passes += 1;
            kept_total += sets.len();
            let shown = || {
                sets.iter()
                    .map(|o| format!("--set '{}'", o.raw))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let scn = scenario::parse(&name, &text, &sets).unwrap_or_else(|e| {
                panic!(
                    "{name} {}: accepted key by key, refused at once: {e}",
                    shown()
                )
            });
            if let Err(e) = run_short(&scn) {
                failures.push(format!("{name} pass {pass} {}: {e}", shown()));
            }
        }
    }
    eprintln!(
        "edges at once: {passes} scenarios with {kept_total} keys at an edge in all, in {:.1?}; {} failures",
        started.elapsed(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
