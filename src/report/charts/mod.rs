//! Charts (PNG and SVG) drawn with plotters.
//!
//! Every chart is described once by a type implementing the `Chart` trait of the `kit`, whose
//! drawing code is generic over the plotters backend; `kit::render` then draws it twice, into a
//! PNG (bitmap) and an SVG file. Text uses the bundled DejaVu Sans (no system fonts are read),
//! and nothing time-dependent is embedded, so the same run always gives the same files.
//!
//! - `kit`: the plotting kit (font, rendering, axes, number formats, layout, legend, lines,
//!   notes, label strips) shared by every chart;
//! - `run`: the charts of one run over simulated time, with its events marked, including one
//!   `gauge-…` chart per title of the gauges its components declare;
//! - `journey`: the comparison of every chapter against the number of users;
//! - `knee`: per chapter, each server tier's utilization against users with theory's
//!   saturation point;
//! - `sweep`: a sweep's figures against its first parameter, with 95 % intervals as error bars;
//! - `compare`: `scalesim compare`'s architectures over time and their outcomes, side by side;
//! - `plan`: the planner's cost against p99 of every configuration tried, with its frontier.

mod compare;
mod gif;
mod journey;
mod kit;
pub mod knee;
mod plan;
mod run;
mod sweep;
mod waterfall;

pub use compare::{compare_charts, ComparePlot};
pub use journey::journey_charts;
pub use plan::{plan_chart, PlanDot, PlanPlot};

/// Counts (950, 1,250, 2M), latencies in ms (20 ms, 1.5 s) and dollars ($8.5, $1,568) as the
/// charts print them, for the pages and tables that sit beside them.
pub use kit::{fmt_count, fmt_ms, fmt_usd};

/// Users as the charts print them: 950, 1,000, 100,000.
pub fn fmt_users(u: u32) -> String {
    kit::fmt_count(f64::from(u))
}

pub use gif::{journey_gif, run_gif, GIF_SIZE};
pub use run::run_charts;
pub use sweep::{sweep_charts, SweepPlot, SweepSeries, YUnit};
pub use waterfall::{chosen as waterfall_panels, waterfall_chart};

/// Helpers the report tests share: temporary folders, and synthetic runs.
#[cfg(test)]
pub(crate) mod test_util {
    use crate::engine::time::SEC;
    use crate::metrics::{Gauges, Metrics, WindowRow};
    use crate::model::kit::{GaugeDecl, GaugeUnit, TimelineEvent};
    use crate::model::request::Outcome;
    use crate::run::RunOutput;
    use crate::scenario::Scenario;
    use std::path::Path;

    pub(crate) fn temp_dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("scalesim-charts-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    pub(crate) fn assert_files(dir: &Path, names: &[String], expected: usize) {
        assert_eq!(names.len(), expected, "{names:?}");
        for n in names {
            let len = std::fs::metadata(dir.join(n))
                .unwrap_or_else(|e| panic!("{n}: {e}"))
                .len();
            assert!(len > 0, "{n} is empty");
        }
    }

    /// Removes a test's folder, unless `SCALESIM_KEEP_TEST_CHARTS` is set (to look at the
    /// charts).
    pub(crate) fn remove_unless_kept(dir: &Path) {
        if std::env::var_os("SCALESIM_KEEP_TEST_CHARTS").is_none() {
            let _ = std::fs::remove_dir_all(dir);
        } else {
            eprintln!("charts kept in {}", dir.display());
        }
    }

    /// Chapter 1 without its retries, so the charts are the standard set (a test that wants
    /// the load chart gives it retries back).
    pub(crate) fn scenario() -> Scenario {
        let mut scn = crate::scenario::load("chapter:1", &[]).expect("chapter 1 loads");
        scn.client.retry = None;
        scn
    }

    pub(crate) fn output(series: Vec<WindowRow>, timeline: Vec<TimelineEvent>) -> RunOutput {
        let mut metrics = Metrics::new(&["a".to_string()], 0, 10 * SEC);
        metrics.series = series;
        RunOutput {
            metrics,
            unsteady: None,
            cards: Vec::new(),
            queue: None,
            events: 0,
            hash: 0,
            peak_in_flight: 0,
            in_flight_end: 0,
            measured: 0,
            open_at_end: 0,
            timeline,
            cost: 0.0,
            extra_gauges: Vec::new(),
            tiers: Vec::new(),
            stopped: None,
            trace_replayed: 0,
            narratives: Vec::new(),
        }
    }

    pub(crate) fn row(i: u64, ok: u64, refused: u64, p50: f64) -> WindowRow {
        let mut outcomes = [0; Outcome::COUNT];
        outcomes[Outcome::Ok.index()] = ok;
        outcomes[Outcome::Refused.index()] = refused;
        WindowRow {
            start: i * 10 * SEC,
            end: (i + 1) * 10 * SEC,
            outcomes,
            p50_ms: p50,
            p90_ms: p50 * 2.0,
            p99_ms: p50 * 5.0,
            p999_ms: p50 * 9.0,
            mean_ms: p50 * 1.2,
            retries: 0,
            attempts: ok + refused,
            suppressed: 0,
            gauges: Gauges {
                users: 50 + i,
                in_system: i % 7,
                backlog: i % 3,
                utilization: (i as f64 / 40.0).min(1.0),
                instances: 1 + (i / 20) as u32,
                healthy: 1,
                cost: i as f64 * 0.01,
                extra: Vec::new(),
                tiers: Vec::new(),
                flows: Vec::new(),
            },
        }
    }

    /// A cache's hit ratio, as a kind would declare it.
    pub(crate) const HIT_RATIO: GaugeDecl = GaugeDecl {
        name: "hit_ratio",
        title: "hit ratio",
        unit: GaugeUnit::Ratio,
    };
    /// A queue's depth.
    pub(crate) const DEPTH: GaugeDecl = GaugeDecl {
        name: "depth",
        title: "messages waiting",
        unit: GaugeUnit::Count,
    };

    /// Window `i`'s declared gauges in [`gauge_output`]: `cache-a`'s hit ratio, `cache-b`'s,
    /// and `queue`'s depth.
    pub(crate) fn gauge_values(i: u64) -> [f64; 3] {
        let b = if (20..30).contains(&i) { 0.6 } else { 0.92 };
        [0.5 + i as f64 / 200.0, b, (i % 12) as f64]
    }

    /// 60 windows of a run in which the components `cache-a` and `cache-b` declare a hit ratio
    /// and `queue` a depth (values: [`gauge_values`]).
    pub(crate) fn gauge_output() -> RunOutput {
        let series = (0..60)
            .map(|i| {
                let mut r = row(i, 100, 0, 20.0);
                r.gauges.extra = gauge_values(i).to_vec();
                r
            })
            .collect();
        let mut run = output(series, Vec::new());
        run.extra_gauges = vec![
            ("cache-a".into(), HIT_RATIO),
            ("cache-b".into(), HIT_RATIO),
            ("queue".into(), DEPTH),
        ];
        run
    }
}
