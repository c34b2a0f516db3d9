//! Regions and the network between them: users spread over regions of the world, components
//! placed in a region, a round-trip matrix between regions, and the last mile's bandwidth.
//!
//! ```text
//!   user in mumbai ──(last mile: client_rtt/2)──(mumbai→ohio: RTT/2)──▶ web in ohio
//!   answer         ◀── same way back, plus size / bandwidth on the last mile ──┘
//! ```
//!
//! With `[network.regions]` every request carries its user's region (fixed for a user for the
//! whole run, drawn from the client's own stream); a hop between the users and a component costs
//! the last mile (`network.client_rtt`) plus RTT(user's region, component's region); a hop between
//! two components in different regions costs their RTT; inside one region, `internal_rtt` as
//! without regions. One-way delay = RTT / 2, with the network's jitter.
//!
//! Defaults from docs/semantics.md §12 (the RTT matrix, a symmetric mean of cloudping.co samples)
//! (also the model's shares of users and last-mile bandwidth). Without `[network.regions]`
//! nothing of this runs: the hop is the one branch `Network::regions.is_none()`.

use crate::engine::time::{Time, MS};
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;
use crate::scenario::validate::{at_key, Checker};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The regions a scenario may name, in this order (a region's index is its place here). The
/// first five are the default users' regions.
pub const REGIONS: [&str; 8] = [
    "mumbai",
    "singapore",
    "ohio",
    "frankfurt",
    "sao_paulo",
    "virginia",
    "sydney",
    "tokyo",
];

/// Number of regions.
pub const N: usize = REGIONS.len();

/// A component's region is chosen per request by anycast (a CDN): see
/// [`crate::model::Ctx::region_of`].
pub const ANYCAST: u8 = u8::MAX;

/// A component is wherever its user is (a DNS resolver).
pub const VIEWER: u8 = u8::MAX - 1;

/// Default round trips between regions, ms (docs/semantics.md §12), in [`REGIONS`] order.
pub const DEFAULT_RTT_MS: [[u32; N]; N] = [
    // mumbai singapore ohio frankfurt sao_paulo virginia sydney tokyo
    [0, 56, 196, 110, 298, 186, 146, 125],
    [56, 0, 200, 158, 322, 212, 93, 69],
    [196, 200, 0, 102, 124, 13, 187, 134],
    [110, 158, 102, 0, 204, 92, 249, 223],
    [298, 322, 124, 204, 0, 114, 312, 257],
    [186, 212, 13, 92, 114, 0, 199, 146],
    [146, 93, 187, 249, 312, 199, 0, 107],
    [125, 69, 134, 223, 257, 146, 107, 0],
];

/// Default shares of users by region (a model figure, docs/semantics.md §12): mumbai 30 %,
/// singapore 15 %, ohio 30 %, frankfurt 15 %, são paulo 10 %.
pub const DEFAULT_SHARES: [(&str, f64); 5] = [
    ("mumbai", 0.30),
    ("singapore", 0.15),
    ("ohio", 0.30),
    ("frankfurt", 0.15),
    ("sao_paulo", 0.10),
];

/// Default last-mile bandwidth, megabits per second (a model figure, docs/semantics.md §12).
pub const DEFAULT_BANDWIDTH_MBPS: f64 = 50.0;

/// The largest answer size: 1 GB (at the smallest bandwidth, 0.01 Mbit/s, nine days).
pub const MAX_SIZE: u64 = 1_000_000_000;

/// The index of a region name.
pub fn index_of(name: &str) -> Option<u8> {
    REGIONS.iter().position(|r| *r == name).map(|i| i as u8)
}

/// `[network.regions]` in a scenario file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionsConfig {
    /// Where the site runs: every component not in `placement` is there. Default "ohio".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    /// Shares of users by region, e.g. { mumbai = 0.5, ohio = 0.5 } (normalised to sum 1).
    /// Default { mumbai = 0.3, singapore = 0.15, ohio = 0.3, frankfurt = 0.15,
    /// sao_paulo = 0.1 } (a model figure, docs/semantics.md §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<BTreeMap<String, f64>>,
    /// Round-trip overrides between two regions, both ways: { mumbai = { ohio = "180ms" } }.
    /// Default: the matrix of docs/semantics.md §12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt: Option<BTreeMap<String, BTreeMap<String, Duration>>>,
    /// Components placed outside the home region: { search = "frankfurt" }. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<BTreeMap<String, String>>,
    /// The users' last-mile bandwidth in megabits per second: an answer of `size` bytes
    /// (`workload.mix[].size`) takes size × 8 / bandwidth more to arrive. Default 50 (a model
    /// figure, docs/semantics.md §12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_mbps: Option<f64>,
}

/// The regions after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionsSpec {
    /// The home region.
    pub home: u8,
    /// Users' regions and their cumulative shares, ending at 1.
    pub users_cdf: Vec<(u8, f64)>,
    /// Round trips, ns.
    pub rtt: [[Time; N]; N],
    /// (component name, region) placed outside home.
    pub placement: Vec<(String, u8)>,
    /// Bits per second of the last mile.
    pub bits_per_s: f64,
    /// Answer size of each request class (bytes), by class index (0: none).
    pub sizes: Vec<u64>,
}

impl RegionsSpec {
    /// The round trip between two regions.
    pub fn rtt(&self, a: u8, b: u8) -> Time {
        self.rtt[a as usize][b as usize]
    }

    /// The users' regions with their shares (not cumulative), in [`REGIONS`] order.
    pub fn shares(&self) -> Vec<(u8, f64)> {
        let mut prev = 0.0;
        self.users_cdf
            .iter()
            .map(|&(r, c)| {
                let s = c - prev;
                prev = c;
                (r, s)
            })
            .collect()
    }
}

fn region_help() -> String {
    format!("regions: {}", REGIONS.join(", "))
}

fn check_region(c: &mut Checker, path: &[Seg], name: &str) -> Option<u8> {
    let r = index_of(name);
    if r.is_none() {
        let help = match crate::scenario::error::nearest(name, REGIONS.iter().copied()) {
            Some(n) => format!("did you mean \"{n}\"? ({})", region_help()),
            None => region_help(),
        };
        c.err(path, format!("there is no region \"{name}\""), Some(help));
    }
    r
}

/// Checks `[network.regions]` (`sizes`: each class's `size` as written, by class index, with
/// its key path). Components named in `placement` must exist.
pub fn check(
    c: &mut Checker,
    cfg: &RegionsConfig,
    sizes: &[(Vec<Seg>, Option<u64>)],
) -> Option<RegionsSpec> {
    let base = vec![Seg::Key("network".into()), Seg::Key("regions".into())];
    let home = match &cfg.home {
        Some(h) => check_region(c, &at_key(&base, "home"), h).unwrap_or(2),
        None => 2,
    };
    let mut rtt = [[0; N]; N];
    for (a, row) in DEFAULT_RTT_MS.iter().enumerate() {
        for (b, ms) in row.iter().enumerate() {
            rtt[a][b] = Time::from(*ms) * MS;
        }
    }
    if let Some(over) = &cfg.rtt {
        let rp = at_key(&base, "rtt");
        for (a, row) in over {
            let ap = at_key(&rp, a);
            let ra = check_region(c, &ap, a);
            for (b, d) in row {
                let bp = at_key(&ap, b);
                let rb = check_region(c, &bp, b);
                let (Some(ra), Some(rb)) = (ra, rb) else {
                    continue;
                };
                if ra == rb {
                    c.err(
                        &bp,
                        "a region's round trip to itself is the network's `internal_rtt`",
                        Some("give the round trip between two different regions".into()),
                    );
                    continue;
                }
                if d.0 > 10 * crate::engine::time::SEC {
                    c.err(
                        &bp,
                        format!("a round trip between regions can be at most 10s, found {d}"),
                        None,
                    );
                    continue;
                }
                rtt[ra as usize][rb as usize] = d.0;
                rtt[rb as usize][ra as usize] = d.0;
            }
        }
    }
    let up = at_key(&base, "users");
    let given: Vec<(String, f64)> = match &cfg.users {
        Some(m) => m.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        None => DEFAULT_SHARES
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
    };
    let mut shares = [0.0f64; N];
    for (name, share) in &given {
        let p = at_key(&up, name);
        let Some(r) = check_region(c, &p, name) else {
            continue;
        };
        if !(share.is_finite() && (0.0..=1e6).contains(share)) {
            c.err(
                &p,
                format!(
                    "a share of users is a number from 0 up, found {}",
                    crate::scenario::error::number(*share)
                ),
                Some("e.g. users = { mumbai = 0.5, ohio = 0.5 }".into()),
            );
            continue;
        }
        shares[r as usize] = *share;
    }
    let total: f64 = shares.iter().sum();
    if total <= 0.0 {
        c.err(
            &up,
            "at least one region needs users (a share above 0)",
            Some("e.g. users = { mumbai = 1 }".into()),
        );
    }
    let mut acc = 0.0;
    let mut users_cdf = Vec::new();
    for (r, s) in shares.iter().enumerate() {
        if *s > 0.0 {
            acc += s / total.max(f64::MIN_POSITIVE);
            users_cdf.push((r as u8, acc));
        }
    }
    if let Some(last) = users_cdf.last_mut() {
        last.1 = 1.0;
    }
    let mut placement = Vec::new();
    if let Some(pl) = &cfg.placement {
        let pp = at_key(&base, "placement");
        for (comp, region) in pl {
            let p = at_key(&pp, comp);
            if c.resolve(&p, comp).is_none() {
                continue;
            }
            if let Some(r) = check_region(c, &p, region) {
                placement.push((comp.clone(), r));
            }
        }
    }
    let mbps = cfg.bandwidth_mbps.unwrap_or(DEFAULT_BANDWIDTH_MBPS);
    if !(0.01..=1e6).contains(&mbps) {
        c.err(
            &at_key(&base, "bandwidth_mbps"),
            format!(
                "the bandwidth must be from 0.01 to 1000000 Mbit/s, found {}",
                crate::scenario::error::number(mbps)
            ),
            Some("e.g. bandwidth_mbps = 50 (a good home connection)".into()),
        );
    }
    for (p, s) in sizes {
        if s.is_some_and(|b| b > MAX_SIZE) {
            c.err(
                p,
                "an answer can be at most 1GB",
                Some("e.g. size = \"2MB\" for a large image".into()),
            );
        }
    }
    let sizes = sizes
        .iter()
        .map(|(_, s)| s.unwrap_or(0).min(MAX_SIZE))
        .collect();
    Some(RegionsSpec {
        home,
        users_cdf,
        rtt,
        placement,
        bits_per_s: mbps * 1e6,
        sizes,
    })
}

/// What the hop needs at run time ([`crate::model::network::Network::regions`]).
#[derive(Clone, Debug)]
pub struct Regions {
    /// The checked settings.
    pub spec: RegionsSpec,
    /// One-way delay between regions, ns (RTT / 2).
    one_way: [[f64; N]; N],
    /// Each component's region, by index ([`ANYCAST`]: chosen per request).
    pub comp: Vec<u8>,
    /// Transfer time of each class's answer over the last mile, ns.
    pub transfer: Vec<Time>,
}

impl Regions {
    /// From the checked settings, for components whose regions are `comp` (by index).
    pub fn new(spec: RegionsSpec, comp: Vec<u8>) -> Self {
        let mut one_way = [[0.0; N]; N];
        for (a, row) in spec.rtt.iter().enumerate() {
            for (b, t) in row.iter().enumerate() {
                one_way[a][b] = *t as f64 / 2.0;
            }
        }
        let transfer = spec
            .sizes
            .iter()
            .map(|&b| transfer_ns(b, spec.bits_per_s))
            .collect();
        Self {
            spec,
            one_way,
            comp,
            transfer,
        }
    }

    /// Mean one-way delay between two regions, ns.
    #[inline]
    pub fn one_way(&self, a: u8, b: u8) -> f64 {
        self.one_way[a as usize][b as usize]
    }

    /// Draws a user's region from `u` in [0, 1).
    #[inline]
    pub fn draw(&self, u: f64) -> u8 {
        let cdf = &self.spec.users_cdf;
        cdf.iter()
            .find(|&&(_, c)| u < c)
            .or(cdf.last())
            .map_or(self.spec.home, |&(r, _)| r)
    }
}

/// Time to send `bytes` at `bits_per_s`, ns.
pub fn transfer_ns(bytes: u64, bits_per_s: f64) -> Time {
    if bytes == 0 || bits_per_s <= 0.0 {
        0
    } else {
        (bytes as f64 * 8.0 / bits_per_s * 1e9).round() as Time
    }
}

/// The region nearest (lowest RTT) to `from` among `candidates` for which `up` holds; ties go
/// to the earlier candidate. `None` if none is up.
pub fn nearest(
    rtt: &[[Time; N]; N],
    from: u8,
    candidates: &[u8],
    up: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut best: Option<(Time, usize)> = None;
    for (i, &r) in candidates.iter().enumerate() {
        if !up(i) {
            continue;
        }
        let d = rtt[from as usize][r as usize];
        if best.is_none_or(|(b, _)| d < b) {
            best = Some((d, i));
        }
    }
    best.map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_matrix_is_symmetric_with_zero_diagonal_and_the_reference_figures() {
        for (a, row) in DEFAULT_RTT_MS.iter().enumerate() {
            assert_eq!(row[a], 0);
            for (b, ms) in row.iter().enumerate() {
                assert_eq!(*ms, DEFAULT_RTT_MS[b][a], "{a} {b}");
            }
        }
        // Spot checks against docs/semantics.md §12.
        let at = |a: &str, b: &str| {
            DEFAULT_RTT_MS[index_of(a).unwrap() as usize][index_of(b).unwrap() as usize]
        };
        assert_eq!(at("mumbai", "ohio"), 196);
        assert_eq!(at("mumbai", "singapore"), 56);
        assert_eq!(at("ohio", "virginia"), 13);
        assert_eq!(at("sao_paulo", "singapore"), 322);
        assert_eq!(at("tokyo", "sydney"), 107);
    }

    #[test]
    fn default_shares_sum_to_one() {
        let s: f64 = DEFAULT_SHARES.iter().map(|x| x.1).sum();
        assert!((s - 1.0).abs() < 1e-12);
    }

    #[test]
    fn nearest_picks_the_lowest_rtt_and_skips_regions_that_are_down() {
        let mut rtt = [[0; N]; N];
        for (a, row) in DEFAULT_RTT_MS.iter().enumerate() {
            for (b, ms) in row.iter().enumerate() {
                rtt[a][b] = Time::from(*ms);
            }
        }
        let r = |n: &str| index_of(n).unwrap();
        let edges = [r("frankfurt"), r("singapore"), r("mumbai"), r("virginia")];
        // Mumbai's users: the Mumbai edge (0 ms); without it Singapore (56) before Frankfurt (110).
        assert_eq!(nearest(&rtt, r("mumbai"), &edges, |_| true), Some(2));
        assert_eq!(nearest(&rtt, r("mumbai"), &edges, |i| i != 2), Some(1));
        assert_eq!(nearest(&rtt, r("mumbai"), &edges, |i| i == 0), Some(0));
        assert_eq!(nearest(&rtt, r("mumbai"), &edges, |_| false), None);
        // Ohio's users: Virginia (13) before Frankfurt (102).
        assert_eq!(nearest(&rtt, r("ohio"), &edges, |_| true), Some(3));
        // São Paulo's: Virginia (114) before Frankfurt (204).
        assert_eq!(nearest(&rtt, r("sao_paulo"), &edges, |_| true), Some(3));
    }

    #[test]
    fn transfer_time_is_size_over_bandwidth() {
        // 2 MB at 50 Mbit/s: 16 Mbit / 50 Mbit/s = 0.32 s.
        assert_eq!(transfer_ns(2_000_000, 50e6), 320 * MS);
        assert_eq!(transfer_ns(0, 50e6), 0);
    }

    #[test]
    fn draws_follow_the_cumulative_shares() {
        let spec = RegionsSpec {
            home: 2,
            users_cdf: vec![(0, 0.25), (2, 1.0)],
            rtt: [[0; N]; N],
            placement: vec![],
            bits_per_s: 1e6,
            sizes: vec![],
        };
        let rg = Regions::new(spec, vec![]);
        assert_eq!(rg.draw(0.0), 0);
        assert_eq!(rg.draw(0.2499), 0);
        assert_eq!(rg.draw(0.25), 2);
        assert_eq!(rg.draw(0.999), 2);
    }
}
