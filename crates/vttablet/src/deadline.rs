//! Deadlines of calls: a caller's `grpc-timeout` (vtgate sends one when a statement has a
//! query timeout: `--query-timeout`, `SET query_timeout`, `/*vt+ QUERY_TIMEOUT_MS=N */`)
//! bounds the statement on MariaDB, as Vitess's tablet bounds it by the call's context.
//!
//! [`crate::grpc`] runs each per-statement call inside [`scope`]; the query service arms a
//! [`Watchdog`] on the MariaDB connection for the statement it runs. When the deadline passes
//! first, the watchdog runs `KILL QUERY` on that connection from an admin connection: MariaDB
//! interrupts the statement and answers it (its answer then is not the statement's: a lone
//! `SLEEP()` returns 1), and the call fails with `DEADLINE_EXCEEDED` `context deadline
//! exceeded`, as Vitess's tablet answers a call whose context ended; vtgate shows it as 1317
//! (SQLSTATE 70100). The connection stays consistent, so it returns to its pool (or stays
//! with its transaction).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use proto::vtrpc::Code;

use crate::error::TabletError;
use crate::tablet::Tablet;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `call` with `deadline` (if any) as its statements' deadline.
pub async fn scope<F: Future>(deadline: Option<Instant>, call: F) -> F::Output {
    match deadline {
        Some(d) => DEADLINE.scope(d, call).await,
        None => call.await,
    }
}

/// The deadline of the call being served, if it has one.
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

/// The error of a statement killed at its deadline, as Vitess's tablet answers a call whose
/// context ended (vtgate shows it as 1317, SQLSTATE 70100).
pub fn exceeded() -> TabletError {
    TabletError::vitess(Code::DeadlineExceeded, "context deadline exceeded")
}

/// The deadline a call's `grpc-timeout` header sets, counted from now.
pub fn of_call(headers: &http::HeaderMap) -> Option<Instant> {
    let timeout = parse_grpc_timeout(headers.get("grpc-timeout")?.as_bytes())?;
    Some(Instant::now() + timeout)
}

/// gRPC's `grpc-timeout` header value (`<digits><unit>`, unit one of `HMSmun`).
pub fn parse_grpc_timeout(value: &[u8]) -> Option<Duration> {
    let (&unit, digits) = value.split_last()?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b'H' => Duration::from_secs(n.checked_mul(3600)?),
        b'M' => Duration::from_secs(n.checked_mul(60)?),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Kills the statement running on a MariaDB connection once a deadline passes, unless
/// disarmed first.
pub struct Watchdog {
    task: JoinHandle<()>,
    /// Held by the task while it kills, so disarming waits for a kill under way and the
    /// connection is never handed on with one still to arrive.
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    disarmed: bool,
    killed: bool,
}

impl Watchdog {
    /// Watches MariaDB connection `connection_id` of `tablet` until `deadline`.
    pub fn arm(tablet: Arc<Tablet>, connection_id: u32, deadline: Instant) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            let mut state = shared.lock().await;
            if state.disarmed {
                return;
            }
            tracing::info!(connection_id, "query timeout: killing the statement");
            match crate::result::kill_query(tablet.admin_opts_ref(), connection_id).await {
                Ok(()) => state.killed = true,
                Err(e) => {
                    tracing::warn!(connection_id, error = %e, "cannot kill a timed-out statement");
                }
            }
        });
        Watchdog { task, state }
    }

    /// Stops watching; returns once no kill can still reach the connection, with whether
    /// the statement was killed (its answer, if any, is then not the statement's).
    pub async fn disarm(self) -> bool {
        let mut state = self.state.lock().await;
        state.disarmed = true;
        self.task.abort();
        state.killed
    }
}

impl Drop for Watchdog {
    /// A statement abandoned without [`Watchdog::disarm`] (its call dropped) is not killed
    /// later, when its connection may run another.
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values() {
        assert_eq!(
            parse_grpc_timeout(b"250m"),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_grpc_timeout(b"3S"), Some(Duration::from_secs(3)));
        assert_eq!(parse_grpc_timeout(b"2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout(b"1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout(b"7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout(b"9n"), Some(Duration::from_nanos(9)));
        for bad in [
            &b""[..],
            b"m",
            b"12",
            b"12x",
            b"-1m",
            b"123456789m",
            b"1.5S",
        ] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn scope_sets_the_deadline_for_its_call_only() {
        assert_eq!(current(), None);
        let d = Instant::now() + Duration::from_secs(1);
        assert_eq!(scope(Some(d), async { current() }).await, Some(d));
        assert_eq!(scope(None, async { current() }).await, None);
        assert_eq!(current(), None);
    }
}
