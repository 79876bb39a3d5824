//! `unicode_loose_md5` and `unicode_loose_xxhash`: the value must be valid
//! UTF-8; trailing spaces are dropped; the primary-weight collation key
//! ([`super::collation`]) is hashed with MD5 (16 bytes) or XXH64 (8 bytes,
//! little-endian). Case-, accent- and width-insensitive.

use std::sync::Arc;

use super::binary_md5::md5;
use super::collation::primary_key;
use super::xxhash::xxhash64_le;
use super::{unknown_params, Destination, Params, Vindex, VindexError};
use crate::key_range::KeyspaceId;
use crate::value::Value;

/// Which hash the vindex applies to the collation key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LooseHash {
    Md5,
    XxHash,
}

/// A `unicode_loose_md5` or `unicode_loose_xxhash` vindex.
#[derive(Debug)]
pub struct UnicodeLoose {
    name: String,
    hash: LooseHash,
    unknown: Vec<String>,
}

/// Creates a `unicode_loose_md5` vindex.
pub fn new_md5(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(UnicodeLoose {
        name: name.to_string(),
        hash: LooseHash::Md5,
        unknown: unknown_params(params, &[]),
    }))
}

/// Creates a `unicode_loose_xxhash` vindex.
pub fn new_xxhash(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(UnicodeLoose {
        name: name.to_string(),
        hash: LooseHash::XxHash,
        unknown: unknown_params(params, &[]),
    }))
}

/// Quotes bytes as Go's `%q` does for a string (invalid UTF-8 as `\xNN`).
fn go_quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

/// The collation key of the value's bytes (Vitess `normalize`).
pub fn loose_key(raw: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(raw).map_err(|_| {
        format!(
            "cannot normalize string containing invalid UTF-8: {}",
            go_quote(raw)
        )
    })?;
    Ok(primary_key(text.trim_end_matches(' ')))
}

impl UnicodeLoose {
    fn hash_key(&self, key: &[u8]) -> Vec<u8> {
        match self.hash {
            LooseHash::Md5 => md5(key),
            LooseHash::XxHash => xxhash64_le(key).to_vec(),
        }
    }
}

impl Vindex for UnicodeLoose {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        match self.hash {
            LooseHash::Md5 => "unicode_loose_md5",
            LooseHash::XxHash => "unicode_loose_xxhash",
        }
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
        loose_key(&value.to_bytes())
            .ok()
            .map(|key| self.hash_key(&key))
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        let label = match self.hash {
            LooseHash::Md5 => "UnicodeLooseMD5",
            LooseHash::XxHash => "UnicodeLooseXXHash",
        };
        values
            .iter()
            .map(|v| {
                let key = loose_key(&v.to_bytes()).map_err(|message| VindexError::Map {
                    vindex: label,
                    message,
                })?;
                Ok(Destination::KeyspaceId(KeyspaceId(self.hash_key(&key))))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindexes::test_util::{map_hex, vindex};

    #[test]
    fn md5_vectors() {
        let v = vindex("unicode_loose_md5");
        for s in ["Test", "TEST", "Tést", "Te\u{301}st", "Test "] {
            assert_eq!(
                map_hex(v.as_ref(), Value::from(s)),
                "0b5edbb401fd7524393690491d64f1f5",
                "{s:?}"
            );
        }
        assert_eq!(
            map_hex(v.as_ref(), Value::from("Bést")),
            "c2b2332e4f73d00741026249706f2fb6"
        );
        assert_eq!(
            map_hex(v.as_ref(), Value::from(" Test")),
            "a2e3515c7e8df1ffd2ccfc11c6b19dd1"
        );
        assert_eq!(
            map_hex(v.as_ref(), Value::from("T")),
            "ac0f9179f51db87fe8ecc0cf40cab97a"
        );
        assert_eq!(
            map_hex(v.as_ref(), Value::Null),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!((v.cost(), v.is_unique()), (1, true));
    }

    #[test]
    fn xxhash_vectors() {
        let v = vindex("unicode_loose_xxhash");
        assert_eq!(map_hex(v.as_ref(), Value::from("Test")), "42d21361087a4c07");
        assert_eq!(
            map_hex(v.as_ref(), Value::from("tÉST  ")),
            "42d21361087a4c07"
        );
    }

    #[test]
    fn invalid_utf8() {
        let v = vindex("unicode_loose_md5");
        let err = v.map(&[Value::Bytes(vec![b'a', 0xff, b'"'])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"UnicodeLooseMD5.Map: cannot normalize string containing invalid UTF-8: "a\xff\"""#
        );
    }
}
