//! An embedded chapter with `--set`-style overrides, run from code: prints the same run header
//! as `scalesim run` and the headline figures.
//!
//! ```text
//!   chapter:N (TOML embedded in the binary)
//!        │
//!        ├── + overrides "key.path=value" ...   scalesim::scenario::Override::parse
//!        ▼
//!   scenario::load ──► checked Scenario ──► run::run ──► RunOutput ──► report::results::figures
//!        │                   │                                             │
//!        ▼                   ▼                                             ▼
//!   located errors      cli::header (seed, every resolved parameter)   requests, errors, p50/p99, cost
//! ```
//!
//! With no arguments it runs chapter 1 (ten users on one t2.micro) with 1,000 users for 10 minutes
//! — the same as `scalesim run chapter:1 --set workload.users=1000 --set scenario.duration=10m`:
//! about three times what its one vCPU can serve. Give a chapter number and overrides to run
//! something else:
//!
//! ```text
//! cargo run --release --example custom_scenario
//! cargo run --release --example custom_scenario -- 3 workload.users=50
//! ```

use scalesim::report::results::figures;
use scalesim::scenario::{self, Override};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (chapter, sets) = match args.split_first() {
        Some((n, rest)) if n.parse::<u32>().is_ok() => (n.clone(), rest.to_vec()),
        Some(_) => ("1".to_string(), args.clone()),
        None => (
            "1".to_string(),
            vec![
                "workload.users=1000".to_string(),
                "scenario.duration=10m".to_string(),
            ],
        ),
    };
    let mut overrides = Vec::new();
    for raw in &sets {
        match Override::parse(raw) {
            Ok(o) => overrides.push(o),
            Err(e) => {
                eprintln!("error: --set {raw}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let scn = match scenario::load(&format!("chapter:{chapter}"), &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    print!("{}", scalesim::cli::header(&scn));

    let wall = std::time::Instant::now();
    let out = scalesim::run::run(&scn, &mut |_| {});
    let secs = wall.elapsed().as_secs_f64();
    let f = figures(&out);
    let ms = |q: f64| {
        if f.latency.is_empty() {
            "—".to_string()
        } else {
            format!("{:.0} ms", f.latency.value_at_quantile(q) as f64 / 1e6)
        }
    };
    println!(
        "  {} events in {secs:.2} s wall, event hash {:016x}",
        out.events, out.hash
    );
    println!(
        "  {} requests, {} ok, {:.2} % failed, p50 {}, p99 {}, goodput {:.1}/s, cost ${:.4}",
        f.total,
        f.ok,
        f.error_rate * 100.0,
        ms(0.5),
        ms(0.99),
        f.goodput,
        f.cost
    );
    ExitCode::SUCCESS
}
