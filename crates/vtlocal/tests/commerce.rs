//! The user's first story, end to end with real processes: `vtlocal up` brings up etcd, three
//! MariaDB instances, the commerce tablets and vtgate; the `mariadb` CLI then runs Vitess's example
//! inserts and selects through vtgate, and the output must equal the same files run against one
//! plain MariaDB database. Then the replica's vttablet is killed: `@replica` reads fail with a
//! clear error while primary and rdonly reads go on, and `vtlocal up` brings it back without
//! restarting vtgate.
//!
//! Needs every binary of the workspace built (`cargo build --workspace --bins`, as scripts/test.sh
//! does), etcd and the MariaDB server binaries, and the machine's MariaDB on 127.0.0.1:3306 as the
//! reference.

mod support;

use std::path::Path;
use std::process::Command;

use support::{mariadb, read_config, vtlocal, workspace_root};

/// Every port the cluster of this test uses, before `--port-offset` (see vtlocal's `cluster.rs`).
const BASE_PORTS: [u16; 13] = [
    2379, 2380, 15306, 15001, 15100, 15101, 15102, 16100, 16101, 16102, 17100, 17101, 17102,
];

#[test]
fn commerce_example_through_vtgate_matches_one_mariadb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dataroot = dir.path().join("vtdataroot");
    let config = workspace_root().join("config");
    let slot = support::reserve_port_offset(&BASE_PORTS);
    let offset = slot.offset;
    let vtgate_port = (15306 + offset).to_string();
    let vtgate = vtgate_port.as_str();
    let _down = support::up(&dataroot, offset, &[]);

    // The reference: the same files against one plain database on the machine's MariaDB.
    let reference_db = format!("vtlocal_ref_{}", std::process::id());
    let schema = read_config("create_commerce_schema.sql");
    let inserts = read_config("insert_commerce_data.sql");
    let selects = read_config("select_commerce_data.sql");
    let (ok, _, err) = mariadb(
        "3306",
        &[],
        &format!("drop database if exists {reference_db}; create database {reference_db}; use {reference_db};\n{schema}\n{inserts}"),
    );
    assert!(ok, "reference setup failed: {err}");
    let (ok, expected, err) = mariadb(
        "3306",
        &["--table"],
        &selects.replace("use commerce;", &format!("use {reference_db};")),
    );
    assert!(ok, "reference select failed: {err}");
    mariadb("3306", &[], &format!("drop database {reference_db}"));

    // Through vtgate, with no database selected for the inserts, as the Vitess example does.
    let (ok, _, err) = mariadb(vtgate, &[], &inserts);
    assert!(ok, "inserts through vtgate failed: {err}");
    let (ok, actual, err) = mariadb(vtgate, &["--table"], &selects);
    assert!(ok, "selects through vtgate failed: {err}");
    assert_eq!(actual, expected, "vtgate output differs from one MariaDB");

    let (ok, out, err) = mariadb(vtgate, &["-N"], "show databases");
    assert!(
        ok && out.lines().any(|l| l == "commerce"),
        "show databases: {out} {err}"
    );
    let (ok, out, err) = mariadb(vtgate, &["-N"], "use commerce/0; show tables");
    assert!(ok, "show tables: {err}");
    let mut tables: Vec<&str> = out.lines().collect();
    tables.sort_unstable();
    assert_eq!(tables, ["corder", "customer", "product"]);

    // Replicas and rdonly tablets serve the rows written through the primary (real replication).
    for target in ["commerce@replica", "commerce@rdonly"] {
        let sql = format!("use `{target}`; select count(*) from customer");
        let out = retry_until(|| {
            let (ok, out, _) = mariadb(vtgate, &["-N"], &sql);
            (ok && out.trim() == "5").then_some(out)
        });
        assert!(out.is_some(), "{target} never showed the 5 customers");
    }
    let (ok, _, err) = mariadb(
        vtgate,
        &[],
        "use `commerce@replica`; insert into product(sku) values ('SKU-X')",
    );
    assert!(
        !ok && err.contains("replica"),
        "a write through @replica must be refused: {err}"
    );

    replica_killed_and_restarted(&dataroot, offset, vtgate, &config);
}

/// Kills the replica's vttablet (uid 101) and restarts it with `vtlocal up`.
fn replica_killed_and_restarted(dataroot: &Path, offset: u16, vtgate: &str, config: &Path) {
    let pid_of = |name: &str| {
        std::fs::read_to_string(dataroot.join("pids").join(format!("{name}.pid")))
            .unwrap_or_else(|e| panic!("pid file of {name}: {e}"))
            .trim()
            .to_string()
    };
    let vtgate_pid = pid_of("vtgate");
    let killed = Command::new("kill")
        .args(["-9", &pid_of("vttablet-101")])
        .status()
        .expect("kill");
    assert!(killed.success());

    let replica_read = "use `commerce@replica`; select count(*) from customer";
    let err = retry_until(|| {
        let (ok, _, err) = mariadb(vtgate, &["-N"], replica_read);
        (!ok && err.contains("no healthy tablet available")).then_some(err)
    })
    .expect("@replica reads never failed after the replica tablet was killed");
    assert!(
        err.contains("ERROR 1105 (HY000)") && err.contains("target: commerce.0.replica: "),
        "unclear error for a dead replica: {err}"
    );
    for target in ["commerce", "commerce@rdonly"] {
        let sql = format!("use `{target}`; select count(*) from customer");
        let (ok, out, err) = mariadb(vtgate, &["-N"], &sql);
        assert!(
            ok && out.trim() == "5",
            "{target} reads must go on while the replica is down: {out} {err}"
        );
    }

    let up = vtlocal(
        dataroot,
        offset,
        &[
            "up",
            "--detach",
            "--config-dir",
            config.to_str().expect("utf-8 path"),
        ],
    );
    assert!(
        up.status.success(),
        "vtlocal up (restart) failed:\n{}\n{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    let back = retry_until(|| {
        let (ok, out, _) = mariadb(vtgate, &["-N"], replica_read);
        (ok && out.trim() == "5").then_some(())
    });
    assert!(back.is_some(), "@replica reads did not come back");
    assert_eq!(pid_of("vtgate"), vtgate_pid, "vtgate was restarted");
}

fn retry_until<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..40 {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    None
}
