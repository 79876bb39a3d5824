//! The error type returned by every fallible operation of this crate.

use std::path::PathBuf;
use std::time::Duration;

use crate::position::PositionParseError;

/// Everything that can go wrong while managing a local `mariadbd`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot work (for example a socket path longer than the kernel allows).
    #[error("invalid mysqld configuration: {0}")]
    InvalidConfig(String),

    /// A file system operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A helper program could not be executed at all.
    #[error("cannot run {}: {source}", program.display())]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `mariadb-install-db` ran but failed.
    #[error("mariadb-install-db failed for {}: {status}\n{output}", data_dir.display())]
    InstallDb {
        data_dir: PathBuf,
        status: String,
        output: String,
    },

    /// `mariadbd` exited or never became reachable while starting.
    #[error("mariadbd for tablet uid {uid} did not start: {reason}\n--- mariadbd log tail ---\n{log_tail}")]
    StartFailed {
        uid: u32,
        reason: String,
        log_tail: String,
    },

    /// `mariadbd` was still alive after SIGTERM, SIGKILL and the grace periods.
    #[error("mariadbd for tablet uid {uid} (pid {pid}) did not exit")]
    StopFailed { uid: u32, pid: i32 },

    /// The server refused or failed a query, or the connection broke.
    #[error("mysql error on tablet uid {uid}: {source}")]
    Mysql {
        uid: u32,
        #[source]
        source: mysql_async::Error,
    },

    /// A statement on a caller's connection failed.
    #[error("mysql error: {0}")]
    Query(#[from] mysql_async::Error),

    /// `MASTER_GTID_WAIT` did not reach the position in time.
    #[error("server did not reach position {position} within {timeout:?}")]
    WaitTimeout { position: String, timeout: Duration },

    /// A replication position could not be parsed.
    #[error(transparent)]
    Position(#[from] PositionParseError),
}

impl Error {
    /// Wraps an I/O error with what was being done and to which path.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
