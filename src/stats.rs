//! Statistics over replications: Student-t quantiles, 95 % confidence intervals, the verdict of an
//! objective on an interval, and the stable hashes that derive replication seeds.
//!
//! Everything here is plain arithmetic on `f64`s and `u64`s: no randomness, no allocation beyond
//! the inputs, the same answer on every machine.

use crate::slo::Objective;

/// The confidence level of every interval scalesim reports.
pub const CONFIDENCE: f64 = 0.95;

/// One step of SplitMix64 (Steele, Lea and Flood 2014; the finaliser of Java's
/// `SplittableRandom`): a bijection of `u64` that mixes every input bit into every output bit.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The master seed of replication `rep` of point `point` of a sweep whose base seed is `base`.
/// A stable hash of the three numbers, so a run's seed depends on where it is in the grid and
/// never on which worker ran it (`--jobs`) or which shard it was in (`--shard`).
pub fn replication_seed(base: u64, point: u64, rep: u64) -> u64 {
    let x = splitmix64(base);
    let x = splitmix64(x ^ point);
    splitmix64(x ^ rep.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// FNV-1a, 64 bits, of `bytes`: a stable fingerprint (not a cryptographic one) to tell shards of
/// one scenario from shards of another.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// P(|T| < t) for Student's t with `df` (≥ 1) whole degrees of freedom, by the finite series of
/// Abramowitz and Stegun 26.7.3 (odd df) and 26.7.4 (even df), with θ = atan(t / √df).
fn t_central(t: f64, df: u32) -> f64 {
    let nu = f64::from(df);
    let theta = (t / nu.sqrt()).atan();
    let (s, c) = theta.sin_cos();
    let c2 = c * c;
    if df % 2 == 1 {
        // A = (2/π)·(θ + sin θ cos θ · (1 + 2/3 cos²θ + 2·4/(3·5) cos⁴θ + … + cos^(ν−3)θ term)).
        let mut sum = 0.0;
        if df > 1 {
            let mut term = 1.0;
            sum = 1.0;
            let mut k = 1;
            while 2 * k + 1 < df {
                term *= f64::from(2 * k) / f64::from(2 * k + 1) * c2;
                sum += term;
                k += 1;
            }
        }
        (2.0 / std::f64::consts::PI) * (theta + s * c * sum)
    } else {
        // A = sin θ · (1 + 1/2 cos²θ + 1·3/(2·4) cos⁴θ + … + cos^(ν−2)θ term).
        let mut term = 1.0;
        let mut sum = 1.0;
        let mut k = 1;
        while 2 * k < df {
            term *= f64::from(2 * k - 1) / f64::from(2 * k) * c2;
            sum += term;
            k += 1;
        }
        s * sum
    }
}

/// The standard normal quantile Φ⁻¹(p), 0 < p < 1 (Acklam's rational approximation, relative
/// error below 1.2e-9, then one Halley step on erfc for full double precision).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let lo = 0.02425;
    if p <= lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p < 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -normal_quantile(1.0 - p)
    }
}

/// The Student-t quantile t(p, df): the t with P(T ≤ t) = p, for 0.5 < p < 1 and whole `df` ≥ 1.
/// Exact to about 1e-12 for df ≤ 1000 (bisection on the closed-form distribution function); past
/// that, the normal quantile with the Cornish–Fisher correction to 1/df² (its error there is
/// below 1e-9).
pub fn t_quantile(p: f64, df: u32) -> f64 {
    assert!(p > 0.5 && p < 1.0 && df >= 1, "t_quantile({p}, {df})");
    if df > 1000 {
        let z = normal_quantile(p);
        let nu = f64::from(df);
        let z3 = z.powi(3);
        let z5 = z.powi(5);
        return z + (z3 + z) / (4.0 * nu) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * nu * nu);
    }
    let target = 2.0 * p - 1.0;
    // t(0.9999999, 1) is about 3.2e6; the bracket doubles until it holds the answer.
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while t_central(hi, df) < target {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_central(mid, df) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// A mean with its 95 % Student-t interval over replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Replications that had a value.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); 0 for one value.
    pub sd: f64,
    /// Half-width of the 95 % interval, t(0.975, n − 1) · sd / √n; NaN for fewer than 2 values.
    pub half: f64,
}

impl Interval {
    /// The interval of `values` (NaNs, the replications with nothing to measure, left out).
    /// `None` when no value is left.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Interval> {
        let xs: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        if xs.is_empty() {
            return None;
        }
        let n = xs.len();
        let nf = n as f64;
        let mean = xs.iter().sum::<f64>() / nf;
        if n == 1 {
            return Some(Interval {
                n,
                mean,
                sd: 0.0,
                half: f64::NAN,
            });
        }
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0);
        let sd = var.sqrt();
        let t = t_quantile(0.5 + CONFIDENCE / 2.0, (n - 1) as u32);
        Some(Interval {
            n,
            mean,
            sd,
            half: t * sd / nf.sqrt(),
        })
    }

    /// Lower end.
    pub fn lo(&self) -> f64 {
        self.mean - self.half
    }

    /// Upper end.
    pub fn hi(&self) -> f64 {
        self.mean + self.half
    }
}

/// What an interval says about an objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The whole interval meets the objective.
    Pass,
    /// The whole interval misses it.
    Fail,
    /// The interval straddles the threshold: more replications are needed to decide.
    Inconclusive,
}

impl Decision {
    /// "pass", "fail", "inconclusive".
    pub fn name(self) -> &'static str {
        match self {
            Decision::Pass => "pass",
            Decision::Fail => "fail",
            Decision::Inconclusive => "inconclusive",
        }
    }
}

/// The verdict of `o` on an interval: pass when both ends meet it, fail when neither does,
/// inconclusive otherwise. No value at all fails (nothing was served to measure); a single value
/// (n = 1) has no interval and is judged by that value, as a single run is.
pub fn decide(o: &Objective, iv: Option<&Interval>) -> Decision {
    let Some(iv) = iv else {
        return Decision::Fail;
    };
    if iv.half.is_nan() {
        return if o.holds(iv.mean) {
            Decision::Pass
        } else {
            Decision::Fail
        };
    }
    match (o.holds(iv.lo()), o.holds(iv.hi())) {
        (true, true) => Decision::Pass,
        (false, false) => Decision::Fail,
        _ => Decision::Inconclusive,
    }
}

/// About how many replications would make the interval narrow enough to decide `o`: the
/// half-width shrinks as 1/√R, so R' = R · (half / distance to the threshold)², with the
/// t quantile of R' − 1 degrees of freedom (a few rounds of that fixed point). `None` when the
/// mean is on the threshold (no number of replications would decide it) or there is no spread.
pub fn replications_to_decide(o: &Objective, iv: &Interval) -> Option<u64> {
    let gap = (iv.mean - o.threshold).abs();
    // NaN gaps or spreads (nothing measured) fall through to None as well.
    if iv.n < 2 || gap.is_nan() || gap <= 0.0 || iv.sd.is_nan() || iv.sd <= 0.0 {
        return None;
    }
    let mut r = iv.n as f64;
    for _ in 0..20 {
        let df = (r.ceil() as u64)
            .saturating_sub(1)
            .clamp(1, u64::from(u32::MAX)) as u32;
        let t = t_quantile(0.5 + CONFIDENCE / 2.0, df);
        let next = (t * iv.sd / gap).powi(2).max(2.0);
        if (next - r).abs() < 0.5 {
            r = next;
            break;
        }
        r = next;
    }
    (r.is_finite() && r < 1e15).then(|| (r.ceil() as u64).max(iv.n as u64 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::{Bound, Measure};

    #[test]
    fn t_quantiles_match_the_printed_tables() {
        // t(0.975, df) from any statistics table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2).
        let table = [
            (1, 12.706_204_736),
            (2, 4.302_652_730),
            (3, 3.182_446_305),
            (4, 2.776_445_105),
            (5, 2.570_581_836),
            (9, 2.262_157_163),
            (10, 2.228_138_852),
            (15, 2.131_449_546),
            (30, 2.042_272_456),
            (100, 1.983_971_519),
            (1000, 1.962_339_081),
        ];
        for (df, want) in table {
            let got = t_quantile(0.975, df);
            assert!((got - want).abs() < 1e-8, "df {df}: {got} vs {want}");
        }
        // One-sided 95 % and 99.5 %.
        assert!((t_quantile(0.95, 7) - 1.894_578_605).abs() < 1e-8);
        assert!((t_quantile(0.995, 20) - 2.845_339_707).abs() < 1e-8);
        // df = 1 is the Cauchy distribution: t(p) = tan(π(p − ½)).
        let p: f64 = 0.9;
        let want = (std::f64::consts::PI * (p - 0.5)).tan();
        assert!((t_quantile(p, 1) - want).abs() < 1e-10);
        // Past df = 1000 the expansion meets the normal: t(0.975, 10⁶) ≈ 1.959966.
        assert!((t_quantile(0.975, 1_000_000) - 1.959_966_0).abs() < 1e-6);
        assert!((t_quantile(0.975, 1001) - t_quantile(0.975, 1000)).abs() < 1e-5);
        assert!((normal_quantile(0.975) - 1.959_963_985).abs() < 1e-8);
    }

    #[test]
    fn an_interval_is_the_mean_plus_minus_t_times_the_standard_error() {
        // 1, 2, 3, 4, 5: mean 3, sd √2.5 = 1.5811, se 0.7071, t(0.975, 4) = 2.7764: half 1.9632.
        let iv = Interval::of([1.0, 2.0, 3.0, 4.0, 5.0]).expect("values");
        assert_eq!(iv.n, 5);
        assert!((iv.mean - 3.0).abs() < 1e-12);
        assert!((iv.half - 2.776_445_105 * (2.5f64).sqrt() / 5f64.sqrt()).abs() < 1e-9);
        // NaNs are left out; one value has no interval; none is None.
        let one = Interval::of([f64::NAN, 7.0]).expect("one value");
        assert_eq!((one.n, one.mean), (1, 7.0));
        assert!(one.half.is_nan());
        assert_eq!(Interval::of([f64::NAN]), None);
    }

    fn below(threshold: f64) -> Objective {
        Objective {
            label: "p(99) < x".into(),
            measure: Measure::Quantile(0.99),
            bound: Bound::Below { inclusive: false },
            threshold,
            class: None,
            every: None,
        }
    }

    #[test]
    fn a_decision_needs_the_whole_interval_on_one_side() {
        let iv = Interval::of([90.0, 100.0, 110.0]).expect("values");
        // Half-width t(0.975, 2) · 10 / √3 = 24.84: the interval is 75.2 .. 124.8.
        assert_eq!(decide(&below(130.0), Some(&iv)), Decision::Pass);
        assert_eq!(decide(&below(70.0), Some(&iv)), Decision::Fail);
        assert_eq!(decide(&below(110.0), Some(&iv)), Decision::Inconclusive);
        assert_eq!(decide(&below(110.0), None), Decision::Fail);
        // Distance 10 with sd 10: about (t · 1)² replications, t(0.975, R − 1): R ≈ 6 (t(0.975,
        // 5) = 2.571, 2.571² = 6.6 → 7; t(0.975, 6) = 2.447, 5.99 → 6).
        let r = replications_to_decide(&below(110.0), &iv).expect("a number");
        assert!((6..=8).contains(&r), "{r}");
        assert_eq!(replications_to_decide(&below(100.0), &iv), None);
    }

    #[test]
    fn seeds_depend_on_the_place_in_the_grid_and_nothing_else() {
        let s = replication_seed(1, 0, 0);
        assert_eq!(s, replication_seed(1, 0, 0));
        let mut all = std::collections::BTreeSet::new();
        for p in 0..20 {
            for r in 0..20 {
                all.insert(replication_seed(1, p, r));
            }
        }
        assert_eq!(all.len(), 400, "no two places share a seed");
        assert_ne!(replication_seed(2, 0, 0), s);
        // Pinned: a change here would change every sweep's figures.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(fnv1a64(b"a"), 0xAF63_DC4C_8601_EC8C);
    }
}
