//! Token bucket: a bucket holding at most `burst` tokens, refilled at `rate` (`tokens` every `per`
//! nanoseconds); a request takes one whole token or is throttled. It starts full, so a quiet key
//! gets `burst` at once, then one per `per / tokens` on average.
//!
//! **Exact in integers.** The level is kept in units of `1 / per` of a token, so nothing is ever
//! divided:
//!
//! ```text
//!   refill over Δt ns  = Δt × tokens   units      (per ns of time, `tokens` units come back)
//!   one token (a request) = per         units
//!   capacity           = burst × per   units      all u128: Δt × tokens < 2^128 for any u64s
//!
//!   rate 10/s, burst 1 (tokens 10, per 1e9): a token is 1e9 units, 100 ms refills
//!   1e8 × 10 = 1e9 units — exactly one token, so a request at exactly 100 ms is admitted;
//!   at 99,999,999 ns the bucket holds 999,999,990 units and the request is throttled.
//! ```
//!
//! A bucket kept in floating-point tokens gets these boundaries wrong: at 30/s the third token
//! after a drained burst comes back at exactly 100 ms, where a float level reads 0.9999999999999999
//! (test `a_float_bucket_refuses_what_the_exact_one_admits`).

use super::{Policy, Rate};
use crate::engine::time::Time;

/// One key's token-bucket state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    /// Units added per nanosecond (the rate's `tokens`).
    tokens: u64,
    /// Units in one token (the rate's `per`).
    per: u64,
    /// Bucket size in units: `burst × per`.
    cap: u128,
    /// Units in the bucket at `last`.
    level: u128,
    /// Time of the last refill.
    last: Time,
}

impl TokenBucket {
    /// A bucket for a scenario's rate per second (`"100/s"`, `"6000/min"` read as a number per
    /// second; see [`Rate::from_per_second`]) holding `burst` (at least 1).
    pub fn per_second(per_second: f64, burst: u32) -> Self {
        Self::new(Rate::from_per_second(per_second), u64::from(burst.max(1)))
    }

    /// A full bucket of `burst` tokens refilled at `rate` (all above zero; see [`super::check`]).
    pub fn new(rate: Rate, burst: u64) -> Self {
        assert!(
            rate.tokens > 0 && rate.per > 0 && burst > 0,
            "checked by limiter::check"
        );
        let cap = u128::from(burst) * u128::from(rate.per);
        Self {
            tokens: rate.tokens,
            per: rate.per,
            cap,
            level: cap,
            last: 0,
        }
    }

    /// Units in the bucket at `now` (no earlier than the last call).
    fn level_at(&self, now: Time) -> u128 {
        let dt = now.saturating_sub(self.last);
        let refill = u128::from(dt) * u128::from(self.tokens);
        self.level.saturating_add(refill).min(self.cap)
    }

    /// Whole tokens in the bucket at `now` (what a `RateLimit-Remaining` header would say).
    pub fn available(&self, now: Time) -> u64 {
        (self.level_at(now) / u128::from(self.per)) as u64 // ≤ burst, a u64
    }

    /// Nanoseconds of refill it takes to gain `want` units (rounded up).
    fn time_to_gain(&self, want: u128) -> Time {
        let t = want.div_ceil(u128::from(self.tokens));
        Time::try_from(t).unwrap_or(Time::MAX)
    }
}

impl Policy for TokenBucket {
    fn admit(&mut self, now: Time) -> bool {
        self.level = self.level_at(now);
        self.last = self.last.max(now);
        let one = u128::from(self.per);
        if self.level >= one {
            self.level -= one;
            true
        } else {
            false
        }
    }

    fn retry_after(&self, now: Time) -> Time {
        let level = self.level_at(now);
        let one = u128::from(self.per);
        if level >= one {
            0
        } else {
            self.time_to_gain(one - level)
        }
    }

    fn fresh_from(&self) -> Time {
        if self.level >= self.cap {
            0
        } else {
            self.last
                .saturating_add(self.time_to_gain(self.cap - self.level))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit;
    use super::*;
    use crate::engine::time::{MS, SEC};

    #[test]
    fn a_burst_then_exactly_one_per_interval() {
        // 10/s, burst 5: five at t = 0 (the 6th throttled), then one every 100 ms exactly; one
        // arriving 1 ns before its token is throttled and does not delay the next.
        let mut p = TokenBucket::new(Rate::per_second(10), 5);
        let got: Vec<bool> = (0..6).map(|_| p.admit(0)).collect();
        assert_eq!(got, [true, true, true, true, true, false]);
        assert_eq!(p.retry_after(0), 100 * MS);
        for k in 1..=50 {
            let t = k * 100 * MS;
            assert!(!p.admit(t - 1), "1 ns early at {t}");
            assert!(p.admit(t), "on time at {t}");
            assert!(!p.admit(t), "only one per token");
        }
        // After a long pause the bucket is full again, never more: burst 5 at 60 s.
        assert_eq!(p.fresh_from(), 5 * SEC + 500 * MS, "5 tokens short at 5 s");
        assert_eq!(p.available(60 * SEC), 5);
        assert_eq!((0..7).filter(|_| p.admit(60 * SEC)).count(), 5);
    }

    #[test]
    fn a_request_exactly_when_a_token_refills_is_admitted() {
        // 10/s, burst 1: requests at 0, 100 ms, 200 ms, ... all admitted (each finds exactly
        // 1e8 × 10 = 1e9 units = one token); one at 99.999999 ms finds 999,999,990 and is not.
        let mut p = TokenBucket::new(Rate::per_second(10), 1);
        for k in 0..1000 {
            assert!(p.admit(k * 100 * MS), "at {k} × 100 ms");
        }
        let mut q = TokenBucket::new(Rate::per_second(10), 1);
        assert!(q.admit(0));
        assert!(!q.admit(99_999_999));
        assert_eq!(q.retry_after(99_999_999), 1);
        assert!(q.admit(100 * MS));
    }

    #[test]
    fn a_per_minute_rate_is_exact() {
        // 100/min, burst 1: a token every 0.6 s exactly (100 × 0.6 s = 60 s), though 100/60 per
        // second has no finite binary (or decimal) form. 1,000 requests at k × 600 ms: all in.
        let mut p = TokenBucket::new(Rate::per_minute(100), 1);
        for k in 0..1000 {
            assert!(p.admit(k * 600 * MS), "at {k} × 600 ms");
            assert!(!p.admit(k * 600 * MS + 599_999_999), "1 ns early");
        }
        // 7 per second: tokens at ceil(k × 1e9 / 7) ns; 142,857,143 ns after a drained bucket,
        // 142,857,143 × 7 = 1,000,000,001 units ≥ one token, and 1 ns earlier 999,999,994 < 1e9.
        let mut q = TokenBucket::new(Rate::per_second(7), 1);
        assert!(q.admit(0));
        assert_eq!(q.retry_after(0), 142_857_143);
        testkit::assert_retry_after_exact(&q, 0);
    }

    #[test]
    fn a_float_bucket_refuses_what_the_exact_one_admits() {
        // 30/s, burst 2, both spent at 0; requests at the instants the integer bucket refills a
        // token: 33,333,334 ns (level 1,000,000,020 units → in, 20 left), 66,666,667 ns
        // (+999,999,990 → 1,000,000,010 → in, 10 left), 100,000,000 ns (+999,999,990 → exactly
        // 1e9 → in).
        // Three tokens in 100 ms at 30/s: all three are owed.
        let times = [33_333_334, 66_666_667, 100_000_000];
        let mut exact = TokenBucket::new(Rate::per_second(30), 2);
        assert!(exact.admit(0) && exact.admit(0));
        assert!(times.iter().all(|&t| exact.admit(t)));
        // The same in f64 tokens: the third finds 0.9999999999999999 and is refused.
        let (mut level, mut last, rate) = (0.0f64, 0, 30.0);
        let float: Vec<bool> = times
            .iter()
            .map(|&t| {
                level = (level + (t - last) as f64 / 1e9 * rate).min(2.0);
                last = t;
                let ok = level >= 1.0;
                if ok {
                    level -= 1.0;
                }
                ok
            })
            .collect();
        assert_eq!(float, [true, true, false], "the float bucket's error");
    }

    #[test]
    fn matches_the_virtual_scheduling_reference() {
        // Reference: GCRA (virtual scheduling), a different formulation of the same bucket: keep
        // the theoretical arrival time TAT (when the bucket would be full); admit at t iff
        // t ≥ TAT − (burst − 1) × interval, then TAT = max(TAT, t) + interval. In units of
        // 1/tokens ns (× tokens), interval = per, so it too is exact.
        let cases = [
            (10, Rate::per_second(10), 1),
            (11, Rate::per_second(7), 3),
            (12, Rate::per_minute(100), 5),
            (
                13,
                Rate {
                    tokens: 3,
                    per: 10 * MS,
                },
                2,
            ),
        ];
        for (seed, rate, burst) in cases {
            let times = testkit::arrivals(seed, 4000, rate.per / rate.tokens / 2, 10 * rate.per);
            let mut p = TokenBucket::new(rate, burst);
            let (tokens, per) = (u128::from(rate.tokens), u128::from(rate.per));
            let tau = u128::from(burst - 1) * per;
            let mut tat: u128 = 0;
            let (mut yes, mut no) = (0, 0);
            for (i, &t) in times.iter().enumerate() {
                if i % 37 == 0 {
                    testkit::assert_retry_after_exact(&p, t);
                    testkit::assert_fresh_from_holds(&p, &TokenBucket::new(rate, burst), MS);
                }
                let now = u128::from(t) * tokens;
                let want = now + tau >= tat;
                if want {
                    tat = tat.max(now) + per;
                    yes += 1;
                } else {
                    no += 1;
                }
                assert_eq!(p.admit(t), want, "seed {seed} at {t}");
            }
            assert!(
                yes > 100 && no > 100,
                "both answers exercised: {yes} / {no}"
            );
        }
    }
}
