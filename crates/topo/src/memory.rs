//! In-memory [`Conn`] for unit tests: the same semantics as the etcd one
//! (revision numbers, compare-and-set, directory listing, watches).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::conn::{stop_after_error, Conn, NodeValue, Version, WatchStream};
use crate::error::{Error, Result};

type WatchSender = mpsc::UnboundedSender<Result<Option<NodeValue>>>;

#[derive(Default)]
struct State {
    revision: i64,
    nodes: BTreeMap<String, NodeValue>,
    watchers: HashMap<String, Vec<WatchSender>>,
}

impl State {
    fn notify(&mut self, path: &str, value: Option<NodeValue>) {
        if let Some(senders) = self.watchers.get_mut(path) {
            senders.retain(|tx| tx.send(Ok(value.clone())).is_ok());
        }
    }

    fn write(&mut self, path: &str, contents: Vec<u8>) -> Version {
        self.revision += 1;
        let version = Version(self.revision);
        self.nodes
            .insert(path.to_string(), (contents.clone(), version));
        self.notify(path, Some((contents, version)));
        version
    }
}

/// A topology cell held in memory; cheap to create, one per cell.
#[derive(Default)]
pub struct MemoryConn {
    state: Mutex<State>,
}

impl MemoryConn {
    /// An empty cell.
    pub fn new() -> MemoryConn {
        MemoryConn::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes a node unconditionally without awaiting (for set-up code).
    pub fn set(&self, path: &str, contents: Vec<u8>) -> Version {
        self.state().write(path, contents)
    }

    /// Ends every open watch with [`Error::Interrupted`], as a lost
    /// connection would (for tests of watch re-establishment).
    pub fn interrupt_watches(&self) {
        let mut state = self.state();
        for (_, senders) in state.watchers.drain() {
            for tx in senders {
                let _ = tx.send(Err(Error::Interrupted));
            }
        }
    }
}

#[async_trait]
impl Conn for MemoryConn {
    async fn get(&self, path: &str) -> Result<NodeValue> {
        self.state()
            .nodes
            .get(path)
            .cloned()
            .ok_or_else(|| Error::NoNode(path.to_string()))
    }

    async fn list_dir(&self, dir: &str) -> Result<Vec<String>> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let state = self.state();
        let names: BTreeSet<String> = state
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, _)| k[prefix.len()..].split('/').next().map(str::to_string))
            .collect();
        if names.is_empty() {
            return Err(Error::NoNode(dir.to_string()));
        }
        Ok(names.into_iter().collect())
    }

    async fn create(&self, path: &str, contents: Vec<u8>) -> Result<Version> {
        let mut state = self.state();
        if state.nodes.contains_key(path) {
            return Err(Error::NodeExists(path.to_string()));
        }
        Ok(state.write(path, contents))
    }

    async fn update(
        &self,
        path: &str,
        contents: Vec<u8>,
        version: Option<Version>,
    ) -> Result<Version> {
        let mut state = self.state();
        if let Some(expected) = version {
            let current = state.nodes.get(path).map(|(_, v)| *v);
            if current != Some(expected) {
                return Err(Error::BadVersion(path.to_string()));
            }
        }
        Ok(state.write(path, contents))
    }

    async fn delete(&self, path: &str, version: Option<Version>) -> Result<()> {
        let mut state = self.state();
        let Some((_, current)) = state.nodes.get(path) else {
            return Err(Error::NoNode(path.to_string()));
        };
        if version.is_some_and(|v| v != *current) {
            return Err(Error::BadVersion(path.to_string()));
        }
        state.revision += 1;
        state.nodes.remove(path);
        state.notify(path, None);
        Ok(())
    }

    async fn watch(&self, path: &str) -> Result<(Option<NodeValue>, WatchStream)> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.state();
        let current = state.nodes.get(path).cloned();
        state.watchers.entry(path.to_string()).or_default().push(tx);
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            let item = rx.recv().await?;
            Some((item, rx))
        });
        Ok((current, stop_after_error(stream.boxed())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_update_delete_with_versions() {
        let c = MemoryConn::new();
        let v1 = c.create("a/b", b"1".to_vec()).await.unwrap();
        assert!(c
            .create("a/b", b"x".to_vec())
            .await
            .unwrap_err()
            .is_node_exists());
        assert_eq!(c.get("a/b").await.unwrap(), (b"1".to_vec(), v1));
        let v2 = c.update("a/b", b"2".to_vec(), Some(v1)).await.unwrap();
        assert!(v2 > v1);
        let err = c.update("a/b", b"3".to_vec(), Some(v1)).await.unwrap_err();
        assert!(err.is_bad_version());
        assert!(c
            .update("new", b"x".to_vec(), Some(v1))
            .await
            .unwrap_err()
            .is_bad_version());
        c.update("new", b"x".to_vec(), None).await.unwrap();
        assert!(c
            .delete("a/b", Some(v1))
            .await
            .unwrap_err()
            .is_bad_version());
        c.delete("a/b", Some(v2)).await.unwrap();
        assert!(c.get("a/b").await.unwrap_err().is_no_node());
        assert!(c.delete("a/b", None).await.unwrap_err().is_no_node());
    }

    #[tokio::test]
    async fn lists_immediate_children() {
        let c = MemoryConn::new();
        for p in ["d/x/File", "d/a/File", "d/a/sub/File", "dz/File", "d/b"] {
            c.create(p, vec![]).await.unwrap();
        }
        assert_eq!(c.list_dir("d").await.unwrap(), ["a", "b", "x"]);
        assert_eq!(c.list_dir("d/a").await.unwrap(), ["File", "sub"]);
        assert_eq!(c.list_dir("").await.unwrap(), ["d", "dz"]);
        assert!(c.list_dir("nothing").await.unwrap_err().is_no_node());
    }

    #[tokio::test]
    async fn watch_sees_changes_deletes_and_interrupts() {
        let c = MemoryConn::new();
        let (initial, mut stream) = c.watch("w").await.unwrap();
        assert!(initial.is_none());
        let v = c.create("w", b"1".to_vec()).await.unwrap();
        assert_eq!(
            stream.next().await.unwrap().unwrap(),
            Some((b"1".to_vec(), v))
        );
        c.delete("w", None).await.unwrap();
        assert_eq!(stream.next().await.unwrap().unwrap(), None);
        c.interrupt_watches();
        assert!(matches!(stream.next().await, Some(Err(Error::Interrupted))));
        assert!(stream.next().await.is_none());
    }
}
