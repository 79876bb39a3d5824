//! vtgate's error type: every failure knows the MySQL errno, SQLSTATE and message the client
//! sees, following Vitess's texts and its mapping (`sqlerror.NewSQLErrorFromError`).

use mysql_server::error::SqlError as WireError;

/// MySQL error numbers vtgate sends.
pub mod errno {
    /// ER_UNKNOWN_ERROR.
    pub const UNKNOWN: u16 = 1105;
    /// ER_NO_DB_ERROR.
    pub const NO_DB: u16 = 1046;
    /// ER_BAD_DB_ERROR.
    pub const BAD_DB: u16 = 1049;
    /// ER_UNKNOWN_TABLE.
    pub const UNKNOWN_TABLE: u16 = 1109;
    /// ER_INNODB_READ_ONLY.
    pub const INNODB_READ_ONLY: u16 = 1874;
    /// ER_QUERY_INTERRUPTED.
    pub const QUERY_INTERRUPTED: u16 = 1317;
    /// ER_ACCESS_DENIED_ERROR.
    pub const ACCESS_DENIED: u16 = 1045;
    /// ER_NOT_SUPPORTED_YET.
    pub const NOT_SUPPORTED_YET: u16 = 1235;
    /// ER_INTERNAL_ERROR.
    pub const INTERNAL: u16 = 1815;
    /// Vitess's ERVitessMaxRowsExceeded: a tablet result over its row limit.
    pub const MAX_ROWS_EXCEEDED: u16 = 10001;
}

/// Everything that can go wrong while executing a statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VtError {
    /// `USE` of a keyspace the VSchema does not know.
    #[error("VT05003: unknown database '{0}' in vschema")]
    UnknownDatabase(String),
    /// A statement that needs a keyspace, with none selected.
    #[error("VT09005: no database selected: use keyspace<:shard><@type> or keyspace<[range]><@type> (<> are optional)")]
    NoDatabaseSelected,
    /// A write sent to a replica or rdonly target.
    #[error("VT09002: {0} statement with a replica target")]
    ReplicaWrite(&'static str),
    /// A table found in no keyspace of the VSchema.
    #[error("VT05004: table '{0}' does not exist")]
    UnknownTable(String),
    /// A table found in several keyspaces.
    #[error("ambiguous table reference: {0}")]
    AmbiguousTable(String),
    /// A statement shape vtgate does not handle (Vitess VT12001).
    #[error("VT12001: unsupported: {0}")]
    Unsupported(String),
    /// `VEXPLAIN QUERIES` of a write without `/*vt+ EXECUTE_DML_QUERIES */`.
    #[error("VT09008: vexplain queries/all will actually run queries")]
    VExplainRunsDml,
    /// Changing the tablet type inside a transaction.
    #[error("can't execute the given command because you have an active transaction")]
    ActiveTransaction,
    /// No serving tablet for a target.
    #[error("no healthy tablet available for '{0}'")]
    NoHealthyTablet(String),
    /// A shard the keyspace does not have.
    #[error("shard {shard} not found in keyspace {keyspace}")]
    UnknownShard {
        /// The keyspace.
        keyspace: String,
        /// The shard asked for.
        shard: String,
    },
    /// An error a tablet returned, already prefixed with `target: ks.shard.type: vttablet: `.
    #[error("{message}")]
    Tablet {
        /// Full message as the client sees it.
        message: String,
        /// MySQL errno recovered from the message, or derived from the gRPC code.
        errno: u16,
        /// SQLSTATE recovered from the message, or derived from the gRPC code.
        sqlstate: String,
    },
    /// An error from the planner or a vtgate-side primitive, with its MySQL code.
    #[error("{message}")]
    Engine {
        /// The message.
        message: String,
        /// MySQL errno.
        errno: u16,
        /// SQLSTATE.
        sqlstate: String,
    },
    /// An error from the SQL helpers (syntax, read-only variable, ...).
    #[error("{}", .0.message())]
    Sql(#[from] sql::error::SqlError),
    /// Anything else; 1105 HY000.
    /// A statement's query timeout passed and its tablet did not answer (see
    /// [`crate::timeout`]).
    #[error("context deadline exceeded: query timeout of {0} ms")]
    QueryTimeout(u64),
    #[error("{0}")]
    Other(String),
}

impl VtError {
    /// The MySQL errno the client sees.
    pub fn errno(&self) -> u16 {
        match self {
            VtError::UnknownDatabase(_) => errno::BAD_DB,
            VtError::NoDatabaseSelected => errno::NO_DB,
            VtError::ReplicaWrite(_) => errno::INNODB_READ_ONLY,
            VtError::UnknownTable(_) => errno::UNKNOWN_TABLE,
            VtError::Unsupported(_) => errno::NOT_SUPPORTED_YET,
            VtError::Tablet { errno, .. } | VtError::Engine { errno, .. } => *errno,
            VtError::Sql(e) => e.errno(),
            VtError::QueryTimeout(_) => errno::QUERY_INTERRUPTED,
            VtError::AmbiguousTable(_)
            | VtError::ActiveTransaction
            | VtError::NoHealthyTablet(_)
            | VtError::UnknownShard { .. }
            | VtError::VExplainRunsDml
            | VtError::Other(_) => errno::UNKNOWN,
        }
    }

    /// A tablet refused an Execute result over its `--queryserver-config-max-result-size`
    /// rows (Vitess's errno 10001): the same read can be streamed instead.
    pub fn is_row_limit(&self) -> bool {
        matches!(
            self,
            VtError::Tablet {
                errno: errno::MAX_ROWS_EXCEEDED,
                ..
            }
        )
    }

    /// The SQLSTATE the client sees.
    pub fn sqlstate(&self) -> &str {
        match self {
            VtError::UnknownDatabase(_) | VtError::Unsupported(_) => "42000",
            VtError::NoDatabaseSelected => "3D000",
            VtError::UnknownTable(_) => "42S02",
            VtError::Tablet { sqlstate, .. } | VtError::Engine { sqlstate, .. } => sqlstate,
            VtError::Sql(e) => e.sqlstate(),
            VtError::QueryTimeout(_) => "70100",
            _ => "HY000",
        }
    }

    /// The error as an ERR packet.
    pub fn to_wire(&self) -> WireError {
        WireError::new(self.errno(), self.sqlstate(), self.to_string())
    }
}

impl From<VtError> for WireError {
    fn from(e: VtError) -> Self {
        e.to_wire()
    }
}

/// Finds `(errno N) (sqlstate XXXXX)` in a message, as Vitess's regex does.
pub fn find_errno_sqlstate(message: &str) -> Option<(u16, String)> {
    let mut rest = message;
    while let Some(pos) = rest.find("(errno ") {
        let after = &rest[pos + 7..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let tail = &after[digits..];
            if let Some(state) = tail.strip_prefix(") (sqlstate ") {
                let bytes = state.as_bytes();
                if bytes.len() >= 6
                    && bytes[..5].iter().all(u8::is_ascii_alphanumeric)
                    && bytes[5] == b')'
                {
                    if let Ok(n) = after[..digits].parse::<u16>() {
                        return Some((n, state[..5].to_string()));
                    }
                }
            }
        }
        rest = after;
    }
    None
}

/// Go's gRPC name of a status code, as it appears in `rpc error: code = X desc = ...`.
pub fn grpc_code_name(code: tonic::Code) -> &'static str {
    use tonic::Code as C;
    match code {
        C::Ok => "OK",
        C::Cancelled => "Canceled",
        C::Unknown => "Unknown",
        C::InvalidArgument => "InvalidArgument",
        C::DeadlineExceeded => "DeadlineExceeded",
        C::NotFound => "NotFound",
        C::AlreadyExists => "AlreadyExists",
        C::PermissionDenied => "PermissionDenied",
        C::ResourceExhausted => "ResourceExhausted",
        C::FailedPrecondition => "FailedPrecondition",
        C::Aborted => "Aborted",
        C::OutOfRange => "OutOfRange",
        C::Unimplemented => "Unimplemented",
        C::Internal => "Internal",
        C::Unavailable => "Unavailable",
        C::DataLoss => "DataLoss",
        C::Unauthenticated => "Unauthenticated",
    }
}

/// The MySQL errno and SQLSTATE Vitess derives from a gRPC code when the message carries none.
pub fn code_to_mysql(code: tonic::Code) -> (u16, &'static str) {
    use tonic::Code as C;
    match code {
        C::Cancelled | C::DeadlineExceeded | C::Aborted => (errno::QUERY_INTERRUPTED, "70100"),
        C::PermissionDenied | C::Unauthenticated => (errno::ACCESS_DENIED, "28000"),
        C::Unimplemented => (errno::NOT_SUPPORTED_YET, "42000"),
        C::Internal => (errno::INTERNAL, "HY000"),
        _ => (errno::UNKNOWN, "HY000"),
    }
}

/// Wraps a tablet's gRPC status as Vitess's gateway does:
/// `target: ks.shard.type: vttablet: rpc error: code = X desc = msg`.
pub fn tablet_error(target: &str, status: &tonic::Status) -> VtError {
    let message = format!(
        "target: {target}: vttablet: rpc error: code = {} desc = {}",
        grpc_code_name(status.code()),
        status.message()
    );
    let (errno, sqlstate) = match find_errno_sqlstate(status.message()) {
        Some((n, s)) => (n, s),
        None => {
            let (n, s) = code_to_mysql(status.code());
            (n, s.to_string())
        }
    };
    VtError::Tablet {
        message,
        errno,
        sqlstate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vitess_texts_and_codes() {
        let e = VtError::UnknownDatabase("nope".into());
        assert_eq!(e.to_string(), "VT05003: unknown database 'nope' in vschema");
        assert_eq!((e.errno(), e.sqlstate()), (1049, "42000"));
        let e = VtError::NoDatabaseSelected;
        assert_eq!((e.errno(), e.sqlstate()), (1046, "3D000"));
        assert!(e.to_string().starts_with("VT09005: no database selected"));
        let e = VtError::ReplicaWrite("insert");
        assert_eq!(
            e.to_string(),
            "VT09002: insert statement with a replica target"
        );
        assert_eq!((e.errno(), e.sqlstate()), (1874, "HY000"));
    }

    #[test]
    fn errno_and_sqlstate_found_in_message() {
        let msg = "Table 'vt_x.t' doesn't exist (errno 1146) (sqlstate 42S02) (CallerID: u)";
        assert_eq!(find_errno_sqlstate(msg), Some((1146, "42S02".into())));
        assert_eq!(
            find_errno_sqlstate("(errno x) (errno 12) (sqlstate HY000)"),
            Some((12, "HY000".into()))
        );
        assert_eq!(find_errno_sqlstate("(errno 12) (sqlstate HY0)"), None);
        assert_eq!(find_errno_sqlstate("nothing"), None);
    }

    #[test]
    fn tablet_errors_are_prefixed() {
        let st =
            tonic::Status::not_found("Table 'vt_c.x' doesn't exist (errno 1146) (sqlstate 42S02)");
        let e = tablet_error("commerce.0.primary", &st);
        assert_eq!(
            e.to_string(),
            "target: commerce.0.primary: vttablet: rpc error: code = NotFound desc = Table 'vt_c.x' doesn't exist (errno 1146) (sqlstate 42S02)"
        );
        assert_eq!((e.errno(), e.sqlstate()), (1146, "42S02"));
        let e = tablet_error(
            "c.0.replica",
            &tonic::Status::failed_precondition("disallowed"),
        );
        assert_eq!((e.errno(), e.sqlstate()), (1105, "HY000"));
        let e = tablet_error("c.0.replica", &tonic::Status::deadline_exceeded("slow"));
        assert_eq!((e.errno(), e.sqlstate()), (1317, "70100"));
    }
}
