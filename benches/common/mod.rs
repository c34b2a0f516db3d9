//! Helpers shared by the plain-`main` benches: timing (wall and thread CPU), medians, settings.

use std::time::Instant;

/// Wall-clock and thread-CPU seconds of one timed region.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Wall-clock seconds.
    pub wall: f64,
    /// CPU seconds of this thread (NaN where unavailable). On a shared, oversubscribed machine
    /// this is much steadier than wall time: it does not count time spent descheduled.
    pub cpu: f64,
}

/// Runs `f` and times it.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Timing) {
    let c0 = thread_cpu_secs();
    let t0 = Instant::now();
    let out = f();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = thread_cpu_secs() - c0;
    (out, Timing { wall, cpu })
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_secs() -> f64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec with the C layout of 64-bit Linux.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        f64::NAN
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_secs() -> f64 {
    f64::NAN
}

/// The median (the mean of the middle two for an even count). NaNs sort last.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// An integer setting from the environment (underscores allowed), or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}
