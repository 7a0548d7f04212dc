//! Optional capture file: one JSON line per received PDU and per reassembled message, written
//! by a background task behind a bounded channel.

use std::path::Path;

use bytes::BytesMut;
use otpgate_codec::pdu::{encode_pdu, Body, Pdu};
use serde_json::json;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, oneshot};

use super::ids::unix_ms;
use super::messages::ReceivedMessage;

enum Item {
    Line(String),
    Flush(oneshot::Sender<()>),
}

/// Sender side of the capture file.
#[derive(Clone)]
pub struct Capture {
    tx: mpsc::Sender<Item>,
}

impl Capture {
    /// Creates (truncates) `path` and starts its writer, which flushes whenever its queue is
    /// empty and ends when every `Capture` clone is dropped.
    pub async fn open(path: &Path) -> std::io::Result<Self> {
        let file = tokio::fs::File::create(path).await?;
        let (tx, mut rx) = mpsc::channel::<Item>(4096);
        tokio::spawn(async move {
            let mut out = BufWriter::new(file);
            let mut acks = Vec::new();
            while let Some(first) = rx.recv().await {
                let mut ok = true;
                let mut next = Some(first);
                while let Some(item) = next {
                    match item {
                        Item::Line(l) => ok &= out.write_all(l.as_bytes()).await.is_ok(),
                        Item::Flush(ack) => acks.push(ack),
                    }
                    next = rx.try_recv().ok();
                }
                ok &= out.flush().await.is_ok();
                for ack in acks.drain(..) {
                    let _ = ack.send(());
                }
                if !ok {
                    tracing::error!("capture file write failed; capture stopped");
                    return;
                }
            }
        });
        Ok(Self { tx })
    }

    async fn write(&self, value: serde_json::Value) {
        let mut line = value.to_string();
        line.push('\n');
        let _ = self.tx.send(Item::Line(line)).await;
    }

    /// Returns once everything written so far is on disk.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Item::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// One received PDU: its header fields, its full wire form in hex and, for submit_sm,
    /// the addressing fields.
    pub async fn pdu(&self, session: u64, system_id: Option<&str>, pdu: &Pdu) {
        let mut wire = BytesMut::new();
        let hex = match encode_pdu(pdu, &mut wire) {
            Ok(()) => hex::encode(&wire),
            Err(_) => String::new(),
        };
        let mut v = json!({
            "type": "pdu",
            "ts_ms": unix_ms(),
            "session": session,
            "system_id": system_id,
            "command_id": format!("0x{:08x}", pdu.command_id()),
            "command_status": pdu.command_status.0,
            "sequence_number": pdu.sequence_number,
            "hex": hex,
        });
        if let Body::SubmitSm(sm) = &pdu.body {
            v["source"] = json!(sm.source.addr.to_str_lossy());
            v["destination"] = json!(sm.destination.addr.to_str_lossy());
            v["esm_class"] = json!(sm.esm_class);
            v["data_coding"] = json!(sm.data_coding);
            v["registered_delivery"] = json!(sm.registered_delivery);
        }
        self.write(v).await;
    }

    /// One reassembled message.
    pub async fn message(&self, m: &ReceivedMessage) {
        let mut v = serde_json::to_value(m).unwrap_or_default();
        v["type"] = json!("message");
        self.write(v).await;
    }
}
