//! `scalesim explain`: the topology of a scenario as text, as a Mermaid flowchart and as Graphviz
//! DOT — every component with its capacity, every route with its one-way hop latency — so a student
//! can check the wiring before running it.

use crate::engine::time::human;
use crate::model::load_balancer::Algorithm;
use crate::scenario::{ComponentSpec, Scenario, FIRST_COMPONENT};
use std::fmt::Write;

/// One node of the topology.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Identifier safe for Mermaid and DOT (letters, digits, `_`).
    pub id: String,
    /// Component name as in the file ("users" for the client population).
    pub name: String,
    /// Kind in words.
    pub kind: String,
    /// Capacity and settings, in words.
    pub detail: String,
}

/// One route.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// From node id.
    pub from: String,
    /// To node id.
    pub to: String,
    /// Label: hop latency and role ("failover", ...).
    pub label: String,
    /// Dashed (a standby route).
    pub standby: bool,
}

/// The topology.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// Scenario name.
    pub name: String,
    /// Nodes: users first, then components in file (name) order.
    pub nodes: Vec<Node>,
    /// Routes.
    pub edges: Vec<Edge>,
}

fn id(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'n');
    }
    format!("c_{s}")
}

fn ms(t: f64) -> String {
    if t >= 1e9 {
        format!("{:.2} s", t / 1e9)
    } else {
        format!("{:.2} ms", t / 1e6)
    }
}

/// Builds the topology of a checked scenario.
pub fn topology(scn: &Scenario) -> Topology {
    let name_of = |c: u32| {
        scn.components
            .get((c - FIRST_COMPONENT) as usize)
            .map(|(n, _)| n.clone())
            .unwrap_or_default()
    };
    let ext = scn.network.client_rtt.0 as f64 / 2.0;
    let int = scn.network.internal_rtt.0 as f64 / 2.0;
    let mean_work: f64 = {
        let cdf = &scn.client.mix_cdf;
        let mut prev = 0.0;
        let mut w = 0.0;
        for (i, c) in cdf.iter().enumerate() {
            w += (c - prev) * scn.client.classes[i].work;
            prev = *c;
        }
        if w > 0.0 {
            w
        } else {
            1.0
        }
    };
    let server_capacity = |s: &crate::model::server::ServerSpec| -> f64 {
        let per = s.service.mean() * mean_work + s.tls_cpu as f64;
        if per <= 0.0 {
            f64::INFINITY
        } else {
            f64::from(s.vcpus.min(s.workers)) * 1e9 / per
        }
    };
    let mut nodes = Vec::new();
    let c = &scn.client;
    let mut users = Vec::new();
    if c.users > 0 {
        users.push(format!("{} users, think {}", c.users, c.think.describe()));
    }
    for st in &c.streams {
        users.push(format!(
            "{:.1} req/s open{}",
            st.rate,
            if st.follows_curve { "" } else { " (bots)" }
        ));
    }
    if let Some(t) = c.timeout {
        users.push(format!("timeout {}", human(t)));
    }
    nodes.push(Node {
        id: "users".into(),
        name: "users".into(),
        kind: "clients".into(),
        detail: users.join(", "),
    });
    let mut edges = Vec::new();
    let entry = name_of(c.entry);
    edges.push(Edge {
        from: "users".into(),
        to: id(&entry),
        label: if matches!(
            scn.components.get((c.entry - FIRST_COMPONENT) as usize),
            Some((_, ComponentSpec::Dns(_)))
        ) {
            "lookup".into()
        } else {
            ms(ext)
        },
        standby: false,
    });
    for (name, spec) in &scn.components {
        if name.contains('[') {
            continue; // fleet slots are described by their fleet
        }
        let (kind, detail) = match spec {
            ComponentSpec::Server(s) => {
                let cap = server_capacity(s);
                let mut d = format!(
                    "{} ({} vCPU, {} GiB, ${}/h), {} workers, backlog {}, service {}, ≈{:.0} req/s",
                    s.instance,
                    s.vcpus,
                    s.memory >> 30,
                    s.price_per_hour,
                    s.workers,
                    s.backlog,
                    s.service.describe(),
                    cap
                );
                for (at, to, down) in &s.resizes {
                    let _ = write!(
                        d,
                        "; resize to {} at {} ({} down)",
                        to.name,
                        crate::engine::time::clock(*at),
                        human(*down)
                    );
                }
                ("server".to_string(), d)
            }
            ComponentSpec::Fleet(f) => {
                let slot = scn.components.iter().find_map(|(n, c)| match c {
                    ComponentSpec::Server(s) if n.starts_with(&format!("{name}[")) => Some(s),
                    _ => None,
                });
                let (inst, cap) = slot.map_or(("?".to_string(), 0.0), |s| {
                    (
                        format!("{} ({} vCPU)", s.instance, s.vcpus),
                        server_capacity(s),
                    )
                });
                let policy = match &f.policy {
                    crate::model::fleet::Policy::None => "fixed size".to_string(),
                    crate::model::fleet::Policy::TargetTracking { metric, target, .. } => {
                        format!("target tracking {metric:?} at {target}")
                    }
                    crate::model::fleet::Policy::Step { metric, steps, .. } => {
                        format!("step scaling on {metric:?} ({} steps)", steps.len())
                    }
                };
                (
                    "fleet".to_string(),
                    format!(
                        "{}–{} × {inst} (starts at {}), ≈{:.0} req/s each, ≈{:.0}–{:.0} req/s in all; boot {}; {policy}; {} zones",
                        f.min,
                        f.max,
                        f.desired,
                        cap,
                        cap * f64::from(f.min),
                        cap * f64::from(f.max),
                        human(f.boot_time),
                        f.azs
                    ),
                )
            }
            ComponentSpec::LoadBalancer(l) => {
                let alg = match l.algorithm {
                    Algorithm::RoundRobin => "round robin",
                    Algorithm::LeastOutstanding => "least outstanding",
                    Algorithm::Random => "random",
                    Algorithm::PowerOfTwo => "power of two choices",
                };
                let hc = l.health.map_or("no health checks".to_string(), |(i, t, u, h)| {
                    format!("health check every {} (timeout {}, out after {u} fails, in after {h} passes)", human(i), human(t))
                });
                let cap = if l.max_outstanding == u32::MAX {
                    "no capacity limit".to_string()
                } else {
                    format!("at most {} in flight", l.max_outstanding)
                };
                (
                    "load balancer".to_string(),
                    format!(
                        "{alg}; {hc}; TLS {}; {cap}",
                        if l.tls {
                            "terminated here"
                        } else {
                            "passed through"
                        }
                    ),
                )
            }
            ComponentSpec::Dns(d) => (
                "dns".to_string(),
                format!(
                    "TTL {}, {} resolvers, lookup {}, failure after {}{}",
                    human(d.ttl),
                    d.resolvers,
                    d.lookup.describe(),
                    human(d.failure_time),
                    d.failover.map_or(String::new(), |(_, i, th, _)| format!(
                        ", failover after {th} failed checks every {}",
                        human(i)
                    ))
                ),
            ),
        };
        nodes.push(Node {
            id: id(name),
            name: name.clone(),
            kind,
            detail,
        });
        match spec {
            ComponentSpec::LoadBalancer(l) => {
                let mut targets: Vec<String> = l.members.iter().map(|&m| name_of(m)).collect();
                // A fleet's slots collapse into the fleet.
                targets = targets
                    .into_iter()
                    .map(|t| t.split('[').next().unwrap_or_default().to_string())
                    .collect();
                targets.dedup();
                for t in targets {
                    edges.push(Edge {
                        from: id(name),
                        to: id(&t),
                        label: ms(int),
                        standby: false,
                    });
                }
            }
            ComponentSpec::Dns(d) => {
                edges.push(Edge {
                    from: id(name),
                    to: id(&name_of(d.primary)),
                    label: format!("answer, {}", ms(ext)),
                    standby: false,
                });
                if let Some((sec, ..)) = d.failover {
                    edges.push(Edge {
                        from: id(name),
                        to: id(&name_of(sec)),
                        label: format!("failover, {}", ms(ext)),
                        standby: true,
                    });
                }
            }
            _ => {}
        }
    }
    Topology {
        name: scn.name.clone(),
        nodes,
        edges,
    }
}

/// The topology as indented text.
pub fn text(t: &Topology, scn: &Scenario) -> String {
    let mut s = format!("{} — topology\n\ncomponents:\n", t.name);
    let w = t.nodes.iter().map(|n| n.name.len()).max().unwrap_or(5);
    for n in &t.nodes {
        let _ = writeln!(s, "  {:<w$}  {:<13}  {}", n.name, n.kind, n.detail);
    }
    let _ = writeln!(s, "\nroutes (one-way latency per hop):");
    let name = |id: &str| {
        t.nodes
            .iter()
            .find(|n| n.id == id)
            .map_or(id.to_string(), |n| n.name.clone())
    };
    for e in &t.edges {
        let _ = writeln!(
            s,
            "  {} → {}  ({}){}",
            name(&e.from),
            name(&e.to),
            e.label,
            if e.standby { "  [standby]" } else { "" }
        );
    }
    let _ = writeln!(
        s,
        "\nnetwork: users ↔ site round trip {}, inside the data centre {}, jitter ±{:.0} %",
        human(scn.network.client_rtt.0),
        human(scn.network.internal_rtt.0),
        scn.network.jitter * 100.0
    );
    if !scn.faults.is_empty() {
        let _ = writeln!(s, "\nfaults:");
        for f in &scn.faults {
            let _ = writeln!(
                s,
                "  {}  {}",
                crate::engine::time::clock(f.at),
                f.describe()
            );
        }
    }
    s
}

fn mermaid_label(s: &str) -> String {
    // Mermaid strings can't contain double quotes; '#' starts an entity code.
    s.replace('"', "'")
        .replace('#', "no. ")
        .replace(['[', ']'], "")
        .replace(['{', '}'], "")
        .replace('|', "/")
}

/// The topology as a Mermaid flowchart (paste into any Markdown renderer that supports Mermaid).
pub fn mermaid(t: &Topology) -> String {
    let mut s = String::from("flowchart LR\n");
    for n in &t.nodes {
        let label = mermaid_label(&format!("{}<br/>{}", n.name, n.kind));
        let shape = match n.kind.as_str() {
            "clients" => format!("([\"{label}\"])"),
            "fleet" => format!("[[\"{label}\"]]"),
            "dns" => format!("{{\"{label}\"}}"),
            _ => format!("[\"{label}\"]"),
        };
        let _ = writeln!(s, "    {}{shape}", n.id);
    }
    for e in &t.edges {
        let arrow = if e.standby { "-.->" } else { "-->" };
        let _ = writeln!(
            s,
            "    {} {arrow}|\"{}\"| {}",
            e.from,
            mermaid_label(&e.label),
            e.to
        );
    }
    s
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The topology as Graphviz DOT.
pub fn dot(t: &Topology) -> String {
    let mut s = format!(
        "digraph \"{}\" {{\n    rankdir=LR;\n    node [shape=box, fontname=\"DejaVu Sans\"];\n",
        dot_escape(&t.name)
    );
    for n in &t.nodes {
        let shape = match n.kind.as_str() {
            "clients" => "ellipse",
            "fleet" => "box3d",
            "dns" => "diamond",
            _ => "box",
        };
        let _ = writeln!(
            s,
            "    {} [shape={shape}, label=\"{}\\n{}\"];",
            n.id,
            dot_escape(&n.name),
            dot_escape(&n.kind)
        );
    }
    for e in &t.edges {
        let style = if e.standby { ", style=dashed" } else { "" };
        let _ = writeln!(
            s,
            "    {} -> {} [label=\"{}\"{style}];",
            e.from,
            e.to,
            dot_escape(&e.label)
        );
    }
    s.push_str("}\n");
    s
}

/// Everything `scalesim explain` prints.
pub fn explain(scn: &Scenario) -> String {
    let t = topology(scn);
    format!(
        "{}\nMermaid:\n\n```mermaid\n{}```\n\nGraphviz DOT:\n\n```dot\n{}```\n",
        text(&t, scn),
        mermaid(&t),
        dot(&t)
    )
}
