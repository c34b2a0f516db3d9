//! Animated GIFs for slides (plotters' GIF backend, pure Rust): `run.gif`, a run's latency and
//! outcomes unfolding over simulated time, and `journey.gif`, the journey's p99 against users
//! with one chapter's line added per frame. Both are 1280×720 and hold their last frame; the
//! frames are the PNG charts' own drawing code (`run::run_frame`, `journey::p99_frame`).

use super::kit::{ensure_font, perr};
use crate::journey::JourneyPoint;
use crate::report::ReportError;
use crate::run::RunOutput;
use crate::scenario::Scenario;
use plotters::prelude::*;
use std::path::Path;

/// The size of a slide.
pub const GIF_SIZE: (u32, u32) = (1280, 720);
/// Frames of `run.gif` showing the run's windows unfold (fewer if the run has fewer windows).
pub const RUN_FRAMES: usize = 24;
/// Time each frame shows, ms.
const FRAME_MS: u32 = 300;
/// Extra copies of the last frame (holds it about 2 s).
const HOLD: usize = 6;

/// Draws `frames` frames into the GIF at `path` (`draw(root, i)` draws frame `i`), then
/// holds the last one.
fn write_gif(
    path: &Path,
    frames: usize,
    draw: impl Fn(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>, usize) -> Result<(), String>,
) -> Result<(), ReportError> {
    let fail = |message: String| ReportError::Chart {
        path: path.to_path_buf(),
        message,
    };
    ensure_font().map_err(fail)?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let root = BitMapBackend::gif(path, GIF_SIZE, FRAME_MS)
            .map_err(perr)?
            .into_drawing_area();
        for i in 0..frames + HOLD {
            root.fill(&WHITE).map_err(perr)?;
            draw(&root, i.min(frames.saturating_sub(1)))?;
            root.present().map_err(perr)?;
        }
        Ok(())
    }))
    .unwrap_or_else(|_| Err("the plotting library panicked".to_string()))
    .map_err(fail)
}

/// Writes `run.gif` into `dir`: frame i shows the first (i + 1)/frames of the run's windows.
pub fn run_gif(dir: &Path, scn: &Scenario, run: &RunOutput) -> Result<String, ReportError> {
    let windows = run.metrics.series.len();
    let frames = RUN_FRAMES.min(windows.max(1));
    let name = "run.gif".to_string();
    write_gif(&dir.join(&name), frames, |root, i| {
        let shown = (windows * (i + 1)).div_ceil(frames);
        super::run::run_frame(root, scn, run, shown).map(|_| ())
    })?;
    Ok(name)
}

/// Writes `journey.gif` into `dir`: one frame per chapter, each adding its p99 line.
pub fn journey_gif(dir: &Path, points: &[JourneyPoint]) -> Result<String, ReportError> {
    let mut chapters: Vec<u32> = points.iter().map(|p| p.chapter).collect();
    chapters.sort_unstable();
    chapters.dedup();
    let name = "journey.gif".to_string();
    write_gif(&dir.join(&name), chapters.len().max(1), |root, i| {
        super::journey::p99_frame(root, points, i + 1).map(|_| ())
    })?;
    Ok(name)
}
