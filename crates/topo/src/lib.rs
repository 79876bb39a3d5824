//! Topology service, laid out as Vitess lays it out in etcd so that records
//! are interchangeable with Vitess's.
//!
//! * [`Conn`]: one cell's tree of versioned nodes; [`EtcdConn`] and
//!   [`MemoryConn`] implement it.
//! * [`TopoServer`]: typed records (keyspaces, shards, tablets, VSchema,
//!   serving graph) over the global cell and the per-cell connections.
//! * [`cache::SrvCache`]: the watched, always-available view vtgate serves from.
//! * [`keyrange`]: shard names and key ranges.
//! * `testutil` (feature): [`testutil::EtcdProcess`], a real etcd for tests.

pub mod cache;
#[cfg(test)]
mod cache_tests;
mod conn;
mod error;
mod etcd;
pub mod keyrange;
mod memory;
pub mod migrate;
pub mod paths;
mod rebuild;
#[cfg(test)]
mod rebuild_tests;
mod server;
#[cfg(test)]
mod server_tests;
mod serving;
mod tablet;
#[cfg(feature = "testutil")]
pub mod testutil;

pub use conn::{Conn, NodeValue, Version, WatchStream};
pub use error::{Error, Result};
pub use etcd::{EtcdConn, DEFAULT_REQUEST_TIMEOUT};
pub use memory::MemoryConn;
pub use server::TopoServer;
pub use serving::TypedWatch;
