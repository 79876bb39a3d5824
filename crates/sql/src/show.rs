//! The `SHOW` statements vtgate answers itself (Vitess's `planbuilder/show.go`),
//! parsed by keywords because sqlparser knows none of the `VITESS_*` ones,
//! and a SQL `LIKE` matcher to filter their rows. Other `SHOW`s are
//! [`ShowKind::Other`]: pass them through to a tablet.

use crate::classify::Tokens;
use crate::error::SqlError;
use crate::literal::unescape_quoted;

/// Which `SHOW` a statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowKind {
    /// `SHOW DATABASES` / `SHOW SCHEMAS` (keyspaces plus the system schemas).
    Databases,
    /// `SHOW KEYSPACES` / `SHOW VITESS_KEYSPACES`.
    Keyspaces,
    /// `SHOW [FULL] TABLES [FROM|IN ks]`.
    Tables,
    /// `SHOW VITESS_SHARDS`.
    VitessShards,
    /// `SHOW VITESS_TABLETS`.
    VitessTablets,
    /// `SHOW VSCHEMA TABLES`.
    VSchemaTables,
    /// `SHOW VSCHEMA KEYSPACES`.
    VSchemaKeyspaces,
    /// `SHOW VSCHEMA VINDEXES [ON t]`.
    VSchemaVindexes,
    /// `SHOW VITESS_TARGET`.
    VitessTarget,
    /// `SHOW WARNINGS`.
    Warnings,
    /// `SHOW ENGINES`.
    Engines,
    /// `SHOW PLUGINS`.
    Plugins,
    /// Any other `SHOW`: pass-through.
    Other,
}

/// A row filter of a `SHOW`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShowFilter {
    /// `LIKE 'pattern'`, the pattern unescaped.
    Like(String),
    /// `WHERE expr`, the expression text as written.
    Where(String),
}

/// A parsed `SHOW` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Show {
    /// Which `SHOW`.
    pub kind: ShowKind,
    /// `SHOW FULL TABLES`.
    pub full: bool,
    /// The keyspace of `FROM ks` / `IN ks`, unquoted.
    pub from: Option<String>,
    /// The table of `VINDEXES ON t`, unquoted (may be `ks.t`).
    pub on: Option<String>,
    /// The `LIKE` or `WHERE` filter.
    pub filter: Option<ShowFilter>,
}

/// The kind of a `SHOW`, given the text after the `SHOW` keyword.
pub fn show_kind(rest: &str) -> ShowKind {
    let mut t = Tokens::new(rest);
    let first = t.next().unwrap_or("");
    let is = |w: &str, k: &str| w.eq_ignore_ascii_case(k);
    if is(first, "databases") || is(first, "schemas") {
        ShowKind::Databases
    } else if is(first, "keyspaces") || is(first, "vitess_keyspaces") {
        ShowKind::Keyspaces
    } else if is(first, "tables") {
        ShowKind::Tables
    } else if is(first, "full") {
        if is(t.next().unwrap_or(""), "tables") {
            ShowKind::Tables
        } else {
            ShowKind::Other
        }
    } else if is(first, "vitess_shards") {
        ShowKind::VitessShards
    } else if is(first, "vitess_tablets") {
        ShowKind::VitessTablets
    } else if is(first, "vitess_target") {
        ShowKind::VitessTarget
    } else if is(first, "warnings") {
        ShowKind::Warnings
    } else if is(first, "engines") {
        ShowKind::Engines
    } else if is(first, "plugins") {
        ShowKind::Plugins
    } else if is(first, "vschema") {
        let second = t.next().unwrap_or("");
        if is(second, "tables") {
            ShowKind::VSchemaTables
        } else if is(second, "keyspaces") {
            ShowKind::VSchemaKeyspaces
        } else if is(second, "vindexes") {
            ShowKind::VSchemaVindexes
        } else {
            ShowKind::Other
        }
    } else {
        ShowKind::Other
    }
}

/// Parses a whole `SHOW` statement (starting with `SHOW`).
pub fn parse_show(sql: &str) -> Result<Show, SqlError> {
    let mut t = Tokens::new(sql);
    let syntax = |near: &str| SqlError::Syntax(format!("syntax error near '{near}'"));
    match t.next() {
        Some(w) if w.eq_ignore_ascii_case("show") => {}
        other => return Err(syntax(other.unwrap_or(""))),
    }
    let rest = t.rest();
    let kind = show_kind(rest);
    let mut show = Show {
        kind,
        full: false,
        from: None,
        on: None,
        filter: None,
    };
    if kind == ShowKind::Other {
        return Ok(show);
    }
    // Skip the words that name the kind.
    let mut words = match kind {
        ShowKind::VSchemaTables | ShowKind::VSchemaKeyspaces | ShowKind::VSchemaVindexes => 2,
        _ => 1,
    };
    if kind == ShowKind::Tables
        && t.rest()
            .get(..4)
            .is_some_and(|w| w.eq_ignore_ascii_case("full"))
    {
        show.full = true;
        words = 2;
    }
    for _ in 0..words {
        t.next();
    }
    while let Some(w) = t.next() {
        if w == ";" {
            continue;
        }
        if (w.eq_ignore_ascii_case("from") || w.eq_ignore_ascii_case("in"))
            && kind == ShowKind::Tables
        {
            show.from = Some(unquote_ident(t.next().ok_or_else(|| syntax(w))?));
        } else if w.eq_ignore_ascii_case("on") && kind == ShowKind::VSchemaVindexes {
            show.on = Some(qualified_name(&mut t).ok_or_else(|| syntax(w))?);
        } else if w.eq_ignore_ascii_case("like") {
            let pat = t.next().ok_or_else(|| syntax(w))?;
            let b = pat.as_bytes();
            if !(b.len() >= 2 && (b[0] == b'\'' || b[0] == b'"') && b[b.len() - 1] == b[0]) {
                return Err(syntax(pat));
            }
            let bytes = unescape_quoted(&pat[1..pat.len() - 1], b[0]);
            show.filter = Some(ShowFilter::Like(
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        } else if w.eq_ignore_ascii_case("where") {
            let cond = t.rest().trim_end().trim_end_matches(';').trim_end();
            show.filter = Some(ShowFilter::Where(cond.to_string()));
            break;
        } else {
            return Err(syntax(w));
        }
    }
    Ok(show)
}

/// A pass-through `SHOW` that names the database its rows come from with `{FROM | IN} db`:
/// `SHOW CREATE {DATABASE | SCHEMA} [IF NOT EXISTS] db`: the database, and whether `IF NOT
/// EXISTS` was given. `None` for every other statement.
pub fn show_create_database(sql: &str) -> Option<(String, bool)> {
    let mut t = Tokens::new(sql);
    let is = |w: Option<&str>, k: &str| w.is_some_and(|w| w.eq_ignore_ascii_case(k));
    if !is(t.next(), "show") || !is(t.next(), "create") {
        return None;
    }
    crate::database_ddl::database_object(&mut t, true)
}

/// `SHOW [FULL] {COLUMNS | FIELDS} FROM t FROM db`, `SHOW {INDEX | INDEXES | KEYS} FROM t IN db`,
/// `SHOW TABLE STATUS FROM db`, `SHOW TRIGGERS FROM db`, `SHOW EVENTS FROM db`,
/// `SHOW OPEN TABLES FROM db`. Returns the database and the statement without that clause,
/// which is how Vitess sends it to a tablet of the keyspace (whose database has another
/// name). `None` for every other statement.
pub fn show_database(sql: &str) -> Option<(String, String)> {
    let mut t = Tokens::new(sql);
    let is = |w: Option<&str>, k: &str| w.is_some_and(|w| w.eq_ignore_ascii_case(k));
    let from_or_in = |w: Option<&str>| is(w, "from") || is(w, "in");
    if !is(t.next(), "show") {
        return None;
    }
    let mut w = t.next();
    if is(w, "extended") {
        w = t.next();
    }
    if is(w, "full") {
        w = t.next();
    }
    let named_table = ["columns", "fields", "index", "indexes", "keys"]
        .iter()
        .any(|k| is(w, k));
    if named_table {
        if !from_or_in(t.next()) {
            return None;
        }
        qualified_name(&mut t)?;
    } else if is(w, "table") || is(w, "open") {
        let second = if is(w, "table") { "status" } else { "tables" };
        if !is(t.next(), second) {
            return None;
        }
    } else if !(is(w, "triggers") || is(w, "events")) {
        return None;
    }
    let start = t.offset();
    if !from_or_in(t.next()) {
        return None;
    }
    let database = unquote_ident(t.next()?);
    let end = t.offset();
    let rest = &sql[end..];
    let sep = if rest.is_empty() { "" } else { " " };
    Some((database, format!("{}{sep}{rest}", sql[..start].trim_end())))
}

pub(crate) fn unquote_ident(w: &str) -> String {
    if w.len() >= 2 && w.starts_with('`') && w.ends_with('`') {
        w[1..w.len() - 1].replace("``", "`")
    } else {
        w.to_string()
    }
}

/// `t` or `ks.t`, each part possibly backquoted.
fn qualified_name(t: &mut Tokens<'_>) -> Option<String> {
    let mut name = unquote_ident(t.next()?);
    if t.rest().starts_with('.') {
        t.next();
        name.push('.');
        name.push_str(&unquote_ident(t.next()?));
    }
    Some(name)
}

/// SQL `LIKE`: `%` matches any run, `_` one character, `\` escapes the
/// next one; letters compare case-insensitively (MySQL's default collation).
pub fn like_match(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let eq = |a: char, b: char| a == b || a.to_lowercase().eq(b.to_lowercase());
    let (mut pi, mut vi) = (0, 0);
    // Position after the last `%` seen, and the value index it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        let step = match p.get(pi) {
            Some('%') => {
                star = Some((pi + 1, vi));
                pi += 1;
                continue;
            }
            Some('_') => Some(1),
            Some('\\') if pi + 1 < p.len() => eq(p[pi + 1], v[vi]).then_some(2),
            Some(&c) => eq(c, v[vi]).then_some(1),
            None => None,
        };
        match (step, star) {
            (Some(n), _) => {
                pi += n;
                vi += 1;
            }
            (None, Some((sp, sv))) => {
                pi = sp;
                vi = sv + 1;
                star = Some((sp, sv + 1));
            }
            (None, None) => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_create_database_names_its_database() {
        assert_eq!(
            show_create_database("SHOW CREATE DATABASE `customer`"),
            Some(("customer".into(), false))
        );
        assert_eq!(
            show_create_database("show create schema if not exists ks"),
            Some(("ks".into(), true))
        );
        assert_eq!(show_create_database("show create table t"), None);
        assert_eq!(show_create_database("show create database if ks"), None);
    }

    #[test]
    fn show_database_takes_the_from_clause_out() {
        let db = |sql| show_database(sql);
        let some = |d: &str, s: &str| Some((d.to_string(), s.to_string()));
        assert_eq!(
            db("show full columns from t from customer like 'a%'"),
            some("customer", "show full columns from t like 'a%'")
        );
        assert_eq!(
            db("SHOW FIELDS IN `t` IN `customer`"),
            some("customer", "SHOW FIELDS IN `t`")
        );
        assert_eq!(
            db("show extended index from t in ks where Key_name = 'PRIMARY'"),
            some(
                "ks",
                "show extended index from t where Key_name = 'PRIMARY'"
            )
        );
        assert_eq!(db("show keys from ks.t"), None);
        assert_eq!(
            db("show table status from customer"),
            some("customer", "show table status")
        );
        assert_eq!(
            db("show table status in customer like 'c%'"),
            some("customer", "show table status like 'c%'")
        );
        assert_eq!(db("show triggers from ks"), some("ks", "show triggers"));
        assert_eq!(db("show open tables in ks"), some("ks", "show open tables"));
        assert_eq!(db("show events from ks"), some("ks", "show events"));
        assert_eq!(db("show table status"), None);
        assert_eq!(db("show columns from t"), None);
        assert_eq!(db("show tables from ks"), None);
        assert_eq!(db("show create table ks.t"), None);
        assert_eq!(db("select 1"), None);
    }

    fn show(sql: &str) -> Show {
        parse_show(sql).unwrap()
    }

    #[test]
    fn kinds() {
        let cases = [
            ("show databases", ShowKind::Databases),
            ("SHOW SCHEMAS", ShowKind::Databases),
            ("show keyspaces", ShowKind::Keyspaces),
            ("show vitess_keyspaces", ShowKind::Keyspaces),
            ("show tables", ShowKind::Tables),
            ("show full tables", ShowKind::Tables),
            ("show vitess_shards", ShowKind::VitessShards),
            ("show vitess_tablets", ShowKind::VitessTablets),
            ("show vschema tables", ShowKind::VSchemaTables),
            ("show vschema keyspaces", ShowKind::VSchemaKeyspaces),
            ("show vschema vindexes", ShowKind::VSchemaVindexes),
            ("show vitess_target", ShowKind::VitessTarget),
            ("show warnings", ShowKind::Warnings),
            ("show engines", ShowKind::Engines),
            ("show plugins", ShowKind::Plugins),
            ("show create table t", ShowKind::Other),
            ("show full processlist", ShowKind::Other),
            ("show variables like 'x'", ShowKind::Other),
        ];
        for (sql, kind) in cases {
            assert_eq!(show(sql).kind, kind, "{sql}");
        }
    }

    #[test]
    fn filters_and_qualifiers() {
        let s = show("show databases like 'comm%'");
        assert_eq!(s.filter, Some(ShowFilter::Like("comm%".into())));
        let s = show("SHOW FULL TABLES FROM `commerce` LIKE 'cust\\_%';");
        assert!(s.full);
        assert_eq!(s.from.as_deref(), Some("commerce"));
        assert_eq!(s.filter, Some(ShowFilter::Like("cust\\_%".into())));
        let s = show("show tables in ks where Tables_in_ks = 'a'");
        assert_eq!(s.from.as_deref(), Some("ks"));
        assert_eq!(
            s.filter,
            Some(ShowFilter::Where("Tables_in_ks = 'a'".into()))
        );
        let s = show("show vschema vindexes on ks.`user`");
        assert_eq!(s.on.as_deref(), Some("ks.user"));
        assert_eq!(
            show("show vitess_tablets like 'host%'").filter,
            Some(ShowFilter::Like("host%".into()))
        );
    }

    #[test]
    fn syntax_errors() {
        assert!(parse_show("show databases like").is_err());
        assert!(parse_show("show databases like x").is_err());
        assert!(parse_show("show tables bogus").is_err());
        assert!(parse_show("select 1").is_err());
    }

    #[test]
    fn like_matching() {
        assert!(like_match("comm%", "commerce"));
        assert!(like_match("COMM%", "commerce"));
        assert!(like_match("%merce", "commerce"));
        assert!(like_match("c_mmerce", "commerce"));
        assert!(like_match("%", ""));
        assert!(like_match("%m%r%", "commerce"));
        assert!(!like_match("comm", "commerce"));
        assert!(!like_match("c_", "commerce"));
        assert!(!like_match("_", ""));
        assert!(like_match("a\\_b", "a_b"));
        assert!(!like_match("a\\_b", "axb"));
        assert!(like_match("a\\%", "a%"));
        assert!(!like_match("a\\%", "ab"));
        assert!(like_match("%-80", "ks/-80"));
        assert!(like_match("ÄB%", "äbc"));
        assert!(like_match("%a%b%c", "xaxbxbxc"));
    }
}
