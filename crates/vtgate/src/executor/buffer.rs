//! Buffering during traffic switches (Vitess `go/vt/vtgate/buffer`, `--enable-buffer`):
//! a statement that fails because its tables are being moved (`disallowed due to rule`,
//! FAILED_PRECONDITION, on the source primary once a MoveTables write switch denies them) or
//! because its shard stops serving (`operation not allowed in state NOT_SERVING`, a Reshard)
//! or because its shard has no serving primary (a Reshard write switch disables the source
//! primaries before the new ones serve; Vitess's `current keyspace is being resharded`) is
//! held and routed and run again when the serving graph changes (new SrvVSchema routing
//! rules or SrvKeyspace partitions) and every [`RETRY_INTERVAL`] (new primaries report
//! serving through their health streams, after the graph changed), for at most
//! `--buffer-window`. Outside a switch, or when the window runs out, the error reaches the
//! client unchanged.
//!
//! A session pinned to a shard (`use commerce/0`) does not follow routing rules, so a
//! denied-tables refusal there cannot end with a switch and reaches the client at once.
//!
//! Only statements that have done nothing yet are held: autocommit statements, and the
//! first statement of a transaction (whose just-opened shard transaction is rolled back
//! before the retry). A statement inside a transaction that already wrote is never retried.

use futures::StreamExt;
use sql::classify::StatementKind;
use tokio::time::Instant;

use super::{Executor, Reply};
use crate::error::VtError;
use crate::gateway::Caller;
use crate::session::Session;

/// Tablet error texts that mean "a switch or failover is under way".
const FAILOVER_SIGNALS: &[&str] = &[
    "disallowed due to rule",
    "operation not allowed in state NOT_SERVING",
    "primary is not serving, there may be a reparent operation in progress",
    "current keyspace is being resharded",
];

/// How often a held statement is tried again while the serving graph does not change.
const RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// Whether `err` is a tablet error that a traffic switch or failover explains, or the
/// absence of a serving primary (vtgate's own `no healthy tablet available` error).
pub(crate) fn is_failover_error(err: &VtError) -> bool {
    match err {
        VtError::Tablet { message, .. } | VtError::Engine { message, .. } => {
            FAILOVER_SIGNALS.iter().any(|s| message.contains(s))
        }
        VtError::Other(message) => {
            message.contains("no healthy tablet available")
                && message.contains("tablet_type:PRIMARY'")
        }
        _ => false,
    }
}

/// Whether `err` is a tablet refusing tables that a MoveTables moved away.
fn is_denied_tables(err: &VtError) -> bool {
    matches!(err, VtError::Tablet { message, .. } if message.contains("disallowed due to rule"))
}

impl Executor {
    /// Runs a statement, holding it through a traffic switch when buffering is enabled and
    /// the statement can be retried safely.
    pub(super) async fn run_buffered(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
        kind: &StatementKind,
    ) -> Result<Reply, VtError> {
        let retryable = !session.has_shard_sessions();
        let Some(window) = self.buffer_window.filter(|_| retryable) else {
            return self.run_statement(session, caller, sql, kind).await;
        };
        let deadline = Instant::now() + window;
        let was_in_tx = session.in_transaction;
        // Taken before any shard joined the transaction: still right after a retry's rollback.
        let savepoints = session.savepoints.clone();
        loop {
            let mut changes = self.topology.subscribe();
            changes.borrow_and_update();
            let err = match self.run_statement(session, caller, sql, kind).await {
                Ok(Reply::Stream(mut stream)) => match stream.next().await {
                    Some(Err(e)) if is_failover_error(&e) => e,
                    first => {
                        let rest = futures::stream::iter(first).chain(stream);
                        return Ok(Reply::Stream(Box::pin(rest)));
                    }
                },
                Err(e) if is_failover_error(&e) => e,
                other => return other,
            };
            if session.target().destination.is_some() && is_denied_tables(&err) {
                return Err(err);
            }
            if session.has_shard_sessions() {
                if let Err(e) = self.rollback(session, caller).await {
                    tracing::warn!(error = %e, "rolling back before a buffered retry");
                }
            }
            session.in_transaction = was_in_tx;
            session.savepoints = savepoints.clone();
            if Instant::now() >= deadline {
                tracing::warn!(error = %err, "buffer window expired");
                return Err(err);
            }
            tracing::info!(error = %err, "buffering a statement until the switch is over");
            let wake = (Instant::now() + RETRY_INTERVAL).min(deadline);
            if let Ok(Ok(())) = tokio::time::timeout_at(wake, changes.changed()).await {
                tracing::info!("serving graph changed; retrying a buffered statement");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tablet(message: &str) -> VtError {
        VtError::Tablet {
            message: message.into(),
            errno: 1105,
            sqlstate: "HY000".into(),
        }
    }

    #[test]
    fn switch_errors_are_recognised() {
        assert!(is_failover_error(&tablet(
            "target: commerce.0.primary: vttablet: rpc error: code = FailedPrecondition desc = disallowed due to rule: enforce denied tables (CallerID: x)"
        )));
        assert!(is_failover_error(&tablet(
            "target: customer.0.primary: vttablet: rpc error: code = Unavailable desc = operation not allowed in state NOT_SERVING"
        )));
        assert!(!is_failover_error(&tablet(
            "target: commerce.0.primary: vttablet: Duplicate entry '1' for key 'PRIMARY'"
        )));
        assert!(!is_failover_error(&VtError::Other(
            "disallowed due to rule".into()
        )));
        let primary = crate::gateway::no_healthy(&crate::gateway::ShardTarget {
            keyspace: "customer".into(),
            shard: "80-".into(),
            tablet_type: proto::topodata::TabletType::Primary,
        });
        assert!(is_failover_error(&primary), "{primary}");
        let replica = crate::gateway::no_healthy(&crate::gateway::ShardTarget {
            keyspace: "customer".into(),
            shard: "80-".into(),
            tablet_type: proto::topodata::TabletType::Replica,
        });
        assert!(!is_failover_error(&replica), "{replica}");
        assert!(is_denied_tables(&tablet(
            "target: commerce.0.primary: vttablet: rpc error: code = FailedPrecondition desc = disallowed due to rule: enforce denied tables (CallerID: x)"
        )));
        assert!(!is_denied_tables(&primary));
    }
}
