//! The effective configuration as JSON for the admin API (`GET /admin/config`), every secret
//! masked: tenant tokens, callback secrets, SMSC passwords, admin tokens, the metrics token,
//! the PIN key and the password of a Redis URL.

use serde_json::{json, Value};

use super::Config;

const MASK: &str = "<redacted>";

fn masked(secret: &Option<String>) -> Value {
    secret.as_ref().map_or(Value::Null, |_| json!(MASK))
}

/// A Redis URL without its password (`redis://user:<redacted>@host`).
fn url_without_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some(MASK));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => MASK.into(),
    }
}

pub(super) fn masked_json(c: &Config) -> Value {
    let e = &c.engine;
    json!({
        "http": {
            "listen": c.http.listen,
            "tls": c.http.tls_cert.is_some() && c.http.tls_key.is_some(),
            "tls_cert": c.http.tls_cert,
            "tls_key": c.http.tls_key,
            "body_limit_bytes": c.http.body_limit_bytes,
            "request_timeout_ms": c.http.request_timeout_ms,
            "max_in_flight": c.http.max_in_flight,
            "max_connections": c.http.max_connections,
            "max_connections_per_ip": c.http.max_connections_per_ip,
            "metrics_token": masked(&c.http.metrics_token),
            "cors_allowed_origins": c.http.cors_allowed_origins,
        },
        "admin": {
            "listen": c.admin.listen,
            "token": masked(&c.admin.token),
            "read_token": masked(&c.admin.read_token),
        },
        "store": {
            "kind": c.store.kind,
            "url": url_without_password(&c.store.url),
            "cluster_nodes": c.store.cluster_nodes.iter().map(|n| url_without_password(n)).collect::<Vec<_>>(),
            "key_prefix": c.store.key_prefix,
            "timeout_ms": c.store.timeout_ms,
            "state_dir": c.store.state_dir,
            "usage_retention_days": c.store.usage_retention_days,
        },
        "security": { "pin_secret": masked(&c.security.pin_secret) },
        "tenants": c.tenants.iter().map(|t| json!({
            "name": t.name,
            "id": t.id(),
            "token": MASK,
            "callback_secret": masked(&t.callback_secret),
            "rate_limit_per_s": t.rate_limit_per_s,
            "rate_limit_burst": t.rate_limit_burst,
            "allowed_senders": t.allowed_senders,
            "default_sender": t.default_sender,
            "allowed_countries": t.allowed_countries,
            "denied_countries": t.denied_countries,
            "cors_allowed_origins": t.cors_allowed_origins,
            "smscs": t.smscs,
            "route_preference": t.route_preference,
        })).collect::<Vec<_>>(),
        "smsc": c.smsc.iter().map(|m| json!({
            "name": m.name,
            "host": m.host,
            "port": m.port,
            "system_id": m.system_id,
            "password": MASK,
            "system_type": m.system_type,
            "bind_mode": format!("{:?}", m.bind_mode),
            "binds": m.binds,
            "window": m.window,
            "tps": m.tps,
            "routes": m.routes,
            "priority": m.priority,
            "weight": m.weight,
            "max_parts": m.max_parts,
            "response_timeout_ms": m.response_timeout_ms,
            "enquire_link_interval_ms": m.enquire_link_interval_ms,
            "query_after_s": m.query_after_s,
        })).collect::<Vec<_>>(),
        "engine": {
            "queue_capacity": e.queue_capacity,
            "retry_after_ms": e.retry_after_ms,
            "connect_timeout_ms": e.connect_timeout_ms,
            "bind_timeout_ms": e.bind_timeout_ms,
            "response_timeout_ms": e.response_timeout_ms,
            "timeout_policy": format!("{:?}", e.timeout_policy),
            "max_consecutive_timeouts": e.max_consecutive_timeouts,
            "enquire_link_interval_ms": e.enquire_link_interval_ms,
            "enquire_link_timeout_ms": e.enquire_link_timeout_ms,
            "reconnect_min_ms": e.reconnect_min_ms,
            "reconnect_max_ms": e.reconnect_max_ms,
            "max_attempts": e.max_attempts,
            "failover_after_attempts": e.failover_after_attempts,
            "failover_after_ms": e.failover_after_ms,
            "no_route_after_ms": e.no_route_after_ms,
            "submit_gather_ms": e.submit_gather_ms,
        },
        "otp": {
            "default_sender": c.otp.default_sender,
            "default_ttl_s": c.otp.default_ttl_s,
            "default_max_attempts": c.otp.default_max_attempts,
            "default_pin_length": c.otp.default_pin_length,
            "max_segments": c.otp.max_segments,
            "max_live": c.otp.max_live,
        },
        "limits": {
            "per_number": c.limits.per_number,
            "per_number_global": c.limits.per_number_global,
            "per_number_window_s": c.limits.per_number_window_s,
        },
        "demo": { "enabled": c.demo.enabled },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AdminConfig, SmscConfig, TenantConfig};

    #[test]
    fn no_secret_shows() {
        let mut c = Config::default();
        c.tenants.push(TenantConfig {
            name: "shop".into(),
            token: "tenant-secret-token".into(),
            callback_secret: Some("callback-secret-value".into()),
            ..TenantConfig::default()
        });
        c.smsc.push(SmscConfig {
            password: "smsc-password-value".into(),
            ..SmscConfig::default()
        });
        c.admin = AdminConfig {
            listen: Some("127.0.0.1:0".into()),
            token: Some("admin-write-token-value".into()),
            read_token: Some("admin-read-token-value".into()),
        };
        c.http.metrics_token = Some("metrics-token-value".into());
        c.security.pin_secret = Some("pin-secret-value-0123".into());
        c.store.url = "redis://user:redis-password-value@redis.example:6379/0".into();
        let text = masked_json(&c).to_string();
        for secret in [
            "tenant-secret-token",
            "callback-secret-value",
            "smsc-password-value",
            "admin-write-token-value",
            "admin-read-token-value",
            "metrics-token-value",
            "pin-secret-value-0123",
            "redis-password-value",
        ] {
            assert!(!text.contains(secret), "{secret} shows in {text}");
        }
        assert!(text.contains("redis.example"), "{text}");
        assert!(text.contains("\"shop\""), "{text}");
    }
}
