//! What follows the merge of aggregates, for scatter and join aggregation
//! alike: arithmetic over aggregates ([`Projection`]), HAVING ([`Filter`]), DISTINCT over groups ([`Distinct`]), ORDER
//! BY ([`MemorySort`], also on aggregates or grouping columns that are not
//! selected, carried as hidden columns) and LIMIT.

use sqlparser::ast::{Expr, OrderBy, OrderByKind, OrderBySort, Value as AstValue};

use super::aggregation::HavingContext;
use super::order::find_column;
use crate::aggregate::{Aggregate, AggregateParam};
use crate::distinct::Distinct;
use crate::error::{EngineError, Result};
use crate::filter::{Filter, Operand, Predicate};
use crate::limit::Limit;
use crate::memory_sort::MemorySort;
use crate::merge_sort::OrderByParam;
use crate::primitive::Primitive;
use crate::projection::{ProjectedColumn, Projection};

/// HAVING and ORDER BY resolved against the aggregated row.
pub(super) struct Tail {
    predicate: Option<Predicate>,
    order: Vec<OrderByParam>,
    /// The sort reads hidden columns, so they are dropped after it.
    order_hidden: bool,
    /// Columns computed after the merge.
    computed: Vec<ProjectedColumn>,
}

/// How the merged groups are finished.
pub(super) struct Finish {
    /// Grouping columns (empty: scalar).
    pub group_by: Vec<usize>,
    /// Aggregated columns.
    pub aggregates: Vec<AggregateParam>,
    /// Trailing hidden columns of the input.
    pub hidden: usize,
    /// `SELECT DISTINCT ... GROUP BY`.
    pub distinct_groups: bool,
    /// LIMIT count and offset.
    pub limit: Option<(crate::bind::PlanValue, Option<crate::bind::PlanValue>)>,
}

impl Tail {
    /// Resolves HAVING and ORDER BY; aggregates they need that are not
    /// selected become hidden columns through `hv`.
    pub(super) fn resolve(
        hv: &mut HavingContext,
        having: Option<&Expr>,
        order: Option<OrderBy>,
    ) -> Result<Tail> {
        let predicate = having.map(|h| hv.predicate(h)).transpose()?;
        let mut params = Vec::new();
        let mut order_hidden = false;
        if let Some(order) = order {
            let OrderByKind::Expressions(exprs) = order.kind else {
                return Err(EngineError::unsupported("ORDER BY ALL"));
            };
            for o in &exprs {
                if o.options.nulls_first.is_some() || o.with_fill.is_some() {
                    return Err(EngineError::unsupported("ORDER BY with NULLS FIRST/LAST"));
                }
                if matches!(&o.expr, Expr::Value(v) if v.value == AstValue::Null) {
                    continue;
                }
                let desc = match &o.options.sort {
                    None | Some(OrderBySort::Asc) => false,
                    Some(OrderBySort::Desc) => true,
                    Some(_) => return Err(EngineError::unsupported("ORDER BY ... USING")),
                };
                let unsupported = || {
                    EngineError::unsupported(format!(
                        "ORDER BY {} of an aggregation across shards",
                        o.expr
                    ))
                };
                let col = if matches!(&o.expr, Expr::Value(_)) {
                    find_column(&o.expr, hv.original)?.ok_or_else(unsupported)?
                } else {
                    match hv.order_operand(&o.expr)? {
                        Operand::Column(c) => c,
                        Operand::Value(_) => return Err(unsupported()),
                    }
                };
                order_hidden |= col >= hv.original.len();
                params.push(OrderByParam { col, desc });
            }
        }
        Ok(Tail {
            predicate,
            order: params,
            order_hidden,
            computed: std::mem::take(&mut hv.computed),
        })
    }

    /// Stacks Aggregate, Filter, Distinct, MemorySort and Limit on `input`,
    /// dropping the hidden columns as soon as nothing reads them.
    pub(super) fn assemble(
        self,
        input: Box<dyn Primitive>,
        finish: Finish,
    ) -> Result<Box<dyn Primitive>> {
        let Finish {
            group_by,
            aggregates,
            hidden,
            distinct_groups,
            limit,
        } = finish;
        let late = self.order_hidden;
        let drop_now = self.predicate.is_none() && !late;
        let mut plan: Box<dyn Primitive> = Box::new(Aggregate {
            group_by,
            aggregates,
            hidden_columns: if drop_now && self.computed.is_empty() {
                hidden
            } else {
                0
            },
            input,
        });
        if !self.computed.is_empty() {
            plan = Box::new(Projection {
                columns: self.computed,
                hidden_columns: if drop_now { hidden } else { 0 },
                input: plan,
            });
        }
        if let Some(predicate) = self.predicate {
            let hidden_columns = if late { 0 } else { hidden };
            plan = Box::new(Filter {
                predicate,
                hidden_columns,
                input: plan,
            });
        }
        if distinct_groups {
            if late {
                return Err(EngineError::unsupported(
                    "DISTINCT ordered by a column not selected across shards",
                ));
            }
            plan = Box::new(Distinct { input: plan });
        }
        if !self.order.is_empty() {
            let hidden_columns = if late { hidden } else { 0 };
            plan = Box::new(MemorySort {
                order_by: self.order,
                hidden_columns,
                input: plan,
            });
        }
        if let Some((count, offset)) = limit {
            plan = Box::new(Limit {
                count,
                offset,
                input: plan,
            });
        }
        Ok(plan)
    }
}
