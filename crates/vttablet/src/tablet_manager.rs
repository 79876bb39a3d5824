//! `tabletmanagerservice.TabletManager`: the administrative RPCs vtctl uses
//! to change a tablet's type, run DBA statements and schema changes, set
//! up GTID replication (InitPrimary, InitReplica, SetReplicationSource, ...),
//! reparent (DemotePrimary, UndoDemotePrimary, PromoteReplica, in [`crate::reparent`]),
//! and drive VReplication (VReplicationExec, VReplicationWaitForPos).

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysqlctl::replication;
use mysqlctl::Position;
use proto::replicationdata::{PrimaryStatus, Status as ReplicationStatusProto};
use proto::tabletmanagerdata::*;
use proto::tabletmanagerservice::tablet_manager_server::TabletManager;
use proto::topodata::{TabletAlias, TabletType};
use proto::vtrpc::Code;
use tonic::{Request, Response, Status};

use crate::error::{Result, TabletError};
use crate::reparent;
use crate::result;
use crate::tablet::{quote_identifier, Tablet};
use crate::vr_engine::VrEngine;

/// How long WaitForPosition and SetReplicationSource wait for a position when the caller
/// sets no deadline (gRPC's `grpc-timeout`).
const WAIT_POSITION_TIMEOUT: Duration = Duration::from_secs(30);

/// The gRPC tablet manager service of one tablet.
#[derive(Debug, Clone)]
pub struct TabletManagerService {
    tablet: Arc<Tablet>,
    vreplication: Arc<VrEngine>,
}

type Reply<T> = std::result::Result<Response<T>, Status>;

fn reply<T>(result: Result<T>) -> Reply<T> {
    result.map(Response::new).map_err(Status::from)
}

impl TabletManagerService {
    /// Serves `tablet` and its VReplication engine.
    pub fn new(tablet: Arc<Tablet>, vreplication: Arc<VrEngine>) -> Self {
        TabletManagerService {
            tablet,
            vreplication,
        }
    }

    async fn admin(&self) -> Result<Conn> {
        self.tablet.admin_conn().await
    }

    /// Runs one statement as the DBA, in `db_name` when given.
    async fn fetch_as_dba(
        &self,
        req: &ExecuteFetchAsDbaRequest,
    ) -> Result<proto::query::QueryResult> {
        let sql = std::str::from_utf8(&req.query)
            .map_err(|_| TabletError::vitess(Code::InvalidArgument, "query is not UTF-8"))?;
        let mut conn = self.admin().await?;
        if req.disable_binlogs {
            conn.query_drop("SET SESSION sql_log_bin = 0").await?;
        }
        if req.disable_foreign_key_checks {
            conn.query_drop("SET SESSION foreign_key_checks = 0")
                .await?;
        }
        if !req.db_name.is_empty() {
            conn.query_drop(format!("USE {}", quote_identifier(&req.db_name)))
                .await?;
        }
        let max_rows = (req.max_rows > 0).then_some(req.max_rows);
        let result = result::execute(&mut conn, sql.as_bytes(), max_rows).await;
        self.tablet.columns.invalidate();
        result
    }

    /// Runs every statement of `req.sql` in the tablet's database.
    async fn apply_schema(&self, req: &ApplySchemaRequest) -> Result<()> {
        let mut conn = self.admin().await?;
        if !req.allow_replication {
            conn.query_drop("SET SESSION sql_log_bin = 0").await?;
        }
        if req.disable_foreign_key_checks {
            conn.query_drop("SET SESSION foreign_key_checks = 0")
                .await?;
        }
        if !req.sql_mode.is_empty() {
            conn.exec_drop("SET SESSION sql_mode = ?", (req.sql_mode.clone(),))
                .await?;
        }
        conn.query_drop(format!("USE {}", quote_identifier(&self.tablet.db_name)))
            .await?;
        for statement in sql::split::split_statements(&req.sql) {
            conn.query_drop(statement).await?;
        }
        self.tablet.columns.invalidate();
        Ok(())
    }

    async fn set_read_only(&self, read_only: bool) -> Result<()> {
        let mut conn = self.admin().await?;
        replication::set_read_only(&mut conn, read_only).await?;
        Ok(())
    }

    /// Points replication at `parent`'s MariaDB, read-only; a PRIMARY (a demoted one, in a
    /// planned reparent) becomes REPLICA. Starts from `start_position` when given
    /// (InitReplica); otherwise a server that replicated from nobody (a former primary, whose
    /// own writes are only in its binlog) starts after everything it has
    /// ([`replication::adopt_current_position`]). Waits up to `wait` for `wait_position`.
    async fn replicate_from(
        &self,
        parent: Option<&TabletAlias>,
        start_position: &str,
        wait_position: &str,
        wait: Duration,
    ) -> Result<()> {
        let parent = parent
            .ok_or_else(|| TabletError::vitess(Code::InvalidArgument, "no parent tablet alias"))?;
        let _changing = self.tablet.replication_changes.lock().await;
        let source = crate::follow_primary::source_of(&self.tablet, parent).await?;
        let mut conn = self.admin().await?;
        replication::set_read_only(&mut conn, true).await?;
        let was_primary = self.tablet.state.snapshot().tablet_type == TabletType::Primary;
        if !start_position.is_empty() {
            let position: Position = start_position.parse().map_err(mysqlctl::Error::from)?;
            replication::stop_replication(&mut conn).await?;
            conn.exec_drop("SET GLOBAL gtid_slave_pos = ?", (position.gtid_list(),))
                .await?;
        } else if was_primary || replication::replication_status(&mut conn).await?.is_none() {
            replication::adopt_current_position(&mut conn).await?;
        }
        replication::set_replication_source(&mut conn, &source).await?;
        if !wait_position.is_empty() {
            let position: Position = wait_position.parse().map_err(mysqlctl::Error::from)?;
            replication::wait_for_position(&mut conn, &position, wait).await?;
        }
        if was_primary {
            // Streams run on primaries only.
            self.vreplication.close().await;
            self.tablet.change_type(TabletType::Replica).await?;
        }
        Ok(())
    }

    async fn replication_status(&self) -> Result<ReplicationStatusProto> {
        let mut conn = self.admin().await?;
        let status = replication::replication_status(&mut conn)
            .await?
            .ok_or_else(|| {
                TabletError::vitess(Code::FailedPrecondition, "no replication status")
            })?;
        Ok(ReplicationStatusProto {
            position: status.position.to_string(),
            io_thread_running: status.io_running,
            sql_thread_running: status.sql_running,
            replication_lag_seconds: status.lag_seconds.unwrap_or(0),
            replication_lag_unknown: status.lag_seconds.is_none(),
            source_host: status.source_host,
            source_port: i32::from(status.source_port),
            last_io_error: status.last_io_error,
            last_sql_error: status.last_sql_error,
            using_gtid: true,
            ..ReplicationStatusProto::default()
        })
    }

    async fn change_type(&self, tablet_type: TabletType) -> Result<()> {
        if !matches!(
            tablet_type,
            TabletType::Primary
                | TabletType::Replica
                | TabletType::Rdonly
                | TabletType::Spare
                | TabletType::Drained
        ) {
            return Err(TabletError::vitess(
                Code::InvalidArgument,
                format!("cannot change tablet type to {}", tablet_type.as_str_name()),
            ));
        }
        self.set_read_only(tablet_type != TabletType::Primary)
            .await?;
        self.tablet.change_type(tablet_type).await
    }
}

#[tonic::async_trait]
impl TabletManager for TabletManagerService {
    async fn ping(&self, request: Request<PingRequest>) -> Reply<PingResponse> {
        Ok(Response::new(PingResponse {
            payload: request.into_inner().payload,
        }))
    }

    async fn set_read_only(&self, _r: Request<SetReadOnlyRequest>) -> Reply<SetReadOnlyResponse> {
        reply(
            self.set_read_only(true)
                .await
                .map(|_| SetReadOnlyResponse {}),
        )
    }

    async fn set_read_write(
        &self,
        _r: Request<SetReadWriteRequest>,
    ) -> Reply<SetReadWriteResponse> {
        reply(
            self.set_read_only(false)
                .await
                .map(|_| SetReadWriteResponse {}),
        )
    }

    async fn change_type(&self, request: Request<ChangeTypeRequest>) -> Reply<ChangeTypeResponse> {
        let tablet_type = request.into_inner().tablet_type();
        reply(
            self.change_type(tablet_type)
                .await
                .map(|_| ChangeTypeResponse {}),
        )
    }

    async fn reload_schema(&self, _r: Request<ReloadSchemaRequest>) -> Reply<ReloadSchemaResponse> {
        // The only schema cache is the column metadata (JSON columns, collations).
        self.tablet.columns.invalidate();
        Ok(Response::new(ReloadSchemaResponse {}))
    }

    async fn apply_schema(
        &self,
        request: Request<ApplySchemaRequest>,
    ) -> Reply<ApplySchemaResponse> {
        let req = request.into_inner();
        reply(
            self.apply_schema(&req)
                .await
                .map(|_| ApplySchemaResponse::default()),
        )
    }

    async fn execute_fetch_as_dba(
        &self,
        request: Request<ExecuteFetchAsDbaRequest>,
    ) -> Reply<ExecuteFetchAsDbaResponse> {
        let req = request.into_inner();
        reply(
            self.fetch_as_dba(&req)
                .await
                .map(|result| ExecuteFetchAsDbaResponse {
                    result: Some(result),
                }),
        )
    }

    async fn replication_status(
        &self,
        _r: Request<ReplicationStatusRequest>,
    ) -> Reply<ReplicationStatusResponse> {
        reply(
            self.replication_status()
                .await
                .map(|status| ReplicationStatusResponse {
                    status: Some(status),
                }),
        )
    }

    async fn primary_position(
        &self,
        _r: Request<PrimaryPositionRequest>,
    ) -> Reply<PrimaryPositionResponse> {
        let position = async {
            let mut conn = self.admin().await?;
            Ok(replication::primary_position(&mut conn).await?.to_string())
        }
        .await;
        reply(position.map(|position| PrimaryPositionResponse { position }))
    }

    async fn wait_for_position(
        &self,
        request: Request<WaitForPositionRequest>,
    ) -> Reply<WaitForPositionResponse> {
        let wait = wait_limit(&request);
        let text = request.into_inner().position;
        let waited = async {
            let position: Position = text.parse().map_err(mysqlctl::Error::from)?;
            let mut conn = self.admin().await?;
            replication::wait_for_position(&mut conn, &position, wait).await?;
            Ok(())
        }
        .await;
        reply(waited.map(|_| WaitForPositionResponse {}))
    }

    async fn stop_replication(
        &self,
        _r: Request<StopReplicationRequest>,
    ) -> Reply<StopReplicationResponse> {
        let done = async {
            let mut conn = self.admin().await?;
            replication::stop_replication(&mut conn).await?;
            Ok(())
        }
        .await;
        reply(done.map(|_| StopReplicationResponse {}))
    }

    async fn start_replication(
        &self,
        _r: Request<StartReplicationRequest>,
    ) -> Reply<StartReplicationResponse> {
        let done = async {
            let mut conn = self.admin().await?;
            replication::start_replication(&mut conn).await?;
            Ok(())
        }
        .await;
        reply(done.map(|_| StartReplicationResponse {}))
    }

    async fn reset_replication(
        &self,
        _r: Request<ResetReplicationRequest>,
    ) -> Reply<ResetReplicationResponse> {
        let done = async {
            let mut conn = self.admin().await?;
            replication::reset_replication(&mut conn).await?;
            Ok(())
        }
        .await;
        reply(done.map(|_| ResetReplicationResponse {}))
    }

    async fn init_primary(&self, _r: Request<InitPrimaryRequest>) -> Reply<InitPrimaryResponse> {
        reply(
            reparent::promote(&self.tablet, &self.vreplication)
                .await
                .map(|position| InitPrimaryResponse { position }),
        )
    }

    async fn demote_primary(
        &self,
        _r: Request<DemotePrimaryRequest>,
    ) -> Reply<DemotePrimaryResponse> {
        reply(
            reparent::demote_primary(&self.tablet, &self.vreplication)
                .await
                .map(|position| DemotePrimaryResponse {
                    primary_status: Some(PrimaryStatus {
                        position,
                        file_position: String::new(),
                    }),
                }),
        )
    }

    async fn undo_demote_primary(
        &self,
        _r: Request<UndoDemotePrimaryRequest>,
    ) -> Reply<UndoDemotePrimaryResponse> {
        reply(
            reparent::undo_demote_primary(&self.tablet, &self.vreplication)
                .await
                .map(|_| UndoDemotePrimaryResponse {}),
        )
    }

    async fn promote_replica(
        &self,
        _r: Request<PromoteReplicaRequest>,
    ) -> Reply<PromoteReplicaResponse> {
        reply(
            reparent::promote(&self.tablet, &self.vreplication)
                .await
                .map(|position| PromoteReplicaResponse { position }),
        )
    }

    async fn init_replica(
        &self,
        request: Request<InitReplicaRequest>,
    ) -> Reply<InitReplicaResponse> {
        let req = request.into_inner();
        reply(
            self.replicate_from(
                req.parent.as_ref(),
                &req.replication_position,
                "",
                WAIT_POSITION_TIMEOUT,
            )
            .await
            .map(|_| InitReplicaResponse {}),
        )
    }

    async fn set_replication_source(
        &self,
        request: Request<SetReplicationSourceRequest>,
    ) -> Reply<SetReplicationSourceResponse> {
        let wait = wait_limit(&request);
        let req = request.into_inner();
        reply(
            self.replicate_from(req.parent.as_ref(), "", &req.wait_position, wait)
                .await
                .map(|_| SetReplicationSourceResponse {}),
        )
    }

    async fn v_replication_exec(
        &self,
        request: Request<VReplicationExecRequest>,
    ) -> Reply<VReplicationExecResponse> {
        let query = request.into_inner().query;
        reply(
            self.vreplication
                .exec(&query)
                .await
                .map(|result| VReplicationExecResponse {
                    result: Some(result),
                }),
        )
    }

    async fn v_replication_wait_for_pos(
        &self,
        request: Request<VReplicationWaitForPosRequest>,
    ) -> Reply<VReplicationWaitForPosResponse> {
        let req = request.into_inner();
        let waited = match u32::try_from(req.id) {
            Ok(id) => {
                self.vreplication
                    .wait_for_pos(id, &req.position, WAIT_POSITION_TIMEOUT)
                    .await
            }
            Err(_) => Err(TabletError::vitess(
                Code::InvalidArgument,
                format!("invalid stream id {}", req.id),
            )),
        };
        reply(waited.map(|_| VReplicationWaitForPosResponse {}))
    }

    async fn v_diff(&self, request: Request<VDiffRequest>) -> Reply<VDiffResponse> {
        let req = request.into_inner();
        let result = match req.action.as_str() {
            "create" => crate::vdiff::run(&self.vreplication, &req.workflow)
                .await
                .map(|diffs| crate::vdiff::to_result(&diffs)),
            other => Err(TabletError::vitess(
                Code::Unimplemented,
                format!("VDiff action {other:?} is not supported (only create, which returns its report)"),
            )),
        };
        reply(result.map(|output| VDiffResponse {
            id: 0,
            output: Some(output),
            vdiff_uuid: req.vdiff_uuid,
        }))
    }
}

/// How long a wait asked for in `request` may take: the caller's deadline (gRPC's
/// `grpc-timeout`, which vtctl's `--wait-replicas-timeout` sets), else
/// [`WAIT_POSITION_TIMEOUT`].
fn wait_limit<T>(request: &Request<T>) -> Duration {
    request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
        .unwrap_or(WAIT_POSITION_TIMEOUT)
}

/// Parses gRPC's `grpc-timeout` header: up to 8 digits and a unit (`H`, `M`, `S`, `m`, `u`,
/// `n`).
fn parse_grpc_timeout(text: &str) -> Option<Duration> {
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some(match unit {
        'H' => Duration::from_secs(value * 3600),
        'M' => Duration::from_secs(value * 60),
        'S' => Duration::from_secs(value),
        'm' => Duration::from_millis(value),
        'u' => Duration::from_micros(value),
        'n' => Duration::from_nanos(value),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse_as_grpc_writes_them() {
        assert_eq!(parse_grpc_timeout("30S"), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_grpc_timeout("1500m"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_grpc_timeout("2M"), Some(Duration::from_secs(120)));
        assert_eq!(parse_grpc_timeout("7"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("1x"), None);
    }
}
