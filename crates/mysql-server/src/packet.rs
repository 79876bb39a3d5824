//! Packet framing: the 4-byte header (24-bit length, sequence id), splitting of payloads of
//! 16 MiB - 1 bytes and more into several packets and their reassembly, sequence-id checks and
//! the configurable maximum size of an incoming packet.
//!
//! Reading and writing are separated from the socket: [`decode_packet`] works on a byte buffer
//! (so it can be property-tested and fuzzed), and [`PacketWriter`] frames outgoing packets into
//! one buffer that the connection flushes with a single write per result.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest payload of one physical packet; a payload of this length is continued in the next.
pub const MAX_PAYLOAD: usize = 0xFF_FFFF;

/// Initial read-buffer size per connection.
const READ_CHUNK: usize = 4096;
/// Buffers that grew beyond this are released once drained, so an idle connection holds
/// little memory whatever it did before.
const SHRINK_ABOVE: usize = 64 << 10;

/// Why an incoming packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The sequence id was not the one expected next.
    #[error("packets out of order: expected sequence id {expected}, got {got}")]
    OutOfOrder {
        /// Sequence id the server expected.
        expected: u8,
        /// Sequence id the client sent.
        got: u8,
    },
    /// The logical packet is larger than the configured maximum.
    #[error("packet of at least {size} bytes exceeds the maximum of {max} bytes")]
    TooLarge {
        /// Bytes announced so far.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
}

/// Tries to take one logical packet (all its physical parts) off the front of `buf`.
///
/// `seq` is the sequence id expected for the first part; on success it is advanced past the
/// last part. Returns `Ok(None)` when more bytes are needed; nothing is consumed then.
pub fn decode_packet(
    buf: &mut BytesMut,
    seq: &mut u8,
    max_size: usize,
) -> Result<Option<Bytes>, FrameError> {
    let mut offset = 0usize;
    let mut total = 0usize;
    let mut expected = *seq;
    let mut parts = 0usize;
    loop {
        let Some(header) = buf.get(offset..offset + 4) else {
            return Ok(None);
        };
        let len =
            usize::from(header[0]) | (usize::from(header[1]) << 8) | (usize::from(header[2]) << 16);
        if header[3] != expected {
            return Err(FrameError::OutOfOrder {
                expected,
                got: header[3],
            });
        }
        total += len;
        if total > max_size {
            return Err(FrameError::TooLarge {
                size: total,
                max: max_size,
            });
        }
        if buf.len() < offset + 4 + len {
            return Ok(None);
        }
        offset += 4 + len;
        parts += 1;
        expected = expected.wrapping_add(1);
        if len < MAX_PAYLOAD {
            break;
        }
    }
    *seq = expected;
    if parts == 1 {
        let mut frame = buf.split_to(offset);
        frame.advance(4);
        return Ok(Some(frame.freeze()));
    }
    let frame = buf.split_to(offset);
    let mut payload = Vec::with_capacity(total);
    let mut rest = &frame[..];
    while rest.len() >= 4 {
        let len = usize::from(rest[0]) | (usize::from(rest[1]) << 8) | (usize::from(rest[2]) << 16);
        payload.extend_from_slice(&rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
    Ok(Some(Bytes::from(payload)))
}

/// Errors while reading a packet from a socket.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The bytes did not frame into an acceptable packet.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer closed the connection in the middle of a packet.
    #[error("connection closed inside a packet")]
    Truncated,
}

/// Reads whole packets from a socket through a reusable buffer.
#[derive(Debug, Default)]
pub struct PacketReader {
    buf: BytesMut,
}

impl PacketReader {
    /// Reads the next logical packet. `Ok(None)` means the peer closed the connection cleanly
    /// between packets.
    pub async fn read<S: AsyncRead + Unpin>(
        &mut self,
        stream: &mut S,
        seq: &mut u8,
        max_size: usize,
    ) -> Result<Option<Bytes>, ReadError> {
        loop {
            if let Some(packet) = decode_packet(&mut self.buf, seq, max_size)? {
                if self.buf.is_empty() && self.buf.capacity() > SHRINK_ABOVE {
                    self.buf = BytesMut::new();
                }
                return Ok(Some(packet));
            }
            if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
                self.buf.reserve(READ_CHUNK);
            }
            if stream.read_buf(&mut self.buf).await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(ReadError::Truncated)
                };
            }
        }
    }

    /// Takes out any bytes read past the last packet (when switching to TLS, the start of the
    /// client's TLS handshake).
    pub fn take_buffered(&mut self) -> BytesMut {
        std::mem::take(&mut self.buf)
    }
}

/// Frames outgoing packets into one buffer, tracking the sequence id.
#[derive(Debug, Default)]
pub struct PacketWriter {
    buf: BytesMut,
    seq: u8,
    start: usize,
}

impl PacketWriter {
    /// Sets the sequence id of the next packet.
    pub fn set_seq(&mut self, seq: u8) {
        self.seq = seq;
    }

    /// Sequence id the next packet will carry.
    pub fn seq(&self) -> u8 {
        self.seq
    }

    /// Bytes waiting to be flushed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Starts a packet and returns the buffer to append its payload to; call [`Self::end`]
    /// when the payload is complete.
    pub fn begin(&mut self) -> &mut BytesMut {
        self.start = self.buf.len();
        self.buf.put_slice(&[0, 0, 0, 0]);
        &mut self.buf
    }

    /// Completes the packet started by [`Self::begin`], splitting it if it is 16 MiB or more.
    pub fn end(&mut self) {
        let len = self.buf.len() - self.start - 4;
        if len < MAX_PAYLOAD {
            self.write_header(self.start, len);
            return;
        }
        let payload = self.buf.split_off(self.start + 4);
        self.buf.truncate(self.start);
        let mut chunks = payload.chunks(MAX_PAYLOAD).peekable();
        while let Some(chunk) = chunks.next() {
            let at = self.buf.len();
            self.buf.put_slice(&[0, 0, 0, 0]);
            self.buf.put_slice(chunk);
            self.write_header(at, chunk.len());
            if chunks.peek().is_none() && chunk.len() == MAX_PAYLOAD {
                let at = self.buf.len();
                self.buf.put_slice(&[0, 0, 0, 0]);
                self.write_header(at, 0);
            }
        }
    }

    /// Appends a whole packet with the given payload.
    pub fn packet(&mut self, payload: &[u8]) {
        self.begin().put_slice(payload);
        self.end();
    }

    fn write_header(&mut self, at: usize, len: usize) {
        let header = [len as u8, (len >> 8) as u8, (len >> 16) as u8, self.seq];
        self.buf[at..at + 4].copy_from_slice(&header);
        self.seq = self.seq.wrapping_add(1);
    }

    /// Writes all buffered packets with one `write_all` and flushes the stream.
    pub async fn flush<S: AsyncWrite + Unpin>(&mut self, stream: &mut S) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            stream.write_all(&self.buf).await?;
            self.buf.clear();
            if self.buf.capacity() > SHRINK_ABOVE {
                self.buf = BytesMut::new();
            }
        }
        stream.flush().await
    }

    /// Takes the buffered bytes without writing them (for tests).
    pub fn take(&mut self) -> BytesMut {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(payload: &[u8]) -> BytesMut {
        let mut w = PacketWriter::default();
        w.packet(payload);
        w.take()
    }

    #[test]
    fn small_packet_round_trip() {
        let mut buf = frame(b"\x03select 1");
        assert_eq!(&buf[..4], &[9, 0, 0, 0]);
        let mut seq = 0;
        let p = decode_packet(&mut buf, &mut seq, 1024).unwrap().unwrap();
        assert_eq!(&p[..], b"\x03select 1");
        assert_eq!(seq, 1);
        assert!(buf.is_empty());
    }

    #[test]
    fn incomplete_packet_needs_more() {
        let full = frame(b"hello");
        for cut in 0..full.len() {
            let mut buf = BytesMut::from(&full[..cut]);
            let mut seq = 0;
            assert_eq!(decode_packet(&mut buf, &mut seq, 1024), Ok(None));
            assert_eq!(buf.len(), cut);
            assert_eq!(seq, 0);
        }
    }

    #[test]
    fn wrong_sequence_id_is_refused() {
        let mut buf = frame(b"x");
        let mut seq = 3;
        assert_eq!(
            decode_packet(&mut buf, &mut seq, 1024),
            Err(FrameError::OutOfOrder {
                expected: 3,
                got: 0
            })
        );
    }

    #[test]
    fn oversize_is_refused_from_the_header_alone() {
        let mut buf = BytesMut::from(&[0xff, 0xff, 0x00, 0][..]);
        let mut seq = 0;
        assert!(matches!(
            decode_packet(&mut buf, &mut seq, 1000),
            Err(FrameError::TooLarge { size: 65535, .. })
        ));
    }

    #[test]
    fn sixteen_mib_payloads_split_and_reassemble() {
        for len in [
            MAX_PAYLOAD - 1,
            MAX_PAYLOAD,
            MAX_PAYLOAD + 5,
            2 * MAX_PAYLOAD,
        ] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut w = PacketWriter::default();
            w.packet(&payload);
            let parts = len / MAX_PAYLOAD + 1;
            assert_eq!(w.seq() as usize, parts);
            let mut buf = w.take();
            assert_eq!(buf.len(), len + 4 * parts);
            let mut seq = 0;
            let got = decode_packet(&mut buf, &mut seq, 64 << 20)
                .unwrap()
                .unwrap();
            assert_eq!(got.len(), len);
            assert!(got[..] == payload[..]);
            assert_eq!(seq as usize, parts);
        }
    }
}
