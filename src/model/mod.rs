//! The modeled things: one file each, every one a config, its state and one message handler.
//!
//! Components never call each other: they send [`Msg`]s through the engine, addressed by component
//! index, with a network delay where the hop crosses a wire. Per-request state lives in the
//! [`request::RequestTable`]; events carry [`request::ReqId`]s, not copies.
//!
//! ```text
//!   users ──(client link: rtt/2)──▶ entry component ──▶ ... ──▶ server
//!     ▲                                                          │
//!     └──────────── Response (popped off the request's route) ◀──┘
//! ```

pub mod api_gateway;
pub mod breaker;
pub mod cache;
pub mod catalog;
pub mod cdn;
pub mod client;
pub mod cpu;
pub mod database;
pub mod dist;
pub mod dns;
pub mod external;
pub mod fanout;
pub mod faults;
pub mod fleet;
pub mod job;
pub mod kinds;
pub mod kit;
pub mod limiter;
pub mod load_balancer;
pub mod meter;
pub mod min_tree;
pub mod network;
pub mod probe;
pub mod queue;
pub mod rate_limiter;
pub mod region;
pub mod registry;
pub mod request;
pub mod retry_budget;
pub mod server;
pub mod span;
pub mod topic;
pub mod trace;
pub mod worker_pool;
pub mod world;

use crate::engine::{Fingerprint, Scheduler, Time};
use crate::metrics::Metrics;
use network::Network;
use request::{ReqId, RequestTable};

/// Index of a component in the world.
pub type CompId = u32;

/// A control verb sent to a component (by the fault injector or a schedule).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Control {
    /// Crash now: in-flight requests are reset; restart after the component's restart delay.
    Crash,
    /// Crash and stay down until `Recover`.
    Stop,
    /// Accept connections but never answer (the case health checks exist for).
    Hang,
    /// Run `factor` times slower (factor in thousandths: 3000 = 3× slower).
    Slow(u32),
    /// Back to normal: undo `Hang`, `Slow` or `Stop`.
    Recover,
    /// Start an instance (an autoscaling group launches it): boot, then serve.
    Launch,
    /// Start an instance that is already booted (a group's capacity when the run begins).
    LaunchBooted,
    /// Terminate an instance: anything still held is reset; billing stops.
    Terminate,
    /// The authoritative DNS service goes down (lookups that miss every cache fail).
    DnsOutage,
    /// A cache forgets every item (`FLUSHALL`).
    Flush,
    /// A cache drops its this many most popular items: hot keys expiring.
    Expire(u32),
    /// A verb for one instance inside a component that holds several (a database's replica
    /// `db.replica2`: index 2; the primary is 0).
    Part(u16, PartVerb),
    /// The component's location in region (index) goes out (a CDN's edge).
    RegionDown(u8),
    /// The component's location in region (index) is back.
    RegionUp(u8),
}

/// What a [`Control::Part`] does to the instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartVerb {
    /// It fails and stays down until recovered.
    Crash,
    /// Back in service.
    Recover,
}

/// Which of its owner's timers a [`Timer`] is. Each kind file declares its own codes as
/// constants; two kinds may use the same number, since a timer only ever goes back to the component
/// that set it. Shared mechanisms (probes, fan-out calls) use codes from 200 up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code(pub u8);

/// A timer a component set for itself: one of four payload shapes and the owner's [`Code`].
/// Adding a kind adds codes, never shapes, so the event stays 16 bytes (checked below).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Timer {
    /// No payload (the client's load-curve tick).
    Bare(Code),
    /// One 32-bit word: an index, an epoch or a tag.
    Word(Code, u32),
    /// Two 32-bit words (a server's completion: schedule epoch and job slot).
    Pair(Code, u32, u32),
    /// A request: its timeout, its retry, a probe's or a call's deadline.
    Req(Code, ReqId),
}

/// Probe deadline codes: shared by every kind that sends health probes ([`probe`]).
pub const PROBE_TIMEOUT: Code = Code(200);
/// A fan-out call's deadline ([`fanout`]).
pub const CALL_TIMEOUT: Code = Code(201);

/// A message delivered to a component.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Msg {
    /// A request arrives.
    Request(ReqId),
    /// The answer to a request this component sent or forwarded (success or failure: see its outcome).
    Response(ReqId),
    /// A timer this component set fired.
    Timer(Timer),
    /// A control verb.
    Control(Control),
}

/// An event: a message for a component.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// Addressee.
    pub to: CompId,
    /// What it is told.
    pub msg: Msg,
}

impl Fingerprint for Event {
    #[inline]
    fn fingerprint(&self) -> u64 {
        let (tag, payload): (u64, u64) = match self.msg {
            Msg::Request(r) => (1, r.bits()),
            Msg::Response(r) => (2, r.bits()),
            // A timer's code is not hashed (the addressee and the time tell timers apart), so the
            // stream hash of a run does not depend on how kinds number their timers.
            Msg::Timer(t) => (
                3,
                match t {
                    Timer::Bare(_) => 7,
                    Timer::Word(_, x) => u64::from(x),
                    Timer::Pair(_, a, b) => (u64::from(a) << 32) | u64::from(b),
                    Timer::Req(_, r) => r.bits() ^ 0x55,
                },
            ),
            Msg::Control(_) => (4, 0),
        };
        (u64::from(self.to) << 40) ^ (tag << 36) ^ payload.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

// The vocabulary stays small: an event is 16 bytes (heap entries 32), whatever kinds exist.
const _: () = assert!(std::mem::size_of::<Event>() == 16);
const _: () = assert!(std::mem::size_of::<Msg>() == 12);

/// Which side of the network a component sits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Zone {
    /// The users, across the internet.
    Users,
    /// Inside the data centre.
    Internal,
}

/// What a component sees of the world while it handles a message.
pub struct Ctx<'a> {
    /// The pending-event set and clock.
    pub sched: &'a mut Scheduler<Event>,
    /// Requests in flight.
    pub reqs: &'a mut RequestTable,
    /// Streaming metrics.
    pub metrics: &'a mut Metrics,
    /// Link latencies.
    pub net: &'a Network,
    /// Zone of every component, by index.
    pub zones: &'a [Zone],
    /// The component handling the message.
    pub me: CompId,
    /// The shared control plane (target groups, instance status, metrics, injected link delays).
    pub registry: &'a mut registry::Registry,
}

impl Ctx<'_> {
    /// Current simulated time.
    #[inline]
    pub fn now(&self) -> Time {
        self.sched.now()
    }

    /// Sends `msg` to `to`, arriving after `delay`.
    #[inline]
    pub fn send(&mut self, to: CompId, msg: Msg, delay: Time) {
        if let Some(t) = self.metrics.tracer.as_deref_mut() {
            t.on_send(self.reqs, self.me, to, msg, self.sched.now(), delay);
        }
        self.sched.after(delay, Event { to, msg });
    }

    /// Request `id`'s job starts on this component's CPU now (for sampled request spans,
    /// [`span`]): one predictable branch while tracing is off.
    #[inline(always)]
    pub fn trace_start(&mut self, id: ReqId) {
        if let Some(t) = self.metrics.tracer.as_deref_mut() {
            t.on_start(self.reqs, self.me, id, self.sched.now());
        }
    }

    /// Sets a timer for this component, `delay` from now.
    #[inline]
    pub fn timer(&mut self, delay: Time, t: Timer) {
        let me = self.me;
        self.sched.after(
            delay,
            Event {
                to: me,
                msg: Msg::Timer(t),
            },
        );
    }

    /// Sets a timer for this component at absolute time `at`.
    #[inline]
    pub fn timer_at(&mut self, at: Time, t: Timer) {
        let me = self.me;
        self.sched.at(
            at,
            Event {
                to: me,
                msg: Msg::Timer(t),
            },
        );
    }

    /// The one-way network delay from this component to `to`, drawn from `rng`.
    #[inline(always)]
    pub fn hop_delay(&self, to: CompId, rng: &mut crate::engine::RngStream) -> Time {
        let crosses = self.zones[self.me as usize] != self.zones[to as usize];
        self.net.one_way(crosses, rng) + self.registry.extra_delay(to)
    }

    /// The one-way delay of request `id`'s hop from this component to `to`; `answer`: the hop
    /// carries its answer (which, to the users, takes its size over the last mile). Without
    /// regions exactly [`Ctx::hop_delay`]: one predictable branch.
    #[inline(always)]
    pub fn hop_delay_for(
        &self,
        to: CompId,
        id: ReqId,
        answer: bool,
        rng: &mut crate::engine::RngStream,
    ) -> Time {
        match &self.net.regions {
            None => self.hop_delay(to, rng),
            Some(rg) => self.regional_delay(rg, to, id, answer, rng),
        }
    }

    /// The region component `c` is in for a request of a user in `user`'s region.
    #[inline]
    pub fn region_of(&self, rg: &region::Regions, c: CompId, user: u8) -> u8 {
        if c == world::CLIENT {
            return user;
        }
        match rg.comp.get(c as usize) {
            Some(&region::ANYCAST) => self.registry.anycast_of(c, user, rg.spec.home),
            Some(&region::VIEWER) => user,
            Some(&r) => r,
            None => rg.spec.home,
        }
    }

    /// The hop with regions (see [`region`]): the last mile plus RTT(user, component) / 2 between
    /// the users and a component, RTT / 2 between components in two regions, `internal_rtt` / 2
    /// within one; a latency fault on the user's region, and the answer's transfer time.
    #[cold]
    #[inline(never)]
    fn regional_delay(
        &self,
        rg: &region::Regions,
        to: CompId,
        id: ReqId,
        answer: bool,
        rng: &mut crate::engine::RngStream,
    ) -> Time {
        let (user, class) = self
            .reqs
            .get(id)
            .map_or((rg.spec.home, 0), |r| (r.region, r.class));
        let a = self.region_of(rg, self.me, user);
        let b = self.region_of(rg, to, user);
        let crosses = self.zones[self.me as usize] != self.zones[to as usize];
        let mean = if crosses {
            self.net.last_mile() + rg.one_way(a, b)
        } else if a != b {
            rg.one_way(a, b)
        } else {
            self.net.internal()
        };
        let mut d = self.net.jittered(mean, rng) + self.registry.extra_delay(to);
        if self.me == world::CLIENT || to == world::CLIENT {
            d += self
                .registry
                .region_delay
                .get(user as usize)
                .copied()
                .unwrap_or(0);
            if answer && to == world::CLIENT {
                d = d.saturating_add(rg.transfer.get(class as usize).copied().unwrap_or(0));
            }
        }
        d
    }

    /// Answers request `id` to the hop on top of its route, over the network (that hop pops its
    /// own entry when the answer reaches it). Returns false if the route was empty (nobody to
    /// answer: the request is freed).
    #[inline(always)]
    pub fn respond(&mut self, id: ReqId, rng: &mut crate::engine::RngStream) -> bool {
        let hop = self.reqs.get(id).and_then(|r| r.top());
        match hop {
            Some(to) => {
                let d = self.hop_delay_for(to, id, true, rng);
                self.send(to, Msg::Response(id), d);
                true
            }
            None => {
                self.reqs.free(id);
                false
            }
        }
    }
}
