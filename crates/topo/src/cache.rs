//! `SrvCache`: what vtgate reads from the topology. The cell's `SrvVSchema`
//! and each requested `SrvKeyspace` are followed by watches (re-established
//! with backoff after errors), the cell's tablets by polling. Readers get
//! immutable snapshots (`Arc`), and when etcd is unreachable the last known
//! values keep being served.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use proto::topodata::{SrvKeyspace, Tablet};
use proto::vschema::SrvVSchema;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::error::Result;
use crate::server::TopoServer;
use crate::serving::TypedWatch;

/// Shared latest value of one followed record (`None`: absent or not loaded).
type Slot<T> = Arc<watch::Sender<Option<Arc<T>>>>;

/// Timing of the cache's background work.
#[derive(Clone, Debug)]
pub struct SrvCacheOptions {
    /// How often the cell's tablet list is read again.
    pub tablet_refresh: Duration,
    /// First delay before re-establishing a failed watch.
    pub retry_min: Duration,
    /// Longest delay between attempts to re-establish a watch.
    pub retry_max: Duration,
}

impl Default for SrvCacheOptions {
    fn default() -> Self {
        SrvCacheOptions {
            tablet_refresh: Duration::from_secs(5),
            retry_min: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// Cached serving records of one cell. Background tasks stop when it drops.
pub struct SrvCache {
    topo: TopoServer,
    cell: String,
    options: SrvCacheOptions,
    vschema: Slot<SrvVSchema>,
    keyspaces: Mutex<HashMap<String, Slot<SrvKeyspace>>>,
    tablets: Slot<Vec<Tablet>>,
    tablet_poller: OnceLock<()>,
    keyspace_names: Mutex<Option<(Instant, Vec<String>)>>,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl SrvCache {
    /// Starts following `cell`'s serving records. Must be called inside a
    /// tokio runtime.
    pub fn new(topo: TopoServer, cell: &str) -> Arc<SrvCache> {
        SrvCache::with_options(topo, cell, SrvCacheOptions::default())
    }

    /// [`SrvCache::new`] with explicit timings.
    pub fn with_options(topo: TopoServer, cell: &str, options: SrvCacheOptions) -> Arc<SrvCache> {
        let cache = Arc::new(SrvCache {
            topo,
            cell: cell.to_string(),
            options,
            vschema: Arc::new(watch::channel(None).0),
            keyspaces: Mutex::new(HashMap::new()),
            tablets: Arc::new(watch::channel(None).0),
            tablet_poller: OnceLock::new(),
            keyspace_names: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
        });
        let (topo, cell) = (cache.topo.clone(), cache.cell.clone());
        cache.spawn(follow(
            format!("SrvVSchema in {cell}"),
            cache.vschema.clone(),
            cache.options.clone(),
            move || {
                let (topo, cell) = (topo.clone(), cell.clone());
                async move { topo.watch_srv_vschema(&cell).await }
            },
        ));
        cache
    }

    /// The topology this cache reads.
    pub fn topo(&self) -> &TopoServer {
        &self.topo
    }

    /// The cell this cache serves.
    pub fn cell(&self) -> &str {
        &self.cell
    }

    /// The cell's serving VSchema: the cached one, else read directly.
    pub async fn get_srv_vschema(&self) -> Result<Arc<SrvVSchema>> {
        if let Some(v) = self.vschema.borrow().clone() {
            return Ok(v);
        }
        Ok(Arc::new(self.topo.get_srv_vschema(&self.cell).await?))
    }

    /// Follows the serving VSchema: the receiver sees every new version.
    pub fn subscribe_srv_vschema(&self) -> watch::Receiver<Option<Arc<SrvVSchema>>> {
        self.vschema.subscribe()
    }

    /// A keyspace's serving record: the cached one, else read directly. The
    /// first request for a keyspace starts following it.
    pub async fn get_srv_keyspace(&self, ks: &str) -> Result<Arc<SrvKeyspace>> {
        let slot = self.keyspace_slot(ks);
        if let Some(v) = slot.borrow().clone() {
            return Ok(v);
        }
        Ok(Arc::new(self.topo.get_srv_keyspace(&self.cell, ks).await?))
    }

    /// Follows a keyspace's serving record.
    pub fn subscribe_srv_keyspace(&self, ks: &str) -> watch::Receiver<Option<Arc<SrvKeyspace>>> {
        self.keyspace_slot(ks).subscribe()
    }

    /// Names of the keyspaces served in the cell (for `SHOW DATABASES`),
    /// read again after `tablet_refresh`; the last good list is served when
    /// the read fails.
    pub async fn get_srv_keyspace_names(&self) -> Result<Vec<String>> {
        let cached = self.lock_keyspace_names().clone();
        if let Some((at, names)) = &cached {
            if at.elapsed() < self.options.tablet_refresh {
                return Ok(names.clone());
            }
        }
        match self.topo.get_srv_keyspace_names(&self.cell).await {
            Ok(names) => {
                *self.lock_keyspace_names() = Some((Instant::now(), names.clone()));
                Ok(names)
            }
            Err(e) => match cached {
                Some((_, names)) => {
                    tracing::warn!(cell = self.cell, "keyspace names: serving last list: {e}");
                    Ok(names)
                }
                None => Err(e),
            },
        }
    }

    fn lock_keyspace_names(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Vec<String>)>> {
        self.keyspace_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The cell's tablets, refreshed in the background every
    /// `tablet_refresh`; the last good list is served while etcd is down.
    pub async fn get_tablets(&self) -> Result<Vec<Tablet>> {
        self.start_tablet_poller();
        if let Some(v) = self.tablets.borrow().clone() {
            return Ok(v.as_ref().clone());
        }
        let tablets = self.topo.get_tablets_by_cell(&self.cell).await?;
        self.tablets.send_replace(Some(Arc::new(tablets.clone())));
        Ok(tablets)
    }

    /// Follows the cell's tablet list (changes only).
    pub fn subscribe_tablets(&self) -> watch::Receiver<Option<Arc<Vec<Tablet>>>> {
        self.start_tablet_poller();
        self.tablets.subscribe()
    }

    fn keyspace_slot(&self, ks: &str) -> Slot<SrvKeyspace> {
        let mut keyspaces = self.keyspaces.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = keyspaces.get(ks) {
            return slot.clone();
        }
        let slot: Slot<SrvKeyspace> = Arc::new(watch::channel(None).0);
        keyspaces.insert(ks.to_string(), slot.clone());
        drop(keyspaces);
        let (topo, cell, ks) = (self.topo.clone(), self.cell.clone(), ks.to_string());
        self.spawn(follow(
            format!("SrvKeyspace {ks} in {cell}"),
            slot.clone(),
            self.options.clone(),
            move || {
                let (topo, cell, ks) = (topo.clone(), cell.clone(), ks.clone());
                async move { topo.watch_srv_keyspace(&cell, &ks).await }
            },
        ));
        slot
    }

    fn start_tablet_poller(&self) {
        self.tablet_poller.get_or_init(|| {
            let (topo, cell) = (self.topo.clone(), self.cell.clone());
            let (slot, every) = (self.tablets.clone(), self.options.tablet_refresh);
            self.spawn(async move {
                loop {
                    match topo.get_tablets_by_cell(&cell).await {
                        Ok(tablets) => publish(&slot, Some(tablets)),
                        Err(e) => {
                            tracing::warn!(cell, "tablet refresh failed, keeping last list: {e}")
                        }
                    }
                    tokio::time::sleep(every).await;
                }
            });
        });
    }

    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(task).abort_handle();
        self.tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle);
    }
}

impl Drop for SrvCache {
    fn drop(&mut self) {
        let tasks = self.tasks.get_mut().unwrap_or_else(|e| e.into_inner());
        for task in tasks.drain(..) {
            task.abort();
        }
    }
}

/// Stores a new value, waking subscribers only when it changed.
fn publish<T: PartialEq>(slot: &watch::Sender<Option<Arc<T>>>, value: Option<T>) {
    slot.send_if_modified(|current| {
        if current.as_deref() == value.as_ref() {
            return false;
        }
        *current = value.map(Arc::new);
        true
    });
}

/// Keeps `slot` equal to the watched record: (re-)establishes the watch
/// with exponential backoff, and leaves the last value in place on errors.
async fn follow<T, S, F>(what: String, slot: Slot<T>, options: SrvCacheOptions, mut start: S)
where
    T: PartialEq + Send + Sync + 'static,
    S: FnMut() -> F,
    F: Future<Output = Result<TypedWatch<T>>>,
{
    let mut delay = options.retry_min;
    loop {
        match start().await {
            Ok((initial, mut changes)) => {
                delay = options.retry_min;
                publish(&slot, initial);
                while let Some(change) = changes.next().await {
                    match change {
                        Ok(value) => publish(&slot, value),
                        Err(e) => {
                            tracing::warn!("watch on {what} ended, keeping last value: {e}");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("cannot watch {what}, keeping last value: {e}"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(options.retry_max);
    }
}
