//! The query service against the shared MariaDB (3306), through the generated
//! tonic client: Execute, errors, transactions, StreamExecute, StreamHealth,
//! the Tablet record in etcd, denied tables from the Shard record, and a
//! replica refusing writes.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use proto::query::{
    BeginExecuteRequest, BeginRequest, BindVariable, CommitRequest, RollbackRequest,
    StreamExecuteRequest, StreamHealthRequest, Type,
};
use proto::sqltypes::flag;
use proto::topodata::{shard::TabletControl, Tablet, TabletType};

fn bind(typ: Type, value: &str) -> BindVariable {
    BindVariable {
        r#type: typ as i32,
        value: value.as_bytes().to_vec(),
        values: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_transactions_and_streaming_on_a_primary() {
    let topo = topo().await;
    let keyspace = unique("qks");
    let db = unique("vt_qtest");
    let tablet = start_shared_primary(&topo, 100, &keyspace, &db).await;
    let mut client = query_client(&tablet).await;
    let primary = target(&keyspace, TabletType::Primary);

    // DDL and DML with bind variables.
    execute(
        &mut client,
        &primary,
        "create table t (id int unsigned not null auto_increment primary key, \
         name varchar(20), raw varbinary(8), price decimal(10,2), at datetime, n bigint)",
        0,
    )
    .await
    .unwrap();
    let insert = client
        .execute(request(
            &primary,
            "insert into t (name, raw, price, at, n) values (:vtg1, :vtg2, :vtg3, '2024-01-02 03:04:05', null)",
            &[
                ("vtg1", bind(Type::Varchar, "o'brien")),
                ("vtg2", bind(Type::Varbinary, "ab")),
                ("vtg3", bind(Type::Decimal, "12.50")),
            ],
            0,
        ))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(insert.rows_affected, 1);
    assert_eq!(insert.insert_id, 1);

    let result = execute(
        &mut client,
        &primary,
        "select id, name, raw, price, at, n from t",
        0,
    )
    .await
    .unwrap();
    let types: Vec<Type> = result.fields.iter().map(|f| f.r#type()).collect();
    assert_eq!(
        types,
        [
            Type::Uint32,
            Type::Varchar,
            Type::Varbinary,
            Type::Decimal,
            Type::Datetime,
            Type::Int64
        ]
    );
    let id = &result.fields[0];
    assert_eq!((id.name.as_str(), id.org_name.as_str()), ("id", "id"));
    assert_eq!((id.table.as_str(), id.org_table.as_str()), ("t", "t"));
    assert_eq!(id.database, db);
    assert_eq!(id.charset, 63);
    assert!(id.flags & flag::NOT_NULL != 0 && id.flags & flag::PRI_KEY != 0);
    assert!(id.flags & flag::UNSIGNED != 0 && id.flags & flag::AUTO_INCREMENT != 0);
    assert_eq!(result.fields[3].decimals, 2);
    assert_eq!(
        rows(&result),
        [[
            Some("1".to_string()),
            Some("o'brien".to_string()),
            Some("ab".to_string()),
            Some("12.50".to_string()),
            Some("2024-01-02 03:04:05".to_string()),
            None
        ]]
    );
    assert_eq!(result.rows[0].lengths[5], -1, "NULL has length -1");

    // MySQL errors keep errno and sqlstate; the caller is quoted.
    let err = execute(&mut client, &primary, "select * from no_such_table", 0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message()
            .contains("doesn't exist (errno 1146) (sqlstate 42S02) (CallerID: userData1)"),
        "{}",
        err.message()
    );
    let err = execute(&mut client, &primary, "insert into t (id) values (1)", 0)
        .await
        .unwrap_err();
    assert!(
        err.message().contains("(errno 1062) (sqlstate 23000)"),
        "{}",
        err.message()
    );
    // Target checks.
    let err = execute(
        &mut client,
        &target(&keyspace, TabletType::Replica),
        "select 1",
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert!(
        err.message()
            .starts_with("wrong tablet type: REPLICA, want: PRIMARY"),
        "{}",
        err.message()
    );
    let err = execute(
        &mut client,
        &target("other", TabletType::Primary),
        "select 1",
        0,
    )
    .await
    .unwrap_err();
    assert!(err.message().starts_with(&format!(
        "invalid keyspace other does not match expected {keyspace}"
    )));

    // Transactions: rollback leaves nothing, commit keeps the row.
    let begin = client
        .begin(BeginRequest {
            target: Some(primary.clone()),
            ..BeginRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(begin.tablet_alias.unwrap().uid, 100);
    let tx = begin.transaction_id;
    execute(
        &mut client,
        &primary,
        "insert into t (name) values ('rolled back')",
        tx,
    )
    .await
    .unwrap();
    let inside = execute(&mut client, &primary, "select count(*) from t", tx)
        .await
        .unwrap();
    assert_eq!(rows(&inside)[0][0].as_deref(), Some("2"));
    client
        .rollback(RollbackRequest {
            target: Some(primary.clone()),
            transaction_id: tx,
            ..RollbackRequest::default()
        })
        .await
        .unwrap();
    let after = execute(&mut client, &primary, "select count(*) from t", 0)
        .await
        .unwrap();
    assert_eq!(rows(&after)[0][0].as_deref(), Some("1"));
    let err = execute(&mut client, &primary, "select 1", tx)
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Aborted);
    assert!(err
        .message()
        .starts_with(&format!("transaction {tx}: not found")));

    let begun = client
        .begin_execute(BeginExecuteRequest {
            target: Some(primary.clone()),
            query: request(&primary, "insert into t (name) values ('kept')", &[], 0).query,
            ..BeginExecuteRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(begun.error.is_none());
    assert_eq!(begun.result.unwrap().rows_affected, 1);
    client
        .commit(CommitRequest {
            target: Some(primary.clone()),
            transaction_id: begun.transaction_id,
            ..CommitRequest::default()
        })
        .await
        .unwrap();
    let after = execute(
        &mut client,
        &primary,
        "select name from t where name = 'kept'",
        0,
    )
    .await
    .unwrap();
    assert_eq!(after.rows.len(), 1);
    assert!(tablet.tablet.txs.is_empty());

    // BeginExecute's pre-queries (vtgate's savepoints) run in the transaction before the
    // query: rolling back to the savepoint undoes the query.
    let begun = client
        .begin_execute(BeginExecuteRequest {
            target: Some(primary.clone()),
            pre_queries: vec!["savepoint a".into(), "savepoint `b`".into()],
            query: request(&primary, "insert into t (name) values ('undone')", &[], 0).query,
            ..BeginExecuteRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(begun.error.is_none(), "{:?}", begun.error);
    execute(&mut client, &primary, "rollback to b", begun.transaction_id)
        .await
        .unwrap();
    let inside = execute(
        &mut client,
        &primary,
        "select count(*) from t where name = 'undone'",
        begun.transaction_id,
    )
    .await
    .unwrap();
    assert_eq!(rows(&inside)[0][0].as_deref(), Some("0"));
    client
        .commit(CommitRequest {
            target: Some(primary.clone()),
            transaction_id: begun.transaction_id,
            ..CommitRequest::default()
        })
        .await
        .unwrap();
    // A failing pre-query fails the begin and leaves no transaction open.
    let err = client
        .begin_execute(BeginExecuteRequest {
            target: Some(primary.clone()),
            pre_queries: vec!["rollback to never_taken".into()],
            query: request(&primary, "insert into t (name) values ('never')", &[], 0).query,
            ..BeginExecuteRequest::default()
        })
        .await
        .unwrap_err();
    assert!(err.message().contains("errno 1305"), "{}", err.message());
    assert!(tablet.tablet.txs.is_empty());

    // StreamExecute: fields first, then rows in several chunks.
    execute(
        &mut client,
        &primary,
        "create table big (id int primary key, pad varchar(200))",
        0,
    )
    .await
    .unwrap();
    execute(
        &mut client,
        &primary,
        "insert into big select seq, repeat('x', 200) from seq_1_to_2000",
        0,
    )
    .await
    .unwrap();
    let mut stream = client
        .stream_execute(StreamExecuteRequest {
            target: Some(primary.clone()),
            query: request(&primary, "select id, pad from big order by id", &[], 0).query,
            ..StreamExecuteRequest::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap().result.unwrap();
    assert_eq!(first.fields.len(), 2);
    assert!(first.rows.is_empty());
    let mut chunks = 0;
    let mut total = 0;
    while let Some(piece) = stream.next().await {
        let piece = piece.unwrap().result.unwrap();
        assert!(piece.fields.is_empty());
        chunks += 1;
        total += piece.rows.len();
    }
    assert_eq!(total, 2000);
    assert!(chunks > 1, "rows arrive in several chunks, got {chunks}");

    tablet.shutdown().await;
    drop_shared_db(&db).await;
}

/// MariaDB reports every utf8mb4 text column as `utf8mb4_general_ci` (45); the tablet gives
/// a table column its own collation, as MySQL 8 reports it, so that vtgate merges rows from
/// several shards in the column's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_fields_carry_their_column_collation() {
    let topo = topo().await;
    let keyspace = unique("cks");
    let db = unique("vt_coll");
    let tablet = start_shared_primary(&topo, 110, &keyspace, &db).await;
    let mut client = query_client(&tablet).await;
    let primary = target(&keyspace, TabletType::Primary);
    execute(
        &mut client,
        &primary,
        "create table c (id int primary key, g varchar(9) collate utf8mb4_general_ci, \
         b varchar(9) collate utf8mb4_bin, u varchar(9) collate utf8mb4_unicode_ci, \
         np char(9) collate utf8mb4_general_nopad_ci, `MixedCase` text collate utf8mb4_bin, \
         l varchar(9) character set latin1 collate latin1_bin, raw varbinary(9))",
        0,
    )
    .await
    .unwrap();
    execute(
        &mut client,
        &primary,
        "insert into c values (1, 'a', 'a', 'a', 'a', 'a', 'a', 'a')",
        0,
    )
    .await
    .unwrap();
    let sql = "select g, b, u, np, mixedcase, l, raw, g collate utf8mb4_bin as e, id from c";
    let unary = execute(&mut client, &primary, sql, 0).await.unwrap();
    let stream_req = StreamExecuteRequest {
        target: Some(primary.clone()),
        query: request(&primary, sql, &[], 0).query,
        ..StreamExecuteRequest::default()
    };
    let mut stream = client
        .stream_execute(stream_req)
        .await
        .unwrap()
        .into_inner();
    let streamed = stream.next().await.unwrap().unwrap().result.unwrap();
    for fields in [&unary.fields, &streamed.fields] {
        let ids: Vec<u32> = fields.iter().map(|f| f.charset).collect();
        // latin1_bin is converted to utf8mb4 on the wire: it keeps the reported id (its
        // BINARY flag tells the order). The expression's collation cannot be told in a
        // database with unicode_ci and nopad columns: 0.
        assert_eq!(ids, [45, 46, 224, 1069, 46, 45, 63, 0, 63], "{fields:?}");
        assert!(fields[5].flags & flag::BINARY != 0 && fields[7].flags & flag::BINARY != 0);
    }
    // A derived table's column: MariaDB names the derived table and the alias.
    let derived = "select x, y from (select u as x, g as y from c) t";
    let result = execute(&mut client, &primary, derived, 0).await.unwrap();
    let ids: Vec<u32> = result.fields.iter().map(|f| f.charset).collect();
    assert_eq!(ids, [0, 0], "{:?}", result.fields);
    // Without them, MariaDB's id for an expression is right, and kept.
    execute(
        &mut client,
        &primary,
        "alter table c drop column u, drop column np",
        0,
    )
    .await
    .unwrap();
    let sql = "select g, min(b), g collate utf8mb4_bin as e, concat(g, 'x'), x \
               from c join (select id, g as x from c) t using (id) group by g";
    let result = execute(&mut client, &primary, sql, 0).await.unwrap();
    let ids: Vec<u32> = result.fields.iter().map(|f| f.charset).collect();
    assert_eq!(ids, [45, 45, 45, 45, 45], "{:?}", result.fields);
    tablet.shutdown().await;
    drop_shared_db(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topo_record_health_denied_tables_and_replica_rules() {
    let topo = topo().await;
    let keyspace = unique("hks");
    let db = unique("vt_htest");
    let primary_tablet = start(
        &topo.server,
        flags(
            &topo.etcd.address(),
            200,
            &keyspace,
            "primary",
            SHARED_MYSQL_PORT,
            Some(&db),
        ),
    )
    .await;
    let replica_tablet = start(
        &topo.server,
        flags(
            &topo.etcd.address(),
            201,
            &keyspace,
            "replica",
            SHARED_MYSQL_PORT,
            Some(&db),
        ),
    )
    .await;

    // The Tablet record, read with a plain etcd client at Vitess's key.
    let mut etcd = etcd_client::Client::connect([topo.etcd.address()], None)
        .await
        .unwrap();
    let got = etcd
        .get("/vitess/zone1/tablets/zone1-0000000200/Tablet", None)
        .await
        .unwrap();
    let record = <Tablet as prost::Message>::decode(got.kvs()[0].value()).unwrap();
    assert_eq!(
        record.alias.as_ref().unwrap().to_string(),
        "zone1-0000000200"
    );
    assert_eq!(record.hostname, "127.0.0.1");
    assert_eq!(record.keyspace, keyspace);
    assert_eq!(record.shard, "0");
    assert_eq!(record.r#type(), TabletType::Primary);
    assert_eq!(record.db_name_override, db);
    assert_eq!(record.mysql_port, 3306);
    assert_eq!(
        record.port_map["grpc"],
        i32::from(primary_tablet.grpc_addr.port())
    );
    assert_eq!(
        record.port_map["vt"],
        i32::from(primary_tablet.http_addr.port())
    );
    assert!(record.primary_term_start_time.is_some());
    // The cell, Keyspace and Shard records were created; the shard lists both tablets.
    let cell = topo.server.get_cell_info("zone1").await.unwrap();
    assert_eq!(cell.root, "/vitess/zone1");
    let in_shard = topo
        .server
        .get_tablets_by_shard(&keyspace, "0")
        .await
        .unwrap();
    assert_eq!(in_shard.len(), 2);
    let shard = topo.server.get_shard(&keyspace, "0").await.unwrap();
    assert!(shard.is_primary_serving);
    topo.server.get_keyspace(&keyspace).await.unwrap();

    // StreamHealth: at once, then periodically.
    let mut client = query_client(&primary_tablet).await;
    let mut health = client
        .stream_health(StreamHealthRequest {})
        .await
        .unwrap()
        .into_inner();
    let first = health.next().await.unwrap().unwrap();
    assert!(first.serving);
    assert_eq!(first.target.as_ref().unwrap().keyspace, keyspace);
    assert_eq!(
        first.target.as_ref().unwrap().tablet_type(),
        TabletType::Primary
    );
    assert_eq!(first.tablet_alias.as_ref().unwrap().uid, 200);
    assert!(first.primary_term_start_timestamp > 0);
    assert_eq!(first.realtime_stats.as_ref().unwrap().health_error, "");
    let second = tokio::time::timeout(Duration::from_secs(5), health.next()).await;
    assert!(second.unwrap().unwrap().is_ok(), "periodic health message");
    // A state change is sent immediately.
    primary_tablet
        .tablet
        .state
        .update(|s| s.health_error = "test problem".into());
    let changed = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let msg = health.next().await.unwrap().unwrap();
            if msg.realtime_stats.unwrap().health_error == "test problem" {
                break;
            }
        }
    })
    .await;
    assert!(changed.is_ok(), "health change arrives");
    primary_tablet
        .tablet
        .state
        .update(|s| s.health_error.clear());

    // Denied tables from the Shard record, picked up by the watch.
    let primary = target(&keyspace, TabletType::Primary);
    execute(
        &mut client,
        &primary,
        "create table customer (id int primary key)",
        0,
    )
    .await
    .unwrap();
    execute(
        &mut client,
        &primary,
        "create table product (id int primary key)",
        0,
    )
    .await
    .unwrap();
    topo.server
        .update_shard_fields(&keyspace, "0", |shard| {
            shard.tablet_controls.push(TabletControl {
                tablet_type: TabletType::Primary as i32,
                denied_tables: vec!["customer".into()],
                ..TabletControl::default()
            });
            Ok(())
        })
        .await
        .unwrap();
    let denied = eventually(Duration::from_secs(10), || {
        let mut client = client.clone();
        let primary = primary.clone();
        async move {
            execute(&mut client, &primary, "select * from customer", 0)
                .await
                .is_err()
        }
    })
    .await;
    assert!(denied, "denied tables applied from topo");
    let err = execute(
        &mut client,
        &primary,
        "select id from customer where id = 1",
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert_eq!(
        err.message(),
        "disallowed due to rule: enforce denied tables (CallerID: userData1)"
    );
    execute(&mut client, &primary, "select * from product", 0)
        .await
        .unwrap();
    topo.server
        .update_shard_fields(&keyspace, "0", |shard| {
            shard.tablet_controls.clear();
            Ok(())
        })
        .await
        .unwrap();
    let allowed = eventually(Duration::from_secs(10), || {
        let mut client = client.clone();
        let primary = primary.clone();
        async move {
            execute(&mut client, &primary, "select * from customer", 0)
                .await
                .is_ok()
        }
    })
    .await;
    assert!(allowed, "denied tables removed");

    // The replica reads but refuses writes.
    let mut replica_client = query_client(&replica_tablet).await;
    let replica = target(&keyspace, TabletType::Replica);
    execute(&mut replica_client, &replica, "select * from product", 0)
        .await
        .unwrap();
    let err = execute(
        &mut replica_client,
        &replica,
        "insert into product values (1)",
        0,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert!(
        err.message()
            .starts_with("VT09002: insert statement with a replica target (errno 1874)"),
        "{}",
        err.message()
    );
    assert!(
        execute(&mut replica_client, &replica, "drop table product", 0)
            .await
            .is_err()
    );
    // vtgate's session settings prefix does not hide a write.
    let err = execute(
        &mut replica_client,
        &replica,
        "SET STATEMENT sql_mode='' FOR delete from product",
        0,
    )
    .await
    .unwrap_err();
    assert!(
        err.message().starts_with("VT09002: delete statement"),
        "{}",
        err.message()
    );
    let mode = execute(
        &mut replica_client,
        &replica,
        "SET STATEMENT sql_mode='ANSI_QUOTES' FOR select @@sql_mode",
        0,
    )
    .await
    .unwrap();
    assert_eq!(rows(&mode)[0][0].as_deref(), Some("ANSI_QUOTES"));
    // Statements of no read or write kind are refused too (harmless ones here: the
    // shared server must survive a regression).
    for sql in ["do 1", "call no_such_procedure()"] {
        let err = execute(&mut replica_client, &replica, sql, 0)
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::FailedPrecondition, "{sql}");
        assert!(
            err.message().contains("with a replica target"),
            "{}",
            err.message()
        );
    }

    replica_tablet.shutdown().await;
    primary_tablet.shutdown().await;
    drop_shared_db(&db).await;
}
