//! The planner: from a parsed statement and the VSchema to a [`Plan`]
//! (Vitess `go/vt/vtgate/planbuilder`).
//!
//! Statements whose tables all live in one unsharded keyspace, or that
//! provably reach a single shard, are sent whole. A SELECT on one sharded
//! table is routed by its vindex predicates and its ORDER BY and LIMIT are
//! completed in vtgate over the merged shard results. Everything else is
//! refused with `VT12001: unsupported: ...`, never answered wrongly.
//!
//! vtgate keeps a plan cache in front of [`plan`].

mod aggregate_tail;
mod aggregation;
mod checks;
mod colocated_derived;
mod colocated_dml;
mod correlated;
mod correlated_value;
mod cte;
mod derived;
mod derived_merge;
mod derived_routing;
mod dml;
mod dml_with_input;
mod from_items;
mod group_derived;
mod hash;
mod having;
mod insert_select;
mod join;
mod join_aggregate;
mod join_order;
mod join_projection;
mod join_steps;
mod left_join_where;
mod multi_column;
mod nested_join;
mod null_row;
mod one_shard;
mod order;
mod owned;
mod pullout;
mod recursive_cte;
mod recursive_iterated;
mod reference_dml;
mod reference_join;
mod routing;
mod same_shard;
mod select;
mod semi_join;
mod set_pullout;
mod shadowed;
mod shard_local;
mod tables;
mod targets;

use tables::Scope;
mod union;
mod using;
mod vindex_func;
mod window;

use proto::topodata::TabletType;
use sqlparser::ast::Statement;
use vschema::VSchema;

pub use hash::PlanOptions;
pub(crate) use order::UPPER_LIMIT_VAR;

use crate::error::{EngineError, Result};
use crate::primitive::Plan;

/// Plans one statement for primary tablets. `default_keyspace` is the
/// session's target keyspace, used for unqualified table names (global
/// lookup when `None`).
pub fn plan(stmt: &Statement, vschema: &VSchema, default_keyspace: Option<&str>) -> Result<Plan> {
    plan_for(stmt, vschema, default_keyspace, TabletType::Primary)
}

/// Plans one statement for `tablet_type`: table names resolve through the
/// routing rules for that type (`t@replica` before `t`).
pub fn plan_for(
    stmt: &Statement,
    vschema: &VSchema,
    default_keyspace: Option<&str>,
    tablet_type: TabletType,
) -> Result<Plan> {
    plan_with(
        stmt,
        vschema,
        default_keyspace,
        tablet_type,
        PlanOptions::default(),
    )
}

/// Plans one statement for `tablet_type` with the options of its
/// directives ([`PlanOptions::from_sql`] on the statement's text).
pub fn plan_with(
    stmt: &Statement,
    vschema: &VSchema,
    default_keyspace: Option<&str>,
    tablet_type: TabletType,
    options: PlanOptions,
) -> Result<Plan> {
    targets::check_target_qualifiers(stmt, vschema)?;
    let (stmt, destination) = match targets::dml_destination(stmt, vschema) {
        Some((bare, shards)) => (std::borrow::Cow::Owned(bare), Some(shards)),
        None => (std::borrow::Cow::Borrowed(stmt), None),
    };
    let stmt = stmt.as_ref();
    let ctx = Context {
        vschema,
        default_keyspace,
        tablet_type,
        options,
        destination,
    };
    match stmt {
        Statement::Query(_) => select::plan_select(&ctx, stmt),
        Statement::Insert(i) => dml::plan_insert(&ctx, stmt, i),
        Statement::Update(u) => dml::plan_update(&ctx, stmt, u),
        Statement::Delete(d) => dml::plan_delete(&ctx, stmt, d),
        other => Err(EngineError::unsupported(format!(
            "statement type {}",
            other
                .to_string()
                .split_whitespace()
                .next()
                .unwrap_or_default()
        ))),
    }
}

/// What every planning step needs.
pub(crate) struct Context<'a> {
    /// The VSchema.
    pub vschema: &'a VSchema,
    /// The session's keyspace.
    pub default_keyspace: Option<&'a str>,
    /// The tablet type the statement runs on (selects the routing rules).
    pub tablet_type: TabletType,
    /// The statement's directives.
    pub options: PlanOptions,
    /// The shards an UPDATE or DELETE's target qualifier names (`` `ks[-80]`.t ``).
    pub destination: Option<crate::route::TargetShards>,
}

impl<'a> Context<'a> {
    /// How this statement's table names resolve.
    pub fn scope(&self) -> Scope<'a> {
        Scope {
            vschema: self.vschema,
            default_keyspace: self.default_keyspace,
            tablet_type: self.tablet_type,
        }
    }
}

/// Plans `sql` against the SrvVSchema JSON `vschema_json`, which must load without keyspace
/// errors: the planner's unit tests with a VSchema of their own.
#[cfg(test)]
fn plan_with_vschema(vschema_json: &str, sql: &str) -> Result<Plan> {
    plan_with_keys(vschema_json, &[], sql)
}

/// [`plan_with_vschema`] with primary keys, as schema tracking gives them:
/// `(keyspace, table, columns)`.
#[cfg(test)]
fn plan_with_keys(vschema_json: &str, keys: &[(&str, &str, &[&str])], sql: &str) -> Result<Plan> {
    let mut srv = vschema::model::SrvVSchema::from_json(vschema_json).unwrap();
    for (ks, table, columns) in keys {
        let t = srv
            .keyspaces
            .get_mut(*ks)
            .unwrap()
            .tables
            .get_mut(*table)
            .unwrap();
        t.primary_key = columns.iter().map(|c| c.to_string()).collect();
    }
    let vschema = VSchema::build(&srv);
    let errors: Vec<String> = vschema
        .keyspace_errors()
        .map(|e| format!("{e:?}"))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let stmt = sql::parse::parse(sql).unwrap();
    plan(&stmt, &vschema, None)
}

/// [`plan_with_vschema`]'s plan as its JSON description (the form Vitess's plan tests use).
#[cfg(test)]
fn plan_json_with_vschema(vschema_json: &str, sql: &str) -> Result<serde_json::Value> {
    Ok(plan_with_vschema(vschema_json, sql)?
        .description()
        .to_json())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod routing_rules_tests;

#[cfg(test)]
mod hash_tests;

#[cfg(test)]
mod vindex_func_tests;

#[cfg(test)]
mod shape_tests;

#[cfg(test)]
mod aggregate_tests;

#[cfg(test)]
mod correlated_tests;

#[cfg(test)]
mod join_merge_tests;

#[cfg(test)]
mod one_shard_tests;
#[cfg(test)]
mod pushed_join_tests;

#[cfg(test)]
mod multi_column_tests;

#[cfg(test)]
mod join_order_tests;

#[cfg(test)]
mod left_join_where_tests;

#[cfg(test)]
mod colocated_dml_tests;

#[cfg(test)]
mod dml_with_input_tests;
