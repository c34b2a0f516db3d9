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

pub mod catalog;
pub mod client;
pub mod dist;
pub mod dns;
pub mod faults;
pub mod fleet;
pub mod load_balancer;
pub mod network;
pub mod probe;
pub mod registry;
pub mod request;
pub mod server;
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
}

/// A timer a component set for itself. The payload's meaning is the component's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Timer {
    /// A user finished thinking (payload: user index).
    UserWake(u32),
    /// The next open-loop arrival of a stream (payload: stream index).
    Arrival(u32),
    /// The client's timeout for an attempt.
    ClientTimeout(ReqId),
    /// A retry's backoff has passed: send it.
    RetrySend(ReqId),
    /// Re-evaluate the load curve (users active, arrival rates).
    LoadTick,
    /// A service completion is due (payload: the server's schedule epoch, to drop stale timers,
    /// and the job's slot).
    ServiceDone(u32, u32),
    /// The component comes back up (payload: epoch of the outage it ends).
    Restart(u32),
    /// A scheduled vertical resize starts (payload: index into the resize list).
    Resize(u32),
    /// A fault on the timeline fires (payload: fault index).
    Fault(u32),
    /// An instance finished booting (payload: launch epoch).
    BootDone(u32),
    /// Time for a periodic check (health checks, scaling evaluation; payload is the component's).
    Tick(u32),
    /// A probe or lookup was not answered in time.
    ProbeTimeout(ReqId),
    /// A DNS resolution finished for a resolver (payload: resolver index).
    Resolved(u32),
}

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
            Msg::Timer(t) => (
                3,
                match t {
                    Timer::UserWake(x)
                    | Timer::Arrival(x)
                    | Timer::Resize(x)
                    | Timer::Fault(x)
                    | Timer::Tick(x)
                    | Timer::Resolved(x) => u64::from(x),
                    Timer::ClientTimeout(r) | Timer::RetrySend(r) | Timer::ProbeTimeout(r) => {
                        r.bits() ^ 0x55
                    }
                    Timer::LoadTick => 7,
                    Timer::ServiceDone(e, slot) => (u64::from(e) << 32) | u64::from(slot),
                    Timer::Restart(e) | Timer::BootDone(e) => u64::from(e),
                },
            ),
            Msg::Control(_) => (4, 0),
        };
        (u64::from(self.to) << 40) ^ (tag << 36) ^ payload.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

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
        self.sched.after(delay, Event { to, msg });
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

    /// Answers request `id` to the hop on top of its route, over the network (that hop pops its
    /// own entry when the answer reaches it). Returns false if the route was empty (nobody to
    /// answer: the request is freed).
    #[inline(always)]
    pub fn respond(&mut self, id: ReqId, rng: &mut crate::engine::RngStream) -> bool {
        let hop = self.reqs.get(id).and_then(|r| r.top());
        match hop {
            Some(to) => {
                let d = self.hop_delay(to, rng);
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
