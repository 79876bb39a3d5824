//! Join tests: bind variables per left row, inner and left joins, fields
//! when the left side is empty.

use super::*;
use crate::bind::PlanValue;
use crate::description::KeyspaceDesc;
use crate::route::{Opcode, Route, RouteVindex};
use crate::testing::{field, result, rows_of, FakeVCursor};

fn left() -> Box<dyn Primitive> {
    Box::new(Route::new(
        Opcode::Unsharded,
        KeyspaceDesc {
            name: "main".into(),
            sharded: false,
        },
        "select m.a, m.uid from m".into(),
        "select m.a, m.uid from m where 1 != 1".into(),
    ))
}

fn right() -> Box<dyn Primitive> {
    let mut r = Route::new(
        Opcode::EqualUnique,
        KeyspaceDesc {
            name: "user".into(),
            sharded: true,
        },
        "select u.name from user as u where u.id = :m_uid".into(),
        "select u.name from user as u where 1 != 1".into(),
    );
    r.vindex = Some(RouteVindex {
        name: "hash".into(),
        vindex: vschema::create_vindex("hash", "hash", &Default::default()).unwrap(),
        values: vec![PlanValue::BindVar("m_uid".into())],
        unmapped: Default::default(),
        columns: Vec::new(),
        kind: Default::default(),
    });
    Box::new(r)
}

fn join(left_join: bool) -> Join {
    Join {
        left_join,
        left: left(),
        right: right(),
        cols: vec![JoinColumn::Left(0), JoinColumn::Right(0)],
        vars: vec![("m_uid".into(), 1)],
        value_vars: Vec::new(),
        null_row: Default::default(),
    }
}

fn vc(left_rows: &[&[Option<&str>]]) -> FakeVCursor {
    let lf = [field("a", Type::Varchar), field("uid", Type::Int64)];
    let rf = [field("name", Type::Varchar)];
    FakeVCursor::new("main", &["0"])
        .keyspace("user", &["-80", "80-"])
        .result("main", "0", result(&lf, left_rows))
        .result("user", "80-", result(&rf, &[&[Some("n4")]]))
        .result("user", "-80", result(&rf, &[]))
}

#[tokio::test]
async fn binds_left_values_into_right_queries() {
    let vc = vc(&[
        &[Some("x"), Some("4")],
        &[Some("y"), Some("1")],
        &[Some("z"), None],
    ]);
    let r = join(false)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(rows_of(&r), vec![vec![s("x"), s("n4")]]);
    assert_eq!(
        r.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["a", "name"]
    );
    let sent = vc.sent();
    assert!(sent.contains(&(
        "80-".into(),
        "select u.name from user as u where u.id = 4".into()
    )));
    assert!(sent.contains(&(
        "-80".into(),
        "select u.name from user as u where u.id = 1".into()
    )));
    // NULL maps to no shard: the right side only fetches fields.
    assert!(sent.contains(&(
        "-80".into(),
        "select u.name from user as u where 1 != 1".into()
    )));
}

#[tokio::test]
async fn left_join_keeps_unmatched_rows() {
    let vc = vc(&[&[Some("x"), Some("4")], &[Some("y"), Some("1")]]);
    let r = join(true).execute(&vc, &BindVars::default()).await.unwrap();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(rows_of(&r), vec![vec![s("x"), s("n4")], vec![s("y"), None]]);
    let d = join(true).description().to_json();
    assert_eq!(
        (d["Variant"].as_str(), d["JoinColumnIndexes"].as_str()),
        (Some("LeftJoin"), Some("L:0,R:0"))
    );
}

#[tokio::test]
async fn left_join_fills_unmatched_rows_from_the_null_row_once() {
    const NULL_ROW: &str = "select coalesce(u.name, 'none') from (select 1) as vt_null \
                            left join user as u on 1 = 0";
    let mut vc = vc(&[
        &[Some("x"), Some("4")],
        &[Some("y"), Some("1")],
        &[Some("z"), Some("1")],
    ]);
    vc.responder = Some(Box::new(|_, _, sql| {
        (sql == NULL_ROW).then(|| Ok(result(&[field("c", Type::Varchar)], &[&[Some("none")]])))
    }));
    let mut j = join(true);
    j.null_row = NullRow {
        query: Some(Box::new(Route::new(
            Opcode::Reference,
            KeyspaceDesc {
                name: "user".into(),
                sharded: true,
            },
            NULL_ROW.into(),
            "unused".into(),
        ))),
        per_row: false,
    };
    let r = j.execute(&vc, &BindVars::default()).await.unwrap();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        rows_of(&r),
        vec![
            vec![s("x"), s("n4")],
            vec![s("y"), s("none")],
            vec![s("z"), s("none")]
        ]
    );
    let asked = vc.sent().iter().filter(|(_, q)| q == NULL_ROW).count();
    assert_eq!(asked, 1);
    assert!(j.description().to_json()["NullRow"]["Query"] == NULL_ROW);
}

#[tokio::test]
async fn empty_left_still_has_fields() {
    let vc = vc(&[]);
    let r = join(false)
        .execute(&vc, &BindVars::default())
        .await
        .unwrap();
    assert!(r.rows.is_empty());
    assert_eq!(r.fields.len(), 2);
}

#[test]
fn cells_bind_by_type() {
    let f = |t| field("c", t);
    let b = |t, c: Option<&[u8]>| cell_to_bind(&f(t), c).unwrap();
    assert_eq!(b(Type::Int64, Some(b"-3")), BindValue::Int64(-3));
    assert_eq!(
        b(Type::Uint64, Some(b"18446744073709551615")),
        BindValue::Uint64(u64::MAX)
    );
    assert_eq!(
        b(Type::Decimal, Some(b"1.50")),
        BindValue::Decimal("1.50".into())
    );
    assert_eq!(
        b(Type::Varbinary, Some(b"\x00\xff")),
        BindValue::VarBinary(vec![0, 255])
    );
    assert_eq!(
        b(Type::Varchar, Some(b"it's")),
        BindValue::VarChar(b"it's".to_vec())
    );
    assert_eq!(b(Type::Varchar, None), BindValue::Null);
    assert!(cell_to_bind(&f(Type::Float32), Some(b"0.1")).is_err());
}

/// A text value compared on another shard takes that column's collation: general_ci
/// values keep MariaDB's answer there, utf8mb4_bin ones carry their collation.
#[test]
fn compared_text_is_general_ci_or_carries_bin() {
    let text = |charset: u32, flags: u32| Field {
        charset,
        flags,
        ..field("c", Type::Varchar)
    };
    let bind = |f: &Field| compared_cell_to_bind(f, Some(b"a"));
    assert_eq!(
        bind(&text(45, 0)).unwrap(),
        BindValue::VarChar(b"a".to_vec())
    );
    assert_eq!(
        bind(&text(46, 128)).unwrap().to_sql(),
        "_utf8mb4'a' COLLATE utf8mb4_bin"
    );
    assert_eq!(
        compared_cell_to_bind(&text(46, 128), None).unwrap(),
        BindValue::Null
    );
    for (charset, flags) in [(224, 0), (1069, 0), (0, 0), (45, 128)] {
        let err = bind(&text(charset, flags)).unwrap_err().to_string();
        assert!(err.contains("with a column on other shards"), "{err}");
    }
    // Other types are not collated.
    assert_eq!(
        compared_cell_to_bind(&field("n", Type::Int64), Some(b"7")).unwrap(),
        BindValue::Int64(7)
    );
}

#[test]
fn values_computed_with_keep_their_column_type() {
    let typed = |f: &Field, cell: Option<&str>| {
        typed_cell_to_bind(f, cell.map(str::as_bytes)).map(|v| v.to_sql())
    };
    let mut dec = field("d", Type::Decimal);
    dec.column_length = 12;
    dec.decimals = 2;
    assert_eq!(
        typed(&dec, Some("-1.50")).unwrap(),
        "CAST(-1.50 AS DECIMAL(10,2))"
    );
    assert_eq!(typed(&dec, None).unwrap(), "CAST(null AS DECIMAL(10,2))");
    let mut unsigned = field("u", Type::Uint32);
    unsigned.flags |= flag::UNSIGNED;
    assert_eq!(typed(&unsigned, None).unwrap(), "CAST(null AS UNSIGNED)");
    assert_eq!(
        typed(&field("i", Type::Int32), Some("7")).unwrap(),
        "CAST(7 AS SIGNED)"
    );
    let mut text = field("t", Type::Varchar);
    text.charset = UTF8MB4_GENERAL_CI;
    assert_eq!(
        typed(&text, Some("a'b")).unwrap(),
        "CAST('a\\'b' AS CHAR CHARACTER SET utf8mb4)"
    );
    text.charset = UTF8MB4_BIN;
    assert_eq!(
        typed(&text, None).unwrap(),
        "CAST(null AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin"
    );
    let mut when = field("w", Type::Datetime);
    when.decimals = 3;
    assert_eq!(
        typed(&when, Some("2024-01-02 03:04:05.678")).unwrap(),
        "CAST(CAST('2024-01-02 03:04:05.678' AS DATETIME(3)) AS DATETIME(3))"
    );
    // A cast cannot stand for these: an ENUM is a number in numeric context, a float's text
    // may not read back as the same number, latin1 text has another collation.
    for t in [Type::Enum, Type::Float64, Type::Bit, Type::Json] {
        assert!(typed(&field("x", t), Some("1")).is_err(), "{t:?}");
    }
    text.charset = 8;
    assert!(typed(&text, Some("a")).is_err());
}
