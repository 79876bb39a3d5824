//! One client connection: handshake, then the command loop that decodes each command, calls
//! the handler and writes its answer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use mysql_common::constants::{CapabilityFlags, ColumnFlags, ColumnType};
use tracing::Instrument;

use crate::column::{ColumnDef, BINARY_COLLATION};
use crate::command::{ChangeUser, Command};
use crate::error::SqlError;
use crate::handler::{ConnectionInfo, Execute, Handler, HandlerFactory};
use crate::handshake::{self, Phase, SALT_LEN};
use crate::io::BoxIo;
use crate::results::ResultWriter;
use crate::server::ServerConfig;
use crate::session::Session;
use crate::status::SessionStatus;
use crate::stmt::Registry;

/// What the loop does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

/// A logged-in connection and its handler.
struct Conn<'a, H> {
    s: Session,
    config: &'a ServerConfig,
    info: ConnectionInfo,
    salt: [u8; SALT_LEN],
    handler: H,
    status: SessionStatus,
    statements: Registry,
}

/// Runs a connection to its end; between commands it also ends when `stop` completes.
pub(crate) async fn run<F: HandlerFactory>(
    io: BoxIo,
    peer: SocketAddr,
    id: u32,
    config: Arc<ServerConfig>,
    factory: Arc<F>,
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut s = Session::new(io, config.max_packet_size);
    let phase = tokio::time::timeout(
        config.handshake_timeout,
        handshake::handshake(&mut s, &config, id, peer),
    )
    .await;
    let (info, salt) = match phase {
        Ok(Ok(done)) => done,
        Ok(Err(refused)) => {
            tracing::debug!(?refused, "connection phase ended");
            return;
        }
        Err(_) => {
            tracing::info!("handshake timed out");
            return;
        }
    };
    let handler = match factory.new_connection(&info).await {
        Ok(h) => h,
        Err(err) => {
            s.write_err(&err);
            // The connection is closed either way.
            let _ = s.flush().await;
            return;
        }
    };
    let status = SessionStatus::default();
    s.write_ok(status.flags());
    if s.flush().await.is_err() {
        return;
    }
    tracing::debug!(user = %info.user, "logged in");
    let mut conn = Conn {
        s,
        statements: Registry::new(config.max_packet_size),
        config: &config,
        info,
        salt,
        handler,
        status,
    };
    loop {
        conn.s.new_exchange();
        let read = tokio::select! {
            read = conn.s.read() => read,
            () = &mut stop => break,
        };
        let packet = match read {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                conn.s.report_read_error(&e).await;
                break;
            }
        };
        let flow = match Command::parse(&packet) {
            Ok(cmd) => {
                let span = tracing::debug_span!("command", kind = command_name(&cmd));
                conn.dispatch(cmd).instrument(span).await
            }
            Err(_) => conn.reply_err(&SqlError::malformed()).await,
        };
        if flow == Flow::Close {
            break;
        }
    }
    conn.handler.on_disconnect().await;
}

fn command_name(cmd: &Command<'_>) -> &'static str {
    match cmd {
        Command::Quit => "quit",
        Command::InitDb(_) => "init_db",
        Command::Query(_) => "query",
        Command::FieldList { .. } => "field_list",
        Command::Ping => "ping",
        Command::ChangeUser(_) => "change_user",
        Command::Prepare(_) => "stmt_prepare",
        Command::Execute { .. } => "stmt_execute",
        Command::SendLongData { .. } => "stmt_send_long_data",
        Command::Close(_) => "stmt_close",
        Command::Reset(_) => "stmt_reset",
        Command::Fetch(_) => "stmt_fetch",
        Command::SetOption(_) => "set_option",
        Command::ResetConnection => "reset_connection",
        Command::Unknown(_) => "unknown",
    }
}

impl<H: Handler> Conn<'_, H> {
    fn deprecate_eof(&self) -> bool {
        self.info
            .capabilities
            .contains(CapabilityFlags::CLIENT_DEPRECATE_EOF)
    }

    async fn dispatch(&mut self, cmd: Command<'_>) -> Flow {
        match cmd {
            Command::Quit => Flow::Close,
            Command::Ping => self.reply_ok().await,
            Command::InitDb(db) => {
                let db = String::from_utf8_lossy(db).into_owned();
                match self.handler.on_init_db(&db).await {
                    Ok(()) => {
                        self.info.database = Some(db);
                        self.reply_ok().await
                    }
                    Err(e) => self.reply_err(&e).await,
                }
            }
            Command::Query(sql) => {
                let deprecate_eof = self.deprecate_eof();
                let mut out = ResultWriter::new(
                    &mut self.s.io,
                    &mut self.s.writer,
                    &mut self.status,
                    deprecate_eof,
                    false,
                    self.info.extended_metadata,
                );
                let result = self.handler.on_query(sql, &mut out).await;
                flow(out.complete(result).await)
            }
            Command::FieldList { .. } => {
                let (eof, status) = (self.deprecate_eof(), self.status.flags());
                self.s.write_end_of_rows(eof, status);
                self.flush().await
            }
            Command::Prepare(sql) => self.prepare(sql).await,
            Command::Execute { stmt_id, body } => self.execute(stmt_id, body).await,
            Command::SendLongData {
                stmt_id,
                param,
                data,
            } => {
                self.statements.append_long_data(stmt_id, param, data);
                Flow::Continue
            }
            Command::Close(id) => {
                if self.statements.close(id) {
                    self.handler.on_close(id).await;
                }
                Flow::Continue
            }
            Command::Reset(id) => match self.statements.reset(id) {
                Ok(()) => self.reply_ok().await,
                Err(e) => self.reply_err(&e).await,
            },
            Command::Fetch(_) => {
                let err = SqlError::new(
                    1235,
                    "42000",
                    "This version of MySQL doesn't yet support 'cursors'",
                );
                self.reply_err(&err).await
            }
            Command::SetOption(option) => self.set_option(option).await,
            Command::ResetConnection => match self.reset_session().await {
                Ok(()) => self.reply_ok().await,
                Err(e) => self.reply_err(&e).await,
            },
            Command::ChangeUser(body) => self.change_user(body).await,
            Command::Unknown(code) => {
                tracing::debug!(code, "unknown command");
                self.reply_err(&SqlError::unknown_command()).await
            }
        }
    }

    async fn flush(&mut self) -> Flow {
        match self.s.flush().await {
            Ok(()) => Flow::Continue,
            Err(e) => {
                tracing::debug!(error = %e, "client write failed");
                Flow::Close
            }
        }
    }

    async fn reply_ok(&mut self) -> Flow {
        self.s.write_ok(self.status.flags());
        self.flush().await
    }

    async fn reply_err(&mut self, err: &SqlError) -> Flow {
        self.s.write_err(err);
        self.flush().await
    }

    async fn prepare(&mut self, sql: &[u8]) -> Flow {
        let id = match self.statements.next_id() {
            Ok(id) => id,
            Err(e) => return self.reply_err(&e).await,
        };
        let prepared = match self.handler.on_prepare(id, sql).await {
            Ok(p) => p,
            Err(e) => return self.reply_err(&e).await,
        };
        let id = self.statements.register(sql, prepared.param_count);
        let (eof, status) = (self.deprecate_eof(), self.status.flags());
        let extended = self.info.extended_metadata;
        let mut head = Vec::with_capacity(12);
        head.push(0x00);
        head.extend_from_slice(&id.to_le_bytes());
        head.extend_from_slice(&(prepared.columns.len() as u16).to_le_bytes());
        head.extend_from_slice(&prepared.param_count.to_le_bytes());
        head.push(0x00);
        head.extend_from_slice(&0u16.to_le_bytes());
        self.s.write(&head);
        if prepared.param_count > 0 {
            let mut param = ColumnDef::new("?", ColumnType::MYSQL_TYPE_VAR_STRING);
            param.collation = BINARY_COLLATION;
            param.flags = ColumnFlags::BINARY_FLAG;
            for _ in 0..prepared.param_count {
                param.encode(self.s.writer.begin(), None, extended);
                self.s.writer.end();
            }
            if !eof {
                self.s.write_end_of_rows(false, status);
            }
        }
        if !prepared.columns.is_empty() {
            for col in &prepared.columns {
                col.encode(self.s.writer.begin(), None, extended);
                self.s.writer.end();
            }
            if !eof {
                self.s.write_end_of_rows(false, status);
            }
        }
        self.flush().await
    }

    async fn execute(&mut self, stmt_id: u32, body: &[u8]) -> Flow {
        let (sql, params) = match self.statements.decode_execute(stmt_id, body) {
            Ok(decoded) => decoded,
            Err(e) => return self.reply_err(&e).await,
        };
        let stmt = Execute {
            stmt_id,
            sql: &sql,
            params: &params,
        };
        let deprecate_eof = self.deprecate_eof();
        let mut out = ResultWriter::new(
            &mut self.s.io,
            &mut self.s.writer,
            &mut self.status,
            deprecate_eof,
            true,
            self.info.extended_metadata,
        );
        let result = self.handler.on_execute(stmt, &mut out).await;
        flow(out.complete(result).await)
    }

    async fn set_option(&mut self, option: u16) -> Flow {
        let multi = CapabilityFlags::CLIENT_MULTI_STATEMENTS;
        match option {
            0 => self.info.capabilities |= multi,
            1 => self.info.capabilities &= !multi,
            _ => return self.reply_err(&SqlError::unknown_command()).await,
        }
        let (eof, status) = (self.deprecate_eof(), self.status.flags());
        self.s.write_end_of_rows(eof, status);
        self.flush().await
    }

    /// Closes all statements and resets the handler's and the crate's session state.
    async fn reset_session(&mut self) -> Result<(), SqlError> {
        for id in self.statements.ids() {
            self.handler.on_close(id).await;
        }
        self.statements.clear();
        self.status = SessionStatus::default();
        self.handler.on_reset().await
    }

    /// COM_CHANGE_USER: re-authenticates; a failed attempt closes the connection.
    async fn change_user(&mut self, body: &[u8]) -> Flow {
        let Ok(req) = ChangeUser::parse(body) else {
            return self.reply_err(&SqlError::malformed()).await;
        };
        let caps = self.info.capabilities;
        let user = String::from_utf8_lossy(req.user).into_owned();
        let database =
            Some(String::from_utf8_lossy(req.database).into_owned()).filter(|d| !d.is_empty());
        let phase = Phase {
            config: self.config,
            salt: self.salt,
            peer: self.info.peer,
            tls: self.info.tls,
            capabilities: caps,
        };
        let user_data = match handshake::authenticate(
            &mut self.s,
            &phase,
            &user,
            req.plugin,
            req.auth_response,
        )
        .await
        {
            Ok(data) => data,
            Err(_) => return Flow::Close,
        };
        self.info.user = user;
        self.info.user_data = user_data;
        self.info.database = database;
        if let Err(e) = self.reset_session().await {
            return self.reply_err(&e).await;
        }
        if let Err(e) = self.handler.on_change_user(&self.info).await {
            return self.reply_err(&e).await;
        }
        self.reply_ok().await
    }
}

fn flow(alive: bool) -> Flow {
    if alive {
        Flow::Continue
    } else {
        Flow::Close
    }
}
