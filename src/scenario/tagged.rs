//! Tables tagged by one of their keys — a distribution's `dist`, a scaling policy's `policy` — read
//! key by key, so that a problem inside one is placed at its key.
//!
//! serde's derive for an internally tagged enum buffers the whole table before it looks at the
//! tag, and serde_path_to_error then sees only the table: `mean = "abc"` was reported at
//! `workload.think_time`, column 1. Here every value is read with `next_value` under its own key,
//! whichever order the keys come in (each key has one type, whatever the variant), and the
//! problems the tag decides (a key of another variant, a missing key) are worded with the variant.
//!
//! The messages keep serde's shapes where the loader reads them (`unknown field `x`, expected one
//! of …`, `missing field `x``, `unknown variant `x`, expected one of …`), so that it adds the key
//! to the path and a did-you-mean; see `serde_diag` in `scenario/mod.rs`.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// One variant of a tagged table.
pub(crate) struct Variant<K> {
    /// Which one, for the type's own `match`.
    pub kind: K,
    /// The names its tag may take: the first is its own name, the rest aliases.
    pub names: &'static [&'static str],
    /// Its keys, the tag left out, in the reference's order.
    pub keys: &'static [&'static str],
    /// Its required keys as written in an example, e.g. `mean = "20ms"`.
    pub example: &'static str,
}

/// What a tagged table may hold.
pub(crate) struct Spec<K: 'static> {
    /// The tag's key: `dist`.
    pub tag: &'static str,
    /// The table, as the error for a value of the wrong type says it: "a distribution table such
    /// as { dist = \"exponential\", mean = \"20ms\" }".
    pub table: &'static str,
    /// The tag's value in words: "a distribution name".
    pub tag_words: &'static str,
    /// Every name the tag may take, aliases included, in the reference's order.
    pub names: &'static [&'static str],
    /// The tag, then every key of every variant (each once).
    pub keys: &'static [&'static str],
    /// The variants.
    pub variants: &'static [Variant<K>],
}

/// A type read from a tagged table.
pub(crate) trait TaggedTable: Sized {
    /// Which variant (a fieldless enum the type matches on).
    type Kind: Copy + 'static;
    /// The values read so far, one `Option` per key.
    type Slots: Default;
    /// The keys and variants.
    const SPEC: &'static Spec<Self::Kind>;
    /// Reads the value of `key` (one of `SPEC.keys`, not the tag) into its slot with
    /// `map.next_value()`.
    fn read_value<'de, A: MapAccess<'de>>(
        slots: &mut Self::Slots,
        key: &'static str,
        map: &mut A,
    ) -> Result<(), A::Error>;
    /// Builds the variant the tag chose; a required key left out is `found.need`'s error.
    fn build<E: de::Error>(found: &Found<Self::Kind>, slots: Self::Slots) -> Result<Self, E>;
}

/// The variant a table's tag chose.
pub(crate) struct Found<K: 'static> {
    spec: &'static Spec<K>,
    variant: &'static Variant<K>,
    /// The tag's value as written (an alias stays an alias in examples).
    name: &'static str,
}

impl<K: Copy> Found<K> {
    /// Which variant.
    pub fn kind(&self) -> K {
        self.variant.kind
    }

    /// The value of a required key, or the error that it is missing, with an example.
    pub fn need<T, E: de::Error>(&self, slot: Option<T>, key: &'static str) -> Result<T, E> {
        slot.ok_or_else(|| missing(key, &example(self.spec, self.variant, self.name)))
    }
}

/// `{ dist = "lognormal", mean = "20ms", cv = 1.5 }`.
fn example<K>(spec: &Spec<K>, v: &Variant<K>, name: &str) -> String {
    format!("{{ {} = \"{name}\", {} }}", spec.tag, v.example)
}

/// serde's "missing field" message, which the loader words as "missing required key", with the
/// example it puts in the help.
fn missing<E: de::Error>(key: &str, example: &str) -> E {
    E::custom(format_args!("missing field `{key}`, e.g. {example}"))
}

/// A key of another variant: an unknown field of this one, with the variant named.
fn misfit<K, E: de::Error>(spec: &Spec<K>, found: &Found<K>, key: &str) -> E {
    let owners: Vec<String> = spec
        .variants
        .iter()
        .filter(|v| v.keys.contains(&key))
        .map(|v| format!("\"{}\"", v.names[0]))
        .collect();
    let expected: Vec<String> = found
        .variant
        .keys
        .iter()
        .map(|k| format!("`{k}`"))
        .collect();
    E::custom(format_args!(
        "unknown field `{key}` for {tag} = \"{name}\" (`{key}` goes with {tag} = {owners}), \
         expected one of {expected}",
        tag = spec.tag,
        name = found.name,
        owners = owners.join(" or "),
        expected = expected.join(", "),
    ))
}

/// Reads a tagged table of `T` (the body of its `Deserialize`).
pub(crate) fn deserialize<'de, T: TaggedTable, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TableVisitor::<T>(PhantomData))
}

struct TableVisitor<T>(PhantomData<T>);

impl<'de, T: TaggedTable> Visitor<'de> for TableVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::SPEC.table)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let spec = T::SPEC;
        let mut slots = T::Slots::default();
        let mut found: Option<Found<T::Kind>> = None;
        let mut seen: Vec<&'static str> = Vec::new();
        // An unknown key met before the tag: reported once the tag says which keys were allowed.
        let mut unknown: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let Some(&k) = spec.keys.iter().find(|k| **k == key) else {
                match &found {
                    Some(f) => return Err(de::Error::unknown_field(&key, f.variant.keys)),
                    None => {
                        unknown.get_or_insert(key);
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                }
            };
            if seen.contains(&k) {
                return Err(de::Error::duplicate_field(k));
            }
            seen.push(k);
            if k == spec.tag {
                found = Some(map.next_value_seed(TagSeed(spec))?);
                continue;
            }
            if let Some(f) = &found {
                if !f.variant.keys.contains(&k) {
                    return Err(misfit(spec, f, k));
                }
            }
            T::read_value(&mut slots, k, &mut map)?;
        }
        let Some(found) = found else {
            if let Some(u) = unknown {
                return Err(de::Error::unknown_field(&u, spec.keys));
            }
            // The example is the first variant that has every key written, if any.
            let written: Vec<&str> = seen.iter().copied().filter(|k| *k != spec.tag).collect();
            let v = spec
                .variants
                .iter()
                .find(|v| written.iter().all(|k| v.keys.contains(k)))
                .unwrap_or(&spec.variants[0]);
            let names: Vec<String> = spec.names.iter().map(|n| format!("\"{n}\"")).collect();
            return Err(missing(
                spec.tag,
                &format!(
                    "{}, where {} is one of {}",
                    example(spec, v, v.names[0]),
                    spec.tag,
                    names.join(", ")
                ),
            ));
        };
        if let Some(u) = unknown {
            return Err(de::Error::unknown_field(&u, found.variant.keys));
        }
        // Keys written before the tag that it does not take.
        if let Some(k) = seen
            .iter()
            .find(|k| **k != spec.tag && !found.variant.keys.contains(k))
        {
            return Err(misfit(spec, &found, k));
        }
        T::build(&found, slots)
    }
}

/// Reads the tag's value: a name of one of the variants.
struct TagSeed<K: 'static>(&'static Spec<K>);

impl<'de, K: Copy> DeserializeSeed<'de> for TagSeed<K> {
    type Value = Found<K>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Found<K>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<K: Copy> Visitor<'_> for TagSeed<K> {
    type Value = Found<K>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<String> = self.0.names.iter().map(|n| format!("\"{n}\"")).collect();
        write!(
            f,
            "{}: one of {} (e.g. {} = \"{}\")",
            self.0.tag_words,
            names.join(", "),
            self.0.tag,
            self.0.names[0]
        )
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Found<K>, E> {
        let spec = self.0;
        for variant in spec.variants {
            if let Some(&name) = variant.names.iter().find(|n| **n == s) {
                return Ok(Found {
                    spec,
                    variant,
                    name,
                });
            }
        }
        Err(E::unknown_variant(s, spec.names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dist::DistConfig;
    use crate::model::fleet::ScalingConfig;
    use std::collections::BTreeSet;

    /// The spec's names and keys are the schema's (which is derived from, or checked against,
    /// the types), variant by variant.
    fn matches_the_schema<K>(spec: &Spec<K>, def: &str) {
        let schema = crate::scenario::schema::scenario_schema();
        let alts = schema["definitions"][def]["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("{def} has variants"));
        let mut names = Vec::new();
        let mut all_keys = vec![spec.tag.to_string()];
        for alt in alts {
            let name = alt["properties"][spec.tag]["enum"][0].as_str().unwrap();
            names.push(name.to_string());
            let v = spec
                .variants
                .iter()
                .find(|v| v.names.contains(&name))
                .unwrap_or_else(|| panic!("{def}: no variant named {name}"));
            let keys: BTreeSet<&str> = alt["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .filter(|k| *k != spec.tag)
                .collect();
            assert_eq!(keys, v.keys.iter().copied().collect(), "{def} {name}");
            for k in v.keys {
                if !all_keys.iter().any(|a| a == k) {
                    all_keys.push(k.to_string());
                }
            }
        }
        assert_eq!(names, spec.names, "{def}");
        let mut want: Vec<&str> = spec.keys.to_vec();
        let mut got: Vec<&str> = all_keys.iter().map(String::as_str).collect();
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "{def}: the tag and every variant's keys");
        assert_eq!(spec.keys[0], spec.tag);
        // Every name belongs to exactly one variant.
        for n in spec.names {
            let owners = spec.variants.iter().filter(|v| v.names.contains(n)).count();
            assert_eq!(owners, 1, "{def}: {n}");
        }
    }

    #[test]
    fn the_specs_match_the_schema() {
        matches_the_schema(DistConfig::SPEC, "DistConfig");
        matches_the_schema(ScalingConfig::SPEC, "ScalingConfig");
    }

    fn load<T: for<'de> serde::Deserialize<'de>>(text: &str) -> Result<T, String> {
        let v: toml::Value = toml::from_str(&format!("x = {text}")).unwrap();
        let t = v.get("x").unwrap().clone();
        serde_path_to_error::deserialize::<_, T>(t).map_err(|e| match e.path().to_string() {
            p if p == "." => e.inner().message().to_string(), // at the table itself
            p => format!("{p}: {}", e.inner().message()),
        })
    }

    #[test]
    fn keys_are_read_in_any_order_and_errors_name_the_inner_key() {
        let d: DistConfig = load("{ mean = \"20ms\", cv = 1.5, dist = \"lognormal\" }").unwrap();
        assert_eq!(d.describe(), "lognormal(mean 20ms, cv 1.5)");
        let d: DistConfig = load("{ dist = \"constant\", value = \"1s\" }").unwrap();
        assert!(matches!(d, DistConfig::Deterministic { .. }));
        let e = load::<DistConfig>("{ mean = \"abc\", dist = \"exponential\" }").unwrap_err();
        assert!(e.starts_with("mean: "), "{e}");
        let e = load::<DistConfig>("{ dist = \"exponential\", mean = \"abc\" }").unwrap_err();
        assert!(e.starts_with("mean: "), "{e}");
        let e = load::<DistConfig>("{ dist = \"expo\", mean = \"1s\" }").unwrap_err();
        assert!(e.starts_with("dist: unknown variant `expo`"), "{e}");
        // Read after the tag or before it, a key of another variant is the same error. (A TOML
        // table's keys come in name order, so `cv` is read before `dist`, `value` after it.)
        for t in [
            "{ dist = \"exponential\", value = \"1s\" }",
            "{ dist = \"exponential\", cv = 1.5 }",
        ] {
            let e = load::<DistConfig>(t).unwrap_err();
            assert!(
                e.starts_with("unknown field `value` for dist = \"exponential\"")
                    || e.starts_with("unknown field `cv` for dist = \"exponential\""),
                "{e}"
            );
            assert!(e.ends_with("expected one of `mean`"), "{e}");
        }
        // In the order written (JSON keeps it), a key before the tag is judged once the tag is read.
        let json = |t: &str| {
            let mut d = serde_json::Deserializer::from_str(t);
            serde_path_to_error::deserialize::<_, DistConfig>(&mut d)
                .map_err(|e| format!("{}: {}", e.path(), e.inner()))
        };
        let e = json(r#"{ "value": "1s", "dist": "exponential" }"#).unwrap_err();
        assert!(e.starts_with(".: unknown field `value` for dist"), "{e}");
        let e = json(r#"{ "zzz": 1, "dist": "lognormal", "mean": "1s" }"#).unwrap_err();
        assert!(
            e.starts_with(".: unknown field `zzz`, expected `mean` or `cv`"),
            "{e}"
        );
        let e = json(r#"{ "mean": "abc", "dist": "exponential" }"#).unwrap_err();
        assert!(e.starts_with("mean: "), "{e}");
        let d = json(r#"{ "cv": 2.0, "mean": "1s", "dist": "lognormal" }"#).unwrap();
        assert_eq!(d.describe(), "lognormal(mean 1s, cv 2)");
        assert!(
            json(r#"{ "dist": "exponential", "dist": "exponential", "mean": "1s" }"#)
                .unwrap_err()
                .contains("duplicate field `dist`")
        );
        let e = load::<DistConfig>("{ cv = 1.5, mean = \"1s\" }").unwrap_err();
        assert!(
            e.starts_with("missing field `dist`, e.g. { dist = \"lognormal\""),
            "{e}"
        );
        let e = load::<DistConfig>("{ dist = \"lognormal\", mean = \"1s\" }").unwrap_err();
        assert!(
            e.starts_with("missing field `cv`, e.g. { dist = \"lognormal\""),
            "{e}"
        );
        let e = load::<ScalingConfig>(
            "{ policy = \"step\", metric = \"cpu\", steps = [{ above = 0.7, change = 1.5 }] }",
        )
        .unwrap_err();
        assert!(e.starts_with("steps[0].change: "), "{e}");
    }
}
