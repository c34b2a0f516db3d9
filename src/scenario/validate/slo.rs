//! `[slo]`: service-level objectives, in compact or table form, resolved to measures on classes.

use super::context::{at_key, k, Checker};
use crate::scenario::error::Seg;

/// The class names objectives may name: the mix's (or "request"), then the bots'.
pub(super) fn classes_for_slo(
    mix: &[crate::model::client::ClassConfig],
    bots: &[crate::model::client::BotConfig],
) -> Vec<String> {
    let mut v: Vec<String> = mix.iter().map(|m| m.name.clone()).collect();
    if v.is_empty() {
        v.push("request".into());
    }
    v.extend(bots.iter().map(|b| b.name.clone()));
    v
}

/// Checks `[slo]`: shorthands first, then objectives in file order.
pub(super) fn check(
    c: &mut Checker,
    slo: Option<&crate::slo::SloConfig>,
    classes: &[String],
) -> Vec<crate::slo::Objective> {
    use crate::slo::{parse_compact, Bound, Measure, Objective, ObjectiveConfig};
    let Some(cfg) = slo else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let sp = [k("slo")];
    let below = Bound::Below { inclusive: false };
    let mut short = |key: &str, measure: Measure, bound: Bound, threshold: f64, text: String| {
        let _ = key;
        out.push(Objective {
            label: text,
            measure,
            bound,
            threshold,
            class: None,
            every: None,
        });
    };
    for (key, q, v) in [
        ("p50", 0.5, cfg.p50),
        ("p95", 0.95, cfg.p95),
        ("p99", 0.99, cfg.p99),
        ("p999", 0.999, cfg.p999),
    ] {
        if let Some(d) = v {
            short(
                key,
                Measure::Quantile(q),
                below,
                d.0 as f64 / 1e6,
                format!("{key} < {d}"),
            );
        }
    }
    if let Some(f) = cfg.error_rate {
        short(
            "error_rate",
            Measure::ErrorRate,
            below,
            f.0,
            format!("error_rate < {}%", f.0 * 100.0),
        );
    }
    if let Some(f) = cfg.availability {
        short(
            "availability",
            Measure::Availability,
            Bound::Above { inclusive: true },
            f.0,
            format!("availability ≥ {}%", f.0 * 100.0),
        );
    }
    let class_index = |c: &mut Checker, path: &[Seg], name: &str| -> Option<u16> {
        match classes.iter().position(|n| n == name) {
            Some(i) => Some(i as u16),
            None => {
                let help =
                    match crate::scenario::error::nearest(name, classes.iter().map(String::as_str))
                    {
                        Some(n) => format!("did you mean \"{n}\"? classes: {}", classes.join(", ")),
                        None => format!("classes: {}", classes.join(", ")),
                    };
                c.err(
                    path,
                    format!("there is no request class \"{name}\""),
                    Some(help),
                );
                None
            }
        }
    };
    for (i, o) in cfg.objectives.iter().enumerate() {
        let p = vec![sp[0].clone(), k("objectives"), Seg::Index(i)];
        match o {
            ObjectiveConfig::Compact(text) => match parse_compact(text) {
                Ok((class, measure, bound, threshold, every)) => {
                    let class = match class {
                        Some(n) => match class_index(c, &p, &n) {
                            Some(x) => Some(x),
                            None => continue,
                        },
                        None => None,
                    };
                    if every.is_some_and(|w| w < crate::engine::time::SEC) {
                        c.err(&p, "an `every` window must be at least 1s", None);
                    }
                    out.push(Objective { label: text.trim().to_string(), measure, bound, threshold, class, every });
                }
                Err(e) => c.err(&p, e, Some("e.g. \"p(99) < 300ms\", \"error_rate < 0.1%\", \"buy: p(95) < 800ms every 5m\"".into())),
            },
            ObjectiveConfig::Table(t) => {
                let measure = match Measure::parse(&t.metric) {
                    Ok(m) => m,
                    Err(e) => {
                        c.err(&at_key(&p, "metric"), e, None);
                        continue;
                    }
                };
                let (bound, raw, key) = match (&t.below, &t.above) {
                    (Some(v), None) => (Bound::Below { inclusive: false }, v, "below"),
                    (None, Some(v)) => (Bound::Above { inclusive: false }, v, "above"),
                    _ => {
                        c.err(&p, "give exactly one of `below` or `above`", None);
                        continue;
                    }
                };
                let text = match raw {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    other => other.to_string(),
                };
                let threshold = match measure.threshold(&text) {
                    Ok(x) => x,
                    Err(e) => {
                        c.err(&at_key(&p, key), e, None);
                        continue;
                    }
                };
                let class = match &t.class {
                    Some(n) => match class_index(c, &at_key(&p, "class"), n) {
                        Some(x) => Some(x),
                        None => continue,
                    },
                    None => None,
                };
                let every = t.every.map(|d| d.0);
                if every.is_some_and(|w| w < crate::engine::time::SEC) {
                    c.err(&at_key(&p, "every"), "an `every` window must be at least 1s", None);
                }
                let label = t.name.clone().unwrap_or_else(|| {
                    let mut l = String::new();
                    if let Some(n) = &t.class {
                        l.push_str(&format!("{n}: "));
                    }
                    l.push_str(&format!("{} {} {}", t.metric, if key == "below" { "<" } else { ">" }, text));
                    if let Some(w) = t.every {
                        l.push_str(&format!(" every {w}"));
                    }
                    l
                });
                out.push(Objective { label, measure, bound, threshold, class, every });
            }
        }
    }
    out
}
