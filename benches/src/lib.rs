//! Support code for vtgate-rs's benchmarks.
//!
//! * [`wire`]: a minimal MySQL client (handshake without password, COM_QUERY,
//!   COM_STMT_PREPARE/EXECUTE) over any async stream, so the criterion
//!   benches drive `mysql-server` through its public entry point
//!   ([`mysql_server::serve_connection`]) over an in-memory pipe.
//! * [`fixed`]: a [`mysql_server::Handler`] that answers every query and
//!   every prepared statement with the same result set (a sysbench-like
//!   `sbtest` shape), so a bench measures the protocol layer alone.
//! * The `relay` binary (`src/bin/relay.rs`) is the do-nothing byte relay
//!   that `sysbench.sh` uses as the floor for a proxy hop.

pub mod fixed;
pub mod wire;
