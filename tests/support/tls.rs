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
    /// The server's certificate chain and key (PEM files), what `[http] tls_cert` and
    /// `tls_key` name.
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A CA (`name` as its common name) and a server certificate signed by it: (CA PEM, server
/// certificate PEM, server key PEM).
pub fn issue(name: &str) -> (String, String, String) {
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
    (ca.pem(), cert.pem(), leaf_key.serialize_pem())
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
            dir,
        };
        pki.reissue("first")
    }

    /// Replaces the CA and the server certificate and key files with new ones.
    pub fn reissue(mut self, name: &str) -> TestPki {
        let (ca, cert, key) = issue(name);
        std::fs::write(&self.ca, &ca).unwrap();
        std::fs::write(&self.cert, cert).unwrap();
        std::fs::write(&self.key, key).unwrap();
        self.ca_pem = ca;
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
