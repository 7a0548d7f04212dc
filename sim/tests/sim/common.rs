//! A tiny SMPP test client on the codec's framing, and simulator start-up for tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use otpgate_codec::framing::{Frame, SmppCodec};
use otpgate_codec::pdu::{Address, Bind, Body, CommandStatus, Pdu, ShortMessage, SubmitSm};
use otpgate_sim::{self as sim, SimConfig, SimHandle};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

pub const WAIT: Duration = Duration::from_secs(5);

pub async fn start(config: SimConfig) -> SimHandle {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    sim::spawn(listener, config).await.unwrap()
}

pub struct Client {
    pub framed: Framed<TcpStream, SmppCodec>,
    seq: u32,
}

#[derive(Clone, Copy)]
pub enum Kind {
    Tx,
    Rx,
    Trx,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        Self {
            framed: Framed::new(stream, SmppCodec::default()),
            seq: 0,
        }
    }

    pub async fn bound(addr: SocketAddr, kind: Kind) -> Self {
        let mut c = Self::connect(addr).await;
        assert_eq!(
            c.bind(kind, "test", "secret").await,
            CommandStatus::ESME_ROK
        );
        c
    }

    pub async fn send(&mut self, body: Body) -> u32 {
        self.seq += 1;
        let seq = self.seq;
        self.framed.send(Pdu::new(seq, body)).await.unwrap();
        seq
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.framed.get_mut().write_all(bytes).await.unwrap();
    }

    /// The next PDU, or `None` when the link closed; panics after [`WAIT`].
    pub async fn recv(&mut self) -> Option<Pdu> {
        match tokio::time::timeout(WAIT, self.framed.next()).await {
            Ok(Some(Ok(Frame::Pdu(p)))) => Some(p),
            Ok(Some(Ok(Frame::Invalid(i)))) => panic!("invalid PDU from simulator: {i:?}"),
            Ok(Some(Err(_))) | Ok(None) => None,
            Err(_) => panic!("no PDU within {WAIT:?}"),
        }
    }

    /// The next PDU if one comes within `d`.
    pub async fn recv_within(&mut self, d: Duration) -> Option<Pdu> {
        match tokio::time::timeout(d, self.framed.next()).await {
            Ok(Some(Ok(Frame::Pdu(p)))) => Some(p),
            _ => None,
        }
    }

    pub async fn bind(&mut self, kind: Kind, system_id: &str, password: &str) -> CommandStatus {
        let b = Bind {
            system_id: system_id.into(),
            password: password.into(),
            interface_version: 0x34,
            ..Default::default()
        };
        let seq = self
            .send(match kind {
                Kind::Tx => Body::BindTransmitter(b),
                Kind::Rx => Body::BindReceiver(b),
                Kind::Trx => Body::BindTransceiver(b),
            })
            .await;
        let resp = self.recv().await.expect("bind_resp");
        assert_eq!(resp.sequence_number, seq);
        assert!(matches!(
            resp.body,
            Body::BindTransmitterResp(_) | Body::BindReceiverResp(_) | Body::BindTransceiverResp(_)
        ));
        resp.command_status
    }

    pub async fn submit(&mut self, sm: SubmitSm) -> u32 {
        self.send(Body::SubmitSm(sm)).await
    }
}

pub fn sms(to: &str, text: &str, registered_delivery: u8) -> SubmitSm {
    SubmitSm {
        source: Address {
            ton: 5,
            npi: 0,
            addr: "Verify".into(),
        },
        destination: Address {
            ton: 1,
            npi: 1,
            addr: to.into(),
        },
        registered_delivery,
        short_message: ShortMessage::try_from(text).unwrap(),
        ..Default::default()
    }
}
