//! `mysqlctl`: initialize, start, stop and remove the `mariadbd` of one tablet,
//! with Vitess's flags: `mysqlctl --tablet-uid 100 --mysql-port 17100 init`.
//!
//! As in Vitess, `EXTRA_MY_CNF` (a colon-separated list of files) adds settings: each file is
//! appended to the generated `my.cnf`, so its lines win over ours. `vtlocal` passes its own
//! environment on, so `EXTRA_MY_CNF=/path/tuning.cnf vtlocal up` tunes every tablet's server.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use mysqlctl::{config, Mysqld, MysqldConfig};

/// Manages the local MariaDB server of one tablet.
#[derive(Debug, Parser)]
#[command(name = "mysqlctl", version)]
struct Flags {
    /// Tablet uid; also the MariaDB server-id and the directory `vt_<uid10>`.
    #[arg(long = "tablet-uid", default_value_t = 41983)]
    tablet_uid: u32,
    /// MySQL port (default 17000 + uid).
    #[arg(long = "mysql-port")]
    mysql_port: Option<u16>,
    /// Root of all tablet data directories.
    #[arg(long = "vtdataroot", env = "VTDATAROOT")]
    vtdataroot: Option<PathBuf>,
    /// innodb_buffer_pool_size in MiB.
    #[arg(long = "innodb-buffer-pool-mib", default_value_t = 64)]
    innodb_buffer_pool_mib: u32,
    #[command(subcommand)]
    command: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Create the data directory (if needed), start mariadbd and create the tablet's users.
    Init,
    /// Start mariadbd on an initialized data directory.
    Start,
    /// Stop mariadbd.
    Shutdown,
    /// Stop mariadbd and delete its directory.
    Teardown,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let flags = Flags::parse();
    let Some(dataroot) = flags.vtdataroot.clone() else {
        bail!("--vtdataroot or VTDATAROOT must be set");
    };
    let port = match flags.mysql_port {
        Some(port) => port,
        None => config::default_port(flags.tablet_uid)
            .context("17000 + tablet uid is not a valid port; pass --mysql-port")?,
    };
    let mut config = MysqldConfig::new(flags.tablet_uid, port, dataroot);
    config.buffer_pool_mib = flags.innodb_buffer_pool_mib;
    if let Ok(list) = std::env::var("EXTRA_MY_CNF") {
        config.extra_my_cnf = config::read_extra_my_cnf(&list)?;
    }
    let mysqld = Mysqld::new(config)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match flags.command {
            Action::Init => mysqld.init().await,
            Action::Start => mysqld.start().await,
            Action::Shutdown => mysqld.shutdown().await,
            Action::Teardown => mysqld.teardown().await,
        }
    })?;
    Ok(())
}
