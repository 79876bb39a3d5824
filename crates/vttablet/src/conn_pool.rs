//! The query pool: MariaDB connections for statements outside transactions.
//!
//! mysql_async's own pool hands every returned connection to a recycler task of its own,
//! which puts it back on the idle list: one more task woken per statement, often on the
//! other worker thread. Here a connection goes back to the idle list as its guard drops,
//! when the statement that used it ran to its end ([`PooledConn::finished`]); one dropped
//! mid-statement (its call abandoned, an I/O error) is closed instead, since its protocol
//! state is unknown.
//!
//! At most `size` connections are out at once (`--queryserver-config-pool-size`); idle
//! ones are kept for [`IDLE_TTL`] and then closed, as Vitess's pool does with its idle
//! timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mysql_async::{Conn, Opts};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a connection may stay idle before it is closed.
pub const IDLE_TTL: Duration = Duration::from_secs(300);

/// Why no connection was handed out.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every connection stayed in use for the whole wait.
    #[error("resource pool timed out")]
    TimedOut,
    /// Connecting to MariaDB failed.
    #[error(transparent)]
    Connect(#[from] mysql_async::Error),
}

/// A bounded pool of connections to the tablet's MariaDB.
#[derive(Debug)]
pub struct ConnPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    opts: Opts,
    /// One permit per connection that may be out.
    slots: Arc<Semaphore>,
    /// Idle connections, the most recently returned last.
    idle: Mutex<Vec<Idle>>,
    closed: AtomicBool,
}

#[derive(Debug)]
struct Idle {
    conn: Conn,
    since: Instant,
}

impl ConnPool {
    /// A pool of at most `size` connections (at least one) opened with `opts`.
    pub fn new(opts: Opts, size: usize) -> Self {
        ConnPool {
            inner: Arc::new(Inner {
                opts,
                slots: Arc::new(Semaphore::new(size.max(1))),
                idle: Mutex::new(Vec::new()),
                closed: AtomicBool::new(false),
            }),
        }
    }

    /// A connection, waiting at most `wait` for one to be free; an idle one when there is
    /// one, else a new one.
    pub async fn get(&self, wait: Duration) -> Result<PooledConn, PoolError> {
        // A free slot is the common case: take it without arming a timer.
        let slot = match self.inner.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => tokio::time::timeout(wait, self.inner.slots.clone().acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or(PoolError::TimedOut)?,
        };
        let conn = match self.inner.take_idle() {
            Some(conn) => conn,
            None => Conn::new(self.inner.opts.clone()).await?,
        };
        Ok(PooledConn {
            conn: Some(conn),
            finished: false,
            pool: self.inner.clone(),
            _slot: slot,
        })
    }

    /// Closes the idle connections and every one returned from now on.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let idle = std::mem::take(&mut *self.inner.lock());
        for Idle { conn, .. } in idle {
            if let Err(e) = conn.disconnect().await {
                tracing::debug!(error = %e, "closing a pooled connection");
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Vec<Idle>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The most recently returned idle connection, closing those idle too long.
    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.lock();
        let now = Instant::now();
        // The oldest are first: drop those past their time, keep the rest.
        let expired = idle
            .iter()
            .take_while(|i| now.duration_since(i.since) > IDLE_TTL)
            .count();
        // Dropping a connection outside a pool closes it in a task of mysql_async's.
        idle.drain(..expired);
        idle.pop().map(|i| i.conn)
    }

    fn put_back(&self, conn: Conn) {
        if self.closed.load(Ordering::Acquire) || conn.is_disconnected() {
            return;
        }
        self.lock().push(Idle {
            conn,
            since: Instant::now(),
        });
    }
}

/// A connection out of the pool; back in it when dropped, if [`PooledConn::finished`] was
/// called since it was handed out.
#[derive(Debug)]
pub struct PooledConn {
    conn: Option<Conn>,
    finished: bool,
    pool: Arc<Inner>,
    _slot: OwnedSemaphorePermit,
}

impl PooledConn {
    /// Says the statements run on this connection have ended (with an answer or a MariaDB
    /// error), so it can serve another.
    pub fn finished(&mut self) {
        self.finished = true;
    }
}

impl std::ops::Deref for PooledConn {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        // Only `drop` takes the connection out.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("a pooled connection is taken only on drop"))
    }
}

impl std::ops::DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut Conn {
        self.finished = false;
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("a pooled connection is taken only on drop"))
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.finished {
                self.pool.put_back(conn);
            }
        }
    }
}
