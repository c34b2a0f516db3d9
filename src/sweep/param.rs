//! `--param key=v1,v2,...` and `--param key=A..B:logN` / `A..B:linN`: the values a sweep tries.
//!
//! Each value is written into the scenario exactly as `--set key=value` would write it, so a
//! value is TOML when it parses as TOML (`10`, `0.5`, `"c5.large"`, `{ dist = ... }`) and a string
//! otherwise (`c5.large`, `300/s`, `5ms`). Commas inside braces, brackets or quotes don't split.

use serde::{Deserialize, Serialize};

/// Most values one parameter may take.
pub const MAX_VALUES: usize = 1000;

/// One swept parameter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The key path, as for `--set`.
    pub key: String,
    /// Its values, as text for `--set key=value`.
    pub values: Vec<String>,
}

impl Param {
    /// Parses `key=v1,v2,...` or `key=A..B:logN` / `key=A..B:linN`.
    pub fn parse(raw: &str) -> Result<Param, String> {
        let (key, rest) = raw.split_once('=').ok_or_else(|| {
            format!("`{raw}` is not key=values (e.g. --param workload.users=100,200,400)")
        })?;
        let key = key.trim().to_string();
        // The key path is checked as --set checks it.
        crate::scenario::Override::parse(&format!("{key}=0"))?;
        let rest = rest.trim();
        let values = match range(rest)? {
            Some(v) => v,
            None => split_top_level(rest)
                .into_iter()
                .map(|v| v.trim().to_string())
                .collect(),
        };
        if values.is_empty() || values.iter().any(String::is_empty) {
            return Err(format!(
                "`{raw}` has an empty value; write values separated by commas, e.g. {key}=1,2,4"
            ));
        }
        if values.len() > MAX_VALUES {
            return Err(format!(
                "`{key}` takes {} values; at most {MAX_VALUES} are allowed",
                values.len()
            ));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(format!("`{key}` lists the value {v} twice"));
            }
            crate::scenario::Override::parse(&format!("{key}={v}"))?;
        }
        Ok(Param { key, values })
    }

    /// The values as numbers, when every one is a number (a unit suffix shared by all, such as
    /// `ms` or `/s`, is allowed): for a chart's x axis.
    pub fn numeric(&self) -> Option<Vec<f64>> {
        let mut suffix: Option<&str> = None;
        self.values
            .iter()
            .map(|v| {
                let v = v.trim().trim_matches('"');
                let (n, s) = number_prefix(v)?;
                if *suffix.get_or_insert(s) != s {
                    return None;
                }
                Some(n)
            })
            .collect()
    }
}

/// Splits on commas outside quotes, braces and brackets.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{' | '[') => depth += 1,
            (None, '}' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A leading decimal number and what follows it: "300/s" → (300, "/s").
fn number_prefix(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_' || b[i] == b'.') {
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let n: f64 = s[..i].replace('_', "").parse().ok()?;
    n.is_finite().then_some((n, &s[i..]))
}

/// `A..B:logN` or `A..B:linN`, if `s` is one: its N values.
fn range(s: &str) -> Result<Option<Vec<String>>, String> {
    let Some((span, spec)) = s.rsplit_once(':') else {
        return Ok(None);
    };
    let Some((a, b)) = span.split_once("..") else {
        return Ok(None);
    };
    let spec = spec.trim();
    let (log, count) = if let Some(n) = spec.strip_prefix("log") {
        (true, n)
    } else if let Some(n) = spec.strip_prefix("lin") {
        (false, n)
    } else {
        return Err(format!(
            "`{s}`: a range ends in :logN or :linN (N values, log- or evenly spaced), e.g. 10..100000:log5"
        ));
    };
    let n: usize = count.trim().parse().ok().filter(|n| (2..=MAX_VALUES).contains(n)).ok_or_else(|| {
        format!("`{s}`: the number of values after `{}` must be a whole number from 2 to {MAX_VALUES}", if log { "log" } else { "lin" })
    })?;
    fn end<'a>(s: &str, t: &'a str) -> Result<(f64, &'a str), String> {
        number_prefix(t.trim()).ok_or_else(|| {
            format!(
                "`{s}`: `{}` is not a number (with an optional unit, e.g. 10, 2.5, 300/s, 5ms)",
                t.trim()
            )
        })
    }
    let ((lo, unit_a), (hi, unit_b)) = (end(s, a)?, end(s, b)?);
    if unit_a != unit_b {
        return Err(format!(
            "`{s}`: both ends need the same unit (`{unit_a}` and `{unit_b}`)"
        ));
    }
    if lo >= hi {
        return Err(format!(
            "`{s}`: the range must go up: {lo} is not below {hi}"
        ));
    }
    if log && lo <= 0.0 {
        return Err(format!(
            "`{s}`: a log range needs positive ends; use :linN for one from {lo}"
        ));
    }
    let integer = [a, b].iter().all(|t| {
        let t = t.trim();
        let num = &t[..t.len() - unit_a.len()];
        !num.contains(['.', 'e', 'E'])
    });
    let mut values: Vec<String> = Vec::with_capacity(n);
    for i in 0..n {
        let f = i as f64 / (n - 1) as f64;
        let x = if i == 0 {
            lo
        } else if i == n - 1 {
            hi
        } else if log {
            (lo.ln() + f * (hi.ln() - lo.ln())).exp()
        } else {
            lo + f * (hi - lo)
        };
        let text = if integer {
            round_integer(x, log).to_string()
        } else {
            // Six significant digits: 0.30000000000000004 is 0.3.
            let r: f64 = format!("{x:.5e}")
                .parse()
                .expect("a formatted float parses");
            r.to_string()
        };
        let v = format!("{text}{unit_a}");
        if !values.contains(&v) {
            values.push(v);
        }
    }
    Ok(Some(values))
}

/// An integer for a range's point: the nearest one, and on a log range past 1,000 three
/// significant digits (17,783 is 17,800), which is what one would type.
fn round_integer(x: f64, log: bool) -> i64 {
    let r = x.round();
    if !log || r.abs() < 1000.0 {
        return r as i64;
    }
    let digits = r.abs().log10().floor() as i32;
    let unit = 10f64.powi(digits - 2);
    ((x / unit).round() * unit) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(raw: &str) -> Vec<String> {
        Param::parse(raw)
            .unwrap_or_else(|e| panic!("{raw}: {e}"))
            .values
    }

    #[test]
    fn lists_split_on_commas_outside_tables_and_quotes() {
        assert_eq!(values("workload.users=10, 20,40"), ["10", "20", "40"]);
        assert_eq!(
            values("components.web.instance=c5.large,c5.xlarge"),
            ["c5.large", "c5.xlarge"]
        );
        assert_eq!(
            values(r#"components.web.service={ dist = "exponential", mean = "5ms" },"a,b""#),
            [r#"{ dist = "exponential", mean = "5ms" }"#, r#""a,b""#]
        );
    }

    #[test]
    fn ranges_are_log_or_evenly_spaced_and_rounded_for_whole_numbers() {
        assert_eq!(
            values("workload.users=10..100000:log5"),
            ["10", "100", "1000", "10000", "100000"]
        );
        // 1, 3.16, 10, 31.6, 100.
        assert_eq!(values("a=1..100:log5"), ["1", "3", "10", "32", "100"]);
        // 1000 · 30^(1/2) = 5477 → 5480.
        assert_eq!(values("a=1000..30000:log3"), ["1000", "5480", "30000"]);
        assert_eq!(values("a=0..100:lin5"), ["0", "25", "50", "75", "100"]);
        assert_eq!(
            values("a=0.1..0.5:lin5"),
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        assert_eq!(
            values("workload.arrival_rate=100/s..400/s:lin4"),
            ["100/s", "200/s", "300/s", "400/s"]
        );
        // Whole numbers that round together are kept once.
        assert_eq!(values("a=1..3:lin5"), ["1", "2", "3"]);
    }

    #[test]
    fn bad_params_say_what_is_wrong() {
        let err = |raw: &str| Param::parse(raw).expect_err(raw);
        assert!(err("users").contains("key=values"));
        assert!(err("a=1,,2").contains("empty value"));
        assert!(err("a=1,1").contains("twice"));
        assert!(err("a=10..1:log3").contains("must go up"));
        assert!(err("a=0..10:log3").contains("positive"));
        assert!(err("a=1..10:log1").contains("from 2 to"));
        assert!(err("a=1..10:geo3").contains(":logN or :linN"));
        assert!(err("a=1ms..10s:lin3").contains("same unit"));
        assert!(err("a..b=1").contains("empty path segment"));
    }

    #[test]
    fn numeric_values_share_a_unit() {
        let p = |raw: &str| Param::parse(raw).expect("param").numeric();
        assert_eq!(p("a=1,2.5,10"), Some(vec![1.0, 2.5, 10.0]));
        assert_eq!(p("a=100/s,200/s"), Some(vec![100.0, 200.0]));
        assert_eq!(p("a=c5.large,c5.xlarge"), None);
        assert_eq!(p("a=5ms,1s"), None);
    }
}
