//! Vitess's sequence statement, `select next N values from seq` (`select next value from
//! seq` is `N = 1`; `N` may be a bind variable `:n`), recognised with a few tokens instead of
//! a parse: vtgate routes it to the sequence's keyspace, the primary tablet answers it from
//! its cached block of values. MariaDB's own `select next value for s` is not this statement.

/// A recognised `select next N values from t`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextValues {
    /// The database qualifier, if the statement named one.
    pub qualifier: Option<String>,
    /// The sequence table.
    pub table: String,
    /// How many values.
    pub count: Count,
}

/// The `N` of `select next N values`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Count {
    /// A literal (digits, possibly too large for an INT64).
    Literal(String),
    /// A bind variable (`:name`).
    Bind(String),
}

/// One token of the recogniser.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    /// A keyword, bare identifier or number.
    Word(&'a str),
    /// A backquoted identifier, unquoted.
    Quoted(String),
    /// `:name`.
    Bind(&'a str),
    Dot,
    Semicolon,
}

/// `sql` as a `select next ... values from t`, if it is one (`None` for anything else,
/// including MariaDB's `select next value for s`). Leading and trailing comments and one
/// trailing `;` are allowed.
pub fn recognise(sql: &str) -> Option<NextValues> {
    // A cheap test first: this runs on every statement.
    let head = sql.trim_start().as_bytes();
    let commented = head
        .first()
        .is_some_and(|c| matches!(c, b'/' | b'#' | b'-'));
    let select = head
        .get(..6)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"select"));
    if !commented && !select {
        return None;
    }
    // `select` followed by anything but `next` (or a comment) is not one either: the
    // common case, decided without tokenizing.
    if select && !commented {
        let rest = head[6..].trim_ascii_start();
        let next = rest
            .get(..4)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"next"));
        let comment = rest
            .first()
            .is_some_and(|c| matches!(c, b'/' | b'#' | b'-'));
        if !next && !comment {
            return None;
        }
    }
    let tokens = tokenize(sql, MAX_TOKENS)?;
    let mut t = tokens.as_slice();
    let word = |t: Option<&Token>, want: &str| matches!(t, Some(Token::Word(w)) if w.eq_ignore_ascii_case(want));
    if !word(t.first(), "select") || !word(t.get(1), "next") {
        return None;
    }
    t = &t[2..];
    let count = match t {
        [Token::Word(w), rest @ ..] if w.eq_ignore_ascii_case("value") => {
            t = rest;
            Count::Literal("1".into())
        }
        [Token::Word(n), Token::Word(v), rest @ ..]
            if n.bytes().all(|b| b.is_ascii_digit()) && v.eq_ignore_ascii_case("values") =>
        {
            t = rest;
            Count::Literal((*n).to_string())
        }
        [Token::Bind(name), Token::Word(v), rest @ ..] if v.eq_ignore_ascii_case("values") => {
            t = rest;
            Count::Bind((*name).to_string())
        }
        _ => return None,
    };
    if !word(t.first(), "from") {
        return None;
    }
    t = &t[1..];
    if let [rest @ .., Token::Semicolon] = t {
        t = rest;
    }
    let (qualifier, table) = match t {
        [name] => (None, identifier(name)?),
        [q, Token::Dot, name] => (Some(identifier(q)?), identifier(name)?),
        _ => return None,
    };
    Some(NextValues {
        qualifier,
        table,
        count,
    })
}

/// The name an identifier token stands for.
fn identifier(token: &Token) -> Option<String> {
    match token {
        Token::Word(w) if !w.bytes().all(|b| b.is_ascii_digit()) => Some((*w).to_string()),
        Token::Quoted(q) if !q.is_empty() => Some(q.clone()),
        _ => None,
    }
}

/// The most tokens the statement has: `select next N values from q . t ;`.
const MAX_TOKENS: usize = 9;

/// The tokens of `sql` without blanks and comments; `None` at any character the
/// recognised statement cannot hold (quotes other than backquotes, operators, ...) and as
/// soon as there are more than `max` (a long SELECT is not read to its end).
fn tokenize(sql: &str, max: usize) -> Option<Vec<Token<'_>>> {
    let b = sql.as_bytes();
    let word_byte = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if out.len() > max {
            return None;
        }
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'#' => i = sql[i..].find('\n').map_or(b.len(), |n| i + n),
            b'-' if b.get(i + 1) == Some(&b'-')
                && b.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) =>
            {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n)
            }
            // `/*! ... */` bodies are code to MariaDB: not a plain comment.
            b'/' if b.get(i + 1) == Some(&b'*') && b.get(i + 2) != Some(&b'!') => {
                i = i + 2 + sql[i + 2..].find("*/")? + 2;
            }
            b'`' => {
                let mut name = String::new();
                let mut j = i + 1;
                loop {
                    let end = j + sql[j..].find('`')?;
                    name.push_str(&sql[j..end]);
                    if b.get(end + 1) == Some(&b'`') {
                        name.push('`');
                        j = end + 2;
                    } else {
                        i = end + 1;
                        break;
                    }
                }
                out.push(Token::Quoted(name));
            }
            b':' => {
                let start = i + 1;
                let len = b[start..].iter().take_while(|c| word_byte(**c)).count();
                if len == 0 || !(b[start].is_ascii_alphabetic() || b[start] == b'_') {
                    return None;
                }
                out.push(Token::Bind(&sql[start..start + len]));
                i = start + len;
            }
            b'.' => {
                out.push(Token::Dot);
                i += 1;
            }
            b';' => {
                out.push(Token::Semicolon);
                i += 1;
            }
            c if word_byte(c) => {
                let len = b[i..].iter().take_while(|c| word_byte(**c)).count();
                out.push(Token::Word(&sql[i..i + len]));
                i += len;
            }
            _ => return None,
        }
    }
    Some(out)
}

impl NextValues {
    /// The table as the statement named it (`qualifier.table`), for messages.
    pub fn name(&self) -> String {
        match &self.qualifier {
            Some(q) => format!("{q}.{}", self.table),
            None => self.table.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(sql: &str) -> Option<(Option<String>, String, Count)> {
        recognise(sql).map(|n| (n.qualifier, n.table, n.count))
    }

    fn lit(n: &str) -> Count {
        Count::Literal(n.into())
    }

    #[test]
    fn recognises_the_forms_vtgate_and_clients_send() {
        assert_eq!(
            next("select next 5 values from customer_seq"),
            Some((None, "customer_seq".into(), lit("5")))
        );
        assert_eq!(
            next("SELECT NEXT :n VALUES FROM `customer_seq`"),
            Some((None, "customer_seq".into(), Count::Bind("n".into())))
        );
        assert_eq!(
            next("select next value from seq;"),
            Some((None, "seq".into(), lit("1")))
        );
        assert_eq!(
            next("/* a */ select /* b */ next 10 values\n from `my``db`.`s q` ; -- end"),
            Some((Some("my`db".into()), "s q".into(), lit("10")))
        );
        assert_eq!(
            next("SELECT\n\tNEXT 2 VALUES FROM s"),
            Some((None, "s".into(), lit("2")))
        );
        assert_eq!(
            next("select next 0 values from s"),
            Some((None, "s".into(), lit("0")))
        );
        assert_eq!(
            next("select next 99999999999999999999 values from s"),
            Some((None, "s".into(), lit("99999999999999999999")))
        );
    }

    #[test]
    fn leaves_everything_else_alone() {
        for sql in [
            "select next value for s",
            "select nextval(s)",
            "select next_id from s",
            "select next 5 value from s",
            "select next -1 values from s",
            "select next 5 values from s where id = 0",
            "select next 5 values from s, t",
            "select next 5 values from a.b.c",
            "select next 5 values from 42",
            "select next x values from s",
            "select next 'a' values from s",
            "select next 5 values from s; select 1",
            "select next 5 values from a . b ; ;",
            "/*! select */ next 5 values from s",
            "select next 5 values from `s",
            "select next 5 values from s /* open",
            "insert into s values (1)",
            "update s set next_id = 1",
            "",
            "sel",
        ] {
            assert_eq!(recognise(sql), None, "{sql}");
        }
    }
}
