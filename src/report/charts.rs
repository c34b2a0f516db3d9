//! Charts (PNG and SVG) drawn with plotters. Placeholder until the chart room lands.

use super::ReportError;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use std::path::Path;

/// Draws the run's charts into `dir`; returns the file names written.
pub fn run_charts(
    _dir: &Path,
    _scn: &Scenario,
    _run: &RunOutput,
) -> Result<Vec<String>, ReportError> {
    Ok(Vec::new())
}

/// Draws the journey comparison charts into `dir`; returns the file names written.
pub fn journey_charts(
    _dir: &Path,
    _points: &[crate::journey::JourneyPoint],
) -> Result<Vec<String>, ReportError> {
    Ok(Vec::new())
}
