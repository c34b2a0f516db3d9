//! `[workload]`: the users, their mix and load curve, timeouts and retries, and where they
//! connect.

use super::context::{k, Checker};
use crate::engine::time::{MS, SEC};
use crate::model::client::{ClassSpec, ClientSpec, LoadCurve, StreamSpec, WorkloadConfig};
use crate::model::dist::DistConfig;
use crate::model::kinds::KindTag;
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;
use crate::scenario::FIRST_COMPONENT;

/// Checks the workload; `None` if it had errors (already reported).
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
    let entry = entry(c, w.target.as_deref(), &wp);

    ClientSpec {
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
    }
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
