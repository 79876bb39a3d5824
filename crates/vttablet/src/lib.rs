//! vttablet: serves one MariaDB as a Vitess tablet.
//!
//! * [`query_service`]: `queryservice.Query` (Execute, StreamExecute, Begin,
//!   Commit, Rollback, BeginExecute with its pre-queries, StreamHealth) with Vitess's target
//!   checks, bind variables ([`bind`]), rules ([`rules`]) and result
//!   conversion ([`result`]); `select next N values from seq` is answered from the
//!   primary's cached blocks of sequence values ([`sequence`]).
//! * [`tablet_manager`]: `tabletmanagerservice.TabletManager` (type changes,
//!   DBA statements, schema changes, GTID replication set-up); [`reparent`]: demoting a
//!   primary (it stops serving, waits for the requests under way — [`inflight`] counts
//!   them — and goes read-only), undoing that, promoting a replica; [`follow_primary`]: a
//!   replica that starts after its shard's primary was elected replicates from it.
//! * [`tablet`]: the tablet's MariaDB pools (queries: [`conn_pool`]), transactions ([`tx`]), state
//!   ([`state`]) and topology records; [`server`] starts it all from
//!   [`config::Flags`], serving gRPC through [`grpc`]; a caller's `grpc-timeout` bounds the
//!   statements of its call ([`deadline`]).
//! * [`vr_engine`]: the VReplication streams a primary runs from its
//!   `_vt.vreplication` rows (`VReplicationExec`, `VReplicationWaitForPos`),
//!   and [`vdiff`], which compares a workflow's tables with their source.

pub mod bind;
pub mod columns;
pub mod config;
pub mod conn_pool;
pub mod deadline;
pub mod error;
pub mod follow_primary;
pub mod grpc;
pub mod inflight;
pub mod query_service;
pub mod reparent;
pub mod result;
pub mod rules;
pub mod sequence;
pub mod server;
pub mod state;
pub mod tablet;
pub mod tablet_manager;
pub mod tx;
pub mod vdiff;
pub mod vr_engine;

pub use config::{Flags, TabletConfig};
pub use error::{Result, TabletError};
pub use server::{start, RunningTablet};
pub use tablet::Tablet;
