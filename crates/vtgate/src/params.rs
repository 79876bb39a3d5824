//! Binary-protocol parameters (COM_STMT_EXECUTE) as SQL literals that carry their type.
//!
//! Tablets receive SQL text, so each `?` becomes a literal. The literal is chosen so that
//! MariaDB gives the expression the type it gives a bound parameter of the same kind, e.g.
//! `SELECT ? AS p` with a DATE parameter is a DATE column: DATE → `DATE'…'`, DATETIME and
//! TIMESTAMP → `TIMESTAMP'…'`, TIME → `TIME'…'`, DOUBLE → `1.5e0` (shortest round-trip
//! digits), FLOAT → `CAST(1.5e0 AS FLOAT)`, DECIMAL → the bare number, BLOB types →
//! `_binary'…'`, other strings → `'…'`; bytes that are not UTF-8 become a VARBINARY bind
//! variable ([`RawLiterals`]) that the tablet writes back as quoted raw bytes.
//!
//! Out-of-range temporal values are handled as MariaDB's `set_param_time` and
//! `check_datetime_range` do: a TIME over 838 hours is clamped to 838:59:59, and a value with a
//! minute, second, fraction, month, day or hour out of range becomes the zero value.

use std::fmt::Write as _;

use mysql_common::constants::ColumnType;
use mysql_common::value::Value;
use mysql_server::stmt::Param;

use crate::error::VtError;
use crate::rewrite::quote;
use crate::text::{placeholders, RawLiterals};

/// Replaces each placeholder of `sql` with the literal of its parameter.
pub fn bind(sql: &str, params: &[Param], raw: &mut RawLiterals) -> Result<String, VtError> {
    let marks = placeholders(sql);
    if marks.len() != params.len() {
        return Err(VtError::Other(format!(
            "statement has {} placeholders but {} values were bound",
            marks.len(),
            params.len()
        )));
    }
    let mut out = String::with_capacity(sql.len() + params.len() * 8);
    let mut pos = 0;
    for (mark, param) in marks.iter().zip(params) {
        out.push_str(&sql[pos..*mark]);
        write_param(&mut out, param, raw)?;
        pos = mark + 1;
    }
    out.push_str(&sql[pos..]);
    Ok(out)
}

/// Appends one parameter as a typed SQL literal.
pub fn write_param(out: &mut String, param: &Param, raw: &mut RawLiterals) -> Result<(), VtError> {
    match &param.value {
        Value::NULL => out.push_str("NULL"),
        Value::Int(v) => {
            let _ = write!(out, "{v}");
        }
        Value::UInt(v) => {
            let _ = write!(out, "{v}");
        }
        Value::Float(v) => {
            if !v.is_finite() {
                return Err(non_finite(*v as f64));
            }
            let _ = write!(out, "CAST({v:e} AS FLOAT)");
        }
        Value::Double(v) => {
            if !v.is_finite() {
                return Err(non_finite(*v));
            }
            let _ = write!(out, "{v:e}");
        }
        Value::Bytes(b) => write_bytes(out, param.column_type, b, raw),
        Value::Date(y, mo, d, h, mi, s, us) => {
            let date_only = param.column_type == ColumnType::MYSQL_TYPE_DATE;
            write_datetime(out, date_only, (*y, *mo, *d, *h, *mi, *s, *us));
        }
        Value::Time(neg, days, h, mi, s, us) => {
            write_time(
                out,
                *neg,
                u64::from(*days) * 24 + u64::from(*h),
                *mi,
                *s,
                *us,
            );
        }
    }
    Ok(())
}

fn non_finite(v: f64) -> VtError {
    VtError::Other(format!(
        "cannot bind the non-finite floating-point parameter {v}: SQL has no literal for it"
    ))
}

fn write_bytes(out: &mut String, column_type: ColumnType, b: &[u8], raw: &mut RawLiterals) {
    use ColumnType::*;
    let binary = matches!(
        column_type,
        MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_BLOB
            | MYSQL_TYPE_GEOMETRY
    );
    let decimal = matches!(column_type, MYSQL_TYPE_NEWDECIMAL | MYSQL_TYPE_DECIMAL);
    match std::str::from_utf8(b) {
        Ok(s) if decimal && is_decimal(s) => out.push_str(s),
        Ok(s) => {
            if binary {
                out.push_str("_binary");
            }
            out.push_str(&quote(s));
        }
        Err(_) => {
            if binary {
                out.push_str("_binary");
            }
            out.push_str(&raw.add(b.to_vec()));
        }
    }
}

/// `[-+]digits[.digits]` or `[-+].digits`: a decimal number safe to put in SQL bare.
fn is_decimal(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac)
}

type DateTime = (u16, u8, u8, u8, u8, u8, u32);

fn write_datetime(out: &mut String, date_only: bool, v: DateTime) {
    let (y, mo, d, h, mi, s, us) = v;
    let (y, mo, d, h, mi, s, us) =
        if y > 9999 || mo > 12 || d > 31 || h > 23 || mi > 59 || s > 59 || us > 999_999 {
            (0, 0, 0, 0, 0, 0, 0)
        } else {
            v
        };
    let zero = (y, mo, d) == (0, 0, 0);
    // A typed literal must be a real calendar date (or the zero date); anything else MariaDB
    // accepts only as a string, so it goes as one.
    let typed = zero || (mo >= 1 && d >= 1 && d <= days_in_month(y, mo));
    match (typed, date_only) {
        (true, true) => out.push_str("DATE'"),
        (true, false) => out.push_str("TIMESTAMP'"),
        (false, _) => out.push('\''),
    }
    let _ = write!(out, "{y:04}-{mo:02}-{d:02}");
    if !date_only {
        let _ = write!(out, " {h:02}:{mi:02}:{s:02}");
        if us > 0 {
            let _ = write!(out, ".{us:06}");
        }
    }
    out.push('\'');
}

fn days_in_month(y: u16, mo: u8) -> u8 {
    match mo {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn write_time(out: &mut String, neg: bool, hours: u64, mi: u8, s: u8, us: u32) {
    let (neg, hours, mi, s, us) = if hours > 838 && us <= 999_999 {
        // What MariaDB makes of such a bound parameter: the hours clamped, the fraction kept
        // (839:00:00.000001 becomes 838:59:59.000001).
        (neg, 838, 59, 59, us)
    } else if hours > 838 {
        (neg, 838, 59, 59, 0)
    } else if mi > 59 || s > 59 || us > 999_999 {
        (false, 0, 0, 0, 0)
    } else {
        (neg, hours, mi, s, us)
    };
    let sign = if neg { "-" } else { "" };
    let _ = write!(out, "TIME'{sign}{hours:02}:{mi:02}:{s:02}");
    if us > 0 {
        let _ = write!(out, ".{us:06}");
    }
    out.push('\'');
}

#[cfg(test)]
mod tests;
