//! Planner tests for joins sent to the shards whole (`join`): with derived
//! tables each shard computes (`colocated_derived`), parenthesized groups
//! of inner joins on the right of a LEFT JOIN, and RIGHT JOIN.

use serde_json::Value as Json;

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "user": {
      "sharded": true,
      "vindexes": {
        "hash": {"type": "hash"}, "other": {"type": "hash"},
        "md5": {"type": "unicode_loose_md5"}
      },
      "tables": {
        "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
        "extra": {"column_vindexes": [{"column": "user_id", "name": "hash"}]},
        "elsewhere": {"column_vindexes": [{"column": "user_id", "name": "other"}]},
        "named": {"column_vindexes": [{"column": "name", "name": "md5"}]},
        "ref": {"type": "reference"}
      }
    }
  }
}"#;

fn planned(sql: &str) -> Json {
    super::plan_with_vschema(VSCHEMA, sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .description()
        .to_json()
}

fn one_route(sql: &str) -> Json {
    let d = planned(sql);
    assert_eq!(d["OperatorType"], "Route", "{sql}: {d}");
    d
}

fn not_one_route(sql: &str) {
    if let Ok(p) = super::plan_with_vschema(VSCHEMA, sql) {
        let d = p.description().to_json();
        assert_ne!(d["OperatorType"], "Route", "{sql}: {d}");
    }
}

#[test]
fn derived_tables_on_the_vindex_column_join_on_the_shards() {
    for sql in [
        "select u.id, e.x from user u join (select user_id, x from extra where x > 3) e \
         on e.user_id = u.id",
        "select u.id, e.n from user u join (select user_id, count(*) as n from extra \
         group by user_id) e on e.user_id = u.id",
        "select u.id, e.k from user u left join (select user_id as k from extra) e on e.k = u.id",
        "select * from (select * from extra) e join user u on u.id = e.user_id",
        "select a.id from (select id from user where id > 5) a \
         join (select user_id, max(x) as m from extra group by user_id having m > 1) b \
         on a.id = b.user_id join ref on ref.id = a.id",
        "select u.id, r.c from user u join (select id, count(*) as c from ref group by id) r \
         on r.id = u.id",
    ] {
        let d = one_route(sql);
        assert_eq!(d["Variant"], "Scatter", "{sql}: {d}");
    }
    // Routed by the derived table's own WHERE.
    let d = one_route(
        "select u.id from user u join (select user_id from extra where user_id = 5) e \
         on e.user_id = u.id",
    );
    assert_eq!(d["Variant"], "EqualUnique", "{d}");
    let d = one_route(
        "select t.id, e.v from (select id from user where id = 5 group by id) t \
         join extra e on t.id = e.user_id",
    );
    assert_eq!(d["Variant"], "EqualUnique", "{d}");
    // Merged, the outer ORDER BY and LIMIT run over the shards' sorted rows.
    let d = planned(
        "select u.id, e.n from user u join (select user_id, count(*) as n from extra \
         group by user_id) e on e.user_id = u.id order by e.n desc, u.id limit 3",
    );
    assert_eq!(d["OperatorType"], "Limit", "{d}");
    assert_eq!(d["Inputs"][0]["OperatorType"], "Route", "{d}");
}

#[test]
fn a_column_the_derived_table_lacks_is_mysql_error_1054() {
    let e = super::plan_with_vschema(
        VSCHEMA,
        "select t.id from (select id from user) as t join extra on t.id = extra.user_id \
         where t.col = 42",
    )
    .err()
    .map(|e| e.to_string());
    assert_eq!(e.as_deref(), Some("column 't.col' not found"));
}

#[test]
fn derived_tables_a_shard_cannot_compute_alone_keep_the_nested_loop() {
    for sql in [
        // not on the vindex column, or a column computed from it
        "select u.id from user u join (select x from extra) e on e.x = u.id",
        "select u.id from user u join (select user_id + 0 as k from extra) e on e.k = u.id",
        // groups not by the vindex column; a text hash under a _ci collation
        "select u.id from user u join (select x, count(*) as n from extra group by x) e \
         on e.n = u.id",
        "select u.id from user u join (select user_id, count(*) as n from extra) e \
         on e.user_id = u.id",
        "select n.id from user n join (select name, count(*) as c from named group by name) m \
         on m.name = n.id",
        // LIMIT, DISTINCT, windows, subqueries
        "select u.id from user u join (select user_id from extra limit 5) e on e.user_id = u.id",
        "select u.id from user u join (select distinct user_id from extra) e \
         on e.user_id = u.id",
        "select u.id from user u join (select user_id, row_number() over (order by x) as r \
         from extra) e on e.user_id = u.id",
        "select u.id from user u join (select user_id from extra where x in \
         (select id from user)) e on e.user_id = u.id",
        // another vindex, another table in the statement
        "select u.id from user u join (select user_id from elsewhere) e on e.user_id = u.id",
        "select u.id from user u join (select user_id from extra) e on e.user_id = u.id \
         where u.id in (select user_id from elsewhere)",
    ] {
        not_one_route(sql);
    }
}

#[test]
fn a_left_joined_derived_table_does_not_route_by_its_own_where() {
    // Customers without such orders come from every shard.
    let d = one_route(
        "select u.id, e.user_id from user u left join (select user_id from extra \
         where user_id = 5) e on e.user_id = u.id",
    );
    assert_eq!(d["Variant"], "Scatter", "{d}");
}

#[test]
fn left_joined_groups_of_co_located_tables_join_on_the_shards() {
    for sql in [
        "select u.id, r.v from user u left join (extra e join ref r on r.id = e.x) \
         on e.user_id = u.id",
        "select u.id from user u left join (extra e join extra e2 on e2.user_id = e.user_id) \
         on e2.user_id = u.id",
        "select u.id from user u join (extra e join ref r on r.id = e.x) on e.user_id = u.id",
    ] {
        let d = one_route(sql);
        assert_eq!(d["Variant"], "Scatter", "{sql}: {d}");
    }
    for sql in [
        "select u.id from user u left join (extra e join elsewhere w on w.user_id = e.user_id) \
         on e.user_id = u.id",
        "select u.id from user u left join (extra e join extra e2 on e2.user_id = e.user_id) \
         on e.x = u.id",
        "select u.id from user u left join (extra e left join ref r on r.id = e.x) \
         on e.user_id = u.id",
        "select u.id from user u left join (ref r join extra e on e.x = r.id) on r.id = u.id",
    ] {
        not_one_route(sql);
    }
}

#[test]
fn a_right_join_of_co_located_tables_joins_on_the_shards() {
    let d = one_route("select u.id, e.x from extra e right join user u on u.id = e.user_id");
    assert_eq!(d["Variant"], "Scatter", "{d}");
    // The WHERE rejects rows without an `extra` row: routed by its vindex.
    let d = one_route(
        "select u.id, e.x from extra e right join user u on u.id = e.user_id \
         where e.user_id = 5",
    );
    assert_eq!(d["Variant"], "EqualUnique", "{d}");
    for sql in [
        "select u.id from user u right join ref r on r.id = u.id",
        "select u.id from extra e right join user u on u.x = e.user_id",
        "select u.id from extra e right join user u on u.id = e.user_id \
         right join ref r on r.id = u.id",
    ] {
        not_one_route(sql);
    }
}
