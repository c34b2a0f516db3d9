//! The plotting kit every chart is drawn with: the bundled font, rendering one chart to PNG and
//! SVG, axes and number formats, the layout (title band, plot, legend column), the frame, lines,
//! notes, legends and the label strip above a plot. Nothing here knows a run or a journey.
//!
//! Axes are computed here rather than by plotters: a log axis is drawn as a linear axis over
//! `log10(value)` with ticks at 1-2-5 or decade steps, which keeps every chart on one coordinate
//! type and lets odd data (NaN, zero, a single point, huge values) degrade to an empty but valid
//! chart instead of a panic.

use crate::report::ReportError;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

/// The bundled font (DejaVu Sans, see `assets/fonts/DejaVu-LICENSE.txt`).
const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// Family name the font is registered under and every text style asks for.
pub(super) const FONT: &str = "sans-serif";

/// Default chart size in pixels (PNG) and user units (SVG).
const SIZE: (u32, u32) = (1200, 600);
/// Size of charts with two stacked panels.
pub(super) const SIZE_TALL: (u32, u32) = (1200, 760);
/// Width of the legend column on the right of every chart.
pub(super) const LEGEND_W: u32 = 300;

// Sized to be read from the back of a lecture hall when the chart fills a projector's width.
pub(super) const TITLE_PX: u32 = 28;
const DESC_PX: u32 = 19;
const TICK_PX: u32 = 17;
const LEGEND_PX: u32 = 17;
const NOTE_PX: u32 = 15;

const GRID_BOLD: RGBColor = RGBColor(210, 210, 210);
const GRID_LIGHT: RGBColor = RGBColor(240, 240, 240);
pub(super) const INK: RGBColor = RGBColor(40, 40, 40);

/// A qualitative palette (Tableau 10) for lines that have no meaning-bound colour.
pub(super) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Both axes of every chart: linear f64 coordinates with explicit tick positions.
pub(super) type Coord = Cartesian2d<Axis, Axis>;

/// Registers the bundled font with plotters, once per process.
pub(super) fn ensure_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "the bundled font DejaVuSans.ttf could not be parsed".to_string())
    })
    .clone()
}

/// Turns any plotting error into the message stored in [`ReportError::Chart`].
pub(super) fn perr<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// One chart, drawn the same way on any backend.
pub(super) trait Chart {
    /// Image size in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }
    /// Draws the whole chart onto `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Draws `chart` into `dir/stem.png` and `dir/stem.svg`, appending the file names to `written`.
pub(super) fn render(
    dir: &Path,
    stem: &str,
    chart: &impl Chart,
    written: &mut Vec<String>,
) -> Result<(), ReportError> {
    for ext in ["png", "svg"] {
        let name = format!("{stem}.{ext}");
        let path = dir.join(&name);
        let size = chart.size();
        let result = ensure_font().and_then(|()| {
            // Belt and braces: a panic inside the plotting library becomes a report error.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if ext == "png" {
                    paint(BitMapBackend::new(&path, size).into_drawing_area(), chart)
                } else {
                    paint(SVGBackend::new(&path, size).into_drawing_area(), chart)
                }
            }))
            .unwrap_or_else(|_| Err("the plotting library panicked".to_string()))
        });
        result.map_err(|message| ReportError::Chart {
            path: path.clone(),
            message,
        })?;
        written.push(name);
    }
    Ok(())
}

/// Fills the background, draws the chart and writes the file.
fn paint<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    chart: &impl Chart,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(perr)?;
    chart.draw(&root)?;
    root.present().map_err(perr)
}

// ---------------------------------------------------------------------------------------------
// Axes and number formatting
// ---------------------------------------------------------------------------------------------

/// One axis: its range and ticks in plot space (log10 of the value on a log axis).
#[derive(Clone, Debug)]
pub(super) struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    log: bool,
    ticks: Vec<f64>,
    light: Vec<f64>,
    fmt: fn(f64) -> String,
    /// Names of categories at 0, 1, 2, … (a categorical axis; empty otherwise).
    names: Vec<String>,
}

impl Axis {
    /// A linear axis covering `min..max` with about `target` round ticks.
    pub(super) fn linear(min: f64, max: f64, target: usize, fmt: fn(f64) -> String) -> Axis {
        let (mut lo, mut hi) = finite_range(min, max, 0.0, 1.0);
        if hi - lo < 1e-9 * hi.abs().max(1.0) {
            let pad = (hi.abs() * 0.1).max(1.0);
            lo -= pad;
            hi += pad;
        }
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let mut ticks = Vec::new();
        let mut v = (lo / step).ceil() * step;
        while v <= hi + step * 1e-9 && ticks.len() < 100 {
            // Avoid "-0" labels and accumulated rounding.
            ticks.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
            v += step;
        }
        Axis {
            lo,
            hi,
            log: false,
            ticks,
            light: Vec::new(),
            fmt,
            names: Vec::new(),
        }
    }

    /// A categorical axis: `names` at 0, 1, 2, …, each labelled by its name.
    pub(super) fn categories(names: Vec<String>) -> Axis {
        let n = names.len().max(1) as f64;
        Axis {
            lo: -0.5,
            hi: n - 0.5,
            log: false,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            light: Vec::new(),
            fmt: fmt_plain,
            names,
        }
    }

    /// A linear axis with integer ticks only (counts of things).
    pub(super) fn integer(max: f64, fmt: fn(f64) -> String) -> Axis {
        let top = if max.is_finite() { max.max(1.0) } else { 1.0 };
        let mut a = Axis::linear(0.0, top * 1.12 + 0.5, 8, fmt);
        if a.ticks.len() > 1 && a.ticks[1] - a.ticks[0] < 1.0 {
            a.ticks.retain(|t| t.fract() == 0.0);
        }
        a
    }

    /// A log axis covering the positive, finite values in `values` (whole decades, padded so
    /// markers at the extremes are not cut). Falls back to `fallback` when there are none.
    pub(super) fn log(
        values: impl IntoIterator<Item = f64>,
        fallback: (f64, f64),
        fmt: fn(f64) -> String,
    ) -> Axis {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            if v.is_finite() && v > 0.0 {
                min = min.min(v);
                max = max.max(v);
            }
        }
        if !min.is_finite() || !max.is_finite() {
            (min, max) = fallback;
        }
        // Half-decade bounds with a little room beyond the extreme points, spanning at least
        // one whole decade so there is always a labelled tick.
        let mut lo = ((min.log10() - 0.05) * 2.0).floor() / 2.0;
        let mut hi = ((max.log10() + 0.05) * 2.0).ceil() / 2.0;
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        lo = lo.clamp(-300.0, 300.0);
        hi = hi.clamp(lo, 309.0);
        if hi - lo < 1.0 {
            lo -= 0.5;
        }
        if hi - lo < 1.0 {
            hi += 0.5;
        }
        let span = hi - lo;
        let every = ((span / 9.0).floor() as i64 + 1).max(1);
        let mut ticks = Vec::new();
        let mut light = Vec::new();
        let first = lo.floor() as i64;
        for d in first..=(hi.ceil() as i64) {
            let df = d as f64;
            if df >= lo && df <= hi && (d - first) % every == 0 {
                ticks.push(df);
            }
            if span > 12.0 {
                continue;
            }
            for k in 2..=9 {
                let p = df + f64::from(k).log10();
                if p >= lo && p <= hi {
                    light.push(p);
                    if span <= 3.5 && (k == 2 || k == 5) {
                        ticks.push(p);
                    }
                }
            }
        }
        ticks.sort_by(f64::total_cmp);
        Axis {
            lo,
            hi,
            log: true,
            ticks,
            light,
            fmt,
            names: Vec::new(),
        }
    }

    /// Where a data value goes on this axis, or None if it cannot be drawn (NaN, ≤ 0 on a log
    /// axis). Values beyond the range are pinned to its edge.
    pub(super) fn pos(&self, v: f64) -> Option<f64> {
        let p = if self.log {
            if v > 0.0 {
                v.log10()
            } else {
                return None;
            }
        } else {
            v
        };
        p.is_finite().then(|| p.clamp(self.lo, self.hi))
    }

    /// Tick label for a plot-space position.
    fn label(&self, p: f64) -> String {
        if !self.names.is_empty() {
            let i = p.round();
            return if i >= 0.0 && (i as usize) < self.names.len() {
                ellipsize(&self.names[i as usize], 18)
            } else {
                String::new()
            };
        }
        let v = if self.log { 10f64.powf(p) } else { p };
        (self.fmt)(v)
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        let f = if span > 0.0 && v.is_finite() {
            ((v - self.lo) / span).clamp(-1.0, 2.0)
        } else {
            0.5
        };
        limit.0 + (f64::from(limit.1 - limit.0) * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// `min..max` if both are finite and ordered, else the fallback.
fn finite_range(min: f64, max: f64, lo: f64, hi: f64) -> (f64, f64) {
    if min.is_finite() && max.is_finite() && min <= max {
        (min, max)
    } else {
        (lo, hi)
    }
}

/// The 1-2-5 step at or above `raw`.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// A number with at most three significant digits and no trailing zeros: 0.05, 2.5, 120, 3500.
pub(super) fn fmt_plain(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let a = v.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        (2.0 - a.log10().floor()).clamp(2.0, 12.0) as usize
    };
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// 950, 1,200, 35,000, 2M.
pub fn fmt_count(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", fmt_plain(v / 1e9))
    } else if a >= 1e6 {
        format!("{}M", fmt_plain(v / 1e6))
    } else if a >= 1e3 {
        // Whole thousands with separators: 1,000 and 250,000.
        let digits = crate::scenario::error::thousands(a.round() as u64);
        if v < 0.0 {
            format!("-{digits}")
        } else {
            digits
        }
    } else {
        fmt_plain(v)
    }
}

/// Latency in ms shown with a unit: 250 µs, 20 ms, 1.5 s, 86k s.
pub fn fmt_ms(v: f64) -> String {
    let a = v.abs();
    if a >= 1_000.0 {
        format!("{} s", fmt_count(v / 1_000.0))
    } else if a >= 1.0 || a == 0.0 {
        format!("{} ms", fmt_plain(v))
    } else {
        format!("{} µs", fmt_plain(v * 1_000.0))
    }
}

/// Percent.
pub(super) fn fmt_pct(v: f64) -> String {
    format!("{} %", fmt_plain(v))
}

/// Dollars.
pub fn fmt_usd(v: f64) -> String {
    format!("${}", fmt_count(v))
}

/// Shortens `s` to at most `n` characters with an ellipsis.
pub(super) fn ellipsize(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let keep: String = s.chars().take(n.saturating_sub(1)).collect();
    // Cut at the last word boundary when there is one in the second half: a label reads
    // "taken out of…", never "taken out of rotati…".
    let half = keep.chars().count() / 2;
    let cut = keep
        .char_indices()
        .rev()
        .find(|&(i, c)| c == ' ' && keep[..i].chars().count() >= half)
        .map(|(i, _)| i);
    let mut t = match cut {
        Some(i) => keep[..i].trim_end_matches([',', ';', ':', ' ']).to_string(),
        None => keep,
    };
    t.push('…');
    t
}

/// `text` broken into lines at spaces so each is at most `max_px` wide in `style` (a single word
/// wider than that is shortened).
pub(super) fn wrap_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_px: i32,
) -> Result<Vec<String>, String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if area.estimate_text_size(&candidate, style).map_err(perr)?.0 as i32 <= max_px
            || line.is_empty()
        {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
        .into_iter()
        .map(|l| fit_text(area, &l, style, max_px))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Shared drawing pieces
// ---------------------------------------------------------------------------------------------

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
pub(super) enum Swatch {
    /// A solid line of the given width.
    Line(u32),
    /// A line with a point marker.
    LinePoint,
    /// A dashed line.
    Dashed,
    /// A dotted line.
    Dotted,
    /// A shaded band.
    Band,
    /// A short vertical tick.
    Tick,
    /// A hollow point marker.
    Hollow,
    /// Text only.
    None,
}

/// One row of a legend.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

impl Entry {
    pub(super) fn new(label: impl Into<String>, color: RGBColor, swatch: Swatch) -> Entry {
        Entry {
            label: label.into(),
            color,
            swatch,
        }
    }
}

/// `text`, shortened with an ellipsis until it is at most `max_px` wide in `style`.
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
    max_px: i32,
) -> Result<String, String> {
    let mut n = text.chars().count();
    let mut t = text.to_string();
    while n > 1 && area.estimate_text_size(&t, style).map_err(perr)?.0 as i32 > max_px {
        n -= 1;
        t = ellipsize(text, n);
    }
    Ok(t)
}

/// Two drawing areas: (plot, legend).
type Areas<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

/// Splits off the title band and the legend column: returns (plot area, legend area).
pub(super) fn layout<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<Areas<DB>, String> {
    let body = root
        .titled(
            &ellipsize(title, 90),
            (FONT, TITLE_PX).into_font().color(&INK),
        )
        .map_err(perr)?;
    let (w, _) = body.dim_in_pixel();
    let (plot, legend) = body.split_horizontally(w.saturating_sub(LEGEND_W));
    Ok((plot, legend))
}

/// Draws a legend in `area`, starting `top` pixels down.
pub(super) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    top: i32,
    entries: &[Entry],
) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    let row = 26;
    let style = (FONT, LEGEND_PX).into_font().color(&INK);
    let mut y = top + 12 - row;
    for e in entries {
        y += row;
        if y + row / 2 > h as i32 {
            break;
        }
        let (x0, x1) = (10, 42);
        let c = e.color;
        match e.swatch {
            Swatch::Line(width) => area
                .draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    c.stroke_width(width),
                ))
                .map_err(perr)?,
            Swatch::LinePoint => {
                area.draw(&PathElement::new(vec![(x0, y), (x1, y)], c.stroke_width(2)))
                    .map_err(perr)?;
                area.draw(&Circle::new(((x0 + x1) / 2, y), 4, c.filled()))
                    .map_err(perr)?;
            }
            Swatch::Dashed => {
                for x in [x0, x0 + 12, x0 + 24] {
                    area.draw(&PathElement::new(
                        vec![(x, y), ((x + 7).min(x1), y)],
                        c.stroke_width(2),
                    ))
                    .map_err(perr)?;
                }
            }
            Swatch::Dotted => {
                for x in (x0..x1).step_by(5) {
                    area.draw(&PathElement::new(
                        vec![(x, y), (x + 2, y)],
                        c.stroke_width(2),
                    ))
                    .map_err(perr)?;
                }
            }
            Swatch::Band => area
                .draw(&Rectangle::new(
                    [(x0, y - 7), (x1, y + 7)],
                    c.mix(0.25).filled(),
                ))
                .map_err(perr)?,
            Swatch::Tick => area
                .draw(&PathElement::new(
                    vec![((x0 + x1) / 2, y - 8), ((x0 + x1) / 2, y + 8)],
                    c.stroke_width(3),
                ))
                .map_err(perr)?,
            Swatch::Hollow => {
                area.draw(&Circle::new(((x0 + x1) / 2, y), 5, WHITE.filled()))
                    .map_err(perr)?;
                area.draw(&Circle::new(((x0 + x1) / 2, y), 5, c.stroke_width(2)))
                    .map_err(perr)?;
            }
            Swatch::None => {}
        }
        // A long label wraps onto the rows below its swatch rather than being cut.
        let (x_text, width) = match e.swatch {
            Swatch::None => (10, w as i32 - 24),
            _ => (x1 + 8, w as i32 - x1 - 14),
        };
        for (k, line) in wrap_text(area, &e.label, &style, width)?
            .into_iter()
            .enumerate()
        {
            if k > 0 {
                y += row - 5;
                if y + row / 2 > h as i32 {
                    break;
                }
            }
            area.draw(&Text::new(
                line,
                (x_text, y),
                style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(perr)?;
        }
    }
    Ok(())
}

/// Sets up a chart on `area` with the mesh and axis descriptions drawn.
pub(super) fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: &Axis,
    y: &Axis,
    x_desc: &str,
    y_desc: &str,
) -> Result<ChartContext<'a, DB, Coord>, String> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(8)
        .margin_right(24)
        .margin_left(6)
        .margin_bottom(4)
        .x_label_area_size(52)
        .y_label_area_size(88)
        .build_cartesian_2d(x.clone(), y.clone())
        .map_err(perr)?;
    let xl = |v: &f64| x.label(*v);
    let yl = |v: &f64| y.label(*v);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&xl)
        .y_label_formatter(&yl)
        .label_style((FONT, TICK_PX).into_font().color(&INK))
        .axis_desc_style((FONT, DESC_PX).into_font().color(&INK))
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .axis_style(RGBColor(120, 120, 120))
        .draw()
        .map_err(perr)?;
    Ok(chart)
}

/// Draws data-space points as a line, broken wherever a point cannot be drawn (NaN, ≤ 0 on a
/// log axis). Isolated points become dots. With `markers`, every point also gets a dot.
pub(super) fn draw_line<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Coord>,
    x: &Axis,
    y: &Axis,
    points: &[(f64, f64)],
    color: RGBColor,
    width: u32,
    markers: bool,
) -> Result<(), String> {
    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(vx, vy) in points {
        match (x.pos(vx), y.pos(vy)) {
            (Some(px), Some(py)) => segments.last_mut().expect("never empty").push((px, py)),
            _ => {
                if !segments.last().expect("never empty").is_empty() {
                    segments.push(Vec::new());
                }
            }
        }
    }
    for seg in segments.iter().filter(|s| !s.is_empty()) {
        if seg.len() > 1 {
            chart
                .draw_series(LineSeries::new(
                    seg.iter().copied(),
                    color.stroke_width(width),
                ))
                .map_err(perr)?;
        }
        if markers || seg.len() == 1 {
            let r = if markers { 4 } else { 2 + width as i32 / 2 };
            chart
                .draw_series(seg.iter().map(|&p| Circle::new(p, r, color.filled())))
                .map_err(perr)?;
        }
    }
    Ok(())
}

/// Writes a note in the middle of the plotting area (e.g. "no data").
pub(super) fn draw_note<DB: DrawingBackend>(
    chart: &ChartContext<'_, DB, Coord>,
    x: &Axis,
    y: &Axis,
    text: &str,
) -> Result<(), String> {
    chart
        .plotting_area()
        .draw(&Text::new(
            text.to_string(),
            ((x.lo + x.hi) / 2.0, (y.lo + y.hi) / 2.0),
            (FONT, DESC_PX)
                .into_font()
                .color(&RGBColor(120, 120, 120))
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(perr)
}

/// Where a legend starts: level with the top of the plot.
pub(super) fn legend_top<DB: DrawingBackend>(strip: &Option<DrawingArea<DB, Shift>>) -> i32 {
    8 + strip.as_ref().map_or(0, |s| s.dim_in_pixel().1 as i32)
}

/// Height of one row of the label strip.
const LABEL_ROW: u32 = NOTE_PX + 8;
/// Rows in the label strip.
const LABEL_ROWS: u32 = 3;

/// Splits a strip for mark labels off the top of `area` when there are labels to write.
pub(super) fn label_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[(f64, String, RGBColor)],
) -> (Option<DrawingArea<DB, Shift>>, DrawingArea<DB, Shift>) {
    if labels.is_empty() {
        return (None, area.clone());
    }
    let (strip, rest) = area.split_vertically(LABEL_ROW * LABEL_ROWS + 6);
    (Some(strip), rest)
}

/// Writes labels into the strip above the plot, each next to a thin connector that points at
/// its time, in the first row where it overlaps nothing; labels that fit nowhere are dropped.
pub(super) fn draw_strip<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Coord>,
    x: &Axis,
    y: &Axis,
    labels: &[(f64, String, RGBColor)],
) -> Result<Vec<Entry>, String> {
    let mut notes = Vec::new();
    let (xr, _) = chart.plotting_area().get_pixel_range();
    let base = strip.get_base_pixel();
    let (_, strip_h) = strip.dim_in_pixel();
    let row_h = LABEL_ROW as i32;
    let mut right_edge = vec![i32::MIN; LABEL_ROWS as usize];
    let mut placed = Vec::new();
    for (t, text, color) in labels {
        let Some(p) = x.pos(*t) else { continue };
        let px = chart.backend_coord(&(p, y.hi)).0;
        let style = (FONT, NOTE_PX).into_font().color(color);
        // Full text first; else a shortened one with a number whose full text the legend
        // lists (never a word cut in the middle, never a label silently lost).
        let tag = format!("[{}]", notes.len() + 1);
        let mut spot = None;
        'variants: for candidate in [
            text.clone(),
            format!("{} {tag}", ellipsize(text, 36)),
            format!("{} {tag}", ellipsize(text, 18)),
            tag.clone(),
        ] {
            let (w, _) = strip.estimate_text_size(&candidate, &style).map_err(perr)?;
            let w = w as i32;
            for (r, edge) in right_edge.iter().enumerate() {
                for x0 in [px + 5, px - 5 - w] {
                    if x0 >= xr.start && x0 + w <= xr.end + 20 && x0 > *edge + 12 {
                        spot = Some((r, x0, w, candidate));
                        break 'variants;
                    }
                }
            }
        }
        let Some((r, x0, w, shown)) = spot else {
            // No room even for a number above the plot: the legend still says it.
            notes.push(Entry::new(format!("also: {text}"), *color, Swatch::None));
            continue;
        };
        if shown != *text {
            notes.push(Entry::new(format!("{tag} {text}"), *color, Swatch::None));
        }
        let text = shown;
        right_edge[r] = x0 + w;
        placed.push((px - base.0, x0 - base.0, r as i32, w, text, *color, style));
    }
    // Connectors first, so labels in lower rows cover the ones passing behind them.
    for (px, _, r, _, _, color, _) in &placed {
        let y0 = 3 + r * row_h + row_h / 2;
        strip
            .draw(&PathElement::new(
                vec![(*px, y0), (*px, strip_h as i32)],
                color.stroke_width(1),
            ))
            .map_err(perr)?;
    }
    for (_, x0, r, w, text, _, style) in placed {
        let y0 = 3 + r * row_h;
        strip
            .draw(&Rectangle::new(
                [(x0 - 3, y0), (x0 + w + 3, y0 + row_h - 2)],
                WHITE.filled(),
            ))
            .map_err(perr)?;
        strip
            .draw(&Text::new(
                text.clone(),
                (x0, y0 + row_h / 2),
                style.pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(perr)?;
    }
    Ok(notes)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsize_cuts_at_a_word() {
        assert_eq!(ellipsize("taken out of rotation now", 20), "taken out of…");
        assert_eq!(ellipsize("short", 20), "short");
        // No space in the second half: cut where it must.
        assert_eq!(ellipsize("abcdefghijklmnop", 8), "abcdefg…");
    }

    #[test]
    fn axes_and_labels() {
        let a = Axis::log([3.0, 4000.0], (1.0, 10.0), fmt_ms);
        assert_eq!((a.lo, a.hi), (0.0, 4.0));
        assert_eq!(a.ticks, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        let b = Axis::log([50.0, 60.0], (1.0, 10.0), fmt_ms);
        assert!(b.ticks.contains(&2.0), "{:?}", b.ticks);
        assert_eq!(a.label(3.0), "1 s");
        assert_eq!(a.pos(-1.0), None);
        assert_eq!(a.pos(f64::NAN), None);
        let l = Axis::linear(0.0, 100.0, 5, fmt_pct);
        assert_eq!(l.ticks, vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(fmt_count(12_000.0), "12,000");
        assert_eq!(fmt_count(100_000.0), "100,000");
        assert_eq!(fmt_count(2_500_000.0), "2.5M");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_ms(0.25), "250 µs");
        assert_eq!(fmt_plain(0.05), "0.05");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
    }
}
