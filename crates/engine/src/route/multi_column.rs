//! Routing by a multi-column vindex (Vitess `multicol`): the values of each
//! leading column of the vindex, combined into rows of column values that
//! the vindex maps to keyspace ids (every column) or key ranges (a prefix).
//!
//! `EqualUnique` and `SubShard` have one value per column; `IN` takes every
//! combination of the columns' values; `MultiEqual` pairs the columns'
//! values position by position (they come from one `(a, b) in (...)` list).

use sql::literal::{BindValue, BindVars};
use vschema::{ColumnKind, Destination, Value, Vindex};

use super::Opcode;
use crate::bind::{routing_value, PlanValue};
use crate::error::{EngineError, Result};

/// Most value combinations an `IN` route maps; beyond it the route scatters
/// (always correct: the shard query keeps its WHERE clause).
const MAX_COMBINATIONS: usize = 4096;

/// The values one column of a multi-column vindex is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValues {
    /// `col = v`.
    One(PlanValue),
    /// `col in (v1, v2, ...)`, or this column's items of a tuple list.
    List(Vec<PlanValue>),
}

impl ColumnValues {
    /// How VEXPLAIN shows it: `1`, or `(1, 2)`.
    pub fn describe(&self) -> String {
        match self {
            ColumnValues::One(v) => v.describe(),
            ColumnValues::List(vs) => {
                let items: Vec<String> = vs.iter().map(PlanValue::describe).collect();
                format!("({})", items.join(", "))
            }
        }
    }

    /// The bound values; a bind variable holding a list gives its items.
    fn resolve(&self, vars: &BindVars) -> Result<Vec<BindValue>> {
        let values = match self {
            ColumnValues::One(v) => std::slice::from_ref(v),
            ColumnValues::List(vs) => vs.as_slice(),
        };
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            match v.resolve(vars)? {
                BindValue::Tuple(items) => out.extend(items),
                other => out.push(other),
            }
        }
        Ok(out)
    }
}

/// The destinations of a multi-column route, `None` when it must go to
/// every shard (a value the vindex cannot map, or too many combinations).
/// A row with a NULL matches nothing (`NULL = x` is never true) and is
/// dropped.
pub(super) fn destinations(
    vindex: &dyn Vindex,
    opcode: Opcode,
    columns: &[ColumnValues],
    vars: &BindVars,
) -> Result<Option<Vec<Destination>>> {
    let mut bound = Vec::with_capacity(columns.len());
    for c in columns {
        let mut values = Vec::new();
        for b in c.resolve(vars)? {
            match routing_value(&b, vindex, ColumnKind::Unknown) {
                Some(v) => values.push(v),
                None => return Ok(None),
            }
        }
        bound.push(values);
    }
    let rows = match opcode {
        Opcode::MultiEqual => zipped(&bound)?,
        _ => match combinations(&bound) {
            Some(rows) => rows,
            None => return Ok(None),
        },
    };
    let rows: Vec<Vec<Value>> = rows
        .into_iter()
        .filter(|row| !row.contains(&Value::Null))
        .collect();
    let destinations = vindex.map_rows(&rows)?;
    if destinations.contains(&Destination::None) {
        return Ok(None);
    }
    Ok(Some(destinations))
}

/// Row `i` holds item `i` of every column.
fn zipped(columns: &[Vec<Value>]) -> Result<Vec<Vec<Value>>> {
    let len = columns.first().map_or(0, Vec::len);
    if columns.iter().any(|c| c.len() != len) {
        return Err(EngineError::BadResult(
            "multi-column route: columns with different numbers of values".into(),
        ));
    }
    Ok((0..len)
        .map(|i| columns.iter().map(|c| c[i].clone()).collect())
        .collect())
}

/// Every combination of one value per column; `None` past
/// [`MAX_COMBINATIONS`].
fn combinations(columns: &[Vec<Value>]) -> Option<Vec<Vec<Value>>> {
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for column in columns {
        if rows.len().saturating_mul(column.len()) > MAX_COMBINATIONS {
            return None;
        }
        rows = rows
            .iter()
            .flat_map(|row| {
                column.iter().map(move |v| {
                    let mut next = row.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    Some(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multicol() -> std::sync::Arc<dyn Vindex> {
        let params = [("column_count".to_string(), "2".to_string())]
            .into_iter()
            .collect();
        vschema::create_vindex("multicol", "mc", &params).unwrap()
    }

    fn int(v: i64) -> PlanValue {
        PlanValue::Literal(BindValue::Int64(v))
    }

    fn list(vs: &[i64]) -> ColumnValues {
        ColumnValues::List(vs.iter().map(|v| int(*v)).collect())
    }

    fn rows_of(rows: &[[i64; 2]]) -> Vec<Destination> {
        let rows: Vec<Vec<Value>> = rows
            .iter()
            .map(|r| r.iter().map(|v| Value::Int(*v)).collect())
            .collect();
        multicol().map_rows(&rows).unwrap()
    }

    fn dests(opcode: Opcode, columns: &[ColumnValues]) -> Option<Vec<Destination>> {
        destinations(multicol().as_ref(), opcode, columns, &BindVars::default()).unwrap()
    }

    #[test]
    fn in_takes_every_combination_and_multi_equal_pairs() {
        let cols = [list(&[1, 2]), list(&[3, 4])];
        assert_eq!(
            dests(Opcode::In, &cols),
            Some(rows_of(&[[1, 3], [1, 4], [2, 3], [2, 4]]))
        );
        assert_eq!(
            dests(Opcode::MultiEqual, &cols),
            Some(rows_of(&[[1, 3], [2, 4]]))
        );
        let one = [ColumnValues::One(int(1)), ColumnValues::One(int(3))];
        assert_eq!(dests(Opcode::EqualUnique, &one), Some(rows_of(&[[1, 3]])));
    }

    #[test]
    fn a_prefix_maps_to_a_key_range() {
        let got = dests(Opcode::SubShard, &[ColumnValues::One(int(1))]).unwrap();
        assert!(matches!(got.as_slice(), [Destination::KeyRange(_)]));
    }

    #[test]
    fn nulls_match_nothing_and_unmappable_values_scatter() {
        let null = PlanValue::Literal(BindValue::Null);
        let cols = [
            ColumnValues::List(vec![int(1), null]),
            ColumnValues::One(int(3)),
        ];
        assert_eq!(dests(Opcode::In, &cols), Some(rows_of(&[[1, 3]])));
        let text = PlanValue::Literal(BindValue::VarChar(b"x".to_vec()));
        let cols = [ColumnValues::One(text), ColumnValues::One(int(3))];
        assert_eq!(dests(Opcode::EqualUnique, &cols), None);
        let many: Vec<i64> = (0..100).collect();
        assert_eq!(dests(Opcode::In, &[list(&many), list(&many)]), None);
    }

    #[test]
    fn list_bind_variables_give_their_items() {
        let mut vars = BindVars::default();
        vars.insert(
            "l".into(),
            BindValue::Tuple(vec![BindValue::Int64(1), BindValue::Int64(2)]),
        );
        let cols = [
            ColumnValues::List(vec![PlanValue::BindVar("l".into())]),
            ColumnValues::One(int(3)),
        ];
        let got = destinations(multicol().as_ref(), Opcode::In, &cols, &vars).unwrap();
        assert_eq!(got, Some(rows_of(&[[1, 3], [2, 3]])));
    }
}
