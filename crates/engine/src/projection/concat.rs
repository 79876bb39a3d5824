//! `CONCAT(...)` computed in vtgate over joined rows (a select item reading tables on
//! different shards: `concat(c.name, ' ', o.note)`).
//!
//! As in MySQL, any NULL argument makes the result NULL, and every argument is its text:
//! text, ENUM, SET and JSON columns as they are, integers, DECIMAL and temporal values as
//! MySQL prints them (which is the text the shards send). All of these arrive in the
//! connection's character set, so the result is their bytes in order. Refused: FLOAT and
//! DOUBLE (CONCAT prints them with other digits than a result does), binary strings and BIT
//! (the text arguments would have to be in their own character set's bytes), and literals
//! other than strings, integers and decimals.
//!
//! The result is VARCHAR in the collation of its text columns when they all have one
//! (literals and numbers give way to a column), `utf8mb4_bin` for `utf8mb4_bin` with
//! `utf8mb4_general_ci` columns (MySQL's rule for a `_bin` and a `_ci` collation of one
//! character set), `utf8mb4_general_ci` (the connection's) without text columns; other
//! mixes are refused (MariaDB fails most of them with 1267).

use proto::query::{Field, Type};
use proto::sqltypes::{flag, is_integral};
use sql::literal::BindVars;

use super::{constant_cell, Arith};
use crate::cell::{united_collation, UTF8MB4_BIN, UTF8MB4_GENERAL_CI};
use crate::error::{EngineError, Result};

fn refuse(what: impl std::fmt::Display) -> EngineError {
    EngineError::unsupported(format!("CONCAT of {what} in vtgate"))
}

/// The text collation a column argument brings (with its BINARY flag), None for numbers
/// and temporal values; an error for types CONCAT cannot take here.
fn column_collation(f: &Field) -> Result<Option<(u32, bool)>> {
    use Type as T;
    let t = Type::try_from(f.r#type).unwrap_or(T::NullType);
    match t {
        T::Char | T::Varchar | T::Text | T::Enum | T::Set | T::Json
            if f.charset != proto::sqltypes::BINARY_COLLATION =>
        {
            Ok(Some((f.charset, f.flags & flag::BINARY != 0)))
        }
        _ if is_integral(t)
            || matches!(
                t,
                T::Decimal | T::Date | T::Time | T::Datetime | T::Timestamp | T::NullType
            ) =>
        {
            Ok(None)
        }
        other => Err(refuse(format!("{} ({})", f.name, other.as_str_name()))),
    }
}

/// The result column of `CONCAT(parts)` over input `fields`.
pub(super) fn field(
    name: &str,
    parts: &[Arith],
    fields: &[Field],
    vars: &BindVars,
) -> Result<Field> {
    let mut collations: Vec<(u32, bool)> = Vec::new();
    let mut length = 0u32;
    for part in parts {
        match part {
            Arith::Column(i) => {
                let f = fields
                    .get(*i)
                    .ok_or_else(|| EngineError::BadResult(format!("no column {i}")))?;
                length = length.saturating_add(f.column_length);
                if let Some(c) = column_collation(f)? {
                    if !collations.contains(&c) {
                        collations.push(c);
                    }
                }
            }
            Arith::Value(v) => {
                let text = constant_cell(&v.resolve(vars)?)?;
                let bytes = text.map_or(0, |t| t.len());
                length = length.saturating_add(u32::try_from(bytes).unwrap_or(u32::MAX));
            }
            other => return Err(refuse(other.describe())),
        }
    }
    let (charset, binary) = match collations.as_slice() {
        [one] => *one,
        // `utf8mb4_general_ci` flagged BINARY is a `_bin` collation the id does not name
        // (a converted latin1_bin column, say): it only stands alone.
        many if !many.contains(&(UTF8MB4_GENERAL_CI, true)) => {
            let ids: Vec<u32> = many.iter().map(|(id, _)| *id).collect();
            let id = united_collation(&ids)
                .ok_or_else(|| refuse("text columns of several collations"))?;
            (id, id == UTF8MB4_BIN)
        }
        _ => return Err(refuse("text columns of several collations")),
    };
    Ok(Field {
        name: name.to_string(),
        r#type: Type::Varchar as i32,
        charset,
        column_length: length,
        flags: if binary { flag::BINARY } else { 0 },
        ..Default::default()
    })
}

/// `CONCAT(parts)` of one row's `cells`.
pub(super) fn cell(
    parts: &[Arith],
    cells: &[Option<&[u8]>],
    vars: &BindVars,
) -> Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    for part in parts {
        let piece = match part {
            Arith::Column(i) => cells
                .get(*i)
                .ok_or_else(|| EngineError::BadResult(format!("no column {i}")))?
                .map(<[u8]>::to_vec),
            Arith::Value(v) => constant_cell(&v.resolve(vars)?)?,
            other => return Err(refuse(other.describe())),
        };
        match piece {
            Some(p) => out.extend_from_slice(&p),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bind::PlanValue;
    use sql::literal::BindValue;

    fn field_of(t: Type, charset: u32, flags: u32) -> Field {
        Field {
            name: "f".into(),
            r#type: t as i32,
            charset,
            flags,
            column_length: 10,
            ..Default::default()
        }
    }

    #[test]
    fn joins_the_text_of_columns_and_literals() {
        let fields = [
            field_of(Type::Varchar, 45, 0),
            field_of(Type::Decimal, 63, 0),
            field_of(Type::Varchar, 45, 0),
        ];
        let space = Arith::Value(PlanValue::Literal(BindValue::VarChar(b" ".to_vec())));
        let parts = [Arith::Column(0), space, Arith::Column(1), Arith::Column(2)];
        let vars = BindVars::default();
        let f = field("c", &parts, &fields, &vars).unwrap();
        assert_eq!((f.charset, f.r#type), (45, Type::Varchar as i32));
        let cells = [
            Some(&b"Jos\xc3\xa9"[..]),
            Some(&b"12.50"[..]),
            Some(&b"!"[..]),
        ];
        assert_eq!(
            cell(&parts, &cells, &vars).unwrap().as_deref(),
            Some(&b"Jos\xc3\xa9 12.50!"[..])
        );
        // Any NULL argument: NULL.
        let cells = [Some(&b"a"[..]), None, Some(&b"b"[..])];
        assert_eq!(cell(&parts, &cells, &vars).unwrap(), None);
    }

    #[test]
    fn the_collation_is_the_columns_one_or_unknown() {
        let vars = BindVars::default();
        let parts = [Arith::Column(0), Arith::Column(1)];
        let of = |a: Field, b: Field| field("c", &parts, &[a, b], &vars).unwrap();
        let bin = of(
            field_of(Type::Varchar, 45, flag::BINARY),
            field_of(Type::Int64, 63, 0),
        );
        assert_eq!((bin.charset, bin.flags), (45, flag::BINARY));
        let bin_wins = of(
            field_of(Type::Varchar, 46, flag::BINARY),
            field_of(Type::Varchar, 45, 0),
        );
        assert_eq!((bin_wins.charset, bin_wins.flags), (46, flag::BINARY));
        // 45 flagged BINARY may be a converted latin1_bin column: not told.
        let told = |a: Field, b: Field| field("c", &parts, &[a, b], &vars);
        assert!(told(
            field_of(Type::Varchar, 45, flag::BINARY),
            field_of(Type::Varchar, 45, 0)
        )
        .is_err());
        assert!(told(
            field_of(Type::Varchar, 224, 0),
            field_of(Type::Varchar, 45, 0)
        )
        .is_err());
        let numbers = of(field_of(Type::Int64, 63, 0), field_of(Type::Date, 63, 0));
        assert_eq!(numbers.charset, UTF8MB4_GENERAL_CI);
        for refused in [
            field_of(Type::Float64, 63, 0),
            field_of(Type::Varbinary, 63, 0),
            field_of(Type::Bit, 63, 0),
        ] {
            assert!(field("c", &parts, &[refused, field_of(Type::Int64, 63, 0)], &vars).is_err());
        }
    }
}
