//! Schema tracking: the columns of every table, read from a primary tablet of each keyspace,
//! so that the planner knows them where the VSchema does not list them.
//!
//! Vitess's vtgate does the same (`--schema_change_signal`): a table whose VSchema entry has
//! no authoritative column list gets the tracked columns and counts as authoritative. The
//! planner then resolves an unqualified column of a cross-shard join to the one table that
//! has it, expands `INSERT ... VALUES` without a column list, and tells a select alias from a
//! column of the same name in GROUP BY and HAVING.
//!
//! Vitess's tablets signal a schema change in their health stream and vtgate then asks them
//! with the `GetSchema` RPC. Here the tracker reads `information_schema.COLUMNS` through the
//! ordinary `Execute` RPC of a keyspace's primary: after every DDL that vtgate runs in the
//! keyspace (before the DDL's answer goes back to the client), and every
//! `--schema-change-signal-interval` for changes made elsewhere (vtctl `ApplySchema`,
//! MoveTables, a client on MariaDB itself). Between such a change and the next reload the
//! planner works with the old columns.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use proto::query::{BoundQuery, ExecuteOptions, QueryResult, Type};
use proto::topodata::TabletType;
use vschema::model::{Column, ColumnType};

use crate::error::VtError;
use crate::gateway::{Caller, Gateway, ShardTarget};
use crate::topology::TopologyHandle;

/// What the tracker knows of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackedTable {
    /// Its visible columns, in table order.
    pub columns: Vec<Column>,
    /// Its primary key columns (in table order): what a DELETE or UPDATE planned from a
    /// select of the rows to change (Vitess's `DMLWithInput`) names them by.
    pub primary_key: Vec<String>,
}

/// Tracked tables of one keyspace, by table name.
pub type KeyspaceColumns = BTreeMap<String, TrackedTable>;

/// Tracked columns of every keyspace read so far, by keyspace name.
pub type TrackedSchema = BTreeMap<String, KeyspaceColumns>;

/// What the tracker asks a primary. Invisible columns are left out: `SELECT *` and an INSERT
/// without a column list do not see them either.
const COLUMNS_QUERY: &str = "select TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, EXTRA, \
     COLUMN_KEY, COLLATION_NAME \
     from information_schema.COLUMNS where TABLE_SCHEMA = database() \
     order by TABLE_NAME, ORDINAL_POSITION";

/// Reads the tables' columns of each keyspace and hands them to the topology handle.
#[derive(Clone)]
pub struct SchemaTracker {
    gateway: Gateway,
    topology: TopologyHandle,
}

impl SchemaTracker {
    /// A tracker reading through `gateway` and updating `topology`.
    pub fn new(gateway: Gateway, topology: TopologyHandle) -> Self {
        SchemaTracker { gateway, topology }
    }

    /// Reads the columns of `keyspace` from the primary of its first shard; returns whether
    /// they changed. A keyspace with no serving primary keeps what was tracked before.
    pub async fn reload(&self, keyspace: &str) -> Result<bool, VtError> {
        let topo = self.topology.get();
        let Some(shard) = topo
            .keyspace(keyspace)
            .and_then(|ks| ks.shards_for(TabletType::Primary).first().cloned())
        else {
            return Ok(false);
        };
        let target = ShardTarget {
            keyspace: keyspace.to_string(),
            shard,
            tablet_type: TabletType::Primary,
        };
        let query = BoundQuery {
            sql: COLUMNS_QUERY.to_string(),
            bind_variables: Default::default(),
        };
        // Streamed: a schema may have more columns than a tablet returns in one result.
        let mut stream = self
            .gateway
            .stream_execute(
                &target,
                &query,
                &Caller::default(),
                &ExecuteOptions::default(),
            )
            .await?;
        let mut result = QueryResult::default();
        while let Some(part) = stream.next().await {
            result.rows.extend(part?.rows);
        }
        let columns = columns_of(&result)?;
        Ok(self.topology.set_tracked(keyspace, columns))
    }

    /// Reloads every keyspace of the current topology; a keyspace that cannot be read is
    /// logged and keeps its old columns.
    pub async fn reload_all(&self) {
        let names: Vec<String> = self
            .topology
            .get()
            .keyspaces()
            .map(|k| k.name.clone())
            .collect();
        for ks in names {
            match self.reload(&ks).await {
                Ok(true) => tracing::info!(keyspace = %ks, "tracked schema changed"),
                Ok(false) => {}
                Err(e) => tracing::debug!(keyspace = %ks, error = %e, "schema not tracked"),
            }
        }
    }

    /// Reloads every keyspace every `interval`, forever (the first time after `interval`).
    pub async fn run(self, interval: Duration) {
        loop {
            tokio::time::sleep(interval).await;
            self.reload_all().await;
        }
    }
}

/// The tables' columns from the rows of [`COLUMNS_QUERY`].
fn columns_of(result: &QueryResult) -> Result<KeyspaceColumns, VtError> {
    let mut tables = KeyspaceColumns::new();
    for row in &result.rows {
        let values = row
            .split_values()
            .map_err(|e| VtError::Other(format!("schema tracking: {e}")))?;
        let text = |i: usize| {
            values
                .get(i)
                .copied()
                .flatten()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default()
        };
        let table = tables.entry(text(0)).or_default();
        if text(5).eq_ignore_ascii_case("PRI") {
            table.primary_key.push(text(1));
        }
        if text(4).to_ascii_lowercase().contains("invisible") {
            continue;
        }
        table.columns.push(Column {
            name: text(1),
            column_type: ColumnType(column_type(&text(2), &text(3)) as i32),
            // NULL (empty) for columns that are not text.
            collation_name: text(6),
            ..Default::default()
        });
    }
    Ok(tables)
}

/// The `query.Type` of a column from its `DATA_TYPE` and `COLUMN_TYPE`; `NULL_TYPE` when
/// there is none (MariaDB's `uuid`, `inet6`...).
fn column_type(data_type: &str, column_type: &str) -> Type {
    let unsigned = column_type.to_ascii_lowercase().contains("unsigned");
    let pick = |signed, without_sign| if unsigned { without_sign } else { signed };
    match data_type.to_ascii_lowercase().as_str() {
        "tinyint" => pick(Type::Int8, Type::Uint8),
        "smallint" => pick(Type::Int16, Type::Uint16),
        "mediumint" => pick(Type::Int24, Type::Uint24),
        "int" | "integer" => pick(Type::Int32, Type::Uint32),
        "bigint" => pick(Type::Int64, Type::Uint64),
        "float" => Type::Float32,
        "double" | "real" => Type::Float64,
        "decimal" | "numeric" => Type::Decimal,
        "date" => Type::Date,
        "time" => Type::Time,
        "datetime" => Type::Datetime,
        "timestamp" => Type::Timestamp,
        "year" => Type::Year,
        "char" => Type::Char,
        "varchar" => Type::Varchar,
        "binary" => Type::Binary,
        "varbinary" => Type::Varbinary,
        "tinytext" | "text" | "mediumtext" | "longtext" => Type::Text,
        "tinyblob" | "blob" | "mediumblob" | "longblob" => Type::Blob,
        "enum" => Type::Enum,
        "set" => Type::Set,
        "bit" => Type::Bit,
        "json" => Type::Json,
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" => Type::Geometry,
        _ => Type::NullType,
    }
}

/// `vschema` with the tracked columns of `tracked` merged in, as Vitess's tracker does: a
/// table whose column list is authoritative keeps it; any other table the tracker has seen
/// gets the tracked columns, in table order, each one as declared where the VSchema
/// declares it (its type, collation...), and becomes authoritative. Every tracked table gets
/// its primary key.
pub fn merge_tracked(vschema: &mut vschema::model::SrvVSchema, tracked: &TrackedSchema) {
    for (ks_name, ks) in vschema.keyspaces.iter_mut() {
        let Some(columns) = tracked.get(ks_name) else {
            continue;
        };
        for (name, table) in ks.tables.iter_mut() {
            let Some(found) = columns.get(name) else {
                continue;
            };
            table.primary_key = found.primary_key.clone();
            if table.column_list_authoritative {
                continue;
            }
            let merged = found
                .columns
                .iter()
                .map(|c| {
                    table
                        .columns
                        .iter()
                        .find(|d| d.name.eq_ignore_ascii_case(&c.name))
                        .cloned()
                        .unwrap_or_else(|| c.clone())
                })
                .collect();
            table.columns = merged;
            table.column_list_authoritative = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::query::{Field, Row};

    fn result(rows: &[[&str; 7]]) -> QueryResult {
        QueryResult {
            fields: vec![Field::default(); 7],
            rows: rows
                .iter()
                .map(|r| Row::from_values(r.iter().map(|v| Some(v.as_bytes()))))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn reads_columns_in_order_without_invisible_ones() {
        let r = result(&[
            ["t", "id", "bigint", "bigint(20) unsigned", "", "PRI", ""],
            ["t", "secret", "int", "int(11)", "INVISIBLE", "PRI", ""],
            [
                "t",
                "name",
                "varchar",
                "varchar(10)",
                "",
                "MUL",
                "utf8mb4_bin",
            ],
            ["u", "x", "uuid", "uuid", "", "", ""],
        ]);
        let cols = columns_of(&r).unwrap();
        // An invisible column may still be part of the key.
        assert_eq!(cols["t"].primary_key, ["id", "secret"]);
        assert!(cols["u"].primary_key.is_empty());
        let t: Vec<_> = cols["t"]
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.column_type.0))
            .collect();
        assert_eq!(
            t,
            [("id", Type::Uint64 as i32), ("name", Type::Varchar as i32)]
        );
        assert_eq!(cols["u"].columns[0].column_type.0, Type::NullType as i32);
        // The planner orders expressions of text columns by their collation.
        assert_eq!(cols["t"].columns[1].collation_name, "utf8mb4_bin");
        assert_eq!(cols["t"].columns[0].collation_name, "");
    }

    #[test]
    fn merge_keeps_authoritative_lists_and_declared_entries() {
        let mut vs: vschema::model::SrvVSchema = serde_json::from_str(
            r#"{"keyspaces": {"ks": {"sharded": true, "tables": {
                "a": {"columns": [{"name": "NAME", "type": "VARCHAR", "collation_name": "utf8mb4_bin"}]},
                "b": {"columns": [{"name": "only"}], "column_list_authoritative": true},
                "c": {}}}}}"#,
        )
        .unwrap();
        let col = |n: &str| Column {
            name: n.into(),
            column_type: ColumnType(Type::Int64 as i32),
            ..Default::default()
        };
        let tracked = TrackedSchema::from([(
            "ks".to_string(),
            KeyspaceColumns::from([
                (
                    "a".to_string(),
                    TrackedTable {
                        columns: vec![col("id"), col("name")],
                        primary_key: vec!["id".into()],
                    },
                ),
                (
                    "b".to_string(),
                    TrackedTable {
                        columns: vec![col("id"), col("only")],
                        primary_key: vec!["only".into()],
                    },
                ),
            ]),
        )]);
        merge_tracked(&mut vs, &tracked);
        let ks = &vs.keyspaces["ks"];
        let a = &ks.tables["a"];
        assert!(a.column_list_authoritative);
        let names: Vec<_> = a.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "NAME"]);
        assert_eq!(a.columns[1].collation_name, "utf8mb4_bin");
        assert_eq!(a.primary_key, ["id"]);
        assert_eq!(ks.tables["b"].columns.len(), 1);
        assert_eq!(ks.tables["b"].primary_key, ["only"]);
        assert!(!ks.tables["c"].column_list_authoritative);
    }
}
