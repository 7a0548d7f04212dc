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
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "otpgate admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Operators' API on [admin] listen: status of every SMSC and bind, stop/start of an SMSC, reload, effective configuration, usage per tenant and UTC day. Authorization: Bearer [admin] token (reads and changes) or [admin] read_token (reads only)."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "enum": ["unauthorized", "read_only_token", "not_found", "unknown_smsc", "method_not_allowed", "state_unavailable", "reload_not_available", "invalid_configuration", "unknown_tenant", "invalid_range", "store_unavailable", "usage_not_available"]},
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
    })
}
