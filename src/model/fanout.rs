//! Fan-out: a request that is answered only after calls to other components — all at once
//! (parallel) or one after another (sequential) — each with its own timeout. The parent takes the
//! worst of its calls' outcomes, or a call's configured fallback when that call fails. An API
//! gateway's call graph, a cache miss that reads the database and a topic's deliveries all use it.
//!
//! Written, like [`super::probe`], as a mechanism any kind embeds: the kind keeps a [`Fanout`]
//! (the calls it has in flight) and a list of [`Plan`]s, starts a plan when a request arrives, and
//! hands the calls' answers and deadlines back to it:
//!
//! ```text
//!              ┌──────────── call 1 ───────────▶ orders
//!   request ──▶ caller ────── call 2 ───────────▶ inventory     parallel: answered at the
//!              └──────────── call 3 ───────────▶ payment       slowest call's answer
//!   answer  ◀── caller ◀── (worst outcome, or a call's fallback) ──┘
//! ```
//!
//! A call is a request of its own in the [`RequestTable`](super::request::RequestTable), with
//! `parent` set, the parent's class and user, and the caller on top of its route (the route word
//! marks it as a call and names the fan-out's slot). Nothing else is stored per call, so memory
//! follows what is in flight. A call that times out is marked abandoned and freed when its late
//! answer arrives, like a user's attempt.

use super::breaker::{Breaker, BreakerConfig, BreakerSpec, Change};
use super::request::{Outcome, ReqId, ReqState};
use super::{CompId, Ctx, Msg, Timer, CALL_TIMEOUT};
use crate::engine::time::Time;
use crate::engine::RngStream;

/// Marks a route word as a fan-out call's. Probes use bit 31. Below it: the fan-out's slot
/// (22 bits) and the call's index in its plan (8 bits).
pub const CALL_BIT: u32 = 1 << 30;
/// Most calls in one plan (the call's index has 8 bits of the route word).
pub const MAX_CALLS: usize = 256;
/// Most fan-outs one component can have in flight at once (22 bits of the route word).
pub const MAX_IN_FLIGHT: usize = 1 << 22;

fn word(slot: u32, call: usize) -> u32 {
    CALL_BIT | (slot << 8) | call as u32
}

fn unword(w: u32) -> (u32, usize) {
    ((w & !CALL_BIT) >> 8, (w & 0xff) as usize)
}

/// How a plan's calls are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// All at once; the parent is answered when the last one is.
    Parallel,
    /// One after another; a failed call (without a fallback) ends the plan there.
    Sequential,
}

/// One call of a plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The component called.
    pub to: CompId,
    /// Give up on the call after this long (its outcome is then `Timeout`). `None`: wait.
    pub timeout: Option<Time>,
    /// CPU work of the call relative to the parent's (1 = the same).
    pub work: f64,
    /// The outcome the call counts as when it fails (`Some(Outcome::Ok)`: degrade gracefully, the
    /// page is served without that part). `None`: its failure is the parent's.
    pub fallback: Option<Outcome>,
    /// The circuit breaker guarding it: an index into the caller's breakers
    /// ([`Plans::breakers`]), one per target. `None`: always sent.
    pub breaker: Option<u16>,
}

/// A call graph step: calls made in parallel or in sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// How the calls are made.
    pub mode: Mode,
    /// The calls, in order.
    pub calls: Vec<Call>,
}

/// How bad an outcome is when a parent takes the worst of its calls': a timeout (the user waited
/// longest) over a connection failure, over an error answered, over a polite refusal (503, 429).
pub fn severity(o: Outcome) -> u8 {
    match o {
        Outcome::Ok => 0,
        Outcome::Throttled => 1,
        Outcome::Unavailable => 2,
        Outcome::Error => 3,
        Outcome::Refused => 4,
        Outcome::Crashed => 5,
        Outcome::DnsFailure => 6,
        Outcome::Timeout => 7,
    }
}

/// What a call its breaker fails at once counts as (before its fallback): 503.
const SHORT_CIRCUITED: Outcome = Outcome::Unavailable;

/// Takes `outcome` of `call` into the plan's worst (through the call's fallback); returns what
/// it counted as.
fn absorb(p: &mut Pending, call: &Call, outcome: Outcome) -> Outcome {
    let effective = match (outcome, call.fallback) {
        (Outcome::Ok, _) => Outcome::Ok,
        (_, Some(f)) => f,
        (o, None) => o,
    };
    if severity(effective) > severity(p.outcome) {
        p.outcome = effective;
    }
    effective
}

/// A plan in progress.
#[derive(Clone, Copy, Debug)]
struct Pending {
    parent: ReqId,
    plan: u32,
    /// Sequential: the next call to make. Parallel: unused.
    next: u32,
    /// Calls sent and not yet answered or timed out.
    waiting: u32,
    /// The worst effective outcome so far.
    outcome: Outcome,
    /// The caller crashed: the parent was dropped; the slot is freed when its calls are settled.
    aborted: bool,
}

/// A parent request whose calls are done: answer it with `outcome`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    /// The request the calls were made for.
    pub parent: ReqId,
    /// Its outcome.
    pub outcome: Outcome,
}

/// The fan-outs one component has in flight.
#[derive(Default)]
pub struct Fanout {
    slots: Vec<Option<Pending>>,
    free: Vec<u32>,
    live: usize,
    /// Calls made.
    pub calls: u64,
    /// Calls that timed out.
    pub timeouts: u64,
    /// Calls that failed (timeouts included).
    pub failures: u64,
    /// The circuit breakers of its calls, one per target ([`Call::breaker`] indexes them).
    pub breakers: Vec<Breaker>,
    /// Breaker changes not yet taken by the component for its timeline: (when, what).
    pub events: Vec<(Time, String)>,
}

impl Fanout {
    /// Nothing in flight.
    pub fn new() -> Self {
        Self::default()
    }

    /// Nothing in flight, with closed breakers of these settings.
    pub fn with_breakers(specs: &[BreakerSpec]) -> Self {
        Self {
            breakers: specs.iter().cloned().map(Breaker::new).collect(),
            ..Self::default()
        }
    }

    /// Calls its breakers failed at once without sending them, and times they opened, since
    /// time zero.
    pub fn breaker_totals(&self) -> (u64, u64) {
        self.breakers
            .iter()
            .fold((0, 0), |(s, o), b| (s + b.short_circuited, o + b.opened))
    }

    fn note(&mut self, at: Time, breaker: usize, change: Option<Change>) {
        if let Some(c) = change {
            let text = self.breakers[breaker].describe(c);
            self.events.push((at, text));
        }
    }

    /// Fan-outs in progress.
    pub fn in_flight(&self) -> usize {
        self.live
    }

    /// True if the answer `id` is one of this component's calls (check before treating it as a
    /// request it forwarded).
    pub fn is_call(ctx: &Ctx, id: ReqId) -> bool {
        ctx.reqs
            .get(id)
            .and_then(|r| r.top_data())
            .is_some_and(|d| d & CALL_BIT != 0 && d & super::probe::PROBE_BIT == 0)
    }

    /// Takes the messages that belong to the fan-out — the answer to one of this component's
    /// calls, or a call's deadline — and settles them. `Some(done)`: it was one, and `done` is
    /// the parent whose plan it finished, if any; `None`: the message is the component's own.
    #[inline]
    pub fn take(
        &mut self,
        msg: Msg,
        plans: &[Plan],
        ctx: &mut Ctx,
        rng: &mut RngStream,
    ) -> Option<Option<Done>> {
        match msg {
            Msg::Response(id) if Self::is_call(ctx, id) => {
                Some(self.on_response(id, plans, ctx, rng))
            }
            Msg::Timer(Timer::Req(CALL_TIMEOUT, id)) => Some(self.on_timeout(id, plans, ctx, rng)),
            _ => None,
        }
    }

    /// Starts plan number `index` (`plan`) for `parent`. An empty plan is done at once.
    pub fn begin(
        &mut self,
        parent: ReqId,
        index: u32,
        plan: &Plan,
        ctx: &mut Ctx,
        rng: &mut RngStream,
    ) -> Option<Done> {
        if plan.calls.is_empty() {
            return Some(Done {
                parent,
                outcome: Outcome::Ok,
            });
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None if self.slots.len() < MAX_IN_FLIGHT => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
            // Four million fan-outs in flight at one component: it is overloaded.
            None => {
                return Some(Done {
                    parent,
                    outcome: Outcome::Unavailable,
                })
            }
        };
        self.live += 1;
        self.slots[slot as usize] = Some(Pending {
            parent,
            plan: index,
            next: 0,
            waiting: 0,
            outcome: Outcome::Ok,
            aborted: false,
        });
        match plan.mode {
            Mode::Parallel => {
                for (i, call) in plan.calls.iter().enumerate().take(MAX_CALLS) {
                    if !self.send(slot, i, parent, call, ctx, rng) {
                        // Its breaker is open: it failed at once.
                        let p = self.slots[slot as usize].as_mut().expect("in flight");
                        absorb(p, call, SHORT_CIRCUITED);
                    }
                }
                let p = self.slots[slot as usize].expect("in flight");
                if p.waiting == 0 {
                    self.release(slot);
                    return Some(Done {
                        parent,
                        outcome: p.outcome,
                    });
                }
                None
            }
            Mode::Sequential => self.next_in_sequence(slot, plan, ctx, rng),
        }
    }

    /// Makes the next call of the sequence in `slot`, skipping past calls its breakers fail at
    /// once; the plan is done when a call fails (without a fallback) or none is left.
    fn next_in_sequence(
        &mut self,
        slot: u32,
        plan: &Plan,
        ctx: &mut Ctx,
        rng: &mut RngStream,
    ) -> Option<Done> {
        loop {
            let mut p = self.slots[slot as usize].expect("in flight");
            let i = p.next as usize;
            let Some(call) = plan.calls.get(i) else {
                self.release(slot);
                return Some(Done {
                    parent: p.parent,
                    outcome: p.outcome,
                });
            };
            p.next += 1;
            self.slots[slot as usize] = Some(p);
            if self.send(slot, i, p.parent, call, ctx, rng) {
                return None;
            }
            let q = self.slots[slot as usize].as_mut().expect("in flight");
            if absorb(q, call, SHORT_CIRCUITED) != Outcome::Ok {
                let q = *q;
                self.release(slot);
                return Some(Done {
                    parent: q.parent,
                    outcome: q.outcome,
                });
            }
        }
    }

    /// Makes call number `i` of the fan-out in `slot`, unless its breaker is open (false: not
    /// sent, it failed at once).
    fn send(
        &mut self,
        slot: u32,
        i: usize,
        parent: ReqId,
        call: &Call,
        ctx: &mut Ctx,
        rng: &mut RngStream,
    ) -> bool {
        let now = ctx.now();
        if let Some(b) = call.breaker {
            let b = b as usize;
            let (admitted, change) = self.breakers[b].admit(now);
            self.note(now, b, change);
            if !admitted {
                return false;
            }
        }
        let me = ctx.me;
        let (class, user, key, item, work, tls, region, trace) =
            ctx.reqs
                .get(parent)
                .map_or((0, u32::MAX, 0, 0, 1.0, true, 0, 0), |r| {
                    (
                        r.class,
                        r.user,
                        r.key,
                        r.item,
                        r.work,
                        r.tls_terminated,
                        r.region,
                        r.trace,
                    )
                });
        let id = ctx.reqs.alloc(class, user, now, work * call.work);
        if let Some(r) = ctx.reqs.get_mut(id) {
            r.parent = Some(parent);
            r.key = key;
            r.item = item;
            r.tls_terminated = tls;
            r.region = region;
            r.trace = trace;
            r.push_hop(me, word(slot, i));
        }
        if let Some(p) = self.slots[slot as usize].as_mut() {
            p.waiting += 1;
        }
        self.calls += 1;
        let d = ctx.hop_delay_for(call.to, id, false, rng);
        ctx.send(call.to, Msg::Request(id), d);
        if let Some(t) = call.timeout {
            ctx.timer(t, Timer::Req(CALL_TIMEOUT, id));
        }
        true
    }

    /// The answer to call `id` arrived (the caller checked [`Fanout::is_call`]). Frees the call;
    /// returns the parent when its plan is done.
    pub fn on_response(
        &mut self,
        id: ReqId,
        plans: &[Plan],
        ctx: &mut Ctx,
        rng: &mut RngStream,
    ) -> Option<Done> {
        let r = ctx.reqs.get_mut(id)?;
        let abandoned = r.state == ReqState::Abandoned;
        let (outcome, sent) = (r.outcome, r.sent);
        let hop = r.pop_hop().map(|(_, data)| unword(data));
        ctx.reqs.free(id);
        if abandoned {
            return None; // timed out already: counted then
        }
        let (slot, call) = hop?;
        self.settle(slot, call, outcome, sent, plans, ctx, rng)
    }

    /// A call's deadline passed (`Timer::Req(CALL_TIMEOUT, id)`). If the call is still out, it
    /// counts as timed out; its slot is freed when the late answer comes back.
    pub fn on_timeout(
        &mut self,
        id: ReqId,
        plans: &[Plan],
        ctx: &mut Ctx,
        rng: &mut RngStream,
    ) -> Option<Done> {
        let r = ctx.reqs.get_mut(id)?;
        if r.state != ReqState::Pending {
            return None;
        }
        // The call's first hop is its caller's (pushed by `send`); while the call is out, the
        // components it passes (a balancer) have their own hops above it.
        let (slot, call) = unword(r.bottom_data()?);
        r.state = ReqState::Abandoned;
        let sent = r.sent;
        self.timeouts += 1;
        self.settle(slot, call, Outcome::Timeout, sent, plans, ctx, rng)
    }

    /// Counts the outcome of call `call` of the fan-out in `slot` (sent at `sent`); makes the
    /// next sequential call, or finishes the plan.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &mut self,
        slot: u32,
        call: usize,
        outcome: Outcome,
        sent: Time,
        plans: &[Plan],
        ctx: &mut Ctx,
        rng: &mut RngStream,
    ) -> Option<Done> {
        let mut p = (*self.slots.get(slot as usize)?)?;
        if outcome != Outcome::Ok {
            self.failures += 1;
        }
        let guard = plans
            .get(p.plan as usize)
            .and_then(|pl| pl.calls.get(call))
            .and_then(|c| c.breaker);
        if let Some(b) = guard {
            let now = ctx.now();
            let change = self.breakers[b as usize].record(now, sent, outcome == Outcome::Ok);
            self.note(now, b as usize, change);
        }
        p.waiting -= 1;
        if p.aborted {
            if p.waiting == 0 {
                self.release(slot);
            } else {
                self.slots[slot as usize] = Some(p);
            }
            return None;
        }
        let plan = plans.get(p.plan as usize)?;
        let effective = match plan.calls.get(call) {
            Some(c) => absorb(&mut p, c, outcome),
            None => outcome,
        };
        self.slots[slot as usize] = Some(p);
        match plan.mode {
            Mode::Parallel if p.waiting > 0 => None,
            // A failure ends a sequence; so does its last call.
            Mode::Sequential if effective == Outcome::Ok => {
                self.next_in_sequence(slot, plan, ctx, rng)
            }
            _ => {
                self.release(slot);
                Some(Done {
                    parent: p.parent,
                    outcome: p.outcome,
                })
            }
        }
    }

    fn release(&mut self, slot: u32) {
        self.slots[slot as usize] = None;
        self.free.push(slot);
        self.live -= 1;
    }

    /// The caller crashed: every fan-out in flight is dropped. Their calls still come back (or
    /// time out) and are freed then; the slots are reused only after that. Returns the parents,
    /// in slot order, for the caller to fail.
    pub fn abort_all(&mut self) -> Vec<ReqId> {
        let mut parents = Vec::new();
        for p in self.slots.iter_mut().flatten() {
            if !p.aborted {
                p.aborted = true;
                parents.push(p.parent);
            }
        }
        parents
    }
}

/// `[[components.NAME.calls]]`: what a request on a path does after its own work — calls to
/// other components, all at once or one after another.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// Requests on this path prefix make these calls (`/orders` matches `/orders` and
    /// `/orders/5`). Default: every request.
    pub path: Option<String>,
    /// "parallel" (all at once; answered at the slowest) or "sequential" (one after another;
    /// a failed call ends the sequence). Default sequential.
    pub mode: Option<ModeConfig>,
    /// The calls, in order.
    pub to: Vec<CallConfig>,
}

/// How a plan's calls are made, as written.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ModeConfig {
    /// All at once.
    Parallel,
    /// One after another.
    Sequential,
}

/// `{ target = "payments", timeout = "3s", fallback = "ok" }`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallConfig {
    /// The component called (a server, a balancer, a gateway, an external service).
    pub target: String,
    /// Give up on the call after this long; it then counts as a timeout. Default: wait.
    pub timeout: Option<crate::scenario::units::Duration>,
    /// CPU work of the call relative to the request's own (1 = the same). Default 1.
    pub work: Option<f64>,
    /// What a failed call counts as: "ok" serves the answer without that part (graceful
    /// degradation); default: its failure is the request's.
    pub fallback: Option<FallbackConfig>,
    /// A circuit breaker on calls to this target: after `failures` failed calls within `within`
    /// it opens, and calls fail at once (503, or the fallback) for `open_for`; then `probes`
    /// calls go through, and it closes if they succeed. Needs a `timeout`. Defaults: 5 failures
    /// within 10s, open 30s, 1 probe. Default: no breaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerConfig>,
}

/// What a failed call counts as.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FallbackConfig {
    /// The request succeeds without that part.
    Ok,
    /// The request fails with an error (500).
    Error,
}

/// Checked call plans and which one each request class makes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plans {
    /// The plans, in the order written.
    pub plans: Vec<Plan>,
    /// By class index: the plan its requests make (the longest matching path), if any.
    pub of_class: Vec<Option<u16>>,
    /// Each plan's path prefix as written (`/` when it gave none).
    pub paths: Vec<String>,
    /// The circuit breakers of the calls, one per target ([`Call::breaker`] indexes them).
    pub breakers: Vec<BreakerSpec>,
}

impl Plans {
    /// The plan requests of `class` make.
    #[inline]
    pub fn for_class(&self, class: u16) -> Option<u32> {
        self.of_class
            .get(class as usize)
            .copied()
            .flatten()
            .map(u32::from)
    }

    /// Nothing is called.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }

    /// The plans in words for `explain` and the run header: `"/orders → inventory ∥ payments
    /// (timeouts 1s, 3s)"`; `paths` are the plans' prefixes as written.
    pub fn describe(&self, name_of: &dyn Fn(CompId) -> String) -> String {
        self.plans
            .iter()
            .zip(&self.paths)
            .map(|(p, path)| {
                let sep = if p.mode == Mode::Parallel {
                    " ∥ "
                } else {
                    " → "
                };
                let calls: Vec<String> = p
                    .calls
                    .iter()
                    .map(|c| {
                        let t = c.timeout.map_or(String::new(), |t| {
                            format!(" ≤{}", crate::engine::time::human(t))
                        });
                        let b = if c.breaker.is_some() {
                            " (breaker)"
                        } else {
                            ""
                        };
                        format!("{}{t}{b}", name_of(c.to))
                    })
                    .collect();
                format!("{path} → {}", calls.join(sep))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Routes to what it calls, for `explain`.
    pub fn routes(&self) -> Vec<super::kit::Route> {
        self.targets()
            .into_iter()
            .map(|to| super::kit::Route {
                to,
                role: super::kit::RouteRole::Forward,
            })
            .collect()
    }

    /// Every component called, in plan order (repeats removed).
    pub fn targets(&self) -> Vec<CompId> {
        let mut v: Vec<CompId> = Vec::new();
        for c in self.plans.iter().flat_map(|p| &p.calls) {
            if !v.contains(&c.to) {
                v.push(c.to);
            }
        }
        v
    }
}

/// Checks `calls` (at `base`.calls) against the components and the workload's classes.
pub fn check_plans(
    c: &mut crate::scenario::validate::Checker,
    base: &[crate::scenario::error::Seg],
    me: &str,
    cfgs: &[PlanConfig],
) -> Plans {
    use crate::scenario::validate::{at_index, at_key};
    let cp = at_key(base, "calls");
    if cfgs.len() > 64 {
        c.err(&cp, "at most 64 call plans per component", None);
        return Plans::default();
    }
    let mut plans = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut breakers: Vec<BreakerSpec> = Vec::new();
    for (i, cfg) in cfgs.iter().enumerate() {
        let pp = at_index(&cp, i);
        let prefix = cfg.path.clone().unwrap_or_else(|| "/".into());
        c.url_path(&at_key(&pp, "path"), &prefix);
        if prefixes.contains(&prefix) {
            c.err(
                &at_key(&pp, "path"),
                format!("two call plans for the path \"{prefix}\""),
                Some("merge their calls into one plan".into()),
            );
        }
        prefixes.push(prefix);
        if cfg.to.is_empty() {
            c.err(
                &at_key(&pp, "to"),
                "a call plan needs at least one call",
                Some("e.g. to = [{ target = \"payments\", timeout = \"3s\" }]".into()),
            );
        }
        if cfg.to.len() > MAX_CALLS {
            c.err(
                &at_key(&pp, "to"),
                format!("at most {MAX_CALLS} calls in one plan"),
                None,
            );
        }
        let mut calls = Vec::new();
        for (j, call) in cfg.to.iter().enumerate() {
            let tp = at_index(&at_key(&pp, "to"), j);
            let who = format!("\"{me}\"");
            let Some(to) = c.callable(&at_key(&tp, "target"), &call.target, me, &who, "call")
            else {
                continue;
            };
            let timeout = call.timeout.map(|d| d.0);
            if timeout == Some(0) {
                c.err(
                    &at_key(&tp, "timeout"),
                    "a call's timeout must be more than zero",
                    Some("leave it out to wait as long as it takes".into()),
                );
            }
            let work = call.work.unwrap_or(1.0);
            if call.work.is_some() && !(work > 0.0 && work.is_finite() && work <= 1e6) {
                c.err(
                    &at_key(&tp, "work"),
                    format!(
                        "work must be a positive number up to 1000000, found {}",
                        crate::scenario::error::number(work)
                    ),
                    None,
                );
            }
            let breaker = call.breaker.as_ref().map(|b| {
                let bp = at_key(&tp, "breaker");
                let spec = super::breaker::check(c, &bp, &call.target, b, timeout);
                match breakers.iter().position(|x| x.target == spec.target) {
                    Some(i) => {
                        if breakers[i] != spec {
                            c.err(
                                &bp,
                                format!(
                                    "another call of \"{me}\" to \"{}\" has a breaker with other settings",
                                    call.target
                                ),
                                Some(format!(
                                    "\"{me}\" keeps one breaker per target: give every call to \"{}\" the same breaker settings",
                                    call.target
                                )),
                            );
                        }
                        i as u16
                    }
                    None => {
                        breakers.push(spec);
                        (breakers.len() - 1) as u16
                    }
                }
            });
            calls.push(Call {
                to,
                timeout,
                work,
                fallback: call.fallback.map(|f| match f {
                    FallbackConfig::Ok => Outcome::Ok,
                    FallbackConfig::Error => Outcome::Error,
                }),
                breaker,
            });
        }
        plans.push(Plan {
            mode: match cfg.mode {
                Some(ModeConfig::Parallel) => Mode::Parallel,
                _ => Mode::Sequential,
            },
            calls,
        });
    }
    let refs: Vec<&str> = cfgs
        .iter()
        .map(|p| p.path.as_deref().unwrap_or("/"))
        .collect();
    let of_class = c.match_classes(&refs);
    Plans {
        plans,
        of_class,
        paths: prefixes,
        breakers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;
    use crate::engine::{Model, Scheduler};
    use crate::metrics::Metrics;
    use crate::model::dist::DistConfig;
    use crate::model::kit::Behaviour;
    use crate::model::network::{Network, NetworkConfig};
    use crate::model::registry::Registry;
    use crate::model::request::RequestTable;
    use crate::model::server::{Server, ServerSpec};
    use crate::model::{Control, Event, Zone};
    use crate::scenario::units::Duration as D;

    /// Component 0 is the user (the harness records answers), 1 the caller, 2.. the servers.
    const USER: u32 = 0;
    const CALLER: u32 = 1;

    /// A component that answers each request after running plan 0 (the gateway of later kinds).
    struct Caller {
        fan: Fanout,
        plans: Vec<Plan>,
        rng: RngStream,
    }

    impl Caller {
        fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
            let done = match msg {
                Msg::Request(id) => self.fan.begin(id, 0, &self.plans[0], ctx, &mut self.rng),
                Msg::Response(id) if Fanout::is_call(ctx, id) => {
                    self.fan.on_response(id, &self.plans, ctx, &mut self.rng)
                }
                Msg::Timer(Timer::Req(CALL_TIMEOUT, id)) => {
                    self.fan.on_timeout(id, &self.plans, ctx, &mut self.rng)
                }
                Msg::Control(Control::Crash) => {
                    for parent in self.fan.abort_all() {
                        if let Some(r) = ctx.reqs.get_mut(parent) {
                            r.outcome = Outcome::Crashed;
                        }
                        ctx.respond(parent, &mut self.rng);
                    }
                    None
                }
                other => unreachable!("{other:?}"),
            };
            if let Some(d) = done {
                if let Some(r) = ctx.reqs.get_mut(d.parent) {
                    r.outcome = d.outcome;
                }
                ctx.respond(d.parent, &mut self.rng);
            }
        }
    }

    struct World {
        caller: Caller,
        servers: Vec<Server>,
        reqs: RequestTable,
        metrics: Metrics,
        net: Network,
        zones: Vec<Zone>,
        registry: Registry,
        /// (request, answer time, outcome), in answer order.
        answers: Vec<(ReqId, Time, Outcome)>,
    }

    impl Model for World {
        type Event = Event;
        fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
            let now = sched.now();
            let mut ctx = crate::model::world::ctx!(self, sched, ev.to);
            match (ev.to, ev.msg) {
                (USER, Msg::Response(id)) => {
                    let outcome = ctx.reqs.get(id).expect("live parent").outcome;
                    ctx.reqs.free(id);
                    self.answers.push((id, now, outcome));
                }
                (CALLER, msg) => self.caller.handle(msg, &mut ctx),
                (i, msg) => self.servers[i as usize - 2].handle(msg, &mut ctx),
            }
        }
    }

    /// One-way hops: users ↔ caller 10 ms, inside the data centre 1 ms, no jitter.
    const EXT: Time = 10 * MS;
    const INT: Time = MS;

    /// A world whose servers take exactly `service_ms` each (one worker, one vCPU), the caller
    /// running `plan`; `parents` requests arrive at the caller at the given times.
    fn run(service_ms: &[u64], plan: Plan, parents: &[Time], crash_at: Option<Time>) -> World {
        let one_worker: Vec<(u64, u32)> = service_ms.iter().map(|&ms| (ms, 1)).collect();
        run_with(&one_worker, plan, &[], parents, crash_at)
    }

    /// As [`run`], with (service ms, workers) per server; each server has a vCPU per worker.
    fn run_with(
        servers: &[(u64, u32)],
        plan: Plan,
        breakers: &[BreakerSpec],
        parents: &[Time],
        crash_at: Option<Time>,
    ) -> World {
        let servers: Vec<Server> = servers
            .iter()
            .enumerate()
            .map(|(i, &(ms, workers))| {
                let spec = ServerSpec {
                    instance: "custom".into(),
                    vcpus: workers,
                    memory: 1 << 34,
                    price_per_hour: 0.0,
                    workers,
                    backlog: 100,
                    service: DistConfig::Deterministic { value: D(ms * MS) },
                    memory_base: 0,
                    memory_per_request: 0,
                    restart: 1_000 * MS,
                    resizes: vec![],
                    tls_cpu: 0,
                    boot_time: 0,
                    az: 0,
                    starts_up: true,
                    in_fleet: false,
                    calls: Plans::default(),
                    queue_timeout: None,
                };
                Server::new(&format!("s{i}"), spec, 1)
            })
            .collect();
        let n = servers.len() + 2;
        let mut zones = vec![Zone::Internal; n];
        zones[USER as usize] = Zone::Users;
        let mut w = World {
            caller: Caller {
                fan: Fanout::with_breakers(breakers),
                plans: vec![plan],
                rng: RngStream::new(1, "caller"),
            },
            servers,
            reqs: RequestTable::new(),
            metrics: Metrics::new(&["c".into()], 0, 1_000 * MS),
            net: Network::new(&NetworkConfig {
                client_rtt: D(2 * EXT),
                internal_rtt: D(2 * INT),
                jitter: 0.0,
                regions: None,
            }),
            zones,
            registry: Registry::new(n, 1),
            answers: Vec::new(),
        };
        let mut sched = Scheduler::<Event>::new();
        for i in 0..w.servers.len() {
            let me = i as u32 + 2;
            let mut ctx = crate::model::world::ctx!(w, &mut sched, me);
            w.servers[i].start(&mut ctx);
        }
        for &at in parents {
            let id = w.reqs.alloc(0, 0, at, 1.0);
            w.reqs.get_mut(id).expect("fresh").push_hop(USER, 0);
            sched.at(
                at,
                Event {
                    to: CALLER,
                    msg: Msg::Request(id),
                },
            );
        }
        if let Some(t) = crash_at {
            sched.at(
                t,
                Event {
                    to: CALLER,
                    msg: Msg::Control(Control::Crash),
                },
            );
        }
        let mut sim = crate::engine::sim::Simulation::new(w);
        sim.sched = sched;
        sim.run_until(60_000 * MS);
        sim.model
    }

    fn calls(to: &[u32], timeout: Option<Time>, fallback: Option<Outcome>) -> Vec<Call> {
        to.iter()
            .map(|&to| Call {
                to,
                timeout,
                work: 1.0,
                fallback,
                breaker: None,
            })
            .collect()
    }

    fn plan(mode: Mode, calls: Vec<Call>) -> Plan {
        Plan { mode, calls }
    }

    #[test]
    fn parallel_calls_answer_at_the_slowest_plus_hops() {
        // Calls leave at 0 and reach the servers at 1 ms; they finish at 11, 21 and 31 ms and
        // are back at 12, 22 and 32 ms. The parent is answered at 32 ms and reaches the user 10 ms
        // later: 30 ms (the slowest part) + 2 internal hops + 1 external hop = 42 ms.
        let w = run(
            &[10, 20, 30],
            plan(Mode::Parallel, calls(&[2, 3, 4], None, None)),
            &[0],
            None,
        );
        assert_eq!(w.answers.len(), 1);
        assert_eq!(w.answers[0].1, 30 * MS + 2 * INT + EXT);
        assert_eq!(w.answers[0].2, Outcome::Ok);
        assert_eq!(w.reqs.live(), 0, "every call and the parent freed");
        assert_eq!(w.caller.fan.in_flight(), 0);
        assert_eq!(w.caller.fan.calls, 3);
    }

    #[test]
    fn sequential_calls_answer_at_the_sum_plus_hops() {
        // Each call costs its service plus a hop there and back: (10 + 2) + (20 + 2) + (30 + 2)
        // = 66 ms, then the external hop: 76 ms.
        let w = run(
            &[10, 20, 30],
            plan(Mode::Sequential, calls(&[2, 3, 4], None, None)),
            &[0],
            None,
        );
        assert_eq!(w.answers[0].1, 60 * MS + 3 * 2 * INT + EXT);
        assert_eq!(w.answers[0].2, Outcome::Ok);
        assert_eq!(w.reqs.live(), 0);
    }

    #[test]
    fn a_call_timeout_gives_the_timeout_or_the_fallback() {
        // 25 ms per call: the 30 ms call (answered at 32 ms) times out at 25 ms. The others are
        // back at 12 and 22 ms, so the parent is answered at 25 ms + the external hop.
        let p = plan(Mode::Parallel, calls(&[2, 3, 4], Some(25 * MS), None));
        let w = run(&[10, 20, 30], p, &[0], None);
        assert_eq!(w.answers[0].1, 25 * MS + EXT);
        assert_eq!(w.answers[0].2, Outcome::Timeout);
        assert_eq!(w.caller.fan.timeouts, 1);
        assert_eq!(w.reqs.live(), 0, "the late answer freed the timed-out call");

        // With a fallback of Ok (serve the page without that part) the parent succeeds.
        let p = plan(
            Mode::Parallel,
            calls(&[2, 3, 4], Some(25 * MS), Some(Outcome::Ok)),
        );
        let w = run(&[10, 20, 30], p, &[0], None);
        assert_eq!(w.answers[0].1, 25 * MS + EXT);
        assert_eq!(w.answers[0].2, Outcome::Ok);
        assert_eq!(w.reqs.live(), 0);

        // A configured fallback outcome other than Ok is what the parent gets.
        let p = plan(
            Mode::Parallel,
            calls(&[2, 3, 4], Some(25 * MS), Some(Outcome::Error)),
        );
        let w = run(&[10, 20, 30], p, &[0], None);
        assert_eq!(w.answers[0].2, Outcome::Error);
    }

    #[test]
    fn a_failed_sequential_call_ends_the_sequence() {
        // The second call (20 ms) times out at 15 ms after it was sent (at 12 ms): the parent
        // fails at 27 ms, and the third call is never made.
        let mut cs = calls(&[2, 3, 4], None, None);
        cs[1].timeout = Some(15 * MS);
        let w = run(&[10, 20, 30], plan(Mode::Sequential, cs), &[0], None);
        assert_eq!(w.answers[0].1, 12 * MS + 15 * MS + EXT);
        assert_eq!(w.answers[0].2, Outcome::Timeout);
        assert_eq!(w.caller.fan.calls, 2);
        assert_eq!(w.reqs.live(), 0);
    }

    #[test]
    fn the_parent_takes_the_worst_outcome() {
        assert!(severity(Outcome::Timeout) > severity(Outcome::Refused));
        assert!(severity(Outcome::Refused) > severity(Outcome::Unavailable));
        assert!(severity(Outcome::Unavailable) > severity(Outcome::Throttled));
        assert!(severity(Outcome::Throttled) > severity(Outcome::Ok));
        // Two calls per parent: one to a server with one worker and a backlog of 100, which gets
        // 102 calls at once, so the 102nd finds the backlog full and is refused; one to a 5 ms
        // server with a worker and a vCPU for each. The 102nd parent takes Refused over its other call's Ok.
        let parents: Vec<Time> = vec![0; 102];
        let p = plan(Mode::Parallel, calls(&[2, 3], None, None));
        let w = run_with(&[(10, 1), (5, 200)], p, &[], &parents, None);
        let refused = w.answers.iter().filter(|a| a.2 == Outcome::Refused).count();
        assert_eq!(refused, 1, "one call refused: its parent took the refusal");
        // The refused parent was answered as soon as both its calls were back: the refusal at
        // 2 ms (a hop there and back), the 5 ms call at 7 ms; then the external hop.
        let first = w
            .answers
            .iter()
            .find(|a| a.2 == Outcome::Refused)
            .expect("refused");
        assert_eq!(first.1, 5 * MS + 2 * INT + EXT);
        assert_eq!(w.answers.len(), 102);
        assert_eq!(w.reqs.live(), 0);
    }

    #[test]
    fn a_caller_crash_fails_its_parents_and_leaks_nothing() {
        // Two parents, crash at 5 ms while their 3 calls each are in service: both answered
        // Crashed at 5 ms + the external hop; the calls come back later and are freed.
        let p = plan(Mode::Parallel, calls(&[2, 3, 4], None, None));
        let w = run(&[10, 20, 30], p, &[0, 0], Some(5 * MS));
        assert_eq!(w.answers.len(), 2);
        assert!(w
            .answers
            .iter()
            .all(|a| a.1 == 5 * MS + EXT && a.2 == Outcome::Crashed));
        assert_eq!(w.reqs.live(), 0, "calls freed when they came back");
        assert_eq!(
            w.caller.fan.in_flight(),
            0,
            "slots released once their calls settled"
        );
    }

    #[test]
    fn an_open_breaker_fails_its_call_at_once_and_the_others_still_run() {
        // Calls to s10 (10 ms) and to s30 (30 ms, 25 ms timeout, a breaker opening at the first
        // failure for 100 ms). Parent 1 at 0: s30's call times out at 25 ms and opens the
        // breaker until 125 ms; the parent is answered at 25 ms (its slowest part) with the
        // timeout. Parent 2 at 50 ms: s30's call is not sent; the parent is answered when s10's
        // call is back, 50 + 1 + 10 + 1 = 62 ms, with 503 (or Ok with a fallback). Parent 3 at
        // 200 ms: half-open, the call is the probe; it times out at 225 ms: open again.
        let spec = BreakerSpec {
            target: "s30".into(),
            failures: 1,
            within: 1_000 * MS,
            open_for: 100 * MS,
            probes: 1,
        };
        for (fallback, short) in [
            (None, Outcome::Unavailable),
            (Some(Outcome::Ok), Outcome::Ok),
        ] {
            let mut cs = calls(&[2, 3], None, None);
            cs[1].timeout = Some(25 * MS);
            cs[1].breaker = Some(0);
            cs[1].fallback = fallback;
            let p = plan(Mode::Parallel, cs);
            let w = run_with(
                &[(10, 1), (30, 1)],
                p,
                std::slice::from_ref(&spec),
                &[0, 50 * MS, 200 * MS],
                None,
            );
            let timed_out = fallback.unwrap_or(Outcome::Timeout);
            let got: Vec<(Time, Outcome)> = w.answers.iter().map(|a| (a.1, a.2)).collect();
            assert_eq!(
                got,
                vec![
                    (25 * MS + EXT, timed_out),
                    (62 * MS + EXT, short),
                    (225 * MS + EXT, timed_out),
                ]
            );
            assert_eq!(
                w.caller.fan.breaker_totals(),
                (1, 2),
                "1 short-circuited, 2 openings"
            );
            assert_eq!(
                w.caller.fan.calls, 5,
                "the short-circuited call was never made"
            );
            let events: Vec<(Time, &str)> = w
                .caller
                .fan
                .events
                .iter()
                .map(|(t, e)| (*t, e.split(':').next().unwrap_or("")))
                .collect();
            assert_eq!(
                events,
                vec![
                    (25 * MS, "breaker to s30 opened"),
                    (200 * MS, "breaker to s30 half-open"),
                    (225 * MS, "breaker to s30 re-opened"),
                ]
            );
            assert_eq!(w.reqs.live(), 0);
        }
    }

    #[test]
    fn an_open_breaker_skips_a_sequential_call_to_its_fallback_or_ends_the_sequence() {
        // s30 times out (25 ms) and opens the breaker at parent 1; parent 2 (at 100 ms) calls s10
        // then s30 then s20: with a fallback of Ok s30's call is skipped and s20's made:
        // 100 + 12 + 22 = 134 ms; without one the sequence ends after s10: 112 ms, 503.
        let spec = BreakerSpec {
            target: "s30".into(),
            failures: 1,
            within: 1_000 * MS,
            open_for: 1_000 * MS,
            probes: 1,
        };
        for (fallback, at, outcome) in [
            (Some(Outcome::Ok), 134 * MS, Outcome::Ok),
            (None, 112 * MS, Outcome::Unavailable),
        ] {
            let mut cs = calls(&[2, 3, 4], None, None);
            cs[1].timeout = Some(25 * MS);
            cs[1].breaker = Some(0);
            cs[1].fallback = fallback;
            let w = run_with(
                &[(10, 1), (30, 1), (20, 1)],
                plan(Mode::Sequential, cs),
                std::slice::from_ref(&spec),
                &[0, 100 * MS],
                None,
            );
            assert_eq!((w.answers[1].1, w.answers[1].2), (at + EXT, outcome));
            assert_eq!(w.reqs.live(), 0);
        }
    }

    #[test]
    fn an_empty_plan_answers_at_once() {
        let w = run(&[], plan(Mode::Parallel, Vec::new()), &[3 * MS], None);
        assert_eq!(w.answers[0].1, 3 * MS + EXT);
        assert_eq!(w.answers[0].2, Outcome::Ok);
    }
}
