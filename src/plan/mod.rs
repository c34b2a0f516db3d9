//! `scalesim plan`: the cheapest configuration that meets every objective at a given load, found
//! by pruning the grid of `--vary` values instead of running all of it.
//!
//! ```text
//!   --vary instance=c5.large,c5.xlarge      categorical: every value is a combination of its own
//!   --vary components.web.min=1..20         capacity (a fleet size, workers, vCPUs…): bisected
//!
//!   phase 1  the smallest capacity of every combination, all at once: its cost is the
//!            combination's lower bound (more capacity never costs less)
//!   phase 2  combinations by lower bound, cheapest first: skip one whose lower bound exceeds the
//!            best found; else bisect for the smallest capacity that meets every objective
//!            (more capacity never hurts), stopping early once a failing probe already costs
//!            more than the best
//!   phase 3  the chosen configuration's next capacity up must pass too (a cheap check of the
//!            assumption); every combination's probes are checked for a pass below a fail
//! ```
//!
//! Each configuration tried runs R replications; an objective is judged on the bad side of their
//! 95 % interval (the upper end for "<" objectives), through [`crate::stats::decide`]: it passes
//! only when the whole interval meets it. Every configuration uses the same R seeds (common
//! random numbers, [`Seeds::Common`]), so two configurations are compared on the same draws. The
//! phases run the same runs in the same order for any `--jobs`, so the outcome is the same.

pub mod report;

use crate::budget::Limits;
use crate::slo::Bound;
use crate::stats::{Decision, Interval};
use crate::sweep::report::{summarise_point, ObjectivePoint, FIGURES};
use crate::sweep::{Param, Plan, Seeds};
use std::collections::BTreeMap;

/// The last segments of the capacity keys, under `components.NAME.`: more of any never hurts an
/// objective (assumed) and never costs less, so the planner bisects them.
pub const CAPACITY_KEYS: &[&str] = &[
    "min",
    "max",
    "desired",
    "workers",
    "replicas",
    "vcpus",
    "nodes",
    "instances",
    "concurrency",
    "max_concurrency",
    "max_connections",
    "capacity",
];

/// Index of `cost_per_month_usd` and `p99_ms` in [`FIGURES`].
const COST: usize = 6;
const P99: usize = 4;

/// Parses one `--vary`: what `--param` takes (lists, `A..B:logN`, `A..B:linN`), and `A..B` with
/// whole numbers for every whole number from A to B. A capacity key's values are put in
/// ascending order (bisection needs them so).
pub fn parse_vary(raw: &str) -> Result<Param, String> {
    let mut p = match raw.split_once('=') {
        Some((key, rest)) => match whole_range(rest.trim())? {
            Some(values) => Param::parse(&format!("{}={}", key.trim(), values.join(",")))?,
            None => Param::parse(raw)?,
        },
        None => Param::parse(raw)?,
    };
    if let Some(nums) = capacity_values(&p) {
        let mut pairs: Vec<(i64, String)> = nums.into_iter().zip(p.values).collect();
        pairs.sort_by_key(|(n, _)| *n);
        p.values = pairs.into_iter().map(|(_, v)| v).collect();
    }
    Ok(p)
}

/// `A..B` of whole numbers (no `:`): every one from A to B.
fn whole_range(s: &str) -> Result<Option<Vec<String>>, String> {
    if s.contains(':') {
        return Ok(None);
    }
    let Some((a, b)) = s.split_once("..") else {
        return Ok(None);
    };
    let (Ok(lo), Ok(hi)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>()) else {
        return Ok(None);
    };
    if lo >= hi {
        return Err(format!(
            "`{s}`: the range must go up: {lo} is not below {hi}"
        ));
    }
    let n = hi.abs_diff(lo).saturating_add(1);
    if n > crate::sweep::param::MAX_VALUES as u64 {
        return Err(format!(
            "`{s}` holds {n} whole numbers; at most {} are allowed (use {lo}..{hi}:log20 for 20 \
             log-spaced values)",
            crate::sweep::param::MAX_VALUES
        ));
    }
    Ok(Some((lo..=hi).map(|v| v.to_string()).collect()))
}

/// The values of a capacity parameter as whole numbers; `None` for any other parameter.
pub fn capacity_values(p: &Param) -> Option<Vec<i64>> {
    let rest = p.key.strip_prefix("components.")?;
    let (_, leaf) = rest.rsplit_once('.')?;
    if !CAPACITY_KEYS.contains(&leaf) {
        return None;
    }
    p.values
        .iter()
        .map(|v| v.trim().parse::<i64>().ok())
        .collect()
}

/// Which parameter is bisected: the first capacity key among them (the others are enumerated).
pub fn bisected(params: &[Param]) -> Option<usize> {
    params.iter().position(|p| capacity_values(p).is_some())
}

/// Why a configuration was run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The smallest capacity of its combination: the combination's lower bound on cost.
    LowerBound,
    /// A bisection probe.
    Probe,
    /// The chosen configuration's next capacity up, checking the monotonicity assumption.
    Check,
    /// The whole grid was asked for (`--exhaustive`), or nothing is bisected.
    Grid,
}

impl Why {
    /// For reports.
    pub fn name(self) -> &'static str {
        match self {
            Why::LowerBound => "lower bound",
            Why::Probe => "bisection",
            Why::Check => "monotonicity check",
            Why::Grid => "grid",
        }
    }
}

/// One configuration tried: R replications, judged.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Its point in the grid.
    pub point: usize,
    /// Why it was run.
    pub why: Why,
    /// (key, value) of each varied parameter.
    pub values: Vec<(String, String)>,
    /// Dollars per month: mean and interval over the replications.
    pub cost: Option<Interval>,
    /// p99 latency of successful requests, ms: mean and interval (None: nothing served).
    pub p99: Option<Interval>,
    /// Each objective on its interval.
    pub objectives: Vec<ObjectivePoint>,
    /// Each objective's value on its interval's bad side (the upper end for "<", the lower for
    /// ">"; the value itself for one replication); NaN when nothing was measured.
    pub bad: Vec<f64>,
    /// Each objective's margin on the interval's bad side, relative to its threshold (positive
    /// passes); −∞ when nothing was measured.
    pub margins: Vec<f64>,
    /// Every objective passes on the whole interval.
    pub feasible: bool,
    /// The objective with the smallest margin (None without objectives).
    pub binding: Option<usize>,
}

impl Evaluation {
    /// Mean cost per month (∞ when unknown, which never happens for a finished run).
    pub fn cost_mean(&self) -> f64 {
        self.cost.map_or(f64::INFINITY, |c| c.mean)
    }

    /// The smallest relative margin (∞ without objectives).
    pub fn worst_margin(&self) -> f64 {
        self.margins.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The order of preference among passing configurations: cheaper first; at equal cost the
    /// one with more headroom (the larger smallest margin); then the lower point.
    pub fn preference(&self, other: &Evaluation) -> std::cmp::Ordering {
        self.cost_mean()
            .total_cmp(&other.cost_mean())
            .then(other.worst_margin().total_cmp(&self.worst_margin()))
            .then(self.point.cmp(&other.point))
    }
}

/// What became of one combination of the enumerated parameters.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Its cheapest passing configuration (a point).
    Cheapest(usize),
    /// Nothing in it passes, up to its largest capacity.
    Infeasible,
    /// Not run past its lower bound: that already costs more than the best found.
    Pruned {
        /// Its smallest configuration's cost per month.
        lower_bound: f64,
        /// The best found when it was skipped.
        best: f64,
    },
    /// Bisection stopped: a failing probe already cost more than the best found.
    Stopped {
        /// The probe's cost per month.
        at: f64,
        /// The best found then.
        best: f64,
    },
}

/// A combination of the enumerated parameters' values, and its capacity values' points.
#[derive(Clone, Debug)]
pub struct Combination {
    /// "components.web.instance=c5.large" ("the scenario" with nothing enumerated).
    pub label: String,
    /// Its points, capacity ascending (one point when nothing is bisected).
    pub points: Vec<usize>,
    /// What became of it.
    pub outcome: Outcome,
}

/// The planner's answer.
#[derive(Clone, Debug)]
pub struct Search {
    /// Every configuration tried, in the order they were run.
    pub evaluations: Vec<Evaluation>,
    /// The cheapest passing one (an index into `evaluations`); at equal cost the one with more
    /// headroom ([`Evaluation::preference`]).
    pub best: Option<usize>,
    /// Every combination.
    pub combinations: Vec<Combination>,
    /// The bisected parameter (index into the sweep definition's params).
    pub bisected: Option<usize>,
    /// Warnings: where the monotonicity assumption did not hold.
    pub notes: Vec<String>,
    /// Whether the whole grid was run.
    pub exhaustive: bool,
}

impl Search {
    /// Runs made: configurations tried × replications.
    pub fn runs(&self, replications: u32) -> usize {
        self.evaluations.len() * replications as usize
    }

    /// The objectives that fail at every configuration tried (when nothing passes: which one
    /// fails everywhere).
    pub fn failing_everywhere(&self) -> Vec<usize> {
        let n = self.evaluations.first().map_or(0, |e| e.objectives.len());
        (0..n)
            .filter(|&j| {
                self.evaluations
                    .iter()
                    .all(|e| e.objectives[j].decision != Decision::Pass)
            })
            .collect()
    }

    /// The configuration closest to passing: the largest smallest margin (ties: the cheaper, then
    /// the lower point).
    pub fn closest(&self) -> Option<usize> {
        (0..self.evaluations.len()).min_by(|&a, &b| {
            let (ea, eb) = (&self.evaluations[a], &self.evaluations[b]);
            eb.worst_margin()
                .total_cmp(&ea.worst_margin())
                .then(ea.cost_mean().total_cmp(&eb.cost_mean()))
                .then(ea.point.cmp(&eb.point))
        })
    }

    /// Whether each evaluation is on the frontier of cost against p99: no other configuration
    /// is at most as costly and faster, or cheaper and at most as slow.
    pub fn frontier(&self) -> Vec<bool> {
        let p99 = |e: &Evaluation| e.p99.map_or(f64::INFINITY, |i| i.mean);
        self.evaluations
            .iter()
            .map(|e| {
                p99(e).is_finite()
                    && !self.evaluations.iter().any(|o| {
                        (o.cost_mean() <= e.cost_mean() && p99(o) < p99(e))
                            || (o.cost_mean() < e.cost_mean() && p99(o) <= p99(e))
                    })
            })
            .collect()
    }
}

/// Judges one point from its runs.
fn evaluate(
    plan: &Plan,
    point: usize,
    why: Why,
    runs: &[crate::sweep::RunRecord],
) -> Result<Evaluation, String> {
    let objectives = plan.def.objectives();
    let s = summarise_point(&plan.def, &objectives, point, runs)?;
    debug_assert_eq!(FIGURES[COST].key, "cost_per_month_usd");
    debug_assert_eq!(FIGURES[P99].key, "p99_ms");
    let bad: Vec<f64> = objectives
        .iter()
        .zip(&s.objectives)
        .map(|(o, op)| match (op.interval, o.bound) {
            (None, _) => f64::NAN,
            (Some(iv), _) if iv.half.is_nan() => iv.mean,
            (Some(iv), Bound::Below { .. }) => iv.hi(),
            (Some(iv), Bound::Above { .. }) => iv.lo(),
        })
        .collect();
    let margins: Vec<f64> = objectives
        .iter()
        .zip(&bad)
        .map(|(o, &v)| {
            if v.is_nan() {
                return f64::NEG_INFINITY;
            }
            let m = o.margin(v);
            if o.threshold.abs() > 0.0 {
                m / o.threshold.abs()
            } else {
                m
            }
        })
        .collect();
    let binding = (0..margins.len()).min_by(|&a, &b| margins[a].total_cmp(&margins[b]));
    Ok(Evaluation {
        point,
        why,
        values: s.values,
        cost: s.figures[COST],
        p99: s.figures[P99],
        feasible: s.objectives.iter().all(|o| o.decision == Decision::Pass),
        objectives: s.objectives,
        bad,
        margins,
        binding,
    })
}

/// Runs configurations and keeps their evaluations: each point once.
struct Evaluator<'a> {
    plan: &'a Plan,
    pool: &'a rayon::ThreadPool,
    limits: Limits,
    bar: Option<&'a indicatif::ProgressBar>,
    done: BTreeMap<usize, usize>,
    evaluations: Vec<Evaluation>,
}

impl Evaluator<'_> {
    /// Evaluates the points not yet evaluated (all their replications at once); returns each
    /// asked-for point's evaluation index.
    fn eval(&mut self, points: &[usize], why: Why) -> Result<Vec<usize>, String> {
        let r = self.plan.def.replications;
        let mut fresh: Vec<usize> = Vec::new();
        for &p in points {
            if !self.done.contains_key(&p) && !fresh.contains(&p) {
                fresh.push(p);
            }
        }
        let tasks: Vec<(usize, u32)> = fresh
            .iter()
            .flat_map(|&p| (0..r).map(move |k| (p, k)))
            .collect();
        let records = crate::sweep::run_tasks(
            self.plan,
            &tasks,
            self.pool,
            self.limits,
            Seeds::Common,
            self.bar,
        )?;
        for (&p, runs) in fresh.iter().zip(records.chunks(r as usize)) {
            let e = evaluate(self.plan, p, why, runs)?;
            self.done.insert(p, self.evaluations.len());
            self.evaluations.push(e);
        }
        Ok(points.iter().map(|p| self.done[p]).collect())
    }

    /// The cheapest passing evaluation so far: (cost, point) smallest.
    fn best(&self) -> Option<usize> {
        (0..self.evaluations.len())
            .filter(|&i| self.evaluations[i].feasible)
            .min_by(|&a, &b| self.evaluations[a].preference(&self.evaluations[b]))
    }

    fn best_cost(&self) -> Option<f64> {
        self.best().map(|i| self.evaluations[i].cost_mean())
    }
}

/// The combinations of the enumerated parameters, each with its points in capacity order.
pub fn combinations(plan: &Plan, bisected: Option<usize>) -> Vec<Combination> {
    let def = &plan.def;
    let mut by_key: BTreeMap<Vec<usize>, usize> = BTreeMap::new();
    let mut out: Vec<Combination> = Vec::new();
    for i in 0..def.points() {
        let mut c = def.coords(i);
        if let Some(b) = bisected {
            c.remove(b);
        }
        let k = *by_key.entry(c).or_insert_with(|| {
            let label = def
                .point_sets(i)
                .into_iter()
                .enumerate()
                .filter(|(j, _)| Some(*j) != bisected)
                .map(|(_, s)| s)
                .collect::<Vec<_>>()
                .join(", ");
            out.push(Combination {
                label: if label.is_empty() {
                    "the scenario".into()
                } else {
                    label
                },
                points: Vec::new(),
                outcome: Outcome::Infeasible,
            });
            out.len() - 1
        });
        out[k].points.push(i);
    }
    // Points come in grid order, and the bisected key's values are ascending, so each
    // combination's points are in capacity order already.
    out
}

/// How a search runs.
pub struct SearchOptions<'a> {
    /// Run the whole grid (the reference the pruned search is tested against).
    pub exhaustive: bool,
    /// Each run's limits.
    pub limits: Limits,
    /// Worker threads.
    pub jobs: Option<usize>,
    /// A progress bar to advance by one per run.
    pub bar: Option<&'a indicatif::ProgressBar>,
}

/// Finds the cheapest configuration of `plan`'s grid that meets every objective. Errors are the
/// messages to print (a run refused by the limits, or stopped).
pub fn search(plan: &Plan, opts: &SearchOptions) -> Result<Search, String> {
    let pool = crate::sweep::pool(opts.jobs)?;
    let bisected = bisected(&plan.def.params);
    let mut combos = combinations(plan, bisected);
    let mut ev = Evaluator {
        plan,
        pool: &pool,
        limits: opts.limits,
        bar: opts.bar,
        done: BTreeMap::new(),
        evaluations: Vec::new(),
    };
    let mut notes = Vec::new();
    if opts.exhaustive || bisected.is_none() {
        let all: Vec<usize> = (0..plan.def.points()).collect();
        ev.eval(&all, Why::Grid)?;
        for c in &mut combos {
            c.outcome = c
                .points
                .iter()
                .map(|p| &ev.evaluations[ev.done[p]])
                .filter(|e| e.feasible)
                .min_by(|a, b| a.preference(b))
                .map_or(Outcome::Infeasible, |e| Outcome::Cheapest(e.point));
        }
    } else {
        // Phase 1: every combination's lower bound, together.
        let firsts: Vec<usize> = combos.iter().map(|c| c.points[0]).collect();
        let lows = ev.eval(&firsts, Why::LowerBound)?;
        let mut order: Vec<usize> = (0..combos.len()).collect();
        order.sort_by(|&a, &b| {
            ev.evaluations[lows[a]]
                .cost_mean()
                .total_cmp(&ev.evaluations[lows[b]].cost_mean())
                .then(a.cmp(&b))
        });
        // Phase 2: cheapest lower bound first.
        for k in order {
            let low = &ev.evaluations[lows[k]];
            let (lb, low_ok) = (low.cost_mean(), low.feasible);
            let points = combos[k].points.clone();
            if low_ok {
                combos[k].outcome = Outcome::Cheapest(points[0]);
                continue;
            }
            if let Some(best) = ev.best_cost().filter(|&b| lb > b) {
                combos[k].outcome = Outcome::Pruned {
                    lower_bound: lb,
                    best,
                };
                continue;
            }
            // points[lo] fails; points[hi] passes (hi = len: not known to).
            let (mut lo, mut hi) = (0usize, points.len());
            let mut stopped = None;
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let i = ev.eval(&[points[mid]], Why::Probe)?[0];
                let e = &ev.evaluations[i];
                if e.feasible {
                    hi = mid;
                } else {
                    lo = mid;
                    let c = e.cost_mean();
                    if let Some(best) = ev.best_cost().filter(|&b| c > b) {
                        stopped = Some(Outcome::Stopped { at: c, best });
                        break;
                    }
                }
            }
            combos[k].outcome = match stopped {
                Some(s) => s,
                None if hi == points.len() => Outcome::Infeasible,
                None => Outcome::Cheapest(points[hi]),
            };
        }
        // Phase 3: the chosen configuration's next capacity up must pass as well.
        if let Some(b) = ev.best() {
            let point = ev.evaluations[b].point;
            let next = combos.iter().find_map(|c| {
                let at = c.points.iter().position(|&p| p == point)?;
                c.points.get(at + 1).copied()
            });
            if let Some(n) = next {
                ev.eval(&[n], Why::Check)?;
            }
        }
    }
    // Every combination's runs, in capacity order: a pass below a fail breaks the assumption.
    if bisected.is_some() {
        for c in &combos {
            let tried: Vec<&Evaluation> = c
                .points
                .iter()
                .filter_map(|p| ev.done.get(p).map(|&i| &ev.evaluations[i]))
                .collect();
            for w in tried.windows(2).filter(|w| w[0].feasible && !w[1].feasible) {
                notes.push(format!(
                    "not monotone: {} meets every objective but {}, with more capacity, does \
                     not; the bisection assumes more capacity never hurts, so its answer may not \
                     be the cheapest (--exhaustive tries every configuration)",
                    crate::sweep::point_label(&plan.def, w[0].point),
                    crate::sweep::point_label(&plan.def, w[1].point)
                ));
            }
        }
    }
    let best = ev.best();
    Ok(Search {
        evaluations: ev.evaluations,
        best,
        combinations: combos,
        bisected,
        notes,
        exhaustive: opts.exhaustive || bisected.is_none(),
    })
}

/// What `scalesim plan` is given, before it is checked.
pub struct Request<'a> {
    /// Scenario file or `chapter:N`.
    pub source: &'a str,
    /// `--variant`.
    pub variant: Option<&'a str>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--set`s, applied to every configuration.
    pub sets: &'a [String],
    /// `--users`.
    pub users: Option<u32>,
    /// `--slo`s (empty: the scenario's own).
    pub slos: &'a [String],
    /// `--vary`s.
    pub vary: &'a [String],
    /// `--replications`.
    pub replications: u32,
}

/// Checks a request and loads every configuration of its grid: the plan and what was asked.
/// Errors are located messages to print (bad input): a bad `--vary`, `--slo` or `--users` is
/// named as given.
pub fn load(req: &Request) -> Result<(Plan, report::Ask), String> {
    let mut params = Vec::with_capacity(req.vary.len());
    for raw in req.vary {
        let p = parse_vary(raw).map_err(|e| {
            format!(
                "error: --vary {}: {e}",
                crate::scenario::error::clip(raw, 200)
            )
        })?;
        if let Some(q) = params.iter().find(|q: &&Param| q.key == p.key) {
            return Err(format!("error: --vary {}: the key is varied twice", q.key));
        }
        params.push(p);
    }
    if params.is_empty() {
        return Err(
            "error: nothing to vary: give --vary KEY=VALUES, e.g. --vary components.web.min=1..20"
                .into(),
        );
    }
    for raw in req.slos {
        crate::slo::parse_compact(raw).map_err(|e| {
            format!(
                "error: --slo {}: {e}\n  help: write an objective as the scenario's [slo] \
                 does, e.g. --slo 'p(99) < 300ms' or --slo 'error_rate < 0.1%'",
                crate::scenario::error::clip(raw, 200)
            )
        })?;
    }
    let mut sets: Vec<String> = req.sets.to_vec();
    let users_set = req.users.map(|u| format!("workload.users={u}"));
    sets.extend(users_set.clone());
    let slo_set = (!req.slos.is_empty()).then(|| {
        let list: Vec<String> = req
            .slos
            .iter()
            .map(|s| serde_json::to_string(s).expect("a string serializes"))
            .collect();
        format!("slo={{ objectives = [{}] }}", list.join(", "))
    });
    sets.extend(slo_set.clone());
    let plan = crate::sweep::plan(
        req.source,
        req.variant,
        req.seed,
        &sets,
        params,
        req.replications,
    )
    .map_err(|e| {
        let mut e = e
            .replace("--param ", "--vary ")
            .replace("at the sweep's point", "at the configuration")
            .replace(
                "changes the scenario's objectives",
                "changes the objectives",
            )
            .replace("a sweep keeps [slo] fixed", "a plan keeps them fixed");
        if let Some(u) = &users_set {
            e = e.replace(&format!("--set {u}"), &format!("--users {}", &u[15..]));
        }
        if let Some(s) = &slo_set {
            let s = crate::scenario::error::clip(s, 200);
            for (i, raw) in req.slos.iter().enumerate() {
                e = e.replace(
                    &format!("--set {s}: `slo.objectives[{i}]`"),
                    &format!("--slo {raw}: `slo.objectives[{i}]`"),
                );
            }
            e = e.replace(&format!("--set {s}"), "--slo");
        }
        e
    })?;
    if plan.def.objectives.is_empty() {
        return Err(format!(
            "error: {} has no objectives to plan for; give --slo, e.g. --slo 'p(99) < 300ms' \
             --slo 'error_rate < 0.1%'",
            req.source
        ));
    }
    let ask = report::Ask {
        users: req.users,
        slos: req.slos.to_vec(),
        sets: req.sets.to_vec(),
    };
    Ok((plan, ask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_takes_whole_ranges_and_sorts_capacities() {
        let p = parse_vary("components.web.max=3..6").expect("range");
        assert_eq!(p.values, ["3", "4", "5", "6"]);
        let p = parse_vary("components.web.min=8,2,4").expect("list");
        assert_eq!(p.values, ["2", "4", "8"], "a capacity key's values ascend");
        assert_eq!(capacity_values(&p), Some(vec![2, 4, 8]));
        let p = parse_vary("components.web.instance=c5.xlarge,c5.large").expect("names");
        assert_eq!(
            p.values,
            ["c5.xlarge", "c5.large"],
            "others keep their order"
        );
        assert_eq!(capacity_values(&p), None);
        // `workload.retries.max` is not a component's capacity.
        assert_eq!(
            capacity_values(&parse_vary("workload.retries.max=1,2").expect("x")),
            None
        );
        assert!(parse_vary("components.web.max=6..3")
            .expect_err("down")
            .contains("must go up"));
        assert!(parse_vary("components.web.max=1..5000")
            .expect_err("huge")
            .contains("at most"));
        // Log ranges are sweep's.
        assert_eq!(
            parse_vary("components.web.max=1..100:log3")
                .expect("log")
                .values,
            ["1", "10", "100"]
        );
    }
}
