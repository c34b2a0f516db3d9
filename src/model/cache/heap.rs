//! An indexed binary min-heap over the cache's slots: each occupied slot has a priority, the
//! smallest is the next victim, and a slot's priority can change or the slot leave in O(log n)
//! (its position is kept). Sized to the capacity when built: nothing is allocated afterwards.
//! LFU and TTL eviction use it with their own priorities.

use super::NONE;

/// Occupied slots ordered by priority (smallest first).
pub struct IndexedHeap<P: Ord + Copy> {
    heap: Vec<u32>,
    pos: Vec<u32>,
    prio: Vec<P>,
}

impl<P: Ord + Copy> IndexedHeap<P> {
    /// An empty heap over `capacity` slots; `zero` fills the unused priorities.
    pub fn new(capacity: usize, zero: P) -> Self {
        Self {
            heap: Vec::with_capacity(capacity),
            pos: vec![NONE; capacity],
            prio: vec![zero; capacity],
        }
    }

    /// The priority of slot `s` (meaningful while it is in the heap).
    pub fn priority(&self, s: u32) -> P {
        self.prio[s as usize]
    }

    /// The slot with the smallest priority.
    pub fn min(&self) -> Option<u32> {
        self.heap.first().copied()
    }

    /// Adds slot `s` with priority `p`.
    pub fn push(&mut self, s: u32, p: P) {
        self.prio[s as usize] = p;
        self.pos[s as usize] = self.heap.len() as u32;
        self.heap.push(s);
        self.up(self.heap.len() - 1);
    }

    /// Changes slot `s`'s priority to `p`.
    pub fn update(&mut self, s: u32, p: P) {
        let old = self.prio[s as usize];
        self.prio[s as usize] = p;
        let i = self.pos[s as usize] as usize;
        if p < old {
            self.up(i);
        } else {
            self.down(i);
        }
    }

    /// Takes slot `s` out.
    pub fn remove(&mut self, s: u32) {
        let i = self.pos[s as usize];
        if i == NONE {
            return;
        }
        let i = i as usize;
        let last = self.heap.len() - 1;
        self.swap(i, last);
        self.heap.pop();
        self.pos[s as usize] = NONE;
        if i < self.heap.len() {
            self.down(i);
            self.up(i);
        }
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.pos.fill(NONE);
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a] as usize] = a as u32;
        self.pos[self.heap[b] as usize] = b as u32;
    }

    fn less(&self, a: usize, b: usize) -> bool {
        self.prio[self.heap[a] as usize] < self.prio[self.heap[b] as usize]
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.less(i, parent) {
                self.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < self.heap.len() && self.less(l, m) {
                m = l;
            }
            if r < self.heap.len() && self.less(r, m) {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_priority_order_through_updates_and_removals() {
        let mut h = IndexedHeap::new(8, 0u64);
        for (s, p) in [(0, 50), (1, 10), (2, 40), (3, 30), (4, 20)] {
            h.push(s, p);
        }
        assert_eq!(h.min(), Some(1));
        h.update(1, 60); // now 4 (20) is smallest
        assert_eq!(h.min(), Some(4));
        h.remove(4);
        assert_eq!(h.min(), Some(3));
        h.update(0, 5);
        let mut order = Vec::new();
        while let Some(s) = h.min() {
            order.push((s, h.priority(s)));
            h.remove(s);
        }
        assert_eq!(order, vec![(0, 5), (3, 30), (2, 40), (1, 60)]);
    }
}
