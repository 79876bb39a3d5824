//! TLS set-up: a rustls server configuration from PEM certificate-chain and key files
//! (`--mysql-server-ssl-cert`, `--mysql-server-ssl-key`).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ServerError;

/// Builds a rustls server configuration (ring provider, TLS 1.2 and 1.3) from PEM files.
pub fn load_server_config(
    cert_path: &Path,
    key_path: &Path,
) -> Result<Arc<rustls::ServerConfig>, ServerError> {
    let tls_err = |what: &Path, e: &dyn std::fmt::Display| {
        ServerError::Tls(format!("{}: {e}", what.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| tls_err(cert_path, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls_err(cert_path, &e))?;
    if certs.is_empty() {
        return Err(tls_err(cert_path, &"no certificate found"));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| tls_err(key_path, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_test_certificate_and_rejects_missing_files() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        load_server_config(&dir.join("server-cert.pem"), &dir.join("server-key.pem")).unwrap();
        let err = load_server_config(&dir.join("missing.pem"), &dir.join("server-key.pem"));
        assert!(matches!(err, Err(ServerError::Tls(_))));
        let err = load_server_config(&dir.join("server-key.pem"), &dir.join("server-key.pem"));
        assert!(matches!(err, Err(ServerError::Tls(_))));
    }
}
