//! Scenario files: TOML → raw serde structs (unknown keys rejected) → `validate` → a checked
//! [`Scenario`] the model is wired from. All user-input checking lives in this room, and every
//! error names the file, line, column and key path, says what was expected, and suggests the
//! nearest valid key.

pub mod embedded;
pub mod error;
pub mod overrides;
pub mod schema;
pub(crate) mod tagged;
pub mod trace;
pub mod units;
pub mod validate;
pub mod variants;

use crate::model::client::{ClientSpec, WorkloadConfig};
use crate::model::faults::{FaultConfig, FaultSpec};
use crate::model::kit::{DescribeCtx, Description};
use crate::model::network::NetworkConfig;
use crate::model::CompId;
use error::{Diagnostic, LoadError, Seg};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use units::Duration;

pub use crate::model::kinds::{ComponentConfig, ComponentSpec, KindTag, COMPONENT_KINDS};
pub use overrides::Override;

/// `[scenario]`: name, length and seed of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetaConfig {
    /// Short name, used in reports.
    pub name: String,
    /// Journey chapter this scenario illustrates, if any.
    pub chapter: Option<u32>,
    /// One sentence on what the scenario shows.
    pub description: Option<String>,
    /// Simulated time to run.
    pub duration: Duration,
    /// Statistics ignore what ends before this. Default 0s.
    pub warmup: Option<Duration>,
    /// Master seed of every random stream. Default 1.
    pub seed: Option<u64>,
    /// Time-series resolution. Default: about 240 points over the run, rounded.
    pub window: Option<Duration>,
    /// `[scenario.journey]`: what this chapter's architecture changes from the previous
    /// chapter's, for `scalesim journey` (docs/journey.md). Default: none declared (a scenario
    /// outside the journey). Not echoed into results.json: it describes the file, not the run.
    #[serde(default, skip_serializing)]
    pub journey: Option<JourneyChange>,
}

/// `[scenario.journey]`: a chapter's declared change from the previous chapter's architecture.
/// Each entry names a component (`"dns"`), one top-level setting of a component
/// (`"web.instance"`), a `[network]` key (`"network.client_rtt"`) or the users' entry
/// (`"workload.target"`). A test resolves consecutive chapters and fails when the difference
/// is not exactly what is declared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneyChange {
    /// The chapter's idea, in a sentence (required).
    pub idea: String,
    /// The problem this chapter's architecture runs into as the users grow, in a few
    /// sentences: what breaks and why, which the next chapter's idea answers. The journey's
    /// index.html tells it per chapter. Default: none (the page then says only the idea).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Components this chapter has that the previous one did not. Default: none.
    #[serde(default)]
    pub adds: Vec<String>,
    /// Components of the previous chapter this one leaves out. Default: none.
    #[serde(default)]
    pub removes: Vec<String>,
    /// Components, settings (`NAME.KEY`), `network.KEY` or `workload.target` that differ from
    /// the previous chapter's. A whole component (`"web"`) covers all its settings, as when its
    /// kind changes. Default: none.
    #[serde(default)]
    pub changes: Vec<String>,
    /// What this chapter's architecture does to the breaking point (the most users it serves
    /// within the journey's objective) compared with the previous chapter's: `"up"`, `"same"`
    /// or `"down"`. A test replays the journey and fails when the breaking points disagree.
    /// Default: not declared (chapter 1, or a scenario outside the journey).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moves: Option<Moves>,
    /// Why, in a sentence, when the idea does not move the breaking point up (it targets
    /// another problem; the architecture adds a component that limits first): shown in the
    /// journey's breaking-point table. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
}

/// `[scenario.journey] moves`: the breaking point compared with the previous chapter's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Moves {
    /// It serves more users within the objective.
    Up,
    /// The same.
    Same,
    /// Fewer.
    Down,
}

impl Moves {
    /// The word in the file.
    pub fn name(self) -> &'static str {
        match self {
            Moves::Up => "up",
            Moves::Same => "same",
            Moves::Down => "down",
        }
    }
}

/// A scenario file as written (before semantic checks).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// `[scenario]`.
    pub scenario: MetaConfig,
    /// `[workload]`.
    pub workload: WorkloadConfig,
    /// `[network]`.
    #[serde(default)]
    pub network: NetworkConfig,
    /// `[components.NAME]`, each with a `kind`.
    pub components: BTreeMap<String, ComponentConfig>,
    /// `[[faults]]`.
    #[serde(default)]
    pub faults: Vec<FaultConfig>,
    /// `[slo]`: the service-level objectives `scalesim check` evaluates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<crate::slo::SloConfig>,
    /// `[variants.NAME]`: named sets of changes to the file, run with `--variant NAME`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, VariantConfig>,
    /// `[exercise]`: the file is an assignment that `scalesim check` grades against its name's
    /// exercise and budget (docs/exercises.md). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercise: Option<crate::exercise::ExerciseConfig>,
}

/// `[variants.NAME]`: a named set of changes to the scenario (a fix to compare, a what-if),
/// applied on top of the file with `scalesim run FILE --variant NAME` (`check` too). Every
/// variant is checked whenever the file is loaded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantConfig {
    /// What the variant changes, in a sentence.
    pub description: Option<String>,
    /// The changes, each in `--set` syntax (`KEY.PATH=VALUE`), applied in order on top of the
    /// file and before any `--set` of the command line: e.g.
    /// `set = ['workload.retries.budget="10%"']`.
    pub set: Vec<String>,
}

/// A validated scenario, ready to wire into a world.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Where it came from (file path or `chapter:N`).
    pub source: String,
    /// The file as written, after `--set` overrides (echoed into results.json).
    pub file: ScenarioFile,
    /// Name.
    pub name: String,
    /// Chapter, if any.
    pub chapter: Option<u32>,
    /// Simulated run length, ns.
    pub duration: u64,
    /// Warm-up, ns.
    pub warmup: u64,
    /// Master seed.
    pub seed: u64,
    /// Time-series window, ns.
    pub window: u64,
    /// The users.
    pub client: ClientSpec,
    /// Components, in name order, then the slots of every fleet (`web[0]`, `web[1]`, ...);
    /// component index = position + 2 (0 is the client, 1 the faults).
    pub components: Vec<(String, ComponentSpec)>,
    /// Target groups: (name, member component indices).
    pub groups: Vec<(String, Vec<u32>)>,
    /// Availability zones in use.
    pub azs: u32,
    /// Fault timeline, in time order.
    pub faults: Vec<FaultSpec>,
    /// Link latencies.
    pub network: NetworkConfig,
    /// Regions and the round trips between them, with `[network.regions]`.
    pub regions: Option<crate::model::region::RegionsSpec>,
    /// Overrides applied, as given.
    pub overrides: Vec<String>,
    /// Service-level objectives, in file order (shorthands first).
    pub slos: Vec<crate::slo::Objective>,
    /// Things worth saying about an accepted scenario (a trace sorted, rows past the end left
    /// out), each a line the CLI prints on stderr as `note: …`.
    pub notes: Vec<String>,
    /// The variant applied (`--variant NAME`), if any.
    pub variant: Option<String>,
    /// Keep every window's latency histogram (`Metrics::window_histograms`): the journey
    /// measures from a truncation point found after the run. False for a scenario as loaded.
    pub keep_window_histograms: bool,
    /// Record sampled request spans, one in this many users' requests ([`crate::model::span`]:
    /// the run's waterfalls and trace.json). `None` (as loaded): off.
    pub trace_requests: Option<u32>,
    /// Also draw `run.gif` (`scalesim run --gif`). False as loaded.
    pub gif: bool,
}

impl Scenario {
    /// The name to show people: a chapter's title when this is one of the embedded chapters
    /// ("Chapter 5 — The load balancer"), else the scenario's `name`; and the variant run, if any.
    pub fn title(&self) -> String {
        let base = match self.chapter.and_then(embedded::Chapter::number) {
            Some(c)
                if Some(self.name.as_str())
                    == c.file
                        .strip_suffix(".toml")
                        .map(|stem| format!("ch{stem}"))
                        .as_deref() =>
            {
                format!("Chapter {} — {}", c.number, c.title())
            }
            _ => self.name.clone(),
        };
        match &self.variant {
            Some(v) => format!("{base} (variant {v})"),
            None => base,
        }
    }

    /// The name of component `c` ("users" for 0, "faults" for 1, `web[3]` for a fleet's slot).
    pub fn name_of(&self, c: CompId) -> String {
        match c {
            0 => "users".into(),
            1 => "faults".into(),
            _ => self
                .components
                .get((c - FIRST_COMPONENT) as usize)
                .map(|(n, _)| n.clone())
                .unwrap_or_default(),
        }
    }

    /// Every component named in the file (not the slots they bring along), described by its kind
    /// — what the run header and `explain` print.
    pub fn descriptions(&self) -> Vec<(&str, KindTag, Description)> {
        let name_of = |c: CompId| self.name_of(c);
        let cx = DescribeCtx {
            name_of: &name_of,
            mean_work: self.client.mean_work(),
        };
        self.components
            .iter()
            .take(self.file.components.len())
            .map(|(name, spec)| (name.as_str(), spec.tag(), spec.describe(&cx)))
            .collect()
    }
}

/// First component index after the client (0) and the fault injector (1).
pub const FIRST_COMPONENT: u32 = 2;

/// Loads a scenario from a path, or `chapter:N` for an embedded chapter, applying overrides.
pub fn load(source: &str, overrides: &[Override]) -> Result<Scenario, LoadError> {
    let text = read_source(source)?;
    parse(source, &text, overrides)
}

/// [`load`] with one of the file's `[variants]` applied first (`None`: the file as written).
pub fn load_variant(
    source: &str,
    variant: Option<&str>,
    overrides: &[Override],
) -> Result<Scenario, LoadError> {
    let text = read_source(source)?;
    parse_variant(source, &text, variant, overrides)
}

/// Largest scenario file read: 8 MiB. Real scenarios are under 20 KB; a much bigger file is a
/// mistake (a log, a data dump), and parsing one would take minutes and gigabytes before any
/// error could be reported.
pub const MAX_SCENARIO_BYTES: u64 = 8 << 20;

/// Bytes in MiB, e.g. "8 MiB", "92.0 MiB".
fn units_mib(bytes: u64) -> String {
    if bytes % (1 << 20) == 0 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    }
}

/// Reads a file (or an embedded chapter) as text, with clear errors for missing, empty and binary files.
pub fn read_source(source: &str) -> Result<String, LoadError> {
    if let Some(n) = source.strip_prefix("chapter:") {
        let list = embedded::CHAPTERS
            .iter()
            .map(|c| c.number.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let num: u32 = n.trim().parse().map_err(|_| {
            LoadError::plain(
                source,
                format!("`{n}` is not a chapter number"),
                Some(format!("embedded chapters: {list}")),
            )
        })?;
        return embedded::chapter(num)
            .map(|c| c.text.to_string())
            .ok_or_else(|| {
                LoadError::plain(
                    source,
                    format!("there is no embedded chapter {num}"),
                    Some(format!("embedded chapters: {list}")),
                )
            });
    }
    if let Some(n) = source.strip_prefix("exercise:") {
        return embedded::exercise(n.trim())
            .map(|e| e.text.to_string())
            .ok_or_else(|| {
                LoadError::plain(
                    source,
                    format!("there is no embedded exercise \"{}\"", n.trim()),
                    Some(format!(
                        "embedded exercises: {}",
                        crate::exercise::names().join(", ")
                    )),
                )
            });
    }
    let cannot_read = |e: std::io::Error| {
        let help = if e.kind() == std::io::ErrorKind::NotFound {
            Some("check the path, or run an embedded chapter with `chapter:N` (e.g. `scalesim run chapter:1`)".into())
        } else {
            None
        };
        LoadError::plain(source, format!("cannot read the file: {e}"), help)
    };
    let too_big = |size: String| {
        LoadError::plain(
            source,
            format!(
                "the file is {size}; a scenario file may be at most {} (a real one is under 20 KB)",
                units_mib(MAX_SCENARIO_BYTES)
            ),
            Some(
                "check that this is the scenario you meant; nothing was read past the limit".into(),
            ),
        )
    };
    let file = std::fs::File::open(source).map_err(cannot_read)?;
    if let Ok(m) = file.metadata() {
        if m.is_dir() {
            return Err(LoadError::plain(
                source,
                "cannot read the file: it is a folder, not a scenario file",
                Some("give a .toml file inside it, e.g. scenarios/01-single-server.toml".into()),
            ));
        }
        if m.len() > MAX_SCENARIO_BYTES {
            return Err(too_big(units_mib(m.len())));
        }
    }
    // Read at most one byte past the limit: a pipe or device (`/dev/zero`) has no size up front.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_SCENARIO_BYTES + 1),
        &mut bytes,
    )
    .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(too_big(format!("over {}", units_mib(MAX_SCENARIO_BYTES))));
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(LoadError::plain(
            source,
            "the file is empty",
            Some("a scenario needs at least [scenario], [workload] and [components.NAME]; `scalesim new --chapter 1` prints a starting point".into()),
        ));
    }
    if bytes.contains(&0) {
        return Err(LoadError::plain(
            source,
            "this is a binary file, not a TOML scenario",
            None,
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        // Locate the bad byte: everything before it is valid text, so lines and characters can
        // be counted there; the rest of its line is shown lossily.
        let bad = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = String::from_utf8_lossy(&bytes[..bad]);
        let (line, col) = error::line_col(&before, before.len());
        let line_start = bytes[..bad]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = bytes[bad..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| bad + i);
        let mut err = LoadError::plain(
            source,
            format!(
                "the file is not UTF-8 text: byte 0x{:02x} (offset {bad}) is not valid UTF-8",
                bytes[bad]
            ),
            Some(
                "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 FILE`); scenario files \
                 are TOML, which is always UTF-8"
                    .into(),
            ),
        );
        let d = &mut err.diagnostics[0];
        d.location = Some((line, col));
        d.snippet = Some(
            String::from_utf8_lossy(&bytes[line_start..line_end])
                .trim_end()
                .to_string(),
        );
        err
    })
}

/// Parses and validates scenario text. `source` names it in errors.
pub fn parse(source: &str, text: &str, overrides: &[Override]) -> Result<Scenario, LoadError> {
    parse_variant(source, text, None, overrides)
}

/// Parses and validates scenario text with its variant `variant` applied (`None`: as written),
/// then `overrides`. Every other variant of the file is checked too: a variant that does not
/// apply cleanly is an error of the file, located at the variant's `set[i]`.
pub fn parse_variant(
    source: &str,
    text: &str,
    variant: Option<&str>,
    overrides: &[Override],
) -> Result<Scenario, LoadError> {
    let doc = parse_document(source, text)?;
    let variants = variants::read(source, text, &doc, overrides)?;
    let chosen = match variant {
        None => None,
        Some(name) => Some(variants::find(source, &variants, name)?),
    };
    let mut scn = parse_document_with(source, text, doc.clone(), chosen, false, overrides)?;
    scn.variant = chosen.map(|v| v.name.clone());
    let mut diags = Vec::new();
    for v in &variants {
        if chosen.is_some_and(|c| c.name == v.name) {
            continue;
        }
        // The file (with the chosen variant, if any) is valid: what fails now is this one's doing.
        if let Err(e) = parse_document_with(source, text, doc.clone(), Some(v), true, overrides) {
            diags.extend(e.diagnostics);
        }
    }
    if diags.is_empty() {
        Ok(scn)
    } else {
        Err(LoadError { diagnostics: diags })
    }
}

/// The scenario text as a TOML document (syntax errors located).
fn parse_document(source: &str, text: &str) -> Result<toml_edit::DocumentMut, LoadError> {
    text.parse().map_err(|e: toml_edit::TomlError| {
        let (location, snippet) = match e.span() {
            Some(span) => {
                let (l, c) = error::line_col(text, span.start);
                (Some((l, c)), error::line_text(text, l))
            }
            None => (None, None),
        };
        let msg = e.message().trim().to_string();
        LoadError {
            diagnostics: vec![Diagnostic {
                file: source.to_string(),
                location,
                key_path: None,
                message: format!("TOML syntax error: {msg}"),
                help: None,
                snippet,
            }],
        }
    })
}

/// Validates the document `doc` of `text` with `variant`'s changes and then `overrides` applied
/// (`blamed`: the file is known to be valid without the variant).
fn parse_document_with(
    source: &str,
    text: &str,
    mut doc: toml_edit::DocumentMut,
    variant: Option<&variants::Variant>,
    blamed: bool,
    overrides: &[Override],
) -> Result<Scenario, LoadError> {
    let ctx = ErrCtx {
        source,
        text,
        overrides,
        index: std::cell::OnceCell::new(),
        variant,
        variant_blamed: blamed,
    };
    if let Some(v) = variant {
        v.apply(&ctx, &mut doc)?;
    }
    for o in overrides {
        o.apply(&mut doc)
            .map_err(|m| LoadError::plain(&format!("--set {}", o.raw), m, None))?;
    }
    let value = toml::Value::Table(
        toml::from_str::<toml::Table>(&doc.to_string())
            .map_err(|e| reparse_error(source, text, overrides, &e))?,
    );
    let file = deserialize_file(&ctx, value)?;
    validate::validate(&ctx, file)
}

/// The file parsed, so a failure to read it back after the `--set` overrides were written into it
/// (a value nested past TOML's recursion limit) is the overrides' doing: blame the first that fails
/// on its own, or all of them together.
fn reparse_error(
    source: &str,
    text: &str,
    overrides: &[Override],
    e: &toml::de::Error,
) -> LoadError {
    let why = e.message().trim().replace('\n', ": ");
    if overrides.is_empty() {
        return LoadError::plain(source, format!("TOML syntax error: {why}"), None);
    }
    let fails_alone = |o: &Override| {
        let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() else {
            return false;
        };
        o.apply(&mut doc).is_err() || toml::from_str::<toml::Table>(&doc.to_string()).is_err()
    };
    let culprit = overrides.iter().find(|o| fails_alone(o));
    let file = match culprit {
        Some(o) => format!("--set {}", o.raw),
        None => format!(
            "--set {}",
            overrides
                .iter()
                .map(|o| o.raw.as_str())
                .collect::<Vec<_>>()
                .join(" --set ")
        ),
    };
    let message = if why.contains("recursion limit") {
        "the value nests too deeply: with its key path it goes past TOML's limit of nested tables \
         and lists"
            .to_string()
    } else {
        format!("the scenario cannot be read back after this change: {why}")
    };
    LoadError::plain(
        &file,
        message,
        Some("set a shallower value, or a deeper key with a plain value (e.g. --set components.web.service.mean=9ms)".into()),
    )
}

/// What error reporting needs to place a problem.
pub(crate) struct ErrCtx<'a> {
    pub source: &'a str,
    pub text: &'a str,
    pub overrides: &'a [Override],
    /// The source's lines and TOML document, indexed at the first problem and reused for every
    /// later one (so placing N problems costs one parse, not N).
    pub index: std::cell::OnceCell<error::SourceIndex<'a>>,
    /// The variant applied, if any: problems with what it sets are placed at its `set[i]`.
    pub variant: Option<&'a variants::Variant>,
    /// The file is valid without the variant, so every problem is the variant's doing.
    pub variant_blamed: bool,
}

impl ErrCtx<'_> {
    /// A diagnostic at `path`, located in the source (or attributed to a `--set`).
    pub fn at(&self, path: &[Seg], message: impl Into<String>, help: Option<String>) -> Diagnostic {
        let ps = error::path_string(path);
        if let Some(o) = self.overrides.iter().find(|o| {
            ps.starts_with(&o.path_string()) || o.path_string().starts_with(&ps) && !ps.is_empty()
        }) {
            return Diagnostic {
                file: format!("--set {}", o.raw),
                location: None,
                key_path: Some(ps),
                message: message.into(),
                help,
                snippet: None,
            };
        }
        if let Some(v) = self.variant {
            return v.locate(self, path, &ps, message.into(), help, self.variant_blamed);
        }
        self.at_source(path, message, help)
    }

    /// A diagnostic at `path` in the source file itself.
    pub fn at_source(
        &self,
        path: &[Seg],
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        let ps = error::path_string(path);
        let index = self
            .index
            .get_or_init(|| error::SourceIndex::new(self.text));
        // A problem with no place of its own (a missing top-level table) points at the top.
        let location = Some(
            index
                .locate(path)
                .map_or((1, 1), |r| index.line_col(r.start)),
        );
        Diagnostic {
            file: self.source.to_string(),
            location,
            key_path: (!ps.is_empty()).then_some(ps),
            message: message.into(),
            help,
            snippet: location.and_then(|(l, _)| index.line_text(l)),
        }
    }
}

fn serde_path(p: &serde_path_to_error::Path) -> Vec<Seg> {
    use serde_path_to_error::Segment;
    p.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// Turns a serde error at `prefix + path` into a diagnostic with a suggestion.
fn serde_diag(
    ctx: &ErrCtx,
    prefix: &[Seg],
    e: serde_path_to_error::Error<toml::de::Error>,
) -> Diagnostic {
    let mut path = prefix.to_vec();
    path.extend(serde_path(e.path()));
    let msg = error::plain_words_at(&path, e.inner().message().trim());
    let mut help = None;
    let mut message = msg.clone();
    if let Some(word) = error::unknown_name(&msg) {
        let names = error::expected_names(&msg);
        let is_field = msg.starts_with("unknown field");
        if is_field && path.last() != Some(&Seg::Key(word.clone())) {
            path.push(Seg::Key(word.clone()));
        }
        if is_field {
            // What a tagged table adds between the key and serde's list: " for dist = …".
            let detail = msg
                .splitn(3, '`')
                .nth(2)
                .and_then(|rest| rest.split_once(", expected"))
                .map_or("", |(d, _)| d);
            message = format!("unknown key `{word}`{detail}");
        } else {
            message = format!("unknown value \"{word}\"");
        }
        help = match error::nearest(&word, names.iter().map(String::as_str)) {
            Some(n) => Some(format!(
                "did you mean `{n}`? (expected one of: {})",
                names.join(", ")
            )),
            None if !names.is_empty() => Some(format!("expected one of: {}", names.join(", "))),
            None => None,
        };
    } else if let Some((field, rest)) = msg
        .strip_prefix("missing field `")
        .and_then(|r| r.split_once('`'))
    {
        // A tagged table's message ends with an example of the whole table.
        let example = rest.strip_prefix(", e.g. ");
        if path.is_empty() && matches!(field, "scenario" | "workload" | "components") {
            message = format!("missing required table `{field}`");
            help = Some(match field {
                "scenario" => "add [scenario] with name = \"...\" and duration = \"1h\"".to_string(),
                "workload" => "add [workload] with users = 10 and think_time = { dist = \"exponential\", mean = \"8s\" }".to_string(),
                _ => "add at least one component, e.g. [components.web] with kind = \"server\"".to_string(),
            });
        } else {
            message = format!("missing required key `{field}`");
            help = Some(match (path.last(), example) {
                (Some(Seg::Key(k)), Some(e)) => {
                    format!("add `{field} = ...` to `{k}`, e.g. {k} = {e}")
                }
                (Some(Seg::Key(k)), None) => format!("add `{field} = ...` to `{k}`"),
                (_, Some(e)) => format!("add `{field} = ...` here, e.g. {e}"),
                (_, None) => format!("add `{field} = ...` here"),
            });
        }
    }
    ctx.at(&path, message, help)
}

fn deserialize_file(ctx: &ErrCtx, mut value: toml::Value) -> Result<ScenarioFile, LoadError> {
    // Components are dispatched on `kind` by hand so that errors inside them keep their key paths.
    let comps = match value.as_table_mut().and_then(|t| t.remove("components")) {
        Some(toml::Value::Table(t)) => t,
        Some(_) => {
            return Err(LoadError {
                diagnostics: vec![ctx.at(
                    &[Seg::Key("components".into())],
                    "expected a table of components",
                    Some("write each as [components.NAME] with a `kind`".into()),
                )],
            })
        }
        None => {
            return Err(LoadError {
                diagnostics: vec![ctx.at(
                    &[],
                    "missing required table `components`",
                    Some(
                        "add at least one component, e.g. [components.web] with kind = \"server\""
                            .into(),
                    ),
                )],
            })
        }
    };
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rest {
        scenario: MetaConfig,
        workload: WorkloadConfig,
        #[serde(default)]
        network: NetworkConfig,
        #[serde(default)]
        faults: Vec<FaultConfig>,
        slo: Option<crate::slo::SloConfig>,
        #[serde(default)]
        variants: BTreeMap<String, VariantConfig>,
        exercise: Option<crate::exercise::ExerciseConfig>,
        // `components` was taken out above; accept it in the known-keys list for suggestions.
        #[serde(default)]
        #[allow(dead_code)]
        components: Option<toml::Value>,
    }
    let rest: Rest = serde_path_to_error::deserialize(value).map_err(|e| LoadError {
        diagnostics: vec![serde_diag(ctx, &[], e)],
    })?;
    let mut components = BTreeMap::new();
    let mut diags = Vec::new();
    for (name, v) in comps {
        let base = vec![Seg::Key("components".into()), Seg::Key(name.clone())];
        let toml::Value::Table(mut t) = v else {
            diags.push(ctx.at(
                &base,
                "expected a table",
                Some(format!("write it as [components.{name}] with a `kind`")),
            ));
            continue;
        };
        let kind = match t.remove("kind") {
            Some(toml::Value::String(k)) => k,
            Some(_) => {
                let mut p = base.clone();
                p.push(Seg::Key("kind".into()));
                diags.push(ctx.at(
                    &p,
                    "expected a string",
                    Some(format!("one of: {}", COMPONENT_KINDS.join(", "))),
                ));
                continue;
            }
            None => {
                diags.push(ctx.at(
                    &base,
                    "missing required key `kind`",
                    Some(format!(
                        "add kind = \"...\", one of: {}",
                        COMPONENT_KINDS.join(", ")
                    )),
                ));
                continue;
            }
        };
        let Some(tag) = KindTag::from_name(&kind) else {
            let mut p = base.clone();
            p.push(Seg::Key("kind".into()));
            let help = match error::nearest(&kind, COMPONENT_KINDS.iter().copied()) {
                Some(n) => format!(
                    "did you mean \"{n}\"? (expected one of: {})",
                    COMPONENT_KINDS.join(", ")
                ),
                None => format!("expected one of: {}", COMPONENT_KINDS.join(", ")),
            };
            diags.push(ctx.at(&p, format!("unknown component kind \"{kind}\""), Some(help)));
            continue;
        };
        match tag.parse(t) {
            Ok(c) => {
                components.insert(name, c);
            }
            Err(e) => {
                let mut d = serde_diag(ctx, &base, e);
                // A kind's own hint for an unknown key of its table (not of a table inside it,
                // such as a fleet's `service` or `scaling`).
                let own_key = d.message.strip_prefix("unknown key `").is_some_and(|rest| {
                    let word = rest.split('`').next().unwrap_or("");
                    d.key_path.as_deref()
                        == Some(&error::path_string(
                            &[&base[..], &[Seg::Key(word.into())]].concat(),
                        ))
                });
                if own_key {
                    tag.improve(&mut d);
                }
                diags.push(d)
            }
        }
    }
    if !diags.is_empty() {
        return Err(LoadError { diagnostics: diags });
    }
    Ok(ScenarioFile {
        scenario: rest.scenario,
        workload: rest.workload,
        network: rest.network,
        components,
        faults: rest.faults,
        slo: rest.slo,
        variants: rest.variants,
        exercise: rest.exercise,
    })
}
