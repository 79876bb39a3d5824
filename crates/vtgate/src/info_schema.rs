//! `information_schema` queries that name a keyspace (Vitess's `DBA` route with its
//! `SysTableTableSchema`): `where table_schema = 'customer'`, as ORMs and the `mysql` CLI ask
//! for a database's tables and columns. A tablet's database is not named after its keyspace
//! (`vt_customer`), so the literal becomes the bind variable `:__vtschemaname` and the
//! statement goes to the named keyspace, whose tablet puts its own database name there when
//! `__replacevtschemaname` is set, as Vitess's vttablet does.

use std::collections::HashMap;

use proto::query::{BindVariable, Type};

use crate::rewrite::{tokens, Kind, Token};

/// The bind variable standing for the schema name.
pub const SCHEMA_NAME: &str = "__vtschemaname";
/// Set when the tablet is to put its own database name into [`SCHEMA_NAME`].
pub const REPLACE_SCHEMA_NAME: &str = "__replacevtschemaname";

/// The columns of `information_schema` tables that hold a schema name (Vitess's list).
const SCHEMA_COLUMNS: &[&str] = &[
    "table_schema",
    "constraint_schema",
    "schema_name",
    "routine_schema",
    "specific_schema",
    "event_schema",
    "referenced_table_schema",
    "index_schema",
    "trigger_schema",
    "event_object_schema",
];

/// An `information_schema` query rewritten for the keyspace its schema predicates name.
#[derive(Debug, PartialEq, Eq)]
pub struct SchemaQuery {
    /// The keyspace the literal named.
    pub keyspace: String,
    /// The statement with each such literal replaced by `:__vtschemaname`.
    pub sql: String,
}

impl SchemaQuery {
    /// The bind variables the tablet needs beside the statement's own.
    pub fn bind_variables(&self) -> HashMap<String, BindVariable> {
        let var = |typ: Type, value: &[u8]| BindVariable {
            r#type: typ as i32,
            value: value.to_vec(),
            values: Vec::new(),
        };
        HashMap::from([
            (
                SCHEMA_NAME.to_string(),
                var(Type::Varchar, self.keyspace.as_bytes()),
            ),
            (REPLACE_SCHEMA_NAME.to_string(), var(Type::Int64, b"1")),
        ])
    }
}

/// Whether `sql` may read `information_schema` (a cheap test before tokenising).
pub fn mentions_information_schema(sql: &str) -> bool {
    const NAME: &[u8] = b"information_schema";
    // Every pass-through SELECT comes here: look further only at an `i`.
    sql.as_bytes()
        .windows(NAME.len())
        .any(|w| w[0] | 0x20 == b'i' && w.eq_ignore_ascii_case(NAME))
}

/// `sql` rewritten when its comparisons of a schema column with a string literal
/// (`t.table_schema = 'ks'`, `'ks' = table_schema`) name one keyspace, through
/// `keyspace_of` (which also reads a target string such as `customer@replica`, the value
/// of `database()`); `None` when none does, or when they name several.
pub fn schema_query(
    sql: &str,
    keyspace_of: &dyn Fn(&str) -> Option<String>,
) -> Option<SchemaQuery> {
    let toks = tokens(sql);
    let text = |t: &Token| &sql[t.start..t.end];
    let is_eq = |i: usize| {
        toks.get(i)
            .is_some_and(|t| t.kind == Kind::Punct && text(t) == "=")
    };
    let schema_column = |i: usize| {
        toks.get(i).is_some_and(|t| {
            t.kind == Kind::Word
                && SCHEMA_COLUMNS
                    .iter()
                    .any(|c| text(t).trim_matches('`').eq_ignore_ascii_case(c))
        })
    };
    let mut keyspace: Option<String> = None;
    let mut literals = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != Kind::Str {
            continue;
        }
        let is_dot = |j: usize| {
            toks.get(j)
                .is_some_and(|t| t.kind == Kind::Punct && text(t) == ".")
        };
        // `column = 'x'` (the column possibly qualified), or `'x' = [t.]column`.
        let right = if is_dot(i + 3) { i + 4 } else { i + 2 };
        let compared = (i >= 2 && is_eq(i - 1) && schema_column(i - 2))
            || (is_eq(i + 1) && schema_column(right));
        if !compared {
            continue;
        }
        let quoted = text(t);
        let quote = quoted.as_bytes()[0];
        let value = sql::literal::unescape_quoted(&quoted[1..quoted.len() - 1], quote);
        let ks = keyspace_of(std::str::from_utf8(&value).ok()?)?;
        if keyspace.as_ref().is_some_and(|k| *k != ks) {
            return None;
        }
        keyspace = Some(ks);
        literals.push(*t);
    }
    let keyspace = keyspace?;
    let mut out = String::with_capacity(sql.len() + 16);
    let mut pos = 0;
    for t in literals {
        out.push_str(&sql[pos..t.start]);
        out.push(':');
        out.push_str(SCHEMA_NAME);
        pos = t.end;
    }
    out.push_str(&sql[pos..]);
    Some(SchemaQuery { keyspace, sql: out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyspace_of(v: &str) -> Option<String> {
        let ks = v.split(['@', '/', ':']).next().unwrap_or(v);
        ["commerce", "customer"]
            .contains(&ks)
            .then(|| ks.to_string())
    }

    #[test]
    fn schema_literals_naming_one_keyspace_become_the_bind_variable() {
        let q = schema_query(
            "select table_name from information_schema.tables where table_schema = 'customer' \
             and table_name = 'customer'",
            &keyspace_of,
        )
        .unwrap();
        assert_eq!(q.keyspace, "customer");
        assert_eq!(
            q.sql,
            "select table_name from information_schema.tables where table_schema = \
             :__vtschemaname and table_name = 'customer'"
        );
        let q = schema_query(
            "SELECT * FROM information_schema.key_column_usage k WHERE 'commerce@replica' = \
             k.TABLE_SCHEMA AND k.`referenced_table_schema`=\"commerce\"",
            &keyspace_of,
        )
        .unwrap();
        assert_eq!(q.keyspace, "commerce");
        assert_eq!(
            q.sql,
            "SELECT * FROM information_schema.key_column_usage k WHERE :__vtschemaname = \
             k.TABLE_SCHEMA AND k.`referenced_table_schema`=:__vtschemaname"
        );
        assert_eq!(q.bind_variables()[SCHEMA_NAME].value, b"commerce");
    }

    #[test]
    fn other_statements_are_left_alone() {
        for sql in [
            "select * from information_schema.tables where table_schema = 'mysql'",
            "select * from information_schema.tables where table_name = 'customer'",
            "select * from information_schema.tables where table_schema = 'customer' \
             or table_schema = 'commerce'",
            "select 'customer' from information_schema.tables",
        ] {
            assert_eq!(schema_query(sql, &keyspace_of), None, "{sql}");
        }
        assert!(mentions_information_schema(
            "select 1 from INFORMATION_SCHEMA.tables"
        ));
        assert!(!mentions_information_schema("select 1 from t"));
    }
}
