//! `SET` statements: split into assignments and sorted by what vtgate does with each, as
//! Vitess's `sysvars` lists do: kept in vtgate (`autocommit`, `names`, `workload`...),
//! read-only (`version`), ignored (timeouts, client character sets), transaction isolation,
//! user variables, and every other system variable, which is sent to MySQL with each
//! statement (see [`crate::session`]).

use sql::error::SqlError;

use crate::error::VtError;

/// Variables vtgate keeps in the session and never sends to MySQL.
const VITESS_AWARE: &[&str] = &[
    "autocommit",
    "client_found_rows",
    "skip_query_plan_cache",
    "tx_read_only",
    "transaction_read_only",
    "sql_select_limit",
    "transaction_mode",
    "ddl_strategy",
    "workload",
    "charset",
    "names",
    "session_uuid",
    "migration_context",
    "enable_system_settings",
    "read_after_write_gtid",
    "read_after_write_timeout",
    "session_track_gtids",
    "query_timeout",
    "transaction_timeout",
];

/// Variables that can only be read.
const READ_ONLY: &[&str] = &["version", "version_comment", "socket"];

/// Variables accepted and ignored: connection-level knobs the tablets manage themselves.
const IGNORED: &[&str] = &[
    "wait_timeout",
    "interactive_timeout",
    "net_read_timeout",
    "net_write_timeout",
    "net_buffer_length",
    "character_set_client",
    "character_set_connection",
    "character_set_results",
    "collation_connection",
    "character_set_server",
    "collation_server",
    "character_set_database",
    "collation_database",
    "query_cache_type",
    "session_track_schema",
    "session_track_state_change",
    "session_track_system_variables",
    "session_track_transaction_info",
];

/// The value side of an assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetValue {
    /// A literal, as SQL text ready to be sent (`'+00:00'`, `1`, `ON`).
    Literal(String),
    /// `DEFAULT`: go back to the server's value.
    Default,
    /// An expression MySQL must evaluate (`concat(@@sql_mode, ',X')`).
    Expr(String),
}

/// What one assignment of a `SET` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAction {
    /// `autocommit = 0|1`.
    Autocommit(bool),
    /// A variable vtgate keeps (`names`, `workload`, ...).
    Vitess(String, String),
    /// Accepted and ignored.
    Ignored,
    /// `SET [SESSION] TRANSACTION ISOLATION LEVEL x` (`session` false: next transaction only).
    Isolation {
        /// Applies to the whole session.
        session: bool,
        /// Level name, upper case with spaces (`READ COMMITTED`).
        level: String,
    },
    /// `SET [SESSION] TRANSACTION READ ONLY|READ WRITE`: accepted and ignored.
    AccessMode,
    /// A user variable `@x`.
    User(String, SetValue),
    /// A system variable sent to MySQL with every statement.
    System(String, SetValue),
}

/// Splits a `SET` statement into actions.
pub fn parse_set(sql: &str) -> Result<Vec<SetAction>, VtError> {
    // Leading comments (`/* c */ SET ...`) are not part of the statement.
    let statement = sql::split::strip_leading_comments(sql).1;
    let body = strip_keyword(statement.trim().trim_end_matches(';'), "set")
        .ok_or_else(|| VtError::Other(format!("not a SET statement: {sql}")))?;
    split_top_level(body)
        .into_iter()
        .map(|a| parse_assignment(a.trim()))
        .collect()
}

fn strip_keyword<'a>(s: &'a str, kw: &str) -> Option<&'a str> {
    let s = s.trim_start();
    let head = s.get(..kw.len())?;
    if !head.eq_ignore_ascii_case(kw) {
        return None;
    }
    let rest = &s[kw.len()..];
    match rest.bytes().next() {
        None => Some(rest),
        Some(c) if c.is_ascii_alphanumeric() || c == b'_' => None,
        Some(_) => Some(rest.trim_start()),
    }
}

/// Splits on commas outside quotes and parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    let mut out = Vec::new();
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && q != b'`' {
                        i += 1;
                    } else if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

fn parse_assignment(a: &str) -> Result<SetAction, VtError> {
    if let Some(rest) = strip_keyword(a, "names") {
        return Ok(SetAction::Vitess("names".into(), rest.to_string()));
    }
    if let Some(rest) = strip_keyword(a, "charset")
        .or_else(|| strip_keyword(a, "character").and_then(|r| strip_keyword(r, "set")))
    {
        return Ok(SetAction::Vitess("charset".into(), rest.to_string()));
    }
    let (scope, rest) = split_scope(a);
    if scope == Scope::Global {
        return Err(VtError::Unsupported(format!("SET GLOBAL: {a}")));
    }
    if let Some(tx) = strip_keyword(rest, "transaction") {
        return parse_transaction(tx, scope == Scope::Session);
    }
    if let Some(user) = rest.strip_prefix('@') {
        let (name, value) = split_eq(user).ok_or_else(|| syntax(a))?;
        return Ok(SetAction::User(
            unquote(name).to_ascii_lowercase(),
            parse_value(value),
        ));
    }
    let (name, value) = split_eq(rest).ok_or_else(|| syntax(a))?;
    let name = unquote(name).to_ascii_lowercase();
    if !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err(syntax(a));
    }
    let value = parse_value(value);
    if READ_ONLY.contains(&name.as_str()) {
        return Err(SqlError::ReadOnlyVariable(name).into());
    }
    if name == "autocommit" {
        return match &value {
            SetValue::Literal(v) => parse_bool(v)
                .map(SetAction::Autocommit)
                .ok_or_else(|| wrong_value(&name, v)),
            SetValue::Default => Ok(SetAction::Autocommit(true)),
            SetValue::Expr(v) => Err(wrong_value(&name, v)),
        };
    }
    if name == "transaction_isolation" || name == "tx_isolation" {
        let level = match &value {
            SetValue::Literal(v) | SetValue::Expr(v) => {
                unquote(v).replace('-', " ").to_ascii_uppercase()
            }
            SetValue::Default => "REPEATABLE READ".into(),
        };
        return Ok(SetAction::Isolation {
            session: true,
            level,
        });
    }
    if VITESS_AWARE.contains(&name.as_str()) {
        let text = match value {
            SetValue::Literal(v) | SetValue::Expr(v) => unquote(&v).to_string(),
            SetValue::Default => String::new(),
        };
        return Ok(SetAction::Vitess(name, text));
    }
    if IGNORED.contains(&name.as_str()) {
        return Ok(SetAction::Ignored);
    }
    Ok(SetAction::System(name, value))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    None,
    Session,
    Global,
}

fn split_scope(a: &str) -> (Scope, &str) {
    for (kw, scope) in [
        ("session", Scope::Session),
        ("local", Scope::Session),
        ("global", Scope::Global),
        ("persist", Scope::Global),
    ] {
        if let Some(rest) = strip_keyword(a, kw) {
            return (scope, rest);
        }
    }
    if let Some(rest) = a.strip_prefix("@@") {
        let lower = rest.to_ascii_lowercase();
        for (prefix, scope) in [
            ("session.", Scope::Session),
            ("local.", Scope::Session),
            ("global.", Scope::Global),
        ] {
            if lower.starts_with(prefix) {
                return (scope, &rest[prefix.len()..]);
            }
        }
        return (Scope::Session, rest);
    }
    (Scope::None, a)
}

fn parse_transaction(rest: &str, session: bool) -> Result<SetAction, VtError> {
    let words: Vec<String> = rest
        .split_whitespace()
        .map(|w| w.to_ascii_uppercase())
        .collect();
    match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ISOLATION", "LEVEL", level @ ..] if !level.is_empty() => Ok(SetAction::Isolation {
            session,
            level: level.join(" "),
        }),
        ["READ", "ONLY" | "WRITE"] => Ok(SetAction::AccessMode),
        _ => Err(syntax(rest)),
    }
}

/// Splits `name = value` / `name := value`.
fn split_eq(s: &str) -> Option<(&str, &str)> {
    let pos = s.find('=')?;
    let name = s[..pos].trim_end().trim_end_matches(':').trim();
    if name.is_empty() {
        return None;
    }
    Some((name, s[pos + 1..].trim()))
}

fn parse_value(v: &str) -> SetValue {
    let v = v.trim();
    if v.eq_ignore_ascii_case("default") {
        return SetValue::Default;
    }
    let b = v.as_bytes();
    let quoted = b.len() >= 2
        && (b[0] == b'\'' || b[0] == b'"')
        && b[b.len() - 1] == b[0]
        && split_top_level(v).len() == 1
        && !v[1..v.len() - 1].contains(b[0] as char);
    let number = !v.is_empty()
        && v.trim_start_matches(['-', '+'])
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'.')
        && v.bytes().any(|c| c.is_ascii_digit());
    let word = !v.is_empty() && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if quoted || number {
        SetValue::Literal(v.to_string())
    } else if word {
        let upper = v.to_ascii_uppercase();
        if matches!(upper.as_str(), "ON" | "OFF" | "TRUE" | "FALSE" | "NULL") {
            SetValue::Literal(upper)
        } else {
            SetValue::Literal(format!("'{v}'"))
        }
    } else {
        SetValue::Expr(v.to_string())
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match unquote(v).to_ascii_uppercase().as_str() {
        "1" | "ON" | "TRUE" => Some(true),
        "0" | "OFF" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Removes one level of `'..'`, `".."` or backquotes.
pub fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'\'' | b'"' | b'`') && b[b.len() - 1] == b[0] {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// MySQL's isolation level name to the proto enum.
pub fn isolation_from_name(
    level: &str,
) -> Option<proto::query::execute_options::TransactionIsolation> {
    use proto::query::execute_options::TransactionIsolation as I;
    match level {
        "REPEATABLE READ" => Some(I::RepeatableRead),
        "READ COMMITTED" => Some(I::ReadCommitted),
        "READ UNCOMMITTED" => Some(I::ReadUncommitted),
        "SERIALIZABLE" => Some(I::Serializable),
        _ => None,
    }
}

fn syntax(near: &str) -> VtError {
    SqlError::Syntax(format!("syntax error near '{near}'")).into()
}

fn wrong_value(name: &str, value: &str) -> VtError {
    SqlError::WrongValueForVar {
        name: name.to_string(),
        value: unquote(value).to_string(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use SetAction as A;
    use SetValue as V;

    #[test]
    fn driver_connect_statements() {
        assert_eq!(
            parse_set("SET NAMES utf8mb4 COLLATE utf8mb4_general_ci").unwrap(),
            vec![A::Vitess(
                "names".into(),
                "utf8mb4 COLLATE utf8mb4_general_ci".into()
            )]
        );
        assert_eq!(
            parse_set("set autocommit=0").unwrap(),
            vec![A::Autocommit(false)]
        );
        // A dump's leading comment (MariaDB's sandbox line is a plain comment to MySQL).
        assert_eq!(
            parse_set("/*M!999999\\- enable the sandbox mode */ -- x\n SET autocommit=0").unwrap(),
            vec![A::Autocommit(false)]
        );
        assert_eq!(
            parse_set("SET @@session.autocommit = ON").unwrap(),
            vec![A::Autocommit(true)]
        );
        assert_eq!(
            parse_set("SET time_zone = '+00:00', sql_mode='STRICT_TRANS_TABLES'").unwrap(),
            vec![
                A::System("time_zone".into(), V::Literal("'+00:00'".into())),
                A::System(
                    "sql_mode".into(),
                    V::Literal("'STRICT_TRANS_TABLES'".into())
                ),
            ]
        );
        assert_eq!(
            parse_set("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED").unwrap(),
            vec![A::Isolation {
                session: true,
                level: "READ COMMITTED".into()
            }]
        );
        assert_eq!(
            parse_set("set transaction isolation level serializable").unwrap(),
            vec![A::Isolation {
                session: false,
                level: "SERIALIZABLE".into()
            }]
        );
        assert_eq!(
            parse_set("SET @@session.transaction_isolation = 'READ-COMMITTED'").unwrap(),
            vec![A::Isolation {
                session: true,
                level: "READ COMMITTED".into()
            }]
        );
        assert_eq!(
            parse_set("SET wait_timeout = 28800").unwrap(),
            vec![A::Ignored]
        );
    }

    #[test]
    fn values_and_user_variables() {
        assert_eq!(
            parse_set("set @x = 5, @`y` := 'a,b'").unwrap(),
            vec![
                A::User("x".into(), V::Literal("5".into())),
                A::User("y".into(), V::Literal("'a,b'".into())),
            ]
        );
        assert_eq!(
            parse_set("SET sql_mode = concat(@@sql_mode, ',ANSI')").unwrap(),
            vec![A::System(
                "sql_mode".into(),
                V::Expr("concat(@@sql_mode, ',ANSI')".into())
            )]
        );
        assert_eq!(
            parse_set("SET sql_mode = DEFAULT").unwrap(),
            vec![A::System("sql_mode".into(), V::Default)]
        );
        assert_eq!(
            parse_set("SET foreign_key_checks = off").unwrap(),
            vec![A::System(
                "foreign_key_checks".into(),
                V::Literal("OFF".into())
            )]
        );
    }

    #[test]
    fn refused_assignments() {
        let e = parse_set("set @@version = 'x'").unwrap_err();
        assert_eq!(e.to_string(), "Variable 'version' is a read only variable");
        assert_eq!(e.errno(), 1238);
        assert!(parse_set("set global sql_mode = ''").is_err());
        let e = parse_set("set autocommit = 'maybe'").unwrap_err();
        assert_eq!(e.errno(), 1231);
        assert!(parse_set("set foo").is_err());
        assert!(parse_set("set sql_mode for delete from t where id = 1").is_err());
    }
}
