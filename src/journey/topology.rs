//! A chapter's architecture as the journey compares it, and the difference between two
//! chapters', checked against the change each chapter declares in `[scenario.journey]`.
//!
//! The journey gives every chapter the same users ([`super::WORKLOAD`]), so what differs from one
//! chapter to the next is its architecture: the components (each one's settings as written), the
//! component users connect to, and `[network]`. A chapter's file says what it changes
//! (`adds`, `removes`, `changes`); [`undeclared`] lists every difference the declaration does not
//! name and every declared change that is not there, so a chapter cannot quietly switch an
//! instance type or a fleet's size on the way to its idea.

use crate::scenario::{JourneyChange, Scenario};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One scenario's architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct Topology {
    /// Each component's table as written (its `kind` included), by name.
    pub components: BTreeMap<String, Value>,
    /// The component users connect to.
    pub entry: String,
    /// `[network]`, with its defaults filled in.
    pub network: BTreeMap<String, Value>,
}

/// The architecture of a loaded scenario.
pub fn topology(scn: &Scenario) -> Topology {
    let components = scn
        .file
        .components
        .iter()
        .map(|(name, cfg)| {
            (
                name.clone(),
                serde_json::to_value(cfg).expect("component settings serialize"),
            )
        })
        .collect();
    let entry = (scn.client.entry as usize)
        .checked_sub(crate::scenario::FIRST_COMPONENT as usize)
        .and_then(|i| scn.components.get(i))
        .map_or_else(String::new, |(n, _)| n.clone());
    let network = match serde_json::to_value(&scn.file.network).expect("network serializes") {
        Value::Object(m) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    Topology {
        components,
        entry,
        network,
    }
}

/// What differs between two architectures, in the words of `[scenario.journey]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff {
    /// Components only the second has.
    pub adds: BTreeSet<String>,
    /// Components only the first has.
    pub removes: BTreeSet<String>,
    /// `NAME` (a component whose kind changed), `NAME.KEY`, `network.KEY`, `workload.target`.
    pub changes: BTreeSet<String>,
}

fn keys_differing(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Vec<String> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| {
            let (x, y) = (a.get(*k), b.get(*k));
            // An absent optional key and `null` are the same setting.
            x.filter(|v| !v.is_null()) != y.filter(|v| !v.is_null())
        })
        .cloned()
        .collect()
}

fn object(v: &Value) -> BTreeMap<String, Value> {
    match v {
        Value::Object(m) => m.clone().into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

/// The difference from `prev` to `next`.
pub fn diff(prev: &Topology, next: &Topology) -> Diff {
    let mut d = Diff::default();
    for (name, v) in &next.components {
        match prev.components.get(name) {
            None => {
                d.adds.insert(name.clone());
            }
            Some(p) if p.get("kind") != v.get("kind") => {
                d.changes.insert(name.clone());
            }
            Some(p) => {
                for key in keys_differing(&object(p), &object(v)) {
                    d.changes.insert(format!("{name}.{key}"));
                }
            }
        }
    }
    for name in prev.components.keys() {
        if !next.components.contains_key(name) {
            d.removes.insert(name.clone());
        }
    }
    if prev.entry != next.entry {
        d.changes.insert("workload.target".into());
    }
    for key in keys_differing(&prev.network, &next.network) {
        d.changes.insert(format!("network.{key}"));
    }
    d
}

/// Every way `actual` and the declaration disagree, one sentence each (empty: they agree). A
/// declared whole component (`"web"`) covers every change of its settings.
pub fn undeclared(actual: &Diff, decl: Option<&JourneyChange>) -> Vec<String> {
    let empty = JourneyChange {
        idea: String::new(),
        problem: None,
        adds: Vec::new(),
        removes: Vec::new(),
        changes: Vec::new(),
        moves: None,
        because: None,
    };
    let decl = decl.unwrap_or(&empty);
    let mut out = Vec::new();
    let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<String>>();
    for (word, got, said) in [
        ("adds", &actual.adds, set(&decl.adds)),
        ("removes", &actual.removes, set(&decl.removes)),
    ] {
        for n in got.difference(&said) {
            out.push(format!("{word} `{n}` without declaring it in `{word}`"));
        }
        for n in said.difference(got) {
            out.push(format!("declares `{n}` in `{word}`, but it does not"));
        }
    }
    let said = set(&decl.changes);
    let covered = |c: &str| {
        said.contains(c)
            || c.split_once('.')
                .is_some_and(|(head, _)| said.contains(head) && head != "network")
    };
    for c in &actual.changes {
        if !covered(c) {
            out.push(format!("changes `{c}` without declaring it in `changes`"));
        }
    }
    for s in &said {
        let there = actual.changes.iter().any(|c| {
            c == s
                || c.strip_prefix(s.as_str())
                    .is_some_and(|r| r.starts_with('.'))
        });
        if !there {
            out.push(format!(
                "declares `{s}` in `changes`, but it does not change"
            ));
        }
    }
    out
}
