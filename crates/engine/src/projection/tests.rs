//! Projection tests: MySQL's result types, scales, NULLs and errors.

use super::*;
use crate::description::KeyspaceDesc;
use crate::route::{Opcode, Route};
use crate::testing::{field, result, rows_of, FakeVCursor};

fn col(i: usize) -> Box<Arith> {
    Box::new(Arith::Column(i))
}

fn lit(v: BindValue) -> Box<Arith> {
    Box::new(Arith::Value(PlanValue::Literal(v)))
}

fn bin(a: Box<Arith>, op: ArithOp, b: Box<Arith>) -> Arith {
    Arith::Binary(a, op, b)
}

/// Input columns: count (BIGINT), sum (DECIMAL scale 2), f (DOUBLE),
/// name (VARCHAR), and a placeholder column 4 the expressions replace.
async fn run(exprs: Vec<Arith>) -> Result<(Vec<Field>, Vec<Vec<Option<String>>>)> {
    run_with(exprs, &BindVars::default()).await
}

async fn run_with(
    exprs: Vec<Arith>,
    vars: &BindVars,
) -> Result<(Vec<Field>, Vec<Vec<Option<String>>>)> {
    let mut sum = field("s", Type::Decimal);
    sum.decimals = 2;
    let f = [
        field("c", Type::Int64),
        sum,
        field("f", Type::Float64),
        field("name", Type::Varchar),
        field("p", Type::Int64),
    ];
    let rows: &[&[Option<&str>]] = &[
        &[Some("3"), Some("10.50"), Some("1.5"), Some("a"), None],
        &[Some("0"), None, Some("0"), None, None],
        &[Some("-7"), Some("-1.25"), Some("-0.125"), Some("b"), None],
    ];
    let vc = FakeVCursor::new("ks", &["0"]).result("ks", "0", result(&f, rows));
    let p = Projection {
        columns: exprs
            .into_iter()
            .enumerate()
            .map(|(i, expr)| ProjectedColumn {
                col: 4,
                name: format!("e{i}"),
                expr,
            })
            .collect(),
        hidden_columns: 0,
        input: Box::new(Route::new(
            Opcode::Unsharded,
            KeyspaceDesc {
                name: "ks".into(),
                sharded: false,
            },
            "q".into(),
            "fq".into(),
        )),
    };
    let r = p.execute(&vc, vars).await?;
    Ok((r.fields.clone(), rows_of(&r)))
}

async fn column(e: Arith) -> (Field, Vec<Option<String>>) {
    let (fields, rows) = run(vec![e]).await.unwrap();
    (
        fields[4].clone(),
        rows.into_iter().map(|r| r[4].clone()).collect(),
    )
}

fn some(v: &[Option<&str>]) -> Vec<Option<String>> {
    v.iter().map(|c| c.map(str::to_string)).collect()
}

#[tokio::test]
async fn integers_stay_bigint() {
    let (f, v) = column(bin(col(0), ArithOp::Mul, lit(BindValue::Int64(2)))).await;
    assert_eq!(f.r#type, Type::Int64 as i32);
    assert_eq!(v, some(&[Some("6"), Some("0"), Some("-14")]));
    let (_, v) = column(Arith::Neg(col(0))).await;
    assert_eq!(v, some(&[Some("-3"), Some("0"), Some("7")]));
}

#[tokio::test]
async fn decimals_keep_mysql_scales() {
    let (f, v) = column(bin(col(1), ArithOp::Add, lit(BindValue::Int64(1)))).await;
    assert_eq!((f.r#type, f.decimals), (Type::Decimal as i32, 2));
    assert_eq!(v, some(&[Some("11.50"), None, Some("-0.25")]));
    let (f, v) = column(bin(
        col(1),
        ArithOp::Mul,
        lit(BindValue::Decimal("0.5".into())),
    ))
    .await;
    assert_eq!(f.decimals, 3);
    assert_eq!(v, some(&[Some("5.250"), None, Some("-0.625")]));
}

#[tokio::test]
async fn division_rounds_and_gives_null_for_zero() {
    let (f, v) = column(bin(col(1), ArithOp::Div, col(0))).await;
    assert_eq!((f.r#type, f.decimals), (Type::Decimal as i32, 6));
    assert_eq!(v, some(&[Some("3.500000"), None, Some("0.178571")]));
    let (f, v) = column(bin(lit(BindValue::Int64(1)), ArithOp::Div, col(0))).await;
    assert_eq!(f.decimals, 4);
    assert_eq!(v, some(&[Some("0.3333"), None, Some("-0.1429")]));
}

#[tokio::test]
async fn a_quotient_keeps_its_digits_inside_an_expression() {
    // 1 / 3 is 0.333333333 to MySQL: times 3 it shows 1.0000, times a billion 333333333.0000.
    let third = bin(lit(BindValue::Int64(1)), ArithOp::Div, col(0));
    let (f, v) = column(bin(Box::new(third.clone()), ArithOp::Mul, col(0))).await;
    assert_eq!(f.decimals, 4);
    assert_eq!(v, some(&[Some("1.0000"), None, Some("1.0000")]));
    let (f, v) = column(bin(
        Box::new(third),
        ArithOp::Mul,
        lit(BindValue::Int64(1_000_000_000)),
    ))
    .await;
    assert_eq!(f.decimals, 4);
    assert_eq!(
        v,
        some(&[Some("333333333.0000"), None, Some("-142857142.0000")])
    );
}

#[tokio::test]
async fn round_sets_the_scale_and_keeps_integers() {
    let (f, v) = column(Arith::Round(col(1), 1)).await;
    assert_eq!((f.r#type, f.decimals), (Type::Decimal as i32, 1));
    assert_eq!(v, some(&[Some("10.5"), None, Some("-1.3")]));
    // MariaDB pads to the digits asked for.
    let (f, v) = column(Arith::Round(col(1), 4)).await;
    assert_eq!(f.decimals, 4);
    assert_eq!(v, some(&[Some("10.5000"), None, Some("-1.2500")]));
    let (f, v) = column(Arith::Round(col(0), -1)).await;
    assert_eq!(f.r#type, Type::Int64 as i32);
    assert_eq!(v, some(&[Some("0"), Some("0"), Some("-10")]));
    let (f, v) = column(Arith::Round(Box::new(bin(col(1), ArithOp::Div, col(0))), 2)).await;
    assert_eq!(f.decimals, 2);
    assert_eq!(v, some(&[Some("3.50"), None, Some("0.18")]));
    assert!(run(vec![Arith::Round(col(2), 1)]).await.is_err());
}

#[tokio::test]
async fn doubles_spread() {
    let (f, v) = column(bin(col(2), ArithOp::Add, col(0))).await;
    assert_eq!(f.r#type, Type::Float64 as i32);
    assert_eq!(v, some(&[Some("4.5"), Some("0"), Some("-7.125")]));
    let (_, v) = column(bin(col(0), ArithOp::Div, col(2))).await;
    assert_eq!(v, some(&[Some("2"), None, Some("56")]));
}

#[tokio::test]
async fn later_columns_read_earlier_ones() {
    let first = bin(col(0), ArithOp::Add, lit(BindValue::Int64(1)));
    let second = bin(col(4), ArithOp::Mul, col(4));
    let (fields, rows) = run(vec![first, second]).await.unwrap();
    assert_eq!(fields[4].name, "e1");
    let got: Vec<Option<String>> = rows.into_iter().map(|r| r[4].clone()).collect();
    assert_eq!(got, some(&[Some("16"), Some("1"), Some("36")]));
}

#[tokio::test]
async fn text_and_overflow_are_errors() {
    let text = run(vec![bin(col(3), ArithOp::Add, lit(BindValue::Int64(1)))]).await;
    assert!(matches!(text, Err(EngineError::Unsupported(_))), "{text:?}");
    let big = run(vec![bin(
        col(0),
        ArithOp::Mul,
        lit(BindValue::Int64(i64::MAX)),
    )])
    .await;
    assert!(
        matches!(big, Err(EngineError::MySql { errno: 1690, .. })),
        "{big:?}"
    );
}

#[tokio::test]
async fn coalesce_takes_the_first_value_in_the_common_type() {
    let (f, v) = column(Arith::Coalesce(vec![*col(1), *lit(BindValue::Int64(0))])).await;
    assert_eq!((f.r#type, f.decimals), (Type::Decimal as i32, 2));
    assert_eq!(v, some(&[Some("10.50"), Some("0.00"), Some("-1.25")]));
    // Integers keep the widest integer type; a small literal is INT.
    let (f, v) = column(Arith::Coalesce(vec![
        *lit(BindValue::Null),
        *lit(BindValue::Int64(5)),
    ]))
    .await;
    assert_eq!(f.r#type, Type::Int32 as i32);
    assert_eq!(v, some(&[Some("5"), Some("5"), Some("5")]));
    let (f, _) = column(Arith::Coalesce(vec![*col(0), *lit(BindValue::Int64(1))])).await;
    assert_eq!(f.r#type, Type::Int64 as i32);
}

#[tokio::test]
async fn bind_variables_are_typed_by_their_values() {
    let vars = BindVars::from_iter([("v".to_string(), BindValue::Decimal("0.5".into()))]);
    let e = bin(
        col(0),
        ArithOp::Mul,
        Box::new(Arith::Value(PlanValue::BindVar("v".into()))),
    );
    let (fields, rows) = run_with(vec![e], &vars).await.unwrap();
    assert_eq!(
        (fields[4].r#type, fields[4].decimals),
        (Type::Decimal as i32, 1)
    );
    let got: Vec<Option<String>> = rows.into_iter().map(|r| r[4].clone()).collect();
    assert_eq!(got, some(&[Some("1.5"), Some("0.0"), Some("-3.5")]));
}

#[tokio::test]
async fn greatest_and_least_compare_in_the_common_type() {
    // count (BIGINT) against sum (DECIMAL(.., 2)): DECIMAL, NULL when sum is.
    let (f, v) = column(Arith::Extreme(Pick::Greatest, vec![*col(0), *col(1)])).await;
    assert_eq!((f.r#type, f.decimals), (Type::Decimal as i32, 2));
    assert_eq!(v, some(&[Some("10.50"), None, Some("-1.25")]));
    let (_, v) = column(Arith::Extreme(Pick::Least, vec![*col(0), *col(1)])).await;
    assert_eq!(v, some(&[Some("3.00"), None, Some("-7.00")]));
    // Integers stay integers of the widest type; three arguments.
    let (f, v) = column(Arith::Extreme(
        Pick::Least,
        vec![
            *col(0),
            *lit(BindValue::Int64(1)),
            *lit(BindValue::Int64(-2)),
        ],
    ))
    .await;
    assert_eq!(f.r#type, Type::Int64 as i32);
    assert_eq!(v, some(&[Some("-2"), Some("-2"), Some("-7")]));
    // A DOUBLE argument makes the comparison DOUBLE.
    let (f, v) = column(Arith::Extreme(Pick::Greatest, vec![*col(2), *col(0)])).await;
    assert_eq!(f.r#type, Type::Float64 as i32);
    assert_eq!(v, some(&[Some("3"), Some("0"), Some("-0.125")]));
}

#[tokio::test]
async fn greatest_refuses_what_mysql_types_otherwise() {
    for args in [
        vec![*col(0), *lit(BindValue::Null)],
        vec![*col(0), *lit(BindValue::Uint64(u64::MAX))],
        vec![*col(0), *col(3)],
    ] {
        let got = run(vec![Arith::Extreme(Pick::Greatest, args)]).await;
        assert!(matches!(got, Err(EngineError::Unsupported(_))), "{got:?}");
    }
}
