//! Discovery: follows the cell's serving records through the topology cache (which keeps
//! serving its last values while etcd is down) and feeds the executor's [`Topology`]
//! snapshot and the health check's tablet list.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use proto::topodata::{SrvKeyspace, Tablet};
use tokio::sync::watch;
use topo::cache::SrvCache;

use crate::healthcheck::HealthCheck;
use crate::topology::TopologyHandle;

/// Follows the topology of the local cell (VSchema, keyspaces) and the tablets of every
/// watched cell.
pub struct Discovery {
    /// Cache of the local cell.
    pub local: Arc<SrvCache>,
    /// Caches of the cells whose tablets are used (the local one included).
    pub cells: Vec<Arc<SrvCache>>,
    /// Where the topology snapshot goes.
    pub topology: TopologyHandle,
    /// Where the tablet list goes.
    pub health: HealthCheck,
    /// How often the records are read again from the caches.
    pub refresh: Duration,
}

impl Discovery {
    /// Reads everything once.
    pub async fn refresh_once(&self) {
        match self.local.get_srv_vschema().await {
            Ok(vschema) => {
                let mut srv: HashMap<String, SrvKeyspace> = HashMap::new();
                for ks in vschema.keyspaces.keys() {
                    match self.local.get_srv_keyspace(ks).await {
                        Ok(v) => {
                            srv.insert(ks.clone(), v.as_ref().clone());
                        }
                        Err(e) => tracing::debug!(keyspace = %ks, error = %e, "no SrvKeyspace"),
                    }
                }
                if self.topology.set_srv(&vschema, &srv) {
                    tracing::info!(keyspaces = vschema.keyspaces.len(), "serving graph updated");
                }
            }
            Err(e) => tracing::debug!(error = %e, "no SrvVSchema yet"),
        }
        let mut tablets: Vec<Tablet> = Vec::new();
        let mut complete = true;
        for cache in &self.cells {
            match cache.get_tablets().await {
                Ok(t) => tablets.extend(t),
                Err(e) => {
                    complete = false;
                    tracing::warn!(cell = cache.cell(), error = %e, "tablet list unavailable");
                }
            }
        }
        if complete {
            self.health.set_tablets(tablets);
        }
    }

    /// Refreshes forever: on every change of the SrvVSchema, of a keyspace's SrvKeyspace
    /// (a Reshard switch moves partitions) or of a cell's tablet list, and every `refresh`.
    pub async fn run(self) {
        let mut vschema = self.local.subscribe_srv_vschema();
        let mut tablets: Vec<_> = self.cells.iter().map(|c| c.subscribe_tablets()).collect();
        loop {
            // Subscribed before the read, so that a change during it wakes the next wait.
            let mut keyspaces = self.keyspace_receivers().await;
            for rx in &mut keyspaces {
                rx.borrow_and_update();
            }
            for rx in &mut tablets {
                rx.borrow_and_update();
            }
            self.refresh_once().await;
            tokio::select! {
                _ = vschema.changed() => {}
                _ = any_changed(&mut keyspaces) => {}
                _ = any_changed(&mut tablets) => {}
                _ = tokio::time::sleep(self.refresh) => {}
            }
        }
    }

    /// Receivers of the SrvKeyspace of every keyspace the SrvVSchema names.
    async fn keyspace_receivers(&self) -> Vec<watch::Receiver<Option<Arc<SrvKeyspace>>>> {
        match self.local.get_srv_vschema().await {
            Ok(vschema) => vschema
                .keyspaces
                .keys()
                .map(|ks| self.local.subscribe_srv_keyspace(ks))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Waits until one of `receivers` sees a change; never, when there are none or their
/// senders are gone.
async fn any_changed<T>(receivers: &mut [watch::Receiver<T>]) {
    if receivers.is_empty() {
        return std::future::pending().await;
    }
    let changes = receivers.iter_mut().map(|rx| Box::pin(rx.changed()));
    if let (Err(_), _, _) = futures::future::select_all(changes).await {
        std::future::pending::<()>().await;
    }
}
