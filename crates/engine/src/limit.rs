//! [`Limit`]: LIMIT and OFFSET applied in vtgate over an input whose shards
//! were each asked for `offset + count` rows (Vitess `engine/limit.go`).

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::{BindValue, BindVars};

use crate::bind::PlanValue;
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::planner::UPPER_LIMIT_VAR;
use crate::primitive::Primitive;
use crate::stream::{self, RowStream};
use crate::vcursor::VCursor;

/// Keeps rows `offset .. offset + count` of its input.
#[derive(Debug)]
pub struct Limit {
    /// Row count.
    pub count: PlanValue,
    /// Rows to skip.
    pub offset: Option<PlanValue>,
    /// The input.
    pub input: Box<dyn Primitive>,
}

fn as_count(v: &PlanValue, vars: &BindVars) -> Result<usize> {
    match v.resolve(vars)? {
        BindValue::Int64(n) if n >= 0 => Ok(n as usize),
        BindValue::Uint64(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        other => Err(EngineError::BadResult(format!(
            "unexpected value for limit: {}",
            other.to_sql()
        ))),
    }
}

impl Limit {
    /// The offset and count, and the bind variables for the input: shard
    /// queries below read `offset + count` from a bind variable when the
    /// LIMIT itself comes from bind variables.
    fn bounds(&self, vars: &BindVars) -> Result<(usize, usize, Option<BindVars>)> {
        let count = as_count(&self.count, vars)?;
        let offset = match &self.offset {
            Some(o) => as_count(o, vars)?,
            None => 0,
        };
        let bound = matches!(self.count, PlanValue::BindVar(_))
            || matches!(self.offset, Some(PlanValue::BindVar(_)));
        let input_vars = bound.then(|| {
            let mut with_upper = vars.clone();
            // Written into the shard query's LIMIT, where only a plain number will do.
            let upper = i64::try_from(offset.saturating_add(count)).unwrap_or(i64::MAX);
            with_upper.insert(UPPER_LIMIT_VAR.to_string(), BindValue::Int64(upper));
            with_upper
        });
        Ok((offset, count, input_vars))
    }
}

#[async_trait]
impl Primitive for Limit {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let (offset, count, input_vars) = self.bounds(vars)?;
        let mut r = self
            .input
            .execute(vc, input_vars.as_ref().unwrap_or(vars))
            .await?;
        let end = offset.saturating_add(count).min(r.rows.len());
        let start = offset.min(end);
        r.rows.truncate(end);
        r.rows.drain(..start);
        Ok(r)
    }

    async fn stream_execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<RowStream> {
        let (offset, count, input_vars) = self.bounds(vars)?;
        let input = self
            .input
            .stream_execute(vc, input_vars.as_ref().unwrap_or(vars))
            .await?;
        Ok(stream::limit(input, offset, count))
    }

    fn description(&self) -> PlanDescription {
        let mut d = PlanDescription::new("Limit").with("Count", self.count.describe());
        if let Some(o) = &self.offset {
            d = d.with("Offset", o.describe());
        }
        d.input(self.input.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::KeyspaceDesc;
    use crate::route::{Opcode, Route};
    use crate::testing::{field, result, rows_of, FakeVCursor};
    use proto::query::Type;

    fn input() -> Box<dyn Primitive> {
        Box::new(Route::new(
            Opcode::Scatter,
            KeyspaceDesc {
                name: "ks".into(),
                sharded: true,
            },
            "select id from t limit 3".into(),
            String::new(),
        ))
    }

    fn vc() -> FakeVCursor {
        let f = [field("id", Type::Int64)];
        FakeVCursor::new("ks", &["-80", "80-"])
            .result(
                "ks",
                "-80",
                result(&f, &[&[Some("1")], &[Some("2")], &[Some("3")]]),
            )
            .result("ks", "80-", result(&f, &[&[Some("4")], &[Some("5")]]))
    }

    #[tokio::test]
    async fn count_and_offset() {
        let lit = |n| PlanValue::Literal(BindValue::Int64(n));
        let l = Limit {
            count: lit(2),
            offset: Some(lit(1)),
            input: input(),
        };
        let r = l.execute(&vc(), &BindVars::default()).await.unwrap();
        assert_eq!(
            rows_of(&r),
            vec![vec![Some("2".to_string())], vec![Some("3".to_string())]]
        );
        let l = Limit {
            count: lit(10),
            offset: Some(lit(7)),
            input: input(),
        };
        assert!(l
            .execute(&vc(), &BindVars::default())
            .await
            .unwrap()
            .rows
            .is_empty());
        let bound_input = Box::new(Route::new(
            Opcode::Scatter,
            KeyspaceDesc {
                name: "ks".into(),
                sharded: true,
            },
            "select id from t limit :__upper_limit".into(),
            String::new(),
        ));
        let l = Limit {
            count: PlanValue::BindVar("n".into()),
            offset: Some(PlanValue::BindVar("o".into())),
            input: bound_input,
        };
        let vars = BindVars::from_iter([
            ("n".to_string(), BindValue::Int64(3)),
            ("o".to_string(), BindValue::Int64(1)),
        ]);
        let fake = vc();
        assert_eq!(l.execute(&fake, &vars).await.unwrap().rows.len(), 3);
        assert_eq!(fake.sent()[0].1, "select id from t limit 4");
        let d = l.description().to_json();
        assert_eq!(
            (d["Count"].as_str(), d["Inputs"][0]["Variant"].as_str()),
            (Some(":n"), Some("Scatter"))
        );
    }
}
