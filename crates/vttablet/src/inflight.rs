//! The query-service requests under way, so that a demotion can wait until none is.
//!
//! Every Execute, StreamExecute, Begin, BeginExecute, Commit and Rollback holds an
//! [`InFlightGuard`] (a read lock) from before it checks the tablet's state until it has
//! finished with MariaDB. A primary being demoted first changes its state, so that requests
//! are refused, then calls [`InFlight::wait_idle`], which takes the write side once: it gets it
//! when every request that may have seen the tablet serving has finished. The lock is fair, so
//! requests arriving meanwhile queue behind the demotion (and are then refused) instead of
//! keeping it waiting.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedRwLockReadGuard, RwLock};

/// The gate every query-service request passes.
#[derive(Debug, Default)]
pub struct InFlight {
    gate: Arc<RwLock<()>>,
}

/// One request under way; dropping it lets a waiting demotion go on.
#[derive(Debug)]
#[must_use = "the request is counted only while the guard lives"]
pub struct InFlightGuard {
    _read: OwnedRwLockReadGuard<()>,
}

impl InFlight {
    /// Counts one request in until the guard is dropped (waits only while a demotion is
    /// waiting for the requests before it).
    pub async fn enter(&self) -> InFlightGuard {
        InFlightGuard {
            _read: self.gate.clone().read_owned().await,
        }
    }

    /// Waits until every request that entered before this call has finished, at most
    /// `timeout`; false when some still run.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.gate.write())
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_the_requests_before_it_not_after() {
        let gate = Arc::new(InFlight::default());
        assert!(gate.wait_idle(Duration::from_millis(10)).await);
        let first = gate.enter().await;
        let second = gate.enter().await;
        assert!(!gate.wait_idle(Duration::from_millis(10)).await);
        drop(first);
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.wait_idle(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        // A request arriving now queues behind the waiting demotion.
        let late = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _busy = gate.enter().await;
                tokio::time::sleep(Duration::from_secs(60)).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(second);
        assert!(waiter.await.unwrap(), "the late request did not hold it up");
        late.abort();
    }
}
