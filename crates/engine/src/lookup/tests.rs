//! Lookup vindexes through the fake vcursor: routing by a lookup column,
//! lookup rows written by INSERT, UPDATE and DELETE of the owner table, and
//! their commit orders.

use proto::query::Type;
use sql::literal::BindVars;

use crate::error::EngineError;
use crate::planner::plan;
use crate::testing::{field, result, rows_of, FakeVCursor, Responder};
use crate::vcursor::CommitOrder;

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {
        "hash": {"type": "hash"},
        "md5": {"type": "unicode_loose_md5"},
        "email_idx": {"type": "consistent_lookup_unique", "owner": "user",
          "params": {"table": "lookup.email_idx", "from": "email", "to": "keyspace_id"}},
        "name_idx": {"type": "lookup", "owner": "user",
          "params": {"table": "user.name_idx", "from": "name", "to": "keyspace_id", "ignore_nulls": "true"}},
        "tag_idx": {"type": "lookup_hash_unique", "owner": "music",
          "params": {"table": "lookup.tag_idx", "from": "tag", "to": "user_id", "autocommit": "true"}}
      },
      "tables": {
        "user": {"column_vindexes": [
          {"column": "id", "name": "hash"},
          {"column": "email", "name": "email_idx"},
          {"column": "name", "name": "name_idx"}]},
        "music": {"column_vindexes": [
          {"column": "user_id", "name": "hash"},
          {"column": "tag", "name": "tag_idx"}]},
        "name_idx": {"column_vindexes": [{"column": "name", "name": "md5"}]}
      }
    },
    "lookup": {"tables": {"email_idx": {}, "tag_idx": {}}}
  }
}"#;

/// Keyspace ids of `hash`: 1 is on `-80`, 4 on `80-`.
const KSID_1: &str = "166B40B44ABA4BD6";
const KSID_4: &str = "D2FD8867D50D2DFE";

fn cursor(responder: Responder) -> FakeVCursor {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    let vschema = vschema::VSchema::build(&srv);
    assert_eq!(vschema.keyspace_errors().count(), 0);
    let mut vc = FakeVCursor::new("user", &["-80", "80-"]).keyspace("lookup", &["0"]);
    vc.vschema = Some(vschema);
    vc.responder = Some(responder);
    vc
}

fn ksid_row(name: &str, hex: &str) -> proto::query::QueryResult {
    let bytes = vschema::hex::decode(hex).unwrap();
    let mut r = result(
        &[
            field(name, Type::Varchar),
            field("keyspace_id", Type::Varbinary),
        ],
        &[],
    );
    r.rows.push(proto::query::Row::from_values([
        Some(name.as_bytes()),
        Some(&bytes[..]),
    ]));
    r
}

async fn run(vc: &FakeVCursor, sql: &str) -> crate::Result<proto::query::QueryResult> {
    let stmt = sql::parse::parse(sql).unwrap();
    let p = plan(&stmt, vc.vschema.as_ref().unwrap(), Some("user"))?;
    p.execute(vc, &BindVars::default()).await
}

fn sent(vc: &FakeVCursor) -> Vec<String> {
    vc.log
        .lock()
        .unwrap()
        .iter()
        .map(|(ks, shard, sql)| format!("{ks}/{shard}: {sql}"))
        .collect()
}

fn dup() -> EngineError {
    EngineError::mysql(1062, "23000", "Duplicate entry 'a' for key 'PRIMARY'")
}

#[tokio::test]
async fn unique_lookup_routes_to_the_shard_its_row_names() {
    let vc = cursor(Box::new(|ks, _, sql| {
        (ks == "lookup" && sql.contains("'b@x'")).then(|| Ok(ksid_row("b@x", KSID_4)))
    }));
    run(&vc, "select id from user where email = 'b@x'")
        .await
        .unwrap();
    assert_eq!(
        sent(&vc),
        [
            "lookup/0: SELECT `email`, `keyspace_id` FROM `email_idx` WHERE `email` = 'b@x'",
            "user/80-: SELECT id FROM user WHERE email = 'b@x'",
        ]
    );
    // A consistent lookup is read in the pre-session.
    assert_eq!(vc.orders.lock().unwrap()[0].0, CommitOrder::Pre);
}

#[tokio::test]
async fn a_value_without_lookup_row_routes_nowhere_with_fields() {
    let vc = cursor(Box::new(|_, _, _| None));
    let r = run(&vc, "select id from user where email = 'none'")
        .await
        .unwrap();
    assert!(rows_of(&r).is_empty());
    let log = sent(&vc);
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1], "user/-80: SELECT id FROM user WHERE 1 <> 1");
}

#[tokio::test]
async fn non_unique_lookup_in_list_reads_each_value_from_a_sharded_lookup_table() {
    let vc = cursor(Box::new(|ks, _, sql| {
        if ks != "user" || !sql.contains("`name_idx`") {
            return None;
        }
        let mut r = ksid_row("x", KSID_1);
        if sql.contains("'x'") {
            r.rows.extend(ksid_row("x", KSID_4).rows);
            return Some(Ok(r));
        }
        Some(Ok(result(&r.fields, &[])))
    }));
    run(&vc, "select id from user where name in ('x', 'y')")
        .await
        .unwrap();
    let log = sent(&vc);
    assert_eq!(log.len(), 4, "{log:?}");
    // Each lookup goes to the one lookup shard its value hashes to.
    assert!(log[0].contains("WHERE `name` = 'x'") && log[1].contains("WHERE `name` = 'y'"));
    assert_eq!(
        &log[2..],
        [
            "user/-80: SELECT id FROM user WHERE name IN ('x', 'y')",
            "user/80-: SELECT id FROM user WHERE name IN ('x', 'y')",
        ]
    );
    assert_eq!(vc.orders.lock().unwrap()[0].0, CommitOrder::Normal);
}

#[tokio::test]
async fn insert_creates_lookup_rows_first_in_their_commit_orders() {
    let vc = cursor(Box::new(|_, _, _| None));
    run(
        &vc,
        "insert into user (id, email, name) values (1, 'a@x', 'x'), (4, 'b@x', null)",
    )
    .await
    .unwrap();
    let orders = vc.orders.lock().unwrap().clone();
    assert_eq!(
        orders[0],
        (
            CommitOrder::Pre,
            format!(
                "INSERT INTO `email_idx` (`email`, `keyspace_id`) VALUES ('a@x', X'{KSID_1}'), ('b@x', X'{KSID_4}')"
            )
        )
    );
    // ignore_nulls: only the first row has a name.
    assert_eq!(orders[1].0, CommitOrder::Normal);
    assert!(
        orders[1].1.ends_with(&format!("VALUES ('x', X'{KSID_1}')")),
        "{orders:?}"
    );
    assert_eq!(orders.len(), 4, "{orders:?}");
    assert!(orders[2..]
        .iter()
        .all(|(_, q)| q.starts_with("INSERT INTO user")));
}

#[tokio::test]
async fn null_without_ignore_nulls_fails_before_any_row_is_written() {
    let vc = cursor(Box::new(|_, _, _| None));
    let e = run(&vc, "insert into user (id, email) values (1, null)")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "lookup.Create: input has null values: row: 0, col: 0"
    );
    assert!(sent(&vc).is_empty());
}

#[tokio::test]
async fn lookup_hash_stores_the_id_and_autocommits() {
    let vc = cursor(Box::new(|_, _, _| None));
    run(&vc, "insert into music (user_id, tag) values (4, 't')")
        .await
        .unwrap();
    let orders = vc.orders.lock().unwrap().clone();
    assert_eq!(
        orders[0],
        (
            CommitOrder::Autocommit,
            "INSERT INTO `tag_idx` (`tag`, `user_id`) VALUES ('t', CAST(4 AS UNSIGNED))"
                .to_string()
        )
    );
    // Mapping hashes the stored id.
    let vc = cursor(Box::new(|ks, _, _| {
        let r = result(
            &[field("tag", Type::Varchar), field("user_id", Type::Int64)],
            &[&[Some("t"), Some("4")]],
        );
        (ks == "lookup").then(|| Ok(r))
    }));
    run(&vc, "select * from music where tag = 't'")
        .await
        .unwrap();
    assert_eq!(
        sent(&vc)[1],
        "user/80-: SELECT * FROM music WHERE tag = 't'"
    );
}

#[tokio::test]
async fn duplicate_on_a_consistent_lookup_takes_over_an_orphan_row() {
    let vc = cursor(Box::new(|ks, _, sql| {
        if sql.starts_with("INSERT INTO `email_idx`") {
            return Some(Err(dup()));
        }
        if sql.starts_with("SELECT `email`, `keyspace_id` FROM `email_idx`") {
            return Some(Ok(ksid_row("a@x", KSID_4)));
        }
        // The owner row the lookup row points to is gone.
        (ks == "user" && sql.starts_with("select `email` from `user`"))
            .then(|| Ok(result(&[field("email", Type::Varchar)], &[])))
    }));
    run(&vc, "insert into user (id, email) values (1, 'a@x')")
        .await
        .unwrap();
    let log = sent(&vc);
    assert_eq!(
        log[1],
        "lookup/0: SELECT `email`, `keyspace_id` FROM `email_idx` WHERE `email` = 'a@x' FOR UPDATE"
    );
    assert_eq!(
        log[2],
        "user/80-: select `email` from `user` where `email` = 'a@x' for update"
    );
    assert_eq!(
        log[3],
        format!(
            "lookup/0: UPDATE `email_idx` SET `keyspace_id` = X'{KSID_1}' WHERE `email` = 'a@x'"
        )
    );
    assert!(log[4].starts_with("user/-80: INSERT INTO user"), "{log:?}");
}

#[tokio::test]
async fn duplicate_of_a_live_owner_row_is_1062_and_writes_no_owner_row() {
    let vc = cursor(Box::new(|ks, _, sql| {
        if sql.starts_with("INSERT INTO `email_idx`") {
            return Some(Err(dup()));
        }
        if sql.starts_with("SELECT `email`, `keyspace_id` FROM `email_idx`") {
            return Some(Ok(ksid_row("a@x", KSID_4)));
        }
        (ks == "user" && sql.starts_with("select `email`"))
            .then(|| Ok(result(&[field("email", Type::Varchar)], &[&[Some("a@x")]])))
    }));
    let e = run(&vc, "insert into user (id, email) values (1, 'a@x')")
        .await
        .unwrap_err();
    assert_eq!(e.errno(), 1062);
    assert!(!sent(&vc).iter().any(|q| q.contains("INSERT INTO user")));
}

/// The owner row `(1, 'a@x', 'x')` as an owned vindex query returns it.
fn owner_rows(ks: &str, sql: &str) -> Option<crate::Result<proto::query::QueryResult>> {
    if ks != "user" || !sql.starts_with("select `id`") {
        return None;
    }
    let id = field("id", Type::Int64);
    let email = field("email", Type::Varchar);
    let name = field("name", Type::Varchar);
    Some(Ok(if sql.contains("`email`") {
        result(&[id, email, name], &[&[Some("1"), Some("a@x"), Some("x")]])
    } else {
        result(&[id, name], &[&[Some("1"), Some("x")]])
    }))
}

#[tokio::test]
async fn delete_reads_the_owner_rows_then_deletes_lookup_rows_then_owner_rows() {
    let vc = cursor(Box::new(|ks, _, sql| owner_rows(ks, sql)));
    run(&vc, "delete from user where id = 1").await.unwrap();
    let orders = vc.orders.lock().unwrap().clone();
    let want = [
        (
            CommitOrder::Normal,
            "select `id`, `email`, `name` from user where id = 1 for update".to_string(),
        ),
        (
            CommitOrder::Post,
            format!(
                "DELETE FROM `email_idx` WHERE `email` = 'a@x' AND `keyspace_id` = X'{KSID_1}'"
            ),
        ),
        (
            CommitOrder::Normal,
            format!("DELETE FROM `name_idx` WHERE `name` = 'x' AND `keyspace_id` = X'{KSID_1}'"),
        ),
        (
            CommitOrder::Normal,
            "DELETE FROM user WHERE id = 1".to_string(),
        ),
    ];
    assert_eq!(orders, want);
    // The select and the delete go to the one shard of id 1.
    assert!(sent(&vc)[0].starts_with("user/-80:"));
}

#[tokio::test]
async fn update_of_a_lookup_column_replaces_its_row() {
    let vc = cursor(Box::new(|ks, _, sql| owner_rows(ks, sql)));
    run(&vc, "update user set name = 'y' where email = 'a@x'")
        .await
        .unwrap();
    let log: Vec<String> = vc
        .orders
        .lock()
        .unwrap()
        .iter()
        .map(|(_, q)| q.clone())
        .collect();
    // The route by email reads its (consistent) lookup row without a lock:
    // nothing found, the update goes nowhere.
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].ends_with("WHERE `email` = 'a@x'"), "{log:?}");
    let vc = cursor(Box::new(|_, _, _| None));
    run(&vc, "delete from user where name = 'x'").await.unwrap();
    let log = sent(&vc);
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(log[0].ends_with("WHERE `name` = 'x' FOR UPDATE"), "{log:?}");

    let vc = cursor(Box::new(|ks, _, sql| owner_rows(ks, sql)));
    run(&vc, "update user set name = 'y' where id = 1")
        .await
        .unwrap();
    let log: Vec<String> = vc
        .orders
        .lock()
        .unwrap()
        .iter()
        .map(|(_, q)| q.clone())
        .collect();
    assert_eq!(
        log,
        [
            "select `id`, `name` from user where id = 1 for update".to_string(),
            format!("DELETE FROM `name_idx` WHERE `name` = 'x' AND `keyspace_id` = X'{KSID_1}'"),
            format!("INSERT INTO `name_idx` (`name`, `keyspace_id`) VALUES ('y', X'{KSID_1}')"),
            "UPDATE user SET name = 'y' WHERE id = 1".to_string(),
        ]
    );
}

#[tokio::test]
async fn unchanged_and_unmaintainable_updates() {
    // Assigning the value the row already has changes no lookup row.
    let vc = cursor(Box::new(|ks, _, sql| {
        (ks == "user" && sql.starts_with("select `id`, `name`")).then(|| {
            Ok(result(
                &[field("id", Type::Int64), field("name", Type::Varchar)],
                &[&[Some("1"), Some("x")]],
            ))
        })
    }));
    run(&vc, "update user set name = 'x' where id = 1")
        .await
        .unwrap();
    assert_eq!(sent(&vc).len(), 2);
    let vc = cursor(Box::new(|_, _, _| None));
    let e = run(&vc, "update user set name = concat(name, 'z') where id = 1")
        .await
        .unwrap_err();
    assert!(e
        .to_string()
        .starts_with("VT12001: unsupported: only values are supported"));
    let e = run(&vc, "update user set id = 2 where id = 1")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "VT12001: unsupported: you cannot UPDATE primary vindex columns; invalid update on vindex: hash"
    );
    let e = run(&vc, "insert ignore into user (id, email) values (1, 'a')")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("VT12001"));
}

#[tokio::test]
async fn a_lookup_row_written_in_the_pre_session_is_deleted_there() {
    let vc = cursor(Box::new(|ks, _, sql| owner_rows(ks, sql)));
    run(
        &vc,
        "insert into user (id, email, name) values (1, 'a@x', 'x')",
    )
    .await
    .unwrap();
    run(&vc, "delete from user where id = 1").await.unwrap();
    let orders = vc.orders.lock().unwrap().clone();
    let delete = orders
        .iter()
        .find(|(_, q)| q.starts_with("DELETE FROM `email_idx`"))
        .unwrap();
    assert_eq!(delete.0, CommitOrder::Pre, "{orders:?}");
}

#[tokio::test]
async fn insert_select_creates_lookup_rows_of_the_selected_rows() {
    let vc = cursor(Box::new(|ks, _, sql| {
        (ks == "user" && sql.starts_with("SELECT user_id, tag FROM music")).then(|| {
            Ok(result(
                &[field("user_id", Type::Int64), field("tag", Type::Varchar)],
                &[&[Some("1"), Some("a@x")]],
            ))
        })
    }));
    run(
        &vc,
        "insert into user (id, email) select user_id, tag from music where user_id = 1",
    )
    .await
    .unwrap();
    let orders = vc.orders.lock().unwrap().clone();
    // The select, the email lookup row (no name: ignore_nulls), the owner row.
    assert_eq!(orders.len(), 3, "{orders:?}");
    assert_eq!(
        orders[1],
        (
            CommitOrder::Pre,
            format!("INSERT INTO `email_idx` (`email`, `keyspace_id`) VALUES ('a@x', X'{KSID_1}')")
        )
    );
    assert!(orders[2].1.starts_with("INSERT INTO user"), "{orders:?}");
}

#[tokio::test]
async fn two_rows_of_one_statement_with_one_unique_value_are_a_duplicate() {
    let locks = std::sync::atomic::AtomicUsize::new(0);
    let vc = cursor(Box::new(move |_, _, sql| {
        if sql.starts_with("INSERT INTO `email_idx` (`email`, `keyspace_id`) VALUES ('a@x', X'166B40B44ABA4BD6'), ") {
            return Some(Err(dup()));
        }
        if sql.starts_with("SELECT `email`, `keyspace_id` FROM `email_idx`") {
            // First row: free; second row: the first row's lookup row.
            let n = locks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let r = ksid_row("a@x", KSID_1);
            return Some(Ok(if n == 0 { result(&r.fields, &[]) } else { r }));
        }
        None
    }));
    let e = run(
        &vc,
        "insert into user (id, email) values (1, 'a@x'), (4, 'a@x')",
    )
    .await
    .unwrap_err();
    assert_eq!(e.errno(), 1062);
    let log = sent(&vc);
    assert!(
        !log.iter().any(|q| q.contains("INSERT INTO user")),
        "{log:?}"
    );
    // The owner check is not even needed: the row is this statement's.
    assert!(!log.iter().any(|q| q.contains("from `user`")), "{log:?}");
}

#[tokio::test]
async fn duplicate_on_a_unique_lookup_is_1062_before_the_owner_row() {
    let vc = cursor(Box::new(|_, _, sql| {
        sql.starts_with("INSERT INTO `tag_idx`").then(|| Err(dup()))
    }));
    let e = run(&vc, "insert into music (user_id, tag) values (4, 't')")
        .await
        .unwrap_err();
    assert_eq!((e.errno(), e.sqlstate()), (1062, "23000"));
    assert!(!sent(&vc).iter().any(|q| q.contains("INSERT INTO music")));
}

#[tokio::test]
async fn changing_only_the_case_of_a_consistent_lookup_value_is_refused() {
    let vc = cursor(Box::new(|ks, _, sql| owner_rows(ks, sql)));
    let e = run(&vc, "update user set email = 'A@X ' where id = 1")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("VT12001"), "{e}");
    assert!(!sent(&vc).iter().any(|q| q.contains("email_idx")));
    // A non-consistent lookup simply replaces its row.
    run(&vc, "update user set name = 'X' where id = 1")
        .await
        .unwrap();
}

#[tokio::test]
async fn re_creating_a_value_the_post_session_deleted_is_refused_before_writing() {
    let vc = cursor(Box::new(|ks, _, sql| owner_rows(ks, sql)));
    run(&vc, "delete from user where id = 1").await.unwrap();
    let before = sent(&vc).len();
    let e = run(&vc, "insert into user (id, email) values (4, 'A@x')")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("VT12001"), "{e}");
    assert_eq!(sent(&vc).len(), before, "nothing sent");
}

#[tokio::test]
async fn a_limit_that_could_pick_other_rows_than_the_select_is_refused() {
    let vc = cursor(Box::new(|_, _, _| None));
    let e = run(&vc, "delete from user where id = 1 order by name limit 1")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("VT12001"), "{e}");
    // Without a lookup change, LIMIT on one shard is fine.
    run(&vc, "update user set x = 1 where id = 1 limit 1")
        .await
        .unwrap();
}
