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

use super::catalog::InstanceType;
use super::dist::{Dist, DistConfig};
use super::request::{Outcome, ReqId};
use super::{Control, Ctx, Msg, Timer};
use crate::engine::time::{Time, SEC};
use crate::engine::RngStream;
use crate::scenario::units::{Bytes, Duration, Price};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

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
    /// (aws-semantics.md §2: stop 30–60 s + start ≈30 s + app warm-up).
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
    /// ∫ busy vCPUs dt (vCPU·ns).
    pub busy_area: f64,
    /// ∫ vCPUs available dt while up (vCPU·ns).
    pub capacity_area: f64,
    /// ∫ requests in the server dt (request·ns), for Little's law.
    pub in_system_area: f64,
    /// Crashes of any cause.
    pub crashes: u64,
    /// Crashes from running out of memory.
    pub oom_crashes: u64,
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

#[derive(Clone, Copy)]
struct Job {
    finish_v: u64, // f64 bits of the virtual finish time; positive floats order like their bits
    seq: u64,
    arrived: Time,
    started: Time,
    req: ReqId,
}

// Jobs order by virtual finish, ties by start order; `seq` is unique, so nothing else is compared.
impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.finish_v, self.seq).cmp(&(other.finish_v, other.seq))
    }
}

/// Describes one of the server's life events, for the narrative.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerEvent {
    /// When.
    pub at: Time,
    /// What happened, in words.
    pub what: String,
}

/// A server component.
pub struct Server {
    /// Component name.
    pub name: String,
    spec: ServerSpec,
    rng: RngStream,
    service: Dist,
    vcpus: u32,
    memory: u64,
    price: f64,
    /// Instance type currently running.
    pub instance: String,
    state: State,
    billed: bool,
    stopped: bool,
    hung: bool,
    speed: f64,
    down_epoch: u64,
    active: BinaryHeap<Reverse<Job>>,
    backlog: VecDeque<(ReqId, Time)>,
    seq: u64,
    v: f64,
    last: Time,
    sched_epoch: u64,
    sched_at: Option<Time>,
    /// Counters since warm-up.
    pub stats: ServerStats,
    window_busy: f64,
    window_capacity: f64,
    /// Life events (crashes, restarts, resizes), in order.
    pub events: Vec<ServerEvent>,
    /// Dollars billed since time zero (never reset).
    pub cost_total: f64,
    busy_total: f64,
    capacity_total: f64,
    arrivals_total: u64,
}

impl Server {
    /// A server from its spec.
    pub fn new(name: &str, spec: ServerSpec, seed: u64) -> Self {
        Self {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("server/{name}")),
            service: spec.service.sampler(),
            vcpus: spec.vcpus,
            memory: spec.memory,
            price: spec.price_per_hour,
            instance: spec.instance.clone(),
            state: if spec.starts_up {
                State::Up
            } else {
                State::Off
            },
            billed: spec.starts_up,
            stopped: false,
            hung: false,
            speed: 1.0,
            down_epoch: 0,
            active: BinaryHeap::with_capacity(spec.workers.min(4096) as usize),
            backlog: VecDeque::new(),
            seq: 0,
            v: 0.0,
            last: 0,
            sched_epoch: 0,
            sched_at: None,
            stats: ServerStats::default(),
            window_busy: 0.0,
            window_capacity: 0.0,
            events: Vec::new(),
            cost_total: 0.0,
            busy_total: 0.0,
            capacity_total: 0.0,
            arrivals_total: 0,
            spec,
        }
    }

    /// Schedules the resizes (call once at time zero).
    pub fn start(&mut self, ctx: &mut Ctx) {
        for (i, &(at, _, _)) in self.spec.resizes.iter().enumerate() {
            ctx.timer_at(at, Timer::Resize(i as u32));
        }
        ctx.registry.of_mut(ctx.me).az = self.spec.az;
        ctx.registry.of_mut(ctx.me).instance = true;
        if self.spec.starts_up {
            ctx.registry
                .set_lifecycle(ctx.me, crate::model::registry::Lifecycle::InService);
        }
        self.publish(ctx);
    }

    /// Writes this instance's status into the control plane.
    #[inline]
    fn publish(&self, ctx: &mut Ctx) {
        let st = ctx.registry.of_mut(ctx.me);
        st.up = self.state == State::Up;
        st.stopped = self.stopped;
        st.in_flight = (self.active.len() + self.backlog.len()) as u32;
        st.busy_area = self.busy_total;
        st.capacity_area = self.capacity_total;
        st.arrivals = self.arrivals_total;
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
    pub fn in_service(&self) -> usize {
        self.active.len()
    }

    /// Requests waiting in the backlog.
    pub fn queued(&self) -> usize {
        self.backlog.len()
    }

    /// vCPUs of the running instance.
    pub fn vcpus(&self) -> u32 {
        self.vcpus
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
            + (self.active.len() + self.backlog.len()) as u64 * self.spec.memory_per_request
    }

    #[inline]
    fn rate(&self, n: usize) -> f64 {
        if n == 0 || self.hung {
            0.0
        } else if n as u32 <= self.vcpus {
            self.speed
        } else {
            self.speed * f64::from(self.vcpus) / n as f64
        }
    }

    /// Brings the integrals and the virtual clock up to `now`.
    #[inline]
    fn advance(&mut self, now: Time) {
        let dt = (now - self.last) as f64;
        if dt > 0.0 {
            let n = self.active.len();
            self.v += dt * self.rate(n);
            let busy = if self.hung || self.state != State::Up {
                0.0
            } else {
                n.min(self.vcpus as usize) as f64
            };
            let cap = if self.state == State::Up {
                f64::from(self.vcpus)
            } else {
                0.0
            };
            self.busy_total += dt * busy;
            self.capacity_total += dt * cap;
            self.stats.busy_area += dt * busy;
            self.stats.capacity_area += dt * cap;
            self.window_busy += dt * busy;
            self.window_capacity += dt * cap;
            self.stats.in_system_area += dt * (n + self.backlog.len()) as f64;
            if self.billed {
                let dollars = self.price * dt / 3600e9;
                self.stats.cost += dollars;
                self.cost_total += dollars;
            }
        }
        self.last = now;
    }

    /// Resets the counters (at the end of warm-up).
    pub fn reset_stats(&mut self, now: Time) {
        self.advance(now);
        self.stats = ServerStats {
            since: now,
            ..ServerStats::default()
        };
    }

    /// Busy and available vCPU·ns since the last call; starts a new window.
    pub fn sample_window(&mut self, now: Time) -> (f64, f64) {
        self.advance(now);
        let out = (self.window_busy, self.window_capacity);
        self.window_busy = 0.0;
        self.window_capacity = 0.0;
        out
    }

    /// Dollars billed since time zero, up to `now`.
    pub fn cost_so_far(&mut self, now: Time) -> f64 {
        self.advance(now);
        self.cost_total
    }

    /// The spec it was built from.
    pub fn spec(&self) -> &ServerSpec {
        &self.spec
    }

    fn reschedule(&mut self, ctx: &mut Ctx) {
        let rate = self.rate(self.active.len());
        let next = match self.active.peek() {
            Some(Reverse(job)) if rate > 0.0 => {
                let remaining = (f64::from_bits(job.finish_v) - self.v).max(0.0);
                Some(ctx.now() + (remaining / rate).ceil() as Time)
            }
            _ => None,
        };
        if next != self.sched_at {
            self.sched_epoch += 1;
            self.sched_at = next;
            if let Some(t) = next {
                ctx.timer_at(t, Timer::ServiceDone(self.sched_epoch));
            }
        }
    }

    fn start_job(&mut self, req: ReqId, arrived: Time, ctx: &mut Ctx) {
        let now = ctx.now();
        let (work, tls) = ctx
            .reqs
            .get(req)
            .map_or((1.0, true), |r| (r.work, r.tls_terminated));
        let mut demand = self.service.sample_scaled(&mut self.rng, work) as f64;
        if !tls {
            demand += self.spec.tls_cpu as f64;
        }
        self.seq += 1;
        self.active.push(Reverse(Job {
            finish_v: (self.v + demand).to_bits(),
            seq: self.seq,
            arrived,
            started: now,
            req,
        }));
    }

    fn refuse(&mut self, req: ReqId, outcome: Outcome, ctx: &mut Ctx) {
        if let Some(r) = ctx.reqs.get_mut(req) {
            r.outcome = outcome;
        }
        ctx.respond(req, &mut self.rng);
    }

    /// Handles one message.
    #[inline]
    pub fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        self.handle_inner(msg, ctx);
        self.publish(ctx);
    }

    fn handle_inner(&mut self, msg: Msg, ctx: &mut Ctx) {
        let now = ctx.now();
        self.advance(now);
        match msg {
            Msg::Request(req) => {
                self.stats.arrivals += 1;
                self.arrivals_total += 1;
                if self.state != State::Up {
                    self.stats.refused += 1;
                    self.refuse(req, Outcome::Refused, ctx);
                    return;
                }
                let room = self.active.len() < self.spec.workers as usize;
                if !room && self.backlog.len() >= self.spec.backlog as usize {
                    self.stats.refused += 1;
                    self.refuse(req, Outcome::Refused, ctx);
                    return;
                }
                let held = (self.active.len() + self.backlog.len() + 1) as u64;
                if self.spec.memory_per_request > 0
                    && self.spec.memory_base + held * self.spec.memory_per_request > self.memory
                {
                    self.stats.oom_crashes += 1;
                    self.events.push(ServerEvent {
                        at: now,
                        what: format!("ran out of memory with {held} requests held and crashed"),
                    });
                    self.backlog.push_back((req, now));
                    self.crash(ctx, Some(self.spec.restart));
                    return;
                }
                if room {
                    self.start_job(req, now, ctx);
                    self.reschedule(ctx);
                } else {
                    self.backlog.push_back((req, now));
                }
            }
            Msg::Timer(Timer::ServiceDone(epoch)) => {
                if epoch != self.sched_epoch {
                    return;
                }
                self.sched_at = None;
                // Everything whose virtual finish has been reached (ties and rounding included).
                let slack = self.rate(self.active.len()).max(1e-9);
                while let Some(Reverse(job)) = self.active.peek() {
                    if f64::from_bits(job.finish_v) > self.v + slack {
                        break;
                    }
                    let Reverse(job) = self.active.pop().expect("peeked");
                    self.complete(job, ctx);
                }
                while self.active.len() < self.spec.workers as usize {
                    let Some((req, arrived)) = self.backlog.pop_front() else {
                        break;
                    };
                    self.start_job(req, arrived, ctx);
                }
                self.reschedule(ctx);
            }
            Msg::Timer(Timer::Restart(epoch)) => {
                if self.state == State::Down && epoch == self.down_epoch {
                    self.state = State::Up;
                    self.billed = true;
                    self.stopped = false;
                    self.events.push(ServerEvent {
                        at: now,
                        what: format!("back up as {} ({} vCPU)", self.instance, self.vcpus),
                    });
                }
            }
            Msg::Timer(Timer::Resize(i)) => {
                let (_, to, downtime) = self.spec.resizes[i as usize];
                self.events.push(ServerEvent {
                    at: now,
                    what: format!(
                        "stopped for a resize from {} to {} ({} down)",
                        self.instance,
                        to.name,
                        crate::engine::time::human(downtime)
                    ),
                });
                self.crash(ctx, Some(downtime));
                self.stats.crashes -= 1; // a planned stop is not a crash
                self.billed = false; // a stopped instance is not billed
                self.vcpus = to.vcpus;
                self.memory = u64::from(to.memory_gib) << 30;
                self.price = to.price_per_hour;
                self.instance = to.name.to_string();
            }
            Msg::Timer(Timer::BootDone(epoch)) => {
                if self.state == State::Booting && epoch == self.down_epoch {
                    self.state = State::Up;
                    self.events.push(ServerEvent {
                        at: now,
                        what: "booted and in service".into(),
                    });
                }
            }
            Msg::Control(c) => self.control(c, ctx),
            Msg::Response(req) => {
                // A server calls nothing downstream (yet): pass any answer back up.
                ctx.respond(req, &mut self.rng);
            }
            Msg::Timer(_) => {}
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
                    self.hung = false;
                    self.speed = 1.0;
                    self.down_epoch += 1;
                    // A new instance boots with the original type.
                    self.vcpus = self.spec.vcpus;
                    self.memory = self.spec.memory;
                    ctx.registry.of_mut(ctx.me).launched_at = now;
                    if c == Control::Launch {
                        ctx.timer(self.spec.boot_time.max(1), Timer::BootDone(self.down_epoch));
                    }
                }
            }
            Control::Terminate => {
                if self.state != State::Off {
                    self.events.push(ServerEvent {
                        at: now,
                        what: "terminated".into(),
                    });
                    self.crash(ctx, None);
                    self.stats.crashes -= 1; // a termination is not a crash
                    self.state = State::Off;
                    self.billed = false;
                    self.stopped = false;
                }
            }
            Control::DnsOutage => {}
            Control::Crash => {
                if self.state == State::Up {
                    self.events.push(ServerEvent {
                        at: now,
                        what: "crashed (fault injected)".into(),
                    });
                    self.crash(ctx, Some(self.spec.restart));
                }
            }
            Control::Stop => {
                if matches!(self.state, State::Up | State::Booting | State::Down) {
                    self.events.push(ServerEvent {
                        at: now,
                        what: "stopped (fault injected)".into(),
                    });
                    self.crash(ctx, None);
                    self.stopped = true;
                }
            }
            Control::Hang => {
                self.events.push(ServerEvent {
                    at: now,
                    what: "hung: accepts but never answers".into(),
                });
                self.hung = true;
                self.reschedule(ctx);
            }
            Control::Slow(permille) => {
                self.events.push(ServerEvent {
                    at: now,
                    what: format!("slowed down {:.1}×", f64::from(permille) / 1000.0),
                });
                self.speed = 1000.0 / f64::from(permille.max(1));
                self.reschedule(ctx);
            }
            Control::Recover => {
                if self.state == State::Off {
                    return;
                }
                self.events.push(ServerEvent {
                    at: now,
                    what: "recovered".into(),
                });
                self.hung = false;
                self.speed = 1.0;
                if self.state == State::Down {
                    self.down_epoch += 1;
                    self.state = State::Up;
                    self.billed = true;
                    self.stopped = false;
                }
                self.reschedule(ctx);
            }
        }
    }

    /// Drops everything held (connections reset) and goes down; back after `restart`, if given.
    fn crash(&mut self, ctx: &mut Ctx, restart: Option<Time>) {
        self.stats.crashes += 1;
        let mut jobs: Vec<Job> = self.active.drain().map(|Reverse(j)| j).collect();
        jobs.sort_by_key(|j| (j.started, j.seq)); // a deterministic order for the resets
        let now = ctx.now();
        for j in jobs {
            self.stats.reset += 1;
            self.stats.reset_sojourn_sum += (now - j.arrived) as f64;
            self.refuse(j.req, Outcome::Crashed, ctx);
        }
        while let Some((req, arrived)) = self.backlog.pop_front() {
            self.stats.reset += 1;
            self.stats.reset_sojourn_sum += (now - arrived) as f64;
            self.refuse(req, Outcome::Crashed, ctx);
        }
        self.state = State::Down;
        self.hung = false;
        self.down_epoch += 1;
        self.sched_epoch += 1;
        self.sched_at = None;
        if let Some(d) = restart {
            ctx.timer(d.max(1), Timer::Restart(self.down_epoch));
        }
    }

    fn complete(&mut self, job: Job, ctx: &mut Ctx) {
        let now = ctx.now();
        self.stats.completed += 1;
        let wait = job.started - job.arrived;
        if wait > 0 {
            self.stats.waited += 1;
        }
        self.stats.wait_sum += wait as f64;
        self.stats.sojourn_sum += (now - job.arrived) as f64;
        ctx.respond(job.req, &mut self.rng);
    }
}

/// Default restart delay after a crash: 60 s (aws-semantics.md §2: app warm-up 30–120 s, model).
pub const DEFAULT_RESTART: Time = 60 * SEC;
/// Default resize downtime: 3 min (aws-semantics.md §2: stop 30–60 s + start ≈30 s + app warm-up).
pub const DEFAULT_RESIZE_DOWNTIME: Time = 180 * SEC;
