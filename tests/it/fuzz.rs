//! A deterministic mutation fuzzer that CI runs: byte, token and line mutations of every shipped
//! scenario go through parse + validate (no input may panic), and a sample of the accepted ones is
//! simulated briefly (no panic, every request ends in exactly one outcome, the same seed twice
//! gives the same event stream; the checks are `scalesim::fuzzing`'s, which the cargo-fuzz targets
//! in `fuzz/` share). A failure prints the input's index and the mutated text, so it
//! replays: `SCALESIM_FUZZ_ONLY=<index> cargo test --test it fuzz:: -- --nocapture`.
//!
//! `SCALESIM_FUZZ_INPUTS` (default 20,000) and `SCALESIM_FUZZ_RUNS` (default 150) set the counts.

use scalesim::fuzzing::{self, Limits, SplitMix64 as Rng};
use scalesim::scenario;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Values at the edges of what the model assumes, and values of the wrong type.
const EDGES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "0.0",
    "-0.5",
    "1e-9",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "1.5",
    "\"\"",
    "\"0s\"",
    "\"1ns\"",
    "\"0ms\"",
    "\"30d\"",
    "\"1000000h\"",
    "\"-5s\"",
    "\"0B\"",
    "\"1TiB\"",
    "\"$0/h\"",
    "\"0/s\"",
    "\"1e9/s\"",
    "[]",
    "{}",
    "true",
    "\"x\"",
];

fn seeds() -> Vec<String> {
    let mut v: Vec<String> = scenario::embedded::CHAPTERS
        .iter()
        .map(|c| c.text.to_string())
        .collect();
    for f in ["mm1", "mmc", "mmcc", "mg1"] {
        let p = format!(
            "{}/scenarios/validation/{f}.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        v.push(std::fs::read_to_string(p).expect("validation scenario"));
    }
    v
}

/// One mutation of `text`.
fn mutate(text: &str, rng: &mut Rng) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        if lines.is_empty() {
            break;
        }
        let i = rng.below(lines.len());
        match rng.below(8) {
            // A value replaced by an edge value.
            0..=2 => {
                if let Some((k, _)) = lines[i].split_once('=') {
                    lines[i] = format!("{k}= {}", EDGES[rng.below(EDGES.len())]);
                }
            }
            // A number token nudged.
            3 => {
                let l = &lines[i];
                if let Some(pos) = l.find(|c: char| c.is_ascii_digit()) {
                    let mut s = l.clone();
                    s.insert_str(pos, ["9", "0", "-", "."][rng.below(4)]);
                    lines[i] = s;
                }
            }
            // A line dropped or duplicated, or two swapped.
            4 => {
                lines.remove(i);
            }
            5 => {
                let l = lines[i].clone();
                lines.insert(rng.below(lines.len() + 1), l);
            }
            6 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            // A byte flipped or a cut mid-line.
            _ => {
                let mut b = lines[i].clone().into_bytes();
                if !b.is_empty() {
                    let at = rng.below(b.len());
                    if rng.below(2) == 0 {
                        b[at] = b"=[]{}\"#.,x0 \t"[rng.below(13)];
                    } else {
                        b.truncate(at);
                    }
                }
                lines[i] = String::from_utf8_lossy(&b).into_owned();
            }
        }
    }
    lines.join("\n")
}

fn env_count(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_scenarios_never_panic_and_accepted_ones_run_clean() {
    let inputs = env_count("SCALESIM_FUZZ_INPUTS", 20_000);
    let runs_wanted = env_count("SCALESIM_FUZZ_RUNS", 150);
    let only = std::env::var("SCALESIM_FUZZ_ONLY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let seeds = seeds();
    let (mut accepted, mut runs) = (0, 0);
    for n in 0..inputs {
        if only.is_some_and(|o| o != n) {
            continue;
        }
        let mut rng = Rng(0x5ca1_ab1e ^ (n as u64).wrapping_mul(0x1000_0000_01b3));
        let base = &seeds[rng.below(seeds.len())];
        let text = mutate(base, &mut rng);
        let loaded = catch_unwind(|| scenario::parse("fuzz", &text, &[]));
        let Ok(result) = loaded else {
            panic!("input {n} panicked in parse/validate:\n{text}");
        };
        let Ok(scn) = result else { continue };
        accepted += 1;
        if runs >= runs_wanted || rng.below(8) != 0 {
            continue;
        }
        // Cut to a short run (seconds, a few thousand users): the chapters' huge-edge mutations
        // ask for crowds too big to simulate in CI.
        let Some(scn) = fuzzing::shorten(&scn, &Limits::SHORT) else {
            continue;
        };
        runs += 1;
        let checked = catch_unwind(AssertUnwindSafe(|| {
            let out = fuzzing::run_checked(&scn, Limits::SHORT.events)?;
            match out {
                Some(out) => fuzzing::deterministic(&scn, &out),
                None => Ok(()),
            }
        }));
        match checked {
            Err(_) => panic!("input {n} panicked in the run:\n{text}"),
            Ok(Err(e)) => panic!("input {n}: {e}:\n{text}"),
            Ok(Ok(())) => {}
        }
    }
    println!("{inputs} inputs, {accepted} accepted, {runs} simulated");
    if only.is_none() {
        assert!(
            accepted > inputs / 50,
            "mutations too destructive: {accepted} accepted"
        );
        assert!(runs > runs_wanted / 3, "too few simulations: {runs}");
    }
}
