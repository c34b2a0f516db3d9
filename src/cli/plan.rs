//! `scalesim plan`.

use super::{write_stderr, write_stdout, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use crate::budget::Limits;
use crate::plan;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// The flags of `plan`.
pub struct PlanArgs<'a> {
    pub scenario: &'a str,
    pub users: Option<u32>,
    pub slos: &'a [String],
    pub vary: &'a [String],
    pub replications: u32,
    pub seed: Option<u64>,
    pub set: &'a [String],
    pub variant: Option<&'a str>,
    pub exhaustive: bool,
    pub jobs: Option<usize>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub limits: Limits,
}

pub fn cmd_plan(a: PlanArgs) -> u8 {
    let req = plan::Request {
        source: a.scenario,
        variant: a.variant,
        seed: a.seed,
        sets: a.set,
        users: a.users,
        slos: a.slos,
        vary: a.vary,
        replications: a.replications,
    };
    let (p, ask) = match plan::load(&req) {
        Ok(x) => x,
        Err(e) => {
            errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    for n in p.scenarios.first().map_or(&[][..], |s| &s.notes[..]) {
        errln!("note: {n}");
    }
    let def = &p.def;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("{}-plan", def.name)));
    if let Err(e) = crate::report::Staging::preflight(&out) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let (threads, note) = crate::journey::worker_threads(a.jobs);
    if let Some(n) = note {
        errln!("{n}");
    }
    let bisected = plan::bisected(&def.params);
    if !a.quiet {
        outln!(
            "plan for {} ({}) at {}: {} configurations × {} replication{}, {} worker thread{}",
            def.name,
            def.source,
            a.users
                .map_or("the scenario's load".to_string(), |u| format!("{u} users")),
            def.points(),
            def.replications,
            if def.replications == 1 { "" } else { "s" },
            threads,
            if threads == 1 { "" } else { "s" }
        );
        for (k, q) in def.params.iter().enumerate() {
            let role = match (Some(k) == bisected, a.exhaustive) {
                (true, false) => "capacity, bisected",
                (true, true) => "capacity (every value: --exhaustive)",
                _ => "enumerated",
            };
            outln!("  --vary {} ({role}): {}", q.key, q.values.join(", "));
        }
        let labels: Vec<&str> = def.objectives.iter().map(|o| o.label.as_str()).collect();
        outln!(
            "  objectives: {} (each judged on the upper or lower end of its 95 % interval, \
             whichever is worse)",
            labels.join(", ")
        );
        outln!(
            "  base seed {}, scenario hash {}",
            def.seed,
            def.scenario_hash
        );
    }
    let wall = Instant::now();
    let bar = (!a.quiet && std::io::stderr().is_terminal()).then(|| {
        crate::sweep::progress_bar(
            def.runs() as u64,
            "  {bar:40} {pos} runs of a grid of {len}  ({elapsed} so far)",
        )
    });
    let opts = plan::SearchOptions {
        exhaustive: a.exhaustive,
        limits: a.limits,
        jobs: Some(threads),
        bar: bar.as_ref(),
    };
    let search = plan::search(&p, &opts);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let search = match search {
        Ok(s) => s,
        Err(e) => {
            errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let secs = wall.elapsed().as_secs_f64();
    let files = match plan::report::write_plan(&out, def, &ask, &search) {
        Ok(f) => f,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if !a.quiet {
        out!("{}", plan::report::text(def, &search));
        outln!(
            "  {secs:.1}s wall; wrote {} files to {}",
            files.len(),
            out.display()
        );
    }
    if search.best.is_some() {
        EXIT_OK
    } else {
        if a.quiet {
            errln!("{}", plan::report::verdict(def, &search));
        }
        EXIT_FAILED
    }
}
