//! Row images of WRITE/UPDATE/DELETE_ROWS events (v1 and v2).
//!
//! Values are decoded column by column with `mysql_common`'s binlog value
//! decoder, except TIME(1..4): its decoder underflows on negative times with
//! fractional seconds, so those are decoded here.

use mysql_async::binlog::events::{RowsEventData, TableMapEvent};
use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType;
use mysql_async::Value;
use mysql_common::io::ParseBuf;

use super::table::TableShape;
use super::RowKind;
use crate::error::{Error, Result};

/// One decoded row: before and after images as raw binlog values.
pub type RawRow = (
    Option<Vec<BinlogValue<'static>>>,
    Option<Vec<BinlogValue<'static>>>,
);

/// Decodes every row of a rows event.
pub fn decode_rows<'a>(
    event_type: u8,
    kind: RowKind,
    rows: &'a RowsEventData<'_>,
    tme: &'a TableMapEvent<'_>,
    shape: &TableShape,
) -> Result<Vec<RawRow>> {
    let num = rows.num_columns() as usize;
    if num != shape.column_count() {
        return Err(Error::decode(
            event_type,
            "rows event and table map disagree on column count",
        ));
    }
    let before_cols: Vec<bool> = (0..num)
        .map(|i| {
            rows.columns_before_image()
                .and_then(|b| b.get(i).map(|x| *x))
                .unwrap_or(false)
        })
        .collect();
    let after_cols: Vec<bool> = (0..num)
        .map(|i| {
            rows.columns_after_image()
                .and_then(|b| b.get(i).map(|x| *x))
                .unwrap_or(false)
        })
        .collect();
    let mut buf = ParseBuf(rows.rows_data());
    let mut out = Vec::new();
    while !buf.is_empty() {
        let before = match kind {
            RowKind::Update | RowKind::Delete => {
                Some(image(event_type, &mut buf, &before_cols, tme, shape)?)
            }
            RowKind::Insert => None,
        };
        let after = match kind {
            RowKind::Update | RowKind::Insert => {
                Some(image(event_type, &mut buf, &after_cols, tme, shape)?)
            }
            RowKind::Delete => None,
        };
        out.push((before, after));
    }
    Ok(out)
}

fn image<'a>(
    event_type: u8,
    buf: &mut ParseBuf<'a>,
    cols: &[bool],
    tme: &'a TableMapEvent<'_>,
    shape: &TableShape,
) -> Result<Vec<BinlogValue<'static>>> {
    let count = cols.iter().filter(|c| **c).count();
    if count != cols.len() {
        return Err(Error::Unsupported(format!(
            "partial row image for {}.{} ({} of {} columns): the source must run with binlog_row_image=FULL",
            shape.database,
            shape.table,
            count,
            cols.len()
        )));
    }
    let truncated = || Error::decode(event_type, "row image truncated");
    let nulls = buf.checked_eat(count.div_ceil(8)).ok_or_else(truncated)?;
    let mut values = Vec::with_capacity(count);
    for i in 0..count {
        if nulls[i / 8] & (1 << (i % 8)) != 0 {
            values.push(BinlogValue::Value(Value::NULL));
            continue;
        }
        let ty = shape.column_type(i);
        let meta = tme.get_column_metadata(i).unwrap_or(&[]);
        let value = if ty == ColumnType::MYSQL_TYPE_TIME2 && matches!(meta.first(), Some(1..=4)) {
            BinlogValue::Value(time2(buf, meta[0]).ok_or_else(truncated)?)
        } else {
            buf.parse::<BinlogValue<'_>>((ty, meta, shape.is_unsigned(i), false))
                .map_err(|e| {
                    Error::decode(event_type, format!("column {}: {e}", shape.columns[i]))
                })?
                .into_owned()
        };
        values.push(value);
    }
    Ok(values)
}

/// TIME(n) for n in 1..=4, in MySQL 5.6's packed binary format.
fn time2(buf: &mut ParseBuf<'_>, dec: u8) -> Option<Value> {
    let int = buf.checked_eat(3)?;
    let mut intpart =
        (i64::from(int[0]) << 16 | i64::from(int[1]) << 8 | i64::from(int[2])) - 0x80_0000;
    let micros = if dec <= 2 {
        let mut frac = i64::from(*buf.checked_eat(1)?.first()?);
        if intpart < 0 && frac > 0 {
            intpart += 1;
            frac -= 0x100;
        }
        frac * 10_000
    } else {
        let b = buf.checked_eat(2)?;
        let mut frac = i64::from(b[0]) << 8 | i64::from(b[1]);
        if intpart < 0 && frac > 0 {
            intpart += 1;
            frac -= 0x1_0000;
        }
        frac * 100
    };
    let packed = (intpart << 24) + micros;
    let neg = packed < 0;
    let packed = packed.abs();
    let hms = packed >> 24;
    let micros = packed % (1 << 24);
    let hours = ((hms >> 12) % (1 << 10)) as u32;
    Some(Value::Time(
        neg,
        hours / 24,
        (hours % 24) as u8,
        ((hms >> 6) % (1 << 6)) as u8,
        (hms % (1 << 6)) as u8,
        micros as u32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(hms: (i64, i64, i64), frac: i64, neg: bool, dec: u8) -> Vec<u8> {
        // The encoder side of MySQL's my_time_packed_to_binary.
        let int = (hms.0 << 12) | (hms.1 << 6) | hms.2;
        let mut p = (int << 24) + frac;
        if neg {
            p = -p;
        }
        let mut out = Vec::new();
        if dec <= 2 {
            let intpart = p >> 24;
            // The fraction is stored as a signed byte, the integer part floored.
            let fr = (p % (1 << 24)) / 10_000;
            let v = (intpart + 0x80_0000) as u32;
            out.extend_from_slice(&v.to_be_bytes()[1..]);
            out.push(fr as i8 as u8);
        } else {
            let intpart = p >> 24;
            let fr = (p % (1 << 24)) / 100;
            let v = (intpart + 0x80_0000) as u32;
            out.extend_from_slice(&v.to_be_bytes()[1..]);
            out.extend_from_slice(&(fr as i16).to_be_bytes());
        }
        out
    }

    #[test]
    fn negative_fractional_times_decode() {
        let bytes = packed((0, 0, 1), 500_000, true, 2);
        assert_eq!(
            time2(&mut ParseBuf(&bytes), 2),
            Some(Value::Time(true, 0, 0, 0, 1, 500_000))
        );
        let bytes = packed((26, 3, 4), 123_400, false, 4);
        assert_eq!(
            time2(&mut ParseBuf(&bytes), 4),
            Some(Value::Time(false, 1, 2, 3, 4, 123_400))
        );
        assert_eq!(time2(&mut ParseBuf(&bytes[..2]), 4), None);
    }
}
