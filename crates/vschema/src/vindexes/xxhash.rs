//! `xxhash`: XXH64 (seed 0) of the value's raw bytes, written little-endian.
//! The integer 1 is hashed as the text `"1"`.

use std::sync::Arc;

use twox_hash::XxHash64;

use super::{map_each, unknown_params, Destination, Params, Vindex, VindexError};
use crate::value::Value;

/// The `xxhash` vindex.
#[derive(Debug)]
pub struct XxHash {
    name: String,
    unknown: Vec<String>,
}

/// Creates an `xxhash` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(XxHash {
        name: name.to_string(),
        unknown: unknown_params(params, &[]),
    }))
}

/// XXH64 with seed 0, as little-endian bytes.
pub fn xxhash64_le(bytes: &[u8]) -> [u8; 8] {
    XxHash64::oneshot(0, bytes).to_le_bytes()
}

impl Vindex for XxHash {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "xxhash"
    }
    fn cost(&self) -> u32 {
        1
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn unknown_params(&self) -> &[String] {
        &self.unknown
    }
    fn is_hashing(&self) -> bool {
        true
    }
    fn hash(&self, value: &Value) -> Option<Vec<u8>> {
        Some(xxhash64_le(&value.to_bytes()).to_vec())
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Ok(map_each(values, |v| self.hash(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindexes::test_util::{map_hex, vindex};

    #[test]
    fn vitess_vectors() {
        let v = vindex("xxhash");
        let cases: &[(Value, &str)] = &[
            (Value::from("test1"), "d01ab7e4d6978f0b"),
            (Value::from("test2"), "87eb11714c0a0e89"),
            (
                Value::from("testaverylongvaluetomakesurethisworks"),
                "81d8c38e0d850e6a",
            ),
            (Value::Int(1), "d46405367612b4b7"),
            (Value::Null, "99e9d85137db46ef"),
            (Value::Int(-1), "d8e2a6a7c8c7623d"),
            (Value::Uint(u64::MAX), "477cfa8d6d8f1f8d"),
            (Value::Int(i64::MAX), "b37eb01f7bffafd8"),
            (Value::Uint(i64::MAX as u64), "b37eb01f7bffafd8"),
            (Value::Int(i64::MIN), "102c27ddb26a609e"),
            (Value::Int(2), "8b59801662b52160"),
            (Value::Int(3), "a42c16f52a7c1626"),
            (Value::Int(4), "896ba42c32143991"),
            (Value::Int(5), "ed48b60574b4816a"),
        ];
        for (value, want) in cases {
            assert_eq!(map_hex(v.as_ref(), value.clone()), *want, "{value:?}");
        }
        assert_eq!((v.cost(), v.is_unique()), (1, true));
        assert!(v.reverse_map(&[1]).is_none());
    }
}
