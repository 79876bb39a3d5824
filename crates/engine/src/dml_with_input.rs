//! [`DmlWithInput`]: an UPDATE or DELETE that cannot go to the shards as
//! written (Vitess `engine/dml_with_input.go`). A multi-table statement
//! whose tables are not on the same shards, or a LIMIT (or ORDER BY) that
//! spans shards, first selects the primary keys of the rows to change;
//! each target table then gets a single-table statement over those keys,
//! `... where (pk) in ((..), ..)`, planned like a client's statement so
//! that it is routed by the keys' vindex and maintains owned lookup
//! vindexes.
//!
//! An UPDATE's assigned value that reads another table of the join is
//! computed by the select too, and written into the statement as a
//! literal: the target rows are grouped by those values. A row the join
//! gives several times is changed once, with the values of its first
//! match, as MySQL changes it once.
//!
//! The executor runs the whole statement in one transaction (its root has
//! inputs, so it is not a single-shard write).

use std::collections::HashMap;

use async_trait::async_trait;
use proto::query::QueryResult;
use sql::literal::{BindValue, BindVars};

use crate::description::{KeyspaceDesc, PlanDescription};
use crate::error::{EngineError, Result};
use crate::join::cell_to_bind;
use crate::lookup::quote;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// Key tuples per statement sent for one target.
const KEYS_PER_STATEMENT: usize = 256;

/// The value of one assignment of an UPDATE target.
#[derive(Debug, Clone)]
pub enum AssignedValue {
    /// SQL text reading the target table only (or nothing).
    Text(String),
    /// A column of the input rows, written as a literal.
    Input(usize),
}

/// What is written to one target table.
#[derive(Debug, Clone)]
pub enum TargetChange {
    /// Its rows are deleted.
    Delete,
    /// Its columns are assigned.
    Update(Vec<(String, AssignedValue)>),
}

/// One table whose rows the statement changes.
#[derive(Debug, Clone)]
pub struct DmlTarget {
    /// Its keyspace.
    pub keyspace: KeyspaceDesc,
    /// The table.
    pub table: String,
    /// Its primary key columns.
    pub keys: Vec<String>,
    /// Where the key columns are in the input rows.
    pub key_offsets: Vec<usize>,
    /// What happens to its rows.
    pub change: TargetChange,
}

/// Selects the rows to change, then changes them table by table.
#[derive(Debug)]
pub struct DmlWithInput {
    /// Selects the key columns (and computed values) of the rows.
    pub input: Box<dyn Primitive>,
    /// The tables changed, in the order they are written.
    pub targets: Vec<DmlTarget>,
}

impl DmlTarget {
    /// The statement for `keys` (SQL tuples or values) with `values` in
    /// place of the input-computed assignments.
    fn statement(&self, values: &[String], keys: &[String]) -> String {
        let table = format!("{}.{}", quote(&self.keyspace.name), quote(&self.table));
        let head = match &self.change {
            TargetChange::Delete => format!("delete from {table}"),
            TargetChange::Update(assignments) => {
                let mut computed = values.iter();
                let sets: Vec<String> = assignments
                    .iter()
                    .map(|(col, v)| {
                        let value = match v {
                            AssignedValue::Text(t) => t.as_str(),
                            AssignedValue::Input(_) => {
                                computed.next().map_or("null", String::as_str)
                            }
                        };
                        format!("{} = {value}", quote(col))
                    })
                    .collect();
                format!("update {table} set {}", sets.join(", "))
            }
        };
        let columns: Vec<String> = self.keys.iter().map(|k| quote(k)).collect();
        let columns = match columns.as_slice() {
            [one] => one.clone(),
            many => format!("({})", many.join(", ")),
        };
        format!("{head} where {columns} in ({})", keys.join(", "))
    }

    /// Plans this target's statement once, with no keys, so that what the
    /// planner refuses is refused before the statement writes anything.
    pub fn check_plans(&self, vschema: &vschema::VSchema) -> Result<()> {
        let values = vec!["null".to_string(); self.value_offsets().len()];
        let sql = self.statement(&values, &["null".to_string()]);
        let stmt = sql::parse::parse(&sql)
            .map_err(|e| EngineError::BadResult(format!("planned query {sql}: {}", e.message())))?;
        crate::planner::plan(&stmt, vschema, None).map(drop)
    }

    /// Offsets of the input columns the assignments take.
    fn value_offsets(&self) -> Vec<usize> {
        match &self.change {
            TargetChange::Delete => Vec::new(),
            TargetChange::Update(a) => a
                .iter()
                .filter_map(|(_, v)| match v {
                    AssignedValue::Input(i) => Some(*i),
                    AssignedValue::Text(_) => None,
                })
                .collect(),
        }
    }

    /// The statements for `input`: key tuples grouped by the values they
    /// are assigned, each key once (its first row).
    fn statements(&self, input: &QueryResult) -> Result<Vec<String>> {
        let value_offsets = self.value_offsets();
        let mut groups: Vec<(Vec<String>, Vec<String>)> = Vec::new();
        let mut group_of: HashMap<Vec<String>, usize> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for row in &input.rows {
            let cells = row
                .split_values()
                .map_err(|e| EngineError::BadResult(e.to_string()))?;
            let literal = |i: usize| -> Result<Option<String>> {
                let field = input.fields.get(i).ok_or_else(|| {
                    EngineError::BadResult(format!("input row has no column {i}"))
                })?;
                let v = cell_to_bind(field, cells.get(i).copied().flatten())?;
                Ok((v != BindValue::Null).then(|| v.to_sql()))
            };
            let mut key = Vec::with_capacity(self.key_offsets.len());
            for &i in &self.key_offsets {
                match literal(i)? {
                    Some(v) => key.push(v),
                    // The NULL side of an outer join: no row of this table.
                    None => break,
                }
            }
            if key.len() != self.key_offsets.len() || !seen.insert(key.clone()) {
                continue;
            }
            let values = value_offsets
                .iter()
                .map(|&i| literal(i).map(|v| v.unwrap_or_else(|| "null".to_string())))
                .collect::<Result<Vec<_>>>()?;
            let tuple = match key.as_slice() {
                [one] => one.clone(),
                many => format!("({})", many.join(", ")),
            };
            let g = *group_of.entry(values.clone()).or_insert_with(|| {
                groups.push((values, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(tuple);
        }
        Ok(groups
            .iter()
            .flat_map(|(values, keys)| {
                keys.chunks(KEYS_PER_STATEMENT)
                    .map(|chunk| self.statement(values, chunk))
            })
            .collect())
    }

    fn description(&self) -> PlanDescription {
        let values: Vec<String> = self
            .value_offsets()
            .iter()
            .map(|i| format!(":dml_input_{i}"))
            .collect();
        let template = self.statement(&values, &["::dml_vals".to_string()]);
        let template = template.replace("in (::dml_vals)", "in ::dml_vals");
        let mut d = PlanDescription::new(match self.change {
            TargetChange::Delete => "Delete",
            TargetChange::Update(_) => "Update",
        });
        d.keyspace = Some(self.keyspace.clone());
        d.with("Query", template)
    }
}

#[async_trait]
impl Primitive for DmlWithInput {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let input = self.input.execute(vc, vars).await?;
        let mut out = QueryResult::default();
        for target in &self.targets {
            for sql in target.statements(&input)? {
                tracing::debug!(sql, "dml with input");
                let stmt = sql::parse::parse(&sql).map_err(|e| {
                    EngineError::BadResult(format!("planned query {sql}: {}", e.message()))
                })?;
                let plan = crate::planner::plan(&stmt, vc.vschema()?, None)?;
                let r = plan.execute(vc, vars).await?;
                out.rows_affected += r.rows_affected;
            }
        }
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        let offsets: Vec<String> = self
            .targets
            .iter()
            .enumerate()
            .map(|(n, t)| {
                let cols: Vec<String> = t.key_offsets.iter().map(ToString::to_string).collect();
                format!("{n}:[{}]", cols.join(" "))
            })
            .collect();
        let mut d = PlanDescription::new("DMLWithInput")
            .with("Offset", offsets)
            .input(self.input.description());
        for t in &self.targets {
            d = d.input(t.description());
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use proto::query::{Field, Row, Type};

    use super::*;

    fn input(rows: &[[Option<&str>; 3]]) -> QueryResult {
        let field = |name: &str, t: Type| Field {
            name: name.into(),
            r#type: t as i32,
            ..Default::default()
        };
        QueryResult {
            fields: vec![
                field("id", Type::Int64),
                field("k", Type::Varchar),
                field("v", Type::Int32),
            ],
            rows: rows
                .iter()
                .map(|r| Row::from_values(r.iter().map(|c| c.map(str::as_bytes))))
                .collect(),
            ..Default::default()
        }
    }

    fn target(keys: &[usize], change: TargetChange) -> DmlTarget {
        DmlTarget {
            keyspace: KeyspaceDesc {
                name: "ks".into(),
                sharded: true,
            },
            table: "t".into(),
            keys: keys.iter().map(|i| format!("c{i}")).collect(),
            key_offsets: keys.to_vec(),
            change,
        }
    }

    #[test]
    fn keys_once_each_and_null_keys_skipped() {
        let rows = input(&[
            [Some("1"), Some("a"), Some("10")],
            [Some("1"), Some("a"), Some("11")],
            [None, Some("b"), Some("12")],
            [Some("2"), Some("it's"), None],
        ]);
        let t = target(&[0, 1], TargetChange::Delete);
        assert_eq!(
            t.statements(&rows).unwrap(),
            ["delete from `ks`.`t` where (`c0`, `c1`) in ((1, 'a'), (2, 'it\\'s'))"]
        );
    }

    #[test]
    fn computed_values_group_the_keys_first_match_wins() {
        let rows = input(&[
            [Some("1"), None, Some("10")],
            [Some("2"), None, Some("10")],
            [Some("1"), None, Some("99")],
            [Some("3"), None, None],
        ]);
        let change = TargetChange::Update(vec![
            ("v".into(), AssignedValue::Input(2)),
            ("w".into(), AssignedValue::Text("w + 1".into())),
        ]);
        assert_eq!(
            target(&[0], change).statements(&rows).unwrap(),
            [
                "update `ks`.`t` set `v` = 10, `w` = w + 1 where `c0` in (1, 2)",
                "update `ks`.`t` set `v` = null, `w` = w + 1 where `c0` in (3)",
            ]
        );
    }

    #[test]
    fn many_keys_are_sent_in_chunks() {
        let ids: Vec<String> = (0..600).map(|i| i.to_string()).collect();
        let rows: Vec<[Option<&str>; 3]> =
            ids.iter().map(|i| [Some(i.as_str()), None, None]).collect();
        let statements = target(&[0], TargetChange::Delete)
            .statements(&input(&rows))
            .unwrap();
        assert_eq!(statements.len(), 3);
        let last: Vec<String> = (512..600).map(|i| i.to_string()).collect();
        assert!(statements[2].ends_with(&format!("in ({})", last.join(", "))));
    }
}
