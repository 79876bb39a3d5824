//! Authentication (static users, native and caching_sha2 exchanges, auth switch, change user)
//! and TLS (raw rustls client, `mariadb --ssl`, require_secure_transport).

mod support;

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{ChangeUserOpts, Conn};
use mysql_server::{CapabilityFlags, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use support::raw::{
    client_caps, handshake_response, parse_err, read_packet, scramble, ssl_request, write_packet,
    Raw,
};
use support::{cert_paths, static_tls_config, Proxy};

fn access_denied(user: &str, yes: bool) -> (u16, String, String) {
    let using = if yes { "YES" } else { "NO" };
    (
        1045,
        "28000".into(),
        format!("Access denied for user '{user}'@'127.0.0.1' (using password: {using})"),
    )
}

async fn login(proxy: &Proxy, user: &str, pw: Option<&str>) -> Result<Conn, (u16, String, String)> {
    match Conn::new(proxy.opts(user, pw, None)).await {
        Ok(c) => Ok(c),
        Err(mysql_async::Error::Server(e)) => Err((e.code, e.state, e.message)),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_users_with_native_password() {
    let proxy = Proxy::start(static_tls_config()).await;
    let mut c = login(&proxy, "native_user", Some("mysql_password"))
        .await
        .unwrap();
    let v: Option<i64> = c.query_first("SELECT 7").await.unwrap();
    assert_eq!(v, Some(7));
    for pw in ["one", "two"] {
        login(&proxy, "two_pw", Some(pw))
            .await
            .unwrap()
            .disconnect()
            .await
            .unwrap();
    }
    assert_eq!(
        login(&proxy, "native_user", Some("wrong")).await.err(),
        Some(access_denied("native_user", true))
    );
    assert_eq!(
        login(&proxy, "nobody", Some("x")).await.err(),
        Some(access_denied("nobody", true))
    );
    assert_eq!(
        login(&proxy, "clear_user", None).await.err(),
        Some(access_denied("clear_user", false))
    );

    // COM_CHANGE_USER re-authenticates; a wrong password is refused.
    c.change_user(
        ChangeUserOpts::default()
            .with_user(Some("two_pw".into()))
            .with_pass(Some("two".into())),
    )
    .await
    .unwrap();
    let v: Option<i64> = c.query_first("SELECT 8").await.unwrap();
    assert_eq!(v, Some(8));
    let bad = c
        .change_user(
            ChangeUserOpts::default()
                .with_user(Some("two_pw".into()))
                .with_pass(Some("three".into())),
        )
        .await;
    assert!(bad.is_err(), "wrong password in COM_CHANGE_USER must fail");
    proxy.stop().await;
}

/// Logs in over `stream` with caching_sha2_password; returns the packets up to the final
/// OK or ERR (exclusive), and that final packet.
async fn sha2_login<S>(
    stream: &mut S,
    salt: &[u8],
    first_seq: u8,
    user: &str,
    password: &str,
    tls: bool,
) -> (Vec<Vec<u8>>, Vec<u8>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut caps = client_caps();
    if tls {
        caps |= CapabilityFlags::CLIENT_SSL;
    }
    let auth = scramble("caching_sha2_password", salt, password);
    let response = handshake_response(caps, user, &auth, "caching_sha2_password");
    write_packet(stream, first_seq, &response).await;
    let mut seen = Vec::new();
    loop {
        let (seq, p) = read_packet(stream).await.expect("closed during auth");
        match p[0] {
            0x00 | 0xff => return (seen, p),
            0x01 if p == [0x01, 0x04] => {
                let mut clear = password.as_bytes().to_vec();
                clear.push(0);
                write_packet(stream, seq + 1, &clear).await;
            }
            0xfe => {
                let nul = p.iter().position(|&b| b == 0).unwrap();
                assert_eq!(&p[1..nul], b"mysql_native_password");
                let switch_salt = &p[nul + 1..p.len() - 1];
                let answer = scramble("mysql_native_password", switch_salt, password);
                write_packet(stream, seq + 1, &answer).await;
            }
            _ => {}
        }
        seen.push(p);
    }
}

/// Trusts exactly the test certificate (it is self-signed with CA:TRUE, which webpki refuses
/// as an end entity), still checking the handshake signatures.
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("unexpected certificate".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    let (cert, _) = cert_paths();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Pinned {
        cert: CertificateDer::from_pem_file(cert).unwrap(),
        provider: Arc::clone(&provider),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caching_sha2_fast_path_full_auth_and_switch() {
    let proxy = Proxy::start(static_tls_config()).await;

    // Clear-text entry: fast path, "fast auth success" (0x01 0x03) then OK.
    let mut c = Raw::connect(proxy.addr).await;
    let (seen, last) = sha2_login(&mut c.stream, &c.salt, 1, "clear_user", "clear_pw", false).await;
    assert_eq!((seen, last[0]), (vec![vec![0x01, 0x03]], 0x00));

    // Wrong password.
    let mut c = Raw::connect(proxy.addr).await;
    let (_, last) = sha2_login(&mut c.stream, &c.salt, 1, "clear_user", "nope", false).await;
    assert_eq!(parse_err(&last), access_denied("clear_user", true));

    // Hash-only entry without TLS: switched to mysql_native_password.
    let mut c = Raw::connect(proxy.addr).await;
    let (seen, last) = sha2_login(
        &mut c.stream,
        &c.salt,
        1,
        "native_user",
        "mysql_password",
        false,
    )
    .await;
    assert_eq!((seen.len(), seen[0][0], last[0]), (1, 0xfe, 0x00));

    // Over TLS: full authentication with the clear password (0x01 0x04).
    let mut c = Raw::connect(proxy.addr).await;
    write_packet(&mut c.stream, 1, &ssl_request(client_caps())).await;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = tls_connector().connect(name, c.stream).await.unwrap();
    let (seen, last) =
        sha2_login(&mut tls, &c.salt, 2, "native_user", "mysql_password", true).await;
    assert_eq!((seen, last[0]), (vec![vec![0x01, 0x04]], 0x00));

    // Now cached: the fast path works without TLS.
    let mut c = Raw::connect(proxy.addr).await;
    let (seen, last) = sha2_login(
        &mut c.stream,
        &c.salt,
        1,
        "native_user",
        "mysql_password",
        false,
    )
    .await;
    assert_eq!((seen, last[0]), (vec![vec![0x01, 0x03]], 0x00));
    proxy.stop().await;
}

fn cli(port: u16, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new("/usr/bin/mariadb")
        .args(["-h127.0.0.1", &format!("-P{port}")])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_cli_over_tls_and_with_caching_sha2() {
    let proxy = Proxy::start(static_tls_config()).await;
    let port = proxy.addr.port();
    tokio::task::spawn_blocking(move || {
        let (ok, out, err) = cli(
            port,
            &["--ssl", "-unative_user", "-pmysql_password", "-e", "status"],
        );
        assert!(ok, "{err}");
        assert!(out.contains("Cipher in use is TLS"), "{out}");
        let (ok, out, err) = cli(
            port,
            &[
                "--skip-ssl",
                "-unative_user",
                "-pmysql_password",
                "-e",
                "status",
            ],
        );
        assert!(ok, "{err}");
        assert!(out.contains("Not in use"), "{out}");
        let plugin_dir = "/usr/lib/x86_64-linux-gnu/libmariadb3/plugin";
        let sha2 = [
            "--default-auth=caching_sha2_password",
            "--plugin-dir",
            plugin_dir,
        ];
        for (user, pw, tls) in [
            ("clear_user", "clear_pw", false),
            ("native_user", "mysql_password", true),
            ("native_user", "mysql_password", false),
        ] {
            let mut args = sha2.to_vec();
            let (u, p) = (format!("-u{user}"), format!("-p{pw}"));
            args.extend([u.as_str(), p.as_str(), "-N", "-e", "SELECT 40 + 2"]);
            args.push(if tls { "--ssl" } else { "--skip-ssl" });
            let (ok, out, err) = cli(port, &args);
            assert!(ok, "{user} tls={tls}: {err}");
            assert_eq!(out.trim(), "42");
        }
        let (ok, _, err) = cli(port, &["-unative_user", "-pwrong", "-e", "SELECT 1"]);
        assert!(!ok);
        assert!(err.contains("ERROR 1045 (28000)"), "{err}");
    })
    .await
    .unwrap();
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_secure_transport_refuses_plain_connections() {
    let config = ServerConfig {
        require_secure_transport: true,
        ..static_tls_config()
    };
    let proxy = Proxy::start(config).await;
    let mut c = Raw::connect(proxy.addr).await;
    let auth = scramble("mysql_native_password", &c.salt, "one");
    write_packet(
        &mut c.stream,
        1,
        &handshake_response(client_caps(), "two_pw", &auth, "mysql_native_password"),
    )
    .await;
    let (_, err) = read_packet(&mut c.stream).await.unwrap();
    assert_eq!(parse_err(&err).0, 3159);
    let port = proxy.addr.port();
    tokio::task::spawn_blocking(move || {
        let (ok, out, err) = cli(
            port,
            &["--ssl", "-utwo_pw", "-pone", "-N", "-e", "SELECT 5"],
        );
        assert!(ok, "{err}");
        assert_eq!(out.trim(), "5");
    })
    .await
    .unwrap();
    proxy.stop().await;
}
