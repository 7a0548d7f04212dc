//! Authentication alone, with 1, 10,000 and 100,000 tenants in one run: the keyed token index
//! (`Tenants::by_token`) for the last tenant's token and for an unknown one, beside the linear
//! constant-time scan it replaced, measured on the same token sets. The hit is the token a
//! thread found before (remembered: no HMAC), the miss an unknown token (always MACed). Rounds are interleaved
//! (every set in turn, several times) and the median of the rounds is kept, so that drift
//! falls on every set alike; prints ns per lookup and the ratio to one tenant.
//! Run with `cargo bench -p otpgate --bench tenant_auth`.

use std::hint::black_box;
use std::time::Instant;

use otpgate::config::TenantConfig;
use otpgate::otp::tenant::Tenants;
use subtle::ConstantTimeEq;

const SIZES: [usize; 3] = [1, 10_000, 100_000];
const ROUNDS: usize = 7;
/// Lookups per round for the index; the scan gets as many tenant comparisons in total.
const LOOKUPS: usize = 200_000;

fn configs(n: usize) -> Vec<TenantConfig> {
    (0..n)
        .map(|i| TenantConfig {
            name: format!("customer-{i:06}"),
            token: format!("tok-customer-{i:06}-0123456789abcdef"),
            ..TenantConfig::default()
        })
        .collect()
}

/// What authentication did before the index: every token compared in constant time.
fn scan<'a>(list: &'a [TenantConfig], token: &str) -> Option<&'a TenantConfig> {
    let mut found = None;
    for t in list {
        let same: bool = t.token.as_bytes().ct_eq(token.as_bytes()).into();
        if same && found.is_none() {
            found = Some(t);
        }
    }
    found
}

fn time_per_op(ops: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ops {
        f();
    }
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let sets: Vec<(usize, Vec<TenantConfig>, Tenants)> = SIZES
        .iter()
        .map(|&n| {
            let c = configs(n);
            let start = Instant::now();
            let t = Tenants::new(&c, tokio::time::Instant::now());
            eprintln!(
                "{n} tenants: set built in {:.1} ms",
                start.elapsed().as_secs_f64() * 1e3
            );
            (n, c, t)
        })
        .collect();
    let mut hit = vec![Vec::new(); SIZES.len()];
    let mut miss = vec![Vec::new(); SIZES.len()];
    let mut linear = vec![Vec::new(); SIZES.len()];
    for _ in 0..ROUNDS {
        for (k, (n, c, t)) in sets.iter().enumerate() {
            let last = c[n - 1].token.clone();
            let unknown = "tok-customer-999999-0123456789abcdef";
            assert!(t.by_token(&last).is_some() && t.by_token(unknown).is_none());
            hit[k].push(time_per_op(LOOKUPS, || {
                black_box(t.by_token(black_box(&last)));
            }));
            miss[k].push(time_per_op(LOOKUPS, || {
                black_box(t.by_token(black_box(unknown)));
            }));
            linear[k].push(time_per_op((LOOKUPS / n).max(20), || {
                black_box(scan(black_box(c), black_box(&last)));
            }));
        }
    }
    let (hit, miss, linear): (Vec<f64>, Vec<f64>, Vec<f64>) = (
        hit.into_iter().map(median).collect(),
        miss.into_iter().map(median).collect(),
        linear.into_iter().map(median).collect(),
    );
    println!("| tenants | index, hit (ns) | ratio | index, miss (ns) | ratio | linear scan (ns) | ratio |");
    println!("|---|---|---|---|---|---|---|");
    for (k, n) in SIZES.iter().enumerate() {
        println!(
            "| {n} | {:.0} | {:.2} | {:.0} | {:.2} | {:.0} | {:.1} |",
            hit[k],
            hit[k] / hit[0],
            miss[k],
            miss[k] / miss[0],
            linear[k],
            linear[k] / linear[0]
        );
    }
}
