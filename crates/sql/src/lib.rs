//! SQL for vtgate: parse, classify, normalise and re-print statements; Vitess targets.
pub mod classify;
pub mod column_names;
pub mod database_ddl;
pub mod dialect;
pub mod error;
pub mod found_rows;
pub mod literal;
pub mod next_values;
pub mod parse;
pub mod show;
pub mod split;
pub mod target;
