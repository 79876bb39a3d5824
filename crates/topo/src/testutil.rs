//! Test helper (feature `testutil`): a real etcd server on free loopback
//! ports with its data in a temporary directory, killed on drop.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of the etcd binary (Debian's `etcd-server`).
pub const ETCD_BINARY: &str = "/usr/bin/etcd";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running etcd; `stop` and `restart` keep its ports and data.
pub struct EtcdProcess {
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

impl EtcdProcess {
    /// Starts etcd on free ports of 127.0.0.1 and waits until it is healthy.
    pub fn start() -> io::Result<EtcdProcess> {
        let mut etcd = EtcdProcess {
            dir: tempfile::Builder::new().prefix("topo-etcd-").tempdir()?,
            client_port: free_port()?,
            peer_port: free_port()?,
            child: None,
        };
        etcd.restart()?;
        Ok(etcd)
    }

    /// `127.0.0.1:<client port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    /// Kills etcd (as an outage would); the data stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts etcd again on the same ports and data, and waits until it is
    /// healthy. Stops it first if it is running.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let client_url = format!("http://127.0.0.1:{}", self.client_port);
        let peer_url = format!("http://127.0.0.1:{}", self.peer_port);
        let log = File::create(self.dir.path().join("etcd.log"))?;
        let child = Command::new(ETCD_BINARY)
            .arg("--name=topo-test")
            .arg(format!(
                "--data-dir={}",
                self.dir.path().join("data").display()
            ))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=topo-test={peer_url}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        self.wait_healthy()
    }

    /// The directory holding etcd's data and `etcd.log`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn wait_healthy(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    return Err(io::Error::other(format!(
                        "etcd exited with {status}; see {}",
                        self.dir.path().join("etcd.log").display()
                    )));
                }
            }
            if health_ok(self.client_port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "etcd did not become healthy in time",
        ))
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Asks etcd's `/health` endpoint.
fn health_ok(port: u16) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
    let request = format!("GET /health HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
    if conn.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = conn.read_to_string(&mut response);
    response.contains("\"health\":\"true\"")
}
