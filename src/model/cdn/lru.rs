//! A least-recently-used cache of object keys with a time to live: an edge location's (or the
//! origin shield's) store. O(1) lookups, inserts and evictions: a map from key to node and a
//! doubly linked list of nodes in recency order, all in vectors sized once to the capacity, so a
//! full cache allocates nothing more.
//!
//! (The cache kind has an LRU of its own, for a database's rows; the two could share this one —
//! the CDN's needs only keys, expiry and recency.)

use crate::engine::time::Time;
use std::collections::HashMap;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    key: u32,
    expires: Time,
    prev: u32,
    next: u32,
}

/// An LRU set of keys, each with an expiry.
#[derive(Clone, Debug)]
pub struct Lru {
    cap: usize,
    /// Key → node index. Only looked up, never iterated (its order reaches nothing).
    map: HashMap<u32, u32>,
    nodes: Vec<Node>,
    /// Most recently used.
    head: u32,
    /// Least recently used: the next eviction.
    tail: u32,
    /// Objects evicted to make room.
    pub evictions: u64,
}

impl Lru {
    /// An empty cache of at most `cap` objects (0: stores nothing).
    pub fn new(cap: usize) -> Self {
        Self {
            cap,
            map: HashMap::with_capacity(cap.min(1 << 20)),
            nodes: Vec::with_capacity(cap.min(1 << 20)),
            head: NIL,
            tail: NIL,
            evictions: 0,
        }
    }

    /// Objects held (expired ones included until they are evicted or refreshed).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn unlink(&mut self, i: u32) {
        let n = self.nodes[i as usize];
        if n.prev != NIL {
            self.nodes[n.prev as usize].next = n.next;
        } else {
            self.head = n.next;
        }
        if n.next != NIL {
            self.nodes[n.next as usize].prev = n.prev;
        } else {
            self.tail = n.prev;
        }
    }

    fn push_front(&mut self, i: u32) {
        let old = self.head;
        {
            let n = &mut self.nodes[i as usize];
            n.prev = NIL;
            n.next = old;
        }
        if old != NIL {
            self.nodes[old as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// A hit: `key` is held and has not expired at `now` (it becomes the most recently used).
    /// An expired object is a miss (it stays until refreshed by [`Lru::insert`] or evicted).
    pub fn get(&mut self, key: u32, now: Time) -> bool {
        let Some(&i) = self.map.get(&key) else {
            return false;
        };
        if self.nodes[i as usize].expires <= now {
            return false;
        }
        self.unlink(i);
        self.push_front(i);
        true
    }

    /// Stores `key` until `expires` as the most recently used, evicting the least recently used
    /// object if full.
    pub fn insert(&mut self, key: u32, expires: Time) {
        if self.cap == 0 {
            return;
        }
        if let Some(&i) = self.map.get(&key) {
            self.nodes[i as usize].expires = expires;
            self.unlink(i);
            self.push_front(i);
            return;
        }
        let i = if self.nodes.len() < self.cap {
            self.nodes.push(Node {
                key,
                expires,
                prev: NIL,
                next: NIL,
            });
            (self.nodes.len() - 1) as u32
        } else {
            let t = self.tail;
            self.unlink(t);
            let old = self.nodes[t as usize].key;
            self.map.remove(&old);
            self.evictions += 1;
            let n = &mut self.nodes[t as usize];
            n.key = key;
            n.expires = expires;
            t
        };
        self.map.insert(key, i);
        self.push_front(i);
    }

    /// Empties it (an invalidation of everything).
    pub fn clear(&mut self) {
        self.map.clear();
        self.nodes.clear();
        self.head = NIL;
        self.tail = NIL;
    }

    /// Panics unless the list and the map agree.
    pub fn check(&self) {
        assert!(self.nodes.len() <= self.cap);
        assert_eq!(self.map.len(), self.nodes.len());
        let mut seen = 0;
        let mut i = self.head;
        let mut prev = NIL;
        while i != NIL {
            let n = self.nodes[i as usize];
            assert_eq!(n.prev, prev);
            assert_eq!(self.map.get(&n.key), Some(&i));
            prev = i;
            i = n.next;
            seen += 1;
            assert!(seen <= self.nodes.len(), "a loop in the recency list");
        }
        assert_eq!(prev, self.tail);
        assert_eq!(seen, self.nodes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut c = Lru::new(2);
        c.insert(1, 100);
        c.insert(2, 100);
        assert!(c.get(1, 0)); // 1 is now the most recent; 2 the least
        c.insert(3, 100); // evicts 2
        assert!(c.get(1, 0));
        assert!(!c.get(2, 0));
        assert!(c.get(3, 0));
        assert_eq!(c.evictions, 1);
        assert_eq!(c.len(), 2);
        c.check();
    }

    #[test]
    fn an_expired_object_is_a_miss_until_refreshed() {
        let mut c = Lru::new(4);
        c.insert(7, 50);
        assert!(c.get(7, 49));
        assert!(!c.get(7, 50), "expires at 50: a miss from then on");
        c.insert(7, 150);
        assert!(c.get(7, 100));
        assert_eq!(c.len(), 1, "a refresh reuses the node");
        c.check();
    }

    #[test]
    fn zero_capacity_stores_nothing() {
        let mut c = Lru::new(0);
        c.insert(1, 100);
        assert!(!c.get(1, 0));
        assert!(c.is_empty());
    }

    #[test]
    fn a_long_random_run_keeps_the_list_and_map_in_step() {
        let mut c = Lru::new(50);
        let mut rng = crate::engine::RngStream::new(3, "lru");
        for t in 0..20_000u64 {
            let k = rng.below(200) as u32;
            if !c.get(k, t) {
                c.insert(k, t + 500);
            }
        }
        c.check();
        assert_eq!(c.len(), 50);
    }
}
