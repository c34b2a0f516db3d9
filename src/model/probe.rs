//! Health probes: a tiny request sent to a target, answered or timed out. Shared by the load
//! balancer's target health checks and DNS failover health checks, so both detect failure the same
//! way real checkers do — by asking.

use super::request::{Outcome, ReqId, ReqState};
use super::{CompId, Ctx, Msg, Timer, PROBE_TIMEOUT};
use crate::engine::time::Time;
use crate::engine::RngStream;

/// Marks a route word as belonging to a probe (the low bits carry the checker's own index).
pub const PROBE_BIT: u32 = 1 << 31;
/// Request class used for probes (never reported as a user request).
pub const PROBE_CLASS: u16 = u16::MAX;
/// CPU work of a probe relative to a normal request (a static health page is cheap).
pub const PROBE_WORK: f64 = 0.01;

/// Sends a probe to `target`, tagged with `tag`, timing out after `timeout`.
pub fn send(ctx: &mut Ctx, rng: &mut RngStream, target: CompId, tag: u32, timeout: Time) {
    let now = ctx.now();
    let me = ctx.me;
    let id = ctx.reqs.alloc(PROBE_CLASS, u32::MAX, now, PROBE_WORK);
    let r = ctx.reqs.get_mut(id).expect("fresh");
    r.tls_terminated = true;
    r.push_hop(me, tag | PROBE_BIT);
    let d = ctx.hop_delay(target, rng);
    ctx.send(target, Msg::Request(id), d);
    ctx.timer(timeout, Timer::Req(PROBE_TIMEOUT, id));
}

/// The result of a probe event, if `id` is a probe of this component.
pub enum ProbeResult {
    /// Answered in time: success or failure.
    Answered {
        /// The tag given at send.
        tag: u32,
        /// True if the answer was a success.
        ok: bool,
    },
    /// Not answered in time (counted once; the late answer is dropped when it comes).
    TimedOut {
        /// The tag given at send.
        tag: u32,
    },
    /// Nothing to do (a late answer of a timed-out probe, or a stale timer).
    Ignore,
}

/// True if the answer `id` belongs to a probe (check before treating it as a user request).
pub fn is_probe(ctx: &Ctx, id: ReqId) -> bool {
    ctx.reqs
        .get(id)
        .and_then(|r| r.top_data())
        .is_some_and(|d| d & PROBE_BIT != 0)
}

/// Handles the answer to a probe (frees it).
pub fn on_response(ctx: &mut Ctx, id: ReqId) -> ProbeResult {
    let Some(r) = ctx.reqs.get(id) else {
        return ProbeResult::Ignore;
    };
    let tag = r.top_data().unwrap_or(0) & !PROBE_BIT;
    let state = r.state;
    let ok = r.outcome == Outcome::Ok;
    ctx.reqs.free(id);
    match state {
        ReqState::Abandoned => ProbeResult::Ignore,
        _ => ProbeResult::Answered { tag, ok },
    }
}

/// Handles a probe's timeout.
pub fn on_timeout(ctx: &mut Ctx, id: ReqId) -> ProbeResult {
    let Some(r) = ctx.reqs.get_mut(id) else {
        return ProbeResult::Ignore;
    };
    if r.state != ReqState::Pending {
        return ProbeResult::Ignore;
    }
    r.state = ReqState::Abandoned;
    let tag = r.top_data().unwrap_or(0) & !PROBE_BIT;
    ProbeResult::TimedOut { tag }
}
