//! # scalesim
//!
//! A deterministic discrete-event simulator of a web system's scaling journey: one server, a bigger
//! server, fleets behind balancers, and on to caches and CDNs — each replayed from 10 to 100,000
//! users, with latency and failures plotted.
//!
//! ## The rooms
//! - [`engine`]: integer time, the pending-event set, the run loop, seeded RNG streams. Domain-free.
//! - [`model`]: one file per modeled thing (client, server, network, faults, ...).
//! - [`scenario`]: TOML → validated [`scenario::Scenario`]. All user-input checking lives here.
//! - [`metrics`]: streaming recorders (HDR histograms, outcome counters, time series).
//! - [`report`]: results.json, timeseries.csv, charts, summary.md — all written atomically.
//! - [`cli`]: the `scalesim` commands; thin.
//!
//! ## Glossary
//! - **request**: one user action; it may take several **attempts** (retries) and ends in exactly
//!   one **outcome** (ok, timeout, refused, crashed, ...).
//! - **window**: a slice of simulated time; the time series has one row per window.
//! - **warm-up**: the start of a run that statistics ignore.
//!
//! ## Quick start
//! ```
//! use scalesim::scenario;
//! let scn = scenario::load("chapter:1", &[]).expect("embedded chapter 1 loads");
//! let out = scalesim::run::run(&scn, &mut |_| {});
//! let ok = out.metrics.outcome_totals()[0];
//! assert!(ok > 0);
//! ```
#![warn(missing_docs)]

pub mod budget;
pub mod cli;
pub mod compare;
pub mod diff;
pub mod engine;
pub mod exercise;
pub mod explain;
#[doc(hidden)]
pub mod fuzzing;
pub mod journey;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod report;
pub mod run;
pub mod scenario;
pub mod slo;
pub mod stats;
pub mod sweep;
