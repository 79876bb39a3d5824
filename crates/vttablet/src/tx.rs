//! Open transactions: each holds a dedicated MariaDB connection, found again
//! by the transaction id vtgate passes back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Pool};
use proto::query::execute_options::{TransactionAccessMode, TransactionIsolation};
use proto::query::ExecuteOptions;
use proto::vtrpc::Code;

use crate::error::{Result, TabletError};

/// A transaction's connection, locked while a statement runs on it.
pub type TxConn = Arc<tokio::sync::Mutex<Conn>>;

/// The open transactions of a tablet.
#[derive(Debug)]
pub struct TxPool {
    next_id: AtomicI64,
    open: Mutex<HashMap<i64, TxConn>>,
}

impl Default for TxPool {
    fn default() -> Self {
        TxPool::new()
    }
}

impl TxPool {
    /// An empty pool whose ids start at the current time in nanoseconds (as
    /// Vitess's do), so ids are not reused across restarts.
    pub fn new() -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| i64::try_from(d.as_nanos()).unwrap_or(1));
        TxPool {
            next_id: AtomicI64::new(start),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a connection from `pool`, starts a transaction on it with the
    /// isolation level and access mode of `options`, and returns its id.
    pub async fn begin(&self, pool: &Pool, options: Option<&ExecuteOptions>) -> Result<i64> {
        let (isolation, begin) = begin_statements(options);
        let mut conn = pool.get_conn().await?;
        if let Some(isolation) = isolation {
            conn.query_drop(isolation).await?;
        }
        conn.query_drop(begin).await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .insert(id, Arc::new(tokio::sync::Mutex::new(conn)));
        Ok(id)
    }

    /// The connection of transaction `id`.
    pub fn get(&self, id: i64) -> Result<TxConn> {
        self.lock().get(&id).cloned().ok_or_else(|| not_found(id))
    }

    /// Commits transaction `id` and returns its connection to the pool.
    pub async fn commit(&self, id: i64) -> Result<()> {
        self.conclude(id, "commit").await
    }

    /// Rolls back transaction `id` and returns its connection to the pool.
    pub async fn rollback(&self, id: i64) -> Result<()> {
        self.conclude(id, "rollback").await
    }

    /// Number of open transactions.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no transaction is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    async fn conclude(&self, id: i64, statement: &str) -> Result<()> {
        let conn = self.lock().remove(&id).ok_or_else(|| not_found(id))?;
        let mut conn = conn.lock().await;
        conn.query_drop(statement).await?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, TxConn>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `SET TRANSACTION ISOLATION LEVEL` (for the next transaction only) and
/// the `START TRANSACTION` for `options`, as Vitess's tx pool builds them.
fn begin_statements(options: Option<&ExecuteOptions>) -> (Option<&'static str>, String) {
    let Some(options) = options else {
        return (None, "begin".to_owned());
    };
    let mut characteristics = Vec::new();
    let isolation = match options.transaction_isolation() {
        TransactionIsolation::Default | TransactionIsolation::Autocommit => None,
        TransactionIsolation::RepeatableRead => {
            Some("set transaction isolation level repeatable read")
        }
        TransactionIsolation::ReadCommitted => {
            Some("set transaction isolation level read committed")
        }
        TransactionIsolation::ReadUncommitted => {
            Some("set transaction isolation level read uncommitted")
        }
        TransactionIsolation::Serializable => Some("set transaction isolation level serializable"),
        TransactionIsolation::ConsistentSnapshotReadOnly => {
            characteristics.push("with consistent snapshot");
            characteristics.push("read only");
            Some("set transaction isolation level repeatable read")
        }
    };
    for mode in options.transaction_access_mode() {
        let text = match mode {
            TransactionAccessMode::ConsistentSnapshot => "with consistent snapshot",
            TransactionAccessMode::ReadWrite => "read write",
            TransactionAccessMode::ReadOnly => "read only",
        };
        if !characteristics.contains(&text) {
            characteristics.push(text);
        }
    }
    if characteristics.is_empty() {
        return (isolation, "begin".to_owned());
    }
    (
        isolation,
        format!("start transaction {}", characteristics.join(", ")),
    )
}

/// Vitess's text for an unknown or finished transaction (`tx_pool.go`).
fn not_found(id: i64) -> TabletError {
    TabletError::vitess(Code::Aborted, format!("transaction {id}: not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_follows_isolation_and_access_mode() {
        assert_eq!(begin_statements(None), (None, "begin".to_owned()));
        let mut options = ExecuteOptions::default();
        options.set_transaction_isolation(TransactionIsolation::ReadCommitted);
        assert_eq!(
            begin_statements(Some(&options)),
            (
                Some("set transaction isolation level read committed"),
                "begin".to_owned()
            )
        );
        options.set_transaction_isolation(TransactionIsolation::ConsistentSnapshotReadOnly);
        assert_eq!(
            begin_statements(Some(&options)).1,
            "start transaction with consistent snapshot, read only"
        );
        let options = ExecuteOptions {
            transaction_access_mode: vec![TransactionAccessMode::ReadOnly as i32],
            ..ExecuteOptions::default()
        };
        assert_eq!(
            begin_statements(Some(&options)),
            (None, "start transaction read only".to_owned())
        );
    }
}
