//! Tablet records (`tablets/<alias>/Tablet` in the tablet's cell) and the
//! per-cell `ShardReplication` index Vitess keeps next to them.

use futures::future::join_all;
use prost::Message;
use proto::topodata::shard_replication::Node;
use proto::topodata::{ShardReplication, Tablet, TabletAlias};

use crate::conn::Conn;
use crate::error::{decode, optional, Error, Result};
use crate::paths;
use crate::server::{list_or_empty, update_fields, TopoServer};

fn alias_of(t: &Tablet) -> Result<&TabletAlias> {
    t.alias
        .as_ref()
        .ok_or_else(|| Error::Other("tablet record has no alias".to_string()))
}

impl TopoServer {
    /// Creates a tablet record ([`Error::NodeExists`] if present) and adds
    /// the tablet to its shard's replication index in its cell.
    pub async fn create_tablet(&self, t: &Tablet) -> Result<()> {
        let alias = alias_of(t)?;
        let conn = self.cell_conn(&alias.cell).await?;
        conn.create(&paths::tablet(alias), t.encode_to_vec())
            .await?;
        add_to_shard_replication(conn.as_ref(), t, alias).await
    }

    /// Writes a tablet record whether or not it exists (a restarting tablet
    /// registers again).
    pub async fn upsert_tablet(&self, t: &Tablet) -> Result<()> {
        let alias = alias_of(t)?;
        let conn = self.cell_conn(&alias.cell).await?;
        conn.update(&paths::tablet(alias), t.encode_to_vec(), None)
            .await?;
        add_to_shard_replication(conn.as_ref(), t, alias).await
    }

    /// Reads a tablet record.
    pub async fn get_tablet(&self, alias: &TabletAlias) -> Result<Tablet> {
        let conn = self.cell_conn(&alias.cell).await?;
        let path = paths::tablet(alias);
        let (bytes, _) = conn.get(&path).await?;
        decode(&path, &bytes)
    }

    /// Read-modify-write of a tablet record, retried on concurrent updates.
    pub async fn update_tablet_fields<F>(&self, alias: &TabletAlias, f: F) -> Result<Tablet>
    where
        F: FnMut(&mut Tablet) -> Result<()> + Send,
    {
        let conn = self.cell_conn(&alias.cell).await?;
        update_fields(conn.as_ref(), &paths::tablet(alias), f).await
    }

    /// Deletes a tablet record and its entry in the replication index.
    pub async fn delete_tablet(&self, alias: &TabletAlias) -> Result<()> {
        let tablet = self.get_tablet(alias).await?;
        let conn = self.cell_conn(&alias.cell).await?;
        conn.delete(&paths::tablet(alias), None).await?;
        if tablet.keyspace.is_empty() || tablet.shard.is_empty() {
            return Ok(());
        }
        let path = paths::shard_replication(&tablet.keyspace, &tablet.shard);
        let removed = update_fields(conn.as_ref(), &path, |sr: &mut ShardReplication| {
            sr.nodes.retain(|n| n.tablet_alias.as_ref() != Some(alias));
            Ok(())
        })
        .await;
        optional(removed)?;
        Ok(())
    }

    /// Aliases of the tablets registered in a cell, sorted.
    pub async fn get_tablet_aliases_by_cell(&self, cell: &str) -> Result<Vec<TabletAlias>> {
        let conn = self.cell_conn(cell).await?;
        let names = list_or_empty(conn.as_ref(), paths::TABLETS_DIR).await?;
        Ok(names
            .iter()
            .filter_map(|name| match name.parse::<TabletAlias>() {
                Ok(alias) => Some(alias),
                Err(e) => {
                    tracing::warn!(cell, name, "skipping tablet entry: {e}");
                    None
                }
            })
            .collect())
    }

    /// The tablet records of a cell (tablets deleted meanwhile are skipped).
    pub async fn get_tablets_by_cell(&self, cell: &str) -> Result<Vec<Tablet>> {
        let aliases = self.get_tablet_aliases_by_cell(cell).await?;
        let reads = join_all(aliases.iter().map(|a| self.get_tablet(a))).await;
        let mut tablets = Vec::with_capacity(reads.len());
        for read in reads {
            if let Some(t) = optional(read)? {
                tablets.push(t);
            }
        }
        Ok(tablets)
    }

    /// The tablets of a shard, in every cell.
    pub async fn get_tablets_by_shard(&self, ks: &str, shard: &str) -> Result<Vec<Tablet>> {
        let mut tablets = Vec::new();
        for cell in self.get_cell_names().await? {
            let in_cell = self.get_tablets_by_cell(&cell).await?;
            tablets.extend(
                in_cell
                    .into_iter()
                    .filter(|t| t.keyspace == ks && t.shard == shard),
            );
        }
        Ok(tablets)
    }
}

/// Adds the tablet to `keyspaces/<ks>/shards/<shard>/ShardReplication` in
/// its cell, as Vitess's `CreateTablet` does.
async fn add_to_shard_replication(conn: &dyn Conn, t: &Tablet, alias: &TabletAlias) -> Result<()> {
    if t.keyspace.is_empty() || t.shard.is_empty() {
        return Ok(());
    }
    let path = paths::shard_replication(&t.keyspace, &t.shard);
    let add = |sr: &mut ShardReplication| {
        if !sr
            .nodes
            .iter()
            .any(|n| n.tablet_alias.as_ref() == Some(alias))
        {
            sr.nodes.push(Node {
                tablet_alias: Some(alias.clone()),
            });
        }
        Ok(())
    };
    loop {
        match update_fields(conn, &path, add).await {
            Ok(_) => return Ok(()),
            Err(Error::NoNode(_)) => {
                let mut sr = ShardReplication::default();
                add(&mut sr)?;
                match conn.create(&path, sr.encode_to_vec()).await {
                    Ok(_) => return Ok(()),
                    Err(Error::NodeExists(_)) => continue,
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
}
