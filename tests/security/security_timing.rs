//! Timing side channel of PIN verification, as a statistical comparison rather than a threshold:
//! the verify path (keyed hash of the candidate, constant-time compare with the stored hash) is
//! timed for a wrong PIN sharing a long prefix with the right one and for a wrong PIN sharing
//! nothing, in many interleaved samples taken in the same run, in random order within each
//! pair so drift and ordering effects fall on both alike. The paired differences are compared
//! with their own noise: a difference counts only when it is both large against its standard
//! error (|median| > 5 SE, SE from a bootstrap) and material (above 3 % of the median time).
//! A deliberately leaky comparison (early exit per character, with some work per character)
//! measured the same way must be flagged, which shows the method can fail.

use std::hint::black_box;
use std::time::Instant;

use otpgate::otp::pin::{PinHash, PinHasher};
use sha2::{Digest, Sha256};

/// Pairs of samples per comparison.
const PAIRS: usize = 3_000;
/// Verifications per sample, so one sample is well above the clock's resolution.
const BATCH: usize = 8;

const RIGHT: &str = "483920";
/// Shares five characters with RIGHT.
const PREFIX: &str = "483921";
/// Shares nothing with RIGHT.
const OTHER: &str = "917354";

/// A small deterministic generator (xorshift64*), for the order within pairs and the bootstrap.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn time_batch(f: &impl Fn(&str) -> bool, pin: &str) -> f64 {
    let start = Instant::now();
    for _ in 0..BATCH {
        black_box(f(black_box(pin)));
    }
    start.elapsed().as_nanos() as f64 / BATCH as f64
}

struct Comparison {
    median_a: f64,
    median_b: f64,
    /// Median of the paired differences a - b, in ns.
    median_diff: f64,
    /// Bootstrap standard error of that median.
    se: f64,
    /// Welch's t on the 10 % trimmed samples, for the record.
    welch_t: f64,
}

impl Comparison {
    fn differs(&self) -> bool {
        self.median_diff.abs() > 5.0 * self.se
            && self.median_diff.abs() > 0.03 * self.median_b.min(self.median_a)
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn trimmed(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let cut = s.len() / 10;
    s[cut..s.len() - cut].to_vec()
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (
        m,
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0),
    )
}

/// Times `f` on `a` and `b` in PAIRS interleaved pairs and compares them.
fn compare(f: impl Fn(&str) -> bool, a: &str, b: &str, seed: u64) -> Comparison {
    let mut rng = Rng(seed);
    // Warm-up: caches, branch predictors, CPU frequency.
    for _ in 0..200 {
        time_batch(&f, a);
        time_batch(&f, b);
    }
    let (mut ta, mut tb) = (Vec::with_capacity(PAIRS), Vec::with_capacity(PAIRS));
    for _ in 0..PAIRS {
        if rng.next() & 1 == 0 {
            ta.push(time_batch(&f, a));
            tb.push(time_batch(&f, b));
        } else {
            tb.push(time_batch(&f, b));
            ta.push(time_batch(&f, a));
        }
    }
    let diffs: Vec<f64> = ta.iter().zip(&tb).map(|(x, y)| x - y).collect();
    let median_diff = median(&mut diffs.clone());
    // Bootstrap of the median of the differences.
    let boot: Vec<f64> = (0..300)
        .map(|_| {
            let mut s: Vec<f64> = (0..diffs.len())
                .map(|_| diffs[(rng.next() % diffs.len() as u64) as usize])
                .collect();
            median(&mut s)
        })
        .collect();
    let (_, boot_var) = mean_var(&boot);
    let ((ma, va), (mb, vb)) = (mean_var(&trimmed(&ta)), mean_var(&trimmed(&tb)));
    let n = (PAIRS - 2 * (PAIRS / 10)) as f64;
    Comparison {
        median_a: median(&mut ta),
        median_b: median(&mut tb),
        median_diff,
        se: boot_var.sqrt(),
        welch_t: (ma - mb) / (va / n + vb / n).sqrt(),
    }
}

fn report(what: &str, c: &Comparison) {
    println!(
        "{what}: median {:.0} ns vs {:.0} ns, paired median difference {:+.1} ns (SE {:.1} ns, {:+.2} %), Welch t (10 % trimmed) {:+.2}",
        c.median_a,
        c.median_b,
        c.median_diff,
        c.se,
        100.0 * c.median_diff / c.median_b,
        c.welch_t
    );
}

#[test]
#[ignore = "soak: 3,000 timed pairs per comparison, about 11 s, best on a quiet machine"]
fn a_shared_prefix_does_not_change_verification_time() {
    let _alone = crate::support::HEAVY.blocking_lock();
    let hasher = PinHasher::new(b"timing-test-secret-0123456789");
    let id = [0x42u8; 16];
    let stored = hasher.hash(&id, RIGHT);
    let verify = |pin: &str| -> bool { stored.matches(&hasher.hash(&id, pin)) };
    assert!(verify(RIGHT) && !verify(PREFIX) && !verify(OTHER));

    // The control: compares the PIN itself, character by character, stopping at the first
    // difference, with one SHA-256 per character compared (the kind of work a naive
    // implementation does per character). A shared prefix of five makes it slower.
    let leaky = |pin: &str| -> bool {
        for (x, y) in RIGHT.bytes().zip(pin.bytes()) {
            black_box(Sha256::digest([x]));
            if x != y {
                return false;
            }
        }
        RIGHT.len() == pin.len()
    };
    let control = compare(leaky, PREFIX, OTHER, 0xC0FFEE);
    report("leaky control", &control);
    assert!(
        control.differs(),
        "the method must flag the leaky comparison"
    );

    // The real path, twice with different orders: flagged in neither.
    for seed in [1, 2] {
        let c = compare(verify, PREFIX, OTHER, seed);
        report("PinHasher verify", &c);
        assert!(!c.differs(), "verification time depends on a shared prefix");
    }
    // Same check on the stored-hash comparison alone, with hashes differing in the first
    // versus only the last octet.
    let near = {
        let mut h = stored.0;
        h[15] ^= 1;
        PinHash(h)
    };
    let far = {
        let mut h = stored.0;
        h[0] ^= 1;
        PinHash(h)
    };
    let by_hash = |which: &str| -> bool {
        let candidate = if which.as_bytes()[0] == b'n' {
            &near
        } else {
            &far
        };
        (0..64).fold(false, |acc, _| acc | stored.matches(black_box(candidate)))
    };
    let c = compare(by_hash, "near", "far", 3);
    report("PinHash::matches", &c);
    assert!(
        !c.differs(),
        "hash comparison time depends on the first differing octet"
    );
}
