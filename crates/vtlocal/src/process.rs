//! Processes that outlive `vtlocal up --detach`: started in their own process group with output
//! to a log file, remembered by a pid file, stopped by SIGTERM (then SIGKILL) from that pid file.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// A named long-running process of the cluster.
pub struct Service<'a> {
    /// Short name, used for the log and pid file names (`vttablet-100`).
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub pid_dir: &'a Path,
    pub log_dir: &'a Path,
    /// Environment variables set for the process (on top of vtlocal's own).
    pub env: Vec<(&'static str, String)>,
}

impl Service<'_> {
    fn pid_file(&self) -> PathBuf {
        self.pid_dir.join(format!("{}.pid", self.name))
    }

    fn log_file(&self) -> PathBuf {
        self.log_dir.join(format!("{}.log", self.name))
    }

    /// Starts the process unless its pid file names a live process already.
    pub fn start(&self) -> Result<()> {
        if let Some(pid) = live_pid(&self.pid_file()) {
            println!("{} already running (pid {pid})", self.name);
            return Ok(());
        }
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .with_context(|| format!("cannot open {}", self.log_file().display()))?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {} ({})", self.name, self.program.display()))?;
        fs::write(self.pid_file(), child.id().to_string())?;
        println!(
            "started {} (pid {}), log {}",
            self.name,
            child.id(),
            self.log_file().display()
        );
        Ok(())
    }

    /// Fails with the tail of the log when the process has exited.
    pub fn check_alive(&self) -> Result<()> {
        if live_pid(&self.pid_file()).is_none() {
            bail!(
                "{} exited; last lines of {}:\n{}",
                self.name,
                self.log_file().display(),
                tail(&self.log_file(), 20)
            );
        }
        Ok(())
    }
}

/// Runs a command to completion, failing with its output when it fails.
pub fn run(program: &Path, args: &[String]) -> Result<String> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", program.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "{} {} failed ({}):\n{}{}",
            program.display(),
            args.join(" "),
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(stdout)
}

/// The pid in `pid_file` if that process is alive.
pub fn live_pid(pid_file: &Path) -> Option<i32> {
    let pid: i32 = fs::read_to_string(pid_file).ok()?.trim().parse().ok()?;
    // SAFETY: kill with signal 0 only checks that the process exists.
    (pid > 0 && unsafe { libc::kill(pid, 0) } == 0 && !is_zombie(pid)).then_some(pid)
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Stops the process of a pid file (SIGTERM, then SIGKILL after `grace`) and removes the file.
pub fn stop(pid_file: &Path, grace: Duration) -> Result<bool> {
    let Some(pid) = live_pid(pid_file) else {
        let _ = fs::remove_file(pid_file);
        return Ok(false);
    };
    // SAFETY: signalling a pid we started; a stale pid was filtered out by live_pid.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + grace;
    while live_pid(pid_file).is_some() {
        if Instant::now() > deadline {
            // SAFETY: as above.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            std::thread::sleep(Duration::from_millis(200));
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    fs::remove_file(pid_file).ok();
    Ok(true)
}

/// Waits until something accepts TCP connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16, timeout: Duration, service: &Service<'_>) -> Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
            return Ok(());
        }
        service.check_alive()?;
        if Instant::now() > deadline {
            bail!(
                "{} did not open port {port} within {timeout:?}",
                service.name
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits until `GET /debug/health` on `127.0.0.1:port` answers 200. A vttablet binds its ports
/// before it opens MariaDB and registers in the topology, so an open port is not enough before
/// a reparent: the tablet answers its health check once it is registered and serving.
pub fn wait_for_health(port: u16, timeout: Duration, service: &Service<'_>) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if health_ok(port) {
            return Ok(());
        }
        service.check_alive()?;
        if Instant::now() > deadline {
            bail!(
                "{} did not answer /debug/health on port {port} within {timeout:?}",
                service.name
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One `GET /debug/health`; true on a 200 answer.
fn health_ok(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let request = "GET /debug/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .is_err()
        || stream.write_all(request.as_bytes()).is_err()
    {
        return false;
    }
    let mut status = [0u8; 12];
    stream.read_exact(&mut status).is_ok() && status.ends_with(b" 200")
}

/// Retries `f` until it succeeds or `timeout` passes, returning the last error.
pub fn retry<T>(timeout: Duration, mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// The last `lines` lines of the log at `path`, leaving out the stack backtrace an `anyhow`
/// error ends with under `RUST_BACKTRACE=1`, which would otherwise hide the error itself.
fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let text = text
        .rfind("\nStack backtrace:")
        .map_or(text.as_str(), |end| &text[..end]);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Blocks until SIGINT or SIGTERM.
pub fn wait_for_interrupt() {
    // SAFETY: plain sigset manipulation on a local set; sigwait blocks this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let mut signal = 0;
        libc::sigwait(&set, &mut signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A service whose pid file names this (live) test process.
    fn this_process(dir: &Path) -> Service<'_> {
        fs::write(dir.join("tablet.pid"), std::process::id().to_string()).expect("pid file");
        Service {
            name: "tablet".into(),
            program: PathBuf::from("unused"),
            args: Vec::new(),
            pid_dir: dir,
            log_dir: dir,
            env: Vec::new(),
        }
    }

    #[test]
    fn a_log_tail_shows_the_error_not_its_backtrace() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("x.log");
        let frames: Vec<String> = (0..40).map(|i| format!("  {i}: frame")).collect();
        let text = format!(
            "starting\nError: cannot bind 127.0.0.1:17102\n\nStack backtrace:\n{}\n",
            frames.join("\n")
        );
        fs::write(&log, text).expect("log");
        assert_eq!(
            tail(&log, 20),
            "starting\nError: cannot bind 127.0.0.1:17102"
        );
        fs::write(&log, "a\nb\nc\n").expect("log");
        assert_eq!(tail(&log, 2), "b\nc");
    }

    #[test]
    fn an_open_port_is_not_health() {
        let dir = tempfile::tempdir().expect("tempdir");
        let service = this_process(dir.path());
        // Bound and listening, as a vttablet is before it registers: connections are
        // accepted by the kernel, but nothing answers.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        wait_for_port(port, Duration::from_secs(5), &service).expect("the port is open");
        let err = wait_for_health(port, Duration::from_millis(500), &service)
            .expect_err("no health answer yet");
        assert!(err.to_string().contains("/debug/health"), "{err:#}");
    }

    #[test]
    fn health_waits_for_the_answer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let service = this_process(dir.path());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let answered = Instant::now() + Duration::from_millis(700);
        let server = std::thread::spawn(move || {
            std::thread::sleep(answered - Instant::now());
            for stream in listener.incoming().take(3) {
                let mut stream = stream.expect("accept");
                let mut request = [0u8; 256];
                let n = stream.read(&mut request).unwrap_or(0);
                let ok = request[..n].starts_with(b"GET /debug/health ");
                let status = if ok { "200 OK" } else { "404 Not Found" };
                let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                if ok {
                    return;
                }
            }
        });
        wait_for_health(port, Duration::from_secs(10), &service).expect("healthy");
        assert!(
            Instant::now() >= answered,
            "returned before the tablet answered"
        );
        server.join().expect("server thread");
    }
}
