//! A handler that answers with one fixed result set, for protocol benches.

use std::sync::Arc;

use mysql_server::{
    async_trait, ColumnDef, ColumnFlags, ColumnType, ConnectionInfo, Execute, Handler,
    HandlerFactory, OkInfo, PrepareInfo, ResultWriter, SqlError,
};

/// A result set kept in memory: columns and text-format rows.
#[derive(Debug, Clone)]
pub struct FixedResult {
    /// Column definitions.
    pub columns: Vec<ColumnDef>,
    /// Rows of text-protocol cells (`None` is NULL).
    pub rows: Vec<Vec<Option<Vec<u8>>>>,
}

impl FixedResult {
    /// `n` rows shaped like sysbench's `sbtest` plus a DOUBLE, a DATETIME
    /// and a nullable column, so the binary protocol converts several types.
    pub fn sbtest(n: usize) -> Self {
        let mut id = ColumnDef::new("id", ColumnType::MYSQL_TYPE_LONG);
        id.flags = ColumnFlags::NOT_NULL_FLAG | ColumnFlags::PRI_KEY_FLAG;
        let columns = vec![
            id,
            ColumnDef::new("k", ColumnType::MYSQL_TYPE_LONG),
            ColumnDef::new("c", ColumnType::MYSQL_TYPE_STRING),
            ColumnDef::new("pad", ColumnType::MYSQL_TYPE_STRING),
            ColumnDef::new("price", ColumnType::MYSQL_TYPE_DOUBLE),
            ColumnDef::new("created", ColumnType::MYSQL_TYPE_DATETIME),
            ColumnDef::new("note", ColumnType::MYSQL_TYPE_VAR_STRING),
        ];
        let rows = (0..n)
            .map(|i| {
                let c = format!("{i:011}-").repeat(10);
                let pad = format!("{:011}-", i * 7).repeat(5);
                vec![
                    Some(i.to_string().into_bytes()),
                    Some((i * 31 % 10_000).to_string().into_bytes()),
                    Some(c.into_bytes()),
                    Some(pad.into_bytes()),
                    Some(format!("{}.25", i * 3).into_bytes()),
                    Some(format!("2024-01-{:02} 03:04:05", i % 28 + 1).into_bytes()),
                    (i % 3 != 0).then(|| b"note".to_vec()),
                ]
            })
            .collect();
        FixedResult { columns, rows }
    }

    async fn write(&self, out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
        out.start(&self.columns).await?;
        let mut cells: Vec<Option<&[u8]>> = Vec::with_capacity(self.columns.len());
        for row in &self.rows {
            cells.clear();
            cells.extend(row.iter().map(Option::as_deref));
            out.write_row(&cells).await?;
        }
        out.finish(OkInfo::default()).await
    }
}

/// Makes [`FixedHandler`]s that all answer with the same result.
#[derive(Debug, Clone)]
pub struct FixedFactory(pub Arc<FixedResult>);

/// Answers every query and every executed statement with its result.
#[derive(Debug)]
pub struct FixedHandler(Arc<FixedResult>);

#[async_trait]
impl HandlerFactory for FixedFactory {
    type Handler = FixedHandler;

    async fn new_connection(&self, _info: &ConnectionInfo) -> Result<FixedHandler, SqlError> {
        Ok(FixedHandler(self.0.clone()))
    }
}

#[async_trait]
impl Handler for FixedHandler {
    async fn on_query(&mut self, _sql: &[u8], out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
        self.0.write(out).await
    }

    async fn on_prepare(&mut self, _stmt_id: u32, _sql: &[u8]) -> Result<PrepareInfo, SqlError> {
        Ok(PrepareInfo {
            param_count: 0,
            columns: self.0.columns.clone(),
        })
    }

    async fn on_execute(
        &mut self,
        _stmt: Execute<'_>,
        out: &mut ResultWriter<'_>,
    ) -> Result<(), SqlError> {
        self.0.write(out).await
    }

    async fn on_init_db(&mut self, _db: &str) -> Result<(), SqlError> {
        Ok(())
    }
}
