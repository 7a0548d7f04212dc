//! Who may use the admin API: `Authorization: Bearer <[admin] token>` may read and change,
//! `Bearer <[admin] read_token>` may only read. Compared in constant time (over SHA-256
//! digests, so that the length leaks nothing either). Tenant tokens open nothing here.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::reply::AdminError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
}

pub struct AdminTokens {
    write: [u8; 32],
    read: Option<[u8; 32]>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl AdminTokens {
    pub fn new(write: &str, read: Option<&str>) -> Self {
        Self {
            write: digest(write),
            read: read.map(digest),
        }
    }

    /// Whether `token` is one of the admin tokens (a tenant's must not be).
    pub fn is_admin_token(&self, token: &str) -> bool {
        let given = digest(token);
        let write = bool::from(given.ct_eq(&self.write));
        let read = self
            .read
            .as_ref()
            .is_some_and(|r| bool::from(given.ct_eq(r)));
        write | read
    }

    /// Whether the request's token grants `needs`: 401 without a valid one, 403 for the read
    /// token on a change.
    pub fn allow(&self, headers: &HeaderMap, needs: Access) -> Result<(), AdminError> {
        match self.access(headers) {
            None => Err(AdminError::unauthorized()),
            Some(granted) if granted < needs => Err(AdminError::forbidden()),
            Some(_) => Ok(()),
        }
    }

    /// What the request's Bearer token grants, if anything.
    pub fn access(&self, headers: &HeaderMap) -> Option<Access> {
        let value = headers
            .get(axum::http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let given = digest(token.trim());
        let write = bool::from(given.ct_eq(&self.write));
        let read = self
            .read
            .as_ref()
            .is_some_and(|r| bool::from(given.ct_eq(r)));
        if write {
            Some(Access::Write)
        } else if read {
            Some(Access::Read)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(t: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::AUTHORIZATION,
            format!("Bearer {t}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn write_read_and_nothing() {
        let t = AdminTokens::new("write-token-0123456", Some("read-token-01234567"));
        assert_eq!(
            t.access(&bearer("write-token-0123456")),
            Some(Access::Write)
        );
        assert_eq!(t.access(&bearer("read-token-01234567")), Some(Access::Read));
        assert_eq!(t.access(&bearer("write-token-012345")), None);
        assert_eq!(t.access(&HeaderMap::new()), None);
        let only_write = AdminTokens::new("write-token-0123456", None);
        assert_eq!(only_write.access(&bearer("read-token-01234567")), None);
    }
}
