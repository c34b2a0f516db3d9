//! The charts of one run over simulated time: latency, outcomes, utilization and instances,
//! with the run's spikes, injected faults and component events marked on the time axis, and one
//! chart per title of the gauges components declare (`Behaviour::extra_gauges`), drawn the same
//! way with no chart code of their own.

use super::kit::{
    draw_legend, draw_line, draw_note, draw_strip, ellipsize, fmt_count, fmt_ms, fmt_pct,
    fmt_plain, frame, label_strip, layout, legend_top, perr, render, Axis, Chart, Coord, Entry,
    Swatch, FONT, INK, LEGEND_W, PALETTE, SIZE_TALL, TITLE_PX,
};
use crate::metrics::WindowRow;
use crate::model::kit::{EventKind, GaugeDecl, GaugeUnit};
use crate::model::request::Outcome;
use crate::report::ReportError;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Spikes or faults above this count, or kinds of component event above it, get no text.
const MAX_LABELLED: usize = 8;

const FAULT: RGBColor = RGBColor(90, 90, 90);
const EVENT: RGBColor = RGBColor(120, 70, 160);
const SPIKE: RGBColor = RGBColor(255, 160, 40);
/// Bot traffic's band.
const BOTS: RGBColor = RGBColor(200, 40, 60);
/// Scheduled jobs' runs.
const JOBS: RGBColor = RGBColor(30, 120, 110);
const TIMEOUT: RGBColor = RGBColor(150, 150, 150);

/// A named per-window value of the time series, with its colour and line width.
type RowLine = (&'static str, fn(&WindowRow) -> f64, RGBColor, u32);

/// A line ready to draw: its legend label, points, colour and width.
type Drawn = (String, Vec<(f64, f64)>, RGBColor, u32);

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
    /// Bots' active windows: (start, end, label) in time units.
    bots: Vec<(f64, f64, String)>,
    /// Scheduled jobs' runs: (start, end, label) in time units.
    jobs: Vec<(f64, f64, String)>,
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
        let bots = scn
            .file
            .workload
            .bots
            .iter()
            .map(|b| {
                let from = b.from.map_or(0, |d| d.0);
                let until = b.until.map_or(scn.duration, |d| d.0.min(scn.duration));
                let keys = b.keys.unwrap_or(1);
                let from_where = if keys == 1 {
                    "one address".to_string()
                } else {
                    format!("{} addresses", fmt_count(f64::from(keys)))
                };
                let label = format!(
                    "bot {}: {}/s from {from_where}",
                    b.name,
                    fmt_count(b.rate.0)
                );
                (unit.of(from), unit.of(until).min(end), label)
            })
            .filter(|b| b.0 <= end)
            .collect();
        // A job's run is a band from its start to its end (or the run's end), labelled with
        // the start's words.
        let jobs: Vec<(f64, f64, String)> = run
            .timeline
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EventKind::JobStarted)
            .map(|(i, e)| {
                let stop = run.timeline[i + 1..]
                    .iter()
                    .find(|f| f.kind == EventKind::JobEnded && f.component == e.component)
                    .map_or(end, |f| unit.of(f.at));
                (
                    unit.of(e.at),
                    stop.min(end),
                    format!("{}: {}", e.component, e.text),
                )
            })
            .filter(|j| j.0 <= end)
            .collect();
        // Component events (servers, fleets, balancers, DNS) from the run's timeline; injected
        // faults are drawn from the scenario instead, and jobs' starts are their bands.
        let raw: Vec<(u64, &str, &str)> = run
            .timeline
            .iter()
            .filter(|e| {
                !matches!(
                    e.kind,
                    EventKind::Fault(_) | EventKind::FaultCleared | EventKind::JobStarted
                )
            })
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
            bots,
            jobs,
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
        if !self.bots.is_empty() {
            v.push(Entry::new("bot traffic", BOTS, Swatch::Band));
        }
        if !self.jobs.is_empty() {
            v.push(Entry::new("scheduled job running", JOBS, Swatch::Band));
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
        if self.bots.len() <= MAX_LABELLED {
            out.extend(self.bots.iter().map(|b| (b.0, b.2.clone(), BOTS)));
        }
        if self.jobs.len() <= MAX_LABELLED {
            out.extend(self.jobs.iter().map(|j| (j.0, j.2.clone(), JOBS)));
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
                // Shortened, if at all, where it is drawn (the legend then gives it in full).
                let text = if g.count > 1 {
                    format!("{}× {}", g.count, text)
                } else {
                    text
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
        for (from, to, _) in &self.bots {
            if let (Some(a), Some(b)) = (x.pos(*from), x.pos(*to)) {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(a, y.lo), (b, y.hi)],
                        BOTS.mix(0.07).filled(),
                    )))
                    .map_err(perr)?;
            }
        }
        for (from, to, _) in &self.jobs {
            if let (Some(a), Some(b)) = (x.pos(*from), x.pos(*to)) {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(a, y.lo), (b, y.hi)],
                        JOBS.mix(0.12).filled(),
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

/// What all time charts of a run share.
struct TimeFrame<'a> {
    name: String,
    rows: &'a [WindowRow],
    unit: TimeUnit,
    x: Axis,
    marks: Marks,
    /// Windows drawn (all but for a GIF's frames, whose axes still span the whole run).
    shown: usize,
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
    ) -> Result<Vec<Entry>, String> {
        if self.rows.is_empty() {
            draw_note(
                chart,
                &self.x,
                y,
                "no data: the run recorded no time windows",
            )?;
        }
        match strip {
            Some(strip) => draw_strip(strip, chart, &self.x, y, labels),
            None => Ok(Vec::new()),
        }
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
            name: scn.title(),
            rows,
            unit,
            marks: Marks::from_run(scn, run, unit, end),
            x,
            shown: rows.len(),
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
        let rows = &self.rows[..self.shown.min(self.rows.len())];
        rows.iter().map(|r| (self.mid(r), f(r))).collect()
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
    /// The users retry: a success's latency includes its failed tries and the waits between.
    retries: bool,
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
        let notes = match &strip {
            Some(strip) => draw_strip(strip, &chart, &tf.x, &y, &labels)?,
            None => Vec::new(),
        };
        if self.retries {
            entries.push(Entry::new(
                "A success's latency includes its failed tries and the waits between them, so it can exceed the timeout.",
                INK,
                Swatch::None,
            ));
        }
        entries.extend(tf.marks.legend());
        entries.extend(notes);
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// Outcome colours: ok in green, failures in distinct warm colours.
pub(super) fn outcome_color(o: Outcome) -> RGBColor {
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
        let notes = match &strip {
            Some(strip) => draw_strip(strip, &chart, &tf.x, &y, &labels)?,
            None => Vec::new(),
        };
        entries.extend(tf.marks.legend());
        entries.extend(notes);
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// Offered load against goodput: attempts sent per second (first tries and retries) and
/// requests answered ok per second. A retry storm is the gap between them staying open after
/// its trigger has gone.
struct LoadChart<'a> {
    tf: &'a TimeFrame<'a>,
}

impl LoadChart<'_> {
    /// Drawn when the workload retries (`retries.max` above zero), whether or not this run
    /// happened to: without retries the offered load is just the requests, and with them the
    /// chart set does not depend on the run's luck (a fix that prevents every retry still gets
    /// its chart, to compare with the storm).
    fn wanted(scn: &Scenario) -> bool {
        scn.client.retry.is_some_and(|r| r.0 > 0)
    }
}

impl Chart for LoadChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let tf = self.tf;
        let (area, legend) = layout(root, &format!("{} — offered load and goodput", tf.name))?;
        let offered = RGBColor(214, 39, 40);
        let first = RGBColor(120, 120, 120);
        let good = outcome_color(Outcome::Ok);
        let held = RGBColor(31, 119, 180);
        let mut lines: Vec<Drawn> = vec![
            (
                "offered: attempts (with retries)".into(),
                tf.series(|r| per_second(r, r.attempts)),
                offered,
                3,
            ),
            (
                "first tries (new requests)".into(),
                tf.series(|r| per_second(r, r.attempts.saturating_sub(r.retries))),
                first,
                2,
            ),
            (
                "goodput: ok answers".into(),
                tf.series(|r| per_second(r, r.outcomes[Outcome::Ok.index()])),
                good,
                3,
            ),
        ];
        if tf.rows.iter().any(|r| r.suppressed > 0) {
            lines.push((
                "retries held back (budget)".into(),
                tf.series(|r| per_second(r, r.suppressed)),
                held,
                2,
            ));
        }
        let max = lines
            .iter()
            .flat_map(|l| l.1.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        let y = Axis::linear(0.0, if max > 0.0 { max * 1.1 } else { 1.0 }, 8, fmt_count);
        let labels = tf.marks.labels();
        let (strip, area) = label_strip(&area, &labels);
        let mut chart = frame(&area, &tf.x, &y, &tf.x_desc(), "per second")?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        // Goodput last, on top.
        for i in [1, 3, 0, 2] {
            if let Some((_, pts, color, width)) = lines.get(i) {
                draw_line(&mut chart, &tf.x, &y, pts, *color, *width, false)?;
            }
        }
        let mut entries: Vec<Entry> = lines
            .iter()
            .map(|(name, _, color, width)| Entry::new(name.clone(), *color, Swatch::Line(*width)))
            .collect();
        let notes = tf.finish_panel(&chart, &y, strip.as_ref(), &labels)?;
        entries.extend(tf.marks.legend());
        entries.extend(notes);
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// CPU utilization (top panel) and load: users, requests in servers and backlogs (bottom panel).
struct UtilizationChart<'a> {
    tf: &'a TimeFrame<'a>,
    /// The CPU tiers (servers, fleets): one line each when there are two or more.
    tiers: &'a [(usize, String)],
}

/// Most tiers drawn on the CPU panel (the busiest, by mean utilization).
const MAX_TIERS: usize = 8;

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
        let labels = tf.marks.labels();
        let (strip, top_plot) = label_strip(&top_plot, &labels);
        // With several tiers, one line each (the busiest first), so a saturated service stands
        // out from a mean that hides it.
        let mut tiers: Vec<(String, Vec<(f64, f64)>)> = if self.tiers.len() >= 2 {
            self.tiers
                .iter()
                .map(|(i, name)| {
                    let line =
                        tf.series(|r| r.gauges.tiers.get(*i).copied().unwrap_or(f64::NAN) * 100.0);
                    (name.clone(), line)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mean_of = |l: &[(f64, f64)]| {
            let v: Vec<f64> = l.iter().map(|p| p.1).filter(|v| v.is_finite()).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        tiers.sort_by(|a, b| mean_of(&b.1).total_cmp(&mean_of(&a.1)));
        tiers.truncate(MAX_TIERS);
        let cpu_max = tiers
            .iter()
            .flat_map(|t| t.1.iter().map(|p| p.1))
            .filter(|v| v.is_finite())
            .fold(cpu_max, f64::max);
        let y = Axis::linear(0.0, cpu_max * 1.06, 5, fmt_pct);
        let mut chart = frame(&top_plot, &tf.x, &y, &tf.x_desc(), "CPU utilization")?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        let mut entries = Vec::new();
        for (k, (name, line)) in tiers.iter().enumerate() {
            let color = PALETTE[(k + 1) % PALETTE.len()];
            draw_line(&mut chart, &tf.x, &y, line, color, 2, false)?;
            entries.push(Entry::new(
                ellipsize(&format!("CPU: {name}"), 24),
                color,
                Swatch::Line(2),
            ));
        }
        let (color, label) = if tiers.is_empty() {
            (RGBColor(31, 119, 180), "CPU (mean over servers)")
        } else {
            (RGBColor(90, 90, 90), "mean over all servers")
        };
        draw_line(
            &mut chart,
            &tf.x,
            &y,
            &cpu,
            color,
            if tiers.is_empty() { 2 } else { 1 },
            false,
        )?;
        let notes = tf.finish_panel(&chart, &y, strip.as_ref(), &labels)?;
        entries.insert(
            0,
            Entry::new(
                label,
                color,
                Swatch::Line(if tiers.is_empty() { 2 } else { 1 }),
            ),
        );
        entries.extend(tf.marks.legend());
        entries.extend(notes);
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
        let notes = tf.finish_panel(&chart, &y, strip.as_ref(), &labels)?;
        let mut entries = vec![
            Entry::new("running (up or booting)", run_c, Swatch::Line(6)),
            Entry::new("healthy (able to serve)", ok_c, Swatch::Line(2)),
        ];
        entries.extend(tf.marks.legend());
        entries.extend(notes);
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// The chart of one declared gauge title: one line per component gauge with that title.
#[derive(Clone, Debug, PartialEq)]
struct GaugePanel {
    /// File stem: `gauge-` and the title in lower case, each run of other characters than
    /// letters and digits an underscore (`gauge-hit_ratio`); `-2`, `-3`... if taken.
    stem: String,
    title: &'static str,
    unit: GaugeUnit,
    /// (legend label, index into the rows' `gauges.extra`), in declaration order.
    lines: Vec<(String, usize)>,
}

/// Groups the run's declared gauges into one panel per distinct title (and unit, so that one
/// axis never mixes units), in order of first declaration. A line is labelled with its component,
/// or `component.gauge` where one component has two gauges of the title.
fn gauge_panels(decls: &[(String, GaugeDecl)]) -> Vec<GaugePanel> {
    let mut panels: Vec<GaugePanel> = Vec::new();
    let mut members: Vec<Vec<(&str, &str, usize)>> = Vec::new();
    for (i, (component, g)) in decls.iter().enumerate() {
        let at = panels
            .iter()
            .position(|p| p.title == g.title && p.unit == g.unit);
        let at = at.unwrap_or_else(|| {
            let base = format!("gauge-{}", slug(g.title));
            let mut stem = base.clone();
            let mut n = 1;
            while panels.iter().any(|p| p.stem == stem) {
                n += 1;
                stem = format!("{base}-{n}");
            }
            panels.push(GaugePanel {
                stem,
                title: g.title,
                unit: g.unit,
                lines: Vec::new(),
            });
            members.push(Vec::new());
            panels.len() - 1
        });
        members[at].push((component.as_str(), g.name, i));
    }
    for (panel, members) in panels.iter_mut().zip(&members) {
        panel.lines = members
            .iter()
            .map(|&(component, name, i)| {
                let repeated = members.iter().filter(|m| m.0 == component).count() > 1;
                let label = if repeated {
                    format!("{component}.{name}")
                } else {
                    component.to_string()
                };
                (label, i)
            })
            .collect();
    }
    panels
}

/// `text` in lower case with every run of characters other than ASCII letters and digits made
/// one underscore, none at either end ("gauge" if nothing is left).
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_');
    if out.is_empty() {
        "gauge".to_string()
    } else {
        out.to_string()
    }
}

/// A gauge components declared, over time: one line per component, sampled at window ends.
struct GaugeChart<'a> {
    tf: &'a TimeFrame<'a>,
    panel: &'a GaugePanel,
}

impl Chart for GaugeChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (tf, panel) = (self.tf, self.panel);
        let (area, legend) = layout(root, &format!("{} — {}", tf.name, panel.title))?;
        // Ratios are drawn as percentages.
        let scale = if panel.unit == GaugeUnit::Ratio {
            100.0
        } else {
            1.0
        };
        let data: Vec<Vec<(f64, f64)>> = panel
            .lines
            .iter()
            .map(|&(_, i)| tf.samples(|r| r.gauges.extra.get(i).map_or(f64::NAN, |v| v * scale)))
            .collect();
        let max = data
            .iter()
            .flatten()
            .map(|p| p.1)
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let any = max.is_finite();
        let max = if any { max } else { 0.0 };
        let (y, y_desc) = match panel.unit {
            GaugeUnit::Count => (Axis::integer(max, fmt_count), panel.title.to_string()),
            GaugeUnit::Ratio => (
                Axis::linear(0.0, max.max(100.0) * 1.06, 10, fmt_pct),
                format!("{} (%)", panel.title),
            ),
            GaugeUnit::Millis => (
                Axis::linear(0.0, if max > 0.0 { max * 1.1 } else { 1.0 }, 8, fmt_count),
                format!("{} (ms)", panel.title),
            ),
        };
        let labels = tf.marks.labels();
        let (strip, area) = label_strip(&area, &labels);
        let mut chart = frame(&area, &tf.x, &y, &tf.x_desc(), &y_desc)?;
        tf.marks.draw_under(&mut chart, &tf.x, &y)?;
        let mut entries = Vec::new();
        for (k, ((label, _), d)) in panel.lines.iter().zip(&data).enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            draw_line(&mut chart, &tf.x, &y, d, color, 2, false)?;
            entries.push(Entry::new(label.clone(), color, Swatch::Line(2)));
        }
        if !any && !tf.rows.is_empty() {
            draw_note(&chart, &tf.x, &y, "no value was recorded")?;
        }
        let notes = tf.finish_panel(&chart, &y, strip.as_ref(), &labels)?;
        entries.extend(tf.marks.legend());
        entries.extend(notes);
        draw_legend(&legend, legend_top(&strip), &entries)
    }
}

/// A slide of the run (a frame of `run.gif`): latency above, outcomes below, the first `shown`
/// windows drawn on axes spanning the whole run. Returns the number of windows.
pub(super) fn run_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    scn: &Scenario,
    run: &RunOutput,
    shown: usize,
) -> Result<usize, String> {
    let mut tf = TimeFrame::new(scn, run);
    tf.shown = shown;
    let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
    LatencyChart {
        tf: &tf,
        timeout_ms: scn.client.timeout.map(|t| t as f64 / 1e6),
        retries: scn.client.retry.is_some_and(|r| r.0 > 0),
    }
    .draw(&top)?;
    OutcomesChart { tf: &tf }.draw(&bottom)?;
    Ok(tf.rows.len())
}

/// Draws the run's charts into `dir`; returns the file names written.
///
/// Writes `latency`, `outcomes`, `utilization` and `instances`, each as `.png` and `.svg`;
/// `load` (offered load against goodput) when the run sent retries (see `LoadChart`); and one
/// `gauge-…` chart per distinct title of the gauges components declared (see `GaugePanel`); none
/// when no component declares a gauge.
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
            retries: scn.client.retry.is_some_and(|r| r.0 > 0),
        },
        &mut written,
    )?;
    render(dir, "outcomes", &OutcomesChart { tf: &tf }, &mut written)?;
    render(
        dir,
        "utilization",
        &UtilizationChart {
            tf: &tf,
            tiers: &run.tiers,
        },
        &mut written,
    )?;
    render(dir, "instances", &InstancesChart { tf: &tf }, &mut written)?;
    if LoadChart::wanted(scn) {
        render(dir, "load", &LoadChart { tf: &tf }, &mut written)?;
    }
    for panel in &gauge_panels(&run.extra_gauges) {
        let chart = GaugeChart { tf: &tf, panel };
        render(dir, &panel.stem, &chart, &mut written)?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{MIN, MS, SEC};
    use crate::model::kit::{EventKind, TimelineEvent};
    use crate::report::charts::test_util::{
        assert_files, gauge_output, output, remove_unless_kept, row, scenario, temp_dir, DEPTH,
        HIT_RATIO,
    };

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

    #[test]
    fn a_workload_that_retries_gets_the_load_chart() {
        let dir = temp_dir("load");
        let mut scn = scenario();
        scn.client.retry = Some((3, crate::model::client::Backoff::Constant, MS, MS, false));
        let series: Vec<WindowRow> = (0..60)
            .map(|i| {
                // A storm from window 20 on: three retries per click, nothing ok.
                let mut r = row(i, if i < 20 { 100 } else { 0 }, 0, 20.0);
                r.retries = if i < 20 { 0 } else { 300 };
                r.attempts = 100 + r.retries;
                r.suppressed = if i < 20 { 0 } else { 7 };
                r
            })
            .collect();
        let run = output(series, Vec::new());
        let names = run_charts(&dir, &scn, &run).expect("charts");
        assert_files(&dir, &names, 10);
        assert_eq!(names[..8], STANDARD);
        assert_eq!(names[8..], ["load.png", "load.svg"]);
        let svg = std::fs::read_to_string(dir.join("load.svg")).expect("svg");
        for text in ["offered", "goodput", "first tries", "held back"] {
            assert!(svg.contains(text), "load.svg lacks {text:?}");
        }
        // Without a budget holding retries back, no line for them.
        let mut run = run;
        for r in &mut run.metrics.series {
            r.suppressed = 0;
        }
        run_charts(&dir, &scn, &run).expect("charts");
        let svg = std::fs::read_to_string(dir.join("load.svg")).expect("svg");
        assert!(!svg.contains("held back"));
        // Retries configured away: no load chart.
        scn.client.retry = Some((0, crate::model::client::Backoff::Constant, MS, MS, false));
        let names = run_charts(&dir, &scn, &output(Vec::new(), Vec::new())).expect("charts");
        assert_eq!(names, STANDARD);
        remove_unless_kept(&dir);
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

    #[test]
    fn numbers_are_split_out_of_event_texts() {
        let (key, nums) = split_numbers("web[12]: CPU 0.72 above 1.");
        assert_eq!(key, "web[\u{0}]: CPU \u{0} above \u{0}.");
        assert_eq!(nums, vec!["12", "0.72", "1"]);
    }

    /// The eight files of the standard run charts, in the order they are written.
    const STANDARD: [&str; 8] = [
        "latency.png",
        "latency.svg",
        "outcomes.png",
        "outcomes.svg",
        "utilization.png",
        "utilization.svg",
        "instances.png",
        "instances.svg",
    ];

    #[test]
    fn a_run_without_declared_gauges_writes_the_standard_charts_only() {
        let dir = temp_dir("no-gauges");
        let scn = scenario();
        let run = output((0..30).map(|i| row(i, 100, 0, 20.0)).collect(), Vec::new());
        let names = run_charts(&dir, &scn, &run).expect("charts");
        assert_eq!(names, STANDARD);
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut want = STANDARD.map(String::from).to_vec();
        want.sort();
        assert_eq!(on_disk, want);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_declared_gauge_title_gets_a_chart() {
        let dir = temp_dir("gauges");
        let mut scn = scenario();
        scn.duration = 10 * MIN;
        scn.client.curve.spikes = vec![(2 * MIN, 3.0, 30 * SEC, MIN)];
        let mut run = gauge_output();
        run.timeline = vec![TimelineEvent::new(
            4 * MIN,
            EventKind::BackUp,
            "cache-b",
            "back up after a restart",
        )];
        let names = run_charts(&dir, &scn, &run).expect("charts");
        assert_files(&dir, &names, 12);
        assert_eq!(names[..8], STANDARD);
        assert_eq!(
            names[8..],
            [
                "gauge-hit_ratio.png",
                "gauge-hit_ratio.svg",
                "gauge-messages_waiting.png",
                "gauge-messages_waiting.svg",
            ]
        );
        // One line per component, labelled with its name; the axis says the unit.
        let svg = std::fs::read_to_string(dir.join("gauge-hit_ratio.svg")).expect("svg");
        for text in ["hit ratio (%)", "cache-a", "cache-b", "100 %", "load spike"] {
            assert!(svg.contains(text), "gauge-hit_ratio.svg lacks {text:?}");
        }
        assert!(
            !svg.contains(">queue<"),
            "the depth is drawn on its own chart"
        );
        let svg = std::fs::read_to_string(dir.join("gauge-messages_waiting.svg")).expect("svg");
        assert!(svg.contains("messages waiting") && svg.contains("queue"));
        // Deterministic: drawing again gives the same bytes.
        let before: Vec<Vec<u8>> = names[8..]
            .iter()
            .map(|n| std::fs::read(dir.join(n)).expect("chart"))
            .collect();
        run_charts(&dir, &scn, &run).expect("charts again");
        for (n, bytes) in names[8..].iter().zip(&before) {
            assert_eq!(&std::fs::read(dir.join(n)).expect("chart"), bytes, "{n}");
        }
        remove_unless_kept(&dir);
    }

    #[test]
    fn gauges_are_grouped_by_title_and_unit() {
        let wait = GaugeDecl {
            name: "wait",
            title: "queue wait",
            unit: GaugeUnit::Millis,
        };
        let decls: Vec<(String, GaugeDecl)> = vec![
            ("cache-a".into(), HIT_RATIO),
            ("q".into(), DEPTH),
            ("cache-b".into(), HIT_RATIO),
            // Same title, other name: the same chart; the component has two lines there.
            (
                "cache-b".into(),
                GaugeDecl {
                    name: "hit_ratio_warm",
                    ..HIT_RATIO
                },
            ),
            ("q".into(), wait),
            // Same title, other unit: a chart of its own.
            (
                "q".into(),
                GaugeDecl {
                    unit: GaugeUnit::Count,
                    ..wait
                },
            ),
            // Another title with the same file name.
            (
                "x".into(),
                GaugeDecl {
                    title: "Hit -- Ratio!",
                    ..HIT_RATIO
                },
            ),
        ];
        let panels = gauge_panels(&decls);
        let summary: Vec<(&str, Vec<(&str, usize)>)> = panels
            .iter()
            .map(|p| {
                let lines = p.lines.iter().map(|(l, i)| (l.as_str(), *i)).collect();
                (p.stem.as_str(), lines)
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "gauge-hit_ratio",
                    vec![
                        ("cache-a", 0),
                        ("cache-b.hit_ratio", 2),
                        ("cache-b.hit_ratio_warm", 3)
                    ]
                ),
                ("gauge-messages_waiting", vec![("q", 1)]),
                ("gauge-queue_wait", vec![("q", 4)]),
                ("gauge-queue_wait-2", vec![("q", 5)]),
                ("gauge-hit_ratio-2", vec![("x", 6)]),
            ]
        );
        assert_eq!(panels[2].unit, GaugeUnit::Millis);
        assert_eq!(panels[3].unit, GaugeUnit::Count);
        assert_eq!(slug("  "), "gauge");
        assert!(gauge_panels(&[]).is_empty());
    }

    #[test]
    fn gauge_charts_survive_odd_values() {
        let wait = GaugeDecl {
            name: "wait",
            title: "queue wait",
            unit: GaugeUnit::Millis,
        };
        let odd = [f64::NAN, f64::INFINITY, -5.0, 0.0, 1e12];
        let mut scn = scenario();
        for (name, duration, extra) in [
            ("gauges-empty", 10 * MIN, None),
            ("gauges-missing", 10 * MIN, Some(Vec::new())),
            ("gauges-odd", 10 * MIN, Some(odd.to_vec())),
            ("gauges-nan", 0, Some(vec![f64::NAN; 3])),
        ] {
            let dir = temp_dir(name);
            scn.duration = duration;
            let series = match &extra {
                None => Vec::new(),
                Some(values) => (0..20)
                    .map(|i| {
                        let mut r = row(i, 10, 0, 5.0);
                        r.gauges.extra = values
                            .iter()
                            .cycle()
                            .skip(i as usize)
                            .take(3)
                            .copied()
                            .collect();
                        r
                    })
                    .collect(),
            };
            let mut run = output(series, Vec::new());
            run.extra_gauges = vec![
                ("a".into(), HIT_RATIO),
                ("b".into(), DEPTH),
                ("c".into(), wait),
            ];
            let names = run_charts(&dir, &scn, &run).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_files(&dir, &names, 14);
            remove_unless_kept(&dir);
        }
    }
}
