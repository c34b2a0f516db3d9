//! Distributions of durations (service demand, think time, latency), as configured and as sampled.
//!
//! Written in scenario files as `{ dist = "exponential", mean = "20ms" }`; every variant knows its
//! mean and second moment, which the closed-form checks (Pollaczek–Khinchine) use.

use crate::engine::time::{round_ns, Time};
use crate::engine::RngStream;
use crate::scenario::tagged::{self, Found, Spec, TaggedTable, Variant};
use crate::scenario::units::Duration;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};
use serde::de::{self, Deserializer, MapAccess};
use serde::{Deserialize, Serialize};

/// A duration distribution as written in a scenario file.
// `Deserialize` is written by hand (scenario/tagged.rs) so that a problem with one of its keys is
// placed at that key; the `serde` attributes shape `Serialize` and the JSON Schema. (A comment,
// not a doc comment: the schema's description is the doc comment.)
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum DistConfig {
    /// Memoryless: `{ dist = "exponential", mean = "20ms" }`.
    Exponential {
        /// The mean.
        mean: Duration,
    },
    /// Always the same value: `{ dist = "deterministic", value = "20ms" }`.
    #[serde(alias = "constant")]
    Deterministic {
        /// The value.
        value: Duration,
    },
    /// Right-skewed, the usual shape of real service times: `{ dist = "lognormal", mean = "20ms", cv = 1.5 }`.
    Lognormal {
        /// The mean.
        mean: Duration,
        /// Coefficient of variation (standard deviation / mean), > 0.
        cv: f64,
    },
    /// Uniform between two values: `{ dist = "uniform", min = "10ms", max = "30ms" }`.
    Uniform {
        /// Lower bound.
        min: Duration,
        /// Upper bound.
        max: Duration,
    },
    /// Sum of `k` exponential phases (less variable than exponential): `{ dist = "erlang", mean = "20ms", k = 4 }`.
    Erlang {
        /// The mean.
        mean: Duration,
        /// Number of phases, ≥ 1.
        k: u32,
    },
}

/// Which [`DistConfig`] a table's `dist` names.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DistKind {
    Exponential,
    Deterministic,
    Lognormal,
    Uniform,
    Erlang,
}

/// The names `dist` may take, aliases included, in the reference's order.
pub const DIST_NAMES: &[&str] = &[
    "exponential",
    "deterministic",
    "constant",
    "lognormal",
    "uniform",
    "erlang",
];

const DIST_SPEC: Spec<DistKind> = Spec {
    tag: "dist",
    table: "a distribution table such as { dist = \"exponential\", mean = \"20ms\" }",
    tag_words: "a distribution name",
    names: DIST_NAMES,
    keys: &["dist", "mean", "value", "cv", "min", "max", "k"],
    variants: &[
        Variant {
            kind: DistKind::Exponential,
            names: &["exponential"],
            keys: &["mean"],
            example: "mean = \"20ms\"",
        },
        Variant {
            kind: DistKind::Deterministic,
            names: &["deterministic", "constant"],
            keys: &["value"],
            example: "value = \"20ms\"",
        },
        Variant {
            kind: DistKind::Lognormal,
            names: &["lognormal"],
            keys: &["mean", "cv"],
            example: "mean = \"20ms\", cv = 1.5",
        },
        Variant {
            kind: DistKind::Uniform,
            names: &["uniform"],
            keys: &["min", "max"],
            example: "min = \"10ms\", max = \"30ms\"",
        },
        Variant {
            kind: DistKind::Erlang,
            names: &["erlang"],
            keys: &["mean", "k"],
            example: "mean = \"20ms\", k = 4",
        },
    ],
};

/// A distribution's keys as read, before `dist` says which it is.
#[derive(Default)]
pub(crate) struct DistSlots {
    mean: Option<Duration>,
    value: Option<Duration>,
    cv: Option<f64>,
    min: Option<Duration>,
    max: Option<Duration>,
    k: Option<u32>,
}

impl TaggedTable for DistConfig {
    type Kind = DistKind;
    type Slots = DistSlots;
    const SPEC: &'static Spec<DistKind> = &DIST_SPEC;

    fn read_value<'de, A: MapAccess<'de>>(
        s: &mut DistSlots,
        key: &'static str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key {
            "mean" => s.mean = Some(map.next_value()?),
            "value" => s.value = Some(map.next_value()?),
            "cv" => s.cv = Some(map.next_value()?),
            "min" => s.min = Some(map.next_value()?),
            "max" => s.max = Some(map.next_value()?),
            "k" => s.k = Some(map.next_value()?),
            _ => {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        Ok(())
    }

    fn build<E: de::Error>(f: &Found<DistKind>, s: DistSlots) -> Result<Self, E> {
        Ok(match f.kind() {
            DistKind::Exponential => DistConfig::Exponential {
                mean: f.need(s.mean, "mean")?,
            },
            DistKind::Deterministic => DistConfig::Deterministic {
                value: f.need(s.value, "value")?,
            },
            DistKind::Lognormal => DistConfig::Lognormal {
                mean: f.need(s.mean, "mean")?,
                cv: f.need(s.cv, "cv")?,
            },
            DistKind::Uniform => DistConfig::Uniform {
                min: f.need(s.min, "min")?,
                max: f.need(s.max, "max")?,
            },
            DistKind::Erlang => DistConfig::Erlang {
                mean: f.need(s.mean, "mean")?,
                k: f.need(s.k, "k")?,
            },
        })
    }
}

impl<'de> Deserialize<'de> for DistConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        tagged::deserialize(d)
    }
}

impl DistConfig {
    /// Checks the parameters; the error names the offending field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        match *self {
            DistConfig::Lognormal { cv, .. } if !(cv > 0.0 && cv.is_finite() && cv <= 100.0) => {
                Err((
                    "cv",
                    format!(
                        "cv must be a positive number up to 100, found {}",
                        crate::scenario::error::number(cv)
                    ),
                ))
            }
            DistConfig::Uniform { min, max } if min > max => {
                Err(("max", format!("max ({max}) must be at least min ({min})")))
            }
            DistConfig::Erlang { k, .. } if k == 0 || k > 1000 => {
                Err(("k", format!("k must be between 1 and 1000, found {k}")))
            }
            _ => Ok(()),
        }
    }

    /// The mean, in nanoseconds.
    pub fn mean(&self) -> f64 {
        match *self {
            DistConfig::Exponential { mean }
            | DistConfig::Lognormal { mean, .. }
            | DistConfig::Erlang { mean, .. } => mean.0 as f64,
            DistConfig::Deterministic { value } => value.0 as f64,
            DistConfig::Uniform { min, max } => (min.0 as f64 + max.0 as f64) / 2.0,
        }
    }

    /// E[X²], in ns².
    pub fn second_moment(&self) -> f64 {
        let m = self.mean();
        match *self {
            DistConfig::Exponential { .. } => 2.0 * m * m,
            DistConfig::Deterministic { .. } => m * m,
            DistConfig::Lognormal { cv, .. } => m * m * (1.0 + cv * cv),
            DistConfig::Uniform { min, max } => {
                let (a, b) = (min.0 as f64, max.0 as f64);
                (a * a + a * b + b * b) / 3.0
            }
            DistConfig::Erlang { k, .. } => m * m * (1.0 + 1.0 / f64::from(k)),
        }
    }

    /// Builds the sampler.
    pub fn sampler(&self) -> Dist {
        match *self {
            DistConfig::Exponential { mean } => Dist::Exponential {
                mean: mean.0 as f64,
            },
            DistConfig::Deterministic { value } => Dist::Constant(value.0),
            DistConfig::Lognormal { mean, cv } => {
                let s2 = (1.0 + cv * cv).ln();
                Dist::Lognormal {
                    mu: (mean.0 as f64).ln() - s2 / 2.0,
                    sigma: s2.sqrt(),
                }
            }
            DistConfig::Uniform { min, max } => Dist::Uniform {
                lo: min.0,
                span: max.0 - min.0,
            },
            // A zero mean is allowed where a delay may be nothing (an open loop's think time, a
            // DNS lookup): every draw is 0, which the gamma sampler cannot express.
            DistConfig::Erlang { mean, .. } if mean.0 == 0 => Dist::Constant(0),
            DistConfig::Erlang { mean, k } => Dist::Gamma(
                Gamma::new(f64::from(k), mean.0 as f64 / f64::from(k)).expect("k checked ≥ 1"),
            ),
        }
    }

    /// A short human description: "exponential(mean 20ms)".
    pub fn describe(&self) -> String {
        match self {
            DistConfig::Exponential { mean } => format!("exponential(mean {mean})"),
            DistConfig::Deterministic { value } => format!("constant {value}"),
            DistConfig::Lognormal { mean, cv } => format!("lognormal(mean {mean}, cv {cv})"),
            DistConfig::Uniform { min, max } => format!("uniform({min}..{max})"),
            DistConfig::Erlang { mean, k } => format!("erlang(mean {mean}, k {k})"),
        }
    }
}

/// A ready-to-sample duration distribution (nanoseconds).
#[derive(Clone, Debug)]
pub enum Dist {
    /// Exponential with this mean (ns).
    Exponential {
        /// Mean, ns.
        mean: f64,
    },
    /// Always this value.
    Constant(Time),
    /// exp(N(mu, sigma²)) ns.
    Lognormal {
        /// Location of ln X.
        mu: f64,
        /// Scale of ln X.
        sigma: f64,
    },
    /// lo + U[0, span].
    Uniform {
        /// Lower bound.
        lo: Time,
        /// Width.
        span: Time,
    },
    /// Gamma (Erlang when the shape is whole).
    Gamma(Gamma<f64>),
}

impl Dist {
    /// One draw, in nanoseconds, scaled by `factor` (a class's work multiplier, or 1).
    /// The exponential's draw is inlined into the caller (it is every M/M/c job's and every
    /// Poisson arrival's); the other shapes are one call away.
    #[inline(always)]
    pub fn sample_scaled(&self, rng: &mut RngStream, factor: f64) -> Time {
        let x = match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            other => other.sample_other(rng),
        };
        let ns = x * factor;
        if ns >= u64::MAX as f64 {
            u64::MAX
        } else if ns <= 0.0 {
            0
        } else {
            round_ns(ns)
        }
    }

    /// A draw of any shape but the exponential, unscaled, in nanoseconds as a float.
    #[inline(never)]
    fn sample_other(&self, rng: &mut RngStream) -> f64 {
        match self {
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::Constant(v) => *v as f64,
            Dist::Lognormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Uniform { lo, span } => *lo as f64 + rng.open01() * *span as f64,
            Dist::Gamma(g) => g.sample(rng),
        }
    }

    /// One draw, in nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> Time {
        self.sample_scaled(rng, 1.0)
    }
}

/// Samples an exponential gap with the given mean in nanoseconds (Poisson arrivals, random
/// failures): a multiply, where a rate would need a division on every draw.
#[inline]
pub fn exp_gap(rng: &mut RngStream, mean_ns: f64) -> Time {
    Dist::Exponential { mean: mean_ns }.sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;

    fn moments(c: &DistConfig, n: usize) -> (f64, f64) {
        let d = c.sampler();
        let mut rng = RngStream::new(7, "dist");
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = d.sample(&mut rng) as f64;
            s1 += x;
            s2 += x * x;
        }
        (s1 / n as f64, s2 / n as f64)
    }

    #[test]
    fn sample_moments_match_the_declared_ones() {
        let n = 400_000;
        for c in [
            DistConfig::Exponential {
                mean: Duration(20 * MS),
            },
            DistConfig::Deterministic {
                value: Duration(20 * MS),
            },
            DistConfig::Lognormal {
                mean: Duration(20 * MS),
                cv: 0.8,
            },
            DistConfig::Uniform {
                min: Duration(10 * MS),
                max: Duration(30 * MS),
            },
            DistConfig::Erlang {
                mean: Duration(20 * MS),
                k: 4,
            },
        ] {
            let (m1, m2) = moments(&c, n);
            let var = c.second_moment() - c.mean().powi(2);
            // Mean within 5 standard errors.
            let se = (var / n as f64).sqrt().max(1.0);
            assert!(
                (m1 - c.mean()).abs() < 5.0 * se,
                "{c:?}: mean {m1} vs {}",
                c.mean()
            );
            // Second moment within 3% (loose; fourth moments of lognormal are large).
            assert!(
                (m2 / c.second_moment() - 1.0).abs() < 0.03,
                "{c:?}: E[X²] {m2} vs {}",
                c.second_moment()
            );
        }
    }

    #[test]
    fn check_rejects_bad_parameters() {
        assert!(DistConfig::Lognormal {
            mean: Duration(1),
            cv: 0.0
        }
        .check()
        .is_err());
        assert!(DistConfig::Erlang {
            mean: Duration(1),
            k: 0
        }
        .check()
        .is_err());
        assert!(DistConfig::Uniform {
            min: Duration(5),
            max: Duration(1)
        }
        .check()
        .is_err());
        assert!(DistConfig::Exponential { mean: Duration(1) }
            .check()
            .is_ok());
    }
}
