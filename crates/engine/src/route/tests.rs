//! Route tests against the fake vcursor: shard choice per opcode, the
//! query each shard receives, merge sort and hidden columns.

use super::*;
use crate::testing::{field, result, rows_of, FakeVCursor};
use proto::query::Type;

fn ks() -> KeyspaceDesc {
    KeyspaceDesc {
        name: "user".into(),
        sharded: true,
    }
}

fn hash_vindex(values: Vec<PlanValue>) -> RouteVindex {
    RouteVindex {
        name: "user_index".into(),
        vindex: vschema::create_vindex("hash", "user_index", &Default::default()).unwrap(),
        values,
        unmapped: Unmapped::Scatter,
        columns: Vec::new(),
        kind: Default::default(),
    }
}

fn int(v: i64) -> PlanValue {
    PlanValue::Literal(BindValue::Int64(v))
}

fn fake() -> FakeVCursor {
    let f = [field("id", Type::Int64)];
    FakeVCursor::new("user", &["-80", "80-"])
        .result("user", "-80", result(&f, &[&[Some("2")], &[Some("3")]]))
        .result("user", "80-", result(&f, &[&[Some("1")], &[Some("4")]]))
}

fn route(opcode: Opcode) -> Route {
    Route::new(
        opcode,
        ks(),
        "select id from t".into(),
        "select id from t where 1 != 1".into(),
    )
}

#[tokio::test]
async fn equal_unique_goes_to_one_shard() {
    let vc = fake();
    let mut r = route(Opcode::EqualUnique);
    r.vindex = Some(hash_vindex(vec![int(4)]));
    let res = r.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(vc.sent(), vec![("80-".into(), "select id from t".into())]);
    assert_eq!(res.rows.len(), 2);
    let d = r.description().to_json();
    assert_eq!(d["Variant"], "EqualUnique");
    assert_eq!(d["Vindex"], "user_index");
    assert_eq!(d["Values"][0], "4");
}

#[tokio::test]
async fn in_goes_to_the_shards_of_its_values() {
    let vc = fake();
    let mut r = route(Opcode::In);
    r.vindex = Some(hash_vindex(vec![int(2), int(3)]));
    r.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(vc.sent(), vec![("-80".into(), "select id from t".into())]);
    let vc = fake();
    r.vindex = Some(hash_vindex(vec![int(2), int(4)]));
    r.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(vc.sent().len(), 2);
}

#[tokio::test]
async fn unmappable_values_scatter() {
    let vc = fake();
    let mut r = route(Opcode::In);
    r.vindex = Some(hash_vindex(vec![PlanValue::Literal(BindValue::Decimal(
        "1.0".into(),
    ))]));
    r.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(vc.sent().len(), 2, "IN with an unmappable value scatters");
    let vc = fake();
    let mut r = route(Opcode::EqualUnique);
    r.vindex = Some(hash_vindex(vec![PlanValue::Literal(BindValue::Decimal(
        "1.0".into(),
    ))]));
    r.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(
        vc.sent().len(),
        2,
        "EqualUnique with an unmappable value scatters"
    );
}

#[tokio::test]
async fn scatter_merges_in_order_and_drops_hidden_columns() {
    let f = [field("name", Type::Varchar), field("id", Type::Int64)];
    let vc = FakeVCursor::new("user", &["-80", "80-"])
        .result(
            "user",
            "-80",
            result(&f, &[&[Some("b"), Some("2")], &[Some("d"), Some("3")]]),
        )
        .result(
            "user",
            "80-",
            result(&f, &[&[Some("a"), Some("1")], &[Some("c"), Some("4")]]),
        );
    let mut r = route(Opcode::Scatter);
    r.order_by = vec![OrderByParam {
        col: 1,
        desc: false,
    }];
    r.hidden_columns = 1;
    let res = r.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(res.fields.len(), 1);
    let names: Vec<_> = rows_of(&res)
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "d", "c"]);
    // Streamed: the same rows in the same order.
    let streamed =
        crate::stream::collect(r.stream_execute(&vc, &BindVars::default()).await.unwrap())
            .await
            .unwrap();
    assert_eq!(rows_of(&streamed), rows_of(&res));
    assert_eq!(streamed.fields, res.fields);
    // Under a LIMIT, streamed too.
    let limit = crate::limit::Limit {
        count: int(2),
        offset: Some(int(1)),
        input: Box::new(r),
    };
    let streamed = crate::stream::collect(
        limit
            .stream_execute(&vc, &BindVars::default())
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        rows_of(&streamed),
        rows_of(&limit.execute(&vc, &BindVars::default()).await.unwrap())
    );
    assert_eq!(streamed.rows.len(), 2);
}

#[tokio::test]
async fn none_asks_one_shard_for_fields() {
    let vc = fake();
    let r = route(Opcode::None);
    let res = r.execute(&vc, &BindVars::default()).await.unwrap();
    assert_eq!(
        vc.sent(),
        vec![("-80".into(), "select id from t where 1 != 1".into())]
    );
    assert_eq!(res.fields.len(), 1);
}

#[tokio::test]
async fn bind_vars_are_substituted_and_map() {
    let vc = fake();
    let mut r = route(Opcode::EqualUnique);
    r.query = "select id from t where id = :id".into();
    r.vindex = Some(hash_vindex(vec![PlanValue::BindVar("id".into())]));
    let vars = BindVars::from_iter([("id".to_string(), BindValue::Int64(2))]);
    r.execute(&vc, &vars).await.unwrap();
    assert_eq!(
        vc.sent(),
        vec![("-80".into(), "select id from t where id = 2".into())]
    );
    assert!(r.execute(&vc, &BindVars::default()).await.is_err());
}

#[tokio::test]
async fn unsharded_and_reference_use_one_shard() {
    let vc = FakeVCursor::new("main", &["0"]);
    let r = Route::new(
        Opcode::Unsharded,
        KeyspaceDesc {
            name: "main".into(),
            sharded: false,
        },
        "select 1".into(),
        String::new(),
    );
    r.execute(&vc, &BindVars::default()).await.unwrap();
    let vc2 = fake();
    route(Opcode::Reference)
        .execute(&vc2, &BindVars::default())
        .await
        .unwrap();
    assert_eq!(vc.sent().len() + vc2.sent().len(), 2);
}

fn one_shard_route() -> Route {
    let mut r = route(Opcode::EqualUnique);
    let mut v = hash_vindex(vec![PlanValue::BindVar("v".into())]);
    v.unmapped = Unmapped::OneShard;
    r.vindex = Some(v);
    r
}

fn var(value: BindValue) -> BindVars {
    BindVars::from_iter([("v".to_string(), value)])
}

#[tokio::test]
async fn a_one_shard_route_goes_to_its_values_shard() {
    let vc = fake();
    let res = one_shard_route()
        .execute(&vc, &var(BindValue::Int64(4)))
        .await
        .unwrap();
    assert_eq!(vc.sent(), vec![("80-".into(), "select id from t".into())]);
    assert_eq!(res.rows.len(), 2);
}

#[tokio::test]
async fn a_one_shard_route_runs_a_null_value_on_one_shard() {
    // A plain route reads only the fields for NULL; a merged join still needs its
    // reference rows and aggregates, from exactly one shard.
    let vc = fake();
    let res = one_shard_route()
        .execute(&vc, &var(BindValue::Null))
        .await
        .unwrap();
    assert_eq!(vc.sent(), vec![("-80".into(), "select id from t".into())]);
    assert_eq!(res.rows.len(), 2);
    let vc = fake();
    let mut plain = one_shard_route();
    if let Some(v) = plain.vindex.as_mut() {
        v.unmapped = Unmapped::Scatter;
    }
    let res = plain.execute(&vc, &var(BindValue::Null)).await.unwrap();
    assert_eq!(res.rows.len(), 0);
}

#[tokio::test]
async fn a_one_shard_route_refuses_a_value_its_vindex_cannot_map() {
    for value in [
        BindValue::VarChar(b"7abc".to_vec()),
        BindValue::Decimal("7.0".into()),
        BindValue::Tuple(vec![BindValue::Int64(1)]),
    ] {
        let vc = fake();
        let err = one_shard_route()
            .execute(&vc, &var(value.clone()))
            .await
            .unwrap_err();
        assert!(
            matches!(err, EngineError::Unsupported(_)),
            "{value:?}: {err}"
        );
        assert!(vc.sent().is_empty(), "{value:?}");
    }
    // A plain route scatters such a value (its WHERE still filters on each shard).
    let vc = fake();
    let mut plain = one_shard_route();
    if let Some(v) = plain.vindex.as_mut() {
        v.unmapped = Unmapped::Scatter;
    }
    plain
        .execute(&vc, &var(BindValue::VarChar(b"7abc".to_vec())))
        .await
        .unwrap();
    assert_eq!(vc.sent().len(), 2);
}
