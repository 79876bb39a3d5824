//! [`ResultWriter`]: how a handler answers a command. It streams result sets (column
//! definitions, then rows as they arrive), OK packets and ERR packets, in the text or the
//! binary protocol as the command requires, buffering packets and flushing them in large
//! writes. A write waits for the socket when the buffer is full, so a slow client slows the
//! handler down instead of growing memory.
//!
//! Several results in one command (multi-statements) are supported: the terminator of each
//! result is held back until the next one starts, so the crate can set
//! `SERVER_MORE_RESULTS_EXISTS` on all but the last.

use bytes::BufMut;
use mysql_common::constants::{ColumnFlags, ColumnType, StatusFlags};
use mysql_common::io::BufMutExt;

use crate::binary;
use crate::column::ColumnDef;
use crate::error::{codes, SqlError};
use crate::io::BoxIo;
use crate::packet::PacketWriter;
use crate::response::{encode_eof, encode_err, encode_ok, OkInfo};
use crate::status::SessionStatus;

/// Buffered bytes that trigger a flush to the socket.
const FLUSH_AT: usize = 32 * 1024;

/// Where the writer is in the current command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between results: a result set or OK may start.
    Idle,
    /// Column definitions sent; rows may follow.
    InResultSet,
    /// An ERR was sent; the command is over.
    Failed,
}

/// A terminator held back until it is known whether more results follow.
#[derive(Debug)]
enum Pending {
    /// OK packet of a statement without rows.
    Ok(OkInfo),
    /// End of a result set (EOF, or OK with header 0xFE under CLIENT_DEPRECATE_EOF).
    EndOfRows(OkInfo),
}

/// Writes the response to one command; see the module documentation.
pub struct ResultWriter<'a> {
    io: &'a mut BoxIo,
    out: &'a mut PacketWriter,
    status: &'a mut SessionStatus,
    deprecate_eof: bool,
    binary: bool,
    extended_metadata: bool,
    columns: Vec<(ColumnType, ColumnFlags)>,
    state: State,
    pending: Option<Pending>,
    responded: bool,
    broken: bool,
}

impl<'a> ResultWriter<'a> {
    pub(crate) fn new(
        io: &'a mut BoxIo,
        out: &'a mut PacketWriter,
        status: &'a mut SessionStatus,
        deprecate_eof: bool,
        binary: bool,
        extended_metadata: bool,
    ) -> Self {
        Self {
            io,
            out,
            status,
            deprecate_eof,
            binary,
            extended_metadata,
            columns: Vec::new(),
            state: State::Idle,
            pending: None,
            responded: false,
            broken: false,
        }
    }

    /// True when rows are sent in the binary protocol (COM_STMT_EXECUTE). Handlers write
    /// text-format values either way; this is informational.
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// The session status reported in status flags.
    pub fn status(&self) -> SessionStatus {
        *self.status
    }

    /// Changes the session status; it applies to every OK/EOF written from now on, in this and
    /// later commands.
    pub fn set_status(&mut self, status: SessionStatus) {
        *self.status = status;
    }

    /// Starts a result set with these columns.
    pub async fn start(&mut self, columns: &[ColumnDef]) -> Result<(), SqlError> {
        self.check(State::Idle, "start a result set")?;
        if columns.is_empty() {
            // A zero column count would read as an OK packet: answer with `ok` instead.
            return Err(SqlError::unknown(
                "internal error: a result set needs at least one column",
            ));
        }
        self.release_pending(true);
        self.out.begin().put_lenenc_int(columns.len() as u64);
        self.out.end();
        for col in columns {
            col.encode(self.out.begin(), None, self.extended_metadata);
            self.out.end();
        }
        if !self.deprecate_eof {
            encode_eof(self.out.begin(), 0, self.status.flags());
            self.out.end();
        }
        self.columns.clear();
        self.columns
            .extend(columns.iter().map(|c| (c.column_type, c.flags)));
        self.state = State::InResultSet;
        self.responded = true;
        Ok(())
    }

    /// Sends one row: one text-format value per column, `None` for NULL. In the binary protocol
    /// the values are converted using the column types given to [`Self::start`].
    pub async fn write_row(&mut self, row: &[Option<&[u8]>]) -> Result<(), SqlError> {
        self.check(State::InResultSet, "write a row")?;
        if row.len() != self.columns.len() {
            return Err(SqlError::unknown(format!(
                "row has {} values but the result has {} columns",
                row.len(),
                self.columns.len()
            )));
        }
        let buf = self.out.begin();
        if self.binary {
            let mark = buf.len();
            if let Err(e) = binary::encode_row(buf, &self.columns, row) {
                buf.truncate(mark - 4);
                return Err(SqlError::unknown(e.to_string()));
            }
        } else {
            for value in row {
                match value {
                    Some(v) => buf.put_lenenc_str(v),
                    None => buf.put_u8(0xfb),
                }
            }
        }
        self.out.end();
        if self.out.buffered() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Ends the current result set; `info` supplies warnings (and, under
    /// CLIENT_DEPRECATE_EOF, affected rows and info text).
    pub async fn finish(&mut self, info: OkInfo) -> Result<(), SqlError> {
        self.check(State::InResultSet, "finish a result set")?;
        self.pending = Some(Pending::EndOfRows(info));
        self.state = State::Idle;
        Ok(())
    }

    /// Answers a statement that returns no rows.
    pub async fn ok(&mut self, info: OkInfo) -> Result<(), SqlError> {
        self.check(State::Idle, "send an OK")?;
        self.release_pending(true);
        self.pending = Some(Pending::Ok(info));
        self.responded = true;
        Ok(())
    }

    /// Sends an ERR packet, also in the middle of a result set; the command ends there.
    pub async fn error(&mut self, err: SqlError) -> Result<(), SqlError> {
        if self.state == State::Failed {
            return Ok(());
        }
        if self.broken {
            return Err(lost());
        }
        self.release_pending(true);
        encode_err(self.out.begin(), &err);
        self.out.end();
        self.state = State::Failed;
        self.responded = true;
        Ok(())
    }

    /// Writes what is buffered so far to the client.
    pub async fn flush(&mut self) -> Result<(), SqlError> {
        if self.broken {
            return Err(lost());
        }
        if let Err(e) = self.out.flush(self.io).await {
            tracing::debug!(error = %e, "client write failed");
            self.broken = true;
            return Err(lost());
        }
        Ok(())
    }

    fn check(&self, want: State, action: &str) -> Result<(), SqlError> {
        if self.broken {
            return Err(lost());
        }
        if self.state != want {
            return Err(SqlError::unknown(format!(
                "internal error: cannot {action} in state {:?}",
                self.state
            )));
        }
        Ok(())
    }

    /// Writes the held-back terminator, with SERVER_MORE_RESULTS_EXISTS if `more`.
    fn release_pending(&mut self, more: bool) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let mut flags = self.status.flags();
        if more {
            flags |= StatusFlags::SERVER_MORE_RESULTS_EXISTS;
        }
        match pending {
            Pending::Ok(info) => encode_ok(self.out.begin(), 0x00, &info, flags),
            Pending::EndOfRows(info) if self.deprecate_eof => {
                encode_ok(self.out.begin(), 0xfe, &info, flags)
            }
            Pending::EndOfRows(info) => encode_eof(self.out.begin(), info.warnings, flags),
        }
        self.out.end();
    }

    /// Completes the command after the handler returned: sends `result`'s error if any,
    /// closes an unfinished result set, sends an OK if nothing was sent, and flushes.
    /// Returns false if the client connection is gone.
    pub(crate) async fn complete(mut self, result: Result<(), SqlError>) -> bool {
        if self.broken {
            return false;
        }
        match result {
            Err(err) => {
                // Not broken (checked above), so queuing the error cannot fail.
                let _ = self.error(err).await;
            }
            Ok(()) => match self.state {
                State::InResultSet => self.pending = Some(Pending::EndOfRows(OkInfo::default())),
                State::Idle if !self.responded => {
                    self.pending = Some(Pending::Ok(OkInfo::default()))
                }
                _ => {}
            },
        }
        self.release_pending(false);
        self.flush().await.is_ok()
    }
}

fn lost() -> SqlError {
    SqlError::new(
        codes::SERVER_LOST,
        "08S01",
        "Lost connection to MySQL client during query",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::decode_packet;
    use bytes::BytesMut;
    use tokio::io::AsyncReadExt;

    /// Runs `body` against a writer over an in-memory pipe; returns the packets written.
    async fn packets<F>(deprecate_eof: bool, binary: bool, body: F) -> Vec<Vec<u8>>
    where
        F: for<'w> FnOnce(
            &'w mut ResultWriter<'_>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<(), SqlError>> + 'w>,
        >,
    {
        let (ours, mut theirs) = tokio::io::duplex(1 << 20);
        let mut io: BoxIo = Box::new(ours);
        let mut out = PacketWriter::default();
        out.set_seq(1);
        let mut status = SessionStatus::default();
        let mut w = ResultWriter::new(&mut io, &mut out, &mut status, deprecate_eof, binary, false);
        let result = body(&mut w).await;
        assert!(w.complete(result).await);
        drop(io);
        let mut bytes = Vec::new();
        theirs.read_to_end(&mut bytes).await.unwrap();
        let mut buf = BytesMut::from(&bytes[..]);
        let mut seq = 1;
        let mut all = Vec::new();
        while let Some(p) = decode_packet(&mut buf, &mut seq, 1 << 24).unwrap() {
            all.push(p.to_vec());
        }
        assert!(buf.is_empty());
        all
    }

    fn status_of_eof(p: &[u8]) -> u16 {
        assert_eq!((p[0], p.len()), (0xfe, 5));
        u16::from_le_bytes([p[3], p[4]])
    }

    const MORE: u16 = StatusFlags::SERVER_MORE_RESULTS_EXISTS.bits();

    #[tokio::test]
    async fn several_results_carry_more_results_exists_on_all_but_the_last() {
        let col = [ColumnDef::new("a", ColumnType::MYSQL_TYPE_LONG)];
        let p = packets(false, false, |w| {
            Box::pin(async move {
                w.start(&col).await?;
                w.write_row(&[Some(b"1")]).await?;
                w.finish(OkInfo::default()).await?;
                w.ok(OkInfo {
                    affected_rows: 3,
                    ..OkInfo::default()
                })
                .await
            })
        })
        .await;
        // count, column, EOF, row, EOF(more), OK(last)
        assert_eq!(p.len(), 6);
        assert_eq!(p[3], b"\x011");
        assert_eq!(status_of_eof(&p[4]) & MORE, MORE);
        assert_eq!(p[5][..2], [0x00, 3]);
        assert_eq!(u16::from_le_bytes([p[5][3], p[5][4]]) & MORE, 0);
    }

    #[tokio::test]
    async fn deprecate_eof_and_binary_rows() {
        let cols = [
            ColumnDef::new("a", ColumnType::MYSQL_TYPE_LONG),
            ColumnDef::new("b", ColumnType::MYSQL_TYPE_VAR_STRING),
        ];
        let p = packets(true, true, |w| {
            Box::pin(async move {
                w.start(&cols).await?;
                w.write_row(&[Some(b"7"), None]).await
            })
        })
        .await;
        // count, 2 columns, binary row, OK-as-EOF (no EOF after the columns)
        assert_eq!(p.len(), 5);
        assert_eq!(p[3], [0x00, 0b0000_1000, 7, 0, 0, 0]);
        assert_eq!(p[4][0], 0xfe);
        assert!(p[4].len() >= 7, "an OK packet, not an old EOF");
    }

    #[tokio::test]
    async fn an_error_can_end_a_result_set_mid_way() {
        let col = [ColumnDef::new("a", ColumnType::MYSQL_TYPE_LONG)];
        let p = packets(false, false, |w| {
            Box::pin(async move {
                w.start(&col).await?;
                w.write_row(&[Some(b"1")]).await?;
                Err(SqlError::new(
                    1317,
                    "70100",
                    "Query execution was interrupted",
                ))
            })
        })
        .await;
        assert_eq!(p.len(), 5);
        assert_eq!(p[4][0], 0xff);
        assert_eq!(u16::from_le_bytes([p[4][1], p[4][2]]), 1317);
    }

    #[tokio::test]
    async fn bad_rows_and_empty_column_lists_are_errors() {
        let col = [ColumnDef::new("a", ColumnType::MYSQL_TYPE_LONG)];
        let p = packets(false, true, |w| {
            Box::pin(async move {
                assert!(w.start(&[]).await.is_err());
                w.start(&col).await?;
                assert!(w.write_row(&[Some(b"1"), None]).await.is_err());
                w.write_row(&[Some(b"not a number")]).await
            })
        })
        .await;
        // count, column, EOF, ERR: the unconvertible row left nothing behind
        assert_eq!(p.len(), 4);
        assert_eq!(p[3][0], 0xff);
    }

    #[tokio::test]
    async fn large_results_are_flushed_in_bounded_chunks() {
        let (ours, mut theirs) = tokio::io::duplex(64 << 10);
        let reader = tokio::spawn(async move {
            let mut n = 0usize;
            let mut chunk = vec![0u8; 8192];
            loop {
                match theirs.read(&mut chunk).await.unwrap() {
                    0 => return n,
                    k => n += k,
                }
            }
        });
        let mut io: BoxIo = Box::new(ours);
        let mut out = PacketWriter::default();
        let mut status = SessionStatus::default();
        let mut w = ResultWriter::new(&mut io, &mut out, &mut status, true, false, false);
        w.start(&[ColumnDef::new("a", ColumnType::MYSQL_TYPE_BLOB)])
            .await
            .unwrap();
        let value = vec![b'x'; 1000];
        let mut peak = 0;
        for _ in 0..2000 {
            w.write_row(&[Some(&value)]).await.unwrap();
            peak = peak.max(w.out.buffered());
        }
        assert!(w.complete(Ok(())).await);
        drop(io);
        assert!(peak < FLUSH_AT + 2000, "buffer grew to {peak}");
        assert!(reader.await.unwrap() > 2000 * 1000);
    }

    /// Counts write calls; reads nothing.
    struct CountingIo(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl tokio::io::AsyncRead for CountingIo {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    impl tokio::io::AsyncWrite for CountingIo {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_small_result_is_one_write() {
        let writes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut io: BoxIo = Box::new(CountingIo(std::sync::Arc::clone(&writes)));
        let mut out = PacketWriter::default();
        let mut status = SessionStatus::default();
        let mut w = ResultWriter::new(&mut io, &mut out, &mut status, false, false, false);
        let cols: Vec<ColumnDef> = (0..5)
            .map(|i| ColumnDef::new(format!("c{i}"), ColumnType::MYSQL_TYPE_VAR_STRING))
            .collect();
        w.start(&cols).await.unwrap();
        for _ in 0..20 {
            w.write_row(&[Some(b"a"), Some(b"b"), None, Some(b"d"), Some(b"e")])
                .await
                .unwrap();
        }
        w.finish(OkInfo::default()).await.unwrap();
        assert!(w.complete(Ok(())).await);
        assert_eq!(writes.load(std::sync::atomic::Ordering::Relaxed), 1);
    }
}
