//! Errors of the tablet server and their conversion to gRPC statuses the way
//! vttablet reports them: the gRPC code is the `vtrpc.Code`, and MySQL errors
//! keep their text followed by `(errno N) (sqlstate XXXXX)` so that vtgate can
//! recover the MySQL error number and state.

use proto::vtrpc::Code;

/// Everything a tablet RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum TabletError {
    /// MariaDB refused the statement.
    #[error("{message} (errno {errno}) (sqlstate {sqlstate})")]
    Mysql {
        errno: u16,
        sqlstate: String,
        message: String,
    },
    /// The connection to MariaDB failed (not a server error).
    #[error("mysql connection error: {0}")]
    Connection(String),
    /// A Vitess-level refusal with its `vtrpc` code and text.
    #[error("{message}")]
    Vitess { code: Code, message: String },
    /// The topology server failed.
    #[error("topo error: {0}")]
    Topo(#[from] topo::Error),
    /// A local MariaDB administration step failed.
    #[error("{0}")]
    Mysqlctl(#[from] mysqlctl::Error),
    /// A VReplication stream or its sidecar tables failed.
    #[error("{0}")]
    VReplication(#[from] vreplication::Error),
}

/// Result alias of the tablet server.
pub type Result<T, E = TabletError> = std::result::Result<T, E>;

impl TabletError {
    /// A Vitess-level error.
    pub fn vitess(code: Code, message: impl Into<String>) -> Self {
        TabletError::Vitess {
            code,
            message: message.into(),
        }
    }

    /// The `vtrpc` code of this error, as vttablet's `convertErrorCode` assigns them.
    pub fn code(&self) -> Code {
        match self {
            TabletError::Mysql { errno, .. } => code_for_errno(*errno),
            TabletError::Connection(_) => Code::Unavailable,
            TabletError::Vitess { code, .. } => *code,
            TabletError::Topo(_) => Code::Unavailable,
            TabletError::Mysqlctl(_) => Code::Internal,
            TabletError::VReplication(_) => Code::Unknown,
        }
    }
}

impl From<mysql_async::Error> for TabletError {
    fn from(err: mysql_async::Error) -> Self {
        match err {
            mysql_async::Error::Server(server) => TabletError::Mysql {
                errno: server.code,
                sqlstate: server.state,
                message: server.message,
            },
            other => TabletError::Connection(other.to_string()),
        }
    }
}

/// The `vtrpc` code for a MySQL error number.
pub fn code_for_errno(errno: u16) -> Code {
    match errno {
        // Access denied, table/column access denied.
        1045 | 1142 | 1143 | 1227 | 1044 => Code::PermissionDenied,
        // Read-only server, lock wait or options preventing the statement.
        1290 | 1792 | 1836 | 1874 => Code::FailedPrecondition,
        1205 => Code::DeadlineExceeded,
        // A result over --queryserver-config-max-result-size rows.
        crate::result::MAX_ROWS_EXCEEDED => Code::ResourceExhausted,
        1213 => Code::Aborted,
        1317 | 3024 => Code::Canceled,
        1062 => Code::AlreadyExists,
        // Lost connection, server gone, too many connections.
        2006 | 2013 | 1040 | 1053 | 1927 => Code::Unavailable,
        // Syntax, schema and data errors caused by the query.
        1054 | 1064 | 1146 | 1109 | 1049 | 1048 | 1050 | 1051 | 1060 | 1061 | 1091 | 1136
        | 1149 | 1264 | 1265 | 1364 | 1366 | 1406 | 1452 | 1451 | 1007 | 1008 | 1046 => {
            Code::InvalidArgument
        }
        _ => Code::Unknown,
    }
}

/// The gRPC status code carrying a `vtrpc.Code` (vtrpc codes 0-16 are gRPC's).
pub fn grpc_code(code: Code) -> tonic::Code {
    match code {
        Code::Ok => tonic::Code::Ok,
        Code::Canceled => tonic::Code::Cancelled,
        Code::Unknown => tonic::Code::Unknown,
        Code::InvalidArgument => tonic::Code::InvalidArgument,
        Code::DeadlineExceeded => tonic::Code::DeadlineExceeded,
        Code::NotFound => tonic::Code::NotFound,
        Code::AlreadyExists => tonic::Code::AlreadyExists,
        Code::PermissionDenied => tonic::Code::PermissionDenied,
        Code::ResourceExhausted => tonic::Code::ResourceExhausted,
        Code::FailedPrecondition => tonic::Code::FailedPrecondition,
        Code::Aborted => tonic::Code::Aborted,
        Code::OutOfRange => tonic::Code::OutOfRange,
        Code::Unimplemented => tonic::Code::Unimplemented,
        Code::Internal => tonic::Code::Internal,
        Code::Unavailable => tonic::Code::Unavailable,
        Code::DataLoss => tonic::Code::DataLoss,
        Code::Unauthenticated => tonic::Code::Unauthenticated,
        // Vitess sends its own codes beyond gRPC's as-is; tonic has no
        // variant for them, so they travel as their closest gRPC meaning.
        Code::ClusterEvent => tonic::Code::Unavailable,
        Code::ReadOnly => tonic::Code::FailedPrecondition,
    }
}

impl TabletError {
    /// The gRPC status vtgate receives, with ` (CallerID: <user>)` appended as
    /// vttablet's `convertAndLogError` does when a caller is known.
    pub fn into_status(self, caller: Option<&str>) -> tonic::Status {
        let code = grpc_code(self.code());
        let mut message = self.to_string();
        if let Some(user) = caller.filter(|u| !u.is_empty()) {
            message.push_str(&format!(" (CallerID: {user})"));
        }
        tonic::Status::new(code, message)
    }
}

impl From<TabletError> for tonic::Status {
    fn from(err: TabletError) -> Self {
        err.into_status(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_errors_keep_errno_and_sqlstate() {
        let err = TabletError::Mysql {
            errno: 1146,
            sqlstate: "42S02".into(),
            message: "Table 'vt_x.nope' doesn't exist".into(),
        };
        let status = err.into_status(Some("userData1"));
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            status.message(),
            "Table 'vt_x.nope' doesn't exist (errno 1146) (sqlstate 42S02) (CallerID: userData1)"
        );
    }

    #[test]
    fn vitess_errors_keep_their_code() {
        let err = TabletError::vitess(
            Code::FailedPrecondition,
            "disallowed due to rule: enforce denied tables",
        );
        let status: tonic::Status = err.into();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert_eq!(
            status.message(),
            "disallowed due to rule: enforce denied tables"
        );
        assert_eq!(code_for_errno(1062), Code::AlreadyExists);
        assert_eq!(code_for_errno(1105), Code::Unknown);
    }
}
