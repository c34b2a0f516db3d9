//! `[workload]`: the users, their mix and load curve, timeouts and retries, and where they
//! connect.

use super::context::{at_key, k, Checker, ClassPath};
use crate::engine::time::{MS, SEC};
use crate::model::client::{
    ClassSpec, ClientSpec, LoadCurve, RefreshSpec, StreamSpec, WorkloadConfig,
};
use crate::model::dist::DistConfig;
use crate::model::kinds::KindTag;
use crate::model::trace::{TraceConfig, TraceSpec};
use crate::scenario::error::{number, thousands, Seg};
use crate::scenario::trace::{self as csv, Limits, Names, TraceError};
use crate::scenario::units::Duration;
use crate::scenario::FIRST_COMPONENT;
use std::path::Path;
use std::sync::Arc;

/// Checks the workload; `None` if it had errors (already reported).
/// The request classes in class order (the same order [`check`] builds them in: the mix, or one
/// class `request` when there is none, then the bots), with their paths (`/NAME` by default).
pub(super) fn class_paths(w: &WorkloadConfig) -> Vec<ClassPath> {
    let path = |name: &str, p: &Option<String>| p.clone().unwrap_or_else(|| format!("/{name}"));
    let mut v = Vec::new();
    if w.mix.is_empty() {
        v.push(ClassPath {
            name: "request".into(),
            path: "/request".into(),
        });
    }
    for m in &w.mix {
        v.push(ClassPath {
            name: m.name.clone(),
            path: path(&m.name, &m.path),
        });
    }
    for b in &w.bots {
        v.push(ClassPath {
            name: b.name.clone(),
            path: path(&b.name, &b.path),
        });
    }
    v
}

/// Each request class's answer `size` as written, by class index (mix first, then bots, which
/// have none), with its key path.
pub(super) fn class_sizes(w: &WorkloadConfig) -> Vec<(Vec<Seg>, Option<u64>)> {
    let mut v = Vec::new();
    if w.mix.is_empty() {
        v.push((vec![k("workload")], None));
    }
    for (i, m) in w.mix.iter().enumerate() {
        let p = vec![k("workload"), k("mix"), Seg::Index(i), k("size")];
        v.push((p, m.size.map(|b| b.0)));
    }
    for _ in &w.bots {
        v.push((vec![k("workload"), k("bots")], None));
    }
    v
}

pub(super) fn check(c: &mut Checker, w: &WorkloadConfig) -> ClientSpec {
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
        (None, None) if w.bots.is_empty() && w.trace.is_none() => c.err(
            &wp,
            "no traffic: give `users` (closed loop), `arrival_rate` (open loop), `bots` or a `trace`",
            Some("e.g. users = 100".into()),
        ),
        _ => {}
    }
    // With a trace, `users = 0` says the trace is all the traffic there is.
    if w.users == Some(0) && w.trace.is_none() {
        c.err(
            &at(&wp, "users"),
            "users must be at least 1",
            Some("users = 0 is for a workload that replays a `trace`".into()),
        );
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
            format!(
                "users × the largest load multiplier is {}; at most 10,000,000 users can be active at once",
                crate::scenario::error::number((f64::from(users) * peak_mult).round())
            ),
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
    let retry_budget = w.retries.as_ref().and_then(|r| {
        let b = r.budget?.0;
        // In millionths of a token per first attempt (exact integer accounting).
        let per_million = (b * 1e6).round();
        if per_million < 1.0 {
            c.err(
                &[k("workload"), k("retries"), k("budget")],
                format!(
                    "the retry budget must be at least 0.0001% of first attempts, found {}",
                    crate::scenario::error::number(b)
                ),
                Some(
                    "leave `budget` out to retry without a budget, or set max = 0 to never retry"
                        .into(),
                ),
            );
            return None;
        }
        Some(per_million as u32)
    });
    let refresh = w.refresh.as_ref().and_then(|r| {
        let p = vec![k("workload"), k("refresh")];
        let share = r.share.0;
        let per_million = (share * 1e6).round();
        let mut ok = true;
        if !(share.is_finite() && (0.0..=1.0).contains(&share)) || (share > 0.0 && per_million < 1.0) {
            c.err(
                &at(&p, "share"),
                format!(
                    "the share of impatient users must be between 0.0001% and 100%, found {}",
                    crate::scenario::error::number(share)
                ),
                Some("e.g. share = \"30%\"".into()),
            );
            ok = false;
        }
        if r.patience.0 == 0 {
            c.err(
                &at(&p, "patience"),
                "the patience must be more than zero",
                Some("e.g. patience = \"3s\": how long a user waits before reloading".into()),
            );
            ok = false;
        }
        if let (Some(t), true) = (w.timeout, r.patience.0 > 0) {
            if r.patience.0 >= t.0 {
                c.err(
                    &at(&p, "patience"),
                    format!(
                        "the patience ({}) must be shorter than the workload's timeout ({}): a user who waits that long has already given up",
                        r.patience,
                        t
                    ),
                    None,
                );
                ok = false;
            }
        }
        let max = r.max.unwrap_or(3);
        if max == 0 || max > 20 {
            c.err(
                &at(&p, "max"),
                format!("between 1 and 20 refreshes of one click, found {max}"),
                Some("leave `refresh` out for users who never reload".into()),
            );
            ok = false;
        }
        if users == 0 && ok {
            c.err(
                &p,
                "only users refresh: this workload has no `users`",
                Some("set `workload.users`, or leave `refresh` out".into()),
            );
            ok = false;
        }
        ok.then_some(RefreshSpec {
            per_million: per_million as u32,
            patience: r.patience.0,
            max: max as u8,
        })
    });
    let mut spikes = Vec::new();
    for (i, s) in w.spikes.iter().enumerate() {
        let p = vec![k("workload"), k("spikes"), Seg::Index(i)];
        if !(s.multiplier >= 0.0 && s.multiplier.is_finite() && s.multiplier <= 10_000.0) {
            c.err(
                &at(&p, "multiplier"),
                format!(
                    "the multiplier must be between 0 and 10000, found {}",
                    crate::scenario::error::number(s.multiplier)
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
                format!(
                    "start_hour must be in 0..24, found {}",
                    crate::scenario::error::number(h)
                ),
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
                format!(
                    "the weight must be a positive number, found {}",
                    crate::scenario::error::number(m.weight)
                ),
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
            population: 0,
            keys: 0,
        });
    }
    for (i, b) in w.bots.iter().enumerate() {
        let p = vec![k("workload"), k("bots"), Seg::Index(i)];
        c.positive_f64(&at(&p, "rate"), b.rate.0, "the bot rate");
        if let Some(wk) = b.work {
            c.positive_f64(&at(&p, "work"), wk, "work");
        }
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
        let keys = b.keys.unwrap_or(1);
        if keys == 0 || keys > 1 << 24 {
            c.err(
                &at(&p, "keys"),
                format!("a bot sends from 1 to 16777216 client keys, found {keys}"),
                Some("keys = 1 is one IP address; keys = 10000 a botnet".into()),
            );
        }
        if i >= 254 {
            c.err(&p, "at most 254 bots", None);
        }
        streams.push(StreamSpec {
            rate: b.rate.0,
            follows_curve: false,
            class: Some(classes.len() as u16),
            from,
            until,
            population: (i + 1).min(255) as u8,
            keys,
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
    let entry = entry(c, w.target.as_deref(), &wp);
    let user_slots = (f64::from(users) * peak_mult).ceil() as u64;
    let trace = trace(c, w, user_slots);

    ClientSpec {
        users,
        think,
        streams,
        timeout: w.timeout.map(|t| t.0),
        retry,
        retry_budget,
        entry,
        classes,
        mix_cdf,
        regions: None,
        curve: LoadCurve {
            spikes,
            daily: w.daily_curve.clone(),
            start_hour: w.start_hour.unwrap_or(0.0),
        },
        trace,
        refresh,
    }
}

/// `workload.trace`: the file (relative to the scenario file's folder) read and checked, and its
/// rows placed in the run — trace time t at `start + t / speed`; rows at or after the end are
/// left out, with a note (so is a trace that had to be sorted). `None` if it had errors.
/// `user_slots`: the closed-loop users' client numbers (0 up), below the trace's.
fn trace(c: &mut Checker, w: &WorkloadConfig, user_slots: u64) -> Option<TraceSpec> {
    let t = w.trace.as_ref()?;
    let tp = [k("workload"), k("trace")];
    let fp = match t {
        TraceConfig::File(_) => tp.to_vec(),
        TraceConfig::Table(_) => at_key(&tp, "file"),
    };
    let speed = t.speed();
    let speed_ok = speed > 0.0 && speed.is_finite();
    if !speed_ok {
        c.err(
            &at_key(&tp, "speed"),
            format!(
                "the speed must be a positive number (1 replays the trace as recorded, 2 twice as \
                 fast), found {}",
                number(speed)
            ),
            None,
        );
    }
    let source = c.source().to_string();
    if source.starts_with("chapter:") {
        c.err(
            &fp,
            format!(
                "a trace file is found beside the scenario file, and an embedded chapter \
                 ({source}) has no folder"
            ),
            Some(
                "write the chapter to a file (`scalesim new --chapter N > my.toml`), put the \
                 trace beside it, and run that file"
                    .into(),
            ),
        );
        return None;
    }
    let file = t.file();
    if file.trim().is_empty() {
        c.err(
            &fp,
            "the trace file's name is empty",
            Some("e.g. trace = \"traces/login-burst.csv\" (relative to this file's folder)".into()),
        );
        return None;
    }
    let path = Path::new(&source)
        .parent()
        .unwrap_or(Path::new(""))
        .join(file);
    let shown = path.display().to_string();
    let names = Names {
        classes: &c.classes,
        bots: &c.bots,
    };
    let parsed = match csv::read(&path, &shown, names, Limits::DEFAULT) {
        Ok(p) => p,
        Err(TraceError::File { message, help }) => {
            c.err(&fp, message, help);
            return None;
        }
        Err(TraceError::Rows(d)) => {
            c.diags.extend(d);
            return None;
        }
    };
    if !speed_ok {
        return None;
    }
    // The trace's clients count down from the top of each population's key space, the synthetic
    // ones up from 0: they must not meet.
    for (pop, &n) in parsed.clients_by_population.iter().enumerate() {
        let (below, whose, of) = match pop {
            0 => (user_slots, "users".to_string(), "users".to_string()),
            _ => {
                let b = &w.bots[pop - 1];
                let keys = u64::from(b.keys.unwrap_or(1));
                (keys, format!("keys of bot \"{}\"", b.name), b.name.clone())
            }
        };
        if n > 0 && below.saturating_add(n) > csv::MAX_KEYS as u64 {
            c.err(
                &fp,
                format!(
                    "{shown} has {} clients of the population \"{of}\" and the workload has {} \
                     {whose}: together more than the {} clients a population can have",
                    thousands(n),
                    thousands(below),
                    thousands(csv::MAX_KEYS as u64)
                ),
                None,
            );
            return None;
        }
    }
    let start = t.start();
    let total = parsed.rows.len() as u64;
    let mut rows = parsed.rows;
    for r in &mut rows {
        r.at = if speed == 1.0 {
            start.saturating_add(r.at)
        } else {
            // Monotone, so the rows stay sorted; `as` saturates past u64::MAX.
            (start as f64 + r.at as f64 / speed).round() as u64
        };
    }
    let kept = rows.partition_point(|r| r.at < c.duration);
    rows.truncate(kept);
    let ignored = total - kept as u64;
    if parsed.out_of_order > 0 {
        c.notes.push(format!(
            "{shown}: {} of its {} rows came earlier than a row above them; they are replayed in \
             time order (sorted stably: rows at the same time keep their file order)",
            thousands(parsed.out_of_order),
            thousands(total)
        ));
    }
    if ignored > 0 {
        c.notes.push(format!(
            "{shown}: {} of its {} rows fall at or after the end of the run ({}) and are not \
             replayed",
            thousands(ignored),
            thousands(total),
            Duration(c.duration)
        ));
    }
    Some(TraceSpec {
        file: file.to_string(),
        rows: Arc::from(rows),
        total,
        ignored,
        clients: parsed.clients,
    })
}

/// The component users connect to: the workload's `target`, the only component, or the front
/// door (the one component of the kind with the lowest [`front_door`] rank: a DNS name before a
/// balancer).
///
/// [`front_door`]: crate::model::kit::Wiring::front_door
fn entry(c: &mut Checker, target: Option<&str>, wp: &[Seg]) -> u32 {
    if let Some(t) = target {
        let mut p = wp.to_vec();
        p.push(k("target"));
        return c.resolve(&p, t).map_or(FIRST_COMPONENT, |r| r.id);
    }
    let n = c.names().len();
    if n <= 1 {
        return FIRST_COMPONENT;
    }
    let mut ranked: Vec<(u8, KindTag)> = KindTag::ALL
        .iter()
        .filter_map(|&kind| kind.wiring().front_door.map(|r| (r, kind)))
        .collect();
    ranked.sort();
    for (_, kind) in ranked {
        if let [only] = c.of_kind(kind)[..] {
            return only;
        }
    }
    let names = c.names().join(", ");
    c.err(
        wp,
        "which component do users connect to? set `target`",
        Some(format!("one of: {names}")),
    );
    FIRST_COMPONENT
}

#[cfg(test)]
mod tests {
    use super::super::tests::{balancer, dns, file, fleet, invalid, server, the_error, valid};

    /// Where users connect, by name, for components `parts` and `workload` keys.
    fn entry(workload: &str, parts: &[String]) -> String {
        let s = valid(&file(workload, &parts.join("\n")));
        s.name_of(s.client.entry)
    }

    #[test]
    fn users_connect_to_the_single_dns_else_the_single_balancer_else_the_only_component() {
        let (db, web) = (server("db"), fleet("web", 2));
        let lb = balancer("lb", "\"web\"");
        assert_eq!(
            entry("", &[db.clone(), web.clone(), lb.clone(), dns("dns", "lb")]),
            "dns"
        );
        assert_eq!(entry("", &[db.clone(), web.clone(), lb.clone()]), "lb");
        assert_eq!(entry("", std::slice::from_ref(&db)), "db");
        // Ranks are tried among kinds with exactly one component: two DNS names, one balancer.
        assert_eq!(
            entry(
                "",
                &[
                    web.clone(),
                    lb.clone(),
                    dns("dns1", "lb"),
                    dns("dns2", "lb")
                ]
            ),
            "lb"
        );
        // A named target wins over every default.
        assert_eq!(
            entry("target = \"db\"", &[db, web, lb, dns("dns", "lb")]),
            "db"
        );
    }

    #[test]
    fn without_a_single_front_door_the_workload_must_name_its_target() {
        let d = the_error(&file("", &[server("a"), server("b")].join("\n")));
        assert_eq!(d.key_path.as_deref(), Some("workload"));
        assert_eq!(
            d.message,
            "which component do users connect to? set `target`"
        );
        assert_eq!(d.help.as_deref(), Some("one of: a, b"));
        let two_balancers = [
            fleet("web", 2),
            balancer("lb1", "\"web\""),
            balancer("lb2", "\"web\""),
        ];
        let d = the_error(&file("", &two_balancers.join("\n")));
        assert_eq!(d.help.as_deref(), Some("one of: lb1, lb2, web"));
        // An unknown target is located at `workload.target`, with the nearest name.
        let d = the_error(&file("target = \"lb3\"", &two_balancers.join("\n")));
        assert_eq!(d.key_path.as_deref(), Some("workload.target"));
        assert_eq!(d.message, "there is no component called \"lb3\"");
        assert!(
            d.help
                .as_deref()
                .unwrap_or("")
                .starts_with("did you mean \"lb"),
            "{d:?}"
        );
    }

    #[test]
    fn traffic_is_either_users_or_an_arrival_rate() {
        let text = |workload: &str| {
            format!(
                "[scenario]\nname = \"t\"\nduration = \"1h\"\n[workload]\n{workload}\n{}",
                server("db")
            )
        };
        let d = the_error(&text("users = 5\narrival_rate = \"10/s\""));
        assert_eq!(d.key_path.as_deref(), Some("workload.arrival_rate"));
        assert_eq!(
            d.message,
            "give either `users` (closed loop) or `arrival_rate` (open loop), not both"
        );
        let d = the_error(&text("timeout = \"1s\""));
        assert_eq!(
            d.message,
            "no traffic: give `users` (closed loop), `arrival_rate` (open loop), `bots` or a \
             `trace`"
        );
        let d = the_error(&text("users = 0"));
        assert_eq!(d.message, "users must be at least 1");
        let s = valid(&text("arrival_rate = \"10/s\""));
        assert_eq!(s.client.users, 0);
        assert_eq!(s.client.streams.len(), 1);
        assert_eq!(s.client.streams[0].rate, 10.0);
        // Bots alone are traffic enough.
        let s = valid(&text(
            "bots = [{ name = \"crawler\", rate = \"2/s\", from = \"1m\", until = \"2m\" }]",
        ));
        assert_eq!(
            s.client.classes.len(),
            2,
            "the default class, then the bot's"
        );
        let d = the_error(&text(
            "bots = [{ name = \"crawler\", rate = \"2/s\", from = \"2m\", until = \"2m\" }]",
        ));
        assert_eq!(d.key_path.as_deref(), Some("workload.bots[0].until"));
    }

    #[test]
    fn the_mix_becomes_classes_and_a_cumulative_distribution() {
        // Weights 1 and 3: the draw picks "browse" below 0.25, "buy" below 1.
        let s = valid(&file(
            "mix = [\n{ name = \"browse\", weight = 1 },\n{ name = \"buy\", weight = 3, work = 2.5 },\n]",
            &server("db"),
        ));
        let names: Vec<&str> = s.client.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["browse", "buy"]);
        assert_eq!(s.client.mix_cdf, vec![0.25, 1.0]);
        assert_eq!(s.client.classes[1].work, 2.5);
        // Without a mix there is one class, "request".
        let s = valid(&file("", &server("db")));
        assert_eq!(s.client.classes.len(), 1);
        assert_eq!(s.client.classes[0].name, "request");
        assert_eq!(s.client.mix_cdf, vec![1.0]);
        // A class name twice, and a weight of zero, are both reported.
        let d = invalid(&file(
            "mix = [\n{ name = \"a\", weight = 1 },\n{ name = \"a\", weight = 0 },\n]",
            &server("db"),
        ));
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "the weight must be a positive number, found 0",
                "the class name \"a\" is used twice"
            ]
        );
    }

    #[test]
    fn retries_are_capped_at_ten_and_their_backoff_defaults_are_resolved() {
        use crate::engine::time::{MS, SEC};
        let s = valid(&file("retries = { max = 3 }", &server("db")));
        let (max, _, base, cap, jitter) = s.client.retry.expect("retries");
        assert_eq!((max, base, cap, jitter), (3, 100 * MS, 10 * SEC, true));
        // A cap below the base is raised to it.
        let s = valid(&file(
            "retries = { max = 1, base = \"2s\", cap = \"1s\" }",
            &server("db"),
        ));
        assert_eq!(s.client.retry.expect("retries").3, 2 * SEC);
        let d = the_error(&file("retries = { max = 11 }", &server("db")));
        assert_eq!(d.key_path.as_deref(), Some("workload.retries.max"));
        assert_eq!(d.message, "at most 10 retries, found 11");
        valid(&file("retries = { max = 10 }", &server("db")));
    }

    #[test]
    fn a_retry_budget_is_a_share_of_first_attempts_in_millionths() {
        let budget = |b: &str| {
            valid(&file(
                &format!("retries = {{ max = 3, budget = {b} }}"),
                &server("db"),
            ))
            .client
            .retry_budget
        };
        assert_eq!(budget("\"10%\""), Some(100_000));
        assert_eq!(budget("0.2"), Some(200_000));
        assert_eq!(budget("\"0.0001%\""), Some(1));
        assert_eq!(budget("1"), Some(1_000_000));
        assert_eq!(
            valid(&file("retries = { max = 3 }", &server("db")))
                .client
                .retry_budget,
            None
        );
        for bad in ["0", "\"0%\"", "1e-9"] {
            let d = the_error(&file(
                &format!("retries = {{ max = 3, budget = {bad} }}"),
                &server("db"),
            ));
            assert_eq!(d.key_path.as_deref(), Some("workload.retries.budget"));
            assert!(
                d.message
                    .starts_with("the retry budget must be at least 0.0001%"),
                "{}",
                d.message
            );
        }
        // Above 100 % is not a fraction.
        let d = the_error(&file(
            "retries = { max = 3, budget = \"150%\" }",
            &server("db"),
        ));
        assert_eq!(d.key_path.as_deref(), Some("workload.retries.budget"));
    }
}
