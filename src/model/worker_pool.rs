//! A pool of workers consuming a [`super::queue`]: each worker long-polls for up to `batch`
//! messages, processes them one after another (a sampled service time, then the calls of its
//! `[[components.NAME.calls]]` plan for the message's path — a payment provider, say), and
//! answers each delivery: success deletes the message, a failure leaves it undeleted, so it
//! reappears after its visibility timeout and is retried, and after `max_receive_count`
//! receives moves to the dead-letter queue.
//!
//! ```text
//!   worker ──receive (≤ batch, wait ≤ 20 s)──▶ queue
//!     ▲  ◀──── deliveries (messages now in flight) ───┘
//!     └─ per message: service time → calls (payment, ...) → delete (ok) / leave (failed)
//! ```
//!
//! The pool is fixed (`workers`) or scales on the backlog per worker, the standard pattern for
//! queue consumers (target tracking on ApproximateNumberOfMessagesVisible ÷ workers,
//! docs/semantics.md §6): every `interval` it sets the workers to ⌈backlog ÷ target⌉ within
//! [min, max], at most once per `cooldown` in each direction. Its view of the backlog is the depth
//! the queue reported with the last receive's answer (SQS's counts are approximate too). A `slow`
//! fault slows every worker; `stop` and `hang` stop the polling until `recover`.

use super::dist::{Dist, DistConfig};
use super::fanout::{check_plans, Done, Fanout, PlanConfig, Plans};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    GaugeDecl, GaugeUnit, Kind, ParseError, Route, RouteRole, Section, Shape, Wiring,
};
use super::request::{Outcome, ReqId};
use super::{Code, CompId, Control, Ctx, Msg, Timer, Zone, CALL_TIMEOUT};
use crate::engine::time::{human, Time, SEC};
use crate::engine::RngStream;
use crate::scenario::error::{number, Seg};
use crate::scenario::units::Duration;
use crate::scenario::validate::{at_key, Checker};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A message's service time is over (payload: the delivery).
const WORK_DONE: Code = Code(0);
/// The scaling policy looks at the backlog.
const SCALE: Code = Code(1);

/// Default long-poll wait: 20 s, the longest SQS allows (§6).
pub const DEFAULT_WAIT: Time = 20 * SEC;
/// Default batch: 1 message per receive (SQS's MaxNumberOfMessages default, §6).
pub const DEFAULT_BATCH: u32 = 1;
/// Default scaling interval: 60 s (a model figure: CloudWatch's standard resolution).
pub const DEFAULT_INTERVAL: Time = 60 * SEC;
/// Default scaling cooldown: 60 s (a model figure).
pub const DEFAULT_COOLDOWN: Time = 60 * SEC;
/// Most workers in a pool.
pub const MAX_WORKERS: u32 = 10_000;

/// `[components.NAME] kind = "worker_pool"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkerPoolConfig {
    /// The queue (a `kind = "queue"`) its workers receive from.
    pub queue: String,
    /// Time to process one message before its calls, e.g. { dist = "lognormal", mean = "50ms",
    /// cv = 1 }.
    pub service: DistConfig,
    /// Workers, fixed. Default 1 (or `min` when scaling).
    pub workers: Option<u32>,
    /// Fewest workers when it scales on backlog. Default 1.
    pub min: Option<u32>,
    /// Most workers when it scales on backlog (giving `max` turns scaling on). Default: fixed.
    pub max: Option<u32>,
    /// Messages waiting per worker the scaling aims at. Default 10 (a model figure).
    pub target_backlog: Option<f64>,
    /// How often the scaling looks. Default "60s" (a model figure).
    pub interval: Option<Duration>,
    /// Least time between two changes of the worker count. Default "60s" (a model figure).
    pub cooldown: Option<Duration>,
    /// Messages one receive asks for, 1 to 10; a worker processes them one after another, and
    /// all are invisible from the receive on. Default 1 (SQS's MaxNumberOfMessages, §6).
    pub batch: Option<u32>,
    /// How long a receive waits for a message (long polling), 1s to 20s. Default "20s" (§6;
    /// SQS's own default, 0 — short polling — would make an idle worker poll without pause).
    pub wait: Option<Duration>,
    /// What processing a message of a path does after its own work: calls to other components
    /// (`[[components.NAME.calls]]`, as a server's). A failed call fails the processing: the
    /// message is not deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<PlanConfig>,
}

/// A worker pool after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerPoolSpec {
    /// The queue.
    pub queue: CompId,
    /// Service time.
    pub service: DistConfig,
    /// Workers at the start.
    pub workers: u32,
    /// Scaling: (min, max, target backlog per worker, interval, cooldown), if it scales.
    pub scaling: Option<(u32, u32, f64, Time, Time)>,
    /// Messages per receive.
    pub batch: u32,
    /// Long-poll wait.
    pub wait: Time,
    /// Calls by message class.
    pub calls: Plans,
}

/// Counters of a worker pool (since the warm-up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolStats {
    /// Messages it started processing.
    pub started: u64,
    /// Processed successfully (deleted).
    pub succeeded: u64,
    /// Failed (left to the visibility timeout).
    pub failed: u64,
    /// Receives it made.
    pub polls: u64,
    /// Changes of its worker count.
    pub scalings: u64,
}

/// One worker.
#[derive(Clone, Debug, Default)]
struct Worker {
    /// Deliveries received and not yet started (a batch), oldest first.
    buf: VecDeque<ReqId>,
    /// Processing one.
    busy: bool,
    /// A receive is out.
    polling: bool,
}

/// A worker pool component.
pub struct WorkerPool {
    name: String,
    spec: WorkerPoolSpec,
    rng: RngStream,
    service: Dist,
    workers: Vec<Worker>,
    /// Workers in service (index < active polls; the others finish what they hold and stop).
    active: u32,
    stopped: bool,
    pace: u32,
    fanout: Fanout,
    /// The queue's depth as its last answer reported it.
    backlog: u64,
    last_change: Option<Time>,
    stats: PoolStats,
    /// Busy worker-ns this window and when it started.
    busy_since: Vec<Time>,
    window_busy: f64,
    window_start: Time,
    timeline: Vec<super::kit::TimelineEvent>,
}

impl WorkerPool {
    fn poll(&mut self, w: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        let worker = &mut self.workers[w];
        if worker.polling || worker.busy || !worker.buf.is_empty() {
            return;
        }
        worker.polling = true;
        self.stats.polls += 1;
        let id = ctx.reqs.alloc(0, u32::MAX, now, 1.0);
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.internal = true;
            r.poll = self.spec.batch as u8;
            r.key = w as u32;
            r.item = (self.spec.wait / crate::engine::time::MS) as u32;
            r.push_hop(ctx.me, 0);
        }
        let d = ctx.hop_delay(self.spec.queue, &mut self.rng);
        ctx.send(self.spec.queue, Msg::Request(id), d);
    }

    /// Worker `w` starts its next message, or polls.
    fn next(&mut self, w: usize, ctx: &mut Ctx) {
        if self.workers[w].busy {
            return;
        }
        if let Some(d) = self.workers[w].buf.pop_front() {
            self.workers[w].busy = true;
            self.busy_since[w] = ctx.now();
            self.stats.started += 1;
            let t = self
                .service
                .sample_scaled(&mut self.rng, f64::from(self.pace) / 1e3);
            ctx.timer(t, Timer::Req(WORK_DONE, d));
        } else if (w as u32) < self.active && !self.stopped {
            self.poll(w, ctx);
        }
    }

    fn worker_of(ctx: &Ctx, id: ReqId) -> Option<usize> {
        ctx.reqs.get(id).map(|r| r.key as usize)
    }

    fn work_done(&mut self, d: ReqId, ctx: &mut Ctx) {
        let Some(class) = ctx.reqs.get(d).map(|r| r.class) else {
            return;
        };
        match self.spec.calls.for_class(class) {
            Some(plan) => {
                let p = &self.spec.calls.plans[plan as usize];
                if let Some(done) = self.fanout.begin(d, plan, p, ctx, &mut self.rng) {
                    self.finish(done, ctx);
                }
            }
            None => self.finish(
                Done {
                    parent: d,
                    outcome: Outcome::Ok,
                },
                ctx,
            ),
        }
    }

    /// A message's processing is over: answer the delivery (delete or leave it), take the next.
    fn finish(&mut self, done: Done, ctx: &mut Ctx) {
        let now = ctx.now();
        let Some(w) = Self::worker_of(ctx, done.parent) else {
            return;
        };
        if done.outcome == Outcome::Ok {
            self.stats.succeeded += 1;
        } else {
            self.stats.failed += 1;
        }
        if let Some(r) = ctx.reqs.get_mut(done.parent) {
            r.outcome = done.outcome;
        }
        ctx.respond(done.parent, &mut self.rng);
        if let Some(worker) = self.workers.get_mut(w) {
            worker.busy = false;
            self.window_busy +=
                now.saturating_sub(self.busy_since[w].max(self.window_start)) as f64;
            self.next(w, ctx);
        }
    }

    fn on_request(&mut self, d: ReqId, ctx: &mut Ctx) {
        let Some(w) = Self::worker_of(ctx, d) else {
            return;
        };
        let Some(worker) = self.workers.get_mut(w) else {
            return;
        };
        worker.buf.push_back(d);
        self.next(w, ctx);
    }

    fn on_poll_answer(&mut self, id: ReqId, ctx: &mut Ctx) {
        let Some(r) = ctx.reqs.get_mut(id) else {
            return;
        };
        let (w, depth) = (r.key as usize, u64::from(r.item));
        ctx.reqs.free(id);
        self.backlog = depth;
        if let Some(worker) = self.workers.get_mut(w) {
            worker.polling = false;
            self.next(w, ctx);
        }
    }

    fn set_active(&mut self, n: u32, ctx: &mut Ctx) {
        let old = self.active;
        self.active = n;
        if n > old {
            for w in old..n {
                self.next(w as usize, ctx);
            }
        }
    }

    #[cold]
    fn scale(&mut self, ctx: &mut Ctx) {
        let Some((min, max, target, interval, cooldown)) = self.spec.scaling else {
            return;
        };
        let now = ctx.now();
        ctx.timer(interval, Timer::Bare(SCALE));
        // Backlog per worker: what waits, shared by the workers (target tracking).
        let want = ((self.backlog as f64 / target).ceil() as u32).clamp(min, max);
        let cooled = self
            .last_change
            .is_none_or(|t| now.saturating_sub(t) >= cooldown);
        if want != self.active && cooled {
            self.stats.scalings += 1;
            self.last_change = Some(now);
            self.timeline.push(super::kit::TimelineEvent::new(
                now,
                super::kit::EventKind::Scaling,
                &self.name,
                format!(
                    "workers {} → {want} (backlog {} messages, target {} per worker)",
                    self.active,
                    self.backlog,
                    number(target)
                ),
            ));
            self.set_active(want, ctx);
        }
    }

    #[cold]
    fn control(&mut self, c: Control, ctx: &mut Ctx) {
        match c {
            Control::Slow(f) => self.pace = f.max(1),
            Control::Stop | Control::Hang => self.stopped = true,
            Control::Recover => {
                self.pace = 1000;
                self.stopped = false;
                for w in 0..self.active {
                    self.next(w as usize, ctx);
                }
            }
            _ => {}
        }
    }
}

impl Behaviour for WorkerPool {
    fn start(&mut self, ctx: &mut Ctx) {
        for w in 0..self.active {
            self.next(w as usize, ctx);
        }
        if let Some((_, _, _, interval, _)) = self.spec.scaling {
            ctx.timer(interval, Timer::Bare(SCALE));
        }
    }

    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Request(d) => self.on_request(d, ctx),
            Msg::Response(id) if Fanout::is_call(ctx, id) => {
                if let Some(d) =
                    self.fanout
                        .on_response(id, &self.spec.calls.plans, ctx, &mut self.rng)
                {
                    self.finish(d, ctx);
                }
            }
            Msg::Response(id) => self.on_poll_answer(id, ctx),
            Msg::Timer(Timer::Req(WORK_DONE, d)) => self.work_done(d, ctx),
            Msg::Timer(Timer::Req(CALL_TIMEOUT, id)) => {
                if let Some(d) =
                    self.fanout
                        .on_timeout(id, &self.spec.calls.plans, ctx, &mut self.rng)
                {
                    self.finish(d, ctx);
                }
            }
            Msg::Timer(Timer::Bare(SCALE)) => self.scale(ctx),
            Msg::Control(c) => self.control(c, ctx),
            Msg::Timer(_) => {}
        }
    }

    fn reset_stats(&mut self, _now: Time) {
        self.stats = PoolStats::default();
    }

    fn timeline(&self) -> &[super::kit::TimelineEvent] {
        &self.timeline
    }

    fn card(&mut self, _now: Time, _measured: Time) -> Option<Card> {
        let s = &self.stats;
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("started", Figure::Count(s.started)),
                ("succeeded", Figure::Count(s.succeeded)),
                ("failed", Figure::Count(s.failed)),
                ("polls", Figure::Count(s.polls)),
                ("workers", Figure::Count(u64::from(self.active))),
                ("scalings", Figure::Count(s.scalings)),
                ("calls", Figure::Count(self.fanout.calls)),
                ("call_failures", Figure::Count(self.fanout.failures)),
                ("call_timeouts", Figure::Count(self.fanout.timeouts)),
            ],
        })
    }

    fn extra_gauges(&self) -> &'static [GaugeDecl] {
        &[
            GaugeDecl {
                name: "workers",
                title: "workers",
                unit: GaugeUnit::Count,
            },
            GaugeDecl {
                name: "busy",
                title: "share of workers busy",
                unit: GaugeUnit::Ratio,
            },
        ]
    }

    fn sample_extra(&mut self, now: Time, out: &mut Vec<f64>) {
        let mut busy = self.window_busy;
        for (w, worker) in self.workers.iter().enumerate() {
            if worker.busy {
                busy += now.saturating_sub(self.busy_since[w].max(self.window_start)) as f64;
            }
        }
        let span = now.saturating_sub(self.window_start) as f64 * f64::from(self.active.max(1));
        out.push(f64::from(self.active));
        out.push(if span > 0.0 {
            (busy / span).min(1.0)
        } else {
            0.0
        });
        self.window_busy = 0.0;
        self.window_start = now;
    }

    fn check_invariants(&self) {
        let held: usize = self.workers.iter().map(|w| w.buf.len()).sum();
        assert!(
            held <= self.workers.len() * self.spec.batch as usize,
            "{}: {held} messages held by workers taking {} at a time",
            self.name,
            self.spec.batch
        );
    }
}

impl Kind for WorkerPool {
    type Config = WorkerPoolConfig;
    type Spec = WorkerPoolSpec;
    const WORDS: &'static str = "worker pool";
    const ABOUT: &'static str =
        "Workers that long-poll a queue, process each message (service time, then calls) and delete it; fixed or scaled on backlog per worker.";
    const SCHEMA_NAME: &'static str = "WorkerPoolComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: false,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: false,
    };

    fn parse(table: toml::Table) -> Result<WorkerPoolConfig, ParseError> {
        parse_table(table)
    }

    fn check(
        name: &str,
        g: &WorkerPoolConfig,
        base: &[Seg],
        c: &mut Checker,
    ) -> Option<WorkerPoolSpec> {
        let qp = at_key(base, "queue");
        let queue = match c.resolve(&qp, &g.queue) {
            Some(r) if r.kind == super::kinds::KindTag::Queue => Some(r.id),
            Some(r) => {
                c.err(
                    &qp,
                    format!(
                        "a worker pool receives from a queue; \"{}\" is a {}",
                        g.queue,
                        r.kind.words()
                    ),
                    Some("add [components.NAME] with kind = \"queue\" and name it here".into()),
                );
                None
            }
            None => None,
        };
        c.dist(&at_key(base, "service"), &g.service, true);
        let batch = g.batch.unwrap_or(DEFAULT_BATCH);
        if !(1..=10).contains(&batch) {
            c.err(
                &at_key(base, "batch"),
                format!("a receive takes 1 to 10 messages, found {batch}"),
                Some("SQS's MaxNumberOfMessages is at most 10".into()),
            );
        }
        let wait = g.wait.map_or(DEFAULT_WAIT, |d| d.0);
        if !(SEC..=20 * SEC).contains(&wait) {
            c.err(
                &at_key(base, "wait"),
                format!("a long poll waits 1s to 20s, found {}", human(wait)),
                Some("20s is the longest SQS allows and what consumers use".into()),
            );
        }
        let scales = g.max.is_some();
        if scales && g.workers.is_some() {
            c.err(
                &at_key(base, "workers"),
                "`workers` fixes the pool's size, and `max` makes it scale",
                Some("give either workers = N, or min/max/target_backlog".into()),
            );
        }
        if !scales {
            for k in ["min", "target_backlog", "interval", "cooldown"] {
                let given = match k {
                    "min" => g.min.is_some(),
                    "target_backlog" => g.target_backlog.is_some(),
                    "interval" => g.interval.is_some(),
                    _ => g.cooldown.is_some(),
                };
                if given {
                    c.err(
                        &at_key(base, k),
                        format!(
                            "`{k}` is a scaling setting, and the pool does not scale (no `max`)"
                        ),
                        Some("add max = N to scale on backlog, or leave it out".into()),
                    );
                }
            }
        }
        let workers = g.workers.unwrap_or(1);
        if !(1..=MAX_WORKERS).contains(&workers) {
            c.err(
                &at_key(base, "workers"),
                format!("a pool has 1 to {MAX_WORKERS} workers, found {workers}"),
                None,
            );
        }
        let min = g.min.unwrap_or(1);
        let max = g.max.unwrap_or(workers);
        if scales && !(1..=MAX_WORKERS).contains(&max) {
            c.err(
                &at_key(base, "max"),
                format!("a pool has 1 to {MAX_WORKERS} workers, found {max}"),
                None,
            );
        }
        if scales && (min == 0 || min > max) {
            c.err(
                &at_key(base, "min"),
                format!("min must be 1 to max ({max}), found {min}"),
                None,
            );
        }
        let target = g.target_backlog.unwrap_or(10.0);
        if !(target.is_finite() && (0.1..=1e6).contains(&target)) {
            c.err(
                &at_key(base, "target_backlog"),
                format!(
                    "the target backlog per worker is 0.1 to 1000000 messages, found {}",
                    number(target)
                ),
                None,
            );
        }
        let interval = g.interval.map_or(DEFAULT_INTERVAL, |d| d.0);
        if interval < SEC {
            c.err(
                &at_key(base, "interval"),
                format!(
                    "the scaling looks at most once a second, found {}",
                    human(interval)
                ),
                None,
            );
        }
        let cooldown = g.cooldown.map_or(DEFAULT_COOLDOWN, |d| d.0);
        let calls = check_plans(c, base, name, &g.calls);
        let queue = queue?;
        let max = max.clamp(1, MAX_WORKERS);
        let min = min.clamp(1, max);
        Some(WorkerPoolSpec {
            queue,
            service: g.service.clone(),
            workers: if scales {
                min
            } else {
                workers.clamp(1, MAX_WORKERS)
            },
            scaling: scales.then_some((min, max, target.max(0.1), interval.max(SEC), cooldown)),
            batch: batch.clamp(1, 10),
            wait: wait.clamp(SEC, 20 * SEC),
            calls,
        })
    }

    fn build(name: &str, spec: WorkerPoolSpec, seed: u64) -> Self {
        let n = spec.scaling.map_or(spec.workers, |s| s.1) as usize;
        WorkerPool {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("worker_pool/{name}")),
            service: spec.service.sampler(),
            workers: (0..n)
                .map(|_| Worker {
                    buf: VecDeque::with_capacity(spec.batch as usize),
                    ..Worker::default()
                })
                .collect(),
            active: spec.workers,
            stopped: false,
            pace: 1000,
            fanout: Fanout::with_breakers(&spec.calls.breakers),
            backlog: 0,
            last_change: None,
            stats: PoolStats::default(),
            busy_since: vec![0; n],
            window_busy: 0.0,
            window_start: 0,
            timeline: Vec::new(),
            spec,
        }
    }

    fn describe(g: &WorkerPoolSpec, cx: &DescribeCtx) -> Description {
        let size = match g.scaling {
            Some((min, max, _, _, _)) if min == max => format!("{max} workers"),
            Some((min, max, target, _, _)) => format!(
                "{min}–{max} workers scaled on backlog ({} per worker)",
                number(target)
            ),
            None => format!("{} workers", g.workers),
        };
        let mut routes = vec![Route {
            to: g.queue,
            role: RouteRole::Forward,
        }];
        routes.extend(g.calls.routes());
        let calls = if g.calls.is_empty() {
            String::new()
        } else {
            format!("; calls {}", g.calls.describe(cx.name_of))
        };
        Description {
            detail: format!(
                "{size} receiving from {} (batch {}, wait {}), {} per message{calls}",
                (cx.name_of)(g.queue),
                g.batch,
                human(g.wait),
                g.service.describe()
            ),
            shape: Shape::Stack,
            routes,
            looked_up: false,
        }
    }

    fn footprint(g: &WorkerPoolSpec, _mean_work: f64) -> Footprint {
        let max = g.scaling.map_or(g.workers, |s| s.1);
        let mean = (g.service.mean() / SEC as f64).max(1e-6);
        // Per message its events are the queue's (a message costs the queue's
        // `events_per_request`, which counts the consumer's side); on its own an idle worker
        // polls once a wait (the receive and its answer), and the scaling looks once an interval.
        let scaling = g.scaling.map_or(0.0, |s| SEC as f64 / s.3 as f64);
        Footprint {
            events_per_request: 0.0,
            background_per_s: 2.0 * f64::from(max) * SEC as f64 / g.wait as f64 + scaling,
            capacity_per_s: f64::from(max) / mean,
            holds: f64::from(max * g.batch),
            bytes: 1024.0 + 64.0 * f64::from(max),
        }
    }
}
