//! [`Aggregate`]: merges per-shard partial aggregates (Vitess
//! `ordered_aggregate.go` and `scalar_aggregation.go`). The input is sorted
//! on the grouping columns (and on the COUNT(DISTINCT) column, which shards
//! group by), so each group's rows are adjacent. Without grouping columns
//! it is a scalar aggregate and always returns exactly one row.
//!
//! Partial results combine as MySQL would compute them on one server:
//! counts add up (BIGINT), SUMs add exactly (DECIMAL stays DECIMAL), MIN
//! and MAX compare by the column's type and collation, AVG is the summed
//! SUM over the summed COUNT at the SUM's scale + 4, NULLs are ignored and
//! an empty input gives 0 for counts and NULL for the rest. GROUP_CONCAT
//! joins the shards' partial concatenations with its separator, in shard
//! order (one MySQL's order is unspecified too, without ORDER BY), and
//! refuses a result longer than `group_concat_max_len`, where one MySQL
//! would cut it.

use std::cmp::Ordering;
use std::collections::HashSet;

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Row, Type};
use sql::literal::BindVars;

use crate::cell::CompareKind;
use crate::decimal::{Dec, DIV_PRECISION_INCREMENT};
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::hash_join::{Key, KeyKind};
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// How one output column is aggregated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AggregateOpcode {
    /// Sum of partial `count(*)`.
    CountStar,
    /// Sum of partial `count(x)`.
    Count,
    /// Sum of partial `sum(x)`.
    Sum,
    /// Least partial `min(x)`.
    Min,
    /// Greatest partial `max(x)`.
    Max,
    /// `sum(x)` in this column over the partial `count(x)` in column `count_col`.
    Avg {
        /// Column of the partial counts.
        count_col: usize,
    },
    /// Number of distinct non-NULL values of this column (shards group by it).
    CountDistinct,
    /// Number of distinct non-NULL values of this column, in rows in any order: each group
    /// keeps a set of the values' keys (a second `count(distinct y)` over raw rows, whose
    /// order serves the first).
    CountDistinctHashed,
    /// Sum of the distinct non-NULL values of this column (shards group by
    /// it); integer, DECIMAL and DOUBLE columns only.
    SumDistinct,
    /// [`AggregateOpcode::SumDistinct`] over rows in any order: each group keeps a set of
    /// the values' keys, as [`AggregateOpcode::CountDistinctHashed`] does.
    SumDistinctHashed,
    /// A column neither grouped nor aggregated in a scalar aggregation
    /// (MySQL without ONLY_FULL_GROUP_BY): the value of the first partial
    /// row that counted rows (`count_col`, a partial `count(*)`), so a
    /// shard without matching rows cannot give its NULL.
    AnyValue {
        /// Column of the partial `count(*)`.
        count_col: usize,
    },
    /// Partial `group_concat(...)` values joined by `separator`; over raw rows (a join, a
    /// derived table, or DISTINCT / ORDER BY inside), the rows' values in input order.
    GroupConcat {
        /// The SEPARATOR, `,` unless given.
        separator: Vec<u8>,
        /// `group_concat(distinct ...)`: the input is sorted by the value, and a value equal
        /// (by the column's collation) to the one before it is left out.
        distinct: bool,
    },
}

impl AggregateOpcode {
    fn name(&self) -> &'static str {
        match self {
            AggregateOpcode::CountStar => "sum_count_star",
            AggregateOpcode::Count => "sum_count",
            AggregateOpcode::Sum => "sum",
            AggregateOpcode::Min => "min",
            AggregateOpcode::Max => "max",
            AggregateOpcode::Avg { .. } => "avg",
            AggregateOpcode::CountDistinct => "count_distinct",
            AggregateOpcode::CountDistinctHashed => "count_distinct_hashed",
            AggregateOpcode::SumDistinct => "sum_distinct",
            AggregateOpcode::SumDistinctHashed => "sum_distinct_hashed",
            AggregateOpcode::GroupConcat { .. } => "group_concat",
            AggregateOpcode::AnyValue { .. } => "any_value",
        }
    }
}

/// One aggregated output column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateParam {
    /// How it is aggregated.
    pub opcode: AggregateOpcode,
    /// Its column in the input (and output).
    pub col: usize,
    /// The column name clients see.
    pub alias: String,
}

/// Groups adjacent input rows and merges their partial aggregates.
#[derive(Debug)]
pub struct Aggregate {
    /// Grouping columns (empty: scalar aggregate).
    pub group_by: Vec<usize>,
    /// Aggregated columns; other columns keep the group's first value.
    pub aggregates: Vec<AggregateParam>,
    /// Trailing input columns dropped from the output.
    pub hidden_columns: usize,
    /// The input, sorted on `group_by`.
    pub input: Box<dyn Primitive>,
}

/// The running state of one aggregate within a group.
#[derive(Debug, Clone)]
pub(crate) enum Acc {
    Count(i64),
    Sum(Option<SumValue>),
    Extreme(Option<Vec<u8>>),
    Avg(Option<SumValue>, i64),
    Distinct {
        count: i64,
        last: Option<Vec<u8>>,
    },
    /// How the column's values become keys (`None` without input rows), and the keys seen.
    DistinctSet(Option<KeyKind>, HashSet<Key>),
    /// How the column's values become keys, the keys seen and the sum of their values.
    SumDistinctSet(Option<KeyKind>, HashSet<Key>, Option<SumValue>),
    SumDistinct {
        sum: Option<SumValue>,
        last: Option<Vec<u8>>,
    },
    /// The joined values, and the last one taken (for DISTINCT).
    Concat(Option<Vec<u8>>, Option<Vec<u8>>),
    /// `Some(value)` once taken (the value itself may be NULL).
    Any(Option<Option<Vec<u8>>>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum SumValue {
    Exact(Dec),
    Float(f64),
}

fn is_integer(f: &Field) -> bool {
    Type::try_from(f.r#type).is_ok_and(proto::sqltypes::is_integral)
}

fn is_float(f: &Field) -> bool {
    matches!(Type::try_from(f.r#type), Ok(Type::Float32 | Type::Float64))
}

fn parse_sum(cell: &[u8], float: bool) -> Result<SumValue> {
    if float {
        let s = std::str::from_utf8(cell)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        s.map(SumValue::Float)
            .ok_or_else(|| EngineError::BadResult("bad float in a sum".into()))
    } else {
        Dec::parse(cell).map(SumValue::Exact)
    }
}

fn add_sum(acc: Option<SumValue>, v: SumValue) -> Result<SumValue> {
    Ok(match (acc, v) {
        (None, v) => v,
        (Some(SumValue::Exact(a)), SumValue::Exact(b)) => SumValue::Exact(a.checked_add(b)?),
        (Some(SumValue::Float(a)), SumValue::Float(b)) => SumValue::Float(a + b),
        _ => {
            return Err(EngineError::BadResult(
                "mixed sum types across shards".into(),
            ))
        }
    })
}

fn parse_count(cell: Option<&[u8]>) -> Result<i64> {
    let Some(c) = cell else { return Ok(0) };
    std::str::from_utf8(c)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| EngineError::BadResult("bad count from a shard".into()))
}

/// A double as MariaDB prints it (`my_gcvt`): the shortest digits that read back as the
/// same value, in fixed form when the decimal point falls within 15 places of them
/// (`1000000000000252.9`, `0.000000000000001`), else in exponent form (`1e15`,
/// `9.999999999999998e15`, `1e-16`).
pub(crate) fn float_text(f: f64) -> String {
    if f == 0.0 {
        // `-0` too.
        return "0".to_string();
    }
    if !f.is_finite() {
        return format!("{f}");
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).count() as i64;
    // Where the decimal point falls after the first digit: 1 for 1.5, -3 for 0.0001.
    let point = exponent.parse::<i64>().unwrap_or(0) + 1;
    if point >= -14 && (point <= 15 || digits > point) {
        format!("{f}")
    } else {
        format!("{f:e}")
    }
}

fn sum_text(s: SumValue) -> String {
    match s {
        SumValue::Exact(d) => d.to_text(),
        SumValue::Float(f) => float_text(f),
    }
}

impl Aggregate {
    /// The output row of a group: its first row with aggregated columns replaced.
    fn finish(&self, first: &[Option<&[u8]>], accs: &[Acc], agg: &Aggregator) -> Result<Row> {
        let mut cells: Vec<Option<Vec<u8>>> = first.iter().map(|c| c.map(<[u8]>::to_vec)).collect();
        for (param, value) in self.aggregates.iter().zip(agg.values(accs)?) {
            if let Some(slot) = cells.get_mut(param.col) {
                *slot = value;
            }
        }
        let keep = cells.len().saturating_sub(self.hidden_columns);
        Ok(Row::from_values(
            cells.iter().take(keep).map(|c| c.as_deref()),
        ))
    }

    /// Output fields (see [`aggregate_fields`]), without the hidden columns.
    fn output_fields(&self, input: &[Field]) -> Vec<Field> {
        let mut fields = aggregate_fields(&self.aggregates, input);
        let keep = fields.len().saturating_sub(self.hidden_columns);
        fields.truncate(keep);
        fields
    }
}

/// Running aggregates of one output row at a time, over partial rows from shards or raw
/// rows ([`Aggregate`], and window functions, `crate::window`).
pub(crate) struct Aggregator<'a> {
    params: &'a [AggregateParam],
    fields: &'a [Field],
    kinds: Vec<Option<CompareKind>>,
    key_kinds: Vec<Option<KeyKind>>,
    concat_max_len: u64,
}

impl<'a> Aggregator<'a> {
    /// Accumulators for `params` over rows with `fields`; `has_rows`: the input has rows
    /// (a hashed DISTINCT aggregate's keys are asked for only then); `concat_max_len`: the
    /// longest GROUP_CONCAT allowed.
    pub(crate) fn new(
        params: &'a [AggregateParam],
        fields: &'a [Field],
        has_rows: bool,
        concat_max_len: u64,
    ) -> Result<Self> {
        let kinds = params
            .iter()
            .map(|a| match a.opcode {
                AggregateOpcode::Min | AggregateOpcode::Max | AggregateOpcode::CountDistinct => {
                    fields.get(a.col).map(CompareKind::for_field).transpose()
                }
                AggregateOpcode::Sum | AggregateOpcode::Avg { .. } => {
                    // Shards' partial sums are numbers; raw text or temporal values (over a
                    // join or derived table) would need MySQL's conversions.
                    match fields.get(a.col).map(|f| f.r#type()) {
                        Some(t) if t == Type::NullType || proto::sqltypes::is_number(t) => Ok(None),
                        Some(t) => Err(EngineError::unsupported(format!(
                            "SUM or AVG of a {} value in vtgate",
                            t.as_str_name()
                        ))),
                        None => Ok(None),
                    }
                }
                AggregateOpcode::GroupConcat { .. } => {
                    // Shards' partial GROUP_CONCATs are strings; raw numbers
                    // or dates would need GROUP_CONCAT's own result metadata.
                    let string = fields.get(a.col).is_some_and(|f| {
                        matches!(
                            f.r#type(),
                            Type::Text
                                | Type::Varchar
                                | Type::Char
                                | Type::Blob
                                | Type::Varbinary
                                | Type::Binary
                        )
                    });
                    let distinct = matches!(
                        a.opcode,
                        AggregateOpcode::GroupConcat { distinct: true, .. }
                    );
                    if string && distinct {
                        fields.get(a.col).map(CompareKind::for_field).transpose()
                    } else if string {
                        Ok(None)
                    } else {
                        Err(EngineError::unsupported(
                            "GROUP_CONCAT over values that are not strings across shards",
                        ))
                    }
                }
                AggregateOpcode::SumDistinct | AggregateOpcode::SumDistinctHashed => {
                    let f = fields
                        .get(a.col)
                        .ok_or_else(|| EngineError::BadResult(format!("no column {}", a.col)))?;
                    // Text to number must be exact: FLOAT values are not.
                    let exact = is_integer(f)
                        || matches!(Type::try_from(f.r#type), Ok(Type::Decimal | Type::Float64));
                    if !exact {
                        return Err(EngineError::unsupported(format!(
                            "SUM(DISTINCT) of a {:?} column across shards",
                            Type::try_from(f.r#type).unwrap_or(Type::NullType)
                        )));
                    }
                    CompareKind::for_field(f).map(Some)
                }
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        // Asked only when there are rows: a column whose values make no keys (FLOAT) still
        // counts 0 distinct values of none.
        let key_kinds = params
            .iter()
            .map(|a| match a.opcode {
                AggregateOpcode::CountDistinctHashed | AggregateOpcode::SumDistinctHashed
                    if has_rows =>
                {
                    let f = fields
                        .get(a.col)
                        .ok_or_else(|| EngineError::BadResult(format!("no column {}", a.col)))?;
                    KeyKind::of(f).map(Some).map_err(|_| {
                        EngineError::unsupported(format!(
                            "a DISTINCT aggregate of {} ({}) beside another in vtgate",
                            f.name,
                            f.r#type().as_str_name()
                        ))
                    })
                }
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Aggregator {
            params,
            fields,
            kinds,
            key_kinds,
            concat_max_len,
        })
    }

    /// Fresh accumulators for an output row.
    pub(crate) fn fresh(&self) -> Vec<Acc> {
        self.params
            .iter()
            .zip(&self.key_kinds)
            .map(|(a, &key_kind)| match a.opcode {
                AggregateOpcode::CountStar | AggregateOpcode::Count => Acc::Count(0),
                AggregateOpcode::Sum => Acc::Sum(None),
                AggregateOpcode::Min | AggregateOpcode::Max => Acc::Extreme(None),
                AggregateOpcode::Avg { .. } => Acc::Avg(None, 0),
                AggregateOpcode::CountDistinct => Acc::Distinct {
                    count: 0,
                    last: None,
                },
                AggregateOpcode::CountDistinctHashed => Acc::DistinctSet(key_kind, HashSet::new()),
                AggregateOpcode::SumDistinctHashed => {
                    Acc::SumDistinctSet(key_kind, HashSet::new(), None)
                }
                AggregateOpcode::SumDistinct => Acc::SumDistinct {
                    sum: None,
                    last: None,
                },
                AggregateOpcode::GroupConcat { .. } => Acc::Concat(None, None),
                AggregateOpcode::AnyValue { .. } => Acc::Any(None),
            })
            .collect()
    }

    /// Adds one input row.
    pub(crate) fn add(&self, accs: &mut [Acc], row: &[Option<&[u8]>]) -> Result<()> {
        let (fields, concat_max_len) = (self.fields, self.concat_max_len);
        for ((param, acc), kind) in self.params.iter().zip(accs.iter_mut()).zip(&self.kinds) {
            let cell = row.get(param.col).copied().flatten();
            let float = fields.get(param.col).is_some_and(is_float);
            match acc {
                Acc::Count(n) => *n += parse_count(cell)?,
                Acc::Sum(s) => {
                    if let Some(c) = cell {
                        *s = Some(add_sum(*s, parse_sum(c, float)?)?);
                    }
                }
                Acc::Extreme(best) => {
                    let (Some(c), Some(kind)) = (cell, kind) else {
                        continue;
                    };
                    let replace = match best {
                        None => true,
                        Some(b) => {
                            let o = kind.compare(Some(c), Some(b))?;
                            if matches!(param.opcode, AggregateOpcode::Min) {
                                o == Ordering::Less
                            } else {
                                o == Ordering::Greater
                            }
                        }
                    };
                    if replace {
                        *best = Some(c.to_vec());
                    }
                }
                Acc::Avg(s, n) => {
                    let AggregateOpcode::Avg { count_col } = param.opcode else {
                        continue;
                    };
                    if let Some(c) = cell {
                        *s = Some(add_sum(*s, parse_sum(c, float)?)?);
                    }
                    *n += parse_count(row.get(count_col).copied().flatten())?;
                }
                Acc::Distinct { count, last } => {
                    let (Some(c), Some(kind)) = (cell, kind) else {
                        continue;
                    };
                    let new = match last {
                        None => true,
                        Some(prev) => kind.compare(Some(c), Some(prev))? != Ordering::Equal,
                    };
                    if new {
                        *count += 1;
                        *last = Some(c.to_vec());
                    }
                }
                Acc::DistinctSet(key_kind, seen) => {
                    let (Some(c), Some(key_kind)) = (cell, key_kind) else {
                        continue;
                    };
                    if let Some(key) = key_kind.key(Some(c))? {
                        seen.insert(key);
                    }
                }
                Acc::SumDistinctSet(key_kind, seen, sum) => {
                    let (Some(c), Some(key_kind)) = (cell, key_kind) else {
                        continue;
                    };
                    if let Some(key) = key_kind.key(Some(c))? {
                        if seen.insert(key) {
                            *sum = Some(add_sum(*sum, parse_sum(c, float)?)?);
                        }
                    }
                }
                Acc::SumDistinct { sum, last } => {
                    let (Some(c), Some(kind)) = (cell, kind) else {
                        continue;
                    };
                    let new = match last {
                        None => true,
                        Some(prev) => kind.compare(Some(c), Some(prev))? != Ordering::Equal,
                    };
                    if new {
                        *sum = Some(add_sum(*sum, parse_sum(c, float)?)?);
                        *last = Some(c.to_vec());
                    }
                }
                Acc::Any(taken) => {
                    let AggregateOpcode::AnyValue { count_col } = param.opcode else {
                        continue;
                    };
                    if taken.is_none() && parse_count(row.get(count_col).copied().flatten())? > 0 {
                        *taken = Some(cell.map(<[u8]>::to_vec));
                    }
                }
                Acc::Concat(joined, last) => {
                    let (
                        Some(c),
                        AggregateOpcode::GroupConcat {
                            separator,
                            distinct,
                        },
                    ) = (cell, &param.opcode)
                    else {
                        continue;
                    };
                    if *distinct {
                        if let Some(prev) = last.as_deref() {
                            let kind = kind.ok_or_else(|| {
                                EngineError::BadResult(
                                    "GROUP_CONCAT DISTINCT without a collation".into(),
                                )
                            })?;
                            if kind.compare(Some(c), Some(prev))? == Ordering::Equal {
                                continue;
                            }
                        }
                        *last = Some(c.to_vec());
                    }
                    match joined {
                        None => *joined = Some(c.to_vec()),
                        Some(j) => {
                            j.extend_from_slice(separator);
                            j.extend_from_slice(c);
                            if j.len() as u64 > concat_max_len {
                                return Err(EngineError::unsupported(format!(
                                    "GROUP_CONCAT across shards longer than \
                                     group_concat_max_len ({concat_max_len} bytes)"
                                )));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Each aggregate's value (in `params` order).
    pub(crate) fn values(&self, accs: &[Acc]) -> Result<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::with_capacity(accs.len());
        for (param, acc) in self.params.iter().zip(accs) {
            let value: Option<Vec<u8>> = match acc {
                Acc::Count(n) | Acc::Distinct { count: n, .. } => Some(n.to_string().into_bytes()),
                Acc::DistinctSet(_, seen) => Some(seen.len().to_string().into_bytes()),
                Acc::Sum(s) | Acc::SumDistinct { sum: s, .. } | Acc::SumDistinctSet(.., s) => {
                    s.map(|s| sum_text(s).into_bytes())
                }
                Acc::Extreme(v) | Acc::Concat(v, _) => v.clone(),
                Acc::Any(v) => v.clone().flatten(),
                Acc::Avg(s, n) => match (s, *n) {
                    (None, _) | (_, 0) => None,
                    (Some(SumValue::Exact(d)), n) => {
                        let scale = avg_scale(self.fields.get(param.col));
                        // Shown rounded from MySQL's truncated quotient (`decimal_div`).
                        let q = d
                            .div_truncated(Dec::from_int(i128::from(n)), DIV_PRECISION_INCREMENT)?
                            .ok_or_else(|| EngineError::BadResult("AVG over no rows".into()))?;
                        Some(
                            q.round(i64::from(scale))?
                                .with_scale(scale)?
                                .to_text()
                                .into_bytes(),
                        )
                    }
                    (Some(SumValue::Float(f)), n) => Some(float_text(f / n as f64).into_bytes()),
                },
            };
            out.push(value);
        }
        Ok(out)
    }
}

/// Output fields of `params` over `input`: counts are BIGINT, AVG of exact values
/// DECIMAL(…, scale+4), SUM of integers DECIMAL.
pub(crate) fn aggregate_fields(params: &[AggregateParam], input: &[Field]) -> Vec<Field> {
    let mut fields = input.to_vec();
    for p in params {
        let Some(f) = fields.get_mut(p.col) else {
            continue;
        };
        f.name = p.alias.clone();
        match p.opcode {
            AggregateOpcode::CountStar
            | AggregateOpcode::Count
            | AggregateOpcode::CountDistinct
            | AggregateOpcode::CountDistinctHashed => {
                f.r#type = Type::Int64 as i32;
                f.charset = proto::sqltypes::BINARY_COLLATION;
                f.decimals = 0;
            }
            AggregateOpcode::Avg { .. } if !is_float(f) => {
                f.decimals = avg_scale(Some(f));
                f.r#type = Type::Decimal as i32;
                f.charset = proto::sqltypes::BINARY_COLLATION;
            }
            // SUM of integers is DECIMAL (inputs that are raw column
            // values rather than shard partial sums).
            AggregateOpcode::Sum
            | AggregateOpcode::SumDistinct
            | AggregateOpcode::SumDistinctHashed
                if is_integer(f) =>
            {
                f.r#type = Type::Decimal as i32;
                f.decimals = 0;
            }
            _ => {}
        }
    }
    fields
}

/// MySQL's AVG scale: the argument's scale + 4 (`div_precision_increment`).
fn avg_scale(sum_field: Option<&Field>) -> u32 {
    sum_field.map_or(0, |f| f.decimals) + DIV_PRECISION_INCREMENT
}

#[async_trait]
impl Primitive for Aggregate {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let input = self.input.execute(vc, vars).await?;
        let fields = &input.fields;
        let group_kinds = self
            .group_by
            .iter()
            .map(|&c| {
                let f = fields
                    .get(c)
                    .ok_or_else(|| EngineError::BadResult(format!("no group column {c}")))?;
                CompareKind::for_field(f)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out = QueryResult {
            fields: self.output_fields(fields),
            ..Default::default()
        };
        let concat_max_len = if self
            .aggregates
            .iter()
            .any(|a| matches!(a.opcode, AggregateOpcode::GroupConcat { .. }))
        {
            vc.group_concat_max_len()?
        } else {
            u64::MAX
        };
        let agg = Aggregator::new(
            &self.aggregates,
            fields,
            !input.rows.is_empty(),
            concat_max_len,
        )?;
        let mut current: Option<(Vec<Option<&[u8]>>, Vec<Acc>)> = None;
        for row in &input.rows {
            let cells = split(row)?;
            let same = match &current {
                None => false,
                Some((first, _)) => {
                    let mut eq = true;
                    for (&c, kind) in self.group_by.iter().zip(&group_kinds) {
                        let (a, b) = (
                            first.get(c).copied().flatten(),
                            cells.get(c).copied().flatten(),
                        );
                        if kind.compare(a, b)? != Ordering::Equal {
                            eq = false;
                            break;
                        }
                    }
                    eq
                }
            };
            if !same {
                if let Some((first, accs)) = current.take() {
                    out.rows.push(self.finish(&first, &accs, &agg)?);
                }
                current = Some((cells.clone(), agg.fresh()));
            }
            if let Some((_, accs)) = current.as_mut() {
                agg.add(accs, &cells)?;
            }
        }
        match current {
            Some((first, accs)) => out.rows.push(self.finish(&first, &accs, &agg)?),
            None if self.group_by.is_empty() => {
                let empty = vec![None; fields.len()];
                out.rows.push(self.finish(&empty, &agg.fresh(), &agg)?);
            }
            None => {}
        }
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        let variant = if self.group_by.is_empty() {
            "Scalar"
        } else {
            "Ordered"
        };
        let aggs: Vec<String> = self
            .aggregates
            .iter()
            .map(|a| format!("{}({}) AS {}", a.opcode.name(), a.col, a.alias))
            .collect();
        let mut d = PlanDescription::new("Aggregate")
            .variant(variant)
            .with("Aggregates", aggs.join(", "));
        if !self.group_by.is_empty() {
            let g: Vec<String> = self.group_by.iter().map(usize::to_string).collect();
            d = d.with("GroupBy", g.join(", "));
        }
        d.input(self.input.description())
    }
}

#[cfg(test)]
mod tests;
