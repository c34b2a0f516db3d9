//! JSON Schema of scenario files, for editors (taplo / Even Better TOML, or any JSON Schema tool
//! fed the TOML converted to JSON). `scalesim schema` prints [`scenario_schema`].
//!
//! Most of it is derived (`schemars::JsonSchema`) from the same structs the loader deserializes,
//! so doc comments become descriptions and `deny_unknown_fields` becomes
//! `additionalProperties: false`. This file implements the schema by hand where the derive can't
//! say what the loader accepts:
//! - the unit newtypes ([`Duration`], [`Bytes`], [`Rate`], [`Price`], [`Fraction`]) parse strings
//!   with their own serde impls: here each is a string `pattern` mirroring its parser in
//!   `units.rs` (plus the bare integer 0 the parsers accept);
//! - [`ComponentConfig`] is dispatched on `kind` by hand in the loader, a fleet taking the group
//!   keys and every server key in one table: here each kind is a closed object (`kind` const,
//!   `additionalProperties: false`), combined with `oneOf`;
//! - [`DistConfig`] accepts the alias `dist = "constant"`, which the derive would drop;
//! - [`ObjectiveTable`]'s `below`/`above` are raw TOML values: here a string or a number.
//!
//! Schema and parsers can still differ in magnitudes (a duration over ~580 years, a size over
//! 2^64 B, a number that overflows to infinity) and in exotic whitespace; `tests/it/schema.rs` checks
//! the patterns against the parsers on generated strings.

use super::units::{Bytes, Dollars, Duration, Fraction, Price, Rate};
use super::{ComponentConfig, KindTag, COMPONENT_KINDS};
use crate::model::dist::DistConfig;
use crate::slo::ObjectiveTable;
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::Schema;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

/// The title of the root schema.
pub const TITLE: &str = "scalesim scenario";

/// The JSON Schema (draft-07) of a scenario file, as `scalesim schema` prints it
/// (`serde_json::to_string_pretty`).
///
/// Equivalent, for validation, to `schemars::schema_for!(ScenarioFile)`, with editor-oriented
/// differences: the title, no `null` alternatives for optional keys (TOML has no null), and
/// beside every `oneOf` of tagged tables (`kind`, `dist`, `policy`) the tag's values and an
/// `allOf` of `if tag == X then <table X>` (likewise `if table then <table>` for a string-or-table
/// objective), so a validator reports the misspelled key or the unknown tag itself rather than
/// only "matches none of the alternatives".
pub fn scenario_schema() -> Value {
    let settings = SchemaSettings::draft07().with(|s| s.option_add_null_type = false);
    let root = settings
        .into_generator()
        .into_root_schema_for::<super::ScenarioFile>();
    let mut v = serde_json::to_value(root).expect("a schema serializes");
    if let Some(obj) = v.as_object_mut() {
        obj.insert("title".into(), json!(TITLE));
        obj.insert(
            "description".into(),
            json!(
                "A scalesim scenario file (TOML). Key names, types and units are checked here; \
                 `scalesim validate` (and `run`, `check`) also checks names that refer to each \
                 other, ranges and combinations."
            ),
        );
    }
    let snapshot = v.clone();
    add_tag_hints(&mut v, &snapshot, "#");
    v
}

// ---------------------------------------------------------------------------------------------
// Unit newtypes: patterns mirroring the parsers in units.rs.
// ---------------------------------------------------------------------------------------------

/// An unsigned decimal mantissa (`1`, `1.`, `1.5`, `.5`); with `underscores`, `_` may appear
/// anywhere (the duration, size and rate parsers strip them) but not first.
fn mantissa_core(underscores: bool) -> &'static str {
    if underscores {
        r"(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]*[0-9][0-9_]*)"
    } else {
        r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    }
}

/// A mantissa that is zero (for `-0`, which the parsers' "negative" checks let through).
fn zero_core(underscores: bool) -> &'static str {
    if underscores {
        r"(?:0[0_]*(?:\.[0_]*)?|\.[0_]*0[0_]*)"
    } else {
        r"(?:0+(?:\.0*)?|\.0+)"
    }
}

/// A decimal exponent (`e3`, `E-2`), as Rust's `f64` parser takes it.
fn exponent(underscores: bool) -> &'static str {
    if underscores {
        r"[eE]_*[+-]?_*[0-9][0-9_]*"
    } else {
        r"[eE][+-]?[0-9]+"
    }
}

/// A number the parsers accept as non-negative: optional `+`, or `-` before a zero.
fn non_negative(underscores: bool, with_exponent: bool) -> String {
    let u = if underscores { "_*" } else { "" };
    let e = if with_exponent {
        format!("(?:{})?", exponent(underscores))
    } else {
        String::new()
    };
    format!(
        r"(?:(?:{u}\+)?{u}{m}{e}|{u}-{u}{z}{e})",
        m = mantissa_core(underscores),
        z = zero_core(underscores)
    )
}

/// Time units of `parse_duration`.
const DURATION_UNITS: &str = r"(?:ns|us|µs|μs|ms|s|sec|m|min|h|d)";

/// `parse_duration`: one or more `NUMBER UNIT` parts (`"1h30m"`), spaces allowed around each.
/// A part after the first starts with a digit or `.` (the parser splits the unit off there).
pub fn duration_pattern() -> String {
    format!(
        r"^\s*{first}\s*{u}(?:\s*{next}\s*{u})*\s*$",
        first = non_negative(true, false),
        next = mantissa_core(true),
        u = DURATION_UNITS
    )
}

/// `parse_bytes`: `NUMBER UNIT`.
pub fn bytes_pattern() -> String {
    format!(
        r"^\s*{n}\s*(?:B|b|KiB|MiB|GiB|TiB|KB|kB|MB|GB|TB)\s*$",
        n = non_negative(true, false)
    )
}

/// `parse_rate`: `NUMBER/UNIT` (the number may have an exponent and `_`).
pub fn rate_pattern() -> String {
    format!(
        r"^\s*{n}\s*/\s*(?:ns|us|µs|ms|s|sec|m|min|h|hour|d|day)\s*$",
        n = non_negative(true, true)
    )
}

/// `parse_price`: `$NUMBER/PERIOD`.
pub fn price_pattern() -> String {
    format!(
        r"^\s*\$\s*{n}\s*/\s*(?:h|hour|hr|month|mo|s)\s*$",
        n = non_negative(false, true)
    )
}

/// `parse_fraction_str`: a number in [0, 1] or a percentage in [0, 100] %. The range is checked
/// for plain decimals; a number with an exponent is only checked for its form.
pub fn fraction_pattern() -> String {
    let zero = format!("-{}", zero_core(false));
    let exp = format!(
        r"(?:\+?{m}|{zero}){e}",
        m = mantissa_core(false),
        e = exponent(false)
    );
    let unit = format!(r"(?:\+?(?:0*1(?:\.0*)?|0+(?:\.[0-9]*)?|\.[0-9]+)|{zero}|{exp})");
    let percent =
        format!(r"(?:\+?(?:0*100(?:\.0*)?|0*[0-9]{{1,2}}(?:\.[0-9]*)?|\.[0-9]+)|{zero}|{exp})");
    format!(r"^\s*(?:{unit}|{percent}\s*%)\s*$")
}

fn to_schema(v: Value) -> Schema {
    serde_json::from_value(v).expect("a valid schema")
}

/// A unit written as a string (`pattern`), or the bare integer 0.
fn unit_schema(description: &str, pattern: String, examples: &[&str]) -> Schema {
    to_schema(json!({
        "description": description,
        "examples": examples,
        "anyOf": [
            { "type": "string", "pattern": pattern },
            { "const": 0, "description": "Zero, written without a unit." }
        ]
    }))
}

impl JsonSchema for Duration {
    fn schema_name() -> String {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        unit_schema(
            "A span of time with a unit: \"150ms\", \"30s\", \"5m\", \"1h30m\", \"0s\" \
             (units ns, us, ms, s, m, h, d).",
            duration_pattern(),
            &["150ms", "30s", "1h30m"],
        )
    }
}

impl JsonSchema for Bytes {
    fn schema_name() -> String {
        "Bytes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        unit_schema(
            "A size with a unit: \"512MiB\", \"1.5GiB\", \"2GB\", \"0B\" \
             (units B, KiB, MiB, GiB, TiB, KB, MB, GB, TB).",
            bytes_pattern(),
            &["512MiB", "1.5GiB", "0B"],
        )
    }
}

impl JsonSchema for Rate {
    fn schema_name() -> String {
        "Rate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        unit_schema(
            "Events per unit of time: \"100/s\", \"6000/min\", \"50/h\", \"1_000/s\".",
            rate_pattern(),
            &["100/s", "6000/min"],
        )
    }
}

impl JsonSchema for Price {
    fn schema_name() -> String {
        "Price".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        unit_schema(
            "Dollars per hour or per month (730 h): \"$0.096/h\", \"$70/month\".",
            price_pattern(),
            &["$0.096/h", "$70/month"],
        )
    }
}

impl JsonSchema for Dollars {
    fn schema_name() -> String {
        "Dollars".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        unit_schema(
            "An amount of dollars: \"$3.50\", \"$0.0001\".",
            format!(r"^\s*\$\s*{n}\s*$", n = non_negative(false, true)),
            &["$3.50", "$0.0001"],
        )
    }
}

impl JsonSchema for Fraction {
    fn schema_name() -> String {
        "Fraction".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        to_schema(json!({
            "description": "A fraction in [0, 1]: a number (0.001) or a percentage (\"0.1%\").",
            "examples": [0.001, "0.1%"],
            "anyOf": [
                { "type": "number", "minimum": 0, "maximum": 1 },
                { "type": "string", "pattern": fraction_pattern() }
            ]
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Components: one closed object per kind, as the loader dispatches them.
// ---------------------------------------------------------------------------------------------

/// The derived (inline) object schema of `T`, as JSON.
/// The object schema of a struct (its `properties`, `required`, ...).
pub fn object_of<T: JsonSchema>(gen: &mut SchemaGenerator) -> Map<String, Value> {
    match serde_json::to_value(T::json_schema(gen)) {
        Ok(Value::Object(m)) => m,
        _ => unreachable!("a struct's schema is an object"),
    }
}

/// Adds `kind = "<kind>"` (required) to a closed object schema, with a description, and registers
/// it as a definition; returns a reference to it.
fn kind_variant(
    gen: &mut SchemaGenerator,
    name: &str,
    kind: &str,
    description: &str,
    mut obj: Map<String, Value>,
) -> Value {
    obj.insert("description".into(), json!(description));
    obj.insert("type".into(), json!("object"));
    obj.insert("additionalProperties".into(), json!(false));
    let props = obj
        .entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("properties is an object");
    let mut with_kind = Map::new();
    with_kind.insert(
        "kind".into(),
        json!({ "type": "string", "enum": [kind], "description": "The component kind." }),
    );
    with_kind.append(props);
    *props = with_kind;
    let required = obj
        .entry("required")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .expect("required is an array");
    required.insert(0, json!("kind"));
    gen.definitions_mut()
        .insert(name.to_string(), to_schema(Value::Object(obj)));
    json!({ "$ref": format!("{}{name}", gen.settings().definitions_path) })
}

impl JsonSchema for ComponentConfig {
    fn schema_name() -> String {
        "ComponentConfig".into()
    }
    fn json_schema(gen: &mut SchemaGenerator) -> Schema {
        let variants: Vec<Value> = KindTag::ALL
            .iter()
            .map(|&kind| {
                let (name, about, obj) = kind.schema(gen);
                kind_variant(gen, name, kind.name(), about, obj)
            })
            .collect();
        to_schema(json!({
            "description": "One component: its `kind` and that kind's keys.",
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {
                    "description": "What the component is.",
                    "type": "string",
                    "enum": COMPONENT_KINDS,
                }
            },
            "oneOf": variants,
        }))
    }
}

// ---------------------------------------------------------------------------------------------
// Mirrors of types whose derive would be wrong (an alias, a raw TOML value). Keep the docs and
// fields in step with the originals; tests/it/schema.rs compares their keys.
// ---------------------------------------------------------------------------------------------

/// A duration distribution as written in a scenario file.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
enum DistConfigSchema {
    /// Memoryless: `{ dist = "exponential", mean = "20ms" }`.
    Exponential {
        /// The mean.
        mean: Duration,
    },
    /// Always the same value: `{ dist = "deterministic", value = "20ms" }`.
    Deterministic {
        /// The value.
        value: Duration,
    },
    /// Another name for `deterministic`: `{ dist = "constant", value = "20ms" }`.
    Constant {
        /// The value.
        value: Duration,
    },
    /// Right-skewed, the usual shape of real service times: `{ dist = "lognormal", mean = "20ms", cv = 1.5 }`.
    Lognormal {
        /// The mean.
        mean: Duration,
        /// Coefficient of variation (standard deviation / mean), > 0.
        cv: f64,
    },
    /// Uniform between two values: `{ dist = "uniform", min = "10ms", max = "30ms" }`.
    Uniform {
        /// Lower bound.
        min: Duration,
        /// Upper bound.
        max: Duration,
    },
    /// Sum of `k` exponential phases (less variable than exponential): `{ dist = "erlang", mean = "20ms", k = 4 }`.
    Erlang {
        /// The mean.
        mean: Duration,
        /// Number of phases, ≥ 1.
        k: u32,
    },
}

impl JsonSchema for DistConfig {
    fn schema_name() -> String {
        "DistConfig".into()
    }
    fn json_schema(gen: &mut SchemaGenerator) -> Schema {
        DistConfigSchema::json_schema(gen)
    }
}

/// A threshold: a string with the metric's unit ("300ms", "0.1%", "100/s", "$500") or a number.
#[allow(dead_code)]
struct Threshold;

impl JsonSchema for Threshold {
    fn schema_name() -> String {
        "Threshold".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        to_schema(json!({
            "description": "A threshold in the metric's unit: \"300ms\", \"0.1%\", 0.001, \
                            \"100/s\", \"$500\".",
            "type": ["string", "number"]
        }))
    }
}

/// The table form of an objective.
#[allow(dead_code)]
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct ObjectiveTableSchema {
    /// "p50", "p90", "p95", "p99", "p999", "p(97.5)", "mean", "max", "error_rate",
    /// "availability", "throughput", "cost_per_month".
    metric: String,
    /// Upper bound (the objective holds when the metric is below it).
    below: Option<Threshold>,
    /// Lower bound (the objective holds when the metric is above it).
    above: Option<Threshold>,
    /// Only requests of this class.
    class: Option<String>,
    /// Evaluate in every window of this length after warm-up, instead of over the whole run.
    every: Option<Duration>,
    /// A name for reports. Default: the objective in compact form.
    name: Option<String>,
}

impl JsonSchema for ObjectiveTable {
    fn schema_name() -> String {
        "ObjectiveTable".into()
    }
    fn json_schema(gen: &mut SchemaGenerator) -> Schema {
        ObjectiveTableSchema::json_schema(gen)
    }
}

// ---------------------------------------------------------------------------------------------
// Tag hints: `if tag == X then <alternative X>` beside each tagged `oneOf`.
// ---------------------------------------------------------------------------------------------

/// The single value of `schema.properties[tag]` (`enum: [v]` or `const: v`), if `tag` is required.
fn tag_value<'a>(alt: &'a Value, tag: &str) -> Option<&'a Value> {
    let required = alt.get("required")?.as_array()?;
    if !required.iter().any(|r| r == tag) {
        return None;
    }
    let p = alt.get("properties")?.get(tag)?;
    match (p.get("const"), p.get("enum").and_then(Value::as_array)) {
        (Some(c), _) => Some(c),
        (None, Some(e)) if e.len() == 1 => Some(&e[0]),
        _ => None,
    }
}

/// Follows a local `$ref` (`#/definitions/X`) in `root`.
fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|ptr| root.pointer(ptr))
            .unwrap_or(v),
        None => v,
    }
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Whether `alt` is (a reference to) a table schema.
fn is_table(root: &Value, alt: &Value) -> bool {
    let r = resolve(root, alt);
    if r.get("type") == Some(&json!("object")) {
        return true;
    }
    match r.get("allOf").and_then(Value::as_array) {
        Some(all) if all.len() == 1 && r.get("type").is_none() => is_table(root, &all[0]),
        _ => false,
    }
}

/// Walks `v` (at JSON pointer `at` in `root`); to every `oneOf` whose alternatives all carry the
/// same required tag with one value, adds `allOf: [{ if: tag == value, then: alternative }]`
/// (and the tag's values, so an unknown one is named); to every `anyOf`/`oneOf` with one table
/// alternative among non-tables (an objective: a string or a table), `if: table, then: it`.
fn add_tag_hints(v: &mut Value, root: &Value, at: &str) {
    match v {
        Value::Object(obj) => {
            for key in ["anyOf", "oneOf"] {
                let Some(Value::Array(alts)) = obj.get(key) else {
                    continue;
                };
                let tables: Vec<usize> = (0..alts.len())
                    .filter(|&i| is_table(root, &alts[i]))
                    .collect();
                if let [i] = tables[..] {
                    if alts.len() > 1 {
                        let hint = json!({
                            "if": { "type": "object" },
                            "then": { "$ref": format!("{at}/{key}/{i}") }
                        });
                        match obj.get_mut("allOf") {
                            Some(Value::Array(all)) => all.push(hint),
                            _ => {
                                obj.insert("allOf".into(), json!([hint]));
                            }
                        }
                    }
                }
            }
            if let Some(Value::Array(alts)) = obj.get("oneOf") {
                let resolved: Vec<&Value> = alts.iter().map(|a| resolve(root, a)).collect();
                let tag = resolved
                    .first()
                    .and_then(|a| a.get("properties"))
                    .and_then(Value::as_object)
                    .and_then(|props| {
                        props.keys().find(|k| {
                            resolved
                                .iter()
                                .all(|a| tag_value(a, k).is_some_and(Value::is_string))
                        })
                    })
                    .cloned();
                if let Some(tag) = tag {
                    // The tag's values, so that an unknown one is reported as such.
                    let values: Vec<Value> = resolved
                        .iter()
                        .filter_map(|r| tag_value(r, &tag).cloned())
                        .collect();
                    let hints: Vec<Value> = alts
                        .iter()
                        .zip(&resolved)
                        .enumerate()
                        .map(|(i, (alt, r))| {
                            let then = if alt.get("$ref").is_some() {
                                alt.clone()
                            } else {
                                json!({ "$ref": format!("{at}/oneOf/{i}") })
                            };
                            json!({
                                "if": {
                                    "properties": { &tag: { "const": tag_value(r, &tag) } },
                                    "required": [&tag]
                                },
                                "then": then
                            })
                        })
                        .collect();
                    match obj.get_mut("allOf") {
                        Some(Value::Array(all)) => all.extend(hints),
                        _ => {
                            obj.insert("allOf".into(), Value::Array(hints));
                        }
                    }
                    if let Value::Object(props) =
                        obj.entry("properties").or_insert_with(|| json!({}))
                    {
                        props
                            .entry(tag.as_str())
                            .or_insert_with(|| json!({ "type": "string", "enum": values }));
                    }
                    if let Value::Array(required) =
                        obj.entry("required").or_insert_with(|| json!([]))
                    {
                        if !required.iter().any(|r| r == tag.as_str()) {
                            required.push(json!(tag));
                        }
                    }
                }
            }
            for (k, child) in obj.iter_mut() {
                if matches!(k.as_str(), "enum" | "const" | "default" | "examples") {
                    continue;
                }
                add_tag_hints(child, root, &format!("{at}/{}", pointer_escape(k)));
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                add_tag_hints(child, root, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}
