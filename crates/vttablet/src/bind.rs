//! Substituting bind variables (`:name`, `::list`) into the SQL text that
//! goes to MariaDB, each value rendered as a safely escaped literal.
//!
//! Only code is rewritten: quoted strings, quoted identifiers and comments
//! are copied unchanged, and `:=` is left alone. The result is bytes, not
//! text: a string value that is not UTF-8 goes to MariaDB as a quoted literal
//! of its raw bytes, as Vitess sends it (MariaDB reads it in the connection's
//! character set, exactly as it reads the same literal sent directly).

use std::borrow::Cow;
use std::collections::HashMap;

use proto::query::{BindVariable, Type, Value};
use proto::vtrpc::Code;

use crate::error::{Result, TabletError};

/// `sql` with every bind variable replaced by its literal. Unchanged (and not
/// copied) when there are no bind variables.
pub fn substitute<'a>(sql: &'a str, vars: &HashMap<String, BindVariable>) -> Result<Cow<'a, [u8]>> {
    if vars.is_empty() {
        return Ok(Cow::Borrowed(sql.as_bytes()));
    }
    let bytes = sql.as_bytes();
    let mut out = Vec::with_capacity(sql.len() + 16);
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => i = quoted_end(bytes, i, quote),
            b'#' => i = line_end(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-')
                && bytes.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) =>
            {
                i = line_end(bytes, i)
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') && bytes.get(i + 2) != Some(&b'!') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |end| i + 2 + end + 2)
            }
            b':' => {
                let list = bytes.get(i + 1) == Some(&b':');
                let start = if list { i + 2 } else { i + 1 };
                let name_len = bytes[start..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'.')
                    .count();
                let starts_name = bytes
                    .get(start)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
                if !starts_name {
                    i += 1;
                    continue;
                }
                let name = &sql[start..start + name_len];
                let var = vars.get(name).ok_or_else(|| {
                    TabletError::vitess(Code::InvalidArgument, format!("missing bind var {name}"))
                })?;
                out.extend_from_slice(&bytes[copied..i]);
                write_bind_variable(&mut out, name, var)?;
                i = start + name_len;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    Ok(Cow::Owned(out))
}

/// Index just past the quoted span starting at `start` (backslash escapes and
/// doubled quotes included); the end of the text when unterminated.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' && quote != b'`' {
            i += 2;
        } else if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn line_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|c| *c == b'\n')
        .map_or(bytes.len(), |p| start + p)
}

fn write_bind_variable(out: &mut Vec<u8>, name: &str, var: &BindVariable) -> Result<()> {
    if var.r#type() == Type::Tuple {
        if var.values.is_empty() {
            return Err(invalid(name, "empty list"));
        }
        out.push(b'(');
        for (n, value) in var.values.iter().enumerate() {
            if n > 0 {
                out.extend_from_slice(b", ");
            }
            write_value(out, name, value)?;
        }
        out.push(b')');
        return Ok(());
    }
    write_value(
        out,
        name,
        &Value {
            r#type: var.r#type,
            value: var.value.clone(),
        },
    )
}

fn write_value(out: &mut Vec<u8>, name: &str, value: &Value) -> Result<()> {
    let bytes = &value.value[..];
    let text = std::str::from_utf8(bytes).ok();
    let checked = |ok: fn(&str) -> bool| text.filter(|t| !t.is_empty() && ok(t));
    match value.r#type() {
        Type::NullType => out.extend_from_slice(b"null"),
        Type::Int8
        | Type::Int16
        | Type::Int24
        | Type::Int32
        | Type::Int64
        | Type::Uint8
        | Type::Uint16
        | Type::Uint24
        | Type::Uint32
        | Type::Uint64
        | Type::Year => out.extend_from_slice(
            checked(is_integer)
                .ok_or_else(|| invalid(name, "not an integer"))?
                .as_bytes(),
        ),
        Type::Float32 | Type::Float64 | Type::Decimal => out.extend_from_slice(
            checked(is_number)
                .ok_or_else(|| invalid(name, "not a number"))?
                .as_bytes(),
        ),
        Type::Hexnum => out.extend_from_slice(
            checked(is_hexnum)
                .ok_or_else(|| invalid(name, "not a hex number"))?
                .as_bytes(),
        ),
        Type::Hexval => out.extend_from_slice(
            checked(is_hexval)
                .ok_or_else(|| invalid(name, "not a hex value"))?
                .as_bytes(),
        ),
        Type::Bitnum => out.extend_from_slice(
            checked(is_bitnum)
                .ok_or_else(|| invalid(name, "not a bit value"))?
                .as_bytes(),
        ),
        Type::Tuple | Type::RowTuple | Type::Expression => {
            return Err(invalid(name, "type cannot be bound as a value"))
        }
        _ => match text {
            Some(text) => {
                let mut quoted = String::with_capacity(text.len() + 2);
                sql::literal::write_quoted(&mut quoted, text);
                out.extend_from_slice(quoted.as_bytes());
            }
            None => write_quoted_bytes(out, bytes),
        },
    }
    Ok(())
}

/// `'…'` of raw bytes, escaped as [`sql::literal::write_quoted`] escapes text.
fn write_quoted_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'\'');
    for &c in bytes {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x1a => out.extend_from_slice(b"\\Z"),
            _ => out.push(c),
        }
    }
    out.push(b'\'');
}

fn invalid(name: &str, why: &str) -> TabletError {
    TabletError::vitess(
        Code::InvalidArgument,
        format!("invalid bind variable {name}: {why}"),
    )
}

fn is_integer(t: &str) -> bool {
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
}

fn is_number(t: &str) -> bool {
    t.bytes().any(|c| c.is_ascii_digit())
        && t.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
}

fn is_hexnum(t: &str) -> bool {
    t.strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_hexdigit()))
}

fn is_hexval(t: &str) -> bool {
    t.strip_prefix("X'")
        .or_else(|| t.strip_prefix("x'"))
        .and_then(|d| d.strip_suffix('\''))
        .is_some_and(|d| d.bytes().all(|c| c.is_ascii_hexdigit()))
}

fn is_bitnum(t: &str) -> bool {
    t.strip_prefix("0b")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c == b'0' || c == b'1'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(typ: Type, value: &[u8]) -> BindVariable {
        BindVariable {
            r#type: typ as i32,
            value: value.to_vec(),
            values: vec![],
        }
    }

    fn vars(list: &[(&str, BindVariable)]) -> HashMap<String, BindVariable> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn substitutes_outside_quotes_and_comments() {
        let v = vars(&[
            ("vtg1", var(Type::Int64, b"42")),
            ("vtg2", var(Type::Varchar, b"it's \\ me")),
        ]);
        let sql = "select ':vtg1', `:vtg1` /* :vtg1 */ from t where a = :vtg1 and b = :vtg2 -- :vtg2\n and c := 1";
        let out = substitute(sql, &v).unwrap();
        assert_eq!(
            String::from_utf8(out.into_owned()).unwrap(),
            "select ':vtg1', `:vtg1` /* :vtg1 */ from t where a = 42 and b = 'it\\'s \\\\ me' -- :vtg2\n and c := 1"
        );
    }

    #[test]
    fn lists_nulls_and_binary() {
        let mut list = var(Type::Tuple, b"");
        list.values = vec![
            Value {
                r#type: Type::Int64 as i32,
                value: b"1".to_vec(),
            },
            Value {
                r#type: Type::Varchar as i32,
                value: b"x".to_vec(),
            },
        ];
        let v = vars(&[
            ("ids", list),
            ("n", var(Type::NullType, b"")),
            ("b", var(Type::Varbinary, &[0xff, 0x00, b'\'', 0xc3])),
        ]);
        let out = substitute(
            "select * from t where id in ::ids and x = :n and y = :b",
            &v,
        )
        .unwrap();
        assert_eq!(
            &out[..],
            &b"select * from t where id in (1, 'x') and x = null and y = '\xff\\0\\'\xc3'"[..]
        );
    }

    #[test]
    fn rejects_injection_through_numeric_types_and_missing_vars() {
        let v = vars(&[("a", var(Type::Int64, b"1 or 1=1"))]);
        let err = substitute("select :a", &v).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let v = vars(&[("a", var(Type::Int64, b"1"))]);
        let err = substitute("select :b", &v).unwrap_err();
        assert_eq!(err.to_string(), "missing bind var b");
    }

    #[test]
    fn no_vars_borrows() {
        assert!(matches!(
            substitute("select :x", &HashMap::new()).unwrap(),
            Cow::Borrowed(_)
        ));
    }
}
