//! [`UncorrelatedSubquery`]: runs a subquery first and binds its result
//! into the outer query (Vitess `engine/uncorrelated_subquery.go`):
//! a list for `IN` / `NOT IN`, one value for a scalar subquery, a flag for
//! `EXISTS`.

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::{BindValue, BindVars};

use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::join::compared_cell_to_bind;
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// How the subquery's result is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PulloutOpcode {
    /// `x IN (subquery)`: the list and a has-values flag.
    In,
    /// `x NOT IN (subquery)`: the list and a has-values flag.
    NotIn,
    /// `(subquery)` as a value: at most one row of one column.
    Value,
    /// `EXISTS (subquery)`: the has-values flag.
    Exists,
}

impl PulloutOpcode {
    fn name(self) -> &'static str {
        match self {
            PulloutOpcode::In => "PulloutIn",
            PulloutOpcode::NotIn => "PulloutNotIn",
            PulloutOpcode::Value => "PulloutValue",
            PulloutOpcode::Exists => "PulloutExists",
        }
    }
}

/// Runs `subquery`, binds its result, then runs `outer`.
#[derive(Debug)]
pub struct UncorrelatedSubquery {
    /// How the result is bound.
    pub opcode: PulloutOpcode,
    /// Bind variable for the list or value.
    pub sq_name: String,
    /// Bind variable for "the subquery returned rows" (1 or 0).
    pub has_values_name: String,
    /// The subquery.
    pub subquery: Box<dyn Primitive>,
    /// The outer query.
    pub outer: Box<dyn Primitive>,
}

#[async_trait]
impl Primitive for UncorrelatedSubquery {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let sq = self.subquery.execute(vc, vars).await?;
        if self.opcode != PulloutOpcode::Exists && sq.fields.len() != 1 {
            return Err(EngineError::operand_columns());
        }
        let mut bound = vars.clone();
        let has = i64::from(!sq.rows.is_empty());
        bound.insert(self.has_values_name.clone(), BindValue::Int64(has));
        let first_column = |row| -> Result<BindValue> {
            let cells = split(row)?;
            compared_cell_to_bind(&sq.fields[0], cells.first().copied().flatten())
        };
        match self.opcode {
            PulloutOpcode::In | PulloutOpcode::NotIn => {
                let values = sq
                    .rows
                    .iter()
                    .map(first_column)
                    .collect::<Result<Vec<_>>>()?;
                bound.insert(self.sq_name.clone(), BindValue::Tuple(values));
            }
            PulloutOpcode::Value => {
                let value = match sq.rows.as_slice() {
                    [] => BindValue::Null,
                    [row] => first_column(row)?,
                    _ => return Err(EngineError::subquery_rows()),
                };
                bound.insert(self.sq_name.clone(), value);
            }
            PulloutOpcode::Exists => {}
        }
        self.outer.execute(vc, &bound).await
    }

    fn description(&self) -> PlanDescription {
        PlanDescription::new("UncorrelatedSubquery")
            .variant(self.opcode.name())
            .with(
                "PulloutVars",
                vec![self.has_values_name.clone(), self.sq_name.clone()],
            )
            .input(self.subquery.description())
            .input(self.outer.description())
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

    fn pullout(
        opcode: PulloutOpcode,
        outer: &str,
        rows: &[&[Option<&str>]],
    ) -> (FakeVCursor, UncorrelatedSubquery) {
        let vc = FakeVCursor::new("a", &["0"]).keyspace("b", &["0"]).result(
            "a",
            "0",
            result(&[field("x", Type::Int64)], rows),
        );
        let p = UncorrelatedSubquery {
            opcode,
            sq_name: "__sq1".into(),
            has_values_name: "__sq_has_values1".into(),
            subquery: route("a", "select x from s"),
            outer: route("b", outer),
        };
        (vc, p)
    }

    #[tokio::test]
    async fn in_lists_and_flags_are_bound() {
        let outer = "select * from t where (:__sq_has_values1 = 1 and y in (:__sq1))";
        let (vc, p) = pullout(PulloutOpcode::In, outer, &[&[Some("3")], &[None]]);
        p.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(
            vc.sent()[1].1,
            "select * from t where (1 = 1 and y in (3, null))"
        );
        let (vc, p) = pullout(PulloutOpcode::In, outer, &[]);
        p.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(
            vc.sent()[1].1,
            "select * from t where (0 = 1 and y in (NULL))"
        );
    }

    #[tokio::test]
    async fn scalar_values_allow_at_most_one_row() {
        let outer = "select * from t where y = :__sq1";
        let (vc, p) = pullout(PulloutOpcode::Value, outer, &[]);
        p.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(vc.sent()[1].1, "select * from t where y = null");
        let (vc, p) = pullout(PulloutOpcode::Value, outer, &[&[Some("1")], &[Some("2")]]);
        let e = p.execute(&vc, &BindVars::default()).await.unwrap_err();
        assert_eq!(e.to_string(), "Subquery returns more than 1 row");
    }
}
