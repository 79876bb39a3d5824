//! Helpers for vindex unit tests.

use super::{create_vindex, Destination, Params, Vindex};
use crate::hex;
use crate::value::Value;
use std::sync::Arc;

/// Creates a vindex of `vindex_type` with no params.
pub fn vindex(vindex_type: &str) -> Arc<dyn Vindex> {
    create_vindex(vindex_type, "v", &Params::new()).unwrap()
}

/// Maps one value and returns the keyspace id as hex, or `"none"`.
pub fn map_hex(v: &dyn Vindex, value: Value) -> String {
    match v.map(&[value]).unwrap().pop().unwrap() {
        Destination::KeyspaceId(k) => hex::encode(&k.0),
        Destination::None => "none".to_string(),
        other => panic!("unexpected destination {other:?}"),
    }
}
