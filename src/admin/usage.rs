//! `GET /admin/tenants/{id}/usage?from=YYYY-MM-DD&to=YYYY-MM-DD`: a tenant's usage per UTC
//! day, for invoicing (see `docs/operations.md`). Every day of the range is listed, zeros
//! included, with the range's total; costs as fixed six-decimal amounts of `[otp] currency`
//! and as integer micro-units.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Access;
use super::reply::AdminError;
use super::reply::{counted, no_store};
use super::Admin;
use crate::otp::clock::Clock;
use crate::otp::identity::TenantTag;
use crate::otp::usage::{
    date_of, day_of, oldest_kept, parse_date, DayUsage, UsageStore, MAX_SPAN_DAYS,
};

/// Days shown when the request names no range: the last 31, today included.
const DEFAULT_DAYS: u32 = 31;

/// What the usage endpoint reads.
pub struct UsageAccess {
    pub store: Arc<dyn UsageStore>,
    /// Whether a tenant has this id (the tenants in force: a reload shows).
    pub tenant_known: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// `[otp] currency`.
    pub currency: String,
    pub clock: Arc<Clock>,
}

#[derive(Debug, Deserialize)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_range", message)
}

fn date(text: &str, which: &str) -> Result<u32, AdminError> {
    parse_date(text).ok_or_else(|| {
        invalid(format!(
            "{which} must be a date YYYY-MM-DD (UTC), got {text:?}"
        ))
    })
}

/// The days asked for, checked against the retention at `today`: `to` after today stops at
/// today; `from` may not be before the oldest day kept.
fn days_asked(range: &Range, today: u32, retention_days: u32) -> Result<(u32, u32), AdminError> {
    let oldest = oldest_kept(today, retention_days);
    let to = match &range.to {
        Some(t) => date(t, "to")?,
        None => today,
    };
    let from = match &range.from {
        Some(f) => date(f, "from")?,
        None => (to.min(today) + 1).saturating_sub(DEFAULT_DAYS).max(oldest),
    };
    if from > to {
        return Err(invalid("from is after to"));
    }
    if from > today {
        return Err(invalid(format!("from is after today ({})", date_of(today))));
    }
    if from < oldest {
        return Err(invalid(format!(
            "usage is kept {retention_days} days: the oldest day is {}",
            date_of(oldest)
        )));
    }
    let to = to.min(today);
    if to - from + 1 > MAX_SPAN_DAYS {
        return Err(invalid(format!("at most {MAX_SPAN_DAYS} days per request")));
    }
    Ok((from, to))
}

/// Micro-units as a decimal with six places: `1234567` is `"1.234567"`.
fn amount(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

fn counts(u: &DayUsage) -> Value {
    json!({
        "created": u.created,
        "parts": u.parts,
        "cost": amount(u.cost_micros),
        "cost_micros": u.cost_micros,
        "verified": u.verified,
    })
}

pub async fn usage(
    State(admin): State<Arc<Admin>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    range: Result<Query<Range>, QueryRejection>,
) -> Response {
    counted("usage", answer(&admin, &headers, &id, range).await)
}

async fn answer(
    admin: &Admin,
    headers: &HeaderMap,
    id: &str,
    range: Result<Query<Range>, QueryRejection>,
) -> Result<Response, AdminError> {
    admin.tokens.allow(headers, Access::Read)?;
    let Some(access) = admin.usage.get() else {
        return Err(AdminError::new(
            StatusCode::NOT_IMPLEMENTED,
            "usage_not_available",
            "this engine does not count usage",
        ));
    };
    if !(access.tenant_known)(id) {
        return Err(AdminError::new(
            StatusCode::NOT_FOUND,
            "unknown_tenant",
            format!("no tenant has the id {id:?}"),
        ));
    }
    let Query(range) = range.map_err(|e| invalid(e.body_text()))?;
    let today = day_of(access.clock.unix_secs());
    let retention = access.store.usage_retention_days();
    let (from, to) = days_asked(&range, today, retention)?;
    let counted = access
        .store
        .usage(TenantTag::of(id), from, to)
        .await
        .map_err(|e| {
            AdminError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                e.to_string(),
            )
        })?;
    let mut total = DayUsage::default();
    let mut counted = counted.into_iter().peekable();
    let days: Vec<Value> = (from..=to)
        .map(|day| {
            let u = match counted.peek() {
                Some((d, _)) if *d == day => counted.next().map(|(_, u)| u).unwrap_or_default(),
                _ => DayUsage::default(),
            };
            total.add(&u);
            let mut row = counts(&u);
            row["date"] = json!(date_of(day));
            row
        })
        .collect();
    Ok(no_store(
        Json(json!({
            "tenant": id,
            "currency": access.currency,
            "from": date_of(from),
            "to": date_of(to),
            "retention_days": retention,
            "days": days,
            "total": counts(&total),
        }))
        .into_response(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: Option<&str>, to: Option<&str>) -> Range {
        Range {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn ranges_default_to_the_last_31_days_and_stay_within_the_retention() {
        let today = parse_date("2026-12-03").unwrap();
        let asked = |f, t, keep| {
            days_asked(&range(f, t), today, keep).map(|(a, b)| (date_of(a), date_of(b)))
        };
        let ok = |a: &str, b: &str| Ok::<_, ()>((a.to_owned(), b.to_owned()));
        assert_eq!(
            asked(None, None, 400).map_err(drop),
            ok("2026-11-03", "2026-12-03")
        );
        assert_eq!(
            asked(None, None, 7).map_err(drop),
            ok("2026-11-27", "2026-12-03")
        );
        assert_eq!(
            asked(Some("2026-12-01"), Some("2027-01-05"), 400).map_err(drop),
            ok("2026-12-01", "2026-12-03")
        );
        assert_eq!(
            asked(None, Some("2026-10-31"), 400).map_err(drop),
            ok("2026-10-01", "2026-10-31")
        );
        for (f, t, keep) in [
            (Some("2026-12-04"), None, 400),
            (Some("2026-12-02"), Some("2026-12-01"), 400),
            (Some("2026-11-26"), None, 7),
            (Some("2025-01-01"), None, 3660),
            (Some("2026-12-1"), None, 400),
            (None, Some("yesterday"), 400),
        ] {
            let e = asked(f, t, keep).expect_err("refused");
            assert_eq!(
                (e.status.as_u16(), e.code),
                (422, "invalid_range"),
                "{f:?} {t:?}"
            );
        }
    }

    #[test]
    fn amounts_have_six_exact_decimals() {
        assert_eq!(amount(0), "0.000000");
        assert_eq!(amount(35_000), "0.035000");
        assert_eq!(amount(1_234_567_890), "1234.567890");
    }
}
