//! The executor: runs one statement for a session. Statements vtgate owns (USE, SET,
//! BEGIN/COMMIT/ROLLBACK, SHOW, `select @@version`...) are answered here; everything else is
//! routed ([`route::route`]) and sent through the [`Gateway`], inside the session's
//! transaction when one is open. `select next N values from seq` goes to the sequence's
//! primary ([`next`]).

mod buffer;
pub mod local;
mod next;
pub mod route;
mod set;
pub mod sharded;
mod show;
#[cfg(test)]
mod tests;
pub mod vcursor;

use std::collections::HashMap;
use std::time::Duration;

use proto::query::execute_options::{IncludedFields, Workload};
use proto::query::{BindVariable, BoundQuery, ExecuteOptions, QueryResult};
use proto::topodata::TabletType;
use sql::classify::{classify, StatementKind};
use sql::database_ddl::DatabaseDdl;
use sql::target::Target;
use tracing::Instrument;

use crate::error::VtError;
use crate::gateway::{Caller, Gateway, ResultStream, ShardTarget};
use crate::info_schema;
use crate::rewrite::{rewrite, RewriteContext};
use crate::savepoint::SavepointStatement;
use crate::schema_tracker::SchemaTracker;
use crate::session::{tablet_type_from_sql, Session, ShardSession};
use crate::topology::TopologyHandle;
use local::ServerInfo;
use route::{Route, SYSTEM_SCHEMAS};

/// What a statement produced.
pub enum Reply {
    /// A complete result: rows when it has fields, else an OK (affected rows, insert id).
    Result(QueryResult),
    /// Results streamed from a tablet: the first item carries the fields.
    Stream(ResultStream),
}

impl Reply {
    /// An OK with nothing to report.
    pub fn ok() -> Self {
        Reply::Result(QueryResult::default())
    }
}

/// `--max-memory-rows` default, as in Vitess.
pub const DEFAULT_MAX_MEMORY_ROWS: usize = 300_000;

/// Runs statements for sessions; shared by all connections.
#[derive(Clone)]
pub struct Executor {
    topology: TopologyHandle,
    gateway: Gateway,
    info: ServerInfo,
    max_memory_rows: usize,
    /// `--buffer-window` when `--enable-buffer` is set.
    buffer_window: Option<Duration>,
    /// `--query-timeout` (zero: none), see [`crate::timeout`].
    query_timeout: Duration,
    /// Reloads a keyspace's tracked columns after DDL (`--schema-change-signal`).
    tracker: Option<SchemaTracker>,
}

impl Executor {
    /// An executor over a topology snapshot and a gateway.
    pub fn new(topology: TopologyHandle, gateway: Gateway, info: ServerInfo) -> Self {
        Executor {
            topology,
            gateway,
            info,
            max_memory_rows: DEFAULT_MAX_MEMORY_ROWS,
            buffer_window: None,
            query_timeout: Duration::ZERO,
            tracker: None,
        }
    }

    /// Tracks the tables' columns ([`crate::schema_tracker`]): each DDL is answered only
    /// after its keyspace's columns are read again.
    pub fn with_schema_tracker(mut self, tracker: SchemaTracker) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// Enables buffering (`--enable-buffer`): statements failing because of a traffic
    /// switch are held for up to `window` (`--buffer-window`) and retried (see [`buffer`]).
    pub fn with_buffer(mut self, window: Duration) -> Self {
        self.buffer_window = Some(window);
        self
    }

    /// Sets `--max-memory-rows`: the most rows a vtgate-side primitive may buffer.
    pub fn with_max_memory_rows(mut self, rows: usize) -> Self {
        self.max_memory_rows = rows;
        self
    }

    /// Sets `--query-timeout`: the timeout of statements that set none themselves.
    pub fn with_query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// The values vtgate reports about itself.
    pub fn info(&self) -> &ServerInfo {
        &self.info
    }

    /// Runs one statement (no `;`-separated lists: split them first).
    pub async fn execute(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
    ) -> Result<Reply, VtError> {
        // A statement that is one executable comment (`/*!40101 SET NAMES utf8 */`, as dump
        // tools send them) is its body, for vtgate as for MySQL.
        let unwrapped = sql
            .trim_start()
            .starts_with("/*")
            .then(|| sql::split::unwrap_executable(sql, self.info.version_id()))
            .flatten();
        let sql = unwrapped.as_deref().unwrap_or(sql);
        let kind = classify(sql);
        if !matches!(kind, StatementKind::Set) && crate::rewrite::assigns_user_variable(sql) {
            return Err(VtError::Unsupported(
                "assigning a user variable inside a statement".to_string(),
            ));
        }
        // Debug level: an info span would format the statement for every query even when
        // nothing inside it logs (`RUST_LOG=vtgate=debug` shows it).
        let span = tracing::debug_span!("query", kind = ?kind_name(&kind), sql = %truncate(sql));
        let timeout = crate::timeout::for_statement(
            sql,
            session.vitess_vars.get("query_timeout").map(String::as_str),
            self.query_timeout,
        );
        // A read that opens no transaction (autocommit, none open) may be abandoned.
        let abandonable =
            matches!(kind, StatementKind::Select) && session.autocommit && !session.in_transaction;
        // Boxed where it is made: the statement's future is several KB, and each wrapper it
        // would otherwise be moved into (span, timeout, this future, the handler's box)
        // copies all of it, for every query.
        let statement = Box::pin(self.dispatch(session, caller, sql, kind).instrument(span));
        crate::timeout::within(timeout, abandonable, statement).await
    }

    async fn dispatch(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
        kind: StatementKind,
    ) -> Result<Reply, VtError> {
        match &kind {
            StatementKind::Empty => Err(sql::error::SqlError::EmptyQuery.into()),
            StatementKind::Use(target) => {
                self.use_target(session, target)?;
                Ok(Reply::ok())
            }
            StatementKind::Set => self.set(session, caller, sql).await,
            StatementKind::Show(show) => self.show(session, caller, sql, *show).await,
            StatementKind::Begin => {
                self.commit(session, caller).await?;
                session.in_transaction = true;
                Ok(Reply::ok())
            }
            StatementKind::Commit => {
                self.commit(session, caller).await?;
                Ok(Reply::ok())
            }
            StatementKind::Rollback => {
                self.rollback(session, caller).await?;
                Ok(Reply::ok())
            }
            StatementKind::Savepoint
            | StatementKind::Release
            | StatementKind::RollbackToSavepoint => self.savepoint(session, caller, sql).await,
            StatementKind::VExplain => self.vexplain(session, caller, sql).await,
            // As Vitess does: a lock on the tablets' pooled connections would hold MySQL
            // for every session, and there is no lock across shards.
            StatementKind::LockTables => {
                tracing::warn!(sql = %truncate(sql), "LOCK TABLES statement is ignored");
                Ok(Reply::ok())
            }
            StatementKind::UnlockTables => Ok(Reply::ok()),
            StatementKind::AlterVSchema => Err(VtError::Unsupported(format!(
                "{} statement",
                kind_name(&kind)
            ))),
            StatementKind::Select => {
                if let Some(r) = local::local_select(sql, session, &self.info) {
                    return Ok(Reply::Result(r));
                }
                if let Some(next) = sql::next_values::recognise(sql) {
                    if let Some(reply) = self.select_next(session, caller, &next).await {
                        return reply;
                    }
                }
                if let Some(calc) = sql::found_rows::split(sql) {
                    return self.calc_found_rows(session, caller, &calc, &kind).await;
                }
                self.run_buffered(session, caller, sql, &kind).await
            }
            StatementKind::Ddl => match sql::database_ddl::recognise(sql) {
                Some(ddl) => {
                    // DDL commits an open transaction, as in MySQL.
                    self.commit(session, caller).await?;
                    self.database_ddl(&ddl)
                }
                None => self.run_ddl(session, caller, sql, &kind).await,
            },
            _ => self.run_buffered(session, caller, sql, &kind).await,
        }
    }

    /// `SELECT SQL_CALC_FOUND_ROWS ... LIMIT n`: the rows without the LIMIT are counted first
    /// (`sql::found_rows`), then the statement runs without the modifier, and `FOUND_ROWS()`
    /// gives the count. Without a LIMIT it gives the rows returned, as after any SELECT.
    async fn calc_found_rows(
        &self,
        session: &mut Session,
        caller: &Caller,
        calc: &sql::found_rows::CalcFoundRows,
        kind: &StatementKind,
    ) -> Result<Reply, VtError> {
        let mut found = None;
        if let Some(count) = &calc.count {
            let Reply::Result(r) = self.run_buffered(session, caller, count, kind).await? else {
                return Err(VtError::Other(
                    "SQL_CALC_FOUND_ROWS: the count was streamed".into(),
                ));
            };
            let n = r
                .rows
                .first()
                .and_then(|row| row.split_values().ok())
                .and_then(|cells| cells.first().copied().flatten())
                .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
                .ok_or_else(|| VtError::Other("SQL_CALC_FOUND_ROWS: no count".into()))?;
            found = Some(n);
        }
        let reply = self
            .run_buffered(session, caller, &calc.query, kind)
            .await?;
        if let Some(n) = found {
            session.found_rows = n;
        }
        Ok(reply)
    }

    /// `USE target` and COM_INIT_DB.
    pub fn use_target(&self, session: &mut Session, text: &str) -> Result<(), VtError> {
        let target = Target::parse(text)?;
        let ks = target.keyspace.as_str();
        if !ks.is_empty()
            && !SYSTEM_SCHEMAS.contains(&ks.to_ascii_lowercase().as_str())
            && self.topology.get().keyspace(ks).is_none()
        {
            return Err(VtError::UnknownDatabase(ks.to_string()));
        }
        let new_type = target
            .tablet_type
            .map_or(session.default_tablet_type, tablet_type_from_sql);
        if session.in_transaction && new_type != session.tablet_type() {
            if !session.autocommit && !session.has_shard_sessions() {
                session.in_transaction = false;
                session.savepoints.clear();
            } else {
                return Err(VtError::ActiveTransaction);
            }
        }
        session.set_target(text, target);
        Ok(())
    }

    fn known_shards(&self, keyspace: &str) -> Vec<String> {
        let mut shards: Vec<String> = self
            .gateway
            .health()
            .all()
            .into_iter()
            .filter(|h| h.keyspace == keyspace)
            .map(|h| h.shard)
            .collect();
        shards.sort();
        shards.dedup();
        shards
    }

    fn route(&self, session: &Session, kind: &StatementKind, sql: &str) -> Result<Route, VtError> {
        let topo = self.topology.get();
        route::route(&topo, session, kind, sql, &|ks| self.known_shards(ks))
    }

    /// The statement as sent to tablets: rewritten, with the settings prefix.
    fn tablet_sql(&self, session: &Session, sql: &str) -> String {
        let topo = self.topology.get();
        let is_keyspace = |k: &str| topo.keyspace(k).is_some();
        let ctx = RewriteContext {
            is_keyspace: &is_keyspace,
            database: Some(session.target_string()).filter(|s| !s.is_empty()),
            last_insert_id: session.last_insert_id,
            found_rows: session.found_rows,
            row_count: session.row_count,
            version: &self.info.version,
            version_comment: &self.info.version_comment,
            user_vars: &session.user_vars,
        };
        let body = rewrite(sql, &ctx);
        let prefix = session.settings_prefix();
        if prefix.is_empty() {
            body.into_owned()
        } else {
            prefix + &body
        }
    }

    /// The query for a tablet: `sql` with the session's raw-bytes literals as bind variables.
    fn bound(session: &Session, sql: String) -> BoundQuery {
        BoundQuery {
            sql,
            bind_variables: session.raw_literals.clone(),
        }
    }

    fn options(session: &Session) -> ExecuteOptions {
        ExecuteOptions {
            included_fields: IncludedFields::All as i32,
            workload: Workload::Oltp as i32,
            client_found_rows: session.client_found_rows
                || session.vitess_vars.contains_key("client_found_rows"),
            ..Default::default()
        }
    }

    /// Runs a statement through the planner when it needs one, else passes it through.
    async fn run_statement(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
        kind: &StatementKind,
    ) -> Result<Reply, VtError> {
        match self.sharded_plan(session, kind, sql)? {
            Some(planned)
                if planned.plan.query_type == "SELECT"
                    && session.olap()
                    && session.autocommit
                    && !session.in_transaction =>
            {
                let stream = self
                    .stream_plan(session, caller, &planned.plan, &planned.vars)
                    .await?;
                Ok(Reply::Stream(stream))
            }
            Some(planned) => {
                let (result, _) = self
                    .run_plan(session, caller, &planned.plan, &planned.vars, false)
                    .await?;
                Ok(Reply::Result(result))
            }
            None => self.run_routed(session, caller, sql, kind).await,
        }
    }

    async fn run_routed(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
        kind: &StatementKind,
    ) -> Result<Reply, VtError> {
        if matches!(kind, StatementKind::Select) && info_schema::mentions_information_schema(sql) {
            if let Some(query) = self.schema_query(session, sql) {
                let r = self
                    .query_any_with(
                        session,
                        caller,
                        &query.sql,
                        query.bind_variables(),
                        Some(&query.keyspace),
                    )
                    .await?;
                Self::note_result(session, &r);
                return Ok(Reply::Result(r));
            }
        }
        let route = self.route(session, kind, sql)?;
        let target = ShardTarget {
            keyspace: route.keyspace,
            shard: route.shards.into_iter().next().unwrap_or_default(),
            tablet_type: route.tablet_type,
        };
        let text = Self::bound(session, self.tablet_sql(session, sql));
        if !session.autocommit && !session.in_transaction {
            session.in_transaction = true;
        }
        let select = matches!(kind, StatementKind::Select);
        let options = Self::options(session);
        if session.in_transaction {
            return match self.execute_in_tx(session, caller, &target, &text).await {
                Ok(result) => {
                    Self::note_result(session, &result);
                    Ok(Reply::Result(result))
                }
                // Too many rows for one Execute: stream the same read in the transaction.
                Err(e) if select && e.is_row_limit() => {
                    session.row_count = -1;
                    let Some(ss) =
                        session.shard_session(&target.keyspace, &target.shard, target.tablet_type)
                    else {
                        return Err(e);
                    };
                    let stream = self
                        .gateway
                        .stream_execute_in_tx(ss, &text, caller, &options)
                        .await?;
                    Ok(Reply::Stream(stream))
                }
                Err(e) => Err(e),
            };
        }
        // Reads come back whole from Execute (one message each way, as Vitess's OLTP
        // workload does); a result over the tablet's row limit, or `SET workload = 'olap'`,
        // streams instead.
        if select && !session.olap() {
            match self.gateway.execute(&target, &text, caller, &options).await {
                Ok(result) => {
                    Self::note_result(session, &result);
                    return Ok(Reply::Result(result));
                }
                Err(e) if e.is_row_limit() => {}
                Err(e) => return Err(e),
            }
        }
        if select {
            session.row_count = -1;
            let stream = self
                .gateway
                .stream_execute(&target, &text, caller, &options)
                .await?;
            return Ok(Reply::Stream(stream));
        }
        let result = self
            .gateway
            .execute(&target, &text, caller, &options)
            .await?;
        Self::note_result(session, &result);
        Ok(Reply::Result(result))
    }

    /// Runs on the transaction's shard session, beginning one if the target has none.
    async fn execute_in_tx(
        &self,
        session: &mut Session,
        caller: &Caller,
        target: &ShardTarget,
        sql: &BoundQuery,
    ) -> Result<QueryResult, VtError> {
        let mut options = Self::options(session);
        if let Some(ss) = session.shard_session(&target.keyspace, &target.shard, target.tablet_type)
        {
            return self.gateway.execute_in_tx(ss, sql, caller, &options).await;
        }
        if let Some(level) = session.take_isolation() {
            options.transaction_isolation = level as i32;
        }
        let savepoints = session.savepoints.replay();
        let (ss, result) = self
            .gateway
            .begin_execute(target, &savepoints, sql, caller, &options)
            .await?;
        session.shard_sessions.push(ss);
        result
    }

    fn note_result(session: &mut Session, result: &QueryResult) {
        if result.insert_id_changed || result.insert_id > 0 {
            session.last_insert_id = result.insert_id;
        }
        if result.fields.is_empty() {
            session.row_count = result.rows_affected as i64;
        } else {
            session.found_rows = result.rows.len() as u64;
            session.row_count = -1;
        }
    }

    /// `CREATE` / `DROP DATABASE`, as Vitess answers them without a database-DDL plugin:
    /// keyspaces are made and removed with vtctl, so only the statements that change
    /// nothing succeed (`CREATE DATABASE IF NOT EXISTS` of a keyspace, `DROP DATABASE IF
    /// EXISTS` of none), as a dump's replay sends them.
    fn database_ddl(&self, ddl: &DatabaseDdl) -> Result<Reply, VtError> {
        let exists = |name: &str| self.topology.get().keyspace(name).is_some();
        let refused = |message: String, errno: u16| VtError::Engine {
            message,
            errno,
            sqlstate: "HY000".to_string(),
        };
        match ddl {
            DatabaseDdl::Create {
                name,
                if_not_exists,
            } if exists(name) => match if_not_exists {
                true => Ok(Reply::ok()),
                false => Err(refused(
                    format!("VT06001: cannot create database '{name}'; database exists"),
                    1007,
                )),
            },
            DatabaseDdl::Drop { name, if_exists } if !exists(name) => match if_exists {
                true => Ok(Reply::ok()),
                false => Err(refused(
                    format!("VT05001: cannot drop database '{name}'; database does not exists"),
                    1008,
                )),
            },
            DatabaseDdl::Create { .. } => Err(VtError::Unsupported(
                "CREATE DATABASE: keyspaces are created with vtctl".to_string(),
            )),
            DatabaseDdl::Drop { .. } => Err(VtError::Unsupported(
                "DROP DATABASE of a keyspace: keyspaces are deleted with vtctl".to_string(),
            )),
        }
    }

    /// DDL: implicit commit, then the statement on the primary of every shard.
    async fn run_ddl(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
        kind: &StatementKind,
    ) -> Result<Reply, VtError> {
        let route = self.route(session, kind, sql)?;
        self.commit(session, caller).await?;
        let text = Self::bound(session, self.tablet_sql(session, sql));
        let options = Self::options(session);
        let mut outcome = Ok(QueryResult::default());
        for shard in route.shards {
            let target = ShardTarget {
                keyspace: route.keyspace.clone(),
                shard,
                tablet_type: TabletType::Primary,
            };
            outcome = self.gateway.execute(&target, &text, caller, &options).await;
            if outcome.is_err() {
                break;
            }
        }
        // Even a DDL that failed on some shard may have changed the others.
        if let Some(tracker) = &self.tracker {
            if let Err(e) = tracker.reload(&route.keyspace).await {
                tracing::warn!(keyspace = %route.keyspace, error = %e, "schema not reloaded after DDL");
            }
        }
        outcome.map(Reply::Result)
    }

    /// `SAVEPOINT`, `ROLLBACK TO`, `RELEASE SAVEPOINT`. The savepoints live in the session
    /// ([`crate::savepoint`]); a shard session begun later takes them first. A name the
    /// transaction does not hold is MySQL's 1305 before anything is sent; otherwise the
    /// statement goes to every shard session, and if one shard fails the whole transaction
    /// is rolled back (a savepoint moved or rolled back on some shards only must not
    /// commit).
    async fn savepoint(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
    ) -> Result<Reply, VtError> {
        let statement = SavepointStatement::parse(sql)?;
        if !session.autocommit {
            session.in_transaction = true;
        }
        // Where the named savepoint is in the list (ROLLBACK TO and RELEASE).
        let at = match &statement {
            // Outside a transaction MySQL accepts a savepoint and forgets it.
            SavepointStatement::Savepoint(_) if !session.in_transaction => return Ok(Reply::ok()),
            SavepointStatement::Savepoint(_) => 0,
            SavepointStatement::RollbackTo(name) => {
                let at = session.savepoints.find(name)?;
                if !(session.pre_sessions.is_empty() && session.post_sessions.is_empty()) {
                    // Consistent lookup rows live in their own transactions, which a
                    // savepoint of the session's does not cover: rolling back only the
                    // owner rows could leave one without its lookup row.
                    return Err(VtError::Unsupported(
                        "ROLLBACK TO SAVEPOINT in a transaction that wrote consistent lookup \
                         vindex rows"
                            .into(),
                    ));
                }
                at
            }
            SavepointStatement::Release(name) => session.savepoints.find(name)?,
        };
        let options = Self::options(session);
        let query = BoundQuery {
            sql: sql.to_string(),
            bind_variables: Default::default(),
        };
        let mut failed = None;
        for ss in &session.shard_sessions {
            if let Err(e) = self
                .gateway
                .execute_in_tx(ss, &query, caller, &options)
                .await
            {
                failed = Some(e);
                break;
            }
        }
        if let Some(e) = failed {
            if let Err(r) = self.rollback(session, caller).await {
                tracing::warn!(error = %r, "rollback after a failed savepoint statement");
            }
            return Err(VtError::Engine {
                message: format!(
                    "transaction rolled back: a savepoint statement failed on a shard: {e}"
                ),
                errno: e.errno(),
                sqlstate: e.sqlstate().to_string(),
            });
        }
        let list = &mut session.savepoints;
        match statement {
            SavepointStatement::Savepoint(name) => list.set(name),
            SavepointStatement::RollbackTo(_) => list.rollback_to(at),
            SavepointStatement::Release(_) => list.release(at),
        }
        Ok(Reply::ok())
    }

    /// Commits every shard session of the open transaction (no-op without one): the pre
    /// sessions first, then the session's, then the post sessions (Vitess's commit order,
    /// which keeps consistent lookups ahead of their owner rows). After a failure the rest
    /// is rolled back.
    pub async fn commit(&self, session: &mut Session, caller: &Caller) -> Result<(), VtError> {
        let ordered: Vec<ShardSession> = [
            std::mem::take(&mut session.pre_sessions),
            std::mem::take(&mut session.shard_sessions),
            std::mem::take(&mut session.post_sessions),
        ]
        .concat();
        session.in_transaction = false;
        session.lookup_rows.clear();
        session.savepoints.clear();
        let mut first_err = None;
        for ss in &ordered {
            let res = if first_err.is_none() {
                self.gateway.commit(ss, caller).await
            } else {
                self.gateway.rollback(ss, caller).await
            };
            if let Err(e) = res {
                tracing::warn!(shard = %ss.shard, error = %e, "commit failed");
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Rolls back every shard session of the open transaction (no-op without one).
    pub async fn rollback(&self, session: &mut Session, caller: &Caller) -> Result<(), VtError> {
        let all: Vec<ShardSession> = [
            std::mem::take(&mut session.pre_sessions),
            std::mem::take(&mut session.shard_sessions),
            std::mem::take(&mut session.post_sessions),
        ]
        .concat();
        session.in_transaction = false;
        session.lookup_rows.clear();
        session.savepoints.clear();
        let mut first_err = None;
        for ss in &all {
            if let Err(e) = self.gateway.rollback(ss, caller).await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Targets the first shard when `probe` names a sharded keyspace but no shard: vtgate's
    /// own queries need one tablet, any of them.
    fn pin_any_shard(&self, probe: &mut Session) -> Result<(), VtError> {
        let Some(ks) = probe.keyspace().map(str::to_string) else {
            return Ok(());
        };
        let topo = self.topology.get();
        let Some(info) = topo.keyspace(&ks).filter(|k| k.sharded) else {
            return Ok(());
        };
        if probe.shard().is_some() {
            return Ok(());
        }
        let first = info
            .shards_for(probe.tablet_type())
            .first()
            .cloned()
            .or_else(|| self.known_shards(&ks).into_iter().next());
        if let Some(shard) = first {
            let suffix = probe
                .target_string()
                .split_once('@')
                .map(|(_, t)| format!("@{t}"))
                .unwrap_or_default();
            let text = format!("{ks}/{shard}{suffix}");
            probe.set_target(&text, Target::parse(&text)?);
        }
        Ok(())
    }

    /// An `information_schema` query whose schema predicates name a keyspace, rewritten
    /// for that keyspace's tablets (`info_schema`).
    fn schema_query(&self, session: &Session, sql: &str) -> Option<info_schema::SchemaQuery> {
        let topo = self.topology.get();
        let keyspace_of = |value: &str| {
            let ks = value.split(['@', '/', ':']).next().unwrap_or(value);
            topo.keyspace(ks).map(|k| k.name.clone())
        };
        info_schema::schema_query(&self.tablet_sql(session, sql), &keyspace_of)
    }

    /// Runs a query on `keyspace` (default: the session's, or any) outside the session's
    /// transaction, for vtgate's own needs (evaluating `SET` values, `SHOW TABLES`).
    async fn query_any(
        &self,
        session: &Session,
        caller: &Caller,
        sql: &str,
        keyspace: Option<&str>,
    ) -> Result<QueryResult, VtError> {
        self.query_any_with(session, caller, sql, HashMap::new(), keyspace)
            .await
    }

    /// [`Self::query_any`] with bind variables beside the session's (an `information_schema`
    /// query's `__vtschemaname`).
    async fn query_any_with(
        &self,
        session: &Session,
        caller: &Caller,
        sql: &str,
        vars: HashMap<String, BindVariable>,
        keyspace: Option<&str>,
    ) -> Result<QueryResult, VtError> {
        let mut probe = session.clone();
        // The session's own keyspace keeps its target (`customer@replica`); another is read
        // at its default tablet type.
        if let Some(ks) = keyspace.filter(|ks| session.keyspace() != Some(*ks)) {
            probe.set_target(ks, Target::parse(ks)?);
        }
        probe.in_transaction = false;
        self.pin_any_shard(&mut probe)?;
        let route = self.route(&probe, &StatementKind::Select, sql)?;
        let target = ShardTarget {
            keyspace: route.keyspace,
            shard: route.shards.into_iter().next().unwrap_or_default(),
            tablet_type: route.tablet_type,
        };
        let options = Self::options(session);
        let mut query = Self::bound(session, sql.to_string());
        query.bind_variables.extend(vars);
        if let Some(ss) = session.shard_session(&target.keyspace, &target.shard, target.tablet_type)
        {
            return self
                .gateway
                .execute_in_tx(ss, &query, caller, &options)
                .await;
        }
        self.gateway
            .execute(&target, &query, caller, &options)
            .await
    }
}

fn kind_name(kind: &StatementKind) -> &'static str {
    match kind {
        StatementKind::Select => "select",
        StatementKind::Insert => "insert",
        StatementKind::Replace => "replace",
        StatementKind::Update => "update",
        StatementKind::Delete => "delete",
        StatementKind::Ddl => "ddl",
        StatementKind::AlterVSchema => "alter vschema",
        StatementKind::Set => "set",
        StatementKind::Use(_) => "use",
        StatementKind::Show(_) => "show",
        StatementKind::Begin => "begin",
        StatementKind::Commit => "commit",
        StatementKind::Rollback => "rollback",
        StatementKind::Savepoint => "savepoint",
        StatementKind::RollbackToSavepoint => "rollback to savepoint",
        StatementKind::Release => "release savepoint",
        StatementKind::Explain => "explain",
        StatementKind::VExplain => "vexplain",
        StatementKind::LockTables => "lock tables",
        StatementKind::UnlockTables => "unlock tables",
        StatementKind::Empty => "empty",
        StatementKind::Other => "other",
    }
}

fn truncate(sql: &str) -> &str {
    match sql.char_indices().nth(200) {
        Some((i, _)) => &sql[..i],
        None => sql,
    }
}
