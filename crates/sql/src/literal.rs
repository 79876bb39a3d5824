//! Literal values: bind variable values ([`BindValue`]), MySQL string
//! escaping and unescaping, and [`bind_to_sql`], which renders a value as a
//! MySQL literal that reads back as exactly the same value (under the
//! default `sql_mode`, which honours backslash escapes).

use std::collections::HashMap;
use std::fmt::Write as _;

/// Bind variables by name (without the leading `:`).
pub type BindVars = HashMap<String, BindValue, foldhash::fast::RandomState>;

/// A bind variable value, typed as Vitess's `querypb.BindVariable`.
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    /// SQL `NULL`.
    Null,
    /// A signed integer literal.
    Int64(i64),
    /// An unsigned integer: a literal too large for `i64`, or a value of an unsigned column
    /// (a join's or a subquery's), printed as `CAST(n AS UNSIGNED)` when it would otherwise
    /// read as signed, so that arithmetic on it stays unsigned as on the column.
    Uint64(u64),
    /// A float literal (with an exponent), as written: `1.5e3`.
    Float64(String),
    /// A decimal literal, as written: `-12.50`.
    Decimal(String),
    /// A character string (the unescaped bytes).
    VarChar(Vec<u8>),
    /// A binary string from a result (the raw bytes); printed as `CAST(X'..' AS BINARY)`.
    VarBinary(Vec<u8>),
    /// A hex number `0x1F`: the hex digits.
    HexNum(String),
    /// A hex string `X'1F'`: the hex digits.
    HexVal(String),
    /// A bit literal `0b101` / `b'101'`: the binary digits.
    BitNum(String),
    /// A list, for `IN ::name`.
    Tuple(Vec<BindValue>),
    /// UTF-8 text from a result that must compare in its column's collation wherever it is
    /// bound (a `utf8mb4_bin` join value): printed `_utf8mb4'text' COLLATE name`, which wins
    /// over the other operand's collation as the column would have.
    Collated {
        /// The text.
        text: String,
        /// The collation's name.
        collation: &'static str,
    },
    /// A DATE, TIME or DATETIME value from a result (a join or subquery value), printed as
    /// `CAST('text' AS sql_type)` so that it compares and computes as that type, not as text.
    Temporal {
        /// `DATE`, `TIME(n)` or `DATETIME(n)`.
        sql_type: String,
        /// The value as MySQL printed it.
        text: String,
    },
    /// A column's value that an expression of the other side computes with (a join's
    /// select item over both sides' columns), printed `CAST(value AS sql_type)`, then
    /// `COLLATE name` when it has one: the expression then types its result after the
    /// column's type, also when the value is NULL (`CASE`, `COALESCE` and `IF` type
    /// theirs after their arguments', and a bare `null` has no type), and text keeps the
    /// column's collation and coercibility.
    Typed {
        /// The value (`Null` for a NULL), never itself `Typed`.
        value: Box<BindValue>,
        /// `SIGNED`, `UNSIGNED`, `DECIMAL(p,s)`, `CHAR CHARACTER SET utf8mb4`, `BINARY`,
        /// `DATE`, `TIME(n)` or `DATETIME(n)`.
        sql_type: String,
        /// The collation a `_bin` text keeps (`COLLATE` makes it explicit, which wins as
        /// `_bin` wins over `_ci` collations of its character set).
        collation: Option<&'static str>,
    },
}

impl BindValue {
    /// A hex or bit literal's value in numeric context, where MySQL reads it as a BIGINT
    /// UNSIGNED (`0x1F + 0` is 31); `None` for other values and for literals over 64 bits.
    pub fn unsigned_in_numeric_context(&self) -> Option<u64> {
        match self {
            BindValue::HexNum(h) | BindValue::HexVal(h) if !h.is_empty() && h.len() <= 16 => {
                u64::from_str_radix(h, 16).ok()
            }
            BindValue::BitNum(b) if !b.is_empty() && b.len() <= 64 => {
                u64::from_str_radix(b, 2).ok()
            }
            _ => None,
        }
    }

    /// `bytes` as a hex string `X'..'` ([`BindValue::HexVal`]).
    pub fn hex_of(bytes: &[u8]) -> BindValue {
        let mut digits = String::with_capacity(bytes.len() * 2);
        push_hex_digits(&mut digits, bytes);
        BindValue::HexVal(digits)
    }

    /// The value as a MySQL literal; see [`bind_to_sql`].
    pub fn to_sql(&self) -> String {
        let mut s = String::new();
        self.write_sql(&mut s);
        s
    }

    /// Appends the value as a MySQL literal to `out`.
    pub fn write_sql(&self, out: &mut String) {
        match self {
            BindValue::Null => out.push_str("null"),
            BindValue::Int64(v) => {
                let _ = write!(out, "{v}");
            }
            // `2 - 5` is -3, but a BIGINT UNSIGNED 2 minus 5 is MySQL's 1690.
            BindValue::Uint64(v) if i64::try_from(*v).is_ok() => {
                let _ = write!(out, "CAST({v} AS UNSIGNED)");
            }
            BindValue::Uint64(v) => {
                let _ = write!(out, "{v}");
            }
            BindValue::Float64(s) | BindValue::Decimal(s) => out.push_str(s),
            BindValue::VarChar(b) => match std::str::from_utf8(b) {
                Ok(s) => write_quoted(out, s),
                Err(_) => write_hex(out, b),
            },
            // Cast, so that it keeps the binary collation of the column it came from: a bare
            // X'..' literal takes the other operand's (`s = X'414243'` matches 'abc').
            BindValue::VarBinary(b) => {
                out.push_str("CAST(");
                write_hex(out, b);
                out.push_str(" AS BINARY)");
            }
            BindValue::HexNum(d) => {
                out.push_str("0x");
                out.push_str(d);
            }
            BindValue::HexVal(d) => {
                out.push_str("X'");
                out.push_str(d);
                out.push('\'');
            }
            BindValue::BitNum(d) => {
                out.push_str("0b");
                out.push_str(d);
            }
            BindValue::Temporal { sql_type, text } => {
                out.push_str("CAST(");
                write_quoted(out, text);
                out.push_str(" AS ");
                out.push_str(sql_type);
                out.push(')');
            }
            BindValue::Collated { text, collation } => {
                out.push_str("_utf8mb4");
                write_quoted(out, text);
                out.push_str(" COLLATE ");
                out.push_str(collation);
            }
            BindValue::Typed {
                value,
                sql_type,
                collation,
            } => {
                out.push_str("CAST(");
                value.write_sql(out);
                out.push_str(" AS ");
                out.push_str(sql_type);
                out.push(')');
                if let Some(c) = collation {
                    out.push_str(" COLLATE ");
                    out.push_str(c);
                }
            }
            BindValue::Tuple(vals) => {
                out.push('(');
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_sql(out);
                }
                out.push(')');
            }
        }
    }
}

/// Renders a bind variable value as a MySQL literal: strings quoted with
/// `\\`, `\'`, `\0`, `\n`, `\r` and `\Z` escaped, bytes that are not UTF-8
/// (and binary values) as `X'..'` hex, numbers as written, tuples as `(a, b)`.
pub fn bind_to_sql(value: &BindValue) -> String {
    value.to_sql()
}

/// Appends `s` as a single-quoted MySQL string literal.
pub fn write_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('\'');
    let mut start = 0;
    for (i, c) in s.bytes().enumerate() {
        let esc = match c {
            b'\\' => "\\\\",
            b'\'' => "\\'",
            0 => "\\0",
            b'\n' => "\\n",
            b'\r' => "\\r",
            0x1a => "\\Z",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(esc);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('\'');
}

/// `s` as a single-quoted MySQL string literal.
pub fn quote_string(s: &str) -> String {
    let mut out = String::new();
    write_quoted(&mut out, s);
    out
}

fn write_hex(out: &mut String, b: &[u8]) {
    out.reserve(b.len() * 2 + 3);
    out.push_str("X'");
    push_hex_digits(out, b);
    out.push('\'');
}

fn push_hex_digits(out: &mut String, b: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &x in b {
        out.push(DIGITS[(x >> 4) as usize] as char);
        out.push(DIGITS[(x & 15) as usize] as char);
    }
}

/// The bytes a MySQL string literal stands for, given the text between its
/// quotes (`quote` is `'` or `"`): backslash escapes and doubled quotes
/// resolved. `\%` and `\_` keep their backslash, as in MySQL.
pub fn unescape_quoted(inner: &str, quote: u8) -> Vec<u8> {
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let e = b[i + 1];
            match e {
                b'0' => out.push(0),
                b'b' => out.push(8),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'Z' => out.push(0x1a),
                b'%' | b'_' => out.extend_from_slice(&[b'\\', e]),
                _ => {
                    // Any other escaped character stands for itself; copy the
                    // whole UTF-8 sequence.
                    let len = inner[i + 1..].chars().next().map_or(1, char::len_utf8);
                    out.extend_from_slice(&b[i + 1..i + 1 + len]);
                    i += 1 + len;
                    continue;
                }
            }
            i += 2;
        } else if c == quote && b.get(i + 1) == Some(&quote) {
            out.push(quote);
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let v = BindValue::VarChar(b"a'b\\c\0d\ne\rf\x1ag\"h".to_vec());
        assert_eq!(bind_to_sql(&v), r#"'a\'b\\c\0d\ne\rf\Zg"h'"#);
        assert_eq!(bind_to_sql(&BindValue::VarChar(vec![])), "''");
        assert_eq!(bind_to_sql(&BindValue::VarChar("🙂".into())), "'🙂'");
    }

    #[test]
    fn bytes_that_are_not_utf8_become_hex() {
        assert_eq!(
            bind_to_sql(&BindValue::VarChar(vec![0xff, 0x00, 0x41])),
            "X'FF0041'"
        );
        assert_eq!(
            bind_to_sql(&BindValue::VarBinary(b"AB".to_vec())),
            "CAST(X'4142' AS BINARY)"
        );
        assert_eq!(
            bind_to_sql(&BindValue::VarBinary(vec![])),
            "CAST(X'' AS BINARY)"
        );
    }

    #[test]
    fn numbers_and_others() {
        assert_eq!(
            bind_to_sql(&BindValue::Int64(-9223372036854775808)),
            "-9223372036854775808"
        );
        assert_eq!(
            bind_to_sql(&BindValue::Uint64(u64::MAX)),
            "18446744073709551615"
        );
        assert_eq!(bind_to_sql(&BindValue::Uint64(2)), "CAST(2 AS UNSIGNED)");
        assert_eq!(bind_to_sql(&BindValue::Decimal("-1.50".into())), "-1.50");
        assert_eq!(
            bind_to_sql(&BindValue::Collated {
                text: "a'b".into(),
                collation: "utf8mb4_bin"
            }),
            "_utf8mb4'a\\'b' COLLATE utf8mb4_bin"
        );
        assert_eq!(
            bind_to_sql(&BindValue::Temporal {
                sql_type: "TIME(0)".into(),
                text: "-01:30:00".into()
            }),
            "CAST('-01:30:00' AS TIME(0))"
        );
        assert_eq!(bind_to_sql(&BindValue::Float64("1e3".into())), "1e3");
        assert_eq!(
            bind_to_sql(&BindValue::Typed {
                value: Box::new(BindValue::Null),
                sql_type: "DECIMAL(10,2)".into(),
                collation: None,
            }),
            "CAST(null AS DECIMAL(10,2))"
        );
        assert_eq!(
            bind_to_sql(&BindValue::Typed {
                value: Box::new(BindValue::VarChar(b"a".to_vec())),
                sql_type: "CHAR CHARACTER SET utf8mb4".into(),
                collation: Some("utf8mb4_bin"),
            }),
            "CAST('a' AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin"
        );
        assert_eq!(bind_to_sql(&BindValue::Null), "null");
        assert_eq!(bind_to_sql(&BindValue::HexNum("1F".into())), "0x1F");
        assert_eq!(
            BindValue::HexNum("1F".into()).unsigned_in_numeric_context(),
            Some(31)
        );
        assert_eq!(
            BindValue::BitNum("101".into()).unsigned_in_numeric_context(),
            Some(5)
        );
        assert_eq!(
            BindValue::HexVal("1".repeat(17)).unsigned_in_numeric_context(),
            None
        );
        assert_eq!(BindValue::Int64(3).unsigned_in_numeric_context(), None);
        assert_eq!(bind_to_sql(&BindValue::HexVal("1F".into())), "X'1F'");
        assert_eq!(bind_to_sql(&BindValue::BitNum("101".into())), "0b101");
        let t = BindValue::Tuple(vec![BindValue::Int64(1), BindValue::VarChar(b"x".to_vec())]);
        assert_eq!(bind_to_sql(&t), "(1, 'x')");
    }

    #[test]
    fn unescaping_follows_mysql() {
        assert_eq!(unescape_quoted(r"a\'b''c", b'\''), b"a'b'c");
        assert_eq!(
            unescape_quoted(r"\0\b\n\r\t\Z\\", b'\''),
            b"\0\x08\n\r\t\x1a\\"
        );
        assert_eq!(unescape_quoted(r"\%\_\x", b'\''), br"\%\_x");
        assert_eq!(unescape_quoted(r#"a""b\"c"#, b'"'), br#"a"b"c"#);
        assert_eq!(unescape_quoted("\\é", b'\''), "é".as_bytes());
        assert_eq!(unescape_quoted("trailing\\", b'\''), b"trailing\\");
    }
}
