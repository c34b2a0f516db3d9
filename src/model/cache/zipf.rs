//! Which item a request asks for: Zipf popularity over a catalog of `n` items — item `k` (1 the
//! most popular) is asked for with probability `k^-s / H(n, s)`, `H(n, s) = Σ_{i≤n} i^-s`.
//! Sampled by rejection-inversion (Hörmann & Derflinger 1996, through `rand_distr::Zipf`):
//! O(1) expected per draw, no table, whatever the catalog's size.

use crate::engine::RngStream;
use rand_distr::Distribution;

/// A Zipf sampler over items `0..n` (0 the most popular).
#[derive(Clone, Debug)]
pub struct Popularity {
    zipf: rand_distr::Zipf<f64>,
    n: u64,
}

impl Popularity {
    /// Popularity over `n ≥ 1` items with skew `s ≥ 0` (0: every item alike).
    pub fn new(n: u64, s: f64) -> Self {
        let zipf = rand_distr::Zipf::new(n.max(1), s.max(0.0))
            .unwrap_or_else(|_| rand_distr::Zipf::new(1, 1.0).expect("one item"));
        Self { zipf, n: n.max(1) }
    }

    /// One item, `0..n`.
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> u32 {
        let k = self.zipf.sample(rng) as u64;
        (k.clamp(1, self.n) - 1) as u32
    }
}

/// The exact probabilities of items `0..n` (item `i` has rank `i + 1`).
pub fn pmf(n: u64, s: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
    let h: f64 = w.iter().sum();
    w.into_iter().map(|x| x / h).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws against the exact pmf: a chi-square test over the 20 most popular items and the
    /// rest lumped together (21 cells, 20 degrees of freedom; the 99.9th percentile of χ²(20) is
    /// 45.3, so a correct sampler fails this once in a thousand seeds — the seed is fixed).
    #[test]
    fn draws_follow_the_exact_pmf() {
        for &(n, s) in &[(1000u64, 0.8), (100_000, 1.0), (50, 1.2), (10, 0.0)] {
            let p = pmf(n, s);
            let z = Popularity::new(n, s);
            let mut rng = RngStream::new(3, "zipf-test");
            let draws = 200_000u64;
            let cells = 20.min(n as usize);
            let mut counts = vec![0u64; cells + 1];
            for _ in 0..draws {
                let i = z.sample(&mut rng) as usize;
                assert!((i as u64) < n);
                counts[i.min(cells)] += 1;
            }
            let mut expected: Vec<f64> = p[..cells].to_vec();
            expected.push(p[cells..].iter().sum());
            let chi2: f64 = counts
                .iter()
                .zip(&expected)
                .filter(|(_, e)| **e > 0.0)
                .map(|(&o, &e)| {
                    let e = e * draws as f64;
                    (o as f64 - e).powi(2) / e
                })
                .sum();
            assert!(chi2 < 45.3, "n {n} s {s}: chi2 {chi2:.1}");
        }
    }
}
