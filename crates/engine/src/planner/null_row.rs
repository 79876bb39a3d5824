//! The NULL row of a LEFT JOINed table of a nested-loop join: the query that gives what its
//! select items are for a left row without a match ([`crate::join::NullRow`]).
//!
//! A select item of one LEFT JOINed table runs in that table's query; for a missing row the
//! join needs the item's value over NULL columns. A column, arithmetic over columns or a
//! function that is NULL with its arguments is NULL then ([`null_strict`]: the join fills in
//! NULLs); `coalesce(o.qty, 0)`, `o.note is null` or a CASE are not. Rather than compute
//! them in vtgate, one shard of the table's keyspace evaluates them over an outer join that
//! matches nothing: `select <items> from (select 1) as vt_null left join (select * from
//! <table> limit 0) as <table> on 1 = 0` (a derived table's tables each so emptied). Its
//! columns are NULL with their own types, so MariaDB gives the value (and its scale,
//! collation, …) it gives in the user's LEFT JOIN, and reads no row for it.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, Statement, TableAlias, TableFactor, Value as AstValue, VisitMut, VisitorMut,
};

use super::nested_join::refuse;
use super::order::features;
use super::select::field_query;
use super::tables::{rewrite_for_shards, Tables};
use super::Context;
use crate::description::KeyspaceDesc;
use crate::error::{EngineError, Result};
use crate::primitive::Primitive;
use crate::route::{Opcode, Route};

/// The route evaluating `items` (select items of `factor` alone) over `factor`'s NULL row:
/// to the keyspace's one shard, or any shard of a sharded keyspace (every shard has the
/// table and its column types).
pub(super) fn null_row_route(
    ctx: &Context,
    factor: &TableFactor,
    items: &[String],
) -> Result<Box<dyn Primitive>> {
    let sql = format!(
        "select {} from (select 1) as vt_null left join {} on 1 = 0",
        items.join(", "),
        emptied(factor)?
    );
    let mut stmt = sql::parse::parse(&sql)
        .map_err(|e| EngineError::BadResult(format!("planned query {sql}: {}", e.message())))?;
    // One shard would answer a subquery of the items for all of them.
    if let Statement::Query(q) = &stmt {
        if features(q).subquery {
            return Err(refuse(&format!(
                "a subquery over the missing row of {factor}"
            )));
        }
    }
    let tables = Tables::collect(&stmt, &ctx.scope())?;
    let Some(first) = tables.uses.first() else {
        return Err(refuse("a LEFT JOINed item without a table"));
    };
    let ks = &first.table.keyspace;
    if tables.uses.iter().any(|u| u.table.keyspace.name != ks.name) {
        return Err(refuse(&format!("expression on a LEFT JOINed {factor}")));
    }
    rewrite_for_shards(&mut stmt, &ctx.scope());
    let Statement::Query(query) = stmt else {
        return Err(refuse("a LEFT JOINed item"));
    };
    Ok(Box::new(Route::new(
        if ks.sharded {
            Opcode::Reference
        } else {
            Opcode::Unsharded
        },
        KeyspaceDesc {
            name: ks.name.clone(),
            sharded: ks.sharded,
        },
        query.to_string(),
        field_query(&query),
    )))
}

/// `factor` with each table it reads replaced by an empty derived table of the same name
/// (`(select * from corder limit 0) as o`): the same columns with the same types, and
/// nothing to read, where `left join corder o on 1 = 0` has MariaDB scan the table.
fn emptied(factor: &TableFactor) -> Result<TableFactor> {
    struct Empty(Option<EngineError>);
    impl VisitorMut for Empty {
        type Break = ();
        fn post_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table { name, alias, .. } = t else {
                return ControlFlow::Continue(());
            };
            let sql = format!("select * from {name} limit 0");
            let query = match sql::parse::parse(&sql) {
                Ok(Statement::Query(q)) => q,
                _ => {
                    self.0 = Some(refuse(&format!("the missing row of {name}")));
                    return ControlFlow::Break(());
                }
            };
            let alias = match alias {
                Some(a) => a.clone(),
                None => TableAlias {
                    explicit: true,
                    name: match name.0.last().and_then(|p| p.as_ident()) {
                        Some(i) => i.clone(),
                        None => {
                            self.0 = Some(refuse(&format!("the missing row of {name}")));
                            return ControlFlow::Break(());
                        }
                    },
                    columns: Vec::new(),
                    at: None,
                },
            };
            *t = TableFactor::Derived {
                lateral: false,
                subquery: query,
                alias: Some(alias),
                sample: None,
            };
            ControlFlow::Continue(())
        }
    }
    let mut f = factor.clone();
    let mut empty = Empty(None);
    let _ = f.visit(&mut empty);
    match empty.0 {
        Some(e) => Err(e),
        None => Ok(f),
    }
}

/// Functions that are NULL when any argument is.
const NULL_STRICT_FUNCTIONS: &[&str] = &[
    "abs",
    "ceil",
    "ceiling",
    "floor",
    "sign",
    "lower",
    "upper",
    "lcase",
    "ucase",
    "length",
    "char_length",
    "character_length",
    "octet_length",
    "trim",
    "ltrim",
    "rtrim",
    "reverse",
    "hex",
    "concat",
    "left",
    "right",
    "round",
    "truncate",
    "mod",
    "sqrt",
    "substr",
    "substring",
    "lpad",
    "rpad",
    "repeat",
    "replace",
];

/// Whether `e` is NULL whenever its columns are: columns, literals other than NULL,
/// arithmetic (DIV too), SUBSTRING and [`NULL_STRICT_FUNCTIONS`] over them (with at least
/// one column).
pub(super) fn null_strict(e: &Expr) -> bool {
    use sqlparser::ast::UnaryOperator as U;
    use sqlparser::ast::{BinaryOperator as B, FunctionArg, FunctionArgExpr, FunctionArguments};
    fn walk(e: &Expr, column: &mut bool) -> bool {
        match e {
            Expr::CompoundIdentifier(_) | Expr::Identifier(_) => {
                *column = true;
                true
            }
            Expr::Value(v) => matches!(
                v.value,
                AstValue::Number(..) | AstValue::SingleQuotedString(_)
            ),
            Expr::Function(f) => {
                let name = f.name.to_string().to_ascii_lowercase();
                let FunctionArguments::List(list) = &f.args else {
                    return false;
                };
                NULL_STRICT_FUNCTIONS.contains(&name.as_str())
                    && list.duplicate_treatment.is_none()
                    && list.clauses.is_empty()
                    && !list.args.is_empty()
                    && list.args.iter().all(|a| {
                        matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) if walk(x, column))
                    })
            }
            Expr::Nested(x)
            | Expr::UnaryOp {
                op: U::Minus,
                expr: x,
            } => walk(x, column),
            Expr::BinaryOp { left, op, right } => {
                matches!(
                    op,
                    B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo | B::MyIntegerDivide
                ) && walk(left, column)
                    && walk(right, column)
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                walk(expr, column)
                    && substring_from.as_deref().is_none_or(|x| walk(x, column))
                    && substring_for.as_deref().is_none_or(|x| walk(x, column))
            }
            _ => false,
        }
    }
    let mut column = false;
    walk(e, &mut column) && column
}
