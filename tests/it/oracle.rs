//! The refactoring oracle: every scenario in `scenarios/*.toml` and `scenarios/validation/*.toml`,
//! at seeds 1, 7 and 42, run through the real binary exactly as a user would
//! (`scalesim run scenarios/NAME.toml --seed S --quiet --out DIR`, from the package root), must
//! write `results.json` and `timeseries.csv` byte-identical to the SHA-256 sums stored in
//! `tests/oracle/SHA256SUMS` (sha256sum format, paths `NAME-SEED/FILE`).
//!
//! `SCALESIM_BLESS=1 cargo test --test it oracle` rewrites the sums instead; see
//! `tests/oracle/README.md` for when that is allowed. `tests/oracle/check.sh` is the same check
//! with the release binary and `sha256sum`.

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The seeds every scenario runs at.
const SEEDS: [u64; 3] = [1, 7, 42];
/// The files of a run whose bytes are pinned (charts and summary.md are derived from the same data).
const FILES: [&str; 2] = ["results.json", "timeseries.csv"];
/// The stored sums, relative to the package root.
const SUMS: &str = "tests/oracle/SHA256SUMS";
/// The folders scanned for scenarios, relative to the package root.
const DIRS: [&str; 2] = ["scenarios", "scenarios/validation"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One run of the oracle: a scenario file at a seed, and the folder name its files are listed under.
struct Job {
    /// Relative to the package root, as passed to the binary (it is echoed into results.json).
    scenario: String,
    seed: u64,
    /// `NAME-SEED`.
    key: String,
}

impl Job {
    fn command_line(&self) -> String {
        format!(
            "scalesim run {} --seed {} --quiet --out {}",
            self.scenario, self.seed, self.key
        )
    }
}

/// Every scenario × seed, sorted by file.
fn jobs() -> Vec<Job> {
    let mut files = Vec::new();
    for dir in DIRS {
        for entry in fs::read_dir(root().join(dir)).unwrap_or_else(|e| panic!("read {dir}: {e}")) {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if let Some(stem) = name.strip_suffix(".toml") {
                files.push((format!("{dir}/{name}"), stem.to_string()));
            }
        }
    }
    files.sort();
    let mut stems = BTreeSet::new();
    for (file, stem) in &files {
        assert!(
            stems.insert(stem.clone()),
            "two scenarios are named `{stem}` (one is {file}); the oracle keys runs by file stem"
        );
    }
    files
        .into_iter()
        .flat_map(|(scenario, stem)| {
            SEEDS.map(|seed| Job {
                scenario: scenario.clone(),
                seed,
                key: format!("{stem}-{seed}"),
            })
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Parses sha256sum output (`HASH  PATH`, or `HASH *PATH` for binary mode) into path → hash.
fn parse_sums(text: &str) -> BTreeMap<String, String> {
    let mut sums = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (hash, path) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("{SUMS}:{}: not `HASH  PATH`: {line:?}", i + 1));
        let path = path
            .strip_prefix(' ')
            .or_else(|| path.strip_prefix('*'))
            .unwrap_or(path);
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{SUMS}:{}: not a SHA-256 hex digest: {hash:?}",
            i + 1
        );
        let old = sums.insert(path.to_string(), hash.to_ascii_lowercase());
        assert!(old.is_none(), "{SUMS}:{}: {path} listed twice", i + 1);
    }
    sums
}

/// The sums in sha256sum format, sorted by path (what `sha256sum */results.json ...` prints).
fn render_sums(sums: &BTreeMap<String, String>) -> String {
    sums.iter().map(|(p, h)| format!("{h}  {p}\n")).collect()
}

/// Runs one job into `out/KEY`; the hashes of its pinned files, or why there are none.
fn run(job: &Job, out: &Path) -> Result<Vec<(String, String)>, String> {
    let dir = out.join(&job.key);
    let o = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .current_dir(root())
        .args([
            "run",
            &job.scenario,
            "--seed",
            &job.seed.to_string(),
            "--quiet",
        ])
        .arg("--out")
        .arg(&dir)
        .output()
        .map_err(|e| format!("cannot start the binary: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        let err: Vec<&str> = err.lines().take(6).collect();
        return Err(format!("exited with {}: {}", o.status, err.join(" | ")));
    }
    FILES
        .iter()
        .map(|f| {
            let bytes = fs::read(dir.join(f)).map_err(|e| format!("did not write {f}: {e}"))?;
            Ok((format!("{}/{f}", job.key), sha256_hex(&bytes)))
        })
        .collect()
}

/// Runs every job on a few threads (each run is a separate process): path → hash of every file
/// written, and key → why, for every run that failed.
fn run_all(jobs: &[Job], out: &Path) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let next = AtomicUsize::new(0);
    let sums = Mutex::new(BTreeMap::new());
    let failures = Mutex::new(BTreeMap::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match run(job, out) {
                        Ok(hashes) => sums.lock().unwrap().extend(hashes),
                        Err(why) => {
                            let line = format!(
                                "  {:<40} run failed: `{}` {why}",
                                job.key,
                                job.command_line()
                            );
                            failures.lock().unwrap().insert(job.key.clone(), line);
                        }
                    }
                }
            });
        }
    });
    (sums.into_inner().unwrap(), failures.into_inner().unwrap())
}

fn short(hash: &str) -> &str {
    &hash[..16]
}

#[test]
fn every_scenario_at_seeds_1_7_42_writes_the_stored_bytes() {
    let bless = std::env::var("SCALESIM_BLESS").is_ok_and(|v| v == "1");
    let jobs = jobs();
    assert!(!jobs.is_empty(), "no scenarios found under {DIRS:?}");
    // Never into reports/: a scratch folder under target/tmp, removed when everything matches.
    let out =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("oracle-{}", std::process::id()));
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).unwrap();

    let (now, failures) = run_all(&jobs, &out);
    let sums_path = root().join(SUMS);
    let stored = match fs::read_to_string(&sums_path) {
        Ok(text) => parse_sums(&text),
        Err(e) if bless => {
            eprintln!("oracle: {SUMS} unreadable ({e}); blessing writes it afresh");
            BTreeMap::new()
        }
        Err(e) => panic!("cannot read {SUMS}: {e}"),
    };
    let command_of = |path: &str| {
        let key = path.split('/').next().unwrap_or(path);
        jobs.iter()
            .find(|j| j.key == key)
            .map_or(String::new(), |j| format!("   ({})", j.command_line()))
    };

    let mut problems = Vec::new();
    for (path, want) in &stored {
        match now.get(path) {
            Some(got) if got == want => {}
            Some(got) => problems.push(format!(
                "  {path:<40} changed: stored {}…, now {}…{}",
                short(want),
                short(got),
                command_of(path)
            )),
            // A failed run is reported once, below, not once per file.
            None if failures.contains_key(path.split('/').next().unwrap_or(path)) => {}
            None => problems.push(format!(
                "  {path:<40} stored, but no scenario × seed produces it (scenario removed or renamed?)"
            )),
        }
    }
    for (path, got) in &now {
        if !stored.contains_key(path) {
            problems.push(format!(
                "  {path:<40} new: not in {SUMS} (now {}…){}",
                short(got),
                command_of(path)
            ));
        }
    }
    problems.sort();

    if bless {
        assert!(
            failures.is_empty(),
            "oracle: not blessing, some runs failed (outputs in {}):\n{}",
            out.display(),
            failures.into_values().collect::<Vec<_>>().join("\n")
        );
        // Atomically, so a test reading the file meanwhile never sees half of it.
        let tmp = sums_path.with_extension(format!("tmp-{}", std::process::id()));
        fs::write(&tmp, render_sums(&now)).unwrap();
        fs::rename(&tmp, &sums_path).unwrap();
        eprintln!(
            "oracle: blessed {SUMS}: {} files, {} entries changed{}{}",
            now.len(),
            problems.len(),
            if problems.is_empty() { "" } else { ":\n" },
            problems.join("\n")
        );
        let _ = fs::remove_dir_all(&out);
        return;
    }

    if failures.is_empty() && problems.is_empty() {
        let _ = fs::remove_dir_all(&out);
        return;
    }
    let mut msg = format!(
        "oracle: {} of {} stored files differ, {} of {} runs failed (outputs kept in {}):\n",
        problems.len(),
        stored.len(),
        failures.len(),
        jobs.len(),
        out.display()
    );
    for line in failures.values().chain(&problems) {
        msg.push_str(line);
        msg.push('\n');
    }
    msg.push_str(
        "If the change is deliberate, re-bless with `SCALESIM_BLESS=1 cargo test --test it oracle` \
         and give the reason in the commit message (tests/oracle/README.md).",
    );
    panic!("{msg}");
}

#[test]
fn sums_file_round_trips_through_the_parser() {
    let text = fs::read_to_string(root().join(SUMS)).unwrap();
    let sums = parse_sums(&text);
    assert!(!sums.is_empty(), "{SUMS} is empty");
    assert_eq!(
        render_sums(&sums),
        text,
        "{SUMS} is not in the sorted `HASH  PATH` form blessing writes"
    );
}
