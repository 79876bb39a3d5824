//! Errors: [`SqlError`] is what a client sees in an ERR packet; [`ServerError`] is what the
//! crate's own entry points (binding, TLS set-up, auth file loading) return.

use std::fmt;

/// Well-known MySQL error numbers used by this crate.
pub mod codes {
    /// ER_ACCESS_DENIED_ERROR.
    pub const ACCESS_DENIED: u16 = 1045;
    /// ER_HANDSHAKE_ERROR ("Bad handshake").
    pub const HANDSHAKE_ERROR: u16 = 1043;
    /// ER_UNKNOWN_COM_ERROR.
    pub const UNKNOWN_COMMAND: u16 = 1047;
    /// ER_UNKNOWN_ERROR.
    pub const UNKNOWN_ERROR: u16 = 1105;
    /// ER_NET_PACKET_TOO_LARGE.
    pub const PACKET_TOO_LARGE: u16 = 1153;
    /// ER_NET_PACKETS_OUT_OF_ORDER.
    pub const PACKETS_OUT_OF_ORDER: u16 = 1156;
    /// ER_WRONG_ARGUMENTS.
    pub const WRONG_ARGUMENTS: u16 = 1210;
    /// ER_UNKNOWN_STMT_HANDLER.
    pub const UNKNOWN_STMT_HANDLER: u16 = 1243;
    /// ER_NOT_SUPPORTED_YET.
    pub const NOT_SUPPORTED_YET: u16 = 1235;
    /// ER_SECURE_TRANSPORT_REQUIRED.
    pub const SECURE_TRANSPORT_REQUIRED: u16 = 3159;
    /// ER_MALFORMED_PACKET.
    pub const MALFORMED_PACKET: u16 = 1835;
    /// CR_SERVER_LOST, used for a writer whose client has gone away.
    pub const SERVER_LOST: u16 = 2013;
}

/// An error as the client sees it: error number, SQLSTATE and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// MySQL error number, e.g. 1045.
    pub code: u16,
    /// Five-character SQLSTATE, e.g. `28000`.
    pub state: [u8; 5],
    /// Human-readable message.
    pub message: String,
}

impl SqlError {
    /// Builds an error; `state` must be five ASCII characters (anything else becomes `HY000`).
    pub fn new(code: u16, state: &str, message: impl Into<String>) -> Self {
        let state = match state.as_bytes() {
            [a, b, c, d, e] => [*a, *b, *c, *d, *e],
            _ => *b"HY000",
        };
        Self {
            code,
            state,
            message: message.into(),
        }
    }

    /// ER_UNKNOWN_ERROR (1105, HY000) with the given message.
    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new(codes::UNKNOWN_ERROR, "HY000", message)
    }

    /// The standard access-denied error (1045, 28000).
    pub fn access_denied(user: &str, host: &str, used_password: bool) -> Self {
        Self::new(
            codes::ACCESS_DENIED,
            "28000",
            format!(
                "Access denied for user '{user}'@'{host}' (using password: {})",
                if used_password { "YES" } else { "NO" }
            ),
        )
    }

    /// ER_UNKNOWN_COM_ERROR (1047, 08S01).
    pub fn unknown_command() -> Self {
        Self::new(codes::UNKNOWN_COMMAND, "08S01", "Unknown command")
    }

    /// ER_UNKNOWN_STMT_HANDLER for statement `id` in command `command`.
    pub fn unknown_statement(id: u32, command: &str) -> Self {
        Self::new(
            codes::UNKNOWN_STMT_HANDLER,
            "HY000",
            format!("Unknown prepared statement handler ({id}) given to {command}"),
        )
    }

    /// ER_WRONG_ARGUMENTS for command `command`.
    pub fn wrong_arguments(command: &str) -> Self {
        Self::new(
            codes::WRONG_ARGUMENTS,
            "HY000",
            format!("Incorrect arguments to {command}"),
        )
    }

    /// ER_MALFORMED_PACKET.
    pub fn malformed() -> Self {
        Self::new(
            codes::MALFORMED_PACKET,
            "HY000",
            "Malformed communication packet.",
        )
    }

    /// The SQLSTATE as a string.
    pub fn state_str(&self) -> &str {
        std::str::from_utf8(&self.state).unwrap_or("HY000")
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ERROR {} ({}): {}",
            self.code,
            self.state_str(),
            self.message
        )
    }
}

impl std::error::Error for SqlError {}

/// Errors from setting up or running the server itself.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Socket or file I/O failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS certificate or key could not be loaded or used.
    #[error("tls configuration: {0}")]
    Tls(String),
    /// The static auth file could not be read or parsed.
    #[error("auth configuration: {0}")]
    Auth(String),
}
