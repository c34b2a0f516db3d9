//! Semantic checks: ranges, references between components, defaults resolved. Raw file → [`Scenario`].

use super::error::{Diagnostic, LoadError, Seg};
use super::{ComponentConfig, ComponentSpec, ErrCtx, Scenario, ScenarioFile, FIRST_COMPONENT};
use crate::engine::time::{HOUR, MS, SEC};
use crate::model::catalog;
use crate::model::client::{Backoff, ClassSpec, ClientSpec, LoadCurve, StreamSpec};
use crate::model::dist::DistConfig;
use crate::model::faults::{FaultKind, FaultSpec};
use crate::model::server::{ServerConfig, ServerSpec, DEFAULT_RESIZE_DOWNTIME, DEFAULT_RESTART};
use crate::scenario::units::Duration;

fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

struct Checker<'a, 'b> {
    ctx: &'a ErrCtx<'b>,
    diags: Vec<Diagnostic>,
}

impl Checker<'_, '_> {
    fn err(&mut self, path: &[Seg], msg: impl Into<String>, help: Option<String>) {
        self.diags.push(self.ctx.at(path, msg, help));
    }

    fn positive_f64(&mut self, path: &[Seg], v: f64, what: &str) {
        if !(v > 0.0 && v.is_finite()) {
            self.err(
                path,
                format!("{what} must be a positive number, found {v}"),
                None,
            );
        }
    }

    fn dist(&mut self, path: &[Seg], d: &DistConfig, allow_zero_mean: bool) {
        if let Err((field, msg)) = d.check() {
            let mut p = path.to_vec();
            p.push(k(field));
            self.err(&p, msg, None);
        } else if !allow_zero_mean && d.mean() <= 0.0 {
            self.err(
                path,
                "the mean must be more than zero",
                Some("e.g. mean = \"20ms\"".into()),
            );
        }
    }
}

pub(super) fn validate(ctx: &ErrCtx, file: ScenarioFile) -> Result<Scenario, LoadError> {
    let mut c = Checker {
        ctx,
        diags: Vec::new(),
    };
    let meta = &file.scenario;
    let sp = [k("scenario")];
    if meta.name.trim().is_empty() {
        c.err(&[k("scenario"), k("name")], "the name can't be empty", None);
    }
    let duration = meta.duration.0;
    if duration == 0 {
        c.err(
            &[k("scenario"), k("duration")],
            "the duration must be more than zero",
            Some("e.g. duration = \"30m\"".into()),
        );
    } else if duration > 30 * 24 * HOUR {
        c.err(
            &[k("scenario"), k("duration")],
            "the duration can be at most 30 days",
            None,
        );
    }
    let warmup = meta.warmup.map_or(0, |d| d.0);
    if duration > 0 && warmup >= duration {
        c.err(
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
            c.err(
                &[k("scenario"), k("window")],
                "the window must be at least 1ms",
                None,
            );
            SEC
        }
        Some(w) if duration > 0 && duration / w.0 > 1_000_000 => {
            c.err(
                &[k("scenario"), k("window")],
                "the window is too small: more than a million points",
                None,
            );
            SEC
        }
        Some(w) => w.0,
        None => crate::metrics::auto_window(duration, 240),
    };
    let _ = sp;

    // Components (names sorted; index = position + FIRST_COMPONENT).
    let names: Vec<String> = file.components.keys().cloned().collect();
    if names.is_empty() {
        c.err(
            &[k("components")],
            "there are no components",
            Some("add one, e.g. [components.web] with kind = \"server\"".into()),
        );
    }
    let index_of = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .map(|i| i as u32 + FIRST_COMPONENT)
    };
    let mut components = Vec::new();
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
        match cfg {
            ComponentConfig::Server(s) => {
                if let Some(spec) = server_spec(&mut c, &base, s, duration) {
                    components.push((name.clone(), ComponentSpec::Server(spec)));
                }
            }
        }
    }

    // Workload.
    let w = &file.workload;
    let wp = [k("workload")];
    let at = |p: &[Seg], key: &str| {
        let mut v = p.to_vec();
        v.push(k(key));
        v
    };
    let users = w.users.unwrap_or(0);
    match (w.users, &w.arrival_rate) {
        (Some(_), Some(_)) => c.err(
            &at(&wp, "arrival_rate"),
            "give either `users` (closed loop) or `arrival_rate` (open loop), not both",
            None,
        ),
        (None, None) if w.bots.is_empty() => c.err(
            &wp,
            "no traffic: give `users` (closed loop) or `arrival_rate` (open loop)",
            Some("e.g. users = 100".into()),
        ),
        _ => {}
    }
    if w.users == Some(0) {
        c.err(&at(&wp, "users"), "users must be at least 1", None);
    }
    if users > 10_000_000 {
        c.err(
            &at(&wp, "users"),
            "at most 10,000,000 users are supported",
            None,
        );
    }
    if let Some(r) = w.arrival_rate {
        c.positive_f64(&at(&wp, "arrival_rate"), r.0, "the arrival rate");
    }
    let think = w.think_time.clone().unwrap_or(DistConfig::Exponential {
        mean: Duration(8 * SEC),
    });
    if let Some(t) = &w.think_time {
        c.dist(&at(&wp, "think_time"), t, true);
    }
    if w.timeout.is_some_and(|t| t.0 == 0) {
        c.err(
            &at(&wp, "timeout"),
            "the timeout must be more than zero (leave it out to wait forever)",
            None,
        );
    }
    let retry = w.retries.as_ref().map(|r| {
        if r.max > 10 {
            c.err(
                &[k("workload"), k("retries"), k("max")],
                format!("at most 10 retries, found {}", r.max),
                None,
            );
        }
        let base = r.base.map_or(100 * MS, |d| d.0);
        let cap = r.cap.map_or(10 * SEC, |d| d.0);
        if r.base.is_some_and(|b| b.0 == 0) {
            c.err(
                &[k("workload"), k("retries"), k("base")],
                "the backoff base must be more than zero",
                None,
            );
        }
        (
            r.max,
            r.backoff,
            base,
            cap.max(base),
            r.jitter.unwrap_or(true),
        )
    });
    let _ = Backoff::Exponential;
    let mut spikes = Vec::new();
    for (i, s) in w.spikes.iter().enumerate() {
        let p = vec![k("workload"), k("spikes"), Seg::Index(i)];
        if !(s.multiplier >= 0.0 && s.multiplier.is_finite() && s.multiplier <= 10_000.0) {
            c.err(
                &at(&p, "multiplier"),
                format!(
                    "the multiplier must be between 0 and 10000, found {}",
                    s.multiplier
                ),
                None,
            );
        }
        if s.hold.0 == 0 && s.ramp.0 == 0 {
            c.err(
                &at(&p, "hold"),
                "a spike needs a hold or a ramp longer than zero",
                None,
            );
        }
        spikes.push((s.at.0, s.multiplier, s.ramp.0, s.hold.0));
    }
    if let Some(d) = &w.daily_curve {
        if d.len() != 24 {
            c.err(
                &at(&wp, "daily_curve"),
                format!("the daily curve needs 24 hourly values, found {}", d.len()),
                None,
            );
        } else if d.iter().any(|v| !(*v >= 0.0 && v.is_finite())) {
            c.err(
                &at(&wp, "daily_curve"),
                "daily curve values must be non-negative numbers",
                None,
            );
        }
    }
    if let Some(h) = w.start_hour {
        if !(0.0..24.0).contains(&h) {
            c.err(
                &at(&wp, "start_hour"),
                format!("start_hour must be in 0..24, found {h}"),
                None,
            );
        }
    }
    let mut classes = Vec::new();
    let mut weights = Vec::new();
    if w.mix.is_empty() {
        classes.push(ClassSpec {
            name: "request".into(),
            path: None,
            work: 1.0,
        });
        weights.push(1.0);
    }
    for (i, m) in w.mix.iter().enumerate() {
        let p = vec![k("workload"), k("mix"), Seg::Index(i)];
        if !(m.weight > 0.0 && m.weight.is_finite()) {
            c.err(
                &at(&p, "weight"),
                format!("the weight must be a positive number, found {}", m.weight),
                None,
            );
        }
        if let Some(wk) = m.work {
            c.positive_f64(&at(&p, "work"), wk, "work");
        }
        if classes.iter().any(|cl: &ClassSpec| cl.name == m.name) {
            c.err(
                &at(&p, "name"),
                format!("the class name \"{}\" is used twice", m.name),
                None,
            );
        }
        classes.push(ClassSpec {
            name: m.name.clone(),
            path: m.path.clone(),
            work: m.work.unwrap_or(1.0),
        });
        weights.push(m.weight.max(0.0));
    }
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    let mix_cdf: Vec<f64> = weights
        .iter()
        .map(|x| {
            acc += x / total.max(f64::MIN_POSITIVE);
            acc
        })
        .collect();
    let mut streams = Vec::new();
    if let Some(r) = w.arrival_rate {
        streams.push(StreamSpec {
            rate: r.0,
            follows_curve: true,
            class: None,
            from: 0,
            until: u64::MAX,
        });
    }
    for (i, b) in w.bots.iter().enumerate() {
        let p = vec![k("workload"), k("bots"), Seg::Index(i)];
        c.positive_f64(&at(&p, "rate"), b.rate.0, "the bot rate");
        if classes.iter().any(|cl| cl.name == b.name) {
            c.err(
                &at(&p, "name"),
                format!("the class name \"{}\" is used twice", b.name),
                None,
            );
        }
        let from = b.from.map_or(0, |d| d.0);
        let until = b.until.map_or(u64::MAX, |d| d.0);
        if until <= from {
            c.err(&at(&p, "until"), "`until` must be after `from`", None);
        }
        streams.push(StreamSpec {
            rate: b.rate.0,
            follows_curve: false,
            class: Some(classes.len() as u16),
            from,
            until,
        });
        classes.push(ClassSpec {
            name: b.name.clone(),
            path: b.path.clone(),
            work: b.work.unwrap_or(1.0),
        });
    }
    if classes.len() > 1000 {
        c.err(&at(&wp, "mix"), "at most 1000 request classes", None);
    }
    let entry = match &w.target {
        Some(t) => match index_of(t) {
            Some(i) => i,
            None => {
                let help = match super::error::nearest(t, names.iter().map(String::as_str)) {
                    Some(n) => format!("did you mean \"{n}\"? components: {}", names.join(", ")),
                    None => format!("components: {}", names.join(", ")),
                };
                c.err(
                    &at(&wp, "target"),
                    format!("there is no component called \"{t}\""),
                    Some(help),
                );
                FIRST_COMPONENT
            }
        },
        None if names.len() == 1 => FIRST_COMPONENT,
        None => {
            if names.len() > 1 {
                c.err(
                    &wp,
                    "which component do users connect to? set `target`",
                    Some(format!("one of: {}", names.join(", "))),
                );
            }
            FIRST_COMPONENT
        }
    };

    // Network.
    if !(0.0..1.0).contains(&file.network.jitter) {
        c.err(
            &[k("network"), k("jitter")],
            format!("jitter must be in [0, 1), found {}", file.network.jitter),
            None,
        );
    }

    // Faults.
    let mut faults = Vec::new();
    for (i, f) in file.faults.iter().enumerate() {
        let p = vec![k("faults"), Seg::Index(i)];
        let Some(target) = index_of(&f.target) else {
            let help = match super::error::nearest(&f.target, names.iter().map(String::as_str)) {
                Some(n) => format!("did you mean \"{n}\"? components: {}", names.join(", ")),
                None => format!("components: {}", names.join(", ")),
            };
            c.err(
                &at(&p, "target"),
                format!("there is no component called \"{}\"", f.target),
                Some(help),
            );
            continue;
        };
        if f.kind == FaultKind::Slow {
            match f.factor {
                Some(x) if x > 1.0 && x <= 1000.0 => {}
                Some(x) => c.err(
                    &at(&p, "factor"),
                    format!("a slow-down factor must be in (1, 1000], found {x}"),
                    None,
                ),
                None => c.err(
                    &p,
                    "a \"slow\" fault needs `factor` (how many times slower)",
                    Some("e.g. factor = 3".into()),
                ),
            }
        } else if f.factor.is_some() {
            c.err(
                &at(&p, "factor"),
                "`factor` applies only to \"slow\" faults",
                None,
            );
        }
        if f.duration.is_some_and(|d| d.0 == 0) {
            c.err(
                &at(&p, "duration"),
                "the duration must be more than zero",
                None,
            );
        }
        faults.extend(FaultSpec::expand(f, target));
    }
    faults.sort_by_key(|f| f.at);

    if !c.diags.is_empty() {
        return Err(LoadError {
            diagnostics: c.diags,
        });
    }
    let client = ClientSpec {
        users,
        think,
        streams,
        timeout: w.timeout.map(|t| t.0),
        retry,
        entry,
        classes,
        mix_cdf,
        curve: LoadCurve {
            spikes,
            daily: w.daily_curve.clone(),
            start_hour: w.start_hour.unwrap_or(0.0),
        },
    };
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
        faults,
        network: file.network.clone(),
        overrides: ctx.overrides.iter().map(|o| o.raw.clone()).collect(),
        file,
    })
}

fn server_spec(
    c: &mut Checker,
    base: &[Seg],
    s: &ServerConfig,
    duration: u64,
) -> Option<ServerSpec> {
    let at = |key: &str| {
        let mut v = base.to_vec();
        v.push(k(key));
        v
    };
    let inst = match &s.instance {
        Some(name) => match catalog::lookup(name) {
            Some(t) => Some(*t),
            None => {
                let help = match super::error::nearest(name, catalog::names()) {
                    Some(n) => format!(
                        "did you mean \"{n}\"? known types: {}",
                        catalog::names().join(", ")
                    ),
                    None => format!("known types: {}", catalog::names().join(", ")),
                };
                c.err(
                    &at("instance"),
                    format!("unknown instance type \"{name}\""),
                    Some(help),
                );
                return None;
            }
        },
        None => None,
    };
    let vcpus = match (s.vcpus, inst) {
        (Some(v), _) => v,
        (None, Some(t)) => t.vcpus,
        (None, None) => {
            c.err(
                base,
                "a server needs an `instance` type (or `vcpus` and `memory`)",
                Some("e.g. instance = \"c5.large\"".into()),
            );
            return None;
        }
    };
    if vcpus == 0 || vcpus > 1024 {
        c.err(
            &at("vcpus"),
            format!("vcpus must be between 1 and 1024, found {vcpus}"),
            None,
        );
    }
    let memory = s
        .memory
        .map(|b| b.0)
        .or(inst.map(|t| u64::from(t.memory_gib) << 30))
        .unwrap_or(1 << 30);
    if memory == 0 {
        c.err(&at("memory"), "memory must be more than zero", None);
    }
    let price = s
        .price
        .map(|p| p.0)
        .or(inst.map(|t| t.price_per_hour))
        .unwrap_or(0.0);
    let workers = s.workers.unwrap_or(64);
    if workers == 0 || workers > 1_000_000 {
        c.err(
            &at("workers"),
            format!("workers must be between 1 and 1,000,000, found {workers}"),
            None,
        );
    }
    let backlog = s.backlog.unwrap_or(511);
    if backlog > 100_000_000 {
        c.err(
            &at("backlog"),
            "the backlog can be at most 100,000,000",
            None,
        );
    }
    c.dist(&at("service"), &s.service, false);
    let memory_base = s.memory_base.map_or(256 << 20, |b| b.0);
    if memory_base >= memory {
        c.err(
            &at("memory_base"),
            format!(
                "the base memory ({}) must be less than the instance's memory ({})",
                crate::scenario::units::format_bytes(memory_base),
                crate::scenario::units::format_bytes(memory)
            ),
            None,
        );
    }
    let restart = s.restart.map_or(DEFAULT_RESTART, |d| d.0);
    let mut resizes = Vec::new();
    for (i, r) in s.resize.iter().enumerate() {
        let mut p = at("resize");
        p.push(Seg::Index(i));
        let pk = |key: &str| {
            let mut v = p.clone();
            v.push(k(key));
            v
        };
        match catalog::lookup(&r.to) {
            Some(t) => {
                if u64::from(t.memory_gib) << 30 <= memory_base {
                    c.err(
                        &pk("to"),
                        format!("{} has less memory than the server's base memory", t.name),
                        None,
                    );
                }
                resizes.push((
                    r.at.0,
                    *t,
                    r.downtime.map_or(DEFAULT_RESIZE_DOWNTIME, |d| d.0),
                ));
            }
            None => {
                let help = match super::error::nearest(&r.to, catalog::names()) {
                    Some(n) => format!("did you mean \"{n}\"?"),
                    None => format!("known types: {}", catalog::names().join(", ")),
                };
                c.err(
                    &pk("to"),
                    format!("unknown instance type \"{}\"", r.to),
                    Some(help),
                );
            }
        }
        if duration > 0 && r.at.0 >= duration {
            c.err(
                &pk("at"),
                "the resize is scheduled after the run ends",
                None,
            );
        }
    }
    resizes.sort_by_key(|r| r.0);
    Some(ServerSpec {
        instance: inst.map_or_else(|| "custom".to_string(), |t| t.name.to_string()),
        vcpus: vcpus.max(1),
        memory,
        price_per_hour: price,
        workers: workers.max(1),
        backlog,
        service: s.service.clone(),
        memory_base,
        memory_per_request: s.memory_per_request.map_or(0, |b| b.0),
        restart,
        resizes,
    })
}
