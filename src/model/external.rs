//! An external dependency: a third-party service we call but do not run (a payment provider, a
//! shipping API). It answers after its latency, fails a share of calls, throttles calls beyond its
//! own rate limit (429), and has outages on the fault timeline: `stop` (its API refuses calls:
//! 503), `hang` (it accepts calls and never answers: callers time out), `slow` (every answer takes
//! `factor` times longer), `recover`. It is never scaled by us and has no capacity of its own to
//! exhaust; it may be priced per call.
//!
//! ```text
//!   orders ──call──▶ payments (external) ── latency ──▶ answer: ok · error (error_rate)
//!                        │                                     · 429 (over its rate limit)
//!                        └── stop: 503 at once · hang: never · slow: latency × factor
//! ```

use super::dist::{Dist, DistConfig};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    Kind, ParseError, Section, Shape, Wiring,
};
use super::limiter::token_bucket::TokenBucket;
use super::limiter::Policy;
use super::meter::PerUse;
use super::request::{Outcome, ReqId};
use super::{Code, Control, Ctx, Msg, Timer, Zone};
use crate::engine::time::Time;
use crate::engine::RngStream;
use crate::scenario::error::Seg;
use crate::scenario::units::{Dollars, Fraction, Rate};
use crate::scenario::validate::{at_key, Checker};
use serde::{Deserialize, Serialize};

/// An answer is ready (payload: the request).
const ANSWER: Code = Code(0);

/// `[components.NAME] kind = "external"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalConfig {
    /// How long it takes to answer, e.g. { dist = "lognormal", mean = "300ms", cv = 0.5 }.
    pub latency: DistConfig,
    /// Share of calls it fails (answered with an error), e.g. 0.01 or "1%". Default 0.
    pub error_rate: Option<Fraction>,
    /// Its rate limit on our calls; beyond it calls are answered 429. Default: none.
    pub rate_limit: Option<Rate>,
    /// The burst its rate limit admits at once. Default: one second of `rate_limit`.
    pub burst: Option<u32>,
    /// Price per call, e.g. "$0.0001". Default $0.
    pub price_per_call: Option<Dollars>,
}

/// An external dependency after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalSpec {
    /// Latency.
    pub latency: DistConfig,
    /// Share failed.
    pub error_rate: f64,
    /// (rate per second, burst), if limited.
    pub rate_limit: Option<(f64, u32)>,
    /// $ per call.
    pub price_per_call: f64,
}

/// Counters of an external dependency (since the warm-up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExternalStats {
    /// Calls received.
    pub calls: u64,
    /// Answered ok.
    pub ok: u64,
    /// Failed by its error rate.
    pub errors: u64,
    /// Answered 429 (over its rate limit).
    pub throttled: u64,
    /// Refused during an outage (503).
    pub unavailable: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    Up,
    /// Refuses every call.
    Down,
    /// Accepts calls and never answers.
    Hung,
}

/// An external dependency component.
pub struct External {
    name: String,
    spec: ExternalSpec,
    rng: RngStream,
    latency: Dist,
    limit: Option<TokenBucket>,
    health: Health,
    /// Latency multiplier (a `slow` fault), in thousandths.
    pace: u32,
    stats: ExternalStats,
    /// The bill: per call.
    bill: PerUse,
    /// Calls taken while hung, answered when it recovers.
    hung: Vec<ReqId>,
}

impl External {
    fn answer(&mut self, id: ReqId, outcome: Outcome, ctx: &mut Ctx) {
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.outcome = outcome;
        }
        ctx.respond(id, &mut self.rng);
    }

    fn on_request(&mut self, id: ReqId, ctx: &mut Ctx) {
        self.stats.calls += 1;
        self.bill.add();
        match self.health {
            Health::Down => {
                self.stats.unavailable += 1;
                self.answer(id, Outcome::Unavailable, ctx);
                return;
            }
            Health::Hung => {
                // Held until the hang ends (the caller's timeout decides what its user sees);
                // then answered as usual, so the call's slot is freed.
                self.hung.push(id);
                return;
            }
            Health::Up => {}
        }
        if let Some(b) = &mut self.limit {
            if !b.admit(ctx.now()) {
                self.stats.throttled += 1;
                self.answer(id, Outcome::Throttled, ctx);
                return;
            }
        }
        let mut d = self.latency.sample(&mut self.rng);
        if self.pace != 1000 {
            d = (d as u128 * u128::from(self.pace) / 1000) as Time;
        }
        ctx.timer(d, Timer::Req(ANSWER, id));
    }

    fn on_answer(&mut self, id: ReqId, ctx: &mut Ctx) {
        let failed = self.spec.error_rate > 0.0 && self.rng.open01() < self.spec.error_rate;
        if failed {
            self.stats.errors += 1;
            self.answer(id, Outcome::Error, ctx);
        } else {
            self.stats.ok += 1;
            self.answer(id, Outcome::Ok, ctx);
        }
    }
}

impl Behaviour for External {
    fn start(&mut self, _ctx: &mut Ctx) {}

    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Request(id) => self.on_request(id, ctx),
            Msg::Timer(Timer::Req(ANSWER, id)) => self.on_answer(id, ctx),
            Msg::Control(c) => {
                // The fault injector puts the outage on the timeline; this only reacts.
                match c {
                    Control::Crash | Control::Stop => {
                        self.health = Health::Down;
                    }
                    Control::Hang => {
                        self.health = Health::Hung;
                    }
                    Control::Slow(permille) => {
                        self.pace = permille.max(1);
                    }
                    Control::Recover => {
                        self.health = Health::Up;
                        self.pace = 1000;
                        for id in std::mem::take(&mut self.hung) {
                            let d = self.latency.sample(&mut self.rng);
                            ctx.timer(d, Timer::Req(ANSWER, id));
                        }
                    }
                    _ => {}
                }
            }
            Msg::Response(_) | Msg::Timer(_) => {}
        }
    }

    fn reset_stats(&mut self, _now: Time) {
        self.stats = ExternalStats::default();
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
                ("calls", Figure::Count(s.calls)),
                ("ok", Figure::Count(s.ok)),
                ("errors", Figure::Count(s.errors)),
                ("throttled_429", Figure::Count(s.throttled)),
                ("unavailable_503", Figure::Count(s.unavailable)),
                ("cost_usd", Figure::Value(cost)),
            ],
        })
    }
}

impl Kind for External {
    type Config = ExternalConfig;
    type Spec = ExternalSpec;
    const WORDS: &'static str = "external service";
    const ABOUT: &'static str =
        "A third-party service we call but do not run: latency, errors, a rate limit, outages.";
    const SCHEMA_NAME: &'static str = "ExternalComponent";
    const ZONE: Zone = Zone::Users;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: false,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<ExternalConfig, ParseError> {
        parse_table(table)
    }

    fn check(
        _name: &str,
        e: &ExternalConfig,
        base: &[Seg],
        c: &mut Checker,
    ) -> Option<ExternalSpec> {
        c.dist(&at_key(base, "latency"), &e.latency, true);
        let error_rate = e.error_rate.map_or(0.0, |f| f.0);
        if !(0.0..=1.0).contains(&error_rate) {
            c.err(
                &at_key(base, "error_rate"),
                format!(
                    "the error rate is a share between 0 and 1, found {}",
                    crate::scenario::error::number(error_rate)
                ),
                Some("e.g. error_rate = 0.01 or \"1%\"".into()),
            );
        }
        let rate_limit = match e.rate_limit {
            Some(r) if !(r.0 > 0.0 && r.0.is_finite() && r.0 <= 1e9) => {
                c.err(
                    &at_key(base, "rate_limit"),
                    format!(
                        "the rate limit must be more than 0/s and at most 1000000000/s, found {}",
                        crate::scenario::error::number(r.0)
                    ),
                    None,
                );
                None
            }
            Some(r) => {
                let burst = e.burst.unwrap_or_else(|| (r.0.ceil() as u32).max(1));
                if burst == 0 {
                    c.err(&at_key(base, "burst"), "the burst must be at least 1", None);
                }
                Some((r.0, burst))
            }
            None => {
                if e.burst.is_some() {
                    c.err(
                        &at_key(base, "burst"),
                        "`burst` applies only with a `rate_limit`",
                        None,
                    );
                }
                None
            }
        };
        let price = e.price_per_call.map_or(0.0, |p| p.0);
        Some(ExternalSpec {
            latency: e.latency.clone(),
            error_rate,
            rate_limit,
            price_per_call: price,
        })
    }

    fn build(name: &str, spec: ExternalSpec, seed: u64) -> Self {
        External {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("external/{name}")),
            latency: spec.latency.sampler(),
            limit: spec.rate_limit.map(|(r, b)| TokenBucket::per_second(r, b)),
            health: Health::Up,
            pace: 1000,
            stats: ExternalStats::default(),
            bill: PerUse::new(spec.price_per_call),
            hung: Vec::new(),
            spec,
        }
    }

    fn describe(e: &ExternalSpec, _cx: &DescribeCtx) -> Description {
        let limit = e.rate_limit.map_or("no rate limit".to_string(), |(r, b)| {
            format!("rate limit {r:.0}/s burst {b} (429 beyond)")
        });
        let price = if e.price_per_call > 0.0 {
            format!("; ${} per call", e.price_per_call)
        } else {
            String::new()
        };
        Description {
            detail: format!(
                "third party: answers in {}, fails {:.2} % of calls; {limit}{price}",
                e.latency.describe(),
                e.error_rate * 100.0
            ),
            shape: Shape::Box,
            routes: Vec::new(),
            looked_up: false,
        }
    }

    fn footprint(_e: &ExternalSpec, _mean_work: f64) -> Footprint {
        Footprint {
            events_per_request: 2.0,
            background_per_s: 0.0,
            capacity_per_s: f64::INFINITY,
            holds: 0.0,
            bytes: 4096.0,
        }
    }
}
