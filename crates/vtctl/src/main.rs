//! `vtctl`: the admin command line of vtgate-rs.
//!
//! It speaks to the topology directly (etcd, Vitess's key layout) and to tablets over their
//! `tabletmanager` gRPC service, with the command names and flags of Vitess's `vtctldclient`:
//!
//! ```text
//! vtctl --topo-server 127.0.0.1:2379 CreateKeyspace commerce
//! vtctl --topo-server 127.0.0.1:2379 ApplySchema --sql-file create_commerce_schema.sql commerce
//! vtctl --topo-server 127.0.0.1:2379 ApplyVSchema --vschema-file vschema_commerce_initial.json commerce
//! vtctl --topo-server 127.0.0.1:2379 InitShardPrimary --force commerce/0 zone1-100
//! vtctl --topo-server 127.0.0.1:2379 MoveTables --workflow commerce2customer --target-keyspace customer create --source-keyspace commerce --tables customer,corder
//! ```
//!
//! There is no vtctld in between: each invocation opens the topology, does one thing and exits.

mod keyspace;
mod reparent;
mod schema;
mod shards;
mod tablet_control;
mod tablets;
mod tmclient;
mod workflow;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Flags shared by every command.
#[derive(Parser, Debug)]
#[command(
    name = "vtctl",
    version,
    about = "Administer a vtgate-rs cluster: topology, schema, reparents"
)]
struct Cli {
    /// Address of the global topology server (etcd client URL host:port).
    #[arg(
        long = "topo-global-server-address",
        alias = "topo-server",
        alias = "server",
        default_value = "127.0.0.1:2379",
        global = true
    )]
    topo_server: String,

    /// Root of the global topology.
    #[arg(
        long = "topo-global-root",
        default_value = "/vitess/global",
        global = true
    )]
    topo_root: String,

    /// Only `etcd2` is implemented; accepted for compatibility with Vitess scripts.
    #[arg(long = "topo-implementation", default_value = "etcd2", global = true)]
    topo_implementation: String,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    #[command(name = "CreateKeyspace")]
    CreateKeyspace(keyspace::CreateKeyspace),
    #[command(name = "GetKeyspaces")]
    GetKeyspaces,
    #[command(name = "GetKeyspace")]
    GetKeyspace { keyspace: String },
    #[command(name = "CreateShard")]
    CreateShard { keyspace_shard: String },
    #[command(name = "DeleteShards")]
    DeleteShards(shards::DeleteShards),
    #[command(name = "GetShard")]
    GetShard { keyspace_shard: String },
    #[command(name = "GetTablets")]
    GetTablets(tablets::GetTablets),
    #[command(name = "ApplySchema")]
    ApplySchema(schema::ApplySchema),
    #[command(name = "ApplyVSchema")]
    ApplyVSchema(schema::ApplyVSchema),
    #[command(name = "GetVSchema")]
    GetVSchema { keyspace: String },
    #[command(name = "GetSrvKeyspaces")]
    GetSrvKeyspaces(shards::GetSrvKeyspaces),
    #[command(name = "GetSrvVSchema")]
    GetSrvVSchema { cell: String },
    #[command(name = "RebuildKeyspaceGraph")]
    RebuildKeyspaceGraph(keyspace::RebuildKeyspaceGraph),
    #[command(name = "RebuildVSchemaGraph")]
    RebuildVSchemaGraph(keyspace::RebuildVSchemaGraph),
    #[command(name = "InitShardPrimary")]
    InitShardPrimary(reparent::InitShardPrimary),
    #[command(name = "PlannedReparentShard")]
    PlannedReparentShard(reparent::PlannedReparentShard),
    #[command(name = "SetShardTabletControl")]
    SetShardTabletControl(tablet_control::SetShardTabletControl),
    #[command(name = "ExecuteFetchAsDBA")]
    ExecuteFetchAsDba(tablets::ExecuteFetchAsDba),
    #[command(name = "ChangeTabletType")]
    ChangeTabletType(tablets::ChangeTabletType),
    #[command(name = "AddCellInfo")]
    AddCellInfo(keyspace::AddCellInfo),
    #[command(name = "MoveTables")]
    MoveTables(workflow::MoveTables),
    #[command(name = "Reshard")]
    Reshard(workflow::Reshard),
    #[command(name = "VDiff")]
    VDiff(workflow::VDiff),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if cli.topo_implementation != "etcd2" {
        anyhow::bail!(
            "unsupported --topo-implementation {:?}: only etcd2",
            cli.topo_implementation
        );
    }
    let ts = topo::TopoServer::connect_etcd(&cli.topo_server, &cli.topo_root).await?;
    match cli.command {
        Command::CreateKeyspace(c) => c.run(&ts).await,
        Command::GetKeyspaces => keyspace::get_keyspaces(&ts).await,
        Command::GetKeyspace { keyspace } => keyspace::get_keyspace(&ts, &keyspace).await,
        Command::CreateShard { keyspace_shard } => {
            keyspace::create_shard(&ts, &keyspace_shard).await
        }
        Command::DeleteShards(c) => c.run(&ts).await,
        Command::GetShard { keyspace_shard } => keyspace::get_shard(&ts, &keyspace_shard).await,
        Command::GetTablets(c) => c.run(&ts).await,
        Command::ApplySchema(c) => c.run(&ts).await,
        Command::ApplyVSchema(c) => c.run(&ts).await,
        Command::GetVSchema { keyspace } => schema::get_vschema(&ts, &keyspace).await,
        Command::GetSrvKeyspaces(c) => c.run(&ts).await,
        Command::GetSrvVSchema { cell } => schema::get_srv_vschema(&ts, &cell).await,
        Command::RebuildKeyspaceGraph(c) => c.run(&ts).await,
        Command::RebuildVSchemaGraph(c) => c.run(&ts).await,
        Command::InitShardPrimary(c) => c.run(&ts).await,
        Command::PlannedReparentShard(c) => c.run(&ts).await,
        Command::SetShardTabletControl(c) => c.run(&ts).await,
        Command::ExecuteFetchAsDba(c) => c.run(&ts).await,
        Command::ChangeTabletType(c) => c.run(&ts).await,
        Command::AddCellInfo(c) => c.run(&ts, &cli.topo_server).await,
        Command::MoveTables(c) => c.run(&ts).await,
        Command::Reshard(c) => c.run(&ts).await,
        Command::VDiff(c) => c.run(&ts).await,
    }
}

/// Splits `ks/shard` as Vitess's `topoproto.ParseKeyspaceShard` does (`/` or `:`).
pub(crate) fn parse_keyspace_shard(s: &str) -> Result<(String, String)> {
    match s.split_once(['/', ':']) {
        Some((ks, shard)) if !ks.is_empty() && !shard.is_empty() => {
            Ok((ks.to_owned(), shard.to_owned()))
        }
        _ => anyhow::bail!("invalid keyspace/shard: {s:?} (expected <keyspace>/<shard>)"),
    }
}

/// Every cell known to the topology; tablets and serving graphs are per cell.
pub(crate) async fn all_cells(ts: &topo::TopoServer) -> Result<Vec<String>> {
    Ok(ts.get_cell_names().await?)
}

pub(crate) use proto::duration::parse_duration;
