//! `[[tenants]] id` at load: it defaults to the name (a file without it keeps working), an
//! explicit one is checked, and ids, explicit or not, identify their tenants apart (also in
//! their stored 4-byte tag), each refusal naming the field at fault.

use otpgate::config::{Config, TenantConfig};

fn load(tenants: &str) -> Result<Config, String> {
    otpgate::config::load_str(tenants, Vec::<(String, String)>::new()).map_err(|e| e.to_string())
}

/// A file without `id` keeps working: each tenant's id is its name.
#[test]
fn a_tenants_id_is_its_name_unless_set() {
    let c = load(
        "[[tenants]]\nname = \"Acme Corp\"\ntoken = \"token-acme-0001\"\n\
         [[tenants]]\nname = \"b\"\nid = \"bank-eu.1\"\ntoken = \"token-bank-0002\"\n",
    )
    .unwrap();
    let ids: Vec<&str> = c.tenants.iter().map(TenantConfig::id).collect();
    assert_eq!(ids, ["Acme Corp", "bank-eu.1"]);
}

#[test]
fn tenant_ids_are_checked_at_load() {
    let two = |first: &str, second: &str| {
        load(&format!(
            "[[tenants]]\n{first}\ntoken = \"token-aaaa-0001\"\n\
             [[tenants]]\n{second}\ntoken = \"token-bbbb-0002\"\n"
        ))
    };
    for (first, second, field, says) in [
        // an explicit id equal to another tenant's name (its default id)
        (
            "name = \"a\"",
            "name = \"b\"\nid = \"a\"",
            "tenants[1].id",
            "duplicate tenant id",
        ),
        (
            "name = \"a\"\nid = \"x\"",
            "name = \"b\"\nid = \"x\"",
            "tenants[1].id",
            "duplicate tenant id",
        ),
        (
            "name = \"a\"\nid = \"x\"",
            "name = \"x\"",
            "tenants[1].name",
            "duplicate tenant id",
        ),
        (
            "name = \"a\"",
            "name = \"b\"\nid = \"\"",
            "tenants[1].id",
            "must be 1-64",
        ),
        (
            "name = \"a\"",
            "name = \"b\"\nid = \"a b\"",
            "tenants[1].id",
            "must be 1-64",
        ),
        (
            "name = \"a\"",
            "name = \"b\"\nid = \"{x}\"",
            "tenants[1].id",
            "must be 1-64",
        ),
        (
            "name = \"a\"",
            &format!("name = \"b\"\nid = \"{}\"", "x".repeat(65)),
            "tenants[1].id",
            "must be 1-64",
        ),
        // two ids whose 4-byte stored tags are equal
        (
            "name = \"a\"\nid = \"c17439\"",
            "name = \"b\"\nid = \"c24164\"",
            "tenants[1].id",
            "stored tag",
        ),
    ] {
        let err = two(first, second).unwrap_err();
        assert!(
            err.starts_with(&format!("{field}: ")) && err.contains(says),
            "{first:?} then {second:?}: {err}"
        );
    }
}
