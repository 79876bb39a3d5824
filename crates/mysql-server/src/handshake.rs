//! Connection phase: the v10 handshake with a random salt, the optional switch to TLS, the
//! client's handshake response, and authentication (also reused by COM_CHANGE_USER), with
//! auth switch and the caching_sha2_password exchanges.

use std::net::SocketAddr;

use bytes::BufMut;
use mysql_common::constants::{CapabilityFlags, MariadbCapabilities, StatusFlags};
use mysql_common::io::ParseBuf;
use mysql_common::packets::{HandshakeResponse, SslRequest};
use mysql_common::proto::MyDeserialize;
use rand::Rng;

use crate::auth::{AuthServer, Plugin, Verdict};
use crate::column::UTF8MB4_GENERAL_CI;
use crate::error::{codes, SqlError};
use crate::handler::ConnectionInfo;
use crate::server::ServerConfig;
use crate::session::Session;

/// Length of the authentication salt.
pub(crate) const SALT_LEN: usize = 20;

/// Capabilities this server offers (SSL is added when TLS is configured).
pub(crate) fn server_capabilities(tls: bool) -> CapabilityFlags {
    // No CLIENT_LONG_PASSWORD (MariaDB's CLIENT_MYSQL), as MariaDB: its absence tells clients
    // that the handshake carries MariaDB's extended capabilities.
    let mut caps = CapabilityFlags::CLIENT_FOUND_ROWS
        | CapabilityFlags::CLIENT_LONG_FLAG
        | CapabilityFlags::CLIENT_CONNECT_WITH_DB
        | CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_INTERACTIVE
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_MULTI_STATEMENTS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PS_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_CONNECT_ATTRS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | CapabilityFlags::CLIENT_DEPRECATE_EOF
        // As MariaDB does. Clients that negotiate it (mysql2) read the OK packet's info text
        // length-encoded; MariaDB sends it length-encoded either way, and so do we. We never
        // set SERVER_SESSION_STATE_CHANGED, so no session-state block follows.
        | CapabilityFlags::CLIENT_SESSION_TRACK;
    if tls {
        caps |= CapabilityFlags::CLIENT_SSL;
    }
    caps
}

/// MariaDB extended capabilities this server offers (in the handshake's last reserved bytes).
pub(crate) const MARIADB_CAPABILITIES: MariadbCapabilities =
    MariadbCapabilities::MARIADB_CLIENT_EXTENDED_METADATA;

/// A fresh salt: printable-range bytes without NUL (it is sent NUL-terminated) or `$`.
pub(crate) fn new_salt() -> [u8; SALT_LEN] {
    let mut rng = rand::rng();
    let mut salt = [0u8; SALT_LEN];
    for b in &mut salt {
        *b = loop {
            let c: u8 = rng.random_range(1..=127);
            if c != b'$' {
                break c;
            }
        };
    }
    salt
}

/// Encodes the Protocol::HandshakeV10 payload.
pub(crate) fn encode_handshake(
    version: &str,
    connection_id: u32,
    salt: &[u8; SALT_LEN],
    caps: CapabilityFlags,
    status: StatusFlags,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(128);
    p.put_u8(10);
    p.put_slice(version.replace('\0', "").as_bytes());
    p.put_u8(0);
    p.put_u32_le(connection_id);
    p.put_slice(&salt[..8]);
    p.put_u8(0);
    p.put_u16_le(caps.bits() as u16);
    p.put_u8(UTF8MB4_GENERAL_CI as u8);
    p.put_u16_le(status.bits());
    p.put_u16_le((caps.bits() >> 16) as u16);
    p.put_u8(SALT_LEN as u8 + 1);
    p.put_bytes(0, 6);
    p.put_u32_le(MARIADB_CAPABILITIES.bits());
    p.put_slice(&salt[8..]);
    p.put_u8(0);
    p.put_slice(Plugin::Native.name().as_bytes());
    p.put_u8(0);
    p
}

/// Why the connection phase ended without a logged-in user (already answered if possible).
#[derive(Debug)]
pub(crate) enum Refused {
    /// The client went away, timed out or broke the protocol.
    Closed,
    /// An ERR was sent.
    Denied,
}

/// State of the connection phase needed again by COM_CHANGE_USER.
pub(crate) struct Phase<'a> {
    pub config: &'a ServerConfig,
    pub salt: [u8; SALT_LEN],
    pub peer: SocketAddr,
    pub tls: bool,
    pub capabilities: CapabilityFlags,
}

/// Runs the handshake up to (not including) the final OK; returns the connection's identity.
pub(crate) async fn handshake(
    s: &mut Session,
    config: &ServerConfig,
    connection_id: u32,
    peer: SocketAddr,
) -> Result<(ConnectionInfo, [u8; SALT_LEN]), Refused> {
    let salt = new_salt();
    let offered = server_capabilities(config.tls.is_some());
    s.new_exchange();
    s.write(&encode_handshake(
        &config.server_version,
        connection_id,
        &salt,
        offered,
        StatusFlags::SERVER_STATUS_AUTOCOMMIT,
    ));
    flush(s).await?;
    let mut packet = read(s).await?;
    let mut tls = false;
    if packet.len() == SslRequest::SIZE.unwrap_or(32) {
        let request =
            SslRequest::deserialize((), &mut ParseBuf(&packet)).map_err(|_| Refused::Closed)?;
        let acceptor = match &config.tls {
            Some(tls_config) if request.capabilities().contains(CapabilityFlags::CLIENT_SSL) => {
                tokio_rustls::TlsAcceptor::from(std::sync::Arc::clone(tls_config))
            }
            _ => return deny(s, bad_handshake()).await,
        };
        // The client may have sent its TLS ClientHello right behind the SSL request.
        let early = s.reader.take_buffered();
        let stream = std::mem::replace(
            &mut s.io,
            Box::new(tokio::io::join(tokio::io::empty(), tokio::io::sink())),
        );
        let plain = crate::io::Rewind::new(early, stream);
        match acceptor.accept(plain).await {
            Ok(stream) => s.io = Box::new(stream),
            Err(e) => {
                tracing::debug!(error = %e, "TLS handshake failed");
                return Err(Refused::Closed);
            }
        }
        tls = true;
        packet = read(s).await?;
    }
    let Ok(response) = HandshakeResponse::deserialize((), &mut ParseBuf(&packet)) else {
        return deny(s, bad_handshake()).await;
    };
    let client_caps = response.capabilities();
    if !client_caps.contains(CapabilityFlags::CLIENT_PROTOCOL_41) {
        return deny(s, bad_handshake()).await;
    }
    if config.require_secure_transport && !tls {
        let err = SqlError::new(
            codes::SECURE_TRANSPORT_REQUIRED,
            "HY000",
            "Connections using insecure transport are prohibited while --require_secure_transport=ON.",
        );
        return deny(s, err).await;
    }
    let user = String::from_utf8_lossy(response.user()).into_owned();
    let plugin = response.auth_plugin().map(|p| p.as_bytes().to_vec());
    let phase = Phase {
        config,
        salt,
        peer,
        tls,
        capabilities: client_caps & offered,
    };
    let user_data =
        authenticate(s, &phase, &user, plugin.as_deref(), response.scramble_buf()).await?;
    let mut attributes: Vec<(String, String)> = response
        .connect_attributes()
        .unwrap_or_default()
        .into_iter()
        .collect();
    attributes.sort();
    let info = ConnectionInfo {
        connection_id,
        peer,
        user,
        user_data,
        database: response
            .db_name()
            .filter(|d| !d.is_empty())
            .map(|d| String::from_utf8_lossy(d).into_owned()),
        capabilities: phase.capabilities,
        // Clients read and answer the extended capabilities only without CLIENT_MYSQL.
        extended_metadata: !client_caps.contains(CapabilityFlags::CLIENT_LONG_PASSWORD)
            && response
                .mariadb_ext_capabilities()
                .contains(MariadbCapabilities::MARIADB_CLIENT_EXTENDED_METADATA),
        collation: response.collation(),
        tls,
        attributes,
    };
    Ok((info, salt))
}

/// Authenticates `user` whose client answered the salt with `response` computed by the plugin
/// named `plugin` (`None`: the client does not name one). Switches the client to another
/// plugin when needed. On success returns the entry's user data; nothing is queued then except
/// caching_sha2's "fast auth success" marker, and the caller sends the OK.
pub(crate) async fn authenticate(
    s: &mut Session,
    phase: &Phase<'_>,
    user: &str,
    plugin: Option<&[u8]>,
    response: &[u8],
) -> Result<String, Refused> {
    let used_password = !response.is_empty();
    let denied = || SqlError::access_denied(user, &phase.peer.ip().to_string(), used_password);
    let auth: &AuthServer = &phase.config.auth;
    let can_switch = phase
        .capabilities
        .contains(CapabilityFlags::CLIENT_PLUGIN_AUTH);
    let plugin = match plugin {
        None => Some(Plugin::Native),
        Some(name) => Plugin::from_name(name),
    };
    let (mut plugin, mut response) = match plugin {
        Some(p) => (p, response.to_vec()),
        None if can_switch => (Plugin::Native, switch_to(s, phase, Plugin::Native).await?),
        None => return deny(s, denied()).await,
    };
    let mut verdict = auth.check_scramble(user, plugin, &phase.salt, &response);
    if !matches!(verdict, Verdict::Accept(_))
        && response.is_empty()
        && plugin == Plugin::CachingSha2
        && can_switch
    {
        // Clients whose plugin differs from the one announced send no scramble at first
        // (libmariadb with --default-auth): ask again, for their plugin, with our salt.
        response = switch_to(s, phase, plugin).await?;
        verdict = auth.check_scramble(user, plugin, &phase.salt, &response);
    }
    match verdict {
        Verdict::Accept(data) => {
            if plugin == Plugin::CachingSha2 {
                s.write(&[0x01, 0x03]);
            }
            Ok(data)
        }
        Verdict::Reject => deny(s, denied()).await,
        Verdict::NeedFullAuth if phase.tls => {
            s.write(&[0x01, 0x04]);
            flush(s).await?;
            let packet = read(s).await?;
            let password = match packet.split_last() {
                Some((0, head)) => head,
                _ => &packet[..],
            };
            match auth.check_clear(user, password) {
                Verdict::Accept(data) => Ok(data),
                _ => deny(s, denied()).await,
            }
        }
        Verdict::NeedFullAuth if can_switch => {
            // Without TLS the clear password must not travel: ask for a native scramble.
            plugin = Plugin::Native;
            response = switch_to(s, phase, plugin).await?;
            match auth.check_scramble(user, plugin, &phase.salt, &response) {
                Verdict::Accept(data) => Ok(data),
                _ => deny(s, denied()).await,
            }
        }
        Verdict::NeedFullAuth => deny(s, denied()).await,
    }
}

/// Sends an auth switch request to `plugin` with the connection's salt; returns the answer.
async fn switch_to(s: &mut Session, phase: &Phase<'_>, plugin: Plugin) -> Result<Vec<u8>, Refused> {
    let mut p = vec![0xfe];
    p.extend_from_slice(plugin.name().as_bytes());
    p.push(0);
    p.extend_from_slice(&phase.salt);
    p.push(0);
    s.write(&p);
    flush(s).await?;
    Ok(read(s).await?.to_vec())
}

fn bad_handshake() -> SqlError {
    SqlError::new(codes::HANDSHAKE_ERROR, "08S01", "Bad handshake")
}

async fn deny<T>(s: &mut Session, err: SqlError) -> Result<T, Refused> {
    tracing::info!(code = err.code, message = %err.message, "login refused");
    s.write_err(&err);
    flush(s).await?;
    Err(Refused::Denied)
}

async fn flush(s: &mut Session) -> Result<(), Refused> {
    s.flush().await.map_err(|e| {
        tracing::debug!(error = %e, "write failed during handshake");
        Refused::Closed
    })
}

async fn read(s: &mut Session) -> Result<bytes::Bytes, Refused> {
    match s.read().await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(Refused::Closed),
        Err(e) => {
            s.report_read_error(&e).await;
            Err(Refused::Closed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_common::packets::HandshakePacket;

    #[test]
    fn handshake_parses_with_mysql_common() {
        let salt = new_salt();
        assert!(salt.iter().all(|&b| b != 0 && b != b'$' && b < 128));
        assert_ne!(salt, new_salt());
        let caps = server_capabilities(true);
        let p = encode_handshake(
            "8.0.40-Vitess",
            42,
            &salt,
            caps,
            StatusFlags::SERVER_STATUS_AUTOCOMMIT,
        );
        let h = HandshakePacket::deserialize((), &mut ParseBuf(&p)).unwrap();
        assert_eq!(h.server_version_ref(), b"8.0.40-Vitess");
        assert_eq!(h.connection_id(), 42);
        assert_eq!(h.capabilities(), caps);
        assert_eq!(h.nonce(), salt.to_vec());
        assert_eq!(
            h.auth_plugin_name_ref(),
            Some(&b"mysql_native_password"[..])
        );
        assert_eq!(h.status_flags(), StatusFlags::SERVER_STATUS_AUTOCOMMIT);
    }
}
