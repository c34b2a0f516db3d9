//! `--set key.path=value`: change any value of a scenario from the command line.
//!
//! The value is read as a TOML value when it parses as one (`10`, `0.5`, `true`, `"5s"`,
//! `{ dist = "exponential", mean = "5ms" }`), and as a string otherwise, so `--set workload.timeout=5s`
//! works without shell quoting. Array elements are addressed as `mix[0].weight` or `mix.0.weight`.

use super::error::{path_string, Seg};
use toml_edit::{DocumentMut, Item, Table, Value};

/// Most segments a `--set` key path may have. The deepest real key of a scenario is about six
/// levels (`components.web.scaling.steps[0].change`); a longer path is a mistake, and a very long
/// one would build thousands of nested tables.
pub const MAX_PATH_DEPTH: usize = 32;

/// One parsed `--set`.
#[derive(Clone, Debug)]
pub struct Override {
    /// As given on the command line.
    pub raw: String,
    /// Where.
    pub path: Vec<Seg>,
    /// What.
    pub value: Value,
}

impl Override {
    /// Parses `key.path=value`.
    pub fn parse(raw: &str) -> Result<Override, String> {
        let (key, val) = raw
            .split_once('=')
            .ok_or_else(|| format!("`{raw}` is not key=value (e.g. --set workload.users=1000)"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("`{raw}` has an empty key"));
        }
        let segments = key.split('.').count() + key.matches('[').count();
        if segments > MAX_PATH_DEPTH {
            let shown = super::error::clip(key, 60);
            return Err(format!(
                "the key path `{shown}` has {segments} parts; at most {MAX_PATH_DEPTH} are allowed \
                 (the deepest scenario keys have about six, e.g. components.web.scaling.steps[0].change)"
            ));
        }
        let mut path = Vec::new();
        for part in key.split('.') {
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !name.is_empty() {
                if name.chars().all(|c| c.is_ascii_digit()) && !path.is_empty() {
                    path.push(Seg::Index(
                        name.parse().map_err(|_| format!("bad index in `{key}`"))?,
                    ));
                } else {
                    path.push(Seg::Key(name.to_string()));
                }
            } else if rest.is_empty() {
                return Err(format!("`{key}` has an empty path segment"));
            }
            while let Some(r) = rest.strip_prefix('[') {
                let close = r
                    .find(']')
                    .ok_or_else(|| format!("unclosed `[` in `{key}`"))?;
                let idx: usize = r[..close]
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{}` is not an array index in `{key}`", &r[..close]))?;
                path.push(Seg::Index(idx));
                rest = &r[close + 1..];
            }
            if !rest.is_empty() {
                return Err(format!("unexpected `{rest}` in `{key}`"));
            }
        }
        let text = val.trim();
        let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && text.parse::<i64>().is_err()
        {
            let seed = if key == "scenario.seed" {
                "; for a seed, use --seed, which takes any whole number from 0 to 18446744073709551615"
            } else {
                ""
            };
            return Err(format!(
                "{} is too large: a scenario's whole numbers go from -9223372036854775808 to \
                 9223372036854775807{seed}",
                super::error::clip(text, 40)
            ));
        }
        let value = match text.parse::<Value>() {
            Ok(v) => v,
            Err(_) => Value::from(text),
        };
        Ok(Override {
            raw: raw.to_string(),
            path,
            value,
        })
    }

    /// The key path as text.
    pub fn path_string(&self) -> String {
        path_string(&self.path)
    }

    /// Writes the value into the document, creating tables on the way as needed.
    pub fn apply(&self, doc: &mut DocumentMut) -> Result<(), String> {
        let mut item: &mut Item = doc.as_item_mut();
        let n = self.path.len();
        for (i, seg) in self.path.iter().enumerate() {
            let last = i + 1 == n;
            item = match seg {
                Seg::Key(k) => {
                    if item.is_none() {
                        *item = Item::Table(implicit_table());
                    }
                    let table = item.as_table_like_mut().ok_or_else(|| {
                        format!(
                            "`{}` is not a table, so it has no key `{k}`",
                            path_string(&self.path[..i])
                        )
                    })?;
                    if last {
                        table.insert(k, Item::Value(self.value.clone()));
                        return Ok(());
                    }
                    if table.get(k).is_none() {
                        table.insert(k, Item::Table(implicit_table()));
                    }
                    table.get_mut(k).expect("just ensured")
                }
                Seg::Index(ix) => {
                    let where_ = path_string(&self.path[..i]);
                    match item {
                        Item::ArrayOfTables(a) => {
                            let len = a.len();
                            let t = a.get_mut(*ix).ok_or_else(|| {
                                format!("`{where_}` has {len} entries; index {ix} is out of range")
                            })?;
                            if last {
                                return Err(format!(
                                    "`{where_}[{ix}]` is a table; set one of its keys"
                                ));
                            }
                            // Continue inside the table: re-borrow it as an item through a tiny detour.
                            return set_in_table(t, &self.path[i + 1..], &self.value);
                        }
                        Item::Value(Value::Array(a)) => {
                            let len = a.len();
                            let v = a.get_mut(*ix).ok_or_else(|| {
                                format!("`{where_}` has {len} entries; index {ix} is out of range")
                            })?;
                            if last {
                                *v = self.value.clone();
                                return Ok(());
                            }
                            return set_in_value(v, &self.path[i + 1..], &self.value);
                        }
                        _ => return Err(format!("`{where_}` is not an array")),
                    }
                }
            };
        }
        Ok(())
    }
}

/// A table created on the way to a new key: implicit, so it prints no header of its own
/// (`--set a.b.c=1` writes `[a.b]`, not `[a]`, `[a.b]`).
fn implicit_table() -> Table {
    let mut t = Table::new();
    t.set_implicit(true);
    t
}

fn set_in_table(t: &mut Table, path: &[Seg], value: &Value) -> Result<(), String> {
    match path.split_first() {
        Some((Seg::Key(k), [])) => {
            t.insert(k, Item::Value(value.clone()));
            Ok(())
        }
        Some((Seg::Key(k), rest)) => match t.get_mut(k) {
            Some(Item::Table(inner)) => set_in_table(inner, rest, value),
            Some(Item::Value(v)) => set_in_value(v, rest, value),
            _ => Err(format!("no table `{k}` to set `{}` in", path_string(rest))),
        },
        _ => Err("expected a key after an array-of-tables index".into()),
    }
}

fn set_in_value(v: &mut Value, path: &[Seg], value: &Value) -> Result<(), String> {
    let Some((seg, rest)) = path.split_first() else {
        *v = value.clone();
        return Ok(());
    };
    match (v, seg) {
        (Value::InlineTable(t), Seg::Key(k)) => {
            if rest.is_empty() {
                t.insert(k, value.clone());
                return Ok(());
            }
            // A table on the way that isn't there yet is created, as outside inline tables
            // (`--set 'calls[0].to[0].breaker.failures=3'` makes `breaker = { failures = 3 }`).
            if t.get(k).is_none() {
                t.insert(k, Value::InlineTable(toml_edit::InlineTable::new()));
            }
            let inner = t.get_mut(k).expect("just ensured");
            set_in_value(inner, rest, value)
        }
        (Value::Array(a), Seg::Index(i)) => {
            let len = a.len();
            let inner = a
                .get_mut(*i)
                .ok_or_else(|| format!("index {i} is out of range (length {len})"))?;
            set_in_value(inner, rest, value)
        }
        _ => Err(format!("cannot descend into `{}`", path_string(path))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(src: &str, set: &str) -> Result<String, String> {
        let mut doc: DocumentMut = src.parse().unwrap();
        Override::parse(set)?.apply(&mut doc)?;
        Ok(doc.to_string())
    }

    #[test]
    fn sets_scalars_strings_and_new_keys() {
        let src = "[workload]\nusers = 10\n";
        let out = apply(src, "workload.users=1000").unwrap();
        assert!(out.contains("users = 1000"));
        let out = apply(src, "workload.timeout=5s").unwrap();
        assert!(out.contains("timeout = \"5s\""));
        let out = apply(src, "scenario.seed=7").unwrap();
        assert!(out.contains("seed = 7"));
    }

    #[test]
    fn sets_inside_arrays_and_inline_tables() {
        let src = "[workload]\nmix = [{ name = \"a\", weight = 1 }]\n[[faults]]\nat = \"1m\"\n[components.web]\nservice = { dist = \"exponential\", mean = \"5ms\" }\n";
        assert!(apply(src, "workload.mix[0].weight=3")
            .unwrap()
            .contains("weight = 3"));
        assert!(apply(src, "workload.mix.0.weight=4")
            .unwrap()
            .contains("weight = 4"));
        assert!(apply(src, "faults[0].at=2m")
            .unwrap()
            .contains("at = \"2m\""));
        assert!(apply(src, "components.web.service.mean=9ms")
            .unwrap()
            .contains("mean = \"9ms\""));
        assert!(apply(src, "workload.mix[3].weight=1")
            .unwrap_err()
            .contains("out of range"));
        // A missing table inside an inline table is created on the way.
        let out = apply(src, "workload.mix[0].deep.er=2").unwrap();
        let back: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(
            back["workload"]["mix"][0]["deep"]["er"].as_integer(),
            Some(2)
        );
        // A value in the way is not replaced by a table.
        assert!(apply(src, "workload.mix[0].weight.x=1").is_err());
    }

    #[test]
    fn deep_set_key_path_is_refused_up_front_with_the_limit() {
        for n in [MAX_PATH_DEPTH + 1, 10_000, 20_000] {
            let raw = format!("{}=1", vec!["a"; n].join("."));
            let start = std::time::Instant::now();
            let e = Override::parse(&raw).unwrap_err();
            assert!(start.elapsed() < std::time::Duration::from_secs(1));
            assert!(e.contains(&format!("has {n} parts")), "{e}");
            assert!(e.contains("at most 32"), "{e}");
            assert!(e.len() < 400, "the 20 KB path is not echoed whole: {e}");
        }
        // Indices count as parts too; the limit itself is fine.
        assert!(Override::parse(&format!("{}[0]=1", vec!["a"; 32].join("."))).is_err());
        let ok = format!("{}=1", vec!["a"; MAX_PATH_DEPTH].join("."));
        assert_eq!(Override::parse(&ok).unwrap().path.len(), MAX_PATH_DEPTH);
    }

    #[test]
    fn set_creating_nested_tables_writes_one_header_not_one_per_level() {
        let path = vec!["a"; MAX_PATH_DEPTH].join(".");
        let out = apply("[scenario]\nname = \"x\"\n", &format!("{path}=1")).unwrap();
        // Before, every level got its own header: quadratic text (8.6 GB at 10,000 levels).
        assert_eq!(out.matches('[').count(), 2, "{out}");
        assert!(out.len() < 200, "{out}");
        let back: toml::Table = toml::from_str(&out).unwrap();
        assert!(back.contains_key("a"));
    }

    #[test]
    fn set_integer_beyond_toml_range_is_refused_with_the_range_not_read_as_a_string() {
        let e = Override::parse("scenario.seed=9223372036854775808").unwrap_err();
        assert!(
            e.contains("9223372036854775807") && e.contains("--seed"),
            "{e}"
        );
        let e = Override::parse("workload.users=99999999999999999999").unwrap_err();
        assert!(e.contains("too large") && !e.contains("--seed"), "{e}");
        assert!(Override::parse("scenario.seed=9223372036854775807").is_ok());
        assert!(Override::parse("scenario.seed=-5").is_ok());
    }

    #[test]
    fn rejects_malformed_settings() {
        assert!(Override::parse("novalue").is_err());
        assert!(Override::parse("=3").is_err());
        assert!(Override::parse("a[x]=3").is_err());
        assert!(Override::parse("a..b=3").is_err());
    }
}
