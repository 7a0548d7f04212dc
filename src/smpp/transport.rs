//! The byte stream to an SMSC: TCP, or TLS over TCP, connected within a timeout, framed into
//! PDUs by the codec; the sending side writes one PDU within a timeout.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use otpgate_codec::framing::{Frame, FramingError, SmppCodec};
use otpgate_codec::pdu::Pdu;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_util::codec::{FramedRead, FramedWrite};

use super::config::SmscConfig;
use super::tls::{self, TlsError};

/// Initial read buffer: a window of 64 responses and their receipts arrive in one read.
const READ_BUFFER: usize = 64 * 1024;

pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

pub type BoxStream = Pin<Box<dyn Stream>>;

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("connect failed: {0}")]
    Connect(std::io::Error),
    #[error("connect timed out")]
    ConnectTimeout,
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("write timed out")]
    WriteTimeout,
    #[error("framing: {0}")]
    Framing(#[from] FramingError),
    #[error("the SMSC closed the connection")]
    Closed,
}

impl LinkError {
    /// A bounded label for `otpgate_smpp_bind_failures_total{reason}`.
    pub fn reason(&self) -> &'static str {
        match self {
            LinkError::Connect(_) | LinkError::ConnectTimeout => "connect",
            LinkError::Tls(_) => "tls",
            LinkError::WriteTimeout => "write_timeout",
            LinkError::Framing(FramingError::Io(_)) => "io",
            LinkError::Framing(_) => "protocol",
            LinkError::Closed => "closed",
        }
    }
}

/// A connected, framed link.
pub struct Link {
    pub reader: FramedRead<ReadHalf<BoxStream>, SmppCodec>,
    writer: FramedWrite<WriteHalf<BoxStream>, SmppCodec>,
    write_timeout: Duration,
}

impl Link {
    pub async fn connect(
        cfg: &SmscConfig,
        connect_timeout: Duration,
        write_timeout: Duration,
        max_pdu_len: usize,
    ) -> Result<Self, LinkError> {
        let tcp = tokio::time::timeout(
            connect_timeout,
            TcpStream::connect((cfg.host.as_str(), cfg.port)),
        )
        .await
        .map_err(|_| LinkError::ConnectTimeout)?
        .map_err(LinkError::Connect)?;
        let _ = tcp.set_nodelay(true);
        let stream: BoxStream = if cfg.tls.enabled {
            let tls = tokio::time::timeout(connect_timeout, tls::connect(cfg, tcp))
                .await
                .map_err(|_| LinkError::ConnectTimeout)??;
            Box::pin(tls)
        } else {
            Box::pin(tcp)
        };
        Ok(Self::over(stream, write_timeout, max_pdu_len))
    }

    pub fn over(stream: BoxStream, write_timeout: Duration, max_pdu_len: usize) -> Self {
        let (r, w) = tokio::io::split(stream);
        Self {
            reader: FramedRead::with_capacity(r, SmppCodec::new(max_pdu_len), READ_BUFFER),
            writer: FramedWrite::new(w, SmppCodec::new(max_pdu_len)),
            write_timeout,
        }
    }

    pub async fn send(&mut self, pdu: Pdu) -> Result<(), LinkError> {
        tokio::time::timeout(self.write_timeout, self.writer.send(pdu))
            .await
            .map_err(|_| LinkError::WriteTimeout)?
            .map_err(LinkError::from)
    }

    /// Queues `pdu` for writing without flushing (the buffer is flushed when it fills, and by
    /// [`Link::flush`]): consecutive submit_sm leave in few writes.
    pub async fn feed(&mut self, pdu: Pdu) -> Result<(), LinkError> {
        // Most PDUs fit in the buffer as it is: queued without a write, so without the
        // timer a timeout sets up (two PDUs per OTP go this way).
        let ready = SinkExt::<Pdu>::poll_ready_unpin(
            &mut self.writer,
            &mut Context::from_waker(Waker::noop()),
        );
        if let Poll::Ready(ready) = ready {
            ready?;
            return self.writer.start_send_unpin(pdu).map_err(LinkError::from);
        }
        tokio::time::timeout(self.write_timeout, self.writer.feed(pdu))
            .await
            .map_err(|_| LinkError::WriteTimeout)?
            .map_err(LinkError::from)
    }

    pub async fn flush(&mut self) -> Result<(), LinkError> {
        tokio::time::timeout(self.write_timeout, SinkExt::<&Pdu>::flush(&mut self.writer))
            .await
            .map_err(|_| LinkError::WriteTimeout)?
            .map_err(LinkError::from)
    }

    /// A frame already buffered or readable without waiting, if any.
    pub fn try_recv(&mut self) -> Option<Result<Frame, LinkError>> {
        self.recv().now_or_never()
    }

    /// The next frame; `Closed` at end of stream.
    pub async fn recv(&mut self) -> Result<Frame, LinkError> {
        match self.reader.next().await {
            Some(Ok(frame)) => Ok(frame),
            Some(Err(e)) => Err(e.into()),
            None => Err(LinkError::Closed),
        }
    }
}
