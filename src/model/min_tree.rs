//! The first least value at or after a position, cyclically: what a balancer's least outstanding
//! requests needs per request ("the idlest target, ties going to the next in turn").
//!
//! A scan over the targets answers it in O(n) — 200 registry and member reads per request for a
//! fleet of 200. This is a tournament tree over the positions (each node the least value below
//! it), so the answer and each ±1 update take O(log n): about 8 steps for 200 targets.
//!
//! ```text
//!                 1                 ← least of all
//!          1             2
//!      3      1      2      4
//!    [3, 5] [1, 1] [2, 7] [4, 9]    ← values at positions 0..8
//!   first least from position 3: 3 (the 1 at position 2 comes before it; the turn wraps only
//!   when nothing at or after 3 is least)
//! ```

/// Least values over positions `0..len`, with the first position of the least at or after a
/// start. Allocates only when [`MinTree::reset`] needs more room than it ever had.
#[derive(Clone, Debug, Default)]
pub struct MinTree {
    /// Leaves start at `width`; node `k`'s children are `2k` and `2k + 1`; padding holds
    /// `u32::MAX`.
    nodes: Vec<u32>,
    width: usize,
    len: usize,
}

impl MinTree {
    /// Makes the tree hold `values` (position `p` has `values[p]`).
    pub fn reset(&mut self, values: impl ExactSizeIterator<Item = u32>) {
        self.len = values.len();
        self.width = self.len.next_power_of_two().max(1);
        self.nodes.clear();
        self.nodes.resize(2 * self.width, u32::MAX);
        for (p, v) in values.enumerate() {
            self.nodes[self.width + p] = v;
        }
        for k in (1..self.width).rev() {
            self.nodes[k] = self.nodes[2 * k].min(self.nodes[2 * k + 1]);
        }
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when it holds no position.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets position `p`'s value.
    #[inline]
    pub fn set(&mut self, p: usize, v: u32) {
        debug_assert!(p < self.len);
        let mut k = self.width + p;
        self.nodes[k] = v;
        while k > 1 {
            k /= 2;
            let m = self.nodes[2 * k].min(self.nodes[2 * k + 1]);
            if self.nodes[k] == m {
                break; // nothing above changes
            }
            self.nodes[k] = m;
        }
    }

    /// The first position at or after `from` (wrapping to 0) holding the least value; `None` when
    /// empty. The same answer as scanning `from, from + 1, …, len − 1, 0, …` for the first
    /// strictly smaller value.
    #[inline]
    pub fn first_least_from(&self, from: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let least = self.nodes[1];
        self.first_at_most(from, least)
            .or_else(|| self.first_at_most(0, least))
    }

    /// The first position at or after `from` whose value is at most `v`.
    fn first_at_most(&self, from: usize, v: u32) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        // Walk up from the leaf: at each left child whose right sibling can hold the answer,
        // descend there. The leaf itself is checked first.
        let mut k = self.width + from;
        if self.nodes[k] <= v {
            return Some(from);
        }
        // Climb while `k` is a right child or its sibling holds nothing small enough.
        while k > 1 && (k % 2 == 1 || self.nodes[k + 1] > v) {
            k /= 2;
        }
        if k <= 1 {
            return None;
        }
        k += 1; // the right sibling holds a value ≤ v: descend to its first one
        while k < self.width {
            k = if self.nodes[2 * k] <= v {
                2 * k
            } else {
                2 * k + 1
            };
        }
        let p = k - self.width;
        (p < self.len).then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::RngStream;

    /// The scan the tree replaces.
    fn scan(values: &[u32], from: usize) -> Option<usize> {
        let n = values.len();
        let mut best: Option<(usize, u32)> = None;
        for k in 0..n {
            let i = (from + k) % n;
            if best.is_none_or(|(_, b)| values[i] < b) {
                best = Some((i, values[i]));
            }
        }
        best.map(|(i, _)| i)
    }

    #[test]
    fn the_example_in_the_module_comment() {
        let mut t = MinTree::default();
        t.reset([3, 5, 1, 1, 2, 7, 4, 9].into_iter());
        assert_eq!(t.first_least_from(0), Some(2));
        assert_eq!(t.first_least_from(3), Some(3));
        assert_eq!(t.first_least_from(4), Some(2), "wraps to the first least");
        t.set(2, 6);
        t.set(3, 6);
        assert_eq!(t.first_least_from(0), Some(4));
    }

    #[test]
    fn agrees_with_the_scan_under_random_updates_for_every_size() {
        let mut rng = RngStream::new(7, "test/min_tree");
        for n in 0..=70usize {
            let mut values: Vec<u32> = (0..n).map(|_| rng.below(4) as u32).collect();
            let mut t = MinTree::default();
            t.reset(values.iter().copied());
            assert_eq!(t.len(), n);
            for _ in 0..300 {
                if n > 0 {
                    let p = rng.below(n as u64) as usize;
                    let v = rng.below(5) as u32;
                    values[p] = v;
                    t.set(p, v);
                }
                let from = if n == 0 {
                    0
                } else {
                    rng.below(n as u64) as usize
                };
                assert_eq!(
                    t.first_least_from(from),
                    scan(&values, from),
                    "{values:?} from {from}"
                );
            }
        }
    }

    #[test]
    fn an_empty_tree_answers_none_and_a_reset_reuses_its_room() {
        let mut t = MinTree::default();
        t.reset(std::iter::empty());
        assert!(t.is_empty());
        assert_eq!(t.first_least_from(0), None);
        t.reset([5].into_iter());
        assert_eq!(t.first_least_from(0), Some(0));
        t.reset([u32::MAX, 1].into_iter());
        assert_eq!(t.first_least_from(0), Some(1));
    }
}
