//! A trivial in-process handler with no backend: answers a query with one row holding its
//! text, prepares any statement (one placeholder per `?`) and answers an execute with the
//! parameter count.

use mysql_server::{
    async_trait, ColumnDef, ColumnType, ConnectionInfo, Execute, Handler, HandlerFactory, OkInfo,
    PrepareInfo, ResultWriter, SqlError,
};

/// Makes [`Echo`] handlers.
pub struct EchoFactory;

#[async_trait]
impl HandlerFactory for EchoFactory {
    type Handler = Echo;
    async fn new_connection(&self, _: &ConnectionInfo) -> Result<Echo, SqlError> {
        Ok(Echo)
    }
}

/// See the module documentation.
pub struct Echo;

fn column(name: &str) -> ColumnDef {
    ColumnDef::new(name, ColumnType::MYSQL_TYPE_VAR_STRING)
}

#[async_trait]
impl Handler for Echo {
    async fn on_query(&mut self, sql: &[u8], out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
        out.start(&[column("sql")]).await?;
        out.write_row(&[Some(sql)]).await?;
        out.finish(OkInfo::default()).await
    }

    async fn on_prepare(&mut self, _: u32, sql: &[u8]) -> Result<PrepareInfo, SqlError> {
        let param_count = sql.iter().filter(|&&b| b == b'?').count();
        Ok(PrepareInfo {
            param_count: u16::try_from(param_count).map_err(|_| SqlError::unknown("too many"))?,
            columns: vec![column("params")],
        })
    }

    async fn on_execute(
        &mut self,
        stmt: Execute<'_>,
        out: &mut ResultWriter<'_>,
    ) -> Result<(), SqlError> {
        out.start(&[column("params")]).await?;
        let count = stmt.params.len().to_string();
        out.write_row(&[Some(count.as_bytes())]).await?;
        out.finish(OkInfo::default()).await
    }

    async fn on_init_db(&mut self, _: &str) -> Result<(), SqlError> {
        Ok(())
    }
}
