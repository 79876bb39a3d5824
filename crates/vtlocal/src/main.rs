//! `vtlocal`: one command for a whole local cluster, as Vitess's `examples/local` scripts.
//!
//! `vtlocal up` starts etcd, one `mariadbd` per tablet (through `mysqlctl`), the vttablets of
//! `commerce/0` (uids 100 primary, 101 replica, 102 rdonly), elects the primary, applies the example
//! schema and VSchema from `config/`, and starts vtgate on 15306 (`--example sharded` also brings
//! up keyspace `customer` sharded `-80,80-`, uids 200 and 300). `vtlocal down` stops what `up`
//! started (and nothing else): every process it starts is recorded in a pid file under
//! `<dataroot>/pids/`. `vtlocal add-shard ks/shard` adds three tablets for another shard;
//! `vtlocal remove-shard ks/shard` stops them again (after a Reshard).
//!
//! The other binaries (`mysqlctl`, `vttablet`, `vtgate`, `vtctl`) are taken from the directory of
//! this executable; etcd from `PATH`. Everything listens on 127.0.0.1 only.

mod cluster;
mod process;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "vtlocal",
    version,
    about = "Run a vtgate-rs cluster on this machine"
)]
struct Cli {
    /// Where every process keeps its data, logs and pid files.
    #[arg(long, env = "VTDATAROOT", default_value = "vtdataroot", global = true)]
    dataroot: PathBuf,
    /// Added to every port (etcd 2379, vtgate 15306/15001, tablets 15000+uid, 16000+uid, 17000+uid),
    /// so that a second cluster (or a test) can run beside the default one.
    #[arg(long = "port-offset", default_value_t = 0, global = true)]
    port_offset: u16,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the cluster (or the parts of it that are not running).
    Up {
        /// The example to set up: `commerce`, or `sharded` (commerce plus keyspace
        /// `customer` sharded `-80,80-`, as after Vitess's 301/302 example steps).
        #[arg(long, value_enum, default_value = "commerce")]
        example: cluster::Example,
        /// Directory holding the example's schema and VSchema files.
        #[arg(long, default_value = "config")]
        config_dir: PathBuf,
        /// Return once vtgate serves, leaving the cluster running.
        #[arg(long)]
        detach: bool,
    },
    /// Stop every process `up` and `add-shard` started.
    Down,
    /// Add three tablets (primary, replica, rdonly) for a new shard of a running cluster.
    AddShard {
        /// `keyspace/shard`, e.g. `customer/0` or `customer/-80`.
        keyspace_shard: String,
    },
    /// Stop and forget the tablets of a shard (after a Reshard moved its traffic away).
    RemoveShard {
        /// `keyspace/shard`, e.g. `customer/0`.
        keyspace_shard: String,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let cluster = cluster::Cluster::new(cli.dataroot, cli.port_offset)?;
    match cli.command {
        Command::Up {
            example,
            config_dir,
            detach,
        } => {
            cluster.up(&config_dir, example)?;
            cluster.print_help();
            if !detach {
                println!("Press Ctrl-C to stop the cluster.");
                process::wait_for_interrupt();
                cluster.down()?;
            }
            Ok(())
        }
        Command::Down => cluster.down(),
        Command::AddShard { keyspace_shard } => cluster.add_shard(&keyspace_shard),
        Command::RemoveShard { keyspace_shard } => cluster.remove_shard(&keyspace_shard),
    }
}
