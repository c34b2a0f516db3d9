//! A cache (Redis-like, as ElastiCache runs it) in front of a slower backend, used cache-aside:
//! a read asks the cache; a hit is answered after the cache's own latency; a miss reads the
//! backend (a call with a timeout), answers, and fills the cache. Writes go to the backend and
//! then either invalidate the item or write it through.
//!
//! ```text
//!                      hit (~0.5 ms)
//!   page ──▶ cache ─────────────────────────────────────────────▶ answer
//!              │ miss                          fill (SET) ▲
//!              └──── call ──▶ backend (database) ── answer ┘
//!   coalesce = true: concurrent misses for one item wait for one backend read (single flight)
//! ```
//!
//! Which item a request asks for is drawn at the cache from its own stream: Zipf popularity over
//! a catalog of `catalog` products with skew `skew` ([`zipf`]); the request carries it onward
//! (`Request::item`). Capacity is in items (or memory ÷ item size); when full, the policy picks
//! the victim: LRU, LFU or TTL-only ([`lru`], [`lfu`], [`ttl`]; one small file each, O(1) or
//! O(log n) an operation, sized to the capacity when built so nothing is allocated per request).
//! Every key may expire `ttl` after its fill (checked on access, as Redis does lazily).
//!
//! Each node is a single-threaded server of `ops_per_s` operations a second (exponential service
//! times, first come first served — M/M/1 per node, items spread over nodes by key), plus a fixed
//! `latency` for the network round trip and the client library: 0.3–1 ms below 70 % load,
//! queueing above (docs/semantics.md §10). A GET costs one operation; a fill, an invalidation or
//! a write-through one more.
//!
//! Faults: `flush` empties it (the cold-start ramp), `expire` drops its `items` most popular
//! items (hot keys expiring: the thundering herd, which `coalesce` fixes), `crash` empties it, `stop`/`hang` take it
//! away until `recover` (reads then go to the backend and nothing is filled), `slow` slows it.

pub mod che;
pub mod heap;
pub mod lfu;
pub mod lru;
pub mod ttl;
pub mod zipf;

use super::dist::{Dist, DistConfig};
use super::fanout::{Call, Done, Fanout, Mode, Plan};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    GaugeDecl, GaugeUnit, Kind, ParseError, Route, RouteRole, Section, Shape, Wiring,
};
use super::request::{Outcome, ReqId};
use super::{Code, Control, Ctx, Msg, Timer, Zone};
use crate::engine::time::{human, Time, MS, SEC, US};
use crate::engine::RngStream;
use crate::scenario::error::{number, Seg};
use crate::scenario::units::{Bytes, Duration, Rate};
use crate::scenario::validate::{at_key, Checker};
use serde::{Deserialize, Serialize};

/// "No slot" / "no item" / "no list" in the cache's index arrays.
pub const NONE: u32 = u32::MAX;
/// A coalesced fill in flight with nobody waiting on it yet.
const ALONE: u32 = u32::MAX - 1;

/// The GET is done: look the item up (payload: the request).
const LOOKUP: Code = Code(0);

/// Default capacity: 10,000 items (a model figure).
pub const DEFAULT_CAPACITY: u64 = 10_000;
/// Default catalog: 100,000 products (a model figure).
pub const DEFAULT_CATALOG: u64 = 100_000;
/// Default Zipf skew: 0.9 (web object popularity measures 0.6–1.0; a model figure).
pub const DEFAULT_SKEW: f64 = 0.9;
/// Default operations per second per node: 100,000 (docs/semantics.md §10).
pub const DEFAULT_OPS: f64 = 100_000.0;
/// Default round trip + client time per operation: 0.5 ms (0.3–1 ms below 70 % load, §10).
pub const DEFAULT_LATENCY: Time = 500 * US;
/// Default backend call timeout: 1 s (a model figure: a page waits no longer for its database).
pub const DEFAULT_TIMEOUT: Time = SEC;
/// Default item size with `memory`: 1 KiB (a product page's cached fields; a model figure).
pub const DEFAULT_ITEM_SIZE: u64 = 1024;
/// Most items a cache may hold (its slots are allocated when it is built).
pub const MAX_CAPACITY: u64 = 10_000_000;
/// Most products in a catalog (the index has one word per product).
pub const MAX_CATALOG: u64 = 10_000_000;

/// An ElastiCache node type: memory and on-demand price (docs/semantics.md §10).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeType {
    /// API name, e.g. `"cache.r6g.large"`.
    pub name: &'static str,
    /// Memory for data, GiB.
    pub memory_gib: f64,
    /// On-demand price, $/hour (us-east-1).
    pub price_per_hour: f64,
}

/// The node types the cache knows (docs/semantics.md §10).
pub const NODE_TYPES: &[NodeType] = &[
    NodeType {
        name: "cache.t3.micro",
        memory_gib: 0.5,
        price_per_hour: 0.017,
    },
    NodeType {
        name: "cache.t3.small",
        memory_gib: 1.37,
        price_per_hour: 0.034,
    },
    NodeType {
        name: "cache.t3.medium",
        memory_gib: 3.09,
        price_per_hour: 0.068,
    },
    NodeType {
        name: "cache.m6g.large",
        memory_gib: 6.38,
        price_per_hour: 0.149,
    },
    NodeType {
        name: "cache.r6g.large",
        memory_gib: 13.07,
        price_per_hour: 0.206,
    },
    NodeType {
        name: "cache.r6g.xlarge",
        memory_gib: 26.32,
        price_per_hour: 0.411,
    },
];

/// Which item the policy evicts when the cache is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyConfig {
    /// The least recently used (Redis `allkeys-lru`).
    Lru,
    /// The least frequently used since it was filled (Redis `allkeys-lfu`).
    Lfu,
    /// The one closest to expiring (Redis `volatile-ttl`; needs `ttl`).
    Ttl,
}

/// What a write does to the cached item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Deletes it after the backend's write: the next read misses and fills the new value.
    Invalidate,
    /// Stores the new value after the backend's write: the next read hits.
    WriteThrough,
}

/// `[components.NAME] kind = "cache"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Where misses and writes go: any component that answers requests (a database, a server,
    /// a balancer).
    pub backend: String,
    /// How many items it holds. Default 10000 (or what `memory` holds of `item_size` items; with
    /// both, the smaller).
    pub capacity: Option<u64>,
    /// Memory for items (e.g. "1GiB"); holds memory ÷ item_size items. Default: the node type's
    /// memory if a `node_type` is given, else no memory limit (the `capacity` only).
    pub memory: Option<Bytes>,
    /// Bytes one item takes, with `memory`. Default "1KiB".
    pub item_size: Option<Bytes>,
    /// Eviction when full: "lru", "lfu" or "ttl" (the soonest to expire). Default "lru".
    pub policy: Option<PolicyConfig>,
    /// Each item expires this long after it was filled. Default: never.
    pub ttl: Option<Duration>,
    /// Products in the catalog the requests ask for. Default 100000.
    pub catalog: Option<u64>,
    /// Zipf skew of their popularity (0 every product alike; 1 the classic 1/rank). Default 0.9.
    pub skew: Option<f64>,
    /// Round trip and client time of one operation on top of its queueing and service, e.g.
    /// "500us" or { dist = "uniform", min = "300us", max = "1ms" }. Default 500us (§10).
    pub latency: Option<DistConfig>,
    /// Operations per second one node serves (exponential service times). Default "100000/s"
    /// (§10).
    pub ops_per_s: Option<Rate>,
    /// Nodes (shards): items are spread over them by key; capacity and memory are the total.
    /// Default 1.
    pub nodes: Option<u32>,
    /// An ElastiCache node type for the price (and the memory when none is given), e.g.
    /// "cache.r6g.large". Default: unpriced.
    pub node_type: Option<String>,
    /// Give up on a backend read or write after this long (a timeout). Default 1s.
    pub timeout: Option<Duration>,
    /// Path prefixes of the request classes that write (e.g. ["/admin"]); the others read.
    /// Default: none (every request reads).
    pub writes: Option<Vec<String>>,
    /// What a write does to the cached item: "invalidate" or "write_through". Default
    /// "invalidate".
    pub on_write: Option<WriteMode>,
    /// Concurrent misses for one item wait for one backend read (single flight). Default false.
    pub coalesce: Option<bool>,
}

/// A cache after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheSpec {
    /// Plan 0: one call to the backend with the timeout.
    pub plans: Vec<Plan>,
    /// Items it holds.
    pub capacity: u64,
    /// Eviction policy.
    pub policy: PolicyConfig,
    /// Each item's lifetime after its fill (`None`: never expires).
    pub ttl: Option<Time>,
    /// Products.
    pub catalog: u64,
    /// Zipf skew.
    pub skew: f64,
    /// Per-operation round trip.
    pub latency: DistConfig,
    /// Operations/s per node.
    pub ops_per_s: f64,
    /// Nodes.
    pub nodes: u32,
    /// Node type name and $/hour per node, if priced.
    pub node_type: Option<(String, f64)>,
    /// By class index: it writes.
    pub write_class: Vec<bool>,
    /// What a write does.
    pub on_write: WriteMode,
    /// Single-flight misses.
    pub coalesce: bool,
    /// Starts holding the most popular items, as a cache that has served this traffic for long
    /// does (the journey's steady state; a scenario's own run starts cold).
    pub warm: bool,
}

/// Counters of a cache (since the warm-up).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CacheStats {
    /// Requests received (reads and writes).
    pub requests: u64,
    /// Reads looked up.
    pub reads: u64,
    /// Reads found (and not expired).
    pub hits: u64,
    /// Reads not found, or found expired.
    pub misses: u64,
    /// Misses that found the item expired.
    pub expired: u64,
    /// Items evicted to make room.
    pub evictions: u64,
    /// Reads sent to the backend (misses that were not coalesced, and reads while it was down).
    pub backend_reads: u64,
    /// Writes sent to the backend.
    pub backend_writes: u64,
    /// Backend calls that failed or timed out.
    pub backend_failures: u64,
    /// Misses that waited for another miss's backend read instead of making their own.
    pub coalesced: u64,
    /// Items filled after a read.
    pub fills: u64,
    /// Reads that went to the backend because the cache was down.
    pub bypassed: u64,
    /// Operations served by its nodes.
    pub ops: u64,
    /// Sum over operations of their wait for a node, ns.
    pub wait_ns: f64,
}

/// The items held: which item is in each slot, when it expires, where each item is, and the
/// policy's order over the slots.
struct Store {
    item_of: Vec<u32>,
    expires: Vec<Time>,
    slot_of: Vec<u32>,
    free: Vec<u32>,
    order: Order,
}

/// The eviction policy's order over the slots.
enum Order {
    Lru(lru::Lru),
    Lfu(lfu::Lfu),
    Ttl(ttl::Ttl),
}

impl Store {
    fn new(capacity: usize, catalog: usize, policy: PolicyConfig) -> Self {
        Self {
            item_of: vec![NONE; capacity],
            expires: vec![Time::MAX; capacity],
            slot_of: vec![NONE; catalog],
            free: (0..capacity as u32).rev().collect(),
            order: match policy {
                PolicyConfig::Lru => Order::Lru(lru::Lru::new(capacity)),
                PolicyConfig::Lfu => Order::Lfu(lfu::Lfu::new(capacity)),
                PolicyConfig::Ttl => Order::Ttl(ttl::Ttl::new(capacity)),
            },
        }
    }

    fn len(&self) -> usize {
        self.item_of.len() - self.free.len()
    }

    /// The slot holding `item`, if it is held.
    #[inline]
    fn find(&self, item: u32) -> Option<u32> {
        let s = self.slot_of[item as usize];
        (s != NONE).then_some(s)
    }

    fn touch(&mut self, s: u32) {
        match &mut self.order {
            Order::Lru(o) => o.touch(s),
            Order::Lfu(o) => o.touch(s),
            Order::Ttl(_) => {}
        }
    }

    fn remove(&mut self, s: u32) {
        match &mut self.order {
            Order::Lru(o) => o.remove(s),
            Order::Lfu(o) => o.remove(s),
            Order::Ttl(o) => o.remove(s),
        }
        let item = self.item_of[s as usize];
        self.slot_of[item as usize] = NONE;
        self.item_of[s as usize] = NONE;
        self.expires[s as usize] = Time::MAX;
        self.free.push(s);
    }

    /// Stores `item` until `expires` (replacing its old value). Returns true if another item was
    /// evicted to make room.
    fn put(&mut self, item: u32, expires: Time) -> bool {
        if let Some(s) = self.find(item) {
            self.expires[s as usize] = expires;
            match &mut self.order {
                Order::Lru(o) => o.touch(s),
                Order::Lfu(o) => o.touch(s),
                Order::Ttl(o) => {
                    o.remove(s);
                    o.insert(s, expires);
                }
            }
            return false;
        }
        let mut evicted = false;
        if self.free.is_empty() {
            let victim = match &self.order {
                Order::Lru(o) => o.victim(),
                Order::Lfu(o) => o.victim(),
                Order::Ttl(o) => o.victim(),
            };
            let Some(v) = victim else { return false };
            self.remove(v);
            evicted = true;
        }
        let Some(s) = self.free.pop() else {
            return evicted;
        };
        self.item_of[s as usize] = item;
        self.slot_of[item as usize] = s;
        self.expires[s as usize] = expires;
        match &mut self.order {
            Order::Lru(o) => o.insert(s),
            Order::Lfu(o) => o.insert(s),
            Order::Ttl(o) => o.insert(s, expires),
        }
        evicted
    }

    /// Drops `item` if held; true if it was.
    fn drop_item(&mut self, item: u32) -> bool {
        match self.find(item) {
            Some(s) => {
                self.remove(s);
                true
            }
            None => false,
        }
    }

    /// Empties it (a flush): O(capacity), once.
    fn clear(&mut self) {
        for s in 0..self.item_of.len() {
            let item = self.item_of[s];
            if item != NONE {
                self.slot_of[item as usize] = NONE;
            }
        }
        self.item_of.fill(NONE);
        self.expires.fill(Time::MAX);
        self.free.clear();
        self.free.extend((0..self.item_of.len() as u32).rev());
        match &mut self.order {
            Order::Lru(o) => o.clear(),
            Order::Lfu(o) => o.clear(),
            Order::Ttl(o) => o.clear(),
        }
    }
}

/// Misses waiting for another miss's backend read: per item the head of a list through a pool
/// of entries reused as they are freed (it grows only past its busiest moment).
#[derive(Default)]
struct Waiters {
    /// Per item: `NONE` (no read in flight), `ALONE` (in flight, nobody waiting), or the first
    /// waiter's entry.
    head: Vec<u32>,
    req: Vec<ReqId>,
    next: Vec<u32>,
    free: Vec<u32>,
    /// Waiting now.
    live: usize,
}

impl Waiters {
    fn new(catalog: usize, on: bool) -> Self {
        Self {
            head: if on { vec![NONE; catalog] } else { Vec::new() },
            ..Self::default()
        }
    }

    fn join(&mut self, item: u32, id: ReqId) {
        let e = match self.free.pop() {
            Some(e) => e,
            None => {
                self.req.push(id);
                self.next.push(NONE);
                (self.req.len() - 1) as u32
            }
        };
        let h = self.head[item as usize];
        self.req[e as usize] = id;
        self.next[e as usize] = if h == ALONE { NONE } else { h };
        self.head[item as usize] = e;
        self.live += 1;
    }
}

/// Window counters for the gauges.
#[derive(Clone, Copy, Debug, Default)]
struct Window {
    start: Time,
    hits: u64,
    reads: u64,
    backend_reads: u64,
    evictions: u64,
    busy_ns: f64,
}

/// A cache component.
pub struct Cache {
    name: String,
    spec: CacheSpec,
    rng: RngStream,
    popularity: zipf::Popularity,
    latency: Dist,
    /// Mean service time of one operation, ns.
    service_ns: f64,
    /// Per node: when it finishes the operations it has accepted.
    busy_until: Vec<Time>,
    /// Busy node-ns since time zero (each operation's service time).
    busy_ns: f64,
    busy_at_reset: f64,
    store: Store,
    waiters: Waiters,
    fanout: Fanout,
    /// Stopped or hung: reads go to the backend; nothing is filled.
    down: bool,
    /// Slowdown in thousandths.
    pace: u32,
    stats: CacheStats,
    window: Window,
    /// When the counters were last reset (the warm-up's end).
    reset_at: Time,
    /// Che's approximation and the top-C bound, computed once for the card.
    predicted: Option<(f64, f64)>,
}

impl Cache {
    /// Fills the store with the `capacity` most popular items, least popular first so the most
    /// popular is the most recently used (LRU) — the contents a cache converges to under Zipf
    /// traffic, less the churn of the tail. With a TTL, their ages are spread evenly over it, so
    /// they do not all expire at once.
    fn warm_up(&mut self) {
        let n = self.store.item_of.len() as u64;
        for rank in (0..n).rev() {
            let expires = match self.spec.ttl {
                Some(ttl) => ((ttl as u128 * u128::from(rank + 1)) / u128::from(n.max(1))) as Time,
                None => Time::MAX,
            };
            self.store.put(rank as u32, expires.max(1));
        }
    }

    /// One operation on item `item`'s node: waits for the node (FIFO), takes an exponential
    /// service time; returns when it is done. (Lindley's recursion: an exact M/M/1 per node.)
    #[inline]
    fn op(&mut self, item: u32, now: Time) -> Time {
        let node = (item % self.spec.nodes) as usize;
        let start = self.busy_until[node].max(now);
        let e = super::dist::exp_gap(&mut self.rng, self.service_ns * f64::from(self.pace) / 1e3);
        let done = start.saturating_add(e);
        self.busy_until[node] = done;
        self.stats.ops += 1;
        self.stats.wait_ns += (start - now) as f64;
        self.busy_ns += e as f64;
        self.window.busy_ns += e as f64;
        done
    }

    fn expiry(&self, now: Time) -> Time {
        self.spec.ttl.map_or(Time::MAX, |t| now.saturating_add(t))
    }

    fn answer(&mut self, id: ReqId, outcome: Outcome, ctx: &mut Ctx) {
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.outcome = outcome;
        }
        ctx.respond(id, &mut self.rng);
    }

    fn on_request(&mut self, id: ReqId, ctx: &mut Ctx) {
        let now = ctx.now();
        self.stats.requests += 1;
        let item = self.popularity.sample(&mut self.rng);
        let class = match ctx.reqs.get_mut(id) {
            Some(r) => {
                r.item = item;
                r.class
            }
            None => return,
        };
        if self.spec.write_class.get(class as usize) == Some(&true) {
            self.stats.backend_writes += 1;
            self.call_backend(id, ctx);
            return;
        }
        if self.down {
            self.stats.reads += 1;
            self.stats.misses += 1;
            self.stats.bypassed += 1;
            self.window.reads += 1;
            self.read_backend(id, ctx);
            return;
        }
        let done = self.op(item, now);
        let extra = self
            .latency
            .sample_scaled(&mut self.rng, f64::from(self.pace) / 1e3);
        ctx.timer_at(done.saturating_add(extra), Timer::Req(LOOKUP, id));
    }

    fn read_backend(&mut self, id: ReqId, ctx: &mut Ctx) {
        self.stats.backend_reads += 1;
        self.window.backend_reads += 1;
        self.call_backend(id, ctx);
    }

    fn call_backend(&mut self, id: ReqId, ctx: &mut Ctx) {
        if let Some(d) = self
            .fanout
            .begin(id, 0, &self.spec.plans[0], ctx, &mut self.rng)
        {
            self.done(d, ctx);
        }
    }

    fn lookup(&mut self, id: ReqId, ctx: &mut Ctx) {
        let now = ctx.now();
        let Some(item) = ctx.reqs.get(id).map(|r| r.item) else {
            return;
        };
        self.stats.reads += 1;
        self.window.reads += 1;
        if !self.down {
            if let Some(s) = self.store.find(item) {
                if self.store.expires[s as usize] > now {
                    self.store.touch(s);
                    self.stats.hits += 1;
                    self.window.hits += 1;
                    self.answer(id, Outcome::Ok, ctx);
                    return;
                }
                self.store.remove(s);
                self.stats.expired += 1;
            }
        } else {
            self.stats.bypassed += 1;
        }
        self.stats.misses += 1;
        if self.spec.coalesce && !self.down {
            let h = self.waiters.head[item as usize];
            if h != NONE {
                self.stats.coalesced += 1;
                self.waiters.join(item, id);
                return;
            }
            self.waiters.head[item as usize] = ALONE;
        }
        self.read_backend(id, ctx);
    }

    /// A backend call is done: fill or update the cache, answer the request (and, for a
    /// coalesced read, everyone who waited for it).
    fn done(&mut self, d: Done, ctx: &mut Ctx) {
        let now = ctx.now();
        let Some((item, class)) = ctx.reqs.get(d.parent).map(|r| (r.item, r.class)) else {
            return;
        };
        if d.outcome != Outcome::Ok {
            self.stats.backend_failures += 1;
        }
        let write = self.spec.write_class.get(class as usize) == Some(&true);
        if write {
            if d.outcome == Outcome::Ok && !self.down {
                self.op(item, now);
                match self.spec.on_write {
                    WriteMode::Invalidate => {
                        self.store.drop_item(item);
                    }
                    WriteMode::WriteThrough => {
                        let exp = self.expiry(now);
                        if self.store.put(item, exp) {
                            self.stats.evictions += 1;
                            self.window.evictions += 1;
                        }
                    }
                }
            }
        } else {
            if self.spec.coalesce {
                let mut e = std::mem::replace(&mut self.waiters.head[item as usize], NONE);
                while e != NONE && e != ALONE {
                    let (w, next) = (self.waiters.req[e as usize], self.waiters.next[e as usize]);
                    self.waiters.free.push(e);
                    self.waiters.live -= 1;
                    self.answer(w, d.outcome, ctx);
                    e = next;
                }
            }
            if d.outcome == Outcome::Ok && !self.down {
                self.op(item, now);
                self.stats.fills += 1;
                let exp = self.expiry(now);
                if self.store.put(item, exp) {
                    self.stats.evictions += 1;
                    self.window.evictions += 1;
                }
            }
        }
        self.answer(d.parent, d.outcome, ctx);
    }

    #[cold]
    fn control(&mut self, c: Control, ctx: &mut Ctx) {
        let _ = ctx;
        match c {
            Control::Crash | Control::Flush => self.store.clear(),
            Control::Stop | Control::Hang => {
                self.store.clear();
                self.down = true;
            }
            Control::Recover => {
                self.down = false;
                self.pace = 1000;
            }
            Control::Slow(f) => self.pace = f.max(1),
            Control::Expire(n) => {
                for item in 0..u64::from(n).min(self.spec.catalog) {
                    self.store.drop_item(item as u32);
                }
            }
            Control::Launch
            | Control::LaunchBooted
            | Control::Terminate
            | Control::DnsOutage
            | Control::Part(..)
            | Control::RegionDown(_)
            | Control::RegionUp(_) => {}
        }
    }

    fn hit_ratio(&self) -> Option<f64> {
        (self.stats.reads > 0).then(|| self.stats.hits as f64 / self.stats.reads as f64)
    }

    /// Che's LRU hit ratio and the static top-C bound for its popularity and capacity (catalogs
    /// up to a million; beyond, the sums cost more than the run).
    fn predictions(&mut self) -> Option<(f64, f64)> {
        if self.predicted.is_none() && self.spec.catalog <= 1_000_000 {
            let p = zipf::pmf(self.spec.catalog, self.spec.skew);
            let (che, _) = che::lru_hit_ratio(&p, self.spec.capacity);
            self.predicted = Some((che, che::top_c(&p, self.spec.capacity)));
        }
        self.predicted
    }

    fn price_per_hour(&self) -> f64 {
        self.spec
            .node_type
            .as_ref()
            .map_or(0.0, |(_, p)| p * f64::from(self.spec.nodes))
    }
}

impl Behaviour for Cache {
    fn start(&mut self, _ctx: &mut Ctx) {
        if self.spec.warm {
            self.warm_up();
        }
    }

    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        if let Some(done) = self.fanout.take(msg, &self.spec.plans, ctx, &mut self.rng) {
            if let Some(d) = done {
                self.done(d, ctx);
            }
            return;
        }
        match msg {
            Msg::Request(id) => self.on_request(id, ctx),
            Msg::Timer(Timer::Req(LOOKUP, id)) => self.lookup(id, ctx),
            Msg::Response(id) => {
                ctx.respond(id, &mut self.rng);
            }
            Msg::Control(c) => self.control(c, ctx),
            Msg::Timer(_) => {}
        }
    }

    fn reset_stats(&mut self, now: Time) {
        self.stats = CacheStats::default();
        self.busy_at_reset = self.busy_ns;
        self.reset_at = now;
    }

    fn billed(&mut self, now: Time) -> f64 {
        self.price_per_hour() * now as f64 / 3.6e12
    }

    fn measured_cost(&mut self, _now: Time, measured: Time) -> f64 {
        self.price_per_hour() * measured as f64 / 3.6e12
    }

    fn card(&mut self, now: Time, measured: Time) -> Option<Card> {
        let cost = self.measured_cost(now, measured);
        let predicted = self.predictions();
        let span = now.saturating_sub(self.reset_at) as f64 * f64::from(self.spec.nodes);
        let s = &self.stats;
        let utilization = if span > 0.0 {
            (self.busy_ns - self.busy_at_reset) / span
        } else {
            0.0
        };
        let backend = s.backend_reads as f64;
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("requests", Figure::Count(s.requests)),
                ("reads", Figure::Count(s.reads)),
                ("hits", Figure::Count(s.hits)),
                ("misses", Figure::Count(s.misses)),
                ("hit_ratio", Figure::Maybe(self.hit_ratio())),
                ("expired", Figure::Count(s.expired)),
                ("evictions", Figure::Count(s.evictions)),
                ("fills", Figure::Count(s.fills)),
                ("coalesced", Figure::Count(s.coalesced)),
                ("bypassed", Figure::Count(s.bypassed)),
                ("backend_reads", Figure::Count(s.backend_reads)),
                ("backend_writes", Figure::Count(s.backend_writes)),
                ("backend_failures", Figure::Count(s.backend_failures)),
                (
                    "backend_read_share",
                    Figure::Maybe((s.reads > 0).then(|| backend / s.reads as f64)),
                ),
                ("items", Figure::Count(self.store.len() as u64)),
                ("capacity", Figure::Count(self.spec.capacity)),
                ("utilization", Figure::Value(utilization)),
                (
                    "mean_queue_wait_ms",
                    Figure::Maybe((s.ops > 0).then(|| s.wait_ns / s.ops as f64 / MS as f64)),
                ),
                ("che_lru_hit_ratio", Figure::Maybe(predicted.map(|p| p.0))),
                ("top_c_hit_ratio", Figure::Maybe(predicted.map(|p| p.1))),
                ("cost_usd", Figure::Value(cost)),
            ],
        })
    }

    fn extra_gauges(&self) -> &'static [GaugeDecl] {
        &[
            GaugeDecl {
                name: "hit_ratio",
                title: "cache hit ratio",
                unit: GaugeUnit::Ratio,
            },
            GaugeDecl {
                name: "backend_reads_per_s",
                title: "backend reads per second",
                unit: GaugeUnit::Count,
            },
            GaugeDecl {
                name: "evictions_per_s",
                title: "cache evictions per second",
                unit: GaugeUnit::Count,
            },
            GaugeDecl {
                name: "items",
                title: "items cached",
                unit: GaugeUnit::Count,
            },
            GaugeDecl {
                name: "utilization",
                title: "cache node utilization",
                unit: GaugeUnit::Ratio,
            },
        ]
    }

    fn sample_extra(&mut self, now: Time, out: &mut Vec<f64>) {
        let w = self.window;
        let secs = now.saturating_sub(w.start) as f64 / SEC as f64;
        let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        out.push(if w.reads > 0 {
            w.hits as f64 / w.reads as f64
        } else {
            f64::NAN
        });
        out.push(per_s(w.backend_reads));
        out.push(per_s(w.evictions));
        out.push(self.store.len() as f64);
        out.push(if secs > 0.0 {
            w.busy_ns / (secs * SEC as f64 * f64::from(self.spec.nodes))
        } else {
            0.0
        });
        self.window = Window {
            start: now,
            ..Window::default()
        };
    }

    fn check_invariants(&self) {
        let held = self.store.len();
        assert!(
            held as u64 <= self.spec.capacity,
            "{}: {held} items in a cache of {}",
            self.name,
            self.spec.capacity
        );
        if !self.spec.coalesce {
            assert_eq!(
                self.waiters.live, 0,
                "{}: waiters without coalescing",
                self.name
            );
        }
    }
}

impl Kind for Cache {
    type Config = CacheConfig;
    type Spec = CacheSpec;
    const WORDS: &'static str = "cache";
    const ABOUT: &'static str =
        "A Redis-like cache used cache-aside: hits answered in ~1 ms, misses read the backend and fill.";
    const SCHEMA_NAME: &'static str = "CacheComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: false,
        balancer_target: BalancerTarget::Member,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<CacheConfig, ParseError> {
        parse_table(table)
    }

    fn check(name: &str, g: &CacheConfig, base: &[Seg], c: &mut Checker) -> Option<CacheSpec> {
        let backend = c.callable(
            &at_key(base, "backend"),
            &g.backend,
            name,
            "a cache",
            "read from",
        );
        let node_type = match &g.node_type {
            None => None,
            Some(t) => match NODE_TYPES.iter().find(|n| n.name == t) {
                Some(n) => Some(*n),
                None => {
                    let names: Vec<&str> = NODE_TYPES.iter().map(|n| n.name).collect();
                    let near = names
                        .iter()
                        .min_by_key(|n| strsim::levenshtein(n, t))
                        .copied()
                        .unwrap_or("cache.t3.micro");
                    c.err(
                        &at_key(base, "node_type"),
                        format!("unknown cache node type \"{t}\""),
                        Some(format!(
                            "did you mean \"{near}\"? known: {}",
                            names.join(", ")
                        )),
                    );
                    None
                }
            },
        };
        let item_size = g.item_size.map_or(DEFAULT_ITEM_SIZE, |b| b.0);
        if g.item_size.is_some() && g.memory.is_none() && node_type.is_none() {
            c.err(
                &at_key(base, "item_size"),
                "`item_size` sizes items against `memory`, and there is none",
                Some("give memory = \"1GiB\" (or a node_type), or leave item_size out".into()),
            );
        }
        if item_size == 0 {
            c.err(
                &at_key(base, "item_size"),
                "an item takes at least 1 byte",
                Some("e.g. item_size = \"1KiB\"".into()),
            );
        }
        let nodes = g.nodes.unwrap_or(1);
        if nodes == 0 || nodes > 500 {
            c.err(
                &at_key(base, "nodes"),
                format!("a cache has 1 to 500 nodes, found {nodes}"),
                None,
            );
        }
        let memory = g.memory.map(|b| b.0).or_else(|| {
            node_type.map(|n| (n.memory_gib * f64::from(nodes.max(1)) * 1073741824.0) as u64)
        });
        let by_memory = memory.map(|m| m / item_size.max(1));
        let capacity = match (g.capacity, by_memory) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => DEFAULT_CAPACITY,
        };
        if g.capacity == Some(0) {
            c.err(
                &at_key(base, "capacity"),
                "a cache holds at least 1 item",
                None,
            );
        } else if g.memory.is_some() && by_memory == Some(0) {
            c.err(
                &at_key(base, "memory"),
                format!(
                    "{} holds no item of {item_size} B",
                    crate::scenario::units::format_bytes(memory.unwrap_or(0))
                ),
                Some("give more memory or a smaller item_size".into()),
            );
        }
        let capacity = capacity.min(MAX_CAPACITY);
        if g.capacity.is_some_and(|n| n > MAX_CAPACITY) {
            c.err(
                &at_key(base, "capacity"),
                format!("at most {MAX_CAPACITY} items"),
                None,
            );
        }
        let catalog = g.catalog.unwrap_or(DEFAULT_CATALOG);
        if catalog == 0 || catalog > MAX_CATALOG {
            c.err(
                &at_key(base, "catalog"),
                format!("a catalog has 1 to {MAX_CATALOG} products, found {catalog}"),
                None,
            );
        }
        let skew = g.skew.unwrap_or(DEFAULT_SKEW);
        if !(skew.is_finite() && (0.0..=10.0).contains(&skew)) {
            c.err(
                &at_key(base, "skew"),
                format!("the skew must be between 0 and 10, found {}", number(skew)),
                Some("0 makes every product alike; 0.6–1.0 is typical of web popularity".into()),
            );
        }
        let policy = g.policy.unwrap_or(PolicyConfig::Lru);
        let ttl = g.ttl.map(|d| d.0);
        if ttl == Some(0) {
            c.err(
                &at_key(base, "ttl"),
                "a ttl must be more than zero",
                Some("leave it out for items that never expire".into()),
            );
        }
        if policy == PolicyConfig::Ttl && ttl.is_none() {
            c.err(
                &at_key(base, "policy"),
                "the \"ttl\" policy evicts the item soonest to expire, but items have no `ttl`",
                Some("give ttl = \"5m\", or use policy = \"lru\"".into()),
            );
        }
        let latency = g.latency.clone().unwrap_or(DistConfig::Deterministic {
            value: Duration(DEFAULT_LATENCY),
        });
        c.dist(&at_key(base, "latency"), &latency, true);
        let ops = g.ops_per_s.map_or(DEFAULT_OPS, |r| r.0);
        if !(ops.is_finite() && (1.0..=1e8).contains(&ops)) {
            c.err(
                &at_key(base, "ops_per_s"),
                format!("a node serves 1/s to 100000000/s, found {}/s", number(ops)),
                Some("ElastiCache nodes serve about 100000/s".into()),
            );
        }
        let timeout = g.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0);
        if timeout == 0 {
            c.err(
                &at_key(base, "timeout"),
                "the backend timeout must be more than zero",
                None,
            );
        }
        let mut write_class = vec![false; c.classes.len()];
        if let Some(paths) = &g.writes {
            let wp = at_key(base, "writes");
            for (i, p) in paths.iter().enumerate() {
                c.url_path(&crate::scenario::validate::at_index(&wp, i), p);
            }
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            for (i, m) in c.match_classes(&refs).into_iter().enumerate() {
                write_class[i] = m.is_some();
            }
            if !paths.is_empty() && !write_class.iter().any(|&w| w) {
                let known: Vec<String> = c.classes.iter().map(|k| k.path.clone()).collect();
                c.err(
                    &wp,
                    "no request class has a path under these prefixes",
                    Some(format!("the workload's paths: {}", known.join(", "))),
                );
            }
        }
        if g.on_write.is_some() && g.writes.as_ref().is_none_or(Vec::is_empty) {
            c.err(
                &at_key(base, "on_write"),
                "`on_write` says what writes do, but no `writes` paths are given",
                Some("e.g. writes = [\"/admin\"]".into()),
            );
        }
        let to = backend?;
        Some(CacheSpec {
            plans: vec![Plan {
                mode: Mode::Sequential,
                calls: vec![Call {
                    to,
                    timeout: Some(timeout),
                    work: 1.0,
                    fallback: None,
                    breaker: None,
                }],
            }],
            capacity: capacity.max(1),
            policy,
            ttl,
            catalog: catalog.clamp(1, MAX_CATALOG),
            skew,
            latency,
            ops_per_s: ops,
            nodes: nodes.clamp(1, 500),
            node_type: node_type.map(|n| (n.name.to_string(), n.price_per_hour)),
            write_class,
            on_write: g.on_write.unwrap_or(WriteMode::Invalidate),
            coalesce: g.coalesce.unwrap_or(false),
            warm: false,
        })
    }

    fn build(name: &str, spec: CacheSpec, seed: u64) -> Self {
        let capacity = spec.capacity.min(spec.catalog) as usize;
        let catalog = spec.catalog as usize;
        Cache {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("cache/{name}")),
            popularity: zipf::Popularity::new(spec.catalog, spec.skew),
            latency: spec.latency.sampler(),
            service_ns: SEC as f64 / spec.ops_per_s,
            busy_until: vec![0; spec.nodes as usize],
            busy_ns: 0.0,
            busy_at_reset: 0.0,
            store: Store::new(capacity, catalog, spec.policy),
            waiters: Waiters::new(catalog, spec.coalesce),
            fanout: Fanout::new(),
            down: false,
            pace: 1000,
            stats: CacheStats::default(),
            window: Window::default(),
            reset_at: 0,
            predicted: None,
            spec,
        }
    }

    fn describe(g: &CacheSpec, cx: &DescribeCtx) -> Description {
        let policy = match g.policy {
            PolicyConfig::Lru => "LRU",
            PolicyConfig::Lfu => "LFU",
            PolicyConfig::Ttl => "TTL-only",
        };
        let ttl = g
            .ttl
            .map_or(String::new(), |t| format!(", ttl {}", human(t)));
        let price = g.node_type.as_ref().map_or(String::new(), |(n, p)| {
            format!(", {} × {n} (${p}/h)", g.nodes)
        });
        let writes = if g.write_class.iter().any(|&w| w) {
            match g.on_write {
                WriteMode::Invalidate => ", writes invalidate",
                WriteMode::WriteThrough => ", writes write through",
            }
        } else {
            ""
        };
        let call = &g.plans[0].calls[0];
        Description {
            detail: format!(
                "{} items {policy}{ttl}; Zipf(skew {}) over {} products; {} + M/M/1 at {:.0} ops/s × {} node{}{price}; misses → {} ≤{}{}{writes}",
                g.capacity,
                number(g.skew),
                g.catalog,
                g.latency.describe(),
                g.ops_per_s,
                g.nodes,
                if g.nodes == 1 { "" } else { "s" },
                (cx.name_of)(call.to),
                human(call.timeout.unwrap_or(0)),
                if g.coalesce { ", coalesced" } else { "" },
            ),
            shape: Shape::Box,
            routes: vec![Route {
                to: call.to,
                role: RouteRole::Forward,
            }],
            looked_up: false,
        }
    }

    fn steady_state(spec: &mut CacheSpec) {
        // A cache that has served this traffic for long holds its popular items: the journey
        // measures that, not the cold ramp (which the chapter's own flush shows).
        spec.warm = true;
    }

    fn footprint(g: &CacheSpec, _mean_work: f64) -> Footprint {
        Footprint {
            // Arrives, its lookup, the answer; a miss adds the call, its deadline and its answer.
            events_per_request: 6.0,
            background_per_s: 0.0,
            capacity_per_s: g.ops_per_s * f64::from(g.nodes),
            holds: f64::INFINITY,
            bytes: 4096.0
                + 40.0 * g.capacity.min(g.catalog) as f64
                + if g.coalesce { 8.0 } else { 4.0 } * g.catalog as f64,
        }
    }
}

/// The "Cache" section of summary.md, from the caches' cards: the hit ratio, what reached the
/// backend, and what a flush or a herd cost. Empty when the run has no cache.
pub fn summary_section(cards: &[(&'static str, Card)], measured: Time) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let secs = measured as f64 / SEC as f64;
    for (kind, card) in cards {
        if *kind != "cache" {
            continue;
        }
        let count = |k: &str| card.count(k);
        let maybe = |k: &str| card.value(k);
        if s.is_empty() {
            let _ = writeln!(s, "\n## Cache\n");
        }
        let reads = count("reads").unwrap_or(0);
        let backend = count("backend_reads").unwrap_or(0);
        let Some(h) = maybe("hit_ratio") else {
            let _ = writeln!(s, "**{}** served no reads.", card.name);
            continue;
        };
        let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let _ = write!(
            s,
            "**{}**: hit ratio {:.1} % ({} hits of {} reads). The backend read {:.0} times a second \
             instead of the {:.0} it would without the cache: its read load fell by {:.1} %.",
            card.name,
            h * 100.0,
            count("hits").unwrap_or(0),
            reads,
            per_s(backend),
            per_s(reads),
            if reads > 0 {
                (1.0 - backend as f64 / reads as f64) * 100.0
            } else {
                0.0
            }
        );
        if let (Some(che), Some(top)) = (maybe("che_lru_hit_ratio"), maybe("top_c_hit_ratio")) {
            let _ = write!(
                s,
                " For this popularity and capacity Che's approximation of an LRU cache predicts \
                 {:.1} % in steady state, and keeping the most popular items always would give \
                 {:.1} % (flushes, expiries and writes lower what is measured).",
                che * 100.0,
                top * 100.0
            );
        }
        let _ = writeln!(s);
        let coalesced = count("coalesced").unwrap_or(0);
        let _ = writeln!(
            s,
            "\n- {} evictions, {} found expired, {} misses coalesced into another's backend read \
             (single flight), {} backend calls failed; node utilization {:.1} %.",
            count("evictions").unwrap_or(0),
            count("expired").unwrap_or(0),
            coalesced,
            count("backend_failures").unwrap_or(0),
            maybe("utilization").unwrap_or(0.0) * 100.0
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_store_evicts_by_its_policy_and_counts_it() {
        // LRU of 2 over items 0..10: put 1, 2; read 1; put 3 evicts 2.
        let mut s = Store::new(2, 10, PolicyConfig::Lru);
        assert!(!s.put(1, Time::MAX));
        assert!(!s.put(2, Time::MAX));
        let one = s.find(1).unwrap();
        s.touch(one);
        assert!(s.put(3, Time::MAX), "full: one eviction");
        assert!(s.find(2).is_none() && s.find(1).is_some() && s.find(3).is_some());
        assert!(!s.put(3, 50), "an update evicts nothing");
        assert_eq!(s.expires[s.find(3).unwrap() as usize], 50);
        assert!(s.drop_item(1));
        assert!(!s.drop_item(1));
        assert_eq!(s.len(), 1);
        s.clear();
        assert_eq!(s.len(), 0);
        assert!(s.find(3).is_none());
        assert!(!s.put(4, Time::MAX));
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn ttl_eviction_takes_the_soonest_to_expire() {
        let mut s = Store::new(2, 10, PolicyConfig::Ttl);
        s.put(1, 300);
        s.put(2, 100);
        s.put(1, 400); // refreshed: still later than 2
        assert!(s.put(3, 500));
        assert!(s.find(2).is_none(), "2 expires soonest");
    }

    #[test]
    fn waiters_form_one_list_per_item_and_reuse_entries() {
        let mut w = Waiters::new(4, true);
        let mut t = crate::model::request::RequestTable::new();
        let ids: Vec<ReqId> = (0..3).map(|_| t.alloc(0, 0, 0, 1.0)).collect();
        w.head[2] = ALONE;
        w.join(2, ids[0]);
        w.join(2, ids[1]);
        let mut e = w.head[2];
        let mut got = Vec::new();
        while e != NONE && e != ALONE {
            got.push(w.req[e as usize]);
            w.free.push(e);
            e = w.next[e as usize];
        }
        assert_eq!(got, vec![ids[1], ids[0]]);
        w.head[2] = NONE;
        w.join(3, ids[2]);
        assert_eq!(w.req.len(), 2, "a freed entry is reused");
    }
}
