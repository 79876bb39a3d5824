//! The binlog reader against a real mariadbd: every common column type
//! decodes to the value a SELECT returns, for inserts, updates and deletes,
//! and positions resume exactly.

mod common;

use mysql_async::prelude::Queryable;
use mysql_async::{Row, Value};
use vreplication::{BinlogReader, Position, RowKind, Transaction, TxEvent};

const TABLE: &str = "CREATE TABLE alltypes (
    id INT UNSIGNED NOT NULL PRIMARY KEY,
    ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED,
    mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
    bi BIGINT, biu BIGINT UNSIGNED,
    dec1 DECIMAL(10,2), dec2 DECIMAL(30,10) UNSIGNED,
    f FLOAT, d DOUBLE,
    vc VARCHAR(100), vcl VARCHAR(1000), c CHAR(10), vb VARBINARY(20), bn BINARY(4),
    tx TEXT, bl BLOB, lt LONGTEXT, js JSON,
    dt DATE, dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP NULL DEFAULT NULL, ts3 TIMESTAMP(3) NULL DEFAULT NULL,
    tm TIME, tm2 TIME(2), yr YEAR,
    e ENUM('small','medium','large'), st SET('a','b','c','d'),
    b1 BIT(1), b13 BIT(13), b64 BIT(64)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

const ROWS: &[&str] = &[
    "(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
      -9223372036854775808, 18446744073709551615, -12345678.91, 12345678901234567890.0123456789,
      1.5, -2.25e300, 'héllo wörld 😀', REPEAT('x', 900), 'abc', 0x00ff10, 0x01020304,
      'text ''quoted'' \\\\ back', 0x000102ff, REPEAT('long', 5000), '{\"a\": [1, 2, {\"b\": null}]}',
      '2024-02-29', '1999-12-31 23:59:59', '2038-01-19 03:14:07.999999', '2024-01-02 03:04:05', '1980-06-07 08:09:10.123',
      '-838:59:59', '12:34:56.78', 2155, 'large', 'a,c,d', b'1', b'1010101010101', 0xFFFFFFFFFFFFFFFF)",
    "(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.00, 0, 0, 0, '', '', '', '', 0x00000000, '', '', '', '[]',
      '1000-01-01', '1000-01-01 00:00:00', '9999-12-31 23:59:59.000001', '1970-01-01 00:00:01', '2037-12-31 23:59:59.999',
      '00:00:00', '-00:00:01.5', 1901, 'small', '', b'0', b'0', 0)",
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL)",
];

/// Reads transactions until the reader's position reaches `until`.
async fn read_until(reader: &mut BinlogReader, until: &Position) -> Vec<Transaction> {
    let mut out = Vec::new();
    while !reader.position().at_least(until) {
        let tx = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            reader.next_transaction(),
        )
        .await
        .expect("binlog read timed out")
        .unwrap();
        out.push(tx);
    }
    out
}

fn row_changes(txs: &[Transaction]) -> Vec<&vreplication::RowChange> {
    txs.iter()
        .flat_map(|t| t.events.iter())
        .filter_map(|e| match e {
            TxEvent::Row(r) => Some(r),
            TxEvent::Ddl(_) => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decodes_every_column_type_like_select() {
    let root = common::temp_root("vrbin");
    let source = common::server(root.path(), 311).await;
    let mut c = source.conn(None).await;
    c.query_drop("CREATE DATABASE bintest").await.unwrap();
    c.query_drop("USE bintest").await.unwrap();
    c.query_drop(TABLE).await.unwrap();
    let start = source.position().await;
    for row in ROWS {
        c.query_drop(format!("INSERT INTO alltypes VALUES {row}"))
            .await
            .unwrap();
    }
    let after_inserts = source.position().await;

    let mut reader = BinlogReader::start(source.opts(None), &start, 90_001)
        .await
        .unwrap();
    let txs = read_until(&mut reader, &after_inserts).await;
    assert_eq!(
        txs.len(),
        ROWS.len(),
        "one transaction per autocommit insert"
    );
    assert_eq!(reader.position(), &after_inserts);
    let changes = row_changes(&txs);
    assert_eq!(changes.len(), ROWS.len());

    // The binary protocol returns typed values, as the binlog carries them.
    let selected: Vec<Row> = c
        .exec("SELECT * FROM alltypes ORDER BY id", ())
        .await
        .unwrap();
    for (change, row) in changes.iter().zip(&selected) {
        assert_eq!(change.kind, RowKind::Insert);
        assert!(change.before.is_none());
        assert_eq!(change.table.database, "bintest");
        assert_eq!(change.table.table, "alltypes");
        let after = change.after.as_ref().unwrap();
        let columns = row.columns_ref();
        assert_eq!(after.len(), columns.len());
        for (i, col) in columns.iter().enumerate() {
            assert_eq!(change.table.columns[i], col.name_str());
            let want = row.as_ref(i).unwrap();
            assert!(
                same(&after[i], want),
                "row {:?} column {}: binlog {:?} != select {:?}",
                row.as_ref(0),
                col.name_str(),
                after[i],
                want
            );
        }
    }

    // Update and delete carry full before images; a multi-statement
    // transaction comes back as one transaction.
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("UPDATE alltypes SET vc = 'changed', e = 'medium' WHERE id = 1")
        .await
        .unwrap();
    c.query_drop("DELETE FROM alltypes WHERE id = 2")
        .await
        .unwrap();
    c.query_drop("COMMIT").await.unwrap();
    c.query_drop("ALTER TABLE alltypes ADD COLUMN extra INT")
        .await
        .unwrap();
    let end = source.position().await;
    let txs = read_until(&mut reader, &end).await;
    assert_eq!(txs.len(), 2);
    let changes = row_changes(&txs[..1]);
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].kind, RowKind::Update);
    let vc = changes[0]
        .table
        .columns
        .iter()
        .position(|c| c == "vc")
        .unwrap();
    let e = changes[0]
        .table
        .columns
        .iter()
        .position(|c| c == "e")
        .unwrap();
    assert_eq!(
        changes[0].before.as_ref().unwrap()[vc],
        Value::Bytes("héllo wörld 😀".into())
    );
    assert_eq!(
        changes[0].after.as_ref().unwrap()[vc],
        Value::Bytes(b"changed".to_vec())
    );
    assert_eq!(
        changes[0].after.as_ref().unwrap()[e],
        Value::Bytes(b"medium".to_vec())
    );
    assert_eq!(changes[1].kind, RowKind::Delete);
    assert!(same(
        &changes[1].before.as_ref().unwrap()[0],
        &Value::UInt(2)
    ));
    assert!(changes[1].after.is_none());
    match &txs[1].events[..] {
        [TxEvent::Ddl(ddl)] => {
            assert_eq!(ddl.database, "bintest");
            assert!(ddl.statement.contains("ADD COLUMN extra"));
        }
        other => panic!("expected one DDL, got {other:?}"),
    }
    reader.close().await.unwrap();

    // A reader started at a middle position sees only what follows it.
    let mut again = BinlogReader::start(source.opts(None), &after_inserts, 90_002)
        .await
        .unwrap();
    let txs2 = read_until(&mut again, &end).await;
    assert_eq!(txs2, txs);
    source.0.shutdown().await.unwrap();
}

/// Equality of a binlog value and a binary-protocol SELECT value. Integers
/// may come back signed or unsigned depending on the column width; floats
/// compare exactly.
fn same(binlog: &Value, select: &Value) -> bool {
    match (binlog, select) {
        (Value::Int(a), Value::UInt(b)) | (Value::UInt(b), Value::Int(a)) => {
            u64::try_from(*a).is_ok_and(|a| a == *b)
        }
        (a, b) => a == b,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_reader_survives_on_heartbeats() {
    let root = common::temp_root("vrhb");
    let source = common::server(root.path(), 312).await;
    let mut c = source.conn(None).await;
    c.query_drop("CREATE DATABASE hb").await.unwrap();
    c.query_drop("CREATE TABLE hb.t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let start = source.position().await;
    let mut reader = BinlogReader::start(source.opts(None), &start, 90_003)
        .await
        .unwrap();
    let read = tokio::spawn(async move {
        let tx = reader.next_transaction().await;
        (tx, reader)
    });
    // Longer than the reader's 10 s silence limit: only heartbeats (every
    // second) keep it waiting instead of failing.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    assert!(!read.is_finished());
    c.query_drop("INSERT INTO hb.t VALUES (7)").await.unwrap();
    let (tx, reader) = read.await.unwrap();
    let tx = tx.unwrap();
    assert_eq!(row_changes(std::slice::from_ref(&tx)).len(), 1);
    assert_eq!(reader.position(), &source.position().await);
    reader.close().await.unwrap();
    source.0.shutdown().await.unwrap();
}
