//! The world: every component, the request table, the metrics, and the dispatch of events.

use super::client::Client;
use super::faults::Faults;
pub use super::kinds::Component;
use super::kit::GaugeSum;
use super::network::Network;
use super::probe::PROBE_CLASS;
use super::registry::Registry;
use super::request::{ReqState, RequestTable};
use super::{Ctx, Event, Zone};
use crate::engine::{Model, Scheduler, Time};
use crate::metrics::{Gauges, Metrics};

/// Index of the client population in every world.
pub const CLIENT: u32 = 0;
/// Index of the fault injector in every world.
pub const FAULTS: u32 = 1;

/// Everything simulated.
pub struct World {
    /// Components by index: the client, the fault injector, then the scenario's components.
    pub comps: Vec<Component>,
    /// Zone of each component.
    pub zones: Vec<Zone>,
    /// Requests in flight.
    pub reqs: RequestTable,
    /// Recorders.
    pub metrics: Metrics,
    /// Link latencies.
    pub net: Network,
    /// The control plane.
    pub registry: Registry,
    /// Component indices in start order, set by [`World::start`] (billing sums follow it).
    pub start_order: Vec<usize>,
    /// The CPU tier of each component (its name without a fleet slot's `[i]`: a server, or a
    /// fleet's instances), an index into `tier_names`.
    pub tier_of: Vec<u32>,
    /// Tier names, in component order.
    pub tier_names: Vec<String>,
    /// Whether a tier has had vCPUs running in some window.
    pub tier_seen: Vec<bool>,
    /// Components whose instances are tiers of their own ([`Behaviour::cpu_parts`]): (component,
    /// the first part's tier index).
    pub part_tiers: Vec<(usize, usize)>,
}

/// Tiers of components by name: `web[3]` belongs to `web`. Returns (tier of each, names).
pub fn tiers(names: &[String]) -> (Vec<u32>, Vec<String>) {
    let mut tier_names: Vec<String> = Vec::new();
    let mut of = Vec::with_capacity(names.len());
    for n in names {
        let base = match n.rfind('[') {
            Some(i) if n.ends_with(']') => &n[..i],
            _ => n.as_str(),
        };
        // Slots follow their fleet (or one another), so the tier is usually the last one.
        let t = match tier_names.iter().rposition(|t| t == base) {
            Some(t) => t,
            None => {
                tier_names.push(base.to_string());
                tier_names.len() - 1
            }
        };
        of.push(t as u32);
    }
    (of, tier_names)
}

/// A [`Ctx`] over anything with the world's shared fields (`reqs`, `metrics`, `net`, `zones`,
/// `registry`): the world itself, or a test harness.
macro_rules! ctx {
    ($w:expr, $sched:expr, $me:expr) => {
        Ctx {
            sched: $sched,
            reqs: &mut $w.reqs,
            metrics: &mut $w.metrics,
            net: &$w.net,
            zones: &$w.zones,
            me: $me,
            registry: &mut $w.registry,
        }
    };
}
#[cfg(test)]
pub(crate) use ctx;

impl World {
    /// Schedules every component's first events.
    pub fn start(&mut self, sched: &mut Scheduler<Event>) {
        // Kinds that read what others set up (a balancer, the groups fleets populate) start last.
        self.start_order = self.compute_start_order();
        for i in self.start_order.clone() {
            let mut comp = std::mem::replace(
                &mut self.comps[i],
                Component::Faults(Faults::new(Vec::new(), 0)),
            );
            let mut ctx = ctx!(self, sched, i as u32);
            comp.start(&mut ctx);
            self.comps[i] = comp;
        }
    }

    /// Component indices in start order: every component in index order, except that kinds that
    /// read what others set up ([`crate::model::kit::Wiring::starts_last`]) come after the rest.
    fn compute_start_order(&self) -> Vec<usize> {
        let n = self.comps.len();
        (0..n)
            .filter(|&i| !self.comps[i].starts_last())
            .chain((0..n).filter(|&i| self.comps[i].starts_last()))
            .collect()
    }

    /// The client population.
    pub fn client(&self) -> &Client {
        self.comps[CLIENT as usize]
            .as_client()
            .expect("component 0 is always the client")
    }

    /// Resets every component's counters (end of warm-up).
    pub fn reset_stats(&mut self, now: Time) {
        for c in &mut self.comps {
            c.reset_stats(now);
        }
    }

    /// Dollars billed by every component since time zero: the one sum of every kind's price,
    /// added up in start order (a fixed order, so the last digits of the sum are too).
    pub fn billed(&mut self, now: Time) -> f64 {
        let mut total = 0.0;
        for &i in &self.start_order {
            total += self.comps[i].billed(now);
        }
        total
    }

    /// Dollars billed over the measured period (since the warm-up, `measured` long), by every
    /// component, added up in start order.
    pub fn measured_cost(&mut self, now: Time, measured: Time) -> f64 {
        let mut total = 0.0;
        for &i in &self.start_order {
            total += self.comps[i].measured_cost(now, measured);
        }
        total
    }

    /// User requests open now, counted from the request table: one live attempt per open request
    /// (abandoned attempts, health probes and fan-out calls excluded).
    pub fn open_user_requests(&self) -> u64 {
        self.reqs.count(|r| {
            r.state != ReqState::Abandoned
                && r.class != PROBE_CLASS
                && r.parent.is_none()
                && !r.internal
        }) as u64
    }

    /// Checks the run's invariants (debug builds and tests call it at every window's end): every
    /// request started has ended or is still open — exactly one outcome each — and every
    /// component is within its own bounds. Panics, naming the broken invariant, if not.
    pub fn check_invariants(&self) {
        let open = self.open_user_requests();
        let m = &self.metrics;
        assert_eq!(
            m.started,
            m.ended + open,
            "conservation of requests: {} started, {} ended, {open} open",
            m.started,
            m.ended
        );
        for c in &self.comps {
            c.check_invariants();
        }
    }

    /// Gauges at `now`, closing every component's window.
    pub fn gauges(&mut self, now: Time) -> Gauges {
        let mut sum = GaugeSum::default();
        let mut tier = vec![(0.0, 0.0); self.tier_names.len()];
        let mut flows = vec![crate::model::kit::TierFlow::default(); self.tier_names.len()];
        for (i, c) in self.comps.iter_mut().enumerate() {
            let before = (sum.busy, sum.capacity);
            sum.flow = Default::default();
            c.gauges(now, &mut sum);
            if let Some(f) = self.tier_of.get(i).and_then(|&t| flows.get_mut(t as usize)) {
                f.add(&sum.flow);
            }
            if sum.capacity > before.1 {
                if let Some(&t) = self.tier_of.get(i) {
                    let t = &mut tier[t as usize];
                    t.0 += sum.busy - before.0;
                    t.1 += sum.capacity - before.1;
                }
            }
        }
        let tiers: Vec<f64> = tier
            .iter()
            .zip(&mut self.tier_seen)
            .map(|(&(busy, capacity), seen)| {
                if capacity > 0.0 {
                    *seen = true;
                    busy / capacity
                } else {
                    f64::NAN
                }
            })
            .collect();
        let mut extra = Vec::new();
        for c in &mut self.comps {
            if !c.extra_gauges().is_empty() {
                c.sample_extra(now, &mut extra);
            }
        }
        let mut tiers: Vec<f64> = tiers;
        let mut parts = Vec::new();
        for &(i, first) in &self.part_tiers {
            parts.clear();
            self.comps[i].sample_parts(&mut parts);
            for (k, &u) in parts.iter().enumerate() {
                if let Some(t) = tiers.get_mut(first + k) {
                    *t = u;
                    if u.is_finite() {
                        self.tier_seen[first + k] = true;
                    }
                }
            }
        }
        Gauges {
            users: sum.users,
            in_system: sum.in_system,
            backlog: sum.backlog,
            // Capacity-weighted: busy vCPU time over available vCPU time, across every server.
            utilization: if sum.capacity > 0.0 {
                sum.busy / sum.capacity
            } else {
                0.0
            },
            instances: sum.instances,
            healthy: sum.healthy,
            cost: self.billed(now),
            extra,
            tiers,
            flows,
        }
    }
}

impl Model for World {
    type Event = Event;

    #[inline]
    fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
        let comp = &mut self.comps[ev.to as usize];
        let mut ctx = ctx!(self, sched, ev.to);
        comp.handle(ev, &mut ctx);
    }
}

#[cfg(test)]
mod tier_tests {
    use super::tiers;

    #[test]
    fn fleet_slots_belong_to_their_fleet_and_servers_are_their_own_tier() {
        let names: Vec<String> = [
            "users", "faults", "lb", "web", "web[0]", "web[1]", "db", "a[b]c",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (of, names) = tiers(&names);
        assert_eq!(names, ["users", "faults", "lb", "web", "db", "a[b]c"]);
        assert_eq!(of, [0, 1, 2, 3, 3, 3, 4, 5]);
    }
}
