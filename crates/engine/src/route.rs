//! [`Route`]: sends one query to the shards its routing picks and combines
//! the results (Vitess `engine/route.go` and `routing.go`). With ORDER BY
//! parameters it merge-sorts the sorted shard results; with hidden columns
//! it drops the trailing columns the planner added for sorting. Routes on a
//! multi-column vindex map their values in [`multi_column`].

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use proto::query::{Field, QueryResult};
use proto::sqltypes::UNKNOWN_COLLATION;
use sql::literal::{BindValue, BindVars};
use vschema::{ColumnKind, Destination, Value, Vindex};

use crate::bind::{routing_value, substitute, PlanValue};
use crate::cell::is_text;
use crate::description::{KeyspaceDesc, PlanDescription};
use crate::error::{EngineError, Result};
use crate::lookup::Lookup;
use crate::merge_sort::{merge_sorted, OrderByParam};
use crate::primitive::Primitive;
use crate::stream::{self, RowStream};
use crate::vcursor::{ShardQuery, VCursor};

mod collations;
mod multi_column;
pub use multi_column::ColumnValues;

/// How a route picks its shards (Vitess `Opcode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// The one shard of an unsharded keyspace.
    Unsharded,
    /// One value through a unique vindex: one shard.
    EqualUnique,
    /// One value through a non-unique vindex.
    Equal,
    /// Several values through a vindex.
    In,
    /// Several values through a vindex, taken from one column of a tuple
    /// list (`(a, b) in ((1, 2), (3, 4))`); routed like `In`. On a
    /// multi-column vindex, the columns' values are paired by position.
    MultiEqual,
    /// A value for each of a prefix of a multi-column vindex's columns:
    /// the shards of a key range.
    SubShard,
    /// Every shard.
    Scatter,
    /// Any one shard (reference tables, `dual`).
    Reference,
    /// No shard: the query provably returns no rows.
    None,
    /// Shards named by the target.
    ByDestination,
}

impl Opcode {
    /// Vitess's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Opcode::Unsharded => "Unsharded",
            Opcode::EqualUnique => "EqualUnique",
            Opcode::Equal => "Equal",
            Opcode::In => "IN",
            Opcode::MultiEqual => "MultiEqual",
            Opcode::SubShard => "SubShard",
            Opcode::Scatter => "Scatter",
            Opcode::Reference => "Reference",
            Opcode::None => "None",
            Opcode::ByDestination => "ByDestination",
        }
    }
}

/// The vindex a route maps its values with.
#[derive(Debug, Clone)]
pub struct RouteVindex {
    /// Name in the VSchema.
    pub name: String,
    /// The instance.
    pub vindex: Arc<dyn Vindex>,
    /// One value (Equal, EqualUnique) or the list (IN); empty for a
    /// multi-column vindex.
    pub values: Vec<PlanValue>,
    /// What a value that maps to no keyspace id does.
    pub unmapped: Unmapped,
    /// For a multi-column vindex: the values of each of its leading columns.
    pub columns: Vec<ColumnValues>,
    /// How MySQL compares the vindex's column with a value (see
    /// [`crate::bind::routing_value`]).
    pub kind: ColumnKind,
}

/// What a route does with a value its vindex maps to no keyspace id at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmapped {
    /// NULL reaches no shard (only the fields are read); any other value reaches every
    /// shard, which is exact for one table because the shard query keeps its WHERE.
    #[default]
    Scatter,
    /// The statement must run on exactly one shard: a join merged on the shard of one
    /// vindex value, whose reference tables and aggregates answer once. NULL runs it on any
    /// one shard (no sharded row equals NULL, so the sharded tables contribute nothing on any
    /// shard). Any other value the vindex cannot map is refused: MySQL may still match it
    /// (`'5abc'` equals 5) on a shard the vindex cannot name, and every shard would repeat the
    /// reference rows.
    OneShard,
}

/// The shards a statement's target qualifier (`` `ks:-80`.t ``, `` `ks[-80]`.t ``) names.
#[derive(Debug, Clone)]
pub enum TargetShards {
    /// One shard by name.
    Shard(String),
    /// The shards a key range or keyspace id touches.
    Keyspace(Destination),
}

impl TargetShards {
    fn describe(&self) -> String {
        match self {
            TargetShards::Shard(s) => format!("Shard({s})"),
            TargetShards::Keyspace(d) => format!("{d:?}"),
        }
    }
}

/// Sends a query to shards.
#[derive(Debug, Clone)]
pub struct Route {
    /// Shard selection.
    pub opcode: Opcode,
    /// Target keyspace.
    pub keyspace: KeyspaceDesc,
    /// Query for the shards, possibly with `:name` placeholders.
    pub query: String,
    /// Query returning only the fields (`where 1 != 1`).
    pub field_query: String,
    /// For Equal, EqualUnique and IN.
    pub vindex: Option<RouteVindex>,
    /// For ByDestination: where the statement's target qualifier points.
    pub target: Option<TargetShards>,
    /// Merge-sort the shard results by these columns.
    pub order_by: Vec<OrderByParam>,
    /// Trailing columns to drop from the result (added for sorting).
    pub hidden_columns: usize,
    /// `order_by` columns count from the first hidden column (the query
    /// selects `*`, so the number of columns before them is unknown).
    pub sort_from_hidden: bool,
    /// How VEXPLAIN names it: `Route`, or `Update` / `Delete` / `Insert`
    /// for DML sent as it is.
    pub operator: &'static str,
    /// The collations `query` gives its select items (see [`collations`]), derived the
    /// first time a shard reports one unknown.
    collations: OnceLock<Vec<Option<u32>>>,
}

impl Route {
    /// A route with no vindex, ordering or hidden columns.
    pub fn new(opcode: Opcode, keyspace: KeyspaceDesc, query: String, field_query: String) -> Self {
        Route {
            opcode,
            keyspace,
            query,
            field_query,
            vindex: None,
            target: None,
            order_by: Vec::new(),
            hidden_columns: 0,
            sort_from_hidden: false,
            operator: "Route",
            collations: OnceLock::new(),
        }
    }

    /// Gives text fields the shards report with an unknown collation the one the route's
    /// statement tells, where it tells one.
    fn fill_collations(&self, vc: &dyn VCursor, results: &mut [QueryResult]) {
        if !results
            .iter()
            .any(|r| r.fields.iter().any(unknown_collation))
        {
            return;
        }
        let Some(told) = self.told_collations(vc) else {
            return;
        };
        for result in results {
            fill_fields(&mut result.fields, told);
        }
    }

    /// The collations the route's statement tells for its select items.
    fn told_collations(&self, vc: &dyn VCursor) -> Option<&Vec<Option<u32>>> {
        let vschema = vc.vschema().ok()?;
        Some(
            self.collations
                .get_or_init(|| collations::derive(&self.query, vschema, &self.keyspace.name)),
        )
    }

    /// Streams the route's result (see [`crate::stream`]): shard results as
    /// they arrive, merged in order when the route sorts.
    async fn stream_on(
        &self,
        vc: &dyn VCursor,
        vars: &BindVars,
        shards: Vec<String>,
    ) -> Result<RowStream> {
        let queries = ShardQuery::on_each(shards, &substitute(&self.query, vars)?);
        let shard_streams = vc.stream_multi(&self.keyspace.name, &queries).await?;
        let told = self.told_collations(vc).cloned().unwrap_or_default();
        let shard_streams = shard_streams
            .into_iter()
            .map(|s| {
                let told = told.clone();
                stream::map_fields(s, move |fields| fill_fields(fields, &told))
            })
            .collect::<Vec<_>>();
        if self.order_by.is_empty() || shard_streams.len() < 2 {
            return Ok(stream::concat(shard_streams, self.hidden_columns));
        }
        let route = self.clone();
        Ok(stream::merge(
            shard_streams,
            move |fields| route.sort_columns(fields),
            self.hidden_columns,
        ))
    }

    /// The sort columns as indexes into a result with `fields` columns.
    fn sort_columns(&self, fields: usize) -> Vec<OrderByParam> {
        let base = if self.sort_from_hidden {
            fields.saturating_sub(self.hidden_columns)
        } else {
            0
        };
        self.order_by
            .iter()
            .map(|p| OrderByParam {
                col: base + p.col,
                desc: p.desc,
            })
            .collect()
    }

    /// The shards this execution goes to.
    pub(crate) async fn pick_shards(
        &self,
        vc: &dyn VCursor,
        vars: &BindVars,
    ) -> Result<Vec<String>> {
        let all = || vc.shards(&self.keyspace.name);
        match self.opcode {
            Opcode::Unsharded | Opcode::Reference => {
                let shards = all()?;
                let first = shards
                    .into_iter()
                    .next()
                    .ok_or(EngineError::KeyRange(vschema::KeyRangeError::NoShards))?;
                Ok(vec![first])
            }
            Opcode::Scatter => all(),
            Opcode::None => Ok(Vec::new()),
            Opcode::ByDestination => match &self.target {
                Some(TargetShards::Shard(name)) => {
                    if all()?.iter().any(|s| s == name) {
                        Ok(vec![name.clone()])
                    } else {
                        Err(EngineError::mysql(
                            1105,
                            "HY000",
                            format!("VT05003: unknown shard {}/{name}", self.keyspace.name),
                        ))
                    }
                }
                Some(TargetShards::Keyspace(dest)) => {
                    let shards = all()?;
                    Ok(dest
                        .resolve(&shards)?
                        .into_iter()
                        .filter_map(|i| shards.get(i).cloned())
                        .collect())
                }
                None => Err(EngineError::BadResult(
                    "ByDestination without a target".into(),
                )),
            },
            Opcode::EqualUnique
            | Opcode::Equal
            | Opcode::In
            | Opcode::MultiEqual
            | Opcode::SubShard => {
                let v = self
                    .vindex
                    .as_ref()
                    .ok_or_else(|| EngineError::BadResult("route without vindex".into()))?;
                self.shards_by_vindex(vc, v, &all()?, vars).await
            }
        }
    }

    /// Shards of the route's vindex values. A lookup vindex maps them by
    /// reading its lookup table (a `write_only` one scatters). A non-NULL
    /// value the vindex cannot map falls back to every shard, which is
    /// always correct because the shard query keeps its WHERE clause; the
    /// planner only relies on a single shard when the mapping was proven at
    /// plan time.
    async fn shards_by_vindex(
        &self,
        vc: &dyn VCursor,
        rv: &RouteVindex,
        shards: &[String],
        vars: &BindVars,
    ) -> Result<Vec<String>> {
        if rv.unmapped == Unmapped::OneShard {
            return one_shard(rv, shards, vars).map(|s| vec![s]);
        }
        if !rv.columns.is_empty() {
            let Some(destinations) =
                multi_column::destinations(rv.vindex.as_ref(), self.opcode, &rv.columns, vars)?
            else {
                return Ok(shards.to_vec());
            };
            let mut picked = Vec::new();
            for dest in &destinations {
                picked.extend(dest.resolve(shards)?);
            }
            picked.sort_unstable();
            picked.dedup();
            return Ok(picked.into_iter().map(|i| shards[i].clone()).collect());
        }
        let mut bound: Vec<BindValue> = Vec::new();
        for pv in &rv.values {
            match pv.resolve(vars)? {
                BindValue::Tuple(items) => bound.extend(items),
                v => bound.push(v),
            }
        }
        let mut values: Vec<Value> = Vec::new();
        for item in &bound {
            match routing_value(item, rv.vindex.as_ref(), rv.kind) {
                Some(v) => values.push(v),
                None => return Ok(shards.to_vec()),
            }
        }
        let destinations = if rv.vindex.needs_vcursor() {
            match Lookup::of(&rv.name, rv.vindex.as_ref()) {
                Ok(Some(l)) if !l.params.write_only => {
                    let dml = self.operator != "Route";
                    l.map(vc, &bound, dml).await?
                }
                _ => {
                    tracing::debug!(vindex = %rv.name, "lookup vindex not mapped: scattering");
                    return Ok(shards.to_vec());
                }
            }
        } else {
            rv.vindex.map(&values)?
        };
        let mut picked = Vec::new();
        for (value, dest) in values.iter().zip(&destinations) {
            if *dest == Destination::None && *value != Value::Null && !rv.vindex.needs_vcursor() {
                return Ok(shards.to_vec());
            }
            picked.extend(dest.resolve(shards)?);
        }
        picked.sort_unstable();
        picked.dedup();
        Ok(picked.into_iter().map(|i| shards[i].clone()).collect())
    }

    /// Runs the route on `shards` (none: the field query on one shard, or
    /// nothing for DML).
    pub(crate) async fn execute_on(
        &self,
        vc: &dyn VCursor,
        vars: &BindVars,
        shards: Vec<String>,
    ) -> Result<QueryResult> {
        let fields_only = shards.is_empty();
        if fields_only && self.field_query.is_empty() {
            // DML that provably matches no row.
            return Ok(QueryResult::default());
        }
        let (sql, shards) = if fields_only {
            // No shard can hold a row: ask one shard for the fields only.
            let any = vc
                .shards(&self.keyspace.name)?
                .into_iter()
                .take(1)
                .collect();
            (substitute(&self.field_query, vars)?, any)
        } else {
            (substitute(&self.query, vars)?, shards)
        };
        let queries = ShardQuery::on_each(shards, &sql);
        let mut results = vc.execute_multi(&self.keyspace.name, &queries).await?;
        self.fill_collations(vc, &mut results);
        let rows_affected = results.iter().map(|r| r.rows_affected).sum();
        let order_by = self.sort_columns(results.first().map_or(0, |r| r.fields.len()));
        let mut out = merge_sorted(results, &order_by)?;
        out.rows_affected = rows_affected;
        if fields_only {
            out.rows.clear();
        }
        truncate_columns(&mut out, self.hidden_columns)?;
        Ok(out)
    }
}

#[async_trait]
impl Primitive for Route {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let shards = self.pick_shards(vc, vars).await?;
        self.execute_on(vc, vars, shards).await
    }

    async fn stream_execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<RowStream> {
        let shards = self.pick_shards(vc, vars).await?;
        if shards.is_empty() || self.operator != "Route" {
            // The field query alone, or DML: small and whole.
            return Ok(stream::once(self.execute_on(vc, vars, shards).await?));
        }
        self.stream_on(vc, vars, shards).await
    }

    fn description(&self) -> PlanDescription {
        let mut d = PlanDescription {
            keyspace: Some(self.keyspace.clone()),
            ..PlanDescription::new(self.operator).variant(self.opcode.name())
        };
        if let Some(t) = &self.target {
            d = d.with("TargetDestination", t.describe());
        }
        d = d.with("FieldQuery", self.field_query.clone());
        if !self.order_by.is_empty() {
            let order = OrderByParam::describe(&self.order_by);
            let order = if self.sort_from_hidden {
                format!("{order} (of the {} trailing columns)", self.hidden_columns)
            } else {
                order
            };
            d = d.with("OrderBy", order);
        }
        d = d.with("Query", self.query.clone());
        if let Some(v) = &self.vindex {
            let values: Vec<String> = v.values.iter().map(PlanValue::describe).collect();
            let values = if !v.columns.is_empty() {
                v.columns.iter().map(ColumnValues::describe).collect()
            } else if matches!(self.opcode, Opcode::In | Opcode::MultiEqual) {
                vec![format!("({})", values.join(", "))]
            } else {
                values
            };
            d = d.with("Values", values).with("Vindex", v.name.clone());
        }
        d
    }
}

/// The one shard of a [`Unmapped::OneShard`] route: that of its value's keyspace id, or the
/// first shard for NULL.
fn one_shard(rv: &RouteVindex, shards: &[String], vars: &BindVars) -> Result<String> {
    let refuse = |why: &str| {
        EngineError::unsupported(format!(
            "a join merged on the shard of one {} value, {why}",
            rv.name
        ))
    };
    let [pv] = rv.values.as_slice() else {
        return Err(refuse("given several values"));
    };
    let bound = pv.resolve(vars)?;
    let value = routing_value(&bound, rv.vindex.as_ref(), rv.kind)
        .ok_or_else(|| refuse(&format!("given {}, which it cannot map", bound.to_sql())))?;
    if rv.vindex.needs_vcursor() {
        return Err(refuse("through a lookup vindex"));
    }
    let index = match rv.vindex.map(std::slice::from_ref(&value))?.as_slice() {
        _ if value == Value::Null => 0,
        [dest @ Destination::KeyspaceId(_)] => match dest.resolve(shards)?.as_slice() {
            [i] => *i,
            _ => return Err(refuse("whose keyspace id is in no single shard")),
        },
        _ => {
            return Err(refuse(&format!(
                "given {}, which the vindex maps to no keyspace id",
                bound.to_sql()
            )))
        }
    };
    shards
        .get(index)
        .cloned()
        .ok_or(EngineError::KeyRange(vschema::KeyRangeError::NoShards))
}

fn unknown_collation(f: &Field) -> bool {
    f.charset == UNKNOWN_COLLATION && is_text(f)
}

/// Gives text fields reported with an unknown collation the one `told` has for them.
fn fill_fields(fields: &mut [Field], told: &[Option<u32>]) {
    for (field, collation) in fields.iter_mut().zip(told) {
        if let (true, Some(c)) = (unknown_collation(field), collation) {
            field.charset = *c;
        }
    }
}

/// Drops the last `hidden` columns of every row and field.
pub fn truncate_columns(r: &mut QueryResult, hidden: usize) -> Result<()> {
    if hidden == 0 {
        return Ok(());
    }
    let keep = r.fields.len().saturating_sub(hidden);
    r.fields.truncate(keep);
    for row in &mut r.rows {
        let cells = crate::merge_sort::split(row)?;
        *row = proto::query::Row::from_values(cells.into_iter().take(keep));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
