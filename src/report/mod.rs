//! Outputs: results.json, timeseries.csv, charts (PNG + SVG), summary.md — written into a staging
//! folder and moved into place in one rename, so a failed run leaves no half-written report.

pub mod charts;
pub mod check;
pub mod csv;
pub mod forensics;
pub mod html;
pub mod output;
pub mod results;
pub mod summary;
pub mod theory;
pub mod trace_json;

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
    /// Checks, before a run spends any time, that a report can be written to `target`: the same
    /// refusals as [`Staging::new`], and its folder can be created and written (probed with the
    /// staging folder itself, removed again).
    pub fn preflight(target: &Path) -> Result<(), ReportError> {
        let (target, parent, base) = Self::place(target)?;
        create_folder(&parent)?;
        let probe = parent.join(format!(".{base}.partial-{}", std::process::id()));
        if !probe.exists() {
            std::fs::create_dir(&probe).map_err(|source| ReportError::Io {
                path: target.clone(),
                source,
            })?;
            let _ = std::fs::remove_dir(&probe);
        }
        Ok(())
    }

    /// Creates a staging folder next to `target`. Refuses a target that is a file, or a folder
    /// that holds something other than an earlier report (nothing of the user's is ever replaced).
    /// A symlinked `target` is followed: the folder it points to is replaced and the link kept.
    /// Staging and backup folders left by a run that was killed are removed first.
    pub fn new(target: &Path) -> Result<Self, ReportError> {
        let (target, parent, base) = Self::place(target)?;
        create_folder(&parent)?;
        output::clean_stale(
            &parent,
            &[format!(".{base}.partial-"), format!(".{base}.old-")],
        );
        let dir = parent.join(format!(".{base}.partial-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(Self { dir, target })
    }

    /// The real target (symlinks followed), its folder and its name; refuses a target that is not
    /// a folder or holds files that are not a report.
    fn place(target: &Path) -> Result<(PathBuf, PathBuf, String), ReportError> {
        let target = output::follow_links(target).map_err(io_err(target))?;
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
            let is_report = target.join("results.json").exists()
                || target.join("journey.json").exists()
                || target.join("sweep.json").exists()
                || target.join("plan.json").exists()
                || target.join("compare.json").exists();
            let empty = std::fs::read_dir(&target)
                .map_err(io_err(&target))?
                .next()
                .is_none();
            if !is_report && !empty {
                return Err(refuse("the folder holds files that are not a scalesim report; choose an empty or new folder"));
            }
        }
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let base = target
            .file_name()
            .map_or("report".into(), |n| n.to_string_lossy().into_owned());
        Ok((target, parent, base))
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

/// `create_dir_all`, saying which part of the path is a file in the way.
fn create_folder(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| {
        let in_the_way = dir
            .ancestors()
            .find(|a| a.exists() && !a.is_dir() && !a.as_os_str().is_empty());
        match in_the_way {
            Some(file) => ReportError::Io {
                path: file.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "it is a file, not a folder, so no report folder can be made inside it; choose another --out",
                ),
            },
            None => ReportError::Io {
                path: dir.to_path_buf(),
                source,
            },
        }
    })
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Not committed: leave nothing half-written behind.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a run's report holds beyond results.json, timeseries.csv, summary.md and index.html.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outputs {
    /// The charts (PNG and SVG); `run --no-charts` leaves them out.
    pub charts: bool,
}

impl Outputs {
    /// Everything.
    pub const ALL: Outputs = Outputs { charts: true };
}

/// Writes a run's whole report into `out` (replacing it). Returns the files written.
pub fn write_run(out: &Path, scn: &Scenario, run: &RunOutput) -> Result<Vec<PathBuf>, ReportError> {
    write_run_with(out, scn, run, Outputs::ALL)
}

/// Writes a run's report, with the parts `what` asks for, into `out` (replacing it). Returns the
/// files written.
pub fn write_run_with(
    out: &Path,
    scn: &Scenario,
    run: &RunOutput,
    what: Outputs,
) -> Result<Vec<PathBuf>, ReportError> {
    let stage = Staging::new(out)?;
    let mut names = Vec::new();
    let json = results::results_json(scn, run);
    let text = serde_json::to_string_pretty(&json).expect("JSON values always serialize") + "\n";
    stage.write("results.json", text.as_bytes())?;
    names.push("results.json".to_string());
    stage.write("timeseries.csv", csv::timeseries_csv(scn, run).as_bytes())?;
    names.push("timeseries.csv".to_string());
    let tracer = run.metrics.tracer.as_deref();
    let traces = tracer.map(|t| trace_json::describe_all(scn, t));
    let mut summary = summary::summary_md(scn, run);
    summary.push_str(
        &traces
            .as_deref()
            .map_or(String::new(), trace_json::summary_md),
    );
    stage.write("summary.md", summary.as_bytes())?;
    names.push("summary.md".to_string());
    if what.charts {
        names.extend(charts::run_charts(&stage.dir, scn, run)?);
    }
    if let (Some(t), Some(d)) = (tracer, &traces) {
        names.extend(trace_json::write(&stage, scn, t, d, what.charts)?);
    }
    if scn.gif && what.charts {
        names.push(charts::run_gif(&stage.dir, scn, run)?);
    }
    stage.write(
        "index.html",
        html::run_index(scn, run, &summary, &names).as_bytes(),
    )?;
    names.push("index.html".to_string());
    let target = stage.commit()?;
    Ok(names.into_iter().map(|n| target.join(n)).collect())
}
