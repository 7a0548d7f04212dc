//! The admin router. Every `/admin/...` request needs a token (`401` without, `403` for the
//! read token on what changes things); `GET /` serves the status page, which holds no data
//! and asks for the token itself.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::auth::Access;
use super::reload::ReloadRefused;
use super::reply::{counted, no_store, AdminError, Reply};
use super::stopped::Persistence;
use super::{tenants, Admin};

/// Largest request body (a tenant's settings).
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(admin: Arc<Admin>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/admin/openapi.json", get(openapi))
        .route("/admin/status", get(status))
        .route("/admin/smsc/{name}", get(smsc))
        .route("/admin/smsc/{name}/stop", post(stop))
        .route("/admin/smsc/{name}/start", post(start))
        .route("/admin/reload", post(reload))
        .route("/admin/config", get(config))
        .route("/admin/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/admin/tenants/{id}",
            get(tenants::get_one)
                .patch(tenants::update)
                .delete(tenants::delete),
        )
        .route("/admin/tenants/{id}/suspend", post(tenants::suspend))
        .route("/admin/tenants/{id}/resume", post(tenants::resume))
        .route("/admin/tenants/{id}/rotate-token", post(tenants::rotate))
        .route("/admin/tenants/{id}/usage", get(super::usage::usage))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(admin)
}

async fn page() -> Response {
    counted("page", Ok(super::page::response()))
}

async fn openapi(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Response {
    let reply = admin
        .tokens
        .allow(&headers, Access::Read)
        .map(|()| Json(super::openapi::document()).into_response());
    counted("openapi", reply)
}

async fn status(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Response {
    let reply = admin.tokens.allow(&headers, Access::Read).map(|()| {
        let mut body = serde_json::to_value(admin.engine.status()).unwrap_or_default();
        if let Some(o) = body.as_object_mut() {
            o.insert(
                "stop_persistence".into(),
                json!(admin.stopped.persistence()),
            );
            o.insert(
                "can_change".into(),
                json!(admin.tokens.access(&headers) == Some(Access::Write)),
            );
        }
        no_store(Json(body).into_response())
    });
    counted("status", reply)
}

fn unknown_smsc(name: &str) -> AdminError {
    AdminError::new(
        StatusCode::NOT_FOUND,
        "unknown_smsc",
        format!("no [[smsc]] is named {name:?}"),
    )
}

async fn smsc(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let reply = admin.tokens.allow(&headers, Access::Read).and_then(|()| {
        let found = admin
            .engine
            .status()
            .smscs
            .into_iter()
            .find(|s| s.name == name);
        match found {
            Some(s) => Ok(no_store(Json(s).into_response())),
            None => Err(unknown_smsc(&name)),
        }
    });
    counted("smsc", reply)
}

async fn stop(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    counted("stop", switch(&admin, &headers, &name, true).await)
}

async fn start(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    counted("start", switch(&admin, &headers, &name, false).await)
}

/// Records the SMSC's new state where it lasts (Redis, the state file), then applies it.
async fn switch(admin: &Admin, headers: &HeaderMap, name: &str, stopped: bool) -> Reply {
    admin.tokens.allow(headers, Access::Write)?;
    if !admin.engine.smsc_names().iter().any(|n| n == name) {
        return Err(unknown_smsc(name));
    }
    let _switching = admin.switching.lock().await;
    admin.stopped.set(name, stopped).await.map_err(|e| {
        tracing::error!(smsc = name, error = %e, "cannot record the SMSC's state: nothing changed");
        AdminError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "state_unavailable",
            format!("{e}; nothing changed"),
        )
    })?;
    let changed = admin
        .engine
        .set_smsc_stopped(name, stopped)
        .map_err(|_| unknown_smsc(name))?;
    let persistence = admin.stopped.persistence();
    let action = if stopped { "stopped" } else { "started" };
    tracing::warn!(
        smsc = name,
        by = "admin token",
        changed,
        ?persistence,
        "SMSC {action}"
    );
    let lasts = match (stopped, persistence) {
        (false, _) => "",
        (true, Persistence::Cluster) => "on every node, until /start, across restarts",
        (true, Persistence::Node) => "on this node, until /start, across restarts",
        (true, Persistence::UntilRestart) => {
            "on this node until /start or until it restarts (no [store] state_dir)"
        }
    };
    Ok(Json(json!({
        "smsc": name,
        "stopped": stopped,
        "changed": changed,
        "persistence": persistence,
        "lasts": lasts,
    }))
    .into_response())
}

async fn reload(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Response {
    let reply = match admin.tokens.allow(&headers, Access::Write) {
        Err(e) => Err(e),
        Ok(()) => {
            tracing::warn!(by = "admin token", "configuration reload asked");
            match admin.reload.reload().await {
                Ok(report) => Ok(Json(report).into_response()),
                Err(e @ ReloadRefused::NotAvailable) => Err(AdminError::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "reload_not_available",
                    e.to_string(),
                )),
                Err(ReloadRefused::Invalid(text)) => Err(AdminError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_configuration",
                    text,
                )),
            }
        }
    };
    counted("reload", reply)
}

async fn config(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Response {
    let reply = admin
        .tokens
        .allow(&headers, Access::Read)
        .map(|()| no_store(Json((admin.config_view)()).into_response()));
    counted("config", reply)
}

async fn not_found() -> Response {
    counted("other", Err(AdminError::not_found()))
}

async fn method_not_allowed() -> Response {
    counted(
        "other",
        Err(AdminError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not take this method",
        )),
    )
}
