//! Load goes to loopback only: checks that a URL or socket address names this machine.

use std::net::{IpAddr, SocketAddr};

use hyper::Uri;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0:?} is not a valid http:// URL")]
    BadUrl(String),
    #[error("{0} is not a loopback address: load is only sent to this machine")]
    NotLoopback(String),
    #[error("cannot resolve {0}")]
    Resolve(String),
}

/// The URL, parsed, if its host is a loopback address (or `localhost` resolving only to
/// loopback addresses).
pub async fn loopback_url(url: &str) -> Result<Uri, TargetError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| TargetError::BadUrl(url.to_owned()))?;
    if uri.scheme_str() != Some("http") {
        return Err(TargetError::BadUrl(url.to_owned()));
    }
    let host = uri
        .host()
        .ok_or_else(|| TargetError::BadUrl(url.to_owned()))?;
    let port = uri.port_u16().unwrap_or(80);
    check_host(host, port).await?;
    Ok(uri)
}

/// Checks `host` (IP literal, possibly in brackets, or a name) resolves to loopback only.
pub async fn check_host(host: &str, port: u16) -> Result<(), TargetError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return if ip.is_loopback() {
            Ok(())
        } else {
            Err(TargetError::NotLoopback(host.to_owned()))
        };
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
        .await
        .map_err(|_| TargetError::Resolve(host.to_owned()))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(TargetError::NotLoopback(host.to_owned()));
    }
    Ok(())
}

/// A socket address for SMPP, loopback only.
pub fn loopback_addr(addr: SocketAddr) -> Result<SocketAddr, TargetError> {
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(TargetError::NotLoopback(addr.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_loopback_targets() {
        assert!(loopback_url("http://127.0.0.1:8080").await.is_ok());
        assert!(loopback_url("http://[::1]:8080/x").await.is_ok());
        assert!(loopback_url("http://localhost:8080").await.is_ok());
        assert!(matches!(
            loopback_url("http://10.0.0.1:8080").await,
            Err(TargetError::NotLoopback(_))
        ));
        assert!(loopback_url("https://127.0.0.1").await.is_err());
        assert!(loopback_url("not a url").await.is_err());
        assert!(loopback_addr("192.168.1.1:2775".parse().unwrap()).is_err());
    }
}
