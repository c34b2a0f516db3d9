//! MSER-5 truncation: where a run's transient ends (White 1997; White, Cobb and Spratt 2000).
//!
//! The series (one value per window) is cut into batches of [`BATCH`] windows and each batch
//! replaced by its mean, `Z_1..Z_k`. For a truncation of `d` batches the statistic is
//!
//! ```text
//! MSER(d) = Σ_{j>d} (Z_j − Z̄_d)² / (k − d)²      (Z̄_d: the mean of the batches after d)
//! ```
//!
//! — the squared standard error of the mean of what is kept. A transient inflates the spread,
//! so cutting it off lowers the statistic; cutting off steady data only shrinks `k − d`, which
//! raises it. The truncation point is the `d` that minimises it over the first half
//! (`d ≤ k/2`). When that minimum sits on the half itself, the statistic was still falling
//! there: the transient (or a trend) lasts at least half the run, and the run is *not settled*.

/// Windows per batch (the "5" of MSER-5).
pub const BATCH: usize = 5;

/// Where a series' transient ends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Truncation {
    /// Windows to drop from the start (a multiple of [`BATCH`]).
    pub windows: usize,
    /// Whether the minimum fell strictly inside the first half.
    pub settled: bool,
}

/// MSER-5 on `series` (NaN values are the caller's to replace). Fewer than four batches is too
/// short to tell: nothing is dropped and it is reported not settled. A trailing partial batch
/// is left out of the statistic.
pub fn mser5(series: &[f64]) -> Truncation {
    let k = series.len() / BATCH;
    if k < 4 {
        return Truncation {
            windows: 0,
            settled: false,
        };
    }
    let z: Vec<f64> = series[..k * BATCH]
        .chunks_exact(BATCH)
        .map(|c| c.iter().sum::<f64>() / BATCH as f64)
        .collect();
    let half = k / 2;
    let mut best = (f64::INFINITY, 0usize);
    // Suffix sums from the end make each d O(1): Σ(Z−Z̄)² = Σ Z² − (Σ Z)²/n.
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut stat = vec![0.0; k];
    for d in (0..k).rev() {
        s1 += z[d];
        s2 += z[d] * z[d];
        let n = (k - d) as f64;
        stat[d] = (s2 - s1 * s1 / n).max(0.0) / (n * n);
    }
    for (d, &s) in stat.iter().enumerate().take(half + 1) {
        // Ties go to the earlier cut (a flat series drops nothing). The relative margin keeps
        // rounding noise of a constant series from choosing a later d.
        if s < best.0 * (1.0 - 1e-12) {
            best = (s, d);
        }
    }
    Truncation {
        windows: best.1 * BATCH,
        settled: best.1 < half,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::RngStream;

    /// Gaussian-ish noise from a seeded stream (sum of 12 uniforms − 6: mean 0, variance 1).
    fn noise(rng: &mut RngStream) -> f64 {
        (0..12).map(|_| rng.open01()).sum::<f64>() - 6.0
    }

    #[test]
    fn a_flat_series_drops_nothing_and_is_settled() {
        let t = mser5(&[3.0; 100]);
        assert_eq!(
            t,
            Truncation {
                windows: 0,
                settled: true
            }
        );
    }

    #[test]
    fn a_transient_then_flat_is_cut_where_the_transient_ends() {
        // 20 windows decaying from 100 to ~0, then 180 windows of noise around 10 (sd 1).
        let mut rng = RngStream::new(7, "mser/transient");
        let s: Vec<f64> = (0..200)
            .map(|i| {
                let transient = if i < 20 {
                    100.0 * (1.0 - i as f64 / 20.0)
                } else {
                    0.0
                };
                10.0 + transient + noise(&mut rng)
            })
            .collect();
        let t = mser5(&s);
        assert!(t.settled, "{t:?}");
        // The transient is 4 batches; a cut before it ends leaves a batch mean ≥ 10 above the
        // rest, which costs more than any cut of noise (sd of a batch mean 0.45).
        assert!((20..=30).contains(&t.windows), "{t:?}");
    }

    #[test]
    fn a_trend_that_never_settles_is_reported_so() {
        // A queue that grows all run: 0.5 per window plus noise.
        let mut rng = RngStream::new(7, "mser/trend");
        let s: Vec<f64> = (0..200).map(|i| 0.5 * i as f64 + noise(&mut rng)).collect();
        let t = mser5(&s);
        assert!(!t.settled, "{t:?}");
        assert_eq!(t.windows, 200 / BATCH / 2 * BATCH);
    }

    #[test]
    fn steady_noise_is_settled_in_nearly_every_seed() {
        // iid noise: the false "not settled" rate at 60 batches is well under 1 % (the half's
        // statistic must undercut every earlier cut's, the whole run's by 2×, a χ²₂₉/29 below
        // 0.5 at the least; 1 in 4,000 in a simulation).
        let mut unsettled = 0;
        for seed in 0..200 {
            let mut rng = RngStream::new(seed, "mser/noise");
            let s: Vec<f64> = (0..300).map(|_| 5.0 + noise(&mut rng)).collect();
            unsettled += usize::from(!mser5(&s).settled);
        }
        assert!(
            unsettled <= 8,
            "{unsettled} of 200 steady series called unsettled"
        );
    }

    #[test]
    fn too_short_a_series_is_not_settled() {
        assert_eq!(
            mser5(&[1.0; 19]),
            Truncation {
                windows: 0,
                settled: false
            }
        );
        assert_eq!(
            mser5(&[]),
            Truncation {
                windows: 0,
                settled: false
            }
        );
    }
}
