//! Vindexes: functions from column values to keyspace ids.
//!
//! Each vindex type lives in its own file and is created by name through
//! [`Registry`] (Vitess `vindexes.CreateVindex`). Functional vindexes map
//! values themselves; lookup vindexes need to query a lookup table through
//! a vcursor, so their [`Vindex::map`] refuses and the executor handles them.

mod binary;
mod binary_md5;
mod cfc;
mod collation;
mod hash;
mod lookup;
mod multicol;
mod null;
mod numeric;
mod numeric_static_map;
mod region_experimental;
mod registry;
mod reverse_bits;
mod unicode_loose;
mod xxhash;

use std::collections::BTreeMap;
use std::fmt;

use crate::key_range::{
    shard_for_keyspace_id, shards_in_key_range, KeyRange, KeyRangeError, KeyspaceId,
};
use crate::value::Value;

pub use lookup::{LookupKind, LookupParams, ReadLock};
pub use registry::{create_vindex, Registry, VindexConstructor};

/// Vindex parameters (`params` of a vindex in the VSchema).
pub type Params = BTreeMap<String, String>;

/// Where a value maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// No shard: the value cannot exist (NULL or unconvertible for the vindex).
    None,
    /// Exactly one keyspace id.
    KeyspaceId(KeyspaceId),
    /// Any of several keyspace ids (non-unique lookup results).
    KeyspaceIds(Vec<KeyspaceId>),
    /// Every keyspace id in a range (a prefix of a multi-column vindex).
    KeyRange(KeyRange),
}

impl Destination {
    /// Indexes of the shards (named as in topo: `-80`, `80-`, `0`) the
    /// destination touches, in shard order, without duplicates.
    pub fn resolve<S: AsRef<str>>(&self, shards: &[S]) -> Result<Vec<usize>, KeyRangeError> {
        let mut out = match self {
            Destination::None => Vec::new(),
            Destination::KeyspaceId(k) => vec![shard_for_keyspace_id(shards, &k.0)?],
            Destination::KeyspaceIds(ks) => ks
                .iter()
                .map(|k| shard_for_keyspace_id(shards, &k.0))
                .collect::<Result<_, _>>()?,
            Destination::KeyRange(r) => shards_in_key_range(shards, r)?,
        };
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// Errors creating or using a vindex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VindexError {
    /// No vindex type of that name is registered.
    #[error("vindexType {0:?} not found")]
    UnknownType(String),
    /// A parameter is missing or invalid.
    #[error("{0}")]
    BadParam(String),
    /// Mapping a value failed (for example invalid UTF-8 for unicode_loose).
    #[error("{vindex}.Map: {message}")]
    Map {
        /// Vindex type name.
        vindex: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The vindex queries a lookup table; the executor must map it.
    #[error("vindex {0} needs a vcursor to map values")]
    NeedsVCursor(String),
    /// A value the vindex cannot map (message as Vitess words it).
    #[error("{0}")]
    Invalid(String),
    /// A keyspace id cannot be reversed into a value.
    #[error("invalid keyspace id: {0}")]
    InvalidKeyspaceId(String),
}

/// A vindex instance (Vitess `vindexes.Vindex` plus `SingleColumn`).
pub trait Vindex: fmt::Debug + Send + Sync {
    /// The name given to it in the VSchema.
    fn name(&self) -> &str;
    /// The vindex type (`hash`, `lookup_unique`, ...).
    fn type_name(&self) -> &'static str;
    /// Relative cost of using it: 0 (free) .. 20 (lookup); `null` is 100.
    fn cost(&self) -> u32;
    /// Whether every value maps to at most one keyspace id.
    fn is_unique(&self) -> bool;
    /// Whether mapping needs to query a lookup table (lookup vindexes).
    fn needs_vcursor(&self) -> bool {
        false
    }
    /// Lookup parameters, for lookup vindexes.
    fn lookup(&self) -> Option<&LookupParams> {
        None
    }
    /// Parameters the vindex did not recognize (Vitess reports them as warnings).
    fn unknown_params(&self) -> &[String] {
        &[]
    }
    /// Maps each value to its destination, in order. On a multi-column
    /// vindex each value is the first column of a row (a partial key).
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError>;
    /// Whether [`Vindex::hash`] is implemented (Vitess `Hashing`): such
    /// vindexes can be `multicol` sub-vindexes.
    fn is_hashing(&self) -> bool {
        false
    }
    /// The keyspace id of one value, `None` when the value does not map.
    fn hash(&self, _value: &Value) -> Option<Vec<u8>> {
        None
    }
    /// The form used for `LIKE 'prefix%'` predicates, for vindexes that map
    /// prefixes to key ranges (Vitess `Prefixable`, the `cfc` vindex).
    fn prefix_vindex(&self) -> Option<&dyn Vindex> {
        None
    }
    /// Whether the vindex takes several columns (Vitess `MultiColumn`).
    fn is_multi_column(&self) -> bool {
        false
    }
    /// Whether a multi-column vindex can map a prefix of its columns to a
    /// key range (Vitess `PartialVindex`).
    fn is_partial(&self) -> bool {
        false
    }
    /// Maps rows of column values. Single-column vindexes take rows of one
    /// value; multi-column ones may take a prefix of their columns.
    fn map_rows(&self, rows: &[Vec<Value>]) -> Result<Vec<Destination>, VindexError> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            match row.as_slice() {
                [value] => out.extend(self.map(std::slice::from_ref(value))?),
                _ => out.push(Destination::None),
            }
        }
        Ok(out)
    }
    /// Reverses a keyspace id into the value it came from, for reversible
    /// vindexes (`hash`, `numeric`, `binary`, `reverse_bits`); `None` otherwise.
    fn reverse_map(&self, _ksid: &[u8]) -> Option<Result<Value, VindexError>> {
        None
    }
}

/// Maps values one by one with `f`, `None` meaning [`Destination::None`].
fn map_each(values: &[Value], f: impl Fn(&Value) -> Option<Vec<u8>>) -> Vec<Destination> {
    values
        .iter()
        .map(|v| match f(v) {
            Some(ksid) => Destination::KeyspaceId(KeyspaceId(ksid)),
            None => Destination::None,
        })
        .collect()
}

/// Names of the params not in `known`, sorted (Vitess `FindUnknownParams`).
fn unknown_params(params: &Params, known: &[&str]) -> Vec<String> {
    params
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod test_util;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_resolve_to_shards() {
        let shards = ["-40", "40-80", "80-c0", "c0-"];
        let kid = |b: u8| KeyspaceId(vec![b, 1]);
        assert!(Destination::None.resolve(&shards).unwrap().is_empty());
        assert_eq!(
            Destination::KeyspaceId(kid(0x41)).resolve(&shards).unwrap(),
            vec![1]
        );
        let many = Destination::KeyspaceIds(vec![kid(0xc5), kid(0x01), kid(0xc6)]);
        assert_eq!(many.resolve(&shards).unwrap(), vec![0, 3]);
        let range = Destination::KeyRange(KeyRange::new(vec![0x50], vec![0x90]));
        assert_eq!(range.resolve(&shards).unwrap(), vec![1, 2]);
        assert_eq!(
            Destination::KeyspaceId(kid(0x41))
                .resolve(&["-40"])
                .unwrap_err()
                .to_string(),
            "KeyspaceId 4101 didn't match any shards [-40]"
        );
    }
}
