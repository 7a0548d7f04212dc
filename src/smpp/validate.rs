//! Every check of the `[[smsc]]` entries and `[engine]` settings, in one place above the types
//! they check, the TLV checks and the price table.

use super::config::{
    EngineSettings, SettingError, SmscConfig, MAX_QUERY_AFTER_S, MAX_RECEIPTS_IN_FLIGHT,
    MAX_SUBMIT_GATHER_MS,
};

fn check(ok: bool, field: String, message: &str) -> Result<(), SettingError> {
    if ok {
        Ok(())
    } else {
        Err(SettingError {
            field,
            message: message.to_string(),
        })
    }
}

/// Every check of the `[[smsc]]` entries and `[engine]` settings, done once: by the
/// configuration loader, and by [`SmppEngine::start`](super::SmppEngine::start) for callers
/// that build settings in code. Past it, the engine relies on the ranges it checks (at least
/// one bind, a window of at least one, timeouts above zero...). Messages never quote a
/// password.
pub fn validate(smscs: &[SmscConfig], engine: &EngineSettings) -> Result<(), SettingError> {
    check(
        smscs.len() <= super::router::MAX_SMSCS,
        "smsc".into(),
        "at most 64 [[smsc]] entries",
    )?;
    for (i, s) in smscs.iter().enumerate() {
        let f = |k: &str| format!("smsc[{i}].{k}");
        check(!s.name.trim().is_empty(), f("name"), "must not be empty")?;
        check(
            !smscs.iter().take(i).any(|o| o.name == s.name),
            f("name"),
            "duplicate SMSC name",
        )?;
        check(!s.host.trim().is_empty(), f("host"), "must not be empty")?;
        check(s.port > 0, f("port"), "must be > 0")?;
        check(
            s.system_id.len() <= 15,
            f("system_id"),
            "at most 15 characters",
        )?;
        check(
            s.password.len() <= 8,
            f("password"),
            "at most 8 characters (SMPP 3.4)",
        )?;
        check(
            s.system_type.len() <= 12,
            f("system_type"),
            "at most 12 characters",
        )?;
        check((1..=64).contains(&s.binds), f("binds"), "must be 1 to 64")?;
        check(
            (1..=10_000).contains(&s.window),
            f("window"),
            "must be 1 to 10000",
        )?;
        check(
            !s.routes.is_empty(),
            f("routes"),
            "must list at least one prefix",
        )?;
        for (j, r) in s.routes.iter().enumerate() {
            let ok = r
                .strip_prefix('+')
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
            check(
                ok,
                format!("smsc[{i}].routes[{j}]"),
                "must be + followed by digits",
            )?;
        }
        check(
            (1..=255).contains(&s.max_parts),
            f("max_parts"),
            "must be 1 to 255",
        )?;
        check(
            s.response_timeout_ms != Some(0),
            f("response_timeout_ms"),
            "must be above 0",
        )?;
        check(
            s.enquire_link_interval_ms != Some(0),
            f("enquire_link_interval_ms"),
            "must be above 0",
        )?;
        check(
            s.query_after_s <= MAX_QUERY_AFTER_S,
            f("query_after_s"),
            "must be 0 (off) to 86400",
        )?;
        super::tlv_checks::validate(s, i)?;
        for (prefix, price) in &s.prices {
            let field = format!("smsc[{i}].prices.{prefix:?}");
            check(
                super::pricing::valid_prefix(prefix),
                field.clone(),
                "must be + followed by at most 15 digits",
            )?;
            check(
                super::pricing::to_micros(*price).is_some(),
                field,
                "must be a price per part from 0 to 1000",
            )?;
        }
    }
    let e = engine;
    let f = |k: &str| format!("engine.{k}");
    check(
        e.queue_capacity >= 1,
        f("queue_capacity"),
        "must be at least 1",
    )?;
    check(e.max_attempts >= 1, f("max_attempts"), "must be at least 1")?;
    check(e.max_pdu_len >= 64, f("max_pdu_len"), "must be at least 64")?;
    check(
        (1..=MAX_RECEIPTS_IN_FLIGHT).contains(&e.receipts_in_flight),
        f("receipts_in_flight"),
        "must be between 1 and 4096",
    )?;
    check(
        e.submit_gather_ms <= MAX_SUBMIT_GATHER_MS,
        f("submit_gather_ms"),
        "must be at most 20",
    )?;
    check(
        e.max_consecutive_timeouts >= 1,
        f("max_consecutive_timeouts"),
        "must be at least 1",
    )?;
    for (field, v) in [
        ("bind_timeout_ms", e.bind_timeout_ms),
        ("response_timeout_ms", e.response_timeout_ms),
        ("enquire_link_interval_ms", e.enquire_link_interval_ms),
        ("enquire_link_timeout_ms", e.enquire_link_timeout_ms),
    ] {
        check(v > 0, f(field), "must be above 0")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_checked() {
        let ok: SmscConfig =
            toml::from_str("prices = { \"+44\" = 0.035, \"+\" = 0.05 }\n").unwrap();
        assert!(validate(&[ok], &EngineSettings::default()).is_ok());
        for bad in ["prices = { \"44\" = 0.03 }", "prices = { \"+44\" = -1.0 }"] {
            let c: SmscConfig = toml::from_str(bad).unwrap();
            let e = validate(&[c], &EngineSettings::default()).unwrap_err();
            assert!(e.field.starts_with("smsc[0].prices."), "{e}");
        }
    }

    #[test]
    fn defaults_pass_validation() {
        let smscs = [
            SmscConfig::default(),
            SmscConfig {
                name: "b".into(),
                ..SmscConfig::default()
            },
        ];
        assert_eq!(validate(&smscs, &EngineSettings::default()), Ok(()));
    }

    #[test]
    fn validation_names_the_field() {
        let field =
            |smscs: &[SmscConfig], e: &EngineSettings| validate(smscs, e).err().map(|e| e.field);
        let d = EngineSettings::default();
        let twice = [SmscConfig::default(), SmscConfig::default()];
        assert_eq!(field(&twice, &d).as_deref(), Some("smsc[1].name"));
        let no_binds = SmscConfig {
            binds: 0,
            ..SmscConfig::default()
        };
        assert_eq!(field(&[no_binds], &d).as_deref(), Some("smsc[0].binds"));
        let route = SmscConfig {
            routes: vec!["+".into(), "44x".into()],
            ..SmscConfig::default()
        };
        assert_eq!(field(&[route], &d).as_deref(), Some("smsc[0].routes[1]"));
        let override0 = SmscConfig {
            response_timeout_ms: Some(0),
            ..SmscConfig::default()
        };
        assert_eq!(
            field(&[override0], &d).as_deref(),
            Some("smsc[0].response_timeout_ms")
        );
        let query = SmscConfig {
            query_after_s: 86_401,
            ..SmscConfig::default()
        };
        assert_eq!(
            field(&[query], &d).as_deref(),
            Some("smsc[0].query_after_s")
        );
        let e = EngineSettings {
            max_consecutive_timeouts: 0,
            ..EngineSettings::default()
        };
        assert_eq!(
            field(&[], &e).as_deref(),
            Some("engine.max_consecutive_timeouts")
        );
        for receipts_in_flight in [0, MAX_RECEIPTS_IN_FLIGHT + 1] {
            let e = EngineSettings {
                receipts_in_flight,
                ..EngineSettings::default()
            };
            assert_eq!(field(&[], &e).as_deref(), Some("engine.receipts_in_flight"));
        }
        let e = EngineSettings {
            submit_gather_ms: MAX_SUBMIT_GATHER_MS + 1,
            ..EngineSettings::default()
        };
        assert_eq!(field(&[], &e).as_deref(), Some("engine.submit_gather_ms"));
        let e = EngineSettings {
            submit_gather_ms: 0,
            ..EngineSettings::default()
        };
        assert_eq!(field(&[], &e), None);
    }
}
