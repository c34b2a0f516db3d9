//! The journey comparison charts: each chapter's p99 latency, error rate and monthly cost against
//! the number of users, one line per chapter on log axes.

use super::kit::{
    draw_legend, draw_line, draw_note, fmt_count, fmt_ms, fmt_pct, fmt_usd, frame, layout, perr,
    render, Axis, Chart, Entry, Swatch, PALETTE,
};
use crate::journey::JourneyPoint;
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// One journey chart: a value against users, one line per chapter.
struct JourneyChart<'a> {
    title: &'static str,
    y_desc: &'static str,
    value: fn(&JourneyPoint) -> Option<f64>,
    y: Axis,
    chapters: &'a [(String, Vec<&'a JourneyPoint>)],
    x: Axis,
    note: Option<&'static str>,
    /// Draw points where most requests failed as hollow markers.
    hollow_failing: bool,
}

impl Chart for JourneyChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (area, legend) = layout(root, self.title)?;
        let mut chart = frame(&area, &self.x, &self.y, "users (log scale)", self.y_desc)?;
        let mut entries = Vec::new();
        let mut any = false;
        let mut hollow_used = false;
        for (i, (label, pts)) in self.chapters.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let data: Vec<(f64, f64, bool)> = pts
                .iter()
                .filter_map(|p| {
                    let failing = self.hollow_failing && p.error_rate > 0.5;
                    (self.value)(p).map(|v| (f64::from(p.users), v, failing))
                })
                .collect();
            let line: Vec<(f64, f64)> = data.iter().map(|d| (d.0, d.1)).collect();
            draw_line(&mut chart, &self.x, &self.y, &line, color, 2, false)?;
            for &(u, v, failing) in &data {
                let (Some(px), Some(py)) = (self.x.pos(u), self.y.pos(v)) else {
                    continue;
                };
                any = true;
                hollow_used |= failing;
                let fill = if failing { WHITE } else { color };
                chart
                    .draw_series([
                        Circle::new((px, py), 5, fill.filled()),
                        Circle::new((px, py), 5, color.stroke_width(2)),
                    ])
                    .map_err(perr)?;
            }
            entries.push(Entry::new(label.clone(), color, Swatch::LinePoint));
        }
        if hollow_used {
            entries.push(Entry::new(
                "hollow: most requests failed",
                RGBColor(100, 100, 100),
                Swatch::Hollow,
            ));
        }
        if !any {
            draw_note(&chart, &self.x, &self.y, "no data to show")?;
        }
        if let Some(n) = self.note {
            entries.push(Entry::new(n, WHITE, Swatch::None));
        }
        draw_legend(&legend, 8, &entries)
    }
}

/// Draws the journey comparison charts into `dir`; returns the file names written.
///
/// Writes `journey_p99`, `journey_errors` and `journey_cost` (each `.png` and `.svg`): p99
/// latency, error rate and monthly cost against users, one line per chapter.
pub fn journey_charts(dir: &Path, points: &[JourneyPoint]) -> Result<Vec<String>, ReportError> {
    let mut groups: BTreeMap<u32, Vec<&JourneyPoint>> = BTreeMap::new();
    for p in points {
        groups.entry(p.chapter).or_default().push(p);
    }
    let chapters: Vec<(String, Vec<&JourneyPoint>)> = groups
        .into_iter()
        .map(|(ch, mut pts)| {
            pts.sort_by_key(|p| p.users);
            (format!("ch {ch}: {}", pts[0].name), pts)
        })
        .collect();
    let x = Axis::log(
        points.iter().map(|p| f64::from(p.users)),
        (10.0, 100_000.0),
        fmt_count,
    );
    let p99 = |p: &JourneyPoint| p.p99_ms;
    let errors = |p: &JourneyPoint| Some(p.error_rate * 100.0);
    let cost = |p: &JourneyPoint| Some(p.cost_per_month);
    let charts = [
        (
            "journey_p99",
            JourneyChart {
                title: "Journey — p99 latency of successful requests against users",
                y_desc: "p99 latency (log scale)",
                value: p99,
                y: Axis::log(points.iter().filter_map(p99), (1.0, 1000.0), fmt_ms),
                chapters: &chapters,
                x: x.clone(),
                note: Some("no point: nothing succeeded"),
                hollow_failing: true,
            },
        ),
        (
            "journey_errors",
            JourneyChart {
                title: "Journey — failed requests against users",
                y_desc: "error rate",
                value: errors,
                y: Axis::linear(-3.0, 103.0, 10, fmt_pct),
                chapters: &chapters,
                x: x.clone(),
                note: None,
                hollow_failing: false,
            },
        ),
        (
            "journey_cost",
            JourneyChart {
                title: "Journey — cost per month against users",
                y_desc: "cost per month (USD, log scale)",
                value: cost,
                y: Axis::log(points.iter().filter_map(cost), (1.0, 1000.0), fmt_usd),
                chapters: &chapters,
                x,
                note: None,
                hollow_failing: false,
            },
        ),
    ];
    let mut written = Vec::new();
    for (stem, chart) in &charts {
        render(dir, stem, chart, &mut written)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::test_util::{assert_files, temp_dir};

    fn point(chapter: u32, users: u32, p99: Option<f64>, err: f64, cost: f64) -> JourneyPoint {
        JourneyPoint {
            chapter,
            name: format!("ch{chapter:02}-test"),
            users,
            p99_ms: p99,
            p50_ms: p99.map(|v| v / 3.0),
            error_rate: err,
            goodput: 10.0,
            cost_per_month: cost,
        }
    }

    #[test]
    fn journey_charts_are_written() {
        let dir = temp_dir("journey");
        let mut points = Vec::new();
        for (i, u) in [10, 100, 1_000, 10_000, 100_000].into_iter().enumerate() {
            let i = i as f64;
            points.push(point(
                1,
                u,
                (i < 4.0).then(|| 20.0 * 10f64.powf(i)),
                i / 4.0,
                8.5,
            ));
            points.push(point(3, u, Some(15.0 + i), i / 10.0, 500.0));
        }
        let names = journey_charts(&dir, &points).expect("charts");
        assert_files(&dir, &names, 6);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn journey_charts_survive_odd_points() {
        let cases: Vec<(&str, Vec<JourneyPoint>)> = vec![
            ("journey-empty", Vec::new()),
            ("journey-one", vec![point(1, 100, Some(5.0), 0.0, 0.0)]),
            (
                "journey-none",
                vec![
                    point(2, 0, None, 1.0, 0.0),
                    point(2, 10, None, f64::NAN, f64::INFINITY),
                ],
            ),
        ];
        for (name, points) in cases {
            let dir = temp_dir(name);
            let names = journey_charts(&dir, &points).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_files(&dir, &names, 6);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
