//! The simulator's configuration: accounts, per-account behaviour (latency, window, TPS,
//! error/disconnect injection, receipts, message-id format), all serde so it loads from a file.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::duration::{self, parse_duration};
pub use super::receipt_mix::{ReceiptMix, ReceiptStat};

/// Everything the simulator does. `SimConfig::default()` is one account `test`/`secret`,
/// immediate answers and receipts when registered_delivery asks for them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// system_id the simulator names itself in bind_*_resp.
    pub system_id: String,
    pub accounts: Vec<AccountConfig>,
    /// Behaviour of every account that does not carry its own.
    pub behaviour: Behaviour,
    /// Connections served at once; further accepts wait for a slot.
    pub max_connections: usize,
    /// Largest PDU accepted; a longer command_length closes the link.
    pub max_pdu_len: usize,
    /// A connection that has not bound within this time is closed.
    #[serde(with = "duration")]
    pub bind_timeout: Duration,
    /// The simulator sends enquire_link itself on every bound session at this interval.
    #[serde(with = "duration::option")]
    pub enquire_interval: Option<Duration>,
    /// Reassemble and keep received messages (needed for `messages()`, distinct/duplicate
    /// counters and per-destination counts).
    pub record_messages: bool,
    /// How many reassembled messages `messages()` keeps (oldest dropped first).
    pub message_log_capacity: usize,
    /// JSON-lines file receiving every received PDU and every reassembled message.
    pub capture: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            system_id: "otpgate-sim".into(),
            accounts: vec![AccountConfig::new("test", "secret")],
            behaviour: Behaviour::default(),
            max_connections: 1024,
            max_pdu_len: 65_536,
            bind_timeout: Duration::from_secs(30),
            enquire_interval: None,
            record_messages: true,
            message_log_capacity: 10_000,
            capture: None,
        }
    }
}

/// One ESME account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub system_id: String,
    pub password: String,
    /// Binds open at once for this account; one more is refused with ESME_RBINDFAIL.
    #[serde(default)]
    pub max_binds: Option<u32>,
    /// Overrides [`SimConfig::behaviour`] for this account.
    #[serde(default)]
    pub behaviour: Option<Behaviour>,
}

impl AccountConfig {
    pub fn new(system_id: &str, password: &str) -> Self {
        Self {
            system_id: system_id.into(),
            password: password.into(),
            max_binds: None,
            behaviour: None,
        }
    }
}

/// How an account's sessions are treated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// Delay before each submit_sm_resp.
    pub latency: Latency,
    /// Largest number of unanswered submit_sm per session; one more is answered
    /// ESME_RMSGQFUL and counted as a window violation.
    pub window: Option<u32>,
    /// submit_sm per second per account (token bucket, burst of one second); above it the
    /// answer is ESME_RTHROTTLED.
    pub tps: Option<u32>,
    /// Fraction (0.0-1.0) of submit_sm answered with `error_status` instead of success.
    pub error_rate: f64,
    pub error_status: u32,
    /// The session is dropped, without answer or unbind, when its N-th PDU arrives.
    pub disconnect_after_pdus: Option<u64>,
    /// The session is dropped, without unbind, this long after its bind.
    #[serde(with = "duration::option")]
    pub disconnect_every: Option<Duration>,
    pub receipts: ReceiptConfig,
    pub message_id: MessageIdFormat,
    /// How query_sm is answered.
    pub query_sm: QuerySmMode,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            latency: Latency::None,
            window: None,
            tps: None,
            error_rate: 0.0,
            error_status: 0x0000_0008,
            disconnect_after_pdus: None,
            disconnect_every: None,
            receipts: ReceiptConfig::default(),
            message_id: MessageIdFormat::Hex,
            query_sm: QuerySmMode::Refuse,
        }
    }
}

/// Delivery receipts: sent when registered_delivery asks for them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiptConfig {
    pub enabled: bool,
    /// Delay between the submit and its receipt.
    pub delay: Latency,
    /// Weighted outcomes.
    pub mix: ReceiptMix,
    pub carrier: ReceiptCarrier,
    /// Send the receipt before the submit_sm_resp, as an SMSC that delivers at once may: on
    /// the same transceiver session, or handed to a receiver session of the account while
    /// the transmitter's answer waits a moment. `delay` is then ignored.
    pub before_response: bool,
    /// Send ENROUTE, then ACCEPTD, before the final receipt.
    pub intermediate: bool,
}

impl Default for ReceiptConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            delay: Latency::Fixed {
                value: Duration::from_millis(100),
            },
            mix: ReceiptMix::default(),
            carrier: ReceiptCarrier::Both,
            before_response: false,
            intermediate: false,
        }
    }
}

/// Where a receipt carries its id and state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptCarrier {
    /// `id:… stat:…` in short_message only.
    Text,
    /// receipted_message_id and message_state TLVs only (short_message empty).
    Tlv,
    Both,
    /// `id:… stat:…` in the message_payload TLV (short_message empty).
    Payload,
}

impl FromStr for ReceiptCarrier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "tlv" => Ok(Self::Tlv),
            "both" => Ok(Self::Both),
            "payload" => Ok(Self::Payload),
            _ => Err(format!(
                "receipt carrier {s:?}: expected text, tlv, both or payload"
            )),
        }
    }
}

/// How query_sm is answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuerySmMode {
    /// generic_nack ESME_RINVCMDID, as an SMSC without query_sm does.
    #[default]
    Refuse,
    /// query_sm_resp with the message's state: the outcome its receipt has (or would have,
    /// when receipts are off or not asked for); ESME_RQUERYFAIL for an unknown id or a
    /// source address other than the submit_sm's.
    Answer,
}

impl FromStr for QuerySmMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "refuse" => Ok(Self::Refuse),
            "answer" => Ok(Self::Answer),
            _ => Err(format!("query_sm mode {s:?}: expected answer or refuse")),
        }
    }
}

/// How message ids are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageIdFormat {
    /// Lowercase hexadecimal everywhere.
    Hex,
    /// Decimal everywhere.
    Decimal,
    /// Hex in submit_sm_resp (and receipted_message_id), decimal in the receipt text, as some
    /// SMSCs do.
    Mixed,
}

impl FromStr for MessageIdFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "hex" => Ok(Self::Hex),
            "decimal" | "dec" => Ok(Self::Decimal),
            "mixed" => Ok(Self::Mixed),
            _ => Err(format!(
                "message id format {s:?}: expected hex, decimal or mixed"
            )),
        }
    }
}

/// A delay distribution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// Answer at once (no timer at all).
    #[default]
    None,
    Fixed {
        #[serde(with = "duration")]
        value: Duration,
    },
    Uniform {
        #[serde(with = "duration")]
        min: Duration,
        #[serde(with = "duration")]
        max: Duration,
    },
    Exponential {
        #[serde(with = "duration")]
        mean: Duration,
    },
}

impl Latency {
    pub fn is_none(&self) -> bool {
        match self {
            Latency::None => true,
            Latency::Fixed { value } => value.is_zero(),
            _ => false,
        }
    }

    /// One delay drawn from the distribution (exponential capped at 20 means).
    pub fn sample<R: rand::Rng>(&self, rng: &mut R) -> Duration {
        match self {
            Latency::None => Duration::ZERO,
            Latency::Fixed { value } => *value,
            Latency::Uniform { min, max } if max > min => {
                let span = max.saturating_sub(*min).as_secs_f64();
                min.saturating_add(Duration::from_secs_f64(span * rng.random::<f64>()))
            }
            Latency::Uniform { min, .. } => *min,
            Latency::Exponential { mean } => {
                let u: f64 = rng.random::<f64>();
                let factor = (-(1.0 - u).ln()).min(20.0);
                Duration::from_secs_f64(mean.as_secs_f64() * factor)
            }
        }
    }
}

impl FromStr for Latency {
    type Err = String;
    /// `0`, `5ms`, `fixed:5ms`, `uniform:1ms-10ms`, `exp:5ms`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "0" || s == "none" {
            return Ok(Latency::None);
        }
        if let Some(rest) = s.strip_prefix("uniform:") {
            let (a, b) = rest
                .split_once('-')
                .ok_or_else(|| format!("latency {s:?}: expected uniform:MIN-MAX"))?;
            let (min, max) = (parse_duration(a)?, parse_duration(b)?);
            if max < min {
                return Err(format!("latency {s:?}: max below min"));
            }
            return Ok(Latency::Uniform { min, max });
        }
        if let Some(rest) = s.strip_prefix("exp:") {
            return Ok(Latency::Exponential {
                mean: parse_duration(rest)?,
            });
        }
        let value = parse_duration(s.strip_prefix("fixed:").unwrap_or(s))?;
        Ok(Latency::Fixed { value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_parses() {
        assert_eq!("0".parse::<Latency>().unwrap(), Latency::None);
        assert_eq!(
            "5ms".parse::<Latency>().unwrap(),
            Latency::Fixed {
                value: Duration::from_millis(5)
            }
        );
        assert_eq!(
            "uniform:1ms-2s".parse::<Latency>().unwrap(),
            Latency::Uniform {
                min: Duration::from_millis(1),
                max: Duration::from_secs(2)
            }
        );
        assert!("uniform:2s-1ms".parse::<Latency>().is_err());
        assert!("exp:abc".parse::<Latency>().is_err());
    }

    #[test]
    fn mix_parses_and_samples_only_named_states() {
        let mix: ReceiptMix = "DELIVRD=90,UNDELIV=8,expired=2".parse().unwrap();
        assert_eq!(mix.weights().len(), 3);
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let s = mix.sample(&mut rng);
            assert!(matches!(
                s,
                ReceiptStat::DELIVRD | ReceiptStat::UNDELIV | ReceiptStat::EXPIRED
            ));
        }
        assert!("DELIVRD=0".parse::<ReceiptMix>().is_err());
        assert!("NOPE=1".parse::<ReceiptMix>().is_err());
    }

    #[test]
    fn config_round_trips_through_json() {
        let mut c = SimConfig::default();
        c.behaviour.latency = Latency::Exponential {
            mean: Duration::from_millis(3),
        };
        c.behaviour.receipts.mix = "DELIVRD=3,REJECTD=1".parse().unwrap();
        c.enquire_interval = Some(Duration::from_secs(30));
        let json = serde_json::to_string(&c).unwrap();
        let back: SimConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }
}
