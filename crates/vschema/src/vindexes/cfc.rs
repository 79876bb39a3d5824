//! `cfc` (concatenated fixed-width composite): the keyspace id is the value
//! itself, or, with `hash` (`md5` / `xxhash64`) and `offsets` (component
//! boundaries, e.g. `[2,4]`), the concatenation of each component's hash cut
//! to the component's length. In a `LIKE 'prefix%'` its prefix vindex
//! ([`Vindex::prefix_vindex`]) maps the literal prefix to a key range.

use std::sync::Arc;

use super::binary_md5::md5;
use super::xxhash::xxhash64_le;
use super::{unknown_params, Destination, Params, Vindex, VindexError};
use crate::key_range::{KeyRange, KeyspaceId};
use crate::value::Value;

/// The component hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CfcHash {
    Md5,
    XxHash64,
}

impl CfcHash {
    /// Hash of one component, cut to the component's length.
    fn apply(self, component: &[u8]) -> Vec<u8> {
        let mut out = match self {
            CfcHash::Md5 => md5(component),
            CfcHash::XxHash64 => xxhash64_le(component).to_vec(),
        };
        out.truncate(component.len());
        out
    }
}

/// What the regular and the prefix form share.
#[derive(Debug)]
struct CfcCommon {
    name: String,
    hash: Option<(CfcHash, Vec<usize>)>,
}

impl CfcCommon {
    /// Vitess `computeKsid`: a full key must reach the last offset; a
    /// prefix uses only the components it fully contains.
    fn keyspace_id(&self, v: &[u8], prefix: bool) -> Result<Vec<u8>, VindexError> {
        let Some((hash, offsets)) = &self.hash else {
            return Ok(v.to_vec());
        };
        let last = offsets.last().copied().unwrap_or(0);
        if !prefix && v.len() < last {
            return Err(VindexError::Invalid(format!(
                "insufficient size for cfc vindex {}. need {last}, got {}",
                self.name,
                v.len()
            )));
        }
        let mut out = Vec::new();
        let mut prev = 0;
        for &offset in offsets {
            if v.len() < offset {
                return Ok(out);
            }
            out.extend(hash.apply(&v[prev..offset]));
            prev = offset;
        }
        if prev < v.len() {
            out.extend(hash.apply(&v[prev..]));
        }
        Ok(out)
    }
}

/// The `LIKE` form of a `cfc` vindex: non-unique, maps to key ranges.
#[derive(Debug)]
pub struct PrefixCfc {
    common: Arc<CfcCommon>,
}

/// The `cfc` vindex.
#[derive(Debug)]
pub struct Cfc {
    common: Arc<CfcCommon>,
    prefix: PrefixCfc,
    unknown: Vec<String>,
}

fn invalid_offsets(text: &str, name: &str) -> VindexError {
    VindexError::BadParam(format!(
        "invalid offsets {text} to CFC vindex {name}. expected sorted positive ints in brackets"
    ))
}

/// Creates a `cfc` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    let hash = match params.get("hash").map(String::as_str).unwrap_or("") {
        "" => None,
        "md5" => Some(CfcHash::Md5),
        "xxhash64" => Some(CfcHash::XxHash64),
        other => {
            return Err(VindexError::BadParam(format!(
                "invalid hash {other} to CFC vindex {name}"
            )))
        }
    };
    let hash = match hash {
        None => None,
        Some(h) => {
            let text = params.get("offsets").map(String::as_str).unwrap_or("");
            if text.is_empty() {
                return Err(VindexError::BadParam(
                    "CFC vindex requires offsets when hash is defined".into(),
                ));
            }
            let offsets: Vec<i64> =
                serde_json::from_str(text).map_err(|_| invalid_offsets(text, name))?;
            let valid =
                offsets.first().is_some_and(|&o| o > 0) && offsets.windows(2).all(|w| w[1] > w[0]);
            if !valid {
                return Err(invalid_offsets(text, name));
            }
            Some((h, offsets.into_iter().map(|o| o as usize).collect()))
        }
    };
    let common = Arc::new(CfcCommon {
        name: name.to_string(),
        hash,
    });
    Ok(Arc::new(Cfc {
        prefix: PrefixCfc {
            common: common.clone(),
        },
        common,
        unknown: unknown_params(params, &["hash", "offsets"]),
    }))
}

/// The literal prefix of a `LIKE` pattern: up to the first unescaped `%` or
/// `_`, with MySQL backslash escapes decoded (Vitess `findPrefix`).
pub fn like_prefix(pattern: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'%' | b'_' => break,
            b'\\' => {
                let Some(&next) = pattern.get(i + 1) else {
                    out.push(b'\\');
                    break;
                };
                out.push(match next {
                    b'0' => 0,
                    b'b' => 8,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'Z' => 26,
                    other => other,
                });
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

impl Vindex for Cfc {
    fn name(&self) -> &str {
        &self.common.name
    }
    fn type_name(&self) -> &'static str {
        "cfc"
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
    fn prefix_vindex(&self) -> Option<&dyn Vindex> {
        Some(&self.prefix)
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        values
            .iter()
            .map(|v| {
                let ksid = self.common.keyspace_id(&v.to_bytes(), false)?;
                Ok(Destination::KeyspaceId(KeyspaceId(ksid)))
            })
            .collect()
    }
}

impl Vindex for PrefixCfc {
    fn name(&self) -> &str {
        &self.common.name
    }
    fn type_name(&self) -> &'static str {
        "cfc"
    }
    fn cost(&self) -> u32 {
        match &self.common.hash {
            Some((_, offsets)) if !offsets.is_empty() => offsets.len() as u32,
            _ => 2,
        }
    }
    fn is_unique(&self) -> bool {
        false
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        values
            .iter()
            .map(|v| {
                let prefix = like_prefix(&v.to_bytes());
                let begin = self.common.keyspace_id(&prefix, true)?;
                Ok(Destination::KeyRange(KeyRange::from_prefix(&begin)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfc(pairs: &[(&str, &str)]) -> Result<Arc<dyn Vindex>, VindexError> {
        let params: Params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        new("cfc", &params)
    }

    fn md5_parts(parts: &[&[u8]]) -> Vec<u8> {
        parts.iter().flat_map(|p| CfcHash::Md5.apply(p)).collect()
    }

    #[test]
    fn creation() {
        assert!(cfc(&[]).is_ok());
        assert!(cfc(&[("offsets", "[1,2]")]).is_ok());
        let err = |p: &[(&str, &str)]| cfc(p).unwrap_err().to_string();
        assert_eq!(
            err(&[("hash", "md5")]),
            "CFC vindex requires offsets when hash is defined"
        );
        for bad in ["10,12", "xxx", "[]", "[10,3]", "[-1,3]", "[4,4,6]"] {
            assert_eq!(
                err(&[("hash", "md5"), ("offsets", bad)]),
                format!("invalid offsets {bad} to CFC vindex cfc. expected sorted positive ints in brackets")
            );
        }
        let v = cfc(&[("hash", "md5"), ("offsets", "[3, 7]"), ("hello", "world")]).unwrap();
        assert_eq!(v.unknown_params(), ["hello".to_string()]);
        assert_eq!((v.cost(), v.is_unique()), (1, true));
    }

    #[test]
    fn keyspace_ids() {
        let v = cfc(&[("hash", "md5"), ("offsets", "[3,5]")]).unwrap();
        let err = v.map(&[Value::from("abc")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "insufficient size for cfc vindex cfc. need 5, got 3"
        );
        let got = v.map(&[Value::Bytes(vec![12, 234, 2, 7, 1, 6])]).unwrap();
        let want = md5_parts(&[&[12, 234, 2], &[7, 1], &[6]]);
        assert_eq!(got, vec![Destination::KeyspaceId(KeyspaceId(want))]);
        let plain = cfc(&[]).unwrap();
        let id = vec![3, 6, 20, 7, 60, 1];
        assert_eq!(
            plain.map(&[Value::Bytes(id.clone())]).unwrap(),
            vec![Destination::KeyspaceId(KeyspaceId(id))]
        );
        // The hash is cut to the component's length, at most the digest's.
        assert_eq!(CfcHash::XxHash64.apply(b"abcdefghijkl").len(), 8);
        assert_eq!(CfcHash::Md5.apply(b"abcdefghijkl").len(), 12);
    }

    #[test]
    fn prefix_maps() {
        let v = cfc(&[("hash", "md5"), ("offsets", "[3,5]")]).unwrap();
        let p = v.prefix_vindex().unwrap();
        assert_eq!((p.is_unique(), p.cost()), (false, 2));
        let range = |k: Vec<u8>| Destination::KeyRange(KeyRange::from_prefix(&k));
        assert_eq!(
            p.map(&[Value::from("abcdef")]).unwrap(),
            vec![range(md5_parts(&[b"abc", b"de", b"f"]))]
        );
        assert_eq!(
            p.map(&[Value::from("abcd")]).unwrap(),
            vec![range(md5_parts(&[b"abc"]))]
        );
        assert_eq!(
            p.map(&[Value::from("ab")]).unwrap(),
            vec![Destination::KeyRange(KeyRange::full())]
        );
        let plain = cfc(&[]).unwrap();
        let p = plain.prefix_vindex().unwrap();
        let got = p
            .map(&[
                Value::Bytes(vec![3, 123, 255, b'%']),
                Value::Bytes(vec![255, 255, 255, b'%']),
            ])
            .unwrap();
        assert_eq!(
            got,
            vec![
                Destination::KeyRange(KeyRange::new(vec![3, 123, 255], vec![3, 124, 0])),
                Destination::KeyRange(KeyRange::new(vec![255, 255, 255], vec![])),
            ]
        );
        let three = cfc(&[("offsets", "[1,2,3]"), ("hash", "xxhash64")]).unwrap();
        assert_eq!(three.prefix_vindex().unwrap().cost(), 3);
    }

    #[test]
    fn like_prefixes() {
        let cases: &[(&str, &[u8])] = &[
            ("ab%", b"ab"),
            ("abc", b"abc"),
            ("a%%", b"a"),
            ("%ab", b""),
            (r"\%a%", b"%a"),
            (r"\%%", b"%"),
            (r"\%", b"%"),
            (r"\\%a", br"\"),
            (r"a\\%a", br"a\"),
            (r"\\\%", br"\%"),
            (r"\\\%a%", br"\%a"),
            (r"\_\\\%a_", br"_\%a"),
            ("_%a%", b""),
            (r"\i\j\k", b"ijk"),
            (r#"\0\'\"\b\n\r\t\Z\\"#, b"\x00'\"\x08\n\r\t\x1a\\"),
            (r#"\\0\\'\\"\\b\\n\\r\\t\\Z"#, br#"\0\'\"\b\n\r\t\Z"#),
            (r"\", br"\"),
        ];
        for (pattern, want) in cases {
            assert_eq!(like_prefix(pattern.as_bytes()), *want, "{pattern}");
        }
    }
}
