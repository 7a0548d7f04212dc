//! Loading the configuration: TOML text, then `OTPGATE_SECTION__KEY` environment overrides,
//! then typed deserialization and validation, every error naming the field at fault.

use crate::otp::phone::{NumberType, NumberTypes};
use std::path::Path;

use super::error::ConfigError;
use super::regulatory::valid_country;
use super::{Config, StoreKind};
use crate::otp::identity::{self, IdProblem};
use crate::otp::{language, sender};

/// Reads `path`, applies the process environment, validates, and refuses a file that would
/// fall back to the demo without asking for it.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let config = load_str(&text, std::env::vars())?;
    config.check_not_demo_by_accident()?;
    Ok(config)
}

pub(super) fn check_not_demo_by_accident(c: &Config) -> Result<(), ConfigError> {
    if c.demo.enabled {
        return Ok(());
    }
    let missing: Vec<&str> = [
        (c.tenants.is_empty(), "no [[tenants]] (API clients)"),
        (c.smsc.is_empty(), "no [[smsc]] (SMSC connections)"),
    ]
    .into_iter()
    .filter_map(|(absent, what)| absent.then_some(what))
    .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ConfigError::Incomplete(format!(
        "{} configured: refusing to start the demo (embedded SMSC simulator, temporary `demo` \
         tenant) from a configuration file; add them, or set [demo] enabled = true to ask for \
         the demo",
        missing.join(" and ")
    )))
}

/// Parses `text`, applies the `OTPGATE_*` variables of `env`, validates.
pub fn load_str(
    text: &str,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table = parse_table(text)?;
    apply_env_overrides(&mut table, env)?;
    from_table(table)
}

/// The TOML table of `text`, a syntax error located without quoting the line.
pub(super) fn parse_table(text: &str) -> Result<toml::Table, ConfigError> {
    text.parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax(syntax_message(text, &e)))
}

/// The typed, validated configuration of `table` (environment overrides already applied).
pub(super) fn from_table(table: toml::Table) -> Result<Config, ConfigError> {
    let value = toml::Value::Table(table);
    let config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let message = if holds_secret(&field) {
            // The message would quote the value (`invalid type: integer 1234`).
            "invalid value (not shown: this field holds a secret)".to_owned()
        } else {
            e.into_inner().to_string()
        };
        ConfigError::invalid(field, message)
    })?;
    config.validate()?;
    Ok(config)
}

/// Fields whose values are credentials or keys: never quoted in an error.
const SECRET_FIELDS: [&str; 7] = [
    "token",
    "read_token",
    "password",
    "pin_secret",
    "callback_secret",
    "url",
    "metrics_token",
];

fn holds_secret(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    SECRET_FIELDS.contains(&last)
}

/// A TOML syntax error as line, column and reason, without the source line it would quote
/// (which may be a password or a token).
fn syntax_message(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {}", e.message())
        }
        None => e.message().to_owned(),
    }
}

/// `OTPGATE_HTTP__LISTEN=0.0.0.0:80` sets `http.listen`; `OTPGATE_TENANTS__0__TOKEN` sets
/// the first tenant's token. The value keeps the type of the value it replaces (a string stays
/// a string); a new key is read as a TOML literal, or as a string when it is not one.
pub fn apply_env_overrides(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix("OTPGATE_") else {
            continue;
        };
        if !rest.contains("__") {
            continue; // OTPGATE_CONFIG and friends belong to the command line
        }
        let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        set_path(table, &path, &raw).map_err(|m| ConfigError::invalid(name.clone(), m))?;
    }
    Ok(())
}

fn literal(raw: &str, old: Option<&toml::Value>) -> toml::Value {
    if let Some(toml::Value::String(_)) = old {
        return toml::Value::String(raw.to_owned());
    }
    let parsed: Result<toml::Table, _> = format!("v = {raw}").parse();
    match parsed.ok().and_then(|mut t| t.remove("v")) {
        Some(v) => v,
        None => toml::Value::String(raw.to_owned()),
    }
}

fn set_path(table: &mut toml::Table, path: &[String], raw: &str) -> Result<(), String> {
    let Some((head, tail)) = path.split_first() else {
        return Err("empty key".into());
    };
    if tail.is_empty() {
        let v = literal(raw, table.get(head));
        table.insert(head.clone(), v);
        return Ok(());
    }
    let entry = table
        .entry(head.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match entry {
        toml::Value::Table(t) => set_path(t, tail, raw),
        toml::Value::Array(items) => {
            let (idx, tail2) = tail.split_first().ok_or("missing array index")?;
            let i: usize = idx
                .parse()
                .map_err(|_| format!("`{idx}` is not an index"))?;
            if i > items.len() {
                return Err(format!(
                    "index {i} skips entries (array has {})",
                    items.len()
                ));
            }
            if i == items.len() {
                items.push(toml::Value::Table(toml::Table::new()));
            }
            match items.get_mut(i) {
                Some(toml::Value::Table(t)) if !tail2.is_empty() => set_path(t, tail2, raw),
                _ => Err("not a table of an array of tables".into()),
            }
        }
        _ => Err(format!("`{head}` is not a table")),
    }
}

fn check(ok: bool, field: impl Into<String>, message: &str) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::invalid(field, message))
    }
}

/// `[[tenants]] smscs` and `route_preference` name configured SMSCs (the embedded simulator
/// of the demo mode is `embedded-sim`), each once, the preferred ones among the allowed.
fn validate_tenant_smscs(c: &Config, i: usize) -> Result<(), ConfigError> {
    let Some(t) = c.tenants.get(i) else {
        return Ok(());
    };
    let known = |name: &str| {
        c.smsc.iter().any(|s| s.name == name) || (c.smsc.is_empty() && name == "embedded-sim")
    };
    for (key, list) in [
        ("smscs", &t.smscs),
        ("route_preference", &t.route_preference),
    ] {
        for (j, name) in list.iter().enumerate() {
            let field = format!("tenants[{i}].{key}[{j}]");
            check(known(name), field.clone(), "no [[smsc]] has this name")?;
            check(
                !list.iter().take(j).any(|o| o == name),
                field.clone(),
                "listed twice",
            )?;
            if key == "route_preference" {
                check(
                    t.smscs.is_empty() || t.smscs.contains(name),
                    field,
                    "not among the tenant's smscs",
                )?;
            }
        }
    }
    Ok(())
}

/// `[http]` TLS and CORS keys, and the tenants' narrowing of the CORS origins.
fn validate_tls_and_cors(c: &Config) -> Result<(), ConfigError> {
    let h = &c.http;
    check(
        h.tls_cert.is_some() == h.tls_key.is_some(),
        if h.tls_cert.is_some() {
            "http.tls_key"
        } else {
            "http.tls_cert"
        },
        "http.tls_cert and http.tls_key go together",
    )?;
    check(
        h.tls_handshake_timeout_ms > 0,
        "http.tls_handshake_timeout_ms",
        "must be > 0",
    )?;
    check(
        h.http2_max_concurrent_streams > 0,
        "http.http2_max_concurrent_streams",
        "must be > 0",
    )?;
    let origin_rule = "must be an origin as a browser sends it: scheme://host[:port], \
                       http or https, lower case, no path or trailing slash (no `*`)";
    for (i, o) in h.cors_allowed_origins.iter().enumerate() {
        let field = format!("http.cors_allowed_origins[{i}]");
        check(crate::http::cors::valid_origin(o), field, origin_rule)?;
    }
    for (i, t) in c.tenants.iter().enumerate() {
        for (j, o) in t.cors_allowed_origins.iter().enumerate() {
            let field = format!("tenants[{i}].cors_allowed_origins[{j}]");
            check(
                crate::http::cors::valid_origin(o),
                field.clone(),
                origin_rule,
            )?;
            check(
                h.cors_allowed_origins.contains(o),
                field,
                "must also be in http.cors_allowed_origins (a tenant narrows that list)",
            )?;
        }
    }
    Ok(())
}

pub(super) fn validate(c: &Config) -> Result<(), ConfigError> {
    c.listen_addr()?;
    if let Some((field, message)) = c.cluster.problem() {
        return Err(ConfigError::invalid(field, message));
    }
    let h = &c.http;
    check(
        (256..=16 * 1024 * 1024).contains(&h.body_limit_bytes),
        "http.body_limit_bytes",
        "must be 256..=16777216",
    )?;
    check(
        h.request_timeout_ms > 0,
        "http.request_timeout_ms",
        "must be > 0",
    )?;
    check(h.max_in_flight > 0, "http.max_in_flight", "must be > 0")?;
    check(h.retry_after_s > 0, "http.retry_after_s", "must be > 0")?;
    check(
        h.header_read_timeout_ms > 0,
        "http.header_read_timeout_ms",
        "must be > 0",
    )?;
    check(h.max_connections > 0, "http.max_connections", "must be > 0")?;
    check(
        (8192..=1024 * 1024).contains(&h.max_header_bytes),
        "http.max_header_bytes",
        "must be 8192..=1048576",
    )?;
    check(
        h.idle_timeout_ms > h.request_timeout_ms,
        "http.idle_timeout_ms",
        "must be > http.request_timeout_ms (a slow answer is not a stalled client)",
    )?;
    check(
        h.max_connection_age_ms == 0 || h.max_connection_age_ms >= 1000,
        "http.max_connection_age_ms",
        "must be 0 (no limit) or >= 1000",
    )?;
    if let Some(t) = &h.metrics_token {
        check(
            (16..=512).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_graphic()),
            "http.metrics_token",
            "must be 16-512 printable ASCII characters without spaces",
        )?;
        check(
            c.tenants.iter().all(|tenant| tenant.token != *t),
            "http.metrics_token",
            "must differ from every tenant's token",
        )?;
    }

    validate_tls_and_cors(c)?;

    let mut names = std::collections::HashSet::new();
    let mut tokens = std::collections::HashSet::new();
    for (i, t) in c.tenants.iter().enumerate() {
        let f = |k: &str| format!("tenants[{i}].{k}");
        check(!t.name.is_empty(), f("name"), "must not be empty")?;
        if let Some(Err(e)) = t.credit.map(|c| c.check()) {
            check(false, f("credit"), e)?;
        }
        check(names.insert(&t.name), f("name"), "duplicate tenant name")?;
        if let Some(id) = &t.id {
            check(
                identity::valid_id(id),
                f("id"),
                "must be 1-64 ASCII letters, digits, '.', '_' or '-'",
            )?;
        }
        // a provisioned tenant's tokens were checked when given, and are only MACs now
        if !t.provisioned() {
            check_token(&t.token, f("token"))?;
            check(
                tokens.insert(&t.token),
                f("token"),
                "token used by two tenants",
            )?;
        }
        for (j, s) in t.allowed_senders.iter().enumerate() {
            check(
                sender::parse_sender(s).is_ok(),
                f(&format!("allowed_senders[{j}]")),
                "not a valid sender ID",
            )?;
        }
        if !t.default_sender.is_empty() {
            check(
                sender::parse_sender(&t.default_sender).is_ok(),
                f("default_sender"),
                "not a valid sender ID",
            )?;
        }
        for (j, cc) in t.allowed_countries.iter().enumerate() {
            check(
                valid_country(cc),
                f(&format!("allowed_countries[{j}]")),
                "not an ISO 3166 alpha-2 code (upper case)",
            )?;
        }
        for (j, cc) in t.denied_countries.iter().enumerate() {
            check(
                valid_country(cc),
                f(&format!("denied_countries[{j}]")),
                "not an ISO 3166 alpha-2 code (upper case)",
            )?;
        }
        if let Some(s) = &t.callback_secret {
            check(
                s.len() >= 16,
                f("callback_secret"),
                "must be at least 16 bytes",
            )?;
        }
        validate_tenant_smscs(c, i)?;
    }

    let o = &c.otp;
    check(
        o.default_template.contains("{{pin}}"),
        "otp.default_template",
        "must contain {{pin}}",
    )?;
    for (lang, tpl) in &o.templates {
        let f = format!("otp.templates.{lang}");
        check(language::valid_code(lang), f.clone(), "not a language code")?;
        check(tpl.contains("{{pin}}"), f, "must contain {{pin}}")?;
    }
    check(
        sender::parse_sender(&o.default_sender).is_ok(),
        "otp.default_sender",
        "not a valid sender ID (3-11 GSM characters, or up to 15 digits)",
    )?;
    check(
        (60..=1800).contains(&o.default_ttl_s),
        "otp.default_ttl_s",
        "must be 60..=1800",
    )?;
    check(
        (1..=10).contains(&o.default_max_attempts),
        "otp.default_max_attempts",
        "must be 1..=10",
    )?;
    check(
        (4..=10).contains(&o.default_pin_length),
        "otp.default_pin_length",
        "must be 4..=10",
    )?;
    check(o.max_segments >= 1, "otp.max_segments", "must be >= 1")?;
    check(
        o.price_per_part.is_finite() && o.price_per_part >= 0.0,
        "otp.price_per_part",
        "must be a number >= 0",
    )?;
    check(
        o.currency.len() == 3 && o.currency.bytes().all(|b| b.is_ascii_uppercase()),
        "otp.currency",
        "must be an ISO 4217 code: three capital letters (EUR, USD)",
    )?;
    check(o.max_live >= 1, "otp.max_live", "must be >= 1")?;
    check(
        (1..=3_600).contains(&o.receipt_hold_s),
        "otp.receipt_hold_s",
        "must be 1..=3600",
    )?;
    check(
        (1..=10_000_000).contains(&o.receipt_hold_max),
        "otp.receipt_hold_max",
        "must be 1..=10000000",
    )?;
    check(
        (1..=64).contains(&o.phone_parse_threads),
        "otp.phone_parse_threads",
        "must be 1..=64",
    )?;
    check(
        (1..=60_000).contains(&o.phone_parse_wait_ms),
        "otp.phone_parse_wait_ms",
        "must be 1..=60000",
    )?;

    check_tenant_ids(c)?;

    let l = &c.limits;
    check(
        c.tenants.len() <= crate::otp::tenant::LimitKey::MAX_TENANTS,
        "tenants",
        "at most 1048576 tenants",
    )?;
    check_metric_labels(c)?;
    check(
        (l.per_number == 0 && l.per_number_global == 0) || l.per_number_window_s > 0,
        "limits.per_number_window_s",
        "must be > 0",
    )?;
    check(
        l.idempotency_ttl_s > 0,
        "limits.idempotency_ttl_s",
        "must be > 0",
    )?;
    let a = &c.abuse;
    check(
        a.prefix_digits <= 12,
        "abuse.prefix_digits",
        "must be 0..=12",
    )?;
    check(
        a.prefix_window_s > 0,
        "abuse.prefix_window_s",
        "must be > 0",
    )?;
    for cc in a.country_daily_caps.keys() {
        check(
            valid_country(cc),
            format!("abuse.country_daily_caps.{cc}"),
            "not an ISO 3166 alpha-2 code (upper case)",
        )?;
    }
    check(
        (0.0..=1.0).contains(&a.conversion_min_ratio),
        "abuse.conversion_min_ratio",
        "must be 0.0..=1.0",
    )?;
    check(
        a.conversion_min_sample >= 1,
        "abuse.conversion_min_sample",
        "must be >= 1",
    )?;
    check(
        a.conversion_window_s > 0,
        "abuse.conversion_window_s",
        "must be > 0",
    )?;
    check(
        a.max_tracked_prefixes >= 1,
        "abuse.max_tracked_prefixes",
        "must be >= 1",
    )?;
    let cb = &c.callbacks;
    check(cb.timeout_ms > 0, "callbacks.timeout_ms", "must be > 0")?;
    check(cb.flush_ms > 0, "callbacks.flush_ms", "must be > 0")?;
    check(
        cb.queue_capacity >= 1,
        "callbacks.queue_capacity",
        "must be >= 1",
    )?;
    // Above queue_capacity the cap never bites: allowed, the capacity bounds it anyway.
    check(
        cb.queue_per_tenant >= 1,
        "callbacks.queue_per_tenant",
        "must be >= 1",
    )?;
    check(cb.concurrency >= 1, "callbacks.concurrency", "must be >= 1")?;
    check(
        cb.retry_base_ms > 0 && cb.retry_base_ms <= cb.retry_max_ms,
        "callbacks.retry_base_ms",
        "must be > 0 and <= retry_max_ms",
    )?;
    check(
        cb.resolve_timeout_ms > 0,
        "callbacks.resolve_timeout_ms",
        "must be > 0",
    )?;
    check(
        (1..=1024).contains(&cb.resolve_concurrency),
        "callbacks.resolve_concurrency",
        "must be 1..=1024",
    )?;
    check(
        (1..=200).contains(&c.callbacks.batch_max),
        "callbacks.batch_max",
        "must be 1..=200",
    )?;
    check(
        (1..=3660).contains(&c.store.usage_retention_days),
        "store.usage_retention_days",
        "must be 1..=3660",
    )?;
    if c.store.kind == StoreKind::Redis {
        let redis_url = |u: &str| {
            url::Url::parse(u)
                .map(|u| matches!(u.scheme(), "redis" | "rediss"))
                .unwrap_or(false)
        };
        if c.store.cluster_nodes.is_empty() {
            check(
                redis_url(&c.store.url),
                "store.url",
                "must be a redis:// or rediss:// URL",
            )?;
        }
        for (i, n) in c.store.cluster_nodes.iter().enumerate() {
            check(
                redis_url(n),
                format!("store.cluster_nodes[{i}]"),
                "must be a redis:// or rediss:// URL",
            )?;
        }
        check(
            !c.store.key_prefix.is_empty() && !c.store.key_prefix.contains(['{', '}']),
            "store.key_prefix",
            "must be non-empty, without braces",
        )?;
        check(
            (1..=60_000).contains(&c.store.timeout_ms),
            "store.timeout_ms",
            "must be 1..=60000",
        )?;
        check(
            c.security.pin_secret.is_some(),
            "security.pin_secret",
            "is required with store.kind = \"redis\": every node must hash PINs with the same key",
        )?;
    }
    if let Some(s) = &c.security.pin_secret {
        check(
            s.len() >= 16,
            "security.pin_secret",
            "must be at least 16 bytes",
        )?;
    }

    c.admin
        .check()
        .map_err(|(field, message)| ConfigError::invalid(field, message))?;
    if let Some(admin) = &c.admin.token {
        // a tenant token must never open the admin listener
        for (i, t) in c.tenants.iter().enumerate() {
            check(
                Some(&t.token) != Some(admin) && Some(&t.token) != c.admin.read_token.as_ref(),
                format!("tenants[{i}].token"),
                "must differ from admin.token and admin.read_token",
            )?;
        }
    }

    // The SMPP settings have one set of checks, shared with the engine.
    crate::smpp::validate(&c.smsc, &c.engine)
        .map_err(|e| ConfigError::invalid(e.field, e.message))?;
    super::regulatory::validate(c)
}

pub(super) fn summary(c: &Config) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "http.listen = {}", c.http.listen);
    match (&c.http.tls_cert, &c.http.tls_key) {
        (Some(cert), Some(key)) => {
            let _ = writeln!(
                s,
                "http.tls: HTTPS (HTTP/2 and HTTP/1.1), cert={} key={}",
                cert.display(),
                key.display()
            );
        }
        _ => {
            let _ = writeln!(s, "http.tls: off (cleartext HTTP/1.1 and HTTP/2)");
        }
    }
    if !c.http.cors_allowed_origins.is_empty() {
        let _ = writeln!(
            s,
            "http.cors_allowed_origins = {:?}",
            c.http.cors_allowed_origins
        );
    }
    let _ = writeln!(s, "tenants ({}):", c.tenants.len());
    for t in &c.tenants {
        let _ = writeln!(
            s,
            "  {} id={} token=<redacted> rate={}/s senders={:?} allow={:?} deny={:?}",
            t.name,
            t.id(),
            t.rate_limit_per_s,
            t.allowed_senders,
            t.allowed_countries,
            t.denied_countries
        );
        let types = NumberTypes::or_default(&t.number_types);
        let accepted: Vec<&str> = NumberType::ALL
            .iter()
            .filter(|k| types.contains(**k))
            .map(|k| k.as_str())
            .collect();
        let _ = writeln!(
            s,
            "    number_types={accepted:?} smscs={:?} route_preference={:?}",
            t.smscs, t.route_preference
        );
    }
    let _ = writeln!(
        s,
        "otp: sender={} ttl={}s attempts={} pin={}x{} max_segments={}",
        c.otp.default_sender,
        c.otp.default_ttl_s,
        c.otp.default_max_attempts,
        c.otp.default_pin_type.as_str(),
        c.otp.default_pin_length,
        c.otp.max_segments
    );
    let _ = writeln!(s, "smsc ({}):", c.smsc.len());
    for m in &c.smsc {
        let _ = writeln!(
            s,
            "  {} {}:{} system_id={} password=<redacted> binds={} window={} tps={} routes={:?}",
            m.name, m.host, m.port, m.system_id, m.binds, m.window, m.tps, m.routes
        );
    }
    let _ = writeln!(
        s,
        "limits: {} per number and tenant, {} per number (0 = off) per {}s",
        c.limits.per_number, c.limits.per_number_global, c.limits.per_number_window_s
    );
    let _ = writeln!(s, "{}", super::regulatory::summary(c));
    match &c.admin.listen {
        Some(listen) => {
            let read = if c.admin.read_token.is_some() {
                " read_token=<redacted>"
            } else {
                ""
            };
            let _ = writeln!(s, "admin.listen = {listen} token=<redacted>{read}");
        }
        None => {
            let _ = writeln!(s, "admin: off (no admin.listen)");
        }
    }
    let _ = writeln!(s, "store: {:?}", c.store.kind);
    if let Some(dir) = &c.store.state_dir {
        let _ = writeln!(s, "store.state_dir = {}", dir.display());
    }
    let secret = if c.security.pin_secret.is_some() {
        "<redacted>"
    } else {
        "<unset: generated at start>"
    };
    let _ = writeln!(s, "security.pin_secret = {secret}");
    if c.demo.enabled {
        let _ = writeln!(
            s,
            "demo: enabled (embedded SMSC simulator without [[smsc]], `demo` tenant without [[tenants]])"
        );
    }
    s
}

/// What a tenant token must be (in the file, or given to the admin API).
pub fn check_token(token: &str, field: String) -> Result<(), ConfigError> {
    check(
        token.len() >= 8,
        field.clone(),
        "must be at least 8 characters",
    )?;
    check(
        token.len() <= 512,
        field.clone(),
        "must be at most 512 characters (longer ones are never read)",
    )?;
    check(
        token.bytes().all(|b| b.is_ascii_graphic()),
        field,
        "must be printable ASCII without spaces",
    )
}

/// No tenant with series of its own has the label the others share.
fn check_metric_labels(c: &Config) -> Result<(), ConfigError> {
    let count = c.tenants.len();
    let other = crate::telemetry::names::labels::TENANT_OTHER;
    let some_share = c.tenants.iter().any(|t| !t.has_own_metrics(count));
    let clash = c
        .tenants
        .iter()
        .position(|t| t.id() == other && t.has_own_metrics(count));
    match clash {
        Some(i) if some_share => Err(ConfigError::invalid(
            format!("tenants[{i}].metrics"),
            "this tenant's id is `other`, the metric label the tenants without series of their \
             own share: set `metrics = false` on it or give it another id",
        )),
        _ => Ok(()),
    }
}

/// Every tenant's identity (its `id`, or its name) tells it apart from the others, also in
/// its stored 4-byte form.
fn check_tenant_ids(c: &Config) -> Result<(), ConfigError> {
    let field = |i: usize| {
        let explicit = c.tenants.get(i).is_some_and(|t| t.id.is_some());
        let key = if explicit { "id" } else { "name" };
        format!("tenants[{i}].{key}")
    };
    match identity::check_ids(c.tenants.iter().map(|t| t.id())) {
        Ok(()) => Ok(()),
        Err(IdProblem::Duplicate { first, second }) => Err(ConfigError::invalid(
            field(second),
            format!(
                "duplicate tenant id (the same as {}; a tenant's id is its name unless set)",
                field(first)
            ),
        )),
        Err(IdProblem::TagCollision { first, second }) => Err(ConfigError::invalid(
            field(second),
            format!(
                "this id's stored tag (4 bytes) equals that of {}: change the id of one of \
                 them (e.g. add a suffix) before it has stored OTPs",
                field(first)
            ),
        )),
        Err(IdProblem::ReservedTag(i)) => Err(ConfigError::invalid(
            field(i),
            "this id's stored tag is reserved: choose another id",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_national(list: &str) -> Result<Config, ConfigError> {
        let text =
            format!("[[smsc]]\nname = \"a\"\nhost = \"127.0.0.1\"\nnational_languages = {list}\n");
        load_str(&text, std::iter::empty())
    }

    #[test]
    fn national_languages_are_checked() {
        assert!(with_national(r#"["hindi", "ta", "Urdu", "assamese", "turkish"]"#).is_ok());
        let err = with_national(r#"["hindi", "marathi"]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("smsc[0].national_languages[1]"), "{err}");
    }

    #[test]
    fn the_usage_retention_is_checked() {
        let of = |n: &str| {
            load_str(
                &format!("[store]\nusage_retention_days = {n}\n"),
                std::iter::empty(),
            )
        };
        assert_eq!(
            load_str("", std::iter::empty())
                .map(|c| c.store.usage_retention_days)
                .ok(),
            Some(400)
        );
        assert_eq!(
            of("31").map(|c| c.store.usage_retention_days).ok(),
            Some(31)
        );
        for bad in ["0", "3661"] {
            let err = of(bad).unwrap_err().to_string();
            assert!(err.contains("store.usage_retention_days"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_callback_queue_per_tenant_is_checked() {
        let of = |n: &str| {
            load_str(
                &format!("[callbacks]\nqueue_per_tenant = {n}\n"),
                std::iter::empty(),
            )
        };
        assert_eq!(of("5").map(|c| c.callbacks.queue_per_tenant).ok(), Some(5));
        let err = of("0").unwrap_err().to_string();
        assert!(err.contains("callbacks.queue_per_tenant"), "{err}");
    }

    #[test]
    fn tenant_smscs_and_number_types_are_checked() {
        let of = |tenant: &str| {
            let text = format!(
                "[[smsc]]\nname = \"a\"\nhost = \"127.0.0.1\"\n[[smsc]]\nname = \"b\"\nhost = \"127.0.0.1\"\n\
                 [[tenants]]\nname = \"t\"\ntoken = \"tenant-token\"\n{tenant}\n"
            );
            load_str(&text, std::iter::empty()).map_err(|e| e.to_string())
        };
        let ok = of(
            "smscs = [\"a\", \"b\"]\nroute_preference = [\"b\"]\nnumber_types = [\"fixed_line\"]",
        );
        let ok = ok.unwrap();
        assert_eq!(ok.tenants[0].route_preference, vec!["b".to_string()]);
        assert!(of("").unwrap().tenants[0].number_types.is_empty());
        for (tenant, field) in [
            ("smscs = [\"c\"]", "tenants[0].smscs[0]"),
            ("smscs = [\"a\", \"a\"]", "tenants[0].smscs[1]"),
            (
                "route_preference = [\"c\"]",
                "tenants[0].route_preference[0]",
            ),
            (
                "smscs = [\"a\"]\nroute_preference = [\"b\"]",
                "tenants[0].route_preference[0]",
            ),
        ] {
            let err = of(tenant).unwrap_err();
            assert!(err.contains(field), "{tenant}: {err}");
        }
        let err = of("number_types = [\"satellite\"]").unwrap_err();
        assert!(
            err.contains("number_types") || err.contains("satellite"),
            "{err}"
        );
    }
}
