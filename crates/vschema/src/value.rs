//! [`Value`]: the SQL value the planner hands to a vindex.
//!
//! Vitess vindexes see `sqltypes.Value`s: a type plus the MySQL text-protocol
//! bytes. Only three things matter to them: whether the value is NULL,
//! whether it is a signed or unsigned integer, and its raw bytes. So:
//!
//! * integer literals and columns become [`Value::Int`] / [`Value::Uint`];
//! * everything else (strings, binary, decimals, floats, dates) is
//!   [`Value::Bytes`] holding the MySQL text form (`1.5`, `2024-01-02`),
//!   with hex and bit literals (`0x1F`, `b'101'`) already decoded to bytes;
//! * SQL `NULL` is [`Value::Null`].

/// A SQL value as a vindex sees it (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A signed integer (`INT64`, `INT32`, ... and integer literals).
    Int(i64),
    /// An unsigned integer (`UINT64`, ...).
    Uint(u64),
    /// Any other value in its MySQL text (or binary) form.
    Bytes(Vec<u8>),
}

impl Value {
    /// The raw bytes (`sqltypes.Value.ToBytes`): integers in decimal, NULL empty.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Value::Null => Vec::new(),
            Value::Int(v) => v.to_string().into_bytes(),
            Value::Uint(v) => v.to_string().into_bytes(),
            Value::Bytes(b) => b.clone(),
        }
    }

    /// Vitess `ToCastUint64`, what the hash-like vindexes use: signed integers
    /// are reinterpreted (`-1` is `u64::MAX`), anything else must be a base-10
    /// unsigned number. `None` when it does not convert (NULL, `1.5`, `abc`, `-1` as text).
    pub fn to_cast_u64(&self) -> Option<u64> {
        match self {
            Value::Null => None,
            Value::Int(v) => Some(*v as u64),
            Value::Uint(v) => Some(*v),
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.parse::<u64>().ok(),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Uint(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Bytes(v.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes() {
        assert_eq!(Value::Int(-1).to_bytes(), b"-1");
        assert_eq!(Value::Uint(u64::MAX).to_bytes(), b"18446744073709551615");
        assert_eq!(Value::Null.to_bytes(), b"");
        assert_eq!(Value::from("abc").to_bytes(), b"abc");
    }

    #[test]
    fn conversions() {
        assert_eq!(Value::Int(-1).to_cast_u64(), Some(u64::MAX));
        assert_eq!(Value::Int(i64::MIN).to_cast_u64(), Some(1 << 63));
        assert_eq!(Value::from("42").to_cast_u64(), Some(42));
        assert_eq!(Value::from("-42").to_cast_u64(), None);
        assert_eq!(Value::from("1.1").to_cast_u64(), None);
        assert_eq!(Value::Null.to_cast_u64(), None);
    }
}
