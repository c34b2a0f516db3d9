//! The per-request table: one slot per request *in flight*, reused when it ends.
//!
//! Events carry a [`ReqId`] (slot + generation), never a copy of the request. A slot's generation
//! changes when it is freed, so a late event about a finished request is recognised and dropped.
//! Memory follows what is in flight, never how many requests a run has simulated.

use crate::engine::Time;
use std::fmt;

/// A handle to a request slot. Stale handles (slot since reused) are detected by generation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReqId {
    idx: u32,
    gen: u32,
}

impl ReqId {
    /// A handle no request has (its slot is past any table, so the table never finds it): for
    /// work a component does on its own account through a mechanism that takes request handles
    /// (a replica applying the write stream on its [`super::cpu::Cpu`]).
    pub const NONE: ReqId = ReqId {
        idx: u32::MAX,
        gen: 0,
    };
    /// The slot's index in the table: unique among the requests in flight (a component may key
    /// per-request state of its own by it while the request is live).
    #[inline]
    pub fn slot(self) -> usize {
        self.idx as usize
    }

    /// Packs the handle into 64 bits (for event fingerprints).
    #[inline]
    pub fn bits(self) -> u64 {
        (u64::from(self.gen) << 32) | u64::from(self.idx)
    }
}

impl fmt::Debug for ReqId {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "r{}.{}", self.idx, self.gen)
    }
}

/// How a request ended. The cause of every failure is kept, so charts can split errors by cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Outcome {
    /// Answered successfully.
    Ok = 0,
    /// The client gave up waiting.
    Timeout,
    /// The connection was refused: backlog full, or nothing listening (server down).
    Refused,
    /// The server crashed (or was stopped) while holding the request: connection reset.
    Crashed,
    /// The name could not be resolved (DNS).
    DnsFailure,
    /// 503: no healthy target behind a balancer, or a balancer over its own capacity.
    Unavailable,
    /// 429: rejected by a rate limiter.
    Throttled,
    /// A 5xx answered by a dependency (a failed downstream call).
    Error,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Ok,
        Outcome::Timeout,
        Outcome::Refused,
        Outcome::Crashed,
        Outcome::DnsFailure,
        Outcome::Unavailable,
        Outcome::Throttled,
        Outcome::Error,
    ];
    /// Number of outcomes.
    pub const COUNT: usize = 8;

    /// The stable name used in results.json, CSV headers and charts.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Timeout => "timeout",
            Outcome::Refused => "refused",
            Outcome::Crashed => "crashed",
            Outcome::DnsFailure => "dns_failure",
            Outcome::Unavailable => "unavailable",
            Outcome::Throttled => "throttled",
            Outcome::Error => "error",
        }
    }

    /// The share of `outcomes` (counts by [`Outcome::index`]) that failed — everything not
    /// `Ok` — or 0 when none ended.
    pub fn failed_share(outcomes: &[u64; Outcome::COUNT]) -> f64 {
        let total: u64 = outcomes.iter().sum();
        if total == 0 {
            0.0
        } else {
            (total - outcomes[Outcome::Ok.index()]) as f64 / total as f64
        }
    }

    /// The outcome in words, for tables and verdicts: "timed out", "unavailable (503)".
    pub fn words(self) -> &'static str {
        match self {
            Outcome::Ok => "served",
            Outcome::Timeout => "timed out",
            Outcome::Refused => "refused",
            Outcome::Crashed => "reset by a crash",
            Outcome::DnsFailure => "DNS failure",
            Outcome::Unavailable => "unavailable (503)",
            Outcome::Throttled => "rate-limited (429)",
            Outcome::Error => "failed downstream (5xx)",
        }
    }

    /// Index into per-outcome arrays.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where a request is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqState {
    /// Sent; the client is waiting for the answer.
    Pending,
    /// The client stopped waiting (timed out); the slot lives until the answer comes back.
    Abandoned,
    /// Waiting for a retry's backoff to pass; not yet sent.
    Backoff,
}

/// A request's [`Request::key`]: population `population` (0 the users, 1 + i bot i), client
/// `client` within it (24 bits: 16.7 million clients per population).
#[inline]
pub fn client_key(population: u8, client: u32) -> u32 {
    (u32::from(population) << 24) | (client & 0x00ff_ffff)
}

/// The population of a [`Request::key`].
#[inline]
pub fn population_of(key: u32) -> u8 {
    (key >> 24) as u8
}

/// A message of a queue, as a delivery to a consumer names it: its slot, the slot's generation
/// (which message) and the receive it was handed out by (its receipt).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageRef {
    /// Slot in the queue's message table.
    pub slot: u32,
    /// The slot's generation when it was received.
    pub gen: u32,
    /// The message's receive stamp when it was received.
    pub stamp: u32,
}

/// The most hops a request can be forwarded through before it is answered.
pub const MAX_HOPS: usize = 8;

/// One request attempt.
#[derive(Clone, Debug)]
pub struct Request {
    gen: u32,
    /// Index of the request class in the workload mix.
    pub class: u16,
    /// 1 for the first try, 2 for the first retry (or refresh), ...
    pub attempt: u8,
    /// How many of the earlier attempts an impatient user abandoned by refreshing the page.
    pub refreshes: u8,
    /// Life-cycle state, from the client's point of view.
    pub state: ReqState,
    /// Owning user (closed loop), or `u32::MAX` for open-loop arrivals.
    pub user: u32,
    /// Who is asking, as a rate limiter keys it: the population in the top 8 bits (0 the users,
    /// 1 + i the i-th bot) and the client within it below (a user's index, or one of a bot's
    /// `keys` — its IP addresses or API keys). See [`client_key`].
    pub key: u32,
    /// The item it asks for (a product's index in a cache's catalog, 0 the most popular), set by
    /// the first cache that samples one; 0 until then. Calls inherit it.
    pub item: u32,
    /// Set by whichever component ends the request.
    pub outcome: Outcome,
    /// When the user's first try was sent (end-to-end latency includes retries).
    pub first_sent: Time,
    /// When this attempt was sent.
    pub sent: Time,
    /// Work multiplier of the request's class (a "buy" may cost more CPU than a "browse").
    pub work: f64,
    /// True once a balancer has terminated TLS, so servers skip the handshake work.
    pub tls_terminated: bool,
    /// For a fan-out call: the request it was made for (the parent waits for its calls).
    pub parent: Option<ReqId>,
    /// The user's region (an index into [`super::region::REGIONS`]); 0 without regions.
    pub region: u8,
    /// Made by a component for its own purposes (a queue's receive or delivery, a topic's
    /// delivery), not a user's: it has no outcome to count.
    pub internal: bool,
    /// A queue's receive (long poll) asking for up to this many messages; 0: not a receive.
    pub poll: u8,
    /// The queue message a delivery carries ([`crate::model::queue`]); unused otherwise.
    pub message: MessageRef,
    /// The sampled trace this request belongs to ([`super::span`]), 0 if none. Retries and
    /// calls inherit it.
    pub trace: u32,
    route: [(u32, u32); MAX_HOPS],
    hops: u8,
    live: bool,
}

impl Request {
    /// Pushes `component` as the hop to answer to, with a word of its own to get back with the
    /// answer (a balancer keeps the chosen target there). Returns false if the route is full.
    #[inline]
    pub fn push_hop(&mut self, component: u32, data: u32) -> bool {
        if (self.hops as usize) < MAX_HOPS {
            self.route[self.hops as usize] = (component, data);
            self.hops += 1;
            true
        } else {
            false
        }
    }

    /// The hop the answer goes to next (the last one pushed).
    #[inline]
    pub fn top(&self) -> Option<u32> {
        self.hops.checked_sub(1).map(|i| self.route[i as usize].0)
    }

    /// The word the top hop stored with its entry.
    #[inline]
    pub fn top_data(&self) -> Option<u32> {
        self.hops.checked_sub(1).map(|i| self.route[i as usize].1)
    }

    /// The word the first hop stored (the one the answer reaches last): for a fan-out call, its
    /// caller's, however many hops (a balancer, a gateway) are stacked above it while it is out.
    #[inline]
    pub fn bottom_data(&self) -> Option<u32> {
        (self.hops > 0).then_some(self.route[0].1)
    }

    /// Pops the hop (done by the hop itself when the answer reaches it): `(component, data)`.
    #[inline]
    pub fn pop_hop(&mut self) -> Option<(u32, u32)> {
        if self.hops == 0 {
            None
        } else {
            self.hops -= 1;
            Some(self.route[self.hops as usize])
        }
    }

    /// Number of hops on the return path.
    pub fn depth(&self) -> usize {
        self.hops as usize
    }
}

/// The table of requests in flight.
#[derive(Default)]
pub struct RequestTable {
    slots: Vec<Request>,
    free: Vec<u32>,
    live: usize,
    peak: usize,
}

impl RequestTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allocates a slot for a new attempt. Reuses freed slots; grows only past the peak in flight.
    #[inline]
    pub fn alloc(&mut self, class: u16, user: u32, now: Time, work: f64) -> ReqId {
        self.live += 1;
        self.peak = self.peak.max(self.live);
        if let Some(idx) = self.free.pop() {
            let r = &mut self.slots[idx as usize];
            r.class = class;
            r.attempt = 1;
            r.refreshes = 0;
            r.state = ReqState::Pending;
            r.user = user;
            r.key = 0;
            r.item = 0;
            r.outcome = Outcome::Ok;
            r.first_sent = now;
            r.sent = now;
            r.work = work;
            r.tls_terminated = false;
            r.parent = None;
            r.region = 0;
            r.internal = false;
            r.poll = 0;
            r.message = MessageRef::default();
            r.trace = 0;
            r.hops = 0;
            r.live = true;
            ReqId { idx, gen: r.gen }
        } else {
            let idx =
                u32::try_from(self.slots.len()).expect("more than 4 billion requests in flight");
            self.slots.push(Request {
                gen: 0,
                class,
                attempt: 1,
                refreshes: 0,
                state: ReqState::Pending,
                user,
                key: 0,
                item: 0,
                outcome: Outcome::Ok,
                first_sent: now,
                sent: now,
                work,
                tls_terminated: false,
                parent: None,
                region: 0,
                internal: false,
                poll: 0,
                message: MessageRef::default(),
                trace: 0,
                route: [(0, 0); MAX_HOPS],
                hops: 0,
                live: true,
            });
            ReqId { idx, gen: 0 }
        }
    }

    /// Frees a slot. Later handles to it become stale.
    #[inline]
    pub fn free(&mut self, id: ReqId) {
        let r = &mut self.slots[id.idx as usize];
        debug_assert_eq!(r.gen, id.gen, "double free of {id:?}");
        r.gen = r.gen.wrapping_add(1);
        r.live = false;
        self.live -= 1;
        self.free.push(id.idx);
    }

    /// The request behind a live handle, or `None` if the handle is stale.
    #[inline]
    pub fn get(&self, id: ReqId) -> Option<&Request> {
        let r = self.slots.get(id.idx as usize)?;
        (r.gen == id.gen).then_some(r)
    }

    /// Mutable access to a live request.
    #[inline]
    pub fn get_mut(&mut self, id: ReqId) -> Option<&mut Request> {
        let r = self.slots.get_mut(id.idx as usize)?;
        (r.gen == id.gen).then_some(r)
    }

    /// Live slots matching `pred` (a scan of the table: for end-of-run checks, not hot paths).
    pub fn count(&self, pred: impl Fn(&Request) -> bool) -> usize {
        self.slots.iter().filter(|r| r.live && pred(r)).count()
    }

    /// Requests currently in flight.
    pub fn live(&self) -> usize {
        self.live
    }

    /// The most requests ever in flight at once (the table's size).
    pub fn peak(&self) -> usize {
        self.peak
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused_and_stale_handles_detected() {
        let mut t = RequestTable::new();
        let a = t.alloc(0, 1, 10, 1.0);
        let b = t.alloc(1, 2, 20, 1.0);
        assert_eq!(t.live(), 2);
        t.free(a);
        assert!(t.get(a).is_none());
        let c = t.alloc(2, 3, 30, 1.0);
        assert!(t.get(a).is_none(), "a's slot was reused by c");
        assert_eq!(t.get(c).unwrap().class, 2);
        assert_eq!(t.get(b).unwrap().user, 2);
        assert_eq!(t.peak(), 2);
    }

    #[test]
    fn return_route_is_a_stack() {
        let mut t = RequestTable::new();
        let a = t.alloc(0, 0, 0, 1.0);
        let r = t.get_mut(a).unwrap();
        assert!(r.push_hop(7, 1));
        assert!(r.push_hop(9, 2));
        assert_eq!(r.top(), Some(9));
        assert_eq!(r.pop_hop(), Some((9, 2)));
        assert_eq!(r.pop_hop(), Some((7, 1)));
        assert_eq!(r.pop_hop(), None);
        assert_eq!(r.top(), None);
        for i in 0..MAX_HOPS as u32 {
            assert!(r.push_hop(i, 0));
        }
        assert!(!r.push_hop(99, 0), "overflow is reported, not a panic");
    }
}
