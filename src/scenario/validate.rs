//! Semantic checks: ranges, references between components, defaults resolved. Raw file → [`Scenario`].

use super::error::{Diagnostic, LoadError, Seg};
use super::DnsSpec;
use super::{ComponentConfig, ComponentSpec, ErrCtx, Scenario, ScenarioFile, FIRST_COMPONENT};
use crate::engine::time::{HOUR, MS, SEC};
use crate::model::catalog;
use crate::model::client::{ClassSpec, ClientSpec, LoadCurve, StreamSpec};
use crate::model::dist::DistConfig;
use crate::model::dns;
use crate::model::faults::{Action, FaultKind, FaultSpec, Hit};
use crate::model::fleet::{FleetConfig, FleetSpec, Metric, Policy, ScalingConfig};
use crate::model::load_balancer::{self as lb, LoadBalancerSpec};
use crate::model::server::{ServerConfig, ServerSpec, DEFAULT_RESIZE_DOWNTIME, DEFAULT_RESTART};
use crate::model::Control;
use crate::scenario::units::Duration;

fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

fn at_key(p: &[Seg], key: &str) -> Vec<Seg> {
    let mut v = p.to_vec();
    v.push(k(key));
    v
}

/// What to do about something scheduled after a run of length `duration` ends.
fn after_the_end_help(duration: u64) -> String {
    format!(
        "schedule it before {}, or make the run longer (`scenario.duration`, or \
         `--set scenario.duration=...`)",
        Duration(duration)
    )
}

/// Most instance slots a fleet may have.
pub const MAX_FLEET: u32 = 2_000;

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

    /// A probe schedule (balancer health checks, DNS failover checks): the interval at least
    /// 1 ms, the timeout more than zero and at most the interval.
    fn probe_timing(&mut self, p: &[Seg], interval: u64, timeout: u64) {
        if interval < MS {
            self.err(
                &at_key(p, "interval"),
                "the interval must be at least 1ms",
                None,
            );
        }
        if timeout == 0 || timeout > interval {
            self.err(
                &at_key(p, "timeout"),
                "the timeout must be more than zero and at most the interval",
                None,
            );
        }
    }

    /// A count of consecutive probe results that flips a target's state: 1–10.
    fn probe_count(&mut self, p: &[Seg], key: &str, n: u32, what: &str) {
        if !(1..=10).contains(&n) {
            self.err(
                &at_key(p, key),
                format!("the {what} must be 1–10, found {n}"),
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

    // Components: named ones in name order, then every fleet's instance slots.
    let names: Vec<String> = file.components.keys().cloned().collect();
    if names.is_empty() {
        c.err(
            &[k("components")],
            "there are no components",
            Some("add one, e.g. [components.web] with kind = \"server\"".into()),
        );
    }
    let mut next_id = FIRST_COMPONENT + names.len() as u32;
    let mut slot_base: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for (name, cfg) in &file.components {
        if let ComponentConfig::Fleet { fleet, .. } = cfg {
            let n = fleet.max.min(MAX_FLEET);
            slot_base.insert(name.clone(), (next_id, n));
            next_id += n;
        }
    }
    let index_of = |name: &str| {
        names
            .iter()
            .position(|n| n == name)
            .map(|i| i as u32 + FIRST_COMPONENT)
    };
    let suggest = |t: &str| match super::error::nearest(t, names.iter().map(String::as_str)) {
        Some(n) => format!("did you mean \"{n}\"? components: {}", names.join(", ")),
        None => format!("components: {}", names.join(", ")),
    };
    let azs = file
        .components
        .values()
        .filter_map(|cfg| match cfg {
            ComponentConfig::Fleet { fleet, .. } => fleet.azs,
            _ => None,
        })
        .max()
        .unwrap_or(3)
        .clamp(1, 26);
    let mut components = Vec::new();
    let mut slots = Vec::new();
    // Target groups: every fleet's slots first (balancers and faults refer to them by index
    // whatever their names' order), then each balancer's list of standalone servers.
    let mut groups: Vec<(String, Vec<u32>)> = Vec::new();
    let mut group_of: std::collections::BTreeMap<String, usize> = Default::default();
    for (name, &(first, n)) in &slot_base {
        group_of.insert(name.clone(), groups.len());
        groups.push((name.clone(), (first..first + n).collect()));
    }
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
        let spec = match cfg {
            ComponentConfig::Server(s) => {
                server_spec(&mut c, &base, s, duration).map(ComponentSpec::Server)
            }
            ComponentConfig::Fleet { fleet, server } => {
                let (first, n) = slot_base[name];
                fleet_spec(&mut c, &base, fleet, server, duration, first, n).map(|(f, s)| {
                    for i in 0..n {
                        let mut sv = s.clone();
                        sv.az = (i % azs) as u8;
                        slots.push((format!("{name}[{i}]"), ComponentSpec::Server(sv)));
                    }
                    ComponentSpec::Fleet(f)
                })
            }
            ComponentConfig::LoadBalancer(l) => {
                let mut members = Vec::new();
                let tnames = l.targets.names();
                if tnames.is_empty() {
                    c.err(
                        &at_key(&base, "targets"),
                        "a balancer needs at least one target",
                        None,
                    );
                }
                let mut gi = None;
                for t in &tnames {
                    match file.components.get(t) {
                        Some(ComponentConfig::Fleet { .. }) if tnames.len() == 1 => {
                            let (first, n) = slot_base[t];
                            members.extend(first..first + n);
                            gi = Some(t.clone());
                        }
                        Some(ComponentConfig::Server(_)) => {
                            members.push(index_of(t).expect("named"))
                        }
                        Some(ComponentConfig::Fleet { .. }) => c.err(
                            &at_key(&base, "targets"),
                            "a fleet must be a balancer's only target",
                            None,
                        ),
                        Some(_) => c.err(
                            &at_key(&base, "targets"),
                            format!("\"{t}\" is not a server or a fleet"),
                            Some("a balancer sends to servers or to a fleet".into()),
                        ),
                        None => c.err(
                            &at_key(&base, "targets"),
                            format!("there is no component called \"{t}\""),
                            Some(suggest(t)),
                        ),
                    }
                }
                let hc = l.health_check.as_ref().map(|h| {
                    let interval = h.interval.map_or(lb::DEFAULT_INTERVAL, |d| d.0);
                    let timeout = h.timeout.map_or(lb::DEFAULT_TIMEOUT.min(interval), |d| d.0);
                    let hp = at_key(&base, "health_check");
                    c.probe_timing(&hp, interval, timeout);
                    let (u, hth) = (
                        h.unhealthy.unwrap_or(lb::DEFAULT_UNHEALTHY),
                        h.healthy.unwrap_or(lb::DEFAULT_HEALTHY),
                    );
                    c.probe_count(&hp, "unhealthy", u, "unhealthy threshold");
                    c.probe_count(&hp, "healthy", hth, "healthy threshold");
                    (interval, timeout, u, hth)
                });
                if l.max_outstanding == Some(0) {
                    c.err(
                        &at_key(&base, "max_outstanding"),
                        "max_outstanding must be at least 1",
                        None,
                    );
                }
                let group = match gi {
                    Some(fleet) => group_of[&fleet],
                    None => {
                        groups.push((name.clone(), members.clone()));
                        groups.len() - 1
                    }
                };
                Some(ComponentSpec::LoadBalancer(LoadBalancerSpec {
                    members,
                    group,
                    algorithm: l.algorithm,
                    health: hc,
                    tls: l.tls_termination.unwrap_or(true),
                    max_outstanding: l.max_outstanding.unwrap_or(u32::MAX),
                    fail_open: l.fail_open.unwrap_or(false),
                    price_per_hour: l.price.map_or(lb::DEFAULT_PRICE, |p| p.0),
                }))
            }
            ComponentConfig::Dns(d) => {
                let endpoint = |c: &mut Checker, key: &[Seg], t: &str| match file.components.get(t)
                {
                    Some(ComponentConfig::Server(_) | ComponentConfig::LoadBalancer(_)) => {
                        index_of(t)
                    }
                    Some(_) => {
                        c.err(
                            key,
                            format!("\"{t}\" can't be a DNS answer"),
                            Some("point the record at a server or a load balancer".into()),
                        );
                        None
                    }
                    None => {
                        c.err(
                            key,
                            format!("there is no component called \"{t}\""),
                            Some(suggest(t)),
                        );
                        None
                    }
                };
                let primary = endpoint(&mut c, &at_key(&base, "record"), &d.record);
                let fo = d.failover.as_ref().and_then(|f| {
                    let fp = at_key(&base, "failover");
                    let sec = endpoint(&mut c, &at_key(&fp, "secondary"), &f.secondary)?;
                    let interval = f.interval.map_or(dns::DEFAULT_CHECK_INTERVAL, |x| x.0);
                    let timeout = f
                        .timeout
                        .map_or(dns::DEFAULT_CHECK_TIMEOUT.min(interval), |x| x.0);
                    let th = f.threshold.unwrap_or(dns::DEFAULT_CHECK_THRESHOLD);
                    c.probe_timing(&fp, interval, timeout);
                    c.probe_count(&fp, "threshold", th, "threshold");
                    Some((sec, interval, th, timeout))
                });
                let ttl = d.ttl.map_or(
                    if fo.is_some() {
                        dns::DEFAULT_FAILOVER_TTL
                    } else {
                        dns::DEFAULT_TTL
                    },
                    |x| x.0,
                );
                let resolvers = d.resolvers.unwrap_or(20);
                if resolvers == 0 || resolvers > 1_000_000 {
                    c.err(
                        &at_key(&base, "resolvers"),
                        format!("resolvers must be 1–1,000,000, found {resolvers}"),
                        None,
                    );
                }
                let lookup = d.lookup_time.clone().unwrap_or_else(dns::default_lookup);
                c.dist(&at_key(&base, "lookup_time"), &lookup, true);
                primary.map(|p| {
                    ComponentSpec::Dns(DnsSpec {
                        primary: p,
                        ttl,
                        resolvers: resolvers.max(1),
                        lookup,
                        failure_time: d.failure_time.map_or(dns::DEFAULT_FAILURE_TIME, |x| x.0),
                        failover: fo,
                    })
                })
            }
        };
        if let Some(spec) = spec {
            components.push((name.clone(), spec));
        }
    }
    components.extend(slots);

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
    let peak_mult = {
        let daily = w
            .daily_curve
            .as_ref()
            .map_or(1.0, |d| d.iter().copied().fold(0.0, f64::max));
        let spike = w.spikes.iter().map(|s| s.multiplier).fold(1.0, f64::max);
        daily * spike
    };
    if f64::from(users) * peak_mult > 10_000_000.0 {
        c.err(
            &at(&wp, "users"),
            format!("users × the largest load multiplier is {:.0}; at most 10,000,000 users can be active at once", f64::from(users) * peak_mult),
            None,
        );
    }
    if w.users.is_some() {
        if let Some(t) = &w.think_time {
            if t.mean() < 1e6 {
                c.err(
                    &at(&wp, "think_time"),
                    "users need a mean think time of at least 1ms (people can't click again in no time, and a zero think time can loop forever on instant failures)",
                    None,
                );
            }
        }
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
        } else if d.iter().any(|v| !(*v >= 0.0 && *v <= 10_000.0)) {
            c.err(
                &at(&wp, "daily_curve"),
                "daily curve values must be numbers between 0 and 10000",
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
            // The front door: a DNS name if there is one, else a balancer, else ask.
            let front = |kind: fn(&ComponentConfig) -> bool| {
                let v: Vec<u32> = file
                    .components
                    .iter()
                    .filter(|(_, c)| kind(c))
                    .filter_map(|(n, _)| index_of(n))
                    .collect();
                (v.len() == 1).then(|| v[0])
            };
            let door = front(|c| matches!(c, ComponentConfig::Dns(_)))
                .or_else(|| front(|c| matches!(c, ComponentConfig::LoadBalancer(_))));
            match door {
                Some(i) => i,
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
            }
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
    let mut faults: Vec<FaultSpec> = Vec::new();
    for (i, f) in file.faults.iter().enumerate() {
        let p = vec![k("faults"), Seg::Index(i)];
        let dur = f.duration.map(|d| d.0);
        if dur == Some(0) {
            c.err(
                &at(&p, "duration"),
                "the duration must be more than zero",
                None,
            );
        }
        if duration > 0 && f.at.0 > duration {
            c.err(
                &at(&p, "at"),
                format!(
                    "the fault is scheduled at {} but the run ends at {}",
                    f.at,
                    Duration(duration)
                ),
                Some(after_the_end_help(duration)),
            );
        }
        let check_only = |c: &mut Checker, key: &str, present: bool, kinds: &str| {
            if present {
                c.err(
                    &at(&p, key),
                    format!("`{key}` applies only to {kinds} faults"),
                    None,
                );
            }
        };
        check_only(
            &mut c,
            "factor",
            f.factor.is_some() && f.kind != FaultKind::Slow,
            "\"slow\"",
        );
        check_only(
            &mut c,
            "az",
            f.az.is_some() && f.kind != FaultKind::AzOutage,
            "\"az_outage\"",
        );
        check_only(
            &mut c,
            "added",
            f.added.is_some() && f.kind != FaultKind::Latency,
            "\"latency\"",
        );
        check_only(
            &mut c,
            "mtbf",
            f.mtbf.is_some() && f.kind != FaultKind::RandomCrash,
            "\"random_crash\"",
        );
        if dur.is_some() && matches!(f.kind, FaultKind::Crash | FaultKind::Recover) {
            let why = if f.kind == FaultKind::Crash {
                "a crashed server comes back after its own `restart` delay"
            } else {
                "a recover is instantaneous"
            };
            c.err(
                &at(&p, "duration"),
                format!(
                    "`duration` does not apply to \"{}\" faults: {why}",
                    f.kind.name()
                ),
                Some("for an outage that lasts, use kind = \"stop\" with a duration".into()),
            );
        }
        if f.kind == FaultKind::AzOutage {
            let Some(az) = &f.az else {
                c.err(&p, "an \"az_outage\" needs `az` (\"a\", \"b\", ...)", None);
                continue;
            };
            let idx = az
                .bytes()
                .next()
                .filter(|_| az.len() == 1)
                .map(|b| b.wrapping_sub(b'a'));
            let Some(z) = idx.filter(|&z| u32::from(z) < azs) else {
                c.err(
                    &at(&p, "az"),
                    format!("there is no zone \"{az}\""),
                    Some(format!(
                        "zones: {}",
                        (0..azs)
                            .map(|z| ((b'a' + z as u8) as char).to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
                continue;
            };
            faults.push(FaultSpec {
                at: f.at.0,
                action: Action::Zone(z, true),
                label: format!("zone {az} out"),
            });
            if let Some(d) = dur {
                faults.push(FaultSpec {
                    at: f.at.0.saturating_add(d),
                    action: Action::Zone(z, false),
                    label: format!("zone {az} back"),
                });
            }
            continue;
        }
        let Some(target) = &f.target else {
            c.err(&p, "this fault needs a `target` component", None);
            continue;
        };
        // `name` or `name[i]`.
        let (tname, slot) = match target.split_once('[') {
            Some((n, rest)) => (
                n.to_string(),
                rest.strip_suffix(']')
                    .and_then(|x| x.trim().parse::<u32>().ok())
                    .map(Some)
                    .unwrap_or(Some(u32::MAX)),
            ),
            None => (target.clone(), None),
        };
        let Some(tid) = index_of(&tname) else {
            c.err(
                &at(&p, "target"),
                format!("there is no component called \"{tname}\""),
                Some(suggest(&tname)),
            );
            continue;
        };
        let is_fleet = slot_base.contains_key(&tname);
        let hit = match (slot, is_fleet) {
            (Some(u32::MAX), _) => {
                c.err(
                    &at(&p, "target"),
                    format!("\"{target}\" is not `name` or `name[index]`"),
                    None,
                );
                continue;
            }
            (Some(ix), true) => {
                let (first, n) = slot_base[&tname];
                if ix >= n {
                    c.err(
                        &at(&p, "target"),
                        format!(
                            "{tname} has {n} instance slots (its max); index {ix} is out of range"
                        ),
                        None,
                    );
                    continue;
                }
                if f.fraction.is_some() {
                    c.err(
                        &at(&p, "fraction"),
                        "give either an instance index or a fraction, not both",
                        None,
                    );
                }
                Hit::One(first + ix)
            }
            (Some(_), false) => {
                c.err(
                    &at(&p, "target"),
                    format!("\"{tname}\" is not a fleet, so it has no instances to index"),
                    None,
                );
                continue;
            }
            (None, true) => {
                let fr = f.fraction.unwrap_or(0.0);
                if f.fraction.is_some() && !(fr > 0.0 && fr <= 1.0) {
                    c.err(
                        &at(&p, "fraction"),
                        format!("the fraction must be in (0, 1], found {fr}"),
                        None,
                    );
                }
                match f.fraction {
                    Some(fraction) => Hit::Fraction {
                        group: group_of[&tname],
                        fraction,
                    },
                    None if f.kind == FaultKind::RandomCrash => Hit::Fraction {
                        group: group_of[&tname],
                        fraction: 1.0,
                    },
                    None => Hit::One(slot_base[&tname].0),
                }
            }
            (None, false) => {
                if f.fraction.is_some() {
                    c.err(
                        &at(&p, "fraction"),
                        "`fraction` applies only to fleet targets",
                        None,
                    );
                }
                Hit::One(tid)
            }
        };
        let label_target = target.clone();
        let control = match f.kind {
            FaultKind::Crash => Some(Control::Crash),
            FaultKind::Stop => Some(Control::Stop),
            FaultKind::Hang => Some(Control::Hang),
            FaultKind::Recover => Some(Control::Recover),
            FaultKind::DnsOutage => {
                if !matches!(file.components.get(&tname), Some(ComponentConfig::Dns(_))) {
                    c.err(
                        &at(&p, "target"),
                        format!("\"{tname}\" is not a DNS component"),
                        None,
                    );
                }
                Some(Control::DnsOutage)
            }
            FaultKind::Slow => match f.factor {
                Some(x) if x > 1.0 && x <= 1000.0 => {
                    Some(Control::Slow((x * 1000.0).round() as u32))
                }
                Some(x) => {
                    c.err(
                        &at(&p, "factor"),
                        format!("a slow-down factor must be in (1, 1000], found {x}"),
                        None,
                    );
                    None
                }
                None => {
                    c.err(
                        &p,
                        "a \"slow\" fault needs `factor` (how many times slower)",
                        Some("e.g. factor = 3".into()),
                    );
                    None
                }
            },
            FaultKind::Latency | FaultKind::RandomCrash | FaultKind::AzOutage => None,
        };
        let index = faults.len();
        match f.kind {
            FaultKind::Latency => {
                let Some(add) = f.added.filter(|a| a.0 > 0) else {
                    c.err(
                        &at(&p, "added"),
                        "a \"latency\" fault needs `added` > 0 (e.g. added = \"200ms\")",
                        None,
                    );
                    continue;
                };
                // A whole fleet: every instance slot gets the delay (messages go to instances).
                let comps: Vec<u32> = match (&hit, is_fleet && slot.is_none()) {
                    (_, true) => {
                        if f.fraction.is_some() {
                            c.err(&at(&p, "fraction"), "a \"latency\" fault applies to a whole fleet or one instance, not a fraction", None);
                            continue;
                        }
                        let (first, n) = slot_base[&tname];
                        (first..first + n).collect()
                    }
                    (Hit::One(comp), false) => vec![*comp],
                    (Hit::Fraction { .. }, false) => {
                        c.err(
                            &at(&p, "fraction"),
                            "`fraction` applies only to fleet targets",
                            None,
                        );
                        continue;
                    }
                };
                for comp in comps {
                    faults.push(FaultSpec {
                        at: f.at.0,
                        action: Action::Delay(comp, add.0 as i64),
                        label: format!("+{} to {label_target}", Duration(add.0)),
                    });
                    if let Some(d) = dur {
                        faults.push(FaultSpec {
                            at: f.at.0.saturating_add(d),
                            action: Action::Delay(comp, -(add.0 as i64)),
                            label: format!("latency to {label_target} back to normal"),
                        });
                    }
                }
            }
            FaultKind::RandomCrash => {
                let Some(m) = f.mtbf.filter(|m| m.0 >= SEC) else {
                    c.err(
                        &at(&p, "mtbf"),
                        "a \"random_crash\" fault needs `mtbf` of at least 1s",
                        None,
                    );
                    continue;
                };
                let until = dur.map_or(u64::MAX, |d| f.at.0.saturating_add(d));
                let which = match f.fraction {
                    Some(fr) => format!("{:.0} % of ", fr * 100.0),
                    None => String::new(),
                };
                let ends = match dur {
                    Some(d) => format!(", for {}", Duration(d)),
                    None => String::new(),
                };
                faults.push(FaultSpec {
                    at: f.at.0,
                    action: Action::RandomCrash(hit, m.0, until),
                    label: format!(
                        "random crashes of {which}{label_target} (MTBF {}{ends})",
                        Duration(m.0)
                    ),
                });
            }
            _ => {
                let Some(control) = control else { continue };
                let verb = f.kind.name();
                faults.push(FaultSpec {
                    at: f.at.0,
                    action: Action::Send(hit, control),
                    label: format!("{verb} {label_target}"),
                });
                if let (
                    Some(d),
                    FaultKind::Stop | FaultKind::Hang | FaultKind::Slow | FaultKind::DnsOutage,
                ) = (dur, f.kind)
                {
                    faults.push(FaultSpec {
                        at: f.at.0.saturating_add(d),
                        action: Action::Undo(index),
                        label: format!("recover {label_target}"),
                    });
                }
            }
        }
    }
    // Stable sort: simultaneous entries keep file order; undo entries keep pointing at their fault.
    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| faults[i].at);
    let mut new_index = vec![0; faults.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut sorted: Vec<FaultSpec> = order.iter().map(|&i| faults[i].clone()).collect();
    for fs in &mut sorted {
        if let Action::Undo(j) = &mut fs.action {
            *j = new_index[*j];
        }
    }
    let faults = sorted;
    let slos = slo_objectives(&mut c, &file, &classes_for_slo(&w.mix, &w.bots));

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
        groups,
        azs,
        faults,
        network: file.network.clone(),
        overrides: ctx.overrides.iter().map(|o| o.raw.clone()).collect(),
        slos,
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
                format!(
                    "the resize is scheduled at {} but the run ends at {}",
                    r.at,
                    Duration(duration)
                ),
                Some(after_the_end_help(duration)),
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
        tls_cpu: s.tls_cpu.map_or(0, |d| d.0),
        boot_time: 0,
        az: 0,
        starts_up: true,
        in_fleet: false,
    })
}

#[allow(clippy::too_many_arguments)]
fn fleet_spec(
    c: &mut Checker,
    base: &[Seg],
    f: &FleetConfig,
    s: &ServerConfig,
    duration: u64,
    first: u32,
    n: u32,
) -> Option<(FleetSpec, ServerSpec)> {
    let mut server = server_spec(c, base, s, duration)?;
    if !s.resize.is_empty() {
        c.err(
            &at_key(base, "resize"),
            "fleets scale out, not up: `resize` applies only to a single server",
            None,
        );
    }
    if f.max == 0 || f.max > MAX_FLEET {
        c.err(
            &at_key(base, "max"),
            format!("max must be 1–{MAX_FLEET}, found {}", f.max),
            None,
        );
    }
    if f.min > f.max {
        c.err(
            &at_key(base, "min"),
            format!("min ({}) must not exceed max ({})", f.min, f.max),
            None,
        );
    }
    let desired = f.desired.unwrap_or(f.min);
    if desired < f.min || desired > f.max {
        c.err(
            &at_key(base, "desired"),
            format!(
                "desired ({desired}) must be between min ({}) and max ({})",
                f.min, f.max
            ),
            None,
        );
    }
    if f.azs.is_some_and(|a| a == 0 || a > 26) {
        c.err(&at_key(base, "azs"), "azs must be 1–26", None);
    }
    let boot = f
        .boot_time
        .map_or(crate::model::fleet::DEFAULT_BOOT, |d| d.0);
    server.boot_time = boot;
    server.starts_up = false;
    server.in_fleet = true;
    let sp = at_key(base, "scaling");
    let policy = match &f.scaling {
        None => Policy::None,
        Some(ScalingConfig::TargetTracking {
            metric,
            target,
            period,
            scale_out_periods,
            scale_in_periods,
            warmup,
            cooldown,
        }) => {
            let ok = match metric {
                Metric::Cpu => *target > 0.0 && *target <= 1.0,
                Metric::RequestsPerTarget => *target > 0.0 && target.is_finite(),
            };
            if !ok {
                c.err(&at_key(&sp, "target"), format!("target must be in (0, 1] for cpu, or positive for requests_per_target; found {target}"), None);
            }
            let period = period.map_or(60 * SEC, |d| d.0);
            if period < SEC {
                c.err(
                    &at_key(&sp, "period"),
                    "the period must be at least 1s",
                    None,
                );
            }
            let out = scale_out_periods.unwrap_or(3);
            let inn = scale_in_periods.unwrap_or(15);
            if out == 0 || inn == 0 {
                c.err(
                    &sp,
                    "scale_out_periods and scale_in_periods must be at least 1",
                    None,
                );
            }
            Policy::TargetTracking {
                metric: *metric,
                target: *target,
                period: period.max(SEC),
                out_periods: out.max(1),
                in_periods: inn.max(1),
                warmup: warmup.map_or(0, |d| d.0),
                cooldown: cooldown.map_or(300 * SEC, |d| d.0),
            }
        }
        Some(ScalingConfig::Step {
            metric,
            steps,
            period,
            cooldown,
        }) => {
            if steps.is_empty() {
                c.err(
                    &at_key(&sp, "steps"),
                    "step scaling needs at least one step",
                    None,
                );
            }
            for (i, st) in steps.iter().enumerate() {
                let mut p = at_key(&sp, "steps");
                p.push(Seg::Index(i));
                if st.above.is_some() == st.below.is_some() {
                    c.err(
                        &p,
                        "each step needs exactly one of `above` or `below`",
                        None,
                    );
                }
                if st.change == 0 {
                    c.err(&at_key(&p, "change"), "change must not be 0", None);
                }
                if st.above.is_some_and(|x| !x.is_finite())
                    || st.below.is_some_and(|x| !x.is_finite())
                {
                    c.err(&p, "thresholds must be finite numbers", None);
                }
            }
            let period = period.map_or(60 * SEC, |d| d.0);
            if period < SEC {
                c.err(
                    &at_key(&sp, "period"),
                    "the period must be at least 1s",
                    None,
                );
            }
            Policy::Step {
                metric: *metric,
                steps: steps.iter().map(|s| (s.above, s.below, s.change)).collect(),
                period: period.max(SEC),
                cooldown: cooldown.map_or(300 * SEC, |d| d.0),
            }
        }
    };
    let mut schedule = Vec::new();
    for (i, a) in f.schedule.iter().enumerate() {
        let mut p = at_key(base, "schedule");
        p.push(Seg::Index(i));
        if a.min.is_none() && a.max.is_none() && a.desired.is_none() {
            c.err(&p, "a scheduled action needs min, max or desired", None);
        }
        if a.max.is_some_and(|m| m > f.max) {
            c.err(
                &at_key(&p, "max"),
                format!("a scheduled max can't exceed the group's max ({})", f.max),
                None,
            );
        }
        schedule.push((a.at.0, a.min, a.max, a.desired));
    }
    schedule.sort_by_key(|s| s.0);
    Some((
        FleetSpec {
            slots: (first..first + n).collect(),
            min: f.min,
            max: f.max.min(n),
            desired: desired.clamp(f.min.min(f.max.min(n)), f.max.min(n)),
            azs: f.azs.unwrap_or(3).clamp(1, 26),
            policy,
            schedule,
            deregistration_delay: f.deregistration_delay.map_or(30 * SEC, |d| d.0),
            replace_after: f.replace_after.map_or(120 * SEC, |d| d.0),
            boot_time: boot,
        },
        server,
    ))
}

fn classes_for_slo(
    mix: &[crate::model::client::ClassConfig],
    bots: &[crate::model::client::BotConfig],
) -> Vec<String> {
    let mut v: Vec<String> = mix.iter().map(|m| m.name.clone()).collect();
    if v.is_empty() {
        v.push("request".into());
    }
    v.extend(bots.iter().map(|b| b.name.clone()));
    v
}

fn slo_objectives(
    c: &mut Checker,
    file: &ScenarioFile,
    classes: &[String],
) -> Vec<crate::slo::Objective> {
    use crate::slo::{parse_compact, Bound, Measure, Objective, ObjectiveConfig};
    let Some(cfg) = &file.slo else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let sp = [k("slo")];
    let below = Bound::Below { inclusive: false };
    let mut short = |key: &str, measure: Measure, bound: Bound, threshold: f64, text: String| {
        let _ = key;
        out.push(Objective {
            label: text,
            measure,
            bound,
            threshold,
            class: None,
            every: None,
        });
    };
    for (key, q, v) in [
        ("p50", 0.5, cfg.p50),
        ("p95", 0.95, cfg.p95),
        ("p99", 0.99, cfg.p99),
        ("p999", 0.999, cfg.p999),
    ] {
        if let Some(d) = v {
            short(
                key,
                Measure::Quantile(q),
                below,
                d.0 as f64 / 1e6,
                format!("{key} < {d}"),
            );
        }
    }
    if let Some(f) = cfg.error_rate {
        short(
            "error_rate",
            Measure::ErrorRate,
            below,
            f.0,
            format!("error_rate < {}%", f.0 * 100.0),
        );
    }
    if let Some(f) = cfg.availability {
        short(
            "availability",
            Measure::Availability,
            Bound::Above { inclusive: true },
            f.0,
            format!("availability ≥ {}%", f.0 * 100.0),
        );
    }
    let class_index = |c: &mut Checker, path: &[Seg], name: &str| -> Option<u16> {
        match classes.iter().position(|n| n == name) {
            Some(i) => Some(i as u16),
            None => {
                let help = match super::error::nearest(name, classes.iter().map(String::as_str)) {
                    Some(n) => format!("did you mean \"{n}\"? classes: {}", classes.join(", ")),
                    None => format!("classes: {}", classes.join(", ")),
                };
                c.err(
                    path,
                    format!("there is no request class \"{name}\""),
                    Some(help),
                );
                None
            }
        }
    };
    for (i, o) in cfg.objectives.iter().enumerate() {
        let p = vec![sp[0].clone(), k("objectives"), Seg::Index(i)];
        match o {
            ObjectiveConfig::Compact(text) => match parse_compact(text) {
                Ok((class, measure, bound, threshold, every)) => {
                    let class = match class {
                        Some(n) => match class_index(c, &p, &n) {
                            Some(x) => Some(x),
                            None => continue,
                        },
                        None => None,
                    };
                    if every.is_some_and(|w| w < crate::engine::time::SEC) {
                        c.err(&p, "an `every` window must be at least 1s", None);
                    }
                    out.push(Objective { label: text.trim().to_string(), measure, bound, threshold, class, every });
                }
                Err(e) => c.err(&p, e, Some("e.g. \"p(99) < 300ms\", \"error_rate < 0.1%\", \"buy: p(95) < 800ms every 5m\"".into())),
            },
            ObjectiveConfig::Table(t) => {
                let measure = match Measure::parse(&t.metric) {
                    Ok(m) => m,
                    Err(e) => {
                        c.err(&at_key(&p, "metric"), e, None);
                        continue;
                    }
                };
                let (bound, raw, key) = match (&t.below, &t.above) {
                    (Some(v), None) => (Bound::Below { inclusive: false }, v, "below"),
                    (None, Some(v)) => (Bound::Above { inclusive: false }, v, "above"),
                    _ => {
                        c.err(&p, "give exactly one of `below` or `above`", None);
                        continue;
                    }
                };
                let text = match raw {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    other => other.to_string(),
                };
                let threshold = match measure.threshold(&text) {
                    Ok(x) => x,
                    Err(e) => {
                        c.err(&at_key(&p, key), e, None);
                        continue;
                    }
                };
                let class = match &t.class {
                    Some(n) => match class_index(c, &at_key(&p, "class"), n) {
                        Some(x) => Some(x),
                        None => continue,
                    },
                    None => None,
                };
                let every = t.every.map(|d| d.0);
                if every.is_some_and(|w| w < crate::engine::time::SEC) {
                    c.err(&at_key(&p, "every"), "an `every` window must be at least 1s", None);
                }
                let label = t.name.clone().unwrap_or_else(|| {
                    let mut l = String::new();
                    if let Some(n) = &t.class {
                        l.push_str(&format!("{n}: "));
                    }
                    l.push_str(&format!("{} {} {}", t.metric, if key == "below" { "<" } else { ">" }, text));
                    if let Some(w) = t.every {
                        l.push_str(&format!(" every {w}"));
                    }
                    l
                });
                out.push(Objective { label, measure, bound, threshold, class, every });
            }
        }
    }
    out
}
