//! The component kit: what every component does in a run ([`Behaviour`]), what a component *kind*
//! adds so a scenario file can name it ([`Kind`]), and the typed things components hand to the
//! reports — timeline events, figures for results.json, gauges for the time series, descriptions
//! for `explain` and the run header. Reports render these; components never format JSON or CSV.
//!
//! The table of kinds is in [`super::kinds`]: one line per kind generates the `Component` enum,
//! the config and spec enums, the kind strings, the parse dispatch, the schema entries and the
//! dispatch arms. A new kind is one file implementing these two traits plus that line.

use super::{CompId, Ctx, Msg, Zone};
use crate::engine::Time;
use crate::scenario::error::Seg;
use crate::scenario::validate::Checker;

/// What every component does while the world runs: react to messages, and hand its figures to
/// the reports. The defaults are for components that have nothing of the sort.
pub trait Behaviour {
    /// Schedules its first events (called once, at time zero).
    fn start(&mut self, ctx: &mut Ctx);
    /// Handles one message. The hot path: implementations are `#[inline(always)]`.
    fn handle(&mut self, msg: Msg, ctx: &mut Ctx);
    /// Restarts its counters (the end of the warm-up).
    fn reset_stats(&mut self, _now: Time) {}
    /// Adds its contribution to the standard gauges at the end of a window (closing its window).
    fn gauges(&mut self, _now: Time, _g: &mut GaugeSum) {}
    /// Dollars billed since time zero, up to `now`.
    fn billed(&mut self, _now: Time) -> f64 {
        0.0
    }
    /// Dollars billed over the measured period (since the warm-up), up to `now`; `measured` is
    /// that period's length.
    fn measured_cost(&mut self, _now: Time, _measured: Time) -> f64 {
        0.0
    }
    /// What happened to it, in time order.
    fn timeline(&self) -> &[TimelineEvent] {
        &[]
    }
    /// Its figures for results.json at the end of the run (`None`: nothing worth reporting).
    fn card(&mut self, _now: Time, _measured: Time) -> Option<Card> {
        None
    }
    /// Queueing figures, if it is a queue the validation scenarios can read (`queue.*`).
    fn queue(&self) -> Option<QueueFigures> {
        None
    }
    /// Gauges of its own beyond the standard ones (a queue's depth, a cache's hit ratio), each
    /// drawn as a time-series panel and written as a column `NAME.gauge`.
    fn extra_gauges(&self) -> &'static [GaugeDecl] {
        &[]
    }
    /// The current values of [`Behaviour::extra_gauges`], in the same order.
    fn sample_extra(&mut self, _now: Time, _out: &mut Vec<f64>) {}
    /// Instances inside it with vCPUs of their own, each its own CPU tier on the utilization
    /// chart and in the bottleneck line (a database's `primary`, `replica1`, ...). Empty: the
    /// component is one tier (from what it adds to [`GaugeSum`]), or none.
    fn cpu_parts(&self) -> Vec<String> {
        Vec::new()
    }
    /// Each part's CPU utilization over the window just closed (0..1, NaN while it ran no
    /// vCPUs), in [`Behaviour::cpu_parts`] order; called after [`Behaviour::sample_extra`].
    fn sample_parts(&mut self, _out: &mut Vec<f64>) {}
    /// Panics if it is outside its own bounds (more jobs than workers, a negative count...).
    /// Called at every window's end in debug builds and tests.
    fn check_invariants(&self) {}
    /// What it has to say in summary.md at the end of the run (a CDN's latency by region): a
    /// section title and its paragraphs, in Markdown. Default: nothing.
    fn narrative(&mut self, _now: Time, _measured: Time) -> Option<Narrative> {
        None
    }
}

/// A component's section of summary.md ([`Behaviour::narrative`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Narrative {
    /// The section's title.
    pub title: String,
    /// Its paragraphs (Markdown), in order.
    pub paragraphs: Vec<String>,
}

/// A kind of component a scenario can declare with `kind = "..."`. The kind string itself is
/// given once, in the table ([`super::kinds`]).
pub trait Kind: Behaviour + Sized {
    /// The settings as written (serde, `deny_unknown_fields`, a doc on every field).
    type Config: Clone + std::fmt::Debug + PartialEq + serde::Serialize + schemars::JsonSchema;
    /// The settings after checking, every default resolved.
    type Spec: Clone + std::fmt::Debug + PartialEq;

    /// What the kind is, in words ("load balancer"), for `explain` and the run header.
    const WORDS: &'static str;
    /// One sentence for the JSON Schema.
    const ABOUT: &'static str;
    /// Name of its variant in the JSON Schema's definitions.
    const SCHEMA_NAME: &'static str;
    /// Which side of the network it sits on.
    const ZONE: Zone;
    /// How other components and the checks may refer to it. No default: every kind says.
    const WIRING: Wiring;

    /// Reads its table (the `kind` key already removed). Errors keep their key paths.
    fn parse(table: toml::Table) -> Result<Self::Config, ParseError>;
    /// Its table's JSON Schema (an object schema with `properties`).
    fn schema(
        gen: &mut schemars::gen::SchemaGenerator,
    ) -> serde_json::Map<String, serde_json::Value> {
        crate::scenario::schema::object_of::<Self::Config>(gen)
    }
    /// Improves a parse error's help with what only the kind knows (the default does nothing).
    fn improve(_d: &mut crate::scenario::error::Diagnostic) {}
    /// Availability zones it spreads over, if it says (the scenario uses the most any says).
    fn zones(_cfg: &Self::Config) -> Option<u32> {
        None
    }
    /// Component slots it adds after the named components (a fleet's instances).
    fn slot_count(_cfg: &Self::Config) -> Option<u32> {
        None
    }
    /// Checks its settings; errors go to `c`, located under `base` (`components.NAME`).
    fn check(name: &str, cfg: &Self::Config, base: &[Seg], c: &mut Checker) -> Option<Self::Spec>;
    /// Components it brings along (a fleet's instance slots), given the checked spec.
    fn expand(
        _name: &str,
        _spec: &Self::Spec,
        _azs: u32,
    ) -> Vec<(String, super::kinds::ComponentSpec)> {
        Vec::new()
    }
    /// Builds the component for a run.
    fn build(name: &str, spec: Self::Spec, seed: u64) -> Self;
    /// Describes the checked spec, for the run header and `explain`.
    fn describe(spec: &Self::Spec, cx: &DescribeCtx) -> Description;
    /// The spec as its steady state (the journey replays each chapter without its one-off events:
    /// a server that resizes is replayed as its last size). Default: unchanged.
    fn steady_state(_spec: &mut Self::Spec) {}
    /// What it costs a run, for the estimate made before the run ([`crate::budget`]). No
    /// default: a kind that forgot would make every run look free.
    fn footprint(spec: &Self::Spec, mean_work: f64) -> Footprint;
}

/// What a component costs a run, as the estimate before a run sees it: events per request passing
/// through, its own events, how much it can serve and hold, and its fixed memory. Upper bounds
/// where in doubt; the estimate only has to tell a minute from a week and a gigabyte from a
/// terabyte.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Footprint {
    /// Events one request makes passing through it once (arrival, service, answer).
    pub events_per_request: f64,
    /// Events it makes on its own per simulated second (health checks, scaling ticks).
    pub background_per_s: f64,
    /// Requests per second it can complete at its largest (`INFINITY`: no limit of its own).
    pub capacity_per_s: f64,
    /// Most requests it can hold at once (`INFINITY`: an unbounded backlog).
    pub holds: f64,
    /// Bytes it keeps whatever the load.
    pub bytes: f64,
}

impl Footprint {
    /// A component requests pass through without limit or cost of their own.
    pub const PASS_THROUGH: Footprint = Footprint {
        events_per_request: 0.0,
        background_per_s: 0.0,
        capacity_per_s: f64::INFINITY,
        holds: 0.0,
        bytes: 1024.0,
    };
}

/// A kind's parse error: serde's, with the key path it happened at.
pub type ParseError = serde_path_to_error::Error<toml::de::Error>;

/// Reads a table into `T`, keeping the key path of an error (what most kinds' `parse` is).
pub fn parse_table<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, ParseError> {
    serde_path_to_error::deserialize(toml::Value::Table(table))
}

/// How other components and the checks may refer to a kind. A struct without defaults: a new
/// field makes every kind decide, and a new kind must fill in every field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wiring {
    /// Users connect here when the workload names no `target`: lower ranks win, among kinds with
    /// exactly one component (a DNS name before a balancer). `None`: never by default.
    pub front_door: Option<u8>,
    /// A DNS record may point at it.
    pub dns_answer: bool,
    /// How a load balancer may send to it.
    pub balancer_target: BalancerTarget,
    /// A `dns_outage` fault may target it.
    pub dns_outage: bool,
    /// Starts after every other component (a balancer reads the groups the fleets populate).
    pub starts_last: bool,
    /// Another component may call it ([`super::fanout`]: a gateway's route, a service's call):
    /// it takes a request and answers it.
    pub callable: bool,
}

/// How a load balancer may send to a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalancerTarget {
    /// Not a balancer target.
    No,
    /// One of a list of targets.
    Member,
    /// The balancer's only target: its instance slots are the target group.
    Group,
}

/// What a description may need to know about the rest of the scenario.
pub struct DescribeCtx<'a> {
    /// The name of a component, by index.
    pub name_of: &'a dyn Fn(CompId) -> String,
    /// The mean work of a request over the workload's mix (1 = one request of CPU demand
    /// `service`), for capacities in requests per second.
    pub mean_work: f64,
}

/// A component described in words, for the run header and `explain`.
#[derive(Clone, Debug, PartialEq)]
pub struct Description {
    /// Settings and capacity in one line: "c5.large (2 vCPU, 4 GiB, $0.085/h), 64 workers, ...".
    pub detail: String,
    /// How `explain` draws it.
    pub shape: Shape,
    /// Where it sends requests, for `explain`'s routes.
    pub routes: Vec<Route>,
    /// Users reach it by a lookup rather than a connection (DNS): the users' edge says so.
    pub looked_up: bool,
}

/// A node's shape in the Mermaid and DOT drawings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One thing.
    Box,
    /// Several identical things (a fleet).
    Stack,
    /// A decision (DNS).
    Diamond,
}

/// A route out of a component.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Where to (a fleet slot's route is drawn to its fleet).
    pub to: CompId,
    /// The hop crosses from the users' side ("answer") or stays inside the data centre.
    pub role: RouteRole,
}

/// What a route is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteRole {
    /// Requests are forwarded along it inside the data centre.
    Forward,
    /// A DNS answer: users connect there over the internet.
    Answer,
    /// A DNS failover answer (drawn dashed).
    Failover,
}

/// What kind of thing happened, so reports can read the timeline without parsing its words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// An injected fault took effect (with the fault's verb).
    Fault(crate::model::faults::FaultKind),
    /// An injected fault ended or was undone.
    FaultCleared,
    /// A process crashed (an injected crash or stop).
    Crash,
    /// A process ran out of memory and was killed.
    OutOfMemory,
    /// Hung, slowed down or recovered by a fault.
    Pace,
    /// Back up after a crash, a stop or a resize.
    BackUp,
    /// Stopped for a vertical resize.
    Resize,
    /// Booted and in service.
    Booted,
    /// Terminated by its group.
    Terminated,
    /// A group changed its desired capacity.
    Scaling,
    /// A group replaced a failed instance.
    Replaced,
    /// A balancer's target changed health.
    Health,
    /// The authoritative DNS went down or came back, or answers failed over.
    Dns,
    /// A circuit breaker on a call opened, let probes through (half-open) or closed.
    Breaker,
    /// A database detected its primary down, or promoted its standby.
    Failover,
    /// A scheduled job's run started.
    JobStarted,
    /// A scheduled job's run ended (succeeded or failed for good).
    JobEnded,
    /// One of a scheduled job's attempts failed and the run tries again.
    JobRetried,
    /// A scheduled job's firing was skipped (the last run was still going, or it is stopped).
    JobSkipped,
}

impl EventKind {
    /// The stable name in results.json.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Fault(_) => "fault",
            EventKind::FaultCleared => "fault_cleared",
            EventKind::Crash => "crash",
            EventKind::OutOfMemory => "out_of_memory",
            EventKind::Pace => "pace",
            EventKind::BackUp => "back_up",
            EventKind::Resize => "resize",
            EventKind::Booted => "booted",
            EventKind::Terminated => "terminated",
            EventKind::Scaling => "scaling",
            EventKind::Replaced => "replaced",
            EventKind::Health => "health",
            EventKind::Dns => "dns",
            EventKind::Breaker => "breaker",
            EventKind::Failover => "failover",
            EventKind::JobStarted => "job_started",
            EventKind::JobEnded => "job_ended",
            EventKind::JobRetried => "job_retried",
            EventKind::JobSkipped => "job_skipped",
        }
    }
}

/// One thing that happened to a component.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEvent {
    /// When.
    pub at: Time,
    /// What kind of thing.
    pub kind: EventKind,
    /// The component it happened to ("faults" for the injector's own entries).
    pub component: String,
    /// In words, for people.
    pub text: String,
}

impl TimelineEvent {
    /// An event of `component` at `at`.
    pub fn new(at: Time, kind: EventKind, component: &str, text: impl Into<String>) -> Self {
        Self {
            at,
            kind,
            component: component.to_string(),
            text: text.into(),
        }
    }
}

/// The standard gauges, summed over components at a window's end ([`Behaviour::gauges`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GaugeSum {
    /// Users active in the load curve.
    pub users: u64,
    /// Requests inside servers (in service + queued).
    pub in_system: u64,
    /// Requests waiting in accept backlogs.
    pub backlog: u64,
    /// Busy vCPU·ns over the window.
    pub busy: f64,
    /// Available vCPU·ns over the window.
    pub capacity: f64,
    /// Instances running (up or booting).
    pub instances: u32,
    /// Instances able to serve.
    pub healthy: u32,
    /// Servers' request counts over the window (for the theory beside the simulation).
    pub flow: TierFlow,
}

/// What a server's requests did over one window, summed per CPU tier: the simulated side of
/// [`crate::report::theory`]. Taken from the counters a server keeps anyway, once per window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TierFlow {
    /// Requests that arrived (refused ones included).
    pub arrivals: u64,
    /// Requests refused (backlog full, or down).
    pub refused: u64,
    /// Requests served to completion.
    pub completed: u64,
    /// Sum over completed requests of the time they waited for a worker, ns.
    pub wait_ns: f64,
    /// Sum over completed requests of their time in the server, ns.
    pub sojourn_ns: f64,
    /// vCPU·ns available over the window.
    pub capacity: f64,
}

impl TierFlow {
    /// Adds another's counts.
    pub fn add(&mut self, o: &TierFlow) {
        self.arrivals += o.arrivals;
        self.refused += o.refused;
        self.completed += o.completed;
        self.wait_ns += o.wait_ns;
        self.sojourn_ns += o.sojourn_ns;
        self.capacity += o.capacity;
    }
}

/// A gauge a kind declares beyond the standard ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaugeDecl {
    /// Column suffix and legend label: "depth", "hit_ratio".
    pub name: &'static str,
    /// The panel's axis title: "messages waiting", "hit ratio".
    pub title: &'static str,
    /// How values are shown.
    pub unit: GaugeUnit,
}

/// How a declared gauge's values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GaugeUnit {
    /// A count of things.
    Count,
    /// A fraction 0..1, shown as a percentage.
    Ratio,
    /// A time, in milliseconds.
    Millis,
}

/// Which list of results.json a card goes in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// `servers[]`: `{"name": ..., fields...}`.
    Servers,
    /// `components[]`: `{"name": ..., "kind": ..., fields...}`.
    Components,
}

/// One figure on a card.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    /// A count.
    Count(u64),
    /// A measured value (rounded to 6 decimals in the report).
    Value(f64),
    /// A value that may not exist (a mean of nothing): null when `None`.
    Maybe(Option<f64>),
    /// Words.
    Text(String),
    /// Yes or no.
    Flag(bool),
    /// Timed entries: `[{"at_s": ..., "what": ...}]`.
    Events(Vec<(Time, String)>),
    /// Named rows of figures: `{"mumbai": {key: figure, ...}, ...}`, rows in the given order.
    Table(Vec<(String, Vec<(&'static str, Figure)>)>),
}

/// A component's figures for results.json, in the order they are written.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    /// Where it goes.
    pub section: Section,
    /// The component's name.
    pub name: String,
    /// (key, figure), in order.
    pub fields: Vec<(&'static str, Figure)>,
}

impl Card {
    /// The figure under `key`, if the card has one.
    pub fn figure(&self, key: &str) -> Option<&Figure> {
        self.fields.iter().find(|(n, _)| *n == key).map(|(_, f)| f)
    }

    /// The count under `key`, if it is one.
    pub fn count(&self, key: &str) -> Option<u64> {
        match self.figure(key) {
            Some(Figure::Count(c)) => Some(*c),
            _ => None,
        }
    }

    /// The measured value under `key` (a value, or a maybe that is there).
    pub fn value(&self, key: &str) -> Option<f64> {
        match self.figure(key) {
            Some(Figure::Value(v)) => Some(*v),
            Some(Figure::Maybe(v)) => *v,
            _ => None,
        }
    }

    /// The words under `key`, if they are words.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.figure(key) {
            Some(Figure::Text(t)) => Some(t),
            _ => None,
        }
    }

    /// The timed entries under `key`, if they are entries.
    pub fn events(&self, key: &str) -> Option<&[(Time, String)]> {
        match self.figure(key) {
            Some(Figure::Events(v)) => Some(v),
            _ => None,
        }
    }
}

/// The queueing figures of one server since warm-up (results.json's `queue` block).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueFigures {
    /// The server's name.
    pub server: String,
    /// Its counters.
    pub stats: super::server::ServerStats,
}
