//! Query timeouts, as Vitess's vtgate takes them: `/*vt+ QUERY_TIMEOUT_MS=N */` in the
//! statement, else the session's `query_timeout` (`SET query_timeout = N`, milliseconds),
//! else `--query-timeout`; 0 means none.
//!
//! A statement with a timeout runs inside [`within`]: its deadline is task-local, and every
//! per-statement tablet call made meanwhile carries what is left of it as `grpc-timeout`
//! ([`grpc_timeout`]). The tablet interrupts the statement on MariaDB at the deadline
//! (`vttablet::deadline`) and fails the call with `DEADLINE_EXCEEDED`, which the client gets
//! as Vitess shows it: 1317 (SQLSTATE 70100) `target: ks.0.primary: vttablet: rpc error:
//! code = DeadlineExceeded desc = context deadline exceeded`. Should the tablet not answer a read outside a
//! transaction, vtgate stops waiting [`GRACE`] after the deadline with
//! [`VtError::QueryTimeout`]; anything else is waited for (abandoning a write or a statement
//! of a transaction half-way would leave the session's shard transactions unknown). A
//! streamed result (OLAP reads, reads over the tablet's row limit) is bounded by the tablet,
//! which ends the stream with the same error.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::VtError;

/// How long after the deadline vtgate keeps waiting for the tablet's own answer.
pub const GRACE: Duration = Duration::from_secs(2);

tokio::task_local! {
    static DEADLINE: Instant;
}

/// The timeout of a statement: its `QUERY_TIMEOUT_MS` directive, else `session` (the
/// session's `query_timeout`, as set), else `default`. None when that is 0.
pub fn for_statement(sql: &str, session: Option<&str>, default: Duration) -> Option<Duration> {
    // Most statements have no directive: skip the comment scan for them.
    let directive = sql
        .contains("vt+")
        .then(|| sql::split::block_comments(sql))
        .and_then(|bodies| {
            bodies.iter().find_map(|body| {
                body.strip_prefix("vt+")?.split_whitespace().find_map(|w| {
                    let (name, value) = w.split_once('=')?;
                    name.eq_ignore_ascii_case("QUERY_TIMEOUT_MS")
                        .then(|| value.parse::<u64>().ok())
                        .flatten()
                })
            })
        });
    let ms = directive.or_else(|| session.and_then(|v| v.trim().parse::<u64>().ok()));
    let timeout = ms.map_or(default, Duration::from_millis);
    (!timeout.is_zero()).then_some(timeout)
}

/// Runs `statement` with `timeout` (if any) as its deadline; with `abandonable` (a read
/// outside a transaction), gives up on it [`GRACE`] after the deadline.
pub fn within<T, F>(timeout: Option<Duration>, abandonable: bool, statement: F) -> Within<F>
where
    F: Future<Output = Result<T, VtError>>,
{
    within_grace(timeout, abandonable, GRACE, statement)
}

fn within_grace<T, F>(
    timeout: Option<Duration>,
    abandonable: bool,
    grace: Duration,
    statement: F,
) -> Within<F>
where
    F: Future<Output = Result<T, VtError>>,
{
    let deadline = timeout.map(|t| Instant::now() + t);
    let give_up = match (deadline, abandonable) {
        (Some(deadline), true) => Some(tokio::time::sleep_until(deadline + grace)),
        _ => None,
    };
    Within {
        statement,
        deadline,
        timeout_ms: timeout.map_or(0, |t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
        give_up,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`within`]. It holds the statement's future once, in place: this wraps
    /// every statement, and an `async fn` that awaits its argument in several branches
    /// would hold a copy of that (large) future's space per branch, moved at every query.
    pub struct Within<F> {
        #[pin]
        statement: F,
        deadline: Option<Instant>,
        timeout_ms: u64,
        #[pin]
        give_up: Option<tokio::time::Sleep>,
    }
}

impl<T, F> Future for Within<F>
where
    F: Future<Output = Result<T, VtError>>,
{
    type Output = Result<T, VtError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let statement = this.statement;
        let polled = match *this.deadline {
            Some(deadline) => DEADLINE.sync_scope(deadline, || statement.poll(cx)),
            None => statement.poll(cx),
        };
        if polled.is_ready() {
            return polled;
        }
        let gave_up = this
            .give_up
            .as_pin_mut()
            .is_some_and(|give_up| give_up.poll(cx).is_ready());
        if gave_up {
            return Poll::Ready(Err(VtError::QueryTimeout(*this.timeout_ms)));
        }
        Poll::Pending
    }
}

/// What is left of the current statement's deadline, if it has one (at least 1 ms: a
/// deadline already passed is the tablet's to report).
pub fn remaining() -> Option<Duration> {
    let deadline = DEADLINE.try_with(|d| *d).ok()?;
    let left = deadline.saturating_duration_since(Instant::now());
    Some(left.max(Duration::from_millis(1)))
}

/// [`remaining`] as a `grpc-timeout` value.
pub fn grpc_timeout() -> Option<String> {
    Some(format!("{}m", remaining()?.as_millis().min(99_999_999)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_then_session_then_flag() {
        let flag = Duration::from_millis(500);
        let sql = "select /*vt+ QUERY_TIMEOUT_MS=20 */ sleep(1)";
        assert_eq!(
            for_statement(sql, Some("70"), flag),
            Some(Duration::from_millis(20))
        );
        assert_eq!(
            for_statement("select sleep(1)", Some("70"), flag),
            Some(Duration::from_millis(70))
        );
        assert_eq!(for_statement("select 1", None, flag), Some(flag));
        assert_eq!(for_statement("select 1", None, Duration::ZERO), None);
        // 0 turns a timeout off, at any level.
        assert_eq!(for_statement("select 1", Some("0"), flag), None);
        let off = "select /*vt+ query_timeout_ms=0 */ 1";
        assert_eq!(for_statement(off, Some("70"), flag), None);
        // Not a directive: a plain comment, a string.
        assert_eq!(
            for_statement(
                "select /* QUERY_TIMEOUT_MS=5 */ '/*vt+ QUERY_TIMEOUT_MS=5 */'",
                None,
                Duration::ZERO
            ),
            None
        );
    }

    #[tokio::test]
    async fn calls_carry_what_is_left() {
        assert_eq!(grpc_timeout(), None);
        let header = within(Some(Duration::from_secs(3)), false, async {
            Ok(grpc_timeout())
        })
        .await
        .unwrap()
        .unwrap();
        let ms: u64 = header.strip_suffix('m').unwrap().parse().unwrap();
        assert!((2_900..=3_000).contains(&ms), "{header}");
    }

    #[tokio::test]
    async fn a_silent_read_is_abandoned_after_the_grace_and_nothing_else_is() {
        let (timeout, grace) = (Some(Duration::from_millis(10)), Duration::from_millis(10));
        let outcome: Result<(), VtError> =
            within_grace(timeout, true, grace, std::future::pending()).await;
        let err = outcome.unwrap_err();
        assert_eq!((err.errno(), err.sqlstate()), (1317, "70100"));
        let waited = within_grace(timeout, false, grace, async {
            tokio::time::sleep(Duration::from_millis(60)).await;
            Ok(7)
        })
        .await;
        assert_eq!(waited.unwrap(), 7);
    }
}
