//! What changed between two readings of the configuration, on its TOML tables (after the
//! environment overrides): the settings that cannot change while running, the tenants by
//! identity, and the environment overrides that now hide a value changed in the file.

use std::collections::BTreeSet;

use toml::{Table, Value};

use crate::config::Config;

/// Puts the running value of one restart-only setting back into a newly read configuration.
type KeepRunning = fn(&mut Config, &Config);

/// Sections only a restart applies: listeners, store, keys, logging, the engine's own
/// settings, the callback queue and task, the pumping guard's counters. Each with how its
/// running value is kept, so that what is reported and what is kept cannot drift apart.
const RESTART_SECTIONS: [(&str, KeepRunning); 10] = [
    ("http", |n, r| n.http = r.http.clone()),
    ("admin", |n, r| n.admin = r.admin.clone()),
    ("cluster", |n, r| n.cluster = r.cluster.clone()),
    ("store", |n, r| n.store = r.store.clone()),
    ("security", |n, r| n.security = r.security.clone()),
    ("log", |n, r| n.log = r.log.clone()),
    ("engine", |n, r| n.engine = r.engine.clone()),
    ("demo", |n, r| n.demo = r.demo.clone()),
    ("callbacks", |n, r| n.callbacks = r.callbacks.clone()),
    ("abuse", |n, r| n.abuse = r.abuse.clone()),
];

/// `[otp]` keys sized or read once at start (the store, the parse pool, the sink).
const RESTART_OTP_KEYS: [(&str, KeepRunning); 7] = [
    ("max_live", |n, r| n.otp.max_live = r.otp.max_live),
    ("retain_after_expiry_s", |n, r| {
        n.otp.retain_after_expiry_s = r.otp.retain_after_expiry_s
    }),
    ("receipt_hold_s", |n, r| {
        n.otp.receipt_hold_s = r.otp.receipt_hold_s
    }),
    ("receipt_hold_max", |n, r| {
        n.otp.receipt_hold_max = r.otp.receipt_hold_max
    }),
    ("phone_parse_threads", |n, r| {
        n.otp.phone_parse_threads = r.otp.phone_parse_threads
    }),
    ("phone_parse_wait_ms", |n, r| {
        n.otp.phone_parse_wait_ms = r.otp.phone_parse_wait_ms
    }),
    ("price_per_part", |n, r| {
        n.otp.price_per_part = r.otp.price_per_part
    }),
];

/// Gives `new` the running value of every restart-only setting.
pub fn keep_restart_only(new: &mut Config, running: &Config) {
    for (_, keep) in RESTART_SECTIONS.iter().chain(&RESTART_OTP_KEYS) {
        keep(new, running);
    }
}

fn section<'a>(t: &'a Table, key: &str) -> Option<&'a Value> {
    t.get(key)
}

/// The keys that differ between `old` and `new` in one table, as dotted paths.
fn changed_keys(prefix: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<String>) {
    match (old, new) {
        (Some(Value::Table(a)), Some(Value::Table(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                changed_keys(&format!("{prefix}.{k}"), a.get(k), b.get(k), out);
            }
        }
        (a, b) if a != b => out.push(prefix.to_owned()),
        _ => {}
    }
}

/// Settings that differ from the running ones but only apply at a restart: each named.
pub fn restart_only(running: &Table, new: &Table) -> Vec<String> {
    let mut keys = Vec::new();
    for (s, _) in RESTART_SECTIONS {
        changed_keys(s, section(running, s), section(new, s), &mut keys);
    }
    let otp = |t: &Table, k: &str| t.get("otp").and_then(|o| o.get(k)).cloned();
    for (k, _) in RESTART_OTP_KEYS {
        changed_keys(
            &format!("otp.{k}"),
            otp(running, k).as_ref(),
            otp(new, k).as_ref(),
            &mut keys,
        );
    }
    keys
}

fn tenant_id(t: &Value) -> Option<&str> {
    t.get("id")
        .or_else(|| t.get("name"))
        .and_then(Value::as_str)
}

fn tenants(t: &Table) -> Vec<&Value> {
    t.get("tenants")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Tenants (by id, shown by name) added, removed and changed from `old` to `new`.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantChanges {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

fn find<'a>(list: &[&'a Value], id: Option<&str>) -> Option<&'a Value> {
    list.iter().find(|t| tenant_id(t) == id).copied()
}

pub fn tenant_changes(old: &Table, new: &Table) -> TenantChanges {
    let (old, new) = (tenants(old), tenants(new));
    let name = |t: &Value| {
        t.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut changes = TenantChanges::default();
    for t in &new {
        match find(&old, tenant_id(t)) {
            None => changes.added.push(name(t)),
            Some(o) if o != *t => changes.changed.push(name(t)),
            Some(_) => {}
        }
    }
    for t in &old {
        if find(&new, tenant_id(t)).is_none() {
            changes.removed.push(name(t));
        }
    }
    changes
}

/// The value at `path` (lower-case keys, list indices) of `t`.
fn at<'a>(t: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (head, rest) = path.split_first()?;
    let mut v = t.get(head)?;
    for k in rest {
        v = match v {
            Value::Table(t) => t.get(k)?,
            Value::Array(a) => a.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The environment overrides (of the process's start) whose key changed in the file between
/// `old_file` and `new_file`: the override still wins, and with a list reordered it now
/// lands on another entry.
pub fn env_overrides_hiding_changes<'a>(
    names: impl Iterator<Item = &'a str>,
    old_file: &Table,
    new_file: &Table,
) -> Vec<String> {
    names
        .filter(|name| {
            let Some(rest) = name.strip_prefix("OTPGATE_") else {
                return false;
            };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            let value_changed = at(old_file, &path) != at(new_file, &path);
            // a list entry's key: with the list reordered it now lands on another entry
            let entry_moved = path.len() > 2
                && path.get(..2).is_some_and(|p| {
                    entry_identity(at(old_file, p)) != entry_identity(at(new_file, p))
                });
            value_changed || entry_moved
        })
        .map(str::to_owned)
        .collect()
}

/// What names a list entry (`name`, or `id` for a tenant).
fn entry_identity(v: Option<&Value>) -> Option<(Option<&Value>, Option<&Value>)> {
    let t = v?.as_table()?;
    Some((t.get("name"), t.get("id")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> Table {
        s.parse().unwrap()
    }

    #[test]
    fn restart_only_keys_are_named() {
        let a =
            table("[http]\nlisten = \"127.0.0.1:1\"\n[otp]\nmax_live = 5\ndefault_ttl_s = 60\n");
        let b =
            table("[http]\nlisten = \"127.0.0.1:2\"\n[otp]\nmax_live = 6\ndefault_ttl_s = 90\n");
        assert_eq!(restart_only(&a, &b), vec!["http.listen", "otp.max_live"]);
        assert!(restart_only(&a, &a).is_empty());
    }

    #[test]
    fn what_is_named_restart_only_keeps_its_running_value() {
        let running = "[http]\nlisten = \"127.0.0.1:1\"\n[otp]\nmax_live = 5\ndefault_ttl_s = 60\n";
        let read = "[http]\nlisten = \"127.0.0.1:2\"\n[otp]\nmax_live = 6\ndefault_ttl_s = 90\n";
        let running_config: Config = toml::from_str(running).unwrap();
        let mut new: Config = toml::from_str(read).unwrap();
        keep_restart_only(&mut new, &running_config);
        assert_eq!(new.http.listen, "127.0.0.1:1");
        assert_eq!(new.otp.max_live, 5);
        // not restart-only: the file's new value applies
        assert_eq!(new.otp.default_ttl_s, 90);
    }

    #[test]
    fn tenants_are_told_apart_by_id() {
        let a = table(
            "[[tenants]]\nname = \"a\"\ntoken = \"x\"\n[[tenants]]\nname = \"b\"\ntoken = \"y\"\n",
        );
        let b = table(
            "[[tenants]]\nname = \"b\"\ntoken = \"z\"\n[[tenants]]\nname = \"c\"\ntoken = \"w\"\n",
        );
        let c = tenant_changes(&a, &b);
        assert_eq!(c.added, vec!["c"]);
        assert_eq!(c.removed, vec!["a"]);
        assert_eq!(c.changed, vec!["b"]);
    }

    #[test]
    fn an_override_of_a_changed_key_is_named() {
        let names = ["OTPGATE_TENANTS__0__TOKEN", "OTPGATE_HTTP__LISTEN"];
        let a =
            table("[[tenants]]\nname = \"a\"\ntoken = \"x\"\n[http]\nlisten = \"127.0.0.1:1\"\n");
        let same = env_overrides_hiding_changes(names.into_iter(), &a, &a);
        assert!(same.is_empty());
        let token =
            table("[[tenants]]\nname = \"a\"\ntoken = \"y\"\n[http]\nlisten = \"127.0.0.1:1\"\n");
        let hit = env_overrides_hiding_changes(names.into_iter(), &a, &token);
        assert_eq!(hit, vec!["OTPGATE_TENANTS__0__TOKEN"]);
        // reordered: the override's index now lands on another tenant
        let moved =
            table("[[tenants]]\nname = \"b\"\ntoken = \"x\"\n[http]\nlisten = \"127.0.0.1:1\"\n");
        let hit = env_overrides_hiding_changes(names.into_iter(), &a, &moved);
        assert_eq!(hit, vec!["OTPGATE_TENANTS__0__TOKEN"]);
    }
}
