//! Executor tests for what vtgate answers without a tablet: USE forms, SHOW, SET, local
//! selects and transaction bookkeeping, over a sample topology and an empty health check.

use std::time::Duration;

use proto::query::QueryResult;
use proto::topodata::TabletType;

use super::local::ServerInfo;
use super::{Executor, Reply};
use crate::error::VtError;
use crate::gateway::{Caller, Gateway};
use crate::healthcheck::HealthCheck;
use crate::session::Session;
use crate::topology::tests::sample;
use crate::topology::TopologyHandle;

fn executor() -> Executor {
    Executor::new(
        TopologyHandle::new(sample()),
        Gateway::new(HealthCheck::new(Duration::from_secs(60)), 0),
        ServerInfo {
            version: "8.0.40-Vitess".into(),
            version_comment: "test".into(),
        },
    )
}

async fn run(e: &Executor, s: &mut Session, sql: &str) -> Result<QueryResult, VtError> {
    match e.execute(s, &Caller::default(), sql).await? {
        Reply::Result(r) => Ok(r),
        Reply::Stream(_) => panic!("{sql} streamed"),
    }
}

fn column(r: &QueryResult) -> Vec<String> {
    r.rows
        .iter()
        .map(|row| {
            let v = row.split_values().unwrap();
            String::from_utf8(v[0].unwrap_or_default().to_vec()).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn use_forms_and_target() {
    let e = executor();
    let mut s = Session::new(TabletType::Primary);
    for (sql, target, tablet_type) in [
        ("use commerce", "commerce", TabletType::Primary),
        ("use `commerce/0`", "commerce/0", TabletType::Primary),
        ("use `commerce:0`", "commerce:0", TabletType::Primary),
        (
            "use commerce@replica",
            "commerce@replica",
            TabletType::Replica,
        ),
        (
            "USE `commerce@RDONLY`",
            "commerce@RDONLY",
            TabletType::Rdonly,
        ),
        (
            "use information_schema",
            "information_schema",
            TabletType::Primary,
        ),
    ] {
        run(&e, &mut s, sql).await.unwrap();
        assert_eq!(s.target_string(), target);
        assert_eq!(s.tablet_type(), tablet_type);
        let r = run(&e, &mut s, "show vitess_target").await.unwrap();
        assert_eq!(r.fields[0].name, "Target");
        assert_eq!(column(&r), [target]);
    }
    let err = run(&e, &mut s, "use nope").await.unwrap_err();
    assert_eq!((err.errno(), err.sqlstate()), (1049, "42000"));
    assert_eq!(s.target_string(), "information_schema");
    e.use_target(&mut s, "customer").unwrap();
    assert_eq!(s.keyspace(), Some("customer"));
}

#[tokio::test]
async fn shows_answered_by_vtgate() {
    let e = executor();
    let mut s = Session::new(TabletType::Primary);
    let r = run(&e, &mut s, "show databases").await.unwrap();
    assert_eq!(r.fields[0].name, "Database");
    assert_eq!(
        column(&r),
        [
            "commerce",
            "customer",
            "other",
            "information_schema",
            "mysql",
            "sys",
            "performance_schema"
        ]
    );
    let r = run(&e, &mut s, "show databases like 'c%'").await.unwrap();
    assert_eq!(column(&r), ["commerce", "customer"]);
    let r = run(&e, &mut s, "show vitess_shards").await.unwrap();
    assert_eq!(column(&r), ["commerce/0", "customer/0", "other/0"]);
    let err = run(&e, &mut s, "show vschema tables").await.unwrap_err();
    assert_eq!(err, VtError::NoDatabaseSelected);
    let err = run(&e, &mut s, "show tables").await.unwrap_err();
    assert_eq!(err, VtError::NoDatabaseSelected);
    run(&e, &mut s, "use commerce").await.unwrap();
    let r = run(&e, &mut s, "show vschema tables").await.unwrap();
    assert_eq!(column(&r), ["corder", "customer", "dual", "product"]);
    let r = run(&e, &mut s, "show vitess_tablets").await.unwrap();
    assert_eq!(r.fields.len(), 8);
    assert!(r.rows.is_empty());
    let err = run(&e, &mut s, "show tables from nope").await.unwrap_err();
    assert_eq!(err, VtError::UnknownDatabase("nope".into()));
}

#[tokio::test]
async fn set_statements_update_the_session() {
    let e = executor();
    let mut s = Session::new(TabletType::Primary);
    run(&e, &mut s, "SET NAMES utf8mb4").await.unwrap();
    run(&e, &mut s, "set autocommit = 0").await.unwrap();
    assert!(!s.autocommit);
    assert!(!s.status().autocommit);
    run(&e, &mut s, "set @x = 5, @s = 'a'").await.unwrap();
    assert_eq!(s.user_vars.get("x").map(String::as_str), Some("5"));
    run(&e, &mut s, "set transaction isolation level read committed")
        .await
        .unwrap();
    assert!(s.next_isolation.is_some());
    let r = run(&e, &mut s, "select @@autocommit").await.unwrap();
    assert_eq!(column(&r), ["0"]);
    // A system setting needs a tablet to validate it: with none, a clear error.
    let err = run(&e, &mut s, "set time_zone = '+00:00'")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no healthy tablet available"),
        "{err}"
    );
    assert!(s.settings.is_empty());
    let err = run(&e, &mut s, "set @@version = 'x'").await.unwrap_err();
    assert_eq!(err.errno(), 1238);
}

#[tokio::test]
async fn local_selects_and_empty_transactions() {
    let e = executor();
    let mut s = Session::new(TabletType::Primary);
    run(&e, &mut s, "use commerce@replica").await.unwrap();
    let r = run(&e, &mut s, "select @@version, database()")
        .await
        .unwrap();
    let values = r.rows[0].split_values().unwrap();
    assert_eq!(
        values,
        [Some(&b"8.0.40-Vitess"[..]), Some(&b"commerce@replica"[..])]
    );
    run(&e, &mut s, "begin").await.unwrap();
    assert!(s.status().in_transaction);
    // The tablet type cannot change inside a transaction.
    let err = run(&e, &mut s, "use commerce@primary").await.unwrap_err();
    assert_eq!(err, VtError::ActiveTransaction);
    run(&e, &mut s, "commit").await.unwrap();
    assert!(!s.status().in_transaction);
    let err = run(&e, &mut s, "insert into customer(email) values('x')")
        .await
        .unwrap_err();
    assert_eq!(err, VtError::ReplicaWrite("insert"));
    let err = run(&e, &mut s, "   ").await.unwrap_err();
    assert_eq!(err.errno(), 1065);
    // Ignored, as Vitess ignores them (dump tools send them).
    run(&e, &mut s, "lock tables t read /*!32311 LOCAL */")
        .await
        .unwrap();
    run(&e, &mut s, "unlock tables").await.unwrap();
    // A statement that is one executable comment is its body, or empty when too new.
    run(&e, &mut s, "/*!40101 SET autocommit = 0 */")
        .await
        .unwrap();
    assert!(!s.autocommit);
    run(&e, &mut s, "set autocommit = 1").await.unwrap();
    let err = run(&e, &mut s, "/*!90000 set time_zone = '+01:00' */")
        .await
        .unwrap_err();
    assert_eq!(err.errno(), 1065);
    // Keyspaces are made with vtctl: only the database DDL that changes nothing succeeds.
    run(
        &e,
        &mut s,
        "create database /*!32312 if not exists*/ `commerce`",
    )
    .await
    .unwrap();
    run(&e, &mut s, "drop database if exists nothere")
        .await
        .unwrap();
    let err = run(&e, &mut s, "create database commerce")
        .await
        .unwrap_err();
    assert_eq!(
        (err.errno(), err.to_string().as_str()),
        (
            1007,
            "VT06001: cannot create database 'commerce'; database exists"
        )
    );
    let err = run(&e, &mut s, "drop database nothere").await.unwrap_err();
    assert_eq!(err.errno(), 1008);
    let err = run(&e, &mut s, "create database nothere")
        .await
        .unwrap_err();
    assert_eq!(err.errno(), 1235);
}
