//! `null`: every value maps to keyspace id `00`. Cost 100.

use std::sync::Arc;

use super::{map_each, unknown_params, Destination, Params, Vindex, VindexError};
use crate::value::Value;

/// The `null` vindex.
#[derive(Debug)]
pub struct Null {
    name: String,
    unknown: Vec<String>,
}

/// Creates a `null` vindex.
pub fn new(name: &str, params: &Params) -> Result<Arc<dyn Vindex>, VindexError> {
    Ok(Arc::new(Null {
        name: name.to_string(),
        unknown: unknown_params(params, &[]),
    }))
}

impl Vindex for Null {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_name(&self) -> &'static str {
        "null"
    }
    fn cost(&self) -> u32 {
        100
    }
    fn is_unique(&self) -> bool {
        true
    }
    fn unknown_params(&self) -> &[String] {
        &self.unknown
    }
    fn map(&self, values: &[Value]) -> Result<Vec<Destination>, VindexError> {
        Ok(map_each(values, |_| Some(vec![0])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vindexes::test_util::{map_hex, vindex};

    #[test]
    fn maps_everything_to_zero() {
        let v = vindex("null");
        for value in [Value::Int(1), Value::Null, Value::from("x")] {
            assert_eq!(map_hex(v.as_ref(), value), "00");
        }
        assert_eq!((v.cost(), v.is_unique()), (100, true));
    }
}
