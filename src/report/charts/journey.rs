//! The journey comparison charts: each architecture's p99 latency, error rate and monthly cost
//! against the number of users, and its goodput against the offered load, one line per chapter
//! on log axes. Every level is steady load; a point whose run never settled is hollow.

use super::kit::{
    draw_legend, draw_line, draw_note, fmt_count, fmt_ms, fmt_pct, fmt_usd, frame, layout, perr,
    render, Axis, Chart, Entry, Swatch, PALETTE,
};
use crate::journey::{JourneyPoint, SLO_ERROR_RATE, SLO_P99_MS};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// The objective's line.
const SLO_COLOR: RGBColor = RGBColor(200, 30, 30);

/// One journey chart: a value against users (or offered load), one line per chapter.
struct JourneyChart<'a> {
    title: &'static str,
    x_desc: &'static str,
    y_desc: &'static str,
    xval: fn(&JourneyPoint) -> f64,
    value: fn(&JourneyPoint) -> Option<f64>,
    y: Axis,
    chapters: &'a [(String, Vec<&'a JourneyPoint>)],
    x: Axis,
    /// A horizontal line and its legend text (the objective).
    slo: Option<(f64, String)>,
    /// The line y = x (goodput against offered load: everything served).
    diagonal: bool,
    note: Option<&'static str>,
}

impl Chart for JourneyChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (area, legend) = layout(root, self.title)?;
        let mut chart = frame(&area, &self.x, &self.y, self.x_desc, self.y_desc)?;
        let mut entries = Vec::new();
        let mut any = false;
        let mut hollow_used = false;
        if let Some((v, label)) = &self.slo {
            if let Some(py) = self.y.pos(*v) {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(self.x.lo, py), (self.x.hi, py)],
                        9,
                        6,
                        SLO_COLOR.stroke_width(2),
                    ))
                    .map_err(perr)?;
                entries.push(Entry::new(label.clone(), SLO_COLOR, Swatch::Dashed));
            }
        }
        if self.diagonal {
            let lo = self.x.lo.max(self.y.lo);
            let hi = self.x.hi.min(self.y.hi);
            if lo < hi {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(lo, lo), (hi, hi)],
                        9,
                        6,
                        RGBColor(120, 120, 120).stroke_width(2),
                    ))
                    .map_err(perr)?;
                entries.push(Entry::new(
                    "all offered load served",
                    RGBColor(120, 120, 120),
                    Swatch::Dashed,
                ));
            }
        }
        for (i, (label, pts)) in self.chapters.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let data: Vec<(f64, f64, bool)> = pts
                .iter()
                .filter_map(|p| (self.value)(p).map(|v| ((self.xval)(p), v, !p.settled)))
                .collect();
            let line: Vec<(f64, f64)> = data.iter().map(|d| (d.0, d.1)).collect();
            // Past the palette's ten colours the lines repeat them dashed.
            let dashed = i >= PALETTE.len();
            if dashed {
                let at: Vec<(f64, f64)> = line
                    .iter()
                    .filter_map(|&(u, v)| Some((self.x.pos(u)?, self.y.pos(v)?)))
                    .collect();
                chart
                    .draw_series(DashedLineSeries::new(at, 10, 5, color.stroke_width(2)))
                    .map_err(perr)?;
            } else {
                draw_line(&mut chart, &self.x, &self.y, &line, color, 2, false)?;
            }
            for &(u, v, hollow) in &data {
                let (Some(px), Some(py)) = (self.x.pos(u), self.y.pos(v)) else {
                    continue;
                };
                any = true;
                hollow_used |= hollow;
                let fill = if hollow { WHITE } else { color };
                chart
                    .draw_series([
                        Circle::new((px, py), 5, fill.filled()),
                        Circle::new((px, py), 5, color.stroke_width(2)),
                    ])
                    .map_err(perr)?;
            }
            let swatch = if dashed {
                Swatch::Dashed
            } else {
                Swatch::LinePoint
            };
            entries.push(Entry::new(label.clone(), color, swatch));
        }
        if hollow_used {
            entries.push(Entry::new(
                "hollow: never settled (no verdict)",
                RGBColor(100, 100, 100),
                Swatch::Hollow,
            ));
        }
        if !any {
            draw_note(&chart, &self.x, &self.y, "no data to show")?;
        }
        entries.push(Entry::new("every level: steady load", WHITE, Swatch::None));
        if let Some(n) = self.note {
            entries.push(Entry::new(n, WHITE, Swatch::None));
        }
        draw_legend(&legend, 8, &entries)
    }
}

/// A frame of `journey.gif`: the p99 chart with the first `k` chapters drawn, on axes for all
/// of them. Returns the number of chapters.
pub(super) fn p99_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[JourneyPoint],
    k: usize,
) -> Result<usize, String> {
    let chapters = chapters_of(points);
    let n = chapters.len();
    p99_chart(points, &chapters[..k.min(n)]).draw(root)?;
    Ok(n)
}

/// The points by chapter, each chapter's by users, named "4 horizontal scaling".
fn chapters_of(points: &[JourneyPoint]) -> Vec<(String, Vec<&JourneyPoint>)> {
    let mut groups: BTreeMap<u32, Vec<&JourneyPoint>> = BTreeMap::new();
    for p in points {
        groups.entry(p.chapter).or_default().push(p);
    }
    groups
        .into_iter()
        .map(|(ch, mut pts)| {
            pts.sort_by_key(|p| p.users);
            let name = pts[0].name.clone();
            // "ch04-horizontal-scaling" → "4 horizontal scaling"
            let words = name
                .split_once('-')
                .map_or(name.as_str(), |(_, rest)| rest)
                .replace('-', " ");
            (format!("{ch} {words}"), pts)
        })
        .collect()
}

/// The p99 chart of `chapters`, on axes for all `points`.
fn p99_chart<'a>(
    points: &[JourneyPoint],
    chapters: &'a [(String, Vec<&'a JourneyPoint>)],
) -> JourneyChart<'a> {
    let users = |p: &JourneyPoint| f64::from(p.users);
    // The p99 of the few requests that succeed in a collapse says nothing about the users.
    let p99 = |p: &JourneyPoint| p.p99_ms.filter(|_| p.error_rate <= 0.5);
    JourneyChart {
        title: "Journey — p99 latency of successful requests against users",
        x_desc: "users (log scale)",
        y_desc: "p99 latency (log scale)",
        xval: users,
        value: p99,
        y: Axis::log(
            points.iter().filter_map(p99).chain([SLO_P99_MS]),
            (1.0, 1000.0),
            fmt_ms,
        ),
        chapters,
        x: Axis::log(points.iter().map(users), (10.0, 100_000.0), fmt_count),
        slo: Some((
            SLO_P99_MS,
            format!("objective: p99 < {}", fmt_ms(SLO_P99_MS)),
        )),
        diagonal: false,
        note: Some("no point: over half failed"),
    }
}

/// Draws the journey comparison charts into `dir`; returns the file names written.
///
/// Writes `journey_p99`, `journey_errors`, `journey_cost` and `journey_goodput` (each `.png`
/// and `.svg`): p99 latency, error rate and monthly cost against users, and goodput against
/// the offered load, one line per chapter.
pub fn journey_charts(dir: &Path, points: &[JourneyPoint]) -> Result<Vec<String>, ReportError> {
    let chapters = chapters_of(points);
    let users = |p: &JourneyPoint| f64::from(p.users);
    let offered = |p: &JourneyPoint| p.offered;
    let x = Axis::log(points.iter().map(users), (10.0, 100_000.0), fmt_count);
    let errors = |p: &JourneyPoint| Some(p.error_rate * 100.0);
    let cost = |p: &JourneyPoint| Some(p.cost_per_month);
    let goodput = |p: &JourneyPoint| Some(p.goodput);
    // From a tenth of the smallest offered load: a collapse's last trickle stays off the scale.
    let floor = points
        .iter()
        .map(|p| p.offered)
        .fold(f64::INFINITY, f64::min)
        / 10.0;
    let rate_axis = Axis::log(
        points
            .iter()
            .flat_map(|p| [p.offered, p.goodput])
            .filter(|v| *v > 0.0 && *v >= floor),
        (1.0, 10_000.0),
        fmt_count,
    );
    let charts = [
        ("journey_p99", p99_chart(points, &chapters)),
        (
            "journey_errors",
            JourneyChart {
                title: "Journey — failed requests against users",
                x_desc: "users (log scale)",
                y_desc: "error rate",
                xval: users,
                value: errors,
                y: Axis::linear(-3.0, 103.0, 10, fmt_pct),
                chapters: &chapters,
                x: x.clone(),
                slo: Some((
                    SLO_ERROR_RATE * 100.0,
                    format!("objective: ≤ {} errors", fmt_pct(SLO_ERROR_RATE * 100.0)),
                )),
                diagonal: false,
                note: None,
            },
        ),
        (
            "journey_cost",
            JourneyChart {
                title: "Journey — cost per month against users",
                x_desc: "users (log scale)",
                y_desc: "cost per month (USD, log scale)",
                xval: users,
                value: cost,
                y: Axis::log(points.iter().filter_map(cost), (1.0, 1000.0), fmt_usd),
                chapters: &chapters,
                x,
                slo: None,
                diagonal: false,
                note: None,
            },
        ),
        (
            "journey_goodput",
            JourneyChart {
                title: "Journey — successful requests against the load offered",
                x_desc: "offered load, requests/s (users ÷ 8 s think time; log scale)",
                y_desc: "goodput, successful requests/s (log scale)",
                xval: offered,
                value: goodput,
                y: rate_axis.clone(),
                chapters: &chapters,
                x: rate_axis,
                slo: None,
                diagonal: true,
                note: None,
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
            offered: f64::from(users) / 8.0,
            cost_per_month: cost,
            truncated: 0,
            settled: err < 0.5,
            unsettled: Vec::new(),
            busiest: None,
            failure: None,
            crashes: None,
            first_failed: None,
            knees: Vec::new(),
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
        assert_files(&dir, &names, 8);
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
            assert_files(&dir, &names, 8);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
