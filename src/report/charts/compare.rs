//! The charts of `scalesim compare`: every architecture's latency over simulated time on the same
//! axes (p99 solid, p50 dashed, one colour each, the objective's line; below, the share of
//! requests failing per window), and their outcomes as side-by-side stacked shares.

use super::kit::{
    draw_legend, draw_line, draw_note, fmt_ms, fmt_pct, fmt_plain, frame, layout, perr, render,
    Axis, Chart, Entry, Swatch, FONT, INK, PALETTE, SIZE_TALL,
};
use super::run::outcome_color;
use crate::compare::Point;
use crate::model::request::Outcome;
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// The objective's line (as the journey's).
const SLO_COLOR: RGBColor = RGBColor(200, 30, 30);

/// What the compare charts show.
#[derive(Clone, Debug)]
pub struct ComparePlot {
    /// Each architecture's label.
    pub labels: Vec<String>,
    /// Each architecture's windows.
    pub series: Vec<Vec<Point>>,
    /// Each architecture's outcomes after the warm-up.
    pub outcomes: Vec<[u64; Outcome::COUNT]>,
    /// The p99 objective (ms) and its label, if there is one.
    pub slo_p99: Option<(f64, String)>,
    /// The warm-up's end, s (0: none).
    pub warmup_s: f64,
}

struct LatencyChart<'a>(&'a ComparePlot);

impl Chart for LatencyChart<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE_TALL
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let p = self.0;
        let (area, legend) = layout(
            root,
            "Latency of successful requests over time, and failed requests",
        )?;
        let (_, h) = area.dim_in_pixel();
        let (top, bottom) = area.split_vertically(h * 62 / 100);
        let end = p
            .series
            .iter()
            .flat_map(|s| s.last().map(|x| x.t_s))
            .fold(0.0, f64::max);
        let minutes = end / 60.0;
        let (scale, unit) = if minutes > 180.0 {
            (3600.0, "hours")
        } else {
            (60.0, "minutes")
        };
        let x = Axis::linear(0.0, (end / scale).max(1e-9), 10, fmt_plain);
        let y = Axis::log(
            p.series
                .iter()
                .flatten()
                .flat_map(|w| [w.p50, w.p99])
                .chain(p.slo_p99.iter().map(|s| s.0)),
            (1.0, 1000.0),
            fmt_ms,
        );
        let mut chart = frame(&top, &x, &y, "", "latency per window (log scale)")?;
        let mut entries = Vec::new();
        if let Some((v, label)) = &p.slo_p99 {
            if let Some(py) = y.pos(*v) {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(x.lo, py), (x.hi, py)],
                        9,
                        6,
                        SLO_COLOR.stroke_width(2),
                    ))
                    .map_err(perr)?;
                entries.push(Entry::new(label.clone(), SLO_COLOR, Swatch::Dashed));
            }
        }
        let mut any = false;
        for (i, s) in p.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let p99: Vec<(f64, f64)> = s.iter().map(|w| (w.t_s / scale, w.p99)).collect();
            let p50: Vec<(f64, f64)> = s.iter().map(|w| (w.t_s / scale, w.p50)).collect();
            any |= s.iter().any(|w| w.p99.is_finite());
            draw_line(&mut chart, &x, &y, &p99, color, 3, false)?;
            // Dashed, broken where a window served nobody (no p50 to draw).
            for run in p50.split(|&(_, v)| y.pos(v).is_none()) {
                let at: Vec<(f64, f64)> = run
                    .iter()
                    .filter_map(|&(t, v)| Some((x.pos(t)?, y.pos(v)?)))
                    .collect();
                chart
                    .draw_series(DashedLineSeries::new(at, 6, 5, color.stroke_width(2)))
                    .map_err(perr)?;
            }
            entries.push(Entry::new(p.labels[i].clone(), color, Swatch::Line(3)));
        }
        if !any {
            draw_note(&chart, &x, &y, "nothing was served")?;
        }
        entries.push(Entry::new("solid: p99 · dashed: p50", INK, Swatch::None));
        if p.warmup_s > 0.0 {
            let wx = p.warmup_s / scale;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(wx, y.lo), (wx, y.hi)],
                    3,
                    4,
                    RGBColor(120, 120, 120).stroke_width(2),
                ))
                .map_err(perr)?;
            entries.push(Entry::new(
                "dotted: warm-up ends (not measured before)",
                RGBColor(120, 120, 120),
                Swatch::Dotted,
            ));
        }
        entries.push(Entry::new(
            "includes time spent retrying",
            WHITE,
            Swatch::None,
        ));
        let ey = Axis::linear(0.0, 100.0, 5, fmt_pct);
        let mut lower = frame(
            &bottom,
            &x,
            &ey,
            &format!("simulated time ({unit})"),
            "failed requests",
        )?;
        for (i, s) in p.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let e: Vec<(f64, f64)> = s.iter().map(|w| (w.t_s / scale, w.errors_pct)).collect();
            draw_line(&mut lower, &x, &ey, &e, color, 2, false)?;
        }
        entries.push(Entry::new(
            "below: % of requests failing",
            WHITE,
            Swatch::None,
        ));
        draw_legend(&legend, 8, &entries)
    }
}

struct OutcomeChart<'a>(&'a ComparePlot);

impl Chart for OutcomeChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let p = self.0;
        let (area, legend) = layout(root, "How requests ended, by architecture (after warm-up)")?;
        let x = Axis::categories(p.labels.iter().map(|l| crate::compare::short(l)).collect());
        let y = Axis::linear(0.0, 100.0, 10, fmt_pct);
        let chart = frame(&area, &x, &y, "architecture", "share of requests")?;
        let used: Vec<Outcome> = Outcome::ALL
            .iter()
            .copied()
            .filter(|o| p.outcomes.iter().any(|oc| oc[o.index()] > 0))
            .collect();
        let label_style = (FONT, 15)
            .into_font()
            .color(&WHITE)
            .pos(Pos::new(HPos::Center, VPos::Center));
        for (i, oc) in p.outcomes.iter().enumerate() {
            let total: u64 = oc.iter().sum();
            if total == 0 {
                chart
                    .plotting_area()
                    .draw(&Text::new(
                        "no requests".to_string(),
                        (i as f64, 50.0),
                        (FONT, 15)
                            .into_font()
                            .color(&INK)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ))
                    .map_err(perr)?;
                continue;
            }
            let mut y0 = 0.0;
            let cx = i as f64;
            for &o in &used {
                let share = oc[o.index()] as f64 / total as f64 * 100.0;
                if share <= 0.0 {
                    continue;
                }
                let y1 = (y0 + share).min(100.0);
                chart
                    .plotting_area()
                    .draw(&Rectangle::new(
                        [(cx - 0.3, y0), (cx + 0.3, y1)],
                        outcome_color(o).filled(),
                    ))
                    .map_err(perr)?;
                if share >= 5.0 {
                    chart
                        .plotting_area()
                        .draw(&Text::new(
                            format!("{} %", fmt_plain((share * 10.0).round() / 10.0)),
                            (cx, (y0 + y1) / 2.0),
                            label_style.clone(),
                        ))
                        .map_err(perr)?;
                }
                y0 = y1;
            }
        }
        let mut entries: Vec<Entry> = used
            .iter()
            .rev()
            .map(|&o| Entry::new(o.words(), outcome_color(o), Swatch::Line(12)))
            .collect();
        entries.push(Entry::new(
            "bars: shares of each one's requests",
            WHITE,
            Swatch::None,
        ));
        for l in &p.labels {
            entries.push(Entry::new(l.clone(), WHITE, Swatch::None));
        }
        draw_legend(&legend, 8, &entries)
    }
}

/// Draws `compare_latency` and `compare_outcomes` (`.png` and `.svg`) into `dir`; returns the
/// file names written.
pub fn compare_charts(dir: &Path, plot: &ComparePlot) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    render(dir, "compare_latency", &LatencyChart(plot), &mut written)?;
    render(dir, "compare_outcomes", &OutcomeChart(plot), &mut written)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::test_util::{assert_files, temp_dir};

    #[test]
    fn compare_charts_are_written_even_for_odd_runs() {
        let w = |t: f64, v: f64| Point {
            t_s: t,
            p50: v / 3.0,
            p99: v,
            errors_pct: if v > 100.0 { 40.0 } else { 0.0 },
        };
        let cases = [
            (
                "compare",
                ComparePlot {
                    labels: vec!["chapter 3 (vertical scaling)".into(), "chapter 4".into()],
                    series: vec![
                        (1..100)
                            .map(|i| w(f64::from(i) * 60.0, f64::from(i) * 20.0))
                            .collect(),
                        (1..100).map(|i| w(f64::from(i) * 60.0, 20.0)).collect(),
                    ],
                    outcomes: vec![[60, 30, 10, 0, 0, 0, 0, 0], [100, 0, 0, 0, 0, 0, 0, 0]],
                    slo_p99: Some((500.0, "objective: p99 < 500 ms".into())),
                    warmup_s: 300.0,
                },
            ),
            (
                "compare-empty",
                ComparePlot {
                    labels: vec!["a".into(), "b".into()],
                    series: vec![Vec::new(), vec![w(1.0, f64::NAN)]],
                    outcomes: vec![[0; 8], [0, 5, 0, 0, 0, 0, 0, 0]],
                    slo_p99: None,
                    warmup_s: 0.0,
                },
            ),
        ];
        for (name, plot) in cases {
            let dir = temp_dir(name);
            let names = compare_charts(&dir, &plot).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_files(&dir, &names, 4);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}
