//! Property test: a binary-protocol parameter bound as vtgate's SQL literal (and, for bytes
//! that are not UTF-8, the tablet's substitution of the bind variable vtgate makes of them)
//! gives, on real MariaDB, the same value (and for temporal and floating-point values the same
//! column type) as MariaDB gives the same parameter bound in a real prepared statement.

mod common;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value};
use mysql_server::{ColumnType, Param};
use proptest::prelude::*;
use vtgate::params::bind;
use vtgate::text::RawLiterals;

/// The parameter type mysql_async sends for a value (mysql_common's `bin_type`).
fn param(value: &Value) -> Param {
    use ColumnType::*;
    let (column_type, unsigned) = match value {
        Value::NULL => (MYSQL_TYPE_NULL, false),
        Value::Int(_) => (MYSQL_TYPE_LONGLONG, false),
        Value::UInt(_) => (MYSQL_TYPE_LONGLONG, true),
        Value::Float(_) => (MYSQL_TYPE_FLOAT, false),
        Value::Double(_) => (MYSQL_TYPE_DOUBLE, false),
        Value::Bytes(_) => (MYSQL_TYPE_VAR_STRING, false),
        Value::Date(..) => (MYSQL_TYPE_DATETIME, false),
        Value::Time(..) => (MYSQL_TYPE_TIME, false),
    };
    Param {
        value: value.clone(),
        column_type,
        unsigned,
    }
}

fn values() -> impl Strategy<Value = Value> {
    let date = (
        0u16..=9999,
        1u8..=12,
        1u8..=28,
        0u8..=23,
        0u8..=59,
        0u8..=59,
        0u32..=999_999,
    )
        .prop_map(|(y, mo, d, h, mi, s, us)| Value::Date(y, mo, d, h, mi, s, us));
    let time = (
        any::<bool>(),
        0u32..=34,
        0u8..=23,
        0u8..=59,
        0u8..=59,
        0u32..=999_999,
    )
        .prop_map(|(neg, days, h, mi, s, us)| Value::Time(neg, days, h, mi, s, us));
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        (1u64 << 63..=u64::MAX).prop_map(Value::UInt),
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(Value::Double),
        any::<f32>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(Value::Float),
        any::<String>().prop_map(|s| Value::Bytes(s.into_bytes())),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value::Bytes),
        date,
        time,
    ]
}

async fn one(
    conn: &mut Conn,
    value: &Value,
) -> Result<(Value, ColumnType, Value, ColumnType), String> {
    let direct: Row = conn
        .exec_first("SELECT ? AS p", (value.clone(),))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no row")?;
    let mut raw = RawLiterals::default();
    let sql = bind("SELECT ? AS p", &[param(value)], &mut raw).map_err(|e| e.to_string())?;
    let tablet_sql =
        vttablet::bind::substitute(&sql, &raw.into_vars()).map_err(|e| e.to_string())?;
    let through: Row = conn
        .exec_first(&tablet_sql[..], ())
        .await
        .map_err(|e| format!("{sql}: {e}"))?
        .ok_or("no row")?;
    let col = |r: &Row| r.columns_ref()[0].column_type();
    Ok((
        direct.as_ref(0).cloned().unwrap_or(Value::NULL),
        col(&direct),
        through.as_ref(0).cloned().unwrap_or(Value::NULL),
        col(&through),
    ))
}

#[test]
fn literals_match_bound_parameters_on_mariadb() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conn = std::cell::RefCell::new(rt.block_on(common::mariadb()));
    let mut config = ProptestConfig::with_cases(400);
    config.failure_persistence = None;
    proptest!(config, |(value in values())| {
        let (direct, direct_type, through, through_type) =
            rt.block_on(one(&mut conn.borrow_mut(), &value)).map_err(TestCaseError::fail)?;
        prop_assert_eq!(&through, &direct, "value {:?}", value);
        if matches!(value, Value::Date(..) | Value::Time(..) | Value::Double(_) | Value::Float(_)) {
            prop_assert_eq!(through_type, direct_type, "type of {:?}", value);
        }
    });
}
