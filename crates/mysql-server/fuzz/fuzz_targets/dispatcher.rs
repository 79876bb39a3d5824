//! Fuzzes a whole connection: a client logs in, then sends the fuzzer's bytes as its stream.
//! The connection must end (no hang) without panicking once the client closes.

#![no_main]

#[path = "../../tests/support/echo.rs"]
mod echo;

use std::sync::Arc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A HandshakeResponse41 for user `u` without password, framed with sequence id 1.
fn login() -> Vec<u8> {
    let caps: u32 = 0x0000_0200 | 0x0000_8000 | 0x0008_0000 | 0x0020_0000 | 0x0001_0000;
    let mut p = caps.to_le_bytes().to_vec();
    p.extend_from_slice(&(1u32 << 24).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0; 23]);
    p.extend_from_slice(b"u\0\0mysql_native_password\0");
    let n = p.len();
    let mut framed = vec![n as u8, (n >> 8) as u8, (n >> 16) as u8, 1];
    framed.extend_from_slice(&p);
    framed
}

fuzz_target!(|data: &[u8]| {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    rt.block_on(async {
        let (client, server) = tokio::io::duplex(1 << 16);
        let conn = tokio::spawn(mysql_server::serve_connection(
            Box::new(server),
            ([127, 0, 0, 1], 1).into(),
            Arc::new(mysql_server::ServerConfig::default()),
            Arc::new(echo::EchoFactory),
        ));
        let (mut rd, mut wr) = tokio::io::split(client);
        let drain = tokio::spawn(async move {
            let mut sink = vec![0u8; 4096];
            while matches!(rd.read(&mut sink).await, Ok(n) if n > 0) {}
        });
        let mut bytes = login();
        bytes.extend_from_slice(data);
        let _ = wr.write_all(&bytes).await;
        let _ = wr.shutdown().await;
        let ended = tokio::time::timeout(Duration::from_secs(10), conn).await;
        assert!(matches!(ended, Ok(Ok(()))), "connection hung or panicked");
        drop(wr);
        let _ = drain.await;
    });
});
