//! `index.html` pages: one for a run (`scalesim run`) and the kit the journey's page
//! (`crate::journey::html`) is made with.
//!
//! Every page is self-contained: its style sheet is inline, its small charts are inline SVG
//! drawn here, and the charts the report folder holds are relative `<img>`s; nothing is loaded
//! from the network (no fonts, no scripts). All text from a scenario is user input and goes
//! through [`escape`]; summary.md's Markdown is rendered by pulldown-cmark with any raw HTML in
//! it turned back into escaped text. Nothing time-dependent is written, so the same run gives
//! the same bytes. Large type for a projector, the charts' colour-blind-safe pair of colours
//! with a second cue (dashes, marker shapes) besides colour, and a print style sheet (white
//! paper, a page per chapter).

use super::charts;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use std::fmt::Write as _;

/// HTML-escapes text for an element's content or a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders Markdown (summary.md's: headings, paragraphs, lists, tables, emphasis, code) to
/// HTML. Raw HTML in the text is not passed through: it is shown as the text it is (a scenario's
/// name or description is user input). Headings move down by `demote` levels (a page's own
/// `<h1>` comes first), at most to `<h6>`.
pub fn markdown(md: &str, demote: usize) -> String {
    use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
    let lower = |l: HeadingLevel| -> HeadingLevel {
        let n = (l as usize + demote).min(6);
        HeadingLevel::try_from(n).unwrap_or(HeadingLevel::H6)
    };
    let events = Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(
        |e| match e {
            Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
            Event::Start(Tag::Heading {
                level,
                id,
                classes,
                attrs,
            }) => Event::Start(Tag::Heading {
                level: lower(level),
                id,
                classes,
                attrs,
            }),
            Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
            // A link or image in a summary could point anywhere: keep its text only.
            Event::Start(Tag::Link { .. }) | Event::End(TagEnd::Link) => {
                Event::Text(CowStr::from(""))
            }
            e => e,
        },
    );
    let events = events.filter_map(|e| match e {
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        e => Some(e),
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

/// The style sheet every page shares: large type for a projector, light backgrounds, a print
/// style with a page per chapter.
const STYLE: &str = r#"
:root { --ink: #222; --muted: #555; --rule: #ccc; --accent: #1f77b4; --bad: #b2182b; --good: #1a7a3a; --panel: #f4f6f8; }
* { box-sizing: border-box; }
html { font-size: 21px; }
body { margin: 0 auto; max-width: 1320px; padding: 1.2rem 2rem 4rem; color: var(--ink); background: #fff;
  font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; line-height: 1.45; }
h1 { font-size: 2.1rem; margin: 0.6rem 0 0.4rem; line-height: 1.2; }
h2 { font-size: 1.6rem; margin: 2.4rem 0 0.6rem; border-bottom: 3px solid var(--rule); padding-bottom: 0.2rem; }
h3 { font-size: 1.25rem; margin: 1.4rem 0 0.4rem; }
h4, h5, h6 { font-size: 1.05rem; margin: 1rem 0 0.3rem; }
p, li { max-width: 62rem; }
.lead { font-size: 1.15rem; color: var(--muted); }
a { color: var(--accent); }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; background: var(--panel); padding: 0 0.2em; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.92rem; }
th, td { border: 1px solid var(--rule); padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pass { color: var(--good); font-weight: bold; }
.fail { color: var(--bad); font-weight: bold; }
.open { color: var(--muted); font-weight: bold; }
nav.toc { background: var(--panel); padding: 0.6rem 1.4rem; margin: 1rem 0; }
nav.toc ol { columns: 2; column-gap: 3rem; margin: 0.3rem 0; }
nav.toc li { margin: 0.15rem 0; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1.2rem; margin: 0.8rem 0 1.2rem; }
.facts dt { font-weight: bold; }
.facts dd { margin: 0; }
.box { border-left: 6px solid var(--rule); padding: 0.2rem 1rem; margin: 0.8rem 0; }
.box.problem { border-color: #e08214; }
.box.breaks { border-color: var(--bad); }
.box.fix { border-color: var(--good); }
.box h3 { margin-top: 0.4rem; }
.charts { display: flex; flex-wrap: wrap; gap: 1.2rem; }
figure { margin: 0.6rem 0; }
.charts figure { flex: 1 1 560px; max-width: 640px; }
figure.wide img { width: 100%; max-width: 1280px; height: auto; border: 1px solid var(--rule); }
figcaption { font-size: 0.9rem; color: var(--muted); margin-top: 0.2rem; }
svg.mini { width: 100%; height: auto; }
svg.mini text { font-family: inherit; fill: var(--ink); }
.note { color: var(--muted); font-size: 0.9rem; }
@media print {
  html { font-size: 11pt; }
  body { max-width: none; padding: 0; color: #000; background: #fff; }
  nav.toc { background: none; border: 1px solid #999; break-after: page; }
  section.chapter, section.part { break-before: page; }
  figure, table, .box { break-inside: avoid; }
  th { background: none; }
  code { background: none; }
  a { color: #000; text-decoration: none; }
  figure.wide img { max-width: 100%; }
}
"#;

/// A whole page: the doctype, the inline style sheet, `title` (escaped here) and `body` (HTML).
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"scalesim\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

/// A chapter's title from its scenario name: `ch04-horizontal-scaling` → "Horizontal scaling",
/// `ch14-cdn` → "CDN"; a name without the `chNN-` prefix reads the same way.
pub fn title_of(name: &str) -> String {
    let rest = match name.split_once('-') {
        Some((head, rest))
            if head.len() > 2
                && head.starts_with("ch")
                && head[2..].chars().all(|c| c.is_ascii_digit()) =>
        {
            rest
        }
        _ => name,
    };
    let mut words: Vec<String> = Vec::new();
    let parts: Vec<&str> = rest.split(['-', '_']).filter(|w| !w.is_empty()).collect();
    let mut i = 0;
    while i < parts.len() {
        let w = parts[i];
        let next = parts.get(i + 1).copied();
        let joined = match (w, next) {
            ("pub", Some("sub")) => Some("pub/sub"),
            ("fan", Some("out")) => Some("fan-out"),
            _ => None,
        };
        if let Some(j) = joined {
            words.push(j.to_string());
            i += 2;
            continue;
        }
        words.push(match w {
            "dns" | "cdn" | "api" | "lb" | "tls" | "dlq" | "sqs" | "sns" | "db" => w.to_uppercase(),
            w => w.to_string(),
        });
        i += 1;
    }
    let s = words.join(" ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => escape(name),
    }
}

/// A fraction as a percentage people read: 0 %, 0.04 %, 0.3 %, 12 %, 100 %.
pub fn pct(f: f64) -> String {
    if !f.is_finite() {
        return "—".into();
    }
    let p = f * 100.0;
    let text = if p == 0.0 {
        "0".to_string()
    } else if p < 0.1 {
        format!("{p:.2}")
    } else if p < 10.0 {
        format!("{p:.1}")
    } else {
        format!("{p:.0}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    format!("{text} %")
}

/// A span of simulated time as people say it: 45 s, 10 min, 1 h 20 min, 2 h.
pub fn span(t: crate::engine::time::Time) -> String {
    use crate::engine::time::{HOUR, MIN, SEC};
    if t < SEC {
        return charts::fmt_ms(t as f64 / 1e6);
    }
    let (h, m, s) = (t / HOUR, (t % HOUR) / MIN, (t % MIN) / SEC);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s} s"));
    }
    parts.join(" ")
}

/// A rate in requests per second with thousands separators: 1.2/s, 125/s, 12,500/s.
pub fn rate(r: f64) -> String {
    format!("{}/s", charts::fmt_count(r))
}

/// Dollars a month: $8/month, $1,568/month.
pub fn usd_month(v: f64) -> String {
    format!("{}/month", charts::fmt_usd(v))
}

/// One line of a [`MiniChart`]: a label and its points, `(x, y)`; `y` None leaves a gap. The
/// third value marks a point drawn hollow (its run never settled).
pub struct MiniSeries {
    /// Legend text (escaped when drawn).
    pub label: String,
    /// The points, in x order.
    pub points: Vec<(f64, Option<f64>, bool)>,
}

/// A small inline-SVG line chart: x on a log scale (users), y on a log or a linear scale,
/// up to two lines (the first solid with round markers, the second dashed with square ones,
/// so colour is never the only cue), and an objective as a dashed red line.
pub struct MiniChart {
    /// The chart's accessible name (its `<title>` and `aria-label`).
    pub title: String,
    /// Axis labels, with units.
    pub x_label: String,
    /// The y axis's label, with its unit.
    pub y_label: String,
    /// Log scale on y (else linear from `y_min`).
    pub y_log: bool,
    /// The y range (for log: decades are widened to whole powers of ten).
    pub y_range: (f64, f64),
    /// Formats a y tick.
    pub fmt_y: fn(f64) -> String,
    /// The lines.
    pub series: Vec<MiniSeries>,
    /// A horizontal objective line and its label.
    pub objective: Option<(f64, String)>,
    /// A note under the legend.
    pub note: Option<String>,
}

/// The colours of the mini charts' two lines (the kit's first two: blue and orange, the pair
/// that stays apart under every common colour-vision deficiency) and the objective's.
const MINI_COLORS: [&str; 2] = ["#1f77b4", "#ff7f0e"];
const OBJECTIVE_COLOR: &str = "#c81e1e";

impl MiniChart {
    /// The chart as an `<svg>` element (its numbers formatted deterministically).
    pub fn svg(&self) -> String {
        const W: f64 = 600.0;
        const LEFT: f64 = 112.0;
        const RIGHT: f64 = 50.0;
        const TOP: f64 = 16.0;
        // The plot's height; the axis labels and the legend (one entry a row) go below it.
        const PH: f64 = 250.0;
        const LEGEND_ROW: f64 = 27.0;
        let xs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        let (x_lo, x_hi) = decades(&xs, (10.0, 100_000.0));
        let (y_lo, y_hi) = if self.y_log {
            let ys: Vec<f64> = self
                .series
                .iter()
                .flat_map(|s| s.points.iter().filter_map(|p| p.1))
                .chain(self.objective.as_ref().map(|o| o.0))
                .filter(|y| y.is_finite() && *y > 0.0)
                .collect();
            decades(&ys, self.y_range)
        } else {
            self.y_range
        };
        let pw = W - LEFT - RIGHT;
        let ph = PH;
        let px = |x: f64| LEFT + (x.log10() - x_lo.log10()) / (x_hi.log10() - x_lo.log10()) * pw;
        let py = |y: f64| {
            let t = if self.y_log {
                (y.max(y_lo).log10() - y_lo.log10()) / (y_hi.log10() - y_lo.log10())
            } else {
                (y - y_lo) / (y_hi - y_lo)
            };
            TOP + (1.0 - t.clamp(0.0, 1.0)) * ph
        };
        let mut s = String::new();
        let _ = write!(
            s,
            "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{pw}\" height=\"{ph}\" fill=\"#fff\" stroke=\"#999\"/>"
        );
        // x ticks: every decade.
        let mut x = x_lo;
        while x <= x_hi * 1.000_001 {
            let at = px(x);
            let _ = write!(
                s,
                "<line x1=\"{a}\" y1=\"{TOP}\" x2=\"{a}\" y2=\"{b}\" stroke=\"#e3e3e3\"/>\
                 <text x=\"{a}\" y=\"{c}\" font-size=\"19\" text-anchor=\"middle\">{l}</text>",
                a = f(at),
                b = f(TOP + ph),
                c = f(TOP + ph + 24.0),
                l = escape(&charts::fmt_count(x))
            );
            x *= 10.0;
        }
        // y ticks: decades on a log scale, five steps on a linear one.
        let ticks: Vec<f64> = if self.y_log {
            let mut v = Vec::new();
            let mut y = y_lo;
            while y <= y_hi * 1.000_001 {
                v.push(y);
                y *= 10.0;
            }
            v
        } else {
            (0..=4)
                .map(|i| y_lo + (y_hi - y_lo) * f64::from(i) / 4.0)
                .collect()
        };
        for y in ticks {
            let at = py(y);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{a}\" x2=\"{r}\" y2=\"{a}\" stroke=\"#e3e3e3\"/>\
                 <text x=\"{l}\" y=\"{b}\" font-size=\"19\" text-anchor=\"end\">{t}</text>",
                a = f(at),
                r = f(LEFT + pw),
                l = f(LEFT - 8.0),
                b = f(at + 6.0),
                t = escape(&(self.fmt_y)(y))
            );
        }
        // Axis labels.
        let _ = write!(
            s,
            "<text x=\"{a}\" y=\"{b}\" font-size=\"19\" text-anchor=\"middle\">{l}</text>\
             <text x=\"20\" y=\"{c}\" font-size=\"19\" text-anchor=\"middle\" transform=\"rotate(-90 20 {c})\">{m}</text>",
            a = f(LEFT + pw / 2.0),
            b = f(TOP + ph + 52.0),
            l = escape(&self.x_label),
            c = f(TOP + ph / 2.0),
            m = escape(&self.y_label)
        );
        let mut legend: Vec<(String, String)> = Vec::new();
        if let Some((v, label)) = &self.objective {
            let at = py(*v);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{a}\" x2=\"{r}\" y2=\"{a}\" stroke=\"{OBJECTIVE_COLOR}\" stroke-width=\"2.5\" stroke-dasharray=\"3 5\"/>",
                a = f(at),
                r = f(LEFT + pw)
            );
            legend.push((
                format!("<line x1=\"0\" y1=\"0\" x2=\"34\" y2=\"0\" stroke=\"{OBJECTIVE_COLOR}\" stroke-width=\"2.5\" stroke-dasharray=\"3 5\"/>"),
                label.clone(),
            ));
        }
        let mut hollow_used = false;
        for (i, series) in self.series.iter().enumerate().take(2) {
            let color = MINI_COLORS[i];
            let dash = if i == 0 {
                ""
            } else {
                " stroke-dasharray=\"10 6\""
            };
            // Lines between consecutive points that both have a value.
            let mut run: Vec<(f64, f64)> = Vec::new();
            let mut paths = Vec::new();
            for &(x, y, _) in &series.points {
                match y.filter(|v| v.is_finite() && x > 0.0) {
                    Some(y) => run.push((px(x), py(y))),
                    None => paths.push(std::mem::take(&mut run)),
                }
            }
            paths.push(run);
            for p in paths.iter().filter(|p| p.len() > 1) {
                let pts: Vec<String> = p
                    .iter()
                    .map(|(a, b)| format!("{},{}", f(*a), f(*b)))
                    .collect();
                let _ = write!(
                    s,
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"3\"{dash}/>",
                    pts.join(" ")
                );
            }
            for &(x, y, hollow) in &series.points {
                let Some(y) = y.filter(|v| v.is_finite() && x > 0.0) else {
                    continue;
                };
                hollow_used |= hollow;
                s.push_str(&marker(i, px(x), py(y), color, hollow));
            }
            legend.push((
                format!(
                    "<line x1=\"0\" y1=\"0\" x2=\"34\" y2=\"0\" stroke=\"{color}\" stroke-width=\"3\"{dash}/>{}",
                    marker(i, 17.0, 0.0, color, false)
                ),
                series.label.clone(),
            ));
        }
        if hollow_used {
            legend.push((
                marker(0, 17.0, 0.0, "#666", true),
                "hollow: never settled (no verdict)".into(),
            ));
        }
        if let Some(n) = &self.note {
            legend.push((String::new(), n.clone()));
        }
        // The legend under the plot, one entry a row.
        for (k, (swatch, text)) in legend.iter().enumerate() {
            let x0 = LEFT;
            let y0 = TOP + ph + 84.0 + k as f64 * LEGEND_ROW;
            let _ = write!(
                s,
                "<g transform=\"translate({a} {b})\">{swatch}</g><text x=\"{c}\" y=\"{d}\" font-size=\"18\">{t}</text>",
                a = f(x0),
                b = f(y0 - 5.0),
                c = f(x0 + 42.0),
                d = f(y0),
                t = escape(text)
            );
        }
        let h = TOP + ph + 66.0 + legend.len() as f64 * LEGEND_ROW;
        format!(
            "<svg class=\"mini\" viewBox=\"0 0 {W} {}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>{s}</svg>",
            f(h),
            t = escape(&self.title)
        )
    }
}

/// A marker: round for the first line, square for the second; hollow when asked.
fn marker(i: usize, x: f64, y: f64, color: &str, hollow: bool) -> String {
    let fill = if hollow { "#fff" } else { color };
    if i == 0 {
        format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{fill}\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
            f(x),
            f(y)
        )
    } else {
        format!(
            "<rect x=\"{}\" y=\"{}\" width=\"11\" height=\"11\" fill=\"{fill}\" stroke=\"{color}\" stroke-width=\"2.5\"/>",
            f(x - 5.5),
            f(y - 5.5)
        )
    }
}

/// A coordinate with one decimal (short, and the same bytes every time).
fn f(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}

/// The whole powers of ten around `vals` (at least `fallback` when there are none).
fn decades(vals: &[f64], fallback: (f64, f64)) -> (f64, f64) {
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo.min(fallback.0), hi.max(fallback.1))
    } else {
        fallback
    };
    let lo = 10f64.powf(lo.log10().floor().max(-3.0));
    let hi = 10f64.powf(hi.log10().ceil().min(9.0));
    if hi > lo {
        (lo, hi)
    } else {
        (lo, lo * 10.0)
    }
}

/// What a run chart's file shows, for its alt text and caption (from its file name).
fn chart_caption(stem: &str) -> String {
    let known = [
        (
            "latency",
            "Latency of successful requests over simulated time",
        ),
        (
            "throughput",
            "Requests per second over simulated time, by outcome",
        ),
        ("outcomes", "Outcomes of the requests over simulated time"),
        ("errors", "Failed requests over simulated time"),
        (
            "utilization",
            "CPU utilization of each tier over simulated time",
        ),
        ("instances", "Instances running over simulated time"),
        ("cost", "Cost over simulated time"),
        ("queue", "Requests waiting over simulated time"),
    ];
    if let Some((_, c)) = known.iter().find(|(k, _)| *k == stem) {
        return (*c).to_string();
    }
    let words = stem
        .strip_prefix("gauge-")
        .map_or(stem.to_string(), |g| format!("{g} over simulated time"))
        .replace(['-', '_'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f0) => f0.to_uppercase().collect::<String>() + c.as_str(),
        None => "Chart".into(),
    }
}

/// summary.md without its first lines when they are the scenario's name (`# name`) and its
/// description (`_…_`), which the page's header shows already.
fn summary_body<'a>(md: &'a str, scn: &Scenario) -> &'a str {
    let mut rest = md;
    if let Some(r) = rest
        .strip_prefix(&format!("# {}\n", scn.title()))
        .or_else(|| rest.strip_prefix(&format!("# {}\n", scn.name)))
    {
        rest = r.trim_start_matches('\n');
        if let Some(d) = &scn.file.scenario.description {
            for line in [
                format!("_{d}_\n"),
                format!("The file's story, as written: _{d}_\n"),
            ] {
                if let Some(r) = rest.strip_prefix(&line) {
                    rest = r.trim_start_matches('\n');
                }
            }
        }
    }
    rest
}

/// The run's `index.html`: its header (scenario, chapter, length, users, seed, `--set`
/// overrides), the verdicts of its objectives, summary.md rendered, and every PNG chart of
/// `files` (names inside the report folder) as a relative image.
pub fn run_index(scn: &Scenario, run: &RunOutput, summary_md: &str, files: &[String]) -> String {
    let mut b = String::new();
    let title = match scn.chapter {
        Some(n) => format!("Chapter {n}: {}", title_of(&scn.name)),
        None => title_of(&scn.name),
    };
    let _ = writeln!(b, "<header>\n<h1>{}</h1>", escape(&title));
    if let Some(d) = &scn.file.scenario.description {
        let _ = writeln!(b, "<p class=\"lead\">{}</p>", escape(d));
    }
    let _ = writeln!(b, "</header>");
    let mut facts: Vec<(&str, String)> = vec![
        ("scenario", format!("<code>{}</code>", escape(&scn.name))),
        ("from", format!("<code>{}</code>", escape(&scn.source))),
    ];
    if let Some(v) = &scn.variant {
        facts.push(("variant", format!("<code>{}</code>", escape(v))));
    }
    let simulated = scn.warmup + run.measured;
    facts.push((
        "simulated",
        format!(
            "{}{}",
            escape(&span(simulated)),
            if scn.warmup > 0 {
                format!(
                    " (statistics after a {} warm-up)",
                    escape(&span(scn.warmup))
                )
            } else {
                String::new()
            }
        ),
    ));
    facts.push((
        "users",
        escape(&charts::fmt_users(scn.client.users)).to_string(),
    ));
    facts.push(("seed", scn.seed.to_string()));
    facts.push((
        "overrides",
        if scn.overrides.is_empty() {
            "none (the file as written)".into()
        } else {
            scn.overrides
                .iter()
                .map(|o| format!("<code>--set {}</code>", escape(o)))
                .collect::<Vec<_>>()
                .join("<br>")
        },
    ));
    let _ = writeln!(b, "<dl class=\"facts\">");
    for (k, v) in &facts {
        let _ = writeln!(b, "<dt>{k}</dt><dd>{v}</dd>");
    }
    let _ = writeln!(b, "</dl>");
    if let Some(st) = &run.stopped {
        let _ = writeln!(
            b,
            "<p class=\"fail\">This run was stopped at {}: {}. Everything below covers only the time before it.</p>",
            escape(&crate::engine::time::clock(st.at)),
            escape(&st.reason)
        );
    }
    // The objectives.
    let _ = writeln!(b, "<h2 id=\"objectives\">Objectives</h2>");
    let verdicts = crate::slo::evaluate(&scn.slos, run);
    if verdicts.is_empty() {
        let _ = writeln!(
            b,
            "<p>This scenario sets no objectives (an <code>[slo]</code> table, e.g. <code>p99 = \"300ms\"</code>).</p>"
        );
    } else {
        let met = verdicts.iter().filter(|v| v.passed).count();
        let _ = writeln!(
            b,
            "<p><span class=\"{}\">{}</span>: {met} of {} objectives met.</p>",
            if met == verdicts.len() {
                "pass"
            } else {
                "fail"
            },
            if met == verdicts.len() {
                "PASS"
            } else {
                "FAIL"
            },
            verdicts.len()
        );
        let _ = writeln!(
            b,
            "<table>\n<tr><th>objective</th><th class=\"num\">target</th><th class=\"num\">measured</th><th>result</th></tr>"
        );
        for v in &verdicts {
            let mut result = if v.passed {
                "<span class=\"pass\">met</span>".to_string()
            } else {
                "<span class=\"fail\">missed</span>".to_string()
            };
            if let Some((bad, n)) = v.windows {
                if bad > 0 {
                    let _ = write!(result, " ({bad} of {n} windows failed)");
                }
            }
            if let Some(n) = &v.note {
                let _ = write!(result, "<br><span class=\"note\">{}</span>", escape(n));
            }
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{result}</td></tr>",
                escape(&v.objective.label),
                escape(&v.objective.target()),
                escape(&v.objective.measure.format(v.measured)),
            );
        }
        let _ = writeln!(b, "</table>");
    }
    // The summary, as summary.md says it (less its title and description: the header has them).
    let _ = writeln!(
        b,
        "<section class=\"part\" id=\"summary\">\n<h2>Summary</h2>\n<div class=\"summary\">\n{}</div>\n</section>",
        markdown(summary_body(summary_md, scn), 1)
    );
    // The charts.
    let pngs: Vec<&String> = files.iter().filter(|f| f.ends_with(".png")).collect();
    let _ = writeln!(b, "<section class=\"part\" id=\"charts\">\n<h2>Charts</h2>");
    if pngs.is_empty() {
        let _ = writeln!(b, "<p>No charts were drawn.</p>");
    }
    for p in pngs {
        let stem = p.trim_end_matches(".png");
        let caption = chart_caption(stem);
        let svg = format!("{stem}.svg");
        let vector = if files.contains(&svg) {
            format!(" (<a href=\"{}\">SVG</a>)", escape(&svg))
        } else {
            String::new()
        };
        let _ = writeln!(
            b,
            "<figure class=\"wide\"><img src=\"{src}\" alt=\"{alt}\"><figcaption>{alt}{vector}</figcaption></figure>",
            src = escape(p),
            alt = escape(&caption),
        );
    }
    let _ = writeln!(b, "</section>");
    let _ = writeln!(
        b,
        "<p class=\"note\">Written by scalesim: results.json, timeseries.csv and summary.md in this folder hold the same run.</p>"
    );
    page(&format!("{title} — scalesim run"), &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn markdown_renders_tables_and_never_passes_raw_html() {
        let html = markdown(
            "# t <b>x</b>\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | **2** |\n\n[link](https://example.com) ![i](http://x/y.png)\n",
            1,
        );
        assert!(html.contains("<h2>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<strong>2</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("http"), "{html}");
        assert!(html.contains("link"), "{html}");
    }

    #[test]
    fn titles_read_like_words() {
        assert_eq!(title_of("ch04-horizontal-scaling"), "Horizontal scaling");
        assert_eq!(title_of("ch14-cdn"), "CDN");
        assert_eq!(title_of("ch09-pub-sub"), "Pub/sub");
        assert_eq!(title_of("ch10-fan-out"), "Fan-out");
        assert_eq!(title_of("ch02-dns"), "DNS");
        assert_eq!(title_of("mmc"), "Mmc");
        assert_eq!(title_of("checkout-api"), "Checkout API");
    }

    #[test]
    fn percentages_and_rates_read_as_people_write_them() {
        assert_eq!(pct(0.0), "0 %");
        assert_eq!(pct(0.0004), "0.04 %");
        assert_eq!(pct(0.003), "0.3 %");
        assert_eq!(pct(0.01), "1 %");
        assert_eq!(pct(0.324), "32 %");
        assert_eq!(pct(1.0), "100 %");
        assert_eq!(rate(12_500.0), "12,500/s");
        assert_eq!(usd_month(1568.0), "$1,568/month");
        use crate::engine::time::{HOUR, MIN, SEC};
        assert_eq!(span(45 * SEC), "45 s");
        assert_eq!(span(10 * MIN), "10 min");
        assert_eq!(span(HOUR + 20 * MIN), "1 h 20 min");
        assert_eq!(span(2 * HOUR), "2 h");
    }

    #[test]
    fn a_mini_chart_is_deterministic_and_escapes_its_labels() {
        let c = MiniChart {
            title: "p99 <b>".into(),
            x_label: "users (log scale)".into(),
            y_label: "p99 latency (ms, log scale)".into(),
            y_log: true,
            y_range: (1.0, 1000.0),
            fmt_y: charts::fmt_ms,
            series: vec![
                MiniSeries {
                    label: "this <i>".into(),
                    points: vec![
                        (10.0, Some(20.0), false),
                        (100.0, None, false),
                        (1000.0, Some(3000.0), true),
                    ],
                },
                MiniSeries {
                    label: "before".into(),
                    points: vec![(10.0, Some(25.0), false), (100.0, Some(40.0), false)],
                },
            ],
            objective: Some((1000.0, "objective: p99 < 1 s".into())),
            note: Some("gaps: over half failed".into()),
        };
        let a = c.svg();
        assert_eq!(a, c.svg());
        assert!(a.starts_with("<svg") && a.ends_with("</svg>"), "{a}");
        assert!(!a.contains("<b>") && !a.contains("<i>"), "{a}");
        assert!(a.contains("hollow: never settled"), "{a}");
        assert!(a.contains("100,000") || a.contains("1,000"), "{a}");
        assert!(!a.contains("NaN") && !a.contains("inf"), "{a}");
    }
}
