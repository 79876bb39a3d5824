//! The planner path: statements on sharded keyspaces (and across keyspaces) are parsed,
//! planned by the `engine` crate and run through a [`GatewayCursor`]; `VEXPLAIN PLAN` and
//! `VEXPLAIN QUERIES` show the plan and the queries it sends.
//!
//! Unsharded keyspaces, `information_schema` and statements for a shard named in the target
//! stay on the pass-through path (the client's text goes to the tablet). Plans are cached
//! per topology snapshot by the statement text as planned (after vtgate's session
//! rewrites and [`normalize`]), the session's keyspace and tablet type.
//!
//! A client's statement can be arbitrarily deep (long `OR` chains), and walking its syntax
//! tree recurses: statements longer than [`BIG_STATEMENT`] bytes are parsed and planned on
//! a thread with a [`BIG_STACK`] stack, so vtgate never overflows a worker's stack.

use std::collections::HashSet;
use std::sync::{Arc, Mutex as SyncMutex};

use engine::{EngineError, Plan};
use futures::StreamExt;
use proto::query::{QueryResult, Type};
use proto::topodata::TabletType;
use sql::classify::StatementKind;
use sql::literal::BindVars;
use tokio::sync::Mutex;

use super::local::{int_field, result, varchar_field};
use super::route::{needs_planner, SYSTEM_SCHEMAS};
use super::vcursor::{GatewayCursor, SentQuery, TxState};
use super::{Executor, Reply};
use crate::error::VtError;
use crate::gateway::{Caller, ResultStream};
use crate::normalize::{hex_numbers, normalize};
use crate::plan_cache::PlanKey;
use crate::rewrite::{rewrite, tokens, RewriteContext};
use crate::session::Session;
use crate::topology::Topology;

/// Statements longer than this are planned on a thread with a [`BIG_STACK`] stack.
pub const BIG_STATEMENT: usize = 4096;

/// Stack size for planning big statements.
pub const BIG_STACK: usize = 256 << 20;

/// Maps an engine error to vtgate's: VT12001 stays VT12001, tablet errors come back as
/// they were, the rest keep the engine's errno and SQLSTATE.
pub fn engine_error(e: EngineError) -> VtError {
    match e {
        EngineError::Cursor(inner) => match inner.downcast::<VtError>() {
            Ok(v) => *v,
            Err(other) => VtError::Other(other.to_string()),
        },
        EngineError::Unsupported(m) => VtError::Unsupported(m),
        other => VtError::Engine {
            errno: other.errno(),
            sqlstate: other.sqlstate().to_string(),
            message: other.to_string(),
        },
    }
}

/// A plan and the values of the bind variables its statement was normalised with.
pub(super) struct PlannedStatement {
    pub plan: Arc<Plan>,
    pub vars: BindVars,
}

/// Which `VEXPLAIN` output was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExplainFormat {
    Plan,
    Queries,
}

/// Parses and plans `sql` for `default_keyspace` and `tablet_type` (whose routing rules
/// apply), with the directives in its comments.
fn plan_statement(
    topo: &Topology,
    sql: &str,
    default_keyspace: Option<&str>,
    tablet_type: TabletType,
) -> Result<Plan, VtError> {
    if let Some(literal) = hex_or_bit_number(sql) {
        return Err(VtError::Unsupported(format!(
            "the literal {literal} in a statement planned across shards \
             (write the value as a decimal number, or as X'..' or b'..')"
        )));
    }
    let stmt = sql::parse::parse(sql)?;
    // Directives (`/*vt+ ALLOW_HASH_JOIN */`) are comments: read from the text.
    let options = engine::planner::PlanOptions::from_sql(sql);
    let mut plan = engine::planner::plan_with(
        &stmt,
        topo.vschema(),
        default_keyspace,
        tablet_type,
        options,
    )
    .map_err(engine_error)?;
    if plan.query_type == "SELECT" {
        plan.column_names = sql::column_names::as_written(&stmt, sql);
    }
    Ok(plan)
}

/// The first `0x..` or `0b..` literal of `sql`, if any. [`hex_numbers`] takes them out of
/// every statement the planner sees; one left (the statement already used `:vtx` names) would
/// be printed back as `X'..'`, which MariaDB reads differently, so it is refused instead.
fn hex_or_bit_number(sql: &str) -> Option<&str> {
    tokens(sql)
        .into_iter()
        .find(|t| crate::normalize::hex_or_bit_number(sql, t).is_some())
        .map(|t| &sql[t.start..t.end])
}

/// Runs `f` on a thread with a big stack when `sql` is long, else inline.
fn with_stack<T: Send>(sql: &str, f: impl FnOnce() -> T + Send) -> Result<T, VtError> {
    if sql.len() <= BIG_STATEMENT {
        return Ok(f());
    }
    let run = || {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("vtgate-plan".into())
                .stack_size(BIG_STACK)
                .spawn_scoped(scope, f)
                .map_err(|e| VtError::Other(format!("cannot start planner thread: {e}")))?
                .join()
                .map_err(|_| VtError::Other("planner failed on this statement".into()))
        })
    };
    // Waiting for that thread must not hold a runtime worker: on the multi-threaded runtime
    // (the binary's) hand this worker's other tasks to the rest of the pool meanwhile.
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(run)
    } else {
        run()
    }
}

fn planner_keyspace(session: &Session) -> Option<&str> {
    session
        .keyspace()
        .filter(|k| !SYSTEM_SCHEMAS.contains(&k.to_ascii_lowercase().as_str()))
}

impl Executor {
    /// The statement as the planner sees it: session values substituted, keyspace
    /// qualifiers kept (the planner resolves and drops them).
    fn planner_sql(&self, session: &Session, sql: &str) -> String {
        let ctx = RewriteContext {
            is_keyspace: &|_| false,
            database: Some(session.target_string()).filter(|s| !s.is_empty()),
            last_insert_id: session.last_insert_id,
            found_rows: session.found_rows,
            row_count: session.row_count,
            version: &self.info.version,
            version_comment: &self.info.version_comment,
            user_vars: &session.user_vars,
        };
        rewrite(sql, &ctx).into_owned()
    }

    fn plan_key(session: &Session, sql: String) -> PlanKey {
        PlanKey {
            sql,
            keyspace: session.keyspace().unwrap_or_default().to_string(),
            tablet_type: session.tablet_type() as i32,
        }
    }

    /// The plan for a statement that belongs on the planner path, None for pass-through.
    ///
    /// The statement's comparable literals are first taken out ([`normalize`]), so one
    /// cached plan serves every value; the plan comes back with those values. Should the
    /// planner refuse the normalised statement, the statement as written is planned (and
    /// cached) instead, so normalising never costs an answer.
    pub(super) fn sharded_plan(
        &self,
        session: &Session,
        kind: &StatementKind,
        sql: &str,
    ) -> Result<Option<PlannedStatement>, VtError> {
        if session.shard().is_some() {
            return Ok(None);
        }
        let topo = self.topology.get();
        let planned = self.planner_sql(session, sql);
        // With an unsharded keyspace selected nearly every statement is pass-through, and
        // deciding that is cheaper than normalising and looking the statement up.
        let unsharded_session = session
            .keyspace()
            .and_then(|k| topo.keyspace(k))
            .is_some_and(|k| !k.sharded);
        if unsharded_session
            && !with_stack(&planned, || needs_planner(&topo, session, kind, &planned))?
        {
            return Ok(None);
        }
        // `0x..`/`0b..` literals become bind variables wherever they stand, so the shards get
        // them as written; the comparable literals then become the plan cache's variables.
        let (planned, hex) = hex_numbers(planned);
        // The normalised statement's key and values move into what is returned: no copies
        // on a cache hit.
        let normalized = normalize(&planned).map(|n| {
            let mut vars = n.vars;
            vars.extend(hex.iter().map(|(k, v)| (k.clone(), v.clone())));
            (Self::plan_key(session, n.sql), vars)
        });
        if let Some((key, vars)) = normalized {
            if let Some(plan) = topo.plans().get(&key) {
                return Ok(Some(PlannedStatement { plan, vars }));
            }
            return self.plan_and_cache(session, kind, &topo, (planned, hex), Some((key, vars)));
        }
        self.plan_and_cache(session, kind, &topo, (planned, hex), None)
    }

    /// Plans a statement not found in the cache and caches the plan: the normalised form
    /// (`normalized`: its key and values) when the planner takes it, else `planned` as written
    /// (but for its hex and bit literals, which are the values `planned` comes with).
    fn plan_and_cache(
        &self,
        session: &Session,
        kind: &StatementKind,
        topo: &Topology,
        (planned, hex): (String, BindVars),
        normalized: Option<(PlanKey, BindVars)>,
    ) -> Result<Option<PlannedStatement>, VtError> {
        let key = Self::plan_key(session, planned);
        if let Some(plan) = topo.plans().get(&key) {
            return Ok(Some(PlannedStatement { plan, vars: hex }));
        }
        let keyspace = planner_keyspace(session);
        if !with_stack(&key.sql, || needs_planner(topo, session, kind, &key.sql))? {
            return Ok(None);
        }
        if let Some((n_key, vars)) = normalized {
            let made = with_stack(&n_key.sql, || {
                plan_statement(topo, &n_key.sql, keyspace, session.tablet_type())
            })?;
            if let Ok(plan) = made {
                let plan = Arc::new(plan);
                topo.plans().insert(n_key, plan.clone());
                return Ok(Some(PlannedStatement { plan, vars }));
            }
        }
        let plan = with_stack(&key.sql, || {
            plan_statement(topo, &key.sql, keyspace, session.tablet_type())
        })??;
        let plan = Arc::new(plan);
        topo.plans().insert(key, plan.clone());
        Ok(Some(PlannedStatement { plan, vars: hex }))
    }

    /// Runs a plan for the session (in its transaction when one is open).
    pub(super) async fn run_plan(
        &self,
        session: &mut Session,
        caller: &Caller,
        plan: &Plan,
        vars: &BindVars,
        log: bool,
    ) -> Result<(QueryResult, Vec<SentQuery>), VtError> {
        let tablet_type = session.tablet_type();
        if plan.query_type != "SELECT" && tablet_type != TabletType::Primary {
            return Err(VtError::ReplicaWrite(match plan.query_type {
                "INSERT" => "insert",
                "UPDATE" => "update",
                _ => "delete",
            }));
        }
        if !session.autocommit && !session.in_transaction {
            session.in_transaction = true;
        }
        // An autocommit write that may touch several shards runs in a transaction of its own,
        // committed only if every shard succeeded: a failure on one shard must not leave the
        // others changed while the client is told the statement failed.
        let implicit_tx =
            plan.query_type != "SELECT" && !session.in_transaction && !single_shard(plan);
        if implicit_tx {
            session.in_transaction = true;
        }
        let tx = session.in_transaction.then(|| {
            Mutex::new(TxState {
                shard_sessions: std::mem::take(&mut session.shard_sessions),
                pre_sessions: std::mem::take(&mut session.pre_sessions),
                post_sessions: std::mem::take(&mut session.post_sessions),
                isolation: session.next_isolation.or(session.isolation),
            })
        });
        let begun_before = tx.as_ref().map(|_| session.shard_sessions.len());
        let known = |ks: &str| self.known_shards(ks);
        let lookup_rows = std::mem::take(&mut session.lookup_rows);
        let cursor = self.cursor(session, caller, &known, tx, log, lookup_rows);
        let outcome = plan.execute(&cursor, vars).await;
        let sent = cursor
            .log
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()).clone())
            .unwrap_or_default();
        session.lookup_rows =
            std::mem::take(&mut *cursor.lookup_rows.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(tx) = cursor.into_tx() {
            if tx.shard_sessions.len() > begun_before.unwrap_or_default() {
                session.next_isolation = None;
            }
            session.shard_sessions = tx.shard_sessions;
            session.pre_sessions = tx.pre_sessions;
            session.post_sessions = tx.post_sessions;
        }
        if implicit_tx {
            match &outcome {
                Ok(_) => self.commit(session, caller).await?,
                Err(_) => {
                    if let Err(e) = self.rollback(session, caller).await {
                        tracing::warn!(error = %e, "rollback of a failed multi-shard write");
                    }
                }
            }
        }
        let outcome = outcome.map_err(engine_error);
        if let Err(e) = &outcome {
            // VT12001 comes before anything is written.
            let refused = matches!(e, VtError::Unsupported(_));
            let partial_write = plan.query_type != "SELECT" && !single_shard(plan);
            if !refused && !implicit_tx && session.in_transaction && partial_write {
                // A write to several shards (or to lookup rows and their owner rows) may be
                // done on some: as Vitess does, roll the whole transaction back rather than let
                // it commit half a statement (MariaDB would undo the statement alone, which
                // no shard can do for the others).
                if let Err(r) = self.rollback(session, caller).await {
                    tracing::warn!(error = %r, "rollback after a failed multi-shard write");
                }
                return Err(VtError::Engine {
                    message: format!(
                        "transaction rolled back to reverse changes of partial DML execution: {e}"
                    ),
                    errno: e.errno(),
                    sqlstate: e.sqlstate().to_string(),
                });
            }
        }
        let result = outcome?;
        Self::note_result(session, &result);
        Ok((result, sent))
    }

    /// The engine's cursor for one statement of the session: in the transaction `tx` when
    /// there is one, recording the queries it sends when `log` is set.
    fn cursor<'a>(
        &'a self,
        session: &Session,
        caller: &'a Caller,
        known: &'a (dyn Fn(&str) -> Vec<String> + Send + Sync),
        tx: Option<Mutex<TxState>>,
        log: bool,
        lookup_rows: HashSet<String>,
    ) -> GatewayCursor<'a> {
        GatewayCursor {
            gateway: &self.gateway,
            topology: self.topology.get(),
            caller,
            tablet_type: session.tablet_type(),
            prefix: session.settings_prefix(),
            bind_vars: session.raw_literals.clone(),
            options: Self::options(session),
            tx,
            savepoints: session.savepoints.replay(),
            single_db: session
                .vitess_vars
                .get("transaction_mode")
                .is_some_and(|m| m.trim_matches('\'').eq_ignore_ascii_case("single")),
            max_memory_rows: self.max_memory_rows,
            group_concat_max_len: session.settings.get("group_concat_max_len").cloned(),
            known_shards: known,
            log: log.then(|| SyncMutex::new(Vec::new())),
            lookup_rows: SyncMutex::new(lookup_rows),
        }
    }

    /// Streams a SELECT's result outside any transaction (`SET workload = 'olap'`, as
    /// Vitess's StreamExecute): routes read their shards with StreamExecute and the rows go
    /// to the client as they come, merged in order where the route sorts and cut short by
    /// a LIMIT above it. Other primitives run whole first (see `engine::stream`).
    pub(super) async fn stream_plan(
        &self,
        session: &mut Session,
        caller: &Caller,
        plan: &Plan,
        vars: &BindVars,
    ) -> Result<ResultStream, VtError> {
        let known = |ks: &str| self.known_shards(ks);
        let cursor = self.cursor(session, caller, &known, None, false, HashSet::new());
        let stream = plan
            .stream_execute(&cursor, vars)
            .await
            .map_err(engine_error)?;
        session.row_count = -1;
        Ok(Box::pin(stream.map(|item| item.map_err(engine_error))))
    }

    /// `VEXPLAIN [PLAN | QUERIES] <statement>`.
    pub(super) async fn vexplain(
        &self,
        session: &mut Session,
        caller: &Caller,
        sql: &str,
    ) -> Result<Reply, VtError> {
        let toks = tokens(sql);
        let word = |i: usize| {
            toks.get(i)
                .map(|t| sql[t.start..t.end].to_ascii_lowercase())
                .unwrap_or_default()
        };
        let (format, skip) = match word(1).as_str() {
            "plan" => (ExplainFormat::Plan, 2),
            "queries" => (ExplainFormat::Queries, 2),
            w @ ("all" | "trace" | "keys") => {
                return Err(VtError::Unsupported(format!(
                    "VEXPLAIN {}",
                    w.to_ascii_uppercase()
                )))
            }
            _ => (ExplainFormat::Plan, 1),
        };
        let Some(start) = toks.get(skip).map(|t| t.start) else {
            return Err(sql::error::SqlError::Syntax("VEXPLAIN needs a statement".into()).into());
        };
        let inner = &sql[start..];
        if session.shard().is_some() {
            return Err(VtError::Unsupported(
                "VEXPLAIN with a shard in the target".into(),
            ));
        }
        let topo = self.topology.get();
        let planned = self.planner_sql(session, inner);
        let (planned, hex) = hex_numbers(planned);
        let keyspace = planner_keyspace(session);
        let tablet_type = session.tablet_type();
        let plan = with_stack(&planned, || {
            plan_statement(&topo, &planned, keyspace, tablet_type)
        })??;
        match format {
            ExplainFormat::Plan => {
                let json = serde_json::to_string_pretty(&plan.description())
                    .map_err(|e| VtError::Other(e.to_string()))?;
                Ok(Reply::Result(result(
                    vec![varchar_field("JSON")],
                    vec![vec![Some(json)]],
                )))
            }
            ExplainFormat::Queries => {
                // Showing a write's queries means running them: only when asked to.
                if plan.query_type != "SELECT" && !executes_dml(sql) {
                    return Err(VtError::VExplainRunsDml);
                }
                let (_, sent) = self.run_plan(session, caller, &plan, &hex, true).await?;
                let rows = sent
                    .into_iter()
                    .enumerate()
                    .map(|(i, q)| {
                        vec![
                            Some(i.to_string()),
                            Some(q.keyspace),
                            Some(q.shard),
                            Some(q.sql),
                        ]
                    })
                    .collect();
                let fields = vec![
                    int_field("#", Type::Int32),
                    varchar_field("keyspace"),
                    varchar_field("shard"),
                    varchar_field("query"),
                ];
                Ok(Reply::Result(result(fields, rows)))
            }
        }
    }
}

/// Whether a `VEXPLAIN` statement carries Vitess's `/*vt+ EXECUTE_DML_QUERIES */` directive.
fn executes_dml(sql: &str) -> bool {
    let mut rest = sql;
    while let Some(start) = rest.find("/*vt+") {
        let body = &rest[start + 5..];
        let end = body.find("*/").unwrap_or(body.len());
        if body[..end]
            .split_ascii_whitespace()
            .any(|d| d.eq_ignore_ascii_case("EXECUTE_DML_QUERIES"))
        {
            return true;
        }
        rest = &body[end..];
    }
    false
}

/// Whether a plan writes lookup vindex rows as well as the statement's own.
fn maintains_lookups(plan: &Plan) -> bool {
    fn any(d: &engine::PlanDescription) -> bool {
        d.other.contains_key("OwnedVindexes") || d.inputs.iter().any(any)
    }
    any(&plan.description())
}

/// Whether a plan provably writes to at most one shard (its root is a route to one keyspace id
/// or to an unsharded keyspace, maintaining no lookup vindex), so it needs no transaction of
/// its own.
fn single_shard(plan: &Plan) -> bool {
    let root = plan.description();
    root.inputs.is_empty()
        && matches!(root.variant.as_deref(), Some("EqualUnique" | "Unsharded"))
        && !maintains_lookups(plan)
}

#[cfg(test)]
mod tests {
    use super::{executes_dml, hex_or_bit_number};

    #[test]
    fn finds_the_execute_dml_directive() {
        assert!(executes_dml(
            "vexplain /*vt+ EXECUTE_DML_QUERIES */ queries delete from t"
        ));
        assert!(executes_dml(
            "vexplain /*vt+ PLANNER=gen4 */ queries /*vt+ execute_dml_queries */ delete from t"
        ));
        assert!(!executes_dml("vexplain queries delete from t"));
        assert!(!executes_dml(
            "vexplain /* EXECUTE_DML_QUERIES */ queries delete from t"
        ));
        assert!(!executes_dml(
            "vexplain /*vt+ EXECUTE_DML_QUERIES_NOT */ queries delete"
        ));
    }

    #[test]
    fn finds_hex_and_bit_numbers_only() {
        assert_eq!(
            hex_or_bit_number("select * from t where id = 0x37"),
            Some("0x37")
        );
        assert_eq!(
            hex_or_bit_number("insert into t (id) values (0b101)"),
            Some("0b101")
        );
        for sql in [
            "select * from t where id = X'37' or c = b'101'",
            "select '0x37', `0x37` from t where id = 37",
            "select 0xyz, 0X37, 0b12 from t /* 0x37 */",
        ] {
            assert_eq!(hex_or_bit_number(sql), None, "{sql}");
        }
    }
}
