//! Filter tests: comparisons by type, NULL logic, hidden columns.

use super::*;
use crate::description::KeyspaceDesc;
use crate::route::{Opcode, Route};
use crate::testing::{field, result, rows_of, FakeVCursor};
use proto::query::Type;

fn lit(v: BindValue) -> Operand {
    Operand::Value(PlanValue::Literal(v))
}

async fn run(predicate: Predicate, hidden: usize) -> Vec<Vec<Option<String>>> {
    let f = [
        field("name", Type::Varchar),
        field("c", Type::Int64),
        field("s", Type::Decimal),
    ];
    let rows: &[&[Option<&str>]] = &[
        &[Some("a"), Some("1"), Some("1.50")],
        &[Some("B"), Some("3"), None],
        &[None, Some("10"), Some("-2")],
    ];
    let vc = FakeVCursor::new("ks", &["0"]).result("ks", "0", result(&f, rows));
    let filter = Filter {
        predicate,
        hidden_columns: hidden,
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
    let r = filter.execute(&vc, &BindVars::default()).await.unwrap();
    rows_of(&r)
}

fn names(rows: Vec<Vec<Option<String>>>) -> Vec<Option<String>> {
    rows.into_iter().map(|r| r[0].clone()).collect()
}

#[tokio::test]
async fn numeric_and_text_comparisons() {
    let gt2 = Predicate::Compare(Operand::Column(1), CmpOp::Gt, lit(BindValue::Int64(2)));
    assert_eq!(names(run(gt2, 0).await), vec![Some("B".into()), None]);
    let dec = Predicate::Compare(
        Operand::Column(2),
        CmpOp::Eq,
        lit(BindValue::Decimal("1.5".into())),
    );
    assert_eq!(names(run(dec, 0).await), vec![Some("a".into())]);
    let ci = Predicate::Compare(
        Operand::Column(0),
        CmpOp::Eq,
        lit(BindValue::VarChar(b"b".to_vec())),
    );
    assert_eq!(names(run(ci, 0).await), vec![Some("B".into())]);
    let cols = Predicate::Compare(Operand::Column(1), CmpOp::Lt, Operand::Column(2));
    assert_eq!(names(run(cols, 0).await), vec![Some("a".into())]);
}

#[tokio::test]
async fn three_valued_logic_and_hidden_columns() {
    let s_null = Predicate::IsNull(Operand::Column(2), false);
    let rows = run(s_null.clone(), 2).await;
    assert_eq!(rows, vec![vec![Some("B".into())]]);
    let not_gt = Predicate::Not(Box::new(Predicate::Compare(
        Operand::Column(2),
        CmpOp::Gt,
        lit(BindValue::Int64(0)),
    )));
    // NOT (NULL > 0) is NULL: the row with s = NULL is dropped.
    assert_eq!(names(run(not_gt.clone(), 0).await), vec![None]);
    let or = Predicate::Or(Box::new(not_gt), Box::new(s_null));
    assert_eq!(names(run(or, 0).await), vec![Some("B".into()), None]);
}

fn filter_on(predicate: Predicate) -> Filter {
    Filter {
        predicate,
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
    }
}

/// Text and numbers compare as MySQL's DOUBLE: the text's numeric prefix, 0 without one.
#[tokio::test]
async fn numbers_and_text_compare_as_doubles() {
    let f = [field("name", Type::Varchar)];
    let rows: &[&[Option<&str>]] = &[&[Some("a")], &[Some("1")], &[Some(" 1.0x")], &[Some("2")]];
    let vc = FakeVCursor::new("ks", &["0"]).result("ks", "0", result(&f, rows));
    let eq = Predicate::Compare(Operand::Column(0), CmpOp::Eq, lit(BindValue::Int64(1)));
    let r = filter_on(eq)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap();
    assert_eq!(
        names(rows_of(&r)),
        vec![Some("1".into()), Some(" 1.0x".into())]
    );
    let f = [field("n", Type::Int64)];
    let rows: &[&[Option<&str>]] = &[&[Some("0")], &[Some("5")], &[Some("6")]];
    let vc = FakeVCursor::new("ks", &["0"]).result("ks", "0", result(&f, rows));
    let gt = Predicate::Compare(
        Operand::Column(0),
        CmpOp::Gt,
        lit(BindValue::VarChar(b"5.5e0".to_vec())),
    );
    let r = filter_on(gt)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap();
    assert_eq!(names(rows_of(&r)), vec![Some("6".into())]);
    // A hex literal next to a number is a BIGINT UNSIGNED: 0x5 is 5.
    let hex = Predicate::Compare(
        Operand::Column(0),
        CmpOp::Ge,
        lit(BindValue::HexNum("5".into())),
    );
    let r = filter_on(hex)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap();
    assert_eq!(names(rows_of(&r)), vec![Some("5".into()), Some("6".into())]);
    let abc = Predicate::Compare(
        Operand::Column(0),
        CmpOp::Eq,
        lit(BindValue::VarChar(b"abc".to_vec())),
    );
    let r = filter_on(abc)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap();
    assert_eq!(names(rows_of(&r)), vec![Some("0".into())]);
}

#[tokio::test]
async fn temporal_values_with_numbers_are_refused() {
    let f = [field("t", Type::Time)];
    let vc = FakeVCursor::new("ks", &["0"]).result("ks", "0", result(&f, &[&[Some("10:00:00")]]));
    let eq = Predicate::Compare(Operand::Column(0), CmpOp::Eq, lit(BindValue::Int64(1)));
    let e = filter_on(eq)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("VT12001"));
}
