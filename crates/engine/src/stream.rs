//! Streaming execution (Vitess `StreamExecute`, the OLAP workload): a result
//! sent to the client as the shards send it, never held whole in vtgate.
//!
//! A [`RowStream`] yields partial results; the first carries the fields,
//! the others only rows. [`Route`](crate::route::Route) streams its shards'
//! results ([`concat`] in arrival order, or [`merge`] in ORDER BY order when
//! the shards sort), and [`Limit`](crate::limit::Limit) cuts a stream short
//! ([`limit`]), which drops the shard streams and so cancels them. Every
//! other primitive runs whole and sends its result as one item
//! ([`once`]), the default of [`Primitive::stream_execute`].
//!
//! [`Primitive::stream_execute`]: crate::primitive::Primitive::stream_execute

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::{self, Stream, StreamExt};
use proto::query::{Field, QueryResult, Row};

use crate::error::{EngineError, Result};
use crate::merge_sort::{split, OrderByParam, RowComparator};

/// Partial results; the first item carries the fields.
pub type RowStream = Pin<Box<dyn Stream<Item = Result<QueryResult>> + Send>>;

/// Rows a merged stream sends per item.
const MERGE_BATCH: usize = 256;

/// A whole result as a stream of one item.
pub fn once(result: QueryResult) -> RowStream {
    Box::pin(stream::once(async move { Ok(result) }))
}

/// Changes the fields of a stream's first item that carries fields (and no
/// later one's).
pub fn map_fields(
    input: RowStream,
    mut fix: impl FnMut(&mut Vec<Field>) + Send + 'static,
) -> RowStream {
    let mut done = false;
    Box::pin(input.map(move |item| {
        item.map(|mut part| {
            if !done && !part.fields.is_empty() {
                fix(&mut part.fields);
                done = true;
            }
            part
        })
    }))
}

/// Drops the last `hidden` columns of every item (the first item's fields
/// tell how many columns rows have).
fn truncated(input: RowStream, hidden: usize) -> RowStream {
    if hidden == 0 {
        return input;
    }
    let mut keep = None;
    Box::pin(input.map(move |item| {
        let mut part = item?;
        if !part.fields.is_empty() {
            keep = Some(part.fields.len().saturating_sub(hidden));
            part.fields.truncate(keep.unwrap_or_default());
        }
        let keep = keep.ok_or_else(|| EngineError::BadResult("rows before the fields".into()))?;
        for row in &mut part.rows {
            let cells = split(row)?;
            *row = Row::from_values(cells.into_iter().take(keep));
        }
        Ok(part)
    }))
}

/// The shards' streams as one, items in the order they arrive: the fields
/// of the first item to arrive, then every shard's rows; `hidden` trailing
/// columns dropped.
pub fn concat(shards: Vec<RowStream>, hidden: usize) -> RowStream {
    let mut fields_sent = false;
    let merged = stream::select_all(shards).map(move |item| {
        let mut part = item?;
        if fields_sent {
            part.fields.clear();
        } else if !part.fields.is_empty() {
            fields_sent = true;
        }
        Ok(part)
    });
    truncated(Box::pin(merged), hidden)
}

/// One shard's stream and the rows it sent that are not merged yet.
struct Source {
    stream: RowStream,
    rows: VecDeque<Row>,
    done: bool,
}

impl Source {
    /// Reads items until a row is buffered or the stream ends; returns the
    /// fields of the first item that has them.
    async fn fill(&mut self) -> Result<Option<Vec<Field>>> {
        let mut fields = None;
        while self.rows.is_empty() && !self.done {
            match self.stream.next().await {
                Some(item) => {
                    let part = item?;
                    if fields.is_none() && !part.fields.is_empty() {
                        fields = Some(part.fields);
                    }
                    self.rows.extend(part.rows);
                }
                None => self.done = true,
            }
        }
        Ok(fields)
    }
}

/// What [`merge`] carries from one item to the next.
struct Merge {
    sources: Vec<Source>,
    comparator: Option<RowComparator>,
}

impl Merge {
    /// The index of the source whose first row sorts first (ties: the
    /// lowest index, so the merge is stable).
    fn smallest(&self, cmp: &RowComparator) -> Result<Option<usize>> {
        /// A source's index, its first row and that row's sort key.
        type Head<'a> = (usize, &'a Row, Vec<Option<(usize, usize)>>);
        let mut best: Option<Head> = None;
        for (i, s) in self.sources.iter().enumerate() {
            let Some(row) = s.rows.front() else { continue };
            let key = cmp.key(row)?;
            let better = match &best {
                None => true,
                Some((_, brow, bkey)) => cmp.compare_keys(row, &key, brow, bkey)? == Ordering::Less,
            };
            if better {
                best = Some((i, row, key));
            }
        }
        Ok(best.map(|(i, _, _)| i))
    }

    /// The next item: the fields (first call), then up to [`MERGE_BATCH`]
    /// rows in order; `None` when every shard is done.
    async fn next_item(
        &mut self,
        sort: &(dyn Fn(usize) -> Vec<OrderByParam> + Send + Sync),
    ) -> Result<Option<QueryResult>> {
        let mut out = QueryResult::default();
        if self.comparator.is_none() {
            for s in &mut self.sources {
                if let Some(f) = s.fill().await? {
                    if out.fields.is_empty() {
                        out.fields = f;
                    }
                }
            }
            if out.fields.is_empty() {
                return Err(EngineError::BadResult("no shard sent the fields".into()));
            }
            self.comparator = Some(RowComparator::new(&sort(out.fields.len()), &out.fields)?);
        }
        let Some(cmp) = self.comparator.clone() else {
            return Ok(None);
        };
        while out.rows.len() < MERGE_BATCH {
            for s in &mut self.sources {
                s.fill().await?;
            }
            let Some(i) = self.smallest(&cmp)? else {
                break;
            };
            if let Some(row) = self.sources[i].rows.pop_front() {
                out.rows.push(row);
            }
        }
        if out.rows.is_empty() && out.fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(out))
    }
}

/// The shards' streams, each sorted, merged into one sorted stream. `sort`
/// gives the sort columns for a result of that many columns; `hidden`
/// trailing columns are dropped after the merge.
pub fn merge(
    shards: Vec<RowStream>,
    sort: impl Fn(usize) -> Vec<OrderByParam> + Send + Sync + 'static,
    hidden: usize,
) -> RowStream {
    let state = Merge {
        sources: shards
            .into_iter()
            .map(|stream| Source {
                stream,
                rows: VecDeque::new(),
                done: false,
            })
            .collect(),
        comparator: None,
    };
    let sort = Arc::new(sort);
    let merged = stream::unfold(Some(state), move |state| {
        let sort = Arc::clone(&sort);
        async move {
            let mut state = state?;
            match state.next_item(sort.as_ref()).await {
                Ok(Some(part)) => Some((Ok(part), Some(state))),
                Ok(None) => None,
                // An error ends the stream.
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    truncated(Box::pin(merged), hidden)
}

/// Rows `offset .. offset + count` of `input`; the fields always. The input
/// is dropped as soon as the last row is sent.
pub fn limit(input: RowStream, offset: usize, count: usize) -> RowStream {
    struct Cut {
        input: RowStream,
        skip: usize,
        left: usize,
        fields_sent: bool,
    }
    let state = Cut {
        input,
        skip: offset,
        left: count,
        fields_sent: false,
    };
    Box::pin(stream::unfold(Some(state), |state| async move {
        let mut cut = state?;
        loop {
            if cut.left == 0 && cut.fields_sent {
                return None;
            }
            let mut part = match cut.input.next().await? {
                Ok(part) => part,
                Err(e) => return Some((Err(e), None)),
            };
            let skipped = cut.skip.min(part.rows.len());
            part.rows.drain(..skipped);
            cut.skip -= skipped;
            part.rows.truncate(cut.left);
            cut.left -= part.rows.len();
            if !part.fields.is_empty() {
                cut.fields_sent = true;
            } else if part.rows.is_empty() {
                continue;
            }
            return Some((Ok(part), Some(cut)));
        }
    }))
}

/// Collects a stream into one result (tests, and callers that want it whole).
pub async fn collect(mut input: RowStream) -> Result<QueryResult> {
    let mut out = QueryResult::default();
    while let Some(item) = input.next().await {
        let part = item?;
        if out.fields.is_empty() {
            out.fields = part.fields;
        }
        out.rows.extend(part.rows);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
