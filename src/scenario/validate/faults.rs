//! `[[faults]]`: the fault timeline, resolved to actions on component indices and sorted by time.

use super::context::{after_the_end_help, k, Checker};
use crate::engine::time::SEC;
use crate::model::faults::{Action, FaultConfig, FaultKind, FaultSpec, Hit};
use crate::model::kit::EventKind;
use crate::model::Control;
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;

/// Checks every fault; returns the timeline in time order (undo entries pointing at their fault).
pub(super) fn check(c: &mut Checker, configs: &[FaultConfig]) -> Vec<FaultSpec> {
    let duration = c.duration;
    let azs = c.azs;
    let at = |p: &[Seg], key: &str| {
        let mut v = p.to_vec();
        v.push(k(key));
        v
    };
    let mut faults: Vec<FaultSpec> = Vec::new();
    for (i, f) in configs.iter().enumerate() {
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
            c,
            "factor",
            f.factor.is_some() && f.kind != FaultKind::Slow,
            "\"slow\"",
        );
        check_only(
            c,
            "az",
            f.az.is_some() && f.kind != FaultKind::AzOutage,
            "\"az_outage\"",
        );
        check_only(
            c,
            "added",
            f.added.is_some() && f.kind != FaultKind::Latency,
            "\"latency\"",
        );
        check_only(
            c,
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
                event: EventKind::Fault(FaultKind::AzOutage),
            });
            if let Some(d) = dur {
                faults.push(FaultSpec {
                    at: f.at.0.saturating_add(d),
                    action: Action::Zone(z, false),
                    label: format!("zone {az} back"),
                    event: EventKind::FaultCleared,
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
        let Some(tref) = c.resolve(&at(&p, "target"), &tname) else {
            continue;
        };
        let tid = tref.id;
        let is_fleet = tref.slots.is_some();
        let (first_slot, n_slots) = tref.slots.unwrap_or_default();
        let group = c.group_of(&tname).unwrap_or_default();
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
                let (first, n) = (first_slot, n_slots);
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
                    Some(fraction) => Hit::Fraction { group, fraction },
                    None if f.kind == FaultKind::RandomCrash => Hit::Fraction {
                        group,
                        fraction: 1.0,
                    },
                    None => Hit::One(first_slot),
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
                if !tref.kind.wiring().dns_outage {
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
                        let (first, n) = (first_slot, n_slots);
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
                        event: EventKind::Fault(FaultKind::Latency),
                    });
                    if let Some(d) = dur {
                        faults.push(FaultSpec {
                            at: f.at.0.saturating_add(d),
                            action: Action::Delay(comp, -(add.0 as i64)),
                            label: format!("latency to {label_target} back to normal"),
                            event: EventKind::FaultCleared,
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
                    event: EventKind::Fault(FaultKind::RandomCrash),
                });
            }
            _ => {
                let Some(control) = control else { continue };
                let verb = f.kind.name();
                faults.push(FaultSpec {
                    at: f.at.0,
                    action: Action::Send(hit, control),
                    label: format!("{verb} {label_target}"),
                    event: if f.kind == FaultKind::Recover {
                        EventKind::FaultCleared
                    } else {
                        EventKind::Fault(f.kind)
                    },
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
                        event: EventKind::FaultCleared,
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
    sorted
}
