//! SMPP over TLS: the client side of the handshake with the SMSC's certificate verified
//! against a configured CA file or the web PKI roots.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

use super::config::SmscConfig;

/// Why the TLS side of a link could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(String);

fn client_config(cfg: &SmscConfig) -> Result<ClientConfig, TlsError> {
    let mut roots = RootCertStore::empty();
    match &cfg.tls.ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| TlsError(format!("CA file {path}: {e}")))?;
            for cert in certs {
                let cert = cert.map_err(|e| TlsError(format!("CA file {path}: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| TlsError(format!("CA file {path}: {e}")))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

pub async fn connect(cfg: &SmscConfig, tcp: TcpStream) -> Result<TlsStream<TcpStream>, TlsError> {
    let config = client_config(cfg)?;
    let name = cfg
        .tls
        .server_name
        .clone()
        .unwrap_or_else(|| cfg.host.clone());
    let server_name =
        ServerName::try_from(name).map_err(|e| TlsError(format!("server name: {e}")))?;
    TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(|e| TlsError(e.to_string()))
}
