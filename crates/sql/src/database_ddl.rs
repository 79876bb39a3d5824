//! `CREATE DATABASE` and `DROP DATABASE` (or `SCHEMA`): keyspaces are made with vtctl, so
//! vtgate answers these itself, as Vitess's planner does (see vtgate's executor).

use crate::classify::Tokens;
use crate::show::unquote_ident;

/// A statement creating or dropping a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseDdl {
    /// `CREATE DATABASE [IF NOT EXISTS] name ...`.
    Create {
        /// The database (keyspace) name.
        name: String,
        /// `IF NOT EXISTS` was given.
        if_not_exists: bool,
    },
    /// `DROP DATABASE [IF EXISTS] name`.
    Drop {
        /// The database (keyspace) name.
        name: String,
        /// `IF EXISTS` was given.
        if_exists: bool,
    },
}

/// The database statement `sql` is, if it is one (executable comments count as code:
/// `CREATE DATABASE /*!32312 IF NOT EXISTS*/ ks`, as dump tools write it).
pub fn recognise(sql: &str) -> Option<DatabaseDdl> {
    let mut t = Tokens::new(sql);
    let create = match t.next() {
        Some(w) if w.eq_ignore_ascii_case("create") => true,
        Some(w) if w.eq_ignore_ascii_case("drop") => false,
        _ => return None,
    };
    let (name, guarded) = database_object(&mut t, create)?;
    Some(if create {
        DatabaseDdl::Create {
            name,
            if_not_exists: guarded,
        }
    } else {
        DatabaseDdl::Drop {
            name,
            if_exists: guarded,
        }
    })
}

/// `{DATABASE | SCHEMA} [IF [NOT] EXISTS] name` (with `NOT` when `not`): the name, and
/// whether the guard was given.
pub(crate) fn database_object(t: &mut Tokens<'_>, not: bool) -> Option<(String, bool)> {
    let is = |w: Option<&str>, k: &str| w.is_some_and(|w| w.eq_ignore_ascii_case(k));
    let object = t.next();
    if !is(object, "database") && !is(object, "schema") {
        return None;
    }
    let mut name = t.next()?;
    let guarded = is(Some(name), "if");
    if guarded {
        if (not && !is(t.next(), "not")) || !is(t.next(), "exists") {
            return None;
        }
        name = t.next()?;
    }
    Some((unquote_ident(name), guarded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_create_and_drop() {
        assert_eq!(
            recognise("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `customer`"),
            Some(DatabaseDdl::Create {
                name: "customer".into(),
                if_not_exists: true
            })
        );
        assert_eq!(
            recognise("create schema ks default character set utf8mb4"),
            Some(DatabaseDdl::Create {
                name: "ks".into(),
                if_not_exists: false
            })
        );
        assert_eq!(
            recognise("drop database if exists ks"),
            Some(DatabaseDdl::Drop {
                name: "ks".into(),
                if_exists: true
            })
        );
        assert_eq!(recognise("drop table ks"), None);
        assert_eq!(recognise("create table database (id int)"), None);
        assert_eq!(recognise("create database if ks"), None);
    }
}
