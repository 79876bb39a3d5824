use proto::query::Type;

use super::*;
use crate::aggregate::AggregateOpcode;
use crate::testing::{field, result, rows_of, FakeVCursor};

/// Rows of (partition, order key, value); a route over one shard holding them.
fn input() -> (FakeVCursor, Box<dyn Primitive>) {
    let f = [
        field("p", Type::Int64),
        field("k", Type::Int64),
        field("v", Type::Int64),
    ];
    let rows: &[&[Option<&str>]] = &[
        &[Some("1"), Some("10"), Some("5")],
        &[Some("2"), Some("10"), Some("1")],
        &[Some("1"), Some("20"), None],
        &[Some("1"), Some("10"), Some("7")],
        &[Some("1"), None, Some("2")],
    ];
    let vc = FakeVCursor::new("ks", &["0"]).result("ks", "0", result(&f, rows));
    let route = crate::route::Route::new(
        crate::route::Opcode::Unsharded,
        crate::description::KeyspaceDesc {
            name: "ks".into(),
            sharded: false,
        },
        "select p, k, v from t".into(),
        String::new(),
    );
    (vc, Box::new(route))
}

fn param(function: WindowFunction, col: usize, order: bool) -> WindowParam {
    WindowParam {
        function,
        col,
        partition: vec![0],
        order: if order {
            vec![OrderByParam {
                col: 1,
                desc: false,
            }]
        } else {
            Vec::new()
        },
        alias: "w".into(),
    }
}

async fn column(w: WindowParam) -> Vec<Option<String>> {
    let (vc, input) = input();
    let col = w.col;
    let window = Window {
        windows: vec![w],
        hidden_columns: 0,
        input,
    };
    let r = window.execute(&vc, &BindVars::default()).await.unwrap();
    rows_of(&r)
        .into_iter()
        .map(|row| row[col].clone())
        .collect()
}

fn text(v: &[Option<&str>]) -> Vec<Option<String>> {
    v.iter().map(|c| c.map(str::to_string)).collect()
}

#[tokio::test]
async fn ranks_count_peers_and_nulls_sort_first() {
    // Partition 1 in order: k NULL, 10, 10, 20.
    let rank = column(param(WindowFunction::Rank, 2, true)).await;
    assert_eq!(
        rank,
        text(&[Some("2"), Some("1"), Some("4"), Some("2"), Some("1")])
    );
    let dense = column(param(WindowFunction::DenseRank, 2, true)).await;
    assert_eq!(
        dense,
        text(&[Some("2"), Some("1"), Some("3"), Some("2"), Some("1")])
    );
}

#[tokio::test]
async fn running_aggregates_include_peers() {
    let sum = AggregateParam {
        opcode: AggregateOpcode::Sum,
        col: 2,
        alias: "s".into(),
    };
    let running = column(param(WindowFunction::Aggregate(sum.clone()), 2, true)).await;
    // NULL row first (2), then both k = 10 rows together (2 + 5 + 7), then k = 20 (NULL v).
    assert_eq!(
        running,
        text(&[Some("14"), Some("1"), Some("14"), Some("14"), Some("2")])
    );
    let whole = column(param(WindowFunction::Aggregate(sum), 2, false)).await;
    assert_eq!(
        whole,
        text(&[Some("14"), Some("1"), Some("14"), Some("14"), Some("14")])
    );
}

#[tokio::test]
async fn lag_and_lead_stop_at_the_partition_ends() {
    let lag = column(param(WindowFunction::Lag { offset: 1 }, 2, true)).await;
    // Partition 1 sorted (stably): row 4 (k NULL), row 0, row 3, row 2.
    assert_eq!(lag, text(&[Some("2"), None, Some("7"), Some("5"), None]));
    let lead = column(param(WindowFunction::Lag { offset: -2 }, 2, true)).await;
    assert_eq!(lead, text(&[None, None, None, None, Some("7")]));
}
