//! The [`Primitive`] trait every plan node implements, and [`Plan`], the
//! planner's output.

use std::fmt::Debug;

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::Result;
use crate::vcursor::VCursor;

/// One node of an execution plan (Vitess `engine.Primitive`).
#[async_trait]
pub trait Primitive: Send + Sync + Debug {
    /// Runs the node (and its inputs) and returns the whole result.
    async fn execute(&self, vc: &dyn VCursor, bind_vars: &BindVars) -> Result<QueryResult>;

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
        for (field, name) in r.fields.iter_mut().zip(&self.column_names) {
            if let Some(name) = name {
                field.name = sql::column_names::with_values(name, bind_vars);
            }
        }
        Ok(r)
    }

    /// The plan tree as `VEXPLAIN PLAN` JSON.
    pub fn description(&self) -> PlanDescription {
        self.instructions.description()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_can_be_shared_across_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Plan>();
        shareable::<std::sync::Arc<Plan>>();
    }
}
