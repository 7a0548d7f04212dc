//! Certificates made by the TLS tests: a CA of their own and a server certificate for
//! 127.0.0.1 and localhost signed by it, as PEM files in a directory removed on drop.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

pub struct TestPki {
    pub dir: PathBuf,
    /// The CA's certificate (PEM file), what a client trusts.
    pub ca: PathBuf,
    pub ca_pem: String,
    /// See [`Issued::spki_sha256`].
    pub spki_sha256: String,
    /// The server's certificate chain and key (PEM files), what `[http] tls_cert` and
    /// `tls_key` name.
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What [`issue`] makes, as PEM text.
pub struct Issued {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    /// SHA-256 of the server key's SubjectPublicKeyInfo, base64 (what Chromium's
    /// `--ignore-certificate-errors-spki-list` takes).
    pub spki_sha256: String,
}

/// A CA (`name` as its common name) and a server certificate signed by it.
pub fn issue(name: &str) -> Issued {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("otpgate test CA {name}"));
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    leaf.distinguished_name
        .push(DnType::CommonName, "otpgate test server");
    let leaf_key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    use sha2::Digest;
    Issued {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: leaf_key.serialize_pem(),
        spki_sha256: base64(&sha2::Sha256::digest(leaf_key.public_key_der())),
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl TestPki {
    /// A fresh CA and server certificate under a new temporary directory (`tag` in its name).
    pub fn new(tag: &str) -> TestPki {
        let dir = std::env::temp_dir().join(format!(
            "otpgate-tls-{tag}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = TestPki {
            ca: dir.join("ca.crt"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
            ca_pem: String::new(),
            spki_sha256: String::new(),
            dir,
        };
        pki.reissue("first")
    }

    /// Replaces the CA and the server certificate and key files with new ones.
    pub fn reissue(mut self, name: &str) -> TestPki {
        let issued = issue(name);
        std::fs::write(&self.ca, &issued.ca_pem).unwrap();
        std::fs::write(&self.cert, issued.cert_pem).unwrap();
        std::fs::write(&self.key, issued.key_pem).unwrap();
        self.ca_pem = issued.ca_pem;
        self.spki_sha256 = issued.spki_sha256;
        self
    }

    /// A client that trusts this CA, and only it.
    pub fn client(&self) -> reqwest::ClientBuilder {
        trusting(&self.ca_pem)
    }
}

/// A client that trusts the CA `ca_pem` only.
pub fn trusting(ca_pem: &str) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .timeout(std::time::Duration::from_secs(20))
}

impl Drop for TestPki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
