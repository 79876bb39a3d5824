//! [`Window`]: window functions computed in vtgate over every row of the
//! input, for windows whose partitions span shards (Vitess refuses these;
//! a window partitioned by the sharding key runs on the shards).
//!
//! Each function's rows are sorted by its PARTITION BY and then its ORDER
//! BY keys (stably, by the columns' types and collations). Within a
//! partition, rows equal on the ORDER BY keys are peers. As in MySQL with
//! the default frame: ROW_NUMBER counts rows, RANK the rows before the
//! first peer plus one, DENSE_RANK the peer groups; an aggregate covers the
//! whole partition without ORDER BY, else the rows up to the current one's
//! last peer; LAG and LEAD read the row `offset` rows before or after in
//! the partition (NULL past its ends). Aggregates take their input as the
//! raw-row aggregation does (`count(x)` as `x is not null`, …) and their
//! values and types from [`Aggregator`].
//!
//! The input's row order is kept; the function values fill their columns.
//! Every row is held in memory, at most `--max-memory-rows`.

use std::cmp::Ordering;

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Row, Type};
use sql::literal::BindVars;

use crate::aggregate::{aggregate_fields, AggregateParam, Aggregator};
use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::{split, OrderByParam, RowComparator};
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// What a window function computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowFunction {
    /// `row_number()`.
    RowNumber,
    /// `rank()`.
    Rank,
    /// `dense_rank()`.
    DenseRank,
    /// `lag(x, offset)` (negative `offset`: `lead`), reading column `col`.
    Lag {
        /// Rows back (forward when negative).
        offset: i64,
    },
    /// An aggregate over the frame; its `col` is the raw input column (and the output).
    Aggregate(AggregateParam),
}

/// One window function of the select list.
#[derive(Debug, Clone)]
pub struct WindowParam {
    /// The function.
    pub function: WindowFunction,
    /// Its column: the output, and the input value for LAG/LEAD and aggregates.
    pub col: usize,
    /// PARTITION BY columns.
    pub partition: Vec<usize>,
    /// ORDER BY columns.
    pub order: Vec<OrderByParam>,
    /// The column name clients see.
    pub alias: String,
}

/// Computes window functions over its input's rows.
#[derive(Debug)]
pub struct Window {
    /// The functions.
    pub windows: Vec<WindowParam>,
    /// Trailing input columns (sort keys, AVG counts) dropped from the output.
    pub hidden_columns: usize,
    /// The input.
    pub input: Box<dyn Primitive>,
}

impl WindowParam {
    fn name(&self) -> String {
        match &self.function {
            WindowFunction::RowNumber => "row_number".into(),
            WindowFunction::Rank => "rank".into(),
            WindowFunction::DenseRank => "dense_rank".into(),
            WindowFunction::Lag { offset } => format!("lag[{offset}]"),
            WindowFunction::Aggregate(a) => format!("{:?}", a.opcode).to_lowercase(),
        }
    }

    /// The row indexes in partition order, and where each partition and peer group starts.
    fn sorted(&self, fields: &[Field], rows: &[Vec<Option<&[u8]>>]) -> Result<Sorted> {
        let keys: Vec<OrderByParam> = self
            .partition
            .iter()
            .map(|&col| OrderByParam { col, desc: false })
            .chain(self.order.iter().copied())
            .collect();
        let cmp = RowComparator::new(&keys, fields)?;
        let mut order: Vec<(usize, Vec<Option<&[u8]>>)> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.clone()))
            .collect();
        cmp.sort(&mut order)?;
        let partition_cmp = RowComparator::new(&keys[..self.partition.len()], fields)?;
        let mut partition_starts = Vec::new();
        let mut peer_starts = Vec::new();
        for (n, (_, cells)) in order.iter().enumerate() {
            let Some((_, before)) = n.checked_sub(1).and_then(|p| order.get(p)) else {
                partition_starts.push(n);
                peer_starts.push(n);
                continue;
            };
            if partition_cmp.compare_cells(before, cells)? != Ordering::Equal {
                partition_starts.push(n);
                peer_starts.push(n);
            } else if cmp.compare_cells(before, cells)? != Ordering::Equal {
                peer_starts.push(n);
            }
        }
        Ok(Sorted {
            rows: order.into_iter().map(|(i, _)| i).collect(),
            partition_starts,
            peer_starts,
        })
    }

    /// The function's value for every input row (by input index).
    fn values(
        &self,
        fields: &[Field],
        rows: &[Vec<Option<&[u8]>>],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let sorted = self.sorted(fields, rows)?;
        let mut out = vec![None; rows.len()];
        for (p, &start) in sorted.partition_starts.iter().enumerate() {
            let end = sorted
                .partition_starts
                .get(p + 1)
                .copied()
                .unwrap_or(sorted.rows.len());
            // `peer_starts` is sorted: this partition's are one slice of it.
            let first = sorted.peer_starts.partition_point(|&s| s < start);
            let last = sorted.peer_starts.partition_point(|&s| s < end);
            let peers: Vec<usize> = sorted.peer_starts[first..last]
                .iter()
                .copied()
                .chain(std::iter::once(end))
                .collect();
            let members = &sorted.rows[start..end];
            self.partition_values(fields, rows, members, &peers, start, &mut out)?;
        }
        Ok(out)
    }

    /// Fills `out` for one partition: `members` are its rows in order, `peers` the starts
    /// of its peer groups (positions in the sorted order, from `base`) and its end.
    fn partition_values(
        &self,
        fields: &[Field],
        rows: &[Vec<Option<&[u8]>>],
        members: &[usize],
        peers: &[usize],
        base: usize,
        out: &mut [Option<Vec<u8>>],
    ) -> Result<()> {
        let int = |n: usize| Some(n.to_string().into_bytes());
        match &self.function {
            WindowFunction::RowNumber => {
                for (n, &r) in members.iter().enumerate() {
                    out[r] = int(n + 1);
                }
            }
            WindowFunction::Rank | WindowFunction::DenseRank => {
                for (group, w) in peers.windows(2).enumerate() {
                    let rank = if self.function == WindowFunction::Rank {
                        w[0] - base + 1
                    } else {
                        group + 1
                    };
                    for &r in &members[w[0] - base..w[1] - base] {
                        out[r] = int(rank);
                    }
                }
            }
            WindowFunction::Lag { offset } => {
                for (n, &r) in members.iter().enumerate() {
                    let from = i64::try_from(n).unwrap_or(i64::MAX).checked_sub(*offset);
                    let source = from
                        .and_then(|f| usize::try_from(f).ok())
                        .and_then(|f| members.get(f));
                    out[r] = source
                        .and_then(|&s| rows[s].get(self.col).copied().flatten())
                        .map(<[u8]>::to_vec);
                }
            }
            WindowFunction::Aggregate(param) => {
                let params = std::slice::from_ref(param);
                let agg = Aggregator::new(params, fields, true, u64::MAX)?;
                let mut accs = agg.fresh();
                if self.order.is_empty() {
                    for &r in members {
                        agg.add(&mut accs, &rows[r])?;
                    }
                    let value = agg.values(&accs)?.pop().flatten();
                    for &r in members {
                        out[r] = value.clone();
                    }
                    return Ok(());
                }
                for w in peers.windows(2) {
                    let group = &members[w[0] - base..w[1] - base];
                    for &r in group {
                        agg.add(&mut accs, &rows[r])?;
                    }
                    let value = agg.values(&accs)?.pop().flatten();
                    for &r in group {
                        out[r] = value.clone();
                    }
                }
            }
        }
        Ok(())
    }
}

/// A function's rows in partition order.
struct Sorted {
    /// Input row indexes, sorted.
    rows: Vec<usize>,
    /// Positions in `rows` where a partition starts.
    partition_starts: Vec<usize>,
    /// Positions in `rows` where a group of peers starts (every partition start too).
    peer_starts: Vec<usize>,
}

impl Window {
    /// The output fields: ranks and counts BIGINT, aggregates as [`aggregate_fields`]
    /// types them, LAG/LEAD their column's.
    fn output_fields(&self, input: &[Field]) -> Vec<Field> {
        let aggregates: Vec<AggregateParam> = self
            .windows
            .iter()
            .filter_map(|w| match &w.function {
                WindowFunction::Aggregate(a) => Some(a.clone()),
                _ => None,
            })
            .collect();
        let mut fields = aggregate_fields(&aggregates, input);
        for w in &self.windows {
            let Some(f) = fields.get_mut(w.col) else {
                continue;
            };
            f.name = w.alias.clone();
            if matches!(
                w.function,
                WindowFunction::RowNumber | WindowFunction::Rank | WindowFunction::DenseRank
            ) {
                f.r#type = Type::Int64 as i32;
                f.charset = proto::sqltypes::BINARY_COLLATION;
                f.decimals = 0;
                f.column_length = 21;
            }
        }
        let keep = fields.len().saturating_sub(self.hidden_columns);
        fields.truncate(keep);
        fields
    }
}

#[async_trait]
impl Primitive for Window {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let input = self.input.execute(vc, vars).await?;
        if input.rows.len() > vc.max_memory_rows() {
            return Err(EngineError::RowLimit(vc.max_memory_rows()));
        }
        let rows: Vec<Vec<Option<&[u8]>>> = input.rows.iter().map(split).collect::<Result<_>>()?;
        let mut values = Vec::with_capacity(self.windows.len());
        for w in &self.windows {
            values.push(w.values(&input.fields, &rows)?);
        }
        let keep = input.fields.len().saturating_sub(self.hidden_columns);
        let mut out = QueryResult {
            fields: self.output_fields(&input.fields),
            ..Default::default()
        };
        for (i, cells) in rows.iter().enumerate() {
            let mut cells: Vec<Option<&[u8]>> = cells.clone();
            for (w, v) in self.windows.iter().zip(&values) {
                let slot = cells.get_mut(w.col).ok_or_else(|| {
                    EngineError::BadResult(format!("window column {} out of range", w.col))
                })?;
                *slot = v[i].as_deref();
            }
            out.rows
                .push(Row::from_values(cells.into_iter().take(keep)));
        }
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        let windows: Vec<String> = self
            .windows
            .iter()
            .map(|w| {
                let partition: Vec<String> = w.partition.iter().map(usize::to_string).collect();
                format!(
                    "{}({}) OVER (PARTITION BY {} ORDER BY {}) AS {}",
                    w.name(),
                    w.col,
                    partition.join(", "),
                    OrderByParam::describe(&w.order),
                    w.alias
                )
            })
            .collect();
        PlanDescription::new("Window")
            .with("Functions", windows.join(", "))
            .input(self.input.description())
    }
}

#[cfg(test)]
mod tests;
