//! Encoding and decoding of [`query::Row`](crate::query::Row).
//!
//! A row stores the byte length of each column in `lengths` (`-1` for NULL)
//! and the concatenation of all non-NULL values in `values`.

use crate::query::Row;

/// Why a [`Row`] could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    /// A length other than -1 was negative.
    #[error("row column {column}: invalid length {length}")]
    InvalidLength { column: usize, length: i64 },
    /// The lengths add up to more bytes than `values` holds.
    #[error(
        "row column {column}: needs {needed} bytes at offset {offset}, values has {available}"
    )]
    Truncated {
        column: usize,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// `values` holds bytes that no column accounts for.
    #[error("row has {extra} unused trailing bytes")]
    TrailingBytes { extra: usize },
}

impl Row {
    /// Builds a row from column values, `None` being NULL.
    pub fn from_values<'a, I>(columns: I) -> Row
    where
        I: IntoIterator<Item = Option<&'a [u8]>>,
    {
        let mut row = Row::default();
        for column in columns {
            row.push(column);
        }
        row
    }

    /// Appends one column value, `None` being NULL.
    pub fn push(&mut self, value: Option<&[u8]>) {
        match value {
            Some(bytes) => {
                // A slice never exceeds isize::MAX bytes, so this cannot wrap.
                self.lengths.push(bytes.len() as i64);
                self.values.extend_from_slice(bytes);
            }
            None => self.lengths.push(-1),
        }
    }

    /// Number of columns in the row.
    pub fn column_count(&self) -> usize {
        self.lengths.len()
    }

    /// Splits the row into column values, `None` being NULL, checking that
    /// the lengths match the values exactly.
    pub fn split_values(&self) -> Result<Vec<Option<&[u8]>>, RowError> {
        let mut out = Vec::with_capacity(self.lengths.len());
        let mut offset = 0usize;
        for (column, &length) in self.lengths.iter().enumerate() {
            if length == -1 {
                out.push(None);
                continue;
            }
            let needed =
                usize::try_from(length).map_err(|_| RowError::InvalidLength { column, length })?;
            let end = offset
                .checked_add(needed)
                .filter(|&end| end <= self.values.len())
                .ok_or(RowError::Truncated {
                    column,
                    offset,
                    needed,
                    available: self.values.len(),
                })?;
            out.push(Some(&self.values[offset..end]));
            offset = end;
        }
        if offset != self.values.len() {
            return Err(RowError::TrailingBytes {
                extra: self.values.len() - offset,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn round_trips_values_and_nulls() {
        let row = Row::from_values([Some(&b"12"[..]), None, Some(&b""[..]), Some(&b"abc"[..])]);
        assert_eq!(row.lengths, vec![2, -1, 0, 3]);
        assert_eq!(row.values, b"12abc".to_vec());
        assert_eq!(row.column_count(), 4);
        let bytes = row.encode_to_vec();
        let back = <Row as Message>::decode(&bytes[..]).unwrap();
        assert_eq!(
            back.split_values().unwrap(),
            vec![Some(&b"12"[..]), None, Some(&b""[..]), Some(&b"abc"[..])]
        );
    }

    #[test]
    fn null_length_is_zigzag_one() {
        // lengths is `repeated sint64` (packed): -1 zigzags to 1.
        let row = Row::from_values([None]);
        assert_eq!(row.encode_to_vec(), vec![0x0a, 0x01, 0x01]);
    }

    #[test]
    fn rejects_malformed_rows() {
        let short = Row {
            lengths: vec![4],
            values: b"ab".to_vec(),
        };
        assert!(matches!(
            short.split_values(),
            Err(RowError::Truncated { .. })
        ));
        let negative = Row {
            lengths: vec![-2],
            values: Vec::new(),
        };
        assert!(matches!(
            negative.split_values(),
            Err(RowError::InvalidLength { length: -2, .. })
        ));
        let trailing = Row {
            lengths: vec![1],
            values: b"ab".to_vec(),
        };
        assert_eq!(
            trailing.split_values(),
            Err(RowError::TrailingBytes { extra: 1 })
        );
    }
}
