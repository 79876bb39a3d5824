//! `numeric`: the value as a big-endian `u64`. Cost 0, reversible.

use std::sync::Arc;

use super::{map_each, unknown_params, Destination, Params, Vindex, VindexError};
use crate::hex;
use crate::value::Value;

/// The `numeric` vindex.
#[derive(Debug)]
pub struct Numeric {
    name: String,
    unknown: Vec<String>,
}

/// Creates a `numeric` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(Numeric {
        name: name.to_string(),
        unknown: unknown_params(params, &[]),
    }))
}

impl Vindex for Numeric {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "numeric"
    }
    fn cost(&self) -> u32 {
        0
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
        value.to_cast_u64().map(|n| n.to_be_bytes().to_vec())
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Ok(map_each(values, |v| self.hash(v)))
    }
    fn reverse_map(&self, ksid: &[u8]) -> Option<Result<Value, VindexError>> {
        Some(
            <[u8; 8]>::try_from(ksid)
                .map(|b| Value::Uint(u64::from_be_bytes(b)))
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
        let v = vindex("numeric");
        assert_eq!(map_hex(v.as_ref(), Value::Int(1)), "0000000000000001");
        assert_eq!(map_hex(v.as_ref(), Value::Int(8)), "0000000000000008");
        assert_eq!(map_hex(v.as_ref(), Value::from("1.1")), "none");
        assert_eq!(map_hex(v.as_ref(), Value::Null), "none");
        assert_eq!((v.cost(), v.is_unique()), (0, true));
        let back = v.reverse_map(&8u64.to_be_bytes()).unwrap().unwrap();
        assert_eq!(back, Value::Uint(8));
        assert!(v.reverse_map(&[1]).unwrap().is_err());
    }
}
