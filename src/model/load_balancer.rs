//! A load balancer: spreads requests over a target group by a swappable algorithm, checks target
//! health with real probes (interval, timeout, healthy/unhealthy thresholds), terminates TLS so
//! the servers skip the handshake work, answers 503 when no healthy target remains, and has a
//! capacity of its own.
//!
//! Semantics and defaults: ../shared/reference/aws-semantics.md §3 (ALB): interval 30 s, timeout
//! 5 s, healthy threshold 5, unhealthy threshold 2; a new target passes one check to enter service.

use super::kit::{
    BalancerTarget, Behaviour, Card, DescribeCtx, Description, EventKind, Figure, Kind, ParseError,
    Route, RouteRole, Section, Shape, TimelineEvent, Wiring,
};
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

/// Default check interval (ALB, aws-semantics.md §3).
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
}

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
            })
            .collect();
        Self {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("lb/{name}")),
            members,
            eligible: Vec::new(),
            cursor: 0,
            outstanding: 0,
            seen_gen: u64::MAX,
            stats: LbStats::default(),
            events: Vec::new(),
            spec,
        }
    }

    /// $/h.
    pub fn price_per_hour(&self) -> f64 {
        self.spec.price_per_hour
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
                self.eligible.push(i as u32);
            }
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

    fn pick(&mut self, ctx: &Ctx) -> Option<usize> {
        // Targets deregistered since the last rebuild are skipped right away (deregistration is immediate).
        let n = self.eligible.len();
        if n == 0 {
            return None;
        }
        let live = |i: u32| Self::in_service(ctx, self.members[i as usize].comp);
        match self.spec.algorithm {
            Algorithm::RoundRobin => {
                for k in 0..n {
                    let i = self.eligible[(self.cursor + k) % n];
                    if live(i) {
                        self.cursor = (self.cursor + k + 1) % n;
                        return Some(i as usize);
                    }
                }
                None
            }
            Algorithm::LeastOutstanding => {
                let mut best: Option<(u32, u32)> = None;
                for k in 0..n {
                    let i = self.eligible[(self.cursor + k) % n];
                    if !live(i) {
                        continue;
                    }
                    let o = self.members[i as usize].outstanding;
                    if best.is_none_or(|(_, bo)| o < bo) {
                        best = Some((i, o));
                    }
                }
                self.cursor = (self.cursor + 1) % n;
                best.map(|(i, _)| i as usize)
            }
            Algorithm::Random | Algorithm::PowerOfTwo => {
                for _ in 0..4 {
                    let a = self.eligible[self.rng.below(n as u64) as usize];
                    let pick = if self.spec.algorithm == Algorithm::PowerOfTwo && n > 1 {
                        let b = self.eligible[self.rng.below(n as u64) as usize];
                        if self.members[b as usize].outstanding
                            < self.members[a as usize].outstanding
                        {
                            b
                        } else {
                            a
                        }
                    } else {
                        a
                    };
                    if live(pick) {
                        return Some(pick as usize);
                    }
                }
                self.eligible
                    .iter()
                    .copied()
                    .find(|&i| live(i))
                    .map(|i| i as usize)
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
                let mut choice = self.pick(ctx);
                if choice.is_none() && self.spec.fail_open {
                    let n = self.members.len();
                    choice = (0..n)
                        .map(|k| (self.cursor + k) % n)
                        .find(|&i| Self::in_service(ctx, self.members[i].comp));
                    self.cursor = (self.cursor + 1) % n.max(1);
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
                let m = &mut self.members[i];
                m.outstanding += 1;
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
                    if let Some(m) = self.members.get_mut(i as usize) {
                        m.outstanding = m.outstanding.saturating_sub(1);
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
        front_door: Some(1),
        dns_answer: true,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: true,
    };

    fn parse(table: toml::Table) -> Result<LoadBalancerConfig, ParseError> {
        serde_path_to_error::deserialize(toml::Value::Table(table))
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
