//! Bind variables: values a plan reads at execution time ([`PlanValue`]),
//! their conversion to vindex [`Value`]s, and substituting `:name` /
//! `::name` placeholders into query text (quoted text and comments are
//! left alone), so shards always receive fully bound SQL.

use sql::literal::{BindValue, BindVars};
use sqlparser::ast::{Expr, UnaryOperator, Value as AstValue};
use vschema::{ColumnKind, Value};

use crate::error::{EngineError, Result};

mod integer_text;

use integer_text::{integer_reading, IntegerReading};

/// A value known when planning (a literal) or read from a bind variable.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanValue {
    /// A literal from the query text.
    Literal(BindValue),
    /// A bind variable by name (without `:`).
    BindVar(String),
}

impl PlanValue {
    /// The value of a literal or placeholder expression; `None` for any
    /// other expression.
    pub fn from_expr(expr: &Expr) -> Option<Self> {
        match expr {
            Expr::Value(v) => Self::from_ast_value(&v.value),
            Expr::Nested(e) => Self::from_expr(e),
            Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => match expr.as_ref() {
                Expr::Value(v) => match &v.value {
                    AstValue::Number(n, _) if !n.starts_with('-') => {
                        number(&format!("-{n}")).map(PlanValue::Literal)
                    }
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    fn from_ast_value(v: &AstValue) -> Option<Self> {
        let lit = match v {
            AstValue::Number(n, _) => number(n)?,
            AstValue::SingleQuotedString(s) => {
                BindValue::VarChar(sql::literal::unescape_quoted(s, b'\''))
            }
            AstValue::DoubleQuotedString(s) => {
                BindValue::VarChar(sql::literal::unescape_quoted(s, b'"'))
            }
            AstValue::HexStringLiteral(h) => BindValue::HexVal(h.clone()),
            AstValue::Boolean(b) => BindValue::Int64(i64::from(*b)),
            AstValue::Null => BindValue::Null,
            AstValue::Placeholder(p) => {
                let name = p.trim_start_matches(':');
                if name.is_empty() || !p.starts_with(':') {
                    return None;
                }
                return Some(PlanValue::BindVar(name.to_string()));
            }
            _ => return None,
        };
        Some(PlanValue::Literal(lit))
    }

    /// The value, reading bind variables from `vars`.
    pub fn resolve(&self, vars: &BindVars) -> Result<BindValue> {
        match self {
            PlanValue::Literal(v) => Ok(v.clone()),
            PlanValue::BindVar(name) => vars
                .get(name)
                .cloned()
                .ok_or_else(|| EngineError::MissingBindVar(name.clone())),
        }
    }

    /// How VEXPLAIN shows it: the literal as SQL, or `:name`.
    pub fn describe(&self) -> String {
        match self {
            PlanValue::Literal(v) => v.to_sql(),
            PlanValue::BindVar(n) => format!(":{n}"),
        }
    }

    /// Whether the value is a literal NULL.
    pub fn is_null_literal(&self) -> bool {
        matches!(self, PlanValue::Literal(BindValue::Null))
    }
}

/// A numeric literal as a bind value: integers as `Int64`/`Uint64`, the
/// rest as decimals or floats, kept as written.
fn number(n: &str) -> Option<BindValue> {
    if let Ok(v) = n.parse::<i64>() {
        return Some(BindValue::Int64(v));
    }
    if let Ok(v) = n.parse::<u64>() {
        return Some(BindValue::Uint64(v));
    }
    if n.contains(['e', 'E']) {
        Some(BindValue::Float64(n.to_string()))
    } else if n
        .bytes()
        .all(|c| c.is_ascii_digit() || c == b'.' || c == b'-')
    {
        Some(BindValue::Decimal(n.to_string()))
    } else {
        None
    }
}

/// The vindex value a route may pick shards by: [`vindex_value`], but `None`
/// (route by the WHERE alone) for hex and bit literals as well. MySQL reads
/// `0x37` as 55 against a number column and as the byte `7` against a text
/// one, while a vindex sees only bytes: `hash` would take them as the digit
/// 7 and pick the shard of 7 for `id = 0x37`, which matches the row 55.
///
/// Likewise decimals and floats, and strings that read as a number other than
/// as written (`'05'`, `'5 '`, `' 5'`, `'5.0'`, `'+5'`): against a number
/// column MySQL compares them as the number 5, while `xxhash` and the other
/// byte vindexes would hash their text and pick another shard. Only a string
/// that is an integer written canonically (`'5'`, `'-12'`), which reads the
/// same both ways, or one that does not start like a number, routes.
///
/// A DATE/TIME/DATETIME value vtgate bound (a subquery's, a join side's) is
/// compared by MySQL as its type, not as the text a vindex would hash. A
/// number compared with the column of a vindex made for text
/// ([`hashes_text`]) is compared as a number by MySQL (`'5abc' = 5`), so it
/// does not route either.
///
/// Where the column's type is known (`kind`, from the VSchema or schema
/// tracking): against an integer column a string routes by the integer MariaDB
/// reads it as (`'07'`, `' 7'` and `'7abc'` are 7, `'abc'` is 0; see
/// `integer_text`) and `0x37` by 55, while a string with a fraction (`'7.5'`)
/// routes by the WHERE alone (MariaDB compares it with no integer, but rounds it
/// to 8 in an index lookup); against a decimal or float
/// column no text routes but a canonical integer; against a text column no
/// number routes, while any text does (`'05'` is the text `05` there).
pub fn routing_value(
    v: &BindValue,
    vindex: &dyn vschema::Vindex,
    kind: ColumnKind,
) -> Option<Value> {
    if let BindValue::Typed { value, .. } = v {
        return routing_value(value, vindex, kind);
    }
    if let BindValue::Collated { text, .. } = v {
        // Routed as the text it is; its collation only decides what it equals on the shard.
        return routing_value(&BindValue::VarChar(text.clone().into_bytes()), vindex, kind);
    }
    if kind == ColumnKind::Integer && !hashes_text(vindex) {
        if let BindValue::HexNum(_) | BindValue::BitNum(_) = v {
            // `0x37` and `0b110111` are the number 55 against an integer column.
            return v
                .unsigned_in_numeric_context()
                .and_then(|n| i64::try_from(n).ok())
                .map(Value::Int);
        }
        if let Some(reading) = integer_text(v) {
            return match reading {
                IntegerReading::Integer(i) => Some(Value::Int(i)),
                IntegerReading::NoInteger | IntegerReading::Unknown => None,
            };
        }
    }
    match (v, kind) {
        (BindValue::HexVal(_), _)
        | (BindValue::Decimal(_), _)
        | (BindValue::Float64(_), _)
        | (BindValue::Temporal { .. }, _) => None,
        (
            BindValue::VarChar(b) | BindValue::VarBinary(b),
            ColumnKind::Number | ColumnKind::Integer,
        ) if !canonical_integer(b) => None,
        (BindValue::Int64(_) | BindValue::Uint64(_), ColumnKind::Text) => None,
        (BindValue::VarChar(_), ColumnKind::Text) => vindex_value(v).ok(),
        (BindValue::VarChar(b), _) if reads_as_another_number(b) => None,
        (BindValue::Int64(_) | BindValue::Uint64(_), _) if hashes_text(vindex) => None,
        (other, _) => vindex_value(other).ok(),
    }
}

/// How a string value (a character or binary string, `X'..'`) reads against an integer
/// column; None for other values.
fn integer_text(v: &BindValue) -> Option<IntegerReading> {
    match v {
        BindValue::VarChar(b) | BindValue::VarBinary(b) => Some(integer_reading(b)),
        BindValue::HexVal(h) => {
            Some(decode_hex(h).map_or(IntegerReading::Unknown, |b| integer_reading(&b)))
        }
        _ => None,
    }
}

/// Vindexes meant for text or byte columns, which hash a value's bytes.
fn hashes_text(vindex: &dyn vschema::Vindex) -> bool {
    matches!(
        vindex.type_name(),
        "unicode_loose_md5" | "unicode_loose_xxhash" | "binary" | "binary_md5"
    )
}

/// Whether text starts like a number (after MySQL's leading whitespace) but
/// is not a canonically written integer.
fn reads_as_another_number(text: &[u8]) -> bool {
    let trimmed = text.trim_ascii_start();
    let starts_numeric = trimmed
        .first()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.'));
    starts_numeric && !canonical_integer(text)
}

/// Whether text is an integer written canonically (`5`, `-12`, `0`): the
/// same value read as text or as a number.
fn canonical_integer(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits == b"0" || digits[0] != b'0')
        && text != b"-0"
}

/// The vindex value of a bind value, for mapping a row's values (INSERT, owned lookups, a
/// vindex read as a table). Refused: tuples, and `0x..`/`0b..` numbers, which MariaDB stores
/// as a number in a numeric column but as bytes in a text one, while a vindex sees only one
/// reading.
pub fn vindex_value(v: &BindValue) -> Result<Value> {
    Ok(match v {
        BindValue::Null => Value::Null,
        BindValue::Int64(i) => Value::Int(*i),
        BindValue::Uint64(u) => Value::Uint(*u),
        BindValue::Float64(s) | BindValue::Decimal(s) => Value::Bytes(s.clone().into_bytes()),
        BindValue::VarChar(b) | BindValue::VarBinary(b) => Value::Bytes(b.clone()),
        BindValue::Collated { text, .. } => Value::Bytes(text.clone().into_bytes()),
        BindValue::Typed { value, .. } => return vindex_value(value),
        // As it was before it was typed: the text MySQL printed.
        BindValue::Temporal { text, .. } => Value::Bytes(text.clone().into_bytes()),
        BindValue::HexVal(h) => Value::Bytes(
            decode_hex(h).ok_or_else(|| EngineError::unsupported(format!("the literal X'{h}'")))?,
        ),
        BindValue::HexNum(_) | BindValue::BitNum(_) => {
            return Err(EngineError::unsupported(format!(
                "the literal {} as a vindex value (write the value as a decimal number)",
                v.to_sql()
            )))
        }
        BindValue::Tuple(_) => {
            return Err(EngineError::unsupported("a nested list as a vindex value"))
        }
    })
}

fn decode_hex(h: &str) -> Option<Vec<u8>> {
    let padded = if h.len() % 2 == 1 {
        format!("0{h}")
    } else {
        h.to_string()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(padded.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Replaces `:name` and `::name` placeholders in `sql` with the values of
/// `vars` as MySQL literals. Quoted strings, quoted identifiers and
/// comments are copied unchanged; a placeholder without a value is an error.
pub fn substitute(sql: &str, vars: &BindVars) -> Result<String> {
    if !sql.contains(':') {
        return Ok(sql.to_string());
    }
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' | b'`' => i = quoted_end(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2)
            }
            b'#' => i = sql[i..].find('\n').map_or(b.len(), |p| i + p),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |p| i + p)
            }
            b':' => {
                let start = if b.get(i + 1) == Some(&b':') {
                    i + 2
                } else {
                    i + 1
                };
                let end = start
                    + b[start..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                        .count();
                let prev_is_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                if end == start || prev_is_ident || b.get(i + 1) == Some(&b'=') {
                    i += 1;
                    continue;
                }
                let name = &sql[start..end];
                let value = vars
                    .get(name)
                    .ok_or_else(|| EngineError::MissingBindVar(name.to_string()))?;
                // `(:list)` bound to a tuple is the list itself: `(1, 2)`;
                // an empty list reads `(NULL)`, which matches nothing.
                let open = sql[copied..i]
                    .trim_end()
                    .strip_suffix('(')
                    .map(|s| copied + s.len());
                let close = sql[end..]
                    .trim_start()
                    .strip_prefix(')')
                    .map(|r| sql.len() - r.len());
                if let (BindValue::Tuple(items), Some(open), Some(close)) = (value, open, close) {
                    out.push_str(&sql[copied..open]);
                    if items.is_empty() {
                        out.push_str("(NULL)");
                    } else {
                        value.write_sql(&mut out);
                    }
                    copied = close;
                    i = close;
                    continue;
                }
                out.push_str(&sql[copied..i]);
                value.write_sql(&mut out);
                copied = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied..]);
    Ok(out)
}

/// Index just past the quoted span starting at `i`.
fn quoted_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        if b[j] == b'\\' && q != b'`' {
            j += 2;
        } else if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_another_number_reads_do_not_route() {
        let hash = vschema::vindexes::create_vindex("hash", "hash", &Default::default()).unwrap();
        let text = |s: &str| {
            routing_value(
                &BindValue::VarChar(s.as_bytes().to_vec()),
                &*hash,
                ColumnKind::Unknown,
            )
        };
        for s in [
            "05", "5 ", " 5", "5.0", "+5", "-05", "-0", "1e1", ".5", "5abc", "",
        ] {
            if !s.is_empty() {
                assert_eq!(text(s), None, "{s:?}");
            }
        }
        for s in ["5", "-12", "0", "abc", "a5", "", "Alice 5"] {
            assert!(text(s).is_some(), "{s:?}");
        }
        assert_eq!(
            routing_value(
                &BindValue::Decimal("5.0".into()),
                &*hash,
                ColumnKind::Unknown
            ),
            None
        );
        assert_eq!(
            routing_value(
                &BindValue::Float64("5e0".into()),
                &*hash,
                ColumnKind::Unknown
            ),
            None
        );
        assert_eq!(
            routing_value(&BindValue::Int64(5), &*hash, ColumnKind::Unknown),
            Some(Value::Int(5))
        );
        let time = BindValue::Temporal {
            sql_type: "TIME(0)".into(),
            text: "00:00:12".into(),
        };
        assert_eq!(routing_value(&time, &*hash, ColumnKind::Unknown), None);
        let loose = vschema::vindexes::create_vindex("unicode_loose_md5", "u", &Default::default())
            .unwrap();
        assert_eq!(
            routing_value(&BindValue::Int64(5), &*loose, ColumnKind::Unknown),
            None
        );
        assert!(routing_value(
            &BindValue::VarChar(b"5".to_vec()),
            &*loose,
            ColumnKind::Unknown
        )
        .is_some());
    }

    #[test]
    fn a_known_column_type_decides_what_routes() {
        let xx = vschema::vindexes::create_vindex("xxhash", "x", &Default::default()).unwrap();
        let route = |v: BindValue, kind| routing_value(&v, &*xx, kind).is_some();
        let text = |s: &str| BindValue::VarChar(s.as_bytes().to_vec());
        // A number column reads 'abc' as 0 and '7abc' as 7: only integers route.
        for s in ["abc", "7abc", "", " 7", "07"] {
            assert!(!route(text(s), ColumnKind::Number), "{s:?}");
            assert!(route(text(s), ColumnKind::Text), "{s:?}");
        }
        assert!(route(text("-7"), ColumnKind::Number));
        // A text column reads 5 as the number every '5', '05', '5.0' equals.
        assert!(!route(BindValue::Int64(5), ColumnKind::Text));
        assert!(route(BindValue::Int64(5), ColumnKind::Number));
        assert!(route(BindValue::Int64(5), ColumnKind::Unknown));
        assert!(route(text("abc"), ColumnKind::Unknown));
        assert!(!route(text("07"), ColumnKind::Unknown));
    }

    #[test]
    fn an_integer_column_routes_text_by_the_integer_it_reads_as() {
        let xx = vschema::vindexes::create_vindex("xxhash", "x", &Default::default()).unwrap();
        let int = |v: BindValue| routing_value(&v, &*xx, ColumnKind::Integer);
        let text = |s: &str| BindValue::VarChar(s.as_bytes().to_vec());
        for s in ["07", " 7", "7abc", "+7", "7.0", "0.7e1"] {
            assert_eq!(int(text(s)), Some(Value::Int(7)), "{s:?}");
        }
        assert_eq!(int(text("abc")), Some(Value::Int(0)));
        assert_eq!(int(BindValue::HexVal("37".into())), Some(Value::Int(7)));
        assert_eq!(int(BindValue::HexNum("37".into())), Some(Value::Int(55)));
        assert_eq!(
            int(BindValue::BitNum("110111".into())),
            Some(Value::Int(55))
        );
        assert_eq!(int(BindValue::HexNum("FFFFFFFFFFFFFFFF".into())), None);
        // MariaDB compares '7.5' with no integer but rounds it to 8 where it looks the value
        // up in an index: the WHERE decides on every shard.
        assert_eq!(int(text("7.5")), None);
        // Decimals, floats and temporal values still route by the WHERE alone.
        assert_eq!(int(BindValue::Decimal("7.0".into())), None);
        assert_eq!(int(BindValue::Float64("7e0".into())), None);
        assert_eq!(int(BindValue::Int64(7)), Some(Value::Int(7)));
        // A vindex that hashes text reads the column's text, not the number.
        let loose = vschema::vindexes::create_vindex("unicode_loose_md5", "u", &Default::default())
            .unwrap();
        assert_eq!(
            routing_value(&text("07"), &*loose, ColumnKind::Integer),
            None
        );
    }

    fn vars() -> BindVars {
        let mut v = BindVars::default();
        v.insert("id".into(), BindValue::Int64(7));
        v.insert("s".into(), BindValue::VarChar(b"a'b".to_vec()));
        v.insert(
            "__vals".into(),
            BindValue::Tuple(vec![BindValue::Int64(1), BindValue::Int64(2)]),
        );
        v
    }

    #[test]
    fn substitutes_outside_quotes_and_comments() {
        let sql = "select ':id', `:id` /* :id */ from t where a = :id and b = :s and c in ::__vals";
        assert_eq!(
            substitute(sql, &vars()).unwrap(),
            "select ':id', `:id` /* :id */ from t where a = 7 and b = 'a\\'b' and c in (1, 2)"
        );
        assert_eq!(substitute("set @a := 1", &vars()).unwrap(), "set @a := 1");
        assert_eq!(
            substitute(
                "select 1 where a in ( :__vals ) and b in (:__vals)",
                &vars()
            )
            .unwrap(),
            "select 1 where a in (1, 2) and b in (1, 2)"
        );
        let mut empty = vars();
        empty.insert("__vals".into(), BindValue::Tuple(vec![]));
        assert_eq!(substitute("a in (:__vals)", &empty).unwrap(), "a in (NULL)");
        assert!(matches!(
            substitute("select :nope", &vars()),
            Err(EngineError::MissingBindVar(n)) if n == "nope"
        ));
    }

    #[test]
    fn literals_become_values() {
        let e = sql::parse::parse("select 1, 'x\\'y', 0x1F, null, 1.50, 18446744073709551615, -3")
            .unwrap();
        let sqlparser::ast::Statement::Query(q) = e else {
            panic!()
        };
        let sqlparser::ast::SetExpr::Select(s) = q.body.as_ref() else {
            panic!()
        };
        let vals: Vec<_> = s
            .projection
            .iter()
            .map(|p| match p {
                sqlparser::ast::SelectItem::UnnamedExpr(e) => PlanValue::from_expr(e).unwrap(),
                _ => panic!(),
            })
            .collect();
        assert_eq!(vals[0], PlanValue::Literal(BindValue::Int64(1)));
        assert_eq!(
            vals[1],
            PlanValue::Literal(BindValue::VarChar(b"x'y".to_vec()))
        );
        assert_eq!(
            vindex_value(&vals[2].resolve(&vars()).unwrap()).ok(),
            Some(Value::Bytes(vec![0x1f]))
        );
        assert!(vals[3].is_null_literal());
        assert_eq!(
            vals[4],
            PlanValue::Literal(BindValue::Decimal("1.50".into()))
        );
        assert_eq!(vals[5], PlanValue::Literal(BindValue::Uint64(u64::MAX)));
        assert_eq!(vals[6], PlanValue::Literal(BindValue::Int64(-3)));
    }
}
