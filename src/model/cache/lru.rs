//! Least recently used: an intrusive doubly linked list over the cache's slots, most recent at
//! the head. Every operation is O(1) and allocates nothing (the links are sized to the capacity
//! when the cache is built).

use super::NONE;

/// Recency order of the occupied slots.
pub struct Lru {
    prev: Vec<u32>,
    next: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used: the next victim.
    tail: u32,
}

impl Lru {
    /// An empty order over `capacity` slots.
    pub fn new(capacity: usize) -> Self {
        Self {
            prev: vec![NONE; capacity],
            next: vec![NONE; capacity],
            head: NONE,
            tail: NONE,
        }
    }

    fn unlink(&mut self, s: u32) {
        let (p, n) = (self.prev[s as usize], self.next[s as usize]);
        if p == NONE {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NONE {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
        self.prev[s as usize] = NONE;
        self.next[s as usize] = NONE;
    }

    fn push_front(&mut self, s: u32) {
        self.prev[s as usize] = NONE;
        self.next[s as usize] = self.head;
        if self.head == NONE {
            self.tail = s;
        } else {
            self.prev[self.head as usize] = s;
        }
        self.head = s;
    }

    /// Slot `s` was filled: it is the most recent.
    pub fn insert(&mut self, s: u32) {
        self.push_front(s);
    }

    /// Slot `s` was read: it becomes the most recent.
    pub fn touch(&mut self, s: u32) {
        if self.head != s {
            self.unlink(s);
            self.push_front(s);
        }
    }

    /// Slot `s` was emptied (invalidated, expired).
    pub fn remove(&mut self, s: u32) {
        self.unlink(s);
    }

    /// The slot to evict: the least recently used.
    pub fn victim(&self) -> Option<u32> {
        (self.tail != NONE).then_some(self.tail)
    }

    /// Forgets every slot.
    pub fn clear(&mut self) {
        self.prev.fill(NONE);
        self.next.fill(NONE);
        self.head = NONE;
        self.tail = NONE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_first() {
        // Fill 0, 1, 2; read 0 (order now 0, 2, 1 from the head): the victim is 1; remove it and
        // the victim is 2; read 2: the victim is 0.
        let mut l = Lru::new(3);
        for s in 0..3 {
            l.insert(s);
        }
        assert_eq!(l.victim(), Some(0));
        l.touch(0);
        assert_eq!(l.victim(), Some(1));
        l.remove(1);
        assert_eq!(l.victim(), Some(2));
        l.touch(2);
        assert_eq!(l.victim(), Some(0));
        l.remove(0);
        l.remove(2);
        assert_eq!(l.victim(), None);
        l.insert(1);
        assert_eq!(l.victim(), Some(1));
        l.clear();
        assert_eq!(l.victim(), None);
    }
}
