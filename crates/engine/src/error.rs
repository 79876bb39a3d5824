//! The engine's error type: planning and execution failures with Vitess's
//! texts, and the MySQL error number and SQLSTATE a client should see.

use vschema::{FindTableError, KeyRangeError, VindexError};

/// A failure from a [`VCursor`](crate::VCursor) call, kept opaque so the
/// caller (vtgate) can downcast it back to its own error type.
pub type CursorError = Box<dyn std::error::Error + Send + Sync>;

/// Errors from planning or executing a statement.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A query shape the engine does not handle (Vitess VT12001, 1235/42000).
    #[error("VT12001: unsupported: {0}")]
    Unsupported(String),
    /// A table name could not be resolved.
    #[error(transparent)]
    Table(#[from] FindTableError),
    /// No keyspace to resolve an unqualified table in (Vitess VT09005).
    #[error("VT09005: no database selected: use keyspace<:shard><@type> or keyspace<[range]><@type> (<> are optional)")]
    NoDatabase,
    /// A vindex failed to map a value.
    #[error(transparent)]
    Vindex(#[from] VindexError),
    /// A keyspace id or key range matched no shard.
    #[error(transparent)]
    KeyRange(#[from] KeyRangeError),
    /// A buffering primitive went over `--max-memory-rows`.
    #[error("in-memory row count exceeded allowed limit of {0}")]
    RowLimit(usize),
    /// A bind variable the plan needs was not supplied.
    #[error("missing bind var {0}")]
    MissingBindVar(String),
    /// A shard returned a result the engine cannot use.
    #[error("{0}")]
    BadResult(String),
    /// An error MySQL itself would give, with its number and SQLSTATE.
    #[error("{message}")]
    MySql {
        /// MySQL error number.
        errno: u16,
        /// SQLSTATE.
        sqlstate: &'static str,
        /// The message.
        message: String,
    },
    /// The vcursor (shard execution) failed.
    #[error(transparent)]
    Cursor(CursorError),
}

impl EngineError {
    /// The MySQL error number to send to the client.
    pub fn errno(&self) -> u16 {
        match self {
            EngineError::Unsupported(_) => 1235,
            EngineError::Table(FindTableError::NotFound(_)) => 1109,
            EngineError::Table(FindTableError::UnknownKeyspace(_)) => 1049,
            EngineError::NoDatabase => 1046,
            EngineError::MySql { errno, .. } => *errno,
            _ => 1105,
        }
    }

    /// The SQLSTATE to send to the client.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            EngineError::Unsupported(_)
            | EngineError::Table(FindTableError::UnknownKeyspace(_)) => "42000",
            EngineError::Table(FindTableError::NotFound(_)) => "42S02",
            EngineError::NoDatabase => "3D000",
            EngineError::MySql { sqlstate, .. } => sqlstate,
            _ => "HY000",
        }
    }

    /// MySQL's `ER_SUBQUERY_NO_1_ROW`.
    pub fn subquery_rows() -> Self {
        Self::mysql(1242, "21000", "Subquery returns more than 1 row")
    }

    /// MySQL's `ER_OPERAND_COLUMNS` for one expected column.
    pub fn operand_columns() -> Self {
        Self::mysql(1241, "21000", "Operand should contain 1 column(s)")
    }

    /// Vitess's VT09004 for an INSERT without a column list into a sharded table (an invalid
    /// argument, so 1105/HY000 as Vitess sends it, not VT12001).
    pub fn insert_without_columns() -> Self {
        Self::mysql(
            1105,
            "HY000",
            "VT09004: INSERT should contain column list or the table should have authoritative columns in vschema",
        )
    }

    /// An error with MySQL's number, SQLSTATE and text.
    pub fn mysql(errno: u16, sqlstate: &'static str, message: impl Into<String>) -> Self {
        EngineError::MySql {
            errno,
            sqlstate,
            message: message.into(),
        }
    }

    /// Shorthand for [`EngineError::Unsupported`].
    pub fn unsupported(what: impl Into<String>) -> Self {
        EngineError::Unsupported(what.into())
    }
}

/// Result alias for the engine.
pub type Result<T> = std::result::Result<T, EngineError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_and_codes() {
        let e = EngineError::unsupported("cross-shard join");
        assert_eq!(e.to_string(), "VT12001: unsupported: cross-shard join");
        assert_eq!((e.errno(), e.sqlstate()), (1235, "42000"));
        let e = EngineError::Table(FindTableError::NotFound("nouser".into()));
        assert_eq!(e.to_string(), "table nouser not found");
        assert_eq!((e.errno(), e.sqlstate()), (1109, "42S02"));
        let e = EngineError::subquery_rows();
        assert_eq!((e.errno(), e.sqlstate()), (1242, "21000"));
        assert_eq!(
            EngineError::RowLimit(3).to_string(),
            "in-memory row count exceeded allowed limit of 3"
        );
    }
}
