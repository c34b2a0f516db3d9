//! A content delivery network: edge locations in several regions, each an LRU cache (with a time
//! to live) of the site's static objects; anycast sends each user to the edge with the lowest
//! round trip from their region; a miss goes to the origin, optionally through an origin shield
//! (one more cache, in one region); an edge outage sends its users to the next nearest edge.
//!
//! ```text
//!   user in mumbai ──(last mile + RTT to the nearest edge)──▶ edge mumbai ── hit: edge_latency
//!                                                               │ miss (and the page's API call)
//!                                                               ▼
//!                                              [shield ohio] ──▶ origin (ohio) ── answers
//! ```
//!
//! A request is a *page*: its API call (never cached: it goes to the origin) plus `images`
//! static objects, all fetched at once (a browser's parallel requests), each drawn from a Zipf
//! popularity over the `catalog`. The page is answered when the slowest of them is done. The API
//! call and every miss are calls ([`super::fanout`]) to the origin from the edge's region; hits
//! are answered at the edge. With no edges (or every edge out) the users reach the origin
//! directly and every image is fetched from it: the chapter's "before".
//!
//! Semantics and defaults: docs/semantics.md §11 (CloudFront): a hit costs the viewer↔edge round
//! trip plus a few milliseconds (`edge_latency`, 5 ms); a miss adds edge→origin and the origin's
//! time; TTL 24 h (DefaultTTL 86,400 s); origin response timeout 30 s. Round trips: §12.

pub mod lru;

use super::fanout::{Call, Done, Fanout, Mode, Plan};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    GaugeDecl, GaugeUnit, Kind, Narrative, ParseError, Route, RouteRole, Section, Shape, Wiring,
};
use super::region::{self, N, REGIONS};
use super::request::{Outcome, ReqId, ReqState};
use super::{Control, Ctx, Msg, Timer, Zone, CALL_TIMEOUT};
use crate::engine::time::{human, Time, HOUR, MS, SEC};
use crate::engine::RngStream;
use crate::metrics::new_histogram;
use crate::scenario::error::Seg;
use crate::scenario::units::{Bytes, Duration};
use crate::scenario::validate::{at_index, at_key, Checker};
use hdrhistogram::Histogram;
use lru::Lru;
use serde::{Deserialize, Serialize};

/// Default time to live of a cached object: 24 h (CloudFront's DefaultTTL, docs/semantics.md §11).
pub const DEFAULT_TTL: Time = 24 * HOUR;
/// Default time the edge takes to answer from its cache: 5 ms ("a few ms", §11).
pub const DEFAULT_EDGE_LATENCY: Time = 5 * MS;
/// Default origin response timeout: 30 s (§11).
pub const DEFAULT_ORIGIN_TIMEOUT: Time = 30 * SEC;
/// Default objects each edge holds (a model figure).
pub const DEFAULT_CAPACITY: u32 = 1_000;
/// Default distinct static objects (a model figure).
pub const DEFAULT_CATALOG: u32 = 10_000;
/// Default Zipf exponent of object popularity (a model figure; web objects measure 0.6–0.9).
pub const DEFAULT_SKEW: f64 = 0.8;
/// Default CPU work of an image at the origin relative to the page's API call (a model figure:
/// a static file is cheaper to serve than an API answer).
pub const DEFAULT_IMAGE_WORK: f64 = 0.2;
/// Most images per page.
pub const MAX_IMAGES: u32 = 64;
/// Largest catalog (the popularity table is 8 bytes an object).
pub const MAX_CATALOG: u32 = 10_000_000;

/// `[components.NAME] kind = "cdn"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CdnConfig {
    /// The origin: the component that answers the API and the misses (a server, a balancer, a
    /// gateway).
    pub origin: String,
    /// Regions with an edge location, e.g. ["mumbai", "frankfurt"]. Default: none (users reach
    /// the origin directly, which serves every image).
    #[serde(default)]
    pub edges: Vec<String>,
    /// A region whose cache sits between the edges and the origin (an origin shield): an edge's
    /// miss looks there first. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shield: Option<String>,
    /// Images on a page, fetched in parallel with its API call. Default 0 (a request is only
    /// its API call, passed to the origin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<u32>,
    /// Distinct static objects the images are drawn from. Default 10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<u32>,
    /// Zipf exponent of the objects' popularity (0: all equally popular). Default 0.8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew: Option<f64>,
    /// Objects each edge (and the shield) holds; the least recently used is evicted. Default 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// How long a cached object stays fresh. Default 24h (CloudFront's DefaultTTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Duration>,
    /// The edge's own time to answer from its cache. Default 5ms ("a few ms").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_latency: Option<Duration>,
    /// Size of one image, e.g. "200KB": it takes size × 8 / `network.regions.bandwidth_mbps`
    /// over the users' last mile. Default 0 (not modelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<Bytes>,
    /// CPU work of serving one image at the origin, relative to the page's API call. Default 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_work: Option<f64>,
    /// Give up on the origin after this long (504). Default 30s (CloudFront's response timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_timeout: Option<Duration>,
}

/// A CDN after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct CdnSpec {
    /// The origin's component index.
    pub origin: u32,
    /// Edge regions, in the order written.
    pub edges: Vec<u8>,
    /// The shield's region, if any.
    pub shield: Option<u8>,
    /// Images per page.
    pub images: u32,
    /// Distinct objects.
    pub catalog: u32,
    /// Zipf exponent.
    pub skew: f64,
    /// Objects per cache.
    pub capacity: u32,
    /// Time to live.
    pub ttl: Time,
    /// The edge's time per answer.
    pub edge_latency: Time,
    /// Bytes per image.
    pub image_size: u64,
    /// Work of an image at the origin.
    pub image_work: f64,
    /// Origin timeout.
    pub origin_timeout: Time,
    /// One plan per number of misses m (0..=images): the API call and m image fetches, parallel.
    pub plans: Vec<Plan>,
}

/// Zipf popularity over `n` objects: object k (0-based) has weight 1 / (k + 1)^s.
#[derive(Clone, Debug)]
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    /// The table for `n` objects and exponent `s`.
    pub fn new(n: u32, s: f64) -> Self {
        let mut cdf = Vec::with_capacity(n as usize);
        let mut acc = 0.0;
        for k in 0..n {
            acc += (f64::from(k) + 1.0).powf(-s);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Self { cdf }
    }

    /// The object for `u` in [0, 1).
    #[inline]
    pub fn sample(&self, u: f64) -> u32 {
        (self.cdf.partition_point(|&c| c <= u) as u32).min(self.cdf.len() as u32 - 1)
    }

    /// P(object k).
    pub fn p(&self, k: u32) -> f64 {
        let k = k as usize;
        self.cdf[k] - if k == 0 { 0.0 } else { self.cdf[k - 1] }
    }
}

/// Counters of one edge (since the warm-up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EdgeStats {
    /// Pages it served.
    pub pages: u64,
    /// Images answered from its cache.
    pub hits: u64,
    /// Images it did not hold (fetched from the shield or the origin).
    pub misses: u64,
}

/// Counters of the CDN (since the warm-up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CdnStats {
    /// Pages received.
    pub pages: u64,
    /// Pages served with no edge (the origin directly).
    pub direct_pages: u64,
    /// Images asked for.
    pub images: u64,
    /// Images answered from an edge's cache.
    pub edge_hits: u64,
    /// Edge misses answered by the shield.
    pub shield_hits: u64,
    /// Images fetched from the origin (edge and shield misses, and every direct image).
    pub origin_images: u64,
    /// API calls sent to the origin.
    pub origin_api: u64,
    /// Pages answered with a failure (502/504).
    pub failed: u64,
}

/// Latency histograms of one users' region.
struct RegionRec {
    pages: u64,
    image: Histogram<u64>,
    page: Histogram<u64>,
    /// Images this window (the gauge's median).
    window: Histogram<u64>,
}

impl RegionRec {
    fn new() -> Self {
        Self {
            pages: 0,
            image: new_histogram(),
            page: new_histogram(),
            window: new_histogram(),
        }
    }
}

/// A CDN component.
pub struct Cdn {
    name: String,
    spec: CdnSpec,
    rng: RngStream,
    zipf: Zipf,
    fanout: Fanout,
    /// One cache per edge, in `spec.edges` order.
    caches: Vec<Lru>,
    shield: Option<Box<Lru>>,
    /// Edge up?
    up: Vec<bool>,
    /// Which edge serves each users' region (`None`: the origin directly).
    serving: Box<[Option<u8>; N]>,
    edge_stats: Vec<EdgeStats>,
    stats: CdnStats,
    by_region: Vec<RegionRec>,
    /// Per page in flight, by its request slot: the viewer's one-way leg, when its edge-side
    /// parts are done, the edge serving it (`u8::MAX`: none), and the keys of its misses.
    leg: Vec<Time>,
    ready: Vec<Time>,
    edge_of: Vec<u8>,
    keys: Vec<u32>,
    /// Shield detour of a miss, per edge: RTT(edge, shield) + RTT(shield, origin) −
    /// RTT(edge, origin), at least 0 (set at start, when the regions are known).
    detour: Vec<Time>,
    /// RTT(edge, shield) per edge.
    to_shield: Vec<Time>,
    /// Last-mile transfer time of one image.
    image_transfer: Time,
    /// Users' regions in the gauges (the highest region index with users, plus one).
    gauge_regions: usize,
    /// Window counters for the gauges: (hits, lookups at edges, origin calls) and when it began.
    win: (u64, u64, u64, Time),
    /// RTT between regions and the origin's region, from the network (at start). Boxed: the
    /// world's component enum is as large as its largest kind, and the hot path walks it.
    rtt: Box<[[Time; N]; N]>,
    origin_region: u8,
    last_mile_rtt: Time,
    events: Vec<super::kit::TimelineEvent>,
}

impl Cdn {
    fn ensure(&mut self, slot: usize) {
        if self.leg.len() <= slot {
            let n = (slot + 1).next_power_of_two();
            self.leg.resize(n, 0);
            self.ready.resize(n, 0);
            self.edge_of.resize(n, u8::MAX);
            self.keys.resize(n * self.spec.images.max(1) as usize, 0);
        }
    }

    /// Recomputes where anycast sends each region's users and publishes it.
    fn route_users(&mut self, ctx: &mut Ctx) {
        let mut table = [self.origin_region; N];
        for (r, t) in table.iter_mut().enumerate() {
            let e = region::nearest(&self.rtt, r as u8, &self.spec.edges, |i| self.up[i]);
            self.serving[r] = e.map(|i| i as u8);
            if let Some(i) = e {
                *t = self.spec.edges[i];
            }
        }
        let me = ctx.me;
        ctx.registry.set_anycast(me, table);
    }

    fn record_image(&mut self, region: u8, latency: Time) {
        if let Some(r) = self.by_region.get_mut(region as usize) {
            let v = latency.max(1);
            let _ = r.image.record(v);
            let _ = r.window.record(v);
        }
    }

    fn on_request(&mut self, id: ReqId, ctx: &mut Ctx) {
        let now = ctx.now();
        let Some(r) = ctx.reqs.get_mut(id) else {
            return;
        };
        // The edge terminates the viewer's TLS and keeps warm connections to the origin, so
        // the calls it makes cost the origin no handshake (§11).
        r.tls_terminated = true;
        let (region, sent) = (r.region, r.sent);
        let leg = now.saturating_sub(sent);
        let slot = id.slot();
        self.ensure(slot);
        self.stats.pages += 1;
        let edge = self.serving[region as usize % N];
        self.leg[slot] = leg;
        self.edge_of[slot] = edge.unwrap_or(u8::MAX);
        let base = slot * self.spec.images.max(1) as usize;
        let mut misses = 0usize;
        let mut ready = now;
        match edge {
            None => {
                self.stats.direct_pages += 1;
                for _ in 0..self.spec.images {
                    let key = self.zipf.sample(self.rng.open01());
                    self.keys[base + misses] = key;
                    misses += 1;
                }
            }
            Some(e) => {
                let e = e as usize;
                self.edge_stats[e].pages += 1;
                ready = now + self.spec.edge_latency;
                for _ in 0..self.spec.images {
                    let key = self.zipf.sample(self.rng.open01());
                    self.win.1 += 1;
                    if self.caches[e].get(key, now) {
                        self.edge_stats[e].hits += 1;
                        self.stats.edge_hits += 1;
                        self.win.0 += 1;
                        let lat = 2 * leg + self.spec.edge_latency + self.image_transfer;
                        self.record_image(region, lat);
                        continue;
                    }
                    self.edge_stats[e].misses += 1;
                    let shield_hit = self.shield.as_mut().is_some_and(|s| s.get(key, now));
                    if shield_hit {
                        self.stats.shield_hits += 1;
                        let t = self.to_shield[e] + 2 * self.spec.edge_latency;
                        ready = ready.max(now + t);
                        self.caches[e].insert(key, now + t + self.spec.ttl);
                        self.record_image(region, 2 * leg + t + self.image_transfer);
                        continue;
                    }
                    self.keys[base + misses] = key;
                    misses += 1;
                }
            }
        }
        self.stats.images += u64::from(self.spec.images);
        self.ready[slot] = ready;
        self.stats.origin_api += 1;
        self.stats.origin_images += misses as u64;
        self.win.2 += 1 + misses as u64;
        let plan = &self.spec.plans[misses];
        if let Some(d) = self
            .fanout
            .begin(id, misses as u32, plan, ctx, &mut self.rng)
        {
            self.done(d, ctx);
        }
    }

    /// The answer to one of its calls to the origin came back.
    fn on_call_answer(&mut self, id: ReqId, ctx: &mut Ctx) {
        let now = ctx.now();
        if let Some(r) = ctx.reqs.get(id) {
            let call = r.top_data().map_or(0, |w| (w & 0xff) as usize);
            if r.state != ReqState::Abandoned && call >= 1 {
                if let Some(parent) = r.parent {
                    let (sent, ok, region) = (r.sent, r.outcome == Outcome::Ok, r.region);
                    self.image_fetched(parent, call - 1, sent, ok, region, now);
                }
            }
        }
        if let Some(d) = self
            .fanout
            .on_response(id, &self.spec.plans, ctx, &mut self.rng)
        {
            self.done(d, ctx);
        }
    }

    /// Image fetch `j` of page `parent` (sent at `sent`) is back: fill the caches on the way and
    /// record its latency.
    fn image_fetched(
        &mut self,
        parent: ReqId,
        j: usize,
        sent: Time,
        ok: bool,
        region: u8,
        now: Time,
    ) {
        let slot = parent.slot();
        if slot >= self.leg.len() {
            return;
        }
        let leg = self.leg[slot];
        let edge = self.edge_of[slot];
        let key = self.keys[slot * self.spec.images.max(1) as usize + j];
        let mut at_edge = now;
        if edge != u8::MAX {
            let e = edge as usize;
            at_edge = now + self.detour[e] + self.spec.edge_latency;
            if ok {
                if let Some(s) = &mut self.shield {
                    s.insert(key, now + self.spec.ttl);
                }
                self.caches[e].insert(key, at_edge + self.spec.ttl);
            }
        }
        self.ready[slot] = self.ready[slot].max(at_edge);
        if ok {
            self.record_image(region, leg + (at_edge - sent) + leg + self.image_transfer);
        }
    }

    /// A page's calls are done: answer the viewer once its edge-side parts are too.
    fn done(&mut self, d: Done, ctx: &mut Ctx) {
        let now = ctx.now();
        let outcome = match d.outcome {
            Outcome::Timeout => Outcome::Timeout,
            Outcome::Refused | Outcome::Crashed | Outcome::Error => Outcome::Error,
            o => o,
        };
        if outcome != Outcome::Ok {
            self.stats.failed += 1;
        }
        let id = d.parent;
        let slot = id.slot();
        let wait = self.ready.get(slot).map_or(0, |&r| r.saturating_sub(now));
        let Some(r) = ctx.reqs.get_mut(id) else {
            return;
        };
        r.outcome = outcome;
        let (region, sent) = (r.region, r.sent);
        let Some(to) = r.top() else {
            ctx.reqs.free(id);
            return;
        };
        let images = u64::from(self.spec.images) * self.image_transfer;
        let delay = wait + images + ctx.hop_delay_for(to, id, true, &mut self.rng);
        if let Some(rec) = self.by_region.get_mut(region as usize) {
            rec.pages += 1;
            let _ = rec.page.record((now + delay - sent).max(1));
        }
        ctx.send(to, Msg::Response(id), delay);
    }

    fn edge_name(&self, i: usize) -> &'static str {
        REGIONS[self.spec.edges[i] as usize]
    }
}

/// The gauges: hit ratio, origin rate, and one median image latency per users' region.
const GAUGES: [GaugeDecl; 2 + N] = {
    const fn region(name: &'static str) -> GaugeDecl {
        GaugeDecl {
            name,
            title: "median image latency by users' region",
            unit: GaugeUnit::Millis,
        }
    }
    [
        GaugeDecl {
            name: "hit_ratio",
            title: "edge hit ratio",
            unit: GaugeUnit::Ratio,
        },
        GaugeDecl {
            name: "origin_rps",
            title: "requests to the origin per second",
            unit: GaugeUnit::Count,
        },
        region(REGIONS[0]),
        region(REGIONS[1]),
        region(REGIONS[2]),
        region(REGIONS[3]),
        region(REGIONS[4]),
        region(REGIONS[5]),
        region(REGIONS[6]),
        region(REGIONS[7]),
    ]
};

fn quantile_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1e6)
}

impl Behaviour for Cdn {
    fn start(&mut self, ctx: &mut Ctx) {
        if let Some(rg) = &ctx.net.regions {
            *self.rtt = rg.spec.rtt;
            self.origin_region = ctx.region_of(rg, self.spec.origin, rg.spec.home);
            self.last_mile_rtt = (2.0 * ctx.net.last_mile()).round() as Time;
            self.image_transfer = region::transfer_ns(self.spec.image_size, rg.spec.bits_per_s);
            self.gauge_regions = rg
                .spec
                .users_cdf
                .iter()
                .map(|&(r, _)| r as usize + 1)
                .max()
                .unwrap_or(0);
        }
        let o = self.origin_region as usize;
        for (i, &e) in self.spec.edges.iter().enumerate() {
            let e = e as usize;
            if let Some(s) = self.spec.shield {
                let s = s as usize;
                self.to_shield[i] = self.rtt[e][s];
                let via = self.rtt[e][s] + self.rtt[s][o];
                self.detour[i] = via.saturating_sub(self.rtt[e][o]);
            }
        }
        self.win.3 = ctx.now();
        self.route_users(ctx);
    }

    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Request(id) => self.on_request(id, ctx),
            Msg::Response(id) if Fanout::is_call(ctx, id) => self.on_call_answer(id, ctx),
            Msg::Response(id) => {
                ctx.respond(id, &mut self.rng);
            }
            Msg::Timer(Timer::Req(CALL_TIMEOUT, id)) => {
                if let Some(d) = self
                    .fanout
                    .on_timeout(id, &self.spec.plans, ctx, &mut self.rng)
                {
                    self.done(d, ctx);
                }
            }
            Msg::Control(c @ (Control::RegionDown(r) | Control::RegionUp(r))) => {
                let down = matches!(c, Control::RegionDown(_));
                let now = ctx.now();
                if !self.spec.edges.contains(&r) {
                    let text = format!(
                        "no edge in {}: the fault changes nothing",
                        REGIONS[r as usize % N]
                    );
                    self.events.push(super::kit::TimelineEvent::new(
                        now,
                        super::kit::EventKind::Health,
                        &self.name,
                        text,
                    ));
                }
                for i in 0..self.spec.edges.len() {
                    if self.spec.edges[i] == r && self.up[i] == down {
                        self.up[i] = !down;
                        let what = if down {
                            "out: its users go to the next nearest edge"
                        } else {
                            "back in service"
                        };
                        let text = format!("edge {} {what}", self.edge_name(i));
                        self.events.push(super::kit::TimelineEvent::new(
                            now,
                            super::kit::EventKind::Health,
                            &self.name,
                            text,
                        ));
                    }
                }
                self.route_users(ctx);
            }
            Msg::Control(_) | Msg::Timer(_) => {}
        }
    }

    fn reset_stats(&mut self, now: Time) {
        self.stats = CdnStats::default();
        for e in &mut self.edge_stats {
            *e = EdgeStats::default();
        }
        for r in &mut self.by_region {
            r.pages = 0;
            r.image.reset();
            r.page.reset();
        }
        let _ = now;
    }

    fn timeline(&self) -> &[super::kit::TimelineEvent] {
        &self.events
    }

    fn extra_gauges(&self) -> &'static [GaugeDecl] {
        &GAUGES[..2 + self.gauge_regions]
    }

    fn sample_extra(&mut self, now: Time, out: &mut Vec<f64>) {
        let (hits, lookups, calls, since) = self.win;
        out.push(if lookups > 0 {
            hits as f64 / lookups as f64
        } else {
            f64::NAN
        });
        let secs = now.saturating_sub(since) as f64 / 1e9;
        out.push(if secs > 0.0 {
            calls as f64 / secs
        } else {
            f64::NAN
        });
        for r in self.by_region.iter_mut().take(self.gauge_regions) {
            out.push(quantile_ms(&r.window, 0.5).unwrap_or(f64::NAN));
            r.window.reset();
        }
        self.win = (0, 0, 0, now);
    }

    fn card(&mut self, _now: Time, measured: Time) -> Option<Card> {
        let s = &self.stats;
        let secs = measured as f64 / 1e9;
        let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let edge_images = s.images - u64::from(self.spec.images) * s.direct_pages;
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        let regions: Vec<(String, Vec<(&'static str, Figure)>)> = self
            .by_region
            .iter()
            .enumerate()
            .filter(|(_, r)| r.pages > 0 || !r.image.is_empty())
            .map(|(i, r)| {
                let from = match self.serving[i] {
                    Some(e) => format!("edge {}", self.edge_name(e as usize)),
                    None => format!("origin {}", REGIONS[self.origin_region as usize]),
                };
                (
                    REGIONS[i].to_string(),
                    vec![
                        ("pages", Figure::Count(r.pages)),
                        ("page_p50_ms", Figure::Maybe(quantile_ms(&r.page, 0.5))),
                        ("page_p99_ms", Figure::Maybe(quantile_ms(&r.page, 0.99))),
                        ("images", Figure::Count(r.image.len())),
                        ("image_p50_ms", Figure::Maybe(quantile_ms(&r.image, 0.5))),
                        ("image_p99_ms", Figure::Maybe(quantile_ms(&r.image, 0.99))),
                        ("served_from_at_end", Figure::Text(from)),
                    ],
                )
            })
            .collect();
        let edges: Vec<(String, Vec<(&'static str, Figure)>)> = self
            .edge_stats
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    self.edge_name(i).to_string(),
                    vec![
                        ("pages", Figure::Count(e.pages)),
                        ("hits", Figure::Count(e.hits)),
                        ("misses", Figure::Count(e.misses)),
                        ("hit_ratio", Figure::Maybe(ratio(e.hits, e.hits + e.misses))),
                        ("up_at_end", Figure::Flag(self.up[i])),
                    ],
                )
            })
            .collect();
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("pages", Figure::Count(s.pages)),
                ("direct_pages", Figure::Count(s.direct_pages)),
                ("images", Figure::Count(s.images)),
                ("edge_hits", Figure::Count(s.edge_hits)),
                ("shield_hits", Figure::Count(s.shield_hits)),
                ("hit_ratio", Figure::Maybe(ratio(s.edge_hits, edge_images))),
                ("origin_images", Figure::Count(s.origin_images)),
                ("origin_api_calls", Figure::Count(s.origin_api)),
                ("image_rate_per_s", Figure::Value(per_s(s.images))),
                (
                    "origin_image_rate_per_s",
                    Figure::Value(per_s(s.origin_images)),
                ),
                (
                    "origin_rate_per_s",
                    Figure::Value(per_s(s.origin_images + s.origin_api)),
                ),
                ("failed_pages", Figure::Count(s.failed)),
                ("by_region", Figure::Table(regions)),
                ("by_edge", Figure::Table(edges)),
            ],
        })
    }

    fn narrative(&mut self, _now: Time, measured: Time) -> Option<Narrative> {
        let s = &self.stats;
        if s.pages == 0 {
            return None;
        }
        let secs = measured as f64 / 1e9;
        let o = self.origin_region as usize;
        let mut paragraphs = Vec::new();
        let edge_images = s.images - u64::from(self.spec.images) * s.direct_pages;
        let ms = |t: Time| t as f64 / 1e6;
        for (i, r) in self.by_region.iter().enumerate() {
            let Some(p50) = quantile_ms(&r.image, 0.5) else {
                continue;
            };
            let p99 = quantile_ms(&r.image, 0.99).unwrap_or(p50);
            let to_origin = self.rtt[i][o];
            let text = match self.serving[i] {
                Some(e) => {
                    let er = self.spec.edges[e as usize] as usize;
                    let to_edge = self.rtt[i][er];
                    let saved = to_origin.saturating_sub(to_edge);
                    format!(
                        "**{} users**: images in {p50:.0} ms (median; p99 {p99:.0} ms) from the {} edge, {:.0} ms away (plus the {:.0} ms last mile). The origin in {} is {:.0} ms away: served from there, a hit would take about {:.0} ms more — the round-trip difference.",
                        REGIONS[i],
                        REGIONS[er],
                        ms(to_edge),
                        ms(self.last_mile_rtt),
                        REGIONS[o],
                        ms(to_origin),
                        ms(saved),
                    )
                }
                None => {
                    let best = region::nearest(&self.rtt, i as u8, &self.spec.edges, |_| true)
                        .map(|e| self.spec.edges[e] as usize);
                    let would = match best {
                        Some(er) => format!(
                            "; the nearest edge ({}) is {:.0} ms away, so it would save about {:.0} ms an image",
                            REGIONS[er],
                            ms(self.rtt[i][er]),
                            ms(to_origin.saturating_sub(self.rtt[i][er]))
                        ),
                        None => format!(
                            "; an edge in {} would save about {:.0} ms an image (the round trip to the origin)",
                            REGIONS[i],
                            ms(to_origin)
                        ),
                    };
                    format!(
                        "**{} users**: images in {p50:.0} ms (median; p99 {p99:.0} ms) from the origin in {}, {:.0} ms away (plus the {:.0} ms last mile){would}.",
                        REGIONS[i],
                        REGIONS[o],
                        ms(to_origin),
                        ms(self.last_mile_rtt),
                    )
                }
            };
            paragraphs.push(text);
        }
        let rate = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        if edge_images > 0 {
            let h = s.edge_hits as f64 / edge_images as f64;
            let shield = if s.shield_hits > 0 {
                format!(
                    " (the shield answered {:.1} a second of the edges' misses)",
                    rate(s.shield_hits)
                )
            } else {
                String::new()
            };
            paragraphs.push(format!(
                "**Origin load**: the edges answered {:.1} % of the images (their hit ratio). Without them the origin would serve all {:.1} images a second; it served {:.1}{shield} — (1 − {:.3}) × {:.1} = {:.1}: its image load fell by the hit ratio. Every page's API call still goes to the origin: {:.1} a second.",
                h * 100.0,
                rate(s.images),
                rate(s.origin_images),
                h,
                rate(s.images),
                rate(s.images) * (1.0 - h),
                rate(s.origin_api)
            ));
        } else {
            paragraphs.push(format!(
                "**Origin load**: with no edge, the origin served every image, {:.1} a second, plus {:.1} API calls a second.",
                rate(s.origin_images),
                rate(s.origin_api)
            ));
        }
        Some(Narrative {
            title: format!("Latency by region ({})", self.name),
            paragraphs,
        })
    }

    fn check_invariants(&self) {
        for c in &self.caches {
            assert!(
                c.len() <= self.spec.capacity as usize,
                "{}: over capacity",
                self.name
            );
        }
        let s = &self.stats;
        assert!(
            s.edge_hits + s.shield_hits <= s.images,
            "{}: more hits than images",
            self.name
        );
    }
}

fn check_region(c: &mut Checker, path: &[Seg], name: &str) -> Option<u8> {
    let r = region::index_of(name);
    if r.is_none() {
        let help = match crate::scenario::error::nearest(name, REGIONS.iter().copied()) {
            Some(n) => format!("did you mean \"{n}\"? (regions: {})", REGIONS.join(", ")),
            None => format!("regions: {}", REGIONS.join(", ")),
        };
        c.err(path, format!("there is no region \"{name}\""), Some(help));
    }
    r
}

impl Kind for Cdn {
    type Config = CdnConfig;
    type Spec = CdnSpec;
    const WORDS: &'static str = "CDN";
    const ABOUT: &'static str =
        "A content delivery network: edge caches in regions, anycast to the nearest, misses to the origin.";
    const SCHEMA_NAME: &'static str = "CdnComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: Some(0),
        dns_answer: true,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: false,
    };

    fn parse(table: toml::Table) -> Result<CdnConfig, ParseError> {
        parse_table(table)
    }

    fn check(name: &str, g: &CdnConfig, base: &[Seg], c: &mut Checker) -> Option<CdnSpec> {
        if !c.regions_on {
            c.err(
                base,
                "a CDN places edges in regions, which needs [network.regions]",
                Some("add [network.regions] (its defaults spread users over five regions)".into()),
            );
        }
        let origin = c
            .callable(
                &at_key(base, "origin"),
                &g.origin,
                name,
                "a CDN",
                "fetch from",
            )
            .unwrap_or(0);
        let ep = at_key(base, "edges");
        let mut edges = Vec::new();
        for (i, e) in g.edges.iter().enumerate() {
            let p = at_index(&ep, i);
            if let Some(r) = check_region(c, &p, e) {
                if edges.contains(&r) {
                    c.err(&p, format!("two edges in \"{e}\""), None);
                }
                edges.push(r);
            }
        }
        let shield = g
            .shield
            .as_ref()
            .and_then(|s| check_region(c, &at_key(base, "shield"), s));
        if shield.is_some() && edges.is_empty() {
            c.err(
                &at_key(base, "shield"),
                "an origin shield stands between edges and the origin; this CDN has no edges",
                Some("add `edges`, or remove `shield`".into()),
            );
        }
        let images = g.images.unwrap_or(0);
        if images > MAX_IMAGES {
            c.err(
                &at_key(base, "images"),
                format!("at most {MAX_IMAGES} images a page, found {images}"),
                None,
            );
        }
        let catalog = g.catalog.unwrap_or(DEFAULT_CATALOG);
        if catalog == 0 || catalog > MAX_CATALOG {
            c.err(
                &at_key(base, "catalog"),
                format!("the catalog holds 1 to {MAX_CATALOG} objects, found {catalog}"),
                None,
            );
        }
        let skew = g.skew.unwrap_or(DEFAULT_SKEW);
        if !(skew.is_finite() && (0.0..=10.0).contains(&skew)) {
            c.err(
                &at_key(base, "skew"),
                format!(
                    "the Zipf exponent must be in [0, 10], found {}",
                    crate::scenario::error::number(skew)
                ),
                Some("0 is every object equally popular; web objects measure 0.6–0.9".into()),
            );
        }
        let capacity = g.capacity.unwrap_or(DEFAULT_CAPACITY);
        if capacity > MAX_CATALOG {
            c.err(
                &at_key(base, "capacity"),
                format!("at most {MAX_CATALOG} objects per cache, found {capacity}"),
                None,
            );
        }
        let ttl = g.ttl.map_or(DEFAULT_TTL, |d| d.0);
        if ttl == 0 {
            c.err(
                &at_key(base, "ttl"),
                "the time to live must be more than zero",
                Some("CloudFront's default is 24h".into()),
            );
        }
        let edge_latency = g.edge_latency.map_or(DEFAULT_EDGE_LATENCY, |d| d.0);
        if edge_latency > 10 * SEC {
            c.err(
                &at_key(base, "edge_latency"),
                "the edge's own time can be at most 10s",
                Some("a few milliseconds is typical".into()),
            );
        }
        let image_work = g.image_work.unwrap_or(DEFAULT_IMAGE_WORK);
        if !(image_work > 0.0 && image_work <= 1e6) {
            c.err(
                &at_key(base, "image_work"),
                format!(
                    "image_work must be more than 0 and at most 1000000, found {}",
                    crate::scenario::error::number(image_work)
                ),
                None,
            );
        }
        let image_size = g.image_size.map_or(0, |b| b.0);
        if image_size > region::MAX_SIZE {
            c.err(
                &at_key(base, "image_size"),
                "an image can be at most 1GB",
                Some("product images are tens to hundreds of KB".into()),
            );
        }
        let origin_timeout = g.origin_timeout.map_or(DEFAULT_ORIGIN_TIMEOUT, |d| d.0);
        if origin_timeout == 0 {
            c.err(
                &at_key(base, "origin_timeout"),
                "the origin timeout must be more than zero",
                Some("CloudFront's default is 30s".into()),
            );
        }
        let images = images.min(MAX_IMAGES);
        let plans = (0..=images)
            .map(|m| Plan {
                mode: Mode::Parallel,
                calls: std::iter::once(1.0)
                    .chain((0..m).map(|_| image_work))
                    .map(|work| Call {
                        to: origin,
                        timeout: Some(origin_timeout),
                        work,
                        fallback: None,
                        breaker: None,
                    })
                    .collect(),
            })
            .collect();
        Some(CdnSpec {
            origin,
            edges,
            shield,
            images,
            catalog: catalog.clamp(1, MAX_CATALOG),
            skew,
            capacity,
            ttl,
            edge_latency,
            image_size: image_size.min(region::MAX_SIZE),
            image_work,
            origin_timeout,
            plans,
        })
    }

    fn build(name: &str, spec: CdnSpec, seed: u64) -> Self {
        let n = spec.edges.len();
        Cdn {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("cdn/{name}")),
            zipf: Zipf::new(spec.catalog, spec.skew),
            fanout: Fanout::new(),
            caches: (0..n).map(|_| Lru::new(spec.capacity as usize)).collect(),
            shield: spec
                .shield
                .map(|_| Box::new(Lru::new(spec.capacity as usize))),
            up: vec![true; n],
            serving: Box::new([None; N]),
            edge_stats: vec![EdgeStats::default(); n],
            stats: CdnStats::default(),
            by_region: (0..N).map(|_| RegionRec::new()).collect(),
            leg: Vec::new(),
            ready: Vec::new(),
            edge_of: Vec::new(),
            keys: Vec::new(),
            detour: vec![0; n],
            to_shield: vec![0; n],
            image_transfer: 0,
            gauge_regions: 0,
            win: (0, 0, 0, 0),
            rtt: Box::new([[0; N]; N]),
            origin_region: 2,
            last_mile_rtt: 0,
            events: Vec::new(),
            spec,
        }
    }

    fn describe(g: &CdnSpec, cx: &DescribeCtx) -> Description {
        let edges = if g.edges.is_empty() {
            "no edges (users reach the origin directly)".to_string()
        } else {
            let names: Vec<&str> = g.edges.iter().map(|&e| REGIONS[e as usize]).collect();
            format!("edges in {}", names.join(", "))
        };
        let shield = g.shield.map_or(String::new(), |s| {
            format!(", shield in {}", REGIONS[s as usize])
        });
        Description {
            detail: format!(
                "{edges}{shield}; pages of 1 API call + {} images (Zipf {} over {} objects); {} objects per edge, TTL {}, {} at the edge; origin {} (timeout {})",
                g.images,
                g.skew,
                g.catalog,
                g.capacity,
                human(g.ttl),
                human(g.edge_latency),
                (cx.name_of)(g.origin),
                human(g.origin_timeout)
            ),
            shape: Shape::Stack,
            routes: vec![Route {
                to: g.origin,
                role: RouteRole::Forward,
            }],
            looked_up: false,
        }
    }

    fn footprint(g: &CdnSpec, _mean_work: f64) -> Footprint {
        let calls = 1.0 + f64::from(g.images);
        Footprint {
            // The page's arrival, and per call (the API's and each miss's, at most every image)
            // its answer back; the calls' own events at the origin are counted on its path once,
            // so each image call's are added here (three a call: arrive, serve, answer).
            events_per_request: 1.0 + calls + 3.0 * f64::from(g.images),
            background_per_s: 0.0,
            capacity_per_s: f64::INFINITY,
            holds: 0.0,
            bytes: 4096.0
                + 8.0 * f64::from(g.catalog)
                + 48.0 * f64::from(g.capacity) * (g.edges.len() + 1) as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_weights_fall_as_a_power_of_rank() {
        let z = Zipf::new(100, 1.0);
        // P(k) ∝ 1/(k+1): P(0)/P(1) = 2, P(0)/P(9) = 10.
        assert!((z.p(0) / z.p(1) - 2.0).abs() < 1e-9);
        assert!((z.p(0) / z.p(9) - 10.0).abs() < 1e-9);
        let total: f64 = (0..100).map(|k| z.p(k)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert_eq!(z.sample(0.0), 0);
        assert_eq!(z.sample(0.999_999_999), 99);
        // Sampling: the share of object 0 over 100k draws is P(0) within 5 σ.
        let mut rng = RngStream::new(1, "zipf");
        let n = 100_000;
        let hits = (0..n).filter(|_| z.sample(rng.open01()) == 0).count() as f64;
        let p = z.p(0);
        let sigma = (p * (1.0 - p) / f64::from(n)).sqrt();
        assert!((hits / f64::from(n) - p).abs() < 5.0 * sigma, "{hits}");
    }

    #[test]
    fn skew_zero_is_uniform() {
        let z = Zipf::new(4, 0.0);
        for k in 0..4 {
            assert!((z.p(k) - 0.25).abs() < 1e-12);
        }
    }
}
