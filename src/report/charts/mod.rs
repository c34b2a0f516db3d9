//! Charts (PNG and SVG) drawn with plotters.
//!
//! Every chart is described once by a type implementing the `Chart` trait of the [`kit`], whose
//! drawing code is generic over the plotters backend; `kit::render` then draws it twice, into a
//! PNG (bitmap) and an SVG file. Text uses the bundled DejaVu Sans (no system fonts are read),
//! and nothing time-dependent is embedded, so the same run always gives the same files.
//!
//! - [`kit`]: the plotting kit (font, rendering, axes, number formats, layout, legend, lines,
//!   notes, label strips) shared by every chart;
//! - [`run`]: the charts of one run over simulated time, with its events marked;
//! - [`journey`]: the comparison of every chapter against the number of users.

mod journey;
mod kit;
mod run;

pub use journey::journey_charts;
pub use run::run_charts;

/// Helpers the chart tests share.
#[cfg(test)]
mod test_util {
    use std::path::Path;

    pub(super) fn temp_dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("scalesim-charts-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    pub(super) fn assert_files(dir: &Path, names: &[String], expected: usize) {
        assert_eq!(names.len(), expected, "{names:?}");
        for n in names {
            let len = std::fs::metadata(dir.join(n))
                .unwrap_or_else(|e| panic!("{n}: {e}"))
                .len();
            assert!(len > 0, "{n} is empty");
        }
    }
}
