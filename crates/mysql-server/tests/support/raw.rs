//! A minimal hand-rolled MySQL client over a raw stream, for tests that must see exact
//! packets (status flags, auth exchanges) or send hostile bytes.

use std::time::Duration;

use mysql_common::scramble::{scramble_native, scramble_sha256};
use mysql_server::CapabilityFlags;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the server before calling it hung.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Capabilities the raw client announces (no DEPRECATE_EOF: the EOF path gets tested).
pub fn client_caps() -> CapabilityFlags {
    CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
}

/// A raw connection.
pub struct Raw<S> {
    pub stream: S,
    /// Salt from the server's handshake.
    pub salt: Vec<u8>,
}

/// Reads one packet: (sequence id, payload), or `None` if the server closed the connection.
pub async fn read_packet<S: AsyncRead + Unpin>(stream: &mut S) -> Option<(u8, Vec<u8>)> {
    let mut header = [0u8; 4];
    let read = tokio::time::timeout(PATIENCE, stream.read_exact(&mut header))
        .await
        .expect("server hung");
    if read.is_err() {
        return None;
    }
    let len = usize::from(header[0]) | usize::from(header[1]) << 8 | usize::from(header[2]) << 16;
    let mut payload = vec![0u8; len];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut payload))
        .await
        .expect("server hung")
        .ok()?;
    Some((header[3], payload))
}

/// Writes one packet.
pub async fn write_packet<S: AsyncWrite + Unpin>(stream: &mut S, seq: u8, payload: &[u8]) {
    let len = payload.len();
    let mut bytes = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, seq];
    bytes.extend_from_slice(payload);
    stream.write_all(&bytes).await.unwrap();
}

/// The salt of a HandshakeV10 payload.
fn salt_of(handshake: &[u8]) -> Vec<u8> {
    assert_eq!(handshake[0], 10, "protocol version");
    let nul = handshake.iter().position(|&b| b == 0).unwrap();
    let rest = &handshake[nul + 1..];
    let mut salt = rest[4..12].to_vec();
    let part2 = &rest[4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10..];
    salt.extend_from_slice(&part2[..12]);
    salt
}

/// A HandshakeResponse41 payload.
pub fn handshake_response(caps: CapabilityFlags, user: &str, auth: &[u8], plugin: &str) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&caps.bits().to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0u8; 23]);
    p.extend_from_slice(user.as_bytes());
    p.push(0);
    p.push(auth.len() as u8);
    p.extend_from_slice(auth);
    p.extend_from_slice(plugin.as_bytes());
    p.push(0);
    p
}

/// The SSLRequest payload.
pub fn ssl_request(caps: CapabilityFlags) -> Vec<u8> {
    handshake_response(caps | CapabilityFlags::CLIENT_SSL, "", b"", "")[..32].to_vec()
}

/// Scrambles `password` for `plugin` over `salt`.
pub fn scramble(plugin: &str, salt: &[u8], password: &str) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    match plugin {
        "caching_sha2_password" => scramble_sha256(salt, password.as_bytes()).unwrap().to_vec(),
        _ => scramble_native(salt, password.as_bytes()).unwrap().to_vec(),
    }
}

impl Raw<TcpStream> {
    /// Connects and reads the server's handshake.
    pub async fn connect(addr: std::net::SocketAddr) -> Self {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let (seq, handshake) = read_packet(&mut stream).await.expect("no handshake");
        assert_eq!(seq, 0);
        let salt = salt_of(&handshake);
        Raw { stream, salt }
    }

    /// Connects and logs in as `root` without a password (auth `none`).
    pub async fn login(addr: std::net::SocketAddr) -> Self {
        Self::login_with(addr, client_caps()).await
    }

    /// Like [`Self::login`], announcing `caps`.
    pub async fn login_with(addr: std::net::SocketAddr, caps: CapabilityFlags) -> Self {
        let mut raw = Self::connect(addr).await;
        let response = handshake_response(caps, "root", b"", "mysql_native_password");
        write_packet(&mut raw.stream, 1, &response).await;
        let (seq, ok) = read_packet(&mut raw.stream).await.expect("no login answer");
        assert_eq!((seq, ok[0]), (2, 0x00), "login failed: {ok:?}");
        raw
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Raw<S> {
    /// Sends a command (sequence id 0) and returns the first answer packet.
    pub async fn command(&mut self, payload: &[u8]) -> Option<(u8, Vec<u8>)> {
        write_packet(&mut self.stream, 0, payload).await;
        read_packet(&mut self.stream).await
    }

    /// Reads packets until the server closes the connection; returns how many came.
    pub async fn drain_until_closed(&mut self) -> usize {
        let mut n = 0;
        while read_packet(&mut self.stream).await.is_some() {
            n += 1;
        }
        n
    }
}

/// Splits an ERR payload into (code, sqlstate, message).
pub fn parse_err(p: &[u8]) -> (u16, String, String) {
    assert_eq!(p[0], 0xff, "not an ERR packet: {p:?}");
    let code = u16::from_le_bytes([p[1], p[2]]);
    assert_eq!(p[3], b'#');
    let state = String::from_utf8_lossy(&p[4..9]).into_owned();
    let message = String::from_utf8_lossy(&p[9..]).into_owned();
    (code, state, message)
}

/// Status flags of an OK (header 0x00) payload whose lenenc ints are small.
pub fn ok_status(p: &[u8]) -> u16 {
    assert_eq!(p[0], 0x00, "not an OK packet: {p:?}");
    assert!(p[1] < 0xfb && p[2] < 0xfb);
    u16::from_le_bytes([p[3], p[4]])
}
