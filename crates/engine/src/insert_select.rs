//! [`InsertSelect`]: `INSERT INTO t (...) SELECT ...` across shards or
//! keyspaces (Vitess `engine/insert_select.go`): the SELECT runs first
//! (planned on its own), then every row it returned is sent as a literal
//! row to the shard of its primary vindex value (or to the one shard of an
//! unsharded table).
//! Floating-point values are refused (their text may not read back as the
//! same number), as are rows whose vindex value maps to no keyspace id.
//! An auto-increment column that is NULL, 0 or not selected is filled from
//! the table's sequence, in row order (the first value is the statement's
//! insert id). Lookup rows of the table's owned lookup vindexes are created
//! first.

use std::sync::Arc;

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::{BindValue, BindVars};
use vschema::Vindex;

use crate::description::{KeyspaceDesc, PlanDescription};
use crate::error::{EngineError, Result};
use crate::insert::{create_lookup_rows, ksids_of_rows, send_rows, shards_of_ksids};
use crate::join::cell_to_bind;
use crate::lookup::Lookup;
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// INSERT of the rows a SELECT returns.
#[derive(Debug)]
pub struct InsertSelect {
    /// Target keyspace (sharded).
    pub keyspace: KeyspaceDesc,
    /// Table name, for descriptions.
    pub table: String,
    /// Statement text up to `VALUES `.
    pub prefix: String,
    /// Text after the rows (` ON DUPLICATE KEY UPDATE ...`).
    pub suffix: String,
    /// Number of columns inserted.
    pub columns: usize,
    /// Position of the auto-increment column and the sequence filling it
    /// where it is NULL or 0 (the last column when the SELECT lacks it).
    pub auto: Option<AutoFill>,
    /// The primary vindex of a sharded table; `None`: an unsharded table,
    /// all rows go to its one shard.
    pub vindex: Option<RowVindex>,
    /// The SELECT.
    pub input: Box<dyn Primitive>,
    /// The owned lookup vindexes to write.
    pub owned: Vec<OwnedFromSelect>,
}

/// Where the rows of an INSERT ... SELECT into a sharded table go.
#[derive(Debug, Clone)]
pub struct RowVindex {
    /// Position of the primary vindex column among the inserted ones.
    pub column: usize,
    /// The primary vindex name.
    pub name: String,
    /// The primary vindex.
    pub vindex: Arc<dyn Vindex>,
}

/// The auto-increment column of an INSERT ... SELECT.
#[derive(Debug, Clone)]
pub struct AutoFill {
    /// Its position among the inserted columns.
    pub column: usize,
    /// Not in the SELECT: appended (as NULL) to every selected row.
    pub appended: bool,
    /// Keyspace of the sequence table (unsharded).
    pub sequence_keyspace: String,
    /// The sequence table.
    pub sequence_table: String,
}

/// An owned lookup vindex of the table an INSERT ... SELECT writes.
#[derive(Debug, Clone)]
pub struct OwnedFromSelect {
    /// The lookup vindex.
    pub lookup: Lookup,
    /// Position of each of its columns among the inserted ones (`None`:
    /// not inserted, NULL).
    pub positions: Vec<Option<usize>>,
}

#[async_trait]
impl Primitive for InsertSelect {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let selected = self.input.execute(vc, vars).await?;
        let appended = self.auto.as_ref().is_some_and(|a| a.appended);
        if selected.fields.len() + usize::from(appended) != self.columns {
            return Err(EngineError::mysql(
                1136,
                "21S01",
                "VT03006: column count does not match value count with the row",
            ));
        }
        if selected.rows.is_empty() {
            return Ok(QueryResult::default());
        }
        let mut all_values = Vec::with_capacity(selected.rows.len());
        for row in &selected.rows {
            let cells = split(row)?;
            let mut values = selected
                .fields
                .iter()
                .zip(&cells)
                .map(|(f, c)| cell_to_bind(f, *c))
                .collect::<Result<Vec<_>>>()?;
            if appended {
                values.push(BindValue::Null);
            }
            all_values.push(values);
        }
        let first_generated = match &self.auto {
            Some(auto) => fill_auto(vc, auto, &mut all_values).await?,
            None => None,
        };
        let mut rows = Vec::with_capacity(all_values.len());
        let mut keys = Vec::with_capacity(all_values.len());
        let mut owned_values: Vec<Vec<Vec<BindValue>>> = vec![Vec::new(); self.owned.len()];
        for values in &all_values {
            for (o, out) in self.owned.iter().zip(owned_values.iter_mut()) {
                out.push(
                    o.positions
                        .iter()
                        .map(|p| {
                            p.and_then(|i| values.get(i).cloned())
                                .unwrap_or(BindValue::Null)
                        })
                        .collect(),
                );
            }
            let texts: Vec<String> = values.iter().map(BindValue::to_sql).collect();
            rows.push(format!("({})", texts.join(", ")));
            if let Some(v) = &self.vindex {
                keys.push(values.get(v.column).cloned().unwrap_or(BindValue::Null));
            }
        }
        let row_shards = match &self.vindex {
            Some(v) => {
                let shards = vc.shards(&self.keyspace.name)?;
                let ksids = ksids_of_rows(v.vindex.as_ref(), &keys)?;
                let row_shards = shards_of_ksids(&ksids, &shards)?;
                for (o, values) in self.owned.iter().zip(owned_values) {
                    create_lookup_rows(vc, &o.lookup, values, &ksids).await?;
                }
                row_shards
            }
            None => vec![0; rows.len()],
        };
        let mut result = send_rows(
            vc,
            &self.keyspace.name,
            (&self.prefix, &self.suffix),
            &rows,
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
        let d = PlanDescription {
            keyspace: Some(self.keyspace.clone()),
            ..PlanDescription::new("Insert").variant("Select")
        }
        .with("TableName", self.table.clone())
        .with("Query", format!("{}<rows>{}", self.prefix, self.suffix));
        let d = match &self.vindex {
            Some(v) => d.with("VindexOffsetFromSelect", format!("{}:{}", v.name, v.column)),
            None => d,
        };
        let d = if self.owned.is_empty() {
            d
        } else {
            let owned: Vec<String> = self.owned.iter().map(|o| o.lookup.name.clone()).collect();
            d.with("OwnedVindexes", owned)
        };
        d.input(self.input.description())
    }
}

/// Fills the auto-increment column where it is NULL or 0 with consecutive
/// sequence values, in row order; the first value, if any was taken.
async fn fill_auto(
    vc: &dyn VCursor,
    auto: &AutoFill,
    rows: &mut [Vec<BindValue>],
) -> Result<Option<i64>> {
    let wants = |v: Option<&BindValue>| {
        matches!(
            v,
            Some(BindValue::Null | BindValue::Int64(0) | BindValue::Uint64(0))
        )
    };
    let count = rows.iter().filter(|r| wants(r.get(auto.column))).count() as u64;
    if count == 0 {
        return Ok(None);
    }
    let start = vc
        .next_sequence_values(&auto.sequence_keyspace, &auto.sequence_table, count)
        .await?;
    let mut next = start;
    for row in rows.iter_mut() {
        if wants(row.get(auto.column)) {
            if let Some(slot) = row.get_mut(auto.column) {
                *slot = BindValue::Int64(next);
                next += 1;
            }
        }
    }
    Ok(Some(start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::{Opcode, Route};
    use crate::testing::{field, result, FakeVCursor};
    use proto::query::Type;

    fn insert_select(input_ks: &str) -> InsertSelect {
        InsertSelect {
            keyspace: KeyspaceDesc {
                name: "ks".into(),
                sharded: true,
            },
            table: "t".into(),
            prefix: "INSERT INTO t (id, v) VALUES ".into(),
            suffix: String::new(),
            columns: 2,
            auto: None,
            vindex: Some(RowVindex {
                column: 0,
                name: "hash".into(),
                vindex: vschema::create_vindex("hash", "hash", &Default::default()).unwrap(),
            }),
            owned: Vec::new(),
            input: Box::new(Route::new(
                Opcode::Unsharded,
                KeyspaceDesc {
                    name: input_ks.into(),
                    sharded: false,
                },
                "select a, b from src".into(),
                String::new(),
            )),
        }
    }

    #[tokio::test]
    async fn selected_rows_go_to_their_shards() {
        let f = [field("a", Type::Int64), field("b", Type::Varchar)];
        let vc = FakeVCursor::new("ks", &["-80", "80-"])
            .keyspace("main", &["0"])
            .result(
                "main",
                "0",
                result(
                    &f,
                    &[
                        &[Some("1"), Some("x'y")],
                        &[Some("4"), None],
                        &[Some("2"), Some("z")],
                    ],
                ),
            );
        insert_select("main")
            .execute(&vc, &BindVars::default())
            .await
            .unwrap();
        let sent = vc.sent();
        assert_eq!(
            sent[1],
            (
                "-80".to_string(),
                "INSERT INTO t (id, v) VALUES (1, 'x\\'y'), (2, 'z')".to_string()
            )
        );
        assert_eq!(
            sent[2],
            (
                "80-".to_string(),
                "INSERT INTO t (id, v) VALUES (4, null)".to_string()
            )
        );
    }

    #[tokio::test]
    async fn missing_and_null_auto_increment_values_come_from_the_sequence() {
        let f = [field("v", Type::Varchar)];
        let mut vc = FakeVCursor::new("ks", &["-80", "80-"])
            .keyspace("main", &["0"])
            .result("main", "0", result(&f, &[&[Some("a")], &[Some("b")]]));
        vc.next_value = 40;
        let mut p = insert_select("main");
        p.prefix = "INSERT INTO t (v, id) VALUES ".into();
        if let Some(v) = p.vindex.as_mut() {
            v.column = 1;
        }
        p.auto = Some(AutoFill {
            column: 1,
            appended: true,
            sequence_keyspace: "main".into(),
            sequence_table: "seq".into(),
        });
        let r = p.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(r.insert_id, 40);
        let rows: Vec<String> = vc.sent().into_iter().skip(1).map(|(_, q)| q).collect();
        assert!(rows.iter().any(|q| q.contains("('a', 40)")), "{rows:?}");
        assert!(rows.iter().any(|q| q.contains("('b', 41)")), "{rows:?}");
    }

    #[tokio::test]
    async fn floats_and_bad_widths_are_refused() {
        let vc = FakeVCursor::new("ks", &["-80", "80-"])
            .keyspace("main", &["0"])
            .result(
                "main",
                "0",
                result(
                    &[field("a", Type::Int64), field("b", Type::Float64)],
                    &[&[Some("1"), Some("0.1")]],
                ),
            );
        assert!(insert_select("main")
            .execute(&vc, &BindVars::default())
            .await
            .is_err());
        let vc = FakeVCursor::new("ks", &["-80", "80-"])
            .keyspace("main", &["0"])
            .result(
                "main",
                "0",
                result(&[field("a", Type::Int64)], &[&[Some("1")]]),
            );
        let e = insert_select("main")
            .execute(&vc, &BindVars::default())
            .await
            .unwrap_err();
        assert_eq!(e.errno(), 1136);
    }
}
