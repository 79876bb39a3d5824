//! [`Concatenate`]: UNION ALL of several inputs (Vitess
//! `engine/concatenate.go`). The inputs run concurrently; their rows are
//! appended in input order under the first input's fields. Inputs whose
//! column types differ are refused at run time, because MySQL would
//! convert the values to a common type and vtgate does not. Two mixes are
//! accepted because MySQL's conversion leaves the values' text as it is:
//! CHAR with VARCHAR of the same character set (VARCHAR; CHAR values arrive
//! without their padding), an integer or DECIMAL column with a CHAR or
//! VARCHAR one (VARCHAR in the text column's collation: MySQL writes the
//! numbers as the shards sent them), and integers of two types (the type
//! holding both).

use async_trait::async_trait;
use proto::query::{Field, QueryResult, Type};
use proto::sqltypes::{flag, BINARY_COLLATION};
use sql::literal::BindVars;

use crate::description::PlanDescription;
use crate::error::{EngineError, Result};
use crate::merge_sort::split;
use crate::primitive::Primitive;
use crate::vcursor::VCursor;

/// Appends the rows of its inputs.
#[derive(Debug)]
pub struct Concatenate {
    /// The inputs, in order.
    pub inputs: Vec<Box<dyn Primitive>>,
}

fn is_char_or_varchar(f: &Field) -> bool {
    f.r#type == Type::Char as i32 || f.r#type == Type::Varchar as i32
}

/// Whether two columns hold values MySQL would not need to convert, compared alike (the same
/// collation id, and for text both or neither flagged BINARY: MariaDB reports a `latin1_bin`
/// column converted to utf8mb4 as `utf8mb4_general_ci` with the flag).
fn same_type(a: &Field, b: &Field) -> bool {
    let text_mix = is_char_or_varchar(a) && is_char_or_varchar(b);
    (a.r#type == b.r#type || text_mix)
        && a.charset == b.charset
        && a.decimals == b.decimals
        && (a.flags & flag::BINARY == b.flags & flag::BINARY || a.charset == BINARY_COLLATION)
}

/// Integers and DECIMAL: their text is what MySQL converts them to.
fn is_exact_number(f: &Field) -> bool {
    use Type::*;
    matches!(
        Type::try_from(f.r#type).unwrap_or(NullType),
        Int8 | Uint8 | Int16 | Uint16 | Int24 | Uint24 | Int32 | Uint32 | Int64 | Uint64 | Decimal
    )
}

/// The VARCHAR column MySQL makes of a number column and a CHAR or VARCHAR
/// one (in either order), named like `first`; `None` for other pairs.
fn number_with_text(first: &Field, other: &Field) -> Option<Field> {
    let (number, text) = match (is_exact_number(first), is_exact_number(other)) {
        (true, false) => (first, other),
        (false, true) => (other, first),
        _ => return None,
    };
    if !is_char_or_varchar(text) || text.charset == BINARY_COLLATION {
        return None;
    }
    let both_not_null = first.flags & other.flags & flag::NOT_NULL;
    Some(Field {
        name: first.name.clone(),
        r#type: Type::Varchar as i32,
        charset: text.charset,
        decimals: 0,
        flags: (text.flags & !flag::NOT_NULL) | both_not_null,
        // Characters of either, in bytes of the text's character set (utf8mb4: 4 each).
        column_length: text.column_length.max(number.column_length * 4),
        ..first.clone()
    })
}

/// An integer type's size (1: TINYINT … 5: BIGINT) and whether it is unsigned.
fn integer_rank(f: &Field) -> Option<(u8, bool)> {
    use Type::*;
    Some(match Type::try_from(f.r#type).ok()? {
        Int8 => (1, false),
        Uint8 => (1, true),
        Int16 => (2, false),
        Uint16 => (2, true),
        Int24 => (3, false),
        Uint24 => (3, true),
        Int32 => (4, false),
        Uint32 => (4, true),
        Int64 => (5, false),
        Uint64 => (5, true),
        _ => return None,
    })
}

/// The column MySQL makes of two integer columns of different types, named like `first`:
/// the larger type of one signedness; of both, a signed type holding the unsigned one's
/// values (BIGINT, or DECIMAL(20) next to BIGINT UNSIGNED). The values' text is unchanged.
fn two_integers(first: &Field, other: &Field) -> Option<Field> {
    let ((a, a_unsigned), (b, b_unsigned)) = (integer_rank(first)?, integer_rank(other)?);
    let (typ, unsigned) = if a_unsigned == b_unsigned {
        let rank = a.max(b);
        let t = [
            Type::Int8,
            Type::Int16,
            Type::Int24,
            Type::Int32,
            Type::Int64,
        ];
        let u = [
            Type::Uint8,
            Type::Uint16,
            Type::Uint24,
            Type::Uint32,
            Type::Uint64,
        ];
        let types = if a_unsigned { u } else { t };
        (types[usize::from(rank - 1)], a_unsigned)
    } else if (if a_unsigned { a } else { b }) == 5 {
        (Type::Decimal, false)
    } else {
        (Type::Int64, false)
    };
    let both_not_null = first.flags & other.flags & flag::NOT_NULL;
    let mut flags = (first.flags & !(flag::NOT_NULL | flag::UNSIGNED)) | both_not_null;
    if unsigned {
        flags |= flag::UNSIGNED;
    }
    Some(Field {
        r#type: typ as i32,
        flags,
        column_length: first.column_length.max(other.column_length),
        ..first.clone()
    })
}

/// The DECIMAL column MySQL makes of a DECIMAL and an integer or another DECIMAL column
/// (named like `first`): the larger scale, each value then shown with it.
fn two_decimals(first: &Field, other: &Field) -> Option<Field> {
    let decimal = |f: &Field| f.r#type == Type::Decimal as i32;
    if !(is_exact_number(first) && is_exact_number(other) && (decimal(first) || decimal(other))) {
        return None;
    }
    let scale = first.decimals.max(other.decimals);
    let digits = |f: &Field| f.column_length.saturating_sub(f.decimals);
    let both_not_null = first.flags & other.flags & flag::NOT_NULL;
    Some(Field {
        r#type: Type::Decimal as i32,
        decimals: scale,
        column_length: digits(first).max(digits(other)) + scale,
        flags: (first.flags & !(flag::NOT_NULL | flag::UNSIGNED)) | both_not_null,
        ..first.clone()
    })
}

/// `row` with `pads[i]` more fraction digits (zeros) on each value of column `i`.
fn pad_scales(row: &proto::query::Row, pads: &[u32]) -> Result<proto::query::Row> {
    let cells = split(row)?;
    let padded: Vec<Option<Vec<u8>>> = cells
        .iter()
        .zip(pads.iter().chain(std::iter::repeat(&0)))
        .map(|(c, &pad)| {
            c.map(|v| {
                let mut v = v.to_vec();
                if pad > 0 {
                    if !v.contains(&b'.') {
                        v.push(b'.');
                    }
                    v.extend(std::iter::repeat_n(b'0', pad as usize));
                }
                v
            })
        })
        .collect();
    Ok(proto::query::Row::from_values(
        padded.iter().map(|c| c.as_deref()).collect::<Vec<_>>(),
    ))
}

/// Widens `out` to cover `other` (CHAR with VARCHAR gives VARCHAR, the longer length).
fn unite(out: &mut Field, other: &Field) {
    if out.r#type != other.r#type {
        out.r#type = Type::Varchar as i32;
    }
    out.column_length = out.column_length.max(other.column_length);
}

#[async_trait]
impl Primitive for Concatenate {
    async fn execute(&self, vc: &dyn VCursor, vars: &BindVars) -> Result<QueryResult> {
        let runs = self.inputs.iter().map(|i| i.execute(vc, vars));
        let results = futures::future::try_join_all(runs).await?;
        let mut iter = results.into_iter();
        let mut out = iter.next().unwrap_or_default();
        let rest: Vec<QueryResult> = iter.collect();
        // The first input's scales, before uniting widens them.
        let first_scales: Vec<u32> = out.fields.iter().map(|f| f.decimals).collect();
        for r in &rest {
            if r.fields.len() != out.fields.len() {
                return Err(EngineError::mysql(
                    1222,
                    "21000",
                    format!(
                        "The used SELECT statements have a different number of columns: {}, {}",
                        out.fields.len(),
                        r.fields.len()
                    ),
                ));
            }
            for (a, b) in out.fields.iter_mut().zip(&r.fields) {
                if same_type(a, b) {
                    unite(a, b);
                } else if let Some(united) = number_with_text(a, b)
                    .or_else(|| two_integers(a, b))
                    .or_else(|| two_decimals(a, b))
                {
                    *a = united;
                } else {
                    return Err(EngineError::unsupported(format!(
                        "UNION of column {} with different types or collations across shards \
                         (type {} collation {} and type {} collation {})",
                        a.name, a.r#type, a.charset, b.r#type, b.charset
                    )));
                }
            }
        }
        // DECIMAL columns show every value with the united scale.
        let first_rows = std::mem::take(&mut out.rows);
        let inputs = std::iter::once((first_scales, first_rows)).chain(
            rest.into_iter()
                .map(|r| (r.fields.iter().map(|f| f.decimals).collect(), r.rows)),
        );
        for (scales, rows) in inputs {
            let pads: Vec<u32> = out
                .fields
                .iter()
                .zip(&scales)
                .map(|(u, &scale)| {
                    if u.r#type == Type::Decimal as i32 {
                        u.decimals.saturating_sub(scale)
                    } else {
                        0
                    }
                })
                .collect();
            if pads.iter().all(|&p| p == 0) {
                out.rows.extend(rows);
                continue;
            }
            for row in rows {
                out.rows.push(pad_scales(&row, &pads)?);
            }
        }
        Ok(out)
    }

    fn description(&self) -> PlanDescription {
        self.inputs
            .iter()
            .fold(PlanDescription::new("Concatenate"), |d, i| {
                d.input(i.description())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::KeyspaceDesc;
    use crate::route::{Opcode, Route};
    use crate::testing::{field, result, rows_of, FakeVCursor};
    use proto::query::Type;

    fn route(ks: &str) -> Box<dyn Primitive> {
        Box::new(Route::new(
            Opcode::Unsharded,
            KeyspaceDesc {
                name: ks.into(),
                sharded: false,
            },
            format!("select from {ks}"),
            String::new(),
        ))
    }

    #[tokio::test]
    async fn appends_in_order_and_checks_types() {
        let int = [field("id", Type::Int64)];
        let vc = FakeVCursor::new("a", &["0"])
            .keyspace("b", &["0"])
            .keyspace("c", &["0"])
            .result("a", "0", result(&int, &[&[Some("2")]]))
            .result(
                "b",
                "0",
                result(&[field("x", Type::Int64)], &[&[Some("1")], &[None]]),
            )
            .result(
                "c",
                "0",
                result(&[field("s", Type::Varchar)], &[&[Some("z")]]),
            );
        let c = Concatenate {
            inputs: vec![route("a"), route("b")],
        };
        let r = c.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(r.fields[0].name, "id");
        let s = |x: &str| Some(x.to_string());
        assert_eq!(rows_of(&r), vec![vec![s("2")], vec![s("1")], vec![None]]);
        // An integer with VARCHAR: VARCHAR in the text's collation, the numbers' text kept.
        let c = Concatenate {
            inputs: vec![route("a"), route("c")],
        };
        let r = c.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(
            (
                r.fields[0].name.as_str(),
                r.fields[0].r#type,
                r.fields[0].charset
            ),
            ("id", Type::Varchar as i32, 45)
        );
        assert_eq!(rows_of(&r), vec![vec![s("2")], vec![s("z")]]);
    }

    #[tokio::test]
    async fn other_type_mixes_are_refused() {
        let vc = FakeVCursor::new("a", &["0"])
            .keyspace("b", &["0"])
            .result(
                "a",
                "0",
                result(&[field("i", Type::Int64)], &[&[Some("5")]]),
            )
            .result(
                "b",
                "0",
                result(&[field("d", Type::Float64)], &[&[Some("5.5")]]),
            );
        let c = Concatenate {
            inputs: vec![route("a"), route("b")],
        };
        let e = c.execute(&vc, &BindVars::default()).await.unwrap_err();
        assert!(e.to_string().starts_with("VT12001"), "{e}");
    }

    #[test]
    fn integers_unite_as_the_type_holding_both() {
        let f = |t| field("i", t);
        let united =
            |a, b| two_integers(&f(a), &f(b)).map(|x| (x.r#type, x.flags & flag::UNSIGNED));
        let signed = |t: Type| Some((t as i32, 0));
        assert_eq!(united(Type::Int32, Type::Int64), signed(Type::Int64));
        assert_eq!(united(Type::Int16, Type::Int8), signed(Type::Int16));
        assert_eq!(
            united(Type::Uint8, Type::Uint32),
            Some((Type::Uint32 as i32, flag::UNSIGNED))
        );
        assert_eq!(united(Type::Uint32, Type::Int8), signed(Type::Int64));
        assert_eq!(united(Type::Int64, Type::Uint64), signed(Type::Decimal));
        assert_eq!(united(Type::Int64, Type::Decimal), None);
    }

    #[tokio::test]
    async fn decimals_and_integers_unite_with_the_larger_scale() {
        let mut d1 = field("d", Type::Decimal);
        d1.decimals = 1;
        let mut d2 = field("e", Type::Decimal);
        d2.decimals = 3;
        let vc = FakeVCursor::new("a", &["0"])
            .keyspace("b", &["0"])
            .keyspace("c", &["0"])
            .result(
                "a",
                "0",
                result(&[field("i", Type::Int32)], &[&[Some("5")], &[None]]),
            )
            .result("b", "0", result(&[d1], &[&[Some("-2.5")]]))
            .result("c", "0", result(&[d2], &[&[Some("0.125")]]));
        let c = Concatenate {
            inputs: vec![route("a"), route("b"), route("c")],
        };
        let r = c.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(
            (r.fields[0].r#type, r.fields[0].decimals),
            (Type::Decimal as i32, 3)
        );
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            rows_of(&r),
            vec![
                vec![s("5.000")],
                vec![None],
                vec![s("-2.500")],
                vec![s("0.125")]
            ]
        );
    }

    #[tokio::test]
    async fn char_and_varchar_unite_as_varchar() {
        let mut ch = field("c", Type::Char);
        ch.column_length = 8;
        let mut vc_field = field("v", Type::Varchar);
        vc_field.column_length = 80;
        let vc = FakeVCursor::new("a", &["0"])
            .keyspace("b", &["0"])
            .result("a", "0", result(&[ch], &[&[Some("us")]]))
            .result("b", "0", result(&[vc_field], &[&[Some("gift")]]));
        let c = Concatenate {
            inputs: vec![route("a"), route("b")],
        };
        let r = c.execute(&vc, &BindVars::default()).await.unwrap();
        assert_eq!(r.fields[0].r#type, Type::Varchar as i32);
        assert_eq!(r.fields[0].column_length, 80);
        assert_eq!(r.rows.len(), 2);
    }

    /// `latin1_bin` converted to utf8mb4 arrives as collation 45 flagged BINARY: it is not
    /// compared as the general_ci column beside it.
    #[test]
    fn text_flagged_binary_is_another_collation() {
        let ci = field("v", Type::Varchar);
        let bin = Field {
            flags: flag::BINARY,
            ..ci.clone()
        };
        assert!(same_type(&ci, &ci) && same_type(&bin, &bin));
        assert!(!same_type(&ci, &bin));
        let int = Field {
            flags: flag::BINARY,
            ..field("n", Type::Int64)
        };
        assert!(same_type(&int, &field("m", Type::Int64)));
    }
}
