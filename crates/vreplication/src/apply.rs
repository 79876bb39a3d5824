//! Applies binlog transactions to the target: each source transaction
//! becomes one target transaction of INSERT/UPDATE/DELETE statements by
//! primary key, which also records the new position in `_vt.vreplication`,
//! so a restart neither repeats nor skips a transaction.

use std::collections::HashMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value};

use crate::binlog::{RowChange, RowKind, Transaction, TxEvent};
use crate::error::{Error, Result};
use crate::filter::TableFilter;
use crate::sidecar;
use crate::sql::{ident, qualified};

/// Applies the transactions of one stream.
#[derive(Debug)]
pub struct Applier {
    id: u32,
    source_db: String,
    target_db: String,
    filter: TableFilter,
    primary_keys: HashMap<String, Vec<String>>,
}

impl Applier {
    /// An applier for stream `id`, replicating `filter`'s tables of
    /// `source_db` into `target_db`.
    pub fn new(id: u32, source_db: &str, target_db: &str, filter: TableFilter) -> Self {
        Applier {
            id,
            source_db: source_db.to_owned(),
            target_db: target_db.to_owned(),
            filter,
            primary_keys: HashMap::new(),
        }
    }

    /// Applies `tx` and its position in one target transaction; returns the
    /// number of row changes applied. DDL is skipped (`on_ddl: IGNORE`).
    pub async fn apply(&mut self, target: &mut Conn, tx: &Transaction) -> Result<usize> {
        self.apply_batch(target, std::slice::from_ref(tx)).await
    }

    /// Applies consecutive source transactions in ONE target transaction, with the stream's
    /// position moved to the end of the last (as Vitess's vplayer batches what is already
    /// queued): a backlog of small transactions costs one commit instead of one each, and a
    /// failure leaves none of them applied.
    pub async fn apply_batch(&mut self, target: &mut Conn, txs: &[Transaction]) -> Result<usize> {
        let Some(last) = txs.last() else {
            return Ok(0);
        };
        target.query_drop("BEGIN").await?;
        let applied = async {
            let mut applied = 0;
            for tx in txs {
                applied += self.apply_rows(target, tx).await?;
            }
            sidecar::update_pos(target, self.id, &last.position_after, last.timestamp).await?;
            Ok::<_, crate::Error>(applied)
        }
        .await;
        match applied {
            Ok(n) => {
                target.query_drop("COMMIT").await?;
                Ok(n)
            }
            Err(e) => {
                if let Err(rollback) = target.query_drop("ROLLBACK").await {
                    tracing::warn!(error = %rollback, "rollback after a failed apply failed");
                }
                Err(e)
            }
        }
    }

    /// The row changes of one source transaction (the caller owns the target transaction).
    async fn apply_rows(&mut self, target: &mut Conn, tx: &Transaction) -> Result<usize> {
        let mut applied = 0;
        for event in &tx.events {
            let TxEvent::Row(change) = event else {
                continue;
            };
            if change.table.database != self.source_db {
                continue;
            }
            let Some(rule) = self.filter.rule(&change.table.table) else {
                continue;
            };
            let columns = &change.table.columns;
            let keep = |image: &Option<Vec<Value>>| -> Result<bool> {
                match image {
                    Some(row) => rule.matches(columns, row),
                    None => Ok(false),
                }
            };
            // With a key-range filter a row can move into or out of the stream.
            let kind = match (change.kind, keep(&change.before)?, keep(&change.after)?) {
                (RowKind::Insert, _, true) => RowKind::Insert,
                (RowKind::Delete, true, _) => RowKind::Delete,
                (RowKind::Update, true, true) => RowKind::Update,
                (RowKind::Update, true, false) => RowKind::Delete,
                (RowKind::Update, false, true) => RowKind::Insert,
                _ => continue,
            };
            let table = rule.target.clone();
            self.apply_row(target, &table, change, kind).await?;
            applied += 1;
        }
        Ok(applied)
    }

    async fn apply_row(
        &mut self,
        target: &mut Conn,
        table: &str,
        change: &RowChange,
        kind: RowKind,
    ) -> Result<()> {
        let columns = &change.table.columns;
        let pk = self.primary_key_indexes(target, table, columns).await?;
        let name = qualified(&self.target_db, table);
        let missing = || Error::decode(0, "row change without the image its kind needs");
        match kind {
            RowKind::Insert => {
                let after = change.after.as_ref().ok_or_else(missing)?;
                let cols: Vec<String> = columns.iter().map(|c| ident(c)).collect();
                let sql = format!(
                    "INSERT INTO {name} ({}) VALUES {}",
                    cols.join(", "),
                    crate::sql::placeholders(cols.len())
                );
                target
                    .exec_drop(sql, Params::Positional(after.clone()))
                    .await?;
            }
            RowKind::Update => {
                let before = change.before.as_ref().ok_or_else(missing)?;
                let after = change.after.as_ref().ok_or_else(missing)?;
                let sets: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{} = ?", ident(c)))
                    .collect();
                let sql = format!(
                    "UPDATE {name} SET {} WHERE {}",
                    sets.join(", "),
                    where_pk(columns, &pk)
                );
                let mut params = after.clone();
                params.extend(pk.iter().map(|&i| before[i].clone()));
                target.exec_drop(sql, Params::Positional(params)).await?;
            }
            RowKind::Delete => {
                let before = change.before.as_ref().ok_or_else(missing)?;
                let sql = format!("DELETE FROM {name} WHERE {}", where_pk(columns, &pk));
                let params: Vec<Value> = pk.iter().map(|&i| before[i].clone()).collect();
                target.exec_drop(sql, Params::Positional(params)).await?;
            }
        }
        Ok(())
    }

    async fn primary_key_indexes(
        &mut self,
        target: &mut Conn,
        table: &str,
        columns: &[String],
    ) -> Result<Vec<usize>> {
        if !self.primary_keys.contains_key(table) {
            let names = primary_key(target, &self.target_db, table).await?;
            self.primary_keys.insert(table.to_owned(), names);
        }
        let names = &self.primary_keys[table];
        names
            .iter()
            .map(|n| columns.iter().position(|c| c.eq_ignore_ascii_case(n)))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                Error::NoPrimaryKey(format!(
                    "{}.{table} (binlog columns differ)",
                    self.target_db
                ))
            })
    }
}

/// Primary key column names of `db.table`, in key order.
pub async fn primary_key(conn: &mut Conn, db: &str, table: &str) -> Result<Vec<String>> {
    let names: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
             ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await?;
    if names.is_empty() {
        return Err(Error::NoPrimaryKey(format!("{db}.{table}")));
    }
    Ok(names)
}

fn where_pk(columns: &[String], pk: &[usize]) -> String {
    let parts: Vec<String> = pk
        .iter()
        .map(|&i| format!("{} = ?", ident(&columns[i])))
        .collect();
    parts.join(" AND ")
}
