//! [`OwnedDml`]: UPDATE or DELETE of a table that owns lookup vindexes
//! (Vitess `engine/dml.go`, `deleteVindexEntries` and `updateVindexEntries`).
//!
//! The route picks its shards once. On them, the owner rows the statement
//! will change are read and locked (`OwnedVindexQuery`: the primary vindex
//! columns, then each owned vindex's columns, `FOR UPDATE`); their lookup
//! rows are deleted (DELETE) or replaced where an assignment changes them
//! (UPDATE, Vitess `ChangedVindexValues`); then the statement itself runs
//! on the same shards.

use std::sync::Arc;

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::{BindValue, BindVars};
use vschema::Vindex;

use crate::bind::{substitute, PlanValue};
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::insert::ksids_of_value_rows;
use crate::join::cell_to_bind;
use crate::lookup::{Lookup, LookupRow};
use crate::primitive::Primitive;
use crate::route::Route;
use crate::vcursor::{ShardQuery, VCursor};

/// One owned lookup vindex and where its columns are in the selected rows.
#[derive(Debug, Clone)]
pub struct OwnedColumns {
    /// The lookup vindex.
    pub lookup: Lookup,
    /// Positions of its columns (in `from` order) in the selected rows.
    pub columns: Vec<usize>,
    /// UPDATE: the new value of each column (`None`: not assigned). Empty
    /// for DELETE.
    pub new_values: Vec<Option<PlanValue>>,
}

/// An UPDATE or DELETE maintaining owned lookup vindexes.
#[derive(Debug, Clone)]
pub struct OwnedDml {
    /// The statement, routed (operator `Update` or `Delete`).
    pub route: Route,
    /// Reads and locks the affected rows: the primary vindex columns first.
    pub select: String,
    /// The primary vindex (maps the first `ksid_length` selected columns).
    pub primary: Arc<dyn Vindex>,
    /// How many columns the primary vindex reads (Vitess `KsidLength`).
    pub ksid_length: usize,
    /// The owned vindexes to maintain.
    pub owned: Vec<OwnedColumns>,
}

impl OwnedDml {
    /// Lookup rows to delete and to create, per owned vindex, for the
    /// selected owner rows.
    fn changes(
        &self,
        results: &[QueryResult],
        vars: &BindVars,
    ) -> Result<Vec<(Vec<LookupRow>, Vec<LookupRow>)>> {
        let mut out = vec![(Vec::new(), Vec::new()); self.owned.len()];
        for result in results {
            for row in &result.rows {
                let cells = row
                    .split_values()
                    .map_err(|e| EngineError::BadResult(e.to_string()))?;
                let value = |i: usize| -> Result<BindValue> {
                    let field = result.fields.get(i).ok_or_else(|| {
                        EngineError::BadResult("owned vindex query: missing column".into())
                    })?;
                    cell_to_bind(field, cells.get(i).copied().flatten())
                };
                let ksid = self.ksid(
                    (0..self.ksid_length)
                        .map(value)
                        .collect::<Result<Vec<_>>>()?,
                )?;
                for (owned, (deletes, creates)) in self.owned.iter().zip(out.iter_mut()) {
                    let old = owned
                        .columns
                        .iter()
                        .map(|&i| value(i))
                        .collect::<Result<Vec<_>>>()?;
                    if owned.new_values.is_empty() {
                        deletes.push(LookupRow {
                            values: old,
                            ksid: ksid.clone(),
                        });
                        continue;
                    }
                    let new = owned
                        .new_values
                        .iter()
                        .zip(&old)
                        .map(|(n, o)| n.as_ref().map_or(Ok(o.clone()), |v| v.resolve(vars)))
                        .collect::<Result<Vec<_>>>()?;
                    let same = new.iter().zip(&old).all(|(n, o)| n.to_sql() == o.to_sql());
                    if !same {
                        deletes.push(LookupRow {
                            values: old,
                            ksid: ksid.clone(),
                        });
                        creates.push(LookupRow {
                            values: new,
                            ksid: ksid.clone(),
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// The keyspace id of an owner row from its primary vindex values.
    fn ksid(&self, values: Vec<BindValue>) -> Result<Vec<u8>> {
        let ksids = ksids_of_value_rows(self.primary.as_ref(), &[values])?;
        ksids
            .into_iter()
            .next()
            .map(|k| k.0)
            .ok_or_else(|| EngineError::BadResult("owned vindex query: no keyspace id".into()))
    }
}

#[async_trait]
impl Primitive for OwnedDml {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let shards = self.route.pick_shards(vc, vars).await?;
        if shards.is_empty() {
            return Ok(QueryResult::default());
        }
        let sql = substitute(&self.select, vars)?;
        let queries = ShardQuery::on_each(shards.iter().cloned(), &sql);
        let results = vc
            .execute_multi(&self.route.keyspace.name, &queries)
            .await?;
        let changes = self.changes(&results, vars)?;
        for (owned, (deletes, creates)) in self.owned.iter().zip(&changes) {
            owned.lookup.check_create(vc, deletes, creates)?;
        }
        for (owned, (deletes, creates)) in self.owned.iter().zip(&changes) {
            owned.lookup.delete(vc, deletes).await?;
            owned.lookup.create(vc, creates).await?;
        }
        self.route.execute_on(vc, vars, shards).await
    }

    fn description(&self) -> PlanDescription {
        let owned: Vec<String> = self.owned.iter().map(|o| o.lookup.name.clone()).collect();
        self.route
            .description()
            .with("KsidLength", self.ksid_length)
            .with("KsidVindex", self.primary.name())
            .with("OwnedVindexQuery", self.select.clone())
            .with("OwnedVindexes", owned)
    }
}
