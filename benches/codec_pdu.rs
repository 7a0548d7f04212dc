//! SMPP PDU codec throughput: otpgate's encoder, framing decoder and receipt decoding beside
//! the same operations in rusmpp 0.4, with the ours/rusmpp time ratios printed at the end.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, Criterion};
use otpgate_codec::framing::SmppCodec;
use otpgate_codec::pdu::{encode_pdu, Address, Body, Pdu, ShortMessage, SubmitSm, Tlv};
use rusmpp::tokio_codec::CommandCodec;
use rusmpp::types::{COctetString, OctetString};
use rusmpp::values::{EsmClass, Npi, RegisteredDelivery, Ton};
use rusmpp::{Command, CommandStatus};
use tokio_util::codec::{Decoder, Encoder};

const TEXT: &[u8] = b"Your otpgate verification code is 482913. It expires in 5 minutes.";

/// A deliver_sm receipt with text and receipted_message_id / message_state TLVs, as published
/// in twitter-archive/cloudhopper-smpp src/test/java/com/cloudhopper/smpp/transcoder/PduEncoderTest.java.
const RECEIPT: &str = "000000BA00000005000000000000000200010134343935313336313932300001013430343034000400000000000000006E69643A30303539313133393738207375623A30303120646C7672643A303031207375626D697420646174653A3130303231303137333020646F6E6520646174653A3130303231303137333120737461743A44454C49565244206572723A30303020746578743A4024232125262F3A000E0001010006000101001E000833383630316661000427000102";

fn ours_submit() -> Pdu {
    Pdu::new(
        0x0102_0304,
        Body::SubmitSm(SubmitSm {
            source: Address {
                ton: 5,
                npi: 0,
                addr: "OTPGATE".into(),
            },
            destination: Address {
                ton: 1,
                npi: 1,
                addr: "447700900123".into(),
            },
            registered_delivery: 1,
            short_message: ShortMessage::from_static(TEXT),
            tlvs: vec![Tlv::UserMessageReference(42)],
            ..Default::default()
        }),
    )
}

fn their_submit() -> Command {
    use rusmpp::tlvs::MessageSubmissionRequestTlvValue as V;
    let submit = rusmpp::pdus::SubmitSm::builder()
        .source_addr_ton(Ton::Alphanumeric)
        .source_addr_npi(Npi::Unknown)
        .source_addr(COctetString::from_static_slice(b"OTPGATE\0").expect("valid"))
        .dest_addr_ton(Ton::International)
        .dest_addr_npi(Npi::Isdn)
        .destination_addr(COctetString::from_static_slice(b"447700900123\0").expect("valid"))
        .esm_class(EsmClass::from(0))
        .registered_delivery(RegisteredDelivery::from(1))
        .short_message(OctetString::from_static_slice(TEXT).expect("valid"))
        .push_tlv(V::UserMessageReference(
            rusmpp::values::UserMessageReference::new(42),
        ))
        .build();
    Command::new(CommandStatus::EsmeRok, 0x0102_0304, submit)
}

fn wire_of(pdu: &Pdu) -> Bytes {
    let mut buf = BytesMut::new();
    encode_pdu(pdu, &mut buf).expect("encodes");
    buf.freeze()
}

/// PDUs per simulated socket read in the stream decode measurements.
const STREAM_PDUS: usize = 64;

fn stream_of(wire: &[u8]) -> BytesMut {
    let mut b = BytesMut::with_capacity(wire.len() * STREAM_PDUS);
    for _ in 0..STREAM_PDUS {
        b.extend_from_slice(wire);
    }
    b
}

struct Ops {
    ours_pdu: Pdu,
    their_cmd: Command,
    submit_wire: Bytes,
    receipt_wire: Bytes,
}

impl Ops {
    fn new() -> Self {
        let ours_pdu = ours_submit();
        let submit_wire = wire_of(&ours_pdu);
        let mut theirs = BytesMut::new();
        let their_cmd = their_submit();
        CommandCodec::new()
            .encode(&their_cmd, &mut theirs)
            .expect("rusmpp encodes");
        assert_eq!(&theirs[..], &submit_wire[..], "same PDU on both sides");
        Self {
            ours_pdu,
            their_cmd,
            submit_wire,
            receipt_wire: Bytes::from(hex::decode(RECEIPT).expect("hex")),
        }
    }

    fn ours_encode(&self, buf: &mut BytesMut) {
        buf.clear();
        encode_pdu(black_box(&self.ours_pdu), buf).expect("encodes");
        black_box(&buf);
    }

    fn their_encode(&self, codec: &mut CommandCodec, buf: &mut BytesMut) {
        buf.clear();
        codec
            .encode(black_box(&self.their_cmd), buf)
            .expect("encodes");
        black_box(&buf);
    }

    fn ours_decode(codec: &mut SmppCodec, wire: &[u8]) {
        let mut src = BytesMut::from(black_box(wire));
        black_box(codec.decode(&mut src).expect("decodes").expect("frame"));
    }

    /// Decodes every frame of a read buffer holding [`STREAM_PDUS`] PDUs, as a session does
    /// after a socket read; returns how many frames came out.
    fn ours_stream(codec: &mut SmppCodec, stream: &BytesMut) -> usize {
        let mut src = stream.clone();
        let mut n = 0;
        while let Some(f) = codec.decode(&mut src).expect("decodes") {
            black_box(f);
            n += 1;
        }
        n
    }

    fn their_stream(codec: &mut CommandCodec, stream: &BytesMut) -> usize {
        let mut src = stream.clone();
        let mut n = 0;
        while let Some(f) = codec.decode(&mut src).expect("decodes") {
            black_box(f);
            n += 1;
        }
        n
    }

    fn their_decode(codec: &mut CommandCodec, wire: &[u8]) {
        let mut src = BytesMut::from(black_box(wire));
        black_box(codec.decode(&mut src).expect("decodes").expect("frame"));
    }
}

fn bench(c: &mut Criterion) {
    let ops = Ops::new();
    let mut ours_codec = SmppCodec::default();
    let mut their_codec = CommandCodec::new();
    let mut buf = BytesMut::with_capacity(512);

    let mut g = c.benchmark_group("encode_submit_sm");
    g.bench_function("otpgate", |b| b.iter(|| ops.ours_encode(&mut buf)));
    g.bench_function("rusmpp", |b| {
        b.iter(|| ops.their_encode(&mut their_codec, &mut buf))
    });
    g.finish();

    let mut g = c.benchmark_group("decode_submit_sm");
    g.bench_function("otpgate", |b| {
        b.iter(|| Ops::ours_decode(&mut ours_codec, &ops.submit_wire))
    });
    g.bench_function("rusmpp", |b| {
        b.iter(|| Ops::their_decode(&mut their_codec, &ops.submit_wire))
    });
    g.finish();

    let stream = stream_of(&ops.submit_wire);
    let mut g = c.benchmark_group("decode_submit_sm_x64_stream");
    g.bench_function("otpgate", |b| {
        b.iter(|| Ops::ours_stream(&mut ours_codec, &stream))
    });
    g.bench_function("rusmpp", |b| {
        b.iter(|| Ops::their_stream(&mut their_codec, &stream))
    });
    g.finish();

    let mut g = c.benchmark_group("decode_deliver_sm_receipt");
    g.bench_function("otpgate", |b| {
        b.iter(|| Ops::ours_decode(&mut ours_codec, &ops.receipt_wire))
    });
    g.bench_function("rusmpp", |b| {
        b.iter(|| Ops::their_decode(&mut their_codec, &ops.receipt_wire))
    });
    g.finish();
}

criterion_group!(benches, bench);

/// Nanoseconds per call: the best of several bounded batches (each about 50 ms).
fn ns_per_op(mut f: impl FnMut()) -> f64 {
    let mut n: u32 = 1_000;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        if t.elapsed() >= Duration::from_millis(50) || n >= 1 << 26 {
            break;
        }
        n = n.saturating_mul(2);
    }
    (0..7)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min)
}

fn print_ratios() {
    let ops = Ops::new();
    let mut ours_codec = SmppCodec::default();
    let mut their_codec = CommandCodec::new();
    let mut buf = BytesMut::with_capacity(512);

    let oe = ns_per_op(|| ops.ours_encode(&mut buf));
    let te = ns_per_op(|| ops.their_encode(&mut their_codec, &mut buf));
    let od = ns_per_op(|| Ops::ours_decode(&mut ours_codec, &ops.submit_wire));
    let td = ns_per_op(|| Ops::their_decode(&mut their_codec, &ops.submit_wire));
    let or = ns_per_op(|| Ops::ours_decode(&mut ours_codec, &ops.receipt_wire));
    let tr = ns_per_op(|| Ops::their_decode(&mut their_codec, &ops.receipt_wire));

    println!("\nSMPP codec, otpgate vs rusmpp 0.4 (ns per operation, best of 7 batches)");
    let row = |name: &str, ours: f64, theirs: f64| {
        println!(
            "  {name:<28} otpgate {ours:>8.1} ns   rusmpp {theirs:>8.1} ns   speed-up x{:.2}",
            theirs / ours
        );
    };
    row("encode submit_sm", oe, te);
    row("decode submit_sm", od, td);
    row("encode+decode submit_sm", oe + od, te + td);
    row("decode deliver_sm receipt", or, tr);

    let submit_stream = stream_of(&ops.submit_wire);
    let receipt_stream = stream_of(&ops.receipt_wire);
    let per = STREAM_PDUS as f64;
    let os = ns_per_op(|| {
        assert_eq!(
            Ops::ours_stream(&mut ours_codec, &submit_stream),
            STREAM_PDUS
        )
    }) / per;
    let ts = ns_per_op(|| {
        assert_eq!(
            Ops::their_stream(&mut their_codec, &submit_stream),
            STREAM_PDUS
        )
    }) / per;
    let orr = ns_per_op(|| {
        assert_eq!(
            Ops::ours_stream(&mut ours_codec, &receipt_stream),
            STREAM_PDUS
        )
    }) / per;
    let trr = ns_per_op(|| {
        assert_eq!(
            Ops::their_stream(&mut their_codec, &receipt_stream),
            STREAM_PDUS
        )
    }) / per;
    println!("  per PDU, {STREAM_PDUS} PDUs per read buffer:");
    row("decode submit_sm", os, ts);
    row("encode+decode submit_sm", oe + os, te + ts);
    row("decode deliver_sm receipt", orr, trr);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_ratios();
}
