//! The [`Primitive`] trait every plan node implements, and [`Plan`], the
//! planner's output.

use std::fmt::Debug;

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::Result;
use crate::stream::{self, RowStream};
use crate::vcursor::VCursor;

/// One node of an execution plan (Vitess `engine.Primitive`).
#[async_trait]
pub trait Primitive: Send + Sync + Debug {
    /// Runs the node (and its inputs) and returns the whole result.
    async fn execute(&self, vc: &dyn VCursor, bind_vars: &BindVars) -> Result<QueryResult>;

    /// Runs the node and streams its result (Vitess `TryStreamExecute`).
    /// A node that cannot stream runs whole and sends one item.
    async fn stream_execute(&self, vc: &dyn VCursor, bind_vars: &BindVars) -> Result<RowStream> {
        Ok(stream::once(self.execute(vc, bind_vars).await?))
    }

    /// The node as `VEXPLAIN PLAN` shows it.
    fn description(&self) -> PlanDescription;
}

/// A planned statement.
#[derive(Debug)]
pub struct Plan {
    /// `SELECT`, `INSERT`, `UPDATE`, `DELETE`.
    pub query_type: &'static str,
    /// The root primitive.
    pub instructions: Box<dyn Primitive>,
    /// Tables the statement uses, as `keyspace.table`, sorted.
    pub tables_used: Vec<String>,
    /// The names MariaDB gives the leading result columns where the shards, which get the
    /// statement printed from its syntax tree, name them otherwise (`email is null` as
    /// written, not `email IS NULL`); `None` keeps the shards' name. Set by the caller, which
    /// has the statement's text (`sql::column_names`).
    pub column_names: Vec<Option<String>>,
}

impl Plan {
    /// Runs the plan.
    pub async fn execute(&self, vc: &dyn VCursor, bind_vars: &BindVars) -> Result<QueryResult> {
        let mut r = self.instructions.execute(vc, bind_vars).await?;
        rename(&mut r.fields, &self.names(bind_vars));
        Ok(r)
    }

    /// [`Plan::column_names`] with the values the plan cache took out
    /// (`:vtg1`) put back.
    fn names(&self, bind_vars: &BindVars) -> Vec<Option<String>> {
        self.column_names
            .iter()
            .map(|n| {
                n.as_ref().map(|name| {
                    crate::bind::substitute(name, bind_vars).unwrap_or_else(|_| name.clone())
                })
            })
            .collect()
    }

    /// Runs the plan, streaming its result (the OLAP workload).
    pub async fn stream_execute(
        &self,
        vc: &dyn VCursor,
        bind_vars: &BindVars,
    ) -> Result<RowStream> {
        let names = self.names(bind_vars);
        let input = self.instructions.stream_execute(vc, bind_vars).await?;
        Ok(stream::map_fields(input, move |fields| {
            rename(fields, &names)
        }))
    }

    /// The plan tree as `VEXPLAIN PLAN` JSON.
    pub fn description(&self) -> PlanDescription {
        self.instructions.description()
    }
}

/// Gives the leading fields the names that are set.
fn rename(fields: &mut [proto::query::Field], names: &[Option<String>]) {
    for (field, name) in fields.iter_mut().zip(names) {
        if let Some(name) = name {
            field.name = name.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn column_names_get_the_statement_values_back() {
        use crate::testing::{field, result, FakeVCursor};
        use proto::query::Type;
        use sql::literal::BindValue;
        let vc = FakeVCursor::new("ks", &["0"]).result(
            "ks",
            "0",
            result(
                &[
                    field("a", Type::Int64),
                    field("b", Type::Int64),
                    field("c", Type::Int64),
                    field("d", Type::Int64),
                ],
                &[],
            ),
        );
        let plan = Plan {
            query_type: "SELECT",
            instructions: crate::testing::unsharded_route("ks", "select a, b, c, d from t"),
            tables_used: Vec::new(),
            column_names: vec![
                Some("(select 1 from u where x = :vtg1)".into()),
                Some(":vtx1 + 0".into()),
                None,
                Some("x = :vtg2".into()),
            ],
        };
        let vars = BindVars::from_iter([
            ("vtg1".to_string(), BindValue::VarChar(b"a'b".to_vec())),
            ("vtx1".to_string(), BindValue::Int64(55)),
        ]);
        let r = plan.execute(&vc, &vars).await.unwrap();
        let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
        // A name whose value is missing keeps its placeholder.
        assert_eq!(
            names,
            [
                "(select 1 from u where x = 'a\\'b')",
                "55 + 0",
                "c",
                "x = :vtg2"
            ]
        );
    }

    #[test]
    fn plans_can_be_shared_across_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Plan>();
        shareable::<std::sync::Arc<Plan>>();
    }
}
