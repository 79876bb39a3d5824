//! One tablet's `mariadbd`: initialize its data directory, start it detached,
//! wait until it answers, stop it, and hand out connection options.

use std::fs;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder};

use crate::config::{MysqldConfig, MysqldPaths};
use crate::error::{Error, Result};
use crate::process::{self, LogMark, Shutdown, ShutdownStep, POLL_INTERVAL};
use crate::sql::{quote_identifier, quote_string};

/// The MySQL user replicas connect as (Vitess's default `--db_repl_user`).
pub const REPLICATION_USER: &str = "vt_repl";

/// The sidecar database Vitess keeps on every tablet.
pub const SIDECAR_DB: &str = "_vt";

/// A local `mariadbd` managed the way Vitess's mysqlctl manages one.
#[derive(Debug, Clone)]
pub struct Mysqld {
    config: MysqldConfig,
    paths: MysqldPaths,
}

impl Mysqld {
    /// Checks `config` and prepares (without touching the disk) an instance.
    pub fn new(config: MysqldConfig) -> Result<Self> {
        config.validate()?;
        let paths = config.paths();
        Ok(Mysqld { config, paths })
    }

    /// The settings of this instance.
    pub fn config(&self) -> &MysqldConfig {
        &self.config
    }

    /// The file layout of this instance.
    pub fn paths(&self) -> &MysqldPaths {
        &self.paths
    }

    /// Connection options for `root` over TCP to `127.0.0.1:<port>`, no database selected.
    pub fn tcp_opts(&self) -> OptsBuilder {
        OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(self.config.port)
            .user(Some("root"))
            .prefer_socket(false)
    }

    /// Connection options for `root` over the unix socket, no database selected.
    pub fn socket_opts(&self) -> OptsBuilder {
        OptsBuilder::default()
            .socket(Some(self.paths.socket.display().to_string()))
            .user(Some("root"))
    }

    /// Opens a `root` connection over the unix socket.
    pub async fn connect(&self) -> Result<Conn> {
        Conn::new(self.socket_opts())
            .await
            .map_err(|source| Error::Mysql {
                uid: self.config.uid,
                source,
            })
    }

    /// True when the pid file names a live `mariadbd`.
    pub fn is_running(&self) -> bool {
        process::read_pid_file(&self.paths.pid_file).is_some_and(process::is_live_mariadbd)
    }

    /// Creates the data directory when it does not exist yet, starts the server,
    /// and creates the users and databases a tablet needs. Running it again on
    /// an initialized instance only starts it (if stopped): the data is kept.
    pub async fn init(&self) -> Result<()> {
        self.prepare_dirs()?;
        let fresh = !self.paths.data_dir.join("mysql").is_dir();
        if fresh {
            self.install_db().await?;
        }
        self.start().await?;
        self.create_tablet_accounts().await?;
        if fresh {
            tracing::info!(uid = self.config.uid, "initialized new data directory");
        }
        Ok(())
    }

    /// Writes `my.cnf` and starts `mariadbd` in its own session, so it outlives
    /// the caller; returns once it accepts connections. A no-op when it runs already.
    pub async fn start(&self) -> Result<()> {
        if self.is_running() {
            tracing::debug!(uid = self.config.uid, "mariadbd already running");
            return Ok(());
        }
        self.prepare_dirs()?;
        let mark = LogMark::capture(&self.paths.error_log);
        let console = fs::File::create(&self.paths.console_log)
            .map_err(|e| Error::io("create", &self.paths.console_log, e))?;
        let console_err = console
            .try_clone()
            .map_err(|e| Error::io("duplicate", &self.paths.console_log, e))?;
        let mut command = Command::new(&self.config.mariadbd);
        command.arg(format!("--defaults-file={}", self.paths.my_cnf.display()));
        if process::running_as_root() {
            command.arg("--user=root");
        }
        command
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(console_err);
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            program: self.config.mariadbd.clone(),
            source,
        })?;
        let deadline = Instant::now() + self.config.start_timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(self.start_failed(&mark, format!("mariadbd exited: {status}")));
            }
            if Conn::new(self.socket_opts()).await.is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(self.start_failed(
                    &mark,
                    format!(
                        "not accepting connections after {:?}",
                        self.config.start_timeout
                    ),
                ));
            }
            tokio::time::sleep(POLL_INTERVAL * 2).await;
        }
        // Reap the child when it eventually exits, so it never lingers as a zombie.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        tracing::info!(
            uid = self.config.uid,
            port = self.config.port,
            "mariadbd started"
        );
        Ok(())
    }

    /// Stops the server cleanly (SIGTERM, then SIGKILL after the grace period).
    /// A no-op when it is not running.
    pub async fn shutdown(&self) -> Result<()> {
        let Some(pid) = process::read_pid_file(&self.paths.pid_file) else {
            return Ok(());
        };
        if !process::is_live_mariadbd(pid) {
            return Ok(());
        }
        let mut shutdown = Shutdown::begin(pid, self.config.stop_timeout)
            .map_err(|e| Error::io("signal", &self.paths.pid_file, e))?;
        loop {
            match shutdown
                .step(process::is_live_mariadbd(pid))
                .map_err(|e| Error::io("signal", &self.paths.pid_file, e))?
            {
                ShutdownStep::Exited => break,
                ShutdownStep::Wait(pause) => tokio::time::sleep(pause).await,
                ShutdownStep::GaveUp => {
                    return Err(Error::StopFailed {
                        uid: self.config.uid,
                        pid,
                    })
                }
            }
        }
        tracing::info!(uid = self.config.uid, pid, "mariadbd stopped");
        Ok(())
    }

    /// Stops the server and removes everything under its tablet directory.
    pub async fn teardown(&self) -> Result<()> {
        self.shutdown().await?;
        match fs::remove_dir_all(&self.paths.tablet_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io("remove", &self.paths.tablet_dir, e))
            }
            _ => Ok(()),
        }
    }

    /// Creates the tablet directories and (re)writes `my.cnf`.
    fn prepare_dirs(&self) -> Result<()> {
        for dir in [
            &self.paths.tablet_dir,
            &self.paths.data_dir,
            &self.paths.tmp_dir,
        ] {
            fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        }
        fs::write(&self.paths.my_cnf, self.config.my_cnf())
            .map_err(|e| Error::io("write", &self.paths.my_cnf, e))
    }

    /// Runs `mariadb-install-db` on the (empty) data directory.
    async fn install_db(&self) -> Result<()> {
        let mut command = tokio::process::Command::new(&self.config.install_db);
        command
            .arg(format!("--defaults-file={}", self.paths.my_cnf.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db");
        if process::running_as_root() {
            command.arg("--user=root");
        }
        let output = command
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|source| Error::Spawn {
                program: self.config.install_db.clone(),
                source,
            })?;
        if !output.status.success() {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            return Err(Error::InstallDb {
                data_dir: self.paths.data_dir.clone(),
                status: output.status.to_string(),
                output: text,
            });
        }
        Ok(())
    }

    /// Creates `root@127.0.0.1`, the replication user and the sidecar database,
    /// without writing them to the binary log (each server creates its own, so
    /// replicas never replay them).
    async fn create_tablet_accounts(&self) -> Result<()> {
        let mut conn = self.connect().await?;
        let repl = format!("{}@'%'", quote_string(REPLICATION_USER));
        let statements = [
            "SET SESSION sql_log_bin = 0".to_owned(),
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'".to_owned(),
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION".to_owned(),
            format!("CREATE USER IF NOT EXISTS {repl}"),
            format!("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {repl}"),
            format!(
                "CREATE DATABASE IF NOT EXISTS {}",
                quote_identifier(SIDECAR_DB)
            ),
            "FLUSH PRIVILEGES".to_owned(),
        ];
        for statement in statements {
            conn.query_drop(statement)
                .await
                .map_err(|source| Error::Mysql {
                    uid: self.config.uid,
                    source,
                })?;
        }
        conn.disconnect().await.map_err(|source| Error::Mysql {
            uid: self.config.uid,
            source,
        })
    }

    fn start_failed(&self, mark: &LogMark, reason: String) -> Error {
        Error::StartFailed {
            uid: self.config.uid,
            reason,
            log_tail: mark.tail(&self.paths.error_log, &self.paths.console_log),
        }
    }
}
