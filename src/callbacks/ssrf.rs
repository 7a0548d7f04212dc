//! The SSRF guard of callback URLs: loopback, private, link-local, site-local, shared (CGNAT),
//! multicast, unspecified, documentation and IETF-protocol addresses, and the IPv6 forms that
//! tunnel an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4, Teredo), are refused
//! unless `[callbacks] allow_private`.
//! Checked when an OTP is created and again at each delivery, where the HTTP client resolves
//! names through [`GuardedResolver`], so a DNS answer that changes in between cannot point a
//! callback at an internal address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a callback URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    #[error("otpCallbackUrl must be an http(s) URL")]
    Invalid,
    #[error("otpCallbackUrl must not point to a private or loopback address")]
    Private,
    #[error("the host of otpCallbackUrl does not resolve")]
    Unresolvable,
}

fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240
}

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_forbidden(v4);
    }
    let seg = ip.segments();
    let first = seg[0];
    // Addresses that carry an IPv4 address inside (IPv4-compatible, 6to4, Teredo) are refused
    // as whole ranges rather than by the IPv4 they embed: they are deprecated or transition
    // mechanisms no callback receiver needs, and a relay may deliver them anywhere.
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || seg[..6] == [0; 6] // IPv4-compatible ::a.b.c.d (deprecated)
        || first == 0x2002 // 6to4
        || (first == 0x2001 && seg[1] == 0) // Teredo
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && seg[1] == 0x0db8 // documentation
        || first == 0x0064 && seg[1] == 0xff9b // NAT64 of any IPv4
}

/// Whether a callback may not be sent to `ip`.
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_forbidden(v4),
        IpAddr::V6(v6) => v6_forbidden(v6),
    }
}

/// Whether a host name is internal by its name alone.
pub fn forbidden_name(host: &str) -> bool {
    let d = host.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost"
        || d.ends_with(".localhost")
        || d.ends_with(".internal")
        || d.ends_with(".local")
        || !d.contains('.')
}

/// The check that needs no network: scheme, IP literals and internal names.
pub fn check_static(url: &url::Url, allow_private: bool) -> Result<(), SsrfError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SsrfError::Invalid);
    }
    if allow_private {
        return Ok(());
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) if v4_forbidden(ip) => Err(SsrfError::Private),
        Some(url::Host::Ipv6(ip)) if v6_forbidden(ip) => Err(SsrfError::Private),
        Some(url::Host::Domain(d)) if forbidden_name(d) => Err(SsrfError::Private),
        Some(_) => Ok(()),
        None => Err(SsrfError::Invalid),
    }
}

/// The full check at create time: [`check_static`], then the host's addresses (a name that
/// resolves to any forbidden address is refused). A lookup that fails or times out is let
/// through (a DNS outage must not stop OTPs from being sent): the check at delivery applies.
pub async fn check_url(url: &str, allow_private: bool, timeout: Duration) -> Result<(), SsrfError> {
    let parsed = url::Url::parse(url).map_err(|_| SsrfError::Invalid)?;
    check_static(&parsed, allow_private)?;
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        _ => return Ok(()),
    };
    if allow_private {
        return Ok(());
    }
    let lookup = tokio::time::timeout(timeout, tokio::net::lookup_host((host, 0))).await;
    match lookup {
        Err(_) | Ok(Err(_)) => Ok(()),
        Ok(Ok(mut addrs)) => {
            if addrs.any(|a| forbidden_ip(a.ip())) {
                Err(SsrfError::Private)
            } else {
                Ok(())
            }
        }
    }
}

/// The callback client's resolver: system DNS with a timeout, forbidden addresses removed.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allow_private: bool,
    pub timeout: Duration,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (allow_private, timeout) = (self.allow_private, self.timeout);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            type BoxError = Box<dyn std::error::Error + Send + Sync>;
            if !allow_private && forbidden_name(&host) {
                return Err(BoxError::from(SsrfError::Private));
            }
            let found =
                match tokio::time::timeout(timeout, tokio::net::lookup_host((host, 0))).await {
                    Err(_) => return Err(BoxError::from(SsrfError::Unresolvable)),
                    Ok(Err(e)) => return Err(BoxError::from(e)),
                    Ok(Ok(found)) => found,
                };
            let kept: Vec<SocketAddr> = found
                .filter(|a| allow_private || !forbidden_ip(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(BoxError::from(SsrfError::Private));
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(forbidden_ip(bad.parse().unwrap()), "{bad}");
        }
        for good in ["8.8.8.8", "1.1.1.1", "2a00:1450:4007::200e"] {
            assert!(!forbidden_ip(good.parse().unwrap()), "{good}");
        }
    }

    #[test]
    fn tunnelled_site_local_and_protocol_assignment_literals_are_refused() {
        let let_through = [
            "http://[::7f00:1]/cb",             // IPv4-compatible ::127.0.0.1
            "http://[::a9fe:a9fe]/cb",          // IPv4-compatible ::169.254.169.254
            "http://[::808:808]/cb",            // IPv4-compatible, even of a public IPv4
            "http://[2002:7f00:1::]/cb",        // 6to4 of 127.0.0.1
            "http://[2002:808:808::1]/cb",      // 6to4, even of a public IPv4
            "http://[2001:0:4136:e378::1]/cb",  // Teredo
            "http://[2001::ffff:80f4:f5fe]/cb", // Teredo (client 127.11.10.1 obfuscated)
            "http://[fec0::1]/cb",              // site-local
            "http://[feff:ffff::1]/cb",         // site-local, top of fec0::/10
            "http://192.0.0.1/cb",              // IETF protocol assignments
            "http://192.0.0.170/cb",            // NAT64 discovery
        ]
        .into_iter()
        .filter(|url| {
            let parsed = url::Url::parse(url).unwrap();
            check_static(&parsed, false) != Err(SsrfError::Private)
        })
        .collect::<Vec<_>>();
        assert!(let_through.is_empty(), "not refused: {let_through:?}");
        // Their neighbours stay allowed.
        for url in [
            "http://192.0.1.1/cb",
            "http://[2001:4860:4860::8888]/cb",
            "http://[2003::1]/cb",
            "http://[fe00::1]/cb",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            assert_eq!(check_static(&parsed, false), Ok(()), "{url} was refused");
        }
    }

    #[test]
    fn urls() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(
            check_static(&u("http://127.0.0.1:9/x"), false),
            Err(SsrfError::Private)
        );
        assert_eq!(
            check_static(&u("http://[::1]/x"), false),
            Err(SsrfError::Private)
        );
        assert_eq!(
            check_static(&u("http://metadata.internal/x"), false),
            Err(SsrfError::Private)
        );
        assert_eq!(
            check_static(&u("http://localhost/x"), false),
            Err(SsrfError::Private)
        );
        assert_eq!(check_static(&u("http://127.0.0.1:9/x"), true), Ok(()));
        assert_eq!(check_static(&u("https://example.com/cb"), false), Ok(()));
        assert_eq!(
            check_static(&u("ftp://example.com/"), true),
            Err(SsrfError::Invalid)
        );
    }
}
