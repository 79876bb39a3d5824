//! [`HashJoin`]: a join in vtgate on `left.a = right.b` (Vitess
//! `engine/hash_join.go`). Both inputs run once; the right rows are held
//! in a hash table keyed by their join column (counted against
//! `--max-memory-rows`) and every left row probes it, in left order. A
//! LEFT JOIN keeps left rows without a match, with NULLs on the right.
//!
//! Keys are hashed only when equal keys are provably equal in MySQL:
//! NULL never matches; integers and decimals by value; binary strings and
//! temporal values by their bytes (the same type on both sides); `*_bin`
//! text without trailing spaces; `*_general_ci` and `*_unicode_ci` text by
//! its collation weights. Anything else (floats, mixed types, two collations, other
//! collations) is refused with VT12001, like the engine's other comparisons.

use std::collections::HashMap;

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Type};
use sql::literal::BindVars;

use crate::cell::{general_ci_key, time_micros, unicode_ci_key, CompareKind, Decimal};
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::join::{combine, combine_fields, JoinColumn, NullRow};
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// Hash join on one equality.
#[derive(Debug)]
pub struct HashJoin {
    /// Keep left rows without a right match.
    pub left_join: bool,
    /// Probes the hash table.
    pub left: Box<dyn Primitive>,
    /// Buffered into the hash table.
    pub right: Box<dyn Primitive>,
    /// Output columns.
    pub cols: Vec<JoinColumn>,
    /// The join column of the left input.
    pub left_key: usize,
    /// The join column of the right input.
    pub right_key: usize,
    /// The join condition as written, for VEXPLAIN.
    pub predicate: String,
    /// The right columns of a LEFT JOIN's row without a match.
    pub null_row: NullRow,
}

/// A join column value normalised so that MySQL-equal values are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Number(Decimal),
    Bytes(Vec<u8>),
    Time(i128),
}

/// How the join columns' values become [`Key`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// Integers and decimals, by value.
    Number,
    /// Bytes as they are.
    Bytes,
    /// Bytes without trailing spaces.
    PadBytes,
    /// `*_general_ci` weights, without trailing spaces.
    GeneralCi,
    /// `*_unicode_ci` weights, without trailing spaces.
    UnicodeCi,
    /// `TIME` values.
    Time,
    /// A NULL-typed column: nothing matches.
    Never,
}

fn refuse(what: impl std::fmt::Display) -> EngineError {
    EngineError::unsupported(format!("hash join {what}"))
}

fn typ(f: &Field) -> Type {
    Type::try_from(f.r#type).unwrap_or(Type::NullType)
}

/// The key kind for joining `left` with `right`, or VT12001.
fn key_kind(left: &Field, right: &Field) -> Result<KeyKind> {
    if typ(left) == Type::NullType || typ(right) == Type::NullType {
        return Ok(KeyKind::Never);
    }
    let (lk, rk) = (
        CompareKind::for_field(left)?,
        CompareKind::for_field(right)?,
    );
    let numeric = |k| {
        matches!(
            k,
            CompareKind::Signed | CompareKind::Unsigned | CompareKind::Decimal
        )
    };
    if lk == CompareKind::Float || rk == CompareKind::Float {
        return Err(refuse(format!(
            "on the floating-point column {} or {}",
            left.name, right.name
        )));
    }
    if numeric(lk) && numeric(rk) {
        return Ok(KeyKind::Number);
    }
    let temporal = |t| {
        matches!(
            t,
            Type::Date | Type::Datetime | Type::Timestamp | Type::Time
        )
    };
    let same_type = typ(left) == typ(right) && left.decimals == right.decimals;
    let mixed = lk != rk
        || left.charset != right.charset
        || ((temporal(typ(left)) || temporal(typ(right))) && !same_type);
    if mixed {
        return Err(refuse(format!(
            "comparing {} ({}, collation {}) with {} ({}, collation {})",
            left.name,
            typ(left).as_str_name(),
            left.charset,
            right.name,
            typ(right).as_str_name(),
            right.charset
        )));
    }
    Ok(match lk {
        CompareKind::Bytes => KeyKind::Bytes,
        CompareKind::PadBytes => KeyKind::PadBytes,
        CompareKind::GeneralCi => KeyKind::GeneralCi,
        CompareKind::UnicodeCi => KeyKind::UnicodeCi,
        CompareKind::Time => KeyKind::Time,
        // Numbers and floats were handled above.
        _ => return Err(refuse(format!("on {}", left.name))),
    })
}

fn trim_spaces(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|c| *c != b' ').map_or(0, |i| i + 1);
    &b[..end]
}

impl KeyKind {
    /// How the values of one column become keys (`count(distinct x)` in vtgate).
    pub(crate) fn of(field: &Field) -> Result<KeyKind> {
        key_kind(field, field)
    }

    /// The key of a cell; `None` for NULL (which matches nothing).
    pub(crate) fn key(self, cell: Option<&[u8]>) -> Result<Option<Key>> {
        let Some(b) = cell else {
            return Ok(None);
        };
        Ok(Some(match self {
            KeyKind::Never => return Ok(None),
            KeyKind::Number => Key::Number(Decimal::parse(b)?),
            KeyKind::Bytes => Key::Bytes(b.to_vec()),
            KeyKind::PadBytes => Key::Bytes(trim_spaces(b).to_vec()),
            KeyKind::GeneralCi => Key::Bytes(general_ci_key(b)?),
            KeyKind::UnicodeCi => Key::Bytes(unicode_ci_key(b)?),
            KeyKind::Time => Key::Time(time_micros(b)?),
        }))
    }
}

#[async_trait]
impl Primitive for HashJoin {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let limit = vc.max_memory_rows();
        let right = self.right.execute(vc, vars).await?;
        if right.rows.len() > limit {
            return Err(EngineError::RowLimit(limit));
        }
        let left = self.left.execute(vc, vars).await?;
        let right_rows = right.rows.iter().map(split).collect::<Result<Vec<_>>>()?;
        let width = right.fields.len();
        let key_field = |fields: &[Field], i: usize| {
            fields
                .get(i)
                .cloned()
                .ok_or_else(|| EngineError::BadResult(format!("hash join key {i} missing")))
        };
        // Types are only compared when there is something to probe.
        let kind = if left.rows.is_empty() || right_rows.is_empty() {
            KeyKind::Never
        } else {
            key_kind(
                &key_field(&left.fields, self.left_key)?,
                &key_field(&right.fields, self.right_key)?,
            )?
        };
        let mut table: HashMap<Key, Vec<usize>> = HashMap::new();
        for (i, cells) in right_rows.iter().enumerate() {
            if let Some(k) = kind.key(cells.get(self.right_key).copied().flatten())? {
                table.entry(k).or_default().push(i);
            }
        }
        let mut out = QueryResult::default();
        let mut missing: Option<proto::query::Row> = None;
        for row in &left.rows {
            let cells = split(row)?;
            let matches = match kind.key(cells.get(self.left_key).copied().flatten())? {
                Some(k) => table.get(&k).map_or(&[][..], Vec::as_slice),
                None => &[],
            };
            if matches.is_empty() && self.left_join {
                if missing.is_none() {
                    missing = Some(self.null_row.row(vc, vars, width).await?);
                }
                if let Some(m) = &missing {
                    out.rows.push(combine(&self.cols, &cells, &split(m)?)?);
                }
            }
            for &m in matches {
                out.rows.push(combine(&self.cols, &cells, &right_rows[m])?);
            }
            if out.rows.len() > limit {
                return Err(EngineError::RowLimit(limit));
            }
        }
        out.fields = combine_fields(&self.cols, &left.fields, &right.fields)?;
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        // Vitess's notation: -n is left column n-1, n is right column n-1.
        let cols: Vec<String> = self
            .cols
            .iter()
            .map(|c| match c {
                JoinColumn::Left(i) => format!("-{}", i + 1),
                JoinColumn::Right(i) => format!("{}", i + 1),
            })
            .collect();
        let d = PlanDescription::new("Join")
            .variant(if self.left_join {
                "HashLeftJoin"
            } else {
                "HashJoin"
            })
            .with("JoinColumnIndexes", cols.join(","))
            .with("Predicate", self.predicate.clone())
            .with("LHSKey", self.left_key)
            .with("RHSKey", self.right_key);
        self.null_row
            .describe(d)
            .input(self.left.description())
            .input(self.right.description())
    }
}

#[cfg(test)]
mod tests;
