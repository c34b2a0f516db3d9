//! `scalesim sweep` and `scalesim merge`.

use super::{write_stderr, write_stdout, EXIT_BAD_INPUT, EXIT_OK};
use crate::budget::Limits;
use crate::sweep::{self, Param};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The flags of `sweep`.
pub struct SweepArgs<'a> {
    pub scenario: &'a str,
    pub params: &'a [String],
    pub replications: u32,
    pub seed: Option<u64>,
    pub set: &'a [String],
    pub variant: Option<&'a str>,
    pub jobs: Option<usize>,
    pub shard: Option<&'a str>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub limits: Limits,
}

pub fn cmd_sweep(a: SweepArgs) -> u8 {
    let mut params = Vec::new();
    for raw in a.params {
        match Param::parse(raw) {
            Ok(p) => params.push(p),
            Err(e) => {
                let raw = crate::scenario::error::clip(raw, 200);
                errln!("error: --param {raw}: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let shard = match a.shard.map(sweep::parse_shard).transpose() {
        Ok(s) => s,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let plan = match sweep::plan(a.scenario, a.variant, a.seed, a.set, params, a.replications) {
        Ok(p) => p,
        Err(e) => {
            errln!("{}", with_error_prefix(&e));
            return EXIT_BAD_INPUT;
        }
    };
    for n in plan.scenarios.first().map_or(&[][..], |s| &s.notes[..]) {
        errln!("note: {n}");
    }
    let def = &plan.def;
    let out = match (&a.out, shard) {
        (Some(o), _) => o.clone(),
        (None, None) => PathBuf::from("reports").join(format!("{}-sweep", def.name)),
        (None, Some((k, n))) => PathBuf::from("reports")
            .join(format!("{}-sweep-shards", def.name))
            .join(format!("shard-{k}-of-{n}.json")),
    };
    let preflight = if shard.is_some() {
        out.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| format!("cannot create the folder of {}: {e}", out.display()))
            .and_then(|()| {
                crate::report::output::preflight(&out)
                    .map_err(|e| format!("{}: {e}", out.display()))
            })
    } else {
        crate::report::Staging::preflight(&out).map_err(|e| e.to_string())
    };
    if let Err(e) = preflight {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let (threads, note) = crate::journey::worker_threads(a.jobs);
    if let Some(n) = note {
        errln!("{n}");
    }
    let mine = match shard {
        None => def.runs(),
        Some((k, n)) => (0..def.runs())
            .filter(|i| i % n as usize == k as usize)
            .count(),
    };
    if !a.quiet {
        outln!(
            "sweep of {} ({}): {} point{} × {} replication{} = {} runs{}, {} worker thread{}",
            def.name,
            def.source,
            def.points(),
            if def.points() == 1 { "" } else { "s" },
            def.replications,
            if def.replications == 1 { "" } else { "s" },
            def.runs(),
            shard.map_or(String::new(), |(k, n)| format!(
                "; shard {k}/{n} runs {mine} of them"
            )),
            threads,
            if threads == 1 { "" } else { "s" }
        );
        for p in &def.params {
            outln!("  --param {}: {}", p.key, p.values.join(", "));
        }
        outln!(
            "  base seed {}, scenario hash {}",
            def.seed,
            def.scenario_hash
        );
    }
    let wall = Instant::now();
    let opts = sweep::Options {
        shard,
        jobs: Some(threads),
        progress: !a.quiet && std::io::stderr().is_terminal(),
        limits: a.limits,
    };
    let runs = match sweep::execute(&plan, &opts) {
        Ok(r) => r,
        Err(e) => {
            errln!("{}", with_error_prefix(&e));
            return EXIT_BAD_INPUT;
        }
    };
    let secs = wall.elapsed().as_secs_f64();
    if let Some(k) = shard {
        let text = sweep::shard::shard_json(def, k, &runs);
        if let Err(e) = crate::report::output::write_file(&out, text.as_bytes()) {
            errln!("error: {}: {e}", out.display());
            return EXIT_BAD_INPUT;
        }
        if !a.quiet {
            outln!(
                "  {} runs in {secs:.1}s wall; wrote shard {}/{} to {}",
                runs.len(),
                k.0,
                k.1,
                out.display()
            );
        }
        return EXIT_OK;
    }
    finish(
        &out,
        def,
        &runs,
        a.quiet,
        &format!("{} runs in {secs:.1}s wall", runs.len()),
    )
}

/// Writes the report and prints a line per point.
fn finish(
    out: &Path,
    def: &sweep::SweepDef,
    runs: &[sweep::RunRecord],
    quiet: bool,
    what: &str,
) -> u8 {
    let files = match sweep::report::write_sweep(out, def, runs) {
        Ok(f) => f,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if !quiet {
        if let Ok(points) = sweep::report::summarise(def, runs) {
            for p in &points {
                let f = |i: usize, fmt: &dyn Fn(f64) -> String| match &p.figures[i] {
                    None => "—".to_string(),
                    Some(iv) if iv.half.is_nan() => fmt(iv.mean),
                    Some(iv) => format!("{} ± {}", fmt(iv.mean), fmt(iv.half)),
                };
                let ms = |v: f64| crate::slo::Measure::Mean.format(v);
                let pct = |v: f64| format!("{:.2} %", v * 100.0);
                outln!(
                    "  {}: p99 {}, errors {}, {} ok/s",
                    sweep::point_label(def, p.index),
                    f(4, &ms),
                    f(2, &pct),
                    f(1, &|v| format!("{v:.1}"))
                );
            }
        }
        outln!("  {what}; wrote {} files to {}", files.len(), out.display());
    }
    EXIT_OK
}

/// Library messages that are already "error: …" stay as they are; others get the prefix.
fn with_error_prefix(e: &str) -> String {
    if e.starts_with("error") {
        e.to_string()
    } else {
        format!("error: {e}")
    }
}

pub fn cmd_merge(paths: &[PathBuf], out: Option<PathBuf>, quiet: bool) -> u8 {
    let mut shards = Vec::new();
    for p in paths {
        match sweep::shard::read(p) {
            Ok(s) => shards.push((p.clone(), s)),
            Err(e) => {
                errln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let (def, runs) = match sweep::shard::merge(&shards) {
        Ok(x) => x,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let out = out.unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-sweep", def.name)));
    if let Err(e) = crate::report::Staging::preflight(&out) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    finish(
        &out,
        &def,
        &runs,
        quiet,
        &format!("merged {} shards ({} runs)", shards.len(), runs.len()),
    )
}
