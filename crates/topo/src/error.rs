//! The topology error type, with Vitess's texts for the common cases
//! (`node doesn't exist: <path>`, `node already exists: <path>`, ...).

/// Result of a topology operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a topology operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The node (or directory) does not exist.
    #[error("node doesn't exist: {0}")]
    NoNode(String),
    /// A create found the node already there.
    #[error("node already exists: {0}")]
    NodeExists(String),
    /// A conditional update or delete found another version.
    #[error("bad node version: {0}")]
    BadVersion(String),
    /// The topology server could not be reached, or did not answer in time.
    #[error("topo server unavailable: {0}")]
    Unavailable(String),
    /// The stored bytes are not the expected protobuf message.
    #[error("cannot decode {path}: {source}")]
    Decode {
        /// Path of the node whose contents failed to decode.
        path: String,
        /// The protobuf decoding error.
        source: prost::DecodeError,
    },
    /// A watch was stopped.
    #[error("interrupted")]
    Interrupted,
    /// Anything else (invalid names, inconsistent records, ...).
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether this is [`Error::NoNode`].
    pub fn is_no_node(&self) -> bool {
        matches!(self, Error::NoNode(_))
    }

    /// Whether this is [`Error::NodeExists`].
    pub fn is_node_exists(&self) -> bool {
        matches!(self, Error::NodeExists(_))
    }

    /// Whether this is [`Error::BadVersion`].
    pub fn is_bad_version(&self) -> bool {
        matches!(self, Error::BadVersion(_))
    }
}

/// Decodes a protobuf message read from `path`.
pub(crate) fn decode<T: prost::Message + Default>(path: &str, bytes: &[u8]) -> Result<T> {
    T::decode(bytes).map_err(|source| Error::Decode {
        path: path.to_string(),
        source,
    })
}

/// Maps "the node is absent" to `Ok(None)`.
pub(crate) fn optional<T>(r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::NoNode(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
