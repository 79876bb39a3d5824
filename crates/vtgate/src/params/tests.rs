//! Formatting of each parameter kind (the round trip through MariaDB is in
//! `tests/params_roundtrip.rs`).

use super::*;

fn p(value: Value, column_type: ColumnType) -> Param {
    Param {
        value,
        column_type,
        unsigned: false,
    }
}

fn lit(value: Value, column_type: ColumnType) -> String {
    let mut out = String::new();
    write_param(
        &mut out,
        &p(value, column_type),
        &mut RawLiterals::default(),
    )
    .unwrap();
    out
}

#[test]
fn numbers_keep_their_type() {
    use ColumnType::*;
    assert_eq!(
        lit(Value::Int(i64::MIN), MYSQL_TYPE_LONGLONG),
        "-9223372036854775808"
    );
    assert_eq!(
        lit(Value::UInt(u64::MAX), MYSQL_TYPE_LONGLONG),
        "18446744073709551615"
    );
    assert_eq!(lit(Value::Double(1.5), MYSQL_TYPE_DOUBLE), "1.5e0");
    assert_eq!(lit(Value::Double(3.14e300), MYSQL_TYPE_DOUBLE), "3.14e300");
    assert_eq!(lit(Value::Double(-0.1), MYSQL_TYPE_DOUBLE), "-1e-1");
    assert_eq!(
        lit(Value::Float(0.1), MYSQL_TYPE_FLOAT),
        "CAST(1e-1 AS FLOAT)"
    );
    let mut out = String::new();
    for v in [Value::Float(f32::INFINITY), Value::Double(f64::NAN)] {
        let mut raw = RawLiterals::default();
        assert!(write_param(&mut out, &p(v, MYSQL_TYPE_DOUBLE), &mut raw).is_err());
    }
    let dec = |s: &str| lit(Value::Bytes(s.into()), MYSQL_TYPE_NEWDECIMAL);
    assert_eq!(dec("-12345.678"), "-12345.678");
    assert_eq!(dec(".5"), ".5");
    assert_eq!(dec("1; drop table t"), "'1; drop table t'");
    assert_eq!(dec("."), "'.'");
}

#[test]
fn strings_and_bytes() {
    use ColumnType::*;
    assert_eq!(
        lit(Value::Bytes(b"it's".to_vec()), MYSQL_TYPE_VAR_STRING),
        "'it\\'s'"
    );
    assert_eq!(
        lit(Value::Bytes(b"ab".to_vec()), MYSQL_TYPE_BLOB),
        "_binary'ab'"
    );
    let mut raw = RawLiterals::default();
    let mut out = String::new();
    write_param(
        &mut out,
        &p(Value::Bytes(vec![0xff, 0]), MYSQL_TYPE_STRING),
        &mut raw,
    )
    .unwrap();
    write_param(
        &mut out,
        &p(Value::Bytes(vec![0xfe]), MYSQL_TYPE_BLOB),
        &mut raw,
    )
    .unwrap();
    assert_eq!(out, " :vtg_raw_0 _binary :vtg_raw_1 ");
    assert_eq!(raw.into_vars()["vtg_raw_0"].value, vec![0xff, 0]);
}

#[test]
fn temporal_values_are_typed_literals() {
    use ColumnType::*;
    assert_eq!(
        lit(Value::Date(2024, 2, 29, 0, 0, 0, 0), MYSQL_TYPE_DATE),
        "DATE'2024-02-29'"
    );
    assert_eq!(
        lit(
            Value::Date(2024, 2, 29, 12, 34, 56, 789),
            MYSQL_TYPE_DATETIME
        ),
        "TIMESTAMP'2024-02-29 12:34:56.000789'"
    );
    assert_eq!(
        lit(Value::Date(0, 0, 0, 0, 0, 0, 0), MYSQL_TYPE_TIMESTAMP),
        "TIMESTAMP'0000-00-00 00:00:00'"
    );
    // Not a calendar date: MariaDB takes it only as a string.
    assert_eq!(
        lit(Value::Date(2023, 2, 29, 0, 0, 0, 0), MYSQL_TYPE_DATE),
        "'2023-02-29'"
    );
    // Out of range: the zero value, as MariaDB's check_datetime_range makes it.
    assert_eq!(
        lit(Value::Date(2024, 13, 1, 0, 0, 0, 0), MYSQL_TYPE_DATETIME),
        "TIMESTAMP'0000-00-00 00:00:00'"
    );
    assert_eq!(
        lit(Value::Time(true, 0, 1, 2, 3, 500_000), MYSQL_TYPE_TIME),
        "TIME'-01:02:03.500000'"
    );
    assert_eq!(
        lit(Value::Time(false, 2, 1, 0, 0, 0), MYSQL_TYPE_TIME),
        "TIME'49:00:00'"
    );
    assert_eq!(
        lit(Value::Time(true, 40, 0, 0, 0, 7), MYSQL_TYPE_TIME),
        "TIME'-838:59:59.000007'"
    );
    // What the connector's C extension sends for a negative timedelta.
    assert_eq!(
        lit(
            Value::Time(false, 0, 255, 255, 255, 16_007_681),
            MYSQL_TYPE_TIME
        ),
        "TIME'00:00:00'"
    );
}

#[test]
fn bind_checks_the_count() {
    let params = [
        p(Value::NULL, ColumnType::MYSQL_TYPE_NULL),
        p(Value::Int(5), ColumnType::MYSQL_TYPE_LONGLONG),
    ];
    let mut raw = RawLiterals::default();
    assert_eq!(
        bind("select ?, '?', ?", &params, &mut raw).unwrap(),
        "select NULL, '?', 5"
    );
    assert!(bind("select ?", &params, &mut raw).is_err());
}
