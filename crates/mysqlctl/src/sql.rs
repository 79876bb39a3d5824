//! Quoting of names and strings spliced into administrative SQL text
//! (statements such as `CHANGE MASTER TO` and `CREATE DATABASE` take no parameters).

/// Quotes an identifier with backticks, doubling any backtick inside.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// Quotes a string literal with single quotes, escaping quote, backslash and NUL.
/// Assumes the server default `sql_mode` (without `NO_BACKSLASH_ESCAPES`), which
/// the connections of this crate never change.
pub(crate) fn quote_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            other => out.push(other),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_double_backticks() {
        assert_eq!(quote_identifier("vt_commerce"), "`vt_commerce`");
        assert_eq!(quote_identifier("a`b"), "`a``b`");
    }

    #[test]
    fn strings_escape_quotes_and_backslashes() {
        assert_eq!(quote_string("127.0.0.1"), "'127.0.0.1'");
        assert_eq!(quote_string("o'brien"), "'o''brien'");
        assert_eq!(quote_string("a\\'b"), "'a\\\\''b'");
    }
}
