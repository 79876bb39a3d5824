//! `queryservice.Query`: Execute, StreamExecute, Begin, Commit, Rollback,
//! BeginExecute and StreamHealth on the tablet's MariaDB. Every request is
//! counted while under way ([`crate::inflight`], so that a demotion can wait for it) and
//! checked against the tablet's target and rules first; the other RPCs
//! answer UNIMPLEMENTED. `select next N values from seq` is answered by the tablet's
//! [`crate::sequence`] cache, never sent to MariaDB.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use proto::query::{
    execute_options::IncludedFields, BeginExecuteRequest, BeginExecuteResponse, BeginRequest,
    BeginResponse, BeginStreamExecuteRequest, BeginStreamExecuteResponse, BindVariable, BoundQuery,
    CommitRequest, CommitResponse, ExecuteOptions, ExecuteRequest, ExecuteResponse, QueryResult,
    RealtimeStats, ReleaseRequest, ReleaseResponse, ReserveBeginExecuteRequest,
    ReserveBeginExecuteResponse, ReserveBeginStreamExecuteRequest,
    ReserveBeginStreamExecuteResponse, ReserveExecuteRequest, ReserveExecuteResponse,
    ReserveStreamExecuteRequest, ReserveStreamExecuteResponse, RollbackRequest, RollbackResponse,
    StreamExecuteRequest, StreamExecuteResponse, StreamHealthRequest, StreamHealthResponse, Target,
    Type, VtGateCallerId,
};
use proto::queryservice::query_server::Query;
use proto::vtrpc::Code;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::deadline::{self, Watchdog};
use crate::error::{Result, TabletError};
use crate::result;
use crate::sequence;
use crate::state::Snapshot;
use crate::tablet::Tablet;

/// The bind variable standing for a schema name in vtgate's `information_schema` queries.
const SCHEMA_NAME: &str = "__vtschemaname";
/// Set when [`SCHEMA_NAME`] is to be this tablet's database name.
const REPLACE_SCHEMA_NAME: &str = "__replacevtschemaname";

type BoxStream<T> = Pin<Box<dyn Stream<Item = std::result::Result<T, Status>> + Send>>;

/// What a request runs once checked.
enum Prepared {
    /// SQL for MariaDB, bind variables substituted.
    Sql(Vec<u8>),
    /// `select next N values from seq`, answered by the tablet.
    Next {
        request: sequence::NextValues,
        count: i64,
    },
}

/// The gRPC query service of one tablet.
#[derive(Debug, Clone)]
pub struct QueryService {
    tablet: Arc<Tablet>,
    health_interval: Duration,
}

impl QueryService {
    /// Serves `tablet`; StreamHealth repeats the state every `health_interval`.
    pub fn new(tablet: Arc<Tablet>, health_interval: Duration) -> Self {
        QueryService {
            tablet,
            health_interval,
        }
    }

    /// Vitess's `verifyTarget`: keyspace and shard must match, and the type
    /// must be the tablet's current type.
    fn verify_target(&self, target: Option<&Target>, snapshot: &Snapshot) -> Result<()> {
        let Some(target) = target else {
            return Err(TabletError::vitess(Code::InvalidArgument, "No target"));
        };
        if target.keyspace != self.tablet.keyspace {
            return Err(TabletError::vitess(
                Code::InvalidArgument,
                format!(
                    "invalid keyspace {} does not match expected {}",
                    target.keyspace, self.tablet.keyspace
                ),
            ));
        }
        if !target.shard.eq_ignore_ascii_case(&self.tablet.shard) {
            return Err(TabletError::vitess(
                Code::InvalidArgument,
                format!(
                    "invalid shard {} does not match expected {}",
                    target.shard, self.tablet.shard
                ),
            ));
        }
        if target.tablet_type() != snapshot.tablet_type {
            return Err(TabletError::vitess(
                Code::FailedPrecondition,
                format!(
                    "wrong tablet type: {}, want: {}",
                    target.tablet_type().as_str_name(),
                    snapshot.tablet_type.as_str_name()
                ),
            ));
        }
        if snapshot.refuses_queries() {
            return Err(TabletError::vitess(
                Code::Unavailable,
                "operation not allowed in state NOT_SERVING",
            ));
        }
        Ok(())
    }

    /// Checks the target and rules and returns what to run: the SQL to send to MariaDB
    /// (bytes: bind variables may hold strings that are not UTF-8), or a sequence request
    /// the tablet answers itself. The rules see the statement with its placeholders; values
    /// do not change its kind or tables.
    fn prepare(&self, target: Option<&Target>, query: Option<&BoundQuery>) -> Result<Prepared> {
        let snapshot = self.tablet.state.snapshot();
        self.verify_target(target, &snapshot)?;
        let query = query.ok_or_else(|| TabletError::vitess(Code::InvalidArgument, "no query"))?;
        let statement = crate::rules::strip_set_statement(&query.sql);
        let kind = sql::classify::classify(statement);
        crate::rules::check(statement, &kind, &snapshot)?;
        if let Some(request) = sequence::recognise(statement) {
            let count = sequence::resolve_count(&request, &query.bind_variables)?;
            return Ok(Prepared::Next { request, count });
        }
        let sql = if query.bind_variables.contains_key(REPLACE_SCHEMA_NAME) {
            // vtgate's information_schema query for a keyspace: the schema it names is this
            // tablet's database (Vitess's `__vtschemaname`).
            let mut vars = query.bind_variables.clone();
            vars.insert(
                SCHEMA_NAME.to_string(),
                BindVariable {
                    r#type: Type::Varchar as i32,
                    value: self.tablet.db_name.as_bytes().to_vec(),
                    values: Vec::new(),
                },
            );
            crate::bind::substitute(&query.sql, &vars)?.into_owned()
        } else {
            crate::bind::substitute(&query.sql, &query.bind_variables)?.into_owned()
        };
        if kind == sql::classify::StatementKind::Ddl {
            self.tablet.columns.invalidate();
        }
        Ok(Prepared::Sql(sql))
    }

    /// Checks BeginExecute's pre-queries like any query; a sequence request cannot be one
    /// (it never runs in a transaction).
    fn prepare_pre_queries(
        &self,
        target: Option<&Target>,
        queries: &[String],
    ) -> Result<Vec<Vec<u8>>> {
        queries
            .iter()
            .map(|sql| {
                let query = BoundQuery {
                    sql: sql.clone(),
                    bind_variables: Default::default(),
                };
                match self.prepare(target, Some(&query))? {
                    Prepared::Sql(sql) => Ok(sql),
                    Prepared::Next { .. } => Err(TabletError::vitess(
                        Code::InvalidArgument,
                        "a sequence request cannot be a pre-query",
                    )),
                }
            })
            .collect()
    }

    /// Runs what [`Self::prepare`] returned: SQL in transaction `transaction_id` (0: none),
    /// a sequence request always outside it (as Vitess does).
    async fn run_prepared(
        &self,
        prepared: &Prepared,
        transaction_id: i64,
        options: Option<&ExecuteOptions>,
    ) -> Result<QueryResult> {
        match prepared {
            Prepared::Sql(sql) => self.run(sql, transaction_id, options).await,
            Prepared::Next { request, count } => {
                let first = self
                    .tablet
                    .sequences
                    .next(&self.tablet, request, *count)
                    .await?;
                Ok(sequence::result(first))
            }
        }
    }

    async fn run(
        &self,
        sql: &[u8],
        transaction_id: i64,
        options: Option<&ExecuteOptions>,
    ) -> Result<QueryResult> {
        let mut result = if transaction_id != 0 {
            let conn = self.tablet.txs.get(transaction_id)?;
            let mut conn = conn.lock().await;
            self.execute_on(&mut conn, sql).await?
        } else {
            let mut conn = self.tablet.query_conn(options).await?;
            let result = self.execute_on(&mut conn, sql).await;
            if ran_to_end(&result) {
                conn.finished();
            }
            result?
        };
        let tablet = &self.tablet;
        tablet
            .columns
            .describe(&mut result.fields, &tablet.db_name, tablet.admin_opts_ref())
            .await;
        Ok(result)
    }

    /// Runs `sql` on `conn`, within the call's deadline when it has one (see [`deadline`]).
    async fn execute_on(&self, conn: &mut mysql_async::Conn, sql: &[u8]) -> Result<QueryResult> {
        let max_rows = Some(self.tablet.config().flags.max_result_size);
        let Some(deadline) = deadline::current() else {
            return result::execute(conn, sql, max_rows).await;
        };
        // MariaDB's own answer to an interrupted statement varies (a lone `SLEEP()` returns
        // 1, others fail with 1317): the call fails as Vitess's does.
        if deadline <= tokio::time::Instant::now() {
            return Err(deadline::exceeded());
        }
        let watchdog = Watchdog::arm(self.tablet.clone(), conn.id(), deadline);
        let result = result::execute(conn, sql, max_rows).await;
        let killed = watchdog.disarm().await;
        // After a kill, an error or rows are not the statement's answer. A write that
        // succeeded finished before the kill reached it (MariaDB undoes an interrupted one),
        // and is reported as done.
        let interrupted = match &result {
            Err(_) => true,
            Ok(r) => !r.fields.is_empty(),
        };
        if killed && interrupted {
            return Err(deadline::exceeded());
        }
        result
    }

    async fn execute_inner(&self, req: &ExecuteRequest) -> Result<QueryResult> {
        let prepared = self.prepare(req.target.as_ref(), req.query.as_ref())?;
        let mut result = self
            .run_prepared(&prepared, req.transaction_id, req.options.as_ref())
            .await?;
        trim_fields(&mut result, req.options.as_ref());
        Ok(result)
    }

    fn begin_inner(&self, target: Option<&Target>) -> Result<()> {
        let snapshot = self.tablet.state.snapshot();
        self.verify_target(target, &snapshot)
    }

    fn health(&self, snapshot: &Snapshot) -> StreamHealthResponse {
        StreamHealthResponse {
            target: Some(Target {
                keyspace: self.tablet.keyspace.clone(),
                shard: self.tablet.shard.clone(),
                tablet_type: snapshot.tablet_type as i32,
                cell: self.tablet.alias.cell.clone(),
            }),
            serving: !snapshot.refuses_queries(),
            primary_term_start_timestamp: snapshot.primary_term_start,
            realtime_stats: Some(RealtimeStats {
                health_error: snapshot.health_error.clone(),
                replication_lag_seconds: snapshot.replication_lag_seconds,
                ..RealtimeStats::default()
            }),
            tablet_alias: Some(self.tablet.alias.clone()),
        }
    }
}

/// Streams `sql` on `conn` through `send`, killed at `deadline` if it has one (see
/// [`deadline`]); a stream cut short that way ends with the deadline's error.
async fn stream_on(
    tablet: &Arc<Tablet>,
    conn: &mut mysql_async::Conn,
    sql: &[u8],
    send: Described,
    deadline: Option<tokio::time::Instant>,
) -> Result<()> {
    let Some(deadline) = deadline else {
        return result::stream(conn, sql, send, tablet.admin_opts_ref()).await;
    };
    if deadline <= tokio::time::Instant::now() {
        return Err(deadline::exceeded());
    }
    let watchdog = Watchdog::arm(tablet.clone(), conn.id(), deadline);
    let outcome = result::stream(conn, sql, send, tablet.admin_opts_ref()).await;
    if watchdog.disarm().await {
        return Err(deadline::exceeded());
    }
    outcome
}

/// Whether a statement's outcome leaves its connection ready for another: an answer or
/// MariaDB's refusal. After anything else (a lost connection, a killed statement) the
/// connection is closed rather than returned to the pool.
fn ran_to_end<T>(outcome: &Result<T>) -> bool {
    matches!(outcome, Ok(_) | Err(TabletError::Mysql { .. }))
}

/// The username vttablet quotes in errors (`(CallerID: <user>)`).
fn caller(immediate: Option<&VtGateCallerId>) -> Option<&str> {
    immediate.map(|c| c.username.as_str())
}

/// Drops the field names when only types were asked for.
/// Forwards streamed results, describing the columns of the fields message (JSON types,
/// collations: [`crate::columns`]).
struct Described {
    tx: mpsc::Sender<std::result::Result<QueryResult, Status>>,
    tablet: Arc<Tablet>,
}

impl result::AsyncSend for Described {
    async fn send(&mut self, mut result: QueryResult) -> bool {
        if !result.fields.is_empty() {
            let tablet = &self.tablet;
            tablet
                .columns
                .describe(&mut result.fields, &tablet.db_name, tablet.admin_opts_ref())
                .await;
        }
        self.tx.send(Ok(result)).await.is_ok()
    }
}

fn trim_fields(result: &mut QueryResult, options: Option<&ExecuteOptions>) {
    if options.is_some_and(|o| o.included_fields() == IncludedFields::TypeOnly) {
        for field in &mut result.fields {
            let typ = field.r#type;
            *field = proto::query::Field {
                r#type: typ,
                ..Default::default()
            };
        }
    }
}

fn unimplemented<T>(method: &str) -> std::result::Result<T, Status> {
    Err(Status::unimplemented(format!(
        "{method} is not implemented"
    )))
}

#[tonic::async_trait]
impl Query for QueryService {
    async fn execute(
        &self,
        request: Request<ExecuteRequest>,
    ) -> std::result::Result<Response<ExecuteResponse>, Status> {
        let req = request.into_inner();
        let _busy = self.tablet.in_flight.enter().await;
        match self.execute_inner(&req).await {
            Ok(result) => Ok(Response::new(ExecuteResponse {
                result: Some(result),
            })),
            Err(e) => Err(e.into_status(caller(req.immediate_caller_id.as_ref()))),
        }
    }

    type StreamExecuteStream = BoxStream<StreamExecuteResponse>;

    async fn stream_execute(
        &self,
        request: Request<StreamExecuteRequest>,
    ) -> std::result::Result<Response<Self::StreamExecuteStream>, Status> {
        let req = request.into_inner();
        let who = caller(req.immediate_caller_id.as_ref()).map(str::to_owned);
        let busy = self.tablet.in_flight.enter().await;
        let prepared = self
            .prepare(req.target.as_ref(), req.query.as_ref())
            .map_err(|e| e.into_status(who.as_deref()))?;
        let sql = match prepared {
            Prepared::Sql(sql) => sql,
            next @ Prepared::Next { .. } => {
                // One small result: sent whole, as one message.
                let result = self
                    .run_prepared(&next, 0, None)
                    .await
                    .map_err(|e| e.into_status(who.as_deref()))?;
                let message = StreamExecuteResponse {
                    result: Some(result),
                };
                return Ok(Response::new(Box::pin(futures::stream::iter([Ok(
                    message,
                )]))));
            }
        };
        let (tx, rx) = mpsc::channel::<std::result::Result<QueryResult, Status>>(4);
        let tablet = self.tablet.clone();
        let transaction_id = req.transaction_id;
        let options = req.options;
        // The streaming task is the call's own: it keeps the call's deadline.
        let deadline = deadline::current();
        tokio::spawn(async move {
            let _busy = busy;
            let outcome = async {
                let send = Described {
                    tx: tx.clone(),
                    tablet: tablet.clone(),
                };
                if transaction_id != 0 {
                    let conn = tablet.txs.get(transaction_id)?;
                    let mut conn = conn.lock().await;
                    stream_on(&tablet, &mut conn, &sql, send, deadline).await
                } else {
                    let mut conn = tablet.query_conn(options.as_ref()).await?;
                    let outcome = stream_on(&tablet, &mut conn, &sql, send, deadline).await;
                    if ran_to_end(&outcome) {
                        conn.finished();
                    }
                    outcome
                }
            }
            .await;
            if let Err(e) = outcome {
                let _ = tx.send(Err(e.into_status(who.as_deref()))).await;
            }
        });
        let stream = futures::StreamExt::map(ReceiverStream::new(rx), |item| {
            item.map(|result| StreamExecuteResponse {
                result: Some(result),
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn begin(
        &self,
        request: Request<BeginRequest>,
    ) -> std::result::Result<Response<BeginResponse>, Status> {
        let req = request.into_inner();
        let who = caller(req.immediate_caller_id.as_ref());
        let _busy = self.tablet.in_flight.enter().await;
        self.begin_inner(req.target.as_ref())
            .map_err(|e| e.into_status(who))?;
        let id = self
            .tablet
            .txs
            .begin(
                self.tablet.tx_pool_for(req.options.as_ref()),
                req.options.as_ref(),
            )
            .await
            .map_err(|e| e.into_status(who))?;
        Ok(Response::new(BeginResponse {
            transaction_id: id,
            tablet_alias: Some(self.tablet.alias.clone()),
            session_state_changes: String::new(),
        }))
    }

    async fn commit(
        &self,
        request: Request<CommitRequest>,
    ) -> std::result::Result<Response<CommitResponse>, Status> {
        let req = request.into_inner();
        let who = caller(req.immediate_caller_id.as_ref());
        let _busy = self.tablet.in_flight.enter().await;
        self.tablet
            .txs
            .commit(req.transaction_id)
            .await
            .map_err(|e| e.into_status(who))?;
        Ok(Response::new(CommitResponse { reserved_id: 0 }))
    }

    async fn rollback(
        &self,
        request: Request<RollbackRequest>,
    ) -> std::result::Result<Response<RollbackResponse>, Status> {
        let req = request.into_inner();
        let who = caller(req.immediate_caller_id.as_ref());
        let _busy = self.tablet.in_flight.enter().await;
        self.tablet
            .txs
            .rollback(req.transaction_id)
            .await
            .map_err(|e| e.into_status(who))?;
        Ok(Response::new(RollbackResponse { reserved_id: 0 }))
    }

    /// Begins, runs the pre-queries (vtgate's savepoints of the transaction; if one fails
    /// the transaction is rolled back and the begin fails, as in Vitess), then executes; an
    /// execution error is returned in the response together with the transaction id, as
    /// Vitess does, so the caller can still roll back.
    async fn begin_execute(
        &self,
        request: Request<BeginExecuteRequest>,
    ) -> std::result::Result<Response<BeginExecuteResponse>, Status> {
        let req = request.into_inner();
        let who = caller(req.immediate_caller_id.as_ref());
        let _busy = self.tablet.in_flight.enter().await;
        self.begin_inner(req.target.as_ref())
            .map_err(|e| e.into_status(who))?;
        let prepared = self
            .prepare(req.target.as_ref(), req.query.as_ref())
            .map_err(|e| e.into_status(who))?;
        let pre_queries = self
            .prepare_pre_queries(req.target.as_ref(), &req.pre_queries)
            .map_err(|e| e.into_status(who))?;
        let id = self
            .tablet
            .txs
            .begin(
                self.tablet.tx_pool_for(req.options.as_ref()),
                req.options.as_ref(),
            )
            .await
            .map_err(|e| e.into_status(who))?;
        for sql in &pre_queries {
            if let Err(e) = self.run(sql, id, req.options.as_ref()).await {
                if let Err(r) = self.tablet.txs.rollback(id).await {
                    tracing::warn!(transaction = id, error = %r, "rollback after a failed pre-query");
                }
                return Err(e.into_status(who));
            }
        }
        let mut response = BeginExecuteResponse {
            transaction_id: id,
            tablet_alias: Some(self.tablet.alias.clone()),
            ..BeginExecuteResponse::default()
        };
        match self.run_prepared(&prepared, id, req.options.as_ref()).await {
            Ok(mut result) => {
                trim_fields(&mut result, req.options.as_ref());
                response.result = Some(result);
            }
            Err(e) => {
                let code = e.code();
                let status = e.into_status(who);
                response.error = Some(proto::vtrpc::RpcError {
                    message: status.message().to_string(),
                    code: code as i32,
                });
            }
        }
        Ok(Response::new(response))
    }

    type BeginStreamExecuteStream = BoxStream<BeginStreamExecuteResponse>;

    async fn begin_stream_execute(
        &self,
        _request: Request<BeginStreamExecuteRequest>,
    ) -> std::result::Result<Response<Self::BeginStreamExecuteStream>, Status> {
        unimplemented("BeginStreamExecute")
    }

    async fn reserve_execute(
        &self,
        _request: Request<ReserveExecuteRequest>,
    ) -> std::result::Result<Response<ReserveExecuteResponse>, Status> {
        unimplemented("ReserveExecute")
    }

    async fn reserve_begin_execute(
        &self,
        _request: Request<ReserveBeginExecuteRequest>,
    ) -> std::result::Result<Response<ReserveBeginExecuteResponse>, Status> {
        unimplemented("ReserveBeginExecute")
    }

    type ReserveStreamExecuteStream = BoxStream<ReserveStreamExecuteResponse>;

    async fn reserve_stream_execute(
        &self,
        _request: Request<ReserveStreamExecuteRequest>,
    ) -> std::result::Result<Response<Self::ReserveStreamExecuteStream>, Status> {
        unimplemented("ReserveStreamExecute")
    }

    type ReserveBeginStreamExecuteStream = BoxStream<ReserveBeginStreamExecuteResponse>;

    async fn reserve_begin_stream_execute(
        &self,
        _request: Request<ReserveBeginStreamExecuteRequest>,
    ) -> std::result::Result<Response<Self::ReserveBeginStreamExecuteStream>, Status> {
        unimplemented("ReserveBeginStreamExecute")
    }

    async fn release(
        &self,
        _request: Request<ReleaseRequest>,
    ) -> std::result::Result<Response<ReleaseResponse>, Status> {
        unimplemented("Release")
    }

    type StreamHealthStream = BoxStream<StreamHealthResponse>;

    /// Sends the current health at once, then on every state change and at
    /// every health-check interval, until the client goes away.
    async fn stream_health(
        &self,
        _request: Request<StreamHealthRequest>,
    ) -> std::result::Result<Response<Self::StreamHealthStream>, Status> {
        let mut changes = self.tablet.state.subscribe();
        let mut closing = self.tablet.closing();
        let (tx, rx) = mpsc::channel(4);
        let service = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(service.health_interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.reset();
            loop {
                let snapshot = Arc::clone(&changes.borrow_and_update());
                if tx.send(Ok(service.health(&snapshot))).await.is_err() {
                    return;
                }
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    _ = ticks.tick() => {}
                    _ = tx.closed() => return,
                    _ = closing.wait_for(|closed| *closed) => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    type VStreamStream = BoxStream<proto::binlogdata::VStreamResponse>;

    async fn v_stream(
        &self,
        _request: Request<proto::binlogdata::VStreamRequest>,
    ) -> std::result::Result<Response<Self::VStreamStream>, Status> {
        unimplemented("VStream")
    }
}
