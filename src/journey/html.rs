//! The journey's `index.html`: the story in order, one section per chapter — its architecture,
//! the problem it runs into, what the simulation shows breaking at which level (from the
//! journey's points and breaking points), and how the next chapter's idea answers it, each with
//! two small inline-SVG charts (its p99 and its errors against users, beside the previous
//! chapter's) — then the journey's charts (the PNGs beside the page) and the breaking-point
//! table. Self-contained and escaped like every page ([`crate::report::html`]).

use super::{
    breaking_points, BreakingPoint, JourneyPoint, Plan, SLO_ERROR_RATE, SLO_P99_MS, THINK_S,
};
use crate::report::charts;
use crate::report::html::{escape, page, pct, rate, title_of, usd_month, MiniChart, MiniSeries};
use std::fmt::Write as _;

/// What the page says of a chapter besides its numbers: from its scenario's `[scenario]` and
/// `[scenario.journey]` tables (user input: escaped when written).
#[derive(Clone, Debug, PartialEq)]
pub struct ChapterText {
    /// Chapter number.
    pub number: u32,
    /// Scenario name (`ch04-horizontal-scaling`).
    pub name: String,
    /// Its title for people ("Horizontal scaling").
    pub title: String,
    /// The scenario's one sentence (what its own run, `run chapter:N`, shows).
    pub description: Option<String>,
    /// `[scenario.journey] idea`.
    pub idea: String,
    /// `[scenario.journey] problem`.
    pub problem: Option<String>,
}

/// The texts of every embedded chapter, in journey order (a chapter that does not load is left
/// out: the journey has refused to run it already).
pub fn chapter_texts() -> Vec<ChapterText> {
    crate::scenario::embedded::CHAPTERS
        .iter()
        .filter_map(|c| {
            let scn = crate::scenario::load(&format!("chapter:{}", c.number), &[]).ok()?;
            let meta = &scn.file.scenario;
            let j = meta.journey.as_ref();
            Some(ChapterText {
                number: c.number,
                title: title_of(&scn.name),
                name: scn.name.clone(),
                description: meta.description.clone(),
                idea: j.map(|j| j.idea.clone()).unwrap_or_default(),
                problem: j.and_then(|j| j.problem.clone()),
            })
        })
        .collect()
}

/// p99 as the charts show it: none where over half the requests failed (the few that succeed
/// in a collapse say nothing about the users).
fn shown_p99(p: &JourneyPoint) -> Option<f64> {
    p.p99_ms.filter(|_| p.error_rate <= 0.5)
}

/// A p99 for the tables: greyed, with a tooltip, where over half failed (as the charts leave
/// it out).
fn p99_cell(p: &JourneyPoint) -> String {
    let v = escape(&p.p99_ms.map_or("—".into(), charts::fmt_ms));
    if p.p99_ms.is_some() && shown_p99(p).is_none() {
        format!("<span class=\"note\" title=\"over half failed: the p99 of the few that succeeded\">{v}</span>")
    } else {
        v
    }
}

fn fmt_pct_axis(v: f64) -> String {
    format!("{} %", charts::fmt_count(v))
}

fn users(u: Option<u32>) -> String {
    u.map_or("—".into(), charts::fmt_users)
}

/// The sentence of what broke, for a chapter's section.
fn breaks_sentence(b: &BreakingPoint, lowest: Option<u32>, highest: Option<u32>) -> String {
    let objective = format!(
        "the objective (p99 under {}, at most {} failing)",
        charts::fmt_ms(SLO_P99_MS),
        pct(SLO_ERROR_RATE)
    );
    match (b.holds, b.breaks) {
        (_, None) => format!(
            "Meets {objective} at every level measured, up to {} users.",
            users(highest)
        ),
        (None, Some(at)) => format!(
            "Misses {objective} already at {} users{}: {}.",
            charts::fmt_users(at),
            if Some(at) == lowest {
                ", the lowest level"
            } else {
                ""
            },
            b.why
        ),
        (Some(h), Some(at)) => format!(
            "Meets {objective} up to {} users. At {} users it breaks: {}.",
            charts::fmt_users(h),
            charts::fmt_users(at),
            b.why
        ),
    }
}

/// How far a breaking point reaches, for comparing two chapters: the level held (0: none), and
/// whether it never broke.
fn reach(b: &BreakingPoint) -> (u32, bool) {
    (b.holds.unwrap_or(0), b.breaks.is_none())
}

/// The journey's page.
pub fn index_html(
    chapters: &[ChapterText],
    points: &[JourneyPoint],
    plan: Plan,
    files: &[String],
) -> String {
    let breaking = breaking_points(points);
    let mut order: Vec<u32> = points.iter().map(|p| p.chapter).collect();
    order.sort_unstable();
    order.dedup();
    let levels: Vec<u32> = {
        let mut v: Vec<u32> = points.iter().map(|p| p.users).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let text_of = |ch: u32| -> ChapterText {
        chapters
            .iter()
            .find(|c| c.number == ch)
            .cloned()
            .unwrap_or_else(|| {
                let name = points
                    .iter()
                    .find(|p| p.chapter == ch)
                    .map_or(String::new(), |p| p.name.clone());
                ChapterText {
                    number: ch,
                    title: title_of(&name),
                    name,
                    description: None,
                    idea: String::new(),
                    problem: None,
                }
            })
    };
    let of = |ch: u32| -> Vec<&JourneyPoint> {
        let mut v: Vec<&JourneyPoint> = points.iter().filter(|p| p.chapter == ch).collect();
        v.sort_by_key(|p| p.users);
        v
    };
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<header>\n<h1>The scaling journey: {} architectures under one workload</h1>",
        order.len()
    );
    let _ = writeln!(
        b,
        "<p class=\"lead\">A small web shop grows from ten users to {} and each step breaks the \
         architecture it had, until the next chapter's idea fixes it. Every chapter's architecture \
         is replayed here under the same steady workload, varied only in the number of users.</p>",
        users(levels.last().copied())
    );
    let _ = writeln!(b, "</header>");
    let _ = writeln!(b, "<dl class=\"facts\">");
    let _ = writeln!(
        b,
        "<dt>workload</dt><dd>users thinking {} s between clicks (exponential); 78 % browse \
         products, 2 % edit one (2× the work), 15 % search (1.5×), 5 % buy (3×); a 10 s timeout and \
         one retry; no spikes, bots or faults</dd>",
        THINK_S
    );
    let _ = writeln!(
        b,
        "<dt>levels</dt><dd>{} users (offered load = users ÷ {} s)</dd>",
        levels
            .iter()
            .map(|&u| charts::fmt_users(u))
            .collect::<Vec<_>>()
            .join(", "),
        THINK_S
    );
    let _ = writeln!(
        b,
        "<dt>objective</dt><dd>p99 of successful requests under {} and at most {} of requests \
         failing, once the run has settled</dd>",
        escape(&charts::fmt_ms(SLO_P99_MS)),
        pct(SLO_ERROR_RATE)
    );
    let _ = writeln!(
        b,
        "<dt>each run</dt><dd>{} of simulated time in {} windows, measured after the end of its \
         transient (MSER-5)</dd>",
        escape(&crate::report::html::span(plan.duration)),
        escape(&crate::report::html::span(plan.window))
    );
    let _ = writeln!(b, "</dl>");
    // Contents.
    let _ = writeln!(b, "<nav class=\"toc\">\n<h2>Contents</h2>\n<ol>");
    for &ch in &order {
        let t = text_of(ch);
        let _ = writeln!(
            b,
            "<li><a href=\"#ch{ch}\">Chapter {ch}: {}</a></li>",
            escape(&t.title)
        );
    }
    let _ = writeln!(
        b,
        "</ol>\n<p><a href=\"#charts\">The journey's charts</a> · <a href=\"#breaking\">Breaking points</a> · <a href=\"#points\">Every point</a></p>\n</nav>"
    );
    // The chapters.
    for (k, &ch) in order.iter().enumerate() {
        let t = text_of(ch);
        let pts = of(ch);
        let bp = breaking.iter().find(|x| x.chapter == ch);
        let prev = k.checked_sub(1).map(|i| order[i]);
        let next = order.get(k + 1).copied();
        let _ = writeln!(
            b,
            "<section class=\"chapter\" id=\"ch{ch}\">\n<h2>Chapter {ch}: {}</h2>",
            escape(&t.title)
        );
        if !t.idea.is_empty() {
            let _ = writeln!(
                b,
                "<p class=\"lead\"><strong>The architecture:</strong> {}.</p>",
                escape(t.idea.trim_end_matches('.'))
            );
        }
        if let Some(p) = &t.problem {
            let _ = writeln!(
                b,
                "<div class=\"box problem\"><h3>The problem</h3><p>{}</p></div>",
                escape(p)
            );
        }
        let _ = writeln!(
            b,
            "<div class=\"box breaks\"><h3>What the simulation shows</h3>"
        );
        if let Some(bp) = bp {
            let _ = writeln!(
                b,
                "<p>{}</p>",
                escape(&breaks_sentence(
                    bp,
                    levels.first().copied(),
                    levels.last().copied()
                ))
            );
            let at_break = pts.iter().find(|p| Some(p.users) == bp.breaks);
            if let Some(line) = at_break.and_then(|p| p.first_failed.as_ref()) {
                let _ = writeln!(
                    b,
                    "<p><b>What failed first at {} users:</b> {}</p>",
                    escape(&users(bp.breaks)),
                    escape(line)
                );
            }
            if let Some(pb) = prev.and_then(|p| breaking.iter().find(|x| x.chapter == p)) {
                let (now, never_now) = reach(bp);
                let (before, never_before) = reach(pb);
                let said = if never_now && !never_before {
                    format!(
                        "Chapter {}'s architecture broke at {} users; this one holds at every level.",
                        pb.chapter,
                        users(pb.breaks)
                    )
                } else if (now, never_now) == (before, never_before) {
                    format!(
                        "The same breaking point as chapter {}'s architecture: what this chapter adds does not touch what breaks first at this workload.",
                        pb.chapter
                    )
                } else if now > before || (never_now && !never_before) {
                    format!(
                        "It moves the breaking point up: chapter {}'s architecture held up to {} users, this one up to {}.",
                        pb.chapter,
                        users(pb.holds),
                        users(bp.holds)
                    )
                } else {
                    format!(
                        "It breaks earlier than chapter {}'s architecture (up to {} users there, {} here); what broke it is named above.",
                        pb.chapter,
                        users(pb.holds),
                        users(bp.holds)
                    )
                };
                let _ = writeln!(b, "<p>{}</p>", escape(&said));
            }
        }
        // The levels.
        let _ = writeln!(
            b,
            "<table>\n<tr><th class=\"num\">users</th><th class=\"num\">p99</th><th class=\"num\">failed</th>\
             <th class=\"num\">served</th><th class=\"num\">cost</th><th>verdict</th></tr>"
        );
        for p in &pts {
            let verdict = if !p.settled {
                "<span class=\"open\">not settled</span>".to_string()
            } else if p.meets_slo() {
                "<span class=\"pass\">meets</span>".to_string()
            } else {
                format!(
                    "<span class=\"fail\">misses</span> — {}",
                    escape(&p.culprit())
                )
            };
            let _ = writeln!(
                b,
                "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{verdict}</td></tr>",
                escape(&charts::fmt_users(p.users)),
                p99_cell(p),
                escape(&pct(p.error_rate)),
                escape(&rate(p.goodput)),
                escape(&usd_month(p.cost_per_month)),
            );
        }
        let _ = writeln!(b, "</table>");
        // Its two charts, beside the previous chapter's lines.
        let this_label = format!("chapter {ch}: {}", t.title);
        let prev_pts = prev.map(of).unwrap_or_default();
        let prev_label = prev.map(|p| format!("chapter {p}: {}", text_of(p).title));
        let series = |value: fn(&JourneyPoint) -> Option<f64>| {
            let mut v = vec![MiniSeries {
                label: this_label.clone(),
                points: pts
                    .iter()
                    .map(|p| (f64::from(p.users), value(p), !p.settled))
                    .collect(),
            }];
            if let Some(l) = &prev_label {
                v.push(MiniSeries {
                    label: format!("{l} (the one before)"),
                    points: prev_pts
                        .iter()
                        .map(|p| (f64::from(p.users), value(p), !p.settled))
                        .collect(),
                });
            }
            v
        };
        let p99_chart = MiniChart {
            title: format!("Chapter {ch}: p99 latency against users"),
            x_label: "users (log scale)".into(),
            y_label: "p99 latency (log scale)".into(),
            y_log: true,
            y_range: (10.0, 1_000.0),
            fmt_y: charts::fmt_ms,
            series: series(shown_p99),
            objective: Some((
                SLO_P99_MS,
                format!("objective: p99 < {}", charts::fmt_ms(SLO_P99_MS)),
            )),
            note: pts
                .iter()
                .chain(prev_pts.iter())
                .any(|p| p.p99_ms.is_some() && shown_p99(p).is_none())
                .then(|| "no point: over half failed".into()),
        };
        let err_chart = MiniChart {
            title: format!("Chapter {ch}: failed requests against users"),
            x_label: "users (log scale)".into(),
            y_label: "failed requests (%)".into(),
            y_log: false,
            y_range: (0.0, 100.0),
            fmt_y: fmt_pct_axis,
            series: series(|p| Some(p.error_rate * 100.0).filter(|v| v.is_finite())),
            objective: Some((
                SLO_ERROR_RATE * 100.0,
                format!("objective: ≤ {} failed", pct(SLO_ERROR_RATE)),
            )),
            note: None,
        };
        let _ = writeln!(
            b,
            "<div class=\"charts\">\n<figure>{}<figcaption>p99 latency of successful requests against users.</figcaption></figure>\n\
             <figure>{}<figcaption>Share of requests that failed against users.</figcaption></figure>\n</div>",
            p99_chart.svg(),
            err_chart.svg()
        );
        let _ = writeln!(b, "</div>");
        // Theory's knee beside the simulation's breaking point.
        let knees = charts::knee::chapter_knees(&pts);
        let mut said: Vec<(f64, String)> = knees
            .iter()
            .filter_map(|(tier, k)| k.map(|k| (k.users, tier.clone())))
            .collect();
        said.sort_by(|a, b| a.0.total_cmp(&b.0));
        let png = format!("{}.png", charts::knee::knee_stem(ch));
        if !said.is_empty() || files.contains(&png) {
            let _ = writeln!(b, "<div class=\"box\"><h3>What queueing theory says</h3>");
            if !said.is_empty() {
                let list: Vec<String> = said
                    .iter()
                    .map(|(u, t)| format!("{t} at ≈ {} users", charts::knee::knee_words(*u)))
                    .collect();
                let sim = match bp.and_then(|x| x.breaks) {
                    Some(u) => format!(
                        "the simulation first missed the objective at {} users",
                        charts::fmt_users(u)
                    ),
                    None => "the simulation met the objective at every level".to_string(),
                };
                let _ = writeln!(
                    b,
                    "<p>Each tier's CPU saturates where the work arriving, λ·E[S], reaches its vCPUs (a fleet at its largest size; a tier the queueing formulas do not model, such as a database, by the utilization law: users ÷ its utilization): {}; {sim}. Latency climbs steeply as a tier nears its knee, so the objective goes at the level measured past it.</p>",
                    escape(&list.join(", "))
                );
            }
            if files.contains(&png) {
                let caption = format!(
                    "Chapter {ch}: each server tier's CPU utilization against users, with theory's saturation point dashed"
                );
                let _ = writeln!(
                    b,
                    "<figure class=\"wide\"><img src=\"{png}\" alt=\"{c}\"><figcaption>{c}</figcaption></figure>",
                    c = escape(&caption)
                );
            }
            let _ = writeln!(b, "</div>");
        }
        // The fix.
        match next {
            Some(n) => {
                let nt = text_of(n);
                let _ = writeln!(
                    b,
                    "<div class=\"box fix\"><h3>What the next chapter does about it</h3><p><a href=\"#ch{n}\">Chapter {n}: {}</a> — {}.</p></div>",
                    escape(&nt.title),
                    escape(nt.idea.trim_end_matches('.'))
                );
            }
            None => {
                let _ = writeln!(
                    b,
                    "<div class=\"box fix\"><h3>The end of the journey</h3><p>This is the last chapter; the <a href=\"#breaking\">breaking points</a> below rank every architecture.</p></div>"
                );
            }
        }
        if let Some(d) = &t.description {
            let _ = writeln!(
                b,
                "<p class=\"note\">Its own story, with its spikes and faults (<code>scalesim run chapter:{ch}</code>): {}</p>",
                escape(d)
            );
        }
        let _ = writeln!(b, "</section>");
    }
    // The journey's charts.
    let _ = writeln!(
        b,
        "<section class=\"part\" id=\"charts\">\n<h2>The journey's charts</h2>\n<p>Every architecture on one chart, one line per chapter; every level is steady load.</p>"
    );
    let captions = [
        ("journey_p99", "p99 latency of successful requests against users, every architecture (log–log), with the objective"),
        ("journey_errors", "Share of requests that failed against users, every architecture"),
        ("journey_cost", "Cost per month against users, every architecture (log–log)"),
        ("journey_goodput", "Successful requests per second against the load offered, every architecture (log–log)"),
    ];
    for (stem, caption) in captions {
        let png = format!("{stem}.png");
        if files.contains(&png) {
            let svg = format!("{stem}.svg");
            let vector = if files.contains(&svg) {
                format!(" (<a href=\"{svg}\">SVG</a>)")
            } else {
                String::new()
            };
            let _ = writeln!(
                b,
                "<figure class=\"wide\"><img src=\"{png}\" alt=\"{caption}\"><figcaption>{caption}{vector}</figcaption></figure>"
            );
        }
    }
    let _ = writeln!(b, "</section>");
    // The breaking points.
    let _ = writeln!(
        b,
        "<section class=\"part\" id=\"breaking\">\n<h2>Breaking points</h2>\n<p>The highest level at which each architecture meets the objective (with every level below it meeting it too), and what broke it at the next.</p>\n\
         <table>\n<tr><th class=\"num\">#</th><th>architecture</th><th class=\"num\">meets the objective up to</th><th class=\"num\">breaks at</th><th>what broke it</th></tr>"
    );
    for bp in &breaking {
        let _ = writeln!(
            b,
            "<tr><td class=\"num\"><a href=\"#ch{c}\">{c}</a></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&text_of(bp.chapter).title),
            escape(&users(bp.holds)),
            escape(&users(bp.breaks)),
            escape(&bp.why),
            c = bp.chapter,
        );
    }
    let _ = writeln!(b, "</table>\n</section>");
    // Every point.
    let _ = writeln!(
        b,
        "<section class=\"part\" id=\"points\">\n<h2>Every point</h2>\n<details>\n<summary>All {} runs, as journey.csv holds them</summary>\n<table>\n\
         <tr><th class=\"num\">#</th><th class=\"num\">users</th><th class=\"num\">p50</th><th class=\"num\">p99</th><th class=\"num\">failed</th><th class=\"num\">served</th><th class=\"num\">cost</th><th class=\"num\">measured from</th><th>settled</th></tr>",
        points.len()
    );
    let mut sorted: Vec<&JourneyPoint> = points.iter().collect();
    sorted.sort_by_key(|p| (p.chapter, p.users));
    for p in sorted {
        let _ = writeln!(
            b,
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            p.chapter,
            escape(&charts::fmt_users(p.users)),
            escape(&p.p50_ms.map_or("—".into(), charts::fmt_ms)),
            escape(&p.p99_ms.map_or("—".into(), charts::fmt_ms)),
            escape(&pct(p.error_rate)),
            escape(&rate(p.goodput)),
            escape(&usd_month(p.cost_per_month)),
            escape(&crate::report::html::span(p.truncated)),
            if p.settled {
                "yes".to_string()
            } else {
                format!("<span class=\"open\">no</span> ({})", escape(&p.unsettled.join(", ")))
            }
        );
    }
    let _ = writeln!(b, "</table>\n</details>\n</section>");
    let _ = writeln!(
        b,
        "<p class=\"note\">Written by <code>scalesim journey</code>: journey.json, journey.csv and summary.md in this folder hold the same figures.</p>"
    );
    page("The scaling journey — scalesim", &b)
}
