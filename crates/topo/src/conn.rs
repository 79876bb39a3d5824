//! The storage trait every topology backend implements: a tree of files
//! holding bytes, each with a version, plus watches on single files.

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;

use crate::error::Result;

/// Version of a node: the etcd `mod_revision` of its last write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub i64);

/// Contents and version of a node.
pub type NodeValue = (Vec<u8>, Version);

/// Changes of one watched node: `Some` is new contents, `None` a deletion.
/// An `Err` item ends the stream; the watcher re-establishes it.
pub type WatchStream = futures::stream::BoxStream<'static, Result<Option<NodeValue>>>;

/// One topology cell (or the global cell): paths are relative to its root,
/// with `/` separators and no leading slash (`keyspaces/ks/Keyspace`).
#[async_trait]
pub trait Conn: Send + Sync + 'static {
    /// Reads a node. [`crate::Error::NoNode`] when it is absent.
    async fn get(&self, path: &str) -> Result<NodeValue>;

    /// Names of the immediate children of `dir`, sorted.
    /// [`crate::Error::NoNode`] when the directory has no entry at all.
    async fn list_dir(&self, dir: &str) -> Result<Vec<String>>;

    /// Creates a node that must not exist yet ([`crate::Error::NodeExists`]).
    async fn create(&self, path: &str, contents: Vec<u8>) -> Result<Version>;

    /// Writes a node. With `Some(version)` the node must still be at that
    /// version ([`crate::Error::BadVersion`]); `None` writes unconditionally,
    /// creating the node when absent.
    async fn update(
        &self,
        path: &str,
        contents: Vec<u8>,
        version: Option<Version>,
    ) -> Result<Version>;

    /// Deletes a node, at `version` when given.
    async fn delete(&self, path: &str, version: Option<Version>) -> Result<()>;

    /// Current contents (`None` when absent) and the stream of later changes.
    async fn watch(&self, path: &str) -> Result<(Option<NodeValue>, WatchStream)>;
}

/// Ends a stream right after its first error, without polling it again.
pub(crate) fn stop_after_error<T: Send + 'static>(
    stream: BoxStream<'static, Result<T>>,
) -> BoxStream<'static, Result<T>> {
    futures::stream::unfold(Some(stream), |state| async move {
        let mut stream = state?;
        let item = stream.next().await?;
        let rest = item.is_ok().then_some(stream);
        Some((item, rest))
    })
    .boxed()
}
