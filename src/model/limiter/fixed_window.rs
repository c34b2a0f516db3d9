//! Fixed window: at most `limit` admitted requests per window, the windows aligned to multiples
//! of `window` from time 0. Cheap (two integers per key) and coarse: a client can get `limit` in
//! at the end of one window and `limit` more at the start of the next, 2 × `limit` in a span far
//! shorter than a window.
//!
//! ```text
//!   limit 3, window 1 s         window 0            window 1            window 2
//!   time (s)              0 ─────────────── 1 ─────────────── 2 ─────────────── 3
//!   requests                           ✓✓✓✗ ✓✓✓✗                ✓
//!                                      └─ 0.9 s  1.0 s ─┘: 6 admitted in 0.1 s
//! ```

use super::Policy;
use crate::engine::time::Time;

/// One key's fixed-window state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixedWindow {
    limit: u64,
    window: Time,
    /// Which window `count` is for: `now / window`.
    index: u64,
    /// Requests admitted in window `index`.
    count: u64,
}

impl FixedWindow {
    /// A fresh state: `limit` per `window` (both above zero; see [`super::check`]).
    pub fn new(limit: u64, window: Time) -> Self {
        assert!(limit > 0 && window > 0, "checked by limiter::check");
        Self {
            limit,
            window,
            index: 0,
            count: 0,
        }
    }

    /// Requests admitted so far in the window holding `now`.
    pub fn count(&self, now: Time) -> u64 {
        if now / self.window > self.index {
            0
        } else {
            self.count
        }
    }
}

impl Policy for FixedWindow {
    fn admit(&mut self, now: Time) -> bool {
        let index = now / self.window;
        if index > self.index {
            self.index = index;
            self.count = 0;
        }
        if self.count < self.limit {
            self.count += 1;
            true
        } else {
            false
        }
    }

    fn retry_after(&self, now: Time) -> Time {
        if self.count(now) < self.limit {
            0
        } else {
            self.window - now % self.window // until the next window opens
        }
    }

    fn fresh_from(&self) -> Time {
        if self.count == 0 {
            0
        } else {
            self.index.saturating_add(1).saturating_mul(self.window)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit;
    use super::*;
    use crate::engine::time::{MS, SEC};

    #[test]
    fn a_burst_of_twice_the_limit_across_a_boundary_is_admitted() {
        // limit 3, window 1 s: 3 at 0.9 s (window 0) and 3 at 1.0 s (window 1, which opens
        // exactly at 1 s) are all admitted: 6 in 0.1 s. The 4th of each bunch is throttled.
        let mut p = FixedWindow::new(3, SEC);
        let at = |p: &mut FixedWindow, t: Time| (0..4).map(|_| p.admit(t)).collect::<Vec<_>>();
        assert_eq!(at(&mut p, 900 * MS), [true, true, true, false]);
        assert_eq!(at(&mut p, SEC), [true, true, true, false]);
        // One nanosecond before a boundary is still the old window.
        let mut q = FixedWindow::new(1, SEC);
        assert!(q.admit(0));
        assert!(!q.admit(SEC - 1));
        assert!(q.admit(SEC));
    }

    #[test]
    fn retry_after_is_the_time_to_the_next_window() {
        // limit 2, window 1 s, both spent at 2.25 s: the next window opens at 3 s.
        let mut p = FixedWindow::new(2, SEC);
        assert_eq!(p.retry_after(2250 * MS), 0);
        assert!(p.admit(2250 * MS) && p.admit(2250 * MS));
        assert_eq!(p.retry_after(2250 * MS), 750 * MS);
        assert_eq!(p.retry_after(3 * SEC - 1), 1);
        assert_eq!(p.retry_after(3 * SEC), 0);
        assert_eq!(p.fresh_from(), 3 * SEC);
        testkit::assert_retry_after_exact(&p, 2250 * MS);
    }

    #[test]
    fn matches_a_brute_force_count_on_scripted_arrivals() {
        // Reference: keep every admitted time; admit iff fewer than `limit` of them share now's
        // window number t / window.
        for (seed, limit, window) in [(1, 3, 100 * MS), (2, 1, 7 * MS), (3, 20, SEC)] {
            let times = testkit::arrivals(seed, 4000, 2 * MS, 300 * MS);
            let mut p = FixedWindow::new(limit, window);
            let mut admitted: Vec<Time> = vec![];
            let (mut yes, mut no) = (0, 0);
            for (i, &t) in times.iter().enumerate() {
                if i % 37 == 0 {
                    testkit::assert_retry_after_exact(&p, t);
                    testkit::assert_fresh_from_holds(&p, &FixedWindow::new(limit, window), MS);
                }
                let same = admitted
                    .iter()
                    .filter(|&&a| a / window == t / window)
                    .count();
                let want = (same as u64) < limit;
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
