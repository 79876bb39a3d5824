//! Which source tables a stream replicates, from the BinlogSource rules:
//! `match` names the table, `filter` is `select * from <table>`, optionally
//! `where in_keyrange(<column>, '<vindex type>', '<shard>')` (Reshard): then
//! only rows whose column maps, through that vindex, into the shard's key
//! range are copied and applied.

use std::collections::BTreeMap;
use std::sync::Arc;

use mysql_async::Value;
use proto::binlogdata::BinlogSource;
use vschema::vindexes::Params;
use vschema::{create_vindex, Destination, KeyRange, Vindex};

use crate::error::{Error, Result};

/// Tables of one stream, by source table name.
#[derive(Debug, Clone)]
pub struct TableFilter {
    tables: BTreeMap<String, TableRule>,
}

/// How one table is replicated.
#[derive(Debug, Clone)]
pub struct TableRule {
    /// Target table name (the source name for MoveTables and Reshard).
    pub target: String,
    /// Row filter, when the rule has `in_keyrange`.
    pub key_range: Option<KeyRangeFilter>,
}

/// `in_keyrange(column, 'vindex', 'shard')`.
#[derive(Debug, Clone)]
pub struct KeyRangeFilter {
    /// Column whose value is mapped.
    pub column: String,
    vindex: Arc<dyn Vindex>,
    range: KeyRange,
}

impl TableFilter {
    /// Builds the filter of a BinlogSource.
    pub fn from_source(source: &BinlogSource) -> Result<Self> {
        let mut tables = BTreeMap::new();
        for rule in source.filter.iter().flat_map(|f| f.rules.iter()) {
            if rule.r#match.starts_with('/') {
                return Err(Error::Filter {
                    rule: rule.r#match.clone(),
                    reason: "table name patterns are not supported; name each table".into(),
                });
            }
            let filter = rule.filter.trim();
            let key_range = if filter.is_empty() {
                None
            } else {
                parse_select(&rule.r#match, filter)?
            };
            tables.insert(
                rule.r#match.clone(),
                TableRule {
                    target: rule.r#match.clone(),
                    key_range,
                },
            );
        }
        Ok(TableFilter { tables })
    }

    /// The rule for a source table, when the stream replicates it.
    pub fn rule(&self, source_table: &str) -> Option<&TableRule> {
        self.tables.get(source_table)
    }

    /// The target table for a source table, when the stream replicates it.
    pub fn target_of(&self, source_table: &str) -> Option<&str> {
        self.rule(source_table).map(|r| r.target.as_str())
    }

    /// Source table names, sorted.
    pub fn source_tables(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }
}

impl TableRule {
    /// Whether a row (values in the order of `columns`) belongs to the stream.
    pub fn matches(&self, columns: &[String], row: &[Value]) -> Result<bool> {
        let Some(kr) = &self.key_range else {
            return Ok(true);
        };
        let index = columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(&kr.column))
            .ok_or_else(|| Error::Filter {
                rule: kr.column.clone(),
                reason: "in_keyrange column is not a column of the table".into(),
            })?;
        let value = to_vindex_value(&row[index]);
        let destinations = kr.vindex.map(&[value]).map_err(|e| Error::Filter {
            rule: kr.column.clone(),
            reason: e.to_string(),
        })?;
        Ok(match destinations.first() {
            Some(Destination::KeyspaceId(id)) => kr.range.contains(id.as_bytes()),
            _ => false,
        })
    }
}

fn to_vindex_value(value: &Value) -> vschema::Value {
    match value {
        Value::NULL => vschema::Value::Null,
        Value::Int(v) => vschema::Value::Int(*v),
        Value::UInt(v) => vschema::Value::Uint(*v),
        Value::Bytes(b) => vschema::Value::Bytes(b.clone()),
        other => vschema::Value::Bytes(other.as_sql(true).trim_matches('\'').as_bytes().to_vec()),
    }
}

fn parse_select(table: &str, filter: &str) -> Result<Option<KeyRangeFilter>> {
    let bad = |reason: &str| Error::Filter {
        rule: filter.to_owned(),
        reason: reason.to_owned(),
    };
    let lower = filter.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if words.len() < 4
        || words[..3] != ["select", "*", "from"]
        || words[3].trim_matches('`') != table.to_ascii_lowercase()
    {
        return Err(bad(
            "only `select * from <table> [where in_keyrange(...)]` is supported",
        ));
    }
    if words.len() == 4 {
        return Ok(None);
    }
    if words[4] != "where" {
        return Err(bad(
            "only `select * from <table> [where in_keyrange(...)]` is supported",
        ));
    }
    let (Some(open), Some(close)) = (lower.find("in_keyrange("), filter.rfind(')')) else {
        return Err(bad("the only supported condition is in_keyrange(...)"));
    };
    let args: Vec<String> = filter[open + "in_keyrange(".len()..close]
        .split(',')
        .map(|a| {
            a.trim()
                .trim_matches(|c| c == '\'' || c == '"' || c == '`')
                .to_owned()
        })
        .collect();
    let [column, vindex_type, shard] = args.as_slice() else {
        return Err(bad("in_keyrange needs (column, 'vindex type', 'shard')"));
    };
    let vindex = create_vindex(vindex_type, vindex_type, &Params::new())
        .map_err(|e| bad(&format!("vindex {vindex_type}: {e}")))?;
    let range = KeyRange::parse_shard_name(shard).map_err(|e| bad(&e.to_string()))?;
    Ok(Some(KeyRangeFilter {
        column: column.clone(),
        vindex,
        range,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::binlogdata::{Filter, Rule};

    fn source(rules: &[(&str, &str)]) -> BinlogSource {
        BinlogSource {
            filter: Some(Filter {
                rules: rules
                    .iter()
                    .map(|(m, f)| Rule {
                        r#match: m.to_string(),
                        filter: f.to_string(),
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn plain_selects_pass_and_others_are_refused() {
        let f = TableFilter::from_source(&source(&[
            ("customer", "select * from customer"),
            ("corder", ""),
        ]))
        .unwrap();
        assert_eq!(f.target_of("customer"), Some("customer"));
        assert_eq!(f.target_of("product"), None);
        assert_eq!(
            f.source_tables().collect::<Vec<_>>(),
            ["corder", "customer"]
        );
        assert!(TableFilter::from_source(&source(&[("t", "select id from t")])).is_err());
        assert!(
            TableFilter::from_source(&source(&[("t", "select * from t where id > 3")])).is_err()
        );
        assert!(TableFilter::from_source(&source(&[("/.*", "")])).is_err());
    }

    #[test]
    fn in_keyrange_splits_rows_by_hash() {
        // Vitess's hash vindex test vectors: 1 -> 166b40b44aba4bd6, 2 -> 06e7ea22ce92708f.
        let lower = TableFilter::from_source(&source(&[(
            "t",
            "select * from t where in_keyrange(id, 'hash', '-80')",
        )]))
        .unwrap();
        let upper = TableFilter::from_source(&source(&[(
            "t",
            "select * from t where in_keyrange(id, 'hash', '80-')",
        )]))
        .unwrap();
        let cols = vec!["id".to_string(), "name".to_string()];
        let mut lows = 0;
        for id in 1..=200i64 {
            let row = [Value::Int(id), Value::Bytes(b"x".to_vec())];
            let l = lower.rule("t").unwrap().matches(&cols, &row).unwrap();
            let u = upper.rule("t").unwrap().matches(&cols, &row).unwrap();
            assert_ne!(l, u, "row {id} belongs to exactly one half");
            lows += usize::from(l);
        }
        assert!(
            lows > 50 && lows < 150,
            "hash spreads rows: {lows} of 200 in -80"
        );
        for (id, in_lower) in [
            (1, true),
            (2, true),
            (3, true),
            (4, false),
            (5, true),
            (6, false),
        ] {
            let row = [Value::Int(id), Value::NULL];
            assert_eq!(
                lower.rule("t").unwrap().matches(&cols, &row).unwrap(),
                in_lower,
                "id {id}"
            );
        }
        assert!(TableFilter::from_source(&source(&[(
            "t",
            "select * from t where in_keyrange(id, 'nosuch', '-80')"
        )]))
        .is_err());
    }
}
