//! The planner's chart: cost per month against p99 for every configuration tried — passing ones
//! filled, failing ones hollow, their 95 % intervals as bars — the frontier (no configuration
//! both cheaper and faster) joined by a line, the chosen configuration ringed, and a p99
//! objective's target as a dashed line.

use super::kit::{
    draw_legend, draw_note, fmt_ms, fmt_usd, frame, layout, perr, render, Axis, Chart, Entry,
    Swatch, FONT,
};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// One configuration tried.
#[derive(Clone, Debug)]
pub struct PlanDot {
    /// Cost per month, $.
    pub cost: f64,
    /// p99 mean, ms (NaN: nothing served).
    pub p99: f64,
    /// Its interval's low end (NaN: none).
    pub lo: f64,
    /// Its interval's high end (NaN: none).
    pub hi: f64,
    /// Meets every objective.
    pub pass: bool,
    /// On the frontier.
    pub frontier: bool,
    /// The chosen configuration.
    pub chosen: bool,
    /// "instance=c5.large, min=8".
    pub label: String,
}

/// The chart.
#[derive(Clone, Debug)]
pub struct PlanPlot {
    /// Title.
    pub title: String,
    /// Every configuration tried.
    pub dots: Vec<PlanDot>,
    /// A p99 objective's threshold (ms) and its legend text.
    pub target: Option<(f64, String)>,
    /// "bars: 95 % interval, 3 runs".
    pub note: String,
}

const PASS: RGBColor = RGBColor(44, 160, 44);
const FAIL: RGBColor = RGBColor(214, 39, 40);
const FRONT: RGBColor = RGBColor(31, 119, 180);
const GREY: RGBColor = RGBColor(90, 90, 90);

struct Drawn<'a> {
    plot: &'a PlanPlot,
    x: Axis,
    y: Axis,
}

impl Chart for Drawn<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let p = self.plot;
        let (area, legend) = layout(root, &p.title)?;
        let mut chart = frame(
            &area,
            &self.x,
            &self.y,
            "cost per month (mean over the replications)",
            "p99 latency of successful requests",
        )?;
        let at = |d: &PlanDot, v: f64| -> Option<(f64, f64)> {
            Some((self.x.pos(d.cost)?, self.y.pos(v)?))
        };
        // The frontier, in cost order.
        let mut front: Vec<&PlanDot> = p.dots.iter().filter(|d| d.frontier).collect();
        front.sort_by(|a, b| a.cost.total_cmp(&b.cost));
        let line: Vec<(f64, f64)> = front.iter().filter_map(|d| at(d, d.p99)).collect();
        if line.len() > 1 {
            chart
                .draw_series(LineSeries::new(line, FRONT.stroke_width(2)))
                .map_err(perr)?;
        }
        if let Some((t, _)) = &p.target {
            if let Some(py) = self.y.pos(*t) {
                let span = self.x.hi - self.x.lo;
                let dash = span / 60.0;
                let mut x = self.x.lo;
                let mut dashes = Vec::new();
                while x < self.x.hi {
                    dashes.push(PathElement::new(
                        vec![(x, py), ((x + dash * 0.6).min(self.x.hi), py)],
                        FAIL.stroke_width(2),
                    ));
                    x += dash;
                }
                chart.draw_series(dashes).map_err(perr)?;
            }
        }
        let mut any = false;
        for d in &p.dots {
            let Some((px, py)) = at(d, d.p99) else {
                continue;
            };
            any = true;
            let color = if d.pass { PASS } else { FAIL };
            if let (Some(l), Some(h)) = (self.y.pos(d.lo), self.y.pos(d.hi)) {
                chart
                    .draw_series([PathElement::new(
                        vec![(px, l), (px, h)],
                        color.stroke_width(2),
                    )])
                    .map_err(perr)?;
            }
            if d.pass {
                chart
                    .draw_series([Circle::new((px, py), 5, color.filled())])
                    .map_err(perr)?;
            } else {
                chart
                    .draw_series([
                        Circle::new((px, py), 5, WHITE.filled()),
                        Circle::new((px, py), 5, color.stroke_width(2)),
                    ])
                    .map_err(perr)?;
            }
            if d.chosen {
                chart
                    .draw_series([Circle::new((px, py), 11, FRONT.stroke_width(3))])
                    .map_err(perr)?;
                chart
                    .draw_series([Text::new(
                        format!("   chosen: {}", d.label),
                        (px, py),
                        (FONT, 15)
                            .into_font()
                            .color(&FRONT)
                            .pos(Pos::new(HPos::Left, VPos::Top)),
                    )])
                    .map_err(perr)?;
            }
        }
        if !any {
            draw_note(
                &chart,
                &self.x,
                &self.y,
                "nothing to show: no configuration served a request",
            )?;
        }
        let mut entries = vec![
            Entry::new("meets every objective", PASS, Swatch::LinePoint),
            Entry::new("misses one or more", FAIL, Swatch::Hollow),
            Entry::new("frontier (none cheaper and faster)", FRONT, Swatch::Line(2)),
        ];
        if p.dots.iter().any(|d| d.chosen) {
            entries.push(Entry::new(
                "ringed: the cheapest passing",
                FRONT,
                Swatch::Hollow,
            ));
        }
        if let Some((_, text)) = &p.target {
            entries.push(Entry::new(text.clone(), FAIL, Swatch::Dashed));
        }
        entries.push(Entry::new(p.note.clone(), GREY, Swatch::Tick));
        draw_legend(&legend, 8, &entries)
    }
}

/// x: cost, from zero to a little past the dearest; y: p99, log when it spans more than 10×.
fn axes(p: &PlanPlot) -> (Axis, Axis) {
    let costs: Vec<f64> = p
        .dots
        .iter()
        .map(|d| d.cost)
        .filter(|c| c.is_finite())
        .collect();
    let top = costs.iter().copied().fold(0.0f64, f64::max);
    let x = Axis::linear(0.0, (top * 1.1).max(1.0), 8, fmt_usd);
    let mut ys: Vec<f64> = p
        .dots
        .iter()
        .flat_map(|d| [d.p99, d.lo, d.hi])
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    if let Some((t, _)) = &p.target {
        ys.push(*t);
    }
    let (lo, hi) = ys
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let y = if lo.is_finite() && hi / lo > 10.0 {
        Axis::log(ys, (1.0, 1000.0), fmt_ms)
    } else if hi.is_finite() {
        Axis::linear(0.0, hi * 1.1, 8, fmt_ms)
    } else {
        Axis::linear(0.0, 1.0, 8, fmt_ms)
    };
    (x, y)
}

/// Draws plan_frontier.png and .svg into `dir`; returns the file names written.
pub fn plan_chart(dir: &Path, plot: &PlanPlot) -> Result<Vec<String>, ReportError> {
    let (x, y) = axes(plot);
    let d = Drawn { plot, x, y };
    let mut written = Vec::new();
    render(dir, "plan_frontier", &d, &mut written)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::test_util::{assert_files, temp_dir};

    #[test]
    fn plan_charts_are_written_with_and_without_points() {
        let dir = temp_dir("plan");
        let dot = |cost: f64, p99: f64, pass: bool| PlanDot {
            cost,
            p99,
            lo: p99 * 0.9,
            hi: p99 * 1.1,
            pass,
            frontier: pass,
            chosen: false,
            label: format!("min={cost}"),
        };
        let mut dots = vec![
            dot(60.0, 4900.0, false),
            dot(480.0, 250.0, true),
            dot(600.0, 170.0, true),
        ];
        dots[1].chosen = true;
        let p = PlanPlot {
            title: "plan".into(),
            dots,
            target: Some((300.0, "objective p(99) < 300ms".into())),
            note: "bars: 95 % interval, 3 runs".into(),
        };
        let names = plan_chart(&dir, &p).expect("chart");
        assert_files(&dir, &names, 2);
        let empty = PlanPlot {
            dots: vec![dot(10.0, f64::NAN, false)],
            target: None,
            ..p
        };
        let names = plan_chart(&dir, &empty).expect("chart");
        assert_files(&dir, &names, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
