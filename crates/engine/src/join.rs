//! [`Join`]: a nested-loop join in vtgate (Vitess `engine/join.go`). The
//! left input runs once; for each of its rows the right input runs with
//! the join variables bound to that row's values. A LEFT JOIN keeps left
//! rows without a match, with NULLs on the right (or what the right side's
//! expressions are over NULLs: [`NullRow`]).

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Row, Type};
use proto::sqltypes::flag;
use sql::literal::{BindValue, BindVars};

use crate::cell::{is_text, CompareKind, UTF8MB4_BIN, UTF8MB4_GENERAL_CI};
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// Where an output column comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinColumn {
    /// Column of the left input.
    Left(usize),
    /// Column of the right input.
    Right(usize),
}

/// Nested-loop join.
#[derive(Debug)]
pub struct Join {
    /// Keep left rows without a right match.
    pub left_join: bool,
    /// Runs first.
    pub left: Box<dyn Primitive>,
    /// Runs per left row.
    pub right: Box<dyn Primitive>,
    /// Output columns.
    pub cols: Vec<JoinColumn>,
    /// Bind variables for the right side's conditions: name and left column.
    pub vars: Vec<(String, usize)>,
    /// Bind variables the right side's select items compute with (typed: see
    /// [`typed_cell_to_bind`]): name and left column.
    pub value_vars: Vec<(String, usize)>,
    /// The right columns of a LEFT JOIN's row without a match.
    pub null_row: NullRow,
}

/// What a LEFT JOIN's right columns hold for a left row without a match: NULLs, or, where
/// the right side computes an expression that need not be NULL over a missing row
/// (`coalesce(o.qty, 0)`, `o.note is null`, `case when o.qty > 2 then 'hi' else 'lo' end`),
/// what a query of the right side's select items over its table's NULL row gives (`select
/// … from (select 1) as vt_null left join (select * from t limit 0) as t on 1 = 0`:
/// MariaDB's own value, of the column's
/// type). That query runs once per execution, when a row first lacks a match, or once per
/// such row when it reads the row's join variables.
#[derive(Debug, Default)]
pub struct NullRow {
    /// The query, when the right side has such an expression.
    pub query: Option<Box<dyn Primitive>>,
    /// The query reads the left row's join variables (an expression over both sides,
    /// `coalesce(o.qty, c.qty)`): it runs for each left row without a match, not once.
    pub per_row: bool,
}

impl NullRow {
    /// The right columns of a missing row, `width` of them.
    pub(crate) async fn row(&self, vc: &dyn VCursor, vars: &BindVars, width: usize) -> Result<Row> {
        let Some(query) = &self.query else {
            return Ok(Row::from_values(vec![None; width]));
        };
        let r = query.execute(vc, vars).await?;
        match r.rows.as_slice() {
            [row] if r.fields.len() == width => Ok(row.clone()),
            _ => Err(EngineError::BadResult(format!(
                "the NULL row of a LEFT JOIN: {} rows of {} columns, want 1 of {width}",
                r.rows.len(),
                r.fields.len()
            ))),
        }
    }

    pub(crate) fn describe(&self, d: PlanDescription) -> PlanDescription {
        match &self.query {
            Some(q) => d.with("NullRow", q.description().to_json()),
            None => d,
        }
    }
}

/// A result cell as a bind variable of its column's type. Floating-point
/// values are refused: their text does not always read back as the same
/// number, so a join on them could miss rows.
pub fn cell_to_bind(field: &Field, cell: Option<&[u8]>) -> Result<BindValue> {
    let Some(b) = cell else {
        return Ok(BindValue::Null);
    };
    let text = || String::from_utf8_lossy(b).into_owned();
    Ok(
        match Type::try_from(field.r#type).unwrap_or(Type::NullType) {
            Type::Int8 | Type::Int16 | Type::Int24 | Type::Int32 | Type::Int64 | Type::Year => {
                text()
                    .parse()
                    .map_or_else(|_| BindValue::Decimal(text()), BindValue::Int64)
            }
            Type::Uint8 | Type::Uint16 | Type::Uint24 | Type::Uint32 | Type::Uint64 => text()
                .parse()
                .map_or_else(|_| BindValue::Decimal(text()), BindValue::Uint64),
            Type::Decimal => BindValue::Decimal(text()),
            Type::Float32 | Type::Float64 => {
                return Err(EngineError::unsupported(format!(
                    "joining on the floating-point column {} across shards",
                    field.name
                )))
            }
            // A BIT value is a number in numeric context, as a bare X'..' is.
            Type::Bit => BindValue::hex_of(b),
            Type::Binary | Type::Varbinary | Type::Blob | Type::Geometry => {
                BindValue::VarBinary(b.to_vec())
            }
            // Typed, so that `id > :t` or `:t + 0` treat it as MySQL treats the column.
            t @ (Type::Date | Type::Time | Type::Datetime | Type::Timestamp) => {
                let fsp = field.decimals.min(6);
                BindValue::Temporal {
                    sql_type: match t {
                        Type::Date => "DATE".to_string(),
                        Type::Time => format!("TIME({fsp})"),
                        _ => format!("DATETIME({fsp})"),
                    },
                    text: text(),
                }
            }
            _ => BindValue::VarChar(b.to_vec()),
        },
    )
}

/// [`cell_to_bind`] for a value the other side compares with one of its columns (join
/// variables, subquery values). There a plain literal would take that column's collation,
/// where MariaDB compares the two columns under one collation of the pair. A `general_ci`
/// value ([`CompareKind::GeneralCi`]) keeps MariaDB's answer, since any other collation of
/// the pair overrides it or clashes with it; a `utf8mb4_bin` column's value is bound with
/// `COLLATE utf8mb4_bin`, which wins as `_bin` wins over a `_ci` collation of its character
/// set (and over latin1's, converted to utf8mb4); text of any other collation (no-pad,
/// `unicode_ci`, flagged BINARY without telling which, unknown) is refused.
pub fn compared_cell_to_bind(field: &Field, cell: Option<&[u8]>) -> Result<BindValue> {
    if is_text(field) && field.charset == UTF8MB4_BIN {
        // MySQL compares a `utf8mb4_bin` column with a `_ci` one of the same character set
        // under `_bin`: the literal carries the collation, which wins as the column would.
        return match cell {
            None => Ok(BindValue::Null),
            Some(b) => match std::str::from_utf8(b) {
                Ok(text) => Ok(BindValue::Collated {
                    text: text.to_string(),
                    collation: "utf8mb4_bin",
                }),
                Err(_) => Err(EngineError::BadResult(format!(
                    "{}: utf8mb4_bin text that is not UTF-8",
                    field.name
                ))),
            },
        };
    }
    if is_text(field) && CompareKind::for_field(field).ok() != Some(CompareKind::GeneralCi) {
        return Err(EngineError::unsupported(format!(
            "comparing {} (collation {}{}) with a column on other shards",
            field.name,
            field.charset,
            if field.flags & flag::BINARY != 0 {
                ", binary"
            } else {
                ""
            }
        )));
    }
    cell_to_bind(field, cell)
}

/// [`compared_cell_to_bind`] for a value the other side computes with in a select item,
/// wrapped in a cast to its column's type ([`BindValue::Typed`]), so that the expression
/// types its result as over the column, NULL or not. Refused where a cast cannot stand for
/// the column: floating point, BIT, ENUM and SET (numbers in numeric context), JSON and
/// geometry, and text of other collations than `utf8mb4_general_ci` and `utf8mb4_bin`.
pub fn typed_cell_to_bind(field: &Field, cell: Option<&[u8]>) -> Result<BindValue> {
    let refuse = || {
        EngineError::unsupported(format!(
            "computing with {} (of type {}) across shards",
            field.name,
            Type::try_from(field.r#type).map_or("unknown", |t| t.as_str_name())
        ))
    };
    let unsigned = field.flags & flag::UNSIGNED != 0;
    let mut collation = None;
    let sql_type = match Type::try_from(field.r#type).map_err(|_| refuse())? {
        Type::NullType => return Ok(BindValue::Null),
        Type::Int8 | Type::Int16 | Type::Int24 | Type::Int32 | Type::Int64 | Type::Year => {
            "SIGNED".to_string()
        }
        Type::Uint8 | Type::Uint16 | Type::Uint24 | Type::Uint32 | Type::Uint64 => {
            "UNSIGNED".to_string()
        }
        Type::Decimal => {
            // MySQL's display length: the digits, a point when there is a fraction, a sign
            // unless unsigned.
            let scale = field.decimals.min(38);
            let extra = u32::from(scale > 0) + u32::from(!unsigned);
            let precision = field
                .column_length
                .saturating_sub(extra)
                .clamp(scale.max(1), 65);
            format!("DECIMAL({precision},{scale})")
        }
        Type::Text | Type::Varchar | Type::Char if field.charset == UTF8MB4_BIN => {
            collation = Some("utf8mb4_bin");
            "CHAR CHARACTER SET utf8mb4".to_string()
        }
        Type::Text | Type::Varchar | Type::Char if field.charset == UTF8MB4_GENERAL_CI => {
            "CHAR CHARACTER SET utf8mb4".to_string()
        }
        Type::Binary | Type::Varbinary | Type::Blob => "BINARY".to_string(),
        Type::Date => "DATE".to_string(),
        Type::Time => format!("TIME({})", field.decimals.min(6)),
        Type::Datetime | Type::Timestamp => format!("DATETIME({})", field.decimals.min(6)),
        _ => return Err(refuse()),
    };
    let value = match compared_cell_to_bind(field, cell)? {
        // The cast's COLLATE carries the collation.
        BindValue::Collated { text, .. } => BindValue::VarChar(text.into_bytes()),
        v => v,
    };
    Ok(BindValue::Typed {
        value: Box::new(value),
        sql_type,
        collation,
    })
}

/// Binds the join variables of `row` (of `fields`; `None` binds NULLs) into `bound`: `vars`
/// as values compared with ([`compared_cell_to_bind`]), `value_vars` as values computed with
/// ([`typed_cell_to_bind`]).
pub(crate) fn bind_join_vars(
    bound: &mut BindVars,
    fields: &[Field],
    row: Option<&[Option<&[u8]>]>,
    vars: &[(String, usize)],
    value_vars: &[(String, usize)],
) -> Result<()> {
    let typed: fn(&Field, Option<&[u8]>) -> Result<BindValue> = typed_cell_to_bind;
    let compared: fn(&Field, Option<&[u8]>) -> Result<BindValue> = compared_cell_to_bind;
    for (list, to_bind) in [(vars, compared), (value_vars, typed)] {
        for (name, col) in list {
            let field = fields
                .get(*col)
                .ok_or_else(|| EngineError::BadResult(format!("join column {col} missing")))?;
            let cell = row.and_then(|r| r.get(*col).copied().flatten());
            bound.insert(name.clone(), to_bind(field, cell)?);
        }
    }
    Ok(())
}

#[async_trait]
impl Primitive for Join {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let left = self.left.execute(vc, vars).await?;
        let mut out = QueryResult::default();
        let mut right_fields: Option<Vec<Field>> = None;
        let mut missing: Option<Row> = None;
        let limit = vc.max_memory_rows();
        for row in &left.rows {
            let cells = split(row)?;
            let mut bound = vars.clone();
            bind_join_vars(
                &mut bound,
                &left.fields,
                Some(&cells),
                &self.vars,
                &self.value_vars,
            )?;
            let right = self.right.execute(vc, &bound).await?;
            let width = right.fields.len();
            right_fields.get_or_insert(right.fields);
            if right.rows.is_empty() && self.left_join {
                if self.null_row.per_row {
                    let m = self.null_row.row(vc, &bound, width).await?;
                    out.rows.push(combine(&self.cols, &cells, &split(&m)?)?);
                } else {
                    if missing.is_none() {
                        missing = Some(self.null_row.row(vc, vars, width).await?);
                    }
                    if let Some(m) = &missing {
                        out.rows.push(combine(&self.cols, &cells, &split(m)?)?);
                    }
                }
            }
            for r in &right.rows {
                out.rows.push(combine(&self.cols, &cells, &split(r)?)?);
            }
            if out.rows.len() > limit {
                return Err(EngineError::RowLimit(limit));
            }
        }
        let right_fields = match right_fields {
            Some(f) => f,
            None => {
                // No left rows: ask the right side for its fields with NULL variables.
                let mut bound = vars.clone();
                bind_join_vars(&mut bound, &left.fields, None, &self.vars, &self.value_vars)?;
                self.right.execute(vc, &bound).await?.fields
            }
        };
        out.fields = combine_fields(&self.cols, &left.fields, &right_fields)?;
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        let cols: Vec<String> = self
            .cols
            .iter()
            .map(|c| match c {
                JoinColumn::Left(i) => format!("L:{i}"),
                JoinColumn::Right(i) => format!("R:{i}"),
            })
            .collect();
        let d = PlanDescription::new("Join")
            .variant(if self.left_join { "LeftJoin" } else { "Join" })
            .with("JoinColumnIndexes", cols.join(","))
            .join_vars(&[self.vars.as_slice(), &self.value_vars].concat());
        self.null_row
            .describe(d)
            .input(self.left.description())
            .input(self.right.description())
    }
}

/// The output fields of a join: the `cols` picked from the left and the right fields.
pub(crate) fn combine_fields(
    cols: &[JoinColumn],
    left: &[Field],
    right: &[Field],
) -> Result<Vec<Field>> {
    cols.iter()
        .map(|c| match c {
            JoinColumn::Left(i) => left.get(*i).cloned(),
            JoinColumn::Right(i) => right.get(*i).cloned(),
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| EngineError::BadResult("join column out of range".into()))
}

/// One output row of a join: the `cols` picked from a left and a right row.
pub(crate) fn combine(
    cols: &[JoinColumn],
    left: &[Option<&[u8]>],
    right: &[Option<&[u8]>],
) -> Result<Row> {
    let cells = cols
        .iter()
        .map(|c| match c {
            JoinColumn::Left(i) => left.get(*i).copied(),
            JoinColumn::Right(i) => right.get(*i).copied(),
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| EngineError::BadResult("join row too short".into()))?;
    Ok(Row::from_values(cells))
}

#[cfg(test)]
mod tests;
