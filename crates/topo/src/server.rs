//! [`TopoServer`]: the typed view of the topology used by every binary. It
//! holds the global cell's connection and opens each cell's connection on
//! first use, from the cell's `CellInfo` record. This file has the cell,
//! keyspace and shard records; tablets and serving records are in
//! `tablet.rs`, `serving.rs` and `rebuild.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::stream::BoxStream;
use futures::StreamExt;
use prost::Message;
use proto::topodata::{CellInfo, Keyspace, Shard};

use crate::conn::{stop_after_error, Conn, Version};
use crate::error::{decode, optional, Error, Result};
use crate::etcd::EtcdConn;
use crate::keyrange;
use crate::memory::MemoryConn;
use crate::paths;

/// How cell connections are opened.
enum Backend {
    /// Cells live in etcd; `address` is the global server's address.
    Etcd {
        global: Box<EtcdConn>,
        address: String,
    },
    /// Every cell is a fresh [`MemoryConn`].
    Memory,
}

struct Inner {
    global: Arc<dyn Conn>,
    backend: Backend,
    cells: Mutex<HashMap<String, Arc<dyn Conn>>>,
}

/// The topology: global records plus per-cell records. Cheap to clone.
#[derive(Clone)]
pub struct TopoServer {
    inner: Arc<Inner>,
}

impl TopoServer {
    /// Connects to the global cell at `address` (`host:port`, or several
    /// separated by commas) under `global_root` (`/vitess/global`). A cell's
    /// connection comes from its `cells/<cell>/CellInfo` record; a cell with
    /// no record lives on the global server under `/vitess/<cell>`.
    pub async fn connect_etcd(address: &str, global_root: &str) -> Result<TopoServer> {
        let global = EtcdConn::connect(&split_endpoints(address), global_root).await?;
        Ok(TopoServer {
            inner: Arc::new(Inner {
                global: Arc::new(global.clone()),
                backend: Backend::Etcd {
                    global: Box::new(global),
                    address: address.to_string(),
                },
                cells: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// An in-memory topology with `CellInfo` records for `cells`.
    pub fn memory(cells: &[&str]) -> TopoServer {
        let global = MemoryConn::new();
        for cell in cells {
            let info = CellInfo {
                server_address: "memory".to_string(),
                root: paths::default_cell_root(cell),
            };
            global.set(&paths::cell_info(cell), info.encode_to_vec());
        }
        TopoServer {
            inner: Arc::new(Inner {
                global: Arc::new(global),
                backend: Backend::Memory,
                cells: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A topology over given connections (tests, other backends). Cells
    /// not listed get a fresh [`MemoryConn`] on first use.
    pub fn from_conns(global: Arc<dyn Conn>, cells: Vec<(String, Arc<dyn Conn>)>) -> TopoServer {
        TopoServer {
            inner: Arc::new(Inner {
                global,
                backend: Backend::Memory,
                cells: Mutex::new(cells.into_iter().collect()),
            }),
        }
    }

    /// The global cell's connection.
    pub fn global_conn(&self) -> Arc<dyn Conn> {
        self.inner.global.clone()
    }

    /// A cell's connection, opened on first use and kept.
    pub async fn cell_conn(&self, cell: &str) -> Result<Arc<dyn Conn>> {
        if let Some(conn) = self.cached_cell(cell) {
            return Ok(conn);
        }
        let conn: Arc<dyn Conn> = match &self.inner.backend {
            Backend::Memory => Arc::new(MemoryConn::new()),
            Backend::Etcd { global, address } => {
                let info = optional(self.get_cell_info(cell).await)?;
                match info {
                    None => Arc::new(global.with_root(&paths::default_cell_root(cell))),
                    Some(info)
                        if info.server_address.is_empty() || info.server_address == *address =>
                    {
                        Arc::new(global.with_root(&info.root))
                    }
                    Some(info) => Arc::new(
                        EtcdConn::connect(&split_endpoints(&info.server_address), &info.root)
                            .await?,
                    ),
                }
            }
        };
        let mut cells = self.inner.cells.lock().unwrap_or_else(|e| e.into_inner());
        Ok(cells.entry(cell.to_string()).or_insert(conn).clone())
    }

    fn cached_cell(&self, cell: &str) -> Option<Arc<dyn Conn>> {
        let cells = self.inner.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.get(cell).cloned()
    }

    /// Records where a cell's topology lives. Succeeds when the same record
    /// is already there; [`Error::NodeExists`] when a different one is.
    pub async fn add_cell_info(&self, cell: &str, server_address: &str, root: &str) -> Result<()> {
        let info = CellInfo {
            server_address: server_address.to_string(),
            root: root.to_string(),
        };
        let path = paths::cell_info(cell);
        match self.inner.global.create(&path, info.encode_to_vec()).await {
            Ok(_) => {
                let mut cells = self.inner.cells.lock().unwrap_or_else(|e| e.into_inner());
                cells.remove(cell);
                Ok(())
            }
            Err(Error::NodeExists(p)) if self.get_cell_info(cell).await? == info => {
                tracing::debug!(path = %p, "CellInfo already present");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// A cell's `CellInfo` record.
    pub async fn get_cell_info(&self, cell: &str) -> Result<CellInfo> {
        self.get_global(&paths::cell_info(cell)).await
    }

    /// Names of the cells with a `CellInfo` record, sorted.
    pub async fn get_cell_names(&self) -> Result<Vec<String>> {
        list_or_empty(self.inner.global.as_ref(), paths::CELLS_DIR).await
    }

    /// The given cells, or every known cell when `cells` is empty.
    pub(crate) async fn cells_or_all(&self, cells: &[String]) -> Result<Vec<String>> {
        if cells.is_empty() {
            self.get_cell_names().await
        } else {
            Ok(cells.to_vec())
        }
    }

    pub(crate) async fn get_global<T: Message + Default>(&self, path: &str) -> Result<T> {
        let (bytes, _) = self.inner.global.get(path).await?;
        decode(path, &bytes)
    }

    /// Creates a keyspace record ([`Error::NodeExists`] if present).
    pub async fn create_keyspace(&self, ks: &str, value: &Keyspace) -> Result<()> {
        let path = paths::keyspace(ks);
        self.inner
            .global
            .create(&path, value.encode_to_vec())
            .await?;
        Ok(())
    }

    /// Reads a keyspace record.
    pub async fn get_keyspace(&self, ks: &str) -> Result<Keyspace> {
        self.get_global(&paths::keyspace(ks)).await
    }

    /// Names of the keyspaces, sorted.
    pub async fn get_keyspace_names(&self) -> Result<Vec<String>> {
        list_or_empty(self.inner.global.as_ref(), paths::KEYSPACES_DIR).await
    }

    /// Deletes a keyspace record, its VSchema, and its SrvKeyspace in every
    /// cell. Shards are left to the caller (vtctl deletes them first).
    pub async fn delete_keyspace(&self, ks: &str) -> Result<()> {
        self.inner.global.delete(&paths::keyspace(ks), None).await?;
        optional(self.inner.global.delete(&paths::vschema(ks), None).await)?;
        for cell in self.get_cell_names().await? {
            let conn = self.cell_conn(&cell).await?;
            optional(conn.delete(&paths::srv_keyspace(ks), None).await)?;
        }
        Ok(())
    }

    /// Creates a shard record, as Vitess's `CreateShard`: the name is
    /// validated and lower-cased, the key range comes from the name, and the
    /// primary serves unless the range overlaps an existing serving shard.
    pub async fn create_shard(&self, ks: &str, shard: &str) -> Result<Shard> {
        let key_range = keyrange::parse_shard_name(shard)?;
        let name = shard.to_ascii_lowercase();
        let mut is_primary_serving = true;
        for other in self.get_shard_names(ks).await? {
            let existing = self.get_shard(ks, &other).await?;
            if existing.is_primary_serving
                && keyrange::intersect(existing.key_range.as_ref(), key_range.as_ref())
            {
                is_primary_serving = false;
                break;
            }
        }
        let value = Shard {
            key_range,
            is_primary_serving,
            ..Shard::default()
        };
        let path = paths::shard(ks, &name);
        self.inner
            .global
            .create(&path, value.encode_to_vec())
            .await?;
        Ok(value)
    }

    /// Reads a shard record.
    pub async fn get_shard(&self, ks: &str, shard: &str) -> Result<Shard> {
        self.get_global(&paths::shard(ks, shard)).await
    }

    /// Names of a keyspace's shards, sorted.
    pub async fn get_shard_names(&self, ks: &str) -> Result<Vec<String>> {
        list_or_empty(self.inner.global.as_ref(), &paths::shards_dir(ks)).await
    }

    /// Read-modify-write of a shard record; retried when another writer
    /// got in between. Returns the record as written.
    pub async fn update_shard_fields<F>(&self, ks: &str, shard: &str, f: F) -> Result<Shard>
    where
        F: FnMut(&mut Shard) -> Result<()> + Send,
    {
        update_fields(self.inner.global.as_ref(), &paths::shard(ks, shard), f).await
    }

    /// Deletes a shard record.
    pub async fn delete_shard(&self, ks: &str, shard: &str) -> Result<()> {
        self.inner
            .global
            .delete(&paths::shard(ks, shard), None)
            .await
    }

    /// The shard record and its later versions. The stream ends with
    /// [`Error::NoNode`] if the shard is deleted, or with the watch's error.
    pub async fn watch_shard(
        &self,
        ks: &str,
        shard: &str,
    ) -> Result<(Shard, BoxStream<'static, Result<Shard>>)> {
        let path = paths::shard(ks, shard);
        let (initial, changes) = self.inner.global.watch(&path).await?;
        let (bytes, _) = initial.ok_or_else(|| Error::NoNode(path.clone()))?;
        let current = decode(&path, &bytes)?;
        let stream = changes.map(move |change| match change? {
            Some((bytes, _)) => decode(&path, &bytes),
            None => Err(Error::NoNode(path.clone())),
        });
        Ok((current, stop_after_error(stream.boxed())))
    }
}

/// Lists a directory; a missing directory is empty.
pub(crate) async fn list_or_empty(conn: &dyn Conn, dir: &str) -> Result<Vec<String>> {
    Ok(optional(conn.list_dir(dir).await)?.unwrap_or_default())
}

/// Read-modify-write of a protobuf record, retried on [`Error::BadVersion`].
pub(crate) async fn update_fields<T, F>(conn: &dyn Conn, path: &str, mut f: F) -> Result<T>
where
    T: Message + Default,
    F: FnMut(&mut T) -> Result<()> + Send,
{
    loop {
        let (bytes, version): (Vec<u8>, Version) = conn.get(path).await?;
        let mut value: T = decode(path, &bytes)?;
        f(&mut value)?;
        match conn
            .update(path, value.encode_to_vec(), Some(version))
            .await
        {
            Ok(_) => return Ok(value),
            Err(Error::BadVersion(_)) => {
                tracing::debug!(path, "concurrent update, retrying");
            }
            Err(e) => return Err(e),
        }
    }
}

fn split_endpoints(address: &str) -> Vec<String> {
    address
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
