//! A retry budget (`workload.retries.budget = "10%"`): retries may be at most a share of first
//! attempts, so a client cannot multiply its load when everything fails.
//!
//! As Finagle's `RetryBudget` (its default: 20 % of requests may be retried on top of a reserve of
//! 10 retries/s, in a token bucket whose credits expire after 10 s; finagle.github.io/blog/2016/
//! 02/08/retry-budgets) and gRPC's retry throttling (gRFC A6: each failure costs a token, each
//! success earns `tokenRatio`; docs/semantics.md §13): every first attempt deposits `budget`
//! tokens, every retry withdraws one, and a retry without a whole token in the balance is not
//! sent — the request ends with what its last attempt got.
//!
//! The balance is capped at 10 s worth of deposits, as Finagle's is by its time-to-live: deposits
//! and withdrawals are kept per second in ten one-second slices and expire with their slice, so a
//! retry is sent only if the retries of the last ten slices, itself included, are at most
//! `budget` × the first attempts of those slices. The balance is thus never more than `budget` ×
//! the first attempts of the last 10 s: a long calm spell cannot save up a reserve that would fund
//! a later storm.
//! Unlike Finagle there is no minimum reserve: a budget of 10 % means at most 10 %.
//!
//! Exact in integers: tokens are counted in millionths.

use crate::engine::time::{Time, SEC};

/// One token, in millionths.
pub const TOKEN: i64 = 1_000_000;
/// Slices the balance is kept in.
pub const SLICES: usize = 10;
/// Length of one slice: deposits and withdrawals expire ten slices (10 s) after theirs began
/// (Finagle's default time-to-live, 10 s: finagle.github.io/blog/2016/02/08/retry-budgets).
pub const SLICE: Time = SEC;

/// The balance of a client's retry budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryBudget {
    /// Millionths of a token each first attempt deposits.
    deposit: i64,
    /// Net millionths deposited in each of the last ten slices (slice `i` at `i % SLICES`).
    slices: [i64; SLICES],
    /// The slice `now` is in.
    current: u64,
    /// Sum of `slices`.
    balance: i64,
}

impl RetryBudget {
    /// A budget letting retries be `per_million` millionths of first attempts (100 000 = 10 %).
    pub fn new(per_million: u32) -> Self {
        Self {
            deposit: i64::from(per_million),
            slices: [0; SLICES],
            current: 0,
            balance: 0,
        }
    }

    /// Expires the slices that ended ten slices before `now`'s.
    #[inline]
    fn advance(&mut self, now: Time) {
        let s = now / SLICE;
        if s == self.current {
            return;
        }
        if s - self.current >= SLICES as u64 {
            self.slices = [0; SLICES];
            self.balance = 0;
        } else {
            for i in self.current + 1..=s {
                let slot = &mut self.slices[(i % SLICES as u64) as usize];
                self.balance -= *slot;
                *slot = 0;
            }
        }
        self.current = s;
    }

    /// A first attempt was sent at `now`: deposit its share.
    #[inline]
    pub fn deposit(&mut self, now: Time) {
        self.advance(now);
        self.slices[(self.current % SLICES as u64) as usize] += self.deposit;
        self.balance += self.deposit;
    }

    /// A retry is wanted at `now`: withdraws a token and says yes, or says no (balance below one
    /// token).
    #[inline]
    pub fn withdraw(&mut self, now: Time) -> bool {
        self.advance(now);
        if self.balance < TOKEN {
            return false;
        }
        self.slices[(self.current % SLICES as u64) as usize] -= TOKEN;
        self.balance -= TOKEN;
        true
    }

    /// The balance at `now`, in millionths of a token.
    pub fn balance(&mut self, now: Time) -> i64 {
        self.advance(now);
        self.balance
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;

    #[test]
    fn ten_first_attempts_at_ten_percent_pay_for_one_retry() {
        let mut b = RetryBudget::new(100_000);
        assert!(!b.withdraw(0), "nothing deposited yet");
        for i in 0..9 {
            b.deposit(i * MS);
        }
        // 9 × 0.1 = 0.9 token: not enough.
        assert!(!b.withdraw(10 * MS));
        b.deposit(11 * MS);
        assert!(b.withdraw(12 * MS), "10 × 0.1 = one token");
        assert!(!b.withdraw(13 * MS));
        assert_eq!(b.balance(13 * MS), 0);
    }

    #[test]
    fn deposits_and_withdrawals_expire_after_ten_slices() {
        let mut b = RetryBudget::new(500_000);
        // Slice 0: 4 deposits (2 tokens); slice 3: one retry.
        for _ in 0..4 {
            b.deposit(500 * MS);
        }
        assert!(b.withdraw(3 * SEC + 1));
        assert_eq!(b.balance(9 * SEC + 999 * MS), TOKEN);
        // At 10 s slice 0 expires (−2 tokens); the withdrawal of slice 3 still counts.
        assert_eq!(b.balance(10 * SEC), -TOKEN);
        assert!(!b.withdraw(10 * SEC));
        // At 13 s it expires too: nothing is left either way.
        assert_eq!(b.balance(13 * SEC), 0);
        // A long idle gap clears everything at once.
        b.deposit(14 * SEC);
        assert_eq!(b.balance(1_000 * SEC), 0);
    }

    #[test]
    fn the_balance_never_exceeds_ten_seconds_of_deposits() {
        // 100 first attempts a second for a minute at 10 %: the balance is capped at 10 s × 100
        // × 0.1 = 100 tokens, however long the calm lasts.
        let mut b = RetryBudget::new(100_000);
        for ms in (0..60_000).step_by(10) {
            b.deposit(ms * MS);
        }
        assert_eq!(b.balance(59_999 * MS), 100 * TOKEN);
        let mut granted = 0;
        while b.withdraw(60 * SEC - 1) {
            granted += 1;
        }
        assert_eq!(granted, 100);
    }
}
