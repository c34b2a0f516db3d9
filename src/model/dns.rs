//! DNS: the users' recursive resolvers, each with a cache that honours the record's TTL, in front
//! of an authoritative service that can go down, with optional health-checked failover routing
//! (answer the primary while its health check passes, else the secondary).
//!
//! Semantics and defaults: docs/semantics.md §1 (Route 53): TTL 300 s (≤ 60 s
//! when health-checked), checks every 30 s, 3 consecutive failures flip the state; an
//! authoritative outage leaves cached answers working until their TTL runs out, then lookups fail
//! after the stub resolver's ~10 s (5 s × 2 attempts); SERVFAIL is not cached.
//!
//! A lookup is a hop in front of the site: on a cache hit the request goes straight on to the
//! answered endpoint; on a miss it waits for the resolver's query to the authoritative service
//! (lookups from many users of one resolver share a single query). The DNS component is not on the
//! answer's way back — responses go from the endpoint straight to the user.

use super::dist::{Dist, DistConfig};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, EventKind, Figure,
    Footprint, Kind, ParseError, Route, RouteRole, Section, Shape, TimelineEvent, Wiring,
};
use super::probe::{self, ProbeResult};
use super::request::{Outcome, ReqId};
use super::Zone;
use super::{Code, CompId, Control, Ctx, Msg, Timer, PROBE_TIMEOUT};
use crate::engine::time::human;
use crate::scenario::error::Seg;
use crate::scenario::validate::context::at_key;
use crate::scenario::validate::Checker;

/// Time for the failover health check.
const CHECK_TICK: Code = Code(0);
/// A resolver's authoritative query finished (payload: resolver index).
const RESOLVED: Code = Code(1);
use crate::engine::time::{Time, MS, SEC};
use crate::engine::RngStream;
use crate::scenario::units::Duration;
use serde::{Deserialize, Serialize};

/// `[components.NAME] kind = "dns"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    /// The endpoint the name points at (a server or a load balancer).
    pub record: String,
    /// How long resolvers reuse an answer. Default 300s (60s with failover).
    pub ttl: Option<Duration>,
    /// How many recursive resolvers the users are spread over (each has its own cache). Default 20.
    pub resolvers: Option<u32>,
    /// Resolver → authoritative lookup time on a cache miss. Default lognormal, mean 50ms, cv 0.5 (model).
    pub lookup_time: Option<DistConfig>,
    /// How long a lookup takes to fail when the authoritative service is down. Default 10s
    /// (glibc stub resolver: 5 s × 2 attempts).
    pub failure_time: Option<Duration>,
    /// Health-checked failover to a secondary endpoint.
    pub failover: Option<FailoverConfig>,
}

/// `failover = { secondary = "standby", interval = "30s", threshold = 3 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailoverConfig {
    /// Endpoint answered while the primary is unhealthy.
    pub secondary: String,
    /// Health check interval. Default 30s (10s is Route 53's "fast").
    pub interval: Option<Duration>,
    /// Consecutive results that flip the state. Default 3.
    pub threshold: Option<u32>,
    /// A check not answered within this fails. Default 4s (Route 53 HTTP connect limit).
    pub timeout: Option<Duration>,
}

/// A DNS after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct DnsSpec {
    /// Primary endpoint.
    pub primary: CompId,
    /// TTL.
    pub ttl: Time,
    /// Resolvers.
    pub resolvers: u32,
    /// Lookup time.
    pub lookup: DistConfig,
    /// Failure time.
    pub failure_time: Time,
    /// (secondary, interval, threshold, timeout).
    pub failover: Option<(CompId, Time, u32, Time)>,
}

/// Default TTL (Route 53).
pub const DEFAULT_TTL: Time = 300 * SEC;
/// Default TTL for health-checked records.
pub const DEFAULT_FAILOVER_TTL: Time = 60 * SEC;
/// Default stub-resolver failure time.
pub const DEFAULT_FAILURE_TIME: Time = 10 * SEC;
/// Failover health-check interval: 30 s (docs/semantics.md §1: Route 53 standard checkers probe
/// every 30 s; 10 s "fast").
pub const DEFAULT_CHECK_INTERVAL: Time = 30 * SEC;
/// Failover health-check timeout: 4 s (docs/semantics.md §1: HTTP(S) checks allow a TCP connect
/// of at most 4 s).
pub const DEFAULT_CHECK_TIMEOUT: Time = 4 * SEC;
/// Consecutive failed checks that mark the primary unhealthy: 3 (docs/semantics.md §1:
/// `FailureThreshold` 1–10, commonly 3).
pub const DEFAULT_CHECK_THRESHOLD: u32 = 3;
/// Default lookup time.
pub fn default_lookup() -> DistConfig {
    DistConfig::Lognormal {
        mean: Duration(50 * MS),
        cv: 0.5,
    }
}

#[derive(Clone, Debug, Default)]
struct Resolver {
    answer: Option<(CompId, Time)>,
    waiting: Vec<ReqId>,
    querying: bool,
    failing: bool,
}

/// Counters of the DNS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DnsStats {
    /// Lookups (one per request attempt).
    pub lookups: u64,
    /// Answered from a resolver's cache.
    pub cache_hits: u64,
    /// Queries that reached the authoritative service (one per resolver per expiry).
    pub authoritative_queries: u64,
    /// Lookups that failed (authoritative down).
    pub failures: u64,
}

/// The DNS component.
pub struct Dns {
    /// Component name.
    pub name: String,
    spec: DnsSpec,
    rng: RngStream,
    lookup: Dist,
    resolvers: Vec<Resolver>,
    down: bool,
    primary_healthy: bool,
    passes: u32,
    fails: u32,
    /// Counters since time zero.
    pub stats: DnsStats,
    /// Authoritative queries per resolver.
    pub queries_per_resolver: Vec<u64>,
    /// Outages and failovers, in order.
    pub events: Vec<TimelineEvent>,
}

impl Dns {
    /// A DNS from its spec.
    pub fn new(name: &str, spec: DnsSpec, seed: u64) -> Self {
        let n = spec.resolvers as usize;
        Self {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("dns/{name}")),
            lookup: spec.lookup.sampler(),
            resolvers: vec![Resolver::default(); n],
            down: false,
            primary_healthy: true,
            passes: 0,
            fails: 0,
            stats: DnsStats::default(),
            queries_per_resolver: vec![0; n],
            events: Vec::new(),
            spec,
        }
    }

    /// True while the authoritative service answers the primary.
    pub fn answering_primary(&self) -> bool {
        self.primary_healthy
    }

    fn current_answer(&self) -> CompId {
        match self.spec.failover {
            Some((secondary, ..)) if !self.primary_healthy => secondary,
            _ => self.spec.primary,
        }
    }

    fn forward(&mut self, id: ReqId, to: CompId, ctx: &mut Ctx) {
        // The user connects to the answer directly: a hop from the users' side.
        let d = ctx.hop_delay_for(to, id, false, &mut self.rng);
        ctx.send(to, Msg::Request(id), d);
    }

    fn on_msg(&mut self, msg: Msg, ctx: &mut Ctx) {
        let now = ctx.now();
        match msg {
            Msg::Request(id) => {
                self.stats.lookups += 1;
                let Some(r) = ctx.reqs.get(id) else { return };
                let k = if r.user != u32::MAX {
                    r.user
                } else {
                    (r.first_sent ^ (r.first_sent >> 17)) as u32
                } as usize
                    % self.resolvers.len();
                let res = &mut self.resolvers[k];
                match res.answer {
                    Some((to, expires)) if now < expires => {
                        self.stats.cache_hits += 1;
                        self.forward(id, to, ctx);
                    }
                    _ => {
                        res.waiting.push(id);
                        if !res.querying {
                            res.querying = true;
                            self.stats.authoritative_queries += 1;
                            self.queries_per_resolver[k] += 1;
                            res.failing = self.down;
                            let d = if self.down {
                                self.spec.failure_time
                            } else {
                                self.lookup.sample(&mut self.rng)
                            };
                            ctx.timer(d, Timer::Word(RESOLVED, k as u32));
                        }
                    }
                }
            }
            Msg::Timer(Timer::Word(RESOLVED, k)) => {
                let k = k as usize;
                let failing = self.resolvers[k].failing;
                let answer = self.current_answer();
                let waiting = std::mem::take(&mut self.resolvers[k].waiting);
                let res = &mut self.resolvers[k];
                res.querying = false;
                if failing {
                    // SERVFAIL is not cached: the next lookup asks again.
                    res.answer = None;
                } else {
                    res.answer = Some((answer, now + self.spec.ttl));
                }
                for &id in &waiting {
                    if failing {
                        self.stats.failures += 1;
                        if let Some(r) = ctx.reqs.get_mut(id) {
                            r.outcome = Outcome::DnsFailure;
                        }
                        ctx.respond(id, &mut self.rng);
                    } else {
                        self.forward(id, answer, ctx);
                    }
                }
                // Give the buffer back so steady state allocates nothing.
                let mut waiting = waiting;
                waiting.clear();
                self.resolvers[k].waiting = waiting;
            }
            Msg::Control(Control::DnsOutage) => {
                self.down = true;
                self.events.push(TimelineEvent {
                    kind: EventKind::Dns,
                    component: self.name.clone(),
                    at: now,
                    text: "authoritative DNS down: lookups that miss every cache fail".into(),
                });
            }
            Msg::Control(Control::Recover) => {
                if self.down {
                    self.down = false;
                    self.events.push(TimelineEvent {
                        kind: EventKind::Dns,
                        component: self.name.clone(),
                        at: now,
                        text: "authoritative DNS back".into(),
                    });
                }
            }
            Msg::Timer(Timer::Word(CHECK_TICK, _)) => {
                if let Some((_, interval, _, timeout)) = self.spec.failover {
                    let primary = self.spec.primary;
                    probe::send(ctx, &mut self.rng, primary, 0, timeout);
                    ctx.timer(interval, Timer::Word(CHECK_TICK, 0));
                }
            }
            Msg::Timer(Timer::Req(PROBE_TIMEOUT, id)) => {
                if let ProbeResult::TimedOut { .. } = probe::on_timeout(ctx, id) {
                    self.check_result(false, now);
                }
            }
            Msg::Response(id) => {
                if probe::is_probe(ctx, id) {
                    if let ProbeResult::Answered { ok, .. } = probe::on_response(ctx, id) {
                        self.check_result(ok, now);
                    }
                } else {
                    // Not on the answer path; pass anything that arrives along.
                    ctx.respond(id, &mut self.rng);
                }
            }
            Msg::Timer(_) | Msg::Control(_) => {}
        }
    }

    fn check_result(&mut self, ok: bool, now: Time) {
        let Some((_, _, threshold, _)) = self.spec.failover else {
            return;
        };
        if ok {
            self.passes += 1;
            self.fails = 0;
        } else {
            self.fails += 1;
            self.passes = 0;
        }
        if self.primary_healthy && self.fails >= threshold {
            self.primary_healthy = false;
            self.events.push(TimelineEvent {
                kind: EventKind::Dns,
                component: self.name.clone(),
                at: now,
                text: format!("primary failed {threshold} health checks: answering the secondary (cached answers live on until their TTL)"),
            });
        } else if !self.primary_healthy && self.passes >= threshold {
            self.primary_healthy = true;
            self.events.push(TimelineEvent {
                kind: EventKind::Dns,
                component: self.name.clone(),
                at: now,
                text: "primary healthy again: answering the primary".into(),
            });
        }
    }
}

impl Behaviour for Dns {
    /// Starts failover health checks (call once at time zero).
    fn start(&mut self, ctx: &mut Ctx) {
        if let Some((_, interval, _, _)) = self.spec.failover {
            ctx.timer(interval, Timer::Word(CHECK_TICK, 0));
        }
    }

    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        self.on_msg(msg, ctx);
    }

    fn timeline(&self) -> &[TimelineEvent] {
        &self.events
    }

    fn card(&mut self, _now: Time, _measured: Time) -> Option<Card> {
        let s = &self.stats;
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("lookups", Figure::Count(s.lookups)),
                ("cache_hits", Figure::Count(s.cache_hits)),
                (
                    "authoritative_queries",
                    Figure::Count(s.authoritative_queries),
                ),
                ("failures", Figure::Count(s.failures)),
                (
                    "answering_primary_at_end",
                    Figure::Flag(self.answering_primary()),
                ),
            ],
        })
    }
}

impl Kind for Dns {
    type Config = DnsConfig;
    type Spec = DnsSpec;
    const WORDS: &'static str = "DNS";
    const ABOUT: &'static str = "DNS.";
    const SCHEMA_NAME: &'static str = "DnsComponent";
    /// The users' resolvers sit on the users' side of the network.
    const ZONE: Zone = Zone::Users;
    const WIRING: Wiring = Wiring {
        front_door: Some(0),
        dns_answer: false,
        balancer_target: BalancerTarget::No,
        dns_outage: true,
        starts_last: false,
        callable: false,
    };

    fn parse(table: toml::Table) -> Result<DnsConfig, ParseError> {
        parse_table(table)
    }

    fn check(_name: &str, d: &DnsConfig, base: &[Seg], c: &mut Checker) -> Option<DnsSpec> {
        let endpoint = |c: &mut Checker, key: &[Seg], t: &str| {
            let r = c.resolve(key, t)?;
            if r.kind.wiring().dns_answer {
                Some(r.id)
            } else {
                c.err(
                    key,
                    format!("\"{t}\" can't be a DNS answer"),
                    Some("point the record at a server or a load balancer".into()),
                );
                None
            }
        };
        let primary = endpoint(c, &at_key(base, "record"), &d.record);
        let failover = d.failover.as_ref().and_then(|f| {
            let fp = at_key(base, "failover");
            let sec = endpoint(c, &at_key(&fp, "secondary"), &f.secondary)?;
            let interval = f.interval.map_or(DEFAULT_CHECK_INTERVAL, |x| x.0);
            let timeout = f
                .timeout
                .map_or(DEFAULT_CHECK_TIMEOUT.min(interval), |x| x.0);
            let th = f.threshold.unwrap_or(DEFAULT_CHECK_THRESHOLD);
            c.probe_timing(&fp, interval, timeout);
            c.probe_count(&fp, "threshold", th, "threshold");
            Some((sec, interval, th, timeout))
        });
        let ttl = d.ttl.map_or(
            if failover.is_some() {
                DEFAULT_FAILOVER_TTL
            } else {
                DEFAULT_TTL
            },
            |x| x.0,
        );
        let resolvers = d.resolvers.unwrap_or(20);
        if resolvers == 0 || resolvers > 1_000_000 {
            c.err(
                &at_key(base, "resolvers"),
                format!("resolvers must be 1–1,000,000, found {resolvers}"),
                None,
            );
        }
        let lookup = d.lookup_time.clone().unwrap_or_else(default_lookup);
        c.dist(&at_key(base, "lookup_time"), &lookup, true);
        primary.map(|p| DnsSpec {
            primary: p,
            ttl,
            resolvers: resolvers.max(1),
            lookup,
            failure_time: d.failure_time.map_or(DEFAULT_FAILURE_TIME, |x| x.0),
            failover,
        })
    }

    fn build(name: &str, spec: DnsSpec, seed: u64) -> Self {
        Dns::new(name, spec, seed)
    }

    fn footprint(d: &DnsSpec, _mean_work: f64) -> Footprint {
        let checks = d
            .failover
            .map_or(0.0, |(_, interval, ..)| 3.0 * 1e9 / interval.max(1) as f64);
        Footprint {
            // A lookup: asked, answered (from a resolver's cache or after the authoritative query).
            events_per_request: 1.5,
            background_per_s: checks,
            capacity_per_s: f64::INFINITY,
            holds: 0.0,
            bytes: 4096.0 + 64.0 * f64::from(d.resolvers),
        }
    }

    fn describe(d: &DnsSpec, _cx: &DescribeCtx) -> Description {
        let mut routes = vec![Route {
            to: d.primary,
            role: RouteRole::Answer,
        }];
        if let Some((sec, ..)) = d.failover {
            routes.push(Route {
                to: sec,
                role: RouteRole::Failover,
            });
        }
        Description {
            detail: format!(
                "TTL {}, {} resolvers, lookup {}, failure after {}{}",
                human(d.ttl),
                d.resolvers,
                d.lookup.describe(),
                human(d.failure_time),
                d.failover.map_or(String::new(), |(_, i, th, _)| format!(
                    ", failover after {th} failed checks every {}",
                    human(i)
                ))
            ),
            shape: Shape::Diamond,
            routes,
            looked_up: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sim::Simulation;
    use crate::engine::{Model, Scheduler};
    use crate::metrics::Metrics;
    use crate::model::network::{Network, NetworkConfig};
    use crate::model::probe::PROBE_CLASS;
    use crate::model::registry::Registry;
    use crate::model::request::RequestTable;
    use crate::model::world::ctx;
    use crate::model::Event;
    use crate::scenario::units::Duration as D;

    /// The users (played by the harness).
    const USER: CompId = 0;
    /// The DNS under test.
    const DNS: CompId = 1;
    /// The record's endpoint (played by the harness).
    const PRIMARY: CompId = 2;
    /// The failover endpoint (played by the harness).
    const SECONDARY: CompId = 3;

    /// What the harness feeds the DNS, at a time.
    enum Input {
        /// A lookup by this user (resolver = user % resolvers).
        Lookup(u32),
        /// A control verb for the DNS.
        Verb(Control),
    }

    /// A DNS in front of two fake endpoints that answer at once while up and never while down.
    struct Harness {
        dns: Dns,
        reqs: RequestTable,
        metrics: Metrics,
        net: Network,
        zones: Vec<Zone>,
        registry: Registry,
        rng: RngStream,
        /// When the primary is down: [from, until) spans.
        primary_down: Vec<(Time, Time)>,
        /// The lookups, in input order.
        ids: Vec<ReqId>,
        /// Per lookup: (answer time, outcome).
        answers: Vec<Option<(Time, Outcome)>>,
        /// Per lookup: (arrival time, endpoint) if it reached one.
        reached: Vec<Option<(Time, CompId)>>,
    }

    impl Model for Harness {
        type Event = Event;
        fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
            let now = sched.now();
            let mut ctx = ctx!(self, sched, ev.to);
            match (ev.to, ev.msg) {
                (USER, Msg::Response(id)) => {
                    let i = self.ids.iter().position(|&x| x == id).expect("a lookup");
                    self.answers[i] = Some((now, ctx.reqs.get(id).expect("live").outcome));
                }
                (DNS, msg) => self.dns.handle(msg, &mut ctx),
                (to @ (PRIMARY | SECONDARY), Msg::Request(id)) => {
                    if ctx.reqs.get(id).expect("live").class != PROBE_CLASS {
                        let i = self.ids.iter().position(|&x| x == id).expect("a lookup");
                        self.reached[i] = Some((now, to));
                    }
                    let down = to == PRIMARY
                        && self
                            .primary_down
                            .iter()
                            .any(|&(from, until)| (from..until).contains(&now));
                    if !down {
                        ctx.respond(id, &mut self.rng);
                    }
                }
                other => unreachable!("{other:?}"),
            }
        }
    }

    /// A DNS spec: lookups take exactly 50 ms, failures 10 s.
    fn spec(ttl: Time, resolvers: u32, failover: Option<(CompId, Time, u32, Time)>) -> DnsSpec {
        DnsSpec {
            primary: PRIMARY,
            ttl,
            resolvers,
            lookup: DistConfig::Deterministic { value: D(50 * MS) },
            failure_time: 10 * SEC,
            failover,
        }
    }

    /// A started world with zero network delay.
    fn world(
        spec: DnsSpec,
        primary_down: &[(Time, Time)],
        inputs: &[(Time, Input)],
    ) -> Simulation<Harness> {
        let mut h = Harness {
            dns: Dns::new("dns", spec, 1),
            reqs: RequestTable::new(),
            metrics: Metrics::new(&["c".into()], 0, SEC),
            net: Network::new(&NetworkConfig {
                client_rtt: D(0),
                internal_rtt: D(0),
                jitter: 0.0,
                regions: None,
            }),
            zones: vec![Zone::Users, Zone::Users, Zone::Internal, Zone::Internal],
            registry: Registry::new(4, 1),
            rng: RngStream::new(1, "endpoints"),
            primary_down: primary_down.to_vec(),
            ids: Vec::new(),
            answers: Vec::new(),
            reached: Vec::new(),
        };
        let mut sched = Scheduler::<Event>::new();
        for (at, input) in inputs {
            let msg = match input {
                Input::Lookup(user) => {
                    let id = h.reqs.alloc(0, *user, *at, 1.0);
                    h.reqs.get_mut(id).expect("fresh").push_hop(USER, 0);
                    h.ids.push(id);
                    Msg::Request(id)
                }
                Input::Verb(c) => Msg::Control(*c),
            };
            sched.at(*at, Event { to: DNS, msg });
        }
        h.answers = vec![None; h.ids.len()];
        h.reached = vec![None; h.ids.len()];
        let mut sim = Simulation::new(h);
        sim.sched = sched;
        let h = &mut sim.model;
        let mut ctx = ctx!(h, &mut sim.sched, DNS);
        h.dns.start(&mut ctx);
        sim
    }

    fn run(
        spec: DnsSpec,
        primary_down: &[(Time, Time)],
        inputs: &[(Time, Input)],
        until: Time,
    ) -> Harness {
        let mut sim = world(spec, primary_down, inputs);
        sim.run_until(until);
        sim.model
    }

    #[test]
    fn a_cached_answer_within_the_ttl_does_not_ask_the_authoritative() {
        use Input::*;
        // One resolver, TTL 60 s. The lookup at 0 misses: the query takes 50 ms, the answer is
        // cached until 60.05 s. Lookups at 10 s and 60.049 s are hits, sent on at once.
        let h = run(
            spec(60 * SEC, 1, None),
            &[],
            &[
                (0, Lookup(0)),
                (10 * SEC, Lookup(0)),
                (60_049 * MS, Lookup(0)),
            ],
            70 * SEC,
        );
        assert_eq!(
            h.reached,
            vec![
                Some((50 * MS, PRIMARY)),
                Some((10 * SEC, PRIMARY)),
                Some((60_049 * MS, PRIMARY))
            ]
        );
        let s = &h.dns.stats;
        assert_eq!(
            (s.lookups, s.cache_hits, s.authoritative_queries),
            (3, 2, 1)
        );
    }

    #[test]
    fn an_expired_answer_is_asked_for_again() {
        use Input::*;
        // The answer cached at 50 ms expires at 60.05 s exactly: a lookup then misses and waits
        // for a fresh 50 ms query (on at 60.1 s), which is cached in turn until 120.1 s.
        let h = run(
            spec(60 * SEC, 1, None),
            &[],
            &[
                (0, Lookup(0)),
                (60_050 * MS, Lookup(0)),
                (120 * SEC, Lookup(0)),
            ],
            130 * SEC,
        );
        assert_eq!(
            h.reached,
            vec![
                Some((50 * MS, PRIMARY)),
                Some((60_100 * MS, PRIMARY)),
                Some((120 * SEC, PRIMARY))
            ]
        );
        assert_eq!(h.dns.stats.authoritative_queries, 2);
        assert_eq!(h.dns.stats.cache_hits, 1);
    }

    #[test]
    fn lookups_waiting_on_one_resolver_share_its_query() {
        use Input::*;
        // Two resolvers. Users 0, 2, 4 use resolver 0: their lookups at 0, 10 and 20 ms all wait
        // for the one query started at 0, and go on together at 50 ms. User 1 uses resolver 1:
        // its own query, 30 → 80 ms.
        let h = run(
            spec(60 * SEC, 2, None),
            &[],
            &[
                (0, Lookup(0)),
                (10 * MS, Lookup(2)),
                (20 * MS, Lookup(4)),
                (30 * MS, Lookup(1)),
            ],
            SEC,
        );
        assert_eq!(
            h.reached,
            vec![
                Some((50 * MS, PRIMARY)),
                Some((50 * MS, PRIMARY)),
                Some((50 * MS, PRIMARY)),
                Some((80 * MS, PRIMARY))
            ]
        );
        assert_eq!(h.dns.stats.authoritative_queries, 2);
        assert_eq!(h.dns.queries_per_resolver, vec![1, 1]);
        assert_eq!(h.dns.stats.cache_hits, 0);
    }

    #[test]
    fn an_outage_fails_cache_misses_after_failure_time_while_cached_answers_last_their_ttl() {
        use Input::*;
        // Two resolvers, TTL 60 s. Resolver 0 caches the answer at 50 ms (until 60.05 s). The
        // authoritative service is down from 30 s to 80 s.
        //   40 s, user 1 (resolver 1, empty cache): its query fails after 10 s → DNS failure at 50 s;
        //   42 s, user 3 (resolver 1): joins that query, fails with it at 50 s;
        //   45 s, user 0 (resolver 0): a cache hit, on at once;
        //   55 s, user 1: SERVFAIL is not cached, so it asks again: fails at 65 s;
        //   61 s, user 0: resolver 0's answer expired at 60.05 s: fails at 71 s;
        //   85 s, user 1: the service is back: answered at 85.05 s.
        let h = run(
            spec(60 * SEC, 2, None),
            &[],
            &[
                (0, Lookup(0)),
                (30 * SEC, Verb(Control::DnsOutage)),
                (40 * SEC, Lookup(1)),
                (42 * SEC, Lookup(3)),
                (45 * SEC, Lookup(0)),
                (55 * SEC, Lookup(1)),
                (61 * SEC, Lookup(0)),
                (80 * SEC, Verb(Control::Recover)),
                (85 * SEC, Lookup(1)),
            ],
            100 * SEC,
        );
        let failed = |t: Time| Some((t, Outcome::DnsFailure));
        assert_eq!(
            h.answers,
            vec![
                Some((50 * MS, Outcome::Ok)),
                failed(50 * SEC),
                failed(50 * SEC),
                Some((45 * SEC, Outcome::Ok)),
                failed(65 * SEC),
                failed(71 * SEC),
                Some((85_050 * MS, Outcome::Ok)),
            ]
        );
        assert_eq!(h.reached[3], Some((45 * SEC, PRIMARY)));
        assert!(h.reached[1].is_none() && h.reached[2].is_none());
        assert_eq!(h.dns.stats.failures, 4);
        let dns_events: Vec<Time> = h.dns.events.iter().map(|e| e.at).collect();
        assert_eq!(dns_events, vec![30 * SEC, 80 * SEC]);
    }

    #[test]
    fn failover_answers_the_secondary_after_threshold_failed_checks_and_the_primary_after_as_many_passes(
    ) {
        use Input::*;
        // Checks every 10 s from 10 s, timeout 4 s, threshold 3. The primary is down from 25 s
        // to 75 s: checks at 30, 40, 50 s time out at 34, 44, 54 s → the secondary from 54 s.
        // Checks at 60 and 70 s fail too; 80, 90, 100 s pass → the primary again from 100 s.
        // One resolver with a 5 s TTL: a lookup at 56 s gets the secondary, one at 101 s (the
        // cache expired at 61.05 s) the primary.
        let h = run(
            spec(5 * SEC, 1, Some((SECONDARY, 10 * SEC, 3, 4 * SEC))),
            &[(25 * SEC, 75 * SEC)],
            &[(56 * SEC, Lookup(0)), (101 * SEC, Lookup(0))],
            110 * SEC,
        );
        let flips: Vec<(Time, bool)> = h
            .dns
            .events
            .iter()
            .map(|e| (e.at, e.text.starts_with("primary healthy")))
            .collect();
        assert_eq!(flips, vec![(54 * SEC, false), (100 * SEC, true)]);
        assert!(h.dns.answering_primary());
        assert_eq!(
            h.reached,
            vec![
                Some((56_050 * MS, SECONDARY)),
                Some((101_050 * MS, PRIMARY))
            ]
        );
    }

    #[test]
    fn failover_does_not_flip_on_fewer_than_threshold_failures() {
        // The primary is down from 25 s to 45 s: checks at 30 and 40 s fail (two, threshold 3),
        // the one at 50 s passes and resets the count. No flip.
        let mut sim = world(
            spec(5 * SEC, 1, Some((SECONDARY, 10 * SEC, 3, 4 * SEC))),
            &[(25 * SEC, 45 * SEC)],
            &[],
        );
        sim.run_until(200 * SEC);
        assert!(
            sim.model.dns.events.is_empty(),
            "{:?}",
            sim.model.dns.events
        );
        assert!(sim.model.dns.answering_primary());
    }
}
