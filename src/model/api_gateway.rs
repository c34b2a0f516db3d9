//! An API gateway: one front door for many services. It routes each request by its path to the
//! service that owns it (the longest matching prefix wins), adds its own processing time, caps
//! the requests in flight and the request rate (429 beyond either), and gives up on a backend
//! after the integration timeout.
//!
//! ```text
//!                      ┌─ /search ──▶ search balancer ──▶ search fleet
//!   users ──▶ gateway ─┼─ /orders ──▶ orders balancer ──▶ orders fleet ──▶ payments (external)
//!                      └─ /       ──▶ web balancer    ──▶ web fleet
//!   answers:  404 no route · 429 over the quota or the rate · 502 the backend failed ·
//!             504 the backend took longer than the integration timeout
//! ```
//!
//! Each forwarded request is a call ([`super::fanout`]): a request of its own to the backend, so
//! a 504 answers the user at once while the backend's late answer is dropped when it comes back.
//!
//! Semantics and defaults: docs/semantics.md §5 (API Gateway): integration timeout 29 s, throttle
//! a token bucket of 10,000 requests/s with a burst of 5,000 (the account default per region).

use super::dist::{Dist, DistConfig};
use super::fanout::{Call, Done, Fanout, Mode, Plan};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    Kind, ParseError, Route, RouteRole, Section, Shape, Wiring,
};
use super::limiter::token_bucket::TokenBucket;
use super::limiter::Policy;
use super::meter::PerUse;
use super::request::{Outcome, ReqId};
use super::{Code, Control, Ctx, Msg, Timer, Zone};
use crate::engine::time::{human, Time, MS, SEC};
use crate::engine::RngStream;
use crate::scenario::error::Seg;
use crate::scenario::units::{Dollars, Duration, Rate};
use crate::scenario::validate::{at_index, at_key, Checker};
use serde::{Deserialize, Serialize};

/// Its own processing is done: forward the request (payload: the request).
const FORWARD: Code = Code(0);

/// Default integration timeout: 29 s (REST APIs; docs/semantics.md §5).
pub const DEFAULT_TIMEOUT: Time = 29 * SEC;
/// Default throttle rate: 10,000 requests/s (the account default per region; §5).
pub const DEFAULT_RATE: f64 = 10_000.0;
/// Default throttle burst: 5,000 requests (§5).
pub const DEFAULT_BURST: u32 = 5_000;
/// Default processing time per request (a model figure: a few milliseconds for auth, routing and
/// request mapping).
pub const DEFAULT_LATENCY: Time = 5 * MS;
/// Default price per million requests: $3.50 (REST APIs, first 333 million a month, us-east-1;
/// aws.amazon.com/api-gateway/pricing; a model figure, not in the reference table).
pub const DEFAULT_PRICE_PER_MILLION: f64 = 3.5;

/// `[components.NAME] kind = "api_gateway"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiGatewayConfig {
    /// Where each path goes: `routes = [{ path = "/search", target = "search_lb" }, ...]`. The
    /// longest matching prefix wins; a path no route matches is answered 404.
    pub routes: Vec<RouteConfig>,
    /// Its own processing time per request. Default 5ms, deterministic.
    pub latency: Option<DistConfig>,
    /// Give up on a backend after this long and answer 504. Default 29s (REST APIs).
    pub timeout: Option<Duration>,
    /// Throttle: the token bucket's refill rate; beyond it requests are answered 429.
    /// Default "10000/s" (the account default per region).
    pub rate: Option<Rate>,
    /// Throttle: the token bucket's size, the burst it admits at once. Default 5000.
    pub burst: Option<u32>,
    /// Most requests in flight through the gateway at once; beyond it 429. Default: no limit.
    pub max_concurrency: Option<u32>,
    /// Price per million requests. Default $3.50 (REST APIs, us-east-1).
    pub price_per_million: Option<Dollars>,
}

/// `{ path = "/orders", target = "orders_lb" }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// A path prefix: `/orders` matches `/orders` and `/orders/5`; `/` matches everything.
    pub path: String,
    /// The component that serves it (a balancer, a server, an external service).
    pub target: String,
    /// This route's integration timeout, if not the gateway's.
    pub timeout: Option<Duration>,
}

/// A gateway after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiGatewaySpec {
    /// Route paths, in the order written.
    pub paths: Vec<String>,
    /// One plan per route: a single call to its target with its timeout.
    pub plans: Vec<Plan>,
    /// By request class: its route (the longest matching prefix), or none (404).
    pub route_of_class: Vec<Option<u16>>,
    /// Processing time.
    pub latency: DistConfig,
    /// Throttle rate (requests/s) and burst.
    pub rate: f64,
    /// Throttle burst.
    pub burst: u32,
    /// Most in flight at once.
    pub max_concurrency: u32,
    /// $ per request.
    pub price_per_request: f64,
}

/// Counters of a gateway (since the warm-up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GatewayStats {
    /// Requests received.
    pub received: u64,
    /// Forwarded to a route's target.
    pub routed: u64,
    /// Answered 404: no route for the path.
    pub not_found: u64,
    /// Answered 429: over the rate or the concurrency quota.
    pub throttled: u64,
    /// Answered 502: the backend refused, reset or failed the request.
    pub bad_gateway: u64,
    /// Answered 504: the backend took longer than the integration timeout.
    pub gateway_timeout: u64,
}

/// An API gateway component.
pub struct ApiGateway {
    name: String,
    spec: ApiGatewaySpec,
    rng: RngStream,
    latency: Dist,
    bucket: TokenBucket,
    fanout: Fanout,
    in_flight: u32,
    down: bool,
    stats: GatewayStats,
    /// The bill: per request received.
    bill: PerUse,
}

impl ApiGateway {
    fn answer(&mut self, id: ReqId, outcome: Outcome, ctx: &mut Ctx) {
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.outcome = outcome;
        }
        ctx.respond(id, &mut self.rng);
    }

    fn on_request(&mut self, id: ReqId, ctx: &mut Ctx) {
        self.stats.received += 1;
        self.bill.add();
        if self.down {
            self.answer(id, Outcome::Unavailable, ctx);
            return;
        }
        if self.in_flight >= self.spec.max_concurrency || !self.bucket.admit(ctx.now()) {
            self.stats.throttled += 1;
            self.answer(id, Outcome::Throttled, ctx);
            return;
        }
        self.in_flight += 1;
        let d = self.latency.sample(&mut self.rng);
        ctx.timer(d, Timer::Req(FORWARD, id));
    }

    fn forward(&mut self, id: ReqId, ctx: &mut Ctx) {
        let class = ctx.reqs.get(id).map_or(0, |r| r.class);
        let route = self
            .spec
            .route_of_class
            .get(class as usize)
            .copied()
            .flatten();
        let Some(route) = route else {
            self.stats.not_found += 1;
            self.in_flight -= 1;
            self.answer(id, Outcome::Error, ctx);
            return;
        };
        self.stats.routed += 1;
        let plan = &self.spec.plans[route as usize];
        if let Some(d) = self
            .fanout
            .begin(id, u32::from(route), plan, ctx, &mut self.rng)
        {
            self.done(d, ctx);
        }
    }

    /// The backend answered (or the timeout passed): answer the user in the gateway's words.
    fn done(&mut self, d: Done, ctx: &mut Ctx) {
        self.in_flight -= 1;
        let outcome = match d.outcome {
            Outcome::Timeout => {
                self.stats.gateway_timeout += 1;
                Outcome::Timeout
            }
            Outcome::Refused | Outcome::Crashed | Outcome::Error => {
                self.stats.bad_gateway += 1;
                Outcome::Error
            }
            o => o,
        };
        self.answer(d.parent, outcome, ctx);
    }
}

impl Behaviour for ApiGateway {
    fn start(&mut self, _ctx: &mut Ctx) {}

    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        if let Some(done) = self.fanout.take(msg, &self.spec.plans, ctx, &mut self.rng) {
            if let Some(d) = done {
                self.done(d, ctx);
            }
            return;
        }
        match msg {
            Msg::Request(id) => self.on_request(id, ctx),
            Msg::Timer(Timer::Req(FORWARD, id)) => {
                if self.down {
                    return; // dropped with the rest when it went down
                }
                self.forward(id, ctx)
            }
            Msg::Response(id) => {
                ctx.respond(id, &mut self.rng);
            }
            Msg::Control(Control::Crash | Control::Stop) => {
                self.down = true;
                for parent in self.fanout.abort_all() {
                    self.in_flight -= 1;
                    self.answer(parent, Outcome::Crashed, ctx);
                }
            }
            Msg::Control(Control::Recover) => self.down = false,
            Msg::Control(_) | Msg::Timer(_) => {}
        }
    }

    fn reset_stats(&mut self, _now: Time) {
        self.stats = GatewayStats::default();
        self.bill.reset();
    }

    fn billed(&mut self, _now: Time) -> f64 {
        self.bill.billed()
    }

    fn measured_cost(&mut self, _now: Time, _measured: Time) -> f64 {
        self.bill.measured()
    }

    fn card(&mut self, now: Time, measured: Time) -> Option<Card> {
        let cost = self.measured_cost(now, measured);
        let s = &self.stats;
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("received", Figure::Count(s.received)),
                ("routed", Figure::Count(s.routed)),
                ("not_found_404", Figure::Count(s.not_found)),
                ("throttled_429", Figure::Count(s.throttled)),
                ("bad_gateway_502", Figure::Count(s.bad_gateway)),
                ("gateway_timeout_504", Figure::Count(s.gateway_timeout)),
                ("cost_usd", Figure::Value(cost)),
            ],
        })
    }

    fn check_invariants(&self) {
        assert!(
            self.in_flight <= self.spec.max_concurrency,
            "{}: {} in flight over a quota of {}",
            self.name,
            self.in_flight,
            self.spec.max_concurrency
        );
    }
}

impl Kind for ApiGateway {
    type Config = ApiGatewayConfig;
    type Spec = ApiGatewaySpec;
    const WORDS: &'static str = "API gateway";
    const ABOUT: &'static str =
        "An API gateway: routes by path prefix to services, throttles (429), times out (504).";
    const SCHEMA_NAME: &'static str = "ApiGatewayComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: Some(1),
        dns_answer: true,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<ApiGatewayConfig, ParseError> {
        parse_table(table)
    }

    fn check(
        name: &str,
        g: &ApiGatewayConfig,
        base: &[Seg],
        c: &mut Checker,
    ) -> Option<ApiGatewaySpec> {
        let rp = at_key(base, "routes");
        if g.routes.is_empty() {
            c.err(
                &rp,
                "a gateway needs at least one route",
                Some("e.g. routes = [{ path = \"/\", target = \"web\" }]".into()),
            );
        }
        if g.routes.len() > 1000 {
            c.err(&rp, "at most 1000 routes", None);
            return None;
        }
        let timeout = g.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0);
        if timeout == 0 {
            c.err(
                &at_key(base, "timeout"),
                "the integration timeout must be more than zero",
                Some("API Gateway's default is 29s".into()),
            );
        }
        let mut paths: Vec<String> = Vec::new();
        let mut plans = Vec::new();
        for (i, r) in g.routes.iter().enumerate() {
            let p = at_index(&rp, i);
            c.url_path(&at_key(&p, "path"), &r.path);
            let norm = r.path.trim_end_matches('/').to_string();
            if paths
                .iter()
                .any(|q| q.trim_end_matches('/') == norm.as_str())
            {
                c.err(
                    &at_key(&p, "path"),
                    format!("two routes for the path \"{}\"", r.path),
                    None,
                );
            }
            paths.push(r.path.clone());
            let to = c
                .callable(
                    &at_key(&p, "target"),
                    &r.target,
                    name,
                    "a gateway",
                    "route to",
                )
                .unwrap_or(0);
            let rt = r.timeout.map_or(timeout, |d| d.0);
            if r.timeout.is_some() && rt == 0 {
                c.err(
                    &at_key(&p, "timeout"),
                    "a route's timeout must be more than zero",
                    None,
                );
            }
            plans.push(Plan {
                mode: Mode::Sequential,
                calls: vec![Call {
                    to,
                    timeout: Some(rt),
                    work: 1.0,
                    fallback: None,
                    breaker: None,
                }],
            });
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let route_of_class = c.match_classes(&refs);
        let latency = g.latency.clone().unwrap_or(DistConfig::Deterministic {
            value: Duration(DEFAULT_LATENCY),
        });
        c.dist(&at_key(base, "latency"), &latency, true);
        let rate = g.rate.map_or(DEFAULT_RATE, |r| r.0);
        if !(rate > 0.0 && rate.is_finite() && rate <= 1e9) {
            c.err(
                &at_key(base, "rate"),
                format!(
                    "the rate must be more than 0/s and at most 1000000000/s, found {}",
                    crate::scenario::error::number(rate)
                ),
                None,
            );
        }
        let burst = g.burst.unwrap_or(DEFAULT_BURST);
        if burst == 0 {
            c.err(
                &at_key(base, "burst"),
                "the burst must be at least 1 (a bucket of 0 admits nothing)",
                None,
            );
        }
        if g.max_concurrency == Some(0) {
            c.err(
                &at_key(base, "max_concurrency"),
                "max_concurrency must be at least 1",
                None,
            );
        }
        let price = g
            .price_per_million
            .map_or(DEFAULT_PRICE_PER_MILLION, |p| p.0);
        Some(ApiGatewaySpec {
            paths,
            plans,
            route_of_class,
            latency,
            rate,
            burst,
            max_concurrency: g.max_concurrency.unwrap_or(u32::MAX),
            price_per_request: price / 1e6,
        })
    }

    fn build(name: &str, spec: ApiGatewaySpec, seed: u64) -> Self {
        ApiGateway {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("api_gateway/{name}")),
            latency: spec.latency.sampler(),
            bucket: TokenBucket::per_second(spec.rate, spec.burst),
            fanout: Fanout::new(),
            in_flight: 0,
            down: false,
            stats: GatewayStats::default(),
            bill: PerUse::new(spec.price_per_request),
            spec,
        }
    }

    fn describe(g: &ApiGatewaySpec, cx: &DescribeCtx) -> Description {
        let routes: Vec<String> = g
            .paths
            .iter()
            .zip(&g.plans)
            .map(|(p, plan)| format!("{p} → {}", (cx.name_of)(plan.calls[0].to)))
            .collect();
        let quota = if g.max_concurrency == u32::MAX {
            String::new()
        } else {
            format!(", at most {} in flight", g.max_concurrency)
        };
        Description {
            detail: format!(
                "routes {}; {} per request; throttle {:.0}/s burst {}{quota}; timeout {}",
                routes.join(", "),
                g.latency.describe(),
                g.rate,
                g.burst,
                human(
                    g.plans
                        .first()
                        .and_then(|p| p.calls[0].timeout)
                        .unwrap_or(0)
                )
            ),
            shape: Shape::Box,
            routes: g
                .plans
                .iter()
                .map(|p| Route {
                    to: p.calls[0].to,
                    role: RouteRole::Forward,
                })
                .collect(),
            looked_up: false,
        }
    }

    fn footprint(g: &ApiGatewaySpec, _mean_work: f64) -> Footprint {
        Footprint {
            // Arrives, its processing timer, the call (a request of its own) and its answer.
            events_per_request: 3.0,
            background_per_s: 0.0,
            capacity_per_s: g.rate,
            holds: f64::from(g.max_concurrency),
            bytes: 4096.0 + 64.0 * g.plans.len() as f64,
        }
    }
}
