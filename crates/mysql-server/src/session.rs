//! The wire state of one connection: its stream, packet reader and writer, and the sequence id
//! of the current exchange, with helpers to send the generic responses.

use bytes::Bytes;
use mysql_common::constants::StatusFlags;

use crate::error::{codes, SqlError};
use crate::io::BoxIo;
use crate::packet::{FrameError, PacketReader, PacketWriter, ReadError};
use crate::response::{encode_eof, encode_err, encode_ok, OkInfo};

/// Stream, framing and sequence state of a connection.
pub(crate) struct Session {
    pub io: BoxIo,
    pub reader: PacketReader,
    pub writer: PacketWriter,
    /// Sequence id expected on the next incoming packet.
    pub seq: u8,
    /// Largest accepted incoming packet.
    pub max_packet: usize,
}

impl Session {
    pub fn new(io: BoxIo, max_packet: usize) -> Self {
        Self {
            io,
            reader: PacketReader::default(),
            writer: PacketWriter::default(),
            seq: 0,
            max_packet,
        }
    }

    /// Starts a new command exchange: the client's next packet has sequence id 0.
    pub fn new_exchange(&mut self) {
        self.seq = 0;
        self.writer.set_seq(0);
    }

    /// Reads the next packet; replies continue its sequence. `Ok(None)`: the peer closed.
    pub async fn read(&mut self) -> Result<Option<Bytes>, ReadError> {
        let packet = self
            .reader
            .read(&mut self.io, &mut self.seq, self.max_packet)
            .await?;
        self.writer.set_seq(self.seq);
        Ok(packet)
    }

    /// Queues a packet.
    pub fn write(&mut self, payload: &[u8]) {
        self.writer.packet(payload);
    }

    /// Queues an OK packet.
    pub fn write_ok(&mut self, status: StatusFlags) {
        encode_ok(self.writer.begin(), 0x00, &OkInfo::default(), status);
        self.writer.end();
    }

    /// Queues the end of a (possibly empty) row list: EOF, or OK with header 0xFE under
    /// CLIENT_DEPRECATE_EOF.
    pub fn write_end_of_rows(&mut self, deprecate_eof: bool, status: StatusFlags) {
        if deprecate_eof {
            encode_ok(self.writer.begin(), 0xfe, &OkInfo::default(), status);
        } else {
            encode_eof(self.writer.begin(), 0, status);
        }
        self.writer.end();
    }

    /// Queues an ERR packet.
    pub fn write_err(&mut self, err: &SqlError) {
        encode_err(self.writer.begin(), err);
        self.writer.end();
    }

    /// Writes everything queued with one write; the client's next packet continues the
    /// sequence.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush(&mut self.io).await?;
        self.seq = self.writer.seq();
        Ok(())
    }

    /// Answers a packet that could not be read, when an answer makes sense: an oversize
    /// packet gets ER_NET_PACKET_TOO_LARGE, a sequence error ER_NET_PACKETS_OUT_OF_ORDER.
    /// The connection must be closed afterwards.
    pub async fn report_read_error(&mut self, err: &ReadError) {
        let reply = match err {
            ReadError::Frame(FrameError::TooLarge { .. }) => {
                self.writer.set_seq(self.seq.wrapping_add(1));
                SqlError::new(
                    codes::PACKET_TOO_LARGE,
                    "08S01",
                    "Got a packet bigger than 'max_allowed_packet' bytes",
                )
            }
            ReadError::Frame(FrameError::OutOfOrder { got, .. }) => {
                self.writer.set_seq(got.wrapping_add(1));
                SqlError::new(
                    codes::PACKETS_OUT_OF_ORDER,
                    "08S01",
                    "Got packets out of order",
                )
            }
            ReadError::Io(_) | ReadError::Truncated => return,
        };
        tracing::debug!(error = %err, "refusing packet");
        self.write_err(&reply);
        if let Err(e) = self.flush().await {
            tracing::debug!(error = %e, "could not send the error");
        }
    }
}
