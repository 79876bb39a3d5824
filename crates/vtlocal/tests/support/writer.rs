//! A client that writes through vtgate for as long as a test runs, the way an application
//! would during MoveTables and Reshard: transactions of inserts, updates and deletes on
//! `customer` and `corder`, with no database selected (vtgate resolves the tables through the
//! VSchema and routing rules). It records every acknowledged transaction in a [`Model`];
//! a transaction whose statement or commit was reported failed is rolled back and counted, and
//! must then have left nothing behind.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};

/// What the tables hold if exactly the acknowledged writes were applied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Model {
    /// customer_id -> email.
    pub customers: BTreeMap<i64, String>,
    /// order_id -> (customer_id, sku, price).
    pub orders: BTreeMap<i64, (i64, String, i64)>,
}

impl Model {
    /// Reads both tables through `conn`.
    pub async fn read(conn: &mut Conn) -> Result<Model, mysql_async::Error> {
        let customers: Vec<(i64, String)> = conn
            .query("select customer_id, email from customer")
            .await?;
        let orders: Vec<(i64, i64, String, i64)> = conn
            .query("select order_id, customer_id, sku, price from corder")
            .await?;
        Ok(Model {
            customers: customers.into_iter().collect(),
            orders: orders
                .into_iter()
                .map(|(o, c, sku, price)| (o, (c, sku, price)))
                .collect(),
        })
    }
}

/// What the writer did.
#[derive(Debug, Default)]
pub struct Report {
    pub model: Model,
    /// Transactions acknowledged (committed) by vtgate.
    pub committed: u64,
    /// Transactions reported failed, with the first few errors.
    pub failed: u64,
    pub errors: Vec<String>,
}

/// First id of the writer's own customers and orders (the example and bulk rows sit below).
const FIRST_ID: i64 = 1_000_000;

/// One writer on its own thread, stopped by [`Writer::stop`].
pub struct Writer {
    running: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<Report>,
}

impl Writer {
    /// Starts writing through vtgate on `port`, from the rows in `model`.
    pub fn start(port: u16, model: Model) -> Writer {
        let running = Arc::new(AtomicBool::new(true));
        let flag = running.clone();
        let handle = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("writer runtime");
            rt.block_on(write_until_stopped(port, model, flag))
        });
        Writer { running, handle }
    }

    /// Stops after the transaction in flight and returns what was acknowledged.
    pub fn stop(self) -> Report {
        self.running.store(false, Ordering::Relaxed);
        self.handle.join().expect("writer thread")
    }
}

pub fn opts(port: u16) -> Opts {
    OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root"))
        .prefer_socket(false)
        .into()
}

/// The statements of transaction `n` and what they do to the model when committed.
fn transaction(n: i64, model: &Model, live: &[i64]) -> (Vec<String>, Model) {
    let mut after = model.clone();
    let id = FIRST_ID + n;
    let statements = match n % 4 {
        // Updates and deletes touch the writer's own earlier rows; one customer and its
        // order share `customer_id`, the sharded VSchema's key, so each transaction stays
        // on one shard.
        2 if !live.is_empty() => {
            let cid = live[(n as usize * 7) % live.len()];
            let email = format!("u{n}@example.com");
            after.customers.insert(cid, email.clone());
            after.orders.entry(cid).and_modify(|o| o.2 = n);
            vec![
                format!("update customer set email = '{email}' where customer_id = {cid}"),
                format!(
                    "update corder set price = {n} where customer_id = {cid} and order_id = {cid}"
                ),
            ]
        }
        3 if live.len() > 20 => {
            let cid = live[0];
            after.customers.remove(&cid);
            after.orders.remove(&cid);
            vec![
                format!("delete from corder where customer_id = {cid} and order_id = {cid}"),
                format!("delete from customer where customer_id = {cid}"),
            ]
        }
        _ => {
            let email = format!("w{n}@example.com");
            after.customers.insert(id, email.clone());
            after.orders.insert(id, (id, "SKU-1001".to_owned(), n));
            vec![
                format!("insert into customer(customer_id, email) values ({id}, '{email}')"),
                format!(
                    "insert into corder(order_id, customer_id, sku, price) values ({id}, {id}, 'SKU-1001', {n})"
                ),
            ]
        }
    };
    (statements, after)
}

async fn run_transaction(conn: &mut Conn, statements: &[String]) -> Result<(), String> {
    conn.query_drop("begin").await.map_err(|e| e.to_string())?;
    for sql in statements {
        if let Err(e) = conn.query_drop(sql).await {
            let _ = conn.query_drop("rollback").await;
            return Err(format!("{sql}: {e}"));
        }
    }
    conn.query_drop("commit")
        .await
        .map_err(|e| format!("commit: {e}"))
}

async fn write_until_stopped(port: u16, model: Model, running: Arc<AtomicBool>) -> Report {
    let mut report = Report {
        model,
        ..Default::default()
    };
    let mut live: Vec<i64> = Vec::new();
    let mut conn: Option<Conn> = None;
    let mut n = 0;
    while running.load(Ordering::Relaxed) {
        n += 1;
        if conn.is_none() {
            match Conn::new(opts(port)).await {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    report.failed += 1;
                    remember(&mut report.errors, format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let (statements, after) = transaction(n, &report.model, &live);
        match run_transaction(c, &statements).await {
            Ok(()) => {
                report.committed += 1;
                report.model = after;
                live = report
                    .model
                    .customers
                    .keys()
                    .copied()
                    .filter(|&id| id >= FIRST_ID)
                    .collect();
            }
            Err(e) => {
                report.failed += 1;
                remember(&mut report.errors, e);
                // A fresh connection: the failed one may be in any state.
                conn = None;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    report
}

fn remember(errors: &mut Vec<String>, e: String) {
    if errors.len() < 20 {
        errors.push(e);
    }
}
