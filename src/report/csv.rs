//! timeseries.csv: one row per window, stable column names (documented in the README).

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

/// The CSV text.
pub fn timeseries_csv(_scn: &Scenario, run: &RunOutput) -> String {
    let mut s = String::from("t_start_s,t_end_s,users,throughput_rps");
    for o in Outcome::ALL {
        let _ = write!(s, ",{}", o.name());
    }
    s.push_str(",error_rate,retries,p50_ms,p90_ms,p99_ms,p999_ms,mean_ms,in_system,backlog,utilization,instances,healthy,cost_usd\n");
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
        let _ = writeln!(
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
    }
    s
}
