//! The pending-event set: a binary min-heap keyed by `(time, seq)`.
//!
//! `seq` is a global insertion counter, so two events due at the same nanosecond fire in the order
//! they were scheduled. That total order is what makes a run reproducible: nothing depends on heap
//! internals or on memory addresses. Events due *now* skip the heap and go to a FIFO: every entry in
//! the heap was inserted earlier and so has a smaller `seq`, which means "heap entries due now first,
//! then the FIFO" is exactly `(time, seq)` order, at a fraction of the cost.
//!
//! The heap is hand-rolled rather than `std`'s `BinaryHeap` for one reason: in a discrete-event
//! simulation a pop is usually followed by a push (the handler schedules the next event). So a
//! pop only *vacates* the root, and a push that finds the root vacant drops the new entry there and
//! sifts it down: one pass through the heap instead of two. If a pop or peek comes first, the
//! vacancy is filled the ordinary way (the last entry moves up and sifts down). The order events
//! come out in is exactly the `(time, seq)` order either way; only the work to get it changes.

use super::time::Time;
use std::ptr;

struct Entry<E> {
    time: Time,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    /// True when `self` comes strictly before `other` in `(time, seq)` order.
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        // One 128-bit comparison, branch-free; same order as comparing the pair.
        ((u128::from(self.time) << 64) | u128::from(self.seq))
            < ((u128::from(other.time) << 64) | u128::from(other.seq))
    }
}

/// Events due now, in insertion order: a vector read from `head`, emptied (not shifted) when the
/// last one is taken. Every event in it is due at the current time, so it always drains before the
/// clock moves: it never holds more than the events of one instant, and needs no ring arithmetic.
struct NowFifo<E> {
    /// Entries `head..` are live; those before `head` have been moved out.
    buf: Vec<E>,
    head: usize,
}

impl<E> NowFifo<E> {
    #[inline]
    fn is_empty(&self) -> bool {
        self.head == self.buf.len()
    }

    #[inline]
    fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    #[inline]
    fn pop_front(&mut self) -> Option<E> {
        if self.head == self.buf.len() {
            return None;
        }
        // SAFETY: `head < len`, so the slot is live; advancing `head` marks it moved out.
        let e = unsafe { ptr::read(self.buf.as_ptr().add(self.head)) };
        self.head += 1;
        if self.head == self.buf.len() {
            // SAFETY: every slot has been moved out: forget them without dropping.
            unsafe { self.buf.set_len(0) };
            self.head = 0;
        }
        Some(e)
    }
}

impl<E> Drop for NowFifo<E> {
    fn drop(&mut self) {
        let live = self.len();
        // SAFETY: slots `head..len` are live and dropped once here; the length is then zero, so
        // the vector drops nothing itself.
        unsafe {
            let tail = ptr::slice_from_raw_parts_mut(self.buf.as_mut_ptr().add(self.head), live);
            self.buf.set_len(0);
            ptr::drop_in_place(tail);
        }
    }
}

/// Pending events in `(time, seq)` order. Allocation-free once its buffers have grown to the
/// largest number of events ever pending at once.
pub struct EventQueue<E> {
    /// A binary min-heap on `(time, seq)`. When `root_vacant`, `heap[0]` has been moved out (its
    /// bytes are stale and must be neither read nor dropped) and the two subtrees under it are
    /// valid heaps.
    heap: Vec<Entry<E>>,
    root_vacant: bool,
    now_fifo: NowFifo<E>,
    now: Time,
    seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Drop for EventQueue<E> {
    fn drop(&mut self) {
        // Never drop the moved-out root: forget the slot (moving the last entry into it).
        self.fill_root();
    }
}

impl<E> EventQueue<E> {
    /// An empty queue at time zero.
    pub fn new() -> Self {
        Self {
            heap: Vec::with_capacity(1024),
            root_vacant: false,
            now_fifo: NowFifo {
                buf: Vec::with_capacity(256),
                head: 0,
            },
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
            self.now_fifo.buf.push(event);
        } else {
            self.push_heap(at, event);
        }
    }

    // Inlined into `push` so the event is built where it goes: called out of line, the event
    // was assembled on the stack field by field for the call and then copied to the FIFO in one
    // 16-byte load, which the CPU cannot forward from those narrower stores (a stall on every
    // zero-delay hop).
    #[inline(always)]
    fn push_heap(&mut self, at: Time, event: E) {
        self.seq += 1;
        let entry = Entry {
            time: at,
            seq: self.seq,
            event,
        };
        if self.root_vacant {
            self.root_vacant = false;
            // SAFETY: the root slot is vacant (moved out) and the subtrees under it are valid
            // heaps: the new entry takes the root's place and sifts down.
            unsafe { self.sift_down_until_placed(entry) };
        } else {
            self.heap.reserve(1);
            // SAFETY: capacity for one more was reserved; `sift_up_into` fills slot `len` (moving
            // parents down into it as needed) before the length grows to cover it.
            unsafe {
                let len = self.heap.len();
                self.sift_up_into(len, entry);
                self.heap.set_len(len + 1);
            }
        }
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<Time> {
        if !self.now_fifo.is_empty() {
            return Some(self.now);
        }
        self.heap_top_time()
    }

    /// The earliest time in the heap, vacant root or not.
    #[inline]
    fn heap_top_time(&self) -> Option<Time> {
        if !self.root_vacant {
            return self.heap.first().map(|e| e.time);
        }
        // With the root vacant the earliest entry is one of its children.
        match (self.heap.get(1), self.heap.get(2)) {
            (Some(a), Some(b)) => Some(if b.before(a) { b.time } else { a.time }),
            (Some(a), None) => Some(a.time),
            _ => None,
        }
    }

    /// Removes the next event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.pop_until(Time::MAX)
    }

    /// Removes the next event if it is due at or before `until` (and advances the clock to its
    /// time); otherwise leaves everything as it is and returns `None`.
    #[inline]
    pub fn pop_until(&mut self, until: Time) -> Option<(Time, E)> {
        self.fill_root();
        let fifo_empty = self.now_fifo.is_empty();
        if !fifo_empty && self.now > until {
            return None;
        }
        if let Some(top) = self.heap.first() {
            // Heap entries are never earlier than now: `top.time <= now` means "due now, and
            // inserted before anything in the FIFO".
            if top.time <= self.now || fifo_empty {
                if top.time > until {
                    return None;
                }
                // SAFETY: the heap is non-empty and its root is live (filled above). Reading it
                // leaves the slot vacant, which `root_vacant` records; nothing reads or drops it
                // until a push or `fill_root` overwrites or forgets it.
                let e = unsafe { ptr::read(self.heap.as_ptr()) };
                self.root_vacant = true;
                self.now = e.time;
                return Some((e.time, e.event));
            }
        }
        self.now_fifo.pop_front().map(|e| (self.now, e))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len() - usize::from(self.root_vacant) + self.now_fifo.len()
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

    /// Makes the root live again after a pop that no push followed: the last entry moves into it
    /// and sifts down.
    #[inline]
    fn fill_root(&mut self) {
        if !self.root_vacant {
            return;
        }
        self.root_vacant = false;
        let last = self.heap.len() - 1;
        // SAFETY: the heap holds the vacant root, so `len >= 1`. Shrinking the length first means
        // the last slot, once read, is forgotten rather than dropped. If the root was the only
        // slot, nothing is left to move.
        unsafe {
            self.heap.set_len(last);
            if last > 0 {
                let item = ptr::read(self.heap.as_ptr().add(last));
                self.sift_down_from_root(item);
            }
        }
    }

    /// Places `item` where slot `pos` is (a hole: vacant or past the end), moving earlier
    /// parents down as needed.
    ///
    /// # Safety
    /// Slot `pos` is allocated and holds nothing live; every slot in `0..pos` is live.
    #[inline(always)]
    unsafe fn sift_up_into(&mut self, mut pos: usize, item: Entry<E>) {
        let base = self.heap.as_mut_ptr();
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !item.before(&*base.add(parent)) {
                break;
            }
            ptr::copy_nonoverlapping(base.add(parent), base.add(pos), 1);
            pos = parent;
        }
        ptr::write(base.add(pos), item);
    }

    /// Places `item` into the vacant root: Floyd's sift. The hole moves down to a leaf along the
    /// smaller children, then `item` rises from there. About half the comparisons of a classic
    /// sift down when, as here, the entry usually belongs near the bottom.
    ///
    /// # Safety
    /// The root slot (`heap[0]`, within `len`) holds nothing live; every other slot is live.
    #[inline(always)]
    unsafe fn sift_down_from_root(&mut self, item: Entry<E>) {
        let end = self.heap.len();
        let base = self.heap.as_mut_ptr();
        let mut pos = 0;
        let mut child = 1;
        while child + 1 < end {
            // The smaller child (never equal: seqs are unique).
            child += usize::from((*base.add(child + 1)).before(&*base.add(child)));
            ptr::copy_nonoverlapping(base.add(child), base.add(pos), 1);
            pos = child;
            child = 2 * pos + 1;
        }
        if child + 1 == end {
            ptr::copy_nonoverlapping(base.add(child), base.add(pos), 1);
            pos = child;
        }
        self.sift_up_into(pos, item);
    }

    /// Places `item` into the vacant root: a classic sift down that stops as soon as `item` comes
    /// before both children. A new event is often due soon (a network hop, a service completion)
    /// and belongs near the top: in a large heap this touches a few levels, not all of them.
    ///
    /// # Safety
    /// As for [`Self::sift_down_from_root`].
    #[inline(always)]
    unsafe fn sift_down_until_placed(&mut self, item: Entry<E>) {
        let end = self.heap.len();
        let base = self.heap.as_mut_ptr();
        let mut pos = 0;
        let mut child = 1;
        while child < end {
            if child + 1 < end && (*base.add(child + 1)).before(&*base.add(child)) {
                child += 1;
            }
            if item.before(&*base.add(child)) {
                break;
            }
            ptr::copy_nonoverlapping(base.add(child), base.add(pos), 1);
            pos = child;
            child = 2 * pos + 1;
        }
        ptr::write(base.add(pos), item);
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

    #[test]
    fn interleaved_pushes_pops_and_peeks_match_a_reference() {
        // Pops with and without a push in between, peeks over a vacant root, ties and "now"s.
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64, u32)> = Vec::new(); // (time, order, id)
        let mut x: u64 = 987_654_321;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut order = 0u64;
        for id in 0..20_000u32 {
            let r = next();
            if r % 5 < 3 {
                let now = q.now();
                let t = now + (r >> 58); // 0..63 ahead: many ties and many "now"s
                q.push(t, id);
                order += 1;
                // (time clamped to now, insertion order): the order the queue promises.
                reference.push((t.max(now), order, id));
            } else {
                let expect = reference.iter().copied().min();
                assert_eq!(q.peek_time(), expect.map(|e| e.0));
                let got = q.pop();
                assert_eq!(got, expect.map(|e| (e.0, e.2)));
                if let Some(e) = expect {
                    reference.retain(|&k| k != e);
                }
            }
            assert_eq!(q.len(), reference.len());
        }
        while let Some(e) = reference.iter().copied().min() {
            assert_eq!(q.pop(), Some((e.0, e.2)));
            reference.retain(|&k| k != e);
        }
        assert!(q.is_empty());
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn pop_until_stops_at_the_deadline() {
        let mut q = EventQueue::new();
        q.push(10, 'a');
        q.push(20, 'b');
        assert_eq!(q.pop_until(5), None);
        assert_eq!(q.pop_until(10), Some((10, 'a')));
        q.push(10, 'c'); // due now
        assert_eq!(q.pop_until(9), None, "now is already past the deadline");
        assert_eq!(q.pop_until(15), Some((10, 'c')));
        assert_eq!(q.pop_until(15), None);
        assert_eq!(q.now(), 10);
        assert_eq!(q.pop_until(20), Some((20, 'b')));
    }

    #[test]
    fn drops_every_pending_event_exactly_once() {
        use std::rc::Rc;
        let token = Rc::new(());
        {
            let mut q = EventQueue::new();
            for i in 1..=50u64 {
                q.push(i * 7 % 31 + 1, Rc::clone(&token));
            }
            q.pop(); // leaves the root vacant
            let _ = q.pop();
            q.push(100, Rc::clone(&token)); // fills the vacancy
            drop(q.pop()); // vacant again when the queue is dropped
            assert_eq!(Rc::strong_count(&token), 1 + q.len());
        }
        assert_eq!(Rc::strong_count(&token), 1);
        let mut q = EventQueue::new();
        q.push(1, Rc::clone(&token));
        drop(q.pop()); // the only entry popped: vacant root, nothing else
        drop(q);
        assert_eq!(Rc::strong_count(&token), 1);
    }
}
