//! Trace files (`workload.trace`): recorded arrivals in CSV, read and checked into rows the client
//! replays ([`crate::model::trace`]).
//!
//! ```text
//! # lines starting with # are comments; blank lines are skipped
//! time,path,key                    ← a header row naming the columns, in any order
//! 0.9,/login,203.0.113.7           ← seconds on the trace's clock, a URL path, who is asking
//! 0.9,/login?next=/cart,203.0.113.7
//! 1.25,/products/42,alice
//! ```
//!
//! Columns (names in any case; no others):
//! - `time` — seconds as a decimal number (`12.5`, to the nanosecond) on the trace's own clock:
//!   0 is replayed at the trace's `start`, so a trace may begin quietly; or an RFC 3339 timestamp
//!   (`2024-05-01T12:00:00.250Z`, `…+02:00`), made relative to the earliest one in the file. One
//!   form per file.
//! - `class` — a request class of the mix (or `request` without one) or a bot's; or `path` — a URL
//!   path, matched to the class whose path is its longest prefix (whole segments; the query and
//!   fragment are left out). Exactly one of the two.
//! - `key` — who is asking (an IP address, an API key, a user id): any text; equal texts are the
//!   same client. Clients are numbered in order of first appearance within their population,
//!   down from the top of its key space ([`trace_client`]), so they never share a key with the
//!   synthetic users, arrivals or bot keys, which count up from 0.
//! - `population` (optional) — `users` (the default, also for an empty field) or a bot's name:
//!   whose requests these are, as a rate limiter counts them.
//!
//! Fields are separated by commas; spaces around a field are dropped; a field may be quoted
//! (`"a,b"`, with `""` for a quote inside). Rows out of time order are sorted by time (stably: rows
//! at the same time keep their file order) and a note says how many there were. A bad row is
//! reported at its line and column with the column's name; at most [`MAX_ROW_ERRORS`] problems are
//! listed, the last of them counting the rest. A file over [`Limits::DEFAULT`]'s size or row count
//! is refused before it is parsed.

use super::error::{nearest, thousands, Diagnostic, MAX_ERRORS_SHOWN};
use super::validate::context::{path_has_prefix, ClassPath};
use crate::model::request::client_key;
use crate::model::trace::TraceRow;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// Largest trace file read: 256 MiB (about ten million rows of `time,path,key`).
pub const MAX_TRACE_BYTES: u64 = 256 << 20;

/// Most rows a trace may have: ten million (160 MB of rows in memory, 16 bytes each).
pub const MAX_TRACE_ROWS: usize = 10_000_000;

/// Most problems reported for one trace: as many as a load error prints.
pub const MAX_ROW_ERRORS: usize = MAX_ERRORS_SHOWN;

/// Most distinct keys per population: a request's key keeps 24 bits for the client.
pub const MAX_KEYS: usize = 1 << 24;

/// The client number (within its population, see [`client_key`]) of the `id`-th distinct key of a
/// trace's population: 16,777,215 for the first, then down.
pub fn trace_client(id: u32) -> u32 {
    (MAX_KEYS - 1) as u32 - id
}

/// How big a trace may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in the file.
    pub bytes: u64,
    /// Rows after the header.
    pub rows: usize,
}

impl Limits {
    /// [`MAX_TRACE_BYTES`] and [`MAX_TRACE_ROWS`].
    pub const DEFAULT: Limits = Limits {
        bytes: MAX_TRACE_BYTES,
        rows: MAX_TRACE_ROWS,
    };
}

/// What a request row can name: the workload's classes (mix first, then bots) with their paths,
/// and its bots (population 1 + i is bot i).
#[derive(Clone, Copy, Debug)]
pub struct Names<'a> {
    /// The classes, in class order.
    pub classes: &'a [ClassPath],
    /// The bots' names.
    pub bots: &'a [String],
}

/// A trace read and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The rows in time order, `at` on the trace's clock (ns from its zero).
    pub rows: Vec<TraceRow>,
    /// Rows that came earlier than a row above them (0 for a sorted file).
    pub out_of_order: u64,
    /// Distinct clients (keys within their population).
    pub clients: u64,
    /// Distinct clients by population (0 the users, 1 + i bot i).
    pub clients_by_population: Vec<u64>,
}

/// Why a trace could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum TraceError {
    /// About the file as a whole (unreadable, too big, empty): the scenario's `workload.trace`
    /// key is the place to report it.
    File {
        /// What is wrong.
        message: String,
        /// What would be right.
        help: Option<String>,
    },
    /// Problems at places in the file (file:line:column, the column's name as the key path).
    Rows(Vec<Diagnostic>),
}

fn file_err(message: impl Into<String>, help: Option<&str>) -> TraceError {
    TraceError::File {
        message: message.into(),
        help: help.map(str::to_string),
    }
}

/// Bytes in MiB, e.g. "256 MiB", "300.5 MiB".
fn mib(bytes: u64) -> String {
    if bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

/// Reads and checks the trace at `path` (named `shown` in diagnostics).
pub fn read(path: &Path, shown: &str, names: Names, limits: Limits) -> Result<Parsed, TraceError> {
    let cannot = |e: std::io::Error| file_err(format!("cannot read the trace {shown}: {e}"), None);
    let too_big = |size: String| {
        file_err(
            format!(
                "the trace {shown} is {size}; a trace file may be at most {}",
                mib(limits.bytes)
            ),
            Some("replay a part of it: `head -n 1000001 big.csv > part.csv` keeps the header and the first million rows"),
        )
    };
    let file = std::fs::File::open(path).map_err(cannot)?;
    if let Ok(m) = file.metadata() {
        if m.is_dir() {
            return Err(file_err(
                format!("the trace {shown} is a folder, not a CSV file"),
                None,
            ));
        }
        if m.len() > limits.bytes {
            return Err(too_big(mib(m.len())));
        }
    }
    // At most one byte past the limit: a pipe or a device has no size up front.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, limits.bytes + 1), &mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limits.bytes {
        return Err(too_big(format!("over {}", mib(limits.bytes))));
    }
    if bytes.contains(&0) {
        return Err(file_err(
            format!("the trace {shown} is a binary file, not CSV text"),
            None,
        ));
    }
    // Count the rows before parsing any: a trace past the limit is refused at once.
    let lines = bytes
        .split(|&b| b == b'\n')
        .filter(|l| is_row(l.trim_ascii_start()))
        .count();
    let rows = lines.saturating_sub(1);
    if rows > limits.rows {
        return Err(file_err(
            format!(
                "the trace {shown} has {} rows; a trace may have at most {} rows",
                thousands(rows as u64),
                thousands(limits.rows as u64)
            ),
            Some("replay a part of it: `head -n 1000001 big.csv > part.csv` keeps the header and the first million rows"),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let bad = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let before = String::from_utf8_lossy(&bytes[..bad]);
            let (line, col) = super::error::line_col(&before, before.len());
            let line_start = bytes[..bad]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let line_end = bytes[bad..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| bad + i);
            return Err(TraceError::Rows(vec![Diagnostic {
                file: shown.to_string(),
                location: Some((line, col)),
                key_path: None,
                message: format!(
                    "the trace is not UTF-8 text: byte 0x{:02x} (offset {bad}) is not valid UTF-8",
                    bytes[bad]
                ),
                help: Some("save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 FILE`)".into()),
                snippet: Some(
                    String::from_utf8_lossy(&bytes[line_start..line_end])
                        .trim_end()
                        .to_string(),
                ),
            }]));
        }
    };
    parse(&text, shown, names)
}

/// A line that is a row (or the header): not blank, not a `#` comment.
fn is_row(trimmed: &[u8]) -> bool {
    !trimmed.is_empty() && trimmed[0] != b'#'
}

/// The columns a trace may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    Time,
    Class,
    Path,
    Key,
    Population,
}

/// Column names, as the header writes them.
pub const COLUMNS: [&str; 5] = ["time", "class", "path", "key", "population"];

impl Col {
    fn from_name(name: &str) -> Option<Col> {
        Some(match name {
            "time" => Col::Time,
            "class" => Col::Class,
            "path" => Col::Path,
            "key" => Col::Key,
            "population" => Col::Population,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Col::Time => "time",
            Col::Class => "class",
            Col::Path => "path",
            Col::Key => "key",
            Col::Population => "population",
        }
    }
}

/// How a file writes its times (the first row decides).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Seconds,
    Timestamp,
}

/// One field of a line: its byte offset in the line and its text (unquoted).
type Field<'a> = (usize, Cow<'a, str>);

/// Splits a line into fields at commas; a field may be quoted (`""` is a quote inside). Spaces
/// around a field are dropped. `Err` with the byte offset and the problem for a broken quote.
fn split<'a>(line: &'a str, out: &mut Vec<Field<'a>>) -> Result<(), (usize, String)> {
    out.clear();
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        let start = i;
        if i < b.len() && b[i] == b'"' {
            let mut text = String::new();
            let mut j = i + 1;
            let mut from = j;
            loop {
                match line[j..].find('"') {
                    None => return Err((start, "this quote is never closed".into())),
                    Some(q) => {
                        let q = j + q;
                        text.push_str(&line[from..q]);
                        if b.get(q + 1) == Some(&b'"') {
                            text.push('"');
                            j = q + 2;
                            from = j;
                        } else {
                            j = q + 1;
                            break;
                        }
                    }
                }
            }
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            out.push((start, Cow::Owned(text)));
            match b.get(j) {
                None => return Ok(()),
                Some(b',') => i = j + 1,
                Some(_) => return Err((
                    j,
                    "text after a closing quote (a quote inside a quoted field is written \"\")"
                        .into(),
                )),
            }
        } else {
            let end = line[i..].find(',').map_or(b.len(), |c| i + c);
            out.push((start, Cow::Borrowed(line[start..end].trim_end())));
            if end == b.len() {
                return Ok(());
            }
            i = end + 1;
        }
    }
}

/// Collects a trace's problems: all of them up to [`MAX_ROW_ERRORS`]; past that, the first
/// [`MAX_ROW_ERRORS`] − 1 and one that counts the rest (so at most [`MAX_ROW_ERRORS`] are
/// reported, and fifty are all shown).
struct Problems<'a> {
    shown: &'a str,
    diags: Vec<Diagnostic>,
    total: u64,
}

impl Problems<'_> {
    /// A problem at byte `at` of line `line` (1-based) whose text is `text`, in column `col`.
    fn at(
        &mut self,
        line: usize,
        text: &str,
        at: usize,
        col: Option<&str>,
        message: String,
        help: Option<String>,
    ) {
        self.total += 1;
        if self.diags.len() >= MAX_ROW_ERRORS {
            return;
        }
        let mut at = at.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let column = text[..at].chars().count() + 1;
        self.diags.push(Diagnostic {
            file: self.shown.to_string(),
            location: Some((line, column)),
            key_path: col.map(str::to_string),
            message,
            help,
            snippet: Some(text.trim_end().to_string()),
        });
    }

    fn any(&self) -> bool {
        self.total > 0
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        if self.total > MAX_ROW_ERRORS as u64 {
            let listed = MAX_ROW_ERRORS - 1;
            self.diags.truncate(listed);
            let n = self.total - listed as u64;
            self.diags.push(Diagnostic {
                file: self.shown.to_string(),
                location: None,
                key_path: None,
                message: format!(
                    "… and {} more problems in this trace (the first {listed} are shown; fix them and run again)",
                    thousands(n),
                ),
                help: None,
                snippet: None,
            });
        }
        self.diags
    }
}

/// "a, b, c" of at most 12 names, then "…".
fn list(names: &[&str]) -> String {
    let mut s = names
        .iter()
        .take(12)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 12 {
        s.push_str(", …");
    }
    s
}

/// Parses trace text (the whole file); `shown` names it in diagnostics.
pub fn parse(text: &str, shown: &str, names: Names) -> Result<Parsed, TraceError> {
    let mut p = Problems {
        shown,
        diags: Vec::new(),
        total: 0,
    };
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| is_row(l.trim_start().as_bytes()));
    let Some((hline, header)) = lines.next() else {
        return Err(file_err(
            format!("the trace {shown} is empty"),
            Some("its first row names the columns, e.g. `time,path,key`, and each row after it is one request"),
        ));
    };
    // The header.
    let mut fields = Vec::new();
    if let Err((at, msg)) = split(header, &mut fields) {
        p.at(hline, header, at, None, msg, None);
        return Err(TraceError::Rows(p.finish()));
    }
    let mut cols: Vec<Col> = Vec::new();
    for (at, name) in &fields {
        let lower = name.to_ascii_lowercase();
        match Col::from_name(&lower) {
            Some(c) if cols.contains(&c) => p.at(
                hline,
                header,
                *at,
                None,
                format!("the column `{lower}` is named twice"),
                None,
            ),
            Some(c) => cols.push(c),
            None => {
                let help = match nearest(&lower, COLUMNS) {
                    Some(n) => format!("did you mean `{n}`? (columns: {})", COLUMNS.join(", ")),
                    None => format!("the columns are: {}", COLUMNS.join(", ")),
                };
                p.at(
                    hline,
                    header,
                    *at,
                    None,
                    if name.is_empty() {
                        "a column without a name in the header".to_string()
                    } else {
                        format!("unknown column `{name}`")
                    },
                    Some(help),
                );
            }
        }
    }
    if p.any() {
        return Err(TraceError::Rows(p.finish()));
    }
    let end = header.len();
    let has = |c: Col| cols.contains(&c);
    if !has(Col::Time) {
        p.at(
            hline,
            header,
            end,
            None,
            "the header names no `time` column".into(),
            Some("e.g. `time,path,key`".into()),
        );
    }
    if !has(Col::Key) {
        p.at(
            hline,
            header,
            end,
            None,
            "the header names no `key` column (who is asking: an IP address, an API key, a user)"
                .into(),
            Some("e.g. `time,path,key`".into()),
        );
    }
    match (has(Col::Class), has(Col::Path)) {
        (true, true) => {
            let at = fields[cols.iter().position(|&c| c == Col::Path).unwrap_or(0)].0;
            p.at(
                hline,
                header,
                at,
                None,
                "give a `class` or a `path` column, not both".into(),
                None,
            );
        }
        (false, false) => p.at(
            hline,
            header,
            end,
            None,
            "the header names no `class` or `path` column (what is asked for)".into(),
            Some("e.g. `time,path,key` (a URL path, matched to a class by its path) or `time,class,key`".into()),
        ),
        _ => {}
    }
    if p.any() {
        return Err(TraceError::Rows(p.finish()));
    }
    let header_names: Vec<&str> = cols.iter().map(|c| c.name()).collect();

    // The rows.
    let class_names: Vec<&str> = names.classes.iter().map(|c| c.name.as_str()).collect();
    let class_paths: Vec<&str> = names.classes.iter().map(|c| c.path.as_str()).collect();
    let mut pop_names: Vec<&str> = vec!["users"];
    pop_names.extend(names.bots.iter().map(String::as_str));
    // Ids are handed out in order of first appearance; the maps are looked up, never iterated,
    // so their order cannot reach any output.
    let mut keys: Vec<HashMap<String, u32>> = vec![HashMap::new(); pop_names.len()];
    let mut by_path: HashMap<String, Option<u16>> = HashMap::new();
    let mut rows: Vec<TraceRow> = Vec::new();
    let mut stamps: Vec<i128> = Vec::new();
    let mut form: Option<(Form, usize)> = None;
    for (line, text) in lines {
        if let Err((at, msg)) = split(text, &mut fields) {
            p.at(line, text, at, None, msg, None);
            continue;
        }
        if fields.len() > cols.len() {
            p.at(
                line,
                text,
                fields[cols.len()].0,
                None,
                format!(
                    "too many fields: the header names {} column{} ({}), this row has {}",
                    cols.len(),
                    if cols.len() == 1 { "" } else { "s" },
                    header_names.join(", "),
                    fields.len()
                ),
                None,
            );
            continue;
        }
        let (mut t, mut stamp, mut class, mut key_text, mut pop) = (0, 0, None, None, Some(0u8));
        let mut ok = true;
        for (i, &c) in cols.iter().enumerate() {
            let Some((at, v)) = fields.get(i).map(|(a, v)| (a, &**v)) else {
                p.at(
                    line,
                    text,
                    text.len(),
                    Some(c.name()),
                    format!(
                        "missing field `{}`: the header names {} columns ({}), this row has {}",
                        c.name(),
                        cols.len(),
                        header_names.join(", "),
                        fields.len()
                    ),
                    None,
                );
                ok = false;
                break;
            };
            let mut bad = |msg: String, help: Option<String>| {
                p.at(line, text, *at, Some(c.name()), msg, help);
                ok = false;
            };
            match c {
                Col::Time => {
                    let this = if looks_like_timestamp(v) {
                        Form::Timestamp
                    } else {
                        Form::Seconds
                    };
                    match form {
                        Some((f, first)) if f != this => {
                            bad(
                                format!(
                                    "this trace writes its times as {} (line {first}), found \"{}\"",
                                    match f {
                                        Form::Seconds => "seconds",
                                        Form::Timestamp => "RFC 3339 timestamps",
                                    },
                                    super::error::clip(v, 80)
                                ),
                                Some("one form per file: seconds such as 12.5, or timestamps such as 2024-05-01T12:00:00.250Z".into()),
                            );
                            continue;
                        }
                        None => form = Some((this, line)),
                        _ => {}
                    }
                    let r = match this {
                        Form::Seconds => parse_seconds(v).map(|s| t = s),
                        Form::Timestamp => parse_timestamp(v).map(|s| stamp = s),
                    };
                    if let Err(e) = r {
                        bad(e, None);
                    }
                }
                Col::Class => match class_names.iter().position(|n| *n == v) {
                    Some(i) => class = Some(i as u16),
                    None => {
                        let help = match nearest(v, class_names.iter().copied()) {
                            Some(n) => {
                                format!("did you mean \"{n}\"? (classes: {})", list(&class_names))
                            }
                            None => format!("the classes are: {}", list(&class_names)),
                        };
                        bad(
                            format!(
                                "unknown class \"{}\": a class of the workload's mix or bots",
                                super::error::clip(v, 80)
                            ),
                            Some(help),
                        );
                    }
                },
                Col::Path => {
                    let path = v.split(['?', '#']).next().unwrap_or("");
                    if !path.starts_with('/') {
                        bad(
                            format!(
                                "a path starts with \"/\", found \"{}\"",
                                super::error::clip(v, 80)
                            ),
                            None,
                        );
                        continue;
                    }
                    let found = match by_path.get(path) {
                        Some(&f) => f,
                        None => {
                            let f = class_paths
                                .iter()
                                .enumerate()
                                .filter(|(_, cp)| path_has_prefix(path, cp))
                                .max_by_key(|(i, cp)| (cp.len(), std::cmp::Reverse(*i)))
                                .map(|(i, _)| i as u16);
                            if by_path.len() < 1 << 16 {
                                by_path.insert(path.to_string(), f);
                            }
                            f
                        }
                    };
                    match found {
                        Some(i) => class = Some(i),
                        None => bad(
                            format!(
                                "no class's path is a prefix of \"{}\"",
                                super::error::clip(path, 80)
                            ),
                            Some(format!(
                                "the classes' paths are: {}; add a class for it to the mix (a class with path = \"/\" takes every path)",
                                list(&class_paths)
                            )),
                        ),
                    }
                }
                Col::Key => {
                    if v.is_empty() {
                        bad(
                            "empty key: who is asking (an IP address, an API key, a user)".into(),
                            None,
                        );
                    } else {
                        key_text = Some(v);
                    }
                }
                Col::Population => {
                    if v.is_empty() {
                        pop = Some(0);
                    } else {
                        match pop_names.iter().position(|n| *n == v) {
                            Some(i) => pop = Some(i as u8),
                            None => {
                                let help = match nearest(v, pop_names.iter().copied()) {
                                    Some(n) => format!(
                                        "did you mean \"{n}\"? (populations: {})",
                                        list(&pop_names)
                                    ),
                                    None => format!("the populations are: {}", list(&pop_names)),
                                };
                                pop = None;
                                bad(
                                    format!(
                                        "unknown population \"{}\": \"users\" or a bot's name",
                                        super::error::clip(v, 80)
                                    ),
                                    Some(help),
                                );
                            }
                        }
                    }
                }
            }
        }
        let (true, Some(class), Some(key), Some(pop)) = (ok, class, key_text, pop) else {
            continue;
        };
        let map = &mut keys[pop as usize];
        let client = match map.get(key) {
            Some(&id) => id,
            None if map.len() >= MAX_KEYS => {
                let at = fields[cols.iter().position(|&c| c == Col::Key).unwrap_or(0)].0;
                p.at(
                    line,
                    text,
                    at,
                    Some("key"),
                    format!(
                        "more than {} distinct keys for {}: a population has at most that many clients",
                        thousands(MAX_KEYS as u64),
                        pop_names[pop as usize]
                    ),
                    None,
                );
                continue;
            }
            None => {
                let id = map.len() as u32;
                map.insert(key.to_string(), id);
                id
            }
        };
        rows.push(TraceRow {
            at: t,
            key: client_key(pop, trace_client(client)),
            class,
        });
        if form.is_some_and(|(f, _)| f == Form::Timestamp) {
            stamps.push(stamp);
        }
    }
    if p.any() {
        return Err(TraceError::Rows(p.finish()));
    }
    if rows.is_empty() {
        return Err(file_err(
            format!("the trace {shown} has a header but no rows"),
            Some("each row after the header is one request, e.g. `0.5,/login,203.0.113.7`"),
        ));
    }
    if !stamps.is_empty() {
        // Relative to the earliest timestamp (the first row of a sorted file).
        let zero = stamps.iter().copied().min().unwrap_or(0);
        for (r, s) in rows.iter_mut().zip(&stamps) {
            // Timestamps span at most 10,000 years: the difference fits in u64 ns only up to
            // 584 years, and anything past a run's 30 days is left out anyway.
            r.at = u64::try_from(s - zero).unwrap_or(u64::MAX);
        }
    }
    let mut out_of_order = 0;
    let mut latest = 0;
    for r in &rows {
        if r.at < latest {
            out_of_order += 1;
        }
        latest = latest.max(r.at);
    }
    if out_of_order > 0 {
        rows.sort_by_key(|r| r.at); // stable: rows at the same time keep their file order
    }
    Ok(Parsed {
        rows,
        out_of_order,
        clients: keys.iter().map(|m| m.len() as u64).sum(),
        clients_by_population: keys.iter().map(|m| m.len() as u64).collect(),
    })
}

/// `2024-…`: four digits and a dash.
fn looks_like_timestamp(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// Seconds as a decimal number (`12`, `12.5`, `.25`), to the nanosecond (digits past the ninth
/// are dropped).
pub fn parse_seconds(v: &str) -> Result<u64, String> {
    let expected = || {
        format!(
            "expected the time in seconds, such as 12.5, or an RFC 3339 timestamp such as \
             2024-05-01T12:00:00.250Z; found \"{}\"",
            super::error::clip(v, 80)
        )
    };
    if let Some(rest) = v.strip_prefix('-') {
        return match parse_seconds(rest) {
            Ok(0) => Ok(0),
            Ok(_) => Err(format!(
                "a time can't be negative, found \"{}\" (times count from the trace's zero)",
                super::error::clip(v, 80)
            )),
            Err(_) => Err(expected()),
        };
    }
    let s = v.strip_prefix('+').unwrap_or(v);
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(expected());
    }
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| too_late(v))?
    };
    let mut ns: u64 = 0;
    for (i, d) in frac.bytes().take(9).enumerate() {
        ns += u64::from(d - b'0') * 10u64.pow(8 - i as u32);
    }
    whole
        .checked_mul(1_000_000_000)
        .and_then(|w| w.checked_add(ns))
        .ok_or_else(|| too_late(v))
}

fn too_late(v: &str) -> String {
    format!(
        "the time {} s is too large: at most 18446744073 s (584 years) after the trace's zero",
        super::error::clip(v, 40)
    )
}

/// An RFC 3339 timestamp (`2024-05-01T12:00:00.250Z`, `2024-05-01 12:00:00+02:00`) as
/// nanoseconds since 1970-01-01T00:00:00Z.
pub fn parse_timestamp(v: &str) -> Result<i128, String> {
    let bad = |why: &str| {
        format!(
            "expected an RFC 3339 timestamp such as 2024-05-01T12:00:00.250Z or \
             2024-05-01T14:00:00+02:00{why}; found \"{}\"",
            super::error::clip(v, 80)
        )
    };
    let b = v.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    let fields = (|| {
        let y = num(0, 4)?;
        let ok = sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":");
        ok.then_some(())?;
        Some((
            y,
            num(5, 2)?,
            num(8, 2)?,
            num(11, 2)?,
            num(14, 2)?,
            num(17, 2)?,
        ))
    })();
    let Some((y, mo, d, h, mi, s)) = fields else {
        return Err(bad(""));
    };
    let mut i = 19;
    let mut ns: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let from = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - from < 9 {
                ns += i128::from(b[i] - b'0') * 10i128.pow(8 - (i - from) as u32);
            }
            i += 1;
        }
        if i == from {
            return Err(bad(" (digits after the decimal point)"));
        }
    }
    let offset_min: i64 = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&c @ (b'+' | b'-')) if i + 6 == b.len() && sep(i + 3, b":") => {
            let (Some(oh), Some(om)) = (num(i + 1, 2), num(i + 4, 2)) else {
                return Err(bad(""));
            };
            if oh > 23 || om > 59 {
                return Err(bad(" (an offset of at most ±23:59)"));
            }
            let m = oh * 60 + om;
            if c == b'-' {
                -m
            } else {
                m
            }
        }
        None => return Err(bad(" (with its offset: Z or ±HH:MM)")),
        _ => return Err(bad("")),
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > days_in[(mo - 1) as usize] {
        return Err(bad(" (a real date)"));
    }
    if h > 23 || mi > 59 || s > 60 {
        return Err(bad(" (a real time of day)"));
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60;
    Ok(i128::from(secs) * 1_000_000_000 + ns)
}

/// Days from 1970-01-01 to year `y`, month `m` (1–12), day `d` of the proleptic Gregorian
/// calendar (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::{MS, SEC};
    use crate::model::request::{client_key, population_of};

    fn classes() -> Vec<ClassPath> {
        [
            ("browse", "/products"),
            ("login", "/login"),
            ("home", "/"),
            ("stuffer", "/login/api"),
        ]
        .iter()
        .map(|(n, p)| ClassPath {
            name: n.to_string(),
            path: p.to_string(),
        })
        .collect()
    }

    fn parse_with(text: &str) -> Result<Parsed, TraceError> {
        let cs = classes();
        let bots = vec!["stuffer".to_string()];
        parse(
            text,
            "t.csv",
            Names {
                classes: &cs,
                bots: &bots,
            },
        )
    }

    fn ok(text: &str) -> Parsed {
        parse_with(text).unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn diags(text: &str) -> Vec<Diagnostic> {
        match parse_with(text) {
            Err(TraceError::Rows(d)) => d,
            other => panic!("{other:#?}"),
        }
    }

    /// (line, column, key path, message) of each problem.
    fn places(text: &str) -> Vec<(usize, usize, Option<String>, String)> {
        diags(text)
            .into_iter()
            .map(|d| {
                let (l, c) = d.location.unwrap_or((0, 0));
                (l, c, d.key_path, d.message)
            })
            .collect()
    }

    #[test]
    fn rows_parse_with_seconds_paths_and_keys_numbered_by_first_appearance() {
        let p = ok(
            "# an access log's shape\ntime,path,key\n0.9,/login,203.0.113.7\n\
                    0.9,/login?next=/cart,203.0.113.7\n1.25,/products/42,alice\n\n\
                    2,/,bob\n3,/login/api/v2,alice\n",
        );
        let at: Vec<u64> = p.rows.iter().map(|r| r.at).collect();
        assert_eq!(at, [900 * MS, 900 * MS, 1250 * MS, 2 * SEC, 3 * SEC]);
        // Longest prefix by whole segments: /login/api/v2 is the bot's /login/api, not /login;
        // /products/42 is browse; "/" takes what nothing longer does.
        let class: Vec<u16> = p.rows.iter().map(|r| r.class).collect();
        assert_eq!(class, [1, 1, 0, 2, 3]);
        // Keys in order of first appearance: 203.0.113.7 → 0, alice → 1, bob → 2 (users).
        let key: Vec<u32> = p.rows.iter().map(|r| r.key).collect();
        let top = (1 << 24) - 1;
        assert_eq!(
            key,
            [top, top, top - 1, top - 2, top - 1].map(|c| client_key(0, c))
        );
        assert_eq!((p.out_of_order, p.clients), (0, 3));
    }

    #[test]
    fn class_names_populations_and_quoted_fields() {
        let p = ok("Population,Key,Class,Time\nstuffer,\"10.0.0.1\",login,0\n\
                    ,\"a, \"\"quoted\"\" key\",browse,0.000000001\nusers,10.0.0.1,home,5\n\
                    stuffer,10.0.0.2 , stuffer , 6.0000000019\n");
        assert_eq!(p.rows.len(), 4);
        let c = |pop, id| client_key(pop, trace_client(id));
        assert_eq!(p.rows[0].key, c(1, 0));
        assert_eq!(population_of(p.rows[0].key), 1, "the bot's population");
        // An empty population is the users; the same text in another population is another client.
        assert_eq!(p.rows[1].key, c(0, 0));
        assert_eq!(p.rows[2].key, c(0, 1));
        assert_eq!(p.rows[3].key, c(1, 1));
        assert_eq!(p.rows[3].class, 3);
        // To the nanosecond; digits past the ninth are dropped.
        assert_eq!(p.rows[1].at, 1);
        assert_eq!(p.rows[3].at, 6 * SEC + 1);
        assert_eq!(
            (p.clients, p.clients_by_population.clone()),
            (4, vec![2, 2])
        );
    }

    #[test]
    fn timestamps_are_made_relative_to_the_earliest() {
        let p = ok("time,class,key\n2024-05-01T12:00:01.5Z,home,a\n\
                    2024-05-01T14:00:00+02:00,home,a\n2024-05-01 12:00:03.000000250z,home,b\n");
        // 14:00+02:00 is 12:00Z, the earliest: the others are 1.5 s and 3 s + 250 ns after it.
        assert_eq!(p.out_of_order, 1);
        let at: Vec<(u64, u32)> = p.rows.iter().map(|r| (r.at, r.key)).collect();
        let (a, b) = (trace_client(0), trace_client(1));
        assert_eq!(at, [(0, a), (1500 * MS, a), (3 * SEC + 250, b)]);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00Z"),
            Ok(1_714_564_800 * 1_000_000_000)
        );
        assert_eq!(
            parse_timestamp("2000-02-29T23:59:59.999999999-00:30"),
            Ok((951_868_799 + 1800) * 1_000_000_000 + 999_999_999)
        );
        for bad in [
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00Z",
            "2024-05-01T12:00:00+0200",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unsorted_rows_are_sorted_stably_and_counted() {
        // Two rows come earlier than one above them (1.0 after 2.0, 0.5 after 2.0); the two at
        // 1.0 keep their file order (key a before key c).
        let p = ok("time,class,key\n1.0,home,a\n2.0,home,b\n1.0,home,c\n0.5,home,d\n");
        assert_eq!(p.out_of_order, 2);
        let keys: Vec<u32> = p.rows.iter().map(|r| trace_client(r.key)).collect();
        assert_eq!(keys, [3, 0, 2, 1], "a, b, c, d are clients 0, 1, 2, 3");
    }

    #[test]
    fn seconds_parse_exactly_and_refuse_what_is_not_a_time() {
        assert_eq!(parse_seconds("0"), Ok(0));
        assert_eq!(parse_seconds("0.9"), Ok(900 * MS));
        assert_eq!(parse_seconds(".25"), Ok(250 * MS));
        assert_eq!(parse_seconds("12."), Ok(12 * SEC));
        assert_eq!(parse_seconds("+1"), Ok(SEC));
        assert_eq!(parse_seconds("-0"), Ok(0));
        assert_eq!(parse_seconds("18446744073"), Ok(18_446_744_073 * SEC));
        assert!(parse_seconds("18446744074")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_seconds("-1")
            .unwrap_err()
            .contains("can't be negative"));
        for bad in ["", ".", "1e3", "abc", "1,5", "0x10", "1.2.3", "inf", "nan"] {
            assert!(
                parse_seconds(bad)
                    .unwrap_err()
                    .starts_with("expected the time"),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_rows_are_located_by_line_column_and_column_name() {
        let text = "time,path,key\n\
                    0.5,/login,a\n\
                    soon,/login,a\n\
                    1,/nowhere,a\n\
                    1,login,a\n\
                    1,/login,a,extra\n\
                    1,/login\n\
                    1,/login,\n\
                    1,\"/login,a\n\
                    2024-05-01T12:00:00Z,/login,a\n";
        let cs: Vec<ClassPath> = classes().into_iter().filter(|c| c.path != "/").collect();
        let bots = vec!["stuffer".to_string()];
        let names = Names {
            classes: &cs,
            bots: &bots,
        };
        let Err(TraceError::Rows(d)) = parse(text, "t.csv", names) else {
            panic!("accepted")
        };
        let got: Vec<(usize, usize, Option<&str>)> = d
            .iter()
            .map(|d| {
                let (l, c) = d.location.unwrap();
                (l, c, d.key_path.as_deref())
            })
            .collect();
        assert_eq!(
            got,
            [
                (3, 1, Some("time")),
                (4, 3, Some("path")),
                (5, 3, Some("path")),
                (6, 12, None),
                (7, 9, Some("key")),
                (8, 10, Some("key")),
                (9, 3, None),
                (10, 1, Some("time")),
            ]
        );
        let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
        assert!(
            msgs[0].starts_with("expected the time in seconds"),
            "{}",
            msgs[0]
        );
        assert_eq!(msgs[1], "no class's path is a prefix of \"/nowhere\"");
        assert_eq!(msgs[2], "a path starts with \"/\", found \"login\"");
        assert_eq!(
            msgs[3],
            "too many fields: the header names 3 columns (time, path, key), this row has 4"
        );
        assert!(msgs[4].starts_with("missing field `key`"), "{}", msgs[4]);
        assert!(msgs[5].starts_with("empty key"), "{}", msgs[5]);
        assert_eq!(msgs[6], "this quote is never closed");
        assert!(msgs[7].starts_with("this trace writes its times as seconds (line 2)"));
        // Shown like the scenario's errors: file:line:column, the column, the line, a caret.
        let shown = d[1].to_string();
        assert!(
            shown.starts_with("error: t.csv:4:3: `path`: no class's path"),
            "{shown}"
        );
        assert!(shown.contains(" 4 | 1,/nowhere,a"), "{shown}");
    }

    #[test]
    fn unknown_classes_and_populations_suggest_the_nearest() {
        let d = diags("time,class,key,population\n0,lgoin,a,users\n0,login,a,stufer\n");
        assert_eq!(
            d[0].message,
            "unknown class \"lgoin\": a class of the workload's mix or bots"
        );
        assert!(d[0]
            .help
            .as_deref()
            .unwrap()
            .starts_with("did you mean \"login\"?"));
        assert_eq!(d[0].location, Some((2, 3)));
        assert_eq!(d[1].key_path.as_deref(), Some("population"));
        assert!(d[1]
            .help
            .as_deref()
            .unwrap()
            .starts_with("did you mean \"stuffer\"?"));
    }

    #[test]
    fn the_header_names_known_columns_once_with_time_key_and_class_or_path() {
        let p = places("time,pth,key\n0,/,a\n");
        assert_eq!(p, [(1, 6, None, "unknown column `pth`".to_string())]);
        assert!(diags("time,pth,key\n")[0]
            .help
            .as_deref()
            .unwrap()
            .starts_with("did you mean `path`?"));
        assert_eq!(
            places("time,key,key,path\n")[0].3,
            "the column `key` is named twice"
        );
        assert_eq!(
            places("time,class,path,key\n")[0].3,
            "give a `class` or a `path` column, not both"
        );
        let p = places("path,key\n");
        assert_eq!(p[0].3, "the header names no `time` column");
        let p = places("time,path\n");
        assert!(p[0].3.starts_with("the header names no `key` column"));
        let p = places("time,key\n");
        assert!(p[0]
            .3
            .starts_with("the header names no `class` or `path` column"));
        assert!(matches!(
            parse_with("# only a comment\n\n"),
            Err(TraceError::File { .. })
        ));
        assert!(matches!(
            parse_with("time,path,key\n"),
            Err(TraceError::File { .. })
        ));
    }

    #[test]
    fn at_most_fifty_problems_are_listed_the_last_counting_the_rest() {
        let mut text = String::from("time,class,key\n");
        for _ in 0..1000 {
            text.push_str("x,home,a\n");
        }
        let d = diags(&text);
        assert_eq!(d.len(), MAX_ROW_ERRORS);
        assert_eq!(d[48].location, Some((50, 1)), "the 49th bad row, line 50");
        assert_eq!(
            d[49].message,
            "… and 951 more problems in this trace (the first 49 are shown; fix them and run again)"
        );
        // Exactly fifty: all listed.
        let mut text = String::from("time,class,key\n");
        for _ in 0..50 {
            text.push_str("x,home,a\n");
        }
        let d = diags(&text);
        assert_eq!(d.len(), 50);
        assert!(d.iter().all(|d| d.location.is_some()));
    }

    #[test]
    fn files_past_the_limits_are_refused_before_parsing_naming_the_limit() {
        let dir = std::env::temp_dir().join(format!("scalesim-trace-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("t.csv");
        std::fs::write(&f, "time,class,key\n0,home,a\n1,home,b\n2,home,c\n").unwrap();
        let cs = classes();
        let names = Names {
            classes: &cs,
            bots: &[],
        };
        let read_with = |bytes, rows| read(&f, "t.csv", names, Limits { bytes, rows });
        assert_eq!(read_with(1000, 3).map(|p| p.rows.len()), Ok(3));
        match read_with(1000, 2) {
            Err(TraceError::File { message, .. }) => assert_eq!(
                message,
                "the trace t.csv has 3 rows; a trace may have at most 2 rows"
            ),
            other => panic!("{other:?}"),
        }
        match read_with(1 << 20, 1000) {
            Ok(_) => {}
            other => panic!("{other:?}"),
        }
        std::fs::write(&f, vec![b'a'; (1 << 20) + 5]).unwrap();
        match read_with(1 << 20, 1000) {
            Err(TraceError::File { message, .. }) => assert_eq!(
                message,
                "the trace t.csv is 1.0 MiB; a trace file may be at most 1 MiB"
            ),
            other => panic!("{other:?}"),
        }
        std::fs::write(&f, b"time,class,key\n0,home,\xe9t\xe9\n").unwrap();
        match read_with(1000, 10) {
            Err(TraceError::Rows(d)) => {
                assert_eq!(d[0].location, Some((2, 8)));
                assert!(d[0].message.contains("not UTF-8"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read(
                &dir.join("missing.csv"),
                "missing.csv",
                names,
                Limits::DEFAULT
            ),
            Err(TraceError::File { .. })
        ));
        assert!(matches!(
            read(&dir, "dir", names, Limits::DEFAULT),
            Err(TraceError::File { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
