//! PIN generation (CSPRNG, uniform over the alphabet) and keyed hashing (HMAC-SHA256,
//! compared in constant time). A PIN exists in clear only in the rendered SMS text.

use hmac::{Hmac, Mac};
use rand::distr::{Distribution, Uniform};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Bytes of the HMAC kept per OTP (128 bits: far beyond any PIN's entropy).
pub const PIN_HASH_LEN: usize = 16;

/// A stored PIN: the first [`PIN_HASH_LEN`] bytes of HMAC-SHA256(secret, otp_id || pin).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PinHash(pub [u8; PIN_HASH_LEN]);

impl PinHash {
    /// Constant-time comparison.
    pub fn matches(&self, other: &PinHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinHash(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinType {
    Numbers,
    Letters,
    Alphanumeric,
}

const DIGITS: &[u8] = b"0123456789";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

impl PinType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "numbers" => Some(PinType::Numbers),
            "letters" => Some(PinType::Letters),
            "alphanumeric" => Some(PinType::Alphanumeric),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PinType::Numbers => "numbers",
            PinType::Letters => "letters",
            PinType::Alphanumeric => "alphanumeric",
        }
    }

    pub fn alphabet(self) -> &'static [u8] {
        match self {
            PinType::Numbers => DIGITS,
            PinType::Letters => LETTERS,
            PinType::Alphanumeric => ALNUM,
        }
    }

    /// Entropy of a PIN of `len` characters, in bits.
    pub fn entropy_bits(self, len: u8) -> f64 {
        f64::from(len) * (self.alphabet().len() as f64).log2()
    }
}

/// Below this many bits of entropy the create reply carries a warning.
pub const WEAK_PIN_BITS: f64 = 20.0;

/// Draws a PIN from the thread-local CSPRNG (ChaCha, seeded from the OS), each character
/// uniform over the alphabet (Lemire's rejection method: no modulo bias).
pub fn generate(kind: PinType, len: u8) -> String {
    let alphabet = kind.alphabet();
    let mut rng = rand::rng();
    // The alphabet is never empty, so the range is never empty.
    let Ok(dist) = Uniform::new(0, alphabet.len()) else {
        return String::new();
    };
    (0..len)
        .map(|_| char::from(alphabet.get(dist.sample(&mut rng)).copied().unwrap_or(b'0')))
        .collect()
}

/// Keyed PIN hashing.
#[derive(Clone)]
pub struct PinHasher {
    key: Vec<u8>,
}

impl PinHasher {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: secret.to_vec(),
        }
    }

    /// A random 32-byte key, for a node that was given no secret.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self { key }
    }

    /// Hash of `pin` for the OTP `otp_id`. The id is mixed in so equal PINs of two OTPs have
    /// unrelated hashes. Letters are compared case-insensitively (users type `abc` for `ABC`).
    pub fn hash(&self, otp_id: &[u8; 16], pin: &str) -> PinHash {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => return PinHash([0; PIN_HASH_LEN]), // HMAC takes keys of any length
        };
        mac.update(otp_id);
        for b in pin.trim().bytes() {
            mac.update(&[b.to_ascii_uppercase()]);
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; PIN_HASH_LEN];
        for (o, b) in out.iter_mut().zip(full.iter()) {
            *o = *b;
        }
        PinHash(out)
    }
}

impl std::fmt::Debug for PinHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PinHasher(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_have_the_requested_shape() {
        for kind in [PinType::Numbers, PinType::Letters, PinType::Alphanumeric] {
            for len in 4..=10u8 {
                let pin = generate(kind, len);
                assert_eq!(pin.len(), usize::from(len));
                assert!(pin.bytes().all(|b| kind.alphabet().contains(&b)));
            }
        }
    }

    #[test]
    fn hash_depends_on_key_id_and_pin_and_ignores_case() {
        let h = PinHasher::new(b"0123456789abcdef");
        let id = [7u8; 16];
        let a = h.hash(&id, "AB12");
        assert!(a.matches(&h.hash(&id, "ab12")));
        assert!(!a.matches(&h.hash(&id, "AB13")));
        assert!(!a.matches(&h.hash(&[8u8; 16], "AB12")));
        assert!(!a.matches(&PinHasher::new(b"another-secret!!").hash(&id, "AB12")));
    }

    #[test]
    fn entropy() {
        assert!(PinType::Numbers.entropy_bits(4) < WEAK_PIN_BITS);
        assert!(PinType::Numbers.entropy_bits(6) < WEAK_PIN_BITS);
        assert!(PinType::Numbers.entropy_bits(7) > WEAK_PIN_BITS);
        assert!(PinType::Letters.entropy_bits(5) > WEAK_PIN_BITS);
    }
}
