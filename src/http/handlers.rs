//! The OTP endpoints: create (with idempotency keys and rate limits), read, verify, cancel.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::admission;
use super::auth;
use super::body::read_json;
use super::create_body;
use super::error::{codes, ApiError};
use super::header_names::{
    IDEMPOTENT_REPLAYED, X_RATE_LIMIT_LIMIT, X_RATE_LIMIT_REMAINING, X_RATE_LIMIT_RESET,
};
use super::request_headers::RequestHeaders;
use super::App;
use crate::callbacks::ssrf;
use crate::otp::store::{IdemKey, IdemReply, IdemReserve};
use crate::otp::tenant::{RateInfo, Tenant};
use crate::otp::{OtpError, OtpView};

type Reply = Result<Response, ApiError>;

fn json_reply(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// An OTP object as a JSON reply.
fn view_reply(status: StatusCode, view: &OtpView) -> Response {
    // made here, not by `(status, bytes).into_response()`, which first writes a
    // `Content-Type` of its own that this one then replaces
    let mut res = Response::new(Body::from(view.to_json()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

fn add_rate_headers(res: &mut Response, info: Option<RateInfo>) {
    if let Some(info) = info {
        let h = res.headers_mut();
        for (name, v) in [
            (X_RATE_LIMIT_LIMIT, u64::from(info.limit)),
            (X_RATE_LIMIT_REMAINING, u64::from(info.remaining)),
            (X_RATE_LIMIT_RESET, info.reset_s),
        ] {
            h.insert(name, HeaderValue::from(v));
        }
    }
}

/// The `Idempotency-Key` header: 1-255 visible ASCII characters.
fn idempotency_key(header: Option<&HeaderValue>) -> Result<Option<String>, ApiError> {
    let Some(v) = header else {
        return Ok(None);
    };
    let s = v.to_str().unwrap_or("");
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            codes::INVALID_IDEMPOTENCY_KEY,
            "Idempotency-Key must be 1-255 visible ASCII characters",
        ));
    }
    Ok(Some(s.to_owned()))
}

/// Releases an idempotency reservation unless the reply was stored.
struct IdemGuard<'a> {
    app: &'a App,
    key: IdemKey,
    done: bool,
}

impl IdemGuard<'_> {
    /// Releases the reservation now (the normal path; `Drop` covers a cancelled request).
    async fn release(mut self) {
        self.done = true;
        if let Err(e) = self
            .app
            .service
            .store()
            .idempotency_release(&self.key)
            .await
        {
            tracing::warn!(error = %e, "idempotency key not released: it frees itself later");
        }
    }
}

impl Drop for IdemGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let store = self.app.service.store().clone();
            let key = self.key.clone();
            let mut fut = Box::pin(async move {
                if let Err(e) = store.idempotency_release(&key).await {
                    tracing::warn!(error = %e, "idempotency key not released: it frees itself later");
                }
            });
            if futures::FutureExt::now_or_never(&mut fut).is_none() {
                tokio::spawn(fut);
            }
        }
        self.app.idem_changed.notify_waiters();
    }
}

/// Takes one of `tenant`'s rate tokens for an SMS (a create or a resend): the figures for
/// the `X-Rate-Limit-*` headers, or the 429 refusal.
async fn take_token(app: &App, tenant: &Tenant) -> Result<Option<RateInfo>, ApiError> {
    let taken = match app.rate.take_now(tenant) {
        Some(taken) => taken,
        None => app.rate.take(tenant).await,
    };
    taken
        .map_err(OtpError::from)?
        .map_err(|(info, retry_after)| {
            ApiError::from(OtpError::TenantLimited { info, retry_after })
        })
}

/// `POST /otp`. The request whole, not a `HeaderMap` extractor: that one clones every header
/// of every create.
pub async fn create(State(app): State<Arc<App>>, req: Request) -> Reply {
    create_with(&app, req).await
}

/// `POST /otp` on `app` as borrowed: the connection's direct create takes no reference of its
/// own to the snapshot (a count both workers write).
pub async fn create_with(app: &App, req: Request) -> Reply {
    let (parts, body) = req.into_parts();
    let headers = RequestHeaders::of(&parts.headers);
    let tenant = auth::tenant_by(&app.tenants, headers.api_key, headers.authorization)
        .ok_or_else(ApiError::unauthorized)?;
    admission::refuse_early(app, headers.idempotency_key.is_some())?;
    let rate = take_token(app, tenant).await?;
    let (value, _) = read_json(&headers, body, app.config.http.body_limit_bytes, false).await?;
    let key = idempotency_key(headers.idempotency_key)?;
    let Some(key) = key else {
        let mut res = create_reply(app, tenant, &value).await;
        add_rate_headers(&mut res, rate);
        return Ok(res);
    };
    // Canonical form of the body (serde_json sorts object keys): whitespace and key order do
    // not make two bodies different.
    // The tenant's tag is part of both the key and the fingerprint: a reply is replayed to
    // its own tenant only.
    let fingerprint: [u8; 32] = Sha256::new()
        .chain_update(tenant.tag().get().to_be_bytes())
        .chain_update(value.to_string().as_bytes())
        .finalize()
        .into();
    let idem = IdemKey {
        tenant: tenant.tag(),
        key: key.into(),
    };
    let store = app.service.store();
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(app.config.http.request_timeout_ms);
    loop {
        let changed = app.idem_changed.notified();
        let now = app.service.clock().unix_secs();
        match store
            .idempotency_reserve(&idem, fingerprint, now)
            .await
            .map_err(OtpError::from)?
        {
            IdemReserve::Reserved => break,
            IdemReserve::Replay(stored) => {
                let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
                let body = String::from_utf8_lossy(&stored.body).into_owned();
                let mut res = json_reply(status, body);
                res.headers_mut()
                    .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
                add_rate_headers(&mut res, rate);
                return Ok(res);
            }
            IdemReserve::Conflict => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "duplicate_id",
                    codes::DUPLICATE_ID,
                    "this Idempotency-Key was used with another request body",
                ))
            }
            IdemReserve::InFlight => {
                // Wait for the first request; poll too, in case its store lives elsewhere.
                let wait = tokio::time::sleep(Duration::from_millis(50));
                tokio::select! {
                    _ = changed => {}
                    _ = wait => {}
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "duplicate_id",
                        codes::DUPLICATE_ID,
                        "a request with this Idempotency-Key is still being handled",
                    ));
                }
            }
        }
    }
    let mut guard = IdemGuard {
        app,
        key: idem,
        done: false,
    };
    let mut res = create_reply(app, tenant, &value).await;
    if res.status() == StatusCode::CREATED {
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let stored = IdemReply {
            status: parts.status.as_u16(),
            body: bytes.clone(),
        };
        let completed = store
            .idempotency_complete(
                &guard.key,
                stored,
                app.service.clock().unix_secs(),
                app.config.limits.idempotency_ttl_s,
            )
            .await;
        match completed {
            Ok(()) => guard.done = true,
            // the OTP exists: the client gets it, but a retry would not be recognized
            Err(e) => tracing::warn!(error = %e, "idempotency reply not stored"),
        }
        res = Response::from_parts(parts, Body::from(bytes));
    }
    if guard.done {
        drop(guard);
    } else {
        guard.release().await;
    }
    add_rate_headers(&mut res, rate);
    Ok(res)
}

async fn create_reply(app: &App, tenant: &Tenant, value: &Value) -> Response {
    match create_view(app, tenant, value).await {
        Ok(view) => view_reply(StatusCode::CREATED, &view),
        Err(e) => e.into_response(),
    }
}

async fn create_view(app: &App, tenant: &Tenant, value: &Value) -> Result<OtpView, ApiError> {
    let cb = &app.config.callbacks;
    let req = create_body::parse(
        value,
        app.service.otp_config(),
        cb.allow_private,
        &app.phones,
    )
    .await?;
    let callback = req.callback_url.clone().filter(|_| !cb.allow_private);
    // The host's addresses, not only its name (checked again at each delivery): looked up
    // once every limit has admitted the create, so refused creates cost no lookup.
    let check_host = || async {
        let Some(url) = callback else {
            return Ok(());
        };
        ssrf::check_url(&url, false, &app.callback_hosts)
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_param",
                    2019,
                    e.to_string(),
                )
                .with_field("otpCallbackUrl")
            })
    };
    app.service.create_checked(tenant, req, check_host).await
}

/// `GET /otp/{otpId}`.
pub async fn get(State(app): State<Arc<App>>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let tenant = auth::tenant(&app.tenants, &headers)?;
    let view = app.service.get(tenant, &id).await?;
    Ok(view_reply(StatusCode::OK, &view))
}

/// `POST /otp/{otpId}` and `POST /otp/{otpId}/verify`.
pub async fn verify(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Reply {
    let tenant = auth::tenant(&app.tenants, &headers)?;
    let (value, _) = read_json(
        &RequestHeaders::of(&headers),
        body,
        app.config.http.body_limit_bytes,
        true,
    )
    .await?;
    if !value.is_object() && !value.is_null() {
        return Err(ApiError::invalid_body("the body must be a JSON object"));
    }
    // sms.cx clients may send the PIN as a JSON number
    let pin = match value.get("pin") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        Some(Value::Null) | None => None,
        Some(_) => return Err(OtpError::PinMissing.into()),
    };
    app.service.verify(tenant, &id, pin.as_deref()).await?;
    Ok(json_reply(
        StatusCode::OK,
        json!({"status": "VERIFIED"}).to_string(),
    ))
}

/// `POST /otp/{otpId}/resend`: a new PIN, sent again; the OTP object. A resend sends an SMS,
/// so it takes a token from the tenant's rate like a create.
pub async fn resend(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let tenant = auth::tenant(&app.tenants, &headers)?;
    let rate = take_token(&app, tenant).await?;
    let view = app.service.resend(tenant, &id).await?;
    let mut res = view_reply(StatusCode::OK, &view);
    add_rate_headers(&mut res, rate);
    Ok(res)
}

/// `DELETE /otp/{otpId}`.
pub async fn cancel(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    let tenant = auth::tenant(&app.tenants, &headers)?;
    let view = app.service.cancel(tenant, &id).await?;
    Ok(json_reply(
        StatusCode::OK,
        json!({"info": {"id": view.otp_id}}).to_string(),
    ))
}
