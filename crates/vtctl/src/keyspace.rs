//! Keyspace, shard and cell records: create, read, and rebuild the serving graphs.

use anyhow::Result;
use clap::Args;
use proto::topodata::{Keyspace, KeyspaceType};
use topo::TopoServer;

use crate::{all_cells, parse_keyspace_shard};

/// `CreateKeyspace [--durability-policy P] <keyspace>`.
#[derive(Args, Debug)]
pub struct CreateKeyspace {
    /// Durability policy recorded on the keyspace (`none`, `semi_sync`); informational here.
    #[arg(long = "durability-policy", default_value = "none")]
    durability_policy: String,
    /// Succeed when the keyspace already exists.
    #[arg(long = "if-not-exists")]
    if_not_exists: bool,
    keyspace: String,
}

impl CreateKeyspace {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let value = Keyspace {
            keyspace_type: KeyspaceType::Normal as i32,
            durability_policy: self.durability_policy,
            ..Default::default()
        };
        match ts.create_keyspace(&self.keyspace, &value).await {
            Ok(()) => {}
            Err(topo::Error::NodeExists(_)) if self.if_not_exists => {}
            Err(e) => return Err(e.into()),
        }
        // An empty VSchema makes the keyspace visible to vtgate at once, as Vitess does.
        if let Err(e) = ts.get_vschema(&self.keyspace).await {
            if !e.is_no_node() {
                return Err(e.into());
            }
            ts.save_vschema(&self.keyspace, &Default::default()).await?;
            ts.rebuild_vschema_graph(&all_cells(ts).await?).await?;
        }
        println!("Successfully created keyspace {}.", self.keyspace);
        Ok(())
    }
}

pub async fn get_keyspaces(ts: &TopoServer) -> Result<()> {
    for name in ts.get_keyspace_names().await? {
        println!("{name}");
    }
    Ok(())
}

pub async fn get_keyspace(ts: &TopoServer, keyspace: &str) -> Result<()> {
    let ks = ts.get_keyspace(keyspace).await?;
    println!("{ks:#?}");
    Ok(())
}

pub async fn create_shard(ts: &TopoServer, keyspace_shard: &str) -> Result<()> {
    let (ks, shard) = parse_keyspace_shard(keyspace_shard)?;
    ts.create_shard(&ks, &shard).await?;
    println!("Successfully created shard {ks}/{shard}.");
    Ok(())
}

pub async fn get_shard(ts: &TopoServer, keyspace_shard: &str) -> Result<()> {
    let (ks, shard) = parse_keyspace_shard(keyspace_shard)?;
    let value = ts.get_shard(&ks, &shard).await?;
    println!("{value:#?}");
    Ok(())
}

/// `RebuildKeyspaceGraph [--cells c1,c2] <keyspace>...`: recomputes SrvKeyspace in each cell.
#[derive(Args, Debug)]
pub struct RebuildKeyspaceGraph {
    #[arg(long, value_delimiter = ',')]
    cells: Vec<String>,
    #[arg(required = true)]
    keyspaces: Vec<String>,
}

impl RebuildKeyspaceGraph {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let cells = if self.cells.is_empty() {
            all_cells(ts).await?
        } else {
            self.cells
        };
        for ks in &self.keyspaces {
            ts.rebuild_keyspace_graph(ks, &cells).await?;
        }
        Ok(())
    }
}

/// `RebuildVSchemaGraph [--cells c1,c2]`: recomputes SrvVSchema in each cell.
#[derive(Args, Debug)]
pub struct RebuildVSchemaGraph {
    #[arg(long, value_delimiter = ',')]
    cells: Vec<String>,
}

impl RebuildVSchemaGraph {
    pub async fn run(self, ts: &TopoServer) -> Result<()> {
        let cells = if self.cells.is_empty() {
            all_cells(ts).await?
        } else {
            self.cells
        };
        ts.rebuild_vschema_graph(&cells).await?;
        Ok(())
    }
}

/// `AddCellInfo --root /vitess/zone1 [--server-address A] <cell>`.
#[derive(Args, Debug)]
pub struct AddCellInfo {
    /// Topology server of the cell; defaults to the global one.
    #[arg(long = "server-address")]
    server_address: Option<String>,
    /// Root path of the cell in its topology server.
    #[arg(long)]
    root: String,
    cell: String,
}

impl AddCellInfo {
    pub async fn run(self, ts: &TopoServer, global_address: &str) -> Result<()> {
        let address = self.server_address.as_deref().unwrap_or(global_address);
        match ts.add_cell_info(&self.cell, address, &self.root).await {
            Ok(()) | Err(topo::Error::NodeExists(_)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
