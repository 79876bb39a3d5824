//! Open transactions: each holds a dedicated MariaDB connection from the transaction pool
//! (separate from the query pool), found again by the transaction id vtgate passes back.
//!
//! As in Vitess, at most `--queryserver-config-transaction-cap` transactions are open at
//! once; a Begin waits at most `--queryserver-config-txpool-timeout` for a slot, and a
//! transaction open longer than `--queryserver-config-transaction-timeout` is rolled back
//! by the killer ([`TxPool::kill_expired`]), which frees its connection and row locks.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Pool};
use proto::query::execute_options::{TransactionAccessMode, TransactionIsolation};
use proto::query::ExecuteOptions;
use proto::vtrpc::Code;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Result, TabletError};

/// A transaction's connection, locked while a statement runs on it.
pub type TxConn = Arc<tokio::sync::Mutex<Conn>>;

/// How many ended transactions are remembered for their error text (Vitess keeps 1000).
const ENDED_MEMORY: usize = 1000;

/// Limits of the transaction pool.
#[derive(Debug, Clone, Copy)]
pub struct TxLimits {
    /// Transactions open at once.
    pub cap: usize,
    /// Longest wait for a free slot or connection at Begin; zero waits as long as the caller.
    pub pool_timeout: Duration,
    /// Longest life of a transaction before the killer rolls it back; zero never kills.
    pub timeout: Duration,
}

/// One open transaction.
#[derive(Debug)]
struct OpenTx {
    conn: TxConn,
    /// MariaDB's id of the connection, to kill it while a statement runs.
    connection_id: u32,
    started: Instant,
    /// Its place under the cap, freed when the transaction ends.
    _slot: OwnedSemaphorePermit,
}

/// Transactions ended by the tablet itself, remembered so that their later use says why.
#[derive(Debug, Default)]
struct Ended {
    order: VecDeque<i64>,
    reasons: HashMap<i64, String>,
}

/// The open transactions of a tablet.
#[derive(Debug)]
pub struct TxPool {
    next_id: AtomicI64,
    open: Mutex<HashMap<i64, OpenTx>>,
    ended: Mutex<Ended>,
    slots: Arc<Semaphore>,
    limits: TxLimits,
}

/// Runs `future`, giving up after `limit` (never when `limit` is zero).
pub async fn within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    if limit.is_zero() {
        return Some(future.await);
    }
    tokio::time::timeout(limit, future).await.ok()
}

impl TxPool {
    /// An empty pool whose ids start at the current time in nanoseconds (as
    /// Vitess's do), so ids are not reused across restarts.
    pub fn new(limits: TxLimits) -> Self {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| i64::try_from(d.as_nanos()).unwrap_or(1));
        TxPool {
            next_id: AtomicI64::new(start),
            open: Mutex::new(HashMap::new()),
            ended: Mutex::new(Ended::default()),
            slots: Arc::new(Semaphore::new(limits.cap.max(1))),
            limits,
        }
    }

    /// The limits this pool enforces.
    pub fn limits(&self) -> TxLimits {
        self.limits
    }

    /// Takes a slot and a connection from `pool` (the transaction pool), starts a
    /// transaction on it with the isolation level and access mode of `options`, and
    /// returns its id. Fails with RESOURCE_EXHAUSTED when the cap stays reached.
    pub async fn begin(&self, pool: &Pool, options: Option<&ExecuteOptions>) -> Result<i64> {
        let (isolation, begin) = begin_statements(options);
        let wait = self.limits.pool_timeout;
        let slot = within(wait, self.slots.clone().acquire_owned())
            .await
            .and_then(|slot| slot.ok())
            .ok_or_else(pool_full)?;
        let mut conn = within(wait, pool.get_conn())
            .await
            .ok_or_else(pool_full)??;
        if let Some(isolation) = isolation {
            conn.query_drop(isolation).await?;
        }
        conn.query_drop(begin).await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let open = OpenTx {
            connection_id: conn.id(),
            conn: Arc::new(tokio::sync::Mutex::new(conn)),
            started: Instant::now(),
            _slot: slot,
        };
        self.lock().insert(id, open);
        Ok(id)
    }

    /// The connection of transaction `id`.
    pub fn get(&self, id: i64) -> Result<TxConn> {
        let conn = self.lock().get(&id).map(|open| open.conn.clone());
        conn.ok_or_else(|| self.not_found(id))
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

    /// Vitess's transaction killer: ends every transaction open longer than the timeout.
    /// An idle one is rolled back on its connection; one running a statement has its
    /// connection killed through a connection made with `admin`. Later use of such an id
    /// fails with `transaction N: ended at <time> (exceeded timeout: <timeout>)`.
    pub async fn kill_expired(&self, admin: &Opts) {
        let timeout = self.limits.timeout;
        if timeout.is_zero() {
            return;
        }
        let reason = format!("exceeded timeout: {}", go_duration(timeout));
        self.end_where(admin, &reason, |tx| tx.started.elapsed() >= timeout)
            .await;
    }

    /// Ends every open transaction as [`TxPool::kill_expired`] ends an expired one; later
    /// use of one fails with `transaction N: ended at <time> (<reason>)`. Returns how many
    /// were ended.
    pub async fn end_all(&self, admin: &Opts, reason: &str) -> usize {
        self.end_where(admin, reason, |_| true).await
    }

    async fn end_where(
        &self,
        admin: &Opts,
        reason: &str,
        condemned: impl Fn(&OpenTx) -> bool,
    ) -> usize {
        let ended: Vec<(i64, OpenTx)> = {
            let mut open = self.lock();
            let ids: Vec<i64> = open
                .iter()
                .filter(|(_, tx)| condemned(tx))
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| open.remove(&id).map(|tx| (id, tx)))
                .collect()
        };
        let count = ended.len();
        for (id, tx) in ended {
            tracing::warn!(transaction = id, "killing transaction ({reason})");
            self.remember_ended(id, format!("ended at {} ({reason})", vitess_now()));
            match tx.conn.try_lock() {
                Ok(mut conn) => {
                    if let Err(e) = conn.query_drop("rollback").await {
                        tracing::warn!(transaction = id, error = %e, "rollback of a killed transaction");
                    }
                }
                Err(_) => {
                    let killed = async {
                        let mut admin = Conn::new(admin.clone()).await?;
                        admin
                            .query_drop(format!("KILL {}", tx.connection_id))
                            .await?;
                        admin.disconnect().await
                    };
                    if let Err(e) = killed.await {
                        tracing::warn!(transaction = id, error = %e, "cannot kill a busy transaction");
                    }
                }
            }
        }
        count
    }

    async fn conclude(&self, id: i64, statement: &str) -> Result<()> {
        let open = self.lock().remove(&id).ok_or_else(|| self.not_found(id))?;
        let mut conn = open.conn.lock().await;
        conn.query_drop(statement).await?;
        Ok(())
    }

    fn remember_ended(&self, id: i64, reason: String) {
        let mut ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        ended.order.push_back(id);
        ended.reasons.insert(id, reason);
        while ended.order.len() > ENDED_MEMORY {
            if let Some(old) = ended.order.pop_front() {
                ended.reasons.remove(&old);
            }
        }
    }

    /// Vitess's text for an unknown or finished transaction (`tx_pool.go`, `numbered.go`).
    fn not_found(&self, id: i64) -> TabletError {
        let ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        let why = ended.reasons.get(&id).map_or("not found", String::as_str);
        TabletError::vitess(Code::Aborted, format!("transaction {id}: {why}"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, OpenTx>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Vitess's error when no transaction slot frees up in time.
fn pool_full() -> TabletError {
    TabletError::vitess(
        Code::ResourceExhausted,
        "transaction pool connection limit exceeded",
    )
}

/// A duration as Go prints it (`30s`, `1.5s`, `500ms`, `1m0s`).
pub fn go_duration(d: Duration) -> String {
    let millis = d.as_millis();
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let (minutes, rest) = (millis / 60_000, millis % 60_000);
    let seconds = if rest % 1000 == 0 {
        format!("{}s", rest / 1000)
    } else {
        let text = format!("{}.{:03}", rest / 1000, rest % 1000);
        format!("{}s", text.trim_end_matches('0'))
    };
    match (minutes / 60, minutes % 60) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

/// The current UTC time as Vitess formats it (`2006-01-02 15:04:05.000 MST`).
fn vitess_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60,
        now.subsec_millis()
    )
}

/// Year, month and day of a count of days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_and_dates() {
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_secs(3725)), "1h2m5s");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

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
