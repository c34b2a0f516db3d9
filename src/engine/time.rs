//! Simulated time: `u64` nanoseconds since the start of the run. No floats in the clock.

/// A point in simulated time, or a span of it, in nanoseconds.
pub type Time = u64;

/// One nanosecond.
pub const NS: Time = 1;
/// One microsecond.
pub const US: Time = 1_000;
/// One millisecond.
pub const MS: Time = 1_000_000;
/// One second.
pub const SEC: Time = 1_000_000_000;
/// One minute.
pub const MIN: Time = 60 * SEC;
/// One hour.
pub const HOUR: Time = 60 * MIN;

/// Seconds as a float, for reporting only (never for the clock).
pub fn as_secs_f64(t: Time) -> f64 {
    t as f64 / SEC as f64
}

/// Converts a non-negative number of seconds to integer nanoseconds, rounding to nearest and
/// saturating at `u64::MAX`. Used where a sampled duration enters the clock.
#[inline]
pub fn from_secs_f64(s: f64) -> Time {
    if s.is_nan() || s <= 0.0 {
        0
    } else {
        let ns = s * SEC as f64;
        if ns >= u64::MAX as f64 {
            u64::MAX
        } else {
            round_ns(ns)
        }
    }
}

/// `x` truncated to an integer, if `0 <= x < 2^63` (every duration a run meets: 292 years). The
/// conversions to and from a *signed* integer are single instructions on x86-64; `as u64` and
/// `u64 as f64` need compare-and-adjust sequences.
#[inline(always)]
fn trunc_i64(x: f64) -> Option<i64> {
    if (0.0..9_223_372_036_854_775_808.0).contains(&x) {
        // SAFETY: x is finite and in 0..2^63, so its truncation fits in an i64.
        Some(unsafe { x.to_int_unchecked::<i64>() })
    } else {
        None
    }
}

/// `x.round() as u64` for `0 <= x < 2^64`, exactly (ties away from zero), without a libm call.
///
/// On the baseline x86-64 target `f64::round` and `f64::ceil` are out-of-line library calls (the
/// `roundsd` instruction needs SSE4.1); on a hot path that is measurable. The fractional part
/// `x - trunc(x)` is computed exactly, so the result is bit-for-bit that of `f64::round`.
#[inline]
pub fn round_ns(x: f64) -> Time {
    debug_assert!((0.0..18_446_744_073_709_551_616.0).contains(&x), "{x}");
    match trunc_i64(x) {
        Some(t) => (t + i64::from(x - t as f64 >= 0.5)) as u64,
        None => x.round() as u64,
    }
}

/// `x.ceil() as u64` for `0 <= x < 2^64`, exactly, without a libm call (see [`round_ns`]).
#[inline]
pub fn ceil_ns(x: f64) -> Time {
    debug_assert!((0.0..18_446_744_073_709_551_616.0).contains(&x), "{x}");
    match trunc_i64(x) {
        Some(t) => (t + i64::from((t as f64) < x)) as u64,
        None => x.ceil() as u64,
    }
}

/// Formats a span for humans: `850µs`, `12.3ms`, `4.20s`, `3m20s`, `2h05m`.
pub fn human(t: Time) -> String {
    if t < MS {
        format!("{}µs", t / US)
    } else if t < SEC {
        format!("{:.1}ms", t as f64 / MS as f64)
    } else if t < MIN {
        format!("{:.2}s", t as f64 / SEC as f64)
    } else if t < HOUR {
        format!("{}m{:02}s", t / MIN, (t % MIN) / SEC)
    } else {
        format!("{}h{:02}m", t / HOUR, (t % HOUR) / MIN)
    }
}

/// Formats a clock reading as `h:mm:ss` from the start of the run.
pub fn clock(t: Time) -> String {
    let s = t / SEC;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secs_round_trip_rounds_to_nearest_ns() {
        assert_eq!(from_secs_f64(1.5), 1_500_000_000);
        assert_eq!(from_secs_f64(-3.0), 0);
        assert_eq!(from_secs_f64(f64::NAN), 0);
        assert_eq!(from_secs_f64(1e30), u64::MAX);
        assert_eq!(from_secs_f64(0.000_000_000_4), 0);
        assert_eq!(from_secs_f64(0.000_000_000_6), 1);
    }

    #[test]
    fn round_and_ceil_match_libm() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut cases = vec![
            0.0,
            0.25,
            0.5,
            0.499_999_999_999_999_94,
            1.5,
            2.5,
            4_503_599_627_370_495.5, // 2^52 - 0.5
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1.8e19,
        ];
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Values spread over many binades, with many exact halves.
            let v = (x >> 11) as f64 / (1u64 << (x % 50)) as f64;
            cases.push(v);
            cases.push(v.floor() + 0.5);
        }
        for v in cases {
            assert_eq!(round_ns(v), v.round() as u64, "round {v}");
            assert_eq!(ceil_ns(v), v.ceil() as u64, "ceil {v}");
        }
    }

    #[test]
    fn human_formats() {
        assert_eq!(human(850 * US), "850µs");
        assert_eq!(human(12_300 * US), "12.3ms");
        assert_eq!(human(4_200 * MS), "4.20s");
        assert_eq!(human(200 * SEC), "3m20s");
        assert_eq!(human(2 * HOUR + 5 * MIN), "2h05m");
        assert_eq!(clock(HOUR + 61 * SEC), "1:01:01");
    }
}
