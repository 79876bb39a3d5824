//! Encoders of the generic response packets: OK, EOF and ERR.

use bytes::{BufMut, BytesMut};
use mysql_common::constants::StatusFlags;
use mysql_common::io::BufMutExt;

use crate::error::SqlError;

/// What an OK packet reports about a statement that returned no rows (or ended a result set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OkInfo {
    /// Rows changed (or matched, with CLIENT_FOUND_ROWS).
    pub affected_rows: u64,
    /// Last AUTO_INCREMENT id generated.
    pub last_insert_id: u64,
    /// Number of warnings.
    pub warnings: u16,
    /// Human-readable info, e.g. `Rows matched: 1  Changed: 1  Warnings: 0`.
    pub info: String,
}

/// Appends an OK packet payload; `header` is 0x00, or 0xFE when it ends a result set under
/// CLIENT_DEPRECATE_EOF.
pub fn encode_ok(buf: &mut BytesMut, header: u8, info: &OkInfo, status: StatusFlags) {
    buf.put_u8(header);
    buf.put_lenenc_int(info.affected_rows);
    buf.put_lenenc_int(info.last_insert_id);
    buf.put_u16_le(status.bits());
    buf.put_u16_le(info.warnings);
    // MariaDB sends the info text length-encoded, and only when there is one, whether or not
    // CLIENT_SESSION_TRACK was negotiated (libmariadb always reads it so); the protocol
    // documentation's string<EOF> form for clients without it is what MySQL describes, not
    // what MariaDB's clients parse.
    if !info.info.is_empty() {
        buf.put_lenenc_str(info.info.as_bytes());
    }
}

/// Appends a (pre-4.1-style terminator) EOF packet payload.
pub fn encode_eof(buf: &mut BytesMut, warnings: u16, status: StatusFlags) {
    buf.put_u8(0xfe);
    buf.put_u16_le(warnings);
    buf.put_u16_le(status.bits());
}

/// Appends an ERR packet payload.
pub fn encode_err(buf: &mut BytesMut, err: &SqlError) {
    buf.put_u8(0xff);
    buf.put_u16_le(err.code);
    buf.put_u8(b'#');
    buf.put_slice(&err.state);
    buf.put_slice(err.message.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::constants::CapabilityFlags;
    use mysql_common::io::ParseBuf;
    use mysql_common::packets::{CommonOkPacket, ErrPacket, OkPacketDeserializer};
    use mysql_common::proto::MyDeserialize;

    #[test]
    fn ok_packet_parses_with_mysql_common() {
        let info = OkInfo {
            affected_rows: 300,
            last_insert_id: 70000,
            warnings: 2,
            info: "Rows matched: 1".into(),
        };
        let mut buf = BytesMut::new();
        encode_ok(&mut buf, 0, &info, StatusFlags::SERVER_STATUS_AUTOCOMMIT);
        let ok = OkPacketDeserializer::<CommonOkPacket>::deserialize(
            CapabilityFlags::CLIENT_PROTOCOL_41,
            &mut ParseBuf(&buf),
        )
        .unwrap()
        .into_inner();
        assert_eq!(ok.affected_rows(), 300);
        assert_eq!(ok.last_insert_id(), Some(70000));
        assert_eq!(ok.warnings(), 2);
        assert_eq!(ok.status_flags(), StatusFlags::SERVER_STATUS_AUTOCOMMIT);
        assert_eq!(ok.info_ref(), Some(&b"Rows matched: 1"[..]));
    }

    #[test]
    fn err_packet_parses_with_mysql_common() {
        let mut buf = BytesMut::new();
        encode_err(&mut buf, &SqlError::access_denied("bob", "127.0.0.1", true));
        let err = ErrPacket::deserialize(CapabilityFlags::CLIENT_PROTOCOL_41, &mut ParseBuf(&buf))
            .unwrap();
        let err = err.server_error();
        assert_eq!(err.error_code(), 1045);
        assert_eq!(err.sql_state_ref().unwrap().as_str(), "28000");
        assert_eq!(
            err.message_str(),
            "Access denied for user 'bob'@'127.0.0.1' (using password: YES)"
        );
    }
}
