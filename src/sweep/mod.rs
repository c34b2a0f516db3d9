//! `scalesim sweep`: a grid of parameter values × replications, run across cores, every figure
//! reported as a mean with its 95 % Student-t interval; `--shard K/N` runs one slice of the grid
//! and writes a shard file, and `scalesim merge` puts shards back together into exactly the files
//! the unsharded sweep writes.
//!
//! ```text
//!   --param a=1,2 --param b=x,y  ──►  points (a=1,b=x) (a=1,b=y) (a=2,b=x) (a=2,b=y)
//!   --replications 3             ──►  runs  point × rep, seed = hash(base seed, point, rep)
//!   --shard K/N                  ──►  the runs whose index (point · R + rep) mod N = K
//!   every run ──► RunRecord (counters, cost, the latency histogram as HDR V2, SLO values)
//!   records ──► report::write_sweep ──► sweep.json, sweep.csv, charts, summary.md
//! ```
//!
//! Whether a record was made in this process or read back from a shard file, it holds exactly the
//! same numbers (integers, HDR V2 bytes, and floats that JSON round-trips exactly), and the report
//! is a function of the records alone: that is why a merge gives the unsharded sweep's bytes.

pub mod param;
pub mod report;
pub mod shard;

use crate::budget::{Guard, Limits};
use crate::scenario::{self, Override, Scenario};
use crate::slo::{Bound, Measure, Objective};
use crate::stats::{fnv1a64, replication_seed};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use param::Param;

/// Most runs (points × replications) one sweep may have.
pub const MAX_RUNS: usize = 100_000;

/// What a sweep is: everything its report needs besides the runs' records. Shards carry it, and
/// a merge refuses shards whose definitions differ.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepDef {
    /// Scenario name.
    pub name: String,
    /// Where it came from (a path or `chapter:N`).
    pub source: String,
    /// Fingerprint of the resolved scenario (after `--set`, `--variant` and `--seed`), 16 hex
    /// digits: FNV-1a of its configuration as JSON.
    pub scenario_hash: String,
    /// The base seed every replication's seed is derived from.
    pub seed: u64,
    /// The variant applied, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// `--set` overrides applied to every point, as given.
    pub sets: Vec<String>,
    /// The swept parameters, in the order given.
    pub params: Vec<Param>,
    /// Replications per point.
    pub replications: u32,
    /// Simulated seconds of each run, warm-up included.
    pub duration_s: f64,
    /// Warm-up seconds of each run.
    pub warmup_s: f64,
    /// The scenario's objectives, evaluated in every run.
    pub objectives: Vec<ObjectiveDef>,
}

impl SweepDef {
    /// Points in the grid: the product of the parameters' value counts (1 with no parameter).
    pub fn points(&self) -> usize {
        self.params.iter().map(|p| p.values.len()).product()
    }

    /// Runs: points × replications.
    pub fn runs(&self) -> usize {
        self.points() * self.replications as usize
    }

    /// The value index of each parameter at point `i` (the first parameter varies slowest).
    pub fn coords(&self, mut i: usize) -> Vec<usize> {
        let mut c = vec![0; self.params.len()];
        for (k, p) in self.params.iter().enumerate().rev() {
            c[k] = i % p.values.len();
            i /= p.values.len();
        }
        c
    }

    /// The `key=value` overrides of point `i`.
    pub fn point_sets(&self, i: usize) -> Vec<String> {
        self.coords(i)
            .iter()
            .zip(&self.params)
            .map(|(&v, p)| format!("{}={}", p.key, p.values[v]))
            .collect()
    }

    /// The objectives as the evaluator's type.
    pub fn objectives(&self) -> Vec<Objective> {
        self.objectives
            .iter()
            .map(ObjectiveDef::objective)
            .collect()
    }
}

/// An objective as a shard file carries it: enough to format and judge its values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveDef {
    /// How reports name it.
    pub label: String,
    /// quantile, mean, max, error_rate, availability, throughput or cost_per_month.
    pub measure: String,
    /// For a quantile: which (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
    /// `<`, `<=`, `>` or `>=`.
    pub op: String,
    /// Threshold in the measure's unit (ms, fraction, requests/s, $/month).
    pub threshold: f64,
}

impl ObjectiveDef {
    /// From a checked objective.
    pub fn of(o: &Objective) -> ObjectiveDef {
        let (measure, quantile) = match o.measure {
            Measure::Quantile(q) => ("quantile", Some(q)),
            Measure::Mean => ("mean", None),
            Measure::Max => ("max", None),
            Measure::ErrorRate => ("error_rate", None),
            Measure::Availability => ("availability", None),
            Measure::Throughput => ("throughput", None),
            Measure::CostPerMonth => ("cost_per_month", None),
        };
        let op = match o.bound {
            Bound::Below { inclusive: false } => "<",
            Bound::Below { inclusive: true } => "<=",
            Bound::Above { inclusive: false } => ">",
            Bound::Above { inclusive: true } => ">=",
        };
        ObjectiveDef {
            label: o.label.clone(),
            measure: measure.into(),
            quantile,
            op: op.into(),
            threshold: o.threshold,
        }
    }

    /// Back to the evaluator's type (an unknown measure or operator reads as a p99 below: shard
    /// files are checked against each other, not trusted to be hand-written well).
    pub fn objective(&self) -> Objective {
        let measure = match self.measure.as_str() {
            "mean" => Measure::Mean,
            "max" => Measure::Max,
            "error_rate" => Measure::ErrorRate,
            "availability" => Measure::Availability,
            "throughput" => Measure::Throughput,
            "cost_per_month" => Measure::CostPerMonth,
            _ => Measure::Quantile(self.quantile.unwrap_or(0.99)),
        };
        let bound = match self.op.as_str() {
            "<=" => Bound::Below { inclusive: true },
            ">" => Bound::Above { inclusive: false },
            ">=" => Bound::Above { inclusive: true },
            _ => Bound::Below { inclusive: false },
        };
        Objective {
            label: self.label.clone(),
            measure,
            bound,
            threshold: self.threshold,
            class: None,
            every: None,
        }
    }
}

/// What one run of a sweep left: exact counters, the latency histogram, the objectives' values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// Point index.
    pub point: usize,
    /// Replication index within the point.
    pub rep: u32,
    /// The run's master seed.
    pub seed: u64,
    /// Events handled.
    pub events: u64,
    /// Event-stream hash, 16 hex digits.
    pub event_hash: String,
    /// Requests that ended after warm-up.
    pub requests: u64,
    /// Successful ones.
    pub ok: u64,
    /// Measured period, ns.
    pub measured_ns: u64,
    /// Dollars billed over the measured period.
    pub cost_usd: f64,
    /// Exact sum of the successful requests' latencies, ns (saturating).
    pub latency_sum_ns: u64,
    /// The successful requests' latency histogram (ns), HDR histogram V2 encoding (its deflate-compressed form), hex.
    pub latency_hdr_v2: String,
    /// Each objective's measured value (the worst window's for a windowed one); null when there
    /// was nothing to measure.
    pub slo: Vec<Option<f64>>,
}

impl RunRecord {
    /// The latency histogram, decoded.
    pub fn histogram(&self) -> Result<Histogram<u64>, String> {
        let bytes = from_hex(&self.latency_hdr_v2).ok_or_else(|| {
            format!(
                "run {} of point {}: latency_hdr_v2 is not hex",
                self.rep, self.point
            )
        })?;
        Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| {
                format!(
                    "run {} of point {}: the latency histogram does not decode: {e:?}",
                    self.rep, self.point
                )
            })
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[usize::from(b >> 4)] as char);
        s.push(D[usize::from(b & 15)] as char);
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    let nib = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    b.chunks(2)
        .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

/// The record of a finished run.
pub fn record(point: usize, rep: u32, scn: &Scenario, run: &crate::run::RunOutput) -> RunRecord {
    let f = crate::report::results::figures(run);
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&f.latency, &mut bytes)
        .expect("a histogram serializes into memory");
    let slo = crate::slo::evaluate(&scn.slos, run)
        .iter()
        .map(|v| (!v.measured.is_nan()).then_some(v.measured))
        .collect();
    RunRecord {
        point,
        rep,
        seed: scn.seed,
        events: run.events,
        event_hash: format!("{:016x}", run.hash),
        requests: f.total,
        ok: f.ok,
        measured_ns: run.measured,
        cost_usd: f.cost,
        latency_sum_ns: u64::try_from(f.latency_sum).unwrap_or(u64::MAX),
        latency_hdr_v2: to_hex(&bytes),
        slo,
    }
}

/// A sweep to run: the definition, and each point's checked scenario.
pub struct Plan {
    /// The definition.
    pub def: SweepDef,
    /// Point i's scenario (its seed is replaced per replication).
    pub scenarios: Vec<Scenario>,
}

/// How the runs of a sweep are chosen and run.
pub struct Options {
    /// `Some((k, n))`: only the runs whose index modulo n is k.
    pub shard: Option<(u32, u32)>,
    /// Worker threads (see [`crate::journey::worker_threads`]).
    pub jobs: Option<usize>,
    /// Show a progress bar on stderr (the caller decides: a terminal, not `--quiet`).
    pub progress: bool,
    /// Each run's limits.
    pub limits: Limits,
}

/// Parses `K/N` (K counts from 0).
pub fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let bad = || {
        format!(
            "--shard {s}: expected K/N with 0 ≤ K < N, e.g. --shard 0/4 (the first of four; a \
             Slurm array's $SLURM_ARRAY_TASK_ID or Kubernetes' $JOB_COMPLETION_INDEX counts from 0)"
        )
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: u32 = k.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Loads every point of a sweep of `source`: the base scenario with `sets` (and `seed`, `variant`)
/// first, then each point's parameter values as `--set`s on top. A bad key or value is reported
/// where `--set` would report it. Errors are the messages to print (bad input).
pub fn plan(
    source: &str,
    variant: Option<&str>,
    seed: Option<u64>,
    sets: &[String],
    params: Vec<Param>,
    replications: u32,
) -> Result<Plan, String> {
    if replications == 0 {
        return Err("--replications must be at least 1".into());
    }
    let points: usize = params.iter().map(|p| p.values.len()).product();
    let runs = points.saturating_mul(replications as usize);
    if runs > MAX_RUNS {
        return Err(format!(
            "the sweep has {points} points × {replications} replications = {runs} runs; at most \
             {MAX_RUNS} are allowed (fewer values, or fewer replications)"
        ));
    }
    for (i, p) in params.iter().enumerate() {
        if let Some(q) = params[..i].iter().find(|q| q.key == p.key) {
            return Err(format!("--param {}: the key is swept twice", q.key));
        }
    }
    let text = scenario::read_source(source).map_err(|e| e.to_string())?;
    let parse_all = |extra: &[String]| -> Result<Vec<Override>, String> {
        sets.iter()
            .map(|s| (s, "--set"))
            .chain(extra.iter().map(|s| (s, "--param")))
            .map(|(s, flag)| {
                Override::parse(s).map_err(|e| {
                    let s = crate::scenario::error::clip(s, 200);
                    format!("error: {flag} {s}: {e}")
                })
            })
            .collect()
    };
    let load = |extra: &[String]| -> Result<Scenario, String> {
        let overrides = parse_all(extra)?;
        let mut scn = scenario::parse_variant(source, &text, variant, &overrides).map_err(|e| {
            // The loader names every override `--set`; a point's own are `--param` values.
            extra.iter().fold(e.to_string(), |msg, s| {
                msg.replace(&format!("--set {s}"), &format!("--param {s}"))
            })
        })?;
        if let Some(s) = seed {
            scn.seed = s;
            scn.file.scenario.seed = Some(s);
        }
        Ok(scn)
    };
    let base = load(&[])?;
    let config = serde_json::to_string(&base.file).expect("a scenario serializes");
    let def = SweepDef {
        name: base.name.clone(),
        source: source.to_string(),
        scenario_hash: format!("{:016x}", fnv1a64(config.as_bytes())),
        seed: base.seed,
        variant: variant.map(str::to_string),
        sets: sets.to_vec(),
        params,
        replications,
        duration_s: crate::engine::time::as_secs_f64(base.duration),
        warmup_s: crate::engine::time::as_secs_f64(base.warmup),
        objectives: base.slos.iter().map(ObjectiveDef::of).collect(),
    };
    let mut scenarios = Vec::with_capacity(points);
    for i in 0..points {
        let extra = def.point_sets(i);
        let scn = load(&extra).map_err(|e| {
            format!(
                "{}\n  note: at the sweep's point {}",
                e.trim_end(),
                extra.join(", ")
            )
        })?;
        let labels: Vec<&str> = scn.slos.iter().map(|o| o.label.as_str()).collect();
        let want: Vec<&str> = def.objectives.iter().map(|o| o.label.as_str()).collect();
        if labels != want {
            return Err(format!(
                "error: the point {} changes the scenario's objectives ({:?} instead of {:?}); a \
                 sweep keeps [slo] fixed so its points can be compared",
                extra.join(", "),
                labels,
                want
            ));
        }
        scenarios.push(scn);
    }
    Ok(Plan { def, scenarios })
}

/// A plan of `replications` runs of one checked scenario (no parameter): `check --replications`.
pub fn single(scn: Scenario, replications: u32) -> Plan {
    let config = serde_json::to_string(&scn.file).expect("a scenario serializes");
    let def = SweepDef {
        name: scn.name.clone(),
        source: scn.source.clone(),
        scenario_hash: format!("{:016x}", fnv1a64(config.as_bytes())),
        seed: scn.seed,
        variant: scn.variant.clone(),
        sets: scn.overrides.clone(),
        params: Vec::new(),
        replications,
        duration_s: crate::engine::time::as_secs_f64(scn.duration),
        warmup_s: crate::engine::time::as_secs_f64(scn.warmup),
        objectives: scn.slos.iter().map(ObjectiveDef::of).collect(),
    };
    Plan {
        def,
        scenarios: vec![scn],
    }
}

/// Runs the plan's runs (all, or one shard's): the records in run order. Every run is estimated
/// before any starts, and one past the limits is refused (an error to print).
pub fn execute(plan: &Plan, opts: &Options) -> Result<Vec<RunRecord>, String> {
    let r = plan.def.replications as usize;
    let tasks: Vec<(usize, u32)> = (0..plan.def.runs())
        .filter(|i| opts.shard.is_none_or(|(k, n)| i % n as usize == k as usize))
        .map(|i| (i / r, (i % r) as u32))
        .collect();
    let pool = pool(opts.jobs)?;
    let bar = opts.progress.then(|| {
        progress_bar(
            tasks.len() as u64,
            "  {bar:40} {pos}/{len} runs  ({elapsed} so far, {eta} left)",
        )
    });
    let out = run_tasks(
        plan,
        &tasks,
        &pool,
        opts.limits,
        Seeds::PerPoint,
        bar.as_ref(),
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out
}

/// Where a run's seed comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seeds {
    /// From (base seed, point, replication): every run of a sweep is independent.
    PerPoint,
    /// From (base seed, replication) alone: replication r of every point uses the same seed
    /// (common random numbers, so points are compared on the same draws; the planner's choice).
    Common,
}

/// The worker threads for [`run_tasks`] (see [`crate::journey::worker_threads`]).
pub fn pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, String> {
    let (threads, _) = crate::journey::worker_threads(jobs);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("error: cannot start worker threads: {e}"))
}

/// A progress bar of `len` steps drawn with `template` on stderr.
pub fn progress_bar(len: u64, template: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(len);
    b.set_style(indicatif::ProgressStyle::with_template(template).expect("static template"));
    b
}

/// Runs the given (point, replication) runs of the plan on `pool`: their records, in the order
/// of `tasks`. A run's seed depends on its point and replication only, so the records are the
/// same whichever runs are asked for together and however many threads run them (with
/// [`Seeds::Common`], replication r of every point has point 0's seed). Every point
/// asked for is estimated before any run starts, and one past the limits is refused.
pub fn run_tasks(
    plan: &Plan,
    tasks: &[(usize, u32)],
    pool: &rayon::ThreadPool,
    limits: Limits,
    seeds: Seeds,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<Vec<RunRecord>, String> {
    let mut guards: Vec<Option<Guard>> = vec![None; plan.scenarios.len()];
    for &(i, _) in tasks {
        if guards[i].is_some() {
            continue;
        }
        let scn = &plan.scenarios[i];
        let est = crate::budget::estimate(scn);
        if let Some(why) = limits.refuse(&est) {
            return Err(format!(
                "error: {} at {}: {why}",
                scn.source,
                point_label(&plan.def, i)
            ));
        }
        guards[i] = Some(Guard::new(limits, Some(&est)));
    }
    let out: Vec<Result<RunRecord, String>> = pool.install(|| {
        tasks
            .par_iter()
            .with_max_len(1)
            .map(|&(point, rep)| {
                let mut scn = plan.scenarios[point].clone();
                let at = match seeds {
                    Seeds::PerPoint => point as u64,
                    Seeds::Common => 0,
                };
                scn.seed = replication_seed(plan.def.seed, at, u64::from(rep));
                let stopped = |at, why: &str| {
                    format!(
                        "error: {} at {}, replication {rep}: the run stopped at {}: {why}",
                        scn.source,
                        point_label(&plan.def, point),
                        crate::engine::time::clock(at)
                    )
                };
                let guard = guards[point]
                    .as_ref()
                    .expect("every point asked for has a guard");
                let run = crate::run::run_limited(&scn, guard, &mut |_| {})
                    .map_err(|e| stopped(e.0.at, &e.0.reason))?;
                if let Some(s) = &run.stopped {
                    return Err(stopped(s.at, &s.reason));
                }
                let rec = record(point, rep, &scn, &run);
                if let Some(b) = bar {
                    b.inc(1);
                }
                Ok(rec)
            })
            .collect()
    });
    out.into_iter().collect()
}

/// "key=value, key=value" of point `i` ("the scenario" with no parameter).
pub fn point_label(def: &SweepDef, i: usize) -> String {
    if def.params.is_empty() {
        return "the scenario".into();
    }
    def.point_sets(i).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let b: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&b)).expect("hex"), b);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn shards_count_from_zero() {
        assert_eq!(parse_shard("0/3"), Ok((0, 3)));
        assert_eq!(parse_shard(" 2 / 3 "), Ok((2, 3)));
        for bad in ["3/3", "1/0", "x/2", "1", "-1/2"] {
            let e = parse_shard(bad).expect_err(bad);
            assert!(e.contains("0 ≤ K < N"), "{e}");
        }
    }

    #[test]
    fn coordinates_vary_the_last_parameter_fastest() {
        let def = SweepDef {
            name: "t".into(),
            source: "t".into(),
            scenario_hash: String::new(),
            seed: 1,
            variant: None,
            sets: vec![],
            params: vec![
                Param {
                    key: "a".into(),
                    values: vec!["1".into(), "2".into()],
                },
                Param {
                    key: "b".into(),
                    values: vec!["x".into(), "y".into(), "z".into()],
                },
            ],
            replications: 2,
            duration_s: 1.0,
            warmup_s: 0.0,
            objectives: vec![],
        };
        assert_eq!((def.points(), def.runs()), (6, 12));
        assert_eq!(def.coords(0), vec![0, 0]);
        assert_eq!(def.coords(4), vec![1, 1]);
        assert_eq!(def.point_sets(5), vec!["a=2", "b=z"]);
    }
}
