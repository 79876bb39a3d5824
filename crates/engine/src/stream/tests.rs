use futures::stream::{self, StreamExt};
use proto::query::{QueryResult, Type};

use super::*;
use crate::testing::{field, result, rows_of};

fn fields() -> Vec<proto::query::Field> {
    vec![field("id", Type::Int64), field("name", Type::Varchar)]
}

/// A shard's stream: the fields with the first chunk, then the other chunks of rows.
fn shard(chunks: &[&[(i64, &str)]]) -> RowStream {
    let items: Vec<Result<QueryResult>> = chunks
        .iter()
        .enumerate()
        .map(|(n, chunk)| {
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.to_string()).collect();
            let rows: Vec<[Option<&str>; 2]> = chunk
                .iter()
                .zip(&ids)
                .map(|((_, name), id)| [Some(id.as_str()), Some(*name)])
                .collect();
            let rows: Vec<&[Option<&str>]> = rows.iter().map(|r| &r[..]).collect();
            let mut r = result(&fields(), &rows);
            if n > 0 {
                r.fields.clear();
            }
            Ok(r)
        })
        .collect();
    Box::pin(stream::iter(items))
}

/// A stream that fails after its items: reading past them is an error.
fn then_fail(input: RowStream) -> RowStream {
    Box::pin(input.chain(stream::once(async {
        Err(EngineError::BadResult("read past the end".into()))
    })))
}

fn ids(r: &QueryResult) -> Vec<i64> {
    rows_of(r)
        .iter()
        .map(|row| row[0].as_deref().unwrap().parse().unwrap())
        .collect()
}

fn by_id(_: usize) -> Vec<OrderByParam> {
    vec![OrderByParam {
        col: 0,
        desc: false,
    }]
}

#[tokio::test]
async fn concat_sends_the_fields_once_and_every_row() {
    let s = concat(
        vec![
            shard(&[&[(1, "a"), (3, "c")], &[(5, "e")]]),
            shard(&[&[(2, "b")]]),
            shard(&[&[]]),
        ],
        0,
    );
    let items: Vec<QueryResult> = s.map(|i| i.unwrap()).collect().await;
    assert_eq!(items.iter().filter(|i| !i.fields.is_empty()).count(), 1);
    assert!(!items[0].fields.is_empty());
    let mut all: Vec<i64> = items.iter().flat_map(ids).collect();
    all.sort();
    assert_eq!(all, [1, 2, 3, 5]);
}

#[tokio::test]
async fn concat_drops_hidden_columns() {
    let r = collect(concat(vec![shard(&[&[(1, "a")]])], 1))
        .await
        .unwrap();
    assert_eq!(r.fields.len(), 1);
    assert_eq!(rows_of(&r), [[Some("1".to_string())]]);
}

#[tokio::test]
async fn merge_orders_rows_across_chunks_and_shards() {
    let s = merge(
        vec![
            shard(&[&[(1, "a"), (4, "d")], &[(9, "i")], &[]]),
            shard(&[&[]]),
            shard(&[&[(2, "b")], &[(4, "x"), (10, "j")]]),
            shard(&[&[(3, "c")]]),
        ],
        by_id,
        0,
    );
    let r = collect(s).await.unwrap();
    assert_eq!(ids(&r), [1, 2, 3, 4, 4, 9, 10]);
    // Ties keep shard order.
    assert_eq!(rows_of(&r)[3][1].as_deref(), Some("d"));
    assert_eq!(r.fields.len(), 2);
}

#[tokio::test]
async fn merge_sends_batches_and_descending_order() {
    let odd: Vec<(i64, &str)> = (0..600).map(|i| (2 * i + 1, "o")).collect();
    let even: Vec<(i64, &str)> = (0..600)
        .map(|i| 2 * i)
        .collect::<Vec<_>>()
        .into_iter()
        .map(|i| (i, "e"))
        .collect();
    let desc = |_: usize| vec![OrderByParam { col: 0, desc: true }];
    let rev = |v: &[(i64, &'static str)]| v.iter().rev().copied().collect::<Vec<_>>();
    let (odd_rev, even_rev) = (rev(&odd), rev(&even));
    let items: Vec<QueryResult> = merge(vec![shard(&[&odd_rev]), shard(&[&even_rev])], desc, 1)
        .map(|i| i.unwrap())
        .collect()
        .await;
    assert!(items.iter().all(|i| i.rows.len() <= MERGE_BATCH));
    assert!(items.len() >= 1200 / MERGE_BATCH);
    let all: Vec<i64> = items.iter().flat_map(ids).collect();
    assert_eq!(all, (0..1200).rev().collect::<Vec<i64>>());
    assert_eq!(items[0].fields.len(), 1, "the hidden column is dropped");
}

#[tokio::test]
async fn merge_reports_a_shard_error() {
    let s = merge(
        vec![shard(&[&[(1, "a")]]), then_fail(shard(&[&[(2, "b")]]))],
        by_id,
        0,
    );
    let e = collect(s).await.unwrap_err();
    assert!(e.to_string().contains("read past the end"), "{e}");
}

#[tokio::test]
async fn limit_skips_and_stops_without_reading_further() {
    let input = then_fail(shard(&[
        &[(1, "a"), (2, "b")],
        &[(3, "c"), (4, "d")],
        &[(5, "e")],
    ]));
    let r = collect(limit(input, 1, 2)).await.unwrap();
    assert_eq!(ids(&r), [2, 3]);
    assert_eq!(r.fields.len(), 2);
    let input = then_fail(shard(&[&[(1, "a")], &[(2, "b")], &[(3, "c")]]));
    let r = collect(limit(input, 2, 5)).await;
    assert!(r.is_err(), "a short input is read to its end");
    let input = then_fail(shard(&[&[(1, "a")], &[(2, "b")]]));
    let r = collect(limit(input, 0, 0)).await.unwrap();
    assert_eq!((r.fields.len(), r.rows.len()), (2, 0));
}

#[tokio::test]
async fn map_fields_changes_the_first_fields_only() {
    let s = map_fields(shard(&[&[(1, "a")], &[(2, "b")]]), |f| {
        f[0].name = "x".into()
    });
    let r = collect(s).await.unwrap();
    assert_eq!(r.fields[0].name, "x");
    assert_eq!(ids(&r), [1, 2]);
}
