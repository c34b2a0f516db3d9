//! One run: wire a world from a checked scenario, drive it window by window, and collect what the
//! reports need.

use crate::budget::{Guard, Limits, Stopped, SLICE};
use crate::engine::sim::Simulation;
use crate::engine::time::Time;
use crate::metrics::{Metrics, SloRecorder};
use crate::model::client::Client;
use crate::model::faults::Faults;
use crate::model::kit::{Card, GaugeDecl, QueueFigures, TimelineEvent};
use crate::model::network::Network;
use crate::model::registry::{Registry, TargetGroup};
use crate::model::request::RequestTable;
use crate::model::world::{Component, World};
use crate::model::Zone;
use crate::scenario::Scenario;

/// Everything a run produced.
pub struct RunOutput {
    /// Streaming recorders (totals and time series).
    pub metrics: Metrics,
    /// Why the run is not stationary (injected faults, load spikes, a daily curve, bots that
    /// come and go, a trace), if it is not: batch means over its sub-periods then cannot
    /// estimate how much another seed would move a figure.
    pub unsteady: Option<String>,
    /// Every component's figures for results.json, in component order, with its kind string.
    pub cards: Vec<(&'static str, Card)>,
    /// Queueing figures of the component users connect to, if it is a queue (a server).
    pub queue: Option<QueueFigures>,
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
    /// live attempt per open request, abandoned attempts, probes and calls excluded). Every
    /// request ends in exactly one outcome iff `metrics.started == metrics.ended + open_at_end`.
    pub open_at_end: u64,
    /// What happened to components, in time order (same-time entries in component order).
    pub timeline: Vec<TimelineEvent>,
    /// Dollars billed over the measured period: the sum of every component's price.
    pub cost: f64,
    /// The gauges components declared beyond the standard ones: (component, gauge), in the order
    /// of [`crate::metrics::Gauges::extra`].
    pub extra_gauges: Vec<(String, GaugeDecl)>,
    /// The CPU tiers that ran vCPUs (servers, fleets): (index into each window's
    /// [`crate::metrics::Gauges::tiers`], name), in component order.
    pub tiers: Vec<(usize, String)>,
    /// Set when the run stopped before its end because it went past a limit
    /// ([`crate::budget`]): everything above covers the run up to that time.
    pub stopped: Option<Stopped>,
    /// Rows of the workload's trace sent (0 without one).
    pub trace_replayed: u64,
    /// Components' sections of summary.md ([`crate::model::kit::Behaviour::narrative`]), in
    /// component order.
    pub narratives: Vec<crate::model::kit::Narrative>,
}

/// Wires a world from a scenario.
pub fn build(scn: &Scenario) -> Simulation<World> {
    let class_names: Vec<String> = scn.client.classes.iter().map(|c| c.name.clone()).collect();
    let mut comps = vec![
        Component::Client(Client::new(scn.client.clone(), scn.seed)),
        Component::Faults(Faults::new(scn.faults.clone(), scn.seed)),
    ];
    let mut zones = vec![Zone::Users, Zone::Internal];
    let mut kinds: Vec<&'static str> = vec!["client", "faults"];
    let n = scn.components.len() + 2;
    let mut registry = Registry::new(n, scn.azs as usize);
    registry.names[0] = "users".into();
    registry.names[1] = "faults".into();
    for (name, spec) in &scn.components {
        registry.names[comps.len()] = name.clone();
        comps.push(spec.build(name, scn.seed));
        kinds.push(spec.tag().name());
        zones.push(spec.tag().zone());
    }
    for (name, members) in &scn.groups {
        registry.groups.push(TargetGroup {
            name: name.clone(),
            members: members.clone(),
        });
    }
    let (tier_of, mut tier_names) = crate::model::world::tiers(&registry.names);
    // Instances inside a component (a database's primary and replicas) are tiers of their own,
    // after the components' tiers.
    let mut part_tiers = Vec::new();
    for (i, c) in comps.iter().enumerate() {
        let parts = c.cpu_parts();
        if !parts.is_empty() {
            part_tiers.push((i, tier_names.len()));
            let name = &registry.names[i];
            tier_names.extend(parts.iter().map(|p| format!("{name}.{p}")));
        }
    }
    let mut net = Network::new(&scn.network);
    if let Some(spec) = &scn.regions {
        use crate::model::region;
        let home = spec.home;
        let mut comp = vec![home, home];
        for (name, s) in &scn.components {
            let base = name.split('[').next().unwrap_or(name);
            let placed = spec.placement.iter().find(|(n, _)| n == base).map(|p| p.1);
            comp.push(match s.tag() {
                crate::model::kinds::KindTag::Dns => region::VIEWER,
                crate::model::kinds::KindTag::Cdn => region::ANYCAST,
                _ => placed.unwrap_or(home),
            });
        }
        net.regions = Some(Box::new(region::Regions::new(spec.clone(), comp)));
    }
    let world = World {
        comps,
        zones,
        reqs: RequestTable::new(),
        metrics: {
            let mut m = Metrics::new(&class_names, scn.warmup, scn.window);
            if scn.keep_window_histograms {
                m.window_histograms = Some(Vec::new());
            }
            if let Some(every) = scn.trace_requests {
                m.tracer = Some(Box::new(crate::model::span::Tracer::new(
                    scn.seed,
                    every,
                    scn.warmup,
                    registry.names.clone(),
                    kinds.clone(),
                )));
            }
            m
        },
        net,
        registry,
        start_order: Vec::new(),
        tier_seen: vec![false; tier_names.len()],
        tier_of,
        tier_names,
        part_tiers,
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
    if scn
        .components
        .iter()
        .any(|(_, c)| c.tag() == crate::model::kinds::KindTag::Job)
    {
        sim.model.metrics.job_split = Some(Box::default());
    }
    sim.model.start(&mut sim.sched);
    sim
}

/// Runs a scenario to the end, without limits. `progress` is called after each window with the
/// simulated time.
pub fn run(scn: &Scenario, progress: &mut dyn FnMut(Time)) -> RunOutput {
    run_limited(scn, &Guard::new(Limits::NONE, None), progress)
        .expect("a run without limits never stops early")
}

/// Why `scn` is not stationary, in the scenario's words, if it is not.
pub fn unsteady(scn: &Scenario) -> Option<String> {
    let mut why = Vec::new();
    if !scn.faults.is_empty() {
        why.push("injected faults");
    }
    if !scn.client.curve.spikes.is_empty() {
        why.push("load spikes");
    }
    if scn.client.curve.daily.is_some() {
        why.push("a daily load curve");
    }
    if scn
        .client
        .streams
        .iter()
        .any(|s| s.from > scn.warmup || s.until < scn.duration)
    {
        why.push("bots that come and go");
    }
    if scn.client.trace.is_some() {
        why.push("a replayed trace");
    }
    if scn.components.iter().any(|(_, c)| match c {
        crate::model::kinds::ComponentSpec::Job(j) => j.enabled,
        _ => false,
    }) {
        why.push("scheduled jobs");
    }
    (!why.is_empty()).then(|| why.join(", "))
}

/// Why a run could not report anything: it went past a limit before its warm-up ended.
#[derive(Clone, Debug, PartialEq)]
pub struct StoppedInWarmup(pub Stopped);

/// Runs a scenario to its end or until `guard` stops it. A stopped run returns what it measured
/// up to then, with [`RunOutput::stopped`] set; stopped during the warm-up, nothing was measured.
pub fn run_limited(
    scn: &Scenario,
    guard: &Guard,
    progress: &mut dyn FnMut(Time),
) -> Result<RunOutput, StoppedInWarmup> {
    let mut sim = build(scn);
    let mut warm = scn.warmup == 0;
    let mut t = 0;
    let mut stopped = None;
    // Runs to `until` in slices, looking at the run between them and at the end.
    let advance = |sim: &mut Simulation<World>, until: Time| -> Option<Stopped> {
        loop {
            let done = sim.run_until_budget(until, SLICE);
            let why = guard.check(sim.stats.events, sim.model.reqs.live(), sim.sched.pending());
            if let Some(reason) = why {
                return Some(Stopped {
                    at: sim.now(),
                    reason,
                });
            }
            if done {
                return None;
            }
        }
    };
    while t < scn.duration {
        let mut end = (t + scn.window).min(scn.duration);
        if !warm && scn.warmup <= end {
            if let Some(s) = advance(&mut sim, scn.warmup) {
                return Err(StoppedInWarmup(s));
            }
            sim.model.reset_stats(scn.warmup);
            warm = true;
        }
        if let Some(s) = advance(&mut sim, end) {
            if !warm {
                return Err(StoppedInWarmup(s));
            }
            // Close the window where the run stopped: the report covers up to here.
            end = s.at.max(t + 1).max(scn.warmup);
            stopped = Some(s);
        }
        let g = sim.model.gauges(end);
        sim.model.metrics.close_window(end, g);
        #[cfg(debug_assertions)]
        sim.model.check_invariants();
        t = end;
        progress(t);
        if stopped.is_some() {
            break;
        }
    }
    let now = sim.now();
    let until = t;
    for r in &mut sim.model.metrics.slo {
        r.finish(until, scn.warmup);
    }
    let measured = until - scn.warmup;
    let world = &mut sim.model;
    let cards = world
        .comps
        .iter_mut()
        .filter_map(|c| c.card(now, measured))
        .collect();
    let narratives = world
        .comps
        .iter_mut()
        .filter_map(|c| c.narrative(now, measured))
        .collect();
    let queue = world
        .comps
        .get(scn.client.entry as usize)
        .and_then(Component::queue);
    let cost = world.measured_cost(now, measured);
    let in_flight_end = world.reqs.live();
    let peak = world.reqs.peak();
    let open_at_end = world.open_user_requests();
    let trace_replayed = world
        .comps
        .first()
        .and_then(Component::as_client)
        .map_or(0, Client::trace_replayed);
    let mut timeline: Vec<TimelineEvent> = world
        .comps
        .iter()
        .flat_map(|c| c.timeline().iter().cloned())
        .collect();
    timeline.sort_by_key(|e| e.at); // stable: same-time entries keep component order
    let extra_gauges = world
        .comps
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            let name = world.registry.name_of(i as u32);
            c.extra_gauges().iter().map(move |g| (name.clone(), *g))
        })
        .collect();
    let tiers = world
        .tier_names
        .iter()
        .zip(&world.tier_seen)
        .enumerate()
        .filter(|(_, (_, seen))| **seen)
        .map(|(i, (name, _))| (i, name.clone()))
        .collect();
    Ok(RunOutput {
        unsteady: unsteady(scn),
        tiers,
        narratives,
        open_at_end,
        timeline,
        cards,
        queue,
        cost,
        extra_gauges,
        events: sim.stats.events,
        hash: sim.stats.hash,
        peak_in_flight: peak,
        in_flight_end,
        measured,
        metrics: std::mem::replace(&mut sim.model.metrics, Metrics::new(&[], 0, 1)),
        stopped,
        trace_replayed,
    })
}
