//! What the admin API shows of a tenant: every setting, its state and when its tokens
//! expire; never a token, a token's MAC or its callback secret (masked as in `/admin/config`).

use serde_json::{json, Value};

use crate::otp::settings::TenantConfig;
use crate::tenants::TenantRecord;

const MASK: &str = "<redacted>";

/// `config` as in force, with its record when provisioned.
pub fn tenant(config: &TenantConfig, record: Option<&TenantRecord>, now: u64) -> Value {
    let mut v = serde_json::to_value(config).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), json!(config.id()));
        if config.callback_secret.is_some() {
            o.insert("callback_secret".into(), json!(MASK));
        }
        o.insert("suspended".into(), json!(config.suspended));
        o.insert(
            "source".into(),
            json!(if record.is_some() { "api" } else { "file" }),
        );
        // how many tokens open it, and until when (a rotation's overlap)
        let tokens: Vec<Value> = if config.provisioned() {
            config
                .stored_tokens
                .iter()
                .filter(|t| t.live_at(now))
                .map(|t| json!({ "expires_at": t.expires_at }))
                .collect()
        } else {
            vec![json!({ "expires_at": null })]
        };
        o.insert("tokens".into(), Value::Array(tokens));
        if let Some(r) = record {
            o.insert("created_at".into(), json!(r.created_at));
            o.insert("updated_at".into(), json!(r.updated_at));
            o.insert("revision".into(), json!(r.revision));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otp::token_index::TokenKey;

    #[test]
    fn no_token_nor_secret_is_shown() {
        let key = TokenKey::derive("pin-secret-0123456789");
        let config = TenantConfig {
            name: "shop".into(),
            token: "clear-token-123456".into(),
            callback_secret: Some("callback-secret-0123456".into()),
            ..TenantConfig::default()
        };
        let shown = tenant(&config, None, 0).to_string();
        let mut provisioned = config.clone();
        provisioned.token.clear();
        provisioned
            .stored_tokens
            .push(crate::otp::token_index::StoredToken {
                mac: key.mac("clear-token-123456"),
                expires_at: Some(50),
            });
        let shown_api = tenant(&provisioned, None, 10).to_string();
        for s in [&shown, &shown_api] {
            assert!(!s.contains("clear-token"), "{s}");
            assert!(!s.contains("callback-secret"), "{s}");
            assert!(
                !s.contains(&hex::encode(key.mac("clear-token-123456"))),
                "{s}"
            );
            assert!(s.contains(MASK), "{s}");
        }
        assert!(shown_api.contains("\"expires_at\":50"), "{shown_api}");
    }
}
