//! Adapts the [`Executor`] to the MySQL server: one [`Session`] per connection, statements
//! split and run one by one, `query.QueryResult`s written back as MySQL result sets with the
//! tablets' full column metadata, and streamed results forwarded row by row.

use async_trait::async_trait;
use futures::StreamExt;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_server::column::ColumnDef;
use mysql_server::column::BINARY_COLLATION;
use mysql_server::error::SqlError;
use mysql_server::handler::{ConnectionInfo, Execute, Handler, HandlerFactory, PrepareInfo};
use mysql_server::response::OkInfo;
use mysql_server::results::ResultWriter;
use proto::query::{Field, QueryResult, Type};
use proto::sqltypes::{column_charset, mysql_from_type};
use proto::topodata::TabletType;

use crate::error::VtError;
use crate::executor::{Executor, Reply};
use crate::gateway::Caller;
use crate::params::bind;
use crate::prepare::prepared_fields;
use crate::session::Session;
use crate::text::{placeholders, to_utf8, RawLiterals};

/// Makes a [`VtgateHandler`] per connection.
pub struct VtgateHandlerFactory {
    executor: Executor,
    default_tablet_type: TabletType,
}

impl VtgateHandlerFactory {
    /// A factory whose sessions default to `default_tablet_type`.
    pub fn new(executor: Executor, default_tablet_type: TabletType) -> Self {
        VtgateHandlerFactory {
            executor,
            default_tablet_type,
        }
    }
}

#[async_trait]
impl HandlerFactory for VtgateHandlerFactory {
    type Handler = VtgateHandler;

    async fn new_connection(&self, info: &ConnectionInfo) -> Result<VtgateHandler, SqlError> {
        let mut session = Session::new(self.default_tablet_type);
        session.client_found_rows = found_rows(info);
        let mut handler = VtgateHandler {
            executor: self.executor.clone(),
            session,
            caller: Caller {
                user: info.user.clone(),
                user_data: info.user_data.clone(),
            },
        };
        if let Some(db) = info.database.as_deref().filter(|d| !d.is_empty()) {
            handler.executor.use_target(&mut handler.session, db)?;
        }
        Ok(handler)
    }
}

/// The handler of one client connection.
pub struct VtgateHandler {
    executor: Executor,
    session: Session,
    caller: Caller,
}

impl VtgateHandler {
    /// Runs every statement of `sql`, stopping at the first error.
    async fn run(&mut self, sql: &str, out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
        let statements = sql::split::split_statements(sql);
        if statements.is_empty() {
            return Err(VtError::Sql(sql::error::SqlError::EmptyQuery).into());
        }
        for stmt in statements {
            let reply = self
                .executor
                .execute(&mut self.session, &self.caller, stmt)
                .await;
            out.set_status(self.session.status());
            match reply {
                Ok(reply) => self.write(reply, out).await?,
                Err(e) => {
                    tracing::debug!(error = %e, "statement failed");
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    /// Runs `sql` with the raw-bytes literals it refers to.
    async fn run_with(
        &mut self,
        sql: &str,
        raw: RawLiterals,
        out: &mut ResultWriter<'_>,
    ) -> Result<(), SqlError> {
        self.session.raw_literals = raw.into_vars();
        let result = self.run(sql, out).await;
        self.session.raw_literals.clear();
        result
    }

    async fn write(&mut self, reply: Reply, out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
        match reply {
            Reply::Result(r) if r.fields.is_empty() => {
                out.ok(ok_info(&r)).await?;
            }
            Reply::Result(r) => {
                out.start(&columns(&r.fields)).await?;
                write_rows(&r, out).await?;
                out.finish(OkInfo::default()).await?;
            }
            Reply::Stream(mut stream) => {
                let mut started = false;
                let mut rows = 0u64;
                while let Some(item) = stream.next().await {
                    let part = match item {
                        Ok(part) => part,
                        Err(e) => return Err(e.into()),
                    };
                    if !started && !part.fields.is_empty() {
                        out.start(&columns(&part.fields)).await?;
                        started = true;
                    }
                    if !part.rows.is_empty() && !started {
                        return Err(SqlError::unknown("tablet sent rows before fields"));
                    }
                    rows += part.rows.len() as u64;
                    write_rows(&part, out).await?;
                }
                self.session.found_rows = rows;
                if started {
                    out.finish(OkInfo::default()).await?;
                } else {
                    out.ok(OkInfo::default()).await?;
                }
            }
        }
        Ok(())
    }

    async fn end_transaction(&mut self) {
        if let Err(e) = self
            .executor
            .rollback(&mut self.session, &self.caller)
            .await
        {
            tracing::info!(error = %e, "rollback of a closed session's transaction failed");
        }
    }
}

#[async_trait]
impl Handler for VtgateHandler {
    async fn on_query(&mut self, sql: &[u8], out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
        let mut raw = RawLiterals::default();
        let sql = to_utf8(sql, &mut raw)?;
        self.run_with(&sql, raw, out).await
    }

    async fn on_prepare(&mut self, _stmt_id: u32, sql: &[u8]) -> Result<PrepareInfo, SqlError> {
        let sql = to_utf8(sql, &mut RawLiterals::default())?;
        let count = placeholders(&sql).len();
        let param_count = u16::try_from(count)
            .map_err(|_| SqlError::unknown(format!("too many placeholders: {count}")))?;
        let fields =
            prepared_fields(&self.executor, &mut self.session, &self.caller, &sql, count).await?;
        Ok(PrepareInfo {
            param_count,
            columns: columns(&fields),
        })
    }

    async fn on_execute(
        &mut self,
        stmt: Execute<'_>,
        out: &mut ResultWriter<'_>,
    ) -> Result<(), SqlError> {
        let mut raw = RawLiterals::default();
        let sql = to_utf8(stmt.sql, &mut raw)?;
        let bound = bind(&sql, stmt.params, &mut raw)?;
        self.run_with(&bound, raw, out).await
    }

    async fn on_init_db(&mut self, db: &str) -> Result<(), SqlError> {
        self.executor.use_target(&mut self.session, db)?;
        Ok(())
    }

    async fn on_reset(&mut self) -> Result<(), SqlError> {
        self.end_transaction().await;
        let client_found_rows = self.session.client_found_rows;
        self.session = Session::new(self.session.default_tablet_type);
        self.session.client_found_rows = client_found_rows;
        Ok(())
    }

    async fn on_change_user(&mut self, info: &ConnectionInfo) -> Result<(), SqlError> {
        self.caller = Caller {
            user: info.user.clone(),
            user_data: info.user_data.clone(),
        };
        if let Some(db) = info.database.as_deref().filter(|d| !d.is_empty()) {
            self.executor.use_target(&mut self.session, db)?;
        }
        Ok(())
    }

    async fn on_disconnect(&mut self) {
        self.end_transaction().await;
    }
}

/// Whether the client asked for rows matched instead of rows changed.
fn found_rows(info: &ConnectionInfo) -> bool {
    info.capabilities
        .contains(mysql_common::constants::CapabilityFlags::CLIENT_FOUND_ROWS)
}

fn ok_info(r: &QueryResult) -> OkInfo {
    OkInfo {
        affected_rows: r.rows_affected,
        last_insert_id: r.insert_id,
        warnings: 0,
        info: r.info.clone(),
    }
}

async fn write_rows(r: &QueryResult, out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
    for row in &r.rows {
        let values = row
            .split_values()
            .map_err(|e| SqlError::unknown(format!("bad row from tablet: {e}")))?;
        out.write_row(&values).await?;
    }
    Ok(())
}

/// Column definitions for fields, keeping all the metadata the tablet sent.
pub fn columns(fields: &[Field]) -> Vec<ColumnDef> {
    fields.iter().map(column_def).collect()
}

fn column_def(f: &Field) -> ColumnDef {
    let (mut mysql_type, _) = mysql_from_type(f.r#type());
    let mut format = Vec::new();
    if f.r#type() == Type::Json && f.charset != u32::from(BINARY_COLLATION) {
        // MariaDB's JSON: a text LONGTEXT on the wire, `json` in the extended metadata.
        mysql_type = ColumnType::MYSQL_TYPE_BLOB as u8;
        format = b"json".to_vec();
    }
    ColumnDef {
        schema: f.database.clone().into_bytes(),
        table: f.table.clone().into_bytes(),
        org_table: f.org_table.clone().into_bytes(),
        name: f.name.clone().into_bytes(),
        org_name: f.org_name.clone().into_bytes(),
        collation: u16::try_from(column_charset(f)).unwrap_or(63),
        column_length: f.column_length,
        column_type: ColumnType::try_from(mysql_type).unwrap_or(ColumnType::MYSQL_TYPE_VAR_STRING),
        // The tablet's flags as MariaDB sent them (0 is a real value: nullable, no NUM).
        flags: ColumnFlags::from_bits_truncate(f.flags as u16),
        decimals: u8::try_from(f.decimals).unwrap_or(31),
        format,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_metadata() {
        let f = Field {
            name: "price".into(),
            r#type: Type::Uint64 as i32,
            table: "p".into(),
            org_table: "product".into(),
            database: "vt_commerce".into(),
            org_name: "price".into(),
            column_length: 20,
            charset: 63,
            decimals: 0,
            flags: 32 | 1,
            column_type: String::new(),
        };
        let c = column_def(&f);
        assert_eq!(c.column_type, ColumnType::MYSQL_TYPE_LONGLONG);
        assert!(c.is_unsigned());
        assert!(c.flags.contains(ColumnFlags::NOT_NULL_FLAG));
        assert_eq!(
            (c.schema.as_slice(), c.org_table.as_slice()),
            (&b"vt_commerce"[..], &b"product"[..])
        );
        let local = crate::executor::local::varchar_field("Database");
        let c = column_def(&local);
        assert_eq!(c.column_type, ColumnType::MYSQL_TYPE_VAR_STRING);
        assert_eq!(c.collation, 45);
        assert!(c.format.is_empty());
    }

    #[test]
    fn json_columns_are_typed_as_their_server_types_them() {
        let mut f = Field {
            name: "j".into(),
            r#type: Type::Json as i32,
            column_length: u32::MAX,
            charset: 45,
            flags: 0x90,
            ..Field::default()
        };
        let c = column_def(&f);
        assert_eq!(
            (c.column_type, c.format.as_slice(), c.collation),
            (ColumnType::MYSQL_TYPE_BLOB, &b"json"[..], 45)
        );
        f.charset = 63;
        let c = column_def(&f);
        assert_eq!(c.column_type, ColumnType::MYSQL_TYPE_JSON);
        assert!(c.format.is_empty());
    }
}
