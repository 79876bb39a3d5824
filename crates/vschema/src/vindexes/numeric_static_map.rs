//! `numeric_static_map`: a JSON table `{"<id>": <keyspace id number>}`
//! (inline `json` or file `json_path`) maps ids to numbers written as
//! big-endian `u64`; ids not in the table use the `fallback_type` vindex
//! when given, else the id itself (as `numeric` does).

use std::collections::HashMap;
use std::sync::Arc;

use super::{create_vindex, unknown_params, Destination, Params, Vindex, VindexError};
use crate::key_range::KeyspaceId;
use crate::value::Value;

/// The `numeric_static_map` vindex.
#[derive(Debug)]
pub struct NumericStaticMap {
    name: String,
    table: HashMap<u64, u64>,
    fallback: Option<Arc<dyn Vindex>>,
    unknown: Vec<String>,
}

fn bad(message: impl Into<String>) -> VindexError {
    VindexError::BadParam(message.into())
}

/// Parses the `{"id": number}` table.
fn parse_table(text: &str) -> Result<HashMap<u64, u64>, VindexError> {
    let raw: HashMap<String, u64> = serde_json::from_str(text)
        .map_err(|e| bad(format!("NumericStaticMap: invalid JSON table: {e}")))?;
    raw.into_iter()
        .map(|(k, v)| {
            k.parse::<u64>()
                .map(|k| (k, v))
                .map_err(|e| bad(format!("NumericStaticMap: invalid key {k:?}: {e}")))
        })
        .collect()
}

/// Creates a `numeric_static_map` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    let text =
        match (params.get("json"), params.get("json_path")) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "NumericStaticMap: Found both `json` and `json_path` params in vschema",
                ))
            }
            (None, None) => return Err(bad(
                "NumericStaticMap: Could not find either `json_path` or `json` params in vschema",
            )),
            (Some(json), None) => json.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| bad(format!("NumericStaticMap: cannot read {path}: {e}")))?,
        };
    let fallback = match params.get("fallback_type") {
        Some(t) if !t.is_empty() => Some(create_vindex(
            t,
            &format!("{name}_fallback"),
            &Params::new(),
        )?),
        _ => None,
    };
    Ok(Arc::new(NumericStaticMap {
        name: name.to_string(),
        table: parse_table(&text)?,
        fallback,
        unknown: unknown_params(params, &["json", "json_path", "fallback_type"]),
    }))
}

impl Vindex for NumericStaticMap {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "numeric_static_map"
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
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        let mut out = Vec::with_capacity(values.len());
        for value in values {
            let Some(n) = value.to_cast_u64() else {
                out.push(Destination::None);
                continue;
            };
            let mapped = match (self.table.get(&n), &self.fallback) {
                (Some(m), _) => *m,
                (None, Some(fallback)) => {
                    out.extend(fallback.map(std::slice::from_ref(value))?);
                    continue;
                }
                (None, None) => n,
            };
            out.push(Destination::KeyspaceId(KeyspaceId(
                mapped.to_be_bytes().to_vec(),
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindexes::test_util::map_hex;

    fn with(pairs: &[(&str, &str)]) -> Result<Arc<dyn Vindex>, VindexError> {
        let params: Params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        new("m", &params)
    }

    #[test]
    fn maps_through_table() {
        let v = with(&[("json", r#"{"1": 2, "3": 4}"#)]).unwrap();
        assert_eq!(map_hex(v.as_ref(), Value::Int(1)), "0000000000000002");
        assert_eq!(map_hex(v.as_ref(), Value::Int(3)), "0000000000000004");
        assert_eq!(map_hex(v.as_ref(), Value::Int(5)), "0000000000000005");
        assert_eq!(map_hex(v.as_ref(), Value::Null), "none");
    }

    #[test]
    fn fallback_and_file() {
        let dir = std::env::temp_dir().join(format!("nsm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("map.json");
        std::fs::write(&path, r#"{"1": 2}"#).unwrap();
        let v = with(&[
            ("json_path", path.to_str().unwrap()),
            ("fallback_type", "hash"),
        ])
        .unwrap();
        assert_eq!(map_hex(v.as_ref(), Value::Int(1)), "0000000000000002");
        assert_eq!(map_hex(v.as_ref(), Value::Int(4)), "d2fd8867d50d2dfe");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn param_errors() {
        assert!(with(&[])
            .unwrap_err()
            .to_string()
            .contains("Could not find"));
        assert!(with(&[("json", "{}"), ("json_path", "x")])
            .unwrap_err()
            .to_string()
            .contains("both"));
        assert!(with(&[("json", r#"{"a": 1}"#)]).is_err());
        assert!(with(&[("json", "{}"), ("fallback_type", "nope")]).is_err());
    }
}
