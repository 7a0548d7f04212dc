//! Fuzz target: arbitrary bytes through the framing decoder and through `decode_pdu`. Nothing
//! may panic, and every PDU that decodes must re-encode to octets that decode to the same PDU.

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{decode_pdu, encode_pdu, pdu_to_json, Pdu};
use tokio_util::codec::Decoder;

fn round_trip(pdu: &Pdu) {
    let mut buf = BytesMut::new();
    encode_pdu(pdu, &mut buf).expect("a decoded PDU re-encodes");
    let again = decode_pdu(buf.freeze()).expect("a re-encoded PDU decodes");
    assert_eq!(&again, pdu);
    let _ = pdu_to_json(pdu);
}

fuzz_target!(|data: &[u8]| {
    // As a stream: a small maximum so that over-long headers are exercised too.
    let mut codec = SmppCodec::new(4096);
    let mut src = BytesMut::from(data);
    loop {
        match codec.decode(&mut src) {
            Ok(Some(Frame::Pdu(pdu))) => round_trip(&pdu),
            Ok(Some(Frame::Invalid(bad))) => {
                let nack = bad.generic_nack();
                assert_eq!(nack.sequence_number, bad.sequence_number);
                round_trip(&nack);
            }
            Ok(None) | Err(_) => break,
        }
    }
    // As one frame.
    if let Ok(pdu) = decode_pdu(Bytes::copy_from_slice(data)) {
        round_trip(&pdu);
    }
});
