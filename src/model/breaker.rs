//! A circuit breaker on a call (`calls.to[].breaker = { failures = 5, within = "10s",
//! open_for = "30s", probes = 1 }`): after enough failed calls to a target, stop calling it for a
//! while and fail at once, so a sick dependency gets no more work and its callers' workers are not
//! tied up waiting for it.
//!
//! ```text
//!            `failures` failed calls within `within`
//!   closed ──────────────────────────────────────────▶ open ── calls fail at once (503, or the
//!     ▲                                                 │ ▲     call's fallback), unsent
//!     │ `probes` probes succeed        after `open_for` │ │ a probe fails
//!     └─────────────────────────── half-open ◀──────────┘ │
//!                                  lets `probes` calls ───┘
//!                                  through, fails the rest
//! ```
//!
//! Count-based over a time window: the breaker opens when the `failures`-th most recent failure
//! is less than `within` old (successes in between do not reset the count; a failure-rate variant,
//! as Hystrix's and resilience4j's, would need the successes too, and is not modelled). Only calls
//! sent since the breaker entered its current state count: while open nothing is sent, and the
//! late answers of calls sent before it opened are ignored; in half-open only the probes count.
//! Every non-ok outcome of a call is a failure (its timeout, a refusal, a 5xx, a 503, a 429).
//! Open → half-open happens at the first call after `open_for`, not on a timer: no event.
//!
//! One breaker per calling component and target: calls to the same target that declare a breaker
//! share it (and must declare the same settings); each instance of a fleet has its own, as each
//! process of a real service does. Deterministic: it reads only the simulated clock.
//!
//! Defaults (docs/semantics.md §13):
//! - `failures = 5`: Envoy's outlier detection ejects a host after 5 consecutive 5xx
//!   (`consecutive_5xx`, default 5; envoyproxy.io, config.cluster.v3.OutlierDetection);
//! - `within = "10s"`: Hystrix's rolling statistical window (`metrics.rollingStats.
//!   timeInMilliseconds`, default 10000; github.com/Netflix/Hystrix/wiki/Configuration), also
//!   Envoy's outlier detection `interval` (default 10 s);
//! - `open_for = "30s"`: Envoy's `base_ejection_time` (default 30 s); Hystrix sleeps 5 s,
//!   resilience4j waits 60 s (`waitDurationInOpenState`), so 30 s is between them;
//! - `probes = 1`: Hystrix lets a single test request through when half-open (resilience4j's
//!   `permittedNumberOfCallsInHalfOpenState` defaults to 10).

use crate::engine::time::{Time, SEC};
use crate::scenario::error::Seg;
use crate::scenario::units::Duration;
use crate::scenario::validate::{at_key, Checker};
use std::collections::VecDeque;

/// Default failures that open a breaker: 5 (Envoy outlier detection's `consecutive_5xx`).
pub const DEFAULT_FAILURES: u32 = 5;
/// Default window those failures must fall in: 10 s (Hystrix's rolling window).
pub const DEFAULT_WITHIN: Time = 10 * SEC;
/// Default time a breaker stays open: 30 s (Envoy's `base_ejection_time`).
pub const DEFAULT_OPEN_FOR: Time = 30 * SEC;
/// Default probes let through when half-open: 1 (Hystrix's single test request).
pub const DEFAULT_PROBES: u32 = 1;
/// Most failures or probes a breaker can be set to count.
pub const MAX_COUNT: u32 = 10_000;

/// `breaker = { failures = 5, within = "10s", open_for = "30s", probes = 1 }` on a call.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerConfig {
    /// Failed calls that open the breaker when they fall within `within`. Default 5 (Envoy's
    /// outlier detection, consecutive 5xx).
    pub failures: Option<u32>,
    /// The window those failures must fall in. Default 10s (Hystrix's rolling window).
    pub within: Option<Duration>,
    /// How long the breaker stays open (calls fail at once) before it lets probes through.
    /// Default 30s (Envoy's base ejection time).
    pub open_for: Option<Duration>,
    /// Calls let through when half-open; all must succeed to close it, one failure re-opens it.
    /// Default 1 (Hystrix's single test request).
    pub probes: Option<u32>,
}

/// A breaker after checking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakerSpec {
    /// The target's name (for the timeline).
    pub target: String,
    /// Failures that open it.
    pub failures: u32,
    /// Within this long.
    pub within: Time,
    /// Open this long.
    pub open_for: Time,
    /// Probes when half-open.
    pub probes: u32,
}

/// Checks a call's breaker at `path` (`...to[j].breaker`); `timeout` is the call's.
pub fn check(
    c: &mut Checker,
    path: &[Seg],
    target: &str,
    cfg: &BreakerConfig,
    timeout: Option<Time>,
) -> BreakerSpec {
    let count = |c: &mut Checker, key: &str, v: Option<u32>, default: u32, what: &str| {
        let n = v.unwrap_or(default);
        if !(1..=MAX_COUNT).contains(&n) {
            c.err(
                &at_key(path, key),
                format!("{what} must be between 1 and {MAX_COUNT}, found {n}"),
                None,
            );
        }
        n.clamp(1, MAX_COUNT)
    };
    let failures = count(c, "failures", cfg.failures, DEFAULT_FAILURES, "failures");
    let probes = count(c, "probes", cfg.probes, DEFAULT_PROBES, "probes");
    let mut positive = |key: &str, v: Option<Duration>, default: Time| {
        let t = v.map_or(default, |d| d.0);
        if t == 0 {
            c.err(
                &at_key(path, key),
                format!("`{key}` must be more than zero"),
                Some(format!(
                    "leave it out for the default, {}",
                    Duration(default)
                )),
            );
        }
        t.max(1)
    };
    let within = positive("within", cfg.within, DEFAULT_WITHIN);
    let open_for = positive("open_for", cfg.open_for, DEFAULT_OPEN_FOR);
    if timeout.is_none() {
        c.err(
            path,
            format!("a breaker needs the call to \"{target}\" to have a timeout"),
            Some(
                "without one a call to a hung target never fails, so the breaker would never \
                 open (or never leave half-open); e.g. timeout = \"1s\""
                    .into(),
            ),
        );
    }
    BreakerSpec {
        target: target.to_string(),
        failures,
        within,
        open_for,
        probes,
    }
}

/// Where a breaker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Calls are sent; failures are counted.
    Closed,
    /// Calls fail at once until `until`.
    Open {
        /// When it lets probes through.
        until: Time,
    },
    /// `sent` of the probes are out; `ok` of them succeeded.
    HalfOpen {
        /// Probes sent.
        sent: u32,
        /// Probes that succeeded.
        ok: u32,
    },
}

/// A change of state, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Closed → open.
    Opened,
    /// Open → half-open.
    HalfOpen,
    /// Half-open → closed.
    Closed,
    /// Half-open → open: a probe failed.
    Reopened,
}

/// One breaker's state.
#[derive(Clone, Debug)]
pub struct Breaker {
    /// Its settings.
    pub spec: BreakerSpec,
    state: State,
    /// When it entered its state: calls sent before are not counted.
    since: Time,
    /// Closed: times of the most recent failures (at most `failures`), oldest first.
    recent: VecDeque<Time>,
    /// Times it opened (re-openings included).
    pub opened: u64,
    /// Calls failed at once without being sent.
    pub short_circuited: u64,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(spec: BreakerSpec) -> Self {
        Self {
            recent: VecDeque::with_capacity(spec.failures.min(64) as usize),
            spec,
            state: State::Closed,
            since: 0,
            opened: 0,
            short_circuited: 0,
        }
    }

    /// Its state.
    pub fn state(&self) -> State {
        self.state
    }

    /// A call is about to be made at `now`: may it be sent? Counts a refusal; says if the state
    /// changed (open → half-open).
    #[inline]
    pub fn admit(&mut self, now: Time) -> (bool, Option<Change>) {
        let mut change = None;
        if let State::Open { until } = self.state {
            if now < until {
                self.short_circuited += 1;
                return (false, None);
            }
            self.state = State::HalfOpen { sent: 0, ok: 0 };
            self.since = now;
            change = Some(Change::HalfOpen);
        }
        if let State::HalfOpen { sent, ok } = self.state {
            if sent >= self.spec.probes {
                self.short_circuited += 1;
                return (false, change);
            }
            self.state = State::HalfOpen { sent: sent + 1, ok };
        }
        (true, change)
    }

    /// The call sent at `sent_at` ended at `now`, ok or not. Says if the state changed.
    #[inline]
    pub fn record(&mut self, now: Time, sent_at: Time, ok: bool) -> Option<Change> {
        if sent_at < self.since {
            return None; // sent before the breaker entered this state
        }
        match self.state {
            State::Open { .. } => None,
            State::Closed => {
                if ok {
                    return None;
                }
                if self.recent.len() == self.spec.failures as usize {
                    self.recent.pop_front();
                }
                self.recent.push_back(now);
                let full = self.recent.len() == self.spec.failures as usize;
                if full && now - self.recent[0] < self.spec.within {
                    self.open(now);
                    Some(Change::Opened)
                } else {
                    None
                }
            }
            State::HalfOpen { sent, ok: good } => {
                if !ok {
                    self.open(now);
                    return Some(Change::Reopened);
                }
                if good + 1 >= self.spec.probes {
                    self.state = State::Closed;
                    self.since = now;
                    self.recent.clear();
                    Some(Change::Closed)
                } else {
                    self.state = State::HalfOpen { sent, ok: good + 1 };
                    None
                }
            }
        }
    }

    fn open(&mut self, now: Time) {
        self.state = State::Open {
            until: now.saturating_add(self.spec.open_for),
        };
        self.since = now;
        self.recent.clear();
        self.opened += 1;
    }

    /// A change in words, for the timeline.
    pub fn describe(&self, change: Change) -> String {
        let s = &self.spec;
        let t = &s.target;
        let probes = if s.probes == 1 {
            "1 probe".to_string()
        } else {
            format!("{} probes", s.probes)
        };
        match change {
            Change::Opened => format!(
                "breaker to {t} opened: {} failed calls within {}; calls fail at once for {}",
                s.failures,
                Duration(s.within),
                Duration(s.open_for)
            ),
            Change::HalfOpen => format!("breaker to {t} half-open: lets {probes} through"),
            Change::Closed => format!("breaker to {t} closed: {probes} succeeded"),
            Change::Reopened => format!(
                "breaker to {t} re-opened: a probe failed; calls fail at once for {}",
                Duration(s.open_for)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MS;

    fn breaker(failures: u32, within: Time, open_for: Time, probes: u32) -> Breaker {
        Breaker::new(BreakerSpec {
            target: "db".into(),
            failures,
            within,
            open_for,
            probes,
        })
    }

    /// What a scripted call does: sent at `sent`, ended at `end`, ok or not.
    fn call(b: &mut Breaker, sent: Time, end: Time, ok: bool) -> (bool, Vec<Change>) {
        let (admitted, c) = b.admit(sent);
        let mut changes: Vec<Change> = c.into_iter().collect();
        if admitted {
            changes.extend(b.record(end, sent, ok));
        }
        (admitted, changes)
    }

    #[test]
    fn the_defaults_open_after_five_failures_in_ten_seconds_for_thirty() {
        let mut b = breaker(5, 10 * SEC, 30 * SEC, 1);
        // Four failures at 0, 1, 2, 3 s and successes between: still closed.
        for s in 0..4 {
            assert_eq!(call(&mut b, s * SEC, s * SEC + MS, false), (true, vec![]));
            assert_eq!(
                call(&mut b, s * SEC + 500 * MS, s * SEC + 501 * MS, true).1,
                vec![]
            );
        }
        assert_eq!(b.state(), State::Closed);
        // The fifth at 9.999 s: the first (0.001 s) is 9.998 s old, within 10 s: open until 39.999 s.
        assert_eq!(
            call(&mut b, 9_998 * MS, 9_999 * MS, false),
            (true, vec![Change::Opened])
        );
        assert_eq!(b.state(), State::Open { until: 39_999 * MS });
        // While open, calls fail at once, unsent.
        assert_eq!(call(&mut b, 20 * SEC, 20 * SEC, true), (false, vec![]));
        assert_eq!(call(&mut b, 39_998 * MS, 0, true), (false, vec![]));
        assert_eq!(b.short_circuited, 2);
        // At 39.999 s the first call is the probe; a second call while it is out fails at once.
        let (admitted, changes) = b.admit(39_999 * MS);
        assert!(admitted);
        assert_eq!(changes, Some(Change::HalfOpen));
        assert_eq!(b.admit(40 * SEC), (false, None));
        // The probe succeeds: closed.
        assert_eq!(
            b.record(40_050 * MS, 39_999 * MS, true),
            Some(Change::Closed)
        );
        assert_eq!(b.state(), State::Closed);
        assert_eq!((b.opened, b.short_circuited), (1, 3));
    }

    #[test]
    fn failures_spread_wider_than_the_window_do_not_open_it() {
        let mut b = breaker(3, 10 * SEC, 30 * SEC, 1);
        // Failures at 0, 6, 12, 18 s: any three span 12 s, more than 10 s.
        for s in [0, 6, 12, 18] {
            assert_eq!(call(&mut b, s * SEC, s * SEC, false), (true, vec![]));
        }
        // One more at 20 s: 12, 18, 20 span 8 s.
        assert_eq!(
            call(&mut b, 20 * SEC, 20 * SEC, false),
            (true, vec![Change::Opened])
        );
    }

    #[test]
    fn a_failed_probe_reopens_and_late_answers_are_ignored() {
        let mut b = breaker(2, 10 * SEC, 5 * SEC, 2);
        // Two calls sent at 0 and 0.1 s fail at 1 and 1.1 s: open at 1.1 s until 6.1 s. A third
        // call sent at 0.5 s (before it opened) fails at 2 s: ignored.
        assert!(b.admit(0).0 && b.admit(100 * MS).0 && b.admit(500 * MS).0);
        assert_eq!(b.record(SEC, 0, false), None);
        assert_eq!(b.record(1_100 * MS, 100 * MS, false), Some(Change::Opened));
        assert_eq!(b.record(2 * SEC, 500 * MS, false), None);
        // Half-open at 7 s: two probes, a third call refused. One succeeds, one fails: re-open
        // at 7.3 s until 12.3 s.
        assert_eq!(b.admit(7 * SEC), (true, Some(Change::HalfOpen)));
        assert_eq!(b.admit(7 * SEC), (true, None));
        assert_eq!(b.admit(7 * SEC), (false, None));
        assert_eq!(b.record(7_200 * MS, 7 * SEC, true), None);
        assert_eq!(b.record(7_300 * MS, 7 * SEC, false), Some(Change::Reopened));
        assert_eq!(b.state(), State::Open { until: 12_300 * MS });
        // Both probes at 12.3 s succeed: closed only after the second.
        assert_eq!(b.admit(12_300 * MS), (true, Some(Change::HalfOpen)));
        assert_eq!(b.admit(12_300 * MS), (true, None));
        assert_eq!(b.record(12_400 * MS, 12_300 * MS, true), None);
        assert_eq!(
            b.record(12_500 * MS, 12_300 * MS, true),
            Some(Change::Closed)
        );
        // The failure count starts afresh: one failure does not re-open it.
        assert_eq!(call(&mut b, 13 * SEC, 13 * SEC, false), (true, vec![]));
        assert_eq!(b.opened, 2);
    }

    #[test]
    fn changes_read_in_words() {
        let b = breaker(5, 10 * SEC, 30 * SEC, 1);
        assert_eq!(
            b.describe(Change::Opened),
            "breaker to db opened: 5 failed calls within 10s; calls fail at once for 30s"
        );
        assert_eq!(
            b.describe(Change::HalfOpen),
            "breaker to db half-open: lets 1 probe through"
        );
        assert_eq!(
            b.describe(Change::Closed),
            "breaker to db closed: 1 probe succeeded"
        );
    }
}
