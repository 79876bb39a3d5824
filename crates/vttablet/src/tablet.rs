//! The tablet itself: its identity, its MariaDB (a query pool of its own, see
//! [`crate::conn_pool`], a separate mysql_async transaction pool and admin connections), its open transactions (and their killer), its state, and its records in the
//! topology (Keyspace and Shard created when missing, the Tablet record
//! registered, the Shard record watched for denied tables and the primary).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Pool, PoolConstraints, PoolOpts};
use proto::query::ExecuteOptions;
use proto::topodata::{Keyspace, Tablet as TabletRecord, TabletAlias, TabletType};
use proto::vttime::Time;
use topo::TopoServer;

use crate::config::TabletConfig;
use crate::conn_pool::{ConnPool, PoolError, PooledConn};
use crate::error::{Result, TabletError};
use crate::state::TabletState;
use crate::tx::{TxLimits, TxPool};

/// How long startup waits for MariaDB to accept connections.
const MYSQL_WAIT: Duration = Duration::from_secs(60);

/// Vitess's default `--queryserver-config-query-timeout`: how long a query waits for a
/// query-pool connection when `--queryserver-config-query-pool-timeout` is 0.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

/// Pause before re-establishing a failed Shard watch.
const WATCH_RETRY: Duration = Duration::from_secs(1);

/// One running tablet, shared by its gRPC services.
pub struct Tablet {
    /// `<cell>-<uid>`.
    pub alias: TabletAlias,
    /// Keyspace served.
    pub keyspace: String,
    /// Shard served.
    pub shard: String,
    /// MariaDB database holding the keyspace's tables.
    pub db_name: String,
    /// Changing state (type, serving, denied tables).
    pub state: TabletState,
    /// Open transactions.
    pub txs: TxPool,
    /// Query-service requests under way (a demotion waits for them).
    pub in_flight: crate::inflight::InFlight,
    /// What MariaDB's result metadata leaves out: JSON columns, text columns' collations.
    pub columns: crate::columns::ColumnMetadata,
    /// Blocks of sequence values reserved by this primary.
    pub sequences: crate::sequence::Sequences,
    /// The topology.
    pub topo: TopoServer,
    /// Held while this tablet's replication source changes (replication RPCs, start-up), so
    /// one change never interleaves with another.
    pub replication_changes: tokio::sync::Mutex<()>,
    pool: ConnPool,
    /// Like `pool`, with CLIENT_FOUND_ROWS (DML reports rows matched), made on first use.
    found_rows_pool: std::sync::OnceLock<ConnPool>,
    /// Connections of transactions (`--queryserver-config-transaction-cap` of them).
    tx_pool: Pool,
    /// Like `tx_pool`, with CLIENT_FOUND_ROWS, made on first use.
    tx_found_rows_pool: std::sync::OnceLock<Pool>,
    admin_opts: OptsBuilder,
    admin_conn_opts: mysql_async::Opts,
    config: TabletConfig,
    closed: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Tablet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tablet")
            .field("alias", &self.alias)
            .field("keyspace", &self.keyspace)
            .field("shard", &self.shard)
            .field("db_name", &self.db_name)
            .finish_non_exhaustive()
    }
}

/// Current time as Unix seconds.
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn now_time() -> Time {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Time {
        seconds: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        nanoseconds: i32::try_from(now.subsec_nanos()).unwrap_or(0),
    }
}

impl Tablet {
    /// Connects to MariaDB (waiting for it to come up), creates the tablet's
    /// database when missing (not binlogged: every server creates its own),
    /// and prepares the query pool. Does not touch the topology yet.
    pub async fn open(config: TabletConfig, topo: TopoServer) -> Result<Arc<Tablet>> {
        let flags = &config.flags;
        let mut admin_opts = OptsBuilder::default()
            .user(Some(flags.db_user.clone()))
            .pass(Some(flags.db_password.clone()))
            .tcp_nodelay(true);
        admin_opts = match &flags.db_socket {
            Some(socket) => admin_opts.socket(Some(socket.clone())),
            None => admin_opts
                .ip_or_hostname(flags.db_host.clone())
                .tcp_port(config.db_port())
                .prefer_socket(false),
        };
        let mut admin = connect_with_retry(admin_opts.clone(), MYSQL_WAIT).await?;
        admin.query_drop("SET SESSION sql_log_bin = 0").await?;
        admin
            .query_drop(format!(
                "CREATE DATABASE IF NOT EXISTS {}",
                quote_identifier(&config.db_name)
            ))
            .await?;
        drop(admin);
        let pool = Self::query_pool(&admin_opts, &config, false);
        let tx_pool = Pool::new(Self::tx_pool_opts(&admin_opts, &config, false));
        let limits = TxLimits {
            cap: flags.transaction_cap,
            pool_timeout: flags.txpool_timeout,
            timeout: flags.transaction_timeout,
        };
        let tablet = Arc::new(Tablet {
            alias: config.alias.clone(),
            keyspace: config.keyspace.clone(),
            shard: config.shard.clone(),
            db_name: config.db_name.clone(),
            state: TabletState::new(config.tablet_type),
            txs: TxPool::new(limits),
            in_flight: crate::inflight::InFlight::default(),
            columns: crate::columns::ColumnMetadata::default(),
            sequences: crate::sequence::Sequences::default(),
            topo,
            replication_changes: tokio::sync::Mutex::new(()),
            pool,
            found_rows_pool: std::sync::OnceLock::new(),
            tx_pool,
            tx_found_rows_pool: std::sync::OnceLock::new(),
            admin_conn_opts: admin_opts.clone().into(),
            admin_opts,
            config,
            closed: tokio::sync::watch::channel(false).0,
        });
        if !limits.timeout.is_zero() {
            tokio::spawn(kill_expired_transactions(Arc::downgrade(&tablet)));
        }
        Ok(tablet)
    }

    /// Options of a query or transaction pool's connections: the tablet's database;
    /// `found_rows` sets CLIENT_FOUND_ROWS.
    fn conn_opts(admin_opts: &OptsBuilder, config: &TabletConfig, found_rows: bool) -> OptsBuilder {
        admin_opts
            .clone()
            .db_name(Some(config.db_name.clone()))
            .client_found_rows(found_rows)
    }

    /// A query pool of `--queryserver-config-pool-size` connections.
    fn query_pool(admin_opts: &OptsBuilder, config: &TabletConfig, found_rows: bool) -> ConnPool {
        let opts = Self::conn_opts(admin_opts, config, found_rows);
        ConnPool::new(opts.into(), config.flags.pool_size)
    }

    /// Options of a transaction pool: no reset on return, at most
    /// `--queryserver-config-transaction-cap` connections.
    fn tx_pool_opts(
        admin_opts: &OptsBuilder,
        config: &TabletConfig,
        found_rows: bool,
    ) -> OptsBuilder {
        // mysql_async drops a returned connection at once when the pool is above its lower
        // bound (0) and the idle TTL is 0 (its default): keep idle connections for reuse.
        let pool_opts = PoolOpts::default()
            .with_reset_connection(false)
            .with_inactive_connection_ttl(crate::conn_pool::IDLE_TTL)
            .with_constraints(
                PoolConstraints::new(0, config.flags.transaction_cap.max(1)).unwrap_or_default(),
            );
        Self::conn_opts(admin_opts, config, found_rows).pool_opts(pool_opts)
    }

    /// The query pool for a query with these options: with `client_found_rows` (the client
    /// connected to vtgate with CLIENT_FOUND_ROWS) one whose connections have it too.
    fn pool_for(&self, options: Option<&ExecuteOptions>) -> &ConnPool {
        if options.is_some_and(|o| o.client_found_rows) {
            self.found_rows_pool
                .get_or_init(|| Self::query_pool(&self.admin_opts, &self.config, true))
        } else {
            &self.pool
        }
    }

    /// A query-pool connection for a query with these options, waiting at most
    /// `--queryserver-config-query-pool-timeout`, else `QUERY_TIMEOUT` (Vitess's
    /// RESOURCE_EXHAUSTED after that). It goes back to the pool only once marked
    /// [`PooledConn::finished`].
    pub async fn query_conn(&self, options: Option<&ExecuteOptions>) -> Result<PooledConn> {
        let wait = match self.config.flags.query_pool_timeout {
            Duration::ZERO => QUERY_TIMEOUT,
            wait => wait,
        };
        self.pool_for(options).get(wait).await.map_err(|e| match e {
            PoolError::TimedOut => TabletError::vitess(
                proto::vtrpc::Code::ResourceExhausted,
                "resource pool timed out",
            ),
            PoolError::Connect(e) => TabletError::from(e),
        })
    }

    /// The transaction pool for a transaction with these options (see `Tablet::pool_for`).
    pub fn tx_pool_for(&self, options: Option<&ExecuteOptions>) -> &Pool {
        if options.is_some_and(|o| o.client_found_rows) {
            self.tx_found_rows_pool
                .get_or_init(|| Pool::new(Self::tx_pool_opts(&self.admin_opts, &self.config, true)))
        } else {
            &self.tx_pool
        }
    }

    /// A new connection without a default database, for administration.
    pub async fn admin_conn(&self) -> Result<Conn> {
        Ok(Conn::new(self.admin_opts.clone()).await?)
    }

    /// Connection options of an administration connection (no default database).
    pub fn admin_opts(&self) -> mysql_async::Opts {
        self.admin_conn_opts.clone()
    }

    /// Connection options of an administration connection, borrowed.
    pub fn admin_opts_ref(&self) -> &mysql_async::Opts {
        &self.admin_conn_opts
    }

    /// The settings this tablet was started with.
    pub fn config(&self) -> &TabletConfig {
        &self.config
    }

    /// The Tablet record as this tablet would write it now.
    pub fn record(&self, grpc_port: u16, http_port: u16) -> TabletRecord {
        let snapshot = self.state.snapshot();
        let mut record = TabletRecord {
            alias: Some(self.alias.clone()),
            hostname: self.config.flags.tablet_hostname.clone(),
            keyspace: self.keyspace.clone(),
            shard: self.shard.clone(),
            mysql_hostname: self.config.flags.db_host.clone(),
            mysql_port: i32::from(self.config.db_port()),
            tablet_start_time: Some(now_time()),
            ..TabletRecord::default()
        };
        record.port_map.insert("grpc".into(), i32::from(grpc_port));
        record.port_map.insert("vt".into(), i32::from(http_port));
        if self.config.db_name_override {
            record.db_name_override = self.db_name.clone();
        }
        record.set_type(snapshot.tablet_type);
        if snapshot.tablet_type == TabletType::Primary {
            record.primary_term_start_time = Some(Time {
                seconds: snapshot.primary_term_start,
                nanoseconds: 0,
            });
        }
        record
    }

    /// Records the cell (CellInfo) and creates the Keyspace and Shard records
    /// when missing, registers the
    /// Tablet record (with the shard's key range), and rebuilds the keyspace's
    /// serving graph in this cell when it has none yet.
    pub async fn register(&self, grpc_port: u16, http_port: u16) -> Result<()> {
        if self.state.snapshot().tablet_type == TabletType::Primary {
            self.state.set_type(TabletType::Primary, now_unix());
        }
        let cell = self.alias.cell.clone();
        if let Err(e) = self.topo.get_cell_info(&cell).await {
            if !e.is_no_node() {
                return Err(e.into());
            }
            // The cell lives on the global server under its default root;
            // recording that lets vtctl and vtgate list the cell.
            let root = topo::paths::default_cell_root(&cell);
            let address = &self.config.flags.topo_global_server_address;
            match self.topo.add_cell_info(&cell, address, &root).await {
                Err(e) if !e.is_node_exists() => return Err(e.into()),
                _ => {}
            }
        }
        match self.topo.get_keyspace(&self.keyspace).await {
            Err(e) if e.is_no_node() => {
                match self
                    .topo
                    .create_keyspace(&self.keyspace, &Keyspace::default())
                    .await
                {
                    Err(e) if !e.is_node_exists() => return Err(e.into()),
                    _ => {}
                }
            }
            other => {
                other?;
            }
        }
        let shard = match self.topo.get_shard(&self.keyspace, &self.shard).await {
            Err(e) if e.is_no_node() => {
                match self.topo.create_shard(&self.keyspace, &self.shard).await {
                    Ok(shard) => shard,
                    Err(e) if e.is_node_exists() => {
                        self.topo.get_shard(&self.keyspace, &self.shard).await?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            other => other?,
        };
        // As Vitess does: a tablet the Shard record names as primary restarts as primary
        // (the replica it was initialised as is only its type before a reparent).
        if shard.primary_alias.as_ref() == Some(&self.alias)
            && self.state.snapshot().tablet_type != TabletType::Primary
        {
            let term = shard
                .primary_term_start_time
                .as_ref()
                .map_or_else(now_unix, |t| t.seconds);
            tracing::info!(alias = %self.alias, "the shard record names this tablet primary");
            self.state.set_type(TabletType::Primary, term);
        }
        let mut record = self.record(grpc_port, http_port);
        record.key_range = shard.key_range.clone();
        self.topo.upsert_tablet(&record).await?;
        self.state.apply_shard(&shard, &cell);
        match self.topo.get_srv_keyspace(&cell, &self.keyspace).await {
            Err(e) if e.is_no_node() => {
                if let Err(e) = self
                    .topo
                    .rebuild_keyspace_graph(&self.keyspace, &[cell])
                    .await
                {
                    tracing::warn!(error = %e, "cannot rebuild the keyspace graph");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read SrvKeyspace"),
            Ok(_) => {}
        }
        tracing::info!(alias = %self.alias, keyspace = %self.keyspace, shard = %self.shard, "tablet registered");
        Ok(())
    }

    /// Follows the Shard record forever, applying its tablet controls and
    /// primary to the state; re-watches after errors.
    pub async fn watch_shard(self: Arc<Self>) {
        loop {
            match self.topo.watch_shard(&self.keyspace, &self.shard).await {
                Ok((shard, mut changes)) => {
                    self.state.apply_shard(&shard, &self.alias.cell);
                    while let Some(change) = changes.next().await {
                        match change {
                            Ok(shard) => self.state.apply_shard(&shard, &self.alias.cell),
                            Err(e) => {
                                tracing::warn!(error = %e, "shard watch ended");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot watch shard"),
            }
            tokio::time::sleep(WATCH_RETRY).await;
        }
    }

    /// Follows the keyspace's SrvKeyspace in this tablet's cell forever,
    /// applying the query-service controls of this shard; re-watches after errors.
    pub async fn watch_srv_keyspace(self: Arc<Self>) {
        loop {
            match self
                .topo
                .watch_srv_keyspace(&self.alias.cell, &self.keyspace)
                .await
            {
                Ok((current, mut changes)) => {
                    self.state.apply_srv_keyspace(current.as_ref(), &self.shard);
                    while let Some(change) = changes.next().await {
                        match change {
                            Ok(srv) => self.state.apply_srv_keyspace(srv.as_ref(), &self.shard),
                            Err(e) => {
                                tracing::warn!(error = %e, "SrvKeyspace watch ended");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot watch SrvKeyspace"),
            }
            tokio::time::sleep(WATCH_RETRY).await;
        }
    }

    /// On a non-primary with replication configured, reports the replication
    /// lag (and a stopped SQL thread's error) in the health state at every
    /// `interval`. A tablet with no replication source reports nothing.
    pub async fn report_replication(self: Arc<Self>, interval: Duration) {
        let mut conn: Option<Conn> = None;
        loop {
            tokio::time::sleep(interval).await;
            if self.state.snapshot().tablet_type == TabletType::Primary {
                continue;
            }
            if conn.is_none() {
                conn = self.admin_conn().await.ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            match mysqlctl::replication::replication_status(c).await {
                Ok(Some(status)) => {
                    let error = if !status.sql_running && !status.last_sql_error.is_empty() {
                        format!("replication is broken: {}", status.last_sql_error)
                    } else {
                        String::new()
                    };
                    self.state.update(|s| {
                        s.replication_lag_seconds = status.lag_seconds.unwrap_or(0);
                        s.health_error = error;
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "replication status");
                    conn = None;
                }
            }
        }
    }

    /// Changes the tablet type in the state and in the Tablet record.
    pub async fn change_type(&self, tablet_type: TabletType) -> Result<()> {
        self.state.set_type(tablet_type, now_unix());
        let term_start = self.state.snapshot().primary_term_start;
        self.topo
            .update_tablet_fields(&self.alias, move |t| {
                t.set_type(tablet_type);
                t.primary_term_start_time = (tablet_type == TabletType::Primary).then_some(Time {
                    seconds: term_start,
                    nanoseconds: 0,
                });
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// A receiver that turns true when the tablet shuts down (long streams end then).
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// Ends long-lived streams such as StreamHealth.
    pub fn begin_close(&self) {
        self.closed.send_replace(true);
    }

    /// Closes the query and transaction pools (open transactions are rolled back by MariaDB).
    pub async fn close(&self) {
        for pool in std::iter::once(&self.pool).chain(self.found_rows_pool.get()) {
            pool.close().await;
        }
        for pool in std::iter::once(&self.tx_pool).chain(self.tx_found_rows_pool.get()) {
            if let Err(e) = pool.clone().disconnect().await {
                tracing::debug!(error = %e, "closing a transaction pool");
            }
        }
    }
}

/// Runs the transaction killer every tenth of the transaction timeout (as Vitess does)
/// until the tablet is gone.
async fn kill_expired_transactions(tablet: std::sync::Weak<Tablet>) {
    let period = tablet.upgrade().map_or(Duration::from_secs(1), |t| {
        (t.txs.limits().timeout / 10).max(Duration::from_millis(10))
    });
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        let Some(tablet) = tablet.upgrade() else {
            return;
        };
        tablet.txs.kill_expired(&tablet.admin_conn_opts).await;
    }
}

/// Connects, retrying until `wait` has passed.
async fn connect_with_retry(opts: OptsBuilder, wait: Duration) -> Result<Conn> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match Conn::new(opts.clone()).await {
            Ok(conn) => return Ok(conn),
            Err(mysql_async::Error::Server(e)) => return Err(mysql_async::Error::Server(e).into()),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e.into()),
            Err(e) => {
                tracing::info!(error = %e, "waiting for MariaDB");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Quotes a MySQL identifier with backticks.
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
