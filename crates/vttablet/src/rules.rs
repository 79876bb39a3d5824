//! Query rules applied before a statement reaches MariaDB: a non-primary
//! tablet serves only reads (anything else, from DML to `SHUTDOWN`, `GRANT` or
//! `SELECT ... INTO OUTFILE`, is refused as a write), and denied tables (from the Shard's tablet
//! controls) are refused with Vitess's `enforce denied tables` rule.

use std::ops::ControlFlow;

use proto::topodata::TabletType;
use proto::vtrpc::Code;
use sql::classify::StatementKind;

use crate::error::{Result, TabletError};
use crate::state::Snapshot;

/// The description of the denied-tables rule (`tm_state.go` `applyDenyList`).
pub const DENIED_TABLES_RULE: &str = "enforce denied tables";

/// The statement inside MariaDB's `SET STATEMENT a=1, b='x' FOR <statement>`
/// (how vtgate carries session settings), else `sql` itself.
pub fn strip_set_statement(sql: &str) -> &str {
    let (_, rest) = sql::split::strip_leading_comments(sql);
    let mut words = rest.split_ascii_whitespace();
    let is_set_statement = words.next().is_some_and(|w| w.eq_ignore_ascii_case("set"))
        && words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("statement"));
    if !is_set_statement {
        return sql;
    }
    let bytes = rest.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b'f' | b'F'
                if depth == 0
                    && i > 0
                    && bytes[i - 1].is_ascii_whitespace()
                    && rest[i..].len() > 3
                    && rest[i..i + 3].eq_ignore_ascii_case("for")
                    && bytes[i + 3].is_ascii_whitespace() =>
            {
                return rest[i + 3..].trim_start();
            }
            _ => {}
        }
        i += 1;
    }
    sql
}

/// Refuses `sql` (of kind `kind`) when the tablet's current state forbids it.
pub fn check(sql: &str, kind: &StatementKind, snapshot: &Snapshot) -> Result<()> {
    if snapshot.tablet_type != TabletType::Primary && !is_read(sql, kind) {
        let verb = first_word(sql).to_ascii_lowercase();
        return Err(TabletError::vitess(
            Code::FailedPrecondition,
            format!(
                "VT09002: {verb} statement with a replica target (errno 1874) (sqlstate HY000)"
            ),
        ));
    }
    let denied = snapshot.denied_for_type();
    if !denied.is_empty() && touches_any(sql, denied) {
        return Err(TabletError::vitess(
            Code::FailedPrecondition,
            format!("disallowed due to rule: {DENIED_TABLES_RULE}"),
        ));
    }
    Ok(())
}

/// The first keyword of a statement, after any leading comments.
fn first_word(sql: &str) -> &str {
    let (_, rest) = sql::split::strip_leading_comments(sql);
    rest.split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or("")
}

/// Statements a non-primary tablet may run: reads, transaction control and session `SET`.
/// Everything else (DML, DDL and the pass-through `Other` kind: `SHUTDOWN`, `KILL`,
/// `GRANT`, `CALL`, `STOP SLAVE`, ...) could change the server or its data.
fn is_read(sql: &str, kind: &StatementKind) -> bool {
    match kind {
        StatementKind::Select => !code_words(sql).any(|w| {
            w.eq_ignore_ascii_case("outfile")
                || w.eq_ignore_ascii_case("dumpfile")
                || w.eq_ignore_ascii_case("load_file")
        }),
        // `SET GLOBAL` changes the server, `SET PASSWORD` and `SET DEFAULT ROLE` its grants.
        StatementKind::Set => {
            let words: Vec<&str> = code_words(sql).collect();
            let is = |w: &str, word: &str| w.eq_ignore_ascii_case(word);
            let server_wide = words
                .iter()
                .any(|w| is(w, "global") || is(w, "persist") || is(w, "password"));
            let default_role = words
                .windows(2)
                .any(|pair| is(pair[0], "default") && is(pair[1], "role"));
            !(server_wide || default_role)
        }
        StatementKind::Show(_)
        | StatementKind::Explain
        | StatementKind::Use(_)
        | StatementKind::Begin
        | StatementKind::Commit
        | StatementKind::Rollback
        | StatementKind::Savepoint
        | StatementKind::RollbackToSavepoint
        | StatementKind::Release
        | StatementKind::Empty => true,
        _ => false,
    }
}

/// The words of `sql` outside quoted strings and identifiers (words inside comments
/// count: MariaDB runs `/*! ... */`). `@@global.x` yields `global`.
fn code_words(sql: &str) -> impl Iterator<Item = &str> {
    let bytes = sql.as_bytes();
    let mut spans = Vec::new();
    let (mut i, mut start) = (0, 0);
    while i < bytes.len() {
        if let quote @ (b'\'' | b'"' | b'`') = bytes[i] {
            spans.push(&sql[start..i]);
            i += 1;
            while i < bytes.len() && bytes[i] != quote {
                i += if bytes[i] == b'\\' && quote != b'`' {
                    2
                } else {
                    1
                };
            }
            start = (i + 1).min(bytes.len());
        }
        i += 1;
    }
    spans.push(&sql[start.min(sql.len())..]);
    spans.into_iter().flat_map(|span| {
        span.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .filter(|w| !w.is_empty())
    })
}

/// Whether `sql` names any of `tables` (case-insensitively). Uses the parser's
/// table references when the statement parses, else every identifier token.
fn touches_any(sql: &str, tables: &[String]) -> bool {
    let matches = |name: &str| tables.iter().any(|t| t.eq_ignore_ascii_case(name));
    if let Ok(statement) = sql::parse::parse(sql) {
        let found = sqlparser::ast::visit_relations(&statement, |relation| {
            match relation.0.last().and_then(|part| part.as_ident()) {
                Some(ident) if matches(&ident.value) => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        });
        return found.is_break();
    }
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .any(|word| !word.is_empty() && matches(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::TabletState;

    fn snapshot(tablet_type: TabletType, denied: &[&str]) -> Snapshot {
        let state = TabletState::new(tablet_type);
        state.update(|s| {
            s.denied_tables
                .insert(tablet_type, denied.iter().map(|t| t.to_string()).collect());
        });
        Snapshot::clone(&state.snapshot())
    }

    fn run(sql: &str, snap: &Snapshot) -> Result<()> {
        check(sql, &sql::classify::classify(sql), snap)
    }

    #[test]
    fn replicas_refuse_writes() {
        let replica = snapshot(TabletType::Replica, &[]);
        assert!(run("select * from t", &replica).is_ok());
        let err = run("insert into t values (1)", &replica).unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err
            .to_string()
            .starts_with("VT09002: insert statement with a replica target"));
        assert!(run("create table x (id int)", &replica).is_err());
        for sql in [
            "shutdown",
            "kill 12",
            "grant all on *.* to x",
            "create user x",
            "stop slave",
            "call p()",
            "flush tables",
            "select * from t into outfile '/tmp/x'",
            "select load_file('/etc/passwd')",
            "set global read_only = 0",
            "set @@global.read_only = 0",
            "set password for x = password('y')",
            "set default role r for x",
        ] {
            let err = run(sql, &replica).unwrap_err();
            assert_eq!(err.code(), Code::FailedPrecondition, "{sql}");
        }
        for sql in [
            "select 'into outfile' from t",
            "show tables",
            "explain select 1",
            "set @a = 'global'",
            "set sql_mode = default",
            "begin",
            "rollback",
        ] {
            assert!(run(sql, &replica).is_ok(), "{sql}");
        }
        assert!(run("shutdown", &snapshot(TabletType::Rdonly, &[])).is_err());
        let primary = snapshot(TabletType::Primary, &[]);
        assert!(run("insert into t values (1)", &primary).is_ok());
    }

    #[test]
    fn set_statement_prefix_is_looked_through() {
        let sql =
            "SET STATEMENT sql_mode='a,b', time_zone='+00:00', x=(1) FOR insert into t values (1)";
        assert_eq!(strip_set_statement(sql), "insert into t values (1)");
        assert_eq!(
            strip_set_statement("set statement a='for x' FOR\tselect 1"),
            "select 1"
        );
        assert_eq!(strip_set_statement("select 1"), "select 1");
        assert_eq!(strip_set_statement("set @a = 1"), "set @a = 1");
    }

    #[test]
    fn denied_tables_by_reference_not_by_column() {
        let snap = snapshot(TabletType::Primary, &["customer"]);
        let err = run("select * from commerce.Customer where 1", &snap).unwrap_err();
        assert_eq!(
            err.to_string(),
            "disallowed due to rule: enforce denied tables"
        );
        assert!(run("select c.id from corder c join `customer` x on 1", &snap).is_err());
        assert!(run("select customer from product", &snap).is_ok());
        assert!(run("update product set price = 1", &snap).is_ok());
        // Unparseable statements fall back to a token scan.
        assert!(run(
            "select customer_id from customer lock in share mode nowait now",
            &snap
        )
        .is_err());
    }
}
