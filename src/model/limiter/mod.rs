//! Rate-limiting policies: four algorithms behind one small trait, chosen by a config string, and
//! a keyed table that keeps one policy state per key and forgets keys that have gone quiet.
//!
//! This is mechanism only — no component, no messages. A `rate_limiter` component owns one
//! [`Limiter`] and asks it about every request: admitted, or throttled with a retry-after figure.
//!
//! ```text
//!   "sliding_window" ─str::parse─▶ Kind ─check(kind, &Params)─▶ Spec ─Limiter::new─▶ Limiter
//!                                                                                      │
//!   request (key, now) ───────────────────────────────────────────────▶ Limiter::admit(key, now)
//!                          keys:     key ─▶ AnyPolicy (made fresh from the Spec)       │
//!                          fresh_at: min-heap of (when as good as new, key)            ▼
//!                                                   Decision { admitted, retry_after, counts }
//! ```
//!
//! | config name | admits a request at `now` iff | state per key |
//! |---|---|---|
//! | [`fixed_window`] | fewer than `limit` admitted in now's aligned window | index, count |
//! | [`sliding_log`] | fewer than `limit` admitted in `(now − window, now]` | ≤ `limit` times |
//! | `sliding_window` | `prev × (window − elapsed) / window + cur < limit` | index, 2 counts |
//! | [`token_bucket`] | a whole token is in the bucket (`rate`, `burst` tokens) | level, time |
//!
//! (`sliding_window` lives in [`sliding_counter`]; `sliding_counter` is accepted as its name too.)
//!
//! Everything is integer arithmetic on `u64` nanoseconds (in `u128` where products meet), so a
//! request that arrives exactly at a boundary — a window's start, the instant a token refills, the
//! instant the oldest logged request leaves the window — is decided the way the definition says,
//! never one rounding error early or late.
//!
//! Only admitted requests are counted by the window algorithms: a throttled request does not
//! prolong its own throttling (a client hammering a closed window gets in again when it opens).
//!
//! **Memory follows active keys.** Each held key has one entry in a min-heap keyed by the time its
//! state becomes indistinguishable from a fresh one ([`Policy::fresh_from`]: a full bucket, empty
//! windows). Every [`Limiter::admit`] looks at a few (≤ [`SWEEP_PER_ADMIT`]) due heap entries and
//! drops the keys that are as good as new, so a run with a million one-off keys holds only the keys
//! of the last window or so. No output depends on the hash map's iteration order: the map is only
//! ever looked up, and the heap orders by `(time, key)`, a total order.

pub mod fixed_window;
pub mod sliding_counter;
pub mod sliding_log;
pub mod token_bucket;

use crate::engine::time::{Time, MIN, SEC};
use crate::scenario::error::nearest;
use fixed_window::FixedWindow;
use sliding_counter::SlidingCounter;
use sliding_log::SlidingLog;
use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasherDefault;
use token_bucket::TokenBucket;

/// What every algorithm does for one key's state. `now` must not go back between calls on one
/// state (simulated time is monotone; [`Limiter::admit`] debug-asserts it). An earlier `now` does
/// not panic or break the state's invariants, but its answer means nothing.
pub trait Policy {
    /// Decides a request arriving at `now`: true if admitted (and counted), false if throttled.
    fn admit(&mut self, now: Time) -> bool;

    /// How long from `now` until a request would be admitted, if none is admitted meanwhile: 0 if
    /// one would be admitted now. The figure for a `Retry-After` header. Exact: a request at
    /// `now + retry_after(now)` is admitted, and (when that is above 0) one 1 ns earlier is not.
    fn retry_after(&self, now: Time) -> Time;

    /// The earliest time from which this state decides every later request exactly as a fresh one
    /// would, if no more requests are admitted (0 if it already does): the table may forget the
    /// key from then on. May be later than the true earliest, never earlier.
    fn fresh_from(&self) -> Time;
}

/// The algorithm names a config string may give, in the order messages list them.
/// `sliding_counter` is accepted too, as another name for `sliding_window`.
pub const NAMES: &[&str] = &[
    "token_bucket",
    "fixed_window",
    "sliding_log",
    "sliding_window",
];

/// Which algorithm: parsed from a config string with [`str::parse`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `"token_bucket"`: a bucket of `burst` tokens refilled at `rate`; a request takes one.
    TokenBucket,
    /// `"fixed_window"`: at most `limit` per window, windows aligned to multiples of `window`.
    FixedWindow,
    /// `"sliding_log"`: at most `limit` in any `window`, exactly (a log of admitted times).
    SlidingLog,
    /// `"sliding_window"` (or `"sliding_counter"`): the two-counter estimate of a sliding window.
    SlidingCounter,
}

impl Kind {
    /// The config name (`sliding_window` for [`Kind::SlidingCounter`]).
    pub fn name(self) -> &'static str {
        match self {
            Kind::TokenBucket => "token_bucket",
            Kind::FixedWindow => "fixed_window",
            Kind::SlidingLog => "sliding_log",
            Kind::SlidingCounter => "sliding_window",
        }
    }

    /// The parameters this algorithm takes, as named in messages.
    fn takes(self) -> &'static str {
        match self {
            Kind::TokenBucket => "rate and burst",
            _ => "limit and window",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    /// Reads a config name; the error says, in words, what the names are and which was meant.
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "token_bucket" => Kind::TokenBucket,
            "fixed_window" => Kind::FixedWindow,
            "sliding_log" => Kind::SlidingLog,
            "sliding_window" | "sliding_counter" => Kind::SlidingCounter,
            _ => {
                let names = format!(
                    "The algorithms are {} (sliding_counter is another name for sliding_window)",
                    NAMES.join(", ")
                );
                let candidates = NAMES.iter().copied().chain(["sliding_counter"]);
                let unknown = format!("there is no rate-limiting algorithm called \"{s}\"");
                return Err(match nearest(s, candidates) {
                    Some(n) => format!("{unknown}: did you mean \"{n}\"? {names}"),
                    None => format!("{unknown}. {names}"),
                });
            }
        })
    }
}

/// A refill rate: `tokens` every `per` nanoseconds, kept as the two integers so that 100 per
/// minute is exactly 100 per minute (not 1.666… per second).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rate {
    /// Tokens added each period.
    pub tokens: u64,
    /// The period, in nanoseconds.
    pub per: Time,
}

impl Rate {
    /// `n` tokens per second.
    pub const fn per_second(n: u64) -> Self {
        Rate {
            tokens: n,
            per: SEC,
        }
    }

    /// `n` tokens per minute.
    pub const fn per_minute(n: u64) -> Self {
        Rate {
            tokens: n,
            per: MIN,
        }
    }

    /// A rate a scenario gave per second (`"100/s"`, `"6000/min"`, `"50/h"` all read as a number
    /// per second): kept as whole tokens per hour, so any whole number per second, minute or hour
    /// is exact. At least one token an hour.
    pub fn from_per_second(per_second: f64) -> Self {
        Rate {
            tokens: (per_second * 3600.0).round().clamp(1.0, 1e15) as u64,
            per: 60 * MIN,
        }
    }
}

/// The parameters as the scenario gave them (already read as integers), before [`check`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Most requests per window (window algorithms).
    pub limit: Option<u64>,
    /// The window's length, ns (window algorithms).
    pub window: Option<Time>,
    /// Refill rate (token bucket).
    pub rate: Option<Rate>,
    /// Bucket size: the most requests admitted at once (token bucket).
    pub burst: Option<u64>,
}

/// The most requests a `sliding_log` may allow per window: it keeps one timestamp per admitted
/// request per key (8 bytes each), so a million is 8 MB for every busy key.
pub const MAX_LOG_LIMIT: u64 = 1_000_000;

/// A checked limiter configuration: the algorithm and its parameters, all above zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Spec {
    /// See [`FixedWindow`].
    FixedWindow {
        /// Most requests per window.
        limit: u64,
        /// Window length, ns.
        window: Time,
    },
    /// See [`SlidingLog`].
    SlidingLog {
        /// Most requests in any window (≤ [`MAX_LOG_LIMIT`]).
        limit: u64,
        /// Window length, ns.
        window: Time,
    },
    /// See [`SlidingCounter`].
    SlidingCounter {
        /// The estimate must stay below this.
        limit: u64,
        /// Window length, ns.
        window: Time,
    },
    /// See [`TokenBucket`].
    TokenBucket {
        /// Refill rate.
        rate: Rate,
        /// Bucket size.
        burst: u64,
    },
}

/// Checks the parameters given for `kind` and makes a [`Spec`]; the error says in words what is
/// wrong and what to write instead. Refused: a missing parameter, one the algorithm does not take,
/// a zero, and a `sliding_log` limit above [`MAX_LOG_LIMIT`].
pub fn check(kind: Kind, p: &Params) -> Result<Spec, String> {
    let name = kind.name();
    let foreign = match kind {
        Kind::TokenBucket => [("limit", p.limit.is_some()), ("window", p.window.is_some())],
        _ => [("rate", p.rate.is_some()), ("burst", p.burst.is_some())],
    };
    if let Some((key, _)) = foreign.iter().find(|(_, given)| *given) {
        let other = if kind == Kind::TokenBucket {
            "limit and window are for fixed_window, sliding_log and sliding_window"
        } else {
            "rate and burst are for token_bucket"
        };
        return Err(format!(
            "a {name} limiter takes {}, not {key} ({other})",
            kind.takes()
        ));
    }
    let need = |what: &str, why: &str| format!("a {name} limiter needs a {what} ({why})");
    let positive = |what: &str, why: &str| {
        format!("the {what} of a {name} limiter must be more than zero ({why})")
    };
    if kind == Kind::TokenBucket {
        let rate = p
            .rate
            .ok_or_else(|| need("rate", "how fast tokens come back, e.g. 100 per second"))?;
        let burst = p.burst.ok_or_else(|| {
            need(
                "burst",
                "the bucket's size: the most requests admitted at once",
            )
        })?;
        if rate.tokens == 0 {
            return Err(positive(
                "rate",
                "a bucket that never refills admits one burst, then nothing ever again",
            ));
        }
        if rate.per == 0 {
            return Err(positive(
                "rate's period",
                "tokens per no time at all is no rate",
            ));
        }
        if burst == 0 {
            return Err(positive(
                "burst",
                "a bucket that holds no token admits nothing",
            ));
        }
        return Ok(Spec::TokenBucket { rate, burst });
    }
    let limit = p
        .limit
        .ok_or_else(|| need("limit", "the most requests admitted per window"))?;
    let window = p
        .window
        .ok_or_else(|| need("window", "the span the limit counts over, e.g. 1s"))?;
    if limit == 0 {
        return Err(positive("limit", "a limit of zero admits nothing"));
    }
    if window == 0 {
        return Err(positive("window", "a window of no time counts nothing"));
    }
    Ok(match kind {
        Kind::FixedWindow => Spec::FixedWindow { limit, window },
        Kind::SlidingCounter => Spec::SlidingCounter { limit, window },
        Kind::SlidingLog if limit > MAX_LOG_LIMIT => {
            return Err(format!(
                "a sliding_log limit of {} is too large: the log keeps one timestamp per admitted \
                 request for every key, so it is capped at {}; use sliding_window, which keeps two \
                 counters per key whatever the limit",
                crate::scenario::error::thousands(limit),
                crate::scenario::error::thousands(MAX_LOG_LIMIT)
            ))
        }
        Kind::SlidingLog => Spec::SlidingLog { limit, window },
        Kind::TokenBucket => unreachable!("handled above"),
    })
}

impl Spec {
    /// The algorithm.
    pub fn kind(&self) -> Kind {
        match self {
            Spec::FixedWindow { .. } => Kind::FixedWindow,
            Spec::SlidingLog { .. } => Kind::SlidingLog,
            Spec::SlidingCounter { .. } => Kind::SlidingCounter,
            Spec::TokenBucket { .. } => Kind::TokenBucket,
        }
    }

    /// The state of a key never seen before.
    pub fn fresh(&self) -> AnyPolicy {
        match *self {
            Spec::FixedWindow { limit, window } => {
                AnyPolicy::FixedWindow(FixedWindow::new(limit, window))
            }
            Spec::SlidingLog { limit, window } => {
                AnyPolicy::SlidingLog(SlidingLog::new(limit, window))
            }
            Spec::SlidingCounter { limit, window } => {
                AnyPolicy::SlidingCounter(SlidingCounter::new(limit, window))
            }
            Spec::TokenBucket { rate, burst } => {
                AnyPolicy::TokenBucket(TokenBucket::new(rate, burst))
            }
        }
    }
}

/// One key's state, whichever the algorithm: static dispatch over the four [`Policy`]s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnyPolicy {
    /// A [`FixedWindow`].
    FixedWindow(FixedWindow),
    /// A [`SlidingLog`].
    SlidingLog(SlidingLog),
    /// A [`SlidingCounter`].
    SlidingCounter(SlidingCounter),
    /// A [`TokenBucket`].
    TokenBucket(TokenBucket),
}

impl Policy for AnyPolicy {
    #[inline]
    fn admit(&mut self, now: Time) -> bool {
        match self {
            AnyPolicy::FixedWindow(p) => p.admit(now),
            AnyPolicy::SlidingLog(p) => p.admit(now),
            AnyPolicy::SlidingCounter(p) => p.admit(now),
            AnyPolicy::TokenBucket(p) => p.admit(now),
        }
    }

    #[inline]
    fn retry_after(&self, now: Time) -> Time {
        match self {
            AnyPolicy::FixedWindow(p) => p.retry_after(now),
            AnyPolicy::SlidingLog(p) => p.retry_after(now),
            AnyPolicy::SlidingCounter(p) => p.retry_after(now),
            AnyPolicy::TokenBucket(p) => p.retry_after(now),
        }
    }

    #[inline]
    fn fresh_from(&self) -> Time {
        match self {
            AnyPolicy::FixedWindow(p) => p.fresh_from(),
            AnyPolicy::SlidingLog(p) => p.fresh_from(),
            AnyPolicy::SlidingCounter(p) => p.fresh_from(),
            AnyPolicy::TokenBucket(p) => p.fresh_from(),
        }
    }
}

/// The key of a limiter that limits everyone together (a global limit): use one key for all.
pub const GLOBAL: u64 = 0;

/// How many due entries of the forgetting heap each [`Limiter::admit`] looks at. A call adds at
/// most one key, and a key is re-queued at most once per admitted request, so at most two entries
/// fall due per call on average; looking at up to four drains any backlog while calls keep coming.
pub const SWEEP_PER_ADMIT: usize = 4;

/// Requests a table has decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Admitted.
    pub admitted: u64,
    /// Throttled.
    pub throttled: u64,
}

/// The answer for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// True if admitted, false if throttled.
    pub admitted: bool,
    /// How long until this key would admit a request (after this decision): 0 if it would now. For
    /// a throttled request, the `Retry-After` figure.
    pub retry_after: Time,
    /// The table's counts, this request included.
    pub counts: Counts,
}

/// A hasher with fixed keys, so the table behaves the same on every run (its iteration order is
/// never used anyway: the map is only looked up).
type FixedHasher = BuildHasherDefault<DefaultHasher>;

/// A keyed limiter: one [`Policy`] state per key, made fresh from the [`Spec`] the first time a
/// key is seen and forgotten once it is as good as fresh again.
#[derive(Clone, Debug)]
pub struct Limiter {
    spec: Spec,
    /// Each held key's state.
    keys: HashMap<u64, AnyPolicy, FixedHasher>,
    /// One entry per held key: a time at or before which its state was not yet fresh, and the
    /// key. When an entry falls due the key is forgotten if fresh, else re-queued at its new time.
    fresh_at: BinaryHeap<Reverse<(Time, u64)>>,
    counts: Counts,
    /// The latest `now` seen (time must not go back).
    last: Time,
}

impl Limiter {
    /// An empty table for `spec`.
    pub fn new(spec: Spec) -> Self {
        Self {
            spec,
            keys: HashMap::default(),
            fresh_at: BinaryHeap::new(),
            counts: Counts::default(),
            last: 0,
        }
    }

    /// The configuration.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// Decides a request for `key` arriving at `now` (never earlier than the previous call's), and
    /// forgets up to [`SWEEP_PER_ADMIT`] keys that have become as good as new.
    pub fn admit(&mut self, key: u64, now: Time) -> Decision {
        debug_assert!(now >= self.last, "time went back: {now} < {}", self.last);
        self.last = self.last.max(now);
        self.forget_idle(now, SWEEP_PER_ADMIT);
        let (state, new) = match self.keys.entry(key) {
            Entry::Occupied(e) => (e.into_mut(), false),
            Entry::Vacant(e) => (e.insert(self.spec.fresh()), true),
        };
        let admitted = state.admit(now);
        let retry_after = state.retry_after(now);
        if new {
            self.fresh_at.push(Reverse((state.fresh_from(), key)));
        }
        if admitted {
            self.counts.admitted += 1;
        } else {
            self.counts.throttled += 1;
        }
        debug_assert_eq!(
            self.fresh_at.len(),
            self.keys.len(),
            "one heap entry per key"
        );
        Decision {
            admitted,
            retry_after,
            counts: self.counts,
        }
    }

    /// How long from `now` until `key` would admit a request (0 for a key not held).
    pub fn retry_after(&self, key: u64, now: Time) -> Time {
        self.keys.get(&key).map_or(0, |p| p.retry_after(now))
    }

    /// Requests decided so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Keys held now (active ones, and idle ones not yet swept).
    pub fn keys_held(&self) -> usize {
        self.keys.len()
    }

    /// Looks at up to `budget` heap entries due by `now`: forgets each key whose state is as good
    /// as new, re-queues the others at their new time. Returns the number forgotten. [`admit`]
    /// calls it; a component may also call it from a timer to shed keys while no requests come.
    ///
    /// [`admit`]: Limiter::admit
    pub fn forget_idle(&mut self, now: Time, budget: usize) -> usize {
        let mut forgotten = 0;
        for _ in 0..budget {
            let Some(mut top) = self.fresh_at.peek_mut() else {
                break;
            };
            let Reverse((due, key)) = *top;
            if due > now {
                break;
            }
            let at = self.keys.get(&key).map_or(0, Policy::fresh_from);
            if at > now {
                *top = Reverse((at, key)); // sifts down when `top` drops
            } else {
                PeekMut::pop(top);
                self.keys.remove(&key);
                forgotten += 1;
            }
        }
        if forgotten > 0 {
            self.shrink_if_sparse();
        }
        forgotten
    }

    /// Gives memory back after a crowd of keys has gone: when the map is under a quarter full,
    /// halve it at least (amortised: the shrink is paid for by the removals that made it sparse).
    fn shrink_if_sparse(&mut self) {
        const FLOOR: usize = 64;
        let n = self.keys.len();
        if self.keys.capacity() > FLOOR && n * 4 < self.keys.capacity() {
            self.keys.shrink_to((2 * n).max(FLOOR));
            self.fresh_at.shrink_to((2 * n).max(FLOOR));
        }
    }

    /// Approximate bytes held by the table (for memory estimates). Walks the map for a
    /// `sliding_log`'s rings (a sum: the walk's order does not matter); O(1) otherwise.
    pub fn approx_bytes(&self) -> usize {
        let per_key = std::mem::size_of::<(u64, AnyPolicy)>() + 1;
        let heap = std::mem::size_of::<Reverse<(Time, u64)>>();
        let logs: usize = match self.spec {
            Spec::SlidingLog { .. } => self
                .keys
                .values()
                .map(|p| match p {
                    AnyPolicy::SlidingLog(l) => l.capacity() * std::mem::size_of::<Time>(),
                    _ => 0,
                })
                .sum(),
            _ => 0,
        };
        self.keys.capacity() * per_key + self.fresh_at.capacity() * heap + logs
    }
}

/// Shared helpers for the algorithms' tests: a deterministic arrival script, and exact checks of
/// `retry_after` and `fresh_from` against clones of a state.
#[cfg(test)]
pub(crate) mod testkit {
    use super::Policy;
    use crate::engine::rng::mix64;
    use crate::engine::time::Time;

    /// `n` arrival times from `seed`: gaps uniform in `0..2 × mean_gap`, with one in four gaps 0
    /// (simultaneous arrivals) and one in sixteen a long pause of `pause` (so windows and buckets
    /// empty and fill again).
    pub fn arrivals(seed: u64, n: usize, mean_gap: Time, pause: Time) -> Vec<Time> {
        let mut t = 0;
        (0..n as u64)
            .map(|i| {
                let r = mix64(seed.wrapping_mul(0x1000_0000_01b3) ^ i);
                t += match r % 16 {
                    0..=3 => 0,
                    4 => pause,
                    _ => (r >> 8) % (2 * mean_gap),
                };
                t
            })
            .collect()
    }

    /// `retry_after(now)` is exact: a clone admits at `now + d` and, if `d > 0`, refuses at
    /// `now + d − 1` (admission only gets easier as time passes with nothing admitted, so that
    /// pins `d` as the least such wait).
    pub fn assert_retry_after_exact<P: Policy + Clone>(p: &P, now: Time) {
        let d = p.retry_after(now);
        assert!(
            p.clone().admit(now + d),
            "not admitted after retry_after {d} at {now}"
        );
        if d > 0 {
            assert!(
                !p.clone().admit(now + d - 1),
                "admitted before retry_after {d} at {now}"
            );
        }
    }

    /// From `fresh_from()`, the state decides like a fresh one (checked on a short burst).
    pub fn assert_fresh_from_holds<P: Policy + Clone>(p: &P, fresh: &P, gap: Time) {
        let t0 = p.fresh_from();
        let (mut a, mut b) = (p.clone(), fresh.clone());
        for i in 0..8 {
            let t = t0 + i * gap;
            assert_eq!(
                a.admit(t),
                b.admit(t),
                "differs from fresh at {t} (fresh_from {t0})"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{MS, SEC};

    fn spec(kind: &str, p: Params) -> Spec {
        check(kind.parse().unwrap(), &p).unwrap()
    }

    fn windowed(limit: u64, window: Time) -> Params {
        Params {
            limit: Some(limit),
            window: Some(window),
            ..Params::default()
        }
    }

    fn bucket(rate: Rate, burst: u64) -> Params {
        Params {
            rate: Some(rate),
            burst: Some(burst),
            ..Params::default()
        }
    }

    /// One spec of each algorithm, with the same nominal limit: 10 per second.
    fn all_specs() -> [Spec; 4] {
        [
            spec("fixed_window", windowed(10, SEC)),
            spec("sliding_log", windowed(10, SEC)),
            spec("sliding_window", windowed(10, SEC)),
            spec("token_bucket", bucket(Rate::per_second(10), 10)),
        ]
    }

    #[test]
    fn names_parse_with_the_alias_and_near_misses_get_a_suggestion() {
        for (s, k) in [
            ("token_bucket", Kind::TokenBucket),
            ("fixed_window", Kind::FixedWindow),
            ("sliding_log", Kind::SlidingLog),
            ("sliding_window", Kind::SlidingCounter),
            ("sliding_counter", Kind::SlidingCounter),
        ] {
            assert_eq!(s.parse::<Kind>(), Ok(k));
        }
        // Every listed name round-trips through `name`.
        for n in NAMES {
            assert_eq!(n.parse::<Kind>().unwrap().name(), *n);
        }
        let e = "token_buckt".parse::<Kind>().unwrap_err();
        assert!(e.contains("did you mean \"token_bucket\"?"), "{e}");
        assert!(
            e.contains("token_bucket, fixed_window, sliding_log, sliding_window"),
            "lists the names: {e}"
        );
        let e = "slidng_log".parse::<Kind>().unwrap_err();
        assert!(e.contains("did you mean \"sliding_log\"?"), "{e}");
        let e = "leaky".parse::<Kind>().unwrap_err();
        assert!(!e.contains("did you mean"), "no wild guess: {e}");
        assert!(e.contains("The algorithms are token_bucket"), "{e}");
    }

    #[test]
    fn check_refuses_missing_foreign_and_zero_parameters_in_words() {
        let err = |k: Kind, p: Params| check(k, &p).unwrap_err();
        let e = err(Kind::FixedWindow, Params::default());
        assert_eq!(
            e,
            "a fixed_window limiter needs a limit (the most requests admitted per window)"
        );
        let e = err(
            Kind::SlidingLog,
            Params {
                limit: Some(5),
                ..Params::default()
            },
        );
        assert!(e.contains("needs a window"), "{e}");
        let e = err(Kind::TokenBucket, windowed(5, SEC));
        assert_eq!(
            e,
            "a token_bucket limiter takes rate and burst, not limit (limit and window are for \
             fixed_window, sliding_log and sliding_window)"
        );
        let e = err(
            Kind::SlidingCounter,
            Params {
                burst: Some(3),
                ..windowed(5, SEC)
            },
        );
        assert!(
            e.contains("takes limit and window, not burst (rate and burst are for token_bucket)"),
            "{e}"
        );
        for (k, p, what) in [
            (Kind::FixedWindow, windowed(0, SEC), "the limit of"),
            (Kind::SlidingCounter, windowed(3, 0), "the window of"),
            (
                Kind::TokenBucket,
                bucket(Rate::per_second(0), 3),
                "the rate of",
            ),
            (
                Kind::TokenBucket,
                bucket(Rate { tokens: 3, per: 0 }, 3),
                "the rate's period",
            ),
            (
                Kind::TokenBucket,
                bucket(Rate::per_second(3), 0),
                "the burst of",
            ),
        ] {
            let e = err(k, p);
            assert!(
                e.starts_with(what) && e.contains("must be more than zero ("),
                "{e}"
            );
        }
        assert_eq!(
            check(Kind::TokenBucket, &bucket(Rate::per_minute(100), 5)),
            Ok(Spec::TokenBucket {
                rate: Rate {
                    tokens: 100,
                    per: 60 * SEC
                },
                burst: 5
            })
        );
    }

    #[test]
    fn check_refuses_a_sliding_log_too_big_to_keep() {
        assert!(check(Kind::SlidingLog, &windowed(MAX_LOG_LIMIT, SEC)).is_ok());
        let e = check(Kind::SlidingLog, &windowed(MAX_LOG_LIMIT + 1, SEC)).unwrap_err();
        assert!(
            e.contains("a sliding_log limit of 1,000,001 is too large"),
            "{e}"
        );
        assert!(e.contains("use sliding_window"), "{e}");
        // The counter variant keeps two counters whatever the limit.
        assert!(check(Kind::SlidingCounter, &windowed(u64::MAX, SEC)).is_ok());
    }

    #[test]
    fn keys_are_independent() {
        // Key 1 spends its 10 at t = 0; key 2, asked at the same instant, still has all its own.
        for s in all_specs() {
            let mut l = Limiter::new(s);
            for _ in 0..10 {
                assert!(l.admit(1, 0).admitted, "{s:?}");
            }
            let d = l.admit(1, 0);
            assert!(!d.admitted, "{s:?}: key 1's 11th at t=0 is throttled");
            for _ in 0..10 {
                assert!(l.admit(2, 0).admitted, "{s:?}: key 2 untouched by key 1");
            }
            assert!(!l.admit(2, 0).admitted);
            assert_eq!(
                l.counts(),
                Counts {
                    admitted: 20,
                    throttled: 2
                }
            );
            assert_eq!(l.keys_held(), 2);
        }
    }

    #[test]
    fn decisions_carry_the_counts_and_the_retry_after() {
        // Fixed window, 2 per second. t = 0.3 s: two admitted, the third throttled until the next
        // window opens at 1 s, so retry after 0.7 s.
        let mut l = Limiter::new(spec("fixed_window", windowed(2, SEC)));
        let t = 300 * MS;
        let a = l.admit(GLOBAL, t);
        assert_eq!((a.admitted, a.retry_after), (true, 0), "one left");
        let b = l.admit(GLOBAL, t);
        assert_eq!(
            (b.admitted, b.retry_after),
            (true, 700 * MS),
            "window now full"
        );
        let c = l.admit(GLOBAL, t);
        assert_eq!(
            c,
            Decision {
                admitted: false,
                retry_after: 700 * MS,
                counts: Counts {
                    admitted: 2,
                    throttled: 1
                }
            }
        );
        assert_eq!(l.retry_after(GLOBAL, 999 * MS), MS);
        assert_eq!(l.retry_after(GLOBAL, SEC), 0);
        assert_eq!(l.retry_after(7, 0), 0, "a key never seen is free");
        assert!(l.admit(GLOBAL, SEC).admitted);
    }

    #[test]
    fn a_million_one_off_keys_leave_only_the_active_ones() {
        // One new key every millisecond for 1000 s: 1,000,000 keys, each seen once. A key is
        // forgotten once its state is fresh again, measured from its one admitted request at t:
        //   fixed_window (1 s):   the end of t's window       → at most 1000 held (this second)
        //   sliding_log (1 s):    t + 1 s                     → at most 1000
        //   sliding_window (1 s): the end of the window after → at most 2000 (this second and last)
        //   token_bucket 10/s, burst 10: one token back after → t + 100 ms → at most 100
        // plus the few due entries not yet swept (a call sweeps up to 4; one falls due per call).
        let bounds = [1000, 1000, 2000, 100];
        for (s, bound) in all_specs().into_iter().zip(bounds) {
            let mut l = Limiter::new(s);
            let mut most = 0;
            for i in 0..1_000_000u64 {
                assert!(l.admit(i, i * MS).admitted);
                most = most.max(l.keys_held());
            }
            assert!(most <= bound + 2, "{s:?}: {most} keys held at most");
            assert!(l.keys_held() <= bound + 2);
            assert!(
                l.approx_bytes() < 1 << 20,
                "{s:?}: {} bytes",
                l.approx_bytes()
            );
        }
    }

    #[test]
    fn memory_is_given_back_after_a_crowd_of_keys_leaves() {
        // 100,000 keys in the first millisecond, then one key asked every 10 ms: the crowd is
        // forgotten (4 per call) within 25,000 calls and the map shrinks back.
        let mut l = Limiter::new(spec("sliding_window", windowed(5, SEC)));
        for i in 0..100_000u64 {
            l.admit(i, i * 10); // 10 ns apart: all within [0, 1 ms)
        }
        assert_eq!(l.keys_held(), 100_000);
        let peak = l.approx_bytes();
        for j in 0..30_000u64 {
            l.admit(u64::MAX, 10 * SEC + j * 10 * MS);
        }
        assert_eq!(l.keys_held(), 1, "only the one active key");
        assert!(
            l.approx_bytes() * 100 < peak,
            "{} bytes now, {peak} at the peak",
            l.approx_bytes()
        );
    }

    #[test]
    fn extreme_times_and_sizes_do_not_overflow() {
        // The last nanoseconds of u64 time, the largest limits, a window as long as time itself:
        // every product and sum saturates or fits (the test profile panics on overflow).
        let specs = [
            spec("fixed_window", windowed(u64::MAX, 1)),
            spec("fixed_window", windowed(1, u64::MAX)),
            spec("sliding_log", windowed(MAX_LOG_LIMIT, u64::MAX)),
            spec("sliding_window", windowed(u64::MAX, u64::MAX)),
            spec("sliding_window", windowed(1, 1)),
            spec("token_bucket", bucket(Rate::per_second(u64::MAX), u64::MAX)),
            spec(
                "token_bucket",
                bucket(
                    Rate {
                        tokens: 1,
                        per: u64::MAX,
                    },
                    1,
                ),
            ),
        ];
        for s in specs {
            let mut l = Limiter::new(s);
            for t in [0, 1, u64::MAX / 2, u64::MAX - 1, u64::MAX, u64::MAX] {
                let d = l.admit(3, t);
                let _ = (d.retry_after, l.keys[&3].fresh_from());
            }
            assert!(l.counts().admitted >= 1, "{s:?}");
        }
    }

    #[test]
    fn forgetting_never_changes_a_decision() {
        // The same script through the table and through a map that never forgets: same answers.
        // 4,000 arrivals over 300 keys (a few hot ones), with pauses so keys go idle and return.
        use crate::engine::rng::mix64;
        use std::collections::BTreeMap;
        let specs = [
            spec("fixed_window", windowed(3, 200 * MS)),
            spec("sliding_log", windowed(3, 200 * MS)),
            spec("sliding_window", windowed(3, 200 * MS)),
            spec("token_bucket", bucket(Rate::per_second(7), 3)),
        ];
        for s in specs {
            let times = testkit::arrivals(9, 4000, 5 * MS, 500 * MS);
            let mut l = Limiter::new(s);
            let mut all: BTreeMap<u64, AnyPolicy> = BTreeMap::new();
            let mut forgot_some = false;
            for (i, &t) in times.iter().enumerate() {
                let r = mix64(i as u64);
                let key = if r % 2 == 0 { r % 5 } else { r % 300 };
                let before = l.keys_held();
                let d = l.admit(key, t);
                forgot_some |= l.keys_held() < before;
                let p = all.entry(key).or_insert_with(|| s.fresh());
                assert_eq!(d.admitted, p.admit(t), "{s:?} key {key} at {t}");
                assert_eq!(d.retry_after, p.retry_after(t));
            }
            assert!(forgot_some, "{s:?}: the script exercises forgetting");
        }
    }
}
