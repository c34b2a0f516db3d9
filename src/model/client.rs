//! The client population: closed-loop users with think time, open Poisson streams (validation
//! runs, bots), a weighted request mix, client timeouts, and retries with exponential backoff and
//! jitter. The load curve (daily shape, spikes) moves the number of active users and the rates.
//!
//! One logical request (a user's click) may take several attempts; it ends in exactly one outcome,
//! recorded once, with its latency measured from the first attempt to the final answer.
//!
//! A recorded trace ([`super::trace`]) adds open-loop arrivals of its own: each row one request,
//! at its time, of its class, from its key.

use super::dist::{exp_gap, Dist, DistConfig};
use super::kit::{Behaviour, GaugeSum};
use super::request::{client_key, Outcome, ReqId, ReqState};
use super::trace::{Replay, TraceConfig, TraceSpec, TRACE_NEXT};
use super::{Code, CompId, Ctx, Msg, Timer};

/// A user finished thinking (payload: user index).
const USER_WAKE: Code = Code(0);
/// The next open-loop arrival of a stream (payload: stream tag).
const ARRIVAL: Code = Code(1);
/// The earliest armed attempt deadline.
const TIMEOUT: Code = Code(2);
/// A retry's backoff has passed: send it.
const RETRY: Code = Code(3);
/// Re-evaluate the load curve.
const LOAD_TICK_TIMER: Code = Code(4);
/// The earliest armed patience deadline of an impatient user.
const PATIENCE: Code = Code(5);
use crate::engine::time::{Time, SEC};
use crate::engine::RngStream;
use crate::scenario::units::{Duration, Rate};
use serde::{Deserialize, Serialize};

/// `[workload]` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadConfig {
    /// Concurrent users in a closed loop (each waits for an answer, thinks, then clicks again).
    pub users: Option<u32>,
    /// Think time between a user's answer and their next click. Default exponential, mean 8s.
    pub think_time: Option<DistConfig>,
    /// Open-loop Poisson arrivals instead of users (validation runs, or traffic that never waits).
    pub arrival_rate: Option<Rate>,
    /// How long a client waits for an answer before giving up. Default: forever.
    pub timeout: Option<Duration>,
    /// Retries after a failed attempt. Default: none.
    pub retries: Option<RetryConfig>,
    /// The component the users connect to. Default: the only component that isn't a fault target.
    pub target: Option<String>,
    /// Short bursts of extra load on top of the base level.
    #[serde(default)]
    pub spikes: Vec<SpikeConfig>,
    /// 24 hourly multipliers of the base load (hour 0 first), linearly interpolated.
    pub daily_curve: Option<Vec<f64>>,
    /// Hour of day at which the run starts, for `daily_curve`. Default 0.
    pub start_hour: Option<f64>,
    /// Kinds of request and their shares. Default: one class called "request".
    #[serde(default)]
    pub mix: Vec<ClassConfig>,
    /// Open-loop automated traffic with its own rate, independent of the load curve.
    #[serde(default)]
    pub bots: Vec<BotConfig>,
    /// Recorded arrivals replayed from a CSV file (relative to the scenario file's folder), on
    /// top of the users, the arrival rate and the bots: `"traces/x.csv"` or
    /// `{ file = "traces/x.csv", start = "0s", speed = 1.0 }`. Each row is one open-loop request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceConfig>,
    /// Impatient users who refresh a slow page: `{ share = "30%", patience = "3s", max = 3 }`.
    /// Default: nobody refreshes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<RefreshConfig>,
}

/// `refresh = { share = "30%", patience = "3s", max = 3 }`: a share of the users give up on a
/// page that has not answered within their patience and load it again at once (the old attempt
/// keeps running on the servers, unseen: nobody cancels it). The user's click still ends in one
/// outcome, timed from the first try; the re-sends count as offered load with the retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshConfig {
    /// Share of the users who refresh ("30%" or 0.3); spread evenly over the users.
    pub share: crate::scenario::units::Fraction,
    /// How long such a user waits for a page before refreshing it.
    pub patience: Duration,
    /// Refreshes of one click at most (then they wait for it, up to the timeout). Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// Impatient users after validation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefreshSpec {
    /// Share of the users who refresh, in millionths.
    pub per_million: u32,
    /// Patience, ns.
    pub patience: Time,
    /// Refreshes of one click at most.
    pub max: u8,
}

impl RefreshSpec {
    /// Whether user `u` is one of the impatient: exactly `per_million` in a million users,
    /// spread evenly over the indices (user `u` is when the running count
    /// `⌊(u + 1) × share⌋` steps up at `u`), so the share holds at every number of active users.
    #[inline]
    pub fn impatient(&self, u: u32) -> bool {
        let p = u64::from(self.per_million);
        (u64::from(u) + 1) * p / 1_000_000 > u64::from(u) * p / 1_000_000
    }
}

/// `retries = { max = 2, backoff = "exponential", base = "200ms", jitter = true }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt (so at most max + 1 attempts).
    pub max: u32,
    /// "exponential" (base × 2^(n-1)) or "constant" (base). Default exponential.
    #[serde(default)]
    pub backoff: Backoff,
    /// First backoff. Default 100ms.
    pub base: Option<Duration>,
    /// Largest backoff. Default 10s.
    pub cap: Option<Duration>,
    /// Full jitter: wait uniform(0, backoff) instead of backoff. Default true.
    pub jitter: Option<bool>,
    /// Retry budget: retries may be at most this share of first attempts, e.g. "10%" (each first
    /// attempt deposits this much of a token, each retry takes one; the balance holds at most the
    /// last 10 s of deposits, as Finagle's RetryBudget). Default: no budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<crate::scenario::units::Fraction>,
}

/// Backoff growth.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// base × 2^(retry − 1), capped.
    #[default]
    Exponential,
    /// Always base.
    Constant,
}

/// `{ at = "40m", multiplier = 10, ramp = "2m", hold = "15m" }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpikeConfig {
    /// When the ramp up starts.
    pub at: Duration,
    /// Peak load as a multiple of the base.
    pub multiplier: f64,
    /// Length of the linear ramp up (and of the ramp down). Default 0 (a step).
    #[serde(default)]
    pub ramp: Duration,
    /// How long the peak lasts.
    pub hold: Duration,
}

/// `{ name = "browse", path = "/products", weight = 0.8, work = 1.0 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassConfig {
    /// Name used in reports.
    pub name: String,
    /// URL path (used by path-routing components).
    pub path: Option<String>,
    /// Relative share of requests.
    pub weight: f64,
    /// CPU work relative to the server's service-time distribution. Default 1.
    pub work: Option<f64>,
    /// Size of the answer, e.g. "2MB": it takes size × 8 / `network.regions.bandwidth_mbps` over
    /// the users' last mile. Needs `[network.regions]`. Default 0 (the transfer is not modelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<crate::scenario::units::Bytes>,
}

/// `{ name = "scraper", rate = "20/s", path = "/login" }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// Name used in reports (as its own request class).
    pub name: String,
    /// Poisson rate.
    pub rate: Rate,
    /// URL path.
    pub path: Option<String>,
    /// CPU work multiplier. Default 1.
    pub work: Option<f64>,
    /// Start time. Default 0.
    pub from: Option<Duration>,
    /// End time. Default: end of run.
    pub until: Option<Duration>,
    /// How many distinct clients it sends from (IP addresses or API keys, as a rate limiter
    /// keys them), each request from one at random. Default 1: one address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<u32>,
}

/// A request class after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassSpec {
    /// Name.
    pub name: String,
    /// Path, if any.
    pub path: Option<String>,
    /// Work multiplier.
    pub work: f64,
}

/// An open-loop stream after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSpec {
    /// Base rate, per second.
    pub rate: f64,
    /// Follows the load curve (main arrivals) or not (bots).
    pub follows_curve: bool,
    /// Fixed class (bots) or `None` (drawn from the mix).
    pub class: Option<u16>,
    /// Active from.
    pub from: Time,
    /// Active until.
    pub until: Time,
    /// Its population (0 the users' arrivals, 1 + i bot i) and how many client keys it draws
    /// from (0: a new one per arrival, counting up).
    pub population: u8,
    /// Client keys (see [`crate::model::request::client_key`]).
    pub keys: u32,
}

/// The load curve: base level × daily shape × spikes.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadCurve {
    /// Spikes (at, multiplier, ramp, hold) in ns.
    pub spikes: Vec<(Time, f64, Time, Time)>,
    /// Hourly multipliers.
    pub daily: Option<Vec<f64>>,
    /// Hour of day at t = 0.
    pub start_hour: f64,
}

impl LoadCurve {
    /// True when the level never changes.
    pub fn is_flat(&self) -> bool {
        self.spikes.is_empty() && self.daily.is_none()
    }

    /// The largest multiplier the curve ever reaches (sizes the user population).
    pub fn max_multiplier(&self) -> f64 {
        let daily = self
            .daily
            .as_ref()
            .map_or(1.0, |d| d.iter().copied().fold(0.0, f64::max));
        let spike = self.spikes.iter().map(|s| s.1).fold(1.0, f64::max);
        daily * spike
    }

    /// The load multiplier at time `t`.
    pub fn multiplier(&self, t: Time) -> f64 {
        let mut m = 1.0;
        if let Some(d) = &self.daily {
            let h = (self.start_hour + t as f64 / 3600e9).rem_euclid(24.0);
            let i = h.floor() as usize % 24;
            let f = h - h.floor();
            m *= d[i] * (1.0 - f) + d[(i + 1) % 24] * f;
        }
        let mut spike: f64 = 1.0;
        for &(at, mult, ramp, hold) in &self.spikes {
            let s = if t < at {
                1.0
            } else if t < at + ramp {
                1.0 + (mult - 1.0) * (t - at) as f64 / ramp as f64
            } else if t < at + ramp + hold {
                mult
            } else if t < at + 2 * ramp + hold {
                mult - (mult - 1.0) * (t - at - ramp - hold) as f64 / ramp as f64
            } else {
                1.0
            };
            spike = spike.max(s);
        }
        m * spike
    }
}

/// The workload after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientSpec {
    /// Closed-loop users at base level.
    pub users: u32,
    /// Think time.
    pub think: DistConfig,
    /// Open streams (main arrivals first, then bots).
    pub streams: Vec<StreamSpec>,
    /// Client timeout, if any.
    pub timeout: Option<Time>,
    /// Retries: (max, backoff, base, cap, jitter).
    pub retry: Option<(u32, Backoff, Time, Time, bool)>,
    /// The retry budget, in millionths of a token per first attempt, if any.
    pub retry_budget: Option<u32>,
    /// Entry component.
    pub entry: CompId,
    /// Classes (mix first, then bots).
    pub classes: Vec<ClassSpec>,
    /// Cumulative weights of the mix classes, ending at 1.
    pub mix_cdf: Vec<f64>,
    /// The load curve.
    pub curve: LoadCurve,
    /// Recorded arrivals, if the workload replays a trace.
    pub trace: Option<TraceSpec>,
    /// Impatient users, if any.
    pub refresh: Option<RefreshSpec>,
    /// The users' regions and their cumulative shares, with `[network.regions]`.
    pub regions: Option<Vec<(u8, f64)>>,
}

impl ClientSpec {
    /// The mean work of a request over the mix (1 = one request of the servers' `service`).
    pub fn mean_work(&self) -> f64 {
        let mut prev = 0.0;
        let mut w = 0.0;
        for (i, c) in self.mix_cdf.iter().enumerate() {
            w += (c - prev) * self.classes[i].work;
            prev = *c;
        }
        if w > 0.0 {
            w
        } else {
            1.0
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UserState {
    Asleep,
    Thinking,
    Waiting,
}

/// The client population component.
pub struct Client {
    spec: ClientSpec,
    rng: RngStream,
    think: Dist,
    users: Vec<UserState>,
    target_users: u32,
    stream_epoch: Vec<u32>,
    stream_rate: Vec<f64>,
    /// Mean gap between a stream's arrivals at its current rate, ns (`1e9 / rate`).
    stream_gap_ns: Vec<f64>,
    /// Pending timeouts in deadline order. Every attempt gets the same timeout and time only moves
    /// forward, so deadlines arrive already sorted: a FIFO plus one timer for its head replaces a
    /// heap entry per request (most of which would be dead by the time they fire).
    timeouts: Deadlines,
    /// Pending patience deadlines of impatient users' attempts (one patience for all, so a FIFO
    /// as for the timeouts).
    patience: Deadlines,
    /// Open-loop arrivals so far (the client key of streams that give each arrival its own).
    arrivals: u32,
    /// The trace's rows and the next one to send (empty without a trace).
    trace: Replay,
    /// The retry budget's balance, if the workload has one.
    budget: Option<super::retry_budget::RetryBudget>,
    /// With regions: each user's region (fixed for the run) and the stream open-loop arrivals
    /// draw theirs from.
    regions: Option<(Vec<u8>, RngStream)>,
}

/// A region drawn from cumulative shares.
fn draw_region(cdf: &[(u8, f64)], u: f64) -> u8 {
    cdf.iter()
        .find(|&&(_, c)| u < c)
        .or(cdf.last())
        .map_or(0, |&(r, _)| r)
}

/// Deadlines a fixed time after each attempt is sent (its timeout, or an impatient user's
/// patience), in deadline order. Every attempt gets the same delay and time only moves forward,
/// so deadlines arrive already sorted: a FIFO plus one timer for its head replaces a heap entry
/// per request (most of which would be dead by the time they fire).
struct Deadlines {
    /// How long after an attempt is sent its deadline falls.
    after: Time,
    /// The timer code of its one pending timer.
    code: Code,
    queue: std::collections::VecDeque<(Time, ReqId)>,
    armed: bool,
}

impl Deadlines {
    fn new(after: Time, code: Code) -> Self {
        Self {
            after,
            code,
            queue: std::collections::VecDeque::new(),
            armed: false,
        }
    }

    /// Watches attempt `id`, sent at `sent`.
    #[inline]
    fn push(&mut self, sent: Time, id: ReqId, ctx: &mut Ctx) {
        self.queue.push_back((sent + self.after, id));
        self.arm(ctx);
    }

    /// Whether `id` still waits for the deadline `at` (answered attempts have been freed, or
    /// are no longer pending; a retry or reload is a new attempt with its own deadline).
    #[inline]
    fn live(&self, at: Time, id: ReqId, ctx: &Ctx) -> bool {
        ctx.reqs
            .get(id)
            .is_some_and(|r| r.state == ReqState::Pending && r.sent + self.after == at)
    }

    /// Makes sure one timer is pending for the earliest live deadline, dropping the dead ones
    /// before it.
    fn arm(&mut self, ctx: &mut Ctx) {
        if self.armed {
            return;
        }
        while let Some(&(at, id)) = self.queue.front() {
            if self.live(at, id, ctx) {
                break;
            }
            self.queue.pop_front();
        }
        if let Some(&(at, id)) = self.queue.front() {
            self.armed = true;
            ctx.timer_at(at, Timer::Req(self.code, id));
        }
    }

    /// Its timer fired.
    fn fired(&mut self) {
        self.armed = false;
    }

    /// The next attempt whose deadline has passed and that still waits for it.
    fn pop_due(&mut self, ctx: &Ctx) -> Option<ReqId> {
        let now = ctx.now();
        while let Some(&(at, id)) = self.queue.front() {
            if at > now {
                return None;
            }
            self.queue.pop_front();
            if self.live(at, id, ctx) {
                return Some(id);
            }
        }
        None
    }
}

/// Period of load-curve re-evaluation when the curve is not flat.
pub const LOAD_TICK: Time = SEC;

impl Client {
    /// A population from its spec; `seed` derives its random stream.
    pub fn new(spec: ClientSpec, seed: u64) -> Self {
        let n = (f64::from(spec.users) * spec.curve.max_multiplier()).ceil() as usize;
        let k = spec.streams.len();
        Self {
            think: spec.think.sampler(),
            rng: RngStream::new(seed, "client"),
            users: vec![UserState::Asleep; n],
            target_users: 0,
            stream_epoch: vec![0; k],
            stream_rate: vec![0.0; k],
            stream_gap_ns: vec![0.0; k],
            timeouts: Deadlines::new(spec.timeout.unwrap_or(0), TIMEOUT),
            patience: Deadlines::new(spec.refresh.map_or(0, |rf| rf.patience), PATIENCE),
            arrivals: 0,
            trace: Replay::new(spec.trace.as_ref()),
            budget: spec.retry_budget.map(super::retry_budget::RetryBudget::new),
            regions: spec.regions.as_ref().map(|cdf| {
                let mut rng = RngStream::new(seed, "client/regions");
                let users = (0..n).map(|_| draw_region(cdf, rng.open01())).collect();
                (users, rng)
            }),
            spec,
        }
    }

    /// Trace rows sent so far.
    pub fn trace_replayed(&self) -> u64 {
        self.trace.replayed()
    }

    /// The trace's next row is due: send every row due now, then wait for the one after them.
    #[inline(always)]
    fn replay(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        while let Some(row) = self.trace.pop_due(now) {
            self.begin(row.class, u32::MAX, row.key, ctx);
        }
        if let Some(at) = self.trace.next_at() {
            ctx.timer_at(at, Timer::Bare(TRACE_NEXT));
        }
    }

    /// Users currently meant to be active.
    pub fn active_users(&self) -> u32 {
        self.target_users
    }

    fn apply_curve(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        let m = self.spec.curve.multiplier(now);
        let target =
            ((f64::from(self.spec.users) * m).round() as u64).min(self.users.len() as u64) as u32;
        if target > self.target_users {
            for u in self.target_users..target {
                if self.users[u as usize] == UserState::Asleep {
                    self.users[u as usize] = UserState::Thinking;
                    let d = self.think.sample(&mut self.rng);
                    ctx.timer(d, Timer::Word(USER_WAKE, u));
                }
            }
        }
        self.target_users = target;
        for i in 0..self.spec.streams.len() {
            let s = &self.spec.streams[i];
            let active = now >= s.from && now < s.until;
            let rate = if !active {
                0.0
            } else if s.follows_curve {
                s.rate * m
            } else {
                s.rate
            };
            if rate != self.stream_rate[i] {
                // Memorylessness: redrawing the gap at a rate change is exact for piecewise-constant rates.
                self.stream_rate[i] = rate;
                self.stream_gap_ns[i] = if rate > 0.0 { 1e9 / rate } else { 0.0 };
                self.stream_epoch[i] = self.stream_epoch[i].wrapping_add(1) & 0xff_ffff;
                if rate > 0.0 {
                    let gap = exp_gap(&mut self.rng, self.stream_gap_ns[i]);
                    ctx.timer(gap, Timer::Word(ARRIVAL, self.stream_timer(i)));
                }
            }
        }
    }

    fn stream_timer(&self, i: usize) -> u32 {
        (self.stream_epoch[i] << 8) | i as u32
    }

    fn pick_class(&mut self) -> u16 {
        let cdf = &self.spec.mix_cdf;
        if cdf.len() == 1 {
            return 0;
        }
        let u = self.rng.open01();
        cdf.iter().position(|&c| u < c).unwrap_or(cdf.len() - 1) as u16
    }

    /// The next open-loop arrival of a stream.
    #[inline(always)]
    fn arrival(&mut self, tag: u32, ctx: &mut Ctx) {
        let i = (tag & 0xff) as usize;
        if tag >> 8 != self.stream_epoch[i] || self.stream_rate[i] <= 0.0 {
            return; // superseded by a rate change
        }
        let class = match self.spec.streams[i].class {
            Some(c) => c,
            None => self.pick_class(),
        };
        let st = &self.spec.streams[i];
        let client = match st.keys {
            0 => {
                self.arrivals = self.arrivals.wrapping_add(1);
                self.arrivals
            }
            1 => 0,
            n => self.rng.below(u64::from(n)) as u32,
        };
        let key = client_key(st.population, client);
        self.begin(class, u32::MAX, key, ctx);
        let gap = exp_gap(&mut self.rng, self.stream_gap_ns[i]);
        ctx.timer(gap, Timer::Word(ARRIVAL, tag));
    }

    /// The answer to an attempt came back.
    #[inline(always)]
    fn answered(&mut self, id: ReqId, ctx: &mut Ctx) {
        let Some(r) = ctx.reqs.get(id) else { return };
        match r.state {
            ReqState::Abandoned => ctx.reqs.free(id),
            ReqState::Pending => {
                let outcome = r.outcome;
                if outcome == Outcome::Ok {
                    let (class, user, first, trace) = (r.class, r.user, r.first_sent, r.trace);
                    ctx.reqs.free(id);
                    self.finish(class, user, first, Outcome::Ok, trace, ctx);
                } else {
                    self.failed(id, outcome, true, ctx);
                }
            }
            ReqState::Backoff => debug_assert!(false, "answer to an unsent retry {id:?}"),
        }
    }

    /// The earliest armed deadline passed: time out every attempt due.
    fn timeouts_due(&mut self, ctx: &mut Ctx) {
        self.timeouts.fired();
        while let Some(id) = self.timeouts.pop_due(ctx) {
            // Stop waiting; the slot lives until the late answer (if any) comes back.
            if let Some(r) = ctx.reqs.get_mut(id) {
                r.state = ReqState::Abandoned;
            }
            self.failed(id, Outcome::Timeout, false, ctx);
        }
        self.timeouts.arm(ctx);
    }

    /// Load-curve ticks, and anything nobody should send the users.
    #[cold]
    #[inline(never)]
    fn on_rare(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Timer(Timer::Bare(LOAD_TICK_TIMER)) => {
                self.apply_curve(ctx);
                ctx.timer(LOAD_TICK, Timer::Bare(LOAD_TICK_TIMER));
            }
            Msg::Request(id) => {
                // Nobody sends requests to users; answer with an error rather than lose it.
                if let Some(r) = ctx.reqs.get_mut(id) {
                    r.outcome = Outcome::Error;
                }
                ctx.respond(id, &mut self.rng);
            }
            _ => {}
        }
    }

    #[inline(always)]
    fn user_wakes(&mut self, u: u32, ctx: &mut Ctx) {
        if u >= self.target_users {
            self.users[u as usize] = UserState::Asleep;
            return;
        }
        self.users[u as usize] = UserState::Waiting;
        let class = self.pick_class();
        self.begin(class, u, client_key(0, u), ctx);
    }

    #[inline(always)]
    fn begin(&mut self, class: u16, user: u32, key: u32, ctx: &mut Ctx) {
        let work = self.spec.classes[class as usize].work;
        let id = ctx.reqs.alloc(class, user, ctx.now(), work);
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.key = key;
        }
        if self.regions.is_some() {
            self.set_region(id, user, ctx);
        }
        ctx.metrics.request_started();
        if let Some(b) = &mut self.budget {
            b.deposit(ctx.now());
        }
        self.send_attempt(id, ctx);
    }

    /// With regions: the request carries its user's region (drawn once per user; an open-loop
    /// arrival draws its own).
    #[cold]
    #[inline(never)]
    fn set_region(&mut self, id: ReqId, user: u32, ctx: &mut Ctx) {
        let Some((users, rng)) = &mut self.regions else {
            return;
        };
        let region = match users.get(user as usize) {
            Some(&region) => region,
            None => draw_region(
                self.spec.regions.as_deref().unwrap_or_default(),
                rng.open01(),
            ),
        };
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.region = region;
        }
    }

    #[inline(always)]
    fn send_attempt(&mut self, id: ReqId, ctx: &mut Ctx) {
        let now = ctx.now();
        let me = ctx.me;
        let Some(r) = ctx.reqs.get_mut(id) else {
            return;
        };
        r.sent = now;
        r.state = ReqState::Pending;
        r.push_hop(me, 0);
        // Neither the first try nor an impatient user's reload of the page.
        let retry = r.attempt > r.refreshes + 1;
        ctx.metrics.attempt_sent(now, retry);
        let entry = self.spec.entry;
        let d = ctx.hop_delay_for(entry, id, false, &mut self.rng);
        ctx.send(entry, Msg::Request(id), d);
        if self.spec.timeout.is_some() {
            self.timeouts.push(now, id, ctx);
        }
        if let Some(rf) = self.spec.refresh {
            self.watch_patience(id, rf, ctx);
        }
    }

    /// An impatient user's attempt that may still be refreshed: note when their patience runs out.
    #[cold]
    #[inline(never)]
    fn watch_patience(&mut self, id: ReqId, rf: RefreshSpec, ctx: &mut Ctx) {
        let Some(r) = ctx.reqs.get(id) else { return };
        if r.user == u32::MAX || r.refreshes >= rf.max || !rf.impatient(r.user) {
            return;
        }
        let sent = r.sent;
        self.patience.push(sent, id, ctx);
    }

    /// The earliest patience deadline passed: every impatient user still waiting on an attempt
    /// sent that long ago reloads the page. The old attempt is abandoned (its slot lives until
    /// its answer comes back, as after a timeout); the new one is sent at once.
    #[cold]
    #[inline(never)]
    fn patience_due(&mut self, ctx: &mut Ctx) {
        self.patience.fired();
        let now = ctx.now();
        while let Some(id) = self.patience.pop_due(ctx) {
            let Some(r) = ctx.reqs.get_mut(id) else {
                continue;
            };
            r.state = ReqState::Abandoned;
            let (class, user, key, first, attempt, refreshes, work, region, trace) = (
                r.class,
                r.user,
                r.key,
                r.first_sent,
                r.attempt,
                r.refreshes,
                r.work,
                r.region,
                r.trace,
            );
            let next = ctx.reqs.alloc(class, user, first, work);
            let n = ctx.reqs.get_mut(next).expect("fresh");
            n.attempt = attempt.saturating_add(1);
            n.refreshes = refreshes + 1;
            n.key = key;
            n.region = region;
            n.trace = trace;
            ctx.metrics.refreshed(now);
            self.send_attempt(next, ctx);
        }
        self.patience.arm(ctx);
    }

    /// Attempt `id` failed with `outcome`. `answered`: the slot came back and can be freed (a
    /// timed-out slot is still out there and is freed when its answer returns).
    fn failed(&mut self, id: ReqId, outcome: Outcome, answered: bool, ctx: &mut Ctx) {
        if let Some(t) = ctx.metrics.tracer.as_deref_mut() {
            t.on_attempt_failed(ctx.reqs, id, outcome, ctx.sched.now());
        }
        let r = ctx.reqs.get(id).expect("live attempt");
        let (class, user, key, first, attempt, refreshes, work, region, trace) = (
            r.class,
            r.user,
            r.key,
            r.first_sent,
            r.attempt,
            r.refreshes,
            r.work,
            r.region,
            r.trace,
        );
        if answered {
            ctx.reqs.free(id);
        }
        if let Some((max, backoff, base, cap, jitter)) = self.spec.retry {
            // Refreshes are attempts too, but they don't use up the retries.
            let tries = attempt - refreshes;
            if u32::from(tries) <= max && attempt < u8::MAX && self.may_retry(ctx) {
                let next = ctx.reqs.alloc(class, user, first, work);
                let n = ctx.reqs.get_mut(next).expect("fresh");
                n.attempt = attempt + 1;
                n.refreshes = refreshes;
                n.key = key;
                n.region = region;
                n.trace = trace;
                n.state = ReqState::Backoff;
                let mut wait = match backoff {
                    Backoff::Exponential => base.saturating_mul(1u64 << (attempt - 1).min(40)),
                    Backoff::Constant => base,
                }
                .min(cap);
                if jitter {
                    wait = (self.rng.open01() * wait as f64) as Time;
                }
                ctx.timer(wait, Timer::Req(RETRY, next));
                return;
            }
        }
        self.finish(class, user, first, outcome, trace, ctx);
    }

    /// The retry budget (if any) allows one more retry now; a refusal is counted.
    fn may_retry(&mut self, ctx: &mut Ctx) -> bool {
        let Some(b) = &mut self.budget else {
            return true;
        };
        let now = ctx.now();
        let ok = b.withdraw(now);
        if !ok {
            ctx.metrics.retry_suppressed(now);
        }
        ok
    }

    #[inline(always)]
    fn finish(
        &mut self,
        class: u16,
        user: u32,
        first: Time,
        outcome: Outcome,
        trace: u32,
        ctx: &mut Ctx,
    ) {
        let now = ctx.now();
        ctx.metrics.request_ended(now, class, outcome, now - first);
        if trace != 0 {
            if let Some(t) = ctx.metrics.tracer.as_deref_mut() {
                t.on_end(trace, now, outcome);
            }
        }
        if user != u32::MAX {
            self.users[user as usize] = UserState::Thinking;
            let d = self.think.sample(&mut self.rng);
            ctx.timer(d, Timer::Word(USER_WAKE, user));
        }
    }
}

impl Behaviour for Client {
    /// Schedules the first events (call once at time zero).
    fn start(&mut self, ctx: &mut Ctx) {
        self.apply_curve(ctx);
        if !self.spec.curve.is_flat()
            || self
                .spec
                .streams
                .iter()
                .any(|s| s.from > 0 || s.until < Time::MAX)
        {
            ctx.timer(LOAD_TICK, Timer::Bare(LOAD_TICK_TIMER));
        }
        if let Some(at) = self.trace.next_at() {
            ctx.timer_at(at, Timer::Bare(TRACE_NEXT));
        }
    }

    /// Handles one message.
    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Timer(Timer::Word(USER_WAKE, u)) => self.user_wakes(u, ctx),
            Msg::Timer(Timer::Word(ARRIVAL, tag)) => self.arrival(tag, ctx),
            Msg::Response(id) => self.answered(id, ctx),
            Msg::Timer(Timer::Req(TIMEOUT, _)) => self.timeouts_due(ctx),
            Msg::Timer(Timer::Req(RETRY, id)) => self.send_attempt(id, ctx),
            Msg::Timer(Timer::Bare(TRACE_NEXT)) => self.replay(ctx),
            Msg::Timer(Timer::Req(PATIENCE, _)) => self.patience_due(ctx),
            other => self.on_rare(other, ctx),
        }
    }

    fn gauges(&mut self, _now: Time, g: &mut GaugeSum) {
        g.users = u64::from(self.active_users());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MIN;

    #[test]
    fn spike_ramps_holds_and_returns() {
        let c = LoadCurve {
            spikes: vec![(10 * MIN, 11.0, 2 * MIN, 5 * MIN)],
            daily: None,
            start_hour: 0.0,
        };
        assert_eq!(c.multiplier(0), 1.0);
        assert_eq!(c.multiplier(11 * MIN), 6.0); // half-way up the ramp
        assert_eq!(c.multiplier(12 * MIN), 11.0);
        assert_eq!(c.multiplier(16 * MIN), 11.0);
        assert_eq!(c.multiplier(18 * MIN), 6.0); // half-way down
        assert_eq!(c.multiplier(30 * MIN), 1.0);
    }

    #[test]
    fn the_impatient_are_the_share_at_every_number_of_users() {
        for (per_million, n, want) in [
            (300_000, 10, 3),
            (300_000, 1000, 300),
            (1_000_000, 7, 7),
            (0, 1000, 0),
            (1, 1_000_000, 1),
            (333_333, 3, 0), // ⌊3 × 0.333333⌋ = 0: the first impatient user is the fourth
            (333_333, 4, 1),
        ] {
            let rf = RefreshSpec {
                per_million,
                patience: SEC,
                max: 1,
            };
            let got = (0..n).filter(|&u| rf.impatient(u)).count();
            assert_eq!(got, want, "{per_million} per million of {n}");
        }
    }

    #[test]
    fn daily_curve_interpolates_between_hours() {
        let mut d = vec![1.0; 24];
        d[1] = 3.0;
        let c = LoadCurve {
            spikes: vec![],
            daily: Some(d),
            start_hour: 0.5,
        };
        assert!((c.multiplier(0) - 2.0).abs() < 1e-12);
        assert!((c.multiplier(30 * MIN) - 3.0).abs() < 1e-12);
    }
}
