//! Statements vtgate answers itself without a tablet: `select` lists made only of
//! `@@version`, `@@version_comment`, `@@autocommit`, `database()`, `schema()`,
//! `last_insert_id()`, `found_rows()` and `row_count()` (optionally aliased, optionally with
//! `LIMIT`), plus helpers to build such result sets.

use proto::query::{Field, QueryResult, Row, Type};

use crate::rewrite::{first_tokens, tokens, Kind};
use crate::session::Session;

/// Values vtgate reports about itself.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// `@@version` (also sent in the handshake).
    pub version: String,
    /// `@@version_comment`.
    pub version_comment: String,
}

impl ServerInfo {
    /// `@@version` as MySQL's version number (`8.0.40` is 80040), which executable
    /// comments (`/*!80000 ... */`) are compared with; 0 when it does not start `X.Y.Z`.
    pub fn version_id(&self) -> u32 {
        let mut parts = self
            .version
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|p| p.parse::<u32>().ok());
        match (parts.next(), parts.next(), parts.next()) {
            (Some(Some(major)), Some(Some(minor)), Some(Some(patch))) => {
                major * 10_000 + minor * 100 + patch
            }
            _ => 0,
        }
    }
}

/// A text column of a locally built result.
pub fn varchar_field(name: &str) -> Field {
    Field {
        name: name.to_string(),
        r#type: Type::Varchar as i32,
        charset: 45,
        column_length: 256,
        ..Default::default()
    }
}

/// An integer column of a locally built result.
pub fn int_field(name: &str, typ: Type) -> Field {
    Field {
        name: name.to_string(),
        r#type: typ as i32,
        charset: 63,
        column_length: 20,
        flags: proto::sqltypes::flag::NUM
            | proto::sqltypes::flag::BINARY
            | if matches!(typ, Type::Uint64) {
                proto::sqltypes::flag::UNSIGNED
            } else {
                0
            },
        ..Default::default()
    }
}

/// A result with the given fields and text rows (`None` = NULL).
pub fn result(fields: Vec<Field>, rows: Vec<Vec<Option<String>>>) -> QueryResult {
    QueryResult {
        fields,
        rows: rows
            .iter()
            .map(|r| Row::from_values(r.iter().map(|v| v.as_deref().map(str::as_bytes))))
            .collect(),
        ..Default::default()
    }
}

/// Answers the select if every item is something vtgate knows; None otherwise.
pub fn local_select(sql: &str, session: &Session, info: &ServerInfo) -> Option<QueryResult> {
    // Every SELECT comes here first: decide on its first tokens (`SELECT @@x` or
    // `SELECT f()`) before scanning the whole statement.
    let head = first_tokens(sql, 4);
    let head_is = |i: usize, w: &str| head.get(i).is_some_and(|t| &sql[t.start..t.end] == w);
    let local_shape = head.get(1).is_some_and(|t| {
        t.kind == Kind::Var || (t.kind == Kind::Word && head_is(2, "(") && head_is(3, ")"))
    });
    if !local_shape {
        return None;
    }
    let toks = tokens(sql);
    let text = |i: usize| toks.get(i).map(|t| &sql[t.start..t.end]);
    let is = |i: usize, w: &str| text(i).is_some_and(|t| t.eq_ignore_ascii_case(w));
    if !is(0, "select") {
        return None;
    }
    let mut fields = Vec::new();
    let mut values = Vec::new();
    let mut i = 1;
    loop {
        let start = toks.get(i)?;
        let (typ, value, end) = match start.kind {
            Kind::Var => {
                let (t, v) = sysvar(text(i)?, session, info)?;
                (t, v, i + 1)
            }
            Kind::Word if text(i + 1) == Some("(") && text(i + 2) == Some(")") => {
                let (t, v) = function(text(i)?, session)?;
                (t, v, i + 3)
            }
            _ => return None,
        };
        let expr = &sql[start.start..toks[end - 1].end];
        i = end;
        let mut name = expr.to_string();
        if is(i, "as") {
            name = alias(text(i + 1)?)?;
            i += 2;
        } else if toks.get(i).is_some_and(|t| t.kind == Kind::Word)
            && !is(i, "limit")
            && !is(i, "from")
        {
            name = alias(text(i)?)?;
            i += 1;
        }
        fields.push(match typ {
            Type::Varchar => varchar_field(&name),
            t => int_field(&name, t),
        });
        values.push(value);
        match text(i) {
            Some(",") => i += 1,
            _ => break,
        }
    }
    let mut rows = 1;
    if is(i, "limit") {
        let n: u64 = text(i + 1)?.parse().ok()?;
        rows = rows.min(n);
        i += 2;
    }
    if text(i) == Some(";") {
        i += 1;
    }
    if i != toks.len() {
        return None;
    }
    let rows = if rows == 0 { Vec::new() } else { vec![values] };
    Some(result(fields, rows))
}

fn alias(word: &str) -> Option<String> {
    let b = word.as_bytes();
    if b.is_empty() {
        return None;
    }
    if matches!(b[0], b'`' | b'\'' | b'"') {
        return Some(crate::settings::unquote(word).to_string());
    }
    b.iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
        .then(|| word.to_string())
}

fn sysvar(var: &str, session: &Session, info: &ServerInfo) -> Option<(Type, Option<String>)> {
    let name = var.strip_prefix("@@")?.to_ascii_lowercase();
    let name = name
        .strip_prefix("session.")
        .or_else(|| name.strip_prefix("local."))
        .unwrap_or(&name);
    match name {
        "version" => Some((Type::Varchar, Some(info.version.clone()))),
        "version_comment" => Some((Type::Varchar, Some(info.version_comment.clone()))),
        "autocommit" => Some((Type::Int64, Some(u8::from(session.autocommit).to_string()))),
        _ => None,
    }
}

fn function(name: &str, session: &Session) -> Option<(Type, Option<String>)> {
    match name.to_ascii_lowercase().as_str() {
        "database" | "schema" => Some((
            Type::Varchar,
            Some(session.target_string().to_string()).filter(|s| !s.is_empty()),
        )),
        "last_insert_id" => Some((Type::Uint64, Some(session.last_insert_id.to_string()))),
        "found_rows" => Some((Type::Int64, Some(session.found_rows.to_string()))),
        "row_count" => Some((Type::Int64, Some(session.row_count.to_string()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::topodata::TabletType;
    use sql::target::Target;

    fn info() -> ServerInfo {
        ServerInfo {
            version: "8.0.40-Vitess".into(),
            version_comment: "vtgate-rs".into(),
        }
    }

    fn values(r: &QueryResult) -> Vec<Option<String>> {
        r.rows[0]
            .split_values()
            .unwrap()
            .into_iter()
            .map(|v| v.map(|b| String::from_utf8(b.to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn answers_version_database_and_last_insert_id() {
        let mut s = Session::new(TabletType::Primary);
        s.set_target(
            "commerce@replica",
            Target::parse("commerce@replica").unwrap(),
        );
        s.last_insert_id = 7;
        let r = local_select(
            "select @@version, @@version_comment, database(), last_insert_id()",
            &s,
            &info(),
        )
        .unwrap();
        let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "@@version",
                "@@version_comment",
                "database()",
                "last_insert_id()"
            ]
        );
        assert_eq!(
            values(&r),
            [
                Some("8.0.40-Vitess".into()),
                Some("vtgate-rs".into()),
                Some("commerce@replica".into()),
                Some("7".into())
            ]
        );
        assert_eq!(r.fields[3].r#type, Type::Uint64 as i32);
    }

    #[test]
    fn cli_probe_aliases_and_null_database() {
        let s = Session::new(TabletType::Primary);
        let r = local_select("select @@version_comment limit 1", &s, &info()).unwrap();
        assert_eq!(values(&r), [Some("vtgate-rs".into())]);
        let r = local_select("/* probe */ select @@version_comment limit 1", &s, &info()).unwrap();
        assert_eq!(values(&r), [Some("vtgate-rs".into())]);
        let r = local_select(
            "SELECT DATABASE() AS db, @@session.autocommit ac",
            &s,
            &info(),
        )
        .unwrap();
        assert_eq!(r.fields[0].name, "db");
        assert_eq!(r.fields[1].name, "ac");
        assert_eq!(values(&r), [None, Some("1".into())]);
        assert_eq!(
            local_select("select @@version limit 0", &s, &info())
                .unwrap()
                .rows
                .len(),
            0
        );
    }

    #[test]
    fn anything_else_goes_to_a_tablet() {
        let s = Session::new(TabletType::Primary);
        for sql in [
            "select 1",
            "select c from sbtest1 where id = 5",
            "select f(1)",
            "select @@sql_mode",
            "select now()",
            "select database() from t",
            "select @@version, x",
            "update t set a = database()",
        ] {
            assert!(local_select(sql, &s, &info()).is_none(), "{sql}");
        }
    }
}
