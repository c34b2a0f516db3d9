//! Outputs: results.json, timeseries.csv, charts (PNG + SVG), summary.md — written into a staging
//! folder and moved into place in one rename, so a failed run leaves no half-written report.

pub mod charts;
pub mod check;
pub mod csv;
pub mod results;
pub mod summary;

use crate::run::RunOutput;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};

/// Something went wrong writing a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be written. Check permissions and free space.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("cannot draw {path}: {message}")]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// What the plotting library said.
        message: String,
    },
}

/// Wraps an io error with its path.
pub fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A folder being filled; [`Staging::commit`] moves it to its final place atomically.
pub struct Staging {
    /// The temporary folder files are written into.
    pub dir: PathBuf,
    target: PathBuf,
}

impl Staging {
    /// Creates a staging folder next to `target`. Refuses a target that is a file, or a folder
    /// that holds something other than an earlier report (nothing of the user's is ever replaced).
    pub fn new(target: &Path) -> Result<Self, ReportError> {
        if target.exists() {
            let refuse = |why: &str| ReportError::Io {
                path: target.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, why.to_string()),
            };
            if !target.is_dir() {
                return Err(refuse(
                    "it exists and is not a folder; choose another --out",
                ));
            }
            let is_report =
                target.join("results.json").exists() || target.join("journey.json").exists();
            let empty = std::fs::read_dir(target)
                .map_err(io_err(target))?
                .next()
                .is_none();
            if !is_report && !empty {
                return Err(refuse("the folder holds files that are not a scalesim report; choose an empty or new folder"));
            }
        }
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        let base = target
            .file_name()
            .map_or("report".into(), |n| n.to_string_lossy().into_owned());
        let dir = parent.join(format!(".{base}.partial-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(Self {
            dir,
            target: target.to_path_buf(),
        })
    }

    /// Path of a file inside the staging folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes a whole file into the staging folder.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
        let p = self.file(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        std::fs::write(&p, bytes).map_err(io_err(&p))?;
        Ok(p)
    }

    /// Replaces the target folder with the staged one.
    pub fn commit(self) -> Result<PathBuf, ReportError> {
        let target = self.target.clone();
        if target.exists() {
            let old = self.dir.with_file_name(format!(
                ".{}.old-{}",
                target
                    .file_name()
                    .map_or("report".into(), |n| n.to_string_lossy().into_owned()),
                std::process::id()
            ));
            std::fs::rename(&target, &old).map_err(io_err(&target))?;
            std::fs::rename(&self.dir, &target).map_err(io_err(&target))?;
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.dir, &target).map_err(io_err(&target))?;
        }
        std::mem::forget(self);
        Ok(target)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed: leave nothing half-written behind.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes a run's whole report into `out` (replacing it). Returns the files written.
pub fn write_run(out: &Path, scn: &Scenario, run: &RunOutput) -> Result<Vec<PathBuf>, ReportError> {
    let stage = Staging::new(out)?;
    let mut names = Vec::new();
    let json = results::results_json(scn, run);
    let text = serde_json::to_string_pretty(&json).expect("JSON values always serialize") + "\n";
    stage.write("results.json", text.as_bytes())?;
    names.push("results.json".to_string());
    stage.write("timeseries.csv", csv::timeseries_csv(scn, run).as_bytes())?;
    names.push("timeseries.csv".to_string());
    stage.write("summary.md", summary::summary_md(scn, run).as_bytes())?;
    names.push("summary.md".to_string());
    for f in charts::run_charts(&stage.dir, scn, run)? {
        names.push(f);
    }
    let target = stage.commit()?;
    Ok(names.into_iter().map(|n| target.join(n)).collect())
}
