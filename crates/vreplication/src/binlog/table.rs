//! What a TABLE_MAP event tells about a table, and turning decoded binlog
//! rows into plain MySQL values.
//!
//! `mysql_common` decodes the row images; a few column types come out in a
//! form that is not the column's SQL value, and are fixed here:
//! TIMESTAMP (seconds since the epoch, turned into a UTC date-time: every
//! connection of this crate runs with `time_zone = '+00:00'`), YEAR (raw 0
//! is year 0000), signed MEDIUMINT (-8388608 is not sign-extended), ENUM (an index, turned into its name) and SET (a bitmap,
//! turned into the comma-separated names), BINARY(n) (trailing zero bytes
//! restored).

use std::sync::Arc;

use mysql_async::binlog::events::{OptionalMetadataField, TableMapEvent};
use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType;
use mysql_async::Value;

use crate::error::{Error, Result};

/// Collation id of the `binary` character set.
const BINARY_CHARSET: u16 = 63;

/// TABLE_MAP event type byte, for errors.
const TABLE_MAP_EVENT: u8 = 19;

/// Columns of one table as the binlog describes them.
#[derive(Debug, Clone, PartialEq)]
pub struct TableShape {
    /// Database of the table on the source.
    pub database: String,
    /// Table name.
    pub table: String,
    /// Column names, in table order.
    pub columns: Arc<[String]>,
    types: Vec<ColumnType>,
    /// UNSIGNED flag per column.
    unsigned: Vec<bool>,
    /// Declared byte length of BINARY(n) columns, whose trailing zero bytes
    /// the binlog drops.
    binary_len: Vec<Option<usize>>,
    /// Variant names per column (empty unless ENUM or SET).
    variants: Vec<Vec<Vec<u8>>>,
}

impl TableShape {
    /// Reads names, types and ENUM/SET variants out of a TABLE_MAP event.
    /// Needs `binlog_row_metadata=FULL` on the source: without column names
    /// and signedness the rows cannot be decoded correctly.
    pub fn from_table_map(tme: &TableMapEvent<'_>) -> Result<Self> {
        let count = tme.columns_count() as usize;
        let mut types = Vec::with_capacity(count);
        for i in 0..count {
            match tme.get_column_type(i) {
                Ok(Some(t)) => types.push(t),
                Ok(None) => return Err(Error::decode(TABLE_MAP_EVENT, "missing column type")),
                Err(e) => return Err(Error::decode(TABLE_MAP_EVENT, e)),
            }
        }
        let mut names = Vec::new();
        let mut enum_lists = Vec::new();
        let mut set_lists = Vec::new();
        let mut signedness = Vec::new();
        let mut char_charsets: Option<Vec<u16>> = None;
        let mut default_charset: Option<(u16, Vec<(usize, u16)>)> = None;
        for field in tme.iter_optional_meta() {
            match field.map_err(|e| Error::decode(TABLE_MAP_EVENT, e))? {
                OptionalMetadataField::Signedness(bits) => {
                    signedness = bits.iter().map(|b| *b).collect();
                }
                OptionalMetadataField::DefaultCharset(d) => {
                    let mut others = Vec::new();
                    for nd in d.iter_non_default() {
                        let nd = nd.map_err(|e| Error::decode(TABLE_MAP_EVENT, e))?;
                        others.push((nd.column_index() as usize, nd.charset()));
                    }
                    default_charset = Some((d.default_charset(), others));
                }
                OptionalMetadataField::ColumnCharset(c) => {
                    let mut all = Vec::new();
                    for cs in c.iter_charsets() {
                        all.push(cs.map_err(|e| Error::decode(TABLE_MAP_EVENT, e))?);
                    }
                    char_charsets = Some(all);
                }
                OptionalMetadataField::ColumnName(n) => {
                    for name in n.iter_names() {
                        let name = name.map_err(|e| Error::decode(TABLE_MAP_EVENT, e))?;
                        names.push(name.name().into_owned());
                    }
                }
                OptionalMetadataField::EnumStrValue(v) => {
                    for list in v.iter_values() {
                        let list = list.map_err(|e| Error::decode(TABLE_MAP_EVENT, e))?;
                        enum_lists.push(
                            list.values()
                                .iter()
                                .map(|x| x.value_raw().to_vec())
                                .collect(),
                        );
                    }
                }
                OptionalMetadataField::SetStrValue(v) => {
                    for list in v.iter_values() {
                        let list = list.map_err(|e| Error::decode(TABLE_MAP_EVENT, e))?;
                        set_lists.push(
                            list.values()
                                .iter()
                                .map(|x| x.value_raw().to_vec())
                                .collect(),
                        );
                    }
                }
                _ => {}
            }
        }
        if names.len() != count {
            return Err(Error::Unsupported(format!(
                "table map of {}.{} carries no column names: the source must run with binlog_row_metadata=FULL",
                tme.database_name(),
                tme.table_name()
            )));
        }
        let mut enums = enum_lists.into_iter();
        let mut sets = set_lists.into_iter();
        let mut numeric = signedness.into_iter();
        let unsigned = types
            .iter()
            .map(|t| t.is_numeric_type() && numeric.next().unwrap_or(false))
            .collect();
        let mut binary_len = Vec::with_capacity(count);
        let mut char_index = 0;
        for (i, t) in types.iter().enumerate() {
            if !t.is_character_type() {
                binary_len.push(None);
                continue;
            }
            let charset = match (&char_charsets, &default_charset) {
                (Some(all), _) => all.get(char_index).copied().unwrap_or(0),
                (None, Some((default, others))) => others
                    .iter()
                    .find(|(idx, _)| *idx == char_index)
                    .map_or(*default, |(_, cs)| *cs),
                (None, None) => 0,
            };
            char_index += 1;
            let meta = tme.get_column_metadata(i).unwrap_or(&[]);
            binary_len.push(match (t, meta) {
                (ColumnType::MYSQL_TYPE_STRING, [b0, b1]) if charset == BINARY_CHARSET => {
                    let (b0, b1) = (usize::from(*b0), usize::from(*b1));
                    Some(if b0 & 0x30 != 0x30 {
                        b1 | (((b0 & 0x30) ^ 0x30) << 4)
                    } else {
                        b1
                    })
                }
                _ => None,
            });
        }
        let mut variants = Vec::with_capacity(count);
        for t in &types {
            variants.push(match t {
                ColumnType::MYSQL_TYPE_ENUM => enums.next().unwrap_or_default(),
                ColumnType::MYSQL_TYPE_SET => sets.next().unwrap_or_default(),
                _ => Vec::new(),
            });
        }
        Ok(TableShape {
            database: tme.database_name().into_owned(),
            table: tme.table_name().into_owned(),
            columns: names.into(),
            types,
            unsigned,
            binary_len,
            variants,
        })
    }

    /// Number of columns.
    pub fn column_count(&self) -> usize {
        self.types.len()
    }

    /// Binlog type of column `i` (the real type for ENUM and SET).
    pub fn column_type(&self, i: usize) -> ColumnType {
        self.types[i]
    }

    /// True when column `i` is an UNSIGNED number.
    pub fn is_unsigned(&self, i: usize) -> bool {
        self.unsigned[i]
    }

    /// The SQL values of a full row image, in column order.
    pub fn row_values(&self, event_type: u8, row: Vec<BinlogValue<'_>>) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(self.types.len());
        for (i, value) in row.into_iter().enumerate() {
            let value = match value {
                BinlogValue::Value(v) => v,
                BinlogValue::Jsonb(_) | BinlogValue::JsonDiff(_) => {
                    return Err(Error::Unsupported(format!(
                        "MySQL binary JSON in column {} of {}.{}",
                        self.columns[i], self.database, self.table
                    )))
                }
            };
            out.push(
                self.fix(i, value)
                    .map_err(|r| Error::decode(event_type, r))?,
            );
        }
        Ok(out)
    }

    fn fix(&self, i: usize, value: Value) -> Result<Value, String> {
        if value == Value::NULL {
            return Ok(value);
        }
        match (self.types[i], value) {
            (ColumnType::MYSQL_TYPE_TIMESTAMP2, Value::Bytes(b)) => {
                let text = String::from_utf8(b).map_err(|e| e.to_string())?;
                let (sec, usec) = match text.split_once('.') {
                    Some((s, u)) => (s.to_owned(), u.parse::<u32>().map_err(|e| e.to_string())?),
                    None => (text, 0),
                };
                let sec = sec.parse::<i64>().map_err(|e| e.to_string())?;
                Ok(utc_datetime(sec, usec))
            }
            (ColumnType::MYSQL_TYPE_TIMESTAMP, Value::Int(sec)) => Ok(utc_datetime(sec, 0)),
            // mysql_common does not sign-extend -8388608.
            (ColumnType::MYSQL_TYPE_INT24, Value::Int(v)) if !self.unsigned[i] && v > 0x7F_FFFF => {
                Ok(Value::Int(v - 0x100_0000))
            }
            (ColumnType::MYSQL_TYPE_YEAR, Value::Bytes(b)) => {
                let year: i64 = std::str::from_utf8(&b)
                    .map_err(|e| e.to_string())?
                    .parse()
                    .map_err(|e: std::num::ParseIntError| e.to_string())?;
                // Raw 0 is the zero year, which mysql_common prints as 1900;
                // 1900 itself is outside YEAR's range.
                Ok(Value::Int(if year == 1900 { 0 } else { year }))
            }
            (ColumnType::MYSQL_TYPE_ENUM, Value::Int(index)) => {
                let names = &self.variants[i];
                match usize::try_from(index) {
                    Ok(0) => Ok(Value::Bytes(Vec::new())),
                    Ok(n) if n <= names.len() => Ok(Value::Bytes(names[n - 1].clone())),
                    _ => Err(format!(
                        "ENUM index {index} outside the {} variants",
                        names.len()
                    )),
                }
            }
            (ColumnType::MYSQL_TYPE_SET, Value::Bytes(bits)) => {
                let names = &self.variants[i];
                let mut chosen: Vec<&[u8]> = Vec::new();
                for (n, name) in names.iter().enumerate() {
                    if bits
                        .get(n / 8)
                        .is_some_and(|byte| byte & (1 << (n % 8)) != 0)
                    {
                        chosen.push(name);
                    }
                }
                Ok(Value::Bytes(chosen.join(&b","[..])))
            }
            (ColumnType::MYSQL_TYPE_STRING, Value::Bytes(mut b)) => {
                if let Some(len) = self.binary_len[i] {
                    if b.len() < len {
                        b.resize(len, 0);
                    }
                }
                Ok(Value::Bytes(b))
            }
            (_, value) => Ok(value),
        }
    }
}

/// A UTC date-time value for `sec` seconds (and `usec` microseconds) after the epoch.
/// Zero is MySQL's zero timestamp `0000-00-00 00:00:00`.
fn utc_datetime(sec: i64, usec: u32) -> Value {
    if sec == 0 && usec == 0 {
        return Value::Date(0, 0, 0, 0, 0, 0, 0);
    }
    let days = sec.div_euclid(86_400);
    let secs = sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Value::Date(
        y as u16,
        m as u8,
        d as u8,
        (secs / 3600) as u8,
        ((secs % 3600) / 60) as u8,
        (secs % 60) as u8,
        usec,
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_seconds_become_utc_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(
            utc_datetime(1_709_251_199, 5),
            Value::Date(2024, 2, 29, 23, 59, 59, 5)
        );
        assert_eq!(utc_datetime(0, 0), Value::Date(0, 0, 0, 0, 0, 0, 0));
    }
}
