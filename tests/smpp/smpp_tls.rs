//! SMPP over TLS: the engine binds through a TLS terminator in front of the simulator,
//! verifying the SMSC's certificate against a configured CA; a certificate it cannot verify
//! keeps the bind down.

use std::sync::Arc;
use std::time::Duration;

use crate::support::smpp::*;
use otpgate::dispatch::Dispatcher;
use otpgate::smpp::{SmppEngine, SmscConfig, TlsConfig};
use otpgate_sim::SimConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Terminates TLS on a loopback listener and forwards the bytes to `upstream`.
async fn tls_terminator(upstream: std::net::SocketAddr) -> std::net::SocketAddr {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(fixture("smsc-tls.crt"))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let key = PrivateKeyDer::from_pem_file(fixture("smsc-tls.key")).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut up) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn binds_and_sends_over_tls() {
    let sim = start_sim(SimConfig::default()).await;
    let front = tls_terminator(sim.local_addr()).await;
    let sink = sink();
    let cfg = SmscConfig {
        host: "localhost".into(),
        tls: TlsConfig {
            enabled: true,
            ca_file: Some(fixture("smsc-ca.crt")),
            server_name: None,
        },
        ..smsc("tls", front)
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    for i in 0..10 {
        engine.try_dispatch(sms(i)).unwrap();
    }
    sink.wait_final(10).await;
    assert_eq!(sink.submitted().len(), 10, "{:?}", sink.all());
    assert_eq!(sim.counters().messages, 10);
    engine.shutdown(Duration::from_secs(5)).await;
    assert_eq!(sim.counters().unbinds, 1);
}

#[tokio::test]
async fn an_unverifiable_certificate_keeps_the_bind_down() {
    let sim = start_sim(SimConfig::default()).await;
    let front = tls_terminator(sim.local_addr()).await;
    let sink = sink();
    // The web PKI roots do not vouch for the test CA.
    let cfg = SmscConfig {
        host: "localhost".into(),
        tls: TlsConfig {
            enabled: true,
            ca_file: None,
            server_name: None,
        },
        ..smsc("tls", front)
    };
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(engine.binds_up(), 0);
    assert_eq!(sim.counters().connections, 0);
    engine.shutdown(Duration::from_secs(2)).await;
}
