//! `waterfalls.png/.svg`: a few sampled requests, each drawn hop by hop on its own time axis in
//! ms from the user's first try — DNS, balancer, gateway, service, cache, database — with the
//! wait in a lighter shade than the work, and the outcome said in a sentence above it.

use super::kit::{fmt_ms, render, wrap_text, Chart, FONT, INK, PALETTE};
use super::run::outcome_color;
use crate::model::request::Outcome;
use crate::model::span::{SpanKind, Why};
use crate::report::trace_json::Described;
use crate::report::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// `s` anchored at its left edge, centred vertically.
fn left<'a>(s: &TextStyle<'a>) -> TextStyle<'a> {
    s.clone().pos(Pos::new(HPos::Left, VPos::Center))
}

const W: u32 = 1600;
const LABEL_W: i32 = 620;
const RIGHT: i32 = 40;
const ROW: i32 = 30;
const HEAD_PX: u32 = 20;
const ROW_PX: u32 = 18;
const TICK_PX: u32 = 16;
const TITLE_H: i32 = 56;
const LEGEND_H: i32 = 44;
const AXIS_H: i32 = 30;
const GAP: i32 = 26;
/// Rows drawn per request at most (the rest are in trace.json).
const MAX_ROWS: usize = 16;
/// Requests drawn at most.
pub const MAX_PANELS: usize = 6;

/// The requests the chart shows: the slowest of each failure kind, the slowest success and a
/// typical one, at most [`MAX_PANELS`].
pub fn chosen(all: &[Described]) -> Vec<&Described> {
    let mut out: Vec<&Described> = Vec::new();
    for d in all {
        let take = match d.why {
            Why::Failed => !out
                .iter()
                .any(|o| o.why == Why::Failed && o.outcome == d.outcome),
            Why::Slowest(n) => n == 1,
            Why::Typical => !out.iter().any(|o| o.why == Why::Typical),
        };
        if take && out.len() < MAX_PANELS {
            out.push(d);
        }
    }
    out
}

/// The colour of a component kind.
fn kind_color(kind: &str) -> RGBColor {
    match kind {
        "server" => PALETTE[0],
        "load_balancer" => PALETTE[1],
        "cache" | "cdn" => PALETTE[2],
        "database" => PALETTE[4],
        "api_gateway" => PALETTE[5],
        "rate_limiter" => PALETTE[6],
        "external" => PALETTE[7],
        "dns" => PALETTE[9],
        _ => PALETTE[8],
    }
}

/// `c` mixed with white: the lighter shade for waiting.
fn light(c: RGBColor) -> RGBColor {
    let m = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * 0.62) as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// A tick step of 1, 2 or 5 × 10^k giving at most six intervals over `span` ns.
fn tick_step(span: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let s = step.saturating_mul(m);
            if span / s.max(1) <= 6 {
                return s.max(1);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// The waterfalls of a run.
pub struct Waterfalls<'a> {
    /// The chart's title.
    pub title: String,
    /// The requests, in the order drawn.
    pub panels: Vec<&'a Described>,
    /// What the Described kinds are, per span (component kind strings; "" for the request and
    /// attempts).
    pub kinds: Vec<Vec<&'static str>>,
}

impl Waterfalls<'_> {
    fn rows(d: &Described) -> usize {
        d.spans.len().min(MAX_ROWS) + usize::from(d.spans.len() > MAX_ROWS)
    }

    fn head_lines(d: &Described) -> usize {
        // The sentence wraps at about 120 characters at this size.
        1 + (d.sentence.len() + d.why.words().len() + 8) / 120
    }
}

impl Chart for Waterfalls<'_> {
    fn size(&self) -> (u32, u32) {
        let mut h = TITLE_H + LEGEND_H;
        for d in &self.panels {
            h += Self::head_lines(d) as i32 * 26 + AXIS_H + Self::rows(d) as i32 * ROW + GAP;
        }
        if self.panels.is_empty() {
            h += 60;
        }
        (W, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let title = (FONT, 28).into_font().color(&INK);
        let head = (FONT, HEAD_PX).into_font().color(&INK);
        let row_font = (FONT, ROW_PX).into_font().color(&INK);
        let tick = (FONT, TICK_PX).into_font().color(&INK);
        root.draw(&Text::new(self.title.clone(), (16, 26), left(&title)))
            .map_err(err)?;
        // Legend.
        let ly = TITLE_H + LEGEND_H / 2 - 6;
        let blue = PALETTE[0];
        let items: [(&str, RGBColor, i32); 4] = [
            ("waiting (backlog, connection pool)", light(blue), 16),
            ("working (CPU, deciding, answering)", blue, 16),
            ("holding (waiting for its calls or the next hop)", blue, 4),
            ("network hop", RGBColor(150, 150, 150), 2),
        ];
        let mut x = 16;
        for (text, c, h) in items {
            root.draw(&Rectangle::new(
                [(x, ly - h / 2), (x + 36, ly + h / 2 + h % 2)],
                c.filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(text.to_string(), (x + 44, ly), left(&row_font)))
                .map_err(err)?;
            let w = root.estimate_text_size(text, &row_font).map_err(err)?.0 as i32;
            x += 44 + w + 36;
        }
        let mut y = TITLE_H + LEGEND_H;
        if self.panels.is_empty() {
            root.draw(&Text::new(
                "no request was sampled (the run was too short, or tracing was off)".to_string(),
                (16, y + 30),
                left(&head),
            ))
            .map_err(err)?;
        }
        let (x0, x1) = (LABEL_W + 10, W as i32 - RIGHT);
        for (k, d) in self.panels.iter().enumerate() {
            let text = format!("#{} {}: {}", k + 1, d.why.words(), d.sentence);
            let lines = wrap_text(root, &text, &head, W as i32 - 32)?;
            for line in lines.iter().take(Self::head_lines(d)) {
                root.draw(&Text::new(line.clone(), (16, y + 13), left(&head)))
                    .map_err(err)?;
                y += 26;
            }
            y += (Self::head_lines(d) as i32 - lines.len().min(Self::head_lines(d)) as i32) * 26;
            let t0 = d.spans.first().map_or(0, |s| s.start);
            let span = d.spans.first().map_or(1, |s| (s.end - s.start).max(1));
            let px = |t: u64| {
                x0 + ((t.saturating_sub(t0)) as f64 / span as f64 * f64::from(x1 - x0)) as i32
            };
            // Axis: ticks in ms from the first try.
            let step = tick_step(span);
            let rows = Self::rows(d) as i32;
            let bottom = y + AXIS_H + rows * ROW;
            let mut t = 0;
            while t <= span {
                let xx = px(t0 + t);
                root.draw(&PathElement::new(
                    vec![(xx, y + AXIS_H - 4), (xx, bottom)],
                    RGBColor(225, 225, 225),
                ))
                .map_err(err)?;
                root.draw(&Text::new(
                    fmt_ms(t as f64 / 1e6),
                    (xx, y + AXIS_H / 2),
                    tick.clone().pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(err)?;
                t += step;
            }
            y += AXIS_H;
            let kinds = &self.kinds[k];
            for (i, s) in d.spans.iter().enumerate().take(MAX_ROWS) {
                let cy = y + ROW / 2;
                if i % 2 == 1 {
                    root.draw(&Rectangle::new(
                        [(8, y), (W as i32 - 8, y + ROW)],
                        RGBColor(248, 248, 248).filled(),
                    ))
                    .map_err(err)?;
                }
                let indent = 14 * i32::from(s.depth.min(12));
                let label = wrap_text(root, &d.labels[i], &row_font, LABEL_W - 16 - indent)?;
                root.draw(&Text::new(
                    label.first().cloned().unwrap_or_default(),
                    (16 + indent, cy),
                    left(&row_font),
                ))
                .map_err(err)?;
                let (a, b) = (px(s.start), px(s.end).max(px(s.start) + 2));
                let bar = |c: RGBColor, from: i32, to: i32, h: i32| {
                    Rectangle::new(
                        [(from, cy - h / 2), (to.max(from + 1), cy + h / 2)],
                        c.filled(),
                    )
                };
                match s.kind {
                    SpanKind::Request => {
                        let c = outcome_color(s.outcome.unwrap_or(Outcome::Ok));
                        root.draw(&bar(c, a, b, 18)).map_err(err)?;
                    }
                    SpanKind::Attempt => {
                        let c = outcome_color(s.outcome.unwrap_or(Outcome::Ok));
                        root.draw(&bar(light(c), a, b, 12)).map_err(err)?;
                    }
                    SpanKind::Visit => {
                        let c = kind_color(kinds[i]);
                        if let Some(from) = s.link_from {
                            let f = px(from);
                            if f < a {
                                root.draw(&bar(RGBColor(150, 150, 150), f, a, 2))
                                    .map_err(err)?;
                            }
                        }
                        root.draw(&bar(c, a, b, 4)).map_err(err)?;
                        let waited = match s.wait_until {
                            Some(w) => w.min(s.end),
                            None if matches!(kinds[i], "server" | "database") => s.end,
                            None => s.start,
                        };
                        if waited > s.start {
                            root.draw(&bar(light(c), a, px(waited), 18)).map_err(err)?;
                        }
                        let work_end = s.busy_until.unwrap_or(s.end).min(s.end).max(waited);
                        if work_end > waited || s.wait_until.is_some() || s.busy_until.is_some() {
                            root.draw(&bar(c, px(waited), px(work_end).max(px(waited) + 2), 18))
                                .map_err(err)?;
                        } else if waited == s.start {
                            root.draw(&bar(c, a, b, 18)).map_err(err)?;
                        }
                        if let Some(o) = s.outcome.filter(|&o| o != Outcome::Ok) {
                            root.draw(&bar(outcome_color(o), b - 2, b + 4, 22))
                                .map_err(err)?;
                        }
                    }
                }
                y += ROW;
            }
            if d.spans.len() > MAX_ROWS {
                root.draw(&Text::new(
                    format!(
                        "… {} more spans: all of them are in trace.json",
                        d.spans.len() - MAX_ROWS
                    ),
                    (16, y + ROW / 2),
                    left(&row_font),
                ))
                .map_err(err)?;
                y += ROW;
            }
            y += GAP;
        }
        Ok(())
    }
}

/// Draws `waterfalls.png/.svg` into `dir`.
pub fn waterfall_chart(
    dir: &Path,
    title: &str,
    panels: Vec<&Described>,
    kinds: Vec<Vec<&'static str>>,
    written: &mut Vec<String>,
) -> Result<(), ReportError> {
    let chart = Waterfalls {
        title: format!("{title} — sampled requests, hop by hop"),
        panels,
        kinds,
    };
    render(dir, "waterfalls", &chart, written)
}
