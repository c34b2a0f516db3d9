//! The command line (clap). Thin: each command parses its flags, calls the library, prints, and
//! returns an exit code — 0 ok, 1 an SLO or determinism check failed, 2 bad input or usage, 3 an
//! objective of `check --replications` inconclusive (and none failed).

use crate::budget::{Estimate, Guard, Limits};
use crate::engine::time::{as_secs_f64, human};
use crate::report;
use crate::run::{self, RunOutput};
use crate::scenario::{self, Override, Scenario};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

// Output goes through these instead of `print!`/`eprintln!`, which panic when the stream is closed
// (`scalesim validate *.toml | head -1`). A closed stdout or stderr is a normal end: the reader
// has what it wanted. Output to that stream stops, the command finishes its work (a run still
// writes its report) and exits with its usual code. Portable: no signal handling involved.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout; once a write fails (a closed pipe), later output to it is dropped.
pub fn write_stdout(args: std::fmt::Arguments) {
    emit(&mut std::io::stdout().lock(), &STDOUT_CLOSED, args);
}

/// Writes to stderr; once a write fails (a closed pipe), later output to it is dropped.
pub fn write_stderr(args: std::fmt::Arguments) {
    emit(&mut std::io::stderr().lock(), &STDERR_CLOSED, args);
}

fn emit(w: &mut dyn Write, closed: &AtomicBool, args: std::fmt::Arguments) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if w.write_fmt(args).and_then(|()| w.flush()).is_err() {
        closed.store(true, Ordering::Relaxed);
    }
}

macro_rules! out {
    ($($t:tt)*) => { write_stdout(format_args!($($t)*)) };
}
macro_rules! outln {
    ($($t:tt)*) => { write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}
macro_rules! errln {
    ($($t:tt)*) => { write_stderr(format_args!("{}\n", format_args!($($t)*))) };
}

// After the macros, so they can use them.
mod compare;
mod plan;
mod sweep;

/// Exit code: everything fine.
pub const EXIT_OK: u8 = 0;
/// Exit code: an SLO was violated (or a determinism check failed).
pub const EXIT_FAILED: u8 = 1;
/// Exit code: bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// A deterministic discrete-event simulator of a web system's scaling journey.
#[derive(Parser, Debug)]
#[command(name = "scalesim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one scenario and write its report (results.json, timeseries.csv, charts, summary.md).
    Run {
        /// Scenario file (TOML, at most 8 MiB), or `chapter:N` for an embedded chapter.
        scenario: String,
        /// Master seed (overrides the file's): any whole number from 0 to 18446744073709551615.
        #[arg(long)]
        seed: Option<u64>,
        /// Override any value: `--set workload.users=1000` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Apply the scenario's `[variants.NAME]` first (its `set` list, under any `--set`).
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Output folder. Default: reports/<scenario name> (reports/<name>-<variant> with
        /// `--variant`). It must be new, empty or an earlier
        /// report (it is replaced as a whole); a symlink is followed. Checked before the run.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only errors.
        #[arg(long, short)]
        quiet: bool,
        /// Run twice and fail (exit 1) unless both runs produce identical event streams and results.
        #[arg(long)]
        check_determinism: bool,
        /// Write no charts (results.json, timeseries.csv, summary.md, trace.json and index.html
        /// only): for pipelines and benchmarks, where drawing the PNG and SVG charts would be most
        /// of the time of a short run.
        #[arg(long)]
        no_charts: bool,
        /// Also draw run.gif: latency and outcomes unfolding over simulated time, 1280×720, for
        /// slides (adds a few seconds: see docs/traces.md).
        #[arg(long)]
        gif: bool,
        /// The run's limits.
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Parse and check scenario files without running them.
    Validate {
        /// Scenario files (TOML, at most 8 MiB each) or `chapter:N`.
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Override values before checking.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Run scenarios and evaluate their SLOs: exit 0 all met, 1 any violated, 2 bad input, 3 (with
    /// --replications) none violated but some inconclusive.
    Check {
        /// Scenario files (TOML, at most 8 MiB each) or `chapter:N`.
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Master seed (overrides the files'): any whole number from 0 to 18446744073709551615.
        #[arg(long)]
        seed: Option<u64>,
        /// Override any value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Apply each scenario's `[variants.NAME]` first (its `set` list, under any `--set`).
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Also write JUnit XML here (one testcase per objective). A regular file is replaced
        /// atomically; a symlink is followed and its target replaced (the link stays); a device
        /// or pipe such as /dev/stdout is written directly; a folder is refused. Checked before
        /// anything runs.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Output format on stdout.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Compare against a stored results.json and fail on regressions beyond the tolerance.
        #[arg(long, value_name = "RESULTS_JSON")]
        baseline: Option<PathBuf>,
        /// Run each scenario R times (seeds derived from its seed) and judge every objective on
        /// the 95 % interval of its R values: pass when all of it meets the target, fail when
        /// all of it misses, inconclusive (exit 3 when nothing failed) when it straddles the
        /// target. Without it: one run, as before.
        #[arg(long, value_name = "R")]
        replications: Option<u32>,
        /// Parallel runs with --replications (0, the default: one per core).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Grade exercise files (with an `[exercise]` table) against this file as handed out —
        /// an exercise of your own — instead of the embedded exercise their name names.
        #[arg(long, value_name = "FILE")]
        handout: Option<String>,
        /// Allowed regressions against the baseline, e.g. `p99=10%,error_rate=0.1%`
        /// (defaults: p50 and p99 +10 %, error rate +0.1 percentage points, goodput −10 %).
        #[arg(long, value_name = "METRIC=TOL,...")]
        tolerance: Option<String>,
        /// The run's limits.
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Show a scenario's topology as text, Mermaid and Graphviz DOT, with hop latencies and capacities.
    Explain {
        /// Scenario file (TOML, at most 8 MiB) or `chapter:N`.
        scenario: String,
        /// Override values first.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Apply the scenario's `[variants.NAME]` first (its `set` list, under any `--set`).
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Print only this form.
        #[arg(long, value_enum)]
        only: Option<ExplainForm>,
    },
    /// Print the JSON Schema of scenario files (for editors: taplo / Even Better TOML).
    Schema,
    /// Print a commented starting scenario for a chapter, or hand out an exercise: a fixed
    /// workload, objectives and monthly budget on a deliberately weak topology, graded by
    /// `scalesim check` (docs/exercises.md).
    #[command(group(clap::ArgGroup::new("what").required(true).args(["chapter", "exercise"])))]
    New {
        /// The chapter.
        #[arg(long)]
        chapter: Option<u32>,
        /// The exercise to hand out (default: the first, shop-10k); `--exercise list` lists them.
        #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "")]
        exercise: Option<String>,
        /// Write to this file instead of stdout; an existing file is never replaced.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Run a scenario over a grid of values × replications: every figure as a mean with its 95 %
    /// interval (sweep.json, sweep.csv, charts, summary.md).
    Sweep {
        /// Scenario file (TOML, at most 8 MiB) or `chapter:N`.
        scenario: String,
        /// A parameter and its values, set as `--set` would: `workload.users=100,200,400`,
        /// `workload.users=10..100000:log5` (5 log-spaced values) or `a..b:linN` (N evenly
        /// spaced). Repeatable: the grid is every combination.
        #[arg(long = "param", value_name = "KEY=V1,V2,...")]
        param: Vec<String>,
        /// Runs per point, each with its own seed (at least 2 for an interval).
        #[arg(long, value_name = "R", default_value_t = 5)]
        replications: u32,
        /// Base seed the runs' seeds derive from (overrides the file's).
        #[arg(long)]
        seed: Option<u64>,
        /// Override any value at every point (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Apply the scenario's `[variants.NAME]` first.
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Parallel runs: 0 (the default) means one per core; results do not depend on it.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Run only slice K of N (K from 0) and write a shard file for `scalesim merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Output folder (default reports/<name>-sweep); with --shard, the shard file (default
        /// reports/<name>-sweep-shards/shard-K-of-N.json).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only errors (no progress bar).
        #[arg(long, short)]
        quiet: bool,
        /// Each run's limits.
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Find the cheapest configuration that meets every objective at a load: categorical values
    /// enumerated, a capacity (fleet size, workers, vCPUs…) bisected; prints the frontier of
    /// cost against p99 and writes plan.json, plan.md and a chart. Exit 0 found, 1 nothing in
    /// the space meets the objectives, 2 bad input.
    Plan {
        /// Scenario file (TOML, at most 8 MiB) or `chapter:N`.
        scenario: String,
        /// The load to plan for (sets workload.users). Default: the scenario's.
        #[arg(long, value_name = "N")]
        users: Option<u32>,
        /// An objective in the scenario's compact syntax, e.g. `p(99) < 300ms`, `error_rate <
        /// 0.1%`, `buy: p(95) < 800ms` (repeatable). Default: the scenario's own [slo].
        #[arg(long = "slo", value_name = "OBJECTIVE")]
        slo: Vec<String>,
        /// A key and its values, as `sweep --param` takes them, plus `KEY=A..B` for every whole
        /// number from A to B: `components.web.instance=c5.large,c5.xlarge`,
        /// `components.web.min=1..20`. A capacity key (components.X.min, max, desired, workers,
        /// replicas, vcpus, nodes, instances, concurrency, max_connections, capacity) is
        /// bisected; the others are enumerated. Repeatable.
        #[arg(long = "vary", value_name = "KEY=VALUES", required = true)]
        vary: Vec<String>,
        /// Runs per configuration tried, each objective judged on their 95 % interval's bad side.
        #[arg(long, value_name = "R", default_value_t = 3)]
        replications: u32,
        /// Base seed the replications' seeds derive from (overrides the file's).
        #[arg(long)]
        seed: Option<u64>,
        /// Override any value in every configuration (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Apply the scenario's `[variants.NAME]` first.
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Run every configuration of the grid instead of pruning (to check the pruned answer).
        #[arg(long)]
        exhaustive: bool,
        /// Parallel runs: 0 (the default) means one per core; results do not depend on it.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Output folder (default reports/<name>-plan).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only errors (no progress bar, no table).
        #[arg(long, short)]
        quiet: bool,
        /// Each run's limits.
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Merge the shard files of a sweep into exactly the report the unsharded sweep writes.
    Merge {
        /// Shard files (`scalesim sweep --shard K/N`), every slice once, in any order.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Output folder (default reports/<name>-sweep).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Compare two reports' headline figures (two results.json, or two sweep.json), flagging
    /// changes beyond the noise when both have intervals.
    Diff {
        /// The base: results.json of `scalesim run` or sweep.json of `scalesim sweep`.
        base: PathBuf,
        /// The new one, of the same kind.
        new: PathBuf,
        /// Output: a Markdown table (for a pull request comment) or aligned text.
        #[arg(long, value_enum, default_value_t = DiffFormat::Markdown)]
        format: DiffFormat,
    },
    /// The same workload against several architectures: overlaid latency over time, outcome
    /// shares, a table of the headline figures with the best of each, and a verdict in words
    /// (compare.json, compare.md, charts). Exit 0 compared, 2 bad input. Objectives violated are
    /// figures of the comparison, not a failure (`scalesim check` gates on them).
    Compare {
        /// Scenario files (TOML, at most 8 MiB each) or `chapter:N`, at least two; or one with
        /// --variant values.
        #[arg(required = true, value_name = "SCENARIO")]
        scenarios: Vec<String>,
        /// With one scenario: each of its `[variants.NAME]` is one architecture (repeatable; a
        /// single --variant is compared with the file as written).
        #[arg(long, value_name = "NAME")]
        variant: Vec<String>,
        /// Users for every architecture (sets workload.users).
        #[arg(long, value_name = "N")]
        users: Option<u32>,
        /// Keep each file's own workload, run length and seed instead of the first's (the
        /// verdict then says the workloads differ).
        #[arg(long)]
        own_workloads: bool,
        /// Master seed for every run (overrides the files'): a whole number from 0 to
        /// 18446744073709551615.
        #[arg(long)]
        seed: Option<u64>,
        /// Override any value in every architecture, after the shared workload (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Parallel runs: 0 (the default) means one per core; results do not depend on it.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Output folder (default reports/compare-<A>-vs-<B>): new, empty or an earlier report
        /// (replaced as a whole); a symlink is followed. Checked before the runs.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print only errors (no table, no progress bar).
        #[arg(long, short)]
        quiet: bool,
        /// Each run's limits.
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Every embedded chapter's architecture under one steady workload at 10, 100, 1k, 10k and
    /// 100k users, measured after its transient (MSER-5); charts and each architecture's
    /// breaking point.
    Journey {
        /// Output folder: new, empty or an earlier journey (replaced as a whole); a symlink is
        /// followed. Checked before the runs.
        #[arg(long, default_value = "reports/journey")]
        out: PathBuf,
        /// User levels to replay, comma-separated (default 10,100,1000,10000,100000; with
        /// --quick 10,100,1000,10000).
        #[arg(long, value_delimiter = ',')]
        users: Option<Vec<u32>>,
        /// Chapters to replay, comma-separated (default: all fourteen), e.g. --chapters 4,5.
        #[arg(long, value_delimiter = ',', value_name = "N,N")]
        chapters: Option<Vec<u32>>,
        /// Shorter runs (4 simulated minutes instead of 8) and, unless --users says otherwise,
        /// no 100,000-user level: a look in seconds rather than a minute or two.
        #[arg(long)]
        quick: bool,
        /// Parallel runs: 0 (the default) means one per core; at most 4 per core (a larger
        /// number is capped, with a note on stderr). Results do not depend on it.
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Print only errors (off a terminal there is no progress bar either way).
        #[arg(long, short)]
        quiet: bool,
        /// The run's limits.
        #[command(flatten)]
        limits: LimitArgs,
    },
}

/// How much one run may use (`run`, `check` and `journey`).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LimitArgs {
    /// Refuse or stop a run past this many events (5000000, 5M, 2e9). A run is estimated before
    /// it starts and watched while it runs; the default is about ten minutes of CPU.
    #[arg(long, value_name = "N", value_parser = crate::budget::parse_events, default_value = "3G")]
    pub max_events: u64,
    /// Refuse or stop a run that would hold more than this (512MiB, 4GiB, 16GB) in requests,
    /// events, users, components and time series. A stopped run keeps its partial report.
    #[arg(long, value_name = "SIZE", value_parser = crate::budget::parse_memory, default_value = "4GiB")]
    pub max_memory: u64,
}

impl LimitArgs {
    /// As limits.
    pub fn limits(self) -> crate::budget::Limits {
        crate::budget::Limits {
            max_events: self.max_events,
            max_memory: self.max_memory,
        }
    }
}

/// The forms `explain` can print alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainForm {
    /// Indented text.
    Text,
    /// A Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A Markdown table.
    Markdown,
    /// Aligned text.
    Text,
}

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for humans.
    Text,
    /// A JSON document.
    Json,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    // The first Ctrl-C stops the runs at their next look and lets them write what they measured
    // (marked partial); a second one ends the process at once, leaving no report behind (reports
    // are staged, and a staging folder of a dead process is removed by the next run).
    let _ = ctrlc::set_handler(|| {
        if crate::budget::interrupted() {
            std::process::exit(130);
        }
        crate::budget::interrupt();
    });
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    ExitCode::from(dispatch(cli))
}

/// Runs a parsed command; returns the exit code.
pub fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Run {
            scenario,
            seed,
            set,
            variant,
            out,
            quiet,
            check_determinism,
            no_charts,
            gif,
            limits,
        } => cmd_run(
            &scenario,
            RunFlags {
                seed,
                set: &set,
                variant: variant.as_deref(),
                out,
                quiet,
                check: check_determinism,
                charts: !no_charts,
                gif,
                limits: limits.limits(),
            },
        ),
        Command::Validate { scenarios, set } => cmd_validate(&scenarios, &set),
        Command::Check {
            scenarios,
            seed,
            set,
            variant,
            junit,
            format,
            baseline,
            handout,
            tolerance,
            replications,
            jobs,
            limits,
        } => cmd_check(
            &scenarios,
            seed,
            &set,
            variant.as_deref(),
            junit.as_deref(),
            format,
            (baseline.as_deref(), handout.as_deref()),
            tolerance.as_deref(),
            (replications, jobs),
            limits.limits(),
        ),
        Command::New {
            chapter,
            exercise,
            out,
        } => cmd_new(chapter, exercise.as_deref(), out.as_deref()),
        Command::Schema => {
            let doc = crate::scenario::schema::scenario_schema();
            outln!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("a schema serializes")
            );
            EXIT_OK
        }
        Command::Explain {
            scenario,
            set,
            variant,
            only,
        } => {
            let Some(scn) = load_variant_with(&scenario, variant.as_deref(), None, &set) else {
                return EXIT_BAD_INPUT;
            };
            let t = crate::explain::topology(&scn);
            match only {
                None => out!("{}", crate::explain::explain(&scn)),
                Some(ExplainForm::Text) => out!("{}", crate::explain::text(&t, &scn)),
                Some(ExplainForm::Mermaid) => out!("{}", crate::explain::mermaid(&t)),
                Some(ExplainForm::Dot) => out!("{}", crate::explain::dot(&t)),
            }
            EXIT_OK
        }
        Command::Journey {
            out,
            users,
            chapters,
            quick,
            jobs,
            quiet,
            limits,
        } => cmd_journey(&out, users, chapters, quick, jobs, quiet, limits.limits()),
        Command::Sweep {
            scenario,
            param,
            replications,
            seed,
            set,
            variant,
            jobs,
            shard,
            out,
            quiet,
            limits,
        } => crate::cli::sweep::cmd_sweep(crate::cli::sweep::SweepArgs {
            scenario: &scenario,
            params: &param,
            replications,
            seed,
            set: &set,
            variant: variant.as_deref(),
            jobs,
            shard: shard.as_deref(),
            out,
            quiet,
            limits: limits.limits(),
        }),
        Command::Plan {
            scenario,
            users,
            slo,
            vary,
            replications,
            seed,
            set,
            variant,
            exhaustive,
            jobs,
            out,
            quiet,
            limits,
        } => crate::cli::plan::cmd_plan(crate::cli::plan::PlanArgs {
            scenario: &scenario,
            users,
            slos: &slo,
            vary: &vary,
            replications,
            seed,
            set: &set,
            variant: variant.as_deref(),
            exhaustive,
            jobs,
            out,
            quiet,
            limits: limits.limits(),
        }),
        Command::Compare {
            scenarios,
            variant,
            users,
            own_workloads,
            seed,
            set,
            jobs,
            out,
            quiet,
            limits,
        } => crate::cli::compare::cmd_compare(crate::cli::compare::CompareArgs {
            inputs: &scenarios,
            variants: &variant,
            users,
            own_workloads,
            seed,
            set: &set,
            jobs,
            out,
            quiet,
            limits: limits.limits(),
        }),
        Command::Merge { shards, out, quiet } => crate::cli::sweep::cmd_merge(&shards, out, quiet),
        Command::Diff { base, new, format } => cmd_diff(&base, &new, format),
    }
}

fn parse_sets(set: &[String]) -> Result<Vec<Override>, String> {
    set.iter()
        .map(|s| {
            Override::parse(s).map_err(|e| {
                let s = crate::scenario::error::clip(s, 200);
                format!("error: --set {s}: {e}")
            })
        })
        .collect()
}

/// Loads a scenario with `--seed` and `--set` applied, printing errors. `None` on bad input.
pub fn load_with(path: &str, seed: Option<u64>, set: &[String]) -> Option<Scenario> {
    load_variant_with(path, None, seed, set)
}

/// [`load_with`] with the scenario's variant `variant` applied first, if given.
pub fn load_variant_with(
    path: &str,
    variant: Option<&str>,
    seed: Option<u64>,
    set: &[String],
) -> Option<Scenario> {
    let mut overrides = match parse_sets(set) {
        Ok(o) => o,
        Err(e) => {
            errln!("{e}");
            return None;
        }
    };
    // The seed is a u64, but a TOML integer is an i64: the file's seed is replaced by a stand-in
    // (so a bad seed in the file doesn't matter), and the real one is set after loading. The
    // override keeps the real value in its text, so the header and results.json show it.
    if let Some(s) = seed {
        overrides.push(Override {
            raw: format!("scenario.seed={s}"),
            path: vec![
                scenario::error::Seg::Key("scenario".into()),
                scenario::error::Seg::Key("seed".into()),
            ],
            value: toml_edit::Value::from(i64::try_from(s).unwrap_or(0)),
        });
    }
    match scenario::load_variant(path, variant, &overrides) {
        Ok(mut scn) => {
            for n in &scn.notes {
                errln!("note: {n}");
            }
            if let Some(s) = seed {
                scn.seed = s;
                scn.file.scenario.seed = Some(s);
            }
            Some(scn)
        }
        Err(e) => {
            errln!("{e}");
            None
        }
    }
}

/// The run header: seed and every resolved parameter, so one command reproduces any figure.
pub fn header(scn: &Scenario) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "scalesim {} — {} ({})",
        env!("CARGO_PKG_VERSION"),
        scn.title(),
        if scn.title().starts_with(&scn.name) {
            scn.source.clone()
        } else {
            format!("{}, {}", scn.name, scn.source)
        }
    );
    let _ = writeln!(
        s,
        "  seed {}  duration {}  warm-up {}  window {}",
        scn.seed,
        human(scn.duration),
        human(scn.warmup),
        human(scn.window)
    );
    if let Some(v) = &scn.variant {
        let what = scn
            .file
            .variants
            .get(v)
            .and_then(|c| c.description.as_deref())
            .unwrap_or("");
        let _ = writeln!(
            s,
            "  variant {v}{}{what}",
            if what.is_empty() { "" } else { ": " }
        );
    }
    for o in &scn.overrides {
        let _ = writeln!(s, "  --set {o}");
    }
    let c = &scn.client;
    if c.users > 0 {
        let _ = writeln!(
            s,
            "  users {} (closed loop), think {}",
            crate::scenario::error::thousands(u64::from(c.users)),
            c.think.describe()
        );
    }
    for st in &c.streams {
        let _ = writeln!(
            s,
            "  open arrivals {:.3}/s{}",
            st.rate,
            if st.follows_curve { "" } else { " (bot)" }
        );
    }
    if let (Some(t), Some(tc)) = (&c.trace, &scn.file.workload.trace) {
        let _ = writeln!(
            s,
            "  trace {}: {} rows from {} at {}× ({} clients{})",
            t.file,
            t.rows.len(),
            human(tc.start()),
            tc.speed(),
            t.clients,
            if t.ignored > 0 {
                format!("; {} past the end left out", t.ignored)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(
        s,
        "  timeout {}  retries {}",
        c.timeout.map_or("none".to_string(), human),
        c.retry.map_or("none".to_string(), |r| format!(
            "{} (base {}, cap {}{})",
            r.0,
            human(r.2),
            human(r.3),
            c.retry_budget.map_or(String::new(), |b| format!(
                ", budget {}% of first attempts",
                f64::from(b) / 1e4
            ))
        ))
    );
    if let Some(rf) = c.refresh {
        let _ = writeln!(
            s,
            "  impatient users {} %: reload a page after {}, up to {}×",
            f64::from(rf.per_million) / 1e4,
            human(rf.patience),
            rf.max
        );
    }
    for (name, kind, d) in scn.descriptions() {
        let _ = writeln!(s, "  {name}: {} — {}", kind.words(), d.detail);
    }
    for f in &scn.faults {
        let _ = writeln!(
            s,
            "  fault at {}: {}",
            crate::engine::time::clock(f.at),
            f.describe()
        );
    }
    s
}

/// Estimates a run and refuses it, printing why, when it would go past `limits`. The guard to run
/// it with otherwise.
pub fn admit(scn: &Scenario, limits: Limits) -> Option<(Guard, Estimate)> {
    let est = crate::budget::estimate(scn);
    if let Some(why) = limits.refuse(&est) {
        errln!("error: {}: {why}", scn.source);
        return None;
    }
    Some((Guard::new(limits, Some(&est)), est))
}

/// Runs with a progress bar on a terminal when the run takes more than a second. `None` (already
/// printed) when the guard stopped it before its warm-up ended.
pub fn run_with_progress(scn: &Scenario, quiet: bool, guard: &Guard) -> Option<RunOutput> {
    let start = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let tty = std::io::stderr().is_terminal() && !quiet;
    let total = scn.duration;
    let out = run::run_limited(scn, guard, &mut |t| {
        if !tty {
            return;
        }
        if bar.is_none() && start.elapsed().as_secs_f64() > 1.0 {
            let b = indicatif::ProgressBar::new(total / 1_000_000_000);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "  {bar:40} {pos}/{len} simulated s  ({eta} left)",
                )
                .expect("static template"),
            );
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.set_position(t / 1_000_000_000);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out.map_err(|run::StoppedInWarmup(s)| {
        errln!(
            "error: {}: the run stopped at {}, during its warm-up, with nothing measured: {}\n  help: {}",
            scn.source,
            crate::engine::time::clock(s.at),
            s.reason,
            stopped_in_warmup_help(&s.reason)
        );
    })
    .ok()
}

/// What to do about a run a limit stopped.
const STOPPED_HELP: &str = "the estimate made before the run was too low for this scenario; make it smaller (users, arrival rate, backlogs, duration) or raise the limit named above";

/// What to say about a run the user stopped.
const INTERRUPTED_HELP: &str =
    "the report covers the run up to there; run it again to the end for the whole story";

/// What to say about a run the user stopped before it measured anything.
const INTERRUPTED_IN_WARMUP_HELP: &str =
    "nothing was measured before the warm-up's end, so no report was written";

/// The help for a stopped run: the interrupt's or the limits'.
fn stopped_help(reason: &str) -> &'static str {
    if reason == crate::budget::INTERRUPTED_WHY {
        INTERRUPTED_HELP
    } else {
        STOPPED_HELP
    }
}

/// The help for a run stopped during its warm-up.
fn stopped_in_warmup_help(reason: &str) -> &'static str {
    if reason == crate::budget::INTERRUPTED_WHY {
        INTERRUPTED_IN_WARMUP_HELP
    } else {
        STOPPED_HELP
    }
}

/// Prints why a run stopped early, if it did.
fn say_stopped(scn: &Scenario, out: &RunOutput, wrote: Option<&std::path::Path>) {
    if let Some(s) = &out.stopped {
        errln!(
            "error: {}: the run stopped at {} of {}: {}{}\n  help: {}",
            scn.source,
            crate::engine::time::clock(s.at),
            crate::engine::time::clock(scn.duration),
            s.reason,
            wrote.map_or(String::new(), |d| format!(
                "; the partial report is in {}",
                d.display()
            )),
            stopped_help(&s.reason)
        );
    }
}

/// The flags of `run`.
struct RunFlags<'a> {
    seed: Option<u64>,
    set: &'a [String],
    variant: Option<&'a str>,
    out: Option<PathBuf>,
    quiet: bool,
    /// `--check-determinism`.
    check: bool,
    /// Not `--no-charts`.
    charts: bool,
    /// `--gif`.
    gif: bool,
    limits: Limits,
}

fn cmd_run(path: &str, flags: RunFlags) -> u8 {
    let RunFlags {
        seed,
        set,
        variant,
        out,
        quiet,
        check,
        charts,
        gif,
        limits,
    } = flags;
    let what = report::Outputs { charts };
    let Some(mut scn) = load_variant_with(path, variant, seed, set) else {
        return EXIT_BAD_INPUT;
    };
    // Sampled request spans for waterfalls.png and trace.json (docs/traces.md).
    scn.trace_requests = Some(crate::model::span::SAMPLE_EVERY);
    scn.gif = gif;
    let folder = match &scn.variant {
        Some(v) => format!("{}-{v}", scn.name),
        None => scn.name.clone(),
    };
    let dir = out.unwrap_or_else(|| PathBuf::from("reports").join(folder));
    if let Err(e) = report::Staging::preflight(&dir) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let Some((guard, est)) = admit(&scn, limits) else {
        return EXIT_BAD_INPUT;
    };
    if !quiet {
        out!("{}", header(&scn));
        outln!("  estimate: {}", est.brief());
    }
    let wall = Instant::now();
    let Some(result) = run_with_progress(&scn, quiet, &guard) else {
        return EXIT_BAD_INPUT;
    };
    let secs = wall.elapsed().as_secs_f64();
    if result.stopped.is_some() {
        return match report::write_run_with(&dir, &scn, &result, what) {
            Ok(_) => {
                say_stopped(&scn, &result, Some(&dir));
                EXIT_BAD_INPUT
            }
            Err(e) => {
                say_stopped(&scn, &result, None);
                errln!("error: {e}");
                EXIT_BAD_INPUT
            }
        };
    }
    if check {
        let again = run::run_limited(&scn, &guard, &mut |_| {})
            .expect("the same run stops at the same event");
        let a = report::results::results_json(&scn, &result).to_string();
        let b = report::results::results_json(&scn, &again).to_string();
        if again.hash != result.hash || a != b {
            errln!(
                "error: determinism check FAILED: event hash {:016x} vs {:016x}; results {}",
                result.hash,
                again.hash,
                if a == b { "equal" } else { "differ" }
            );
            return EXIT_FAILED;
        }
        if !quiet {
            outln!(
                "  determinism check passed: two runs, event hash {:016x}, identical results",
                result.hash
            );
        }
    }
    let files = match report::write_run_with(&dir, &scn, &result, what) {
        Ok(f) => f,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if !quiet {
        let f = report::results::figures(&result);
        let q = |p: f64| {
            if f.latency.is_empty() {
                "—".into()
            } else {
                human(f.latency.value_at_quantile(p))
            }
        };
        outln!(
            "  {} events in {:.2}s wall ({:.1} M events/s), event hash {:016x}",
            crate::scenario::error::thousands(result.events),
            secs,
            result.events as f64 / secs.max(1e-9) / 1e6,
            result.hash
        );
        outln!(
            "  {} requests, {:.2} % failed, p50 {}, p99 {}, cost ${:.4}",
            crate::scenario::error::thousands(f.total),
            f.error_rate * 100.0,
            q(0.5),
            q(0.99),
            f.cost
        );
        if let Some(c) = report::forensics::analyze(&scn, &result).first {
            outln!(
                "  first to fail: {}'s {} at {}",
                c.component,
                c.resource,
                crate::engine::time::clock(c.at)
            );
        }
        outln!("  wrote {} files to {}", files.len(), dir.display());
    }
    EXIT_OK
}

fn cmd_validate(paths: &[String], set: &[String]) -> u8 {
    let mut code = EXIT_OK;
    for p in paths {
        match load_with(p, None, set) {
            Some(s) if s.file.variants.is_empty() => outln!("ok: {p} ({})", s.name),
            Some(s) => outln!(
                "ok: {p} ({}; variants: {})",
                s.name,
                s.file
                    .variants
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => code = EXIT_BAD_INPUT,
        }
    }
    code
}

fn cmd_journey(
    out: &std::path::Path,
    users: Option<Vec<u32>>,
    chapters: Option<Vec<u32>>,
    quick: bool,
    jobs: Option<usize>,
    quiet: bool,
    limits: Limits,
) -> u8 {
    let users = users.unwrap_or_else(|| {
        if quick {
            crate::journey::QUICK_LEVELS.to_vec()
        } else {
            crate::journey::DEFAULT_LEVELS.to_vec()
        }
    });
    if users.is_empty() || users.contains(&0) {
        errln!("error: --users needs positive user counts, e.g. --users 10,100,1000");
        return EXIT_BAD_INPUT;
    }
    let known: Vec<u32> = crate::scenario::embedded::CHAPTERS
        .iter()
        .map(|c| c.number)
        .collect();
    let chapters = chapters.unwrap_or_else(|| known.clone());
    if let Some(bad) = chapters.iter().find(|c| !known.contains(c)) {
        errln!(
            "error: --chapters: there is no chapter {bad}; the chapters are {}",
            known
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return EXIT_BAD_INPUT;
    }
    if chapters.is_empty() {
        errln!("error: --chapters needs at least one chapter number, e.g. --chapters 4,5");
        return EXIT_BAD_INPUT;
    }
    if let Err(e) = report::Staging::preflight(out) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let (threads, note) = crate::journey::worker_threads(jobs);
    if let Some(n) = note {
        errln!("{n}");
    }
    let wall = Instant::now();
    let opts = crate::journey::Options {
        levels: users.clone(),
        chapters,
        plan: if quick {
            crate::journey::QUICK_PLAN
        } else {
            crate::journey::DEFAULT_PLAN
        },
        jobs: Some(threads),
        progress: !quiet && std::io::stderr().is_terminal(),
        limits,
    };
    match crate::journey::run_journey(out, &opts) {
        Ok((files, points)) => {
            if !quiet {
                outln!("{}", crate::journey::breaking_table(&points));
                outln!(
                    "journey: {} runs in {:.1}s; wrote {} files to {}",
                    crate::scenario::embedded::CHAPTERS.len() * users.len(),
                    wall.elapsed().as_secs_f64(),
                    files.len(),
                    out.display()
                );
            }
            EXIT_OK
        }
        Err(e) => {
            errln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn cmd_diff(base: &std::path::Path, new: &std::path::Path, format: DiffFormat) -> u8 {
    let read = |p: &std::path::Path| -> Result<serde_json::Value, String> {
        let text =
            std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: not JSON: {e}", p.display(), e.line(), e.column()))
    };
    let docs = read(base).and_then(|b| Ok((b, read(new)?)));
    let (b, n) = match docs {
        Ok(d) => d,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    match crate::diff::compare(&b, &n) {
        Ok((rows, notes)) => {
            let (bn, nn) = (base.display().to_string(), new.display().to_string());
            match format {
                DiffFormat::Markdown => out!("{}", crate::diff::markdown(&bn, &nn, &rows, &notes)),
                DiffFormat::Text => out!("{}", crate::diff::text(&bn, &nn, &rows, &notes)),
            }
            EXIT_OK
        }
        Err(e) => {
            errln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

fn cmd_new(chapter: Option<u32>, exercise: Option<&str>, out: Option<&std::path::Path>) -> u8 {
    use crate::scenario::embedded::{CHAPTERS, EXERCISES};
    let text = match (chapter, exercise) {
        (_, Some("list")) => {
            outln!("exercises (scalesim new --exercise NAME --out FILE; grade with scalesim check FILE):");
            for e in EXERCISES {
                outln!("  {:<12} {}", e.name, e.summary());
            }
            return EXIT_OK;
        }
        (_, Some(name)) => {
            let name = if name.is_empty() {
                EXERCISES[0].name
            } else {
                name
            };
            match crate::scenario::embedded::exercise(name) {
                Some(e) => e.text,
                None => {
                    let help = match crate::scenario::error::nearest(
                        name,
                        EXERCISES.iter().map(|e| e.name),
                    ) {
                        Some(n) => format!("did you mean {n}? "),
                        None => String::new(),
                    };
                    errln!(
                        "error: there is no exercise \"{name}\"\n  help: {help}the exercises: {} (scalesim new --exercise list)",
                        crate::exercise::names().join(", ")
                    );
                    return EXIT_BAD_INPUT;
                }
            }
        }
        (Some(n), None) => match crate::scenario::embedded::chapter(n) {
            Some(c) => c.text,
            None => {
                let list: Vec<String> = CHAPTERS.iter().map(|c| c.number.to_string()).collect();
                errln!(
                    "error: there is no chapter {n} scenario yet; chapters: {}",
                    list.join(", ")
                );
                return EXIT_BAD_INPUT;
            }
        },
        (None, None) => {
            errln!("error: new needs --chapter N or --exercise [NAME]");
            return EXIT_BAD_INPUT;
        }
    };
    let Some(path) = out else {
        out!("{text}");
        return EXIT_OK;
    };
    // Never over a student's work: the file must not exist yet.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => match f.write_all(text.as_bytes()) {
            Ok(()) => {
                outln!("wrote {}", path.display());
                EXIT_OK
            }
            Err(e) => {
                errln!("error: --out {}: cannot write: {e}", path.display());
                EXIT_BAD_INPUT
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            errln!(
                "error: --out {}: the file exists, and new never replaces one\n  help: remove it first, or choose another name",
                path.display()
            );
            EXIT_BAD_INPUT
        }
        Err(e) => {
            errln!("error: --out {}: cannot create: {e}", path.display());
            EXIT_BAD_INPUT
        }
    }
}

/// Writes a single output file: atomically (a temporary sibling, then a rename) for a regular
/// file, through a symlink to its target, directly to a device or pipe such as `/dev/stdout`;
/// a folder is refused. See [`crate::report::output`].
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    report::output::write_file(path, bytes)
}

#[allow(clippy::too_many_arguments)] // one per flag of `check`
fn cmd_check(
    paths: &[String],
    seed: Option<u64>,
    set: &[String],
    variant: Option<&str>,
    junit: Option<&std::path::Path>,
    format: Format,
    (baseline, handout): (Option<&std::path::Path>, Option<&str>),
    tolerance: Option<&str>,
    (replications, jobs): (Option<u32>, Option<usize>),
    limits: Limits,
) -> u8 {
    use crate::report::check;
    if replications.is_some_and(|r| r < 2) {
        errln!("error: --replications needs at least 2 runs for an interval (omit it for one run)");
        return EXIT_BAD_INPUT;
    }
    let tol = match tolerance.map(check::Tolerances::parse).transpose() {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => {
            errln!("error: --tolerance: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let base = match baseline {
        None => None,
        Some(p) => {
            let text = match std::fs::read_to_string(p) {
                Ok(t) => t,
                Err(e) => {
                    errln!("error: --baseline {}: cannot read: {e}", p.display());
                    return EXIT_BAD_INPUT;
                }
            };
            let v: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    errln!(
                        "error: --baseline {}:{}:{}: not JSON: {e}",
                        p.display(),
                        e.line(),
                        e.column()
                    );
                    return EXIT_BAD_INPUT;
                }
            };
            match check::baseline_objectives(&v, &tol) {
                Ok(o) => Some(o),
                Err(e) => {
                    errln!("error: --baseline {}: {e}", p.display());
                    return EXIT_BAD_INPUT;
                }
            }
        }
    };
    if let Some(j) = junit {
        if let Err(e) = report::output::preflight(j) {
            errln!("error: --junit {}: {e}", j.display());
            return EXIT_BAD_INPUT;
        }
    }
    // An exercise's handout as given (the file as handed out, no --set or --seed on it).
    let handout_scn = match handout {
        None => None,
        Some(h) => match load_with(h, None, &[]) {
            Some(h) => Some(h),
            None => return EXIT_BAD_INPUT,
        },
    };
    let handout = match &handout_scn {
        Some(h) => crate::exercise::Handout::File(h),
        None => crate::exercise::Handout::Embedded,
    };
    let mut scenarios = Vec::new();
    let mut grades = Vec::new();
    for p in paths {
        let Some(mut scn) = load_variant_with(p, variant, seed, set) else {
            return EXIT_BAD_INPUT;
        };
        if let Some(b) = &base {
            scn.slos.extend(b.iter().map(|(o, _)| o.clone()));
        }
        match crate::exercise::prepare(&mut scn, &handout) {
            Ok(g) => grades.push(g),
            Err(e) => {
                errln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
        scenarios.push(scn);
    }
    // A file that changed what its exercise fixes is not run: its grade says what changed.
    let graded = |g: &Option<crate::exercise::Grade>| g.as_ref().is_none_or(|g| g.kept_rules());
    let refused = |scn: &Scenario, g: Option<crate::exercise::Grade>| check::ScenarioVerdicts {
        name: scn.name.clone(),
        source: scn.source.clone(),
        seed: scn.seed,
        verdicts: Vec::new(),
        measured_s: 0.0,
        replicated: None,
        exercise: g,
    };
    let mut guards = Vec::new();
    for (scn, g) in scenarios.iter().zip(&grades) {
        if !graded(g) {
            guards.push(None);
            continue;
        }
        let Some((g, _)) = admit(scn, limits) else {
            return EXIT_BAD_INPUT;
        };
        guards.push(Some(g));
    }
    let mut results = Vec::new();
    if let Some(r) = replications {
        for (scn, grade) in scenarios.into_iter().zip(grades) {
            if !graded(&grade) {
                results.push(refused(&scn, grade));
                continue;
            }
            let name = match &scn.variant {
                Some(v) => format!("{} (variant {v})", scn.name),
                None => scn.name.clone(),
            };
            let (source, seed) = (scn.source.clone(), scn.seed);
            let measured_s = as_secs_f64(scn.duration - scn.warmup);
            let objectives = scn.slos.clone();
            let plan = crate::sweep::single(scn, r);
            let opts = crate::sweep::Options {
                shard: None,
                jobs,
                progress: false,
                limits,
            };
            let runs = match crate::sweep::execute(&plan, &opts) {
                Ok(runs) => runs,
                Err(e) => {
                    errln!("{e}");
                    return EXIT_BAD_INPUT;
                }
            };
            let points: Vec<_> = objectives
                .iter()
                .enumerate()
                .map(|(j, o)| {
                    crate::sweep::report::objective_point(
                        o,
                        runs.iter().map(|run| run.slo.get(j).copied().flatten()),
                    )
                })
                .collect();
            results.push(check::ScenarioVerdicts {
                name,
                source,
                seed,
                verdicts: objectives
                    .iter()
                    .zip(&points)
                    .map(|(o, p)| check::replicated_verdict(o, p, r))
                    .collect(),
                measured_s,
                replicated: Some(check::Replicated {
                    runs: r,
                    objectives: points,
                }),
                exercise: grade,
            });
        }
        return check_report(&results, format, junit);
    }
    for ((scn, guard), mut grade) in scenarios.iter().zip(&guards).zip(grades) {
        let Some(guard) = guard else {
            results.push(refused(scn, grade));
            continue;
        };
        let Ok(out) =
            run::run_limited(scn, guard, &mut |_| {}).map_err(|run::StoppedInWarmup(s)| {
                errln!(
                    "error: {}: the run stopped at {}, during its warm-up: {}\n  help: {}",
                    scn.source,
                    crate::engine::time::clock(s.at),
                    s.reason,
                    stopped_in_warmup_help(&s.reason)
                );
            })
        else {
            return EXIT_BAD_INPUT;
        };
        if out.stopped.is_some() {
            say_stopped(scn, &out, None);
            return EXIT_BAD_INPUT;
        }
        let verdicts = crate::slo::evaluate(&scn.slos, &out);
        if let Some(g) = &mut grade {
            g.feedback = Some(crate::exercise::feedback(scn, &out));
        }
        results.push(check::ScenarioVerdicts {
            name: match &scn.variant {
                Some(v) => format!("{} (variant {v})", scn.name),
                None => scn.name.clone(),
            },
            source: scn.source.clone(),
            seed: scn.seed,
            verdicts,
            measured_s: as_secs_f64(out.measured),
            replicated: None,
            exercise: grade,
        });
    }
    check_report(&results, format, junit)
}

/// Exit code: inconclusive objectives (with `check --replications`) and nothing failed.
pub const EXIT_INCONCLUSIVE: u8 = 3;

/// Prints the verdicts, writes the JUnit file, and returns the exit code: 0 all met, 1 any
/// failed, 3 none failed but some inconclusive.
fn check_report(
    results: &[crate::report::check::ScenarioVerdicts],
    format: Format,
    junit: Option<&std::path::Path>,
) -> u8 {
    use crate::report::check;
    match format {
        Format::Text => out!("{}", check::text(results)),
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&check::json_doc(results)).expect("serializes")
        ),
        Format::Github => out!("{}", check::github(results)),
    }
    if let Some(j) = junit {
        if let Err(e) = write_atomic(j, check::junit(results).as_bytes()) {
            errln!("error: --junit {}: {e}", j.display());
            return EXIT_BAD_INPUT;
        }
    }
    if results.iter().all(|r| r.passed()) {
        EXIT_OK
    } else if results.iter().all(|r| r.passed() || r.inconclusive()) {
        EXIT_INCONCLUSIVE
    } else {
        EXIT_FAILED
    }
}
