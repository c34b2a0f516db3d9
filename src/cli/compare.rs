//! `scalesim compare`.

use super::{parse_sets, write_stderr, write_stdout, EXIT_BAD_INPUT, EXIT_OK};
use crate::budget::Limits;
use crate::compare::{self, Arch};
use crate::scenario::{self, Override, Scenario};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// The flags of `compare`.
pub struct CompareArgs<'a> {
    pub inputs: &'a [String],
    pub variants: &'a [String],
    pub users: Option<u32>,
    pub own_workloads: bool,
    pub seed: Option<u64>,
    pub set: &'a [String],
    pub jobs: Option<usize>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub limits: Limits,
}

/// Loads `input` (with `variant`) under `overrides`, then the seed; errors printed, prefixed by
/// `context` when given.
fn load(
    input: &str,
    variant: Option<&str>,
    overrides: &[Override],
    seed: Option<u64>,
    context: Option<&str>,
) -> Option<Scenario> {
    match scenario::load_variant(input, variant, overrides) {
        Ok(mut scn) => {
            if let Some(s) = seed {
                scn.seed = s;
                scn.file.scenario.seed = Some(s);
            }
            Some(scn)
        }
        Err(e) => {
            match context {
                Some(c) => errln!("error: {c}:\n{e}"),
                None => errln!("{e}"),
            }
            None
        }
    }
}

/// Which keys of two workloads differ ("users, retries, spikes"), `target` left out.
fn workload_changes(own: &Scenario, first: &Scenario) -> Vec<String> {
    let (Ok(a), Ok(b)) = (
        toml::Value::try_from(&own.file.workload),
        toml::Value::try_from(&first.file.workload),
    ) else {
        return Vec::new();
    };
    let (Some(a), Some(b)) = (a.as_table(), b.as_table()) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<String> = keys
        .into_iter()
        .filter(|k| *k != "target" && a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    for (what, x, y) in [
        ("duration", own.duration, first.duration),
        ("warm-up", own.warmup, first.warmup),
        ("window", own.window, first.window),
    ] {
        if x != y {
            out.push(what.to_string());
        }
    }
    if own.seed != first.seed {
        out.push("seed".into());
    }
    out
}

pub fn cmd_compare(a: CompareArgs) -> u8 {
    // Which architectures: several files, or one file and its variants.
    let pairs: Vec<(String, Option<String>)> = match (a.inputs.len(), a.variants.len()) {
        (0, _) => {
            errln!("error: compare needs at least two architectures: two scenario files or chapters (`scalesim compare chapter:3 chapter:4`), or one with --variant values");
            return EXIT_BAD_INPUT;
        }
        (1, 0) => {
            errln!(
                "error: compare needs at least two architectures, and got one ({})\n  help: add another scenario (`scalesim compare {} chapter:4`), or compare this one's variants with --variant NAME (one variant is compared with the file as written)",
                a.inputs[0],
                a.inputs[0]
            );
            return EXIT_BAD_INPUT;
        }
        (1, 1) => vec![
            (a.inputs[0].clone(), None),
            (a.inputs[0].clone(), Some(a.variants[0].clone())),
        ],
        (1, _) => a
            .variants
            .iter()
            .map(|v| (a.inputs[0].clone(), Some(v.clone())))
            .collect(),
        (_, 0) => a.inputs.iter().map(|i| (i.clone(), None)).collect(),
        (_, _) => {
            errln!("error: --variant compares one scenario's variants, but {} scenarios were given\n  help: give one scenario with several --variant values, or several scenarios without --variant", a.inputs.len());
            return EXIT_BAD_INPUT;
        }
    };
    let mut sets = match parse_sets(a.set) {
        Ok(o) => o,
        Err(e) => {
            errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(u) = a.users {
        if u == 0 {
            errln!("error: --users needs a positive number of users, e.g. --users 1000");
            return EXIT_BAD_INPUT;
        }
        sets.push(Override::parse(&format!("workload.users={u}")).expect("a valid override"));
    }
    // Each as written (with its variant and the --set values): errors found before any run.
    let mut own = Vec::new();
    for (input, variant) in &pairs {
        let Some(scn) = load(input, variant.as_deref(), &sets, a.seed, None) else {
            return EXIT_BAD_INPUT;
        };
        for n in &scn.notes {
            errln!("note: {n}");
        }
        own.push(scn);
    }
    let mut labels: Vec<String> = own.iter().map(compare::label_of).collect();
    compare::unique_labels(&mut labels);
    let shared = !a.own_workloads;
    let mut archs = Vec::new();
    let first = own[0].clone();
    for (i, ((input, variant), scn)) in pairs.iter().zip(own).enumerate() {
        let label = labels[i].clone();
        if i == 0 || !shared {
            let mut scn = scn;
            scn.keep_window_histograms = true;
            archs.push(Arch {
                label,
                input: input.clone(),
                scn,
                replaced: false,
            });
            continue;
        }
        let changes = workload_changes(&scn, &first);
        let mut overrides =
            match compare::shared_overrides(&first, scn.file.workload.target.as_deref()) {
                Ok(o) => o,
                Err(e) => {
                    errln!(
                        "error: {input}: the workload of {} cannot be given to it: {e}",
                        labels[0]
                    );
                    return EXIT_BAD_INPUT;
                }
            };
        overrides.extend(sets.iter().cloned());
        let context = format!(
            "{input} ({label}) cannot run the workload of {} (the comparison's shared workload; \
             --own-workloads keeps each file's own)",
            labels[0]
        );
        let Some(mut s) = load(
            input,
            variant.as_deref(),
            &overrides,
            Some(a.seed.unwrap_or(first.seed)),
            Some(&context),
        ) else {
            return EXIT_BAD_INPUT;
        };
        if let Err(e) = compare::check_routes(&s, &label, &labels[0]) {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
        // Judged by the same objectives (the classes are the same: the workload is).
        s.slos = first.slos.clone();
        s.keep_window_histograms = true;
        if !changes.is_empty() && !a.quiet {
            errln!(
                "note: {label} runs the workload of {} instead of its own ({} differ{}); --own-workloads keeps each file's own",
                labels[0],
                changes.join(", "),
                if changes.len() == 1 { "s" } else { "" }
            );
        }
        archs.push(Arch {
            label,
            input: input.clone(),
            scn: s,
            replaced: !changes.is_empty(),
        });
    }
    let dir = a.out.unwrap_or_else(|| {
        let names: Vec<String> = archs
            .iter()
            .map(|x| match &x.scn.variant {
                Some(v) => format!("{}-{v}", x.scn.name),
                None => x.scn.name.clone(),
            })
            .collect();
        let mut name = format!("compare-{}", names.join("-vs-"));
        if name.len() > 120 {
            name = format!("compare-{}-and-{}-more", names[0], names.len() - 1);
        }
        PathBuf::from("reports").join(name)
    });
    if let Err(e) = crate::report::Staging::preflight(&dir) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let (threads, note) = crate::journey::worker_threads(a.jobs);
    if let Some(n) = note {
        errln!("{n}");
    }
    if !a.quiet {
        outln!(
            "scalesim {} — compare {} architectures",
            env!("CARGO_PKG_VERSION"),
            archs.len()
        );
        for x in &archs {
            let est = crate::budget::estimate(&x.scn);
            outln!("  {} — {}; estimate: {}", x.label, x.input, est.brief());
        }
    }
    let wall = Instant::now();
    let opts = compare::Options {
        jobs: Some(threads),
        progress: !a.quiet && std::io::stderr().is_terminal(),
        limits: a.limits,
    };
    let ms = match compare::run_all(&archs, &opts) {
        Ok(m) => m,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let files = match compare::write_compare(&dir, &ms, shared, compare::slo_line(&archs[0].scn)) {
        Ok(f) => f,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if !a.quiet {
        let rows = compare::rows(&ms);
        let js = compare::judge(&ms, &rows, shared);
        outln!("  {}", compare::fairness(&ms, shared));
        outln!("");
        out!("{}", compare::text_table(&ms, &rows, shared));
        outln!("");
        let h = compare::headline(&ms, &rows, &js);
        if !h.is_empty() {
            outln!("  {}", h.replace("**", ""));
        }
        for j in &js {
            outln!("  - {}", j.text.replace("**", ""));
        }
        outln!(
            "  {} runs in {:.1}s; wrote {} files to {}",
            ms.len(),
            wall.elapsed().as_secs_f64(),
            files.len(),
            dir.display()
        );
    }
    EXIT_OK
}
