//! The interface an embedder (vtgate, or the pass-through test backend) implements: a
//! [`HandlerFactory`] makes one [`Handler`] per authenticated connection, and the connection
//! calls the handler once per command.

use std::net::SocketAddr;

use async_trait::async_trait;
use mysql_common::constants::CapabilityFlags;

use crate::column::ColumnDef;
use crate::error::SqlError;
use crate::results::ResultWriter;
use crate::stmt::Param;

/// What is known about a client connection once it has authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Unique id of the connection in this process (also sent in the handshake).
    pub connection_id: u32,
    /// The client's address.
    pub peer: SocketAddr,
    /// The user name the client logged in with.
    pub user: String,
    /// `UserData` of the matching static auth entry (`"userData1"` with auth `none`).
    pub user_data: String,
    /// Database named in the handshake (or COM_CHANGE_USER), if any.
    pub database: Option<String>,
    /// Capabilities both sides agreed on (e.g. `CLIENT_FOUND_ROWS`, `CLIENT_MULTI_STATEMENTS`).
    pub capabilities: CapabilityFlags,
    /// MariaDB's `MARIADB_CLIENT_EXTENDED_METADATA` was negotiated: column definitions carry
    /// the extended block (format `json` and the like).
    pub extended_metadata: bool,
    /// Collation id the client asked for in the handshake.
    pub collation: u8,
    /// The connection runs over TLS.
    pub tls: bool,
    /// Connection attributes the client sent (`_client_name`, ...).
    pub attributes: Vec<(String, String)>,
}

/// The answer to COM_STMT_PREPARE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrepareInfo {
    /// Number of `?` placeholders.
    pub param_count: u16,
    /// Columns of the result set the statement returns (empty if none or unknown).
    pub columns: Vec<ColumnDef>,
}

/// A statement being executed with COM_STMT_EXECUTE.
#[derive(Debug, Clone, Copy)]
pub struct Execute<'a> {
    /// Statement id the crate gave it at prepare time.
    pub stmt_id: u32,
    /// The SQL text given to [`Handler::on_prepare`].
    pub sql: &'a [u8],
    /// One decoded value per placeholder.
    pub params: &'a [Param],
}

/// Makes the handler of each new connection.
#[async_trait]
pub trait HandlerFactory: Send + Sync + 'static {
    /// The per-connection handler.
    type Handler: Handler + 'static;

    /// Called once a client has authenticated; an error is sent to the client instead of the
    /// final OK of the handshake and the connection is closed.
    async fn new_connection(&self, info: &ConnectionInfo) -> Result<Self::Handler, SqlError>;
}

/// Answers the commands of one connection. Commands of a connection are strictly sequential.
///
/// SQL text is given as bytes: clients put raw binary data inside string literals (for example
/// PyMySQL with `bytes` parameters), so it is not always valid UTF-8.
///
/// Status flags (`SERVER_STATUS_IN_TRANS`, `SERVER_STATUS_AUTOCOMMIT`) come from the handler:
/// it reports changes with [`ResultWriter::set_status`]; the value persists for later commands.
#[async_trait]
pub trait Handler: Send {
    /// COM_QUERY. The text is passed whole, also when it holds several statements
    /// (`CLIENT_MULTI_STATEMENTS`): the handler splits it and answers with one result (result
    /// set, OK or a final ERR) per statement; the writer sets `SERVER_MORE_RESULTS_EXISTS` on
    /// all but the last. Returning `Err` sends that error as the command's last result.
    /// Clients that did not ask for `CLIENT_MULTI_STATEMENTS` (see
    /// [`ConnectionInfo::capabilities`]) expect a single statement.
    async fn on_query(&mut self, sql: &[u8], out: &mut ResultWriter<'_>) -> Result<(), SqlError>;

    /// COM_STMT_PREPARE: validate `sql` and report its placeholder count and result columns.
    /// `stmt_id` is the id the client will use if this succeeds.
    async fn on_prepare(&mut self, stmt_id: u32, sql: &[u8]) -> Result<PrepareInfo, SqlError>;

    /// COM_STMT_EXECUTE. Rows are written in text format exactly as for [`Self::on_query`];
    /// the writer converts them to the binary protocol using the column types.
    async fn on_execute(
        &mut self,
        stmt: Execute<'_>,
        out: &mut ResultWriter<'_>,
    ) -> Result<(), SqlError>;

    /// COM_STMT_CLOSE (also called for every open statement on COM_RESET_CONNECTION and
    /// COM_CHANGE_USER; on disconnect only [`Self::on_disconnect`] is called).
    async fn on_close(&mut self, _stmt_id: u32) {}

    /// COM_INIT_DB (`USE db` from the CLI).
    async fn on_init_db(&mut self, db: &str) -> Result<(), SqlError>;

    /// COM_RESET_CONNECTION and a successful COM_CHANGE_USER: forget session state.
    async fn on_reset(&mut self) -> Result<(), SqlError> {
        Ok(())
    }

    /// A successful COM_CHANGE_USER: `info` has the new user and database. Called after
    /// [`Self::on_reset`].
    async fn on_change_user(&mut self, _info: &ConnectionInfo) -> Result<(), SqlError> {
        Ok(())
    }

    /// The client disconnected (COM_QUIT, socket closed or protocol error).
    async fn on_disconnect(&mut self) {}
}
