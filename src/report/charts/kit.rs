//! Charts (PNG and SVG) drawn with plotters.
//!
//! Every chart is described once by a type implementing the private `Chart` trait, whose drawing
//! code is generic over the plotters backend; [`render`] then draws it twice, into a PNG
//! (bitmap) and an SVG file. Text uses the bundled DejaVu Sans (no system fonts are read), and
//! nothing time-dependent is embedded, so the same run always gives the same files.
//!
//! Axes are computed here rather than by plotters: a log axis is drawn as a linear axis over
//! `log10(value)` with ticks at 1-2-5 or decade steps, which keeps every chart on one coordinate
//! type and lets odd data (NaN, zero, a single point, huge values) degrade to an empty but valid
//! chart instead of a panic.

use crate::report::ReportError;
use crate::journey::JourneyPoint;
use crate::metrics::WindowRow;
use crate::model::kit::EventKind;
use crate::model::request::Outcome;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

/// The bundled font (DejaVu Sans, see `assets/fonts/DejaVu-LICENSE.txt`).
const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// Family name the font is registered under and every text style asks for.
const FONT: &str = "sans-serif";

/// Default chart size in pixels (PNG) and user units (SVG).
const SIZE: (u32, u32) = (1200, 600);
/// Size of charts with two stacked panels.
const SIZE_TALL: (u32, u32) = (1200, 760);
/// Width of the legend column on the right of every chart.
const LEGEND_W: u32 = 285;

const TITLE_PX: u32 = 24;
const DESC_PX: u32 = 17;
const TICK_PX: u32 = 15;
const LEGEND_PX: u32 = 15;
const NOTE_PX: u32 = 14;

/// Spikes or faults above this count, or kinds of component event above it, get no text.
const MAX_LABELLED: usize = 8;

const GRID_BOLD: RGBColor = RGBColor(210, 210, 210);
const GRID_LIGHT: RGBColor = RGBColor(240, 240, 240);
const INK: RGBColor = RGBColor(40, 40, 40);
const FAULT: RGBColor = RGBColor(90, 90, 90);
const EVENT: RGBColor = RGBColor(120, 70, 160);
const SPIKE: RGBColor = RGBColor(255, 160, 40);
const TIMEOUT: RGBColor = RGBColor(150, 150, 150);

/// A qualitative palette (Tableau 10) for lines that have no meaning-bound colour.
const PALETTE: [RGBColor; 10] = [
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
type Coord = Cartesian2d<Axis, Axis>;

/// Registers the bundled font with plotters, once per process.
fn ensure_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .map_err(|_| "the bundled font DejaVuSans.ttf could not be parsed".to_string())
    })
    .clone()
}

/// Turns any plotting error into the message stored in [`ReportError::Chart`].
fn perr<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// One chart, drawn the same way on any backend.
trait Chart {
    /// Image size in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }
    /// Draws the whole chart onto `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Draws `chart` into `dir/stem.png` and `dir/stem.svg`, appending the file names to `written`.
fn render(
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
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    light: Vec<f64>,
    fmt: fn(f64) -> String,
}

impl Axis {
    /// A linear axis covering `min..max` with about `target` round ticks.
    fn linear(min: f64, max: f64, target: usize, fmt: fn(f64) -> String) -> Axis {
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
        }
    }

    /// A linear axis with integer ticks only (counts of things).
    fn integer(max: f64, fmt: fn(f64) -> String) -> Axis {
        let top = if max.is_finite() { max.max(1.0) } else { 1.0 };
        let mut a = Axis::linear(0.0, top * 1.12 + 0.5, 8, fmt);
        if a.ticks.len() > 1 && a.ticks[1] - a.ticks[0] < 1.0 {
            a.ticks.retain(|t| t.fract() == 0.0);
        }
        a
    }

    /// A log axis covering the positive, finite values in `values` (whole decades, padded so
    /// markers at the extremes are not cut). Falls back to `fallback` when there are none.
    fn log(
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
        }
    }

    /// Where a data value goes on this axis, or None if it cannot be drawn (NaN, ≤ 0 on a log
    /// axis). Values beyond the range are pinned to its edge.
    fn pos(&self, v: f64) -> Option<f64> {
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
fn fmt_plain(v: f64) -> String {
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
fn fmt_count(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{}G", fmt_plain(v / 1e9))
    } else if a >= 1e6 {
        format!("{}M", fmt_plain(v / 1e6))
    } else if a >= 1e3 {
        // Whole thousands with separators: 1,000 and 250,000.
        let digits = format!("{}", a.round() as u64);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 {
            out.insert(0, '-');
        }
        out
    } else {
        fmt_plain(v)
    }
}

/// Latency in ms shown with a unit: 250 µs, 20 ms, 1.5 s, 86k s.
fn fmt_ms(v: f64) -> String {
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
fn fmt_pct(v: f64) -> String {
    format!("{} %", fmt_plain(v))
}

/// Dollars.
fn fmt_usd(v: f64) -> String {
    format!("${}", fmt_count(v))
}

/// Shortens `s` to at most `n` characters with an ellipsis.
fn ellipsize(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

// ---------------------------------------------------------------------------------------------
// Shared drawing pieces
// ---------------------------------------------------------------------------------------------

/// How a legend entry is drawn.
#[derive(Clone, Copy, Debug)]
enum Swatch {
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
struct Entry {
    label: String,
    color: RGBColor,
    swatch: Swatch,
}

impl Entry {
    fn new(label: impl Into<String>, color: RGBColor, swatch: Swatch) -> Entry {
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

/// A named per-window value of the time series, with its colour and line width.
type RowLine = (&'static str, fn(&WindowRow) -> f64, RGBColor, u32);

/// Splits off the title band and the legend column: returns (plot area, legend area).
fn layout<DB: DrawingBackend>(
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
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    top: i32,
    entries: &[Entry],
) -> Result<(), String> {
    let (w, h) = area.dim_in_pixel();
    let row = 24;
    let style = (FONT, LEGEND_PX).into_font().color(&INK);
    for (i, e) in entries.iter().enumerate() {
        let y = top + 12 + row * i as i32;
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
        let text = fit_text(area, &e.label, &style, w as i32 - x1 - 14)?;
        area.draw(&Text::new(
            text,
            (x1 + 8, y),
            style.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(perr)?;
    }
    Ok(())
}

/// Sets up a chart on `area` with the mesh and axis descriptions drawn.
fn frame<'a, DB: DrawingBackend>(
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
fn draw_line<DB: DrawingBackend>(
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
fn draw_note<DB: DrawingBackend>(
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

// ---------------------------------------------------------------------------------------------
// Time axis, and what happened when (spikes, faults, server events)
// ---------------------------------------------------------------------------------------------

/// Unit of the time axis.
#[derive(Clone, Copy, Debug)]
struct TimeUnit {
    ns: f64,
    name: &'static str,
}

impl TimeUnit {
    /// Seconds for short runs, hours for very long ones, minutes otherwise.
    fn for_span(span_ns: f64) -> TimeUnit {
        if span_ns <= 3.0 * 60e9 {
            TimeUnit { ns: 1e9, name: "s" }
        } else if span_ns > 12.0 * 3600e9 {
            TimeUnit {
                ns: 3600e9,
                name: "h",
            }
        } else {
            TimeUnit {
                ns: 60e9,
                name: "min",
            }
        }
    }
    fn of(self, ns: u64) -> f64 {
        ns as f64 / self.ns
    }
}

/// Things that happened during the run, placed on the time axis.
#[derive(Clone, Debug, Default)]
struct Marks {
    /// Spikes: (start, end, label) in time units.
    spikes: Vec<(f64, f64, String)>,
    /// Injected faults: (time, label).
    faults: Vec<(f64, String)>,
    /// Server events: (time, label).
    events: Vec<(f64, String)>,
}

impl Marks {
    fn from_run(scn: &Scenario, run: &RunOutput, unit: TimeUnit, end: f64) -> Marks {
        let users = f64::from(scn.client.users);
        let spikes = scn
            .client
            .curve
            .spikes
            .iter()
            .map(|&(at, mult, ramp, hold)| {
                let stop = at
                    .saturating_add(ramp.saturating_mul(2))
                    .saturating_add(hold);
                let label = if users > 0.0 {
                    format!(
                        "spike ×{} ({} → {} users)",
                        fmt_plain(mult),
                        fmt_count(users),
                        fmt_count((users * mult).round())
                    )
                } else {
                    format!("spike ×{}", fmt_plain(mult))
                };
                (unit.of(at), unit.of(stop).min(end), label)
            })
            .filter(|s| s.0 <= end)
            .collect();
        let faults = scn
            .faults
            .iter()
            .map(|f| (unit.of(f.at), f.describe()))
            .filter(|f| f.0 <= end)
            .collect();
        // Component events (servers, fleets, balancers, DNS) from the run's timeline; injected
        // faults are drawn from the scenario instead.
        let raw: Vec<(u64, &str, &str)> = run
            .timeline
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::Fault(_) | EventKind::FaultCleared))
            .map(|e| (e.at, e.component.as_str(), e.text.as_str()))
            .collect();
        let many = raw.iter().any(|e| e.1 != raw[0].1);
        let mut events: Vec<(f64, String)> = raw
            .into_iter()
            .map(|(t, who, what)| {
                let text = if many {
                    format!("{who}: {what}")
                } else {
                    what.to_string()
                };
                (unit.of(t), text)
            })
            .filter(|e| e.0 <= end)
            .collect();
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        Marks {
            spikes,
            faults,
            events,
        }
    }

    /// Legend rows for the kinds of marks present.
    fn legend(&self) -> Vec<Entry> {
        let mut v = Vec::new();
        if !self.spikes.is_empty() {
            v.push(Entry::new("load spike", SPIKE, Swatch::Band));
        }
        if !self.faults.is_empty() {
            v.push(Entry::new("injected fault", FAULT, Swatch::Dashed));
        }
        if !self.events.is_empty() {
            v.push(Entry::new(
                format!("component event ({})", self.events.len()),
                EVENT,
                Swatch::Tick,
            ));
        }
        v
    }

    /// Labels to write in the strip above the plot: spikes, faults and server events. Events
    /// that repeat (same text up to numbers) are labelled once, at their first occurrence, with
    /// a count. A kind with more than [`MAX_LABELLED`] labels gets no text at all.
    fn labels(&self) -> Vec<(f64, String, RGBColor)> {
        let mut out: Vec<(f64, String, RGBColor)> = Vec::new();
        if self.spikes.len() <= MAX_LABELLED {
            out.extend(
                self.spikes
                    .iter()
                    .map(|s| (s.0, s.2.clone(), RGBColor(170, 90, 0))),
            );
        }
        if self.faults.len() <= MAX_LABELLED {
            out.extend(self.faults.iter().map(|f| (f.0, f.1.clone(), FAULT)));
        }
        // Group events whose texts differ only in numbers; a number that varies within a group
        // is shown as "…" ("web[…]: booted and in service").
        let mut groups: Vec<EventGroup> = Vec::new();
        for (t, what) in &self.events {
            let (key, numbers) = split_numbers(what);
            match groups.iter_mut().find(|g| g.key == key) {
                Some(g) => {
                    g.count += 1;
                    for (kept, n) in g.numbers.iter_mut().zip(&numbers) {
                        if kept.as_deref() != Some(n.as_str()) {
                            *kept = None;
                        }
                    }
                }
                None => groups.push(EventGroup {
                    key,
                    first: *t,
                    numbers: numbers.into_iter().map(Some).collect(),
                    count: 1,
                }),
            }
        }
        if groups.len() <= MAX_LABELLED {
            out.extend(groups.into_iter().map(|g| {
                let mut numbers = g.numbers.iter();
                let mut text = String::new();
                for c in g.key.chars() {
                    if c == NUMBER {
                        text.push_str(numbers.next().and_then(|n| n.as_deref()).unwrap_or("…"));
                    } else {
                        text.push(c);
                    }
                }
                let text = if g.count > 1 {
                    format!("{}× {}", g.count, ellipsize(&text, 64))
                } else {
                    ellipsize(&text, 70)
                };
                (g.first, text, EVENT)
            }));
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    /// Draws bands, fault lines and event ticks (hanging from the top edge) under the data.
    fn draw_under<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Coord>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), String> {
        for (from, to, _) in &self.spikes {
            if let (Some(a), Some(b)) = (x.pos(*from), x.pos(*to)) {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(a, y.lo), (b, y.hi)],
                        SPIKE.mix(0.13).filled(),
                    )))
                    .map_err(perr)?;
            }
        }
        for (t, _) in &self.faults {
            if let Some(p) = x.pos(*t) {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(p, y.lo), (p, y.hi)],
                        7,
                        5,
                        FAULT.stroke_width(2),
                    ))
                    .map_err(perr)?;
            }
        }
        let (_, h) = chart.plotting_area().dim_in_pixel();
        let tick = (y.hi - y.lo) * 12.0 / f64::from(h.max(1));
        for (t, _) in &self.events {
            if let Some(p) = x.pos(*t) {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(p, y.hi), (p, y.hi - tick)],
                        EVENT.stroke_width(3),
                    )))
                    .map_err(perr)?;
            }
        }
        Ok(())
    }
}

/// Where a legend starts: level with the top of the plot.
fn legend_top<DB: DrawingBackend>(strip: &Option<DrawingArea<DB, Shift>>) -> i32 {
    8 + strip.as_ref().map_or(0, |s| s.dim_in_pixel().1 as i32)
}

/// Stands for a number in an event's grouping key.
const NUMBER: char = '\u{0}';

/// Events of one kind: same text up to numbers.
struct EventGroup {
    key: String,
    first: f64,
    /// Each number of the text, or None where members disagree.
    numbers: Vec<Option<String>>,
    count: usize,
}

/// Splits a text into a key with each number ("3", "0.72") replaced by [`NUMBER`], and the
/// numbers in order.
fn split_numbers(text: &str) -> (String, Vec<String>) {
    let mut key = String::new();
    let mut numbers = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
            numbers.push(chars[start..i].iter().collect());
            key.push(NUMBER);
        } else {
            if chars[i] != NUMBER {
                key.push(chars[i]);
            }
            i += 1;
        }
    }
    (key, numbers)
}

/// Height of one row of the label strip.
const LABEL_ROW: u32 = NOTE_PX + 8;
/// Rows in the label strip.
const LABEL_ROWS: u32 = 3;

/// Splits a strip for mark labels off the top of `area` when there are labels to write.
fn label_strip<DB: DrawingBackend>(
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
fn draw_strip<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    chart: &ChartContext<'_, DB, Coord>,
    x: &Axis,
    y: &Axis,
    labels: &[(f64, String, RGBColor)],
) -> Result<(), String> {
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
        // Full text first; a shortened one if that fits nowhere.
        let mut spot = None;
        'variants: for candidate in [text.clone(), ellipsize(text, 36)] {
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
        let Some((r, x0, w, text)) = spot else {
            continue;
        };
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
    Ok(())
}

/// What all time charts of a run share.
struct TimeFrame<'a> {
    name: String,
    rows: &'a [WindowRow],
    unit: TimeUnit,
    x: Axis,
    marks: Marks,
}

impl<'a> TimeFrame<'a> {
    /// The last touches of a panel over time: a "no data" note when the run recorded no windows,
    /// and the event labels in the strip above it.
    fn finish_panel<DB: DrawingBackend>(
        &self,
        chart: &ChartContext<'_, DB, Coord>,
        y: &Axis,
        strip: Option<&DrawingArea<DB, Shift>>,
        labels: &[(f64, String, RGBColor)],
    ) -> Result<(), String> {
        if self.rows.is_empty() {
            draw_note(
                chart,
                &self.x,
                y,
                "no data: the run recorded no time windows",
            )?;
        }
        if let Some(strip) = strip {
            draw_strip(strip, chart, &self.x, y, labels)?;
        }
        Ok(())
    }

    fn new(scn: &Scenario, run: &'a RunOutput) -> TimeFrame<'a> {
        let rows = &run.metrics.series[..];
        let last = rows.iter().map(|r| r.end).max().unwrap_or(0);
        let span = scn.duration.max(last);
        let unit = TimeUnit::for_span(span as f64);
        let end = unit.of(span);
        let end = if end > 0.0 && end.is_finite() {
            end
        } else {
            1.0
        };
        let x = Axis::linear(0.0, end, 12, fmt_count);
        TimeFrame {
            name: scn.name.clone(),
            rows,
            unit,
            marks: Marks::from_run(scn, run, unit, end),
            x,
        }
    }

    fn x_desc(&self) -> String {
        format!("simulated time ({})", self.unit.name)
    }

    /// Middle of a window, in time units.
    fn mid(&self, r: &WindowRow) -> f64 {
        (self.unit.of(r.start) + self.unit.of(r.end)) / 2.0
    }

    /// A per-window value plotted at the middle of each window.
    fn series(&self, f: impl Fn(&WindowRow) -> f64) -> Vec<(f64, f64)> {
        self.rows.iter().map(|r| (self.mid(r), f(r))).collect()
    }

    /// A gauge sampled at each window's end, as points at those ends (the first sample also
    /// stands for the start of the run).
    fn samples(&self, f: impl Fn(&WindowRow) -> f64) -> Vec<(f64, f64)> {
        let first = self.rows.first().map(|r| (self.unit.of(r.start), f(r)));
        first
            .into_iter()
            .chain(self.rows.iter().map(|r| (self.unit.of(r.end), f(r))))
            .collect()
    }

    /// A gauge sampled at each window's end, held until the next sample: the step changes at
    /// the sample that first saw the change, never before the event that caused it.
    fn steps(&self, f: impl Fn(&WindowRow) -> f64) -> Vec<(f64, f64)> {
        let mut pts = Vec::with_capacity(self.rows.len() * 2 + 1);
        let mut prev = None;
        for r in self.rows {
            let (t, v) = (self.unit.of(r.end), f(r));
            match prev {
                None => pts.push((self.unit.of(r.start), v)),
                Some(p) => pts.push((t, p)),
            }
            pts.push((t, v));
            prev = Some(v);
        }
        pts
    }
}

/// Requests per second over a window (NaN for an empty window).
fn per_second(r: &WindowRow, count: u64) -> f64 {
    let secs = r.end.saturating_sub(r.start) as f64 / 1e9;
    if secs > 0.0 {
        count as f64 / secs
    } else {
        f64::NAN
    }
}

// ---------------------------------------------------------------------------------------------
// Run charts
// ---------------------------------------------------------------------------------------------

/// Latency percentiles of successful requests over time.
struct LatencyChart<'a> {
    tf: &'a TimeFrame<'a>,
    timeout_ms: Option<f64>,
}

impl Chart for LatencyChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let tf = self.tf;
        let (area, legend) = layout(
            root,
            &format!("{} — latency of successful requests", tf.name),
        )?;
        let lines: [RowLine; 4] = [
            ("p50 (median)", |r| r.p50_ms, RGBColor(31, 119, 180), 2),
            ("p90", |r| r.p90_ms, RGBColor(44, 160, 44), 2),
            ("p99", |r| r.p99_ms, RGBColor(214, 39, 40), 3),
            ("p99.9", |r| r.p999_ms, RGBColor(240, 150, 150), 2),
        ];
        let values = tf
            .rows
            .iter()
            .flat_map(|r| [r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms])
            .chain(self.timeout_ms);
        let y = Axis::log(values, (1.0, 1000.0), fmt_ms);
        let labels = tf.marks.labels();
        let (strip, area) = label_strip(&area, &labels);
        let mut chart = frame(&area, &tf.x, &y, &tf.x_desc(), "latency (log scale)")?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        let mut entries: Vec<Entry> = Vec::new();
        // The faint p99.9 first, so p99 stays visible where they coincide (few requests).
        for i in [3, 0, 1, 2] {
            let (_, f, color, width) = lines[i];
            draw_line(&mut chart, &tf.x, &y, &tf.series(f), color, width, false)?;
        }
        for (name, _, color, width) in lines {
            entries.push(Entry::new(name, color, Swatch::Line(width)));
        }
        if let Some(t) = self.timeout_ms {
            if let Some(p) = y.pos(t) {
                chart
                    .draw_series(DashedLineSeries::new(
                        vec![(tf.x.lo, p), (tf.x.hi, p)],
                        3,
                        4,
                        TIMEOUT.stroke_width(2),
                    ))
                    .map_err(perr)?;
                entries.push(Entry::new(
                    format!("client timeout ({})", fmt_ms(t)),
                    TIMEOUT,
                    Swatch::Dotted,
                ));
            }
        }
        let any = tf.rows.iter().any(|r| r.p50_ms.is_finite());
        if !any {
            let msg = if tf.rows.is_empty() {
                "no data: the run recorded no time windows"
            } else {
                "no request succeeded: nothing to show"
            };
            draw_note(&chart, &tf.x, &y, msg)?;
        } else if tf.rows.iter().any(|r| !r.p50_ms.is_finite()) {
            entries.push(Entry::new(
                "(gap: no success in window)",
                WHITE,
                Swatch::None,
            ));
        }
        if let Some(strip) = &strip {
            draw_strip(strip, &chart, &tf.x, &y, &labels)?;
        }
        entries.extend(tf.marks.legend());
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// Outcome colours: ok in green, failures in distinct warm colours.
fn outcome_color(o: Outcome) -> RGBColor {
    match o {
        Outcome::Ok => RGBColor(44, 160, 44),
        Outcome::Timeout => RGBColor(255, 127, 14),
        Outcome::Refused => RGBColor(214, 39, 40),
        Outcome::Crashed => RGBColor(120, 20, 20),
        Outcome::DnsFailure => RGBColor(190, 150, 0),
        Outcome::Unavailable => RGBColor(227, 80, 180),
        Outcome::Throttled => RGBColor(160, 90, 60),
        Outcome::Error => RGBColor(250, 90, 90),
    }
}

/// Requests per second ending in each outcome over time.
struct OutcomesChart<'a> {
    tf: &'a TimeFrame<'a>,
}

impl Chart for OutcomesChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let tf = self.tf;
        let (area, legend) = layout(root, &format!("{} — how requests ended", tf.name))?;
        let present: Vec<Outcome> = Outcome::ALL
            .into_iter()
            .filter(|o| tf.rows.iter().any(|r| r.outcomes[o.index()] > 0))
            .collect();
        let series: Vec<(Outcome, Vec<(f64, f64)>)> = present
            .iter()
            .map(|&o| (o, tf.series(|r| per_second(r, r.outcomes[o.index()]))))
            .collect();
        let max = series
            .iter()
            .flat_map(|(_, s)| s.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let y = Axis::linear(0.0, if max > 0.0 { max * 1.1 } else { 1.0 }, 8, fmt_count);
        let labels = tf.marks.labels();
        let (strip, area) = label_strip(&area, &labels);
        let mut chart = frame(&area, &tf.x, &y, &tf.x_desc(), "requests per second")?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        let mut entries = Vec::new();
        // Failures first, success on top.
        for (o, s) in series.iter().rev() {
            let width = if *o == Outcome::Ok { 3 } else { 2 };
            draw_line(&mut chart, &tf.x, &y, s, outcome_color(*o), width, false)?;
        }
        for (o, _) in &series {
            let width = if *o == Outcome::Ok { 3 } else { 2 };
            entries.push(Entry::new(o.name(), outcome_color(*o), Swatch::Line(width)));
        }
        if series.is_empty() {
            draw_note(&chart, &tf.x, &y, "no request ended during the run")?;
        }
        if let Some(strip) = &strip {
            draw_strip(strip, &chart, &tf.x, &y, &labels)?;
        }
        entries.extend(tf.marks.legend());
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// CPU utilization (top panel) and load: users, requests in servers and backlogs (bottom panel).
struct UtilizationChart<'a> {
    tf: &'a TimeFrame<'a>,
}

impl Chart for UtilizationChart<'_> {
    fn size(&self) -> (u32, u32) {
        SIZE_TALL
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let tf = self.tf;
        let body = root
            .titled(
                &ellipsize(&format!("{} — CPU and load", tf.name), 90),
                (FONT, TITLE_PX).into_font().color(&INK),
            )
            .map_err(perr)?;
        let (_, h) = body.dim_in_pixel();
        let (top, bottom) = body.split_vertically(h / 2);
        let split = |a: &DrawingArea<DB, Shift>| {
            let (w, _) = a.dim_in_pixel();
            a.split_horizontally(w.saturating_sub(LEGEND_W))
        };
        let ((top_plot, top_legend), (bot_plot, bot_legend)) = (split(&top), split(&bottom));

        // Top: CPU utilization.
        let cpu = tf.series(|r| r.gauges.utilization * 100.0);
        let cpu_max = cpu
            .iter()
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .fold(100.0, f64::max);
        let y = Axis::linear(0.0, cpu_max * 1.06, 5, fmt_pct);
        let labels = tf.marks.labels();
        let (strip, top_plot) = label_strip(&top_plot, &labels);
        let mut chart = frame(&top_plot, &tf.x, &y, &tf.x_desc(), "CPU utilization")?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        let color = RGBColor(31, 119, 180);
        draw_line(&mut chart, &tf.x, &y, &cpu, color, 2, false)?;
        tf.finish_panel(&chart, &y, strip.as_ref(), &labels)?;
        let mut entries = vec![Entry::new(
            "CPU (mean over servers)",
            color,
            Swatch::Line(2),
        )];
        entries.extend(tf.marks.legend());
        draw_legend(&top_legend, legend_top(&strip), &entries)?;

        // Bottom: load.
        let lines: [RowLine; 3] = [
            (
                "users active",
                |r| r.gauges.users as f64,
                RGBColor(100, 100, 100),
                2,
            ),
            (
                "requests in servers (all)",
                |r| r.gauges.in_system as f64,
                RGBColor(255, 127, 14),
                2,
            ),
            (
                "… of which queued",
                |r| r.gauges.backlog as f64,
                RGBColor(214, 39, 40),
                2,
            ),
        ];
        let data: Vec<_> = lines.iter().map(|l| tf.samples(l.1)).collect();
        let max = data
            .iter()
            .flatten()
            .map(|s| s.1)
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let y = Axis::integer(max, fmt_count);
        let mut chart = frame(&bot_plot, &tf.x, &y, &tf.x_desc(), "count")?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        let mut entries = Vec::new();
        for ((name, _, color, width), d) in lines.iter().zip(&data) {
            draw_line(&mut chart, &tf.x, &y, d, *color, *width, false)?;
            entries.push(Entry::new(*name, *color, Swatch::Line(*width)));
        }
        draw_legend(&bot_legend, 8, &entries)
    }
}

/// Instances running and healthy over time.
struct InstancesChart<'a> {
    tf: &'a TimeFrame<'a>,
}

impl Chart for InstancesChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let tf = self.tf;
        let (area, legend) = layout(root, &format!("{} — instances", tf.name))?;
        let running = tf.steps(|r| f64::from(r.gauges.instances));
        let healthy = tf.steps(|r| f64::from(r.gauges.healthy));
        let max = running
            .iter()
            .chain(&healthy)
            .map(|s| s.1)
            .fold(0.0, f64::max);
        let y = Axis::integer(max, fmt_count);
        let labels = tf.marks.labels();
        let (strip, area) = label_strip(&area, &labels);
        let mut chart = frame(&area, &tf.x, &y, &tf.x_desc(), "instances")?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        let run_c = RGBColor(160, 190, 230);
        let ok_c = RGBColor(44, 160, 44);
        draw_line(&mut chart, &tf.x, &y, &running, run_c, 6, false)?;
        draw_line(&mut chart, &tf.x, &y, &healthy, ok_c, 2, false)?;
        tf.finish_panel(&chart, &y, strip.as_ref(), &labels)?;
        let mut entries = vec![
            Entry::new("running (up or booting)", run_c, Swatch::Line(6)),
            Entry::new("healthy (able to serve)", ok_c, Swatch::Line(2)),
        ];
        entries.extend(tf.marks.legend());
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// Draws the run's charts into `dir`; returns the file names written.
///
/// Writes `latency`, `outcomes`, `utilization` and `instances`, each as `.png` and `.svg`.
pub fn run_charts(dir: &Path, scn: &Scenario, run: &RunOutput) -> Result<Vec<String>, ReportError> {
    let tf = TimeFrame::new(scn, run);
    let mut written = Vec::new();
    let timeout_ms = scn.client.timeout.map(|t| t as f64 / 1e6);
    render(
        dir,
        "latency",
        &LatencyChart {
            tf: &tf,
            timeout_ms,
        },
        &mut written,
    )?;
    render(dir, "outcomes", &OutcomesChart { tf: &tf }, &mut written)?;
    render(
        dir,
        "utilization",
        &UtilizationChart { tf: &tf },
        &mut written,
    )?;
    render(dir, "instances", &InstancesChart { tf: &tf }, &mut written)?;
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// Journey charts
// ---------------------------------------------------------------------------------------------

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
    use crate::engine::time::{MIN, SEC};
    use crate::metrics::{Gauges, Metrics};
    use crate::model::kit::{EventKind, TimelineEvent};

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("scalesim-charts-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    fn assert_files(dir: &Path, names: &[String], expected: usize) {
        assert_eq!(names.len(), expected, "{names:?}");
        for n in names {
            let len = std::fs::metadata(dir.join(n))
                .unwrap_or_else(|e| panic!("{n}: {e}"))
                .len();
            assert!(len > 0, "{n} is empty");
        }
    }

    fn scenario() -> Scenario {
        crate::scenario::load("chapter:1", &[]).expect("chapter 1 loads")
    }

    fn output(series: Vec<WindowRow>, timeline: Vec<TimelineEvent>) -> RunOutput {
        let mut metrics = Metrics::new(&["a".to_string()], 0, 10 * SEC);
        metrics.series = series;
        RunOutput {
            metrics,
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
        }
    }

    fn row(i: u64, ok: u64, refused: u64, p50: f64) -> WindowRow {
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
            gauges: Gauges {
                users: 50 + i,
                in_system: i % 7,
                backlog: i % 3,
                utilization: (i as f64 / 40.0).min(1.0),
                instances: 1 + (i / 20) as u32,
                healthy: 1,
                cost: i as f64 * 0.01,
                extra: Vec::new(),
            },
        }
    }

    #[test]
    fn run_charts_from_synthetic_series() {
        let dir = temp_dir("synthetic");
        let mut scn = scenario();
        scn.duration = 60 * 10 * SEC;
        scn.client.curve.spikes = vec![(2 * MIN, 10.0, 30 * SEC, 2 * MIN)];
        let series = (0..60)
            .map(|i| {
                // A gap with no success, then a recovery.
                let p50 = if (25..30).contains(&i) {
                    f64::NAN
                } else {
                    20.0 + i as f64
                };
                row(i, if p50.is_nan() { 0 } else { 100 }, i % 5, p50)
            })
            .collect();
        let events = vec![
            TimelineEvent::new(
                4 * MIN,
                EventKind::OutOfMemory,
                "web",
                "ran out of memory with 363 requests held and crashed",
            ),
            TimelineEvent::new(
                5 * MIN,
                EventKind::BackUp,
                "web",
                "back up as t2.micro (1 vCPU)",
            ),
        ];
        let run = output(series, events);
        let names = run_charts(&dir, &scn, &run).expect("charts");
        assert_files(&dir, &names, 8);
        for stem in ["latency", "outcomes", "utilization", "instances"] {
            assert!(names.contains(&format!("{stem}.png")));
            assert!(names.contains(&format!("{stem}.svg")));
        }
        // Deterministic: drawing again gives the same bytes.
        let svg = std::fs::read(dir.join("latency.svg")).expect("svg");
        let png = std::fs::read(dir.join("latency.png")).expect("png");
        run_charts(&dir, &scn, &run).expect("charts again");
        assert_eq!(svg, std::fs::read(dir.join("latency.svg")).expect("svg"));
        assert_eq!(png, std::fs::read(dir.join("latency.png")).expect("png"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn run_charts_from_a_real_run() {
        let dir = temp_dir("real");
        let mut scn = scenario();
        scn.duration = 3 * MIN;
        scn.warmup = 0;
        scn.window = 10 * SEC;
        let run = crate::run::run(&scn, &mut |_| {});
        let names = run_charts(&dir, &scn, &run).expect("charts");
        assert_files(&dir, &names, 8);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn odd_series_do_not_panic() {
        let mut scn = scenario();
        let cases: Vec<(&str, u64, Vec<WindowRow>)> = vec![
            ("empty", 10 * MIN, Vec::new()),
            ("empty-zero-duration", 0, Vec::new()),
            ("single", 10 * SEC, vec![row(0, 5, 0, 12.0)]),
            (
                "all-nan",
                10 * MIN,
                (0..30).map(|i| row(i, 0, 3, f64::NAN)).collect(),
            ),
            (
                "zero-length-window",
                10 * MIN,
                vec![WindowRow {
                    end: 0,
                    ..row(0, 5, 1, 1.0)
                }],
            ),
            (
                "huge",
                u64::MAX / 2,
                vec![
                    row(0, u64::MAX / 4, 0, 86_400_000.0),
                    row(1, 1, 0, 0.0),
                    row(2, 1, 0, f64::INFINITY),
                    row(3, 1, 0, 1e-9),
                ],
            ),
        ];
        for (name, duration, series) in cases {
            let dir = temp_dir(name);
            scn.duration = duration;
            let run = output(series, Vec::new());
            let names = run_charts(&dir, &scn, &run).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_files(&dir, &names, 8);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

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
        let (key, nums) = split_numbers("web[12]: CPU 0.72 above 1.");
        assert_eq!(key, "web[\u{0}]: CPU \u{0} above \u{0}.");
        assert_eq!(nums, vec!["12", "0.72", "1"]);
    }

    #[test]
    fn repeated_events_are_grouped() {
        let marks = Marks {
            events: vec![
                (1.0, "web[3]: booted, 2 checks".into()),
                (2.0, "web[10]: booted, 2 checks".into()),
                (3.0, "lb: resized".into()),
            ],
            ..Marks::default()
        };
        let labels: Vec<String> = marks.labels().into_iter().map(|l| l.1).collect();
        assert_eq!(labels, vec!["2× web[…]: booted, 2 checks", "lb: resized"]);
    }
}
