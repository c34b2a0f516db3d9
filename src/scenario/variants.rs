//! `[variants.NAME]`: named sets of changes a scenario carries with it, in `--set` syntax, so one
//! file holds a problem and its fixes (`scalesim run FILE --variant budget`).
//!
//! ```toml
//! [variants.budget]
//! description = "A retry budget: retries at most 10 % of first attempts."
//! set = ['workload.retries.budget="10%"']
//! ```
//!
//! A variant is applied on top of the file and under the command line's `--set`s. Loading a file
//! checks every variant: each is applied to the file on its own and validated, and a problem with
//! what a variant sets is placed at that variant's `set[i]` (file, line, column), worded as the key
//! it sets.

use super::error::{self, nearest, Diagnostic, LoadError, Seg};
use super::{ErrCtx, Override, VariantConfig};
use std::collections::BTreeMap;

/// Most variants one file may declare.
pub const MAX_VARIANTS: usize = 64;

/// One variant, read from the file.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Its name (`[variants.NAME]`).
    pub name: String,
    /// What it says it does.
    pub description: Option<String>,
    /// Its changes in order, each parsed, or why it does not parse.
    pub sets: Vec<(String, Result<Override, String>)>,
}

fn key(s: &str) -> Seg {
    Seg::Key(s.to_string())
}

impl Variant {
    /// The key path of its `set[i]`.
    fn set_path(&self, i: usize) -> Vec<Seg> {
        vec![key("variants"), key(&self.name), key("set"), Seg::Index(i)]
    }

    /// Applies its changes to `doc`; a change that does not parse or apply is an error at its
    /// `set[i]`.
    pub(crate) fn apply(
        &self,
        ctx: &ErrCtx,
        doc: &mut toml_edit::DocumentMut,
    ) -> Result<(), LoadError> {
        let mut diags = Vec::new();
        for (i, (raw, o)) in self.sets.iter().enumerate() {
            let path = self.set_path(i);
            let problem = match o {
                Err(m) => Some(m.clone()),
                Ok(o) if matches!(o.path.first(), Some(Seg::Key(k)) if k == "variants") => {
                    Some("a variant can't change the variants".to_string())
                }
                Ok(o) => o.apply(doc).err(),
            };
            if let Some(m) = problem {
                diags.push(
                    ctx.at_source(
                        &path,
                        format!(
                            "variant \"{}\": `{}` does not apply: {m}",
                            self.name,
                            error::clip(raw, 120)
                        ),
                        Some(
                            "each entry is `KEY.PATH=VALUE`, as `--set` takes it, e.g. \
                         'workload.retries.budget=\"10%\"'"
                                .into(),
                        ),
                    ),
                );
            }
        }
        if diags.is_empty() {
            Ok(())
        } else {
            Err(LoadError { diagnostics: diags })
        }
    }

    /// A problem at `path` (`ps` as text) of the scenario with this variant applied: placed at
    /// the last `set[i]` that sets that key (or a table around it, or a key inside it). Else, if
    /// the variant is known to be the cause (`blamed`: the file without it is valid), at its
    /// only `set[0]` when it has one change, or at its table; otherwise in the file, noting the
    /// variant.
    pub(crate) fn locate(
        &self,
        ctx: &ErrCtx,
        path: &[Seg],
        ps: &str,
        message: String,
        help: Option<String>,
        blamed: bool,
    ) -> Diagnostic {
        let touches = |o: &Override| {
            let n = o.path.len().min(path.len());
            !path.is_empty() && o.path[..n] == path[..n]
        };
        let set = self
            .sets
            .iter()
            .rposition(|(_, o)| o.as_ref().is_ok_and(touches));
        let shown = if ps.is_empty() {
            String::new()
        } else {
            format!("`{ps}`: ")
        };
        match set {
            Some(i) => ctx.at_source(
                &self.set_path(i),
                format!("{shown}{message} (set by variant \"{}\")", self.name),
                help,
            ),
            None if !blamed => ctx.at_source(
                path,
                format!("{message} (with variant \"{}\")", self.name),
                help,
            ),
            None => {
                let at = if self.sets.len() == 1 {
                    self.set_path(0)
                } else {
                    vec![key("variants"), key(&self.name)]
                };
                ctx.at_source(
                    &at,
                    format!("with variant \"{}\": {shown}{message}", self.name),
                    help,
                )
            }
        }
    }
}

/// The variants of the document `doc` (of `text`), in name order. `[variants]` itself is checked
/// here: its tables, their keys, the number of them.
pub(crate) fn read(
    source: &str,
    text: &str,
    doc: &toml_edit::DocumentMut,
    overrides: &[Override],
) -> Result<Vec<Variant>, LoadError> {
    let Some(item) = doc.get("variants") else {
        return Ok(Vec::new());
    };
    let ctx = ErrCtx {
        source,
        text,
        overrides,
        index: std::cell::OnceCell::new(),
        variant: None,
        variant_blamed: false,
    };
    // Read the table alone, through serde, so its errors keep their key paths.
    let mut only = toml_edit::DocumentMut::new();
    only.insert("variants", item.clone());
    let value: toml::Value = toml::from_str(&only.to_string()).map_err(|e| {
        LoadError::plain(
            source,
            format!("TOML syntax error: {}", e.message().trim()),
            None,
        )
    })?;
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Only {
        variants: BTreeMap<String, VariantConfig>,
    }
    let only: Only = serde_path_to_error::deserialize(value).map_err(|e| LoadError {
        diagnostics: vec![super::serde_diag(&ctx, &[], e)],
    })?;
    let mut diags = Vec::new();
    if only.variants.len() > MAX_VARIANTS {
        diags.push(ctx.at_source(
            &[key("variants")],
            format!(
                "at most {MAX_VARIANTS} variants, found {}",
                only.variants.len()
            ),
            None,
        ));
    }
    for (name, v) in &only.variants {
        if name.is_empty()
            || !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            diags.push(ctx.at_source(
                &[key("variants"), key(name)],
                format!("variant name \"{name}\" may use only letters, digits, '-' and '_'"),
                None,
            ));
        }
        if v.set.is_empty() {
            diags.push(ctx.at_source(
                &[key("variants"), key(name), key("set")],
                format!("variant \"{name}\" changes nothing"),
                Some("e.g. set = ['workload.retries.budget=\"10%\"']".into()),
            ));
        }
    }
    if !diags.is_empty() {
        return Err(LoadError { diagnostics: diags });
    }
    Ok(only
        .variants
        .into_iter()
        .map(|(name, v)| Variant {
            name,
            description: v.description,
            sets: v
                .set
                .iter()
                .map(|raw| (raw.clone(), Override::parse(raw)))
                .collect(),
        })
        .collect())
}

/// The variant called `name`, or an error that lists them (with the nearest name).
pub(crate) fn find<'a>(
    source: &str,
    variants: &'a [Variant],
    name: &str,
) -> Result<&'a Variant, LoadError> {
    if let Some(v) = variants.iter().find(|v| v.name == name) {
        return Ok(v);
    }
    let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    let shown = error::clip(name, 60);
    let (message, help) = if names.is_empty() {
        (
            format!("there is no variant \"{shown}\": the scenario declares no variants"),
            "leave out --variant, or add [variants.NAME] with set = [\"KEY=VALUE\", ...]"
                .to_string(),
        )
    } else {
        let list = names.join(", ");
        let help = match nearest(name, names.iter().copied()) {
            Some(n) => format!("did you mean \"{n}\"? variants: {list}"),
            None => format!("variants: {list}"),
        };
        (format!("there is no variant \"{shown}\""), help)
    };
    Err(LoadError::plain(source, message, Some(help)))
}

/// The variants of a scenario file as (name, description), for listings.
pub fn list(file: &super::ScenarioFile) -> Vec<(&str, Option<&str>)> {
    file.variants
        .iter()
        .map(|(n, v)| (n.as_str(), v.description.as_deref()))
        .collect()
}
