//! Errors of the vreplication crate.

use mysqlctl::PositionParseError;

/// Everything that can go wrong while reading a binlog, copying or applying.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A MySQL protocol or server error from the source or the target.
    #[error("mysql: {0}")]
    Mysql(#[from] mysql_async::Error),
    /// A binlog event could not be decoded.
    #[error("cannot decode binlog event {event_type}: {reason}")]
    Decode {
        /// Raw event type byte.
        event_type: u8,
        /// What went wrong.
        reason: String,
    },
    /// The CRC32 of an event does not match its content.
    #[error(
        "binlog checksum mismatch in event type {event_type} ending at log position {log_pos}"
    )]
    Checksum {
        /// Raw event type byte.
        event_type: u8,
        /// `log_pos` from the event header.
        log_pos: u32,
    },
    /// The binlog uses a feature this reader does not decode; it refuses
    /// rather than guess.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The source closed the binlog stream.
    #[error("the source closed the binlog stream")]
    StreamEnded,
    /// Neither events nor heartbeats arrived for this long.
    #[error("no binlog event or heartbeat from the source for {0:?}")]
    Silent(std::time::Duration),
    /// A stored or reported position could not be parsed.
    #[error(transparent)]
    Position(#[from] PositionParseError),
    /// No `_vt.vreplication` row has this id.
    #[error("no vreplication stream with id {0}")]
    NoSuchStream(u32),
    /// The `source` column is not a BinlogSource in protobuf text form we understand.
    #[error("invalid BinlogSource text: {0}")]
    SourceText(String),
    /// A filter rule this crate cannot evaluate.
    #[error("unsupported filter rule {rule:?}: {reason}")]
    Filter {
        /// The rule's filter text.
        rule: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A replicated table has no primary key on the target.
    #[error("table {0} has no primary key")]
    NoPrimaryKey(String),
    /// A stream did not reach a position in time.
    #[error("stream {id} did not reach {want} in time (at {have})")]
    CatchupTimeout {
        /// Stream id.
        id: u32,
        /// Position waited for.
        want: String,
        /// Position reached.
        have: String,
    },
    /// The stream was asked to stop.
    #[error("stream stopped")]
    Stopped,
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn decode(event_type: u8, reason: impl ToString) -> Self {
        Error::Decode {
            event_type,
            reason: reason.to_string(),
        }
    }
}
