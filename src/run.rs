//! One run: wire a world from a checked scenario, drive it window by window, and collect what the
//! reports need.

use crate::engine::sim::Simulation;
use crate::engine::time::Time;
use crate::metrics::{Metrics, SloRecorder};
use crate::model::client::Client;
use crate::model::dns::Dns;
use crate::model::faults::Faults;
use crate::model::fleet::Fleet;
use crate::model::load_balancer::LoadBalancer;
use crate::model::network::Network;
use crate::model::registry::{Registry, TargetGroup};
use crate::model::request::ReqState;
use crate::model::request::RequestTable;
use crate::model::server::{Server, ServerEvent, ServerStats};
use crate::model::world::{Component, World};
use crate::model::Zone;
use crate::scenario::{ComponentSpec, Scenario};
use serde_json::json;

/// What a server reports after a run.
#[derive(Clone, Debug)]
pub struct ServerReport {
    /// Component name.
    pub name: String,
    /// Instance type at the end of the run.
    pub instance: String,
    /// vCPUs at the end of the run.
    pub vcpus: u32,
    /// Counters since warm-up.
    pub stats: ServerStats,
    /// Crashes, restarts, resizes.
    pub events: Vec<ServerEvent>,
}

/// Everything a run produced.
pub struct RunOutput {
    /// Streaming recorders (totals and time series).
    pub metrics: Metrics,
    /// One report per server.
    pub servers: Vec<ServerReport>,
    /// Events handled.
    pub events: u64,
    /// Event-stream hash.
    pub hash: u64,
    /// Most requests in flight at once.
    pub peak_in_flight: usize,
    /// Requests still in flight when the run stopped.
    pub in_flight_end: usize,
    /// Measured period (duration − warm-up), ns.
    pub measured: Time,
    /// User requests still open at the end (counted independently, from the request table: one
    /// live attempt per open request, abandoned attempts and probes excluded). Every request ends
    /// in exactly one outcome iff `metrics.started == metrics.ended + open_at_end`.
    pub open_at_end: u64,
    /// What happened to components, in time order: (time, component, words).
    pub timeline: Vec<(Time, String, String)>,
    /// Per-component figures for results.json (balancers, DNS, fleets), in component order.
    pub components: Vec<serde_json::Value>,
    /// Balancer hours × price over the measured period, $.
    pub lb_cost: f64,
}

/// Wires a world from a scenario.
pub fn build(scn: &Scenario) -> Simulation<World> {
    let class_names: Vec<String> = scn.client.classes.iter().map(|c| c.name.clone()).collect();
    let mut comps = vec![
        Component::Client(Client::new(scn.client.clone(), scn.seed)),
        Component::Faults(Faults::new(scn.faults.clone(), scn.seed)),
    ];
    let mut zones = vec![Zone::Users, Zone::Internal];
    let n = scn.components.len() + 2;
    let mut registry = Registry::new(n, scn.azs as usize);
    registry.names[0] = "users".into();
    registry.names[1] = "faults".into();
    for (name, spec) in &scn.components {
        registry.names[comps.len()] = name.clone();
        let (c, zone) = match spec {
            ComponentSpec::Server(s) => (
                Component::Server(Server::new(name, s.clone(), scn.seed)),
                Zone::Internal,
            ),
            ComponentSpec::Fleet(f) => (
                Component::Fleet(Fleet::new(name, f.clone())),
                Zone::Internal,
            ),
            ComponentSpec::LoadBalancer(l) => (
                Component::LoadBalancer(LoadBalancer::new(name, l.clone(), scn.seed)),
                Zone::Internal,
            ),
            // The users' resolvers sit on the users' side of the network.
            ComponentSpec::Dns(d) => (
                Component::Dns(Dns::new(name, d.clone(), scn.seed)),
                Zone::Users,
            ),
        };
        comps.push(c);
        zones.push(zone);
    }
    for (name, members) in &scn.groups {
        registry.groups.push(TargetGroup {
            name: name.clone(),
            members: members.clone(),
        });
    }
    let world = World {
        comps,
        zones,
        reqs: RequestTable::new(),
        metrics: Metrics::new(&class_names, scn.warmup, scn.window),
        net: Network::new(&scn.network),
        registry,
    };
    let mut sim = Simulation::new(world);
    sim.model.metrics.slo = scn
        .slos
        .iter()
        .map(|o| {
            let q = match o.measure {
                crate::slo::Measure::Quantile(q) => q,
                _ => 0.99,
            };
            SloRecorder::new(o.class, q, o.every, scn.warmup, scn.duration)
        })
        .collect();
    sim.model.start(&mut sim.sched);
    sim
}

/// Runs a scenario to the end. `progress` is called after each window with the simulated time.
pub fn run(scn: &Scenario, progress: &mut dyn FnMut(Time)) -> RunOutput {
    let mut sim = build(scn);
    let mut warm = scn.warmup == 0;
    let mut t = 0;
    while t < scn.duration {
        let end = (t + scn.window).min(scn.duration);
        if !warm && scn.warmup <= end {
            sim.run_until(scn.warmup);
            sim.model.reset_stats(scn.warmup);
            warm = true;
        }
        sim.run_until(end);
        let g = sim.model.gauges(end);
        sim.model.metrics.close_window(end, g);
        t = end;
        progress(t);
    }
    let now = sim.now();
    for r in &mut sim.model.metrics.slo {
        r.finish(scn.duration, scn.warmup);
    }
    let world = &mut sim.model;
    let servers = world
        .servers_mut()
        .filter_map(|s| {
            let billed = s.cost_so_far(now);
            (billed > 0.0 || s.stats.arrivals > 0).then(|| ServerReport {
                name: s.name.clone(),
                instance: s.instance.clone(),
                vcpus: s.vcpus(),
                stats: s.stats.clone(),
                events: s.events.clone(),
            })
        })
        .collect();
    let in_flight_end = world.reqs.live();
    let peak = world.reqs.peak();
    let open_at_end = world
        .reqs
        .count(|r| r.state != ReqState::Abandoned && r.class != crate::model::probe::PROBE_CLASS)
        as u64;
    let hours = (scn.duration - scn.warmup) as f64 / 3.6e12;
    let mut timeline = Vec::new();
    let mut components = Vec::new();
    let mut lb_cost = 0.0;
    for c in &world.comps {
        match c {
            Component::Server(s) => timeline.extend(
                s.events
                    .iter()
                    .map(|e| (e.at, s.name.clone(), e.what.clone())),
            ),
            Component::Faults(f) => timeline.extend(
                f.log
                    .iter()
                    .map(|(t, w)| (*t, "faults".to_string(), w.clone())),
            ),
            Component::Fleet(f) => {
                timeline.extend(
                    f.events
                        .iter()
                        .map(|e| (e.at, f.name.clone(), e.what.clone())),
                );
                components.push(json!({"name": f.name, "kind": "fleet", "desired_at_end": f.desired(),
                    "scaling_actions": f.events.iter().filter(|e| e.what.starts_with("desired")).count()}));
            }
            Component::LoadBalancer(l) => {
                timeline.extend(
                    l.events
                        .iter()
                        .map(|e| (e.at, l.name.clone(), e.what.clone())),
                );
                lb_cost += l.price_per_hour() * hours;
                components.push(json!({"name": l.name, "kind": "load_balancer", "received": l.stats.received,
                    "forwarded": l.stats.forwarded, "unavailable_503": l.stats.unavailable, "probes": l.stats.probes,
                    "probe_failures": l.stats.probe_failures, "healthy_targets_at_end": l.healthy_count(),
                    "cost_usd": crate::report::results::round6(l.price_per_hour() * hours)}));
            }
            Component::Dns(d) => {
                timeline.extend(
                    d.events
                        .iter()
                        .map(|e| (e.at, d.name.clone(), e.what.clone())),
                );
                components.push(json!({"name": d.name, "kind": "dns", "lookups": d.stats.lookups,
                    "cache_hits": d.stats.cache_hits, "authoritative_queries": d.stats.authoritative_queries,
                    "failures": d.stats.failures, "answering_primary_at_end": d.answering_primary()}));
            }
            Component::Client(_) => {}
        }
    }
    timeline.sort_by_key(|e| e.0); // stable: same-time entries keep component order
    RunOutput {
        open_at_end,
        timeline,
        components,
        lb_cost,
        servers,
        events: sim.stats.events,
        hash: sim.stats.hash,
        peak_in_flight: peak,
        in_flight_end,
        measured: scn.duration - scn.warmup,
        metrics: std::mem::replace(&mut sim.model.metrics, Metrics::new(&[], 0, 1)),
    }
}
