//! The result columns a prepared statement will return, for the COM_STMT_PREPARE response.
//!
//! Clients size their result buffers from the prepare response: libmariadb's
//! `mysql_stmt_store_result` reads nothing when prepare announced no columns, leaving the rows
//! of the execute on the wire and the next command failing with 2014 "Commands out of sync".
//! So, as Vitess does, a SELECT is answered with its fields: its placeholders are bound to
//! NULL and its field query (the select with `WHERE 1 != 1`, or `LIMIT 0` for a UNION; the
//! select itself when it has no table, such as `SELECT @@version`) runs through the executor,
//! which routes it exactly as the statement's execute will be routed.

use futures::StreamExt;
use mysql_common::constants::ColumnType;
use mysql_common::value::Value;
use mysql_server::stmt::Param;
use proto::query::Field;
use sql::classify::{classify, StatementKind};
use sqlparser::ast::{
    BinaryOperator, Expr, LimitClause, Query, SetExpr, Statement, TableFactor, Value as SqlValue,
};

use crate::error::VtError;
use crate::executor::{Executor, Reply};
use crate::gateway::Caller;
use crate::params::bind;
use crate::session::Session;
use crate::text::RawLiterals;

/// The fields `sql` (with `param_count` placeholders) returns when executed, or none when it
/// is not a SELECT or its text is beyond the SQL parser (the execute then still reports its
/// columns; only clients that rely on prepare metadata are affected).
pub async fn prepared_fields(
    executor: &Executor,
    session: &mut Session,
    caller: &Caller,
    sql: &str,
    param_count: usize,
) -> Result<Vec<Field>, VtError> {
    if !matches!(classify(sql), StatementKind::Select) {
        return Ok(Vec::new());
    }
    let nulls = vec![
        Param {
            value: Value::NULL,
            column_type: ColumnType::MYSQL_TYPE_NULL,
            unsigned: false,
        };
        param_count
    ];
    let bound = bind(sql, &nulls, &mut RawLiterals::default())?;
    let Some(query) = field_query(&bound) else {
        tracing::debug!(sql = %bound, "no field query for a prepared select");
        return Ok(Vec::new());
    };
    // The field query is a read: it must not change what the session reports about the
    // statements the client ran.
    let kept = (
        session.found_rows,
        session.row_count,
        session.last_insert_id,
    );
    let reply = executor.execute(session, caller, &query).await;
    (
        session.found_rows,
        session.row_count,
        session.last_insert_id,
    ) = kept;
    match reply? {
        Reply::Result(r) => Ok(r.fields),
        Reply::Stream(mut stream) => {
            let mut fields = Vec::new();
            // Drained to the end so the tablet's stream finishes cleanly.
            while let Some(part) = stream.next().await {
                let part = part?;
                if fields.is_empty() {
                    fields = part.fields;
                }
            }
            Ok(fields)
        }
    }
}

/// The query that returns `sql`'s result fields and no rows: the SELECT with `WHERE 1 != 1`
/// (no HAVING, ORDER BY, LIMIT or locking clause), a UNION with `LIMIT 0`, and a select of no
/// table (or only `dual`) unchanged. `None` if `sql` is not one query the parser understands.
pub fn field_query(sql: &str) -> Option<String> {
    let mut statements = sql::parse::parse_many(sql).ok()?;
    if statements.len() != 1 {
        return None;
    }
    let Some(Statement::Query(mut query)) = statements.pop() else {
        return None;
    };
    if reads_no_table(&query) {
        return Some(sql.to_string());
    }
    impossible(&mut query);
    Some(query.to_string())
}

fn reads_no_table(query: &Query) -> bool {
    match query.body.as_ref() {
        SetExpr::Select(s) => s.from.iter().all(|t| {
            t.joins.is_empty()
                && matches!(&t.relation, TableFactor::Table { name, .. }
                    if name.to_string().eq_ignore_ascii_case("dual"))
        }),
        _ => false,
    }
}

fn impossible(query: &mut Query) {
    query.order_by = None;
    query.locks.clear();
    query.limit_clause = None;
    match query.body.as_mut() {
        SetExpr::Select(s) => {
            s.selection = Some(never_true());
            s.having = None;
        }
        _ => {
            query.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(number("0")),
                offset: None,
                limit_by: Vec::new(),
            })
        }
    }
}

fn number(n: &str) -> Expr {
    Expr::value(SqlValue::Number(n.into(), false))
}

fn never_true() -> Expr {
    Expr::BinaryOp {
        left: Box::new(number("1")),
        op: BinaryOperator::NotEq,
        right: Box::new(number("1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_become_impossible() {
        assert_eq!(
            field_query("SELECT c FROM sbtest1 WHERE id BETWEEN NULL AND NULL ORDER BY c LIMIT 5")
                .unwrap(),
            "SELECT c FROM sbtest1 WHERE 1 <> 1"
        );
        assert_eq!(
            field_query("select k, count(*) from t group by k having count(*) > 1 for update")
                .unwrap(),
            "SELECT k, count(*) FROM t WHERE 1 <> 1 GROUP BY k"
        );
        assert_eq!(
            field_query("select * from t where a in (NULL, NULL) limit NULL offset NULL").unwrap(),
            "SELECT * FROM t WHERE 1 <> 1"
        );
        assert_eq!(
            field_query("select a from t union select b from u order by 1").unwrap(),
            "SELECT a FROM t UNION SELECT b FROM u LIMIT 0"
        );
    }

    #[test]
    fn table_less_selects_are_kept_and_others_refused() {
        assert_eq!(
            field_query("select @@version, NULL").unwrap(),
            "select @@version, NULL"
        );
        assert_eq!(
            field_query("select 1 from dual").unwrap(),
            "select 1 from dual"
        );
        assert_eq!(field_query("select 1; select 2"), None);
        assert_eq!(field_query("insert into t values (1)"), None);
        assert_eq!(field_query("select from where"), None);
    }
}
