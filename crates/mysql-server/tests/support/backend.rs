//! A pass-through handler: forwards each command to a MariaDB over mysql_async and converts
//! the answers (column metadata, text and binary rows, OK info, errors) back into this crate's
//! types. Used by `examples/passthrough.rs` and by the integration tests, so every client test
//! can compare the proxy with MariaDB directly.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Column, Conn, OptsBuilder, Params, Statement};
use mysql_server::{
    async_trait, CapabilityFlags, ColumnDef, ConnectionInfo, Execute, Handler, HandlerFactory,
    OkInfo, PrepareInfo, ResultWriter, SessionStatus, SqlError, Value,
};

/// Makes one backend connection (as `root`) per client connection.
#[derive(Debug, Clone)]
pub struct PassthroughFactory {
    host: String,
    port: u16,
}

impl PassthroughFactory {
    /// Forwards to the MariaDB at `host:port`.
    pub fn new(host: &str, port: u16) -> Self {
        Self {
            host: host.to_string(),
            port,
        }
    }
}

#[async_trait]
impl HandlerFactory for PassthroughFactory {
    type Handler = Passthrough;

    async fn new_connection(&self, info: &ConnectionInfo) -> Result<Passthrough, SqlError> {
        let opts = OptsBuilder::default()
            .ip_or_hostname(self.host.clone())
            .tcp_port(self.port)
            .user(Some("root"))
            .prefer_socket(false)
            .stmt_cache_size(0)
            .db_name(info.database.clone())
            .client_found_rows(
                info.capabilities
                    .contains(CapabilityFlags::CLIENT_FOUND_ROWS),
            );
        let mut conn = Conn::new(opts).await.map_err(to_sql_error)?;
        // Talk to the backend in the character set the client asked for.
        let names: Option<(String, String)> = conn
            .exec_first(
                "SELECT CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLLATIONS WHERE ID = ?",
                (info.collation,),
            )
            .await
            .map_err(to_sql_error)?;
        if let Some((charset, collation)) = names {
            conn.query_drop(format!("SET NAMES {charset} COLLATE {collation}"))
                .await
                .map_err(to_sql_error)?;
        }
        Ok(Passthrough {
            conn,
            statements: HashMap::new(),
        })
    }
}

/// Forwards one client connection's commands.
pub struct Passthrough {
    conn: Conn,
    statements: HashMap<u32, Statement>,
}

/// Converts a mysql_async error into what the client should see.
pub fn to_sql_error(e: mysql_async::Error) -> SqlError {
    match e {
        mysql_async::Error::Server(e) => SqlError::new(e.code, &e.state, e.message),
        other => SqlError::unknown(other.to_string()),
    }
}

/// Converts backend column metadata.
pub fn to_column_def(c: &Column) -> ColumnDef {
    ColumnDef {
        schema: c.schema_ref().to_vec(),
        table: c.table_ref().to_vec(),
        org_table: c.org_table_ref().to_vec(),
        name: c.name_ref().to_vec(),
        org_name: c.org_name_ref().to_vec(),
        collation: c.character_set(),
        column_length: c.column_length(),
        column_type: c.column_type(),
        flags: c.flags(),
        decimals: c.decimals(),
        format: Vec::new(),
    }
}

/// The text-protocol form of a value decoded from the binary protocol.
pub fn to_text(v: &Value) -> Option<Vec<u8>> {
    Some(match v {
        Value::NULL => return None,
        Value::Bytes(b) => b.clone(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::UInt(u) => u.to_string().into_bytes(),
        Value::Float(f) => f.to_string().into_bytes(),
        Value::Double(d) => d.to_string().into_bytes(),
        Value::Date(y, mo, d, h, mi, s, us) => {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}").into_bytes()
        }
        Value::Time(neg, days, h, mi, s, us) => {
            let sign = if *neg { "-" } else { "" };
            let hours = u64::from(*days) * 24 + u64::from(*h);
            format!("{sign}{hours:02}:{mi:02}:{s:02}.{us:06}").into_bytes()
        }
    })
}

/// Statements that may open or close a transaction or change autocommit.
fn may_change_status(sql: &[u8]) -> bool {
    let text = String::from_utf8_lossy(sql).to_ascii_lowercase();
    [
        "begin",
        "start",
        "commit",
        "rollback",
        "autocommit",
        "xa ",
        "lock",
    ]
    .iter()
    .any(|k| text.contains(k))
}

impl Passthrough {
    /// Re-reads transaction state from the backend when it may have changed.
    async fn refresh_status(
        &mut self,
        sql: &[u8],
        out: &mut ResultWriter<'_>,
    ) -> Result<(), SqlError> {
        if out.status() == SessionStatus::default() && !may_change_status(sql) {
            return Ok(());
        }
        let row: Option<(u8, u8)> = self
            .conn
            .query_first("SELECT @@in_transaction, @@autocommit")
            .await
            .map_err(to_sql_error)?;
        if let Some((in_tx, autocommit)) = row {
            out.set_status(SessionStatus {
                in_transaction: in_tx != 0,
                autocommit: autocommit != 0,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Handler for Passthrough {
    async fn on_query(&mut self, sql: &[u8], out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
        let mut result = self.conn.query_iter(sql).await.map_err(to_sql_error)?;
        loop {
            let columns = result.columns().filter(|c| !c.is_empty());
            match columns {
                Some(columns) => {
                    let defs: Vec<ColumnDef> = columns.iter().map(to_column_def).collect();
                    out.start(&defs).await?;
                    loop {
                        match result.next().await {
                            Ok(Some(row)) => {
                                let values: Vec<Option<&[u8]>> = (0..row.len())
                                    .map(|i| match row.as_ref(i) {
                                        Some(Value::Bytes(b)) => Some(&b[..]),
                                        _ => None,
                                    })
                                    .collect();
                                out.write_row(&values).await?;
                            }
                            Ok(None) => break,
                            Err(e) => {
                                out.finish(OkInfo::default()).await?;
                                return Err(to_sql_error(e));
                            }
                        }
                    }
                    out.finish(OkInfo {
                        warnings: result.warnings(),
                        ..OkInfo::default()
                    })
                    .await?;
                }
                None => {
                    let info = OkInfo {
                        affected_rows: result.affected_rows(),
                        last_insert_id: result.last_insert_id().unwrap_or(0),
                        warnings: result.warnings(),
                        info: result.info().into_owned(),
                    };
                    // Moves to the next result set, if any.
                    result.next().await.map_err(to_sql_error)?;
                    out.ok(info).await?;
                }
            }
            if result.is_empty() {
                break;
            }
        }
        drop(result);
        self.refresh_status(sql, out).await
    }

    async fn on_prepare(&mut self, stmt_id: u32, sql: &[u8]) -> Result<PrepareInfo, SqlError> {
        let stmt = self.conn.prep(sql).await.map_err(to_sql_error)?;
        let info = PrepareInfo {
            param_count: stmt.num_params(),
            columns: stmt.columns().iter().map(to_column_def).collect(),
        };
        self.statements.insert(stmt_id, stmt);
        Ok(info)
    }

    async fn on_execute(
        &mut self,
        stmt: Execute<'_>,
        out: &mut ResultWriter<'_>,
    ) -> Result<(), SqlError> {
        let Some(prepared) = self.statements.get(&stmt.stmt_id).cloned() else {
            return Err(SqlError::unknown_statement(
                stmt.stmt_id,
                "mysqld_stmt_execute",
            ));
        };
        let params: Vec<Value> = stmt.params.iter().map(|p| p.value.clone()).collect();
        let params = if params.is_empty() {
            Params::Empty
        } else {
            Params::Positional(params)
        };
        let mut result = self
            .conn
            .exec_iter(&prepared, params)
            .await
            .map_err(to_sql_error)?;
        match result.columns().filter(|c| !c.is_empty()) {
            Some(columns) => {
                let defs: Vec<ColumnDef> = columns.iter().map(to_column_def).collect();
                out.start(&defs).await?;
                while let Some(row) = result.next().await.map_err(to_sql_error)? {
                    let texts: Vec<Option<Vec<u8>>> = (0..row.len())
                        .map(|i| row.as_ref(i).and_then(to_text))
                        .collect();
                    let values: Vec<Option<&[u8]>> = texts.iter().map(|t| t.as_deref()).collect();
                    out.write_row(&values).await?;
                }
                out.finish(OkInfo {
                    warnings: result.warnings(),
                    ..OkInfo::default()
                })
                .await?;
            }
            None => {
                out.ok(OkInfo {
                    affected_rows: result.affected_rows(),
                    last_insert_id: result.last_insert_id().unwrap_or(0),
                    warnings: result.warnings(),
                    info: result.info().into_owned(),
                })
                .await?;
            }
        }
        drop(result);
        self.refresh_status(stmt.sql, out).await
    }

    async fn on_close(&mut self, stmt_id: u32) {
        if let Some(stmt) = self.statements.remove(&stmt_id) {
            if let Err(e) = self.conn.close(stmt).await {
                tracing::debug!(error = %e, "closing a backend statement failed");
            }
        }
    }

    async fn on_init_db(&mut self, db: &str) -> Result<(), SqlError> {
        let sql = format!("USE `{}`", db.replace('`', "``"));
        self.conn.query_drop(sql).await.map_err(to_sql_error)
    }

    async fn on_reset(&mut self) -> Result<(), SqlError> {
        self.statements.clear();
        self.conn.reset().await.map_err(to_sql_error).map(|_| ())
    }

    async fn on_change_user(&mut self, info: &ConnectionInfo) -> Result<(), SqlError> {
        match &info.database {
            Some(db) => self.on_init_db(db).await,
            None => Ok(()),
        }
    }
}
