//! A rate limiter in the request path: requests it admits go on to its target; the others are
//! answered 429 ("throttled", an outcome of its own, counted apart from errors) at once. It limits
//! everyone together (`per = "global"`) or each client apart (`per = "client"`: each user, and
//! each of a bot's `keys` — its IP addresses or API keys), on some paths or all, by one of four
//! algorithms ([`super::limiter`]: token bucket, fixed window, sliding log, sliding window), all
//! exact in integer nanoseconds and integer token units.
//!
//! ```text
//!   users ──▶ limiter ──admitted──▶ gateway ──▶ ...
//!               │ (path limited? key = who is asking; Limiter::admit(key, now))
//!               └──throttled──▶ 429 to the user, at once
//! ```
//!
//! It counts what it throttled by population (the users, each bot), which is what results.json
//! and the summary report: how many bot requests were stopped, how many real users' requests were
//! throttled by mistake.

use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    Kind, ParseError, Route, RouteRole, Section, Shape, Wiring,
};
use super::limiter::{self, Limiter, Params, Spec as PolicySpec};
use super::request::{population_of, Outcome};
use super::{CompId, Ctx, Msg, Zone};
use crate::engine::time::{human, Time, SEC};
use crate::engine::RngStream;
use crate::scenario::error::Seg;
use crate::scenario::units::{Duration, Rate};
use crate::scenario::validate::{at_key, Checker};
use serde::{Deserialize, Serialize};

/// `[components.NAME] kind = "rate_limiter"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimiterConfig {
    /// Where admitted requests go (a gateway, a balancer, a server).
    pub target: String,
    /// "token_bucket" (rate + burst), "fixed_window", "sliding_log" or "sliding_window"
    /// (limit per window). Default token_bucket.
    pub algorithm: Option<String>,
    /// "client" (each user and each of a bot's keys apart; also written "user", "ip" or
    /// "api_key") or "global" (everyone together). Default client.
    pub per: Option<String>,
    /// Token bucket: the refill rate, e.g. "10/s" or "100/min".
    pub rate: Option<Rate>,
    /// Token bucket: the most requests admitted at once.
    pub burst: Option<u64>,
    /// Window algorithms: the most requests per window.
    pub limit: Option<u64>,
    /// Window algorithms: the window's length, e.g. "1m".
    pub window: Option<Duration>,
    /// Only requests on these path prefixes are limited (e.g. ["/login"]); the rest pass.
    /// Default: every path.
    pub paths: Option<Vec<String>>,
}

/// A rate limiter after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimiterSpec {
    /// Where admitted requests go.
    pub target: CompId,
    /// The algorithm and its parameters.
    pub policy: PolicySpec,
    /// Everyone together (true) or each client apart.
    pub global: bool,
    /// By class: limited here or not.
    pub limited: Vec<bool>,
    /// The limited paths, for descriptions (empty: all).
    pub paths: Vec<String>,
    /// Populations counted apart: the users, then each bot.
    pub populations: usize,
}

/// A rate limiter component.
pub struct RateLimiter {
    name: String,
    spec: RateLimiterSpec,
    rng: RngStream,
    limiter: Limiter,
    /// Since the warm-up, by population: (requests that reached it, throttled).
    by_population: Vec<(u64, u64)>,
}

impl Behaviour for RateLimiter {
    fn start(&mut self, _ctx: &mut Ctx) {}

    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Request(id) => {
                let Some(r) = ctx.reqs.get(id) else { return };
                let (class, key) = (r.class, r.key);
                let pop = population_of(key) as usize;
                if let Some(p) = self.by_population.get_mut(pop) {
                    p.0 += 1;
                }
                let limited = self
                    .spec
                    .limited
                    .get(class as usize)
                    .copied()
                    .unwrap_or(true);
                if limited {
                    let k = if self.spec.global {
                        limiter::GLOBAL
                    } else {
                        u64::from(key)
                    };
                    if !self.limiter.admit(k, ctx.now()).admitted {
                        if let Some(p) = self.by_population.get_mut(pop) {
                            p.1 += 1;
                        }
                        if let Some(r) = ctx.reqs.get_mut(id) {
                            r.outcome = Outcome::Throttled;
                        }
                        ctx.respond(id, &mut self.rng);
                        return;
                    }
                }
                let me = ctx.me;
                if let Some(r) = ctx.reqs.get_mut(id) {
                    r.push_hop(me, 0);
                }
                let to = self.spec.target;
                let d = ctx.hop_delay(to, &mut self.rng);
                ctx.send(to, Msg::Request(id), d);
            }
            Msg::Response(id) => {
                if let Some(r) = ctx.reqs.get_mut(id) {
                    r.pop_hop();
                }
                ctx.respond(id, &mut self.rng);
            }
            Msg::Timer(_) | Msg::Control(_) => {}
        }
    }

    fn reset_stats(&mut self, _now: Time) {
        for p in &mut self.by_population {
            *p = (0, 0);
        }
    }

    fn card(&mut self, _now: Time, _measured: Time) -> Option<Card> {
        let (users, users_throttled) = self.by_population.first().copied().unwrap_or((0, 0));
        let (bots, bots_throttled) = self
            .by_population
            .iter()
            .skip(1)
            .fold((0, 0), |(a, b), &(x, y)| (a + x, b + y));
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("requests", Figure::Count(users + bots)),
                (
                    "throttled_429",
                    Figure::Count(users_throttled + bots_throttled),
                ),
                ("users_requests", Figure::Count(users)),
                ("users_throttled", Figure::Count(users_throttled)),
                ("bots_requests", Figure::Count(bots)),
                ("bots_throttled", Figure::Count(bots_throttled)),
                (
                    "keys_held_at_end",
                    Figure::Count(self.limiter.keys_held() as u64),
                ),
            ],
        })
    }
}

impl Kind for RateLimiter {
    type Config = RateLimiterConfig;
    type Spec = RateLimiterSpec;
    const WORDS: &'static str = "rate limiter";
    const ABOUT: &'static str =
        "A rate limiter: admits requests by token bucket or window, per client or globally; 429 beyond.";
    const SCHEMA_NAME: &'static str = "RateLimiterComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: true,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<RateLimiterConfig, ParseError> {
        parse_table(table)
    }

    fn check(
        name: &str,
        l: &RateLimiterConfig,
        base: &[Seg],
        c: &mut Checker,
    ) -> Option<RateLimiterSpec> {
        let tp = at_key(base, "target");
        let target = c.callable(&tp, &l.target, name, "a rate limiter", "send to");
        let kind = match l
            .algorithm
            .as_deref()
            .unwrap_or("token_bucket")
            .parse::<limiter::Kind>()
        {
            Ok(k) => Some(k),
            Err(e) => {
                c.err(&at_key(base, "algorithm"), e, None);
                None
            }
        };
        let global = match l.per.as_deref().unwrap_or("client") {
            "client" | "user" | "ip" | "api_key" => false,
            "global" => true,
            other => {
                c.err(
                    &at_key(base, "per"),
                    format!("`per` is \"client\" or \"global\", found \"{other}\""),
                    Some("\"client\" (each user and each bot key apart) or \"global\" (everyone together)".into()),
                );
                false
            }
        };
        let rate = l.rate.map(|r| limiter::Rate::from_per_second(r.0));
        let params = Params {
            limit: l.limit,
            window: l.window.map(|d| d.0),
            rate,
            burst: l.burst,
        };
        let policy = kind.and_then(|k| match limiter::check(k, &params) {
            Ok(s) => Some(s),
            Err(e) => {
                // Place it at the key it is about, when it names one.
                let key = ["rate", "burst", "limit", "window"]
                    .into_iter()
                    .find(|k| e.contains(&format!("`{k}`")));
                let p = key.map_or(base.to_vec(), |k| at_key(base, k));
                c.err(&p, e, None);
                None
            }
        });
        let paths = l.paths.clone().unwrap_or_default();
        for (i, p) in paths.iter().enumerate() {
            c.url_path(
                &crate::scenario::validate::at_index(&at_key(base, "paths"), i),
                p,
            );
        }
        let limited = if paths.is_empty() {
            vec![true; c.classes.len()]
        } else {
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            c.match_classes(&refs).iter().map(Option::is_some).collect()
        };
        Some(RateLimiterSpec {
            target: target?,
            policy: policy?,
            global,
            limited,
            paths,
            populations: 1 + c.bots.len(),
        })
    }

    fn build(name: &str, spec: RateLimiterSpec, seed: u64) -> Self {
        RateLimiter {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("rate_limiter/{name}")),
            limiter: Limiter::new(spec.policy),
            by_population: vec![(0, 0); spec.populations],
            spec,
        }
    }

    fn describe(l: &RateLimiterSpec, cx: &DescribeCtx) -> Description {
        let policy = match l.policy {
            PolicySpec::TokenBucket { rate, burst } => format!(
                "token bucket {:.4}/s, burst {burst}",
                rate.tokens as f64 * SEC as f64 / rate.per as f64
            ),
            PolicySpec::FixedWindow { limit, window } => {
                format!("fixed window {limit} per {}", human(window))
            }
            PolicySpec::SlidingLog { limit, window } => {
                format!("sliding log {limit} per {}", human(window))
            }
            PolicySpec::SlidingCounter { limit, window } => {
                format!("sliding window {limit} per {}", human(window))
            }
        };
        let on = if l.paths.is_empty() {
            "every path".to_string()
        } else {
            l.paths.join(", ")
        };
        Description {
            detail: format!(
                "{policy} {} on {on}; 429 beyond; admitted → {}",
                if l.global {
                    "for everyone together"
                } else {
                    "per client"
                },
                (cx.name_of)(l.target)
            ),
            shape: Shape::Box,
            routes: vec![Route {
                to: l.target,
                role: RouteRole::Forward,
            }],
            looked_up: false,
        }
    }

    fn footprint(_l: &RateLimiterSpec, _mean_work: f64) -> Footprint {
        Footprint {
            events_per_request: 1.0,
            background_per_s: 0.0,
            capacity_per_s: f64::INFINITY,
            holds: 0.0,
            bytes: 1_000_000.0,
        }
    }
}
