//! `scalesim diff BASE.json NEW.json`: the headline figures of two reports side by side with their
//! change, as a Markdown table to paste into a pull request (or plain text).
//!
//! Two results.json files (single runs) are compared figure by figure; one run carries no estimate
//! of its noise, so no change is flagged. Two sweep.json files are compared point by point
//! (points matched by their parameter values), and a change is flagged when it is larger than the
//! noise: when |new − base| exceeds √(h_base² + h_new²), the two 95 % half-widths combined (the
//! half-width of the difference of two independent means, to the t quantiles' difference).

use serde_json::Value;
use std::fmt::Write;

/// One figure compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Which point ("" for a single run).
    pub point: String,
    /// Which figure.
    pub figure: &'static str,
    /// Its unit, for formatting.
    unit: Unit,
    /// Base value and 95 % half-width (NaN: none).
    pub base: (f64, f64),
    /// New value and half-width.
    pub new: (f64, f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Ms,
    Fraction,
    Rate,
    Usd,
    Count,
}

/// What the comparison says about a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Larger than both intervals together: a real change.
    BeyondNoise,
    /// Within the noise.
    WithinNoise,
    /// No noise estimate (single runs): not judged.
    Unknown,
}

impl Row {
    /// The change's flag.
    pub fn flag(&self) -> Flag {
        let (b, hb) = self.base;
        let (n, hn) = self.new;
        if b.is_nan() || n.is_nan() || hb.is_nan() || hn.is_nan() {
            return Flag::Unknown;
        }
        if (n - b).abs() > (hb * hb + hn * hn).sqrt() {
            Flag::BeyondNoise
        } else {
            Flag::WithinNoise
        }
    }
}

fn fmt(u: Unit, v: f64) -> String {
    if v.is_nan() {
        return "—".into();
    }
    match u {
        Unit::Ms => crate::slo::Measure::Mean.format(v),
        Unit::Fraction => format!("{:.3} %", v * 100.0),
        Unit::Rate => format!("{v:.2}/s"),
        Unit::Usd => format!("${v:.2}"),
        Unit::Count => format!("{v:.0}"),
    }
}

fn value_pm(u: Unit, (v, h): (f64, f64)) -> String {
    if h.is_nan() || v.is_nan() {
        fmt(u, v)
    } else {
        format!("{} ± {}", fmt(u, v), fmt(u, h))
    }
}

fn change(r: &Row) -> String {
    let (b, n) = (r.base.0, r.new.0);
    if b.is_nan() || n.is_nan() {
        return "—".into();
    }
    let d = n - b;
    let sign = if d > 0.0 {
        "+"
    } else if d < 0.0 {
        "−"
    } else {
        "±"
    };
    let rel = if b != 0.0 && r.unit != Unit::Fraction {
        format!(" ({sign}{:.1} %)", (d / b).abs() * 100.0)
    } else if r.unit == Unit::Fraction {
        format!(" ({sign}{:.3} pp)", d.abs() * 100.0)
    } else {
        String::new()
    };
    if r.unit == Unit::Fraction {
        return rel.trim().trim_matches(['(', ')']).to_string();
    }
    format!("{sign}{}{rel}", fmt(r.unit, d.abs()))
}

/// The headline figures of results.json: (figure, unit, JSON pointer).
const RESULTS: [(&str, Unit, &str); 8] = [
    ("requests", Unit::Count, "/requests/total"),
    ("throughput", Unit::Rate, "/requests/throughput_rps"),
    ("goodput", Unit::Rate, "/requests/goodput_rps"),
    ("error rate", Unit::Fraction, "/requests/error_rate"),
    ("p50 latency", Unit::Ms, "/latency_ms/p50"),
    ("p99 latency", Unit::Ms, "/latency_ms/p99"),
    ("mean latency", Unit::Ms, "/latency_ms/mean"),
    ("cost per month", Unit::Usd, "/cost/per_month_usd"),
];

/// The headline figures of a sweep point: (figure, unit, key in `figures`).
const SWEEP: [(&str, Unit, &str); 7] = [
    ("throughput", Unit::Rate, "throughput_rps"),
    ("goodput", Unit::Rate, "goodput_rps"),
    ("error rate", Unit::Fraction, "error_rate"),
    ("p50 latency", Unit::Ms, "p50_ms"),
    ("p99 latency", Unit::Ms, "p99_ms"),
    ("mean latency", Unit::Ms, "mean_ms"),
    ("cost per month", Unit::Usd, "cost_per_month_usd"),
];

fn f(v: Option<&Value>) -> f64 {
    v.and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn is_sweep(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("sweep")
}

fn is_results(v: &Value) -> bool {
    v.get("requests").is_some() && v.get("latency_ms").is_some()
}

/// The comparison of two documents: rows, and notes (points in only one of them).
pub fn compare(base: &Value, new: &Value) -> Result<(Vec<Row>, Vec<String>), String> {
    let what = |v: &Value| {
        if is_sweep(v) {
            "a sweep.json"
        } else if is_results(v) {
            "a results.json"
        } else {
            "neither"
        }
    };
    match (
        is_sweep(base),
        is_sweep(new),
        is_results(base),
        is_results(new),
    ) {
        (false, false, true, true) => Ok((
            RESULTS
                .iter()
                .map(|&(figure, unit, ptr)| Row {
                    point: String::new(),
                    figure,
                    unit,
                    base: (f(base.pointer(ptr)), f64::NAN),
                    new: (f(new.pointer(ptr)), f64::NAN),
                })
                .collect(),
            vec![
                "single runs carry no noise estimate, so no change is flagged; compare two \
                  `scalesim sweep` outputs (sweep.json, with --replications) for that"
                    .into(),
            ],
        )),
        (true, true, _, _) => {
            let points = |v: &Value| -> Vec<(String, Value)> {
                v.get("points")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| {
                                let params = p.get("params").cloned().unwrap_or(Value::Null);
                                let label = params
                                    .as_object()
                                    .map(|m| {
                                        m.iter()
                                            .map(|(k, v)| {
                                                format!(
                                                    "{k}={}",
                                                    v.as_str()
                                                        .map_or(v.to_string(), str::to_string)
                                                )
                                            })
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    })
                                    .unwrap_or_default();
                                (label, p.clone())
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let (bp, np) = (points(base), points(new));
            let mut rows = Vec::new();
            let mut notes = Vec::new();
            for (label, b) in &bp {
                let Some((_, n)) = np.iter().find(|(_, n)| n.get("params") == b.get("params"))
                else {
                    notes.push(format!("only in the base: {label}"));
                    continue;
                };
                for &(figure, unit, key) in &SWEEP {
                    let get = |p: &Value| {
                        let iv = p.pointer(&format!("/figures/{key}"));
                        (
                            f(iv.and_then(|i| i.get("mean"))),
                            f(iv.and_then(|i| i.get("half_width"))),
                        )
                    };
                    rows.push(Row {
                        point: if label.is_empty() {
                            "—".into()
                        } else {
                            label.clone()
                        },
                        figure,
                        unit,
                        base: get(b),
                        new: get(n),
                    });
                }
            }
            for (label, n) in &np {
                if !bp.iter().any(|(_, b)| b.get("params") == n.get("params")) {
                    notes.push(format!("only in the new: {label}"));
                }
            }
            Ok((rows, notes))
        }
        _ => Err(format!(
            "the base is {} and the new is {}: compare two results.json (scalesim run) or two \
             sweep.json (scalesim sweep)",
            what(base),
            what(new)
        )),
    }
}

fn flag_text(fl: Flag, markdown: bool) -> &'static str {
    match (fl, markdown) {
        (Flag::BeyondNoise, true) => "**beyond noise**",
        (Flag::BeyondNoise, false) => "BEYOND NOISE",
        (Flag::WithinNoise, _) => "within noise",
        (Flag::Unknown, _) => "",
    }
}

/// The Markdown table.
pub fn markdown(base_name: &str, new_name: &str, rows: &[Row], notes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### scalesim diff: `{base_name}` → `{new_name}`\n");
    let points = rows.iter().any(|r| !r.point.is_empty());
    let flagged = rows
        .iter()
        .filter(|r| r.flag() == Flag::BeyondNoise)
        .count();
    if points {
        let _ = writeln!(s, "| point | figure | base | new | change | noise |");
        let _ = writeln!(s, "|---|---|---:|---:|---:|---|");
    } else {
        let _ = writeln!(s, "| figure | base | new | change | noise |");
        let _ = writeln!(s, "|---|---:|---:|---:|---|");
    }
    for r in rows {
        let cells = [
            r.figure.to_string(),
            value_pm(r.unit, r.base),
            value_pm(r.unit, r.new),
            change(r),
            flag_text(r.flag(), true).to_string(),
        ];
        let esc = |c: &str| c.replace('|', "\\|");
        let row: Vec<String> = cells.iter().map(|c| esc(c)).collect();
        if points {
            let _ = writeln!(s, "| {} | {} |", esc(&r.point), row.join(" | "));
        } else {
            let _ = writeln!(s, "| {} |", row.join(" | "));
        }
    }
    s.push('\n');
    if rows.iter().any(|r| r.flag() != Flag::Unknown) {
        let _ = writeln!(
            s,
            "{flagged} of {} changes are beyond the noise (larger than the two 95 % intervals' \
             half-widths combined, √(h₁² + h₂²)).",
            rows.len()
        );
    }
    for n in notes {
        let _ = writeln!(s, "- {n}");
    }
    s
}

/// Plain text, aligned.
pub fn text(base_name: &str, new_name: &str, rows: &[Row], notes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "diff: {base_name} → {new_name}");
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.point.clone(),
                r.figure.to_string(),
                value_pm(r.unit, r.base),
                value_pm(r.unit, r.new),
                change(r),
                flag_text(r.flag(), false).to_string(),
            ]
        })
        .collect();
    let mut w = [0usize; 6];
    for c in &cells {
        for (i, x) in c.iter().enumerate() {
            w[i] = w[i].max(x.chars().count());
        }
    }
    let pad = |x: &str, n: usize| format!("{x}{}", " ".repeat(n.saturating_sub(x.chars().count())));
    let lpad =
        |x: &str, n: usize| format!("{}{x}", " ".repeat(n.saturating_sub(x.chars().count())));
    for c in &cells {
        let mut line = String::from(" ");
        if w[0] > 0 {
            line.push_str(&format!(" {}", pad(&c[0], w[0])));
        }
        let _ = write!(
            line,
            " {}  {}  {}  {}  {}",
            pad(&c[1], w[1]),
            lpad(&c[2], w[2]),
            lpad(&c[3], w[3]),
            lpad(&c[4], w[4]),
            c[5]
        );
        let _ = writeln!(s, "{}", line.trim_end());
    }
    for n in notes {
        let _ = writeln!(s, "  note: {n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_flagged_beyond_the_combined_half_widths() {
        let row = |b: (f64, f64), n: (f64, f64)| Row {
            point: String::new(),
            figure: "p99 latency",
            unit: Unit::Ms,
            base: b,
            new: n,
        };
        // Half-widths 3 and 4 combine to 5.
        assert_eq!(row((100.0, 3.0), (105.1, 4.0)).flag(), Flag::BeyondNoise);
        assert_eq!(row((100.0, 3.0), (104.9, 4.0)).flag(), Flag::WithinNoise);
        assert_eq!(
            row((100.0, f64::NAN), (200.0, f64::NAN)).flag(),
            Flag::Unknown
        );
        assert_eq!(
            change(&row((100.0, 1.0), (110.0, 1.0))),
            "+10.0 ms (+10.0 %)"
        );
        let fr = Row {
            unit: Unit::Fraction,
            ..row((0.01, 0.001), (0.005, 0.001))
        };
        assert_eq!(change(&fr), "−0.500 pp");
    }
}
