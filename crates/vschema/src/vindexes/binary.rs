//! `binary`: the keyspace id is the value's raw bytes. Cost 0, reversible.

use std::sync::Arc;

use super::{map_each, unknown_params, Destination, Params, Vindex, VindexError};
use crate::value::Value;

/// The `binary` vindex.
#[derive(Debug)]
pub struct Binary {
    name: String,
    unknown: Vec<String>,
}

/// Creates a `binary` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(Binary {
        name: name.to_string(),
        unknown: unknown_params(params, &[]),
    }))
}

impl Vindex for Binary {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "binary"
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
        Some(value.to_bytes())
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Ok(map_each(values, |v| self.hash(v)))
    }
    fn reverse_map(&self, ksid: &[u8]) -> Option<Result<Value, VindexError>> {
        Some(Ok(Value::Bytes(ksid.to_vec())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindexes::test_util::{map_hex, vindex};

    #[test]
    fn raw_bytes() {
        let v = vindex("binary");
        assert_eq!(map_hex(v.as_ref(), Value::from("test1")), "7465737431");
        assert_eq!(map_hex(v.as_ref(), Value::Int(1)), "31");
        assert_eq!(map_hex(v.as_ref(), Value::Bytes(vec![0, 0xff])), "00ff");
        assert_eq!(v.reverse_map(b"ab").unwrap().unwrap(), Value::from("ab"));
        assert_eq!((v.cost(), v.is_unique()), (0, true));
    }
}
