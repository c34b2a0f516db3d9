//! A scheduled batch job (a nightly sales report, a price update): on its schedule
//! ([`schedule`]) a run reads `rows` rows in batches of `batch_rows`, `concurrency` batches at a
//! time, at most `throttle` rows a second. Where the rows are read decides whom it competes
//! with: a batch is a scan query on the database's primary (sharing its vCPUs with live
//! traffic), on a read replica, or — `read_from = "snapshot"` — work on the job's own instance,
//! billed only while a run lasts (AWS Batch's managed compute scales to zero). Every batch costs
//! `row_cost` of CPU per row wherever it runs.
//!
//! ```text
//!   schedule ──fires──▶ run: batch 1 · batch 2 · ... (≤ concurrency at once, ≤ throttle rows/s)
//!                         │ each a scan ──▶ db.primary | db.replicaN | its own instance
//!                         └─ all rows read: succeeded · a batch failed / past timeout: the
//!                            attempt failed, retried from the start up to `attempts`
//! ```
//!
//! A run that fires while the previous one is still going is skipped (`overlap = "skip"`, what
//! Kubernetes calls `concurrencyPolicy: Forbid`) or started beside it (`"allow"`: the failure
//! mode of overlapping cron runs). Faults: `crash` kills the running attempts (retried if
//! attempts remain), `stop` also keeps it from starting new runs until `recover`, `hang` stops
//! its issuing (a stuck job: only its `timeout` ends it), `slow` slows its own instance.
//!
//! While any run lasts, requests that end are counted apart ([`crate::metrics::JobSplit`]), so
//! the report can compare live latency during the job with the rest of the run.

pub mod schedule;

use super::cpu::{Cpu, Done};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, EventKind, Figure,
    Footprint, GaugeDecl, GaugeUnit, Kind, ParseError, Route, RouteRole, Section, Shape,
    TimelineEvent, Wiring,
};
use super::meter::Meter;
use super::request::{Outcome, ReqId};
use super::{Code, CompId, Control, Ctx, Msg, Timer, Zone};
use crate::engine::time::{human, Time, MS, SEC};
use crate::engine::RngStream;
use crate::scenario::error::{number, Seg};
use crate::scenario::units::{Duration, Rate};
use crate::scenario::validate::{at_key, Checker};
use schedule::Schedule;
use serde::{Deserialize, Serialize};

/// The schedule fires.
const FIRE: Code = Code(0);
/// The throttle lets the next batch go.
const PACE: Code = Code(1);
/// An attempt reached its timeout (payload: the attempt's number).
const DEADLINE: Code = Code(2);
/// Its own instance finished batches: `Timer::Pair(CPU, epoch, slot)`.
const CPU: Code = Code(3);

/// A batch query's class as the database sees it: a scan on the primary whose CPU demand is the
/// request's `work` (ns). Past every workload class and below the probes'.
pub const JOB_SCAN_PRIMARY: u16 = u16::MAX - 1;
/// The same on a read replica (the primary when none is up).
pub const JOB_SCAN_REPLICA: u16 = u16::MAX - 2;

/// Default rows per batch (a model figure: a cursor's fetch of 10,000 rows).
pub const DEFAULT_BATCH_ROWS: u64 = 10_000;
/// Default CPU per row read and aggregated: 10 µs (a model figure; a sequential scan with a join
/// and a group-by, docs/semantics.md §8).
pub const DEFAULT_ROW_COST: Time = 10_000;
/// Default own instance for `read_from = "snapshot"`.
pub const DEFAULT_INSTANCE: &str = "c5.xlarge";
/// Most attempts per run: AWS Batch allows 1 to 10 (docs/semantics.md §8).
pub const MAX_ATTEMPTS: u32 = 10;
/// Most batches in flight at once.
pub const MAX_CONCURRENCY: u32 = 1024;
/// Most rows a run may read.
pub const MAX_ROWS: u64 = 1 << 40;

/// `[components.NAME] kind = "job"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobConfig {
    /// When it runs, on the scenario's clock (`workload.start_hour` is the time of day at the
    /// start): "every 15m", "daily at 02:00", "at 02:00, 14:30", "after 20m" (once), or a cron
    /// line over minutes and hours such as "0 2 * * *" (EventBridge Scheduler's rate, cron and
    /// one-time schedules; docs/semantics.md §8).
    pub schedule: String,
    /// Rows a run reads, e.g. 50000000.
    pub rows: u64,
    /// Rows per batch (one query each). Default 10000.
    pub batch_rows: Option<u64>,
    /// CPU per row, wherever the batch runs. Default "10us" (a model figure).
    pub row_cost: Option<Duration>,
    /// The database it reads (a `kind = "database"`); with read_from = "snapshot", the database
    /// whose export it reads (not touched, and not needed).
    pub database: Option<String>,
    /// Where it reads: "primary" (competing with live traffic), "replica" (a read replica; the
    /// primary when none is up) or "snapshot" (an export processed on its own instance, off the
    /// database). Default primary.
    pub read_from: Option<String>,
    /// Its own instance type for read_from = "snapshot", billed while a run lasts. Default
    /// c5.xlarge.
    pub instance: Option<String>,
    /// Batches in flight at once. Default 1.
    pub concurrency: Option<u32>,
    /// Most rows a second it reads, e.g. "20000/s". Default: as fast as it can.
    pub throttle: Option<Rate>,
    /// An attempt still going after this long fails. Default: none (AWS Batch's
    /// attemptDurationSeconds unset; docs/semantics.md §8).
    pub timeout: Option<Duration>,
    /// Attempts per run, 1 to 10: a failed attempt starts again from the first row. Default 1
    /// (AWS Batch; docs/semantics.md §8).
    pub attempts: Option<u32>,
    /// A firing while a run is still going: "skip" it or "allow" a second run beside it.
    /// Default skip.
    pub overlap: Option<String>,
}

/// Where a job's rows are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The database's primary.
    Primary,
    /// A read replica.
    Replica,
    /// An export, on the job's own instance.
    Snapshot,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Primary => "primary",
            Source::Replica => "replica",
            Source::Snapshot => "snapshot",
        }
    }
}

/// A job after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// When it fires.
    pub schedule: Schedule,
    /// Time of day at t = 0, ns past midnight.
    pub offset: Time,
    /// Runs start (false in the journey's steady state: the job is a one-off event there).
    pub enabled: bool,
    /// The scenario's end: a firing at or after it starts nothing.
    pub end: Time,
    /// Rows per run.
    pub rows: u64,
    /// Rows per batch.
    pub batch_rows: u64,
    /// CPU per row, ns.
    pub row_cost: Time,
    /// Where it reads.
    pub source: Source,
    /// The database (for primary and replica).
    pub database: Option<CompId>,
    /// Own instance: (type, vCPUs, $/hour), for snapshot.
    pub instance: Option<(&'static str, u32, f64)>,
    /// Batches at once.
    pub concurrency: u32,
    /// Most rows a second.
    pub throttle: Option<f64>,
    /// Attempt timeout, ns.
    pub timeout: Option<Time>,
    /// Attempts per run.
    pub attempts: u32,
    /// Overlapping runs allowed.
    pub overlap: bool,
}

impl JobSpec {
    /// The time the throttle spaces a batch of `rows` by, ns (0 unthrottled): exact integer
    /// nanoseconds, rounded up so the rate is never exceeded.
    pub fn gap(&self, rows: u64) -> Time {
        match self.throttle {
            Some(r) if r > 0.0 => (rows as f64 * 1e9 / r).ceil() as Time,
            _ => 0,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every row read.
    Succeeded,
    /// Its last attempt failed.
    Failed,
}

/// One run, while it lasts and after.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// When it fired.
    pub started: Time,
    /// When it ended (`None`: still going at the end of the run).
    pub ended: Option<Time>,
    /// How.
    pub end: Option<RunEnd>,
    /// Attempts made.
    pub attempts: u32,
    /// Rows read by its last attempt.
    pub rows: u64,
    /// Why its last failed attempt failed.
    pub why: Option<String>,
}

/// A run in progress.
#[derive(Clone, Debug)]
struct Active {
    /// Index into the records.
    record: usize,
    /// The current attempt's number (unique over the job's life): answers of earlier attempts
    /// are recognised and dropped.
    attempt: u32,
    issued: u64,
    done: u64,
    in_flight: u32,
    /// Earliest time the throttle lets the next batch go.
    next_go: Time,
    /// The attempt failed; waiting for its batches to come back before the next attempt.
    failing: Option<String>,
}

/// Counters since the warm-up.
#[derive(Clone, Debug, Default)]
struct Stats {
    batches: u64,
    batch_failures: u64,
    rows: u64,
    skipped: u64,
}

/// A scheduled job component.
pub struct Job {
    name: String,
    spec: JobSpec,
    rng: RngStream,
    active: Vec<Active>,
    records: Vec<RunRecord>,
    next_attempt: u32,
    stopped: bool,
    hung: bool,
    /// A PACE timer is pending for this time.
    pace_at: Option<Time>,
    stats: Stats,
    /// Its own instance (snapshot).
    cpu: Option<Cpu>,
    meter: Meter,
    /// The instance is running (a run lasts).
    up: bool,
    /// Rows read this window.
    win_rows: u64,
    win_start: Time,
    window_cpu: f64,
    timeline: Vec<TimelineEvent>,
    done_buf: Vec<super::cpu::Job>,
}

impl Job {
    /// Brings the meter up to `now`.
    fn touch(&mut self, now: Time) {
        let dt = now.saturating_sub(self.meter.last);
        let (busy, cap) = match &mut self.cpu {
            Some(c) => {
                if dt > 0 {
                    c.advance(dt as i64 as f64);
                }
                (Some(f64::from(c.busy())), f64::from(c.vcpus()))
            }
            None => (None, 0.0),
        };
        self.meter.advance(
            now,
            dt,
            self.up,
            busy,
            cap,
            0.0,
            self.up && self.cpu.is_some(),
        );
    }

    fn event(&mut self, at: Time, kind: EventKind, text: String) {
        self.timeline
            .push(TimelineEvent::new(at, kind, &self.name, text));
    }

    fn arm_fire(&mut self, after: Time, ctx: &mut Ctx) {
        match self.spec.schedule.next_at(after, self.spec.offset) {
            Some(at) if at < self.spec.end => ctx.timer_at(at, Timer::Bare(FIRE)),
            _ => {}
        }
    }

    fn fire(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        self.arm_fire(now + 1, ctx);
        if !self.spec.enabled || now >= self.spec.end {
            return;
        }
        if self.stopped || (!self.spec.overlap && !self.active.is_empty()) {
            if now >= ctx.metrics.warmup {
                self.stats.skipped += 1;
            }
            let why = if self.stopped {
                "it is stopped"
            } else {
                "the previous run is still going"
            };
            self.event(now, EventKind::JobSkipped, format!("run skipped: {why}"));
            return;
        }
        self.touch(now);
        if self.active.is_empty() {
            self.up = true;
        }
        self.records.push(RunRecord {
            started: now,
            ended: None,
            end: None,
            attempts: 0,
            rows: 0,
            why: None,
        });
        let record = self.records.len() - 1;
        ctx.metrics.job_started_at(now);
        self.event(
            now,
            EventKind::JobStarted,
            format!(
                "run {} started: {} rows from {}",
                record + 1,
                count(self.spec.rows),
                self.where_words()
            ),
        );
        self.begin_attempt(record, ctx);
    }

    fn where_words(&self) -> String {
        match self.spec.source {
            Source::Primary => "the database's primary".into(),
            Source::Replica => "a read replica".into(),
            Source::Snapshot => format!(
                "a snapshot on its own {}",
                self.spec.instance.map_or("instance", |i| i.0)
            ),
        }
    }

    fn begin_attempt(&mut self, record: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        self.next_attempt = self.next_attempt.wrapping_add(1);
        let attempt = self.next_attempt;
        self.records[record].attempts += 1;
        self.active.push(Active {
            record,
            attempt,
            issued: 0,
            done: 0,
            in_flight: 0,
            next_go: now,
            failing: None,
        });
        if let Some(t) = self.spec.timeout {
            ctx.timer_at(now.saturating_add(t), Timer::Word(DEADLINE, attempt));
        }
        self.issue(ctx);
    }

    /// Sends every batch the concurrency and the throttle allow now, for every run.
    fn issue(&mut self, ctx: &mut Ctx) {
        if self.hung {
            return;
        }
        let now = ctx.now();
        let mut wake: Option<Time> = None;
        for a in 0..self.active.len() {
            loop {
                let x = &self.active[a];
                if x.failing.is_some()
                    || x.in_flight >= self.spec.concurrency
                    || x.issued >= self.spec.rows
                {
                    break;
                }
                if x.next_go > now {
                    wake = Some(wake.map_or(x.next_go, |w: Time| w.min(x.next_go)));
                    break;
                }
                let rows = self.spec.batch_rows.min(self.spec.rows - x.issued);
                let attempt = x.attempt;
                let gap = self.spec.gap(rows);
                let x = &mut self.active[a];
                x.issued += rows;
                x.in_flight += 1;
                x.next_go = x.next_go.max(now).saturating_add(gap);
                self.send_batch(attempt, rows, ctx);
            }
        }
        if let Some(w) = wake {
            if self.pace_at.is_none_or(|p| p > w || p < now) {
                self.pace_at = Some(w);
                ctx.timer_at(w, Timer::Bare(PACE));
            }
        }
    }

    fn send_batch(&mut self, attempt: u32, rows: u64, ctx: &mut Ctx) {
        let now = ctx.now();
        if now >= ctx.metrics.warmup {
            self.stats.batches += 1;
        }
        let demand = rows as f64 * self.spec.row_cost as f64;
        let class = match self.spec.source {
            Source::Replica => JOB_SCAN_REPLICA,
            _ => JOB_SCAN_PRIMARY,
        };
        let id = ctx.reqs.alloc(class, u32::MAX, now, demand);
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.internal = true;
            r.key = attempt;
            r.item = rows as u32;
        }
        match (self.spec.source, self.spec.database) {
            (Source::Snapshot, _) | (_, None) => {
                self.touch(now);
                if let Some(cpu) = &mut self.cpu {
                    cpu.start(id, now, demand, ctx);
                    cpu.reschedule(ctx);
                }
            }
            (_, Some(db)) => {
                if let Some(r) = ctx.reqs.get_mut(id) {
                    r.push_hop(ctx.me, 0);
                }
                let d = ctx.hop_delay(db, &mut self.rng);
                ctx.send(db, Msg::Request(id), d);
            }
        }
    }

    /// A batch came back (from the database or its own instance).
    fn batch_done(&mut self, id: ReqId, ctx: &mut Ctx) {
        let Some((attempt, rows, outcome)) = ctx
            .reqs
            .get(id)
            .map(|r| (r.key, u64::from(r.item), r.outcome))
        else {
            return;
        };
        ctx.reqs.free(id);
        let now = ctx.now();
        let Some(a) = self.active.iter().position(|x| x.attempt == attempt) else {
            return; // an attempt that already ended
        };
        let x = &mut self.active[a];
        x.in_flight -= 1;
        if outcome == Outcome::Ok {
            x.done += rows;
            self.win_rows += rows;
            if now >= ctx.metrics.warmup {
                self.stats.rows += rows;
            }
        } else {
            if now >= ctx.metrics.warmup {
                self.stats.batch_failures += 1;
            }
            if x.failing.is_none() {
                x.failing = Some(format!("a batch failed ({})", outcome.name()));
            }
        }
        self.settle(a, ctx);
        self.issue(ctx);
    }

    /// Ends attempt `a` if it is over: all rows read, or failed with nothing in flight.
    fn settle(&mut self, a: usize, ctx: &mut Ctx) {
        let x = &self.active[a];
        if x.in_flight > 0 {
            return;
        }
        if x.failing.is_none() && x.done < self.spec.rows {
            return;
        }
        let x = self.active.swap_remove(a);
        let now = ctx.now();
        let rec = x.record;
        self.records[rec].rows = x.done;
        match x.failing {
            None => self.end_run(rec, RunEnd::Succeeded, now, ctx),
            Some(why) => {
                let tries = self.records[rec].attempts;
                self.records[rec].why = Some(why.clone());
                if tries < self.spec.attempts && !self.stopped {
                    self.event(
                        now,
                        EventKind::JobRetried,
                        format!(
                            "run {} attempt {tries} failed: {why} after {} rows; trying again",
                            rec + 1,
                            count(x.done)
                        ),
                    );
                    self.begin_attempt(rec, ctx);
                } else {
                    self.end_run(rec, RunEnd::Failed, now, ctx);
                }
            }
        }
    }

    fn end_run(&mut self, rec: usize, end: RunEnd, now: Time, ctx: &mut Ctx) {
        let r = &mut self.records[rec];
        r.ended = Some(now);
        r.end = Some(end);
        let took = human(now - r.started);
        let text = match end {
            RunEnd::Succeeded => format!(
                "run {} succeeded after {took}: {} rows",
                rec + 1,
                count(r.rows)
            ),
            RunEnd::Failed => format!(
                "run {} failed after {took} and {} attempt{}: {}",
                rec + 1,
                r.attempts,
                if r.attempts == 1 { "" } else { "s" },
                r.why.as_deref().unwrap_or("failed")
            ),
        };
        ctx.metrics.job_ended_at(now);
        self.event(now, EventKind::JobEnded, text);
        if self.active.is_empty() {
            self.touch(now);
            self.up = false;
        }
    }

    /// Fails attempt number `attempt` (its timeout, a crash), if it is still going.
    fn fail_attempt(&mut self, attempt: Option<u32>, why: &str, ctx: &mut Ctx) {
        let ids: Vec<usize> = (0..self.active.len())
            .filter(|&a| attempt.is_none_or(|n| self.active[a].attempt == n))
            .collect();
        for a in ids.into_iter().rev() {
            let x = &mut self.active[a];
            if x.failing.is_none() {
                x.failing = Some(why.to_string());
            }
            // Its batches in flight are abandoned: their answers are dropped when they come.
            x.in_flight = 0;
            x.attempt = x.attempt.wrapping_add(0x8000_0000);
            self.settle(a, ctx);
        }
    }

    fn on_cpu(&mut self, epoch: u32, slot: u32, ctx: &mut Ctx) {
        let now = ctx.now();
        self.touch(now);
        let Some(cpu) = &mut self.cpu else {
            return;
        };
        let mut done = std::mem::take(&mut self.done_buf);
        match cpu.take_done(epoch, slot) {
            Done::Stale => {}
            Done::One(job) => done.push(job),
            Done::Shared => {
                while let Some(job) = cpu.pop_finished() {
                    done.push(job);
                }
            }
        }
        cpu.reschedule(ctx);
        for job in done.drain(..) {
            self.batch_done(job.req, ctx);
        }
        self.done_buf = done;
    }

    #[cold]
    fn control(&mut self, c: Control, ctx: &mut Ctx) {
        let now = ctx.now();
        match c {
            Control::Crash | Control::Stop => {
                if c == Control::Stop {
                    self.stopped = true;
                }
                self.touch(now);
                if let Some(cpu) = &mut self.cpu {
                    let held = cpu.drain(now);
                    for (job, _) in held {
                        ctx.reqs.free(job.req);
                    }
                    cpu.reschedule(ctx);
                }
                self.fail_attempt(None, "the job crashed", ctx);
            }
            Control::Hang => self.hung = true,
            Control::Slow(f) => {
                self.touch(now);
                if let Some(cpu) = &mut self.cpu {
                    cpu.set_pace(false, 1000.0 / f64::from(f.max(1)), ctx);
                    cpu.reschedule(ctx);
                }
            }
            Control::Recover => {
                self.stopped = false;
                self.hung = false;
                self.touch(now);
                if let Some(cpu) = &mut self.cpu {
                    cpu.set_pace(false, 1.0, ctx);
                    cpu.reschedule(ctx);
                }
                self.issue(ctx);
            }
            _ => {}
        }
    }

    /// The runs so far, in order.
    pub fn records(&self) -> &[RunRecord] {
        &self.records
    }
}

/// A count with thousands separators.
fn count(n: u64) -> String {
    crate::scenario::error::thousands(n)
}

impl Behaviour for Job {
    fn start(&mut self, ctx: &mut Ctx) {
        self.arm_fire(0, ctx);
    }

    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Response(id) => self.batch_done(id, ctx),
            Msg::Timer(Timer::Bare(FIRE)) => self.fire(ctx),
            Msg::Timer(Timer::Bare(PACE)) => {
                self.pace_at = None;
                self.issue(ctx);
            }
            Msg::Timer(Timer::Word(DEADLINE, attempt)) => {
                let t = self
                    .spec
                    .timeout
                    .map_or(String::new(), crate::scenario::units::format_duration);
                self.fail_attempt(Some(attempt), &format!("past its {t} timeout"), ctx);
            }
            Msg::Timer(Timer::Pair(CPU, epoch, slot)) => self.on_cpu(epoch, slot, ctx),
            Msg::Control(c) => self.control(c, ctx),
            Msg::Request(id) => {
                // Nobody calls a job; answer anything that arrives so it is not lost.
                if let Some(r) = ctx.reqs.get_mut(id) {
                    r.outcome = Outcome::Refused;
                }
                ctx.respond(id, &mut self.rng);
            }
            Msg::Timer(_) => {}
        }
    }

    fn reset_stats(&mut self, now: Time) {
        self.touch(now);
        self.stats = Stats::default();
        self.meter.reset();
    }

    fn billed(&mut self, now: Time) -> f64 {
        self.touch(now);
        self.meter.cost()
    }

    fn measured_cost(&mut self, now: Time, _measured: Time) -> f64 {
        self.touch(now);
        self.meter.since_reset().cost
    }

    fn timeline(&self) -> &[TimelineEvent] {
        &self.timeline
    }

    fn card(&mut self, now: Time, _measured: Time) -> Option<Card> {
        self.touch(now);
        let ended: Vec<&RunRecord> = self.records.iter().filter(|r| r.ended.is_some()).collect();
        let took: Vec<f64> = ended
            .iter()
            .map(|r| (r.ended.unwrap_or(now) - r.started) as f64 / SEC as f64)
            .collect();
        let succeeded = ended
            .iter()
            .filter(|r| r.end == Some(RunEnd::Succeeded))
            .count() as u64;
        let mean = (!took.is_empty()).then(|| took.iter().sum::<f64>() / took.len() as f64);
        let max = took.iter().copied().reduce(f64::max);
        let runs = self
            .records
            .iter()
            .map(|r| {
                let how = match r.end {
                    Some(RunEnd::Succeeded) => "succeeded".to_string(),
                    Some(RunEnd::Failed) => {
                        format!("failed: {}", r.why.as_deref().unwrap_or("failed"))
                    }
                    None => "still going".to_string(),
                };
                let until = r.ended.unwrap_or(now);
                (
                    r.started,
                    format!(
                        "{} for {} ({} attempt{}, {} rows): {how}",
                        schedule::clock(self.spec.offset + r.started),
                        human(until - r.started),
                        r.attempts,
                        if r.attempts == 1 { "" } else { "s" },
                        count(r.rows)
                    ),
                )
            })
            .collect();
        let mut fields = vec![
            ("schedule", Figure::Text(self.spec.schedule.describe())),
            ("read_from", Figure::Text(self.spec.source.name().into())),
            ("runs", Figure::Count(self.records.len() as u64)),
            ("succeeded", Figure::Count(succeeded)),
            ("failed", Figure::Count(ended.len() as u64 - succeeded)),
            (
                "running_at_end",
                Figure::Count(self.records.len() as u64 - ended.len() as u64),
            ),
            ("skipped", Figure::Count(self.stats.skipped)),
            (
                "attempts",
                Figure::Count(self.records.iter().map(|r| u64::from(r.attempts)).sum()),
            ),
            ("rows_read", Figure::Count(self.stats.rows)),
            ("batches", Figure::Count(self.stats.batches)),
            ("batch_failures", Figure::Count(self.stats.batch_failures)),
            ("duration_mean_s", Figure::Maybe(mean)),
            ("duration_max_s", Figure::Maybe(max)),
            ("run_list", Figure::Events(runs)),
        ];
        if self.cpu.is_some() {
            let m = self.meter.since_reset();
            let vcpus = self.spec.instance.map_or(1, |i| i.1).max(1);
            fields.push((
                "instance_hours",
                Figure::Value(m.capacity / f64::from(vcpus) / 3.6e12),
            ));
            fields.push(("cost", Figure::Value(m.cost)));
        }
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields,
        })
    }

    fn extra_gauges(&self) -> &'static [GaugeDecl] {
        &[
            GaugeDecl {
                name: "runs",
                title: "job runs going",
                unit: GaugeUnit::Count,
            },
            GaugeDecl {
                name: "rows_per_s",
                title: "rows read a second",
                unit: GaugeUnit::Count,
            },
        ]
    }

    fn sample_extra(&mut self, now: Time, out: &mut Vec<f64>) {
        self.touch(now);
        let span = now.saturating_sub(self.win_start) as f64 / SEC as f64;
        out.push(self.active.len() as f64);
        out.push(if span > 0.0 {
            self.win_rows as f64 / span
        } else {
            0.0
        });
        self.win_rows = 0;
        self.win_start = now;
        let (busy, cap) = self.meter.window();
        self.window_cpu = if cap > 0.0 { busy / cap } else { f64::NAN };
    }

    fn cpu_parts(&self) -> Vec<String> {
        if self.cpu.is_some() {
            vec!["instance".to_string()]
        } else {
            Vec::new()
        }
    }

    fn sample_parts(&mut self, out: &mut Vec<f64>) {
        out.push(self.window_cpu);
    }

    fn check_invariants(&self) {
        for x in &self.active {
            assert!(
                x.in_flight <= self.spec.concurrency,
                "{}: {} batches in flight, concurrency {}",
                self.name,
                x.in_flight,
                self.spec.concurrency
            );
            assert!(
                x.done <= x.issued && x.issued <= self.spec.rows,
                "{}: {} rows read of {} issued of {}",
                self.name,
                x.done,
                x.issued,
                self.spec.rows
            );
        }
    }
}

impl Kind for Job {
    type Config = JobConfig;
    type Spec = JobSpec;
    const WORDS: &'static str = "scheduled job";
    const ABOUT: &'static str =
        "A batch job on a schedule (cron, rate or once) that reads rows in batches from the database's primary, a replica, or a snapshot on its own instance; throttled, retried, timed out.";
    const SCHEMA_NAME: &'static str = "JobComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: false,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: false,
    };

    fn parse(table: toml::Table) -> Result<JobConfig, ParseError> {
        parse_table(table)
    }

    fn check(name: &str, g: &JobConfig, base: &[Seg], c: &mut Checker) -> Option<JobSpec> {
        let sp = at_key(base, "schedule");
        let schedule = match Schedule::parse(&g.schedule) {
            Ok(s) => Some(s),
            Err(e) => {
                c.err(
                    &sp,
                    e,
                    Some(format!("a schedule is written {}", schedule::FORMS)),
                );
                None
            }
        };
        let source = match g.read_from.as_deref().unwrap_or("primary") {
            "primary" => Some(Source::Primary),
            "replica" | "replicas" => Some(Source::Replica),
            "snapshot" => Some(Source::Snapshot),
            other => {
                c.err(
                    &at_key(base, "read_from"),
                    format!("a job reads from \"primary\", \"replica\" or \"snapshot\", found \"{other}\""),
                    Some("\"snapshot\" runs it on its own instance, off the database".into()),
                );
                None
            }
        };
        let database = match (&g.database, source) {
            (Some(db), _) => {
                let p = at_key(base, "database");
                match c.resolve(&p, db) {
                    Some(r) if r.kind == super::kinds::KindTag::Database => Some(r.id),
                    Some(r) => {
                        c.err(
                            &p,
                            format!("a job reads a database; \"{db}\" is a {}", r.kind.words()),
                            Some(
                                "add [components.NAME] with kind = \"database\" and name it here"
                                    .into(),
                            ),
                        );
                        None
                    }
                    None => None,
                }
            }
            (None, Some(Source::Primary | Source::Replica)) => {
                c.err(
                    base,
                    format!(
                        "a job that reads from the {} needs `database`",
                        g.read_from.as_deref().unwrap_or("primary")
                    ),
                    Some(
                        "add database = \"NAME\" (a kind = \"database\"), or read_from = \
                         \"snapshot\" to run it on its own instance"
                            .into(),
                    ),
                );
                None
            }
            (None, _) => None,
        };
        let instance = match (&g.instance, source) {
            (Some(_), Some(Source::Primary | Source::Replica)) => {
                c.err(
                    &at_key(base, "instance"),
                    "a job's own instance is for read_from = \"snapshot\"; reading the database, \
                     its batches run on the database's CPUs",
                    Some("leave `instance` out, or set read_from = \"snapshot\"".into()),
                );
                None
            }
            (i, Some(Source::Snapshot)) => {
                let name = i.as_deref().unwrap_or(DEFAULT_INSTANCE);
                match crate::model::catalog::lookup(name) {
                    Some(t) => Some((t.name, t.vcpus, t.price_per_hour)),
                    None => {
                        let names = crate::model::catalog::names();
                        let help = match crate::scenario::error::nearest(name, names.clone()) {
                            Some(n) => {
                                format!("did you mean \"{n}\"? known types: {}", names.join(", "))
                            }
                            None => format!("known types: {}", names.join(", ")),
                        };
                        c.err(
                            &at_key(base, "instance"),
                            format!("unknown instance type \"{name}\""),
                            Some(help),
                        );
                        None
                    }
                }
            }
            _ => None,
        };
        if !(1..=MAX_ROWS).contains(&g.rows) {
            c.err(
                &at_key(base, "rows"),
                format!(
                    "a run reads 1 to {} rows, found {}",
                    count(MAX_ROWS),
                    g.rows
                ),
                None,
            );
        }
        let batch_rows = g.batch_rows.unwrap_or(DEFAULT_BATCH_ROWS);
        if !(1..=u64::from(u32::MAX)).contains(&batch_rows) {
            c.err(
                &at_key(base, "batch_rows"),
                format!("a batch is 1 to 4,294,967,295 rows, found {batch_rows}"),
                None,
            );
        }
        let row_cost = g.row_cost.map_or(DEFAULT_ROW_COST, |d| d.0);
        if row_cost == 0 || row_cost > 10 * SEC {
            c.err(
                &at_key(base, "row_cost"),
                format!("a row costs 1ns to 10s of CPU, found {}", human(row_cost)),
                Some("a scan with a join and a group-by: a few µs to tens of µs a row".into()),
            );
        }
        // One batch's demand must stay a sane span of time.
        if batch_rows.saturating_mul(row_cost) > 24 * 3600 * SEC {
            c.err(
                &at_key(base, "batch_rows"),
                format!(
                    "one batch would take {} of CPU (batch_rows × row_cost); keep it under a day",
                    human(batch_rows.saturating_mul(row_cost))
                ),
                Some("use smaller batches".into()),
            );
        }
        let concurrency = g.concurrency.unwrap_or(1);
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            c.err(
                &at_key(base, "concurrency"),
                format!("a job runs 1 to {MAX_CONCURRENCY} batches at once, found {concurrency}"),
                None,
            );
        }
        let throttle = g.throttle.map(|r| r.0);
        if let Some(r) = throttle {
            if !(r.is_finite() && r >= 1e-3) {
                c.err(
                    &at_key(base, "throttle"),
                    format!("a throttle is a positive rate of rows, found {}", number(r)),
                    Some("e.g. throttle = \"20000/s\"".into()),
                );
            }
        }
        let timeout = g.timeout.map(|d| d.0);
        if timeout == Some(0) {
            c.err(
                &at_key(base, "timeout"),
                "a timeout of 0s fails every attempt at once",
                Some("leave it out for no timeout".into()),
            );
        }
        let attempts = g.attempts.unwrap_or(1);
        if !(1..=MAX_ATTEMPTS).contains(&attempts) {
            c.err(
                &at_key(base, "attempts"),
                format!("a run makes 1 to {MAX_ATTEMPTS} attempts, found {attempts}"),
                Some("AWS Batch allows 1 to 10".into()),
            );
        }
        let overlap = match g.overlap.as_deref().unwrap_or("skip") {
            "skip" => false,
            "allow" => true,
            other => {
                c.err(
                    &at_key(base, "overlap"),
                    format!("overlap is \"skip\" or \"allow\", found \"{other}\""),
                    None,
                );
                false
            }
        };
        let offset = (c.start_hour * 3600e9).round() as Time;
        let schedule = schedule?;
        if schedule.next_at(0, offset).is_none_or(|t| t >= c.duration) && c.duration > 0 {
            c.notes.push(format!(
                "components.{name}: its schedule ({}) does not fire within the run ({} starting \
                 at {}); set workload.start_hour or the schedule",
                schedule.describe(),
                human(c.duration),
                schedule::clock(offset)
            ));
        }
        Some(JobSpec {
            schedule,
            offset,
            enabled: true,
            end: c.duration,
            rows: g.rows.clamp(1, MAX_ROWS),
            batch_rows: batch_rows.clamp(1, u64::from(u32::MAX)),
            row_cost: row_cost.clamp(1, 10 * SEC),
            source: source?,
            database,
            instance,
            concurrency: concurrency.clamp(1, MAX_CONCURRENCY),
            throttle: throttle.filter(|r| r.is_finite() && *r >= 1e-3),
            timeout: timeout.filter(|&t| t > 0),
            attempts: attempts.clamp(1, MAX_ATTEMPTS),
            overlap,
        })
    }

    fn build(name: &str, spec: JobSpec, seed: u64) -> Self {
        let cpu = spec
            .instance
            .map(|(_, vcpus, _)| Cpu::new(vcpus, spec.concurrency, CPU));
        Job {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("job/{name}")),
            active: Vec::new(),
            records: Vec::new(),
            next_attempt: 0,
            stopped: false,
            hung: false,
            pace_at: None,
            stats: Stats::default(),
            cpu,
            meter: Meter::new(spec.instance.map_or(0.0, |i| i.2)),
            up: false,
            win_rows: 0,
            win_start: 0,
            window_cpu: f64::NAN,
            timeline: Vec::new(),
            done_buf: Vec::new(),
            spec,
        }
    }

    fn describe(g: &JobSpec, cx: &DescribeCtx) -> Description {
        let from = match (g.source, g.database) {
            (Source::Snapshot, _) | (_, None) => {
                let (t, v, p) = g.instance.unwrap_or((DEFAULT_INSTANCE, 4, 0.0));
                let of = g
                    .database
                    .map_or(String::new(), |db| format!(" of {}", (cx.name_of)(db)));
                format!("a snapshot{of} on its own {t} ({v} vCPU, ${p}/h while it runs)")
            }
            (Source::Primary, Some(db)) => format!("{}'s primary", (cx.name_of)(db)),
            (Source::Replica, Some(db)) => format!("a read replica of {}", (cx.name_of)(db)),
        };
        let pace = match g.throttle {
            Some(r) => format!(", at most {} rows/s", number(r)),
            None => String::new(),
        };
        let per_batch = g.batch_rows.saturating_mul(g.row_cost);
        Description {
            detail: format!(
                "{}: {} rows from {from} in batches of {} ({} of CPU each), {} at once{pace}{}",
                g.schedule.describe(),
                count(g.rows),
                count(g.batch_rows),
                human(per_batch.max(MS / 1000)),
                g.concurrency,
                if g.enabled {
                    ""
                } else {
                    " (not run in steady state)"
                }
            ),
            shape: Shape::Box,
            routes: g
                .database
                .filter(|_| g.source != Source::Snapshot)
                .map(|db| Route {
                    to: db,
                    role: RouteRole::Forward,
                })
                .into_iter()
                .collect(),
            looked_up: false,
        }
    }

    fn steady_state(spec: &mut JobSpec) {
        // A nightly job is a one-off event, like a fault: the journey's steady load has none.
        spec.enabled = false;
    }

    fn footprint(g: &JobSpec, _mean_work: f64) -> Footprint {
        // Per batch: its send, its completion and its answer; a run of `rows` at most once per
        // firing. Upper bound: a run every minute.
        let batches = g.rows.div_ceil(g.batch_rows) as f64;
        let per_s = if g.enabled { batches * 3.0 / 60.0 } else { 0.0 };
        Footprint {
            events_per_request: 0.0,
            background_per_s: per_s.min(1e6),
            capacity_per_s: f64::INFINITY,
            holds: f64::from(g.concurrency),
            bytes: 2048.0,
        }
    }
}

/// summary.md's "Scheduled jobs" section: each job's runs (from the cards) and live latency
/// while a run was going against the rest of the measured period. Empty without jobs.
pub fn summary_section(
    cards: &[(&'static str, Card)],
    split: Option<&crate::metrics::JobSplit>,
    warmup: Time,
    measured: Time,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for (kind, card) in cards {
        if *kind != "job" {
            continue;
        }
        if s.is_empty() {
            s.push_str("\n## Scheduled jobs\n\n");
        }
        let runs: Vec<&str> = card
            .events("run_list")
            .unwrap_or_default()
            .iter()
            .map(|(_, w)| w.as_str())
            .collect();
        let from = match card.text("read_from") {
            Some("primary") => "reads the database's primary",
            Some("replica") => "reads a read replica",
            _ => "reads a snapshot on its own instance",
        };
        let _ = writeln!(
            s,
            "- **{}** ({}, {from}): {}",
            card.name,
            card.text("schedule").unwrap_or_default(),
            match runs.len() {
                0 => "no run in this period.".to_string(),
                1 => format!("1 run — {}.", runs[0]),
                n => format!("{n} runs — {}.", runs.join("; ")),
            }
        );
    }
    let Some(j) = split else {
        return s;
    };
    if s.is_empty() {
        return s;
    }
    let during = j.during_until(warmup + measured, warmup);
    let (d, o) = (&j.during, &j.outside);
    let p99 = |x: &crate::metrics::SplitStats| x.quantile_ms(0.99);
    let ms = |v: Option<f64>| v.map_or("—".to_string(), |x| human((x * 1e6) as Time));
    if d.total() == 0 {
        let _ = writeln!(
            s,
            "\nNo job ran during the measured period, so live traffic never shared with one."
        );
        return s;
    }
    let _ = writeln!(
        s,
        "\nLive requests while a job ran ({} of the measured {}): p99 {}, {:.2} % failed ({} \
         requests). The rest of the time: p99 {}, {:.2} % failed ({} requests).",
        human(during),
        human(measured),
        ms(p99(d)),
        d.error_rate() * 100.0,
        crate::scenario::error::thousands(d.total()),
        ms(p99(o)),
        o.error_rate() * 100.0,
        crate::scenario::error::thousands(o.total()),
    );
    if let (Some(a), Some(b)) = (p99(d), p99(o)) {
        let r = a / b.max(1e-9);
        let verdict = if r >= 1.5 || d.error_rate() > o.error_rate() + 0.01 {
            format!(
                "**Live p99 was {r:.1}× worse while the job ran**: it competes with the pages for \
                 the same capacity. The fixes give it capacity of its own or keep it from taking \
                 everyone else's: read a replica, throttle it (rows per second), or run it on \
                 its own compute (chapter 7's variants)."
            )
        } else if r >= 1.15 {
            format!("Live p99 was {r:.1}× the rest of the run's while the job ran: a small bump.")
        } else {
            "Live traffic did not notice the job: the p99 while it ran is within 15 % of the \
             rest of the run's."
                .to_string()
        };
        let _ = writeln!(s, "\n{verdict}");
    }
    s
}
