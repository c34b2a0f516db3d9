//! Service-level objectives: how they are written in scenario files, checked, and evaluated
//! against a run.
//!
//! Two ways to write one, mixable in `[slo] objectives = [...]`:
//! - compact, as load-testing tools do: `"p(99) < 300ms"`, `"error_rate < 0.1%"`,
//!   `"buy: p(95) < 800ms"` (a request class), `"p99 < 300ms every 5m"` (in every 5-minute window
//!   after warm-up), `"availability > 99.9%"`, `"throughput > 100/s"`, `"cost_per_month < $500"`;
//! - a table: `{ metric = "p99", below = "300ms", class = "buy", every = "5m" }`.
//!
//! Shorthands for the common ones: `[slo] p99 = "300ms"`, `error_rate = 0.001`.

use crate::engine::time::{as_secs_f64, Time};
use crate::scenario::units::{self, Duration, Fraction};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `[slo]` in a scenario file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// Objectives, compact strings or tables.
    #[serde(default)]
    pub objectives: Vec<ObjectiveConfig>,
    /// Shorthand for `"p(50) < VALUE"`.
    pub p50: Option<Duration>,
    /// Shorthand for `"p(95) < VALUE"`.
    pub p95: Option<Duration>,
    /// Shorthand for `"p(99) < VALUE"`.
    pub p99: Option<Duration>,
    /// Shorthand for `"p(99.9) < VALUE"`.
    pub p999: Option<Duration>,
    /// Shorthand for `"error_rate < VALUE"`.
    pub error_rate: Option<Fraction>,
    /// Shorthand for `"availability > VALUE"`.
    pub availability: Option<Fraction>,
}

/// One objective as written.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ObjectiveConfig {
    /// `"p(99) < 300ms"`.
    Compact(String),
    /// `{ metric = "p99", below = "300ms" }`.
    Table(ObjectiveTable),
}

/// The table form of an objective.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveTable {
    /// "p50", "p90", "p95", "p99", "p999", "p(97.5)", "mean", "max", "error_rate",
    /// "availability", "throughput", "cost_per_month".
    pub metric: String,
    /// Upper bound (the objective holds when the metric is below it).
    pub below: Option<toml::Value>,
    /// Lower bound (the objective holds when the metric is above it).
    pub above: Option<toml::Value>,
    /// Only requests of this class.
    pub class: Option<String>,
    /// Evaluate in every window of this length after warm-up, instead of over the whole run.
    pub every: Option<Duration>,
    /// A name for reports. Default: the objective in compact form.
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for ObjectiveConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ObjectiveConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an objective like \"p(99) < 300ms\" or { metric = \"p99\", below = \"300ms\" }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ObjectiveConfig, E> {
                Ok(ObjectiveConfig::Compact(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<ObjectiveConfig, A::Error> {
                ObjectiveTable::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(ObjectiveConfig::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// What an objective measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Measure {
    /// A latency quantile (0..1) of successful requests, ms.
    Quantile(f64),
    /// Mean latency of successful requests, ms.
    Mean,
    /// Largest latency, ms.
    Max,
    /// Failed fraction.
    ErrorRate,
    /// Successful fraction.
    Availability,
    /// Successful requests per second.
    Throughput,
    /// Dollars per month at the run's rate.
    CostPerMonth,
}

/// Which way the bound goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// The metric must stay below (or at, with `inclusive`) the threshold.
    Below {
        /// `<=` rather than `<`.
        inclusive: bool,
    },
    /// The metric must stay above (or at) the threshold.
    Above {
        /// `>=` rather than `>`.
        inclusive: bool,
    },
}

/// A checked objective.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// How reports name it.
    pub label: String,
    /// What it measures.
    pub measure: Measure,
    /// Which way.
    pub bound: Bound,
    /// Threshold in the measure's unit (ms, fraction, requests/s, $/month).
    pub threshold: f64,
    /// Only this class (index into the workload's classes).
    pub class: Option<u16>,
    /// Evaluated in every window of this length after warm-up.
    pub every: Option<Time>,
}

impl Measure {
    /// Parses a metric name: p50, p99, p999, p(97.5), mean/avg, max, error_rate, availability,
    /// throughput, cost_per_month.
    pub fn parse(name: &str) -> Result<Measure, String> {
        let n = name.trim().to_ascii_lowercase();
        let q = |x: f64| -> Result<Measure, String> {
            if x > 0.0 && x < 100.0 {
                Ok(Measure::Quantile(x / 100.0))
            } else {
                Err(format!("a percentile must be between 0 and 100, found {x}"))
            }
        };
        match n.as_str() {
            "mean" | "avg" => return Ok(Measure::Mean),
            "max" => return Ok(Measure::Max),
            "error_rate" | "errors" => return Ok(Measure::ErrorRate),
            "availability" => return Ok(Measure::Availability),
            "throughput" | "goodput" => return Ok(Measure::Throughput),
            "cost_per_month" | "cost" => return Ok(Measure::CostPerMonth),
            "med" | "median" => return Ok(Measure::Quantile(0.5)),
            "p999" => return Ok(Measure::Quantile(0.999)),
            _ => {}
        }
        if let Some(inner) = n.strip_prefix("p(").and_then(|r| r.strip_suffix(')')) {
            return q(inner
                .trim()
                .parse()
                .map_err(|_| format!("`{name}` is not a percentile like p(99)"))?);
        }
        if let Some(digits) = n.strip_prefix('p') {
            if let Ok(x) = digits.parse::<f64>() {
                return q(x);
            }
        }
        Err(format!(
            "unknown metric `{name}`; use p50, p90, p95, p99, p999, p(N), mean, max, error_rate, availability, throughput or cost_per_month"
        ))
    }

    /// Parses a threshold written for this measure into its unit.
    pub fn threshold(self, text: &str) -> Result<f64, String> {
        match self {
            Measure::Quantile(_) | Measure::Mean | Measure::Max => {
                units::parse_duration(text).map(|ns| ns as f64 / 1e6)
            }
            Measure::ErrorRate | Measure::Availability => units::parse_fraction_str(text),
            Measure::Throughput => units::parse_rate(text),
            Measure::CostPerMonth => {
                let t = text.trim();
                let t = t.strip_suffix("/month").unwrap_or(t);
                let v = t.strip_prefix('$').ok_or_else(|| {
                    format!("expected a monthly cost like \"$500\", found \"{text}\"")
                })?;
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| *x >= 0.0 && x.is_finite())
                    .ok_or_else(|| {
                        format!("expected a monthly cost like \"$500\", found \"{text}\"")
                    })
            }
        }
    }

    /// The measure's unit, for tables.
    pub fn format(self, v: f64) -> String {
        if v.is_nan() {
            return "—".into();
        }
        match self {
            Measure::Quantile(_) | Measure::Mean | Measure::Max if v.abs() >= 1000.0 => {
                format!("{:.2} s", v / 1000.0)
            }
            Measure::Quantile(_) | Measure::Mean | Measure::Max => format!("{v:.1} ms"),
            Measure::ErrorRate | Measure::Availability => format!("{:.3} %", v * 100.0),
            Measure::Throughput => format!("{v:.2}/s"),
            Measure::CostPerMonth => format!("${v:.2}"),
        }
    }
}

/// A parsed compact objective: (class, measure, bound, threshold, every).
pub type Compact = (Option<String>, Measure, Bound, f64, Option<Time>);

/// Parses the compact form: `[CLASS:] METRIC OP VALUE [every DURATION]`.
pub fn parse_compact(text: &str) -> Result<Compact, String> {
    let mut s = text.trim();
    let mut every = None;
    if let Some(i) = s.find(" every ") {
        every = Some(units::parse_duration(&s[i + 7..])?);
        s = s[..i].trim();
    }
    let ops = ["<=", ">=", "<", ">"];
    let (pos, op) = ops
        .iter()
        .filter_map(|op| s.find(op).map(|p| (p, *op)))
        .min_by_key(|(p, op)| (*p, std::cmp::Reverse(op.len())))
        .ok_or_else(|| format!("`{text}` has no comparison; write it like \"p(99) < 300ms\""))?;
    let (lhs, rhs) = (s[..pos].trim(), s[pos + op.len()..].trim());
    let (class, metric) = match lhs.split_once(':') {
        Some((c, m)) => (Some(c.trim().to_string()), m.trim()),
        None => (None, lhs),
    };
    let measure = Measure::parse(metric)?;
    let bound = match op {
        "<" => Bound::Below { inclusive: false },
        "<=" => Bound::Below { inclusive: true },
        ">" => Bound::Above { inclusive: false },
        _ => Bound::Above { inclusive: true },
    };
    let threshold = measure.threshold(rhs.trim_matches('"'))?;
    Ok((class, measure, bound, threshold, every))
}

/// One objective's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The objective.
    pub objective: Objective,
    /// The measured value (the worst window's, for windowed objectives); NaN if nothing to measure.
    pub measured: f64,
    /// Headroom in the measure's unit: positive passes, negative fails.
    pub margin: f64,
    /// Met?
    pub passed: bool,
    /// Standard error of the measurement from batch means, when it could be estimated.
    pub noise: Option<f64>,
    /// For windowed objectives: (windows failing, windows evaluated).
    pub windows: Option<(usize, usize)>,
    /// A remark for humans ("within the run's statistical noise", "no successful requests").
    pub note: Option<String>,
}

impl Objective {
    /// Headroom of a value: positive when the objective holds.
    pub fn margin(&self, v: f64) -> f64 {
        match self.bound {
            Bound::Below { .. } => self.threshold - v,
            Bound::Above { .. } => v - self.threshold,
        }
    }

    /// Whether a value meets the objective.
    pub fn holds(&self, v: f64) -> bool {
        match self.bound {
            Bound::Below { inclusive: true } => v <= self.threshold,
            Bound::Below { inclusive: false } => v < self.threshold,
            Bound::Above { inclusive: true } => v >= self.threshold,
            Bound::Above { inclusive: false } => v > self.threshold,
        }
    }

    /// Formats the target: "< 300.0 ms".
    pub fn target(&self) -> String {
        let op = match self.bound {
            Bound::Below { inclusive: false } => "<",
            Bound::Below { inclusive: true } => "≤",
            Bound::Above { inclusive: false } => ">",
            Bound::Above { inclusive: true } => "≥",
        };
        format!("{op} {}", self.measure.format(self.threshold))
    }
}

/// Value of `m` from a window summary (see [`crate::metrics::Summary`]).
pub fn value_of(m: Measure, s: &crate::metrics::Summary, secs: f64, cost_per_month: f64) -> f64 {
    let errors = s.total.saturating_sub(s.ok);
    match m {
        Measure::Quantile(q) => s.quantile_ms(q),
        Measure::Mean => s.mean_ms(),
        Measure::Max => s.quantile_ms(1.0),
        Measure::ErrorRate => {
            if s.total == 0 {
                0.0
            } else {
                errors as f64 / s.total as f64
            }
        }
        Measure::Availability => {
            if s.total == 0 {
                1.0
            } else {
                s.ok as f64 / s.total as f64
            }
        }
        Measure::Throughput => s.ok as f64 / secs.max(1e-9),
        Measure::CostPerMonth => cost_per_month,
    }
}

/// Evaluates every objective of a run.
pub fn evaluate(objectives: &[Objective], run: &crate::run::RunOutput) -> Vec<Verdict> {
    let f = crate::report::results::figures(run);
    let secs = as_secs_f64(run.measured);
    let hours = secs / 3600.0;
    let cost_per_month = if hours > 0.0 {
        f.cost / hours * units::HOURS_PER_MONTH
    } else {
        0.0
    };
    objectives
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let rec = &run.metrics.slo[i];
            let whole = &rec.whole;
            if let Some(w) = o.every {
                let rows: Vec<_> = rec.windows.iter().filter(|r| r.total > 0 || !matches!(o.measure, Measure::Quantile(_) | Measure::Mean | Measure::Max)).collect();
                let values: Vec<f64> = rows
                    .iter()
                    .map(|r| value_of(o.measure, r, as_secs_f64(w), cost_per_month))
                    .filter(|v| !v.is_nan())
                    .collect();
                let failing = values.iter().filter(|v| !o.holds(**v)).count();
                let worst = values
                    .iter()
                    .copied()
                    .min_by(|a, b| o.margin(*a).partial_cmp(&o.margin(*b)).expect("finite margins"))
                    .unwrap_or(f64::NAN);
                let passed = failing == 0;
                Verdict {
                    objective: o.clone(),
                    measured: worst,
                    margin: if worst.is_nan() { f64::NAN } else { o.margin(worst) },
                    passed,
                    noise: None,
                    windows: Some((failing, values.len())),
                    note: if values.is_empty() {
                        Some("no window had requests to measure".into())
                    } else {
                        Some(format!("worst of {} windows of {}", values.len(), Duration(w)))
                    },
                }
            } else {
                let v = value_of(o.measure, whole, secs, cost_per_month);
                // Batch means: the spread of the 10 sub-period values estimates the noise.
                let batch: Vec<f64> = rec
                    .batches
                    .iter()
                    .map(|r| value_of(o.measure, r, secs / rec.batches.len().max(1) as f64, cost_per_month))
                    .filter(|x| !x.is_nan())
                    .collect();
                let noise = (batch.len() >= 5 && o.measure != Measure::CostPerMonth).then(|| {
                    let n = batch.len() as f64;
                    let m = batch.iter().sum::<f64>() / n;
                    let var = batch.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
                    (var / n).sqrt()
                });
                let passed = !v.is_nan() && o.holds(v);
                let margin = if v.is_nan() { f64::NAN } else { o.margin(v) };
                let note = if v.is_nan() {
                    Some("no successful requests to measure".into())
                } else {
                    noise.filter(|se| margin.abs() < 2.0 * se).map(|se| {
                        format!(
                            "within the run's statistical noise (±{} at 2 SE): another seed may flip it; run longer or with replications",
                            o.measure.format(2.0 * se)
                        )
                    })
                };
                Verdict { objective: o.clone(), measured: v, margin, passed, noise, windows: None, note }
            }
        })
        .collect()
}
