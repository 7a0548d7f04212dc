//! The sms.cx create body (`POST /otp`): every field read from JSON with its type, range and
//! default checked, each failure carrying the sms.cx error code of its field. The result is
//! the OTP core's typed [`CreateRequest`].

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::error::{codes, ApiError};
use crate::callbacks::ssrf;
use crate::otp::language;
use crate::otp::phone::{LibraryPool, PhoneError};
use crate::otp::pin::PinType;
use crate::otp::sender::parse_sender;
use crate::otp::{CreateRequest, OtpConfig};

fn bad(code: u16, field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_param", code, message).with_field(field)
}

/// The body's fields, each `None` when absent or null: found in one pass over the object's
/// keys, where a search of its tree per field name cost eleven searches per create.
#[derive(Default)]
struct Fields<'a> {
    phone_number: Option<&'a Value>,
    country_iso: Option<&'a Value>,
    from: Option<&'a Value>,
    template: Option<&'a Value>,
    language: Option<&'a Value>,
    track_id: Option<&'a Value>,
    ttl: Option<&'a Value>,
    max_attempts: Option<&'a Value>,
    pin_type: Option<&'a Value>,
    pin_length: Option<&'a Value>,
    otp_callback_url: Option<&'a Value>,
}

impl<'a> Fields<'a> {
    fn of(obj: &'a Map<String, Value>) -> Self {
        let mut f = Fields::default();
        for (name, value) in obj.iter().filter(|(_, v)| !v.is_null()) {
            let slot = match name.as_str() {
                "phoneNumber" => &mut f.phone_number,
                "countryIso" => &mut f.country_iso,
                "from" => &mut f.from,
                "template" => &mut f.template,
                "language" => &mut f.language,
                "trackId" => &mut f.track_id,
                "ttl" => &mut f.ttl,
                "maxAttempts" => &mut f.max_attempts,
                "pinType" => &mut f.pin_type,
                "pinLength" => &mut f.pin_length,
                "otpCallbackUrl" => &mut f.otp_callback_url,
                _ => continue,
            };
            *slot = Some(value);
        }
        f
    }
}

fn string<'a>(
    field: Option<&'a Value>,
    name: &str,
    code: u16,
) -> Result<Option<&'a str>, ApiError> {
    match field {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad(code, name, format!("{name} must be a string"))),
    }
}

/// An integer field: codes are (wrong type, below min, above max).
fn integer(
    field: Option<&Value>,
    name: &str,
    codes: (u16, u16, u16),
    range: (i64, i64),
    default: i64,
) -> Result<i64, ApiError> {
    let Some(v) = field else {
        return Ok(default);
    };
    let n = v
        .as_i64()
        .ok_or_else(|| bad(codes.0, name, format!("{name} must be an integer")))?;
    if n < range.0 {
        return Err(bad(
            codes.1,
            name,
            format!("{name} must be at least {}", range.0),
        ));
    }
    if n > range.1 {
        return Err(bad(
            codes.2,
            name,
            format!("{name} must be at most {}", range.1),
        ));
    }
    Ok(n)
}

fn check_template(t: &str, field: &str) -> Result<(), ApiError> {
    if !t.contains("{{pin}}") {
        return Err(bad(
            2006,
            field,
            format!("{field} must contain {{{{pin}}}}"),
        ));
    }
    if t.chars().count() > 1600 {
        return Err(bad(2006, field, format!("{field} is too long")));
    }
    Ok(())
}

/// Reads and checks a create body against the defaults of `cfg`; a number only the library
/// can parse goes to `phones`.
pub async fn parse(
    v: &Value,
    cfg: &OtpConfig,
    allow_private: bool,
    phones: &LibraryPool,
) -> Result<CreateRequest, ApiError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_body("the body must be a JSON object"))?;
    let fields = Fields::of(obj);
    // sms.cx: 2001 phoneNumber empty or not set
    let number = string(fields.phone_number, "phoneNumber", 2001)?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad(2001, "phoneNumber", "phoneNumber is required"))?;
    // sms.cx: 2002 countryIso missing (a national number needs it), 2003 invalid
    let country = string(fields.country_iso, "countryIso", 2003)?.filter(|c| !c.is_empty());
    let phone = phones.parse(number, country).await.map_err(|e| match e {
        PhoneError::NeedsCountry => bad(2002, "countryIso", e.to_string()),
        PhoneError::CountryFormat | PhoneError::CountryUnknown => {
            bad(2003, "countryIso", e.to_string())
        }
        PhoneError::Invalid => bad(2020, "phoneNumber", e.to_string()),
        PhoneError::Busy => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            codes::PHONE_PARSER_BUSY,
            e.to_string(),
        )
        .with_field("phoneNumber")
        .with_reason("phone_parser_busy")
        .retry_after(std::time::Duration::from_secs(1)),
    })?;

    // sms.cx: 2004 from empty, 2005 from not valid
    let sender = string(fields.from, "from", 2005)?;
    if let Some(s) = sender {
        if s.is_empty() {
            return Err(bad(2004, "from", "from is empty"));
        }
        parse_sender(s).map_err(|e| bad(2005, "from", e.to_string()))?;
    }

    let template = string(fields.template, "template", 2006)?;
    if let Some(t) = template {
        check_template(t, "template")?;
    }
    let mut templates = BTreeMap::new();
    for (k, val) in obj {
        let Some(code) = k.strip_prefix("template_") else {
            continue;
        };
        if val.is_null() {
            continue;
        }
        if !language::valid_code(code) {
            return Err(bad(
                2006,
                k,
                format!("{k}: `{code}` is not a language code"),
            ));
        }
        let t = val
            .as_str()
            .ok_or_else(|| bad(2006, k, format!("{k} must be a string")))?;
        check_template(t, k)?;
        templates.insert(language::normalize(code), t.to_owned());
    }
    let language = match string(fields.language, "language", 2006)? {
        Some(l) if language::valid_code(l) => Some(language::normalize(l)),
        Some(_) => return Err(bad(2006, "language", "language is not a language code")),
        None => None,
    };

    let track_id = match string(fields.track_id, "trackId", 2018)? {
        Some(t) => Some(
            uuid::Uuid::try_parse(t)
                .ok()
                .filter(|_| t.len() == 36)
                .map(|u| *u.as_bytes())
                .ok_or_else(|| bad(2018, "trackId", "trackId must be a UUID"))?,
        ),
        None => None,
    };

    let ttl = integer(
        fields.ttl,
        "ttl",
        (2007, 2008, 2009),
        (60, 1800),
        i64::from(cfg.default_ttl_s),
    )?;
    let max_attempts = integer(
        fields.max_attempts,
        "maxAttempts",
        (2010, 2011, 2012),
        (1, 10),
        i64::from(cfg.default_max_attempts),
    )?;
    let pin_type = match string(fields.pin_type, "pinType", 2013)? {
        // sms.cx: 2013 pinType empty (or not a string), 2014 not one of the three
        Some("") => return Err(bad(2013, "pinType", "pinType is empty")),
        Some(s) => PinType::parse(s).ok_or_else(|| {
            bad(
                2014,
                "pinType",
                "pinType must be numbers, letters or alphanumeric",
            )
        })?,
        None => cfg.default_pin_type,
    };
    let pin_length = integer(
        fields.pin_length,
        "pinLength",
        (2015, 2016, 2017),
        (4, 10),
        i64::from(cfg.default_pin_length),
    )?;

    let callback_url = match string(fields.otp_callback_url, "otpCallbackUrl", 2019)? {
        Some(u) => {
            let parsed = url::Url::parse(u)
                .ok()
                .filter(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some())
                .filter(|_| u.len() <= 2048)
                .ok_or_else(|| {
                    bad(
                        2019,
                        "otpCallbackUrl",
                        "otpCallbackUrl must be an http(s) URL",
                    )
                })?;
            if let Err(e) = ssrf::check_static(&parsed, allow_private) {
                return Err(bad(2019, "otpCallbackUrl", e.to_string()));
            }
            Some(u.to_owned())
        }
        None => None,
    };

    Ok(CreateRequest {
        phone,
        sender: sender.map(str::to_owned),
        template: template.map(str::to_owned),
        templates,
        language,
        track_id,
        ttl: u16::try_from(ttl).unwrap_or(600),
        max_attempts: u8::try_from(max_attempts).unwrap_or(5),
        pin_type,
        pin_length: u8::try_from(pin_length).unwrap_or(6),
        callback_url,
    })
}
