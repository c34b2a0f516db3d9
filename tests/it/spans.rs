//! Sampled request spans (src/model/span.rs): `trace.json` is valid Chrome Trace Event Format
//! (a JSON Schema of the format's fields checked with `jsonschema`, then every slice nested in
//! its track and every span inside its parent), the waterfalls and the summary's sentences are
//! written, tracing changes no result, and `run.gif` decodes with more than one frame at the
//! slide size (must-show 4 of issue 14).

use crate::common::Tmp;
use scalesim::report;
use scalesim::scenario::{self, Override, Scenario};
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn chapter(n: u32, sets: &[&str]) -> Scenario {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    scenario::load(&format!("chapter:{n}"), &overrides).unwrap_or_else(|e| panic!("{e}"))
}

/// The Trace Event Format's required fields for the two phases written: complete events
/// (`X`: name, cat, ph, ts, dur, pid, tid, args) and metadata (`M`: process_name,
/// thread_name, thread_sort_index with their args); `displayTimeUnit` "ms" or "ns".
fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["traceEvents", "displayTimeUnit"],
        "properties": {
            "displayTimeUnit": { "enum": ["ms", "ns"] },
            "traceEvents": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["ph", "name", "cat", "ts", "dur", "pid", "tid"],
                            "properties": {
                                "ph": { "const": "X" },
                                "name": { "type": "string", "minLength": 1 },
                                "cat": { "type": "string", "minLength": 1 },
                                "ts": { "type": "number", "minimum": 0 },
                                "dur": { "type": "number", "minimum": 0 },
                                "pid": { "type": "integer", "minimum": 0 },
                                "tid": { "type": "integer", "minimum": 0 },
                                "args": { "type": "object" }
                            }
                        },
                        {
                            "type": "object",
                            "required": ["ph", "name", "pid", "tid", "args"],
                            "properties": {
                                "ph": { "const": "M" },
                                "name": { "enum": ["process_name", "thread_name", "thread_sort_index"] },
                                "pid": { "type": "integer", "minimum": 0 },
                                "tid": { "type": "integer", "minimum": 0 },
                                "args": {
                                    "type": "object",
                                    "oneOf": [
                                        { "required": ["name"], "properties": { "name": { "type": "string" } } },
                                        { "required": ["sort_index"], "properties": { "sort_index": { "type": "integer" } } }
                                    ]
                                }
                            }
                        }
                    ]
                }
            }
        }
    })
}

/// ns from the format's µs (written from whole ns, so exact to rounding).
fn ns(v: &Value) -> i64 {
    (v.as_f64().unwrap() * 1000.0).round() as i64
}

fn check_trace(doc: &Value) {
    let v = jsonschema::draft7::new(&schema()).expect("schema compiles");
    let errors: Vec<String> = v.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "not Chrome trace format: {errors:?}");
    let events = doc["traceEvents"].as_array().unwrap();
    // Every track a slice is on is named.
    let named: Vec<i64> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["tid"].as_i64().unwrap())
        .collect();
    let mut by_tid: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    let mut spans: BTreeMap<(u64, u64), (i64, i64, Option<u64>)> = BTreeMap::new();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let tid = e["tid"].as_i64().unwrap();
        assert!(named.contains(&tid), "slice on an unnamed track: {e}");
        let (ts, dur) = (ns(&e["ts"]), ns(&e["dur"]));
        by_tid.entry(tid).or_default().push((ts, ts + dur));
        if e["cat"] != "wait" {
            let k = (
                e["args"]["trace"].as_u64().unwrap(),
                e["args"]["span"].as_u64().unwrap(),
            );
            spans.insert(k, (ts, ts + dur, e["args"]["parent"].as_u64()));
        }
    }
    // Slices on one track nest (a viewer draws overlapping ones wrongly).
    for (tid, mut slices) in by_tid {
        slices.sort_by_key(|&(a, b)| (a, std::cmp::Reverse(b)));
        let mut stack: Vec<(i64, i64)> = Vec::new();
        for (a, b) in slices {
            while stack.last().is_some_and(|&(_, e)| e <= a) {
                stack.pop();
            }
            if let Some(&(pa, pb)) = stack.last() {
                assert!(
                    pa <= a && b <= pb,
                    "track {tid}: [{a}, {b}] overlaps [{pa}, {pb}] without nesting"
                );
            }
            stack.push((a, b));
        }
    }
    // Every span lies inside its parent.
    for (&(t, s), &(a, b, parent)) in &spans {
        if let Some(p) = parent {
            let (pa, pb, _) = spans[&(t, p)];
            assert!(
                pa <= a && b <= pb,
                "trace {t} span {s} [{a}, {b}] outside its parent {p} [{pa}, {pb}]"
            );
        }
    }
}

fn written(scn: &Scenario, tmp: &Tmp) -> (scalesim::run::RunOutput, std::path::PathBuf) {
    let out = scalesim::run::run(scn, &mut |_| {});
    let dir = tmp.join("report");
    report::write_run(&dir, scn, &out).expect("report written");
    (out, dir)
}

#[test]
fn trace_json_is_chrome_trace_format_with_nested_spans_for_calls_and_failures() {
    // Chapter 6 (a gateway calling services), chapter 3 (its collapse: timeouts, retries)
    // and chapter 12 (the database), at their own lengths.
    for n in [6, 3, 12] {
        let mut scn = chapter(n, &[]);
        scn.trace_requests = Some(5);
        let tmp = Tmp::new(&format!("spans-ch{n}"));
        let (out, dir) = written(&scn, &tmp);
        let text = std::fs::read_to_string(dir.join("trace.json")).expect("trace.json");
        let doc: Value = serde_json::from_str(&text).expect("trace.json is JSON");
        check_trace(&doc);
        let tracer = out.metrics.tracer.as_deref().expect("traced");
        assert!(tracer.sampled > 0, "chapter {n}: nothing sampled");
        assert!(doc["otherData"]["kept"].as_u64().unwrap() > 0);
        assert!(dir.join("waterfalls.png").exists() && dir.join("waterfalls.svg").exists());
        let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
        assert!(
            summary.contains("## Sampled requests"),
            "chapter {n}: {summary}"
        );
        let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
        assert!(
            html.contains("waterfalls.png"),
            "index.html shows the waterfalls"
        );
        if n == 6 {
            // Calls are spans under the gateway's visit.
            assert!(text.contains("\"cat\":\"api_gateway\""), "{text}");
        }
        if n == 3 {
            assert!(
                summary.contains("timed out after"),
                "the collapse's timeouts: {summary}"
            );
        }
    }
}

#[test]
fn tracing_changes_no_result() {
    let plain = chapter(5, &[]);
    let mut traced = plain.clone();
    traced.trace_requests = Some(2);
    let a = scalesim::run::run(&plain, &mut |_| {});
    let b = scalesim::run::run(&traced, &mut |_| {});
    assert_eq!(a.hash, b.hash, "event streams differ");
    assert_eq!(
        report::results::results_json(&plain, &a),
        report::results::results_json(&traced, &b)
    );
    assert_eq!(
        report::csv::timeseries_csv(&plain, &a),
        report::csv::timeseries_csv(&traced, &b)
    );
    assert!(b.metrics.tracer.unwrap().sampled > 100);
}

#[test]
fn run_gif_decodes_with_frames_at_the_slide_size() {
    let mut scn = chapter(1, &["scenario.duration=3m"]);
    scn.gif = true;
    let tmp = Tmp::new("spans-gif");
    let (_, dir) = written(&scn, &tmp);
    let (w, h, frames) = crate::common::gif_frames(&dir.join("run.gif"));
    assert_eq!((w, h), scalesim::report::charts::GIF_SIZE);
    assert!(frames > 20, "{frames} frames");
}
