//! [`Conn`] on etcd v3, as Vitess's `etcd2topo` stores it: one key per node
//! under the cell root, create as a transaction on `version == 0`, versioned
//! update and delete as transactions on `mod_revision`, watches started at
//! the revision of the initial read so no change is missed.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, Txn, TxnOp, WatchOptions,
    WatchResponse,
};
use futures::StreamExt;

use crate::conn::{Conn, NodeValue, Version, WatchStream};
use crate::error::{Error, Result};

/// How long one etcd request may take before it counts as unavailable.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// One cell's view of an etcd cluster: a client and the cell's root prefix.
#[derive(Clone)]
pub struct EtcdConn {
    client: Client,
    root: String,
    request_timeout: Duration,
}

impl EtcdConn {
    /// Connects to etcd (`host:port` or URLs). The connection is made lazily:
    /// this succeeds even when etcd is down, and requests then fail with
    /// [`Error::Unavailable`] until it is back.
    pub async fn connect(endpoints: &[String], root: &str) -> Result<EtcdConn> {
        let options = ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_keep_alive(KEEP_ALIVE_INTERVAL, KEEP_ALIVE_TIMEOUT)
            .with_keep_alive_while_idle(true);
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(|e| map_err(&endpoints.join(","), e))?;
        Ok(EtcdConn {
            client,
            root: normalize_root(root),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// The same client under another root (another cell on the same etcd).
    pub fn with_root(&self, root: &str) -> EtcdConn {
        EtcdConn {
            client: self.client.clone(),
            root: normalize_root(root),
            request_timeout: self.request_timeout,
        }
    }

    /// Sets how long one request may take.
    pub fn with_request_timeout(mut self, timeout: Duration) -> EtcdConn {
        self.request_timeout = timeout;
        self
    }

    /// The root prefix of this cell (`/vitess/global`).
    pub fn root(&self) -> &str {
        &self.root
    }

    fn key(&self, path: &str) -> String {
        format!("{}/{}", self.root, path)
    }

    async fn call<T, F>(&self, path: &str, fut: F) -> Result<T>
    where
        F: Future<Output = Result<T, etcd_client::Error>>,
    {
        match tokio::time::timeout(self.request_timeout, fut).await {
            Ok(r) => r.map_err(|e| map_err(path, e)),
            Err(_) => Err(Error::Unavailable(format!(
                "deadline exceeded after {:?}: {path}",
                self.request_timeout
            ))),
        }
    }
}

fn normalize_root(root: &str) -> String {
    let trimmed = root.trim_end_matches('/');
    if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

fn map_err(path: &str, e: etcd_client::Error) -> Error {
    use etcd_client::Error as E;
    match e {
        E::TransportError(_) | E::IoError(_) | E::WatchError(_) => {
            Error::Unavailable(format!("{path}: {e}"))
        }
        E::GRpcStatus(ref s) => match s.code() {
            tonic::Code::Unavailable
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Cancelled
            | tonic::Code::Unknown => Error::Unavailable(format!("{path}: {e}")),
            _ => Error::Other(format!("{path}: {e}")),
        },
        other => Error::Other(format!("{path}: {other}")),
    }
}

fn header_revision(header: Option<&etcd_client::ResponseHeader>) -> Version {
    Version(header.map_or(0, |h| h.revision()))
}

#[async_trait]
impl Conn for EtcdConn {
    async fn get(&self, path: &str) -> Result<NodeValue> {
        let mut kv = self.client.kv_client();
        let resp = self.call(path, kv.get(self.key(path), None)).await?;
        let node = resp
            .kvs()
            .first()
            .ok_or_else(|| Error::NoNode(path.to_string()))?;
        Ok((node.value().to_vec(), Version(node.mod_revision())))
    }

    async fn list_dir(&self, dir: &str) -> Result<Vec<String>> {
        let prefix = if dir.is_empty() {
            format!("{}/", self.root)
        } else {
            format!("{}/", self.key(dir))
        };
        let mut kv = self.client.kv_client();
        let options = GetOptions::new().with_prefix().with_keys_only();
        let resp = self
            .call(dir, kv.get(prefix.clone(), Some(options)))
            .await?;
        let names: BTreeSet<String> = resp
            .kvs()
            .iter()
            .filter_map(|node| {
                let rest = node.key().strip_prefix(prefix.as_bytes())?;
                let first = rest.split(|&b| b == b'/').next()?;
                Some(String::from_utf8_lossy(first).into_owned())
            })
            .collect();
        if names.is_empty() {
            return Err(Error::NoNode(dir.to_string()));
        }
        Ok(names.into_iter().collect())
    }

    async fn create(&self, path: &str, contents: Vec<u8>) -> Result<Version> {
        let key = self.key(path);
        let txn = Txn::new()
            .when([Compare::version(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, contents, None)]);
        let mut kv = self.client.kv_client();
        let resp = self.call(path, kv.txn(txn)).await?;
        if !resp.succeeded() {
            return Err(Error::NodeExists(path.to_string()));
        }
        Ok(header_revision(resp.header()))
    }

    async fn update(
        &self,
        path: &str,
        contents: Vec<u8>,
        version: Option<Version>,
    ) -> Result<Version> {
        let key = self.key(path);
        let mut kv = self.client.kv_client();
        let Some(Version(expected)) = version else {
            let resp = self.call(path, kv.put(key, contents, None)).await?;
            return Ok(header_revision(resp.header()));
        };
        let txn = Txn::new()
            .when([Compare::mod_revision(
                key.clone(),
                CompareOp::Equal,
                expected,
            )])
            .and_then([TxnOp::put(key, contents, None)]);
        let resp = self.call(path, kv.txn(txn)).await?;
        if !resp.succeeded() {
            return Err(Error::BadVersion(path.to_string()));
        }
        Ok(header_revision(resp.header()))
    }

    async fn delete(&self, path: &str, version: Option<Version>) -> Result<()> {
        let key = self.key(path);
        let mut kv = self.client.kv_client();
        let Some(Version(expected)) = version else {
            let resp = self.call(path, kv.delete(key, None)).await?;
            if resp.deleted() == 0 {
                return Err(Error::NoNode(path.to_string()));
            }
            return Ok(());
        };
        let txn = Txn::new()
            .when([Compare::mod_revision(
                key.clone(),
                CompareOp::Equal,
                expected,
            )])
            .and_then([TxnOp::delete(key, None)]);
        let resp = self.call(path, kv.txn(txn)).await?;
        if resp.succeeded() {
            return Ok(());
        }
        // Tell a missing node from one at another version.
        self.get(path).await?;
        Err(Error::BadVersion(path.to_string()))
    }

    async fn watch(&self, path: &str) -> Result<(Option<NodeValue>, WatchStream)> {
        let key = self.key(path);
        let mut kv = self.client.kv_client();
        let resp = self.call(path, kv.get(key.clone(), None)).await?;
        let current = resp
            .kvs()
            .first()
            .map(|node| (node.value().to_vec(), Version(node.mod_revision())));
        let Version(read_revision) = header_revision(resp.header());
        let options = WatchOptions::new().with_start_revision(read_revision + 1);
        let mut watch_client = self.client.watch_client();
        let stream = self
            .call(path, watch_client.watch(key, Some(options)))
            .await?;
        Ok((current, watch_changes(path.to_string(), stream)))
    }
}

/// Turns etcd watch responses into node changes; the first error ends it.
fn watch_changes(path: String, stream: etcd_client::WatchStream) -> WatchStream {
    let batches = futures::stream::unfold(Some(stream), move |state| {
        let path = path.clone();
        async move {
            let mut stream = state?;
            let item = match stream.next().await {
                Some(Ok(resp)) if resp.canceled() => Err(Error::Unavailable(format!(
                    "watch on {path} canceled: {}",
                    resp.cancel_reason()
                ))),
                Some(Ok(resp)) => Ok(changes(&resp)),
                Some(Err(e)) => Err(map_err(&path, e)),
                None => Err(Error::Unavailable(format!("watch on {path} closed"))),
            };
            let next = item.is_ok().then_some(stream);
            Some((item, next))
        }
    });
    batches
        .flat_map(|batch| match batch {
            Ok(changes) => futures::stream::iter(changes.into_iter().map(Ok).collect::<Vec<_>>()),
            Err(e) => futures::stream::iter(vec![Err(e)]),
        })
        .boxed()
}

fn changes(resp: &WatchResponse) -> Vec<Option<NodeValue>> {
    resp.events()
        .iter()
        .filter_map(|event| {
            let node = event.kv()?;
            Some(match event.event_type() {
                EventType::Put => Some((node.value().to_vec(), Version(node.mod_revision()))),
                EventType::Delete => None,
            })
        })
        .collect()
}
