//! Load errors that point at the problem: file, line, column, key path, what was expected, and the
//! nearest valid key or value.

use std::fmt;
use std::ops::Range;

/// One problem found in a scenario file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// File name as given (or `chapter:N`).
    pub file: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub location: Option<(usize, usize)>,
    /// Dotted key path, e.g. `components.web.service.mean`.
    pub key_path: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What would be right, e.g. "did you mean `service`?".
    pub help: Option<String>,
    /// The source line, for context.
    pub snippet: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "error: {}", clip(&self.file, MAX_SHOWN))?;
        if let Some((l, c)) = self.location {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(k) = &self.key_path {
            write!(f, ": `{}`", clip(k, MAX_SHOWN))?;
        }
        write!(f, ": {}", clip(&self.message, MAX_SHOWN))?;
        if let (Some((l, c)), Some(s)) = (self.location, &self.snippet) {
            let gutter = l.to_string().len();
            let (shown, caret) = snippet_window(s, c);
            // The caret is padded by hand: a `{:>width$}` pad is limited to 65,535 columns.
            write!(
                f,
                "\n {:gutter$} |\n {l} | {shown}\n {:gutter$} | {}^",
                "",
                "",
                " ".repeat(caret.saturating_sub(1))
            )?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {}", clip(h, MAX_SHOWN))?;
        }
        Ok(())
    }
}

/// Characters of a source line shown around the column of a problem; longer lines are cut to a
/// window around it, marked `…` where text is left out.
pub const SNIPPET_WIDTH: usize = 100;

/// Longest message, key path or help shown whole; longer ones (a 70,000-character value echoed
/// back) keep their start and end.
pub const MAX_SHOWN: usize = 400;

/// The part of `line` to print and the 1-based caret column within it, for a problem at 1-based
/// character column `col`. Short lines are shown whole.
pub fn snippet_window(line: &str, col: usize) -> (String, usize) {
    let len = line.chars().count();
    if len <= SNIPPET_WIDTH {
        return (line.to_string(), col);
    }
    let col0 = col.saturating_sub(1).min(len);
    let half = SNIPPET_WIDTH / 2;
    let start = col0
        .saturating_sub(half)
        .min(len.saturating_sub(SNIPPET_WIDTH));
    let end = (start + SNIPPET_WIDTH).min(len);
    let mut shown = String::new();
    let mut caret = col0 - start + 1;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(line.chars().skip(start).take(end - start));
    if end < len {
        shown.push('…');
    }
    (shown, caret)
}

/// `s` itself when at most `max` characters, else its start and end around a `…`.
pub fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let n = s.chars().count();
    if n <= max {
        return s.into();
    }
    let keep = max / 2;
    let head: String = s.chars().take(keep).collect();
    let tail: String = s.chars().skip(n - keep).collect();
    format!("{head}…({} characters left out)…{tail}", n - 2 * keep).into()
}

/// Everything wrong with one scenario (at least one problem).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct LoadError {
    /// The problems, in file order where known.
    pub diagnostics: Vec<Diagnostic>,
}

/// Most problems printed for one scenario; the rest are counted ("… and 3,950 more errors").
pub const MAX_ERRORS_SHOWN: usize = 50;

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().take(MAX_ERRORS_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        let more = self.diagnostics.len().saturating_sub(MAX_ERRORS_SHOWN);
        if more > 0 {
            let file = self.diagnostics.last().map_or("", |d| d.file.as_str());
            write!(
                f,
                "\n… and {} more error{} in {} like these (the first {MAX_ERRORS_SHOWN} are shown; fix them and run again)",
                thousands(more as u64),
                if more == 1 { "" } else { "s" },
                clip(file, MAX_SHOWN)
            )?;
        }
        Ok(())
    }
}

/// A number as a message shows it: as written at everyday sizes (`0.5`, `250`, `1.5`), in
/// scientific notation beyond them (`1e300`, `5e-324`), where `{}` would print hundreds of digits.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if v.is_finite() && a != 0.0 && !(1e-6..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// `n` with thousands separators: 3950 → "3,950".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

impl LoadError {
    /// A single problem without a location.
    pub fn plain(file: &str, message: impl Into<String>, help: Option<String>) -> Self {
        LoadError {
            diagnostics: vec![Diagnostic {
                file: file.to_string(),
                location: None,
                key_path: None,
                message: message.into(),
                help,
                snippet: None,
            }],
        }
    }
}

/// 1-based (line, column) of a byte offset; the column counts characters.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    SourceIndex::lines_only(src).line_col(offset)
}

/// The text of 1-based line `line`.
pub fn line_text(src: &str, line: usize) -> Option<String> {
    SourceIndex::lines_only(src).line_text(line)
}

/// A source file indexed once for placing many problems: its line starts and its parsed TOML
/// document (with spans), so each diagnostic costs a lookup, not a parse of the whole file.
pub struct SourceIndex<'a> {
    src: &'a str,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
    doc: Option<toml_edit::ImDocument<&'a str>>,
}

impl<'a> SourceIndex<'a> {
    /// Indexes `src` (lines and TOML document).
    pub fn new(src: &'a str) -> Self {
        let mut index = Self::lines_only(src);
        index.doc = toml_edit::ImDocument::parse(src).ok();
        index
    }

    /// Indexes only the lines of `src` (no TOML parse).
    fn lines_only(src: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceIndex {
            src,
            line_starts,
            doc: None,
        }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        (line, self.src[start..offset].chars().count() + 1)
    }

    /// The text of 1-based line `line`, without trailing whitespace.
    pub fn line_text(&self, line: usize) -> Option<String> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.src.len(), |&next| next - 1);
        if start >= self.src.len() && start > 0 {
            return None; // past a final newline
        }
        Some(self.src[start..end].trim_end().to_string())
    }

    /// Span of the key (or, failing that, the value) at `path`; see [`locate`].
    pub fn locate(&self, path: &[Seg]) -> Option<Range<usize>> {
        locate_in(self.doc.as_ref()?, path)
    }
}

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Formats a path as `a.b[2].c`.
pub fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Finds the span of the key (or, failing that, the value) at `path` in TOML `src`. If the path
/// runs past what exists, returns the span of the deepest part that does.
/// This parses `src`; to place many problems in one file, build a [`SourceIndex`] once.
pub fn locate(src: &str, path: &[Seg]) -> Option<Range<usize>> {
    SourceIndex::new(src).locate(path)
}

fn locate_in(doc: &toml_edit::ImDocument<&str>, path: &[Seg]) -> Option<Range<usize>> {
    use toml_edit::{Item, Table, Value};
    #[derive(Clone, Copy)]
    enum Node<'a> {
        Table(&'a Table),
        Item(&'a Item),
        Value(&'a Value),
    }
    fn as_table<'a>(n: Node<'a>) -> Option<&'a Table> {
        match n {
            Node::Table(t) | Node::Item(Item::Table(t)) => Some(t),
            _ => None,
        }
    }
    let mut node = Node::Table(doc.as_table());
    let mut best: Option<Range<usize>> = None;
    for seg in path {
        let (next, key_span): (Option<Node>, Option<Range<usize>>) = match (node, seg) {
            (n, Seg::Key(k)) if as_table(n).is_some() => {
                let t = as_table(n).expect("checked");
                (t.get(k).map(Node::Item), t.key(k).and_then(|k| k.span()))
            }
            (
                Node::Item(Item::Value(Value::InlineTable(t))) | Node::Value(Value::InlineTable(t)),
                Seg::Key(k),
            ) => (t.get(k).map(Node::Value), t.key(k).and_then(|k| k.span())),
            (Node::Item(Item::ArrayOfTables(a)), Seg::Index(i)) => {
                let t = a.get(*i);
                (t.map(Node::Table), t.and_then(|t| t.span()))
            }
            (
                Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a)),
                Seg::Index(i),
            ) => {
                let v = a.get(*i);
                (v.map(Node::Value), v.and_then(|v| v.span()))
            }
            _ => (None, None),
        };
        match next {
            Some(n) => {
                let span = key_span.or_else(|| match n {
                    Node::Table(t) => t.span(),
                    Node::Item(i) => i.span(),
                    Node::Value(v) => v.span(),
                });
                if span.is_some() {
                    best = span;
                }
                node = n;
            }
            None => break,
        }
    }
    best
}

/// The candidates named in a serde "expected one of `a`, `b`" message.
pub fn expected_names(message: &str) -> Vec<String> {
    let Some(i) = message.find("expected") else {
        return vec![];
    };
    message[i..]
        .split('`')
        .enumerate()
        .filter(|(k, _)| k % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// The name in a serde "unknown field `x`" / "unknown variant `x`" message.
pub fn unknown_name(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    rest.split('`').next().map(str::to_string)
}

/// The candidate closest to `word`, if it is close enough to be a likely typo: similar by
/// Jaro–Winkler, or a small edit (a swap, a missing or extra letter) away. The edit test catches
/// typos in short names (`wbe` → `web`), where Jaro–Winkler's matching window is too narrow.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let lc = c.to_lowercase();
        let score = strsim::jaro_winkler(&word, &lc);
        let longer = word.chars().count().max(lc.chars().count());
        let edits = strsim::osa_distance(&word, &lc);
        let close = score >= 0.75 || (edits <= (longer / 4).max(1) && 2 * edits < longer);
        let better = match best {
            None => true,
            Some((_, s)) => score > s,
        };
        if close && better {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

/// Balancer algorithms.
const ALGORITHM_NAMES: &[&str] = &["round_robin", "least_outstanding", "random", "power_of_two"];
/// Fault verbs.
const FAULT_KIND_NAMES: &[&str] = &[
    "crash",
    "stop",
    "hang",
    "slow",
    "recover",
    "az_outage",
    "dns_outage",
    "latency",
    "random_crash",
    "cpu_bug",
    "flush",
    "expire",
];
/// Scaling metrics.
const METRIC_NAMES: &[&str] = &["cpu", "requests_per_target"];
/// Retry backoffs.
const BACKOFF_NAMES: &[&str] = &["exponential", "constant"];
const MOVES_NAMES: &[&str] = &["up", "same", "down"];

fn one_of(key: &str, names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        "one of {} (e.g. {key} = \"{}\")",
        list.join(", "),
        names.first().copied().unwrap_or("")
    )
}

/// What belongs at `path`, in the scenario's words with an example, from the key (and, where the
/// key alone is not enough, its parent) or else from serde's name for the type (`expected`).
fn expectation(path: &[Seg], expected: &str) -> String {
    if !is_jargon(expected) {
        // Already the scenario's words (the unit parsers' own expectations).
        return expected.trim().to_string();
    }
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .collect();
    let last = keys.last().copied().unwrap_or("");
    let under = |k: &str| keys[..keys.len().saturating_sub(1)].contains(&k);
    let in_list = matches!(path.last(), Some(Seg::Index(_)));
    // What serde says about the shape, for keys whose value can take several.
    let wants_tag = expected.contains("variant identifier")
        || expected.contains("string or map")
        || expected.contains("map with a single key")
        || expected.contains("string only");
    if in_list {
        let item = match last {
            "spikes" => Some("a spike table such as { at = \"10m\", multiplier = 3.0 }"),
            "mix" => Some("a request class such as { name = \"browse\", weight = 0.8 }"),
            "bots" => Some("a bot table such as { name = \"crawler\", rate = \"5/s\" }"),
            "schedule" => Some("a scheduled action such as { at = \"30m\", desired = 4 }"),
            "resize" => Some("a resize such as { at = \"30m\", to = \"c5.xlarge\" }"),
            "steps" => Some("a step such as { above = 0.7, change = 2 }"),
            "faults" => {
                Some("a fault such as { at = \"20m\", kind = \"crash\", target = \"web\" }")
            }
            "daily_curve" => Some("a number such as 0.5 (one per hour)"),
            "targets" => Some("a server name in quotes, such as \"web1\""),
            "objectives" => Some(
                "an objective such as \"p(99) < 300ms\" or { metric = \"p99\", below = \"300ms\" }",
            ),
            _ => None,
        };
        if let Some(item) = item {
            return item.to_string();
        }
    }
    let by_key = match last {
        "scenario" if keys.len() == 1 => Some("a table such as [scenario] with name = \"shop\" and duration = \"1h\"".to_string()),
        "workload" if keys.len() == 1 => Some("a table such as [workload] with users = 100 and think_time = { dist = \"exponential\", mean = \"8s\" }".into()),
        "network" if keys.len() == 1 => Some("a table such as [network] with client_rtt = \"40ms\"".into()),
        "slo" if keys.len() == 1 => Some("a table such as [slo] with p99 = \"300ms\" or objectives = [\"p(99) < 300ms\"]".into()),
        "components" if keys.len() == 1 => Some("tables such as [components.web] with kind = \"server\"".into()),
        _ if keys.len() == 2 && keys[0] == "components" => Some(format!(
            "a table such as [components.{last}] with kind = \"server\""
        )),
        "metric" if under("scaling") => Some(one_of("metric", METRIC_NAMES)),
        "target" if under("scaling") => Some("a number, such as target = 0.6".into()),
        "cv" => Some("a number above 0, such as cv = 1.5".into()),
        "k" => Some("a whole number of phases, such as k = 4".into()),
        "steps" => Some("a list of steps such as [{ above = 0.7, change = 2 }]".into()),
        "change" => Some("a whole number of instances to add or remove, such as change = 2 or change = -1".into()),
        "retries" => Some("a table such as { max = 2, backoff = \"exponential\", base = \"100ms\" }".into()),
        "backoff" => Some(one_of("backoff", BACKOFF_NAMES)),
        "moves" if under("journey") => Some(one_of("moves", MOVES_NAMES)),
        "health_check" => Some("a table such as { interval = \"10s\", timeout = \"2s\", unhealthy = 2, healthy = 3 }".into()),
        "failover" => Some("a table such as { secondary = \"backup\", interval = \"30s\", threshold = 3 }".into()),
        "targets" => Some("a fleet name such as targets = \"web\", or a list of server names such as targets = [\"web1\", \"web2\"]".into()),
        "algorithm" => Some(one_of("algorithm", ALGORITHM_NAMES)),
        "kind" if under("faults") => Some(one_of("kind", FAULT_KIND_NAMES)),
        "kind" => Some(one_of("kind", super::COMPONENT_KINDS)),
        "spikes" => Some("a list of spikes such as [{ at = \"10m\", multiplier = 3.0, ramp = \"1m\", hold = \"5m\" }]".into()),
        "mix" => Some("a list of request classes such as [{ name = \"browse\", weight = 0.8 }]".into()),
        "bots" => Some("a list of bots such as [{ name = \"crawler\", rate = \"5/s\" }]".into()),
        "schedule" => Some("a list of scheduled actions such as [{ at = \"30m\", desired = 4 }]".into()),
        "resize" => Some("a list of resizes such as [{ at = \"30m\", to = \"c5.xlarge\" }]".into()),
        "faults" => Some("a list of faults, each written [[faults]] with at = \"20m\", kind = \"crash\", target = \"web\"".into()),
        "daily_curve" => Some("a list of 24 numbers, one per hour, such as [0.2, 0.1, ...]".into()),
        "objectives" => Some("a list of objectives such as [\"p(99) < 300ms\", \"error_rate < 0.1%\"]".into()),
        "users" => Some("a whole number of users, such as users = 1000".into()),
        "max" if under("retries") => Some("a whole number of retries, such as max = 2".into()),
        "min" | "max" | "desired" => Some(format!("a whole number of instances, such as {last} = 2")),
        "workers" => Some("a whole number of requests served at once, such as workers = 64".into()),
        "backlog" => Some("a whole number of waiting connections, such as backlog = 511".into()),
        "vcpus" => Some("a whole number of vCPUs, such as vcpus = 2".into()),
        "azs" => Some("a whole number of availability zones, such as azs = 3".into()),
        "resolvers" => Some("a whole number of resolvers, such as resolvers = 20".into()),
        "chapter" => Some("a chapter number, such as chapter = 3".into()),
        "seed" => Some("a whole number, 0 or more, such as seed = 42".into()),
        "healthy" | "unhealthy" | "threshold" | "scale_out_periods" | "scale_in_periods" => {
            Some(format!("a whole number of checks, such as {last} = 3"))
        }
        "max_outstanding" => Some("a whole number of requests, such as max_outstanding = 1000".into()),
        "name" | "path" | "description" | "record" | "secondary" | "target" | "to" | "az"
        | "instance" | "class" => Some(format!("text in quotes, such as {last} = \"{}\"", match last {
            "path" => "/products",
            "instance" => "t3.small",
            "to" => "c5.xlarge",
            "az" => "a",
            "class" => "buy",
            "description" => "what this shows",
            _ => "web",
        })),
        "jitter" if under("retries") => Some("true or false, such as jitter = true".into()),
        "fail_open" | "tls_termination" => Some(format!("true or false, such as {last} = false")),
        _ => None,
    };
    if let Some(w) = by_key {
        return w;
    }
    // By serde's type name.
    let struct_name = expected
        .split_whitespace()
        .skip_while(|w| *w != "struct" && *w != "enum")
        .nth(1)
        .unwrap_or("");
    let by_type = match struct_name {
        "" => None,
        _ => Some(format!(
            "a table of settings (see the scenario reference for `{last}`)"
        )),
    };
    if let Some(w) = by_type {
        return w;
    }
    let e = expected.trim();
    match e {
        "i32" | "i64" => "a whole number (it may be negative), such as 2 or -1".into(),
        "u8" => "a whole number from 0 to 255, such as 3".into(),
        "u16" => "a whole number from 0 to 65,535, such as 3".into(),
        "u32" | "usize" => "a whole number from 0 to 4,294,967,295, such as 10".into(),
        "u64" => "a whole number, 0 or more, such as 10".into(),
        "f32" | "f64" => "a number, such as 0.5".into(),
        "a boolean" => "true or false".into(),
        "a string" => "text in quotes, such as \"web\"".into(),
        "a sequence" => "a list in brackets, such as [1, 2]".into(),
        "a map" => "a table, such as { key = \"value\" }".into(),
        _ if wants_tag => "one of the names listed in the scenario reference".into(),
        _ => "a value of another type (see the scenario reference)".into(),
    }
}

/// Whether serde's `expected …` names a Rust type rather than saying what to write.
fn is_jargon(expected: &str) -> bool {
    let e = expected.trim();
    const PRIMITIVES: &[&str] = &[
        "i8",
        "i16",
        "i32",
        "i64",
        "u8",
        "u16",
        "u32",
        "u64",
        "usize",
        "isize",
        "f32",
        "f64",
        "a boolean",
        "a string",
        "a borrowed string",
        "a sequence",
        "a map",
        "a character",
        "unit",
        "string or map",
        "map with a single key",
        "string only",
        "variant identifier",
        "field identifier",
    ];
    PRIMITIVES.contains(&e)
        || ["struct ", "enum ", "adjacently tagged enum ", "tuple"]
            .iter()
            .any(|p| e.starts_with(p))
}

/// serde's description of a value it found ("floating point `1.5`", "map") in the scenario's
/// terms; `None` where it names no value the user wrote.
fn found_words(found: &str) -> Option<String> {
    let f = found.trim();
    let inner = |p: &str| {
        f.strip_prefix(p)
            .map(|r| r.trim().trim_matches('`').to_string())
    };
    if let Some(v) = inner("boolean") {
        return Some(v);
    }
    if let Some(v) = inner("floating point") {
        // serde writes every digit (1e300 as 301 of them): past 20, as written.
        return Some(match v.parse::<f64>() {
            Ok(x) if v.len() > 20 => format!("the number {}", number(x)),
            _ => format!("the number {v}"),
        });
    }
    if let Some(v) = inner("integer") {
        return Some(format!("the number {v}"));
    }
    if let Some(v) = f.strip_prefix("string ") {
        return Some(format!("the text {}", clip(v.trim(), 80)));
    }
    match f {
        "map" => Some("a table".into()),
        "sequence" => Some("a list".into()),
        "unit" | "unit variant" | "newtype variant" | "tuple variant" | "struct variant" => None,
        _ => Some(clip(f, 80).into_owned()),
    }
}

/// serde's message at `path` in the scenario's words: "invalid type: floating point `1.5`,
/// expected i32" at `…steps[0].change` becomes "expected a whole number of instances to add or
/// remove, such as change = 2 or change = -1, found the number 1.5".
pub fn plain_words_at(path: &[Seg], msg: &str) -> String {
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            let want = expectation(path, expected);
            return match found_words(found) {
                Some(f) => format!("expected {want}, found {f}"),
                None => format!("expected {want}"),
            };
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            let want = expectation(path, expected);
            return match found_words(found) {
                Some(f) if f.starts_with("the number ") => {
                    let n = f.trim_start_matches("the number ");
                    format!("{n} is out of range: expected {want}")
                }
                Some(f) => format!("expected {want}, found {f}"),
                None => format!("expected {want}"),
            };
        }
    }
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        if let Some((_, expected)) = rest.split_once(", expected ") {
            let expected = expected
                .split(" with ")
                .next()
                .unwrap_or(expected)
                .to_string();
            return format!("expected {}, found a list", expectation(path, &expected));
        }
    }
    if msg.starts_with("data did not match any variant of untagged enum") {
        let name = msg.rsplit(' ').next().unwrap_or("");
        return format!("expected {}", expectation(path, &format!("enum {name}")));
    }
    msg.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_shown_as_written_at_every_size() {
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(250.0), "250");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(-1.5), "-1.5");
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(-1e300), "-1e300");
        assert_eq!(number(5e-324), "5e-324");
        assert_eq!(number(f64::MAX), "1.7976931348623157e308");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "inf");
        assert_eq!(number(1e14), "100000000000000");
    }

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, src.find('=').unwrap()), (1, 3));
        let off = src.rfind('=').unwrap();
        assert_eq!(line_col(src, off), (2, 4));
    }

    #[test]
    fn locates_nested_keys_tables_and_arrays() {
        let src = "[scenario]\nname = \"x\"\n\n[components.web]\nkind = \"server\"\nservice = { dist = \"exponential\", mean = \"5ms\" }\n\n[[faults]]\nat = \"1m\"\n\n[[faults]]\nat = \"2m\"\n[workload]\nmix = [{ name = \"a\" }, { name = \"b\" }]\n";
        let at = |p: &[Seg]| locate(src, p).map(|r| line_col(src, r.start));
        let k = |s: &str| Seg::Key(s.into());
        assert_eq!(at(&[k("scenario"), k("name")]), Some((2, 1)));
        assert_eq!(
            at(&[k("components"), k("web"), k("service"), k("mean")]),
            Some((6, 35))
        );
        assert_eq!(at(&[k("faults"), Seg::Index(1), k("at")]), Some((12, 1)));
        assert_eq!(
            at(&[k("workload"), k("mix"), Seg::Index(1), k("name")]),
            Some((14, 26))
        );
        // Past the end: the deepest existing part.
        assert_eq!(at(&[k("components"), k("web"), k("nope")]), Some((4, 13)));
    }

    fn diag_at(line: usize, col: usize, snippet: String) -> Diagnostic {
        Diagnostic {
            file: "f.toml".into(),
            location: Some((line, col)),
            key_path: Some("scenario.descrption".into()),
            message: "unknown key `descrption`".into(),
            help: None,
            snippet: Some(snippet),
        }
    }

    #[test]
    fn column_past_65535_prints_without_panicking() {
        let line = format!("name = \"{}\", descrption = 1", "x".repeat(70_000));
        let col = line.find("descrption").unwrap() + 1;
        let text = diag_at(18, col, line.clone()).to_string();
        assert!(text.contains(&format!("f.toml:18:{col}")), "{text}");
        // The snippet is a window around the column, with the caret under the typo.
        let rows: Vec<&str> = text.lines().collect();
        let (src, caret) = (rows[2], rows[3]);
        assert!(src.chars().count() < SNIPPET_WIDTH + 20, "{src}");
        assert!(src.contains('…'), "cut text is marked: {src}");
        let at = caret.chars().position(|c| c == '^').unwrap();
        let under: String = src.chars().skip(at).take(10).collect();
        assert_eq!(under, "descrption", "caret row:\n{src}\n{caret}");
    }

    #[test]
    fn long_snippet_lines_are_windowed_around_the_column_on_both_sides() {
        let line = format!("{}BAD{}", "a".repeat(500), "b".repeat(500));
        let (shown, caret) = snippet_window(&line, 501);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(shown.chars().nth(caret - 1), Some('B'));
        // Near the start: no leading mark; near the end: no trailing one.
        let (shown, caret) = snippet_window(&line, 2);
        assert!(!shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(caret, 2);
        let (shown, caret) = snippet_window(&line, 1003);
        assert!(shown.starts_with('…') && !shown.ends_with('…'));
        assert_eq!(shown.chars().nth(caret - 1), Some('b'));
        // Short lines are shown whole.
        assert_eq!(snippet_window("a = 1", 5), ("a = 1".to_string(), 5));
        // Long messages keep their start and end.
        let long = "m".repeat(10_000);
        let m = clip(&long, MAX_SHOWN);
        assert!(m.chars().count() < MAX_SHOWN + 40 && m.contains("characters left out"));
    }

    #[test]
    fn suggestions() {
        let msg = "unknown field `servce`, expected one of `instance`, `service`, `workers`";
        assert_eq!(unknown_name(msg).as_deref(), Some("servce"));
        let names = expected_names(msg);
        assert_eq!(names, vec!["instance", "service", "workers"]);
        assert_eq!(
            nearest("servce", names.iter().map(String::as_str)),
            Some("service")
        );
        assert_eq!(nearest("zzzzzz", ["service"]), None);
        // Short names: one swap, one missing or one extra letter is still a likely typo.
        assert_eq!(nearest("wbe", ["web", "db"]), Some("web"));
        assert_eq!(nearest("wb", ["web"]), Some("web"));
        assert_eq!(nearest("webb", ["web", "db"]), Some("web"));
        assert_eq!(nearest("a", ["b"]), None);
        assert_eq!(nearest("nope", ["name", "seed"]), None);
    }

    /// The names the plain-words messages list are the ones the loader accepts (from the schema,
    /// which is derived from the loader's own types), so the two cannot drift apart.
    #[test]
    fn names_in_plain_word_messages_match_the_schema() {
        let schema = super::super::schema::scenario_schema();
        let defs = &schema["definitions"];
        let variants = |def: &str| -> Vec<String> {
            defs[def]["oneOf"]
                .as_array()
                .unwrap_or_else(|| panic!("{def} has variants"))
                .iter()
                .map(|v| v["enum"][0].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(variants("Algorithm"), ALGORITHM_NAMES);
        assert_eq!(variants("FaultKind"), FAULT_KIND_NAMES);
        assert_eq!(variants("Metric"), METRIC_NAMES);
        assert_eq!(variants("Backoff"), BACKOFF_NAMES);
        assert_eq!(variants("Moves"), MOVES_NAMES);
        // `dist` and `policy` names are the tagged tables' own (scenario/tagged.rs checks them).
    }

    #[test]
    fn serde_type_messages_are_rewritten_by_key_path() {
        let k = |s: &str| Seg::Key(s.into());
        let change = [
            k("components"),
            k("web"),
            k("scaling"),
            k("steps"),
            Seg::Index(0),
            k("change"),
        ];
        assert_eq!(
            plain_words_at(&change, "invalid type: floating point `1.5`, expected i32"),
            "expected a whole number of instances to add or remove, such as change = 2 or \
             change = -1, found the number 1.5"
        );
        assert_eq!(
            plain_words_at(
                &[k("slo")],
                "invalid length 1, expected struct SloConfig with 7 elements"
            ),
            "expected a table such as [slo] with p99 = \"300ms\" or objectives = \
             [\"p(99) < 300ms\"], found a list"
        );
        // Already plain messages pass through; so do the unknown-key ones suggestions read.
        let m = "unknown field `servce`, expected one of `service`";
        assert_eq!(plain_words_at(&[k("x")], m), m);
        let m = "a bare number (5) has no unit; expected a duration with a unit";
        assert_eq!(plain_words_at(&[k("timeout")], m), m);
    }
}
