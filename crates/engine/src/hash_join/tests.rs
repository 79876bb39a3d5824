//! Hash join tests: MySQL equality of keys (NULL, integer widths,
//! decimals, collations), duplicates on both sides, LEFT JOIN, the memory
//! limit and refusals.

use super::*;
use crate::testing::{field, result, rows_of, FakeVCursor};

/// A primitive with a fixed result.
#[derive(Debug)]
struct Fixed(QueryResult);

#[async_trait]
impl Primitive for Fixed {
    async fn execute(&self, _: &dyn VCursor, _: &BindVars) -> Result<QueryResult> {
        Ok(self.0.clone())
    }

    fn description(&self) -> PlanDescription {
        PlanDescription::new("Fixed")
    }
}

fn join(left_join: bool, left: QueryResult, right: QueryResult) -> HashJoin {
    HashJoin {
        left_join,
        left: Box::new(Fixed(left)),
        right: Box::new(Fixed(right)),
        cols: vec![
            JoinColumn::Left(0),
            JoinColumn::Right(1),
            JoinColumn::Left(1),
        ],
        left_key: 1,
        right_key: 0,
        predicate: "l.k = r.k".into(),
        null_row: Default::default(),
    }
}

fn text(f: Field, collation: u32) -> Field {
    Field {
        charset: collation,
        ..f
    }
}

async fn run(j: &HashJoin) -> Result<Vec<Vec<Option<String>>>> {
    let vc = FakeVCursor::new("ks", &["0"]);
    let mut rows = rows_of(&j.execute(&vc, &BindVars::default()).await?);
    rows.sort();
    Ok(rows)
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

#[tokio::test]
async fn integers_match_by_value_across_widths_and_nulls_never_match() {
    let left = result(
        &[field("id", Type::Int64), field("k", Type::Int8)],
        &[
            &[Some("1"), Some("7")],
            &[Some("2"), None],
            &[Some("3"), Some("-1")],
            &[Some("4"), Some("7")],
        ],
    );
    let right = result(
        &[field("k", Type::Uint64), field("v", Type::Varchar)],
        &[
            &[Some("7"), Some("a")],
            &[Some("07"), Some("b")],
            &[None, Some("null")],
            &[Some("18446744073709551615"), Some("max")],
        ],
    );
    let j = join(false, left.clone(), right.clone());
    assert_eq!(
        run(&j).await.unwrap(),
        vec![
            vec![s("1"), s("a"), s("7")],
            vec![s("1"), s("b"), s("7")],
            vec![s("4"), s("a"), s("7")],
            vec![s("4"), s("b"), s("7")],
        ]
    );
    let lj = join(true, left, right);
    let rows = run(&lj).await.unwrap();
    assert_eq!(rows.len(), 6);
    assert!(rows.contains(&vec![s("2"), None, None]));
    assert!(rows.contains(&vec![s("3"), None, s("-1")]));
}

#[tokio::test]
async fn decimals_match_integers_by_value() {
    let left = result(
        &[field("id", Type::Int64), field("k", Type::Decimal)],
        &[
            &[Some("1"), Some("2.50")],
            &[Some("2"), Some("-0.00")],
            &[Some("3"), Some("3.00")],
        ],
    );
    let right = result(
        &[field("k", Type::Decimal), field("v", Type::Varchar)],
        &[&[Some("2.5"), Some("a")], &[Some("0"), Some("z")]],
    );
    assert_eq!(
        run(&join(false, left.clone(), right)).await.unwrap(),
        vec![
            vec![s("1"), s("a"), s("2.50")],
            vec![s("2"), s("z"), s("-0.00")]
        ]
    );
    let ints = result(
        &[field("k", Type::Int32), field("v", Type::Varchar)],
        &[&[Some("3"), Some("three")]],
    );
    assert_eq!(
        run(&join(false, left, ints)).await.unwrap(),
        vec![vec![s("3"), s("three"), s("3.00")]]
    );
}

#[tokio::test]
async fn text_follows_its_collation() {
    let ci = |n| text(field(n, Type::Varchar), 45);
    let left = result(
        &[field("id", Type::Int64), ci("k")],
        &[
            &[Some("1"), Some("Bob")],
            &[Some("2"), Some("bob\t")],
            &[Some("3"), Some("EVE ")],
        ],
    );
    let right = result(
        &[ci("k"), field("v", Type::Varchar)],
        &[
            &[Some("bob "), Some("x")],
            &[Some("eve"), Some("y")],
            &[Some("BOB"), Some("z")],
        ],
    );
    assert_eq!(
        run(&join(false, left.clone(), right.clone()))
            .await
            .unwrap(),
        vec![
            vec![s("1"), s("x"), s("Bob")],
            vec![s("1"), s("z"), s("Bob")],
            vec![s("3"), s("y"), s("EVE ")],
        ]
    );
    // `*_bin`: case matters, trailing spaces do not.
    let bin = |r: &QueryResult, i: usize| {
        let mut r = r.clone();
        r.fields[i].charset = 46;
        r
    };
    assert_eq!(
        run(&join(false, bin(&left, 1), bin(&right, 0)))
            .await
            .unwrap(),
        Vec::<Vec<Option<String>>>::new()
    );
    // Two collations, or text against a number: refused.
    let err = run(&join(false, bin(&left, 1), right.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Unsupported(_)), "{err}");
    let nums = result(
        &[field("k", Type::Int64), field("v", Type::Varchar)],
        &[&[Some("1"), Some("x")]],
    );
    let err = run(&join(false, left.clone(), nums)).await.unwrap_err();
    assert!(matches!(err, EngineError::Unsupported(_)), "{err}");
    // Non-ASCII `_general_ci` text matches by its weights: accents and case folded.
    let accented = result(
        &[ci("k"), field("v", Type::Varchar)],
        &[&[Some("bÖb"), Some("x")], &[Some("Ève"), Some("y")]],
    );
    assert_eq!(
        run(&join(false, left, accented)).await.unwrap(),
        vec![
            vec![s("1"), s("x"), s("Bob")],
            vec![s("3"), s("y"), s("EVE ")]
        ]
    );
}

#[tokio::test]
async fn binary_keys_match_bytes() {
    let left = result(
        &[field("id", Type::Int64), field("k", Type::Varbinary)],
        &[&[Some("1"), Some("a ")], &[Some("2"), Some("a")]],
    );
    let right = result(
        &[field("k", Type::Varbinary), field("v", Type::Varchar)],
        &[&[Some("a"), Some("x")], &[Some("A"), Some("y")]],
    );
    assert_eq!(
        run(&join(false, left, right)).await.unwrap(),
        vec![vec![s("2"), s("x"), s("a")]]
    );
}

#[tokio::test]
async fn floats_are_refused_and_empty_sides_are_not() {
    let left = result(
        &[field("id", Type::Int64), field("k", Type::Float64)],
        &[&[Some("1"), Some("0.5")]],
    );
    let right = result(
        &[field("k", Type::Float64), field("v", Type::Varchar)],
        &[&[Some("0.5"), Some("x")]],
    );
    let err = run(&join(false, left.clone(), right.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Unsupported(_)), "{err}");
    // Nothing to probe: no comparison, so no refusal; the fields are there.
    let empty = result(&right.fields, &[]);
    let vc = FakeVCursor::new("ks", &["0"]);
    let r = join(true, left, empty)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap();
    assert_eq!(rows_of(&r), vec![vec![s("1"), None, s("0.5")]]);
    assert_eq!(r.fields.len(), 3);
}

#[tokio::test]
async fn right_side_counts_against_max_memory_rows() {
    let left = result(
        &[field("id", Type::Int64), field("k", Type::Int64)],
        &[&[Some("1"), Some("1")]],
    );
    let right = result(
        &[field("k", Type::Int64), field("v", Type::Varchar)],
        &[
            &[Some("1"), Some("a")],
            &[Some("1"), Some("b")],
            &[Some("1"), Some("c")],
        ],
    );
    let mut vc = FakeVCursor::new("ks", &["0"]);
    vc.max_rows = 2;
    let err = join(false, left, right)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::RowLimit(2)), "{err}");
}

#[test]
fn description_uses_vitess_names() {
    let f = result(&[field("k", Type::Int64)], &[]);
    let d = join(true, f.clone(), f).description().to_json();
    assert_eq!(d["OperatorType"], "Join");
    assert_eq!(d["Variant"], "HashLeftJoin");
    assert_eq!(d["JoinColumnIndexes"], "-1,2,-2");
    assert_eq!(d["Predicate"], "l.k = r.k");
}
