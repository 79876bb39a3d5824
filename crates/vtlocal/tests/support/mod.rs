//! Helpers for vtlocal's end-to-end tests: run `vtlocal` on free ports, stop it on drop, run
//! the `mariadb` CLI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The first offset (a multiple of 100 from 10000, every port below the ephemeral range) at
/// which all of `ports` are free.
pub fn free_port_offset(ports: &[u16]) -> u16 {
    (10_000..15_000)
        .step_by(100)
        .find(|offset| {
            ports
                .iter()
                .all(|p| std::net::TcpListener::bind(("127.0.0.1", p + offset)).is_ok())
        })
        .expect("no free port range for the test cluster")
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
