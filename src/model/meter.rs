//! A meter: the time integrals of one resource (busy vCPUs, available vCPUs, requests held) and
//! its bill (billed time × the price in force), kept since time zero and snapshotted at the
//! warm-up and at every window's end — so counters since warm-up, per-window utilization and
//! cost all come from one set of sums. A server embeds one; so will a database instance, a worker
//! pool and a cache node.

use crate::engine::time::Time;

/// Integrals and bill of one resource.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    /// Time of the last [`Meter::advance`].
    pub last: Time,
    /// ∫ busy vCPUs dt since time zero (vCPU·ns).
    pub busy: f64,
    /// ∫ available vCPUs dt since time zero (vCPU·ns).
    pub capacity: f64,
    /// ∫ requests held dt since time zero (request·ns).
    pub held: f64,
    /// Billed time at the current price (ns).
    billed_ns: u64,
    /// Dollars billed at earlier prices.
    banked: f64,
    /// $/hour now.
    price: f64,
    /// The integrals and cost at the last reset.
    at_reset: [f64; 4],
    /// busy and capacity at the window's start.
    at_window: [f64; 2],
}

/// What a meter counted since its last reset.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SinceReset {
    /// ∫ busy vCPUs dt (vCPU·ns).
    pub busy: f64,
    /// ∫ available vCPUs dt (vCPU·ns).
    pub capacity: f64,
    /// ∫ requests held dt (request·ns).
    pub held: f64,
    /// Dollars.
    pub cost: f64,
}

impl Meter {
    /// A meter at time zero, billing `price` $/hour while billed.
    pub fn new(price: f64) -> Self {
        Self {
            price,
            ..Self::default()
        }
    }

    /// Adds `dt` ns at the given rates — `busy` and `capacity` vCPUs (only while `up`), `held`
    /// requests — and bills it if `billed`; then stands at `now`. `dt` is `now - last`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub fn advance(
        &mut self,
        now: Time,
        dt: Time,
        up: bool,
        busy: Option<f64>,
        capacity: f64,
        held: f64,
        billed: bool,
    ) {
        if dt > 0 {
            // Through i64: one instruction (u64 → f64 needs a branch); times stay below 2^63.
            let dt_f = dt as i64 as f64;
            if up {
                if let Some(b) = busy {
                    self.busy += dt_f * b;
                }
                self.capacity += dt_f * capacity;
            }
            self.held += dt_f * held;
            if billed {
                self.billed_ns += dt;
            }
        }
        self.last = now;
    }

    /// Dollars billed since time zero, as of the last advance.
    #[inline]
    pub fn cost(&self) -> f64 {
        self.banked + self.price * self.billed_ns as f64 / 3.6e12
    }

    /// Changes the hourly price from now on (call after `advance`).
    pub fn set_price(&mut self, price: f64) {
        self.banked = self.cost();
        self.billed_ns = 0;
        self.price = price;
    }

    /// What was counted since the last reset.
    pub fn since_reset(&self) -> SinceReset {
        let [busy, capacity, held, cost] = self.at_reset;
        SinceReset {
            busy: self.busy - busy,
            capacity: self.capacity - capacity,
            held: self.held - held,
            cost: self.cost() - cost,
        }
    }

    /// Starts counting anew (at the end of the warm-up).
    pub fn reset(&mut self) {
        self.at_reset = [self.busy, self.capacity, self.held, self.cost()];
    }

    /// Busy and available vCPU·ns since the last call; starts a new window.
    pub fn window(&mut self) -> (f64, f64) {
        let out = (
            self.busy - self.at_window[0],
            self.capacity - self.at_window[1],
        );
        self.at_window = [self.busy, self.capacity];
        out
    }
}

/// A bill by the unit — per request (a gateway), per call (a third party): the units since time
/// zero and the count at the warm-up, so the measured period's bill is exact.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PerUse {
    price: f64,
    total: u64,
    at_warmup: u64,
}

impl PerUse {
    /// Nothing used yet, at `price` dollars a unit.
    pub fn new(price: f64) -> Self {
        Self {
            price,
            total: 0,
            at_warmup: 0,
        }
    }

    /// One more unit used.
    #[inline]
    pub fn add(&mut self) {
        self.total += 1;
    }

    /// The warm-up ended: the measured bill starts here.
    pub fn reset(&mut self) {
        self.at_warmup = self.total;
    }

    /// Dollars since time zero.
    pub fn billed(&self) -> f64 {
        self.total as f64 * self.price
    }

    /// Dollars since the warm-up.
    pub fn measured(&self) -> f64 {
        (self.total - self.at_warmup) as f64 * self.price
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::SEC;

    #[test]
    fn integrals_windows_and_the_bill() {
        // 2 vCPUs available, 1 busy, 3 held, for 10 s at $3.6/h (0.1 ¢/s); then 10 s down
        // (not available, still billed) at $7.2/h.
        let mut m = Meter::new(3.6);
        m.advance(10 * SEC, 10 * SEC, true, Some(1.0), 2.0, 3.0, true);
        assert_eq!(m.busy, 10e9);
        assert_eq!(m.capacity, 20e9);
        assert_eq!(m.held, 30e9);
        assert!((m.cost() - 0.01).abs() < 1e-12, "10 s at $3.6/h = $0.01");
        m.reset();
        m.set_price(7.2);
        let now = 20 * SEC;
        m.advance(now, now - m.last, false, Some(1.0), 2.0, 0.0, true);
        let s = m.since_reset();
        assert_eq!(
            (s.busy, s.capacity, s.held),
            (0.0, 0.0, 0.0),
            "down: nothing counted"
        );
        assert!((s.cost - 0.02).abs() < 1e-12, "10 s at $7.2/h = $0.02");
        assert!((m.cost() - 0.03).abs() < 1e-12);
        // Windows: the first covers everything so far, the next is empty.
        assert_eq!(m.window(), (10e9, 20e9));
        assert_eq!(m.window(), (0.0, 0.0));
    }
}
