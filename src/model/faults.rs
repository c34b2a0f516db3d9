//! Faults on a timeline: plain verbs sent to components at scheduled times — crash, stop, hang,
//! slow, recover — plus availability-zone outages, DNS outages, added link latency, and random
//! crashes by mean time between failures. A fault with a `duration` is undone when it ends.

use super::kit::{Behaviour, EventKind, TimelineEvent};
use super::registry::Lifecycle;
use super::{Code, CompId, Control, Ctx, Msg, Timer};

/// A timeline entry fires (payload: its index).
const FAULT: Code = Code(0);
/// A random-crash stream's next crash (payload: stream << 16 | member).
const CRASH_TICK: Code = Code(1);
use crate::engine::time::Time;
use crate::engine::RngStream;
use crate::scenario::units::Duration;
use serde::{Deserialize, Serialize};

/// One `[[faults]]` entry in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// When it happens.
    pub at: Duration,
    /// What happens.
    pub kind: FaultKind,
    /// The component it happens to: a name, or `fleet[3]` for one instance of a fleet.
    /// Not used by `az_outage`.
    pub target: Option<String>,
    /// For stop/hang/slow/az_outage/dns_outage/latency: undo after this long; for random_crash:
    /// stop crashing after this long. Default: never. (Not for crash or recover.)
    pub duration: Option<Duration>,
    /// For slow: how many times slower (> 1).
    pub factor: Option<f64>,
    /// For a fleet target: the fraction of its in-service instances hit (e.g. 0.3); for
    /// random_crash, the fraction of the group's instance slots that crash at random. Default: one
    /// instance (the first); for random_crash, every slot.
    pub fraction: Option<f64>,
    /// For az_outage: the zone, "a", "b", "c", ...
    pub az: Option<String>,
    /// For latency: the delay added to every message to the target.
    pub added: Option<Duration>,
    /// For random_crash: mean time between failures of each instance.
    pub mtbf: Option<Duration>,
    /// For cpu_bug: requests on this path prefix cost `factor` times their CPU (a bad deploy of
    /// one feature's code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// For expire: how many of the cache's most popular items expire at once (1: the hottest
    /// alone). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u32>,
    /// For latency: the users' region whose link gets `added` (instead of a `target`); for
    /// stop and recover on a CDN: the edge location that goes out or comes back. Needs
    /// `[network.regions]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// Fault verbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The process dies; it restarts after the component's restart delay.
    Crash,
    /// The machine stops and stays down (until `duration` passes, a `recover`, or its group replaces it).
    Stop,
    /// Accepts connections but never answers.
    Hang,
    /// Everything takes `factor` times longer.
    Slow,
    /// Undo a stop, hang or slow.
    Recover,
    /// Every instance in zone `az` stops; groups launch replacements elsewhere.
    AzOutage,
    /// The authoritative DNS service goes down.
    DnsOutage,
    /// Messages to the target take `added` longer.
    Latency,
    /// Each instance of the target crashes at random, `mtbf` apart on average, from `at` on.
    RandomCrash,
    /// Requests on `path` cost `factor` times their CPU on the target (a bug in one feature).
    CpuBug,
    /// A cache forgets every item at once (`FLUSHALL`, or a cache node replaced empty).
    Flush,
    /// A cache's `items` most popular items expire at once (default 1: the hottest alone).
    Expire,
}

impl FaultKind {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Stop => "stop",
            FaultKind::Hang => "hang",
            FaultKind::Slow => "slow",
            FaultKind::Recover => "recover",
            FaultKind::AzOutage => "az_outage",
            FaultKind::DnsOutage => "dns_outage",
            FaultKind::Latency => "latency",
            FaultKind::RandomCrash => "random_crash",
            FaultKind::CpuBug => "cpu_bug",
            FaultKind::Flush => "flush",
            FaultKind::Expire => "expire",
        }
    }
}

/// Which instances a fault hits.
#[derive(Clone, Debug, PartialEq)]
pub enum Hit {
    /// One component.
    One(CompId),
    /// A fraction of a group's in-service members (chosen at random when it fires).
    Fraction {
        /// Registry group.
        group: usize,
        /// Fraction in (0, 1].
        fraction: f64,
    },
}

/// A fault action after validation.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Send a control verb.
    Send(Hit, Control),
    /// A zone goes out (true) or comes back (false).
    Zone(u8, bool),
    /// Add (or remove, when negative) delay to messages for a component, ns.
    Delay(CompId, i64),
    /// Add (or remove, when negative) delay to the link of a region's users, ns.
    RegionDelay(u8, i64),
    /// Start random crashes of a group's members (all, or a random fraction of its slots) or of
    /// one component, each with this MTBF, until the given time (`Time::MAX`: never stop).
    RandomCrash(Hit, Time, Time),
    /// Send `Recover` to whatever timeline entry `index` hit (the end of a fault's duration).
    Undo(usize),
    /// Requests of these classes cost this factor (thousandths) of their CPU at these
    /// components; `false` ends it.
    Bug(Vec<CompId>, Vec<u16>, u32, bool),
}

/// One timeline entry after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// When.
    pub at: Time,
    /// What.
    pub action: Action,
    /// In words, for the narrative and charts.
    pub label: String,
    /// What kind of timeline event it makes (a fault taking effect, or one ending).
    pub event: EventKind,
}

impl FaultSpec {
    /// In words: "crash web[0]".
    pub fn describe(&self) -> String {
        self.label.clone()
    }
}

/// The fault injector component.
pub struct Faults {
    /// The timeline, sorted by time.
    pub timeline: Vec<FaultSpec>,
    rng: RngStream,
    /// Instances a "fraction" hit picked, per timeline entry (so its recovery hits the same ones).
    picked: Vec<Vec<CompId>>,
    /// Random-crash streams: (members, mtbf, until).
    random: Vec<(Vec<CompId>, Time, Time)>,
    /// What was done, in order.
    pub log: Vec<TimelineEvent>,
}

impl Faults {
    /// An injector for a timeline.
    pub fn new(timeline: Vec<FaultSpec>, seed: u64) -> Self {
        let n = timeline.len();
        Self {
            timeline,
            rng: RngStream::new(seed, "faults"),
            picked: vec![Vec::new(); n],
            random: Vec::new(),
            log: Vec::new(),
        }
    }

    /// `ceil(fraction × n)` of `members`, chosen at random (a partial Fisher–Yates shuffle with
    /// the injector's own stream: deterministic).
    fn pick(&mut self, mut members: Vec<CompId>, fraction: f64) -> Vec<CompId> {
        let k = share_of(members.len(), fraction);
        for j in 0..k {
            let r = j + self.rng.below((members.len() - j) as u64) as usize;
            members.swap(j, r);
        }
        members.truncate(k);
        members
    }

    fn resolve(&mut self, hit: &Hit, ctx: &Ctx) -> Vec<CompId> {
        match hit {
            Hit::One(c) => vec![*c],
            Hit::Fraction { group, fraction } => {
                let members: Vec<CompId> = ctx.registry.groups[*group]
                    .members
                    .iter()
                    .copied()
                    .filter(|&c| ctx.registry.of(c).lifecycle == Lifecycle::InService)
                    .collect();
                self.pick(members, *fraction)
            }
        }
    }
}

impl Behaviour for Faults {
    /// Schedules every fault (call once at time zero).
    fn start(&mut self, ctx: &mut Ctx) {
        for (i, f) in self.timeline.iter().enumerate() {
            ctx.timer_at(f.at, Timer::Word(FAULT, i as u32));
        }
    }

    /// Handles one message.
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        let now = ctx.now();
        match msg {
            Msg::Timer(Timer::Word(FAULT, i)) => {
                let i = i as usize;
                let f = self.timeline[i].clone();
                self.log
                    .push(TimelineEvent::new(now, f.event, "faults", f.label.clone()));
                match &f.action {
                    Action::Send(hit, control) => {
                        let targets = self.resolve(hit, ctx);
                        for &c in &targets {
                            ctx.send(c, Msg::Control(*control), 0);
                        }
                        self.picked[i] = targets;
                    }
                    Action::Undo(j) => {
                        // An instance inside a component (a database's replica) is recovered by
                        // name; anything else by the plain verb.
                        let verb = match &self.timeline[*j].action {
                            Action::Send(_, Control::Part(i, _)) => {
                                Control::Part(*i, super::PartVerb::Recover)
                            }
                            _ => Control::Recover,
                        };
                        for &c in &self.picked[*j] {
                            ctx.send(c, Msg::Control(verb), 0);
                        }
                    }
                    Action::Zone(az, down) => {
                        if let Some(z) = ctx.registry.az_down.get_mut(*az as usize) {
                            *z = *down;
                        }
                        let n = ctx.registry.status.len();
                        for c in 0..n as CompId {
                            let st = ctx.registry.of(c);
                            if st.instance && st.az == *az && st.lifecycle != Lifecycle::Off {
                                let verb = if *down {
                                    Control::Stop
                                } else {
                                    Control::Recover
                                };
                                ctx.send(c, Msg::Control(verb), 0);
                            }
                        }
                    }
                    Action::Delay(c, add) => {
                        let d = &mut ctx.registry.delay_to[*c as usize];
                        *d = (*d as i64 + add).max(0) as Time;
                    }
                    Action::RegionDelay(r, add) => {
                        if let Some(d) = ctx.registry.region_delay.get_mut(*r as usize) {
                            *d = (*d as i64 + add).max(0) as Time;
                        }
                    }
                    Action::Bug(comps, classes, permille, on) => {
                        for &c in comps {
                            ctx.registry.set_bug(c, classes, *permille, *on);
                        }
                    }
                    Action::RandomCrash(hit, mtbf, until) => {
                        let members = match hit {
                            Hit::One(c) => vec![*c],
                            Hit::Fraction { group, fraction } => {
                                let slots = ctx.registry.groups[*group].members.clone();
                                self.pick(slots, *fraction)
                            }
                        };
                        let k = self.random.len() as u32;
                        for (m, _) in members.iter().enumerate() {
                            let gap = super::dist::exp_gap(&mut self.rng, *mtbf as f64);
                            ctx.timer(gap, Timer::Word(CRASH_TICK, (k << 16) | m as u32));
                        }
                        self.random.push((members, *mtbf, *until));
                    }
                }
            }
            Msg::Timer(Timer::Word(CRASH_TICK, tag)) => {
                let (k, m) = ((tag >> 16) as usize, (tag & 0xffff) as usize);
                let (members, mtbf, until) = &self.random[k];
                let (c, mtbf) = (members[m], *mtbf);
                if now >= *until {
                    return; // the fault's duration is over: this member's stream ends
                }
                if ctx.registry.of(c).lifecycle == Lifecycle::InService && ctx.registry.of(c).up {
                    self.log.push(TimelineEvent::new(
                        now,
                        EventKind::Fault(FaultKind::RandomCrash),
                        "faults",
                        format!("random crash of {}", ctx.registry.name_of(c)),
                    ));
                    ctx.send(c, Msg::Control(Control::Crash), 0);
                }
                let gap = super::dist::exp_gap(&mut self.rng, mtbf as f64);
                ctx.timer(gap, Timer::Word(CRASH_TICK, tag));
            }
            _ => {}
        }
    }

    fn timeline(&self) -> &[TimelineEvent] {
        &self.log
    }
}

/// `⌈fraction × n⌉` of `n` members (at most `n`), exact for fractions written to the millionth:
/// the fraction is taken in whole millionths (rounded, at least one if it is above zero) and the
/// ceiling in integers, where the float product of 0.28 × 25 is 7.000000000000001 and its
/// ceiling 8.
pub(crate) fn share_of(n: usize, fraction: f64) -> usize {
    if fraction.is_nan() || fraction <= 0.0 {
        return 0;
    }
    let ppm = ((fraction.min(1.0) * 1e6).round() as u64).max(1);
    let k = (n as u64 * ppm).div_ceil(1_000_000);
    (k as usize).min(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sim::Simulation;
    use crate::engine::time::{MIN, MS, SEC};
    use crate::engine::{Model, Scheduler};
    use crate::metrics::Metrics;
    use crate::model::network::{Network, NetworkConfig};
    use crate::model::registry::{Registry, TargetGroup};
    use crate::model::request::RequestTable;
    use crate::model::world::{ctx, FAULTS};
    use crate::model::{Event, Zone};
    use crate::scenario::units::Duration as D;
    use std::collections::BTreeSet;

    /// The injector; every other component is played by the harness, which logs what it is told.
    struct Harness {
        faults: Faults,
        reqs: RequestTable,
        metrics: Metrics,
        net: Network,
        zones: Vec<Zone>,
        registry: Registry,
        /// (time, component, verb) of every control verb sent.
        controls: Vec<(Time, CompId, Control)>,
    }

    impl Model for Harness {
        type Event = Event;
        fn handle(&mut self, ev: Event, sched: &mut Scheduler<Event>) {
            let now = sched.now();
            let mut ctx = ctx!(self, sched, ev.to);
            match (ev.to, ev.msg) {
                (FAULTS, msg) => self.faults.handle(msg, &mut ctx),
                (c, Msg::Control(v)) => self.controls.push((now, c, v)),
                other => unreachable!("{other:?}"),
            }
        }
    }

    /// A started injector over components 2..2 + n, each an in-service, up instance in zone
    /// `(i − 2) % 3`; `setup` may change the registry before the start.
    fn world(
        timeline: Vec<FaultSpec>,
        n: usize,
        setup: impl FnOnce(&mut Registry),
    ) -> Simulation<Harness> {
        let total = 2 + n;
        let mut registry = Registry::new(total, 3);
        for c in 2..total {
            let st = registry.of_mut(c as CompId);
            st.instance = true;
            st.up = true;
            st.az = ((c - 2) % 3) as u8;
            registry.set_lifecycle(c as CompId, Lifecycle::InService);
            registry.names[c] = format!("c{c}");
        }
        setup(&mut registry);
        let h = Harness {
            faults: Faults::new(timeline, 1),
            reqs: RequestTable::new(),
            metrics: Metrics::new(&["c".into()], 0, SEC),
            net: Network::new(&NetworkConfig {
                client_rtt: D(0),
                internal_rtt: D(0),
                jitter: 0.0,
                regions: None,
            }),
            zones: vec![Zone::Internal; total],
            registry,
            controls: Vec::new(),
        };
        let mut sim = Simulation::new(h);
        let h = &mut sim.model;
        let mut ctx = ctx!(h, &mut sim.sched, FAULTS);
        h.faults.start(&mut ctx);
        sim
    }

    fn entry(at: Time, action: Action) -> FaultSpec {
        FaultSpec {
            at,
            action,
            label: String::new(),
            event: EventKind::FaultCleared,
        }
    }

    /// One group over components 2..2 + n.
    fn group_of_all(n: usize) -> impl FnOnce(&mut Registry) {
        move |r: &mut Registry| {
            r.groups.push(TargetGroup {
                name: "web".into(),
                members: (2..2 + n as CompId).collect(),
            })
        }
    }

    /// The components that got `verb` at `at`.
    fn hit(h: &Harness, at: Time, verb: Control) -> BTreeSet<CompId> {
        h.controls
            .iter()
            .filter(|c| c.0 == at && c.2 == verb)
            .map(|c| c.1)
            .collect()
    }

    #[test]
    fn each_verb_reaches_its_target_at_its_time() {
        let timeline = vec![
            entry(10 * SEC, Action::Send(Hit::One(2), Control::Crash)),
            entry(20 * SEC, Action::Send(Hit::One(3), Control::Stop)),
            entry(30 * SEC, Action::Send(Hit::One(4), Control::Hang)),
            entry(40 * SEC, Action::Send(Hit::One(5), Control::Slow(3000))),
            entry(50 * SEC, Action::Send(Hit::One(3), Control::Recover)),
        ];
        let mut sim = world(timeline, 4, |_| {});
        sim.run_until(MIN);
        assert_eq!(
            sim.model.controls,
            vec![
                (10 * SEC, 2, Control::Crash),
                (20 * SEC, 3, Control::Stop),
                (30 * SEC, 4, Control::Hang),
                (40 * SEC, 5, Control::Slow(3000)),
                (50 * SEC, 3, Control::Recover),
            ]
        );
        let logged: Vec<Time> = sim.model.faults.log.iter().map(|e| e.at).collect();
        assert_eq!(
            logged,
            vec![10 * SEC, 20 * SEC, 30 * SEC, 40 * SEC, 50 * SEC]
        );
    }

    #[test]
    fn an_undo_recovers_exactly_the_instances_its_fault_hit() {
        // Hang half of a group of four in service (ceil(0.5 × 4) = 2, picked at random) at 10 s;
        // the undo at 70 s recovers the same two and nobody else.
        let timeline = vec![
            entry(
                10 * SEC,
                Action::Send(
                    Hit::Fraction {
                        group: 0,
                        fraction: 0.5,
                    },
                    Control::Hang,
                ),
            ),
            entry(70 * SEC, Action::Undo(0)),
        ];
        let mut sim = world(timeline, 4, group_of_all(4));
        sim.run_until(2 * MIN);
        let h = &sim.model;
        let hung = hit(h, 10 * SEC, Control::Hang);
        assert_eq!(hung.len(), 2, "{hung:?}");
        assert_eq!(hit(h, 70 * SEC, Control::Recover), hung);
        assert_eq!(h.controls.len(), 4);
    }

    #[test]
    fn a_fraction_hits_ceil_of_fraction_times_the_members_in_service() {
        // Six members, one of them (c4) not in service: n = 5. 0.3 → ceil(1.5) = 2, 0.5 → 3,
        // 0.01 → 1, 1.0 → 5. Never c4, never one member twice.
        let fractions = [0.3, 0.5, 0.01, 1.0];
        let timeline = fractions
            .iter()
            .enumerate()
            .map(|(i, &fraction)| {
                entry(
                    (i as Time + 1) * SEC,
                    Action::Send(Hit::Fraction { group: 0, fraction }, Control::Hang),
                )
            })
            .collect();
        let mut sim = world(timeline, 6, |r| {
            group_of_all(6)(r);
            r.set_lifecycle(4, Lifecycle::Draining);
        });
        sim.run_until(MIN);
        let h = &sim.model;
        for (i, want) in [2, 3, 1, 5].into_iter().enumerate() {
            let at = (i as Time + 1) * SEC;
            let got = hit(h, at, Control::Hang);
            let sent = h.controls.iter().filter(|c| c.0 == at).count();
            assert_eq!((got.len(), sent), (want, want), "fraction {}", fractions[i]);
            assert!(!got.contains(&4), "hit a member not in service");
        }
    }

    #[test]
    fn a_fraction_of_0_28_of_25_instances_hits_7() {
        // 0.28 × 25 = 7 exactly in decimal, but the f64 product is 7.000000000000001 and its
        // ceiling 8: the share is taken in whole millionths instead (`share_of`). (Other cases:
        // 0.07 × 100, 0.14 × 50, 0.56 × 25.)
        for (f, n, k) in [
            (0.07, 100, 7),
            (0.14, 50, 7),
            (0.56, 25, 14),
            (0.5, 3, 2),
            (1e-7, 9, 1),
        ] {
            assert_eq!(share_of(n, f), k, "{f} of {n}");
        }
        let timeline = vec![entry(
            SEC,
            Action::Send(
                Hit::Fraction {
                    group: 0,
                    fraction: 0.28,
                },
                Control::Stop,
            ),
        )];
        let mut sim = world(timeline, 25, group_of_all(25));
        sim.run_until(MIN);
        assert_eq!(hit(&sim.model, SEC, Control::Stop).len(), 7);
    }

    #[test]
    fn an_az_outage_stops_exactly_the_running_instances_in_that_zone() {
        // Nine components in zones a, b, c, a, b, c, ...: zone b holds c3, c6 and c9. c6 is Off
        // (a free slot) and c9 is not an instance (a balancer, say): only c3 is stopped, and only
        // c3 recovers when the zone comes back.
        let timeline = vec![
            entry(10 * SEC, Action::Zone(1, true)),
            entry(20 * SEC, Action::Zone(1, false)),
        ];
        let mut sim = world(timeline, 8, |r| {
            r.set_lifecycle(6, Lifecycle::Off);
            r.of_mut(9).instance = false;
        });
        sim.run_until(15 * SEC);
        assert_eq!(sim.model.registry.az_down, vec![false, true, false]);
        sim.run_until(MIN);
        let h = &sim.model;
        assert_eq!(
            h.controls,
            vec![
                (10 * SEC, 3, Control::Stop),
                (20 * SEC, 3, Control::Recover)
            ]
        );
        assert_eq!(h.registry.az_down, vec![false; 3]);
    }

    #[test]
    fn random_crashes_stop_at_until_and_skip_instances_that_are_down() {
        // c2 crashes at random (MTBF 10 s) from 0 until 100 s: several crashes, every one before
        // 100 s, logged as random crashes. c3 has a stream too but is down: never crashed.
        let timeline = vec![
            entry(0, Action::RandomCrash(Hit::One(2), 10 * SEC, 100 * SEC)),
            entry(0, Action::RandomCrash(Hit::One(3), 10 * SEC, 100 * SEC)),
        ];
        let mut sim = world(timeline, 2, |r| r.of_mut(3).up = false);
        sim.run_until(1000 * SEC);
        let h = &sim.model;
        let crashes: Vec<Time> = h
            .controls
            .iter()
            .filter(|c| c.2 == Control::Crash)
            .map(|c| {
                assert_eq!(c.1, 2);
                c.0
            })
            .collect();
        assert!(crashes.len() >= 3, "{crashes:?}");
        assert!(crashes.iter().all(|&t| t < 100 * SEC), "{crashes:?}");
        let random = h
            .faults
            .log
            .iter()
            .filter(|e| e.kind == EventKind::Fault(FaultKind::RandomCrash))
            .count();
        assert_eq!(random, crashes.len());
    }

    #[test]
    fn random_crashes_of_a_fraction_pick_ceil_of_fraction_times_the_slots() {
        // Half of four slots are crash-prone: exactly two distinct members ever crash.
        let timeline = vec![entry(
            0,
            Action::RandomCrash(
                Hit::Fraction {
                    group: 0,
                    fraction: 0.5,
                },
                5 * SEC,
                Time::MAX,
            ),
        )];
        let mut sim = world(timeline, 4, group_of_all(4));
        sim.run_until(1000 * SEC);
        let crashed: BTreeSet<CompId> = sim.model.controls.iter().map(|c| c.1).collect();
        assert_eq!(crashed.len(), 2, "{crashed:?}");
    }

    #[test]
    fn a_latency_fault_adds_delay_and_its_end_takes_it_away() {
        let timeline = vec![
            entry(10 * SEC, Action::Delay(2, 200 * MS as i64)),
            entry(20 * SEC, Action::Delay(2, -(200 * MS as i64))),
        ];
        let mut sim = world(timeline, 2, |_| {});
        sim.run_until(15 * SEC);
        assert_eq!(sim.model.registry.delay_to[2..], [200 * MS, 0]);
        sim.run_until(25 * SEC);
        assert_eq!(sim.model.registry.delay_to[2..], [0, 0]);
    }

    #[test]
    fn a_scenario_timeline_reaches_its_targets_and_logs_each_fault_and_its_clearing() {
        // A server and a three-slot fleet (zones a, b, c): the scenario's faults, validated,
        // drive the injector. Each entry is logged at its time with its kind: a fault taking
        // effect, or one cleared (an undo, a recover, a latency or zone coming back).
        let text = r#"
[scenario]
name = "t"
duration = "1h"
[workload]
users = 1
target = "db"
[components.db]
kind = "server"
instance = "c5.large"
service = { dist = "exponential", mean = "20ms" }
[components.web]
kind = "fleet"
instance = "c5.large"
service = { dist = "exponential", mean = "20ms" }
min = 3
max = 3
[[faults]]
at = "1m"
kind = "stop"
target = "db"
duration = "2m"
[[faults]]
at = "2m"
kind = "crash"
target = "web[1]"
[[faults]]
at = "5m"
kind = "hang"
target = "web[2]"
[[faults]]
at = "6m"
kind = "recover"
target = "web[2]"
[[faults]]
at = "7m"
kind = "latency"
target = "db"
added = "200ms"
duration = "30s"
[[faults]]
at = "8m"
kind = "az_outage"
az = "a"
duration = "1m"
"#;
        let scn = crate::scenario::parse("test", text, &[]).unwrap_or_else(|e| panic!("{e}"));
        // db is component 2, web 3, its slots 4, 5, 6.
        let (db, web) = (2, [4, 5, 6]);
        let mut sim = world(scn.faults.clone(), 5, |r| {
            r.of_mut(db).az = 0;
            r.of_mut(3).instance = false;
            for (i, &c) in web.iter().enumerate() {
                r.of_mut(c).az = i as u8;
            }
        });
        sim.run_until(7 * MIN + 15 * SEC);
        assert_eq!(sim.model.registry.delay_to[db as usize], 200 * MS);
        sim.run_until(10 * MIN);
        let h = &sim.model;
        let log: Vec<(Time, EventKind, &str)> = h
            .faults
            .log
            .iter()
            .map(|e| (e.at, e.kind, e.text.as_str()))
            .collect();
        let fault = EventKind::Fault;
        let cleared = EventKind::FaultCleared;
        assert_eq!(
            log,
            vec![
                (MIN, fault(FaultKind::Stop), "stop db"),
                (2 * MIN, fault(FaultKind::Crash), "crash web[1]"),
                (3 * MIN, cleared, "recover db"),
                (5 * MIN, fault(FaultKind::Hang), "hang web[2]"),
                (6 * MIN, cleared, "recover web[2]"),
                (7 * MIN, fault(FaultKind::Latency), "+200ms to db"),
                (7 * MIN + 30 * SEC, cleared, "latency to db back to normal"),
                (8 * MIN, fault(FaultKind::AzOutage), "zone a out"),
                (9 * MIN, cleared, "zone a back"),
            ]
        );
        // Zone a holds db and web[0].
        assert_eq!(
            h.controls,
            vec![
                (MIN, db, Control::Stop),
                (2 * MIN, web[1], Control::Crash),
                (3 * MIN, db, Control::Recover),
                (5 * MIN, web[2], Control::Hang),
                (6 * MIN, web[2], Control::Recover),
                (8 * MIN, db, Control::Stop),
                (8 * MIN, web[0], Control::Stop),
                (9 * MIN, db, Control::Recover),
                (9 * MIN, web[0], Control::Recover),
            ]
        );
        assert_eq!(h.registry.delay_to[db as usize], 0);
    }
}
