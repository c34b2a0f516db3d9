//! A server: an instance type (vCPUs, memory, price), a pool of workers sharing the vCPUs, a
//! bounded accept backlog, memory per request with an out-of-memory crash, a restart delay, and
//! scheduled vertical resizes that cost a stop/start downtime.
//!
//! CPU model: up to `workers` requests run at once and share the vCPUs by processor sharing —
//! each runs at full speed while there are no more of them than vCPUs, and at `vcpus / n` speed
//! beyond. With `workers ≤ vcpus` this is exactly an M/G/c queue (the validation scenarios rely
//! on it). Processor sharing is simulated exactly with a virtual clock: a request finishes when
//! the work done per request since it started reaches its demand, and only the earliest finish
//! is ever on the event queue.
//!
//! When no more requests can run than there are vCPUs (`workers ≤ vcpus`) and the server is not
//! hung, every request runs at the same constant speed from start to finish, so its finish time
//! is known the moment it starts. Then the server skips the virtual clock and its own job heap:
//! each request gets its own completion timer on the engine's queue ("direct" mode). A fault
//! that changes the speed (slow, hang, recover) re-times the jobs in flight and switches mode.

use super::catalog::InstanceType;
use super::cpu::{Cpu, Done, Job};
use super::dist::{Dist, DistConfig};
use super::fanout::{check_plans, Fanout, PlanConfig, Plans};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, EventKind, Figure,
    Footprint, GaugeSum, Kind, ParseError, QueueFigures, Section, Shape, TierFlow, TimelineEvent,
    Wiring,
};
use super::meter::Meter;
use super::request::{Outcome, ReqId};
use super::{catalog, Code, Control, Ctx, Msg, Timer, Zone, CALL_TIMEOUT};
use crate::engine::time::human;
use crate::scenario::error::{nearest, Seg};
use crate::scenario::units::format_bytes;
use crate::scenario::validate::context::k;
use crate::scenario::validate::Checker;
use std::fmt::Write;

/// A completion is due (payload: schedule epoch, to drop stale timers, and the job's slot).
const SERVICE_DONE: Code = Code(0);
/// Back up after a crash (payload: the outage's epoch).
const RESTART: Code = Code(1);
/// A scheduled resize starts (payload: index into the resize list).
const RESIZE: Code = Code(2);
/// Booted (payload: the launch's epoch).
const BOOT_DONE: Code = Code(3);
use crate::engine::time::{Time, SEC};
use crate::engine::RngStream;
use crate::scenario::units::{Bytes, Duration, Price};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// `[components.NAME] kind = "server"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Instance type from the built-in catalog (e.g. "c5.large").
    pub instance: Option<String>,
    /// vCPUs, overriding the instance type's.
    pub vcpus: Option<u32>,
    /// Memory, overriding the instance type's.
    pub memory: Option<Bytes>,
    /// Price, overriding the instance type's.
    pub price: Option<Price>,
    /// Requests processed concurrently (thread/worker pool). Default 64.
    pub workers: Option<u32>,
    /// Accepted connections waiting for a worker; beyond it connections are refused.
    /// Default 511 (the listen backlog nginx and many servers default to).
    pub backlog: Option<u32>,
    /// CPU time one request needs on one vCPU.
    pub service: DistConfig,
    /// Memory the process uses with no requests. Default 256MiB.
    pub memory_base: Option<Bytes>,
    /// Memory each request in the server (running or queued) holds. Default 0B (no OOM).
    pub memory_per_request: Option<Bytes>,
    /// Time to come back after a crash (process restart + warm-up). Default 60s.
    pub restart: Option<Duration>,
    /// Scheduled vertical resizes: stop, change type, start.
    #[serde(default)]
    pub resize: Vec<ResizeConfig>,
    /// CPU time per request for TLS when this server terminates TLS itself (no balancer doing it).
    /// Default 0s.
    pub tls_cpu: Option<Duration>,
    /// What requests on a path do after their own work: calls to other components, in parallel
    /// or in sequence (`[[components.NAME.calls]]`). The request keeps its worker while it waits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<PlanConfig>,
    /// Load shedding: a request that waited in the backlog longer than this when a worker picks
    /// it up is answered 503 at once instead of being served (serve fewer, fast, rather than all,
    /// late: its client has likely given up). Default: serve whatever waited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_timeout: Option<Duration>,
}

/// `{ at = "45m", to = "c5.4xlarge", downtime = "4m" }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResizeConfig {
    /// When the stop begins.
    pub at: Duration,
    /// The new instance type.
    pub to: String,
    /// How long the instance is down (stop + start + app warm-up). Default 3m
    /// (docs/semantics.md §2: stop 30–60 s + start ≈30 s + app warm-up).
    pub downtime: Option<Duration>,
}

/// A server after validation: every default resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSpec {
    /// Instance type name ("custom" when vCPUs/memory are given directly).
    pub instance: String,
    /// vCPUs.
    pub vcpus: u32,
    /// Memory, bytes.
    pub memory: u64,
    /// $/hour.
    pub price_per_hour: f64,
    /// Worker pool size.
    pub workers: u32,
    /// Backlog capacity.
    pub backlog: u32,
    /// Service demand.
    pub service: DistConfig,
    /// Base memory, bytes.
    pub memory_base: u64,
    /// Memory per request, bytes.
    pub memory_per_request: u64,
    /// Restart delay.
    pub restart: Time,
    /// Resizes: (at, new type, downtime).
    pub resizes: Vec<(Time, InstanceType, Time)>,
    /// TLS CPU per request unless a balancer terminated TLS.
    pub tls_cpu: Time,
    /// Boot time when launched by a fleet.
    pub boot_time: Time,
    /// Availability zone index.
    pub az: u8,
    /// Runs from time zero (a standalone server) or waits for a fleet's `Launch`.
    pub starts_up: bool,
    /// A slot of an autoscaling group: publishes its load (CloudWatch-style) for the group.
    pub in_fleet: bool,
    /// The calls requests make after their own work, by class.
    pub calls: Plans,
    /// Shed (answer 503) a request that waited longer than this for a worker.
    pub queue_timeout: Option<Time>,
}

/// Counters a server keeps (reset at warm-up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerStats {
    /// Since when these counters run.
    pub since: Time,
    /// Requests that arrived.
    pub arrivals: u64,
    /// Requests served to completion.
    pub completed: u64,
    /// Requests refused (backlog full or down).
    pub refused: u64,
    /// Requests reset by a crash or stop.
    pub reset: u64,
    /// Sum over completed requests of time spent waiting for a worker (ns).
    pub wait_sum: f64,
    /// Sum over completed requests of time in the server (ns).
    pub sojourn_sum: f64,
    /// Sum over requests reset by a crash or stop of the time they were held (ns). With
    /// `sojourn_sum` it makes Little's law exact on runs with crashes.
    pub reset_sojourn_sum: f64,
    /// Completed requests that had to wait at all.
    pub waited: u64,
    /// ∫ busy vCPUs dt (vCPU·ns). This and the next three are brought up to date by
    /// [`Server::settle`].
    pub busy_area: f64,
    /// ∫ vCPUs available dt while up (vCPU·ns).
    pub capacity_area: f64,
    /// ∫ requests in the server dt (request·ns), for Little's law.
    pub in_system_area: f64,
    /// Crashes of any cause.
    pub crashes: u64,
    /// Crashes from running out of memory.
    pub oom_crashes: u64,
    /// Requests shed: they waited longer than `queue_timeout` and were answered 503 unserved.
    pub shed: u64,
    /// Sum over shed requests of the time they waited (ns), for Little's law.
    pub shed_sojourn_sum: f64,
    /// Dollars billed.
    pub cost: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not launched, or terminated: not billed.
    Off,
    /// Launched and booting: billed, not serving.
    Booting,
    /// Serving.
    Up,
    /// Down until a restart timer with this epoch fires (or forever, for a stop).
    Down,
}

/// A server component.
pub struct Server {
    /// Component name.
    pub name: String,
    spec: ServerSpec,
    rng: RngStream,
    service: Dist,
    memory: u64,
    /// Instance type currently running.
    pub instance: String,
    state: State,
    billed: bool,
    stopped: bool,
    down_epoch: u32,
    /// The vCPUs and the jobs on them.
    pub(crate) cpu: Cpu,
    backlog: VecDeque<(ReqId, Time)>,
    /// Counters since warm-up.
    pub stats: ServerStats,
    /// Busy and available vCPUs, requests held, and the bill, since time zero.
    meter: Meter,
    /// Life events (crashes, restarts, resizes), in order.
    pub events: Vec<TimelineEvent>,
    arrivals_total: u64,
    /// Calls in flight for requests whose own work is done.
    fanout: Fanout,
    /// The breakers' (short-circuited, opened) totals at the warm-up.
    breakers_at_warmup: (u64, u64),
    /// The counters at the last window's end, for the window's [`TierFlow`].
    flow_mark: TierFlow,
}

impl Server {
    /// A server from its spec.
    pub fn new(name: &str, spec: ServerSpec, seed: u64) -> Self {
        Self {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("server/{name}")),
            service: spec.service.sampler(),
            memory: spec.memory,
            instance: spec.instance.clone(),
            state: if spec.starts_up {
                State::Up
            } else {
                State::Off
            },
            billed: spec.starts_up,
            stopped: false,
            down_epoch: 0,
            cpu: Cpu::new(spec.vcpus, spec.workers, SERVICE_DONE),
            backlog: VecDeque::new(),
            stats: ServerStats::default(),
            meter: Meter::new(spec.price_per_hour),
            events: Vec::new(),
            arrivals_total: 0,
            fanout: Fanout::with_breakers(&spec.calls.breakers),
            breakers_at_warmup: (0, 0),
            flow_mark: TierFlow::default(),
            spec,
        }
    }

    /// Writes this instance's status into the control plane. The load figures only matter to the
    /// autoscaling group an instance belongs to, so a standalone server skips them.
    #[inline]
    fn publish(&self, ctx: &mut Ctx) {
        let st = ctx.registry.of_mut(ctx.me);
        st.up = self.state == State::Up;
        st.stopped = self.stopped;
        if !self.spec.in_fleet {
            return;
        }
        st.in_flight = (self.cpu.in_service() + self.backlog.len()) as u32;
        st.arrivals = self.arrivals_total;
        st.as_of = self.meter.last;
        st.busy_area = self.meter.busy;
        st.capacity_area = self.meter.capacity;
        (st.busy_rate, st.capacity_rate) = if self.state == State::Up {
            (f64::from(self.cpu.busy()), f64::from(self.cpu.vcpus()))
        } else {
            (0.0, 0.0)
        };
    }

    /// True while running (booting, up, or crashed and restarting): billed and counted.
    pub fn is_running(&self) -> bool {
        self.state != State::Off
    }

    /// True while able to serve (hung servers included: nothing outside can tell without asking).
    pub fn is_up(&self) -> bool {
        self.state == State::Up
    }

    /// Requests in service.
    #[inline]
    pub fn in_service(&self) -> usize {
        self.cpu.in_service()
    }

    /// Requests waiting in the backlog.
    pub fn queued(&self) -> usize {
        self.backlog.len()
    }

    /// vCPUs of the running instance.
    pub fn vcpus(&self) -> u32 {
        self.cpu.vcpus()
    }

    /// Memory of the running instance, bytes.
    pub fn memory(&self) -> u64 {
        self.memory
    }

    /// Memory in use now, bytes.
    pub fn memory_used(&self) -> u64 {
        if self.state != State::Up {
            return 0;
        }
        self.spec.memory_base
            + (self.in_service() + self.backlog.len()) as u64 * self.spec.memory_per_request
    }

    /// Brings the integrals and the virtual clock up to `now`.
    #[inline]
    fn advance(&mut self, now: Time) {
        let dt = now - self.meter.last;
        if dt > 0 {
            // Through i64: one instruction (u64 → f64 needs a branch); times stay below 2^63.
            self.cpu.advance(dt as i64 as f64);
            let busy = (!self.cpu.is_hung()).then(|| f64::from(self.cpu.busy()));
            let held = (self.cpu.in_service() + self.backlog.len()) as i64 as f64;
            let vcpus = f64::from(self.cpu.vcpus());
            let up = self.state == State::Up;
            self.meter
                .advance(now, dt, up, busy, vcpus, held, self.billed);
        }
    }

    /// Brings everything up to `now` and fills in the counters' integrals and cost.
    pub fn settle(&mut self, now: Time) {
        self.advance(now);
        let since = self.meter.since_reset();
        self.stats.busy_area = since.busy;
        self.stats.capacity_area = since.capacity;
        self.stats.in_system_area = since.held;
        self.stats.cost = since.cost;
    }

    /// Resets the counters (at the end of the warm-up).
    pub fn reset_stats(&mut self, now: Time) {
        self.settle(now);
        self.meter.reset();
        self.stats = ServerStats {
            since: now,
            ..ServerStats::default()
        };
        self.breakers_at_warmup = self.fanout.breaker_totals();
        self.flow_mark = TierFlow::default();
    }

    /// The counters since time zero (or the warm-up) as a [`TierFlow`] without capacity.
    fn flow_now(&self) -> TierFlow {
        let st = &self.stats;
        TierFlow {
            arrivals: st.arrivals,
            refused: st.refused,
            completed: st.completed,
            wait_ns: st.wait_sum,
            sojourn_ns: st.sojourn_sum,
            capacity: 0.0,
        }
    }

    /// Busy and available vCPU·ns since the last call; starts a new window.
    pub fn sample_window(&mut self, now: Time) -> (f64, f64) {
        self.advance(now);
        self.meter.window()
    }

    /// Dollars billed since time zero, up to `now` (settles the counters).
    pub fn cost_so_far(&mut self, now: Time) -> f64 {
        self.settle(now);
        self.meter.cost()
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &ServerSpec {
        &self.spec
    }

    #[inline(always)]
    fn start_job(&mut self, req: ReqId, arrived: Time, ctx: &mut Ctx) {
        let (mut work, tls, class) = ctx
            .reqs
            .get(req)
            .map_or((1.0, true, 0), |r| (r.work, r.tls_terminated, r.class));
        work *= ctx.registry.work_factor(ctx.me, class);
        // Through i64: one instruction, where u64 → f64 takes several (both exact below 2^63).
        let sampled = self.service.sample_scaled(&mut self.rng, work);
        let tls_ns = if tls { 0 } else { self.spec.tls_cpu };
        self.cpu.start_ns(req, arrived, sampled, tls_ns, ctx);
    }

    /// Starts jobs from the backlog while workers are free (shedding those that waited too long,
    /// with a `queue_timeout`).
    #[inline(always)]
    fn fill_workers(&mut self, ctx: &mut Ctx) {
        if let Some(limit) = self.spec.queue_timeout {
            return self.fill_workers_shedding(limit, ctx);
        }
        while self.cpu.has_room() {
            let Some((req, arrived)) = self.backlog.pop_front() else {
                break;
            };
            self.start_job(req, arrived, ctx);
        }
    }

    /// [`Server::fill_workers`] with load shedding: a request that waited longer than `limit` is
    /// answered 503 at once, and the worker takes the next.
    #[inline(always)]
    fn fill_workers_shedding(&mut self, limit: Time, ctx: &mut Ctx) {
        let now = ctx.now();
        while self.cpu.has_room() {
            let Some((req, arrived)) = self.backlog.pop_front() else {
                break;
            };
            if now - arrived > limit {
                self.stats.shed += 1;
                self.stats.shed_sojourn_sum += (now - arrived) as f64;
                self.refuse(req, Outcome::Unavailable, ctx);
                continue;
            }
            self.start_job(req, arrived, ctx);
        }
    }

    /// Moves the breakers' changes to the timeline.
    #[cold]
    #[inline(never)]
    fn take_breaker_events(&mut self) {
        for (at, text) in self.fanout.events.drain(..) {
            self.events.push(TimelineEvent {
                kind: EventKind::Breaker,
                component: self.name.clone(),
                at,
                text,
            });
        }
    }

    fn refuse(&mut self, req: ReqId, outcome: Outcome, ctx: &mut Ctx) {
        if let Some(r) = ctx.reqs.get_mut(req) {
            r.outcome = outcome;
        }
        ctx.respond(req, &mut self.rng);
    }

    #[inline(always)]
    fn handle_inner(&mut self, msg: Msg, ctx: &mut Ctx) {
        let now = ctx.now();
        self.advance(now);
        match msg {
            Msg::Request(req) => self.on_request(req, now, ctx),
            Msg::Timer(Timer::Pair(SERVICE_DONE, epoch, slot)) => {
                self.on_service_done(epoch, slot, ctx)
            }
            other => self.on_rare(other, now, ctx),
        }
    }

    /// A request arrives: refuse it, start it, or queue it.
    #[inline(always)]
    fn on_request(&mut self, req: ReqId, now: Time, ctx: &mut Ctx) {
        self.stats.arrivals += 1;
        self.arrivals_total += 1;
        if self.state != State::Up {
            self.stats.refused += 1;
            self.refuse(req, Outcome::Refused, ctx);
            return;
        }
        let room = self.cpu.has_room();
        if !room && self.backlog.len() >= self.spec.backlog as usize {
            self.stats.refused += 1;
            self.refuse(req, Outcome::Refused, ctx);
            return;
        }
        let held = (self.in_service() + self.backlog.len() + 1) as u64;
        if self.spec.memory_per_request > 0
            && self.spec.memory_base + held * self.spec.memory_per_request > self.memory
        {
            self.out_of_memory(req, held, ctx);
            return;
        }
        if room {
            self.start_job(req, now, ctx);
            self.cpu.reschedule(ctx);
        } else {
            self.backlog.push_back((req, now));
        }
    }

    /// The request takes the memory past the instance's: the process is killed.
    #[cold]
    #[inline(never)]
    fn out_of_memory(&mut self, req: ReqId, held: u64, ctx: &mut Ctx) {
        self.stats.oom_crashes += 1;
        self.events.push(TimelineEvent {
            kind: EventKind::OutOfMemory,
            component: self.name.clone(),
            at: ctx.now(),
            text: format!("ran out of memory with {held} requests held and crashed"),
        });
        self.backlog.push_back((req, ctx.now()));
        self.crash(ctx, Some(self.spec.restart));
    }

    /// A completion timer fired.
    #[inline(always)]
    fn on_service_done(&mut self, epoch: u32, slot: u32, ctx: &mut Ctx) {
        match self.cpu.take_done(epoch, slot) {
            Done::Stale => {}
            Done::One(job) => {
                self.complete(job, ctx);
                self.fill_workers(ctx);
            }
            Done::Shared => {
                while let Some(job) = self.cpu.pop_finished() {
                    self.complete(job, ctx);
                }
                self.fill_workers(ctx);
                self.cpu.reschedule(ctx);
            }
        }
    }

    /// Everything but requests and completions: restarts, resizes, boots, control verbs.
    #[cold]
    #[inline(never)]
    fn on_rare(&mut self, msg: Msg, now: Time, ctx: &mut Ctx) {
        match msg {
            Msg::Response(id) if Fanout::is_call(ctx, id) => self.on_call(msg, ctx),
            Msg::Timer(Timer::Req(CALL_TIMEOUT, _)) => self.on_call(msg, ctx),
            Msg::Timer(Timer::Word(RESTART, epoch)) => {
                if self.state == State::Down && epoch == self.down_epoch {
                    self.state = State::Up;
                    self.billed = true;
                    self.stopped = false;
                    self.events.push(TimelineEvent {
                        kind: EventKind::BackUp,
                        component: self.name.clone(),
                        at: now,
                        text: format!("back up as {} ({} vCPU)", self.instance, self.vcpus()),
                    });
                }
            }
            Msg::Timer(Timer::Word(RESIZE, i)) => {
                let (_, to, downtime) = self.spec.resizes[i as usize];
                self.events.push(TimelineEvent {
                    kind: EventKind::Resize,
                    component: self.name.clone(),
                    at: now,
                    text: format!(
                        "stopped for a resize from {} to {} ({} down)",
                        self.instance,
                        to.name,
                        crate::engine::time::human(downtime)
                    ),
                });
                self.crash(ctx, Some(downtime));
                self.stats.crashes -= 1; // a planned stop is not a crash
                self.billed = false; // a stopped instance is not billed
                self.cpu.set_vcpus(to.vcpus); // nothing is in service now
                self.memory = u64::from(to.memory_gib) << 30;
                self.meter.set_price(to.price_per_hour);
                self.instance = to.name.to_string();
            }
            Msg::Timer(Timer::Word(BOOT_DONE, epoch)) => {
                if self.state == State::Booting && epoch == self.down_epoch {
                    self.state = State::Up;
                    self.events.push(TimelineEvent {
                        kind: EventKind::Booted,
                        component: self.name.clone(),
                        at: now,
                        text: "booted and in service".into(),
                    });
                }
            }
            Msg::Control(c) => self.control(c, ctx),
            Msg::Response(req) => {
                // Not one of its calls: pass the answer back up.
                ctx.respond(req, &mut self.rng);
            }
            Msg::Timer(_) | Msg::Request(_) => {} // requests and completions are handled above
        }
    }

    fn control(&mut self, c: Control, ctx: &mut Ctx) {
        let now = ctx.now();
        match c {
            Control::Launch | Control::LaunchBooted => {
                if self.state == State::Off {
                    self.state = if c == Control::Launch {
                        State::Booting
                    } else {
                        State::Up
                    };
                    self.billed = true;
                    self.stopped = false;
                    self.down_epoch = self.down_epoch.wrapping_add(1);
                    // A new instance boots with the original type, at normal pace.
                    self.cpu.set_vcpus(self.spec.vcpus);
                    self.cpu.reset_pace(); // nothing is in service
                    self.memory = self.spec.memory;
                    self.meter.set_price(self.spec.price_per_hour);
                    ctx.registry.of_mut(ctx.me).launched_at = now;
                    if c == Control::Launch {
                        ctx.timer(
                            self.spec.boot_time.max(1),
                            Timer::Word(BOOT_DONE, self.down_epoch),
                        );
                    }
                }
            }
            Control::Terminate => {
                if self.state != State::Off {
                    self.events.push(TimelineEvent {
                        kind: EventKind::Terminated,
                        component: self.name.clone(),
                        at: now,
                        text: "terminated".into(),
                    });
                    self.crash(ctx, None);
                    self.stats.crashes -= 1; // a termination is not a crash
                    self.state = State::Off;
                    self.billed = false;
                    self.stopped = false;
                }
            }
            Control::DnsOutage
            | Control::Flush
            | Control::Expire(_)
            | Control::Part(..)
            | Control::RegionDown(_)
            | Control::RegionUp(_) => {}
            Control::Crash => {
                if self.state == State::Up {
                    self.events.push(TimelineEvent {
                        kind: EventKind::Crash,
                        component: self.name.clone(),
                        at: now,
                        text: "crashed (fault injected)".into(),
                    });
                    self.crash(ctx, Some(self.spec.restart));
                }
            }
            Control::Stop => {
                if matches!(self.state, State::Up | State::Booting | State::Down) {
                    self.events.push(TimelineEvent {
                        kind: EventKind::Crash,
                        component: self.name.clone(),
                        at: now,
                        text: "stopped (fault injected)".into(),
                    });
                    self.crash(ctx, None);
                    self.stopped = true;
                }
            }
            Control::Hang => {
                self.events.push(TimelineEvent {
                    kind: EventKind::Pace,
                    component: self.name.clone(),
                    at: now,
                    text: "hung: accepts but never answers".into(),
                });
                self.cpu.set_pace(true, self.cpu.speed(), ctx);
            }
            Control::Slow(permille) => {
                self.events.push(TimelineEvent {
                    kind: EventKind::Pace,
                    component: self.name.clone(),
                    at: now,
                    text: format!("slowed down {:.1}×", f64::from(permille) / 1000.0),
                });
                let hung = self.cpu.is_hung();
                self.cpu
                    .set_pace(hung, 1000.0 / f64::from(permille.max(1)), ctx);
            }
            Control::Recover => {
                if self.state == State::Off {
                    return;
                }
                self.events.push(TimelineEvent {
                    kind: EventKind::Pace,
                    component: self.name.clone(),
                    at: now,
                    text: "recovered".into(),
                });
                if self.state == State::Down {
                    self.down_epoch = self.down_epoch.wrapping_add(1);
                    self.state = State::Up;
                    self.billed = true;
                    self.stopped = false;
                }
                self.cpu.set_pace(false, 1.0, ctx);
            }
        }
    }

    /// Drops everything held (connections reset) and goes down; back after `restart`, if given.
    fn crash(&mut self, ctx: &mut Ctx, restart: Option<Time>) {
        self.stats.crashes += 1;
        let now = ctx.now();
        // In start order (seq), a deterministic order for the resets. This also invalidates the
        // jobs' timers.
        let jobs = self.cpu.drain(now);
        for (j, _) in jobs {
            self.stats.reset += 1;
            self.stats.reset_sojourn_sum += (now - j.arrived) as f64;
            self.refuse(j.req, Outcome::Crashed, ctx);
        }
        while let Some((req, arrived)) = self.backlog.pop_front() {
            self.stats.reset += 1;
            self.stats.reset_sojourn_sum += (now - arrived) as f64;
            self.refuse(req, Outcome::Crashed, ctx);
        }
        // Requests waiting for their calls: their connections are reset too; the calls' answers
        // are dropped as they come back.
        for parent in self.fanout.abort_all() {
            self.refuse(parent, Outcome::Crashed, ctx);
        }
        self.cpu.release_all();
        self.state = State::Down;
        self.cpu.unhang(); // nothing is in service now
        self.down_epoch = self.down_epoch.wrapping_add(1);
        if let Some(d) = restart {
            ctx.timer(d.max(1), Timer::Word(RESTART, self.down_epoch));
        }
    }

    #[inline(always)]
    fn complete(&mut self, job: Job, ctx: &mut Ctx) {
        let now = ctx.now();
        self.stats.completed += 1;
        let wait = job.started - job.arrived;
        if wait > 0 {
            self.stats.waited += 1;
        }
        // Through i64 (one instruction; times stay below 2^63).
        self.stats.wait_sum += wait as i64 as f64;
        self.stats.sojourn_sum += (now - job.arrived) as i64 as f64;
        if !self.spec.calls.is_empty() {
            let class = ctx.reqs.get(job.req).map_or(0, |r| r.class);
            if let Some(plan) = self.spec.calls.for_class(class) {
                self.cpu.hold();
                let p = &self.spec.calls.plans[plan as usize];
                if let Some(done) = self.fanout.begin(job.req, plan, p, ctx, &mut self.rng) {
                    self.calls_done(done, ctx);
                }
                if !self.fanout.events.is_empty() {
                    self.take_breaker_events();
                }
                return;
            }
        }
        ctx.respond(job.req, &mut self.rng);
    }

    /// A request's calls are done: answer it with their outcome and free its worker.
    fn calls_done(&mut self, done: super::fanout::Done, ctx: &mut Ctx) {
        self.cpu.release();
        if let Some(r) = ctx.reqs.get_mut(done.parent) {
            r.outcome = done.outcome;
        }
        ctx.respond(done.parent, &mut self.rng);
    }

    /// The answer to a call, or a call's deadline: settle it; a request whose calls are all done
    /// is answered and its worker starts the next queued request.
    #[inline(never)]
    fn on_call(&mut self, msg: Msg, ctx: &mut Ctx) {
        let plans = &self.spec.calls.plans;
        let done = match msg {
            Msg::Response(id) => self.fanout.on_response(id, plans, ctx, &mut self.rng),
            Msg::Timer(Timer::Req(CALL_TIMEOUT, id)) => {
                self.fanout.on_timeout(id, plans, ctx, &mut self.rng)
            }
            _ => None,
        };
        if !self.fanout.events.is_empty() {
            self.take_breaker_events();
        }
        if let Some(d) = done {
            self.calls_done(d, ctx);
            if self.state == State::Up {
                self.fill_workers(ctx);
                self.cpu.reschedule(ctx);
            }
        }
    }
}

impl Behaviour for Server {
    /// Schedules the resizes (call once at time zero).
    fn start(&mut self, ctx: &mut Ctx) {
        for (i, &(at, _, _)) in self.spec.resizes.iter().enumerate() {
            ctx.timer_at(at, Timer::Word(RESIZE, i as u32));
        }
        ctx.registry.of_mut(ctx.me).az = self.spec.az;
        ctx.registry.of_mut(ctx.me).instance = true;
        if self.spec.starts_up {
            ctx.registry
                .set_lifecycle(ctx.me, crate::model::registry::Lifecycle::InService);
        }
        self.publish(ctx);
    }

    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        self.handle_inner(msg, ctx);
        self.publish(ctx);
    }

    fn reset_stats(&mut self, now: Time) {
        Server::reset_stats(self, now);
    }

    fn gauges(&mut self, now: Time, g: &mut GaugeSum) {
        let (busy, capacity) = self.sample_window(now);
        g.busy += busy;
        g.capacity += capacity;
        // Once per window: the counters' change since the last one.
        let f = self.flow_now();
        let m = self.flow_mark;
        g.flow.add(&TierFlow {
            arrivals: f.arrivals.saturating_sub(m.arrivals),
            refused: f.refused.saturating_sub(m.refused),
            completed: f.completed.saturating_sub(m.completed),
            wait_ns: f.wait_ns - m.wait_ns,
            sojourn_ns: f.sojourn_ns - m.sojourn_ns,
            capacity,
        });
        self.flow_mark = f;
        if self.is_running() {
            g.in_system += (self.in_service() + self.queued()) as u64;
            g.backlog += self.queued() as u64;
            g.instances += 1;
            if self.is_up() {
                g.healthy += 1;
            }
        }
    }

    fn billed(&mut self, now: Time) -> f64 {
        self.cost_so_far(now)
    }

    fn measured_cost(&mut self, now: Time, _measured: Time) -> f64 {
        self.settle(now);
        self.stats.cost
    }

    fn timeline(&self) -> &[TimelineEvent] {
        &self.events
    }

    fn card(&mut self, now: Time, _measured: Time) -> Option<Card> {
        let billed = self.cost_so_far(now);
        if billed <= 0.0 && self.stats.arrivals == 0 {
            return None; // a fleet slot never launched
        }
        let st = &self.stats;
        let mean = |sum: f64| (st.completed > 0).then(|| sum / st.completed as f64 / 1e6);
        let mut card = Card {
            section: Section::Servers,
            name: self.name.clone(),
            fields: vec![
                ("instance", Figure::Text(self.instance.clone())),
                ("vcpus", Figure::Count(u64::from(self.vcpus()))),
                (
                    "utilization",
                    Figure::Value(if st.capacity_area > 0.0 {
                        st.busy_area / st.capacity_area
                    } else {
                        0.0
                    }),
                ),
                ("arrivals", Figure::Count(st.arrivals)),
                ("completed", Figure::Count(st.completed)),
                ("refused", Figure::Count(st.refused)),
                ("reset", Figure::Count(st.reset)),
                ("crashes", Figure::Count(st.crashes)),
                ("oom_crashes", Figure::Count(st.oom_crashes)),
                ("mean_wait_ms", Figure::Maybe(mean(st.wait_sum))),
                ("mean_sojourn_ms", Figure::Maybe(mean(st.sojourn_sum))),
                ("cost_usd", Figure::Value(st.cost)),
                (
                    "events",
                    Figure::Events(self.events.iter().map(|e| (e.at, e.text.clone())).collect()),
                ),
            ],
        };
        // Figures of the resilience settings only where they are set, so a server without them
        // reports exactly what it always has.
        if self.spec.queue_timeout.is_some() {
            card.fields.push(("shed", Figure::Count(st.shed)));
        }
        if !self.spec.calls.breakers.is_empty() {
            let (short, opened) = self.fanout.breaker_totals();
            let (short0, opened0) = self.breakers_at_warmup;
            card.fields
                .push(("calls_short_circuited", Figure::Count(short - short0)));
            card.fields
                .push(("breaker_opened", Figure::Count(opened - opened0)));
        }
        Some(card)
    }

    fn check_invariants(&self) {
        assert!(
            self.in_service() <= self.spec.workers as usize,
            "{}: {} jobs in service with {} workers",
            self.name,
            self.in_service(),
            self.spec.workers
        );
        assert!(
            self.backlog.len() <= self.spec.backlog as usize,
            "{}: {} queued in a backlog of {}",
            self.name,
            self.backlog.len(),
            self.spec.backlog
        );
        if self.state != State::Up && self.state != State::Booting {
            assert_eq!(
                self.in_service() + self.backlog.len(),
                0,
                "{}: holds requests while down",
                self.name
            );
        }
    }

    fn queue(&self) -> Option<QueueFigures> {
        Some(QueueFigures {
            server: self.name.clone(),
            stats: self.stats.clone(),
        })
    }
}

impl Kind for Server {
    type Config = ServerConfig;
    type Spec = ServerSpec;
    const WORDS: &'static str = "server";
    const ABOUT: &'static str = "A single server.";
    const SCHEMA_NAME: &'static str = "ServerComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: true,
        balancer_target: BalancerTarget::Member,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<ServerConfig, ParseError> {
        parse_table(table)
    }

    fn check(_name: &str, cfg: &ServerConfig, base: &[Seg], c: &mut Checker) -> Option<ServerSpec> {
        check_server(c, base, cfg)
    }

    fn build(name: &str, spec: ServerSpec, seed: u64) -> Self {
        Server::new(name, spec, seed)
    }

    fn describe(spec: &ServerSpec, cx: &DescribeCtx) -> Description {
        let mut detail = format!(
            "{}, ≈{:.0} req/s",
            spec.summary(),
            spec.capacity(cx.mean_work)
        );
        for (at, to, down) in &spec.resizes {
            let _ = write!(
                detail,
                "; resize to {} at {} ({} down)",
                to.name,
                crate::engine::time::clock(*at),
                human(*down)
            );
        }
        if let Some(q) = spec.queue_timeout {
            let _ = write!(detail, "; sheds requests that waited over {}", human(q));
        }
        if !spec.calls.is_empty() {
            let _ = write!(detail, "; calls {}", spec.calls.describe(cx.name_of));
        }
        Description {
            detail,
            shape: Shape::Box,
            routes: spec.calls.routes(),
            looked_up: false,
        }
    }

    fn steady_state(spec: &mut ServerSpec) {
        if let Some(&(_, t, _)) = spec.resizes.last() {
            spec.instance = t.name.to_string();
            spec.vcpus = t.vcpus;
            spec.memory = u64::from(t.memory_gib) << 30;
            spec.price_per_hour = t.price_per_hour;
        }
        spec.resizes.clear();
    }

    fn footprint(spec: &ServerSpec, mean_work: f64) -> Footprint {
        Footprint {
            // Accepted, CPU done (one per slice when a request outlives its quantum), answered.
            events_per_request: 2.5,
            background_per_s: 0.0,
            capacity_per_s: spec.capacity(mean_work),
            holds: f64::from(spec.workers) + f64::from(spec.backlog),
            bytes: 8192.0 + 48.0 * f64::from(spec.workers),
        }
    }
}

/// Bytes for people: "4 GiB", "512 MiB".
fn human_bytes(b: u64) -> String {
    let s = format_bytes(b);
    match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => format!("{} {}", &s[..i], &s[i..]),
        None => s,
    }
}

impl ServerSpec {
    /// The instance and its settings in one line: "c5.large (2 vCPU, 4GiB, $0.085/h), 64 workers,
    /// backlog 511, service lognormal(mean 20ms, cv 1)".
    pub fn summary(&self) -> String {
        format!(
            "{} ({} vCPU, {}, ${}/h), {} workers, backlog {}, service {}",
            self.instance,
            self.vcpus,
            human_bytes(self.memory),
            self.price_per_hour,
            self.workers,
            self.backlog,
            self.service.describe()
        )
    }

    /// Requests per second it can serve flat out, at a mean work of `mean_work` per request.
    pub fn capacity(&self, mean_work: f64) -> f64 {
        let per = self.service.mean() * mean_work + self.tls_cpu as f64;
        if per <= 0.0 {
            f64::INFINITY
        } else {
            f64::from(self.vcpus.min(self.workers)) * 1e9 / per
        }
    }
}

/// Checks a server's settings (also each instance of a fleet).
pub fn check_server(c: &mut Checker, base: &[Seg], s: &ServerConfig) -> Option<ServerSpec> {
    let at = |key: &str| {
        let mut v = base.to_vec();
        v.push(k(key));
        v
    };
    let inst = match &s.instance {
        Some(name) => match catalog::lookup(name) {
            Some(t) => Some(*t),
            None => {
                let help = match nearest(name, catalog::names()) {
                    Some(n) => format!(
                        "did you mean \"{n}\"? known types: {}",
                        catalog::names().join(", ")
                    ),
                    None => format!("known types: {}", catalog::names().join(", ")),
                };
                c.err(
                    &at("instance"),
                    format!("unknown instance type \"{name}\""),
                    Some(help),
                );
                return None;
            }
        },
        None => None,
    };
    let vcpus = match (s.vcpus, inst) {
        (Some(v), _) => v,
        (None, Some(t)) => t.vcpus,
        (None, None) => {
            c.err(
                base,
                "a server needs an `instance` type (or `vcpus` and `memory`)",
                Some("e.g. instance = \"c5.large\"".into()),
            );
            return None;
        }
    };
    if vcpus == 0 || vcpus > 1024 {
        c.err(
            &at("vcpus"),
            format!("vcpus must be between 1 and 1024, found {vcpus}"),
            None,
        );
    }
    let memory = s
        .memory
        .map(|b| b.0)
        .or(inst.map(|t| u64::from(t.memory_gib) << 30))
        .unwrap_or(1 << 30);
    if memory == 0 {
        c.err(&at("memory"), "memory must be more than zero", None);
    }
    let price = s
        .price
        .map(|p| p.0)
        .or(inst.map(|t| t.price_per_hour))
        .unwrap_or(0.0);
    let workers = s.workers.unwrap_or(64);
    if workers == 0 || workers > 1_000_000 {
        c.err(
            &at("workers"),
            format!("workers must be between 1 and 1,000,000, found {workers}"),
            None,
        );
    }
    let backlog = s.backlog.unwrap_or(511);
    if backlog > 100_000_000 {
        c.err(
            &at("backlog"),
            "the backlog can be at most 100,000,000",
            None,
        );
    }
    c.dist(&at("service"), &s.service, false);
    let memory_base = s.memory_base.map_or(256 << 20, |b| b.0);
    if memory_base >= memory {
        c.err(
            &at("memory_base"),
            format!(
                "the base memory ({}) must be less than the instance's memory ({})",
                format_bytes(memory_base),
                format_bytes(memory)
            ),
            None,
        );
    }
    let restart = s.restart.map_or(DEFAULT_RESTART, |d| d.0);
    let mut resizes = Vec::new();
    for (i, r) in s.resize.iter().enumerate() {
        let mut p = at("resize");
        p.push(Seg::Index(i));
        let pk = |key: &str| {
            let mut v = p.clone();
            v.push(k(key));
            v
        };
        match catalog::lookup(&r.to) {
            Some(t) => {
                if u64::from(t.memory_gib) << 30 <= memory_base {
                    c.err(
                        &pk("to"),
                        format!("{} has less memory than the server's base memory", t.name),
                        None,
                    );
                }
                resizes.push((
                    r.at.0,
                    *t,
                    r.downtime.map_or(DEFAULT_RESIZE_DOWNTIME, |d| d.0),
                ));
            }
            None => {
                let help = match nearest(&r.to, catalog::names()) {
                    Some(n) => format!("did you mean \"{n}\"?"),
                    None => format!("known types: {}", catalog::names().join(", ")),
                };
                c.err(
                    &pk("to"),
                    format!("unknown instance type \"{}\"", r.to),
                    Some(help),
                );
            }
        }
        c.before_the_end(&pk("at"), r.at, "resize");
    }
    resizes.sort_by_key(|r| r.0);
    let me = match base.get(1) {
        Some(Seg::Key(n)) => n.clone(),
        _ => String::new(),
    };
    let calls = check_plans(c, base, &me, &s.calls);
    let queue_timeout = s.queue_timeout.map(|d| d.0);
    if queue_timeout == Some(0) {
        c.err(
            &at("queue_timeout"),
            "the queue timeout must be more than zero",
            Some("leave it out to serve whatever waited".into()),
        );
    }
    Some(ServerSpec {
        instance: inst.map_or_else(|| "custom".to_string(), |t| t.name.to_string()),
        vcpus: vcpus.max(1),
        memory,
        price_per_hour: price,
        workers: workers.max(1),
        backlog,
        service: s.service.clone(),
        memory_base,
        memory_per_request: s.memory_per_request.map_or(0, |b| b.0),
        restart,
        resizes,
        tls_cpu: s.tls_cpu.map_or(0, |d| d.0),
        boot_time: 0,
        az: 0,
        starts_up: true,
        in_fleet: false,
        calls,
        queue_timeout,
    })
}

/// Default restart delay after a crash: 60 s (docs/semantics.md §2: app warm-up 30–120 s, model).
pub const DEFAULT_RESTART: Time = 60 * SEC;
/// Default resize downtime: 3 min (docs/semantics.md §2: stop 30–60 s + start ≈30 s + app warm-up).
pub const DEFAULT_RESIZE_DOWNTIME: Time = 180 * SEC;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;
    use crate::engine::Scheduler;
    use crate::metrics::Metrics;
    use crate::model::network::{Network, NetworkConfig};
    use crate::model::registry::Registry;
    use crate::model::request::RequestTable;
    use crate::model::{Event, Zone};
    use crate::scenario::units::Duration as D;

    /// Where the server's answers go (the harness plays this component).
    const USER: u32 = 0;
    /// The server's component index.
    const ME: u32 = 1;

    /// What the harness feeds the server, at a time.
    enum Input {
        Request,
        Verb(Control),
    }

    /// Runs one server with `vcpus`, `workers` and a deterministic 1 s service through `inputs`,
    /// with or without direct mode. Returns (answer time, outcome) per request, in input order.
    fn drive(
        vcpus: u32,
        workers: u32,
        direct: bool,
        inputs: &[(Time, Input)],
    ) -> Vec<(Time, Outcome)> {
        harness(vcpus, workers, direct, false, inputs).answers
    }

    /// The harness after `inputs` have run to one simulated hour.
    fn harness(
        vcpus: u32,
        workers: u32,
        direct: bool,
        in_fleet: bool,
        inputs: &[(Time, Input)],
    ) -> Harness {
        harness_shedding(vcpus, workers, direct, in_fleet, None, inputs)
    }

    /// [`harness`] with a `queue_timeout`.
    fn harness_shedding(
        vcpus: u32,
        workers: u32,
        direct: bool,
        in_fleet: bool,
        queue_timeout: Option<Time>,
        inputs: &[(Time, Input)],
    ) -> Harness {
        let spec = ServerSpec {
            instance: "custom".into(),
            vcpus,
            memory: 1 << 34,
            price_per_hour: 1.0,
            workers,
            backlog: 100,
            service: DistConfig::Deterministic { value: D(SEC) },
            memory_base: 0,
            memory_per_request: 0,
            restart: SEC,
            resizes: vec![],
            tls_cpu: 0,
            boot_time: 0,
            az: 0,
            starts_up: true,
            in_fleet,
            calls: Plans::default(),
            queue_timeout,
        };
        let mut server = Server::new("s", spec, 1);
        server.cpu.direct_allowed = direct;
        server.cpu.refit();
        let mut h = Harness {
            server,
            reqs: RequestTable::new(),
            metrics: Metrics::new(&["c".into()], 0, SEC),
            net: Network::new(&NetworkConfig {
                client_rtt: D(0),
                internal_rtt: D(0),
                jitter: 0.0,
                regions: None,
            }),
            zones: [Zone::Internal, Zone::Internal],
            registry: Registry::new(2, 1),
            ids: Vec::new(),
            answers: Vec::new(),
        };
        let mut sched = Scheduler::<Event>::new();
        for (at, input) in inputs {
            let msg = match input {
                Input::Request => {
                    let id = h.reqs.alloc(0, 0, *at, 1.0);
                    h.reqs.get_mut(id).unwrap().push_hop(USER, 0);
                    h.ids.push(id);
                    Msg::Request(id)
                }
                Input::Verb(c) => Msg::Control(*c),
            };
            sched.at(*at, Event { to: ME, msg });
        }
        h.answers = vec![(Time::MAX, Outcome::Ok); h.ids.len()];
        let mut sim = crate::engine::sim::Simulation::new(h);
        sim.sched = sched;
        sim.run_until(3_600 * SEC);
        sim.model
    }

    /// A world of one server; the harness plays the user it answers to.
    struct Harness {
        server: Server,
        reqs: RequestTable,
        metrics: Metrics,
        net: Network,
        zones: [Zone; 2],
        registry: Registry,
        ids: Vec<ReqId>,
        answers: Vec<(Time, Outcome)>,
    }

    impl crate::engine::Model for Harness {
        type Event = Event;
        fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
            let now = sched.now();
            let mut ctx = crate::model::world::ctx!(self, sched, ev.to);
            match (ev.to, ev.msg) {
                (USER, Msg::Response(id)) => {
                    let i = self
                        .ids
                        .iter()
                        .position(|&x| x == id)
                        .expect("known request");
                    self.answers[i] = (now, ctx.reqs.get(id).unwrap().outcome);
                }
                (ME, msg) => self.server.handle(msg, &mut ctx),
                other => unreachable!("{other:?}"),
            }
        }
    }

    /// The same inputs in direct and in shared (processor-sharing) mode: same answers.
    fn both(vcpus: u32, workers: u32, inputs: &[(Time, Input)]) -> Vec<(Time, Outcome)> {
        let direct = drive(vcpus, workers, true, inputs);
        let shared = drive(vcpus, workers, false, inputs);
        assert_eq!(direct, shared, "direct and shared mode disagree");
        direct
    }

    #[test]
    fn a_slowdown_stretches_the_work_left() {
        use Input::*;
        // A starts at 0; at 250 ms the server runs 2× slower (0.75 s of work left takes 1.5 s);
        // B starts at 500 ms; at 1 s full speed again. A has 0.375 s left → done at 1.375 s;
        // B did 0.25 s of its 1 s at half speed → 0.75 s left → done at 1.75 s.
        let out = both(
            2,
            2,
            &[
                (0, Request),
                (250 * MS, Verb(Control::Slow(2000))),
                (500 * MS, Request),
                (SEC, Verb(Control::Recover)),
            ],
        );
        assert_eq!(
            out,
            vec![(1_375 * MS, Outcome::Ok), (1_750 * MS, Outcome::Ok)]
        );
    }

    #[test]
    fn a_hang_freezes_work_and_recover_resumes_it() {
        use Input::*;
        // A runs 250 ms, then nothing moves for 750 ms; B arrives during the hang (accepted,
        // no progress). After recovery A needs 0.75 s more, B its whole second.
        let out = both(
            2,
            2,
            &[
                (0, Request),
                (250 * MS, Verb(Control::Hang)),
                (500 * MS, Request),
                (SEC, Verb(Control::Recover)),
            ],
        );
        assert_eq!(out, vec![(1_750 * MS, Outcome::Ok), (2 * SEC, Outcome::Ok)]);
    }

    #[test]
    fn a_crash_resets_every_job_and_queued_request() {
        use Input::*;
        // One worker: A runs, B waits; a crash at 500 ms resets both; C after the restart runs.
        let out = both(
            1,
            1,
            &[
                (0, Request),
                (100 * MS, Request),
                (500 * MS, Verb(Control::Crash)),
                (3 * SEC, Request),
            ],
        );
        assert_eq!(
            out,
            vec![
                (500 * MS, Outcome::Crashed),
                (500 * MS, Outcome::Crashed),
                (4 * SEC, Outcome::Ok)
            ]
        );
    }

    #[test]
    fn queued_requests_start_as_workers_free_up() {
        use Input::*;
        // Two workers on four vCPUs: the third request waits for the first to finish.
        let out = both(4, 2, &[(0, Request), (0, Request), (200 * MS, Request)]);
        assert_eq!(
            out,
            vec![
                (SEC, Outcome::Ok),
                (SEC, Outcome::Ok),
                (2 * SEC, Outcome::Ok)
            ]
        );
    }

    #[test]
    fn a_queue_timeout_sheds_exactly_the_requests_that_waited_too_long() {
        use Input::*;
        // One worker, 1 s per request, shed after waiting more than 1.5 s. A arrives at 0 and
        // runs 0–1 s; B (0.2 s) starts at 1 s, having waited 0.8 s, and runs to 2 s; C (0.4 s)
        // has waited 1.6 s when the worker frees at 2 s: answered 503 at once; D (0.6 s) has
        // waited 1.4 s then: it runs 2–3 s; E (2.5 s) waits 0.5 s and runs 3–4 s.
        let inputs = [
            (0, Request),
            (200 * MS, Request),
            (400 * MS, Request),
            (600 * MS, Request),
            (2_500 * MS, Request),
        ];
        for direct in [true, false] {
            let h = harness_shedding(1, 1, direct, false, Some(1_500 * MS), &inputs);
            assert_eq!(
                h.answers,
                vec![
                    (SEC, Outcome::Ok),
                    (2 * SEC, Outcome::Ok),
                    (2 * SEC, Outcome::Unavailable),
                    (3 * SEC, Outcome::Ok),
                    (4 * SEC, Outcome::Ok),
                ],
                "direct {direct}"
            );
            assert_eq!((h.server.stats.shed, h.server.stats.completed), (1, 4));
            // C waited 1.6 s; Little's law counts it.
            assert_eq!(h.server.stats.shed_sojourn_sum, 1.6e9);
            // Exactly at the limit is not over it: with 1.6 s, C is served (2–3 s); then D has
            // waited 2.4 s: shed at 3 s; E runs 3–4 s.
            let h = harness_shedding(1, 1, direct, false, Some(1_600 * MS), &inputs);
            assert_eq!(
                h.answers[2..],
                [
                    (3 * SEC, Outcome::Ok),
                    (3 * SEC, Outcome::Unavailable),
                    (4 * SEC, Outcome::Ok)
                ]
            );
            // Without a queue timeout nothing is shed.
            let h = harness(1, 1, direct, false, &inputs);
            assert_eq!(h.server.stats.shed, 0);
            assert_eq!(h.answers[2], (3 * SEC, Outcome::Ok));
        }
    }

    #[test]
    fn beyond_the_vcpus_jobs_share_them() {
        // Three workers on one vCPU (shared mode only): three 1 s jobs from time 0 finish
        // together at 3 s.
        let inputs = [
            (0, Input::Request),
            (0, Input::Request),
            (0, Input::Request),
        ];
        let out = drive(1, 3, true, &inputs);
        assert_eq!(out, vec![(3 * SEC, Outcome::Ok); 3]);
    }

    #[test]
    fn a_fleet_instance_reports_load_its_group_can_read_at_any_time() {
        use Input::*;
        // Two requests, then nothing for the rest of the hour: the instance's last report is
        // at 2 s, yet its group must read exact integrals at 30 min and at 1 h.
        let inputs = [
            (0, Request),
            (SEC, Request),
            (SEC, Verb(Control::Slow(1500))),
        ];
        for direct in [true, false] {
            let mut h = harness(2, 2, direct, true, &inputs);
            let st = h.registry.of(ME).clone();
            assert!(st.as_of < 3 * SEC, "last report at {}", st.as_of);
            for t in [1_800 * SEC, 3_600 * SEC] {
                h.server.settle(t);
                let (busy, cap) = (h.server.meter.busy, h.server.meter.capacity);
                assert_eq!(st.busy_area_at(t), busy, "busy at {t}");
                assert_eq!(st.capacity_area_at(t), cap, "capacity at {t}");
            }
            // 1 s of one busy vCPU, then 1.5 s (slowed) of the second request; two vCPUs for
            // the hour.
            assert_eq!(h.server.meter.busy, 2.5e9);
            assert_eq!(h.server.meter.capacity, 2.0 * 3_600e9);
            // A standalone server publishes no load at all.
            let h = harness(2, 2, direct, false, &inputs);
            assert_eq!(h.registry.of(ME).capacity_area_at(3_600 * SEC), 0.0);
        }
    }
}
