//! [`MemorySort`]: sorts its whole input in vtgate (Vitess
//! `memory_sort.go`), for orders the shards cannot produce (by an
//! aggregate, after grouping). Holding more than `--max-memory-rows` rows
//! fails with Vitess's error.

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::{split, OrderByParam, RowComparator};
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// Sorts the input rows by `order_by` (stable).
#[derive(Debug)]
pub struct MemorySort {
    /// Sort columns.
    pub order_by: Vec<OrderByParam>,
    /// Trailing columns (used only for sorting) dropped afterwards.
    pub hidden_columns: usize,
    /// The input.
    pub input: Box<dyn Primitive>,
}

#[async_trait]
impl Primitive for MemorySort {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut r = self.input.execute(vc, vars).await?;
        let limit = vc.max_memory_rows();
        if r.rows.len() > limit {
            return Err(EngineError::RowLimit(limit));
        }
        let cmp = RowComparator::new(&self.order_by, &r.fields)?;
        let rows = std::mem::take(&mut r.rows);
        let mut keyed = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            keyed.push((i, split(row)?));
        }
        cmp.sort(&mut keyed)?;
        let order: Vec<usize> = keyed.into_iter().map(|(i, _)| i).collect();
        let mut slots: Vec<Option<proto::query::Row>> = rows.into_iter().map(Some).collect();
        r.rows = order.into_iter().filter_map(|i| slots[i].take()).collect();
        crate::route::truncate_columns(&mut r, self.hidden_columns)?;
        Ok(r)
    }

    fn description(&self) -> PlanDescription {
        PlanDescription::new("Sort")
            .variant("Memory")
            .with("OrderBy", OrderByParam::describe(&self.order_by))
            .input(self.input.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::KeyspaceDesc;
    use crate::route::{Opcode, Route};
    use crate::testing::{field, result, rows_of, FakeVCursor};
    use proto::query::Type;

    fn sort() -> MemorySort {
        MemorySort {
            order_by: vec![
                OrderByParam { col: 1, desc: true },
                OrderByParam {
                    col: 0,
                    desc: false,
                },
            ],
            hidden_columns: 0,
            input: Box::new(Route::new(
                Opcode::Scatter,
                KeyspaceDesc {
                    name: "ks".into(),
                    sharded: true,
                },
                "q".into(),
                "fq".into(),
            )),
        }
    }

    fn vc() -> FakeVCursor {
        let f = [field("name", Type::Varchar), field("n", Type::Decimal)];
        FakeVCursor::new("ks", &["-80", "80-"])
            .result(
                "ks",
                "-80",
                result(&f, &[&[Some("b"), Some("1.5")], &[Some("a"), None]]),
            )
            .result(
                "ks",
                "80-",
                result(&f, &[&[Some("c"), Some("10")], &[Some("a"), Some("1.50")]]),
            )
    }

    #[tokio::test]
    async fn sorts_everything_stably() {
        let r = sort().execute(&vc(), &BindVars::default()).await.unwrap();
        let names: Vec<_> = rows_of(&r)
            .into_iter()
            .map(|row| row[0].clone().unwrap())
            .collect();
        assert_eq!(names, ["c", "a", "b", "a"]);
    }

    #[tokio::test]
    async fn refuses_more_rows_than_allowed() {
        let mut vc = vc();
        vc.max_rows = 3;
        let e = sort().execute(&vc, &BindVars::default()).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "in-memory row count exceeded allowed limit of 3"
        );
    }
}
