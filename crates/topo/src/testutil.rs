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
            client_port: free_port(),
            peer_port: free_port(),
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

/// A port on 127.0.0.1 that nothing listens on now, for a server a test is about to start.
///
/// Not `bind(0)`: that hands out a port of the kernel's ephemeral range (32768 and up), which
/// the client side of any other connection on the machine may take before the server binds
/// it (seen as mariadbd's "Address already in use"). These come from 10000..11000 and
/// 12000..14000, below that range and outside every port slot of the `vtlocal` tests, picked
/// at random and never twice in one process.
pub fn free_port() -> u16 {
    use std::collections::BTreeSet;
    use std::hash::{BuildHasher, RandomState};
    use std::sync::Mutex;
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    const RANGES: [(u16, u16); 2] = [(10_000, 1_000), (12_000, 2_000)];
    let size: u16 = RANGES.iter().map(|(_, n)| n).sum();
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    for attempt in 0u32..10_000 {
        let mut pick =
            (RandomState::new().hash_one((std::process::id(), attempt)) % u64::from(size)) as u16;
        let port = RANGES
            .iter()
            .find_map(|&(start, n)| {
                if pick < n {
                    Some(start + pick)
                } else {
                    pick -= n;
                    None
                }
            })
            .unwrap_or(RANGES[0].0);
        if !given.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            given.insert(port);
            return port;
        }
    }
    panic!("no free port for a test server in 10000..11000 or 12000..14000");
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
