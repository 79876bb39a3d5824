//! Helpers for vtlocal's end-to-end tests: run `vtlocal` on free ports, stop it on drop, run
//! the `mariadb` CLI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Port offsets a test cluster may take. One cluster's ports span 2379..=2380, 15001,
/// 15306 and 15100..=17599 (tablet uids 100..=599) plus its offset, so offsets 3,000 apart
/// never share a port with each other, with an unshifted cluster (`vtlocal up` on the
/// default ports) or with the ephemeral range (from 32768).
const SLOTS: [u16; 5] = [3_000, 6_000, 9_000, 12_000, 15_000];

/// A port offset held for one test cluster until dropped: a lock on a file per slot keeps
/// concurrent test processes (other test binaries, other clones on this machine) apart,
/// since a cluster opens ports long after it is placed (shards added later), and a free-port
/// check alone cannot see those. The kernel drops the lock when the process dies.
pub struct PortSlot {
    pub offset: u16,
    _lock: std::fs::File,
}

/// The first slot whose lock this process gets and at which all of `ports` are free; waits
/// (up to ten minutes) while every slot is taken.
pub fn reserve_port_offset(ports: &[u16]) -> PortSlot {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        for offset in SLOTS {
            let path = std::env::temp_dir().join(format!("vtlocal-test-ports-{offset}.lock"));
            let Ok(file) = std::fs::File::create(&path) else {
                continue;
            };
            if file.try_lock().is_err() {
                continue;
            }
            let free = ports
                .iter()
                .all(|p| std::net::TcpListener::bind(("127.0.0.1", p + offset)).is_ok());
            if free {
                return PortSlot {
                    offset,
                    _lock: file,
                };
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no free port slot for the test cluster"
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `vtlocal` with a data root and port offset.
pub fn vtlocal(dataroot: &Path, offset: u16, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vtlocal"))
        .arg("--dataroot")
        .arg(dataroot)
        .args(["--port-offset", &offset.to_string()])
        .args(args)
        .output()
        .expect("run vtlocal")
}

/// `vtlocal up --detach [extra...] --config-dir <workspace config>`, asserting it succeeded;
/// the returned guard stops the cluster (also when that assertion fails).
pub fn up<'a>(dataroot: &'a Path, offset: u16, extra: &[&str]) -> Down<'a> {
    let config = workspace_root().join("config");
    let mut args = vec!["up", "--detach"];
    args.extend_from_slice(extra);
    args.extend(["--config-dir", config.to_str().expect("utf-8 path")]);
    let out = vtlocal(dataroot, offset, &args);
    let down = Down(dataroot, offset);
    assert!(
        out.status.success(),
        "vtlocal up failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    down
}

/// Stops the cluster even when an assertion fails half-way.
pub struct Down<'a>(pub &'a Path, pub u16);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let out = vtlocal(self.0, self.1, &["down"]);
        eprintln!("vtlocal down: {}", String::from_utf8_lossy(&out.stdout));
    }
}

/// Runs the `mariadb` CLI with `sql` on stdin; returns (success, stdout, stderr).
pub fn mariadb(port: &str, extra: &[&str], sql: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", port, "-u", "root"])
        .args(extra)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run mariadb");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("write sql");
    let out = child.wait_with_output().expect("mariadb output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A file of the workspace's `config/`.
pub fn read_config(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join("config").join(name)).expect("config file")
}
pub mod writer;
