//! Aggregate tests: partial counts, sums, min/max, avg, count(distinct) (by order and by set),
//! group_concat (partial and DISTINCT) and sum(distinct)
//! merged across shards, grouped and scalar, with NULLs and empty input.

use super::*;
use crate::description::KeyspaceDesc;
use crate::merge_sort::OrderByParam;
use crate::route::{Opcode, Route};
use crate::testing::{field, result, rows_of, FakeVCursor};

/// A scatter route whose shard results merge ascending by `order_by`.
fn scatter(order_by: &[usize]) -> Box<dyn Primitive> {
    let mut r = Route::new(
        Opcode::Scatter,
        KeyspaceDesc {
            name: "ks".into(),
            sharded: true,
        },
        "select ...".into(),
        "select ... where 1 != 1".into(),
    );
    r.order_by = order_by
        .iter()
        .map(|&col| OrderByParam { col, desc: false })
        .collect();
    Box::new(r)
}

fn texts(r: &QueryResult) -> Vec<Vec<Option<String>>> {
    rows_of(r)
}

fn s(x: &str) -> Option<String> {
    Some(x.to_string())
}

fn param(opcode: AggregateOpcode, col: usize, alias: &str) -> AggregateParam {
    AggregateParam {
        opcode,
        col,
        alias: alias.to_string(),
    }
}

#[tokio::test]
async fn grouped_partials_merge() {
    // select g, count(*), sum(x), min(x), max(x), avg(x) -> g, count(*), sum(x), min, max, sum(x), count(x)
    let mut dec = field("s", Type::Decimal);
    dec.decimals = 0;
    let f = [
        field("g", Type::Varchar),
        field("count(*)", Type::Int64),
        dec.clone(),
        field("min(x)", Type::Int64),
        field("max(x)", Type::Int64),
        dec,
        field("count(x)", Type::Int64),
    ];
    let a: &[&[Option<&str>]] = &[
        &[
            Some("a"),
            Some("2"),
            Some("3"),
            Some("1"),
            Some("2"),
            Some("3"),
            Some("2"),
        ],
        &[Some("b"), Some("1"), None, None, None, None, Some("0")],
    ];
    let b: &[&[Option<&str>]] = &[
        &[
            Some("A"),
            Some("3"),
            Some("-10"),
            Some("-9"),
            Some("1"),
            Some("-10"),
            Some("3"),
        ],
        &[
            Some("c"),
            Some("1"),
            Some("9223372036854775807"),
            Some("5"),
            Some("5"),
            Some("2"),
            Some("1"),
        ],
    ];
    let vc = FakeVCursor::new("ks", &["-80", "80-"])
        .result("ks", "-80", result(&f, a))
        .result("ks", "80-", result(&f, b));
    let agg = Aggregate {
        group_by: vec![0],
        aggregates: vec![
            param(AggregateOpcode::CountStar, 1, "count(*)"),
            param(AggregateOpcode::Sum, 2, "sum(x)"),
            param(AggregateOpcode::Min, 3, "min(x)"),
            param(AggregateOpcode::Max, 4, "max(x)"),
            param(AggregateOpcode::Avg { count_col: 6 }, 5, "avg(x)"),
        ],
        hidden_columns: 1,
        input: scatter(&[0]),
    };
    let r = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(r.fields.len(), 6);
    assert_eq!(r.fields[5].name, "avg(x)");
    assert_eq!(r.fields[5].decimals, 4);
    assert_eq!(
        texts(&r),
        vec![
            vec![s("a"), s("5"), s("-7"), s("-9"), s("2"), s("-1.4000")],
            vec![s("b"), s("1"), None, None, None, None],
            vec![
                s("c"),
                s("1"),
                s("9223372036854775807"),
                s("5"),
                s("5"),
                s("2.0000")
            ],
        ]
    );
    let d = agg.description().to_json();
    assert_eq!(
        (d["Variant"].as_str(), d["GroupBy"].as_str()),
        (Some("Ordered"), Some("0"))
    );
}

#[tokio::test]
async fn scalar_aggregate_of_nothing_is_one_row() {
    let f = [
        field("count(*)", Type::Int64),
        field("sum(x)", Type::Decimal),
    ];
    let vc = FakeVCursor::new("ks", &["-80", "80-"]);
    let mut r = Route::new(
        Opcode::None,
        KeyspaceDesc {
            name: "ks".into(),
            sharded: true,
        },
        "q".into(),
        "fq".into(),
    );
    r.order_by = vec![];
    let vc = vc.result("ks", "-80", result(&f, &[&[Some("0"), None]]));
    let agg = Aggregate {
        group_by: vec![],
        aggregates: vec![
            param(AggregateOpcode::CountStar, 0, "count(*)"),
            param(AggregateOpcode::Sum, 1, "sum(x)"),
        ],
        hidden_columns: 0,
        input: Box::new(r),
    };
    let out = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(texts(&out), vec![vec![s("0"), None]]);
}

#[tokio::test]
async fn count_distinct_over_sorted_values() {
    // shards: select g, x, count(*) ... group by g, x order by g, x
    let f = [
        field("g", Type::Int64),
        field("x", Type::Varchar),
        field("count(*)", Type::Int64),
    ];
    let a: &[&[Option<&str>]] = &[
        &[Some("1"), None, Some("4")],
        &[Some("1"), Some("a"), Some("1")],
        &[Some("1"), Some("b"), Some("1")],
    ];
    let b: &[&[Option<&str>]] = &[
        &[Some("1"), Some("B"), Some("2")],
        &[Some("2"), Some("z"), Some("1")],
    ];
    let vc = FakeVCursor::new("ks", &["-80", "80-"])
        .result("ks", "-80", result(&f, a))
        .result("ks", "80-", result(&f, b));
    let agg = Aggregate {
        group_by: vec![0],
        aggregates: vec![
            param(AggregateOpcode::CountDistinct, 1, "count(distinct x)"),
            param(AggregateOpcode::CountStar, 2, "count(*)"),
        ],
        hidden_columns: 0,
        input: scatter(&[0, 1]),
    };
    let out = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(out.fields[1].r#type, Type::Int64 as i32);
    assert_eq!(
        texts(&out),
        vec![vec![s("1"), s("2"), s("8")], vec![s("2"), s("1"), s("1")]]
    );
}

#[tokio::test]
async fn raw_rows_count_a_second_distinct_in_a_set_and_concatenate_distinct_values() {
    // Raw rows sorted by g then x: count(distinct x) by order, count(distinct y) and
    // sum(distinct y) by set (010 is 10), group_concat(distinct x) leaving out neighbours
    // equal under general_ci.
    let f = [
        field("g", Type::Int64),
        field("x", Type::Varchar),
        field("y", Type::Int64),
        field("x2", Type::Varchar),
        field("y2", Type::Int64),
    ];
    let a: &[&[Option<&str>]] = &[
        &[Some("1"), Some("a"), Some("10"), Some("a"), Some("10")],
        &[Some("1"), Some("A"), Some("20"), Some("A"), Some("20")],
        &[Some("1"), Some("b"), Some("010"), Some("b"), Some("010")],
        &[Some("1"), None, None, None, None],
    ];
    let b: &[&[Option<&str>]] = &[
        &[Some("2"), Some("é"), Some("5"), Some("é"), Some("5")],
        &[Some("2"), Some("E"), Some("5"), Some("E"), Some("5")],
    ];
    let vc = FakeVCursor::new("ks", &["-80", "80-"])
        .result("ks", "-80", result(&f, a))
        .result("ks", "80-", result(&f, b));
    let agg = Aggregate {
        group_by: vec![0],
        aggregates: vec![
            param(AggregateOpcode::CountDistinct, 1, "count(distinct x)"),
            param(AggregateOpcode::CountDistinctHashed, 2, "count(distinct y)"),
            param(
                AggregateOpcode::GroupConcat {
                    separator: b",".to_vec(),
                    distinct: true,
                },
                3,
                "group_concat(distinct x)",
            ),
            param(AggregateOpcode::SumDistinctHashed, 4, "sum(distinct y)"),
        ],
        hidden_columns: 0,
        input: scatter(&[0, 1]),
    };
    let out = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(out.fields[2].r#type, Type::Int64 as i32);
    // SUM of integers is DECIMAL.
    assert_eq!(out.fields[4].r#type, Type::Decimal as i32);
    assert_eq!(
        texts(&out),
        vec![
            vec![s("1"), s("2"), s("2"), s("a,b"), s("30")],
            vec![s("2"), s("1"), s("1"), s("é"), s("5")]
        ]
    );
}

/// What MariaDB 10.11 printed for each value (`select 1e15, 1e15+252.9, ...`).
#[test]
fn floats_print_like_mariadb() {
    for (value, mariadb) in [
        (1e20, "1e20"),
        (0.5, "0.5"),
        (1e-7, "0.0000001"),
        (1e15, "1e15"),
        (1e15 + 252.9, "1000000000000252.9"),
        (-1e15 - 252.9, "-1000000000000252.9"),
        (1e14, "100000000000000"),
        (1.5e15, "1.5e15"),
        (9999999999999998.0, "9.999999999999998e15"),
        (1234567890123456789.0, "1.2345678901234568e18"),
        (1e-14, "0.00000000000001"),
        (1e-15, "0.000000000000001"),
        (1e-16, "1e-16"),
        (1.234567890123456e-10, "0.0000000001234567890123456"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-0.0, "0"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e308"),
    ] {
        assert_eq!(float_text(value), mariadb, "{value:e}");
    }
}

#[tokio::test]
async fn sum_distinct_adds_each_value_once_and_refuses_float() {
    // shards: select x, x ... group by x order by x (count and sum of distinct x)
    let run = |typ: Type| async move {
        let f = [field("c", typ), field("s", typ)];
        let a: &[&[Option<&str>]] = &[&[None, None], &[Some("2"), Some("2")]];
        let b: &[&[Option<&str>]] = &[&[Some("2"), Some("2")], &[Some("5"), Some("5")]];
        let vc = FakeVCursor::new("ks", &["-80", "80-"])
            .result("ks", "-80", result(&f, a))
            .result("ks", "80-", result(&f, b));
        let agg = Aggregate {
            group_by: vec![],
            aggregates: vec![
                param(AggregateOpcode::CountDistinct, 0, "count(distinct x)"),
                param(AggregateOpcode::SumDistinct, 1, "sum(distinct x)"),
            ],
            hidden_columns: 0,
            input: scatter(&[0]),
        };
        agg.execute(&vc, &BindVars::default()).await
    };
    let out = run(Type::Int32).await.unwrap();
    assert_eq!(out.fields[1].r#type, Type::Decimal as i32);
    assert_eq!(texts(&out), vec![vec![s("2"), s("7")]]);
    let err = run(Type::Float32).await.unwrap_err().to_string();
    assert!(err.starts_with("VT12001"), "{err}");
}

#[tokio::test]
async fn group_concat_partials_join_with_the_separator() {
    // select g, group_concat(x separator '; ') ... group by g, sorted on g.
    let f = [field("g", Type::Varchar), field("gc", Type::Text)];
    let a: &[&[Option<&str>]] = &[
        &[Some("a"), Some("1; 2")],
        &[Some("b"), None],
        &[Some("c"), Some("")],
    ];
    let b: &[&[Option<&str>]] = &[
        &[Some("a"), Some("3")],
        &[Some("b"), Some("x")],
        &[Some("c"), Some("")],
        &[Some("d"), None],
    ];
    let mut vc = FakeVCursor::new("ks", &["-80", "80-"])
        .result("ks", "-80", result(&f, a))
        .result("ks", "80-", result(&f, b));
    let agg = Aggregate {
        group_by: vec![0],
        aggregates: vec![param(
            AggregateOpcode::GroupConcat {
                separator: b"; ".to_vec(),
                distinct: false,
            },
            1,
            "gc",
        )],
        hidden_columns: 0,
        input: scatter(&[0]),
    };
    let r = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(r.fields[1].r#type(), Type::Text);
    // NULL partials (no non-NULL value on that shard) add nothing; empty
    // strings are values, so two of them still get a separator.
    assert_eq!(
        texts(&r),
        vec![
            vec![s("a"), s("1; 2; 3")],
            vec![s("b"), s("x")],
            vec![s("c"), s("; ")],
            vec![s("d"), None],
        ]
    );
    // One byte short of "1; 2; 3": refused, where MySQL would cut the value.
    vc.group_concat_max_len = 6;
    let e = agg.execute(&vc, &BindVars::default()).await.unwrap_err();
    assert!(
        e.to_string().contains("group_concat_max_len (6 bytes)"),
        "{e}"
    );
    vc.group_concat_max_len = 7;
    assert!(agg.execute(&vc, &BindVars::default()).await.is_ok());
}

#[tokio::test]
async fn group_concat_of_raw_numbers_is_refused() {
    let f = [field("gc", Type::Int64)];
    let vc = FakeVCursor::new("ks", &["-80"]).result("ks", "-80", result(&f, &[&[Some("1")]]));
    let agg = Aggregate {
        group_by: vec![],
        aggregates: vec![param(
            AggregateOpcode::GroupConcat {
                separator: b",".to_vec(),
                distinct: false,
            },
            0,
            "gc",
        )],
        hidden_columns: 0,
        input: scatter(&[]),
    };
    let e = agg.execute(&vc, &BindVars::default()).await.unwrap_err();
    assert!(e.to_string().starts_with("VT12001"), "{e}");
}

#[tokio::test]
async fn any_value_comes_from_a_shard_that_counted_rows() {
    // select name, count(*) ... -> name, count(*), hidden count(*); the first
    // shard matched no rows and sends NULL for name.
    let f = [
        field("name", Type::Varchar),
        field("count(*)", Type::Int64),
        field("count(*)", Type::Int64),
    ];
    let agg = Aggregate {
        group_by: vec![],
        aggregates: vec![
            param(AggregateOpcode::AnyValue { count_col: 2 }, 0, "name"),
            param(AggregateOpcode::CountStar, 1, "count(*)"),
            param(AggregateOpcode::CountStar, 2, "count(*)"),
        ],
        hidden_columns: 1,
        input: scatter(&[]),
    };
    let run = |a: &[&[Option<&str>]], b: &[&[Option<&str>]]| {
        FakeVCursor::new("ks", &["-80", "80-"])
            .result("ks", "-80", result(&f, a))
            .result("ks", "80-", result(&f, b))
    };
    let vc = run(
        &[&[None, Some("0"), Some("0")]],
        &[&[Some("bob"), Some("2"), Some("2")]],
    );
    let r = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(texts(&r), vec![vec![s("bob"), s("2")]]);
    // A matched row whose value is NULL is taken as NULL.
    let vc = run(
        &[&[None, Some("1"), Some("1")]],
        &[&[Some("bob"), Some("2"), Some("2")]],
    );
    let r = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(texts(&r), vec![vec![None, s("3")]]);
    // No rows anywhere: NULL, 0.
    let vc = run(
        &[&[None, Some("0"), Some("0")]],
        &[&[None, Some("0"), Some("0")]],
    );
    let r = agg.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(texts(&r), vec![vec![None, s("0")]]);
}
