//! Provisioning tenants: create, read, update, suspend, resume, delete, rotate a token. A
//! change is checked exactly as the configuration file is (the whole set it makes, with every
//! other setting in force), recorded in the registry, put in force on this node at once (the
//! others follow, see `tenants::follow`), logged and counted. Tokens are generated from the
//! CSPRNG unless given, shown once, stored as MACs only.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Access;
use super::reply::AdminError;
use super::reply::{counted, no_store, Reply};
use super::tenant_change::{
    change, invalid, new_token, object, settings, unavailable, unknown, Edit, Edited,
};
use super::{tenant_view, Admin};
use crate::otp::settings::TenantConfig;
use crate::otp::token_index::StoredToken;
use crate::tenants::{unix_now, TenantRecord};

/// Most tenants one page lists.
pub const MAX_PAGE: usize = 1_000;
/// Longest overlap of a rotated token (30 days), and the default (1 hour).
pub const MAX_OVERLAP_S: u64 = 30 * 86_400;
pub const DEFAULT_OVERLAP_S: u64 = 3_600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
}

pub async fn list(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let reply = async {
        admin.tokens.allow(&headers, Access::Read)?;
        let Query(page) = page.map_err(|_| {
            AdminError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                "offset and limit are non-negative integers",
            )
        })?;
        let limit = page.limit.unwrap_or(100).clamp(1, MAX_PAGE);
        let snapshot = admin.tenants.registry.load().await.map_err(unavailable)?;
        let set = admin.tenants.in_force.current();
        let now = unix_now();
        let items: Vec<Value> = set
            .iter()
            .skip(page.offset)
            .take(limit)
            .map(|t| tenant_view::tenant(t, snapshot.records.get(t.id()), now))
            .collect();
        Ok(no_store(
            Json(json!({
                "total": set.len(),
                "offset": page.offset,
                "limit": limit,
                "persistence": admin.tenants.registry.persistence(),
                "tenants": items,
            }))
            .into_response(),
        ))
    };
    counted("tenants", reply.await)
}

pub async fn get_one(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let reply = async {
        admin.tokens.allow(&headers, Access::Read)?;
        let snapshot = admin.tenants.registry.load().await.map_err(unavailable)?;
        let set = admin.tenants.in_force.current();
        let t = set
            .iter()
            .find(|t| t.id() == id)
            .ok_or_else(|| unknown(&id))?;
        let view = tenant_view::tenant(t, snapshot.records.get(&id), unix_now());
        Ok(no_store(Json(view).into_response()))
    };
    counted("tenant", reply.await)
}

pub async fn create(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let reply = async {
        admin.tokens.allow(&headers, Access::Write)?;
        let mut body = object(body)?;
        let token = match body.remove("token") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) => Some(t),
            Some(_) => return Err(invalid("token", "must be a string")),
        };
        let id = match body.remove("id") {
            Some(Value::String(id)) => id,
            None | Some(Value::Null) => body
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Some(_) => return Err(invalid("id", "must be a string")),
        };
        if !crate::otp::identity::valid_id(&id) {
            return Err(invalid(
                "id",
                "must be 1-64 ASCII letters, digits, '.', '_' or '-' (the name unless set)",
            ));
        }
        let mut config = settings(&TenantConfig::default(), body)?;
        config.id = Some(id.clone());
        let edit: Edit = Box::new(move |_, key, now| {
            let token = token.unwrap_or_else(new_token);
            Ok(Edited {
                record: TenantRecord {
                    settings: config,
                    tokens: vec![StoredToken {
                        mac: key.mac(&token),
                        expires_at: None,
                    }],
                    suspended: false,
                    deleted: false,
                    created_at: now,
                    updated_at: now,
                    revision: 0,
                },
                token: Some(token),
                status: StatusCode::CREATED,
            })
        });
        change(&admin, &headers, "create", &id, true, edit).await
    };
    counted("tenants", reply.await)
}

pub async fn update(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let reply = async {
        admin.tokens.allow(&headers, Access::Write)?;
        let body = object(body)?;
        let edit: Edit = Box::new(move |record, _, _| {
            let mut record = record.ok_or_else(|| unknown(""))?;
            let id = record.settings.id.clone();
            record.settings = settings(&record.settings, body)?;
            record.settings.id = id;
            Ok(Edited {
                record,
                token: None,
                status: StatusCode::OK,
            })
        });
        change(&admin, &headers, "update", &id, false, edit).await
    };
    counted("tenant", reply.await)
}

async fn set_state(admin: &Admin, headers: &HeaderMap, id: &str, action: &'static str) -> Reply {
    let edit: Edit = Box::new(move |record, _, _| {
        let mut record = record.ok_or_else(|| unknown(""))?;
        match action {
            "suspend" => record.suspended = true,
            "resume" => record.suspended = false,
            _ => record.deleted = true,
        }
        Ok(Edited {
            record,
            token: None,
            status: StatusCode::OK,
        })
    });
    change(admin, headers, action, id, false, edit).await
}

pub async fn suspend(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    counted(
        "tenant_state",
        set_state(&admin, &headers, &id, "suspend").await,
    )
}

pub async fn resume(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    counted(
        "tenant_state",
        set_state(&admin, &headers, &id, "resume").await,
    )
}

pub async fn delete(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    counted("tenant", set_state(&admin, &headers, &id, "delete").await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    overlap_seconds: Option<u64>,
    token: Option<String>,
}

pub async fn rotate(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let reply = async {
        admin.tokens.allow(&headers, Access::Write)?;
        let rotation: Rotation =
            serde_json::from_value(Value::Object(object(body)?)).map_err(|e| invalid("body", e))?;
        let overlap = rotation.overlap_seconds.unwrap_or(DEFAULT_OVERLAP_S);
        if overlap > MAX_OVERLAP_S {
            return Err(invalid(
                "overlap_seconds",
                format!("must be 0..={MAX_OVERLAP_S} (30 days)"),
            ));
        }
        let edit: Edit = Box::new(move |record, key, now| {
            let mut record = record.ok_or_else(|| unknown(""))?;
            let until = now.saturating_add(overlap);
            // the old tokens open until the overlap ends (or sooner, if they already expire)
            for t in &mut record.tokens {
                t.expires_at = Some(t.expires_at.map_or(until, |e| e.min(until)));
            }
            let token = rotation.token.unwrap_or_else(new_token);
            record.tokens.push(StoredToken {
                mac: key.mac(&token),
                expires_at: None,
            });
            Ok(Edited {
                record,
                token: Some(token),
                status: StatusCode::OK,
            })
        });
        change(&admin, &headers, "rotate_token", &id, false, edit).await
    };
    counted("tenant_rotate", reply.await)
}
