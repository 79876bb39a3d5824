//! Merging the sorted results of several shards into one sorted result
//! (Vitess `engine/merge_sort.go`), and the [`OrderByParam`]s that say
//! how rows are ordered. Ties keep shard order, so the merge is stable.

use std::cmp::Ordering;

use proto::query::{QueryResult, Row};

use crate::cell::CompareKind;
use crate::error::{EngineError, Result};

/// One ORDER BY column of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderByParam {
    /// Column index in the result.
    pub col: usize,
    /// Descending order.
    pub desc: bool,
}

impl OrderByParam {
    /// Vitess's text for it: `0 ASC`.
    pub fn describe(params: &[OrderByParam]) -> String {
        params
            .iter()
            .map(|p| format!("{} {}", p.col, if p.desc { "DESC" } else { "ASC" }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Compares rows by `params`, with each column's [`CompareKind`] in `kinds`.
#[derive(Debug, Clone)]
pub struct RowComparator {
    params: Vec<(OrderByParam, CompareKind)>,
}

impl RowComparator {
    /// A comparator for rows with `fields`.
    pub fn new(params: &[OrderByParam], fields: &[proto::query::Field]) -> Result<Self> {
        let params = params
            .iter()
            .map(|p| {
                let f = fields.get(p.col).ok_or_else(|| {
                    EngineError::BadResult(format!("order by column {} out of range", p.col))
                })?;
                Ok((*p, CompareKind::for_field(f)?))
            })
            .collect::<Result<_>>()?;
        Ok(RowComparator { params })
    }

    /// The byte ranges of the sort columns in `row` (`None`: NULL), so a
    /// row is decoded once however often it is compared.
    pub fn key(&self, row: &Row) -> Result<Vec<Option<(usize, usize)>>> {
        let mut starts = Vec::with_capacity(row.lengths.len());
        let mut offset = 0usize;
        for &len in &row.lengths {
            if len < 0 {
                starts.push(None);
            } else {
                let end = offset + len as usize;
                if end > row.values.len() {
                    return Err(EngineError::BadResult(
                        "row shorter than its lengths".into(),
                    ));
                }
                starts.push(Some((offset, end)));
                offset = end;
            }
        }
        self.params
            .iter()
            .map(|(p, _)| {
                starts
                    .get(p.col)
                    .copied()
                    .ok_or_else(|| EngineError::BadResult(format!("row has no column {}", p.col)))
            })
            .collect()
    }

    /// Compares two rows by their [`RowComparator::key`]s.
    pub fn compare_keys(
        &self,
        a: &Row,
        ka: &[Option<(usize, usize)>],
        b: &Row,
        kb: &[Option<(usize, usize)>],
    ) -> Result<Ordering> {
        for (((p, kind), ra), rb) in self.params.iter().zip(ka).zip(kb) {
            let x = ra.map(|(s, e)| &a.values[s..e]);
            let y = rb.map(|(s, e)| &b.values[s..e]);
            let o = kind.compare(x, y)?;
            let o = if p.desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return Ok(o);
            }
        }
        Ok(Ordering::Equal)
    }

    /// Sorts split rows (stably), or fails with the first cell this comparator cannot
    /// compare (text of a UTF-8 collation that is not UTF-8, NaN, a malformed number). Every such failure belongs
    /// to one value, so each row is first compared with itself: the sort then only sees a
    /// comparison that cannot fail, and is a total order (std's sort panics on one that
    /// is not, which would take vtgate's connection down instead of answering VT12001).
    pub fn sort<T>(&self, rows: &mut [(T, Vec<Option<&[u8]>>)]) -> Result<()> {
        for (_, cells) in rows.iter() {
            self.compare_cells(cells, cells)?;
        }
        rows.sort_by(|(_, a), (_, b)| self.compare_cells(a, b).unwrap_or(Ordering::Equal));
        Ok(())
    }

    /// Compares two split rows.
    pub fn compare_cells(&self, a: &[Option<&[u8]>], b: &[Option<&[u8]>]) -> Result<Ordering> {
        for (p, kind) in &self.params {
            let (x, y) = (cell(a, p.col)?, cell(b, p.col)?);
            let o = kind.compare(x, y)?;
            let o = if p.desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return Ok(o);
            }
        }
        Ok(Ordering::Equal)
    }
}

fn cell<'a>(row: &[Option<&'a [u8]>], col: usize) -> Result<Option<&'a [u8]>> {
    row.get(col)
        .copied()
        .ok_or_else(|| EngineError::BadResult(format!("row has no column {col}")))
}

/// A row's cells, `None` being NULL.
pub fn split(row: &Row) -> Result<Vec<Option<&[u8]>>> {
    row.split_values()
        .map_err(|e| EngineError::BadResult(e.to_string()))
}

/// Merges results whose rows are each sorted by `params` into one sorted
/// result; fields come from the first result.
pub fn merge_sorted(mut results: Vec<QueryResult>, params: &[OrderByParam]) -> Result<QueryResult> {
    if results.len() == 1 {
        // One shard (every point select): its fields and rows as they are, not copied.
        let only = results.pop().unwrap_or_default();
        return Ok(QueryResult {
            fields: only.fields,
            rows: only.rows,
            ..Default::default()
        });
    }
    let mut out = QueryResult {
        fields: results
            .first()
            .map(|r| r.fields.clone())
            .unwrap_or_default(),
        ..Default::default()
    };
    if results.len() <= 1 || params.is_empty() {
        for r in results {
            out.rows.extend(r.rows);
        }
        return Ok(out);
    }
    let cmp = RowComparator::new(params, &out.fields)?;
    let total = results.iter().map(|r| r.rows.len()).sum();
    out.rows.reserve(total);
    let mut streams: Vec<std::vec::IntoIter<Row>> =
        results.into_iter().map(|r| r.rows.into_iter()).collect();
    type Head = (Row, Vec<Option<(usize, usize)>>);
    let next = |stream: &mut std::vec::IntoIter<Row>| -> Result<Option<Head>> {
        stream
            .next()
            .map(|row| cmp.key(&row).map(|k| (row, k)))
            .transpose()
    };
    let mut heads: Vec<Option<Head>> = Vec::with_capacity(streams.len());
    for s in streams.iter_mut() {
        heads.push(next(s)?);
    }
    loop {
        let mut best: Option<usize> = None;
        for (i, head) in heads.iter().enumerate() {
            let Some((row, key)) = head else { continue };
            best = match best.and_then(|b| heads[b].as_ref().map(|h| (b, h))) {
                None => Some(i),
                Some((b, (brow, bkey))) => {
                    if cmp.compare_keys(row, key, brow, bkey)? == Ordering::Less {
                        Some(i)
                    } else {
                        Some(b)
                    }
                }
            };
        }
        let Some(b) = best else { break };
        if let Some((row, _)) = heads[b].take() {
            out.rows.push(row);
        }
        heads[b] = next(&mut streams[b])?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{field, result, rows_of};
    use proto::query::Type;

    #[test]
    fn merges_sorted_shards_stably() {
        let f = [field("id", Type::Int64), field("name", Type::Varchar)];
        let a = result(
            &f,
            &[
                &[Some("1"), Some("a")],
                &[Some("5"), Some("b")],
                &[Some("9"), None],
            ],
        );
        let b = result(
            &f,
            &[
                &[None, Some("n")],
                &[Some("5"), Some("c")],
                &[Some("10"), Some("d")],
            ],
        );
        let m = merge_sorted(
            vec![a, b],
            &[OrderByParam {
                col: 0,
                desc: false,
            }],
        )
        .unwrap();
        let ids: Vec<_> = rows_of(&m)
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            ids,
            vec![
                (None, s("n")),
                (s("1"), s("a")),
                (s("5"), s("b")),
                (s("5"), s("c")),
                (s("9"), None),
                (s("10"), s("d")),
            ]
        );
    }

    #[test]
    fn descending_and_case_insensitive() {
        let f = [field("name", Type::Varchar)];
        let a = result(&f, &[&[Some("b")], &[Some("A")], &[None]]);
        let b = result(&f, &[&[Some("C")], &[Some("a")]]);
        let m = merge_sorted(vec![a, b], &[OrderByParam { col: 0, desc: true }]).unwrap();
        let names: Vec<_> = rows_of(&m).into_iter().map(|r| r[0].clone()).collect();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(names, vec![s("C"), s("b"), s("A"), s("a"), None]);
        assert_eq!(
            OrderByParam::describe(&[OrderByParam { col: 0, desc: true }]),
            "0 DESC"
        );
    }
}
