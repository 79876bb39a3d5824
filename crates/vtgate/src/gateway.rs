//! The tablet gateway: runs queries on a (keyspace, shard, tablet type) target by picking a
//! usable tablet from the health check, over that tablet's shared HTTP/2 channel. Errors are
//! prefixed `target: ks.shard.type: ` as Vitess does; outside transactions, a tablet that
//! cannot be reached is retried on another one.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use proto::query::{
    self, BeginExecuteRequest, BeginExecuteResponse, BoundQuery, CommitRequest, CommitResponse,
    ExecuteOptions, ExecuteRequest, ExecuteResponse, QueryResult, RollbackRequest,
    RollbackResponse, StreamExecuteRequest, VtGateCallerId,
};
use proto::topodata::{TabletAlias, TabletType};
use proto::vtrpc::{CallerId, RpcError};

use crate::error::{tablet_error, VtError};
use crate::healthcheck::{HealthCheck, TabletConn};
use crate::session::ShardSession;

const EXECUTE: &str = "/queryservice.Query/Execute";
const BEGIN_EXECUTE: &str = "/queryservice.Query/BeginExecute";
const COMMIT: &str = "/queryservice.Query/Commit";
const ROLLBACK: &str = "/queryservice.Query/Rollback";

/// A stream of partial results: the first carries the fields, the others rows.
pub type ResultStream = Pin<Box<dyn Stream<Item = Result<QueryResult, VtError>> + Send>>;

/// Where a query goes: keyspace, shard and tablet type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShardTarget {
    /// Keyspace.
    pub keyspace: String,
    /// Shard name.
    pub shard: String,
    /// Tablet type.
    pub tablet_type: TabletType,
}

impl ShardTarget {
    /// The target as the tablet RPCs carry it.
    pub fn to_proto(&self) -> query::Target {
        query::Target {
            keyspace: self.keyspace.clone(),
            shard: self.shard.clone(),
            tablet_type: self.tablet_type as i32,
            cell: String::new(),
        }
    }
}

impl fmt::Display for ShardTarget {
    /// `ks.shard.type`, as Vitess prefixes tablet errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.keyspace, self.shard, self.tablet_type)
    }
}

/// Who runs the query, as sent to the tablet.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The MySQL user name (effective caller principal).
    pub user: String,
    /// The auth entry's user data (immediate caller user name).
    pub user_data: String,
}

impl Caller {
    fn effective(&self) -> Option<CallerId> {
        Some(CallerId {
            principal: self.user.clone(),
            ..Default::default()
        })
    }

    fn immediate(&self) -> Option<VtGateCallerId> {
        Some(VtGateCallerId {
            username: self.user_data.clone(),
            groups: Vec::new(),
        })
    }
}

/// Runs queries on tablets chosen by the health check.
#[derive(Clone)]
pub struct Gateway {
    hc: HealthCheck,
    retry_count: usize,
}

impl Gateway {
    /// A gateway over `hc`, trying up to `retry_count` other tablets when one is unreachable.
    pub fn new(hc: HealthCheck, retry_count: usize) -> Self {
        Gateway { hc, retry_count }
    }

    /// The health check the gateway uses.
    pub fn health(&self) -> &HealthCheck {
        &self.hc
    }

    /// Picks a usable tablet of the target, avoiding those in `tried`.
    fn pick(
        &self,
        target: &ShardTarget,
        tried: &[TabletAlias],
    ) -> Result<Arc<TabletConn>, VtError> {
        self.hc
            .pick(&target.keyspace, &target.shard, target.tablet_type, tried)
            .ok_or_else(|| no_healthy(target))
    }

    /// Runs a query outside any transaction.
    pub async fn execute(
        &self,
        target: &ShardTarget,
        query: &BoundQuery,
        caller: &Caller,
        options: &ExecuteOptions,
    ) -> Result<QueryResult, VtError> {
        // The request names the target, not a tablet: a retry sends the same one.
        let req = ExecuteRequest {
            effective_caller_id: caller.effective(),
            immediate_caller_id: caller.immediate(),
            target: Some(target.to_proto()),
            query: Some(query.clone()),
            transaction_id: 0,
            options: Some(options.clone()),
            reserved_id: 0,
        };
        let mut tried = Vec::new();
        loop {
            let tablet = self.pick(target, &tried)?;
            match tablet.unary.call::<_, ExecuteResponse>(EXECUTE, &req).await {
                Ok(resp) => return Ok(resp.result.unwrap_or_default()),
                Err(st) if retryable(&st) && tried.len() < self.retry_count => {
                    tracing::info!(tablet = %tablet.alias, error = %st, "retrying on another tablet");
                    tried.push(tablet.alias.clone());
                }
                Err(st) => return Err(tablet_error(&target.to_string(), &st)),
            }
        }
    }

    /// Runs a query inside the transaction of `ss`, on the tablet holding it.
    pub async fn execute_in_tx(
        &self,
        ss: &ShardSession,
        query: &BoundQuery,
        caller: &Caller,
        options: &ExecuteOptions,
    ) -> Result<QueryResult, VtError> {
        let target = shard_target(ss);
        let req = ExecuteRequest {
            effective_caller_id: caller.effective(),
            immediate_caller_id: caller.immediate(),
            target: Some(target.to_proto()),
            query: Some(query.clone()),
            transaction_id: ss.transaction_id,
            options: Some(options.clone()),
            reserved_id: 0,
        };
        match ss
            .tablet
            .unary
            .call::<_, ExecuteResponse>(EXECUTE, &req)
            .await
        {
            Ok(resp) => Ok(resp.result.unwrap_or_default()),
            Err(st) => Err(tablet_error(&target.to_string(), &st)),
        }
    }

    /// Streams a query's results outside any transaction.
    pub async fn stream_execute(
        &self,
        target: &ShardTarget,
        query: &BoundQuery,
        caller: &Caller,
        options: &ExecuteOptions,
    ) -> Result<ResultStream, VtError> {
        let mut tried = Vec::new();
        loop {
            let tablet = self.pick(target, &tried)?;
            match stream_on(&tablet, target, query, caller, options, 0).await {
                Err(st) if retryable(&st) && tried.len() < self.retry_count => {
                    tried.push(tablet.alias.clone());
                }
                other => return other.map_err(|st| tablet_error(&target.to_string(), &st)),
            }
        }
    }

    /// Streams a query's results inside the transaction of `ss`, on the tablet holding it.
    pub async fn stream_execute_in_tx(
        &self,
        ss: &ShardSession,
        query: &BoundQuery,
        caller: &Caller,
        options: &ExecuteOptions,
    ) -> Result<ResultStream, VtError> {
        let target = shard_target(ss);
        stream_on(
            &ss.tablet,
            &target,
            query,
            caller,
            options,
            ss.transaction_id,
        )
        .await
        .map_err(|st| tablet_error(&target.to_string(), &st))
    }

    /// Begins a transaction on a tablet of `target`, runs `pre_queries` in it (the
    /// transaction's savepoints, as Vitess sends them; the begin fails if one does), then
    /// the first query. The shard session is returned also when the query fails (the
    /// transaction is open).
    pub async fn begin_execute(
        &self,
        target: &ShardTarget,
        pre_queries: &[String],
        query: &BoundQuery,
        caller: &Caller,
        options: &ExecuteOptions,
    ) -> Result<(ShardSession, Result<QueryResult, VtError>), VtError> {
        let tablet = self.pick(target, &[])?;
        let req = BeginExecuteRequest {
            effective_caller_id: caller.effective(),
            immediate_caller_id: caller.immediate(),
            target: Some(target.to_proto()),
            query: Some(query.clone()),
            options: Some(options.clone()),
            reserved_id: 0,
            pre_queries: pre_queries.to_vec(),
        };
        let resp = tablet
            .unary
            .call::<_, BeginExecuteResponse>(BEGIN_EXECUTE, &req)
            .await
            .map_err(|st| tablet_error(&target.to_string(), &st))?;
        if resp.transaction_id == 0 {
            let err = resp.error.map_or_else(
                || VtError::Other(format!("target: {target}: begin returned no transaction")),
                |e| rpc_error(target, &e),
            );
            return Err(err);
        }
        let ss = ShardSession {
            keyspace: target.keyspace.clone(),
            shard: target.shard.clone(),
            tablet_type: target.tablet_type,
            transaction_id: resp.transaction_id,
            tablet,
        };
        let result = match resp.error {
            Some(e) => Err(rpc_error(target, &e)),
            None => Ok(resp.result.unwrap_or_default()),
        };
        Ok((ss, result))
    }

    /// Commits a shard transaction.
    pub async fn commit(&self, ss: &ShardSession, caller: &Caller) -> Result<(), VtError> {
        let target = shard_target(ss);
        let req = CommitRequest {
            effective_caller_id: caller.effective(),
            immediate_caller_id: caller.immediate(),
            target: Some(target.to_proto()),
            transaction_id: ss.transaction_id,
        };
        ss.tablet
            .unary
            .call::<_, CommitResponse>(COMMIT, &req)
            .await
            .map(|_| ())
            .map_err(|st| tablet_error(&target.to_string(), &st))
    }

    /// Rolls a shard transaction back.
    pub async fn rollback(&self, ss: &ShardSession, caller: &Caller) -> Result<(), VtError> {
        let target = shard_target(ss);
        let req = RollbackRequest {
            effective_caller_id: caller.effective(),
            immediate_caller_id: caller.immediate(),
            target: Some(target.to_proto()),
            transaction_id: ss.transaction_id,
        };
        ss.tablet
            .unary
            .call::<_, RollbackResponse>(ROLLBACK, &req)
            .await
            .map(|_| ())
            .map_err(|st| tablet_error(&target.to_string(), &st))
    }
}

/// Starts a StreamExecute on `tablet` (in transaction `transaction_id` when not 0).
async fn stream_on(
    tablet: &TabletConn,
    target: &ShardTarget,
    query: &BoundQuery,
    caller: &Caller,
    options: &ExecuteOptions,
    transaction_id: i64,
) -> Result<ResultStream, tonic::Status> {
    let req = StreamExecuteRequest {
        effective_caller_id: caller.effective(),
        immediate_caller_id: caller.immediate(),
        target: Some(target.to_proto()),
        query: Some(query.clone()),
        options: Some(options.clone()),
        transaction_id,
        reserved_id: 0,
    };
    let mut request = tonic::Request::new(req);
    if let Some(left) = crate::timeout::remaining() {
        // The tablet ends the stream at the deadline (tonic sends it as `grpc-timeout`).
        request.set_timeout(left);
    }
    let resp = tablet.client.clone().stream_execute(request).await?;
    let name = target.to_string();
    let stream = resp.into_inner().map(move |item| match item {
        Ok(r) => Ok(r.result.unwrap_or_default()),
        Err(st) => Err(tablet_error(&name, &st)),
    });
    Ok(Box::pin(stream))
}

fn shard_target(ss: &ShardSession) -> ShardTarget {
    ShardTarget {
        keyspace: ss.keyspace.clone(),
        shard: ss.shard.clone(),
        tablet_type: ss.tablet_type,
    }
}

/// Errors that mean the tablet was not reached, so another tablet may be tried.
fn retryable(st: &tonic::Status) -> bool {
    st.code() == tonic::Code::Unavailable
}

/// Vitess's error for a target without a usable tablet.
pub fn no_healthy(target: &ShardTarget) -> VtError {
    VtError::Other(format!(
        "target: {target}: no healthy tablet available for 'keyspace:\"{}\" shard:\"{}\" tablet_type:{}'",
        target.keyspace,
        target.shard,
        target.tablet_type.as_str_name()
    ))
}

/// An in-band tablet error (BeginExecute's `error`), formatted like a gRPC one.
fn rpc_error(target: &ShardTarget, e: &RpcError) -> VtError {
    let code = proto::vtrpc::Code::try_from(e.code).unwrap_or(proto::vtrpc::Code::Unknown);
    let status = tonic::Status::new(grpc_code(code), e.message.clone());
    tablet_error(&target.to_string(), &status)
}

fn grpc_code(code: proto::vtrpc::Code) -> tonic::Code {
    use proto::vtrpc::Code as V;
    use tonic::Code as G;
    match code {
        V::Ok => G::Ok,
        V::Canceled => G::Cancelled,
        V::Unknown => G::Unknown,
        V::InvalidArgument => G::InvalidArgument,
        V::DeadlineExceeded => G::DeadlineExceeded,
        V::NotFound => G::NotFound,
        V::AlreadyExists => G::AlreadyExists,
        V::PermissionDenied => G::PermissionDenied,
        V::ResourceExhausted => G::ResourceExhausted,
        V::FailedPrecondition | V::ClusterEvent | V::ReadOnly => G::FailedPrecondition,
        V::Aborted => G::Aborted,
        V::OutOfRange => G::OutOfRange,
        V::Unimplemented => G::Unimplemented,
        V::Internal => G::Internal,
        V::Unavailable => G::Unavailable,
        V::DataLoss => G::DataLoss,
        V::Unauthenticated => G::Unauthenticated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_text_and_no_tablet_error() {
        let t = ShardTarget {
            keyspace: "commerce".into(),
            shard: "0".into(),
            tablet_type: TabletType::Replica,
        };
        assert_eq!(t.to_string(), "commerce.0.replica");
        assert_eq!(
            no_healthy(&t).to_string(),
            "target: commerce.0.replica: no healthy tablet available for 'keyspace:\"commerce\" shard:\"0\" tablet_type:REPLICA'"
        );
    }

    #[tokio::test]
    async fn no_tablets_means_no_healthy_tablet() {
        let gw = Gateway::new(HealthCheck::new(std::time::Duration::from_secs(60)), 2);
        let t = ShardTarget {
            keyspace: "ks".into(),
            shard: "0".into(),
            tablet_type: TabletType::Primary,
        };
        let err = gw
            .execute(
                &t,
                &BoundQuery {
                    sql: "select 1".into(),
                    bind_variables: Default::default(),
                },
                &Caller::default(),
                &ExecuteOptions::default(),
            )
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("no healthy tablet available"),
            "{err}"
        );
    }
}
