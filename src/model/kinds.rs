//! The table of component kinds. One line per kind generates everything that lists kinds: the
//! [`Component`] enum the world dispatches on, [`ComponentConfig`] (a scenario's
//! `[components.NAME]` as written, tagged by `kind`), [`ComponentSpec`] (the same after checks),
//! [`KindTag`], the kind strings ([`COMPONENT_KINDS`]), the parse dispatch, the schema entries and
//! every dispatch arm. Adding a kind: write `src/model/NAME.rs` implementing
//! [`Behaviour`] and [`Kind`], add its line below, and the compiler asks for nothing else.
//!
//! The dispatch stays static: [`Component::handle`] is a `match` over concrete types whose arms
//! inline each kind's handler.

use super::api_gateway::ApiGateway;
use super::cache::Cache;
use super::cdn::Cdn;
use super::client::Client;
use super::database::Database;
use super::dns::Dns;
use super::external::External;
use super::faults::Faults;
use super::fleet::Fleet;
use super::job::Job;
use super::kit::{
    Behaviour, Card, DescribeCtx, Description, Footprint, GaugeDecl, GaugeSum, Kind, ParseError,
};
use super::kit::{QueueFigures, TimelineEvent, Wiring};
use super::load_balancer::LoadBalancer;
use super::queue::Queue;
use super::rate_limiter::RateLimiter;
use super::server::Server;
use super::topic::Topic;
use super::worker_pool::WorkerPool;
use super::{Ctx, Event, Zone};
use crate::engine::Time;
use crate::scenario::error::{Diagnostic, Seg};
use crate::scenario::validate::Checker;

macro_rules! kinds {
    (
        builtins { $($bv:ident($bt:ty)),* $(,)? }
        kinds { $($v:ident($t:ty) = $kind:literal),* $(,)? }
    ) => {
        /// One component of the world: the built-in client population and fault injector, then
        /// one variant per kind. Variants differ in size, but each lives once in the world's
        /// vector and is never moved on the hot path, so boxing would only add an indirection.
        #[allow(clippy::large_enum_variant)]
        pub enum Component {
            $(
                #[doc = concat!("A built-in: ", stringify!($bv), ".")]
                $bv($bt),
            )*
            $(
                #[doc = concat!("`kind = \"", $kind, "\"`.")]
                $v($t),
            )*
        }

        impl Component {
            /// Handles one event addressed to it (static dispatch; each arm inlines the kind's
            /// handler). It takes the whole event and hands each arm `ev.msg`: taken out of the
            /// event before the match, the message was copied in pieces the CPU could not forward
            /// to the handlers' loads (benches/README.md, "The component kit's regression").
            #[inline(always)]
            pub fn handle(&mut self, ev: Event, ctx: &mut Ctx) {
                match self {
                    $(Component::$bv(x) => x.handle(ev.msg, ctx),)*
                    $(Component::$v(x) => x.handle(ev.msg, ctx),)*
                }
            }

            /// Schedules the component's first events.
            pub fn start(&mut self, ctx: &mut Ctx) {
                match self {
                    $(Component::$bv(x) => x.start(ctx),)*
                    $(Component::$v(x) => x.start(ctx),)*
                }
            }

            /// Starts after every other component ([`Wiring::starts_last`]).
            pub fn starts_last(&self) -> bool {
                match self {
                    $(Component::$bv(_) => false,)*
                    $(Component::$v(_) => <$t as Kind>::WIRING.starts_last,)*
                }
            }

            /// Restarts its counters at the end of the warm-up.
            pub fn reset_stats(&mut self, now: Time) {
                match self {
                    $(Component::$bv(x) => x.reset_stats(now),)*
                    $(Component::$v(x) => x.reset_stats(now),)*
                }
            }

            /// Adds to the standard gauges.
            pub fn gauges(&mut self, now: Time, g: &mut GaugeSum) {
                match self {
                    $(Component::$bv(x) => x.gauges(now, g),)*
                    $(Component::$v(x) => x.gauges(now, g),)*
                }
            }

            /// Dollars billed since time zero.
            pub fn billed(&mut self, now: Time) -> f64 {
                match self {
                    $(Component::$bv(x) => x.billed(now),)*
                    $(Component::$v(x) => x.billed(now),)*
                }
            }

            /// Dollars billed over the measured period.
            pub fn measured_cost(&mut self, now: Time, measured: Time) -> f64 {
                match self {
                    $(Component::$bv(x) => x.measured_cost(now, measured),)*
                    $(Component::$v(x) => x.measured_cost(now, measured),)*
                }
            }

            /// What happened to it.
            pub fn timeline(&self) -> &[TimelineEvent] {
                match self {
                    $(Component::$bv(x) => x.timeline(),)*
                    $(Component::$v(x) => x.timeline(),)*
                }
            }

            /// Its figures for results.json, with its kind string.
            pub fn card(&mut self, now: Time, measured: Time) -> Option<(&'static str, Card)> {
                match self {
                    $(Component::$bv(x) => x.card(now, measured).map(|c| ("", c)),)*
                    $(Component::$v(x) => x.card(now, measured).map(|c| ($kind, c)),)*
                }
            }

            /// Its queueing figures, if it is a queue.
            pub fn queue(&self) -> Option<QueueFigures> {
                match self {
                    $(Component::$bv(x) => x.queue(),)*
                    $(Component::$v(x) => x.queue(),)*
                }
            }

            /// Panics if it is outside its own bounds.
            pub fn check_invariants(&self) {
                match self {
                    $(Component::$bv(x) => x.check_invariants(),)*
                    $(Component::$v(x) => x.check_invariants(),)*
                }
            }

            /// Its section of summary.md, if it has one.
            pub fn narrative(&mut self, now: Time, measured: Time) -> Option<super::kit::Narrative> {
                match self {
                    $(Component::$bv(x) => x.narrative(now, measured),)*
                    $(Component::$v(x) => x.narrative(now, measured),)*
                }
            }

            /// Gauges of its own.
            pub fn extra_gauges(&self) -> &'static [GaugeDecl] {
                match self {
                    $(Component::$bv(x) => x.extra_gauges(),)*
                    $(Component::$v(x) => x.extra_gauges(),)*
                }
            }

            /// Their values now.
            pub fn sample_extra(&mut self, now: Time, out: &mut Vec<f64>) {
                match self {
                    $(Component::$bv(x) => x.sample_extra(now, out),)*
                    $(Component::$v(x) => x.sample_extra(now, out),)*
                }
            }

            /// Its instances that are CPU tiers of their own.
            pub fn cpu_parts(&self) -> Vec<String> {
                match self {
                    $(Component::$bv(x) => x.cpu_parts(),)*
                    $(Component::$v(x) => x.cpu_parts(),)*
                }
            }

            /// Their utilization over the window just closed.
            pub fn sample_parts(&mut self, out: &mut Vec<f64>) {
                match self {
                    $(Component::$bv(x) => x.sample_parts(out),)*
                    $(Component::$v(x) => x.sample_parts(out),)*
                }
            }
        }

        /// One `[components.NAME]` table as written: its `kind` and that kind's settings.
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        #[serde(tag = "kind")]
        pub enum ComponentConfig {
            $(
                #[doc = concat!("`kind = \"", $kind, "\"`.")]
                #[serde(rename = $kind)]
                $v(<$t as Kind>::Config),
            )*
        }

        /// A checked component.
        #[derive(Clone, Debug, PartialEq)]
        pub enum ComponentSpec {
            $(
                #[doc = concat!("`kind = \"", $kind, "\"`, checked.")]
                $v(<$t as Kind>::Spec),
            )*
        }

        /// Which kind a component is.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KindTag {
            $(
                #[doc = concat!("`kind = \"", $kind, "\"`.")]
                $v,
            )*
        }

        /// Every kind string, in table order (for "expected one of" messages and the schema).
        pub const COMPONENT_KINDS: &[&str] = &[$($kind),*];

        impl KindTag {
            /// Every kind, in table order.
            pub const ALL: &'static [KindTag] = &[$(KindTag::$v),*];

            /// The kind string of scenario files.
            pub fn name(self) -> &'static str {
                match self {
                    $(KindTag::$v => $kind,)*
                }
            }

            /// The kind named by a scenario's `kind = "..."`.
            pub fn from_name(s: &str) -> Option<KindTag> {
                match s {
                    $($kind => Some(KindTag::$v),)*
                    _ => None,
                }
            }

            /// How it may be referred to.
            pub fn wiring(self) -> Wiring {
                match self {
                    $(KindTag::$v => <$t as Kind>::WIRING,)*
                }
            }

            /// What it is, in words.
            pub fn words(self) -> &'static str {
                match self {
                    $(KindTag::$v => <$t as Kind>::WORDS,)*
                }
            }

            /// Which side of the network it sits on.
            pub fn zone(self) -> Zone {
                match self {
                    $(KindTag::$v => <$t as Kind>::ZONE,)*
                }
            }

            /// Its schema: (definition name, one sentence, object schema of its table).
            pub fn schema(
                self,
                gen: &mut schemars::gen::SchemaGenerator,
            ) -> (&'static str, &'static str, serde_json::Map<String, serde_json::Value>) {
                match self {
                    $(KindTag::$v => (
                        <$t as Kind>::SCHEMA_NAME,
                        <$t as Kind>::ABOUT,
                        <$t as Kind>::schema(gen),
                    ),)*
                }
            }

            /// Reads a table of this kind (the `kind` key removed).
            pub fn parse(self, table: toml::Table) -> Result<ComponentConfig, ParseError> {
                match self {
                    $(KindTag::$v => <$t as Kind>::parse(table).map(ComponentConfig::$v),)*
                }
            }

            /// Lets the kind improve a parse error's help.
            pub fn improve(self, d: &mut Diagnostic) {
                match self {
                    $(KindTag::$v => <$t as Kind>::improve(d),)*
                }
            }
        }

        impl ComponentConfig {
            /// Its kind.
            pub fn tag(&self) -> KindTag {
                match self {
                    $(ComponentConfig::$v(_) => KindTag::$v,)*
                }
            }

            /// Availability zones it spreads over, if it says.
            pub fn azs(&self) -> Option<u32> {
                match self {
                    $(ComponentConfig::$v(c) => <$t as Kind>::zones(c),)*
                }
            }

            /// Component slots it adds after the named ones.
            pub fn slot_count(&self) -> Option<u32> {
                match self {
                    $(ComponentConfig::$v(c) => <$t as Kind>::slot_count(c),)*
                }
            }

            /// Checks it (errors go to `c`).
            pub fn check(&self, name: &str, base: &[Seg], c: &mut Checker) -> Option<ComponentSpec> {
                match self {
                    $(ComponentConfig::$v(cfg) =>
                        <$t as Kind>::check(name, cfg, base, c).map(ComponentSpec::$v),)*
                }
            }
        }

        impl ComponentSpec {
            /// Its kind.
            pub fn tag(&self) -> KindTag {
                match self {
                    $(ComponentSpec::$v(_) => KindTag::$v,)*
                }
            }

            /// Builds the component for a run.
            pub fn build(&self, name: &str, seed: u64) -> Component {
                match self {
                    $(ComponentSpec::$v(s) => Component::$v(<$t as Kind>::build(name, s.clone(), seed)),)*
                }
            }

            /// Describes it in words.
            pub fn describe(&self, cx: &DescribeCtx) -> Description {
                match self {
                    $(ComponentSpec::$v(s) => <$t as Kind>::describe(s, cx),)*
                }
            }

            /// Components it brings along.
            pub fn expand(&self, name: &str, azs: u32) -> Vec<(String, ComponentSpec)> {
                match self {
                    $(ComponentSpec::$v(s) => <$t as Kind>::expand(name, s, azs),)*
                }
            }

            /// What it costs a run, for the estimate before the run.
            pub fn footprint(&self, mean_work: f64) -> Footprint {
                match self {
                    $(ComponentSpec::$v(s) => <$t as Kind>::footprint(s, mean_work),)*
                }
            }

            /// Replaces one-off events with their end state (for the journey's steady state).
            pub fn steady_state(&mut self) {
                match self {
                    $(ComponentSpec::$v(s) => <$t as Kind>::steady_state(s),)*
                }
            }
        }
    };
}

impl Component {
    /// The client population, if this is it (component 0 always is).
    pub fn as_client(&self) -> Option<&Client> {
        match self {
            Component::Client(c) => Some(c),
            _ => None,
        }
    }
}

kinds! {
    builtins {
        Client(Client),
        Faults(Faults),
    }
    kinds {
        Server(Server) = "server",
        Fleet(Fleet) = "fleet",
        LoadBalancer(LoadBalancer) = "load_balancer",
        Dns(Dns) = "dns",
        ApiGateway(ApiGateway) = "api_gateway",
        External(External) = "external",
        RateLimiter(RateLimiter) = "rate_limiter",
        Database(Database) = "database",
        Cache(Cache) = "cache",
        Cdn(Cdn) = "cdn",
        Queue(Queue) = "queue",
        WorkerPool(WorkerPool) = "worker_pool",
        Topic(Topic) = "topic",
        Job(Job) = "job",
    }
}
