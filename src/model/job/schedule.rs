//! When a scheduled job fires, on the scenario's clock (`workload.start_hour` is the time of day
//! at t = 0): a fixed rate aligned to midnight (`"every 15m"`), times of day (`"daily at 02:00"`,
//! `"at 02:00, 14:30"`), a cron line over minutes and hours (`"0 2 * * *"`, `"*/15 * * * *"`), or
//! once (`"after 20m"`, from the start of the run). EventBridge Scheduler's rate, cron and
//! one-time schedules (docs/semantics.md §8); the simulation has no calendar, so cron's day
//! fields must be `*`.

use crate::engine::time::{Time, MIN, SEC};
use crate::scenario::units::parse_duration;

/// A day, ns.
pub const DAY: Time = 24 * 3600 * SEC;

/// A checked schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// At every multiple of the period since midnight of the first day.
    Every(Time),
    /// At these times of day (ns past midnight, sorted, distinct), every day.
    Daily(Vec<Time>),
    /// Once, this long after the run starts.
    Once(Time),
}

/// What a schedule may be written as, for error messages.
pub const FORMS: &str = "\"every 15m\", \"daily at 02:00\", \"at 02:00, 14:30\", \"after 20m\" or \
                         a cron line such as \"0 2 * * *\"";

impl Schedule {
    /// Reads a schedule as written in a scenario, or says what is wrong with it.
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let t = s.trim();
        if let Some(rest) = t.strip_prefix("every ") {
            let d = parse_duration(rest.trim())
                .map_err(|_| format!("\"{rest}\" after `every` is not a time span like \"15m\""))?;
            if d < MIN {
                return Err(format!(
                    "a rate schedule fires at most once a minute (EventBridge's finest), found \
                     every {}",
                    rest.trim()
                ));
            }
            return Ok(Schedule::Every(d));
        }
        if let Some(rest) = t.strip_prefix("after ") {
            let d = parse_duration(rest.trim())
                .map_err(|_| format!("\"{rest}\" after `after` is not a time span like \"20m\""))?;
            return Ok(Schedule::Once(d));
        }
        let at = t
            .strip_prefix("daily at ")
            .or_else(|| t.strip_prefix("at "));
        if let Some(list) = at {
            let mut times = Vec::new();
            for part in list.split([',', '&']).flat_map(|p| p.split(" and ")) {
                let p = part.trim();
                if p.is_empty() {
                    continue;
                }
                times.push(time_of_day(p)?);
            }
            if times.is_empty() {
                return Err("`at` needs a time of day such as 02:00".into());
            }
            times.sort_unstable();
            times.dedup();
            return Ok(Schedule::Daily(times));
        }
        let fields: Vec<&str> = t.split_whitespace().collect();
        if fields.len() == 5 || fields.len() == 6 {
            return cron(&fields);
        }
        Err(format!("\"{t}\" is not a schedule"))
    }

    /// The first firing at or after `t` (ns since the run started), with the run starting
    /// `offset` ns past midnight; `None` when it never fires again.
    pub fn next_at(&self, t: Time, offset: Time) -> Option<Time> {
        let clock = offset.saturating_add(t);
        match self {
            Schedule::Every(p) => {
                let p = (*p).max(1);
                let k = clock.div_ceil(p);
                Some(k.saturating_mul(p).saturating_sub(offset))
            }
            Schedule::Daily(times) => {
                let day = clock / DAY;
                for d in [day, day + 1] {
                    for &tod in times {
                        let at = d * DAY + tod;
                        if at >= clock {
                            return Some(at - offset);
                        }
                    }
                }
                None
            }
            Schedule::Once(at) => (*at >= t).then_some(*at),
        }
    }

    /// In words, for the run header and `explain`.
    pub fn describe(&self) -> String {
        match self {
            Schedule::Every(p) => format!("every {}", crate::engine::time::human(*p)),
            Schedule::Daily(times) => {
                let list: Vec<String> = times.iter().map(|&t| clock(t)).collect();
                format!("daily at {}", list.join(", "))
            }
            Schedule::Once(at) => format!("once, {} into the run", crate::engine::time::human(*at)),
        }
    }
}

/// A time of day as HH:MM.
pub fn clock(t: Time) -> String {
    let m = (t % DAY) / MIN;
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// "02:00", "2:30", "14:05:30".
fn time_of_day(p: &str) -> Result<Time, String> {
    let bad = || format!("\"{p}\" is not a time of day like 02:00 (hours 0–23, minutes 0–59)");
    let parts: Vec<&str> = p.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let num = |s: &str, max: u64| -> Result<u64, String> {
        let v: u64 = s.parse().map_err(|_| bad())?;
        if v > max {
            return Err(bad());
        }
        Ok(v)
    };
    let h = num(parts[0], 23)?;
    let m = num(parts[1], 59)?;
    let s = match parts.get(2) {
        Some(s) => num(s, 59)?,
        None => 0,
    };
    Ok((h * 3600 + m * 60 + s) * SEC)
}

/// A cron line: minute hour day-of-month month day-of-week [year], the day fields `*` or `?`.
fn cron(fields: &[&str]) -> Result<Schedule, String> {
    for (i, name) in [(2, "day of month"), (3, "month"), (4, "day of week")] {
        if !matches!(fields[i], "*" | "?") {
            return Err(format!(
                "the {name} field of a cron line must be `*` (a run has no calendar), found \
                 \"{}\"",
                fields[i]
            ));
        }
    }
    if fields.len() == 6 && !matches!(fields[5], "*" | "?") {
        return Err(format!(
            "the year field of a cron line must be `*`, found \"{}\"",
            fields[5]
        ));
    }
    let minutes = cron_field(fields[0], 59, "minute")?;
    let hours = cron_field(fields[1], 23, "hour")?;
    let mut times = Vec::with_capacity(minutes.len() * hours.len());
    for &h in &hours {
        for &m in &minutes {
            times.push((h * 60 + m) * MIN);
        }
    }
    times.sort_unstable();
    Ok(Schedule::Daily(times))
}

/// One cron field: `*`, `n`, `a-b`, `*/s`, `a-b/s`, `n/s`, and lists of these.
fn cron_field(f: &str, max: u64, what: &str) -> Result<Vec<u64>, String> {
    let bad =
        || format!("\"{f}\" is not a cron {what} field (0–{max}: `*`, `5`, `1-5`, `*/15`, `0,30`)");
    let num = |s: &str| -> Result<u64, String> {
        match s.parse::<u64>() {
            Ok(v) if v <= max => Ok(v),
            _ => Err(bad()),
        }
    };
    let mut out = Vec::new();
    for item in f.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u64>().ok().filter(|&s| s > 0).ok_or_else(bad)?),
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (num(a)?, num(b)?)
        } else {
            let v = num(range)?;
            (v, if item.contains('/') { max } else { v })
        };
        if lo > hi {
            return Err(bad());
        }
        out.extend((lo..=hi).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Time = 3600 * SEC;

    #[test]
    fn forms() {
        assert_eq!(Schedule::parse("every 15m"), Ok(Schedule::Every(15 * MIN)));
        assert_eq!(
            Schedule::parse("daily at 02:00"),
            Ok(Schedule::Daily(vec![2 * H]))
        );
        assert_eq!(
            Schedule::parse("at 14:30, 02:00"),
            Ok(Schedule::Daily(vec![2 * H, 14 * H + 30 * MIN]))
        );
        assert_eq!(Schedule::parse("after 20m"), Ok(Schedule::Once(20 * MIN)));
        assert_eq!(
            Schedule::parse("0 2 * * *"),
            Ok(Schedule::Daily(vec![2 * H]))
        );
        let q = Schedule::parse("*/15 1-2 * * ?").unwrap();
        assert_eq!(
            q,
            Schedule::Daily(
                [60, 75, 90, 105, 120, 135, 150, 165]
                    .iter()
                    .map(|m| m * MIN)
                    .collect()
            )
        );
        assert_eq!(
            Schedule::parse("0,30 3 * * * *"),
            Ok(Schedule::Daily(vec![3 * H, 3 * H + 30 * MIN]))
        );
    }

    #[test]
    fn bad_forms_say_why() {
        for (s, part) in [
            ("every 10s", "once a minute"),
            ("every soon", "time span"),
            ("at 25:00", "time of day"),
            ("at 02:61", "time of day"),
            ("0 2 1 * *", "day of month"),
            ("0 2 * * MON", "day of week"),
            ("61 2 * * *", "minute field"),
            ("0 */0 * * *", "hour field"),
            ("nightly", "not a schedule"),
        ] {
            let e = Schedule::parse(s).unwrap_err();
            assert!(e.contains(part), "{s}: {e}");
        }
    }

    #[test]
    fn next_firing_on_the_clock() {
        // The run starts at 01:30.
        let off = H + 30 * MIN;
        let daily = Schedule::Daily(vec![2 * H]);
        assert_eq!(daily.next_at(0, off), Some(30 * MIN));
        assert_eq!(daily.next_at(30 * MIN + 1, off), Some(30 * MIN + DAY));
        // A run starting exactly at 02:00 fires at once.
        assert_eq!(daily.next_at(0, 2 * H), Some(0));
        let every = Schedule::Every(H);
        assert_eq!(every.next_at(0, off), Some(30 * MIN));
        assert_eq!(every.next_at(30 * MIN + 1, off), Some(90 * MIN));
        // Aligned to midnight, not to the start.
        assert_eq!(Schedule::Every(15 * MIN).next_at(0, 7 * MIN), Some(8 * MIN));
        let once = Schedule::Once(20 * MIN);
        assert_eq!(once.next_at(0, off), Some(20 * MIN));
        assert_eq!(once.next_at(20 * MIN + 1, off), None);
        // Late in the day, the next firing is tomorrow's first.
        let two = Schedule::Daily(vec![2 * H, 14 * H]);
        assert_eq!(two.next_at(0, 15 * H), Some(11 * H));
        assert_eq!(clock(14 * H + 5 * MIN), "14:05");
        assert_eq!(two.describe(), "daily at 02:00, 14:00");
    }
}
