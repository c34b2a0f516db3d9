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
                Err(format!(
                    "a percentile must be between 0 and 100, found {}",
                    crate::scenario::error::number(x)
                ))
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
                let latency = matches!(o.measure, Measure::Quantile(_) | Measure::Mean | Measure::Max);
                let rows: Vec<_> = rec.windows.iter().filter(|r| r.total > 0 || !latency).collect();
                // A window in which requests ended but none was served has failed every latency
                // objective: its users waited for nothing (there is no latency to measure, and
                // dropping the window would let a site that answered nobody pass).
                let unserved = if latency { rows.iter().filter(|r| r.ok == 0).count() } else { 0 };
                let values: Vec<f64> = rows
                    .iter()
                    .map(|r| value_of(o.measure, r, as_secs_f64(w), cost_per_month))
                    .filter(|v| !v.is_nan())
                    .collect();
                let failing = values.iter().filter(|v| !o.holds(**v)).count() + unserved;
                let evaluated = values.len() + unserved;
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
                    windows: Some((failing, evaluated)),
                    note: if evaluated == 0 {
                        Some("no window had requests to measure".into())
                    } else if unserved > 0 {
                        Some(format!(
                            "{unserved} of {evaluated} windows of {} served nobody{}",
                            Duration(w),
                            if values.is_empty() {
                                String::new()
                            } else {
                                format!("; worst of the other {}", values.len())
                            }
                        ))
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
                // Only for a stationary run: with faults, spikes or a daily curve the sub-periods
                // differ by design, and their spread says nothing about another seed's.
                let steady = run.unsteady.is_none();
                let noise = (steady && batch.len() >= 5 && o.measure != Measure::CostPerMonth).then(|| {
                    let n = batch.len() as f64;
                    let m = batch.iter().sum::<f64>() / n;
                    let var = batch.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
                    (var / n).sqrt()
                });
                let passed = !v.is_nan() && o.holds(v);
                let margin = if v.is_nan() { f64::NAN } else { o.margin(v) };
                let relative = if o.threshold != 0.0 { (margin / o.threshold).abs() } else { f64::INFINITY };
                let note = if v.is_nan() {
                    Some("no successful requests to measure".into())
                } else if let (Some(why), true) = (&run.unsteady, relative < 0.25) {
                    Some(format!(
                        "close to the line, and one run cannot say how much another seed would move it: the run is not stationary ({why}), so its sub-periods differ by design; compare a few seeds (`--seed`)"
                    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{MIN, MS, SEC};
    use crate::metrics::{SloRecorder, Summary};

    const LT: Bound = Bound::Below { inclusive: false };
    const LE: Bound = Bound::Below { inclusive: true };
    const GT: Bound = Bound::Above { inclusive: false };
    const GE: Bound = Bound::Above { inclusive: true };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    /// An objective from its compact form (classes "browse" = 0, "buy" = 1).
    fn objective(text: &str) -> Objective {
        let (class, measure, bound, threshold, every) =
            parse_compact(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        Objective {
            label: text.into(),
            measure,
            bound,
            threshold,
            class: class.map(|c| match c.as_str() {
                "browse" => 0,
                "buy" => 1,
                other => panic!("class {other}"),
            }),
            every,
        }
    }

    #[test]
    fn the_compact_form_reads_class_metric_comparison_value_and_window() {
        /// (text, class, measure, bound, threshold, window).
        type Case<'a> = (&'a str, Option<&'a str>, Measure, Bound, f64, Option<Time>);
        let cases: [Case; 9] = [
            (
                "p(99) < 300ms",
                None,
                Measure::Quantile(0.99),
                LT,
                300.0,
                None,
            ),
            (
                "error_rate < 0.1%",
                None,
                Measure::ErrorRate,
                LT,
                0.001,
                None,
            ),
            (
                "buy: p(95) < 800ms every 5m",
                Some("buy"),
                Measure::Quantile(0.95),
                LT,
                800.0,
                Some(5 * MIN),
            ),
            ("p99 <= 1s", None, Measure::Quantile(0.99), LE, 1000.0, None),
            (
                "availability >= 0.999",
                None,
                Measure::Availability,
                GE,
                0.999,
                None,
            ),
            (
                "throughput > 100/s",
                None,
                Measure::Throughput,
                GT,
                100.0,
                None,
            ),
            (
                "cost_per_month < $500",
                None,
                Measure::CostPerMonth,
                LT,
                500.0,
                None,
            ),
            ("  mean<50ms  ", None, Measure::Mean, LT, 50.0, None),
            (
                "p(97.5) < 2.5s",
                None,
                Measure::Quantile(0.975),
                LT,
                2500.0,
                None,
            ),
        ];
        for (text, class, measure, bound, threshold, every) in cases {
            let (c, m, b, t, e) = parse_compact(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                (c.as_deref(), m, b, e),
                (class, measure, bound, every),
                "{text}"
            );
            assert!(close(t, threshold), "{text}: {t}");
        }
    }

    #[test]
    fn malformed_compact_objectives_say_what_is_wrong() {
        let err = |text: &str| parse_compact(text).expect_err(text);
        assert_eq!(
            err("p(99) 300ms"),
            "`p(99) 300ms` has no comparison; write it like \"p(99) < 300ms\""
        );
        assert_eq!(
            err("p(100) < 1s"),
            "a percentile must be between 0 and 100, found 100"
        );
        assert_eq!(
            err("p(abc) < 1s"),
            "`p(abc)` is not a percentile like p(99)"
        );
        assert!(err("latency < 1s").starts_with("unknown metric `latency`"));
        assert!(err("p99 < fast").contains("fast"));
        assert_eq!(
            err("cost < 500"),
            "expected a monthly cost like \"$500\", found \"500\""
        );
        assert!(err("error_rate < 150%").contains("between 0 and 1"));
        assert!(err("p99 < 1s every soon").contains("soon"));
    }

    #[test]
    fn metric_names_and_their_aliases() {
        let cases = [
            ("p50", Measure::Quantile(0.5)),
            ("P90", Measure::Quantile(0.9)),
            ("p999", Measure::Quantile(0.999)),
            ("median", Measure::Quantile(0.5)),
            ("avg", Measure::Mean),
            ("max", Measure::Max),
            ("errors", Measure::ErrorRate),
            ("goodput", Measure::Throughput),
            ("cost", Measure::CostPerMonth),
        ];
        for (name, want) in cases {
            assert_eq!(Measure::parse(name), Ok(want), "{name}");
        }
    }

    #[test]
    fn a_bound_holds_strictly_or_inclusively_and_the_margin_is_headroom() {
        let at = |bound: Bound| Objective {
            label: String::new(),
            measure: Measure::Mean,
            bound,
            threshold: 300.0,
            class: None,
            every: None,
        };
        // At the threshold: only the inclusive bounds hold.
        let held: Vec<bool> = [LT, LE, GT, GE]
            .iter()
            .map(|&b| at(b).holds(300.0))
            .collect();
        assert_eq!(held, vec![false, true, false, true]);
        assert!(at(LT).holds(299.9) && !at(GT).holds(299.9));
        assert_eq!(at(LT).margin(250.0), 50.0);
        assert_eq!(at(GT).margin(250.0), -50.0);
        assert_eq!(at(LE).target(), "≤ 300.0 ms");
        assert_eq!(at(GT).target(), "> 300.0 ms");
    }

    /// A window summary of `total` requests, `ok` of them successful.
    fn summary(ok: u64, total: u64) -> Summary {
        Summary {
            start: 0,
            ok,
            total,
            q: (0.99, 250.0),
            mean: 120.0,
            max: 900.0,
        }
    }

    #[test]
    fn values_come_from_a_window_summary() {
        let s = summary(98, 100);
        let v = |m| value_of(m, &s, 10.0, 42.0);
        assert_eq!(v(Measure::Quantile(0.99)), 250.0);
        assert_eq!(v(Measure::Mean), 120.0);
        assert_eq!(v(Measure::Max), 900.0);
        assert!(close(v(Measure::ErrorRate), 0.02));
        assert!(close(v(Measure::Availability), 0.98));
        assert!(close(v(Measure::Throughput), 9.8));
        assert_eq!(v(Measure::CostPerMonth), 42.0);
        // Nothing ended: nothing failed.
        let empty = summary(0, 0);
        assert_eq!(value_of(Measure::ErrorRate, &empty, 10.0, 0.0), 0.0);
        assert_eq!(value_of(Measure::Availability, &empty, 10.0, 0.0), 1.0);
    }

    #[test]
    fn exactly_the_promised_availability_meets_an_inclusive_objective() {
        // 999 of 1,000 requests succeed: availability 999 / 1000 = 0.999, which meets
        // "availability >= 99.9%". (99.9 / 100 in floating point is 0.9990000000000001, above
        // 0.999: percentages are read as the decimal shifted, "99.9e-2", which is 0.999.)
        let o = objective("availability >= 99.9%");
        let v = value_of(o.measure, &summary(999, 1000), 1.0, 0.0);
        assert_eq!(v, 0.999);
        assert!(o.holds(v), "threshold {}", o.threshold);
    }

    /// A run's output whose SLO recorders have seen a synthetic 100 s (after a warm-up of 0):
    /// request i (0..100) ends at i + 0.5 s. Every tenth (i % 10 == 9) is a "buy" taking 900 ms;
    /// the others are "browse", 100 ms, except i = 55 (500 ms) and i = 97, 98 (failed).
    /// Totals: 100 requests, 98 successful; the run cost $0.01.
    fn synthetic(objectives: &[Objective]) -> crate::run::RunOutput {
        let duration = 100 * SEC;
        let mut recorders: Vec<SloRecorder> = objectives
            .iter()
            .map(|o| {
                let q = match o.measure {
                    Measure::Quantile(q) => q,
                    _ => 0.99,
                };
                SloRecorder::new(o.class, q, o.every, 0, duration)
            })
            .collect();
        for i in 0..100u64 {
            let now = i * SEC + 500 * MS;
            let (class, latency) = match i {
                _ if i % 10 == 9 => (1, 900 * MS),
                55 => (0, 500 * MS),
                _ => (0, 100 * MS),
            };
            let ok = !matches!(i, 97 | 98);
            for r in &mut recorders {
                r.record(now, class, ok, latency);
            }
        }
        for r in &mut recorders {
            r.finish(duration, 0);
        }
        // Any real run gives the rest of the output; only the recorders, the measured period
        // and the cost are read.
        let text = "[scenario]\nname = \"t\"\nduration = \"1s\"\n[workload]\nusers = 1\n\
                    [components.db]\nkind = \"server\"\ninstance = \"c5.large\"\n\
                    service = { dist = \"exponential\", mean = \"20ms\" }\n";
        let scn = crate::scenario::parse("test", text, &[]).unwrap_or_else(|e| panic!("{e}"));
        let mut out = crate::run::run(&scn, &mut |_| {});
        out.metrics.slo = recorders;
        out.measured = duration;
        out.cost = 0.01;
        out
    }

    #[test]
    fn objectives_are_evaluated_over_the_whole_run_per_class_and_per_window() {
        let objectives: Vec<Objective> = [
            // 98 successes: 87 × 100 ms, 1 × 500 ms, 10 × 900 ms. The 99th percentile is the
            // 98th value (ceil(0.99 × 98) = 98): 900 ms.
            "p(99) < 1s",
            "max < 800ms",
            // 2 of 100 failed.
            "error_rate < 1%",
            // 98 / 100 = 0.98, exactly at the inclusive threshold.
            "availability >= 98%",
            // Only the buys: all 900 ms.
            "buy: p(95) < 800ms",
            // Only the browses, in 10 s windows: the window 50–60 s holds the 500 ms one.
            "browse: p(99) < 300ms every 10s",
            // 98 successes in 100 s.
            "throughput > 0.9/s",
            // $0.01 in 100 s = $0.36/h × 730 h = $262.80 a month.
            "cost_per_month < $300",
        ]
        .iter()
        .map(|t| objective(t))
        .collect();
        let run = synthetic(&objectives);
        let v = evaluate(&objectives, &run);
        let passed: Vec<bool> = v.iter().map(|v| v.passed).collect();
        assert_eq!(
            passed,
            vec![true, false, false, true, false, false, true, true]
        );
        let near = |x: f64, want: f64, rel: f64| (x - want).abs() <= rel * want;
        assert!(near(v[0].measured, 900.0, 0.01), "{}", v[0].measured);
        assert!(near(v[1].measured, 900.0, 0.01), "{}", v[1].measured);
        assert!(close(v[2].measured, 0.02) && close(v[2].margin, -0.01));
        assert!(close(v[3].measured, 0.98) && v[3].margin == 0.0);
        assert!(near(v[4].measured, 900.0, 0.01));
        assert!(
            near(v[5].measured, 500.0, 0.01),
            "worst window {}",
            v[5].measured
        );
        assert_eq!(v[5].windows, Some((1, 10)));
        assert!(close(v[6].measured, 0.98));
        assert!(close(v[7].measured, 262.8), "{}", v[7].measured);
        assert!(close(v[7].margin, 37.2));
        assert_eq!(v[7].noise, None, "cost has no batch noise");
        // Batch means of the error rate: nine batches with none, the last with 2 of 10 (0.2):
        // mean 0.02, sample variance 0.036 / 9 = 0.004, standard error √(0.004 / 10) = 0.02.
        // The margin (−0.01) is within two of them: a note says so.
        let se = v[2].noise.expect("batch noise");
        assert!(close(se, 0.02), "{se}");
        assert!(v[2]
            .note
            .as_deref()
            .unwrap_or("")
            .starts_with("within the run's statistical noise"));
    }

    #[test]
    fn an_objective_with_nothing_to_measure_fails_and_says_why() {
        // Every request failed: no latency to measure, so the p99 objective cannot pass.
        let o = vec![objective("p(99) < 1s"), objective("p(99) < 1s every 10s")];
        let mut recorders: Vec<SloRecorder> = o
            .iter()
            .map(|o| SloRecorder::new(None, 0.99, o.every, 0, 100 * SEC))
            .collect();
        for r in &mut recorders {
            for i in 0..10 {
                r.record(i * SEC, 0, false, 0);
            }
            r.finish(100 * SEC, 0);
        }
        let mut run = synthetic(&[]);
        run.metrics.slo = recorders;
        let v = evaluate(&o, &run);
        assert!(!v[0].passed && v[0].measured.is_nan());
        assert_eq!(
            v[0].note.as_deref(),
            Some("no successful requests to measure")
        );
        // The requests all ended in the first 10 s window, which served nobody.
        assert_eq!(v[1].windows, Some((1, 1)));
        assert_eq!(
            v[1].note.as_deref(),
            Some("1 of 1 windows of 10s served nobody")
        );
    }

    #[test]
    fn a_windowed_latency_objective_with_no_successes_fails() {
        // Every request failed, one in each 10 s window of a 100 s run: "p(99) < 1s every 10s"
        // fails in all ten, since each window had requests and served none of them (it once dropped such windows, found 0 failing, and passed — a
        // shop that answered nothing met its windowed latency objective).
        let o = vec![objective("p(99) < 1s every 10s")];
        let mut r = SloRecorder::new(None, 0.99, o[0].every, 0, 100 * SEC);
        for i in 0..10 {
            r.record(i * 10 * SEC + SEC, 0, false, 0);
        }
        r.finish(100 * SEC, 0);
        let mut run = synthetic(&[]);
        run.metrics.slo = vec![r];
        let v = evaluate(&o, &run);
        assert!(!v[0].passed, "{:?}", v[0]);
        assert_eq!(v[0].windows, Some((10, 10)));
        assert_eq!(
            v[0].note.as_deref(),
            Some("10 of 10 windows of 10s served nobody")
        );
    }
}
