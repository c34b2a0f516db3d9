//! TTL-only eviction (Redis's `volatile-ttl`): when the cache is full the victim is the item
//! closest to expiring, read or not (an indexed heap on (expiry, fill order); reads cost
//! nothing). With one `ttl` for every key this is first in, first out.

use super::heap::IndexedHeap;
use crate::engine::Time;

/// Expiry times of the occupied slots.
pub struct Ttl {
    heap: IndexedHeap<(Time, u64)>,
    clock: u64,
}

impl Ttl {
    /// An empty table over `capacity` slots.
    pub fn new(capacity: usize) -> Self {
        Self {
            heap: IndexedHeap::new(capacity, (0, 0)),
            clock: 0,
        }
    }

    /// Slot `s` was filled; it expires at `expires`.
    pub fn insert(&mut self, s: u32, expires: Time) {
        self.clock += 1;
        self.heap.push(s, (expires, self.clock));
    }

    /// Slot `s` was emptied.
    pub fn remove(&mut self, s: u32) {
        self.heap.remove(s);
    }

    /// The slot to evict: the soonest to expire.
    pub fn victim(&self) -> Option<u32> {
        self.heap.min()
    }

    /// Forgets every slot.
    pub fn clear(&mut self) {
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_soonest_to_expire_whatever_was_read() {
        let mut t = Ttl::new(3);
        t.insert(0, 300);
        t.insert(1, 100);
        t.insert(2, 200);
        assert_eq!(t.victim(), Some(1));
        t.remove(1);
        assert_eq!(t.victim(), Some(2));
        t.insert(1, 200); // same expiry as 2, filled later: 2 goes first
        assert_eq!(t.victim(), Some(2));
        t.remove(2);
        assert_eq!(t.victim(), Some(1));
        t.clear();
        assert_eq!(t.victim(), None);
    }
}
