//! [`Filter`]: keeps the rows a predicate holds for (Vitess
//! `engine/filter.go`), used for HAVING over merged aggregates. The
//! predicate language is small on purpose: comparisons of columns and
//! literals, IS [NOT] NULL, AND, OR and NOT, with SQL's three-valued logic.
//! Comparisons follow the column's type and collation; a comparison the
//! engine cannot make exactly (text with a number, say) is an error.

use std::cmp::Ordering;

use async_trait::async_trait;
use proto::query::{Field, QueryResult};
use sql::literal::{BindValue, BindVars};

use crate::bind::PlanValue;
use crate::cell::CompareKind;
use crate::decimal::Dec;
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::route::truncate_columns;
use crate::vcursor::VCursor;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`, `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn holds(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o.is_eq(),
            CmpOp::Ne => o.is_ne(),
            CmpOp::Lt => o.is_lt(),
            CmpOp::Le => o.is_le(),
            CmpOp::Gt => o.is_gt(),
            CmpOp::Ge => o.is_ge(),
        }
    }
}

/// A value in a predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A column of the input row.
    Column(usize),
    /// A literal or bind variable.
    Value(PlanValue),
}

/// A boolean expression over one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// `a op b`.
    Compare(Operand, CmpOp, Operand),
    /// `a IS NULL` (`negated`: IS NOT NULL).
    IsNull(Operand, bool),
    /// `a AND b`.
    And(Box<Predicate>, Box<Predicate>),
    /// `a OR b`.
    Or(Box<Predicate>, Box<Predicate>),
    /// `NOT a`.
    Not(Box<Predicate>),
}

/// A resolved operand: its bytes (None: NULL) and how it compares.
enum Resolved<'a> {
    Cell(Option<&'a [u8]>, CompareKind),
    Value(BindValue),
}

fn numeric(kind: CompareKind) -> bool {
    matches!(
        kind,
        CompareKind::Signed | CompareKind::Unsigned | CompareKind::Decimal
    )
}

fn literal_dec(v: &BindValue) -> Option<Dec> {
    match v {
        BindValue::Int64(_) | BindValue::Uint64(_) | BindValue::Decimal(_) => {
            Dec::parse(v.to_sql().as_bytes()).ok()
        }
        _ => None,
    }
}

fn cannot_compare() -> EngineError {
    EngineError::unsupported("comparing values of different types in vtgate")
}

/// Compares two non-NULL operands.
fn compare(a: &Resolved, b: &Resolved) -> Result<Ordering> {
    match (a, b) {
        (Resolved::Cell(Some(x), ka), Resolved::Cell(Some(y), kb)) => {
            if ka == kb {
                ka.compare(Some(x), Some(y))
            } else if numeric(*ka) && numeric(*kb) {
                Ok(Dec::parse(x)?.cmp_value(Dec::parse(y)?))
            } else {
                Err(cannot_compare())
            }
        }
        (Resolved::Cell(Some(x), k), Resolved::Value(v)) => compare_cell_value(x, *k, v),
        (Resolved::Value(v), Resolved::Cell(Some(x), k)) => {
            compare_cell_value(x, *k, v).map(Ordering::reverse)
        }
        (Resolved::Value(v), Resolved::Value(w)) => match (literal_dec(v), literal_dec(w)) {
            (Some(x), Some(y)) => Ok(x.cmp_value(y)),
            _ => Err(cannot_compare()),
        },
        _ => Err(cannot_compare()),
    }
}

fn compare_cell_value(cell: &[u8], kind: CompareKind, v: &BindValue) -> Result<Ordering> {
    if numeric(kind) {
        let lit = literal_dec(v).ok_or_else(cannot_compare)?;
        return Ok(Dec::parse(cell)?.cmp_value(lit));
    }
    match (kind, v) {
        (CompareKind::Float, _) => {
            let x: f64 = std::str::from_utf8(cell)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(cannot_compare)?;
            let y: f64 = v.to_sql().parse().map_err(|_| cannot_compare())?;
            x.partial_cmp(&y).ok_or_else(cannot_compare)
        }
        (
            CompareKind::Bytes
            | CompareKind::PadBytes
            | CompareKind::AsciiCi
            | CompareKind::AsciiCiNoPad,
            BindValue::VarChar(s),
        ) => kind.compare(Some(cell), Some(s)),
        _ => Err(cannot_compare()),
    }
}

impl Predicate {
    /// Evaluates the predicate: `None` is SQL NULL.
    fn eval(
        &self,
        row: &[Option<&[u8]>],
        kinds: &[Option<CompareKind>],
        vars: &BindVars,
    ) -> Result<Option<bool>> {
        let resolve = |o: &Operand| -> Result<Resolved> {
            Ok(match o {
                Operand::Column(i) => {
                    let kind = kinds
                        .get(*i)
                        .copied()
                        .flatten()
                        .ok_or_else(cannot_compare)?;
                    Resolved::Cell(row.get(*i).copied().flatten(), kind)
                }
                Operand::Value(v) => Resolved::Value(v.resolve(vars)?),
            })
        };
        let is_null = |r: &Resolved| {
            matches!(
                r,
                Resolved::Cell(None, _) | Resolved::Value(BindValue::Null)
            )
        };
        Ok(match self {
            Predicate::Compare(a, op, b) => {
                let (a, b) = (resolve(a)?, resolve(b)?);
                if is_null(&a) || is_null(&b) {
                    None
                } else {
                    Some(op.holds(compare(&a, &b)?))
                }
            }
            Predicate::IsNull(a, negated) => Some(is_null(&resolve(a)?) != *negated),
            Predicate::And(a, b) => match (a.eval(row, kinds, vars)?, b.eval(row, kinds, vars)?) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Predicate::Or(a, b) => match (a.eval(row, kinds, vars)?, b.eval(row, kinds, vars)?) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Predicate::Not(a) => a.eval(row, kinds, vars)?.map(|v| !v),
        })
    }
}

/// Keeps rows for which the predicate is true, then drops trailing columns.
#[derive(Debug)]
pub struct Filter {
    /// The condition.
    pub predicate: Predicate,
    /// Trailing columns (used only by the predicate) dropped afterwards.
    pub hidden_columns: usize,
    /// The input.
    pub input: Box<dyn Primitive>,
}

fn kinds(fields: &[Field]) -> Vec<Option<CompareKind>> {
    fields
        .iter()
        .map(|f| CompareKind::for_field(f).ok())
        .collect()
}

#[async_trait]
impl Primitive for Filter {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut r = self.input.execute(vc, vars).await?;
        let kinds = kinds(&r.fields);
        let mut keep = Vec::with_capacity(r.rows.len());
        for row in std::mem::take(&mut r.rows) {
            if self.predicate.eval(&split(&row)?, &kinds, vars)? == Some(true) {
                keep.push(row);
            }
        }
        r.rows = keep;
        truncate_columns(&mut r, self.hidden_columns)?;
        Ok(r)
    }

    fn description(&self) -> PlanDescription {
        PlanDescription::new("Filter")
            .with("Predicate", format!("{:?}", self.predicate))
            .input(self.input.description())
    }
}

#[cfg(test)]
mod tests;
