//! Human units in scenario files: durations ("150ms", "1h30m"), sizes ("1.5GiB"), rates ("100/s"),
//! prices ("$0.096/h") and fractions ("0.1%"). Each parses into an exact integer or a checked float,
//! and each error says what was expected with an example.

use crate::engine::time::{Time, HOUR, MIN, MS, NS, SEC, US};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A span of simulated time, written with a unit: `"150ms"`, `"2h"`, `"1h30m"`, `"0s"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub Time);

/// A number of bytes, written with a unit: `"512MiB"`, `"1.5GiB"`, `"2GB"`, `"0B"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

/// Events per second, written as `"100/s"`, `"6000/min"`, `"2/ms"`, `"50/h"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Rate(pub f64);

/// Dollars per hour, written as `"$0.096/h"` (also `"$70/month"`, 730 hours a month).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Price(pub f64);

/// An amount of dollars, written as `"$3.50"` or `"$0.0001"` (a price per call or per million
/// requests).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Dollars(pub f64);

/// A fraction in [0, 1], written as a number (`0.001`) or a percentage (`"0.1%"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Fraction(pub f64);

/// Hours in a month, as AWS bills them (24 × 365 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

fn split_number(s: &str) -> Option<(f64, &str)> {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '_' || *c == '-' || *c == '+'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let num: String = s[..end].chars().filter(|c| *c != '_').collect();
    let v: f64 = num.parse().ok()?;
    Some((v, s[end..].trim_start()))
}

/// Parses `"1h30m"`, `"150ms"`, `"2.5s"` into nanoseconds.
pub fn parse_duration(text: &str) -> Result<Time, String> {
    let s = text.trim();
    let example = "a duration with a unit, like \"150ms\", \"30s\", \"5m\" or \"1h30m\"";
    if s.is_empty() {
        return Err(format!("expected {example}, found an empty string"));
    }
    let mut rest = s;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (v, after) =
            split_number(rest).ok_or_else(|| format!("expected {example}, found \"{text}\""))?;
        if v < 0.0 || !v.is_finite() {
            return Err(format!("a duration can't be negative: \"{text}\""));
        }
        let unit_end = after
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map(|(i, _)| i)
            .unwrap_or(after.len());
        let unit = after[..unit_end].trim();
        let scale = match unit {
            "ns" => NS,
            "us" | "µs" | "μs" => US,
            "ms" => MS,
            "s" | "sec" => SEC,
            "m" | "min" => MIN,
            "h" => HOUR,
            "d" => 24 * HOUR,
            "" => {
                return Err(format!(
                    "\"{text}\" has no unit; expected {example} (units: ns, us, ms, s, m, h, d)"
                ))
            }
            other => {
                return Err(format!(
                    "unknown time unit \"{other}\" in \"{text}\"; use ns, us, ms, s, m, h or d"
                ))
            }
        };
        let ns = v * scale as f64;
        if ns > 1e19 {
            return Err(format!(
                "duration \"{text}\" is too long (limit: about 580 years)"
            ));
        }
        total += ns.round() as u128;
        rest = after[unit_end..].trim_start();
    }
    u64::try_from(total).map_err(|_| format!("duration \"{text}\" is too long"))
}

/// Parses `"512MiB"`, `"1.5GiB"`, `"2GB"`, `"0B"` into bytes.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let s = text.trim();
    let example = "a size with a unit, like \"512MiB\", \"1.5GiB\" or \"64KiB\"";
    let (v, unit) =
        split_number(s).ok_or_else(|| format!("expected {example}, found \"{text}\""))?;
    if v < 0.0 || !v.is_finite() {
        return Err(format!("a size can't be negative: \"{text}\""));
    }
    let scale: f64 = match unit {
        "B" | "b" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024f64.powi(4),
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "" => return Err(format!("\"{text}\" has no unit; expected {example}")),
        other => {
            return Err(format!(
                "unknown size unit \"{other}\" in \"{text}\"; use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB"
            ))
        }
    };
    let b = v * scale;
    if b >= u64::MAX as f64 {
        return Err(format!("size \"{text}\" is too large"));
    }
    Ok(b.round() as u64)
}

/// Parses `"100/s"`, `"6000/min"`, `"2/ms"`, `"50/h"` into events per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let example = "a rate like \"100/s\", \"6000/min\" or \"50/h\"";
    let (num, per) = text
        .trim()
        .split_once('/')
        .ok_or_else(|| format!("expected {example}, found \"{text}\""))?;
    let v: f64 = num
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("expected {example}, found \"{text}\""))?;
    if v < 0.0 || !v.is_finite() {
        return Err(format!("a rate can't be negative: \"{text}\""));
    }
    let per_secs = match per.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" | "hour" => 3600.0,
        "d" | "day" => 86_400.0,
        other => {
            return Err(format!(
                "unknown rate unit \"/{other}\" in \"{text}\"; use /s, /min, /h or /d"
            ))
        }
    };
    Ok(v / per_secs)
}

/// Parses `"$0.096/h"` or `"$70/month"` into dollars per hour.
pub fn parse_price(text: &str) -> Result<f64, String> {
    let example = "a price like \"$0.096/h\" or \"$70/month\"";
    let s = text.trim();
    let s = s
        .strip_prefix('$')
        .ok_or_else(|| format!("expected {example}, found \"{text}\""))?;
    let (num, per) = s
        .split_once('/')
        .ok_or_else(|| format!("expected {example}, found \"{text}\""))?;
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("expected {example}, found \"{text}\""))?;
    if v < 0.0 || !v.is_finite() {
        return Err(format!("a price can't be negative: \"{text}\""));
    }
    match per.trim() {
        "h" | "hour" | "hr" => Ok(v),
        "month" | "mo" => Ok(v / HOURS_PER_MONTH),
        "s" => Ok(v * 3600.0),
        other => Err(format!(
            "unknown price period \"/{other}\" in \"{text}\"; use /h or /month"
        )),
    }
}

/// Parses `"$3.50"` into dollars.
pub fn parse_dollars(text: &str) -> Result<f64, String> {
    let example = "an amount like \"$3.50\" or \"$0.0001\"";
    let v: f64 = text
        .trim()
        .strip_prefix('$')
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("expected {example}, found \"{text}\""))?;
    if v < 0.0 || !v.is_finite() || v > 1e9 {
        return Err(format!(
            "an amount must be between $0 and $1000000000: \"{text}\""
        ));
    }
    Ok(v)
}

/// Parses `"0.1%"` or `"0.001"` into a fraction in [0, 1].
pub fn parse_fraction_str(text: &str) -> Result<f64, String> {
    let s = text.trim();
    let v = if let Some(p) = s.strip_suffix('%') {
        let p = p.trim();
        let x = p
            .parse::<f64>()
            .map_err(|_| format!("expected a percentage like \"0.1%\", found \"{text}\""))?;
        // The decimal shifted two places and read once ("99.9e-2", exactly what "0.999" reads
        // as): dividing the already rounded 99.9 by 100 rounds twice and gives
        // 0.9990000000000001, which "availability >= 99.9%" would then miss at exactly 99.9 %.
        if p.contains(['e', 'E']) || !x.is_finite() {
            x / 100.0
        } else {
            format!("{p}e-2").parse::<f64>().unwrap_or(x / 100.0)
        }
    } else {
        s.parse::<f64>()
            .map_err(|_| format!("expected a fraction like 0.001 or \"0.1%\", found \"{text}\""))?
    };
    check_fraction(v)
}

fn check_fraction(v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "expected a fraction between 0 and 1 (or 0% and 100%), found {}",
            super::error::number(v)
        ))
    }
}

macro_rules! string_unit {
    ($ty:ident, $parse:ident, $inner:ty, $what:expr, $fmt:expr) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$ty, E> {
                        $parse(s).map($ty).map_err(E::custom)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                        if v == 0 {
                            Ok($ty(Default::default()))
                        } else {
                            Err(E::custom(format!(
                                "a bare number ({v}) has no unit; expected {}",
                                $what
                            )))
                        }
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                        self.visit_i64(v as i64)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                        Err(E::custom(format!(
                            "a bare number ({}) has no unit; expected {}",
                            $crate::scenario::error::number(v),
                            $what
                        )))
                    }
                }
                d.deserialize_any(V)
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let f: fn(&$inner) -> String = $fmt;
                s.serialize_str(&f(&self.0))
            }
        }
    };
}

string_unit!(
    Duration,
    parse_duration,
    Time,
    "a duration with a unit, like \"150ms\" or \"2h\"",
    |t| { format_duration(*t) }
);
string_unit!(
    Bytes,
    parse_bytes,
    u64,
    "a size with a unit, like \"512MiB\" or \"1.5GiB\"",
    |b| { format_bytes(*b) }
);
string_unit!(
    Rate,
    parse_rate,
    f64,
    "a rate like \"100/s\" or \"6000/min\"",
    |r| format!("{r}/s")
);
string_unit!(
    Dollars,
    parse_dollars,
    f64,
    "an amount like \"$3.50\"",
    |p| format!("${p}")
);
string_unit!(
    Price,
    parse_price,
    f64,
    "a price like \"$0.096/h\"",
    |p| format!("${p}/h")
);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fraction;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fraction like 0.001 or \"0.1%\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Fraction, E> {
                parse_fraction_str(s).map(Fraction).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Fraction, E> {
                check_fraction(v).map(Fraction).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fraction, E> {
                check_fraction(v as f64).map(Fraction).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fraction, E> {
                check_fraction(v as f64).map(Fraction).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Fraction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// Formats nanoseconds back into the shortest exact unit form (`"1h30m"`, `"150ms"`).
pub fn format_duration(t: Time) -> String {
    if t == 0 {
        return "0s".into();
    }
    for (unit, scale) in [
        ("d", 24 * HOUR),
        ("h", HOUR),
        ("m", MIN),
        ("s", SEC),
        ("ms", MS),
        ("us", US),
    ] {
        if t % scale == 0 {
            return format!("{}{unit}", t / scale);
        }
    }
    format!("{t}ns")
}

/// Formats bytes in the largest binary unit that divides them exactly.
pub fn format_bytes(b: u64) -> String {
    for (unit, scale) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if b >= scale && b % scale == 0 {
            return format!("{}{unit}", b / scale);
        }
    }
    format!("{b}B")
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&format_duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("150ms"), Ok(150 * MS));
        assert_eq!(parse_duration("2h"), Ok(2 * HOUR));
        assert_eq!(parse_duration("1h30m"), Ok(90 * MIN));
        assert_eq!(parse_duration("1.5s"), Ok(1_500 * MS));
        assert_eq!(parse_duration("250us"), Ok(250 * US));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration(" 2 m "), Ok(2 * MIN));
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(parse_duration("10 parsecs")
            .unwrap_err()
            .contains("unknown time unit"));
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("1e30h").is_err());
    }

    #[test]
    fn duration_format_round_trips() {
        for t in [
            0,
            1,
            999,
            MS,
            150 * MS,
            SEC,
            90 * MIN,
            2 * HOUR,
            3 * 24 * HOUR,
        ] {
            assert_eq!(parse_duration(&format_duration(t)), Ok(t));
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("0B"), Ok(0));
        assert!(parse_bytes("12").is_err());
        assert!(parse_bytes("12 parsecs").is_err());
        assert_eq!(format_bytes(3 << 29), "1536MiB");
    }

    #[test]
    fn rates_prices_fractions() {
        assert_eq!(parse_rate("100/s"), Ok(100.0));
        assert_eq!(parse_rate("6000/min"), Ok(100.0));
        assert_eq!(parse_rate("1_000/s"), Ok(1000.0));
        assert!(parse_rate("100").is_err());
        assert_eq!(parse_price("$0.096/h"), Ok(0.096));
        assert_eq!(parse_price("$73/month"), Ok(0.1));
        assert!(parse_price("0.096/h").is_err());
        assert_eq!(parse_fraction_str("0.1%"), Ok(0.001));
        assert_eq!(parse_fraction_str("0.25"), Ok(0.25));
        assert!(parse_fraction_str("150%").is_err());
    }
}
