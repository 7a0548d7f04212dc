//! Text segmentation throughput: otpgate's `split` beside rusmpp 0.4 (`extra`) doing the same
//! work in the same run, on a 459-character GSM text (3 parts) and a 200-character Cyrillic
//! text (UCS-2, 3 parts). rusmpp is measured twice: its `Concatenator` (encode and cut, the
//! same work as `split`) and its multipart builder (which also clones a whole SubmitSm per
//! part). After criterion's report, a bounded timing loop prints the throughput ratios.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use otpgate_codec::text::{split, Concat, SplitOptions};
use rusmpp::extra::concatenation::{Concatenator, SubmitSmMultipartExt};
use rusmpp::extra::encoding::gsm7bit::Gsm7BitUnpacked;
use rusmpp::extra::encoding::ucs2::Ucs2;
use rusmpp::pdus::SubmitSm;

/// UDH length rusmpp reserves per part for an 8-bit reference.
const UDH8: usize = 6;

fn gsm_text() -> String {
    let sentence = "Your verification code is 482913. It expires in 10 minutes. Do not share it with anyone, our staff will never ask for it. ";
    let text: String = sentence.chars().cycle().take(459).collect();
    assert_eq!(text.chars().count(), 459);
    text
}

fn cyrillic_text() -> String {
    let sentence =
        "Ваш код подтверждения 482913. Он действует десять минут. Никому не сообщайте этот код. ";
    let text: String = sentence.chars().cycle().take(200).collect();
    assert_eq!(text.chars().count(), 200);
    text
}

fn opts() -> SplitOptions {
    SplitOptions {
        concat: Concat::Udh8,
        max_parts: 255,
        reference: 0x42,
        ..SplitOptions::default()
    }
}

fn ours(text: &str, o: &SplitOptions) -> usize {
    split(text, o).map(|m| m.parts.len()).unwrap_or(0)
}

fn rusmpp_concat_gsm(text: &str) -> bool {
    Gsm7BitUnpacked::new().concatenate(text, 140, UDH8).is_ok()
}

fn rusmpp_concat_ucs2(text: &str) -> bool {
    Ucs2::new().concatenate(text, 140, UDH8).is_ok()
}

fn rusmpp_multipart_gsm(text: &str) -> usize {
    SubmitSm::builder()
        .build()
        .multipart(text)
        .reference_u8(0x42)
        .gsm7bit_unpacked()
        .build()
        .map(|v| v.len())
        .unwrap_or(0)
}

fn rusmpp_multipart_ucs2(text: &str) -> usize {
    SubmitSm::builder()
        .build()
        .multipart(text)
        .reference_u8(0x42)
        .ucs2()
        .build()
        .map(|v| v.len())
        .unwrap_or(0)
}

fn bench(c: &mut Criterion) {
    let o = opts();
    let gsm = gsm_text();
    let cyr = cyrillic_text();
    assert_eq!(ours(&gsm, &o), 3);
    assert_eq!(ours(&cyr, &o), 3);

    let mut g = c.benchmark_group("split_gsm_459");
    g.throughput(Throughput::Elements(1));
    g.bench_function("otpgate", |b| b.iter(|| ours(black_box(&gsm), &o)));
    g.bench_function("rusmpp_concatenate", |b| {
        b.iter(|| rusmpp_concat_gsm(black_box(&gsm)))
    });
    g.bench_function("rusmpp_multipart", |b| {
        b.iter(|| rusmpp_multipart_gsm(black_box(&gsm)))
    });
    g.finish();

    let mut g = c.benchmark_group("split_cyrillic_200");
    g.throughput(Throughput::Elements(1));
    g.bench_function("otpgate", |b| b.iter(|| ours(black_box(&cyr), &o)));
    g.bench_function("rusmpp_concatenate", |b| {
        b.iter(|| rusmpp_concat_ucs2(black_box(&cyr)))
    });
    g.bench_function("rusmpp_multipart", |b| {
        b.iter(|| rusmpp_multipart_ucs2(black_box(&cyr)))
    });
    g.finish();
}

/// Nanoseconds per call, over at most 200 000 calls or 700 ms, whichever comes first.
fn ns_per_call(mut f: impl FnMut()) -> f64 {
    for _ in 0..1_000 {
        f();
    }
    let budget = Duration::from_millis(700);
    let start = Instant::now();
    let mut n = 0u32;
    while n < 200_000 && start.elapsed() < budget {
        f();
        n += 1;
    }
    start.elapsed().as_nanos() as f64 / f64::from(n.max(1))
}

fn ratios() {
    let o = opts();
    let gsm = gsm_text();
    let cyr = cyrillic_text();
    let rows: [(&str, f64, f64, f64); 2] = [
        (
            "GSM 459 chars",
            ns_per_call(|| {
                black_box(ours(black_box(&gsm), &o));
            }),
            ns_per_call(|| {
                black_box(rusmpp_concat_gsm(black_box(&gsm)));
            }),
            ns_per_call(|| {
                black_box(rusmpp_multipart_gsm(black_box(&gsm)));
            }),
        ),
        (
            "Cyrillic 200 chars",
            ns_per_call(|| {
                black_box(ours(black_box(&cyr), &o));
            }),
            ns_per_call(|| {
                black_box(rusmpp_concat_ucs2(black_box(&cyr)));
            }),
            ns_per_call(|| {
                black_box(rusmpp_multipart_ucs2(black_box(&cyr)));
            }),
        ),
    ];
    println!();
    println!("throughput ratio, otpgate split vs rusmpp 0.4 (higher is better for otpgate):");
    for (name, ours_ns, concat_ns, multi_ns) in rows {
        println!(
            "  {name:<20} otpgate {ours_ns:>8.0} ns | rusmpp concatenate {concat_ns:>8.0} ns -> x{:.2} | rusmpp multipart {multi_ns:>8.0} ns -> x{:.2}",
            concat_ns / ours_ns,
            multi_ns / ours_ns,
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    ratios();
}
