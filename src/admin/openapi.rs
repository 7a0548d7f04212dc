//! The admin API's own OpenAPI 3 document (`GET /admin/openapi.json`).

use serde_json::{json, Value};

/// Every route the admin router serves, as `(path, method)`: the document describes each.
pub const ROUTES: &[(&str, &str)] = &[
    ("/", "get"),
    ("/admin/openapi.json", "get"),
    ("/admin/status", "get"),
    ("/admin/smsc/{name}", "get"),
    ("/admin/smsc/{name}/stop", "post"),
    ("/admin/smsc/{name}/start", "post"),
    ("/admin/reload", "post"),
    ("/admin/config", "get"),
    ("/admin/tenants", "get"),
    ("/admin/tenants", "post"),
    ("/admin/tenants/{id}", "get"),
    ("/admin/tenants/{id}", "patch"),
    ("/admin/tenants/{id}", "delete"),
    ("/admin/tenants/{id}/suspend", "post"),
    ("/admin/tenants/{id}/resume", "post"),
    ("/admin/tenants/{id}/rotate-token", "post"),
    ("/admin/tenants/{id}/usage", "get"),
];

fn errors(codes: &[(&str, &str)]) -> Value {
    let mut m = serde_json::Map::new();
    for (status, what) in codes {
        m.insert(
            (*status).into(),
            json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    Value::Object(m)
}

fn answers(ok: Value, codes: &[(&str, &str)]) -> Value {
    let mut m = errors(codes);
    if let Some(o) = m.as_object_mut() {
        o.insert("200".into(), ok);
    }
    m
}

fn json_ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

const READ: &[(&str, &str)] = &[("401", "no admin token")];
const WRITE: &[(&str, &str)] = &[
    ("401", "no admin token"),
    ("403", "the read token may not change anything"),
];

pub fn document() -> Value {
    let name = json!([{"name": "name", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the [[smsc]] name"}]);
    let switch = |what: &str| {
        let mut codes = WRITE.to_vec();
        codes.push(("404", "no SMSC has this name"));
        codes.push((
            "503",
            "the stopped set could not be recorded (Redis or state file): nothing changed",
        ));
        json!({"post": {
            "summary": what,
            "parameters": name,
            "responses": answers(json_ok("done (or already so: `changed` is false)", json!({"$ref": "#/components/schemas/Switch"})), &codes),
        }})
    };
    let mut smsc_codes = READ.to_vec();
    smsc_codes.push(("404", "no SMSC has this name"));
    let mut usage_codes = READ.to_vec();
    usage_codes.push(("404", "no tenant has this id"));
    usage_codes.push((
        "422",
        "not a date YYYY-MM-DD, from after to or today, before the retention, or over 400 days",
    ));
    usage_codes.push(("501", "this engine does not count usage"));
    usage_codes.push(("503", "the store could not be read"));
    let mut reload_codes = WRITE.to_vec();
    reload_codes.push(("422", "the configuration file is invalid: nothing changed"));
    reload_codes.push(("501", "this engine cannot reload its configuration"));
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "otpgate admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Operators' API on [admin] listen: status of every SMSC and bind, stop/start of an SMSC, reload, effective configuration, tenant provisioning, usage per tenant and UTC day. Authorization: Bearer [admin] token (reads and changes) or [admin] read_token (reads only)."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "enum": ["unauthorized", "read_only_token", "not_found", "unknown_smsc", "method_not_allowed", "state_unavailable", "reload_not_available", "invalid_configuration", "unknown_tenant", "tenant_exists", "tenant_tag_collision", "token_in_use", "invalid_tenant", "invalid_body", "invalid_query", "pin_secret_required", "invalid_range", "store_unavailable", "usage_not_available"]},
                    "message": {"type": "string"}
                }},
                "Bind": {"type": "object", "properties": {
                    "label": {"type": "string"},
                    "role": {"type": "string", "enum": ["transceiver", "transmitter", "receiver"]},
                    "state": {"type": "string", "enum": ["up", "binding", "backing_off", "draining", "stopped"]},
                    "window_in_use": {"type": "integer"},
                    "window_size": {"type": "integer"},
                    "current_tps": {"type": "number", "nullable": true},
                    "throttled": {"type": "boolean"},
                    "last_error": {"type": "string", "nullable": true},
                    "last_bind": {"type": "string", "format": "date-time", "nullable": true}
                }},
                "Smsc": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "stopped": {"type": "boolean"},
                    "queue_depth": {"type": "integer"},
                    "binds_configured": {"type": "integer"},
                    "binds_up": {"type": "integer"},
                    "tps": {"type": "integer", "description": "contract rate, 0 = unthrottled"},
                    "current_tps": {"type": "number", "nullable": true},
                    "throttled": {"type": "boolean"},
                    "window_size": {"type": "integer"},
                    "binds": {"type": "array", "items": {"$ref": "#/components/schemas/Bind"}}
                }},
                "Status": {"type": "object", "properties": {
                    "shutting_down": {"type": "boolean"},
                    "queue_depth": {"type": "integer"},
                    "queue_capacity": {"type": "integer"},
                    "stop_persistence": {"$ref": "#/components/schemas/Persistence"},
                    "can_change": {"type": "boolean", "description": "the token used may stop and start"},
                    "smscs": {"type": "array", "items": {"$ref": "#/components/schemas/Smsc"}}
                }},
                "Persistence": {"type": "string", "enum": ["cluster", "node", "until_restart"]},
                "Switch": {"type": "object", "properties": {
                    "smsc": {"type": "string"},
                    "stopped": {"type": "boolean"},
                    "changed": {"type": "boolean"},
                    "persistence": {"$ref": "#/components/schemas/Persistence"},
                    "lasts": {"type": "string"}
                }},
                "Tenant": {"type": "object", "description": "Every [[tenants]] setting (see docs/configuration.md), callback_secret masked, never a token", "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "source": {"type": "string", "enum": ["file", "api"]},
                    "suspended": {"type": "boolean"},
                    "tokens": {"type": "array", "items": {"type": "object", "properties": {"expires_at": {"type": "integer", "nullable": true, "description": "Unix seconds: end of a rotation's overlap"}}}},
                    "created_at": {"type": "integer"},
                    "updated_at": {"type": "integer"},
                    "revision": {"type": "integer"}
                }, "additionalProperties": true},
                "TenantChange": {"type": "object", "properties": {
                    "tenant": {"$ref": "#/components/schemas/Tenant"},
                    "persistence": {"$ref": "#/components/schemas/Persistence"},
                    "token": {"type": "string", "description": "the new token, shown this once (create, rotate-token)"}
                }},
                "TenantPage": {"type": "object", "properties": {
                    "total": {"type": "integer"},
                    "offset": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "persistence": {"$ref": "#/components/schemas/Persistence"},
                    "tenants": {"type": "array", "items": {"$ref": "#/components/schemas/Tenant"}}
                }},
                "UsageCounts": {"type": "object", "properties": {
                    "created": {"type": "integer", "description": "OTPs created (answered 201)"},
                    "parts": {"type": "integer", "description": "SMS parts the SMSCs accepted, every send and resend"},
                    "cost": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{6}$", "description": "what those parts cost, in `currency`, six decimals, exact"},
                    "cost_micros": {"type": "integer", "description": "the same cost in micro-units (millionths of the currency)"},
                    "verified": {"type": "integer", "description": "successful verifications"}
                }},
                "UsageDay": {"allOf": [{"$ref": "#/components/schemas/UsageCounts"}, {"type": "object", "properties": {
                    "date": {"type": "string", "format": "date", "description": "the UTC day"}
                }}]},
                "Usage": {"type": "object", "properties": {
                    "tenant": {"type": "string"},
                    "currency": {"type": "string", "description": "[otp] currency (ISO 4217)"},
                    "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"},
                    "retention_days": {"type": "integer"},
                    "days": {"type": "array", "items": {"$ref": "#/components/schemas/UsageDay"}, "description": "every day of the range, oldest first, zeros included"},
                    "total": {"$ref": "#/components/schemas/UsageCounts"}
                }},
                "ReloadReport": {"type": "object", "properties": {
                    "applied": {"type": "array", "items": {"type": "string"}},
                    "warnings": {"type": "array", "items": {"type": "string"}}
                }}
            }
        },
        "security": [{"bearer": []}],
        "paths": {
            "/": {"get": {
                "summary": "The status page (self-contained HTML; it asks for the token, or reads it from the URL fragment #token=...)",
                "security": [],
                "responses": {"200": {"description": "the page", "content": {"text/html": {}}}}
            }},
            "/admin/openapi.json": {"get": {
                "summary": "This document",
                "responses": answers(json!({"description": "OpenAPI 3", "content": {"application/json": {}}}), READ)
            }},
            "/admin/status": {"get": {
                "summary": "Every SMSC and bind: state, window, queue, rate, last error, last bind",
                "responses": answers(json_ok("the engine's status", json!({"$ref": "#/components/schemas/Status"})), READ)
            }},
            "/admin/smsc/{name}": {"get": {
                "summary": "One SMSC's status",
                "parameters": name,
                "responses": answers(json_ok("the SMSC", json!({"$ref": "#/components/schemas/Smsc"})), &smsc_codes)
            }},
            "/admin/smsc/{name}/stop": switch("Stop an SMSC: its binds drain and unbind, its queue fails over; lasts until /start"),
            "/admin/smsc/{name}/start": switch("Start a stopped SMSC: its binds bind again"),
            "/admin/reload": {"post": {
                "summary": "Re-read the configuration file and apply what can change without a restart",
                "responses": answers(json_ok("applied", json!({"$ref": "#/components/schemas/ReloadReport"})), &reload_codes)
            }},
            "/admin/config": {"get": {
                "summary": "The effective configuration, every secret masked",
                "responses": answers(json_ok("the configuration", json!({"type": "object"})), READ)
            }},
            "/admin/tenants/{id}/usage": {"get": {
                "summary": "A tenant's usage per UTC day, for invoicing: OTPs created, SMS parts and their cost, verifications",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the tenant's id ([[tenants]] id)"},
                    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "first UTC day (default: 30 days before `to`, or the oldest day kept)"},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "last UTC day (default and at most: today)"}
                ],
                "responses": answers(json_ok("the usage", json!({"$ref": "#/components/schemas/Usage"})), &usage_codes)
            }}
        }
    });
    if let Some(paths) = doc["paths"].as_object_mut() {
        paths.extend(tenant_paths());
    }
    doc
}

/// `/admin/tenants...`: provisioning (see `tenants`).
fn tenant_paths() -> serde_json::Map<String, Value> {
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "the tenant's immutable id"}]);
    let change = json_ok(
        "changed",
        json!({"$ref": "#/components/schemas/TenantChange"}),
    );
    let settings = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "[[tenants]] settings (unknown keys refused)"}}}});
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut codes = WRITE.to_vec();
        codes.extend_from_slice(extra);
        codes.push((
            "409",
            "provisioning needs [security] pin_secret (pin_secret_required)",
        ));
        codes.push((
            "503",
            "the registry (Redis or state file) is unavailable: nothing changed",
        ));
        codes
    };
    let unknown = ("404", "no tenant has this id");
    let mut read_one = READ.to_vec();
    read_one.push(unknown);
    let state = |what: &str| {
        json!({"post": {
            "summary": what, "parameters": id,
            "responses": answers(change.clone(), &with(&[unknown])),
        }})
    };
    let mut created = errors(&with(&[
        ("400", "the body is not a JSON object"),
        ("409", "a tenant has this id (tenant_exists), its tag (tenant_tag_collision) or the token (token_in_use)"),
        ("422", "a setting is invalid: the message names it (invalid_tenant)"),
    ]));
    if let Some(o) = created.as_object_mut() {
        o.insert(
            "201".into(),
            json_ok(
                "created: the token is shown this once",
                json!({"$ref": "#/components/schemas/TenantChange"}),
            ),
        );
    }
    let mut paths = serde_json::Map::new();
    paths.insert("/admin/tenants".into(), json!({
        "get": {
            "summary": "The tenants in force (the file's and the provisioned ones), a page at a time",
            "parameters": [
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
            ],
            "responses": answers(json_ok("a page", json!({"$ref": "#/components/schemas/TenantPage"})), READ),
        },
        "post": {
            "summary": "Create a tenant: [[tenants]] settings, with an optional id (default: the name) and token (default: generated)",
            "requestBody": settings,
            "responses": created,
        }
    }));
    paths.insert("/admin/tenants/{id}".into(), json!({
        "get": {"summary": "One tenant", "parameters": id, "responses": answers(json_ok("the tenant", json!({"$ref": "#/components/schemas/Tenant"})), &read_one)},
        "patch": {"summary": "Change settings (the keys given; not id nor token)", "parameters": id, "requestBody": settings,
            "responses": answers(change.clone(), &with(&[unknown, ("422", "a setting is invalid: the message names it (invalid_tenant)")]))},
        "delete": {"summary": "Delete a tenant (a tombstone: the file's tenant of this id stays deleted too)", "parameters": id,
            "responses": answers(change.clone(), &with(&[unknown]))}
    }));
    paths.insert(
        "/admin/tenants/{id}/suspend".into(),
        state("Suspend a tenant: its tokens answer 401 until /resume"),
    );
    paths.insert(
        "/admin/tenants/{id}/resume".into(),
        state("Resume a suspended tenant"),
    );
    paths.insert("/admin/tenants/{id}/rotate-token".into(), json!({"post": {
        "summary": "A new token (shown once); the old ones keep working for overlap_seconds (default 3600, at most 2592000)",
        "parameters": id,
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "overlap_seconds": {"type": "integer", "minimum": 0, "maximum": 2592000},
            "token": {"type": "string", "description": "the new token (default: generated)"}
        }}}}},
        "responses": answers(change, &with(&[unknown, ("409", "the token is in use (token_in_use)"), ("422", "invalid overlap_seconds or token")])),
    }}));
    paths
}
