//! The world: every component, the request table, the metrics, and the dispatch of events.

use super::client::Client;
use super::dns::Dns;
use super::faults::Faults;
use super::fleet::Fleet;
use super::load_balancer::LoadBalancer;
use super::network::Network;
use super::registry::Registry;
use super::request::RequestTable;
use super::server::Server;
use super::{Ctx, Event, Zone};
use crate::engine::{Model, Scheduler, Time};
use crate::metrics::{Gauges, Metrics};

/// One component of the world. Variants differ in size, but each lives once in the world's vector
/// and is never moved on the hot path, so boxing would only add an indirection per event.
#[allow(clippy::large_enum_variant)]
pub enum Component {
    /// The users.
    Client(Client),
    /// The fault injector.
    Faults(Faults),
    /// A server (standalone, or one slot of a fleet).
    Server(Server),
    /// An autoscaling group.
    Fleet(Fleet),
    /// A load balancer.
    LoadBalancer(LoadBalancer),
    /// DNS resolvers and the authoritative service.
    Dns(Dns),
}

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
        // Balancers start last, so the groups they front are already populated.
        let n = self.comps.len();
        let order = (0..n)
            .filter(|&i| !matches!(self.comps[i], Component::LoadBalancer(_)))
            .chain((0..n).filter(|&i| matches!(self.comps[i], Component::LoadBalancer(_))))
            .collect::<Vec<_>>();
        for i in order {
            let mut comp = std::mem::replace(
                &mut self.comps[i],
                Component::Faults(Faults::new(Vec::new(), 0)),
            );
            let mut ctx = ctx!(self, sched, i as u32);
            match &mut comp {
                Component::Client(c) => c.start(&mut ctx),
                Component::Faults(f) => f.start(&mut ctx),
                Component::Server(s) => s.start(&mut ctx),
                Component::Fleet(f) => f.start(&mut ctx),
                Component::LoadBalancer(l) => l.start(&mut ctx),
                Component::Dns(d) => d.start(&mut ctx),
            }
            self.comps[i] = comp;
        }
    }

    /// Servers, in component order.
    pub fn servers(&self) -> impl Iterator<Item = &Server> {
        self.comps.iter().filter_map(|c| match c {
            Component::Server(s) => Some(s),
            _ => None,
        })
    }

    /// Servers, mutable.
    pub fn servers_mut(&mut self) -> impl Iterator<Item = &mut Server> {
        self.comps.iter_mut().filter_map(|c| match c {
            Component::Server(s) => Some(s),
            _ => None,
        })
    }

    /// The client population.
    pub fn client(&self) -> &Client {
        match &self.comps[CLIENT as usize] {
            Component::Client(c) => c,
            _ => unreachable!("component 0 is always the client"),
        }
    }

    /// Resets every component's counters (end of warm-up).
    pub fn reset_stats(&mut self, now: Time) {
        for s in self.servers_mut() {
            s.reset_stats(now);
        }
    }

    /// Gauges at `now`, closing every component's window.
    pub fn gauges(&mut self, now: Time) -> Gauges {
        let users = u64::from(self.client().active_users());
        let mut g = Gauges {
            users,
            ..Gauges::default()
        };
        let (mut busy, mut capacity) = (0.0, 0.0);
        for s in self.servers_mut() {
            let (b, c) = s.sample_window(now);
            busy += b;
            capacity += c;
            g.cost += s.cost_so_far(now);
            if !s.is_running() {
                continue;
            }
            g.in_system += (s.in_service() + s.queued()) as u64;
            g.backlog += s.queued() as u64;
            g.instances += 1;
            if s.is_up() {
                g.healthy += 1;
            }
        }
        // Capacity-weighted: busy vCPU time over available vCPU time, across every server.
        g.utilization = if capacity > 0.0 { busy / capacity } else { 0.0 };
        for c in &self.comps {
            if let Component::LoadBalancer(l) = c {
                g.cost += l.price_per_hour() * now as f64 / 3.6e12;
            }
        }
        g
    }
}

impl Model for World {
    type Event = Event;

    #[inline]
    fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
        let comp = &mut self.comps[ev.to as usize];
        let mut ctx = ctx!(self, sched, ev.to);
        match comp {
            Component::Client(c) => c.handle(ev.msg, &mut ctx),
            Component::Faults(f) => f.handle(ev.msg, &mut ctx),
            Component::Server(s) => s.handle(ev.msg, &mut ctx),
            Component::Fleet(f) => f.handle(ev.msg, &mut ctx),
            Component::LoadBalancer(l) => l.handle(ev.msg, &mut ctx),
            Component::Dns(d) => d.handle(ev.msg, &mut ctx),
        }
    }
}
