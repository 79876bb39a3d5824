//! vtgate's planner and execution engine for sharded keyspaces.
//!
//! * [`planner::plan`] turns a parsed statement and the [`vschema::VSchema`]
//!   into a [`Plan`]: a tree of [`Primitive`]s.
//! * Primitives, one file each as in Vitess's `go/vt/vtgate/engine`:
//!   [`route::Route`] (send a query to the shards its vindex predicate or
//!   opcode picks, merge-sorting sorted shard results),
//!   [`insert::Insert`] (rows split by primary vindex), [`limit::Limit`],
//!   [`aggregate::Aggregate`] (merge partial aggregates, grouped or scalar),
//!   [`filter::Filter`] (HAVING), [`projection::Projection`] (arithmetic
//!   over aggregates), [`memory_sort::MemorySort`],
//!   [`distinct::Distinct`], [`join::Join`] (nested loop with bind
//!   variables), [`hash_join::HashJoin`] (both sides once, right side
//!   hashed by its join column), [`concatenate::Concatenate`] (UNION ALL)
//!   and [`vindex_func::VindexFunc`] (a vindex read as a table).
//! * [`VCursor`] is what vtgate provides to run a plan: serving shards,
//!   executing fully bound queries on shards, and `--max-memory-rows`.
//! * [`PlanDescription`] is the `VEXPLAIN PLAN` JSON.
//!
//! Whatever the engine cannot run exactly as one MySQL would is refused
//! with Vitess's `VT12001: unsupported: ...` error rather than answered
//! wrongly. Plans hold no per-session state, so vtgate's plan cache shares
//! them between sessions (keyed by statement text, keyspace and tablet type).

pub mod aggregate;
pub mod bind;
pub mod cell;
pub mod concatenate;
pub mod correlated_value;
pub mod decimal;
pub mod description;
pub mod distinct;
pub mod dml_with_input;
pub mod error;
pub mod filter;
pub mod hash_join;
pub mod insert;
pub mod insert_select;
pub mod join;
pub mod limit;
pub mod lookup;
pub mod memory_sort;
pub mod merge_sort;
pub mod owned_dml;
pub mod planner;
pub mod primitive;
pub mod projection;
pub mod recurse_cte;
pub mod route;
pub mod semi_join;
pub mod stream;
pub mod subquery;
pub mod vcursor;
pub mod vindex_func;
pub mod window;

#[cfg(test)]
pub(crate) mod testing;

pub use description::{KeyspaceDesc, PlanDescription};
pub use error::{EngineError, Result};
pub use primitive::{Plan, Primitive};
pub use stream::RowStream;
pub use vcursor::{CommitOrder, ShardQuery, VCursor};
