//! The pending-event set: a binary min-heap keyed by `(time, seq)`.
//!
//! `seq` is a global insertion counter, so two events due at the same nanosecond fire in the order
//! they were scheduled. That total order is what makes a run reproducible: nothing depends on heap
//! internals or on memory addresses. Events due *now* skip the heap and go to a FIFO: every entry in
//! the heap was inserted earlier and so has a smaller `seq`, which means "heap entries due now first,
//! then the FIFO" is exactly `(time, seq)` order, at a fraction of the cost.

use super::time::Time;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

struct Entry<E> {
    time: Time,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: `BinaryHeap` is a max-heap and we want the earliest (time, seq) on top.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// Pending events in `(time, seq)` order. Allocation-free once its buffers have grown to the
/// largest number of events ever pending at once.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    now_fifo: VecDeque<E>,
    now: Time,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self {
            heap: BinaryHeap::with_capacity(1024),
            now_fifo: VecDeque::with_capacity(256),
            now: 0,
            seq: 0,
        }
    }

    /// The time of the last event popped (the current simulated time).
    #[inline]
    pub fn now(&self) -> Time {
        self.now
    }

    /// Schedules `event` at absolute time `at`. Times in the past are clamped to now: the clock
    /// never runs backwards.
    #[inline]
    pub fn push(&mut self, at: Time, event: E) {
        if at <= self.now {
            self.now_fifo.push_back(event);
        } else {
            self.seq += 1;
            self.heap.push(Entry {
                time: at,
                seq: self.seq,
                event,
            });
        }
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<Time> {
        if !self.now_fifo.is_empty() {
            return Some(self.now);
        }
        self.heap.peek().map(|e| e.time)
    }

    /// Removes the next event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        if let Some(top) = self.heap.peek() {
            if top.time <= self.now || self.now_fifo.is_empty() {
                let e = self.heap.pop().expect("peeked");
                self.now = e.time;
                return Some((e.time, e.event));
            }
        }
        self.now_fifo.pop_front().map(|e| (self.now, e))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() + self.now_fifo.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Advances the clock to `t` without popping (used when a run stops at a deadline with nothing
    /// due before it). Never moves backwards.
    pub fn advance_to(&mut self, t: Time) {
        if t > self.now && self.now_fifo.is_empty() {
            self.now = t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(30, "c");
        q.push(10, "a1");
        q.push(20, "b");
        q.push(10, "a2");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![(10, "a1"), (10, "a2"), (20, "b"), (30, "c")]);
    }

    #[test]
    fn events_due_now_follow_earlier_inserted_ties() {
        let mut q = EventQueue::new();
        q.push(5, 1);
        q.push(5, 2);
        assert_eq!(q.pop(), Some((5, 1)));
        // Scheduled "now" while event 2 (also due at 5) is still pending: 2 was inserted first.
        q.push(5, 3);
        q.push(0, 4); // the past is clamped to now, after 3
        assert_eq!(q.pop(), Some((5, 2)));
        assert_eq!(q.pop(), Some((5, 3)));
        assert_eq!(q.pop(), Some((5, 4)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn matches_a_sorted_reference_on_random_input() {
        // A reference implementation: sort by (time, insertion index).
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64, usize)> = Vec::new();
        let mut x: u64 = 12345;
        let mut out = Vec::new();
        let mut seq = 0u64;
        for i in 0..5000usize {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let now = q.now();
            let t = now + (x >> 60); // many ties
            q.push(t, i);
            seq += 1;
            reference.push((t.max(now), seq, i));
            if x % 3 == 0 {
                out.push(q.pop().unwrap().1);
                reference.sort();
                reference.reverse();
                let (_, _, r) = reference.pop().unwrap();
                assert_eq!(*out.last().unwrap(), r);
            }
        }
    }
}
