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
    /// Start random crashes of a group's members (all, or a random fraction of its slots) or of
    /// one component, each with this MTBF, until the given time (`Time::MAX`: never stop).
    RandomCrash(Hit, Time, Time),
    /// Send `Recover` to whatever timeline entry `index` hit (the end of a fault's duration).
    Undo(usize),
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
        let k = ((members.len() as f64 * fraction).ceil() as usize).min(members.len());
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
                        for &c in &self.picked[*j] {
                            ctx.send(c, Msg::Control(Control::Recover), 0);
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
