//! MariaDB results -> `query.QueryResult`: fields with their full column
//! metadata, rows in text form (`Row{lengths, values}`, NULL = -1), and the
//! OK-packet counters. Streaming sends the fields first, then row chunks; a stream whose
//! receiver went away has its query killed rather than read to the end.

use std::sync::Arc;

use futures::TryStreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{Column, Conn, Opts, Row, Value};
use proto::query::{Field, QueryResult, Row as ProtoRow};
use proto::sqltypes;

use crate::error::Result;

/// Bytes of row data per streamed chunk (Vitess's `--queryserver-config-stream-buffer-size`).
pub const STREAM_CHUNK_BYTES: usize = 32 * 1024;

/// The `query.Field` describing a MariaDB column.
pub fn field_from_column(column: &Column) -> Field {
    let flags = u32::from(column.flags().bits());
    let charset = u32::from(column.character_set());
    let typ = sqltypes::type_from_mysql(column.column_type() as u8, flags, charset);
    let mut field = Field {
        name: column.name_str().into_owned(),
        table: column.table_str().into_owned(),
        org_table: column.org_table_str().into_owned(),
        database: column.schema_str().into_owned(),
        org_name: column.org_name_str().into_owned(),
        column_length: column.column_length(),
        charset,
        decimals: u32::from(column.decimals()),
        flags,
        ..Field::default()
    };
    field.set_type(typ);
    field
}

/// Appends one MariaDB row to a `query.Row` in text form.
fn row_from_mysql(row: &Row) -> ProtoRow {
    let mut out = ProtoRow::default();
    for index in 0..row.len() {
        match row.as_ref(index) {
            None | Some(Value::NULL) => out.push(None),
            Some(Value::Bytes(bytes)) => out.push(Some(bytes)),
            // The text protocol only yields bytes; other variants are
            // rendered as the server would have sent them.
            Some(other) => {
                let text = other.as_sql(true);
                out.push(Some(text.trim_matches('\'').as_bytes()))
            }
        }
    }
    out
}

/// MySQL errno Vitess gives a result over `--queryserver-config-max-result-size` rows
/// (`ERVitessMaxRowsExceeded`).
pub const MAX_ROWS_EXCEEDED: u16 = 10001;

/// Runs `sql` and collects the whole (first) result. With `max_rows`, a result with more
/// rows fails with Vitess's `Row count exceeded N` (errno 10001) as soon as row N+1 is read;
/// the rest of the result is read and dropped (never kept), as Vitess drains it.
pub async fn execute(conn: &mut Conn, sql: &[u8], max_rows: Option<u64>) -> Result<QueryResult> {
    let mut result = conn.query_iter(sql).await?;
    let columns: Arc<[Column]> = result.columns().unwrap_or_else(|| Arc::from(Vec::new()));
    let mut out = QueryResult {
        fields: columns.iter().map(field_from_column).collect(),
        ..QueryResult::default()
    };
    let max = max_rows.filter(|m| *m > 0).unwrap_or(u64::MAX);
    let mut exceeded = false;
    if let Some(mut rows) = result.stream::<Row>().await? {
        while let Some(row) = rows.try_next().await? {
            if out.rows.len() as u64 >= max {
                exceeded = true;
                continue;
            }
            out.rows.push(row_from_mysql(&row));
        }
    }
    if exceeded {
        result.drop_result().await?;
        return Err(crate::error::TabletError::Mysql {
            errno: MAX_ROWS_EXCEEDED,
            sqlstate: "HY000".to_string(),
            message: format!("Row count exceeded {max}"),
        });
    }
    if columns.is_empty() {
        out.rows_affected = result.affected_rows();
        out.insert_id = result.last_insert_id().unwrap_or(0);
        out.insert_id_changed = result.last_insert_id().is_some_and(|id| id != 0);
        out.info = result.info().into_owned();
    }
    result.drop_result().await?;
    Ok(out)
}

/// Runs `sql` and hands its result to `send` in pieces: first a result with
/// only the fields, then results with rows of about [`STREAM_CHUNK_BYTES`].
/// A statement without a result set sends one result with its counters. When `send`
/// reports its receiver gone, the query is killed (`KILL QUERY` on a connection made with
/// `admin`), so the little left in flight is discarded instead of the whole result read.
pub async fn stream<F>(conn: &mut Conn, sql: &[u8], mut send: F, admin: &Opts) -> Result<()>
where
    F: AsyncSend,
{
    let connection_id = conn.id();
    let mut result = conn.query_iter(sql).await?;
    let columns: Arc<[Column]> = result.columns().unwrap_or_else(|| Arc::from(Vec::new()));
    if columns.is_empty() {
        let out = QueryResult {
            rows_affected: result.affected_rows(),
            insert_id: result.last_insert_id().unwrap_or(0),
            ..QueryResult::default()
        };
        result.drop_result().await?;
        send.send(out).await;
        return Ok(());
    }
    send.send(QueryResult {
        fields: columns.iter().map(field_from_column).collect(),
        ..QueryResult::default()
    })
    .await;
    let mut chunk = QueryResult::default();
    let mut chunk_bytes = 0;
    let mut cancelled = false;
    if let Some(mut rows) = result.stream::<Row>().await? {
        while let Some(row) = rows.try_next().await? {
            let row = row_from_mysql(&row);
            chunk_bytes += row.values.len() + row.lengths.len();
            chunk.rows.push(row);
            if chunk_bytes >= STREAM_CHUNK_BYTES {
                if !send.send(std::mem::take(&mut chunk)).await {
                    cancelled = true;
                    break;
                }
                chunk_bytes = 0;
            }
        }
    }
    if cancelled {
        if let Err(e) = kill_query(admin, connection_id).await {
            tracing::warn!(error = %e, connection_id, "cannot kill a cancelled stream's query");
        }
        // Reads what was in flight and the interruption error.
        if let Err(e) = result.drop_result().await {
            tracing::debug!(error = %e, "end of a cancelled stream");
        }
        return Ok(());
    }
    if !chunk.rows.is_empty() {
        send.send(chunk).await;
    }
    result.drop_result().await?;
    Ok(())
}

/// Interrupts the statement running on MariaDB connection `connection_id` (`KILL QUERY`,
/// from a new connection with `admin`'s options).
pub async fn kill_query(admin: &Opts, connection_id: u32) -> Result<()> {
    let mut admin = Conn::new(admin.clone()).await?;
    admin
        .query_drop(format!("KILL QUERY {connection_id}"))
        .await?;
    admin.disconnect().await?;
    Ok(())
}

/// Where [`stream`] delivers its pieces; `send` returns false once the
/// receiver is gone, which stops the stream early.
pub trait AsyncSend: Send {
    /// Delivers one piece.
    fn send(&mut self, result: QueryResult) -> impl std::future::Future<Output = bool> + Send;
}

impl AsyncSend for tokio::sync::mpsc::Sender<std::result::Result<QueryResult, tonic::Status>> {
    async fn send(&mut self, result: QueryResult) -> bool {
        tokio::sync::mpsc::Sender::send(self, Ok(result))
            .await
            .is_ok()
    }
}
