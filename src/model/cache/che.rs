//! Che's approximation of an LRU cache's hit ratio under independent requests (Che, Tung & Wang
//! 2002; Fricker, Robert & Roberts 2012 explain why it is so accurate): an item stays in the
//! cache for a *characteristic time* `T` after its last request, the same for every item, where
//! `T` solves `Σ_i (1 − e^{−p_i T}) = C` (the cache holds `C` items on average); the hit ratio is
//! then `Σ_i p_i (1 − e^{−p_i T})`. `T` is found by bisection. The static optimum — the `C` most
//! popular items always cached, what a perfect LFU converges to — bounds every policy's hit ratio
//! from above.

/// Che's hit ratio of an LRU cache of `c` items over popularity `p` (sums to 1), with its
/// characteristic time `T` (in units of one request).
pub fn lru_hit_ratio(p: &[f64], c: u64) -> (f64, f64) {
    let n = p.len() as u64;
    if c >= n {
        return (1.0, f64::INFINITY);
    }
    if c == 0 {
        return (0.0, 0.0);
    }
    let filled = |t: f64| p.iter().map(|&q| -(-q * t).exp_m1()).sum::<f64>();
    let c = c as f64;
    // Bracket T: filled(t) grows from 0 to n.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while filled(hi) < c {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if filled(mid) < c {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let t = 0.5 * (lo + hi);
    let h = p.iter().map(|&q| q * -(-q * t).exp_m1()).sum::<f64>();
    (h, t)
}

/// The hit ratio of the `c` most popular items always cached (`p` sorted most popular first).
pub fn top_c(p: &[f64], c: u64) -> f64 {
    p.iter().take(c as usize).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_popularity_gives_the_fill_ratio() {
        // Every item alike: an LRU of C of N items hits C/N (and so does the static optimum).
        let p = vec![0.01; 100];
        let (h, _) = lru_hit_ratio(&p, 25);
        assert!((h - 0.25).abs() < 1e-9, "{h}");
        assert!((top_c(&p, 25) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn the_characteristic_time_fills_the_cache_and_lru_stays_below_the_optimum() {
        let p = super::super::zipf::pmf(10_000, 0.9);
        let (h, t) = lru_hit_ratio(&p, 500);
        let filled: f64 = p.iter().map(|&q| 1.0 - (-q * t).exp()).sum();
        assert!((filled - 500.0).abs() < 1e-6, "{filled}");
        assert!(h > 0.0 && h < top_c(&p, 500), "{h} vs {}", top_c(&p, 500));
        assert_eq!(lru_hit_ratio(&p, 10_000).0, 1.0);
        assert_eq!(lru_hit_ratio(&p, 0).0, 0.0);
    }
}
