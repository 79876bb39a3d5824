//! OK packets byte for byte against MariaDB, for clients with and without
//! CLIENT_SESSION_TRACK: the info text (`Records: 2  Duplicates: 0  Warnings: 0`) is
//! length-encoded as MariaDB sends it, and the server offers SESSION_TRACK as MariaDB does, so
//! clients that parse by the negotiated capability (mysql2) read it correctly.

mod support;

use std::net::SocketAddr;

use mysql_server::{CapabilityFlags, ServerConfig};
use support::raw::{client_caps, Raw};
use support::{Proxy, TestDb, BACKEND_PORT};

/// The handshake capabilities a server offers.
async fn offered(addr: SocketAddr) -> CapabilityFlags {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (_, hs) = support::raw::read_packet(&mut stream).await.unwrap();
    let nul = hs.iter().position(|&b| b == 0).unwrap();
    let rest = &hs[nul + 1..];
    let low = u16::from_le_bytes([rest[13], rest[14]]);
    let high = u16::from_le_bytes([rest[18], rest[19]]);
    CapabilityFlags::from_bits_truncate(u32::from(low) | u32::from(high) << 16)
}

/// OK payloads of a few statements, with the status flags (bytes 3..5) blanked: MariaDB adds
/// SERVER_QUERY_NO_INDEX_USED and similar hints a proxy need not reproduce.
async fn oks(addr: SocketAddr, caps: CapabilityFlags, db: &str) -> Vec<Vec<u8>> {
    let mut c = Raw::login_with(addr, caps).await;
    let mut init = vec![0x02];
    init.extend_from_slice(db.as_bytes());
    let (_, ok) = c.command(&init).await.unwrap();
    assert_eq!(ok[0], 0, "COM_INIT_DB: {ok:?}");
    let mut out = Vec::new();
    for sql in [
        "INSERT INTO t VALUES (1), (2)",
        "UPDATE t SET a = a WHERE a = 1",
        "UPDATE t SET a = 3 WHERE a = 2",
        "DO 1",
        "DELETE FROM t",
    ] {
        let mut cmd = vec![0x03];
        cmd.extend_from_slice(sql.as_bytes());
        let (_, mut ok) = c.command(&cmd).await.unwrap();
        assert_eq!(ok[0], 0, "{sql}: {ok:?}");
        ok[3..5].fill(0);
        out.push(ok);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_info_is_encoded_as_mariadb_encodes_it() {
    let proxy = Proxy::start(ServerConfig::default()).await;
    let direct: SocketAddr = ([127, 0, 0, 1], BACKEND_PORT).into();
    let session_track = CapabilityFlags::CLIENT_SESSION_TRACK;
    assert!(offered(direct).await.contains(session_track));
    assert!(offered(proxy.addr).await.contains(session_track));

    let db = TestDb::create("CREATE TABLE t (a INT)").await;
    for caps in [client_caps(), client_caps() | session_track] {
        let want = oks(direct, caps, &db.name).await;
        let got = oks(proxy.addr, caps, &db.name).await;
        assert_eq!(got, want, "capabilities {caps:?}");
        // The INSERT's info is there, length-encoded.
        let info = b"Records: 2  Duplicates: 0  Warnings: 0";
        assert_eq!(usize::from(want[0][7]), info.len());
        assert_eq!(&want[0][8..], info);
    }
    db.drop_db().await;
    proxy.stop().await;
}
