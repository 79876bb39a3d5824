//! Sequence tables on a real primary (shared MariaDB, 3306): `select next N values` is served
//! from a cached block, `next_id` moves by multiples of `cache`, values stay consecutive
//! across blocks, the block is dropped when the tablet stops being primary, concurrent
//! requests never overlap, and Vitess's errors. MariaDB's own sequences are left alone.

mod common;

use common::*;
use futures::StreamExt;
use proto::query::{BeginRequest, BindVariable, RollbackRequest, StreamExecuteRequest, Type};
use proto::topodata::TabletType;
use tonic::transport::Channel;

use proto::query::Target;
use proto::queryservice::query_client::QueryClient;

/// The `nextval` of a `select next` answer.
async fn next(client: &mut QueryClient<Channel>, target: &Target, sql: &str, tx: i64) -> i64 {
    let result = execute(client, target, sql, tx)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(result.fields.len(), 1, "{result:?}");
    assert_eq!(result.fields[0].name, "nextval");
    assert_eq!(result.fields[0].r#type(), Type::Int64);
    let rows = rows(&result);
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0][0]
        .as_deref()
        .expect("not null")
        .parse()
        .expect("an integer")
}

/// The sequence row's `next_id`, read from MariaDB.
async fn next_id(client: &mut QueryClient<Channel>, target: &Target, table: &str) -> i64 {
    let result = execute(
        client,
        target,
        &format!("select next_id from {table} where id = 0"),
        0,
    )
    .await
    .unwrap();
    rows(&result)[0][0].as_deref().unwrap().parse().unwrap()
}

async fn error(client: &mut QueryClient<Channel>, target: &Target, sql: &str) -> tonic::Status {
    match execute(client, target, sql, 0).await {
        Ok(r) => panic!("{sql} succeeded: {r:?}"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_are_served_from_cached_blocks() {
    let topo = topo().await;
    let keyspace = unique("sks");
    let db = unique("vt_seqtest");
    let tablet = start_shared_primary(&topo, 300, &keyspace, &db).await;
    let mut client = query_client(&tablet).await;
    let primary = target(&keyspace, TabletType::Primary);
    for sql in [
        "create table seq (id int, next_id bigint, cache bigint, primary key (id)) \
         comment 'vitess_sequence'",
        "insert into seq (id, next_id, cache) values (0, 1, 10)",
    ] {
        execute(&mut client, &primary, sql, 0).await.unwrap();
    }

    // The first request reserves one block of `cache` values.
    assert_eq!(
        next(&mut client, &primary, "select next value from seq", 0).await,
        1
    );
    assert_eq!(next_id(&mut client, &primary, "seq").await, 11);
    // Requests that fit are answered from memory: next_id stays.
    assert_eq!(
        next(&mut client, &primary, "select next 3 values from seq", 0).await,
        2
    );
    assert_eq!(
        next(&mut client, &primary, "select next 5 values from `seq`", 0).await,
        5
    );
    assert_eq!(next_id(&mut client, &primary, "seq").await, 11);
    // One that does not fit extends the block: the values stay consecutive (10, 11).
    assert_eq!(
        next(&mut client, &primary, "select next 2 values from seq", 0).await,
        10
    );
    assert_eq!(next_id(&mut client, &primary, "seq").await, 21);
    // More than a cache's worth moves next_id by as many blocks as needed.
    assert_eq!(
        next(&mut client, &primary, "select next 25 values from seq", 0).await,
        12
    );
    assert_eq!(next_id(&mut client, &primary, "seq").await, 41);

    // The count as a bind variable, as vtgate may send it.
    let n = BindVariable {
        r#type: Type::Int64 as i32,
        value: b"2".to_vec(),
        values: vec![],
    };
    let result = client
        .execute(request(
            &primary,
            "select next :n values from seq",
            &[("n", n)],
            0,
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(rows(&result), [[Some("37".to_string())]]);

    // StreamExecute answers the same way, in one message.
    let mut stream = client
        .stream_execute(StreamExecuteRequest {
            target: Some(primary.clone()),
            query: request(&primary, "select next value from seq", &[], 0).query,
            ..StreamExecuteRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap().result.unwrap();
    assert_eq!(first.fields[0].name, "nextval");
    assert_eq!(rows(&first), [[Some("39".to_string())]]);
    assert!(stream.next().await.is_none());

    // Inside a transaction the value is still taken outside it: a rollback gives nothing back.
    let tx = client
        .begin(BeginRequest {
            target: Some(primary.clone()),
            ..BeginRequest::default()
        })
        .await
        .unwrap()
        .into_inner()
        .transaction_id;
    assert_eq!(
        next(&mut client, &primary, "select next value from seq", tx).await,
        40
    );
    client
        .rollback(RollbackRequest {
            target: Some(primary.clone()),
            transaction_id: tx,
            ..RollbackRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(
        next(&mut client, &primary, "select next value from seq", 0).await,
        41
    );
    assert_eq!(next_id(&mut client, &primary, "seq").await, 51);

    // next_id moved underneath (another primary, or an operator): this primary keeps serving
    // the block it reserved while it stays primary...
    execute(
        &mut client,
        &primary,
        "update seq set next_id = 500 where id = 0",
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        next(&mut client, &primary, "select next value from seq", 0).await,
        42
    );
    // ...a replica refuses to serve...
    tablet
        .tablet
        .change_type(TabletType::Replica)
        .await
        .unwrap();
    let replica = target(&keyspace, TabletType::Replica);
    let err = error(&mut client, &replica, "select next value from seq").await;
    assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("primary only"), "{err:?}");
    // ...and once primary again, the old block is gone: next_id is read afresh.
    tablet
        .tablet
        .change_type(TabletType::Primary)
        .await
        .unwrap();
    assert_eq!(
        next(&mut client, &primary, "select next value from seq", 0).await,
        500
    );
    assert_eq!(next_id(&mut client, &primary, "seq").await, 510);

    // Concurrent requests are served one at a time per table: no two ranges overlap.
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let mut client = client.clone();
            let primary = primary.clone();
            tokio::spawn(async move {
                next(&mut client, &primary, "select next 3 values from seq", 0).await
            })
        })
        .collect();
    let mut firsts = Vec::new();
    for task in tasks {
        firsts.push(task.await.unwrap());
    }
    firsts.sort();
    assert_eq!(firsts.first(), Some(&501));
    for pair in firsts.windows(2) {
        assert_eq!(pair[1] - pair[0], 3, "{firsts:?}");
    }
    let end = firsts.last().unwrap() + 3;
    assert!(next_id(&mut client, &primary, "seq").await >= end);

    // Vitess's errors.
    let err = error(&mut client, &primary, "select next 0 values from seq").await;
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message()
            .starts_with("invalid increment for sequence seq: 0"),
        "{err:?}"
    );
    for sql in [
        "create table plain (id int, next_id bigint, cache bigint, primary key (id))",
        "insert into plain values (0, 1, 10)",
        "create table zero_cache (id int, next_id bigint, cache bigint, primary key (id)) \
         comment 'vitess_sequence'",
        "insert into zero_cache values (0, 1, 0)",
        "create table no_row (id int, next_id bigint, cache bigint, primary key (id)) \
         comment 'vitess_sequence'",
    ] {
        execute(&mut client, &primary, sql, 0).await.unwrap();
    }
    for (sql, want) in [
        ("select next value from plain", "plain is not a sequence"),
        (
            "select next value from zero_cache",
            "invalid cache value for sequence zero_cache: 0",
        ),
        (
            "select next value from no_row",
            "unexpected rows from reading sequence no_row (possible mis-route): 0",
        ),
        // MariaDB's own error, twice: the failed name leaves nothing behind.
        ("select next value from no_such_table", "Table '"),
        ("select next value from no_such_table", "Table '"),
    ] {
        let err = error(&mut client, &primary, sql).await;
        assert!(err.message().starts_with(want), "{sql}: {err:?}");
    }
    assert_eq!(next_id(&mut client, &primary, "zero_cache").await, 1);

    // MariaDB's own sequences are MariaDB's.
    execute(
        &mut client,
        &primary,
        "create sequence native start with 7",
        0,
    )
    .await
    .unwrap();
    let result = execute(&mut client, &primary, "select next value for native", 0)
        .await
        .unwrap();
    assert_eq!(rows(&result), [[Some("7".to_string())]]);

    drop(tablet);
    drop_shared_db(&db).await;
}
