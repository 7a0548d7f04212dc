//! Configuration of the SMPP engine: one SMSC connection (`[[smsc]]` in the TOML file) and the
//! engine-wide settings (`[engine]`). Every field has a default so that a minimal entry names
//! only what differs. Values deserialize into their types (national languages are parsed
//! there); [`validate`] checks the ranges once, for the configuration loader and the engine.

use std::collections::BTreeMap;
use std::time::Duration;

use otpgate_codec::text::{Concat, EncodingChoice, NationalLanguage};
use serde::{Deserialize, Deserializer};

use super::tlv_config::{NamedTlv, RouteTlvs, TlvSetting};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BindMode {
    #[default]
    Transceiver,
    TransmitterReceiver,
}

/// How the parts of a long message are tied together (also `otpgate sms split --concat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ConcatMethod {
    #[default]
    Udh8,
    Udh16,
    Sar,
    Payload,
}

/// Which alphabet to put the text in (also `otpgate sms split --encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// GSM 03.38 when the text fits it (national shift tables included), UCS-2 otherwise.
    #[default]
    Auto,
    Gsm7,
    Ucs2,
    Latin1,
}

impl From<ConcatMethod> for Concat {
    fn from(c: ConcatMethod) -> Self {
        match c {
            ConcatMethod::Udh8 => Concat::Udh8,
            ConcatMethod::Udh16 => Concat::Udh16,
            ConcatMethod::Sar => Concat::Sar,
            ConcatMethod::Payload => Concat::Payload,
        }
    }
}

impl From<TextEncoding> for EncodingChoice {
    fn from(e: TextEncoding) -> Self {
        match e {
            TextEncoding::Auto => EncodingChoice::Auto,
            TextEncoding::Gsm7 => EncodingChoice::Gsm7,
            TextEncoding::Ucs2 => EncodingChoice::Ucs2,
            TextEncoding::Latin1 => EncodingChoice::Latin1,
        }
    }
}

/// How the validity_period of a submit_sm is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ValidityFormat {
    /// `YYMMDDhhmmss000R`, the time left until the OTP expires, computed at each (re)send.
    /// Immune to clock skew between otpgate and the SMSC: the default.
    #[default]
    Relative,
    /// `YYMMDDhhmmsst00+`, the OTP's expiry in UTC.
    Absolute,
}

/// What happens to a submit_sm whose response does not come within `response_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutPolicy {
    /// Send it again (at-least-once: the SMSC may have taken the first copy).
    #[default]
    Retry,
    /// Report it FAILED (at-most-once).
    Fail,
}

/// TON/NPI pairs written into submit_sm addresses, by kind of address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TonNpiConfig {
    /// Alphanumeric sender ID (default 5/0).
    pub alphanumeric: [u8; 2],
    /// International number, sender or destination (default 1/1).
    pub international: [u8; 2],
    /// Short code, at most 8 digits (default 3/0).
    pub short_code: [u8; 2],
}

impl Default for TonNpiConfig {
    fn default() -> Self {
        Self {
            alphanumeric: [5, 0],
            international: [1, 1],
            short_code: [3, 0],
        }
    }
}

/// SMPP over TLS for SMSCs that offer it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub enabled: bool,
    /// PEM file of the CA certificates to trust; the web PKI roots when absent.
    pub ca_file: Option<String>,
    /// Name to verify the SMSC's certificate against; `host` when absent.
    pub server_name: Option<String>,
}

/// One `[[smsc]]` entry. Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmscConfig {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    /// address_range of the bind (empty: whatever the SMSC decides).
    pub address_range: String,
    pub bind_mode: BindMode,
    /// Number of binds (transceivers, or transmitter+receiver pairs).
    pub binds: usize,
    /// At most this many submit_sm outstanding per bind.
    pub window: usize,
    /// Segments per second across all binds of this SMSC; 0 = unthrottled.
    pub tps: u32,
    pub concat: ConcatMethod,
    /// Destination prefixes this SMSC serves ("+" = everything).
    pub routes: Vec<String>,
    /// Among the SMSCs of one route, lower is tried first.
    pub priority: u32,
    /// Among SMSCs of equal priority, the share of new traffic (0 = only as a fallback).
    pub weight: u32,
    pub encoding: TextEncoding,
    /// data_coding written for GSM 03.38 text (0 = SMSC default alphabet, some SMSCs want 1).
    pub gsm7_data_coding: u8,
    /// National language shift tables the text may use, as the codec names them ("turkish",
    /// "spanish", "portuguese", "bengali", "gujarati", "hindi", "kannada", "malayalam",
    /// "oriya", "punjabi", "tamil", "telugu", "urdu") or by ISO 639-1 code ("hi").
    #[serde(deserialize_with = "national_languages")]
    pub national_languages: Vec<NationalLanguage>,
    /// Pack GSM 03.38 septets (most SMSCs want one septet per octet: false).
    pub packed_gsm7: bool,
    /// Most segments one message may take.
    pub max_parts: usize,
    pub ton_npi: TonNpiConfig,
    /// TON/NPI of the destination (an E.164 number); the international pair when absent.
    pub destination_ton_npi: Option<[u8; 2]>,
    pub validity: ValidityFormat,
    pub service_type: String,
    pub tls: TlsConfig,
    /// Overrides of the engine-wide values for this SMSC.
    pub response_timeout_ms: Option<u64>,
    pub enquire_link_interval_ms: Option<u64>,
    /// A part still without a final receipt this long after its submit_sm_resp is asked
    /// about with query_sm; 0 (the default) watches nothing.
    pub query_after_s: u64,
    /// Optional TLVs added to every submit_sm (every part of a long message).
    pub tlvs: Vec<TlvSetting>,
    /// TLVs for destinations under a prefix, merged over `tlvs` (longest prefix wins).
    pub route_tlvs: Vec<RouteTlvs>,
    /// Named TLVs (`pe_id = 0x1400`) whose values come from the tenant and template.
    pub tlv_names: BTreeMap<String, NamedTlv>,
    /// Price per part by destination prefix (`"+44" = 0.035`), longest prefix wins; where
    /// none matches, `[otp] price_per_part` applies.
    pub prices: BTreeMap<String, f64>,
}

impl Default for SmscConfig {
    fn default() -> Self {
        Self {
            name: "smsc".into(),
            host: "127.0.0.1".into(),
            port: 2775,
            system_id: "test".into(),
            password: "secret".into(),
            system_type: String::new(),
            address_range: String::new(),
            bind_mode: BindMode::Transceiver,
            binds: 1,
            window: 64,
            tps: 0,
            concat: ConcatMethod::Udh8,
            routes: vec!["+".into()],
            priority: 0,
            weight: 1,
            encoding: TextEncoding::Auto,
            gsm7_data_coding: 0,
            national_languages: Vec::new(),
            packed_gsm7: false,
            max_parts: 10,
            ton_npi: TonNpiConfig::default(),
            destination_ton_npi: None,
            validity: ValidityFormat::Relative,
            service_type: String::new(),
            tls: TlsConfig::default(),
            response_timeout_ms: None,
            enquire_link_interval_ms: None,
            query_after_s: 0,
            tlvs: Vec::new(),
            route_tlvs: Vec::new(),
            tlv_names: BTreeMap::new(),
            prices: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for SmscConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmscConfig")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("system_type", &self.system_type)
            .field("bind_mode", &self.bind_mode)
            .field("binds", &self.binds)
            .field("window", &self.window)
            .field("tps", &self.tps)
            .field("concat", &self.concat)
            .field("routes", &self.routes)
            .field("priority", &self.priority)
            .field("weight", &self.weight)
            .field("tls", &self.tls.enabled)
            .field("query_after_s", &self.query_after_s)
            .field("tlvs", &self.tlvs.len())
            .field("route_tlvs", &self.route_tlvs.len())
            .field("prices", &self.prices.len())
            .finish_non_exhaustive()
    }
}

impl SmscConfig {
    pub fn response_timeout(&self, engine: &EngineSettings) -> Duration {
        ms(self
            .response_timeout_ms
            .unwrap_or(engine.response_timeout_ms))
    }
    pub fn enquire_link_interval(&self, engine: &EngineSettings) -> Duration {
        ms(self
            .enquire_link_interval_ms
            .unwrap_or(engine.enquire_link_interval_ms))
    }
}

/// One national language table, by name or ISO 639-1 code; an unknown one fails
/// deserialization, naming the value (and, through the loader, the field).
struct LanguageName(NationalLanguage);

impl<'de> Deserialize<'de> for LanguageName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        NationalLanguage::from_name(&name)
            .map(LanguageName)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown national language {name:?}: must name a TS 23.038 national \
                     language table: turkish, spanish, portuguese, bengali, gujarati, hindi, \
                     kannada, malayalam, oriya, punjabi, tamil, telugu, urdu, or its ISO 639-1 \
                     code"
                ))
            })
    }
}

/// Each element through [`LanguageName`], so an error carries its index in the list.
fn national_languages<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NationalLanguage>, D::Error> {
    let names = Vec::<LanguageName>::deserialize(d)?;
    Ok(names.into_iter().map(|n| n.0).collect())
}

/// Engine-wide settings (`[engine]`). Durations are in milliseconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Messages waiting to be sent, across every SMSC, before `QueueFull`.
    pub queue_capacity: usize,
    /// Retry-After given with `QueueFull` / `NoRoute` / `ShuttingDown`.
    pub retry_after_ms: u64,
    pub connect_timeout_ms: u64,
    /// Wait for bind_*_resp, unbind_resp.
    pub bind_timeout_ms: u64,
    /// Wait for a submit_sm_resp.
    pub response_timeout_ms: u64,
    pub timeout_policy: TimeoutPolicy,
    /// Recycle a bind after this many submit_sm timeouts in a row.
    pub max_consecutive_timeouts: u32,
    /// enquire_link after this long without a PDU from the SMSC.
    pub enquire_link_interval_ms: u64,
    /// The link is dead when enquire_link_resp does not come within this.
    pub enquire_link_timeout_ms: u64,
    /// A write to the socket taking longer than this kills the link.
    pub write_timeout_ms: u64,
    /// Reconnect backoff: exponential from min to max, full jitter.
    pub reconnect_min_ms: u64,
    pub reconnect_max_ms: u64,
    /// Backoff after a bind refused for its credentials (system_id / password).
    pub auth_failure_min_ms: u64,
    pub auth_failure_max_ms: u64,
    /// Pause of a bind after ESME_RTHROTTLED.
    pub throttle_pause_ms: u64,
    /// Pause of a bind after ESME_RMSGQFUL.
    pub queue_full_pause_ms: u64,
    /// Transient errors and timeouts: attempts per message before FAILED.
    pub max_attempts: u32,
    /// Transient errors and timeouts: first retry delay (doubles, full jitter).
    pub retry_min_ms: u64,
    pub retry_max_ms: u64,
    /// After this many transient failures on one SMSC, a message tries the next of its route.
    pub failover_after_attempts: u32,
    /// An SMSC with no bind up (or every bind paused) this long hands its queue to the next
    /// SMSC of each message's route.
    pub failover_after_ms: u64,
    /// `NoRoute` when no SMSC of the route has had a bind up within this (engine start counts
    /// as up, so messages are taken while the first binds come up).
    pub no_route_after_ms: u64,
    /// Largest PDU accepted from an SMSC.
    pub max_pdu_len: usize,
    /// Submit-to-receipt latency is measured for at most this many outstanding message ids;
    /// each SMSC with `query_after_s` watches at most this many for query_sm.
    pub receipt_clock_capacity: usize,
    /// Receipts (deliver_sm) being recorded at once on one bind; at this many the bind stops
    /// reading until one is recorded and answered.
    pub receipts_in_flight: usize,
    /// Dense traffic: when a message comes within this long of a bind's last pass, the bind
    /// waits out the rest of it so that what else comes leaves in the same write (0: each at
    /// once). A quiet bind sends at once.
    pub submit_gather_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            queue_capacity: 10_000,
            retry_after_ms: 5_000,
            connect_timeout_ms: 5_000,
            bind_timeout_ms: 5_000,
            response_timeout_ms: 10_000,
            timeout_policy: TimeoutPolicy::Retry,
            max_consecutive_timeouts: 10,
            enquire_link_interval_ms: 30_000,
            enquire_link_timeout_ms: 10_000,
            write_timeout_ms: 5_000,
            reconnect_min_ms: 500,
            reconnect_max_ms: 30_000,
            auth_failure_min_ms: 30_000,
            auth_failure_max_ms: 300_000,
            throttle_pause_ms: 1_000,
            queue_full_pause_ms: 5_000,
            max_attempts: 5,
            retry_min_ms: 500,
            retry_max_ms: 10_000,
            failover_after_attempts: 2,
            failover_after_ms: 10_000,
            no_route_after_ms: 60_000,
            max_pdu_len: 4096,
            receipt_clock_capacity: 100_000,
            receipts_in_flight: 64,
            submit_gather_ms: 1,
        }
    }
}

/// Bound of `receipts_in_flight`: each one holds a parsed deliver_sm in memory.
pub const MAX_RECEIPTS_IN_FLIGHT: usize = 4096;

/// Bound of `submit_gather_ms`: a message waits at most this long (and a timer tick) for others.
pub const MAX_SUBMIT_GATHER_MS: u64 = 20;

/// Receipts later than a day are not waited for.
pub const MAX_QUERY_AFTER_S: u64 = 86_400;

pub(crate) fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// A setting the engine cannot run with. `field` is its dotted path (`smsc[1].name`,
/// `engine.queue_capacity`), as the configuration loader names fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingError {
    pub field: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_smsc_takes_defaults() {
        let c: SmscConfig = toml::from_str("name = \"a\"\nport = 2776\n").unwrap();
        assert_eq!(c.window, 64);
        assert_eq!(c.ton_npi.alphanumeric, [5, 0]);
        assert_eq!(c.routes, vec!["+".to_string()]);
        let e: EngineSettings = toml::from_str("queue_capacity = 5\n").unwrap();
        assert_eq!(e.queue_capacity, 5);
        assert_eq!(e.timeout_policy, TimeoutPolicy::Retry);
    }

    #[test]
    fn debug_hides_the_password() {
        let c = SmscConfig {
            password: "hunter2".into(),
            ..SmscConfig::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn national_languages_by_name_or_code() {
        let c: SmscConfig = toml::from_str(
            r#"national_languages = ["Turkish", "hi", "Tamil", "urdu", "assamese"]"#,
        )
        .unwrap();
        use NationalLanguage::*;
        assert_eq!(
            c.national_languages,
            vec![Turkish, Hindi, Tamil, Urdu, Bengali]
        );
        let err = toml::from_str::<SmscConfig>(r#"national_languages = ["klingon"]"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("\"klingon\""), "{err}");
    }

    #[test]
    fn unknown_field_is_refused() {
        assert!(toml::from_str::<SmscConfig>("nmae = \"a\"\n").is_err());
        assert!(toml::from_str::<EngineSettings>("queue = 1\n").is_err());
    }
}
