//! [`Filter`]: keeps the rows a predicate holds for (Vitess
//! `engine/filter.go`), used for HAVING over merged aggregates. The
//! predicate language is small on purpose: comparisons of columns and
//! literals, IS [NOT] NULL, AND, OR and NOT, with SQL's three-valued logic.
//! Comparisons follow the column's type and collation. A number compared
//! with text is compared as MySQL compares them, both as DOUBLE (the text
//! read as its longest numeric prefix, 0 without one); a comparison the
//! engine cannot make exactly (temporal values with text, say) is an error.

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

/// An exact number literal; a hex or bit literal as the BIGINT UNSIGNED it is
/// next to a number.
fn literal_dec(v: &BindValue) -> Option<Dec> {
    match v {
        BindValue::Int64(_) | BindValue::Uint64(_) | BindValue::Decimal(_) => {
            Dec::parse(v.to_sql().as_bytes()).ok()
        }
        other => other
            .unsigned_in_numeric_context()
            .and_then(|u| Dec::parse(u.to_string().as_bytes()).ok()),
    }
}

/// Text kinds (a collation vtgate knows).
fn textual(kind: CompareKind) -> bool {
    matches!(
        kind,
        CompareKind::Bytes
            | CompareKind::PadBytes
            | CompareKind::GeneralCi
            | CompareKind::GeneralCiNoPad
            | CompareKind::UnicodeCi
            | CompareKind::UnicodeCiNoPad
    )
}

/// A number's or a text's value as MySQL's DOUBLE: text is read as its
/// longest numeric prefix after leading whitespace (`' 5x'` is 5, `'x'` is
/// 0), as MySQL converts it (with a warning, which vtgate does not give).
fn mysql_double(b: &[u8]) -> f64 {
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(b.len());
    let t = &b[start..];
    let mut i = 0;
    if matches!(t.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_digits = t[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if t.get(i) == Some(&b'.') {
        frac_digits = t[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if int_digits + frac_digits > 0 {
            i += 1 + frac_digits;
        }
    }
    if int_digits + frac_digits == 0 {
        return 0.0;
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(t.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_digits = t[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits > 0 {
            i = j + exp_digits;
        }
    }
    std::str::from_utf8(&t[..i])
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// Two values compared as DOUBLE.
fn doubles(x: f64, y: f64) -> Result<Ordering> {
    x.partial_cmp(&y).ok_or_else(cannot_compare)
}

/// A literal as a DOUBLE: numbers and text (not other kinds).
fn literal_double(v: &BindValue) -> Option<f64> {
    match v {
        BindValue::Int64(_)
        | BindValue::Uint64(_)
        | BindValue::Decimal(_)
        | BindValue::Float64(_) => v.to_sql().parse().ok(),
        BindValue::VarChar(s) => Some(mysql_double(s)),
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
            let number = |k: CompareKind| numeric(k) || k == CompareKind::Float;
            if ka == kb {
                ka.compare(Some(x), Some(y))
            } else if numeric(*ka) && numeric(*kb) {
                Ok(Dec::parse(x)?.cmp_value(Dec::parse(y)?))
            } else if (number(*ka) || textual(*ka)) && (number(*kb) || textual(*kb)) {
                // A number with text, or a float with an exact number: as DOUBLE.
                doubles(mysql_double(x), mysql_double(y))
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
            _ => match (v, w) {
                (BindValue::VarChar(_), BindValue::VarChar(_)) => Err(cannot_compare()),
                _ => match (literal_double(v), literal_double(w)) {
                    (Some(x), Some(y)) => doubles(x, y),
                    _ => Err(cannot_compare()),
                },
            },
        },
        _ => Err(cannot_compare()),
    }
}

fn compare_cell_value(cell: &[u8], kind: CompareKind, v: &BindValue) -> Result<Ordering> {
    if numeric(kind) {
        if let Some(lit) = literal_dec(v) {
            return Ok(Dec::parse(cell)?.cmp_value(lit));
        }
    }
    let as_doubles = || {
        doubles(
            mysql_double(cell),
            literal_double(v).ok_or_else(cannot_compare)?,
        )
    };
    match (kind, v) {
        // A number with text or a float, a float with anything: as DOUBLE.
        (k, _) if numeric(k) || k == CompareKind::Float => as_doubles(),
        (k, BindValue::VarChar(s)) if textual(k) => kind.compare(Some(cell), Some(s)),
        (
            k,
            BindValue::Int64(_)
            | BindValue::Uint64(_)
            | BindValue::Decimal(_)
            | BindValue::Float64(_),
        ) if textual(k) => as_doubles(),
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
