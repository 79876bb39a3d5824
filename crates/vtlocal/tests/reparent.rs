//! PlannedReparentShard under traffic, with real processes: `vtlocal up` (commerce/0 primary
//! 100, replica 101, rdonly 102; vtgate with `--enable-buffer`), a client writing transactions
//! through vtgate the whole time, `vtctl PlannedReparentShard` to the replica and back. vtgate
//! is never restarted: it must send writes to the new primary on its own (StreamHealth), a
//! write right after each switch must succeed, and at the end exactly the acknowledged writes
//! are visible through vtgate, on the primary and on the rdonly tablet.
//!
//! Needs every binary of the workspace built (`cargo build --workspace --bins`), etcd and the
//! MariaDB server binaries.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mysql_async::{Conn, OptsBuilder};
use support::writer::{opts, Model, Writer};
use support::{mariadb, read_config};

/// Every port the cluster of this test uses, before `--port-offset` (see vtlocal's `cluster.rs`).
const BASE_PORTS: [u16; 13] = [
    2379, 2380, 15306, 15001, 15100, 15101, 15102, 16100, 16101, 16102, 17100, 17101, 17102,
];

#[test]
fn planned_reparent_under_traffic_through_vtgate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataroot = dir.path().join("vtdataroot");
    let slot = support::reserve_port_offset(&BASE_PORTS);
    let offset = slot.offset;
    let vtgate_port = 15306 + offset;
    let vtgate = vtgate_port.to_string();
    let _down = support::up(&dataroot, offset, &[]);
    let (ok, _, err) = mariadb(&vtgate, &[], &read_config("insert_commerce_data.sql"));
    assert!(ok, "inserts through vtgate failed: {err}");
    let vtgate_pid = pid_of(&dataroot, "vtgate");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Through vtgate (no database: the VSchema resolves the tables), or one tablet's MariaDB.
    let read_db = |port: u16, db: Option<&str>| {
        let opts = OptsBuilder::from_opts(opts(port)).db_name(db);
        rt.block_on(async {
            let mut conn = Conn::new(opts).await.expect("connect");
            Model::read(&mut conn).await.expect("read")
        })
    };
    let read = |port: u16| read_db(port, None);
    let read_tablet = |uid: u16| read_db(17000 + uid + offset, Some("vt_commerce"));
    let writer = Writer::start(vtgate_port, read(vtgate_port));
    std::thread::sleep(Duration::from_secs(1));

    for (new_primary, sku) in [
        ("zone1-0000000101", "SKU-PRS-1"),
        ("zone1-0000000100", "SKU-PRS-2"),
    ] {
        let started = Instant::now();
        vtctl_ok(
            &dataroot,
            offset,
            &[
                "PlannedReparentShard",
                "--new-primary",
                new_primary,
                "commerce/0",
            ],
        );
        eprintln!("PRS to {new_primary} took {:?}", started.elapsed());
        let (ok, _, err) = mariadb(
            &vtgate,
            &[],
            &format!(
                "insert into product(sku, description, price) values ('{sku}', 'after PRS', 1)"
            ),
        );
        assert!(ok, "a write right after PRS to {new_primary} failed: {err}");
        std::thread::sleep(Duration::from_secs(1));
    }

    let report = writer.stop();
    eprintln!(
        "writer: {} transactions committed, {} reported failed: {:#?}",
        report.committed, report.failed, report.errors
    );
    assert!(report.committed > 10, "the writer hardly wrote");
    assert_eq!(
        pid_of(&dataroot, "vtgate"),
        vtgate_pid,
        "vtgate was restarted"
    );
    let seen = read(vtgate_port);
    assert!(
        seen == report.model,
        "through vtgate: acknowledged writes differ"
    );
    // The primary's MariaDB (100 again) and the rdonly's (102, which followed both switches).
    assert!(read_tablet(100) == report.model, "on the primary");
    let deadline = Instant::now() + Duration::from_secs(30);
    while read_tablet(102) != report.model {
        assert!(Instant::now() < deadline, "the rdonly never caught up");
        std::thread::sleep(Duration::from_millis(250));
    }
    let (ok, out, err) = mariadb(
        &vtgate,
        &["-N"],
        "use commerce; select count(*) from product where sku like 'SKU-PRS-%'",
    );
    assert!(ok && out.trim() == "2", "{out} {err}");
}

/// The pid `vtlocal` recorded for process `name`.
fn pid_of(dataroot: &Path, name: &str) -> String {
    std::fs::read_to_string(dataroot.join("pids").join(format!("{name}.pid")))
        .unwrap_or_else(|e| panic!("pid file of {name}: {e}"))
        .trim()
        .to_string()
}

/// Runs the `vtctl` binary built next to `vtlocal` against the cluster; fails the test when it
/// fails.
fn vtctl_ok(dataroot: &Path, offset: u16, args: &[&str]) {
    let bin = Path::new(env!("CARGO_BIN_EXE_vtlocal")).with_file_name("vtctl");
    let out = Command::new(bin)
        .args(["--topo-server", &format!("127.0.0.1:{}", 2379 + offset)])
        .args(args)
        .output()
        .expect("run vtctl");
    assert!(
        out.status.success(),
        "vtctl {args:?} failed ({}):\n{}\n{}",
        dataroot.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
