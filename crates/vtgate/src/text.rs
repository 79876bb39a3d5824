//! Turning what clients send into the UTF-8 SQL text tablets receive: string literals
//! holding bytes that are not UTF-8 become VARBINARY bind variables ([`RawLiterals`]; the
//! tablet writes them back as quoted raw bytes, as Vitess does), and the positions of the `?`
//! placeholders of prepared statements (which [`crate::params`] fills).

use std::borrow::Cow;
use std::collections::HashMap;

use proto::query::{BindVariable, Type};

use crate::error::VtError;

/// String literals of one statement whose bytes are not UTF-8, as bind variables.
#[derive(Debug, Default)]
pub struct RawLiterals(HashMap<String, BindVariable>);

impl RawLiterals {
    /// Records `bytes`; returns the placeholder standing for them (` :vtg_raw_N `, spaced so
    /// it stays a token of its own).
    pub fn add(&mut self, bytes: Vec<u8>) -> String {
        let name = format!("vtg_raw_{}", self.0.len());
        let placeholder = format!(" :{name} ");
        let var = BindVariable {
            r#type: Type::Varbinary as i32,
            value: bytes,
            values: Vec::new(),
        };
        self.0.insert(name, var);
        placeholder
    }

    /// The bind variables.
    pub fn into_vars(self) -> HashMap<String, BindVariable> {
        self.0
    }
}

/// `sql` as UTF-8; string literals that are not valid UTF-8 become placeholders of `raw`.
pub fn to_utf8<'s>(sql: &'s [u8], raw: &mut RawLiterals) -> Result<Cow<'s, str>, VtError> {
    if let Ok(s) = std::str::from_utf8(sql) {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(sql.len() * 2);
    let mut i = 0;
    while i < sql.len() {
        let c = sql[i];
        if c == b'\'' || c == b'"' {
            let (value, end) = read_string(sql, i);
            let literal = &sql[i..end];
            if std::str::from_utf8(literal).is_ok() {
                out.extend_from_slice(literal);
            } else {
                out.extend_from_slice(raw.add(value).as_bytes());
            }
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| VtError::Other("query text is not valid UTF-8 outside string literals".into()))
}

/// Reads the quoted string starting at `start`: its unescaped bytes and the index past it.
fn read_string(b: &[u8], start: usize) -> (Vec<u8>, usize) {
    let q = b[start];
    let mut value = Vec::new();
    let mut i = start + 1;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            let e = b[i + 1];
            match e {
                b'0' => value.push(0),
                b'b' => value.push(8),
                b'n' => value.push(b'\n'),
                b'r' => value.push(b'\r'),
                b't' => value.push(b'\t'),
                b'Z' => value.push(26),
                b'%' | b'_' => value.extend_from_slice(&[b'\\', e]),
                other => value.push(other),
            }
            i += 2;
        } else if c == q {
            if b.get(i + 1) == Some(&q) {
                value.push(q);
                i += 2;
            } else {
                return (value, i + 1);
            }
        } else {
            value.push(c);
            i += 1;
        }
    }
    (value, b.len())
}

/// Positions of the `?` placeholders outside quotes and comments.
pub fn placeholders(sql: &str) -> Vec<usize> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\\' && q != b'`' {
                        i += 2;
                        continue;
                    }
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => i = line_end(b, i),
            b'-' if b.get(i + 1) == Some(&b'-') => i = line_end(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
            }
            b'?' => {
                out.push(i);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_literals_become_bind_variables() {
        let mut raw = RawLiterals::default();
        assert_eq!(to_utf8(b"select 'abc'", &mut raw).unwrap(), "select 'abc'");
        let sql = b"insert into t values (_binary'\xff\\0\x01', 'ok', \"\xfe\")";
        assert_eq!(
            to_utf8(sql, &mut raw).unwrap(),
            "insert into t values (_binary :vtg_raw_0 , 'ok',  :vtg_raw_1 )"
        );
        let vars = raw.into_vars();
        assert_eq!(vars["vtg_raw_0"].value, vec![0xff, 0, 1]);
        assert_eq!(vars["vtg_raw_1"].value, vec![0xfe]);
        assert_eq!(vars["vtg_raw_1"].r#type(), Type::Varbinary);
        assert!(to_utf8(b"select \xff", &mut RawLiterals::default()).is_err());
    }

    #[test]
    fn placeholders_skip_quotes_and_comments() {
        let sql = "select '?', `?`, \"a\\\"?\" /* ? */ from t where a = ? -- ?\n and b = ?";
        assert_eq!(placeholders(sql).len(), 2);
    }
}
