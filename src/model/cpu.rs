//! A processor-shared CPU: up to `workers` jobs run at once and share `vcpus` — each at full speed
//! while there are no more of them than vCPUs, at `vcpus / n` speed beyond. A server embeds one;
//! so will a database instance, a worker pool and a cache node.
//!
//! Two representations of the same model. **Shared** mode simulates processor sharing exactly
//! with a virtual clock: a job finishes when the work done per job since it started reaches its
//! demand, and only the earliest finish is on the event queue (one timer for the CPU). **Direct**
//! mode applies when no more jobs can run than there are vCPUs (`workers ≤ vcpus`) and the CPU is
//! not hung: every job runs at one constant speed, so its finish time is known when it starts and
//! it gets its own completion timer (no virtual clock, no job heap). A change of pace (slow, hang,
//! recover) re-times the jobs in service and switches mode. Unit tests in `server.rs` check both
//! modes give identical answer times.
//!
//! Completion timers are `Timer::Pair(code, epoch, slot)`: the owner passes its own code, and
//! hands the timer back to [`Cpu::take_done`]. An epoch that no longer matches (a crash or a
//! re-timing since) marks a stale timer.

use super::request::ReqId;
use super::{Code, Ctx, Timer};
use crate::engine::time::{ceil_ns, Time};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A job in service.
#[derive(Clone, Copy)]
pub struct Job {
    /// Shared mode: the f64 bits of the virtual finish time (positive floats order like their
    /// bits). Direct mode: the finish time itself, ns.
    finish: u64,
    seq: u64,
    /// When the request arrived at its owner (it may have waited for a worker).
    pub arrived: Time,
    /// When it started running.
    pub started: Time,
    /// The request.
    pub req: ReqId,
}

// Jobs order by virtual finish, ties by start order; `seq` is unique, so nothing else is compared.
impl PartialEq for Job {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl Eq for Job {}
impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Job {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.finish, self.seq).cmp(&(other.finish, other.seq))
    }
}

/// What a completion timer brought.
pub enum Done {
    /// A stale timer: nothing finished.
    Stale,
    /// Direct mode: this job finished.
    One(Job),
    /// Shared mode: jobs may have finished; take them with [`Cpu::pop_finished`], then call
    /// [`Cpu::reschedule`].
    Shared,
}

/// A processor-shared CPU.
pub struct Cpu {
    /// The owner's completion timer code.
    code: Code,
    vcpus: u32,
    workers: u32,
    /// Workers held by requests waiting for calls ([`Cpu::hold`]).
    held: u32,
    hung: bool,
    speed: f64,
    /// `speed == 1.0`, kept apart (with the division out of line in [`slowed`]): tested as
    /// `speed == 1.0` the compiler folds the branch into the division (x / 1.0 is x), and a
    /// division's latency then sits on every job's path.
    full_speed: bool,
    /// Direct mode (see the module docs): jobs have their own timers and live in `slots`.
    direct: bool,
    /// Off only in tests that check both modes give the same answers.
    pub(crate) direct_allowed: bool,
    /// Shared mode: jobs in service, earliest virtual finish first.
    active: BinaryHeap<Reverse<Job>>,
    /// Direct mode: jobs in service by slot (a slot's index is in its timer), and free slots.
    slots: Vec<Option<Job>>,
    free_slots: Vec<u32>,
    running: usize,
    seq: u64,
    /// Shared mode: work done per job since time zero (the virtual clock).
    v: f64,
    epoch: u32,
    next_at: Option<Time>,
    /// While finished jobs are taken after a shared-mode timer: how far past the virtual clock
    /// a finish may be and still count as reached (one ns of work at the rate when it fired).
    slack: f64,
}

/// `demand / speed`, out of line so that the compiler cannot hoist the division onto the
/// full-speed path.
#[cold]
#[inline(never)]
fn slowed(demand: f64, speed: f64) -> f64 {
    demand / speed
}

impl Cpu {
    /// An idle CPU of `vcpus` with `workers`; its completion timers use `code`.
    pub fn new(vcpus: u32, workers: u32, code: Code) -> Self {
        Self {
            code,
            vcpus,
            workers,
            held: 0,
            hung: false,
            speed: 1.0,
            full_speed: true,
            direct: workers <= vcpus,
            direct_allowed: true,
            active: BinaryHeap::with_capacity(workers.min(4096) as usize),
            slots: Vec::new(),
            free_slots: Vec::new(),
            running: 0,
            seq: 0,
            v: 0.0,
            epoch: 0,
            next_at: None,
            slack: 0.0,
        }
    }

    /// Jobs in service.
    #[inline]
    pub fn in_service(&self) -> usize {
        if self.direct {
            self.running
        } else {
            self.active.len()
        }
    }

    /// True if another job can start (a worker is free: neither running a job nor held by a
    /// request waiting for its calls).
    #[inline]
    pub fn has_room(&self) -> bool {
        self.in_service() + (self.held as usize) < self.workers as usize
    }

    /// A request whose job finished keeps its worker while it waits for its calls (a thread
    /// blocked on a downstream answer): the worker runs nothing and uses no vCPU.
    #[inline]
    pub fn hold(&mut self) {
        self.held += 1;
    }

    /// A held worker is free again.
    #[inline]
    pub fn release(&mut self) {
        debug_assert!(self.held > 0, "released a worker nobody held");
        self.held = self.held.saturating_sub(1);
    }

    /// Workers held by requests waiting for their calls.
    #[inline]
    pub fn held(&self) -> u32 {
        self.held
    }

    /// Every held worker is free (the process crashed).
    pub fn release_all(&mut self) {
        self.held = 0;
    }

    /// The vCPUs.
    pub fn vcpus(&self) -> u32 {
        self.vcpus
    }

    /// Hung: accepting work but doing none.
    pub fn is_hung(&self) -> bool {
        self.hung
    }

    /// Relative speed (1 = normal).
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// vCPUs busy now (0 while hung).
    #[inline]
    pub fn busy(&self) -> u32 {
        if self.hung {
            0
        } else {
            self.in_service().min(self.vcpus as usize) as u32
        }
    }

    /// Speed of each of `n` jobs in service.
    #[inline]
    fn rate(&self, n: usize) -> f64 {
        if n == 0 || self.hung {
            0.0
        } else if n as u32 <= self.vcpus {
            self.speed
        } else {
            self.speed * f64::from(self.vcpus) / n as f64
        }
    }

    /// Moves the virtual clock on by `dt` ns (as a float); call before anything changes.
    #[inline(always)]
    pub fn advance(&mut self, dt: f64) {
        if !self.direct {
            self.v += dt * self.rate(self.in_service());
        }
    }

    /// True when every job in service runs at one constant speed: direct mode applies.
    #[inline]
    fn direct_fits(&self) -> bool {
        self.workers <= self.vcpus && !self.hung && self.direct_allowed
    }

    /// Re-evaluates the mode (call only with nothing in service).
    pub fn refit(&mut self) {
        self.direct = self.direct_fits();
    }

    /// Changes the vCPUs (a resize; call only with nothing in service).
    pub fn set_vcpus(&mut self, vcpus: u32) {
        self.vcpus = vcpus;
        self.refit();
    }

    /// Starts a job needing `work + extra` whole ns of one vCPU (a sampled service time and the
    /// TLS handshake): the same as [`Cpu::start`] with their sum as a float, but at full speed in
    /// direct mode the finish is the integer sum itself, without going through floats (their sum
    /// is an integer below 2^53 there, which the float path gives back exactly too). Elsewhere
    /// (shared mode, a slowed CPU) the float path runs; it is one call away.
    #[inline(always)]
    pub fn start_ns(&mut self, req: ReqId, arrived: Time, work: Time, extra: Time, ctx: &mut Ctx) {
        const EXACT: Time = 1 << 53;
        if self.direct && self.full_speed && work < EXACT && extra < EXACT - work {
            let now = ctx.now();
            let mut job = self.new_job(req, arrived, now);
            job.finish = now.saturating_add(work + extra);
            ctx.trace_start(req);
            self.place(job, ctx);
        } else {
            self.start(req, arrived, work as f64 + extra as f64, ctx);
        }
    }

    /// Starts a job needing `demand` ns of one vCPU. In shared mode call [`Cpu::reschedule`]
    /// after starting jobs.
    #[inline(always)]
    pub fn start(&mut self, req: ReqId, arrived: Time, demand: f64, ctx: &mut Ctx) {
        let now = ctx.now();
        ctx.trace_start(req);
        let mut job = self.new_job(req, arrived, now);
        if self.direct {
            // (At full speed the division is skipped: it is exact then, and slow.)
            let run = if self.full_speed {
                demand
            } else {
                slowed(demand, self.speed)
            };
            job.finish = now.saturating_add(ceil_ns(run.min(1e19)));
            self.place(job, ctx);
        } else {
            job.finish = (self.v + demand).to_bits();
            self.active.push(Reverse(job));
        }
    }

    /// A job starting `now`, next in start order; its finish is the caller's to set.
    #[inline(always)]
    fn new_job(&mut self, req: ReqId, arrived: Time, now: Time) -> Job {
        self.seq += 1;
        Job {
            finish: 0,
            seq: self.seq,
            arrived,
            started: now,
            req,
        }
    }

    /// Direct mode: puts `job` in a free slot and sets its completion timer.
    #[inline(always)]
    fn place(&mut self, job: Job, ctx: &mut Ctx) {
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.slots[slot as usize] = Some(job);
        self.running += 1;
        ctx.timer_at(job.finish, Timer::Pair(self.code, self.epoch, slot));
    }

    /// Shared mode: keeps one timer pending for the earliest finish (no-op in direct mode).
    #[inline]
    pub fn reschedule(&mut self, ctx: &mut Ctx) {
        if self.direct {
            return;
        }
        let rate = self.rate(self.active.len());
        let next = match self.active.peek() {
            Some(Reverse(job)) if rate > 0.0 => {
                let remaining = (f64::from_bits(job.finish) - self.v).max(0.0);
                Some(
                    ctx.now()
                        .saturating_add(ceil_ns((remaining / rate).min(1e19))),
                )
            }
            _ => None,
        };
        if next != self.next_at {
            self.epoch = self.epoch.wrapping_add(1);
            self.next_at = next;
            if let Some(t) = next {
                ctx.timer_at(t, Timer::Pair(self.code, self.epoch, 0));
            }
        }
    }

    /// A completion timer `(epoch, slot)` fired.
    #[inline(always)]
    pub fn take_done(&mut self, epoch: u32, slot: u32) -> Done {
        if epoch != self.epoch {
            return Done::Stale; // set before a crash or a re-timing
        }
        if self.direct {
            let slot = slot as usize;
            let Some(job) = self.slots.get_mut(slot).and_then(Option::take) else {
                return Done::Stale;
            };
            self.free_slots.push(slot as u32);
            self.running -= 1;
            return Done::One(job);
        }
        self.next_at = None;
        self.slack = self.rate(self.active.len()).max(1e-9);
        Done::Shared
    }

    /// Shared mode, after [`Done::Shared`]: the next job whose virtual finish has been reached
    /// (ties and rounding included), if any.
    #[inline(always)]
    pub fn pop_finished(&mut self) -> Option<Job> {
        match self.active.peek() {
            Some(Reverse(job)) if f64::from_bits(job.finish) <= self.v + self.slack => {
                self.active.pop().map(|Reverse(j)| j)
            }
            _ => None,
        }
    }

    /// Takes every job out of service, in start order, with the work it has left (CPU ns at full
    /// speed), and invalidates their timers. Call after `advance`.
    pub fn drain(&mut self, now: Time) -> Vec<(Job, f64)> {
        let mut jobs: Vec<(Job, f64)> = if self.direct {
            self.free_slots.clear();
            self.running = 0;
            let speed = self.speed;
            self.slots
                .drain(..)
                .flatten()
                .map(|j| (j, j.finish.saturating_sub(now) as f64 * speed))
                .collect()
        } else {
            let v = self.v;
            self.active
                .drain()
                .map(|Reverse(j)| (j, (f64::from_bits(j.finish) - v).max(0.0)))
                .collect()
        };
        jobs.sort_by_key(|(j, _)| j.seq);
        self.epoch = self.epoch.wrapping_add(1);
        self.next_at = None;
        jobs
    }

    /// Puts drained jobs back into service in the mode that now fits, and sets the timers.
    fn resume(&mut self, jobs: Vec<(Job, f64)>, ctx: &mut Ctx) {
        self.direct = self.direct_fits();
        let now = ctx.now();
        for (mut job, remaining) in jobs {
            if self.direct {
                job.finish = now.saturating_add(ceil_ns((remaining / self.speed).min(1e19)));
                self.place(job, ctx);
            } else {
                job.finish = (self.v + remaining).to_bits();
                self.active.push(Reverse(job));
            }
        }
        self.reschedule(ctx);
    }

    /// Changes how fast the CPU runs (`hung`: not at all), re-timing the jobs in service.
    pub fn set_pace(&mut self, hung: bool, speed: f64, ctx: &mut Ctx) {
        let jobs = self.drain(ctx.now());
        self.hung = hung;
        self.speed = speed;
        self.full_speed = speed == 1.0;
        self.resume(jobs, ctx);
    }

    /// Back to normal pace with nothing in service (a new instance).
    pub fn reset_pace(&mut self) {
        self.hung = false;
        self.speed = 1.0;
        self.full_speed = true;
        self.refit();
    }

    /// No longer hung, with nothing in service (a crashed process restarts unhung; a slowdown
    /// stays, as it is the machine's).
    pub fn unhang(&mut self) {
        self.hung = false;
        self.refit();
    }
}
