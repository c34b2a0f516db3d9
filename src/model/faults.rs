//! Faults on a timeline: plain verbs (crash, stop, hang, slow, recover) sent to components at
//! scheduled times, with an optional duration after which the component recovers.

use super::{CompId, Control, Ctx, Msg, Timer};
use crate::engine::time::Time;
use crate::scenario::units::Duration;
use serde::{Deserialize, Serialize};

/// One `[[faults]]` entry in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultConfig {
    /// When it happens.
    pub at: Duration,
    /// What happens: "crash", "stop", "hang", "slow" or "recover".
    pub kind: FaultKind,
    /// The component it happens to.
    pub target: String,
    /// For stop/hang/slow: recover after this long. Default: never.
    pub duration: Option<Duration>,
    /// For slow: how many times slower. Required for "slow", > 1.
    pub factor: Option<f64>,
}

/// Fault verbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The process dies; it restarts after the component's restart delay.
    Crash,
    /// The machine stops and stays down (until `duration` passes or a `recover`).
    Stop,
    /// Accepts connections but never answers.
    Hang,
    /// Everything takes `factor` times longer.
    Slow,
    /// Undo a stop, hang or slow.
    Recover,
}

/// A fault after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// When.
    pub at: Time,
    /// Target component index.
    pub target: CompId,
    /// Target name (for the narrative).
    pub target_name: String,
    /// The verb.
    pub control: Control,
}

impl FaultSpec {
    /// Expands a checked config into one or two timeline entries (the fault and its recovery).
    pub fn expand(c: &FaultConfig, target: CompId) -> Vec<FaultSpec> {
        let control = match c.kind {
            FaultKind::Crash => Control::Crash,
            FaultKind::Stop => Control::Stop,
            FaultKind::Hang => Control::Hang,
            FaultKind::Slow => Control::Slow((c.factor.unwrap_or(1.0) * 1000.0).round() as u32),
            FaultKind::Recover => Control::Recover,
        };
        let mut v = vec![FaultSpec {
            at: c.at.0,
            target,
            target_name: c.target.clone(),
            control,
        }];
        if let (Some(d), FaultKind::Stop | FaultKind::Hang | FaultKind::Slow) = (c.duration, c.kind)
        {
            v.push(FaultSpec {
                at: c.at.0.saturating_add(d.0),
                target,
                target_name: c.target.clone(),
                control: Control::Recover,
            });
        }
        v
    }

    /// In words: "crash web".
    pub fn describe(&self) -> String {
        let verb = match self.control {
            Control::Crash => "crash".to_string(),
            Control::Stop => "stop".to_string(),
            Control::Hang => "hang".to_string(),
            Control::Slow(p) => format!("slow {:.1}×", f64::from(p) / 1000.0),
            Control::Recover => "recover".to_string(),
        };
        format!("{verb} {}", self.target_name)
    }
}

/// The fault injector component.
pub struct Faults {
    /// The timeline, sorted by time.
    pub timeline: Vec<FaultSpec>,
}

impl Faults {
    /// Schedules every fault (call once at time zero).
    pub fn start(&mut self, ctx: &mut Ctx) {
        for (i, f) in self.timeline.iter().enumerate() {
            ctx.timer_at(f.at, Timer::Fault(i as u32));
        }
    }

    /// Handles one message.
    pub fn handle(&mut self, msg: Msg, ctx: &mut Ctx) {
        if let Msg::Timer(Timer::Fault(i)) = msg {
            let f = &self.timeline[i as usize];
            ctx.send(f.target, Msg::Control(f.control), 0);
        }
    }
}
