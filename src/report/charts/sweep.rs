//! The sweep charts: a figure against the first swept parameter, its mean over the replications
//! as a line with markers and its 95 % interval as an error bar at every point, one line per value
//! of the other parameters; an objective's threshold as a dashed line.

use super::kit::{
    draw_legend, draw_line, draw_note, fmt_count, fmt_ms, fmt_pct, fmt_plain, fmt_usd, frame,
    layout, perr, render, Axis, Chart, Entry, Swatch, PALETTE,
};
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// The unit of a sweep chart's y axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YUnit {
    /// Milliseconds.
    Ms,
    /// A fraction, drawn as percent.
    Fraction,
    /// Requests per second.
    Rate,
    /// Dollars.
    Usd,
}

/// One line: (x, mean, interval's low end, high end) per point; NaN where there is none.
#[derive(Clone, Debug)]
pub struct SweepSeries {
    /// Legend label ("" when the sweep has one parameter).
    pub label: String,
    /// (x, mean, lo, hi), x a value of the first parameter or its index for named values.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// One sweep chart.
#[derive(Clone, Debug)]
pub struct SweepPlot {
    /// File stem ("sweep_p99").
    pub stem: String,
    /// Title.
    pub title: String,
    /// X axis description (the first parameter's key).
    pub x_desc: String,
    /// Names of the x values when they are not numbers (instance types): x is their index.
    pub x_names: Option<Vec<String>>,
    /// Y axis description.
    pub y_desc: String,
    /// Y unit.
    pub unit: YUnit,
    /// The lines.
    pub series: Vec<SweepSeries>,
    /// An objective's threshold, drawn dashed, with its legend text.
    pub threshold: Option<(f64, String)>,
    /// "bars: 95 % interval over R replications".
    pub note: String,
}

struct Drawn<'a> {
    plot: &'a SweepPlot,
    x: Axis,
    y: Axis,
}

fn scale(unit: YUnit, v: f64) -> f64 {
    if unit == YUnit::Fraction {
        v * 100.0
    } else {
        v
    }
}

impl Chart for Drawn<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let p = self.plot;
        let (area, legend) = layout(root, &p.title)?;
        let mut chart = frame(&area, &self.x, &self.y, &p.x_desc, &p.y_desc)?;
        let mut entries = Vec::new();
        let k = p.series.len().max(1) as f64;
        let span = self.x.hi - self.x.lo;
        let mut any = false;
        for (i, s) in p.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            // Lines side by side are nudged apart so their bars don't hide each other.
            let nudge = (i as f64 - (k - 1.0) / 2.0) * span * 0.006;
            let mut line = Vec::new();
            for &(x, mean, lo, hi) in &s.points {
                let (Some(px), Some(py)) = (self.x.pos(x), self.y.pos(scale(p.unit, mean))) else {
                    line.push((f64::NAN, f64::NAN));
                    continue;
                };
                any = true;
                let px = px + nudge;
                line.push((px, py));
                if let (Some(l), Some(h)) =
                    (self.y.pos(scale(p.unit, lo)), self.y.pos(scale(p.unit, hi)))
                {
                    let cap = span * 0.008;
                    let style = color.stroke_width(2);
                    chart
                        .draw_series([
                            PathElement::new(vec![(px, l), (px, h)], style),
                            PathElement::new(vec![(px - cap, l), (px + cap, l)], style),
                            PathElement::new(vec![(px - cap, h), (px + cap, h)], style),
                        ])
                        .map_err(perr)?;
                }
            }
            // The line is drawn in plot space already: an identity axis pair would be needed to
            // reuse draw_line's mapping, so the points go through a linear stand-in.
            let plain = Axis::linear(self.x.lo, self.x.hi, 2, fmt_plain);
            let plain_y = Axis::linear(self.y.lo, self.y.hi, 2, fmt_plain);
            draw_line(&mut chart, &plain, &plain_y, &line, color, 2, true)?;
            if !s.label.is_empty() {
                entries.push(Entry::new(s.label.clone(), color, Swatch::LinePoint));
            }
        }
        if let Some((t, text)) = &p.threshold {
            if let Some(py) = self.y.pos(scale(p.unit, *t)) {
                let red = RGBColor(200, 30, 30);
                let mut x = self.x.lo;
                let dash = span / 60.0;
                let mut dashes = Vec::new();
                while x < self.x.hi {
                    dashes.push(PathElement::new(
                        vec![(x, py), ((x + dash * 0.6).min(self.x.hi), py)],
                        red.stroke_width(2),
                    ));
                    x += dash;
                }
                chart.draw_series(dashes).map_err(perr)?;
                entries.push(Entry::new(text.clone(), red, Swatch::Dashed));
            }
        }
        if !any {
            draw_note(
                &chart,
                &self.x,
                &self.y,
                "no point to show: nothing was measured",
            )?;
        }
        entries.push(Entry::new(
            p.note.clone(),
            RGBColor(90, 90, 90),
            Swatch::Tick,
        ));
        draw_legend(&legend, 8, &entries)
    }
}

/// The x axis of a plot: named values, or the numbers on a log axis when they span more than a
/// factor of 20 (and are positive), else a linear one.
fn x_axis(p: &SweepPlot) -> Axis {
    if let Some(names) = &p.x_names {
        return Axis::categories(names.clone());
    }
    let xs: Vec<f64> = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|q| q.0))
        .filter(|x| x.is_finite())
        .collect();
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if lo > 0.0 && hi / lo > 20.0 {
        return Axis::log(xs, (1.0, 10.0), fmt_count);
    }
    let pad = ((hi - lo) * 0.05).max(if hi.is_finite() { hi.abs() * 0.05 } else { 1.0 });
    Axis::linear(lo - pad, hi + pad, 8, fmt_count)
}

/// The y axis: from zero (or the lowest interval end, if negative) to a little above the highest
/// end or the threshold; a log axis for latencies spanning more than a factor of 30.
fn y_axis(p: &SweepPlot) -> Axis {
    let fmt = match p.unit {
        YUnit::Ms => fmt_ms,
        YUnit::Fraction => fmt_pct,
        YUnit::Rate => fmt_count,
        YUnit::Usd => fmt_usd,
    };
    let mut vals: Vec<f64> = p
        .series
        .iter()
        .flat_map(|s| s.points.iter().flat_map(|q| [q.1, q.2, q.3]))
        .map(|v| scale(p.unit, v))
        .filter(|v| v.is_finite())
        .collect();
    if let Some((t, _)) = &p.threshold {
        vals.push(scale(p.unit, *t));
    }
    let (lo, hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let positive: Vec<f64> = vals.iter().copied().filter(|v| *v > 0.0).collect();
    if p.unit == YUnit::Ms && lo > 0.0 && hi / lo > 30.0 {
        return Axis::log(positive, (1.0, 1000.0), fmt);
    }
    if !lo.is_finite() {
        return Axis::linear(0.0, 1.0, 8, fmt);
    }
    let top = if p.unit == YUnit::Fraction {
        (hi * 1.1).clamp(0.1, 100.0)
    } else {
        hi * 1.1
    };
    Axis::linear(lo.min(0.0), top.max(lo.min(0.0) + 1e-9), 8, fmt)
}

/// Draws every plot into `dir` (PNG and SVG); returns the file names written.
pub fn sweep_charts(dir: &Path, plots: &[SweepPlot]) -> Result<Vec<String>, ReportError> {
    let mut written = Vec::new();
    for p in plots {
        let d = Drawn {
            plot: p,
            x: x_axis(p),
            y: y_axis(p),
        };
        render(dir, &p.stem, &d, &mut written)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::test_util::{assert_files, temp_dir};

    fn plot(stem: &str, series: Vec<SweepSeries>, names: Option<Vec<String>>) -> SweepPlot {
        SweepPlot {
            stem: stem.into(),
            title: "p99 against users".into(),
            x_desc: "workload.users".into(),
            x_names: names,
            y_desc: "p99".into(),
            unit: YUnit::Ms,
            series,
            threshold: Some((300.0, "objective p(99) < 300ms".into())),
            note: "bars: 95 % interval over 4 replications".into(),
        }
    }

    #[test]
    fn sweep_charts_are_written_for_numbers_names_and_nothing() {
        let dir = temp_dir("sweep");
        let s = |label: &str, k: f64| SweepSeries {
            label: label.into(),
            points: (0..5)
                .map(|i| {
                    let x = 10f64.powi(i + 1);
                    let m = k * (i as f64 + 1.0) * 20.0;
                    (x, m, m * 0.9, m * 1.1)
                })
                .collect(),
        };
        let plots = vec![
            plot("a", vec![s("c5.large", 1.0), s("c5.xlarge", 0.5)], None),
            plot(
                "b",
                vec![SweepSeries {
                    label: String::new(),
                    points: vec![(0.0, 5.0, 4.0, 6.0), (1.0, 7.0, f64::NAN, f64::NAN)],
                }],
                Some(vec!["c5.large".into(), "c5.xlarge".into()]),
            ),
            plot(
                "c",
                vec![SweepSeries {
                    label: String::new(),
                    points: vec![(1.0, f64::NAN, f64::NAN, f64::NAN)],
                }],
                None,
            ),
        ];
        let names = sweep_charts(&dir, &plots).expect("charts");
        assert_files(&dir, &names, 6);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
