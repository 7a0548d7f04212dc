//! The OpenAPI 3 document of the API, served at `/openapi.json`. It describes what the
//! handlers really do; a test checks it against the router and the replies.

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn otp_id_param() -> Value {
    json!({"name": "otpId", "in": "path", "required": true,
           "schema": {"type": "string", "format": "uuid", "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}})
}

fn verify_op() -> Value {
    json!({
        "operationId": "verify_otp", "summary": "Verify a PIN", "tags": ["OTP"],
        "parameters": [otp_id_param()],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VerifyPinRequest"}}}},
        "responses": {
            "200": {"description": "The PIN is right", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/VerifyPinResponse"}}}},
            "400": error_response("2022 pin missing, 2023 otp_verified, 2024 otp_cancelled, 2025 otp_expired, 2026 otp_failed (already), 2027 otp_failed (last attempt used), 2028 otp_expired (a PIN the last resend replaced), 2029 invalid_pin, invalid_body"),
            "401": error_response("invalid_api_key"),
            "402": error_response("insufficient_credit 1030 (reason credit): the tenant's prepaid balance or monthly cap does not cover the resend's estimated cost"),
            "404": error_response("2021 not_found"),
            "413": error_response("body too large"),
            "415": error_response("body is not JSON")
        }
    })
}

fn resend_op() -> Value {
    json!({
        "operationId": "resend_otp", "summary": "Send a new PIN for a pending OTP (the old PIN stops verifying)", "tags": ["OTP"],
        "parameters": [otp_id_param()],
        "responses": {
            "200": {"description": "Resent: the OTP (deliveryStatus back to QUEUED)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Otp"}}}},
            "400": error_response("2023 otp_verified, 2024 otp_cancelled, 2025 otp_expired, 2026 otp_failed, 1022 invalid_param (reason sender_refused: the destination country now refuses the sender), 1024 no_coverage (reason no_allowed_route: no SMSC this API key may use has a route to the number now)"),
            "401": error_response("invalid_api_key"),
            "404": error_response("2021 not_found"),
            "403": error_response("access_denied 1019 (reason low_conversion): the number range is throttled because too few of its OTPs are verified"),
            "429": {"description": "rate_limit; see Retry-After and the error's reason: 1016 resend_limit (resends per OTP, [limits] max_resends), and as for a create: 1007 tenant_rate, 1008 number_limit, 1017 prefix_velocity, 1018 country_daily_cap",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            "503": error_response("the SMPP engine cannot take the SMS now (deliveryStatus FAILED; resend again later)")
        }
    })
}

fn callback_event() -> Value {
    json!({"type": "object", "required": ["event", "data"],
                    "description": "POSTed to otpCallbackUrl on every status or deliveryStatus change, batched per URL; header X-Otpgate-Signature: t=<unix>,v1=<hex HMAC-SHA256(callback_secret, \"<t>.<body>\")>",
                    "properties": {"event": {"type": "string", "enum": ["otp_update"]}, "data": {"type": "array", "maxItems": 200, "items": {"$ref": "#/components/schemas/Otp"}}}})
}

fn otp_schema() -> Value {
    let uuid_pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
    let date = json!({"type": "string", "format": "date-time"});
    json!({
        "type": "object",
        "required": ["otpId", "trackId", "phoneNumber", "countryIso", "status", "cost", "parts", "maxAttempts", "attempts", "ttl", "otpCallbackUrl", "dateCreated", "dateExpires", "language", "encoding", "deliveryStatus", "dateStatusChanged", "dateDeliveryStatusChanged", "smppError", "dateVerified", "dateCancelled", "dateSent", "dateDelivered", "resends", "from"],
        "properties": {
            "otpId": {"type": "string", "pattern": uuid_pattern},
            "trackId": {"type": "string", "nullable": true},
            "phoneNumber": {"type": "string", "description": "E.164"},
            "countryIso": {"type": "string", "minLength": 2, "maxLength": 2},
            "status": {"type": "string", "enum": ["PENDING", "VERIFIED", "EXPIRED", "CANCELLED", "FAILED"]},
            "cost": {"type": "number", "description": "In [otp] currency: before the send is settled, the estimate of the SMSC tried first; then what the routes charged for the parts they accepted, resends included"},
            "parts": {"type": "integer", "minimum": 1},
            "maxAttempts": {"type": "integer", "minimum": 1, "maximum": 10},
            "attempts": {"type": "integer", "minimum": 0, "maximum": 10, "description": "wrong tries so far"},
            "ttl": {"type": "integer", "minimum": 60, "maximum": 1800},
            "otpCallbackUrl": {"type": "string", "nullable": true},
            "dateCreated": date.clone(),
            "dateExpires": date.clone(),
            "language": {"type": "string", "nullable": true, "description": "language of the template used; null for the generic template"},
            "encoding": {"type": "string", "enum": ["GSM7", "UCS2", "LATIN1"]},
            "deliveryStatus": {"type": "string", "enum": ["QUEUED", "SENT", "DELIVERED", "UNDELIVERED", "REJECTED", "FAILED"]},
            "dateStatusChanged": date.clone(),
            "dateDeliveryStatusChanged": date.clone(),
            "smppError": {"type": "string", "nullable": true},
            "dateVerified": {"type": "string", "format": "date-time", "nullable": true},
            "dateCancelled": {"type": "string", "format": "date-time", "nullable": true},
            "dateSent": {"type": "string", "format": "date-time", "nullable": true, "description": "when an SMSC first accepted the SMS"},
            "dateDelivered": {"type": "string", "format": "date-time", "nullable": true, "description": "when a receipt said DELIVERED"},
            "resends": {"type": "integer", "minimum": 0},
            "from": {"type": "string", "description": "the sender ID that went out: the request's from (or the default sender), or the numeric sender that replaced it where the destination country refuses it ([senders.countries])"},
            "warnings": {"type": "array", "items": {"type": "string"}, "description": "create only, when the PIN has under 20 bits of entropy"}
        }
    })
}

/// The body of `POST /otp`. Every constraint here is one the server enforces (a value the
/// document refuses, the server refuses too); what JSON Schema cannot say (a possible number for
/// its country, a known country code, the rendered length) is in the descriptions and answered
/// with 400 `invalid_param`. Optional fields may be null, which reads as absent.
fn new_otp_request() -> Value {
    let uuid_any_case =
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
    json!({
        "type": "object", "required": ["phoneNumber"],
        "description": "Also accepts template_XX fields (template_fr, template_pt-BR...): a template per language, each a string containing {{pin}}, used for the destination's main language or the explicit language (a country's secondary languages never displace template). Other unknown fields are ignored.",
        "additionalProperties": true,
        "properties": {
            "phoneNumber": {"type": "string", "pattern": "^\\s*[0-9+(). -]{3,32}\\s*$",
                "description": "E.164, or national format with countryIso; digits, spaces and + - ( ) . only; must be a possible number for its country (else 2020)"},
            "countryIso": {"type": "string", "nullable": true, "pattern": "^([A-Za-z]{2})?$", "description": "ISO 3166 alpha-2 (else 2003); empty reads as absent"},
            "from": {"type": "string", "nullable": true, "minLength": 1, "maxLength": 16, "pattern": "^(\\+?[0-9]{3,15}|[^\\r\\n]{3,11})$",
                "description": "alphanumeric: 3-11 characters of the GSM 7-bit basic table, no leading or trailing space; numeric: 3-15 digits, optionally after +"},
            "template": {"type": "string", "nullable": true, "pattern": "\\{\\{pin\\}\\}", "maxLength": 1600,
                "description": "must contain {{pin}}; the rendered text must fit in the configured number of SMS segments"},
            "language": {"type": "string", "nullable": true, "pattern": "^[A-Za-z]{2,3}(-([A-Za-z]{2}|[A-Za-z]{4}))?$",
                "description": "language of the template_XX to use when the request has it; otherwise (and by default) the main language of the destination (its country, or its region where the number tells it, as Quebec area codes do)"},
            "trackId": {"type": "string", "nullable": true, "pattern": uuid_any_case},
            "ttl": {"type": "integer", "nullable": true, "minimum": 60, "maximum": 1800, "default": 600},
            "maxAttempts": {"type": "integer", "nullable": true, "minimum": 1, "maximum": 10, "default": 5},
            "pinType": {"type": "string", "nullable": true, "enum": ["numbers", "letters", "alphanumeric", null], "default": "numbers"},
            "pinLength": {"type": "integer", "nullable": true, "minimum": 4, "maximum": 10, "default": 6},
            "otpCallbackUrl": {"type": "string", "nullable": true, "maxLength": 2048, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
                "description": "http(s) URL with a host; private and loopback addresses are refused unless [callbacks] allow_private"}
        }
    })
}

/// Links from a created OTP to the operations on it (for clients and test generators).
fn otp_links() -> Value {
    let link =
        |op: &str| json!({"operationId": op, "parameters": {"otpId": "$response.body#/otpId"}});
    json!({
        "GetOtp": link("get_otp_status"),
        "VerifyOtp": link("verify_otp"),
        "VerifyOtpAlias": link("verify_otp_alias"),
        "ResendOtp": link("resend_otp"),
        "CancelOtp": link("cancel_otp")
    })
}

/// The whole document.
pub fn document() -> Value {
    let uuid_pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
    let mut alias = verify_op();
    if let Some(o) = alias.as_object_mut() {
        o.insert("operationId".into(), json!("verify_otp_alias"));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "otpgate OTP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "SMS one-time PINs over SMPP; wire-compatible with the sms.cx OTP API v1."
        },
        "security": [{"BearerAuth": []}, {"ApiKeyAuth": []}],
        "paths": {
            "/otp": {"post": {
                "operationId": "new_otp", "summary": "Create an OTP and send it by SMS", "tags": ["OTP"],
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false,
                    "description": "Same key and body within the retention time: the first reply again, no second SMS; same key, other body: 409 duplicate_id.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255}}],
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/NewOtpRequest"},
                    "example": {"phoneNumber": "+447400123456", "template": "Your code is {{pin}}", "ttl": 300, "maxAttempts": 3, "pinLength": 6}}}},
                "responses": {
                    "201": {"description": "Created and queued for sending",
                        "headers": {"X-Rate-Limit-Limit": {"schema": {"type": "integer"}}, "X-Rate-Limit-Remaining": {"schema": {"type": "integer"}}, "X-Rate-Limit-Reset": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Otp"}}},
                        "links": otp_links()},
                    "400": error_response("invalid_param 2001-2020, invalid_body, no_coverage (destination country not allowed), invalid_param 1023 (reason: the number's type, e.g. premium_rate or fixed_line, not in [[tenants]] number_types), no_coverage 1024 (reason no_allowed_route: no SMSC this API key may use has a route to the destination), invalid_param 1022 (reason sender_refused: the destination country refuses the sender ID and no numeric sender replaces it, [senders.countries])"),
                    "403": error_response("access_denied 1019 (reason low_conversion): the number range is throttled because too few of its OTPs are verified; access_denied 1021: a browser request from an origin the tenant's cors_allowed_origins does not list"),
                    "401": error_response("invalid_api_key"),
                    "402": error_response("insufficient_credit 1030 (reason credit): the tenant's prepaid balance or monthly cap does not cover the SMS's estimated cost; nothing stored or sent"),
                    "409": error_response("duplicate_id: Idempotency-Key reused with another body"),
                    "413": error_response("body too large"),
                    "415": error_response("body is not JSON"),
                    "429": {"description": "rate_limit; see Retry-After and the error's reason: 1007 tenant_rate, 1008 number_limit, 1017 prefix_velocity, 1018 country_daily_cap",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                    "503": {"description": "No SMSC can take the message now (1009), or a number only the phone-number library parses found its threads busy (1020, reason phone_parser_busy); see Retry-After. No OTP was kept.",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
                }
            }},
            "/otp/{otpId}": {
                "get": {
                    "operationId": "get_otp_status", "summary": "Read an OTP", "tags": ["OTP"],
                    "parameters": [otp_id_param()],
                    "responses": {
                        "200": {"description": "The OTP", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Otp"}}}},
                        "401": error_response("invalid_api_key"),
                        "404": error_response("2021 not_found")
                    }
                },
                "post": verify_op(),
                "delete": {
                    "operationId": "cancel_otp", "summary": "Cancel a pending OTP", "tags": ["OTP"],
                    "description": "The OTP is not deleted: it stays readable (GET) with status CANCELLED until it expires, and its PIN never verifies.",
                    "parameters": [otp_id_param()],
                    "responses": {
                        "200": {"description": "Cancelled", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CancelOtpResponse"}}}},
                        "401": error_response("invalid_api_key"),
                        "403": error_response("access_denied: 2030 already cancelled, 2031 not pending"),
                        "404": error_response("2021 not_found")
                    }
                }
            },
            "/otp/{otpId}/verify": {"post": alias},
            "/otp/{otpId}/resend": {"post": resend_op()},
            "/healthz": {"get": {"operationId": "healthz", "summary": "The process is up", "security": [],
                "responses": {"200": {"description": "up", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string"}}}}}}}}},
            "/readyz": {"get": {"operationId": "readyz", "summary": "At least one SMSC bind is up and the queue has room", "security": [],
                "responses": {
                    "200": {"description": "ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}},
                    "503": {"description": "not ready; reasons listed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}}}}},
            "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "security": [],
                "responses": {"200": {"description": "text exposition format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "OpenAPI 3", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
        },
        "components": {
            "securitySchemes": {
                "BearerAuth": {"type": "http", "scheme": "bearer"},
                "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-KEY"}
            },
            "schemas": {
                "NewOtpRequest": new_otp_request(),
                "Otp": otp_schema(),
                "CallbackEvent": callback_event(),
                "VerifyPinRequest": {"type": "object", "required": ["pin"], "properties": {"pin": {
                    "description": "the PIN; sms.cx clients may send a numeric PIN as a JSON number",
                    "oneOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]}}},
                "VerifyPinResponse": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["VERIFIED"]}}},
                "CancelOtpResponse": {"type": "object", "required": ["info"], "properties": {"info": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "pattern": uuid_pattern}}}}},
                "Readiness": {"type": "object", "properties": {
                    "ready": {"type": "boolean"}, "bindsUp": {"type": "integer"}, "queueDepth": {"type": "integer"},
                    "queueCapacity": {"type": "integer"}, "reasons": {"type": "array", "items": {"type": "string"}},
                    "uncoveredRoutes": {"description": "route prefixes none of whose SMSCs has a bind up (in the cluster, with the Redis store)", "type": "array", "items": {"type": "string"}},
                    "otpsPending": {"type": "integer"}}},
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["type", "code", "message", "uri"],
                    "properties": {
                        "type": {"type": "string", "enum": ["invalid_api_key", "invalid_body", "invalid_request", "invalid_method", "invalid_param", "not_found", "rate_limit", "server_error", "duplicate_id", "no_coverage", "access_denied", "invalid_pin", "otp_expired", "otp_failed", "otp_cancelled", "otp_verified"]},
                        "code": {"type": "integer"},
                        "message": {"type": "string"},
                        "uri": {"type": "string"},
                        "field": {"type": "string", "description": "the request field at fault, when there is one"},
                        "reason": {"type": "string", "enum": ERROR_REASONS, "description": "which abuse limit refused the request (4xx), or why the service cannot take it now (503)"}
                    }}}}
            }
        }
    })
}

/// Every `reason` an error body may carry.
const ERROR_REASONS: &[&str] = &[
    "tenant_rate",
    "number_limit",
    "prefix_velocity",
    "country_daily_cap",
    "low_conversion",
    "resend_limit",
    "country_not_allowed",
    "sender_refused",
    "no_allowed_route",
    "mobile",
    "fixed_line_or_mobile",
    "fixed_line",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "unknown",
    "queue_full",
    "no_route",
    "shutting_down",
    "store_unavailable",
    "store_full",
    "id_collision",
];
