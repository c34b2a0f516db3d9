//! The checking context every check writes to: the diagnostics so far, the run's length, and the
//! components by name — so references between components are resolved, and "did you mean" help
//! is built, in one place.

use super::super::error::{nearest, Diagnostic, Seg};
use super::super::units::Duration;
use super::super::ErrCtx;
use crate::engine::time::MS;
use crate::model::dist::DistConfig;
use crate::model::kinds::KindTag;
use crate::model::CompId;
use std::collections::BTreeMap;

/// A key segment.
pub fn k(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

/// `p` with `key` appended.
pub fn at_key(p: &[Seg], key: &str) -> Vec<Seg> {
    let mut v = p.to_vec();
    v.push(k(key));
    v
}

/// `p` with list index `i` appended.
pub fn at_index(p: &[Seg], i: usize) -> Vec<Seg> {
    let mut v = p.to_vec();
    v.push(Seg::Index(i));
    v
}

/// A component another one names, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Its component index.
    pub id: CompId,
    /// Its kind.
    pub kind: KindTag,
    /// Its instance slots (first index, count), if it has any (a fleet).
    pub slots: Option<(u32, u32)>,
}

/// Collects diagnostics and resolves names while a scenario is checked.
pub struct Checker<'a, 'b> {
    ctx: &'a ErrCtx<'b>,
    pub(super) diags: Vec<Diagnostic>,
    /// The run's length, ns (0 if it was invalid).
    pub duration: u64,
    /// Availability zones in use.
    pub azs: u32,
    names: Vec<String>,
    kinds: Vec<KindTag>,
    slots: BTreeMap<String, (u32, u32)>,
    pub(super) groups: Vec<(String, Vec<u32>)>,
    group_of: BTreeMap<String, usize>,
    /// The workload's request classes, by class index (mix first, then bots): name and path,
    /// for kinds that route or act by path. Set before the components are checked.
    pub classes: Vec<ClassPath>,
    /// The workload's bots, by name, in order (population 1 + i is bot i).
    pub bots: Vec<String>,
    /// Notes for an accepted scenario (see [`crate::scenario::Scenario::notes`]).
    pub notes: Vec<String>,
    /// Components made of several instances a fault may name one of (`db.replica2`): name →
    /// its replicas. Set after the components are checked.
    pub parts: BTreeMap<String, u32>,
    /// The scenario has `[network.regions]` (kinds and faults that name regions need it).
    pub regions_on: bool,
    /// The time of day at the start, hours (`workload.start_hour`; 0 when not given or bad):
    /// the clock a scheduled job's schedule reads. Set before the components are checked.
    pub start_hour: f64,
}

/// A request class as kinds that act by path see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassPath {
    /// The class's name.
    pub name: String,
    /// Its URL path: as written, or `/NAME` when the class gives none.
    pub path: String,
}

impl Checker<'_, '_> {
    /// Checks a URL path prefix as written (`/orders`): an error at `path` unless it starts
    /// with "/". True if it does.
    pub fn url_path(&mut self, path: &[Seg], p: &str) -> bool {
        if p.starts_with('/') {
            return true;
        }
        self.err(
            path,
            format!("a path starts with \"/\", found \"{p}\""),
            Some(format!("e.g. \"/{}\"", p.trim_start_matches('/'))),
        );
        false
    }

    /// Resolves the component `name` that `who` (`"a gateway"`, `"\"orders\""`) sends requests
    /// to — a route's, a call's or a limiter's target — which must take requests and answer them
    /// ([`crate::model::kit::Wiring::callable`]) and not be `me`. `verb` says how in the
    /// messages ("route to", "call", "send to").
    pub fn callable(
        &mut self,
        path: &[Seg],
        name: &str,
        me: &str,
        who: &str,
        verb: &str,
    ) -> Option<CompId> {
        if name == me {
            self.err(path, format!("{who} can't {verb} itself"), None);
            return None;
        }
        let r = self.resolve(path, name)?;
        if r.kind.wiring().callable {
            return Some(r.id);
        }
        let help = if r.slots.is_some() {
            format!("put a load_balancer in front of \"{name}\" and {verb} that")
        } else {
            format!("{verb} a server, a load balancer, a gateway, a rate limiter or an external service")
        };
        self.err(
            path,
            format!("{who} can't {verb} a {}", r.kind.words()),
            Some(help),
        );
        None
    }

    /// For each class, the index of the longest of `prefixes` its path starts with (a prefix
    /// matches whole segments: `/order` matches `/order` and `/order/5`, not `/orders`; `/`
    /// matches every path).
    pub fn match_classes(&self, prefixes: &[&str]) -> Vec<Option<u16>> {
        self.classes
            .iter()
            .map(|c| {
                prefixes
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| path_has_prefix(&c.path, p))
                    .max_by_key(|(i, p)| (p.len(), std::cmp::Reverse(*i)))
                    .map(|(i, _)| i as u16)
            })
            .collect()
    }
}

/// True if `path` is `prefix` or continues it at a segment boundary.
pub fn path_has_prefix(path: &str, prefix: &str) -> bool {
    let p = prefix.trim_end_matches('/');
    if p.is_empty() {
        return path.starts_with('/');
    }
    path == p || (path.starts_with(p) && path[p.len()..].starts_with('/'))
}

impl<'a, 'b> Checker<'a, 'b> {
    /// A checker for components `names` (in name order, indices from `first`) of `kinds`, with
    /// instance slots after them (`slot_counts` by name).
    pub(super) fn new(
        ctx: &'a ErrCtx<'b>,
        duration: u64,
        azs: u32,
        named: Vec<(String, KindTag, Option<u32>)>,
        first: u32,
    ) -> Self {
        let mut next = first + named.len() as u32;
        let mut slots = BTreeMap::new();
        for (name, _, n) in &named {
            if let Some(n) = *n {
                slots.insert(name.clone(), (next, n));
                next += n;
            }
        }
        // Target groups: every slotted component's slots first (balancers and faults refer to
        // them by index whatever their names' order), then each balancer's list of servers.
        let mut groups = Vec::new();
        let mut group_of = BTreeMap::new();
        for (name, &(first, n)) in &slots {
            group_of.insert(name.clone(), groups.len());
            groups.push((name.clone(), (first..first + n).collect()));
        }
        Checker {
            ctx,
            diags: Vec::new(),
            duration,
            azs,
            names: named.iter().map(|(n, _, _)| n.clone()).collect(),
            kinds: named.iter().map(|(_, k, _)| *k).collect(),
            slots,
            groups,
            group_of,
            classes: Vec::new(),
            bots: Vec::new(),
            notes: Vec::new(),
            parts: BTreeMap::new(),
            regions_on: false,
            start_hour: 0.0,
        }
    }

    /// Where the scenario came from: its file's path, or `chapter:N`.
    pub fn source(&self) -> &str {
        self.ctx.source
    }

    /// Records an error at `path`.
    pub fn err(&mut self, path: &[Seg], msg: impl Into<String>, help: Option<String>) {
        self.diags.push(self.ctx.at(path, msg, help));
    }

    /// A positive, finite number.
    pub fn positive_f64(&mut self, path: &[Seg], v: f64, what: &str) {
        if !(v > 0.0 && v.is_finite()) {
            self.err(
                path,
                format!(
                    "{what} must be a positive number, found {}",
                    super::super::error::number(v)
                ),
                None,
            );
        }
    }

    /// A probe schedule (balancer health checks, DNS failover checks): the interval at least
    /// 1 ms, the timeout more than zero and at most the interval.
    pub fn probe_timing(&mut self, p: &[Seg], interval: u64, timeout: u64) {
        if interval < MS {
            self.err(
                &at_key(p, "interval"),
                "the interval must be at least 1ms",
                None,
            );
        }
        if timeout == 0 || timeout > interval {
            self.err(
                &at_key(p, "timeout"),
                "the timeout must be more than zero and at most the interval",
                None,
            );
        }
    }

    /// A count of consecutive probe results that flips a target's state: 1–10.
    pub fn probe_count(&mut self, p: &[Seg], key: &str, n: u32, what: &str) {
        if !(1..=10).contains(&n) {
            self.err(
                &at_key(p, key),
                format!("the {what} must be 1–10, found {n}"),
                None,
            );
        }
    }

    /// A distribution: its own parameters valid, and a mean above zero unless `allow_zero_mean`.
    pub fn dist(&mut self, path: &[Seg], d: &DistConfig, allow_zero_mean: bool) {
        if let Err((field, msg)) = d.check() {
            self.err(&at_key(path, field), msg, None);
        } else if !allow_zero_mean && d.mean() <= 0.0 {
            self.err(
                path,
                "the mean must be more than zero",
                Some("e.g. mean = \"20ms\"".into()),
            );
        }
    }

    /// Something scheduled at `at` must happen before the run ends.
    pub fn before_the_end(&mut self, path: &[Seg], at: Duration, what: &str) {
        if self.duration > 0 && at.0 >= self.duration {
            self.err(
                path,
                format!(
                    "the {what} is scheduled at {at} but the run ends at {}",
                    Duration(self.duration)
                ),
                Some(after_the_end_help(self.duration)),
            );
        }
    }

    /// Names of the components, in name order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// "did you mean" help for a component name that does not exist.
    pub fn suggest(&self, name: &str) -> String {
        match nearest(name, self.names.iter().map(String::as_str)) {
            Some(n) => format!(
                "did you mean \"{n}\"? components: {}",
                self.names.join(", ")
            ),
            None => format!("components: {}", self.names.join(", ")),
        }
    }

    /// The component called `name`, without reporting anything.
    pub fn find(&self, name: &str) -> Option<Ref> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(Ref {
            id: i as u32 + crate::scenario::FIRST_COMPONENT,
            kind: self.kinds[i],
            slots: self.slots.get(name).copied(),
        })
    }

    /// The component called `name`; reports "there is no component called" at `path`, with the
    /// nearest name, if there is none.
    pub fn resolve(&mut self, path: &[Seg], name: &str) -> Option<Ref> {
        let r = self.find(name);
        if r.is_none() {
            let help = self.suggest(name);
            self.err(
                path,
                format!("there is no component called \"{name}\""),
                Some(help),
            );
        }
        r
    }

    /// The components of each kind, in name order.
    pub fn of_kind(&self, kind: KindTag) -> Vec<CompId> {
        self.kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| **k == kind)
            .map(|(i, _)| i as u32 + crate::scenario::FIRST_COMPONENT)
            .collect()
    }

    /// The target group of a slotted component's instances.
    pub fn group_of(&self, name: &str) -> Option<usize> {
        self.group_of.get(name).copied()
    }

    /// Adds a target group (a balancer's list of servers); returns its index.
    pub fn new_group(&mut self, name: &str, members: Vec<u32>) -> usize {
        self.groups.push((name.to_string(), members));
        self.groups.len() - 1
    }

    /// The instance slots of `name` (first index, count).
    pub fn slots_of(&self, name: &str) -> Option<(u32, u32)> {
        self.slots.get(name).copied()
    }
}

/// What to do about something scheduled after a run of length `duration` ends.
pub fn after_the_end_help(duration: u64) -> String {
    format!(
        "schedule it before {}, or make the run longer (`scenario.duration`, or \
         `--set scenario.duration=...`)",
        Duration(duration)
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::{balancer, dns, file, fleet, server, the_error, valid};
    use crate::model::kinds::ComponentSpec;

    /// A shop of a server `db`, a fleet `web` (2 slots), a balancer `lb` and a DNS `dns`,
    /// with `extra` components; users connect to `dns`.
    fn shop(lb_targets: &str, record: &str, extra: &str) -> String {
        file(
            "target = \"dns\"",
            &[
                server("db"),
                fleet("web", 2),
                balancer("lb", lb_targets),
                dns("dns", record),
                extra.to_string(),
            ]
            .join("\n"),
        )
    }

    #[test]
    fn a_balancer_sends_to_servers_or_to_one_fleet() {
        // Components: db 2, dns 3, lb 4, web 5; web's slots 6, 7.
        let lb = |text: &str| {
            let s = valid(text);
            match &s.components[2].1 {
                ComponentSpec::LoadBalancer(l) => l.members.clone(),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(lb(&shop("\"web\"", "lb", "")), vec![6, 7]);
        assert_eq!(lb(&shop("[\"db\"]", "lb", "")), vec![2]);
        assert_eq!(lb(&shop("\"db\"", "lb", "")), vec![2]);

        let d = the_error(&shop("[\"web\", \"db\"]", "lb", ""));
        assert_eq!(d.key_path.as_deref(), Some("components.lb.targets"));
        assert_eq!(d.message, "a fleet must be a balancer's only target");

        let d = the_error(&shop("\"dns\"", "lb", ""));
        assert_eq!(d.message, "\"dns\" is not a server or a fleet");
        assert_eq!(
            d.help.as_deref(),
            Some("a balancer sends to servers or to a fleet")
        );
        // A balancer behind a balancer is not a target either.
        let d = the_error(&shop("\"lb2\"", "lb", &balancer("lb2", "\"web\"")));
        assert_eq!(d.message, "\"lb2\" is not a server or a fleet");

        let d = the_error(&shop("[]", "lb", ""));
        assert_eq!(d.message, "a balancer needs at least one target");
    }

    #[test]
    fn a_dns_record_points_at_a_server_or_a_balancer() {
        let record = |text: &str| match &valid(text).components[1].1 {
            ComponentSpec::Dns(d) => (d.primary, d.failover.map(|f| f.0)),
            other => panic!("{other:?}"),
        };
        assert_eq!(record(&shop("\"web\"", "lb", "")), (4, None));
        assert_eq!(record(&shop("\"web\"", "db", "")), (2, None));

        let d = the_error(&shop("\"web\"", "web", ""));
        assert_eq!(d.key_path.as_deref(), Some("components.dns.record"));
        assert_eq!(d.message, "\"web\" can't be a DNS answer");
        assert_eq!(
            d.help.as_deref(),
            Some("point the record at a server or a load balancer")
        );

        // The failover secondary obeys the same rule, and its error is located there.
        let with_failover = |secondary: &str| {
            shop("\"web\"", "lb", "").replace(
                "record = \"lb\"",
                &format!("record = \"lb\"\nfailover = {{ secondary = \"{secondary}\" }}"),
            )
        };
        assert_eq!(record(&with_failover("db")), (4, Some(2)));
        let d = the_error(&with_failover("web"));
        assert_eq!(
            d.key_path.as_deref(),
            Some("components.dns.failover.secondary")
        );
        assert_eq!(d.message, "\"web\" can't be a DNS answer");
    }

    #[test]
    fn an_unknown_name_is_answered_with_the_nearest_one() {
        let d = the_error(&shop("\"wbe\"", "lb", ""));
        assert_eq!(d.key_path.as_deref(), Some("components.lb.targets"));
        assert_eq!(d.message, "there is no component called \"wbe\"");
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean \"web\"? components: db, dns, lb, web")
        );
        // Nothing near: just the list.
        let d = the_error(&shop("\"web\"", "zzzzzz", ""));
        assert_eq!(d.key_path.as_deref(), Some("components.dns.record"));
        assert_eq!(d.help.as_deref(), Some("components: db, dns, lb, web"));
    }

    #[test]
    fn probe_timeouts_fit_in_the_interval_and_thresholds_are_1_to_10() {
        let hc = |settings: &str| {
            shop("\"web\"", "lb", "").replace(
                "targets = \"web\"",
                &format!("targets = \"web\"\nhealth_check = {{ {settings} }}"),
            )
        };
        let health = |text: &str| match &valid(text).components[2].1 {
            ComponentSpec::LoadBalancer(l) => l.health,
            other => panic!("{other:?}"),
        };
        use crate::engine::time::SEC;
        // Defaults (ALB): 30 s, 5 s, 2, 5. A timeout equal to the interval is allowed.
        assert_eq!(health(&hc("")), Some((30 * SEC, 5 * SEC, 2, 5)));
        assert_eq!(
            health(&hc(
                "interval = \"10s\", timeout = \"10s\", unhealthy = 1, healthy = 10"
            )),
            Some((10 * SEC, 10 * SEC, 1, 10))
        );
        // Without a timeout, the default 5 s shrinks to a shorter interval.
        assert_eq!(
            health(&hc("interval = \"2s\"")),
            Some((2 * SEC, 2 * SEC, 2, 5))
        );
        let d = the_error(&hc("interval = \"10s\", timeout = \"11s\""));
        assert_eq!(
            d.key_path.as_deref(),
            Some("components.lb.health_check.timeout")
        );
        assert_eq!(
            d.message,
            "the timeout must be more than zero and at most the interval"
        );
        let d = the_error(&hc("unhealthy = 0"));
        assert_eq!(d.message, "the unhealthy threshold must be 1–10, found 0");
        let d = the_error(&hc("healthy = 11"));
        assert_eq!(
            d.key_path.as_deref(),
            Some("components.lb.health_check.healthy")
        );
        assert_eq!(d.message, "the healthy threshold must be 1–10, found 11");
    }
}
