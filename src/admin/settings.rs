//! `[admin]`: the operators' listener and its two tokens.

use std::net::SocketAddr;

use serde::Deserialize;

/// Shortest token accepted: a guessable admin token opens every SMSC's switch.
pub const MIN_TOKEN_LEN: usize = 16;

#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// `IP:port` of the admin listener; unset = no admin listener.
    pub listen: Option<String>,
    /// Bearer token that may read and change (stop/start, reload).
    pub token: Option<String>,
    /// Bearer token that may only read.
    pub read_token: Option<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |t: &Option<String>| t.as_ref().map(|_| "<redacted>");
        f.debug_struct("AdminConfig")
            .field("listen", &self.listen)
            .field("token", &shown(&self.token))
            .field("read_token", &shown(&self.read_token))
            .finish()
    }
}

impl AdminConfig {
    pub fn listen_addr(&self) -> Option<Result<SocketAddr, std::net::AddrParseError>> {
        self.listen.as_deref().map(str::parse)
    }

    /// The field at fault and why (never quoting a token).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let Some(Err(_)) = self.listen_addr() {
            return Err(("admin.listen", "not an IP:port socket address".into()));
        }
        if self.listen.is_some() && self.token.is_none() {
            return Err((
                "admin.token",
                "is required when admin.listen is set: the admin listener never runs without \
                 a token"
                    .into(),
            ));
        }
        for (field, token) in [
            ("admin.token", &self.token),
            ("admin.read_token", &self.read_token),
        ] {
            if let Some(t) = token {
                if t.len() < MIN_TOKEN_LEN || t.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err((
                        field,
                        format!("must be at least {MIN_TOKEN_LEN} characters, without spaces"),
                    ));
                }
            }
        }
        if self.token.is_some() && self.token == self.read_token {
            return Err(("admin.read_token", "must differ from admin.token".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admin(listen: Option<&str>, token: Option<&str>, read: Option<&str>) -> AdminConfig {
        AdminConfig {
            listen: listen.map(Into::into),
            token: token.map(Into::into),
            read_token: read.map(Into::into),
        }
    }

    #[test]
    fn checks_name_the_field() {
        let field = |c: AdminConfig| c.check().err().map(|(f, _)| f);
        assert_eq!(field(admin(None, None, None)), None);
        assert_eq!(
            field(admin(Some("127.0.0.1:8081"), None, None)),
            Some("admin.token")
        );
        assert_eq!(
            field(admin(Some("localhost"), Some("x"), None)),
            Some("admin.listen")
        );
        assert_eq!(
            field(admin(Some("127.0.0.1:8081"), Some("short"), None)),
            Some("admin.token")
        );
        let long = "a-long-enough-admin-token";
        assert_eq!(
            field(admin(Some("127.0.0.1:8081"), Some(long), Some(long))),
            Some("admin.read_token")
        );
        assert_eq!(field(admin(Some("127.0.0.1:8081"), Some(long), None)), None);
        let shown = format!(
            "{:?}",
            admin(None, Some(long), Some("another-long-token-x"))
        );
        assert!(
            !shown.contains(long) && !shown.contains("another-long"),
            "{shown}"
        );
    }
}
