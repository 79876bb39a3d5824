//! The binary protocol's row format: converts the text-format value of a column (what handlers
//! produce) into its binary encoding, chosen by the column type.

use bytes::{BufMut, BytesMut};
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::io::BufMutExt;
use mysql_common::proto::MySerialize;
use mysql_common::value::Value;

/// A text value that does not fit its column's binary type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode {value:?} as binary {column_type:?}")]
pub struct ConvertError {
    /// The column type.
    pub column_type: ColumnType,
    /// The offending text (lossy).
    pub value: String,
}

/// Appends a whole binary result row (header, NULL bitmap, values).
pub fn encode_row(
    buf: &mut BytesMut,
    columns: &[(ColumnType, ColumnFlags)],
    row: &[Option<&[u8]>],
) -> Result<(), ConvertError> {
    buf.put_u8(0x00);
    let bitmap_at = buf.len();
    let bitmap_len = (columns.len() + 7 + 2) / 8;
    buf.put_bytes(0, bitmap_len);
    for (i, (col, value)) in columns.iter().zip(row).enumerate() {
        match value {
            None => {
                let bit = i + 2;
                buf[bitmap_at + bit / 8] |= 1 << (bit % 8);
            }
            Some(text) => encode_value(buf, col.0, col.1, text)?,
        }
    }
    Ok(())
}

/// Appends the binary encoding of one non-NULL text value.
pub fn encode_value(
    buf: &mut BytesMut,
    column_type: ColumnType,
    flags: ColumnFlags,
    text: &[u8],
) -> Result<(), ConvertError> {
    use ColumnType::*;
    let fail = || ConvertError {
        column_type,
        value: String::from_utf8_lossy(text).into_owned(),
    };
    let width = match column_type {
        MYSQL_TYPE_TINY => 1,
        MYSQL_TYPE_SHORT | MYSQL_TYPE_YEAR => 2,
        MYSQL_TYPE_LONG | MYSQL_TYPE_INT24 => 4,
        MYSQL_TYPE_LONGLONG => 8,
        MYSQL_TYPE_FLOAT => {
            let v: f32 = parse(text).ok_or_else(fail)?;
            buf.put_f32_le(v);
            return Ok(());
        }
        MYSQL_TYPE_DOUBLE => {
            let v: f64 = parse(text).ok_or_else(fail)?;
            buf.put_f64_le(v);
            return Ok(());
        }
        MYSQL_TYPE_DATE
        | MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_NEWDATE
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP2 => {
            let v = parse_datetime(text).ok_or_else(fail)?;
            serialize(buf, &v);
            return Ok(());
        }
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => {
            let v = parse_time(text).ok_or_else(fail)?;
            serialize(buf, &v);
            return Ok(());
        }
        _ => {
            buf.put_lenenc_str(text);
            return Ok(());
        }
    };
    if flags.contains(ColumnFlags::UNSIGNED_FLAG) {
        let v: u64 = parse(text).ok_or_else(fail)?;
        buf.put_uint_le(v, width);
    } else {
        let v: i64 = parse(text).ok_or_else(fail)?;
        buf.put_int_le(v, width);
    }
    Ok(())
}

fn serialize(buf: &mut BytesMut, value: &Value) {
    let mut tmp = Vec::with_capacity(13);
    value.serialize(&mut tmp);
    buf.put_slice(&tmp);
}

fn parse<T: std::str::FromStr>(text: &[u8]) -> Option<T> {
    std::str::from_utf8(text).ok()?.trim().parse().ok()
}

fn num<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Parses `.ffffff` (1 to 6 digits) into microseconds.
fn micros(frac: &str) -> Option<u32> {
    if frac.len() > 6 {
        return None;
    }
    let digits: u32 = num(frac)?;
    Some(digits * 10u32.pow(6 - frac.len() as u32))
}

/// Splits `hh:mm:ss[.ffffff]` into its parts.
fn clock(text: &str) -> Option<(u32, u8, u8, u32)> {
    let (hms, usec) = match text.split_once('.') {
        Some((hms, frac)) => (hms, micros(frac)?),
        None => (text, 0),
    };
    let mut it = hms.split(':');
    let h = num(it.next()?)?;
    let m = num(it.next()?)?;
    let s = num(it.next()?)?;
    if it.next().is_some() || m > 59 || s > 59 {
        return None;
    }
    Some((h, m, s, usec))
}

/// Parses `YYYY-MM-DD[ hh:mm:ss[.ffffff]]`.
pub fn parse_datetime(text: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(text).ok()?;
    let (date, time) = match text.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut it = date.split('-');
    let year = num(it.next()?)?;
    let month = num(it.next()?)?;
    let day = num(it.next()?)?;
    if it.next().is_some() {
        return None;
    }
    let (h, m, s, usec) = match time {
        Some(t) => clock(t)?,
        None => (0, 0, 0, 0),
    };
    Some(Value::Date(
        year,
        month,
        day,
        u8::try_from(h).ok()?,
        m,
        s,
        usec,
    ))
}

/// Parses `[-]hhh:mm:ss[.ffffff]` (hours may exceed 24).
pub fn parse_time(text: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(text).ok()?;
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (h, m, s, usec) = clock(rest)?;
    Some(Value::Time(negative, h / 24, (h % 24) as u8, m, s, usec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::io::ParseBuf;
    use mysql_common::value::{BinValue, ValueDeserializer};

    fn round_trip(ty: ColumnType, flags: ColumnFlags, text: &str) -> Value {
        let mut buf = BytesMut::new();
        encode_value(&mut buf, ty, flags, text.as_bytes()).unwrap();
        let mut p = ParseBuf(&buf);
        let v = p
            .parse::<ValueDeserializer<BinValue>>((ty, flags))
            .unwrap()
            .0;
        assert!(p.is_empty(), "trailing bytes for {text}");
        v
    }

    #[test]
    fn integers_at_their_limits() {
        // mysql_common decodes values that fit an i64 as `Int`, also for unsigned columns.
        fn round_trip(ty: ColumnType, flags: ColumnFlags, text: &str) -> Value {
            match super::tests::round_trip(ty, flags, text) {
                Value::Int(v) if v >= 0 && flags.contains(ColumnFlags::UNSIGNED_FLAG) => {
                    Value::UInt(v as u64)
                }
                v => v,
            }
        }
        let u = ColumnFlags::UNSIGNED_FLAG;
        let s = ColumnFlags::empty();
        use ColumnType::*;
        assert_eq!(round_trip(MYSQL_TYPE_TINY, s, "-128"), Value::Int(-128));
        assert_eq!(round_trip(MYSQL_TYPE_TINY, u, "255"), Value::UInt(255));
        assert_eq!(
            round_trip(MYSQL_TYPE_SHORT, s, "-32768"),
            Value::Int(-32768)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_INT24, u, "16777215"),
            Value::UInt(16777215)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_LONG, s, "-2147483648"),
            Value::Int(-2147483648)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_LONGLONG, s, "-9223372036854775808"),
            Value::Int(i64::MIN)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_LONGLONG, u, "18446744073709551615"),
            Value::UInt(u64::MAX)
        );
        assert_eq!(round_trip(MYSQL_TYPE_YEAR, u, "2024"), Value::UInt(2024));
    }

    #[test]
    fn floats_dates_and_times() {
        use ColumnType::*;
        let f = ColumnFlags::empty();
        assert_eq!(round_trip(MYSQL_TYPE_FLOAT, f, "1.5"), Value::Float(1.5));
        assert_eq!(
            round_trip(MYSQL_TYPE_DOUBLE, f, "-2.25e10"),
            Value::Double(-2.25e10)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_DATE, f, "2024-02-29"),
            Value::Date(2024, 2, 29, 0, 0, 0, 0)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_DATETIME, f, "2024-02-29 23:59:58.000120"),
            Value::Date(2024, 2, 29, 23, 59, 58, 120)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_TIMESTAMP, f, "1999-12-31 01:02:03.5"),
            Value::Date(1999, 12, 31, 1, 2, 3, 500_000)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_DATETIME, f, "0000-00-00 00:00:00"),
            Value::Date(0, 0, 0, 0, 0, 0, 0)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_TIME, f, "-838:59:59.000001"),
            Value::Time(true, 34, 22, 59, 59, 1)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_TIME, f, "12:00:00"),
            Value::Time(false, 0, 12, 0, 0, 0)
        );
        assert_eq!(
            round_trip(MYSQL_TYPE_NEWDECIMAL, f, "-12.3400"),
            Value::Bytes(b"-12.3400".to_vec())
        );
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        let mut buf = BytesMut::new();
        for (ty, text) in [
            (ColumnType::MYSQL_TYPE_LONG, "abc"),
            (ColumnType::MYSQL_TYPE_DATE, "2024-13"),
            (ColumnType::MYSQL_TYPE_TIME, "1:2:3.1234567"),
            (ColumnType::MYSQL_TYPE_DOUBLE, ""),
        ] {
            assert!(encode_value(&mut buf, ty, ColumnFlags::empty(), text.as_bytes()).is_err());
        }
    }

    #[test]
    fn null_bitmap_has_offset_two() {
        let cols = [
            (ColumnType::MYSQL_TYPE_LONG, ColumnFlags::empty()),
            (ColumnType::MYSQL_TYPE_VAR_STRING, ColumnFlags::empty()),
        ];
        let mut buf = BytesMut::new();
        encode_row(&mut buf, &cols, &[Some(b"7"), None]).unwrap();
        assert_eq!(&buf[..], &[0x00, 0b0000_1000, 7, 0, 0, 0]);
    }
}
