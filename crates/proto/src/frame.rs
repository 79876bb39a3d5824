//! gRPC's length-prefixed message framing, for the calls vtgate and vttablet exchange on
//! `h2` directly (vtgate's unary client, the tablet's unary server): one byte of compression
//! flag (always 0 here), a big-endian u32 length, the protobuf bytes.

use prost::bytes::{Buf, BufMut, Bytes, BytesMut};
use prost::Message;

/// Why a body is not one uncompressed gRPC message.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Fewer than the five bytes of a frame header.
    #[error("no message")]
    Missing,
    /// The compression flag is set; neither side asks for compression.
    #[error("compressed message")]
    Compressed,
    /// The header's length disagrees with the body.
    #[error("frame of {declared} bytes holds {actual}")]
    Length { declared: usize, actual: usize },
    /// The bytes are not the expected message.
    #[error("{0}")]
    Decode(#[from] prost::DecodeError),
}

/// `message` as one gRPC frame.
pub fn encode<M: Message>(message: &M) -> Bytes {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(5 + len);
    buf.put_u8(0);
    buf.put_u32(len as u32);
    // Encoding into a buffer with enough capacity cannot fail.
    let _ = message.encode(&mut buf);
    buf.freeze()
}

/// The one message a unary body holds.
pub fn decode<M: Message + Default>(mut data: Bytes) -> Result<M, FrameError> {
    if data.len() < 5 {
        return Err(FrameError::Missing);
    }
    if data.get_u8() != 0 {
        return Err(FrameError::Compressed);
    }
    let declared = data.get_u32() as usize;
    if declared != data.len() {
        return Err(FrameError::Length {
            declared,
            actual: data.len(),
        });
    }
    Ok(M::decode(data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let msg = crate::query::QueryResult {
            rows_affected: 7,
            ..Default::default()
        };
        let framed = encode(&msg);
        assert_eq!(framed[0], 0);
        assert_eq!(framed.len(), 5 + msg.encoded_len());
        let back: crate::query::QueryResult = decode(framed).unwrap();
        assert_eq!(back.rows_affected, 7);
        let short = decode::<crate::query::QueryResult>(Bytes::from_static(&[0, 0, 0, 0, 9]));
        assert!(matches!(
            short,
            Err(FrameError::Length {
                declared: 9,
                actual: 0
            })
        ));
        let compressed = decode::<crate::query::QueryResult>(Bytes::from_static(&[1, 0, 0, 0, 0]));
        assert!(matches!(compressed, Err(FrameError::Compressed)));
        assert!(matches!(
            decode::<crate::query::QueryResult>(Bytes::from_static(&[1, 0])),
            Err(FrameError::Missing)
        ));
    }
}
