//! Interop with an SMSC we did not write: tests/interop/smsc.js, built on the npm `smpp`
//! package. It takes our bind_transceiver and submit_sm, puts our concatenated UCS-2 parts back
//! into the original text, and its delivery receipts reach the sink as `Delivered` for the ids
//! it gave; with a wrong password the bind stays down; the operator's TLVs (India's DLT ids)
//! reach it on every part. Needs `OTPGATE_NODE_SMPP_DIR` (a dir
//! holding `node_modules/smpp`, set by .ci/install.d/60-node-smpp.sh); skipped without it.

use crate::support::tools;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::support::smpp::*;
use otpgate::dispatch::{DeliveryUpdate, Dispatcher, OutboundSms, ReceiptOutcome};
use otpgate::smpp::SmppEngine;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

const SHORT: &str = "Your verification code is 482913. Do not share it.";
/// Three UCS-2 parts (67 code units each with an 8-bit UDH), the emoji's surrogate pair at
/// units 66 and 67: right across the first part break.
const LONG: &str = "Ваш код подтверждения: 739104. Никому не сообщайте этот код, даже 🔐 \
сотрудникам банка. Код действует десять минут. Если вы не запрашивали код, проигнорируйте это \
сообщение и смените пароль. Спасибо!";

/// The Node SMSC and the JSON lines it printed.
struct NodeSmsc {
    _child: Child,
    port: u16,
    lines: Arc<(Mutex<Vec<Value>>, Notify)>,
}

impl NodeSmsc {
    async fn start(dir: &str, password: &str) -> NodeSmsc {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/smsc.js");
        let node = std::env::var("OTPGATE_NODE").unwrap_or_else(|_| "node".into());
        let mut child = Command::new(node)
            .arg(script)
            .args(["test", password])
            .env("NODE_PATH", PathBuf::from(dir).join("node_modules"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start node");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(WAIT, out.next_line())
            .await
            .expect("node SMSC printed no port in time")
            .unwrap()
            .expect("node SMSC exited");
        let port: Value = serde_json::from_str(&first).unwrap();
        let port = port["port"].as_u64().expect("port") as u16;
        let lines = Arc::new((Mutex::new(Vec::new()), Notify::new()));
        let l = lines.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                let v: Value = serde_json::from_str(&line).expect("a JSON line");
                l.0.lock().unwrap().push(v);
                l.1.notify_waiters();
            }
        });
        NodeSmsc {
            _child: child,
            port,
            lines,
        }
    }

    fn events(&self, event: &str) -> Vec<Value> {
        let lines = self.lines.0.lock().unwrap();
        lines
            .iter()
            .filter(|v| v["event"] == event)
            .cloned()
            .collect()
    }

    /// Waits (at most `WAIT`) until `n` lines of `event` were printed.
    async fn wait_events(&self, event: &str, n: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.lines.1.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let got = self.events(event);
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {n} {event} lines; have {got:?}");
            }
        }
    }
}

fn node_dir() -> String {
    tools::required("OTPGATE_NODE_SMPP_DIR", ".ci/install.d/60-node-smpp.sh")
}

fn otp(id: &str, to: &str, text: &str) -> OutboundSms {
    OutboundSms {
        otp_id: id.into(),
        tenant: "demo".into(),
        destination: to.into(),
        sender: "Verify".into(),
        text: text.into(),
        expires_at: SystemTime::now() + Duration::from_secs(600),
        tlv_values: Default::default(),
        smscs: None,
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
#[ignore = "needs node and the npm smpp package (OTPGATE_NODE_SMPP_DIR, set by .ci/install.d/60-node-smpp.sh)"]
async fn node_smsc_takes_binds_submits_and_concatenated_ucs2() {
    let dir = node_dir();
    let node = NodeSmsc::start(&dir, "secret").await;
    let addr = format!("127.0.0.1:{}", node.port).parse().unwrap();
    let sink = sink();
    let engine = SmppEngine::start(vec![smsc("node", addr)], settings(), sink.clone()).unwrap();
    eventually("the bind to the node SMSC", || engine.binds_up() == 1).await;

    engine
        .try_dispatch(otp("otp-short", "+447700900001", SHORT))
        .unwrap();
    engine
        .try_dispatch(otp("otp-long", "+447700900002", LONG))
        .unwrap();
    let messages = node.wait_events("message", 2).await;

    let short = messages.iter().find(|m| m["to"] == "447700900001").unwrap();
    assert_eq!(short["text"], SHORT);
    assert_eq!(short["parts"], 1);
    let long = messages.iter().find(|m| m["to"] == "447700900002").unwrap();
    assert_eq!(
        long["text"], LONG,
        "the node SMSC put the UCS-2 parts together"
    );
    let parts = long["parts"].as_u64().unwrap();
    assert!(parts >= 3, "{parts} parts");
    assert_eq!(
        long["split_surrogates"], 0,
        "a surrogate pair cut by a part break"
    );

    // One receipt for the short message and one per part of the long one.
    sink.wait_until("a receipt per part", |u| {
        u.iter()
            .filter(|u| matches!(u, DeliveryUpdate::Receipt { .. }))
            .count()
            > parts as usize
    })
    .await;
    let updates = sink.all();
    for (otp_id, msg) in [("otp-short", short), ("otp-long", long)] {
        let ids = strings(&msg["message_ids"]);
        let submitted = updates
            .iter()
            .position(|u| {
                matches!(u, DeliveryUpdate::Submitted { otp_id: o, smsc, message_ids }
                if o == otp_id && smsc == "node" && *message_ids == ids)
            })
            .unwrap_or_else(|| panic!("no Submitted for {otp_id} with {ids:?}: {updates:#?}"));
        for id in &ids {
            let receipt = updates
                .iter()
                .position(|u| {
                    matches!(u, DeliveryUpdate::Receipt { message_id, outcome, error, .. }
                    if message_id == id && *outcome == ReceiptOutcome::Delivered && error.is_none())
                })
                .unwrap_or_else(|| panic!("no Delivered receipt for {id}: {updates:#?}"));
            assert!(
                submitted < receipt,
                "the receipt for {id} came before Submitted"
            );
        }
    }
    let acked = node.wait_events("receipt_acked", 1 + parts as usize).await;
    assert!(acked.iter().all(|a| a["status"] == 0), "{acked:?}");
    engine.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test]
#[ignore = "needs node and the npm smpp package (OTPGATE_NODE_SMPP_DIR, set by .ci/install.d/60-node-smpp.sh)"]
async fn node_smsc_refuses_a_wrong_password() {
    let dir = node_dir();
    let node = NodeSmsc::start(&dir, "other").await;
    let addr = format!("127.0.0.1:{}", node.port).parse().unwrap();
    let sink = sink();
    let engine = SmppEngine::start(vec![smsc("node", addr)], settings(), sink.clone()).unwrap();
    engine
        .try_dispatch(otp("otp-refused", "+447700900003", SHORT))
        .unwrap();
    // Two refused binds: the engine saw the first one fail and tried again.
    let binds = node.wait_events("bind", 2).await;
    assert!(binds.iter().all(|b| b["ok"] == false), "{binds:?}");
    assert_eq!(engine.binds_up(), 0);
    let readiness = engine.readiness();
    assert!(!readiness.ready, "{readiness:?}");
    assert!(node.events("message").is_empty());
    assert!(sink.submitted().is_empty(), "{:#?}", sink.all());
    engine.shutdown(Duration::from_secs(5)).await;
}

/// India's DLT ids as the npm `smpp` SMSC receives them: the named TLVs 0x1400 and 0x1401 with
/// the message's values and the route's static TLV on every part of a long message; the
/// replaced numeric sender arrives as an international number.
#[tokio::test]
#[ignore = "needs node and the npm smpp package (OTPGATE_NODE_SMPP_DIR, set by .ci/install.d/60-node-smpp.sh)"]
async fn node_smsc_receives_the_regulatory_tlvs() {
    let dir = node_dir();
    let node = NodeSmsc::start(&dir, "secret").await;
    let addr = format!("127.0.0.1:{}", node.port).parse().unwrap();
    let named: otpgate::smpp::SmscConfig = toml::from_str(
        r#"
        tlv_names = { pe_id = 0x1400, template_id = { tag = 0x1401, type = "cstring" } }
        [[route_tlvs]]
        prefix = "+91"
        tlvs = [{ tag = 0x1402, type = "u16", value = 258 }]
        "#,
    )
    .unwrap();
    let cfg = otpgate::smpp::SmscConfig {
        tlv_names: named.tlv_names,
        route_tlvs: named.route_tlvs,
        ..smsc("node", addr)
    };
    let sink = sink();
    let engine = SmppEngine::start(vec![cfg], settings(), sink.clone()).unwrap();
    eventually("the bind to the node SMSC", || engine.binds_up() == 1).await;

    let mut sms = otp("otp-dlt", "+919812345678", LONG);
    sms.sender = "12025550100".into();
    sms.tlv_values = [
        ("pe_id", "1101000000000001"),
        ("template_id", "1107000000000099"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    engine.try_dispatch(sms).unwrap();
    let mut uk = otp("otp-uk", "+447700900004", SHORT);
    uk.tlv_values = [("pe_id".to_string(), "1101".to_string())].into();
    engine.try_dispatch(uk).unwrap();
    let messages = node.wait_events("message", 2).await;

    let india = messages.iter().find(|m| m["to"] == "919812345678").unwrap();
    assert_eq!(india["text"], LONG);
    assert_eq!(
        (&india["from"], &india["source_ton"], &india["source_npi"]),
        (&json!("12025550100"), &json!(1), &json!(1))
    );
    let parts = india["tlvs"].as_array().unwrap();
    assert!(parts.len() >= 3, "{india}");
    for tlvs in parts {
        assert_eq!(tlvs["0x1400"], hex::encode("1101000000000001"), "{india}");
        assert_eq!(
            tlvs["0x1401"],
            format!("{}00", hex::encode("1107000000000099")),
            "{india}"
        );
        assert_eq!(tlvs["0x1402"], "0102", "{india}");
    }
    // a named value goes wherever its SMSC declares the name; the route's TLV stays in +91
    let uk = messages.iter().find(|m| m["to"] == "447700900004").unwrap();
    assert_eq!(
        uk["tlvs"],
        json!([{ "0x1400": hex::encode("1101") }]),
        "{uk}"
    );
    assert_eq!(
        (&uk["source_ton"], &uk["source_npi"]),
        (&json!(5), &json!(0))
    );
    engine.shutdown(Duration::from_secs(5)).await;
}
