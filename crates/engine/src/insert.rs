//! [`Insert`] into a sharded table (Vitess `engine/insert.go`): each row
//! goes to the shard its primary vindex value maps to; rows for the same
//! shard are sent as one multi-row INSERT. A row whose value maps to no
//! single keyspace id fails the whole statement before anything is sent.
//! The lookup rows of the table's owned lookup vindexes are created before
//! the rows themselves (Vitess `processOwned`).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::{BindValue, BindVars};
use vschema::{Destination, KeyspaceId, Vindex};

use crate::bind::{substitute, vindex_value, PlanValue};
use crate::description::{KeyspaceDesc, PlanDescription};
use crate::error::{EngineError, Result};
use crate::lookup::{Lookup, LookupRow};
use crate::primitive::Primitive;
use crate::vcursor::{ShardQuery, VCursor};

/// A multi-row INSERT split by shard.
#[derive(Debug)]
pub struct Insert {
    /// Target keyspace (sharded).
    pub keyspace: KeyspaceDesc,
    /// Table name, for descriptions.
    pub table: String,
    /// Statement text up to `VALUES `.
    pub prefix: String,
    /// Each row as `(v1, v2, ...)`.
    pub rows: Vec<String>,
    /// Text after the rows (` ON DUPLICATE KEY UPDATE ...`).
    pub suffix: String,
    /// The primary vindex name.
    pub vindex_name: String,
    /// The primary vindex.
    pub vindex: Arc<dyn Vindex>,
    /// Each row's values of the primary vindex columns (one value, or one
    /// per column of a multi-column vindex).
    pub values: Vec<Vec<PlanValue>>,
    /// Auto-increment values to take from a sequence, if any.
    pub sequence: Option<SequenceFill>,
    /// The owned lookup vindexes whose rows this INSERT creates.
    pub owned: Vec<OwnedInsert>,
}

/// An owned lookup vindex of the table inserted into, with each row's
/// values of its columns.
#[derive(Debug, Clone)]
pub struct OwnedInsert {
    /// The lookup vindex.
    pub lookup: Lookup,
    /// Per row, the values of the vindex columns (in `from` order).
    pub rows: Vec<Vec<PlanValue>>,
}

/// Auto-increment values an INSERT takes from a sequence table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceFill {
    /// Keyspace of the sequence table (unsharded).
    pub keyspace: String,
    /// The sequence table.
    pub table: String,
    /// Bind variables receiving consecutive values, in row order.
    pub bind_names: Vec<String>,
}

impl Insert {
    /// The keyspace id of every row, in row order.
    fn row_ksids(&self, vars: &BindVars) -> Result<Vec<KeyspaceId>> {
        let rows = self
            .values
            .iter()
            .map(|row| row.iter().map(|v| v.resolve(vars)).collect())
            .collect::<Result<Vec<Vec<BindValue>>>>()?;
        ksids_of_value_rows(self.vindex.as_ref(), &rows)
    }

    /// Creates the lookup rows of every owned vindex.
    async fn create_lookup_rows(
        &self,
        vc: &dyn VCursor,
        vars: &BindVars,
        ksids: &[KeyspaceId],
    ) -> Result<()> {
        for owned in &self.owned {
            let values = owned
                .rows
                .iter()
                .map(|row| row.iter().map(|v| v.resolve(vars)).collect())
                .collect::<Result<Vec<Vec<BindValue>>>>()?;
            create_lookup_rows(vc, &owned.lookup, values, ksids).await?;
        }
        Ok(())
    }
}

/// Creates `lookup`'s rows for owner rows with these vindex column values
/// and keyspace ids.
pub(crate) async fn create_lookup_rows(
    vc: &dyn VCursor,
    lookup: &Lookup,
    values: Vec<Vec<BindValue>>,
    ksids: &[KeyspaceId],
) -> Result<()> {
    let rows: Vec<LookupRow> = values
        .into_iter()
        .zip(ksids)
        .map(|(values, ksid)| LookupRow {
            values,
            ksid: ksid.0.clone(),
        })
        .collect();
    lookup.create(vc, &rows).await
}

/// The keyspace id of each row's primary vindex value; a value that maps to
/// no single keyspace id is an error.
pub(crate) fn ksids_of_rows(vindex: &dyn Vindex, values: &[BindValue]) -> Result<Vec<KeyspaceId>> {
    let plain = values
        .iter()
        .map(vindex_value)
        .collect::<Result<Vec<_>>>()?;
    let destinations = vindex.map(&plain)?;
    values
        .iter()
        .zip(destinations)
        .map(|(bound, d)| match d {
            Destination::KeyspaceId(k) => Ok(k),
            _ => Err(unmappable(&bound.to_sql())),
        })
        .collect()
}

/// The keyspace id of each row of primary vindex values: a row of one
/// value for a single-column vindex, a value per column for a multi-column
/// one (which must name every column to give a keyspace id).
pub(crate) fn ksids_of_value_rows(
    vindex: &dyn Vindex,
    rows: &[Vec<BindValue>],
) -> Result<Vec<KeyspaceId>> {
    let text = |row: &[BindValue]| {
        let cells: Vec<String> = row.iter().map(BindValue::to_sql).collect();
        cells.join(", ")
    };
    if !vindex.is_multi_column() {
        let values = rows
            .iter()
            .map(|row| match row.as_slice() {
                [v] => Ok(v.clone()),
                _ => Err(unmappable(&text(row))),
            })
            .collect::<Result<Vec<_>>>()?;
        return ksids_of_rows(vindex, &values);
    }
    let plain = rows
        .iter()
        .map(|row| row.iter().map(vindex_value).collect::<Result<Vec<_>>>())
        .collect::<Result<Vec<_>>>()?;
    let destinations = vindex.map_rows(&plain)?;
    rows.iter()
        .zip(destinations)
        .map(|(row, d)| match d {
            Destination::KeyspaceId(k) => Ok(k),
            _ => Err(unmappable(&text(row))),
        })
        .collect()
}

/// The shard (index into `shards`) of each keyspace id.
pub(crate) fn shards_of_ksids(ksids: &[KeyspaceId], shards: &[String]) -> Result<Vec<usize>> {
    ksids
        .iter()
        .map(|k| {
            let d = Destination::KeyspaceId(k.clone());
            match d.resolve(shards)?.as_slice() {
                [one] => Ok(*one),
                _ => Err(unmappable(&format!("0x{}", vschema::hex::encode(&k.0)))),
            }
        })
        .collect()
}

/// Sends `rows` (`(v1, ...)` texts) to their shards as one INSERT per
/// shard between `prefix` and `suffix`, and sums the results.
pub(crate) async fn send_rows(
    vc: &dyn VCursor,
    keyspace: &str,
    (prefix, suffix): (&str, &str),
    rows: &[String],
    row_shards: Vec<usize>,
    vars: &BindVars,
) -> Result<QueryResult> {
    let shards = vc.shards(keyspace)?;
    let mut by_shard: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (row, shard) in rows.iter().zip(row_shards) {
        by_shard.entry(shard).or_default().push(row);
    }
    let mut queries = Vec::with_capacity(by_shard.len());
    for (shard, rows) in by_shard {
        let name = shards
            .get(shard)
            .cloned()
            .ok_or(EngineError::KeyRange(vschema::KeyRangeError::NoShards))?;
        let sql = format!("{prefix}{}{suffix}", rows.join(", "));
        queries.push(ShardQuery {
            shard: name,
            sql: substitute(&sql, vars)?,
        });
    }
    let results = vc.execute_multi(keyspace, &queries).await?;
    Ok(QueryResult {
        rows_affected: results.iter().map(|r| r.rows_affected).sum(),
        insert_id: results
            .iter()
            .map(|r| r.insert_id)
            .find(|&id| id != 0)
            .unwrap_or(0),
        ..Default::default()
    })
}

fn unmappable(value: &str) -> EngineError {
    EngineError::BadResult(format!("could not map [{value}] to a keyspace id"))
}

#[async_trait]
impl Primitive for Insert {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let mut first_generated = None;
        let filled;
        let vars = match &self.sequence {
            Some(seq) => {
                let count = seq.bind_names.len() as u64;
                let start = vc
                    .next_sequence_values(&seq.keyspace, &seq.table, count)
                    .await?;
                let mut v = vars.clone();
                for (i, name) in seq.bind_names.iter().enumerate() {
                    v.insert(name.clone(), BindValue::Int64(start + i as i64));
                }
                first_generated = Some(start);
                filled = v;
                &filled
            }
            None => vars,
        };
        let shards = vc.shards(&self.keyspace.name)?;
        let ksids = self.row_ksids(vars)?;
        let row_shards = shards_of_ksids(&ksids, &shards)?;
        self.create_lookup_rows(vc, vars, &ksids).await?;
        let mut result = send_rows(
            vc,
            &self.keyspace.name,
            (&self.prefix, &self.suffix),
            &self.rows,
            row_shards,
            vars,
        )
        .await?;
        if let Some(id) = first_generated {
            result.insert_id = id as u64;
        }
        Ok(result)
    }

    fn description(&self) -> PlanDescription {
        let values: Vec<String> = self
            .values
            .iter()
            .map(|row| {
                let cells: Vec<String> = row.iter().map(PlanValue::describe).collect();
                match cells.as_slice() {
                    [one] => one.clone(),
                    _ => format!("({})", cells.join(", ")),
                }
            })
            .collect();
        let d = PlanDescription {
            keyspace: Some(self.keyspace.clone()),
            ..PlanDescription::new("Insert").variant("Sharded")
        }
        .with("TableName", self.table.clone())
        .with(
            "Query",
            format!("{}{}{}", self.prefix, self.rows.join(", "), self.suffix),
        )
        .with(
            "VindexValues",
            format!("{}:{}", self.vindex_name, values.join(", ")),
        );
        if self.owned.is_empty() {
            return d;
        }
        let owned: Vec<String> = self.owned.iter().map(|o| o.lookup.name.clone()).collect();
        d.with("OwnedVindexes", owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::FakeVCursor;

    fn insert(values: Vec<PlanValue>, rows: Vec<&str>) -> Insert {
        Insert {
            keyspace: KeyspaceDesc {
                name: "ks".into(),
                sharded: true,
            },
            table: "t".into(),
            prefix: "INSERT INTO t (id, v) VALUES ".into(),
            rows: rows.into_iter().map(String::from).collect(),
            suffix: " ON DUPLICATE KEY UPDATE v = 1".into(),
            vindex_name: "hash".into(),
            vindex: vschema::create_vindex("hash", "hash", &Default::default()).unwrap(),
            values: values.into_iter().map(|v| vec![v]).collect(),
            sequence: None,
            owned: Vec::new(),
        }
    }

    fn int(n: i64) -> PlanValue {
        PlanValue::Literal(BindValue::Int64(n))
    }

    #[tokio::test]
    async fn rows_are_split_by_shard() {
        let vc = FakeVCursor::new("ks", &["-80", "80-"]);
        let i = insert(
            vec![int(1), int(4), int(2), PlanValue::BindVar("x".into())],
            vec!["(1, 'a')", "(4, 'b')", "(2, 'c')", "(:x, 'd')"],
        );
        let vars = BindVars::from_iter([("x".to_string(), BindValue::Int64(6))]);
        i.execute(&vc, &vars).await.unwrap();
        assert_eq!(
            vc.sent(),
            vec![
                (
                    "-80".to_string(),
                    "INSERT INTO t (id, v) VALUES (1, 'a'), (2, 'c') ON DUPLICATE KEY UPDATE v = 1"
                        .to_string()
                ),
                (
                    "80-".to_string(),
                    "INSERT INTO t (id, v) VALUES (4, 'b'), (6, 'd') ON DUPLICATE KEY UPDATE v = 1"
                        .to_string()
                ),
            ]
        );
    }

    #[tokio::test]
    async fn sequence_values_fill_and_route_rows() {
        let mut vc = FakeVCursor::new("ks", &["-80", "80-"]);
        vc.next_value = 3;
        let mut i = insert(
            vec![
                PlanValue::BindVar("__seq0".into()),
                PlanValue::BindVar("__seq1".into()),
            ],
            vec!["(:__seq0, 'a')", "(:__seq1, 'b')"],
        );
        i.sequence = Some(SequenceFill {
            keyspace: "main".into(),
            table: "seq".into(),
            bind_names: vec!["__seq0".into(), "__seq1".into()],
        });
        let r = i.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(r.insert_id, 3);
        assert_eq!(
            vc.sent(),
            vec![
                (
                    "-80".to_string(),
                    "INSERT INTO t (id, v) VALUES (3, 'a') ON DUPLICATE KEY UPDATE v = 1"
                        .to_string()
                ),
                (
                    "80-".to_string(),
                    "INSERT INTO t (id, v) VALUES (4, 'b') ON DUPLICATE KEY UPDATE v = 1"
                        .to_string()
                ),
            ]
        );
        assert_eq!(
            *vc.sequences.lock().unwrap(),
            vec![("main.seq".to_string(), 2)]
        );
    }

    #[tokio::test]
    async fn unmappable_rows_fail_before_sending() {
        let vc = FakeVCursor::new("ks", &["-80", "80-"]);
        let i = insert(
            vec![int(1), PlanValue::Literal(BindValue::Null)],
            vec!["(1, 'a')", "(null, 'b')"],
        );
        let e = i.execute(&vc, &BindVars::default()).await.unwrap_err();
        assert_eq!(e.to_string(), "could not map [null] to a keyspace id");
        assert!(vc.sent().is_empty());
    }

    #[tokio::test]
    async fn multi_column_rows_go_to_the_shard_of_all_their_columns() {
        let vc = FakeVCursor::new("ks", &["-80", "80-"]);
        let params = [("column_count".to_string(), "2".to_string())].into();
        let mut i = insert(Vec::new(), vec!["(1, 1)", "(4, 1)", "(1, 4)"]);
        i.vindex = vschema::create_vindex("multicol", "mc", &params).unwrap();
        i.values = vec![
            vec![int(1), int(1)],
            vec![int(4), int(1)],
            vec![int(1), int(4)],
        ];
        // The first column's hash leads the keyspace id: hash(1) = 0x166b..., hash(4) = 0xd2fd...
        i.execute(&vc, &BindVars::default()).await.unwrap();
        let sent: Vec<(String, String)> = vc.sent();
        assert_eq!(sent.len(), 2);
        assert!(sent[0].0 == "-80" && sent[0].1.contains("(1, 1), (1, 4)"));
        assert!(sent[1].0 == "80-" && sent[1].1.contains("(4, 1)"));
        let vc = FakeVCursor::new("ks", &["-80", "80-"]);
        i.values = vec![vec![int(1), PlanValue::Literal(BindValue::Null)]];
        i.rows = vec!["(1, null)".into()];
        let e = i.execute(&vc, &BindVars::default()).await.unwrap_err();
        assert_eq!(e.to_string(), "could not map [1, null] to a keyspace id");
        assert!(vc.sent().is_empty());
    }
}
