//! Comparing the cells of result rows the way MySQL orders them, for merge
//! sorts, aggregates and distinct: integers, decimals and floats by value,
//! binary strings by bytes, `*_bin` text by bytes without trailing spaces
//! (`*_nopad_bin` with them), UTF-8 `*_general_ci` and `*_unicode_ci` text
//! by its weights ([`general_ci`], [`unicode_ci`]), temporal types by value. NULL sorts first. Anything the
//! engine cannot compare exactly (ENUM, SET, JSON, other collations) is an
//! error rather than a guess.
//!
//! A text field's collation is its `charset` id. The tablet sets a table
//! column's own (MariaDB reports every text column with its result character
//! set's default collation); an expression keeps MariaDB's id, with the
//! BINARY flag set when its collation is a `_bin` one, or gets 0 where the
//! tablet cannot tell its collation.

mod general_ci;
mod general_ci_weights;
mod unicode_ci;
mod unicode_ci_weights;

use std::cmp::Ordering;

use proto::query::{Field, Type};
use proto::sqltypes::{flag, BINARY_COLLATION, UNKNOWN_COLLATION};

use crate::error::{EngineError, Result};

/// Collation ids whose order is byte order with trailing spaces ignored: `utf8mb4_bin`,
/// `latin1_bin`, `ascii_bin`, `utf8mb3_bin`.
const BIN_COLLATIONS: &[u32] = &[46, 47, 65, 83];
/// Byte order, trailing spaces counted: MariaDB's `utf8mb4_nopad_bin`, `latin1_nopad_bin`,
/// `ascii_nopad_bin`, `utf8mb3_nopad_bin`.
const NOPAD_BIN_COLLATIONS: &[u32] = &[1070, 1071, 1089, 1107];
/// `utf8mb3_general_ci` and `utf8mb4_general_ci`.
const GENERAL_CI_COLLATIONS: &[u32] = &[33, 45];
/// MariaDB's `utf8mb3_general_nopad_ci` and `utf8mb4_general_nopad_ci`: the same, trailing
/// spaces counted.
const GENERAL_NOPAD_CI_COLLATIONS: &[u32] = &[1057, 1069];
/// `utf8mb3_unicode_ci` and `utf8mb4_unicode_ci`.
const UNICODE_CI_COLLATIONS: &[u32] = &[192, 224];
/// MariaDB's `utf8mb3_unicode_nopad_ci` and `utf8mb4_unicode_nopad_ci`.
const UNICODE_NOPAD_CI_COLLATIONS: &[u32] = &[1216, 1248];

/// `utf8mb4_general_ci`: the collation of vtgate's connections to the tablets, which text
/// without a column's collation (literals, numbers) takes.
pub const UTF8MB4_GENERAL_CI: u32 = 45;
/// `utf8mb4_bin`, as the tablet reports a column of that collation.
pub const UTF8MB4_BIN: u32 = 46;

/// The collation MySQL gives text of these implicit (column) collations together, as
/// CONCAT's result: the one there is, `utf8mb4_bin` for it with `utf8mb4_general_ci`
/// (MySQL's rule for a `_bin` and a `_ci` collation of one character set), the
/// connection's without any; None for other mixes, which MariaDB mostly fails (1267) or
/// resolves by rules the ids do not tell apart.
pub fn united_collation(collations: &[u32]) -> Option<u32> {
    let mut distinct: Vec<u32> = collations.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    match distinct.as_slice() {
        [] => Some(UTF8MB4_GENERAL_CI),
        [one] => Some(*one),
        [UTF8MB4_GENERAL_CI, UTF8MB4_BIN] => Some(UTF8MB4_BIN),
        _ => None,
    }
}

/// The id of a collation vtgate compares, by its name in SQL or in `information_schema`
/// (MariaDB's `utf8` is `utf8mb3`); None for any other.
pub fn collation_id(name: &str) -> Option<u32> {
    let name = name.to_ascii_lowercase();
    let (charset, rest) = match name.split_once('_') {
        Some(("utf8mb4", rest)) => (0, rest),
        Some(("utf8mb3" | "utf8", rest)) => (1, rest),
        _ => return (name == "binary").then_some(BINARY_COLLATION),
    };
    let ids: [u32; 2] = match rest {
        "general_ci" => [45, 33],
        "bin" => [46, 83],
        "unicode_ci" => [224, 192],
        "general_nopad_ci" => [1069, 1057],
        "nopad_bin" => [1070, 1107],
        "unicode_nopad_ci" => [1248, 1216],
        _ => return None,
    };
    Some(ids[charset])
}

/// How the values of one column compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareKind {
    /// Signed integers.
    Signed,
    /// Unsigned integers.
    Unsigned,
    /// Floating point.
    Float,
    /// Exact decimals.
    Decimal,
    /// Bytes as they are.
    Bytes,
    /// Bytes with trailing spaces ignored (`*_bin` collations).
    PadBytes,
    /// UTF-8 `*_general_ci` weights, trailing spaces ignored.
    GeneralCi,
    /// UTF-8 `*_general_nopad_ci` weights, trailing spaces counted.
    GeneralCiNoPad,
    /// UTF-8 `*_unicode_ci` (UCA 4.0.0) weights, trailing spaces ignored.
    UnicodeCi,
    /// UTF-8 `*_unicode_nopad_ci` weights, trailing spaces counted.
    UnicodeCiNoPad,
    /// `TIME` values (may be negative or over 24 hours).
    Time,
}

impl CompareKind {
    /// The comparison for a result column.
    pub fn for_field(field: &Field) -> Result<Self> {
        let typ = Type::try_from(field.r#type).unwrap_or(Type::NullType);
        if is_text(field)
            && field.flags & flag::BINARY != 0
            && GENERAL_CI_COLLATIONS.contains(&field.charset)
        {
            // An expression in a `_bin` collation: MariaDB reports the character set's
            // default collation with the BINARY flag.
            return Ok(CompareKind::PadBytes);
        }
        Self::for_type(typ, field.charset, &field.name)
    }

    /// The comparison for a column type and collation id.
    pub fn for_type(typ: Type, collation: u32, name: &str) -> Result<Self> {
        use Type as T;
        Ok(match typ {
            T::Int8 | T::Int16 | T::Int24 | T::Int32 | T::Int64 | T::Year | T::NullType => {
                CompareKind::Signed
            }
            T::Uint8 | T::Uint16 | T::Uint24 | T::Uint32 | T::Uint64 => CompareKind::Unsigned,
            T::Float32 | T::Float64 => CompareKind::Float,
            T::Decimal => CompareKind::Decimal,
            T::Date | T::Datetime | T::Timestamp => CompareKind::Bytes,
            T::Time => CompareKind::Time,
            T::Binary | T::Varbinary | T::Blob | T::Bit => CompareKind::Bytes,
            T::Text | T::Varchar | T::Char => match collation {
                BINARY_COLLATION => CompareKind::Bytes,
                c if BIN_COLLATIONS.contains(&c) => CompareKind::PadBytes,
                c if NOPAD_BIN_COLLATIONS.contains(&c) => CompareKind::Bytes,
                c if GENERAL_CI_COLLATIONS.contains(&c) => CompareKind::GeneralCi,
                c if GENERAL_NOPAD_CI_COLLATIONS.contains(&c) => CompareKind::GeneralCiNoPad,
                c if UNICODE_CI_COLLATIONS.contains(&c) => CompareKind::UnicodeCi,
                c if UNICODE_NOPAD_CI_COLLATIONS.contains(&c) => CompareKind::UnicodeCiNoPad,
                UNKNOWN_COLLATION => {
                    return Err(EngineError::unsupported(format!(
                        "comparing {name}, text whose collation the tablet cannot tell, in vtgate"
                    )))
                }
                c => {
                    return Err(EngineError::unsupported(format!(
                        "comparing column {name} with collation id {c} in vtgate"
                    )))
                }
            },
            other => {
                return Err(EngineError::unsupported(format!(
                    "comparing column {name} of type {} in vtgate",
                    other.as_str_name()
                )))
            }
        })
    }

    /// Compares two cells, NULL (`None`) first.
    pub fn compare(self, a: Option<&[u8]>, b: Option<&[u8]>) -> Result<Ordering> {
        match (a, b) {
            (None, None) => Ok(Ordering::Equal),
            (None, Some(_)) => Ok(Ordering::Less),
            (Some(_), None) => Ok(Ordering::Greater),
            (Some(a), Some(b)) => self.compare_values(a, b),
        }
    }

    fn compare_values(self, a: &[u8], b: &[u8]) -> Result<Ordering> {
        Ok(match self {
            CompareKind::Signed => parse::<i64>(a)?.cmp(&parse::<i64>(b)?),
            CompareKind::Unsigned => parse::<u64>(a)?.cmp(&parse::<u64>(b)?),
            CompareKind::Float => {
                let (x, y) = (parse::<f64>(a)?, parse::<f64>(b)?);
                x.partial_cmp(&y)
                    .ok_or_else(|| EngineError::BadResult("NaN in a float column".into()))?
            }
            CompareKind::Decimal => Decimal::parse(a)?.cmp(&Decimal::parse(b)?),
            CompareKind::Bytes => a.cmp(b),
            CompareKind::PadBytes => pad_space_cmp(a.iter().copied(), b.iter().copied(), b' '),
            CompareKind::GeneralCi => general_ci::compare(a, b, true)?,
            CompareKind::GeneralCiNoPad => general_ci::compare(a, b, false)?,
            CompareKind::UnicodeCi => unicode_ci::compare(a, b, true)?,
            CompareKind::UnicodeCiNoPad => unicode_ci::compare(a, b, false)?,
            CompareKind::Time => time_micros(a)?.cmp(&time_micros(b)?),
        })
    }
}

/// The hash key of a PAD SPACE `*_general_ci` text: equal for texts that compare equal.
pub fn general_ci_key(b: &[u8]) -> Result<Vec<u8>> {
    general_ci::pad_key(b)
}

/// The hash key of a PAD SPACE `*_unicode_ci` text: equal for texts that compare equal.
pub fn unicode_ci_key(b: &[u8]) -> Result<Vec<u8>> {
    unicode_ci::pad_key(b)
}

/// Whether a field holds text (its order depends on a collation).
pub fn is_text(field: &Field) -> bool {
    matches!(
        Type::try_from(field.r#type),
        Ok(Type::Text | Type::Varchar | Type::Char)
    )
}

/// The text of a cell in a UTF-8 collation.
fn utf8(b: &[u8]) -> Result<&str> {
    std::str::from_utf8(b).map_err(|_| {
        EngineError::unsupported("comparing text of a UTF-8 collation that is not UTF-8 in vtgate")
    })
}

/// Compares two texts' weights: PAD SPACE (`pad`, the shorter padded with `space`'s weight)
/// or NO PAD.
fn cmp_weights<T: Ord + Copy>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    pad: bool,
    space: T,
) -> Ordering {
    if pad {
        pad_space_cmp(a, b, space)
    } else {
        a.cmp(b)
    }
}

/// A PAD SPACE text's hash key: its weights without the trailing spaces' (`space`), so
/// texts that compare equal have equal keys.
fn pad_key(weights: impl Iterator<Item = u16>, space: u16) -> Vec<u8> {
    let mut key: Vec<u8> = weights.flat_map(u16::to_be_bytes).collect();
    while key.ends_with(&space.to_be_bytes()) {
        key.truncate(key.len() - 2);
    }
    key
}

/// PAD SPACE comparison: the shorter string compares as if padded with
/// spaces (`space`, a byte or a weight), so `'a ' = 'a'` but `'a\t' < 'a'`.
fn pad_space_cmp<T: Ord + Copy>(
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    space: T,
) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => {
                let o = x.unwrap_or(space).cmp(&y.unwrap_or(space));
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

fn parse<T: std::str::FromStr>(b: &[u8]) -> Result<T> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| bad_number(b))
}

fn bad_number(b: &[u8]) -> EngineError {
    EngineError::BadResult(format!(
        "cannot read {:?} as a number",
        String::from_utf8_lossy(b)
    ))
}

/// `[-]H:MM:SS[.ffffff]` as signed microseconds.
pub(crate) fn time_micros(b: &[u8]) -> Result<i128> {
    let s = std::str::from_utf8(b).map_err(|_| bad_number(b))?;
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut total: i128 = 0;
    for part in hms.split(':') {
        total = total
            .saturating_mul(60)
            .saturating_add(part.parse::<i128>().map_err(|_| bad_number(b))?);
    }
    let mut micros: i128 = 0;
    for i in 0..6 {
        let d = frac
            .as_bytes()
            .get(i)
            .map_or(0, |c| i128::from(c.wrapping_sub(b'0')));
        micros = micros * 10 + d;
    }
    let v = total.saturating_mul(1_000_000).saturating_add(micros);
    Ok(if neg { -v } else { v })
}

/// An exact decimal read from MySQL text: sign, integer digits without
/// leading zeros, fraction digits without trailing zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    negative: bool,
    int: Vec<u8>,
    frac: Vec<u8>,
}

impl Decimal {
    /// Parses `[-+]digits[.digits]`.
    pub fn parse(b: &[u8]) -> Result<Self> {
        let s = std::str::from_utf8(b).map_err(|_| bad_number(b))?.trim();
        let (negative, s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
        {
            return Err(bad_number(b));
        }
        let int = int.trim_start_matches('0').as_bytes().to_vec();
        let frac = frac.trim_end_matches('0').as_bytes().to_vec();
        let zero = int.is_empty() && frac.is_empty();
        Ok(Decimal {
            negative: negative && !zero,
            int,
            frac,
        })
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            .then_with(|| self.frac.cmp(&other.frac))
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(kind: CompareKind, a: &str, b: &str) -> Ordering {
        kind.compare(Some(a.as_bytes()), Some(b.as_bytes()))
            .unwrap()
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(cmp(CompareKind::Signed, "-5", "3"), Ordering::Less);
        assert_eq!(cmp(CompareKind::Signed, "10", "9"), Ordering::Greater);
        assert_eq!(
            cmp(CompareKind::Unsigned, "18446744073709551615", "9"),
            Ordering::Greater
        );
        assert_eq!(cmp(CompareKind::Float, "1e3", "999.5"), Ordering::Greater);
        assert_eq!(cmp(CompareKind::Decimal, "-1.50", "-1.5"), Ordering::Equal);
        assert_eq!(cmp(CompareKind::Decimal, "-2.1", "-2.05"), Ordering::Less);
        assert_eq!(
            cmp(CompareKind::Decimal, "10.01", "9.999"),
            Ordering::Greater
        );
        assert_eq!(cmp(CompareKind::Decimal, "-0.00", "0"), Ordering::Equal);
        assert_eq!(
            cmp(CompareKind::Time, "-01:00:00", "00:59:59"),
            Ordering::Less
        );
        assert_eq!(
            cmp(CompareKind::Time, "100:00:00", "99:59:59.5"),
            Ordering::Greater
        );
    }

    #[test]
    fn nulls_first() {
        let k = CompareKind::Signed;
        assert_eq!(k.compare(None, Some(b"-9")).unwrap(), Ordering::Less);
        assert_eq!(k.compare(None, None).unwrap(), Ordering::Equal);
    }

    #[test]
    fn columns_of_two_collations_unite_only_as_bin_with_general_ci() {
        assert_eq!(united_collation(&[]), Some(UTF8MB4_GENERAL_CI));
        assert_eq!(united_collation(&[224, 224]), Some(224));
        assert_eq!(united_collation(&[46, 45, 46]), Some(UTF8MB4_BIN));
        assert_eq!(united_collation(&[224, 45]), None);
        assert_eq!(united_collation(&[46, 224]), None);
    }

    #[test]
    fn collation_names_give_the_ids_vtgate_compares() {
        assert_eq!(collation_id("utf8mb4_bin"), Some(46));
        assert_eq!(collation_id("UTF8_UNICODE_CI"), Some(192));
        assert_eq!(collation_id("utf8mb3_general_nopad_ci"), Some(1057));
        assert_eq!(collation_id("binary"), Some(BINARY_COLLATION));
        assert_eq!(collation_id("latin1_bin"), None);
        assert_eq!(collation_id("utf8mb4_unicode_520_ci"), None);
        for name in [
            "utf8mb4_unicode_nopad_ci",
            "utf8mb4_nopad_bin",
            "utf8mb4_general_ci",
        ] {
            let id = collation_id(name).unwrap();
            assert!(
                CompareKind::for_type(Type::Varchar, id, "c").is_ok(),
                "{name}"
            );
        }
    }

    #[test]
    fn text_follows_collation() {
        let ci = CompareKind::for_type(Type::Varchar, 45, "c").unwrap();
        assert_eq!(cmp(ci, "abc", "ABC  "), Ordering::Equal);
        assert_eq!(cmp(ci, "a", "B"), Ordering::Less);
        assert_eq!(cmp(ci, "é", "E"), Ordering::Equal);
        assert_eq!(cmp(ci, "Ärger", "b"), Ordering::Less);
        let bin = CompareKind::for_type(Type::Varchar, 46, "c").unwrap();
        assert_eq!(cmp(bin, "a", "B"), Ordering::Greater);
        assert_eq!(cmp(bin, "a ", "a"), Ordering::Equal);
        assert_eq!(cmp(bin, "a\t", "a"), Ordering::Less);
        assert_eq!(cmp(ci, "A\t", "a"), Ordering::Less);
        assert_eq!(cmp(ci, "ab", "A"), Ordering::Greater);
        let raw = CompareKind::for_type(Type::Varbinary, 63, "c").unwrap();
        assert_eq!(cmp(raw, "a ", "a"), Ordering::Greater);
        let unicode = CompareKind::for_type(Type::Varchar, 224, "c").unwrap();
        assert_eq!(cmp(unicode, "Straße", "strasse "), Ordering::Equal);
        assert!(CompareKind::for_type(Type::Varchar, 246, "c").is_err());
        assert!(CompareKind::for_type(Type::Enum, 45, "c").is_err());
        let nopad_bin = CompareKind::for_type(Type::Varchar, 1070, "c").unwrap();
        assert_eq!(cmp(nopad_bin, "a ", "a"), Ordering::Greater);
        assert_eq!(cmp(nopad_bin, "a", "B"), Ordering::Greater);
        let nopad_ci = CompareKind::for_type(Type::Varchar, 1069, "c").unwrap();
        assert_eq!(cmp(nopad_ci, "a ", "A"), Ordering::Greater);
        assert_eq!(cmp(nopad_ci, "ab", "AB"), Ordering::Equal);
    }

    #[test]
    fn binary_flag_marks_a_bin_expression() {
        let field = |flags: u32| Field {
            name: "x".into(),
            r#type: Type::Varchar as i32,
            charset: 45,
            flags,
            ..Field::default()
        };
        let bin = CompareKind::for_field(&field(flag::BINARY)).unwrap();
        assert_eq!(bin, CompareKind::PadBytes);
        assert_eq!(cmp(bin, "a", "B"), Ordering::Greater);
        assert_eq!(
            CompareKind::for_field(&field(0)).unwrap(),
            CompareKind::GeneralCi
        );
    }
}
