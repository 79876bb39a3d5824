//! VindexFunc against the fake vcursor: the row of each value computed from
//! the vindex's own map() and the shard list.

use super::*;
use crate::testing::FakeVCursor;
use vschema::KeyspaceId;

fn hash() -> Arc<dyn Vindex> {
    vschema::create_vindex("hash", "user_index", &Default::default()).unwrap()
}

fn func(values: Vec<PlanValue>, columns: &[VindexColumn]) -> VindexFunc {
    VindexFunc {
        keyspace: "user".into(),
        vindex_name: "user_index".into(),
        vindex: hash(),
        values,
        columns: columns.iter().map(|c| (c.name().to_string(), *c)).collect(),
    }
}

fn cells(r: &QueryResult) -> Vec<Vec<Option<Vec<u8>>>> {
    r.rows
        .iter()
        .map(|row| {
            crate::merge_sort::split(row)
                .unwrap()
                .into_iter()
                .map(|c| c.map(<[u8]>::to_vec))
                .collect()
        })
        .collect()
}

fn kid(v: i64) -> Vec<u8> {
    match hash().map(&[Value::Int(v)]).unwrap().remove(0) {
        Destination::KeyspaceId(KeyspaceId(k)) => k,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn every_column_of_each_value() {
    let vc = FakeVCursor::new("user", &["-80", "80-"]);
    let f = func(vec![PlanValue::BindVar("ids".into())], &VindexColumn::ALL);
    let mut vars = BindVars::default();
    vars.insert(
        "ids".into(),
        BindValue::Tuple(vec![
            BindValue::Int64(1),
            BindValue::Null,
            BindValue::Int64(4),
        ]),
    );
    let r = f.execute(&vc, &vars).await.unwrap();
    assert_eq!(r.fields.len(), 6);
    assert!(r.fields.iter().all(|f| f.r#type == Type::Varbinary as i32));
    let rows = cells(&r);
    // NULL maps to no keyspace id: no row.
    assert_eq!(rows.len(), 2);
    for (row, v) in rows.iter().zip([1, 4]) {
        let k = kid(v);
        let shard = if k[0] < 0x80 { "-80" } else { "80-" };
        let range = KeyRange::parse_shard_name(shard).unwrap();
        assert_eq!(
            row,
            &vec![
                Some(v.to_string().into_bytes()),
                Some(k.clone()),
                Some(range.start),
                Some(range.end),
                Some(hex::encode(&k).into_bytes()),
                Some(shard.as_bytes().to_vec()),
            ]
        );
    }
}

#[tokio::test]
async fn selected_columns_in_order_and_description() {
    let vc = FakeVCursor::new("user", &["-80", "80-"]);
    let f = func(
        vec![PlanValue::Literal(BindValue::Int64(7))],
        &[VindexColumn::KeyspaceId, VindexColumn::Id, VindexColumn::Id],
    );
    let rows = cells(&f.execute(&vc, &BindVars::default()).await.unwrap());
    let id = Some(b"7".to_vec());
    assert_eq!(rows, vec![vec![Some(kid(7)), id.clone(), id]]);
    let d = f.description().to_json();
    assert_eq!(d["OperatorType"], "VindexFunc");
    assert_eq!(d["Variant"], "VindexMap");
    assert_eq!(d["Columns"], serde_json::json!([1, 0, 0]));
    assert_eq!(d["Value"], "7");
    assert!(d.get("Keyspace").is_none());
}
