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

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
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

/// Below this many bits of entropy the create reply carries a warning: 20 bits as the industry
/// rounds it, so that a 6-digit PIN (19.93 bits, the usual minimum) passes and 4 or 5 digits
/// (13.3 / 16.6 bits) are flagged.
pub const WEAK_PIN_BITS: f64 = 19.9;

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
    /// HMAC-SHA256 keyed once: each hash starts from a copy (keying hashes two blocks).
    keyed: Hmac<Sha256>,
}

impl PinHasher {
    pub fn new(secret: &[u8]) -> Self {
        // HMAC takes keys of any length: a key is never refused
        let keyed = Hmac::<Sha256>::new_from_slice(secret)
            .unwrap_or_else(|_| <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default()));
        Self { keyed }
    }

    /// A random 32-byte key, for a node that was given no secret.
    pub fn random() -> Self {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self::new(&key)
    }

    /// Hash of `pin` for the OTP `otp_id`. The id is mixed in so equal PINs of two OTPs have
    /// unrelated hashes. Letters are compared case-insensitively (users type `abc` for `ABC`).
    pub fn hash(&self, otp_id: &[u8; 16], pin: &str) -> PinHash {
        let mut mac = self.keyed.clone();
        mac.update(otp_id);
        // the PIN uppercased, a buffer at a time
        let mut upper = [0u8; 64];
        for chunk in pin.trim().as_bytes().chunks(upper.len()) {
            let upper = upper.get_mut(..chunk.len()).unwrap_or_default();
            for (u, b) in upper.iter_mut().zip(chunk) {
                *u = b.to_ascii_uppercase();
            }
            mac.update(upper);
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

    /// The hash of the PIN `pin` for `id` as stored hashes were made: HMAC-SHA256 keyed with
    /// the secret over the id and the PIN uppercased, truncated (a hash stored by one
    /// version verifies on the next).
    fn reference_hash(secret: &[u8], id: &[u8; 16], pin: &str) -> [u8; PIN_HASH_LEN] {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(id);
        mac.update(pin.trim().to_ascii_uppercase().as_bytes());
        let full = mac.finalize().into_bytes();
        full[..PIN_HASH_LEN].try_into().unwrap()
    }

    #[test]
    fn hashes_are_hmac_sha256_of_id_and_uppercased_pin() {
        for secret in [&b""[..], b"0123456789abcdef", &[0x5a; 100]] {
            let h = PinHasher::new(secret);
            for (i, pin) in ["1234", " ab12 ", "", &"x".repeat(150), "Zz9"]
                .iter()
                .enumerate()
            {
                let id = [i as u8; 16];
                assert_eq!(
                    h.hash(&id, pin).0,
                    reference_hash(secret, &id, pin),
                    "{pin}"
                );
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

    /// Chi-square goodness of fit of 100 000 PINs of each type against the uniform
    /// distribution over the alphabet, per character position and pooled. The critical values
    /// are the 0.999 quantiles of chi-square with k-1 degrees of freedom (alpha = 0.001:
    /// k=10 -> 27.877, k=26 -> 52.620, k=36 -> 66.619); a modulo bias (for example `byte % 36`,
    /// which favours the first 4 characters by 1/7) exceeds them by far at this sample size.
    #[test]
    fn pins_are_uniform_chi_square() {
        const N: usize = 100_000;
        const LEN: u8 = 6;
        for (kind, critical) in [
            (PinType::Numbers, 27.877),
            (PinType::Letters, 52.620),
            (PinType::Alphanumeric, 66.619),
        ] {
            let alphabet = kind.alphabet();
            let k = alphabet.len();
            let mut per_pos = vec![vec![0u64; k]; usize::from(LEN)];
            for _ in 0..N {
                for (pos, b) in generate(kind, LEN).bytes().enumerate() {
                    let idx = alphabet.iter().position(|a| *a == b).unwrap();
                    per_pos[pos][idx] += 1;
                }
            }
            let chi = |counts: &[u64], total: f64| -> f64 {
                let expected = total / k as f64;
                counts
                    .iter()
                    .map(|&c| (c as f64 - expected).powi(2) / expected)
                    .sum()
            };
            // pooled over every position (600 000 characters)
            let pooled: Vec<u64> = (0..k).map(|i| per_pos.iter().map(|p| p[i]).sum()).collect();
            let x = chi(&pooled, (N * usize::from(LEN)) as f64);
            assert!(x < critical, "{kind:?} pooled chi2 = {x:.2} >= {critical}");
            // the first position alone (100 000 characters)
            let x0 = chi(&per_pos[0], N as f64);
            assert!(
                x0 < critical,
                "{kind:?} first-position chi2 = {x0:.2} >= {critical}"
            );
        }
    }

    #[test]
    fn chi_square_detects_modulo_bias() {
        // the same statistic on a biased generator (byte % 36) must fail, or the test above
        // could not fail either
        use rand::RngCore;
        let mut rng = rand::rng();
        let mut counts = [0u64; 36];
        for _ in 0..100_000 {
            let b = (rng.next_u32() & 0xff) as usize;
            counts[b % 36] += 1;
        }
        let expected = 100_000.0 / 36.0;
        let x: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(x > 66.619, "biased generator passed: {x}");
    }

    #[test]
    fn entropy() {
        assert!(PinType::Numbers.entropy_bits(4) < WEAK_PIN_BITS);
        assert!(PinType::Numbers.entropy_bits(5) < WEAK_PIN_BITS);
        assert!(PinType::Numbers.entropy_bits(6) > WEAK_PIN_BITS);
        assert!(PinType::Numbers.entropy_bits(7) > WEAK_PIN_BITS);
        assert!(PinType::Letters.entropy_bits(5) > WEAK_PIN_BITS);
    }
}
