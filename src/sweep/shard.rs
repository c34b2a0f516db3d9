//! Shard files (`sweep --shard K/N`) and their merge (`scalesim merge`).
//!
//! A shard file is JSON: the sweep's definition (with the resolved scenario's hash), which slice
//! it is, and the raw record of each of its runs. A merge checks that every shard belongs to the
//! same sweep and that the slices 0..N are each there exactly once, then hands the records,
//! in run order, to the same writer the unsharded sweep uses.

use super::{RunRecord, SweepDef};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a shard file says it is.
pub const KIND: &str = "scalesim sweep shard";
/// Version of the shard file layout.
pub const SCHEMA_VERSION: u32 = 1;

/// One shard file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardFile {
    /// Always [`KIND`].
    pub kind: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// scalesim's version that wrote it (a merge refuses shards of different versions: the
    /// model may differ).
    pub tool_version: String,
    /// Which slice: runs whose index (point · replications + replication) modulo `of` is `shard`.
    pub shard: u32,
    /// How many slices.
    pub of: u32,
    /// The sweep.
    pub sweep: SweepDef,
    /// Its runs, in run order.
    pub runs: Vec<RunRecord>,
}

/// The shard file's text.
pub fn shard_json(def: &SweepDef, (k, n): (u32, u32), runs: &[RunRecord]) -> String {
    let f = ShardFile {
        kind: KIND.into(),
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        shard: k,
        of: n,
        sweep: def.clone(),
        runs: runs.to_vec(),
    };
    serde_json::to_string(&f).expect("a shard serializes") + "\n"
}

/// Reads one shard file; the error names it.
pub fn read(path: &Path) -> Result<ShardFile, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{shown}:{}:{}: not JSON: {e}", e.line(), e.column()))?;
    if v.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
        return Err(format!(
            "{shown}: not a shard file of `scalesim sweep --shard K/N` (it has no \"kind\": \"{KIND}\")"
        ));
    }
    let f: ShardFile = serde_path_to_error::deserialize(v)
        .map_err(|e| format!("{shown}: at {}: {}", e.path(), e.inner()))?;
    if f.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "{shown}: shard layout version {} (this scalesim reads version {SCHEMA_VERSION})",
            f.schema_version
        ));
    }
    Ok(f)
}

/// Checks that `shards` (with the paths they came from) are the N slices of one sweep, each
/// once, and returns the definition and every run in run order.
pub fn merge(shards: &[(PathBuf, ShardFile)]) -> Result<(SweepDef, Vec<RunRecord>), String> {
    let Some((first_path, first)) = shards.first() else {
        return Err("merge needs at least one shard file".into());
    };
    let fp = first_path.display();
    for (path, s) in &shards[1..] {
        let p = path.display();
        if s.sweep.scenario_hash != first.sweep.scenario_hash
            || s.sweep.source != first.sweep.source
        {
            return Err(format!(
                "{p} is a shard of another scenario: {} (scenario hash {}), while {fp} is of {} \
                 (hash {}); merge only shards of one sweep",
                s.sweep.source,
                s.sweep.scenario_hash,
                first.sweep.source,
                first.sweep.scenario_hash
            ));
        }
        if s.sweep != first.sweep {
            return Err(format!(
                "{p} is a shard of a different sweep of {}: {}; merge only shards of one sweep",
                s.sweep.source,
                differences(&first.sweep, &s.sweep)
            ));
        }
        if s.tool_version != first.tool_version {
            return Err(format!(
                "{p} was written by scalesim {}, {fp} by {}: rerun the shards with one version",
                s.tool_version, first.tool_version
            ));
        }
        if s.of != first.of {
            return Err(format!(
                "{p} is slice {}/{} but {fp} is {}/{}: every shard of a sweep must use the same N",
                s.shard, s.of, first.shard, first.of
            ));
        }
    }
    let n = first.of;
    let mut seen: Vec<Option<&Path>> = vec![None; n as usize];
    for (path, s) in shards {
        if s.shard >= n {
            return Err(format!(
                "{}: slice {}/{n} does not exist",
                path.display(),
                s.shard
            ));
        }
        if let Some(other) = seen[s.shard as usize] {
            return Err(format!(
                "{} and {} are both slice {}/{n}: give each slice once",
                other.display(),
                path.display(),
                s.shard
            ));
        }
        seen[s.shard as usize] = Some(path);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(k, _)| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "slice{} {} of the sweep {} missing: run `scalesim sweep ... --shard K/{n}` for {} and merge again",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            if missing.len() == 1 { "it" } else { "them" }
        ));
    }
    let def = first.sweep.clone();
    let total = def.runs();
    let r = def.replications as usize;
    let mut runs: Vec<Option<RunRecord>> = vec![None; total];
    for (path, s) in shards {
        for rec in &s.runs {
            let i = rec.point * r + rec.rep as usize;
            if rec.point >= def.points()
                || rec.rep as usize >= r
                || i % n as usize != s.shard as usize
            {
                return Err(format!(
                    "{}: run {} of point {} does not belong in slice {}/{n}",
                    path.display(),
                    rec.rep,
                    rec.point,
                    s.shard
                ));
            }
            if runs[i].replace(rec.clone()).is_some() {
                return Err(format!(
                    "{}: run {} of point {} appears twice",
                    path.display(),
                    rec.rep,
                    rec.point
                ));
            }
        }
    }
    if let Some(i) = runs.iter().position(Option::is_none) {
        let k = i % n as usize;
        let path = seen[k].expect("every slice is there");
        return Err(format!(
            "{}: slice {k}/{n} lacks run {} of point {}: the shard is incomplete; run it again",
            path.display(),
            i % r,
            i / r
        ));
    }
    Ok((def, runs.into_iter().map(|r| r.expect("checked")).collect()))
}

/// What differs between two sweep definitions, in words.
fn differences(a: &SweepDef, b: &SweepDef) -> String {
    let mut d = Vec::new();
    if a.params != b.params {
        d.push("its --param values differ".to_string());
    }
    if a.replications != b.replications {
        d.push(format!(
            "--replications {} vs {}",
            b.replications, a.replications
        ));
    }
    if a.seed != b.seed {
        d.push(format!("seed {} vs {}", b.seed, a.seed));
    }
    if a.sets != b.sets || a.variant != b.variant {
        d.push("its --set or --variant differ".to_string());
    }
    if d.is_empty() {
        d.push("its definition differs".to_string());
    }
    d.join("; ")
}
