//! Replaying recorded traffic: `workload.trace` drives arrivals from a CSV file (an access log's
//! shape, or a limiter test's scripted arrivals) instead of, or on top of, the synthetic users,
//! open streams and bots. The file is read and checked by the loader
//! ([`crate::scenario::trace`]); what reaches the client is a sorted list of rows — when, which
//! class, who is asking — replayed open-loop: nobody waits for an answer, each row is one request.
//!
//! ```text
//!   rows (sorted, 16 B each, shared by every run of the scenario)
//!   ┌────────┬────────┬────────┬────────┐
//!   │ 0.9 s  │ 0.9 s  │ 1.0 s  │ 2.5 s  │ ...
//!   └────────┴────────┴────────┴────────┘
//!                 ▲ next
//!   one pending timer, at the next row's time: when it fires, every row due now is sent, and
//!   the timer is set for the row after them. Pending events don't grow with the trace.
//! ```

use super::Code;
use crate::engine::time::Time;
use crate::scenario::units::Duration;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The client's timer for the next row of the trace. Apart from the client's own codes (0 and
/// up), so that a timer added there cannot take this number by accident.
pub(super) const TRACE_NEXT: Code = Code(100);

/// `workload.trace = "traces/x.csv"` or `{ file = "traces/x.csv", start = "0s", speed = 1.0 }`.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum TraceConfig {
    /// The CSV file, relative to the scenario file's folder, replayed from 0s at its own speed.
    File(String),
    /// The file, when its time 0 is replayed and how fast.
    Table(TraceTable),
}

/// `{ file = "traces/x.csv", start = "0s", speed = 1.0 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceTable {
    /// The CSV file (a header row naming its columns: `time`, `path` or `class`, `key`, and
    /// optionally `population`), relative to the scenario file's folder.
    pub file: String,
    /// When the trace's time 0 is replayed. Default 0s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Duration>,
    /// Playback speed: 2 replays the trace twice as fast (every gap halved), 0.5 at half speed.
    /// Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
}

impl TraceConfig {
    /// The file as written.
    pub fn file(&self) -> &str {
        match self {
            TraceConfig::File(f) => f,
            TraceConfig::Table(t) => &t.file,
        }
    }

    /// When the trace's time 0 is replayed, ns.
    pub fn start(&self) -> Time {
        match self {
            TraceConfig::File(_) => 0,
            TraceConfig::Table(t) => t.start.map_or(0, |d| d.0),
        }
    }

    /// The playback speed.
    pub fn speed(&self) -> f64 {
        match self {
            TraceConfig::File(_) => 1.0,
            TraceConfig::Table(t) => t.speed.unwrap_or(1.0),
        }
    }
}

impl<'de> Deserialize<'de> for TraceConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TraceConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a trace file such as trace = \"traces/x.csv\", or a table such as \
                     trace = { file = \"traces/x.csv\", start = \"0s\", speed = 1.0 }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TraceConfig, E> {
                Ok(TraceConfig::File(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<TraceConfig, A::Error> {
                TraceTable::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(TraceConfig::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// One recorded arrival: when (simulated ns), who is asking (a [`super::request::Request::key`])
/// and its request class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRow {
    /// When it is sent, ns (relative to the trace's own zero until the loader places it in the
    /// run).
    pub at: Time,
    /// Who is asking: [`super::request::client_key`] of its population and client.
    pub key: u32,
    /// Its request class (mix first, then bots).
    pub class: u16,
}

// A row is 16 bytes: ten million of them are 160 MB, held once whatever the number of runs.
const _: () = assert!(std::mem::size_of::<TraceRow>() == 16);

/// A trace after loading: the rows inside the run, in time order.
#[derive(Clone, PartialEq)]
pub struct TraceSpec {
    /// The file as written in the scenario (echoed into results.json).
    pub file: String,
    /// The rows replayed, in time order, at their simulated times (all before the run's end).
    pub rows: Arc<[TraceRow]>,
    /// Rows in the file.
    pub total: u64,
    /// Rows at or after the run's end, left out.
    pub ignored: u64,
    /// Distinct clients (keys within their population).
    pub clients: u64,
}

impl fmt::Debug for TraceSpec {
    // Not the rows: there may be millions.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("TraceSpec")
            .field("file", &self.file)
            .field("rows", &self.rows.len())
            .field("total", &self.total)
            .field("ignored", &self.ignored)
            .field("clients", &self.clients)
            .finish()
    }
}

/// Where a run is in its trace.
#[derive(Clone, Debug)]
pub struct Replay {
    rows: Arc<[TraceRow]>,
    next: usize,
}

impl Replay {
    /// A replay of `spec`'s rows from the first (none without a trace).
    pub fn new(spec: Option<&TraceSpec>) -> Self {
        Self {
            rows: spec.map_or_else(|| Arc::from(Vec::new()), |s| Arc::clone(&s.rows)),
            next: 0,
        }
    }

    /// When the next row is due, if any is left.
    #[inline]
    pub fn next_at(&self) -> Option<Time> {
        self.rows.get(self.next).map(|r| r.at)
    }

    /// The next row if it is due at `now`, counted as replayed.
    #[inline]
    pub fn pop_due(&mut self, now: Time) -> Option<TraceRow> {
        let r = *self.rows.get(self.next)?;
        if r.at > now {
            return None;
        }
        self.next += 1;
        Some(r)
    }

    /// Rows sent so far.
    pub fn replayed(&self) -> u64 {
        self.next as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_due_now_come_out_in_order_and_the_next_time_follows() {
        let row = |at, key| TraceRow { at, key, class: 0 };
        let spec = TraceSpec {
            file: "t.csv".into(),
            rows: Arc::from(vec![row(5, 1), row(5, 2), row(9, 3)]),
            total: 4,
            ignored: 1,
            clients: 3,
        };
        let mut r = Replay::new(Some(&spec));
        assert_eq!(r.next_at(), Some(5));
        assert_eq!(r.pop_due(4), None, "not yet");
        assert_eq!(r.pop_due(5).map(|r| r.key), Some(1));
        assert_eq!(r.pop_due(5).map(|r| r.key), Some(2));
        assert_eq!(r.pop_due(5), None);
        assert_eq!((r.next_at(), r.replayed()), (Some(9), 2));
        assert_eq!(r.pop_due(9).map(|r| r.key), Some(3));
        assert_eq!((r.next_at(), r.replayed()), (None, 3));
        let none = Replay::new(None);
        assert_eq!(none.next_at(), None);
        assert!(format!("{spec:?}").contains("rows: 3"), "{spec:?}");
    }
}
