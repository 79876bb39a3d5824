//! Errors from building a VSchema and from resolving table names, with
//! Vitess's texts (`go/vt/vtgate/vindexes/vschema.go`).

use crate::vindexes::VindexError;

/// Why a keyspace's VSchema is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// A vindex could not be created (unknown type, bad params).
    #[error("{0}")]
    Vindex(#[from] VindexError),
    /// A sequence table in a sharded keyspace without `pinned`.
    #[error("sequence table has to be in an unsharded keyspace or must be pinned: {0}")]
    ShardedSequence(String),
    /// `type` is not "", "sequence" or "reference".
    #[error("unidentified table type {0}")]
    UnknownTableType(String),
    /// `pinned` is not hex.
    #[error("could not decode the keyspace id for pin: {0}")]
    BadPin(crate::hex::HexError),
    /// A table of a sharded keyspace has no column vindex.
    #[error("missing primary col vindex for table: {0}")]
    MissingPrimaryVindex(String),
    /// The same column is declared twice.
    #[error("duplicate column name '{column}' for table: {table}")]
    DuplicateColumn {
        /// Column name.
        column: String,
        /// Table name.
        table: String,
    },
    /// A column vindex names an undefined vindex.
    #[error("vindex {vindex} not found for table {table}")]
    VindexNotFound {
        /// Vindex name.
        vindex: String,
        /// Table name.
        table: String,
    },
    /// Both `column` and `columns` are set.
    #[error(
        "can't use column and columns at the same time in vindex ({vindex}) and table ({table})"
    )]
    ColumnAndColumns {
        /// Vindex name.
        vindex: String,
        /// Table name.
        table: String,
    },
    /// Neither `column` nor `columns` is set.
    #[error("must specify at least one column for vindex ({vindex}) and table ({table})")]
    NoColumns {
        /// Vindex name.
        vindex: String,
        /// Table name.
        table: String,
    },
    /// The first column vindex is not unique.
    #[error("primary vindex {vindex} is not Unique for table {table}")]
    PrimaryNotUnique {
        /// Vindex name.
        vindex: String,
        /// Table name.
        table: String,
    },
    /// The first column vindex is owned by the table.
    #[error("primary vindex {vindex} cannot be owned for table {table}")]
    PrimaryOwned {
        /// Vindex name.
        vindex: String,
        /// Table name.
        table: String,
    },
    /// A multi-column vindex that is not the first column vindex.
    #[error("multi-column vindex {vindex} should be a primary vindex for table {table}")]
    MultiColumnNotPrimary {
        /// Vindex name.
        vindex: String,
        /// Table name.
        table: String,
    },
    /// A reference table's `source` is not `t` or `ks.t`.
    #[error("invalid source {written:?} for reference table: {table}; {reason}")]
    InvalidSource {
        /// The source as written.
        written: String,
        /// Table name.
        table: String,
        /// Why.
        reason: String,
    },
    /// Some other problem with a reference table's source.
    #[error("{0}")]
    Reference(String),
    /// An auto-increment sequence cannot be found.
    #[error("cannot resolve sequence {sequence}: {reason}")]
    UnresolvedSequence {
        /// The sequence as written.
        sequence: String,
        /// Why.
        reason: String,
    },
}

/// Why a table name could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindTableError {
    /// No such table (MySQL 1109 / 42S02 in vtgate).
    #[error("table {0} not found")]
    NotFound(String),
    /// An unqualified name exists in several keyspaces.
    #[error("ambiguous table reference: {0}")]
    Ambiguous(String),
    /// The qualifier names no keyspace (MySQL 1049 / 42000).
    #[error("VT05003: unknown database '{0}' in vschema")]
    UnknownKeyspace(String),
    /// A routing rule with no target disables the table.
    #[error("table {0} has been disabled")]
    Disabled(String),
    /// The routing rule for the name is invalid.
    #[error("{0}")]
    BadRoutingRule(String),
    /// An unqualified vindex name exists in several keyspaces.
    #[error("ambiguous vindex reference: {0}")]
    AmbiguousVindex(String),
}
