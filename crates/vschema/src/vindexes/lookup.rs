//! Lookup vindexes (`lookup`, `lookup_unique`, `lookup_hash[_unique]`,
//! `lookup_unicodeloosemd5_hash[_unique]`, `consistent_lookup[_unique]`):
//! their parameters and properties. They map values by querying a lookup
//! table, which the executor does through a vcursor; [`Vindex::map`] on them
//! returns [`VindexError::NeedsVCursor`].

use std::sync::Arc;

use super::{unknown_params, Destination, Params, Vindex, VindexError};
use crate::value::Value;

/// Which family of lookup vindex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKind {
    /// `lookup` / `lookup_unique`: the `to` column holds keyspace ids.
    Lookup,
    /// `lookup_hash[_unique]`: `to` holds ids, hashed with `hash`.
    LookupHash,
    /// `lookup_unicodeloosemd5_hash[_unique]`: `from` is hashed with
    /// unicode_loose_md5 before the lookup, `to` hashed with `hash`.
    LookupUnicodeLooseMd5Hash,
    /// `consistent_lookup[_unique]`: rows written in a pre/post session
    /// around the owner's DML.
    ConsistentLookup,
}

/// The row lock taken when reading the lookup table (`read_lock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadLock {
    /// `FOR UPDATE` (the default).
    #[default]
    Exclusive,
    /// `LOCK IN SHARE MODE`.
    Shared,
    /// No lock.
    None,
}

/// Parsed parameters of a lookup vindex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupParams {
    /// The family.
    pub kind: LookupKind,
    /// Unique variant (`*_unique`).
    pub unique: bool,
    /// Lookup table, usually `ks.table`.
    pub table: String,
    /// Columns of the lookup table matched against the vindex columns.
    pub from: Vec<String>,
    /// Column holding the keyspace id (or id for the hash kinds).
    pub to: String,
    /// Write lookup rows in their own autocommit transaction.
    pub autocommit: bool,
    /// Use multi-shard autocommit for lookup writes.
    pub multi_shard_autocommit: bool,
    /// Skip NULL values instead of writing lookup rows for them.
    pub ignore_nulls: bool,
    /// Batch lookups of several values into one query.
    pub batch_lookup: bool,
    /// Lock taken when reading.
    pub read_lock: ReadLock,
    /// Rows are written but never read (backfill in progress).
    pub write_only: bool,
    /// Do not verify lookup rows against the owner table.
    pub no_verify: bool,
}

const KNOWN_PARAMS: &[&str] = &[
    "table",
    "from",
    "to",
    "autocommit",
    "multi_shard_autocommit",
    "ignore_nulls",
    "batch_lookup",
    "read_lock",
    "write_only",
    "no_verify",
];

/// Vitess `boolFromMap`: absent is false, else exactly `true` or `false`.
fn bool_param(params: &Params, key: &str) -> Result<bool, VindexError> {
    match params.get(key).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(VindexError::BadParam(format!(
            "{key} value must be 'true' or 'false': '{other}'"
        ))),
    }
}

impl LookupParams {
    /// Parses lookup params as Vitess's `lookupInternal.Init` does.
    pub fn parse(kind: LookupKind, unique: bool, params: &Params) -> Result<Self, VindexError> {
        let get = |k: &str| params.get(k).cloned().unwrap_or_default();
        let read_lock = match params.get("read_lock").map(String::as_str) {
            None | Some("exclusive") => ReadLock::Exclusive,
            Some("shared") => ReadLock::Shared,
            Some("none") => ReadLock::None,
            Some(other) => {
                return Err(VindexError::BadParam(format!(
                    "invalid read_lock value: {other}"
                )))
            }
        };
        Ok(LookupParams {
            kind,
            unique,
            table: get("table"),
            from: get("from")
                .split(',')
                .map(|c| c.trim().to_string())
                .collect(),
            to: get("to"),
            autocommit: bool_param(params, "autocommit")?,
            multi_shard_autocommit: bool_param(params, "multi_shard_autocommit")?,
            ignore_nulls: bool_param(params, "ignore_nulls")?,
            batch_lookup: bool_param(params, "batch_lookup")?,
            read_lock,
            write_only: bool_param(params, "write_only")?,
            no_verify: bool_param(params, "no_verify")?,
        })
    }
}

/// A lookup vindex instance.
#[derive(Debug)]
pub struct LookupVindex {
    name: String,
    type_name: &'static str,
    params: LookupParams,
    unknown: Vec<String>,
}

fn create(
    type_name: &'static str,
    kind: LookupKind,
    unique: bool,
    name: &str,
    params: &Params,
) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(LookupVindex {
        name: name.to_string(),
        type_name,
        params: LookupParams::parse(kind, unique, params)?,
        unknown: unknown_params(params, KNOWN_PARAMS),
    }))
}

/// Constructors for the registry, one per lookup type name.
pub fn constructors() -> Vec<(&'static str, super::VindexConstructor)> {
    vec![
        ("lookup", |n, p| {
            create("lookup", LookupKind::Lookup, false, n, p)
        }),
        ("lookup_unique", |n, p| {
            create("lookup_unique", LookupKind::Lookup, true, n, p)
        }),
        ("lookup_hash", |n, p| {
            create("lookup_hash", LookupKind::LookupHash, false, n, p)
        }),
        ("lookup_hash_unique", |n, p| {
            create("lookup_hash_unique", LookupKind::LookupHash, true, n, p)
        }),
        ("lookup_unicodeloosemd5_hash", |n, p| {
            let kind = LookupKind::LookupUnicodeLooseMd5Hash;
            create("lookup_unicodeloosemd5_hash", kind, false, n, p)
        }),
        ("lookup_unicodeloosemd5_hash_unique", |n, p| {
            let kind = LookupKind::LookupUnicodeLooseMd5Hash;
            create("lookup_unicodeloosemd5_hash_unique", kind, true, n, p)
        }),
        ("consistent_lookup", |n, p| {
            create(
                "consistent_lookup",
                LookupKind::ConsistentLookup,
                false,
                n,
                p,
            )
        }),
        ("consistent_lookup_unique", |n, p| {
            create(
                "consistent_lookup_unique",
                LookupKind::ConsistentLookup,
                true,
                n,
                p,
            )
        }),
    ]
}

impl Vindex for LookupVindex {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        self.type_name
    }
    fn cost(&self) -> u32 {
        if self.params.unique {
            10
        } else {
            20
        }
    }
    fn is_unique(&self) -> bool {
        self.params.unique
    }
    fn needs_vcursor(&self) -> bool {
        true
    }
    fn lookup(&self) -> Option<&LookupParams> {
        Some(&self.params)
    }
    fn unknown_params(&self) -> &[String] {
        &self.unknown
    }
    fn map(&self, _values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Err(VindexError::NeedsVCursor(self.name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindexes::create_vindex;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_params() {
        let p = params(&[
            ("table", "user.name_user_vdx"),
            ("from", "name, other"),
            ("to", "keyspace_id"),
            ("autocommit", "true"),
            ("read_lock", "shared"),
            ("write_only", "true"),
            ("bogus", "1"),
        ]);
        let v = create_vindex("lookup", "name_user_map", &p).unwrap();
        assert!(v.needs_vcursor());
        assert!(!v.is_unique());
        assert_eq!(v.cost(), 20);
        assert_eq!(v.unknown_params(), ["bogus".to_string()]);
        let l = v.lookup().unwrap();
        assert_eq!(l.kind, LookupKind::Lookup);
        assert_eq!(l.table, "user.name_user_vdx");
        assert_eq!(l.from, vec!["name", "other"]);
        assert_eq!(l.to, "keyspace_id");
        assert!(l.autocommit && l.write_only && !l.ignore_nulls);
        assert_eq!(l.read_lock, ReadLock::Shared);
        assert!(matches!(
            v.map(&[Value::Int(1)]),
            Err(VindexError::NeedsVCursor(_))
        ));
    }

    #[test]
    fn unique_variants_and_errors() {
        for (t, unique, cost) in [
            ("lookup_unique", true, 10),
            ("lookup_hash", false, 20),
            ("lookup_hash_unique", true, 10),
            ("lookup_unicodeloosemd5_hash", false, 20),
            ("lookup_unicodeloosemd5_hash_unique", true, 10),
            ("consistent_lookup", false, 20),
            ("consistent_lookup_unique", true, 10),
        ] {
            let v = create_vindex(t, "v", &Params::new()).unwrap();
            assert_eq!((v.is_unique(), v.cost(), v.type_name()), (unique, cost, t));
        }
        let err = create_vindex("lookup", "v", &params(&[("ignore_nulls", "yes")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ignore_nulls value must be 'true' or 'false': 'yes'"
        );
        let err = create_vindex("lookup", "v", &params(&[("read_lock", "x")])).unwrap_err();
        assert_eq!(err.to_string(), "invalid read_lock value: x");
    }
}
