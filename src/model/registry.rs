//! The control plane every cloud has: target groups (which instances a balancer may send to), the
//! status each instance reports (CloudWatch-style counters), availability-zone outages, and link
//! delays injected by faults.
//!
//! Components still never call each other. Each entry here has exactly one writer — an instance
//! writes its own status, a fleet writes its group's membership and lifecycle, the fault injector
//! writes delays and zone outages — and others only read it, the way an autoscaling group reads
//! CloudWatch and a load balancer reads its target group.

use super::CompId;
use crate::engine::Time;

/// Where an instance is in an autoscaling group's life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lifecycle {
    /// Not launched (a free slot of the group).
    #[default]
    Off,
    /// Launched, booting; not yet registered with balancers.
    Pending,
    /// Registered: balancers may route to it (once their health checks pass).
    InService,
    /// Deregistering: balancers send it nothing new; terminated when idle or after the delay.
    Draining,
}

/// What an instance publishes about itself, and its group's view of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstanceStatus {
    /// Written by the group (or fixed "in service" for a standalone server).
    pub lifecycle: Lifecycle,
    /// Running and able to accept connections (not booting, crashed or stopped). Written by the instance.
    pub up: bool,
    /// Stopped with no automatic restart (machine failure, zone outage). Written by the instance.
    pub stopped: bool,
    /// Requests held now (in service + queued). Written by the instance.
    pub in_flight: u32,
    /// Cumulative busy vCPU·ns as of `as_of`. Written by the instance (a fleet's only), like
    /// the next four fields.
    pub busy_area: f64,
    /// Cumulative available vCPU·ns as of `as_of`.
    pub capacity_area: f64,
    /// Busy vCPUs from `as_of` on (until the instance next reports).
    pub busy_rate: f64,
    /// Available vCPUs from `as_of` on.
    pub capacity_rate: f64,
    /// When the instance last reported.
    pub as_of: Time,
    /// Cumulative requests arrived. Written by the instance.
    pub arrivals: u64,
    /// Availability zone index.
    pub az: u8,
    /// True for server instances (what zone outages and status checks apply to).
    pub instance: bool,
    /// When it was launched.
    pub launched_at: Time,
}

impl InstanceStatus {
    /// Cumulative busy vCPU·ns at `now` (the instance's load has not changed since it reported).
    pub fn busy_area_at(&self, now: Time) -> f64 {
        self.busy_area + self.busy_rate * now.saturating_sub(self.as_of) as f64
    }

    /// Cumulative available vCPU·ns at `now`.
    pub fn capacity_area_at(&self, now: Time) -> f64 {
        self.capacity_area + self.capacity_rate * now.saturating_sub(self.as_of) as f64
    }
}

/// The control plane.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// Status by component index (entries for non-instances stay default).
    pub status: Vec<InstanceStatus>,
    /// Target groups by index: the member instances, in slot order.
    pub groups: Vec<TargetGroup>,
    /// Extra one-way delay for messages sent *to* each component (latency faults), ns.
    pub delay_to: Vec<Time>,
    /// Zones currently out.
    pub az_down: Vec<bool>,
    /// Display name of every component (instances as `fleet[3]`).
    pub names: Vec<String>,
    /// Bumped whenever any lifecycle changes, so readers can cache what they derive from it.
    pub membership_gen: u64,
    /// CPU bugs (a `cpu_bug` fault) by component: (class, factor in thousandths). Empty almost
    /// always, so a server's check per request is one length test.
    pub bugs: Vec<Vec<(u16, u32)>>,
    /// Extra one-way delay on each region's users' link (a `latency` fault with a `region`),
    /// ns, by region index. Written by the fault injector; empty without regions.
    pub region_delay: Vec<Time>,
    /// Where anycast sends each region's users, by anycast component (a CDN): (component, the
    /// serving region for each users' region). Written by that component when its edges change.
    pub anycast: Vec<(CompId, [u8; super::region::N])>,
}

/// A named group of instances (a fleet's slots, or a list of standalone servers).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetGroup {
    /// Group name (the fleet's or the balancer's).
    pub name: String,
    /// Member component indices.
    pub members: Vec<CompId>,
}

impl Registry {
    /// A registry for `n` components and `azs` zones.
    pub fn new(n: usize, azs: usize) -> Self {
        Self {
            status: vec![InstanceStatus::default(); n],
            groups: Vec::new(),
            delay_to: vec![0; n],
            az_down: vec![false; azs.max(1)],
            names: vec![String::new(); n],
            membership_gen: 0,
            bugs: vec![Vec::new(); n],
            region_delay: vec![0; super::region::N],
            anycast: Vec::new(),
        }
    }

    /// The CPU factor a bug puts on requests of `class` at component `c` (1 = none).
    #[inline(always)]
    pub fn work_factor(&self, c: CompId, class: u16) -> f64 {
        match self.bugs.get(c as usize) {
            Some(b) if !b.is_empty() => b
                .iter()
                .filter(|(k, _)| *k == class)
                .map(|(_, f)| f64::from(*f) / 1000.0)
                .product(),
            _ => 1.0,
        }
    }

    /// Starts (`on`) or ends a CPU bug on `classes` at component `c`.
    pub fn set_bug(&mut self, c: CompId, classes: &[u16], permille: u32, on: bool) {
        let Some(b) = self.bugs.get_mut(c as usize) else {
            return;
        };
        for &k in classes {
            if on {
                b.push((k, permille));
            } else if let Some(i) = b.iter().position(|&e| e == (k, permille)) {
                b.remove(i);
            }
        }
    }

    /// Display name of component `c`.
    pub fn name_of(&self, c: CompId) -> String {
        self.names.get(c as usize).cloned().unwrap_or_default()
    }

    /// Sets an instance's lifecycle (by its group's owner) and bumps the membership generation.
    pub fn set_lifecycle(&mut self, c: CompId, l: Lifecycle) {
        let st = &mut self.status[c as usize];
        if st.lifecycle != l {
            st.lifecycle = l;
            self.membership_gen += 1;
        }
    }

    /// Extra delay for messages to `to`.
    #[inline]
    pub fn extra_delay(&self, to: CompId) -> Time {
        self.delay_to.get(to as usize).copied().unwrap_or(0)
    }

    /// The region anycast component `c` serves users of `region` from (`home` if it has not
    /// said).
    #[inline]
    pub fn anycast_of(&self, c: CompId, region: u8, home: u8) -> u8 {
        self.anycast
            .iter()
            .find(|(a, _)| *a == c)
            .map_or(home, |(_, t)| t[region as usize % super::region::N])
    }

    /// Sets where anycast component `c` serves each region's users from.
    pub fn set_anycast(&mut self, c: CompId, table: [u8; super::region::N]) {
        match self.anycast.iter_mut().find(|(a, _)| *a == c) {
            Some(e) => e.1 = table,
            None => self.anycast.push((c, table)),
        }
    }

    /// Status of instance `c`.
    #[inline]
    pub fn of(&self, c: CompId) -> &InstanceStatus {
        &self.status[c as usize]
    }

    /// Mutable status of instance `c`.
    #[inline]
    pub fn of_mut(&mut self, c: CompId) -> &mut InstanceStatus {
        &mut self.status[c as usize]
    }
}
