//! MySQL column types and flags <-> Vitess [`query::Type`](crate::query::Type).
//!
//! vttablet turns the column definitions MariaDB sends into `query.Field`s
//! ([`type_from_mysql`]); vtgate turns `query.Field`s back into column
//! definitions for its MySQL clients ([`mysql_from_type`]). The MySQL column
//! flags and the collation id travel unchanged in `Field.flags` and
//! `Field.charset`; [`column_flags`] adds the flags a type implies when a
//! field carries none (for example one vtgate computed itself).

use crate::query::Type;

/// MySQL protocol column type codes (`enum_field_types`).
pub mod mysql_type {
    pub const DECIMAL: u8 = 0;
    pub const TINY: u8 = 1;
    pub const SHORT: u8 = 2;
    pub const LONG: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const NULL: u8 = 6;
    pub const TIMESTAMP: u8 = 7;
    pub const LONGLONG: u8 = 8;
    pub const INT24: u8 = 9;
    pub const DATE: u8 = 10;
    pub const TIME: u8 = 11;
    pub const DATETIME: u8 = 12;
    pub const YEAR: u8 = 13;
    pub const NEWDATE: u8 = 14;
    pub const VARCHAR: u8 = 15;
    pub const BIT: u8 = 16;
    pub const TIMESTAMP2: u8 = 17;
    pub const DATETIME2: u8 = 18;
    pub const TIME2: u8 = 19;
    pub const JSON: u8 = 245;
    pub const NEWDECIMAL: u8 = 246;
    pub const ENUM: u8 = 247;
    pub const SET: u8 = 248;
    pub const TINY_BLOB: u8 = 249;
    pub const MEDIUM_BLOB: u8 = 250;
    pub const LONG_BLOB: u8 = 251;
    pub const BLOB: u8 = 252;
    pub const VAR_STRING: u8 = 253;
    pub const STRING: u8 = 254;
    pub const GEOMETRY: u8 = 255;
}

/// MySQL column flag bits (the same values as `query.MySqlFlag`).
pub mod flag {
    pub const NOT_NULL: u32 = 1;
    pub const PRI_KEY: u32 = 2;
    pub const UNIQUE_KEY: u32 = 4;
    pub const MULTIPLE_KEY: u32 = 8;
    pub const BLOB: u32 = 16;
    pub const UNSIGNED: u32 = 32;
    pub const ZEROFILL: u32 = 64;
    pub const BINARY: u32 = 128;
    pub const ENUM: u32 = 256;
    pub const AUTO_INCREMENT: u32 = 512;
    pub const TIMESTAMP: u32 = 1024;
    pub const SET: u32 = 2048;
    pub const NUM: u32 = 32768;
}

/// The collation id of the `binary` character set.
pub const BINARY_COLLATION: u32 = 63;

/// The collation id a tablet gives a text field whose collation it cannot tell (MariaDB's
/// result metadata does not carry it): vtgate refuses to order such values. Clients see the
/// result character set's default ([`column_charset`]).
pub const UNKNOWN_COLLATION: u32 = 0;

/// Whether values of `t` are integers (signed, unsigned or YEAR), as Vitess's
/// `sqltypes.IsIntegral`.
pub fn is_integral(t: Type) -> bool {
    use Type as T;
    matches!(
        t,
        T::Int8
            | T::Uint8
            | T::Int16
            | T::Uint16
            | T::Int24
            | T::Uint24
            | T::Int32
            | T::Uint32
            | T::Int64
            | T::Uint64
            | T::Year
    )
}

/// Whether values of `t` are numbers (integral, floating point or DECIMAL), as Vitess's
/// `sqltypes.IsNumber`.
pub fn is_number(t: Type) -> bool {
    is_integral(t) || matches!(t, Type::Float32 | Type::Float64 | Type::Decimal)
}

/// The Vitess type of a column MariaDB describes with protocol type
/// `code`, column `flags` and collation id `charset`.
///
/// Integers become unsigned with `UNSIGNED`; string types become binary when
/// their collation is `binary` (63) (or, when the collation is unknown (0),
/// when `BINARY` is set); `STRING` columns with the `ENUM`/`SET` flags are
/// enums and sets, as MySQL reports them.
pub fn type_from_mysql(code: u8, flags: u32, charset: u32) -> Type {
    use self::mysql_type as m;
    let unsigned = flags & flag::UNSIGNED != 0;
    let binary = if charset == 0 {
        flags & flag::BINARY != 0
    } else {
        charset == BINARY_COLLATION
    };
    let pick = |signed: Type, unsigned_type: Type| if unsigned { unsigned_type } else { signed };
    let text = |text_type: Type, binary_type: Type| if binary { binary_type } else { text_type };
    match code {
        m::DECIMAL | m::NEWDECIMAL => Type::Decimal,
        m::TINY => pick(Type::Int8, Type::Uint8),
        m::SHORT => pick(Type::Int16, Type::Uint16),
        m::INT24 => pick(Type::Int24, Type::Uint24),
        m::LONG => pick(Type::Int32, Type::Uint32),
        m::LONGLONG => pick(Type::Int64, Type::Uint64),
        m::FLOAT => Type::Float32,
        m::DOUBLE => Type::Float64,
        m::NULL => Type::NullType,
        m::TIMESTAMP | m::TIMESTAMP2 => Type::Timestamp,
        m::DATE | m::NEWDATE => Type::Date,
        m::TIME | m::TIME2 => Type::Time,
        m::DATETIME | m::DATETIME2 => Type::Datetime,
        m::YEAR => Type::Year,
        m::BIT => Type::Bit,
        m::JSON => Type::Json,
        m::ENUM => Type::Enum,
        m::SET => Type::Set,
        m::TINY_BLOB | m::MEDIUM_BLOB | m::LONG_BLOB | m::BLOB => text(Type::Text, Type::Blob),
        m::VARCHAR | m::VAR_STRING => text(Type::Varchar, Type::Varbinary),
        m::STRING if flags & flag::ENUM != 0 => Type::Enum,
        m::STRING if flags & flag::SET != 0 => Type::Set,
        m::STRING => text(Type::Char, Type::Binary),
        m::GEOMETRY => Type::Geometry,
        // Unknown codes are passed on as opaque bytes.
        _ => Type::Varbinary,
    }
}

/// The MySQL protocol type code and the flags implied by a Vitess type,
/// for building a column definition.
pub fn mysql_from_type(typ: Type) -> (u8, u32) {
    use self::mysql_type as m;
    match typ {
        Type::NullType => (m::NULL, flag::BINARY),
        Type::Int8 => (m::TINY, flag::NUM),
        Type::Uint8 => (m::TINY, flag::NUM | flag::UNSIGNED),
        Type::Int16 => (m::SHORT, flag::NUM),
        Type::Uint16 => (m::SHORT, flag::NUM | flag::UNSIGNED),
        Type::Int24 => (m::INT24, flag::NUM),
        Type::Uint24 => (m::INT24, flag::NUM | flag::UNSIGNED),
        Type::Int32 => (m::LONG, flag::NUM),
        Type::Uint32 => (m::LONG, flag::NUM | flag::UNSIGNED),
        Type::Int64 => (m::LONGLONG, flag::NUM),
        Type::Uint64 => (m::LONGLONG, flag::NUM | flag::UNSIGNED),
        Type::Float32 => (m::FLOAT, flag::NUM),
        Type::Float64 => (m::DOUBLE, flag::NUM),
        Type::Decimal => (m::NEWDECIMAL, flag::NUM),
        Type::Timestamp => (m::TIMESTAMP, flag::BINARY | flag::TIMESTAMP),
        Type::Date => (m::DATE, flag::BINARY),
        Type::Time => (m::TIME, flag::BINARY),
        Type::Datetime => (m::DATETIME, flag::BINARY),
        Type::Year => (m::YEAR, flag::NUM | flag::UNSIGNED | flag::ZEROFILL),
        Type::Bit => (m::BIT, flag::UNSIGNED),
        Type::Text => (m::BLOB, flag::BLOB),
        Type::Blob => (m::BLOB, flag::BLOB | flag::BINARY),
        Type::Varchar => (m::VAR_STRING, 0),
        Type::Varbinary => (m::VAR_STRING, flag::BINARY),
        Type::Char => (m::STRING, 0),
        Type::Binary => (m::STRING, flag::BINARY),
        Type::Enum => (m::STRING, flag::ENUM),
        Type::Set => (m::STRING, flag::SET),
        Type::Geometry => (m::GEOMETRY, flag::BLOB | flag::BINARY),
        Type::Json => (m::JSON, flag::BLOB | flag::BINARY),
        Type::Tuple
        | Type::Expression
        | Type::Hexnum
        | Type::Hexval
        | Type::Bitnum
        | Type::Vector
        | Type::Raw
        | Type::RowTuple => (m::VAR_STRING, flag::BINARY),
    }
}

/// The flags to send for a field: its own `flags` when it has any (MariaDB's,
/// passed through unchanged), else those its type implies.
pub fn column_flags(field: &crate::query::Field) -> u32 {
    if field.flags != 0 {
        field.flags
    } else {
        mysql_from_type(field.r#type()).1
    }
}

/// The collation to send for a field: its own when set, else `binary` (63)
/// for numeric, temporal and binary types and `utf8mb4_general_ci` (45) for text.
pub fn column_charset(field: &crate::query::Field) -> u32 {
    if field.charset != 0 {
        return field.charset;
    }
    match field.r#type() {
        Type::Text | Type::Varchar | Type::Char | Type::Enum | Type::Set | Type::Json => 45,
        _ => BINARY_COLLATION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Field;

    #[test]
    fn integers_follow_the_unsigned_flag() {
        assert_eq!(type_from_mysql(mysql_type::TINY, 0, 63), Type::Int8);
        assert_eq!(
            type_from_mysql(mysql_type::TINY, flag::UNSIGNED, 63),
            Type::Uint8
        );
        assert_eq!(
            type_from_mysql(mysql_type::LONGLONG, flag::UNSIGNED, 63),
            Type::Uint64
        );
        assert_eq!(type_from_mysql(mysql_type::INT24, 0, 63), Type::Int24);
    }

    #[test]
    fn strings_are_binary_only_with_the_binary_collation() {
        assert_eq!(
            type_from_mysql(mysql_type::VAR_STRING, 0, 45),
            Type::Varchar
        );
        assert_eq!(
            type_from_mysql(mysql_type::VAR_STRING, flag::BINARY, 63),
            Type::Varbinary
        );
        // utf8mb4_bin sets BINARY_FLAG but is still text.
        assert_eq!(
            type_from_mysql(mysql_type::VAR_STRING, flag::BINARY, 46),
            Type::Varchar
        );
        assert_eq!(
            type_from_mysql(mysql_type::BLOB, flag::BLOB, 45),
            Type::Text
        );
        assert_eq!(
            type_from_mysql(mysql_type::BLOB, flag::BLOB | flag::BINARY, 63),
            Type::Blob
        );
        assert_eq!(
            type_from_mysql(mysql_type::STRING, flag::BINARY, 0),
            Type::Binary
        );
        assert_eq!(
            type_from_mysql(mysql_type::STRING, flag::ENUM, 45),
            Type::Enum
        );
        assert_eq!(
            type_from_mysql(mysql_type::STRING, flag::SET, 45),
            Type::Set
        );
    }

    #[test]
    fn temporal_and_numeric_types() {
        assert_eq!(
            type_from_mysql(mysql_type::NEWDECIMAL, 0, 63),
            Type::Decimal
        );
        assert_eq!(type_from_mysql(mysql_type::DOUBLE, 0, 63), Type::Float64);
        assert_eq!(type_from_mysql(mysql_type::DATETIME, 0, 63), Type::Datetime);
        assert_eq!(
            type_from_mysql(mysql_type::TIMESTAMP, 0, 63),
            Type::Timestamp
        );
        assert_eq!(type_from_mysql(mysql_type::NEWDATE, 0, 63), Type::Date);
        assert_eq!(type_from_mysql(mysql_type::JSON, 0, 63), Type::Json);
    }

    #[test]
    fn round_trip_through_mysql_codes() {
        for typ in [
            Type::Int8,
            Type::Uint8,
            Type::Int16,
            Type::Uint16,
            Type::Int24,
            Type::Uint24,
            Type::Int32,
            Type::Uint32,
            Type::Int64,
            Type::Uint64,
            Type::Float32,
            Type::Float64,
            Type::Decimal,
            Type::Timestamp,
            Type::Date,
            Type::Time,
            Type::Datetime,
            Type::Bit,
            Type::Blob,
            Type::Varbinary,
            Type::Binary,
            Type::Enum,
            Type::Set,
            Type::Json,
            Type::Geometry,
        ] {
            let (code, flags) = mysql_from_type(typ);
            assert_eq!(type_from_mysql(code, flags, 0), typ, "{typ:?}");
        }
        for typ in [Type::Text, Type::Varchar, Type::Char] {
            let (code, flags) = mysql_from_type(typ);
            assert_eq!(type_from_mysql(code, flags, 45), typ, "{typ:?}");
        }
    }

    #[test]
    fn field_flags_and_charset_pass_through() {
        let mut field = Field {
            flags: flag::NOT_NULL | flag::PRI_KEY,
            charset: 46,
            ..Field::default()
        };
        field.set_type(Type::Varchar);
        assert_eq!(column_flags(&field), flag::NOT_NULL | flag::PRI_KEY);
        assert_eq!(column_charset(&field), 46);
        let mut bare = Field::default();
        bare.set_type(Type::Uint32);
        assert_eq!(column_flags(&bare), flag::NUM | flag::UNSIGNED);
        assert_eq!(column_charset(&bare), BINARY_COLLATION);
    }
}
