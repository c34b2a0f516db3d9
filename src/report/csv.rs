//! timeseries.csv: one row per window, stable column names (documented in the README).
//!
//! After the standard columns comes one column per gauge a component declared
//! ([`crate::model::kit::GaugeDecl`]), named `{component}.{gauge name}`, in the order of
//! [`RunOutput::extra_gauges`]; a run whose components declare none has no such column.

use crate::engine::time::as_secs_f64;
use crate::model::request::Outcome;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use std::fmt::Write;

fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.6}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// A header field, quoted if it holds a comma, a quote or a line break (RFC 4180).
fn field(name: &str) -> String {
    if name.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_string()
    }
}

/// The CSV text.
pub fn timeseries_csv(_scn: &Scenario, run: &RunOutput) -> String {
    let mut s = String::from("t_start_s,t_end_s,users,throughput_rps");
    for o in Outcome::ALL {
        let _ = write!(s, ",{}", o.name());
    }
    s.push_str(",error_rate,retries,p50_ms,p90_ms,p99_ms,p999_ms,mean_ms,in_system,backlog,utilization,instances,healthy,cost_usd");
    for (component, gauge) in &run.extra_gauges {
        let _ = write!(s, ",{}", field(&format!("{component}.{}", gauge.name)));
    }
    s.push('\n');
    for r in &run.metrics.series {
        let secs = as_secs_f64(r.end - r.start);
        let total = r.total();
        let _ = write!(
            s,
            "{},{},{},{}",
            num(as_secs_f64(r.start)),
            num(as_secs_f64(r.end)),
            r.gauges.users,
            num(r.outcomes[0] as f64 / secs)
        );
        for o in Outcome::ALL {
            let _ = write!(s, ",{}", r.outcomes[o.index()]);
        }
        let er = if total == 0 {
            0.0
        } else {
            r.errors() as f64 / total as f64
        };
        let g = &r.gauges;
        let _ = write!(
            s,
            ",{},{},{},{},{},{},{},{},{},{},{},{},{}",
            num(er),
            r.retries,
            num(r.p50_ms),
            num(r.p90_ms),
            num(r.p99_ms),
            num(r.p999_ms),
            num(r.mean_ms),
            g.in_system,
            g.backlog,
            num(g.utilization),
            g.instances,
            g.healthy,
            num(g.cost)
        );
        // A value the row lacks (there should be none) is left empty, like a NaN.
        for i in 0..run.extra_gauges.len() {
            let v = g.extra.get(i).copied().unwrap_or(f64::NAN);
            let _ = write!(s, ",{}", num(v));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::test_util::{gauge_output, gauge_values, scenario};

    /// The standard columns, as every run before declared gauges wrote them.
    const HEADER: &str = "t_start_s,t_end_s,users,throughput_rps,ok,timeout,refused,crashed,\
        dns_failure,unavailable,throttled,error,error_rate,retries,p50_ms,p90_ms,p99_ms,p999_ms,\
        mean_ms,in_system,backlog,utilization,instances,healthy,cost_usd";

    #[test]
    fn declared_gauges_add_one_column_each() {
        let scn = scenario();
        let run = gauge_output();
        let csv = timeseries_csv(&scn, &run);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            format!("{HEADER},cache-a.hit_ratio,cache-b.hit_ratio,queue.depth")
        );
        assert_eq!(lines.len(), 61);
        let width = lines[0].split(',').count();
        for (i, line) in lines[1..].iter().enumerate() {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), width, "row {i}: {line}");
            let want: Vec<String> = gauge_values(i as u64).iter().map(|&v| num(v)).collect();
            assert_eq!(fields[width - 3..], want[..], "row {i}");
        }
        assert_eq!(
            lines[11].rsplit(',').take(3).collect::<Vec<_>>(),
            ["10", "0.92", "0.55"]
        );
        assert_eq!(
            lines[26].rsplit(',').take(3).collect::<Vec<_>>(),
            ["1", "0.6", "0.625"]
        );

        // The gauge columns only append: without them, the same run gives the standard CSV.
        let mut plain = gauge_output();
        plain.extra_gauges.clear();
        for r in &mut plain.metrics.series {
            r.gauges.extra.clear();
        }
        let plain_csv = timeseries_csv(&scn, &plain);
        assert!(plain_csv.starts_with(&format!("{HEADER}\n")), "{plain_csv}");
        let stripped: String = lines
            .iter()
            .map(|l| {
                let cut = l.match_indices(',').nth(width - 4).expect("wide enough").0;
                format!("{}\n", &l[..cut])
            })
            .collect();
        assert_eq!(stripped, plain_csv);
    }

    #[test]
    fn a_missing_or_nan_gauge_value_is_an_empty_field() {
        let scn = scenario();
        let mut run = gauge_output();
        run.metrics.series[0].gauges.extra = vec![f64::NAN, 1.0];
        let csv = timeseries_csv(&scn, &run);
        let row = csv.lines().nth(1).expect("a row");
        assert!(row.ends_with(",,1,"), "{row}");
    }

    #[test]
    fn header_fields_are_quoted_when_needed() {
        assert_eq!(field("web[3].depth"), "web[3].depth");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), r#""say ""hi""""#);
    }
}
