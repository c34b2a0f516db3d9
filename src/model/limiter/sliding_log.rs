//! Sliding log: the exact sliding window. A request at `now` is admitted iff fewer than `limit`
//! requests were admitted in `(now − window, now]`. The state is a ring of the admitted times still
//! inside the window — at most `limit` of them per key, which is why [`super::check`] caps `limit`.
//!
//! ```text
//!   limit 2, window 1 s:  admitted at 0.0 and 0.4 s
//!   at 0.9 s: (−0.1, 0.9] holds 0.0, 0.4 → 2, full → throttled
//!   at 1.0 s: (0.0, 1.0]  holds 0.4      → 1      → admitted (0.0 left exactly at 1.0 s)
//! ```

use super::Policy;
use crate::engine::time::Time;
use std::collections::VecDeque;

/// One key's sliding-log state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlidingLog {
    limit: u64,
    window: Time,
    /// Admitted times, oldest first; entries at or before `now − window` are dropped lazily.
    log: VecDeque<Time>,
}

impl SlidingLog {
    /// A fresh state: `limit` in any `window` (both above zero; see [`super::check`]).
    pub fn new(limit: u64, window: Time) -> Self {
        assert!(limit > 0 && window > 0, "checked by limiter::check");
        Self {
            limit,
            window,
            log: VecDeque::new(),
        }
    }

    /// How many logged times have left the window by `now` (an admitted time `t` counts while
    /// `now < t + window`).
    fn expired(&self, now: Time) -> usize {
        let w = self.window;
        self.log.partition_point(|&t| t.saturating_add(w) <= now)
    }

    /// Requests admitted in `(now − window, now]`.
    pub fn count(&self, now: Time) -> u64 {
        (self.log.len() - self.expired(now)) as u64
    }

    /// Timestamps the ring has room for (memory accounting).
    pub fn capacity(&self) -> usize {
        self.log.capacity()
    }
}

impl Policy for SlidingLog {
    fn admit(&mut self, now: Time) -> bool {
        let gone = self.expired(now);
        self.log.drain(..gone);
        if (self.log.len() as u64) < self.limit {
            self.log
                .push_back(now.max(self.log.back().copied().unwrap_or(0)));
            true
        } else {
            false
        }
    }

    fn retry_after(&self, now: Time) -> Time {
        let gone = self.expired(now);
        if ((self.log.len() - gone) as u64) < self.limit {
            0
        } else {
            // Full: the oldest time still inside leaves at t + window, and then one slot is free.
            self.log[gone].saturating_add(self.window) - now
        }
    }

    fn fresh_from(&self) -> Time {
        self.log
            .back()
            .map_or(0, |&t| t.saturating_add(self.window))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit;
    use super::*;
    use crate::engine::time::{MS, SEC};

    /// Admitted times in `(t − window, t]`, by brute force.
    fn in_window(admitted: &[Time], t: Time, window: Time) -> u64 {
        admitted
            .iter()
            .filter(|&&a| a <= t && a + window > t)
            .count() as u64
    }

    #[test]
    fn a_request_leaves_the_window_exactly_one_window_later() {
        // The module doc's example: limit 2, window 1 s, admitted at 0 and 0.4 s.
        let mut p = SlidingLog::new(2, SEC);
        assert!(p.admit(0) && p.admit(400 * MS));
        assert!(!p.admit(900 * MS), "0 and 0.4 still inside (−0.1, 0.9]");
        assert!(!p.admit(SEC - 1), "0 still inside (−1ns, 1 s − 1ns]");
        assert!(p.admit(SEC), "0 left at exactly 1 s");
        assert_eq!(p.count(SEC), 2, "0.4 s and 1 s");
        // Throttled requests are not logged: the next slot frees when 0.4 s leaves, at 1.4 s.
        assert_eq!(p.retry_after(SEC), 400 * MS);
        assert_eq!(p.fresh_from(), 2 * SEC, "the last one leaves at 2 s");
    }

    #[test]
    fn retry_after_is_when_the_oldest_inside_leaves() {
        // limit 3, window 100 ms: admitted at 10, 20, 20 ms; full until 10 ms leaves at 110 ms.
        let mut p = SlidingLog::new(3, 100 * MS);
        assert!(p.admit(10 * MS) && p.admit(20 * MS) && p.admit(20 * MS));
        assert_eq!(p.retry_after(50 * MS), 60 * MS);
        assert_eq!(p.retry_after(110 * MS), 0);
        testkit::assert_retry_after_exact(&p, 50 * MS);
        assert!(p.admit(110 * MS));
        // Now 20, 20, 110 inside: both 20s leave together at 120 ms.
        assert_eq!(p.retry_after(110 * MS), 10 * MS);
        assert_eq!(p.log.len(), 3, "memory: never more than `limit` entries");
    }

    #[test]
    fn never_more_than_limit_in_any_window_and_never_refuses_below_it() {
        // Property, by brute force over the whole history: every window (a − W, a] ending at an
        // admitted time (where any window's maximum is reached) holds at most `limit`, and every
        // throttled request saw exactly `limit` in its window (it was right to refuse).
        for seed in 0..12u64 {
            let limit = 1 + seed % 5;
            let window = [MS, 10 * MS, 37 * MS, SEC][seed as usize % 4];
            let times = testkit::arrivals(seed, 2000, MS, 50 * MS);
            let mut p = SlidingLog::new(limit, window);
            let mut admitted = vec![];
            for &t in &times {
                if p.admit(t) {
                    admitted.push(t);
                    assert!(p.log.len() as u64 <= limit);
                } else {
                    assert_eq!(
                        in_window(&admitted, t, window),
                        limit,
                        "refused below limit"
                    );
                }
            }
            for &a in &admitted {
                let n = in_window(&admitted, a, window);
                assert!(n <= limit, "seed {seed}: {n} in the window ending {a}");
            }
        }
    }

    #[test]
    fn matches_a_brute_force_count_on_scripted_arrivals() {
        // Reference: admit iff fewer than `limit` admitted times lie in (t − window, t].
        for (seed, limit, window) in [(4, 3, 100 * MS), (5, 1, 7 * MS), (6, 20, SEC)] {
            let times = testkit::arrivals(seed, 4000, 2 * MS, 300 * MS);
            let mut p = SlidingLog::new(limit, window);
            let mut admitted: Vec<Time> = vec![];
            let (mut yes, mut no) = (0, 0);
            for (i, &t) in times.iter().enumerate() {
                if i % 37 == 0 {
                    testkit::assert_retry_after_exact(&p, t);
                    testkit::assert_fresh_from_holds(&p, &SlidingLog::new(limit, window), MS);
                }
                let want = in_window(&admitted, t, window) < limit;
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
