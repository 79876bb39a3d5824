//! A minimal MySQL client for benches: no TLS, no password, no
//! CLIENT_DEPRECATE_EOF (so every result set ends with an EOF packet).
//! It reads whole results and reports what it saw; it does not decode values.

use mysql_server::CapabilityFlags;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What can go wrong talking to the server.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The socket failed or closed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The server answered with an ERR packet.
    #[error("server error {code}: {message}")]
    Server {
        /// MySQL error number.
        code: u16,
        /// Error text.
        message: String,
    },
    /// A packet this client does not expect.
    #[error("unexpected packet: {0}")]
    Unexpected(String),
}

/// What one result looked like on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResultSummary {
    /// Number of columns.
    pub columns: usize,
    /// Number of rows.
    pub rows: usize,
    /// Payload bytes of all row packets.
    pub row_bytes: usize,
    /// First byte of the last row packet (0x00 for binary rows).
    pub last_row_header: Option<u8>,
}

/// A client connection after the handshake.
pub struct RawClient<S> {
    stream: S,
    payload: Vec<u8>,
    out: Vec<u8>,
}

const COM_QUERY: u8 = 0x03;
const COM_STMT_PREPARE: u8 = 0x16;
const COM_STMT_EXECUTE: u8 = 0x17;

impl<S: AsyncRead + AsyncWrite + Unpin> RawClient<S> {
    /// Reads the server greeting and logs in as `user` with no password.
    pub async fn connect(stream: S, user: &str) -> Result<Self, WireError> {
        let mut c = RawClient {
            stream,
            payload: Vec::new(),
            out: Vec::new(),
        };
        c.read_packet().await?;
        let caps = CapabilityFlags::CLIENT_PROTOCOL_41
            | CapabilityFlags::CLIENT_SECURE_CONNECTION
            | CapabilityFlags::CLIENT_PLUGIN_AUTH
            | CapabilityFlags::CLIENT_TRANSACTIONS
            | CapabilityFlags::CLIENT_MULTI_RESULTS;
        let mut p = Vec::with_capacity(64);
        p.extend_from_slice(&caps.bits().to_le_bytes());
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0u8; 23]);
        p.extend_from_slice(user.as_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(b"mysql_native_password\0");
        c.send(1, &p).await?;
        c.read_packet().await?;
        match c.payload.first() {
            Some(0x00) => Ok(c),
            _ => Err(c.unexpected("handshake answer")),
        }
    }

    /// Runs a COM_QUERY and reads its whole result.
    pub async fn query(&mut self, sql: &str) -> Result<ResultSummary, WireError> {
        self.command(COM_QUERY, sql.as_bytes()).await?;
        self.read_result().await
    }

    /// Prepares a statement without placeholders; returns its id.
    pub async fn prepare(&mut self, sql: &str) -> Result<u32, WireError> {
        self.command(COM_STMT_PREPARE, sql.as_bytes()).await?;
        self.read_packet().await?;
        if self.payload.len() < 12 || self.payload[0] != 0x00 {
            return Err(self.unexpected("prepare answer"));
        }
        let p = &self.payload;
        let id = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
        let columns = usize::from(u16::from_le_bytes([p[5], p[6]]));
        let params = usize::from(u16::from_le_bytes([p[7], p[8]]));
        for n in [params, columns] {
            if n > 0 {
                // n definitions, then an EOF.
                for _ in 0..=n {
                    self.read_packet().await?;
                }
            }
        }
        Ok(id)
    }

    /// Executes a prepared statement without parameters; reads its binary result.
    pub async fn execute(&mut self, stmt_id: u32) -> Result<ResultSummary, WireError> {
        let mut body = [0u8; 9];
        body[..4].copy_from_slice(&stmt_id.to_le_bytes());
        body[5..9].copy_from_slice(&1u32.to_le_bytes());
        self.command(COM_STMT_EXECUTE, &body).await?;
        self.read_result().await
    }

    async fn command(&mut self, command: u8, body: &[u8]) -> Result<(), WireError> {
        let mut p = Vec::with_capacity(1 + body.len());
        p.push(command);
        p.extend_from_slice(body);
        self.send(0, &p).await
    }

    async fn read_result(&mut self) -> Result<ResultSummary, WireError> {
        self.read_packet().await?;
        let columns = match self.payload.first() {
            Some(&n) if n > 0 && n < 0xfb => usize::from(n),
            _ => return Err(self.unexpected("column count")),
        };
        // Column definitions, then an EOF.
        for _ in 0..=columns {
            self.read_packet().await?;
        }
        let mut summary = ResultSummary {
            columns,
            ..ResultSummary::default()
        };
        loop {
            self.read_packet().await?;
            if self.payload.first() == Some(&0xfe) && self.payload.len() < 9 {
                return Ok(summary);
            }
            summary.rows += 1;
            summary.row_bytes += self.payload.len();
            summary.last_row_header = self.payload.first().copied();
        }
    }

    async fn send(&mut self, seq: u8, payload: &[u8]) -> Result<(), WireError> {
        let n = payload.len();
        self.out.clear();
        self.out
            .extend_from_slice(&[n as u8, (n >> 8) as u8, (n >> 16) as u8, seq]);
        self.out.extend_from_slice(payload);
        self.stream.write_all(&self.out).await?;
        Ok(())
    }

    /// Reads one packet into `self.payload`; an ERR packet becomes an error.
    async fn read_packet(&mut self) -> Result<(), WireError> {
        let mut header = [0u8; 4];
        self.stream.read_exact(&mut header).await?;
        let len =
            usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
        self.payload.resize(len, 0);
        self.stream.read_exact(&mut self.payload).await?;
        if self.payload.first() == Some(&0xff) && self.payload.len() >= 3 {
            let code = u16::from_le_bytes([self.payload[1], self.payload[2]]);
            let text = self.payload.get(9..).unwrap_or_default();
            return Err(WireError::Server {
                code,
                message: String::from_utf8_lossy(text).into_owned(),
            });
        }
        Ok(())
    }

    fn unexpected(&self, what: &str) -> WireError {
        let head = &self.payload[..self.payload.len().min(16)];
        WireError::Unexpected(format!("{what}: {head:02x?}"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::fixed::{FixedFactory, FixedResult};

    async fn client(rows: usize) -> RawClient<tokio::io::DuplexStream> {
        let (client, server) = tokio::io::duplex(1 << 16);
        let factory = Arc::new(FixedFactory(Arc::new(FixedResult::sbtest(rows))));
        tokio::spawn(mysql_server::serve_connection(
            Box::new(server),
            "127.0.0.1:1".parse().unwrap(),
            Arc::new(mysql_server::ServerConfig::default()),
            factory,
        ));
        RawClient::connect(client, "bench").await.unwrap()
    }

    #[tokio::test]
    async fn reads_text_and_binary_results_whole() {
        let mut c = client(100).await;
        let text = c.query("select * from sbtest1").await.unwrap();
        assert_eq!((text.columns, text.rows), (7, 100));
        let id = c.prepare("select * from sbtest1").await.unwrap();
        let bin = c.execute(id).await.unwrap();
        assert_eq!((bin.columns, bin.rows), (7, 100));
        assert_eq!(bin.last_row_header, Some(0x00));
        assert_ne!(bin.row_bytes, text.row_bytes);
        // The connection is still in step after both results.
        assert_eq!(c.query("select 1").await.unwrap().rows, 100);
    }

    #[tokio::test]
    async fn unknown_statement_is_a_server_error() {
        let mut c = client(1).await;
        match c.execute(77).await {
            Err(WireError::Server { code, .. }) => assert_eq!(code, 1243),
            other => panic!("expected ERR 1243, got {other:?}"),
        }
        assert_eq!(c.query("select 1").await.unwrap().rows, 1);
    }
}
