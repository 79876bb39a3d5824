//! Text rewrites applied to a statement before it goes to a tablet, done on tokens (quotes
//! and comments are skipped, so literals are never touched) instead of re-printing an AST:
//! - `ks.table` qualifiers naming a keyspace are dropped (the tablet's database is `vt_ks`);
//! - `database()`/`schema()`, `last_insert_id()`, `found_rows()`, `row_count()`,
//!   `@@version` and `@@version_comment` become vtgate's values, as Vitess's normaliser does;
//! - user variables `@x` become their session values (NULL when unset).
//!
//! A substituted value that is a whole select item keeps the name MariaDB would give the
//! column (`select database()` answers a column named `database()`): it gets an alias with
//! the text it replaced.

use std::borrow::Cow;
use std::collections::BTreeMap;

/// The values the rewrites substitute.
pub struct RewriteContext<'a> {
    /// Whether a name is a keyspace.
    pub is_keyspace: &'a dyn Fn(&str) -> bool,
    /// `database()`: the session target string (None: NULL).
    pub database: Option<&'a str>,
    /// `last_insert_id()`.
    pub last_insert_id: u64,
    /// `found_rows()`.
    pub found_rows: u64,
    /// `row_count()`.
    pub row_count: i64,
    /// `@@version`.
    pub version: &'a str,
    /// `@@version_comment`.
    pub version_comment: &'a str,
    /// User variables: lower-case name → SQL literal.
    pub user_vars: &'a BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Identifier or keyword (possibly backquoted).
    Word,
    /// `@name` or `@@name`.
    Var,
    /// A quoted string.
    Str,
    /// One punctuation character.
    Punct,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Bytes that continue an identifier, by value: the tokeniser's innermost test, one load.
const IDENT: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80;
        c += 1;
    }
    table
};

fn is_ident(c: u8) -> bool {
    IDENT[usize::from(c)]
}

/// Tokens of `sql`, without blanks and comments (executable comments' bodies are tokens).
pub(crate) fn tokens(sql: &str) -> Vec<Token> {
    first_tokens(sql, usize::MAX)
}

/// The first `limit` tokens of `sql` (all of them when it has fewer): what a check that
/// decides on a statement's first words needs, without scanning the rest.
pub(crate) fn first_tokens(sql: &str, limit: usize) -> Vec<Token> {
    let b = sql.as_bytes();
    // A token and the blank after it take three bytes or more in most statements: one
    // allocation instead of growing 4, 8, 16, … (capped, so a huge INSERT grows as usual).
    let mut out = Vec::with_capacity(limit.min(b.len() / 3 + 1).min(1024));
    let mut i = 0;
    while i < b.len() && out.len() < limit {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'#'
            || (c == b'-'
                && b.get(i + 1) == Some(&b'-')
                && b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()))
        {
            i = b[i..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p + 1);
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            if b.get(i + 2) == Some(&b'!') {
                i += 3;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            } else {
                i = sql[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            }
            continue;
        }
        if c == b'*' && b.get(i + 1) == Some(&b'/') {
            i += 2;
            continue;
        }
        let kind = match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && c != b'`' {
                        i += 2;
                        continue;
                    }
                    if b[i] == c {
                        if b.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i = (i + 1).min(b.len());
                if c == b'`' {
                    Kind::Word
                } else {
                    Kind::Str
                }
            }
            b'@' => {
                i += 1;
                if b.get(i) == Some(&b'@') {
                    i += 1;
                }
                if matches!(b.get(i), Some(b'\'' | b'"' | b'`')) {
                    let q = b[i];
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += 1;
                    }
                    i = (i + 1).min(b.len());
                } else {
                    while i < b.len() && (is_ident(b[i]) || b[i] == b'.') {
                        i += 1;
                    }
                }
                Kind::Var
            }
            c if is_ident(c) => {
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                Kind::Word
            }
            _ => {
                // Bytes from 0x80 up are word bytes: punctuation is one ASCII byte.
                i += 1;
                Kind::Punct
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        match ch {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn unquote_ident(s: &str) -> &str {
    crate::settings::unquote(s)
}

/// Whether the statement assigns a user variable (`@v := ...` or `... INTO @v`). vtgate keeps
/// user variables in the session and substitutes their values into statements, so a statement
/// that also assigns one would read stale values (`SELECT @n := @n + 1 ...` numbering every row
/// NULL): such statements are refused rather than answered wrongly.
pub fn assigns_user_variable(sql: &str) -> bool {
    // Both forms name a user variable, which starts with `@`: most statements have none.
    if !sql.contains('@') {
        return false;
    }
    let toks = tokens(sql);
    let text = |t: &Token| &sql[t.start..t.end];
    let is_user_var = |t: &Token| t.kind == Kind::Var && !text(t).starts_with("@@");
    toks.iter().enumerate().any(|(i, t)| {
        let punct = |k: usize, p: &str| {
            toks.get(k)
                .is_some_and(|t| t.kind == Kind::Punct && text(t) == p)
        };
        (is_user_var(t) && punct(i + 1, ":") && punct(i + 2, "="))
            || (t.kind == Kind::Word
                && text(t).eq_ignore_ascii_case("into")
                && toks.get(i + 1).is_some_and(is_user_var))
    })
}

/// Applies the rewrites; returns the text unchanged (borrowed) when nothing applies.
pub fn rewrite<'s>(sql: &'s str, ctx: &RewriteContext<'_>) -> Cow<'s, str> {
    let b = sql.as_bytes();
    if !b.iter().any(|&c| c == b'@' || c == b'.' || c == b'(') {
        return Cow::Borrowed(sql);
    }
    let toks = tokens(sql);
    let bare = bare_names(sql, &toks);
    let text = |t: &Token| &sql[t.start..t.end];
    let punct = |i: usize, p: &str| {
        toks.get(i)
            .is_some_and(|t| t.kind == Kind::Punct && text(t) == p)
    };
    // (start, end, replacement)
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        let after_dot = i > 0 && punct(i - 1, ".");
        match t.kind {
            Kind::Word if !after_dot => {
                let word = text(&t);
                // `fn ( )` with no arguments.
                if punct(i + 1, "(") && punct(i + 2, ")") {
                    let lower = word.to_ascii_lowercase();
                    let value = match lower.as_str() {
                        "database" | "schema" => {
                            Some(ctx.database.map_or_else(|| "NULL".to_string(), quote))
                        }
                        "last_insert_id" => Some(ctx.last_insert_id.to_string()),
                        "found_rows" => Some(ctx.found_rows.to_string()),
                        "row_count" => Some(ctx.row_count.to_string()),
                        _ => None,
                    };
                    if let Some(v) = value {
                        let v = named(sql, &toks, i, i + 2, v);
                        edits.push((t.start, toks[i + 2].end, v));
                        i += 3;
                        continue;
                    }
                }
                // `ks . name` with ks a keyspace.
                if punct(i + 1, ".")
                    && toks.get(i + 2).is_some_and(|n| n.kind == Kind::Word)
                    && (ctx.is_keyspace)(unquote_ident(word))
                    && !bare.contains(unquote_ident(word))
                {
                    edits.push((t.start, toks[i + 2].start, String::new()));
                    i += 2;
                    continue;
                }
            }
            Kind::Var => {
                let name = text(&t);
                if let Some(sys) = name.strip_prefix("@@") {
                    let sys = sys.to_ascii_lowercase();
                    let sys = sys.strip_prefix("session.").unwrap_or(&sys);
                    let value = match sys {
                        "version" => Some(quote(ctx.version)),
                        "version_comment" => Some(quote(ctx.version_comment)),
                        _ => None,
                    };
                    if let Some(v) = value {
                        edits.push((t.start, t.end, named(sql, &toks, i, i, v)));
                    }
                } else if !punct(i + 1, ":") {
                    let key = unquote_ident(&name[1..]).to_ascii_lowercase();
                    let value = ctx
                        .user_vars
                        .get(&key)
                        .cloned()
                        .unwrap_or_else(|| "NULL".into());
                    edits.push((t.start, t.end, named(sql, &toks, i, i, value)));
                }
            }
            _ => {}
        }
        i += 1;
    }
    if edits.is_empty() {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut pos = 0;
    for (start, end, rep) in edits {
        out.push_str(&sql[pos..start]);
        out.push_str(&rep);
        pos = end;
    }
    out.push_str(&sql[pos..]);
    Cow::Owned(out)
}

/// `value`, with ``AS `text` `` added when tokens `first..=last` are a whole select item
/// without an alias, so the column keeps the name MariaDB derives from the text.
fn named(sql: &str, toks: &[Token], first: usize, last: usize, value: String) -> String {
    let word = |i: usize| {
        toks.get(i)
            .filter(|t| t.kind == Kind::Word)
            .map(|t| sql[t.start..t.end].to_ascii_lowercase())
    };
    let punct = |i: usize, p: &str| {
        toks.get(i)
            .is_some_and(|t| t.kind == Kind::Punct && &sql[t.start..t.end] == p)
    };
    let starts_item = first > 0
        && (punct(first - 1, ",")
            || word(first - 1).is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "select"
                        | "distinct"
                        | "distinctrow"
                        | "all"
                        | "high_priority"
                        | "straight_join"
                ) || w.starts_with("sql_")
            }));
    let ends_item = last + 1 == toks.len()
        || punct(last + 1, ",")
        || punct(last + 1, ";")
        || word(last + 1).is_some_and(|w| {
            matches!(
                w.as_str(),
                "from"
                    | "where"
                    | "group"
                    | "having"
                    | "order"
                    | "limit"
                    | "into"
                    | "union"
                    | "except"
                    | "intersect"
                    | "window"
                    | "for"
                    | "lock"
            )
        });
    if !(starts_item && ends_item && in_select_list(sql, toks, first)) {
        return value;
    }
    let text = &sql[toks[first].start..toks[last].end];
    format!("{value} AS `{}`", text.replace('`', "``"))
}

/// Whether token `i` is in the select list of the SELECT it belongs to: walking back at its
/// own parenthesis depth, `select` comes before any clause keyword or opening parenthesis.
fn in_select_list(sql: &str, toks: &[Token], i: usize) -> bool {
    let mut depth = 0usize;
    for t in toks[..i].iter().rev() {
        let text = &sql[t.start..t.end];
        match t.kind {
            Kind::Punct if text == ")" => depth += 1,
            Kind::Punct if text == "(" => {
                if depth == 0 {
                    return false;
                }
                depth -= 1;
            }
            Kind::Word if depth == 0 => {
                let w = text.to_ascii_lowercase();
                match w.as_str() {
                    "select" => return true,
                    "from" | "where" | "group" | "having" | "order" | "limit" | "on" | "using"
                    | "set" | "values" | "value" | "into" | "update" | "join" | "by" | "union"
                    | "call" | "do" => return false,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    false
}

/// Names the statement uses on their own, next to no `.`: a keyspace name used that way is a
/// table or an alias there (`select customer.email from customer` in a cluster with a
/// keyspace `customer`), so `name.` before a column is not read as a keyspace qualifier.
fn bare_names<'s>(sql: &'s str, toks: &[Token]) -> std::collections::BTreeSet<&'s str> {
    let is_dot =
        |t: Option<&Token>| t.is_some_and(|t| t.kind == Kind::Punct && &sql[t.start..t.end] == ".");
    toks.iter()
        .enumerate()
        .filter(|(i, t)| {
            t.kind == Kind::Word
                && !is_dot(i.checked_sub(1).and_then(|k| toks.get(k)))
                && !is_dot(toks.get(i + 1))
        })
        .map(|(_, t)| unquote_ident(&sql[t.start..t.end]))
        .collect()
}

/// The names used as qualifiers (`name.x`) in `sql` for which `is_keyspace` holds.
pub fn qualifiers(
    sql: &str,
    is_keyspace: &dyn Fn(&str) -> bool,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    if !sql.contains('.') {
        return out;
    }
    let toks = tokens(sql);
    let bare = bare_names(sql, &toks);
    for w in toks.windows(3) {
        let dot = w[1].kind == Kind::Punct && &sql[w[1].start..w[1].end] == ".";
        let before_dot = w[0].start == 0 || !sql[..w[0].start].ends_with('.');
        if w[0].kind == Kind::Word && dot && w[2].kind == Kind::Word && before_dot {
            let name = unquote_ident(&sql[w[0].start..w[0].end]);
            if is_keyspace(name) && !bare.contains(name) {
                out.insert(name.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyspace_name_used_as_a_table_is_not_a_qualifier() {
        let is_ks = |k: &str| k == "customer" || k == "commerce";
        let q = |sql: &str| qualifiers(sql, &is_ks).into_iter().collect::<Vec<_>>();
        assert!(q("select customer.email from customer").is_empty());
        assert!(q("select customer.email from corder join customer on customer.customer_id = corder.customer_id").is_empty());
        assert_eq!(q("select email from customer.customer"), ["customer"]);
        assert_eq!(q("select c.email from customer.customer c"), ["customer"]);
        assert_eq!(q("select * from commerce.product"), ["commerce"]);
    }

    #[test]
    fn user_variable_assignments_are_found() {
        assert!(assigns_user_variable(
            "select @n := @n + 1 from t, (select @n := 0) r"
        ));
        assert!(assigns_user_variable("SELECT max(id) INTO @m FROM t"));
        assert!(assigns_user_variable("select 1 into @a, @b"));
        assert!(!assigns_user_variable("select @n + 1, @@version from t"));
        assert!(!assigns_user_variable("select ':=' from t where a = @x"));
        assert!(!assigns_user_variable("insert into t values (@x)"));
        assert!(!assigns_user_variable("select 1 into outfile '/tmp/x'"));
        assert!(!assigns_user_variable("select c from t where id := 1"));
    }

    fn ctx<'a>(
        vars: &'a BTreeMap<String, String>,
        ks: &'a dyn Fn(&str) -> bool,
    ) -> RewriteContext<'a> {
        RewriteContext {
            is_keyspace: ks,
            database: Some("commerce@replica"),
            last_insert_id: 42,
            found_rows: 3,
            row_count: 1,
            version: "8.0.40-Vitess",
            version_comment: "vtgate-rs",
            user_vars: vars,
        }
    }

    #[test]
    fn substitutes_vtgate_values() {
        let vars = BTreeMap::from([("x".to_string(), "5".to_string())]);
        let is_ks = |k: &str| k == "commerce";
        let c = ctx(&vars, &is_ks);
        assert_eq!(
            rewrite(
                "select database(), LAST_INSERT_ID( ), @x, @y, @@version from t",
                &c
            ),
            "select 'commerce@replica' AS `database()`, 42 AS `LAST_INSERT_ID( )`, 5 AS `@x`, \
             NULL AS `@y`, '8.0.40-Vitess' AS `@@version` from t"
        );
        // Only whole select items without an alias are named.
        for (sql, want) in [
            ("select @x as v, @x v2", "select 5 as v, 5 v2"),
            (
                "select concat(@x, database())",
                "select concat(5, 'commerce@replica')",
            ),
            (
                "select * from t where a in (1, @x, 2)",
                "select * from t where a in (1, 5, 2)",
            ),
            (
                "update t set a = @x, b = @y",
                "update t set a = 5, b = NULL",
            ),
            (
                "insert into t values (@x, 1)",
                "insert into t values (5, 1)",
            ),
            (
                "select a from t where b = @x",
                "select a from t where b = 5",
            ),
            (
                "select (select @x from dual), distinct_count",
                "select (select 5 AS `@x` from dual), distinct_count",
            ),
            (
                "select a, @x from t union select b, found_rows()",
                "select a, 5 AS `@x` from t union select b, 3 AS `found_rows()`",
            ),
        ] {
            assert_eq!(rewrite(sql, &c), want, "{sql}");
        }
        assert_eq!(
            rewrite(
                "select * from commerce.customer c join `commerce`.corder o",
                &c
            ),
            "select * from customer c join corder o"
        );
    }

    #[test]
    fn leaves_literals_comments_and_others_alone() {
        let vars = BTreeMap::new();
        let is_ks = |k: &str| k == "commerce";
        let c = ctx(&vars, &is_ks);
        for sql in [
            "select 'database()', \"@x\", 'a\\'@b' from t",
            "select /* database() @x */ 1",
            "select t.database() from other.t",
            "select count(*) from t -- @x\n",
            "select @@sql_mode, x.y from t",
            "select @v := 1",
        ] {
            assert!(matches!(rewrite(sql, &c), Cow::Borrowed(_)), "{sql}");
        }
    }
}
