//! VSchema and routing rules (global), and the serving records vtgate reads
//! from its cell: `SrvKeyspace` per keyspace and the cell's `SrvVSchema`.

use futures::stream::BoxStream;
use futures::StreamExt;
use prost::Message;
use proto::topodata::SrvKeyspace;
use proto::vschema::{Keyspace as VSchemaKeyspace, RoutingRules, SrvVSchema};

use crate::conn::{stop_after_error, NodeValue, WatchStream};
use crate::error::{decode, optional, Result};
use crate::paths;
use crate::server::{list_or_empty, TopoServer};

/// A typed watch: the current record (`None` when absent) and its changes.
pub type TypedWatch<T> = (Option<T>, BoxStream<'static, Result<Option<T>>>);

impl TopoServer {
    /// A keyspace's VSchema.
    pub async fn get_vschema(&self, ks: &str) -> Result<VSchemaKeyspace> {
        self.get_global(&paths::vschema(ks)).await
    }

    /// Stores a keyspace's VSchema.
    pub async fn save_vschema(&self, ks: &str, v: &VSchemaKeyspace) -> Result<()> {
        self.global_conn()
            .update(&paths::vschema(ks), v.encode_to_vec(), None)
            .await?;
        Ok(())
    }

    /// The global routing rules; empty when none are stored.
    pub async fn get_routing_rules(&self) -> Result<RoutingRules> {
        Ok(optional(self.get_global(paths::ROUTING_RULES).await)?.unwrap_or_default())
    }

    /// Stores the global routing rules; empty rules delete the record, as
    /// Vitess does.
    pub async fn save_routing_rules(&self, r: &RoutingRules) -> Result<()> {
        let bytes = r.encode_to_vec();
        let global = self.global_conn();
        if bytes.is_empty() {
            optional(global.delete(paths::ROUTING_RULES, None).await)?;
        } else {
            global.update(paths::ROUTING_RULES, bytes, None).await?;
        }
        Ok(())
    }

    /// A keyspace's serving record in a cell.
    pub async fn get_srv_keyspace(&self, cell: &str, ks: &str) -> Result<SrvKeyspace> {
        let conn = self.cell_conn(cell).await?;
        let path = paths::srv_keyspace(ks);
        let (bytes, _) = conn.get(&path).await?;
        decode(&path, &bytes)
    }

    /// Writes a keyspace's serving record in a cell.
    pub async fn update_srv_keyspace(&self, cell: &str, ks: &str, v: &SrvKeyspace) -> Result<()> {
        let conn = self.cell_conn(cell).await?;
        conn.update(&paths::srv_keyspace(ks), v.encode_to_vec(), None)
            .await?;
        Ok(())
    }

    /// Names of the keyspaces with records in a cell, sorted.
    pub async fn get_srv_keyspace_names(&self, cell: &str) -> Result<Vec<String>> {
        let conn = self.cell_conn(cell).await?;
        list_or_empty(conn.as_ref(), paths::KEYSPACES_DIR).await
    }

    /// A cell's serving VSchema.
    pub async fn get_srv_vschema(&self, cell: &str) -> Result<SrvVSchema> {
        let conn = self.cell_conn(cell).await?;
        let (bytes, _) = conn.get(paths::SRV_VSCHEMA).await?;
        decode(paths::SRV_VSCHEMA, &bytes)
    }

    /// Writes a cell's serving VSchema.
    pub async fn update_srv_vschema(&self, cell: &str, v: &SrvVSchema) -> Result<()> {
        let conn = self.cell_conn(cell).await?;
        conn.update(paths::SRV_VSCHEMA, v.encode_to_vec(), None)
            .await?;
        Ok(())
    }

    /// Watches a cell's serving VSchema. The stream ends after its first
    /// error; watchers re-establish it.
    pub async fn watch_srv_vschema(&self, cell: &str) -> Result<TypedWatch<SrvVSchema>> {
        let conn = self.cell_conn(cell).await?;
        let (initial, changes) = conn.watch(paths::SRV_VSCHEMA).await?;
        typed_watch(paths::SRV_VSCHEMA.to_string(), initial, changes)
    }

    /// Watches a keyspace's serving record in a cell.
    pub async fn watch_srv_keyspace(
        &self,
        cell: &str,
        ks: &str,
    ) -> Result<TypedWatch<SrvKeyspace>> {
        let conn = self.cell_conn(cell).await?;
        let path = paths::srv_keyspace(ks);
        let (initial, changes) = conn.watch(&path).await?;
        typed_watch(path, initial, changes)
    }
}

/// Decodes a node watch into records; a decoding error ends the stream.
fn typed_watch<T: Message + Default + 'static>(
    path: String,
    initial: Option<NodeValue>,
    changes: WatchStream,
) -> Result<TypedWatch<T>> {
    let current = initial
        .map(|(bytes, _)| decode::<T>(&path, &bytes))
        .transpose()?;
    let stream = changes.map(move |change| {
        change?
            .map(|(bytes, _)| decode::<T>(&path, &bytes))
            .transpose()
    });
    Ok((current, stop_after_error(stream.boxed())))
}
