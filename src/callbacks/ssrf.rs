//! The SSRF guard of callback URLs: loopback, private, link-local, site-local, shared (CGNAT),
//! multicast, unspecified, documentation and IETF-protocol addresses, and the IPv6 forms that
//! tunnel an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4, Teredo), are refused
//! unless `[callbacks] allow_private`.
//! Names are refused by their form only when it says internal (`localhost`, `*.localhost`,
//! `*.local`, `*.internal`); any other name, dotless included, is judged by the addresses it
//! resolves to. Checked when an OTP is created (once its limits have admitted it) and again
//! at each delivery, where the HTTP client resolves names through [`GuardedResolver`], so a
//! DNS answer that changes in between cannot point a callback at an internal address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::resolve::{BoundedResolver, LookupError};

/// Why a callback URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    #[error("otpCallbackUrl must be an http(s) URL")]
    Invalid,
    #[error("otpCallbackUrl must not point to a private or loopback address")]
    Private,
    #[error(
        "the host of otpCallbackUrl resolves to a private, loopback or other internal address: \
         callbacks are sent to public addresses only"
    )]
    ResolvesPrivate,
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

/// Whether a host name is internal by its name alone. A dotless name is not: it may resolve
/// to a public address (through a search domain or the hosts file), and is judged by that.
pub fn forbidden_name(host: &str) -> bool {
    let d = host.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost"
        || d.ends_with(".localhost")
        || d.ends_with(".internal")
        || d.ends_with(".local")
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
/// resolves to any forbidden address is refused). A lookup that fails, times out or finds
/// every slot busy is let through (a DNS outage must not stop OTPs from being sent, and a
/// name that does not resolve yet may later): the check at delivery applies.
pub async fn check_url(
    url: &str,
    allow_private: bool,
    resolver: &BoundedResolver,
) -> Result<(), SsrfError> {
    let parsed = url::Url::parse(url).map_err(|_| SsrfError::Invalid)?;
    check_static(&parsed, allow_private)?;
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        _ => return Ok(()),
    };
    if allow_private {
        return Ok(());
    }
    match resolver.lookup(&host).await {
        Ok(addrs) if addrs.iter().any(|ip| forbidden_ip(*ip)) => Err(SsrfError::ResolvesPrivate),
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::debug!(error = %e, "callback host not resolved at create: checked at delivery");
            Ok(())
        }
    }
}

/// The callback client's resolver: the bounded resolver, forbidden addresses removed (a
/// name left with none fails, and its delivery is retried, then dropped).
#[derive(Clone)]
pub struct GuardedResolver {
    pub allow_private: bool,
    pub resolver: Arc<BoundedResolver>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let resolver = self.resolver.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            type BoxError = Box<dyn std::error::Error + Send + Sync>;
            guarded_lookup(&resolver, &host, allow_private)
                .await
                .map(|kept| -> Addrs { Box::new(kept.into_iter()) })
                .map_err(BoxError::from)
        })
    }
}

/// The addresses a callback to `host` may be sent to.
async fn guarded_lookup(
    resolver: &BoundedResolver,
    host: &str,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, SsrfError> {
    if !allow_private && forbidden_name(host) {
        return Err(SsrfError::Private);
    }
    let found = resolver.lookup(host).await.map_err(|e| match e {
        LookupError::NotFound(_) | LookupError::TimedOut | LookupError::Busy => {
            SsrfError::Unresolvable
        }
    })?;
    let kept: Vec<SocketAddr> = found
        .into_iter()
        .filter(|ip| allow_private || !forbidden_ip(*ip))
        .map(|ip| SocketAddr::new(ip, 0))
        .collect();
    if kept.is_empty() {
        return Err(SsrfError::ResolvesPrivate);
    }
    Ok(kept)
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
        // a dotless name is judged by its addresses, not refused by its form
        assert_eq!(
            check_static(&u("https://my-callback/receive"), false),
            Ok(())
        );
        assert_eq!(
            check_static(&u("http://printer.local/x"), false),
            Err(SsrfError::Private)
        );
        assert_eq!(
            check_static(&u("ftp://example.com/"), true),
            Err(SsrfError::Invalid)
        );
    }
}
