//! MariaDB's own binlog events, which `mysql_common` does not know:
//! GTID (162) is parsed here; ANNOTATE_ROWS (160), BINLOG_CHECKPOINT (161)
//! and GTID_LIST (163) carry nothing a stream needs and are skipped.

use mysqlctl::Gtid;

use crate::error::{Error, Result};

/// ANNOTATE_ROWS: the SQL text of the following row events.
pub const ANNOTATE_ROWS_EVENT: u8 = 160;
/// BINLOG_CHECKPOINT: binlog files still needed for crash recovery.
pub const BINLOG_CHECKPOINT_EVENT: u8 = 161;
/// GTID: starts an event group (transaction or standalone statement).
pub const GTID_EVENT: u8 = 162;
/// GTID_LIST: the binlog state at the start of a file or stream.
pub const GTID_LIST_EVENT: u8 = 163;
/// START_ENCRYPTION: the rest of the file is encrypted.
pub const START_ENCRYPTION_EVENT: u8 = 164;
/// First and last of the compressed QUERY / ROWS event types.
pub const FIRST_COMPRESSED_EVENT: u8 = 165;
/// See [`FIRST_COMPRESSED_EVENT`].
pub const LAST_COMPRESSED_EVENT: u8 = 171;

/// The group is a single statement without BEGIN/COMMIT (DDL, mostly).
const FL_STANDALONE: u8 = 1;
/// A commit id for group commit follows the flags.
const FL_GROUP_COMMIT_ID: u8 = 2;
/// The group is an XA PREPARE.
const FL_PREPARED_XA: u8 = 64;
/// The group is an XA COMMIT or ROLLBACK.
const FL_COMPLETED_XA: u8 = 128;

/// A decoded GTID event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GtidEvent {
    /// The transaction's GTID.
    pub gtid: Gtid,
    /// True when the group is one statement with no COMMIT or XID after it.
    pub standalone: bool,
}

impl GtidEvent {
    /// Parses the body of a GTID event (after the common header, without
    /// checksum). `server_id` comes from the event header.
    pub fn parse(server_id: u32, data: &[u8]) -> Result<Self> {
        let short = || Error::decode(GTID_EVENT, "event shorter than 13 bytes");
        let sequence = u64::from_le_bytes(
            data.get(0..8)
                .ok_or_else(short)?
                .try_into()
                .map_err(|_| short())?,
        );
        let domain = u32::from_le_bytes(
            data.get(8..12)
                .ok_or_else(short)?
                .try_into()
                .map_err(|_| short())?,
        );
        let flags = *data.get(12).ok_or_else(short)?;
        if flags & (FL_PREPARED_XA | FL_COMPLETED_XA) != 0 {
            return Err(Error::Unsupported(format!(
                "XA transaction {domain}-{server_id}-{sequence} in the binlog"
            )));
        }
        if flags & FL_GROUP_COMMIT_ID != 0 && data.len() < 21 {
            return Err(Error::decode(GTID_EVENT, "group commit id missing"));
        }
        Ok(GtidEvent {
            gtid: Gtid {
                domain,
                server_id,
                sequence,
            },
            standalone: flags & FL_STANDALONE != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sequence_domain_and_flags() {
        let mut body = Vec::new();
        body.extend_from_slice(&42u64.to_le_bytes());
        body.extend_from_slice(&3u32.to_le_bytes());
        body.push(FL_STANDALONE | FL_GROUP_COMMIT_ID);
        body.extend_from_slice(&7u64.to_le_bytes());
        let ev = GtidEvent::parse(100, &body).unwrap();
        assert_eq!(ev.gtid.to_string(), "3-100-42");
        assert!(ev.standalone);
        body[12] = 0;
        assert!(!GtidEvent::parse(100, &body).unwrap().standalone);
        assert!(GtidEvent::parse(100, &body[..10]).is_err());
        body[12] = FL_PREPARED_XA;
        assert!(matches!(
            GtidEvent::parse(100, &body),
            Err(Error::Unsupported(_))
        ));
    }
}
