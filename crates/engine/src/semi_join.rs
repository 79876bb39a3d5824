//! [`SemiJoin`]: keeps the outer rows for which a correlated subquery
//! returns rows (`EXISTS`), or returns none (`NOT EXISTS`) (Vitess
//! `engine/semi_join.go`). The outer input runs once; the subquery runs
//! once per outer row with the outer columns it reads bound as variables.
//! Those columns are the trailing block of the outer row, dropped after.

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::join::compared_cell_to_bind;
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::route::truncate_columns;
use crate::vcursor::VCursor;

/// Filters outer rows by whether a correlated subquery has rows.
#[derive(Debug)]
pub struct SemiJoin {
    /// `NOT EXISTS`: keep the rows for which the subquery has none.
    pub anti: bool,
    /// The outer rows.
    pub outer: Box<dyn Primitive>,
    /// The subquery, run per outer row.
    pub subquery: Box<dyn Primitive>,
    /// Bind variables of the subquery: name, and column within the
    /// trailing block of `block` outer columns.
    pub vars: Vec<(String, usize)>,
    /// How many trailing outer columns hold the variables' values.
    pub block: usize,
    /// Whether to drop that block from the result.
    pub drop_block: bool,
}

/// Where the trailing block of `block` bound columns starts in `r`.
pub(crate) fn block_start(r: &QueryResult, block: usize) -> Result<usize> {
    r.fields
        .len()
        .checked_sub(block)
        .ok_or_else(|| EngineError::BadResult("bound columns missing".into()))
}

/// `vars` with each `(name, k)` of `names` bound to the row's column
/// `base + k`, as a join binds its values.
pub(crate) fn bind_row(
    vars: &BindVars,
    names: &[(String, usize)],
    fields: &[proto::query::Field],
    cells: &[Option<&[u8]>],
    base: usize,
) -> Result<BindVars> {
    let mut bound = vars.clone();
    for (name, k) in names {
        let col = base + k;
        let field = fields
            .get(col)
            .ok_or_else(|| EngineError::BadResult(format!("bound column {col} missing")))?;
        bound.insert(
            name.clone(),
            compared_cell_to_bind(field, cells.get(col).copied().flatten())?,
        );
    }
    Ok(bound)
}

#[async_trait]
impl Primitive for SemiJoin {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut outer = self.outer.execute(vc, vars).await?;
        let base = block_start(&outer, self.block)?;
        let mut keep = Vec::with_capacity(outer.rows.len());
        for row in std::mem::take(&mut outer.rows) {
            let cells = split(&row)?;
            let bound = bind_row(vars, &self.vars, &outer.fields, &cells, base)?;
            let found = !self.subquery.execute(vc, &bound).await?.rows.is_empty();
            if found != self.anti {
                keep.push(row);
            }
        }
        outer.rows = keep;
        if self.drop_block {
            truncate_columns(&mut outer, self.block)?;
        }
        Ok(outer)
    }

    fn description(&self) -> PlanDescription {
        PlanDescription::new("SemiJoin")
            .variant(if self.anti { "AntiJoin" } else { "SemiJoin" })
            .join_vars(&self.vars)
            .input(self.outer.description())
            .input(self.subquery.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{field, result, unsharded_route, FakeVCursor};
    use proto::query::Type;

    fn route(ks: &str, sql: &str) -> Box<dyn Primitive> {
        unsharded_route(ks, sql)
    }

    #[tokio::test]
    async fn binds_the_trailing_columns_and_drops_them() {
        let vc = FakeVCursor::new("a", &["0"]).keyspace("b", &["0"]).result(
            "a",
            "0",
            result(
                &[field("x", Type::Int64), field("k", Type::Int64)],
                &[&[Some("1"), Some("10")], &[Some("2"), None]],
            ),
        );
        let p = SemiJoin {
            anti: true,
            outer: route("a", "select x, k from t"),
            subquery: route("b", "select 1 from s where s.k = :t_k limit 1"),
            vars: vec![("t_k".into(), 0)],
            block: 1,
            drop_block: true,
        };
        let r = p.execute(&vc, &BindVars::default()).await.unwrap();
        let sent: Vec<String> = vc.sent().into_iter().map(|(_, q)| q).collect();
        assert_eq!(
            sent[1..],
            [
                "select 1 from s where s.k = 10 limit 1",
                "select 1 from s where s.k = null limit 1"
            ]
        );
        // The fake has no rows for the subquery: NOT EXISTS keeps both.
        assert_eq!(r.fields.len(), 1);
        assert_eq!(r.rows.len(), 2);
    }
}
