//! The shape of a local cluster (ports, uids, paths) and the steps that bring it up and down.
//!
//! Ports follow Vitess's local example, shifted by `--port-offset`: etcd 2379 (peer 2380), vtgate
//! MySQL 15306, web 15001; tablet `uid` web 15000+uid, gRPC 16000+uid, MariaDB 17000+uid.
//! Tablets are recorded in `<dataroot>/tablets.txt` (`uid keyspace shard type` per line) so that
//! `down` and a second `up` know what exists.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::process::{retry, run, stop, wait_for_health, wait_for_port, Service};

const CELL: &str = "zone1";

/// The variable tokio's runtime reads for its number of worker threads (Go's GOMAXPROCS, in
/// effect). vtlocal sets it for vtgate and vttablet unless it is set already.
const WORKER_THREADS_VAR: &str = "TOKIO_WORKER_THREADS";

/// Runtime workers for each vtgate and vttablet of a local cluster: a quarter of the cores,
/// at least one. Every tablet comes with its own mariadbd and all of them share the machine;
/// one runtime thread per core in each process only adds wake-ups between threads. Measured
/// on 2 cores (benches/README.md): one worker took vttablet from 5.3 to 2.0 context switches
/// per point select and raised point-select QPS through vtgate by a quarter.
fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 4).max(1))
}
const GLOBAL_ROOT: &str = "/vitess/global";

/// The examples `vtlocal up` can set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Example {
    /// `commerce` (unsharded, shard `0`) with product, customer and corder.
    Commerce,
    /// `commerce` plus keyspace `customer` sharded `-80,80-` with sequences in `commerce`.
    Sharded,
}

/// One tablet of the local cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TabletSpec {
    uid: u32,
    keyspace: String,
    shard: String,
    /// Type at start: `replica` or `rdonly`; the first tablet of a shard is then elected primary.
    init_type: String,
}

pub struct Cluster {
    root: PathBuf,
    pid_dir: PathBuf,
    log_dir: PathBuf,
    offset: u16,
    bin_dir: PathBuf,
}

impl Cluster {
    pub fn new(dataroot: PathBuf, offset: u16) -> Result<Self> {
        fs::create_dir_all(&dataroot)
            .with_context(|| format!("cannot create {}", dataroot.display()))?;
        let root = fs::canonicalize(&dataroot)?;
        let (pid_dir, log_dir) = (root.join("pids"), root.join("logs"));
        fs::create_dir_all(&pid_dir)?;
        fs::create_dir_all(&log_dir)?;
        let exe = std::env::current_exe()?;
        let bin_dir = exe
            .parent()
            .ok_or_else(|| anyhow!("no directory for {}", exe.display()))?
            .to_path_buf();
        if offset > 30_000 {
            bail!("--port-offset {offset} would put ports beyond 65535");
        }
        Ok(Cluster {
            root,
            pid_dir,
            log_dir,
            offset,
            bin_dir,
        })
    }

    /// The directory mysqlctl keeps tablet `uid`'s MariaDB in (its `MysqldPaths::tablet_dir`).
    fn tablet_dir(&self, uid: u32) -> PathBuf {
        self.root.join(format!("vt_{uid:010}"))
    }

    fn port(&self, base: u32) -> u16 {
        // Bases are at most 17000 + uid (uid < 10000) and the offset at most 30000.
        (base + u32::from(self.offset)) as u16
    }

    fn etcd_port(&self) -> u16 {
        self.port(2379)
    }

    pub fn vtgate_mysql_port(&self) -> u16 {
        self.port(15306)
    }

    fn topo_address(&self) -> String {
        format!("127.0.0.1:{}", self.etcd_port())
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    fn service(&self, name: impl Into<String>, program: PathBuf, args: Vec<String>) -> Service<'_> {
        Service {
            name: name.into(),
            program,
            args,
            pid_dir: self.pids(),
            log_dir: self.logs(),
            env: Vec::new(),
        }
    }

    /// A vtgate or vttablet: a tokio service sharing this machine's cores with every other
    /// process of the cluster, so it gets [`worker_threads`] runtime workers.
    fn tokio_service(
        &self,
        name: impl Into<String>,
        program: PathBuf,
        args: Vec<String>,
    ) -> Service<'_> {
        let mut service = self.service(name, program, args);
        if std::env::var_os(WORKER_THREADS_VAR).is_none() {
            service
                .env
                .push((WORKER_THREADS_VAR, worker_threads().to_string()));
        }
        service
    }

    fn pids(&self) -> &Path {
        &self.pid_dir
    }

    fn logs(&self) -> &Path {
        &self.log_dir
    }

    fn vtctl(&self, args: &[&str]) -> Result<String> {
        let mut all = vec![
            "--topo-global-server-address".to_owned(),
            self.topo_address(),
        ];
        all.extend(args.iter().map(|s| (*s).to_owned()));
        run(&self.bin("vtctl"), &all)
    }

    /// Brings up everything that is not running yet, for `example` (`commerce` or `sharded`).
    pub fn up(&self, config_dir: &Path, example: Example) -> Result<()> {
        let config_dir = fs::canonicalize(config_dir)
            .with_context(|| format!("config directory {} not found", config_dir.display()))?;
        self.start_etcd()?;
        retry(Duration::from_secs(20), || {
            self.vtctl(&["AddCellInfo", "--root", &format!("/vitess/{CELL}"), CELL])
        })?;
        let mut tablets = self.tablets()?;
        let mut wanted = vec![(100, "commerce", "0")];
        if example == Example::Sharded {
            wanted.extend([(200, "customer", "-80"), (300, "customer", "80-")]);
        }
        for (uid, ks, shard) in wanted {
            if !tablets.iter().any(|t| t.keyspace == ks && t.shard == shard) {
                tablets.extend(shard_tablets(uid, ks, shard));
            }
        }
        self.save_tablets(&tablets)?;
        // Restart every known tablet (a second `up` restarts what a `down` stopped).
        for ks_shard in distinct_shards(&tablets) {
            self.start_shard(&tablets, &ks_shard.0, &ks_shard.1)?;
        }
        let file = |name: &str| config_dir.join(name).to_string_lossy().into_owned();
        if self
            .vtctl(&["GetVSchema", "commerce"])
            .map(|v| v.contains("product"))
            .unwrap_or(false)
        {
            println!("commerce already has its VSchema; leaving schema and VSchema as they are");
        } else {
            self.vtctl(&[
                "ApplySchema",
                "--sql-file",
                &file("create_commerce_schema.sql"),
                "commerce",
            ])?;
            self.vtctl(&[
                "ApplyVSchema",
                "--vschema-file",
                &file("vschema_commerce_initial.json"),
                "commerce",
            ])?;
        }
        if example == Example::Sharded {
            self.sharded_example(&config_dir)?;
        }
        self.start_vtgate()
    }

    /// The end state of Vitess's `301_customer_sharded.sh` / `302_new_shards.sh`: sequences
    /// in `commerce`, `customer` and `corder` in keyspace `customer` sharded `-80,80-`.
    /// Vitess moves those tables with MoveTables and Reshard; a fresh cluster creates them
    /// on both shards instead (the `customer`/`corder` statements of
    /// `create_commerce_schema.sql`, then `create_customer_sharded.sql`).
    fn sharded_example(&self, config_dir: &Path) -> Result<()> {
        let file = |name: &str| config_dir.join(name).to_string_lossy().into_owned();
        if self
            .vtctl(&["GetVSchema", "customer"])
            .map(|v| v.contains("corder"))
            .unwrap_or(false)
        {
            println!("customer already has its VSchema; leaving schema and VSchema as they are");
            return Ok(());
        }
        self.vtctl(&[
            "ApplySchema",
            "--sql-file",
            &file("create_commerce_seq.sql"),
            "commerce",
        ])?;
        self.vtctl(&[
            "ApplyVSchema",
            "--vschema-file",
            &file("vschema_commerce_seq.json"),
            "commerce",
        ])?;
        let schema = fs::read_to_string(config_dir.join("create_commerce_schema.sql"))
            .context("reading create_commerce_schema.sql")?;
        let customer_tables: Vec<&str> = schema
            .split(';')
            .map(str::trim)
            .filter(|stmt| {
                let lower = stmt.to_ascii_lowercase();
                lower.contains(" customer(") || lower.contains(" corder(")
            })
            .collect();
        if customer_tables.len() != 2 {
            bail!("create_commerce_schema.sql: expected the customer and corder tables");
        }
        self.vtctl(&[
            "ApplySchema",
            "--sql",
            &customer_tables.join(";\n"),
            "customer",
        ])?;
        self.vtctl(&[
            "ApplySchema",
            "--sql-file",
            &file("create_customer_sharded.sql"),
            "customer",
        ])?;
        self.vtctl(&[
            "ApplyVSchema",
            "--vschema-file",
            &file("vschema_customer_sharded.json"),
            "customer",
        ])?;
        Ok(())
    }

    /// Adds a shard with three new tablets to a running cluster.
    pub fn add_shard(&self, keyspace_shard: &str) -> Result<()> {
        let (ks, shard) = keyspace_shard
            .split_once('/')
            .ok_or_else(|| anyhow!("expected keyspace/shard, got {keyspace_shard:?}"))?;
        let mut tablets = self.tablets()?;
        if tablets.iter().any(|t| t.keyspace == ks && t.shard == shard) {
            bail!("{ks}/{shard} already has tablets");
        }
        let next = tablets
            .iter()
            .map(|t| t.uid / 100 * 100 + 100)
            .max()
            .unwrap_or(100);
        tablets.extend(shard_tablets(next, ks, shard));
        self.save_tablets(&tablets)?;
        self.start_shard(&tablets, ks, shard)
    }

    /// Stops the vttablets and MariaDB instances of a shard and forgets them, as Vitess's
    /// `306_down_shard_0.sh` after a Reshard; the shard's records stay in the topology until
    /// `vtctl DeleteShards --recursive`. The data directories are kept.
    pub fn remove_shard(&self, keyspace_shard: &str) -> Result<()> {
        let (ks, shard) = keyspace_shard
            .split_once('/')
            .ok_or_else(|| anyhow!("expected keyspace/shard, got {keyspace_shard:?}"))?;
        let (gone, keep): (Vec<TabletSpec>, Vec<TabletSpec>) = self
            .tablets()?
            .into_iter()
            .partition(|t| t.keyspace == ks && t.shard == shard);
        if gone.is_empty() {
            bail!("{ks}/{shard} has no tablets in this cluster");
        }
        let grace = Duration::from_secs(20);
        for t in &gone {
            stop(&self.pids().join(format!("vttablet-{}.pid", t.uid)), grace)?;
        }
        for t in &gone {
            run(
                &self.bin("mysqlctl"),
                &self.mysqlctl_args(t.uid, "shutdown"),
            )
            .with_context(|| format!("mysqlctl shutdown of tablet {}", t.uid))?;
        }
        self.save_tablets(&keep)?;
        let uids: Vec<String> = gone.iter().map(|t| t.uid.to_string()).collect();
        println!(
            "stopped the tablets of {ks}/{shard} (uids {}); delete the shard with: vtctl DeleteShards --recursive {ks}/{shard}",
            uids.join(", ")
        );
        Ok(())
    }

    /// Stops what `up` and `add-shard` started, newest layer first.
    pub fn down(&self) -> Result<()> {
        let grace = Duration::from_secs(20);
        stop(&self.pids().join("vtgate.pid"), grace)?;
        let tablets = self.tablets()?;
        for t in &tablets {
            stop(&self.pids().join(format!("vttablet-{}.pid", t.uid)), grace)?;
        }
        for t in &tablets {
            if let Err(e) = run(
                &self.bin("mysqlctl"),
                &self.mysqlctl_args(t.uid, "shutdown"),
            ) {
                eprintln!("mysqlctl shutdown of tablet {}: {e:#}", t.uid);
            }
        }
        stop(&self.pids().join("etcd.pid"), grace)?;
        println!("cluster in {} stopped", self.root.display());
        Ok(())
    }

    pub fn print_help(&self) {
        println!(
            "\nvtgate is serving: mariadb -h 127.0.0.1 -P {} (no user or password needed)\n\
             The MariaDB of tablet uid N listens on 127.0.0.1:{}+N (root, no password).\n\
             Topology: etcd at {}. Logs: {}/logs. Stop with: vtlocal down --dataroot {}",
            self.vtgate_mysql_port(),
            self.port(17000),
            self.topo_address(),
            self.root.display(),
            self.root.display(),
        );
    }

    fn start_etcd(&self) -> Result<()> {
        let client = self.etcd_port();
        let peer = self.port(2380);
        let etcd = self.service(
            "etcd",
            PathBuf::from("etcd"),
            vec![
                "--name".into(),
                "vtlocal".into(),
                "--data-dir".into(),
                self.root.join("etcd").to_string_lossy().into_owned(),
                "--listen-client-urls".into(),
                format!("http://127.0.0.1:{client}"),
                "--advertise-client-urls".into(),
                format!("http://127.0.0.1:{client}"),
                "--listen-peer-urls".into(),
                format!("http://127.0.0.1:{peer}"),
                "--initial-advertise-peer-urls".into(),
                format!("http://127.0.0.1:{peer}"),
                "--initial-cluster".into(),
                format!("vtlocal=http://127.0.0.1:{peer}"),
            ],
        );
        etcd.start()?;
        wait_for_port(client, Duration::from_secs(30), &etcd)
    }

    fn mysqlctl_args(&self, uid: u32, action: &str) -> Vec<String> {
        vec![
            "--tablet-uid".into(),
            uid.to_string(),
            "--mysql-port".into(),
            self.port(17000 + uid).to_string(),
            "--vtdataroot".into(),
            self.root.to_string_lossy().into_owned(),
            action.into(),
        ]
    }

    fn start_shard(&self, tablets: &[TabletSpec], ks: &str, shard: &str) -> Result<()> {
        let shard_tablets: Vec<&TabletSpec> = tablets
            .iter()
            .filter(|t| t.keyspace == ks && t.shard == shard)
            .collect();
        for t in &shard_tablets {
            let initialized = self.tablet_dir(t.uid).join("data").exists();
            let action = if initialized { "start" } else { "init" };
            run(&self.bin("mysqlctl"), &self.mysqlctl_args(t.uid, action))
                .with_context(|| format!("mysqlctl {action} for tablet {}", t.uid))?;
        }
        let mut services = Vec::new();
        for t in &shard_tablets {
            let service = self.vttablet(t);
            service.start()?;
            services.push((service, self.port(15000 + t.uid)));
        }
        // Every tablet must be in the topology before the election: PlannedReparentShard
        // attaches the replicas it finds there, and one registering later never replicates
        // (its database stays empty). The first tablet is the primary: after a
        // PlannedReparentShard moved it elsewhere, `up` moves it back (a planned reparent).
        for (service, http_port) in &services {
            wait_for_health(*http_port, Duration::from_secs(90), service)?;
        }
        let primary = format!("{CELL}-{:010}", shard_tablets[0].uid);
        let keyspace_shard = format!("{ks}/{shard}");
        retry(Duration::from_secs(30), || {
            self.vtctl(&[
                "PlannedReparentShard",
                "--new-primary",
                &primary,
                &keyspace_shard,
            ])
        })?;
        Ok(())
    }

    fn vttablet(&self, t: &TabletSpec) -> Service<'_> {
        let args = [
            ("--tablet-path", format!("{CELL}-{:010}", t.uid)),
            ("--init-keyspace", t.keyspace.clone()),
            ("--init-shard", t.shard.clone()),
            ("--init-tablet-type", t.init_type.clone()),
            ("--tablet-hostname", "127.0.0.1".into()),
            ("--bind-address", "127.0.0.1".into()),
            ("--port", self.port(15000 + t.uid).to_string()),
            ("--grpc-port", self.port(16000 + t.uid).to_string()),
            ("--db-host", "127.0.0.1".into()),
            ("--db-port", self.port(17000 + t.uid).to_string()),
            ("--db-user", "root".into()),
            ("--topo-implementation", "etcd2".into()),
            ("--topo-global-server-address", self.topo_address()),
            ("--topo-global-root", GLOBAL_ROOT.into()),
        ];
        // `--flag=value`: a shard name such as `-80` would read as a flag on its own.
        let mut args: Vec<String> = args.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        // Queries go over mysqlctl's unix socket, as Vitess's vttablet reaches its mysqld (no
        // TCP stack on the way; benches/README.md, Session 9, has what it changed here). Host
        // and port stay in the tablet record, for replicas and VReplication to connect to.
        let socket = self.tablet_dir(t.uid).join("mysql.sock");
        args.push(format!("--db-socket={}", socket.display()));
        self.tokio_service(format!("vttablet-{}", t.uid), self.bin("vttablet"), args)
    }

    fn start_vtgate(&self) -> Result<()> {
        let args = [
            ("--mysql-server-port", self.vtgate_mysql_port().to_string()),
            ("--mysql-server-bind-address", "127.0.0.1".into()),
            ("--port", self.port(15001).to_string()),
            ("--cell", CELL.into()),
            ("--cells-to-watch", CELL.into()),
            ("--tablet-types-to-wait", "PRIMARY,REPLICA".into()),
            ("--topo-implementation", "etcd2".into()),
            ("--topo-global-server-address", self.topo_address()),
            ("--topo-global-root", GLOBAL_ROOT.into()),
            ("--mysql-auth-server-impl", "none".into()),
        ];
        let mut args: Vec<String> = args
            .into_iter()
            .flat_map(|(k, v)| [k.to_owned(), v])
            .collect();
        // Hold statements through MoveTables/Reshard traffic switches.
        args.push("--enable-buffer".into());
        let vtgate = self.tokio_service("vtgate", self.bin("vtgate"), args);
        vtgate.start()?;
        wait_for_port(self.vtgate_mysql_port(), Duration::from_secs(60), &vtgate)
    }

    fn tablets_file(&self) -> PathBuf {
        self.root.join("tablets.txt")
    }

    fn tablets(&self) -> Result<Vec<TabletSpec>> {
        let text = match fs::read_to_string(self.tablets_file()) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let parts: Vec<&str> = line.split_whitespace().collect();
                match parts.as_slice() {
                    [uid, ks, shard, ty] => Ok(TabletSpec {
                        uid: uid
                            .parse()
                            .with_context(|| format!("bad uid in {line:?}"))?,
                        keyspace: (*ks).to_owned(),
                        shard: (*shard).to_owned(),
                        init_type: (*ty).to_owned(),
                    }),
                    _ => bail!("bad line in {}: {line:?}", self.tablets_file().display()),
                }
            })
            .collect()
    }

    fn save_tablets(&self, tablets: &[TabletSpec]) -> Result<()> {
        let text: String = tablets
            .iter()
            .map(|t| format!("{} {} {} {}\n", t.uid, t.keyspace, t.shard, t.init_type))
            .collect();
        fs::write(self.tablets_file(), text)?;
        Ok(())
    }
}

/// Three tablets from `first_uid`: two replicas (the first becomes primary) and one rdonly.
fn shard_tablets(first_uid: u32, ks: &str, shard: &str) -> Vec<TabletSpec> {
    ["replica", "replica", "rdonly"]
        .iter()
        .enumerate()
        .map(|(i, ty)| TabletSpec {
            uid: first_uid + i as u32,
            keyspace: ks.to_owned(),
            shard: shard.to_owned(),
            init_type: (*ty).to_owned(),
        })
        .collect()
}

fn distinct_shards(tablets: &[TabletSpec]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in tablets {
        let key = (t.keyspace.clone(), t.shard.clone());
        if !out.contains(&key) {
            out.push(key);
        }
    }
    out
}
