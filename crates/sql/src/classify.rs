//! Classifying a statement by its first keywords, without parsing it, so
//! that vtgate can route statements sqlparser cannot parse (`use ks/0`,
//! `LOAD DATA`, `XA`, `DO`, ...) as pass-through, and take its fast paths
//! (`USE`, `SET`, `BEGIN`, ...) cheaply. Comments are skipped; executable
//! comments (`/*!40101 SET ... */`) count as code.

use crate::show::{self, ShowKind};
use crate::split::{comment_at, CommentKind};

/// What kind of statement a query is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// `SELECT`, `WITH ...`, `(SELECT ...)`, `VALUES`, `TABLE t`.
    Select,
    /// `INSERT`.
    Insert,
    /// `REPLACE`.
    Replace,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
    /// `CREATE`, `ALTER`, `DROP`, `TRUNCATE`, `RENAME`.
    Ddl,
    /// `ALTER VSCHEMA ...` (Vitess's own DDL).
    AlterVSchema,
    /// `SET ...`.
    Set,
    /// `USE target`, with the target unquoted (empty if missing).
    Use(String),
    /// `SHOW ...`.
    Show(ShowKind),
    /// `BEGIN` or `START TRANSACTION`.
    Begin,
    /// `COMMIT`.
    Commit,
    /// `ROLLBACK` (of the whole transaction).
    Rollback,
    /// `SAVEPOINT x`.
    Savepoint,
    /// `ROLLBACK TO [SAVEPOINT] x`.
    RollbackToSavepoint,
    /// `RELEASE SAVEPOINT x`.
    Release,
    /// `EXPLAIN`, `DESCRIBE`, `DESC`.
    Explain,
    /// `VEXPLAIN ...`.
    VExplain,
    /// `LOCK TABLES`.
    LockTables,
    /// `UNLOCK TABLES`.
    UnlockTables,
    /// Only blanks and comments.
    Empty,
    /// Anything else (`LOAD DATA`, `XA`, `DO`, `FLUSH`, `CALL`, ...): pass-through.
    Other,
}

impl StatementKind {
    /// Whether the statement changes rows (and so needs a primary).
    pub fn is_dml(&self) -> bool {
        matches!(
            self,
            StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
        )
    }
}

/// A cursor over the code tokens of a statement (words, quoted spans,
/// single punctuation bytes), skipping blanks and comments.
pub(crate) struct Tokens<'a> {
    sql: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(sql: &'a str) -> Self {
        Tokens { sql, pos: 0 }
    }

    /// The byte offset of the next token.
    pub(crate) fn offset(&mut self) -> usize {
        self.skip_blanks();
        self.pos
    }

    /// The unread rest of the text, starting at the next token.
    pub(crate) fn rest(&mut self) -> &'a str {
        self.skip_blanks();
        &self.sql[self.pos..]
    }

    fn skip_blanks(&mut self) {
        let b = self.sql.as_bytes();
        while self.pos < b.len() {
            let c = b[self.pos];
            if c.is_ascii_whitespace() {
                self.pos += 1;
            } else if c == b'*' && b.get(self.pos + 1) == Some(&b'/') {
                // End of an executable comment we entered.
                self.pos += 2;
            } else {
                match comment_at(b, self.pos) {
                    Some((CommentKind::Executable, _)) => {
                        self.pos += 3;
                        while self.pos < b.len() && b[self.pos].is_ascii_digit() {
                            self.pos += 1;
                        }
                    }
                    Some((_, end)) => self.pos = end,
                    None => return,
                }
            }
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.skip_blanks();
        let b = self.sql.as_bytes();
        let start = self.pos;
        let c = *b.get(start)?;
        self.pos = if c == b'\'' || c == b'"' || c == b'`' {
            crate::split::quoted_end(b, start)
        } else if is_word_byte(c) {
            start + b[start..].iter().take_while(|&&c| is_word_byte(c)).count()
        } else {
            // One punctuation character (whole UTF-8 sequence).
            start + self.sql[start..].chars().next().map_or(1, char::len_utf8)
        };
        Some(&self.sql[start..self.pos])
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Classifies a statement by its first keywords. Never parses.
pub fn classify(sql: &str) -> StatementKind {
    let mut toks = Tokens::new(sql);
    let Some(first) = toks.next() else {
        return StatementKind::Empty;
    };
    let is = |w: &str, k: &str| w.eq_ignore_ascii_case(k);
    let mut second = || toks.next().unwrap_or("");
    match first.len() {
        1 if first == "(" => StatementKind::Select,
        _ if is(first, "select")
            || is(first, "with")
            || is(first, "values")
            || is(first, "table") =>
        {
            StatementKind::Select
        }
        _ if is(first, "insert") => StatementKind::Insert,
        _ if is(first, "replace") => StatementKind::Replace,
        _ if is(first, "update") => StatementKind::Update,
        _ if is(first, "delete") => StatementKind::Delete,
        _ if is(first, "alter") => {
            if is(second(), "vschema") {
                StatementKind::AlterVSchema
            } else {
                StatementKind::Ddl
            }
        }
        _ if is(first, "create")
            || is(first, "drop")
            || is(first, "truncate")
            || is(first, "rename") =>
        {
            StatementKind::Ddl
        }
        _ if is(first, "set") => StatementKind::Set,
        _ if is(first, "use") => StatementKind::Use(use_target(toks.rest())),
        _ if is(first, "show") => StatementKind::Show(show::show_kind(toks.rest())),
        _ if is(first, "begin") => StatementKind::Begin,
        _ if is(first, "start") => {
            if is(second(), "transaction") {
                StatementKind::Begin
            } else {
                StatementKind::Other
            }
        }
        _ if is(first, "commit") => StatementKind::Commit,
        _ if is(first, "rollback") => {
            let mut w = second();
            if is(w, "work") {
                w = toks.next().unwrap_or("");
            }
            if is(w, "to") {
                StatementKind::RollbackToSavepoint
            } else {
                StatementKind::Rollback
            }
        }
        _ if is(first, "savepoint") => StatementKind::Savepoint,
        _ if is(first, "release") => StatementKind::Release,
        _ if is(first, "explain") || is(first, "describe") || is(first, "desc") => {
            StatementKind::Explain
        }
        _ if is(first, "vexplain") => StatementKind::VExplain,
        _ if is(first, "lock") => StatementKind::LockTables,
        _ if is(first, "unlock") => StatementKind::UnlockTables,
        _ => StatementKind::Other,
    }
}

/// The target of `USE`: a backquoted name is unquoted; otherwise the text
/// up to the first blank, `;` or comment (so `use ks/0@replica` works).
fn use_target(rest: &str) -> String {
    let b = rest.as_bytes();
    if b.first() == Some(&b'`') {
        let end = crate::split::quoted_end(b, 0);
        let inner = &rest[1..end.saturating_sub(1).max(1)];
        return inner.replace("``", "`");
    }
    let end = b
        .iter()
        .position(|&c| c.is_ascii_whitespace() || c == b';' || c == b'#')
        .unwrap_or(b.len());
    let word = &rest[..end];
    // `/*` directly after the name starts a comment.
    match word.find("/*") {
        Some(p) => word[..p].to_string(),
        None => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatementKind as K;

    #[test]
    fn first_keywords() {
        let cases = [
            ("select 1", K::Select),
            ("  SeLeCt 1", K::Select),
            ("(select 1) union (select 2)", K::Select),
            ("with t as (select 1) select * from t", K::Select),
            ("insert into t values (1)", K::Insert),
            ("replace into t values (1)", K::Replace),
            ("update t set a = 1", K::Update),
            ("delete from t", K::Delete),
            ("create table t (a int)", K::Ddl),
            ("drop table t", K::Ddl),
            ("truncate t", K::Ddl),
            ("rename table a to b", K::Ddl),
            ("alter table t add b int", K::Ddl),
            ("alter vschema create vindex v using hash", K::AlterVSchema),
            ("set autocommit = 1", K::Set),
            ("begin", K::Begin),
            ("start transaction read only", K::Begin),
            ("commit", K::Commit),
            ("rollback", K::Rollback),
            ("rollback work", K::Rollback),
            ("rollback to savepoint a", K::RollbackToSavepoint),
            ("rollback work to a", K::RollbackToSavepoint),
            ("savepoint a", K::Savepoint),
            ("release savepoint a", K::Release),
            ("explain select 1", K::Explain),
            ("describe t", K::Explain),
            ("desc t", K::Explain),
            ("vexplain plan select 1", K::VExplain),
            ("lock tables t read", K::LockTables),
            ("unlock tables", K::UnlockTables),
            ("show databases", K::Show(ShowKind::Databases)),
            ("  ", K::Empty),
            ("/* only */ -- comments\n", K::Empty),
        ];
        for (sql, want) in cases {
            assert_eq!(classify(sql), want, "{sql}");
        }
    }

    #[test]
    fn statements_sqlparser_cannot_parse_still_classify() {
        assert_eq!(classify("select * from t lock in share mode"), K::Select);
        assert_eq!(classify("load data infile 'x' into table t"), K::Other);
        assert_eq!(classify("xa start 'x'"), K::Other);
        assert_eq!(classify("do sleep(1)"), K::Other);
        assert_eq!(classify("select a mod b from t"), K::Select);
        assert_eq!(classify("use ks/0"), K::Use("ks/0".into()));
    }

    #[test]
    fn comments_and_executable_comments() {
        assert_eq!(classify("/* vt+ x */ select 1"), K::Select);
        assert_eq!(classify("-- c\n# d\nupdate t set a=1"), K::Update);
        assert_eq!(
            classify("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"),
            K::Set
        );
        assert_eq!(classify("/*! select 1 */"), K::Select);
    }

    #[test]
    fn use_targets() {
        assert_eq!(classify("use ks"), K::Use("ks".into()));
        assert_eq!(
            classify("USE `ks:-80@replica`"),
            K::Use("ks:-80@replica".into())
        );
        assert_eq!(
            classify("use `ks/80-@replica`;"),
            K::Use("ks/80-@replica".into())
        );
        assert_eq!(
            classify("use ks@rdonly /* c */"),
            K::Use("ks@rdonly".into())
        );
        assert_eq!(classify("use `we``ird`"), K::Use("we`ird".into()));
        assert_eq!(classify("use"), K::Use(String::new()));
    }

    #[test]
    fn tokens_yield_words_quotes_and_punctuation() {
        let toks: Vec<&str> = Tokens::new("select 'a b', `c d` /* x */ from t;").collect();
        assert_eq!(
            toks,
            vec!["select", "'a b'", ",", "`c d`", "from", "t", ";"]
        );
    }
}
