//! Sliding window counter (`sliding_window`, also `sliding_counter`): the two-counter estimate of a
//! sliding window that Cloudflare and nginx-style limiters use. Windows are aligned to multiples of
//! `window` from time 0; with `prev` admitted in the previous window, `cur` in the current one and
//! `elapsed` into it, the requests in the last `window` are estimated as if the previous window's
//! were spread evenly over it:
//!
//! ```text
//!   estimate = prev × (window − elapsed) / window + cur        admit iff estimate < limit
//!
//!   limit 10, window 1 s: 8 admitted in [0, 1 s); at 1.25 s (elapsed 0.25 s), cur = 0:
//!     8 × 0.75 + 0 = 6 → admitted, and so are the next three (6 + 1, 6 + 2, 6 + 3 < 10);
//!     6 + 4 = 10 is not below 10 → throttled.
//! ```
//!
//! Decided in integers, multiplied through by `window` (u128, so no product overflows):
//! `prev × (window − elapsed) + cur × window < limit × window`. Two counters per key, whatever the
//! limit; the price is that the estimate can be off when the previous window's traffic was bunched.

use super::Policy;
use crate::engine::time::Time;

/// One key's sliding-counter state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlidingCounter {
    limit: u64,
    window: Time,
    /// Which window `cur` is for: `now / window`.
    index: u64,
    /// Admitted in window `index − 1`.
    prev: u64,
    /// Admitted in window `index`.
    cur: u64,
}

impl SlidingCounter {
    /// A fresh state: estimate below `limit` over `window` (both above zero; see
    /// [`super::check`]).
    pub fn new(limit: u64, window: Time) -> Self {
        assert!(limit > 0 && window > 0, "checked by limiter::check");
        Self {
            limit,
            window,
            index: 0,
            prev: 0,
            cur: 0,
        }
    }

    /// `(prev, cur, elapsed)` as seen at `now`: the counters rolled forward to now's window.
    fn view(&self, now: Time) -> (u64, u64, Time) {
        let index = now / self.window;
        let elapsed = now % self.window;
        match index.checked_sub(self.index) {
            None | Some(0) => (self.prev, self.cur, elapsed), // (None: time went back; stay put)
            Some(1) => (self.cur, 0, elapsed),
            Some(_) => (0, 0, elapsed),
        }
    }

    /// The estimate times `window`: `prev × (window − elapsed) + cur × window`. Each product fits
    /// in a u128; their sum saturates, which only happens far above `limit × window`.
    fn scaled_estimate(&self, prev: u64, cur: u64, elapsed: Time) -> u128 {
        let old = u128::from(prev) * u128::from(self.window - elapsed);
        old.saturating_add(u128::from(cur) * u128::from(self.window))
    }

    /// The estimate at `now`, in requests (for reports; decisions use the exact integer form).
    pub fn estimate(&self, now: Time) -> f64 {
        let (prev, cur, elapsed) = self.view(now);
        self.scaled_estimate(prev, cur, elapsed) as f64 / self.window as f64
    }

    /// The least `elapsed` in `[0, window)` at which counters `prev`, `cur` admit, if any. The
    /// estimate only falls as `elapsed` grows, so the admitting offsets are `[e, window)`:
    /// `prev × (window − e) < (limit − cur) × window` ⇔ `window − e ≤ (room − 1) / prev`.
    fn first_admitting(&self, prev: u64, cur: u64) -> Option<Time> {
        let w = u128::from(self.window);
        let cap = u128::from(self.limit) * w;
        let used = u128::from(cur) * w;
        if used >= cap {
            return None;
        }
        if prev == 0 {
            return Some(0);
        }
        let most_left = (cap - used - 1) / u128::from(prev); // the largest window − e that fits
        let e = w.saturating_sub(most_left);
        (e < w).then_some(e as Time)
    }
}

impl Policy for SlidingCounter {
    fn admit(&mut self, now: Time) -> bool {
        let (prev, cur, elapsed) = self.view(now);
        self.index = self.index.max(now / self.window);
        self.prev = prev;
        self.cur = cur;
        let cap = u128::from(self.limit) * u128::from(self.window);
        if self.scaled_estimate(prev, cur, elapsed) < cap {
            self.cur += 1;
            true
        } else {
            false
        }
    }

    fn retry_after(&self, now: Time) -> Time {
        let (prev, cur, elapsed) = self.view(now);
        if let Some(e) = self.first_admitting(prev, cur) {
            return e.max(elapsed) - elapsed; // later in this window (or now)
        }
        let to_next = self.window - elapsed;
        match self.first_admitting(cur, 0) {
            Some(e) => to_next.saturating_add(e), // in the next window, `cur` becomes `prev`
            None => to_next.saturating_add(self.window), // the one after: both counts are 0
        }
    }

    fn fresh_from(&self) -> Time {
        let w = self.window;
        if self.cur > 0 {
            self.index.saturating_add(2).saturating_mul(w) // `cur` is `prev` until then
        } else if self.prev > 0 {
            self.index.saturating_add(1).saturating_mul(w)
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit;
    use super::*;
    use crate::engine::time::{MS, SEC};

    /// Admits `n` at `t`; returns how many got in.
    fn burst(p: &mut SlidingCounter, t: Time, n: usize) -> usize {
        (0..n).filter(|_| p.admit(t)).count()
    }

    #[test]
    fn the_worked_example_matches_the_formula() {
        // The module doc's example: limit 10, window 1 s, 8 admitted in window 0.
        let mut p = SlidingCounter::new(10, SEC);
        assert_eq!(burst(&mut p, 500 * MS, 8), 8);
        // 1.25 s: 8 × 0.75 + cur < 10 ⇔ cur < 4: cur = 0, 1, 2, 3 admitted, the 5th throttled.
        assert_eq!(p.estimate(1250 * MS), 6.0);
        assert_eq!(burst(&mut p, 1250 * MS, 5), 4);
        assert_eq!(p.estimate(1250 * MS), 10.0);
        // Exactly at 1.25 s the estimate equals the limit; one nanosecond later it is below:
        // 8 × (1e9 − 250,000,001) + 4e9 = 9,999,999,992 < 10e9. So retry after 1 ns.
        assert_eq!(p.retry_after(1250 * MS), 1);
        // 1.5 s: 8 × 0.5 + cur < 10 ⇔ cur < 6: cur = 4, 5 admitted, then throttled.
        assert_eq!(burst(&mut p, 1500 * MS, 3), 2);
        // 2 s (window 2): prev = 6 (4 + 2), elapsed 0: 6 + cur < 10 ⇔ cur < 4: 4 admitted.
        assert_eq!(burst(&mut p, 2 * SEC, 5), 4);
        assert_eq!((p.prev, p.cur), (6, 4));
        // 4 s: two windows later, both counters are 0 again: 10 admitted.
        assert_eq!(p.fresh_from(), 4 * SEC);
        assert_eq!(burst(&mut p, 4 * SEC, 11), 10);
    }

    #[test]
    fn retry_after_solves_the_inequality_for_the_first_admitting_nanosecond() {
        // limit 4, window 1 s, 4 admitted at 0.5 s: this window is full (4 × W ≥ 4 × W). In the
        // next, prev = 4: 4 × (W − e) < 4 × W ⇔ e ≥ 1 ns: retry at 1 s + 1 ns, 0.5 s + 1 ns away.
        let mut p = SlidingCounter::new(4, SEC);
        assert_eq!(burst(&mut p, 500 * MS, 4), 4);
        assert_eq!(p.retry_after(500 * MS), 500 * MS + 1);
        assert!(!p.admit(SEC), "at 1 s the estimate is exactly 4");
        assert!(p.admit(SEC + 1));
        // Now cur = 1: 4 × (W − e) + W < 4W ⇔ W − e < 3W/4 ⇔ e > 250 ms: retry at 1.25 s + 1 ns.
        assert_eq!(p.retry_after(SEC + 1), 250 * MS);
        testkit::assert_retry_after_exact(&p, SEC + 1);
        // A full window then nothing: limit 1, window 3 ns, 1 admitted at 0. Window 0 is full;
        // in window 1, 1 × (3 − e) < 3 ⇔ e ≥ 1, so at 4 ns.
        let mut q = SlidingCounter::new(1, 3);
        assert!(q.admit(0));
        assert_eq!(q.retry_after(0), 4);
        testkit::assert_retry_after_exact(&q, 0);
    }

    #[test]
    fn matches_the_formula_on_counts_taken_from_the_whole_history() {
        // Reference: from every admitted time, count the previous and current aligned windows'
        // requests directly, then apply the formula; admit iff it is below the limit.
        for (seed, limit, window) in [(7, 3, 100 * MS), (8, 1, 7 * MS), (9, 20, SEC)] {
            let times = testkit::arrivals(seed, 4000, 2 * MS, 300 * MS);
            let mut p = SlidingCounter::new(limit, window);
            let mut admitted: Vec<Time> = vec![];
            let (mut yes, mut no) = (0, 0);
            for (i, &t) in times.iter().enumerate() {
                if i % 37 == 0 {
                    testkit::assert_retry_after_exact(&p, t);
                    testkit::assert_fresh_from_holds(&p, &SlidingCounter::new(limit, window), MS);
                }
                let k = t / window;
                let n_in = |w: u64| admitted.iter().filter(|&&a| a / window == w).count() as u128;
                let prev = if k == 0 { 0 } else { n_in(k - 1) };
                let cur = n_in(k);
                let (w, e) = (u128::from(window), u128::from(t % window));
                let want = prev * (w - e) + cur * w < u128::from(limit) * w;
                assert_eq!(p.admit(t), want, "seed {seed} at {t}");
                if want {
                    admitted.push(t);
                    yes += 1;
                } else {
                    no += 1;
                }
            }
            assert!(
                yes > 100 && no > 100,
                "both answers exercised: {yes} / {no}"
            );
        }
    }
}
