//! Semantic checks: ranges, references between components, defaults resolved. Raw file →
//! [`Scenario`]. Each concern has its own file; each component kind checks its own settings in
//! its own file ([`crate::model::kit::Kind::check`]), through the shared [`Checker`].
//!
//! - `context`: the [`Checker`] (diagnostics, name resolution, "did you mean" help);
//! - `workload`: users, mix, load curve, retries, and where users connect;
//! - `faults`: the fault timeline;
//! - `slo`: service-level objectives.

pub mod context;
mod faults;
mod slo;
mod workload;

use context::k;
pub use context::Checker;

use super::error::{Diagnostic, LoadError, Seg};
use super::{ErrCtx, Scenario, ScenarioFile, FIRST_COMPONENT};
use crate::engine::time::{HOUR, MS, SEC};
use crate::scenario::units::Duration;

/// The checks of `[scenario]`, before components exist.
struct MetaChecker<'a, 'b> {
    ctx: &'a ErrCtx<'b>,
    diags: Vec<Diagnostic>,
}

impl MetaChecker<'_, '_> {
    fn err(&mut self, path: &[Seg], msg: impl Into<String>, help: Option<String>) {
        self.diags.push(self.ctx.at(path, msg, help));
    }
}

pub(super) fn validate(ctx: &ErrCtx, file: ScenarioFile) -> Result<Scenario, LoadError> {
    let mut m = MetaChecker {
        ctx,
        diags: Vec::new(),
    };
    let meta = &file.scenario;
    if meta.name.trim().is_empty() {
        m.err(&[k("scenario"), k("name")], "the name can't be empty", None);
    }
    let duration = meta.duration.0;
    if duration == 0 {
        m.err(
            &[k("scenario"), k("duration")],
            "the duration must be more than zero",
            Some("e.g. duration = \"30m\"".into()),
        );
    } else if duration > 30 * 24 * HOUR {
        m.err(
            &[k("scenario"), k("duration")],
            "the duration can be at most 30 days",
            None,
        );
    }
    let warmup = meta.warmup.map_or(0, |d| d.0);
    if duration > 0 && warmup >= duration {
        m.err(
            &[k("scenario"), k("warmup")],
            format!(
                "the warm-up ({}) must be shorter than the duration ({})",
                Duration(warmup),
                meta.duration
            ),
            None,
        );
    }
    let window = match meta.window {
        Some(w) if w.0 < MS => {
            m.err(
                &[k("scenario"), k("window")],
                "the window must be at least 1ms",
                None,
            );
            SEC
        }
        Some(w) if duration > 0 && duration / w.0 > 1_000_000 => {
            m.err(
                &[k("scenario"), k("window")],
                "the window is too small: more than a million points",
                None,
            );
            SEC
        }
        Some(w) => w.0,
        None => crate::metrics::auto_window(duration, 240),
    };

    // Components: named ones in name order, then every slotted kind's instance slots.
    if file.components.is_empty() {
        m.err(
            &[k("components")],
            "there are no components",
            Some("add one, e.g. [components.web] with kind = \"server\"".into()),
        );
    }
    let azs = file
        .components
        .values()
        .filter_map(|cfg| cfg.azs())
        .max()
        .unwrap_or(3)
        .clamp(1, 26);
    let named = file
        .components
        .iter()
        .map(|(name, cfg)| (name.clone(), cfg.tag(), cfg.slot_count()))
        .collect();
    let mut c = Checker::new(ctx, duration, azs, named, FIRST_COMPONENT);
    c.diags = m.diags;
    let mut components = Vec::new();
    let mut slots = Vec::new();
    for (name, cfg) in &file.components {
        let base = vec![k("components"), k(name)];
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            c.err(
                &base,
                format!("component name \"{name}\" may use only letters, digits, '-' and '_'"),
                None,
            );
        }
        if let Some(spec) = cfg.check(name, &base, &mut c) {
            slots.extend(spec.expand(name, azs));
            components.push((name.clone(), spec));
        }
    }
    components.extend(slots);

    let w = &file.workload;
    let client = workload::check(&mut c, w);

    // Network.
    if !(0.0..1.0).contains(&file.network.jitter) {
        c.err(
            &[k("network"), k("jitter")],
            format!("jitter must be in [0, 1), found {}", file.network.jitter),
            None,
        );
    }

    let faults = faults::check(&mut c, &file.faults);
    let slos = slo::check(
        &mut c,
        file.slo.as_ref(),
        &slo::classes_for_slo(&w.mix, &w.bots),
    );

    if !c.diags.is_empty() {
        return Err(LoadError {
            diagnostics: c.diags,
        });
    }
    Ok(Scenario {
        source: ctx.source.to_string(),
        name: meta.name.clone(),
        chapter: meta.chapter,
        duration,
        warmup,
        seed: meta.seed.unwrap_or(1),
        window,
        client,
        components,
        groups: c.groups,
        azs,
        faults,
        network: file.network.clone(),
        overrides: ctx.overrides.iter().map(|o| o.raw.clone()).collect(),
        slos,
        file,
    })
}
