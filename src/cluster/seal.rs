//! Send-queue entries at rest: the SMS (its text holds the PIN, its destination is a phone
//! number) is sealed with ChaCha20-Poly1305 under a key derived (HKDF-SHA256) from
//! `[security] pin_secret`, so Redis, its backups and its replicas never hold a PIN in
//! cleartext. The otpId, in the clear beside it for the queue's bookkeeping, is the
//! associated data: an entry moved under another OTP's id does not open.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf;
use serde::{Deserialize, Serialize};

use crate::dispatch::{OutboundSms, SmscChoice};

/// The first byte of a sealed entry: the format and key derivation it was made with.
const VERSION: u8 = 1;
const SALT: &[u8] = b"otpgate send queue";
const INFO: &[u8] = b"chacha20poly1305 entry v1";

/// Why an entry does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("unknown entry format")]
    Format,
    /// Tampered with, made under another key (`pin_secret` changed) or for another OTP.
    #[error("the entry does not authenticate")]
    Forged,
    #[error("the entry's content is not an SMS")]
    Content,
}

/// The key entries are sealed with, shared by every node configured with the same secret.
#[derive(Clone)]
pub struct Sealer {
    key: Arc<LessSafeKey>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key>)")
    }
}

/// The SMS as the queue keeps it (inside the seal).
#[derive(Serialize, Deserialize)]
struct Sealed {
    tenant: String,
    destination: String,
    sender: String,
    text: String,
    expires_ms: u64,
    #[serde(default)]
    tlv: BTreeMap<String, String>,
    #[serde(default)]
    allowed: Option<Vec<String>>,
    #[serde(default)]
    preference: Vec<String>,
}

impl Sealer {
    pub fn new(secret: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(secret);
        let key = match prk.expand(&[INFO], &CHACHA20_POLY1305) {
            Ok(okm) => UnboundKey::from(okm),
            // 32 bytes from HKDF-SHA256 are always within its output limit
            Err(_) => unreachable!("HKDF-SHA256 yields a ChaCha20 key"),
        };
        Self {
            key: Arc::new(LessSafeKey::new(key)),
        }
    }

    /// `sms` sealed (version, random nonce, ciphertext and tag).
    pub fn seal(&self, sms: &OutboundSms) -> Vec<u8> {
        let body = Sealed {
            tenant: sms.tenant.clone(),
            destination: sms.destination.clone(),
            sender: sms.sender.clone(),
            text: sms.text.clone(),
            expires_ms: unix_ms(sms.expires_at),
            tlv: sms.tlv_values.clone(),
            allowed: sms.smscs.as_ref().map(|c| c.allowed.clone()),
            preference: sms
                .smscs
                .as_ref()
                .map(|c| c.preference.clone())
                .unwrap_or_default(),
        };
        let mut buf = serde_json::to_vec(&body).unwrap_or_default();
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = Aad::from(sms.otp_id.as_bytes());
        // ChaCha20-Poly1305 fails only on inputs of 256 GiB or more
        if self
            .key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad, &mut buf)
            .is_err()
        {
            buf.clear();
        }
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        out
    }

    /// The SMS of OTP `otp_id` sealed in `sealed`.
    pub fn open(&self, otp_id: &str, sealed: &[u8]) -> Result<OutboundSms, OpenError> {
        let (&version, rest) = sealed.split_first().ok_or(OpenError::Format)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(OpenError::Format);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError::Format)?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(otp_id.as_bytes()), &mut buf)
            .map_err(|_| OpenError::Forged)?;
        let body: Sealed = serde_json::from_slice(plain).map_err(|_| OpenError::Content)?;
        let smscs = (body.allowed.is_some() || !body.preference.is_empty()).then(|| {
            Arc::new(SmscChoice {
                allowed: body.allowed.unwrap_or_default(),
                preference: body.preference,
            })
        });
        Ok(OutboundSms {
            otp_id: otp_id.to_owned(),
            tenant: body.tenant,
            destination: body.destination,
            sender: body.sender,
            text: body.text,
            expires_at: UNIX_EPOCH + Duration::from_millis(body.expires_ms),
            tlv_values: body.tlv,
            smscs,
        })
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms() -> OutboundSms {
        OutboundSms {
            otp_id: "0b7f5d8e-4a3c-4f55-9a51-6f7e2b1c9d00".into(),
            tenant: "acme".into(),
            destination: "+447700900123".into(),
            sender: "Acme".into(),
            text: "Your code is 493817".into(),
            expires_at: UNIX_EPOCH + Duration::from_millis(1_900_000_000_123),
            tlv_values: BTreeMap::from([("pe_id".to_owned(), "1201".to_owned())]),
            smscs: Some(Arc::new(SmscChoice {
                allowed: vec!["alpha".into(), "beta".into()],
                preference: vec!["beta".into()],
            })),
        }
    }

    #[test]
    fn an_entry_opens_to_the_same_sms_and_holds_no_cleartext() {
        let sealer = Sealer::new(b"a-shared-secret-of-enough-bytes");
        let original = sms();
        let sealed = sealer.seal(&original);
        let text = String::from_utf8_lossy(&sealed);
        for secret in ["493817", "447700900123", "acme", "Acme"] {
            assert!(!text.contains(secret), "{secret} in the clear");
        }
        // another node with the same secret opens it
        let opened = Sealer::new(b"a-shared-secret-of-enough-bytes")
            .open(&original.otp_id, &sealed)
            .expect("opens");
        assert_eq!(opened.text, original.text);
        assert_eq!(opened.destination, original.destination);
        assert_eq!(opened.sender, original.sender);
        assert_eq!(opened.tenant, original.tenant);
        assert_eq!(opened.expires_at, original.expires_at);
        assert_eq!(opened.tlv_values, original.tlv_values);
        assert_eq!(opened.smscs, original.smscs);
        // two seals of one SMS differ (fresh nonce)
        assert_ne!(sealer.seal(&original), sealed);
    }

    #[test]
    fn a_tampered_or_foreign_entry_does_not_open() {
        let sealer = Sealer::new(b"a-shared-secret-of-enough-bytes");
        let original = sms();
        let sealed = sealer.seal(&original);
        for at in [1, NONCE_LEN + 1, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 0x01;
            assert_eq!(
                sealer.open(&original.otp_id, &bad).err(),
                Some(OpenError::Forged),
                "byte {at} flipped"
            );
        }
        assert_eq!(
            sealer
                .open("11111111-2222-4333-8444-555555555555", &sealed)
                .err(),
            Some(OpenError::Forged),
            "moved under another OTP"
        );
        assert_eq!(
            Sealer::new(b"another-secret-of-enough-bytes")
                .open(&original.otp_id, &sealed)
                .err(),
            Some(OpenError::Forged),
            "another key"
        );
        let mut old = sealed.clone();
        old[0] = 9;
        assert_eq!(
            sealer.open(&original.otp_id, &old).err(),
            Some(OpenError::Format)
        );
        assert_eq!(
            sealer.open(&original.otp_id, &sealed[..5]).err(),
            Some(OpenError::Format)
        );
        assert_eq!(
            sealer.open(&original.otp_id, &[]).err(),
            Some(OpenError::Format)
        );
    }
}
