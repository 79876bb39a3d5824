//! `hash`: DES (single DES, all-zero key, one block) of the value as a
//! big-endian `u64`. Older Vitess used 3DES with a zero key, which is the
//! same function. Reversible.

use std::sync::Arc;

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::Des;

use super::{map_each, unknown_params, Destination, Params, Vindex, VindexError};
use crate::hex;
use crate::value::Value;

/// The `hash` vindex.
#[derive(Debug)]
pub struct Hash {
    name: String,
    cipher: Des,
    unknown: Vec<String>,
}

/// Creates a `hash` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(Hash {
        name: name.to_string(),
        cipher: zero_key_des(),
        unknown: unknown_params(params, &[]),
    }))
}

pub(super) fn zero_key_des() -> Des {
    Des::new(GenericArray::from_slice(&[0u8; 8]))
}

/// DES-encrypts `n` (big-endian) with the zero key: Vitess `vhash`.
pub fn vhash(cipher: &Des, n: u64) -> [u8; 8] {
    let mut block = GenericArray::from(n.to_be_bytes());
    cipher.encrypt_block(&mut block);
    block.into()
}

/// Decrypts an 8-byte keyspace id back to the number: Vitess `vunhash`.
pub fn vunhash(cipher: &Des, ksid: &[u8]) -> Result<u64, VindexError> {
    let bytes: [u8; 8] = ksid
        .try_into()
        .map_err(|_| VindexError::InvalidKeyspaceId(hex::encode(ksid)))?;
    let mut block = GenericArray::from(bytes);
    cipher.decrypt_block(&mut block);
    Ok(u64::from_be_bytes(block.into()))
}

impl Vindex for Hash {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "hash"
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
        value.to_cast_u64().map(|n| vhash(&self.cipher, n).to_vec())
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Ok(map_each(values, |v| self.hash(v)))
    }
    fn reverse_map(&self, ksid: &[u8]) -> Option<Result<Value, VindexError>> {
        Some(vunhash(&self.cipher, ksid).map(Value::Uint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_range::shard_for_keyspace_id;
    use crate::vindexes::test_util::{map_hex, vindex};

    #[test]
    fn vitess_vectors() {
        let v = vindex("hash");
        let cases: &[(Value, &str, usize)] = &[
            (Value::Int(1), "166b40b44aba4bd6", 0),
            (Value::Int(2), "06e7ea22ce92708f", 0),
            (Value::Int(3), "4eb190c9a2fa169c", 0),
            (Value::Int(4), "d2fd8867d50d2dfe", 1),
            (Value::Int(5), "70bb023c810ca87a", 0),
            (Value::Int(6), "f098480ac4c4be71", 1),
            (Value::Int(0), "8ca64de9c1b123a7", 1),
            (Value::Int(-1), "355550b2150e2451", 0),
            (Value::Uint(u64::MAX), "355550b2150e2451", 0),
            (Value::Int(i64::MAX), "f77d48aadda1f1bb", 1),
            (Value::Int(i64::MIN), "95f8a5e5dd31d900", 1),
            (Value::from("4"), "d2fd8867d50d2dfe", 1),
        ];
        for (value, want, shard) in cases {
            assert_eq!(map_hex(v.as_ref(), value.clone()), *want, "{value:?}");
            let kid = hex::decode(want).unwrap();
            assert_eq!(
                shard_for_keyspace_id(&["-80", "80-"], &kid).unwrap(),
                *shard
            );
        }
        assert_eq!(map_hex(v.as_ref(), Value::Null), "none");
        assert_eq!(map_hex(v.as_ref(), Value::from("1.1")), "none");
        assert_eq!(map_hex(v.as_ref(), Value::from("abc")), "none");
        assert_eq!(
            (v.cost(), v.is_unique(), v.needs_vcursor()),
            (1, true, false)
        );
    }

    #[test]
    fn reverse_map() {
        let v = vindex("hash");
        let kid = hex::decode("166b40b44aba4bd6").unwrap();
        assert_eq!(v.reverse_map(&kid).unwrap().unwrap(), Value::Uint(1));
        let err = v.reverse_map(&[1, 2]).unwrap().unwrap_err();
        assert_eq!(err.to_string(), "invalid keyspace id: 0102");
    }
}
