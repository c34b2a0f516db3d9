//! Charts (PNG and SVG) drawn with plotters.

mod kit;

pub use kit::{journey_charts, run_charts};
