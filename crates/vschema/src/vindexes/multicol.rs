//! `multicol`: a multi-column vindex. Each column is hashed by its own
//! sub-vindex (`column_vindex`, default `hash`) and contributes a fixed
//! number of leading bytes (`column_bytes`, default an even split of 8) to
//! the keyspace id. A prefix of the columns maps to a key range.

use std::sync::Arc;

use super::{create_vindex, Destination, Params, Vindex, VindexError};
use crate::key_range::{KeyRange, KeyspaceId};
use crate::value::Value;

/// The `multicol` vindex.
#[derive(Debug)]
pub struct MultiCol {
    name: String,
    cost: u32,
    column_vindexes: Vec<Arc<dyn Vindex>>,
    column_bytes: Vec<usize>,
}

fn bad(message: impl Into<String>) -> VindexError {
    VindexError::BadParam(message.into())
}

/// Go's `strconv.Atoi` on a parameter.
fn atoi(text: &str) -> Result<i64, VindexError> {
    text.parse::<i64>()
        .map_err(|_| bad(format!("strconv.Atoi: parsing {text:?}: invalid syntax")))
}

fn column_count(params: &Params) -> Result<usize, VindexError> {
    let text = params
        .get("column_count")
        .ok_or_else(|| bad("number of columns not provided in the parameter 'column_count'"))?;
    match atoi(text)? {
        n @ 1..=8 => Ok(n as usize),
        _ => Err(bad(
            "number of columns should be between 1 and 8 in the parameter 'column_count'",
        )),
    }
}

/// Bytes per column: explicit ones from `column_bytes`, the rest of the 8
/// bytes shared out (rounding up) in column order.
fn column_bytes(params: &Params, count: usize) -> Result<Vec<usize>, VindexError> {
    let given: Vec<&str> = params
        .get("column_bytes")
        .map(|s| s.split(',').collect())
        .unwrap_or_default();
    if given.len() > count {
        return Err(bad("number of column bytes provided are more than column count in the parameter 'column_bytes'"));
    }
    let mut bytes: Vec<Option<i64>> = vec![None; count];
    for (i, text) in given.iter().enumerate() {
        if !text.is_empty() {
            bytes[i] = Some(atoi(text)?);
        }
    }
    let used: i64 = bytes.iter().flatten().sum();
    let mut pending = bytes.iter().filter(|b| b.is_none()).count() as i64;
    let mut remaining = 8 - used;
    if used > 8 || pending > remaining {
        return Err(bad("column bytes count exceeds the keyspace id length (total bytes count cannot exceed 8 bytes) in the parameter 'column_bytes'"));
    }
    for b in bytes.iter_mut().filter(|b| b.is_none()) {
        let share = (remaining + pending - 1) / pending;
        *b = Some(share);
        remaining -= share;
        pending -= 1;
    }
    Ok(bytes
        .into_iter()
        .map(|b| b.unwrap_or(0).max(0) as usize)
        .collect())
}

/// Creates a `multicol` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    let count = column_count(params)?;
    let column_bytes = column_bytes(params, count)?;
    let types: Vec<&str> = params
        .get("column_vindex")
        .map(|s| s.split(',').collect())
        .unwrap_or_default();
    if types.len() > count {
        return Err(bad("number of vindex function provided are more than column count in the parameter 'column_vindex'"));
    }
    let sub_params: Params = params
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "column_count" | "column_bytes" | "column_vindex"
            )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut column_vindexes = Vec::with_capacity(count);
    for i in 0..count {
        let t = types
            .get(i)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .unwrap_or("hash");
        let v = create_vindex(t, t, &sub_params)?;
        if !v.is_hashing() || !v.is_unique() || v.needs_vcursor() {
            return Err(bad(format!("multicol vindex supports vindexes that exports hashing function, are unique and are non-lookup vindex, passed vindex '{t}' is invalid")));
        }
        column_vindexes.push(v);
    }
    Ok(Arc::new(MultiCol {
        name: name.to_string(),
        cost: column_vindexes.iter().map(|v| v.cost()).sum(),
        column_vindexes,
        column_bytes,
    }))
}

impl MultiCol {
    /// The keyspace id (or prefix, for fewer columns) of one row.
    fn keyspace_id(&self, row: &[Value]) -> Option<Vec<u8>> {
        if row.len() > self.column_vindexes.len() {
            return None;
        }
        let mut ksid = Vec::with_capacity(8);
        let mut min_len = 0;
        for (i, value) in row.iter().enumerate() {
            let hash = self.column_vindexes[i].hash(value)?;
            ksid.resize(ksid.len().max(min_len), 0);
            ksid.extend(hash.iter().take(self.column_bytes[i]));
            min_len += self.column_bytes[i];
        }
        Some(ksid)
    }
}

impl Vindex for MultiCol {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "multicol"
    }
    fn cost(&self) -> u32 {
        self.cost
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn is_multi_column(&self) -> bool {
        true
    }
    fn is_partial(&self) -> bool {
        true
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        let rows: Vec<Vec<Value>> = values.iter().map(|v| vec![v.clone()]).collect();
        self.map_rows(&rows)
    }
    fn map_rows(&self, rows: &[Vec<Value>]) -> Result<Vec<Destination>, VindexError> {
        Ok(rows
            .iter()
            .map(|row| match self.keyspace_id(row) {
                None => Destination::None,
                Some(k) if row.len() < self.column_vindexes.len() => {
                    Destination::KeyRange(KeyRange::from_prefix(&k))
                }
                Some(k) => Destination::KeyspaceId(KeyspaceId(k)),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Arc<dyn Vindex>, VindexError> {
        let params: Params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        new("multicol", &params)
    }

    fn err(pairs: &[(&str, &str)]) -> String {
        with(pairs).unwrap_err().to_string()
    }

    #[test]
    fn creation() {
        assert_eq!(with(&[("column_count", "3")]).unwrap().cost(), 3);
        assert_eq!(
            with(&[("column_count", "1"), ("hello", "world")])
                .unwrap()
                .cost(),
            1
        );
        let binary = [
            ("column_count", "3"),
            ("column_bytes", "1,2,3"),
            ("column_vindex", "binary,binary,binary"),
        ];
        assert_eq!(with(&binary).unwrap().cost(), 0);
        let range = "number of columns should be between 1 and 8 in the parameter 'column_count'";
        assert_eq!(err(&[("column_count", "0")]), range);
        assert_eq!(err(&[("column_count", "9")]), range);
        assert_eq!(
            err(&[]),
            "number of columns not provided in the parameter 'column_count'"
        );
        assert_eq!(
            err(&[("column_count", "3"), ("column_bytes", "1,2,3,4")]),
            "number of column bytes provided are more than column count in the parameter 'column_bytes'"
        );
        assert!(
            err(&[("column_count", "3"), ("column_bytes", "100,200,300")])
                .starts_with("column bytes count exceeds")
        );
        assert_eq!(
            err(&[("column_count", "3"), ("column_vindex", "binary,binary,binary,binary")]),
            "number of vindex function provided are more than column count in the parameter 'column_vindex'"
        );
        for t in ["null", "lookup"] {
            let v = format!("binary,binary,{t}");
            assert_eq!(
                err(&[("column_count", "3"), ("column_vindex", &v)]),
                format!("multicol vindex supports vindexes that exports hashing function, are unique and are non-lookup vindex, passed vindex '{t}' is invalid")
            );
        }
    }

    #[test]
    fn vitess_map_vectors() {
        let v = with(&[("column_count", "3")]).unwrap();
        assert!(v.is_multi_column() && v.is_partial() && v.is_unique());
        let i = Value::Int;
        let rows = vec![
            vec![i(1), i(1), i(1)],
            vec![i(255), i(1), i(1)],
            vec![i(256), i(1), i(1)],
            vec![i(1)],
            vec![i(1), i(1)],
            vec![Value::from("abcd"), i(256), i(256)],
            vec![i(256), i(256), Value::from("abcd")],
        ];
        let kid = |b: &[u8]| Destination::KeyspaceId(KeyspaceId(b.to_vec()));
        let range =
            |s: &[u8], e: &[u8]| Destination::KeyRange(KeyRange::new(s.to_vec(), e.to_vec()));
        assert_eq!(
            v.map_rows(&rows).unwrap(),
            vec![
                kid(&[0x16, 0x6b, 0x40, 0x16, 0x6b, 0x40, 0x16, 0x6b]),
                kid(&[0x25, 0x4e, 0x88, 0x16, 0x6b, 0x40, 0x16, 0x6b]),
                kid(&[0xdd, 0x7c, 0x0b, 0x16, 0x6b, 0x40, 0x16, 0x6b]),
                range(&[0x16, 0x6b, 0x40], &[0x16, 0x6b, 0x41]),
                range(
                    &[0x16, 0x6b, 0x40, 0x16, 0x6b, 0x40],
                    &[0x16, 0x6b, 0x40, 0x16, 0x6b, 0x41]
                ),
                Destination::None,
                Destination::None,
            ]
        );
        assert_eq!(
            v.map(&[i(1)]).unwrap(),
            vec![range(&[0x16, 0x6b, 0x40], &[0x16, 0x6b, 0x41])]
        );
    }
}
