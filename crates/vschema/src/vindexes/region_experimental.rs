//! `region_experimental`: a two-column vindex for geo-partitioning. The
//! region (first column) becomes a 1- or 2-byte big-endian prefix
//! (`region_bytes`), followed by the `hash` of the id (second column). The
//! region alone maps to the key range of its prefix.

use std::sync::Arc;

use des::Des;

use super::hash::{vhash, zero_key_des};
use super::{unknown_params, Destination, Params, Vindex, VindexError};
use crate::key_range::{KeyRange, KeyspaceId};
use crate::value::Value;

/// The `region_experimental` vindex.
#[derive(Debug)]
pub struct RegionExperimental {
    name: String,
    region_bytes: usize,
    cipher: Des,
    unknown: Vec<String>,
}

/// Creates a `region_experimental` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    let region_bytes = match params.get("region_bytes").map(String::as_str) {
        None => {
            return Err(VindexError::BadParam(
                "region_experimental missing region_bytes param".into(),
            ))
        }
        Some("1") => 1,
        Some("2") => 2,
        Some(other) => {
            return Err(VindexError::BadParam(format!(
                "region_bytes must be 1 or 2: {other}"
            )))
        }
    };
    Ok(Arc::new(RegionExperimental {
        name: name.to_string(),
        region_bytes,
        cipher: zero_key_des(),
        unknown: unknown_params(params, &["region_bytes"]),
    }))
}

impl RegionExperimental {
    fn map_row(&self, row: &[Value]) -> Destination {
        let (Some(region), 1..=2) = (row.first(), row.len()) else {
            return Destination::None;
        };
        let Some(region) = region.to_cast_u64() else {
            return Destination::None;
        };
        let prefix = (region as u16).to_be_bytes();
        let mut ksid = prefix[2 - self.region_bytes..].to_vec();
        match row.get(1) {
            None => Destination::KeyRange(KeyRange::from_prefix(&ksid)),
            Some(id) => match id.to_cast_u64() {
                None => Destination::None,
                Some(n) => {
                    ksid.extend_from_slice(&vhash(&self.cipher, n));
                    Destination::KeyspaceId(KeyspaceId(ksid))
                }
            },
        }
    }
}

impl Vindex for RegionExperimental {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "region_experimental"
    }
    fn cost(&self) -> u32 {
        1
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
    fn unknown_params(&self) -> &[String] {
        &self.unknown
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Ok(values
            .iter()
            .map(|v| self.map_row(std::slice::from_ref(v)))
            .collect())
    }
    fn map_rows(&self, rows: &[Vec<Value>]) -> Result<Vec<Destination>, VindexError> {
        Ok(rows.iter().map(|row| self.map_row(row)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(bytes: &str) -> Arc<dyn Vindex> {
        let params: Params = [("region_bytes".to_string(), bytes.to_string())].into();
        new("region_experimental", &params).unwrap()
    }

    const HASH_OF_1: [u8; 8] = [0x16, 0x6b, 0x40, 0xb4, 0x4a, 0xba, 0x4b, 0xd6];

    fn kid(prefix: &[u8]) -> Destination {
        Destination::KeyspaceId(KeyspaceId([prefix, &HASH_OF_1].concat()))
    }

    #[test]
    fn params() {
        let err = |p: Params| new("r", &p).unwrap_err().to_string();
        assert_eq!(
            err(Params::new()),
            "region_experimental missing region_bytes param"
        );
        for bad in ["0", "3"] {
            let p: Params = [("region_bytes".to_string(), bad.to_string())].into();
            assert_eq!(err(p), format!("region_bytes must be 1 or 2: {bad}"));
        }
        let p: Params = [("region_bytes", "1"), ("hello", "world")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            new("r", &p).unwrap().unknown_params(),
            ["hello".to_string()]
        );
    }

    #[test]
    fn vitess_vectors_one_byte() {
        let v = region("1");
        assert_eq!(
            (v.cost(), v.is_unique(), v.needs_vcursor()),
            (1, true, false)
        );
        let i = Value::Int;
        let rows = vec![
            vec![i(1), i(1)],
            vec![i(255), i(1)],
            vec![i(256), i(1)],
            vec![i(1)],
            vec![Value::from("abcd"), i(256)],
            vec![i(1), Value::from("abcd")],
        ];
        assert_eq!(
            v.map_rows(&rows).unwrap(),
            vec![
                kid(&[0x01]),
                kid(&[0xff]),
                kid(&[0x00]),
                Destination::KeyRange(KeyRange::new(vec![1], vec![2])),
                Destination::None,
                Destination::None,
            ]
        );
    }

    #[test]
    fn vitess_vectors_two_bytes() {
        let v = region("2");
        let i = Value::Int;
        let rows = vec![
            vec![i(1), i(1)],
            vec![i(255), i(1)],
            vec![i(256), i(1)],
            vec![i(0x10000), i(1)],
        ];
        assert_eq!(
            v.map_rows(&rows).unwrap(),
            vec![kid(&[0, 1]), kid(&[0, 0xff]), kid(&[1, 0]), kid(&[0, 0])]
        );
    }
}
