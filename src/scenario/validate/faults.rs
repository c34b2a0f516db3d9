//! `[[faults]]`: the fault timeline, resolved to actions on component indices and sorted by time.

use super::context::{after_the_end_help, k, Checker};
use crate::engine::time::SEC;
use crate::model::faults::{Action, FaultConfig, FaultKind, FaultSpec, Hit};
use crate::model::kit::EventKind;
use crate::model::Control;
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;

/// A fault on one instance of a database: `db.primary` (the same as `db`) or `db.replicaN`
/// (1 ≤ N ≤ its replicas). It takes crash, stop (with a duration: recovered after it) and
/// recover.
fn database_part(
    c: &mut Checker,
    f: &FaultConfig,
    p: &[Seg],
    comp: &str,
    part: &str,
    faults: &mut Vec<FaultSpec>,
) {
    let mut tp = p.to_vec();
    tp.push(k("target"));
    let Some(tref) = c.resolve(&tp, comp) else {
        return;
    };
    let Some(&replicas) = c.parts.get(comp) else {
        c.err(
            &tp,
            format!(
                "\"{comp}\" is a {}, which has no instances to name with \".{part}\"",
                tref.kind.words()
            ),
            Some(format!("target = \"{comp}\"")),
        );
        return;
    };
    let index = if part == "primary" {
        Some(0)
    } else {
        part.strip_prefix("replica")
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|&n| n >= 1 && n <= replicas)
    };
    let Some(index) = index else {
        let names = std::iter::once("primary".to_string())
            .chain((1..=replicas).map(|i| format!("replica{i}")))
            .map(|n| format!("{comp}.{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        c.err(
            &tp,
            format!("\"{comp}\" has no instance \"{part}\""),
            Some(format!(
                "its instances: {names} (it has `replicas = {replicas}`)"
            )),
        );
        return;
    };
    let verb = match f.kind {
        FaultKind::Crash | FaultKind::Stop => crate::model::PartVerb::Crash,
        FaultKind::Recover => crate::model::PartVerb::Recover,
        other => {
            let mut kp = p.to_vec();
            kp.push(k("kind"));
            c.err(
                &kp,
                format!(
                    "a database instance takes \"crash\", \"stop\" and \"recover\" faults, not \"{}\"",
                    other.name()
                ),
                None,
            );
            return;
        }
    };
    if f.fraction.is_some() {
        let mut fp = p.to_vec();
        fp.push(k("fraction"));
        c.err(&fp, "`fraction` applies only to fleet targets", None);
        return;
    }
    let target = f.target.clone().unwrap_or_default();
    let control = Control::Part(index as u16, verb);
    let at = f.at.0;
    let first = faults.len();
    faults.push(FaultSpec {
        at,
        action: Action::Send(Hit::One(tref.id), control),
        label: format!("{} {target}", f.kind.name()),
        event: if f.kind == FaultKind::Recover {
            EventKind::FaultCleared
        } else {
            EventKind::Fault(f.kind)
        },
    });
    if let (Some(d), FaultKind::Stop) = (f.duration, f.kind) {
        faults.push(FaultSpec {
            at: at.saturating_add(d.0),
            action: Action::Undo(first),
            label: format!("recover {target}"),
            event: EventKind::FaultCleared,
        });
    }
}

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
            f.factor.is_some() && !matches!(f.kind, FaultKind::Slow | FaultKind::CpuBug),
            "\"slow\" and \"cpu_bug\"",
        );
        check_only(
            c,
            "path",
            f.path.is_some() && f.kind != FaultKind::CpuBug,
            "\"cpu_bug\"",
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
            "items",
            f.items.is_some() && f.kind != FaultKind::Expire,
            "\"expire\"",
        );
        check_only(
            c,
            "mtbf",
            f.mtbf.is_some() && f.kind != FaultKind::RandomCrash,
            "\"random_crash\"",
        );
        if dur.is_some()
            && matches!(
                f.kind,
                FaultKind::Crash | FaultKind::Recover | FaultKind::Flush | FaultKind::Expire
            )
        {
            let why = match f.kind {
                FaultKind::Crash => "a crashed server comes back after its own `restart` delay",
                FaultKind::Recover => "a recover is instantaneous",
                _ => "a cache refills by itself as misses read the backend",
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
        let region = match &f.region {
            None => None,
            Some(name) => {
                let rp = at(&p, "region");
                if !matches!(
                    f.kind,
                    FaultKind::Latency | FaultKind::Stop | FaultKind::Recover
                ) {
                    c.err(
                        &rp,
                        "`region` applies only to \"latency\" (a region's users' link) and to \"stop\" and \"recover\" (a CDN's edge) faults",
                        None,
                    );
                    continue;
                }
                if !c.regions_on {
                    c.err(
                        &rp,
                        "a fault on a region needs [network.regions]",
                        Some(
                            "add [network.regions] to place users and components in regions".into(),
                        ),
                    );
                    continue;
                }
                match crate::model::region::index_of(name) {
                    Some(r) => Some(r),
                    None => {
                        c.err(
                            &rp,
                            format!("there is no region \"{name}\""),
                            Some(format!(
                                "regions: {}",
                                crate::model::region::REGIONS.join(", ")
                            )),
                        );
                        continue;
                    }
                }
            }
        };
        if let (Some(r), FaultKind::Latency, None) = (region, f.kind, &f.target) {
            let Some(add) = f.added.filter(|a| a.0 > 0) else {
                c.err(
                    &at(&p, "added"),
                    "a \"latency\" fault needs `added` > 0 (e.g. added = \"200ms\")",
                    None,
                );
                continue;
            };
            let name = crate::model::region::REGIONS[r as usize];
            faults.push(FaultSpec {
                at: f.at.0,
                action: Action::RegionDelay(r, add.0 as i64),
                label: format!("+{} on the link of {name}'s users", Duration(add.0)),
                event: EventKind::Fault(FaultKind::Latency),
            });
            if let Some(d) = dur {
                faults.push(FaultSpec {
                    at: f.at.0.saturating_add(d),
                    action: Action::RegionDelay(r, -(add.0 as i64)),
                    label: format!("{name}'s users' link back to normal"),
                    event: EventKind::FaultCleared,
                });
            }
            continue;
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
        // `db.primary`, `db.replica2`: one instance of a database.
        if let Some((comp, part)) = target.split_once('.') {
            database_part(c, f, &p, comp, part, &mut faults);
            continue;
        }
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
        if tref.kind == crate::model::kinds::KindTag::Database
            && !matches!(
                f.kind,
                FaultKind::Crash | FaultKind::Stop | FaultKind::Recover | FaultKind::Latency
            )
        {
            c.err(
                &at(&p, "kind"),
                format!(
                    "a database takes \"crash\", \"stop\", \"recover\" and \"latency\" faults, not \"{}\"",
                    f.kind.name()
                ),
                Some(format!(
                    "its primary fails with kind = \"crash\"; one replica with target = \"{tname}.replica1\""
                )),
            );
            continue;
        }
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
                        format!(
                            "the fraction must be in (0, 1], found {}",
                            crate::scenario::error::number(fr)
                        ),
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
        if let Some(r) = region {
            if f.kind == FaultKind::Latency {
                c.err(
                    &at(&p, "region"),
                    "a \"latency\" fault takes either a `target` component or a users' `region`, not both",
                    None,
                );
                continue;
            }
            if tref.kind != crate::model::kinds::KindTag::Cdn {
                c.err(
                    &at(&p, "region"),
                    format!(
                        "only a CDN has locations in regions; \"{tname}\" is a {}",
                        tref.kind.words()
                    ),
                    Some("drop `region` to stop the whole component".into()),
                );
                continue;
            }
            let name = crate::model::region::REGIONS[r as usize];
            let (verb, event) = if f.kind == FaultKind::Stop {
                (Control::RegionDown(r), EventKind::Fault(FaultKind::Stop))
            } else {
                (Control::RegionUp(r), EventKind::FaultCleared)
            };
            let what = if f.kind == FaultKind::Stop {
                "out"
            } else {
                "back"
            };
            faults.push(FaultSpec {
                at: f.at.0,
                action: Action::Send(Hit::One(tid), verb),
                label: format!("{tname}'s {name} edge {what}"),
                event,
            });
            if let (Some(d), FaultKind::Stop) = (dur, f.kind) {
                faults.push(FaultSpec {
                    at: f.at.0.saturating_add(d),
                    action: Action::Send(Hit::One(tid), Control::RegionUp(r)),
                    label: format!("{tname}'s {name} edge back"),
                    event: EventKind::FaultCleared,
                });
            }
            continue;
        }
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
                        format!(
                            "a slow-down factor must be in (1, 1000], found {}",
                            crate::scenario::error::number(x)
                        ),
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
            FaultKind::Flush | FaultKind::Expire => {
                if tref.kind != crate::model::kinds::KindTag::Cache {
                    c.err(
                        &at(&p, "target"),
                        format!(
                            "a \"{}\" fault targets a cache; \"{tname}\" is a {}",
                            f.kind.name(),
                            tref.kind.words()
                        ),
                        None,
                    );
                    None
                } else if f.kind == FaultKind::Flush {
                    Some(Control::Flush)
                } else {
                    match f.items.unwrap_or(1) {
                        0 => {
                            c.err(
                                &at(&p, "items"),
                                "`items` counts the most popular items that expire: at least 1",
                                Some("items = 1 expires the hottest item alone".into()),
                            );
                            None
                        }
                        n => Some(Control::Expire(n)),
                    }
                }
            }
            FaultKind::Latency
            | FaultKind::RandomCrash
            | FaultKind::AzOutage
            | FaultKind::CpuBug => None,
        };
        let index = faults.len();
        match f.kind {
            FaultKind::CpuBug => {
                let Some(path) = &f.path else {
                    c.err(
                        &p,
                        "a \"cpu_bug\" needs the `path` whose requests it slows",
                        Some("e.g. path = \"/search\"".into()),
                    );
                    continue;
                };
                if !c.url_path(&at(&p, "path"), path) {
                    continue;
                }
                let permille = match f.factor {
                    Some(x) if x > 1.0 && x <= 1000.0 => (x * 1000.0).round() as u32,
                    Some(x) => {
                        c.err(
                            &at(&p, "factor"),
                            format!(
                                "a cpu_bug's factor must be in (1, 1000], found {}",
                                crate::scenario::error::number(x)
                            ),
                            None,
                        );
                        continue;
                    }
                    None => {
                        c.err(
                            &p,
                            "a \"cpu_bug\" needs `factor` (how many times the CPU those requests cost)",
                            Some("e.g. factor = 10".into()),
                        );
                        continue;
                    }
                };
                if tref.kind != crate::model::kinds::KindTag::Server && !is_fleet {
                    c.err(
                        &at(&p, "target"),
                        format!(
                            "a cpu_bug runs on servers or fleets; \"{tname}\" is a {}",
                            tref.kind.words()
                        ),
                        None,
                    );
                    continue;
                }
                let classes: Vec<u16> = c
                    .match_classes(&[path.as_str()])
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.is_some())
                    .map(|(i, _)| i as u16)
                    .collect();
                if classes.is_empty() {
                    let paths: Vec<String> = c.classes.iter().map(|k| k.path.clone()).collect();
                    c.err(
                        &at(&p, "path"),
                        format!("no request class has a path under \"{path}\""),
                        Some(format!("the workload's paths: {}", paths.join(", "))),
                    );
                    continue;
                }
                let comps: Vec<u32> = match (&hit, is_fleet && slot.is_none()) {
                    (_, true) => (first_slot..first_slot + n_slots).collect(),
                    (Hit::One(comp), false) => vec![*comp],
                    (Hit::Fraction { .. }, false) => continue,
                };
                let x = f64::from(permille) / 1000.0;
                faults.push(FaultSpec {
                    at: f.at.0,
                    action: Action::Bug(comps.clone(), classes.clone(), permille, true),
                    label: format!("bug: {path} costs {x}× CPU on {label_target}"),
                    event: EventKind::Fault(FaultKind::CpuBug),
                });
                if let Some(d) = dur {
                    faults.push(FaultSpec {
                        at: f.at.0.saturating_add(d),
                        action: Action::Bug(comps, classes, permille, false),
                        label: format!("bug on {path} fixed on {label_target}"),
                        event: EventKind::FaultCleared,
                    });
                }
            }
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
                let label = match control {
                    Control::Expire(1) => {
                        format!("the hottest item in {label_target} expires")
                    }
                    Control::Expire(n) => {
                        format!("the {n} hottest items in {label_target} expire at once")
                    }
                    Control::Flush => format!("flush {label_target} (every item forgotten)"),
                    _ => format!("{verb} {label_target}"),
                };
                faults.push(FaultSpec {
                    at: f.at.0,
                    action: Action::Send(hit, control),
                    label,
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

#[cfg(test)]
mod tests {
    use super::super::tests::{dns, file, fleet, invalid, server, the_error, valid};
    use crate::engine::time::{MIN, MS};
    use crate::model::faults::{Action, FaultKind, FaultSpec, Hit};
    use crate::model::kit::EventKind;
    use crate::model::Control;

    /// A one-hour shop: server `db` (2), DNS `dns` (3) pointing at it, fleet `web` (4) with
    /// slots 5, 6, 7 in zones a, b, c — and `faults` (`[[faults]]` tables).
    fn shop(faults: &str) -> String {
        file(
            "target = \"dns\"",
            &[
                server("db"),
                dns("dns", "db"),
                fleet("web", 3),
                faults.to_string(),
            ]
            .join("\n"),
        )
    }

    /// One `[[faults]]` table from its keys.
    fn fault(keys: &str) -> String {
        format!("[[faults]]\n{keys}\n")
    }

    fn timeline(faults: &[&str]) -> Vec<FaultSpec> {
        let text: Vec<String> = faults.iter().map(|f| fault(f)).collect();
        valid(&shop(&text.join("\n"))).faults
    }

    #[test]
    fn the_timeline_is_in_time_order_and_each_undo_points_at_its_fault() {
        // In file order: stop db at 10m for 5m (undone at 15m), crash web[0] at 5m, hang web[1]
        // at 12m for 1m (undone at 13m). Sorted: crash 5m, stop 10m, hang 12m, undo 13m → the
        // hang (now entry 2), undo 15m → the stop (now entry 1).
        let t = timeline(&[
            "at = \"10m\"\nkind = \"stop\"\ntarget = \"db\"\nduration = \"5m\"",
            "at = \"5m\"\nkind = \"crash\"\ntarget = \"web[0]\"",
            "at = \"12m\"\nkind = \"hang\"\ntarget = \"web[1]\"\nduration = \"1m\"",
        ]);
        let got: Vec<(u64, Action, EventKind, &str)> = t
            .iter()
            .map(|f| (f.at / MIN, f.action.clone(), f.event, f.label.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    5,
                    Action::Send(Hit::One(5), Control::Crash),
                    EventKind::Fault(FaultKind::Crash),
                    "crash web[0]"
                ),
                (
                    10,
                    Action::Send(Hit::One(2), Control::Stop),
                    EventKind::Fault(FaultKind::Stop),
                    "stop db"
                ),
                (
                    12,
                    Action::Send(Hit::One(6), Control::Hang),
                    EventKind::Fault(FaultKind::Hang),
                    "hang web[1]"
                ),
                (
                    13,
                    Action::Undo(2),
                    EventKind::FaultCleared,
                    "recover web[1]"
                ),
                (15, Action::Undo(1), EventKind::FaultCleared, "recover db"),
            ]
        );
    }

    #[test]
    fn every_entry_says_whether_a_fault_takes_effect_or_clears() {
        // A recover clears; so does the end of every duration (slow, latency, zone, DNS).
        let t = timeline(&[
            "at = \"1m\"\nkind = \"slow\"\ntarget = \"db\"\nfactor = 2.5\nduration = \"1m\"",
            "at = \"3m\"\nkind = \"recover\"\ntarget = \"db\"",
            "at = \"4m\"\nkind = \"latency\"\ntarget = \"db\"\nadded = \"200ms\"\nduration = \"1m\"",
            "at = \"6m\"\nkind = \"az_outage\"\naz = \"b\"\nduration = \"1m\"",
            "at = \"8m\"\nkind = \"dns_outage\"\ntarget = \"dns\"\nduration = \"1m\"",
            "at = \"10m\"\nkind = \"random_crash\"\ntarget = \"web\"\nmtbf = \"1h\"\nduration = \"5m\"",
        ]);
        let fault = EventKind::Fault;
        let cleared = EventKind::FaultCleared;
        let got: Vec<(u64, EventKind, Action)> = t
            .iter()
            .map(|f| (f.at / MIN, f.event, f.action.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    1,
                    fault(FaultKind::Slow),
                    Action::Send(Hit::One(2), Control::Slow(2500))
                ),
                (2, cleared, Action::Undo(0)),
                (3, cleared, Action::Send(Hit::One(2), Control::Recover)),
                (
                    4,
                    fault(FaultKind::Latency),
                    Action::Delay(2, (200 * MS) as i64)
                ),
                (5, cleared, Action::Delay(2, -((200 * MS) as i64))),
                (6, fault(FaultKind::AzOutage), Action::Zone(1, true)),
                (7, cleared, Action::Zone(1, false)),
                (
                    8,
                    fault(FaultKind::DnsOutage),
                    Action::Send(Hit::One(3), Control::DnsOutage)
                ),
                (9, cleared, Action::Undo(7)),
                (
                    10,
                    fault(FaultKind::RandomCrash),
                    // A random crash's duration is its `until`, not an undo entry.
                    Action::RandomCrash(
                        Hit::Fraction {
                            group: 0,
                            fraction: 1.0
                        },
                        60 * MIN,
                        15 * MIN
                    )
                ),
            ]
        );
    }

    #[test]
    fn fleet_targets_are_one_slot_a_fraction_or_the_first_instance() {
        let one = |target: &str, extra: &str| {
            let t = timeline(&[&format!(
                "at = \"1m\"\nkind = \"stop\"\ntarget = \"{target}\"\n{extra}"
            )]);
            match &t[0].action {
                Action::Send(hit, Control::Stop) => hit.clone(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(one("web[2]", ""), Hit::One(7));
        assert_eq!(one("web", ""), Hit::One(5), "no index: the first instance");
        assert_eq!(
            one("web", "fraction = 0.5"),
            Hit::Fraction {
                group: 0,
                fraction: 0.5
            }
        );
        let err = |target: &str, extra: &str| {
            the_error(&shop(&fault(&format!(
                "at = \"1m\"\nkind = \"stop\"\ntarget = \"{target}\"\n{extra}"
            ))))
        };
        let d = err("web[3]", "");
        assert_eq!(d.key_path.as_deref(), Some("faults[0].target"));
        assert!(
            d.message.contains("index 3 is out of range"),
            "{}",
            d.message
        );
        assert_eq!(
            err("web[x]", "").message,
            "\"web[x]\" is not `name` or `name[index]`"
        );
        assert_eq!(
            err("db[0]", "").message,
            "\"db\" is not a fleet, so it has no instances to index"
        );
        assert_eq!(
            err("db", "fraction = 0.5").message,
            "`fraction` applies only to fleet targets"
        );
        assert_eq!(
            err("web", "fraction = 1.5").message,
            "the fraction must be in (0, 1], found 1.5"
        );
        assert_eq!(
            err("web[1]", "fraction = 0.5").message,
            "give either an instance index or a fraction, not both"
        );
        // A latency fault on a whole fleet delays every slot.
        let t = timeline(&["at = \"1m\"\nkind = \"latency\"\ntarget = \"web\"\nadded = \"5ms\""]);
        let delayed: Vec<Action> = t.into_iter().map(|f| f.action).collect();
        let d = (5 * MS) as i64;
        assert_eq!(
            delayed,
            vec![
                Action::Delay(5, d),
                Action::Delay(6, d),
                Action::Delay(7, d)
            ]
        );
    }

    #[test]
    fn a_dns_outage_targets_only_a_dns() {
        let d = the_error(&shop(&fault(
            "at = \"1m\"\nkind = \"dns_outage\"\ntarget = \"db\"",
        )));
        assert_eq!(d.key_path.as_deref(), Some("faults[0].target"));
        assert_eq!(d.message, "\"db\" is not a DNS component");
        let d = the_error(&shop(&fault(
            "at = \"1m\"\nkind = \"dns_outage\"\ntarget = \"web\"",
        )));
        assert_eq!(d.message, "\"web\" is not a DNS component");
    }

    #[test]
    fn a_fault_after_the_end_of_the_run_says_when_the_run_ends() {
        let d = the_error(&shop(&fault(
            "at = \"2h\"\nkind = \"crash\"\ntarget = \"db\"",
        )));
        assert_eq!(d.key_path.as_deref(), Some("faults[0].at"));
        assert_eq!(
            d.message,
            "the fault is scheduled at 2h but the run ends at 1h"
        );
        assert!(d
            .help
            .as_deref()
            .unwrap_or("")
            .starts_with("schedule it before 1h"));
        timeline(&["at = \"59m\"\nkind = \"crash\"\ntarget = \"db\""]);
    }

    #[test]
    fn each_kind_takes_only_its_own_keys() {
        let err = |keys: &str| the_error(&shop(&fault(keys))).message;
        assert_eq!(
            err("at = \"1m\"\nkind = \"crash\"\ntarget = \"db\"\nfactor = 2"),
            "`factor` applies only to \"slow\" and \"cpu_bug\" faults"
        );
        assert_eq!(
            err("at = \"1m\"\nkind = \"stop\"\ntarget = \"db\"\nmtbf = \"1h\""),
            "`mtbf` applies only to \"random_crash\" faults"
        );
        assert!(
            err("at = \"1m\"\nkind = \"crash\"\ntarget = \"db\"\nduration = \"1m\"")
                .starts_with("`duration` does not apply to \"crash\" faults")
        );
        assert_eq!(
            err("at = \"1m\"\nkind = \"slow\"\ntarget = \"db\""),
            "a \"slow\" fault needs `factor` (how many times slower)"
        );
        assert_eq!(
            err("at = \"1m\"\nkind = \"slow\"\ntarget = \"db\"\nfactor = 1"),
            "a slow-down factor must be in (1, 1000], found 1"
        );
        assert_eq!(
            err("at = \"1m\"\nkind = \"random_crash\"\ntarget = \"web\"\nmtbf = \"500ms\""),
            "a \"random_crash\" fault needs `mtbf` of at least 1s"
        );
        assert_eq!(
            err("at = \"1m\"\nkind = \"hang\""),
            "this fault needs a `target` component"
        );
    }

    #[test]
    fn a_zone_outage_names_an_existing_zone() {
        let d = the_error(&shop(&fault(
            "at = \"1m\"\nkind = \"az_outage\"\naz = \"d\"",
        )));
        assert_eq!(d.key_path.as_deref(), Some("faults[0].az"));
        assert_eq!(d.message, "there is no zone \"d\"");
        assert_eq!(d.help.as_deref(), Some("zones: a, b, c"));
        let d = invalid(&shop(&fault("at = \"1m\"\nkind = \"az_outage\"")));
        assert_eq!(
            d[0].message,
            "an \"az_outage\" needs `az` (\"a\", \"b\", ...)"
        );
        let t = timeline(&["at = \"1m\"\nkind = \"az_outage\"\naz = \"c\""]);
        assert_eq!(t.len(), 1, "no duration: no way back");
        assert_eq!(t[0].action, Action::Zone(2, true));
    }
}
