//! Sender rules per destination country (`[senders.countries.XX]`): whether an alphanumeric
//! sender ID reaches the country (the US and Canada refuse them), which alphanumeric IDs are
//! registered there, and the numeric sender (a long number or a short code) sent instead of a
//! refused one; or the create is refused. A tenant may have its own numeric sender per country
//! (`[[tenants]] numeric_senders`).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::identity::TenantTag;
use super::sender::{parse_sender, SenderKind};
use crate::telemetry::names;

/// What happens to a sender ID a country refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRefused {
    /// Send with the numeric sender instead.
    Replace,
    /// Refuse the create (400, code 1022).
    Refuse,
}

/// One country's rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountryRule {
    /// Alphanumeric sender IDs reach this country.
    pub alphanumeric: bool,
    /// When not empty, the only alphanumeric sender IDs the country's carriers take (those
    /// registered with them).
    pub registered: Vec<String>,
    /// Sent instead of a refused sender ID: a long number (9-15 digits, international) or a
    /// short code (3-8 digits). Empty: none.
    pub numeric_sender: String,
    /// `replace` or `refuse`; when absent, `replace` if a numeric sender is configured
    /// (here or for the tenant), `refuse` otherwise.
    pub on_refused: Option<OnRefused>,
}

impl Default for CountryRule {
    fn default() -> Self {
        Self {
            alphanumeric: true,
            registered: Vec::new(),
            numeric_sender: String::new(),
            on_refused: None,
        }
    }
}

/// `[senders]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendersConfig {
    /// By ISO 3166 alpha-2 code of the destination.
    pub countries: BTreeMap<String, CountryRule>,
}

/// Why a country refuses a sender ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCause {
    Alphanumeric,
    NotRegistered,
}

/// A sender ID the destination country refuses, with no replacement to send instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderRefused {
    pub sender: String,
    pub country: String,
    pub cause: RefusalCause,
}

impl std::fmt::Display for SenderRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.cause {
            RefusalCause::Alphanumeric => "alphanumeric sender IDs are not allowed",
            RefusalCause::NotRegistered => "this alphanumeric sender ID is not registered",
        };
        write!(
            f,
            "sender ID `{}` cannot be used for {}: {why} there",
            self.sender, self.country
        )
    }
}

/// The sender of the OTPs that store none (it was the default): each tenant's
/// `default_sender`, else `[otp] default_sender`, by tenant identity. What an OTP object built
/// away from its request (a status callback) shows as `from`.
#[derive(Debug, Clone, Default)]
pub struct DefaultSenders {
    by_tenant: HashMap<TenantTag, String>,
    otp: String,
}

impl DefaultSenders {
    pub fn new(otp_default: &str, tenants: &[super::settings::TenantConfig]) -> Self {
        Self {
            by_tenant: tenants
                .iter()
                .filter(|t| !t.default_sender.is_empty())
                .map(|t| (TenantTag::of(t.id()), t.default_sender.clone()))
                .collect(),
            otp: otp_default.to_owned(),
        }
    }

    pub fn of(&self, tenant: TenantTag) -> &str {
        self.by_tenant.get(&tenant).unwrap_or(&self.otp)
    }
}

/// Metric `action` label values.
pub const ACTIONS: [&str; 2] = ["replaced", "refused"];

impl SendersConfig {
    /// The sender that goes out for `sender` to `country`: itself, the numeric sender in its
    /// place, or a refusal. `tenant_numeric` is the tenant's own numeric sender per country.
    pub fn apply(
        &self,
        tenant_numeric: &BTreeMap<String, String>,
        country: &str,
        sender: String,
    ) -> Result<String, SenderRefused> {
        let Some(rule) = self.countries.get(country) else {
            return Ok(sender);
        };
        let Some(cause) = rule.refuses(&sender) else {
            return Ok(sender);
        };
        let numeric = tenant_numeric
            .get(country)
            .filter(|n| !n.is_empty())
            .or(Some(&rule.numeric_sender).filter(|n| !n.is_empty()));
        let action = rule.on_refused.unwrap_or(if numeric.is_some() {
            OnRefused::Replace
        } else {
            OnRefused::Refuse
        });
        match (action, numeric) {
            (OnRefused::Replace, Some(n)) => {
                count(country, "replaced");
                Ok(n.clone())
            }
            _ => {
                count(country, "refused");
                Err(SenderRefused {
                    sender,
                    country: country.to_owned(),
                    cause,
                })
            }
        }
    }

    /// Registers the metric's series at zero, one per configured country and action.
    pub fn register_metrics(&self) {
        for country in self.countries.keys() {
            for action in ACTIONS {
                metrics::counter!(names::SENDER_RULES, "country" => country.clone(), "action" => action)
                    .increment(0);
            }
        }
    }

    /// Checks every rule; the error is `(field, message)` with the field under `senders`.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (cc, rule) in &self.countries {
            let f = |k: &str| format!("senders.countries.{cc}.{k}");
            if !rule.numeric_sender.is_empty() && !is_numeric(&rule.numeric_sender) {
                return Err((
                    f("numeric_sender"),
                    "must be a long number (9-15 digits) or a short code (3-8 digits)".into(),
                ));
            }
            for (j, r) in rule.registered.iter().enumerate() {
                if parse_sender(r) != Ok(SenderKind::Alphanumeric) {
                    return Err((
                        f(&format!("registered[{j}]")),
                        "not an alphanumeric sender ID".into(),
                    ));
                }
            }
            if rule.on_refused == Some(OnRefused::Replace) && rule.numeric_sender.is_empty() {
                return Err((f("on_refused"), "\"replace\" needs numeric_sender".into()));
            }
        }
        Ok(())
    }
}

impl CountryRule {
    fn refuses(&self, sender: &str) -> Option<RefusalCause> {
        if parse_sender(sender) != Ok(SenderKind::Alphanumeric) {
            return None;
        }
        if !self.alphanumeric {
            return Some(RefusalCause::Alphanumeric);
        }
        if !self.registered.is_empty() && !self.registered.iter().any(|r| r == sender) {
            return Some(RefusalCause::NotRegistered);
        }
        None
    }
}

/// A long number or a short code (what may stand in for a refused alphanumeric ID).
pub fn is_numeric(sender: &str) -> bool {
    matches!(
        parse_sender(sender),
        Ok(SenderKind::LongNumber | SenderKind::ShortCode)
    )
}

fn count(country: &str, action: &'static str) {
    metrics::counter!(names::SENDER_RULES, "country" => country.to_owned(), "action" => action)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(toml_text: &str) -> SendersConfig {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn a_refused_alphanumeric_is_replaced_or_refused() {
        let r = rules(
            r#"
            [countries.US]
            alphanumeric = false
            numeric_sender = "12025550100"
            [countries.CA]
            alphanumeric = false
            [countries.IN]
            registered = ["ACMEOT"]
            numeric_sender = "56161"
            on_refused = "refuse"
            "#,
        );
        let none = BTreeMap::new();
        let go = |cc: &str, s: &str| r.apply(&none, cc, s.into());
        assert_eq!(go("US", "Verify"), Ok("12025550100".into()));
        assert_eq!(go("US", "447700900123"), Ok("447700900123".into()));
        assert_eq!(go("US", "12345"), Ok("12345".into()));
        assert_eq!(go("FR", "Verify"), Ok("Verify".into()));
        let ca = go("CA", "Verify").unwrap_err();
        assert_eq!(ca.cause, RefusalCause::Alphanumeric);
        assert!(ca.to_string().contains("CA"), "{ca}");
        assert_eq!(go("IN", "ACMEOT"), Ok("ACMEOT".into()));
        let not_registered = go("IN", "Other").unwrap_err();
        assert_eq!(not_registered.cause, RefusalCause::NotRegistered);
        // the tenant's own number for Canada turns the refusal into a replacement
        let own = BTreeMap::from([("CA".to_string(), "14165550123".to_string())]);
        assert_eq!(
            r.apply(&own, "CA", "Verify".into()),
            Ok("14165550123".into())
        );
        assert_eq!(
            r.apply(&own, "US", "Verify".into()),
            Ok("12025550100".into())
        );
    }

    #[test]
    fn check_names_the_field() {
        let bad = rules("[countries.US]\nnumeric_sender = \"Verify\"\n");
        assert_eq!(
            bad.check().unwrap_err().0,
            "senders.countries.US.numeric_sender"
        );
        let replace = rules("[countries.US]\non_refused = \"replace\"\n");
        assert_eq!(
            replace.check().unwrap_err().0,
            "senders.countries.US.on_refused"
        );
        let registered = rules("[countries.IN]\nregistered = [\"12345\"]\n");
        assert_eq!(
            registered.check().unwrap_err().0,
            "senders.countries.IN.registered[0]"
        );
        assert!(rules("[countries.US]\nalphanumeric = false\n")
            .check()
            .is_ok());
        assert!(toml::from_str::<SendersConfig>("[countries.US]\nalpha = 1\n").is_err());
    }
}
