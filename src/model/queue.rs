//! A message queue with SQS standard semantics (docs/semantics.md §6): producers send, consumers
//! receive, process and delete. A send is "enqueue and answer": the producer's call is answered
//! 200 once the message is stored, whatever happens to it later.
//!
//! ```text
//!   producer ──send──▶ queue ──(delay)──▶ visible ──receive──▶ in flight (invisible, receives+1)
//!                                            ▲                     │ delete (processed)
//!                                            └── visibility timeout ┤
//!                        receives ≥ max_receive_count at the timeout └──▶ dead_letter queue
//!   every message still held `retention` after its send is deleted (expired)
//! ```
//!
//! Messages are not requests: each lives in a compact table (slot + generation, like the request
//! table), reused when it leaves, so memory follows what is in the queue. A consumer (a
//! [`super::worker_pool`]) long-polls with a receive request (`Request::poll` = how many it
//! wants); each message handed out travels to it as a *delivery*, a request of its own naming the
//! message ([`MessageRef`]), answered back when processing is done: `Ok` deletes the message, a
//! failure leaves it to its visibility timeout. A delivery that comes back after the message was
//! handed out again (its receipt is stale) still deletes it if it is there; a message handed out
//! while an earlier delivery of it is still being processed is a *duplicate* (at-least-once
//! delivery), counted, never merged away.
//!
//! Conservation, per queue, checked at every window's end in debug builds and tests:
//! `sent = processed + dead_lettered + expired + delayed + visible + in flight`.

use super::dist::{Dist, DistConfig};
use super::kit::{
    parse_table, BalancerTarget, Behaviour, Card, DescribeCtx, Description, Figure, Footprint,
    GaugeDecl, GaugeUnit, Kind, ParseError, Route, RouteRole, Section, Shape, Wiring,
};
use super::request::{MessageRef, Outcome, ReqId};
use super::Code;
use super::{CompId, Ctx, Msg, Timer, Zone};
use crate::engine::time::{human, Time, MS, SEC};
use crate::engine::RngStream;
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;
use crate::scenario::validate::{at_key, Checker};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// A delayed message becomes visible, or an in-flight message's visibility timeout ends
/// (payload: slot, stamp).
const VISIBLE: Code = Code(0);
/// The oldest message's retention may have ended.
const EXPIRE: Code = Code(1);
/// A long poll's wait ended (payload: the receive request).
const POLL_END: Code = Code(2);

/// Route word of a message this queue moves to its dead-letter queue.
const MOVE: u32 = 1;
/// Route word of a delivery to a consumer.
const DELIVERY: u32 = 2;

/// Default visibility timeout: 30 s (docs/semantics.md §6).
pub const DEFAULT_VISIBILITY: Time = 30 * SEC;
/// Default retention: 4 days (§6).
pub const DEFAULT_RETENTION: Time = 345_600 * SEC;
/// Default latency of a send or receive call: 10 ms (a model figure; §6).
pub const DEFAULT_LATENCY: Time = 10 * MS;
/// Most messages in flight at once, standard queue: 120,000 (§6). Receives beyond get nothing.
pub const MAX_IN_FLIGHT: u64 = 120_000;
/// Longest visibility timeout: 12 h (§6).
pub const MAX_VISIBILITY: Time = 43_200 * SEC;
/// Retention range: 60 s to 14 days (§6).
pub const RETENTION_RANGE: (Time, Time) = (60 * SEC, 14 * 86_400 * SEC);
/// Longest delay: 15 minutes (§6).
pub const MAX_DELAY: Time = 900 * SEC;

const NONE: u32 = u32::MAX;

/// `[components.NAME] kind = "queue"` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// How long a received message stays invisible to other consumers; not deleted by then, it
    /// is visible again (and may be received twice). 0s to 12h. Default "30s" (SQS's
    /// VisibilityTimeout, docs/semantics.md §6).
    pub visibility_timeout: Option<Duration>,
    /// A message still in the queue this long after its send is deleted (expired: silently
    /// lost). 60s to 14d. Default "4d" (SQS's MessageRetentionPeriod, §6).
    pub retention: Option<Duration>,
    /// Every message becomes visible this long after its send (a delay queue). 0s to 15m.
    /// Default "0s" (SQS's DelaySeconds, §6).
    pub delay: Option<Duration>,
    /// The queue (another `kind = "queue"`) messages move to once they were received
    /// `max_receive_count` times without being deleted. Default: none (they are retried until
    /// they expire).
    pub dead_letter: Option<String>,
    /// Receives after which a message not deleted moves to `dead_letter` (SQS's
    /// maxReceiveCount), 1 to 1000. Needs `dead_letter`. Default 10 (a model figure: the SQS
    /// console's suggestion).
    pub max_receive_count: Option<u32>,
    /// Latency of a send as the producer sees it (the time until its answer), e.g.
    /// { dist = "lognormal", mean = "10ms", cv = 0.5 }. Default "10ms" (a model figure, §6).
    pub latency: Option<DistConfig>,
    /// A FIFO queue: messages of one group are received in send order, one at a time (the next
    /// only once the one before is deleted, dead-lettered or expired), and a send repeating one
    /// already accepted within the 5-minute deduplication window is answered but not stored
    /// (SQS FIFO, docs/semantics.md §6). Default false (a standard queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fifo: Option<bool>,
    /// A FIFO queue's message group: "user" (each customer's orders in order, the rest in
    /// parallel), "path" (one group per request class) or "one" (a single group: strict order,
    /// one message at a time). Default user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
}

/// A FIFO queue's message group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// The user (client) whose request made the send.
    User,
    /// The request class.
    Path,
    /// One group for everything.
    One,
}

/// A queue after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSpec {
    /// Visibility timeout.
    pub visibility: Time,
    /// Retention.
    pub retention: Time,
    /// Delay.
    pub delay: Time,
    /// (dead-letter queue, max receive count), if any.
    pub dead_letter: Option<(CompId, u32)>,
    /// Send latency.
    pub latency: DistConfig,
    /// FIFO with its grouping (`None`: a standard queue).
    pub fifo: Option<GroupBy>,
}

/// Where a message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Free,
    Delayed,
    Visible,
    InFlight,
}

/// One message slot.
#[derive(Clone, Copy, Debug)]
struct Slot {
    gen: u32,
    /// Changes at every transition, so stale timers and visible-list entries are recognised.
    stamp: u32,
    state: State,
    receives: u32,
    /// Deliveries of it handed out and not yet answered.
    outstanding: u32,
    class: u16,
    /// Its message group (FIFO).
    group: u32,
    sent: Time,
    /// The send-order list of live messages (for retention and the oldest age).
    prev: u32,
    next: u32,
}

/// Counters of a queue. The conservation counts are since time zero (so they add up); the
/// end-to-end times since the warm-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueStats {
    /// Messages stored (sends, and messages moved here as a dead-letter queue).
    pub sent: u64,
    /// Deleted after a successful processing.
    pub processed: u64,
    /// Moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Deleted by the retention period.
    pub expired: u64,
    /// Messages handed to consumers (every receive of every message).
    pub received: u64,
    /// Receives of a message received before (its visibility timeout had ended).
    pub redeliveries: u64,
    /// Receives of a message while an earlier delivery of it was still being processed.
    pub duplicates: u64,
    /// Processings that failed (the message was left to its visibility timeout).
    pub failed: u64,
    /// Successful processings that came back after the message had left (processed by another
    /// delivery, expired or dead-lettered): work done twice.
    pub late: u64,
    /// Receive requests answered.
    pub polls: u64,
    /// Receive requests answered empty (the long poll's wait ended).
    pub empty_polls: u64,
    /// Sends repeating one accepted within the deduplication window (a producer's retry of the
    /// same order), stored again: a standard queue holds the order twice.
    pub duplicate_sends: u64,
    /// FIFO: sends repeating one accepted within the deduplication window, answered and not
    /// stored (exactly-once within the window).
    pub deduplicated: u64,
}

/// SQS FIFO's deduplication interval: 5 minutes (docs/semantics.md §6).
pub const DEDUP_WINDOW: Time = 300 * SEC;

/// The sends accepted in the last [`DEDUP_WINDOW`], by deduplication id.
#[derive(Debug, Default)]
struct Dedup {
    recent: VecDeque<(Time, u64)>,
    ids: std::collections::BTreeSet<u64>,
}

impl Dedup {
    /// True if `id` was accepted within the window before `now`; otherwise remembers it.
    fn repeated(&mut self, id: u64, now: Time) -> bool {
        while let Some(&(t, old)) = self.recent.front() {
            if t.saturating_add(DEDUP_WINDOW) > now {
                break;
            }
            self.recent.pop_front();
            self.ids.remove(&old);
        }
        if self.ids.contains(&id) {
            return true;
        }
        self.ids.insert(id);
        self.recent.push_back((now, id));
        false
    }
}

/// A FIFO queue's groups: each group's live messages in send order, and whether its first is in
/// flight (then no other message of the group may be received).
#[derive(Debug, Default)]
struct Groups {
    queues: std::collections::BTreeMap<u32, VecDeque<u32>>,
    locked: std::collections::BTreeSet<u32>,
}

/// A queue component.
pub struct Queue {
    name: String,
    spec: QueueSpec,
    rng: RngStream,
    latency: Dist,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Visible messages in the order they became visible: (slot, stamp).
    visible: VecDeque<(u32, u32)>,
    /// Receive requests waiting (long polls), oldest first.
    waiting: VecDeque<ReqId>,
    /// Oldest and newest live message.
    head: u32,
    tail: u32,
    expire_armed: bool,
    n_delayed: u64,
    n_visible: u64,
    n_in_flight: u64,
    stats: QueueStats,
    /// Send → successful processing, since the warm-up, in microseconds.
    e2e: hdrhistogram::Histogram<u64>,
    dedup: Dedup,
    /// FIFO only: `visible` then holds only groups' first messages, ready to be received.
    groups: Groups,
}

impl Queue {
    fn live(&self) -> u64 {
        self.n_delayed + self.n_visible + self.n_in_flight
    }

    fn unlink(&mut self, s: u32) {
        let Slot { prev, next, .. } = self.slots[s as usize];
        if prev == NONE {
            self.head = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NONE {
            self.tail = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
    }

    /// Frees a message's slot (it left the queue).
    fn release(&mut self, s: u32) {
        self.unlink(s);
        if self.spec.fifo.is_some() {
            self.leave_group(s);
        }
        let m = &mut self.slots[s as usize];
        match m.state {
            State::Delayed => self.n_delayed -= 1,
            State::Visible => self.n_visible -= 1,
            State::InFlight => self.n_in_flight -= 1,
            State::Free => unreachable!("freeing a free message slot"),
        }
        m.state = State::Free;
        m.gen = m.gen.wrapping_add(1);
        m.stamp = m.stamp.wrapping_add(1);
        self.free.push(s);
    }

    /// FIFO: message `s` leaves its group; the group's next message, if visible, is ready.
    fn leave_group(&mut self, s: u32) {
        let m = self.slots[s as usize];
        let g = m.group;
        let Some(q) = self.groups.queues.get_mut(&g) else {
            return;
        };
        let was_first = q.front() == Some(&s);
        if let Some(i) = q.iter().position(|&x| x == s) {
            q.remove(i);
        }
        if m.state == State::InFlight {
            self.groups.locked.remove(&g);
        }
        let next = q.front().copied();
        if q.is_empty() {
            self.groups.queues.remove(&g);
        }
        if was_first {
            self.ready_first(g, next);
        }
    }

    /// FIFO: if group `g`'s first message `first` is visible and the group has nothing in
    /// flight, it is next for a receive.
    fn ready_first(&mut self, g: u32, first: Option<u32>) {
        if let Some(f) = first {
            let n = &self.slots[f as usize];
            if n.state == State::Visible && !self.groups.locked.contains(&g) {
                self.visible.push_back((f, n.stamp));
            }
        }
    }

    /// The send's deduplication id (who asked, for which click: the user's first try's time and
    /// class, through any calls) and its FIFO group; no id for a component's own sends.
    fn identity(&self, id: ReqId, ctx: &Ctx) -> (Option<u64>, u32) {
        let Some(mut r) = ctx.reqs.get(id) else {
            return (None, 0);
        };
        let internal = r.internal;
        for _ in 0..crate::model::request::MAX_HOPS {
            match r.parent.and_then(|p| ctx.reqs.get(p)) {
                Some(p) => r = p,
                None => break,
            }
        }
        let group = match self.spec.fifo {
            Some(GroupBy::User) => r.key ^ r.user.rotate_left(7),
            Some(GroupBy::Path) => u32::from(r.class),
            _ => 0,
        };
        if internal {
            return (None, group);
        }
        let mut h = crate::engine::rng::mix64(u64::from(r.user) << 32 | u64::from(r.key));
        h = crate::engine::rng::mix64(h ^ r.first_sent);
        h = crate::engine::rng::mix64(h ^ u64::from(r.class));
        (Some(h), group)
    }

    /// Stores a new message of `class` in `group`.
    fn store(&mut self, class: u16, group: u32, ctx: &mut Ctx) {
        let now = ctx.now();
        let s = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    gen: 0,
                    stamp: 0,
                    state: State::Free,
                    receives: 0,
                    outstanding: 0,
                    class: 0,
                    group: 0,
                    sent: 0,
                    prev: NONE,
                    next: NONE,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let tail = self.tail;
        let m = &mut self.slots[s as usize];
        m.stamp = m.stamp.wrapping_add(1);
        m.receives = 0;
        m.outstanding = 0;
        m.class = class;
        m.group = group;
        m.sent = now;
        m.prev = tail;
        m.next = NONE;
        let stamp = m.stamp;
        if tail == NONE {
            self.head = s;
        } else {
            self.slots[tail as usize].next = s;
        }
        self.tail = s;
        self.stats.sent += 1;
        if self.spec.fifo.is_some() {
            self.groups.queues.entry(group).or_default().push_back(s);
        }
        if self.spec.delay > 0 {
            self.slots[s as usize].state = State::Delayed;
            self.n_delayed += 1;
            ctx.timer(self.spec.delay, Timer::Pair(VISIBLE, s, stamp));
        } else {
            self.slots[s as usize].state = State::InFlight; // made visible below
            self.n_in_flight += 1;
            self.make_visible(s, ctx);
        }
        if !self.expire_armed {
            self.expire_armed = true;
            let at = self.slots[self.head as usize]
                .sent
                .saturating_add(self.spec.retention);
            ctx.timer_at(at, Timer::Bare(EXPIRE));
        }
    }

    /// A delayed or in-flight message becomes visible (or, received its last time, moves to
    /// the dead-letter queue); then waiting receives are served.
    fn make_visible(&mut self, s: u32, ctx: &mut Ctx) {
        let m = self.slots[s as usize];
        if let Some((dlq, max)) = self.spec.dead_letter {
            if m.state == State::InFlight && m.receives >= max {
                self.stats.dead_lettered += 1;
                self.release(s);
                self.move_to(dlq, m.class, ctx);
                if self.spec.fifo.is_some() {
                    self.serve(ctx);
                }
                return;
            }
        }
        match m.state {
            State::Delayed => self.n_delayed -= 1,
            State::InFlight => self.n_in_flight -= 1,
            _ => return,
        }
        self.n_visible += 1;
        let slot = &mut self.slots[s as usize];
        let was_in_flight = slot.state == State::InFlight;
        slot.state = State::Visible;
        slot.stamp = slot.stamp.wrapping_add(1);
        let (stamp, g) = (slot.stamp, slot.group);
        if self.spec.fifo.is_some() {
            // Only a group's first message can be received, and only once nothing of the group
            // is in flight (the first itself, whose visibility timeout just ended).
            if was_in_flight {
                self.groups.locked.remove(&g);
            }
            let first = self.groups.queues.get(&g).and_then(|q| q.front().copied());
            if first == Some(s) && !self.groups.locked.contains(&g) {
                self.visible.push_back((s, stamp));
            }
        } else {
            self.visible.push_back((s, stamp));
        }
        self.serve(ctx);
    }

    /// Sends a message to the dead-letter queue (a request it answers at once).
    fn move_to(&mut self, dlq: CompId, class: u16, ctx: &mut Ctx) {
        let now = ctx.now();
        let id = ctx.reqs.alloc(class, u32::MAX, now, 1.0);
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.internal = true;
            r.push_hop(ctx.me, MOVE);
        }
        let d = ctx.hop_delay(dlq, &mut self.rng);
        ctx.send(dlq, Msg::Request(id), d);
    }

    /// The next visible message, if any (skipping entries made stale by expiry).
    fn pop_visible(&mut self) -> Option<u32> {
        while let Some((s, stamp)) = self.visible.pop_front() {
            let m = &self.slots[s as usize];
            if m.stamp == stamp && m.state == State::Visible {
                return Some(s);
            }
        }
        None
    }

    /// Answers waiting receives while messages are visible (FIFO: while groups are ready).
    fn serve(&mut self, ctx: &mut Ctx) {
        while self.n_visible > 0 && self.n_in_flight < MAX_IN_FLIGHT {
            if self.spec.fifo.is_some() && self.visible.is_empty() {
                return;
            }
            let Some(r) = self.waiting.pop_front() else {
                return;
            };
            let want = match ctx.reqs.get(r) {
                Some(q) if q.poll > 0 => q.poll,
                _ => continue, // answered (its wait ended) or gone
            };
            self.deliver(r, want, ctx);
        }
    }

    /// Hands up to `want` visible messages to the consumer behind receive `r`, then answers `r`
    /// with the depth left (the consumer's view of the backlog).
    fn deliver(&mut self, r: ReqId, want: u8, ctx: &mut Ctx) {
        let now = ctx.now();
        let Some((to, worker)) = ctx.reqs.get(r).map(|q| (q.top(), q.key)) else {
            return;
        };
        let Some(to) = to else { return };
        let d = ctx.hop_delay(to, &mut self.rng);
        let mut n = 0;
        while n < want && self.n_in_flight < MAX_IN_FLIGHT {
            let Some(s) = self.pop_visible() else { break };
            n += 1;
            let vis = self.spec.visibility;
            if self.spec.fifo.is_some() {
                self.groups.locked.insert(self.slots[s as usize].group);
            }
            let m = &mut self.slots[s as usize];
            m.state = State::InFlight;
            m.stamp = m.stamp.wrapping_add(1);
            m.receives += 1;
            if m.receives > 1 {
                self.stats.redeliveries += 1;
            }
            if m.outstanding > 0 {
                self.stats.duplicates += 1;
            }
            m.outstanding += 1;
            let (stamp, gen, class) = (m.stamp, m.gen, m.class);
            self.n_visible -= 1;
            self.n_in_flight += 1;
            self.stats.received += 1;
            ctx.timer(vis, Timer::Pair(VISIBLE, s, stamp));
            let id = ctx.reqs.alloc(class, u32::MAX, now, 1.0);
            if let Some(q) = ctx.reqs.get_mut(id) {
                q.internal = true;
                q.key = worker;
                q.message = MessageRef {
                    slot: s,
                    gen,
                    stamp,
                };
                q.push_hop(ctx.me, DELIVERY);
            }
            ctx.send(to, Msg::Request(id), d);
        }
        self.stats.polls += 1;
        if n == 0 {
            self.stats.empty_polls += 1;
        }
        if let Some(q) = ctx.reqs.get_mut(r) {
            q.poll = 0;
            q.item = u32::try_from(self.n_visible).unwrap_or(u32::MAX);
            q.outcome = Outcome::Ok;
        }
        ctx.send(to, Msg::Response(r), d);
    }

    fn on_request(&mut self, id: ReqId, ctx: &mut Ctx) {
        let Some((poll, class, wait)) = ctx.reqs.get(id).map(|r| (r.poll, r.class, r.item)) else {
            return;
        };
        if poll > 0 {
            let ready = self.spec.fifo.is_none() || !self.visible.is_empty();
            if ready
                && self.n_visible > 0
                && self.waiting.is_empty()
                && self.n_in_flight < MAX_IN_FLIGHT
            {
                self.deliver(id, poll, ctx);
            } else {
                self.waiting.push_back(id);
                ctx.timer(u64::from(wait) * MS, Timer::Req(POLL_END, id));
            }
            return;
        }
        let (dedup, group) = self.identity(id, ctx);
        let repeated = dedup.is_some_and(|k| self.dedup.repeated(k, ctx.now()));
        if repeated && self.spec.fifo.is_some() {
            self.stats.deduplicated += 1;
        } else {
            if repeated {
                self.stats.duplicate_sends += 1;
            }
            self.store(class, group, ctx);
        }
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
    }

    fn on_response(&mut self, id: ReqId, ctx: &mut Ctx) {
        let Some(r) = ctx.reqs.get_mut(id) else {
            return;
        };
        let (word, outcome, m) = (r.pop_hop().map(|h| h.1), r.outcome, r.message);
        ctx.reqs.free(id);
        if word != Some(DELIVERY) {
            return; // a move to the dead-letter queue, answered
        }
        let now = ctx.now();
        let live = self
            .slots
            .get(m.slot as usize)
            .is_some_and(|s| s.gen == m.gen && s.state != State::Free);
        if live {
            let s = &mut self.slots[m.slot as usize];
            s.outstanding = s.outstanding.saturating_sub(1);
        }
        if outcome != Outcome::Ok {
            self.stats.failed += 1;
            return;
        }
        if !live {
            self.stats.late += 1;
            return;
        }
        let sent = self.slots[m.slot as usize].sent;
        self.stats.processed += 1;
        let us = now.saturating_sub(sent) / 1000;
        let _ = self.e2e.record(us.max(1));
        self.release(m.slot);
        if self.spec.fifo.is_some() {
            self.serve(ctx); // the group's next message may be ready
        }
    }

    fn on_visible(&mut self, s: u32, stamp: u32, ctx: &mut Ctx) {
        if self.slots.get(s as usize).is_some_and(|m| m.stamp == stamp) {
            self.make_visible(s, ctx);
        }
    }

    fn on_expire(&mut self, ctx: &mut Ctx) {
        let now = ctx.now();
        self.expire_armed = false;
        while self.head != NONE {
            let h = self.head;
            if self.slots[h as usize]
                .sent
                .saturating_add(self.spec.retention)
                > now
            {
                break;
            }
            self.stats.expired += 1;
            self.release(h);
        }
        if self.spec.fifo.is_some() {
            self.serve(ctx);
        }
        if self.head != NONE {
            self.expire_armed = true;
            let at = self.slots[self.head as usize]
                .sent
                .saturating_add(self.spec.retention);
            ctx.timer_at(at, Timer::Bare(EXPIRE));
        }
    }

    fn on_poll_end(&mut self, id: ReqId, ctx: &mut Ctx) {
        let to = match ctx.reqs.get(id) {
            Some(r) if r.poll > 0 => r.top(),
            _ => return,
        };
        let Some(to) = to else { return };
        self.stats.polls += 1;
        self.stats.empty_polls += 1;
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.poll = 0;
            r.item = u32::try_from(self.n_visible).unwrap_or(u32::MAX);
        }
        let d = ctx.hop_delay(to, &mut self.rng);
        ctx.send(to, Msg::Response(id), d);
    }

    /// Age of the oldest message held, ns.
    fn oldest_age(&self, now: Time) -> Time {
        if self.head == NONE {
            0
        } else {
            now.saturating_sub(self.slots[self.head as usize].sent)
        }
    }

    /// The queue's counters.
    pub fn stats(&self) -> &QueueStats {
        &self.stats
    }

    /// Messages held now: (delayed, visible, in flight).
    pub fn held(&self) -> (u64, u64, u64) {
        (self.n_delayed, self.n_visible, self.n_in_flight)
    }

    fn percentile_ms(&self, q: f64) -> Option<f64> {
        (!self.e2e.is_empty()).then(|| self.e2e.value_at_quantile(q) as f64 / 1000.0)
    }
}

impl Behaviour for Queue {
    fn start(&mut self, _ctx: &mut Ctx) {}

    #[inline(always)]
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        match msg {
            Msg::Request(id) => self.on_request(id, ctx),
            Msg::Response(id) => self.on_response(id, ctx),
            Msg::Timer(Timer::Pair(VISIBLE, s, stamp)) => self.on_visible(s, stamp, ctx),
            Msg::Timer(Timer::Bare(EXPIRE)) => self.on_expire(ctx),
            Msg::Timer(Timer::Req(POLL_END, id)) => self.on_poll_end(id, ctx),
            Msg::Timer(_) | Msg::Control(_) => {}
        }
    }

    fn reset_stats(&mut self, _now: Time) {
        self.e2e.reset();
    }

    fn card(&mut self, now: Time, _measured: Time) -> Option<Card> {
        let s = &self.stats;
        let mean = (!self.e2e.is_empty()).then(|| self.e2e.mean() / 1000.0);
        Some(Card {
            section: Section::Components,
            name: self.name.clone(),
            fields: vec![
                ("sent", Figure::Count(s.sent)),
                ("processed", Figure::Count(s.processed)),
                ("dead_lettered", Figure::Count(s.dead_lettered)),
                ("expired", Figure::Count(s.expired)),
                ("in_system", Figure::Count(self.live())),
                ("delayed", Figure::Count(self.n_delayed)),
                ("visible", Figure::Count(self.n_visible)),
                ("in_flight", Figure::Count(self.n_in_flight)),
                ("received", Figure::Count(s.received)),
                ("redeliveries", Figure::Count(s.redeliveries)),
                ("duplicates", Figure::Count(s.duplicates)),
                ("duplicate_sends", Figure::Count(s.duplicate_sends)),
                ("failed", Figure::Count(s.failed)),
                ("late", Figure::Count(s.late)),
                ("polls", Figure::Count(s.polls)),
                ("empty_polls", Figure::Count(s.empty_polls)),
                ("fifo", Figure::Flag(self.spec.fifo.is_some())),
                ("deduplicated", Figure::Count(s.deduplicated)),
                (
                    "oldest_age_s",
                    Figure::Value(self.oldest_age(now) as f64 / SEC as f64),
                ),
                ("end_to_end_mean_ms", Figure::Maybe(mean)),
                ("end_to_end_p50_ms", Figure::Maybe(self.percentile_ms(0.5))),
                ("end_to_end_p99_ms", Figure::Maybe(self.percentile_ms(0.99))),
            ],
        })
    }

    fn extra_gauges(&self) -> &'static [GaugeDecl] {
        &[
            GaugeDecl {
                name: "depth",
                title: "messages visible (queue depth)",
                unit: GaugeUnit::Count,
            },
            GaugeDecl {
                name: "in_flight",
                title: "messages in flight (invisible)",
                unit: GaugeUnit::Count,
            },
            GaugeDecl {
                name: "oldest_age_s",
                title: "age of the oldest message (s)",
                unit: GaugeUnit::Count,
            },
        ]
    }

    fn sample_extra(&mut self, now: Time, out: &mut Vec<f64>) {
        out.push(self.n_visible as f64);
        out.push(self.n_in_flight as f64);
        out.push(self.oldest_age(now) as f64 / SEC as f64);
    }

    fn check_invariants(&self) {
        let s = &self.stats;
        assert_eq!(
            s.sent,
            s.processed + s.dead_lettered + s.expired + self.live(),
            "{}: conservation of messages: {} sent, {} processed, {} dead-lettered, {} expired, \
             {} in the queue",
            self.name,
            s.sent,
            s.processed,
            s.dead_lettered,
            s.expired,
            self.live()
        );
        let held = (self.slots.len() - self.free.len()) as u64;
        assert_eq!(held, self.live(), "{}: slots held vs counts", self.name);
        if self.spec.fifo.is_some() {
            let grouped: usize = self.groups.queues.values().map(VecDeque::len).sum();
            assert_eq!(
                grouped as u64,
                self.live(),
                "{}: messages in groups",
                self.name
            );
            for (g, q) in &self.groups.queues {
                let flying = q
                    .iter()
                    .filter(|&&x| self.slots[x as usize].state == State::InFlight)
                    .count();
                assert!(
                    flying <= 1,
                    "{}: group {g} has {flying} messages in flight",
                    self.name
                );
                if flying == 1 {
                    let first = self.slots[q[0] as usize].state;
                    assert_eq!(
                        first,
                        State::InFlight,
                        "{}: group {g} out of order",
                        self.name
                    );
                }
            }
        }
        assert!(
            self.n_in_flight <= MAX_IN_FLIGHT + 1,
            "{}: in flight over the cap",
            self.name
        );
    }
}

impl Kind for Queue {
    type Config = QueueConfig;
    type Spec = QueueSpec;
    const WORDS: &'static str = "queue";
    const ABOUT: &'static str =
        "A message queue (SQS standard): send and answer; consumers receive, process and delete; visibility timeout, dead-letter queue, retention, delay.";
    const SCHEMA_NAME: &'static str = "QueueComponent";
    const ZONE: Zone = Zone::Internal;
    const WIRING: Wiring = Wiring {
        front_door: None,
        dns_answer: false,
        balancer_target: BalancerTarget::No,
        dns_outage: false,
        starts_last: false,
        callable: true,
    };

    fn parse(table: toml::Table) -> Result<QueueConfig, ParseError> {
        parse_table(table)
    }

    fn check(name: &str, g: &QueueConfig, base: &[Seg], c: &mut Checker) -> Option<QueueSpec> {
        let visibility = g.visibility_timeout.map_or(DEFAULT_VISIBILITY, |d| d.0);
        if visibility > MAX_VISIBILITY {
            c.err(
                &at_key(base, "visibility_timeout"),
                format!(
                    "a visibility timeout is at most 12h, found {}",
                    human(visibility)
                ),
                Some("SQS allows 0s to 12h; the default is 30s".into()),
            );
        }
        let retention = g.retention.map_or(DEFAULT_RETENTION, |d| d.0);
        if !(RETENTION_RANGE.0..=RETENTION_RANGE.1).contains(&retention) {
            c.err(
                &at_key(base, "retention"),
                format!(
                    "a retention period is 60s to 14d, found {}",
                    human(retention)
                ),
                Some("SQS keeps messages 4 days by default".into()),
            );
        }
        let delay = g.delay.map_or(0, |d| d.0);
        if delay > MAX_DELAY {
            c.err(
                &at_key(base, "delay"),
                format!("a delay is at most 15m, found {}", human(delay)),
                None,
            );
        }
        let max = g.max_receive_count.unwrap_or(10);
        if !(1..=1000).contains(&max) {
            c.err(
                &at_key(base, "max_receive_count"),
                format!("max_receive_count is 1 to 1000, found {max}"),
                None,
            );
        }
        if g.max_receive_count.is_some() && g.dead_letter.is_none() {
            c.err(
                &at_key(base, "max_receive_count"),
                "`max_receive_count` says when messages move to the dead-letter queue, and there \
                 is no `dead_letter`",
                Some("add dead_letter = \"NAME\" (another queue), or leave it out".into()),
            );
        }
        let dead_letter = match &g.dead_letter {
            None => None,
            Some(d) => {
                let p = at_key(base, "dead_letter");
                if d == name {
                    c.err(&p, "a queue can't be its own dead-letter queue", None);
                    None
                } else {
                    let r = c.resolve(&p, d)?;
                    if r.kind != super::kinds::KindTag::Queue {
                        c.err(
                            &p,
                            format!(
                                "a dead-letter queue is a queue; \"{d}\" is a {}",
                                r.kind.words()
                            ),
                            Some(format!("add [components.{d}] with kind = \"queue\"")),
                        );
                        None
                    } else {
                        Some((r.id, max.clamp(1, 1000)))
                    }
                }
            }
        };
        let latency = g.latency.clone().unwrap_or(DistConfig::Deterministic {
            value: Duration(DEFAULT_LATENCY),
        });
        c.dist(&at_key(base, "latency"), &latency, true);
        let group_by = match g.group_by.as_deref().unwrap_or("user") {
            "user" => GroupBy::User,
            "path" => GroupBy::Path,
            "one" => GroupBy::One,
            other => {
                c.err(
                    &at_key(base, "group_by"),
                    format!("a message group is \"user\", \"path\" or \"one\", found \"{other}\""),
                    None,
                );
                GroupBy::User
            }
        };
        let fifo = g.fifo.unwrap_or(false);
        if g.group_by.is_some() && !fifo {
            c.err(
                &at_key(base, "group_by"),
                "`group_by` orders a FIFO queue's messages, and this queue is standard",
                Some("add fifo = true, or leave it out".into()),
            );
        }
        Some(QueueSpec {
            visibility: visibility.min(MAX_VISIBILITY),
            retention: retention.clamp(RETENTION_RANGE.0, RETENTION_RANGE.1),
            delay: delay.min(MAX_DELAY),
            dead_letter,
            latency,
            fifo: fifo.then_some(group_by),
        })
    }

    fn build(name: &str, spec: QueueSpec, seed: u64) -> Self {
        Queue {
            name: name.to_string(),
            rng: RngStream::new(seed, &format!("queue/{name}")),
            latency: spec.latency.sampler(),
            spec,
            slots: Vec::new(),
            free: Vec::new(),
            visible: VecDeque::new(),
            waiting: VecDeque::new(),
            head: NONE,
            tail: NONE,
            expire_armed: false,
            n_delayed: 0,
            n_visible: 0,
            n_in_flight: 0,
            stats: QueueStats::default(),
            e2e: hdrhistogram::Histogram::new(3).expect("3 significant digits"),
            dedup: Dedup::default(),
            groups: Groups::default(),
        }
    }

    fn describe(g: &QueueSpec, cx: &DescribeCtx) -> Description {
        let dlq = g.dead_letter.map_or(String::new(), |(d, max)| {
            format!("; after {max} receives → {}", (cx.name_of)(d))
        });
        let delay = if g.delay > 0 {
            format!(", delay {}", human(g.delay))
        } else {
            String::new()
        };
        let kind = match g.fifo {
            None => "SQS standard".to_string(),
            Some(GroupBy::User) => "SQS FIFO (a group per user, 5-minute deduplication)".into(),
            Some(GroupBy::Path) => "SQS FIFO (a group per path, 5-minute deduplication)".into(),
            Some(GroupBy::One) => "SQS FIFO (one group, 5-minute deduplication)".into(),
        };
        Description {
            detail: format!(
                "{kind}: visibility {}, retention {}{delay}, send {}{dlq}",
                human(g.visibility),
                human(g.retention),
                g.latency.describe()
            ),
            shape: Shape::Box,
            routes: g
                .dead_letter
                .map(|(d, _)| Route {
                    to: d,
                    role: RouteRole::Forward,
                })
                .into_iter()
                .collect(),
            looked_up: false,
        }
    }

    fn footprint(_g: &QueueSpec, _mean_work: f64) -> Footprint {
        Footprint {
            // A message costs about 12 events (the send and its answer, the receive and its
            // answer, the delivery and its answer, the visibility timer, the consumer's service
            // timer and one call's three), the consumer's side included. The estimate charges
            // each request its costliest route, and a queue's route goes on to its dead-letter
            // queue, which only the dead-lettered take: half each keeps the sum near a message's.
            events_per_request: 6.0,
            background_per_s: 0.0,
            capacity_per_s: f64::INFINITY,
            holds: f64::INFINITY,
            bytes: 4096.0,
        }
    }
}

/// The "Queues" section of summary.md: per queue, where every message went (the conservation
/// counts) and the end-to-end times. Empty when the run has no queue.
pub fn summary_section(cards: &[(&'static str, Card)]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    for (kind, card) in cards {
        if *kind != "queue" {
            continue;
        }
        let count = |k: &str| card.count(k).unwrap_or(0);
        let maybe = |k: &str| card.value(k);
        if s.is_empty() {
            let _ = writeln!(
                s,
                "\n## Queues\n\nEvery message sent is exactly one of processed, dead-lettered, \
                 expired or still in the queue (counts since the start of the run).\n\n\
                 | queue | sent | processed | dead-lettered | expired | still in queue | \
                 redeliveries | duplicates | end-to-end p50 | p99 | oldest now |\n\
                 |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
        }
        let ms = |v: Option<f64>| v.map_or("—".to_string(), |x| format!("{x:.0} ms"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} s |",
            card.name,
            count("sent"),
            count("processed"),
            count("dead_lettered"),
            count("expired"),
            count("in_system"),
            count("redeliveries"),
            count("duplicates"),
            ms(maybe("end_to_end_p50_ms")),
            ms(maybe("end_to_end_p99_ms")),
            maybe("oldest_age_s").unwrap_or(0.0),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sim::Simulation;
    use crate::engine::Scheduler;
    use crate::metrics::Metrics;
    use crate::model::network::{Network, NetworkConfig};
    use crate::model::registry::Registry;
    use crate::model::request::RequestTable;
    use crate::model::Event;
    use crate::scenario::units::Duration as D;

    /// The harness: producer and consumer.
    const USER: u32 = 0;
    /// The queue under test.
    const Q: u32 = 1;
    /// Its dead-letter queue.
    const DLQ: u32 = 2;
    /// The consumer's processing is over (payload: the delivery).
    const PROCESSED: Code = Code(9);

    struct Harness {
        q: Queue,
        dlq: Queue,
        reqs: RequestTable,
        metrics: Metrics,
        net: Network,
        zones: [Zone; 3],
        registry: Registry,
        /// The consumer polls (false: nobody consumes).
        consume: bool,
        /// Processing time of each delivery.
        work: Time,
        /// Processings that fail before the first success.
        fail_first: u32,
        processings: u32,
        /// (time, receive stamp) of each delivery received.
        receipts: Vec<Time>,
    }

    impl Harness {
        fn poll(&mut self, sched: &mut Scheduler<Event>) {
            let id = self.reqs.alloc(0, u32::MAX, sched.now(), 1.0);
            let r = self.reqs.get_mut(id).unwrap();
            r.poll = 1;
            r.item = 20_000;
            r.push_hop(USER, 0);
            sched.after(
                0,
                Event {
                    to: Q,
                    msg: Msg::Request(id),
                },
            );
        }
    }

    impl crate::engine::Model for Harness {
        type Event = Event;
        fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
            let now = sched.now();
            match (ev.to, ev.msg) {
                (Q, msg) => {
                    let mut ctx = crate::model::world::ctx!(self, sched, Q);
                    self.q.handle(msg, &mut ctx);
                }
                (DLQ, msg) => {
                    let mut ctx = crate::model::world::ctx!(self, sched, DLQ);
                    self.dlq.handle(msg, &mut ctx);
                }
                (USER, Msg::Response(id)) => {
                    let poll = self.reqs.get(id).is_some_and(|r| r.top_data() == Some(0));
                    self.reqs.free(id);
                    if poll && self.consume {
                        self.poll(sched);
                    }
                }
                (USER, Msg::Request(d)) => {
                    self.receipts.push(now);
                    sched.after(
                        self.work,
                        Event {
                            to: USER,
                            msg: Msg::Timer(Timer::Req(PROCESSED, d)),
                        },
                    );
                }
                (USER, Msg::Timer(Timer::Req(PROCESSED, d))) => {
                    self.processings += 1;
                    let ok = self.processings > self.fail_first;
                    let r = self.reqs.get_mut(d).unwrap();
                    r.outcome = if ok { Outcome::Ok } else { Outcome::Error };
                    sched.after(
                        0,
                        Event {
                            to: Q,
                            msg: Msg::Response(d),
                        },
                    );
                }
                other => unreachable!("{other:?}"),
            }
        }
    }

    fn spec(visibility: Time, retention: Time, delay: Time, max: Option<u32>) -> QueueSpec {
        QueueSpec {
            visibility,
            retention,
            delay,
            dead_letter: max.map(|m| (DLQ, m)),
            latency: DistConfig::Deterministic { value: D(0) },
            fifo: None,
        }
    }

    /// A queue and its consumer: one message sent at time 0.
    fn rig(q: QueueSpec, consume: bool, work: Time, fail_first: u32) -> Simulation<Harness> {
        let h = Harness {
            q: Queue::build("q", q, 1),
            dlq: Queue::build("dlq", spec(30 * SEC, DEFAULT_RETENTION, 0, None), 1),
            reqs: RequestTable::new(),
            metrics: Metrics::new(&["c".into()], 0, SEC),
            net: Network::new(&NetworkConfig {
                client_rtt: D(0),
                internal_rtt: D(0),
                jitter: 0.0,
                regions: None,
            }),
            zones: [Zone::Internal; 3],
            registry: Registry::new(3, 1),
            consume,
            work,
            fail_first,
            processings: 0,
            receipts: Vec::new(),
        };
        let mut sim = Simulation::new(h);
        let id = sim.model.reqs.alloc(0, 0, 0, 1.0);
        sim.model.reqs.get_mut(id).unwrap().push_hop(USER, 1);
        sim.sched.at(
            0,
            Event {
                to: Q,
                msg: Msg::Request(id),
            },
        );
        if consume {
            let mut s = std::mem::take(&mut sim.sched);
            sim.model.poll(&mut s);
            sim.sched = s;
        }
        sim
    }

    fn conserved(q: &Queue) {
        q.check_invariants();
    }

    #[test]
    fn a_message_failing_every_time_moves_to_the_dlq_after_max_receives() {
        // Visibility 30 s, max 3 receives, every processing fails after 1 s. Received at 0 s,
        // visible again at 30 s (received at once by the waiting poll), 60 s; at 90 s its third
        // visibility timeout ends with 3 receives: it moves to the DLQ then, not later.
        let mut sim = rig(
            spec(30 * SEC, DEFAULT_RETENTION, 0, Some(3)),
            true,
            SEC,
            u32::MAX,
        );
        sim.run_until(90 * SEC - 1);
        assert_eq!(sim.model.receipts, vec![0, 30 * SEC, 60 * SEC]);
        assert_eq!(sim.model.q.stats().dead_lettered, 0);
        assert_eq!(sim.model.dlq.stats().sent, 0);
        sim.run_until(90 * SEC);
        let s = sim.model.q.stats().clone();
        assert_eq!(
            (s.dead_lettered, s.failed, s.redeliveries, s.received),
            (1, 3, 2, 3)
        );
        assert_eq!(sim.model.dlq.stats().sent, 1, "the DLQ holds it at 90 s");
        assert_eq!(sim.model.q.held(), (0, 0, 0));
        conserved(&sim.model.q);
        conserved(&sim.model.dlq);
        sim.run_until(600 * SEC);
        assert_eq!(sim.model.receipts.len(), 3, "never received again");
    }

    #[test]
    fn a_message_failing_k_times_is_processed_on_receive_k_plus_one() {
        // Fails twice, then succeeds: received at 0, 30, 60 s; processed at 61 s.
        let mut sim = rig(spec(30 * SEC, DEFAULT_RETENTION, 0, Some(3)), true, SEC, 2);
        sim.run_until(600 * SEC);
        assert_eq!(sim.model.receipts, vec![0, 30 * SEC, 60 * SEC]);
        let s = sim.model.q.stats();
        assert_eq!((s.processed, s.dead_lettered, s.redeliveries), (1, 0, 2));
        // 61 s from send to deletion, in µs, to the histogram's 3 significant digits.
        let max = sim.model.q.e2e.max() as f64;
        assert!((max - 61e6).abs() <= 61e6 * 1e-3, "{max}");
        conserved(&sim.model.q);
    }

    #[test]
    fn a_consumer_slower_than_the_visibility_timeout_causes_a_duplicate() {
        // Visibility 10 s, processing 15 s: received at 0 and again at 10 s while the first is
        // still at work (a duplicate); the first deletes it at 15 s; the second finishes at 25 s
        // and finds it gone (late: the work was done twice).
        let mut sim = rig(
            spec(10 * SEC, DEFAULT_RETENTION, 0, None),
            true,
            15 * SEC,
            0,
        );
        sim.run_until(600 * SEC);
        assert_eq!(sim.model.receipts, vec![0, 10 * SEC]);
        let s = sim.model.q.stats();
        assert_eq!(
            (s.processed, s.duplicates, s.redeliveries, s.late),
            (1, 1, 1, 1)
        );
        conserved(&sim.model.q);
    }

    /// Sends a message at `at` from `user`, for the click the user made at `first`.
    fn send(sim: &mut Simulation<Harness>, at: Time, user: u32, first: Time) {
        let id = sim.model.reqs.alloc(0, user, first, 1.0);
        let r = sim.model.reqs.get_mut(id).unwrap();
        r.key = user;
        r.push_hop(USER, 1);
        sim.sched.at(
            at,
            Event {
                to: Q,
                msg: Msg::Request(id),
            },
        );
    }

    fn fifo(group: GroupBy) -> QueueSpec {
        QueueSpec {
            fifo: Some(group),
            ..spec(30 * SEC, DEFAULT_RETENTION, 0, None)
        }
    }

    #[test]
    fn a_fifo_group_is_received_in_send_order_one_message_at_a_time() {
        // The consumer receives again as soon as a receive is answered, so a standard queue
        // hands out all three messages at once; a FIFO queue with one group hands out each once
        // the one before is deleted (1 s of work each).
        for (q, want) in [
            (spec(30 * SEC, DEFAULT_RETENTION, 0, None), vec![0, 0, 0]),
            (fifo(GroupBy::One), vec![0, SEC, 2 * SEC]),
        ] {
            let mut sim = rig(q, true, SEC, 0);
            send(&mut sim, 0, 1, 0);
            send(&mut sim, 0, 2, 0);
            sim.run_until(600 * SEC);
            assert_eq!(sim.model.receipts, want);
            assert_eq!(sim.model.q.stats().processed, 3);
            conserved(&sim.model.q);
        }
    }

    #[test]
    fn a_failed_first_message_holds_its_group_until_it_is_deleted() {
        // One group; the first processing fails: the first message is visible again at 30 s and
        // processed at 31 s; only then are the second and third received (31 s, 32 s).
        let mut sim = rig(fifo(GroupBy::One), true, SEC, 1);
        send(&mut sim, 0, 1, 0);
        send(&mut sim, 0, 2, 0);
        sim.run_until(29 * SEC);
        assert_eq!(sim.model.receipts, vec![0]);
        sim.model.q.check_invariants();
        sim.run_until(600 * SEC);
        assert_eq!(sim.model.receipts, vec![0, 30 * SEC, 31 * SEC, 32 * SEC]);
        conserved(&sim.model.q);
    }

    #[test]
    fn groups_by_user_keep_each_users_order_and_run_side_by_side() {
        // Users 0 (the rig's message), 1 and 0 again: user 0's second waits for its first; user
        // 1's goes at once.
        let mut sim = rig(fifo(GroupBy::User), true, SEC, 0);
        send(&mut sim, 0, 1, 0);
        send(&mut sim, 0, 0, 5);
        sim.run_until(600 * SEC);
        assert_eq!(sim.model.receipts, vec![0, 0, SEC]);
        conserved(&sim.model.q);
    }

    #[test]
    fn a_repeated_send_within_five_minutes_is_stored_once_by_fifo_twice_by_standard() {
        // The rig's message is user 0's click at 0; the producer sends it again at 10 s (a
        // retry of the same click), and again at 5m00s, when the window has passed.
        for (q, stored, dedup, dups) in [
            (spec(30 * SEC, DEFAULT_RETENTION, 0, None), 3, 0, 1),
            (fifo(GroupBy::User), 2, 1, 0),
        ] {
            let mut sim = rig(q, false, SEC, 0);
            send(&mut sim, 10 * SEC, 0, 0);
            send(&mut sim, DEDUP_WINDOW, 0, 0);
            sim.run_until(600 * SEC);
            let s = sim.model.q.stats();
            assert_eq!(
                (s.sent, s.deduplicated, s.duplicate_sends),
                (stored, dedup, dups)
            );
            conserved(&sim.model.q);
        }
    }

    #[test]
    fn retention_deletes_what_nobody_received() {
        let mut sim = rig(spec(30 * SEC, 60 * SEC, 0, None), false, SEC, 0);
        sim.run_until(60 * SEC - 1);
        assert_eq!(sim.model.q.held(), (0, 1, 0));
        assert_eq!(sim.model.q.oldest_age(60 * SEC - 1), 60 * SEC - 1);
        sim.run_until(60 * SEC);
        assert_eq!(sim.model.q.stats().expired, 1);
        assert_eq!(sim.model.q.held(), (0, 0, 0));
        conserved(&sim.model.q);
    }

    #[test]
    fn a_delayed_message_is_received_when_its_delay_ends() {
        let mut sim = rig(
            spec(30 * SEC, DEFAULT_RETENTION, 5 * SEC, None),
            true,
            SEC,
            0,
        );
        sim.run_until(5 * SEC - 1);
        assert_eq!(sim.model.q.held(), (1, 0, 0));
        assert!(sim.model.receipts.is_empty());
        sim.run_until(600 * SEC);
        assert_eq!(sim.model.receipts, vec![5 * SEC]);
        assert_eq!(sim.model.q.stats().processed, 1);
        conserved(&sim.model.q);
    }
}
