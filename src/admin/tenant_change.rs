//! One tenant change, whatever the endpoint: the record it starts from (its own, or the
//! file's tenant), the edit, the checks (token, tag, the whole set as the file loader checks
//! it), the write to the registry, the set put in force on this node, the audit line and count.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use rand::RngCore;
use serde_json::{json, Value};

use super::auth::Access;
use super::reply::AdminError;
use super::reply::{no_store, Reply};
use super::{tenant_view, Admin};
use crate::otp::identity::TenantTag;
use crate::otp::settings::TenantConfig;
use crate::otp::token_index::{StoredToken, TokenKey};
use crate::telemetry::names::TENANT_CHANGES;
use crate::tenants::{unix_now, Refused, Snapshot, TenantRecord};

pub(super) fn unknown(id: &str) -> AdminError {
    AdminError::new(
        StatusCode::NOT_FOUND,
        "unknown_tenant",
        format!("no tenant has the id {id:?}"),
    )
}

pub(super) fn invalid(field: &str, message: impl std::fmt::Display) -> AdminError {
    AdminError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_tenant",
        format!("{field}: {message}"),
    )
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> AdminError {
    AdminError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "state_unavailable",
        format!("{e}; nothing changed"),
    )
}

/// The JSON object of a body (413 beyond the limit, 400 when not an object).
pub(super) fn object(
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Map<String, Value>, AdminError> {
    let bytes = body.map_err(|e| {
        AdminError::new(
            e.status(),
            "invalid_body",
            "the body could not be read (at most 64 KiB)",
        )
    })?;
    if bytes.is_empty() {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(AdminError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "the body must be a JSON object",
        )),
    }
}

/// A fresh token: 192 bits from the CSPRNG, as hex.
pub(super) fn new_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What a change does to the tenant's record (`None`: it has none yet).
pub(super) type Edit<'a> =
    Box<dyn FnOnce(Option<TenantRecord>, &TokenKey, u64) -> Result<Edited, AdminError> + Send + 'a>;

pub(super) struct Edited {
    pub record: TenantRecord,
    /// A token to show once (created or rotated).
    pub token: Option<String>,
    pub status: StatusCode,
}

/// The record of `id`: its own, or one made from the file's tenant (its token MACed) the
/// first time the API changes it.
fn current(
    admin: &Admin,
    snapshot: &Snapshot,
    id: &str,
    key: &TokenKey,
    now: u64,
) -> Option<TenantRecord> {
    if let Some(r) = snapshot.records.get(id) {
        return (!r.deleted).then(|| r.clone());
    }
    let seed = admin
        .tenants
        .in_force
        .current()
        .into_iter()
        .find(|t| t.id() == id)?;
    let mut settings = seed.clone();
    settings.id = Some(id.to_owned());
    settings.token.clear();
    settings.stored_tokens.clear();
    Some(TenantRecord {
        tokens: vec![StoredToken {
            mac: key.mac(&seed.token),
            expires_at: None,
        }],
        settings,
        suspended: seed.suspended,
        deleted: false,
        created_at: now,
        updated_at: now,
        revision: 0,
    })
}

/// Checks, records and applies one change, then logs and counts it.
pub(super) async fn change(
    admin: &Admin,
    headers: &HeaderMap,
    action: &'static str,
    id: &str,
    create: bool,
    edit: Edit<'_>,
) -> Reply {
    admin.tokens.allow(headers, Access::Write)?;
    let result = apply_change(admin, id, create, edit).await;
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => match e.status.as_u16() {
            404 => "not_found",
            409 => "conflict",
            503 => "unavailable",
            _ => "refused",
        },
    };
    metrics::counter!(TENANT_CHANGES, "action" => action, "outcome" => outcome).increment(1);
    let persistence = admin.tenants.registry.persistence();
    match &result {
        Ok(_) => tracing::warn!(
            action,
            tenant = id,
            by = "admin token",
            outcome,
            ?persistence,
            "tenant changed"
        ),
        Err(e) => tracing::warn!(
            action,
            tenant = id,
            by = "admin token",
            outcome,
            code = e.code,
            "tenant change refused"
        ),
    }
    let edited = result?;
    let shown = tenant_view::tenant(&edited.record.to_config(), Some(&edited.record), unix_now());
    let mut body = json!({ "tenant": shown, "persistence": persistence });
    if let Some(token) = edited.token {
        body["token"] = json!(token);
    }
    Ok(no_store((edited.status, Json(body)).into_response()))
}

async fn apply_change(
    admin: &Admin,
    id: &str,
    create: bool,
    edit: Edit<'_>,
) -> Result<Edited, AdminError> {
    let key = admin.tenants.token_key.as_ref().ok_or_else(|| {
        AdminError::new(
            StatusCode::CONFLICT,
            "pin_secret_required",
            "provisioning tenants needs [security] pin_secret (the key of their stored tokens)",
        )
    })?;
    let _one_at_a_time = admin.provisioning.lock().await;
    let now = unix_now();
    let snapshot = admin.tenants.registry.load().await.map_err(unavailable)?;
    let existing = current(admin, &snapshot, id, key, now);
    if create && existing.is_some() {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            "tenant_exists",
            format!("a tenant has the id {id:?}"),
        ));
    }
    if !create && existing.is_none() {
        return Err(unknown(id));
    }
    let mut edited = edit(existing, key, now)?;
    if let Some(token) = &edited.token {
        check_new_token(admin, token)?;
    }
    let r = &mut edited.record;
    r.prune_tokens(now);
    r.updated_at = now;
    r.revision += 1;
    let mut candidate = snapshot.clone();
    candidate.version += 1;
    candidate.records.insert(id.to_owned(), r.clone());
    if !r.deleted {
        check_tag(admin, id)?;
        admin
            .tenants
            .in_force
            .check(&candidate)
            .await
            .map_err(|e| refused_set(e, id))?;
    }
    if !admin
        .tenants
        .registry
        .put(r, create)
        .await
        .map_err(unavailable)?
    {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            "tenant_exists",
            format!("a tenant has the id {id:?} (created on another node)"),
        ));
    }
    // in force on this node now; the other nodes follow within their refresh bound
    crate::tenants::follow::refresh(
        admin.tenants.registry.as_ref(),
        admin.tenants.in_force.as_ref(),
    )
    .await;
    Ok(edited)
}

/// A new tenant's id must not share its stored 4-byte tag with another tenant's.
fn check_tag(admin: &Admin, id: &str) -> Result<(), AdminError> {
    let tag = TenantTag::of(id);
    match admin.tenants.in_force.current().iter().find(|t| t.id() != id && TenantTag::of(t.id()) == tag) {
        Some(other) => Err(AdminError::new(
            StatusCode::CONFLICT,
            "tenant_tag_collision",
            format!(
                "the id {id:?} has the same stored tag (4 bytes of its SHA-256) as tenant {:?}: choose another id",
                other.id()
            ),
        )),
        None => Ok(()),
    }
}

/// A set refused by the configuration's checks: 422 naming the field (this tenant's own
/// without the `tenants[N].` prefix).
fn refused_set(e: Refused, id: &str) -> AdminError {
    match e {
        Refused::Invalid {
            field,
            message,
            tenant,
        } => match field.split_once("].") {
            Some((_, own)) if tenant.as_deref() == Some(id) => invalid(own, message),
            _ => invalid(&field, message),
        },
        Refused::Unavailable(text) => unavailable(text),
    }
}

fn check_new_token(admin: &Admin, token: &str) -> Result<(), AdminError> {
    crate::config::check_token(token, "token".into())
        .map_err(|e| invalid("token", e.to_string().trim_start_matches("token: ")))?;
    if admin.tokens.is_admin_token(token) || admin.tenants.in_force.token_taken(token) {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            "token_in_use",
            "this token is already in use: choose another (or let one be generated)",
        ));
    }
    Ok(())
}

/// The settings of `body` over `base` (every key a `[[tenants]]` key; `id` and `token` are
/// not settings).
pub(super) fn settings(
    base: &TenantConfig,
    body: serde_json::Map<String, Value>,
) -> Result<TenantConfig, AdminError> {
    for key in ["id", "token"] {
        if body.contains_key(key) {
            let how = if key == "id" {
                "a tenant's id never changes"
            } else {
                "use POST /admin/tenants/{id}/rotate-token"
            };
            return Err(invalid(key, how));
        }
    }
    let mut merged = serde_json::to_value(base).unwrap_or_else(|_| json!({}));
    if let Some(o) = merged.as_object_mut() {
        o.extend(body);
    }
    serde_json::from_value::<TenantConfig>(merged).map_err(|e| invalid("body", e))
}
