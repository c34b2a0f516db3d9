//! A pub/sub topic with SNS semantics (docs/semantics.md §7): a publish is answered at once (the
//! publisher learns nothing of the deliveries), and the message is delivered to every
//! subscription whose filter policy matches it — a queue, or any component that answers requests
//! (a server, a balancer, an external endpoint). Each delivery is a call with a timeout; a failed
//! one is retried on the subscription's delivery policy (the SQS/Lambda, HTTP/S or SMS policy of
//! §7), on its own timer, so a failing subscriber never holds up the others. When the policy is
//! exhausted the message goes to the subscription's dead-letter queue, or is dropped.
//!
//! ```text
//!   publisher ──publish──▶ topic ──answer at once──▶ publisher
//!                            ├── delivery ──▶ whatsapp   (retried on its policy; DLQ or dropped)
//!                            ├── delivery ──▶ sms
//!                            └── delivery ──▶ recs queue (filter: path under /orders)
//! ```
//!
//! The message attribute filters look at is the request's path (its class): a subscription's
//! `filter` lists path prefixes, one of which the message's path must be under. Conservation per
//! subscription: matched = delivered + dead-lettered + dropped + pending.

use super::dist::{Dist, DistConfig};
use super::fanout::{Call, Done, Fanout, Mode, Plan};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    Kind, ParseError, Route, RouteRole, Section, Shape, Wiring,
};
use super::request::{Outcome, ReqId};
use super::{Code, CompId, Ctx, Msg, Timer, Zone};
use crate::engine::time::{human, Time, MS, SEC};
use crate::engine::RngStream;
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;
use crate::scenario::validate::{at_index, at_key, Checker};
use serde::{Deserialize, Serialize};

/// A delivery's retry is due (payload: the delivery).
const RETRY: Code = Code(0);

/// Default latency of a publish as the publisher sees it: 20 ms (a model figure, §7).
pub const DEFAULT_LATENCY: Time = 20 * MS;
/// Default timeout of one delivery attempt: 15 s (SNS's HTTP/S delivery timeout, §7).
pub const DEFAULT_TIMEOUT: Time = 15 * SEC;

/// A subscription's endpoint type, which picks its delivery retry policy (§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// An SQS queue or a Lambda function: 3 immediate retries, 2 at 1 s, 10 backing off from
    /// 1 s to 20 s, then 100,000 at 20 s (100,015 over 23 days).
    Sqs,
    /// An HTTP/S endpoint: 3 retries 20 s apart (customisable with `retries`, `retry_delay`).
    Http,
    /// SMS, email or mobile push: 2 at 10 s, 10 backing off from 10 s to 600 s, 38 at 600 s.
    Sms,
}

/// One `subscriptions = [ ... ]` entry of a topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionConfig {
    /// Where messages are delivered: a queue, or any component that answers requests.
    pub target: String,
    /// "sqs", "http" or "sms": which delivery retry policy applies (§7). Default "sqs" for a
    /// queue, "http" for anything else.
    pub protocol: Option<Protocol>,
    /// Filter policy on the message's path: deliver only messages whose path is under one of
    /// these prefixes, e.g. ["/orders"]. Default: every message.
    pub filter: Option<Vec<String>>,
    /// A queue the message goes to when the retry policy is exhausted. Default: dropped.
    pub dead_letter: Option<String>,
    /// Give up on one delivery attempt after this long. Default "15s" (§7).
    pub timeout: Option<Duration>,
    /// HTTP only: retries after the first attempt, 0 to 100. Default 3 (§7).
    pub retries: Option<u32>,
    /// HTTP only: time between retries. Default "20s" (§7).
    pub retry_delay: Option<Duration>,
}

/// `[components.NAME] kind = "topic"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicConfig {
    /// Its subscriptions; each message is delivered to every one whose filter matches.
    pub subscriptions: Vec<SubscriptionConfig>,
    /// Latency of a publish as the publisher sees it, e.g. { dist = "deterministic",
    /// value = "20ms" }. Default "20ms" (a model
    /// figure, §7).
    pub latency: Option<DistConfig>,
}

/// A delivery retry policy: phases of (retries, first delay, last delay); delays between a
/// phase's first and last grow geometrically.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// The phases, in order.
    pub phases: Vec<(u32, Time, Time)>,
}

impl RetryPolicy {
    /// The policy of `p` (§7), or HTTP's with `retries` every `delay`.
    pub fn of(p: Protocol, retries: u32, delay: Time) -> Self {
        let phases = match p {
            Protocol::Sqs => vec![
                (3, 0, 0),
                (2, SEC, SEC),
                (10, SEC, 20 * SEC),
                (100_000, 20 * SEC, 20 * SEC),
            ],
            Protocol::Sms => vec![
                (2, 10 * SEC, 10 * SEC),
                (10, 10 * SEC, 600 * SEC),
                (38, 600 * SEC, 600 * SEC),
            ],
            Protocol::Http => vec![(retries, delay, delay)],
        };
        Self { phases }
    }

    /// Total retries.
    pub fn retries(&self) -> u64 {
        self.phases.iter().map(|p| u64::from(p.0)).sum()
    }

    /// The delay before retry number `k` (1 = the first retry), or `None` once exhausted.
    pub fn delay(&self, k: u32) -> Option<Time> {
        let mut k = k.checked_sub(1)?;
        for &(n, a, b) in &self.phases {
            if k < n {
                if n <= 1 || a == b {
                    return Some(a);
                }
                let f = (b as f64 / a.max(1) as f64).powf(f64::from(k) / f64::from(n - 1));
                return Some((a as f64 * f) as Time);
            }
            k -= n;
        }
        None
    }
}

/// A checked subscription.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionSpec {
    /// The endpoint.
    pub target: CompId,
    /// Its name.
    pub name: String,
    /// Its protocol.
    pub protocol: Protocol,
    /// By class: its messages match the filter.
    pub matches: Vec<bool>,
    /// The filter as written, if any.
    pub filter: Option<Vec<String>>,
    /// Its retry policy.
    pub policy: RetryPolicy,
    /// Its dead-letter queue.
    pub dead_letter: Option<CompId>,
}

/// A topic after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicSpec {
    /// The subscriptions.
    pub subs: Vec<SubscriptionSpec>,
    /// Plans: one call to each subscription's endpoint (index i), then one to each
    /// dead-letter queue (index n + i).
    pub plans: Vec<Plan>,
    /// Publish latency.
    pub latency: DistConfig,
}

/// Counters of one subscription (since time zero, so they add up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubStats {
    /// Messages that matched its filter.
    pub matched: u64,
    /// Filtered out.
    pub filtered: u64,
    /// Delivered (an attempt answered ok).
    pub delivered: u64,
    /// Attempts that failed.
    pub failed_attempts: u64,
    /// Retries made.
    pub retries: u64,
    /// Sent to its dead-letter queue after the policy was exhausted.
    pub dead_lettered: u64,
    /// Dropped after the policy was exhausted (no dead-letter queue, or it failed).
    pub dropped: u64,
    /// Waiting for an attempt or a retry now.
    pub pending: u64,
    /// Sum of publish → delivery times, ns, and the slowest.
    pub delay_sum: f64,
    /// The slowest publish → delivery.
    pub delay_max: Time,
}

/// A topic component.
pub struct Topic {
    name: String,
    spec: TopicSpec,
    rng: RngStream,
    latency: Dist,
    fanout: Fanout,
    published: u64,
    subs: Vec<SubStats>,
}

impl Topic {
    /// Starts delivery attempt of `p` (its `key` is the subscription, `attempt` 1 delivering and
    /// 2 dead-lettering).
    fn attempt(&mut self, p: ReqId, plan: u32, ctx: &mut Ctx) {
        let pl = &self.spec.plans[plan as usize];
        if let Some(d) = self.fanout.begin(p, plan, pl, ctx, &mut self.rng) {
            self.done(d, ctx);
        }
    }

    fn on_publish(&mut self, id: ReqId, ctx: &mut Ctx) {
        let now = ctx.now();
        self.published += 1;
        let class = ctx.reqs.get(id).map_or(0, |r| r.class);
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.outcome = Outcome::Ok;
        }
        let lat = self.latency.sample(&mut self.rng);
        match ctx.reqs.get(id).and_then(|r| r.top()) {
            Some(to) => {
                let d = ctx.hop_delay(to, &mut self.rng) + lat;
                ctx.send(to, Msg::Response(id), d);
            }
            None => ctx.reqs.free(id),
        }
        for i in 0..self.spec.subs.len() {
            if !self.spec.subs[i]
                .matches
                .get(class as usize)
                .copied()
                .unwrap_or(true)
            {
                self.subs[i].filtered += 1;
                continue;
            }
            self.subs[i].matched += 1;
            self.subs[i].pending += 1;
            let p = ctx.reqs.alloc(class, u32::MAX, now, 1.0);
            if let Some(r) = ctx.reqs.get_mut(p) {
                r.internal = true;
                r.key = i as u32;
                r.attempt = 1;
                r.item = 0; // retries made
            }
            self.attempt(p, i as u32, ctx);
        }
    }

    fn done(&mut self, d: Done, ctx: &mut Ctx) {
        let now = ctx.now();
        let Some((i, phase, retries, first)) = ctx
            .reqs
            .get(d.parent)
            .map(|r| (r.key as usize, r.attempt, r.item, r.first_sent))
        else {
            return;
        };
        let n = self.spec.subs.len();
        let s = &mut self.subs[i];
        if phase == 2 {
            s.pending -= 1;
            if d.outcome == Outcome::Ok {
                s.dead_lettered += 1;
            } else {
                s.dropped += 1;
            }
            ctx.reqs.free(d.parent);
            return;
        }
        if d.outcome == Outcome::Ok {
            s.pending -= 1;
            s.delivered += 1;
            let t = now.saturating_sub(first);
            s.delay_sum += t as f64;
            s.delay_max = s.delay_max.max(t);
            ctx.reqs.free(d.parent);
            return;
        }
        s.failed_attempts += 1;
        match self.spec.subs[i].policy.delay(retries + 1) {
            Some(delay) => {
                s.retries += 1;
                if let Some(r) = ctx.reqs.get_mut(d.parent) {
                    r.item = retries + 1;
                }
                // Jittered (§7): ±10 % of a non-zero delay, from the topic's own stream.
                let j = if delay > 0 {
                    let u: f64 = rand::Rng::gen(&mut self.rng);
                    (delay as f64 * (0.9 + 0.2 * u)) as Time
                } else {
                    0
                };
                ctx.timer(j, Timer::Req(RETRY, d.parent));
            }
            None => match self.spec.subs[i].dead_letter {
                Some(_) => {
                    if let Some(r) = ctx.reqs.get_mut(d.parent) {
                        r.attempt = 2;
                    }
                    self.attempt(d.parent, (n + i) as u32, ctx);
                }
                None => {
                    s.pending -= 1;
                    s.dropped += 1;
                    ctx.reqs.free(d.parent);
                }
            },
        }
    }
}

impl Behaviour for Topic {
    fn start(&mut self, _ctx: &mut Ctx) {}

    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        if let Some(done) = self.fanout.take(msg, &self.spec.plans, ctx, &mut self.rng) {
            if let Some(d) = done {
                self.done(d, ctx);
            }
            return;
        }
        match msg {
            Msg::Request(id) => self.on_publish(id, ctx),
            Msg::Response(id) => {
                ctx.respond(id, &mut self.rng);
            }
            Msg::Timer(Timer::Req(RETRY, p)) => {
                if let Some(i) = ctx.reqs.get(p).map(|r| r.key) {
                    self.attempt(p, i, ctx);
                }
            }
            Msg::Timer(_) | Msg::Control(_) => {}
        }
    }

    fn card(&mut self, _now: Time, _measured: Time) -> Option<Card> {
        let mut fields = vec![("published", Figure::Count(self.published))];
        let sum = |f: fn(&SubStats) -> u64| self.subs.iter().map(f).sum::<u64>();
        fields.push(("deliveries_matched", Figure::Count(sum(|s| s.matched))));
        fields.push(("delivered", Figure::Count(sum(|s| s.delivered))));
        fields.push(("retries", Figure::Count(sum(|s| s.retries))));
        fields.push(("dead_lettered", Figure::Count(sum(|s| s.dead_lettered))));
        fields.push(("dropped", Figure::Count(sum(|s| s.dropped))));
        fields.push(("pending", Figure::Count(sum(|s| s.pending))));
        let subs = self
            .spec
            .subs
            .iter()
            .zip(&self.subs)
            .map(|(sub, s)| {
                (
                    0,
                    format!(
                        "{}: matched {}, filtered {}, delivered {}, failed attempts {}, \
                         retries {}, dead-lettered {}, dropped {}, pending {}, mean delay {}, max {}",
                        sub.name,
                        s.matched,
                        s.filtered,
                        s.delivered,
                        s.failed_attempts,
                        s.retries,
                        s.dead_lettered,
                        s.dropped,
                        s.pending,
                        if s.delivered > 0 {
                            format!("{:.1} ms", s.delay_sum / s.delivered as f64 / MS as f64)
                        } else {
                            "—".into()
                        },
                        human(s.delay_max),
                    ),
                )
            })
            .collect();
        fields.push(("subscriptions", Figure::Events(subs)));
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields,
        })
    }

    fn check_invariants(&self) {
        for (i, s) in self.subs.iter().enumerate() {
            assert_eq!(
                s.matched,
                s.delivered + s.dead_lettered + s.dropped + s.pending,
                "{}: subscription {i}: conservation of deliveries",
                self.name
            );
        }
    }
}

impl Kind for Topic {
    type Config = TopicConfig;
    type Spec = TopicSpec;
    const WORDS: &'static str = "topic";
    const ABOUT: &'static str =
        "A pub/sub topic (SNS): a publish is answered at once and delivered to every matching subscription, each retried on its own policy.";
    const SCHEMA_NAME: &'static str = "TopicComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: false,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<TopicConfig, ParseError> {
        parse_table(table)
    }

    fn check(name: &str, g: &TopicConfig, base: &[Seg], c: &mut Checker) -> Option<TopicSpec> {
        let sp = at_key(base, "subscriptions");
        if g.subscriptions.is_empty() || g.subscriptions.len() > 64 {
            c.err(
                &sp,
                format!(
                    "a topic has 1 to 64 subscriptions, found {}",
                    g.subscriptions.len()
                ),
                Some("e.g. subscriptions = [ { target = \"sms\" } ]".into()),
            );
        }
        let mut subs = Vec::new();
        let mut ok = true;
        for (i, s) in g.subscriptions.iter().enumerate().take(64) {
            let p = at_index(&sp, i);
            let target = c.callable(
                &at_key(&p, "target"),
                &s.target,
                name,
                "a topic",
                "deliver to",
            );
            let is_queue = target.is_some_and(|_| {
                c.find(&s.target)
                    .is_some_and(|r| r.kind == super::kinds::KindTag::Queue)
            });
            let protocol = s.protocol.unwrap_or(if is_queue {
                Protocol::Sqs
            } else {
                Protocol::Http
            });
            if protocol != Protocol::Http && (s.retries.is_some() || s.retry_delay.is_some()) {
                let k = if s.retries.is_some() {
                    "retries"
                } else {
                    "retry_delay"
                };
                c.err(
                    &at_key(&p, k),
                    "only an HTTP subscription's retry policy can be changed",
                    Some("set protocol = \"http\", or leave it out".into()),
                );
            }
            let retries = s.retries.unwrap_or(3);
            if retries > 100 {
                c.err(
                    &at_key(&p, "retries"),
                    format!("an HTTP subscription retries 0 to 100 times, found {retries}"),
                    None,
                );
            }
            let delay = s.retry_delay.map_or(20 * SEC, |d| d.0);
            if !(SEC..=3600 * SEC).contains(&delay) {
                c.err(
                    &at_key(&p, "retry_delay"),
                    format!("a retry delay is 1s to 1h, found {}", human(delay)),
                    None,
                );
            }
            let timeout = s.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0);
            if timeout == 0 {
                c.err(
                    &at_key(&p, "timeout"),
                    "a delivery timeout must be more than zero",
                    None,
                );
            }
            let mut matches = vec![true; c.classes.len()];
            if let Some(f) = &s.filter {
                let fp = at_key(&p, "filter");
                for (j, x) in f.iter().enumerate() {
                    c.url_path(&at_index(&fp, j), x);
                }
                let refs: Vec<&str> = f.iter().map(String::as_str).collect();
                for (k, m) in c.match_classes(&refs).into_iter().enumerate() {
                    matches[k] = m.is_some();
                }
                if !matches.iter().any(|&m| m) {
                    let known: Vec<String> = c.classes.iter().map(|k| k.path.clone()).collect();
                    c.err(
                        &fp,
                        "no request class has a path under these prefixes: the subscription would \
                         get nothing",
                        Some(format!("the workload's paths: {}", known.join(", "))),
                    );
                }
            }
            let dead_letter = match &s.dead_letter {
                None => None,
                Some(d) => {
                    let dp = at_key(&p, "dead_letter");
                    match c.resolve(&dp, d) {
                        Some(r) if r.kind == super::kinds::KindTag::Queue => Some(r.id),
                        Some(r) => {
                            c.err(
                                &dp,
                                format!(
                                    "a dead-letter queue is a queue; \"{d}\" is a {}",
                                    r.kind.words()
                                ),
                                None,
                            );
                            ok = false;
                            None
                        }
                        None => {
                            ok = false;
                            None
                        }
                    }
                }
            };
            match target {
                Some(t) => subs.push((
                    SubscriptionSpec {
                        target: t,
                        name: s.target.clone(),
                        protocol,
                        matches,
                        filter: s.filter.clone(),
                        policy: RetryPolicy::of(protocol, retries.min(100), delay),
                        dead_letter,
                    },
                    timeout,
                )),
                None => ok = false,
            }
        }
        let latency = g.latency.clone().unwrap_or(DistConfig::Deterministic {
            value: Duration(DEFAULT_LATENCY),
        });
        c.dist(&at_key(base, "latency"), &latency, true);
        if !ok || subs.is_empty() {
            return None;
        }
        let call = |to: CompId, timeout: Time| Plan {
            mode: Mode::Sequential,
            calls: vec![Call {
                to,
                timeout: Some(timeout),
                work: 1.0,
                fallback: None,
                breaker: None,
            }],
        };
        let mut plans: Vec<Plan> = subs.iter().map(|(s, t)| call(s.target, *t)).collect();
        plans.extend(
            subs.iter()
                .map(|(s, t)| call(s.dead_letter.unwrap_or(s.target), *t)),
        );
        Some(TopicSpec {
            subs: subs.into_iter().map(|(s, _)| s).collect(),
            plans,
            latency,
        })
    }

    fn build(name: &str, spec: TopicSpec, seed: u64) -> Self {
        Topic {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("topic/{name}")),
            latency: spec.latency.sampler(),
            fanout: Fanout::new(),
            published: 0,
            subs: vec![SubStats::default(); spec.subs.len()],
            spec,
        }
    }

    fn describe(g: &TopicSpec, cx: &DescribeCtx) -> Description {
        let subs: Vec<String> = g
            .subs
            .iter()
            .map(|s| {
                let p = match s.protocol {
                    Protocol::Sqs => "sqs",
                    Protocol::Http => "http",
                    Protocol::Sms => "sms",
                };
                let f = s
                    .filter
                    .as_ref()
                    .map_or(String::new(), |f| format!(" if {}", f.join("|")));
                let d = s
                    .dead_letter
                    .map_or(String::new(), |d| format!(", DLQ {}", (cx.name_of)(d)));
                format!(
                    "{} ({p}, {} retries{d}){f}",
                    (cx.name_of)(s.target),
                    s.policy.retries()
                )
            })
            .collect();
        let mut routes: Vec<Route> = g
            .subs
            .iter()
            .map(|s| Route {
                to: s.target,
                role: RouteRole::Forward,
            })
            .collect();
        routes.extend(g.subs.iter().filter_map(|s| {
            s.dead_letter.map(|d| Route {
                to: d,
                role: RouteRole::Forward,
            })
        }));
        Description {
            detail: format!(
                "SNS topic, publish {}; delivers to {}",
                g.latency.describe(),
                subs.join(", ")
            ),
            shape: Shape::Box,
            routes,
            looked_up: false,
        }
    }

    fn footprint(g: &TopicSpec, _mean_work: f64) -> Footprint {
        Footprint {
            // A publish makes 2 events and each subscription's delivery 3 (the call, its deadline,
            // its answer) plus its retries' share. The estimate charges every request of the
            // workload the costliest route, the topic's included, while a chapter publishes for
            // a fraction of its requests (its orders), and it walks on into the subscribers and
            // their dead-letter queues: half of the direct figure keeps the sum within the
            // estimate's factor of what a run makes.
            events_per_request: 1.0 + 1.5 * g.subs.len() as f64,
            background_per_s: 0.0,
            capacity_per_s: f64::INFINITY,
            holds: f64::INFINITY,
            bytes: 4096.0,
        }
    }
}

/// The "Topics" section of summary.md. Empty when the run has no topic.
pub fn summary_section(cards: &[(&'static str, Card)]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for (kind, card) in cards {
        if *kind != "topic" {
            continue;
        }
        if s.is_empty() {
            let _ = writeln!(s, "\n## Topics\n");
        }
        let count = |k: &str| card.count(k).unwrap_or(0);
        let _ = writeln!(
            s,
            "**{}**: {} messages published, each answered at once (no feedback to the publisher); \
             {} deliveries matched, {} delivered, {} retries, {} dead-lettered, {} dropped, {} \
             still pending.\n",
            card.name,
            count("published"),
            count("deliveries_matched"),
            count("delivered"),
            count("retries"),
            count("dead_lettered"),
            count("dropped"),
            count("pending"),
        );
        for (n, f) in &card.fields {
            if let (&"subscriptions", Figure::Events(ev)) = (n, f) {
                for (_, line) in ev {
                    let _ = writeln!(s, "- {line}");
                }
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqs_policy_has_its_phases_and_ends() {
        let p = RetryPolicy::of(Protocol::Sqs, 0, 0);
        assert_eq!(p.retries(), 100_015);
        assert_eq!(p.delay(1), Some(0));
        assert_eq!(p.delay(3), Some(0));
        assert_eq!(p.delay(4), Some(SEC));
        assert_eq!(p.delay(5), Some(SEC));
        assert_eq!(p.delay(6), Some(SEC), "backoff starts at 1 s");
        assert_eq!(p.delay(15), Some(20 * SEC), "and ends at 20 s");
        assert!(p.delay(10).unwrap() > SEC && p.delay(10).unwrap() < 20 * SEC);
        assert_eq!(p.delay(100_015), Some(20 * SEC));
        assert_eq!(p.delay(100_016), None);
        let h = RetryPolicy::of(Protocol::Http, 3, 20 * SEC);
        assert_eq!(
            (h.delay(1), h.delay(3), h.delay(4)),
            (Some(20 * SEC), Some(20 * SEC), None)
        );
        let s = RetryPolicy::of(Protocol::Sms, 0, 0);
        assert_eq!(s.retries(), 50);
        assert_eq!(s.delay(1), Some(10 * SEC));
        assert_eq!(s.delay(50), Some(600 * SEC));
    }
}
