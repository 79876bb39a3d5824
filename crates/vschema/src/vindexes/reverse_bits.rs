//! `reverse_bits`: the value as a `u64` with its bits reversed, big-endian.
//! Reversible.

use std::sync::Arc;

use super::{map_each, unknown_params, Destination, Params, Vindex, VindexError};
use crate::hex;
use crate::value::Value;

/// The `reverse_bits` vindex.
#[derive(Debug)]
pub struct ReverseBits {
    name: String,
    unknown: Vec<String>,
}

/// Creates a `reverse_bits` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(ReverseBits {
        name: name.to_string(),
        unknown: unknown_params(params, &[]),
    }))
}

impl Vindex for ReverseBits {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "reverse_bits"
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
        value
            .to_cast_u64()
            .map(|n| n.reverse_bits().to_be_bytes().to_vec())
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Ok(map_each(values, |v| self.hash(v)))
    }
    fn reverse_map(&self, ksid: &[u8]) -> Option<Result<Value, VindexError>> {
        Some(
            <[u8; 8]>::try_from(ksid)
                .map(|b| Value::Uint(u64::from_be_bytes(b).reverse_bits()))
                .map_err(|_| VindexError::InvalidKeyspaceId(hex::encode(ksid))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindexes::test_util::{map_hex, vindex};

    #[test]
    fn vitess_vectors() {
        let v = vindex("reverse_bits");
        let cases = [
            (1, "8000000000000000"),
            (2, "4000000000000000"),
            (3, "c000000000000000"),
            (4, "2000000000000000"),
            (5, "a000000000000000"),
            (6, "6000000000000000"),
        ];
        for (n, want) in cases {
            assert_eq!(map_hex(v.as_ref(), Value::Int(n)), want);
            let kid = hex::decode(want).unwrap();
            assert_eq!(v.reverse_map(&kid).unwrap().unwrap(), Value::Uint(n as u64));
        }
        assert_eq!(map_hex(v.as_ref(), Value::Null), "none");
    }
}
