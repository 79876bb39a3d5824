//! Processes that outlive `vtlocal up --detach`: started in their own process group with output
//! to a log file, remembered by a pid file, stopped by SIGTERM (then SIGKILL) from that pid file.

use std::fs;
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

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
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
