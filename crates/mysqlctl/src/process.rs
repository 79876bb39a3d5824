//! Operating-system plumbing for `mariadbd` processes: pid files, liveness
//! through `/proc`, signals, the SIGTERM-then-SIGKILL shutdown sequence, and
//! the log tail quoted in start errors.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

/// How often shutdown and startup poll the process.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long to wait for the process to vanish after SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(10);

/// Lines of log quoted in a start error.
const LOG_TAIL_LINES: usize = 30;

/// True when this process runs with effective uid 0; `mariadbd` then needs `--user=root`.
pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The pid stored in a `mariadbd` pid file, if the file exists and holds a positive number.
pub(crate) fn read_pid_file(path: &Path) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    text.trim().parse::<i32>().ok().filter(|pid| *pid > 0)
}

/// True when `pid` is a live (not zombie) process named `mariadbd` or `mysqld`.
///
/// Checking the name guards against a stale pid file whose pid was reused.
pub(crate) fn is_live_mariadbd(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // Format: "<pid> (<comm>) <state> ...", where comm may itself contain ')'.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].trim_start().chars().next();
    matches!(comm, "mariadbd" | "mysqld") && !matches!(state, Some('Z' | 'X' | 'x'))
}

/// Sends `signal` to the single process `pid` (never to a group: `pid` must be positive).
pub(crate) fn send_signal(pid: i32, signal: libc::c_int) -> std::io::Result<()> {
    if pid <= 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refusing to signal pid {pid}"),
        ));
    }
    // SAFETY: kill has no memory-safety preconditions; pid > 0 targets one process.
    if unsafe { libc::kill(pid, signal) } == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        // Already gone: that is what the caller wanted.
        return Ok(());
    }
    Err(err)
}

/// What a shutdown poll decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShutdownStep {
    /// The process has exited.
    Exited,
    /// Still alive: poll again after this long.
    Wait(Duration),
    /// Still alive even after SIGKILL and its grace period.
    GaveUp,
}

/// SIGTERM, wait up to a grace period, then SIGKILL and wait again.
///
/// The caller polls with [`Shutdown::step`], passing whether the process is still
/// alive, and sleeps in whatever way suits it (async or blocking).
#[derive(Debug)]
pub(crate) struct Shutdown {
    pid: i32,
    term_deadline: Instant,
    kill_deadline: Option<Instant>,
}

impl Shutdown {
    /// Sends SIGTERM (which `mariadbd` handles as a clean shutdown).
    pub(crate) fn begin(pid: i32, grace: Duration) -> std::io::Result<Self> {
        send_signal(pid, libc::SIGTERM)?;
        Ok(Shutdown {
            pid,
            term_deadline: Instant::now() + grace,
            kill_deadline: None,
        })
    }

    /// Advances the sequence given the current liveness of the process.
    pub(crate) fn step(&mut self, alive: bool) -> std::io::Result<ShutdownStep> {
        if !alive {
            return Ok(ShutdownStep::Exited);
        }
        let now = Instant::now();
        match self.kill_deadline {
            Some(deadline) if now >= deadline => return Ok(ShutdownStep::GaveUp),
            Some(_) => {}
            None if now >= self.term_deadline => {
                tracing::warn!(pid = self.pid, "mariadbd ignored SIGTERM; sending SIGKILL");
                send_signal(self.pid, libc::SIGKILL)?;
                self.kill_deadline = Some(now + KILL_GRACE);
            }
            None => {}
        }
        Ok(ShutdownStep::Wait(POLL_INTERVAL))
    }
}

/// Where the logs ended before a start, so a failure quotes only what that start wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogMark {
    error_log_len: u64,
}

impl LogMark {
    /// Records the current length of the error log (0 when it does not exist yet).
    pub(crate) fn capture(error_log: &Path) -> Self {
        LogMark {
            error_log_len: fs::metadata(error_log).map(|m| m.len()).unwrap_or(0),
        }
    }

    /// The last lines written since the mark to the error log, followed by the
    /// console output (which holds errors raised before the error log is open).
    pub(crate) fn tail(&self, error_log: &Path, console_log: &Path) -> String {
        let mut text = read_from(error_log, self.error_log_len);
        let console = read_from(console_log, 0);
        if !console.trim().is_empty() {
            text.push_str(&console);
        }
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let start = lines.len().saturating_sub(LOG_TAIL_LINES);
        if lines.is_empty() {
            return "(no log output)".to_owned();
        }
        lines[start..].join("\n")
    }
}

/// The contents of `path` from byte `offset` on (from the start if the file shrank).
fn read_from(path: &Path, offset: u64) -> String {
    let Ok(mut file) = fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let offset = if offset > len { 0 } else { offset };
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(offset)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_file_parsing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mysql.pid");
        assert_eq!(read_pid_file(&path), None);
        fs::write(&path, "1234\n").unwrap();
        assert_eq!(read_pid_file(&path), Some(1234));
        for bad in ["0\n", "-5\n", "abc", ""] {
            fs::write(&path, bad).unwrap();
            assert_eq!(read_pid_file(&path), None, "{bad:?}");
        }
    }

    #[test]
    fn liveness_checks_the_process_name() {
        // The test binary itself is alive but is not a mariadbd.
        assert!(!is_live_mariadbd(std::process::id() as i32));
        assert!(!is_live_mariadbd(i32::MAX));
    }

    #[test]
    fn refuses_to_signal_groups() {
        assert!(send_signal(0, libc::SIGTERM).is_err());
        assert!(send_signal(-1, libc::SIGTERM).is_err());
    }

    #[test]
    fn shutdown_reports_exit_immediately() {
        let mut shutdown = Shutdown {
            pid: i32::MAX,
            term_deadline: Instant::now() + Duration::from_secs(60),
            kill_deadline: None,
        };
        assert_eq!(
            shutdown.step(true).unwrap(),
            ShutdownStep::Wait(POLL_INTERVAL)
        );
        assert_eq!(shutdown.step(false).unwrap(), ShutdownStep::Exited);
    }

    #[test]
    fn log_tail_skips_lines_before_the_mark() {
        let dir = tempfile::tempdir().unwrap();
        let error_log = dir.path().join("error.log");
        let console = dir.path().join("mariadbd.out");
        fs::write(&error_log, "old run line\n").unwrap();
        let mark = LogMark::capture(&error_log);
        assert_eq!(mark.tail(&error_log, &console), "(no log output)");
        let mut content = fs::read_to_string(&error_log).unwrap();
        for i in 0..40 {
            content.push_str(&format!("new line {i}\n"));
        }
        fs::write(&error_log, content).unwrap();
        fs::write(&console, "console says hi\n").unwrap();
        let tail = mark.tail(&error_log, &console);
        assert!(!tail.contains("old run line"));
        assert!(!tail.contains("new line 10\n"));
        assert!(tail.contains("new line 39"));
        assert!(tail.ends_with("console says hi"));
        assert_eq!(tail.lines().count(), LOG_TAIL_LINES);
    }
}
