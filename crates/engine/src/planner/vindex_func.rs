//! Planning a SELECT from a vindex as if it were a table (Vitess
//! `VindexFunc`): `select <vindex columns> from [ks.]<vindex> where id = <value>`
//! or `id in (<values>)`. A name that resolves to a table is a table; only
//! a name that resolves to no table but to a vindex is planned here. The
//! WHERE clause must be exactly one such comparison (Vitess's VT09018 texts
//! otherwise); ORDER BY on selected columns sorts the rows in vtgate (the
//! columns are VARBINARY: byte order); other clauses are refused.

use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, InTarget, ObjectName, ObjectNamePart, OrderBy, OrderByKind,
    OrderBySort, Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableFactor,
    Value as AstValue,
};
use vschema::FindTableError;

use super::routing::conjuncts;
use super::tables::resolve_name;
use super::Context;
use crate::bind::PlanValue;
use crate::error::{EngineError, Result};
use crate::memory_sort::MemorySort;
use crate::merge_sort::OrderByParam;
use crate::primitive::{Plan, Primitive};
use crate::vindex_func::{VindexColumn, VindexFunc};

/// The vindex named by the only FROM item, when it names no table.
struct VindexTable<'q> {
    keyspace: String,
    name: String,
    /// How columns may be qualified: the alias, else the name.
    qualifier: String,
    written: &'q ObjectName,
}

/// Plans `query` as a vindex function, or `None` when its FROM clause is
/// not a single vindex.
pub(super) fn plan_vindex_func(ctx: &Context, query: &Query) -> Result<Option<Plan>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Ok(None);
    };
    let [from] = select.from.as_slice() else {
        return Ok(None);
    };
    if !from.joins.is_empty() {
        return Ok(None);
    }
    let Some(table) = vindex_table(ctx, &from.relation)? else {
        return Ok(None);
    };
    let Some(vindex) = ctx
        .vschema
        .keyspace(&table.keyspace)
        .and_then(|k| k.vindexes.get(&table.name).cloned())
    else {
        return Ok(None);
    };
    let no_grouping =
        matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    if query.limit_clause.is_some()
        || query.with.is_some()
        || !query.locks.is_empty()
        || select.distinct.is_some()
        || !no_grouping
        || select.having.is_some()
        || select.into.is_some()
    {
        return Err(EngineError::unsupported(
            "vindex function with LIMIT, GROUP BY, HAVING, DISTINCT, INTO or locking",
        ));
    }
    if vindex.is_multi_column() {
        return Err(EngineError::unsupported(format!(
            "vindex function on multi-column vindex {}",
            table.name
        )));
    }
    let mut columns = Vec::new();
    for item in &select.projection {
        columns.extend(select_item(item, &table)?);
    }
    let values = where_values(select.selection.as_ref(), &table)?;
    let order_by = order_by(query.order_by.as_ref(), &columns, &table)?;
    let func = Box::new(VindexFunc {
        keyspace: table.keyspace.clone(),
        vindex_name: table.name.clone(),
        vindex,
        values,
        columns,
    });
    let instructions: Box<dyn Primitive> = if order_by.is_empty() {
        func
    } else {
        Box::new(MemorySort {
            order_by,
            hidden_columns: 0,
            input: func,
        })
    };
    Ok(Some(Plan {
        query_type: "SELECT",
        instructions,
        tables_used: vec![format!("{}.{}", table.keyspace, table.name)],
        column_names: Vec::new(),
    }))
}

/// The vindex `relation` names, when it names no table.
fn vindex_table<'q>(ctx: &Context, relation: &'q TableFactor) -> Result<Option<VindexTable<'q>>> {
    let TableFactor::Table {
        name, alias, args, ..
    } = relation
    else {
        return Ok(None);
    };
    if args.is_some() {
        return Ok(None);
    }
    match resolve_name(name, &ctx.scope()) {
        Err(EngineError::Table(FindTableError::NotFound(_))) => {}
        _ => return Ok(None),
    }
    let Some((qualifier, vindex)) = vindex_name(ctx, name) else {
        return Ok(None);
    };
    if ctx.vschema.find_vindex(qualifier, vindex)?.is_none() {
        return Ok(None);
    }
    let keyspace = match qualifier.filter(|k| !k.is_empty()) {
        Some(k) => k.to_string(),
        None => match ctx
            .vschema
            .keyspaces
            .iter()
            .find(|(_, k)| k.vindexes.contains_key(vindex))
        {
            Some((name, _)) => name.clone(),
            None => return Ok(None),
        },
    };
    Ok(Some(VindexTable {
        keyspace,
        name: vindex.to_string(),
        qualifier: alias
            .as_ref()
            .map_or_else(|| vindex.to_string(), |a| a.name.value.clone()),
        written: name,
    }))
}

/// The vindex column an expression names, `Ok(None)` when it is no column.
fn column_of(e: &Expr, table: &VindexTable) -> Result<Option<VindexColumn>> {
    let name = match e {
        Expr::Identifier(i) => &i.value,
        Expr::CompoundIdentifier(ids) => match ids.as_slice() {
            [q, c] if q.value == table.qualifier => &c.value,
            _ => return Err(not_found(&e.to_string(), &table.name)),
        },
        Expr::Nested(inner) => return column_of(inner, table),
        _ => return Ok(None),
    };
    VindexColumn::parse(name)
        .map(Some)
        .ok_or_else(|| not_found(name, &table.name))
}

fn not_found(column: &str, table: &str) -> EngineError {
    EngineError::mysql(
        1054,
        "42S22",
        format!("column '{column}' not found in table '{table}'"),
    )
}

fn select_item(item: &SelectItem, table: &VindexTable) -> Result<Vec<(String, VindexColumn)>> {
    let all = || {
        VindexColumn::ALL
            .iter()
            .map(|c| (c.name().to_string(), *c))
            .collect()
    };
    let (expr, alias) = match item {
        SelectItem::Wildcard(_) => return Ok(all()),
        SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(q), _)
            if q.to_string() == table.qualifier || q == table.written =>
        {
            return Ok(all())
        }
        SelectItem::UnnamedExpr(e) => (e, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
        other => {
            return Err(EngineError::unsupported(format!(
                "select item {other} on a vindex function"
            )))
        }
    };
    match column_of(expr, table)? {
        Some(c) => {
            let name = alias.unwrap_or_else(|| match expr {
                Expr::CompoundIdentifier(ids) => {
                    ids.last().map_or_else(String::new, |i| i.value.clone())
                }
                Expr::Identifier(i) => i.value.clone(),
                other => other.to_string(),
            });
            Ok(vec![(name, c)])
        }
        None => Err(EngineError::mysql(
            1105,
            "HY000",
            format!("VT09018: cannot add '{expr}' expression to a table/vindex"),
        )),
    }
}

/// Vitess's error for a SELECT from a vindex without WHERE clause.
pub(super) fn missing_where() -> EngineError {
    bad_where("where clause missing")
}

fn bad_where(reason: &str) -> EngineError {
    EngineError::mysql(
        1105,
        "HY000",
        format!(
            "VT09018: WHERE clause for vindex function must be of the form id = <val> or id in(<val>,...) ({reason})"
        ),
    )
}

/// The values of `id = v` or `id in (v, ...)`, the only WHERE allowed.
fn where_values(selection: Option<&Expr>, table: &VindexTable) -> Result<Vec<PlanValue>> {
    let conds = conjuncts(selection);
    let cond = match conds.as_slice() {
        [] => return Err(missing_where()),
        [one] => *one,
        _ => return Err(bad_where("multiple filters")),
    };
    let (lhs, rhs): (&Expr, Vec<&Expr>) = match cond {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => (left, vec![right.as_ref()]),
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } => (expr, list.iter().collect()),
        Expr::BinaryOp {
            op:
                BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq
                | BinaryOperator::Spaceship,
            ..
        } => return Err(bad_where("not equality")),
        Expr::In { .. } => return Err(bad_where("not equality")),
        _ => return Err(bad_where("not a comparison")),
    };
    match column_of(lhs, table) {
        Ok(Some(VindexColumn::Id)) => {}
        Ok(Some(_)) => return Err(bad_where("lhs is not id")),
        Ok(None) => return Err(bad_where("lhs is not a column")),
        Err(e) => return Err(e),
    }
    rhs.into_iter()
        .map(|e| PlanValue::from_expr(e).ok_or_else(|| bad_where("rhs is not a value")))
        .collect()
}

/// ORDER BY on selected columns (by position, name or alias), in memory.
fn order_by(
    order: Option<&OrderBy>,
    columns: &[(String, VindexColumn)],
    table: &VindexTable,
) -> Result<Vec<OrderByParam>> {
    let Some(order) = order else {
        return Ok(Vec::new());
    };
    let OrderByKind::Expressions(exprs) = &order.kind else {
        return Err(EngineError::unsupported(
            "ORDER BY ALL on a vindex function",
        ));
    };
    let mut out = Vec::new();
    for o in exprs {
        if o.options.nulls_first.is_some()
            || o.with_fill.is_some()
            || matches!(o.options.sort, Some(OrderBySort::Using(_)))
        {
            return Err(EngineError::unsupported(
                "ORDER BY option on a vindex function",
            ));
        }
        let col = match &o.expr {
            Expr::Value(v) => match &v.value {
                AstValue::Number(n, _) => n
                    .parse::<usize>()
                    .ok()
                    .filter(|i| (1..=columns.len()).contains(i))
                    .map(|i| i - 1)
                    .ok_or_else(|| {
                        EngineError::mysql(
                            1054,
                            "42S22",
                            format!("Unknown column '{n}' in 'order clause'"),
                        )
                    })?,
                _ => {
                    return Err(EngineError::unsupported(
                        "ORDER BY a literal on a vindex function",
                    ))
                }
            },
            Expr::Identifier(i)
                if columns
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(&i.value)) =>
            {
                columns
                    .iter()
                    .position(|(n, _)| n.eq_ignore_ascii_case(&i.value))
                    .unwrap_or(0)
            }
            e => {
                let c = column_of(e, table)?.ok_or_else(|| {
                    EngineError::unsupported(format!("ORDER BY {e} on a vindex function"))
                })?;
                columns.iter().position(|(_, s)| *s == c).ok_or_else(|| {
                    EngineError::unsupported(format!(
                        "ORDER BY {e} not selected from a vindex function"
                    ))
                })?
            }
        };
        out.push(OrderByParam {
            col,
            desc: matches!(o.options.sort, Some(OrderBySort::Desc)),
        });
    }
    Ok(out)
}

/// A table name read as a vindex name: `(keyspace qualifier or the session's keyspace, vindex)`;
/// `None` for names of three parts or more.
pub(super) fn vindex_name<'a>(
    ctx: &Context<'a>,
    name: &'a ObjectName,
) -> Option<(Option<&'a str>, &'a str)> {
    let parts: Vec<&str> = name
        .0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    match parts.as_slice() {
        [v] => Some((ctx.default_keyspace, *v)),
        [k, v] => Some((Some(*k), *v)),
        _ => None,
    }
}
