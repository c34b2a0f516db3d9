//! The discrete-event kernel: integer time, the pending-event set, the run loop, seeded RNG streams.
//!
//! This room is domain-free: it knows nothing of requests, servers or metrics. A model plugs in by
//! implementing [`Model`]; everything it wants to happen later goes through a [`Scheduler`].

pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;

pub use queue::EventQueue;
pub use rng::{stream_seed, RngStream};
pub use sim::{Fingerprint, Model, RunStats, Scheduler};
pub use time::Time;
