//! [`CorrelatedValues`]: scalar subqueries of the select list that read the
//! outer row, run once per outer row (Vitess plans these as a subquery
//! projection). The outer rows carry a placeholder where each value goes
//! and, last, the outer columns the subqueries read; each subquery runs
//! with those bound, and its one value (NULL without a row) replaces the
//! placeholder. More than one row or column is MySQL's error.

use async_trait::async_trait;
use proto::query::{QueryResult, Row};
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::route::truncate_columns;
use crate::semi_join::{bind_row, block_start};
use crate::vcursor::VCursor;

/// Where a value goes in the outer row. A `*` before the item makes its
/// column known only from the row's end, one after it only from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueColumn {
    /// This many columns from the row's start.
    Start(usize),
    /// This many columns before the trailing block of bound columns.
    End(usize),
}

impl ValueColumn {
    /// The column's index in a row whose bound columns start at `base`.
    fn index(self, base: usize) -> Result<usize> {
        match self {
            ValueColumn::Start(c) => Ok(c),
            ValueColumn::End(n) => base
                .checked_sub(n)
                .ok_or_else(|| EngineError::BadResult(format!("subquery value {n} from the end"))),
        }
    }
}

/// One subquery whose value becomes a column.
#[derive(Debug)]
pub struct ValueSubquery {
    /// The column it fills.
    pub column: ValueColumn,
    /// The subquery, with the outer columns as bind variables.
    pub subquery: Box<dyn Primitive>,
    /// Its bind variables: name, and column within the trailing block.
    pub vars: Vec<(String, usize)>,
}

/// Fills columns of the outer rows with per-row subquery values.
#[derive(Debug)]
pub struct CorrelatedValues {
    /// The outer rows.
    pub outer: Box<dyn Primitive>,
    /// The subqueries.
    pub values: Vec<ValueSubquery>,
    /// Trailing outer columns holding the bound values, dropped afterwards.
    pub block: usize,
}

/// MySQL's errors for a scalar subquery of the wrong shape.
fn check_shape(r: &QueryResult) -> Result<()> {
    if r.fields.len() != 1 {
        return Err(EngineError::mysql(
            1241,
            "21000",
            "Operand should contain 1 column(s)",
        ));
    }
    if r.rows.len() > 1 {
        return Err(EngineError::mysql(
            1242,
            "21000",
            "Subquery returns more than 1 row",
        ));
    }
    Ok(())
}

#[async_trait]
impl Primitive for CorrelatedValues {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut outer = self.outer.execute(vc, vars).await?;
        let base = block_start(&outer, self.block)?;
        let columns = self
            .values
            .iter()
            .map(|v| v.column.index(base))
            .collect::<Result<Vec<_>>>()?;
        let mut typed = vec![false; self.values.len()];
        let mut rows = Vec::with_capacity(outer.rows.len());
        for row in std::mem::take(&mut outer.rows) {
            let cells = split(&row)?;
            let mut values: Vec<Option<Vec<u8>>> =
                cells.iter().map(|c| c.map(<[u8]>::to_vec)).collect();
            for (k, (v, &column)) in self.values.iter().zip(&columns).enumerate() {
                let bound = bind_row(vars, &v.vars, &outer.fields, &cells, base)?;
                let r = v.subquery.execute(vc, &bound).await?;
                check_shape(&r)?;
                if !typed[k] {
                    // The value's type is the subquery's; the name stays the outer one.
                    if let (Some(f), Some(out)) = (r.fields.first(), outer.fields.get_mut(column)) {
                        let name = std::mem::take(&mut out.name);
                        *out = f.clone();
                        out.name = name;
                        out.flags &= !proto::sqltypes::flag::NOT_NULL;
                    }
                    typed[k] = true;
                }
                let value = match r.rows.first() {
                    Some(row) => split(row)?.first().copied().flatten().map(<[u8]>::to_vec),
                    None => None,
                };
                let slot = values.get_mut(column).ok_or_else(|| {
                    EngineError::BadResult(format!("subquery value column {column}"))
                })?;
                *slot = value;
            }
            rows.push(Row::from_values(values.iter().map(|c| c.as_deref())));
        }
        outer.rows = rows;
        truncate_columns(&mut outer, self.block)?;
        Ok(outer)
    }

    fn description(&self) -> PlanDescription {
        let mut d = PlanDescription::new("Projection")
            .variant("CorrelatedSubqueries")
            .input(self.outer.description());
        for v in &self.values {
            d = d.input(v.subquery.description());
        }
        d
    }
}
