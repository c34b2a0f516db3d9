//! A load balancer: spreads requests over a target group by a swappable algorithm, checks target
//! health with real probes (interval, timeout, healthy/unhealthy thresholds), terminates TLS so
//! the servers skip the handshake work, answers 503 when no healthy target remains, and has a
//! capacity of its own.
//!
//! Semantics and defaults: docs/semantics.md §3 (ALB): interval 30 s, timeout
//! 5 s, healthy threshold 5, unhealthy threshold 2; a new target passes one check to enter service.

use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, EventKind, Figure,
    Footprint, Kind, ParseError, Route, RouteRole, Section, Shape, TimelineEvent, Wiring,
};
use super::min_tree::MinTree;
use super::probe::{self, ProbeResult};
use super::registry::Lifecycle;
use super::request::Outcome;
use super::Zone;
use super::{Code, CompId, Ctx, Msg, Timer, PROBE_TIMEOUT};
use crate::engine::time::human;
use crate::scenario::error::Seg;
use crate::scenario::validate::context::at_key;
use crate::scenario::validate::Checker;

/// Time to probe every target.
const HEALTH_TICK: Code = Code(0);
use crate::engine::time::{Time, SEC};
use crate::engine::RngStream;
use crate::scenario::units::{Duration, Price};
use serde::{Deserialize, Serialize};

/// `[components.NAME] kind = "load_balancer"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerConfig {
    /// A fleet's name, or a list of server names.
    pub targets: Targets,
    /// "round_robin" (default), "least_outstanding", "random" or "power_of_two".
    #[serde(default)]
    pub algorithm: Algorithm,
    /// Target health checks. Default: none (every registered target is assumed healthy).
    pub health_check: Option<HealthCheckConfig>,
    /// Terminate TLS here, so servers skip the handshake CPU. Default true (an HTTPS listener).
    pub tls_termination: Option<bool>,
    /// Most requests in flight through the balancer; beyond it new ones get 503. Default: unlimited.
    pub max_outstanding: Option<u32>,
    /// Route to all registered targets when none is healthy (as ALB does) instead of answering 503.
    /// Default false.
    pub fail_open: Option<bool>,
    /// Hourly price. Default $0.0225/h (ALB hourly charge in us-east-1; model figure).
    pub price: Option<Price>,
}

/// One target group name, or several server names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Targets {
    /// A fleet (or a single server).
    One(String),
    /// Several servers.
    Many(Vec<String>),
}

impl Targets {
    /// The names.
    pub fn names(&self) -> Vec<String> {
        match self {
            Targets::One(s) => vec![s.clone()],
            Targets::Many(v) => v.clone(),
        }
    }
}

/// How the next target is chosen.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Each healthy target in turn.
    #[default]
    RoundRobin,
    /// The target with the fewest requests in flight (ties: next in turn).
    LeastOutstanding,
    /// Uniformly at random.
    Random,
    /// Two at random, the one with fewer in flight.
    PowerOfTwo,
}

/// `health_check = { interval = "10s", timeout = "2s", unhealthy = 2, healthy = 3 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckConfig {
    /// Time between checks of each target. Default 30s.
    pub interval: Option<Duration>,
    /// A check not answered within this fails. Default 5s.
    pub timeout: Option<Duration>,
    /// Consecutive failures that take a target out. Default 2.
    pub unhealthy: Option<u32>,
    /// Consecutive passes that put it back. Default 5.
    pub healthy: Option<u32>,
}

/// A balancer after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancerSpec {
    /// Member components (instances), in order.
    pub members: Vec<CompId>,
    /// Registry group index of the members.
    pub group: usize,
    /// Algorithm.
    pub algorithm: Algorithm,
    /// (interval, timeout, unhealthy, healthy), if checking.
    pub health: Option<(Time, Time, u32, u32)>,
    /// TLS terminated here.
    pub tls: bool,
    /// Capacity limit.
    pub max_outstanding: u32,
    /// Fail open.
    pub fail_open: bool,
    /// $/h.
    pub price_per_hour: f64,
}

/// Default check interval (ALB, docs/semantics.md §3).
pub const DEFAULT_INTERVAL: Time = 30 * SEC;
/// Default check timeout (ALB).
pub const DEFAULT_TIMEOUT: Time = 5 * SEC;
/// Default unhealthy threshold (ALB).
pub const DEFAULT_UNHEALTHY: u32 = 2;
/// Default healthy threshold (ALB).
pub const DEFAULT_HEALTHY: u32 = 5;
/// Default hourly price (ALB, us-east-1; model figure, not in the reference table).
pub const DEFAULT_PRICE: f64 = 0.0225;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    /// Registered, not yet checked.
    Initial,
    Healthy,
    Unhealthy,
}

#[derive(Clone, Debug)]
struct Member {
    comp: CompId,
    health: Health,
    passes: u32,
    fails: u32,
    outstanding: u32,
    forwarded: u64,
    /// Its place in `eligible` (and so in the least-outstanding tree), or `NOT_ELIGIBLE`.
    place: u32,
}

/// [`Member::place`] of a member not receiving traffic.
const NOT_ELIGIBLE: u32 = u32::MAX;

/// Counters of a balancer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LbStats {
    /// Requests received.
    pub received: u64,
    /// Requests forwarded to a target.
    pub forwarded: u64,
    /// Answered 503 (no healthy target or over capacity).
    pub unavailable: u64,
    /// Health probes sent.
    pub probes: u64,
    /// Probes that failed (refused, reset, timed out).
    pub probe_failures: u64,
}

/// A load balancer component.
pub struct LoadBalancer {
    /// Component name.
    pub name: String,
    spec: LoadBalancerSpec,
    rng: RngStream,
    members: Vec<Member>,
    eligible: Vec<u32>,
    /// With least outstanding requests: the eligible targets' outstanding counts, by place.
    least: MinTree,
    cursor: usize,
    outstanding: u32,
    seen_gen: u64,
    /// Counters since time zero.
    pub stats: LbStats,
    /// Health transitions, in order.
    pub events: Vec<TimelineEvent>,
}

impl LoadBalancer {
    /// A balancer from its spec.
    pub fn new(name: &str, spec: LoadBalancerSpec, seed: u64) -> Self {
        let members = spec
            .members
            .iter()
            .map(|&comp| Member {
                comp,
                health: Health::Initial,
                passes: 0,
                fails: 0,
                outstanding: 0,
                forwarded: 0,
                place: NOT_ELIGIBLE,
            })
            .collect();
        Self {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("lb/{name}")),
            members,
            eligible: Vec::new(),
            least: MinTree::default(),
            cursor: 0,
            outstanding: 0,
            seen_gen: u64::MAX,
            stats: LbStats::default(),
            events: Vec::new(),
            spec,
        }
    }

    /// Targets currently receiving traffic.
    pub fn healthy_count(&self) -> usize {
        self.eligible.len()
    }

    /// Requests forwarded to each member so far.
    pub fn forwarded_by_member(&self) -> Vec<(CompId, u64)> {
        self.members.iter().map(|m| (m.comp, m.forwarded)).collect()
    }

    fn in_service(ctx: &Ctx, comp: CompId) -> bool {
        ctx.registry.of(comp).lifecycle == Lifecycle::InService
    }

    /// Recomputes the targets that may receive traffic.
    fn rebuild(&mut self, ctx: &Ctx) {
        self.seen_gen = ctx.registry.membership_gen;
        self.eligible.clear();
        for (i, m) in self.members.iter_mut().enumerate() {
            m.place = NOT_ELIGIBLE;
            if ctx.now() == 0 && Self::in_service(ctx, m.comp) && m.health == Health::Initial {
                // The run begins with a working shop: targets in service at time zero are healthy.
                m.health = Health::Healthy;
            }
            if !Self::in_service(ctx, m.comp) {
                // Deregistered or not yet registered: checks start afresh when it comes back.
                m.health = Health::Initial;
                m.passes = 0;
                m.fails = 0;
                continue;
            }
            let ok = match self.spec.health {
                None => true,
                Some(_) => m.health == Health::Healthy,
            };
            if ok {
                m.place = self.eligible.len() as u32;
                self.eligible.push(i as u32);
            }
        }
        if self.spec.algorithm == Algorithm::LeastOutstanding {
            let members = &self.members;
            self.least.reset(
                self.eligible
                    .iter()
                    .map(|&i| members[i as usize].outstanding),
            );
        }
    }

    /// Sets member `i`'s outstanding count, and its value in the least-outstanding tree.
    #[inline]
    fn set_outstanding(&mut self, i: usize, v: u32) {
        let m = &mut self.members[i];
        m.outstanding = v;
        if m.place != NOT_ELIGIBLE && self.spec.algorithm == Algorithm::LeastOutstanding {
            self.least.set(m.place as usize, v);
        }
    }

    fn check_all(&mut self, ctx: &mut Ctx) {
        let Some((interval, timeout, _, _)) = self.spec.health else {
            return;
        };
        self.rebuild(ctx);
        for i in 0..self.members.len() {
            let comp = self.members[i].comp;
            if Self::in_service(ctx, comp) {
                self.stats.probes += 1;
                probe::send(ctx, &mut self.rng, comp, i as u32, timeout);
            }
        }
        ctx.timer(interval, Timer::Word(HEALTH_TICK, 0));
    }

    fn record(&mut self, i: usize, ok: bool, ctx: &mut Ctx) {
        let Some((_, _, unhealthy, healthy)) = self.spec.health else {
            return;
        };
        let now = ctx.now();
        let name = ctx_name(ctx, self.members[i].comp);
        let m = &mut self.members[i];
        if ok {
            m.passes += 1;
            m.fails = 0;
        } else {
            self.stats.probe_failures += 1;
            m.fails += 1;
            m.passes = 0;
        }
        let before = m.health;
        m.health = match (m.health, ok) {
            (Health::Initial, true) => Health::Healthy,
            (Health::Initial, false) if m.fails >= unhealthy => Health::Unhealthy,
            (Health::Healthy, false) if m.fails >= unhealthy => Health::Unhealthy,
            (Health::Unhealthy, true) if m.passes >= healthy => Health::Healthy,
            (h, _) => h,
        };
        if before != m.health {
            let what = match m.health {
                Health::Healthy if before == Health::Initial => {
                    format!("target {name} passed its first check: in service")
                }
                Health::Healthy => format!(
                    "target {name} healthy again after {healthy} passed checks: back in rotation"
                ),
                Health::Unhealthy => format!(
                    "target {name} failed {unhealthy} checks in a row: taken out of rotation"
                ),
                Health::Initial => String::new(),
            };
            self.events
                .push(TimelineEvent::new(now, EventKind::Health, &self.name, what));
            self.rebuild(ctx);
        }
    }

    /// The target for the next request. Every target in `eligible` is in service: a change of
    /// any instance's lifecycle bumps the registry's membership generation, and `on_msg`
    /// rebuilds `eligible` before it picks when that moved.
    fn pick(&mut self) -> Option<usize> {
        let n = self.eligible.len();
        if n == 0 {
            return None;
        }
        match self.spec.algorithm {
            Algorithm::RoundRobin => {
                let i = self.eligible[self.cursor % n];
                self.cursor = (self.cursor + 1) % n;
                Some(i as usize)
            }
            Algorithm::LeastOutstanding => {
                // The idlest target, ties to the first in turn from the cursor; the cursor moves
                // on by one whichever is chosen.
                let place = self.least.first_least_from(self.cursor % n)?;
                self.cursor = (self.cursor + 1) % n;
                Some(self.eligible[place] as usize)
            }
            Algorithm::Random | Algorithm::PowerOfTwo => {
                let a = self.eligible[self.rng.below(n as u64) as usize];
                let pick = if self.spec.algorithm == Algorithm::PowerOfTwo && n > 1 {
                    let b = self.eligible[self.rng.below(n as u64) as usize];
                    if self.members[b as usize].outstanding < self.members[a as usize].outstanding {
                        b
                    } else {
                        a
                    }
                } else {
                    a
                };
                Some(pick as usize)
            }
        }
    }

    fn fail(&mut self, id: super::request::ReqId, ctx: &mut Ctx) {
        self.stats.unavailable += 1;
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.outcome = Outcome::Unavailable;
        }
        ctx.respond(id, &mut self.rng);
    }

    fn on_msg(&mut self, msg: Msg, ctx: &mut Ctx) {
        if ctx.registry.membership_gen != self.seen_gen {
            self.rebuild(ctx);
        }
        match msg {
            Msg::Request(id) => {
                self.stats.received += 1;
                if self.outstanding >= self.spec.max_outstanding {
                    self.fail(id, ctx);
                    return;
                }
                let mut choice = self.pick();
                if choice.is_none() && self.spec.fail_open {
                    // In turn over the registered targets: the cursor moves past the one chosen,
                    // not by one slot, so a fleet's unused slots (max 200, 3 running) do not
                    // send every turn that lands on them to the first target after them.
                    let n = self.members.len();
                    choice = (0..n)
                        .map(|k| (self.cursor + k) % n)
                        .find(|&i| Self::in_service(ctx, self.members[i].comp));
                    if let Some(i) = choice {
                        self.cursor = (i + 1) % n;
                    }
                }
                let Some(i) = choice else {
                    self.fail(id, ctx);
                    return;
                };
                let me = ctx.me;
                let Some(r) = ctx.reqs.get_mut(id) else {
                    return;
                };
                if !r.push_hop(me, i as u32) {
                    r.outcome = Outcome::Error;
                    ctx.respond(id, &mut self.rng);
                    return;
                }
                if self.spec.tls {
                    r.tls_terminated = true;
                }
                let o = self.members[i].outstanding + 1;
                self.set_outstanding(i, o);
                let m = &mut self.members[i];
                m.forwarded += 1;
                self.outstanding += 1;
                self.stats.forwarded += 1;
                let comp = m.comp;
                let d = ctx.hop_delay(comp, &mut self.rng);
                ctx.send(comp, Msg::Request(id), d);
            }
            Msg::Response(id) => {
                if probe::is_probe(ctx, id) {
                    if let ProbeResult::Answered { tag, ok } = probe::on_response(ctx, id) {
                        self.record(tag as usize, ok, ctx);
                    }
                    return;
                }
                let Some(r) = ctx.reqs.get_mut(id) else {
                    return;
                };
                if let Some((_, i)) = r.pop_hop() {
                    if let Some(m) = self.members.get(i as usize) {
                        let o = m.outstanding.saturating_sub(1);
                        self.set_outstanding(i as usize, o);
                    }
                    self.outstanding = self.outstanding.saturating_sub(1);
                }
                ctx.respond(id, &mut self.rng);
            }
            Msg::Timer(Timer::Req(PROBE_TIMEOUT, id)) => {
                if let ProbeResult::TimedOut { tag } = probe::on_timeout(ctx, id) {
                    self.record(tag as usize, false, ctx);
                }
            }
            Msg::Timer(Timer::Word(HEALTH_TICK, _)) => self.check_all(ctx),
            Msg::Timer(_) | Msg::Control(_) => {}
        }
    }
}

impl Behaviour for LoadBalancer {
    /// Starts health checks (call once at time zero).
    fn start(&mut self, ctx: &mut Ctx) {
        // The run begins with a working shop: targets in service now have passed their checks.
        for m in &mut self.members {
            if Self::in_service(ctx, m.comp) {
                m.health = Health::Healthy;
            }
        }
        self.rebuild(ctx);
        if self.spec.health.is_some() {
            self.check_all(ctx);
        }
    }

    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        self.on_msg(msg, ctx);
    }

    fn billed(&mut self, now: Time) -> f64 {
        self.spec.price_per_hour * now as f64 / 3.6e12
    }

    fn measured_cost(&mut self, _now: Time, measured: Time) -> f64 {
        self.spec.price_per_hour * (measured as f64 / 3.6e12)
    }

    fn timeline(&self) -> &[TimelineEvent] {
        &self.events
    }

    fn card(&mut self, now: Time, measured: Time) -> Option<Card> {
        let cost = self.measured_cost(now, measured);
        let s = &self.stats;
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("received", Figure::Count(s.received)),
                ("forwarded", Figure::Count(s.forwarded)),
                ("unavailable_503", Figure::Count(s.unavailable)),
                ("probes", Figure::Count(s.probes)),
                ("probe_failures", Figure::Count(s.probe_failures)),
                (
                    "healthy_targets_at_end",
                    Figure::Count(self.healthy_count() as u64),
                ),
                ("cost_usd", Figure::Value(cost)),
            ],
        })
    }
}

impl Kind for LoadBalancer {
    type Config = LoadBalancerConfig;
    type Spec = LoadBalancerSpec;
    const WORDS: &'static str = "load balancer";
    const ABOUT: &'static str = "A load balancer.";
    const SCHEMA_NAME: &'static str = "LoadBalancerComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: Some(2),
        dns_answer: true,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: true,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<LoadBalancerConfig, ParseError> {
        parse_table(table)
    }

    fn check(
        name: &str,
        l: &LoadBalancerConfig,
        base: &[Seg],
        c: &mut Checker,
    ) -> Option<LoadBalancerSpec> {
        let mut members = Vec::new();
        let tnames = l.targets.names();
        let tp = at_key(base, "targets");
        if tnames.is_empty() {
            c.err(&tp, "a balancer needs at least one target", None);
        }
        let mut fleet = None;
        for t in &tnames {
            let Some(r) = c.resolve(&tp, t) else { continue };
            match (r.kind.wiring().balancer_target, r.slots) {
                (BalancerTarget::Group, Some((first, n))) if tnames.len() == 1 => {
                    members.extend(first..first + n);
                    fleet = Some(t.clone());
                }
                (BalancerTarget::Member, _) => members.push(r.id),
                (BalancerTarget::Group, _) => c.err(
                    &tp,
                    format!("a {} must be a balancer's only target", r.kind.words()),
                    None,
                ),
                (BalancerTarget::No, _) => c.err(
                    &tp,
                    format!("\"{t}\" is not a server or a fleet"),
                    Some("a balancer sends to servers or to a fleet".into()),
                ),
            }
        }
        let health = l.health_check.as_ref().map(|h| {
            let interval = h.interval.map_or(DEFAULT_INTERVAL, |d| d.0);
            let timeout = h.timeout.map_or(DEFAULT_TIMEOUT.min(interval), |d| d.0);
            let hp = at_key(base, "health_check");
            c.probe_timing(&hp, interval, timeout);
            let (u, hth) = (
                h.unhealthy.unwrap_or(DEFAULT_UNHEALTHY),
                h.healthy.unwrap_or(DEFAULT_HEALTHY),
            );
            c.probe_count(&hp, "unhealthy", u, "unhealthy threshold");
            c.probe_count(&hp, "healthy", hth, "healthy threshold");
            (interval, timeout, u, hth)
        });
        if l.max_outstanding == Some(0) {
            c.err(
                &at_key(base, "max_outstanding"),
                "max_outstanding must be at least 1",
                None,
            );
        }
        let group = match fleet.and_then(|f| c.group_of(&f)) {
            Some(g) => g,
            None => c.new_group(name, members.clone()),
        };
        Some(LoadBalancerSpec {
            members,
            group,
            algorithm: l.algorithm,
            health,
            tls: l.tls_termination.unwrap_or(true),
            max_outstanding: l.max_outstanding.unwrap_or(u32::MAX),
            fail_open: l.fail_open.unwrap_or(false),
            price_per_hour: l.price.map_or(DEFAULT_PRICE, |p| p.0),
        })
    }

    fn build(name: &str, spec: LoadBalancerSpec, seed: u64) -> Self {
        LoadBalancer::new(name, spec, seed)
    }

    fn footprint(l: &LoadBalancerSpec, _mean_work: f64) -> Footprint {
        // A health check is a probe sent, answered (or timed out) and its next one scheduled.
        let checks = l.health.map_or(0.0, |(interval, ..)| {
            3.0 * l.members.len() as f64 * 1e9 / interval.max(1) as f64
        });
        Footprint {
            events_per_request: 1.5,
            background_per_s: checks,
            capacity_per_s: f64::INFINITY,
            holds: 0.0,
            bytes: 4096.0 + 64.0 * l.members.len() as f64,
        }
    }

    fn describe(l: &LoadBalancerSpec, _cx: &DescribeCtx) -> Description {
        let alg = match l.algorithm {
            Algorithm::RoundRobin => "round robin",
            Algorithm::LeastOutstanding => "least outstanding",
            Algorithm::Random => "random",
            Algorithm::PowerOfTwo => "power of two choices",
        };
        let hc = l
            .health
            .map_or("no health checks".to_string(), |(i, t, u, h)| {
                format!(
                    "health check every {} (timeout {}, out after {u} fails, in after {h} passes)",
                    human(i),
                    human(t)
                )
            });
        let cap = if l.max_outstanding == u32::MAX {
            "no capacity limit".to_string()
        } else {
            format!("at most {} in flight", l.max_outstanding)
        };
        let tls = if l.tls {
            "terminated here"
        } else {
            "passed through"
        };
        Description {
            detail: format!("{alg}; {hc}; TLS {tls}; {cap}"),
            shape: Shape::Box,
            routes: l
                .members
                .iter()
                .map(|&to| Route {
                    to,
                    role: RouteRole::Forward,
                })
                .collect(),
            looked_up: false,
        }
    }
}

fn ctx_name(ctx: &Ctx, comp: CompId) -> String {
    ctx.registry.name_of(comp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sim::Simulation;
    use crate::engine::time::MS;
    use crate::engine::{Model, Scheduler};
    use crate::metrics::Metrics;
    use crate::model::network::{Network, NetworkConfig};
    use crate::model::probe::PROBE_CLASS;
    use crate::model::registry::Registry;
    use crate::model::request::{ReqId, RequestTable};
    use crate::model::world::ctx;
    use crate::model::Event;
    use crate::scenario::units::Duration as D;

    /// The users the balancer answers to (played by the harness).
    const USER: CompId = 0;
    /// The balancer under test.
    const LB: CompId = 1;
    /// The first target; targets are `FIRST..FIRST + n`, played by the harness.
    const FIRST: CompId = 2;
    /// A target's own timer: answer this request now.
    const REPLY: Code = Code(7);
    /// The harness's own timer: set target `k`'s lifecycle (payload: k, 0 off / 1 in service /
    /// 2 draining), as its group would.
    const SET_LIFECYCLE: Code = Code(8);

    /// How a fake target treats what reaches it, from a time on.
    #[derive(Clone, Copy, Debug)]
    enum Mode {
        /// Answers everything successfully after this long (0: at once).
        Answer(Time),
        /// Refuses everything at once (a full backlog, nothing listening).
        Refuse,
        /// Never answers (hung).
        Silent,
        /// Answers user requests at once but refuses health probes (a broken health page).
        FailProbes,
    }

    /// A world of one balancer, its users and `n` fake targets.
    struct Harness {
        lb: LoadBalancer,
        reqs: RequestTable,
        metrics: Metrics,
        net: Network,
        zones: Vec<Zone>,
        registry: Registry,
        rng: RngStream,
        /// Per target: (from, mode), in time order.
        modes: Vec<Vec<(Time, Mode)>>,
        /// User requests, in input order.
        ids: Vec<ReqId>,
        /// (answer time, outcome) per user request.
        answers: Vec<Option<(Time, Outcome)>>,
        /// (arrival time, target index) of every user request a target received.
        served: Vec<(Time, usize)>,
    }

    fn mode_at(modes: &[(Time, Mode)], now: Time) -> Mode {
        modes
            .iter()
            .rev()
            .find(|(from, _)| *from <= now)
            .map_or(Mode::Answer(0), |&(_, m)| m)
    }

    impl Model for Harness {
        type Event = Event;
        fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
            let now = sched.now();
            let mut ctx = ctx!(self, sched, ev.to);
            match (ev.to, ev.msg) {
                (USER, Msg::Response(id)) => {
                    let i = self.ids.iter().position(|&x| x == id).expect("a user's");
                    self.answers[i] = Some((now, ctx.reqs.get(id).expect("live").outcome));
                }
                (USER, Msg::Timer(Timer::Pair(SET_LIFECYCLE, k, l))) => {
                    let l = [Lifecycle::Off, Lifecycle::InService, Lifecycle::Draining][l as usize];
                    ctx.registry.set_lifecycle(FIRST + k, l);
                }
                (LB, msg) => self.lb.handle(msg, &mut ctx),
                (t, Msg::Request(id)) => {
                    let k = (t - FIRST) as usize;
                    let is_probe = ctx.reqs.get(id).expect("live").class == PROBE_CLASS;
                    if !is_probe {
                        self.served.push((now, k));
                    }
                    let refuse = match mode_at(&self.modes[k], now) {
                        Mode::Answer(0) => false,
                        Mode::Answer(d) => {
                            ctx.timer(d, Timer::Req(REPLY, id));
                            return;
                        }
                        Mode::Silent => return,
                        Mode::Refuse => true,
                        Mode::FailProbes => is_probe,
                    };
                    if refuse {
                        ctx.reqs.get_mut(id).expect("live").outcome = Outcome::Refused;
                    }
                    ctx.respond(id, &mut self.rng);
                }
                (_, Msg::Timer(Timer::Req(REPLY, id))) => {
                    ctx.respond(id, &mut self.rng);
                }
                other => unreachable!("{other:?}"),
            }
        }
    }

    /// A spec over `n` targets with everything else off.
    fn spec(
        n: u32,
        algorithm: Algorithm,
        health: Option<(Time, Time, u32, u32)>,
    ) -> LoadBalancerSpec {
        LoadBalancerSpec {
            members: (FIRST..FIRST + n).collect(),
            group: 0,
            algorithm,
            health,
            tls: true,
            max_outstanding: u32::MAX,
            fail_open: false,
            price_per_hour: 0.0,
        }
    }

    /// A started world: every target in service (except those in `off`), user requests sent at
    /// `requests`, zero network delay.
    fn world(
        spec: LoadBalancerSpec,
        modes: Vec<Vec<(Time, Mode)>>,
        off: &[usize],
        requests: &[Time],
    ) -> Simulation<Harness> {
        let n = spec.members.len();
        let mut registry = Registry::new(FIRST as usize + n, 1);
        for k in 0..n {
            let c = FIRST + k as u32;
            registry.names[c as usize] = format!("t{k}");
            if !off.contains(&k) {
                registry.set_lifecycle(c, Lifecycle::InService);
            }
        }
        let mut h = Harness {
            lb: LoadBalancer::new("lb", spec, 1),
            reqs: RequestTable::new(),
            metrics: Metrics::new(&["c".into()], 0, SEC),
            net: Network::new(&NetworkConfig {
                client_rtt: D(0),
                internal_rtt: D(0),
                jitter: 0.0,
                regions: None,
            }),
            zones: vec![Zone::Internal; FIRST as usize + n],
            registry,
            rng: RngStream::new(1, "targets"),
            modes: {
                let mut m = modes;
                m.resize(n, Vec::new());
                m
            },
            ids: Vec::new(),
            answers: vec![None; requests.len()],
            served: Vec::new(),
        };
        let mut sched = Scheduler::<Event>::new();
        for &at in requests {
            let id = h.reqs.alloc(0, 0, at, 1.0);
            h.reqs.get_mut(id).expect("fresh").push_hop(USER, 0);
            h.ids.push(id);
            sched.at(
                at,
                Event {
                    to: LB,
                    msg: Msg::Request(id),
                },
            );
        }
        let mut sim = Simulation::new(h);
        sim.sched = sched;
        let h = &mut sim.model;
        let mut ctx = ctx!(h, &mut sim.sched, LB);
        h.lb.start(&mut ctx);
        sim
    }

    /// Sets target `k`'s lifecycle at `at` (0 off, 1 in service, 2 draining).
    fn set_lifecycle(sim: &mut Simulation<Harness>, at: Time, k: u32, l: u32) {
        let msg = Msg::Timer(Timer::Pair(SET_LIFECYCLE, k, l));
        sim.sched.at(at, Event { to: USER, msg });
    }

    /// Which target served each user request, in arrival order.
    fn targets(h: &Harness) -> Vec<usize> {
        h.served.iter().map(|&(_, k)| k).collect()
    }

    /// The balancer's health transitions: (time, text).
    fn health(h: &Harness) -> Vec<(Time, String)> {
        h.lb.events
            .iter()
            .map(|e| {
                assert_eq!(e.kind, EventKind::Health);
                (e.at, e.text.clone())
            })
            .collect()
    }

    #[test]
    fn round_robin_sends_to_each_of_three_targets_in_turn() {
        // Seven requests 1 ms apart, each answered at once: t0, t1, t2, t0, t1, t2, t0.
        let requests: Vec<Time> = (1..=7).map(|i| i * MS).collect();
        let mut sim = world(spec(3, Algorithm::RoundRobin, None), vec![], &[], &requests);
        sim.run_until(SEC);
        assert_eq!(targets(&sim.model), vec![0, 1, 2, 0, 1, 2, 0]);
        assert_eq!(
            sim.model.lb.forwarded_by_member(),
            vec![(FIRST, 3), (FIRST + 1, 2), (FIRST + 2, 2)]
        );
        assert!(sim
            .model
            .answers
            .iter()
            .all(|a| matches!(a, Some((_, Outcome::Ok)))));
    }

    #[test]
    fn least_outstanding_sends_to_the_idlest_target() {
        // t0 and t2 hold each request 10 s; t1 answers in 5 ms. The first three requests find
        // every target idle and go in turn (t0, t1, t2). From then on t0 and t2 hold one each and
        // t1 has always finished (at 6 ms, 15 ms, 25 ms): the requests at 10, 20 and 30 ms all go
        // to t1. Round robin would have sent them to t0, t1, t2.
        let modes = vec![
            vec![(0, Mode::Answer(10 * SEC))],
            vec![(0, Mode::Answer(5 * MS))],
            vec![(0, Mode::Answer(10 * SEC))],
        ];
        let requests = [0, MS, 2 * MS, 10 * MS, 20 * MS, 30 * MS];
        let mut sim = world(
            spec(3, Algorithm::LeastOutstanding, None),
            modes,
            &[],
            &requests,
        );
        sim.run_until(40 * MS);
        assert_eq!(targets(&sim.model), vec![0, 1, 2, 1, 1, 1]);
        sim.run_until(11 * SEC);
        assert_eq!(
            sim.model.answers[..3],
            [
                Some((10 * SEC, Outcome::Ok)),
                Some((6 * MS, Outcome::Ok)),
                Some((10 * SEC + 2 * MS, Outcome::Ok))
            ]
        );
    }

    #[test]
    fn a_hung_target_is_out_after_exactly_unhealthy_timeouts_and_back_after_healthy_passes() {
        // Checks every 10 s (at 0, 10, 20, ...), timeout 2 s, out after 2 failures, in after 3
        // passes. t1 hangs from 25 s to 55 s:
        //   probe at 30 s: no answer, times out at 32 s (1st failure: still in rotation);
        //   probe at 40 s: times out at 42 s (2nd failure): out at 42 s;
        //   probe at 50 s: still hung, times out at 52 s;
        //   probes at 60, 70, 80 s pass: back in rotation at 80 s (the 3rd pass).
        let modes = vec![
            vec![],
            vec![
                (0, Mode::Answer(0)),
                (25 * SEC, Mode::Silent),
                (55 * SEC, Mode::Answer(0)),
            ],
        ];
        let health_check = Some((10 * SEC, 2 * SEC, 2, 3));
        // Users: four requests while t1 is out, three once it is back.
        let requests = [43, 44, 45, 46, 81, 82, 83].map(|s| s * SEC);
        let mut sim = world(
            spec(3, Algorithm::RoundRobin, health_check),
            modes,
            &[],
            &requests,
        );
        sim.run_until(42 * SEC - 1);
        assert_eq!(sim.model.lb.healthy_count(), 3, "one failure is not enough");
        sim.run_until(42 * SEC);
        assert_eq!(sim.model.lb.healthy_count(), 2);
        sim.run_until(80 * SEC - 1);
        assert_eq!(sim.model.lb.healthy_count(), 2, "two passes are not enough");
        sim.run_until(80 * SEC);
        assert_eq!(sim.model.lb.healthy_count(), 3);
        sim.run_until(90 * SEC);
        assert_eq!(
            health(&sim.model),
            vec![
                (
                    42 * SEC,
                    "target t1 failed 2 checks in a row: taken out of rotation".to_string()
                ),
                (
                    80 * SEC,
                    "target t1 healthy again after 3 passed checks: back in rotation".to_string()
                ),
            ]
        );
        // While out, t1 gets nothing; once back, one request in three.
        let served = targets(&sim.model);
        let mut out: Vec<usize> = served[..4].to_vec();
        out.sort_unstable();
        assert_eq!(out, vec![0, 0, 2, 2]);
        let mut back: Vec<usize> = served[4..].to_vec();
        back.sort_unstable();
        assert_eq!(back, vec![0, 1, 2]);
        // Probes: 3 targets × 10 rounds (0, 10, ..., 90 s); failures: t1's at 30, 40, 50 s.
        assert_eq!(sim.model.lb.stats.probes, 30);
        assert_eq!(sim.model.lb.stats.probe_failures, 3);
    }

    #[test]
    fn refused_probes_count_as_failures_the_moment_they_are_answered() {
        // Out after 3 failures; t0 refuses from 25 s: failures answered at once at 30, 40 and
        // 50 s, so it is out at 50 s exactly (not at 52 s: a refusal is not a timeout).
        let modes = vec![vec![(25 * SEC, Mode::Refuse)]];
        let mut sim = world(
            spec(2, Algorithm::RoundRobin, Some((10 * SEC, 2 * SEC, 3, 2))),
            modes,
            &[],
            &[],
        );
        sim.run_until(50 * SEC - 1);
        assert_eq!(sim.model.lb.healthy_count(), 2);
        sim.run_until(50 * SEC);
        assert_eq!(sim.model.lb.healthy_count(), 1);
        assert_eq!(
            health(&sim.model),
            vec![(
                50 * SEC,
                "target t0 failed 3 checks in a row: taken out of rotation".to_string()
            )]
        );
    }

    #[test]
    fn with_no_healthy_target_requests_get_503_at_once() {
        // One target refusing from 5 s; checks every 10 s, out after 2: failures at 10 and 20 s,
        // out at 20 s. A request at 19 s still reaches it (and is refused by it); one at 21 s is
        // answered 503 by the balancer itself, at once.
        let modes = vec![vec![(5 * SEC, Mode::Refuse)]];
        let mut sim = world(
            spec(1, Algorithm::RoundRobin, Some((10 * SEC, 2 * SEC, 2, 1))),
            modes,
            &[],
            &[19 * SEC, 21 * SEC],
        );
        sim.run_until(30 * SEC);
        let h = &sim.model;
        assert_eq!(
            h.answers,
            vec![
                Some((19 * SEC, Outcome::Refused)),
                Some((21 * SEC, Outcome::Unavailable))
            ]
        );
        assert_eq!(h.served, vec![(19 * SEC, 0)]);
        assert_eq!((h.lb.stats.forwarded, h.lb.stats.unavailable), (1, 1));
    }

    #[test]
    fn fail_open_routes_to_registered_targets_when_none_is_healthy() {
        // t0 and t1 serve users but fail their health checks from 5 s (out at 20 s); t2 is not
        // registered at all. Failing closed, requests at 21–24 s get 503; failing open, they are
        // served by t0 and t1 — never by the unregistered t2.
        let modes = vec![
            vec![(5 * SEC, Mode::FailProbes)],
            vec![(5 * SEC, Mode::FailProbes)],
        ];
        let requests = [21, 22, 23, 24].map(|s| s * SEC);
        for fail_open in [false, true] {
            let mut s = spec(3, Algorithm::RoundRobin, Some((10 * SEC, 2 * SEC, 2, 1)));
            s.fail_open = fail_open;
            let mut sim = world(s, modes.clone(), &[2], &requests);
            sim.run_until(30 * SEC);
            let h = &sim.model;
            assert_eq!(h.lb.healthy_count(), 0);
            let outcomes: Vec<Outcome> = h.answers.iter().map(|a| a.expect("answered").1).collect();
            if fail_open {
                assert_eq!(outcomes, vec![Outcome::Ok; 4]);
                let served = targets(h);
                assert_eq!(served.len(), 4);
                assert!(served.iter().all(|&k| k < 2), "served by {served:?}");
                assert!(served.contains(&0) && served.contains(&1), "{served:?}");
            } else {
                assert_eq!(outcomes, vec![Outcome::Unavailable; 4]);
                assert!(h.served.is_empty());
            }
        }
    }

    #[test]
    fn fail_open_takes_the_registered_targets_in_turn_past_unused_slots() {
        // A fleet's group has a slot for each instance it may ever run: here 10, of which only
        // t0 and t1 are registered. Failing open, requests alternate between them; the cursor
        // used to step one slot at a time, so each turn landing on an unused slot found t0 first
        // and t0 got 9 requests of 10 (chapter 5 with max = 200: one server took everything).
        let modes = vec![
            vec![(5 * SEC, Mode::FailProbes)],
            vec![(5 * SEC, Mode::FailProbes)],
        ];
        let requests: Vec<Time> = (0..20).map(|k| 21 * SEC + k * SEC / 10).collect();
        let mut s = spec(
            10,
            Algorithm::LeastOutstanding,
            Some((10 * SEC, 2 * SEC, 2, 1)),
        );
        s.fail_open = true;
        let off: Vec<usize> = (2..10).collect();
        let mut sim = world(s, modes, &off, &requests);
        sim.run_until(30 * SEC);
        let h = &sim.model;
        assert_eq!(h.lb.healthy_count(), 0);
        let served = targets(h);
        assert_eq!(served.len(), 20);
        let to_t0 = served.iter().filter(|&&k| k == 0).count();
        assert_eq!((to_t0, 20 - to_t0), (10, 10), "served by {served:?}");
    }

    #[test]
    fn max_outstanding_refuses_the_excess_until_an_answer_frees_room() {
        // At most 2 in flight; targets hold requests 10 s. Requests at 0 and 1 ms go through;
        // the one at 2 ms is refused 503 at once; the first answer (10 s) frees room, so the one
        // at 10.5 s goes through and is answered at 20.5 s.
        let modes = vec![
            vec![(0, Mode::Answer(10 * SEC))],
            vec![(0, Mode::Answer(10 * SEC))],
        ];
        let mut s = spec(2, Algorithm::RoundRobin, None);
        s.max_outstanding = 2;
        let mut sim = world(s, modes, &[], &[0, MS, 2 * MS, 10_500 * MS]);
        sim.run_until(30 * SEC);
        assert_eq!(
            sim.model.answers,
            vec![
                Some((10 * SEC, Outcome::Ok)),
                Some((10 * SEC + MS, Outcome::Ok)),
                Some((2 * MS, Outcome::Unavailable)),
                Some((20_500 * MS, Outcome::Ok)),
            ]
        );
        assert_eq!(sim.model.lb.stats.unavailable, 1);
    }

    #[test]
    fn a_new_target_enters_on_its_first_passed_check_and_a_draining_one_gets_nothing_new() {
        // Checks every 10 s. t2 is registered at 15 s: not checked yet, so requests at 16–18 s
        // go to t0 and t1 only; the check at 20 s passes and it is in service at once (one pass,
        // not `healthy` = 5). t0 starts draining at 30 s: from the next request on it gets
        // nothing, without waiting for a check.
        let requests = [16, 17, 18, 21, 22, 23, 31, 32].map(|s| s * SEC);
        let mut sim = world(
            spec(3, Algorithm::RoundRobin, Some((10 * SEC, 2 * SEC, 2, 5))),
            vec![],
            &[2],
            &requests,
        );
        set_lifecycle(&mut sim, 15 * SEC, 2, 1);
        set_lifecycle(&mut sim, 30 * SEC, 0, 2);
        sim.run_until(40 * SEC);
        let h = &sim.model;
        assert_eq!(
            health(h),
            vec![(
                20 * SEC,
                "target t2 passed its first check: in service".to_string()
            )]
        );
        let served = targets(h);
        let sorted = |r: std::ops::Range<usize>| {
            let mut v = served[r].to_vec();
            v.sort_unstable();
            v
        };
        assert_eq!(served[..3].iter().filter(|&&k| k == 2).count(), 0);
        assert_eq!(sorted(3..6), vec![0, 1, 2]);
        assert_eq!(sorted(6..8), vec![1, 2]);
        assert_eq!(h.lb.healthy_count(), 2);
    }

    #[test]
    fn power_of_two_prefers_the_idler_of_its_pair_where_random_does_not() {
        // t0 holds every request for an hour, t1 answers at once, t2 is not registered. With two
        // draws from {t0, t1}, power of two sends to t0 only when both draws are t0 (1 in 4) —
        // once t0 holds more than t1, which is from its first request on. Random sends half.
        // 400 requests, 1 ms apart: about 100 to t0 against about 200 (deterministic: seed 1).
        let modes = vec![vec![(0, Mode::Answer(3_600 * SEC))]];
        let requests: Vec<Time> = (1..=400).map(|i| i * MS).collect();
        let share = |algorithm| {
            let mut sim = world(spec(3, algorithm, None), modes.clone(), &[2], &requests);
            sim.run_until(SEC);
            let served = targets(&sim.model);
            assert_eq!(served.len(), 400);
            assert!(!served.contains(&2), "sent to an unregistered target");
            served.iter().filter(|&&k| k == 0).count() as f64 / 400.0
        };
        let (p2c, random) = (share(Algorithm::PowerOfTwo), share(Algorithm::Random));
        assert!((0.18..0.32).contains(&p2c), "power of two: {p2c}");
        assert!((0.42..0.58).contains(&random), "random: {random}");
    }
}
