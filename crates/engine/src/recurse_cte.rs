//! [`RecurseCte`]: a recursive common table expression over sharded tables, iterated in
//! vtgate (Vitess `engine/recurse_cte.go`). The seed's rows are the first iteration; each
//! later one runs the recursive part once per row of the one before, with that row's
//! columns bound, until an iteration adds no row. With UNION DISTINCT a row equal to one
//! the CTE already holds is not added (nor iterated on), as in MariaDB.
//!
//! As in MariaDB, the columns keep the seed's types: a recursive value that does not fit
//! them is MariaDB's error (1406 for text too long, 1264 for a number out of range), and
//! one of another type (which MariaDB would convert) is refused. At most
//! [`MAX_ITERATIONS`] iterations run after the seed, MariaDB's default
//! `max_recursive_iterations`, after which MariaDB too stops without an error.

use std::cmp::Ordering;

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Row, Type};
use proto::sqltypes::flag;
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::join::compared_cell_to_bind;
use crate::merge_sort::{split, OrderByParam, RowComparator};
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// MariaDB's default `max_recursive_iterations`.
pub const MAX_ITERATIONS: usize = 1000;

/// A recursive CTE's rows.
#[derive(Debug)]
pub struct RecurseCte {
    /// The non-recursive part: the first rows, and the columns' types.
    pub seed: Box<dyn Primitive>,
    /// The recursive part, reading the previous iteration's row from bind variables.
    pub term: Box<dyn Primitive>,
    /// Bind variable of `term` and the column of a previous row it takes.
    pub vars: Vec<(String, usize)>,
    /// `UNION` (DISTINCT): a row equal to one already in the CTE (by the columns' types and
    /// collations) is dropped, and only new rows feed the next iteration.
    pub distinct: bool,
}

/// The rows a DISTINCT recursive CTE holds, sorted to find duplicates.
struct Seen {
    cmp: RowComparator,
    rows: Vec<Row>,
}

impl Seen {
    fn new(fields: &[Field]) -> Result<Self> {
        let params: Vec<OrderByParam> = (0..fields.len())
            .map(|col| OrderByParam { col, desc: false })
            .collect();
        Ok(Seen {
            cmp: RowComparator::new(&params, fields)?,
            rows: Vec::new(),
        })
    }

    /// Adds `row` unless an equal row is there; whether it was added.
    fn insert(&mut self, row: &Row) -> Result<bool> {
        let cells = split(row)?;
        let (mut lo, mut hi) = (0, self.rows.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.cmp.compare_cells(&split(&self.rows[mid])?, &cells)? {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(false),
            }
        }
        self.rows.insert(lo, row.clone());
        Ok(true)
    }
}

#[async_trait]
impl Primitive for RecurseCte {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut out = self.seed.execute(vc, vars).await?;
        let limit = vc.max_memory_rows();
        let mut seen = match self.distinct {
            true => Some(Seen::new(&out.fields)?),
            false => None,
        };
        if let Some(seen) = seen.as_mut() {
            let mut kept = Vec::with_capacity(out.rows.len());
            for row in std::mem::take(&mut out.rows) {
                if seen.insert(&row)? {
                    kept.push(row);
                }
            }
            out.rows = kept;
        }
        // The previous iteration's rows: the last ones of `out`.
        let mut last = 0..out.rows.len();
        for _ in 0..MAX_ITERATIONS {
            if last.is_empty() {
                break;
            }
            let mut next = Vec::new();
            for row in &out.rows[last.clone()] {
                let cells = split(row)?;
                let mut bound = vars.clone();
                for (name, col) in &self.vars {
                    let field = out.fields.get(*col).ok_or_else(|| {
                        EngineError::BadResult(format!("recursive CTE column {col} missing"))
                    })?;
                    bound.insert(
                        name.clone(),
                        compared_cell_to_bind(field, cells.get(*col).copied().flatten())?,
                    );
                }
                let r = self.term.execute(vc, &bound).await?;
                for term_row in r.rows {
                    let at = out.rows.len() + next.len() + 1;
                    fits(&out.fields, &r.fields, &term_row, at)?;
                    if let Some(seen) = seen.as_mut() {
                        if !seen.insert(&term_row)? {
                            continue;
                        }
                    }
                    next.push(term_row);
                }
                if out.rows.len() + next.len() > limit {
                    return Err(EngineError::RowLimit(limit));
                }
            }
            last = out.rows.len()..out.rows.len() + next.len();
            out.rows.append(&mut next);
        }
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        let d = PlanDescription::new("RecurseCTE").join_vars(&self.vars);
        let d = if self.distinct {
            d.variant("Distinct")
        } else {
            d
        };
        d.input(self.seed.description())
            .input(self.term.description())
    }
}

fn kind(f: &Field) -> Type {
    Type::try_from(f.r#type).unwrap_or(Type::NullType)
}

/// The range of an integer column of type `t`, or `None` for another type.
fn int_range(t: Type) -> Option<(i128, i128)> {
    Some(match t {
        Type::Int8 => (-128, 127),
        Type::Uint8 => (0, 255),
        Type::Int16 => (-32768, 32767),
        Type::Uint16 => (0, 65535),
        Type::Int24 => (-8_388_608, 8_388_607),
        Type::Uint24 => (0, 16_777_215),
        Type::Int32 => (i32::MIN.into(), i32::MAX.into()),
        Type::Uint32 => (0, u32::MAX.into()),
        Type::Int64 => (i64::MIN.into(), i64::MAX.into()),
        Type::Uint64 => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// Bytes per character of a collation's character set, where known.
fn max_bytes_per_char(collation: u32) -> Option<u32> {
    match collation {
        63 => Some(1),
        // latin1
        5 | 8 | 15 | 31 | 47 | 48 | 49 | 94 => Some(1),
        // utf8mb3
        33 | 83 | 192..=215 | 223 => Some(3),
        // utf8mb4
        45 | 46 | 224..=247 => Some(4),
        _ => None,
    }
}

fn too_long(name: &str, row: usize) -> EngineError {
    EngineError::mysql(
        1406,
        "22001",
        format!("Data too long for column '{name}' at row {row}"),
    )
}

fn out_of_range(name: &str, row: usize) -> EngineError {
    EngineError::mysql(
        1264,
        "22003",
        format!("Out of range value for column '{name}' at row {row}"),
    )
}

fn other_type(seed: &Field) -> EngineError {
    EngineError::unsupported(format!(
        "a recursive CTE whose recursive part gives column {} another type than its first part",
        seed.name
    ))
}

/// Whether the recursive part's `row` fits the seed's columns as MariaDB stores it, `at`
/// being its row number in the CTE.
fn fits(seed: &[Field], term: &[Field], row: &Row, at: usize) -> Result<()> {
    let cells = split(row)?;
    if cells.len() != seed.len() || term.len() != seed.len() {
        return Err(EngineError::mysql(
            1222,
            "21000",
            "The used SELECT statements have a different number of columns",
        ));
    }
    for ((s, t), cell) in seed.iter().zip(term).zip(cells) {
        let Some(value) = cell else {
            continue;
        };
        let text = || String::from_utf8_lossy(value);
        let (st, tt) = (kind(s), kind(t));
        if let (Some((lo, hi)), Some(_)) = (int_range(st), int_range(tt)) {
            let n: i128 = text().parse().map_err(|_| other_type(s))?;
            if n < lo || n > hi {
                return Err(out_of_range(&s.name, at));
            }
            continue;
        }
        if st != tt {
            return Err(other_type(s));
        }
        match st {
            Type::Decimal => {
                if s.decimals != t.decimals {
                    return Err(other_type(s));
                }
                // DECIMAL(p, d): the column length counts the sign and the point too.
                let unsigned = s.flags & flag::UNSIGNED != 0;
                let precision = s.column_length - u32::from(s.decimals > 0) - u32::from(!unsigned);
                let text = text();
                let digits = text
                    .trim_start_matches('-')
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches('0')
                    .len();
                if digits as u64 + u64::from(s.decimals) > u64::from(precision) {
                    return Err(out_of_range(&s.name, at));
                }
            }
            Type::Varchar | Type::Char | Type::Varbinary | Type::Binary => {
                let Some(per_char) = max_bytes_per_char(s.charset) else {
                    if t.column_length > s.column_length {
                        return Err(other_type(s));
                    }
                    continue;
                };
                let chars = if per_char == 1 {
                    value.len()
                } else {
                    std::str::from_utf8(value)
                        .map_err(|_| other_type(s))?
                        .chars()
                        .count()
                };
                if chars as u64 > u64::from(s.column_length / per_char) {
                    return Err(too_long(&s.name, at));
                }
            }
            Type::Float32 | Type::Float64 | Type::Datetime | Type::Timestamp | Type::Time
                if s.decimals != t.decimals =>
            {
                return Err(other_type(s));
            }
            Type::Text | Type::Blob | Type::Json | Type::Enum | Type::Set | Type::Bit
                if s.column_length != t.column_length || s.charset != t.charset =>
            {
                return Err(other_type(s));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{field, result, rows_of, unsharded_route, FakeVCursor};

    #[tokio::test]
    async fn iterates_until_no_row_and_binds_the_previous_rows() {
        let mut vc = FakeVCursor::new("ks", &["0"]);
        vc.responder = Some(Box::new(|_, _, sql| {
            let f = [field("n", Type::Int64)];
            let rows: &[&[Option<&str>]] = match sql {
                "select 1" => &[&[Some("1")]],
                "select 1 + 1" => &[&[Some("2")]],
                "select 2 + 1" => &[&[Some("3")]],
                _ => &[],
            };
            Some(Ok(result(&f, rows)))
        }));
        let cte = RecurseCte {
            seed: unsharded_route("ks", "select 1"),
            term: unsharded_route("ks", "select :n + 1"),
            vars: vec![("n".into(), 0)],
            distinct: false,
        };
        let r = cte.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(
            rows_of(&r),
            vec![
                vec![Some("1".to_string())],
                vec![Some("2".to_string())],
                vec![Some("3".to_string())]
            ]
        );
        let sent: Vec<String> = vc.sent().into_iter().map(|(_, q)| q).collect();
        assert_eq!(
            sent,
            ["select 1", "select 1 + 1", "select 2 + 1", "select 3 + 1"]
        );
    }

    #[tokio::test]
    async fn union_distinct_ends_a_cycle_at_the_first_repeated_row() {
        let mut vc = FakeVCursor::new("ks", &["0"]);
        vc.responder = Some(Box::new(|_, _, sql| {
            let f = [field("n", Type::Int64)];
            let next = match sql {
                "select 1" | "select next of 3" => "1",
                "select next of 1" => "2",
                _ => "3",
            };
            Some(Ok(result(&f, &[&[Some(next)]])))
        }));
        let cte = RecurseCte {
            seed: unsharded_route("ks", "select 1"),
            term: unsharded_route("ks", "select next of :n"),
            vars: vec![("n".into(), 0)],
            distinct: true,
        };
        let r = cte.execute(&vc, &BindVars::default()).await.unwrap();
        let values: Vec<Option<String>> =
            rows_of(&r).into_iter().map(|mut r| r.remove(0)).collect();
        assert_eq!(
            values,
            [Some("1".into()), Some("2".into()), Some("3".into())]
        );
        assert_eq!(vc.sent().len(), 4, "the repeated 1 is not iterated on");
    }

    #[test]
    fn values_must_fit_the_seed_columns() {
        let row = |v: &str| Row {
            lengths: vec![v.len() as i64],
            values: v.as_bytes().to_vec(),
        };
        let mut text = field("s", Type::Varchar);
        text.charset = 45;
        text.column_length = 8;
        let err = fits(&[text.clone()], &[text.clone()], &row("abc"), 2).unwrap_err();
        assert_eq!(
            (err.errno(), err.to_string()),
            (1406, "Data too long for column 's' at row 2".to_string())
        );
        assert!(fits(&[text.clone()], &[text], &row("ab"), 2).is_ok());
        let int = field("n", Type::Int32);
        let big = field("n", Type::Int64);
        assert!(fits(
            std::slice::from_ref(&int),
            std::slice::from_ref(&big),
            &row("5"),
            2
        )
        .is_ok());
        assert_eq!(
            fits(std::slice::from_ref(&int), &[big], &row("3000000000"), 2)
                .unwrap_err()
                .errno(),
            1264
        );
        let dec = field("n", Type::Decimal);
        assert_eq!(
            fits(&[int], &[dec], &row("1.5"), 2).unwrap_err().errno(),
            1235
        );
    }
}
