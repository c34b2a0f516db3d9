//! `scalesim explain`: the topology of a scenario as text, as a Mermaid flowchart and as Graphviz
//! DOT — every component with its capacity, every route with its one-way hop latency — so a student
//! can check the wiring before running it.

use crate::engine::time::human;
use crate::model::kit::{RouteRole, Shape};
use crate::scenario::Scenario;
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
    /// How it is drawn.
    pub shape: NodeShape,
}

/// How a node is drawn in Mermaid and DOT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeShape {
    /// The users.
    People,
    /// A component, drawn as its kind says.
    Kind(Shape),
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
    let ext = scn.network.client_rtt.0 as f64 / 2.0;
    let int = scn.network.internal_rtt.0 as f64 / 2.0;
    // A fleet's slots are drawn as their fleet.
    let drawn_as = |c: u32| {
        let n = scn.name_of(c);
        n.split('[').next().unwrap_or_default().to_string()
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
    if let Some(t) = &c.trace {
        users.push(format!(
            "trace {} ({} rows, {} clients)",
            t.file,
            t.rows.len(),
            t.clients
        ));
    }
    if let Some(t) = c.timeout {
        users.push(format!("timeout {}", human(t)));
    }
    if let Some((max, ..)) = c.retry {
        users.push(format!("{max} retries"));
    }
    if let Some(rf) = c.refresh {
        users.push(format!(
            "{} % reload a page after {} (up to {}×)",
            f64::from(rf.per_million) / 1e4,
            human(rf.patience),
            rf.max
        ));
    }
    nodes.push(Node {
        id: "users".into(),
        name: "users".into(),
        kind: "clients".into(),
        detail: users.join(", "),
        shape: NodeShape::People,
    });
    let described = scn.descriptions();
    let entry = scn.name_of(c.entry);
    let looked_up = described
        .iter()
        .any(|(name, _, d)| *name == entry && d.looked_up);
    let mut edges = vec![Edge {
        from: "users".into(),
        to: id(&entry),
        label: if looked_up { "lookup".into() } else { ms(ext) },
        standby: false,
    }];
    for (name, kind, d) in described {
        nodes.push(Node {
            id: id(name),
            name: name.to_string(),
            kind: kind.words().to_string(),
            detail: d.detail.clone(),
            shape: NodeShape::Kind(d.shape),
        });
        let mut seen: Vec<(String, RouteRole)> = Vec::new();
        for r in &d.routes {
            let to = drawn_as(r.to);
            if seen.iter().any(|(t, role)| *t == to && *role == r.role) {
                continue;
            }
            seen.push((to.clone(), r.role));
            // A hop across the internet (to a third party) takes the users' one-way time.
            let crosses = scn
                .components
                .get((r.to as usize).wrapping_sub(crate::scenario::FIRST_COMPONENT as usize))
                .is_some_and(|(_, spec)| spec.tag().zone() != kind.zone());
            let (label, standby) = match r.role {
                RouteRole::Forward if crosses => (format!("internet, {}", ms(ext)), false),
                RouteRole::Forward => (ms(int), false),
                RouteRole::Answer => (format!("answer, {}", ms(ext)), false),
                RouteRole::Failover => (format!("failover, {}", ms(ext)), true),
            };
            edges.push(Edge {
                from: id(name),
                to: id(&to),
                label,
                standby,
            });
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
    // Names are padded to a column by hand, at most 40 wide: a `{:<w$}` pad wider than 65,535
    // panics, and a component name may be that long.
    let w = t
        .nodes
        .iter()
        .map(|n| n.name.chars().count())
        .max()
        .unwrap_or(5)
        .min(40);
    for n in &t.nodes {
        let pad = w.saturating_sub(n.name.chars().count());
        let _ = writeln!(
            s,
            "  {}{}  {:<13}  {}",
            n.name,
            " ".repeat(pad),
            n.kind,
            n.detail
        );
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
    if let Some(rg) = &scn.regions {
        use crate::model::region::REGIONS;
        let home = rg.home;
        let users: Vec<String> = rg
            .shares()
            .iter()
            .map(|&(r, share)| {
                format!(
                    "{} {:.0} % ({} away)",
                    REGIONS[r as usize],
                    share * 100.0,
                    human(rg.rtt(r, home))
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "regions: the site in {}; users in {} — plus the round trip above as their last mile; {:.0} Mbit/s last mile",
            REGIONS[home as usize],
            users.join(", "),
            rg.bits_per_s / 1e6
        );
        for (name, r) in &rg.placement {
            let _ = writeln!(s, "  {name} placed in {}", REGIONS[*r as usize]);
        }
    }
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
        let shape = match n.shape {
            NodeShape::People => format!("([\"{label}\"])"),
            NodeShape::Kind(Shape::Stack) => format!("[[\"{label}\"]]"),
            NodeShape::Kind(Shape::Diamond) => format!("{{\"{label}\"}}"),
            NodeShape::Kind(Shape::Box) => format!("[\"{label}\"]"),
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
        let shape = match n.shape {
            NodeShape::People => "ellipse",
            NodeShape::Kind(Shape::Stack) => "box3d",
            NodeShape::Kind(Shape::Diamond) => "diamond",
            NodeShape::Kind(Shape::Box) => "box",
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
