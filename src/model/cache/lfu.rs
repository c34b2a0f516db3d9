//! Least frequently used: the victim is the slot read the fewest times since it was filled, the
//! least recently used among equals (an indexed heap on (reads, last use); O(log n) a read).
//! Counts start at one on a fill and are forgotten on eviction, as Redis's `allkeys-lfu` does
//! (without its logarithmic counter and decay: over a run of fixed popularity it converges to the
//! most popular items, so its hit ratio approaches the static top-C bound).

use super::heap::IndexedHeap;

/// Use counts of the occupied slots.
pub struct Lfu {
    heap: IndexedHeap<(u64, u64)>,
    /// Orders uses (ties between equal counts go to the least recent).
    clock: u64,
}

impl Lfu {
    /// An empty table over `capacity` slots.
    pub fn new(capacity: usize) -> Self {
        Self {
            heap: IndexedHeap::new(capacity, (0, 0)),
            clock: 0,
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Slot `s` was filled: used once.
    pub fn insert(&mut self, s: u32) {
        let t = self.tick();
        self.heap.push(s, (1, t));
    }

    /// Slot `s` was read once more.
    pub fn touch(&mut self, s: u32) {
        let t = self.tick();
        let (n, _) = self.heap.priority(s);
        self.heap.update(s, (n.saturating_add(1), t));
    }

    /// Slot `s` was emptied.
    pub fn remove(&mut self, s: u32) {
        self.heap.remove(s);
    }

    /// The slot to evict: the fewest uses, then the least recent.
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
    fn evicts_the_least_used_then_the_least_recent() {
        // Fill 0, 1, 2; read 0 twice and 2 once: counts 3, 1, 2 → victim 1. Remove 1; read 2
        // twice more (count 4): victim 0 (count 3). Fill 1 again: it has count 1 → the victim.
        let mut l = Lfu::new(3);
        for s in 0..3 {
            l.insert(s);
        }
        assert_eq!(l.victim(), Some(0), "all once: the least recent");
        l.touch(0);
        l.touch(0);
        l.touch(2);
        assert_eq!(l.victim(), Some(1));
        l.remove(1);
        l.touch(2);
        l.touch(2);
        assert_eq!(l.victim(), Some(0));
        l.insert(1);
        assert_eq!(l.victim(), Some(1));
        l.clear();
        assert_eq!(l.victim(), None);
    }
}
