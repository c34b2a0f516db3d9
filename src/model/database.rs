//! A relational database (RDS-like): a primary that takes writes and reads, `replicas` read
//! replicas fed by asynchronous replication, and an optional Multi-AZ standby that is promoted
//! when the primary fails. Every instance is an instance class from the catalog (vCPUs shared by
//! its queries, [`super::cpu`]; a bill, [`super::meter`]) with a connection limit; a query that
//! finds every connection in use waits in a pool for up to `pool_timeout` (or is refused at once
//! when it is `0s`).
//!
//! ```text
//!                        ┌─ writes ──────────▶ primary ══ sync ══▶ standby (Multi-AZ, not readable)
//!   calls ──▶ database ──┤                       │ commit
//!   (class → query:      │                       ▼ shipped after replica_lag, applied one at a time
//!    point read, scan,   └─ reads ──▶ replica1 · replica2 · ...  (random or least loaded; the
//!    write)                            primary when none is up or read_from = "primary")
//! ```
//!
//! Requests reach it as calls from a server or fleet (`[[components.NAME.calls]]`: a call
//! carries its request's class, user and key) or directly. The request's class names its query:
//! `queries` maps path prefixes to "point_read", "scan" or "write" (the longest prefix wins;
//! classes no prefix matches are point reads), each with its own CPU cost.
//!
//! Replication ([`replication`]): a write committed on the primary reaches each replica after
//! `replica_lag` and is applied there in commit order as `apply_cost` of CPU competing with the
//! replica's reads, so the lag grows with the write rate and the replica's own busyness. A read
//! from a replica that has not yet applied the same user's latest write is a *stale read*
//! (read-your-writes violated).
//!
//! Failures come from the fault timeline: `crash` or `stop` of the database (or
//! `target = "db.primary"`) fails the primary — its queries are reset, writes fail
//! (`unavailable`) — and with a standby the first health check after it (every
//! `check_interval`) starts a failover that promotes the standby `failover_time` later; without
//! one, writes stay down until a `recover` (a manual restore). `db.replica2` fails one replica:
//! its reads shift to the others, and when it recovers it catches up on the writes it missed.

pub mod replication;
pub mod router;

use super::cpu::{Cpu, Done, Job};
use super::dist::{Dist, DistConfig};
use super::job::{JOB_SCAN_PRIMARY, JOB_SCAN_REPLICA};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, EventKind, Figure,
    Footprint, GaugeDecl, GaugeUnit, Kind, ParseError, Section, Shape, TimelineEvent, Wiring,
};
use super::meter::Meter;
use super::request::{Outcome, ReqId};
use super::{Code, Control, Ctx, Msg, PartVerb, Timer, Zone};
use crate::engine::time::{human, Time, MS, SEC};
use crate::engine::RngStream;
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;
use crate::scenario::validate::{at_index, at_key, Checker};
use replication::{LastWrites, Stream};
use router::Policy;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Instance `i`'s query completions: `Timer::Pair(Code(CPU_CODE + i), epoch, slot)`.
const CPU_CODE: u8 = 10;
/// A wait in instance `i`'s pool reached its limit: `Timer::Req(Code(POOL_CODE + i), id)`.
const POOL_CODE: u8 = 40;
/// Replica `i`'s next write has arrived (payload: `i`).
const SHIP: Code = Code(1);
/// The standby acknowledged a write (payload: the request).
const COMMIT: Code = Code(2);
/// The health check after a primary failure (payload: the failure's epoch).
const DETECT: Code = Code(3);
/// The standby is promoted (payload: the failure's epoch).
const PROMOTE: Code = Code(4);

/// The most read replicas (RDS allows 15 for MySQL and PostgreSQL; docs/semantics.md §9).
pub const MAX_REPLICAS: u32 = 15;

/// Default instance class.
const DEFAULT_INSTANCE: &str = "db.r5.large";
/// Failover time with a standby: the low end of the 60–120 s RDS gives (docs/semantics.md §9).
const DEFAULT_FAILOVER: Time = 60 * SEC;
/// How often the primary's health is checked (model; docs/semantics.md §9).
const DEFAULT_CHECK: Time = 10 * SEC;
/// The synchronous standby's round trip added to each write: inter-AZ, 0.25–3.4 ms; the
/// reference's model adds 1–3 ms (docs/semantics.md §9).
const DEFAULT_STANDBY_RTT: Time = 2 * MS;
/// How long a query waits for a connection: HikariCP's `connectionTimeout` default
/// (docs/semantics.md §9).
const DEFAULT_POOL_TIMEOUT: Time = 30 * SEC;
/// The shipping part of the replica lag: the reference's steady median, 0.5 s
/// (docs/semantics.md §9).
const DEFAULT_REPLICA_LAG: Time = 500 * MS;
/// CPU a replica spends applying one write (model; docs/semantics.md §9).
const DEFAULT_APPLY_COST: Time = MS;
/// Most connections an instance may have (PostgreSQL's formula caps at 5000).
const MAX_CONNECTIONS: u32 = 100_000;

/// What a query does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueryKind {
    /// A read of one row by an index (1–5 ms).
    PointRead,
    /// A read of many rows (a search, a report).
    Scan,
    /// An insert or update: on the primary, acknowledged by the standby if there is one.
    Write,
}

impl QueryKind {
    const ALL: [QueryKind; 3] = [QueryKind::PointRead, QueryKind::Scan, QueryKind::Write];

    fn index(self) -> usize {
        self as usize
    }

    /// The name in scenario files and results.json.
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::PointRead => "point_read",
            QueryKind::Scan => "scan",
            QueryKind::Write => "write",
        }
    }
}

/// One entry of `queries`: requests on a path prefix are queries of one type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryConfig {
    /// Requests on this path prefix (`/orders` matches `/orders` and `/orders/5`).
    pub path: String,
    /// "point_read", "scan" or "write".
    #[serde(rename = "type")]
    pub query: QueryKind,
}

/// `[components.NAME] kind = "database"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Instance class of the primary, the standby and every replica, e.g. "db.r5.large".
    /// Default db.r5.large (2 vCPU, 16 GiB, $0.25/h; docs/semantics.md §9).
    pub instance: Option<String>,
    /// Read replicas, 0 to 15. Default 0.
    pub replicas: Option<u32>,
    /// Where reads go: "replicas" (the primary only when none is up) or "primary". Default
    /// replicas.
    pub read_from: Option<String>,
    /// How a read picks its replica: "least_loaded" (fewest queries in hand) or "random".
    /// Default least_loaded.
    pub policy: Option<String>,
    /// A Multi-AZ standby: synchronous (each write waits `standby_rtt` for it), not readable,
    /// promoted when the primary fails; it doubles the primary's bill. Default false.
    pub standby: Option<bool>,
    /// From the health check that finds the primary down to the standby serving as primary.
    /// Default 60s (RDS: typically 60–120 s; docs/semantics.md §9).
    pub failover_time: Option<Duration>,
    /// How often the primary's health is checked (a failure is found by the next check).
    /// Default 10s.
    pub check_interval: Option<Duration>,
    /// The standby's acknowledgement added to every write. Default 2ms (inter-AZ RTT;
    /// docs/semantics.md §9).
    pub standby_rtt: Option<Duration>,
    /// Connections each instance takes (each query in progress holds one). Default from the
    /// class's memory, PostgreSQL's LEAST(memory / 9531392, 5000): 1802 on a db.r5.large
    /// (docs/semantics.md §9).
    pub max_connections: Option<u32>,
    /// How long a query waits for a free connection before it fails (503); "0s": refused at
    /// once. Default 30s (HikariCP's connectionTimeout; docs/semantics.md §9).
    pub pool_timeout: Option<Duration>,
    /// The shipping part of replication lag: a write reaches a replica this long after its
    /// commit, then waits for the replica to apply it. Default 500ms (docs/semantics.md §9).
    pub replica_lag: Option<Duration>,
    /// CPU a replica spends applying one write, one write at a time. Default 1ms.
    pub apply_cost: Option<Duration>,
    /// CPU cost of a point read. Default lognormal, mean 2ms, cv 0.5 (1–5 ms;
    /// docs/semantics.md §9).
    pub point_read: Option<DistConfig>,
    /// CPU cost of a scan. Default lognormal, mean 50ms, cv 1.
    pub scan: Option<DistConfig>,
    /// CPU cost of a write on the primary. Default lognormal, mean 3ms, cv 0.5.
    pub write: Option<DistConfig>,
    /// Which requests are which query, by path prefix, e.g.
    /// [{ path = "/orders", type = "write" }]. Classes no prefix matches are point reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<QueryConfig>,
}

/// A database after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct DatabaseSpec {
    /// Instance class.
    pub instance: &'static str,
    /// vCPUs of each instance.
    pub vcpus: u32,
    /// $/hour of each instance.
    pub price: f64,
    /// Read replicas.
    pub replicas: u32,
    /// Reads go to replicas (else to the primary).
    pub read_from_replicas: bool,
    /// How reads pick a replica.
    pub policy: Policy,
    /// A Multi-AZ standby.
    pub standby: bool,
    /// Failover time, ns.
    pub failover_time: Time,
    /// Health-check interval, ns (> 0).
    pub check_interval: Time,
    /// Standby acknowledgement, ns.
    pub standby_rtt: Time,
    /// Connections per instance.
    pub max_connections: u32,
    /// Pool wait limit, ns (0: refuse at once).
    pub pool_timeout: Time,
    /// Shipping lag, ns.
    pub replica_lag: Time,
    /// Apply CPU per write, ns.
    pub apply_cost: Time,
    /// CPU cost by query kind (point read, scan, write).
    pub costs: [DistConfig; 3],
    /// By class index: its query.
    pub class_query: Vec<QueryKind>,
    /// The `queries` as written (path, type), for descriptions.
    pub queries: Vec<(String, QueryKind)>,
}

/// PostgreSQL's default `max_connections` on RDS: LEAST(DBInstanceClassMemory / 9531392, 5000),
/// the class memory taken as its GiB (docs/semantics.md §9).
pub fn default_max_connections(memory_gib: u32) -> u32 {
    ((u64::from(memory_gib) << 30) / 9_531_392).clamp(1, 5000) as u32
}

/// The first health check strictly after `t` (checks run at every multiple of `interval`).
pub fn next_check(t: Time, interval: Time) -> Time {
    let interval = interval.max(1);
    (t / interval).saturating_add(1).saturating_mul(interval)
}

/// What a request asks of the database.
#[derive(Clone, Copy, Debug)]
struct Query {
    kind: QueryKind,
    /// Who asks (the stale-read table's key).
    key: u32,
    /// A scheduled job's batch: on a replica (else the primary), and its CPU demand, ns.
    job: Option<(bool, f64)>,
}

/// Counters since the warm-up.
#[derive(Clone, Debug, Default)]
struct Stats {
    queries: [u64; 3],
    reads_on_primary: u64,
    reads_on_replicas: u64,
    stale_reads: u64,
    ok: u64,
    unavailable: u64,
    crashed: u64,
}

/// One instance: the primary (index 0) or a replica.
struct Inst {
    cpu: Cpu,
    meter: Meter,
    up: bool,
    /// Queries waiting for a connection, with when they started waiting (FIFO, one timeout:
    /// the first is always the first to time out).
    pool: VecDeque<(ReqId, Time)>,
    /// The replica's apply thread is running a write.
    applying: bool,
    /// A SHIP timer is pending.
    ship_armed: bool,
    stream: Stream,
    /// ∫ connections in use dt and ∫ queries waiting dt since time zero, and at the window's start.
    conn_area: f64,
    pool_area: f64,
    win: (f64, f64, Time),
    /// Since the warm-up.
    peak_conns: u32,
    served: u64,
    pool_waits: u64,
    pool_wait_sum: f64,
    pool_timeouts: u64,
    refused: u64,
    lag_sum: f64,
    lag_n: u64,
    lag_max: Time,
    /// In the window: lag sum and count.
    win_lag: (f64, u64),
}

impl Inst {
    fn new(i: usize, spec: &DatabaseSpec, price: f64) -> Self {
        // One more worker than connections on a replica: its apply thread.
        let workers = spec.max_connections.saturating_add(u32::from(i > 0));
        Inst {
            cpu: Cpu::new(spec.vcpus, workers, Code(CPU_CODE + i as u8)),
            meter: Meter::new(price),
            up: true,
            pool: VecDeque::new(),
            applying: false,
            ship_armed: false,
            stream: Stream::default(),
            conn_area: 0.0,
            pool_area: 0.0,
            win: (0.0, 0.0, 0),
            peak_conns: 0,
            served: 0,
            pool_waits: 0,
            pool_wait_sum: 0.0,
            pool_timeouts: 0,
            refused: 0,
            lag_sum: 0.0,
            lag_n: 0,
            lag_max: 0,
            win_lag: (0.0, 0),
        }
    }

    /// Connections in use: queries running or waiting for the standby (not the apply thread).
    #[inline]
    fn conns(&self) -> u32 {
        (self.cpu.in_service() as u32 + self.cpu.held()).saturating_sub(u32::from(self.applying))
    }

    /// Brings the CPU's virtual clock and the integrals up to `now`.
    #[inline]
    fn touch(&mut self, now: Time) {
        let dt = now.saturating_sub(self.meter.last);
        if dt > 0 {
            let dtf = dt as i64 as f64;
            self.cpu.advance(dtf);
            let conns = f64::from(self.conns());
            self.conn_area += dtf * conns;
            self.pool_area += dtf * self.pool.len() as f64;
            let busy = f64::from(self.cpu.busy());
            let vcpus = f64::from(self.cpu.vcpus());
            self.meter
                .advance(now, dt, self.up, Some(busy), vcpus, conns, true);
        }
    }
}

/// A database component.
pub struct Database {
    name: String,
    spec: DatabaseSpec,
    rng: RngStream,
    costs: [Dist; 3],
    inst: Vec<Inst>,
    /// Writes waiting for the standby's acknowledgement, in commit order (one round trip, so
    /// the first is always the first acknowledged).
    committing: VecDeque<ReqId>,
    /// Writes committed since time zero (the stream's length).
    committed: u64,
    last_writes: LastWrites,
    /// The standby is there to promote.
    standby_up: bool,
    /// Changes at each primary failure and restore (stale failover timers are ignored).
    epoch: u32,
    /// The primary is down (writes fail) since then.
    down_since: Option<Time>,
    /// Time writes were down since the warm-up.
    write_down: Time,
    failovers: u64,
    reset_at: Time,
    stats: Stats,
    events: Vec<TimelineEvent>,
    cursor: usize,
    /// Jobs finished by one CPU timer (reused: nothing allocated per event).
    done: Vec<Job>,
    /// Each instance's CPU utilization over the last window (NaN: down), for the CPU tiers.
    window_cpu: Vec<f64>,
}

impl Database {
    fn replica_name(i: usize) -> &'static str {
        INSTANCE_NAMES[i]
    }

    fn note(&mut self, now: Time, kind: EventKind, text: String) {
        self.events
            .push(TimelineEvent::new(now, kind, &self.name, text));
    }

    fn answer(&mut self, id: ReqId, outcome: Outcome, ctx: &mut Ctx) {
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.outcome = outcome;
        }
        match outcome {
            Outcome::Ok => self.stats.ok += 1,
            Outcome::Crashed => self.stats.crashed += 1,
            Outcome::Unavailable => self.stats.unavailable += 1,
            _ => {}
        }
        ctx.respond(id, &mut self.rng);
    }

    /// What request `id` asks of the database, read from the request table once.
    fn query_of(&self, id: ReqId, ctx: &Ctx) -> Query {
        match ctx.reqs.get(id) {
            // A scheduled job's batch (super::job): a scan of the demand it carries.
            Some(r) if r.class == JOB_SCAN_PRIMARY || r.class == JOB_SCAN_REPLICA => Query {
                kind: QueryKind::Scan,
                key: r.key,
                job: Some((r.class == JOB_SCAN_REPLICA, r.work)),
            },
            Some(r) => Query {
                kind: self
                    .spec
                    .class_query
                    .get(r.class as usize)
                    .copied()
                    .unwrap_or(QueryKind::PointRead),
                key: r.key,
                job: None,
            },
            None => Query {
                kind: QueryKind::PointRead,
                key: 0,
                job: None,
            },
        }
    }

    /// A read replica that is up (least loaded or random, as reads pick), or the primary when
    /// none is: where a job's batch on a replica goes, whatever `read_from` says for live reads.
    fn route_to_replica(&mut self) -> usize {
        let n = self.spec.replicas as usize;
        if n == 0 {
            return 0;
        }
        let inst = &self.inst;
        let rng = &mut self.rng;
        let load = |i: usize| {
            let x = &inst[i + 1];
            x.up.then(|| x.conns() + x.pool.len() as u32)
        };
        router::pick(
            self.spec.policy,
            n,
            load,
            |k| rng.below(k),
            &mut self.cursor,
        )
        .map_or(0, |i| i + 1)
    }

    /// Where a read goes: a replica by the policy, or the primary.
    fn route_read(&mut self) -> usize {
        if !self.spec.read_from_replicas {
            return 0;
        }
        self.route_to_replica()
    }

    #[inline(always)]
    fn on_request(&mut self, id: ReqId, ctx: &mut Ctx) {
        let q = self.query_of(id, ctx);
        self.stats.queries[q.kind.index()] += 1;
        let i = if q.kind == QueryKind::Write {
            0
        } else {
            match q.job {
                Some((true, _)) => self.route_to_replica(),
                Some((false, _)) => 0,
                None => self.route_read(),
            }
        };
        if q.kind != QueryKind::Write {
            if i == 0 {
                self.stats.reads_on_primary += 1;
            } else {
                self.stats.reads_on_replicas += 1;
            }
        }
        if !self.inst[i].up {
            // No primary (a failure not yet failed over) and nowhere else for it: 503.
            self.answer(id, Outcome::Unavailable, ctx);
            return;
        }
        let now = ctx.now();
        self.inst[i].touch(now);
        if self.inst[i].conns() < self.spec.max_connections {
            self.start_query(i, id, now, q, ctx);
            self.inst[i].cpu.reschedule(ctx);
        } else if self.spec.pool_timeout == 0 {
            self.inst[i].refused += 1;
            self.answer(id, Outcome::Refused, ctx);
        } else {
            let x = &mut self.inst[i];
            x.pool.push_back((id, now));
            x.pool_waits += 1;
            ctx.timer_at(
                now.saturating_add(self.spec.pool_timeout),
                Timer::Req(Code(POOL_CODE + i as u8), id),
            );
        }
    }

    /// Starts a query on instance `i` (touched; the caller reschedules its CPU).
    fn start_query(&mut self, i: usize, id: ReqId, arrived: Time, q: Query, ctx: &mut Ctx) {
        let stale = || {
            self.last_writes
                .is_stale(q.key, self.inst[i].stream.applied)
        };
        if i > 0 && q.job.is_none() && stale() {
            self.stats.stale_reads += 1;
        }
        let demand = match q.job {
            Some((_, work)) => work,
            None => self.costs[q.kind.index()].sample(&mut self.rng) as f64,
        };
        let x = &mut self.inst[i];
        x.cpu.start(id, arrived, demand, ctx);
        x.peak_conns = x.peak_conns.max(x.conns());
    }

    /// Gives free connections of instance `i` (touched) to the pool's first, answering those who
    /// waited too long.
    fn refill(&mut self, i: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        while self.inst[i].conns() < self.spec.max_connections {
            let Some((id, since)) = self.inst[i].pool.pop_front() else {
                break;
            };
            if now.saturating_sub(since) >= self.spec.pool_timeout {
                self.inst[i].pool_timeouts += 1;
                self.answer(id, Outcome::Unavailable, ctx);
                continue;
            }
            self.inst[i].pool_wait_sum += (now - since) as f64;
            let q = self.query_of(id, ctx);
            self.start_query(i, id, since, q, ctx);
        }
    }

    /// The pool's waits that reached the limit by `now` fail (503).
    fn expire_pool(&mut self, i: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        while let Some(&(id, since)) = self.inst[i].pool.front() {
            if now.saturating_sub(since) < self.spec.pool_timeout {
                break;
            }
            self.inst[i].pool.pop_front();
            self.inst[i].pool_timeouts += 1;
            self.answer(id, Outcome::Unavailable, ctx);
        }
    }

    fn on_cpu(&mut self, i: usize, epoch: u32, slot: u32, ctx: &mut Ctx) {
        let now = ctx.now();
        self.inst[i].touch(now);
        let mut done = std::mem::take(&mut self.done);
        match self.inst[i].cpu.take_done(epoch, slot) {
            Done::Stale => {}
            Done::One(job) => done.push(job),
            Done::Shared => {
                while let Some(job) = self.inst[i].cpu.pop_finished() {
                    done.push(job);
                }
            }
        }
        for job in done.drain(..) {
            self.finished(i, job, ctx);
        }
        self.done = done;
        self.refill(i, ctx);
        self.inst[i].cpu.reschedule(ctx);
    }

    fn finished(&mut self, i: usize, job: Job, ctx: &mut Ctx) {
        let now = ctx.now();
        if job.req == ReqId::NONE {
            // The apply thread applied the oldest write.
            let x = &mut self.inst[i];
            x.applying = false;
            if let Some(lag) = x.stream.applied_one(now) {
                x.lag_sum += lag as f64;
                x.lag_n += 1;
                x.lag_max = x.lag_max.max(lag);
                x.win_lag.0 += lag as f64;
                x.win_lag.1 += 1;
            }
            self.kick_applier(i, ctx);
            return;
        }
        self.inst[i].served += 1;
        let q = self.query_of(job.req, ctx).kind;
        if q == QueryKind::Write && i == 0 {
            if self.standby_up && self.spec.standby_rtt > 0 {
                self.inst[0].cpu.hold();
                self.committing.push_back(job.req);
                ctx.timer_at(
                    now.saturating_add(self.spec.standby_rtt),
                    Timer::Req(COMMIT, job.req),
                );
            } else {
                self.commit(job.req, ctx);
            }
        } else {
            self.answer(job.req, Outcome::Ok, ctx);
        }
    }

    /// A write is committed on the primary: it joins every replica's stream.
    fn commit(&mut self, id: ReqId, ctx: &mut Ctx) {
        let now = ctx.now();
        self.committed += 1;
        let n = self.spec.replicas as usize;
        if n > 0 {
            let key = ctx.reqs.get(id).map_or(0, |r| r.key);
            self.last_writes.record(key, self.committed);
            for r in 1..=n {
                self.inst[r].stream.ship(now);
                self.kick_applier(r, ctx);
            }
            let min = (1..=n)
                .map(|r| self.inst[r].stream.applied)
                .min()
                .unwrap_or(0);
            self.last_writes.forget_applied(min);
        }
        self.answer(id, Outcome::Ok, ctx);
    }

    /// Starts replica `r`'s apply thread on its next write if it has arrived, or waits for it.
    fn kick_applier(&mut self, r: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        let lag = self.spec.replica_lag;
        let cost = self.spec.apply_cost as f64;
        let x = &mut self.inst[r];
        if !x.up || x.applying {
            return;
        }
        let Some(ready) = x.stream.next_ready(lag) else {
            return;
        };
        if ready <= now {
            x.touch(now);
            x.applying = true;
            x.cpu.start(ReqId::NONE, now, cost, ctx);
            x.cpu.reschedule(ctx);
        } else if !x.ship_armed {
            x.ship_armed = true;
            ctx.timer_at(ready, Timer::Word(SHIP, r as u32));
        }
    }

    fn on_commit(&mut self, id: ReqId, ctx: &mut Ctx) {
        if self.committing.front() != Some(&id) {
            return; // reset by a failure since
        }
        self.committing.pop_front();
        let now = ctx.now();
        self.inst[0].touch(now);
        self.inst[0].cpu.release();
        self.commit(id, ctx);
        self.refill(0, ctx);
        self.inst[0].cpu.reschedule(ctx);
    }

    fn primary_price(&self) -> f64 {
        if self.standby_up {
            2.0 * self.spec.price
        } else {
            self.spec.price
        }
    }

    fn end_downtime(&mut self, now: Time) {
        if let Some(since) = self.down_since.take() {
            self.write_down += now.saturating_sub(since.max(self.reset_at));
        }
    }

    /// Instance `i` fails: everything it holds is reset.
    fn fail(&mut self, i: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        if !self.inst[i].up {
            return;
        }
        self.inst[i].touch(now);
        self.inst[i].up = false;
        let jobs = self.inst[i].cpu.drain(now);
        self.inst[i].cpu.release_all();
        self.inst[i].applying = false;
        for (job, _) in jobs {
            if job.req != ReqId::NONE {
                self.answer(job.req, Outcome::Crashed, ctx);
            }
        }
        let pool = std::mem::take(&mut self.inst[i].pool);
        for (id, _) in pool {
            self.answer(id, Outcome::Crashed, ctx);
        }
        if i > 0 {
            let name = Self::replica_name(i);
            self.note(
                now,
                EventKind::Crash,
                format!("{name} down: its reads shift to the other instances"),
            );
            return;
        }
        for id in std::mem::take(&mut self.committing) {
            self.answer(id, Outcome::Crashed, ctx);
        }
        self.down_since = Some(now);
        self.epoch = self.epoch.wrapping_add(1);
        if self.standby_up {
            self.note(
                now,
                EventKind::Crash,
                "primary down: writes fail until the standby is promoted".into(),
            );
            let at = next_check(now, self.spec.check_interval);
            ctx.timer_at(at, Timer::Word(DETECT, self.epoch));
        } else {
            self.note(
                now,
                EventKind::Crash,
                "primary down, no standby: writes fail until it is restored".into(),
            );
        }
    }

    fn on_detect(&mut self, epoch: u32, ctx: &mut Ctx) {
        if epoch != self.epoch || self.inst[0].up {
            return;
        }
        let now = ctx.now();
        self.note(
            now,
            EventKind::Failover,
            format!(
                "health check finds the primary down: failover to the standby ({})",
                human(self.spec.failover_time)
            ),
        );
        ctx.timer_at(
            now.saturating_add(self.spec.failover_time),
            Timer::Word(PROMOTE, epoch),
        );
    }

    fn on_promote(&mut self, epoch: u32, ctx: &mut Ctx) {
        if epoch != self.epoch || self.inst[0].up {
            return;
        }
        let now = ctx.now();
        self.inst[0].touch(now);
        self.inst[0].up = true;
        self.standby_up = false;
        let price = self.primary_price();
        self.inst[0].meter.set_price(price);
        self.failovers += 1;
        let down = now - self.down_since.unwrap_or(now);
        self.end_downtime(now);
        self.note(
            now,
            EventKind::Failover,
            format!(
                "standby promoted: writes resume after {} (no standby until the old primary is restored)",
                human(down)
            ),
        );
    }

    fn recover(&mut self, i: usize, ctx: &mut Ctx) {
        let now = ctx.now();
        if !self.inst[i].up {
            self.inst[i].touch(now);
            self.inst[i].up = true;
            if i == 0 {
                self.epoch = self.epoch.wrapping_add(1);
                self.end_downtime(now);
                self.note(
                    now,
                    EventKind::BackUp,
                    "primary restored: writes resume".into(),
                );
            } else {
                let behind = self.inst[i].stream.backlog();
                let name = Self::replica_name(i);
                self.note(
                    now,
                    EventKind::BackUp,
                    format!("{name} back: catching up on {behind} writes"),
                );
                self.kick_applier(i, ctx);
            }
        } else if i == 0 && self.spec.standby && !self.standby_up {
            self.inst[0].touch(now);
            self.standby_up = true;
            let price = self.primary_price();
            self.inst[0].meter.set_price(price);
            self.note(
                now,
                EventKind::BackUp,
                "standby restored (the old primary rebuilt)".into(),
            );
        }
    }

    fn on_control(&mut self, c: Control, ctx: &mut Ctx) {
        match c {
            Control::Crash | Control::Stop => self.fail(0, ctx),
            Control::Recover => self.recover(0, ctx),
            Control::Part(i, verb) => {
                let i = i as usize;
                if i >= self.inst.len() {
                    return;
                }
                match verb {
                    PartVerb::Crash => self.fail(i, ctx),
                    PartVerb::Recover => self.recover(i, ctx),
                }
            }
            _ => {}
        }
    }

    fn settle(&mut self, now: Time) {
        for x in &mut self.inst {
            x.touch(now);
        }
    }

    fn write_downtime(&self, now: Time) -> Time {
        self.write_down
            + self
                .down_since
                .map_or(0, |s| now.saturating_sub(s.max(self.reset_at)))
    }
}

macro_rules! per_instance {
    ($suffix:literal) => {
        [
            concat!("primary", $suffix),
            concat!("replica1", $suffix),
            concat!("replica2", $suffix),
            concat!("replica3", $suffix),
            concat!("replica4", $suffix),
            concat!("replica5", $suffix),
            concat!("replica6", $suffix),
            concat!("replica7", $suffix),
            concat!("replica8", $suffix),
            concat!("replica9", $suffix),
            concat!("replica10", $suffix),
            concat!("replica11", $suffix),
            concat!("replica12", $suffix),
            concat!("replica13", $suffix),
            concat!("replica14", $suffix),
            concat!("replica15", $suffix),
        ]
    };
}

/// Instance names: `primary`, `replica1` … `replica15` (fault targets `db.primary`, `db.replica2`).
const INSTANCE_NAMES: [&str; 16] = per_instance!("");
const UTILIZATION: [&str; 16] = per_instance!("_utilization");
const CONNS_PEAK: [&str; 16] = per_instance!("_connections_peak");
const POOL_WAIT: [&str; 16] = per_instance!("_mean_pool_wait_ms");
const LAG_MEAN: [&str; 16] = per_instance!("_lag_mean_ms");
const LAG_MAX: [&str; 16] = per_instance!("_lag_max_ms");
const G_CPU: [&str; 16] = per_instance!("_cpu");
const G_CONNS: [&str; 16] = per_instance!("_connections");
const G_POOL: [&str; 16] = per_instance!("_waiting");
const G_LAG: [&str; 16] = per_instance!("_lag");

const fn gauge_table() -> [GaugeDecl; 3 + 4 * MAX_REPLICAS as usize] {
    let blank = GaugeDecl {
        name: "",
        title: "",
        unit: GaugeUnit::Count,
    };
    let mut out = [blank; 3 + 4 * MAX_REPLICAS as usize];
    let mut i = 0;
    let mut k = 0;
    while i <= MAX_REPLICAS as usize {
        out[k] = GaugeDecl {
            name: G_CPU[i],
            title: "database CPU",
            unit: GaugeUnit::Ratio,
        };
        out[k + 1] = GaugeDecl {
            name: G_CONNS[i],
            title: "database connections in use",
            unit: GaugeUnit::Count,
        };
        out[k + 2] = GaugeDecl {
            name: G_POOL[i],
            title: "queries waiting for a connection",
            unit: GaugeUnit::Count,
        };
        k += 3;
        if i > 0 {
            out[k] = GaugeDecl {
                name: G_LAG[i],
                title: "replica lag",
                unit: GaugeUnit::Millis,
            };
            k += 1;
        }
        i += 1;
    }
    out
}

/// Every instance's gauges, the primary's (CPU, connections, waiting) then each replica's
/// (the same and its lag): a database with `n` replicas declares the first `3 + 4n`.
static GAUGES: [GaugeDecl; 3 + 4 * MAX_REPLICAS as usize] = gauge_table();

impl Behaviour for Database {
    fn start(&mut self, _ctx: &mut Ctx) {}

    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Request(id) => self.on_request(id, ctx),
            Msg::Timer(Timer::Pair(Code(c), epoch, slot))
                if (CPU_CODE..CPU_CODE + 16).contains(&c) =>
            {
                let i = (c - CPU_CODE) as usize;
                if i < self.inst.len() {
                    self.on_cpu(i, epoch, slot, ctx);
                }
            }
            Msg::Timer(Timer::Req(COMMIT, id)) => self.on_commit(id, ctx),
            Msg::Timer(Timer::Req(Code(c), _)) if (POOL_CODE..POOL_CODE + 16).contains(&c) => {
                let i = (c - POOL_CODE) as usize;
                if i < self.inst.len() {
                    let now = ctx.now();
                    self.inst[i].touch(now);
                    self.expire_pool(i, ctx);
                }
            }
            Msg::Timer(Timer::Word(SHIP, r)) => {
                let r = r as usize;
                if r < self.inst.len() {
                    self.inst[r].ship_armed = false;
                    self.kick_applier(r, ctx);
                }
            }
            Msg::Timer(Timer::Word(DETECT, e)) => self.on_detect(e, ctx),
            Msg::Timer(Timer::Word(PROMOTE, e)) => self.on_promote(e, ctx),
            Msg::Control(c) => self.on_control(c, ctx),
            Msg::Response(_) | Msg::Timer(_) => {}
        }
    }

    fn reset_stats(&mut self, now: Time) {
        self.settle(now);
        self.stats = Stats::default();
        self.reset_at = now;
        self.write_down = 0;
        self.failovers = 0;
        for x in &mut self.inst {
            x.meter.reset();
            x.peak_conns = x.conns();
            x.served = 0;
            x.pool_waits = 0;
            x.pool_wait_sum = 0.0;
            x.pool_timeouts = 0;
            x.refused = 0;
            x.lag_sum = 0.0;
            x.lag_n = 0;
            x.lag_max = 0;
        }
    }

    fn billed(&mut self, now: Time) -> f64 {
        self.settle(now);
        self.inst.iter().map(|x| x.meter.cost()).sum()
    }

    fn measured_cost(&mut self, now: Time, _measured: Time) -> f64 {
        self.settle(now);
        self.inst.iter().map(|x| x.meter.since_reset().cost).sum()
    }

    fn timeline(&self) -> &[TimelineEvent] {
        &self.events
    }

    fn extra_gauges(&self) -> &'static [GaugeDecl] {
        &GAUGES[..3 + 4 * self.spec.replicas as usize]
    }

    fn cpu_parts(&self) -> Vec<String> {
        (0..self.inst.len())
            .map(|i| {
                if i == 0 {
                    "primary".to_string()
                } else {
                    format!("replica{i}")
                }
            })
            .collect()
    }

    fn sample_parts(&mut self, out: &mut Vec<f64>) {
        out.extend_from_slice(&self.window_cpu);
    }

    fn sample_extra(&mut self, now: Time, out: &mut Vec<f64>) {
        self.window_cpu.clear();
        for (i, x) in self.inst.iter_mut().enumerate() {
            x.touch(now);
            let (busy, cap) = x.meter.window();
            self.window_cpu
                .push(if cap > 0.0 { busy / cap } else { f64::NAN });
            out.push(if cap > 0.0 { busy / cap } else { 0.0 });
            let span = now.saturating_sub(x.win.2) as i64 as f64;
            let mean = |area: f64, at: f64| if span > 0.0 { (area - at) / span } else { 0.0 };
            out.push(mean(x.conn_area, x.win.0));
            out.push(mean(x.pool_area, x.win.1));
            if i > 0 {
                let lag = if x.win_lag.1 > 0 {
                    x.win_lag.0 / x.win_lag.1 as f64
                } else {
                    x.stream.behind(now) as f64
                };
                // The lag now is at least the age of the oldest write still waiting.
                out.push(lag.max(x.stream.behind(now) as f64) / MS as f64);
            }
            x.win = (x.conn_area, x.pool_area, now);
            x.win_lag = (0.0, 0);
        }
    }

    fn card(&mut self, now: Time, _measured: Time) -> Option<Card> {
        self.settle(now);
        let s = &self.stats;
        let (lag_sum, lag_n, lag_max) =
            self.inst[1..].iter().fold((0.0, 0u64, 0), |(a, b, c), x| {
                (a + x.lag_sum, b + x.lag_n, c.max(x.lag_max))
            });
        let ms = |ns: f64| ns / MS as f64;
        let mut fields = vec![
            ("instance", Figure::Text(self.spec.instance.to_string())),
            ("replicas", Figure::Count(u64::from(self.spec.replicas))),
            ("standby", Figure::Flag(self.spec.standby)),
            (
                "read_from",
                Figure::Text(
                    if self.spec.read_from_replicas {
                        "replicas"
                    } else {
                        "primary"
                    }
                    .into(),
                ),
            ),
            (
                "max_connections",
                Figure::Count(u64::from(self.spec.max_connections)),
            ),
            ("queries", Figure::Count(s.queries.iter().sum())),
            ("point_reads", Figure::Count(s.queries[0])),
            ("scans", Figure::Count(s.queries[1])),
            ("writes", Figure::Count(s.queries[2])),
            ("reads_on_primary", Figure::Count(s.reads_on_primary)),
            ("reads_on_replicas", Figure::Count(s.reads_on_replicas)),
            ("ok", Figure::Count(s.ok)),
            ("stale_reads", Figure::Count(s.stale_reads)),
            (
                "stale_read_ratio",
                Figure::Maybe(
                    (s.reads_on_replicas > 0)
                        .then(|| s.stale_reads as f64 / s.reads_on_replicas as f64),
                ),
            ),
            (
                "replica_lag_mean_ms",
                Figure::Maybe((lag_n > 0).then(|| ms(lag_sum / lag_n as f64))),
            ),
            (
                "replica_lag_max_ms",
                Figure::Maybe((lag_n > 0).then(|| ms(lag_max as f64))),
            ),
            ("failovers", Figure::Count(self.failovers)),
            (
                "write_downtime_s",
                Figure::Value(self.write_downtime(now) as f64 / SEC as f64),
            ),
            (
                "connections_peak",
                Figure::Count(
                    self.inst
                        .iter()
                        .map(|x| u64::from(x.peak_conns))
                        .max()
                        .unwrap_or(0),
                ),
            ),
            (
                "pool_waits",
                Figure::Count(self.inst.iter().map(|x| x.pool_waits).sum()),
            ),
            (
                "pool_timeouts",
                Figure::Count(self.inst.iter().map(|x| x.pool_timeouts).sum()),
            ),
            (
                "refused",
                Figure::Count(self.inst.iter().map(|x| x.refused).sum()),
            ),
            ("unavailable", Figure::Count(s.unavailable)),
            ("crashed", Figure::Count(s.crashed)),
        ];
        for (i, x) in self.inst.iter().enumerate() {
            let since = x.meter.since_reset();
            fields.push((
                UTILIZATION[i],
                Figure::Maybe((since.capacity > 0.0).then(|| since.busy / since.capacity)),
            ));
            fields.push((CONNS_PEAK[i], Figure::Count(u64::from(x.peak_conns))));
            let started = x.pool_waits.saturating_sub(x.pool_timeouts);
            fields.push((
                POOL_WAIT[i],
                Figure::Maybe((started > 0).then(|| ms(x.pool_wait_sum / started as f64))),
            ));
            if i > 0 {
                fields.push((
                    LAG_MEAN[i],
                    Figure::Maybe((x.lag_n > 0).then(|| ms(x.lag_sum / x.lag_n as f64))),
                ));
                fields.push((
                    LAG_MAX[i],
                    Figure::Maybe((x.lag_n > 0).then(|| ms(x.lag_max as f64))),
                ));
            }
        }
        let cost: f64 = self.inst.iter().map(|x| x.meter.since_reset().cost).sum();
        fields.push(("cost_usd", Figure::Value(cost)));
        fields.push((
            "events",
            Figure::Events(self.events.iter().map(|e| (e.at, e.text.clone())).collect()),
        ));
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields,
        })
    }

    fn check_invariants(&self) {
        for (i, x) in self.inst.iter().enumerate() {
            assert!(
                x.conns() <= self.spec.max_connections,
                "{}: {} holds {} connections of {}",
                self.name,
                INSTANCE_NAMES[i],
                x.conns(),
                self.spec.max_connections
            );
            if !x.up {
                assert_eq!(
                    x.cpu.in_service() + x.pool.len(),
                    0,
                    "{}: {} holds queries while down",
                    self.name,
                    INSTANCE_NAMES[i]
                );
            }
        }
        assert!(self.committing.len() as u32 <= self.inst[0].cpu.held());
    }
}

impl Kind for Database {
    type Config = DatabaseConfig;
    type Spec = DatabaseSpec;
    const WORDS: &'static str = "database";
    const ABOUT: &'static str =
        "A database: a primary for writes, read replicas (asynchronous, lagging), connection limits, a Multi-AZ standby for failover.";
    const SCHEMA_NAME: &'static str = "DatabaseComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: false,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<DatabaseConfig, ParseError> {
        parse_table(table)
    }

    fn check(
        _name: &str,
        d: &DatabaseConfig,
        base: &[Seg],
        c: &mut Checker,
    ) -> Option<DatabaseSpec> {
        let mut ok = true;
        let class = d.instance.as_deref().unwrap_or(DEFAULT_INSTANCE);
        let it = crate::model::catalog::lookup_db(class);
        if it.is_none() {
            let names = crate::model::catalog::db_names();
            let near = names
                .iter()
                .min_by_key(|n| strsim::levenshtein(n, class))
                .copied()
                .unwrap_or(DEFAULT_INSTANCE);
            c.err(
                &at_key(base, "instance"),
                format!("\"{class}\" is not a database instance class this simulator knows"),
                Some(format!(
                    "did you mean \"{near}\"? Known classes: {}",
                    names.join(", ")
                )),
            );
            ok = false;
        }
        let replicas = d.replicas.unwrap_or(0);
        if replicas > MAX_REPLICAS {
            c.err(
                &at_key(base, "replicas"),
                format!("a database has at most {MAX_REPLICAS} read replicas, found {replicas}"),
                None,
            );
            ok = false;
        }
        let read_from_replicas = match d.read_from.as_deref().unwrap_or("replicas") {
            "replicas" => true,
            "primary" => false,
            other => {
                c.err(
                    &at_key(base, "read_from"),
                    format!("`read_from` is \"replicas\" or \"primary\", found \"{other}\""),
                    None,
                );
                ok = false;
                true
            }
        };
        let policy = match d.policy.as_deref().unwrap_or("least_loaded") {
            "least_loaded" => Policy::LeastLoaded,
            "random" => Policy::Random,
            other => {
                c.err(
                    &at_key(base, "policy"),
                    format!("`policy` is \"least_loaded\" or \"random\", found \"{other}\""),
                    None,
                );
                ok = false;
                Policy::LeastLoaded
            }
        };
        let check_interval = d.check_interval.map_or(DEFAULT_CHECK, |x| x.0);
        if check_interval == 0 {
            c.err(
                &at_key(base, "check_interval"),
                "the health-check interval must be more than zero",
                Some("e.g. check_interval = \"10s\"".into()),
            );
            ok = false;
        }
        let max_connections = match d.max_connections {
            Some(n) if n == 0 || n > MAX_CONNECTIONS => {
                c.err(
                    &at_key(base, "max_connections"),
                    format!("`max_connections` must be between 1 and {MAX_CONNECTIONS}, found {n}"),
                    None,
                );
                ok = false;
                1
            }
            Some(n) => n,
            None => it.map_or(1, |t| default_max_connections(t.memory_gib)),
        };
        let default_costs = [
            DistConfig::Lognormal {
                mean: Duration(2 * MS),
                cv: 0.5,
            },
            DistConfig::Lognormal {
                mean: Duration(50 * MS),
                cv: 1.0,
            },
            DistConfig::Lognormal {
                mean: Duration(3 * MS),
                cv: 0.5,
            },
        ];
        let given = [&d.point_read, &d.scan, &d.write];
        let mut costs = default_costs.clone();
        for (k, q) in QueryKind::ALL.iter().enumerate() {
            if let Some(dist) = given[k] {
                c.dist(&at_key(base, q.name()), dist, true);
                costs[k] = dist.clone();
            }
        }
        let qp = at_key(base, "queries");
        for (i, q) in d.queries.iter().enumerate() {
            if !c.url_path(&at_key(&at_index(&qp, i), "path"), &q.path) {
                ok = false;
            }
        }
        let prefixes: Vec<&str> = d.queries.iter().map(|q| q.path.as_str()).collect();
        let class_query = c
            .match_classes(&prefixes)
            .iter()
            .map(|m| m.map_or(QueryKind::PointRead, |i| d.queries[i as usize].query))
            .collect();
        let it = it?;
        if !ok {
            return None;
        }
        Some(DatabaseSpec {
            instance: it.name,
            vcpus: it.vcpus,
            price: it.price_per_hour,
            replicas,
            read_from_replicas,
            policy,
            standby: d.standby.unwrap_or(false),
            failover_time: d.failover_time.map_or(DEFAULT_FAILOVER, |x| x.0),
            check_interval,
            standby_rtt: d.standby_rtt.map_or(DEFAULT_STANDBY_RTT, |x| x.0),
            max_connections,
            pool_timeout: d.pool_timeout.map_or(DEFAULT_POOL_TIMEOUT, |x| x.0),
            replica_lag: d.replica_lag.map_or(DEFAULT_REPLICA_LAG, |x| x.0),
            apply_cost: d.apply_cost.map_or(DEFAULT_APPLY_COST, |x| x.0),
            costs,
            class_query,
            queries: d
                .queries
                .iter()
                .map(|q| (q.path.clone(), q.query))
                .collect(),
        })
    }

    fn build(name: &str, spec: DatabaseSpec, seed: u64) -> Self {
        let n = spec.replicas as usize;
        let primary_price = if spec.standby {
            2.0 * spec.price
        } else {
            spec.price
        };
        let inst = (0..=n)
            .map(|i| Inst::new(i, &spec, if i == 0 { primary_price } else { spec.price }))
            .collect();
        Database {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("database/{name}")),
            costs: [
                spec.costs[0].sampler(),
                spec.costs[1].sampler(),
                spec.costs[2].sampler(),
            ],
            inst,
            committing: VecDeque::new(),
            committed: 0,
            last_writes: LastWrites::default(),
            standby_up: spec.standby,
            epoch: 0,
            down_since: None,
            write_down: 0,
            failovers: 0,
            reset_at: 0,
            stats: Stats::default(),
            events: Vec::new(),
            cursor: 0,
            done: Vec::new(),
            window_cpu: Vec::new(),
            spec,
        }
    }

    fn describe(d: &DatabaseSpec, _cx: &DescribeCtx) -> Description {
        let copies = match (d.replicas, d.standby) {
            (0, false) => "primary only".to_string(),
            (0, true) => "primary + Multi-AZ standby".to_string(),
            (n, s) => format!(
                "primary + {n} read replica{}{}",
                if n == 1 { "" } else { "s" },
                if s { " + Multi-AZ standby" } else { "" }
            ),
        };
        let reads = if d.replicas > 0 && d.read_from_replicas {
            format!("reads → replicas ({})", d.policy.name())
        } else {
            "reads → primary".to_string()
        };
        let pool = if d.pool_timeout == 0 {
            "refused beyond".to_string()
        } else {
            format!("pool wait ≤ {}", human(d.pool_timeout))
        };
        let mut detail = format!(
            "{} ({} vCPU, ${}/h each): {copies}; ≤ {} connections each, {pool}; {reads}, writes → primary",
            d.instance, d.vcpus, d.price, d.max_connections
        );
        if d.replicas > 0 {
            detail.push_str(&format!(
                "; lag ≥ {} + {} per write applied",
                human(d.replica_lag),
                human(d.apply_cost)
            ));
        }
        if d.standby {
            detail.push_str(&format!(
                "; failover {} after a health check (every {})",
                human(d.failover_time),
                human(d.check_interval)
            ));
        } else {
            detail.push_str("; no standby: a failed primary waits for a restore");
        }
        let queries: Vec<String> = d
            .queries
            .iter()
            .map(|(p, q)| format!("{p} {}", q.name()))
            .collect();
        if !queries.is_empty() {
            detail.push_str(&format!(
                "; queries: {} (others point reads)",
                queries.join(", ")
            ));
        }
        Description {
            detail,
            shape: if d.replicas > 0 {
                Shape::Stack
            } else {
                Shape::Box
            },
            routes: Vec::new(),
            looked_up: false,
        }
    }

    fn footprint(d: &DatabaseSpec, _mean_work: f64) -> Footprint {
        let instances = 1.0 + f64::from(d.replicas);
        // The cheapest query's mean bounds what it can serve.
        let cheapest = d
            .costs
            .iter()
            .map(DistConfig::mean)
            .fold(f64::INFINITY, f64::min);
        let capacity = if cheapest > 0.0 {
            instances * f64::from(d.vcpus) * SEC as f64 / cheapest
        } else {
            f64::INFINITY
        };
        Footprint {
            // Arrival, completion, a pool deadline and a standby acknowledgement; a write is also
            // shipped and applied on every replica (two events each).
            events_per_request: 4.0 + 2.0 * f64::from(d.replicas),
            background_per_s: 0.0,
            capacity_per_s: capacity,
            holds: f64::INFINITY,
            bytes: 65_536.0 + instances * 8192.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_connections_follow_postgres_formula_by_memory() {
        // 16 GiB = 17179869184 B; ÷ 9531392 = 1802.4 → 1802. 1 GiB → 112. 128 GiB → 14420,
        // capped at 5000.
        assert_eq!(default_max_connections(16), 1802);
        assert_eq!(default_max_connections(1), 112);
        assert_eq!(default_max_connections(128), 5000);
    }

    #[test]
    fn a_failure_is_found_by_the_next_check_strictly_after_it() {
        // Checks every 10 s: a failure at 95 s is found at 100 s; one at exactly 100 s at 110 s.
        assert_eq!(next_check(95 * SEC, 10 * SEC), 100 * SEC);
        assert_eq!(next_check(100 * SEC, 10 * SEC), 110 * SEC);
        assert_eq!(next_check(0, 10 * SEC), 10 * SEC);
        // So the downtime is failover_time plus (0, interval].
        for t in [1, 37 * SEC, 99 * SEC + 1] {
            let wait = next_check(t, 10 * SEC) - t;
            assert!(wait > 0 && wait <= 10 * SEC);
        }
        assert_eq!(
            next_check(Time::MAX - 5, 10),
            Time::MAX,
            "saturates, never wraps"
        );
    }

    #[test]
    fn gauges_are_three_for_the_primary_and_four_per_replica() {
        assert_eq!(GAUGES[0].name, "primary_cpu");
        assert_eq!(GAUGES[3].name, "replica1_cpu");
        assert_eq!(GAUGES[6].name, "replica1_lag");
        assert_eq!(GAUGES[7].name, "replica2_cpu");
        assert_eq!(GAUGES[GAUGES.len() - 1].name, "replica15_lag");
        assert!(GAUGES.iter().all(|g| !g.name.is_empty()));
    }
}
