//! HTTPS: the server certificate and key of `[http] tls_cert` / `tls_key` (PEM files), with
//! ALPN offering HTTP/2 before HTTP/1.1. [`TlsCerts::reload`] re-reads both files (on
//! `SIGHUP`); a reload that fails keeps the certificate in use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::telemetry::names::{HTTP_TLS_HANDSHAKE_FAILURES, HTTP_TLS_RELOADS};

/// Why the certificate or the key cannot be used. Names the file and the problem, never
/// the content of the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },
    #[error("{cert} and {key}: {problem}")]
    Pair {
        cert: PathBuf,
        key: PathBuf,
        problem: String,
    },
}

/// The certificate in use, swapped whole on reload.
pub struct TlsCerts {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

impl std::fmt::Debug for TlsCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsCerts")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl TlsCerts {
    /// Reads the certificate chain and the key; an error names the file at fault.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Self>, TlsError> {
        let config = server_config(cert, key)?;
        Ok(Arc::new(Self {
            cert: cert.to_owned(),
            key: key.to_owned(),
            current: RwLock::new(Arc::new(config)),
        }))
    }

    /// Re-reads both files and serves the new certificate to the next handshakes. On error the
    /// certificate in use stays. Logged and counted (`otpgate_http_tls_reloads_total`).
    pub fn reload(&self) -> Result<(), TlsError> {
        match server_config(&self.cert, &self.key) {
            Ok(config) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(config);
                metrics::counter!(HTTP_TLS_RELOADS, "result" => "ok").increment(1);
                tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                Ok(())
            }
            Err(e) => {
                metrics::counter!(HTTP_TLS_RELOADS, "result" => "failed").increment(1);
                tracing::error!(error = %e, "TLS certificate reload failed; keeping the one in use");
                Err(e)
            }
        }
    }

    /// The acceptor of a new connection, with the certificate in use now.
    pub fn acceptor(&self) -> TlsAcceptor {
        let config = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        TlsAcceptor::from(config)
    }
}

/// Shows the TLS series from the start (at zero), so that the first failure is a visible rise.
pub fn register_metrics() {
    for result in ["ok", "failed"] {
        metrics::counter!(HTTP_TLS_RELOADS, "result" => result).increment(0);
    }
    for reason in ["error", "timeout"] {
        metrics::counter!(HTTP_TLS_HANDSHAKE_FAILURES, "reason" => reason).increment(0);
    }
}

fn file_error(path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::File {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// What went wrong in a PEM file, in words that never quote the file (a key's base64).
fn pem_problem(e: &pem::Error, what: &str) -> String {
    match e {
        pem::Error::Io(io) => format!("cannot read: {io}"),
        pem::Error::NoItemsFound => format!("no PEM {what} found"),
        pem::Error::MissingSectionEnd { .. } => "a PEM section has no END line".into(),
        pem::Error::IllegalSectionStart { .. } => "malformed PEM BEGIN line".into(),
        pem::Error::Base64Decode(_) => "invalid base64 in a PEM section".into(),
        _ => format!("not a usable PEM {what}"),
    }
}

fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_error(cert, pem_problem(&e, "certificate")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(cert, pem_problem(&e, "certificate")))?;
    if chain.is_empty() {
        return Err(file_error(cert, "no PEM certificate found"));
    }
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, pem_problem(&e, "key")))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let pair_error = |problem: String| TlsError::Pair {
        cert: cert.to_owned(),
        key: key.to_owned(),
        problem,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| pair_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| pair_error(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn errors_name_the_file_and_never_quote_it() {
        let dir = std::env::temp_dir().join(format!("otpgate-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let secret = "c2VjcmV0LWtleS1tYXRlcmlhbA==";
        let bad_key = write(
            &dir,
            "bad.key",
            &format!("-----BEGIN PRIVATE KEY-----\n{secret}!!\n-----END PRIVATE KEY-----\n"),
        );
        let empty = write(&dir, "empty.crt", "nothing here\n");
        let missing = dir.join("missing.crt");

        let e = TlsCerts::load(&missing, &bad_key).expect_err("missing file");
        assert!(e.to_string().contains("missing.crt"), "{e}");
        assert!(e.to_string().contains("cannot read"), "{e}");

        let e = TlsCerts::load(&empty, &bad_key).expect_err("no certificate");
        assert!(e.to_string().contains("empty.crt"), "{e}");
        assert!(e.to_string().contains("no PEM certificate"), "{e}");

        let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
        let cert = write(&dir, "good.crt", &made.cert.pem());
        let e = TlsCerts::load(&cert, &bad_key).expect_err("bad key");
        assert!(e.to_string().contains("bad.key"), "{e}");
        assert!(!e.to_string().contains(secret), "{e}");

        let other = rcgen::generate_simple_self_signed(vec!["other".into()]).expect("rcgen");
        let other_key = write(&dir, "other.key", &other.key_pair.serialize_pem());
        let e = TlsCerts::load(&cert, &other_key).expect_err("key of another certificate");
        assert!(e.to_string().contains("other.key"), "{e}");

        let key = write(&dir, "good.key", &made.key_pair.serialize_pem());
        let certs = TlsCerts::load(&cert, &key).expect("a good pair");
        std::fs::write(&cert, "broken").expect("write");
        assert!(certs.reload().is_err(), "a broken file is refused");
        let _ = certs.acceptor();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
