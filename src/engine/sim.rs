//! The run loop: `step`, `run_until`, and the [`Scheduler`] a model schedules through.

use super::queue::EventQueue;
use super::time::Time;

/// What an event contributes to the run's fingerprint (the event-stream hash).
pub trait Fingerprint {
    /// A 64-bit digest of the event's contents. Two runs with equal fingerprints at every step
    /// processed the same events in the same order.
    fn fingerprint(&self) -> u64;
}

/// A model: whatever owns the simulated world and reacts to events.
pub trait Model {
    /// The event type the model schedules.
    type Event: Fingerprint;
    /// Handles one event at `sched.now()`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>);
}

/// The pending-event set plus the clock, as seen by a model while it handles an event.
pub struct Scheduler<E> {
    queue: EventQueue<E>,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Scheduler<E> {
    /// A scheduler at time zero with nothing pending.
    pub fn new() -> Self {
        Self {
            queue: EventQueue::new(),
        }
    }

    /// The current simulated time.
    #[inline]
    pub fn now(&self) -> Time {
        self.queue.now()
    }

    /// Schedules `event` at absolute time `at` (clamped to now if in the past).
    #[inline]
    pub fn at(&mut self, at: Time, event: E) {
        self.queue.push(at, event);
    }

    /// Schedules `event` after `delay`.
    #[inline]
    pub fn after(&mut self, delay: Time, event: E) {
        let t = self.queue.now().saturating_add(delay);
        self.queue.push(t, event);
    }

    /// Number of events pending.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

/// Counters kept by the run loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Events handled so far.
    pub events: u64,
    /// Running hash of every handled event's time and fingerprint, in order.
    pub hash: u64,
}

/// Folds one event (its time and fingerprint) into the running event-stream hash: a rotate, two
/// xors and a multiply by an odd constant (FxHash-style). Not cryptographic: it only has to tell
/// two event streams apart, and an event's time and contents both move every later state.
#[inline(always)]
fn fold(hash: u64, t: Time, fingerprint: u64) -> u64 {
    (hash.rotate_left(23) ^ t ^ fingerprint.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A model together with its scheduler and run counters.
pub struct Simulation<M: Model> {
    /// The model being simulated.
    pub model: M,
    /// Its pending events and clock.
    pub sched: Scheduler<M::Event>,
    /// Events handled and the event-stream hash.
    pub stats: RunStats,
}

impl<M: Model> Simulation<M> {
    /// Wraps a model with an empty scheduler.
    pub fn new(model: M) -> Self {
        Self {
            model,
            sched: Scheduler::new(),
            stats: RunStats {
                events: 0,
                hash: 0x243f_6a88_85a3_08d3,
            },
        }
    }

    /// Handles the next event, if any. Returns false when nothing is pending.
    #[inline]
    pub fn step(&mut self) -> bool {
        match self.sched.queue.pop() {
            Some((t, ev)) => {
                self.dispatch(t, ev);
                true
            }
            None => false,
        }
    }

    /// Handles the next event if it is due at or before `until` (as [`Self::run_until`] would).
    /// Returns false, changing nothing, when none is.
    #[inline]
    pub fn step_until(&mut self, until: Time) -> bool {
        match self.sched.queue.pop_until(until) {
            Some((t, ev)) => {
                self.dispatch(t, ev);
                true
            }
            None => false,
        }
    }

    /// Counts, hashes and handles one popped event.
    #[inline(always)]
    fn dispatch(&mut self, t: Time, ev: M::Event) {
        self.stats.events += 1;
        self.stats.hash = fold(self.stats.hash, t, ev.fingerprint());
        self.model.handle(ev, &mut self.sched);
    }

    /// Handles every event due at or before `until`, then leaves the clock at `until`.
    pub fn run_until(&mut self, until: Time) {
        while let Some((t, ev)) = self.sched.queue.pop_until(until) {
            self.dispatch(t, ev);
        }
        self.sched.queue.advance_to(until);
    }

    /// Handles at most `budget` of the events due at or before `until`. Returns true when none
    /// are left (the clock is then at `until`), false when the budget ran out (the clock is at
    /// the last event handled; some may still be due). Callers use it to look at the run between slices.
    pub fn run_until_budget(&mut self, until: Time, budget: u64) -> bool {
        let mut left = budget;
        while left > 0 {
            match self.sched.queue.pop_until(until) {
                Some((t, ev)) => self.dispatch(t, ev),
                None => {
                    self.sched.queue.advance_to(until);
                    return true;
                }
            }
            left -= 1;
        }
        false
    }

    /// The current simulated time.
    pub fn now(&self) -> Time {
        self.sched.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Ping(u64);
    impl Fingerprint for Ping {
        fn fingerprint(&self) -> u64 {
            self.0
        }
    }

    /// A model that reschedules itself `n` times, 10 ns apart.
    struct Counter {
        seen: Vec<Time>,
    }
    impl Model for Counter {
        type Event = Ping;
        fn handle(&mut self, ev: Ping, sched: &mut Scheduler<Ping>) {
            self.seen.push(sched.now());
            if ev.0 > 0 {
                sched.after(10, Ping(ev.0 - 1));
            }
        }
    }

    #[test]
    fn run_until_stops_at_the_deadline_inclusive() {
        let mut sim = Simulation::new(Counter { seen: vec![] });
        sim.sched.at(0, Ping(100));
        sim.run_until(50);
        assert_eq!(sim.model.seen, vec![0, 10, 20, 30, 40, 50]);
        assert_eq!(sim.now(), 50);
        sim.run_until(75);
        assert_eq!(sim.now(), 75);
        assert_eq!(sim.model.seen.len(), 8);
    }

    #[test]
    fn the_hash_depends_on_order_and_content() {
        let run = |start: u64| {
            let mut sim = Simulation::new(Counter { seen: vec![] });
            sim.sched.at(0, Ping(start));
            sim.run_until(1_000);
            sim.stats
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5).hash, run(6).hash);
    }
}
