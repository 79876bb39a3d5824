//! Server side of the MySQL client/server protocol, for vtgate's MySQL front door.
//!
//! The crate owns the wire: handshake v10 with a random salt, TLS (rustls), authentication
//! (`mysql_native_password`, `caching_sha2_password` with fast path, full auth over TLS and
//! auth switch; users from a Vitess static auth file or anyone with auth `none`), packet
//! framing with 16 MiB splitting and a maximum packet size, command decoding, text and binary
//! result sets, prepared statements and status flags. It knows nothing about routing: the
//! embedder implements [`Handler`] (one per connection, made by a [`HandlerFactory`]) and
//! answers each command through a [`ResultWriter`].
//!
//! Decisions worth knowing:
//! - COM_QUERY hands the whole text to [`Handler::on_query`], also with several statements;
//!   the handler answers with one result per statement and the writer sets
//!   `SERVER_MORE_RESULTS_EXISTS` on all but the last.
//! - Rows are always written as text-protocol values (`Option<&[u8]>`); for COM_STMT_EXECUTE
//!   the writer converts them to the binary protocol from the column types.
//! - Results stream: the writer flushes every 32 KiB and waits for the socket, so memory stays
//!   bounded; a small result goes out in one write. An error may end a result set mid-way.
//! - The handshake looks like MariaDB's: no CLIENT_LONG_PASSWORD (CLIENT_MYSQL), MariaDB's
//!   extended capabilities in the reserved bytes (`MARIADB_CLIENT_EXTENDED_METADATA`, so a
//!   [`ColumnDef::format`] of `json` reaches clients as MariaDB sends it), and
//!   CLIENT_SESSION_TRACK with the OK packet's info length-encoded (no session-state block).
//!
//! ```no_run
//! use mysql_server::{
//!     serve, ColumnDef, ColumnType, ConnectionInfo, Execute, Handler, HandlerFactory, OkInfo,
//!     PrepareInfo, ResultWriter, ServerConfig, SqlError,
//! };
//!
//! struct Hello;
//!
//! #[mysql_server::async_trait]
//! impl Handler for Hello {
//!     async fn on_query(&mut self, _sql: &[u8], out: &mut ResultWriter<'_>) -> Result<(), SqlError> {
//!         out.start(&[ColumnDef::new("greeting", ColumnType::MYSQL_TYPE_VAR_STRING)]).await?;
//!         out.write_row(&[Some(b"hello")]).await?;
//!         out.finish(OkInfo::default()).await
//!     }
//!     async fn on_prepare(&mut self, _id: u32, _sql: &[u8]) -> Result<PrepareInfo, SqlError> {
//!         Err(SqlError::unknown("prepared statements are not supported"))
//!     }
//!     async fn on_execute(&mut self, _: Execute<'_>, _: &mut ResultWriter<'_>) -> Result<(), SqlError> {
//!         Err(SqlError::unknown("prepared statements are not supported"))
//!     }
//!     async fn on_init_db(&mut self, _db: &str) -> Result<(), SqlError> {
//!         Ok(())
//!     }
//! }
//!
//! struct Factory;
//!
//! #[mysql_server::async_trait]
//! impl HandlerFactory for Factory {
//!     type Handler = Hello;
//!     async fn new_connection(&self, _info: &ConnectionInfo) -> Result<Hello, SqlError> {
//!         Ok(Hello)
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:15306").await?;
//! serve(listener, ServerConfig::default(), Factory, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

pub mod auth;
pub mod binary;
pub mod column;
pub mod command;
mod conn;
pub mod error;
pub mod handler;
mod handshake;
pub mod io;
pub mod packet;
pub mod response;
pub mod results;
pub mod server;
mod session;
pub mod status;
pub mod stmt;
pub mod tls;

pub use async_trait::async_trait;
pub use auth::{AuthServer, StaticAuth};
pub use column::ColumnDef;
pub use error::{ServerError, SqlError};
pub use handler::{ConnectionInfo, Execute, Handler, HandlerFactory, PrepareInfo};
pub use io::BoxIo;
pub use mysql_common::constants::{CapabilityFlags, ColumnFlags, ColumnType, StatusFlags};
pub use mysql_common::value::Value;
pub use response::OkInfo;
pub use results::ResultWriter;
pub use server::{serve, serve_connection, ServerConfig};
pub use status::SessionStatus;
pub use stmt::Param;
pub use tls::load_server_config;
