//! The integer MariaDB compares a string with, against an integer column.
//!
//! `int_col = 'str'` reads the string as an exact number (not a double): leading ASCII
//! whitespace, a sign, digits, a fraction and an exponent, up to the first character that
//! cannot continue them (`' +07.000xyz'` is 7, `'0.8e1'` is 8, `'7e'` is 7, `'abc'` and `''`
//! are 0). A reading with a fraction (`'7.50'`) equals no integer there, but where MariaDB
//! first stores the value in the column's type (an index lookup of a join) it rounds to 8:
//! such a string is left to MySQL.

/// What a string equals against an integer column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IntegerReading {
    /// Exactly this integer.
    Integer(i64),
    /// A number with a fraction: compared, no integer equals it; stored, it rounds.
    NoInteger,
    /// Out of range, or too long to read here: left to MySQL.
    Unknown,
}

/// Digits read here at most: any longer reading is [`IntegerReading::Unknown`].
const MAX_DIGITS: usize = 64;

/// How MariaDB reads `text` against an integer column.
pub(crate) fn integer_reading(text: &[u8]) -> IntegerReading {
    let mut rest = text.trim_ascii_start();
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'-' | b'+')) {
        rest = &rest[1..];
    }
    unsigned_reading(rest, negative)
}

fn unsigned_reading(rest: &[u8], negative: bool) -> IntegerReading {
    let (whole, rest) = split_digits(rest);
    let (fraction, rest) = match rest.strip_prefix(b".") {
        Some(after) => split_digits(after),
        None => (&b""[..], rest),
    };
    if whole.is_empty() && fraction.is_empty() {
        // Nothing numeric: MariaDB reads 0.
        return IntegerReading::Integer(0);
    }
    let exponent = match exponent(rest) {
        Some(e) => e,
        None => return IntegerReading::Unknown,
    };
    // The digits, and where the decimal point goes from their end.
    let digits: Vec<u8> = whole.iter().chain(fraction).copied().collect();
    let Some(first) = digits.iter().position(|&d| d != b'0') else {
        return IntegerReading::Integer(0);
    };
    let digits = &digits[first..];
    let scale = fraction.len() as i64 - exponent;
    let integer_digits: Vec<u8> = if scale <= 0 {
        let zeros = usize::try_from(-scale).unwrap_or(usize::MAX);
        if digits.len().saturating_add(zeros) > MAX_DIGITS {
            return IntegerReading::Unknown;
        }
        digits
            .iter()
            .copied()
            .chain(std::iter::repeat_n(b'0', zeros))
            .collect()
    } else {
        let scale = usize::try_from(scale).unwrap_or(usize::MAX);
        let keep = digits.len().saturating_sub(scale);
        if digits[keep..].iter().any(|&d| d != b'0') {
            return IntegerReading::NoInteger;
        }
        digits[..keep].to_vec()
    };
    if integer_digits.len() > MAX_DIGITS {
        return IntegerReading::Unknown;
    }
    let text = std::str::from_utf8(&integer_digits).unwrap_or("");
    let magnitude: i128 = match text {
        "" => 0,
        t => match t.parse() {
            Ok(m) => m,
            Err(_) => return IntegerReading::Unknown,
        },
    };
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).map_or(IntegerReading::Unknown, IntegerReading::Integer)
}

/// The leading ASCII digits of `b` and what follows them.
fn split_digits(b: &[u8]) -> (&[u8], &[u8]) {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    b.split_at(n)
}

/// The exponent that follows a number (`e5`, `E-2`), 0 when there is none or it has no
/// digits (`'7e'` is 7); None when it is too large to read.
fn exponent(rest: &[u8]) -> Option<i64> {
    let Some(after) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) else {
        return Some(0);
    };
    let (negative, after) = match after.first() {
        Some(b'-') => (true, &after[1..]),
        Some(b'+') => (false, &after[1..]),
        _ => (false, after),
    };
    let (digits, _) = split_digits(after);
    if digits.is_empty() {
        return Some(0);
    }
    let e = digits.iter().fold(0i64, |acc, d| {
        acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    if e > 2 * MAX_DIGITS as i64 {
        return None;
    }
    Some(if negative { -e } else { e })
}

#[cfg(test)]
mod tests {
    use super::IntegerReading::{Integer, NoInteger, Unknown};
    use super::*;

    /// Each case as MariaDB 10.11 answered `select id from t where id = '<text>'`.
    #[test]
    fn reads_as_mariadb_compares() {
        for (text, want) in [
            ("07", Integer(7)),
            (" 7", Integer(7)),
            ("\t\n\r7", Integer(7)),
            ("+7", Integer(7)),
            ("7abc", Integer(7)),
            (" +07.000xyz", Integer(7)),
            ("7.", Integer(7)),
            ("7e0", Integer(7)),
            ("7e", Integer(7)),
            ("0.8e1", Integer(8)),
            ("70e-1", Integer(7)),
            ("abc", Integer(0)),
            ("", Integer(0)),
            (" ", Integer(0)),
            ("-", Integer(0)),
            ("-0", Integer(0)),
            ("0x37", Integer(0)),
            ("-12", Integer(-12)),
            ("7.50", NoInteger),
            ("7.00000000000000000001", NoInteger),
            ("9007199254740993.0", Integer(9_007_199_254_740_993)),
            ("9223372036854775808", Unknown),
            ("-9223372036854775808", Integer(i64::MIN)),
            ("1e999999999999999999999", Unknown),
            ("1e-999", Unknown),
            ("5e-1", NoInteger),
        ] {
            assert_eq!(integer_reading(text.as_bytes()), want, "{text:?}");
        }
    }
}
