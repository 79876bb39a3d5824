//! Bad and unusual input over raw sockets: each gets the right error packet or a clean close,
//! the server never hangs, and other connections keep working. Also exact status flags and
//! the small commands (ping, field list, unknown, statement errors).

mod support;

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use mysql_server::ServerConfig;
use support::raw::{self, parse_err, read_packet, write_packet, Raw};
use support::Proxy;
use tokio::io::AsyncWriteExt;

const SERVER_STATUS_IN_TRANS: u16 = 0x0001;
const SERVER_STATUS_AUTOCOMMIT: u16 = 0x0002;

/// A bystander connection that must keep working while others misbehave.
async fn bystander(proxy: &Proxy) -> Conn {
    Conn::new(proxy.opts("root", None, None)).await.unwrap()
}

async fn still_works(c: &mut Conn) {
    let v: Option<i64> = c.query_first("SELECT 41 + 1").await.unwrap();
    assert_eq!(v, Some(42));
}

async fn stop_in_time(proxy: Proxy) {
    tokio::time::timeout(Duration::from_secs(10), proxy.stop())
        .await
        .expect("server did not shut down: a connection task hangs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_errors_get_errors_or_close() {
    let config = ServerConfig {
        max_packet_size: 1024,
        ..ServerConfig::default()
    };
    let proxy = Proxy::start(config).await;
    let mut other = bystander(&proxy).await;

    // Oversize packet: ERR 1153 then close, from the header alone.
    let mut c = Raw::login(proxy.addr).await;
    c.stream
        .write_all(&[0xd0, 0x07, 0x00, 0x00, 0x03])
        .await
        .unwrap();
    let (_, err) = read_packet(&mut c.stream).await.unwrap();
    assert_eq!(
        parse_err(&err),
        (
            1153,
            "08S01".into(),
            "Got a packet bigger than 'max_allowed_packet' bytes".into()
        )
    );
    assert_eq!(c.drain_until_closed().await, 0);

    // Wrong sequence id: ERR 1156 then close.
    let mut c = Raw::login(proxy.addr).await;
    write_packet(&mut c.stream, 5, b"\x0eping").await;
    let (_, err) = read_packet(&mut c.stream).await.unwrap();
    assert_eq!(
        parse_err(&err),
        (1156, "08S01".into(), "Got packets out of order".into())
    );
    assert_eq!(c.drain_until_closed().await, 0);

    // Truncated packet, then the client goes away.
    let mut c = Raw::login(proxy.addr).await;
    c.stream
        .write_all(&[100, 0, 0, 0, 0x03, b's', b'e'])
        .await
        .unwrap();
    c.stream.shutdown().await.unwrap();
    assert_eq!(c.drain_until_closed().await, 0);

    // Garbage instead of a handshake response: a framed one gets "Bad handshake".
    let mut c = Raw::connect(proxy.addr).await;
    write_packet(
        &mut c.stream,
        1,
        b"\x01\x02garbage that is not a handshake response",
    )
    .await;
    let (_, err) = read_packet(&mut c.stream).await.unwrap();
    assert_eq!(parse_err(&err).0, 1043);
    assert_eq!(c.drain_until_closed().await, 0);

    // Unframed garbage (an HTTP request) is refused as out of order.
    let mut c = Raw::connect(proxy.addr).await;
    c.stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (_, err) = read_packet(&mut c.stream).await.unwrap();
    assert_eq!(parse_err(&err).0, 1156);
    assert_eq!(c.drain_until_closed().await, 0);

    still_works(&mut other).await;
    other.disconnect().await.unwrap();
    stop_in_time(proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_errors_keep_the_connection() {
    let proxy = Proxy::start(ServerConfig::default()).await;
    let mut c = Raw::login(proxy.addr).await;

    let (seq, err) = c.command(b"\x55whatever").await.unwrap();
    assert_eq!(seq, 1);
    assert_eq!(
        parse_err(&err),
        (1047, "08S01".into(), "Unknown command".into())
    );

    let (_, ok) = c.command(b"\x0e").await.unwrap();
    assert_eq!(ok[0], 0x00, "ping answers OK");

    // COM_STMT_EXECUTE of a statement that does not exist.
    let (_, err) = c
        .command(b"\x17\xe7\x03\x00\x00\x00\x01\x00\x00\x00")
        .await
        .unwrap();
    assert_eq!(
        parse_err(&err),
        (
            1243,
            "HY000".into(),
            "Unknown prepared statement handler (999) given to mysqld_stmt_execute".into()
        )
    );

    // Too few parameters for the placeholders.
    let (_, prepared) = c.command(b"\x16SELECT ? + ?").await.unwrap();
    assert_eq!(prepared[0], 0x00);
    let id = &prepared[1..5];
    assert_eq!(
        u16::from_le_bytes([prepared[7], prepared[8]]),
        2,
        "param count"
    );
    // param defs + EOF, column def + EOF (no DEPRECATE_EOF)
    for _ in 0..5 {
        read_packet(&mut c.stream).await.unwrap();
    }
    let mut execute = vec![0x17];
    execute.extend_from_slice(id);
    execute.extend_from_slice(&[0, 1, 0, 0, 0, 0x00, 1, 0x08, 0x00]);
    execute.extend_from_slice(&7i64.to_le_bytes());
    let (_, err) = c.command(&execute).await.unwrap();
    assert_eq!(
        parse_err(&err),
        (
            1210,
            "HY000".into(),
            "Incorrect arguments to mysqld_stmt_execute".into()
        )
    );

    // Closing a statement has no answer; executing it afterwards is an unknown statement.
    let mut close = vec![0x19];
    close.extend_from_slice(id);
    write_packet(&mut c.stream, 0, &close).await;
    let mut execute = vec![0x17];
    execute.extend_from_slice(id);
    execute.extend_from_slice(&[0, 1, 0, 0, 0]);
    let (_, err) = c.command(&execute).await.unwrap();
    assert_eq!(parse_err(&err).0, 1243);

    // COM_FIELD_LIST answers an empty field list, not OK.
    let (_, eof) = c.command(b"\x04t\0").await.unwrap();
    assert_eq!(eof[0], 0xfe);

    // A malformed command packet.
    let (_, err) = c.command(b"\x19\x01").await.unwrap();
    assert_eq!(parse_err(&err).0, 1835);

    let (_, ok) = c.command(b"\x0e").await.unwrap();
    assert_eq!(ok[0], 0x00);
    write_packet(&mut c.stream, 0, b"\x01").await;
    assert_eq!(c.drain_until_closed().await, 0, "COM_QUIT closes");
    stop_in_time(proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_flags_follow_the_session() {
    let proxy = Proxy::start(ServerConfig::default()).await;
    let mut c = Raw::login(proxy.addr).await;
    let mut status_after = async |sql: &str| {
        let mut p = vec![0x03];
        p.extend_from_slice(sql.as_bytes());
        let (_, ok) = c.command(&p).await.unwrap();
        raw::ok_status(&ok)
    };
    assert_eq!(status_after("DO 1").await & 3, SERVER_STATUS_AUTOCOMMIT);
    assert_eq!(
        status_after("BEGIN").await & 3,
        SERVER_STATUS_AUTOCOMMIT | SERVER_STATUS_IN_TRANS
    );
    assert_eq!(status_after("COMMIT").await & 3, SERVER_STATUS_AUTOCOMMIT);
    assert_eq!(status_after("SET autocommit = 0").await & 3, 0);
    assert_eq!(
        status_after("SET autocommit = 1").await & 3,
        SERVER_STATUS_AUTOCOMMIT
    );
    stop_in_time(proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_leaving_mid_result_does_not_hang_the_server() {
    let proxy = Proxy::start(ServerConfig::default()).await;
    let mut other = bystander(&proxy).await;
    for _ in 0..3 {
        let mut c = Raw::login(proxy.addr).await;
        write_packet(
            &mut c.stream,
            0,
            b"\x03SELECT REPEAT('x', 1000) FROM seq_1_to_200000",
        )
        .await;
        read_packet(&mut c.stream).await.unwrap();
        drop(c);
    }
    still_works(&mut other).await;
    other.disconnect().await.unwrap();
    stop_in_time(proxy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_on_time_and_connections() {
    let config = ServerConfig {
        handshake_timeout: Duration::from_millis(300),
        max_connections: 1,
        ..ServerConfig::default()
    };
    let proxy = Proxy::start(config).await;
    // Silent after the handshake: closed once the handshake timeout passes.
    let mut silent = Raw::connect(proxy.addr).await;
    let started = std::time::Instant::now();
    assert_eq!(silent.drain_until_closed().await, 0);
    assert!(started.elapsed() < Duration::from_secs(5));

    let _first = Raw::login(proxy.addr).await;
    let mut second = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
    let (_, err) = read_packet(&mut second).await.unwrap();
    assert_eq!(
        parse_err(&err),
        (1040, "08004".into(), "Too many connections".into())
    );
    drop(_first);
    stop_in_time(proxy).await;
}
