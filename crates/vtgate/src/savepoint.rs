//! Savepoints of the open transaction, kept in vtgate as Vitess keeps them
//! (`Session.Savepoints`): a shard that joins the transaction later must first take every
//! savepoint the transaction has, in order, or a `ROLLBACK TO` sent to every shard would
//! fail there (1305) after the other shards had rolled back.
//!
//! The list follows MySQL's rules, so what is replayed is what MySQL would hold:
//! `SAVEPOINT x` replaces an older `x` and goes last; `ROLLBACK TO x` keeps `x` and drops
//! the later ones; `RELEASE SAVEPOINT x` drops `x` and the later ones. Names compare
//! without regard to letter case, as MariaDB compares them.

use crate::error::VtError;
use crate::rewrite::{tokens, Kind, Token};

/// MySQL's ER_SP_DOES_NOT_EXIST.
const ER_SP_DOES_NOT_EXIST: u16 = 1305;

/// A savepoint name as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavepointName {
    /// The identifier as written (backquotes kept), to send on.
    sql: String,
    /// The name without quotes, as MySQL shows it in errors.
    display: String,
}

impl SavepointName {
    fn from_token(text: &str) -> Self {
        let display = match text.strip_prefix('`') {
            Some(inner) => inner.strip_suffix('`').unwrap_or(inner).replace("``", "`"),
            None => text.to_string(),
        };
        SavepointName {
            sql: text.to_string(),
            display,
        }
    }

    /// The key names are compared by (MariaDB compares them case-insensitively, with
    /// trailing blanks ignored).
    fn key(&self) -> String {
        self.display.trim_end_matches(' ').to_lowercase()
    }

    /// `SAVEPOINT <name>`, to replay on a shard.
    pub fn savepoint_sql(&self) -> String {
        format!("savepoint {}", self.sql)
    }

    /// MySQL's error for a name the transaction does not hold: 1305, 42000.
    pub fn not_found(&self) -> VtError {
        VtError::Engine {
            message: format!("SAVEPOINT {} does not exist", self.display),
            errno: ER_SP_DOES_NOT_EXIST,
            sqlstate: "42000".into(),
        }
    }
}

/// One savepoint statement, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavepointStatement {
    /// `SAVEPOINT x`.
    Savepoint(SavepointName),
    /// `ROLLBACK [WORK] TO [SAVEPOINT] x`.
    RollbackTo(SavepointName),
    /// `RELEASE SAVEPOINT x`.
    Release(SavepointName),
}

impl SavepointStatement {
    /// Parses one of the three statements (comments allowed, one trailing `;`).
    pub fn parse(sql: &str) -> Result<Self, VtError> {
        let toks = tokens(sql);
        let text = |t: &Token| &sql[t.start..t.end];
        let mut words = toks.iter().peekable();
        let mut next_is = |word: &str| {
            words
                .next_if(|t| t.kind == Kind::Word && text(t).eq_ignore_ascii_case(word))
                .is_some()
        };
        let stmt: fn(SavepointName) -> SavepointStatement;
        if next_is("savepoint") {
            stmt = SavepointStatement::Savepoint;
        } else if next_is("rollback") {
            next_is("work");
            if !next_is("to") {
                return Err(syntax(sql));
            }
            next_is("savepoint");
            stmt = SavepointStatement::RollbackTo;
        } else if next_is("release") && next_is("savepoint") {
            stmt = SavepointStatement::Release;
        } else {
            return Err(syntax(sql));
        }
        let name = match words.next() {
            Some(t) if t.kind == Kind::Word => SavepointName::from_token(text(t)),
            _ => return Err(syntax(sql)),
        };
        words.next_if(|t| t.kind == Kind::Punct && text(t) == ";");
        if words.next().is_some() {
            return Err(syntax(sql));
        }
        Ok(stmt(name))
    }
}

fn syntax(sql: &str) -> VtError {
    match sql::parse::parse(sql) {
        Err(e) => e.into(),
        Ok(_) => VtError::Sql(sql::error::SqlError::Syntax(format!(
            "syntax error in savepoint statement: {sql}"
        ))),
    }
}

/// The savepoints of the open transaction, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Savepoints(Vec<SavepointName>);

impl Savepoints {
    /// `SAVEPOINT x`: an older `x` is dropped, the new one goes last.
    pub fn set(&mut self, name: SavepointName) {
        let key = name.key();
        self.0.retain(|s| s.key() != key);
        self.0.push(name);
    }

    /// The position of `name`, or MySQL's 1305 error.
    pub fn find(&self, name: &SavepointName) -> Result<usize, VtError> {
        let key = name.key();
        self.0
            .iter()
            .position(|s| s.key() == key)
            .ok_or_else(|| name.not_found())
    }

    /// `ROLLBACK TO` the savepoint at `at`: it stays, later ones go.
    pub fn rollback_to(&mut self, at: usize) {
        self.0.truncate(at + 1);
    }

    /// `RELEASE SAVEPOINT` at `at`: it and later ones go.
    pub fn release(&mut self, at: usize) {
        self.0.truncate(at);
    }

    /// Forgets them all (the transaction ended).
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The statements that give a new shard transaction the same savepoints, in order.
    pub fn replay(&self) -> Vec<String> {
        self.0.iter().map(SavepointName::savepoint_sql).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(sql: &str) -> SavepointName {
        match SavepointStatement::parse(&format!("savepoint {sql}")).unwrap() {
            SavepointStatement::Savepoint(n) => n,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_the_three_statements() {
        use SavepointStatement::*;
        let p = |s: &str| SavepointStatement::parse(s).unwrap();
        assert_eq!(p("SAVEPOINT a"), Savepoint(name("a")));
        assert_eq!(p("rollback to a;"), RollbackTo(name("a")));
        assert_eq!(p("ROLLBACK WORK TO SAVEPOINT a"), RollbackTo(name("a")));
        assert_eq!(p("/* c */ release savepoint `a b`"), Release(name("`a b`")));
        for bad in [
            "release a",
            "rollback",
            "savepoint",
            "savepoint a b",
            "rollback to 'a'",
        ] {
            assert!(SavepointStatement::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoted_names_are_sent_as_written_and_shown_unquoted() {
        let n = name("`x``y`");
        assert_eq!(n.savepoint_sql(), "savepoint `x``y`");
        let e = n.not_found();
        assert_eq!(e.to_string(), "SAVEPOINT x`y does not exist");
        assert_eq!((e.errno(), e.sqlstate()), (1305, "42000"));
    }

    #[test]
    fn list_follows_mysql() {
        let mut s = Savepoints::default();
        for n in ["a", "b", "c"] {
            s.set(name(n));
        }
        // A name taken again moves last.
        s.set(name("A"));
        assert_eq!(s.replay(), ["savepoint b", "savepoint c", "savepoint A"]);
        // ROLLBACK TO keeps the savepoint, drops the later ones.
        let at = s.find(&name("`C`")).unwrap();
        s.rollback_to(at);
        assert_eq!(s.replay(), ["savepoint b", "savepoint c"]);
        // RELEASE drops it and the later ones.
        let at = s.find(&name("b")).unwrap();
        s.release(at);
        assert!(s.is_empty());
        assert_eq!(s.find(&name("b")).unwrap_err().errno(), 1305);
    }
}
