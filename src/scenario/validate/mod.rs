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
pub use context::{at_index, at_key, Checker};

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
            // Name both keys: either may be the one just changed (`--set scenario.duration=30d`).
            m.err(
                &[k("scenario"), k("window")],
                format!(
                    "the window ({w}) is too small for the duration ({}): more than a million points",
                    meta.duration
                ),
                Some(format!(
                    "a window of at least {} gives at most a million points",
                    Duration(duration.div_ceil(1_000_000).max(MS))
                )),
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
    c.classes = workload::class_paths(&file.workload);
    c.bots = file.workload.bots.iter().map(|b| b.name.clone()).collect();
    c.regions_on = file.network.regions.is_some();
    c.start_hour = file
        .workload
        .start_hour
        .filter(|h| (0.0..24.0).contains(h))
        .unwrap_or(0.0);
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
            format!(
                "jitter must be in [0, 1), found {}",
                super::error::number(file.network.jitter)
            ),
            None,
        );
    }

    for (name, spec) in &components {
        if let crate::model::kinds::ComponentSpec::Database(d) = spec {
            c.parts.insert(name.clone(), d.replicas);
        }
    }
    let regions = file.network.regions.as_ref().and_then(|cfg| {
        let sizes = workload::class_sizes(&file.workload);
        crate::model::region::check(&mut c, cfg, &sizes)
    });
    let mut client = client;
    if regions.is_none() {
        for (p, size) in workload::class_sizes(&file.workload) {
            if size.is_some() {
                c.err(
                    &p,
                    "an answer's `size` takes time over the users' last mile, which needs [network.regions]",
                    Some("add [network.regions] (its `bandwidth_mbps` is the last mile's), or remove `size`".into()),
                );
            }
        }
    }
    client.regions = regions.as_ref().map(|r| r.users_cdf.clone());

    if let Some(j) = &meta.journey {
        journey_change(&mut c, j, &file);
    }
    let faults = faults::check(&mut c, &file.faults);
    let slos = slo::check(
        &mut c,
        file.slo.as_ref(),
        &slo::classes_for_slo(&w.mix, &w.bots),
    );
    if let Some(e) = &file.exercise {
        crate::exercise::check(&mut c, e);
    }

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
        regions,
        overrides: ctx.overrides.iter().map(|o| o.raw.clone()).collect(),
        slos,
        notes: c.notes,
        file,
        variant: None,
        keep_window_histograms: false,
        trace_requests: None,
        gif: false,
    })
}

/// `[scenario.journey]`: what it names must exist here (`adds`, `changes`) or not (`removes`).
fn journey_change(c: &mut Checker, j: &super::JourneyChange, file: &ScenarioFile) {
    let base = [k("scenario"), k("journey")];
    if j.idea.trim().is_empty() {
        c.err(
            &at_key(&base, "idea"),
            "the idea can't be empty",
            Some("say in a sentence what this chapter's architecture adds, e.g. idea = \"a load balancer\"".into()),
        );
    }
    if j.problem.as_deref().is_some_and(|p| p.trim().is_empty()) {
        c.err(
            &at_key(&base, "problem"),
            "the problem can't be empty",
            Some("say in a sentence or two what breaks in this architecture as the users grow, or leave `problem` out".into()),
        );
    }
    let names: Vec<&str> = file.components.keys().map(String::as_str).collect();
    let unknown = |c: &mut Checker, path: Vec<Seg>, name: &str| {
        let help = match super::error::nearest(name, names.iter().copied()) {
            Some(n) => format!(
                "did you mean `{n}`? (components here: {})",
                names.join(", ")
            ),
            None => format!("components here: {}", names.join(", ")),
        };
        c.err(
            &path,
            format!("there is no component named `{name}` in this scenario"),
            Some(help),
        );
    };
    for (i, a) in j.adds.iter().enumerate() {
        if !file.components.contains_key(a) {
            unknown(c, at_index(&at_key(&base, "adds"), i), a);
        }
    }
    for (i, r) in j.removes.iter().enumerate() {
        if file.components.contains_key(r) {
            c.err(
                &at_index(&at_key(&base, "removes"), i),
                format!("`{r}` is a component of this scenario, so it is not removed"),
                Some("`removes` lists the previous chapter's components this one leaves out; a component that differs goes in `changes`".into()),
            );
        }
    }
    for (i, ch) in j.changes.iter().enumerate() {
        let path = at_index(&at_key(&base, "changes"), i);
        let (head, key) = match ch.split_once('.') {
            Some((h, key)) => (h, Some(key)),
            None => (ch.as_str(), None),
        };
        match (head, key) {
            ("network", Some(_)) | ("workload", Some("target")) => {}
            ("network" | "workload", _) => c.err(
                &path,
                format!("`{ch}` names no setting the journey compares"),
                Some("write `network.KEY` (e.g. \"network.client_rtt\") or \"workload.target\"; the journey's workload is its own".into()),
            ),
            (name, Some(key)) if file.components.contains_key(name) && key.is_empty() => c.err(
                &path,
                format!("`{ch}` ends with a dot"),
                Some(format!("write \"{name}\" for the whole component or \"{name}.KEY\" for one setting")),
            ),
            (name, _) if !file.components.contains_key(name) => unknown(c, path, name),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    //! Also the helpers the other checks' tests share: small scenario files built from parts.
    use super::*;
    use crate::model::kinds::ComponentSpec;
    use crate::scenario::parse;

    /// A one-hour scenario with one user, `workload` keys added to `[workload]`, then `rest`.
    pub(super) fn file(workload: &str, rest: &str) -> String {
        format!(
            "[scenario]\nname = \"t\"\nduration = \"1h\"\n\n[workload]\nusers = 1\n{workload}\n\n{rest}\n"
        )
    }

    /// `[components.NAME]` of a server.
    pub(super) fn server(name: &str) -> String {
        format!(
            "[components.{name}]\nkind = \"server\"\ninstance = \"c5.large\"\n\
             service = {{ dist = \"exponential\", mean = \"20ms\" }}\n"
        )
    }

    /// `[components.NAME]` of a fleet of at most `max` instances (all running).
    pub(super) fn fleet(name: &str, max: u32) -> String {
        format!(
            "[components.{name}]\nkind = \"fleet\"\ninstance = \"c5.large\"\n\
             service = {{ dist = \"exponential\", mean = \"20ms\" }}\nmin = {max}\nmax = {max}\n"
        )
    }

    /// `[components.NAME]` of a balancer; `targets` as written in TOML.
    pub(super) fn balancer(name: &str, targets: &str) -> String {
        format!("[components.{name}]\nkind = \"load_balancer\"\ntargets = {targets}\n")
    }

    /// `[components.NAME]` of a DNS pointing at `record`.
    pub(super) fn dns(name: &str, record: &str) -> String {
        format!("[components.{name}]\nkind = \"dns\"\nrecord = \"{record}\"\n")
    }

    /// The scenario, which must be valid.
    pub(super) fn valid(text: &str) -> Scenario {
        parse("test", text, &[]).unwrap_or_else(|e| panic!("{e}\n--- in ---\n{text}"))
    }

    /// The scenario's diagnostics, which must exist.
    pub(super) fn invalid(text: &str) -> Vec<Diagnostic> {
        match parse("test", text, &[]) {
            Ok(_) => panic!("accepted:\n{text}"),
            Err(e) => e.diagnostics,
        }
    }

    /// The scenario's only diagnostic.
    pub(super) fn the_error(text: &str) -> Diagnostic {
        let mut d = invalid(text);
        assert_eq!(d.len(), 1, "{d:#?}");
        d.remove(0)
    }

    /// The component names of a scenario, in component order (index 2 first).
    fn names(s: &Scenario) -> Vec<&str> {
        s.components.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn fleet_slots_follow_every_named_component_and_groups_list_fleets_first() {
        // Named components in name order: api 2, db 3, lb 4, lb2 5, web 6; then the slots of
        // each fleet in name order: api[0..2] = 7, 8; web[0..3] = 9, 10, 11. Target groups:
        // the fleets' slots first (api 0, web 1), then lb2's list of servers (2); lb shares
        // api's group.
        let text = file(
            "target = \"lb\"",
            &[
                fleet("web", 3),
                server("db"),
                balancer("lb", "\"api\""),
                balancer("lb2", "[\"db\"]"),
                fleet("api", 2),
            ]
            .join("\n"),
        );
        let s = valid(&text);
        assert_eq!(
            names(&s),
            vec!["api", "db", "lb", "lb2", "web", "api[0]", "api[1]", "web[0]", "web[1]", "web[2]"]
        );
        assert_eq!(
            s.groups,
            vec![
                ("api".to_string(), vec![7, 8]),
                ("web".to_string(), vec![9, 10, 11]),
                ("lb2".to_string(), vec![3]),
            ]
        );
        let spec = |name: &str| &s.components[names(&s).iter().position(|n| *n == name).unwrap()].1;
        match (spec("lb"), spec("lb2"), spec("web")) {
            (
                ComponentSpec::LoadBalancer(lb),
                ComponentSpec::LoadBalancer(lb2),
                ComponentSpec::Fleet(web),
            ) => {
                assert_eq!((lb.members.clone(), lb.group), (vec![7, 8], 0));
                assert_eq!((lb2.members.clone(), lb2.group), (vec![3], 2));
                assert_eq!(web.slots, vec![9, 10, 11]);
            }
            other => panic!("{other:?}"),
        }
        // Slot i of a fleet runs in zone i % azs (3 by default).
        let zones: Vec<u8> = s.components[7..]
            .iter()
            .map(|(_, c)| match c {
                ComponentSpec::Server(sv) => sv.az,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(zones, vec![0, 1, 2]);
        assert_eq!(s.client.entry, 4, "users connect to lb");
    }

    #[test]
    fn the_run_needs_a_length_a_shorter_warm_up_and_components() {
        let head = |meta: &str| {
            format!(
                "[scenario]\nname = \"t\"\n{meta}\n[workload]\nusers = 1\n\n{}",
                server("web")
            )
        };
        let d = the_error(&head("duration = \"0s\""));
        assert_eq!(d.key_path.as_deref(), Some("scenario.duration"));
        assert_eq!(d.message, "the duration must be more than zero");
        let d = the_error(&head("duration = \"10m\"\nwarmup = \"10m\""));
        assert_eq!(d.key_path.as_deref(), Some("scenario.warmup"));
        assert_eq!(
            d.message,
            "the warm-up (10m) must be shorter than the duration (10m)"
        );
        assert_eq!(
            valid(&head("duration = \"10m\"\nwarmup = \"9m\"")).warmup,
            9 * 60 * SEC
        );
        let d = the_error(&head("duration = \"10m\"\nwindow = \"500us\""));
        assert_eq!(d.message, "the window must be at least 1ms");
        let d = the_error(&head("duration = \"31d\""));
        assert_eq!(d.message, "the duration can be at most 30 days");
        let d = invalid(&file("", "[components]"));
        assert!(
            d.iter().any(|d| d.message == "there are no components"),
            "{d:#?}"
        );
    }

    #[test]
    fn component_names_may_use_only_letters_digits_dashes_and_underscores() {
        let d = the_error(&file("", &server("\"web.1\"")));
        assert_eq!(
            d.message,
            "component name \"web.1\" may use only letters, digits, '-' and '_'"
        );
        valid(&file("", &server("web-1_a")));
    }
}
