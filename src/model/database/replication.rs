//! Asynchronous replication, as each replica sees it: the primary's committed writes, shipped
//! after a fixed delay and applied one at a time in commit order (a single apply thread, as
//! PostgreSQL's WAL replay and MySQL's SQL thread are), each application CPU work on the replica
//! competing with its reads. A write's lag is the time from its commit on the primary to its
//! application on the replica:
//!
//! ```text
//!   lag = replica_lag (shipping) + wait behind earlier writes + apply_cost ÷ the applier's speed
//! ```
//!
//! The applier's speed is 1 while the replica has a vCPU to spare and `vcpus ÷ jobs` once its
//! reads keep every vCPU busy (processor sharing, [`crate::model::cpu`]). So the lag is the
//! shipping delay at light load, grows with the write rate as the apply queue builds
//! (`rate × apply_cost` is the applier's utilisation) and with the replica's own busyness,
//! and without bound once writes arrive faster than the replica can apply them.
//!
//! [`LastWrites`] is the read-your-writes bookkeeping: each key's (user's) latest write, by its
//! position in the stream; a read from a replica that has not applied that position yet is stale.
//! A key is forgotten once every replica has applied its write, so memory follows the writes in
//! flight, not the users a run has seen.

use crate::engine::time::Time;
use std::collections::{HashMap, VecDeque};

/// One replica's copy of the write stream.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Commit times of the writes shipped to it and not yet applied, oldest first.
    pending: VecDeque<Time>,
    /// Writes applied since time zero: its position in the primary's stream.
    pub applied: u64,
}

impl Stream {
    /// A write committed on the primary at `at` (in commit order).
    #[inline]
    pub fn ship(&mut self, at: Time) {
        self.pending.push_back(at);
    }

    /// When the next write to apply can start (it has arrived after `shipping`), if any.
    #[inline]
    pub fn next_ready(&self, shipping: Time) -> Option<Time> {
        self.pending.front().map(|&t| t.saturating_add(shipping))
    }

    /// The oldest write was applied at `now`: its lag.
    #[inline]
    pub fn applied_one(&mut self, now: Time) -> Option<Time> {
        let at = self.pending.pop_front()?;
        self.applied += 1;
        Some(now.saturating_sub(at))
    }

    /// How far behind it is at `now`: the age of its oldest write not yet applied (0 when it has
    /// applied everything committed).
    #[inline]
    pub fn behind(&self, now: Time) -> Time {
        self.pending.front().map_or(0, |&t| now.saturating_sub(t))
    }

    /// Writes shipped and not yet applied.
    pub fn backlog(&self) -> usize {
        self.pending.len()
    }
}

/// Each key's latest write, by stream position, for the keys some replica has not applied yet.
#[derive(Clone, Debug, Default)]
pub struct LastWrites {
    /// key → position of its latest write. Looked up only, never iterated into output.
    last: HashMap<u32, u64>,
    /// (position, key) in commit order, to forget keys once every replica has applied them.
    order: VecDeque<(u64, u32)>,
}

impl LastWrites {
    /// `key` wrote the write at stream position `seq` (positions increase).
    #[inline]
    pub fn record(&mut self, key: u32, seq: u64) {
        self.last.insert(key, seq);
        self.order.push_back((seq, key));
    }

    /// Would a read by `key` from a replica at position `applied` miss that key's own write?
    #[inline]
    pub fn is_stale(&self, key: u32, applied: u64) -> bool {
        self.last.get(&key).is_some_and(|&seq| seq > applied)
    }

    /// Forgets the writes every replica has applied (`min_applied`: the lowest replica position).
    #[inline]
    pub fn forget_applied(&mut self, min_applied: u64) {
        while let Some(&(seq, key)) = self.order.front() {
            if seq > min_applied {
                break;
            }
            self.order.pop_front();
            if self.last.get(&key) == Some(&seq) {
                self.last.remove(&key);
            }
        }
    }

    /// Keys held now.
    pub fn keys_held(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;

    #[test]
    fn writes_are_applied_in_commit_order_and_lag_is_commit_to_apply() {
        // Commits at 0, 1, 2 ms; shipping 10 ms: the first can start at 10 ms. Applied at 11, 12,
        // 13 ms (1 ms each, back to back): lags 11, 11, 11 ms.
        let mut s = Stream::default();
        for t in 0..3 {
            s.ship(t * MS);
        }
        assert_eq!(s.next_ready(10 * MS), Some(10 * MS));
        assert_eq!(s.behind(10 * MS), 10 * MS);
        for (i, now) in [11, 12, 13].into_iter().enumerate() {
            assert_eq!(s.applied_one(now * MS), Some(11 * MS));
            assert_eq!(s.applied, i as u64 + 1);
        }
        assert_eq!(s.next_ready(10 * MS), None);
        assert_eq!(s.behind(99 * MS), 0, "caught up: no lag");
        assert_eq!(s.applied_one(99 * MS), None);
    }

    #[test]
    fn a_read_is_stale_until_the_replica_applies_that_users_latest_write() {
        let mut w = LastWrites::default();
        w.record(7, 1);
        w.record(8, 2);
        w.record(7, 3);
        // User 7's latest write is position 3: stale on a replica at 1 or 2, fresh at 3.
        assert!(w.is_stale(7, 1) && w.is_stale(7, 2) && !w.is_stale(7, 3));
        assert!(w.is_stale(8, 1) && !w.is_stale(8, 2));
        assert!(
            !w.is_stale(9, 0),
            "a user who never wrote never reads stale"
        );
        // Every replica at 2: position 1 and 2 are forgotten; 7's entry (3) stays.
        w.forget_applied(2);
        assert_eq!(w.keys_held(), 1);
        assert!(w.is_stale(7, 2));
        w.forget_applied(3);
        assert_eq!(w.keys_held(), 0, "memory follows the writes in flight");
    }
}
