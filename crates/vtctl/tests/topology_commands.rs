//! `vtctl` against a real etcd: each command is run as the real binary, and its effect is read
//! back through the topo crate (Vitess's keys, binary protobuf values).

use std::process::Command;

use proto::topodata::TabletType;
use topo::testutil::EtcdProcess;
use topo::TopoServer;

fn vtctl(etcd: &EtcdProcess, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vtctl"))
        .args(["--topo-server", &etcd.address()])
        .args(args)
        .output()
        .expect("run vtctl");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn config(name: &str) -> String {
    format!("{}/../../config/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test(flavor = "multi_thread")]
async fn keyspace_vschema_and_tablet_controls_round_trip_through_etcd() {
    let etcd = EtcdProcess::start().expect("start etcd");
    let (ok, _, err) = vtctl(&etcd, &["AddCellInfo", "--root", "/vitess/zone1", "zone1"]);
    assert!(ok, "AddCellInfo: {err}");
    let (ok, out, err) = vtctl(&etcd, &["CreateKeyspace", "commerce"]);
    assert!(ok, "CreateKeyspace: {err}");
    assert!(out.contains("commerce"));
    let (ok, _, err) = vtctl(&etcd, &["CreateKeyspace", "commerce"]);
    assert!(!ok && !err.is_empty(), "a second CreateKeyspace must fail");
    let (ok, _, err) = vtctl(&etcd, &["CreateKeyspace", "--if-not-exists", "commerce"]);
    assert!(ok, "--if-not-exists: {err}");
    let (ok, out, _) = vtctl(&etcd, &["GetKeyspaces"]);
    assert!(ok);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["commerce"]);

    // ApplyVSchema stores the keyspace VSchema and rebuilds the cell's SrvVSchema.
    let (ok, _, err) = vtctl(
        &etcd,
        &[
            "ApplyVSchema",
            "--vschema-file",
            &config("vschema_commerce_initial.json"),
            "commerce",
        ],
    );
    assert!(ok, "ApplyVSchema: {err}");
    let ts = TopoServer::connect_etcd(&etcd.address(), "/vitess/global")
        .await
        .expect("topo");
    let stored = ts.get_vschema("commerce").await.expect("vschema");
    let mut tables: Vec<&String> = stored.tables.keys().collect();
    tables.sort();
    assert_eq!(tables, ["corder", "customer", "product"]);
    let srv = ts.get_srv_vschema("zone1").await.expect("srv vschema");
    assert!(srv.keyspaces.contains_key("commerce"));

    // A VSchema naming an unknown vindex type is refused and nothing is stored.
    let bad = r#"{"sharded": true, "vindexes": {"h": {"type": "no_such_vindex"}}, "tables": {"t": {"column_vindexes": [{"column": "id", "name": "h"}]}}}"#;
    let (ok, _, err) = vtctl(&etcd, &["ApplyVSchema", "--vschema", bad, "commerce"]);
    assert!(!ok, "a bad vschema must be refused");
    assert!(
        err.contains("no_such_vindex"),
        "error names the vindex type: {err}"
    );
    assert!(!ts.get_vschema("commerce").await.expect("vschema").sharded);

    // Denied tables per tablet type, added and removed.
    let (ok, _, err) = vtctl(&etcd, &["CreateShard", "commerce/0"]);
    assert!(ok, "CreateShard: {err}");
    let (ok, _, err) = vtctl(
        &etcd,
        &[
            "SetShardTabletControl",
            "--denied-tables",
            "customer,corder",
            "commerce/0",
            "rdonly",
        ],
    );
    assert!(ok, "SetShardTabletControl: {err}");
    let shard = ts.get_shard("commerce", "0").await.expect("shard");
    assert_eq!(shard.tablet_controls.len(), 1);
    assert_eq!(
        shard.tablet_controls[0].tablet_type,
        TabletType::Rdonly as i32
    );
    assert_eq!(
        shard.tablet_controls[0].denied_tables,
        ["customer", "corder"]
    );
    let (ok, _, err) = vtctl(
        &etcd,
        &["SetShardTabletControl", "--remove", "commerce/0", "rdonly"],
    );
    assert!(ok, "remove: {err}");
    assert!(ts
        .get_shard("commerce", "0")
        .await
        .expect("shard")
        .tablet_controls
        .is_empty());

    // ApplySchema needs a primary: refused cleanly on a shard without one.
    let (ok, _, err) = vtctl(
        &etcd,
        &["ApplySchema", "--sql", "create table t(id int)", "commerce"],
    );
    assert!(
        !ok && err.contains("no primary"),
        "ApplySchema without primary: {err}"
    );
}
