//! A full stream between two real mariadbd: copy while the source keeps
//! writing, interrupt the copy (a graceful stop, or the target server
//! killed with SIGKILL), resume, catch up, and compare both tables row by row.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use proto::binlogdata::{BinlogSource, Filter, Rule};
use tokio::task::JoinHandle;
use vreplication::sidecar;
use vreplication::VReplicationStream;

const ROWS: u64 = 5000;
const BATCH: usize = 50;
const DDL: &str = "CREATE TABLE customer (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64), \
    amount DECIMAL(12,2), ts DATETIME(6), flag ENUM('a','b','c'), note TEXT) ENGINE=InnoDB";

/// Source with a filled table, target with the empty table and a stream row.
struct Fixture {
    source: common::Server,
    target: common::Server,
    id: u32,
}

impl Fixture {
    async fn new(root: &std::path::Path) -> Self {
        let (source, target) = common::pair(root).await;
        let mut src = source.conn(None).await;
        src.query_drop("CREATE DATABASE vt_commerce").await.unwrap();
        src.query_drop("USE vt_commerce").await.unwrap();
        src.query_drop(DDL).await.unwrap();
        for chunk in 0..(ROWS / 500) {
            let values: Vec<String> = (chunk * 500 + 1..=chunk * 500 + 500)
                .map(|i| {
                    format!(
                        "({i}, 'name {i}', {i}.25, '2024-01-01 00:00:00.{:06}', 'b', REPEAT('n', {}))",
                        i % 1_000_000,
                        i % 50
                    )
                })
                .collect();
            src.query_drop(format!("INSERT INTO customer VALUES {}", values.join(",")))
                .await
                .unwrap();
        }
        let mut tgt = target.conn(None).await;
        tgt.query_drop("CREATE DATABASE vt_customer").await.unwrap();
        tgt.query_drop("USE vt_customer").await.unwrap();
        tgt.query_drop(DDL).await.unwrap();
        let binlog_source = BinlogSource {
            keyspace: "commerce".into(),
            shard: "0".into(),
            filter: Some(Filter {
                rules: vec![Rule {
                    r#match: "customer".into(),
                    filter: "select * from customer".into(),
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let id = sidecar::create_stream(&mut tgt, "wf", &binlog_source, "vt_customer", 1)
            .await
            .unwrap();
        Fixture { source, target, id }
    }

    async fn start_stream(&self) -> VReplicationStream {
        VReplicationStream::start_with_batch_rows(
            self.target.opts(None),
            self.source.opts(None),
            self.id,
            BATCH,
        )
        .await
        .unwrap()
    }

    /// A writer that inserts, updates and deletes in transactions until told to stop.
    async fn writer(&self) -> (Arc<AtomicBool>, JoinHandle<u64>) {
        let writing = Arc::new(AtomicBool::new(true));
        let flag = writing.clone();
        let mut conn = self.source.conn(Some("vt_commerce")).await;
        let task = tokio::spawn(async move {
            let mut n: u64 = 0;
            while flag.load(Ordering::Relaxed) {
                n += 1;
                let victim = (n * 7919) % ROWS + 1;
                conn.query_drop("BEGIN").await.unwrap();
                conn.query_drop(format!(
                    "INSERT INTO customer VALUES ({}, 'new {n}', {n}.5, NOW(6), 'c', 'x')",
                    ROWS + n
                ))
                .await
                .unwrap();
                conn.query_drop(format!(
                    "UPDATE customer SET amount = amount + 1, name = CONCAT(name, '+') WHERE id = {victim}"
                ))
                .await
                .unwrap();
                conn.query_drop(format!(
                    "DELETE FROM customer WHERE id = {}",
                    (n * 104_729) % ROWS + 1
                ))
                .await
                .unwrap();
                conn.query_drop("COMMIT").await.unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            n
        });
        (writing, task)
    }

    async fn lastpk(&self, tgt: &mut Conn) -> Option<Option<String>> {
        tgt.exec_first(
            "SELECT lastpk FROM _vt.copy_state WHERE vrepl_id = ?",
            (self.id,),
        )
        .await
        .unwrap()
    }

    /// Waits until some copy batches are committed.
    async fn wait_mid_copy(&self, stream: &VReplicationStream) {
        let mut tgt = self.target.conn(None).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(self.lastpk(&mut tgt).await, Some(Some(_))) {
            assert!(
                Instant::now() < deadline,
                "copy never started: {:?}",
                stream.status()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops the writer once the stream runs, waits for catch-up and
    /// compares the tables.
    async fn finish(
        &self,
        stream: VReplicationStream,
        writing: Arc<AtomicBool>,
        writer: JoinHandle<u64>,
    ) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while stream.status().state != "Running" {
            assert!(
                Instant::now() < deadline,
                "never reached Running: {:?}",
                stream.status()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        writing.store(false, Ordering::Relaxed);
        let writes = writer.await.unwrap();
        assert!(
            writes > 10,
            "the writer ran during the copy ({writes} transactions)"
        );
        let source_pos = self.source.position().await;
        let mut tgt = self.target.conn(None).await;
        let mut src = self.source.conn(None).await;
        sidecar::wait_for_pos(&mut tgt, self.id, &source_pos, Duration::from_secs(60))
            .await
            .unwrap();
        let want = ordered(&mut src, "vt_commerce").await;
        let got = ordered(&mut tgt, "vt_customer").await;
        assert_eq!(got.len(), want.len());
        assert!(got == want, "target differs from source");
        let cs: Option<(String, Option<u64>)> = src
            .query_first("CHECKSUM TABLE vt_commerce.customer")
            .await
            .unwrap();
        let ct: Option<(String, Option<u64>)> = tgt
            .query_first("CHECKSUM TABLE vt_customer.customer")
            .await
            .unwrap();
        assert_eq!(cs.unwrap().1, ct.unwrap().1);
        assert!(self.lastpk(&mut tgt).await.is_none(), "copy_state is empty");
        stream.stop().await;
        let row = sidecar::read_stream(&mut tgt, self.id).await.unwrap();
        assert_eq!(
            row.state, "Running",
            "the row keeps the last persisted state"
        );
        assert!(
            row.rows_copied >= ROWS - writes,
            "rows_copied counts the copy"
        );
    }
}

async fn ordered(conn: &mut Conn, db: &str) -> Vec<Vec<mysql_async::Value>> {
    let rows: Vec<Row> = conn
        .exec(format!("SELECT * FROM {db}.customer ORDER BY id"), ())
        .await
        .unwrap();
    rows.into_iter().map(Row::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_with_concurrent_writes_and_restart_mid_copy() {
    let root = common::temp_root("vrstr");
    let f = Fixture::new(root.path()).await;
    let (writing, writer) = f.writer().await;

    // First run: stop as soon as some batches are committed.
    let stream = f.start_stream().await;
    f.wait_mid_copy(&stream).await;
    stream.stop().await;
    let mut tgt = f.target.conn(None).await;
    assert!(
        matches!(f.lastpk(&mut tgt).await, Some(Some(_))),
        "stopped in the middle of the copy"
    );
    let copied: u64 = tgt
        .query_first("SELECT COUNT(*) FROM vt_customer.customer")
        .await
        .unwrap()
        .unwrap();
    assert!(copied > 0 && copied < ROWS, "partial copy, got {copied}");

    // Second run: resume, finish the copy, follow the binlog.
    let stream = f.start_stream().await;
    f.finish(stream, writing, writer).await;
    f.source.0.shutdown().await.unwrap();
    f.target.0.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_killed_mid_copy_resumes_without_loss() {
    let root = common::temp_root("vrkil");
    let f = Fixture::new(root.path()).await;
    let (writing, writer) = f.writer().await;
    let stream = f.start_stream().await;
    f.wait_mid_copy(&stream).await;

    // SIGKILL the target server in the middle of the copy, then bring it back:
    // the stream fails, retries, and resumes from what was committed.
    let pid = std::fs::read_to_string(&f.target.0.paths().pid_file).unwrap();
    let status = std::process::Command::new("kill")
        .arg("-9")
        .arg(pid.trim())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while f.target.0.is_running() {
        assert!(Instant::now() < deadline, "target did not die");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    f.target.0.start().await.unwrap();
    f.finish(stream, writing, writer).await;
    f.source.0.shutdown().await.unwrap();
    f.target.0.shutdown().await.unwrap();
}
