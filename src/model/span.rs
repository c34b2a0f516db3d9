//! Sampled request spans: every hop of a few users' requests with its times, for the run's
//! waterfalls (`waterfalls.png`) and its Chrome trace (`trace.json`); see docs/traces.md.
//!
//! Recording is off unless a run asks for it ([`crate::scenario::Scenario::trace_requests`]):
//! then [`super::Ctx::send`] and the CPU's job start each test one `Option` (a predictable
//! branch) and, only for a request that carries a trace tag ([`super::request::Request::trace`]),
//! append a record. Which first attempts are sampled is drawn from the stream `trace/sample`, so
//! no other stream moves and results are byte-identical with or without tracing. At most
//! [`SLOTS`] sampled requests are in flight at once (a sample that finds every slot taken is
//! skipped), each holds at most [`MAX_RECS`] records, and only a few finished ones are kept: the
//! slowest successes, the slowest of each failure kind and, from a reservoir, two near the
//! median.

use super::probe::PROBE_CLASS;
use super::request::{Outcome, ReqId, RequestTable};
use super::world::CLIENT;
use super::{CompId, Msg};
use crate::engine::{RngStream, Time};

/// `scalesim run` samples one in this many users' requests.
pub const SAMPLE_EVERY: u32 = 20;
/// Sampled requests in flight at most.
pub const SLOTS: usize = 256;
/// Records a sampled request holds at most (beyond: marked truncated).
pub const MAX_RECS: usize = 2048;
/// Requests (attempts and calls) one sampled request holds at most.
pub const MAX_REQS: usize = 128;
/// Slowest successes kept.
pub const KEEP_SLOW: usize = 3;
/// Failures kept of each failure kind (the slowest).
pub const KEEP_FAILED: usize = 2;
/// Successes in the reservoir the typical ones are chosen from.
pub const RESERVOIR: usize = 16;
/// Typical requests kept (nearest the median latency of the sampled successes).
pub const KEEP_TYPICAL: usize = 2;

/// What a record says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecKind {
    /// A request message sent from `from` to `to`.
    Request,
    /// An answer sent from `from` to `to`.
    Response,
    /// Component `from` started the request's job on its CPU (it left the backlog or pool).
    Start,
    /// The client saw the attempt fail (`outcome`): answered with an error, or timed out.
    AttemptEnd,
}

/// One record: a message sent (and when it arrives), or a mark.
#[derive(Clone, Copy, Debug)]
pub struct Rec {
    /// When it was sent (or marked).
    pub at: Time,
    /// When it arrives (`at` for marks).
    pub arrive: Time,
    /// Sender (or the marking component).
    pub from: CompId,
    /// Addressee.
    pub to: CompId,
    /// Which request of the trace (an index into [`Log::reqs`]).
    pub req: u16,
    /// What it is.
    pub kind: RecKind,
    /// The request's outcome as it stood when sent.
    pub outcome: Outcome,
}

/// A request inside a trace: an attempt of the user's request or a call made for one.
#[derive(Clone, Copy, Debug)]
pub struct ReqInfo {
    /// The request's handle bits.
    pub bits: u64,
    /// The request it was made for (a call's parent), an index into [`Log::reqs`].
    pub parent: Option<u16>,
    /// The attempt number (1 the first try).
    pub attempt: u8,
}

/// Everything recorded of one sampled logical request.
#[derive(Clone, Debug)]
pub struct Log {
    /// The sample's number (in sampling order).
    pub seq: u64,
    /// Request class.
    pub class: u16,
    /// When the first attempt was sent.
    pub start: Time,
    /// When the client recorded the outcome.
    pub end: Time,
    /// The outcome the user saw.
    pub outcome: Outcome,
    /// Records in time order.
    pub recs: Vec<Rec>,
    /// Requests in order of first appearance.
    pub reqs: Vec<ReqInfo>,
    /// Records were dropped past [`MAX_RECS`] or [`MAX_REQS`].
    pub truncated: bool,
}

impl Log {
    fn empty() -> Self {
        Log {
            seq: 0,
            class: 0,
            start: 0,
            end: 0,
            outcome: Outcome::Ok,
            recs: Vec::new(),
            reqs: Vec::new(),
            truncated: false,
        }
    }

    /// The end-to-end latency.
    pub fn latency(&self) -> Time {
        self.end.saturating_sub(self.start)
    }

    fn local(&mut self, bits: u64, parent: Option<u64>, attempt: u8) -> Option<u16> {
        if let Some(i) = self.reqs.iter().rposition(|r| r.bits == bits) {
            return Some(i as u16);
        }
        if self.reqs.len() >= MAX_REQS {
            self.truncated = true;
            return None;
        }
        let parent = parent.and_then(|p| self.reqs.iter().rposition(|r| r.bits == p));
        self.reqs.push(ReqInfo {
            bits,
            parent: parent.map(|p| p as u16),
            attempt,
        });
        Some((self.reqs.len() - 1) as u16)
    }
}

/// Why a trace was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Among the slowest successes (rank 1 the slowest).
    Slowest(u8),
    /// Among the slowest of its failure kind.
    Failed,
    /// Near the median latency of the sampled successes.
    Typical,
}

impl Why {
    /// In words, for labels.
    pub fn words(self) -> String {
        match self {
            Why::Slowest(1) => "the slowest success".into(),
            Why::Slowest(n) => format!("slowest success #{n}"),
            Why::Failed => "a failure".into(),
            Why::Typical => "a typical request".into(),
        }
    }
}

/// A trace kept at the end of the run.
#[derive(Clone, Debug)]
pub struct Kept {
    /// Why it was kept.
    pub why: Why,
    /// What was recorded.
    pub log: Log,
}

/// The recorder.
pub struct Tracer {
    every: u64,
    warmup: Time,
    rng: RngStream,
    slots: Vec<Option<Log>>,
    gens: Vec<u16>,
    free: Vec<u16>,
    spare: Vec<Log>,
    slow: Vec<Log>,
    failed: Vec<Log>,
    typical: Vec<Log>,
    ok_seen: u64,
    ok_latencies: Vec<Time>,
    /// First attempts sampled.
    pub sampled: u64,
    /// Samples skipped because every slot was taken.
    pub skipped: u64,
    /// Component names by index.
    pub names: Vec<String>,
    /// Component kinds by index (the scenario's kind strings; "client", "faults" for 0 and 1).
    pub kinds: Vec<&'static str>,
}

impl Tracer {
    /// A recorder sampling one in `every` users' first attempts sent at or after `warmup`.
    pub fn new(
        seed: u64,
        every: u32,
        warmup: Time,
        names: Vec<String>,
        kinds: Vec<&'static str>,
    ) -> Self {
        Tracer {
            every: u64::from(every.max(1)),
            warmup,
            rng: RngStream::new(seed, "trace/sample"),
            slots: (0..SLOTS).map(|_| None).collect(),
            gens: vec![0; SLOTS],
            free: (0..SLOTS as u16).rev().collect(),
            spare: Vec::new(),
            slow: Vec::new(),
            failed: Vec::new(),
            typical: Vec::new(),
            ok_seen: 0,
            ok_latencies: Vec::new(),
            sampled: 0,
            skipped: 0,
            names,
            kinds,
        }
    }

    fn live(&mut self, tag: u32) -> Option<&mut Log> {
        let slot = (tag & 0xffff) as usize;
        let gen = (tag >> 16) as u16;
        if slot == 0 || slot > SLOTS || self.gens[slot - 1] != gen {
            return None;
        }
        self.slots[slot - 1].as_mut()
    }

    /// A message `msg` from `from` to `to`, sent `now`, arriving after `delay`.
    #[cold]
    #[inline(never)]
    pub fn on_send(
        &mut self,
        reqs: &mut RequestTable,
        from: CompId,
        to: CompId,
        msg: Msg,
        now: Time,
        delay: Time,
    ) {
        let (id, kind) = match msg {
            Msg::Request(id) => (id, RecKind::Request),
            Msg::Response(id) => (id, RecKind::Response),
            _ => return,
        };
        let Some(r) = reqs.get(id) else { return };
        let mut tag = r.trace;
        if tag == 0 {
            let first = kind == RecKind::Request
                && from == CLIENT
                && r.attempt == 1
                && r.refreshes == 0
                && r.parent.is_none()
                && !r.internal
                && r.class != PROBE_CLASS
                && now >= self.warmup;
            if !first || self.rng.below(self.every) != 0 {
                return;
            }
            let Some(slot) = self.free.pop() else {
                self.skipped += 1;
                return;
            };
            let mut log = self.spare.pop().unwrap_or_else(Log::empty);
            log.recs.clear();
            log.reqs.clear();
            log.seq = self.sampled;
            log.class = r.class;
            log.start = r.first_sent;
            log.end = now;
            log.outcome = Outcome::Ok;
            log.truncated = false;
            self.sampled += 1;
            self.slots[slot as usize] = Some(log);
            tag = (u32::from(self.gens[slot as usize]) << 16) | (u32::from(slot) + 1);
            if let Some(r) = reqs.get_mut(id) {
                r.trace = tag;
            }
        }
        let Some(r) = reqs.get(id) else { return };
        let (parent, attempt, outcome) = (r.parent.map(ReqId::bits), r.attempt, r.outcome);
        self.record(
            tag,
            id,
            parent,
            attempt,
            kind,
            from,
            to,
            now,
            now + delay,
            outcome,
        );
    }

    /// Component `me` started request `id`'s job on its CPU `now`.
    #[cold]
    #[inline(never)]
    pub fn on_start(&mut self, reqs: &RequestTable, me: CompId, id: ReqId, now: Time) {
        let Some(r) = reqs.get(id) else { return };
        if r.trace == 0 {
            return;
        }
        let (tag, parent, attempt, outcome) =
            (r.trace, r.parent.map(ReqId::bits), r.attempt, r.outcome);
        self.record(
            tag,
            id,
            parent,
            attempt,
            RecKind::Start,
            me,
            me,
            now,
            now,
            outcome,
        );
    }

    /// The client saw attempt `id` fail with `outcome` `now`.
    #[cold]
    #[inline(never)]
    pub fn on_attempt_failed(
        &mut self,
        reqs: &RequestTable,
        id: ReqId,
        outcome: Outcome,
        now: Time,
    ) {
        let Some(r) = reqs.get(id) else { return };
        if r.trace == 0 {
            return;
        }
        let (tag, attempt) = (r.trace, r.attempt);
        self.record(
            tag,
            id,
            None,
            attempt,
            RecKind::AttemptEnd,
            CLIENT,
            CLIENT,
            now,
            now,
            outcome,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        tag: u32,
        id: ReqId,
        parent: Option<u64>,
        attempt: u8,
        kind: RecKind,
        from: CompId,
        to: CompId,
        at: Time,
        arrive: Time,
        outcome: Outcome,
    ) {
        let Some(log) = self.live(tag) else { return };
        let Some(req) = log.local(id.bits(), parent, attempt) else {
            return;
        };
        if log.recs.len() >= MAX_RECS {
            log.truncated = true;
            return;
        }
        log.recs.push(Rec {
            at,
            arrive,
            from,
            to,
            req,
            kind,
            outcome,
        });
    }

    /// The logical request tagged `tag` ended `now` with `outcome` (the client recorded it).
    #[cold]
    #[inline(never)]
    pub fn on_end(&mut self, tag: u32, now: Time, outcome: Outcome) {
        if self.live(tag).is_none() {
            return;
        }
        let slot = (tag & 0xffff) as usize - 1;
        let Some(mut log) = self.slots[slot].take() else {
            return;
        };
        self.gens[slot] = self.gens[slot].wrapping_add(1);
        self.free.push(slot as u16);
        log.end = now;
        log.outcome = outcome;
        self.keep(log);
    }

    fn keep(&mut self, log: Log) {
        let lat = log.latency();
        if log.outcome == Outcome::Ok {
            if self.ok_latencies.len() < 1 << 20 {
                self.ok_latencies.push(lat);
            }
            self.ok_seen += 1;
            let j = self.rng.below(self.ok_seen);
            if (j as usize) < RESERVOIR {
                let copy = log.clone();
                if self.typical.len() < RESERVOIR {
                    self.typical.push(copy);
                } else {
                    let gone = std::mem::replace(&mut self.typical[j as usize], copy);
                    self.spare.push(gone);
                }
            }
            Self::top(&mut self.slow, log, KEEP_SLOW, &mut self.spare, |_| true);
        } else {
            let o = log.outcome;
            Self::top(&mut self.failed, log, KEEP_FAILED, &mut self.spare, |l| {
                l.outcome == o
            });
        }
    }

    /// Keeps `log` among the `k` slowest of `pool` matching `same` (ties: the earlier sample).
    fn top(
        pool: &mut Vec<Log>,
        log: Log,
        k: usize,
        spare: &mut Vec<Log>,
        same: impl Fn(&Log) -> bool,
    ) {
        let n = pool.iter().filter(|l| same(l)).count();
        if n < k {
            pool.push(log);
            return;
        }
        let lat = log.latency();
        let weakest = pool
            .iter()
            .enumerate()
            .filter(|(_, l)| same(l))
            .min_by_key(|(_, l)| (l.latency(), std::cmp::Reverse(l.seq)))
            .map(|(i, _)| i);
        if let Some(i) = weakest {
            if lat > pool[i].latency() {
                let old = std::mem::replace(&mut pool[i], log);
                spare.push(old);
                return;
            }
        }
        spare.push(log);
    }

    /// The traces kept, in report order: failures (by outcome, slowest first), the slowest
    /// successes, then the typical ones.
    pub fn kept(&self) -> Vec<Kept> {
        let mut out = Vec::new();
        let mut failed = self.failed.clone();
        failed.sort_by_key(|l| (l.outcome, std::cmp::Reverse(l.latency()), l.seq));
        out.extend(failed.into_iter().map(|log| Kept {
            why: Why::Failed,
            log,
        }));
        let mut slow = self.slow.clone();
        slow.sort_by_key(|l| (std::cmp::Reverse(l.latency()), l.seq));
        out.extend(slow.into_iter().enumerate().map(|(i, log)| Kept {
            why: Why::Slowest(i as u8 + 1),
            log,
        }));
        if let Some(median) = self.median_ok() {
            let mut typical: Vec<&Log> = self
                .typical
                .iter()
                .filter(|t| !self.slow.iter().any(|s| s.seq == t.seq))
                .collect();
            typical.sort_by_key(|l| (l.latency().abs_diff(median), l.seq));
            out.extend(typical.into_iter().take(KEEP_TYPICAL).map(|l| Kept {
                why: Why::Typical,
                log: l.clone(),
            }));
        }
        out
    }

    /// The median latency of the sampled successes.
    pub fn median_ok(&self) -> Option<Time> {
        if self.ok_latencies.is_empty() {
            return None;
        }
        let mut v = self.ok_latencies.clone();
        let mid = v.len() / 2;
        Some(*v.select_nth_unstable(mid).1)
    }

    /// Sampled successes seen.
    pub fn ok_seen(&self) -> u64 {
        self.ok_seen
    }
}

/// What a span is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// The user's logical request, first try to outcome.
    Request,
    /// One attempt (a retry is another).
    Attempt,
    /// A component holding the request: from its arrival to its answer (or, for one not on the
    /// way back such as DNS, to its forwarding).
    Visit,
}

/// One span of a trace's tree.
#[derive(Clone, Debug)]
pub struct Span {
    /// What it is.
    pub kind: SpanKind,
    /// The component (for a visit).
    pub comp: CompId,
    /// The enclosing span (an index into the same list); `None` for the request.
    pub parent: Option<usize>,
    /// Nesting depth (0 the request).
    pub depth: u8,
    /// Start and end.
    pub start: Time,
    /// End.
    pub end: Time,
    /// The network hop that brought it here: sent at, arrived at `start`.
    pub link_from: Option<Time>,
    /// Waiting (backlog, connection pool) until this time, then on the CPU.
    pub wait_until: Option<Time>,
    /// On the CPU (or deciding) until this time; holding (waiting for calls or the next hop)
    /// after it.
    pub busy_until: Option<Time>,
    /// The outcome it answered with (or the attempt's, the request's).
    pub outcome: Option<Outcome>,
    /// Still holding the request when the trace ended (the user had given up).
    pub open: bool,
    /// The attempt number (attempts) or the request's.
    pub attempt: u8,
    /// The next hop it forwarded to, if any (a balancer's target).
    pub next: Option<CompId>,
    /// Calls (child requests) it made.
    pub calls: u32,
}

impl Span {
    fn new(kind: SpanKind, comp: CompId, start: Time) -> Self {
        Span {
            kind,
            comp,
            parent: None,
            depth: 0,
            start,
            end: start,
            link_from: None,
            wait_until: None,
            busy_until: None,
            outcome: None,
            open: false,
            attempt: 1,
            next: None,
            calls: 0,
        }
    }

    /// Time spent waiting (backlog, pool).
    pub fn waited(&self) -> Time {
        self.wait_until.map_or(0, |w| w.min(self.end) - self.start)
    }

    /// Time on the CPU / deciding.
    pub fn busy(&self) -> Time {
        let from = self.wait_until.unwrap_or(self.start).min(self.end);
        self.busy_until
            .unwrap_or(self.end)
            .min(self.end)
            .saturating_sub(from)
    }
}

/// The tree of a trace: the request first, then its attempts and visits in start order, every
/// span inside its parent's interval.
pub fn tree(log: &Log) -> Vec<Span> {
    let mut spans = vec![Span::new(SpanKind::Request, CLIENT, log.start)];
    spans[0].end = log.end;
    spans[0].outcome = Some(log.outcome);
    // Per request of the trace: its open visits (a stack), and its attempt span (top-level
    // attempts) or the visit that made it (calls).
    let n = log.reqs.len();
    let mut stacks: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut owner: Vec<Option<usize>> = vec![None; n];
    let mut cand: Vec<Option<usize>> = vec![None];
    for rec in &log.recs {
        let q = rec.req as usize;
        let info = log.reqs[q];
        match rec.kind {
            RecKind::Request => {
                if owner[q].is_none() {
                    owner[q] = Some(match info.parent {
                        None => {
                            let mut a = Span::new(SpanKind::Attempt, CLIENT, rec.at);
                            a.parent = Some(0);
                            a.depth = 1;
                            a.attempt = info.attempt;
                            a.end = log.end;
                            spans.push(a);
                            cand.push(Some(0));
                            spans.len() - 1
                        }
                        Some(p) => {
                            // The caller: the parent's open visit of the sending component.
                            let caller = stacks[p as usize]
                                .iter()
                                .rev()
                                .copied()
                                .find(|&v| spans[v].comp == rec.from)
                                .unwrap_or(0);
                            spans[caller].calls += 1;
                            if spans[caller].busy_until.is_none() {
                                spans[caller].busy_until = Some(rec.at);
                            }
                            caller
                        }
                    });
                }
                if let Some(&top) = stacks[q].last() {
                    if spans[top].comp == rec.from {
                        if spans[top].busy_until.is_none() {
                            spans[top].busy_until = Some(rec.at);
                        }
                        if spans[top].next.is_none() {
                            spans[top].next = Some(rec.to);
                        }
                    }
                }
                cand.push(stacks[q].last().copied().or(owner[q]));
                let mut v = Span::new(SpanKind::Visit, rec.to, rec.arrive);
                v.link_from = Some(rec.at);
                v.attempt = info.attempt;
                v.end = log.end.max(rec.arrive);
                v.open = true;
                spans.push(v);
                stacks[q].push(spans.len() - 1);
            }
            RecKind::Start => {
                if let Some(&v) = stacks[q].iter().rev().find(|&&v| spans[v].comp == rec.from) {
                    if spans[v].wait_until.is_none() {
                        spans[v].wait_until = Some(rec.at);
                    }
                }
            }
            RecKind::Response => {
                if !stacks[q].iter().any(|&v| spans[v].comp == rec.from) {
                    continue;
                }
                // Visits above the answering one were passed through (not on the way back).
                while let Some(v) = stacks[q].pop() {
                    let s = &mut spans[v];
                    if s.comp == rec.from {
                        s.end = rec.at;
                        s.open = false;
                        s.outcome = Some(rec.outcome);
                        break;
                    }
                    close_passed(s);
                }
                // And those below it the answer skips on its way to `to`.
                while let Some(&v) = stacks[q].last() {
                    if spans[v].comp == rec.to {
                        break;
                    }
                    stacks[q].pop();
                    close_passed(&mut spans[v]);
                }
                if rec.to == CLIENT && info.parent.is_none() {
                    // Unless the client had already given up on it (a timeout).
                    if let Some(a) = owner[q].filter(|&a| spans[a].outcome.is_none()) {
                        spans[a].end = rec.arrive;
                        spans[a].outcome = Some(rec.outcome);
                    }
                }
            }
            RecKind::AttemptEnd => {
                if let Some(a) = owner[q] {
                    if spans[a].kind == SpanKind::Attempt {
                        spans[a].end = rec.at.max(spans[a].start);
                        spans[a].outcome = Some(rec.outcome);
                    }
                }
            }
        }
    }
    // Parents: a visit's is the visit below it on its request's route if that one encloses
    // it, else that one's parent (and so on); the first visit's is its attempt or caller.
    // Candidates were pushed before the visit, so they are resolved by then.
    for i in 1..spans.len() {
        if spans[i].kind != SpanKind::Visit {
            continue;
        }
        let mut p = cand[i].unwrap_or(0);
        while p != 0 && !(spans[p].start <= spans[i].start && spans[p].end >= spans[i].end) {
            p = spans[p].parent.unwrap_or(0);
        }
        spans[i].parent = Some(p);
    }
    // Clamp into parents (a late answer after the user gave up stays inside the request) and
    // set depths.
    for i in 1..spans.len() {
        let p = spans[i].parent.unwrap_or(0);
        let (ps, pe, pd) = (spans[p].start, spans[p].end, spans[p].depth);
        let s = &mut spans[i];
        s.start = s.start.clamp(ps, pe);
        s.end = s.end.clamp(s.start, pe);
        s.depth = pd + 1;
    }
    spans
}

/// A visit the request passed through: it ends when it forwarded the request.
fn close_passed(s: &mut Span) {
    s.open = false;
    if let Some(b) = s.busy_until {
        s.end = b.max(s.start);
    }
}
