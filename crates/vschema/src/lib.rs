//! VSchema model, vindexes and key ranges for vtgate-rs.
//!
//! * [`model`]: the keyspace VSchema JSON exactly as Vitess accepts it
//!   (protojson of `vschema.Keyspace` / `vschema.SrvVSchema`), and its
//!   binary protobuf form for the topology.
//! * [`key_range`]: keyspace ids, key ranges and shard names.
//! * [`vindexes`]: the [`Vindex`] trait, the built-in vindex types and the
//!   [`Registry`] that creates them by type name.
//! * [`value`]: the SQL [`Value`] a vindex maps.
//! * [`build`]: the resolved [`VSchema`] (tables, vindex instances, routing
//!   rules) and table-name resolution ([`VSchema::find_table`]).

pub mod build;
pub mod hex;
pub mod key_range;
pub mod model;
pub mod value;
pub mod vindexes;

pub use build::{
    validate_keyspace, BuildError, ColumnKind, FindTableError, KeyspaceSchema, Table, TableRef,
    TableType, VSchema,
};
pub use key_range::{KeyRange, KeyRangeError, KeyspaceId};
pub use value::Value;
pub use vindexes::{create_vindex, Destination, Registry, Vindex, VindexError};
