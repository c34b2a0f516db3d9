//! The sampled requests of a run ([`crate::model::span`]) in words and as a Chrome trace:
//! `trace.json` in the Trace Event Format (complete events `ph: "X"` with `ts`/`dur` in µs,
//! metadata events `ph: "M"` naming the process and one track per sampled request), which
//! ui.perfetto.dev and chrome://tracing open; see docs/traces.md.

use super::charts::fmt_ms;
use crate::model::request::Outcome;
use crate::model::span::{tree, Kept, Span, SpanKind, Tracer, Why};
use crate::scenario::Scenario;
use serde_json::{json, Value};

/// Milliseconds of `ns`.
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Microseconds of `ns` (the format's unit), exact to the nanosecond.
fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

/// One kept trace with its spans and the words for it.
pub struct Described {
    /// Why it was kept.
    pub why: Why,
    /// The outcome the user saw.
    pub outcome: Outcome,
    /// End-to-end latency, ns.
    pub latency: u64,
    /// Its request class's name.
    pub class: String,
    /// The spans (request first).
    pub spans: Vec<Span>,
    /// A label per span.
    pub labels: Vec<String>,
    /// The one-sentence story ("timed out after 5.0 s: 4.2 s of it waiting in web-3's
    /// backlog").
    pub sentence: String,
    /// Records were dropped (a very long trace).
    pub truncated: bool,
}

/// The kept traces, described.
pub fn describe_all(scn: &Scenario, tracer: &Tracer) -> Vec<Described> {
    tracer
        .kept()
        .iter()
        .map(|k| describe(scn, tracer, k))
        .collect()
}

fn kind_of(tracer: &Tracer, c: u32) -> &'static str {
    tracer.kinds.get(c as usize).copied().unwrap_or("component")
}

fn name_of(tracer: &Tracer, c: u32) -> String {
    tracer
        .names
        .get(c as usize)
        .cloned()
        .unwrap_or_else(|| format!("#{c}"))
}

/// Time a visit spent waiting: its marked wait, or all of it for a server or database that
/// never started its job (still in the backlog, or the pool, when the trace ended).
fn waiting(tracer: &Tracer, s: &Span) -> u64 {
    if s.kind != SpanKind::Visit {
        return 0;
    }
    match s.wait_until {
        Some(_) => s.waited(),
        // Its job never started: it waited all along (reset by a crash, shed, or still there).
        None if matches!(kind_of(tracer, s.comp), "server" | "database") => s.end - s.start,
        None => 0,
    }
}

/// Where a kind waits, in words.
fn wait_place(kind: &str, name: &str) -> String {
    match kind {
        "database" => format!("for a connection to {name}"),
        "server" => format!("in {name}'s backlog"),
        _ => format!("in {name}"),
    }
}

/// The label of span `i`.
fn label(tracer: &Tracer, spans: &[Span], i: usize, class: &str) -> String {
    let s = &spans[i];
    let failed = |o: Option<Outcome>| match o {
        Some(o) if o != Outcome::Ok => format!(": {}", o.words()),
        _ => String::new(),
    };
    match s.kind {
        SpanKind::Request => format!("{class} request{}", failed(s.outcome)),
        SpanKind::Attempt => {
            let n = if s.attempt > 1 {
                format!("retry (attempt {})", s.attempt)
            } else {
                "attempt 1".to_string()
            };
            format!("{n}{}", failed(s.outcome))
        }
        SpanKind::Visit => {
            let kind = kind_of(tracer, s.comp);
            let name = name_of(tracer, s.comp);
            let dur = s.end - s.start;
            let what = match kind {
                "dns" if s.busy_until.is_some_and(|b| b == s.start) => "cache hit".to_string(),
                "dns" => format!("lookup {}", fmt_ms(ms(s.busy() + s.waited()))),
                "load_balancer" | "rate_limiter" | "api_gateway" => match s.next {
                    Some(n) => format!("→ {}", name_of(tracer, n)),
                    None => kind.replace('_', " "),
                },
                "cache" if s.calls > 0 => "miss".to_string(),
                "cache" => "hit".to_string(),
                "server" | "database" => {
                    let w = waiting(tracer, s);
                    let verb = if kind == "database" { "pool" } else { "waited" };
                    match (w, s.wait_until.is_some()) {
                        (_, true) => {
                            format!("{verb} {}, CPU {}", fmt_ms(ms(w)), fmt_ms(ms(s.busy())))
                        }
                        (w, false) if w > 0 => format!("{verb} {}", fmt_ms(ms(w))),
                        _ => fmt_ms(ms(dur)),
                    }
                }
                _ => kind.replace('_', " "),
            };
            let open = if s.open && s.outcome.is_none() && waiting(tracer, s) == 0 {
                " (still held)"
            } else {
                ""
            };
            format!("{name} {what}{}{open}", failed(s.outcome))
        }
    }
}

fn describe(scn: &Scenario, tracer: &Tracer, k: &Kept) -> Described {
    let spans = tree(&k.log);
    let class = scn
        .client
        .classes
        .get(k.log.class as usize)
        .map_or_else(|| "request".to_string(), |c| c.name.clone());
    let labels = (0..spans.len())
        .map(|i| label(tracer, &spans, i, &class))
        .collect();
    let latency = k.log.latency();
    Described {
        why: k.why,
        outcome: k.log.outcome,
        latency,
        sentence: sentence(tracer, &spans, k.log.outcome, latency),
        class,
        spans,
        labels,
        truncated: k.log.truncated,
    }
}

/// The story of one trace in a sentence: the outcome, the time, and where the time went.
fn sentence(tracer: &Tracer, spans: &[Span], outcome: Outcome, latency: u64) -> String {
    let head = match outcome {
        Outcome::Ok => format!("served in {}", fmt_ms(ms(latency))),
        Outcome::Timeout => format!("timed out after {}", fmt_ms(ms(latency))),
        o => format!("{} after {}", o.words(), fmt_ms(ms(latency))),
    };
    let attempts = spans.iter().filter(|s| s.kind == SpanKind::Attempt).count();
    let tries = if attempts > 1 {
        format!(" over {attempts} attempts")
    } else {
        String::new()
    };
    // Where the time went: the longest wait, else the longest time on a CPU.
    let mut waits: Vec<(u64, String)> = Vec::new();
    for s in spans.iter().filter(|s| s.kind == SpanKind::Visit) {
        let w = waiting(tracer, s);
        if w > 0 {
            let place = wait_place(kind_of(tracer, s.comp), &name_of(tracer, s.comp));
            match waits.iter_mut().find(|(_, p)| *p == place) {
                Some(e) => e.0 += w,
                None => waits.push((w, place)),
            }
        }
    }
    waits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let share = |t: u64| {
        if latency > 0 {
            100.0 * t as f64 / latency as f64
        } else {
            0.0
        }
    };
    let busiest = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Visit && s.wait_until.is_some())
        .max_by_key(|s| (s.busy(), std::cmp::Reverse(s.start)));
    let top_busy = busiest.map_or(0, Span::busy);
    if let Some((w, place)) = waits.first().filter(|(w, _)| *w >= top_busy) {
        if share(*w) >= 20.0 {
            return format!(
                "{head}{tries}: {} of it ({:.0} %) waiting {place}",
                fmt_ms(ms(*w)),
                share(*w)
            );
        }
    }
    if let Some(s) = busiest {
        if share(s.busy()) >= 20.0 {
            return format!(
                "{head}{tries}: {} of it ({:.0} %) on {}'s CPU",
                fmt_ms(ms(s.busy())),
                share(s.busy()),
                name_of(tracer, s.comp)
            );
        }
    }
    let failing = spans
        .iter()
        .rev()
        .find(|s| s.kind == SpanKind::Visit && s.outcome.is_some_and(|o| o != Outcome::Ok));
    match failing {
        Some(s) if outcome != Outcome::Ok && outcome != Outcome::Timeout => format!(
            "{head}{tries}: {} answered {}",
            name_of(tracer, s.comp),
            s.outcome.map_or("", Outcome::words)
        ),
        _ => format!("{head}{tries}"),
    }
}

/// The Chrome Trace Event Format document of the kept traces.
pub fn trace_json(scn: &Scenario, described: &[Described], tracer: &Tracer) -> Value {
    let mut events = vec![json!({
        "ph": "M", "name": "process_name", "pid": 1, "tid": 0,
        "args": { "name": format!("scalesim: {}", scn.title()) }
    })];
    let mut tid = 0u64;
    for (k, d) in described.iter().enumerate() {
        // Each trace is a track; spans that overlap without nesting (parallel calls) go to a
        // lane of their own below it.
        let base = tid + 1;
        let mut lanes: Vec<Vec<(u64, u64)>> = Vec::new();
        let mut lane_of = vec![0usize; d.spans.len()];
        for (i, s) in d.spans.iter().enumerate() {
            let first = s.parent.map_or(0, |p| lane_of[p]);
            let fits = |lane: &Vec<(u64, u64)>| {
                lane.iter().all(|&(a, b)| {
                    b <= s.start
                        || a >= s.end
                        || (a <= s.start && s.end <= b)
                        || (s.start <= a && b <= s.end)
                })
            };
            let lane = (first..lanes.len())
                .find(|&l| fits(&lanes[l]))
                .unwrap_or_else(|| {
                    lanes.push(Vec::new());
                    lanes.len() - 1
                });
            lanes[lane].push((s.start, s.end));
            lane_of[i] = lane;
        }
        for l in 0..lanes.len().max(1) {
            let name = if l == 0 {
                format!("#{} {}: {}", k + 1, d.why.words(), d.sentence)
            } else {
                format!("#{} parallel calls ({})", k + 1, l)
            };
            events.push(json!({
                "ph": "M", "name": "thread_name", "pid": 1, "tid": base + l as u64,
                "args": { "name": name }
            }));
            events.push(json!({
                "ph": "M", "name": "thread_sort_index", "pid": 1, "tid": base + l as u64,
                "args": { "sort_index": base + l as u64 }
            }));
        }
        tid += lanes.len().max(1) as u64;
        for (i, s) in d.spans.iter().enumerate() {
            let t = base + lane_of[i] as u64;
            let cat = match s.kind {
                SpanKind::Request => "request",
                SpanKind::Attempt => "attempt",
                SpanKind::Visit => kind_of(tracer, s.comp),
            };
            let mut args = json!({
                "trace": k,
                "span": i,
                "parent": s.parent,
                "outcome": s.outcome.map(Outcome::name),
            });
            if s.kind == SpanKind::Visit {
                args["component"] = json!(name_of(tracer, s.comp));
                args["waited_ms"] = json!(ms(waiting(tracer, s)));
                args["busy_ms"] = json!(ms(s.busy()));
                if let Some(from) = s.link_from {
                    args["network_in_ms"] = json!(ms(s.start.saturating_sub(from)));
                }
                args["still_held_at_end"] = json!(s.open);
            }
            if s.kind == SpanKind::Request {
                args["why_kept"] = json!(d.why.words());
                args["story"] = json!(d.sentence);
                args["truncated"] = json!(d.truncated);
            }
            events.push(json!({
                "ph": "X", "name": d.labels[i], "cat": cat, "pid": 1, "tid": t,
                "ts": us(s.start), "dur": us(s.end - s.start), "args": args,
            }));
            // The wait inside a visit, as a child slice of its own.
            let w = waiting(tracer, s);
            if w > 0 {
                events.push(json!({
                    "ph": "X", "name": "waiting", "cat": "wait", "pid": 1, "tid": t,
                    "ts": us(s.start), "dur": us(w), "args": { "span": i },
                }));
            }
        }
    }
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "scenario": scn.title(),
            "seed": scn.seed,
            "sampled": tracer.sampled,
            "skipped_full": tracer.skipped,
            "kept": described.len(),
        }
    })
}

/// The section summary.md gets: the waterfalls and one sentence per request drawn.
pub fn summary_md(described: &[Described]) -> String {
    let shown = super::charts::waterfall_panels(described);
    if shown.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n## Sampled requests\n\nA few sampled requests, hop by hop, are drawn in `waterfalls.png` (every kept one, with its \
         spans, is in `trace.json`, which ui.perfetto.dev opens):\n\n",
    );
    for (k, d) in shown.iter().enumerate() {
        s.push_str(&format!(
            "- #{} {} ({}): {}.\n",
            k + 1,
            d.why.words(),
            d.class,
            d.sentence
        ));
    }
    s
}

/// Writes `trace.json` and `waterfalls.png/.svg` into the staging folder; returns the names.
pub fn write(
    stage: &super::Staging,
    scn: &Scenario,
    tracer: &Tracer,
    described: &[Described],
    waterfalls: bool,
) -> Result<Vec<String>, super::ReportError> {
    let mut names = Vec::new();
    let doc = trace_json(scn, described, tracer);
    let text = serde_json::to_string(&doc).expect("JSON values always serialize") + "\n";
    stage.write("trace.json", text.as_bytes())?;
    names.push("trace.json".to_string());
    if !waterfalls {
        return Ok(names);
    }
    let panels = super::charts::waterfall_panels(described);
    let kinds = panels
        .iter()
        .map(|d| {
            d.spans
                .iter()
                .map(|s| match s.kind {
                    SpanKind::Visit => kind_of(tracer, s.comp),
                    _ => "",
                })
                .collect()
        })
        .collect();
    super::charts::waterfall_chart(&stage.dir, &scn.title(), panels, kinds, &mut names)?;
    Ok(names)
}
