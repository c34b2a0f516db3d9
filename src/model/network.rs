//! The network hop: one-way latency between users and the data centre, and inside it.
//!
//! Defaults from docs/semantics.md §12: user → nearest region 10–40 ms RTT
//! (we take 40 ms), inter-AZ 0.25–3.4 ms RTT (we take 0.5 ms), jitter ±5–10 % (we take 10 %).

use crate::engine::time::{Time, US};
use crate::engine::RngStream;
use crate::scenario::units::Duration;
use serde::{Deserialize, Serialize};

/// `[network]` in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Round trip between a user and the site's entry point. Default 40ms.
    #[serde(default = "default_client_rtt")]
    pub client_rtt: Duration,
    /// Round trip between two components inside the data centre. Default 0.5ms.
    #[serde(default = "default_internal_rtt")]
    pub internal_rtt: Duration,
    /// Relative jitter: each one-way delay is uniform in mean × (1 ± jitter). Default 0.1.
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Users spread over regions of the world, components placed in them, and the round trips
    /// between them (see [`super::region`]). Default: none (one region, the hop above).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<super::region::RegionsConfig>,
}

fn default_client_rtt() -> Duration {
    Duration(40 * crate::engine::time::MS)
}
fn default_internal_rtt() -> Duration {
    Duration(500 * US)
}
fn default_jitter() -> f64 {
    0.1
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            client_rtt: default_client_rtt(),
            internal_rtt: default_internal_rtt(),
            jitter: default_jitter(),
            regions: None,
        }
    }
}

/// Ready-to-sample link latencies.
#[derive(Clone, Debug)]
pub struct Network {
    external_one_way: f64,
    internal_one_way: f64,
    jitter: f64,
    /// The regions, if the scenario has `[network.regions]` (set when the world is wired).
    pub regions: Option<Box<super::region::Regions>>,
}

impl Network {
    /// From the checked config.
    pub fn new(c: &NetworkConfig) -> Self {
        Self {
            external_one_way: c.client_rtt.0 as f64 / 2.0,
            internal_one_way: c.internal_rtt.0 as f64 / 2.0,
            jitter: c.jitter,
            regions: None,
        }
    }

    /// Mean one-way delay of the last mile (half `client_rtt`), ns.
    #[inline]
    pub fn last_mile(&self) -> f64 {
        self.external_one_way
    }

    /// Mean one-way delay inside a region (half `internal_rtt`), ns.
    #[inline]
    pub fn internal(&self) -> f64 {
        self.internal_one_way
    }

    /// A one-way delay of mean `mean` ns with the network's jitter.
    #[inline]
    pub fn jittered(&self, mean: f64, rng: &mut RngStream) -> Time {
        if mean == 0.0 {
            return 0;
        }
        if self.jitter == 0.0 {
            return mean.round() as Time;
        }
        let u = rng.open01() * 2.0 - 1.0;
        (mean * (1.0 + self.jitter * u)).max(0.0).round() as Time
    }

    /// One-way delay; `external` when the hop crosses between users and the data centre.
    #[inline(always)]
    pub fn one_way(&self, external: bool, rng: &mut RngStream) -> Time {
        let mean = if external {
            self.external_one_way
        } else {
            self.internal_one_way
        };
        if mean == 0.0 {
            return 0;
        }
        if self.jitter == 0.0 {
            return mean.round() as Time;
        }
        let u = rng.open01() * 2.0 - 1.0;
        (mean * (1.0 + self.jitter * u)).max(0.0).round() as Time
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;

    #[test]
    fn one_way_is_half_the_rtt_within_jitter() {
        let n = Network::new(&NetworkConfig::default());
        let mut rng = RngStream::new(1, "net");
        let mut sum = 0u64;
        for _ in 0..10_000 {
            let d = n.one_way(true, &mut rng);
            assert!((18 * MS..=22 * MS).contains(&d));
            sum += d;
        }
        let mean = sum as f64 / 10_000.0;
        assert!((mean / (20.0 * MS as f64) - 1.0).abs() < 0.01);
        let zero = Network::new(&NetworkConfig {
            client_rtt: Duration(0),
            internal_rtt: Duration(0),
            jitter: 0.1,
            regions: None,
        });
        assert_eq!(zero.one_way(true, &mut rng), 0);
    }
}
