//! Subqueries merged into the outer route, and the ones that must not be.

use serde_json::Value as Json;

use super::plan;

const VSCHEMA: &str = r#"{
  "keyspaces": {
    "ks": {
      "sharded": true,
      "vindexes": {
        "hash": {"type": "hash"},
        "other_hash": {"type": "hash"},
        "num": {"type": "numeric"},
        "name_idx": {"type": "lookup_unique", "params": {"table": "name_idx", "from": "name", "to": "keyspace_id"}, "owner": "customer"}
      },
      "tables": {
        "customer": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "name", "name": "name_idx"}]},
        "corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]},
        "elsewhere": {"column_vindexes": [{"column": "customer_id", "name": "other_hash"}]},
        "numbered": {"column_vindexes": [{"column": "id", "name": "num"}]},
        "byname": {"column_vindexes": [{"column": "name", "name": "name_idx"}]},
        "product": {"type": "reference"}
      }
    },
    "main": {"tables": {"u": {}}}
  }
}"#;

fn vschema() -> vschema::VSchema {
    let srv = vschema::model::SrvVSchema::from_json(VSCHEMA).unwrap();
    vschema::VSchema::build(&srv)
}

fn describe(sql: &str) -> Json {
    let stmt = sql::parse::parse(sql).unwrap();
    plan(&stmt, &vschema(), None)
        .unwrap()
        .description()
        .to_json()
}

fn refused(sql: &str) -> String {
    let stmt = sql::parse::parse(sql).unwrap();
    plan(&stmt, &vschema(), None).unwrap_err().to_string()
}

/// The plan's top operator and variant.
fn top(d: &Json) -> (Option<&str>, Option<&str>) {
    (d["OperatorType"].as_str(), d["Variant"].as_str())
}

#[test]
fn correlated_on_the_shared_vindex_goes_whole() {
    for sql in [
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.id)",
        "select c.id from customer c where not exists (select 1 from corder o where c.id = o.customer_id and o.qty > 1)",
        "select c.id from customer c where c.id in (select o.customer_id from corder o where o.customer_id = c.id and o.qty > 1)",
        "select c.id, (select count(*) from corder o where o.customer_id = c.id) from customer c",
        "select c.id from customer c where c.score > (select min(o.price) from corder o where o.customer_id = c.id)",
        "select c.id from customer c where exists (select 1 from product p where p.sku = c.region)",
        "select id from customer where exists (select 1 from corder where corder.customer_id = customer.id)",
        // nested, anchored to the outer table or to the enclosing subquery's
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.id and o.sku in (select sku from corder x where x.customer_id = c.id))",
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.id and exists (select 1 from corder x where x.customer_id = o.customer_id))",
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.id and exists (select 1 from product p where p.sku = o.sku))",
    ] {
        let d = describe(sql);
        assert_eq!(top(&d), (Some("Route"), Some("Scatter")), "{sql}");
        assert_eq!(d["Query"].as_str().map(str::to_lowercase), Some(sql.to_string()), "{sql}");
    }
}

#[test]
fn outer_where_routes_and_outer_clauses_complete_in_vtgate() {
    let d = describe(
        "select c.id from customer c where c.id = 5 and exists (select 1 from corder o where o.customer_id = c.id)",
    );
    assert_eq!(top(&d), (Some("Route"), Some("EqualUnique")));
    assert_eq!(d["Vindex"], "hash");
    let d = describe(
        "select c.id, (select count(*) from corder o where o.customer_id = c.id) as n from customer c order by n desc, c.id limit 3",
    );
    assert_eq!(d["OperatorType"], "Limit");
    assert_eq!(d["Inputs"][0]["Variant"], "Scatter");
    assert_eq!(d["Inputs"][0]["OrderBy"].as_str(), Some("1 DESC, 0 ASC"));
    let d = describe(
        "select count(*) from customer c where exists (select 1 from corder o where o.customer_id = c.id)",
    );
    assert_eq!(top(&d), (Some("Aggregate"), Some("Scalar")));
}

#[test]
fn anything_not_provably_on_one_shard_is_a_semi_join() {
    for sql in [
        // correlation on a column that is not the vindex column
        "select c.id from customer c where exists (select 1 from corder o where o.qty = c.id)",
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.score)",
        // the equality under an OR, not in the top-level AND
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.id or o.qty = 1)",
        // different vindexes (even of the same type)
        "select c.id from customer c where exists (select 1 from elsewhere e where e.customer_id = c.id)",
        "select c.id from customer c where exists (select 1 from numbered n where n.id = c.id)",
        // a secondary (lookup) vindex is not where rows live
        "select c.id from customer c where exists (select 1 from byname b where b.name = c.name)",
        // a join inside
        "select c.id from customer c where exists (select 1 from corder o join product p on o.sku = p.sku where o.customer_id = c.id)",
    ] {
        let d = describe(sql);
        assert_eq!(top(&d), (Some("SemiJoin"), Some("SemiJoin")), "{sql}");
    }
    // NOT IN: an anti-join that also drops the row when a value or the probe is NULL.
    let d = describe(
        "select c.id from customer c where c.id not in (select o.qty from corder o where o.price = c.score)",
    );
    assert_eq!(top(&d), (Some("SemiJoin"), Some("AntiJoin")), "{d}");
    assert_eq!(
        d["Inputs"][1]["Inputs"][0]["Query"],
        "SELECT o.qty FROM corder o WHERE o.price = :c_score AND (o.qty = :c_id OR o.qty IS NULL OR :c_id IS NULL) LIMIT 1"
    );
    // A comparison with one aggregate row: that row's HAVING.
    let d = describe(
        "select c.id from customer c where (select max(o.qty) from corder o where o.price = c.score) < c.score",
    );
    assert_eq!(top(&d), (Some("SemiJoin"), Some("SemiJoin")), "{d}");
    let filter = &d["Inputs"][1]["Inputs"][0];
    assert_eq!(
        filter["Predicate"], "Compare(Value(BindVar(\"c_score\")), Gt, Column(0))",
        "{d}"
    );
    assert_eq!(
        filter["Inputs"][0]["Inputs"][0]["Query"],
        "SELECT max(o.qty) FROM corder o WHERE o.price = :c_score",
        "{d}"
    );
    // A nested subquery not anchored: the whole subquery is not merged.
    for sql in [
        // on a column that is not the vindex column
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.id and o.sku in (select sku from corder x where x.qty = c.id))",
        // to a reference table's row, which is on every shard
        "select c.id from customer c where exists (select 1 from product p where p.sku = c.region and exists (select 1 from corder x where x.sku = p.sku))",
        // to a table hidden by the subquery's own of the same name
        "select c.id from customer c where exists (select 1 from corder o where o.customer_id = c.id and exists (select 1 from corder c where c.customer_id = c.qty))",
    ] {
        let stmt = sql::parse::parse(sql).unwrap();
        if let Ok(p) = plan(&stmt, &vschema(), None) {
            let d = p.description().to_json();
            assert_ne!(top(&d), (Some("Route"), Some("Scatter")), "{sql}: {d}");
        }
    }
    // Windows over the rows the semi-join keeps.
    let d = describe("select c.id, rank() over (order by c.score) from customer c where exists (select 1 from corder o where o.qty = c.id)");
    assert_eq!(d["OperatorType"], "Window", "{d}");
    assert_eq!(d["Inputs"][0]["OperatorType"], "SemiJoin", "{d}");
    for sql in [
        // select-list subquery in a multi-shard aggregation
        "select c.region, (select count(*) from corder o where o.customer_id = c.id) from customer c group by c.region",
        // a comparison with a subquery that may give several rows (MySQL's 1242)
        "select c.id from customer c where c.score > (select o.qty from corder o where o.price = c.score)",
        "select c.id from customer c where c.score > (select max(o.qty) from corder o where o.price = c.score group by o.sku)",
    ] {
        let e = refused(sql);
        assert!(e.starts_with("VT12001: unsupported:"), "{sql}: {e}");
    }
}

#[test]
fn uncorrelated_reference_subquery_is_merged_too() {
    let d =
        describe("select c.id from customer c where c.region in (select p.region from product p)");
    assert_eq!(top(&d), (Some("Route"), Some("Scatter")));
    // A sharded uncorrelated subquery still runs first, also when its
    // alias hides the outer table (nothing reads the outer row).
    let d = describe("select c.id from customer c where c.id in (select o.customer_id from corder o where o.qty > 1)");
    assert_eq!(top(&d), (Some("UncorrelatedSubquery"), Some("PulloutIn")));
    let d = describe("select c.id from customer c where exists (select 1 from corder c where c.customer_id = c.customer_id)");
    assert_eq!(
        top(&d),
        (Some("UncorrelatedSubquery"), Some("PulloutExists"))
    );
}

#[test]
fn subquery_reading_an_outer_derived_table_is_a_semi_join() {
    // Pulled out as if uncorrelated, the subquery ran alone and MySQL answered 1054 for
    // `d.id`: it is correlated with the derived table, on no shard's rows alone.
    let d = describe(
        "select d.id from (select id, name from customer where name > 'a') d where exists \
         (select 1 from corder o where o.customer_id = d.id)",
    );
    assert_eq!(top(&d), (Some("SemiJoin"), Some("SemiJoin")));
    let sub = &d["Inputs"][1]["Inputs"][0];
    assert_eq!(top(sub), (Some("Route"), Some("EqualUnique")));
    assert_eq!(
        sub["Query"],
        "SELECT 1 FROM corder o WHERE o.customer_id = :d_id LIMIT 1"
    );
}

#[test]
fn aggregation_and_limit_run_over_the_semi_join() {
    let d = describe(
        "select count(*), max(c.score) from customer c where exists (select 1 from corder o where o.qty = c.id)",
    );
    assert_eq!(top(&d), (Some("Aggregate"), Some("Scalar")));
    assert_eq!(d["Inputs"][0]["OperatorType"], "SemiJoin");
    let d = describe(
        "select c.id from customer c where exists (select 1 from corder o where o.qty = c.id) order by c.score limit 3",
    );
    assert_eq!(d["OperatorType"], "Limit");
    assert_eq!(d["Inputs"][0]["OperatorType"], "SemiJoin");
    assert_eq!(
        d["Inputs"][0]["Inputs"][0]["Query"],
        "SELECT c.id, c.id, c.score FROM customer c ORDER BY c.score"
    );
}

#[test]
fn distinct_over_a_merged_value_dedups_in_vtgate_over_one_scatter() {
    let sql = "select distinct (select count(*) from corder o where o.customer_id = c.id) as n from customer c order by n";
    let d = describe(sql);
    let text = d.to_string();
    assert_eq!(text.matches("\"OperatorType\":\"Route\"").count(), 1, "{d}");
    assert!(
        text.contains("(SELECT count(*) FROM corder o WHERE o.customer_id = c.id)"),
        "{d}"
    );
}

#[test]
fn values_between_two_wildcards_are_refused() {
    // Its column is known neither from the row's start nor from its end.
    let e = refused(
        "select o.*, (select max(x.qty) from corder x where x.customer_id = o.customer_id) as m, \
         u.* from corder o join main.u on u.sku = o.sku",
    );
    assert!(e.contains("between two * in the select list"), "{e}");
    // Before it, the column is known.
    let d = describe(
        "select (select max(x.qty) from elsewhere x where x.customer_id = o.qty) as m, o.* \
         from corder o",
    );
    assert_eq!(
        top(&d),
        (Some("Projection"), Some("CorrelatedSubqueries")),
        "{d}"
    );
}

#[test]
fn wildcards_with_known_columns_are_written_out_first() {
    // With the columns known, `*` beside per-row values is no obstacle, also when the rows
    // are sorted by a value in vtgate (refused with `*` left as written).
    let known = VSCHEMA.replace(
        r#""corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]},"#,
        r#""corder": {"column_vindexes": [{"column": "customer_id", "name": "hash"}],
                     "columns": [{"name": "customer_id"}, {"name": "qty"}],
                     "column_list_authoritative": true},"#,
    );
    let sql = "select o.*, (select max(x.qty) from elsewhere x where x.customer_id = o.qty) \
               as m from corder o order by m, o.customer_id";
    let d = super::plan_json_with_vschema(&known, sql).unwrap();
    let text = d.to_string();
    assert!(text.contains("CorrelatedSubqueries"), "{d}");
    assert!(
        text.contains("SELECT o.`customer_id`, o.`qty`, NULL AS m"),
        "{d}"
    );
    assert!(refused(sql).contains("correlated subquery across shards"));
}

#[test]
fn an_order_by_key_reading_the_outer_row_is_a_hidden_value() {
    let d = describe(
        "select c.id from customer c where c.id < 40 \
         order by (select count(*) from elsewhere x where x.customer_id = c.score) desc, c.id \
         limit 5",
    );
    let text = d.to_string();
    assert!(text.contains("CorrelatedSubqueries"), "{d}");
    assert!(
        text.contains("\"Query\":\"SELECT c.id, NULL, c.score FROM customer c WHERE c.id < 40\""),
        "{d}"
    );
    assert!(text.contains("\"OrderBy\":\"1 DESC, 0 ASC\""), "{d}");
    // With DISTINCT the key would count in which rows are distinct.
    assert!(refused(
        "select distinct c.id from customer c \
         order by (select count(*) from elsewhere x where x.customer_id = c.score)"
    )
    .contains("correlated subquery across shards"));
}
