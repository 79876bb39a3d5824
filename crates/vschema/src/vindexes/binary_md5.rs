//! `binary_md5`: MD5 of the value's raw bytes (16 bytes).

use std::sync::Arc;

use md5::{Digest, Md5};

use super::{map_each, unknown_params, Destination, Params, Vindex, VindexError};
use crate::value::Value;

/// The `binary_md5` vindex.
#[derive(Debug)]
pub struct BinaryMd5 {
    name: String,
    unknown: Vec<String>,
}

/// Creates a `binary_md5` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(BinaryMd5 {
        name: name.to_string(),
        unknown: unknown_params(params, &[]),
    }))
}

/// MD5 digest of `bytes`.
pub fn md5(bytes: &[u8]) -> Vec<u8> {
    Md5::digest(bytes).to_vec()
}

impl Vindex for BinaryMd5 {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "binary_md5"
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
        Some(md5(&value.to_bytes()))
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
        let v = vindex("binary_md5");
        assert_eq!(
            map_hex(v.as_ref(), Value::from("test1")),
            "5a105e8b9d40e1329780d62ea2265d8a"
        );
        assert_eq!(
            map_hex(v.as_ref(), Value::from("TEST")),
            "033bd94b1168d7e4f0d644c3c95e35bf"
        );
        assert_eq!(
            map_hex(v.as_ref(), Value::Null),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!((v.cost(), v.is_unique()), (1, true));
    }
}
